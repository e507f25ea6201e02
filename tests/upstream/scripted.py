"""A scripted HTTP/1.1 upstream on 127.0.0.1, independent of the sandbox.

A small threaded raw-socket server written for the tests: every request is answered by a
Python callable ``handler(request) -> Reply`` that the test scripts, so a scenario controls the
exact bytes on the wire (duplicate headers, compression, chunking, resets, stalls).

>>> with Upstream(lambda request: Reply(body={"data": []})) as up:
...     httpx.get(up.base_url + "/anything")
...     up.requests[0].path

``Reply.headers`` is a raw list of ``(name, value)`` pairs sent in order (duplicates allowed).
Unless the list names them, a ``Content-Type: application/json`` and one ``Date`` header (now)
are added; a pair whose value is ``None`` names a header only to leave it out
(``("Date", None)``: no Date at all). Framing headers (``Content-Length``,
``Transfer-Encoding``, ``Content-Encoding``, ``Connection``) are added from the other fields.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import json
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

Fault = Literal["reset-before-headers", "reset-after-headers", "stall-mid-body"]
Compression = Literal["gzip", "deflate"]

REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
#: Longest a ``stall-mid-body`` reply holds its connection open (the server's stop ends it).
STALL_SECONDS = 60.0
#: Idle seconds before the server closes a keep-alive connection on its own.
IDLE_SECONDS = 30.0


@dataclass(frozen=True)
class Request:
    """One request as received: ``query`` keeps the last value of each parameter."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Reply:
    """What the upstream answers; see the module docstring for ``headers``."""

    status: int = 200
    body: Any = b""
    headers: Sequence[tuple[str, str | None]] = ()
    chunked: bool = False
    compress: Compression | None = None
    close: bool = False
    fault: Fault | None = None

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()

    def header_lines(self, length: int | None) -> list[tuple[str, str]]:
        named = {name.lower() for name, _ in self.headers}
        lines: list[tuple[str, str]] = []
        if "content-type" not in named:
            lines.append(("Content-Type", "application/json; charset=utf-8"))
        if "date" not in named:
            lines.append(("Date", email.utils.formatdate(usegmt=True)))
        lines += [(name, value) for name, value in self.headers if value is not None]
        if self.compress:
            lines.append(("Content-Encoding", self.compress))
        if length is None:
            lines.append(("Transfer-Encoding", "chunked"))
        else:
            lines.append(("Content-Length", str(length)))
        if self.close:
            lines.append(("Connection", "close"))
        return lines


Handler = Callable[[Request], Reply]


def _compressed(data: bytes, how: Compression | None) -> bytes:
    if how == "gzip":
        return gzip.compress(data)
    if how == "deflate":
        return zlib.compress(data)
    return data


def _chunks(data: bytes) -> bytes:
    """``data`` as chunked transfer coding, in pieces of varied size, then the last chunk."""
    out, start, size = [], 0, 7
    while start < len(data):
        piece = data[start : start + size]
        out.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        start += len(piece)
        size = size * 3 + 1
    return b"".join(out) + b"0\r\n\r\n"


def _read_request(stream: Any) -> Request | None:
    line = stream.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    raw: list[tuple[str, str]] = []
    while True:
        header = stream.readline(65537).decode("latin-1")
        if header in ("\r\n", "\n", ""):
            break
        name, _, value = header.partition(":")
        raw.append((name.strip(), value.strip()))
    headers = {name.lower(): value for name, value in raw}
    body = stream.read(int(headers.get("content-length", "0") or 0))
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return Request(method, parts.path, query, headers, raw, body)


class Upstream:
    """The scripted server; a context manager yielding itself (``up.base_url``).

    Parameters
    ----------
    handler
        ``handler(request) -> Reply`` for every request, called on the connection's thread.

    Attributes
    ----------
    requests : list of Request
        Every request received, in arrival order.
    errors : list of BaseException
        Exceptions raised by ``handler`` (each answered with a bare 500).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self.base_url = ""

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> str:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listener = listener
        self.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self._spawn(self._accept_loop)
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> Upstream:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="scripted-upstream")
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.add(conn)
            self._spawn(self._serve, conn)

    # -- one connection -----------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(IDLE_SECONDS)
        stream = conn.makefile("rb")
        try:
            while not self._stopping.is_set():
                request = _read_request(stream)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                if not self._answer(conn, self._reply_to(request)):
                    return
        except (OSError, ValueError):
            return
        finally:
            stream.close()
            with self._lock:
                self._connections.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _reply_to(self, request: Request) -> Reply:
        try:
            return self.handler(request)
        except Exception as exc:  # recorded for the test to see, answered as a bare 500
            with self._lock:
                self.errors.append(exc)
            return Reply(500, b"handler failed", headers=[("Content-Type", "text/plain")])

    def _answer(self, conn: socket.socket, reply: Reply) -> bool:
        """Send ``reply``; whether the connection stays open for another request."""
        if reply.fault == "reset-before-headers":
            _reset(conn)
            return False
        body = _compressed(reply.payload(), reply.compress)
        lines = reply.header_lines(None if reply.chunked else len(body))
        reason = REASONS.get(reply.status, "Status")
        head = f"HTTP/1.1 {reply.status} {reason}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in lines) + "\r\n"
        wire = _chunks(body) if reply.chunked else body
        if reply.fault == "reset-after-headers":
            conn.sendall(head.encode("latin-1"))
            _reset(conn)
            return False
        if reply.fault == "stall-mid-body":
            conn.sendall(head.encode("latin-1") + wire[: len(wire) // 2])
            self._stopping.wait(STALL_SECONDS)
            return False
        conn.sendall(head.encode("latin-1") + wire)
        return not reply.close


def _reset(conn: socket.socket) -> None:
    """Close with a TCP reset (RST) rather than an orderly FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


__all__ = ["REASONS", "Handler", "Reply", "Request", "Upstream"]
