"""`python -m scar`; the `scar` console script points at the same function."""

import sys

from scar.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
