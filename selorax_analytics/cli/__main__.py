"""``python -m selorax_analytics.cli``: the `selorax-analytics` command line."""

import sys

from selorax_analytics.cli._main import main

sys.exit(main())
