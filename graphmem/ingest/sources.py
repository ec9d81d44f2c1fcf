"""Reading documents and episodes to ingest from files.

Documents (Markdown, text, HTML, PDF, JSON lines) are read by :mod:`graphmem.ingest.loaders`,
re-exported here; episodes are JSON lines (:func:`read_episodes`). Errors name the file and line.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a.txt").write_text("Hello.")
6
>>> [doc.source for doc in read_documents(d)]
['a.txt']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from graphmem.errors import InputError
from graphmem.ingest.folders import read_documents as read_documents
from graphmem.ingest.loaders import SUFFIXES as SUFFIXES
from graphmem.ingest.loaders import FileProblem as FileProblem
from graphmem.ingest.loaders import iter_jsonl as iter_jsonl
from graphmem.models import Document


def to_document(doc: Document | str | Mapping[str, Any]) -> Document:
    """A :class:`Document` from one, from a text, or from a mapping of its fields."""
    if isinstance(doc, Document):
        return doc
    if isinstance(doc, str):
        return Document(text=doc)
    try:
        return Document.model_validate(doc)
    except Exception as exc:
        raise InputError(f"not a document: {exc}") from exc


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
