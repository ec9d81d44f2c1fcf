"""Guards at the API boundary: request bodies, text that is not Unicode, revoked websocket keys.

- A body that is not UTF-8, or JSON nested deeper than ``Limits.max_json_depth``, is refused
  ``400 BAD_REQUEST`` before GraphQL sees it (it used to crash the decoder: ``INTERNAL``).
- A lone UTF-16 surrogate (``"\\ud800"`` is valid JSON) cannot be stored, embedded or even
  encoded as UTF-8: :class:`UnicodeArguments` refuses it in any field argument, naming the
  argument and where in it (``ingest`` documents are checked one by one instead, so that the
  good ones of a batch are still stored; see :func:`surrogate_at`).
- A websocket lives for minutes: :func:`serve_revocable` closes it once its key is revoked,
  and at the first malformed message (4400), which strawberry would otherwise crash on.

>>> surrogate_at({"a": ["ok", "bad \\ud800"]})
('.a[1]', 4)
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from strawberry.extensions import SchemaExtension

from graphmem.keys import KeyFile, KeyRing
from graphmem.models import Document
from graphmem_api.errors import BAD_REQUEST, LIMIT_EXCEEDED, APIError
from graphmem_api.jobs import Rejected
from graphmem_api.limits import Limits
from graphmem_api.types import DocumentInput

log = logging.getLogger("graphmem_api")
Message = MutableMapping[str, Any]
_SURROGATE = re.compile("[\ud800-\udfff]")

#: websocket close code for a session whose key was revoked (graphql-transport-ws: Forbidden)
REVOKED = 4403


class BadJson(json.JSONDecodeError):
    """A body or websocket message refused before parsing finished; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason


def decode_json(data: str | bytes, max_depth: int) -> object:
    """``json.loads(data)``, refusing bodies that are not UTF-8 or nest deeper than ``max_depth``."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(
                f"the request body is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); send JSON encoded as UTF-8"
            ) from None
    too_deep = f"the request body nests JSON deeper than {max_depth} levels (the limit)"
    try:
        value = json.loads(data)
    except RecursionError:
        raise BadJson(too_deep) from None
    if depth_over(value, max_depth):
        raise BadJson(too_deep)
    return value


def depth_over(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` deep (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def surrogate_at(value: object, path: str = "") -> tuple[str, int] | None:
    """(where, character index) of the first lone surrogate in ``value``: strings, and the
    keys and items of dicts, lists and dataclasses (strawberry inputs); ``None`` if it has none."""
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return where, found.start()
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                key_at = surrogate_at(str(key), f"{where} (a key)")
                if key_at:
                    return key_at
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            for f in reversed(dataclasses.fields(item)):
                stack.append((getattr(item, f.name), f"{where}.{_camel(f.name)}"))
    return None


def not_unicode(where: str, index: int) -> str:
    """The message for a lone surrogate found by :func:`surrogate_at`."""
    return (
        f"{where} holds a lone UTF-16 surrogate at character {index}, which is not Unicode text "
        "(send valid UTF-8; a JSON \\ud800-\\udfff escape must be half of a pair)"
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class UnicodeArguments(SchemaExtension):
    """Refuse ``BAD_REQUEST`` any field argument holding a lone surrogate (see the module doc)."""

    #: (type, field, argument) checked by the resolver itself, per item
    SKIP = frozenset({("Mutation", "ingest", "documents")})

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        for name, value in kwargs.items():
            if (info.parent_type.name, info.field_name, name) in self.SKIP:
                continue
            found = surrogate_at(value, _camel(name))
            if found:
                raise APIError(f"{info.field_name}: " + not_unicode(*found), BAD_REQUEST)
        return _next(root, info, *args, **kwargs)


def checked_documents(
    limits: Limits, documents: list[DocumentInput]
) -> tuple[list[Document], list[int], list[Rejected]]:
    """The documents to queue, their indexes in the request, and those refused one by one.

    Limits and empty texts fail the whole request; a document whose text is not Unicode is
    refused alone, so its good neighbours are still stored.
    """
    if not documents:
        raise APIError("documents is empty")
    if len(documents) > limits.max_documents:
        raise APIError(
            f"{len(documents):,} documents in one ingest; the limit is {limits.max_documents:,}",
            LIMIT_EXCEEDED,
        )
    out: list[Document] = []
    indexes: list[int] = []
    rejected: list[Rejected] = []
    for i, d in enumerate(documents):
        if len(d.text) > limits.max_document_chars:
            raise APIError(
                f"documents[{i}].text is {len(d.text):,} characters; the limit is "
                f"{limits.max_document_chars:,}",
                LIMIT_EXCEEDED,
            )
        if not d.text.strip():
            raise APIError(f"documents[{i}].text is empty", BAD_REQUEST)
        if d.metadata is not None and not isinstance(d.metadata, dict):
            raise APIError(f"documents[{i}].metadata must be a JSON object", BAD_REQUEST)
        bad = surrogate_at(d, f"documents[{i}]")
        if bad is not None:
            rejected.append(Rejected(i, not_unicode(*bad)))
            continue
        indexes.append(i)
        out.append(
            Document(
                text=d.text,
                source=d.source,
                title=d.title,
                time=d.time,
                metadata=dict(d.metadata or {}),
            )
        )
    if not out:
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        raise APIError(f"no document can be stored: {rejected[0].message}{more}", BAD_REQUEST)
    return out, indexes, rejected


#: websocket close code for a malformed message (graphql-transport-ws: Bad Request)
MALFORMED = 4400
_OPTIONAL_OBJECTS = ("variables", "extensions")


def ws_message_problem(text: str, max_depth: int) -> str | None:
    """Why a websocket text message is malformed (a close reason under 123 bytes), or None.

    Strawberry's handlers index a message's fields unchecked (``payload["query"]``), so a
    message without them would kill the socket with no close code; they are checked here first.

    >>> ws_message_problem('{"type": "start", "id": "1", "payload": {}}', 32)
    'payload.query must be a string'
    >>> ws_message_problem('{"type": "ping"}', 32) is None
    True
    """
    try:
        message = decode_json(text, max_depth)
    except json.JSONDecodeError:
        return "a message must be valid JSON"
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message must be a JSON object with a string type"
    kind = message["type"]
    if kind in ("start", "subscribe", "stop", "complete") and not (
        isinstance(message.get("id"), str) and message["id"]
    ):
        return f"a {kind} message needs a string id"
    if kind not in ("start", "subscribe"):
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "payload.query must be a string"
    if not isinstance(payload.get("operationName"), str | None):
        return "payload.operationName must be a string or null"
    for name in _OPTIONAL_OBJECTS:
        if not isinstance(payload.get(name), dict | None):
            return f"payload.{name} must be an object or null"
    return None


async def serve_revocable(
    view: Callable[
        [Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
    ],
    keys: KeyRing | KeyFile,
    session: dict[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
    *,
    max_json_depth: int = 32,
) -> None:
    """Run one websocket session (``view(receive, send)``), closing it once its key no longer
    holds, or with code 4400 at the first malformed message (:func:`ws_message_problem`).

    ``session["principal"]`` is who the socket authenticated as (set on ``connection_init``
    when the key came in its payload). The key file is looked at every ``keys.interval``
    seconds (at least 0.1); a revoked or changed key closes the socket with code 4403.
    """
    closed = False

    async def guarded(message: Message) -> None:
        nonlocal closed
        if closed:  # nothing more goes out once the socket was closed
            return
        if message["type"] == "websocket.close":
            closed = True
        await send(message)

    async def checked() -> Message:
        message = await receive()
        text = message.get("text") if message["type"] == "websocket.receive" else None
        problem = ws_message_problem(text, max_json_depth) if text is not None else None
        if problem is None:
            return message
        log.info("closing a websocket after a malformed message: %s", problem)
        await guarded({"type": "websocket.close", "code": MALFORMED, "reason": problem})
        return {"type": "websocket.disconnect", "code": MALFORMED}

    task = asyncio.ensure_future(view(checked, guarded))
    pause = max(float(getattr(keys, "interval", 1.0)), 0.1)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=pause)
            principal = session.get("principal")
            if task.done() or principal is None or keys.current(principal):
                continue
            log.info(
                "closing the websocket of a revoked key",
                extra={"fields": {"key": principal.key_id}},
            )
            await guarded({"type": "websocket.close", "code": REVOKED, "reason": "API key revoked"})
            task.cancel()
            await asyncio.wait({task})  # let it unwind; its CancelledError is not ours
            return
        task.result()
    finally:
        if not task.done():
            task.cancel()
