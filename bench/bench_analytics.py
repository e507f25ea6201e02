"""Benchmark rfm_segments, cohort_table and guest_conversion against the same work in DuckDB SQL.

Run: ``python bench/bench_analytics.py --customers 1000000 --rate-scale 6``

For each function it prints wall seconds (best of ``--repeat`` runs), the peak of memory traced
by ``tracemalloc`` in a separate run, and the ratios to DuckDB. DuckDB allocates outside
Python's allocator, so its traced peak only covers the result it hands back; the goal for the
package is *time within 2x DuckDB* and *peak memory at most 3x the orders frame's own size*.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd
from _common import add_smoke_flag, emit, machine_line

import selorax_analytics as sa
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import DEMO_AS_OF, generate_store

INVALID = "('cancelled', 'returned', 'failed')"
#: ``--smoke``: customers of the generated store.
SMOKE_CUSTOMERS = 3_000


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time over ``repeat`` runs and the traced peak (bytes) of one more run."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, float(peak)


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
              1 + (5 * (rank() OVER (ORDER BY frequency) - 1)) // count(*) OVER () AS f,
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
    parser.add_argument("--repeat", type=int, default=1)
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if args.smoke:  # the same cases on a store of seconds
        args.customers, args.repeat = SMOKE_CUSTOMERS, 1
    print(machine_line())
    start = time.perf_counter()
    store = generate_store(customers=args.customers, items=False, rate_scale=args.rate_scale)
    customers, orders = api_frames(store)
    del store
    size = orders.memory_usage(deep=True).sum()
    print(
        f"store: {len(customers):,} customers, {len(orders):,} orders "
        f"({len(orders) / len(customers):.1f} per customer), orders frame {size / 2**20:,.0f} MiB, "
        f"built in {time.perf_counter() - start:.1f} s"
    )
    db = duck_tables(customers, orders)
    as_of = DEMO_AS_OF
    cases = {
        "rfm_segments": (
            lambda: sa.rfm_segments(orders, as_of=as_of),
            lambda: sql_rfm(db, as_of),
        ),
        "cohort_table": (
            lambda: sa.cohort_table(orders, as_of=as_of),
            lambda: sql_cohorts(db, as_of),
        ),
        "guest_conversion": (
            lambda: sa.guest_conversion(customers, orders, as_of=as_of),
            lambda: sql_guests(db, as_of),
        ),
    }
    header = f"{'function':<18}{'ours s':>9}{'duckdb s':>10}{'ratio':>7}"
    print(header + f"{'ours peak MiB':>15}{'peak/orders':>13}{'duckdb py MiB':>15}")
    for name, (ours, sql) in cases.items():
        t_ours, m_ours = measure(ours, args.repeat)
        t_sql, m_sql = measure(sql, args.repeat)
        print(
            f"{name:<18}{t_ours:>9.2f}{t_sql:>10.2f}{t_ours / t_sql:>7.2f}"
            f"{m_ours / 2**20:>15,.0f}{m_ours / size:>13.2f}{m_sql / 2**20:>15,.0f}"
        )
        emit(name, t_ours, "s", baseline="duckdb", baseline_value=t_sql, repeat=args.repeat)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
