"""The report's ``index.html``: one self-contained page built from the summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1f2933; }
h1 { margin-bottom: 0.2rem; } .meta { color: #52606d; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.92rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e4e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f5f7fa; }
ul.notebooks li { margin: 0.2rem 0; }
"""


def _percent(value: Any) -> str:
    return "" if value is None else f"{value:.1%}"


def _number(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if isinstance(value, int | float) else escape(str(value))


def _table(
    rows: Mapping[str, Mapping[str, Any]],
    first: str,
    columns: Mapping[str, tuple[str, Callable[[Any], str]]],
) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for label, _ in columns.values())
    body = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(f"<td>{fmt(values.get(key))}</td>" for key, (_, fmt) in columns.items())
        + "</tr>"
        for name, values in rows.items()
    )
    return f"<table><tr><th>{escape(first)}</th>{head}</tr>{body}</table>"


def index_page(summary: Mapping[str, Any]) -> str:
    """The report's front page: what was analysed, the key tables, links to the rest."""
    notebooks = "".join(
        f'<li><a href="{escape(p["html"])}">{escape(p["title"])}</a> '
        f"<small>({escape(p['notebook'])})</small></li>"
        for p in summary.get("notebooks", [])
    )
    segments = _table(
        summary["segments"],
        "segment",
        {
            "customers": ("customers", _number),
            "customer_share": ("share", _percent),
            "revenue": ("revenue (BDT)", _number),
            "revenue_share": ("revenue share", _percent),
        },
    )
    groups = _table(
        summary["guest_conversion"]["groups"],
        "group",
        {
            "customers": ("people", _number),
            "orders": ("orders", _number),
            "revenue": ("revenue (BDT)", _number),
            "repeat_rate": ("repeat rate", _percent),
        },
    )
    funnel = _table(
        summary["guest_conversion"]["funnel"],
        "stage",
        {"customers": ("guests", _number), "share": ("share", _percent)},
    )
    cohorts = summary["cohorts"]
    recent = dict(list(cohorts["sizes"].items())[-12:])
    sizes = _table(
        {k: {"n": v} for k, v in recent.items()},
        "cohort (month)",
        {"n": ("new customers", _number)},
    )
    exports = "".join(
        f"<li>{escape(fmt)}: "
        + ", ".join(
            f'<a href="{escape(e["file"])}">{escape(seg)}</a> ({e["rows"]:,})'
            for seg, e in by_segment.items()
        )
        + "</li>"
        for fmt, by_segment in summary["exports"].items()
    )
    partial = cohorts.get("partial_period")
    note = f" ({escape(str(partial))} is still running)" if partial else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>SeloraX store report, {escape(summary["as_of"])}</title><style>{_STYLE}</style></head>
<body>
<h1>SeloraX store report</h1>
<p class="meta">{escape(str(summary.get("store", "")))}, as of {escape(summary["as_of"])}:
{summary["customers"]:,} customers, {summary["orders"]:,} orders, {summary["buyers"]:,} customers
with a valid order. selorax-analytics {escape(summary["package_version"])}.</p>
<h2>Notebooks</h2><ul class="notebooks">{notebooks}</ul>
<h2>RFM segments</h2>{segments}
<h2>Guests and accounts</h2>{groups}
<p>Funnel of guests whose first order is at least {summary["guest_conversion"]["window_days"]}
days old:</p>{funnel}
<h2>Monthly cohorts, the last 12</h2>{sizes}
<p>{len(cohorts["sizes"]):,} cohorts in all{note}; every size is in
<a href="summary.json">summary.json</a>.</p>
<h2>Segment exports</h2><ul>{exports}</ul>
</body></html>
"""


#: The style of the header on every notebook page (a ``<style>`` element for the page's head).
PAGE_HEADER_STYLE = """<style>
.sx-report-header { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
  border-bottom: 1px solid #e4e7eb; padding: 0.6rem 1rem; margin-bottom: 1rem; color: #1f2933; }
.sx-report-header p { margin: 0.2rem 0; }
.sx-report-header .meta { color: #52606d; font-size: 0.92rem; }
.sx-report-header nav a { margin-right: 1.2rem; }
</style>"""


def page_header(
    *,
    store: str,
    as_of: str,
    generated: str,
    previous: Mapping[str, str] | None = None,
    following: Mapping[str, str] | None = None,
) -> str:
    """The header of a notebook page: the store, the as-of day, when it was made, and links.

    ``previous`` and ``following`` are the neighbouring pages (``{"html": ..., "title": ...}``),
    ``None`` at either end; the index link is always there.
    """
    links = ['<a href="index.html">Report index</a>']
    if previous is not None:
        links.append(
            f'<a href="{escape(previous["html"])}" rel="prev">&larr; {escape(previous["title"])}</a>'
        )
    if following is not None:
        links.append(
            f'<a href="{escape(following["html"])}" rel="next">{escape(following["title"])} '
            "&rarr;</a>"
        )
    return (
        '<header class="sx-report-header">'
        f'<p class="meta">SeloraX store report: <strong>{escape(store)}</strong>, as of '
        f"<strong>{escape(as_of)}</strong>; generated {escape(generated)} (Asia/Dhaka)</p>"
        f"<nav>{''.join(links)}</nav></header>"
    )
