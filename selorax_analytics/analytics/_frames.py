"""Private helpers shared by the analytics: column checks, options, Asia/Dhaka calendar days.

Every analytics module reduces the orders frame to the same few arrays (:class:`Purchases`) with
one function, :func:`purchases`, so that what counts as a valid order and which calendar day an
order falls on is decided in exactly one place.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from selorax_analytics._dates import iso_timestamp
from selorax_analytics.exceptions import DataError

#: Business time zone: order days, recency and periods are Asia/Dhaka calendar days.
TIMEZONE = "Asia/Dhaka"
#: Order statuses that do not count as purchases unless ``valid_statuses`` says otherwise.
INVALID_STATUSES: tuple[str, ...] = ("cancelled", "returned", "failed")

_US_PER_DAY = 86_400_000_000
# Asia/Dhaka has been a fixed UTC+06:00 since its 2009 daylight-saving experiment ended.
_FIXED_SINCE = pd.Timestamp("2010-01-01", tz="UTC").value // 1000
_OFFSET_US = 6 * 3_600_000_000


def check_columns(frame: pd.DataFrame, columns: Iterable[str], *, name: str) -> None:
    """Raise :class:`DataError` listing every column of ``columns`` that ``frame`` lacks."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"`{name}` must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"`{name}` lacks the column(s) {missing}; it has {list(frame.columns)}. "
            f"Pass the frame the loader returns or name your columns with the column arguments."
        )


def check_option(value: object, options: Collection[str], *, name: str) -> None:
    """Raise :class:`DataError` when ``value`` is not one of ``options``."""
    if value not in options:
        raise DataError(f"`{name}` must be one of {sorted(options)}, got {value!r}.")


def as_of_day(as_of: object) -> int:
    """The Asia/Dhaka calendar day of ``as_of`` as days since 1970-01-01.

    ``as_of`` is ISO 8601 text (``2026-07-01``, ``2026-07-01T10:00:00+06:00``) or a date,
    datetime, Timestamp or ``numpy.datetime64``; other text (``01/07/2026``) is refused, never
    guessed. Dates and naive date-times are read as Dhaka calendar dates; time-zone aware
    ones are converted to Asia/Dhaka first.
    """
    if as_of is None or (isinstance(as_of, float) and np.isnan(as_of)):
        raise DataError("`as_of` is required: pass a date such as '2026-07-01'.")
    stamp = iso_timestamp(as_of, name="as_of", error=DataError)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(TIMEZONE).tz_localize(None)
    return int(stamp.to_datetime64().astype("datetime64[D]").astype("int64"))


def day_to_date(day: int) -> pd.Timestamp:
    """The naive calendar date of a day number."""
    return pd.Timestamp(np.datetime64(int(day), "D"))


def utc_micros(values: pd.Series, *, name: str) -> tuple[np.ndarray, bool]:
    """Microseconds since the epoch and whether they are UTC (aware) or naive wall time."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = values.dt.tz_convert(None)
        return naive.to_numpy().astype("datetime64[us]").view("int64"), True
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return values.to_numpy().astype("datetime64[us]").view("int64"), False
    raise DataError(
        f"Column `{name}` must hold datetimes, got dtype {dtype}; convert it with pd.to_datetime."
    )


def local_days(micros: np.ndarray, aware: bool) -> np.ndarray:
    """Asia/Dhaka calendar day numbers of UTC microseconds (naive wall time is kept as is)."""
    if not aware or len(micros) == 0:
        return micros // _US_PER_DAY
    if micros.min() >= _FIXED_SINCE:
        return (micros + _OFFSET_US) // _US_PER_DAY
    local = pd.DatetimeIndex(micros.astype("datetime64[us]")).tz_localize("UTC")
    wall = local.tz_convert(TIMEZONE).tz_localize(None).as_unit("us")
    return wall.asi8 // _US_PER_DAY


@dataclass(frozen=True)
class Purchases:
    """Valid orders up to ``as_of``, one entry per order, as plain arrays.

    ``code`` numbers the customers ``0..len(customers)-1`` (``customers[code]`` is the id);
    ``customers`` is sorted, so results per code come out in customer order. Made with
    ``compact=False``, the arrays keep every row of the orders frame and the rows left out
    have the code ``len(customers)``: per-code sums over ``len(customers) + 1`` codes, with
    the last one dropped, then skip copying the kept rows out of the frame.
    """

    customers: pd.Index
    code: np.ndarray
    day: np.ndarray
    micros: np.ndarray
    amount: np.ndarray
    aware: bool

    @property
    def n_customers(self) -> int:
        return len(self.customers)


def valid_mask(status: pd.Series, valid_statuses: Collection[str] | None) -> np.ndarray:
    """True where an order's status counts as a purchase."""
    if valid_statuses is not None and isinstance(valid_statuses, str):
        raise DataError(
            f"`valid_statuses` must be a collection of statuses, got the string {valid_statuses!r}; "
            f"wrap it in a list."
        )
    if isinstance(status.dtype, pd.CategoricalDtype):
        cats = status.cat.categories.astype(str)
        ok = ~cats.isin(INVALID_STATUSES) if valid_statuses is None else cats.isin(valid_statuses)
        codes = status.cat.codes.to_numpy()
        return np.append(np.asarray(ok), False)[codes]
    text = status.astype("str")
    keep = ~text.isin(INVALID_STATUSES) if valid_statuses is None else text.isin(valid_statuses)
    return np.asarray(keep & status.notna())


def purchases(
    orders: pd.DataFrame,
    *,
    as_of: object,
    valid_statuses: Collection[str] | None,
    customer: str = "user_id",
    datetime: str = "created_at",
    monetary: str | None = "grand_total",
    status: str | None = "order_status",
    compact: bool = True,
) -> tuple[Purchases, int]:
    """Reduce ``orders`` to the valid purchases on or before the ``as_of`` day.

    Returns the purchases and the ``as_of`` day number. Orders without a customer are left out
    (``compact=False``: kept, with the code ``n_customers``; see :class:`Purchases`).
    Raises :class:`DataError` when valid orders exist but all of them come after ``as_of``.
    """
    needed = [customer, datetime, *(c for c in (monetary, status) if c is not None)]
    check_columns(orders, needed, name="orders")
    day_of = as_of_day(as_of)
    keep = orders[customer].notna().to_numpy().copy()
    if status is not None:
        keep &= valid_mask(orders[status], valid_statuses)
    micros, aware = utc_micros(orders[datetime], name=datetime)
    keep &= ~np.isnat(micros.view("datetime64[us]"))
    days = local_days(micros, aware)
    in_window = keep & (days <= day_of)
    if keep.any() and not in_window.any():
        first = day_to_date(int(days[keep].min())).date()
        raise DataError(
            f"`as_of` {day_to_date(day_of).date()} is before every valid order (the first is on "
            f"{first}); pass a later `as_of`."
        )
    amount = np.zeros(len(orders))
    if monetary is not None:
        amount = pd.to_numeric(orders[monetary]).to_numpy(dtype="float64")
        if (np.isnan(amount) & in_window).any():
            raise DataError(
                f"Column `{monetary}` has missing amounts in valid orders; fill or drop them first."
            )
    if not compact:
        code, customers = row_codes(orders[customer], in_window)
        return Purchases(customers.rename(customer), code, days, micros, amount, aware), day_of
    code, customers = customer_codes(orders[customer], in_window)
    bought = Purchases(
        customers=customers.rename(customer),
        code=code,
        day=days[in_window],
        micros=micros[in_window],
        amount=amount[in_window],
        aware=aware,
    )
    return bought, day_of


def customer_codes(ids: pd.Series, keep: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Codes of the customers of the kept rows, numbered in ascending id order, and the ids.

    Integer ids spanning at most a few times the number of rows (the usual store: ids from 1
    up) are numbered through a lookup table over the id range, which is several times faster
    than hashing them; other ids go through :func:`pandas.factorize`.
    """
    if ids.dtype.kind == "i" and keep.any():
        values = ids.to_numpy(dtype="int64", na_value=0)[keep]
        low, high = int(values.min()), int(values.max())
        if high - low < 4 * len(values) + 1024:
            # Ids from 1 up index the table as they are (no 10M-row subtraction).
            low = 0 if low >= 0 and high < 4 * len(values) + 1024 else low
            offset = values - low if low else values
            seen = np.zeros(high - low + 1, dtype=bool)
            seen[offset] = True
            number = np.cumsum(seen, dtype=np.int64) - 1
            uniques = np.flatnonzero(seen) + low
            return number[offset], pd.Index(uniques).astype(ids.dtype)
    code, uniques = pd.factorize(ids.array[keep], sort=True)
    return code.astype("int64"), pd.Index(uniques)


def row_codes(ids: pd.Series, keep: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Like :func:`customer_codes`, but a code for every row; rows left out get ``n_customers``.

    Spares copying the kept rows out of the frame (see :class:`Purchases`).
    """
    if ids.dtype.kind == "i" and keep.any():
        values = ids.to_numpy(dtype="int64", na_value=0)
        low, high = int(ids.min()), int(ids.max())
        low = 0 if low >= 0 else low
        if high - low < 4 * int(keep.sum()) + 1024:
            spare = high - low + 1  # the table's last slot takes the rows left out
            offset = np.where(keep, values - low if low else values, spare)
            seen = np.zeros(spare + 1, dtype=bool)
            seen[offset] = True
            seen[spare] = False
            number = np.cumsum(seen, dtype=np.int64) - 1
            uniques = np.flatnonzero(seen) + low
            number[spare] = len(uniques)
            return number[offset], pd.Index(uniques).astype(ids.dtype)
    code, customers = customer_codes(ids, keep)
    every = np.full(len(ids), len(customers), dtype=np.int64)
    every[keep] = code
    return every, customers


def stamps(micros: np.ndarray, aware: bool) -> pd.DatetimeIndex:
    """Microseconds back to timestamps (UTC when the input was aware)."""
    index = pd.DatetimeIndex(micros.astype("datetime64[us]"))
    return index.tz_localize("UTC") if aware else index


def group_min(code: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Minimum of ``values`` per code."""
    out = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, code, values)
    return out


def group_max(code: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Maximum of ``values`` per code."""
    out = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(out, code, values)
    return out
