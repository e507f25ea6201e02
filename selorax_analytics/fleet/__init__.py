"""Many stores at once: the fleet file, loading a fleet, and its Parquet dataset.

:mod:`~selorax_analytics.fleet.config` reads the fleet file (``sa.read_fleet``),
:mod:`~selorax_analytics.fleet.load` loads every store under one budget of requests in flight
(``sa.load_fleet``), and :mod:`~selorax_analytics.fleet.dataset` is the on-disk layout they
share with the fleet analytics.
"""
