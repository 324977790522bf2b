"""PySpark batch jobs; each exposes a pure ``transform``, a ``main(argv)`` and an ``OUTPUT_SCHEMA``."""
