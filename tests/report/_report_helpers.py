"""Notebooks the report tests build reports of (used by ``conftest.py`` and the tests)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from selorax_analytics.report import _notebooks

QUICKSTART = _notebooks.NOTEBOOK_DIR / "01_quickstart.ipynb"
#: nbconvert's anchor of a heading: its text with spaces as ``-``.
QUICKSTART_ANCHOR = _notebooks.title_of(_notebooks.read(QUICKSTART), "").replace(" ", "-")
#: A frame of 30 columns, far wider than a 1280 px page (each column header ~ 200 px).
WIDE_FRAME = (
    "wide = pd.DataFrame({f'column_{i}_with_a_long_name': [i * 1000.5] * 3 for i in range(30)})"
)


def write_notebook(
    folder: Path, name: str, *sources: str, parameters: bool = True, markdown: str = ""
) -> Path:
    """A notebook ``folder/name``: a heading, the ``parameters`` cell, then ``sources``."""
    cells = [new_markdown_cell(f"# A small notebook\n\n{markdown}")]
    if parameters:
        cells.append(new_code_cell('AS_OF = "2000-01-01"'))
        cells[-1].metadata["tags"] = ["parameters"]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / name
    nbformat.write(nb, path)
    return path


def next_notebook(folder: Path) -> Path:
    """``02_next.ipynb``: a link back to the quickstart's heading, and a frame too wide to show.

    ``sa.style`` shows the wide frame's first columns and writes it whole to the report's
    ``tables/wide.csv``; the frame itself, displayed raw, is wider than any page.
    """
    return write_notebook(
        folder,
        "02_next.ipynb",
        "print('the second page', AS_OF)",
        f"import pandas as pd\nimport selorax_analytics as sa\n\n{WIDE_FRAME}",
        "sa.style(wide, name='wide')",
        "wide",
        markdown=f"Back to [the quickstart](01_quickstart.ipynb#{QUICKSTART_ANCHOR}).",
    )
