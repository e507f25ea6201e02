"""A real browser: the RFM notebook served by Voila, driven in headless Chromium by Playwright.

Uses Debian's ``chromium`` at ``/usr/bin/chromium`` (``apt-get install chromium``; CI installs it),
never a browser download. The screenshot goes to ``artifacts/rfm_dashboard.png``.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from selorax_analytics.sandbox import DEMO_TOKEN

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_rfm_segments.ipynb"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def voila(sandbox, tmp_path_factory):
    """Voila serving the RFM notebook on 127.0.0.1, its kernel pointed at the session sandbox."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    port = _free_port()
    home = tmp_path_factory.mktemp("voila")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    env.update(
        SELORAX_BASE_URL=sandbox.base_url,
        SELORAX_TOKEN=DEMO_TOKEN,
        SELORAX_CACHE_DIR=str(home / "cache"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    log = open(home / "voila.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            str(NOTEBOOK),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",
        ],
        cwd=NOTEBOOK.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    url = f"http://127.0.0.1:{port}/"
    said: queue.Queue[str] = queue.Queue()
    copier = threading.Thread(target=_copy_output, args=(server, log, said), daemon=True)
    copier.start()
    try:
        _wait_until_serving(url, server, log, said)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        copier.join(timeout=20)
        if server.stdout is not None:
            server.stdout.close()
        log.close()


#: What Voila logs once its port accepts connections, its URL on the next line
#: (``voila/app.py``, ``Voila.listen``).
SERVING = "Voilà is running at:"


def _copy_output(server: subprocess.Popen, log, said: queue.Queue[str]) -> None:
    """Copy Voila's output to the log; put the URL it says it serves at, or ``""`` at its end."""
    assert server.stdout is not None
    announced = False
    for line in server.stdout:
        log.write(line)
        log.flush()
        if announced:
            said.put(line.strip())
        announced = SERVING in line
    said.put("")


def _wait_until_serving(url: str, server: subprocess.Popen, log, said: queue.Queue[str]) -> None:
    """Until Voila says it serves ``url`` (a GET of the page would start a kernel)."""
    try:
        served = said.get(timeout=60)
    except queue.Empty:
        served = None
    if served is not None and served.split("?")[0] == url:
        return
    log.seek(0)
    if served == "":
        server.wait(timeout=20)
        pytest.fail(f"Voila exited with {server.returncode}:\n{log.read()[-3000:]}")
    where = "nothing" if served is None else served
    pytest.fail(f"Voila did not say it serves {url} within 60 s ({where}):\n{log.read()[-3000:]}")


def test_changing_the_segment_changes_the_table_and_the_plot(voila):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(voila, timeout=TIMEOUT_MS)
            segment = page.locator(".widget-dropdown").filter(
                has=page.locator("label", has_text=re.compile(r"^Segment$"))
            )
            select = segment.locator("select")
            caption = page.get_by_text(re.compile(r"customers; the \d+ who spent most"))
            expect(caption).to_contain_text("All customers:", timeout=TIMEOUT_MS)
            grid = page.locator(".widget-output img").first
            expect(grid).to_be_visible()
            table_before = page.locator(".widget-output table").last.inner_text()
            plot_before = grid.get_attribute("src")

            # ipywidgets writes option labels with non-breaking spaces
            labels = [t.replace("\xa0", " ") for t in select.locator("option").all_inner_texts()]
            at_risk = next(label for label in labels if label.startswith("At Risk ("))
            select.select_option(index=labels.index(at_risk))

            expect(caption).to_contain_text("At Risk:")
            count = re.search(r"\(([\d,]+)\)", at_risk).group(1)
            expect(caption).to_have_text(re.compile(rf"^At Risk: {count} customers"))
            expect(grid).not_to_have_attribute("src", plot_before or "")
            table_after = page.locator(".widget-output table").last.inner_text()
            select.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "rfm_dashboard.png"))
        finally:
            browser.close()
    assert plot_before is not None and plot_before.startswith("data:image/png;base64,")
    assert table_after != table_before
    rows = [line for line in table_after.splitlines()[1:] if line.strip()]
    assert len(rows) == 20 and all("\tAt Risk\t" in row for row in rows)
