"""Reading documents to ingest from files: JSON lines, plain text and Markdown, or folders of them.

A ``.jsonl`` line is ``{"text": ...}`` with optional ``id`` (kept as the source), ``title``,
``source``, ``time`` (ISO 8601) and ``metadata``. Corpus files of the benchmark layout
(``{"id", "title", "text"}``) are read the same way. Errors name the file and line.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a.txt").write_text("Hello.")
6
>>> [doc.source for doc in read_documents(d)]
['a.txt']
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from graphmem.errors import InputError
from graphmem.models import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst"}


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; InputError on bad UTF-8 or JSON."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8 ({exc.reason} at byte {exc.start})", path=str(path), line=lineno
                ) from exc
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"not valid JSON: {exc.msg} (column {exc.colno})", path=str(path), line=lineno
                ) from exc
            if not isinstance(obj, dict):
                raise InputError("expected a JSON object", path=str(path), line=lineno)
            yield lineno, obj


def _document(obj: dict[str, Any], path: Path, lineno: int) -> Document:
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputError("missing or not a string", path=str(path), line=lineno, field="text")
    title = obj.get("title")
    if title is not None and not isinstance(title, str):
        raise InputError("not a string", path=str(path), line=lineno, field="title")
    source = obj.get("source", obj.get("id"))
    if source is not None and not isinstance(source, (str, int)):
        raise InputError("not a string", path=str(path), line=lineno, field="source")
    time: datetime | None = None
    if obj.get("time") is not None:
        try:
            time = datetime.fromisoformat(str(obj["time"]))
        except ValueError as exc:
            raise InputError(
                f"not an ISO 8601 time: {obj['time']!r}", path=str(path), line=lineno, field="time"
            ) from exc
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError("not an object", path=str(path), line=lineno, field="metadata")
    if "id" in obj:
        metadata = {**metadata, "corpus_id": str(obj["id"])}
    body = f"{title}\n{text}" if title and text.strip() else text
    return Document(
        text=body,
        source=str(source) if source is not None else None,
        title=title,
        time=time,
        metadata=metadata,
    )


def read_documents(path: str | Path) -> Iterator[Document]:
    """Documents from a ``.jsonl`` file, a text file, or a folder (``corpus.jsonl`` or text files)."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", path=str(p))
    if p.is_dir():
        corpus = p / "corpus.jsonl"
        if corpus.exists():
            yield from read_documents(corpus)
            return
        files = sorted(f for f in p.rglob("*") if f.suffix in TEXT_SUFFIXES | {".jsonl"})
        if not files:
            raise InputError("no .jsonl, .txt or .md files in this folder", path=str(p))
        for f in files:
            yield from read_documents(f)
        return
    if p.suffix == ".jsonl":
        for lineno, obj in iter_jsonl(p):
            yield _document(obj, p, lineno)
        return
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", path=str(p)) from exc
    yield Document(text=text, source=p.name, title=p.stem)


#: fields an episode line may have (``session_time`` is the conversation layout's name for time)
EPISODE_FIELDS = {"text", "time", "session_time", "speaker", "session", "source", "metadata"}


def read_episodes(path: str | Path) -> Iterator[dict[str, Any]]:
    """Episodes from a ``.jsonl`` file (or a folder's ``turns.jsonl`` / ``*.jsonl`` files).

    A line is ``{"text", "time"}`` with optional ``speaker``, ``session``, ``source`` and
    ``metadata``; the conversation layout's ``session_time`` stands in for ``time`` and its
    other fields (``conversation_id``, ``dia_id``...) go into ``metadata``. Times are checked by
    :meth:`graphmem.Memory.add_episodes`, which names the episode; here a line without text or
    time is an :class:`InputError` naming the file and line.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", path=str(p))
    if p.is_dir():
        turns = p / "turns.jsonl"
        files = [turns] if turns.exists() else sorted(p.rglob("*.jsonl"))
        if not files:
            raise InputError("no .jsonl files in this folder", path=str(p))
        for f in files:
            yield from read_episodes(f)
        return
    for lineno, obj in iter_jsonl(p):
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError(
                "missing, empty or not a string", path=str(p), line=lineno, field="text"
            )
        when = obj.get("time", obj.get("session_time"))
        if when is None:
            raise InputError("missing", path=str(p), line=lineno, field="time")
        metadata = obj.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise InputError("not an object", path=str(p), line=lineno, field="metadata")
        extra = {k: v for k, v in obj.items() if k not in EPISODE_FIELDS}
        episode: dict[str, Any] = {"text": text, "time": when, "metadata": {**extra, **metadata}}
        for key in ("speaker", "session", "source"):
            if obj.get(key) is not None:
                episode[key] = obj[key]
        if "session" in episode and "conversation_id" in obj:
            # sessions are numbered per conversation: keep two conversations' sessions apart
            episode["session"] = f"{obj['conversation_id']}:{episode['session']}"
        yield episode
