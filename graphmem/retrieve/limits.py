"""The bounds of one search, defined once: the library checks them (:func:`check_query
<graphmem.retrieve.search.check_query>`) and every surface (CLI, GraphQL, MCP) offers the same.

Kept apart from :mod:`graphmem.retrieve.search` so a surface can read them without importing
the search machinery (the CLI's start-up time).
"""

from __future__ import annotations

#: the most results one search returns
MAX_K = 100
MAX_QUESTION_CHARS = 10_000
