"""``graphmem bench`` on a documents folder: ``docs/`` + ``questions.jsonl`` with quoted gold.

The layout (``examples/data/notes/README.md``): ``docs/`` holds ordinary files, read by the real
loaders and cut by the real chunker; a question is ``{"id", "question", "gold": [{"source",
"quote"}, ...]}``, ``source`` a path relative to ``docs/``. Each gold quote is located in its file
and stands for the chunk(s) whose span contains it (overlapping windows may give two), so gold is
the same at any chunk size. Recall counts quotes found: a chunk covering two quotes finds both.
graphmem, dense (the same store's passage vectors) and BM25 (over the same chunks) are scored.

``reachable`` counts the quotes whose chunk is stored: 100% means every gold is retrievable.

A quote is looked for in the text the loader extracted (for HTML, the visible text), first as
written, then as :func:`locate_quote` reads it: markup and character references of the page's
source resolved, whitespace ignored (a ``<br>`` or a table cell's end becomes a newline or
nothing), typographic quotes, dashes and spaces as their plain forms.

>>> run = run_documents_bench("examples/data/notes")  # doctest: +SKIP
>>> run.methods["graphmem"]["recall@5"]  # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphmem.bench.baselines import BM25Index, dense_search
from graphmem.bench.common import BenchRun, bench_namespace, peak_rss_mb, redact_url, sqlite_url
from graphmem.bench.metrics import multihop_scores, normalize_k_values
from graphmem.errors import InputError
from graphmem.ingest.folders import read_documents
from graphmem.ingest.loaders import FileProblem, iter_jsonl

if TYPE_CHECKING:
    from graphmem.embed.base import Embedder
    from graphmem.extract.base import Extractor
    from graphmem.retrieve.passages import PassageSearchSettings
    from graphmem.store.base import Store

DOCS = "docs"
QUESTIONS = "questions.jsonl"


_TAG = re.compile(r"<[^>]*>")
_PLAIN = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"',
                        "–": "-", "—": "-", "−": "-", "…": "..."})  # fmt: skip


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` with whitespace dropped and characters in their plain forms, and for each
    character of the result the index in ``text`` it came from."""
    out: list[str] = []
    at: list[int] = []
    for i, c in enumerate(text):
        if c.isspace():
            continue
        for f in unicodedata.normalize("NFKC", c.translate(_PLAIN)):
            if not f.isspace():
                out.append(f)
                at.append(i)
    return "".join(out), at


def locate_quote(text: str, quote: str) -> tuple[int, int] | None:
    r"""(start, end) of ``quote`` in ``text``: as written, else with the quote's markup and
    character references resolved, whitespace ignored and typography folded; None if absent.

    >>> text = "Ingrid leads\nProject Kelp.\n\nSunita RaoFirmware Lead\nIt’s May."
    >>> [text[slice(*locate_quote(text, q))] for q in ("leads Project", "Rao Firmware",
    ...                                                "<b>It&#39;s</b> May")]
    ['leads\nProject', 'RaoFirmware', 'It’s May']
    """
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    want, _ = _folded(html.unescape(_TAG.sub(" ", quote)))
    if not want:
        return None
    have, index = _folded(text)
    found = have.find(want)
    if found < 0:
        return None
    return index[found], index[found + len(want) - 1] + 1


def is_documents_folder(path: str | Path) -> bool:
    """A folder with ``docs/`` and a ``questions.jsonl`` whose first gold is ``{source, quote}``."""
    folder = Path(path)
    questions = folder / QUESTIONS
    if not (folder / DOCS).is_dir() or not questions.is_file():
        return False
    try:
        for _, obj in iter_jsonl(questions):
            gold = obj.get("gold")
            return isinstance(gold, list) and bool(gold) and isinstance(gold[0], dict)
    except InputError:
        return True  # it is one, with a bad line: loading will say where
    return False


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    #: (source, quote) per hop
    gold: tuple[tuple[str, str], ...]


def load_questions(path: Path) -> list[Question]:
    """The questions, checked (InputError naming file, line and field)."""
    out: list[Question] = []
    seen: set[str] = set()
    for line, obj in iter_jsonl(path):
        qid, text, gold = obj.get("id"), obj.get("question"), obj.get("gold")
        if not isinstance(qid, str) or not qid or qid in seen:
            raise InputError(
                "missing, not a string or repeated", path=str(path), line=line, field="id"
            )
        if not isinstance(text, str) or not text.strip():
            raise InputError("missing or empty", path=str(path), line=line, field="question")
        if not isinstance(gold, list) or not gold:
            raise InputError("must be a non-empty list", path=str(path), line=line, field="gold")
        pairs = []
        for i, g in enumerate(gold):
            if not (
                isinstance(g, dict)
                and isinstance(g.get("source"), str)
                and isinstance(g.get("quote"), str)
                and g["quote"]
            ):
                raise InputError(
                    "each entry is {source, quote} strings",
                    path=str(path),
                    line=line,
                    field=f"gold[{i}]",
                )
            pairs.append((g["source"], g["quote"]))
        seen.add(qid)
        out.append(Question(qid, text, tuple(pairs)))
    if not out:
        raise InputError("no questions", path=str(path))
    return out


def run_documents_bench(
    path: str | Path,
    *,
    store: str | Store | None = None,
    extractor: str | Extractor = "nlp",
    k_values: Sequence[int] = (2, 5),
    limit: int | None = None,
    progress: bool = True,
    embedder: str | Embedder = "local",
    passage_search: PassageSearchSettings | None = None,
) -> DocumentsRun:
    """Ingest ``docs/``, map each quote to its chunk(s), score graphmem, dense and BM25."""
    from tqdm import tqdm

    from graphmem.ingest.passages import to_passages
    from graphmem.memory import Memory

    ks = normalize_k_values(k_values)
    folder = Path(path)
    questions = (
        load_questions(folder / QUESTIONS)[:limit] if limit else load_questions(folder / QUESTIONS)
    )
    problems: list[FileProblem] = []
    docs = list(read_documents(folder / DOCS, problems=problems))
    by_source = {d.source: d for d in docs}
    for q in questions:
        for source, _ in q.gold:
            if source not in by_source:
                raise InputError(
                    f"question {q.id!r}: no document {source!r} in {DOCS}/",
                    path=str(folder / QUESTIONS),
                    field="gold",
                )
    ex_name = extractor if isinstance(extractor, str) else extractor.name
    ex_name = "nlp" if ex_name == "auto" else ex_name
    namespace = bench_namespace(folder.name, ex_name)
    with tempfile.TemporaryDirectory(prefix="graphmem-bench-") as tmp:
        store_arg: str | Store = store if store is not None else sqlite_url(Path(tmp) / "b.db")
        mem = Memory(
            store_arg,
            embedder=embedder,
            passage_search=passage_search,
            extractor="nlp" if extractor == "auto" else extractor,
            namespace=namespace,
        )
        try:
            chunker = mem._ingestor.chunker
            chunks: dict[str, str] = {}  # passage id -> text, in document order
            labels: dict[str, set[str]] = {}  # passage id -> the quote labels it covers
            golds: list[list[str]] = []
            reachable = 0
            for q in questions:
                golds.append([f"{q.id}#{i}" for i in range(len(q.gold))])
            passages_of = {d.source: to_passages(d, namespace, chunker) for d in docs}
            for pid, text in ((p.id, p.text) for ps in passages_of.values() for p in ps):
                chunks.setdefault(pid, text)
            t0 = time.perf_counter()
            report = mem.add_many(docs, progress=progress, replace_sources=True)
            ingest_s = time.perf_counter() - t0
            stored = set(mem.store.existing_passages(namespace, list(chunks)))
            for q in questions:
                for i, (source, quote) in enumerate(q.gold):
                    span = locate_quote(by_source[source].text, quote)
                    if span is None:
                        raise InputError(
                            f"question {q.id!r}: quote not in {source} (as its text reads "
                            f"once loaded): {quote!r}",
                            path=str(folder / QUESTIONS),
                            field=f"gold[{i}]",
                        )
                    hits = _covering(passages_of[source], span)
                    for pid in hits:
                        labels.setdefault(pid, set()).add(f"{q.id}#{i}")
                    if hits and set(hits) <= stored:
                        reachable += 1
            ids = list(chunks)

            def rank(pid: str) -> tuple[str, ...]:
                return tuple(sorted(labels.get(pid, ())))

            texts = [q.question for q in questions]
            max_k = ks[-1]
            rankings: dict[str, list[list[tuple[str, ...]]]] = {}
            method_ms: dict[str, float] = {}
            mem.search(texts[0], k=max_k)  # warm-up, not timed
            query_ms: list[float] = []
            modes: dict[str, int] = {}
            ranked = []
            for text in tqdm(texts, desc="questions", unit="q", disable=not progress):
                t = time.perf_counter()
                res = mem.search(text, k=max_k)
                query_ms.append((time.perf_counter() - t) * 1e3)
                modes[res.mode] = modes.get(res.mode, 0) + 1
                ranked.append([rank(h.passage.id) for h in res.passages[:max_k]])
            rankings["graphmem"], method_ms["graphmem"] = ranked, sum(query_ms) / len(query_ms)
            t = time.perf_counter()
            dense = dense_search(mem.store, mem.embedder, namespace, texts, max_k)
            method_ms["dense"] = (time.perf_counter() - t) * 1e3 / len(texts)
            rankings["dense"] = [[rank(pid) for pid, _ in hits[:max_k]] for hits in dense]
            bm25 = BM25Index([chunks[i] for i in ids])
            t = time.perf_counter()
            bm = bm25.search(texts, max_k)
            method_ms["bm25"] = (time.perf_counter() - t) * 1e3 / len(texts)
            rankings["bm25"] = [[rank(ids[i]) for i, _ in hits] for hits in bm]
            methods = {m: multihop_scores(rankings[m], golds, ks) for m in rankings}
        finally:
            if store is None or isinstance(store, str):
                mem.close()
    run = BenchRun(
        dataset=folder.name,
        kind="documents",
        store=redact_url(store if isinstance(store, str) else store.url) if store else "temporary",
        extractor=ex_name,
        namespace=namespace,
        k_values=ks,
        methods=methods,
        ingest_s=ingest_s,
        query_ms=query_ms,
        peak_rss_mb=peak_rss_mb(),
        questions=len(questions),
        corpus_passages=len(ids),
        stored_passages=len(stored),
        ingest=report,
        method_ms=method_ms,
        modes=modes,
        bm25_stemmer=bm25.stemmer_name,
        question_ids=[q.id for q in questions],
        rankings=rankings,
        golds=[tuple(g) for g in golds],
    )
    return DocumentsRun(
        run,
        files=len(docs),
        file_problems=[str(p) for p in problems],
        gold_quotes=sum(len(q.gold) for q in questions),
        gold_reachable=reachable,
    )


@dataclass
class DocumentsRun:
    """A documents-folder run: the multihop :class:`BenchRun` plus the gold mapping counts."""

    run: BenchRun
    files: int
    file_problems: list[str]
    gold_quotes: int
    gold_reachable: int

    def to_json(self) -> dict[str, Any]:
        """The multihop schema, ``kind`` "documents", plus a ``documents`` object."""
        data = self.run.to_json()
        data["documents"] = {
            "files": self.files,
            "file_problems": self.file_problems,
            "chunks": self.run.corpus_passages,
            "gold_quotes": self.gold_quotes,
            "gold_reachable": self.gold_reachable,
        }
        return data


def _covering(passages: Sequence[Any], span: tuple[int, int]) -> list[str]:
    """Ids of the passages whose body span contains ``span`` (else those overlapping it)."""
    inside, overlapping = [], []
    for p in passages:
        start, end = p.metadata.get("start"), p.metadata.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            inside.append(p.id)  # a document kept whole covers everything
            continue
        if start <= span[0] and span[1] <= end:
            inside.append(p.id)
        elif start < span[1] and span[0] < end:
            overlapping.append(p.id)
    return inside or overlapping
