"""One Dask cluster for the fleet tests: two worker processes, one thread each."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def client():
    """A ``distributed.Client`` on a local cluster shared by every fleet test module."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client
