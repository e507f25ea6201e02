"""Benchmark: the fleet summary of N stores, local and sequential against Dask, in one run.

The stores are the fleet sandbox's (``sandbox --stores N``: seeded sizes and behaviours),
generated and written as the fleet dataset (``<root>/{customers,orders}/store_id=<id>/``), then
analysed twice: :func:`~selorax_analytics.fleet.compute.store_figures` store after store in this
process, and :func:`~selorax_analytics.fleet_summary` on an embedded ``LocalCluster`` (one
worker process per core, one thread each). Prints the wall times, the time per store, the
scheduler's overhead per task (N empty tasks through the same cluster) and the peak memory of
each worker process.

    python bench/bench_fleet.py                 # 200 stores, about 500,000 customers
    python bench/bench_fleet.py --stores 40
    python bench/bench_fleet.py --smoke         # 6 small stores
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import add_smoke_flag, emit, machine_line
from distributed import Client, LocalCluster

from selorax_analytics.fleet.compute import default_workers, fleet_summary, store_figures
from selorax_analytics.fleet.dataset import write_store_frame
from selorax_analytics.sandbox.fleet import fleet_specs
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import DEMO_AS_OF, generate_store

#: The fleet sandbox's stores average about 1,000 people; this scale gives 500,000 for 200.
SCALE = 2.5


def write_fleet(root: Path, stores: int, scale: float) -> int:
    """Generate the stores and write them as the fleet dataset; the customers written."""
    people = 0
    for index, spec in enumerate(fleet_specs(stores, seed=7)):
        store = generate_store(
            seed=spec.seed,
            customers=max(50, round(spec.customers * scale)),
            store_id=spec.store_id,
            first_user_id=1 + index * 10_000_000,
            first_order_id=1 + index * 100_000_000,
            items=False,
            rate_scale=spec.rate_scale,
        )
        customers, orders = api_frames(store)
        write_store_frame(root, "customers", spec.store_id, customers)
        write_store_frame(root, "orders", spec.store_id, orders)
        people += len(customers)
    return people


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _noop(index: int) -> int:
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--scale", type=float, default=SCALE, help="store size multiplier")
    add_smoke_flag(parser)
    args = parser.parse_args()
    stores, scale = (6, 0.3) if args.smoke else (args.stores, args.scale)
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        began = time.perf_counter()
        people = write_fleet(root, stores, scale)
        print(
            f"{stores} stores, {people:,} customers written in {time.perf_counter() - began:.1f} s"
        )
        ids = sorted(int(p.name.split("=")[1]) for p in (root / "orders").iterdir())

        began = time.perf_counter()
        local = {sid: store_figures(str(root), sid, as_of=DEMO_AS_OF) for sid in ids}
        sequential = time.perf_counter() - began

        workers = default_workers(stores)
        began = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            startup = time.perf_counter() - began
            began = time.perf_counter()
            summary = fleet_summary(root, as_of=DEMO_AS_OF, scheduler=client)
            distributed = time.perf_counter() - began
            began = time.perf_counter()
            client.gather(client.map(_noop, range(stores), pure=False))
            overhead = (time.perf_counter() - began) / stores
            peaks = client.run(_peak_rss_mib)
    same = all(
        pd.Series(local[sid])
        .drop("error")
        .astype(float)
        .equals(summary.loc[sid].drop("error").astype(float))
        for sid in ids
    )
    size = {"smoke": args.smoke, "stores": stores, "customers": people, "workers": workers}
    print(f"local sequential: {sequential:.1f} s ({sequential / stores * 1000:.0f} ms a store)")
    print(f"dask, {workers} workers: {distributed:.1f} s (+{startup:.1f} s cluster start)")
    print(f"scheduler overhead: {overhead * 1000:.2f} ms a task; same figures: {same}")
    print("peak RSS per worker (MiB): " + ", ".join(f"{v:.0f}" for v in peaks.values()))
    emit("fleet_summary_sequential", sequential, "s", **size)
    emit("fleet_summary_dask", distributed, "s", baseline="sequential",
         baseline_value=sequential, **size)  # fmt: skip
    emit("fleet_time_per_store", sequential / stores, "s", **size)
    emit("fleet_cluster_start", startup, "s", **size)
    emit("fleet_task_overhead", overhead, "s", **size)
    emit("fleet_worker_peak_rss", max(peaks.values()), "MiB", **size)
    if not same:
        raise SystemExit("the Dask figures differ from the local ones")


if __name__ == "__main__":
    main()
