"""Record bodies in the forms an upstream may send: each load gives the clean frames (unknown
fields aside, kept as extra columns) or one :class:`DataError` naming the field and the record.

Every scenario serves the reference API's records with one thing changed in how they are
written (money as text, ids as text, fields left out, ...), at the HTTP level, on every list
page, and loads them with ``sa.load_store``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import random
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.exceptions import DataError, SeloraxError

from .scripted import Reply, Request, Upstream
from .store import MONEY, PREFIX, StoreApi

Record = dict[str, Any]
Change = Callable[[str, Record], Record]
DHAKA = dt.timezone(dt.timedelta(hours=6))


def rewritten(api: StoreApi, change: Change) -> Callable[[Request], Reply]:
    """A handler answering as ``api`` does, each record of a list page passed through
    ``change(kind, record)`` (a copy: the API's own records stay as they are)."""

    def handler(request: Request) -> Reply:
        reply = api(request)
        path = request.path.removeprefix(PREFIX)
        kind = (
            "customers" if path == "/customers" else "orders" if path.endswith("/orders") else None
        )
        if kind is None or reply.status != 200:
            return reply
        body = copy.deepcopy(reply.body)
        body["data"] = [change(kind, record) for record in body["data"]]
        return dataclasses.replace(reply, body=body)

    return handler


def load(up: Upstream, client_for: Callable[..., sa.Client]) -> tuple[pd.DataFrame, pd.DataFrame]:
    with client_for(up) as client:
        return sa.load_store(client, cache=False, progress=False)


def assert_clean(frames: tuple[pd.DataFrame, ...], clean_frames: tuple[pd.DataFrame, ...]) -> None:
    for got, expected in zip(frames, clean_frames, strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


# --- one change at a time ---------------------------------------------------------------------


def money_as_text(kind: str, record: Record) -> Record:
    if kind == "orders":
        return {**record, **{m: f"{record[m]:.2f}" for m in MONEY}}
    return {**record, "total_spent": str(record["total_spent"])}


def money_as_integers(kind: str, record: Record) -> Record:
    """Whole amounts as JSON integers (``1460``, as the documentation shows them)."""
    if kind == "customers":
        return record
    return {**record, **{m: int(record[m]) for m in MONEY if float(record[m]).is_integer()}}


def counts_and_ids_as_text(kind: str, record: Record) -> Record:
    fields = (
        ("user_id", "store_id", "total_orders")
        if kind == "customers"
        else ("order_id", "store_id", "user_id")
    )
    return {**record, **{f: str(record[f]) for f in fields}}


def nulls_left_out(kind: str, record: Record) -> Record:
    return {
        k: v
        for k, v in record.items()
        if not (v is None and k in ("email", "note", "address_json"))
    }


def is_guest_as_bool(kind: str, record: Record) -> Record:
    return {**record, "is_guest": bool(record["is_guest"])} if kind == "customers" else record


def is_guest_as_text(kind: str, record: Record) -> Record:
    return {**record, "is_guest": str(record["is_guest"])} if kind == "customers" else record


def address_as_json_text(kind: str, record: Record) -> Record:
    """``address_json`` as the JSON text of the object (ASCII escapes, no spaces)."""
    address = record.get("address_json")
    if kind == "orders" or address is None:
        return record
    return {**record, "address_json": json.dumps(address, separators=(",", ":"))}


def dhaka_time(text: str) -> str:
    """The same instant written at +06:00 with milliseconds: ``2026-07-01T00:00:00.000+06:00``."""
    at = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(DHAKA)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+06:00"


def times_at_dhaka_offset(kind: str, record: Record) -> Record:
    return {
        **record,
        "created_at": dhaka_time(record["created_at"]),
        "updated_at": dhaka_time(record["updated_at"]),
    }


def times_in_microseconds(kind: str, record: Record) -> Record:
    return {**record, **{f: record[f].replace("Z", "000Z") for f in ("created_at", "updated_at")}}


SAME_VALUES: dict[str, Change] = {
    "money as text": money_as_text,
    "money as integers": money_as_integers,
    "ids and counts as text": counts_and_ids_as_text,
    "optional fields left out": nulls_left_out,
    "is_guest as true/false": is_guest_as_bool,
    "is_guest as '0'/'1'": is_guest_as_text,
    "address_json as JSON text": address_as_json_text,
    "times at +06:00": times_at_dhaka_offset,
    "times in microseconds": times_in_microseconds,
}


@pytest.mark.parametrize("change", list(SAME_VALUES.values()), ids=list(SAME_VALUES))
def test_the_same_values_written_another_way_load_the_clean_frames(
    change, upstream, client_for, clean_frames
):
    api = StoreApi()
    up = upstream(rewritten(api, change))
    assert_clean(load(up, client_for), clean_frames)
    sent = [r for r in up.requests if r.path.endswith(("/customers", "/orders"))]
    assert len(sent) >= 4  # several pages of each list went through the change


def test_money_forms_really_differ_on_the_wire(store_api):
    """The scenarios above change something: the reference API sends numbers, some whole."""
    amounts = [o["grand_total"] for o in store_api.orders]
    assert all(isinstance(a, float) for a in amounts)
    assert any(a.is_integer() for a in amounts) and not all(a.is_integer() for a in amounts)
    assert (
        money_as_text("orders", {**store_api.orders[0], "grand_total": 1460.0})["grand_total"]
        == "1460.00"
    )
    assert any(c["email"] is None for c in store_api.customers)
    assert any(c["address_json"] is None for c in store_api.customers)
    assert any(o["note"] is None for o in store_api.orders)
    assert dhaka_time("2026-06-30T18:00:00.250Z") == "2026-07-01T00:00:00.250+06:00"


#: Forms of the same field exclude each other: a record takes at most one of each group.
GROUPS = [
    [money_as_text, money_as_integers],
    [is_guest_as_bool, is_guest_as_text],
    [times_at_dhaka_offset, times_in_microseconds],
    [counts_and_ids_as_text],
    [nulls_left_out],
    [address_as_json_text],
]


def test_every_form_mixed_record_by_record(upstream, client_for, clean_frames):
    """Each record written with its own draw of the forms above, all on the same pages."""
    rng = random.Random(11)
    drawn: list[int] = []

    def mixed(kind: str, record: Record) -> Record:
        for group in GROUPS:
            pick = rng.randrange(len(group) + 1)  # len(group): as the API writes it
            drawn.append(pick)
            if pick < len(group):
                record = group[pick](kind, record)
        return record

    up = upstream(rewritten(StoreApi(), mixed))
    assert_clean(load(up, client_for), clean_frames)
    assert len(set(drawn)) == 3  # every form of every group was drawn, and none


def test_unknown_fields_are_kept_as_extra_columns(upstream, client_for, clean_frames):
    def extended(kind: str, record: Record) -> Record:
        key = record["user_id"] if kind == "customers" else record["order_id"]
        return {
            **record,
            "tags": ["vip"] if key % 2 else [],
            "loyalty": {"tier": key % 3},
            "points": key,
        }

    up = upstream(rewritten(StoreApi(), extended))
    for got, expected, id_field in zip(
        load(up, client_for), clean_frames, ("user_id", "order_id"), strict=True
    ):
        documented = list(expected.columns)
        assert list(got.columns) == [*documented, "tags", "loyalty", "points"]
        pd.testing.assert_frame_equal(got[documented], expected, check_exact=True)
        ids = expected[id_field].astype("int64")
        assert got["points"].tolist() == ids.tolist()
        assert got["tags"].tolist() == ['["vip"]' if i % 2 else "[]" for i in ids]
        assert got["loyalty"].tolist() == [f'{{"tier": {i % 3}}}' for i in ids]


def test_address_json_null_and_malformed(upstream, client_for, clean_frames):
    """Malformed text is kept as sent with null flattened fields; null stays null; the rest is
    the clean frame."""
    api = StoreApi()
    with_address = [c["user_id"] for c in api.customers if c["address_json"] is not None]
    broken = set(with_address[::7])

    def damaged(kind: str, record: Record) -> Record:
        if kind == "customers" and record["user_id"] in broken:
            return {**record, "address_json": '{"city": "Dhaka", "area": '}
        return record

    customers, orders = load(upstream(rewritten(api, damaged)), client_for)
    clean_customers, clean_orders = clean_frames
    pd.testing.assert_frame_equal(orders, clean_orders)
    hit = customers["user_id"].isin(broken).to_numpy()
    assert hit.sum() == len(broken) > 10
    assert (customers.loc[hit, "address_json"] == '{"city": "Dhaka", "area": ').all()
    assert customers.loc[hit, ["address", "city", "area"]].isna().all().all()
    assert clean_customers.loc[hit, "city"].notna().all()  # the clean load had them
    pd.testing.assert_frame_equal(customers[~hit], clean_customers[~hit])
    assert clean_customers["address_json"].isna().any()  # null addresses are in both, as null


def test_times_without_milliseconds(upstream, client_for):
    """Whole-second times, sent as ``...:00Z`` and ``...:00+06:00``, give the frames of the same
    records sent in the API's form (``...:00.000Z``)."""
    api = StoreApi()
    for record in [*api.customers, *api.orders]:
        for field in ("created_at", "updated_at"):
            record[field] = record[field][:19] + ".000Z"
    expected = load(upstream(api), client_for)

    def seconds(kind: str, record: Record) -> Record:
        out = dict(record)
        out["created_at"] = record["created_at"][:19] + "Z"
        out["updated_at"] = dhaka_time(record["updated_at"])[:19] + "+06:00"
        return out

    assert seconds(
        "orders",
        {"created_at": "2026-06-30T18:00:00.000Z", "updated_at": "2026-06-30T18:00:00.000Z"},
    ) == {
        "created_at": "2026-06-30T18:00:00Z",
        "updated_at": "2026-07-01T00:00:00+06:00",
    }
    assert_clean(load(upstream(rewritten(api, seconds)), client_for), expected)
    assert (expected[1]["created_at"].dt.microsecond == 0).all()


# --- values that cannot be typed --------------------------------------------------------------


BAD = [
    ("orders", "grand_total", "abc"),
    ("orders", "order_id", "x"),
    ("orders", "created_at", "yesterday"),
    ("customers", "user_id", "x"),
    ("customers", "total_spent", "1,500"),
    ("customers", "is_guest", "yes"),
    ("customers", "created_at", "2026-13-01T00:00:00.000Z"),
]


@pytest.mark.parametrize(("kind", "field", "value"), BAD, ids=[f"{k} {f} {v}" for k, f, v in BAD])
def test_a_value_that_cannot_be_typed_is_one_data_error(kind, field, value, upstream, client_for):
    api = StoreApi()
    records = api.customers if kind == "customers" else api.orders
    id_field = "user_id" if kind == "customers" else "order_id"
    target = records[len(records) // 2][id_field]  # a record on a page after the first

    def spoiled(page_kind: str, record: Record) -> Record:
        if page_kind == kind and record.get(id_field) == target:
            return {**record, field: value}
        return record

    up = upstream(rewritten(api, spoiled))
    with pytest.raises(SeloraxError) as caught:
        load(up, client_for)
    assert type(caught.value) is DataError
    message = str(caught.value)
    if field == id_field:  # refused by the page walk, which reads every id as pages arrive
        assert f"`{field}` of a record is {value!r}, not a whole number" in message
    else:  # refused by the typing, which names the record by its position and id
        assert f"`{field}` of record " in message and repr(value) in message
        assert f"{id_field} {target}" in message
        assert "fix or drop that record" in message


def test_an_id_left_out_is_one_data_error(upstream, client_for):
    api = StoreApi()
    target = api.orders[300]["order_id"]

    def without_id(kind: str, record: Record) -> Record:
        if kind == "orders" and record.get("order_id") == target:
            return {k: v for k, v in record.items() if k != "order_id"}
        return record

    with pytest.raises(SeloraxError) as caught:
        load(upstream(rewritten(api, without_id)), client_for)
    assert type(caught.value) is DataError
    assert "`order_id` of a record is missing, not a whole number" in str(caught.value)
