"""Cold start: a question embeds through ONNX Runtime + tokenizers, with no torch import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import graphmem.embed.onnx_query as onnx_query
from graphmem.embed.local import LocalEmbedder
from graphmem.errors import ConfigError

#: short batches (< 16) of awkward texts: empty, accents, CJK, odd spacing, truncated at 256 tokens
TEXTS = [
    "Who founded Corvane Optics?",
    "",
    "Der Rhein fließt durch Köln.",
    "東京は日本の首都です。",
    "  spaced\tout \n text  ",
    "word " * 400,
    "Where did Ada move last month? She moved to Lisbon.",
]
HEAVY = ("torch", "sentence_transformers", "transformers", "spacy", "sklearn")


def run_python(code: str, *args: str) -> str:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding a checked export (made here, with PyTorch, once per module)."""
    cache = tmp_path_factory.mktemp("onnx")
    emb = LocalEmbedder(short_engine="onnx", cache_dir=cache)
    emb.embed(["make the export"], kind="query")
    assert emb.query_engine == "onnx"
    return cache


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return LocalEmbedder(short_engine="torch").embed(TEXTS, kind="query")


def files(cache: Path) -> dict[str, Path]:
    found = {p.name.split(".", 1)[1]: p for p in cache.iterdir() if not p.name.startswith(".")}
    assert set(found) <= {"onnx", "tokenizer.json", "json"}, found
    return found


def test_checked_export_is_recorded(exported: Path) -> None:
    found = files(exported)
    assert set(found) == {"onnx", "tokenizer.json", "json"}
    manifest = json.loads(found["json"].read_text(encoding="utf-8"))
    assert manifest["max_length"] == 256 and manifest["dim"] == 384
    assert manifest["cosine"] >= onnx_query.MIN_COSINE and "failed" not in manifest


def test_query_path_imports_no_torch_and_matches_torch(
    exported: Path, torch_vectors: np.ndarray
) -> None:
    code = """
        import json, sys
        from graphmem.embed.local import LocalEmbedder
        emb = LocalEmbedder(cache_dir=sys.argv[1])
        took = emb.warm()
        assert took > 0 and emb.loaded and emb.query_engine == "onnx", emb.query_engine
        vectors = emb.embed(json.loads(sys.argv[2]), kind="query")
        heavy = [m for m in json.loads(sys.argv[3]) if m in sys.modules]
        print(json.dumps({"heavy": heavy, "vectors": vectors.tolist()}))
    """
    out = json.loads(run_python(code, str(exported), json.dumps(TEXTS), json.dumps(HEAVY)))
    assert out["heavy"] == []
    got = np.asarray(out["vectors"], dtype=np.float32)
    assert got.shape == torch_vectors.shape == (len(TEXTS), 384)
    cosines = (got * torch_vectors).sum(axis=1)
    assert float(cosines.min()) > 0.9999, cosines


def test_import_graphmem_and_the_cli_load_nothing_heavy() -> None:
    code = """
        import json, sys
        import graphmem
        after_package = sorted(m for m in sys.modules if m.split(".")[0] in json.loads(sys.argv[1]))
        import graphmem.cli, graphmem.memory, graphmem.embed.local
        after_cli = sorted(m for m in sys.modules if m.split(".")[0] in json.loads(sys.argv[1]))
        print(json.dumps([after_package, after_cli]))
    """
    light = (*HEAVY, "onnxruntime", "tokenizers", "faiss")
    after_package, after_cli = json.loads(run_python(code, json.dumps(light)))
    assert after_package == []
    assert after_cli == []


def test_tokenizer_copy_gives_transformers_token_ids(exported: Path) -> None:
    encoder = onnx_query.open_exported(LocalEmbedder()._model_dir(), exported, threads=1)
    assert encoder is not None
    hf = LocalEmbedder(short_engine="torch")._load()[0].tokenizer
    for text in TEXTS:
        want = hf([text], truncation=True, max_length=256)["input_ids"][0]
        assert encoder.tokenizer.encode(text).ids == want, text
    assert len(encoder.tokenizer.encode(TEXTS[5]).ids) == 256


def test_damaged_export_is_checked_and_made_again(
    exported: Path, tmp_path: Path, torch_vectors: np.ndarray
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(exported, cache)
    found = files(cache)
    # an unreadable record: re-checked with PyTorch, not exported again
    found["json"].write_text("{", encoding="utf-8")
    stamp = found["onnx"].stat().st_mtime_ns
    emb = LocalEmbedder(cache_dir=cache)
    np.testing.assert_allclose(emb.embed(TEXTS[:1], kind="query"), torch_vectors[:1], atol=1e-4)
    assert emb.query_engine == "onnx" and found["onnx"].stat().st_mtime_ns == stamp
    assert json.loads(found["json"].read_text(encoding="utf-8"))["dim"] == 384
    # a truncated graph: exported again, then checked
    size = found["onnx"].stat().st_size
    found["onnx"].write_bytes(found["onnx"].read_bytes()[:1000])
    emb = LocalEmbedder(cache_dir=cache)
    np.testing.assert_allclose(emb.embed(TEXTS[:1], kind="query"), torch_vectors[:1], atol=1e-4)
    assert emb.query_engine == "onnx" and found["onnx"].stat().st_size == size


def test_vectors_that_differ_are_recorded_and_not_exported_again(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    good = files(exported)["onnx"]
    exports: list[Path] = []

    def fake_export(model: object, target: Path) -> None:
        exports.append(target)
        shutil.copy(good, target)

    def differ(encoder: object, model: object) -> float:
        raise onnx_query.Mismatch("ONNX vectors differ from PyTorch's (cosine 0.5)")

    monkeypatch.setattr(onnx_query, "_export", fake_export)
    monkeypatch.setattr(onnx_query, "_agreement", differ)
    first = LocalEmbedder(cache_dir=cache)
    vec = first.embed(TEXTS[:1], kind="query")
    assert first.query_engine == "torch" and vec.shape == (1, 384) and len(exports) == 1
    record = json.loads(files(cache)["json"].read_text(encoding="utf-8"))
    assert "cosine 0.5" in record["failed"]
    again = LocalEmbedder(cache_dir=cache)
    again.embed(TEXTS[:1], kind="query")
    assert again.query_engine == "torch" and len(exports) == 1
    with pytest.raises(ConfigError, match="short_engine='onnx'"):
        LocalEmbedder(cache_dir=cache, short_engine="onnx").embed(TEXTS[:1], kind="query")


def test_without_onnx_runtime_questions_use_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch_vectors: np.ndarray
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    emb = LocalEmbedder(cache_dir=tmp_path / "never")
    assert emb.query_engine is None and not emb.loaded
    np.testing.assert_allclose(emb.embed(TEXTS, kind="query"), torch_vectors, atol=1e-5)
    assert emb.query_engine == "torch" and emb.loaded
    assert not (tmp_path / "never").exists()
    with pytest.raises(ConfigError, match="onnxruntime"):
        LocalEmbedder(cache_dir=tmp_path / "never", short_engine="onnx").embed(["q"])


def test_concurrent_first_questions_open_one_encoder(exported: Path) -> None:
    emb = LocalEmbedder(cache_dir=exported)
    results: list[np.ndarray] = []
    encoders: list[object] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            results.append(emb.embed(TEXTS[:2], kind="query"))
            encoders.append(emb._onnx)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
    assert len({id(e) for e in encoders}) == 1 and encoders[0] is not None
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], atol=1e-6)
