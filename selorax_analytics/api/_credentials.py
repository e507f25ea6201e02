"""Credentials: checked before anything is sent, masked when shown, redacted from messages.

A secret (a Bearer token, a client secret) is shown at most as its known prefix and its last
four characters (``sx_at_...m4Nc``). Every message the client raises or logs, server messages
included, passes through :meth:`Credentials.redact` first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from selorax_analytics.exceptions import AuthenticationError

#: Prefixes of SeloraX credentials, shown in masked form; anything else is hidden entirely.
KNOWN_PREFIXES = ("sx_secret_", "sx_app_", "sx_at_")
#: Secrets shorter than this are masked as ``***`` (four characters would be too much of them).
MIN_MASKED_LENGTH = 12
# SeloraX-shaped secrets anywhere in a text, e.g. a token of another credential echoed back.
_SECRET_LIKE = re.compile(r"\bsx_(?:at|secret)_[A-Za-z0-9_\-]{4,}")
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\w*\.\.\.)([^\s\"',;]{6,})")


def mask(secret: str | None) -> str:
    """The secret as ``sx_at_...m4Nc``: a known prefix (if any) and the last four characters.

    Parameters
    ----------
    secret
        A token or client secret.

    Returns
    -------
    str
        ``<none>`` for no secret, ``***`` for a short one, else ``prefix...last4``.

    Example
    -------
    >>> mask("Ab3xQ9_zz7Lk2Pq8Wm4Nc")
    '...m4Nc'
    """
    if not secret:
        return "<none>"
    if len(secret) < MIN_MASKED_LENGTH:
        return "***"
    prefix = next((p for p in KNOWN_PREFIXES if secret.startswith(p)), "")
    return f"{prefix}...{secret[-4:]}"


def _flaw(value: str) -> str | None:
    """What makes ``value`` unusable in an HTTP header, without quoting it."""
    for position, char in enumerate(value, start=1):
        if char in "\r\n":
            return f"a line break at character {position}"
        if char.isspace():
            return f"a space at character {position}"
        if ord(char) < 32 or ord(char) == 127:
            return f"a control character at character {position}"
        if ord(char) > 127:
            kind = unicodedata.category(char)
            return f"a non-ASCII character (Unicode category {kind}) at character {position}"
    return None


def check_credential(name: str, value: object) -> str | None:
    """``value`` if usable as a credential header, else :class:`AuthenticationError`.

    The message names the setting and the flaw, never the value.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise AuthenticationError(f"{name} must be text; got a {type(value).__name__}.")
    flaw = _flaw(value)
    if flaw is not None:
        raise AuthenticationError(
            f"{name} contains {flaw}; credentials are printable ASCII without spaces. Copy it "
            "again from the SeloraX dashboard (a file read or a paste often adds a line break)."
        )
    return value


@dataclass(frozen=True)
class Credentials:
    """A Bearer token, or a client id, secret and store id; ``repr`` shows them masked."""

    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    store_id: int | None = None

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        headers = {"X-Client-Id": self.client_id or "", "X-Client-Secret": self.client_secret or ""}
        if self.store_id is not None:
            headers["X-Store-Id"] = str(self.store_id)
        return headers

    def describe(self) -> str:
        if self.token:
            return f"Bearer token {mask(self.token)}"
        return f"client id {self.client_id} with secret {mask(self.client_secret)}"

    def redact(self, text: str) -> str:
        """``text`` with every secret this client holds, and any SeloraX-shaped one, masked."""
        for secret in (self.token, self.client_secret):
            if secret:
                text = text.replace(secret, mask(secret))
        text = _SECRET_LIKE.sub(lambda m: mask(m.group(0)), text)
        return _BEARER.sub(lambda m: m.group(1) + mask(m.group(2)), text)

    def __repr__(self) -> str:
        return f"Credentials({self.describe()}, store_id={self.store_id})"
