"""Loaders: sources relative to the ingest root, formats, and one clear message per bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphmem.errors import InputError
from graphmem.ingest.loaders import MAX_FILE_BYTES, FileProblem, front_matter, read_documents
from graphmem.ingest.sources import read_episodes


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_sources_are_paths_relative_to_the_root_with_an_optional_prefix(tmp_path: Path) -> None:
    write(tmp_path / "eng" / "notes.md", "# Eng\n\nPriya leads the Platform team.")
    write(tmp_path / "sales" / "notes.md", "# Sales\n\nDaniel sells to Verde Serre.")
    assert [d.source for d in read_documents(tmp_path)] == ["eng/notes.md", "sales/notes.md"]
    assert [d.source for d in read_documents(tmp_path, source_prefix="kb/")] == [
        "kb/eng/notes.md",
        "kb/sales/notes.md",
    ]
    [one] = read_documents(tmp_path / "eng" / "notes.md")
    assert one.source == "notes.md" and one.metadata["format"] == "markdown"


def test_markdown_front_matter_becomes_metadata_title_and_time(tmp_path: Path) -> None:
    text = "---\ntitle: Project Heron\ndate: 2024-03-11\ntags: [eng, heron]\nowners:\n  - Tomás\n---\n# H\n\nBody."
    [doc] = read_documents(write(tmp_path / "h.md", text))
    assert doc.title == "Project Heron" and doc.time is not None and doc.time.day == 11
    assert doc.metadata["front_matter"]["tags"] == ["eng", "heron"]
    assert doc.metadata["front_matter"]["owners"] == ["Tomás"]
    assert doc.text == text, "offsets refer to the file as written"
    assert front_matter("no front matter") == {}


def test_html_is_visible_text_with_headings(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Offices</title><style>p{}</style></head><body>"
        "<script>var secret = 1;</script><h1>Offices</h1><p>Lisbon &amp; Manchester.</p>"
        "<h2>Toronto</h2><p>Opened in 2022.</p></body></html>"
    )
    [doc] = read_documents(write(tmp_path / "o.html", page))
    assert doc.title == "Offices"
    assert "secret" not in doc.text and "p{}" not in doc.text
    assert (
        "# Offices" in doc.text and "## Toronto" in doc.text and "Lisbon & Manchester." in doc.text
    )


def test_bad_files_are_reported_one_by_one_and_the_rest_is_read(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    write(tmp_path / "good.txt", "Kwame works in Toronto.")
    write(tmp_path / "empty.txt", "")
    write(tmp_path / "blank.md", "\n\n  \n")
    write(tmp_path / "binary.txt", b"text\x00\x01\x02 more")
    write(tmp_path / "latin1.txt", "caf\xe9".encode("latin-1"))
    write(tmp_path / "headings.md", "# One\n\n## Two\n")
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # sparse: 50 MB on paper, nothing on disk
        fh.truncate(50 * 1024 * 1024)
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with (tmp_path / "scan.pdf").open("wb") as fh:
        writer.write(fh)
    write(tmp_path / "broken.pdf", b"%PDF-1.4 not really")
    problems: list[FileProblem] = []
    docs = list(read_documents(tmp_path, problems=problems))
    assert [d.source for d in docs] == ["good.txt"]
    by_name = {Path(p.path).name: p for p in problems}
    assert by_name["empty.txt"].status == "skipped" and "empty" in by_name["empty.txt"].reason
    assert by_name["blank.md"].status == "skipped"
    assert (
        by_name["headings.md"].status == "skipped"
        and "only headings" in by_name["headings.md"].reason
    )
    assert by_name["scan.pdf"].status == "skipped" and "no text" in by_name["scan.pdf"].reason
    assert by_name["binary.txt"].status == "failed" and "binary" in by_name["binary.txt"].reason
    assert by_name["latin1.txt"].status == "failed" and "UTF-8" in by_name["latin1.txt"].reason
    assert by_name["big.txt"].status == "failed"
    assert f"{MAX_FILE_BYTES:,} byte limit" in by_name["big.txt"].reason
    assert by_name["broken.pdf"].status == "failed" and "PDF" in by_name["broken.pdf"].reason
    assert all(str(p).startswith(p.path) for p in problems)


def test_without_a_problem_list_a_failed_file_raises_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path / "binary.txt", b"\x00\x00")
    with pytest.raises(InputError, match=r"binary\.txt: binary data"):
        list(read_documents(path))


def test_jsonl_empty_text_names_file_and_line_and_nothing_of_the_file_is_given(
    tmp_path: Path,
) -> None:
    lines = [json.dumps({"id": f"d{i}", "text": f"Document {i}."}) for i in range(69)]
    lines.append(json.dumps({"id": "d69", "text": "   "}))
    path = write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    problems: list[FileProblem] = []
    assert list(read_documents(tmp_path, problems=problems)) == []
    [problem] = problems
    assert problem.status == "failed" and problem.reason == "line 70: field 'text': empty"
    with pytest.raises(InputError, match=r"c\.jsonl:70: field 'text': empty"):
        list(read_documents(path))


def test_jsonl_lone_surrogate_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", '{"text": "ok"}\n{"text": "bad \\ud800 here"}\n')
    with pytest.raises(InputError, match=r"s\.jsonl:2: field 'text': holds a lone surrogate"):
        list(read_documents(path))
    episodes = write(
        tmp_path / "e.jsonl", '{"text": "x", "time": "2024-01-01", "speaker": "\\udfff"}\n'
    )
    with pytest.raises(InputError, match=r"e\.jsonl:1: field 'speaker'"):
        list(read_episodes(episodes))


def test_episode_reader_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "turns.jsonl",
        '{"text": "hi", "time": "2024-01-01"}\n\n{"text": "", "time": "2024-01-02"}\n',
    )
    with pytest.raises(InputError, match=r"turns\.jsonl:3: field 'text'"):
        list(read_episodes(path))
