"""The single-file report: the index and every page of a report folder in one HTML document.

``build_report(..., single_file=True)`` (``selorax-analytics report --single-file``) builds the
report in a temporary folder, then :func:`single_file_html` joins its pages into one document
that a marketer can send over e-mail or WhatsApp and open offline:

- each page is a ``<section>`` (``id="index"``, ``id="01_quickstart"``, ...) keeping its header;
  a link to ``NN_topic.html`` becomes ``#NN_topic``, one to ``NN_topic.html#Heading`` becomes
  ``#NN_topic--Heading`` (every heading and cell id is prefixed with its page, so no two pages
  share an id);
- the pages' styles are inlined once (the notebook pages share one stylesheet; the index's own
  rules are scoped to its section), images are ``data:`` URIs, nothing is loaded from
  elsewhere;
- files beside the pages (segment exports, full tables, ``summary.json``) are not inside: they
  hold customers' names, phones and e-mails, or would make the file too big to send. Their links
  become plain text and the index opens with a note saying where to get them (the folder report).
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path

#: The note at the top of the single file: what it leaves out and where to find it.
NOT_INCLUDED_NOTE = (
    "This is the single-file form of the report: the pages only. The segment export files "
    "(customers' names, phones and e-mails), the full tables as CSV and summary.json are not "
    "inside it; build the report as a folder (selorax-analytics report --out report) to get them."
)

SINGLE_FILE_STYLE = """
.sx-page { border-bottom: 3px solid #cbd2d9; padding-bottom: 2rem; margin-bottom: 2rem; }
.sx-not-included { background: #fffbea; border: 1px solid #f0b429; padding: 0.6rem 1rem;
  margin: 1rem auto; max-width: 60rem; font-family: system-ui, sans-serif; color: #513c06; }
.sx-file { color: #52606d; }
"""


@dataclass(frozen=True)
class _Page:
    """One HTML file of the folder, taken apart."""

    styles: list[str]  # the CSS text of each <style> in its head
    body_attributes: str
    body: str


def single_file_html(folder: Path, pages: Sequence[Mapping[str, str]], *, title: str) -> str:
    """The report in ``folder`` (its ``index.html`` and ``pages``) as one HTML document.

    ``pages`` are the summary's ``notebooks`` entries (``{"html": "01_x.html", ...}``), in order.
    """
    names = ["index.html", *(p["html"] for p in pages)]
    parsed = {name: _page((folder / name).read_text(encoding="utf-8")) for name in names}
    headings = {name: _own_ids(page.body) for name, page in parsed.items()}
    styles: list[str] = []
    for name in names[1:]:
        styles += [css for css in parsed[name].styles if css not in styles]
    styles += [scoped_css(css, "#index") for css in parsed["index.html"].styles]
    styles.append(SINGLE_FILE_STYLE)
    sections = []
    for name in names:
        body = _inline_images(parsed[name].body, folder)
        body = _rewrite_links(body, name, headings, folder)
        if name == "index.html":
            body = f'<aside class="sx-not-included">{escape(NOT_INCLUDED_NOTE)}</aside>{body}'
        sections.append(f'<section id="{_section_id(name)}" class="sx-page">{body}</section>')
    attributes = parsed[names[-1]].body_attributes if len(names) > 1 else ""
    css = "".join(f"<style>{s}</style>\n" for s in styles)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{escape(title)}</title>\n{css}</head>\n"
        f"<body{attributes}>\n{''.join(sections)}\n</body></html>\n"
    )


_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S | re.I)
_BODY = re.compile(r"<body\b([^>]*)>(.*)</body>", re.S | re.I)


def _page(html: str) -> _Page:
    end = html.lower().find("</head>")
    head = html[:end] if end >= 0 else ""
    body = _BODY.search(html)
    if body is None:
        raise ValueError("a report page without <body>")  # the report writes every page whole
    return _Page(
        styles=[m.group(1) for m in _STYLE.finditer(head)],
        body_attributes=body.group(1),
        body=body.group(2),
    )


def _section_id(name: str) -> str:
    return name.removesuffix(".html")


# ids a page owns and the single file prefixes with the page: headings (link targets) and cells
_OWN_ID = re.compile(r'(<h[1-6]\b[^>]*?\sid=|\sid=(?="cell-id=))"([^"]+)"')


def _own_ids(body: str) -> set[str]:
    return {unescape(m.group(2)) for m in _OWN_ID.finditer(body)}


def _anchor(name: str, fragment: str, headings: Mapping[str, set[str]]) -> str:
    """The single file's anchor for ``fragment`` of page ``name`` (the page itself when empty)."""
    section = _section_id(name)
    if not fragment:
        return section
    return f"{section}--{fragment}" if fragment in headings.get(name, set()) else fragment


_LINK = re.compile(r"<a\b(?P<before>[^>]*?)\shref=(?P<q>[\"'])(?P<href>.*?)(?P=q)(?P<after>[^>]*)>"
                   r"(?P<text>.*?)</a>", re.S | re.I)  # fmt: skip


def _rewrite_links(body: str, name: str, headings: Mapping[str, set[str]], folder: Path) -> str:
    """Page links as anchors in the file; links to files left outside it as plain text."""

    def own_id(match: re.Match[str]) -> str:
        anchor = _anchor(name, unescape(match.group(2)), headings)
        return f'{match.group(1)}"{escape(anchor)}"'

    def link(match: re.Match[str]) -> str:
        href = unescape(match["href"])
        if href.startswith(("data:", "mailto:")) or "://" in href:
            return match.group(0)
        target, _, fragment = href.partition("#")
        page = target or name
        if page in headings:
            anchor = escape(_anchor(page, fragment, headings))
            return f'<a{match["before"]} href="#{anchor}"{match["after"]}>{match["text"]}</a>'
        file = (folder / target).resolve()
        beside = file.is_file() and folder.resolve() in file.parents
        where = "in the folder report, not in this single file" if beside else "not in the report"
        title = f"{target}: {where}"
        return f'<span class="sx-file" title="{escape(title)}">{match["text"]}</span>'

    return _LINK.sub(link, _OWN_ID.sub(own_id, body))


_SOURCE = re.compile(r"(<img\b[^>]*?\ssrc=)([\"'])(.*?)\2", re.S | re.I)


def _inline_images(body: str, folder: Path) -> str:
    """Every image the page loads from a file beside it, as a ``data:`` URI."""

    def inline(match: re.Match[str]) -> str:
        src = unescape(match.group(3))
        if src.startswith("data:") or "://" in src:
            return match.group(0)
        path = (folder / src.split("#")[0]).resolve()
        if folder.resolve() not in path.parents or not path.is_file():
            return f'{match.group(1)}""'  # nothing outside the report is read
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'{match.group(1)}"data:{kind};base64,{data}"'

    return _SOURCE.sub(inline, body)


# -- scoping the index's stylesheet to its section ----------------------------------------------
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_ROOT = re.compile(r"(?:html|body|:root)\b(?:\s*(?:html|body|:root)\b)*")


def scoped_css(css: str, scope: str) -> str:
    """``css`` with every selector applying inside ``scope`` only.

    ``body``, ``html`` and ``:root`` become ``scope`` itself; rules inside ``@media`` and
    ``@supports`` are scoped too; other at-rules (``@font-face``, ``@keyframes``) stay as
    they are.
    """
    css = _COMMENT.sub("", css)
    out: list[str] = []
    position = 0
    while True:
        start = css.find("{", position)
        if start < 0:
            break
        end = _block_end(css, start)
        prelude, block = css[position:start].strip(), css[start + 1 : end]
        if prelude.startswith(("@media", "@supports")):
            out.append(f"{prelude} {{{scoped_css(block, scope)}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude} {{{block}}}")
        else:
            selectors = ", ".join(_scoped_selector(s.strip(), scope) for s in prelude.split(","))
            out.append(f"{selectors} {{{block}}}")
        position = end + 1
    return "\n".join(out)


def _scoped_selector(selector: str, scope: str) -> str:
    root = _ROOT.match(selector)  # html, body, :root (or ``html body``) are the section itself
    return scope + selector[root.end() :] if root else f"{scope} {selector}"


def _block_end(css: str, start: int) -> int:
    """The index of the ``}`` closing the block opened at ``start``."""
    depth = 0
    for i in range(start, len(css)):
        if css[i] == "{":
            depth += 1
        elif css[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(css)
