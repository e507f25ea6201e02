"""Sandbox credentials: Bearer tokens and client-credential trios, each for one store.

The platform's rules (``selorax-platform-notes.md``): a Bearer token implies its store; client
credentials send ``X-Client-Id``, ``X-Client-Secret`` and ``X-Store-Id`` on every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from selorax_analytics.sandbox.generator import DEMO_STORE_ID, SECOND_STORE_ID

ALL_SCOPES = frozenset({"read:customers", "write:customers", "read:orders", "write:orders"})

DEMO_TOKEN = "sx_at_demo22fullaccess7f3a9c"
DEMO_CLIENT_ID = "sx_app_demo22"
DEMO_CLIENT_SECRET = "sx_secret_demo22b51e08"
CUSTOMERS_ONLY_TOKEN = "sx_at_demo22readcustomersc41d"
SECOND_STORE_TOKEN = "sx_at_store23fullaccess92be"


class AuthError(Exception):
    """A request the platform refuses before it reaches an endpoint."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Credential:
    """What a credential may do: its store, its scopes and a label for request counts."""

    label: str
    store_id: int
    scopes: frozenset[str] = ALL_SCOPES
    secret: str | None = field(default=None, repr=False)

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise AuthError(
                403,
                "insufficient_scope",
                f"This app does not have the {scope} scope. Grant {scope} to the app and "
                "reinstall it on the store.",
            )


def default_credentials(
    store_id: int = DEMO_STORE_ID, second_store_id: int = SECOND_STORE_ID
) -> tuple[dict[str, Credential], dict]:
    """The built-in tokens and client apps: ``(tokens, apps)`` keyed by token or client id."""
    tokens = {
        DEMO_TOKEN: Credential("demo-full", store_id),
        CUSTOMERS_ONLY_TOKEN: Credential(
            "demo-read-customers", store_id, frozenset({"read:customers"})
        ),
        SECOND_STORE_TOKEN: Credential("second-store", second_store_id),
    }
    apps = {DEMO_CLIENT_ID: Credential("demo-client", store_id, secret=DEMO_CLIENT_SECRET)}
    return tokens, apps


def parse_token_option(text: str) -> tuple[str, Credential]:
    """``TOKEN:STORE_ID[:SCOPE,SCOPE...]`` from the command line, e.g. ``sx_at_x:22:read:orders``."""
    token, _, rest = text.partition(":")
    store, _, scopes = rest.partition(":")
    if not token or not store.isascii() or not store.isdigit() or not 0 < len(store) < 19:
        raise ValueError(
            f"--token {text!r} is not TOKEN:STORE_ID[:SCOPES] (a store id of 1 to 18 digits); "
            "for example "
            "sx_at_mine:22:read:customers,read:orders"
        )
    chosen = frozenset(s for s in scopes.split(",") if s) or ALL_SCOPES
    unknown = chosen - ALL_SCOPES
    if unknown:
        raise ValueError(
            f"--token {text!r}: unknown scope(s) {sorted(unknown)}; valid: {sorted(ALL_SCOPES)}"
        )
    return token, Credential(f"token-{token[-4:]}", int(store), chosen)


def authenticate(
    headers: Mapping[str, str],
    tokens: Mapping[str, Credential],
    apps: Mapping[str, Credential],
) -> Credential:
    """The credential a request carries, or :class:`AuthError` as the platform answers."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(
                401, "invalid_token", "The Authorization header must be 'Bearer <token>'."
            )
        found = tokens.get(token.strip())
        if found is None:
            raise AuthError(401, "invalid_token", "The access token is expired or invalid.")
        return found
    client_id = headers.get("x-client-id")
    secret = headers.get("x-client-secret")
    if client_id is None and secret is None:
        raise AuthError(
            401,
            "missing_token",
            "No credentials: send 'Authorization: Bearer <token>' or X-Client-Id, "
            "X-Client-Secret and X-Store-Id.",
        )
    app = apps.get(client_id or "")
    if app is None or secret is None or secret != app.secret:
        raise AuthError(401, "invalid_client", "The client id or client secret is invalid.")
    store = headers.get("x-store-id")
    if not store:
        raise AuthError(
            400, "missing_store_id", "The X-Store-Id header is required with client credentials."
        )
    if store.strip() != str(app.store_id):
        shown = store.strip() if len(store.strip()) <= 40 else f"{store.strip()[:40]}..."
        raise AuthError(401, "not_installed", f"The app is not installed on store {shown}.")
    return app
