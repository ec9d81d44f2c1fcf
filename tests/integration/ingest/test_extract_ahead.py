"""Extraction one batch ahead (graphmem.ingest.ahead) on a real SQLite file with real spaCy and
MiniLM: the same graph as one batch at a time, the extractor on a worker thread, and a failure
in one batch's extraction leaves the batches before it written and nothing of its own."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from graphmem import Memory
from graphmem.embed.local import LocalEmbedder
from graphmem.extract.base import Extraction
from graphmem.ids import ENTITY, is_kind
from graphmem.ingest.episodes import EpisodeIngestSettings
from graphmem.models import Passage
from tests.support.api import demo_docs, shared_extractor, snapshot

DATA = Path(__file__).resolve().parents[2] / "data" / "temporal_episodes.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
ITEMS = [
    {k: r[k] for k in ("session", "time", "speaker", "text")}
    for r in ROWS
    if r["type"] == "episode"
]


class Watched:
    """The shared spaCy extractor, noting the thread of each call (and failing on call ``fail``)."""

    def __init__(self, fail: int | None = None) -> None:
        self.inner = shared_extractor()
        self.name, self.version, self.cacheable = "spacy", self.inner.version, True
        self.threads: list[str] = []
        self.fail = fail

    def extract(self, passages: Sequence[Passage]) -> list[Extraction]:
        self.threads.append(threading.current_thread().name)
        if self.fail is not None and len(self.threads) == self.fail:
            raise RuntimeError("extractor down")
        out: list[Extraction] = self.inner.extract(passages)
        return out


def ingest(path: Path, embedder: LocalEmbedder, extractor: Any, *, ahead: bool) -> Memory:
    return Memory(
        f"sqlite:///{path}",
        embedder=embedder,
        extractor=extractor,
        episode_ingest=EpisodeIngestSettings(extract_ahead=ahead),
    )


def test_ahead_writes_the_graph_one_batch_at_a_time_writes(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    snaps, reports, facts = [], [], []
    for ahead in (False, True):
        extractor = Watched()
        with ingest(tmp_path / f"{ahead}.db", embedder, extractor, ahead=ahead) as mem:
            report = mem.add_episodes(ITEMS, batch_size=4)
            reports.append((report.episodes_added, report.episodes_skipped, report.facts_added))
            snaps.append(snapshot(mem))
            ids = [n for n in snaps[-1]["nodes"] if is_kind(n, ENTITY)]
            rows = mem.store.facts_between("default", ids)
            clock = {"created_at", "expired_at"}  # when it was written, not what it says
            facts.append(sorted(json.dumps(f.model_dump(mode="json", exclude=clock)) for f in rows))
        main = threading.current_thread().name
        if ahead:
            assert extractor.threads and all(t != main for t in extractor.threads)
        else:
            assert set(extractor.threads) == {main}
    assert reports[0] == reports[1]
    assert reports[0][1] == 1  # the set repeats one turn
    assert snaps[0] == snaps[1]
    assert facts[0] == facts[1] and facts[0]  # texts, times, what ended them


def test_a_turn_repeated_in_the_next_batch_is_written_once(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    turn = ITEMS[0]
    items = [ITEMS[1], turn, ITEMS[2], turn, ITEMS[3]]  # batch_size 2: [1, t] [2, t] [3]
    with ingest(tmp_path / "m.db", embedder, Watched(), ahead=True) as mem:
        report = mem.add_episodes(items, batch_size=2)
        assert (report.episodes_added, report.episodes_skipped) == (4, 1)
        assert mem.stats().episodes == 4
        again = mem.add_episodes(items, batch_size=2)
        assert (again.episodes_added, again.episodes_skipped) == (0, 5)


@pytest.mark.parametrize("ahead", [True, False])
def test_a_failed_extraction_leaves_the_batches_before_it(
    tmp_path: Path, embedder: LocalEmbedder, ahead: bool
) -> None:
    with ingest(tmp_path / "m.db", embedder, Watched(fail=3), ahead=ahead) as mem:
        with pytest.raises(RuntimeError, match="extractor down"):
            mem.add_episodes(ITEMS, batch_size=5)
        assert mem.stats().episodes == 10  # batches 1 and 2, nothing of batch 3
    with ingest(tmp_path / "m.db", embedder, Watched(), ahead=ahead) as mem:
        report = mem.add_episodes(ITEMS, batch_size=5)
        assert report.episodes_skipped == 11 and mem.stats().episodes == len(ITEMS) - 1


def docs() -> list[dict[str, Any]]:
    return demo_docs()[:12]


def test_documents_ahead_give_the_graph_of_one_batch_at_a_time(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    snaps, reports = [], []
    for ahead in (False, True):
        extractor = Watched()
        path = tmp_path / f"{ahead}.db"
        with Memory(f"sqlite:///{path}", embedder=embedder, extractor=extractor) as mem:
            mem._ingestor.extract_ahead = ahead
            report = mem.add_many(docs() + docs()[:2], batch_size=5)  # the last two come again
            reports.append((report.passages_added, report.passages_skipped, report.facts_added))
            snaps.append(snapshot(mem))
        main = threading.current_thread().name
        assert (main in extractor.threads) != ahead
    assert reports[0] == reports[1] and reports[0][1] == 2
    assert snaps[0] == snaps[1]


def test_documents_repeated_in_the_next_batch_are_written_once(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    d = docs()
    items = [d[0], d[1], d[2], d[1], d[3]]  # batch_size 2: [0, 1] [2, 1] [3]
    with Memory(f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor=Watched()) as mem:
        report = mem.add_many(items, batch_size=2)
        assert (report.passages_added, report.passages_skipped) == (4, 1)
        assert mem.stats().passages == 4


def test_a_failed_document_extraction_leaves_the_batches_before_it(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    with Memory(f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor=Watched(2)) as mem:
        with pytest.raises(RuntimeError, match="extractor down"):
            mem.add_many(docs(), batch_size=5)
        assert mem.stats().passages == 5
        mem._ingestor.extractor = Watched()
        report = mem.add_many(docs(), batch_size=5)
        assert (report.passages_added, report.passages_skipped) == (7, 5)
