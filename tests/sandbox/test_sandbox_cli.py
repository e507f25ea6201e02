"""``selorax-analytics sandbox`` as a user runs it: a subprocess that prints its URL and credentials."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest

from selorax_analytics.cli._main import main
from selorax_analytics.sandbox import SECOND_STORE_TOKEN, Sandbox, generate_store
from selorax_analytics.sandbox.export_demo import demo_tables
from tests._sandbox_helpers import PREFIX, bearer, check_error, walk


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
    command = [sys.executable, "-m", "selorax_analytics.cli._main", "sandbox", "--port", "0"]
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
    command = [sys.executable, "-m", "selorax_analytics.cli._main", "sandbox", "--port", "abc"]
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
        (["--rate-limit", "0"], "--rate-limit"),
        (["--token", "no-store-id"], "--token"),
        (["--token", "sx_at_x:22:read:everything"], "read:everything"),
        (["--data", "/nonexistent/folder"], "/nonexistent/folder"),
    ],
)
def test_bad_values_exit_2_with_a_message(capsys, options, named):
    assert main(["sandbox", "--port", "0", *options]) == 2
    assert named in capsys.readouterr().err


# -- every bad value: exit 2 and one line naming the option, the value and what is accepted ---
def _error_line(err: str) -> str:
    """The one ``error:`` line of stderr (argparse prints its usage lines above it)."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize(
    ("option", "value", "accepted"),
    [
        ("--port", "99999", "from 0 to 65535"),
        ("--port", "-1", "from 0 to 65535"),
        ("--latency", "inf", "milliseconds from 0 to 60000"),
        ("--latency", "nan", "milliseconds from 0 to 60000"),
        ("--latency", "-0.5", "milliseconds from 0 to 60000"),
        ("--latency", "1e400", "milliseconds from 0 to 60000"),
        ("--jitter", "-inf", "milliseconds from 0 to 60000"),
        ("--jitter", "600001", "milliseconds from 0 to 60000"),
        ("--rate-window", "nan", "seconds from 0 to 3600, more than 0"),
        ("--rate-window", "0", "seconds from 0 to 3600, more than 0"),
        ("--rate-window", "inf", "seconds from 0 to 3600, more than 0"),
        ("--rate-limit", "0", "from 1 to"),
        ("--customers", "0", "people from 1 to 1000000"),
        ("--customers", "10000000", "people from 1 to 1000000"),
        ("--seed", "-1", "whole number from 0 to"),
        ("--error-rate", "nan", "fraction from 0 to 1"),
        ("--drop-rate", "1.5", "fraction from 0 to 1"),
        ("--host", "", "an address such as 127.0.0.1"),
    ],
)
def test_a_bad_value_names_the_option_the_value_and_what_is_accepted(
    capsys, option, value, accepted
):
    assert main(["sandbox", "--port", "0", f"{option}={value}"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert option in line and repr(value) in line and accepted in line


def _folder(
    tmp_path: Path, customers: pd.DataFrame | None = None, files: dict[str, str] | None = None
) -> Path:
    folder = tmp_path / "store"
    folder.mkdir()
    _write_csv_store(folder)
    if customers is not None:
        customers.to_csv(folder / "customers.csv", index=False)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    return folder


def _customers(**changes: object) -> pd.DataFrame:
    rows = {
        "user_id": [1, 2],
        "name": ["Rahim", "Karim"],
        "phone": ["01712345678", "01812345678"],
        "created_at": ["2025-01-20T06:30:00Z", "2025-01-21T06:30:00Z"],
    }
    return pd.DataFrame({**rows, **changes})


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda t: _folder(t, pd.DataFrame({"a": [1], "b": [2]})), "lacks the field(s) user_id"),
        (lambda t: _folder(t, _customers().iloc[:0]), "holds no rows"),
        (lambda t: _folder(t, _customers(user_id=[1, 1])), "UNIQUE"),
        (lambda t: _folder(t, _customers(user_id=["one", "two"])), "cannot be served"),
        (lambda t: _folder(t, _customers(address_json=['{"city": "Dhaka"', None])), "row 0"),
        (lambda t: _folder(t, _customers(address_json=[None, "[1, 2]"])), "row 1"),
        (lambda t: _folder(t, _customers(created_at=["yesterday", "today"])), "cannot be served"),
        (
            lambda t: _folder(t, files={"orders.csv": "order_id,user_id\n1,1\n"}),
            "lacks the field(s)",
        ),
        (
            lambda t: _folder(t, files={"customers.parquet": "not parquet"}),
            "customers.parquet cannot be read",
        ),
        (
            lambda t: _folder(t, files={"order_items.csv": "order_id\n1\n"}),
            "order_items file lacks",
        ),
        (lambda t: t / "missing", "is not a folder"),
        (lambda t: Path(__file__), "is not a folder"),
    ],
)
def test_a_bad_data_folder_is_one_line_naming_it(capsys, tmp_path, make, named):
    folder = make(tmp_path)
    assert main(["sandbox", "--port", "0", "--data", str(folder)]) == 2
    line = _error_line(capsys.readouterr().err)
    assert f"--data {str(folder)!r}" in line and named in line
    assert "; give " in line  # what is accepted


def _not_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "notes.sqlite3"
    path.write_text("these are notes, not a database\n" * 20)
    return path


def _foreign_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (something TEXT)")
    conn.close()
    return path


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (_not_sqlite, "is not a SQLite database"),
        (lambda t: t / "no" / "such" / "folder" / "store.sqlite3", "does not exist"),
        (lambda t: t, "is a folder"),
        (_foreign_sqlite, "is a SQLite database of something else (tables customers)"),
    ],
)
def test_a_bad_db_is_one_line_naming_it(capsys, tmp_path, make, named):
    path = make(tmp_path)
    before = path.read_bytes() if path.is_file() else None
    assert main(["sandbox", "--port", "0", "--db", str(path)]) == 2
    line = _error_line(capsys.readouterr().err)
    assert f"--db {str(path)!r}" in line and named in line and "give a database file" in line
    if before is not None:
        assert path.read_bytes() == before  # the file that was not ours is left as it was


def test_a_port_in_use_is_one_line_and_leaves_no_temporary_database(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "--port", str(port), "--customers", "5"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"--port {port}: already in use" in _error_line(err)
    assert list(tmp_path.glob("selorax-sandbox-*")) == []


@pytest.mark.parametrize(
    ("options", "status", "named"),
    [
        (["--port", "99999"], 2, "--port: '99999'"),
        (["--latency", "inf"], 2, "--latency: 'inf'"),
        (["--db", "{not_sqlite}"], 2, "is not a SQLite database"),
        (["--data", "{bad_data}"], 2, "lacks the field(s)"),
        (["--port", "{taken}"], 1, "already in use"),
    ],
)
def test_the_installed_command_prints_no_traceback(tmp_path, options, status, named):
    executable = Path(sys.executable).parent / "selorax-analytics"
    bad_data = _folder(tmp_path, pd.DataFrame({"a": [1]}))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        values = {
            "not_sqlite": _not_sqlite(tmp_path),
            "bad_data": bad_data,
            "taken": taken.getsockname()[1],
        }
        argv = [option.format(**values) for option in options]
        done = subprocess.run(
            [str(executable), "sandbox", "--customers", "5", *argv],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    assert named in _error_line(done.stderr)


# -- the sandbox's own runner, from plain values (the parser lives in cli/_sandbox.py) -----------
def test_build_from_plain_values_adds_the_tokens_given():
    from selorax_analytics.sandbox import command

    sandbox = command.build(port=0, customers=5, tokens=["sx_at_mine_0042:22:read:orders"])
    credential = sandbox.state.tokens["sx_at_mine_0042"]
    assert (credential.store_id, set(credential.scopes)) == (22, {"read:orders"})


def test_run_from_plain_values_refuses_a_bad_token_in_one_line(capsys):
    from selorax_analytics.sandbox import command

    assert command.run(port=0, customers=5, tokens=["no-store-id"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("selorax-analytics sandbox: error: --token 'no-store-id'")
