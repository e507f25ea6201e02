"""The cache: location, metadata, secrets, corruption, offline use and incremental refresh."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import CacheError, ConnectionFailedError
from selorax_analytics.loading._store import cache_dir_for
from selorax_analytics.loading.cache import Journal
from selorax_analytics.loading.loaders import load_customers, load_history, load_orders
from selorax_analytics.sandbox import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_TOKEN,
    SECOND_STORE_TOKEN,
    Credential,
    api_frames,
    generate_store,
)

SMALL = 600
SECRET_TOKEN = "sx_at_CacheCanary7Zq31Unique"


@pytest.fixture
def store(fresh_sandbox_factory):
    """A fresh small store per test (tests here change it)."""
    return fresh_sandbox_factory(customers=SMALL, tokens={SECRET_TOKEN: Credential("canary", 22)})


@pytest.fixture(scope="module")
def frames():
    return api_frames(generate_store(customers=SMALL))


def count(server, endpoint, label="demo-full"):
    return server.request_counts().get((f"GET /api/apps/v1/{endpoint}", label), 0)


def test_folder_per_host_and_store_and_one_store_lookup(store, tmp_path):
    one = Client(store.base_url, token=DEMO_TOKEN)
    folder = cache_dir_for(one)
    host = store.base_url.removeprefix("http://").replace(":", "_")
    assert folder == tmp_path / "cache" / host / "store-22"
    assert cache_dir_for(Client(store.base_url, token=DEMO_TOKEN)) == folder
    assert count(store, "store") == 1  # remembered afterwards, under a hash of the token
    index = (folder.parent / "stores.json").read_text()
    assert DEMO_TOKEN not in index
    by_store = Client(store.base_url, client_id="x_app", client_secret="x_secret", store_id=22)
    assert cache_dir_for(by_store) == folder
    assert cache_dir_for(one, tmp_path / "elsewhere").parent.parent == tmp_path / "elsewhere"


def test_store_endpoint_unavailable_names_the_folder_by_a_token_hash_not_remembered(tmp_path):
    transport = httpx.MockTransport(lambda r: httpx.Response(404, json={"message": "No endpoint"}))
    client = Client("http://api.test", token=SECRET_TOKEN, transport=transport)
    folder = cache_dir_for(client)
    assert folder.name.startswith("token-") and "Canary" not in folder.name
    assert not (folder.parent / "stores.json").exists()  # asked again next time


def test_metadata_and_no_secret_on_disk(store, frames):
    client = Client(store.base_url, token=SECRET_TOKEN)
    load_customers(client, progress=False)
    store.convert_guest(int(frames[0].loc[frames[0]["is_guest"], "user_id"].iloc[0]))
    load_customers(client, max_age=0, progress=False)
    load_orders(client, since="2026-01-01", progress=False)
    folder = cache_dir_for(client)
    meta = json.loads((folder / "customers.json").read_text())
    assert meta["schema_version"] == 1 and meta["package_version"]
    assert meta["params"] == {"include_guests": True, "since": None}
    assert meta["rows"] == len(frames[0]) and "refreshed_at" in meta
    assert set(meta["watermarks"]) == {"created_at", "updated_at"}
    files = [p for p in folder.parent.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".parquet", ".json"}
    assert not [p for p in files if p.name.endswith(".tmp")]
    for path in files:
        assert SECRET_TOKEN.encode() not in path.read_bytes(), path


def test_refresh_auto_never_and_full(store, frames):
    client = Client(store.base_url, token=DEMO_TOKEN)
    with pytest.raises(CacheError, match="refresh='never'"):
        load_orders(client, refresh="never")
    load_orders(client, progress=False)
    before = count(store, "orders")
    offline = load_orders(client, refresh="never", progress=False)
    assert count(store, "orders") == before
    pd.testing.assert_frame_equal(offline, frames[1])
    full = load_orders(client, refresh="full", progress=False)
    assert count(store, "orders") - before == -(-len(frames[1]) // 250) + 1
    pd.testing.assert_frame_equal(full, frames[1])


def test_incremental_refresh_matches_a_full_reload_and_keeps_history(store, frames):
    customers = frames[0]
    client = Client(store.base_url, token=DEMO_TOKEN)
    load_customers(client, progress=False)
    load_orders(client, progress=False)
    guest = int(customers.loc[customers["is_guest"], "user_id"].iloc[3])
    buyer = int(customers["user_id"].iloc[10])
    store.convert_guest(guest)
    new_order = store.add_order(buyer, 1460.0)
    store.set_order_status(int(frames[1]["order_id"].iloc[-1]), "delivered")
    before = count(store, "orders")
    orders = load_orders(client, max_age=0, progress=False)
    assert orders.attrs["selorax"]["refresh"] == "incremental"
    assert count(store, "orders") - before == 1  # one page of recently updated orders
    fresh = load_orders(client, cache=False, progress=False)
    pd.testing.assert_frame_equal(orders, fresh)
    assert new_order in set(orders["order_id"])
    refreshed = load_customers(client, max_age=0, progress=False)
    pd.testing.assert_frame_equal(refreshed, load_customers(client, cache=False, progress=False))
    assert refreshed.attrs["selorax"]["changes"] == {"added": 0, "removed": 0, "updated": 2}
    history = load_history(client)
    assert list(history.columns) == ["user_id", "changed_at", "field", "old", "new"]
    assert str(history["changed_at"].dtype) == "datetime64[us, UTC]"
    conversion = history[(history["user_id"] == guest) & (history["field"] == "is_guest")]
    assert conversion[["old", "new"]].values.tolist() == [["1", "0"]]
    new_updated = refreshed.loc[refreshed["user_id"] == guest, "updated_at"].iloc[0]
    assert conversion["changed_at"].iloc[0] == new_updated
    bought = history[(history["user_id"] == buyer) & (history["field"] == "total_orders")]
    old_total = int(customers.loc[customers["user_id"] == buyer, "total_orders"].iloc[0])
    assert bought[["old", "new"]].values.tolist() == [[str(old_total), str(old_total + 1)]]
    # a second refresh records nothing twice
    load_customers(client, max_age=0, progress=False)
    assert len(load_history(client)) == len(history)


def test_per_customer_refresh_rereads_only_changed_customers(store, frames):
    client = Client(store.base_url, token=CUSTOMERS_ONLY_TOKEN)
    label = "demo-read-customers"
    load_orders(client, progress=False)
    buyers = frames[0].loc[frames[0]["total_orders"] > 0, "user_id"]
    store.add_order(int(buyers.iloc[0]), 990.0)
    store.add_order(int(buyers.iloc[5]), 120.0)
    before = count(store, "customers/{id}/orders", label)
    refreshed = load_orders(client, max_age=0, progress=False)
    assert count(store, "customers/{id}/orders", label) - before == 2
    assert refreshed.attrs["selorax"]["refresh"] == "incremental"
    full = load_orders(Client(store.base_url, token=DEMO_TOKEN), cache=False, progress=False)
    pd.testing.assert_frame_equal(refreshed, full)


def test_journal_keeps_pages_whose_text_holds_line_separators(tmp_path):
    # U+2028 and U+2029 are line breaks to str.splitlines(); in a JSON string they stay raw
    records = [
        {"user_id": 1, "name": "Rahim\u2028Uddin", "note": "a\u2029b\rc"},
        {"user_id": 2, "name": "Karim", "address_json": {"city": "Dhaka"}},
    ]
    path = tmp_path / "customers.journal.jsonl"
    journal = Journal(path, "fingerprint")
    journal.record("page:1", 2, records)
    journal.record("page:2", 2, [])
    journal.close()
    again = Journal(path, "fingerprint").done()
    assert again == {"page:1": (2, records), "page:2": (2, [])}
    # a line cut short by a crash is skipped; the finished ones are kept
    with path.open("ab") as handle:
        handle.write(b'{"key": "page:3", "total": 2, "recor')
    assert set(Journal(path, "fingerprint").done()) == {"page:1", "page:2"}
    assert Journal(path, "other fingerprint").done() == {}


class SlowStoreLookup(httpx.HTTPTransport):
    """Real HTTP; each ``GET /store`` answer is held until every token's lookup has started."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/store"):
            self.barrier.wait(10)  # the lookups of the tokens overlap
        return super().handle_request(request)


def test_lookups_of_several_tokens_run_together_and_all_are_remembered(store, tmp_path):
    tokens = [DEMO_TOKEN, SECOND_STORE_TOKEN, SECRET_TOKEN]
    barrier = threading.Barrier(len(tokens))
    clients = [Client(store.base_url, token=t, transport=SlowStoreLookup(barrier)) for t in tokens]
    with ThreadPoolExecutor(len(tokens)) as pool:
        folders = list(pool.map(lambda c: cache_dir_for(c, tmp_path), clients))
    # one lookup per token, all at once (a single lock over all of them would break the barrier)
    assert [f.name for f in folders] == ["store-22", "store-23", "store-22"]
    assert sum(n for (e, _), n in store.request_counts().items() if e.endswith("/store")) == 3
    # every token's store is remembered, none lost to another lookup writing meanwhile
    store.reset_counts()
    again = [cache_dir_for(Client(store.base_url, token=t), tmp_path) for t in tokens]
    assert again == folders and store.request_counts() == {}
    assert SECRET_TOKEN not in (folders[0].parent / "stores.json").read_text()


@pytest.fixture(scope="module")
def unchanged(sandbox_factory):
    """A small store shared by the tests that only read it."""
    return sandbox_factory(customers=SMALL)


class FlakyStoreLookup(httpx.HTTPTransport):
    """Real HTTP, except that the first ``GET /store`` answers get ``failures`` in turn.

    A failure is a status code, a ``store_id`` to answer with 200, or an exception to raise.
    """

    def __init__(self, *failures: object) -> None:
        super().__init__()
        self.failures = list(failures)
        self.lookups = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/store"):
            return super().handle_request(request)
        self.lookups += 1
        if not self.failures:
            return super().handle_request(request)
        failure = self.failures.pop(0)
        if isinstance(failure, Exception):
            raise failure
        if isinstance(failure, int) and not isinstance(failure, bool) and failure >= 400:
            return httpx.Response(failure, json={"message": "Unavailable.", "status": failure})
        return httpx.Response(200, json={"data": {"store_id": failure}, "status": 200})


def token_key(base_url: str, token: str) -> str:
    """What an earlier version files a token under in stores.json: sha256 of host|token."""
    host = base_url.removeprefix("http://")
    return hashlib.sha256(f"{host}|{token}".encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    "failure", [404, 403, 503, "abc", None, True, -4], ids=lambda f: f"store-answers-{f}"
)
def test_a_failed_store_lookup_is_used_once_and_never_remembered(unchanged, frames, failure):
    flaky = FlakyStoreLookup(failure)
    first = load_customers(
        Client(unchanged.base_url, token=DEMO_TOKEN, transport=flaky, max_retries=0), progress=False
    )
    pd.testing.assert_frame_equal(first, frames[0])
    folder = Path(first.attrs["selorax"]["cache_dir"])
    assert folder.name == f"token-{token_key(unchanged.base_url, DEMO_TOKEN)[:12]}"
    stores = folder.parent / "stores.json"
    assert not stores.exists()
    # the store answers now: the next load asks again and lands in the store's folder
    answering = FlakyStoreLookup()
    again = load_customers(Client(unchanged.base_url, token=DEMO_TOKEN, transport=answering))
    assert answering.lookups == 1
    assert Path(again.attrs["selorax"]["cache_dir"]) == folder.parent / "store-22"
    assert json.loads(stores.read_text()) == {token_key(unchanged.base_url, DEMO_TOKEN): "store-22"}
    third = FlakyStoreLookup()
    cached = load_customers(Client(unchanged.base_url, token=DEMO_TOKEN, transport=third))
    assert third.lookups == 0 and cached.attrs["selorax"]["source"] == "cache"


def test_a_lookup_that_fails_once_and_is_retried_lands_in_the_store_folder(unchanged):
    flaky = FlakyStoreLookup(503)
    client = Client(unchanged.base_url, token=DEMO_TOKEN, transport=flaky)
    assert cache_dir_for(client).name == "store-22" and flaky.lookups == 2


def test_a_store_lookup_without_connection_fails_the_load_and_records_nothing(unchanged, tmp_path):
    cut = httpx.ConnectError("connection refused")
    client = Client(
        unchanged.base_url, token=DEMO_TOKEN, transport=FlakyStoreLookup(cut, cut), max_retries=0
    )
    with pytest.raises(ConnectionFailedError):
        load_customers(client, progress=False)
    # offline, only the cache is wanted: no cache is the error, not the network
    with pytest.raises(CacheError, match="refresh='never'"):
        load_customers(client, refresh="never", progress=False)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))
    answering = FlakyStoreLookup()
    loaded = load_customers(Client(unchanged.base_url, token=DEMO_TOKEN, transport=answering))
    assert Path(loaded.attrs["selorax"]["cache_dir"]).name == "store-22"


@pytest.mark.parametrize(
    "recorded",
    ["token-0123456789ab", "../../elsewhere", "store-22/../../x", 22],
    ids=["old-recorded-failure", "a-path", "a-path-inside", "not-text"],
)
def test_stores_json_names_only_store_folders(unchanged, tmp_path, recorded):
    host_dir = tmp_path / "cache" / unchanged.base_url.removeprefix("http://").replace(":", "_")
    host_dir.mkdir(parents=True)
    key = token_key(unchanged.base_url, DEMO_TOKEN)
    (host_dir / "stores.json").write_text(json.dumps({key: recorded, "other": "store-7"}))
    lookup = FlakyStoreLookup()
    folder = cache_dir_for(Client(unchanged.base_url, token=DEMO_TOKEN, transport=lookup))
    assert folder == host_dir / "store-22" and lookup.lookups == 1
    remembered = json.loads((host_dir / "stores.json").read_text())
    assert remembered == {key: "store-22", "other": "store-7"}


@pytest.mark.parametrize("damage", ["not-json", "a-list", "a-folder-with-content"])
def test_unreadable_stores_json_is_reported_once_and_written_again(
    unchanged, tmp_path, caplog, damage
):
    host_dir = tmp_path / "cache" / unchanged.base_url.removeprefix("http://").replace(":", "_")
    host_dir.mkdir(parents=True)
    stores = host_dir / "stores.json"
    if damage == "not-json":
        stores.write_text("{not json")
    elif damage == "a-list":
        stores.write_text("[1, 2]")
    else:
        stores.mkdir()
        (stores / "mine.txt").write_text("not the cache's")
    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        folder = cache_dir_for(Client(unchanged.base_url, token=DEMO_TOKEN))
    assert folder.name == "store-22"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and str(stores) in warnings[0]
    assert json.loads(stores.read_text()) == {token_key(unchanged.base_url, DEMO_TOKEN): "store-22"}
    if damage == "a-folder-with-content":
        [aside] = host_dir.glob("stores.json.corrupt-*")
        assert (aside / "mine.txt").read_text() == "not the cache's"
