"""Write-audit-publish data-quality diff: compare a candidate table with prod before it is promoted.

The package is independent of the release engine: it reads thresholds from the dbt project YAML, runs its diff as
DuckDB SQL, and returns a frozen verdict record the engine's data-quality gate can store as evidence.
"""
