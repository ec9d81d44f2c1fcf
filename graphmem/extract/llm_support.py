"""The parts of :mod:`graphmem.extract.llm` that are not the request flow: usage counters, the
private event loop behind the sync API, and reading a chat answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from pydantic import BaseModel

from graphmem.errors import UnparseableOutput
from graphmem.extract.parse import OutputMode, ParsedOutput, parse_extraction

log = logging.getLogger("graphmem.extract.llm")

T = TypeVar("T")


class LLMUsage(BaseModel):
    """Token and call counters; one per passage, and running totals on the extractor."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    #: requests answered by the server (the ones that cost tokens)
    calls: int = 0
    #: requests sent again after a 429, 5xx, timeout or connection error
    retries: int = 0
    cost_usd: float = 0.0
    #: passages extracted and failed; items repaired and dropped; answers whose JSON was repaired
    passages: int = 0
    failed: int = 0
    repaired: int = 0
    dropped: int = 0
    outputs_repaired: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: LLMUsage, fields: Sequence[str] | None = None) -> None:
        for name in fields if fields is not None else type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_usage(self) -> dict[str, float]:
        """The per-passage ``Extraction.usage`` dict (token and call counters)."""
        keys = ("prompt_tokens", "completion_tokens", "cached_tokens", "calls", "retries")
        out: dict[str, float] = {k: float(getattr(self, k)) for k in keys}
        if self.cost_usd:
            out["cost_usd"] = self.cost_usd
        if self.outputs_repaired:
            out["outputs_repaired"] = float(self.outputs_repaired)
        return out


@dataclass
class LoopState:
    client: openai.AsyncOpenAI
    semaphore: asyncio.Semaphore


class LoopThread:
    """A private event loop in a daemon thread, so the sync API works inside a running loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="graphmem-llm", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("LLMExtractor's sync API called from its own event loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "grammar", "structured output")


def rejects_format(exc: openai.APIStatusError, mode: OutputMode) -> bool:
    """Did the server refuse the request's response_format? 400/422 in a structured mode are
    taken as that (a probe in the next mode tells); some servers answer 500 for it, and name it."""
    if mode is OutputMode.TEXT:
        return False
    if exc.status_code in (400, 422):
        return True
    text = f"{getattr(exc, 'message', '')} {getattr(exc, 'body', '')}".lower()
    return exc.status_code >= 500 and any(word in text for word in _FORMAT_WORDS)


def lower_mode(a: OutputMode, b: OutputMode) -> OutputMode:
    order = list(OutputMode)
    return a if order.index(a) >= order.index(b) else b


def expect_keys(text: str, *keys: str) -> ParsedOutput:
    """Parse an answer that must contain one of ``keys`` (``{"triples": []}`` is fine)."""
    parsed = parse_extraction(text)
    if not parsed.keys.intersection(keys):
        raise UnparseableOutput(f"the answer has none of {', '.join(keys)}", output=text)
    return parsed


def answer_text(response: Any, what: str) -> str:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise UnparseableOutput(f"{what}: the server returned no choices")
    message = getattr(choices[0], "message", None)
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise UnparseableOutput(f"{what}: the model refused", output=str(refusal))
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise UnparseableOutput(f"{what}: empty answer")
    if getattr(choices[0], "finish_reason", None) == "length":
        log.info("%s: answer cut at the token limit; repairing the truncated JSON", what)
    return content


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        body = " ".join((getattr(exc, "message", "") or "").split())
        return f"HTTP {exc.status_code} {body}".strip()[:240]
    if isinstance(exc, openai.APITimeoutError):
        return "request timed out"
    return f"{type(exc).__name__}: {exc}"[:300]


__all__ = [
    "LLMUsage",
    "LoopState",
    "LoopThread",
    "answer_text",
    "describe_error",
    "expect_keys",
    "lower_mode",
    "rejects_format",
]
