"""Campaign records (``<file>.campaign.json``) and the people behind later customer records.

An export with a hold-out writes the record (see :mod:`selorax_analytics.exports.segments`).
:func:`read_campaign` reads it into a :class:`Campaign`; :func:`people_of_records` says which
campaign person each customer record (``user_id``) belongs to, so an order placed under a new
guest record by a targeted person still counts for them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import DataError

GROUPS = ("target", "holdout")
_FIELDS = ("campaign_id", "segment", "format", "sent_at", "holdout", "seed", "groups")


@dataclass(frozen=True)
class Campaign:
    """A campaign sent to a segment, with the people held out of it.

    Attributes
    ----------
    campaign_id, segment, format
        What was sent, to whom and how.
    sent_at
        When the file was written (UTC): the report's window starts here.
    as_of
        The RFM analysis day of the export (text), or ``None``.
    holdout, seed
        The share held out and the seed of the draw.
    people
        One row per person: ``identity_id`` (Int64) and ``group`` (``"target"`` or
        ``"holdout"``).
    keys
        What links later records to a person: ``identity_id``, ``kind`` (``"user_id"``,
        ``"phone"`` or ``"email"``) and ``value`` (text).
    record
        The record's file, when read by :func:`read_campaign`.

    ``str(campaign)`` (and its display in a notebook) is one line: ``"Hibernating by sms: 793
    people targeted, 794 held out (50%), seed 7, record x.sms.csv.campaign.json"``.
    """

    campaign_id: str
    segment: str
    format: str
    sent_at: pd.Timestamp
    as_of: str | None
    holdout: float
    seed: int
    people: pd.DataFrame = field(repr=False)
    keys: pd.DataFrame = field(repr=False)
    record: Path | None = field(default=None, repr=False)

    def summary(self) -> str:
        """One line for a person: who was targeted, who held out, the seed and the record."""
        groups = self.people["group"]
        targeted, held = int((groups == "target").sum()), int((groups == "holdout").sum())
        everyone = targeted + held
        share = f" ({held / everyone:.0%})" if everyone else ""
        record = f", record {self.record.name}" if self.record is not None else ""
        return (
            f"{self.segment} by {self.format}: {targeted:,} people targeted, {held:,} held "
            f"out{share}, seed {self.seed}{record}"
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<Campaign {self.summary()}>"

    def _repr_html_(self) -> str:
        from html import escape

        return f"<p>{escape(self.summary())}</p>"


def read_campaign(path: str | os.PathLike[str]) -> Campaign:
    """Read the campaign record an export with a hold-out wrote beside its file.

    Parameters
    ----------
    path
        The record, ``<file>.campaign.json``.

    Returns
    -------
    Campaign

    Raises
    ------
    DataError
        The file is missing, is not JSON, or is not a campaign record.

    Examples
    --------
    >>> campaign = sa.read_campaign("at_risk.sms.csv.campaign.json")  # doctest: +SKIP
    """
    source = Path(path)
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"No campaign record at {str(source)!r}. Pass the <file>.campaign.json an export "
            "with holdout= wrote."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{str(source)!r} is not a readable campaign record ({exc}). Pass the "
            "<file>.campaign.json an export with holdout= wrote."
        ) from None
    return replace(campaign_from_record(record, repr(str(source))), record=source)


def campaign_from_record(record: Any, source: str = "the record") -> Campaign:
    """A :class:`Campaign` from the record's parsed JSON."""
    missing = [f for f in _FIELDS if not isinstance(record, dict) or f not in record]
    if missing:
        raise DataError(
            f"{source} is not a campaign record: it lacks {missing}. Pass the "
            "<file>.campaign.json an export with holdout= wrote."
        )
    try:
        sent_at = pd.Timestamp(record["sent_at"]).tz_convert("UTC")
        people, keys = _people_and_keys(record["groups"])
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise DataError(f"{source} is a damaged campaign record ({exc}); export again.") from None
    return Campaign(
        campaign_id=str(record["campaign_id"]),
        segment=str(record["segment"]),
        format=str(record["format"]),
        sent_at=sent_at,
        as_of=record.get("as_of"),
        holdout=float(record["holdout"]),
        seed=int(record["seed"]),
        people=people,
        keys=keys,
    )


def _people_and_keys(groups: dict[str, list[dict[str, Any]]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    people: list[tuple[int, str]] = []
    keys: list[tuple[int, str, str]] = []
    for group in GROUPS:
        for person in groups[group]:
            identity = int(person["identity_id"])
            people.append((identity, group))
            keys.extend((identity, "user_id", str(int(u))) for u in person["user_ids"])
            keys.extend((identity, "phone", str(p)) for p in person.get("phones", []))
            keys.extend((identity, "email", str(e)) for e in person.get("emails", []))
    frame = pd.DataFrame(people, columns=["identity_id", "group"])
    frame = frame.astype({"identity_id": "Int64", "group": "str"})
    key_frame = pd.DataFrame(keys, columns=["identity_id", "kind", "value"])
    return frame, key_frame.astype({"identity_id": "Int64", "kind": "str", "value": "str"})


def people_of_records(campaign: Campaign, customers: pd.DataFrame | None) -> pd.Series:
    """The campaign person (``identity_id``) of each customer record (``user_id`` index).

    Without ``customers``, the records the campaign recorded. With them, also every record
    :func:`selorax_analytics.identities` links to a recorded one, or that shares a recorded
    phone or e-mail. A record linked to two campaign people counts for the one listed first.
    """
    keys = campaign.keys
    recorded = keys.loc[keys["kind"] == "user_id"]
    owner = pd.Series(
        recorded["identity_id"].to_numpy(dtype="float64", na_value=np.nan),
        index=recorded["value"].astype("int64").to_numpy(),
    )
    owner = owner[~owner.index.duplicated()]
    if customers is None:
        return owner.astype("Int64")
    from selorax_analytics.analytics.conversion import identities

    linked = identities(customers)
    user_ids = pd.to_numeric(linked["user_id"]).astype("int64")
    found = user_ids.map(owner).astype("float64")
    by_component = pd.Series(found.to_numpy(), index=linked["identity_id"].to_numpy()).dropna()
    by_component = by_component[~by_component.index.duplicated()]
    found = found.fillna(linked["identity_id"].map(by_component).astype("float64"))
    for kind, column in (("phone", "phone_e164"), ("email", "email_normalized")):
        rows = keys.loc[keys["kind"] == kind]
        by_key = pd.Series(
            rows["identity_id"].to_numpy(dtype="float64", na_value=np.nan),
            index=rows["value"].to_numpy(),
        )
        found = found.fillna(
            linked[column].map(by_key[~by_key.index.duplicated()]).astype("float64")
        )
    result = pd.Series(found.to_numpy(), index=user_ids.to_numpy()).dropna()
    return pd.concat([owner, result[~result.index.isin(owner.index)]]).astype("Int64")
