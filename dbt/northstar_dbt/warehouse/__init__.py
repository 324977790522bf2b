"""Warehouse component entry point: the release engine drives SQLMesh (over the dbt project) only through this CLI.

    python -m northstar_dbt.warehouse <subcommand> --project DIR --warehouse FILE --state FILE [options]

Contract (ADR 0003): argv in, exactly ONE JSON object on stdout, exit 0 ok / 1 problems / 2 usage -- implemented once
in ``northstar_contracts.harness``; the record each subcommand prints is declared in ``northstar_contracts.warehouse``.
Everything SQLMesh and dbt print goes to stderr.

Subcommands
- ``plan --env ENV [--apply] [--ack MODEL ...] [--virtual-only]``: plan the project into SQLMesh environment ENV
  (dev, staging and prod live in ONE warehouse) with automatic categorization. Reports each changed node's category,
  the models to backfill and, when applied, the rows recomputed (0 for a virtual update). A BREAKING (direct or
  indirect) change to a ``finance``-tagged model, or any forward-only change, needs ``--ack MODEL``; with ``--apply``
  and a missing acknowledgement nothing is applied and the exit code is 1. ``--virtual-only`` (rollback, pins) refuses
  with exit 1 when the plan would need snapshots that no longer exist (the janitor removed them); it needs no new
  acknowledgement, since it only re-points views at snapshots built (and acknowledged) before. ``--verify`` adds
  tables + audits of ENV after applying, ``--pin``/``--unpin`` then manage pins -- all in one project load.
  ``--from-env SRC`` (repeatable) first tries the switch from SQLMesh state over SRC's snapshot set without loading
  the project (``from_state``: a pure virtual update or a refusal that changes nothing, then the fallback to a
  project load; ``--state-only`` ends with the refusal, exit 1). After a pure virtual update (no new snapshot, no
  computed interval) ``--verify`` reads the tables but does not re-run the audits: every snapshot was audited when
  it was built.
- ``check --env ENV [--ack MODEL ...]``: the pre-deploy gate in ONE process: ``unit-test`` + ``audit --scratch`` + a
  non-applying ``plan`` into ENV, reported as one record holding the three (replaces three entry-point calls).
- ``audit [--scratch]``: runs every SQLMesh audit (dbt schema tests AND singular tests) explicitly, like
  ``sqlmesh audit`` -- plans do not re-run an edited singular test. ``--scratch`` first builds the project into a
  throw-away warehouse + state (pre-deploy check: nothing shared changes); otherwise audits the project's snapshots
  as built in the given warehouse.
- ``unit-test``: dbt ``unit_tests:`` (SQLMesh ignores them) with dbt-core on a scratch DuckDB.
- ``tables --env ENV``: row count + md5 of the sorted rows of every model as ENV sees it ("prod unchanged" evidence).
- ``pin --name NAME`` / ``unpin --name NAME``: a never-expiring environment ``keep_NAME`` over the project's snapshots
  (a virtual update) keeps them alive against the janitor, so rollbacks to known-good releases stay recompute-free.
- ``verify --env ENV``: tables + audits of ENV (and pins), for a verify that did not follow a deploy.
- ``serving --env ENV --candidate SHA=PIN_ENV ...``: which candidate's pin holds exactly ENV's snapshot set (same
  model names, fingerprints, versions), read from SQLMesh state without loading the project (a DuckDB state of a
  checked SQLMesh version straight from its tables, ``state_tables``, without importing SQLMesh); ``unknown`` when
  none does or ENV is not finalized, ``absent`` when ENV does not exist (``serving``).
- ``dq --env ENV [--from-env SRC]``: write-audit-publish into ``wap_ENV`` and diff with prod (``quality``); with
  ``--from-env`` the write is a virtual update from state over a pin of the digest, as for ``plan``.

Commands that never load the project (from state, ``serving``) build the SQLMesh ``Config`` without importing dbt
(``northstar_dbt.sqlmesh_settings``, the same settings config.py passes to dbt's loader).
- ``envs``: the SQLMesh environments in state. ``janitor [--ignore-ttl]``: run SQLMesh's janitor.

A file lock (``<warehouse>.lock``) serialises processes on the warehouse: DuckDB admits one writer process, and the
dev and staging deploys hold different release-engine locks but share this file. Each command loads the project
(the expensive step) once, under that lock.

Modules: ``options`` (the frozen options record), ``engine`` (lock, context, engine locations), ``from_state``
(the plan from SQLMesh state), ``plan_report``
(plan/apply and its report), ``audits`` (audits, tables, verify), ``unit_tests`` (dbt unit tests), ``pins``,
``commands`` (one function per subcommand), ``state_tables`` (environment records without SQLMesh), ``cli``
(argv -> options -> command).
"""

