"""Markdown structure the sentence rules cannot read: tables, ``**Key:** value`` lines, emphasis.

A parser reads a table row as one long noun phrase ("Sunita Rao | Firmware Lead") and emphasis
markers as part of a name ("Measures:** temperature"). Before the text is parsed,
:func:`read_structure` takes tables and emphasized key lines out (their lines become blank, so
sentences around them stay apart) and turns them into facts: a table row's first cell is the
subject and each other cell the object of its column's header; a ``**Key:** value`` line's subject
is what the section is about (its heading). Emphasis left in the prose is removed. No I/O.

>>> text = "| Name | Role |\\n|---|---|\\n| Sunita Rao | Firmware Lead |\\n\\n*Ada* wrote it."
>>> rest, facts = read_structure(text)
>>> [(f.subject, f.predicate, f.object) for f in facts]
[('Sunita Rao', 'role', 'Firmware Lead')]
>>> rest.strip()
'Ada  wrote it.'
"""

from __future__ import annotations

import re

from graphmem.extract.base import ExtractedFact

_TABLE_LINE = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_SEPARATOR = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
_KEY_LINE = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)([^*_:\n]{1,40}?)(?::(?:\*\*|__)|(?:\*\*|__):)[ \t]*(.+)$"
)
# emphasis markers: **x**, __x__, *x*, _x_ (an underscore inside a word is not one)
_EMPHASIS = re.compile(
    r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)"
)
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\band\b)\s*")
_EMPTY_CELLS = frozenset({"", "-", "–", "—", "n/a", "none", "?"})


def strip_emphasis(text: str) -> str:
    """``text`` with its emphasis markers replaced by spaces (offsets unchanged)."""
    return _EMPHASIS.sub(lambda m: " " * len(m.group(0)), text)


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [" ".join(strip_emphasis(c).split()) for c in inner.split("|")]


def _table_facts(rows: list[list[str]]) -> list[ExtractedFact]:
    """Facts of one table: its first row is the header (a table without one states nothing)."""
    if len(rows) < 2:
        return []
    header, facts = rows[0], []
    for row in rows[1:]:
        subject = row[0] if row else ""
        if subject.lower() in _EMPTY_CELLS:
            continue
        for name, cell in zip(header[1:], row[1:], strict=False):
            if name and cell.lower() not in _EMPTY_CELLS:
                facts.append(ExtractedFact(subject=subject, predicate=name.lower(), object=cell))
    return facts


def read_structure(text: str, subject: str | None = None) -> tuple[str, list[ExtractedFact]]:
    """``text`` without its tables and key lines (blank lines instead) and emphasis, and the
    facts those made. ``subject``: what the key lines are about (the section's heading); without
    one they are left in the text as prose."""
    lines = text.split("\n")
    facts: list[ExtractedFact] = []
    table: list[list[str]] = []
    for i, line in enumerate(lines):
        if _TABLE_LINE.match(line) or (table and _SEPARATOR.match(line)):
            if not _SEPARATOR.match(line):
                table.append(_cells(line))
            lines[i] = ""
            continue
        if table:
            facts.extend(_table_facts(table))
            table = []
        m = _KEY_LINE.match(line)
        if m and subject:
            key, value = " ".join(m.group(1).split()).lower(), strip_emphasis(m.group(2))
            for part in _LIST_SPLIT.split(value.strip().rstrip(".")):
                if part and part.lower() not in _EMPTY_CELLS:
                    facts.append(ExtractedFact(subject=subject, predicate=key, object=part))
            lines[i] = ""
    if table:
        facts.extend(_table_facts(table))
    return strip_emphasis("\n".join(lines)), facts
