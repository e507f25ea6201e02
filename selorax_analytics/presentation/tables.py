"""Result frames as people read them: one call, the same look in notebooks, report and CLI.

``sa.style(frame)`` returns a pandas ``Styler`` of any frame this package returns; the frame
itself stays numeric and unchanged. Each column is recognised by its name (the package's own
column names, see :mod:`selorax_analytics.presentation._table_rules`) or else by its dtype, and
written with :mod:`selorax_analytics.presentation.numbers`:

- money in summaries as whole taka (``৳ 1,493,572``); one order's amount and averages per order
  or per person with paisa (``৳ 3,628.81``);
- shares and rates as percentages (``12.5%``), counts with separators (``1,596``), ids and
  scores as plain digits;
- moments in Asia/Dhaka to the minute (``2025-07-17 12:51``), never UTC with milliseconds;
- a missing value as a blank cell, never ``nan``;
- cohort tables (:func:`~selorax_analytics.cohort_table`): cells after ``as_of`` (censored)
  blank, the running period that holds ``as_of`` marked ``*`` (and shaded), both said in the
  caption.
- a campaign report's ``groups`` and ``effects`` (:func:`~selorax_analytics.campaign_report`):
  each interval beside its value in one column (``+8.7 points (+5.2 to +12.2 points)``,
  ``৳ 191 to ৳ 637``), p-values as ``< 0.001``, the methods in the caption
  (:mod:`selorax_analytics.presentation._campaign_tables`).

Any frame can name its columns' kinds: ``sa.style(frame, money=["spend"], shares=["ctr"])``.

**Wide frames.** A page is 1280 px wide, which holds :data:`MAX_COLUMNS` columns. A frame with
more shows only its key columns (``key_columns=[...]``, or the known result's own: for
``rfm_segments`` ``user_id, recency_days, frequency, monetary, segment``) and its caption says
how many columns are hidden. Where the full frame is then found:

- When the environment variable ``SELORAX_REPORT_TABLES`` names a folder (the report sets it
  for the kernels it runs, to the ``tables/`` folder beside its pages), the whole frame, raw
  numbers at full precision, is written there as ``<name>.csv`` (replacing an earlier one) and
  the caption links to ``tables/<name>.csv``. ``name`` defaults to the known result's name
  (``rfm_segments``, ``cohorts_customers``, ...); pass ``name=`` to keep two tables apart.
- Without it, the caption says the hidden columns are in the frame that was styled.

The command line prints through :func:`text_table`, the same rules as plain text.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler
from pandas.io.formats.style_render import CSSDict

from selorax_analytics._files import write_file
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation import _campaign_tables, _risk_tables
from selorax_analytics.presentation import _table_rules as rules

#: Environment variable naming the folder where wide frames are written in full.
TABLES_ENV = "SELORAX_REPORT_TABLES"

#: Columns (index included) that fit a 1280 px page; a wider frame shows its key columns.
MAX_COLUMNS = 8

#: Appended to the running period's cells of a cohort table.
PARTIAL_MARK = "*"

_PARTIAL_CSS = "font-style: italic; background-color: #fdf3d8;"
_CAPTION_CSS = "caption-side: top; text-align: left; color: #555; font-size: 0.9em;"
_CELL_CSS = "padding: 2px 8px;"
_NUMBER_CSS = "text-align: right; font-variant-numeric: tabular-nums;"
_NUMERIC_KINDS = frozenset({"money", "money_precise", "share", "count", "number", "id"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass
class _Layout:
    """What is shown of a frame and how: the shared plan of :func:`style` and :func:`text_table`."""

    shown: pd.DataFrame
    formatters: dict[Any, rules.Formatter]
    index_formatter: rules.Formatter | None
    partial: list[tuple[int, Any]]
    numeric: list[Any] = field(default_factory=list)  # columns aligned right
    notes: list[tuple[str, str]] = field(default_factory=list)  # (text, html)


def style(
    frame: pd.DataFrame | pd.Series,
    *,
    name: str | None = None,
    key_columns: Sequence[Any] | None = None,
    money: Sequence[Any] = (),
    shares: Sequence[Any] = (),
    counts: Sequence[Any] = (),
    caption: str | None = None,
) -> Styler:
    """A result frame formatted for people: taka, percentages, separators, Dhaka times.

    Parameters
    ----------
    frame
        Any frame (a Series is shown as a one-column frame); the package's results (``rfm_segments``, ``segment_summary``,
        ``cohort_table``, ``guest_conversion``'s frames, ``customer_value``, customers and
        orders) are recognised by their columns. It is not changed.
    name
        File name (without ``.csv``) of the full frame when it is too wide and
        ``SELORAX_REPORT_TABLES`` is set; letters, digits, ``_``, ``-`` and ``.``. Defaults to
        the known result's name.
    key_columns
        Columns shown when the frame has more than :data:`MAX_COLUMNS`; defaults to the known
        result's key columns (else the first ones).
    money, shares, counts
        Columns to write as whole taka, percentages of a share, or counts, whatever their name.
    caption
        Text put before the caption's own notes.

    Returns
    -------
    Styler
        Display it (last expression of a cell) or call ``.to_html()``.

    Raises
    ------
    DataError
        A column named in ``key_columns``, ``money``, ``shares`` or ``counts`` that the frame
        lacks, or an unusable ``name``.

    Examples
    --------
    >>> sa.style(rfm.head(), name="rfm_top")  # doctest: +SKIP
    >>> sa.style(campaigns, money=["spend"], shares=["click_rate"])  # doctest: +SKIP
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"`sa.style` shows a DataFrame or a Series, got {type(frame).__name__}; "
            "pass a result frame such as `sa.segment_summary(rfm)`."
        )
    raw = frame
    frame = _campaign_tables.readable(frame)  # a campaign report's groups, effects
    frame = _risk_tables.readable(frame)  # delivery risk's people, areas
    if key_columns is not None:
        _check_columns(frame, key_columns, "key_columns")
    if name is not None:
        _file_stem(frame, name)  # a bad name is refused whether or not a file is written
    layout = _layout(frame, key_columns, {"money": money, "share": shares, "count": counts})
    if len(layout.shown.columns) < len(frame.columns):
        layout.notes.insert(0, _hidden_note(frame, layout.shown, name))
    if frame is not raw and "table" in frame.attrs:
        layout.notes.append(_condensed_note(raw, frame, name))
    if caption:
        layout.notes.insert(0, (caption, html.escape(caption)))
    styler = Styler(layout.shown, uuid=_uuid(layout, name), cell_ids=False)
    formats: dict[Any, str | Callable[[object], str] | None] = dict(layout.formatters)
    # Text from the store (names, notes) is escaped: a page never runs what a customer typed.
    styler.format(formats, escape="html")
    for row, column in layout.partial:
        cell = pd.IndexSlice[layout.shown.index[row : row + 1], [column]]
        styler.format(_marked(layout.formatters[column]), subset=cell, escape="html")
        styler.map(lambda _: _PARTIAL_CSS, subset=cell)
    if layout.index_formatter is None:
        styler.hide(axis="index")
    else:
        styler.format_index(layout.index_formatter, axis="index", escape="html")
    styler.format_index(axis="columns", escape="html")
    if layout.notes:
        styler.set_caption(" ".join(note for _, note in layout.notes))
    return _table_css(styler, layout.numeric)


def _table_css(styler: Styler, numeric: list[Any]) -> Styler:
    """Caption above on the left, numbers aligned right in their cells and headers."""
    styler.set_table_styles(
        [
            {"selector": "caption", "props": _CAPTION_CSS},
            {"selector": "td, th", "props": _CELL_CSS},
        ]
    )
    right: list[CSSDict] = [{"selector": s, "props": _NUMBER_CSS} for s in ("td", "th")]
    return styler.set_table_styles({c: right for c in numeric}, overwrite=False)


def text_table(
    frame: pd.DataFrame,
    *,
    money: Sequence[Any] = (),
    shares: Sequence[Any] = (),
    counts: Sequence[Any] = (),
) -> str:
    """A frame as aligned plain text with the rules of :func:`style`, every column shown.

    Cohort tables end with their legend (blank cells, the running period). The command line
    prints its tables through this; its ``--csv`` and ``--json`` keep the raw numbers.
    """
    if frame.empty:
        return "(no rows)"
    frame = _risk_tables.readable(_campaign_tables.readable(frame))
    layout = _layout(frame, list(frame.columns), {"money": money, "share": shares, "count": counts})
    shown = layout.shown
    cells = {
        str(column): [layout.formatters[column](v) for v in shown[column]]
        for column in shown.columns
    }
    for row, column in layout.partial:
        cells[str(column)][row] += PARTIAL_MARK
    text_frame = pd.DataFrame(cells, dtype="str")
    if layout.index_formatter is not None:
        label = str(shown.index.name or "")
        text_frame.insert(0, label, [layout.index_formatter(v) for v in shown.index])
    text = text_frame.to_string(index=False)
    return "\n".join([text, *(note for note, _ in layout.notes)])


# --- the plan ----------------------------------------------------------------------------------


def _layout(
    frame: pd.DataFrame, key_columns: Sequence[Any] | None, explicit: dict[str, Sequence[Any]]
) -> _Layout:
    for kind, columns in explicit.items():
        _check_columns(frame, columns, {"share": "shares", "count": "counts"}.get(kind, kind))
    kinds = rules.column_kinds(frame, explicit)
    shown = frame[_shown_columns(frame, key_columns)]
    formatters = {c: rules.FORMATTERS[kinds[c]] for c in shown.columns}
    layout = _Layout(shown, formatters, _index_formatter(frame.index), rules.partial_cells(shown))
    layout.numeric = [c for c in shown.columns if kinds[c] in _NUMERIC_KINDS]
    layout.numeric += [c for c in frame.attrs.get("align_right", ()) if c in shown.columns]
    layout.notes += [(note, html.escape(note)) for note in frame.attrs.get("notes", ())]
    if rules.is_cohort_table(frame):
        layout.notes.extend(_cohort_notes(frame, shown, layout.partial))
    return layout


def _shown_columns(frame: pd.DataFrame, key_columns: Sequence[Any] | None) -> list[Any]:
    columns = list(frame.columns)
    index_width = 0 if _index_formatter(frame.index) is None else 1
    if len(columns) + index_width <= MAX_COLUMNS:
        return columns
    if key_columns is not None:
        _check_columns(frame, key_columns, "key_columns")
        return list(key_columns)
    known = rules.known_result(frame)
    if known is not None:
        keys = [c for c in known.key_columns if c in frame.columns]
        if keys:
            return keys
    return columns[: MAX_COLUMNS - index_width]


def _check_columns(frame: pd.DataFrame, columns: Sequence[Any], argument: str) -> None:
    if isinstance(columns, str):
        raise DataError(f"`{argument}` is a list of column names, got the string {columns!r}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"`{argument}` names {missing!r}, which the frame lacks; its columns are "
            f"{[str(c) for c in frame.columns]!r}."
        )


def _index_formatter(index: pd.Index) -> rules.Formatter | None:
    """How the index reads, or ``None`` for a plain row number (hidden)."""
    if index.name is None and isinstance(index, pd.RangeIndex):
        return None
    if isinstance(index, pd.PeriodIndex):
        return rules.FORMATTERS["text"]
    name = index.name
    kind = rules.COLUMN_KINDS.get(name, "") if isinstance(name, str) else ""
    return rules.FORMATTERS[kind or rules.dtype_kind(index)]


def _marked(formatter: rules.Formatter) -> rules.Formatter:
    return lambda value: formatter(value) + PARTIAL_MARK


def _cohort_notes(
    frame: pd.DataFrame, shown: pd.DataFrame, partial: list[tuple[int, Any]]
) -> list[tuple[str, str]]:
    notes = []
    offsets = [c for c in shown.columns if c != "cohort_size"]
    if offsets and shown[offsets].isna().to_numpy().any():
        notes.append("Blank: periods the cohort has not reached by as_of (censored).")
    if partial:
        period, as_of = frame.attrs.get("partial_period"), frame.attrs.get("as_of")
        notes.append(
            f"{PARTIAL_MARK} running period {period}: partial, counted up to {as_of} only."
        )
    return [(note, html.escape(note)) for note in notes]


def _hidden_note(frame: pd.DataFrame, shown: pd.DataFrame, name: str | None) -> tuple[str, str]:
    hidden = [str(c) for c in frame.columns if c not in shown.columns]
    listed = ", ".join(hidden[:6]) + (", ..." if len(hidden) > 6 else "")
    text = (
        f"{len(shown.columns)} of {len(frame.columns)} columns shown to fit the page; "
        f"{len(hidden)} hidden ({listed})."
    )
    return _full_table(frame, text, _file_stem(frame, name))


def _condensed_note(raw: pd.DataFrame, shown: pd.DataFrame, name: str | None) -> tuple[str, str]:
    """Which of ``raw``'s columns a condensed text frame (risk) leaves out, and where they are."""
    hidden = [str(c) for c in _risk_tables.HIDDEN if c in raw.columns]
    text = f"Not shown, to fit the page: {', '.join(hidden)}."
    stem = name if name is not None else str(shown.attrs["table"])
    return _full_table(raw, text, _file_stem(raw, stem))


def _full_table(frame: pd.DataFrame, text: str, stem: str) -> tuple[str, str]:
    """``text`` and where the whole frame is: its CSV beside the report's page, or itself."""
    folder = os.environ.get(TABLES_ENV)
    if not folder:
        more = " The full table is the frame itself, every column still in it."
        return text + more, html.escape(text + more)
    flat = frame.reset_index() if frame.index.name is not None else frame
    write_file(Path(folder) / f"{stem}.csv", flat.to_csv(index=False).encode(), overwrite=True)
    link = f"tables/{stem}.csv"
    return (
        f"{text} The full table: {link}",
        f'{html.escape(text)} The full table: <a href="{link}">{link}</a>',
    )


def _file_stem(frame: pd.DataFrame, name: str | None) -> str:
    if name is None:
        known = rules.known_result(frame)
        name = known.name if known is not None else "table"
    if not _NAME.match(name) or ".." in name:
        raise DataError(
            f"`name` {name!r} is not a usable file name; use letters, digits, `_`, `-` and `.`, "
            "such as 'rfm_top'."
        )
    return name


def _uuid(layout: _Layout, name: str | None) -> str:
    """A stable id for the table's styles: the same table renders the same HTML every run."""
    shown = layout.shown
    key = repr((name, list(shown.columns), shown.shape, str(shown.index[:3]), layout.partial))
    return hashlib.sha1(key.encode()).hexdigest()[:10]
