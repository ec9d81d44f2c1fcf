"""Error codes of the GraphQL API, and the extension that puts them on every error.

Every error the API returns carries ``extensions.code``, one of :data:`CODES`. Errors raised on
purpose (:class:`APIError`, graphmem's own :class:`~graphmem.errors.GraphmemError`) keep their
message; anything else is masked as ``INTERNAL`` with a reference that appears in the server log
next to the traceback, so nothing internal leaks.

>>> APIError("no such entity", "NOT_FOUND").code
'NOT_FOUND'
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any, Final

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import InvalidOperationTypeError

from graphmem.errors import (
    AccessDenied,
    BudgetExceeded,
    ConfigError,
    GraphmemError,
    InputError,
    NotFound,
    StoreUnavailable,
)

log = logging.getLogger("graphmem_api")

BAD_REQUEST: Final = "BAD_REQUEST"
UNAUTHENTICATED: Final = "UNAUTHENTICATED"
FORBIDDEN: Final = "FORBIDDEN"
NOT_FOUND: Final = "NOT_FOUND"
LIMIT_EXCEEDED: Final = "LIMIT_EXCEEDED"
NOT_IMPLEMENTED: Final = "NOT_IMPLEMENTED"
UNAVAILABLE: Final = "UNAVAILABLE"
INTERNAL: Final = "INTERNAL"
CODES: Final = (
    BAD_REQUEST,
    UNAUTHENTICATED,
    FORBIDDEN,
    NOT_FOUND,
    LIMIT_EXCEEDED,
    NOT_IMPLEMENTED,
    UNAVAILABLE,
    INTERNAL,
)

#: HTTP status used when an error is answered before GraphQL runs (auth, size, bad JSON)
HTTP_STATUS: Final = {
    BAD_REQUEST: 400,
    UNAUTHENTICATED: 401,
    FORBIDDEN: 403,
    NOT_FOUND: 404,
    LIMIT_EXCEEDED: 413,
    UNAVAILABLE: 503,
    INTERNAL: 500,
}

# Messages of errors raised by strawberry's / graphql-core's own limiters, which carry no code.
_LIMIT_MESSAGES = (
    re.compile(r"exceeds maximum operation depth"),
    re.compile(r"aliases found\. Allowed"),
    re.compile(r"contains more than \d+ tokens"),
)


#: what a caller learns of a store outage (the details, hosts included, go to the server log)
STORE_DOWN = (
    "the memory's store is unavailable (down, or not answering within its timeout); retry later"
)


class APIError(GraphmemError):
    """An error the API answers with on purpose: a message for the caller and a code."""

    def __init__(self, message: str, code: str = BAD_REQUEST) -> None:
        if code not in CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.message = message
        self.code = code


def error_body(message: str, code: str) -> dict[str, Any]:
    """A GraphQL response body holding one error (for answers made before GraphQL runs)."""
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def classify(error: GraphQLError) -> tuple[str, str]:
    """(code, message safe to return) for one GraphQL error."""
    original = error.original_error
    if isinstance(original, GraphQLError) and original is not error:
        return classify(original)
    if isinstance(original, APIError):
        return original.code, original.message
    if isinstance(original, NotFound):
        return NOT_FOUND, str(original)
    if isinstance(original, AccessDenied):
        return FORBIDDEN, str(original)
    if isinstance(original, BudgetExceeded):
        return LIMIT_EXCEEDED, str(original)
    if isinstance(original, InputError | ConfigError):
        return BAD_REQUEST, str(original)
    if isinstance(original, StoreUnavailable):
        return UNAVAILABLE, STORE_DOWN
    if isinstance(original, InvalidOperationTypeError):
        # Only the legacy graphql-ws websocket protocol gets here (HTTP refuses these earlier).
        return BAD_REQUEST, (
            f"{original.operation_type.value} operations are not served over the legacy "
            "graphql-ws protocol, which carries subscriptions only: send queries and mutations "
            "by POST /graphql, or use the graphql-transport-ws protocol"
        )
    if original is not None and not isinstance(original, GraphmemError | GraphQLError):
        # graphql-core wraps bad variable values in plain exceptions raised by our scalars.
        if isinstance(original, ValueError | TypeError) and error.path is None:
            return BAD_REQUEST, error.message
        return INTERNAL, ""
    if isinstance(original, GraphmemError):
        # StoreError, EmbeddingError, ...: real failures whose text may name files or hosts.
        return INTERNAL, ""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and code in CODES:
        return code, error.message
    if any(p.search(error.message) for p in _LIMIT_MESSAGES):
        return LIMIT_EXCEEDED, error.message
    # Syntax and validation errors: the caller's query is wrong.
    return BAD_REQUEST, error.message


def coded(error: GraphQLError) -> GraphQLError:
    """``error`` with ``extensions.code`` set, masked when it is an unexpected failure."""
    code, message = classify(error)
    extensions = dict(error.extensions or {})
    if code == UNAVAILABLE and message == STORE_DOWN:
        ref = uuid.uuid4().hex[:12]
        log.warning(
            "store unavailable (reference %s): %s", ref, error.original_error or error.message
        )
        message = f"{message} (reference {ref})"
    if code == INTERNAL:
        given = extensions.get("reference")
        ref = given if isinstance(given, str) else uuid.uuid4().hex[:12]
        if not isinstance(given, str):
            _log_internal(error, ref)
        message = f"internal error (reference {ref}); the server log has the details"
        extensions = {"reference": ref}
    extensions["code"] = code
    # A plain GraphQLError even for syntax errors: that class rebuilds its message from a Source.
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def _log_internal(error: GraphQLError, ref: str) -> None:
    original = error.original_error or error
    log.error(
        "internal error %s at %s: %s",
        ref,
        ".".join(str(p) for p in error.path or []) or "-",
        type(original).__name__,
        exc_info=(type(original), original, original.__traceback__),
    )


class ErrorCodes(SchemaExtension):
    """Give every error in a result a code (and mask the unexpected ones)."""

    def on_operation(self) -> Iterator[None]:
        yield
        # The result's errors and the pre-execution errors may hold the same error objects:
        # each is coded (and logged, with its reference) once.
        done: dict[int, GraphQLError] = {}

        def once(e: GraphQLError) -> GraphQLError:
            if id(e) not in done:
                done[id(e)] = coded(e)
            return done[id(e)]

        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [once(e) for e in errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [once(e) for e in pre]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Subscription events go out one by one, not through on_operation's end.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [coded(e) for e in errors]
        yield None
