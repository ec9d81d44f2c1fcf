"""Strawberry's ASGI view as the server uses it: our context, websocket auth, JSON errors.

What a client gets wrong in the transport is a ``400 BAD_REQUEST`` naming the mistake, never a
crash inside strawberry (``INTERNAL``):

- a body that is JSON but not an object (``null``, ``1``, ``"q"``, ``[]``);
- a subscription sent as a plain POST or GET (it streams, so it is served over a websocket);
- a query or mutation over the legacy ``graphql-ws`` websocket protocol, which carries
  subscriptions only here (see :func:`graphmem_api.errors.classify`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from graphmem.keys import KeyFile, KeyRing
from graphmem_api.context import Context
from graphmem_api.errors import BAD_REQUEST, CODES, NOT_FOUND, UNAUTHENTICATED, coded, error_body
from graphmem_api.guard import BadJson, decode_json

if TYPE_CHECKING:
    from graphmem_api.app import GraphmemApp

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON_KINDS = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "an array (batched operations are not supported)",
}
#: the answer to a subscription sent as a plain POST (or GET)
SUBSCRIPTION_OVER_HTTP = (
    "subscriptions stream their results, so they are not served as a plain HTTP request: "
    "open a websocket to /graphql with the graphql-transport-ws protocol"
)


def unauthenticated(keys: KeyRing | KeyFile) -> str:
    """The message for a request whose key is missing or wrong (or a key file with none)."""
    if keys.empty:
        return (
            "this server's key file holds no API keys, so every request is refused; "
            "create one with `graphmem keys create`"
        )
    return "missing or wrong API key"


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view, with our context, websocket auth and JSON errors everywhere."""

    def __init__(self, app: GraphmemApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        scope = request.scope
        return Context(
            runtime=scope["graphmem.runtime"],
            principal=scope.get("graphmem.principal"),
            request_id=scope["graphmem.request_id"],
            session=scope.get("graphmem.session"),
        )

    def decode_json(self, data: str | bytes) -> object:
        return decode_json(data, self.app.settings.limits.max_json_depth)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = self.decode_json(data)
        except BadJson as exc:
            raise HTTPException(400, exc.reason) from exc
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"the request body is not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            kind = _JSON_KINDS.get(type(value), type(value).__name__)
            raise HTTPException(
                400,
                f'the request body must be a JSON object such as {{"query": "{{ stats {{ '
                f'passages }} }}"}}; got {kind}',
            )
        return value

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Strawberry lets a subscription through a plain POST and then fails on the stream it
        # gets back (INTERNAL); here only queries and mutations are plain requests.
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        if request_adapter.method == "GET" and not self.allow_queries_via_get:
            allowed -= {OperationType.QUERY}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason()) from e
        except MissingQueryError as e:
            raise HTTPException(400, "No GraphQL query found in the request") from e
        except InvalidOperationTypeError as e:
            if e.operation_type == OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_OVER_HTTP) from e
            raise HTTPException(400, e.as_http_error_reason(request_adapter.method)) from e

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if context.principal is None:
            params = context.connection_params or {}
            token = params.get("apiKey") or params.get("api_key")
            auth = params.get("Authorization") or params.get("authorization")
            if not token and isinstance(auth, str) and auth.lower().startswith("bearer "):
                token = auth[7:].strip()
            principal = self.app.settings.keys.authenticate(
                token if isinstance(token, str) else None
            )
            if principal is None:
                raise ConnectionRejectionError(
                    {"message": unauthenticated(self.app.settings.keys), "code": UNAUTHENTICATED}
                )
            context.principal = principal
            if context.session is not None:  # the watcher of revoked keys looks here
                context.session["principal"] = principal
        unset: UnsetType = UNSET
        return unset

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # ErrorCodes codes errors inside the operation; an exception that escaped it (a crashing
        # validation rule) arrives here uncoded, so code it (and mask it) here.
        if result.errors:
            result.errors = [
                e if (e.extensions or {}).get("code") in CODES else coded(e) for e in result.errors
            ]
        return await super().process_result(request, result)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response: Response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            code = NOT_FOUND if exc.status_code == 404 else BAD_REQUEST
            response = JSONResponse(error_body(exc.reason, code), status_code=exc.status_code)
        await response(scope, receive, send)
