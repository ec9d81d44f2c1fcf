"""Reading files into documents: Markdown, text, HTML, PDF and JSON lines, or folders of them.

- ``.md``/``.markdown``: YAML front matter (``key: value``, ``[a, b]`` and ``- item`` lists) goes
  to ``metadata["front_matter"]`` (``title`` and ``date`` also set the title and time); headings
  become section paths when chunked (:mod:`graphmem.ingest.chunking`);
- ``.txt``/``.rst``: the text; ``.html``/``.htm``: its visible text (``script``/``style`` left
  out), headings kept as sections; ``.pdf``: its text layer, with ``pypdf`` (``graphmem[pdf]``);
- ``.jsonl``: one document a line, ``{"text"}`` with optional ``id`` (kept as the source),
  ``title``, ``source``, ``time`` (ISO 8601) and ``metadata``. The whole file is checked before
  its first document is given out, so a bad line never leaves half a file ingested.

A file's source is its path relative to the folder given (posix, ``eng/notes.md``), after an
optional ``source_prefix``; never its bare name, so same-named files in two folders stay apart.

Bad files do not stop a folder's ingest: each becomes a :class:`FileProblem` (``skipped``:
nothing to ingest, e.g. an empty file; ``failed``: unreadable, e.g. binary or over
:data:`MAX_FILE_BYTES`). Files over the limit are refused, not streamed.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").mkdir(); _ = (d / "a" / "n.txt").write_text("Hi.")
>>> [doc.source for doc in read_documents(d)]
['a/n.txt']
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar, Literal

from graphmem.errors import InputError
from graphmem.models import Document

log = logging.getLogger(__name__)

#: files larger than this are refused (split them); JSONL corpora may be larger
MAX_FILE_BYTES = 10_000_000
MAX_JSONL_BYTES = 500_000_000
MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = MARKDOWN_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".jsonl"}

_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_HEADING_LINE = re.compile(r"^#{1,6}[ \t]")


@dataclass(frozen=True)
class FileProblem:
    """A file left out of an ingest, and why."""

    path: str
    status: Literal["skipped", "failed"]
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.status}: {self.reason}"


class _Skip(Exception):
    """A file with nothing to ingest (not an error)."""


# -- JSON lines ---------------------------------------------------------------------------------
def _surrogate_field(value: Any, path: str = "") -> str | None:
    """The field path of the first string holding a lone surrogate, else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(value)"
        return None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found = _surrogate_field(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; InputError on bad UTF-8, JSON or text."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
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
            bad = _surrogate_field(obj)
            if bad is not None:
                raise InputError(
                    "holds a lone surrogate (an escape like \\ud800 that is no character)",
                    path=str(path),
                    line=lineno,
                    field=bad,
                )
            yield lineno, obj


def jsonl_document(obj: dict[str, Any], path: Path, lineno: int, prefix: str = "") -> Document:
    """The document of one JSONL line (InputError naming file, line and field)."""
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputError("missing or not a string", path=str(path), line=lineno, field="text")
    if not text.strip():
        raise InputError("empty", path=str(path), line=lineno, field="text")
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
        source=prefix + str(source) if source is not None else None,
        title=title,
        time=time,
        metadata=metadata,
    )


def _jsonl(path: Path, prefix: str) -> Iterator[Document]:
    for lineno, obj in iter_jsonl(path):  # the whole file first: nothing is half-ingested
        jsonl_document(obj, path, lineno, prefix)
    for lineno, obj in iter_jsonl(path):
        yield jsonl_document(obj, path, lineno, prefix)


# -- text files ---------------------------------------------------------------------------------
def _read_text(path: Path) -> str:
    data = path.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"binary data (a NUL byte at offset {nul}), not text", path=str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", path=str(path)) from exc
    if not text.strip():
        raise _Skip("empty file")
    return text


def _scalar(raw: str) -> Any:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if raw.startswith("[") and raw.endswith("]"):
        return [_scalar(x) for x in raw[1:-1].split(",") if x.strip()]
    return raw


def front_matter(text: str) -> dict[str, Any]:
    """The ``key: value`` pairs of a Markdown file's front matter (a tiny, safe YAML subset)."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}
    out: dict[str, Any] = {}
    key: str | None = None
    for line in m.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = re.match(r"^\s+-\s+(.*)$|^-\s+(.*)$", line)
        if item and key is not None:
            value = out.get(key)
            out[key] = [
                *(value if isinstance(value, list) else []),
                _scalar(item.group(1) or item.group(2)),
            ]
            continue
        k, sep, v = line.partition(":")
        if sep and k.strip() and not k.startswith(" "):
            key = k.strip()
            out[key] = _scalar(v) if v.strip() else []
    return out


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _markdown(path: Path, source: str) -> Document:
    text = _read_text(path)
    meta = front_matter(text)
    body = _FRONT_MATTER.sub("", text, count=1)
    if not any(line.strip() and not _HEADING_LINE.match(line) for line in body.splitlines()):
        raise _Skip("only headings, no text")
    metadata: dict[str, Any] = {"format": "markdown"}
    if meta:
        metadata["front_matter"] = meta
    title = meta.get("title") if isinstance(meta.get("title"), str) else None
    return Document(
        text=text,
        source=source,
        title=title or path.stem,
        time=_time(meta["date"]) if "date" in meta else None,
        metadata=metadata,
    )


class _HTMLText(HTMLParser):
    _SKIP: ClassVar[set[str]] = {"script", "style", "noscript", "template", "svg", "head"}
    _BLOCK: ClassVar[set[str]] = {
        "p",
        "div",
        "li",
        "tr",
        "br",
        "section",
        "article",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "table",
        "dd",
        "dt",
        "hr",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
        "figure",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skipping: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skipping.append(tag)
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self._BLOCK:
            self.parts.append("\n\n" if tag in {"p", "div", "section", "article"} else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP and self._skipping:
            self._skipping.pop()
        elif re.fullmatch(r"h[1-6]", tag) or tag in {"p", "div", "section", "article"}:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html(path: Path, source: str) -> Document:
    parser = _HTMLText()
    parser.feed(_read_text(path))
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not any(line and not _HEADING_LINE.match(line) for line in text.splitlines()):
        raise _Skip("no visible text")
    title = " ".join("".join(parser.title).split()) or path.stem
    return Document(text=text, source=source, title=title, metadata={"format": "markdown"})


def _pdf(path: Path, source: str) -> Document:
    try:
        from pypdf import PdfReader
    except ImportError as exc:
        raise InputError(
            "reading PDF needs pypdf: pip install 'graphmem[pdf]'", path=str(path)
        ) from exc
    try:
        reader = PdfReader(str(path))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except Exception as exc:  # pypdf raises many types for damaged files
        raise InputError(
            f"not a readable PDF ({type(exc).__name__}: {exc})", path=str(path)
        ) from exc
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise _Skip("no text layer (a scanned PDF? run OCR first)")
    bad = _surrogate_field(text)
    if bad is not None:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return Document(text=text, source=source, title=path.stem, metadata={"format": "text"})


def load_file(path: Path, source: str, prefix: str = "") -> Iterator[Document]:
    """The documents of one file (raises InputError or _Skip before giving out any)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # reading a FIFO would block, a device never end
        raise _Skip(f"{_special(info.st_mode)}, not a regular file")
    size = info.st_size
    limit = MAX_JSONL_BYTES if path.suffix == ".jsonl" else MAX_FILE_BYTES
    if size > limit:
        raise InputError(f"{size:,} bytes, over the {limit:,} byte limit: split it", path=str(path))
    if size == 0:
        raise _Skip("empty file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        docs = _jsonl(path, prefix)
        first = next(docs, None)  # runs the whole-file check
        if first is None:
            raise _Skip("no documents (only blank lines)")
        yield first
        yield from docs
    elif suffix in MARKDOWN_SUFFIXES:
        yield _markdown(path, source)
    elif suffix in HTML_SUFFIXES:
        yield _html(path, source)
    elif suffix == ".pdf":
        yield _pdf(path, source)
    else:
        text = _read_text(path)
        yield Document(text=text, source=source, title=path.stem, metadata={"format": "text"})


def _special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "a socket" if stat.S_ISSOCK(mode) else "a special file"


def _folder_files(root: Path, follow_symlinks: bool) -> tuple[list[Path], list[FileProblem]]:
    """The supported files under ``root``, and those left out: a link leading out of the
    folder (unless ``follow_symlinks``), a broken link, a FIFO or device file, a name that is not
    UTF-8 (it could not be a source)."""
    base = root.resolve()
    files: list[Path] = []
    out: list[FileProblem] = []
    for f in sorted(root.rglob("*")):
        if f.suffix.lower() not in SUFFIXES:
            continue
        shown = os.fsencode(f).decode("utf-8", "replace")
        try:
            f.relative_to(root).as_posix().encode("utf-8")
        except UnicodeEncodeError:
            out.append(FileProblem(shown, "failed", "its name is not valid UTF-8: rename it"))
            continue
        if f.is_symlink():
            if not f.exists():
                out.append(FileProblem(shown, "skipped", "a broken symbolic link"))
                continue
            if not follow_symlinks and not f.resolve().is_relative_to(base):
                reason = "a symbolic link to a file outside the folder (--follow-symlinks reads it)"
                out.append(FileProblem(shown, "skipped", reason))
                continue
        try:
            mode = f.stat().st_mode
        except OSError as exc:
            out.append(FileProblem(shown, "failed", str(exc)))
            continue
        if stat.S_ISREG(mode):
            files.append(f)
        elif not stat.S_ISDIR(mode):
            out.append(FileProblem(shown, "skipped", f"{_special(mode)}, not a regular file"))
    return files, out


def read_documents(
    path: str | Path,
    *,
    source_prefix: str = "",
    problems: list[FileProblem] | None = None,
    keep_going: bool | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Document]:
    """Documents from a file or a folder (``corpus.jsonl``, else every supported file in it).

    Skipped files are logged and appended to ``problems`` (if given). A failed file raises its
    :class:`InputError`, unless ``keep_going`` (default: when ``path`` is a folder and
    ``problems`` is given): then it is appended too and the rest goes on. In a folder, a link to a
    file outside it is skipped unless ``follow_symlinks``; FIFOs and device files are skipped.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", path=str(p))
    if p.is_dir():
        corpus = p / "corpus.jsonl"
        if corpus.is_file():
            files, root = [corpus], p
        else:
            files, left_out = _folder_files(p, follow_symlinks)
            root = p
            if not files and not left_out:
                raise InputError(
                    f"no {', '.join(sorted(SUFFIXES))} files in this folder", path=str(p)
                )
            for problem in left_out:
                log.warning("%s", problem)
                if problem.status == "failed" and (problems is None or keep_going is False):
                    raise InputError(problem.reason, path=problem.path)
                if problems is not None:
                    problems.append(problem)
    else:
        files, root = [p], p.parent
    for f in files:
        source = source_prefix + f.relative_to(root).as_posix()
        try:
            yield from load_file(f, source, source_prefix)
        except _Skip as skip:
            problem = FileProblem(str(f), "skipped", str(skip))
            log.warning("%s", problem)
            if problems is not None:
                problems.append(problem)
        except (InputError, OSError) as exc:
            if problems is None or not (p.is_dir() if keep_going is None else keep_going):
                raise
            problem = FileProblem(str(f), "failed", _reason(exc, f))
            log.warning("%s", problem)
            problems.append(problem)


def _reason(exc: Exception, path: Path) -> str:
    """The error without its leading path (the problem names the file already)."""
    if isinstance(exc, InputError) and exc.path == str(path):
        where = f"line {exc.line}: " if exc.line is not None else ""
        if exc.field is not None:
            where += f"field {exc.field!r}: "
        return where + exc.reason
    return str(exc)
