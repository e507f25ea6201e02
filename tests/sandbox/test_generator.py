"""The demo store generator: determinism, sizes, and every planted pattern of its docstring.

Rates are checked within four binomial standard deviations of the documented parameter, computed
here from the generator's output with plain pandas.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selorax_analytics.loading._typing import coerce_customers, coerce_orders
from selorax_analytics.sandbox import contacts, frames, money, names, refusals
from selorax_analytics.sandbox import generator as g
from selorax_analytics.sandbox.export_demo import demo_tables, main
from selorax_analytics.sandbox.names import CITIES
from selorax_analytics.schema import CUSTOMER_DTYPES, ORDER_DTYPES

DATA = Path(__file__).parents[2] / "data"
N = g.DEFAULT_CUSTOMERS


def _digest(store: g.Store) -> str:
    digest = hashlib.sha256()
    for frame in (store.customers, store.orders, store.items):
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


def _near(share: float, n: int, p: float) -> bool:
    """``share`` of ``n`` draws within four binomial standard deviations of ``p``."""
    return abs(share - p) <= 4 * math.sqrt(p * (1 - p) / n)


def _normalised(phones: pd.Series) -> pd.Series:
    return phones.str.replace(r"[\s-]", "", regex=True).str.replace(r"^\+880", "0", regex=True)


@pytest.fixture(scope="module")
def people():
    """The generator's person-level draws (its first draws from the seeded generator)."""
    return g._people(np.random.default_rng(g.DEFAULT_SEED), N)


@pytest.fixture(scope="module")
def main_records(demo_store):
    """One record per person (duplicate guest records have user ids above ``N``)."""
    return demo_store.customers[demo_store.customers["user_id"] <= N].reset_index(drop=True)


# -- determinism and sizes ------------------------------------------------------------------
def test_same_seed_same_bytes(demo_store):
    assert _digest(g.generate_store()) == _digest(demo_store)
    small = _digest(g.generate_store(seed=7, customers=300))
    assert _digest(g.generate_store(seed=7, customers=300)) == small
    assert _digest(g.generate_store(seed=8, customers=300)) != small


def test_sizes_and_identifiers(demo_store):
    customers, orders, items = demo_store.customers, demo_store.orders, demo_store.items
    assert (customers["user_id"] <= N).sum() == N
    assert customers["user_id"].tolist() == list(range(1, len(customers) + 1))
    assert orders["order_id"].tolist() == list(range(1, len(orders) + 1))
    assert items["order_item_id"].is_unique
    assert set(orders["user_id"]) <= set(customers["user_id"])
    assert set(items["order_id"]) == set(orders["order_id"])
    assert {*customers["store_id"], *orders["store_id"]} == {g.DEMO_STORE_ID}
    assert 1.2 < len(orders) / N < 1.8
    for frame in (customers, orders):
        assert frame["created_at"].min() >= g.HISTORY_START
        assert frame["created_at"].max() <= g.HISTORY_END
        assert (frame["updated_at"] >= frame["created_at"]).all()
    span = orders["created_at"].max() - orders["created_at"].min()
    assert span > pd.Timedelta(days=2.4 * 365)


def test_offsets_small_stores_and_bad_sizes():
    store = g.generate_store(seed=3, customers=50, store_id=9, first_user_id=1000, first_order_id=7)
    assert store.customers["user_id"].min() == 1000
    assert store.orders["order_id"].min() == 7 and store.items["order_id"].min() >= 7
    assert set(store.customers["store_id"]) == {9}
    assert len(g.generate_store(customers=1).customers) == 1
    bare = g.generate_store(seed=3, customers=50, items=False)
    assert bare.items.empty and len(bare.orders) == len(store.orders)
    with pytest.raises(ValueError, match="customers"):
        g.generate_store(customers=0)


def test_phones_are_unique_per_store_for_many_seeds():
    for seed in range(12):
        customers = g.generate_store(seed=seed, customers=2000, items=False).customers
        assert customers["phone"].is_unique, seed


# -- people ---------------------------------------------------------------------------------
def test_guest_share_and_conversion(people, main_records, demo_store):
    guest, converts = people["guest"].to_numpy(), people["converts"].to_numpy()
    assert _near(guest.mean(), N, g.GUEST_SHARE)
    assert _near(converts[guest].mean(), guest.sum(), g.GUEST_CONVERSION)
    is_guest = main_records["is_guest"].to_numpy()
    assert (is_guest[guest & ~converts] == 1).all()
    assert (is_guest[~guest] == 0).all() and (is_guest[converts] == 0).all()
    # The converted record moved on at conversion and holds the guest checkout at creation.
    converted = main_records[converts]
    assert (converted["updated_at"] > converted["created_at"]).all()
    first_order = demo_store.orders.groupby("user_id")["created_at"].min()
    assert (first_order.loc[converted["user_id"]].to_numpy() == converted["created_at"]).all()
    # Seen from the records alone: the guest share is the planted one less the converted.
    expected = g.GUEST_SHARE * (1 - g.GUEST_CONVERSION)
    assert _near(is_guest.mean(), N, expected)


def test_registered_browsers_never_order(people, main_records, demo_store):
    # Duplicate people are left out: their early orders sit on their guest record.
    plain = ~people["guest"].to_numpy() & ~people["duplicate"].to_numpy()
    registered = main_records[plain]
    ordered = registered["user_id"].isin(demo_store.orders["user_id"])
    assert _near(1 - ordered.mean(), len(registered), g.NO_ORDER_SHARE)


def test_duplicates_are_one_person_with_two_phone_writings(demo_store):
    customers, orders = demo_store.customers, demo_store.orders
    normalised = _normalised(customers["phone"])
    assert normalised.str.fullmatch(r"01[3-9]\d{8}").all()
    pairs = customers.assign(number=normalised).groupby("number").filter(lambda f: len(f) == 2)
    assert normalised.value_counts().max() == 2
    assert len(pairs) // 2 == len(customers) - N > 0
    buyers = customers.loc[customers["user_id"] <= N, "user_id"].isin(orders["user_id"])
    registered_buyers = ((customers["is_guest"] == 0) & buyers).sum()
    assert _near((len(pairs) // 2) / registered_buyers, registered_buyers, g.DUPLICATE_SHARE)
    first_order = orders.groupby("user_id")["created_at"].min()
    last_order = orders.groupby("user_id")["created_at"].max()
    for _, pair in pairs.groupby("number"):
        guest = pair[pair["user_id"] > N].iloc[0]
        account = pair[pair["user_id"] <= N].iloc[0]
        assert guest["is_guest"] == 1 and account["is_guest"] == 0
        assert guest["email"] is None or pd.isna(guest["email"])
        assert guest["name"] == account["name"] and guest["phone"] != account["phone"]
        assert guest["created_at"] < account["created_at"]
        if account["user_id"] in first_order.index:
            assert last_order[guest["user_id"]] <= first_order[account["user_id"]]


def test_email_missing_share(main_records, people):
    missing = main_records["email"].isna()
    assert _near(missing.mean(), N, g.NO_EMAIL_SHARE)
    guest = people["guest"].to_numpy()
    assert missing[guest].mean() > missing[~guest].mean()
    assert main_records["email"].dropna().str.fullmatch(r"[a-z.]+\d+@[a-z]+\.com").all()


def test_phone_noise_formats(main_records):
    phones = main_records["phone"]
    clean = phones.str.fullmatch(r"01[3-9]\d{8}")
    assert _near(1 - clean.mean(), N, g.PHONE_NOISE_SHARE)
    formats = [r"\+8801\d{9}", r"01\d{3}-\d{6}", r"01\d \d{4} \d{4}", r"\+880 1\d{3}-\d{6}"]
    counts = [phones.str.fullmatch(f).sum() for f in formats]
    assert all(counts) and sum(counts) == (~clean).sum()


def test_addresses(main_records):
    present = main_records["address_json"].dropna().map(json.loads)
    assert abs(1 - len(present) / N - 0.15) < 0.03
    assert all(set(a) == {"address", "city", "area"} for a in present)
    cities = present.map(lambda a: a["city"])
    # ADDRESS_SPELLING_SHARE are written another way (case, spaces, other spellings, Bangla).
    plain = cities.isin(list(CITIES))
    assert abs(1 - plain.mean() - refusals.ADDRESS_SPELLING_SHARE) < 0.03
    assert cities[plain].value_counts().index[0] == "Dhaka" and cities[plain].nunique() == 8
    assert {"Chittagong", "ঢাকা"} <= set(cities)


def test_bangladeshi_names(main_records):
    given = main_records["name"].str.split(" ").str[0]
    assert main_records["name"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").all()
    assert {"Rahim", "Fatima"} <= set(given)


# -- orders ---------------------------------------------------------------------------------
def test_statuses_and_their_financial_state(demo_store):
    orders = demo_store.orders
    age = (g.HISTORY_END - orders["created_at"]) / pd.Timedelta(days=1)
    # Prepaid orders keep the weights; COD refusals follow the planted refusal pattern.
    old = orders[(age > g.OPEN_WINDOW_DAYS) & (orders["payment_method"] != "cod")]
    assert set(old["order_status"]) == set(g.FINAL_STATUS_WEIGHTS)
    for status, weight in g.FINAL_STATUS_WEIGHTS.items():
        assert _near((old["order_status"] == status).mean(), len(old), weight), status
    recent = set(orders.loc[age <= g.OPEN_WINDOW_DAYS, "order_status"])
    assert {"pending", "confirmed", "processing", "shipped"} <= recent
    delivered = orders[orders["order_status"] == "delivered"]
    assert (delivered["financial_status"] == "paid").all()
    assert (delivered["fulfillment_status"] == "fulfilled").all()
    assert (
        orders.loc[orders["order_status"] == "returned", "financial_status"] == "refunded"
    ).all()
    cod_cancelled = orders[
        (orders["order_status"] == "cancelled") & (orders["payment_method"] == "cod")
    ]
    assert (cod_cancelled["financial_status"] == "unpaid").all()


def test_payment_mix(demo_store):
    methods = demo_store.orders["payment_method"]
    assert set(methods) == set(g.PAYMENT_WEIGHTS)
    for method, weight in g.PAYMENT_WEIGHTS.items():
        assert _near((methods == method).mean(), len(methods), weight), method


def test_grand_total_identity_is_exact_in_paisa(demo_store, demo_frames):
    o = demo_store.orders
    identity = o["sub_total_paisa"] + o["tax_paisa"] + o["shipping_paisa"] - o["discount_paisa"]
    assert (o["grand_total_paisa"] == identity).all()
    assert (o["grand_total_paisa"] > 0).all() and (o["discount_paisa"] >= 0).all()
    assert set(o["shipping_paisa"]) == {6000, 12000}
    assert (o["grand_total_paisa"] % 100 != 0).mean() > 0.5  # amounts carry paisa
    _, orders = demo_frames
    assert ((orders["grand_total"] * 100).round().astype("int64") == o["grand_total_paisa"]).all()


def test_one_to_six_items_summing_to_sub_total(demo_store):
    items, orders = demo_store.items, demo_store.orders.set_index("order_id")
    per_order = items.groupby("order_id").size()
    assert per_order.min() == 1 and per_order.max() == 6
    assert set(per_order) == {1, 2, 3, 4, 5, 6}
    lines = (items["price_paisa"] * items["quantity"]).groupby(items["order_id"]).sum()
    assert (lines == orders.loc[lines.index, "sub_total_paisa"]).all()
    assert (items["quantity"] >= 1).all() and items["sku"].str.fullmatch(r"SX-\d+-V\d").all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), first=st.integers(1, 10**6))
def test_money_of_any_orders_adds_up_in_paisa(seed, n, first):
    items, amounts = money.draw_money(np.random.default_rng(seed), n, first, True)
    identity = amounts["sub_total_paisa"] + amounts["tax_paisa"] + amounts["shipping_paisa"]
    assert (amounts["grand_total_paisa"] == identity - amounts["discount_paisa"]).all()
    assert len(amounts) == n and set(items["order_id"]) <= set(range(first, first + n))
    lines = (items["price_paisa"] * items["quantity"]).groupby(items["order_id"]).sum()
    assert lines.reindex(range(first, first + n), fill_value=0).tolist() == (
        amounts["sub_total_paisa"].tolist()
    )
    # without items: the same amounts (the same draws), and an empty frame of the item columns
    no_items, same = money.draw_money(np.random.default_rng(seed), n, first, False)
    pd.testing.assert_frame_equal(same, amounts)
    assert no_items.empty and list(no_items.columns) == list(items.columns)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 100))
def test_noisy_phones_keep_the_number_and_avoid_the_other_writing(seed, n):
    rng = np.random.default_rng(seed)
    phones = contacts.draw_phones(rng, n)
    assert list(contacts.noisy_phones(rng, phones, 0.0)) == list(phones)
    written = contacts.noisy_phones(rng, phones, 0.0, force=True)
    other = contacts.noisy_phones(rng, phones, 0.0, force=True, avoid=written)
    for writing in (written, other):
        assert _normalised(pd.Series(writing, dtype="str")).tolist() == list(phones)
        assert not (writing == phones).any()
    assert not (other == written).any()


def _lift(daily: pd.Series, days: pd.DatetimeIndex) -> float:
    """Mean orders a day on ``days`` over the 28 unlifted days either side."""
    quiet = g.seasonal_multiplier((daily.index - g.HISTORY_START.tz_localize(None)).days) == 1
    around = pd.date_range(days.min() - pd.Timedelta(days=28), days.max() + pd.Timedelta(days=28))
    base = daily[daily.index.isin(around) & quiet & ~daily.index.isin(days)]
    return daily[daily.index.isin(days)].mean() / base.mean()


def test_eid_and_november_lifts_in_order_counts(demo_store):
    stamps = demo_store.orders["created_at"].dt.tz_localize(None).dt.normalize()
    daily = stamps.value_counts().reindex(
        pd.date_range(g.HISTORY_START.tz_localize(None), g.HISTORY_END.tz_localize(None)),
        fill_value=0,
    )
    for eids, span, lift in ((g.EID_FITR, 14, g.EID_FITR_LIFT), (g.EID_ADHA, 10, g.EID_ADHA_LIFT)):
        windows = [
            pd.date_range(pd.Timestamp(e) - pd.Timedelta(days=span), periods=span) for e in eids
        ]
        pooled = np.mean([_lift(daily, w) for w in windows])
        assert pooled > 1 + (lift - 1) / 2, (eids, pooled)
    for year in (2024, 2025):
        sale = pd.date_range(f"{year}-11-11", f"{year}-11-20")
        assert _lift(daily, sale) > 1 + (g.NOVEMBER_SALE_LIFT - 1) / 2


def test_acquisition_grows(main_records):
    created = main_records["created_at"]
    first = (created < g.HISTORY_START + pd.Timedelta(days=180)).sum()
    last = (created > g.HISTORY_END - pd.Timedelta(days=180)).sum()
    assert last > 1.5 * first


def test_heavy_tailed_repeat_buying_and_churn(demo_store):
    orders = demo_store.orders
    per_buyer = orders.groupby("user_id").size().sort_values(ascending=False)
    assert (per_buyer == 1).mean() > 0.6
    top_decile = per_buyer.iloc[: len(per_buyer) // 10].sum() / per_buyer.sum()
    assert top_decile > 0.25
    assert per_buyer.max() >= 10
    # Churn: of the early buyers, few still buy in the last half-year.
    first = orders.groupby("user_id")["created_at"].min()
    last = orders.groupby("user_id")["created_at"].max()
    early = first < g.HISTORY_START + pd.Timedelta(days=180)
    assert (last[early] > g.HISTORY_END - pd.Timedelta(days=180)).mean() < 0.1


def test_api_frames_follow_the_schema(demo_frames, demo_store):
    customers, orders = demo_frames
    assert list(customers.columns[: len(CUSTOMER_DTYPES)]) == list(CUSTOMER_DTYPES)
    assert list(orders.columns[: len(ORDER_DTYPES)]) == list(ORDER_DTYPES)
    assert len(customers) == len(demo_store.customers) and len(orders) == len(demo_store.orders)
    counts = demo_store.orders.groupby("user_id").size()
    got = customers.set_index("user_id")["total_orders"]
    assert (got.loc[counts.index].to_numpy() == counts.to_numpy()).all()
    assert (got.drop(counts.index) == 0).all()


@pytest.mark.parametrize(("seed", "customers"), [(g.DEFAULT_SEED, None), (3, 300), (11, 40)])
def test_the_sandbox_types_its_frames_as_the_loader_would(demo_store, seed, customers):
    """The sandbox types ``api_frames`` itself; the loader's typing of the same records agrees."""
    store = demo_store if customers is None else g.generate_store(seed=seed, customers=customers)
    tables = demo_tables(store)
    flags = ["is_phone_verified", "is_email_verified"]  # list-endpoint records do not carry them
    expected = (
        coerce_customers(tables["customers"].drop(columns=flags)),
        coerce_orders(tables["orders"]),
    )
    for got, want in zip(frames.api_frames(store), expected, strict=True):
        pd.testing.assert_frame_equal(got, want)


def test_the_sandbox_imports_nothing_else_of_the_package():
    """The independent implementation: no module of the sandbox imports another part."""
    package = Path(g.__file__).parent
    for module in sorted(package.glob("*.py")):
        for line in module.read_text().splitlines():
            words = line.strip().split()
            if words[:1] in (["from"], ["import"]) and words[1].startswith("selorax_analytics"):
                assert words[1].startswith("selorax_analytics.sandbox"), (module.name, line)


# -- the committed demo files ---------------------------------------------------------------
def test_committed_data_files_equal_the_generator(demo_store):
    tables = demo_tables(demo_store)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(DATA / f"{name}.parquet"), frame)
    assert (DATA / "README.md").exists()


def test_demo_tables_use_api_names_taka_and_utc(demo_store):
    tables = demo_tables(demo_store)
    assert list(tables["customers"].columns) == [
        *names.CUSTOMER_COLUMNS,
        "total_orders",
        "total_spent",
    ]
    assert list(tables["orders"].columns) == names.ORDER_COLUMNS
    assert list(tables["order_items"].columns) == names.ITEM_COLUMNS
    orders = tables["orders"]
    for column in ("sub_total", "tax", "shipping", "discount", "grand_total"):
        paisa = (orders[column] * 100).round().astype("int64")
        assert (paisa == demo_store.orders[f"{column}_paisa"]).all()
    assert str(orders["created_at"].dt.tz) == "UTC"
    price = (tables["order_items"]["price"] * 100).round().astype("int64")
    assert (price == demo_store.items["price_paisa"]).all()


def test_export_demo_command(tmp_path, capsys):
    assert main([str(tmp_path / "out"), "--seed", "3", "--customers", "40"]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == [
        "customers.parquet",
        "order_items.parquet",
        "orders.parquet",
    ]
    tables = demo_tables(g.generate_store(seed=3, customers=40))
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / f"{name}.parquet"), frame)
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--customers", "0"])
    assert exit_info.value.code == 2
