"""How many people of each segment a campaign can reach, and what an export wrote, as tables.

:func:`segment_reach` counts, per RFM segment, the people (records of one person collapsed, as
the exports collapse them) with a usable contact for each channel, by the same rules the
exports apply: SMS needs a valid Bangladeshi mobile number, e-mail a valid address, Meta and
Google either of the two. :func:`export_summary` turns export results into one row per file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from selorax_analytics.exceptions import DataError
from selorax_analytics.exports import _contacts
from selorax_analytics.exports.segments import ExportResult, _eligible

#: Channel column of :func:`segment_reach` -> the export format whose rule it applies.
REACH_FORMATS = {"sms": "sms", "email": "mailchimp", "meta": "meta", "google": "google"}
SUMMARY_COLUMNS = ("segment", "format", "rows", "file", "people_left_out", "why")


def segment_reach(
    rfm: pd.DataFrame, customers: pd.DataFrame, *, region: str = "BD"
) -> pd.DataFrame:
    """People of each segment reachable by SMS, e-mail, Meta and Google.

    Parameters
    ----------
    rfm
        The frame :func:`selorax_analytics.rfm_segments` returned.
    customers
        The customers frame (``load_customers``): contacts.
    region
        Region for phones written without a country code (ISO 3166, default Bangladesh).

    Returns
    -------
    DataFrame
        One row per segment of ``rfm`` (in its order), columns ``segment``, ``people`` (records
        of one person counted once; buyers without a customer record are not people here),
        ``sms``, ``email``, ``meta``, ``google``: people with a contact that channel can use,
        the count an export in that format (sms, mailchimp, meta, google) would write.

    Raises
    ------
    DataError
        A frame missing columns.

    Examples
    --------
    >>> sa.plot_segment_reach(sa.segment_reach(rfm, customers))  # doctest: +SKIP
    """
    linked = _contacts.link(rfm, customers, region=region)
    present = set(rfm["segment"].dropna().astype("str"))
    rows = []
    for segment in [s for s in _contacts.segment_names(rfm) if s in present]:
        people, _ = _contacts.segment_people(linked, segment)
        counts = {
            channel: int(_eligible(people, fmt)[0].sum()) for channel, fmt in REACH_FORMATS.items()
        }
        rows.append({"segment": segment, "people": len(people), **counts})
    columns = ["segment", "people", *REACH_FORMATS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({c: "int64" for c in columns[1:]})


def export_summary(
    results: ExportResult | Mapping[str, ExportResult] | Iterable[ExportResult],
) -> pd.DataFrame:
    """What exports wrote, one row per file: segment, format, rows, file, people left out, why.

    Parameters
    ----------
    results
        One :class:`~selorax_analytics.ExportResult`, the dict
        :func:`~selorax_analytics.export_segments` returns, or a list of results.

    Returns
    -------
    DataFrame
        ``segment``, ``format``, ``rows`` (people written), ``file`` (its name),
        ``people_left_out`` and ``why`` (each reason with its count, ``"; "``-separated; empty
        when nobody was left out).
    """
    if isinstance(results, ExportResult):
        items: list[object] = [results]
    elif isinstance(results, Mapping):
        items = list(results.values())
    elif isinstance(results, Iterable) and not isinstance(results, str | bytes):
        items = list(results)
    else:
        items = [results]
    wrong = [type(r).__name__ for r in items if not isinstance(r, ExportResult)]
    if wrong:
        raise DataError(
            f"`results` must be export results (from export_segment or export_segments), "
            f"got {wrong[0]}."
        )
    rows = [r.summary() for r in items if isinstance(r, ExportResult)]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype(
        {"rows": "int64", "people_left_out": "int64"}
    )
