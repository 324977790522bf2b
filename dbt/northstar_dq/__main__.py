"""`python -m northstar_dq` (see cli.py)."""

from northstar_dq.cli import main

if __name__ == "__main__":
    main()
