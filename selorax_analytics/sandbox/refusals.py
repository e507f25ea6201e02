"""Cash-on-delivery refusals in the demo store: who refuses parcels, where, and how addresses are spelt.

Called by :mod:`~selorax_analytics.sandbox.generator` with a random generator of its own (a
child of the store's seed), so planting refusals moves order statuses and address spellings but
no other draw of the store. The planted rates are this module's constants; the table of
patterns in :mod:`~selorax_analytics.sandbox.generator` points here.

How a parcel fails is written with the platform's order statuses (the assumption is in the
README): ``returned`` is a parcel refused at the door or sent back, ``failed`` a parcel the
courier could not deliver; both went out and came back. A ``cancelled`` order whose last change
came at least ``confirmation_hours`` after it was placed was cancelled after the shop's
confirmation call; one cancelled sooner was cancelled before it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

#: How people also write each city and area: other English spellings and Bangla.
SPELLINGS: dict[str, tuple[str, ...]] = {
    "Dhaka": ("ঢাকা", "Dacca"),
    "Chattogram": ("Chittagong", "চট্টগ্রাম"),
    "Cumilla": ("Comilla", "কুমিল্লা"),
    "Sylhet": ("সিলেট",),
    "Khulna": ("খুলনা",),
    "Rajshahi": ("রাজশাহী",),
    "Gazipur": ("গাজীপুর",),
    "Narayanganj": ("নারায়ণগঞ্জ",),
    "Mirpur": ("মিরপুর",),
    "Tongi": ("টঙ্গী",),
    "Fatullah": ("ফতুল্লা",),
    "Gulshan": ("গুলশান",),
    "Uttara": ("উত্তরা",),
}
#: Chance a settled cash-on-delivery order is refused, for a repeat order in an ordinary area.
COD_REFUSAL_RATE = 0.04
#: Areas where parcels are refused more often, and how many times more.
RISKY_AREAS = {"Mirpur": 3.5, "Tongi": 3.5, "Fatullah": 3.5}
#: A person's first cash-on-delivery order is refused this many times more often.
FIRST_COD_LIFT = 2.5
#: ``SERIAL_REFUSER_SHARE`` of people with at least ``SERIAL_MIN_COD_ORDERS`` settled COD
#: orders refuse each parcel with chance ``SERIAL_REFUSAL_RATE``.
SERIAL_MIN_COD_ORDERS = 3
SERIAL_REFUSER_SHARE = 0.10
SERIAL_REFUSAL_RATE = 0.7
#: ``CANCELLED_BEFORE_CONFIRMATION_SHARE`` of cancellations come within ``CONFIRMATION_HOURS``.
CONFIRMATION_HOURS = 1.0
CANCELLED_BEFORE_CONFIRMATION_SHARE = 0.5
#: Share of addresses whose city and area are written another way (``SPELLINGS``).
ADDRESS_SPELLING_SHARE = 0.12
#: The second seed, beside ``seed``, of the generator that plants refusals and spellings.
REFUSAL_STREAM = 14


def _respell(name: str, pick: int) -> str:
    """One way of writing ``name``: lower case, padded, upper case, or another spelling."""
    others = SPELLINGS.get(name, ())
    ways = (name.lower(), f" {name}  ", name.upper(), *others)
    return ways[pick % len(ways)]


def respelled_addresses(
    rng: np.random.Generator, addresses: np.ndarray, share: float
) -> np.ndarray:
    """``address_json`` texts with ``share`` of their city and area written another way."""
    out = addresses.copy()
    pick = rng.uniform(size=len(out)) < share
    ways = rng.integers(0, 60, size=(len(out), 2))
    for i in np.flatnonzero(pick):
        if not isinstance(out[i], str):
            continue
        address = json.loads(out[i])
        address["city"] = _respell(address["city"], int(ways[i, 0]))
        address["area"] = _respell(address["area"], int(ways[i, 1]))
        out[i] = json.dumps(address, ensure_ascii=False)
    return out


def planted_spellings(
    rng: np.random.Generator, addresses: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's area as drawn, and the addresses with ``ADDRESS_SPELLING_SHARE`` respelt."""
    drawn = addresses.to_numpy()
    return person_areas(drawn), respelled_addresses(rng, drawn, ADDRESS_SPELLING_SHARE)


def person_areas(addresses: np.ndarray) -> np.ndarray:
    """The area each person's address names as drawn (before any respelling); ``""`` if none."""
    return np.array(
        [json.loads(a)["area"] if isinstance(a, str) else "" for a in addresses], dtype=object
    )


def refusal_chance(
    person: np.ndarray,
    cod: np.ndarray,
    area: np.ndarray,
    *,
    base: float,
    area_lift: Mapping[str, float],
    first_lift: float,
) -> np.ndarray:
    """Chance each order is refused: ``base``, times the area's lift, times ``first_lift``
    on a person's first cash-on-delivery order. Orders are in time order."""
    lift = pd.Series(area[person]).map(area_lift).fillna(1.0).to_numpy()
    first_cod = cod & ~pd.Series(np.where(cod, person, -1)).duplicated().to_numpy()
    return np.minimum(base * lift * np.where(first_cod, first_lift, 1.0), 0.95)


def serial_refusers(
    rng: np.random.Generator,
    person: np.ndarray,
    settled_cod: np.ndarray,
    *,
    min_orders: int,
    share: float,
) -> np.ndarray:
    """People (generator indices) chosen as serial refusers: ``share`` of those with at least
    ``min_orders`` settled cash-on-delivery orders."""
    counts = pd.Series(person[settled_cod]).value_counts().sort_index()
    eligible = counts.index[counts >= min_orders].to_numpy()
    return eligible[rng.uniform(size=len(eligible)) < share]


def refused_statuses(
    rng: np.random.Generator,
    status: np.ndarray,
    settled_cod: np.ndarray,
    chance: np.ndarray,
) -> np.ndarray:
    """Statuses with settled COD orders redrawn: refused (``returned``, a quarter ``failed``)
    with their ``chance``; otherwise a drawn ``returned`` or ``failed`` becomes ``delivered``
    and ``delivered`` or ``cancelled`` stay."""
    refused = settled_cod & (rng.uniform(size=len(status)) < chance)
    kind = np.where(rng.uniform(size=len(status)) < 0.25, "failed", "returned")
    came_back = np.isin(status, ["returned", "failed"])
    out = np.where(settled_cod & came_back, "delivered", status)
    return np.where(refused, kind, out).astype(object)


def planted_refusals(
    rng: np.random.Generator,
    person: np.ndarray,
    status: np.ndarray,
    settled_cod: np.ndarray,
    areas: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Statuses with settled COD orders redrawn by the planted pattern, and the serial refusers.

    ``person`` is each order's person (generator index, orders in time order), ``areas`` each
    person's area as drawn. The serial refusers are generator indices of people.
    """
    chance = refusal_chance(
        person,
        settled_cod,
        areas,
        base=COD_REFUSAL_RATE,
        area_lift=RISKY_AREAS,
        first_lift=FIRST_COD_LIFT,
    )
    serial = serial_refusers(
        rng, person, settled_cod, min_orders=SERIAL_MIN_COD_ORDERS, share=SERIAL_REFUSER_SHARE
    )
    chance = np.where(np.isin(person, serial), SERIAL_REFUSAL_RATE, chance)
    return refused_statuses(rng, status, settled_cod, chance), serial


def cancel_delays(
    rng: np.random.Generator,
    drawn: np.ndarray,
    *,
    before_share: float = CANCELLED_BEFORE_CONFIRMATION_SHARE,
    confirmation_hours: float = CONFIRMATION_HOURS,
) -> np.ndarray:
    """Days from order to cancellation: ``before_share`` within ``confirmation_hours`` (before
    the confirmation call), the rest from twice that to two days. ``drawn`` is uniform on 0-1."""
    before = rng.uniform(size=len(drawn)) < before_share
    hours = confirmation_hours / 24.0
    return np.where(before, drawn * hours * 0.9, 2 * hours + drawn * (2.0 - 2 * hours))
