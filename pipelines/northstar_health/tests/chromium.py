"""Render a local HTML file in real headless Chromium (Debian's ``chromium``, see scripts/install-system-deps)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"]
_CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)")


def render(page: Path, workdir: Path) -> tuple[str, list[str]]:
    """(DOM after load and scripts, console messages). Chromium prints every console message (log, error, uncaught
    exception) as an INFO:CONSOLE line on stderr with --enable-logging=stderr."""
    exe = shutil.which("chromium")
    assert exe, "chromium is not installed: run scripts/install-system-deps (Debian package chromium)"
    profile = workdir / "chromium-profile"
    env = {**os.environ, "HOME": str(workdir)}
    proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.absolute().as_uri()],
                          capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [m.group(1) for m in _CONSOLE.finditer(proc.stderr)]
