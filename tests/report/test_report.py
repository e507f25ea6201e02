"""The HTML report against the session sandbox: pages, exports, summary, failures, secrets."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import stat
from html import unescape
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.cli import main
from selorax_analytics.exceptions import OutputExistsError, ReportError
from selorax_analytics.report._folder import check_folder
from selorax_analytics.report.build import REPORT_EXPORT_FORMATS, _notebooks, build_report
from selorax_analytics.sandbox import DEMO_AS_OF, DEMO_TOKEN
from tests.report._report_helpers import QUICKSTART, QUICKSTART_ANCHOR, write_notebook

# ``report_run`` and ``built`` (the folder report of the quickstart and a small second page)
# are in conftest.py, shared with the single-file and browser tests; so is ``demo_db``, the
# demo store in SQLite that the index's tests also count against.


@pytest.fixture(scope="module")
def summary(built):
    return json.loads((built.parent / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def first_orders(demo_db):
    """Each buyer's first valid order day (Asia/Dhaka), computed in SQLite."""
    rows = demo_db.execute(
        "SELECT user_id, MIN(day) FROM v WHERE day <= ? GROUP BY user_id", (DEMO_AS_OF,)
    ).fetchall()
    return dict(rows)


def test_report_returns_the_index_with_links_to_every_page(built):
    assert built.name == "index.html"
    html = built.read_text(encoding="utf-8")
    assert 'href="01_quickstart.html"' in html
    assert "Quickstart: what the store looks like" in html
    assert (built.parent / "01_quickstart.html").exists()


def test_pages_are_self_contained_with_embedded_plots(built):
    for page in built.parent.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=", html), page.name
        assert not re.search(r"""(src|href)=["']https?://""", html), page.name
        assert not re.search(r"import\(\s*[\"']https?://", html), page.name
    quickstart = (built.parent / "01_quickstart.html").read_text(encoding="utf-8")
    assert quickstart.count('src="data:image/png;base64,') >= 1
    assert "(5065, 7020)" in quickstart  # the executed output, not just the code


#: What nbconvert puts around a code cell's input and its ``In``/``Out`` prompts.
CODE_INPUT = re.compile(
    r'class="[^"]*\b(jp-InputArea-editor|jp-InputPrompt|jp-OutputPrompt|highlight)\b'
)


def _pages(built: Path) -> dict[str, str]:
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(built.parent.glob("[0-9][0-9]_*.html"))
    }


def test_pages_show_outputs_without_any_code(built):
    pages = _pages(built)
    assert sorted(pages) == ["01_quickstart.html", "02_next.html"]
    for name, html in pages.items():
        assert not CODE_INPUT.search(html), name
        assert "Set by the report" not in html, name  # the injected parameters cell
        assert "import selorax_analytics" not in html and "sa.connect(" not in html, name
    assert "the second page 2026-07-01" in pages["02_next.html"]  # its output stays
    # the notebooks themselves keep their code
    assert "sa.connect(" in QUICKSTART.read_text(encoding="utf-8")


def test_every_page_has_a_header_with_store_as_of_time_and_neighbours(report_run):
    built, before, after = report_run
    pages = _pages(built)
    for html in pages.values():
        header = re.search(r'<header class="sx-report-header">(.*?)</header>', html, re.S)
        assert header, "no header"
        text = header.group(1)
        assert (
            "demo store (embedded sandbox)" in text and "as of <strong>2026-07-01</strong>" in text
        )
        stamp = re.search(r"generated (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \(Asia/Dhaka\)", text)
        assert stamp, text
        assert before <= pd.Timestamp(stamp.group(1), tz="Asia/Dhaka") <= after
        assert 'href="index.html"' in text
    quickstart, second = pages["01_quickstart.html"], pages["02_next.html"]
    assert 'href="02_next.html" rel="next">A small notebook' in quickstart
    assert 'rel="prev"' not in quickstart
    assert 'href="01_quickstart.html" rel="prev">← Quickstart' in second
    assert 'rel="next"' not in second
    summary = json.loads((built.parent / "summary.json").read_text(encoding="utf-8"))
    assert summary["generated_at"] == pd.Timestamp(stamp.group(1), tz="Asia/Dhaka").isoformat()


def test_links_between_pages_point_at_pages_and_every_link_resolves(built):
    pages = _pages(built)
    # the notebook's link to 01_quickstart.ipynb now points at the page, anchor kept
    assert f'href="01_quickstart.html#{QUICKSTART_ANCHOR}"' in pages["02_next.html"]
    assert f'id="{QUICKSTART_ANCHOR}"' in pages["01_quickstart.html"]  # and the anchor is there
    # the quickstart's "Next:" links to notebooks this report does not hold keep only their text
    assert "RFM segments" in pages["01_quickstart.html"]
    for html in [*pages.values(), built.read_text(encoding="utf-8")]:
        assert ".ipynb" not in "".join(re.findall(r'href="([^"]*)"', html))
    for page in [built, *(built.parent / name for name in pages)]:
        hrefs = re.findall(r'href="([^"]*)"', page.read_text(encoding="utf-8"))
        assert hrefs, page.name
        for href in hrefs:
            if href.startswith(("#", "data:")):
                continue
            assert "://" not in href, (page.name, href)
            target = (built.parent / href.split("#")[0]).resolve()
            assert target.is_file() and built.parent.resolve() in target.parents, (page.name, href)


def test_summary_counts_agree_with_sql(summary, first_orders, demo_frames):
    customers, orders = demo_frames
    assert summary["as_of"] == DEMO_AS_OF  # the demo store's own day by default
    assert summary["customers"] == len(customers) and summary["orders"] == len(orders)
    assert summary["buyers"] == len(first_orders)
    assert sum(s["customers"] for s in summary["segments"].values()) == len(first_orders)
    months = pd.Series(list(first_orders.values())).str[:7].value_counts().sort_index()
    assert summary["cohorts"]["sizes"] == {k: int(v) for k, v in months.items()}
    assert summary["cohorts"]["partial_period"] == "2026-07"


def test_summary_segments_and_guests_match_the_public_functions(summary, demo_frames):
    customers, orders = demo_frames
    rfm = sa.rfm_segments(orders, as_of=DEMO_AS_OF)
    counts = rfm["segment"].value_counts()
    assert {k: v["customers"] for k, v in summary["segments"].items()} == {
        str(k): int(counts.get(k, 0)) for k in rfm["segment"].cat.categories
    }
    groups = sa.guest_conversion(customers, orders, as_of=DEMO_AS_OF).groups
    assert {k: v["customers"] for k, v in summary["guest_conversion"]["groups"].items()} == dict(
        zip(groups["group"], groups["customers"].astype(int), strict=True)
    )
    funnel = summary["guest_conversion"]["funnel"]
    assert list(funnel) == ["first guest order", "second order", "account"]
    assert funnel["first guest order"]["customers"] >= funnel["second order"]["customers"]


def test_every_segment_is_exported_in_every_format(built, summary):
    assert list(summary["exports"]) == list(REPORT_EXPORT_FORMATS)
    for fmt, by_segment in summary["exports"].items():
        assert set(by_segment) == {s for s, v in summary["segments"].items() if v["customers"]}
        for segment, export in by_segment.items():
            path = built.parent / export["file"]
            assert path.exists() and Path(f"{path}.manifest.json").exists()
            if fmt != "xlsx":
                with open(path, newline="", encoding="utf-8") as f:
                    assert sum(1 for _ in csv.reader(f)) - 1 == export["rows"], (fmt, segment)
    assert 'href="exports/sms/champions.sms.csv"' in built.read_text(encoding="utf-8")


def test_no_secret_in_any_output(built):
    for path in built.parent.rglob("*"):
        if path.is_file():
            assert DEMO_TOKEN.encode() not in path.read_bytes(), path


_notebook = write_notebook


# --- a notebook that cannot finish: the report is written all the same -------------------------

#: The second notebook's error: the package's own kind, its message naming the store's token.
STOPPING_CELL = (
    "raise DataError('Too few repeat buyers for ' + os.environ['SELORAX_TOKEN'] + "
    "'. Use a longer history.')"
)


def _three_notebooks(folder: Path) -> list[Path]:
    """01 and 03 finish; 02 stops at its code cell 4 (the file's cell 4) with a DataError."""
    folder.mkdir()
    first = _notebook(folder, "01_first.ipynb", "print('first page done', AS_OF)")
    second = _notebook(
        folder,
        "02_second.ipynb",
        "import os\nfrom selorax_analytics.exceptions import DataError",
        "print('second page began')",
        STOPPING_CELL,
        "print('second page never got here')",
    )
    nb = nbformat.read(second, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A note after the stop, never reached."))
    nbformat.write(nb, second)
    third = _notebook(folder, "03_third.ipynb", "print('third page done')")
    return [first, second, third]


@pytest.fixture(scope="module")
def stopped_report(sandbox_factory, tmp_path_factory):
    """A folder report of three notebooks on a small store where the second one stops."""
    home = tmp_path_factory.mktemp("stopped")
    paths = _three_notebooks(home / "notebooks")
    server = sandbox_factory(customers=300)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SELORAX_CACHE_DIR", str(home / "cache"))
        client = sa.Client(server.base_url, token=DEMO_TOKEN)
        with client, pytest.raises(ReportError) as info:
            build_report(home / "site", client=client, progress=False, notebooks=paths)
    return home, info.value


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_notebook_that_stops_leaves_the_other_pages_and_the_index_written(stopped_report):
    home, _ = stopped_report
    site = home / "site"
    for name, done in (("01_first.html", "first page done"), ("03_third.html", "third page done")):
        page = (site / name).read_text(encoding="utf-8")
        assert done in _text(page) and 'class="sx-stopped"' not in page, name
    summary = json.loads((site / "summary.json").read_text(encoding="utf-8"))
    assert [p.get("stopped") is None for p in summary["notebooks"]] == [True, False, True]
    index = (site / "index.html").read_text(encoding="utf-8")
    items = re.findall(r"<li[^>]*>.*?</li>", index.split('class="notebooks"')[1])[:3]
    assert ["incomplete" in item for item in items] == [False, True, False]
    # the one-line reason, as the page's box gives it (the package's own error: its message)
    assert (
        "incomplete : stopped at code cell 4, raise DataError('Too few repeat buyers for ' + "
        "os.environ['SELORAX_TOKEN'] + '. Use a longer history.') : Too few repeat buyers for "
        "sx_at_...3a9c. Use a longer history."
    ) in _text(items[1])


def test_the_stopped_page_says_where_and_why_at_its_top_and_keeps_the_traceback(stopped_report):
    home, _ = stopped_report
    page = (home / "site" / "02_second.html").read_text(encoding="utf-8")
    text = _text(page)
    box = _text(re.search(r'<div class="sx-stopped".*?</div>', page, flags=re.S).group(0))
    assert box.startswith(
        f"This page stopped at code cell 4 , {STOPPING_CELL} : Too few repeat buyers for "
        "sx_at_...3a9c. Use a longer history."
    )
    # the box comes right after the header, before any output of the notebook
    assert page.index("sx-stopped") < page.index("second page began")
    assert "Traceback (most recent call last)" in text  # for whoever maintains the notebook
    assert text.index("second page began") < text.rindex("DataError")  # where it stopped
    assert "never got here" not in text and "never reached" not in text  # as far as it ran
    assert not CODE_INPUT.search(page)  # the code stays hidden, as on every page


def test_the_report_error_names_only_the_notebook_that_stopped(stopped_report):
    home, error = stopped_report
    lines = str(error).splitlines()
    assert lines[0] == (
        f"02_second.ipynb failed at code cell 4, `{STOPPING_CELL}`: DataError: Too few repeat "
        "buyers for sx_at_...3a9c. Use a longer history."
    )
    assert len(lines) == 2 and lines[1].endswith(f": {home / 'site' / 'index.html'}")
    assert "01_first" not in str(error) and "03_third" not in str(error)
    assert (error.notebook, error.cell) == (
        "02_second.ipynb",
        4,
    )  # after heading, parameters, 2 cells
    assert error.failures == (lines[0],) and error.index == home / "site" / "index.html"


def test_no_secret_reaches_a_stopped_page_its_box_or_the_error(stopped_report):
    home, error = stopped_report
    assert DEMO_TOKEN not in str(error) and "sx_at_...3a9c" in str(error)
    for path in (home / "site").rglob("*"):
        if path.is_file():
            assert DEMO_TOKEN.encode() not in path.read_bytes(), path


def test_the_command_writes_the_report_then_names_each_stopped_notebook(
    sandbox_factory, tmp_path, monkeypatch, capsys
):
    paths = _three_notebooks(tmp_path / "notebooks")
    server = sandbox_factory(customers=300)
    for name in [n for n in os.environ if n.startswith("SELORAX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SELORAX_BASE_URL", server.base_url)
    monkeypatch.setenv("SELORAX_TOKEN", DEMO_TOKEN)
    monkeypatch.setenv("SELORAX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_notebooks, "NOTEBOOK_DIR", paths[0].parent)
    out = tmp_path / "sent" / "report.html"
    assert main(["report", "--single-file", "--out", str(out), "--no-progress"]) == 1
    printed = capsys.readouterr()
    assert printed.err.splitlines() == [
        f"error: 02_second.ipynb failed at code cell 4, `{STOPPING_CELL}`: DataError: Too few "
        "repeat buyers for sx_at_...3a9c. Use a longer history."
    ]
    assert re.fullmatch(
        rf"{re.escape(str(out))} \(\d+ KB, 1 of 3 pages incomplete, one file with every page: "
        r"send it as it is\)\n",
        printed.out,
    )
    html = out.read_text(encoding="utf-8")  # written whole, the stopped page in it
    assert "third page done" in html and "This page stopped at code cell 4" in _text(html)
    assert DEMO_TOKEN not in html


def test_a_notebook_without_parameters_is_refused(sandbox, tmp_path):
    plain = _notebook(tmp_path, "plain.ipynb", "1 + 1", parameters=False)
    client = sa.Client(sandbox.base_url, token=DEMO_TOKEN)
    with pytest.raises(ReportError, match="no cell tagged 'parameters'"):
        build_report(tmp_path / "out", client=client, progress=False, notebooks=[plain])
    client.close()


def test_a_bad_as_of_is_refused_before_anything_runs(sandbox, tmp_path):
    client = sa.Client(sandbox.base_url, token=DEMO_TOKEN)
    for bad in ("soon", "01/07/2026", "", "2026-7-1"):
        with pytest.raises(
            ReportError, match=r"`as_of` is not a date: .* Pass an ISO 8601 date such as 2026-07-01"
        ):
            build_report(tmp_path / "out", as_of=bad, client=client, notebooks=[QUICKSTART])
    client.close()
    assert not (tmp_path / "out").exists()


def test_parameters_are_injected_only_where_the_notebook_declares_them():
    nb = nbformat.read(QUICKSTART, as_version=4)
    injected = _notebooks.with_parameters(nb, {"AS_OF": "2025-01-31", "EXPORT_DIR": "/x"})
    assert len(injected.cells) == len(nb.cells) + 1
    cell = next(c for c in injected.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert cell.source == "# Set by the report\nAS_OF = '2025-01-31'"
    assert len(nb.cells) == len(injected.cells) - 1  # the input is left alone


def test_secrets_are_masked():
    text = "token sx_at_demo22fullaccess7f3a9c and secret sx_secret_demo22b51e08"
    masked = _notebooks.redact(text, [DEMO_TOKEN, "sx_secret_demo22b51e08"])
    assert masked == "token sx_at_...3a9c and secret sx_secret_...1e08"


def test_the_report_command_refuses_a_bad_as_of_in_one_line(capsys, tmp_path):
    out = tmp_path / "r"
    assert main(["report", "--out", str(out), "--as-of", "soon", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("selorax-analytics report: error: argument --as-of: ")
    assert "'soon'" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_kernels_run_on_this_python_whatever_kernelspec_is_installed(tmp_path, monkeypatch):
    """A ``python3`` kernelspec elsewhere on the Jupyter path does not take the report away."""
    import sys

    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    "/nonexistent/python",
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "elsewhere",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.read(_notebook(tmp_path, "where.ipynb", "import sys\nsys.executable"), 4)
    _notebooks.execute(nb, name="where.ipynb", cwd=tmp_path, env=dict(os.environ))
    assert nb.cells[-1].outputs[0]["data"]["text/plain"] == repr(sys.executable)


# --- how the report's files are written --------------------------------------------------------


def test_every_report_file_is_owner_only(built):
    files = [p for p in built.parent.rglob("*") if p.is_file()]
    assert len(files) > 20  # pages, summary, every export and manifest
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o600 for p in files}
    assert not [p for p in files if p.name.endswith(".tmp")]


def test_a_folder_holding_other_files_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes", encoding="utf-8")
    (out / "index.html").write_text("my page", encoding="utf-8")
    with pytest.raises(OutputExistsError) as info:
        build_report(out, progress=False, notebooks=[QUICKSTART])  # no store is asked
    assert "notes.txt" in str(info.value) and "--overwrite" in str(info.value)
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "notes.txt"]
    assert (out / "index.html").read_text(encoding="utf-8") == "my page"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="is a file"):
        build_report(tmp_path / "file", overwrite=True, progress=False, notebooks=[QUICKSTART])
    assert main(["report", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "notes.txt" in err


def test_an_earlier_report_is_replaced_and_an_interrupted_write_leaves_it_whole(
    tmp_path, monkeypatch
):
    from selorax_analytics import _files
    from selorax_analytics.sandbox import Sandbox

    tiny = _notebook(tmp_path, "01_tiny.ipynb", "print(AS_OF)")
    out = tmp_path / "site"
    (out / "exports").mkdir(parents=True)
    earlier = {"index.html": b"<p>earlier index</p>", "summary.json": b"{}", "01_tiny.html": b"old"}
    for name, content in earlier.items():
        (out / name).write_bytes(content)
    move = _files._move_into_place

    def killed_at_the_index(tmp, target, *, overwrite):
        if target.name == "index.html":
            raise KeyboardInterrupt  # the index is in its temporary file, not yet moved
        move(tmp, target, overwrite=overwrite)

    monkeypatch.setattr(_files, "_move_into_place", killed_at_the_index)
    with (
        Sandbox(customers=300) as url,
        sa.Client(url, token=DEMO_TOKEN) as client,
        pytest.raises(KeyboardInterrupt),  # an earlier report: no overwrite needed
    ):
        build_report(out, as_of="2026-06-02", client=client, progress=False, notebooks=[tiny])
    now = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert sorted(now) == sorted(earlier) and not list(out.rglob("*.tmp"))  # none left behind
    assert now["index.html"] == earlier["index.html"]  # the earlier index, whole
    assert json.loads(now["summary.json"])["as_of"] == "2026-06-02"  # written before the index
    assert b"2026-06-02" in now["01_tiny.html"]
    assert all(
        stat.S_IMODE((out / n).stat().st_mode) == 0o600 for n in ("summary.json", "01_tiny.html")
    )


def test_what_counts_as_an_earlier_report(tmp_path):
    out = tmp_path / "report"
    check_folder(out, ["01_quickstart"], overwrite=False)  # missing: made
    (out / "exports" / "csv").mkdir(parents=True)
    for name in ("index.html", "summary.json", "01_quickstart.html", "05_old.html", "broken.html",
                 ".index.html.k2j3.tmp"):  # fmt: skip
        (out / name).write_text("x", encoding="utf-8")
    check_folder(out, ["broken"], overwrite=False)
    for foreign in ("notes.txt", "other.html", "summary.json.bak"):
        (out / foreign).write_text("x", encoding="utf-8")
        with pytest.raises(OutputExistsError, match=re.escape(foreign)):
            check_folder(out, ["broken"], overwrite=False)
        check_folder(out, ["broken"], overwrite=True)
        (out / foreign).unlink()
    (out / "exports").rename(out / "moved")
    (out / "exports").write_text("a file where the exports folder goes", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="exports"):
        check_folder(out, [], overwrite=False)


def test_a_frame_too_wide_for_the_page_is_written_whole_to_tables_and_linked(built):
    # 02_next styles a frame of 30 columns, 3 rows, column i holding i * 1000.5
    table = built.parent / "tables" / "wide.csv"
    assert stat.S_IMODE(table.stat().st_mode) == 0o600
    frame = pd.read_csv(table)
    assert frame.shape == (3, 30)
    assert frame["column_29_with_a_long_name"].tolist() == [29014.5] * 3
    assert 'href="tables/wide.csv"' in _pages(built)["02_next.html"]


def test_pages_let_a_wide_table_scroll_inside_its_own_box(built):
    for name, html in _pages(built).items():
        rule = re.search(r"\.jp-RenderedHTMLCommon table \{([^}]*)\}", html)
        assert rule and "overflow-x: auto" in rule.group(1), name  # the browser test sees it work


def test_the_tables_folder_is_part_of_an_earlier_report(tmp_path):
    out = tmp_path / "report"
    (out / "tables").mkdir(parents=True)
    (out / "index.html").write_text("x", encoding="utf-8")
    for name in ("rfm_segments.csv", "wide.csv", ".wide.csv.k2j3.tmp"):
        (out / "tables" / name).write_text("a\n1\n", encoding="utf-8")
    check_folder(out, [], overwrite=False)  # an earlier report's tables/ is its own
    (out / "tables" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError, match=r"\(tables\)"):
        check_folder(out, [], overwrite=False)  # a tables/ of someone else's files is not
    (out / "tables").rename(tmp_path / "theirs")
    (out / "tables").symlink_to(tmp_path / "theirs")
    with pytest.raises(OutputExistsError, match=r"\(tables"):
        check_folder(out, [], overwrite=False)
    (out / "tables").unlink()
    (out / "tables").write_text("a file where the tables folder goes", encoding="utf-8")
    with pytest.raises(OutputExistsError, match=r"\(tables\)"):
        check_folder(out, [], overwrite=False)
    check_folder(out, [], overwrite=True)


def test_kernels_get_the_tables_folder_from_the_report_only(tmp_path, monkeypatch):
    monkeypatch.setenv("SELORAX_REPORT_TABLES", "/somewhere/else")
    env = _notebooks.kernel_environment({"SELORAX_TOKEN": "t"}, tables=tmp_path / "r" / "tables")
    assert env["SELORAX_REPORT_TABLES"] == str(tmp_path / "r" / "tables")
    assert "SELORAX_REPORT_TABLES" not in _notebooks.kernel_environment({"SELORAX_TOKEN": "t"})


# --- selorax-analytics notebooks: re-executing the committed notebooks -------------------------


def test_the_notebooks_command_re_executes_in_place_on_a_fresh_demo_store(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    path = _notebook(
        folder,
        "01_store.ipynb",
        "import selorax_analytics as sa\nclient = sa.connect()",
        "client.get_store()['store_id'], client.credentials.token == 'sx_at_demo22fullaccess7f3a9c'",
    )
    (folder / "notes.ipynb").write_text("not a numbered notebook", encoding="utf-8")
    monkeypatch.setattr(_notebooks, "NOTEBOOK_DIR", folder)
    monkeypatch.setenv("SELORAX_TOKEN", "sx_at_a_real_store_never_used_here")

    assert main(["notebooks", "--no-progress"]) == 0
    assert capsys.readouterr().out == f"executed {path}\n"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]
    assert code[-1].outputs[0]["data"]["text/plain"] == "(22, True)"
    assert all("execution" not in c.metadata for c in nb.cells)  # run details stripped
    assert (folder / "notes.ipynb").read_text(encoding="utf-8") == "not a numbered notebook"


def test_the_notebooks_command_without_notebooks_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_notebooks, "NOTEBOOK_DIR", tmp_path)
    assert main(["notebooks", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: No notebooks (NN_topic.ipynb) in ") and err.count("\n") == 1


def test_the_notebooks_command_takes_none_of_the_report_s_options(capsys):
    assert main(["notebooks", "--out", "report"]) == 2
    err = capsys.readouterr().err
    # "report" is taken for a notebook path, and refused as one, before --out is named.
    assert "'report' is not a notebook file" in err and len(err.splitlines()) == 1
    assert main(["notebooks", "--as-of", "2026-07-01"]) == 2
    err = capsys.readouterr().err
    assert "'2026-07-01' is not a notebook file" in err and len(err.splitlines()) == 1


def test_the_notebooks_command_re_executes_only_the_notebooks_named(tmp_path, capsys):
    first = write_notebook(tmp_path, "01_a.ipynb", "import selorax_analytics as sa", "1 + 1")
    second = write_notebook(tmp_path, "02_b.ipynb", "import selorax_analytics as sa", "2 + 2")
    untouched = second.read_bytes()

    assert main(["notebooks", "--no-progress", str(first)]) == 0
    assert capsys.readouterr().out == f"executed {first}\n"
    code = [c for c in nbformat.read(first, as_version=4).cells if c.cell_type == "code"]
    assert code[-1].outputs[0]["data"]["text/plain"] == "2"
    assert second.read_bytes() == untouched


def test_the_notebooks_command_refuses_a_path_that_is_not_a_notebook_in_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    for bad in (str(tmp_path / "notes.txt"), str(tmp_path / "missing.ipynb")):
        assert main(["notebooks", bad]) == 2
        err = capsys.readouterr().err
        assert "is not a notebook file" in err and len(err.splitlines()) == 1


def _store_orders(server) -> tuple[int, int]:
    """The store's order count and one of its customers, read from the sandbox's database."""
    with sqlite3.connect(f"file:{server.db.path}?mode=ro", uri=True) as db:
        (orders,) = db.execute(
            "SELECT COUNT(*) FROM orders WHERE store_id = ?", (server.store_id,)
        ).fetchone()
        (user,) = db.execute(
            "SELECT MIN(user_id) FROM customers WHERE store_id = ?", (server.store_id,)
        ).fetchone()
    return orders, user


def test_the_summary_is_the_store_before_any_notebook_wrote_to_it(sandbox_factory, tmp_path):
    # A notebook may write to a demo store (07 simulates a campaign's response); the index and
    # summary.json describe the store as the report found it, not as the notebooks left it.
    server = sandbox_factory(customers=300)
    orders_before, user = _store_orders(server)
    writes = (
        "import os, httpx\n"
        "url = os.environ['SELORAX_BASE_URL'].split('/api/')[0] + '/_sandbox/orders'\n"
        f"[httpx.post(url, json={{'user_id': {user}, 'grand_total': 500}}).raise_for_status()"
        " for _ in range(3)]"
    )
    notebook = write_notebook(tmp_path, "01_writes.ipynb", writes)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SELORAX_CACHE_DIR", str(tmp_path / "cache"))
        with sa.Client(server.base_url, token=DEMO_TOKEN) as client:
            sa.build_report(tmp_path / "site", client=client, progress=False, notebooks=[notebook])
    assert _store_orders(server)[0] == orders_before + 3  # the notebook did write
    summary = json.loads((tmp_path / "site" / "summary.json").read_text(encoding="utf-8"))
    assert summary["orders"] == orders_before


def _demo_only_notebook(folder: Path) -> Path:
    path = write_notebook(folder, "02_demo.ipynb", "import selorax_analytics as sa", "'played'")
    nb = nbformat.read(path, as_version=4)
    nb.metadata["selorax"] = {"demo_only": "Use `your own records` instead."}
    nbformat.write(nb, path)
    return path


def test_a_demo_only_notebook_is_left_out_of_a_real_store_s_report(sandbox, tmp_path):
    from selorax_analytics.sandbox import SECOND_STORE_TOKEN

    first = write_notebook(tmp_path, "01_plain.ipynb", "import selorax_analytics as sa", "1 + 1")
    demo = _demo_only_notebook(tmp_path)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SELORAX_CACHE_DIR", str(tmp_path / "cache"))
        # store 23's own credential: a store that is not the demo store
        with sa.Client(sandbox.base_url, token=SECOND_STORE_TOKEN) as client:
            index = sa.build_report(
                tmp_path / "site", client=client, progress=False, notebooks=[first, demo]
            )
        with sa.Client(sandbox.base_url, token=DEMO_TOKEN) as client:
            demo_index = sa.build_report(
                tmp_path / "demo", client=client, progress=False, notebooks=[first, demo]
            )
    site = index.parent
    assert (site / "01_plain.html").is_file() and not (site / "02_demo.html").exists()
    summary = json.loads((site / "summary.json").read_text(encoding="utf-8"))
    assert [p["notebook"] for p in summary["notebooks"]] == ["01_plain.ipynb"]
    assert summary["demo_only"] == [
        {
            "notebook": "02_demo.ipynb",
            "title": "A small notebook",
            "instead": "Use `your own records` instead.",
        }
    ]
    page = index.read_text(encoding="utf-8")
    assert "runs on the demo store only" in page and "<code>your own records</code>" in page
    # The demo store runs it like any other page.
    assert (demo_index.parent / "02_demo.html").is_file()
    assert "runs on the demo store only" not in demo_index.read_text(encoding="utf-8")


def test_the_campaign_walkthrough_is_marked_demo_only():
    # 07 has the demo store simulate the customers' answer, which no real store can do.
    nb = nbformat.read(_notebooks.NOTEBOOK_DIR / "07_campaigns.ipynb", as_version=4)
    assert "campaign report" in _notebooks.demo_only(nb)
    plain = nbformat.read(_notebooks.NOTEBOOK_DIR / "02_rfm_segments.ipynb", as_version=4)
    assert _notebooks.demo_only(plain) is None
