"""The fleet report: one page comparing the stores of a fleet dataset side by side.

``OUT/index.html`` holds one row per store (the figures of
:func:`~selorax_analytics.fleet.compute.fleet_summary`, formatted by
:mod:`~selorax_analytics.presentation.numbers`) and the fleet's medians; clicking a header
sorts by it (a small inline script; the page loads nothing from elsewhere).
``OUT/fleet_summary.csv`` holds the same figures as plain numbers.

A store's name links to its own report at ``OUT/stores/<store_id>/index.html`` when that file
exists: :func:`build_store_reports` (``fleet report --with-store-reports``) builds them with
:func:`~selorax_analytics.build_report`, one store at a time (about 30 s each).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from selorax_analytics._files import write_file
from selorax_analytics.analytics.rfm import DEFAULT_RFM_SEGMENTS
from selorax_analytics.exceptions import SeloraxError
from selorax_analytics.fleet.compute import fleet_summary
from selorax_analytics.fleet.dataset import read_manifest
from selorax_analytics.presentation import numbers

if TYPE_CHECKING:
    from distributed import Client

    from selorax_analytics.fleet.config import Fleet

#: Column -> (header, formatter) of the page, before the segment mix.
FIGURES: dict[str, tuple[str, Callable[[Any], str]]] = {
    "customers": ("Customers", numbers.count),
    "orders": ("Orders", numbers.count),
    "buyers": ("Buyers", numbers.count),
    "revenue": ("Revenue", numbers.taka),
    "repeat_rate": ("Repeat rate", numbers.percent),
    "month3_retention": ("Month-3 retention", numbers.percent),
    "guest_conversion": ("Guest conversion (90 d)", numbers.percent),
    "mean_clv": ("Mean CLV (1 y)", numbers.taka),
}
STORE_REPORTS = "stores"
#: Characters of a store's problem shown in its cell (the whole line is the cell's tooltip).
PROBLEM_CHARS = 70


def build_fleet_report(
    dataset: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    as_of: object,
    scheduler: str | Client | None = None,
    overwrite: bool = False,
    stores: Collection[int] | None = None,
    not_loaded: Mapping[str, str] | None = None,
) -> Path:
    """Compute the fleet summary and write the comparison page and its CSV into ``out``.

    Parameters
    ----------
    dataset
        The fleet dataset's folder (``fleet fetch --out``).
    out
        The report's folder (created if missing).
    as_of
        Day of the analysis (Asia/Dhaka).
    scheduler
        As for :func:`~selorax_analytics.fleet.compute.fleet_summary`.
    overwrite
        Replace an earlier ``index.html`` / ``fleet_summary.csv`` in ``out``.
    stores
        The store ids on the page (default: every store of the dataset).
    not_loaded
        Store name -> why it did not load (``fleet report --fleet``); listed above the table.

    Returns
    -------
    Path
        ``out/index.html``.

    Raises
    ------
    OutputExistsError
        ``out/index.html`` or ``out/fleet_summary.csv`` exists and ``overwrite`` is false.
    """
    folder = Path(out)
    summary = fleet_summary(dataset, as_of=as_of, stores=stores, scheduler=scheduler)
    names = {
        int(s["store_id"]): str(s.get("name", "")) for s in read_manifest(Path(dataset))["stores"]
    }
    page = fleet_page(
        summary, names, as_of=str(as_of), folder=folder, not_loaded=dict(not_loaded or {})
    )
    csv = summary.assign(name=[names.get(int(i), "") for i in summary.index]).to_csv()
    write_file(folder / "fleet_summary.csv", csv.encode(), overwrite=overwrite)
    return write_file(folder / "index.html", page.encode(), overwrite=overwrite)


def build_store_reports(
    fleet: Fleet, dataset: str | os.PathLike[str], out: str | os.PathLike[str], *, as_of: object
) -> dict[str, str | None]:
    """Each store's own report in ``out/stores/<store_id>/`` (the fleet file gives its credential).

    Stores are matched to the dataset by the name ``fleet.json`` records. Returns store name ->
    ``None`` when its report was built, else one line saying why not (the others go on).
    """
    from selorax_analytics.api.client import Client as StoreClient
    from selorax_analytics.report.build import build_report

    ids = {str(s.get("name")): int(s["store_id"]) for s in read_manifest(Path(dataset))["stores"]}
    done: dict[str, str | None] = {}
    for store in fleet.stores:
        if store.name not in ids:
            done[store.name] = "not in the dataset's fleet.json; run fleet fetch first"
            continue
        target = Path(out) / STORE_REPORTS / str(ids[store.name])
        try:
            with StoreClient(**store.client_options()) as client:
                build_report(target, as_of=as_of, client=client, progress=False, overwrite=True)
            done[store.name] = None
        except SeloraxError as exc:
            done[store.name] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    return done


def fleet_page(
    summary: pd.DataFrame,
    names: dict[int, str],
    *,
    as_of: str,
    folder: Path,
    not_loaded: dict[str, str] | None = None,
) -> str:
    """The comparison page's HTML for ``summary`` (:func:`fleet_summary`'s frame).

    ``not_loaded`` (store name -> why) lists the fleet's stores that are not on the page.
    """
    segments = [s for s in DEFAULT_RFM_SEGMENTS if s in summary.columns]
    heads = ["Store", *(h for h, _ in FIGURES.values()), *segments, "Problems"]
    header = "".join(
        f'<th onclick="sortBy({i})" title="sort">{html.escape(h)}</th>' for i, h in enumerate(heads)
    )
    rows = [_store_row(sid, row, names, segments, folder) for sid, row in summary.iterrows()]
    medians = summary.median(numeric_only=True)
    median_cells = "".join(_cell(medians.get(c), f) for c, (_, f) in FIGURES.items())
    median_cells += "".join(_cell(medians.get(s), numbers.percent) for s in segments)
    failed = int(summary["error"].notna().sum())
    note = f"{len(summary)} stores, as of {html.escape(as_of)}"
    if failed:
        note += f"; {failed} with a problem (last column)"
    return _PAGE.format(
        note=note,
        missing=_listed("Not loaded, so not on the page:", not_loaded or {})
        + _listed("Problems (also in the last column):", _problems(summary, names)),
        header=header,
        rows="\n".join(rows),
        medians=f'<tr class="median"><th>Fleet median</th>{median_cells}<td></td></tr>',
    )


def _store_row(
    store_id: Any, row: pd.Series, names: dict[int, str], segments: list[str], folder: Path
) -> str:
    sid = int(store_id)
    label = html.escape(names.get(sid) or f"store {sid}") + f" <small>({sid})</small>"
    own = Path(STORE_REPORTS) / str(sid) / "index.html"
    if (folder / own).is_file():
        label = f'<a href="{own.as_posix()}">{label}</a>'
    cells = "".join(_cell(row[c], f) for c, (_, f) in FIGURES.items())
    cells += "".join(_cell(row[s], numbers.percent) for s in segments)
    full = "" if pd.isna(row["error"]) else str(row["error"])
    short = full if len(full) <= PROBLEM_CHARS else full[: PROBLEM_CHARS - 1] + "…"
    error = f'title="{html.escape(full, quote=True)}">{html.escape(short)}'
    sort_name = html.escape(names.get(sid) or str(sid), quote=True)
    return (
        f'<tr><th data-sort="{sort_name}">{label}</th>{cells}<td class="problem" {error}</td></tr>'
    )


def _problems(summary: pd.DataFrame, names: dict[int, str]) -> dict[str, str]:
    """Store label -> its problem, for the stores with one."""
    errors = summary["error"].dropna()
    return {
        f"{names.get(sid) or 'store'} ({sid})": str(e)
        for sid, e in zip(errors.index.astype(int), errors, strict=True)
    }


def _listed(title: str, items: dict[str, str]) -> str:
    if not items:
        return ""
    rows = "".join(
        f"<li><b>{html.escape(name)}</b>: {html.escape(why)}</li>" for name, why in items.items()
    )
    return f'<div class="missing"><p>{html.escape(title)}</p><ul>{rows}</ul></div>'


def _cell(value: Any, shown: Callable[[Any], str]) -> str:
    raw = "" if numbers.missing(value) else repr(float(value))
    return f'<td data-sort="{raw}">{html.escape(shown(value))}</td>'


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fleet report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }}
th, td {{ padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; white-space: nowrap; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
/* 20 columns do not fit a laptop's width: the table scrolls in its own box (the page does
   not), its header row stays on top and the store column on the left */
div.scroll {{ overflow: auto; max-width: 100%; max-height: 85vh; }}
thead th {{ cursor: pointer; background: #f3f3f3; position: sticky; top: 0; z-index: 1;
  white-space: normal; vertical-align: bottom; min-width: 4.5rem; max-width: 7rem; }}
thead th:hover {{ background: #e4e4e4; }}
tbody th, tr.median th {{ position: sticky; left: 0; background: #fff; }}
thead th:first-child {{ left: 0; z-index: 2; }}
tbody th {{ text-align: left; font-weight: normal; }}
tr.median {{ font-weight: bold; background: #fff8e0; }}
tr.median th {{ background: #fff8e0; top: auto; cursor: default; }}
td.problem {{ text-align: left; color: #a00; white-space: normal; min-width: 16rem; }}
div.missing {{ color: #a00; }}
</style></head>
<body>
<h1>Fleet report</h1>
<p>{note}. Click a header to sort; click again to reverse. Shares of buyers per RFM segment
after the figures; medians over the stores with a value.</p>
{missing}
<div class="scroll"><table id="fleet">
<thead><tr>{header}</tr>{medians}</thead>
<tbody>
{rows}
</tbody></table></div>
<script>
function sortBy(col) {{
  const body = document.querySelector("#fleet tbody");
  const rows = Array.from(body.rows);
  const down = body.dataset.col == col && body.dataset.dir != "desc";
  const key = (r) => r.cells[col].dataset.sort ?? r.cells[col].textContent;
  rows.sort((a, b) => {{
    const x = key(a), y = key(b);
    if (x === "" || y === "") return (x === "") - (y === "");
    const n = Number(x) - Number(y);
    const c = Number.isNaN(n) ? x.localeCompare(y) : n;
    return down ? -c : c;
  }});
  body.dataset.col = col; body.dataset.dir = down ? "desc" : "asc";
  rows.forEach((r) => body.appendChild(r));
}}
</script>
</body></html>
"""
