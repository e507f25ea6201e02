"""The HTML report: the notebooks executed against a store, the segment exports and a summary.

``build_report("report")`` (or ``selorax-analytics report --out report``) writes::

    report/
      index.html                 the summary, with links to everything below
      01_quickstart.html ...     each notebook executed, as one self-contained page: its
                                 outputs without the code, under a header naming the store,
                                 the as-of day and the time it was made (Asia/Dhaka), with
                                 links to the index and the previous and next page
      summary.json               counts per segment, cohort sizes, guest conversion
      exports/<format>/          every segment in every export format, with manifests
      tables/<name>.csv          the full frame of each table too wide for its page
                                 (``sa.style`` writes it: SELORAX_REPORT_TABLES in the kernels)

``build_report("report.html", single_file=True)`` (``--single-file``) writes the index and every
page as one self-contained HTML file instead (see :mod:`selorax_analytics.report._single_file`);
the exports, tables and summary are not in it.

The notebooks keep their code for JupyterLab; only the pages hide it. A notebook whose cell
fails does not stop the report: its page shows the outputs as far as it ran, under a box saying
which code cell stopped it and why, with the traceback where it stopped; the other notebooks
run, the index marks that page incomplete, and :class:`IncompleteReportError` (a
:class:`~selorax_analytics.exceptions.ReportError`) is raised once everything is written. Their Markdown links to ``NN_topic.ipynb``
point at ``NN_topic.html`` in the report, or lose the link when the report does not hold
that page.

The store is the one :func:`selorax_analytics.connect` finds (the embedded demo store when
nothing is configured) or the ``client`` passed in; the kernels get its address and credential
through their environment, never through the notebooks. With no ``as_of`` the demo store is
reported on its own last day and a real store on today (Asia/Dhaka); see
:func:`selorax_analytics.connection.default_as_of`.

The folder: a new or empty folder is filled; a folder holding an earlier report (only the files
a report writes: ``index.html``, ``summary.json``, ``NN_topic.html`` pages, ``exports/``) gets
the new report, each file replaced whole; a folder holding anything else is refused, unless
``overwrite=True`` (``--overwrite``), and then only files of the report's own names are
replaced, nothing else is touched. No file is ever deleted, and one an earlier report wrote but
this one does not (a notebook since removed) stays. Every file is written atomically and
readable by its owner only (``0600``), as the exports are.

:func:`execute_notebooks` (``selorax-analytics notebooks``) re-executes the committed notebooks in
place on the demo store, on purpose, after a change that moves their numbers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from selorax_analytics._dates import iso_timestamp
from selorax_analytics._files import write_file
from selorax_analytics._version import __version__
from selorax_analytics.connection import (
    STORE_TIMEZONE,
    connect,
    default_as_of,
    demo_environment,
    is_demo_store,
)
from selorax_analytics.exceptions import IncompleteReportError, ReportError
from selorax_analytics.exports.segments import ExportFormat
from selorax_analytics.report import _notebooks, _summary
from selorax_analytics.report._folder import TABLES_FOLDER, check_folder, check_single_file
from selorax_analytics.report._pages import (
    PAGE_HEADER_STYLE,
    index_page,
    page_header,
    stopped_box,
)

if TYPE_CHECKING:
    from selorax_analytics.api.client import Client

#: The formats the report exports every segment in.
REPORT_EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    "csv",
    "xlsx",
    "sms",
    "meta",
    "google",
    "mailchimp",
)
NOTEBOOK_TIMEOUT = 600


def build_report(
    out_dir: str | os.PathLike[str] = "report",
    *,
    as_of: object = None,
    client: Client | None = None,
    progress: bool = True,
    notebooks: Sequence[str | os.PathLike[str]] | None = None,
    overwrite: bool = False,
    single_file: bool = False,
) -> Path:
    """Execute the notebooks against a store and write the HTML report, exports and summary.

    Parameters
    ----------
    out_dir
        Folder to write into: created if missing; an earlier report in it is replaced. A folder
        holding other files is refused unless ``overwrite``. With ``single_file``, the ``.html``
        file to write (refused when it exists, unless ``overwrite``).
    as_of
        Last day of the analysis (date string, date or Timestamp). Default: the demo store's own
        last day (2026-07-01), or today in Asia/Dhaka for a real store.
    client
        The store to report on; default :func:`selorax_analytics.connect` (the environment,
        else the embedded demo store).
    progress
        Show progress bars (loading, notebooks) on stderr.
    notebooks
        The notebooks to run; default every ``NN_topic.ipynb`` of the repository's
        ``notebooks/`` folder. Each needs a cell tagged ``parameters`` (``AS_OF`` is set after it).
    overwrite
        Write into a folder that holds files other than an earlier report's (files of the
        report's names are replaced, the others left); with ``single_file``, replace the file.
    single_file
        Write one self-contained HTML file holding the index and every page (images inside,
        links between pages as anchors), to send by e-mail or WhatsApp. The exports, full
        tables and ``summary.json`` are not in it: they are written by the folder form only.

    Returns
    -------
    Path
        ``out_dir/index.html``, or with ``single_file`` the file ``out_dir``.

    Raises
    ------
    OutputExistsError
        ``out_dir`` is a file, or a folder holding other files and ``overwrite`` is false
        (with ``single_file``: it exists and ``overwrite`` is false, or it is a folder).
    ReportError
        No notebook to run, or one without a ``parameters`` cell, or a bad ``as_of``. When
        notebooks failed, :class:`IncompleteReportError` after the whole report is written:
        one line per notebook that stopped (the notebook, the code cell, the error), then the
        path of the index (or the single file); ``.notebook``, ``.cell`` and ``.partial`` are
        the first such notebook's, ``.failures`` holds every line.
    SeloraxError
        The store could not be loaded (credentials, connection); see the message.

    Examples
    --------
    >>> build_report("report")  # doctest: +SKIP
    PosixPath('report/index.html')
    """
    out = Path(out_dir)
    paths = _notebooks.notebook_paths() if notebooks is None else [Path(p) for p in notebooks]
    given = None if as_of is None else _day(as_of)
    if single_file:
        check_single_file(out, overwrite=overwrite)
        return _single_file_report(
            out, as_of=given, client=client, progress=progress, notebooks=paths, overwrite=overwrite
        )
    check_folder(out, [p.stem for p in paths], overwrite=overwrite)
    client = client if client is not None else connect()
    demo = is_demo_store(client)
    day = given or default_as_of(client)
    paths, demo_pages = _for_store(paths, demo)
    out.mkdir(parents=True, exist_ok=True)
    secrets = [s for s in (client.credentials.token, client.credentials.client_secret) if s]
    about = _About(
        store="demo store (embedded sandbox)" if demo else client.base_url,
        as_of=day,
        generated=dt.datetime.now(ZoneInfo(STORE_TIMEZONE)).replace(microsecond=0),
    )
    # The store as the report found it: a notebook may write to a demo store (07 simulates a
    # campaign's response), so the summary and exports are taken before any notebook runs.
    summary = _summary_and_exports(client, out, day, progress=progress)
    with _kernel_store(client, demo) as store:
        env = _notebooks.kernel_environment(store, tables=out / TABLES_FOLDER)
        pages, stopped = _run_notebooks(paths, out, env, about, secrets, progress=progress)
    summary["generated_at"] = about.generated.isoformat()
    summary["notebooks"] = pages
    summary["demo_only"] = demo_pages
    summary["store"] = about.store
    text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False)
    _write_page(out / "summary.json", _notebooks.redact(text, secrets) + "\n")
    index = out / "index.html"
    _write_page(index, _notebooks.redact(index_page(summary), secrets))
    if stopped:
        raise _incomplete(stopped, index, secrets)
    return index


def _for_store(paths: list[Path], demo: bool) -> tuple[list[Path], list[dict[str, str]]]:
    """The notebooks to run for this store, and those left out as demo-store only."""
    if demo:
        return paths, []
    left: list[dict[str, str]] = []
    kept = []
    for path in paths:
        nb = _notebooks.read(path)
        instead = _notebooks.demo_only(nb)
        if instead is None:
            kept.append(path)
        else:
            title = _notebooks.title_of(nb, path.stem)
            left.append({"notebook": path.name, "title": title, "instead": instead})
    if not kept:
        raise ReportError(
            "Every notebook given runs on the demo store only, and this store is not the demo "
            "store; pass other notebooks, or report on the demo store (no SELORAX_* set)."
        )
    return kept, left


def _single_file_report(
    target: Path,
    *,
    as_of: str | None,
    client: Client | None,
    progress: bool,
    notebooks: Sequence[Path],
    overwrite: bool,
) -> Path:
    """The report built in a private temporary folder, written to ``target`` as one file."""
    from selorax_analytics.report._single_file import single_file_html

    incomplete: IncompleteReportError | None = None
    with tempfile.TemporaryDirectory(prefix="selorax-report-") as folder:
        try:
            index = build_report(
                Path(folder) / "report", as_of=as_of, client=client, progress=progress,
                notebooks=notebooks,
            )  # fmt: skip
        except IncompleteReportError as exc:  # written all the same: the file is too
            index, incomplete = exc.index, exc
        summary = json.loads((index.parent / "summary.json").read_text(encoding="utf-8"))
        title = f"SeloraX store report, {summary['as_of']}"
        html = single_file_html(index.parent, summary["notebooks"], title=title)
    write_file(target, html.encode("utf-8"), overwrite=overwrite)
    if incomplete is not None:
        raise IncompleteReportError(
            incomplete.failures,
            target,
            notebook=incomplete.notebook,
            cell=incomplete.cell,
            partial=incomplete.partial,
        ) from None
    return target


@dataclass(frozen=True)
class _About:
    """What every page's header names: the store, the as-of day, when the report was made."""

    store: str
    as_of: str
    generated: dt.datetime  # Asia/Dhaka, whole seconds


def _write_page(path: Path, text: str) -> None:
    """One file of the report, replaced whole (mode ``0600``, as the exports)."""
    write_file(path, text.encode("utf-8"), overwrite=True)


def _day(as_of: object) -> str:
    """The Asia/Dhaka calendar day of ``as_of`` (ISO 8601 text, date, datetime, Timestamp)."""
    from selorax_analytics.analytics._frames import TIMEZONE

    stamp = iso_timestamp(as_of, name="as_of", error=ReportError)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(TIMEZONE)
    return f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}"


@contextlib.contextmanager
def _kernel_store(client: Client, demo: bool) -> Iterator[dict[str, str]]:
    """The variables that point a notebook's ``sa.connect()`` at the client's store."""
    creds = client.credentials
    store = {"SELORAX_BASE_URL": client.base_url}
    if creds.token:
        store["SELORAX_TOKEN"] = creds.token
    else:
        store["SELORAX_CLIENT_ID"] = creds.client_id or ""
        store["SELORAX_CLIENT_SECRET"] = creds.client_secret or ""
        store["SELORAX_STORE_ID"] = str(creds.store_id or client.store_id or "")
    if not demo:
        yield store  # kernels share this process's cache (SELORAX_CACHE_DIR or the user cache)
        return
    with tempfile.TemporaryDirectory(prefix="selorax-report-cache-") as cache:
        yield {**store, "SELORAX_CACHE_DIR": cache}


def _run_notebooks(
    paths: Sequence[Path],
    out: Path,
    env: dict[str, str],
    about: _About,
    secrets: Sequence[str],
    *,
    progress: bool,
) -> tuple[list[dict[str, str]], list[_Stopped]]:
    """Run every notebook and write its page; the pages, and the notebooks that did not finish.

    A notebook whose cell fails does not stop the others: its page shows how far it ran, under
    a box saying where and why it stopped, and its entry in the pages gets ``stopped`` (one line).
    """
    from tqdm.auto import tqdm

    notebooks = [_notebooks.read(path) for path in paths]
    pages = [
        {
            "notebook": path.name,
            "title": _notebooks.title_of(nb, path.stem),
            "html": f"{path.stem}.html",
        }
        for path, nb in zip(paths, notebooks, strict=True)
    ]
    stems = {path.stem for path in paths}
    stopped: list[_Stopped] = []
    bar = tqdm(
        range(len(paths)), desc="notebooks", unit="notebook", disable=not progress, file=sys.stderr
    )
    for i in bar:
        bar.set_postfix_str(paths[i].name)
        export_dir = str((out / "exports" / paths[i].stem).resolve())
        nb = _notebooks.with_parameters(
            notebooks[i], {"AS_OF": about.as_of, "EXPORT_DIR": export_dir}
        )
        header = page_header(
            store=about.store,
            as_of=about.as_of,
            generated=about.generated.strftime("%Y-%m-%d %H:%M:%S"),
            previous=pages[i - 1] if i > 0 else None,
            following=pages[i + 1] if i + 1 < len(pages) else None,
        )
        failure = _notebooks.run(nb, name=paths[i].name, cwd=paths[i].parent, env=env)
        if failure is not None:
            stopped.append(_Stopped(failure, nb, out / pages[i]["html"]))
            pages[i]["stopped"] = _notebooks.redact(failure.stopped, secrets)
            header += stopped_box(
                number=failure.number, first_line=failure.first_line, reason=failure.reason
            )
            nb = _as_far_as_it_ran(nb, failure)
        page = _html(nb, pages[i]["title"], header, secrets, stems)
        _write_page(out / pages[i]["html"], page)
    return pages, stopped


@dataclass(frozen=True)
class _Stopped:
    """A notebook that did not finish: where and why, the notebook as executed, its page."""

    failure: _notebooks.CellFailure
    partial: Any
    page: Path


def _as_far_as_it_ran(nb: Any, failure: _notebooks.CellFailure) -> Any:
    """A copy of ``nb`` without the cells after the one that failed (they never ran)."""
    if failure.position < 0:
        return nb
    shown = nb.copy()
    shown.cells = nb.cells[: failure.position + 1]
    return shown


def _incomplete(stopped: Sequence[_Stopped], index: Path, secrets: Sequence[str]) -> ReportError:
    first = stopped[0]
    return IncompleteReportError(
        [_notebooks.redact(s.failure.message, secrets) for s in stopped],
        index,
        notebook=first.failure.notebook,
        cell=first.failure.cell,
        partial=first.partial,
    )


def _html(
    nb: Any,
    title: str,
    header: str,
    secrets: Sequence[str],
    stems: Collection[str],
) -> str:
    """One notebook page: the header, the outputs, links to other notebooks as page links."""
    html = _notebooks.to_html(
        _notebooks.link_pages(nb, stems), title=title, header=header, css=PAGE_HEADER_STYLE
    )
    return _notebooks.redact(html, secrets)


def _summary_and_exports(client: Client, out: Path, as_of: str, *, progress: bool) -> dict:
    """Load the store in this process, export every segment, and sum up what the report shows."""
    from selorax_analytics.analytics.rfm import rfm_segments
    from selorax_analytics.loading.loaders import load_history, load_store

    customers, orders = load_store(client, progress=progress)
    rfm = rfm_segments(orders, as_of=as_of)
    summary = _summary.store_summary(
        customers, orders, rfm, as_of=as_of, history=load_history(client)
    )
    summary["package_version"] = __version__
    summary["exports"] = _exports(rfm, customers, out)
    return summary


def _exports(
    rfm: pd.DataFrame, customers: pd.DataFrame, out: Path
) -> dict[str, dict[str, dict[str, object]]]:
    """Every segment in every report format: ``{format: {segment: {file, rows, skipped}}}``."""
    from selorax_analytics.exports.segments import export_segments

    exports: dict[str, dict[str, dict[str, object]]] = {}
    for fmt in REPORT_EXPORT_FORMATS:
        results = export_segments(
            rfm, out / "exports" / fmt, customers=customers, format=fmt, overwrite=True
        )
        exports[fmt] = {
            segment: {
                "file": result.path.relative_to(out).as_posix(),
                "rows": result.rows,
                "skipped": len(result.skipped),
            }
            for segment, result in results.items()
        }
    return exports


# -- re-executing the committed notebooks ------------------------------------------------------
def execute_notebooks(
    notebooks: Sequence[str | os.PathLike[str]] | None = None, *, progress: bool = True
) -> list[Path]:
    """Re-execute the committed notebooks in place on a fresh demo store, as nbval checks them.

    The outputs then show the demo store on the notebooks' own ``AS_OF``; commit them when
    the change in numbers is intended.
    """
    from tqdm.auto import tqdm

    paths = _notebooks.notebook_paths() if notebooks is None else [Path(p) for p in notebooks]
    with demo_environment() as store:
        env = _notebooks.kernel_environment(store)
        for path in tqdm(paths, desc="notebooks", unit="notebook", disable=not progress):
            nb = _notebooks.read(path)
            _notebooks.execute(nb, name=path.name, cwd=path.parent, env=env)
            _notebooks.write(_notebooks.strip_run_details(nb), path)
    return paths
