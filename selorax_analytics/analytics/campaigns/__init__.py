"""Campaigns with a hold-out: their records (``records``), the statistics (``statistics``) and
the report of their measured effect (``report``)."""
