"""Reports built once per test session: the folder form and the single-file form.

A report build takes tens of seconds, so the tests of its pages (``test_report.py``), of its
single file (``test_single_file.py``) and of both in a browser (``test_report_browser.py``)
share these builds.
"""

from __future__ import annotations

import os
import sqlite3

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.report import _notebooks
from selorax_analytics.sandbox import DEMO_TOKEN
from tests.report._report_helpers import QUICKSTART, next_notebook, write_notebook

#: Order statuses that never count (the platform notes' valid-order rule).
INVALID = ("cancelled", "returned", "failed")


@pytest.fixture(scope="session")
def demo_db(demo_frames):
    """The demo store's orders (``o``) and customers (``c``) in SQLite, order days in Asia/Dhaka.

    ``v`` is the valid orders of known people: status not cancelled, returned or failed, and a
    ``user_id``. Days are the UTC timestamp plus six hours (Dhaka keeps no daylight saving).
    """
    customers, orders = demo_frames
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE o (user_id INTEGER, status TEXT, day TEXT, total REAL)")
    con.executemany(
        "INSERT INTO o VALUES (?, ?, ?, ?)",
        zip(
            orders["user_id"].astype("float").tolist(),
            orders["order_status"].astype("str").tolist(),
            (orders["created_at"] + pd.Timedelta(hours=6)).dt.strftime("%Y-%m-%d").tolist(),
            orders["grand_total"].tolist(),
            strict=True,
        ),
    )
    con.execute("CREATE TABLE c (user_id INTEGER, guest INTEGER)")
    con.executemany(
        "INSERT INTO c VALUES (?, ?)",
        zip(customers["user_id"].astype(int), customers["is_guest"].astype(int), strict=True),
    )
    con.execute(
        f"CREATE VIEW v AS SELECT * FROM o WHERE status NOT IN {INVALID} AND user_id IS NOT NULL"
    )
    yield con
    con.close()


@pytest.fixture(scope="session")
def report_run(sandbox, tmp_path_factory):
    """One folder report of the demo store: the quickstart and a small second page."""
    out = tmp_path_factory.mktemp("report")
    second = next_notebook(out)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SELORAX_CACHE_DIR", str(out.parent / "report-cache"))
        client = sa.Client(sandbox.base_url, token=DEMO_TOKEN)
        before = pd.Timestamp.now(tz="Asia/Dhaka").floor("s")
        index = sa.build_report(
            out / "site", client=client, progress=False, notebooks=[QUICKSTART, second]
        )
        after = pd.Timestamp.now(tz="Asia/Dhaka")
        client.close()
    return index, before, after


@pytest.fixture(scope="session")
def built(report_run):
    return report_run[0]


@pytest.fixture(scope="session")
def single_file_run(tmp_path_factory):
    """``selorax-analytics report --single-file`` on a small store (300 customers).

    Two notebooks: a first page with a plot, headings and a link to a heading of the second,
    and the second page of the folder report. Returns the file, what the command printed, and
    the temporary folder the build used (``tempfile.tempdir`` for the run).
    """
    from selorax_analytics.cli import main
    from selorax_analytics.sandbox import Sandbox

    home = tmp_path_factory.mktemp("single-file")
    notebooks = home / "notebooks"
    notebooks.mkdir()
    write_notebook(
        notebooks,
        "01_first.ipynb",
        "%matplotlib inline\nimport matplotlib.pyplot as plt\n\nax = plt.plot([1, 3, 2])",
        markdown="## A section\n\nOn to [the wide table](02_next.ipynb#A-small-notebook) "
        "and back [to this section](#A-section).",
    )
    next_notebook(notebooks)
    temporary = home / "tmp"
    temporary.mkdir()
    out = home / "sent" / "report.html"
    with pytest.MonkeyPatch.context() as env, Sandbox(customers=300) as url:
        for name in [n for n in os.environ if n.startswith("SELORAX_")]:
            env.delenv(name)
        env.setenv("SELORAX_BASE_URL", url)
        env.setenv("SELORAX_TOKEN", DEMO_TOKEN)
        env.setenv("SELORAX_CACHE_DIR", str(home / "cache"))
        env.setattr(_notebooks, "NOTEBOOK_DIR", notebooks)
        env.setattr("tempfile.tempdir", str(temporary))
        printed = _run_and_capture(
            main, ["report", "--single-file", "--out", str(out), "--no-progress"]
        )
    return out, printed, temporary


def _run_and_capture(main, argv: list[str]) -> tuple[int, str]:
    """The exit code and standard output of ``main(argv)``."""
    import contextlib
    import io

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(argv)
    return code, stdout.getvalue()
