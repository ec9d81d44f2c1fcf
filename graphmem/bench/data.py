"""Load and validate benchmark dataset folders (layout: ``shared/bench/README.md``).

Two layouts, told apart by which files exist:

- **multihop**: ``corpus.jsonl`` + ``questions.jsonl`` (+ optional ``triples.jsonl``)
- **conversation**: ``turns.jsonl`` + ``questions.jsonl``

Every file is read once, line by line (:mod:`graphmem.bench.jsonl`), with a cap on the line
length, so a huge or binary file fails fast instead of filling memory. The conversation layout
lives in :mod:`graphmem.bench.conversation`. Validation is strict and complete before
anything is written anywhere, so a bad folder never leaves a half-ingested store. Each problem is
an :class:`~graphmem.errors.InputError` naming the file, the 1-based line and the field.

Rules (documented behaviour):

- blank lines are ignored; a UTF-8 byte-order mark at the start of a file is accepted;
- a line that is not UTF-8, not JSON, or not a JSON object is an error;
- a missing or ill-typed required field, a duplicate id, or a question without gold ids is an
  error;
- a passage whose ``text`` is empty (or only whitespace) is **skipped** with a logged warning and
  recorded in ``dataset.skipped``;
- a question with a gold id not in the corpus (or naming a skipped passage) is **skipped**, since
  its recall could never be measured honestly: one warning counts them and names the first few,
  and ``dataset.skipped_questions`` lists them all (real data has such flaws). With
  ``strict=True`` the first one is an error instead;
- a passage with more than ``max_passage_bytes`` (default 1,000,000) bytes of UTF-8 text is an
  error; pass a larger ``max_passage_bytes`` to allow it.

>>> ds = load_dataset("../shared/bench/musique_train")  # doctest: +SKIP
>>> ds.kind, len(ds.questions)  # doctest: +SKIP
('multihop', 100)
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from graphmem.bench.conversation import (
    ConversationDataset,
    ConversationQuestion,
    Turn,
    load_conversation,
)
from graphmem.bench.jsonl import (
    CORPUS,
    MAX_PASSAGE_BYTES,
    MIN_LINE_BYTES,
    QUESTIONS,
    TRIPLES,
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


Kind = Literal["multihop", "conversation"]

__all__ = [
    "CORPUS",
    "MAX_PASSAGE_BYTES",
    "QUESTIONS",
    "TRIPLES",
    "TURNS",
    "ConversationDataset",
    "ConversationQuestion",
    "CorpusPassage",
    "Dataset",
    "MultihopDataset",
    "MultihopQuestion",
    "PassageGroup",
    "Skipped",
    "Turn",
    "copy_without_triples",
    "detect_kind",
    "iter_jsonl",
    "load_conversation",
    "load_corpus",
    "load_dataset",
    "load_multihop",
    "load_multihop_questions",
    "validate_triples",
]


# ------------------------------------------------------------------------------ typed records


@dataclass(frozen=True, slots=True)
class CorpusPassage:
    """One line of ``corpus.jsonl``."""

    id: str
    title: str
    text: str
    line: int

    @property
    def document_text(self) -> str:
        """The text that is ingested: ``title + "\\n" + text`` (HippoRAG), or ``text`` alone."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True, slots=True)
class PassageGroup:
    """Corpus passages with identical ingested text: one stored passage stands for all of them."""

    text: str
    title: str
    corpus_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MultihopQuestion:
    """One line of a multihop ``questions.jsonl``; ``extra`` keeps the optional fields."""

    id: str
    question: str
    answers: tuple[str, ...]
    gold_ids: tuple[str, ...]
    line: int
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class MultihopDataset:
    """A validated multihop folder. ``passages`` excludes skipped ones."""

    name: str
    path: Path
    passages: list[CorpusPassage]
    questions: list[MultihopQuestion]
    triples_path: Path | None = None
    skipped: list[Skipped] = field(default_factory=list)
    #: questions left out because a gold id names no kept passage
    skipped_questions: list[Skipped] = field(default_factory=list)
    kind: Literal["multihop"] = "multihop"

    def groups(self) -> list[PassageGroup]:
        """Passages grouped by identical ingested text, in first-seen corpus order.

        Texts compare after stripping surrounding whitespace (as ingestion stores them), and
        ``text`` is the stripped form.
        """
        by_text: dict[str, list[CorpusPassage]] = {}
        for p in self.passages:
            by_text.setdefault(p.document_text.strip(), []).append(p)
        return [
            PassageGroup(text=t, title=ps[0].title, corpus_ids=tuple(p.id for p in ps))
            for t, ps in by_text.items()
        ]


Dataset = MultihopDataset | ConversationDataset


# ------------------------------------------------------------------------------ layouts


def detect_kind(path: str | Path) -> Kind:
    """Which layout a folder has; :class:`InputError` if it is neither (or both)."""
    folder = Path(path)
    if not folder.exists():
        raise InputError("no such dataset folder", path=str(folder))
    if not folder.is_dir():
        raise InputError("not a folder: give the dataset folder, not a file", path=str(folder))
    has = {name: (folder / name).is_file() for name in (CORPUS, QUESTIONS, TURNS)}
    if has[CORPUS] and has[TURNS]:
        raise InputError(
            f"ambiguous dataset folder: has both {CORPUS} (multihop) and {TURNS} (conversation)",
            path=str(folder),
        )
    if not has[QUESTIONS] or not (has[CORPUS] or has[TURNS]):
        missing = [n for n in (CORPUS if not has[TURNS] else TURNS, QUESTIONS) if not has[n]]
        raise InputError(
            f"not a dataset folder: missing {', '.join(missing)} (a multihop folder has "
            f"{CORPUS} and {QUESTIONS}, a conversation folder has {TURNS} and {QUESTIONS})",
            path=str(folder),
        )
    return "multihop" if has[CORPUS] else "conversation"


def load_dataset(
    path: str | Path,
    *,
    max_passage_bytes: int = MAX_PASSAGE_BYTES,
    check_triples: bool = True,
    strict: bool = False,
) -> Dataset:
    """Load and validate a dataset folder of either layout (see the module docs for the rules).

    ``strict``: a question naming a gold id the folder lacks is an error, not skipped.
    """
    if max_passage_bytes < 1:
        raise ValueError("max_passage_bytes must be positive")
    folder = Path(path)
    if detect_kind(folder) == "multihop":
        return load_multihop(
            folder, max_passage_bytes=max_passage_bytes, check_triples=check_triples, strict=strict
        )
    return load_conversation(folder, max_passage_bytes=max_passage_bytes, strict=strict)


def load_corpus(
    path: Path, *, max_passage_bytes: int = MAX_PASSAGE_BYTES
) -> tuple[list[CorpusPassage], list[Skipped]]:
    """Read ``corpus.jsonl``: kept passages and skipped (empty) ones."""
    where = str(path)
    passages: list[CorpusPassage] = []
    skipped: list[Skipped] = []
    seen: dict[str, int] = {}
    limit = line_limit(max_passage_bytes)
    try:
        for lineno, obj in iter_jsonl(path, max_line_bytes=limit):
            f = Fields(obj, where, lineno)
            pid = f.string("id")
            if pid in seen:
                raise f.error(f"duplicate passage id {pid!r} (first on line {seen[pid]})", "id")
            seen[pid] = lineno
            title = f.optional_string("title") or ""
            text = f.string("text", nonempty=False)
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > max_passage_bytes:
                raise f.error(
                    f"passage {pid!r} has {size:,} bytes of text, more than the limit of "
                    f"{max_passage_bytes:,} (raise max_passage_bytes to allow it)",
                    "text",
                )
            if not text.strip():
                reason = "empty text"
                log.warning("%s:%d: skipping passage %r: %s", where, lineno, pid, reason)
                skipped.append(Skipped(where, lineno, pid, reason))
                continue
            passages.append(CorpusPassage(id=pid, title=title, text=text, line=lineno))
    except InputError as exc:
        if exc.reason.startswith("line is longer"):
            raise InputError(
                f"{exc.reason}: a passage may have at most {max_passage_bytes:,} bytes of text "
                "(raise max_passage_bytes to allow it)",
                path=exc.path,
                line=exc.line,
            ) from None
        raise
    if not passages:
        raise InputError("no passages (the file is empty or every passage was skipped)", path=where)
    return passages, skipped


def load_multihop_questions(
    path: Path,
    corpus_lines: dict[str, int],
    skipped: Sequence[Skipped] = (),
    *,
    strict: bool = False,
    left_out: list[Skipped] | None = None,
) -> list[MultihopQuestion]:
    """Read a multihop ``questions.jsonl``; gold ids must name passages in ``corpus_lines``.

    A question whose gold id does not is appended to ``left_out`` (one warning for them all), or
    with ``strict`` is an error.
    """
    where = str(path)
    skipped_by_id = {s.id: s for s in skipped}
    dangling: list[Skipped] = [] if left_out is None else left_out
    questions: list[MultihopQuestion] = []
    seen: dict[str, int] = {}
    known = {"id", "question", "answers", "gold_passage_ids"}
    for lineno, obj in iter_jsonl(path):
        f = Fields(obj, where, lineno)
        qid = f.string("id")
        if qid in seen:
            raise f.error(f"duplicate question id {qid!r} (first on line {seen[qid]})", "id")
        seen[qid] = lineno
        text = f.string("question")
        answers = obj.get("answers")
        if answers is None:
            answers = []
        if not isinstance(answers, list):
            raise f.error(f"expected an array, got {json_type(answers)}", "answers")
        gold = dedupe(f.string_list("gold_passage_ids"))
        if not gold:
            raise f.error(f"question {qid!r} has no gold passage ids", "gold_passage_ids")
        missing = [gid for gid in gold if gid not in corpus_lines]
        if missing:
            gid = missing[0]
            s = skipped_by_id.get(gid)
            reason = (
                f"gold passage {gid!r} was skipped ({s.reason}, {s.path}:{s.line})"
                if s
                else f"gold passage id {gid!r} is not in {CORPUS}"
            )
            if len(missing) > 1:
                reason += f" (and {len(missing) - 1} more gold ids)"
            if strict:
                raise f.error(f"question {qid!r}: {reason}", "gold_passage_ids")
            dangling.append(Skipped(where, lineno, qid, reason))
            continue
        questions.append(
            MultihopQuestion(
                id=qid,
                question=text,
                answers=tuple(a if isinstance(a, str) else json.dumps(a) for a in answers),
                gold_ids=gold,
                line=lineno,
                extra={k: v for k, v in obj.items() if k not in known},
            )
        )
    warn_skipped_questions(where, dangling, len(questions) + len(dangling))
    if not questions:
        raise no_questions(where, dangling)
    return questions


def validate_triples(
    path: Path, corpus_lines: dict[str, int], *, max_line_bytes: int = MIN_LINE_BYTES
) -> int:
    """Check the shape of ``triples.jsonl`` (types, known and unique passage ids); return its line count.

    Well-formedness of each triple (3 parts) is the extractor's business: it repairs or drops
    them and counts what it did; here only what would make the file unusable is an error.
    """
    where = str(path)
    seen: dict[str, int] = {}
    count = 0
    for lineno, obj in iter_jsonl(path, max_line_bytes=max_line_bytes):
        f = Fields(obj, where, lineno)
        pid = f.string("passage_id")
        if pid not in corpus_lines:
            raise f.error(f"passage id {pid!r} is not in {CORPUS}", "passage_id")
        if pid in seen:
            raise f.error(f"duplicate passage id {pid!r} (first on line {seen[pid]})", "passage_id")
        seen[pid] = lineno
        f.string_list("entities", required=False)
        for key in ("triples", "malformed_triples"):
            value = obj.get(key)
            if value is None:
                if key == "triples":
                    raise f.error("required field is missing", key)
                continue
            if not isinstance(value, list):
                raise f.error(f"expected an array of triples, got {json_type(value)}", key)
            for i, triple in enumerate(value):
                if not isinstance(triple, list):
                    raise f.error(
                        f"item {i} must be an array like [subject, predicate, object], "
                        f"got {json_type(triple)}",
                        key,
                    )
        count += 1
    return count


def load_multihop(
    path: str | Path,
    *,
    max_passage_bytes: int = MAX_PASSAGE_BYTES,
    check_triples: bool = True,
    strict: bool = False,
) -> MultihopDataset:
    """Load a multihop folder: ``corpus.jsonl``, ``questions.jsonl``, optional ``triples.jsonl``."""
    folder = Path(path)
    passages, skipped = load_corpus(folder / CORPUS, max_passage_bytes=max_passage_bytes)
    corpus_lines = {p.id: p.line for p in passages}
    left_out: list[Skipped] = []
    questions = load_multihop_questions(
        folder / QUESTIONS, corpus_lines, skipped, strict=strict, left_out=left_out
    )
    triples_file = folder / TRIPLES
    triples = triples_file if triples_file.is_file() else None
    if triples is not None and check_triples:
        # skipped (empty) passages may still have a triples line: accept it
        known = dict(corpus_lines) | {s.id: s.line for s in skipped}
        validate_triples(triples, known, max_line_bytes=line_limit(max_passage_bytes))
    return MultihopDataset(
        name=dataset_name(folder),
        path=folder,
        passages=passages,
        questions=questions,
        triples_path=triples,
        skipped=skipped,
        skipped_questions=left_out,
    )


# ------------------------------------------------------------------------------ helpers


def copy_without_triples(src: str | Path, dst: str | Path) -> Path:
    """Copy a multihop folder without its ``triples.jsonl`` (to benchmark offline extraction).

    ``dst`` must not exist or be an empty folder. Returns ``dst``.

    >>> copy_without_triples("../shared/bench/musique_train", "/tmp/musique_nlp")  # doctest: +SKIP
    PosixPath('/tmp/musique_nlp')
    """
    source, target = Path(src), Path(dst)
    if detect_kind(source) != "multihop":
        raise InputError("not a multihop folder (needs corpus.jsonl)", path=str(source))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("destination exists and is not an empty folder", path=str(target))
    if target.resolve() == source.resolve():
        raise InputError("destination is the source folder", path=str(target))
    target.mkdir(parents=True, exist_ok=True)
    for item in sorted(source.iterdir()):
        if item.is_file() and item.name != TRIPLES:
            # copyfile, not copy2: the source may be read-only and the copy must stay writable
            shutil.copyfile(item, target / item.name)
    return target
