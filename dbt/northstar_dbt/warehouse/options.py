"""The options of one warehouse command, as a frozen record (what argparse parsed, resolved and defaulted once).

Why a record and not the ``argparse.Namespace``: the steps of a command (plan, apply, verify, pin) and the combined
``check`` pass options to each other; a frozen record with declared fields cannot grow attributes on the way or be
mutated by one step behind another's back (the scratch audit used to overwrite ``args.warehouse``), and mypy sees
every field.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from northstar_contracts.harness import UsageError


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseOptions:
    command: str
    project: Path
    warehouse: Path | None = None  # DuckDB warehouse file (None: commands that need none, e.g. unit-test)
    state: Path | None = None  # SQLMesh state DuckDB file (None when ``state_url`` is set)
    state_url: str | None = None  # postgresql://... SQLMesh state
    target: str = "duckdb"  # dbt profile target (gateway)
    env: str | None = None  # SQLMesh environment
    apply: bool = False
    acks: tuple[str, ...] = ()  # models whose breaking finance / forward-only change is acknowledged
    virtual_only: bool = False  # refuse unless every snapshot exists (rollback semantics)
    verify: bool = False  # after applying: tables + audits of env in the same process
    pin: str | None = None  # with verify: when verified, pin the snapshots as keep_<pin>
    unpin: tuple[str, ...] = ()  # with verify: release these pins
    scratch: bool = False  # audit: build into a throw-away warehouse first
    ignore_ttl: bool = False  # janitor
    name: str | None = None  # pin / unpin
    catalog: Path | None = None  # freshness: the pipeline catalog folder (SLAs)
    from_envs: tuple[str, ...] = ()  # plan: try a virtual update from state over the first usable of these envs
    state_only: bool = False  # with from_envs: refuse instead of falling back to loading the project
    candidates: tuple[str, ...] = ()  # serving: SHA=PIN_ENV pairs to compare the env's snapshot set with

    @property
    def environment(self) -> str:
        if not self.env:
            raise UsageError(f"{self.command} needs --env")
        return self.env

    @property
    def warehouse_file(self) -> Path:
        if self.warehouse is None:
            raise UsageError(f"{self.command} needs --warehouse")
        return self.warehouse

    def in_scratch(self, folder: Path) -> WarehouseOptions:
        """The same command pointed at a throw-away warehouse + DuckDB state in ``folder``."""
        return dataclasses.replace(self, warehouse=folder / "warehouse.duckdb", state=folder / "state.duckdb",
                                   state_url=None)

    def resolved(self) -> WarehouseOptions:
        """Absolute paths; the state file defaults to ``sqlmesh_state.duckdb`` beside the warehouse."""
        project = self.project.resolve()
        if not project.is_dir():
            raise UsageError(f"--project {project} is not a directory")
        warehouse = self.warehouse.resolve() if self.warehouse is not None else None
        state = self.state
        if warehouse is not None and state is None and not self.state_url:
            state = warehouse.with_name("sqlmesh_state.duckdb")
        return dataclasses.replace(self, project=project, warehouse=warehouse,
                                   state=state.resolve() if state is not None else None)
