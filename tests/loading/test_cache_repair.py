"""A corrupt cache repairs itself online and is refused, naming the file, offline.

Each case damages the files a clean load of a small sandbox store left, and loads again:
``refresh="auto"`` (and ``"full"``) must warn once per damaged file, load the store afresh and
replace the entry; ``refresh="never"`` must raise one ``CacheError`` naming the file and leave
the folder as it was.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import CacheError
from selorax_analytics.loading._store import cache_dir_for
from selorax_analytics.loading.cache import Entry
from selorax_analytics.loading.loaders import load_customers, load_orders, load_store
from selorax_analytics.sandbox import DEMO_TOKEN, api_frames, generate_store

SMALL = 600
USER_FILE = "my-notes.txt"


@pytest.fixture(scope="module")
def server(sandbox_factory):
    """A small store over real HTTP, shared by the module's tests (none of them changes it)."""
    return sandbox_factory(customers=SMALL).base_url


@pytest.fixture(scope="module")
def store_frames():
    """The store's frames as the loader types them, straight from the generator."""
    return api_frames(generate_store(customers=SMALL))


@pytest.fixture(scope="module")
def clean_cache(server, tmp_path_factory):
    """A cache root holding one clean load of the store (copied by each test)."""
    root = tmp_path_factory.mktemp("clean-cache")
    load_store(Client(server, token=DEMO_TOKEN), cache=root, progress=False)
    return root


@pytest.fixture
def demo(server, clean_cache, tmp_path):
    """``(client, store folder)`` with the clean cache copied into this test's cache root."""
    shutil.copytree(clean_cache, tmp_path / "cache")
    client = Client(server, token=DEMO_TOKEN)
    folder = cache_dir_for(client)
    assert (folder / "customers.parquet").is_file() and (folder / "orders.json").is_file()
    return client, folder


def edit_meta(path: Path, change: Callable[[dict], object]) -> None:
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def swap(a: Path, b: Path) -> None:
    spare = a.with_name("spare")
    a.rename(spare)
    b.rename(a)
    spare.rename(b)


def retype_total_spent(folder: Path) -> None:
    """``total_spent`` as text, the file otherwise matching its metadata (generation, rows)."""
    path = folder / "customers.parquet"
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame["total_spent"] = frame["total_spent"].astype(str)
    ours = {k: v for k, v in table.schema.metadata.items() if k.startswith(b"selorax")}
    new = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(new.replace_schema_metadata({**new.schema.metadata, **ours}), path)


def orders_relabelled_as_customers(folder: Path) -> None:
    """The orders files under the customers' names, their metadata edited to say customers."""
    shutil.copyfile(folder / "orders.parquet", folder / "customers.parquet")
    meta = json.loads((folder / "orders.json").read_text())
    meta.update(dataset="customers", params={"include_guests": True, "since": None})
    (folder / "customers.json").write_text(json.dumps(meta))


def folder_with_content(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / USER_FILE).write_text("not the cache's")


def empty_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


#: name -> (damage, the files a load must name, one warning each)
CASES: dict[str, tuple[Callable[[Path], object], list[str]]] = {
    "refreshed_at-not-a-time": (
        lambda f: edit_meta(f / "customers.json", lambda m: m.update(refreshed_at="not a time")),
        ["customers.json"],
    ),
    "refreshed_at-without-zone": (
        lambda f: edit_meta(f / "orders.json", lambda m: m.update(refreshed_at="2026-07-01")),
        ["orders.json"],
    ),
    "swapped-with-json": (
        lambda f: (
            swap(f / "customers.parquet", f / "orders.parquet"),
            swap(f / "customers.json", f / "orders.json"),
        ),
        ["customers.json", "orders.json"],
    ),
    "swapped-parquet-only": (
        lambda f: swap(f / "customers.parquet", f / "orders.parquet"),
        ["customers.parquet", "orders.parquet"],
    ),
    "orders-relabelled-as-customers": (orders_relabelled_as_customers, ["customers.parquet"]),
    "column-of-another-type": (retype_total_spent, ["customers.parquet"]),
    "parquet-is-a-folder-with-content": (
        lambda f: folder_with_content(f / "customers.parquet"),
        ["customers.parquet"],
    ),
    "parquet-is-an-empty-folder": (
        lambda f: empty_folder(f / "orders.parquet"),
        ["orders.parquet"],
    ),
    "json-is-a-folder": (lambda f: empty_folder(f / "customers.json"), ["customers.json"]),
    "json-is-a-folder-with-content": (
        lambda f: folder_with_content(f / "orders.json"),
        ["orders.json"],
    ),
    "truncated-parquet": (lambda f: truncate(f / "customers.parquet"), ["customers.parquet"]),
    "json-not-json": (lambda f: (f / "customers.json").write_text("{not json"), ["customers.json"]),
    "json-not-an-object": (lambda f: (f / "orders.json").write_text("[1, 2]"), ["orders.json"]),
    "rows-mismatch": (
        lambda f: edit_meta(f / "customers.json", lambda m: m.update(rows=m["rows"] + 1)),
        ["customers.parquet"],
    ),
    "generation-mismatch": (
        lambda f: edit_meta(f / "orders.json", lambda m: m.update(generation="0" * 32)),
        ["orders.parquet"],
    ),
    "other-parameters": (
        lambda f: edit_meta(f / "customers.json", lambda m: m["params"].update(since="2026")),
        ["customers.json"],
    ),
    "parquet-missing": (lambda f: (f / "orders.parquet").unlink(), ["orders.parquet"]),
    "watermark-not-a-time": (
        lambda f: edit_meta(f / "orders.json", lambda m: m["watermarks"].update(updated_at=5)),
        ["orders.json"],
    ),
}


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def expect_repaired(client, folder, store_frames, caplog, names, refresh):
    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        customers, orders = load_store(client, refresh=refresh, progress=False)
    messages = warnings_of(caplog)
    assert len(messages) == len(names), messages
    for name in names:
        naming = [m for m in messages if f"{folder / name} " in m]
        assert len(naming) == 1 and "\n" not in naming[0], messages
    pd.testing.assert_frame_equal(customers, store_frames[0])
    pd.testing.assert_frame_equal(orders, store_frames[1])
    # the entries were replaced: served from the cache, in one piece, without a word
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        again = load_store(client, progress=False)
    assert [f.attrs["selorax"]["source"] for f in again] == ["cache", "cache"]
    assert warnings_of(caplog) == []
    for kind, expected in zip(("customers", "orders"), store_frames, strict=True):
        pd.testing.assert_frame_equal(Entry(folder, kind, kind).read()[0], expected)


@pytest.mark.parametrize("case", list(CASES))
def test_corrupt_entry_is_reported_once_and_loaded_again(demo, store_frames, caplog, case):
    client, folder = demo
    damage, names = CASES[case]
    damage(folder)
    expect_repaired(client, folder, store_frames, caplog, names, "auto")


@pytest.mark.parametrize(
    "case", ["refreshed_at-not-a-time", "swapped-with-json", "parquet-is-a-folder-with-content"]
)
def test_corrupt_entry_is_replaced_by_a_full_refresh(demo, store_frames, caplog, case):
    client, folder = demo
    damage, names = CASES[case]
    damage(folder)
    expect_repaired(client, folder, store_frames, caplog, names, "full")


@pytest.mark.parametrize("case", list(CASES))
def test_corrupt_entry_offline_is_one_cache_error_naming_the_file(demo, case):
    client, folder = demo
    damage, names = CASES[case]
    damage(folder)
    before = snapshot(folder)
    name = names[0]
    loader = load_customers if name.startswith("customers") else load_orders
    with pytest.raises(CacheError) as caught:
        loader(client, refresh="never", progress=False)
    message = str(caught.value)
    assert f"{folder / name} " in message and "refresh='auto'" in message
    assert "\n" not in message
    assert snapshot(folder) == before  # offline, nothing is removed or moved


def test_a_folder_with_content_is_moved_aside_never_deleted(demo, store_frames, caplog):
    client, folder = demo
    folder_with_content(folder / "customers.parquet")
    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        customers = load_customers(client, progress=False)
    pd.testing.assert_frame_equal(customers, store_frames[0])
    [aside] = folder.glob("customers.parquet.corrupt-*")
    assert (aside / USER_FILE).read_text() == "not the cache's"
    [message] = warnings_of(caplog)
    assert str(aside) in message
    # an empty folder holds nothing of anyone's: it is removed, nothing is kept aside
    empty_folder(folder / "orders.json")
    load_orders(client, progress=False)
    assert not list(folder.glob("orders.json.corrupt-*"))
    assert (folder / "orders.json").is_file()


@pytest.fixture
def changed_store(fresh_sandbox_factory):
    """A small store of its own (these tests change it)."""
    return fresh_sandbox_factory(customers=300)


def convert_a_guest(server, client) -> int:
    customers = load_customers(client, progress=False)
    guest = int(customers.loc[customers["is_guest"], "user_id"].iloc[0])
    server.convert_guest(guest)
    return guest


@pytest.mark.parametrize("damage", ["other-columns", "folder-with-content", "not-parquet"])
def test_unusable_history_is_reported_once_and_started_again(changed_store, caplog, damage):
    client = Client(changed_store.base_url, token=DEMO_TOKEN)
    guest = convert_a_guest(changed_store, client)
    path = cache_dir_for(client) / "history.parquet"
    if damage == "other-columns":
        pq.write_table(pa.table({"user_id": [1], "note": ["x"]}), path)
    elif damage == "folder-with-content":
        path.mkdir()
        (path / USER_FILE).write_text("not the cache's")
    else:
        path.write_bytes(b"PAR1 not really")
    from selorax_analytics.loading.loaders import load_history

    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        assert load_history(client).empty  # read, not repaired: reported, ignored
        refreshed = load_customers(client, max_age=0, progress=False)
        history = load_history(client)
    messages = warnings_of(caplog)
    assert len(messages) == 2 and all(str(path) in m for m in messages), messages
    assert refreshed.attrs["selorax"]["changes"]["updated"] == 1
    # the history now holds exactly the refresh's changes, the guest's conversion among them
    assert set(history["user_id"]) == {guest}
    conversion = history[history["field"] == "is_guest"]
    assert conversion[["old", "new"]].values.tolist() == [["1", "0"]]
    if damage == "folder-with-content":
        [aside] = path.parent.glob("history.parquet.corrupt-*")
        assert (aside / USER_FILE).read_text() == "not the cache's"


def test_unusable_history_without_changes_is_still_cleared(changed_store, caplog):
    client = Client(changed_store.base_url, token=DEMO_TOKEN)
    load_customers(client, progress=False)
    path = cache_dir_for(client) / "history.parquet"
    path.mkdir()
    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        refreshed = load_customers(client, max_age=0, progress=False)
    assert refreshed.attrs["selorax"]["changes"]["updated"] == 0
    assert len(warnings_of(caplog)) == 1 and not path.exists()
    caplog.clear()
    from selorax_analytics.loading.loaders import load_history

    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        assert load_history(client).empty
    assert warnings_of(caplog) == []


def test_a_folder_at_the_journal_path_is_moved_aside(demo, store_frames, caplog):
    client, folder = demo
    journal = folder / "customers.journal.jsonl"
    journal.mkdir()
    (journal / USER_FILE).write_text("not the cache's")
    with caplog.at_level(logging.WARNING, logger="selorax_analytics"):
        customers = load_customers(client, refresh="full", progress=False)
    pd.testing.assert_frame_equal(customers, store_frames[0])
    [aside] = folder.glob("customers.journal.jsonl.corrupt-*")
    assert (aside / USER_FILE).read_text() == "not the cache's"
    [message] = warnings_of(caplog)
    assert str(journal) in message and str(aside) in message
    assert not journal.exists()  # the load finished: its journal is gone
