"""A local SeloraX-compatible server and the synthetic demo store it serves.

See :class:`Sandbox` for Python use and ``selorax-analytics sandbox --help`` for the command.
"""

from __future__ import annotations

from selorax_analytics.sandbox.auth import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TOKEN,
    SECOND_STORE_TOKEN,
    Credential,
)
from selorax_analytics.sandbox.faults import Faults
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import (
    DEMO_AS_OF,
    DEMO_STORE_ID,
    SECOND_STORE_ID,
    Store,
    generate_store,
)
from selorax_analytics.sandbox.server import Sandbox

__all__ = [
    "CUSTOMERS_ONLY_TOKEN",
    "DEMO_AS_OF",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_STORE_ID",
    "DEMO_TOKEN",
    "SECOND_STORE_ID",
    "SECOND_STORE_TOKEN",
    "Credential",
    "Faults",
    "Sandbox",
    "Store",
    "api_frames",
    "generate_store",
]
