"""What surrounds one LLM call of :mod:`graphmem.extract.llm` (not the request flow itself):
usage counters and the budget they are held to, the private event loop behind the sync API,
building a request and reading a chat answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from pydantic import BaseModel

from graphmem.endpoint import ModelPrice, RetryPolicy
from graphmem.errors import ExtractionError, UnparseableOutput
from graphmem.extract.parse import OutputMode, ParsedOutput, output_schema, parse_extraction
from graphmem.extract.prompts import Message

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


#: counted when a request is answered; the others when a passage is finished
_SPEND_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens", "calls", "cost_usd")
_OUTCOME_FIELDS = ("retries", "passages", "failed", "repaired", "dropped", "outputs_repaired")


class Spend:
    """What an extractor spent, over its life and over the current ingest, against the ingest's
    token and cost budget. ``lock`` is the extractor's (one lock guards all its shared state)."""

    def __init__(
        self,
        model: str,
        price: ModelPrice | None,
        max_tokens: int | None,
        max_cost: float | None,
        lock: threading.Lock,
    ) -> None:
        self.model, self.price = model, price
        self.max_tokens, self.max_cost = max_tokens, max_cost
        self.usage = LLMUsage()
        self.ingest = LLMUsage()
        #: why the budget is spent (None while it is not)
        self.budget_error: str | None = None
        self._lock = lock

    def reset(self) -> None:
        """Zero the per-ingest counters (the caller holds the lock)."""
        self.ingest = LLMUsage()
        self.budget_error = None

    def account(self, acc: LLMUsage, *, passage: bool, failed: bool = False) -> None:
        """Add a finished passage's counters (tokens were added as they were spent)."""
        if passage:
            acc.passages, acc.failed = 1, int(failed)
        with self._lock:
            self.usage.add(acc, _OUTCOME_FIELDS)
            self.ingest.add(acc, _OUTCOME_FIELDS)

    def record(self, acc: LLMUsage, response: Any) -> None:
        """Count one answered request, in the passage's counters and (at once, for the
        budget) in the totals."""
        call = LLMUsage(calls=1)
        usage = getattr(response, "usage", None)
        if usage is not None:
            call.prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
            call.completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
            details = getattr(usage, "prompt_tokens_details", None)
            call.cached_tokens = int(getattr(details, "cached_tokens", 0) or 0)
        if self.price is not None:
            call.cost_usd = self.price.cost(
                call.prompt_tokens, call.completion_tokens, call.cached_tokens
            )
        acc.add(call, _SPEND_FIELDS)
        with self._lock:
            self.usage.add(call, _SPEND_FIELDS)
            self.ingest.add(call, _SPEND_FIELDS)
            self._check_limits()

    def _check_limits(self) -> None:
        spent = self.ingest
        if self.budget_error is not None:
            return
        if self.max_tokens is not None and spent.total_tokens >= self.max_tokens:
            self.budget_error = (
                f"token budget of {self.max_tokens:,} reached "
                f"({spent.total_tokens:,} tokens used in this ingest)"
            )
        elif self.max_cost is not None and spent.cost_usd >= self.max_cost:
            self.budget_error = (
                f"cost budget of ${self.max_cost:.4f} reached "
                f"(${spent.cost_usd:.4f} spent in this ingest)"
            )
        if self.budget_error is not None:
            log.warning(
                "llm %s: %s; the remaining passages are stored as failed, retry them later "
                "with --retry-failed",
                self.model,
                self.budget_error,
            )


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


def request_kwargs(
    model: str,
    messages: Sequence[Message],
    fields: tuple[str, ...],
    mode: OutputMode,
    *,
    temperature: float,
    max_tokens: int,
    seed: int | None,
    extra_body: Mapping[str, Any],
) -> dict[str, Any]:
    """The arguments of one chat completion asking for ``fields`` in output ``mode``."""
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
    }
    if seed is not None:
        kwargs["seed"] = seed
    if mode is OutputMode.JSON_SCHEMA:
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": "_".join(fields),
                "schema": output_schema(*fields),
                "strict": True,
            },
        }
    elif mode is OutputMode.JSON_OBJECT:
        kwargs["response_format"] = {"type": "json_object"}
    if extra_body:
        kwargs["extra_body"] = extra_body
    return kwargs


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


async def backoff(
    retry: RetryPolicy,
    model: str,
    acc: LLMUsage,
    what: str,
    attempt: int,
    exc: openai.OpenAIError,
    retry_after: float | None,
) -> None:
    """Wait before retry ``attempt + 1`` (as ``retry`` and a Retry-After say), counting it in
    ``acc``; :class:`ExtractionError` when the retries are spent."""
    if attempt >= retry.max_retries:
        raise ExtractionError(
            f"{what}: gave up after {attempt + 1} attempts: {describe_error(exc)}"
        ) from exc
    delay = retry.delay(attempt, retry_after)
    acc.retries += 1
    log.warning(
        "llm %s: %s: %s (attempt %d of %d); retrying in %.2fs%s",
        model,
        what,
        describe_error(exc),
        attempt + 1,
        retry.max_retries + 1,
        delay,
        " as Retry-After asks" if retry_after is not None else "",
    )
    await asyncio.sleep(delay)


class AnswerCache:
    """Short calls' parsed answers by key, the ``size`` most recent kept; thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


__all__ = [
    "AnswerCache",
    "LLMUsage",
    "LoopState",
    "LoopThread",
    "answer_text",
    "backoff",
    "describe_error",
    "expect_keys",
    "lower_mode",
    "rejects_format",
]
