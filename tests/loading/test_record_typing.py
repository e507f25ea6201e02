"""Record typing: ``to_frame``'s fast path gives exactly the frames of the general path.

The reference is the general path (``general_frame``: ``DataFrame.from_records``, then
``coerce_customers`` / ``coerce_orders``, then a stable sort by id), which takes every documented
form. Each case also checks which path took the records (``fast_frame`` is None when the fast
path does not take them), so an equality is never the general path compared with itself by
accident, and a few values are checked against numbers worked out by hand.
"""

from __future__ import annotations

import json
import pickle
import re
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from selorax_analytics.exceptions import DataError
from selorax_analytics.loading._columns import _utc_millis  # see test_time_fast_form_against_pandas
from selorax_analytics.loading._typing import (
    KINDS,
    fast_frame,
    general_frame,
    to_frame,
)
from selorax_analytics.sandbox import DEMO_TOKEN

PATHS = {
    "customers": "/api/apps/v1/customers?include_guests=true&limit=250&page={}",
    "orders": "/api/apps/v1/orders?limit=250&page={}",
}
MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")


@pytest.fixture(scope="module")
def api_records(sandbox) -> dict[str, list[dict[str, Any]]]:
    """Every customer (with guests) and order record the demo store's list endpoints send."""
    out: dict[str, list[dict[str, Any]]] = {}
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=60) as http:
        for kind, path in PATHS.items():
            rows: list[dict[str, Any]] = []
            page = 1
            while data := http.get(path.format(page)).raise_for_status().json()["data"]:
                rows += data
                page += 1
            out[kind] = rows
    return out


@pytest.fixture
def records(api_records):
    """A private copy of every record, so a case may change (not mutate in place) their fields."""
    return {kind: [dict(row) for row in rows] for kind, rows in api_records.items()}


def assert_same(rows: list[dict[str, Any]], kind: str, *, one_pass: bool = True) -> pd.DataFrame:
    """``to_frame(rows)`` equals the general path's frame; ``one_pass``: the fast path took them."""
    before = pickle.dumps(rows)
    got = to_frame(rows, kind)
    assert pickle.dumps(rows) == before  # records, and the objects in them, are not changed
    assert (fast_frame(rows, kind) is not None) == one_pass
    expected = general_frame(rows, kind)
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_categorical=True)
    assert list(got.dtypes.astype(str)) == list(expected.dtypes.astype(str))
    for column in got.select_dtypes("category"):
        pd.testing.assert_index_equal(got[column].cat.categories, expected[column].cat.categories)
    return got


# --- as the API sends them --------------------------------------------------------------------


def test_demo_store_records_take_the_one_pass_path(api_records):
    assert len(api_records["customers"]) == 5_065 and len(api_records["orders"]) == 7_020
    for kind, rows in api_records.items():
        assert_same(rows, kind)


def test_demo_store_frames_match_the_generator(api_records, demo_frames):
    customers, orders = demo_frames
    pd.testing.assert_frame_equal(to_frame(api_records["orders"], "orders"), orders)
    got = to_frame(api_records["customers"], "customers")
    assert got["user_id"].tolist() == customers["user_id"].tolist()
    pd.testing.assert_series_equal(got["address_json"], customers["address_json"])


def test_values_worked_out_by_hand():
    rows = [
        {
            "user_id": 9,
            "store_id": 22,
            "name": "রহিম",
            "email": None,
            "phone": "01712345678",
            "address_json": {"city": "Dhaka", "area": 'Mirpur "10"', "address": "Road\\2"},
            "is_guest": 1,
            "created_at": "2024-02-29T23:59:59.999Z",
            "updated_at": "2024-03-01T05:59:59.999+06:00",
            "total_orders": 2,
            "total_spent": "1460.50",
        },
        {
            "user_id": 3,
            "store_id": 22,
            "name": "Karim",
            "email": "k@example.com",
            "phone": "01812345678",
            "address_json": None,
            "is_guest": 0,
            "created_at": "1999-12-31T00:00:00.000Z",
            "updated_at": "2000-01-01T00:00:00.000Z",
            "total_orders": 0,
            "total_spent": "0.00",
        },
    ]
    got = to_frame(rows, "customers")
    assert got["user_id"].tolist() == [3, 9]
    text = '{"city": "Dhaka", "area": "Mirpur \\"10\\"", "address": "Road\\\\2"}'
    assert got.loc[1, "address_json"] == text
    assert json.loads(text) == rows[0]["address_json"]
    assert (got.loc[1, "address"], got.loc[1, "city"], got.loc[1, "area"]) == (
        "Road\\2",
        "Dhaka",
        'Mirpur "10"',
    )
    assert pd.isna(got.loc[0, "address_json"]) and pd.isna(got.loc[0, "city"])
    assert got["is_guest"].tolist() == [False, True]
    assert got["total_spent"].tolist() == [0.0, 1460.5]
    # 2024 is a leap year; +06:00 is Dhaka time, six hours ahead of UTC
    leap_day_end = pd.Timestamp("2024-02-29 23:59:59.999", tz="UTC")
    assert got.loc[1, "created_at"] == leap_day_end
    assert got.loc[1, "updated_at"] == leap_day_end
    assert got.loc[0, "created_at"].value == 946_598_400 * 10**9  # date -u -d 1999-12-31 +%s
    assert_same(rows, "customers")


# --- awkward input ------------------------------------------------------------------------------


def test_address_json_as_text_and_every_odd_value(records):
    rows = records["customers"]
    odd = [
        None,
        "",
        "not json",
        "[1, 2]",
        '"just text"',
        "{}",
        {},
        {"address": 12, "city": None, "zone": {"a": 1}},
        {"area": "Gulshan", "city": "ঢাকা", "address": "বাড়ি ৫"},
        {"city": "Sylhet"},
        json.dumps({"address": "House 1", "city": "Khulna", "area": None}),
        '{"address": "House 2", "city": 7}',
    ]
    for i, row in enumerate(rows):
        value = row["address_json"]
        if i % 3 == 0 and value is not None:
            row["address_json"] = json.dumps(value, ensure_ascii=False)
        elif i % 3 == 1:
            row["address_json"] = odd[(i // 3) % len(odd)]
    got = assert_same(rows, "customers")
    assert set(got["address_json"].dropna()) >= {"", "not json", "[1, 2]", "{}"}


def test_address_json_all_text_all_null_or_left_out(records):
    rows = records["customers"]
    for row in rows:
        if row["address_json"] is not None:
            row["address_json"] = json.dumps(row["address_json"], ensure_ascii=False)
    assert_same(rows, "customers")
    for row in rows:
        row["address_json"] = None
    assert_same(rows, "customers")
    for row in rows:
        del row["address_json"]
    got = assert_same(rows, "customers")
    assert got["address_json"].isna().all() and got["city"].isna().all()


def test_money_as_numeric_text(records):
    for row in records["orders"]:
        for column in MONEY:
            row[column] = f"{row[column]:.2f}"
    got = assert_same(records["orders"], "orders")
    expected = pd.to_numeric(pd.Series([r["grand_total"] for r in records["orders"]]))
    assert np.isclose(got["grand_total"].sum(), expected.sum())
    for row in records["customers"]:
        row["total_spent"] = f"{row['total_spent']}.00"
    assert_same(records["customers"], "customers")


@pytest.mark.parametrize(
    "value",
    [True, 3, 2.5, None, "7", "1e3", "-0.5", float("nan")],
)
def test_money_of_other_kinds(records, value):
    rows = records["orders"][:300]
    for row in rows[::7]:
        row["discount"] = value
    assert_same(rows, "orders", one_pass=not isinstance(value, str))


@pytest.mark.parametrize(
    ("field", "value", "one_pass"),
    [
        ("store_id", True, True),
        ("total_orders", 2.0, True),
        ("total_orders", None, True),
        ("total_orders", "5", False),
        ("is_guest", True, True),
        ("is_guest", 2, True),
    ],
)
def test_counts_and_flags_of_other_kinds(records, field, value, one_pass):
    rows = records["customers"][:300]
    for row in rows[::11]:
        row[field] = value
    assert_same(rows, "customers", one_pass=one_pass)


def test_is_guest_as_bools_and_counts(records):
    rows = records["customers"]
    for row in rows:
        row["is_guest"] = bool(row["is_guest"])
    assert_same(rows, "customers")
    for row in rows[:50]:
        row["total_orders"] = None
    got = assert_same(rows, "customers")
    assert got["total_orders"].isna().sum() == 50


def test_optional_fields_left_out(records):
    for row in records["customers"]:
        del row["email"], row["total_orders"], row["total_spent"]
    got = assert_same(records["customers"], "customers")
    assert got["email"].isna().all() and got["total_orders"].isna().all()
    for row in records["orders"]:
        del row["note"]
    assert assert_same(records["orders"], "orders")["note"].isna().all()


def test_unknown_fields_kept_after_the_schema(records):
    for i, row in enumerate(records["customers"]):
        row["tags"] = ["vip", "eid"] if i % 2 else []
        row["meta"] = {"z": 1, "a": {"b": None}}
        row["points"] = i
        row["nickname"] = None if i % 3 else f"n{i}"
        row["verified"] = bool(i % 2)
        row["score"] = None if i % 5 == 0 else i / 4
    got = assert_same(records["customers"], "customers")
    assert list(got.columns[-6:]) == ["tags", "meta", "points", "nickname", "verified", "score"]
    assert got["meta"].iloc[0] == '{"a": {"b": null}, "z": 1}'
    for row in records["orders"]:
        row["address_json"] = {"city": "Dhaka"}
    assert assert_same(records["orders"], "orders")["address_json"].iloc[0] == '{"city": "Dhaka"}'


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-06-30T18:00:00Z",
        "2026-06-30T18:00:00.123456Z",
        "2026-06-30T18:00:00.123456789Z",
        "2026-07-01T00:00:00.000+06:00",
        "2026-06-30 18:00:00.000Z",
        "2026-06-30T18:00:00.000",
        None,
    ],
)
def test_times_in_other_iso_forms(records, stamp):
    rows = records["orders"][:400]
    for row in rows[::5]:
        row["updated_at"] = stamp
    assert_same(rows, "orders")


def test_time_fast_form_against_pandas():
    """The fast path's time arithmetic, the one private name these tests use: through
    ``fast_frame`` a wrong sum could not be told from the pandas parse it falls back to."""
    rng = np.random.default_rng(7)
    micros = rng.integers(-60 * 10**15, 200 * 10**15, 5_000) // 1000 * 1000
    stamps = pd.Series(pd.to_datetime(micros, unit="us", utc=True))
    texts = list(stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.slice(0, 23) + "Z")
    texts += ["2000-02-29T12:00:00.000Z", "2100-02-28T23:59:59.999Z", "0001-01-01T00:00:00.000Z"]
    got = _utc_millis(texts)
    expected = pd.to_datetime(pd.Series(texts, dtype="str"), utc=True, format="ISO8601")
    assert got is not None
    assert (got.astype(np.int64) == expected.astype("datetime64[us, UTC]").astype(np.int64)).all()
    for bad in ("2026-02-29T00:00:00.000Z", "2026-06-30T24:00:00.000Z", "2026-13-01T00:00:00.000Z"):
        assert _utc_millis([*texts[:3], bad]) is None


def test_categories_with_nulls_and_new_values(records):
    rows = records["orders"]
    for i, row in enumerate(rows[:200]):
        row["payment_method"] = None if i % 2 else "nagad_ঢাকা"
        row["order_status"] = ""
    got = assert_same(rows, "orders")
    assert list(got["order_status"].cat.categories) == sorted(set(got["order_status"].dropna()))


@pytest.mark.parametrize("order", ["sorted", "reversed", "shuffled", "duplicate ids"])
def test_any_record_order(records, order):
    rows = sorted(records["orders"], key=lambda r: r["order_id"])
    if order == "reversed":
        rows.reverse()
    elif order == "shuffled":
        rows = [rows[i] for i in np.random.default_rng(3).permutation(len(rows))]
    elif order == "duplicate ids":
        for i, row in enumerate(rows):
            row["order_id"] = 5_000 - i // 3
    assert_same(rows, "orders")


def test_general_path_cases(records):
    """Fields missing from some records, mixed kinds, one record, none: same frames."""
    rows = records["customers"][:300]
    del rows[5]["email"]
    assert_same(rows, "customers", one_pass=False)
    rows = records["orders"][:300]
    rows[3]["store_id"] = "22"
    rows[4]["sub_total"] = "12.50"
    assert_same(rows, "orders", one_pass=False)
    rows = records["orders"][300:400]
    for row in rows:
        row["order_status"] = ["delivered"]  # JSON arrays where text belongs
    assert_same(rows, "orders", one_pass=False)
    assert_same(records["orders"][:1], "orders")
    assert (
        to_frame([], "orders").dtypes.astype(str).tolist()
        == general_frame([], "orders").dtypes.astype(str).tolist()
    )


def test_fields_in_another_order_or_swapped(records):
    rows = records["customers"][:500]
    for i, row in enumerate(rows):
        if i % 4 == 1:  # the same fields, sent in reverse order
            rows[i] = dict(reversed(list(row.items())))
    got = assert_same(rows, "customers")
    assert list(got.columns) == list(KINDS["customers"].dtypes)
    swapped = {("nickname" if k == "email" else k): v for k, v in rows[7].items()}
    rows[7] = swapped  # as many fields, but not the same ones
    got = assert_same(rows, "customers", one_pass=False)
    assert list(got.columns)[-1] == "nickname" and pd.isna(got["email"]).sum() >= 1


def test_records_from_a_generator(api_records):
    rows = api_records["orders"]
    pd.testing.assert_frame_equal(to_frame(iter(rows), "orders"), to_frame(rows, "orders"))


# --- bad input ----------------------------------------------------------------------------------


def test_non_numeric_money_names_field_and_record(records):
    rows = records["orders"][:20]
    rows[7]["grand_total"] = "12,50"
    with pytest.raises(DataError, match=r"`grand_total` of record 7 .* is '12,50', not a number"):
        to_frame(rows, "orders")
    with pytest.raises(ValueError):  # DataError is a ValueError, as pd.to_numeric's was
        to_frame(rows, "orders")


def test_required_field_in_no_record_is_named(records):
    rows = records["customers"][:20]
    for row in rows:
        del row["phone"]
    with pytest.raises(DataError, match=r"No record has the field\(s\) \['phone'\]") as caught:
        to_frame(rows, "customers")
    assert "'address'" not in str(caught.value)  # flattened columns are not asked of a record
    for row in records["orders"][:20]:
        del row["created_at"], row["grand_total"]
    with pytest.raises(DataError, match=r"\['grand_total', 'created_at'\]"):
        to_frame(records["orders"][:20], "orders")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "is_guest",
            None,
            r"`is_guest` of record 4 \(counting from 0, user_id {id}\) is missing, not 0/1",
        ),
        ("is_guest", "yes", r"`is_guest` of record 4 .* is 'yes', not 0/1"),
        ("is_guest", [1], r"`is_guest` of record 4 .* is \[1\], not 0/1"),
        ("total_orders", 1.5, r"`total_orders` of record 4 .* is 1.5, not a whole number"),
        ("total_orders", 2**63, r"`total_orders` of record 4 .* is 9223372036854775808, not a"),
        (
            "total_spent",
            {"amount": 5},
            r"`total_spent` of record 4 .* is \{'amount': 5\}, not a num",
        ),
        (
            "user_id",
            "u12",
            r"`user_id` of record 4 \(counting from 0\) is 'u12', not a whole number",
        ),
        ("user_id", None, r"`user_id` of record 4 \(counting from 0\) is missing, not a whole"),
        ("store_id", "x", r"`store_id` of record 4 \(counting from 0, user_id {id}\) is 'x', not"),
        (
            "created_at",
            "yesterday",
            r"`created_at` of record 4 .*user_id {id}\) is 'yesterday', not an ISO 8601",
        ),
        (
            "created_at",
            1767225600,
            r"`created_at` of record 4 .* is 1767225600, not an ISO 8601 time",
        ),
        (
            "updated_at",
            {"t": 1},
            r"`updated_at` of record 4 .* is \{'t': 1\}, not an ISO 8601 time",
        ),
        ("updated_at", "2026-02-30T00:00:00.000Z", r"`updated_at` of record 4 .* is '2026-02-30T"),
    ],
)
def test_bad_values_name_field_value_and_record(records, field, value, message):
    rows = records["customers"][:10]
    rows[4][field] = value
    with pytest.raises(DataError, match=message.replace("{id}", str(rows[4]["user_id"]))):
        to_frame(rows, "customers")


@pytest.mark.parametrize(
    ("field", "value"),
    [("grand_total", "abc"), ("order_id", "x"), ("user_id", "9 9"), ("discount", "1,500.00")],
)
def test_bad_order_values_name_field_value_and_record(records, field, value):
    rows = records["orders"][:30]
    rows[17][field] = value
    where = "" if field == "order_id" else f", order_id {rows[17]['order_id']}"
    expected = f"`{field}` of record 17 (counting from 0{where}) is {value!r}, not "
    with pytest.raises(DataError) as caught:
        to_frame(rows, "orders")
    assert str(caught.value).startswith(expected)
    assert "fix or drop that record" in str(caught.value)


def test_an_id_left_out_of_one_record(records):
    rows = records["orders"][:30]
    del rows[12]["order_id"]
    with pytest.raises(DataError, match=r"`order_id` of record 12 \(counting from 0\) is missing"):
        to_frame(rows, "orders")


def test_a_long_bad_value_is_cut_short(records):
    rows = records["orders"][:5]
    rows[2]["grand_total"] = "9" * 30 + "x" * 5_000
    with pytest.raises(DataError) as caught:
        to_frame(rows, "orders")
    message = str(caught.value)
    assert len(message) < 400
    assert "'" + "9" * 30 + "xxx" in message and "(5,032 characters)" in message  # repr: 5,030 + 2


@pytest.mark.parametrize("record", [None, "order", 7, ["order_id", 1]])
def test_a_record_that_is_not_an_object(records, record):
    rows = [*records["orders"][:3], record]
    with pytest.raises(
        DataError,
        match=rf"Record 3 \(counting from 0\) of the orders is {re.escape(repr(record))}, not a JSON object",
    ):
        to_frame(rows, "orders")


def test_address_json_text_in_any_spelling_is_the_object():
    """JSON text of an object types as the object would: one text per address, fields read."""
    base = {
        "user_id": 1,
        "store_id": 22,
        "name": "Rahim",
        "email": None,
        "phone": "01712345678",
        "is_guest": 0,
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "total_orders": 0,
        "total_spent": 0,
    }
    spellings = [
        {"city": "ঢাকা", "area": "Gulshan"},
        '{"city":"\\u09a2\\u09be\\u0995\\u09be","area":"Gulshan"}',
        '{\n  "city" : "ঢাকা",\n  "area" : "Gulshan"\n}',
    ]
    rows = [{**base, "user_id": i + 1, "address_json": a} for i, a in enumerate(spellings)]
    rows.append({**base, "user_id": 4, "address_json": '{"city": "ঢাকা", "area": '})
    got = to_frame(rows, "customers")
    assert got["address_json"].tolist()[:3] == ['{"city": "ঢাকা", "area": "Gulshan"}'] * 3
    assert got["city"].tolist()[:3] == ["ঢাকা"] * 3 and got["area"].tolist()[:3] == ["Gulshan"] * 3
    # malformed text: kept as sent, nothing flattened from it
    assert got.loc[3, "address_json"] == '{"city": "ঢাকা", "area": '
    assert got.loc[3, ["address", "city", "area"]].isna().all()
    assert_same(rows, "customers")
