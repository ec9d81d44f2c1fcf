"""Extraction one batch ahead: the extractor reads the next batch while this one is written.

An ingest runs extract → build → embed → write, one batch after another. The extractor (spaCy's
parser, an LLM's round trips) and the embedder (PyTorch) each leave a core, or the network, idle
while the other runs, and both release the GIL in their inner loops. So :func:`run_ahead` starts
the next batch's extraction on one worker thread, then writes the current batch.

Only the extractor's call moves to the worker. Everything that reads or writes the store stays on
the calling thread, in the order a batch-at-a-time ingest uses, and a batch is written only after
the one before it. A batch whose extraction failed raises when its turn to be written comes, after
the batches before it are written; so does an error in reading the input.

>>> done = []
>>> run_ahead(iter([[1, 2], [3]]), lambda chunk, submit: submit(sum, chunk), lambda f: done.append(f.result()))
>>> done
[3, 3]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from graphmem.extract.base import Extraction, Extractor
from graphmem.ingest.chunking import extraction_text
from graphmem.ingest.passages import extraction_key
from graphmem.models import IngestReport, Passage
from graphmem.store.base import Store

__all__ = ["PreparedDocs", "Submit", "run_ahead", "run_now", "start_extraction"]

C = TypeVar("C")
P = TypeVar("P")
_END: Any = object()


class Submit(Protocol):
    """Runs ``fn(arg)`` (on a worker thread, or at once) and gives its future."""

    def __call__(self, fn: Callable[[Any], Any], arg: Any, /) -> Future[Any]: ...


@dataclass
class PreparedDocs:
    """A batch of documents cut into passages: those to store, every (passage, source) pair,
    what the store held of them, their extraction (waited for when called), and its size."""

    todo: list[Passage]
    sources: list[tuple[str, str]]
    existing: dict[str, str]
    extracted: Callable[[], list[Extraction]]
    size: int


def run_now(fn: Callable[[Any], Any], arg: Any, /) -> Future[Any]:
    """A :class:`Submit` that runs ``fn`` at once, on the calling thread."""
    out: Future[Any] = Future()
    try:
        out.set_result(fn(arg))
    except Exception as exc:  # kept for .result(), as a worker thread's would be
        out.set_exception(exc)
    return out


def run_ahead(
    chunks: Iterable[C],
    prepare: Callable[[C, Submit], P],
    finish: Callable[[P], None],
    *,
    ahead: bool = True,
) -> None:
    """``prepare`` each chunk (it may ``submit`` its extraction), then ``finish`` (write) it.

    With ``ahead``, chunk i + 1 is prepared, its extraction started on a worker thread, before
    chunk i is finished; an error while reading or preparing chunk i + 1 finishes chunk i first.
    """
    if not ahead:
        for chunk in chunks:
            finish(prepare(chunk, run_now))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphmem-extract") as pool:
        source = iter(chunks)
        pending: list[P] = []  # the chunk prepared and not yet finished (at most one)
        while True:
            try:
                chunk = next(source, _END)
                if chunk is _END:
                    break
                nxt = prepare(chunk, pool.submit)
            except Exception:
                for prepared in pending:
                    finish(prepared)
                raise
            for prepared in pending:
                finish(prepared)
            pending = [nxt]
        for prepared in pending:
            finish(prepared)


def start_extraction(
    extractor: Extractor | None,
    store: Store,
    passages: Sequence[Passage],
    report: IngestReport,
    submit: Submit = run_now,
) -> Callable[[], list[Extraction]]:
    """Look ``passages``' extractions up in ``store``'s cache now and ``submit`` the extractor's
    call for the rest; the returned call waits for it and gives every extraction, in order."""
    if extractor is None:
        return lambda: [Extraction() for _ in passages]
    keys = [extraction_key(extractor, p) for p in passages]
    cached = store.cached_extractions(keys) if extractor.cacheable else {}
    todo = [i for i, key in enumerate(keys) if key not in cached]
    report.extraction_cache_hits += len(passages) - len(todo)
    # the extractor reads a chunk's body: a heading is context, never part of a name
    views = [
        p
        if (body := extraction_text(p.text, p.metadata)) == p.text
        else p.model_copy(update={"text": body})
        for p in (passages[i] for i in todo)
    ]
    future = submit(extractor.extract, views) if todo else None

    def result() -> list[Extraction]:
        fresh: list[Extraction] = future.result() if future is not None else []
        if len(fresh) != len(todo):
            raise RuntimeError(
                f"extractor {extractor.name} returned {len(fresh)} results for {len(todo)} passages"
            )
        report.extraction_calls += len(todo)
        out: list[Extraction] = [
            Extraction.model_validate_json(cached[key]) if key in cached else Extraction()
            for key in keys
        ]
        for i, got in zip(todo, fresh, strict=True):
            out[i] = got
            for name, value in got.usage.items():
                report.usage[name] = report.usage.get(name, 0.0) + value
        return out

    return result
