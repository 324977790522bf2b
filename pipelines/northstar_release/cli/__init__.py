"""The ``./release`` command line: ``main`` (cli/main.py) wires one module per command group."""

from northstar_release.cli.main import main

__all__ = ["main"]
