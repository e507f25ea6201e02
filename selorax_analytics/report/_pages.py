"""The report's pages: the index (built in :mod:`._index`) and the header of every notebook page."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from selorax_analytics.report._index import index_page

__all__ = ["PAGE_HEADER_STYLE", "index_page", "page_header", "stopped_box"]

#: The style of the header on every notebook page (a ``<style>`` element for the page's head).
PAGE_HEADER_STYLE = """<style>
.sx-report-header { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
  border-bottom: 1px solid #e4e7eb; padding: 0.6rem 1rem; margin-bottom: 1rem; color: #1f2933; }
.sx-report-header p { margin: 0.2rem 0; }
.sx-report-header .meta { color: #52606d; font-size: 0.92rem; }
.sx-report-header nav a { margin-right: 1.2rem; }
.sx-stopped { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933;
  background: #fff4e5; border-left: 4px solid #c05621; padding: 0.6rem 1rem; margin: 0 1rem 1rem; }
.sx-stopped p { margin: 0.2rem 0; }
.sx-stopped code { background: #fde8cd; padding: 0 0.2rem; overflow-wrap: anywhere; }
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


def stopped_box(*, number: int | str, first_line: str, reason: str) -> str:
    """The box at the top of the page of a notebook that did not finish: where and why, plainly.

    ``number`` is the code cell as Jupyter counts them, ``first_line`` the first line of its
    code and ``reason`` the error's message; the traceback stays below, where the cell stopped.
    """
    return (
        '<div class="sx-stopped" role="alert">'
        f"<p><strong>This page stopped at code cell {escape(str(number))}</strong>, "
        f"<code>{escape(first_line)}</code>: {escape(reason)}</p>"
        "<p>The outputs below go as far as the notebook ran. The error's details, for whoever "
        "maintains the notebook, are at the end of the page.</p></div>"
    )
