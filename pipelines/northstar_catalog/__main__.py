"""``python -m northstar_catalog`` entry point."""

from northstar_catalog.cli import main

main(prog_name="python -m northstar_catalog")
