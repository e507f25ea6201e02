"""Running the package's notebooks and rendering them as self-contained HTML.

Used by :mod:`selorax_analytics.report.build` (the HTML report), by the command that re-executes the
committed notebooks, and by the test session that checks them with nbval. All three run the
notebooks the same way: kernel ``python3`` of the current environment, working directory
``notebooks/``, the store given through ``SELORAX_*`` variables in the kernel's environment.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient import NotebookClient
from nbformat import NotebookNode

from selorax_analytics.exceptions import ReportError

#: The notebooks of a source checkout (``notebooks/`` next to the package).
NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL_NAME = "python3"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Variables that choose the store; a kernel sees only the ones the caller sets.
STORE_VARIABLES = (
    "SELORAX_BASE_URL",
    "SELORAX_TOKEN",
    "SELORAX_CLIENT_ID",
    "SELORAX_CLIENT_SECRET",
    "SELORAX_STORE_ID",
)
SECRET_VARIABLES = ("SELORAX_TOKEN", "SELORAX_CLIENT_SECRET")
#: The folder where ``sa.style`` writes full tables for the report's pages.
TABLES_VARIABLE = "SELORAX_REPORT_TABLES"
STATIC_WIDGET_NOTE = (
    "(An interactive dashboard: open this notebook in JupyterLab or Voila to use it.)"
)


def notebook_paths(directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """The ``NN_topic.ipynb`` notebooks of ``directory`` (default ``notebooks/``), in order."""
    folder = Path(directory) if directory is not None else NOTEBOOK_DIR
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise ReportError(
            f"No notebooks (NN_topic.ipynb) in {folder}. The report runs the notebooks of a "
            "source checkout: run it from a clone of the repository."
        )
    return paths


def kernel_environment(
    store: Mapping[str, str], *, tables: str | os.PathLike[str] | None = None
) -> dict[str, str]:
    """This process's environment with the store variables replaced by ``store``.

    ``tables`` (the report's ``tables/`` folder) is given to the kernels as
    ``SELORAX_REPORT_TABLES``: ``sa.style`` writes the full table of a frame too wide for the
    page there, as ``<name>.csv``, and links it as ``tables/<name>.csv``. Without ``tables`` the
    variable is unset, so re-executed notebooks write no tables.
    """
    skip = {*STORE_VARIABLES, TABLES_VARIABLE}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(store)
    if tables is not None:
        env[TABLES_VARIABLE] = str(Path(tables).resolve())
    return env


def with_parameters(nb: NotebookNode, parameters: Mapping[str, object]) -> NotebookNode:
    """A copy of ``nb`` with a cell setting ``parameters`` after its ``parameters`` cell.

    The convention papermill uses: the notebook's own values stay as they are and document
    the defaults; the injected cell, tagged ``injected-parameters``, overrides them. Only the
    names the ``parameters`` cell assigns are set.
    """
    out = copy.deepcopy(nb)
    tagged = [i for i, c in enumerate(out.cells) if PARAMETERS_TAG in c.metadata.get("tags", [])]
    if not tagged:
        raise ReportError(
            "The notebook has no cell tagged 'parameters'; tag the cell that sets AS_OF."
        )
    source = out.cells[tagged[0]].source
    lines = [
        f"{name} = {value!r}"
        for name, value in parameters.items()
        if re.search(rf"^{re.escape(name)}\s*=", source, flags=re.MULTILINE)
    ]
    cell = nbformat.v4.new_code_cell("\n".join(["# Set by the report", *lines]))
    cell.metadata["tags"] = [INJECTED_TAG]
    out.cells.insert(tagged[0] + 1, cell)
    return out


class _CurrentPythonSpecs(KernelSpecManager):
    """Every kernel name means ipykernel on the Python running this process.

    A ``python3`` kernelspec elsewhere (a user's ``~/.local/share/jupyter``) could point at
    another interpreter without this package; the report must run in its own environment.
    """

    def get_kernel_spec(self, kernel_name: str, *args: object, **kwargs: object) -> KernelSpec:
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())


class _Client(NotebookClient):
    """A notebook client whose kernels run on this process's Python."""

    def create_kernel_manager(self) -> Any:
        self.km = self.kernel_manager_class(
            kernel_name=KERNEL_NAME, kernel_spec_manager=_CurrentPythonSpecs(), config=self.config
        )
        return self.km


@dataclass
class _Progress:
    """The cell being executed, for the error message when it fails."""

    index: int = -1
    source: str = ""

    def start(self, cell: NotebookNode, cell_index: int) -> None:
        self.index, self.source = cell_index, cell.source


@dataclass(frozen=True)
class CellFailure:
    """Where and why a notebook stopped: what the report's page and error messages say.

    ``number`` counts the notebook's own code cells as Jupyter shows them (1 = the first; ``?``
    when the failure came before any cell), ``cell`` is the index among all cells of the file
    (``None`` when unknown), ``position`` its index in the executed notebook (injected cells
    counted; -1 when unknown), ``first_line`` is the first line of the cell's code, and ``ename``
    and ``evalue`` are the error's class name and message (``evalue`` on one line).
    """

    notebook: str
    number: int | str
    cell: int | None
    position: int
    first_line: str
    ename: str
    evalue: str
    kernel_output: str = ""

    @property
    def message(self) -> str:
        """One line naming the notebook, the code cell and the error."""
        text = (
            f"{self.notebook} failed at code cell {self.number}, `{self.first_line}`: "
            f"{self.ename}: {self.evalue}"
        )
        return text + (f" Kernel output: {self.kernel_output}" if self.kernel_output else "")

    @property
    def stopped(self) -> str:
        """One line for the report's index: where the notebook stopped, and why."""
        return f"stopped at code cell {self.number}, `{self.first_line}`: {self.reason}"

    @property
    def reason(self) -> str:
        """The error in plain words: the package's own message alone, else ``Name: message``."""
        if _own_error(self.ename) and self.evalue:
            return self.evalue
        return f"{self.ename}: {self.evalue}" if self.evalue else self.ename


def _own_error(ename: str) -> bool:
    """Whether ``ename`` names one of the package's errors (messages written for people)."""
    from selorax_analytics import exceptions

    found = getattr(exceptions, ename, None)
    return isinstance(found, type) and issubclass(found, exceptions.SeloraxError)


def execute(
    nb: NotebookNode,
    *,
    name: str,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    timeout: int = 600,
) -> NotebookNode:
    """Execute ``nb`` in a fresh kernel; a failure names the notebook and the cell.

    Returns the executed notebook (``nb`` itself, filled in). Raises :class:`ReportError`
    with ``notebook``, ``cell`` (0-based index among all cells) and the executed notebook so
    far in ``partial``.
    """
    failure = run(nb, name=name, cwd=cwd, env=env, timeout=timeout)
    if failure is not None:
        raise ReportError(failure.message, notebook=name, cell=failure.cell, partial=nb)
    return nb


def run(
    nb: NotebookNode,
    *,
    name: str,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    timeout: int = 600,
) -> CellFailure | None:
    """Execute ``nb`` in a fresh kernel, filling in its outputs; how it stopped, or ``None``.

    A failing cell (an error, a timeout, a kernel that died) ends the run: ``nb`` then holds
    the outputs as far as it ran, the failing cell's traceback included.
    """
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    current = _Progress()
    client = _Client(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
        on_cell_start=current.start,
        store_widget_state=False,  # live widgets need a kernel; their state is not kept
    )
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        try:
            client.execute(env=dict(env), stderr=log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            kernel_output = ""
            if isinstance(exc, DeadKernelError):
                log.seek(0)
                kernel_output = " | ".join(log.read().splitlines()[-5:])
            return _failure(name, nb, current, exc, kernel_output)
    return None


def _failure(
    name: str, nb: NotebookNode, current: _Progress, exc: Exception, kernel_output: str
) -> CellFailure:
    own = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not _injected(c)]
    lines = current.source.strip().splitlines()
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc).strip().splitlines()[-1] if str(exc) else "")
    return CellFailure(
        notebook=name,
        number=own.index(current.index) + 1 if current.index in own else "?",
        cell=file_index(nb, current.index) if current.index >= 0 else None,
        position=current.index,
        first_line=lines[0] if lines else "",
        ename=ename,
        evalue=" ".join(str(evalue).split()),
        kernel_output=kernel_output,
    )


def _injected(cell: NotebookNode) -> bool:
    return INJECTED_TAG in cell.metadata.get("tags", [])


def file_index(nb: NotebookNode, index: int) -> int:
    """The index a cell of the executed ``nb`` has in the notebook file (without injected cells)."""
    return index - sum(_injected(c) for c in nb.cells[:index])


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret shown only masked (``sx_at_...abcd``)."""
    from selorax_analytics.api.client import mask

    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return text


_TEMPLATE = """
{%- extends 'lab/index.html.j2' -%}
{% block extra_css %}{{ resources.get('selorax_css', '') }}{{ resources.get('selorax_wide', '') }}{% endblock extra_css %}
{%- block body_header -%}{{ super() }}{{ resources.get('selorax_header', '') }}{%- endblock -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
"""


#: A table wider than the page scrolls inside its own box; the page never widens. ``sa.style``
#: already shows a wide frame's key columns only; this holds for any other output.
WIDE_TABLE_STYLE = """<style>
.jp-OutputArea-output { max-width: 100%; overflow-x: auto; }
.jp-OutputArea-child, .jp-Cell-outputArea { min-width: 0; max-width: 100%; }
.jp-RenderedHTMLCommon table { display: block; max-width: 100%; overflow-x: auto; }
.jp-RenderedHTMLCommon pre, .jp-RenderedText pre { overflow-x: auto; }
</style>"""


def to_html(
    nb: NotebookNode,
    *,
    title: str,
    header: str = "",
    css: str = "",
    show_code: bool = False,
) -> str:
    """A self-contained HTML page: styles inline, plots embedded, no script from elsewhere.

    Only the outputs show, without ``In``/``Out`` prompts, unless ``show_code`` (the page of
    a notebook that failed, for inspection). ``header`` (HTML) opens the page's body and
    ``css`` (a ``<style>`` element) goes into its head. Widgets need a live kernel, so their
    outputs are shown by their text form.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    static = copy.deepcopy(nb)
    static.metadata.pop("widgets", None)
    static.metadata["title"] = title
    for cell in static.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                output["data"] = {"text/plain": STATIC_WIDGET_NOTE}
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"selorax_report.html.j2": _TEMPLATE})],
        template_file="selorax_report.html.j2",
        embed_images=True,
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=not show_code,
    )
    resources = {"selorax_header": header, "selorax_css": css, "selorax_wide": WIDE_TABLE_STYLE}
    body, _ = exporter.from_notebook_node(static, resources=resources)
    return body


_NOTEBOOK_LINK = re.compile(
    r"\[(?P<text>[^\]]*)\]"  # [text]
    r"\(\s*(?:\./)?(?P<stem>[0-9][0-9]_[\w-]+)\.ipynb(?P<anchor>#[^)\s]*)?\s*\)"  # (NN_x.ipynb#a)
)


def link_pages(nb: NotebookNode, stems: Collection[str]) -> NotebookNode:
    """A copy of ``nb`` whose Markdown links to ``NN_topic.ipynb`` point at the report's pages.

    A link to a notebook in ``stems`` becomes a link to ``NN_topic.html``; one to a notebook
    the report does not hold keeps its text and loses the link, so no page links to nothing.
    """

    def page(match: re.Match[str]) -> str:
        if match["stem"] not in stems:
            return match["text"]
        return f"[{match['text']}]({match['stem']}.html{match['anchor'] or ''})"

    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "markdown":
            cell.source = _NOTEBOOK_LINK.sub(page, cell.source)
    return out


def title_of(nb: NotebookNode, default: str) -> str:
    """The first Markdown heading of ``nb``, or ``default``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    return default


def read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def demo_only(nb: NotebookNode) -> str | None:
    """What a real store's reader does instead, for a notebook that runs on the demo store only.

    ``metadata.selorax.demo_only`` is that sentence (Markdown, may be empty); ``None`` for every
    other notebook. Such a notebook plays a part no real store can (07 has the demo store
    simulate its customers' answer to a campaign); a report of a real store leaves it out and
    says so.
    """
    instead = nb.metadata.get("selorax", {}).get("demo_only")
    return (
        None if instead is None or instead is False else str(instead if instead is not True else "")
    )


def write(nb: NotebookNode, path: Path) -> None:
    """Replace the notebook file ``path`` whole (temporary file, rename), keeping its mode.

    These are the repository's own notebooks, re-executed on purpose: their permissions stay
    as git checked them out (a new file gets ``0644``).
    """
    from selorax_analytics._files import write_file

    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    write_file(path, lambda tmp: nbformat.write(nb, tmp), overwrite=True, mode=mode)


def strip_run_details(nb: NotebookNode) -> NotebookNode:
    """Drop per-run metadata (timings, widget state) so a re-run differs only in its outputs."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb
