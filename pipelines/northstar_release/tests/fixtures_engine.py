"""In-process engine fixtures for unit tests: real SqliteStateStore + LocalArtifactStore, a scripted fake runner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from northstar_release.adapters.base import ComponentResult, EnvContext
from northstar_release.adapters.dag_bundle import DagBundleAdapter
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.build import build
from northstar_release.environments import load_environments
from northstar_release.evaluator import Runtime
from northstar_release.model import ArtifactKind
from northstar_release.state import open_store
from northstar_release.tests.helpers import ENVIRONMENTS_YAML

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@dataclass
class FakeRunner:
    """Returns a clean result unless a folder path contains a key of ``fail_when``."""

    fail_when: dict[str, str] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)

    def run(self, entry_point: str, args: list[str], env: Mapping[str, str] | None = None) -> ComponentResult:
        self.calls.append(args)
        for needle, msg in self.fail_when.items():
            if any(needle in a for a in args):
                return ComponentResult(1, {"dag_ids": [], "import_errors": {"dags/x.py": msg}, "policy_violations": []})
        return ComponentResult(0, {"dag_ids": ["d"], "import_errors": {}, "policy_violations": []})


@dataclass
class Engine:
    root: Path
    repo: Path
    runner: FakeRunner
    rt: Runtime
    artifacts: LocalArtifactStore
    progress: list[str]

    def build(self, tags: tuple[str, ...] = ()):
        return build(self.repo, self.rt.store, self.artifacts, self.rt.adapters, "ci", tags=tags).release

    def live_link(self, env: str) -> str | None:
        link = self.root / "state" / "envs" / env / "dags"
        return link.resolve().name if link.is_symlink() else None


def make_engine(tmp: Path, repo: Path) -> Engine:
    state = tmp / "state"
    state.mkdir()
    store = open_store(None, state)
    artifacts = LocalArtifactStore(state / "artifacts")
    runner = FakeRunner()
    progress: list[str] = []

    def ctx(env: str) -> EnvContext:
        d = state / "envs" / env
        d.mkdir(parents=True, exist_ok=True)
        return EnvContext(env=env, env_dir=d, artifact_path=lambda a: artifacts.path_for(a.sha256), runner=runner)

    rt = Runtime(store=store, environments=load_environments(ENVIRONMENTS_YAML),
                 adapters={ArtifactKind.DAG_BUNDLE: DagBundleAdapter()}, env_context=ctx, now=lambda: NOW,
                 progress=progress.append, repo=repo)
    return Engine(tmp, repo, runner, rt, artifacts, progress)


def as_json(x: Any) -> Any:
    return x.to_json() if hasattr(x, "to_json") else x
