"""FalkorDB's query parameters: Python values as Cypher literals in a ``CYPHER name=value``
header (strings quoted and escaped, never spliced into the statement itself), and several write
statements composed into one query.

>>> encode({"name": 'O"Brien `x` }', "n": [1, 2.5, None, True]})
'{name:"O\\\\"Brien `x` }",n:[1,2.5,null,true]}'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphmem.errors import ConfigError, InputError
from graphmem.store.cypher.queries import NAME_PATTERN, Statement

_PARAM_USE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _encode_str(value: str) -> str:
    if "\x00" in value:
        # FalkorDB reads the query as a C string: a NUL would cut it short.
        raise InputError("text contains a NUL character, which FalkorDB cannot store")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _encode_float(value: float) -> str:
    if not math.isfinite(value):
        raise InputError(f"not a finite number: {value!r}")
    return repr(float(value))


def encode(value: Any) -> str:
    """A Python value as a Cypher literal for FalkorDB's parameter header."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _encode_float(float(value))
    if isinstance(value, np.ndarray):
        arr = value.astype(np.float64, copy=False).ravel()
        if not np.isfinite(arr).all():
            raise InputError("a vector contains NaN or infinity")
        return "[" + ",".join(map(repr, arr.tolist())) + "]"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if not isinstance(key, str) or not NAME_PATTERN.match(key):
                raise ConfigError(f"map key {key!r} is not a plain identifier")
            parts.append(f"{key}:{encode(item)}")
        return "{" + ",".join(parts) + "}"
    raise ConfigError(f"cannot send a {type(value).__name__} to FalkorDB")


#: a map key as json.dumps writes it: '"key":' right after '{' or ','. Inside a JSON string every
#: quote is escaped, so this never matches text inside a value.
_JSON_KEY = re.compile(r'[{,]"([^"\\]*)":')


def _fast_encode(value: Any) -> str | None:
    """``encode`` through json.dumps (C speed), or None when only the slow path is exact."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    if "\\u" in text and re.search(r"(?<!\\)(?:\\\\)*\\u", text):
        return None  # a control character as \uXXXX, which FalkorDB does not decode: slow path
    keys = set(_JSON_KEY.findall(text))
    if not all(NAME_PATTERN.match(k) for k in keys):
        return None
    # JSON quotes map keys, Cypher does not. The escapes json uses besides \uXXXX (\" \\ \n \r
    # \t \b \f) mean the same in FalkorDB's string literals.
    for key in keys:
        text = text.replace(f'"{key}":', f"{key}:")
    return text


def header(params: Mapping[str, Any]) -> str:
    """``CYPHER a=1 b="x" `` (empty when there are no parameters)."""
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        text = _fast_encode(value)
        parts.append(f"{key}={text if text is not None else encode(value)}")
    return "CYPHER " + " ".join(parts) + " "


def compose(writes: Sequence[tuple[Statement, Mapping[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """Several write statements as one query: each a ``CALL {}`` subquery, parameters renamed."""
    if len(writes) == 1:
        stmt, params = writes[0]
        return stmt.text, dict(params)
    parts: list[str] = []
    merged: dict[str, Any] = {}
    for i, (stmt, params) in enumerate(writes):
        prefix = f"w{i}_"

        def rename(m: re.Match[str], prefix: str = prefix) -> str:
            return "$" + prefix + m.group(1)

        parts.append("CALL {\n" + _PARAM_USE.sub(rename, stmt.text) + "\n}")
        merged.update({prefix + k: v for k, v in params.items()})
    return "\n".join(parts) + "\nRETURN 1", merged
