"""Cross-tool lineage (dbt models, tests, macros, Spark jobs, topic schemas, Airflow DAGs) read from the platform's
files. Shared by the Pants plugin (dependency inference; it runs this package inside Pants, Python 3.9) and the release
engine (impact and policy tags at plan/build, Python 3.11): one parser, one source of truth. Keep it 3.9-compatible
and free of Pants and engine imports."""
