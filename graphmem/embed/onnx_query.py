"""Short texts (a question, a handful of names) through ONNX Runtime: the same model, faster.

A search embeds one question. PyTorch spends much of that on per-operator overhead, and importing
torch and sentence-transformers alone takes seconds; ONNX Runtime runs the same exported graph
about 1.5x faster (MiniLM: ~7 vs ~11 ms) and loads in a fraction of a second. Batches stay on
PyTorch, which is faster there (bfloat16 autocast).

The model is exported once, with PyTorch's own exporter, into ``cache_dir`` under a name that
hashes the model's files and the torch version, then reused by every process. Nothing is
downloaded. After the export, texts of other lengths than the traced one are embedded both ways:
if the vectors differ (cosine below 0.9999), or anything here fails, the caller keeps PyTorch and
a warning says why. Only the sentence-transformers pipelines this reproduces exactly are
exported: a transformer, mean pooling, and optional normalization.

Three files make an export: ``<stem>.onnx`` (the graph), ``<stem>.tokenizer.json`` (the fast
tokenizer exactly as sentence-transformers configured it) and ``<stem>.json``, written last, only
once the check passed. :func:`open_exported` opens a checked export with ONNX Runtime and the
``tokenizers`` package alone, so the query path never imports torch;
:func:`load_onnx_encoder` makes (or re-checks) one from a loaded PyTorch model.

>>> encoder = open_exported(model_dir, cache_dir, threads=2)   # doctest: +SKIP
>>> encoder.encode(["Who founded Corvane Optics?"]).shape       # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from graphmem.embed.base import Vectors, normalize_rows

log = logging.getLogger("graphmem.embed")

#: bump when the export changes, so old files are not reused
EXPORT_VERSION = "1"
#: what ONNX and PyTorch vectors must agree to, on every check text
MIN_COSINE = 0.9999
PROBE = "Which river flows through the city where the painter of Morning Over Lisk was born?"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    """Mean-pooled, L2-normalized sentence embeddings from an ONNX Runtime session.

    ``tokenizer`` is a ``tokenizers.Tokenizer`` set to truncate at the model's length, unpadded.
    """

    def __init__(
        self, session: Any, tokenizer: Any, inputs: tuple[str, ...], *, lowercase: bool = False
    ) -> None:
        self.session, self.tokenizer, self.inputs = session, tokenizer, inputs
        self.lowercase = lowercase
        last = session.get_outputs()[0].shape[-1]
        #: the output size, when the graph states it
        self.dim: int | None = last if isinstance(last, int) else None

    def encode(self, texts: list[str]) -> Vectors:
        # one text per run: no padding, so no attention-mask path the trace might have fixed
        rows = []
        for text in texts:
            enc = self.tokenizer.encode(text.lower() if self.lowercase else text)
            columns = {
                "input_ids": enc.ids,
                "attention_mask": enc.attention_mask,
                "token_type_ids": enc.type_ids,
            }
            feed = {name: np.asarray([columns[name]], dtype=np.int64) for name in self.inputs}
            (hidden,) = self.session.run(["last_hidden_state"], feed)
            rows.append(hidden[0].mean(axis=0))
        return normalize_rows(np.stack(rows))


def export_stem(model_dir: Path, cache_dir: Path) -> Path | None:
    """Where the export of ``model_dir`` lives (without suffix); None when torch is not installed.

    The torch version is read from the package metadata, so this imports no torch.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        return None
    digest = hashlib.sha256(f"{EXPORT_VERSION}|{torch_version}".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)}|{stat.st_size}|{int(stat.st_mtime)}".encode())
    return cache_dir / f"{model_dir.name}-{digest.hexdigest()[:16]}"


def open_exported(model_dir: Path, cache_dir: Path, *, threads: int) -> OnnxEncoder | None:
    """The checked export of ``model_dir`` from ``cache_dir``, with no torch import; else None.

    None means "not exported (or not checked) yet, or onnxruntime/tokenizers missing": the caller
    loads PyTorch and calls :func:`load_onnx_encoder`, which exports and checks.
    """
    try:
        import onnxruntime  # noqa: F401  (the cheap test that the fast path can run at all)
        import tokenizers
    except ImportError:
        return None
    stem = export_stem(model_dir, cache_dir)
    if stem is None:
        return None
    manifest = _manifest(stem)
    if manifest is None or "failed" in manifest:
        return None
    try:
        tokenizer = tokenizers.Tokenizer.from_file(str(_file(stem, ".tokenizer.json")))
        _configure(tokenizer, int(manifest["max_length"]))
        session = _session(_file(stem, ".onnx"), threads)
        inputs = tuple(i.name for i in session.get_inputs())
        encoder = OnnxEncoder(session, tokenizer, inputs, lowercase=bool(manifest["lowercase"]))
    except Exception as exc:  # a damaged cache: PyTorch re-exports and re-checks it
        log.warning("cached ONNX export %s is unusable, checking it again: %s", stem, exc)
        return None
    log.debug("query embeddings through ONNX Runtime from %s", stem)
    return encoder


def load_onnx_encoder(
    model: Any, model_dir: Path, cache_dir: Path, *, threads: int
) -> OnnxEncoder | None:
    """An encoder equivalent to ``model`` (checked on probe texts), or ``None`` to keep torch.

    Exports the model when it is not in ``cache_dir`` yet (again, when the file there is
    damaged), and records the export as checked, so later processes open it with
    :func:`open_exported`. An export whose vectors differ is recorded too, so no process
    exports it again.
    """
    try:
        import onnxruntime  # noqa: F401
        import tokenizers
    except ImportError:
        return None
    if not _exportable(model):
        log.info("query embeddings stay on PyTorch: this model's pipeline is not exported")
        return None
    stem = export_stem(model_dir, cache_dir)
    if stem is None:
        return None
    earlier = _manifest(stem)
    if earlier is not None and "failed" in earlier:
        log.info("query embeddings stay on PyTorch: %s", earlier["failed"])
        return None
    target = _file(stem, ".onnx")
    max_length = int(model.max_seq_length)
    lowercase = bool(getattr(model[0], "do_lower_case", False))
    tok_text = model[0].tokenizer.backend_tokenizer.to_str()
    for attempt in (1, 2):
        exported = not target.is_file()
        try:
            if exported:
                log.info("exporting %s to ONNX for fast question embedding: %s", model_dir, target)
                _export(model, target)
            tokenizer = tokenizers.Tokenizer.from_str(tok_text)
            _configure(tokenizer, max_length)
            session = _session(target, threads)
            inputs = tuple(i.name for i in session.get_inputs())
            encoder = OnnxEncoder(session, tokenizer, inputs, lowercase=lowercase)
            cosine = _agreement(encoder, model)
            break
        except Exception as exc:  # any failure: PyTorch still works, and is what we fall back to
            if exported or attempt == 2:
                log.warning(
                    "query embeddings stay on PyTorch: ONNX export or check failed: %s", exc
                )
                if isinstance(exc, Mismatch):
                    _record(stem, {"export_version": EXPORT_VERSION, "failed": str(exc)})
                return None
            # a file from an earlier run that is damaged (or stale): export it once more
            log.warning("cached ONNX export %s is unusable (%s): exporting it again", target, exc)
            target.unlink(missing_ok=True)
    try:
        _write(_file(stem, ".tokenizer.json"), lambda f: f.write(tok_text))
    except OSError as exc:  # this process still uses the checked encoder
        log.warning("cannot keep the tokenizer beside the ONNX export %s: %s", target, exc)
        return encoder
    manifest = {"export_version": EXPORT_VERSION, "max_length": max_length}
    manifest.update(lowercase=lowercase, dim=encoder.dim, cosine=cosine)
    _record(stem, manifest)  # last: it says the three files belong together and were checked
    return encoder


class Mismatch(ValueError):
    """The exported model runs, but its vectors are not PyTorch's."""


def _manifest(stem: Path) -> dict[str, Any] | None:
    """The record of a checked (or failed) export; None when there is none of this version."""
    path = _file(stem, ".json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the unreadable ONNX export record %s: %s", path, exc)
        return None
    if not isinstance(data, dict) or data.get("export_version") != EXPORT_VERSION:
        return None
    return data


def _record(stem: Path, manifest: dict[str, Any]) -> None:
    try:
        _write(_file(stem, ".json"), lambda f: json.dump(manifest, f, indent=1))
    except OSError as exc:
        log.warning("cannot record the ONNX export in %s: %s", stem.parent, exc)


def _agreement(encoder: OnnxEncoder, model: Any) -> float:
    """The lowest ONNX-vs-PyTorch cosine on the check texts; raises when below MIN_COSINE."""
    # lengths other than the traced one: a shape the trace fixed would show here; the long one
    # is truncated, so the tokenizer's length limit is checked too
    checks = ["Who?", f"{PROBE} {PROBE} {PROBE}", " ".join([PROBE] * 30)]
    got = encoder.encode(checks)
    want = normalize_rows(
        np.asarray(model.encode(checks, convert_to_numpy=True, show_progress_bar=False))
    )
    cosine = float((got * want).sum(axis=1).min())
    if cosine < MIN_COSINE:
        raise Mismatch(f"ONNX vectors differ from PyTorch's (cosine {cosine:.6f})")
    return cosine


def _file(stem: Path, suffix: str) -> Path:
    return stem.parent / (stem.name + suffix)  # not with_suffix: a model name may hold dots


def _configure(tokenizer: Any, max_length: int) -> None:
    # what sentence-transformers asks of the tokenizer for one text: truncate, never pad
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # idle pool threads must not spin: PyTorch embeds batches on the same cores
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _write(target: Path, fill: Callable[[Any], object]) -> None:
    """Write ``target`` atomically: a concurrent process sees a whole file or none."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fill(f)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _exportable(model: Any) -> bool:
    names = [type(m).__name__ for m in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    if getattr(model[0].tokenizer, "backend_tokenizer", None) is None:
        return False  # a slow (pure Python) tokenizer: the query path needs a fast one
    pooling = model[1].get_config_dict()
    mode = pooling.get("pooling_mode")
    if mode is not None:
        return bool(mode == "mean")
    # older sentence-transformers: one flag per mode
    flags = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    return set(flags) == {"pooling_mode_mean_tokens"}


def _export(model: Any, target: Path) -> None:
    import torch

    transformer = model[0].auto_model.eval()
    tokenizer = model[0].tokenizer
    sample = tokenizer([PROBE], return_tensors="pt")  # one text, as encode() runs them
    names = [n for n in _INPUTS if n in sample]

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *args: Any) -> Any:
            return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            # the tracer's notes on shape-dependent branches: the probe check is the test
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Wrapper(),
                tuple(sample[n] for n in names),
                tmp,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, target)  # atomic: a concurrent process sees a whole file or none
    finally:
        Path(tmp).unlink(missing_ok=True)
