"""What both RAG plug-ins share: calling a Memory or a client, sync or async, and the metadata.

Passages and episodes both become documents, in one list by relevance (see :func:`ranked_hits`).

A "memory" here is anything with graphmem's ``search(question, *, k, namespace)``: a
:class:`graphmem.Memory`, an :class:`graphmem.AsyncMemory`, or the client SDK's ``Client`` /
``AsyncClient`` (their interface mirrors Memory).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from datetime import datetime
from typing import Any

from graphmem.errors import ConfigError
from graphmem.models import EpisodeHit, FactHit, PassageHit, SearchResult, is_current, mixed


def check_memory(memory: Any) -> Any:
    """``memory`` if it can be searched, else a clear error."""
    if not callable(getattr(memory, "search", None)):
        raise ConfigError(
            f"expected a graphmem Memory, AsyncMemory, Client or AsyncClient, got {type(memory).__name__}"
        )
    return memory


def _is_async(memory: Any) -> bool:
    return inspect.iscoroutinefunction(memory.search)


def _kwargs(k: int, namespace: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"k": k}
    if namespace is not None:
        kwargs["namespace"] = namespace
    return kwargs


def _as_result(found: Any) -> SearchResult:
    return found if isinstance(found, SearchResult) else SearchResult.model_validate(found)


def _run_coroutine(make: Any) -> Any:
    """Run ``make()`` (a coroutine factory) to completion from sync code, loop or no loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Called from inside a running loop (a sync retriever used in async code): a loop of its own
    # on a helper thread, so the caller's loop is never re-entered.
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="graphmem-retriever")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def search_sync(memory: Any, question: str, k: int, namespace: str | None) -> SearchResult:
    """``memory.search`` from sync code (an async memory's wrapped sync Memory when it has one)."""
    inner = getattr(memory, "sync", None)
    if _is_async(memory) and inner is not None and not _is_async(inner):
        memory = inner
    kwargs = _kwargs(k, namespace)
    if _is_async(memory):
        return _as_result(_run_coroutine(lambda: memory.search(question, **kwargs)))
    return _as_result(memory.search(question, **kwargs))


async def search_async(memory: Any, question: str, k: int, namespace: str | None) -> SearchResult:
    """``memory.search`` from async code: awaited when async, else on a worker thread."""
    kwargs = _kwargs(k, namespace)
    if _is_async(memory):
        return _as_result(await memory.search(question, **kwargs))
    return _as_result(await asyncio.to_thread(memory.search, question, **kwargs))


Hit = PassageHit | EpisodeHit


def ranked_hits(result: SearchResult, k: int | None = None) -> list[Hit]:
    """Passages and episodes in one list by ``relevance`` (one scale for both kinds, each
    kind's own order kept), at most ``k`` (all when ``None``). An episode-only store gives
    episodes, a document store passages.
    """
    return mixed(result, k)


def hit_id(hit: Hit) -> str:
    """The id of the passage or episode behind ``hit``."""
    return hit.passage.id if isinstance(hit, PassageHit) else hit.episode.id


def hit_text(hit: Hit) -> str:
    """The text a framework document carries: the passage, or the episode as stored."""
    return hit.passage.text if isinstance(hit, PassageHit) else hit.episode.text


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def fact_metadata(f: FactHit) -> dict[str, Any]:
    """One fact as plain data, with when it held (ISO 8601) and whether it still does."""
    return {
        "fact_id": f.fact.id,
        "subject": f.subject_name,
        "predicate": f.fact.predicate,
        "object": f.object_name,
        "text": f.fact.text,
        "score": f.score,
        "relevance": f.relevance,
        "subject_id": f.fact.subject,
        "object_id": f.fact.object,
        "valid_at": _iso(f.fact.valid_at),
        "invalid_at": _iso(f.fact.invalid_at),
        "expired_at": _iso(f.fact.expired_at),
        "current": is_current(f.fact),
    }


def hit_metadata(hit: Hit, rank: int, result: SearchResult) -> dict[str, Any]:
    """The metadata both plug-ins attach to a retrieved passage or episode (JSON-ready).

    ``kind`` says which; both carry ``relevance`` (in [0, 1], one scale for both kinds),
    ``score`` (the ranker's own), ``rank``, the result's ``confidence`` and ``answerable``,
    ``namespace``, ``mode`` and ``facts`` (with ``valid_at``/``invalid_at``/``expired_at``/
    ``current``).
    """
    if isinstance(hit, EpisodeHit):
        return episode_metadata(hit, rank, result)
    p = hit.passage
    return {
        "kind": "passage",
        "passage_id": p.id,
        "relevance": hit.relevance,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "rank": rank,
        "confidence": result.confidence,
        "answerable": result.answerable,
        "source": p.source,
        "title": p.title,
        "namespace": p.namespace,
        "mode": result.mode,
        "path": list(hit.path),
        "facts": [fact_metadata(f) for f in hit.facts],
        "passage_metadata": dict(p.metadata),
    }


def episode_metadata(hit: EpisodeHit, rank: int, result: SearchResult) -> dict[str, Any]:
    """An episode hit as plain data: speaker, time, session, its facts and session context."""
    ep = hit.episode
    return {
        "kind": "episode",
        "episode_id": ep.id,
        "relevance": hit.relevance,
        "score": hit.score,
        "rank": rank,
        "confidence": result.confidence,
        "answerable": result.answerable,
        "speaker": ep.speaker,
        "time": ep.time.isoformat(),
        "session": ep.session,
        "source": ep.source,
        "namespace": ep.namespace,
        "mode": result.mode,
        "facts": [fact_metadata(f) for f in hit.facts],
        "context": [
            {"episode_id": c.id, "speaker": c.speaker, "time": c.time.isoformat(), "text": c.text}
            for c in hit.context
        ],
        "episode_metadata": dict(ep.metadata),
    }
