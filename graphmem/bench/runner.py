"""``graphmem bench DIR``: graphmem against dense and BM25 retrieval, in one run, on one dataset.

The run: load and validate the whole folder (nothing is written before that succeeds); open a
Memory (by default on a fresh temporary SQLite file, so a run is reproducible); ingest the corpus
(``title + "\\n" + text`` per passage, HippoRAG's convention) with ``triples.jsonl`` as the
extraction when it exists; then ask every question three ways (graphmem's ``search``; dense
cosine over the same store's passage vectors; BM25) and score the top-k passages against the gold
ids. Timings are graphmem's: ``ingest_s`` (the whole ``add_many``) and per-question ``query_ms``
(``Memory.search``, embedding included; one warm-up question first is not timed, so model loading
does not count as a query).

>>> result = run_bench("../shared/bench/musique_train", json_path="bench.json")  # doctest: +SKIP
>>> result["methods"]["graphmem"]["recall@5"]  # doctest: +SKIP
0.68
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphmem.bench.baselines import BM25Index, dense_search
from graphmem.bench.common import (
    METHODS,
    TEMPORARY_STORE,
    BenchRun,
    bench_namespace,
    check_writable,
    cold_start,
    peak_rss_mb,
    redact_url,
    sqlite_url,
    write_json,
)
from graphmem.bench.conversation_runner import print_conversation, run_conversation_bench
from graphmem.bench.data import (
    CORPUS,
    MAX_PASSAGE_BYTES,
    QUESTIONS,
    ConversationDataset,
    MultihopDataset,
    PassageGroup,
    detect_kind,
    load_dataset,
)
from graphmem.bench.metrics import multihop_scores, normalize_k_values
from graphmem.bench.report import print_run
from graphmem.errors import ConfigError, InputError
from graphmem.extract.base import Extractor
from graphmem.ids import passage_id
from graphmem.memory import PassageSearchSettings
from graphmem.models import Document, Passage
from graphmem.store.base import Store

if TYPE_CHECKING:
    from rich.console import Console

    from graphmem.embed.base import Embedder
    from graphmem.memory import Memory

__all__ = [
    "METHODS",
    "TEMPORARY_STORE",
    "BenchRun",
    "PassageMap",
    "bench_namespace",
    "check_memory_limits",
    "check_writable",
    "peak_rss_mb",
    "redact_url",
    "resolve_extractor",
    "run_bench",
    "run_bench_detailed",
    "sqlite_url",
    "write_json",
]

log = logging.getLogger("graphmem.bench")

_RANKS = tuple[str, ...]


def run_bench(
    path: str | Path,
    *,
    store: str | Store | None = None,
    extractor: str | Extractor = "auto",
    k_values: Sequence[int] | None = None,
    json_path: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    embedder: str | Embedder = "local",
    max_passage_bytes: int = MAX_PASSAGE_BYTES,
    console: Console | None = None,
    show_table: bool = True,
    strict: bool = False,
    per_question: str | Path | None = None,
    passage_search: PassageSearchSettings | None = None,
) -> dict[str, Any]:
    """Run the benchmark on a dataset folder; print the table; return (and write) the JSON dict.

    ``per_question``: also write one JSON line per question there (its gold ids, each method's
    top ranks and recall at each k), so a regression is visible where it happens.
    ``passage_search``: graphmem's passage settings (default :class:`PassageSearchSettings`).

    ``store``: a store URL or Store (default: a fresh temporary SQLite file, deleted afterwards).
    ``extractor``: ``"auto"`` (``triples.jsonl`` if the folder has one, else ``"nlp"``),
    ``"precomputed"``, ``"nlp"``, any other name Memory accepts, or an Extractor instance.
    ``limit``: ask only the first N questions (the whole corpus is still ingested); in a
    conversation folder, N questions round-robin over categories, and only their conversations
    are ingested.
    ``k_values``: default (2, 5) for multihop folders, (5, 10, 25) for conversation folders
    (evidence-turn recall: :mod:`graphmem.bench.conversation_runner`), (5, 10, 50) for
    LongMemEval-layout ones (:mod:`graphmem.bench.longmemeval`).
    ``strict``: refuse a folder whose questions name gold ids it does not hold; by default such
    questions are skipped with one warning and listed in the JSON's ``skipped_questions``.

    >>> run_bench("../shared/bench/musique_train", limit=10)["kind"]  # doctest: +SKIP
    'multihop'
    """
    if json_path is not None:
        check_writable(json_path)
    from graphmem.bench.documents import is_documents_folder, run_documents_bench

    if is_documents_folder(path):
        docs_run = run_documents_bench(
            path,
            store=store,
            extractor=extractor,
            k_values=(2, 5) if k_values is None else k_values,
            limit=limit,
            progress=progress,
            embedder=embedder,
            passage_search=passage_search,
        )
        if show_table:
            print_run(docs_run.run, console)
            from rich.console import Console as _Console

            (console or _Console()).print(
                f"{docs_run.files} files, {docs_run.run.corpus_passages} chunks; gold quotes "
                f"reachable: {docs_run.gold_reachable}/{docs_run.gold_quotes}"
                + "".join(f"\n  {p}" for p in docs_run.file_problems)
            )
        docs_data = docs_run.to_json()
        if json_path is not None:
            write_json(docs_data, json_path)
        if per_question is not None:
            _write_per_question(docs_run.run, per_question)
        return docs_data
    if detect_kind(Path(path)) == "conversation":
        conv = run_conversation_bench(
            path,
            store=store,
            extractor=extractor,
            k_values=k_values,
            limit=limit,
            progress=progress,
            embedder=embedder,
            max_passage_bytes=max_passage_bytes,
            strict=strict,
        )
        if show_table:
            print_conversation(conv, console)
        conv_data = conv.to_json()
        if json_path is not None:
            write_json(conv_data, json_path)
        if per_question is not None:
            _write_records(conv.per_question(), per_question)
        return conv_data
    result = run_bench_detailed(
        path,
        store=store,
        extractor=extractor,
        k_values=(2, 5) if k_values is None else k_values,
        limit=limit,
        progress=progress,
        embedder=embedder,
        max_passage_bytes=max_passage_bytes,
        strict=strict,
        passage_search=passage_search,
    )
    if show_table:
        print_run(result, console)
    data = result.to_json()
    if json_path is not None:
        write_json(data, json_path)
    if per_question is not None:
        _write_per_question(result, per_question)
    return data


def _write_per_question(run: BenchRun, path: str | Path) -> None:
    _write_records(run.per_question(), path)


def _write_records(records: Sequence[dict[str, Any]], path: str | Path) -> None:
    lines = (json.dumps(rec, ensure_ascii=False) for rec in records)
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def run_bench_detailed(
    path: str | Path,
    *,
    store: str | Store | None = None,
    extractor: str | Extractor = "auto",
    k_values: Sequence[int] = (2, 5),
    limit: int | None = None,
    progress: bool = True,
    embedder: str | Embedder = "local",
    max_passage_bytes: int = MAX_PASSAGE_BYTES,
    strict: bool = False,
    passage_search: PassageSearchSettings | None = None,
) -> BenchRun:
    """Like :func:`run_bench`, returning the full :class:`BenchRun` (per-question rankings too)."""
    try:
        ks = normalize_k_values(k_values)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive number of questions, got {limit!r}")

    dataset = load_dataset(path, max_passage_bytes=max_passage_bytes, strict=strict)
    if isinstance(dataset, ConversationDataset):
        raise ConfigError(
            f"{dataset.path}: this is a conversation dataset (turns.jsonl): use run_bench, or "
            "graphmem.bench.conversation_runner.run_conversation_bench"
        )
    check_memory_limits(dataset, ks[-1])
    ex, ex_name = resolve_extractor(extractor, dataset)
    namespace = bench_namespace(dataset.name, ex_name)

    with tempfile.TemporaryDirectory(prefix="graphmem-bench-") as tmp:
        if store is None:
            store_arg: str | Store = sqlite_url(Path(tmp) / "bench.db")
            store_label = TEMPORARY_STORE
        else:
            store_arg = store
            store_label = redact_url(store if isinstance(store, str) else store.url)
        from graphmem.memory import Memory

        mem = Memory(
            store_arg,
            embedder=embedder,
            extractor=ex,
            namespace=namespace,
            passage_search=passage_search,
        )
        try:
            run = _run_multihop(mem, dataset, ks, limit=limit, progress=progress)
            if isinstance(store_arg, str) and dataset.questions:
                run.cold = cold_start(store_arg, namespace, dataset.questions[0].question)
        finally:
            # a Store the caller passed in stays open: it is theirs
            if isinstance(store_arg, str):
                mem.close()
    run.store, run.extractor, run.namespace = store_label, ex_name, namespace
    run.peak_rss_mb = peak_rss_mb()
    return run


def _run_multihop(
    mem: Memory,
    ds: MultihopDataset,
    ks: list[int],
    *,
    limit: int | None,
    progress: bool,
) -> BenchRun:
    from tqdm import tqdm

    ns = mem.namespace
    groups = ds.groups()
    questions = ds.questions[:limit] if limit else ds.questions
    max_k = ks[-1]
    docs = corpus_documents(groups)

    t0 = time.perf_counter()
    report = mem.add_many(docs, progress=progress)
    ingest_s = time.perf_counter() - t0
    pmap = PassageMap(mem.store, ns, groups)
    stored = mem.store.stats(ns).passages
    if stored > len(groups):
        log.warning(
            "namespace %r of the store holds %d passages, %d of them not from this dataset; "
            "they take part in retrieval",
            ns,
            stored,
            stored - len(groups),
        )

    texts = [q.question for q in questions]
    golds = [q.gold_ids for q in questions]
    rankings: dict[str, list[list[_RANKS]]] = {}
    method_ms: dict[str, float] = {}

    # graphmem: one untimed warm-up (model load, graph projection), then every question timed
    mem.search(texts[0], k=max_k)
    query_ms: list[float] = []
    modes: dict[str, int] = {}
    ranked: list[list[_RANKS]] = []
    for text in tqdm(texts, desc="questions", unit="q", disable=not progress):
        t = time.perf_counter()
        res = mem.search(text, k=max_k)
        query_ms.append((time.perf_counter() - t) * 1e3)
        modes[res.mode] = modes.get(res.mode, 0) + 1
        ranked.append([pmap.resolve(h.passage.id, h.passage) for h in res.passages[:max_k]])
    rankings["graphmem"] = ranked
    method_ms["graphmem"] = sum(query_ms) / len(query_ms)

    t = time.perf_counter()
    dense_hits = dense_search(mem.store, mem.embedder, ns, texts, max_k)
    method_ms["dense"] = (time.perf_counter() - t) * 1e3 / len(texts)
    rankings["dense"] = [[pmap.resolve(pid) for pid, _ in hits[:max_k]] for hits in dense_hits]

    bm25 = BM25Index([g.text for g in groups])
    t = time.perf_counter()
    bm25_hits = bm25.search(texts, max_k)
    method_ms["bm25"] = (time.perf_counter() - t) * 1e3 / len(texts)
    rankings["bm25"] = [[groups[i].corpus_ids for i, _ in hits] for hits in bm25_hits]

    methods = {m: multihop_scores(rankings[m], golds, ks) for m in METHODS}
    return BenchRun(
        dataset=ds.name,
        kind="multihop",
        store="",
        extractor="",
        namespace=ns,
        k_values=ks,
        methods=methods,
        ingest_s=ingest_s,
        query_ms=query_ms,
        peak_rss_mb=0.0,
        questions=len(questions),
        corpus_passages=len(ds.passages),
        stored_passages=len(groups),
        skipped=list(ds.skipped),
        skipped_questions=list(ds.skipped_questions),
        ingest=report,
        method_ms=method_ms,
        modes=modes,
        bm25_stemmer=bm25.stemmer_name,
        question_ids=[q.id for q in questions],
        rankings=rankings,
        golds=[tuple(g) for g in golds],
    )


def corpus_documents(groups: Sequence[PassageGroup]) -> list[Document]:
    """One document per passage group (its first corpus id as source and metadata), as every
    benchmark ingests a multi-hop corpus."""
    return [
        Document(
            text=g.text,
            source=g.corpus_ids[0],
            title=g.title or None,
            metadata={"corpus_id": g.corpus_ids[0]},
        )
        for g in groups
    ]


class PassageMap:
    """Stored passage id -> the corpus ids it stands for (identical texts share one passage).

    Ids are computed the way ingestion computes them; a passage not found that way (another
    ingest path, or data added to the namespace outside this run) is looked up once in the store
    and mapped through its ``corpus_id`` metadata or its source; if that fails it maps to no
    corpus id (it still takes its rank).
    """

    def __init__(self, store: Store, namespace: str, groups: Sequence[PassageGroup]) -> None:
        self.store, self.namespace = store, namespace
        self.by_pid: dict[str, _RANKS] = {
            passage_id(namespace, g.text): g.corpus_ids for g in groups
        }
        self.by_cid: dict[str, _RANKS] = {c: g.corpus_ids for g in groups for c in g.corpus_ids}
        self._other: dict[str, _RANKS] = {}

    def resolve(self, pid: str, passage: Passage | None = None) -> _RANKS:
        ids = self.by_pid.get(pid)
        if ids is not None:
            return ids
        if pid not in self._other:
            if passage is None:
                passage = self.store.get_passages(self.namespace, [pid]).get(pid)
            self._other[pid] = self._from_passage(passage)
        return self._other[pid]

    def _from_passage(self, passage: Passage | None) -> _RANKS:
        if passage is None:
            return ()
        for key in (passage.metadata.get("corpus_id"), passage.source):
            if isinstance(key, str) and key in self.by_cid:
                return self.by_cid[key]
        return ()


# ------------------------------------------------------------------------------ helpers


def check_memory_limits(ds: MultihopDataset, max_k: int) -> None:
    """Refuse, before anything is written, what ``Memory`` would refuse in the middle of a run."""
    from graphmem.ingest.passages import MAX_PASSAGE_CHARS
    from graphmem.memory import MAX_K, MAX_QUESTION_CHARS

    if max_k > MAX_K:
        raise ConfigError(f"k values must be at most {MAX_K}, got {max_k}")
    corpus = str(ds.path / CORPUS)
    for p in ds.passages:
        size = len(p.document_text.strip())
        if size > MAX_PASSAGE_CHARS:
            raise InputError(
                f"passage {p.id!r} is {size:,} characters with its title; a stored passage may "
                f"have at most {MAX_PASSAGE_CHARS:,}: split it",
                path=corpus,
                line=p.line,
                field="text",
            )
    questions = str(ds.path / QUESTIONS)
    for q in ds.questions:
        if len(q.question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"question {q.id!r} is {len(q.question):,} characters; the limit is "
                f"{MAX_QUESTION_CHARS:,}",
                path=questions,
                line=q.line,
                field="question",
            )


def resolve_extractor(spec: str | Extractor, ds: MultihopDataset) -> tuple[Extractor | str, str]:
    """The extractor to give Memory, and its name for the report."""
    if not isinstance(spec, str):
        return spec, spec.name
    name = spec.strip().lower()
    if name == "auto":
        name = "precomputed" if ds.triples_path is not None else "nlp"
    if name == "precomputed":
        if ds.triples_path is None:
            raise ConfigError(
                f"{ds.path}: extractor 'precomputed' needs a triples.jsonl in the dataset folder"
            )
        from graphmem.memory import make_extractor

        extractor = make_extractor(name, triples=ds.triples_path)
        assert extractor is not None
        return extractor, name
    return name, name
