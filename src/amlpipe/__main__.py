"""`python -m amlpipe`: the same as the `amlpipe` command."""

import sys

from .cli import main

sys.exit(main())
