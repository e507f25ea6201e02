"""Sandbox benchmark: the loader's list pages served under 16-way concurrent load.

Run: ``.venv/bin/python bench/bench_sandbox.py [--baseline REF] [--repeats N]``

The sandbox runs in a process of its own (``selorax-analytics sandbox``), once from this
working tree and once from the package as committed at ``REF`` (default: the last commit that
did not touch the sandbox's serving code, see ``DEFAULT_BASELINE``), extracted with
``git archive`` into a temporary folder, so both are measured in the same run on the same
machine. For latency 0 and 50 ms it fetches the pages a full load asks for, all 21 customer
pages (``include_guests=true``) and 29 order pages at ``limit=250, sort=created_at:asc``, with
16 concurrent requests (threads sharing one httpx client), and prints:

- wall time of the 50 pages at 16 at a time (median of the repeats);
- server CPU time per page (user + system time of the server process over the walks);
- the time of one page fetched alone (median), at latency 0 only;
- new against baseline as ratios.

It also checks that both servers send byte-identical bodies for every page.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _common import add_smoke_flag, emit

from selorax_analytics.sandbox import DEMO_TOKEN

ROOT = Path(__file__).resolve().parent.parent
API = "/api/apps/v1"
#: The sandbox before the concurrent-read work (one connection behind a lock).
DEFAULT_BASELINE = "3ed0208"
CONCURRENCY = 16
#: Latencies measured (seconds), and how many times each page is fetched alone.
LATENCIES = (0.0, 0.05)
ALONE_ROUNDS = 2
PAGES = [("/customers", {"include_guests": "true"}, 21), ("/orders", {}, 29)]


def page_requests(limit: int = 250) -> list[tuple[str, dict[str, str]]]:
    """The loader's page requests; ``limit=1`` asks for the same pages one row each."""
    out = []
    for path, extra, pages in PAGES:
        for page in range(1, pages + 1):
            params = {**extra, "limit": str(limit), "page": str(page), "sort": "created_at:asc"}
            out.append((path, params))
    return out


class ServerProcess:
    """``python -m selorax_analytics.cli._main sandbox`` with the package found first in ``root``."""

    def __init__(self, root: Path, latency: float) -> None:
        # ``-m selorax_analytics.cli`` runs the command line both as cli.py and as cli/
        command = [sys.executable, "-m", "selorax_analytics.cli", "sandbox", "--port", "0"]
        command += ["--latency", str(latency * 1000)]
        path = [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        self.process = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        self.base_url = banner.rsplit(" at ", 1)[1].strip()

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # never leave a server behind
            self.process.kill()
            self.process.wait()


def fetch(http: httpx.Client, request: tuple[str, dict[str, str]]) -> bytes:
    response = http.get(request[0], params=request[1])
    response.raise_for_status()
    return response.content


class Walker:
    """16 threads sharing one keep-alive httpx client to one server; walks at one page size."""

    def __init__(self, server: ServerProcess, pool: ThreadPoolExecutor, limit: int) -> None:
        self.server, self.pool, self.requests = server, pool, page_requests(limit)
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        self.http = httpx.Client(
            base_url=server.base_url + API,
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
            timeout=60,
            limits=limits,
        )
        self.walls: list[float] = []
        self.server_cpu = self.client_cpu = 0.0
        self.digest = hashlib.sha256(b"".join(self._walk())).hexdigest()  # also the warm-up

    def _walk(self) -> list[bytes]:
        return list(self.pool.map(lambda r: fetch(self.http, r), self.requests))

    def walk(self) -> None:
        """One timed walk of all pages, 16 at a time."""
        server_cpu, client_cpu = self.server.cpu_seconds(), time.process_time()
        began = time.perf_counter()
        self._walk()
        self.walls.append(time.perf_counter() - began)
        self.server_cpu += self.server.cpu_seconds() - server_cpu
        self.client_cpu += time.process_time() - client_cpu

    def alone(self) -> float:
        """The median time of one page fetched with nothing else running."""
        times = []
        for request in self.requests * ALONE_ROUNDS:
            began = time.perf_counter()
            fetch(self.http, request)
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    def result(self) -> dict:
        pages = len(self.walls) * len(self.requests)
        return {
            "wall": statistics.median(self.walls),
            "cpu_per_page": self.server_cpu / pages,
            "client_cpu_per_page": self.client_cpu / pages,
            "alone": self.alone(),
            "digest": self.digest,
        }


def measure(roots: dict[str, Path], latency: float, repeats: int) -> dict[str, dict]:
    """Both servers running at once, their walks alternating, so drift hits both alike.

    Each server is walked with full pages (``limit=250``) and with one-row pages of the same
    numbers (``limit=1``): the second is the cost of the requests themselves, without rows.
    """
    servers = {name: ServerProcess(root, latency) for name, root in roots.items()}
    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            walkers = {
                (name, limit): Walker(server, pool, limit)
                for name, server in servers.items()
                for limit in (250, 1)
            }
            for _ in range(repeats):
                for walker in walkers.values():
                    walker.walk()
            out = {key: w.result() for key, w in walkers.items()}
            for w in walkers.values():
                w.http.close()
            return out
    finally:
        for server in servers.values():
            server.stop()


def extract(ref: str, into: Path) -> Path:
    """The package as committed at ``ref``, written under ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "selorax_analytics"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    tar_path = into / "baseline.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git ref of the baseline")
    parser.add_argument("--repeats", type=int, default=20, help="walks per configuration")
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.smoke:  # one walk each, 5 ms of latency; the baseline is HEAD (no fetch needed)
        global LATENCIES, ALONE_ROUNDS
        args.repeats, args.baseline, LATENCIES, ALONE_ROUNDS = 1, "HEAD", (0.0, 0.005), 1
    n = len(page_requests())
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; {n} pages of 250, "
        f"{CONCURRENCY} at a time, median of {args.repeats} walks; baseline {args.baseline}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"baseline": extract(args.baseline, Path(tmp)), "new": ROOT}
        for latency in LATENCIES:
            got = measure(roots, latency, args.repeats)
            same = all(got["baseline", k]["digest"] == got["new", k]["digest"] for k in (250, 1))
            print(
                f"\nlatency {latency * 1000:.0f} ms (bodies of all pages: "
                f"{'identical' if same else 'DIFFERENT'})"
            )
            print(f"  {'':40}{'baseline':>10}{'new':>10}{'ratio':>8}")
            rows = [
                (f"wall, {n} pages of 250, {CONCURRENCY}-way (ms)", 250, "wall"),
                ("  server CPU per page (ms)", 250, "cpu_per_page"),
                ("  client CPU per page (ms)", 250, "client_cpu_per_page"),
                ("  one page alone (ms)", 250, "alone"),
                (f"wall, {n} pages of 1 row, {CONCURRENCY}-way (ms)", 1, "wall"),
                ("  server CPU per page (ms)", 1, "cpu_per_page"),
                ("  one page alone (ms)", 1, "alone"),
            ]
            for label, limit, key in rows:
                b, w = got["baseline", limit][key] * 1000, got["new", limit][key] * 1000
                print(f"  {label:40}{b:10.2f}{w:10.2f}{b / w:7.2f}x")
                name = f"sandbox_{key}_limit{limit}_latency{latency * 1000:.0f}ms"
                emit(name, w, "ms", baseline=f"sandbox at {args.baseline}", baseline_value=b)
            emit(f"sandbox_bodies_identical_latency{latency * 1000:.0f}ms", int(same), "bool")


if __name__ == "__main__":
    main()
