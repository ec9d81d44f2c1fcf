"""API keys over MCP's streamable HTTP: the same key file as ``graphmem serve``.

The SDK's bearer-token hook (:class:`mcp.server.auth.provider.TokenVerifier`) checks each HTTP
request's key against graphmem's :class:`~graphmem.keys.KeyRing`; a request without a valid
key gets 401 before it reaches MCP. The SDK also binds every MCP session to the key that opened
it. A key acts on one namespace: the first one it lists (a ``"*"`` key: the server's
``--namespace``). ``X-API-Key: <key>`` works as well as ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST
from starlette.types import ASGIApp, Receive, Scope, Send

from graphmem.keys import KeyRing, token_from_headers
from graphmem.mcp.backend import Caller, reset_caller, set_caller

SCOPE = "graphmem"


class KeyVerifier:
    """The SDK's token verifier over a key ring: a key's id, namespace and mode."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.ring.authenticate(token)
        if principal is None or principal.key_id is None:
            return None
        claims = {"namespace": principal.default_namespace, "read_only": principal.read_only}
        return AccessToken(token=token, client_id=principal.key_id, scopes=[SCOPE], claims=claims)


def caller_of(request: Any, default: Caller, *, keyed: bool) -> Caller:
    """The caller of one message: from its HTTP request's key, else ``default`` (stdio, open)."""
    scope = getattr(request, "scope", None)
    user = scope.get("user") if isinstance(scope, dict) else None
    if isinstance(user, AuthenticatedUser):
        claims = user.access_token.claims or {}
        return Caller(
            namespace=str(claims.get("namespace", default.namespace)),
            read_only=bool(claims.get("read_only", False)),
            key_id=user.access_token.client_id,
        )
    if keyed:  # the HTTP layer refuses such requests already; never fall back to the default
        raise MCPError(code=INVALID_REQUEST, message="missing or wrong API key")
    return default


def caller_middleware(default: Caller, *, keyed: bool) -> Any:
    """Server middleware binding each message's :class:`Caller` for the tools to read."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        token = set_caller(caller_of(ctx.request, default, keyed=keyed))
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
