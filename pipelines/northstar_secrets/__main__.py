"""`python -m northstar_secrets` (see cli.py)."""

from northstar_secrets.cli import main

if __name__ == "__main__":
    main()
