"""The build configuration must work on every machine: no machine-local paths or file:// URLs (ADR 0001).

Why this matters: `pip` on a developer's machine may be configured with local mirrors; if `generate-lockfiles` ever
picked one up, the lockfile would record URLs that exist only there and every other machine (and CI) would fail to
install. Likewise a hard-coded JAVA_HOME or pyenv path in pants.toml works only where it was written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MACHINE_PATH = re.compile(r"file://|/root/|/home/[^/\s\"']+/|/opt/pypi|/usr/lib/jvm|\.pyenv/versions")
RESOLVES = ("tools", "dbt", "airflow", "spark", "infra", "lint")


def config_files() -> list[Path]:
    files = [REPO / "pants.toml", *sorted((REPO / "3rdparty" / "python").glob("*.lock"))]
    files += sorted(p for p in REPO.rglob("BUILD") if ".git" not in p.parts)
    return files


def test_config_files_are_present() -> None:
    names = {p.name for p in config_files()}
    assert "pants.toml" in names
    assert {f"{r}.lock" for r in RESOLVES} <= names


@pytest.mark.parametrize("path", config_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_machine_local_paths(path: Path) -> None:
    offending = [
        f"{path.relative_to(REPO)}:{lineno}: {line.strip()[:120]}"
        for lineno, line in enumerate(path.read_text().splitlines(), start=1)
        if MACHINE_PATH.search(line)
    ]
    assert not offending, "machine-local path or file:// URL in build configuration:\n" + "\n".join(offending)


@pytest.mark.parametrize("resolve", RESOLVES)
def test_lockfile_downloads_only_from_pypi(resolve: str) -> None:
    text = (REPO / "3rdparty" / "python" / f"{resolve}.lock").read_text()
    lock = json.loads("\n".join(line for line in text.splitlines() if not line.startswith("//")))
    urls = [
        artifact["url"]
        for locked in lock["locked_resolves"]
        for requirement in locked["locked_requirements"]
        for artifact in requirement["artifacts"]
    ]
    assert urls, f"{resolve}.lock lists no artifacts"
    foreign = [u for u in urls if not u.startswith("https://files.pythonhosted.org/")]
    assert not foreign, f"{resolve}.lock downloads from outside PyPI: {foreign[:5]}"
