"""``python -m northstar_release.cli`` (how ./release runs it); name the program the way users type it."""

import os
import sys

from northstar_release import early_warm

early_warm.start_for(sys.argv[1:])  # before the CLI's own imports: see early_warm.py

from northstar_release.cli.entry import run  # noqa: E402

sys.exit(run(prog_name=os.environ.get("NORTHSTAR_PROG_NAME", "release")))
