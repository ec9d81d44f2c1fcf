"""The extraction rules over one spaCy parse: entities, facts and dated events. No I/O.

- subjects: ``nsubj``/``nsubjpass`` (and their conjuncts), inherited by conjoined verbs, participle
  clauses and ``xcomp`` chains; a relative pronoun stands for the noun its clause hangs on; a
  subject ``he``/``she``/``it`` or "the company" is resolved to the person or topic it most
  likely means (with a lower confidence).
- predicates: the verb with its particle and negation, auxiliaries dropped
  ("X was born in Y" → ``(X, "born in", Y)``), prepositions folded in, copulas kept
  ("X is the capital of Y" → ``(X, "is capital of", Y)``), appositions read as copulas
  ("X, the CEO of Y," → ``(X, "is CEO of", Y)``).
- arguments: expanded to the named entity they belong to, else to their compound noun phrase.
- events: a sentence with a verb and a written date.

The noun-phrase helpers these rules build on are in :mod:`graphmem.extract.nlp_phrases`.

Bump :data:`RULES_VERSION` whenever the output changes, so cached extractions are recomputed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphmem.extract.base import ExtractedEntity, ExtractedEvent, ExtractedFact, Extraction
from graphmem.extract.nlp_phrases import (
    RELATIVE,
    SPACE,
    VALUE_LABELS,
    DocContext,
    clean,
    conjuncts,
    core_phrase,
    entity_spans,
    fact_key,
    is_name,
    noun_phrase,
    occurrence_labels,
    phrase_start,
    pobj_of,
    preps_of,
    resolved_names,
    word_set,
)
from graphmem.ids import normalize_name
from graphmem.names import NameIndex, looks_like_value

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

#: bump whenever the rules' output changes: cached extractions made by older rules are redone
RULES_VERSION = "5"


_PLACES = frozenset({"GPE", "LOC"})
#: objects that only point at another noun ("one of X", "most of X")
_PARTITIVES = word_set(
    """one two three some many most all both each several few part member members half none"""
)
#: objects too vague to be a node: they would join unrelated passages
_VAGUE_OBJECTS = word_set(
    """north south east west northeast northwest southeast southwest north-east north-west
    south-east south-west time times way ways thing things lot end beginning top bottom side
    sides area fact"""
)
_SUBJ_DEPS = frozenset({"nsubj", "nsubjpass"})
_COPULA_FORMS = {"been": "is", "being": "is", "be": "is", "'s": "is", "’s": "is", "am": "is"}
#: key in ``Doc.user_data``: start offsets of the title's mentions (set by the extractor)
TITLE_KEY = "graphmem_title_chars"
#: nouns that, as "the <noun>" with no other qualifier, usually mean what the passage is about
_CATEGORY_NOUNS = word_set(
    """album airline airport area band bank book bridge building brand business channel church
    city club college company competition constituency country county district dynasty event
    festival film firm game group hospital hotel island journal label lake language magazine
    movie museum musical network newspaper novel opera organisation organization painting
    park party play player programme program project publication railway region religion
    river road school series ship show single song species sport stadium station studio team
    television temple town tournament tower university village war website work"""
)
_MAX_EVENT_CHARS = 300
_PRON_CONFIDENCE = 0.7


def extract_doc(doc: Doc, resolve_pronouns: bool = True, title: str | None = None) -> Extraction:
    """Entities, facts and events of one parsed document (``title`` helps resolve "it")."""
    ent_of: dict[int, Span] = {}
    for ent in entity_spans(doc):
        for i in range(ent.start, ent.end):
            ent_of[i] = ent
    title_chars = set(doc.user_data.get(TITLE_KEY, ()))
    if title_chars:
        from spacy.tokens import Span

        # the title, merged into one token by _prepare, is one entity whatever NER said
        for tok in doc:
            if tok.idx in title_chars:
                ent_of[tok.i] = Span(doc, tok.i, tok.i + 1, label=tok.ent_type_ or "TITLE")
                tok.pos_ = "PROPN"  # the tagger sometimes reads a merged title as ADJ or VERB
    ctx = DocContext(doc=doc, ent_of=ent_of, title=title, resolved=resolved_names(doc, ent_of))
    index = NameIndex()
    index.add_all((clean(e.text), e.label_) for e in ent_of.values())
    labels = occurrence_labels(ent_of, index)
    events: list[ExtractedEvent] = []
    for sent in doc.sents:
        if sent.text.rstrip().endswith("?"):
            # a question states nothing ("Do you still play the cello?"); its names still count
            continue
        first = len(ctx.facts)
        _sentence_facts(ctx, sent, resolve_pronouns)
        event = _sentence_event(ctx, sent, ctx.facts[first:])
        if event is not None:
            events.append(event)

    facts: list[ExtractedFact] = []
    seen: set[tuple[str, str, str]] = set()
    for fact in ctx.facts:
        key = fact_key(fact)
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
    # dict, not set: a Span hashes by its Doc's id, so a set's order (and with it which of two
    # spans at one start comes first) would change from run to run
    for ent in sorted(dict.fromkeys(ent_of.values()), key=lambda e: e.start):
        text = clean(ent.text)
        label: str | None = ent.label_ if ent.label_ != "TITLE" else None
        if label is not None:
            label = labels.get(ent.start, label)
        if label:
            types.setdefault(normalize_name(text), label)
        if ent.start in ctx.resolved:
            continue  # a short name: its full name is an entity of its own
        if ent.label_ not in VALUE_LABELS and is_name(text):
            add_entity(text, label)
    for fact in facts:
        add_entity(fact.subject, types.get(normalize_name(fact.subject)))
        add_entity(fact.object, types.get(normalize_name(fact.object)) or _value_type(fact.object))
    return Extraction(entities=entities, facts=facts, events=events)


def _value_type(name: str) -> str | None:
    """ "ten engineers", "six hours": a value NER did not label whole is still a value."""
    return "QUANTITY" if looks_like_value(name) else None


def _sentence_facts(ctx: DocContext, sent: Span, resolve_pronouns: bool) -> None:
    for tok in sent:
        if tok.pos_ in ("VERB", "AUX") and (tok.pos_ == "VERB" or tok.dep_ == "ROOT"):
            if tok.dep_ == "xcomp" and tok.head.pos_ in ("VERB", "AUX"):
                continue  # read through its governing verb
            subjects = _subjects(ctx, tok, resolve_pronouns)
            for subj, conf in subjects:
                _verb_facts(ctx, tok, _base_predicate(tok), subj, conf, depth=0)
        elif tok.dep_ == "appos":
            _appos_facts(ctx, tok)
    # the first named subject of the passage is what "it" most likely refers to later
    if ctx.topic is None:
        for fact in ctx.facts:
            if fact.confidence == 1.0 and any(ch.isupper() for ch in fact.subject):
                ctx.topic = fact.subject
                break


def _subjects(ctx: DocContext, verb: Token, resolve: bool) -> list[tuple[str, float]]:
    """Subject phrases of ``verb`` with their confidence."""
    found: list[tuple[str, float]] = []
    subj_toks = [c for c in verb.children if c.dep_ in _SUBJ_DEPS]
    for subj in subj_toks:
        for tok in [subj, *conjuncts(subj)]:
            if tok.lower_ in RELATIVE and verb.dep_ == "relcl":
                phrase = noun_phrase(ctx, _antecedent(verb.head))
                if phrase:
                    found.append((phrase, 1.0))
            elif tok.pos_ == "PRON":
                if resolve:
                    ref = _resolve_pronoun(ctx, tok, verb)
                    if ref:
                        found.append((ref, _PRON_CONFIDENCE))
            elif resolve and (ref := _resolve_definite(ctx, tok)) is not None:
                found.append((ref, _PRON_CONFIDENCE))
            elif tok.lower_ in _PARTITIVES and _is_value(ctx, tok):
                # "One of the bombs was dropped on Hiroshima" → the bombs
                inner = next((o for p, o in preps_of(tok) if p.lower_ == "of"), None)
                phrase = noun_phrase(ctx, inner) if inner is not None else None
                if phrase:
                    found.append((phrase, 1.0))
            elif (ent := ctx.ent_of.get(tok.i)) is not None and ent.label_ in VALUE_LABELS:
                continue  # "1963 was ...", "Twelve are published": a number is not a subject
            else:
                phrase = noun_phrase(ctx, tok)
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
        phrase = noun_phrase(ctx, _antecedent(head))
        if phrase:
            found.append((phrase, 1.0))
    return found


def _is_value(ctx: DocContext, tok: Token) -> bool:
    """Not part of a name: no entity, or a number/date entity ("one" is CARDINAL)."""
    ent = ctx.ent_of.get(tok.i)
    return ent is None or ent.label_ in VALUE_LABELS


def _antecedent(noun: Token) -> Token:
    """The thing a noun renames: the subject of "X is a noun", the X of "X, a noun"."""
    if noun.dep_ == "appos":
        return noun.head
    if noun.dep_ == "attr" and noun.head.pos_ in ("AUX", "VERB"):
        for c in noun.head.children:
            if c.dep_ in _SUBJ_DEPS and c.pos_ != "PRON":
                return c
    return noun


def _resolve_pronoun(ctx: DocContext, tok: Token, verb: Token) -> str | None:
    low = tok.lower_
    if low not in ("he", "she", "it"):
        return None
    if verb.dep_ in ("advcl", "conj", "ccomp") and verb.head.pos_ in ("VERB", "AUX"):
        # "The river flows through X before it reaches the sea": the main clause's subject
        for c in verb.head.children:
            if c.dep_ in _SUBJ_DEPS and c.pos_ != "PRON":
                ent = ctx.ent_of.get(c.i)
                person = ent is not None and ent.label_ == "PERSON"
                if person == (low != "it"):
                    return noun_phrase(ctx, c)
    if low in ("he", "she"):
        return ctx.person
    if low == "it":
        return ctx.topic or ctx.title
    return None


def _resolve_definite(ctx: DocContext, tok: Token) -> str | None:
    """ "The journal was founded ..." → the journal the passage is about, when there is one."""
    if tok.pos_ != "NOUN" or tok.i in ctx.ent_of or phrase_start(tok) != tok.i:
        return None
    if not any(c.dep_ == "det" and c.lower_ in ("the", "this") for c in tok.children):
        return None
    if any(c.dep_ == "prep" for c in tok.children):
        return None  # "the capital of France" says which one
    known = ctx.kinds.get(tok.lower_)
    if known:
        return known
    for name in (ctx.topic, ctx.title):
        if name and tok.lower_ in name.lower().split():
            return name
    if tok.lower_ in _CATEGORY_NOUNS and not any(t.lower_ == tok.lower_ for t in ctx.doc[: tok.i]):
        # "The company was founded ..." in a passage that introduced no other company
        return ctx.topic or ctx.title
    return None


def _base_predicate(verb: Token) -> str:
    """The verb with its negation and particle, without auxiliaries: "was not born" → "not born".

    Copulas keep their tense but not their aspect: "has been" → "is", "had been" → "was".
    """
    words: list[str] = []
    for tok in sorted(
        [verb, *(c for c in verb.children if c.dep_ in ("neg", "prt"))], key=lambda t: t.i
    ):
        word = tok.lower_
        if tok is verb and word in _COPULA_FORMS:
            word = _COPULA_FORMS[word]
            if word == "is" and any(c.lower_ in ("had", "was", "were") for c in verb.children):
                word = "was"
        words.append(word)
    return " ".join(words)


def _verb_facts(
    ctx: DocContext, verb: Token, pred: str, subj: str, conf: float, *, depth: int
) -> None:
    def emit(predicate: str, obj_tok: Token) -> None:
        for tok in [obj_tok, *conjuncts(obj_tok)]:
            if tok.lower_ in _PARTITIVES and _is_value(ctx, tok):
                # "one of the largest chains" → (S, "stands as one of", "largest chains")
                inner = next((o for p, o in preps_of(tok) if p.lower_ == "of"), None)
                if inner is not None:
                    emit(f"{predicate} {tok.lower_} of", inner)
                continue
            if tok.lower_ in _VAGUE_OBJECTS and tok.i not in ctx.ent_of:
                continue
            obj = noun_phrase(ctx, tok)
            if obj:
                ctx.facts.append(
                    ExtractedFact(subject=subj, predicate=predicate, object=obj, confidence=conf)
                )

    for child in verb.children:
        dep = child.dep_
        if dep in ("dobj", "oprd"):
            before = len(ctx.facts)
            if child.pos_ == "NOUN" and child.i not in ctx.ent_of:
                # "studied physics in Zurich" → (S, "studied physics in", Zurich)
                for prep, pobj in preps_of(child):
                    if pobj.pos_ == "PROPN" or pobj.i in ctx.ent_of:
                        emit(f"{pred} {core_phrase(child)} {prep.lower_}", pobj)
            if len(ctx.facts) == before or phrase_start(child) < child.i:
                # a bare noun ("has population") is only kept when nothing more precise was said
                emit(pred, child)
        elif dep == "attr":
            if child.pos_ == "PROPN" or child.i in ctx.ent_of:
                emit(pred, child)
            else:
                if conf == 1.0 and any(ch.isupper() for ch in subj):
                    ctx.kinds.setdefault(child.lower_, subj)
                preps = preps_of(child)
                for prep, pobj in preps:
                    emit(f"{pred} {core_phrase(child)} {prep.lower_}", pobj)
                if not preps:
                    emit(pred, child)
        elif dep == "acomp":
            for prep, pobj in preps_of(child):
                emit(f"{pred} {child.lower_} {prep.lower_}", pobj)
        elif dep in ("prep", "agent"):
            target = pobj_of(child)
            if target is not None:
                emit(f"{pred} {child.lower_}", target)
                if target.pos_ == "PROPN" or target.i in ctx.ent_of:
                    # "founded by X in Telmark": the parser often hangs "in Telmark" on X
                    for prep2, pobj2 in preps_of(target):
                        pent2 = ctx.ent_of.get(pobj2.i)
                        if (
                            prep2.lower_ != "of"
                            and pent2 is not None
                            and pent2 != ctx.ent_of.get(target.i)
                        ):
                            emit(f"{pred} {prep2.lower_}", pobj2)
        elif dep == "xcomp" and child.pos_ in ("VERB", "AUX") and depth < 3:
            # "continued to play for Arsenal" → (S, "continued to play for", Arsenal)
            to = " to" if any(c.dep_ == "aux" and c.lower_ == "to" for c in child.children) else ""
            _verb_facts(
                ctx, child, f"{pred}{to} {_base_predicate(child)}", subj, conf, depth=depth + 1
            )
    if verb.dep_ == "relcl" and any(c.lower_ == "where" for c in verb.children):
        # "Vienna, where he founded a company" → (he, "founded in", Vienna)
        ctx.facts.append(
            ExtractedFact(
                subject=subj,
                predicate=f"{pred} in",
                object=noun_phrase(ctx, verb.head) or "",
                confidence=conf,
            )
        )


def _appos_facts(ctx: DocContext, appos: Token) -> None:
    """ "X, the CEO of Y," → (X, "is CEO of", Y); "X, an American psychologist," → (X, is, ...)."""
    head = appos.head
    if head.pos_ not in ("PROPN", "NOUN") or appos.pos_ not in ("PROPN", "NOUN"):
        return
    if any(c.dep_ == "poss" and c.pos_ == "PRON" for c in appos.children):
        return  # "Kevin Myers, his wife Marcia": a relation to someone else, not a renaming
    subj = noun_phrase(ctx, head)
    if not subj:
        return
    if appos.pos_ == "NOUN" and any(ch.isupper() for ch in subj):
        ctx.kinds.setdefault(appos.lower_, subj)
    hent, aent = ctx.ent_of.get(head.i), ctx.ent_of.get(appos.i)
    if (hent is not None and hent.label_ in VALUE_LABELS) or (
        aent is not None and aent.label_ in VALUE_LABELS
    ):
        return  # "Peter Appleyard, (26 August 1928 – 17 July 2013)": dates, not a renaming
    if hent is not None and aent is not None:
        if hent.label_ in _PLACES and aent.label_ in _PLACES:
            # "Merrow, Estavia": the second place contains the first
            obj = noun_phrase(ctx, appos)
            if obj:
                ctx.facts.append(ExtractedFact(subject=subj, predicate="located in", object=obj))
        # two other names side by side are usually a list ("Lennon, McCartney"), not a renaming
        return
    preps = [] if appos.i in ctx.ent_of else preps_of(appos)
    for prep, pobj in preps:
        obj = noun_phrase(ctx, pobj)
        if obj:
            ctx.facts.append(
                ExtractedFact(
                    subject=subj, predicate=f"is {core_phrase(appos)} {prep.lower_}", object=obj
                )
            )
    if not preps:
        obj = noun_phrase(ctx, appos)
        if obj:
            ctx.facts.append(ExtractedFact(subject=subj, predicate="is", object=obj))


def _sentence_event(
    ctx: DocContext, sent: Span, facts: list[ExtractedFact]
) -> ExtractedEvent | None:
    """A sentence with a verb and a written date (with a digit) is an event at that date.

    Participants: the sentence's named entities and the (resolved) subjects of its facts.
    """
    dates = [e for e in sent.ents if e.label_ == "DATE" and any(ch.isdigit() for ch in e.text)]
    if not dates or not any(t.pos_ == "VERB" for t in sent):
        return None
    participants: list[str] = []
    for ent in sent.ents:
        name = ctx.resolved.get(ent.start) or clean(ent.text)
        if ent.label_ not in VALUE_LABELS and is_name(name) and name not in participants:
            participants.append(name)
    for fact in facts:
        if any(ch.isupper() for ch in fact.subject) and fact.subject not in participants:
            participants.append(fact.subject)
    text = SPACE.sub(" ", sent.text).strip()
    if len(text) > _MAX_EVENT_CHARS:
        text = text[: _MAX_EVENT_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return ExtractedEvent(description=text, time=clean(dates[0].text), participants=participants)
