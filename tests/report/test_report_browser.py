"""The report in a real browser: headless Chromium (Debian's ``/usr/bin/chromium``) via Playwright.

Opens the folder report's index and two pages, and the single-file report, at 1280 px: no code
cell shows, nothing is wider than the page, every link resolves, and no request leaves the
report. Screenshots go to ``artifacts/report_*.png``. The reports are the session's builds of
``conftest.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.presentation.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

WIDTH = 1280
#: A code cell's input and the prompts, in nbconvert's lab template (a Markdown cell's text is
#: in a ``.jp-InputArea`` too, outside any ``.jp-CodeCell``).
CODE = ".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, .jp-CodeMirrorEditor"
LINKS = "[...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href])"
VISIBLE_CODE = f"""[...document.querySelectorAll('{CODE}')]
    .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0).length"""
# the right edge of every table, and how much wider than its own box each table's content is
TABLES = """[...document.querySelectorAll('table')]
    .map(t => [t.getBoundingClientRect().right, t.scrollWidth - t.clientWidth])"""


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _Opened:
    """A page at 1280 px whose every request is logged, and refused unless ``file:``/``data:``."""

    def __init__(self, browser, path: Path, fragment: str = "") -> None:
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.route("**/*", self._only_the_report)
        self.page.goto(path.as_uri() + fragment, wait_until="load")

    @staticmethod
    def _only_the_report(route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort()

    def left_the_report(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]


def _fits_and_shows_no_code(opened: _Opened, name: str) -> list[float]:
    """Check the page at 1280 px; return how far each table's content overflows its own box."""
    page = opened.page
    assert page.evaluate(VISIBLE_CODE) == 0, name
    assert not re.search(r"(In|Out)\s*\[\s*\d*\s*\]:", page.inner_text("body")), name
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, name
    inner = page.evaluate("document.documentElement.clientWidth")
    tables = page.evaluate(TABLES)
    assert all(right <= inner for right, _ in tables), (name, tables)
    return [overflow for _, overflow in tables]


def _unresolved_links(opened: _Opened, folder: Path) -> list[str]:
    """The page's links that lead nowhere: a missing file or anchor, or out of the report."""
    bad = []
    for raw, absolute in opened.page.evaluate(LINKS):
        url = urlparse(absolute)
        fragment = unquote(url.fragment)
        if url.scheme == "data":
            continue
        if url.scheme != "file":
            bad.append(raw)
            continue
        target = Path(unquote(url.path))
        if not target.is_file() or folder.resolve() not in target.resolve().parents:
            bad.append(raw)
        elif raw.startswith("#"):
            if not opened.page.evaluate("id => !!document.getElementById(id)", fragment):
                bad.append(raw)
        elif fragment and f'id="{fragment}"' not in target.read_text(encoding="utf-8"):
            bad.append(raw)
    return bad


def test_the_folder_report_in_chromium(chromium, built):
    folder = built.parent
    overflows = {}
    for name in ("index.html", "01_quickstart.html", "02_next.html"):
        opened = _Opened(chromium, folder / name)
        try:
            overflows[name] = _fits_and_shows_no_code(opened, name)
            assert _unresolved_links(opened, folder) == [], name
            opened.page.screenshot(path=str(ARTIFACTS / f"report_{Path(name).stem}.png"))
            if name == "02_next.html":
                opened.page.locator("table").last.scroll_into_view_if_needed()
                opened.page.screenshot(path=str(ARTIFACTS / "report_wide_table.png"))
            assert opened.left_the_report() == [], name
            assert opened.requests[0] == (folder / name).as_uri()  # the log sees requests
        finally:
            opened.page.close()
    # 02_next shows a raw frame of 30 long-named columns: it scrolls inside its own box
    assert max(overflows["02_next.html"]) > 500


def test_the_single_file_report_in_chromium(chromium, single_file_run):
    path = single_file_run[0]
    opened = _Opened(chromium, path)
    try:
        page = opened.page
        _fits_and_shows_no_code(opened, path.name)
        links = page.evaluate(LINKS)
        assert len(links) > 10 and all(raw.startswith("#") for raw, _ in links), links
        assert _unresolved_links(opened, path.parent) == []
        page.screenshot(path=str(ARTIFACTS / "report_single_file.png"))
        # the first page's "next" link goes to the second page's section, in the same document
        page.locator("[id='01_first'] a[rel=next]").click()
        assert page.evaluate("location.pathname") == path.as_uri().removeprefix("file://")
        assert page.evaluate("location.hash") == "#02_next"
        # scrolled to it: at the top of the window, or lower when the document ends first
        top = page.evaluate("document.getElementById('02_next').getBoundingClientRect().top")
        assert page.evaluate("window.scrollY") > 0 and -2 <= top < 900
        page.screenshot(path=str(ARTIFACTS / "report_single_file_next.png"))
        # the file itself and its inline images, nothing else
        assert [u for u in opened.requests if not u.startswith("data:")] == [path.as_uri()]
    finally:
        opened.page.close()
