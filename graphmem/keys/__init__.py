"""API key files, shared by the HTTP surfaces: the GraphQL server (``graphmem-api``), MCP over
HTTP and the ``graphmem keys`` commands (:mod:`graphmem.keys.files`)."""

from __future__ import annotations

from graphmem.keys.files import (
    ALL_NAMESPACES,
    OPEN,
    PEPPER_ENV,
    ApiKey,
    KeyFile,
    KeyRing,
    Principal,
    create_key,
    is_loopback,
    load_keys,
    read_keys,
    revoke_key,
    token_from_headers,
    write_keys,
)

__all__ = [
    "ALL_NAMESPACES",
    "OPEN",
    "PEPPER_ENV",
    "ApiKey",
    "KeyFile",
    "KeyRing",
    "Principal",
    "create_key",
    "is_loopback",
    "load_keys",
    "read_keys",
    "revoke_key",
    "token_from_headers",
    "write_keys",
]
