"""``python -m genomarray`` runs the command line."""

import sys

from genomarray.cli import main

sys.exit(main())
