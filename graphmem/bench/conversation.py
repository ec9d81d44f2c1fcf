"""The conversation layout (LoCoMo): ``turns.jsonl`` and ``questions.jsonl``.

Loaded and validated here; the conversation benchmark itself (turns ingested as episodes,
evidence-turn recall per category) is :mod:`graphmem.bench.conversation_runner`.

>>> ds = load_conversation("../shared/bench/locomo_dev")  # doctest: +SKIP
>>> len(ds.turns), len(ds.questions)  # doctest: +SKIP
(788, 304)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from graphmem.bench.jsonl import (
    MAX_PASSAGE_BYTES,
    QUESTIONS,
    TURNS,
    Fields,
    Skipped,
    dataset_name,
    dedupe,
    iter_jsonl,
    json_type,
    line_limit,
    no_questions,
    warn_skipped_questions,
)
from graphmem.errors import InputError

log = logging.getLogger("graphmem.bench")


@dataclass(frozen=True, slots=True)
class Turn:
    """One line of ``turns.jsonl`` (a conversation turn)."""

    conversation_id: str
    session: str
    session_time: str
    dia_id: str
    speaker: str
    text: str
    blip_caption: str | None
    line: int
    #: the dataset's own id of the session (LongMemEval's ``session_id``), if it gives one
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationQuestion:
    """One line of a conversation ``questions.jsonl``; evidence is a list of turn ``dia_id``s."""

    conversation_id: str
    id: str
    question: str
    answer: Any
    category: int
    category_name: str
    evidence_ids: tuple[str, ...]
    line: int
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class ConversationDataset:
    """A validated conversation folder (LoCoMo layout)."""

    name: str
    path: Path
    turns: list[Turn]
    questions: list[ConversationQuestion]
    skipped: list[Skipped] = field(default_factory=list)
    #: questions left out because an evidence turn is not among the kept turns
    skipped_questions: list[Skipped] = field(default_factory=list)
    kind: Literal["conversation"] = "conversation"

    def conversations(self) -> dict[str, list[Turn]]:
        """Turns of each conversation, in file order."""
        out: dict[str, list[Turn]] = {}
        for t in self.turns:
            out.setdefault(t.conversation_id, []).append(t)
        return out


def stratified(
    questions: Sequence[ConversationQuestion], limit: int | None
) -> list[ConversationQuestion]:
    """``limit`` questions taken round-robin over categories (in order of ``category``, then
    name; each category's questions in file order, abstention ones last), returned in file order;
    all of them without a limit. Deterministic, so a slice is the same on every run.

    >>> qs = [ConversationQuestion("c", f"q{i}", "?", None, i % 3, "", (), i) for i in range(9)]
    >>> [q.id for q in stratified(qs, 4)]
    ['q0', 'q1', 'q2', 'q3']
    >>> [q.id for q in stratified(sorted(qs, key=lambda q: q.category), 3)]
    ['q0', 'q1', 'q2']
    """
    if not limit or limit >= len(questions):
        return list(questions)
    groups: dict[tuple[int, str], list[ConversationQuestion]] = {}
    for q in questions:
        groups.setdefault((q.category, q.category_name), []).append(q)
    # abstention questions last in their category: a small slice asks answerable ones first
    queues = [
        sorted(groups[key], key=lambda q: q.extra.get("abstention") is True)
        for key in sorted(groups)
    ]
    picked: set[int] = set()
    depth = 0
    while len(picked) < limit:
        for queue in queues:
            if depth < len(queue) and len(picked) < limit:
                picked.add(id(queue[depth]))
        depth += 1
    return [q for q in questions if id(q) in picked]


def load_conversation(
    path: str | Path, *, max_passage_bytes: int = MAX_PASSAGE_BYTES, strict: bool = False
) -> ConversationDataset:
    """Load a conversation folder: ``turns.jsonl`` and ``questions.jsonl`` (LoCoMo layout).

    A turn with neither text nor ``blip_caption`` is skipped with a warning. A question whose
    evidence ids do not all name kept turns of its conversation is skipped (one warning counts
    them; ``skipped_questions`` lists them), or with ``strict`` is an error: the published
    LoCoMo has a few such questions. Times stay as written (``session_time``).
    """
    folder = Path(path)
    turns_path, questions_path = folder / TURNS, folder / QUESTIONS
    where = str(turns_path)
    turns: list[Turn] = []
    skipped: list[Skipped] = []
    seen: dict[tuple[str, str], int] = {}
    for lineno, obj in iter_jsonl(turns_path, max_line_bytes=line_limit(max_passage_bytes)):
        f = Fields(obj, where, lineno)
        conv = f.string("conversation_id")
        dia = f.string("dia_id")
        if (conv, dia) in seen:
            raise f.error(
                f"duplicate turn {dia!r} in conversation {conv!r} (first on line {seen[conv, dia]})",
                "dia_id",
            )
        seen[conv, dia] = lineno
        session_raw = obj.get("session")
        if isinstance(session_raw, bool) or not isinstance(session_raw, (int, str)):
            raise f.error(
                "required field is missing"
                if "session" not in obj
                else f"expected an integer or a string, got {json_type(session_raw)}",
                "session",
            )
        text = f.string("text", nonempty=False)
        caption = f.optional_string("blip_caption")
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > max_passage_bytes:
            raise f.error(
                f"turn {dia!r} has {size:,} bytes of text, more than the limit of "
                f"{max_passage_bytes:,} (raise max_passage_bytes to allow it)",
                "text",
            )
        turn = Turn(
            conversation_id=conv,
            session=str(session_raw),
            session_time=f.string("session_time"),
            dia_id=dia,
            speaker=f.string("speaker"),
            text=text,
            blip_caption=caption,
            line=lineno,
            session_id=f.optional_string("session_id"),
        )
        if not text.strip() and not (caption or "").strip():
            log.warning("%s:%d: skipping turn %r: empty text", where, lineno, dia)
            skipped.append(Skipped(where, lineno, f"{conv}/{dia}", "empty text"))
            continue
        turns.append(turn)
    if not turns:
        raise InputError("no turns (the file is empty or every turn was skipped)", path=where)
    kept = {(t.conversation_id, t.dia_id) for t in turns}
    convs = {t.conversation_id for t in turns}
    skipped_ids = {s.id: s for s in skipped}

    qwhere = str(questions_path)
    questions: list[ConversationQuestion] = []
    qseen: dict[str, int] = {}
    dangling: list[Skipped] = []
    known = {"conversation_id", "id", "question", "answer", "category", "category_name"}
    known |= {"evidence_dia_ids"}
    for lineno, obj in iter_jsonl(questions_path):
        f = Fields(obj, qwhere, lineno)
        conv = f.string("conversation_id")
        if conv not in convs:
            raise f.error(f"conversation {conv!r} has no turns in {TURNS}", "conversation_id")
        qid = f.string("id")
        if qid in qseen:
            raise f.error(f"duplicate question id {qid!r} (first on line {qseen[qid]})", "id")
        qseen[qid] = lineno
        category = f.integer("category")
        evidence = dedupe(f.string_list("evidence_dia_ids", required=False))
        question = f.string("question")
        missing = [dia for dia in evidence if (conv, dia) not in kept]
        if missing:
            dia = missing[0]
            s = skipped_ids.get(f"{conv}/{dia}")
            detail = f"was skipped ({s.reason}, {s.path}:{s.line})" if s else f"is not in {TURNS}"
            reason = f"evidence turn {dia!r} of conversation {conv!r} {detail}"
            if len(missing) > 1:
                reason += f" (and {len(missing) - 1} more evidence turns)"
            if strict:
                raise f.error(f"question {qid!r}: {reason}", "evidence_dia_ids")
            dangling.append(Skipped(qwhere, lineno, qid, reason))
            continue
        questions.append(
            ConversationQuestion(
                conversation_id=conv,
                id=qid,
                question=question,
                answer=obj.get("answer"),
                category=category,
                category_name=f.optional_string("category_name") or f"category {category}",
                evidence_ids=evidence,
                line=lineno,
                extra={k: v for k, v in obj.items() if k not in known},
            )
        )
    warn_skipped_questions(qwhere, dangling, len(questions) + len(dangling))
    if not questions:
        raise no_questions(qwhere, dangling)
    return ConversationDataset(
        name=dataset_name(folder),
        path=folder,
        turns=turns,
        questions=questions,
        skipped=skipped,
        skipped_questions=dangling,
    )
