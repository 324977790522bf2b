"""Vendor the project's dbt packages: ``dbt deps`` once, then commit ``dbt_packages/`` and ``package-lock.yml``.

Why vendored: the build machines cannot reach the dbt hub (or GitHub), and a release must build the same bytes
every time. So packages are resolved once by whoever changes ``packages.yml`` (online, or offline for ``local:``
packages), and the resolved tree travels in git and in the warehouse artifact. SQLMesh and dbt-core both read
``dbt_packages/`` directly; nothing runs ``dbt deps`` at build or deploy time.

    python -m northstar_dbt.vendor           # dbt deps + turn local-package symlinks into real copies
    python -m northstar_dbt.vendor --check   # exit 1 naming the problem when the vendored tree is stale

``dbt deps`` installs a ``local:`` package as a symlink to an absolute path, which git would store as a dangling
link; this module replaces it with a copy. ``--check`` needs no network: it recomputes dbt's own lock hash over
packages.yml, and compares each vendored local package with its source folder byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # pants: no-infer-dep  (PyYAML comes with dbt-core in the dbt resolve)

from northstar_dbt.project import PROJECT_DIR

INSTALL_DIR = "dbt_packages"
LOCK_FILE = "package-lock.yml"


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text()) if path.is_file() else None
    return doc if isinstance(doc, dict) else {}


def lock_hash(packages: list[dict[str, Any]]) -> str:
    """dbt-core's own lock hash (``dbt deps`` compares it to decide whether the lock is stale)."""
    from dbt.config.project import package_config_from_data
    from dbt.task.deps import _create_sha1_hash

    # packages.yml has no Jinja here, so the rendered and unrendered entries are the same.
    config = package_config_from_data({"packages": packages}, {"packages": packages})
    return str(_create_sha1_hash(config.packages))


def _tree(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def problems(project: Path = PROJECT_DIR) -> list[str]:
    """Everything that makes the committed dbt_packages/ + package-lock.yml disagree with packages.yml."""
    declared = _load(project / "packages.yml").get("packages") or []
    lock = _load(project / LOCK_FILE)
    out: list[str] = []
    if not lock:
        return [f"{project / LOCK_FILE} is missing: run `python -m northstar_dbt.vendor`"] if declared else []
    if lock.get("sha1_hash") != lock_hash(declared):
        out.append(f"{LOCK_FILE}: sha1_hash does not match packages.yml (packages.yml changed since `dbt deps`)")
    locked = lock.get("packages") or []
    names = []
    for entry in locked:
        name = entry.get("name")
        names.append(name)
        vendored = project / INSTALL_DIR / str(name)
        if not (vendored / "dbt_project.yml").is_file():
            out.append(f"{INSTALL_DIR}/{name}: not vendored (no dbt_project.yml)")
            continue
        if vendored.is_symlink():
            out.append(f"{INSTALL_DIR}/{name}: is a symlink; vendor a real copy")
        if "local" in entry:
            source, copy = _tree(project / entry["local"]), _tree(vendored)
            if set(source) != set(copy):
                out.append(f"{INSTALL_DIR}/{name}: files differ from {entry['local']}: "
                           f"{sorted(set(source) ^ set(copy))}")
            else:
                out += [f"{INSTALL_DIR}/{name}/{rel}: differs from {entry['local']}/{rel}"
                        for rel in source if not filecmp.cmp(source[rel], copy[rel], shallow=False)]
    installed = {p.name for p in (project / INSTALL_DIR).iterdir()} if (project / INSTALL_DIR).is_dir() else set()
    out += [f"{INSTALL_DIR}/{extra}: not in {LOCK_FILE}" for extra in sorted(installed - set(names))]
    return out


def vendor(project: Path = PROJECT_DIR) -> list[str]:
    """Run ``dbt deps`` in ``project`` and replace local-package symlinks by copies. Returns the vendored names."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["deps", "--project-dir", str(project), "--profiles-dir", str(project)])
    if not result.success:
        raise RuntimeError(f"dbt deps failed: {result.exception}")
    vendored = []
    for path in sorted((project / INSTALL_DIR).iterdir()):
        if path.is_symlink():
            target = path.resolve()
            path.unlink()
            shutil.copytree(target, path, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
        vendored.append(path.name)
    return vendored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m northstar_dbt.vendor", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the vendored packages; change nothing")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        for p in found:
            print(f"stale: {p}", file=sys.stderr)
        return 1 if found else 0
    print("vendored: " + ", ".join(vendor()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
