"""``python -m northstar_dbt.warehouse``: see :mod:`northstar_dbt.warehouse`."""

from northstar_dbt.warehouse.cli import console_main

console_main()
