"""selorax-analytics: customer analytics for SeloraX stores.

Typed, cached pandas DataFrames from the SeloraX Apps API v1, and what a marketer asks of them:
RFM segments, acquisition cohorts and retention, guest-checkout conversion, customer lifetime
value and segment exports for SMS, e-mail and ad platforms.

Public names load on first use, so ``import selorax_analytics`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from selorax_analytics._version import __version__ as __version__

# name -> module that defines it. One line per public name; keep it sorted by module.
_PUBLIC: dict[str, str] = {
    "Client": "client",
    "connect": "client",
    "calibration_holdout": "clv",
    "customer_value": "clv",
    "fit_bgnbd": "clv",
    "fit_gamma_gamma": "clv",
    "plot_calibration_holdout": "clv_plotting",
    "plot_expected_purchases_matrix": "clv_plotting",
    "plot_probability_alive_matrix": "clv_plotting",
    "cohort_table": "cohorts",
    "GuestConversion": "conversion",
    "guest_conversion": "conversion",
    "identities": "conversion",
    "cohort_dashboard": "dashboards",
    "guest_dashboard": "dashboards",
    "rfm_dashboard": "dashboards",
    "ApiError": "exceptions",
    "AuthenticationError": "exceptions",
    "CacheError": "exceptions",
    "ConflictError": "exceptions",
    "ConnectionFailedError": "exceptions",
    "DataError": "exceptions",
    "IncompleteLoadError": "exceptions",
    "NotFoundError": "exceptions",
    "OutputExistsError": "exceptions",
    "PermissionDeniedError": "exceptions",
    "RateLimitError": "exceptions",
    "ReportError": "exceptions",
    "SeloraxError": "exceptions",
    "ServerError": "exceptions",
    "ValidationError": "exceptions",
    "ExportResult": "exports",
    "export_segment": "exports",
    "export_segments": "exports",
    "load_customers": "loaders",
    "load_history": "loaders",
    "load_orders": "loaders",
    "load_store": "loaders",
    "plot_cohort_heatmap": "plotting",
    "plot_guest_funnel": "plotting",
    "plot_ltv_curves": "plotting",
    "plot_retention_curves": "plotting",
    "plot_rfm_grid": "plotting",
    "plot_segments": "plotting",
    "build_report": "report",
    "DEFAULT_RFM_SEGMENTS": "rfm",
    "RFM_SEGMENTS_WITH_LOST": "rfm",
    "customer_summary": "rfm",
    "rfm_segments": "rfm",
    "segment_summary": "rfm",
    "Sandbox": "sandbox",
}

__all__ = sorted([*_PUBLIC, "__version__"])


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'selorax_analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"selorax_analytics.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
