"""Fit and measure graphmem's relevance calibration and result confidence (issue 20, item 4).

Over stores a ``graphmem bench`` run left behind (nothing is ingested here), each question is asked
as the harness asks it (``include=["episodes"]``, as of its ``question_time``) and the features of
:mod:`graphmem.retrieve.relevance` are collected with the label "answerable" (LoCoMo: not
adversarial; LongMemEval: not abstention). ``--cross`` adds, for LongMemEval, each question asked
in the other stored histories (a question about someone else's history: unanswerable there).

Prints: the fit of the cosine -> relevance logistic on LoCoMo's episode hits (evidence or not, classes weighted equally);
the confidence logistic fitted on each set and measured on the other (AUROC), both directions;
and the constants fitted on all sets together, with the threshold that maximizes balanced
accuracy.

    PYTHONPATH=. python benchmarks/fit_confidence.py \\
        --set locomo=/work/shared/bench/locomo_dev:sqlite:////tmp/scores/locomo.db:nlp \\
        --set lme=/work/shared/bench/longmemeval_dev:sqlite:////tmp/scores/lme.db:nlp --cross lme
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import numpy as np

from graphmem.bench.common import bench_namespace, conversation_namespace
from graphmem.bench.conversation import load_conversation
from graphmem.bench.longmemeval import is_abstention, question_times
from graphmem.bench.metrics import auroc
from graphmem.memory import Memory
from graphmem.retrieve.relevance import score_result, similarities

NAMES = ("top_sim", "coverage", "margin", "speaker", "named")


@dataclass
class Row:
    dataset: str
    qid: str
    answerable: bool
    x: list[float]
    confidence: float
    kind: str
    #: (speaker, cosine, text) of the top hits, best relevance first (for new features)
    hits: list[tuple[str, float, str]] | None = None


def collect(name: str, spec: str, cross: bool, k: int) -> tuple[list[Row], list[tuple[float, int]]]:
    """The rows of one ``folder:store-url:extractor`` set, and (cosine, is evidence) per hit."""
    folder, rest = spec.split(":", 1)
    url, extractor = rest.rsplit(":", 1)
    ds = load_conversation(folder)
    times = question_times(ds)
    base = bench_namespace(ds.name, extractor)
    mem = Memory(url, extractor="none", namespace=base)
    stored = set(mem.store.namespaces())
    rows: list[Row] = []
    hits: list[tuple[float, int]] = []
    questions = [q for q in ds.questions if q.evidence_ids or is_abstention(q)]
    convs = sorted({q.conversation_id for q in questions})
    for q in questions:
        own = conversation_namespace(base, q.conversation_id)
        targets = [(own, True)] if own in stored else []
        if cross:
            targets += [
                (conversation_namespace(base, c), False)
                for c in convs
                if c != q.conversation_id and conversation_namespace(base, c) in stored
            ]
        for ns, is_own in targets:
            res = mem.search(
                q.question,
                k=k,
                namespace=ns,
                include=["episodes"],
                as_of=times.get(q.id) if is_own else None,
            )
            vec = mem.embedder.embed([q.question], kind="query")[0]
            f = score_result(res, vec, mem.store, mem.embedder)
            label = is_own and not is_abstention(q) and q.category_name != "adversarial"
            kind = "own" if is_own else "cross"
            top = res.episodes[:10]
            sims = similarities(mem.store, mem.embedder, vec, [h.episode for h in top])
            shown = [
                (h.episode.speaker or "", s, h.episode.text[:300])
                for h, s in zip(top, sims, strict=True)
            ]
            rows.append(
                Row(
                    name,
                    q.id,
                    label,
                    [f.as_dict()[n] for n in NAMES],
                    res.confidence,
                    kind,
                    shown,
                )
            )
            if label and q.evidence_ids:
                gold = set(q.evidence_ids)
                for h, s in zip(top, sims, strict=True):
                    hits.append((s, int(str(h.episode.metadata.get("dia_id")) in gold)))
    mem.close()
    return rows, hits


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    l2: float = 1e-2,
    *,
    balanced: bool = True,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Newton's method on the L2-regularized log loss (classes weighted equally when
    ``balanced``, else a calibrated probability); returns [bias, w...]."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    pos = y.mean()
    weight = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos)) if balanced else np.ones(len(y))
    if groups is not None:  # every (group, class) cell weighs the same in all
        cells = list(zip(groups.tolist(), y.tolist(), strict=True))
        count = {c: cells.count(c) for c in set(cells)}
        weight = np.array([len(y) / (len(count) * count[c]) for c in cells])
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (weight * (p - y)) / len(y) + l2 * np.r_[0, w[1:]]
        hess = (xb.T * (weight * p * (1 - p))) @ xb / len(y) + l2 * np.diag(
            np.r_[0, np.ones(len(w) - 1)]
        )
        w -= np.linalg.solve(hess, grad)
    return w


def score(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(w[0] + x @ w[1:])))


def area(s: np.ndarray, y: np.ndarray) -> float:
    found = auroc(s[y == 1].tolist(), s[y == 0].tolist())
    return float("nan") if found is None else found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", default=[], help="name=folder:store-url:extractor")
    ap.add_argument("--rows", action="append", default=[], help="rows an earlier --out wrote")
    ap.add_argument("--cross", action="append", default=[], help="sets asked in other histories")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out", help="write the rows as JSON lines here")
    args = ap.parse_args()
    rows: list[Row] = []
    hits: list[tuple[float, int]] = []
    for item in args.set:
        name, spec = item.split("=", 1)
        r, h = collect(name, spec, name in args.cross, args.k)
        rows += r
        hits += h
    for path in args.rows:
        with open(path) as fh:
            rows += [Row(**json.loads(line)) for line in fh]
    if args.out:
        with open(args.out, "w") as fh:
            for r in rows:
                fh.write(json.dumps(r.__dict__) + "\n")
    if hits:
        s, e = np.array([[a] for a, _ in hits]), np.array([b for _, b in hits], dtype=float)
        w = fit_logistic(s, e, l2=0.0)
        print(
            f"relevance: {len(hits)} hits, {int(e.sum())} evidence; slope {w[1]:.3f}, "
            f"midpoint {-w[0] / w[1]:.3f}; AUROC of cosine {area(s[:, 0], e):.3f}"
        )
    sets = sorted({r.dataset for r in rows})
    for name in sets:
        for kind in ("own", "cross"):
            sub = [r for r in rows if r.dataset == name and (r.kind == kind or r.answerable)]
            y = np.array([r.answerable for r in sub], dtype=float)
            if kind == "cross" and not any(r.kind == "cross" for r in sub):
                continue
            conf = np.array([r.confidence for r in sub])
            print(
                f"{name}/{kind}: {int(y.sum())} answerable, {int(len(y) - y.sum())} not; "
                f"AUROC of the shipped confidence {area(conf, y)}"
            )
            xs = np.array([r.x for r in sub])
            for j, n in enumerate(NAMES):
                print(f"    feature {n}: AUROC {area(xs[:, j], y):.3f}")
    for fit in sets:
        for test in sets:
            if fit == test:
                continue
            a = [r for r in rows if r.dataset == fit]
            b = [r for r in rows if r.dataset == test]
            w = fit_logistic(np.array([r.x for r in a]), np.array([r.answerable for r in a], float))
            for kind in ("own", "cross"):
                bb = [r for r in b if r.kind == kind or r.answerable]
                if not any(not r.answerable for r in bb):
                    continue
                y = np.array([r.answerable for r in bb], dtype=float)
                print(
                    f"fit on {fit}, measured on {test}/{kind} (n={len(bb)}): "
                    f"AUROC {area(score(w, np.array([r.x for r in bb])), y):.3f}; w={np.round(w, 3).tolist()}"
                )
    w = fit_stratified(rows, sets)
    print(
        f"all sets, stratified (weights from within-set contrasts): bias {w[0]:.3f}, weights "
        f"{dict(zip(NAMES, np.round(w[1:], 3).tolist(), strict=True))}"
    )
    thresholds = []
    for name in sets:
        for kind in ("own", "cross"):
            sub = [r for r in rows if r.dataset == name and (r.kind == kind or r.answerable)]
            y = np.array([r.answerable for r in sub], dtype=float)
            if y.all() or not y.any():
                continue
            s = score(w, np.array([r.x for r in sub]))
            best = max(np.unique(s), key=lambda t: (s[y == 1] >= t).mean() + (s[y == 0] < t).mean())
            thresholds.append(best)
            print(
                f"    {name}/{kind} (n={len(sub)}: {int(y.sum())} answerable): AUROC "
                f"{area(s, y):.3f}; best balanced-accuracy threshold {best:.3f}"
            )
    print(f"threshold (mean of the sets' best): {np.mean(thresholds):.3f}")


def fit_stratified(rows: list[Row], sets: list[str]) -> np.ndarray:
    """One logistic over every set with an intercept per set (so no weight learns a set's
    shift), each (set, class) weighing the same; the shipped bias is the mean of the sets'
    intercepts."""
    x = np.array([r.x for r in rows])
    dummies = np.array([[r.dataset == s for s in sets[1:]] for r in rows], dtype=float)
    y = np.array([r.answerable for r in rows], dtype=float)
    groups = np.array([r.dataset for r in rows])
    w = fit_logistic(np.hstack([x, dummies]), y, groups=groups)
    k = x.shape[1]
    intercepts = [w[0]] + [w[0] + d for d in w[1 + k :]]
    return np.r_[np.mean(intercepts), w[1 : 1 + k]]


if __name__ == "__main__":
    main()
