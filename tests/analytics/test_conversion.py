"""Identities and guest conversion: hand-built people, planted duplicates and conversions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import phonenumbers
import pytest

from selorax_analytics import DataError, guest_conversion, identities
from selorax_analytics.analytics.conversion import GROUPS, normalize_phones
from selorax_analytics.sandbox import generator

AS_OF = "2024-06-30"


def utc(values: list[str]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": pd.array([10, 11, 12, 13, 14, 15, 16], dtype="Int64"),
            "phone": pd.array(
                [
                    "01711-111111",
                    "+880 1711 111111",
                    "01822222222",
                    "01933333333",
                    "01544444444",
                    "01655555555",
                    "n/a",
                ],
                dtype="str",
            ),
            "email": pd.array(
                [None, "a@x.com", " B@Y.com ", "c@z.com", None, None, None], dtype="str"
            ),
            "is_guest": [True, False, True, False, False, True, True],
            "created_at": utc(
                [
                    "2024-01-05 10:00",
                    "2024-03-01 10:00",
                    "2024-01-10 10:00",
                    "2023-12-01 10:00",
                    "2024-01-20 10:00",
                    "2024-01-15 10:00",
                    "2024-02-02 10:00",
                ]
            ),
        }
    )


@pytest.fixture
def orders() -> pd.DataFrame:
    rows = [
        (10, "2024-01-05 10:00", "delivered", 100.0),
        (11, "2024-03-05 10:00", "delivered", 300.0),
        (12, "2024-01-10 10:00", "delivered", 50.0),
        (12, "2024-01-25 10:00", "delivered", 70.0),
        (13, "2024-02-01 10:00", "delivered", 200.0),
        (13, "2024-02-11 10:00", "delivered", 100.0),
        (14, "2024-01-20 10:00", "delivered", 80.0),
        (14, "2024-02-20 10:00", "delivered", 40.0),
        (15, "2024-01-15 10:00", "cancelled", 999.0),
        (16, "2024-02-02 10:00", "delivered", 60.0),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "created_at", "order_status", "grand_total"])
    return frame.assign(
        user_id=frame["user_id"].astype("Int64"),
        order_status=frame["order_status"].astype("category"),
        created_at=utc(frame["created_at"].tolist()),
    )


@pytest.fixture
def history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [14, 12, 16, 13],
            "changed_at": [
                "2024-02-04T10:00:00Z",
                "2024-02-01T00:00:00Z",
                "2024-07-15T00:00:00Z",
                "2024-01-01T00:00:00Z",
            ],
            "field": ["is_guest", "email", "is_guest", "is_guest"],
            "old": ["1", "x@y.com", "1", "0"],
            "new": ["0", "b@y.com", "0", "1"],
        }
    )


def test_normalize_phones():
    raw = pd.Series(
        [
            "01711-111111",
            "+880 1711 111111",
            "8801711111111",
            "00880 1711111111",
            "(017) 1111.1111",
            "+1 650-253-0000",
            "n/a",
            "",
            None,
            "0171",
        ],
        dtype="str",
    )
    out = normalize_phones(raw).tolist()
    assert out[:5] == ["+8801711111111"] * 5
    assert out[5] == "+16502530000"
    assert all(pd.isna(v) for v in out[6:])


def test_fast_path_agrees_with_phonenumbers(demo_frames):
    customers, _ = demo_frames
    ours = normalize_phones(customers["phone"])
    theirs = [
        phonenumbers.format_number(phonenumbers.parse(p, "BD"), phonenumbers.PhoneNumberFormat.E164)
        for p in customers["phone"]
    ]
    assert ours.tolist() == theirs


def test_identities_link_transitively(customers):
    linked = customers.assign(email=customers["email"].where(customers["user_id"] != 14, "A@X.com"))
    out = identities(linked)
    # 10 and 11 share a phone, 14 shares 11's e-mail: one person, the smallest user_id.
    assert out["identity_id"].tolist() == [10, 10, 12, 13, 10, 15, 16]
    assert out["email_normalized"].tolist()[2] == "b@y.com"
    assert pd.isna(out["phone_e164"].iloc[6])
    assert list(out.columns[: len(customers.columns)]) == list(customers.columns)


def test_planted_duplicates_are_recovered(demo_frames):
    customers, _ = demo_frames
    out = identities(customers)
    digits = customers["phone"].str.replace(r"\D", "", regex=True).str[-10:]
    main = customers["user_id"] <= generator.DEFAULT_CUSTOMERS
    owner = pd.Series(customers.loc[main, "user_id"].to_numpy(), index=digits[main].to_numpy())
    dup = ~main
    assert dup.sum() > 0
    expected = owner.loc[digits[dup].to_numpy()].to_numpy()
    found = out.set_index("user_id")["identity_id"]
    np.testing.assert_array_equal(found.loc[customers.loc[dup, "user_id"]].to_numpy(), expected)
    assert (found.loc[expected].to_numpy() == expected).all()


def test_hand_built_with_history(customers, orders, history):
    before = (customers.copy(), orders.copy(), history.copy())
    result = guest_conversion(customers, orders, as_of=AS_OF, history=history)
    groups = result.groups.set_index("group")
    assert groups.index.tolist() == list(GROUPS)
    assert groups["customers"].tolist() == [1, 2, 2]
    assert groups["customer_share"].tolist() == pytest.approx([0.2, 0.4, 0.4])
    assert groups["orders"].tolist() == [2, 3, 4]
    assert groups["revenue"].tolist() == [300.0, 180.0, 520.0]
    assert groups["avg_order_value"].tolist() == [150.0, 60.0, 130.0]
    assert groups["repeat_rate"].tolist() == [1.0, 0.5, 1.0]
    assert groups["median_days_to_second_order"].tolist() == [10.0, 15.0, 45.5]
    people = result.people.set_index("identity_id")
    assert people.loc[10, "days_to_conversion"] == 56
    assert people.loc[14, "days_to_conversion"] == 15
    assert people.loc[10, "records"] == 2 and 15 not in people.index
    cohorts = result.cohorts
    assert cohorts.index.astype(str).tolist() == ["2024-01", "2024-02"]
    assert cohorts["guests"].tolist() == [3, 1]
    assert cohorts["converted_in_window"].tolist() == [2, 0]
    assert cohorts["conversion_rate"].tolist() == pytest.approx([2 / 3, 0.0])
    assert cohorts["median_days_to_conversion"].iloc[0] == 35.5
    assert cohorts["window_complete"].tolist() == [True, True]
    assert result.funnel["customers"].tolist() == [4, 3, 2]
    assert result.funnel["share"].tolist() == [1.0, 0.75, 0.5]
    for a, b in zip(before, (customers, orders, history), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_without_history_a_flip_in_place_looks_registered(customers, orders):
    result = guest_conversion(customers, orders, as_of=AS_OF)
    groups = result.groups.set_index("group")
    assert groups["customers"].tolist() == [2, 2, 1]
    assert groups["revenue"].tolist() == [420.0, 180.0, 400.0]
    short = guest_conversion(customers, orders, as_of="2024-03-31", window_days=45)
    assert short.cohorts["window_complete"].tolist() == [True, False]
    assert short.cohorts["converted_in_window"].tolist() == [0, 0]  # 56 days > 45


def test_empty_history_is_the_same_as_none(customers, orders, history):
    empty = history.iloc[0:0]
    with_empty = guest_conversion(customers, orders, as_of=AS_OF, history=empty)
    without = guest_conversion(customers, orders, as_of=AS_OF)
    pd.testing.assert_frame_equal(with_empty.groups, without.groups)
    assert with_empty.groups.set_index("group")["customers"].tolist() == [2, 2, 1]


def test_a_history_without_a_guest_flip_converts_no_one(customers, orders, history):
    # Only the e-mail change and the 0 -> 1 flip: changes, but no guest became an account.
    others = history[history["field"].eq("email") | history["old"].eq("0")]
    with_others = guest_conversion(customers, orders, as_of=AS_OF, history=others)
    without = guest_conversion(customers, orders, as_of=AS_OF)
    pd.testing.assert_frame_equal(with_others.groups, without.groups)


def planted_people() -> pd.DataFrame:
    """The demo store's people as the generator drew them (its first random draws)."""
    rng = np.random.default_rng(generator.DEFAULT_SEED)
    return generator._people(rng, generator.DEFAULT_CUSTOMERS)


def test_planted_conversions_recovered(demo_store, demo_frames):
    customers, orders = demo_frames
    people = planted_people()
    assert people["name"].tolist() == demo_store.customers["name"].iloc[: len(people)].tolist()
    converts = people.index[people["converts"].to_numpy()] + 1
    records = customers.set_index("user_id").loc[converts]
    history = pd.DataFrame(
        {
            "user_id": converts,
            "changed_at": records["updated_at"].to_numpy(),
            "field": "is_guest",
            "old": 1,
            "new": 0,
        }
    )
    with_history = guest_conversion(customers, orders, as_of=generator.DEMO_AS_OF, history=history)
    people_out = with_history.people.set_index("identity_id")
    converted = people_out.index[people_out["group"] == "converted guest"]
    # Every planted conversion that bought before converting is found ...
    first = people_out.loc[people_out.index.isin(converts)]
    bought_first = first.index[first["first_order_at"] < records.loc[first.index, "updated_at"]]
    assert set(bought_first) <= set(converted)
    # ... and the share of guests who convert is the planted one (within 3 standard errors).
    starters = people_out[people_out["first_guest"]]
    share = (starters["group"] == "converted guest").mean()
    ever = generator.GUEST_CONVERSION
    assert abs(share - ever) < 3 * np.sqrt(ever * (1 - ever) / len(starters)) + 0.02
    # Without history only the duplicate people (guest record, later account) convert.
    snapshot = guest_conversion(customers, orders, as_of=generator.DEMO_AS_OF)
    alone = snapshot.people.set_index("identity_id")
    assert set(alone.index[alone["group"] == "converted guest"]) <= set(
        alone.index[alone["records"] > 1]
    )
    assert (alone["group"] == "converted guest").sum() >= 0.8 * (
        customers["user_id"] > generator.DEFAULT_CUSTOMERS
    ).sum()


def test_bad_input(customers, orders, history):
    with pytest.raises(DataError, match=r"\['is_guest'\]"):
        guest_conversion(customers.drop(columns="is_guest"), orders, as_of=AS_OF)
    with pytest.raises(DataError, match=r"\['old', 'new'\]"):
        guest_conversion(
            customers, orders, as_of=AS_OF, history=history.drop(columns=["old", "new"])
        )
    with pytest.raises(DataError, match="window_days"):
        guest_conversion(customers, orders, as_of=AS_OF, window_days=-1)
    with pytest.raises(DataError, match="before every valid order"):
        guest_conversion(customers, orders, as_of="2023-01-01")
    empty = guest_conversion(customers, orders.iloc[:0], as_of=AS_OF)
    assert empty.groups["customers"].tolist() == [0, 0, 0]
    assert empty.cohorts.empty and empty.people.empty
    assert empty.funnel["customers"].tolist() == [0, 0, 0]
