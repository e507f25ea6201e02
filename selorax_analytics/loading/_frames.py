"""Helpers of the loaders: upserts, change history, progress bars (typing: :mod:`._typing`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from selorax_analytics.loading._typing import KINDS
from selorax_analytics.loading._typing import to_frame as to_frame  # the loaders import it here
from selorax_analytics.loading.cache import HISTORY_COLUMNS, empty_history

#: Customer fields whose changes the history records.
HISTORY_FIELDS = ("is_guest", "total_orders", "total_spent", "updated_at")


def sort_frame(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    id_field = KINDS[kind][0]
    return frame.sort_values(id_field, kind="stable").reset_index(drop=True)


def retype(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Categories re-derived from the values (sorted), as a fresh load derives them."""
    out = frame.copy()
    for column, dtype in KINDS[kind][1].items():
        if dtype == "category":
            values = out[column].astype(object)
            text = values.where(values.notna(), None).astype("str")
            out[column] = text.astype(pd.CategoricalDtype())
    return out


def upsert(
    old: pd.DataFrame, new: pd.DataFrame, kind: str, drop: Iterable[int] = ()
) -> pd.DataFrame:
    """``old`` with the rows of ``new`` replacing (or adding) theirs and ``drop`` ids removed."""
    id_field = KINDS[kind][0]
    gone = set(new[id_field].astype("int64")) | {int(i) for i in drop}
    kept = old[~old[id_field].astype("int64").isin(gone)]
    parts = [p for p in (kept, new) if len(p)] or [old.iloc[:0]]
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return sort_frame(retype(merged, kind), kind)


def _text(field: str, value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if field == "is_guest":
        return "1" if bool(value) else "0"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def customer_changes(old: pd.DataFrame, new: pd.DataFrame, seen_at: pd.Timestamp) -> pd.DataFrame:
    """History rows for customers in both frames whose :data:`HISTORY_FIELDS` differ.

    ``changed_at`` is the customer's new ``updated_at`` when that moved (the platform moves it
    on account changes such as a guest opening an account), else ``seen_at``, the refresh time.
    Values are text as the API sends them (``is_guest`` ``"1"``/``"0"``, times ISO ``Z``).
    """
    fields = [f for f in HISTORY_FIELDS if f in old and f in new]
    a = old.set_index("user_id")[fields]
    b = new.set_index("user_id")[fields]
    common = a.index.intersection(b.index)
    a, b = a.loc[common], b.loc[common]
    rows: list[dict[str, Any]] = []
    for field in fields:
        left, right = a[field], b[field]
        differ = (left != right).fillna(left.isna() != right.isna()).astype(bool)
        for user_id in common[differ.to_numpy()]:
            moved = bool(a.at[user_id, "updated_at"] != b.at[user_id, "updated_at"])  # type: ignore[operator]
            rows.append(
                {
                    "user_id": int(user_id),
                    "changed_at": b.at[user_id, "updated_at"] if moved else seen_at,
                    "field": field,
                    "old": _text(field, a.at[user_id, field]),
                    "new": _text(field, b.at[user_id, field]),
                }
            )
    if not rows:
        return empty_history()
    out = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    out["user_id"] = out["user_id"].astype("Int64")
    out["changed_at"] = pd.to_datetime(out["changed_at"], utc=True).astype("datetime64[us, UTC]")
    for column in ("field", "old", "new"):
        out[column] = out[column].astype("str")
    return out


class Progress:
    """A ``tqdm.auto`` bar (a widget in Jupyter, text in a terminal), created on first update."""

    def __init__(self, enabled: bool, desc: str, unit: str) -> None:
        self.enabled, self.desc, self.unit = enabled, desc, unit
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, leave=False)
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
