"""``python -m northstar_release.cli`` (how ./release runs it); name the program the way users type it."""

import os
import sys

from northstar_release.cli.entry import run

sys.exit(run(prog_name=os.environ.get("NORTHSTAR_PROG_NAME", "release")))
