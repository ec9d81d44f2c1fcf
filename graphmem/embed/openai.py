"""Embeddings through an OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, Azure, vLLM,
Ollama, llama.cpp, text-embeddings-inference...).

Texts go in batches; 429, 5xx, timeouts and connection errors are retried with exponential
backoff and jitter, honouring ``Retry-After`` (the SDK's own retries are off); vectors come back
float32 and L2-normalized. ``dim`` is the one given, else learnt from the first answer.

>>> emb = OpenAIEmbedder("text-embedding-3-small", base_url="http://127.0.0.1:9/v1", dim=1536)
>>> emb.name, emb.dim
('openai:text-embedding-3-small', 1536)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import numpy as np
import openai

from graphmem.embed.base import TextKind, Vectors, normalize_rows
from graphmem.endpoint import RETRY_STATUSES, RetryPolicy, parse_retry_after
from graphmem.errors import ConfigError, EmbeddingError

log = logging.getLogger(__name__)


class OpenAIEmbedder:
    """An :class:`~graphmem.embed.base.Embedder` over ``/v1/embeddings``.

    ``query_prefix`` / ``passage_prefix`` are prepended for models trained with them
    (e.g. ``"query: "`` for E5). ``usage`` counts prompt tokens and calls.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dim: int | None = None,
        batch_size: int = 64,
        timeout: float = 60.0,
        max_retries: int = 4,
        retry: RetryPolicy | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        if not model:
            raise ConfigError("OpenAIEmbedder needs a model name")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.model, self.base_url, self.batch_size = model, base_url, batch_size
        self.name = f"openai:{model}"
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.retry = (retry or RetryPolicy()).model_copy(update={"max_retries": max_retries})
        self._dim = dim
        self.usage: dict[str, float] = {"prompt_tokens": 0.0, "calls": 0.0, "retries": 0.0}
        self._lock = threading.Lock()
        try:
            self._client = openai.OpenAI(
                api_key=api_key if api_key else ("unused" if base_url else None),
                base_url=base_url,
                timeout=timeout,
                max_retries=0,
            )
        except openai.OpenAIError as exc:
            raise ConfigError(f"cannot configure the embeddings client: {exc}") from exc

    @property
    def dim(self) -> int:
        """The vector size: given, or learnt from the first answer (asking once if needed)."""
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str], *, kind: TextKind = "passage") -> Vectors:
        """One normalized float32 row per text, in order."""
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        # servers reject empty inputs; a space embeds as "nothing" without failing the batch
        inputs = [(prefix + t) if (prefix + t).strip() else " " for t in texts]
        rows: list[Vectors] = []
        for start in range(0, len(inputs), self.batch_size):
            rows.append(self._batch(inputs[start : start + self.batch_size]))
        return np.concatenate(rows, axis=0)

    def close(self) -> None:
        self._client.close()

    def _batch(self, inputs: list[str]) -> Vectors:
        attempt = 0
        while True:
            try:
                response = self._client.embeddings.create(
                    model=self.model, input=inputs, encoding_format="float"
                )
                break
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRY_STATUSES:
                    raise EmbeddingError(
                        f"embeddings {self.model}: HTTP {exc.status_code} {exc.message}"[:400]
                    ) from exc
                self._wait(attempt, exc, parse_retry_after(exc.response.headers))
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                self._wait(attempt, exc, None)
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"embeddings {self.model}: {exc}") from exc
            attempt += 1
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(inputs):
            raise EmbeddingError(
                f"embeddings {self.model}: {len(data)} vectors for {len(inputs)} texts"
            )
        try:
            matrix = np.asarray([d.embedding for d in data], dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise EmbeddingError(f"embeddings {self.model}: malformed vectors") from exc
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise EmbeddingError(f"embeddings {self.model}: vectors of different sizes")
        with self._lock:
            if self._dim is None:
                self._dim = int(matrix.shape[1])
            elif matrix.shape[1] != self._dim:
                raise EmbeddingError(
                    f"embeddings {self.model}: got {matrix.shape[1]} dimensions, expected {self._dim}"
                )
            self.usage["calls"] += 1
            usage = getattr(response, "usage", None)
            self.usage["prompt_tokens"] += float(getattr(usage, "prompt_tokens", 0) or 0)
        return normalize_rows(matrix)

    def _wait(self, attempt: int, exc: openai.OpenAIError, retry_after: float | None) -> None:
        if attempt >= self.retry.max_retries:
            raise EmbeddingError(
                f"embeddings {self.model}: gave up after {attempt + 1} attempts: {exc}"
            ) from exc
        delay = self.retry.delay(attempt, retry_after)
        with self._lock:
            self.usage["retries"] += 1
        log.warning(
            "embeddings %s: %s (attempt %d of %d); retrying in %.2fs",
            self.model,
            type(exc).__name__,
            attempt + 1,
            self.retry.max_retries + 1,
            delay,
        )
        time.sleep(delay)
