"""A venv-mode PEX runs through the venv pex installed for it (``pex_venv``), and only when that install is certain.

The real-PEX test installs the infra entry point into an empty PEX_ROOT by running it, then checks that its installed
venv script is found and answers exactly like the zip; the synthetic ones pin each refusal (no install, a rebuilt PEX,
two interpreters, a non-venv PEX, a non-PEX command).
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

from northstar_release.pex_venv import installed_venv_script
from northstar_release.runner import SubprocessComponentRunner

INFRA_PEX = os.environ.get("NORTHSTAR_ENTRYPOINT_INFRA_CHECK", "")


def fake_pex(path: Path, pex_hash: str, venv: bool = True) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("PEX-INFO", json.dumps({"venv": venv, "pex_hash": pex_hash}))
    return path


def fake_install(root: Path, pex_hash: str, interpreter: str = "i1", recorded_hash: str | None = None) -> Path:
    venv = root / "venvs" / pex_hash / interpreter
    venv.mkdir(parents=True)
    (venv / "PEX-INFO").write_text(json.dumps({"pex_hash": recorded_hash or pex_hash}))
    script = venv / "pex"
    script.write_text("#!/bin/sh\necho '{\"ok\": true}'\n")
    script.chmod(0o755)
    return script


def test_the_real_entry_point_answers_the_same_through_its_installed_venv(tmp_path: Path) -> None:
    assert INFRA_PEX, "NORTHSTAR_ENTRYPOINT_INFRA_CHECK must name the infra_check PEX (pipelines/BUILD)"
    pex = Path(INFRA_PEX).resolve()
    environ = {**os.environ, "PEX_ROOT": str(tmp_path / "pex_root")}
    assert installed_venv_script(pex, environ) is None  # nothing installed yet: the zip must run itself
    via_zip = subprocess.run([str(pex), "--help"], env=environ, capture_output=True, text=True, timeout=600)
    assert via_zip.returncode == 0, via_zip.stderr[-2000:]
    script = installed_venv_script(pex, environ)
    assert script is not None and script.is_relative_to(tmp_path / "pex_root" / "venvs")
    via_venv = subprocess.run([str(script), "--help"], env=environ, capture_output=True, text=True, timeout=600)
    assert via_venv.returncode == 0 and via_venv.stdout == via_zip.stdout


def test_only_one_complete_matching_install_is_used(tmp_path: Path) -> None:
    root = tmp_path / "root"
    environ = {"PEX_ROOT": str(root)}
    pex = fake_pex(tmp_path / "x.pex", "abc")
    assert installed_venv_script(pex, environ) is None
    script = fake_install(root, "abc")
    assert installed_venv_script(pex, environ) == script
    fake_install(root, "abc", interpreter="i2")  # two interpreters: which one the zip would pick is not ours to guess
    assert installed_venv_script(pex, environ) is None


def test_a_rebuilt_or_non_venv_pex_and_other_commands_run_as_given(tmp_path: Path) -> None:
    root = tmp_path / "root"
    environ = {"PEX_ROOT": str(root)}
    fake_install(root, "old", recorded_hash="other")  # an install whose PEX-INFO does not match
    assert installed_venv_script(fake_pex(tmp_path / "a.pex", "old"), environ) is None
    fake_install(root, "zipapp")
    assert installed_venv_script(fake_pex(tmp_path / "b.pex", "zipapp", venv=False), environ) is None
    (tmp_path / "c.pex").write_text("not a zip")
    assert installed_venv_script(tmp_path / "c.pex", environ) is None
    assert installed_venv_script(tmp_path / "missing.pex", environ) is None


def test_the_runner_resolves_a_configured_pex_to_its_venv_script(tmp_path: Path) -> None:
    root = tmp_path / "root"
    pex = fake_pex(tmp_path / "thing.pex", "h1")
    script = fake_install(root, "h1")
    runner = SubprocessComponentRunner(tmp_path, environ={"PEX_ROOT": str(root),
                                                          "NORTHSTAR_ENTRYPOINT_THING": str(pex)})
    assert runner.resolve("thing") == [str(script)]
    with_args = SubprocessComponentRunner(tmp_path, environ={"PEX_ROOT": str(root),
                                                             "NORTHSTAR_ENTRYPOINT_THING": f"{pex} --flag"})
    assert with_args.resolve("thing") == [str(pex), "--flag"]  # a command line is run exactly as configured
    assert runner.run("thing", []).payload == {"ok": True}
