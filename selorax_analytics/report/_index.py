"""The report's ``index.html``: what a shop owner or marketer reads first, and acts on.

Built from the summary alone (the dict ``summary.json`` holds): headline figures, two charts
embedded as PNG images, the segments with the people each channel reaches, guests, cohorts and
links to every page and export. Every number goes through
:mod:`selorax_analytics.presentation.numbers`.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Mapping
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from selorax_analytics.presentation import numbers

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 68rem; padding: 0 1rem; color: #1f2933; }
h1 { margin-bottom: 0.2rem; } .meta { color: #52606d; margin-top: 0; }
h2 { margin-top: 2rem; border-bottom: 1px solid #e4e7eb; padding-bottom: 0.2rem; }
p.todo { background: #f0f4f8; border-left: 4px solid #3b6ea5; padding: 0.4rem 0.8rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e4e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f5f7fa; } tr.total td { font-weight: 600; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
           gap: 0.8rem; margin: 1rem 0; }
.figure { border: 1px solid #e4e7eb; border-radius: 6px; padding: 0.6rem 0.8rem; }
.figure .label { color: #52606d; font-size: 0.85rem; }
.figure .value { font-size: 1.5rem; font-weight: 600; margin: 0.15rem 0; }
.figure .note { color: #52606d; font-size: 0.8rem; }
img.chart { max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }
ul.notebooks li, ul.actions li { margin: 0.2rem 0; }
strong.incomplete { color: #9c4221; background: #fff4e5; padding: 0 0.3rem; border-radius: 3px; }
"""

#: What to do with each segment of the default map (one sentence each).
SEGMENT_ACTIONS = {
    "Champions": "thank them, ask for reviews and referrals, show new arrivals first.",
    "Loyal Customers": "offer a loyalty reward or early access; upsell higher-value items.",
    "Potential Loyalists": "a second-purchase offer or a membership invitation.",
    "New Customers": "a welcome message with delivery help and a small next-order voucher.",
    "Promising": "a reminder of what they liked, with free delivery on the next order.",
    "Need Attention": "a limited-time offer based on their past orders.",
    "About to Sleep": "a 'we miss you' SMS with popular items, before they lapse.",
    "Can't Lose Them": "a personal call or message and your best win-back offer.",
    "At Risk": "a win-back SMS with a discount.",
    "Hibernating": "only low-cost reminders (e-mail, audiences); do not spend much here.",
}


def _signed_percent(value: Any) -> str:
    text = numbers.percent(value)
    return f"+{text}" if text and not text.startswith("-") else text


def _figure(label: str, value: str, note: str = "") -> str:
    return (
        f'<div class="figure"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div><div class="note">{escape(note)}</div></div>'
    )


def _headline(head: Mapping[str, Any]) -> str:
    active = head["active_days"]
    buyers = head["buyers"]
    change = head["revenue_change"]
    trend = (
        "no revenue in the 30 days before"
        if change is None
        else f"{_signed_percent(change)} on the 30 days before"
    )
    cards = [
        _figure("customers", numbers.count(head["customers"]), "customer records, guests included"),
        _figure("buyers", numbers.count(buyers), "records with a valid order"),
        _figure(
            "revenue, last 30 days",
            numbers.taka(head["revenue_last_30_days"]),
            f"{numbers.count(head['orders_last_30_days'])} orders; {trend}",
        ),
        _figure(
            "revenue, the 30 days before",
            numbers.taka(head["revenue_previous_30_days"]),
            f"{numbers.count(head['orders_previous_30_days'])} orders",
        ),
        _figure("repeat rate", numbers.percent(head["repeat_rate"]), "buyers with 2+ valid orders"),
        _figure(
            "guest share", numbers.percent(head["guest_share"]), "buyers who checked out as guests"
        ),
        _figure(
            "active customers",
            numbers.count(head["active_customers"]),
            f"buyers who ordered in the last {active} days"
            + (f" ({numbers.percent(head['active_customers'] / buyers)})" if buyers else ""),
        ),
    ]
    return f'<div class="figures">{"".join(cards)}</div>'


def _png(draw: Callable[[Axes], object], size: tuple[float, float]) -> str:
    """An ``<img>`` holding the chart ``draw`` makes, as base64 PNG (no file, no script)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100, layout="constrained")
    draw(fig.subplots())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data: str, alt: str) -> str:
    return f'<img class="chart" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def revenue_chart(summary: Mapping[str, Any]) -> str:
    """Revenue by month as an embedded PNG (empty when the store has no valid order)."""
    from selorax_analytics.presentation.summary_plots import plot_monthly_revenue

    monthly = summary["revenue_by_month"]
    if not monthly["months"]:
        return "<p>No valid order yet: no revenue to chart.</p>"
    data = _png(
        lambda ax: plot_monthly_revenue(
            monthly["months"], partial_month=monthly["partial_month"], ax=ax
        ),
        (10.5, 3.6),
    )
    return _img(data, "Revenue by calendar month, in taka; the running month hatched")


def segment_chart(segments: pd.DataFrame) -> str:
    """Segment sizes beside their revenue share as an embedded PNG."""
    from selorax_analytics.presentation.summary_plots import plot_segment_shares

    if not (segments["customers"] > 0).any():
        return ""
    data = _png(lambda ax: plot_segment_shares(segments, ax=ax), (10.5, 4.6))
    return _img(data, "Share of buyers and share of revenue per RFM segment")


def _segments_frame(summary: Mapping[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(summary["segments"], orient="index")
    return frame.rename_axis("segment").reset_index()


def _table(
    rows: Mapping[str, Mapping[str, Any]],
    first: str,
    columns: Mapping[str, tuple[str, Callable[[Any], str]]],
    *,
    total: Mapping[str, Any] | None = None,
) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for label, _ in columns.values())

    def row(name: str, values: Mapping[str, Any], css: str = "") -> str:
        cells = "".join(
            f"<td>{escape(fmt(values.get(key)))}</td>" for key, (_, fmt) in columns.items()
        )
        return f"<tr{css}><td>{escape(name)}</td>{cells}</tr>"

    body = "".join(row(name, values) for name, values in rows.items())
    if total is not None:
        body += row("all", total, ' class="total"')
    return f"<table><tr><th>{escape(first)}</th>{head}</tr>{body}</table>"


def _segment_table(summary: Mapping[str, Any]) -> str:
    reach = summary["reach"]["segments"]
    rows = {
        name: {**values, **reach.get(name, {})}
        for name, values in summary["segments"].items()
        if values["customers"]
    }
    total = {
        "customers": summary["buyers"],
        "customer_share": 1.0 if summary["buyers"] else None,
        "revenue": sum(v["revenue"] or 0 for v in rows.values()),
        "revenue_share": 1.0 if rows else None,
        **summary["reach"]["total"],
    }
    return _table(
        rows,
        "segment",
        {
            "customers": ("buyers (records)", numbers.count),
            "customer_share": ("share", numbers.percent),
            "revenue": ("revenue", numbers.taka),
            "revenue_share": ("revenue share", numbers.percent),
            "people": ("people", numbers.count),
            "sms": ("SMS", numbers.count),
            "email": ("e-mail", numbers.count),
            "meta": ("Meta", numbers.count),
            "google": ("Google", numbers.count),
        },
        total=total,
    )


def _actions(summary: Mapping[str, Any]) -> str:
    items = "".join(
        f"<li><strong>{escape(name)}</strong>: {escape(SEGMENT_ACTIONS[name])}</li>"
        for name, values in summary["segments"].items()
        if values["customers"] and name in SEGMENT_ACTIONS
    )
    return f'<ul class="actions">{items}</ul>' if items else ""


_COUNTS_DIFFER = (
    "Why the counts differ: <em>buyers</em> are customer records with a valid order (a person "
    "who ordered as a guest and later opened an account has two records). <em>People</em> are "
    "those records merged into persons by a shared phone number or e-mail address, as the "
    "export files count them, so a segment has as many or fewer people than records. A channel "
    "column counts the people it can reach: <em>SMS</em> those with a valid Bangladeshi mobile "
    "number (+8801...), <em>e-mail</em> those with a valid address, <em>Meta</em> and "
    "<em>Google</em> those with a phone or an e-mail to hash. Each channel count is the number "
    "of rows of that segment's export file (SMS: the sms file, e-mail: the mailchimp file)."
)


def _guests(summary: Mapping[str, Any]) -> str:
    conversion = summary["guest_conversion"]
    groups = _table(
        conversion["groups"],
        "group",
        {
            "customers": ("people", numbers.count),
            "orders": ("orders", numbers.count),
            "revenue": ("revenue", numbers.taka),
            "repeat_rate": ("repeat rate", numbers.percent),
        },
    )
    funnel = _table(
        conversion["funnel"],
        "stage",
        {"customers": ("guests", numbers.count), "share": ("share", numbers.percent)},
    )
    return (
        '<p class="todo">What to do: ask guests who ordered twice to open an account (an SMS '
        "after the second delivery); account holders come back more often.</p>"
        f"{groups}<p>Funnel of guests whose first order is at least "
        f"{numbers.count(conversion['window_days'])} days old:</p>{funnel}"
    )


def _cohorts(summary: Mapping[str, Any]) -> str:
    cohorts = summary["cohorts"]
    recent = dict(list(cohorts["sizes"].items())[-12:])
    sizes = _table(
        {k: {"n": v} for k, v in recent.items()},
        "cohort (month)",
        {"n": ("new buyers", numbers.count)},
    )
    partial = cohorts.get("partial_period")
    note = f" ({escape(str(partial))} is still running)" if partial else ""
    return (
        '<p class="todo">What to do: a month with fewer new buyers than the ones before points at '
        "acquisition (ads, offers) that month.</p>"
        f"{sizes}<p>{numbers.count(len(cohorts['sizes']))} cohorts in all{note}; every size is in "
        '<a href="summary.json">summary.json</a>.</p>'
    )


def _exports(summary: Mapping[str, Any]) -> str:
    items = "".join(
        f"<li>{escape(fmt)}: "
        + ", ".join(
            f'<a href="{escape(e["file"])}">{escape(seg)}</a> ({numbers.count(e["rows"])})'
            for seg, e in by_segment.items()
        )
        + "</li>"
        for fmt, by_segment in summary["exports"].items()
    )
    return f"<ul>{items}</ul>"


def _notebook_item(page: Mapping[str, Any]) -> str:
    """One page in the index's list; a notebook that did not finish says so, with the reason."""
    link = (
        f'<a href="{escape(page["html"])}">{escape(page["title"])}</a> '
        f"<small>({escape(page['notebook'])})</small>"
    )
    stopped = page.get("stopped")
    if not stopped:
        return f"<li>{link}</li>"
    return (
        f'<li class="incomplete">{link} <strong class="incomplete">incomplete</strong>: '
        f"{_code_spans(escape(str(stopped)))}</li>"
    )


def _demo_only_item(page: Mapping[str, Any]) -> str:
    """A page this store's report leaves out: it runs on the demo store only."""
    instead = _code_spans(escape(page.get("instead", "")))
    return (
        f"<li>{escape(page['title'])} <small>({escape(page['notebook'])})</small>: runs on the "
        f"demo store only, so this report leaves it out. {instead}</li>"
    )


def _code_spans(text: str) -> str:
    """Escaped ``text`` with its `backticked` code shown as code."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", text)


def index_page(summary: Mapping[str, Any]) -> str:
    """The report's front page: headline figures, charts, segments and reach, links to the rest."""
    head = summary["headline"]
    notebooks = "".join(_notebook_item(p) for p in summary.get("notebooks", []))
    notebooks += "".join(_demo_only_item(p) for p in summary.get("demo_only", []))
    segments = _segments_frame(summary)
    as_of = escape(summary["as_of"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>SeloraX store report, {as_of}</title><style>{_STYLE}</style></head>
<body>
<h1>SeloraX store report</h1>
<p class="meta">{escape(str(summary.get("store", "")))}, as of {as_of} (Asia/Dhaka days):
{numbers.count(summary["customers"])} customers, {numbers.count(summary["orders"])} orders,
{numbers.count(summary["buyers"])} customers with a valid order.
selorax-analytics {escape(summary["package_version"])}.</p>
<h2>At a glance</h2>
<p class="todo">What to do: compare the last 30 days with the 30 before; if revenue fell, start
with the At Risk and About to Sleep segments below.</p>
{_headline(head)}
<p><small>A valid order is one not cancelled, returned or failed, on or before {as_of}; the last
30 days end on {as_of}. Active customers ordered in the last {numbers.count(head["active_days"])}
days.</small></p>
<h2>Revenue by month</h2>
<p class="todo">What to do: look for the months that broke the trend and what you ran then; the
running month is not over, do not compare it yet.</p>
{revenue_chart(summary)}
<h2>RFM segments and who you can reach</h2>
<p class="todo">What to do: send each segment its own message through the channel that reaches
it; the files are under <a href="#exports">Segment exports</a>.</p>
{segment_chart(segments)}
{_segment_table(summary)}
<p><small>{_COUNTS_DIFFER}</small></p>
{_actions(summary)}
<h2>Notebooks</h2>
<p class="todo">What to do: open a page for the detail behind a figure above.</p>
<ul class="notebooks">{notebooks}</ul>
<h2>Guests and accounts</h2>{_guests(summary)}
<h2>Monthly cohorts, the last 12</h2>{_cohorts(summary)}
<h2 id="exports">Segment exports</h2>
<p class="todo">What to do: upload the meta and google files as custom audiences, send the sms
files through your SMS gateway, import the mailchimp files; row counts in brackets.</p>
{_exports(summary)}
</body></html>
"""
