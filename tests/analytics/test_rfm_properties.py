"""rfm_segments on random small order sets equals a plain pandas computation written here."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selorax_analytics import DEFAULT_RFM_SEGMENTS, RFM_SEGMENTS_WITH_LOST, DataError, rfm_segments

AS_OF = "2024-03-10"
STATUSES = ["delivered", "pending", "shipped", "cancelled", "returned", "failed"]
# Small ids (numbered through the id-range lookup) and far-apart ones (through factorize).
IDS = [1, 2, 3, 4, 7, 40, 10**12, 10**12 + 5]
START = pd.Timestamp("2024-03-01", tz="UTC")

order = st.tuples(
    st.one_of(st.none(), st.sampled_from(IDS)),
    st.sampled_from(STATUSES),
    st.integers(0, 14 * 24 * 60),  # minutes after 1 March, UTC: some after the as_of day
    st.sampled_from([0, 1, 5, 10, 995, 1005, 250_050, 999_999]),  # paisa, ties likely
)


def orders_frame(rows: list[tuple[int | None, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": pd.array([r[0] for r in rows], dtype="Int64"),
            "order_status": pd.Categorical([r[1] for r in rows], categories=STATUSES),
            "grand_total": np.array([r[3] for r in rows], dtype="float64") / 100,
            "created_at": (START + pd.to_timedelta([r[2] for r in rows], unit="min")).as_unit("us"),
        }
    )


def reference(orders: pd.DataFrame, segment_map: dict[str, str]) -> pd.DataFrame:
    """The RFM of the module notes, computed the obvious way (loops over a handful of rows)."""
    local_day = orders["created_at"].dt.tz_convert("Asia/Dhaka").dt.tz_localize(None).dt.floor("D")
    as_of = pd.Timestamp(AS_OF)
    keep = (
        orders["user_id"].notna()
        & ~orders["order_status"].isin(["cancelled", "returned", "failed"])
        & (local_day <= as_of)
    )
    valid = orders.assign(day=local_day)[keep]
    grouped = valid.groupby(valid["user_id"].astype("int64"), sort=True)
    out = pd.DataFrame(
        {
            "recency_days": (as_of - grouped["day"].max()).dt.days,
            "frequency": grouped.size(),
            "monetary": grouped["grand_total"].sum().round(2),
            "first_order_at": grouped["created_at"].min(),
            "last_order_at": grouped["created_at"].max(),
        }
    )
    n = len(out)

    def score(values: list[float], beats) -> list[int]:
        return [1 + 5 * sum(beats(v, w) for w in values) // n for v in values]

    out["r_score"] = score(out["recency_days"].tolist(), lambda v, w: v < w)
    out["m_score"] = score(out["monetary"].tolist(), lambda v, w: v > w)
    # Frequency bins (2, 3, 4, 6): 1 order F1, 2 F2, 3 F3, 4-5 F4, 6+ F5.
    out["f_score"] = [
        1 if k < 2 else 2 if k < 3 else 3 if k < 4 else 4 if k < 6 else 5 for k in out["frequency"]
    ]
    out["rfm_score"] = [
        f"{r}{f}{m}" for r, f, m in zip(out["r_score"], out["f_score"], out["m_score"], strict=True)
    ]
    out["segment"] = [
        next(name for name, pattern in segment_map.items() if re.fullmatch(pattern, f"{r}{f}"))
        for r, f in zip(out["r_score"], out["f_score"], strict=True)
    ]
    return out


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(order, min_size=0, max_size=30),
    segment_map=st.sampled_from([dict(DEFAULT_RFM_SEGMENTS), dict(RFM_SEGMENTS_WITH_LOST)]),
)
def test_rfm_equals_a_plain_computation(rows, segment_map):
    orders = orders_frame(rows)
    expected = reference(orders, segment_map)
    valid_ever = orders["user_id"].notna() & ~orders["order_status"].isin(
        ["cancelled", "returned", "failed"]
    )
    if valid_ever.any() and expected.empty:  # valid orders, all after as_of
        with pytest.raises(DataError, match="before every valid order"):
            rfm_segments(orders, as_of=AS_OF, segment_map=segment_map)
        return
    rfm = rfm_segments(orders, as_of=AS_OF, segment_map=segment_map)
    assert rfm["user_id"].tolist() == expected.index.tolist()
    for column in ["recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_score"]:
        assert rfm[column].tolist() == expected[column].tolist(), column
    np.testing.assert_array_equal(rfm["monetary"], expected["monetary"])
    assert rfm["segment"].astype(str).tolist() == expected["segment"].tolist()
    assert rfm["first_order_at"].tolist() == expected["first_order_at"].tolist()
    assert rfm["last_order_at"].tolist() == expected["last_order_at"].tolist()
    # Row order of the input never matters.
    shuffled = orders.sample(frac=1.0, random_state=len(rows))
    pd.testing.assert_frame_equal(rfm, rfm_segments(shuffled, as_of=AS_OF, segment_map=segment_map))
