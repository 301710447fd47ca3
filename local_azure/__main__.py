"""`python -m local_azure serve ...`, the same as the `local-azure` command."""

import sys

from local_azure.cli import main

if __name__ == "__main__":
    sys.exit(main())
