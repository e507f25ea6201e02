"""Run the sandbox: a uvicorn server on 127.0.0.1 over a SQLite database.

From Python it runs in a background thread::

    from selorax_analytics.sandbox import Sandbox

    with Sandbox() as base_url:          # the demo store on a free port
        ...

    sandbox = Sandbox(faults=Faults(latency=0.05))
    with sandbox as base_url:
        ...
        sandbox.request_counts()         # {(endpoint, credential label): n}

    fleet = Sandbox(stores=20)           # 20 synthetic stores, each with its own token
    with fleet as base_url:
        env = fleet.write_fleet_file("fleet.toml")   # {variable: token}; set them, then load
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from selorax_analytics.sandbox import admin
from selorax_analytics.sandbox.app import build_app
from selorax_analytics.sandbox.auth import Credential, default_credentials
from selorax_analytics.sandbox.db import Database
from selorax_analytics.sandbox.errors import SetupError
from selorax_analytics.sandbox.faults import FaultInjector, Faults
from selorax_analytics.sandbox.fleet import (
    FleetStoreSpec,
    check_served,
    fleet_specs,
    fleet_tokens,
    fleet_toml,
    populate_fleet,
)
from selorax_analytics.sandbox.generator import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    SECOND_STORE_CUSTOMERS,
    SECOND_STORE_ID,
    generate_store,
)
from selorax_analytics.sandbox.replay import replay
from selorax_analytics.sandbox.state import SandboxState

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
BACKLOG = 4096


SECOND_STORE_NAME = "Second Store"


def populate(db: Database, *, seed: int, customers: int, data: Path | None = None) -> int:
    """Fill an empty database with the demo store (or ``data``) and the second store.

    The second store is ``SECOND_STORE_ID`` unless ``data`` already uses that id; then it takes
    the next one. Returns the main store's id.
    """
    if data is not None:
        store_id = replay(db, data)
    else:
        store = generate_store(seed=seed, customers=customers)
        store_id = store.store_id
        db.add_store(store, "Demo Store")
    first_user = int(db.scalar("SELECT MAX(user_id) FROM customers") or 0) + 1
    first_order = int(db.scalar("SELECT MAX(order_id) FROM orders") or 0) + 1
    second = generate_store(
        seed=seed + 1,
        customers=SECOND_STORE_CUSTOMERS,
        store_id=SECOND_STORE_ID if store_id != SECOND_STORE_ID else store_id + 1,
        first_user_id=first_user,
        first_order_id=first_order,
    )
    db.add_store(second, SECOND_STORE_NAME)
    return store_id


def served_stores(db: Database) -> tuple[int, int]:
    """``(main store id, second store id)`` of a filled database, whatever their order."""
    stores = db.query("SELECT store_id, name FROM stores ORDER BY store_id")
    main = [r["store_id"] for r in stores if r["name"] != SECOND_STORE_NAME]
    second = [r["store_id"] for r in stores if r["name"] == SECOND_STORE_NAME]
    return (main or second)[0], (second or [SECOND_STORE_ID])[0]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Sandbox:
    """A SeloraX-compatible server for the demo store (or replayed data), on real HTTP.

    Parameters
    ----------
    host, port
        Where to listen; ``port=0`` picks a free port.
    db
        SQLite file that persists across restarts; ``None`` for a temporary one.
    data
        Folder with ``customers`` and ``orders`` (CSV or Parquet) to serve instead of the demo.
    seed, customers
        The demo store's generator settings.
    faults
        Stress options (:class:`Faults`), changeable later through :attr:`faults`.
    money_as_strings
        Send order amounts as strings (``"1460.00"``), as a MySQL-backed platform may.
    tokens
        Extra Bearer tokens beside the defaults.
    stores
        Serve this many synthetic stores of varied sizes instead of the demo store, each with a
        Bearer token of its own (:attr:`fleet`; :mod:`selorax_analytics.sandbox.fleet`).
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        db: str | os.PathLike[str] | None = None,
        data: str | os.PathLike[str] | None = None,
        seed: int = DEFAULT_SEED,
        customers: int = DEFAULT_CUSTOMERS,
        faults: Faults | None = None,
        money_as_strings: bool = False,
        tokens: dict[str, Credential] | None = None,
        stores: int | None = None,
    ) -> None:
        self.host, self.port = host, port
        #: The stores of a fleet sandbox (``stores=N``): ids, names, sizes and tokens.
        self.fleet: list[FleetStoreSpec] = [] if stores is None else fleet_specs(stores, seed)
        self.db = Database(db)
        try:
            self._fill(seed=seed, customers=customers, data=Path(data) if data else None)
        except BaseException:
            self.db.close()
            raise
        apps: dict[str, Credential] = {}
        if self.fleet:
            default_tokens = fleet_tokens(self.fleet)
            self.store_id = self.fleet[0].store_id
            self.second_store_id = self.fleet[min(1, len(self.fleet) - 1)].store_id
        else:
            self.store_id, self.second_store_id = served_stores(self.db)
            default_tokens, apps = default_credentials(self.store_id, self.second_store_id)
        self.state = SandboxState(
            self.db,
            {**default_tokens, **(tokens or {})},
            apps,
            FaultInjector(faults),
            money_as_strings,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def _fill(self, *, seed: int, customers: int, data: Path | None) -> None:
        """Generate the stores into a new database; check a reused one holds the fleet asked for."""
        if self.fleet and data is not None:
            raise SetupError("data", data, "a fleet sandbox (stores) generates its stores; drop it")
        if self.db.store_ids():
            if self.fleet:
                check_served(self.db, self.fleet, self.db.path)
        elif self.fleet:
            populate_fleet(self.db, self.fleet)
        else:
            populate(self.db, seed=seed, customers=customers, data=data)

    def write_fleet_file(
        self, path: str | os.PathLike[str], *, max_in_flight: int | None = None
    ) -> dict[str, str]:
        """Write a fleet file for this fleet sandbox (started); the variables to set.

        The file names one environment variable per store (never a token); the returned
        mapping is ``{variable: token}`` to put in the environment before loading.
        """
        if not self.fleet or not self.base_url:
            raise RuntimeError(
                "write_fleet_file needs a started fleet sandbox (Sandbox(stores=N))."
            )
        text = fleet_toml(self.fleet, self.base_url, max_in_flight=max_in_flight)
        Path(path).write_text(text, encoding="utf-8")
        return {spec.env_name: spec.token for spec in self.fleet}

    # -- running ---------------------------------------------------------------------------
    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            build_app(self.state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            backlog=BACKLOG,
            timeout_keep_alive=30,
            # httptools when installed (about 0.15 ms less CPU a request than h11), asyncio's
            # own loop always: uvloop would change the event-loop policy of the whole process.
            http="auto",
            loop="asyncio",
        )

    def _socket(self) -> socket.socket:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            # Listen now, so the URL printed by serve_forever's on_ready already accepts
            # connections (they queue until uvicorn takes over the socket).
            sock.listen(BACKLOG)
        except BaseException:
            sock.close()
            raise
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"
        return sock

    def start(self) -> str:
        """Serve in a background thread; the base URL once it accepts connections."""
        if self._thread is not None:
            return self.base_url
        sock = self._socket()
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="selorax-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The sandbox did not start on {self.base_url}.")
            time.sleep(0.01)
        return self.base_url

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve in this thread until interrupted (Ctrl-C); ``on_ready(base_url)`` once bound.

        Raises ``OSError`` when the address cannot be bound (the database is closed first).
        """
        try:
            sock = self._socket()
        except BaseException:
            self.db.close()
            raise
        try:
            if on_ready is not None:
                on_ready(self.base_url)
        except BaseException:  # nothing served: the socket and the database are let go
            sock.close()
            self.db.close()
            raise
        self._server = uvicorn.Server(self._config())
        # uvicorn shuts down gracefully on SIGTERM, then raises it again; without a handler of
        # ours that would kill the process before the database is closed (and a temporary one
        # removed). Ours turns it into KeyboardInterrupt, like Ctrl-C.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
        try:
            self._server.run(sockets=[sock])
        finally:
            self.db.close()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = self._thread = None
        self.db.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- stress and counters ------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        return self.state.injector.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.state.injector.configure(value)

    def request_counts(self) -> dict[tuple[str, str], int]:
        """Requests so far per ``(endpoint, credential label)``, e.g. ``("GET /api/apps/v1/customers", "demo-full")``."""
        return self.state.request_counts()

    def reset_counts(self) -> None:
        """Forget the request counts and the peak of requests in flight."""
        self.state.reset_counts()

    def peak_in_flight(self) -> int:
        """The most API requests the server was handling at once since start or reset."""
        return self.state.peak_in_flight()

    # -- changes a store goes through ---------------------------------------------------------
    def convert_guest(self, user_id: int) -> None:
        admin.convert_guest(self.db, user_id)

    def add_order(self, user_id: int, grand_total: float, order_status: str = "pending") -> int:
        return admin.add_order(self.db, user_id, grand_total, order_status)

    def set_order_status(self, order_id: int, order_status: str) -> None:
        admin.set_order_status(self.db, order_id, order_status)

    def simulate_response(self, record: dict[str, Any], **rates: Any) -> dict[str, Any]:
        """Orders for a campaign's targeted and held-out people; see :mod:`.campaigns`."""
        from selorax_analytics.sandbox.campaigns import simulate_response

        return simulate_response(self.db, record, **rates)
