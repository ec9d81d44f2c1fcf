"""Reading a folder (or one file) into documents: which files are read, and what is reported.

In a folder, every file with a supported suffix is read (or ``corpus.jsonl`` alone, when there is
one); a link to a file outside the folder is skipped unless ``follow_symlinks``; FIFOs, device
files and sockets are skipped and never opened. Each skipped or failed file becomes a
:class:`~graphmem.ingest.loaders.FileProblem`, and the rest goes on.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").mkdir(); _ = (d / "a" / "n.txt").write_text("Hi.")
>>> [doc.source for doc in read_documents(d)]
['a/n.txt']
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from graphmem.errors import InputError
from graphmem.ingest.loaders import (
    SUFFIXES,
    FileProblem,
    _chat_shaped,
    _Skip,
    _special,
    load_file,
    log,
)
from graphmem.models import Document


def _folder_files(root: Path, follow_symlinks: bool) -> tuple[list[Path], list[FileProblem]]:
    """The supported files under ``root``, and those left out: a link leading out of the
    folder (unless ``follow_symlinks``), a broken link, a FIFO or device file, a name that is not
    UTF-8 (it could not be a source)."""
    base = root.resolve()
    files: list[Path] = []
    out: list[FileProblem] = []
    for f in sorted(root.rglob("*")):
        if f.suffix.lower() not in SUFFIXES:
            continue
        shown = os.fsencode(f).decode("utf-8", "replace")
        try:
            f.relative_to(root).as_posix().encode("utf-8")
        except UnicodeEncodeError:
            out.append(FileProblem(shown, "failed", "its name is not valid UTF-8: rename it"))
            continue
        if f.is_symlink():
            if not f.exists():
                out.append(FileProblem(shown, "skipped", "a broken symbolic link"))
                continue
            if not follow_symlinks and not f.resolve().is_relative_to(base):
                reason = "a symbolic link to a file outside the folder (--follow-symlinks reads it)"
                out.append(FileProblem(shown, "skipped", reason))
                continue
        try:
            mode = f.stat().st_mode
        except OSError as exc:
            out.append(FileProblem(shown, "failed", str(exc)))
            continue
        if stat.S_ISREG(mode):
            files.append(f)
        elif not stat.S_ISDIR(mode):
            out.append(FileProblem(shown, "skipped", f"{_special(mode)}, not a regular file"))
    return files, out


def read_documents(
    path: str | Path,
    *,
    source_prefix: str = "",
    problems: list[FileProblem] | None = None,
    keep_going: bool | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Document]:
    """Documents from a file or a folder (``corpus.jsonl``, else every supported file in it).

    Skipped files are logged and appended to ``problems`` (if given). A failed file raises its
    :class:`InputError`, unless ``keep_going`` (default: when ``path`` is a folder and
    ``problems`` is given): then it is appended too and the rest goes on. In a folder, a link to a
    file outside it is skipped unless ``follow_symlinks``; FIFOs and device files are skipped.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", path=str(p))
    if p.is_dir():
        corpus = p / "corpus.jsonl"
        if corpus.is_file():
            files, root = [corpus], p
            _beside_corpus(p, problems)
        else:
            files, left_out = _folder_files(p, follow_symlinks)
            root = p
            if not files and not left_out:
                raise InputError(
                    f"no {', '.join(sorted(SUFFIXES))} files in this folder", path=str(p)
                )
            for problem in left_out:
                if problem.status == "failed" and (problems is None or keep_going is False):
                    raise InputError(problem.reason, path=problem.path)
                _tell(problems, problem)
    else:
        files, root = [p], p.parent
    for f in files:
        source = source_prefix + f.relative_to(root).as_posix()
        if f.suffix.lower() == ".jsonl" and _chat_shaped(f):
            _tell(problems, FileProblem(str(f), "warning", _CHAT))
        try:
            for doc in load_file(f, source, source_prefix):
                if doc.metadata.get("encoding"):
                    enc = doc.metadata["encoding"]
                    why = (
                        f"not UTF-8: read as {enc} (check its accents, or convert it: "
                        f"iconv -f {enc} -t utf-8)"
                    )
                    _tell(problems, FileProblem(str(f), "warning", why))
                yield doc
        except _Skip as skip:
            _tell(problems, FileProblem(str(f), "skipped", str(skip)))
        except (InputError, OSError) as exc:
            if problems is None or not (p.is_dir() if keep_going is None else keep_going):
                raise
            _tell(problems, FileProblem(str(f), "failed", _reason(exc, f)))


_CHAT = (
    "its lines have a 'speaker': chat turns, ingested as plain passages; to keep speakers, "
    "times and turn order ingest it with --episodes (Memory.add_episodes)"
)
#: a dataset folder's companions of corpus.jsonl (shared/bench layout), not documents
_COMPANIONS = {"corpus.jsonl", "questions.jsonl", "triples.jsonl"}


def _beside_corpus(folder: Path, problems: list[FileProblem] | None) -> None:
    """Tell which supported files a folder holding ``corpus.jsonl`` leaves unread."""
    hidden = sorted(
        f.relative_to(folder).as_posix()
        for f in folder.rglob("*")
        if f.suffix.lower() in SUFFIXES and f.name not in _COMPANIONS and f.is_file()
    )
    if hidden:
        more = f" and {len(hidden) - 5} more" if len(hidden) > 5 else ""
        reason = (
            f"{len(hidden)} file(s) not read ({', '.join(hidden[:5])}{more}): a folder "
            "holding corpus.jsonl is ingested as that corpus alone; ingest them by path"
        )
        _tell(problems, FileProblem(str(folder), "skipped", reason))


def _tell(problems: list[FileProblem] | None, problem: FileProblem) -> None:
    log.warning("%s", problem)
    if problems is not None:
        problems.append(problem)


def _reason(exc: Exception, path: Path) -> str:
    """The error without its leading path (the problem names the file already)."""
    if isinstance(exc, InputError) and exc.path == str(path):
        where = f"line {exc.line}: " if exc.line is not None else ""
        if exc.field is not None:
            where += f"field {exc.field!r}: "
        return where + exc.reason
    return str(exc)
