"""How the demo store's people are written down: names, phones, e-mails and addresses.

Each function draws from the generator's one ``numpy.random.Generator`` and is called by
:mod:`~selorax_analytics.sandbox.generator` in a fixed order, so the same seed gives the same
people. The shares that make the planted patterns (how many phones are noisy, how many people
have no e-mail) are the generator's parameters and are passed in; the lists drawn from are in
:mod:`~selorax_analytics.sandbox.names`.
"""

from __future__ import annotations

import json

import numpy as np

from selorax_analytics.sandbox.names import (
    CITIES,
    CITY_WEIGHTS,
    FAMILY_NAMES,
    FEMALE_NAMES,
    MAIL_HOSTS,
    MALE_NAMES,
    ROAD_KINDS,
)

#: The share of women among the generated people.
FEMALE_SHARE = 0.48
#: The share of people without an address.
NO_ADDRESS_SHARE = 0.15


def draw_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique Bangladeshi mobile numbers ``01[3-9]XXXXXXXX`` as strings."""
    numbers = rng.choice(700_000_000, size=n, replace=False) + 1_300_000_000
    return np.char.add("0", numbers.astype(str)).astype(object)


def noisy_phones(
    rng: np.random.Generator,
    phones: np.ndarray,
    share: float,
    *,
    force: bool = False,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """Rewrite ``share`` of the phones (all with ``force``) the way people type them.

    The styles are ``+880...``, dashes, spaces, and ``+880`` with a space and a dash. Where
    ``avoid`` gives another writing of the same number, the next style is taken instead, so a
    duplicate person's two records never carry the same phone text.
    """
    out = phones.copy()
    pick = np.ones(len(out), bool) if force else rng.uniform(size=len(out)) < share
    style = rng.integers(0, 4, size=len(out))
    for i in np.flatnonzero(pick):
        p = out[i]
        styles = (
            f"+880{p[1:]}",
            f"{p[:5]}-{p[5:]}",
            f"{p[:3]} {p[3:7]} {p[7:]}",
            f"+880 {p[1:5]}-{p[5:]}",
        )
        out[i] = styles[style[i]]
        if avoid is not None and out[i] == avoid[i]:
            out[i] = styles[(style[i] + 1) % len(styles)]
    return out


def draw_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` Bangladeshi full names: a given name (female or male) and a family name."""
    female = rng.uniform(size=n) < FEMALE_SHARE
    given = np.where(
        female,
        np.array(FEMALE_NAMES, dtype=object)[rng.integers(0, len(FEMALE_NAMES), n)],
        np.array(MALE_NAMES, dtype=object)[rng.integers(0, len(MALE_NAMES), n)],
    )
    family = np.array(FAMILY_NAMES, dtype=object)[rng.integers(0, len(FAMILY_NAMES), n)]
    return given + " " + family


def draw_emails(
    rng: np.random.Generator, names: np.ndarray, missing_chance: np.ndarray
) -> np.ndarray:
    """An address made from each name, or ``None`` with each person's ``missing_chance``."""
    missing = rng.uniform(size=len(names)) < missing_chance
    host = np.array(MAIL_HOSTS, dtype=object)[rng.integers(0, len(MAIL_HOSTS), len(names))]
    digits = rng.integers(1, 999, size=len(names)).astype(str).astype(object)
    local = np.char.lower(np.char.replace(names.astype(str), " ", ".")).astype(object)
    mail = np.asarray(local + digits + "@" + host, dtype=object)
    mail[missing] = None
    return mail


def draw_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """``address_json`` texts (house and road, city, area), ``None`` for people without one."""
    cities = list(CITIES)
    city = rng.choice(len(cities), size=n, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    area_pick = rng.integers(0, 100, size=n)
    house = rng.integers(1, 200, size=n)
    road = rng.integers(1, 40, size=n)
    road_kind = rng.integers(0, len(ROAD_KINDS), size=n)
    missing = rng.uniform(size=n) < NO_ADDRESS_SHARE
    out = np.empty(n, dtype=object)
    for i in range(n):
        if missing[i]:
            continue
        areas = CITIES[cities[city[i]]]
        out[i] = json.dumps(
            {
                "address": f"House {house[i]}, {ROAD_KINDS[road_kind[i]]} {road[i]}",
                "city": cities[city[i]],
                "area": areas[area_pick[i] % len(areas)],
            },
            ensure_ascii=False,
        )
    return out
