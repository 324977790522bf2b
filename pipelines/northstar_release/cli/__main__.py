"""``python -m northstar_release.cli`` (how ./release runs it); name the program the way users type it."""

import os

from northstar_release.cli.main import main

main(prog_name=os.environ.get("NORTHSTAR_PROG_NAME", "release"))
