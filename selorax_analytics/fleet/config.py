"""The fleet file: which stores to load, where, and which environment variables hold their keys.

A TOML file with one ``[[store]]`` table per store::

    max_in_flight = 16                 # optional: requests in flight across the whole fleet

    [[store]]
    name = "dhaka-shoes"
    base_url = "https://api.selorax.io"
    token_env = "SHOES_TOKEN"          # the variable holding the Bearer token
    max_concurrency = 4                # optional: requests in flight for this store
    max_retries = 2                    # optional: retries of a failed request (default 8)

    [[store]]
    name = "ctg-books"
    base_url = "https://api.selorax.io"
    client_id_env = "BOOKS_CLIENT_ID"  # or client credentials, all three
    client_secret_env = "BOOKS_CLIENT_SECRET"
    store_id_env = "BOOKS_STORE_ID"

The file names environment variables, never the secrets themselves: a value that looks like a
credential (``sx_at_...``) is refused. Every problem is a :class:`FleetFileError` naming the
file, the store and the key; the secrets are read from the environment only when a client is
made, and never shown.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selorax_analytics.exceptions import ValidationError

TOKEN_KEYS = ("token_env",)
CLIENT_KEYS = ("client_id_env", "client_secret_env", "store_id_env")
STORE_KEYS = frozenset(
    {"name", "base_url", "max_concurrency", "max_retries", *TOKEN_KEYS, *CLIENT_KEYS}
)
TOP_KEYS = frozenset({"store", "max_in_flight"})
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: What a SeloraX credential looks like (``sx_at_...``, ``sx_secret_...``, ``sx_app_...``).
_SECRET = re.compile(r"\s*sx_[A-Za-z]+_", re.IGNORECASE)
_MAX_NAME = 100


class FleetFileError(ValidationError):
    """The fleet file is unreadable or invalid; ``store`` and ``key`` say where (or ``None``)."""

    def __init__(self, message: str, *, store: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.store = store
        self.key = key


@dataclass(frozen=True)
class FleetStore:
    """One store of a fleet: its name, API root and where its credentials are.

    ``token_env`` is set for a Bearer token; otherwise ``client_id_env``, ``client_secret_env``
    and ``store_id_env`` are. The values are read by :meth:`client_options` when needed.
    """

    name: str
    base_url: str
    token_env: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    store_id_env: str | None = None
    max_concurrency: int | None = None
    max_retries: int | None = None

    def client_options(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Keyword arguments of :class:`~selorax_analytics.Client` for this store (with secrets).

        Never print or log the result: it holds the credentials.
        """
        env = os.environ if environ is None else environ
        options: dict[str, Any] = {"base_url": self.base_url}
        if self.token_env is not None:
            options["token"] = env.get(self.token_env, "")
        else:
            options["client_id"] = env.get(self.client_id_env or "", "")
            options["client_secret"] = env.get(self.client_secret_env or "", "")
            options["store_id"] = env.get(self.store_id_env or "", "")
        if self.max_concurrency is not None:
            options["max_concurrency"] = self.max_concurrency
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        return options


@dataclass(frozen=True)
class Fleet:
    """The stores of a fleet file, in the file's order; ``max_in_flight`` if the file sets it."""

    stores: tuple[FleetStore, ...]
    max_in_flight: int | None = None
    path: Path | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.stores)


def read_fleet(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Fleet:
    """Read and check a fleet file.

    Parameters
    ----------
    path
        The TOML file.
    environ
        Where the named variables are looked up (default ``os.environ``).

    Returns
    -------
    Fleet

    Raises
    ------
    FleetFileError
        The file cannot be read or is not TOML; a key is unknown, missing or of the wrong type;
        two stores share a name; a secret is written where a variable's name belongs; a named
        variable is not set.
    """
    source = Path(path)
    where = str(source)
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetFileError(
            f"{where}: no such fleet file; give the path of a TOML file with [[store]] tables."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetFileError(f"{where}: cannot be read ({type(exc).__name__}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise FleetFileError(f"{where}: not valid TOML ({exc}).") from None
    return parse_fleet(document, where, os.environ if environ is None else environ, source)


def parse_fleet(
    document: Mapping[str, Any],
    where: str,
    environ: Mapping[str, str],
    path: Path | None = None,
) -> Fleet:
    """A :class:`Fleet` from a parsed fleet file (``where`` names it in errors)."""
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise FleetFileError(
            f"{where}: unknown key {unknown[0]!r} at the top; expected {sorted(TOP_KEYS)} "
            "(stores go in [[store]] tables).",
            key=unknown[0],
        )
    max_in_flight = _positive(document.get("max_in_flight"), where, None, "max_in_flight")
    tables = document.get("store")
    if not isinstance(tables, list) or not tables:
        raise FleetFileError(
            f"{where}: no stores; add one [[store]] table per store with name, base_url and "
            "token_env (or client_id_env, client_secret_env, store_id_env).",
            key="store",
        )
    stores: list[FleetStore] = []
    for number, table in enumerate(tables, 1):
        store = _store(table, where, number, environ)
        if any(s.name == store.name for s in stores):
            raise FleetFileError(
                f"{where}: store {store.name!r}: name is used by two stores; give each a "
                "name of its own.",
                store=store.name,
                key="name",
            )
        stores.append(store)
    return Fleet(tuple(stores), max_in_flight, path)


def _store(table: object, where: str, number: int, environ: Mapping[str, str]) -> FleetStore:
    if not isinstance(table, dict):
        raise FleetFileError(f"{where}: store #{number} is not a [[store]] table.", key="store")
    label = f"store #{number}"
    name = table.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
        raise FleetFileError(
            f"{where}: {label}: name must be text of 1 to {_MAX_NAME} characters, "
            f"{'missing' if name is None else 'got ' + type(name).__name__ + ' ' + _shown(name)}.",
            store=None,
            key="name",
        )
    label = f"store {name!r}"
    unknown = sorted(set(table) - STORE_KEYS)
    if unknown:
        raise FleetFileError(
            f"{where}: {label}: unknown key {unknown[0]!r}; expected some of {sorted(STORE_KEYS)}.",
            store=name,
            key=unknown[0],
        )
    base_url = table.get("base_url")
    if not isinstance(base_url, str) or not re.match(r"https?://[^\s/]+", base_url):
        raise FleetFileError(
            f"{where}: {label}: base_url must be an http:// or https:// address such as "
            f"https://api.selorax.io, {'missing' if base_url is None else 'got ' + _shown(base_url)}.",
            store=name,
            key="base_url",
        )
    keys = _credential_keys(table, where, label, name)
    envs = {key: _env_name(table[key], where, label, name, key, environ) for key in keys}
    concurrency = _positive(table.get("max_concurrency"), where, name, "max_concurrency")
    retries = _positive(table.get("max_retries"), where, name, "max_retries", least=0)
    return FleetStore(
        name, base_url.rstrip("/"), max_concurrency=concurrency, max_retries=retries, **envs
    )


def _credential_keys(table: dict[str, Any], where: str, label: str, name: str) -> tuple[str, ...]:
    """Which credential keys the table uses: the token's, or the three of client credentials."""
    has_token = "token_env" in table
    client = [key for key in CLIENT_KEYS if key in table]
    if has_token and client:
        raise FleetFileError(
            f"{where}: {label}: give token_env or client credentials, not both "
            f"(remove {client[0]} or token_env).",
            store=name,
            key=client[0],
        )
    if has_token:
        return TOKEN_KEYS
    if not client:
        raise FleetFileError(
            f"{where}: {label}: token_env is missing; name the environment variable holding "
            "the store's token (or give client_id_env, client_secret_env and store_id_env).",
            store=name,
            key="token_env",
        )
    missing = [key for key in CLIENT_KEYS if key not in table]
    if missing:
        raise FleetFileError(
            f"{where}: {label}: {missing[0]} is missing; client credentials need "
            "client_id_env, client_secret_env and store_id_env.",
            store=name,
            key=missing[0],
        )
    return CLIENT_KEYS


def _env_name(
    value: object, where: str, label: str, name: str, key: str, environ: Mapping[str, str]
) -> str:
    """A checked variable name whose variable is set; never echoes what looks like a secret."""
    if isinstance(value, str) and _SECRET.match(value):
        raise FleetFileError(
            f"{where}: {label}: {key} holds what looks like a credential, not the name of an "
            "environment variable. Never write secrets in the fleet file: put it in an "
            f'environment variable and write its name ({key} = "SHOP_TOKEN").',
            store=name,
            key=key,
        )
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise FleetFileError(
            f"{where}: {label}: {key} must be the name of an environment variable "
            f"(letters, digits and _), got {_shown(value)}.",
            store=name,
            key=key,
        )
    if not environ.get(value, "").strip():
        raise FleetFileError(
            f"{where}: {label}: {key} names {value}, which is not set; export {value} "
            "before loading the fleet.",
            store=name,
            key=key,
        )
    if key == "store_id_env" and not environ[value].strip().isdigit():
        raise FleetFileError(
            f"{where}: {label}: {value} (from {key}) must hold a store id (digits).",
            store=name,
            key=key,
        )
    return value


def _positive(
    value: object, where: str, store: str | None, key: str, *, least: int = 1
) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        label = f"store {store!r}: " if store is not None else ""
        raise FleetFileError(
            f"{where}: {label}{key} must be a whole number of at least {least}, "
            f"got {_shown(value)}.",
            store=store,
            key=key,
        )
    return value


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}..."
