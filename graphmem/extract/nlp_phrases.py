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
from graphmem.names import PLACE_TYPES, NameIndex, fold

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
    #: token index where a short name starts → the full name it stands for (see resolved_names)
    resolved: dict[int, str] = field(default_factory=dict)


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
        text = ctx.resolved.get(ent.start) or clean(ent.text)
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
    if left == right and tok.i in ctx.resolved:
        return ctx.resolved[tok.i]
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


#: prepositions after which a name NER calls a place is the place ("outside Florence")
_LOCATIVE = word_set("in at near outside inside around across within throughout via")


def entity_spans(doc: Doc) -> list[Span]:
    """``doc.ents``, each cut at line breaks: NER runs over headings and list items otherwise."""
    out: list[Span] = []
    for ent in doc.ents:
        if "\n" not in ent.text:
            out.append(ent)
            continue
        start = ent.start
        for i in range(ent.start, ent.end + 1):
            if i == ent.end or "\n" in doc[i].text:
                piece = doc[start:i]
                while len(piece) and (piece[0].is_punct or piece[0].is_space):
                    piece = piece[1:]
                while len(piece) and (piece[-1].is_punct or piece[-1].is_space):
                    piece = piece[:-1]
                if len(piece):
                    out.append(
                        doc.char_span(piece.start_char, piece.end_char, label=ent.label_) or piece
                    )
                start = i + 1
    return out


def _in_place_context(ent: Span, ent_of: dict[int, Span]) -> bool:
    """ "outside Florence", "in Sofia, Bulgaria": read as a place whatever NER said."""
    root = ent.root
    if root.dep_ == "pobj" and root.head.lower_ in _LOCATIVE:
        return True
    nxt = ent.end + 1
    after = ent_of.get(nxt) if nxt < len(ent.doc) and ent.doc[ent.end].text == "," else None
    return after is not None and after.label_ in PLACE_TYPES


def _used_as_person(ent: Span, index: NameIndex, ent_of: dict[int, Span]) -> bool:
    """A name NER calls a place that the document uses as a person ("Marta", "Florence")."""
    root = ent.root
    if root.dep_ in ("nsubj", "nsubjpass") or root.dep_ == "poss":
        return True
    partners = [root.head] if root.dep_ == "conj" else []
    partners += [c for c in root.children if c.dep_ == "conj"]
    if any((p := ent_of.get(t.i)) is not None and p.label_ == "PERSON" for t in partners):
        return True  # "with Tomás and Omar"
    first = fold(ent.text).split()[:1]
    return bool(first) and any(
        index.type_of(c) == "PERSON" and fold(c).split()[0] == first[0]
        for c in index.candidates(clean(ent.text))
    )


def occurrence_labels(ent_of: dict[int, Span], index: NameIndex) -> dict[int, str]:
    """Labels NER got wrong for one occurrence, by start token: a place the document uses as a
    person is PERSON, a single name in a place's position ("outside Florence") is GPE."""
    out: dict[int, str] = {}
    for e in dict.fromkeys(ent_of.values()):
        if e.label_ in VALUE_LABELS or e.label_ == "TITLE":
            continue
        if len(e) == 1 and _in_place_context(e, ent_of):
            if e.label_ not in PLACE_TYPES:
                out[e.start] = "GPE"
        elif e.label_ in PLACE_TYPES and _used_as_person(e, index, ent_of):
            out[e.start] = "PERSON"
    return out


def resolved_names(doc: Doc, ent_of: dict[int, Span]) -> dict[int, str]:
    """Short names of ``doc`` that stand for one full PERSON/ORG name of it, by start token.

    "Priya" after "Priya Natarajan" is her; a name NER calls a place ("Florence") is the person
    only where the document uses it as one (:func:`person_places`); a bare proper noun NER
    missed counts as a name. Ambiguous names (two Daniels) are left for the ingest to link.
    """
    index = NameIndex()
    spans = sorted(dict.fromkeys(ent_of.values()), key=lambda e: e.start)
    for ent in spans:
        index.add(clean(ent.text), ent.label_)
    if not len(index):
        return {}
    labels = occurrence_labels(ent_of, index)
    out: dict[int, str] = {}
    for ent in spans:
        label = labels.get(ent.start, ent.label_)
        if label in VALUE_LABELS or label == "TITLE" or label in PLACE_TYPES:
            continue
        nxt = ent.doc[ent.end] if ent.end < len(ent.doc) else None
        if nxt is not None and nxt.pos_ == "PROPN" and nxt.i not in ent_of:
            continue  # NER cut the name short: "Heron" of "Heron Street"
        found = index.candidates(clean(ent.text))
        if len(found) == 1:
            out[ent.start] = found[0]
    for tok in doc:
        if tok.pos_ == "PROPN" and tok.i not in ent_of:
            found = index.candidates(clean(tok.text))
            if len(found) == 1:
                out[tok.i] = found[0]
    return out
