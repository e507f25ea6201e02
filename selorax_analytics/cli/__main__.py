"""``python -m selorax_analytics.cli._main``."""

import sys

from selorax_analytics.cli._main import main

sys.exit(main())
