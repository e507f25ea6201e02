"""Loads of a store that changes: a resume after names changed, and a load under steady edits.

Expected names come from the sandbox's own SQLite database (a plain query), never from the
frame under test.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import httpx
import pytest

from selorax_analytics.api.client import Client
from selorax_analytics.loading._store import cache_dir_for
from selorax_analytics.loading.loaders import load_customers
from selorax_analytics.sandbox import DEMO_TOKEN, Faults, Sandbox

CUSTOMERS = 1500  # about 1,800 customers with guests: 8 pages


@pytest.fixture
def server(fresh_sandbox_factory):
    return fresh_sandbox_factory(customers=CUSTOMERS)


def store_names(server: Sandbox) -> dict[int, str]:
    query = "SELECT user_id, name FROM customers WHERE store_id = ?"
    with sqlite3.connect(f"file:{server.db.path}?mode=ro", uri=True) as db:
        return {int(i): str(n) for i, n in db.execute(query, (server.store_id,))}


class Interrupting(httpx.BaseTransport):
    """The real transport; the ``after``-th customers page raises KeyboardInterrupt (a Ctrl-C)."""

    def __init__(self, after: int) -> None:
        self.inner, self.after, self.seen = httpx.HTTPTransport(), after, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/customers"):
            self.seen += 1
            if self.seen == self.after:
                raise KeyboardInterrupt
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_resumed_load_holds_no_name_changed_since_it_was_interrupted(server):
    broken = Client(server.base_url, token=DEMO_TOKEN, transport=Interrupting(4), max_concurrency=1)
    with pytest.raises(KeyboardInterrupt):
        load_customers(broken, progress=False)
    journal = cache_dir_for(broken) / "customers.journal.jsonl"
    kept = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    kept_ids = [r["user_id"] for e in kept if e["key"].startswith("page:") for r in e["records"]]
    assert len(kept_ids) >= 500  # pages 1-3 were journaled
    admin = Client(server.base_url, token=DEMO_TOKEN)
    renamed = kept_ids[:300]  # customers on the journaled pages
    for user_id in renamed:
        admin.update_customer(user_id, name=f"Renamed {user_id}")

    frame = load_customers(Client(server.base_url, token=DEMO_TOKEN), progress=False)

    truth = store_names(server)
    got = dict(zip(frame["user_id"].astype(int), frame["name"], strict=True))
    assert got == truth
    assert all(truth[i] == f"Renamed {i}" for i in renamed)
    repair = frame.attrs["selorax"]["repair"]
    assert repair is not None and repair["resumed_pages"] >= 3
    assert repair["refreshed"] == 300
    assert repair["change_pages"] >= 2  # 300 changed rows are more than one page of 250


def test_a_load_under_five_edits_a_second_completes_with_names_held_during_it(server):
    server.faults = Faults(latency=0.05)  # each request 50 ms, as over a network
    admin = Client(server.base_url, token=DEMO_TOKEN)
    before = store_names(server)
    ids = sorted(before)
    stop, started = threading.Event(), threading.Event()
    edits: list[tuple[int, str]] = []  # (user_id, name) in the order the store accepted them

    def edit() -> None:
        number = 0
        # 5 a second, at most 150 edits (30 s); a load takes a few tenths of a second
        while number < 150 and not stop.wait(0.2 if number else 0):
            user_id = ids[(number * 7919) % len(ids)]
            admin.update_customer(user_id, name=f"Busy {number}")
            edits.append((user_id, f"Busy {number}"))
            number += 1
            started.set()

    editor = threading.Thread(target=edit)
    editor.start()
    loads = []
    try:
        assert started.wait(10)
        client = Client(server.base_url, token=DEMO_TOKEN)
        # load until 10 edits have landed during loads (about one per load; at most 40 loads,
        # so a slow machine still gets there while the editor runs)
        while len(loads) < 40 and sum(last - 1 - first for _, first, last in loads) < 10:
            first = len(edits)
            frame = load_customers(client, cache=False, progress=False)
            loads.append((frame, first, len(edits) + 1))  # +1: a PUT answered as the load ended
    finally:
        stop.set()
        editor.join(10)
    assert sum(last - 1 - first for _, first, last in loads) >= 10  # the store was busy
    after = store_names(server)
    for frame, first, last in loads:
        # the names each customer held at some moment during this load: the one it held as the
        # load began (the last edit before, else its original name) and those set meanwhile
        held = {i: {n} for i, n in before.items()}
        for user_id, name in edits[:first]:
            held[user_id] = {name}
        for user_id, name in edits[first:last]:
            held[user_id].add(name)
        assert frame["user_id"].is_unique
        assert set(frame["user_id"].astype(int)) == set(after)
        got = dict(zip(frame["user_id"].astype(int), frame["name"], strict=True))
        assert {i: n for i, n in got.items() if n not in held[i]} == {}
