"""Record typing, property-based: any mix of the documented forms types as the API's own form.

Each example draws the *values* of a few customers or orders (ids, money in paisa, instants in
milliseconds, texts, an address), then for every field of every record one of the forms an
upstream may send it in (money as a JSON number, an integer or text such as ``"1500.00"``; ids
and counts as numeric text; ``is_guest`` as 0/1, true/false or ``"0"``/``"1"``; times with or
without milliseconds, in UTC or at ``+06:00``; ``address_json`` as an object or as JSON text in
any spelling; optional fields left out instead of null), the order of the fields, and unknown
fields. The expected frame is built here from the values alone, with pandas constructors (not
through the code under test), and both typing paths must give exactly it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selorax_analytics.exceptions import DataError
from selorax_analytics.loading._typing import KINDS, fast_frame, general_frame, to_frame

#: Fixed examples (the same on every run), each property within about 5 s on the dev machine.
SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")
STATUSES = {
    "order_status": ["pending", "confirmed", "delivered", "cancelled", "returned"],
    "financial_status": ["paid", "unpaid", "refunded"],
    "fulfillment_status": ["fulfilled", "unfulfilled"],
    "payment_method": ["cod", "bkash", "nagad", "card"],
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DHAKA = timedelta(hours=6)

# --- values -------------------------------------------------------------------------------------

texts = st.text(st.sampled_from("aZ 09.,'\"\\/-_@ঢাকারহিমা\u09cd\u200dé\n\t{}[]"), max_size=12)
#: Instants in milliseconds, 2000-01-01 to 2037-12-31; a third of them on a whole second.
millis = st.one_of(
    st.integers(946_684_800_000, 2_145_830_400_000),
    st.integers(946_684_800, 2_145_830_400).map(lambda s: s * 1000),
)
addresses = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["address", "city", "area", "zip", "বাড়ি"]),
        st.one_of(st.none(), texts),
        max_size=5,
    ),
)
extra_values = {
    "int": st.integers(-(2**40), 2**40),
    "text": texts,
    "list": st.lists(st.integers(0, 9), max_size=3),
    "object": st.dictionaries(st.sampled_from("zab"), st.integers(0, 9), max_size=3),
    "flag": st.booleans(),
}


@st.composite
def customer_values(draw: st.DrawFn, user_id: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "store_id": draw(st.integers(1, 10**6)),
        "name": draw(texts),
        "email": draw(st.one_of(st.none(), texts)),
        "phone": draw(st.from_regex(r"01[3-9][0-9]{8}", fullmatch=True)),
        "address_json": draw(addresses),
        "is_guest": draw(st.booleans()),
        "created_at": draw(millis),
        "updated_at": draw(millis),
        "total_orders": draw(st.integers(0, 10**6)),
        "total_spent": draw(st.integers(0, 10**9)),
    }


@st.composite
def order_values(draw: st.DrawFn, order_id: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        "order_id": order_id,
        "store_id": draw(st.integers(1, 10**6)),
        "user_id": draw(st.integers(1, 10**9)),
    }
    values |= {field: draw(st.sampled_from(choices)) for field, choices in STATUSES.items()}
    # money in paisa: a third of the amounts in whole taka
    paisa = st.one_of(st.integers(0, 10**10), st.integers(0, 10**8).map(lambda t: t * 100))
    values |= {field: draw(paisa) for field in MONEY}
    values |= {"note": draw(st.one_of(st.none(), texts))}
    values |= {"created_at": draw(millis), "updated_at": draw(millis)}
    return values


@st.composite
def batches(draw: st.DrawFn, kind: str) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """Values of 1-12 records of ``kind`` (distinct ids) and unknown fields with their values."""
    ids = draw(st.lists(st.integers(1, 2**53), min_size=1, max_size=12, unique=True))
    make = customer_values if kind == "customers" else order_values
    rows = [draw(make(i)) for i in ids]
    names = draw(st.lists(st.sampled_from(["tags", "loyalty", "meta", "points"]), unique=True))
    extras = {
        name: draw(
            st.lists(
                extra_values[draw(st.sampled_from(list(extra_values)))],
                min_size=len(rows),
                max_size=len(rows),
            )
        )
        for name in names
    }
    return rows, extras


# --- the API's form, and the other forms --------------------------------------------------------


def api_time(ms: int) -> str:
    """The API's form: ``2026-06-30T18:00:00.000Z``."""
    return (EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def time_forms(ms: int) -> list[str]:
    at = EPOCH + timedelta(milliseconds=ms)
    local = (at + DHAKA).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23]
    forms = [api_time(ms), local + "+06:00", at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"]
    if ms % 1000 == 0:  # without milliseconds: the same instant only on a whole second
        forms += [at.strftime("%Y-%m-%dT%H:%M:%SZ"), local[:19] + "+06:00"]
    return forms


def money_forms(paisa: int) -> list[Any]:
    taka = paisa / 100
    forms: list[Any] = [taka, f"{taka:.2f}", repr(taka)]
    if paisa % 100 == 0:
        forms += [paisa // 100, str(paisa // 100)]
    return forms


def address_forms(address: dict[str, Any] | None) -> list[Any]:
    if address is None:
        return [None, "absent"]
    return [
        address,
        json.dumps(address),  # ASCII escapes
        json.dumps(address, ensure_ascii=False),
        json.dumps(address, ensure_ascii=False, separators=(",", ":")),
        json.dumps(address, indent=2),
    ]


def canonical(values: dict[str, Any], kind: str) -> dict[str, Any]:
    """The record as the API documents it: integers, money as numbers, times in UTC with ms."""
    out = dict(values)
    for field in ("created_at", "updated_at"):
        out[field] = api_time(values[field])
    if kind == "customers":
        out["is_guest"] = int(values["is_guest"])
    else:
        for field in MONEY:
            paisa = values[field]
            out[field] = paisa // 100 if paisa % 100 == 0 else paisa / 100
    return out


@st.composite
def sent(draw: st.DrawFn, values: dict[str, Any], kind: str) -> dict[str, Any]:
    """One record of ``values`` with each field in a form drawn from the documented ones."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field in ("user_id", "order_id", "store_id", "total_orders"):
            form = draw(st.sampled_from([value, str(value)]))
        elif field == "total_spent":
            form = draw(st.sampled_from([value, str(value), f"{value}.00", float(value)]))
        elif field in MONEY:
            form = draw(st.sampled_from(money_forms(value)))
        elif field in ("created_at", "updated_at"):
            form = draw(st.sampled_from(time_forms(value)))
        elif field == "is_guest":
            form = draw(st.sampled_from([int(value), value, str(int(value))]))
        elif field == "address_json":
            form = draw(st.sampled_from(address_forms(value)))
        elif field in ("email", "note") and value is None:
            form = draw(st.sampled_from([None, "absent"]))
        else:
            form = value
        if not (isinstance(form, str) and form == "absent"):
            out[field] = form
    return out


def with_extras(
    records: list[dict[str, Any]], extras: dict[str, list[Any]], order: list[int] | None
) -> list[dict[str, Any]]:
    """Records with the unknown fields added, fields in the order ``order`` permutes them to."""
    out = []
    for i, record in enumerate(records):
        full = {**record, **{name: values[i] for name, values in extras.items()}}
        keys = list(full)
        if order is not None:
            keys = [keys[j] for j in order if j < len(keys)] + keys[len(order) :]
        out.append({key: full[key] for key in keys})
    return out


# --- the expected frame, from the values alone ----------------------------------------------------


def times(ms: list[int]) -> pd.Series:
    stamps = np.array(ms, dtype=np.int64).astype("datetime64[ms]").astype("datetime64[us]")
    return pd.Series(stamps).dt.tz_localize("UTC")


def texts_column(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype="str")


def category(values: list[str]) -> pd.Series:
    dtype = pd.CategoricalDtype(pd.Index(sorted(set(values)), dtype="str"))
    return pd.Series(pd.Categorical(values, dtype=dtype))


def expected_frame(rows: list[dict[str, Any]], kind: str) -> pd.DataFrame:
    """The typed frame of records with these values, built with pandas, sorted by id."""
    id_field = KINDS[kind].id_field
    rows = sorted(rows, key=lambda r: r[id_field])
    col = {field: [r[field] for r in rows] for field in rows[0]} if rows else {}
    ints = {f: pd.Series(col[f], dtype="Int64") for f in col if f.endswith("_id")}
    if kind == "orders":
        return pd.DataFrame(
            {
                **ints,
                **{f: category(col[f]) for f in STATUSES if f != "payment_method"},
                **{f: pd.Series(col[f], dtype="float64") / 100 for f in MONEY},
                "payment_method": category(col["payment_method"]),
                "note": texts_column(col["note"]),
                "created_at": times(col["created_at"]),
                "updated_at": times(col["updated_at"]),
            }
        )
    addresses = col["address_json"]
    flat = {
        f: texts_column([None if a is None or a.get(f) is None else a[f] for a in addresses])
        for f in ("address", "city", "area")
    }
    written = [None if a is None else json.dumps(a, ensure_ascii=False) for a in addresses]
    return pd.DataFrame(
        {
            **{f: ints[f] for f in ("user_id", "store_id")},
            **{f: texts_column(col[f]) for f in ("name", "email", "phone")},
            "address_json": texts_column(written),
            **flat,
            "is_guest": pd.Series(col["is_guest"], dtype=bool),
            "created_at": times(col["created_at"]),
            "updated_at": times(col["updated_at"]),
            "total_orders": pd.Series(col["total_orders"], dtype="Int64"),
            "total_spent": pd.Series(col["total_spent"], dtype="float64"),
        }
    )


def expected_extras(
    sent_rows: list[dict[str, Any]], extras: dict[str, list[Any]], id_field: str
) -> dict[str, list[Any]]:
    """Unknown fields as the frame keeps them (objects and lists as JSON text, sorted keys)."""
    order = np.argsort([int(r[id_field]) for r in sent_rows], kind="stable")
    first_sent = list(dict.fromkeys(k for r in sent_rows for k in r if k in extras))

    def kept(value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        return value

    return {name: [kept(extras[name][i]) for i in order] for name in first_sent}


def assert_frame(got: pd.DataFrame, expected: pd.DataFrame, extras: dict[str, list[Any]]) -> None:
    """``got`` is ``expected``, then the unknown fields ``extras`` in the order given."""
    documented = list(expected.columns)
    assert list(got.columns[: len(documented)]) == documented
    pd.testing.assert_frame_equal(got[documented], expected, check_exact=True)
    assert list(got.columns[len(documented) :]) == list(extras)
    for name, values in extras.items():
        assert got[name].tolist() == values, name


# --- the properties -------------------------------------------------------------------------------


@st.composite
def sent_batches(draw: st.DrawFn, kind: str) -> tuple[Any, ...]:
    values, extras = draw(batches(kind))
    records = [draw(sent(v, kind)) for v in values]
    n_fields = len(KINDS[kind].dtypes) + len(extras)
    order = draw(st.one_of(st.none(), st.permutations(range(n_fields))))
    return values, extras, with_extras(records, extras, order)


@pytest.mark.parametrize("kind", ["customers", "orders"])
@SETTINGS
@given(data=st.data())
def test_any_mix_of_forms_types_as_the_api_form(kind: str, data: st.DataObject) -> None:
    """(a) the frame is the frame of the values; (b) the fast and general paths agree on it."""
    values, extras, rows = data.draw(sent_batches(kind))
    id_field = KINDS[kind].id_field
    expected = expected_frame(values, kind)
    kept = expected_extras(rows, extras, id_field)
    assert_frame(to_frame(rows, kind), expected, kept)
    assert_frame(general_frame(rows, kind), expected, kept)
    fast = fast_frame(rows, kind)
    if fast is not None:
        assert_frame(fast, expected, kept)
    # the API's own form always takes the fast path, and gives the same frame
    api_rows = with_extras([canonical(v, kind) for v in values], extras, None)
    api_fast = fast_frame(api_rows, kind)
    assert api_fast is not None
    api_kept = expected_extras(api_rows, extras, id_field)
    assert_frame(api_fast, expected, api_kept)
    assert_frame(general_frame(api_rows, kind), expected, api_kept)


BAD = {
    "money": ["abc", "12,50", "1.2.3", "৳1460", [1], {"taka": 5}, "9" * 20 + "x" * 200],
    "id": ["x", "12a", 1.5, None, "absent", "", [7], 2**64],
    "count": ["x", 2.5, "1/2", {"n": 1}],
    "flag": ["yes", None, "absent", "2x", [0], "true"],
    "time": ["yesterday", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00.000Z", 1767225600, {"t": 1}],
}
BAD_FIELDS = {
    "customers": {
        "user_id": "id",
        "store_id": "id",
        "total_orders": "count",
        "total_spent": "money",
        "is_guest": "flag",
        "created_at": "time",
        "updated_at": "time",
    },
    "orders": {
        "order_id": "id",
        "store_id": "id",
        "user_id": "id",
        **dict.fromkeys(MONEY, "money"),
        "created_at": "time",
        "updated_at": "time",
    },
}
#: Fields that may be null: a null there is a value, not a mistake.
NULLABLE = {"store_id", "total_orders", "total_spent", "user_id", *MONEY}


@pytest.mark.parametrize("kind", ["customers", "orders"])
@settings(SETTINGS, max_examples=150)
@given(data=st.data())
def test_a_bad_value_names_its_field_and_record(kind: str, data: st.DataObject) -> None:
    """(c) one bad value anywhere: a DataError naming the field, the value and the record."""
    rows = data.draw(sent_batches(kind))[2]
    id_field = KINDS[kind].id_field
    field = data.draw(st.sampled_from(sorted(BAD_FIELDS[kind])))
    choices = BAD[BAD_FIELDS[kind][field]]
    if field != id_field and field in NULLABLE:
        choices = [c for c in choices if c not in (None, "absent", "")]
    bad = data.draw(st.sampled_from(choices))
    at = data.draw(st.integers(0, len(rows) - 1))
    rows[at] = dict(rows[at])
    if bad == "absent":
        del rows[at][field]
    else:
        rows[at][field] = bad
    with pytest.raises(DataError) as caught:
        to_frame(rows, kind)
    message = str(caught.value)
    if bad == "absent" and len(rows) == 1:  # left out of every record: the field is named
        assert message.startswith(f"No record has the field(s) [{field!r}]"), message
        return
    where = "" if field == id_field else f", {id_field} {rows[at][id_field]!r}"
    assert message.startswith(f"`{field}` of record {at} (counting from 0{where}) is "), message
    shown = "missing" if bad is None or bad == "absent" else repr(bad)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    assert re.escape(shown) in re.escape(message), message
    assert "fix or drop that record" in message
