"""Benchmark rfm_segments, cohort_table and guest_conversion against the same work in DuckDB SQL.

Run: ``python bench/bench_analytics.py --customers 1000000 --rate-scale 20 --repeat 7
--cache /tmp/bench-store`` (1M customers, 10M orders; ``--cache`` keeps the generated frames as
Parquet so later runs skip the generator).

For each function it prints wall seconds (median of ``--repeat`` runs, ours and DuckDB's taken
in turn so both see the same machine; for ``rfm_segments`` Polars as well), the peak of memory
traced by ``tracemalloc`` in a separate run, and the ratios. DuckDB allocates outside
Python's allocator, so its traced peak only covers the result it hands back. Goals: RFM within
1.2x DuckDB and ahead of Polars, peak memory below the orders frame's own size.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
from _common import add_smoke_flag, emit, machine_line

import selorax_analytics as sa
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import DEMO_AS_OF, generate_store

INVALID = "('cancelled', 'returned', 'failed')"
#: ``--smoke``: customers of the generated store.
SMOKE_CUSTOMERS = 3_000


def measure(contenders: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median wall seconds of each contender over ``repeat`` rounds, each round running all."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def traced_peak(fn: Callable[[], object]) -> float:
    """Peak bytes traced by ``tracemalloc`` during one run of ``fn``."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return float(peak)


def store_frames(customers: int, rate_scale: float, cache: Path | None) -> tuple[pd.DataFrame, ...]:
    """The generated store's customers and orders frames, read from ``cache`` when it has them."""
    if cache is not None:
        stem = cache / f"store-{customers}-{rate_scale:g}"
        paths = [stem.with_name(f"{stem.name}-{part}.parquet") for part in ("customers", "orders")]
        if all(path.exists() for path in paths):
            return tuple(pd.read_parquet(path) for path in paths)
    store = generate_store(customers=customers, items=False, rate_scale=rate_scale)
    frames = api_frames(store)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for frame, path in zip(frames, paths, strict=True):
            frame.to_parquet(path)
    return frames


def polars_orders(orders: pd.DataFrame) -> pl.DataFrame:
    """The columns the RFM needs as a Polars frame (naive UTC timestamps, like DuckDB's)."""
    return pl.from_pandas(
        pd.DataFrame(
            {
                "user_id": orders["user_id"].astype("int64"),
                "status": orders["order_status"].astype(str),
                "amount": orders["grand_total"],
                "ts": orders["created_at"].dt.tz_convert(None),
            }
        )
    )


def polars_rfm(frame: pl.DataFrame, as_of: str) -> pd.DataFrame:
    """The SQL version's RFM in Polars' lazy API, handed back as a pandas frame."""
    day = pl.lit(pd.Timestamp(as_of).date())
    local_day = (pl.col("ts") + pl.duration(hours=6)).dt.date()
    n = pl.len()
    raw = (
        frame.lazy()
        .filter(~pl.col("status").is_in(["cancelled", "returned", "failed"]), local_day <= day)
        .group_by("user_id")
        .agg(
            first_order_at=pl.col("ts").min(),
            last_order_at=pl.col("ts").max(),
            recency_days=(day - local_day.max()).dt.total_days(),
            frequency=pl.len(),
            monetary=pl.col("amount").sum().round(2),
        )
    )
    f = pl.col("frequency")
    scored = raw.with_columns(
        avg_order_value=pl.col("monetary") / f,
        r=1 + 5 * (pl.col("recency_days").rank("min", descending=True) - 1) // n,
        f=pl.when(f >= 6)
        .then(5)
        .when(f >= 4)
        .then(4)
        .when(f >= 3)
        .then(3)
        .when(f >= 2)
        .then(2)
        .otherwise(1),
        m=1 + 5 * (pl.col("monetary").rank("min") - 1) // n,
    )
    r, f = pl.col("r"), pl.col("f")
    segment = (
        pl.when((r == 5) & (f >= 4))
        .then(pl.lit("Champions"))
        .when(r.is_in([3, 4]) & (f >= 4))
        .then(pl.lit("Loyal Customers"))
        .when((r >= 4) & f.is_in([2, 3]))
        .then(pl.lit("Potential Loyalists"))
        .when((r == 5) & (f == 1))
        .then(pl.lit("New Customers"))
        .when((r == 4) & (f == 1))
        .then(pl.lit("Promising"))
        .when((r == 3) & (f == 3))
        .then(pl.lit("Need Attention"))
        .when(r == 3)
        .then(pl.lit("About to Sleep"))
        .when(f == 5)
        .then(pl.lit("Can't Lose Them"))
        .when(f >= 3)
        .then(pl.lit("At Risk"))
        .otherwise(pl.lit("Hibernating"))
    )
    result = scored.with_columns(rfm_score=pl.concat_str(["r", "f", "m"]), segment=segment).sort(
        "user_id"
    )
    return result.collect().to_pandas()


def duck_tables(customers: pd.DataFrame, orders: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the two frames with naive UTC timestamps."""
    db = duckdb.connect()
    db.execute("SET threads TO 2")
    o = pd.DataFrame(
        {
            "user_id": orders["user_id"].astype("int64"),
            "status": orders["order_status"],
            "amount": orders["grand_total"],
            "ts": orders["created_at"].dt.tz_convert(None),
        }
    )
    c = pd.DataFrame(
        {
            "user_id": customers["user_id"].astype("int64"),
            "phone": customers["phone"],
            "email": customers["email"],
            "is_guest": customers["is_guest"],
            "created": customers["created_at"].dt.tz_convert(None),
        }
    )
    db.register("o", o)
    db.register("c", c)
    db.execute("CREATE TABLE orders AS SELECT * FROM o")
    db.execute("CREATE TABLE customers AS SELECT * FROM c")
    db.unregister("o")
    db.unregister("c")
    return db


def sql_rfm(db: duckdb.DuckDBPyConnection, as_of: str) -> pd.DataFrame:
    return db.sql(
        f"""
        WITH valid AS (
            SELECT user_id, ts, amount, CAST(ts + INTERVAL 6 HOUR AS DATE) AS day FROM orders
            WHERE status NOT IN {INVALID} AND CAST(ts + INTERVAL 6 HOUR AS DATE) <= DATE '{as_of}'
        ), raw AS (
            SELECT user_id, min(ts) AS first_order_at, max(ts) AS last_order_at,
                   date_diff('day', max(day), DATE '{as_of}') AS recency_days,
                   count(*) AS frequency, round(sum(amount), 2) AS monetary
            FROM valid GROUP BY user_id
        ), scored AS (
            SELECT *, monetary / frequency AS avg_order_value,
              1 + (5 * (rank() OVER (ORDER BY recency_days DESC) - 1)) // count(*) OVER () AS r,
              CASE WHEN frequency >= 6 THEN 5 WHEN frequency >= 4 THEN 4
                   WHEN frequency >= 3 THEN 3 WHEN frequency >= 2 THEN 2 ELSE 1 END AS f,
              1 + (5 * (rank() OVER (ORDER BY monetary) - 1)) // count(*) OVER () AS m
            FROM raw
        )
        SELECT *, concat(r, f, m) AS rfm_score, CASE
            WHEN r = 5 AND f >= 4 THEN 'Champions'
            WHEN r IN (3, 4) AND f >= 4 THEN 'Loyal Customers'
            WHEN r >= 4 AND f IN (2, 3) THEN 'Potential Loyalists'
            WHEN r = 5 AND f = 1 THEN 'New Customers'
            WHEN r = 4 AND f = 1 THEN 'Promising'
            WHEN r = 3 AND f = 3 THEN 'Need Attention'
            WHEN r = 3 THEN 'About to Sleep'
            WHEN f = 5 THEN 'Can''t Lose Them'
            WHEN f >= 3 THEN 'At Risk'
            ELSE 'Hibernating' END AS segment
        FROM scored ORDER BY user_id
        """
    ).df()


def sql_cohorts(db: duckdb.DuckDBPyConnection, as_of: str) -> pd.DataFrame:
    return db.sql(
        f"""
        WITH valid AS (
            SELECT user_id, date_trunc('month', ts + INTERVAL 6 HOUR) AS month FROM orders
            WHERE status NOT IN {INVALID} AND CAST(ts + INTERVAL 6 HOUR AS DATE) <= DATE '{as_of}'
        ), cohort AS (SELECT user_id, min(month) AS cohort FROM valid GROUP BY user_id),
        size AS (SELECT cohort, count(*) AS n FROM cohort GROUP BY cohort),
        cells AS (
            SELECT c.cohort, date_diff('month', c.cohort, v.month) AS k,
                   count(DISTINCT v.user_id) AS active
            FROM valid v JOIN cohort c USING (user_id) GROUP BY 1, 2
        )
        PIVOT (SELECT cells.cohort, s.n AS cohort_size, k, active / s.n AS share
               FROM cells JOIN size s USING (cohort))
        ON k USING first(share) ORDER BY cohort
        """
    ).df()


def sql_guests(db: duckdb.DuckDBPyConnection, as_of: str, window: int = 90) -> pd.DataFrame:
    db.execute(
        r"""
        CREATE OR REPLACE TEMP TABLE rec AS
        SELECT user_id, is_guest, created,
               '+880' || regexp_extract(regexp_replace(phone, '[\s\-().]', '', 'g'),
                                        '^(?:\+?880|0)?(1[3-9]\d{8})$', 1) AS phone_key,
               nullif(lower(trim(email)), '') AS email_key
        FROM customers;
        UPDATE rec SET phone_key = NULL WHERE phone_key = '+880';
        CREATE OR REPLACE TEMP TABLE lab AS SELECT user_id, user_id AS label FROM rec;
        """
    )
    while True:
        db.execute(
            """
            CREATE OR REPLACE TEMP TABLE lab2 AS
            WITH p AS (SELECT phone_key AS k, min(label) AS m FROM rec JOIN lab USING (user_id)
                       WHERE phone_key IS NOT NULL GROUP BY 1),
                 e AS (SELECT email_key AS k, min(label) AS m FROM rec JOIN lab USING (user_id)
                       WHERE email_key IS NOT NULL GROUP BY 1)
            SELECT r.user_id, least(l.label, coalesce(p.m, l.label), coalesce(e.m, l.label)) AS label
            FROM rec r JOIN lab l USING (user_id)
            LEFT JOIN p ON r.phone_key = p.k LEFT JOIN e ON r.email_key = e.k
            """
        )
        changed = db.execute(
            "SELECT count(*) FROM lab JOIN lab2 USING (user_id) WHERE lab.label <> lab2.label"
        ).fetchone()
        db.execute("CREATE OR REPLACE TEMP TABLE lab AS SELECT * FROM lab2")
        if changed is None or changed[0] == 0:
            break
    return db.sql(
        f"""
        WITH r AS (
            SELECT user_id, label,
                   CASE WHEN is_guest OR CAST(created + INTERVAL 6 HOUR AS DATE) > DATE '{as_of}'
                        THEN NULL ELSE created END AS since
            FROM rec JOIN lab USING (user_id)
        ), o AS (
            SELECT r.label, o.ts, o.amount, (r.since IS NULL OR o.ts < r.since) AS guest_order,
                   CAST(o.ts + INTERVAL 6 HOUR AS DATE) AS day,
                   row_number() OVER (PARTITION BY r.label ORDER BY o.ts) AS n
            FROM orders o JOIN r USING (user_id)
            WHERE o.status NOT IN {INVALID}
              AND CAST(o.ts + INTERVAL 6 HOUR AS DATE) <= DATE '{as_of}'
        ), p AS (
            SELECT label, min(ts) AS first_at, count(*) AS orders, sum(amount) AS revenue,
                   bool_or(guest_order AND n = 1) AS first_guest,
                   date_diff('day', min(day), min(day) FILTER (n = 2)) AS to_second
            FROM o GROUP BY label
        ), a AS (SELECT label, min(since) AS account FROM r GROUP BY label)
        SELECT CASE WHEN first_guest AND account > first_at THEN 'converted guest'
                    WHEN first_guest THEN 'guest' ELSE 'registered' END AS "group",
               count(*) AS customers, sum(orders) AS orders, sum(revenue) AS revenue,
               sum(revenue) / sum(orders) AS avg_order_value, avg((orders > 1)::INT) AS repeat_rate,
               median(to_second) AS median_days_to_second_order
        FROM p JOIN a USING (label) GROUP BY 1 ORDER BY 1
        """
    ).df()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rate-scale", type=float, default=1.0, help="generator purchase rate")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (median reported)")
    parser.add_argument("--cache", type=Path, help="folder keeping the generated frames (Parquet)")
    parser.add_argument("--only", nargs="+", metavar="FUNCTION", help="time only these functions")
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if args.smoke:  # the same cases on a store of seconds
        args.customers, args.repeat = SMOKE_CUSTOMERS, 1
    print(machine_line())
    start = time.perf_counter()
    customers, orders = store_frames(args.customers, args.rate_scale, args.cache)
    size = orders.memory_usage(deep=True).sum()
    print(
        f"store: {len(customers):,} customers, {len(orders):,} orders "
        f"({len(orders) / len(customers):.1f} per customer), orders frame {size / 2**20:,.0f} MiB, "
        f"built in {time.perf_counter() - start:.1f} s"
    )
    db = duck_tables(customers, orders)
    polars_frame = polars_orders(orders)
    as_of = DEMO_AS_OF
    cases: dict[str, dict[str, Callable[[], object]]] = {
        "rfm_segments": {
            "ours": lambda: sa.rfm_segments(orders, as_of=as_of),
            "duckdb": lambda: sql_rfm(db, as_of),
            "polars": lambda: polars_rfm(polars_frame, as_of),
        },
        "cohort_table": {
            "ours": lambda: sa.cohort_table(orders, as_of=as_of),
            "duckdb": lambda: sql_cohorts(db, as_of),
        },
        "guest_conversion": {
            "ours": lambda: sa.guest_conversion(customers, orders, as_of=as_of),
            "duckdb": lambda: sql_guests(db, as_of),
        },
    }
    header = (
        f"{'function':<18}{'ours s':>9}{'duckdb s':>10}{'ratio':>7}{'polars s':>10}{'ratio':>7}"
    )
    print(header + f"{'ours peak MiB':>15}{'peak/orders':>13}{'duckdb py MiB':>15}")
    for name, contenders in cases.items():
        if args.only and name not in args.only:
            continue
        seconds = measure(contenders, args.repeat)
        t_ours, t_sql, t_pl = seconds["ours"], seconds["duckdb"], seconds.get("polars", np.nan)
        m_ours, m_sql = traced_peak(contenders["ours"]), traced_peak(contenders["duckdb"])
        print(
            f"{name:<18}{t_ours:>9.2f}{t_sql:>10.2f}{t_ours / t_sql:>7.2f}{t_pl:>10.2f}"
            f"{t_ours / t_pl:>7.2f}{m_ours / 2**20:>15,.0f}{m_ours / size:>13.2f}"
            f"{m_sql / 2**20:>15,.0f}"
        )
        emit(name, t_ours, "s", baseline="duckdb", baseline_value=t_sql, repeat=args.repeat)
        if "polars" in seconds:
            emit(name, t_ours, "s", baseline="polars", baseline_value=t_pl, repeat=args.repeat)
        emit(
            f"{name}_peak",
            m_ours / 2**20,
            "MiB",
            baseline="orders_frame",
            baseline_value=size / 2**20,
        )
    check = sa.rfm_segments(orders, as_of=as_of)
    theirs = sql_rfm(db, as_of)
    same = np.array_equal(check["rfm_score"].to_numpy(), theirs["rfm_score"].to_numpy())
    print(f"rfm_score identical to the SQL version: {same}")
    emit("rfm_score_identical_to_sql", int(same), "bool")
    theirs = polars_rfm(polars_frame, as_of)
    same = np.array_equal(check["rfm_score"].to_numpy(), theirs["rfm_score"].to_numpy())
    print(f"rfm_score identical to the Polars version: {same}")
    emit("rfm_score_identical_to_polars", int(same), "bool")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
