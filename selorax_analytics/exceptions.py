"""Errors raised by selorax_analytics.

::

    SeloraxError
     └── DataError (also ValueError): bad input to an analytics function
"""

from __future__ import annotations


class SeloraxError(Exception):
    """Root of every error this package raises."""


class DataError(SeloraxError, ValueError):
    """An analytics input is not usable: a missing column, an unknown option, an empty window."""
