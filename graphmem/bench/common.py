"""What every benchmark run shares: the methods, store and namespace naming, skipped-question
records, timing helpers, the result file, and :class:`BenchRun` (a multihop run's figures).

The runners (:mod:`graphmem.bench.runner`, :mod:`graphmem.bench.conversation_runner`) and the
table (:mod:`graphmem.bench.report`) import from here and never from each other's modules the
other way round, so the package has no import cycle.

>>> bench_namespace("musique train", "nlp")
'bench.musique_train.nlp'
>>> redact_url("falkordb://u:secret@db:6379/g")
'falkordb://u:***@db:6379/g'
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from graphmem.bench.jsonl import Skipped
from graphmem.bench.metrics import percentile
from graphmem.errors import ConfigError
from graphmem.models import IngestReport

METHODS = ("graphmem", "dense", "bm25")
TEMPORARY_STORE = "sqlite (temporary)"
#: skipped questions named in the printed table (all of them are in the JSON)
SHOWN_SKIPPED = 3
_RANKS = tuple[str, ...]
_NS_UNSAFE = re.compile(r"[^A-Za-z0-9_.:@-]+")


def skipped_json(skipped: Sequence[Skipped]) -> list[dict[str, Any]]:
    """``[{"id", "line", "reason"}, ...]``: the questions a run left out, for the JSON."""
    return [{"id": s.id, "line": s.line, "reason": s.reason} for s in skipped]


def skipped_line(skipped: Sequence[Skipped]) -> str | None:
    """One line for the table naming the first few skipped questions, or None if there are none."""
    if not skipped:
        return None
    shown = "; ".join(f"{s.id} ({s.reason})" for s in skipped[:SHOWN_SKIPPED])
    more = f"; and {len(skipped) - SHOWN_SKIPPED} more" if len(skipped) > SHOWN_SKIPPED else ""
    n = len(skipped)
    return f"{n} question{'s' if n != 1 else ''} skipped (gold ids not in the data): {shown}{more}"


@dataclass
class BenchRun:
    """Everything one multihop run measured. :meth:`to_json` is the exact published JSON."""

    dataset: str
    kind: str
    store: str
    extractor: str
    namespace: str
    k_values: list[int]
    methods: dict[str, dict[str, float]]
    ingest_s: float
    query_ms: list[float]
    peak_rss_mb: float
    questions: int
    corpus_passages: int
    stored_passages: int
    skipped: list[Skipped] = field(default_factory=list)
    #: questions left out because a gold id names no passage (see ``strict``)
    skipped_questions: list[Skipped] = field(default_factory=list)
    ingest: IngestReport | None = None
    #: mean milliseconds per question of each method (dense: batched, so amortized)
    method_ms: dict[str, float] = field(default_factory=dict)
    #: how graphmem ranked: {"graph": n, "dense": m} (dense = fallback when no fact matched)
    modes: dict[str, int] = field(default_factory=dict)
    bm25_stemmer: str = "none"
    question_ids: list[str] = field(default_factory=list)
    #: method -> per question -> ranks (each rank: the corpus ids one stored passage stands for)
    rankings: dict[str, list[list[_RANKS]]] = field(default_factory=dict)
    #: per question, its gold corpus ids (in hop order)
    golds: list[tuple[str, ...]] = field(default_factory=list)
    #: a new process: ``import graphmem`` and its first answer (see :func:`cold_start`)
    cold: dict[str, float] = field(default_factory=dict)

    def differs(self) -> list[int]:
        """Questions whose graphmem top 2 is not dense's top 2 (as sets): where the graph acted."""
        g, d = self.rankings.get("graphmem", []), self.rankings.get("dense", [])
        return [i for i, (a, b) in enumerate(zip(g, d, strict=True)) if set(a[:2]) != set(b[:2])]

    def methods_on(self, questions: Sequence[int]) -> dict[str, dict[str, float]]:
        """Each method's scores on the given questions only."""
        from graphmem.bench.metrics import multihop_scores

        golds = [self.golds[i] for i in questions]
        return {
            m: multihop_scores([self.rankings[m][i] for i in questions], golds, self.k_values)
            for m in METHODS
            if m in self.rankings
        }

    def per_question(self) -> list[dict[str, Any]]:
        """One record per question: its gold ids, each method's top ranks and recall at each k."""
        from graphmem.bench.metrics import recall_at_k

        top = max(self.k_values)
        out = []
        for i, qid in enumerate(self.question_ids):
            rec: dict[str, Any] = {"id": qid, "gold": list(self.golds[i])}
            for m in METHODS:
                ranks = self.rankings[m][i][:top]
                rec[m] = {
                    "ranks": [list(r) for r in ranks],
                    **{f"recall@{k}": recall_at_k(ranks, self.golds[i], k) for k in self.k_values},
                }
            out.append(rec)
        return out

    def to_json(self) -> dict[str, Any]:
        """The result in the exact schema of issue 2 (fractions 0–1, times in s and ms), plus
        the skipped questions (issue 12)."""
        return {
            "dataset": self.dataset,
            "kind": self.kind,
            "store": self.store,
            "extractor": self.extractor,
            "methods": {
                m: {key: round(float(v), 6) for key, v in self.methods[m].items()} for m in METHODS
            },
            "timings": timings_json(self.ingest_s, self.query_ms),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "skipped_questions": skipped_json(self.skipped_questions),
            **self._differs_json(),
            **({"cold_start": self.cold} if self.cold else {}),
        }

    def _differs_json(self) -> dict[str, Any]:
        if not self.golds or "dense" not in self.rankings:
            return {}
        which = self.differs()
        scores = self.methods_on(which) if which else {}
        return {
            "differs_from_dense": {
                "questions": len(which),
                "methods": {
                    m: {k: round(float(v), 6) for k, v in s.items()} for m, s in scores.items()
                },
            }
        }


def timings_json(ingest_s: float, query_ms: Sequence[float]) -> dict[str, float]:
    """``{"ingest_s", "query_ms_p50", "query_ms_p95"}``, rounded."""
    return {
        "ingest_s": round(ingest_s, 3),
        "query_ms_p50": round(percentile(query_ms, 50), 3),
        "query_ms_p95": round(percentile(query_ms, 95), 3),
    }


def bench_namespace(dataset: str, extractor: str) -> str:
    """``bench.<dataset>.<extractor>``: runs with different extractors never share a graph."""
    clean = _NS_UNSAFE.sub("_", dataset)[:80] or "dataset"
    return f"bench.{clean}.{_NS_UNSAFE.sub('_', extractor)[:32] or 'x'}"


def conversation_namespace(base: str, conversation_id: str) -> str:
    """``<base>.<conversation id>`` (unsafe characters replaced), at most 128 characters."""
    conv = _NS_UNSAFE.sub("_", conversation_id)[:40] or "conversation"
    return f"{base[: 127 - len(conv)]}.{conv}"


def sqlite_url(path: Path) -> str:
    """The store URL of an SQLite file (``sqlite:///`` followed by the path)."""
    return f"sqlite:///{path}"


def redact_url(url: str) -> str:
    """The URL without its password, so it can be printed and written to JSON."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB."""
    try:
        import resource
    except ImportError:  # Windows: psutil's peak working set
        import psutil

        info: Any = psutil.Process().memory_info()
        return float(getattr(info, "peak_wset", info.rss)) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def write_json(data: dict[str, Any], path: str | Path) -> Path:
    """Write ``data`` as JSON, atomically (a reader never sees half a file)."""
    target = check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def check_writable(path: str | Path) -> Path:
    """Fail early (before a long run) if a result file cannot be written there."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"cannot write {target}: it is a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from exc
    if not os.access(target.parent, os.W_OK):
        raise ConfigError(f"cannot write {target}: its folder is not writable")
    return target


_COLD = """
import sys, time
t0 = time.perf_counter()
import graphmem
t1 = time.perf_counter()
mem = graphmem.Memory(sys.argv[1], extractor=None, namespace=sys.argv[2])
mem.search(sys.argv[3], k=5)
t2 = time.perf_counter()
print(f"{t1 - t0:.6f} {t2 - t0:.6f}")
"""


def cold_start(store: str, namespace: str, question: str) -> dict[str, float]:
    """Seconds from a new process's ``import graphmem`` to that import done and to its first
    answer on ``store``, as a user's first ``graphmem search`` pays them; ``{}`` if it fails."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", _COLD, store, namespace, question],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=True,
        ).stdout.split()
        return {"import_s": round(float(out[0]), 3), "first_answer_s": round(float(out[1]), 3)}
    except (subprocess.SubprocessError, OSError, ValueError, IndexError):
        return {}
