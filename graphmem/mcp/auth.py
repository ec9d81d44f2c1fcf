"""API keys over MCP's streamable HTTP: the same key file as ``graphmem serve``.

The SDK's bearer-token hook (:class:`mcp.server.auth.provider.TokenVerifier`) checks each HTTP
request's key against graphmem's :class:`~graphmem.keys.KeyRing`; a request without a valid
key gets 401 before it reaches MCP. The SDK also binds every MCP session to the key that opened
it. A key acts on one namespace: the first one it lists (a ``"*"`` key: the server's
``--namespace``). ``X-API-Key: <key>`` works as well as ``Authorization: Bearer <key>``.

A key revoked while the server runs (``graphmem keys revoke``) stops working as it does on
GraphQL, within about a second (the key file is looked at every second): new requests get 401,
:class:`RevokedStreams` ends the key's open streams (the SSE stream of ``GET /mcp`` and the
answers still streaming), and a long write stops storing at its next batch
(:attr:`~graphmem.mcp.backend.Caller.valid`).
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST
from starlette.types import ASGIApp, Receive, Scope, Send

from graphmem.keys import KeyFile, KeyRing, token_from_headers
from graphmem.mcp.backend import Caller, reset_caller, set_caller

SCOPE = "graphmem"
#: seconds between two looks at whether an open stream's key still holds (the key file itself
#: is re-read at most once a second)
REVOCATION_CHECK = 0.2
log = logging.getLogger(__name__)


class KeyVerifier:
    """The SDK's token verifier over a key ring: a key's id, namespace and mode."""

    def __init__(self, ring: KeyRing | KeyFile) -> None:
        self.ring = ring

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.ring.authenticate(token)
        if principal is None or principal.key_id is None:
            return None
        claims = {"namespace": principal.default_namespace, "read_only": principal.read_only}
        return AccessToken(token=token, client_id=principal.key_id, scopes=[SCOPE], claims=claims)


def caller_of(
    request: Any, default: Caller, *, keyed: bool, keys: KeyRing | KeyFile | None = None
) -> Caller:
    """The caller of one message: from its HTTP request's key, else ``default`` (stdio, open)."""
    scope = getattr(request, "scope", None)
    user = scope.get("user") if isinstance(scope, dict) else None
    if isinstance(user, AuthenticatedUser):
        claims = user.access_token.claims or {}
        token = user.access_token.token

        def valid() -> bool:
            return keys is None or keys.authenticate(token) is not None

        return Caller(
            namespace=str(claims.get("namespace", default.namespace)),
            read_only=bool(claims.get("read_only", False)),
            key_id=user.access_token.client_id,
            valid=valid,
        )
    if keyed:  # the HTTP layer refuses such requests already; never fall back to the default
        raise MCPError(code=INVALID_REQUEST, message="missing or wrong API key")
    return default


def caller_middleware(
    default: Caller, *, keyed: bool, keys: KeyRing | KeyFile | None = None
) -> Any:
    """Server middleware binding each message's :class:`Caller` for the tools to read."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        token = set_caller(caller_of(ctx.request, default, keyed=keyed, keys=keys))
        try:
            return await call_next(ctx)
        finally:
            reset_caller(token)

    return middleware


class ApiKeyHeader:
    """ASGI wrapper: ``X-API-Key: <key>`` is read as ``Authorization: Bearer <key>``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
            if not any(name.lower() == b"authorization" for name, _ in headers):
                token = token_from_headers(headers)
                if token:
                    headers.append((b"authorization", b"Bearer " + token.encode("latin-1")))
                    scope = dict(scope, headers=headers)
        await self.app(scope, receive, send)


class RevokedStreams:
    """ASGI wrapper: every HTTP exchange made with a key ends once the key is revoked.

    The SDK checks a key when a request arrives; an SSE stream (``GET /mcp``, or a tool's
    streamed answer) then stays open for as long as the client keeps it. Here each keyed request
    runs beside a watcher that asks the key file every :data:`REVOCATION_CHECK` seconds whether
    its key still holds; when it no longer does, the exchange is cancelled and its response
    ended (a 401 if none had started), as GraphQL closes the websocket of a revoked key.
    """

    def __init__(self, app: ASGIApp, keys: KeyRing | KeyFile) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = token_from_headers(scope.get("headers", [])) if scope["type"] == "http" else None
        principal = self.keys.authenticate(token) if token else None
        if principal is None or principal.key_id is None:
            await self.app(scope, receive, send)  # the SDK answers a missing or wrong key
            return
        state = {"started": False, "ended": False, "revoked": False}

        async def tracked(message: Any) -> None:
            if state["revoked"]:
                return  # the exchange is being ended: nothing more of it goes out
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                state["ended"] = True
            await send(message)

        async with anyio.create_task_group() as tg:

            async def exchange() -> None:
                try:
                    await self.app(scope, receive, tracked)
                finally:
                    tg.cancel_scope.cancel()

            tg.start_soon(exchange)
            while True:
                await anyio.sleep(REVOCATION_CHECK)
                if not self.keys.current(principal):
                    state["revoked"] = True
                    tg.cancel_scope.cancel()
                    break
        if not state["revoked"]:
            return
        log.warning("ended an HTTP exchange of revoked API key %r", principal.key_id)
        if not state["started"]:
            body = b'{"error": "invalid_token", "error_description": "API key revoked"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
        elif not state["ended"]:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
