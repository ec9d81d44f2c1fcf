"""Splitting documents into passages: by structure first (sections, paragraphs), then by tokens.

A Markdown document (``metadata["format"] == "markdown"``, set by the loaders) is cut at its
headings; each section's body is cut at blank lines into paragraphs, and paragraphs are packed
into chunks of at most ``max_tokens`` tokens of the embedder (the section path counts too). A
paragraph longer than that is cut into windows of ``max_tokens`` with ``overlap`` tokens shared
between neighbours, on word boundaries; a Markdown table is cut between rows instead, each piece
under the table's header row. Structural cuts need no overlap.

A chunk's stored and embedded text is ``section path + "\\n" + body`` (``"Heron > Team\\n..."``),
so headings give context; the extractor sees only the body (:func:`extraction_text`), so a heading
never becomes part of an entity name. Metadata keeps ``document``, ``section``, ``start`` and
``end`` (character offsets of the body in the document's text) and ``chunk`` (its index).

A document without structure (``Memory.add`` of a string, a JSONL line) of at most
``whole_tokens`` tokens stays one passage with exactly today's text and id (benchmark passages,
up to ~400 word pieces, keep their ids and figures); a longer one is cut as above.

>>> c = Chunker(ChunkSettings(max_tokens=8, overlap=2), count=estimate_tokens)
>>> [ch.text for ch in c.chunks("# T\\n\\none two\\n\\nthree four", {"format": "markdown"})]
['T\\none two\\n\\nthree four']
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

TokenCounter = Callable[[str], int]

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_FENCE = re.compile(r"^(```|~~~)", re.M)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_WORD = re.compile(r"\S+")
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t:|-]*-{2,}[ \t:|-]*$")
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\n.*?\n---[ \t]*(?:\n|\Z)", re.S)

SECTION_SEPARATOR = " > "


@dataclass(frozen=True)
class ChunkSettings:
    """``max_tokens``: a chunk's size in embedder tokens (MiniLM reads 256 word pieces).
    ``overlap``: tokens shared by the windows of one long paragraph. ``whole_tokens``: an
    unstructured document up to this size stays one passage."""

    max_tokens: int = 200
    overlap: int = 32
    whole_tokens: int = 512

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, got {self.max_tokens}")
        if not 0 <= self.overlap < self.max_tokens // 2:
            raise ValueError(f"overlap must be in [0, max_tokens/2), got {self.overlap}")


@dataclass(frozen=True)
class Chunk:
    """One passage's worth of a document: stored ``text``, its ``section`` path and body span."""

    text: str
    section: str
    start: int
    end: int
    #: False for an unstructured document kept whole (its text and metadata as before chunking)
    split: bool = True


def estimate_tokens(text: str) -> int:
    """Words x 1.3: MiniLM's word pieces per English word, when no tokenizer is at hand."""
    return math.ceil(len(text.split()) * 1.3)


def embedder_counter(embedder: object) -> TokenCounter:
    """Count tokens with the embedder's own tokenizer when it has one, else :func:`estimate_tokens`.

    An embedder may offer ``count_tokens(text) -> int``; the local MiniLM embedder's fast
    tokenizer is read from its model folder (``tokenizers`` only, no torch).
    """
    counter = getattr(embedder, "count_tokens", None)
    if callable(counter):
        return counter  # type: ignore[no-any-return]
    if type(embedder).__name__ != "LocalEmbedder":
        return estimate_tokens
    try:
        from tokenizers import Tokenizer

        from graphmem.embed.local import default_model_path

        path = getattr(embedder, "model_path", None) or default_model_path()
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
    except Exception as exc:  # any failure: the estimate is good enough to chunk by
        log.debug("no tokenizer for chunking (%s): estimating tokens", exc)
        return estimate_tokens

    def count(text: str) -> int:
        return len(tok.encode(text, add_special_tokens=False).ids)

    return count


def extraction_text(text: str, metadata: dict[str, Any]) -> str:
    """What the extractor sees of a stored chunk: its body, without the section path line."""
    section = metadata.get("section")
    if isinstance(section, str) and section and text.startswith(section + "\n"):
        return text[len(section) + 1 :]
    return text


@dataclass(frozen=True)
class _Block:
    section: tuple[str, ...]
    start: int
    end: int


def markdown_blocks(text: str, title: str | None = None) -> list[_Block]:
    """Section bodies of a Markdown text with their heading paths (front matter and headings out).

    Headings inside fenced code blocks are not headings. Text before the first heading sits
    under ``title`` (if any).
    """
    fm = _FRONT_MATTER.match(text)
    pos = fm.end() if fm else 0
    fences = [m.start() for m in _FENCE.finditer(text)]
    inside: list[tuple[int, int]] = list(zip(fences[::2], fences[1::2], strict=False))
    if len(fences) % 2:
        inside.append((fences[-1], len(text)))
    stack: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    path: tuple[str, ...] = (title,) if title else ()
    for m in _HEADING.finditer(text, pos):
        if any(a <= m.start() < b for a, b in inside):
            continue
        blocks.append(_Block(path, pos, m.start()))
        level, name = len(m.group(1)), m.group(2).strip()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        path = tuple(n for _, n in stack)
        pos = m.end()
    blocks.append(_Block(path, pos, len(text)))
    return [b for b in blocks if text[b.start : b.end].strip()]


class Chunker:
    """Cuts documents into :class:`Chunk`s (see the module docstring)."""

    def __init__(
        self, settings: ChunkSettings = ChunkSettings(), count: TokenCounter | None = None
    ):
        self.settings = settings
        self.count: TokenCounter = count or estimate_tokens

    def chunks(
        self, text: str, metadata: dict[str, Any] | None = None, title: str | None = None
    ) -> list[Chunk]:
        """The chunks of one document's ``text`` (empty when it has no text at all)."""
        meta = metadata or {}
        if meta.get("format") == "markdown":
            blocks = markdown_blocks(text, title)
        else:
            stripped = text.strip()
            if not stripped:
                return []
            start = text.index(stripped[0])
            # chars bound tokens from above: short texts need no counting
            if meta.get("format") is None and (
                len(stripped) <= self.settings.whole_tokens
                or self.count(stripped) <= self.settings.whole_tokens
            ):
                return [Chunk(stripped, "", start, start + len(stripped), split=False)]
            blocks = [_Block((), start, start + len(stripped))]
        out: list[Chunk] = []
        for block in blocks:
            out.extend(self._block(text, block))
        return out

    def _block(self, text: str, block: _Block) -> list[Chunk]:
        section = SECTION_SEPARATOR.join(block.section)
        budget = self.settings.max_tokens - (self.count(section) if section else 0)
        budget = max(budget, self.settings.max_tokens // 2)
        spans = _paragraphs(text, block.start, block.end)
        sizes = [self.count(text[a:b]) for a, b in spans]
        out: list[Chunk] = []
        group: list[tuple[int, int]] = []
        used = 0

        def flush() -> None:
            nonlocal group, used
            if group:
                out.append(self._make(text, section, group))
            group, used = [], 0

        for span, size in zip(spans, sizes, strict=True):
            if size > budget:
                flush()
                table = self._table_windows(text, section, span, budget)
                windows = table or [
                    self._make(text, section, [w]) for w in self._windows(text, span, budget)
                ]
                out.extend(windows)
                continue
            if used + size > budget:
                flush()
            group.append(span)
            used += size
        flush()
        return out

    def _windows(self, text: str, span: tuple[int, int], budget: int) -> list[tuple[int, int]]:
        words = [(m.start(), m.end()) for m in _WORD.finditer(text, span[0], span[1])]
        sizes = [max(1, self.count(text[a:b])) for a, b in words]
        overlap = self.settings.overlap
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            j, used = i, 0
            while j < len(words) and (j == i or used + sizes[j] <= budget):
                used += sizes[j]
                j += 1
            out.append((words[i][0], words[j - 1][1]))
            if j >= len(words):
                break
            back, shared = j, 0
            while back > i + 1 and shared + sizes[back - 1] <= overlap:
                back -= 1
                shared += sizes[back]
            i = back
        return out

    def _table_windows(
        self, text: str, section: str, span: tuple[int, int], budget: int
    ) -> list[Chunk]:
        """A Markdown table too long for one chunk, cut between rows, each piece under its header
        row (a row without its header loses what its cells are); [] if ``span`` is no table."""
        lines = text[span[0] : span[1]].split("\n")
        if len(lines) < 3 or not all(_TABLE_ROW.match(line) for line in lines[:2]):
            return []
        if not _TABLE_RULE.match(lines[1]):
            return []
        header = "\n".join(lines[:2])
        room = max(budget - self.count(header), 1)
        out: list[Chunk] = []
        pos = span[0] + len(header) + 1
        start, used = pos, 0
        for line in lines[2:]:
            size = self.count(line)
            if used and used + size > room:
                out.append(self._headed(text, section, header, start, pos - 1))
                start, used = pos, 0
            used += size
            pos += len(line) + 1
        out.append(self._headed(text, section, header, start, span[1]))
        return out

    @staticmethod
    def _headed(text: str, section: str, header: str, start: int, end: int) -> Chunk:
        body = f"{header}\n{text[start:end]}"
        return Chunk(f"{section}\n{body}" if section else body, section, start, end)

    @staticmethod
    def _make(text: str, section: str, spans: Sequence[tuple[int, int]]) -> Chunk:
        start, end = spans[0][0], spans[-1][1]
        body = text[start:end]  # contiguous: line breaks and blank lines stay as written
        return Chunk(f"{section}\n{body}" if section else body, section, start, end)


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Stripped spans of the blank-line separated paragraphs of ``text[start:end]``."""
    out: list[tuple[int, int]] = []
    pos = start
    for m in [*_PARAGRAPH_BREAK.finditer(text, start, end), None]:
        stop = m.start() if m is not None else end
        piece = text[pos:stop]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append((pos + lead, pos + len(piece.rstrip())))
        if m is not None:
            pos = m.end()
    return out
