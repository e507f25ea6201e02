"""What the demo store can do beyond the platform's API: simulate a campaign's response.

The sandbox (the embedded demo store of :func:`selorax_analytics.connect`, or
``selorax-analytics sandbox``) answers ``POST /_sandbox/campaigns/response`` by creating orders
for the people a campaign targeted and held out (see ``docs/sandbox.md``). A real store has no
such endpoint: this is for trying a campaign end to end on the demo store, never for a shop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from selorax_analytics.exceptions import ConnectionFailedError, DataError

ROUTE = "/_sandbox/campaigns/response"
#: Hosts a sandbox listens on (it binds to the loopback address only).
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


#: Added to an embedded demo client's cache identity once it has simulated a response.
_PLAYED = "-with-simulated-orders"


def simulate_campaign_response(
    client: Any,
    campaign: str | os.PathLike[str],
    *,
    target_rate: float,
    holdout_rate: float,
    days: int = 30,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Ask the demo store to create the orders of a campaign's response.

    Each targeted person buys with probability ``target_rate``, each held-out person with
    ``holdout_rate``, over the ``days`` days after the send; delivered cash-on-delivery orders
    with the demo store's amounts. The same ``seed`` gives the same orders.

    Parameters
    ----------
    client
        A client of the demo store (:func:`selorax_analytics.connect` with no ``SELORAX_*``
        set, or a ``selorax-analytics sandbox`` on this machine).
    campaign
        The campaign record an export with ``holdout=`` wrote (``<file>.campaign.json``).
    target_rate, holdout_rate
        Shares from 0 to 1: the chance that a targeted, a held-out person buys.
    days, seed
        How many days after the send the orders spread over (1 to 366), and the draw's seed.

    Returns
    -------
    dict
        Per group (``"target"``, ``"holdout"``): ``people``, ``buyers``, ``orders`` and
        ``revenue`` (taka) created.

    Raises
    ------
    DataError
        The client is not a local sandbox, the record cannot be read, or the sandbox refused a
        value (its message names it).
    ConnectionFailedError
        The sandbox does not answer.

    Examples
    --------
    >>> sa.simulate_campaign_response(client, result.campaign, target_rate=0.2,
    ...                               holdout_rate=0.1)  # doctest: +SKIP
    """
    url = httpx.URL(str(getattr(client, "base_url", "")))
    if url.host not in LOCAL_HOSTS:
        raise DataError(
            f"Only the demo store can simulate a response; the client points at "
            f"{str(url)!r}. Use sa.connect() with no SELORAX_* set, or a local sandbox."
        )
    try:
        record = json.loads(Path(campaign).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"Cannot read the campaign record {str(campaign)!r} ({exc}); pass the "
            "<file>.campaign.json an export with holdout= wrote."
        ) from None
    body = {"record": record, "target_rate": target_rate, "holdout_rate": holdout_rate,
            "days": days, "seed": seed}  # fmt: skip
    try:
        answer = httpx.post(str(url.copy_with(path=ROUTE, query=None)), json=body, timeout=60)
    except httpx.HTTPError as exc:
        raise ConnectionFailedError(
            f"The demo store at {str(url)!r} did not answer ({exc})."
        ) from None
    if answer.status_code != 201:
        message = answer.json().get("message", answer.text) if answer.content else answer.text
        raise DataError(f"The demo store refused the simulation: {message}")
    if getattr(client, "embedded_demo", False) and not client.demo_data.endswith(_PLAYED):
        # The embedded demo store now holds orders no other process's demo store has: what
        # this client loads from here on is cached apart, never as the demo store's own data.
        client.demo_data += _PLAYED
    return dict(answer.json()["data"])
