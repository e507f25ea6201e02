"""Benchmark: N stores loaded over HTTP and analysed, local and sequential against Dask, in one run.

The stores are the fleet sandbox's (``Sandbox(stores=N)``, ``sandbox --stores N``: seeded sizes
of 800 to 6,000 people and varied behaviours, about 2,560 people a store on average). They are
loaded over real HTTP by :func:`~selorax_analytics.load_fleet` into the fleet dataset
(``<root>/{customers,orders}/store_id=<id>/``, one budget of requests in flight, each store its
own client; timed, caches off so every row crosses the wire), then analysed twice:
:func:`~selorax_analytics.fleet.compute.store_figures` store after store in this process, and
:func:`~selorax_analytics.fleet_summary` on an embedded ``LocalCluster`` (one worker process per
core, one thread each). Prints the load's wall time and rows a second, the analysis' wall times,
the time per store, the scheduler's overhead per task (N empty tasks through the same cluster)
and the peak memory of each worker process.

    python bench/bench_fleet.py                 # 200 stores, about 500,000 customers
    python bench/bench_fleet.py --stores 40
    python bench/bench_fleet.py --smoke         # 3 stores
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import add_smoke_flag, emit, machine_line
from distributed import Client, LocalCluster

from selorax_analytics.fleet.compute import default_workers, fleet_summary, store_figures
from selorax_analytics.fleet.load import FleetLoad, load_fleet
from selorax_analytics.sandbox import Sandbox
from selorax_analytics.sandbox.generator import DEMO_AS_OF

#: Requests in flight across the fleet while loading (the default of load_fleet).
MAX_IN_FLIGHT = 16


def load_over_http(root: Path, stores: int) -> tuple[FleetLoad, float, int]:
    """Serve ``stores`` fleet stores and load them into ``root``.

    Returns the load, the sandbox's setup seconds and the requests the sandbox answered.
    """
    began = time.perf_counter()
    server = Sandbox(stores=stores)
    server.start()
    setup = time.perf_counter() - began
    try:
        fleet_file = root.parent / "fleet.toml"
        os.environ.update(server.write_fleet_file(fleet_file))
        result = load_fleet(
            fleet_file, out=root, max_in_flight=MAX_IN_FLIGHT, progress=False, cache=False
        )
        requests = sum(server.request_counts().values())
    finally:
        server.stop()
    if result.failed:
        raise SystemExit(f"{len(result.failed)} stores failed to load: {result.failed[0].error}")
    return result, setup, requests


def _peak_rss_mib() -> float:
    """This process' own peak resident memory (``VmHWM``; ``ru_maxrss`` would carry over the
    parent's peak into a spawned worker)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _noop(index: int) -> int:
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=200)
    add_smoke_flag(parser)
    args = parser.parse_args()
    stores = 3 if args.smoke else args.stores
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "fleet-data"
        loaded, setup, requests = load_over_http(root, stores)
        people = sum(o.customers for o in loaded.outcomes)
        rows = people + sum(o.orders for o in loaded.outcomes)
        print(
            f"sandbox of {stores} stores generated and started in {setup:.1f} s; "
            f"{people:,} customers and {rows - people:,} orders loaded over HTTP in "
            f"{loaded.seconds:.1f} s ({rows / loaded.seconds:,.0f} rows/s, {requests:,} requests, "
            f"{requests / loaded.seconds:,.0f} a second, at most "
            f"{loaded.peak_in_flight} of {loaded.max_in_flight} requests in flight)"
        )
        ids = sorted(o.store_id for o in loaded.outcomes if o.store_id is not None)

        began = time.perf_counter()
        local = {sid: store_figures(str(root), sid, as_of=DEMO_AS_OF) for sid in ids}
        sequential = time.perf_counter() - began

        workers = default_workers(stores)
        began = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
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
    no_clv = summary["error"].dropna()
    print(f"stores without a mean CLV: {len(no_clv)} of {stores}")
    for reason, count in no_clv.str.replace(r"\d+", "N", regex=True).value_counts().items():
        print(f"  {count:>4}  {reason}")
    emit("fleet_sandbox_setup", setup, "s", **size)
    emit("fleet_load_http", loaded.seconds, "s", **size, rows=rows, requests=requests,
         in_flight=MAX_IN_FLIGHT)  # fmt: skip
    emit("fleet_load_per_store", loaded.seconds / stores, "s", **size)
    emit("fleet_summary_sequential", sequential, "s", **size)
    emit("fleet_summary_dask", distributed, "s", baseline="sequential",
         baseline_value=sequential, **size)  # fmt: skip
    emit("fleet_time_per_store", sequential / stores, "s", **size)
    emit("fleet_cluster_start", startup, "s", **size)
    emit("fleet_task_overhead", overhead, "s", **size)
    emit("fleet_stores_without_clv", len(no_clv), "stores", **size)
    emit("fleet_worker_peak_rss", max(peaks.values()), "MiB", **size)
    if not same:
        raise SystemExit("the Dask figures differ from the local ones")


if __name__ == "__main__":
    main()
