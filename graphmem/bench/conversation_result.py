"""What one conversation run measured (:class:`ConversationRun`), shared by the runner
(:mod:`graphmem.bench.conversation_runner`), its tables (:mod:`graphmem.bench.conversation_report`)
and the LongMemEval scoring (:mod:`graphmem.bench.longmemeval`), so none imports another back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphmem.bench.common import METHODS, skipped_json, timings_json
from graphmem.bench.conversation import ConversationQuestion
from graphmem.bench.jsonl import Skipped
from graphmem.bench.metrics import auroc, recall_at_k
from graphmem.models import EpisodeReport

__all__ = ["ConversationRun", "unanswerable"]

#: the sets of questions whose answer is not in the history, by how the data marks them
UNANSWERABLE = ("abstention", "adversarial")


def unanswerable(q: ConversationQuestion) -> str | None:
    """``"abstention"`` (LongMemEval's ``abstention``), ``"adversarial"`` (LoCoMo's category 5),
    or None for a question memory can answer."""
    if q.extra.get("abstention") is True:
        return "abstention"
    return "adversarial" if q.category_name == "adversarial" else None


_Ranks = tuple[str, ...]


@dataclass
class ConversationRun:
    """Everything one conversation run measured. :meth:`to_json` is the exact published JSON."""

    dataset: str
    store: str
    extractor: str
    namespaces: list[str]
    k_values: list[int]
    methods: dict[str, dict[str, Any]]
    ingest_s: float
    query_ms: list[float]
    peak_rss_mb: float
    questions: int
    turns: int
    episodes: int
    skipped: list[Skipped] = field(default_factory=list)
    #: questions left out because an evidence turn is not in the data (see ``strict``)
    skipped_questions: list[Skipped] = field(default_factory=list)
    ingest: EpisodeReport | None = None
    method_ms: dict[str, float] = field(default_factory=dict)
    bm25_stemmer: str = "none"
    question_ids: list[str] = field(default_factory=list)
    rankings: dict[str, list[list[_Ranks]]] = field(default_factory=dict)
    kind: str = "conversation"
    #: the questions asked, in order (``question_ids``)
    asked: list[ConversationQuestion] = field(default_factory=list)
    #: seconds of ``add_episodes`` per conversation, and (``timing``) of embedding its turns alone
    ingest_by_conv: dict[str, float] = field(default_factory=dict)
    embed_by_conv: dict[str, float] = field(default_factory=dict)
    turns_by_conv: dict[str, int] = field(default_factory=dict)
    #: (``timing``) each question asked again at once, and dense search with its embedding
    query_ms_repeat: list[float] = field(default_factory=list)
    dense_ms: list[float] = field(default_factory=list)
    #: LongMemEval's session-level results (:mod:`graphmem.bench.longmemeval`), when scored so
    sessions: dict[str, Any] | None = None
    #: per-question records replacing the plain ones (session-level runs)
    records: list[dict[str, Any]] | None = None
    #: graphmem's ``SearchResult.confidence`` for each question asked, in order
    confidence: list[float] = field(default_factory=list)

    def confidence_auroc(self) -> dict[str, Any]:
        """How well ``confidence`` separates the answerable questions from each unanswerable
        set: ``{"answerable": n, "abstention": {"n", "auroc"}, "adversarial": {...}}`` (the
        AUROC is None when a set is empty)."""
        if len(self.confidence) != len(self.asked):
            return {}
        kinds = [unanswerable(q) for q in self.asked]
        pos = [c for c, k in zip(self.confidence, kinds, strict=True) if k is None]
        out: dict[str, Any] = {"answerable": len(pos)}
        for name in UNANSWERABLE:
            neg = [c for c, k in zip(self.confidence, kinds, strict=True) if k == name]
            area = auroc(pos, neg)
            out[name] = {"n": len(neg), "auroc": None if area is None else round(area, 6)}
        return out

    def to_json(self) -> dict[str, Any]:
        """``{"dataset", "kind", "store", "extractor", "methods", "timings", "peak_rss_mb",
        "skipped_questions"}``."""

        def rounded(scores: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in scores.items():
                if isinstance(value, dict):
                    out[key] = {name: rounded(row) for name, row in value.items()}
                elif key == "n":
                    out[key] = int(value)
                else:
                    out[key] = round(float(value), 6)
            return out

        out: dict[str, Any] = {
            "dataset": self.dataset,
            "kind": self.kind,
            "store": self.store,
            "extractor": self.extractor,
            "methods": {m: rounded(scores) for m, scores in self.methods.items()},
            "timings": timings_json(self.ingest_s, self.query_ms),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "skipped_questions": skipped_json(self.skipped_questions),
        }
        if self.confidence:
            out["confidence"] = self.confidence_auroc()
        if self.sessions is not None:
            out["timings"] = {**out["timings"], **self.sessions.get("timings", {})}
            out.update({k: v for k, v in self.sessions.items() if k != "timings"})
        return out

    def per_question(self) -> list[dict[str, Any]]:
        """One record per question: its evidence, each method's top ranks and recall at each k."""
        if self.records is not None:
            return self.records
        out = []
        for i, q in enumerate(self.asked):
            rec: dict[str, Any] = {
                "id": q.id,
                "conversation_id": q.conversation_id,
                "category": q.category_name,
                "gold": list(q.evidence_ids),
            }
            if i < len(self.confidence):
                rec["confidence"] = self.confidence[i]
            for m in METHODS:
                ranks = self.rankings[m][i]
                rec[m] = {"ranks": [list(r) for r in ranks]}
                if q.evidence_ids:
                    rec[m].update(
                        {
                            f"recall@{k}": recall_at_k(ranks, q.evidence_ids, k)
                            for k in self.k_values
                        }
                    )
            out.append(rec)
        return out
