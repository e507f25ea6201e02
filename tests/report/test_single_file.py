"""The single-file report: one HTML file holding the index and every page, nothing from elsewhere."""

from __future__ import annotations

import re
import stat
from collections import Counter
from pathlib import Path

import pytest

from selorax_analytics.cli import main
from selorax_analytics.exceptions import OutputExistsError, ReportError
from selorax_analytics.report._single_file import scoped_css, single_file_html
from selorax_analytics.report.build import build_report
from selorax_analytics.sandbox import DEMO_TOKEN


@pytest.fixture(scope="module")
def html(single_file_run) -> str:
    path, (code, _), _ = single_file_run
    assert code == 0
    return path.read_text(encoding="utf-8")


def _sections(html: str) -> dict[str, str]:
    """``{section id: its HTML}`` of the single file."""
    parts = re.split(r'<section id="([^"]+)" class="sx-page">', html)
    return {parts[i]: parts[i + 1].split("</section>")[0] for i in range(1, len(parts), 2)}


def test_the_command_writes_one_file_and_says_its_size(single_file_run):
    path, (code, printed), _ = single_file_run
    assert code == 0
    last = printed.splitlines()[-1]
    said = re.fullmatch(rf"{re.escape(str(path))} \(([\d,.]+) (KB|MB), one file .*\)", last)
    assert said, last
    size = float(said.group(1).replace(",", "")) * (1000 if said.group(2) == "KB" else 1e6)
    assert abs(size - path.stat().st_size) <= (500 if said.group(2) == "KB" else 50_000)


def test_every_page_is_a_section_with_its_header(html):
    sections = _sections(html)
    assert list(sections) == ["index", "01_first", "02_next"]
    for name in ("01_first", "02_next"):
        header = re.search(r'<header class="sx-report-header">(.*?)</header>', sections[name], re.S)
        assert header, name
        assert "as of <strong>" in header.group(1) and "(Asia/Dhaka)" in header.group(1)
        assert 'href="#index"' in header.group(1)  # "Report index": the index section
    assert 'href="#02_next" rel="next"' in sections["01_first"]
    assert 'href="#01_first" rel="prev"' in sections["02_next"]
    assert "the second page" in sections["02_next"]  # outputs kept
    # the index links to both pages, and says what the single file leaves out
    assert 'href="#01_first"' in sections["index"] and 'href="#02_next"' in sections["index"]
    assert "not inside it" in sections["index"] and "selorax-analytics report" in sections["index"]


def test_nothing_is_loaded_from_elsewhere(html):
    assert not re.search(r"<script[^>]+src=|<link\b|@import|url\(\s*[\"']?https?:", html)
    sources = re.findall(r'\ssrc="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/") for s in sources)  # the plot, inline
    assert 'src="http' not in html


def test_links_between_pages_are_anchors_in_the_file(html):
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert not [h for h in hrefs if re.search(r"\.html?(#|$)", h)]  # no link to a page file
    ids = Counter(re.findall(r'\sid="([^"]*)"', html))
    assert not [i for i, n in ids.items() if n > 1]  # both pages have "A small notebook"
    assert all(h[1:] in ids for h in hrefs if h.startswith("#")), hrefs
    assert not [h for h in hrefs if not h.startswith(("#", "data:"))], hrefs
    # 01_first links to the heading of 02_next and to its own section's heading
    first = _sections(html)["01_first"]
    assert 'href="#02_next--A-small-notebook"' in first and 'href="#01_first--A-section"' in first
    assert 'id="02_next--A-small-notebook"' in _sections(html)["02_next"]


def test_files_beside_the_pages_are_named_but_not_inside(html):
    # the full table of 02_next's wide frame and the segment exports stay in the folder form
    assert "tables/wide.csv" in html and 'href="tables/' not in html
    assert 'href="exports/' not in html and 'href="summary.json"' not in html


def test_the_file_is_owner_only_and_nothing_else_is_written(single_file_run):
    path, _, temporary = single_file_run
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no exports/ beside it
    assert list(temporary.iterdir()) == []  # the folder it was built in is gone


def test_no_secret_in_the_file(single_file_run):
    assert DEMO_TOKEN.encode() not in single_file_run[0].read_bytes()


def test_an_existing_file_is_refused_before_anything_runs(tmp_path, capsys):
    mine = tmp_path / "report.html"
    mine.write_text("my page", encoding="utf-8")
    # no store is configured: were the file not refused first, a demo store would start
    assert main(["report", "--single-file", "--out", str(mine), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Refusing to overwrite ") and "--overwrite" in err
    assert len(err.splitlines()) == 1 and mine.read_text(encoding="utf-8") == "my page"
    with pytest.raises(OutputExistsError, match=r"report\.html"):
        build_report(mine, single_file=True, progress=False)
    with pytest.raises(OutputExistsError, match="is a folder"):
        build_report(tmp_path, single_file=True, overwrite=True, progress=False)
    with pytest.raises(ReportError, match=r"'.*report' is not an \.html file name"):
        build_report(tmp_path / "report", single_file=True, progress=False)
    assert main(["report", "--single-file", "--out", str(tmp_path / "r.pdf")]) == 1
    assert "is not an .html file name" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


# --- joining pages, on a folder written by hand -------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "report"
    (folder / "exports" / "sms").mkdir(parents=True)
    (folder / "exports" / "sms" / "champions.sms.csv").write_text("phone\n", encoding="utf-8")
    (folder / "chart.png").write_bytes(b"\x89PNG not really")
    (folder / "index.html").write_text(
        "<html><head><style>body { margin: 0 } h1, .big { color: red }"
        "@media (max-width: 40rem) { table { font-size: small } }</style></head>"
        '<body><h1>Index</h1><img src="chart.png"><a href="01_a.html">A</a> '
        '<a href="01_a.html#Totals">totals</a> <a href="exports/sms/champions.sms.csv">'
        "Champions</a> <a href='https://selorax.example/help'>help</a></body></html>",
        encoding="utf-8",
    )
    (folder / "01_a.html").write_text(
        '<html><head><style type="text/css">.jp-Cell { padding: 0 }</style></head>'
        '<body class="jp-Notebook" data-jp-theme-light="true"><main>'
        '<a href="index.html">Report index</a><a href="../docs/x.md">docs</a><h2 id="Totals">Totals<a class="anchor-link" '
        'href="#Totals">¶</a></h2><div id="cell-id=ab12"><a href="tables/t.csv">t.csv</a>'
        "</div></main></body></html>",
        encoding="utf-8",
    )
    return folder


def test_pages_are_joined_by_hand_rules(tmp_path):
    pages = [{"html": "01_a.html", "title": "A", "notebook": "01_a.ipynb"}]
    out = single_file_html(_folder(tmp_path), pages, title="SeloraX store report, 2026-07-01")
    assert "<title>SeloraX store report, 2026-07-01</title>" in out
    assert '<body class="jp-Notebook" data-jp-theme-light="true">' in out  # the pages' body
    index, page = _sections(out)["index"], _sections(out)["01_a"]
    # base64 of b"\x89PNG not really", worked out with `base64` in a shell
    assert '<img src="data:image/png;base64,iVBORyBub3QgcmVhbGx5">' in index
    assert '<a href="#01_a">A</a>' in index and '<a href="#01_a--Totals">totals</a>' in index
    assert '<span class="sx-file" title="exports/sms/champions.sms.csv: in the folder' in index
    assert "<a href='https://selorax.example/help'>help</a>" in index  # left alone
    assert '<a href="#index">Report index</a>' in page
    assert '<h2 id="01_a--Totals">Totals<a class="anchor-link" href="#01_a--Totals">' in page
    assert '<div id="01_a--cell-id=ab12">' in page
    assert '<span class="sx-file" title="tables/t.csv: not in the report">t.csv</span>' in page
    assert '<span class="sx-file" title="../docs/x.md: not in the report">docs</span>' in page
    # the pages' own style once, the index's scoped to its section
    assert out.count(".jp-Cell { padding: 0 }") == 1
    assert "#index { margin: 0 }" in out and "#index h1, #index .big { color: red }" in out


def test_the_index_style_applies_inside_its_section_only():
    css = "/* note */ body, :root { color: #111 }\nhtml body p{margin:0}\n" + (
        "@media print { table, .x > td { border: 0 } }\n@font-face { font-family: F; src: local(F) }"
    )
    assert scoped_css(css, "#index").splitlines() == [
        "#index, #index { color: #111 }",
        "#index p {margin:0}",  # html body p: a p inside the section
        "@media print {#index table, #index .x > td { border: 0 }}",
        "@font-face { font-family: F; src: local(F) }",
    ]
