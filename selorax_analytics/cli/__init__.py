"""The ``selorax-analytics`` command line: ``main(argv) -> int`` and every subcommand."""

from selorax_analytics.cli._main import main

__all__ = ["main"]
