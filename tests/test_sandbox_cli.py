"""``selorax-analytics sandbox`` as a user runs it: a subprocess that prints its URL and credentials."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
from _sandbox_helpers import PREFIX, bearer, check_error, walk

from selorax_analytics.cli import main
from selorax_analytics.sandbox import SECOND_STORE_TOKEN, Sandbox, generate_store
from selorax_analytics.sandbox.export_demo import demo_tables


@dataclass
class Running:
    url: str
    token: str
    client_id: str
    client_secret: str
    store_id: str
    customers_only: str
    second_store: str
    banner: str

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.url + PREFIX, headers=headers, timeout=30)


def _field(banner: str, pattern: str) -> str:
    found = re.search(pattern, banner)
    assert found, f"{pattern!r} not in the banner:\n{banner}"
    return found.group(1)


def _parse(banner: str) -> Running:
    return Running(
        url=_field(banner, r"serving store \d+ at (http://\S+)"),
        token=_field(banner, r"full access \(Bearer\):\s+(\S+)"),
        client_id=_field(banner, r"X-Client-Id (\S+)"),
        client_secret=_field(banner, r"X-Client-Secret (\S+)"),
        store_id=_field(banner, r"X-Store-Id (\d+)"),
        customers_only=_field(banner, r"read:customers only:\s+(\S+)"),
        second_store=_field(banner, r"second, smaller store \(\d+\):\s+(\S+)"),
        banner=banner,
    )


@contextmanager
def sandbox_command(
    *options: str, stop: signal.Signals = signal.SIGINT, env: dict[str, str] | None = None
) -> Iterator[Running]:
    """Start the command on a free port, yield what it printed, stop it with ``stop`` (Ctrl-C)."""
    command = [sys.executable, "-m", "selorax_analytics.cli", "sandbox", "--port", "0"]
    process = subprocess.Popen(
        [*command, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True)
    reader.start()
    banner = ""
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in banner:
            try:
                banner += lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no banner; stderr: {process.stderr.read()}") from None
        yield _parse(banner)
    finally:
        process.send_signal(stop)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(timeout=5)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()
    assert code == 0


def test_start_request_and_stop_with_fault_options(tmp_path):
    options = ["--customers", "120", "--latency", "100", "--rate-limit", "2", "--rate-window", "30"]
    with sandbox_command(*options, env={"TMPDIR": str(tmp_path)}) as running:
        assert list(tmp_path.glob("selorax-sandbox-*"))
        assert running.url.startswith("http://127.0.0.1:")
        assert f"SELORAX_BASE_URL={running.url}" in running.banner
        assert running.store_id == "22"
        with running.api() as api:
            start = time.perf_counter()
            first = api.get("/customers?include_guests=true&limit=5")
            assert time.perf_counter() - start >= 0.1
            assert first.status_code == 200 and first.headers["X-RateLimit-Limit"] == "2"
            assert first.json()["pagination"]["total"] >= 120
            assert api.get("/store").status_code == 200
            limited = api.get("/store")
            check_error(limited, 429)
            assert int(limited.headers["Retry-After"]) >= 1
        headers = {
            "X-Client-Id": running.client_id,
            "X-Client-Secret": running.client_secret,
            "X-Store-Id": running.store_id,
        }
        with httpx.Client(base_url=running.url + PREFIX, headers=headers) as client:
            assert client.get("/customers/1").status_code == 200
        with running.api(running.customers_only) as narrow:
            check_error(narrow.get("/orders"), 403, "insufficient_scope")
        with running.api(running.second_store) as other:
            assert other.get("/store").json()["data"]["store_id"] == 23
    assert list(tmp_path.glob("selorax-sandbox-*")) == []  # Ctrl-C removed the temporary database


def test_sigterm_stops_cleanly_and_removes_the_temporary_database(tmp_path):
    env = {"TMPDIR": str(tmp_path)}
    with sandbox_command("--customers", "20", stop=signal.SIGTERM, env=env) as running:
        assert list(tmp_path.glob("selorax-sandbox-*"))
        with running.api() as api:
            assert api.get("/store").status_code == 200
    assert list(tmp_path.glob("selorax-sandbox-*")) == []


def test_a_sandbox_never_stopped_leaves_no_temporary_database(tmp_path):
    script = "from selorax_analytics.sandbox import Sandbox; Sandbox(customers=5).start()"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=60, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.glob("selorax-sandbox-*")) == []


def test_db_persists_across_restarts(tmp_path):
    db = tmp_path / "store.sqlite3"
    body = {"name": "Persisted Person", "phone": "01799999999"}
    with sandbox_command("--db", str(db), "--customers", "80") as running, running.api() as api:
        before = api.get("/customers").json()["pagination"]["total"]
        user_id = api.post("/customers", json=body).json()["data"]["user_id"]
    assert db.exists()
    # Another seed would make another store: the file's store is served, not regenerated.
    with sandbox_command("--db", str(db), "--seed", "5") as running, running.api() as api:
        found = api.get(f"/customers/{user_id}")
        assert found.status_code == 200 and found.json()["data"]["name"] == "Persisted Person"
        assert api.get("/customers").json()["pagination"]["total"] == before + 1


def _write_csv_store(folder: Path) -> None:
    customers = pd.DataFrame(
        {
            "user_id": [301, 289],
            "store_id": [22, 22],
            "name": ["Rahim Ahmed", "Fatima Khatun"],
            "email": ["rahim@example.com", None],
            "phone": ["01712345678", "01898765432"],
            "address_json": ['{"address": "123 Main St", "city": "Dhaka"}', None],
            "is_guest": [0, 1],
            "created_at": ["2025-01-20T06:30:00.000Z", "2025-03-05T14:00:00.000Z"],
            "updated_at": ["2025-06-15T10:30:00.000Z", "2025-06-10T08:45:00.000Z"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": [1045, 1046, 1047],
            "store_id": [22, 22, 22],
            "user_id": [301, 301, 301],
            "order_status": ["delivered", "delivered", "cancelled"],
            "financial_status": ["paid", "paid", "unpaid"],
            "fulfillment_status": ["fulfilled", "fulfilled", "unfulfilled"],
            "sub_total": [1500, 39.50, 800],
            "tax": [0, 0, 0],
            "shipping": [60, 60, 60],
            "discount": [100, 0, 0],
            "grand_total": [1460, 99.50, 860],
            "payment_method": ["cod", "bkash", "cod"],
            "note": [None, "Gift wrap", None],
            "created_at": ["2025-06-15T10:30:00.000Z", "2025-06-16T10:30:00Z", "2025-06-17"],
            "updated_at": ["2025-06-18T14:00:00.000Z", "2025-06-18T14:00:00Z", "2025-06-17"],
        }
    )
    customers.to_csv(folder / "customers.csv", index=False)
    orders.to_csv(folder / "orders.csv", index=False)


def test_data_folder_of_csv_files(tmp_path):
    _write_csv_store(tmp_path)
    with sandbox_command("--data", str(tmp_path)) as running, running.api() as api:
        rahim = api.get("/customers/301").json()["data"]
        assert rahim["phone"] == "01712345678"
        assert rahim["address_json"] == {"address": "123 Main St", "city": "Dhaka"}
        # 1460 + 99.50 = 1559.50 taka, rounded half up; the cancelled order is not spent.
        assert (rahim["total_orders"], rahim["total_spent"]) == (3, 1560)
        fatima = api.get("/customers/289").json()["data"]
        assert fatima["email"] is None and fatima["phone"] == "01898765432"
        assert (fatima["total_orders"], fatima["total_spent"]) == (0, 0)
        assert api.get("/customers").json()["pagination"]["total"] == 1
        order = api.get("/orders/1047").json()["data"]
        assert order["created_at"] == "2025-06-17T00:00:00.000Z" and order["items"] == []
        delivered = api.get("/customers/301/orders?status=delivered").json()
        assert [o["grand_total"] for o in delivered["data"]] == [99.5, 1460]


@pytest.mark.parametrize(("store_id", "second"), [(99, 23), (23, 24)])
def test_a_replayed_store_keeps_its_id_and_credentials_across_restarts(tmp_path, store_id, second):
    _write_csv_store(tmp_path)
    for name in ("customers", "orders"):
        path = tmp_path / f"{name}.csv"
        pd.read_csv(path, dtype=str).assign(store_id=str(store_id)).to_csv(path, index=False)
    for _ in range(2):  # the first run fills the file, the second serves it
        with Sandbox(db=tmp_path / "replay.sqlite3", data=tmp_path) as url:
            with bearer(url) as mine:
                assert mine.get("/store").json()["data"]["store_id"] == store_id
                assert mine.get("/customers/301").json()["data"]["store_id"] == store_id
            with bearer(url, SECOND_STORE_TOKEN) as other:
                assert other.get("/store").json()["data"]["store_id"] == second
                check_error(other.get("/customers/301"), 404)


def test_data_folder_of_parquet_files(tmp_path):
    store = generate_store(seed=4, customers=60)
    for name, frame in demo_tables(store).items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    # The command's --data path is the CSV test above; this one runs in-process, faster.
    with Sandbox(data=tmp_path) as url, bearer(url) as api:
        customers = walk(api, "/customers", include_guests="true")
        orders = walk(api, "/orders")
        detail = api.get("/orders/1").json()["data"]
    assert sorted(c["user_id"] for c in customers) == store.customers["user_id"].tolist()
    assert sorted(o["order_id"] for o in orders) == store.orders["order_id"].tolist()
    items = store.items[store.items["order_id"] == 1]
    assert [round(i["price"] * 100) for i in detail["items"]] == items["price_paisa"].tolist()


def test_a_bad_option_exits_2():
    command = [sys.executable, "-m", "selorax_analytics.cli", "sandbox", "--port", "abc"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--port" in done.stderr and "abc" in done.stderr


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--error-rate", "1.5"], "--error-rate"),
        (["--drop-rate", "x"], "--drop-rate"),
        (["--latency", "-5"], "--latency"),
        (["--rate-limit", "many"], "--rate-limit"),
        (["--nope"], "--nope"),
    ],
)
def test_bad_options_are_usage_errors(capsys, options, named):
    assert main(["sandbox", "--port", "0", *options]) == 2
    assert named in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--customers", "0"], "customers"),
        (["--rate-limit", "0"], "rate_limit"),
        (["--token", "no-store-id"], "--token"),
        (["--token", "sx_at_x:22:read:everything"], "read:everything"),
        (["--data", "/nonexistent/folder"], "/nonexistent/folder"),
    ],
)
def test_bad_values_exit_2_with_a_message(capsys, options, named):
    assert main(["sandbox", "--port", "0", *options]) == 2
    assert named in capsys.readouterr().err
