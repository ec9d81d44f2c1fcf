"""What every OpenAI-compatible endpoint client shares: the retry policy and per-model prices.

Used by the chat extractor (:mod:`graphmem.extract.llm`) and the embeddings client
(:mod:`graphmem.embed.openai`); it imports neither, so neither depends on the other.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class ModelPrice(BaseModel):
    """US dollars per million tokens. ``cached`` defaults to ``prompt`` when unknown.

    >>> ModelPrice(prompt=0.15, completion=0.6).cost(1_000_000, 0, 0)
    0.15
    """

    model_config = ConfigDict(frozen=True)

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)
    cached: float | None = Field(default=None, ge=0)

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> float:
        cached = min(cached_tokens, prompt_tokens)
        cached_price = self.prompt if self.cached is None else self.cached
        return (
            (prompt_tokens - cached) * self.prompt
            + cached * cached_price
            + completion_tokens * self.completion
        ) / 1_000_000


#: retried: rate limits, timeouts and server-side failures
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter; a server's ``Retry-After`` wins when it gives one.

    Attempt ``n`` (0-based) waits ``min(max_delay, base_delay * 2**n)`` scaled by a random factor
    in [0.5, 1]; with ``Retry-After`` it waits that long (capped at ``max_retry_after``).

    >>> p = RetryPolicy(base_delay=1.0, max_delay=8.0)
    >>> 2.0 <= p.delay(2) <= 4.0
    True
    >>> p.delay(0, retry_after=3.0)
    3.0
    """

    model_config = ConfigDict(frozen=True)

    max_retries: int = Field(default=4, ge=0)
    base_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=30.0, ge=0)
    max_retry_after: float = Field(default=120.0, ge=0)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * float(2**attempt))
        return float(ceiling * (0.5 + random.random() / 2))


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    >>> parse_retry_after({"retry-after": "2"})
    2.0
    >>> parse_retry_after({"retry-after-ms": "250"})
    0.25
    >>> parse_retry_after({"retry-after": "soon"}) is None
    True
    """
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
