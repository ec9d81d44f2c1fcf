"""Files through the whole pipeline: path sources, exact and prefix delete, changed files replaced."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.embed.local import LocalEmbedder
from graphmem.ingest.loaders import read_documents
from graphmem.memory import Memory

LONG = "\n\n".join(
    f"## Week {i}\n\nTomás reviewed the Heron stream in week {i}. " + "The lag stayed low. " * 30
    for i in range(6)
)


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "eng").mkdir(parents=True)
    (root / "sales").mkdir()
    (root / "eng" / "notes.md").write_text("# Eng\n\nPriya Natarajan leads Platform.\n")
    (root / "sales" / "notes.md").write_text("# Sales\n\nDaniel Okoro sells in Toronto.\n")
    (root / "eng" / "log.md").write_text("# Standup log\n\n" + LONG)
    return root


def sources(mem: Memory) -> list[str]:
    return mem.store.sources(mem.namespace)


def test_same_named_files_stay_apart_and_delete_exactly(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    root = folder(tmp_path)
    with Memory(f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor="none") as mem:
        mem.add_many(read_documents(root), replace_sources=True)
        assert sources(mem) == ["eng/log.md", "eng/notes.md", "sales/notes.md"]
        assert mem.store.sources(mem.namespace, "eng/") == ["eng/log.md", "eng/notes.md"]
        assert mem.delete(source="notes.md").passages == 0, "a bare name matches nothing"
        assert mem.delete(source="sales/notes.md").passages == 1
        assert sources(mem) == ["eng/log.md", "eng/notes.md"]
        hits = mem.search("Who leads Platform?", k=3).passages
        assert any(h.passage.source == "eng/notes.md" for h in hits)


def test_changed_file_replaces_its_chunks_and_rerun_is_a_no_op(
    tmp_path: Path, embedder: LocalEmbedder
) -> None:
    root = folder(tmp_path)
    with Memory(f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder, extractor="none") as mem:
        first = mem.add_many(read_documents(root), replace_sources=True)
        log_chunks = mem.stats().passages - 2
        assert log_chunks >= 6, "the long log is cut into several chunks"
        again = mem.add_many(read_documents(root), replace_sources=True)
        assert again.passages_added == 0 and again.passages_skipped == first.passages_added
        (root / "eng" / "notes.md").write_text("# Eng\n\nIngrid Berg leads Platform now.\n")
        changed = mem.add_many(read_documents(root), replace_sources=True)
        assert changed.passages_added == 1
        assert mem.stats().passages == log_chunks + 2, "the old chunk was replaced, not kept beside"
        texts = [h.passage.text for h in mem.search("Who leads Platform?", k=5).passages]
        assert any("Ingrid" in t for t in texts) and not any("Priya" in t for t in texts)
        assert all(h.passage.metadata.get("section") for h in mem.search("Heron lag", k=3).passages)


def test_cli_ingest_reports_bad_files_and_deletes_by_prefix(tmp_path: Path) -> None:
    root = folder(tmp_path)
    (root / "empty.txt").write_text("")
    (root / "bin.txt").write_bytes(b"\x00\x01")
    store = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    out = runner.invoke(app, ["ingest", str(root), "--store", store, "--extractor", "none"])
    assert out.exit_code == 1, out.output
    assert "skipped" in out.output and "empty.txt" in out.output and "empty file" in out.output
    assert "failed" in out.output and "bin.txt" in out.output and "binary data" in out.output
    assert "1 file(s) failed" in out.output
    gone = runner.invoke(app, ["delete", "--source-prefix", "eng/", "--store", store])
    assert gone.exit_code == 0, gone.output
    with Memory(store, extractor="none") as mem:
        assert sources(mem) == ["sales/notes.md"]
    both = runner.invoke(app, ["delete", "--source", "x", "--source-prefix", "y", "--store", store])
    assert both.exit_code != 0


def test_documents_bench_maps_quotes_to_chunks(tmp_path: Path, embedder: LocalEmbedder) -> None:
    import json

    from graphmem.bench.documents import is_documents_folder, run_documents_bench

    root = folder(tmp_path)
    questions = [
        {
            "id": "q1",
            "question": "Who leads Platform?",
            "gold": [{"source": "eng/notes.md", "quote": "Priya Natarajan leads Platform."}],
        },
        {
            "id": "q2",
            "question": "What did Tomás review in week 4?",
            "gold": [
                {"source": "eng/log.md", "quote": "Tomás reviewed the Heron stream in week 4."}
            ],
        },
    ]
    (tmp_path / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    assert is_documents_folder(tmp_path) and not is_documents_folder(root)
    run = run_documents_bench(tmp_path, extractor="none", embedder=embedder, progress=False)
    assert run.gold_quotes == 2 and run.gold_reachable == 2
    assert run.run.corpus_passages >= 8
    week4 = [r for r in run.run.rankings["bm25"][1] if r]
    assert week4 and week4[0] == ("q2#0",), "the quote maps to the week-4 chunk only"
    assert run.to_json()["documents"]["gold_reachable"] == 2
