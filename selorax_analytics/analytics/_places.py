"""Cities and areas of ``address_json``, normalised: case, spaces, English and Bangla spellings."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

#: Other spellings (lower case, single spaces) of Bangladeshi cities and areas, to their name.
PLACE_SPELLINGS: dict[str, str] = {
    "dacca": "Dhaka",
    "ঢাকা": "Dhaka",
    "chittagong": "Chattogram",
    "ctg": "Chattogram",
    "চট্টগ্রাম": "Chattogram",
    "comilla": "Cumilla",
    "কুমিল্লা": "Cumilla",
    "সিলেট": "Sylhet",
    "খুলনা": "Khulna",
    "রাজশাহী": "Rajshahi",
    "গাজীপুর": "Gazipur",
    "নারায়ণগঞ্জ": "Narayanganj",
    "মিরপুর": "Mirpur",
    "টঙ্গী": "Tongi",
    "ফতুল্লা": "Fatullah",
    "গুলশান": "Gulshan",
    "উত্তরা": "Uttara",
    "ধানমন্ডি": "Dhanmondi",
}


def normalize_places(values: pd.Series, *, spellings: Mapping[str, str] | None = None) -> pd.Series:
    """One name per place: spaces collapsed, other spellings mapped, the rest in title case.

    ``" mirpur  "``, ``"MIRPUR"`` and ``"মিরপুর"`` all become ``"Mirpur"``; blank is missing.
    """
    table = PLACE_SPELLINGS if spellings is None else spellings
    lookup = {" ".join(k.split()).casefold(): v for k, v in table.items()}
    text = values.astype("str").str.replace(r"\s+", " ", regex=True).str.strip()
    text = text.where(text.str.len() > 0)
    key = text.str.casefold()
    return key.map(lookup).fillna(text.str.title()).astype("str")


def _from_json(text: object, field: str) -> object:
    if not isinstance(text, str):
        return None
    try:
        address = json.loads(text)
    except ValueError:
        return None
    value = address.get(field) if isinstance(address, dict) else None
    return value if isinstance(value, str) else None


def place_columns(
    customers: pd.DataFrame, *, spellings: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """``city`` and ``area`` of each record, normalised, from those columns or ``address_json``."""
    out = pd.DataFrame(index=customers.index)
    for field in ("city", "area"):
        if field in customers.columns:
            raw = customers[field]
        elif "address_json" in customers.columns:
            raw = customers["address_json"].map(lambda t, f=field: _from_json(t, f))
        else:
            raw = pd.Series(None, index=customers.index, dtype="str")
        out[field] = normalize_places(raw, spellings=spellings)
    return out
