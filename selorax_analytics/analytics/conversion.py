"""Guest checkout conversion: who is one person, who bought as a guest, who opened an account.

Identity
    :func:`identities` links customer records of one person: two records belong together when
    they share a normalised phone (E.164 through ``phonenumbers``, default region BD, so
    ``01712-345678`` and ``+880 1712 345678`` are one number) or a lower-cased e-mail, and the
    links are followed transitively (connected components of the record-phone-e-mail graph).
    Each person's ``identity_id`` is the smallest ``user_id`` among their records.

When is an order a guest order, and when did a guest convert?
    Each record has a *registered since* time: the earliest ``changed_at`` at which the cache
    history saw its ``is_guest`` go from 1 to 0; otherwise, for a record that is registered now
    (``is_guest`` false), its ``created_at``; a record that is a guest now has none. An order is
    a guest order when it was placed before its record's registered-since time. A person's
    account time is the earliest registered-since time over their records. A person *converted*
    when their first valid order was a guest order and their account time comes after it (on or
    before ``as_of``): either a registered record joined their identity later, or the history
    shows the flip.

    From one snapshot without history, a guest record flipped in place to ``is_guest = 0``
    looks exactly like a customer who registered at their first checkout, so it counts as
    *registered*; pass the cache history to see those conversions.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
import phonenumbers
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from selorax_analytics.analytics._frames import (
    Purchases,
    check_columns,
    group_min,
    local_days,
    purchases,
    stamps,
    utc_micros,
)
from selorax_analytics.exceptions import DataError

#: Columns of the cache's change history that :func:`guest_conversion` reads.
HISTORY_COLUMNS = ("user_id", "changed_at", "field", "old", "new")
GROUPS = ("registered", "guest", "converted guest")
FUNNEL_STAGES = ("first guest order", "second order", "account")

_NEVER = np.iinfo(np.int64).max
_BD_MOBILE = r"^(?:\+?880|0)?(1[3-9]\d{8})$"
_TRUE = {"1", "true", "t", "yes"}
_FALSE = {"0", "false", "f", "no"}


def normalize_phones(values: pd.Series, *, region: str = "BD") -> pd.Series:
    """E.164 phone numbers (``+8801712345678``), missing where a value is not a valid number.

    Spaces, dashes, dots and brackets are dropped and a leading ``00`` becomes ``+``.
    Bangladeshi mobile numbers take a fast vectorised path when ``region`` is ``"BD"``; every
    other distinct value goes through ``phonenumbers.parse`` and must be a valid number.
    """
    text = values.astype("str")
    cleaned = text.str.replace(r"[\s\-().]", "", regex=True).str.replace(r"^00", "+", regex=True)
    out = pd.Series(pd.NA, index=values.index, dtype="str")
    if region == "BD":
        mobile = cleaned.str.extract(_BD_MOBILE, expand=False)
        out = ("+880" + mobile).astype("str")
    rest = out.isna() & cleaned.notna() & (cleaned.str.len() > 0)
    if rest.any():
        parsed = {v: _e164(v, region) for v in pd.unique(cleaned[rest])}
        out = out.where(~rest, cleaned[rest].map(parsed)).astype("str")
    return out


def _e164(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def identities(
    customers: pd.DataFrame,
    *,
    phone: str = "phone",
    email: str = "email",
    region: str = "BD",
) -> pd.DataFrame:
    """Link the customer records of one person and give each person an ``identity_id``.

    Parameters
    ----------
    customers
        Customers frame with ``user_id`` and the ``phone`` and ``email`` columns.
    phone, email
        Column names of the phone number and the e-mail address.
    region
        Default region for numbers written without a country code (ISO 3166 code).

    Returns
    -------
    DataFrame
        A copy of ``customers`` with three more columns: ``phone_e164`` (normalised phone or
        missing), ``email_normalized`` (stripped, lower-cased, or missing) and ``identity_id``
        (the smallest ``user_id`` among the records linked to this one, directly or through
        others, by an equal phone or e-mail; a record with neither is its own identity).

    Raises
    ------
    DataError
        Missing columns.

    Examples
    --------
    >>> people = identities(customers)  # doctest: +SKIP
    >>> people.groupby("identity_id").size().gt(1).sum()  # people with several records
    """
    check_columns(customers, ["user_id", phone, email], name="customers")
    out = customers.copy()
    out["phone_e164"] = normalize_phones(customers[phone], region=region)
    mail = customers[email].astype("str").str.strip().str.lower()
    out["email_normalized"] = mail.where(mail.str.len() > 0).astype("str")
    out["identity_id"] = _components(out["user_id"], out["phone_e164"], out["email_normalized"])
    return out


def _components(user_id: pd.Series, *keys: pd.Series) -> pd.Series:
    """Smallest ``user_id`` of each record's connected component over shared keys."""
    n = len(user_id)
    rows, cols, offset = [], [], n
    for key in keys:
        code, uniques = pd.factorize(key)
        linked = np.flatnonzero(code >= 0)
        rows.append(linked)
        cols.append(code[linked] + offset)
        offset += len(uniques)
    row, col = np.concatenate([np.zeros(0, "int64"), *rows]), np.concatenate([[], *cols])
    graph = coo_matrix((np.ones(len(row)), (row, col.astype("int64"))), shape=(offset, offset))
    _, label = connected_components(graph, directed=False)
    ids = pd.to_numeric(user_id).astype("Int64").to_numpy(dtype="int64", na_value=_NEVER)
    smallest = group_min(label[:n], ids, offset)[label[:n]]
    return pd.Series(pd.array(smallest, dtype="Int64"), index=user_id.index).mask(
        smallest == _NEVER
    )


@dataclass(frozen=True)
class GuestConversion:
    """What :func:`guest_conversion` returns: four tables about guests and accounts.

    Attributes
    ----------
    groups
        One row per group (``registered``, ``guest``, ``converted guest``) of buying people:
        ``group``, ``customers``, ``customer_share``, ``orders``, ``revenue``,
        ``avg_order_value``, ``repeat_rate`` (share with two or more valid orders),
        ``median_days_to_second_order``.
    cohorts
        One row per month of the first guest order (PeriodIndex ``cohort``): ``guests``,
        ``converted_in_window`` (account within ``window_days`` of the first order),
        ``conversion_rate``, ``converted`` (account by ``as_of``),
        ``median_days_to_conversion`` and ``window_complete`` (every guest of the cohort has
        had the whole window before ``as_of``; otherwise the rate is still growing).
    funnel
        Guests whose first order is at least ``window_days`` old: ``stage`` (first guest order,
        second order within the window, account within the window), ``customers`` and
        ``share`` of the first stage. The stages are counted separately, not nested: a guest
        may open an account without a second order.
    people
        One row per buying person: ``identity_id``, ``group``, ``records``, ``first_order_at``,
        ``second_order_at``, ``account_at``, ``orders``, ``revenue``, ``days_to_conversion``.
    """

    groups: pd.DataFrame
    cohorts: pd.DataFrame
    funnel: pd.DataFrame
    people: pd.DataFrame


def _history_conversions(history: pd.DataFrame, day: int) -> pd.Series:
    """Earliest 1 -> 0 flip of ``is_guest`` per user, as UTC microseconds, up to ``as_of``."""
    check_columns(history, HISTORY_COLUMNS, name="history")
    old = history["old"].astype("str").str.strip().str.lower()
    new = history["new"].astype("str").str.strip().str.lower()
    flip = (history["field"].astype("str") == "is_guest") & old.isin(_TRUE) & new.isin(_FALSE)
    flip &= history["user_id"].notna()
    try:
        when = pd.to_datetime(history["changed_at"], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataError(f"`history.changed_at` holds values that are not times: {exc}.") from exc
    micros, aware = utc_micros(when, name="changed_at")
    flip &= local_days(micros, aware) <= day
    flips = pd.Series(micros[flip.to_numpy()], index=history["user_id"].to_numpy()[flip.to_numpy()])
    return flips.groupby(level=0).min()


def guest_conversion(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    as_of: object,
    window_days: int = 90,
    history: pd.DataFrame | None = None,
    valid_statuses: Collection[str] | None = None,
) -> GuestConversion:
    """Guests versus registered customers, guest-to-account conversion, and the guest funnel.

    People are identities (:func:`identities`); see the module notes for how guest orders and
    conversions are recognised.

    Parameters
    ----------
    customers
        Customers frame with ``user_id``, ``phone``, ``email``, ``is_guest`` and ``created_at``
        (guests included).
    orders
        Orders frame with ``user_id``, ``order_status``, ``grand_total``, ``created_at``.
        Orders of customers missing from ``customers`` are left out.
    as_of
        Last day of the analysis, inclusive (Asia/Dhaka calendar day).
    window_days
        Days after the first guest order within which a conversion or second order counts for
        the cohort rates and the funnel.
    history
        Optional per-customer change log kept by the cache, one row per change with columns
        ``user_id``, ``changed_at`` (time of the change), ``field`` (column name), ``old`` and
        ``new`` (values before and after). Rows with ``field == "is_guest"``, ``old`` 1/True and
        ``new`` 0/False are conversions.
    valid_statuses
        Statuses that count as purchases; ``None``: all but cancelled, returned and failed.

    Returns
    -------
    GuestConversion
        ``groups``, ``cohorts``, ``funnel`` and ``people`` tables (see :class:`GuestConversion`).

    Raises
    ------
    DataError
        Missing columns, a negative ``window_days``, an unusable ``as_of``.

    Examples
    --------
    >>> result = guest_conversion(customers, orders, as_of="2026-07-01")  # doctest: +SKIP
    >>> result.groups  # doctest: +SKIP
    """
    if not isinstance(window_days, int | np.integer) or window_days < 0:
        raise DataError(f"`window_days` must be a whole number of days >= 0, got {window_days!r}.")
    check_columns(
        customers, ["user_id", "phone", "email", "is_guest", "created_at"], name="customers"
    )
    bought, day = purchases(orders, as_of=as_of, valid_statuses=valid_statuses)
    records = identities(customers)
    since = _registered_since(records, history, day)
    people = _people(records, since, bought)
    return GuestConversion(
        groups=_groups(people),
        cohorts=_cohorts(people, day, window_days),
        funnel=_funnel(people, day, window_days),
        people=people,
    )


def _registered_since(records: pd.DataFrame, history: pd.DataFrame | None, day: int) -> np.ndarray:
    """Per record, UTC microseconds since which it is an account (``_NEVER`` for guests)."""
    created, aware = utc_micros(records["created_at"], name="created_at")
    guest = records["is_guest"].fillna(True).astype(bool).to_numpy()
    since = np.where(guest, _NEVER, created)
    since = np.where(~guest & (local_days(created, aware) > day), _NEVER, since)
    if history is not None and len(history):
        flips = _history_conversions(history, day)
        if len(flips):  # a history of other changes only converts no one
            flip = pd.Index(flips.index).get_indexer(records["user_id"].array)
            since = np.where(flip >= 0, flips.to_numpy()[np.maximum(flip, 0)], since)
    return since


def _people(records: pd.DataFrame, since: np.ndarray, bought: Purchases) -> pd.DataFrame:
    """One row per buying identity."""
    record = pd.Index(records["user_id"].array).get_indexer(bought.customers)[bought.code]
    keep = record >= 0
    record, micros = record[keep], bought.micros[keep]
    amount = bought.amount[keep]
    guest_order = micros < since[record]
    ident_code, ident_ids = pd.factorize(records["identity_id"].array[record])
    n = len(ident_ids)
    first = group_min(ident_code, micros, n)
    # The first order itself: one order per identity at its first time.
    at_first = np.flatnonzero(micros == first[ident_code])
    _, pick = np.unique(ident_code[at_first], return_index=True)
    first_index = at_first[pick]
    rest = np.ones(len(micros), bool)
    rest[first_index] = False
    second = group_min(ident_code[rest], micros[rest], n)
    all_codes = pd.Index(ident_ids).get_indexer(records["identity_id"].array)
    linked = all_codes >= 0
    account = group_min(all_codes[linked], since[linked], n)
    count = np.bincount(ident_code, minlength=n)
    first_guest = np.zeros(n, bool)
    first_guest[ident_code[first_index]] = guest_order[first_index]
    converted = first_guest & (account > first) & (account != _NEVER)
    group = np.where(converted, GROUPS[2], np.where(first_guest, GROUPS[1], GROUPS[0]))
    aware = bought.aware
    first_day = local_days(first, aware)
    account_day = local_days(np.where(account == _NEVER, 0, account), aware)
    to_second = local_days(second, aware) - first_day
    return pd.DataFrame(
        {
            "identity_id": pd.array(ident_ids, dtype="Int64"),
            "group": pd.Categorical(group, categories=GROUPS),
            "records": np.bincount(all_codes[linked], minlength=n),
            "first_guest": first_guest,
            "first_order_at": stamps(first, aware),
            "second_order_at": stamps(second, aware).where(count > 1),
            "account_at": stamps(np.where(account == _NEVER, 0, account), aware).where(
                account != _NEVER
            ),
            "orders": count,
            "revenue": np.round(np.bincount(ident_code, weights=amount, minlength=n), 2),
            "days_to_second_order": pd.Series(to_second, dtype="Int64").where(count > 1),
            "days_to_conversion": pd.Series(account_day - first_day, dtype="Int64").where(
                converted
            ),
        }
    ).sort_values("identity_id", ignore_index=True)


def _groups(people: pd.DataFrame) -> pd.DataFrame:
    grouped = people.groupby("group", observed=False)
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "orders": grouped["orders"].sum(),
            "revenue": grouped["revenue"].sum(),
            "repeat_rate": grouped["orders"].agg(lambda o: (o > 1).mean()),
            "median_days_to_second_order": grouped["days_to_second_order"].median(),
        }
    ).reindex(list(GROUPS))
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["orders"] = out["orders"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0)
    out.insert(1, "customer_share", out["customers"] / max(len(people), 1))
    out.insert(4, "avg_order_value", out["revenue"] / out["orders"].where(out["orders"] > 0))
    out["median_days_to_second_order"] = out["median_days_to_second_order"].astype("float64")
    return out.rename_axis("group").reset_index()


def _guest_days(people: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Identities whose first order was a guest order, and their first-order day numbers."""
    guests = people[people["first_guest"].to_numpy()]
    micros, aware = utc_micros(guests["first_order_at"], name="first_order_at")
    return guests, local_days(micros, aware)


def _within(values: pd.Series, window_days: int) -> np.ndarray:
    return values.le(window_days).fillna(False).to_numpy(dtype=bool)


def _cohorts(people: pd.DataFrame, day: int, window_days: int) -> pd.DataFrame:
    guests, first_day = _guest_days(people)
    month = first_day.astype("datetime64[D]").astype("datetime64[M]")
    frame = pd.DataFrame(
        {
            "cohort": month.astype("int64"),
            "in_window": _within(guests["days_to_conversion"], window_days),
            "converted": (guests["group"] == GROUPS[2]).to_numpy(),
            "days": guests["days_to_conversion"].astype("float64").to_numpy(),
        }
    )
    grouped = frame.groupby("cohort")
    out = pd.DataFrame(
        {
            "guests": grouped.size(),
            "converted_in_window": grouped["in_window"].sum(),
            "converted": grouped["converted"].sum(),
            "median_days_to_conversion": grouped["days"].median(),
        }
    )
    out.insert(2, "conversion_rate", out["converted_in_window"] / out["guests"])
    next_month = (out.index.to_numpy() + 1).astype("datetime64[M]").astype("datetime64[D]")
    out["window_complete"] = next_month.astype("int64") - 1 + window_days <= day
    index = pd.PeriodIndex.from_ordinals(out.index.to_numpy(), freq="M")  # type: ignore[attr-defined]
    out.index = index.rename("cohort")
    return out.astype({"guests": "int64", "converted_in_window": "int64", "converted": "int64"})


def _funnel(people: pd.DataFrame, day: int, window_days: int) -> pd.DataFrame:
    guests, first_day = _guest_days(people)
    ripe = first_day + window_days <= day
    counts = [
        int(ripe.sum()),
        int((ripe & _within(guests["days_to_second_order"], window_days)).sum()),
        int((ripe & _within(guests["days_to_conversion"], window_days)).sum()),
    ]
    out = pd.DataFrame({"stage": list(FUNNEL_STAGES), "customers": counts})
    out["share"] = out["customers"] / counts[0] if counts[0] else np.nan
    out.attrs = {"window_days": window_days}
    return out
