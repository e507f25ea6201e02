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
    "Client": "api.client",
    "connect": "connection",
    "Campaign": "analytics.campaigns.records",
    "read_campaign": "analytics.campaigns.records",
    "CampaignReport": "analytics.campaigns.report",
    "campaign_report": "analytics.campaigns.report",
    "calibration_holdout": "analytics.clv.value",
    "customer_value": "analytics.clv.value",
    "fit_bgnbd": "analytics.clv.value",
    "fit_gamma_gamma": "analytics.clv.value",
    "plot_campaign": "presentation.campaign_plots",
    "plot_calibration_holdout": "presentation.clv_plotting",
    "plot_expected_purchases_matrix": "presentation.clv_plotting",
    "plot_probability_alive_matrix": "presentation.clv_plotting",
    "cohort_table": "analytics.cohorts",
    "GuestConversion": "analytics.conversion",
    "guest_conversion": "analytics.conversion",
    "identities": "analytics.conversion",
    "DeliveryRisk": "analytics.delivery_risk",
    "delivery_risk": "analytics.delivery_risk",
    "fit_beta_binomial": "analytics.delivery_risk",
    "cohort_dashboard": "presentation.dashboards",
    "delivery_risk_dashboard": "presentation.risk_dashboard",
    "guest_dashboard": "presentation.dashboards",
    "simulate_campaign_response": "demo",
    "rfm_dashboard": "presentation.dashboards",
    "ApiError": "exceptions",
    "AuthenticationError": "exceptions",
    "CacheError": "exceptions",
    "ConflictError": "exceptions",
    "ConnectionFailedError": "exceptions",
    "DataError": "exceptions",
    "IncompleteLoadError": "exceptions",
    "IncompleteReportError": "exceptions",
    "NotFoundError": "exceptions",
    "OutputExistsError": "exceptions",
    "PermissionDeniedError": "exceptions",
    "RateLimitError": "exceptions",
    "ReportError": "exceptions",
    "SeloraxError": "exceptions",
    "ServerError": "exceptions",
    "ValidationError": "exceptions",
    "export_summary": "exports.reach",
    "segment_reach": "exports.reach",
    "ExportResult": "exports.segments",
    "export_segment": "exports.segments",
    "export_segments": "exports.segments",
    "Fleet": "fleet.config",
    "FleetFileError": "fleet.config",
    "read_fleet": "fleet.config",
    "FleetLoad": "fleet.load",
    "load_fleet": "fleet.load",
    "fleet_cohorts": "fleet.compute",
    "fleet_segments": "fleet.compute",
    "fleet_summary": "fleet.compute",
    "load_customers": "loading.loaders",
    "load_history": "loading.loaders",
    "load_orders": "loading.loaders",
    "load_store": "loading.loaders",
    "plot_delivery_risk": "presentation.risk_plotting",
    "plot_cohort_heatmap": "presentation.plotting",
    "plot_guest_funnel": "presentation.plotting",
    "plot_ltv_curves": "presentation.plotting",
    "plot_retention_curves": "presentation.plotting",
    "plot_rfm_grid": "presentation.plotting",
    "plot_segment_reach": "presentation.plotting",
    "plot_segments": "presentation.plotting",
    "style": "presentation.tables",
    "build_report": "report.build",
    "DEFAULT_RFM_SEGMENTS": "analytics.rfm",
    "RFM_SEGMENTS_WITH_LOST": "analytics.rfm",
    "customer_summary": "analytics.rfm",
    "rfm_segments": "analytics.rfm",
    "segment_summary": "analytics.rfm",
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
