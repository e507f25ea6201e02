"""The cache's files: private modes, the journal's atomic header, and hostile file contents."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import CacheError, ConnectionFailedError
from selorax_analytics.loading import _private_files
from selorax_analytics.loading._store import cache_dir_for, store_known
from selorax_analytics.loading.cache import CorruptCache, Entry, Journal
from selorax_analytics.loading.loaders import load_customers, load_history, load_orders
from selorax_analytics.sandbox import DEMO_TOKEN, Sandbox, api_frames, generate_store


@pytest.fixture
def umask_022():
    """The common umask, under which ``open()`` would make files 0644 and folders 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class CutAfterPage1(httpx.HTTPTransport):
    """Real HTTP until a list page other than page 1 is asked for: that connection is refused."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page", "1") != "1":
            raise httpx.ConnectError("connection refused")
        return super().handle_request(request)


def test_every_cache_file_is_private_and_every_folder_it_makes(umask_022, tmp_path):
    server = Sandbox(customers=300)
    base_url = server.start()
    try:
        client = Client(base_url, token=DEMO_TOKEN)
        customers = load_customers(client, progress=False)
        load_orders(client, progress=False)
        server.convert_guest(int(customers.loc[customers["is_guest"], "user_id"].iloc[0]))
        load_customers(client, max_age=0, progress=False)  # a change: the history is written
        # a load cut off midway leaves its journal (raw records: names, phones) behind
        cut = Client(base_url, token=DEMO_TOKEN, transport=CutAfterPage1(), max_retries=0)
        with pytest.raises(ConnectionFailedError):
            load_orders(cut, refresh="full", progress=False)
    finally:
        server.stop()
    root = tmp_path / "cache"
    folder = cache_dir_for(client)
    names = {p.name for p in folder.iterdir()}
    assert {"customers.parquet", "customers.json", "orders.parquet", "orders.json"} <= names
    assert {"orders.journal.jsonl"} <= names and (folder.parent / "stores.json").is_file()
    assert not load_history(client).empty and (folder / "history.parquet").is_file()
    journal = (folder / "orders.journal.jsonl").read_text()
    assert journal.count("\n") >= 2  # the header and page 1, each a whole line
    paths = [root, *root.rglob("*")]
    assert {oct(mode(p)) for p in paths if p.is_dir()} == {oct(0o700)}
    assert {oct(mode(p)) for p in paths if p.is_file()} == {oct(0o600)}
    assert not [p for p in paths if p.name.endswith(".tmp")]


def test_an_existing_cache_root_keeps_its_mode(umask_022, tmp_path):
    root = tmp_path / "shared"
    root.mkdir(mode=0o755)
    Entry(root / "host" / "store-1", "x").write(pd.DataFrame({"a": [1]}), {"dataset": "x"})
    assert mode(root) == 0o755  # the user's folder: not ours to change
    assert mode(root / "host") == mode(root / "host" / "store-1") == 0o700
    assert mode(root / "host" / "store-1" / "x.parquet") == 0o600


def test_new_journal_is_private_and_holds_its_whole_header(umask_022, tmp_path):
    path = tmp_path / "new" / "customers.journal.jsonl"
    journal = Journal(path, "fingerprint")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    header = json.loads(path.read_bytes().split(b"\n")[0])
    assert header["fingerprint"] == "fingerprint" and isinstance(header["started"], float)
    journal.record("page:1", 1, [{"user_id": 1, "name": "Rahim", "phone": "01712345678"}])
    assert mode(path) == 0o600
    # each page is flushed as it is recorded: another reader sees it before close()
    assert Journal(path, "fingerprint").done() == {
        "page:1": (1, [{"user_id": 1, "name": "Rahim", "phone": "01712345678"}])
    }
    journal.close()


def test_journal_written_0644_by_an_earlier_version_is_made_private(umask_022, tmp_path):
    path = tmp_path / "orders.journal.jsonl"
    header = json.dumps({"fingerprint": "f", "started": 0.0})
    path.write_text(header + "\n")
    os.chmod(path, 0o644)
    Journal(path, "f")  # too old to resume: started again, privately
    assert mode(path) == 0o600
    header = json.dumps({"fingerprint": "f", "started": time.time()})
    line = json.dumps({"key": "page:1", "total": 1, "records": [{"order_id": 9}]})
    path.write_text(f"{header}\n{line}\n")
    os.chmod(path, 0o644)
    assert Journal(path, "f").done() == {"page:1": (1, [{"order_id": 9}])}  # resumed
    assert mode(path) == 0o600


def test_journal_header_is_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "customers.journal.jsonl"

    def full_disk(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_private_files.os, "replace", full_disk)
    with pytest.raises(CacheError, match="No space left on device") as caught:
        Journal(path, "fingerprint")
    assert str(path) in str(caught.value) and "cache=False" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # no journal, no temporary file


# --- hostile contents (Hypothesis) ---------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
META_FIELDS = ["dataset", "rows", "generation", "refreshed_at", "watermarks", "params"]


@pytest.fixture(scope="module")
def customers_entry(tmp_path_factory):
    """A valid cached customers entry (a small generated store) and its metadata text."""
    folder = tmp_path_factory.mktemp("entry")
    frame = api_frames(generate_store(customers=30))[0]
    meta = {"dataset": "customers", "params": {}, "refreshed_at": "2026-07-01T00:00:00+00:00"}
    Entry(folder, "customers", "customers").write(frame, {**meta, "watermarks": {}})
    return folder, (folder / "customers.json").read_text(), frame


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(META_FIELDS), value=JSON)
def test_any_metadata_value_is_read_or_refused_as_corrupt(customers_entry, field, value):
    folder, text, frame = customers_entry
    meta = json.loads(text)
    meta[field] = value
    (folder / "customers.json").write_text(json.dumps(meta))
    try:
        got, _ = Entry(folder, "customers", "customers").read()
    except CorruptCache as exc:
        assert str(exc).startswith(("customers.json ", "customers.parquet "))
    else:  # only a value as good as the original is accepted
        pd.testing.assert_frame_equal(got, frame)
    finally:
        (folder / "customers.json").write_text(text)


STORES_TOKEN = "sx_at_HypothesisStores1234"


@pytest.fixture(scope="module")
def store_31():
    """A client whose ``GET /store`` answers store 31 (no other request is made)."""
    answer = {"data": {"store_id": 31}, "status": 200}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    return Client("http://api.test", token=STORES_TOKEN, transport=transport)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=64) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_stores_json_gives_the_looked_up_store(store_31, tmp_path, content):
    host_dir = tmp_path / "cache" / "api.test"
    host_dir.mkdir(parents=True, exist_ok=True)
    (host_dir / "stores.json").write_bytes(content)
    assert not store_known(store_31)  # junk never names a folder
    assert cache_dir_for(store_31) == host_dir / "store-31"
    remembered = json.loads((host_dir / "stores.json").read_text())
    key = hashlib.sha256(f"api.test|{STORES_TOKEN}".encode()).hexdigest()[:16]
    assert remembered[key] == "store-31" and store_known(store_31)
    assert all(str(v).startswith("store-") for v in remembered.values())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    junk=st.lists(st.binary(max_size=40) | JSON.map(lambda v: json.dumps(v).encode()), max_size=4)
)
def test_journal_lines_that_are_not_pages_are_skipped(tmp_path, junk):
    path = tmp_path / "hypothesis.journal.jsonl"
    path.unlink(missing_ok=True)
    journal = Journal(path, "f")
    journal.record("page:1", 2, [{"user_id": 1}])
    journal.close()
    with path.open("ab") as handle:
        for line in junk:
            handle.write(line.replace(b"\n", b" ") + b"\n")
    pages = Journal(path, "f").done()
    assert pages["page:1"] == (2, [{"user_id": 1}])
    for key, (total, records) in pages.items():
        assert isinstance(key, str) and isinstance(total, int)
        assert all(isinstance(r, dict) for r in records)


def test_the_cache_module_only_touches_disk():
    """``loading/cache.py`` imports nothing of the API (no client, no transport, no lookup)."""
    import ast

    from selorax_analytics.loading import cache

    tree = ast.parse(Path(cache.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "selorax_analytics.loading._history" in imported  # the walk saw the imports
    assert not {m for m in imported if m and m.startswith("selorax_analytics.api")}
    assert "selorax_analytics.loading._store" not in imported


def test_a_plan_is_frozen_and_keyword_only():
    from dataclasses import FrozenInstanceError

    from selorax_analytics.loading._pipeline import Plan

    with pytest.raises(TypeError):
        Plan("customers", {})  # type: ignore[misc]
    plan = Plan(kind="orders", params={"since": None}, defaults={"since": None})
    with pytest.raises(FrozenInstanceError):
        plan.kind = "customers"  # type: ignore[misc]
    assert plan.name == "orders"  # the default parameters: cached under the kind alone
    other = Plan(kind="orders", params={"since": "2026-01-01T00:00:00Z"}, defaults=plan.params)
    assert other.name.startswith("orders-") and len(other.name) == len("orders-") + 10
