"""``python -m northstar_dbt.warehouse``: see :mod:`northstar_dbt.warehouse`."""

import sys

from northstar_dbt.warehouse.cli import main

sys.exit(main())
