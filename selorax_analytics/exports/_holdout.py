"""The hold-out of a campaign export: who is kept out of the file, and the record that says so.

The draw
    Only people the file can take (a usable contact for the format) are drawn. People are put in
    strata by the RFM cell of the record they ordered on most recently (``r_score``,
    ``f_score``, ``m_score``, the same record whose segment they are exported under). The number
    held out is ``round(n * holdout)`` over all ``n`` people; each stratum of ``n_s`` people holds
    out ``floor(n_s * holdout)`` and the remaining people go, one each, to the strata with the
    largest fractional parts ``n_s * holdout - floor(n_s * holdout)`` (ties in a random order).
    Every stratum therefore holds out within one person of its share. Within a stratum, people
    sorted by ``identity_id`` are permuted with ``numpy.random.default_rng(seed).permutation``
    (strata in ascending cell order, one generator for the whole draw) and the first ones of the
    permutation are held out. The same people, ``holdout`` and ``seed`` give the same groups.

The record
    ``<file>.campaign.json`` beside the export: campaign id, segment, format, ``sent_at`` (UTC,
    when the file was written), ``as_of``, ``seed``, ``holdout``, and the people of each group
    with their ``identity_id``, every ``user_id`` of their records, their E.164 phones and
    normalised e-mails (keys that map a later record of the same person back) and their RFM
    cell. No credential is in it; phones and e-mails are personal data, as in the export file.
"""

from __future__ import annotations

import json
import math
import numbers
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import DataError
from selorax_analytics.exports._contacts import Linked, normalise_email

#: The RFM frame's score columns a hold-out is stratified by.
CELL_COLUMNS = ("r_score", "f_score", "m_score")
#: Version of the campaign record's layout.
RECORD_VERSION = 1
#: The largest seed accepted (numpy takes any non-negative integer; JSON readers take 2**53).
MAX_SEED = 2**53 - 1


def check_holdout(holdout: object, seed: object) -> tuple[float, int]:
    """The checked share and seed; a fresh random seed (recorded) when ``seed`` is ``None``."""
    if (
        isinstance(holdout, bool)
        or not isinstance(holdout, numbers.Real)
        or not 0 < float(holdout) < 1
    ):
        raise DataError(
            f"`holdout` must be a share strictly between 0 and 1 (such as 0.1 for 10 %), "
            f"got {holdout!r}. Pass the share of people to keep out of the file."
        )
    if seed is None:
        return float(holdout), secrets.randbelow(2**32)
    if (
        not isinstance(seed, int | np.integer)
        or isinstance(seed, bool)
        or not 0 <= seed <= MAX_SEED
    ):
        raise DataError(
            f"`seed` must be a whole number from 0 to {MAX_SEED}, got {seed!r}. "
            "Pass any such number to make the hold-out reproducible, or None for a fresh one."
        )
    return float(holdout), int(seed)


def record_path(path: Path) -> Path:
    """``champions.sms.csv`` -> ``champions.sms.csv.campaign.json``."""
    return path.with_name(path.name + ".campaign.json")


def person_cells(rfm: pd.DataFrame, linked: Linked) -> pd.Series:
    """Per ``identity_id``, the RFM cell (``"553"``) of the record ordered on most recently."""
    missing = [c for c in CELL_COLUMNS if c not in rfm.columns]
    if missing:
        raise DataError(
            f"`rfm` lacks the column(s) {missing}; a hold-out is stratified by the RFM cell. "
            "Pass the frame rfm_segments returned."
        )
    columns = ["user_id", "last_order_at", "monetary", *CELL_COLUMNS]
    joined = rfm[columns].merge(linked.records[["user_id", "identity_id"]], on="user_id")
    joined = joined.sort_values(
        ["identity_id", "last_order_at", "monetary", "user_id"],
        ascending=[True, False, False, True],
        kind="stable",
    )
    first = joined.groupby("identity_id", sort=True).first()
    cell = first["r_score"].astype("str")
    for column in CELL_COLUMNS[1:]:
        cell = cell + first[column].astype("str")
    return cell


def draw_holdout(cells: pd.Series, holdout: float, seed: int) -> pd.Index:
    """The ``identity_id`` held out of the people ``cells`` indexes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    strata = cells.groupby(cells.to_numpy(), sort=True)
    names = list(strata.groups)
    sizes = np.array([len(strata.groups[s]) for s in names], dtype="int64")
    exact = sizes * holdout
    quota = np.floor(exact).astype("int64")
    extra = math.floor(len(cells) * holdout + 0.5) - int(quota.sum())
    if extra > 0:
        fraction = exact - quota
        order = np.lexsort((rng.random(len(names)), -fraction))
        quota[order[:extra]] += 1
    held: list[Any] = []
    for name, k in zip(names, quota, strict=True):
        people = np.sort(np.asarray(strata.groups[name], dtype="int64"))
        held.extend(people[rng.permutation(len(people))[:k]].tolist())
    return pd.Index(sorted(held), dtype="int64")


def _person_entries(linked: Linked, ids: pd.Index, cells: pd.Series) -> list[dict[str, Any]]:
    records = linked.records.loc[linked.records["identity_id"].isin(ids)]
    entries = []
    for identity_id, group in records.groupby("identity_id", sort=True):
        phones = sorted({p for p in group["phone_e164"].dropna()})
        emails = sorted({e for e in map(normalise_email, group["email"]) if e})
        entries.append(
            {
                "identity_id": int(str(identity_id)),
                "user_ids": sorted(int(u) for u in group["user_id"]),
                "phones": phones,
                "emails": emails,
                "rfm_cell": str(cells.get(identity_id, "")),
            }
        )
    return entries


def campaign_record(
    *,
    linked: Linked,
    cells: pd.Series,
    held: pd.Index,
    segment: str,
    format: str,
    file: Path,
    as_of: str | None,
    holdout: float,
    seed: int,
) -> bytes:
    """The campaign record's JSON text for the people of ``cells`` (target) and ``held``."""
    target = cells.index.difference(held)
    record = {
        "record_version": RECORD_VERSION,
        "campaign_id": uuid.uuid4().hex,
        "segment": segment,
        "format": format,
        "file": file.name,
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "as_of": as_of,
        "holdout": holdout,
        "seed": seed,
        "stratified_by": list(CELL_COLUMNS),
        "counts": {"target": len(target), "holdout": len(held)},
        "groups": {
            "target": _person_entries(linked, target, cells),
            "holdout": _person_entries(linked, held, cells),
        },
    }
    return json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
