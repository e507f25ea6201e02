"""The notebooks stay thin: Markdown plus short cells of public calls, connected through the env.

Rules (docs/notebooks.md): no ``def``, ``class``, loops, comprehensions or lambdas; no import of a
private module or name; no URL or credential in a cell; the first code cell imports
``selorax_analytics as sa`` and calls ``sa.connect()``; a cell tagged ``parameters`` sets
``AS_OF``; the committed copy is executed, without errors.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from selorax_analytics.sandbox import DEMO_AS_OF

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_LINES = 8
_LOGIC = {
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "async def",
    ast.ClassDef: "class",
    ast.Lambda: "lambda",
    ast.For: "for loop",
    ast.AsyncFor: "async for loop",
    ast.While: "while loop",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
}
_SECRETISH = re.compile(r"https?://|sx_(at|app|secret)_|SELORAX_(TOKEN|CLIENT_SECRET)")


def _python(source: str) -> ast.Module:
    """The cell as plain Python (IPython magics such as ``%matplotlib`` turned into calls)."""
    return ast.parse(TransformerManager().transform_cell(source))


def violations(source: str) -> list[str]:
    """What makes a code cell not thin; empty when it is fine."""
    found = []
    lines = [line for line in source.strip().splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        found.append(f"{len(lines)} lines (at most {MAX_LINES})")
    if _SECRETISH.search(source):
        found.append("a URL or credential")
    for node in ast.walk(_python(source)):
        for kind, name in _LOGIC.items():
            if isinstance(node, kind):
                found.append(name)
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(a.name for a in node.names)]
            found += [f"from {node.module} import ..." for n in names if _private(n)]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            found.append(f"private attribute .{node.attr}")
    return found


def _private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    return 1", "def"),
        ("class A:\n    pass", "class"),
        ("for x in range(3):\n    print(x)", "for loop"),
        ("while False:\n    pass", "while loop"),
        ("[x for x in range(3)]", "comprehension"),
        ("f = lambda x: x", "lambda"),
        (
            "from selorax_analytics.analytics._frames import purchases",
            "from selorax_analytics.analytics._frames",
        ),
        (
            "import selorax_analytics.report._notebooks",
            "import selorax_analytics.report._notebooks",
        ),
        ("sa._PUBLIC", "private attribute ._PUBLIC"),
        ("client = sa.Client('http://127.0.0.1:8765')", "a URL or credential"),
        ("\n".join(f"x{i} = {i}" for i in range(MAX_LINES + 1)), "lines (at most"),
    ],
)
def test_the_rules_catch_logic_in_a_cell(source, expected):
    assert any(expected in v for v in violations(source))


def test_the_rules_let_public_calls_and_magics_through():
    cell = "%matplotlib inline\nimport selorax_analytics as sa\n\nclient = sa.connect()"
    assert violations(cell) == []
    assert violations('ax = sa.plot_rfm_grid(rfm[rfm["segment"] == "At Risk"])') == []


def test_there_are_notebooks():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:5] == [
        "01_quickstart",
        "02_rfm_segments",
        "03_cohorts",
        "04_guest_conversion",
        "05_segment_exports",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin(path):
    nb = nbformat.read(path, as_version=4)
    problems = {
        i: v
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (v := violations(c.source))
    }
    assert problems == {}, f"{path.name}: cells that are not thin: {problems}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_connects_first_and_takes_as_of_as_a_parameter(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    first = _python(code[0].source)
    imports = [a for n in ast.walk(first) if isinstance(n, ast.Import) for a in n.names]
    assert any(a.name == "selorax_analytics" and a.asname == "sa" for a in imports)
    calls = [
        n.func
        for n in ast.walk(first)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert any(f.attr == "connect" and getattr(f.value, "id", None) == "sa" for f in calls)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assigned = {
        t.id: n.value.value
        for n in _python(tagged[0].source).body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert assigned.get("AS_OF") == DEMO_AS_OF
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        "re-execute: .venv/bin/selorax-analytics notebooks"
    )
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    plots = sum(bool(re.search(r"\bplot", c.source)) for c in code)
    pngs = sum("image/png" in o.get("data", {}) for o in outputs)
    assert pngs >= plots, "every plotting cell shows its figure in the committed outputs"
