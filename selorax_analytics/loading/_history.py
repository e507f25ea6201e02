"""The change history of a store's customers: ``history.parquet`` in the store's cache folder."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from selorax_analytics.loading._private_files import atomic_write, discard_file, unwritable

logger = logging.getLogger("selorax_analytics")

HISTORY_COLUMNS = ("user_id", "changed_at", "field", "old", "new")


def empty_history() -> pd.DataFrame:
    """A history without changes: the columns of :data:`HISTORY_COLUMNS` with their dtypes."""
    return pd.DataFrame(
        {
            "user_id": pd.Series([], dtype="Int64"),
            "changed_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "field": pd.Series([], dtype="str"),
            "old": pd.Series([], dtype="str"),
            "new": pd.Series([], dtype="str"),
        }
    )


def _history(path: Path) -> tuple[pd.DataFrame, str | None]:
    """The history in ``path``, and what is wrong with the file (then the history is empty)."""
    if path.is_dir() and not path.is_symlink():
        return empty_history(), "is a folder, not a file"
    if not path.exists():
        return empty_history(), None
    try:
        frame = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException, ValueError, TypeError, KeyError, IndexError) as exc:
        return empty_history(), f"is unreadable ({type(exc).__name__})"
    expected = empty_history().dtypes
    if list(frame.columns) != list(HISTORY_COLUMNS) or not frame.dtypes.equals(expected):
        return empty_history(), f"does not hold the columns {list(HISTORY_COLUMNS)}"
    return frame, None


def read_history(folder: Path) -> pd.DataFrame:
    """The change history in ``folder`` (empty, with its columns, when there is none)."""
    path = folder / "history.parquet"
    frame, problem = _history(path)
    if problem is not None:
        logger.warning("The change history %s %s; ignoring it.", path, problem)
    return frame


def append_history(folder: Path, changes: pd.DataFrame) -> None:
    """Add ``changes`` to the history, without repeating a change already recorded.

    An unusable history file is reported once and started again (a folder in its place is
    moved aside when it holds anything).
    """
    path = folder / "history.parquet"
    old, problem = _history(path)
    if problem is not None:
        try:
            aside = discard_file(path)
        except OSError as exc:
            raise unwritable(folder, exc) from exc
        moved = "" if aside is None else f" (moved to {aside.name})"
        logger.warning("The change history %s %s%s; starting it again.", path, problem, moved)
    if changes.empty:
        return
    both = pd.concat([old, changes], ignore_index=True)
    both = both.drop_duplicates(list(HISTORY_COLUMNS), keep="first")
    both = both.sort_values(["changed_at", "user_id", "field"], kind="stable")
    table = pa.Table.from_pandas(both.reset_index(drop=True), preserve_index=False)
    try:
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    except OSError as exc:
        raise unwritable(folder, exc) from exc
