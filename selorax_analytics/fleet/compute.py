"""Fleet analytics on Dask: the package's own per-store functions, one task per store.

Every analysis is per store (scores, cohorts and models are relative to the store's own
customers), so a fleet is many independent pandas jobs. :func:`fleet_segments`,
:func:`fleet_cohorts` and :func:`fleet_summary` submit one task per store to a
``dask.distributed`` cluster (:mod:`~selorax_analytics.fleet.cluster`: which cluster, and how
the tasks are run and their failures reported); each task gets the dataset's path and the
store's id (never a frame), reads that store's partitions itself
(:func:`~selorax_analytics.fleet.dataset.read_store_frame`) and runs the unchanged public
functions (:func:`~selorax_analytics.rfm_segments`, :func:`~selorax_analytics.cohort_table`,
...). A store's result therefore equals the same function run locally on that store, exactly,
and a task holds one store at a time: memory per task is bounded by the largest store.

A store whose task fails (a corrupt partition, an analysis refusing the data, a worker lost)
is reported, one line per store, and the others finish.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from selorax_analytics.analytics.clv.value import customer_value
from selorax_analytics.analytics.cohorts import cohort_table
from selorax_analytics.analytics.conversion import guest_conversion
from selorax_analytics.analytics.rfm import DEFAULT_RFM_SEGMENTS, rfm_segments
from selorax_analytics.exceptions import DataError
from selorax_analytics.fleet.cluster import (
    CONNECT_TIMEOUT,
    SCHEDULER_ENV,
    MissingExtraError,
    check_scheduler_address,
    connect_scheduler,
    default_workers,
    fleet_client,
    one_line,
    run_per_store,
)
from selorax_analytics.fleet.dataset import read_store_frame

if TYPE_CHECKING:
    from distributed import Client

__all__ = [  # the cluster's names are still importable from here, where they used to live
    "CONNECT_TIMEOUT",
    "MIN_REPEAT_BUYERS",
    "RETENTION_MONTH",
    "SCHEDULER_ENV",
    "SUMMARY_COLUMNS",
    "FleetFrames",
    "MissingExtraError",
    "check_scheduler_address",
    "connect_scheduler",
    "default_workers",
    "fleet_client",
    "fleet_cohorts",
    "fleet_segments",
    "fleet_summary",
    "mean_clv",
    "month_retention",
    "run_per_store",
    "store_cohorts",
    "store_figures",
    "store_segments",
]

#: The summary's figures, before the segment mix (one column per segment, in map order).
SUMMARY_COLUMNS = (
    "customers",
    "orders",
    "buyers",
    "revenue",
    "repeat_rate",
    "month3_retention",
    "guest_conversion",
    "mean_clv",
)
#: Fewest repeat buyers (two valid orders or more) a store needs for its mean CLV.
MIN_REPEAT_BUYERS = 20
#: The month whose retention the summary shows (offset from the first-order month).
RETENTION_MONTH = 3


@dataclass(frozen=True)
class FleetFrames(Mapping[int, pd.DataFrame]):
    """Per-store results of :func:`fleet_segments` or :func:`fleet_cohorts`.

    A mapping ``store_id -> frame`` over the stores whose task finished (in store order), with
    ``errors``: ``store_id -> one line`` for the stores whose task failed.
    """

    frames: dict[int, pd.DataFrame]
    errors: dict[int, str] = field(default_factory=dict)

    def __getitem__(self, store_id: int) -> pd.DataFrame:
        return self.frames[store_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    def concat(self) -> pd.DataFrame:
        """Every store's frame in one, ``store_id`` the outer level of the index."""
        if not self.frames:
            return pd.DataFrame()
        return pd.concat(self.frames, names=["store_id"])


# --- the per-store tasks (run in the workers) ----------------------------------------------------


def store_segments(
    root: str, store_id: int, *, as_of: object, segment_map: Mapping[str, str]
) -> pd.DataFrame:
    """:func:`~selorax_analytics.rfm_segments` of one store of the dataset at ``root``."""
    orders = read_store_frame(root, "orders", store_id)
    return rfm_segments(orders, as_of=as_of, segment_map=segment_map)


def store_cohorts(
    root: str, store_id: int, *, as_of: object, period: str, metric: str
) -> pd.DataFrame:
    """:func:`~selorax_analytics.cohort_table` (by first order) of one store of the dataset."""
    orders = read_store_frame(root, "orders", store_id)
    return cohort_table(orders, as_of=as_of, period=period, metric=metric)  # type: ignore[arg-type]


def store_figures(root: str, store_id: int, *, as_of: object) -> dict[str, Any]:
    """One store's row of :func:`fleet_summary` (see there for each figure)."""
    customers = read_store_frame(root, "customers", store_id)
    orders = read_store_frame(root, "orders", store_id)
    rfm = rfm_segments(orders, as_of=as_of)
    buyers = len(rfm)
    row: dict[str, Any] = {
        "customers": len(customers),
        "orders": len(orders),
        "buyers": buyers,
        "revenue": float(rfm["monetary"].sum()),
        "repeat_rate": float((rfm["frequency"] >= 2).mean()) if buyers else np.nan,
        "month3_retention": month_retention(cohort_table(orders, as_of=as_of), RETENTION_MONTH),
        "guest_conversion": _account_share(guest_conversion(customers, orders, as_of=as_of)),
        "mean_clv": np.nan,
        "error": None,
    }
    row["mean_clv"], row["error"] = mean_clv(orders, as_of, int((rfm["frequency"] >= 2).sum()))
    shares = rfm["segment"].value_counts(normalize=True, sort=False)
    for name in DEFAULT_RFM_SEGMENTS:
        row[name] = float(shares.get(name, 0.0)) if buyers else np.nan
    return row


def mean_clv(orders: pd.DataFrame, as_of: object, repeat_buyers: int) -> tuple[float, str | None]:
    """Mean one-year :func:`~selorax_analytics.customer_value` of a store, or NaN and why not.

    A store with fewer than :data:`MIN_REPEAT_BUYERS` repeat buyers is not fitted. A fit that
    runs to a degenerate optimum (the store's customers show no spread in drop-out or in spend
    per order that the models could measure: common below a few thousand customers) is
    reported in words; any other refusal as its one line.
    """
    if repeat_buyers < MIN_REPEAT_BUYERS:
        return np.nan, (
            f"mean CLV: too few repeat buyers to fit ({repeat_buyers}; needs {MIN_REPEAT_BUYERS})"
        )
    try:  # numpy's warnings on the way to a refused fit are not the store's problem; the refusal is
        with np.errstate(all="ignore"):
            return float(customer_value(orders, as_of=as_of)["clv"].mean()), None
    except DataError as exc:
        text = str(exc)
        if "extreme parameters" not in text:
            return np.nan, f"mean CLV: {one_line(exc)}"
        part = "spend per order" if "Gamma-Gamma" in text else "drop-out"
        return np.nan, (
            f"mean CLV: not fitted on {repeat_buyers} repeat buyers (no spread in {part} "
            "between them to measure)"
        )


def month_retention(table: pd.DataFrame, month: int) -> float:
    """Share of first-order customers buying again ``month`` months after their first month.

    Pooled over the cohorts whose month ``month`` is complete by the table's ``as_of`` (the
    cohort-size-weighted mean of column ``month`` over those cohorts); NaN when none is.
    """
    if month not in table.columns or not len(table):
        return np.nan
    last = pd.Period(table.attrs["as_of"], freq="M")
    if table.attrs.get("partial_period") is not None:
        last -= 1
    done = np.asarray([cohort + month <= last for cohort in table.index])
    sizes = table["cohort_size"].to_numpy()[done]
    if not sizes.sum():
        return np.nan
    return float((table[month].to_numpy()[done] * sizes).sum() / sizes.sum())


def _account_share(result: Any) -> float:
    """Guests with a first order ``window_days`` old who opened an account within the window."""
    funnel = result.funnel
    return float(funnel["share"].iloc[-1]) if funnel["customers"].iloc[0] else np.nan


# --- the fleet functions (run in the client) -----------------------------------------------------


def fleet_segments(
    dataset: str | os.PathLike[str],
    *,
    as_of: object,
    segment_map: Mapping[str, str] = DEFAULT_RFM_SEGMENTS,
    stores: Collection[int] | None = None,
    scheduler: str | Client | None = None,
) -> FleetFrames:
    """RFM segments of every store of the fleet dataset, one Dask task per store.

    Parameters
    ----------
    dataset
        The fleet dataset's folder (``fleet fetch --out``).
    as_of
        Day of the analysis (Asia/Dhaka), as for :func:`~selorax_analytics.rfm_segments`.
    segment_map
        Segment name -> pattern over ``"<r><f>"`` (default :data:`DEFAULT_RFM_SEGMENTS`).
    stores
        The store ids to analyse (default: every store with both partitions in the dataset).
    scheduler
        ``None`` (``SELORAX_DASK_SCHEDULER``, else an embedded ``LocalCluster``), a scheduler
        address (``"tcp://host:8786"``) or a ``distributed.Client``.

    Returns
    -------
    FleetFrames
        ``store_id -> rfm_segments`` frame of that store; ``.errors`` the stores that failed;
        ``.concat()`` one frame indexed by ``(store_id, row)``.

    Raises
    ------
    ValidationError
        A malformed scheduler address.
    ConnectionFailedError
        No scheduler answers at the address.
    CacheError
        The dataset holds no store (or not one of ``stores``).

    Examples
    --------
    >>> rfm = fleet_segments("fleet-data", as_of="2026-07-01")  # doctest: +SKIP
    >>> rfm.concat().groupby(["store_id", "segment"], observed=True).size()  # doctest: +SKIP
    """
    options = {"as_of": as_of, "segment_map": dict(segment_map)}
    results, errors = run_per_store(store_segments, dataset, options, stores, scheduler)
    return FleetFrames(results, errors)


def fleet_cohorts(
    dataset: str | os.PathLike[str],
    *,
    as_of: object,
    period: str = "M",
    metric: str = "customers",
    stores: Collection[int] | None = None,
    scheduler: str | Client | None = None,
) -> FleetFrames:
    """First-order cohort tables of every store of the fleet dataset, one Dask task per store.

    Parameters are those of :func:`fleet_segments`, with ``period`` (``"M"``, ``"W"``, ``"Q"``)
    and ``metric`` (``"customers"``, ``"revenue"``, ``"orders"``, ``"ltv"``) passed to
    :func:`~selorax_analytics.cohort_table`.

    Returns
    -------
    FleetFrames
        ``store_id -> cohort_table`` of that store (index ``cohort``, columns ``cohort_size``,
        ``0, 1, ...``); ``.errors`` the stores that failed; ``.concat()`` one frame indexed by
        ``(store_id, cohort)``.

    Examples
    --------
    >>> fleet_cohorts("fleet-data", as_of="2026-07-01")[22]  # doctest: +SKIP
    """
    options = {"as_of": as_of, "period": period, "metric": metric}
    results, errors = run_per_store(store_cohorts, dataset, options, stores, scheduler)
    return FleetFrames(results, errors)


def fleet_summary(
    dataset: str | os.PathLike[str],
    *,
    as_of: object,
    stores: Collection[int] | None = None,
    scheduler: str | Client | None = None,
) -> pd.DataFrame:
    """One row of headline figures per store of the fleet dataset, one Dask task per store.

    Parameters are those of :func:`fleet_segments`.

    Returns
    -------
    DataFrame
        Indexed by ``store_id`` (every store asked for, sorted): ``customers`` (records, guests
        included), ``orders``, ``buyers`` (customers with a valid order), ``revenue`` (their
        valid orders' total, taka), ``repeat_rate`` (share of buyers with two valid orders or
        more), ``month3_retention`` (share of first-order customers who bought again in the
        third month after their first, pooled over the cohorts whose third month is complete),
        ``guest_conversion`` (share of guests whose first order is 90 days old who opened an
        account within 90 days, :func:`~selorax_analytics.guest_conversion`'s funnel),
        ``mean_clv`` (mean :func:`~selorax_analytics.customer_value` over the buyers, one year),
        ``error`` (why figures are missing: the whole task's failure, or ``mean CLV: ...``
        when only the lifetime-value fit could not be made, in words, see :func:`mean_clv`;
        ``None`` when all are there), then one column
        per segment of :data:`DEFAULT_RFM_SEGMENTS`: its share of the buyers (the segment mix).
        Shares are fractions (0 to 1); a failed store's figures are NaN.

    Examples
    --------
    >>> fleet_summary("fleet-data", as_of="2026-07-01").median(numeric_only=True)  # doctest: +SKIP
    """
    results, errors = run_per_store(store_figures, dataset, {"as_of": as_of}, stores, scheduler)
    rows = {sid: results.get(sid) or {"error": errors[sid]} for sid in sorted({*results, *errors})}
    columns = [*SUMMARY_COLUMNS, "error", *map(str, DEFAULT_RFM_SEGMENTS)]
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    frame.index = pd.Index(list(rows), dtype="int64", name="store_id")
    numeric = [c for c in columns if c != "error"]
    frame[numeric] = frame[numeric].astype("float64")
    for name in ("customers", "orders", "buyers"):
        frame[name] = frame[name].astype("Int64")
    frame["error"] = frame["error"].astype("str")
    return frame
