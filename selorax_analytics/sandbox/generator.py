"""The synthetic demo store: a deterministic, seeded Bangladeshi e-commerce shop.

Everything is drawn with one ``numpy.random.Generator`` seeded from ``seed``, in a fixed order,
so the same seed gives the same bytes. Work is vectorised, so the generator scales from the
5,000-customer demo store to 1,000,000 customers and about 10,000,000 orders for benchmarks.

Planted patterns (the parameters are module constants, so tests can check they are recovered):

=========================  =====================================================================
pattern                    parameters
=========================  =====================================================================
history                    ``HISTORY_START`` to ``HISTORY_END`` (about 2.5 years), UTC
acquisition growth         new customers per day grow linearly by ``GROWTH`` over the history
seasonality                order intensity times ``EID_FITR_LIFT`` in the 14 days before each
                           Eid al-Fitr, ``EID_ADHA_LIFT`` in the 10 days before each Eid al-Adha,
                           ``NOVEMBER_SALE_LIFT`` from 11 to 20 November (``SEASONAL_PEAKS``)
guests                     ``GUEST_SHARE`` of people check out as guests (``is_guest=1``)
guest conversion           ``GUEST_CONVERSION`` of guests later open an account: the same record
                           becomes ``is_guest=0`` and ``updated_at`` moves to the conversion
duplicate people           ``DUPLICATE_SHARE`` of registered buyers also have an older guest
                           record whose phone is written differently (``+880...``); their
                           earliest orders sit on the guest record
browsers                   ``NO_ORDER_SHARE`` of registered accounts never order
e-mail                     ``NO_EMAIL_SHARE`` of people have no e-mail (guests more often)
phone noise                ``PHONE_NOISE_SHARE`` of phones carry spaces, dashes or a ``+880``
repeat buying              per person a purchase rate ``Gamma(RATE_SHAPE, RATE_SCALE)`` per year
                           and an active life ``Exponential(LIFETIME_MEAN_DAYS)`` (churn): most
                           buy once, a loyal core buys often
statuses                   older orders: ``FINAL_STATUS_WEIGHTS``; the last ``OPEN_WINDOW_DAYS``
                           days also pending, confirmed, processing and shipped
payment                    ``PAYMENT_WEIGHTS`` (mostly cash on delivery)
COD refusals               refused parcels by area, on first COD orders and by serial refusers
cancellations, spellings   before and after confirmation; addresses written another way (both
                           with :mod:`~selorax_analytics.sandbox.refusals`' constants)
money                      integer paisa underneath, so ``grand_total = sub_total + tax +
                           shipping - discount`` holds exactly; 1 to 6 line items an order
=========================  =====================================================================

This module draws the people, their orders and the orders' lifecycle; how a person's name,
phone, e-mail and address are written is in :mod:`~selorax_analytics.sandbox.contacts`, line
items and amounts in :mod:`~selorax_analytics.sandbox.money`, and the typed frames a load
returns (:func:`~selorax_analytics.sandbox.frames.api_frames`) in
:mod:`~selorax_analytics.sandbox.frames`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from selorax_analytics.sandbox.contacts import (
    draw_addresses,
    draw_emails,
    draw_names,
    draw_phones,
    noisy_phones,
)
from selorax_analytics.sandbox.money import draw_money, order_columns_paisa
from selorax_analytics.sandbox.names import CUSTOMER_COLUMNS
from selorax_analytics.sandbox.refusals import (
    REFUSAL_STREAM,
    cancel_delays,
    planted_refusals,
    planted_spellings,
)

DEFAULT_SEED = 20240101
DEFAULT_CUSTOMERS = 5_000
DEMO_STORE_ID = 22
SECOND_STORE_ID = 23
SECOND_STORE_CUSTOMERS = 300

HISTORY_START = pd.Timestamp("2024-01-01", tz="UTC")
HISTORY_END = pd.Timestamp("2026-06-30 18:00", tz="UTC")
#: The ``as_of`` the notebooks and reports use: the day after the history ends (Asia/Dhaka).
DEMO_AS_OF = "2026-07-01"

GROWTH = 2.0
EID_FITR = ("2024-04-10", "2025-03-31", "2026-03-20")
EID_ADHA = ("2024-06-17", "2025-06-07", "2026-05-27")
EID_FITR_LIFT = 2.5
EID_ADHA_LIFT = 1.8
NOVEMBER_SALE_LIFT = 2.0

GUEST_SHARE = 0.33
GUEST_CONVERSION = 0.18
CONVERSION_MEAN_DAYS = 40.0
DUPLICATE_SHARE = 0.02
NO_ORDER_SHARE = 0.08
NO_EMAIL_SHARE = 0.40
PHONE_NOISE_SHARE = 0.12
RATE_SHAPE = 0.45
RATE_SCALE = 2.2
LIFETIME_MEAN_DAYS = 240.0
OPEN_WINDOW_DAYS = 10
FINAL_STATUS_WEIGHTS = {"delivered": 0.86, "cancelled": 0.08, "returned": 0.045, "failed": 0.015}
OPEN_STATUS_WEIGHTS = {
    "pending": 0.2,
    "confirmed": 0.2,
    "processing": 0.2,
    "shipped": 0.22,
    "delivered": 0.1,
    "cancelled": 0.08,
}
PAYMENT_WEIGHTS = {"cod": 0.74, "bkash": 0.13, "nagad": 0.08, "card": 0.05}


@dataclass(frozen=True)
class Store:
    """One generated store: customers, orders and line items with the API's field names.

    Money columns are integer paisa (``*_paisa``) so sums are exact;
    :func:`~selorax_analytics.sandbox.frames.api_frames`
    gives taka as the API sends it.
    """

    store_id: int
    customers: pd.DataFrame
    orders: pd.DataFrame
    items: pd.DataFrame
    #: ``user_id`` (main record) of the planted serial refusers: the truth tests check against.
    serial_refusers: tuple[int, ...] = ()


def _choice(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    keys = np.array(list(weights), dtype=object)
    p = np.array(list(weights.values()))
    return keys[rng.choice(len(keys), size=size, p=p / p.sum())]


def seasonal_multiplier(days: np.ndarray) -> np.ndarray:
    """Order intensity multiplier for days since ``HISTORY_START`` (the planted seasonality)."""
    dates = HISTORY_START + pd.to_timedelta(np.asarray(days), unit="D")
    m = np.ones(len(dates))
    day = dates.normalize().tz_localize(None).values.astype("datetime64[D]")
    for eids, lift, span in ((EID_FITR, EID_FITR_LIFT, 14), (EID_ADHA, EID_ADHA_LIFT, 10)):
        for eid in eids:
            e = np.datetime64(eid, "D")
            m = np.where((day >= e - np.timedelta64(span, "D")) & (day < e), lift, m)
    month_day = dates.day.to_numpy()
    november = (dates.month.to_numpy() == 11) & (month_day >= 11) & (month_day <= 20)
    return np.where(november, NOVEMBER_SALE_LIFT, m)


def _history_days() -> float:
    return (HISTORY_END - HISTORY_START) / pd.Timedelta(days=1)


def _acquisition_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """First-order (or signup) days: linear growth times seasonality, by thinning."""
    span = _history_days()
    peak = (1 + GROWTH) * max(EID_FITR_LIFT, EID_ADHA_LIFT, NOVEMBER_SALE_LIFT)
    out = np.empty(0)
    while len(out) < n:
        cand = rng.uniform(0, span, size=2 * n + 16)
        weight = (1 + GROWTH * cand / span) * seasonal_multiplier(cand)
        out = np.concatenate([out, cand[rng.uniform(0, peak, size=len(cand)) < weight]])
    return np.sort(out[:n])


def _repeat_orders(
    rng: np.random.Generator, first: np.ndarray, buyers: np.ndarray, rate_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat-order days of each buyer: Poisson at a personal rate until churn, seasonal."""
    span = _history_days()
    rate = rng.gamma(RATE_SHAPE, RATE_SCALE * rate_scale, size=len(buyers)) / 365.0
    death = first + rng.exponential(LIFETIME_MEAN_DAYS, size=len(buyers))
    stop = np.minimum(death, span)
    peak = max(EID_FITR_LIFT, EID_ADHA_LIFT, NOVEMBER_SALE_LIFT)
    count = rng.poisson(rate * peak * np.maximum(stop - first, 0))
    owner = np.repeat(np.arange(len(buyers)), count)
    days = first[owner] + rng.uniform(0, 1, size=len(owner)) * (stop - first)[owner]
    keep = rng.uniform(0, peak, size=len(owner)) < seasonal_multiplier(days)
    return buyers[owner[keep]], days[keep]


def _timestamps(days: np.ndarray) -> pd.DatetimeIndex:
    """Days since the start as UTC timestamps with millisecond precision."""
    ms = np.round(np.asarray(days, dtype=float) * 86_400_000).astype("int64")
    return HISTORY_START + pd.to_timedelta(ms, unit="ms")


def generate_store(
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    store_id: int = DEMO_STORE_ID,
    first_user_id: int = 1,
    first_order_id: int = 1,
    items: bool = True,
    rate_scale: float = 1.0,
) -> Store:
    """Generate a store of about ``customers`` people (plus duplicate guest records).

    Parameters
    ----------
    seed
        Seed of the one random generator; the same seed gives the same store.
    customers
        Number of people. Duplicate people add ``DUPLICATE_SHARE`` more records.
    store_id, first_user_id, first_order_id
        Identifiers, so several stores can share one database.
    items
        Draw line items (set ``False`` for very large benchmark stores).
    rate_scale
        Multiplies every person's repeat-purchase rate: 1 gives about 1.4 orders per customer
        (the demo store); 20 gives about 10 orders per customer for benchmarks.
    """
    if customers < 1:
        raise ValueError(f"`customers` must be at least 1, got {customers!r}.")
    rng = np.random.default_rng(seed)
    refusal_rng = np.random.default_rng([seed, REFUSAL_STREAM])
    people = _people(rng, customers)
    areas, people["address_json"] = planted_spellings(refusal_rng, people["address_json"])
    orders = _orders(rng, people, first_order_id, rate_scale)
    records, orders = _records(rng, people, orders, first_user_id, store_id)
    orders, serial = _lifecycle(rng, orders, refusal_rng, areas)
    orders.insert(1, "store_id", store_id)
    item_frame, money = draw_money(rng, len(orders), first_order_id, items)
    orders = pd.concat([orders, money], axis=1)
    refusers = tuple(int(first_user_id + p) for p in serial)
    return Store(store_id, records, orders[order_columns_paisa()], item_frame, refusers)


def _lifecycle(
    rng: np.random.Generator,
    orders: pd.DataFrame,
    refusal_rng: np.random.Generator,
    areas: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Status, payment and timestamps of each order, by its age at the end of the history,
    and the serial refusers."""
    n = len(orders)
    day = orders["day"].to_numpy()
    age = _history_days() - day
    status = np.where(
        age > OPEN_WINDOW_DAYS,
        _choice(rng, FINAL_STATUS_WEIGHTS, n),
        _choice(rng, OPEN_STATUS_WEIGHTS, n),
    )
    payment = _choice(rng, PAYMENT_WEIGHTS, n)
    settled_cod = (age > OPEN_WINDOW_DAYS) & (payment == "cod")
    status, serial = planted_refusals(
        refusal_rng, orders["person"].to_numpy(), status, settled_cod, areas
    )
    prepaid = payment != "cod"
    financial = np.select(
        [status == "returned", status == "delivered", prepaid & (status == "cancelled"), prepaid],
        ["refunded", "paid", "refunded", "paid"],
        "unpaid",
    )
    fulfilled = np.isin(status, ["delivered", "returned", "shipped", "failed"])
    settle = np.select(
        [status == "delivered", status == "returned", status == "cancelled", status == "failed"],
        [
            rng.uniform(1, 5, n),
            rng.uniform(5, 14, n),
            cancel_delays(refusal_rng, rng.uniform(0, 1, n)),
            rng.uniform(2, 6, n),
        ],
        rng.uniform(0, 2, n) * (status != "pending"),
    )
    notes = np.array([None, "Call before delivery", "Deliver after 5 pm", "Gift wrap"], object)
    note = notes[np.where(rng.uniform(size=n) < 0.08, rng.integers(1, 4, n), 0)]
    frame = {
        "order_id": orders["order_id"].to_numpy(),
        "user_id": orders["user_id"].to_numpy(),
        "order_status": status,
        "financial_status": financial,
        "fulfillment_status": np.where(fulfilled, "fulfilled", "unfulfilled"),
        "payment_method": payment,
        "note": note,
        "created_at": _timestamps(day),
        "updated_at": _timestamps(np.minimum(day + settle, _history_days())),
    }
    return pd.DataFrame(frame), serial


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    guest = rng.uniform(size=n) < GUEST_SHARE
    names = draw_names(rng, n)
    span = _history_days()
    first = _acquisition_days(rng, n)
    rng.shuffle(first)
    buyer = guest | (rng.uniform(size=n) >= NO_ORDER_SHARE)
    signup_lead = rng.exponential(20.0, size=n) * (rng.uniform(size=n) < 0.5)
    converts = guest & (rng.uniform(size=n) < GUEST_CONVERSION)
    convert_day = first + rng.exponential(CONVERSION_MEAN_DAYS, size=n) + 0.5
    converts &= convert_day < span
    return pd.DataFrame(
        {
            "name": names,
            "email": draw_emails(rng, names, np.where(guest, 0.6, NO_EMAIL_SHARE - 0.1)),
            "phone": draw_phones(rng, n),
            "address_json": draw_addresses(rng, n),
            "guest": guest,
            "buyer": buyer,
            "first_day": first,
            "signup_day": np.where(guest, first, np.maximum(first - signup_lead, 0)),
            "converts": converts,
            "convert_day": np.where(converts, convert_day, np.nan),
            "duplicate": ~guest & buyer & (rng.uniform(size=n) < DUPLICATE_SHARE),
            "phone_verified": rng.uniform(size=n) < np.where(guest, 0.1, 0.85),
            "email_verified": rng.uniform(size=n) < 0.5,
        }
    )


def _orders(
    rng: np.random.Generator, people: pd.DataFrame, first_order_id: int, rate_scale: float
) -> pd.DataFrame:
    buyers = np.flatnonzero(people["buyer"].to_numpy())
    first = people["first_day"].to_numpy()[buyers]
    who, days = _repeat_orders(rng, first, buyers, rate_scale)
    person = np.concatenate([buyers, who])
    day = np.concatenate([first, days])
    order = np.lexsort((person, day))
    person, day = person[order], day[order]
    return pd.DataFrame(
        {"order_id": np.arange(first_order_id, first_order_id + len(day)), "person": person},
    ).assign(day=day)


def _records(
    rng: np.random.Generator,
    people: pd.DataFrame,
    orders: pd.DataFrame,
    first_user_id: int,
    store_id: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer records, one per person plus an older guest record for duplicate people."""
    n = len(people)
    dup = np.flatnonzero(people["duplicate"].to_numpy())
    user_ids = np.arange(first_user_id, first_user_id + n)
    dup_ids = np.arange(first_user_id + n, first_user_id + n + len(dup))
    span = _history_days()

    # A duplicate person's orders in the first 60 days of their history sit on the guest record.
    owner = user_ids[orders["person"].to_numpy()]
    dup_of = pd.Series(dup_ids, index=dup)
    on_dup = orders["person"].isin(dup) & (
        orders["day"] < people["first_day"].to_numpy()[orders["person"]] + 60
    )
    owner = np.where(on_dup, dup_of.reindex(orders["person"]).to_numpy(), owner)
    orders = orders.assign(user_id=owner.astype("int64"))

    guest = people["guest"].to_numpy()
    converts = people["converts"].to_numpy()
    created = people["signup_day"].to_numpy()
    touched = created + rng.exponential(120.0, size=n) * (rng.uniform(size=n) < 0.3)
    updated = np.where(converts, people["convert_day"].to_numpy(), np.minimum(touched, span))
    main = pd.DataFrame(
        {
            "user_id": user_ids,
            "name": people["name"].to_numpy(),
            "email": people["email"].to_numpy(),
            "phone": noisy_phones(rng, people["phone"].to_numpy(), PHONE_NOISE_SHARE),
            "address_json": people["address_json"].to_numpy(),
            "is_guest": (guest & ~converts).astype("int64"),
            "is_phone_verified": people["phone_verified"].to_numpy().astype("int64"),
            "is_email_verified": (
                people["email_verified"].to_numpy() & people["email"].notna().to_numpy()
            ).astype("int64"),
            "created_at": _timestamps(created),
            "updated_at": _timestamps(updated),
        }
    )
    first = people["first_day"].to_numpy()[dup]
    dups = pd.DataFrame(
        {
            "user_id": dup_ids,
            "name": people["name"].to_numpy()[dup],
            "email": np.full(len(dup), None, dtype=object),
            "phone": noisy_phones(
                rng,
                people["phone"].to_numpy()[dup],
                PHONE_NOISE_SHARE,
                force=True,
                avoid=main["phone"].to_numpy()[dup],
            ),
            "address_json": people["address_json"].to_numpy()[dup],
            "is_guest": np.ones(len(dup), "int64"),
            "is_phone_verified": np.zeros(len(dup), "int64"),
            "is_email_verified": np.zeros(len(dup), "int64"),
            "created_at": _timestamps(first),
            "updated_at": _timestamps(first),
        }
    )
    records = pd.concat([main, dups], ignore_index=True)
    records.insert(1, "store_id", store_id)
    # The duplicate's registered record was opened after its guest orders.
    later = records["user_id"].isin(user_ids[dup])
    records.loc[later, "created_at"] = _timestamps(np.minimum(first + 60.0, span))
    records["updated_at"] = records[["created_at", "updated_at"]].max(axis=1)
    return records[CUSTOMER_COLUMNS], orders
