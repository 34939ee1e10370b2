"""`python -m prefork_modpy` is the `prefork-modpy` command."""

import sys

from .cli import main

sys.exit(main())
