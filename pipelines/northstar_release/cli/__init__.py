"""The ``./release`` command line: ``main`` (cli/main.py) wires one module per command group.

Nothing is imported here: ``python -m northstar_release.cli`` runs ``__main__``, which starts the warm component
processes (``early_warm``) before the CLI's own imports; importing ``main`` here would put those imports first.
"""
