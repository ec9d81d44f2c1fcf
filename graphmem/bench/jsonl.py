"""Reading JSON-lines dataset files, and typed field access with errors that say where.

Lines are read in binary with a cap on their length (a huge or binary file fails fast instead of
filling memory), decoded as UTF-8 (a byte-order mark at the start is accepted) and parsed one at a
time. Every problem is an :class:`~graphmem.errors.InputError` with the file, 1-based line and field.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
>>> _ = p.write_text('{"a": 1}\\n\\n{"a": 2}\\n')
>>> [(n, o["a"]) for n, o in iter_jsonl(p)]
[(1, 1), (3, 2)]
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphmem.errors import InputError

log = logging.getLogger("graphmem.bench")

CORPUS = "corpus.jsonl"
QUESTIONS = "questions.jsonl"
TRIPLES = "triples.jsonl"
TURNS = "turns.jsonl"

#: skipped questions named in the one warning about them
NAMED_SKIPPED = 3
#: default limit on one passage's text, in UTF-8 bytes
MAX_PASSAGE_BYTES = 1_000_000
#: room on a line for JSON escapes (up to 6 bytes per character) and the other fields
_LINE_SLACK = 1 << 20
MIN_LINE_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record left out on purpose (e.g. an empty passage), with where and why."""

    path: str
    line: int
    id: str
    reason: str


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def iter_jsonl(
    path: Path, *, max_line_bytes: int = MIN_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Raises :class:`InputError` naming the file and line for a line that is too long, not UTF-8,
    not JSON, or not a JSON object.
    """
    where = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=where) from exc
    with handle:
        lineno = 0
        while True:
            # readline with a size cap: a 10 GB line costs max_line_bytes, not 10 GB
            raw = handle.readline(max_line_bytes + 1)
            if not raw:
                return
            lineno += 1
            if len(raw) > max_line_bytes:
                raise InputError(
                    f"line is longer than {max_line_bytes:,} bytes", path=where, line=lineno
                )
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8: invalid byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} "
                    "of the line (save the file as UTF-8)",
                    path=where,
                    line=lineno,
                ) from exc
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"not valid JSON: {exc.msg} at column {exc.colno}", path=where, line=lineno
                ) from exc
            if not isinstance(obj, dict):
                raise InputError(
                    f"expected a JSON object, got {json_type(obj)}", path=where, line=lineno
                )
            yield lineno, obj


class Fields:
    """Typed field access on one JSON object, with errors that say where."""

    __slots__ = ("line", "obj", "path")

    def __init__(self, obj: dict[str, Any], path: str, line: int) -> None:
        self.obj, self.path, self.line = obj, path, line

    def error(self, message: str, key: str | None = None) -> InputError:
        return InputError(message, path=self.path, line=self.line, field=key)

    def string(self, key: str, *, nonempty: bool = True) -> str:
        if key not in self.obj:
            raise self.error("required field is missing", key)
        value = self.obj[key]
        if not isinstance(value, str):
            raise self.error(f"expected a string, got {json_type(value)}", key)
        if nonempty and not value.strip():
            raise self.error("must not be empty", key)
        return value

    def optional_string(self, key: str) -> str | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(f"expected a string or null, got {json_type(value)}", key)
        return value

    def string_list(self, key: str, *, required: bool = True) -> list[str]:
        if key not in self.obj or self.obj[key] is None:
            if required:
                raise self.error("required field is missing", key)
            return []
        value = self.obj[key]
        if not isinstance(value, list):
            raise self.error(f"expected an array of strings, got {json_type(value)}", key)
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                got = "an empty string" if isinstance(item, str) else json_type(item)
                raise self.error(f"item {i} must be a non-empty string, got {got}", key)
        return value

    def integer(self, key: str) -> int:
        if key not in self.obj:
            raise self.error("required field is missing", key)
        value = self.obj[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected an integer, got {json_type(value)}", key)
        return value


def dedupe(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def line_limit(max_passage_bytes: int) -> int:
    return max(MIN_LINE_BYTES, 6 * max_passage_bytes + _LINE_SLACK)


def dataset_name(folder: Path) -> str:
    return folder.resolve().name or str(folder)


def warn_skipped_questions(path: str, skipped: Sequence[Skipped], total: int) -> None:
    """One warning for all questions left out for dangling gold ids: the count and the first few."""
    if not skipped:
        return
    named = "; ".join(f"{s.id!r} (line {s.line}: {s.reason})" for s in skipped[:NAMED_SKIPPED])
    more = f"; and {len(skipped) - NAMED_SKIPPED} more" if len(skipped) > NAMED_SKIPPED else ""
    log.warning(
        "%s: skipping %d of %d questions whose gold ids are not in the data: %s%s "
        "(strict=True, or graphmem bench --strict, refuses the folder instead)",
        path,
        len(skipped),
        total,
        named,
        more,
    )


def no_questions(path: str, skipped: Sequence[Skipped]) -> InputError:
    """The error for a questions file that left nothing to ask."""
    if not skipped:
        return InputError("no questions (the file is empty)", path=path)
    first = skipped[0]
    return InputError(
        f"no questions left: all {len(skipped)} were skipped because their gold ids are not in "
        f"the data (first: {first.id!r} on line {first.line}: {first.reason})",
        path=path,
    )
