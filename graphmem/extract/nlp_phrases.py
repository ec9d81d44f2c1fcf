"""Noun phrases over one spaCy parse: what a token stands for, cleaned, and whether it is a name.

The phrase helpers :mod:`graphmem.extract.nlp_rules` builds its facts from, with the word lists
they share and the :class:`DocContext` of the document being read. No I/O.

>>> clean("the peer - reviewed journal's")
'peer-reviewed journal'
>>> is_name("it"), is_name("Ada Lovelace")
(False, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphmem.extract.base import ExtractedFact
from graphmem.ids import normalize_name

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``, as a set."""
    return frozenset(text.split())


#: entity labels that are values, not things: kept only as fact objects, never as entities
VALUE_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
PRONOUNS = word_set(
    "i me you he him she her it we us they them one itself himself herself themselves"
)
_LEFT_MODS = frozenset({"compound", "amod", "nummod", "nmod", "poss", "npadvmod", "quantmod"})
RELATIVE = frozenset({"who", "whom", "which", "that", "whose"})
_LEADING_DROP = frozenset({"the", "a", "an", "this", "that", "these", "those", "its", "his", "her"})
_LEADING_DROP |= frozenset({"their", "our", "my", "your"})
_EDGE_PUNCT = " \t\n\"'`“”‘’,;:.()[]{}-–—"
SPACE = re.compile(r"\s+")
_HYPHEN_SPACE = re.compile(r"\s+([-–/])\s+")
_MAX_PHRASE_TOKENS = 10


@dataclass
class DocContext:
    """What the rules need while reading one document."""

    doc: Doc
    ent_of: dict[int, Span]
    title: str | None = None
    #: last person named as a subject (for "he"/"she"), and the passage's topic (for "it")
    person: str | None = None
    topic: str | None = None
    #: "journal" → "Journal of Mathematical Physics" after "The Journal of ... is a journal"
    kinds: dict[str, str] = field(default_factory=dict)
    facts: list[ExtractedFact] = field(default_factory=list)


def conjuncts(tok: Token) -> list[Token]:
    """Tokens joined to ``tok`` by "and"/"or" (the parse chains them: A → B → C)."""
    out: list[Token] = []
    stack = [c for c in tok.children if c.dep_ == "conj"]
    while stack:
        c = stack.pop(0)
        if c.pos_ == tok.pos_ or (c.pos_ in ("NOUN", "PROPN") and tok.pos_ in ("NOUN", "PROPN")):
            out.append(c)
            stack.extend(x for x in c.children if x.dep_ == "conj")
    return out


def pobj_of(prep: Token) -> Token | None:
    for c in prep.children:
        if c.dep_ == "pobj":
            return c
    return None


def preps_of(tok: Token) -> list[tuple[Token, Token]]:
    out: list[tuple[Token, Token]] = []
    for c in tok.children:
        if c.dep_ == "prep":
            pobj = pobj_of(c)
            if pobj is not None:
                out.append((c, pobj))
    return out


def phrase_start(tok: Token) -> int:
    """Start of ``tok``'s noun phrase: its left modifiers (compound, adjectives, numbers)."""
    left = tok.i
    for c in tok.lefts:
        if c.dep_ in _LEFT_MODS and not (c.dep_ == "poss" and c.pos_ == "PRON"):
            left = min(left, c.left_edge.i)
    return left


def core_phrase(noun: Token) -> str:
    """A noun with its left modifiers, for use inside a predicate: "is CEO of", "is capital of"."""
    words = noun.doc[phrase_start(noun) : noun.i + 1]
    text = "".join(
        (t.text if t.pos_ == "PROPN" or t.text.isupper() else t.lower_) + t.whitespace_
        for t in words
    )
    return clean(text)


def noun_phrase(ctx: DocContext, tok: Token) -> str | None:
    """The text a token stands for: its named entity, else its compound noun phrase."""
    if tok.pos_ in ("PRON", "DET", "PUNCT", "SPACE", "CCONJ", "ADP"):
        return None
    ent = ctx.ent_of.get(tok.i)
    if ent is not None and ent[-1].pos_ not in ("ADP", "CCONJ", "DET"):
        text = clean(ent.text)
        if ent.label_ in VALUE_LABELS or is_name(text):
            return text or None
        return None
    if tok.pos_ not in ("NOUN", "PROPN", "NUM", "X", "ADJ"):
        return None
    doc = ctx.doc
    left, right = phrase_start(tok), tok.i
    if tok.pos_ in ("NOUN", "PROPN"):
        for prep, pobj in preps_of(tok):
            # "capital of France", "University of Copenhagen": "of" phrases belong to the name
            if prep.lower_ == "of" and pobj.i > tok.i and pobj.pos_ in ("NOUN", "PROPN"):
                end = pobj.i
                pent = ctx.ent_of.get(pobj.i)
                if pent is not None:
                    end = pent.end - 1
                if end - left < _MAX_PHRASE_TOKENS:
                    right = max(right, end)
                break
    if right - left >= _MAX_PHRASE_TOKENS:
        left = max(left, right - _MAX_PHRASE_TOKENS + 1)
    text = clean(doc[left : right + 1].text)
    if not is_name(text) and not (tok.pos_ == "NUM" and tok.dep_ == "pobj"):
        return None
    return text or None


def clean(text: str) -> str:
    """Trim punctuation, leading articles and possessives; collapse spaces ("peer - reviewed")."""
    text = _HYPHEN_SPACE.sub(r"\1", SPACE.sub(" ", text)).strip(_EDGE_PUNCT)
    words = text.split(" ")
    while len(words) > 1 and words[0].lower() in _LEADING_DROP:
        words.pop(0)
    text = " ".join(words)
    if text.endswith("'s") or text.endswith("’s"):
        text = text[:-2]
    return text.strip(_EDGE_PUNCT)


def is_name(text: str) -> bool:
    """Worth a node: has a letter, is not a lone article or pronoun, is not overly long."""
    if not any(ch.isalpha() for ch in text):
        return False
    low = text.lower()
    if low in _LEADING_DROP or low in RELATIVE or low in PRONOUNS:
        return False
    return len(text) <= 120


def fact_key(f: ExtractedFact) -> tuple[str, str, str]:
    """What makes two facts the same: their normalized subject, predicate and object."""
    return normalize_name(f.subject), normalize_name(f.predicate), normalize_name(f.object)
