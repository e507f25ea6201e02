"""The sandbox's ASGI application: routing, authentication, fault injection and counting.

Order of work for each ``/api/apps/v1`` request: count it (and the requests in flight), wait
the injected latency, apply the rate limit (429), inject a server error (500/502/503, some with
HTML bodies), authenticate, run the endpoint, and maybe drop the connection half-way through the
response body.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selorax_analytics.sandbox import admin, api
from selorax_analytics.sandbox.auth import AuthError, authenticate
from selorax_analytics.sandbox.params import ApiProblem
from selorax_analytics.sandbox.state import SandboxState

PREFIX = "/api/apps/v1"
_ID = re.compile(r"/\d+(?=/|$)")
_HTML_ERROR = "<html><head><title>{0}</title></head><body><h1>{0} {1}</h1></body></html>"
_SHOWN_PATH = 120
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class DroppedConnection(Exception):
    """Raised on purpose to cut a response short; the server then closes the connection."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def envelope(status: int, message: str, code: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["code"] = code
    body["status"] = status
    return JSONResponse(body, status_code=status)


def _endpoint(scope: Scope) -> str:
    return f"{scope['method']} {_ID.sub('/{id}', scope['path'])}"


class PlatformMiddleware:
    """Counting, faults and authentication in front of the endpoints."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        # Requests in flight, for the peak tests read: a request leaves just before the last
        # part of its answer is sent, so a client never sees an answer of a request still counted.
        self.state.enter()
        left = False

        async def counted(message: Message) -> None:
            nonlocal left
            last = message["type"] == "http.response.body" and not message.get("more_body")
            if last and not left:
                left = True
                self.state.leave()
            await send(message)

        try:
            await self._serve(scope, receive, counted)
        finally:
            if not left:
                self.state.leave()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            credential = authenticate(headers, self.state.tokens, self.state.apps)
            label = credential.label
        except AuthError as exc:
            credential, label, problem = None, "unauthenticated", exc
        self.state.count(_endpoint(scope), label)
        key = headers.get("authorization") or headers.get("x-client-id") or "anonymous"
        decision = self.state.injector.decide(key)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        response: Response | None = None
        if decision.limited:
            response = envelope(
                429,
                f"Too many requests. Retry after {decision.retry_after} seconds.",
                "rate_limited",
            )
            response.headers["Retry-After"] = str(decision.retry_after)
        elif decision.error is not None:
            response = self._server_error(decision.error)
        elif credential is None:
            response = envelope(problem.status, problem.message, problem.code)
        if response is not None:
            response.headers.update(decision.headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["credential"] = credential
        await self.app(scope, receive, self._sender(send, decision.headers, decision.drop))

    def _server_error(self, status: int) -> Response:
        if status == 500:
            return envelope(500, "Internal server error.", "internal_error")
        return Response(
            _HTML_ERROR.format(status, _REASONS[status]), status, media_type="text/html"
        )

    @staticmethod
    def _sender(send: Send, extra: dict[str, str], drop: bool) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = dict(message)
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                ]
            if message["type"] == "http.response.body" and drop:
                body = message.get("body", b"")
                await send(
                    {
                        "type": "http.response.body",
                        "body": body[: len(body) // 2],
                        "more_body": True,
                    }
                )
                raise DroppedConnection("connection dropped on purpose by the sandbox")
            await send(message)

        return wrapped


async def _api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem | AuthError)
    return envelope(exc.status, exc.message, exc.code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Last resort: a defect of the sandbox still answers in the envelope (the traceback is
    # logged by the server); every input a client can send is meant to be refused before this.
    return envelope(500, "Internal server error.", "internal_error")


def _shown_path(request: Request) -> str:
    """The request's path for a message: lone surrogates escaped, a long path cut short."""
    path = request.url.path.encode("utf-8", "backslashreplace").decode("utf-8")
    return path if len(path) <= _SHOWN_PATH else f"{path[:_SHOWN_PATH]}... ({len(path)} characters)"


async def _not_found(request: Request, exc: Exception) -> Response:
    return envelope(404, f"No endpoint {request.method} {_shown_path(request)}.", "not_found")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return envelope(
        405, f"{request.method} is not allowed on {_shown_path(request)}.", "method_not_allowed"
    )


def build_app(state: SandboxState) -> ASGIApp:
    """The ASGI application serving ``state``."""
    routes = [
        Route(f"{PREFIX}/customers", api.list_customers, methods=["GET"]),
        Route(f"{PREFIX}/customers", api.create_customer, methods=["POST"]),
        Route(f"{PREFIX}/customers/{{user_id}}", api.get_customer, methods=["GET"]),
        Route(f"{PREFIX}/customers/{{user_id}}", api.update_customer, methods=["PUT"]),
        Route(f"{PREFIX}/customers/{{user_id}}", api.delete_customer, methods=["DELETE"]),
        Route(f"{PREFIX}/customers/{{user_id}}/orders", api.customer_orders, methods=["GET"]),
        Route(f"{PREFIX}/orders", api.list_orders, methods=["GET"]),
        Route(f"{PREFIX}/orders/{{order_id}}", api.get_order, methods=["GET"]),
        Route(f"{PREFIX}/store", api.get_store, methods=["GET"]),
        *admin.routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiProblem: _api_problem,
            AuthError: _api_problem,
            404: _not_found,
            405: _not_allowed,
            Exception: _unexpected,
        },
    )
    # No 307 to the path without its trailing slash: the platform documents no redirects, and
    # an empty 307 is no envelope. ``/customers/`` is an unknown path (404), as is ``/customers/%2F``.
    app.router.redirect_slashes = False
    app.state.sandbox = state
    return PlatformMiddleware(app, state)
