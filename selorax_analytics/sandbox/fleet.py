"""Many synthetic stores in one sandbox, for fleet loading tests and benchmarks.

``Sandbox(stores=N)`` (``selorax-analytics sandbox --stores N``) serves N stores of varied size
and buying behaviour instead of the demo store. Store ``i`` (from 0) is the same whatever N:

- id ``FLEET_FIRST_STORE_ID + i`` (1001, 1002, ...);
- drawn by :func:`~selorax_analytics.sandbox.generator.generate_store` with seed
  ``seed + 1000 + i``;
- ``FLEET_MIN_CUSTOMERS`` to ``FLEET_MAX_CUSTOMERS`` people (log-uniform, drawn from the seed and
  ``i``), repeat buying scaled by one of ``FLEET_RATE_SCALES``;
- its own Bearer token ``sx_at_fleet<id>...`` (a hash of the seed and the id), full access to
  that store only.

:func:`fleet_toml` writes the fleet file a fleet load reads, naming one environment variable
per store; the caller sets those variables to the tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from selorax_analytics.sandbox.auth import Credential
from selorax_analytics.sandbox.db import Database
from selorax_analytics.sandbox.errors import SetupError
from selorax_analytics.sandbox.generator import generate_store

FLEET_FIRST_STORE_ID = 1001
FLEET_MIN_CUSTOMERS = 800
FLEET_MAX_CUSTOMERS = 6_000
FLEET_RATE_SCALES = (0.5, 1.0, 1.0, 2.0, 4.0)
#: The most stores one sandbox serves.
FLEET_MAX_STORES = 10_000
_TRADES = ("fashion", "grocery", "books", "gadgets", "beauty", "toys", "home", "sports")
#: Default prefix of the environment variables a generated fleet file names.
ENV_PREFIX = "SELORAX_FLEET_TOKEN_"


@dataclass(frozen=True)
class FleetStoreSpec:
    """One generated store of a fleet sandbox: what it is and how to reach it."""

    store_id: int
    name: str
    customers: int
    rate_scale: float
    seed: int
    token: str = field(repr=False)

    @property
    def env_name(self) -> str:
        """The environment variable :func:`fleet_toml` names for this store's token."""
        return f"{ENV_PREFIX}{self.store_id}"


def fleet_specs(stores: int, seed: int) -> list[FleetStoreSpec]:
    """The ``stores`` stores of a fleet sandbox seeded by ``seed`` (deterministic)."""
    if not 1 <= stores <= FLEET_MAX_STORES:
        raise ValueError(f"`stores` must be from 1 to {FLEET_MAX_STORES}, got {stores!r}.")
    return [_spec(index, seed) for index in range(stores)]


def _spec(index: int, seed: int) -> FleetStoreSpec:
    rng = np.random.default_rng([seed, index])
    low, high = np.log(FLEET_MIN_CUSTOMERS), np.log(FLEET_MAX_CUSTOMERS)
    customers = round(float(np.exp(rng.uniform(low, high))))
    rate_scale = float(FLEET_RATE_SCALES[int(rng.integers(len(FLEET_RATE_SCALES)))])
    store_id = FLEET_FIRST_STORE_ID + index
    digest = hashlib.sha256(f"selorax-fleet:{seed}:{store_id}".encode()).hexdigest()[:12]
    return FleetStoreSpec(
        store_id=store_id,
        name=f"{_TRADES[index % len(_TRADES)]}-{store_id}",
        customers=customers,
        rate_scale=rate_scale,
        seed=seed + 1000 + index,
        token=f"sx_at_fleet{store_id}{digest}",
    )


def populate_fleet(db: Database, specs: list[FleetStoreSpec]) -> None:
    """Fill an empty database with the stores of ``specs`` (ids of people and orders unique)."""
    first_user = first_order = 1
    for spec in specs:
        store = generate_store(
            seed=spec.seed,
            customers=spec.customers,
            store_id=spec.store_id,
            first_user_id=first_user,
            first_order_id=first_order,
            rate_scale=spec.rate_scale,
        )
        db.add_store(store, spec.name)
        first_user += len(store.customers)
        first_order += len(store.orders)


def check_served(db: Database, specs: list[FleetStoreSpec], path: object) -> None:
    """Refuse a database (``path``) that does not hold exactly these stores (a reused ``db``)."""
    served = db.store_ids()
    wanted = [spec.store_id for spec in specs]
    if served != wanted:
        shown = f"{served[:5]}{'...' if len(served) > 5 else ''}"
        raise SetupError(
            "db",
            path,
            f"it serves stores {shown}, not the {len(specs)} fleet stores from {wanted[0]}; "
            "give a new file for this fleet",
        )


def fleet_tokens(specs: list[FleetStoreSpec]) -> dict[str, Credential]:
    """Each store's Bearer token, keyed by token."""
    return {spec.token: Credential(f"fleet-{spec.store_id}", spec.store_id) for spec in specs}


def fleet_toml(
    specs: list[FleetStoreSpec], base_url: str, *, max_in_flight: int | None = None
) -> str:
    """The text of a fleet file for these stores at ``base_url`` (names of variables, no secret)."""
    lines = [] if max_in_flight is None else [f"max_in_flight = {int(max_in_flight)}", ""]
    for spec in specs:
        lines += [
            "[[store]]",
            f'name = "{spec.name}"',
            f'base_url = "{base_url}"',
            f'token_env = "{spec.env_name}"',
            "",
        ]
    return "\n".join(lines)
