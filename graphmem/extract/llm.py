"""LLM extraction through any OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, Ollama,
llama.cpp), robust to what real servers and models do.

* **Concurrency**: up to ``concurrency`` requests in flight (an ``asyncio.Semaphore``).
* **Retries**: 429, 408/409, 5xx, timeouts and connection errors are retried with exponential
  backoff and jitter, honouring ``Retry-After``; the SDK's own retries are off, so the counts
  are exact. 401/403/404 stop every later request of the ingest at once (a wrong key, model or
  URL will not get better).
* **Structured output**: ``response_format`` with a JSON schema, else ``json_object``, else plain
  text; a server that rejects a mode is asked again in the next one, and the mode that worked is
  kept for the following requests. Parsing and repair: :mod:`graphmem.extract.parse`.
* **Budget**: ``max_tokens_budget`` / ``max_cost_budget`` (with ``prices``) per ingest. Once spent,
  the passages not done yet come back failed with a ``budget exceeded`` error: stored, marked,
  retryable, nothing lost. Requests already in flight finish, so the budget can be overshot by at
  most ``concurrency`` requests. :meth:`LLMExtractor.reset_budget` starts a new ingest.
* **Accounting**: each :class:`~graphmem.extract.base.Extraction` carries its ``usage``
  (prompt/completion/cached tokens, calls, retries, cost); :attr:`LLMExtractor.usage` is the total.

A passage never raises: failures come back as ``Extraction(error=...)``, which the ingest stores
as a failed passage for ``--retry-failed``.

>>> ex = LLMExtractor("gpt-4o-mini", base_url="http://127.0.0.1:9/v1", api_key="x")
>>> ex.name, ex.cacheable, ex.version.startswith("1.one_step.")
('llm:gpt-4o-mini', True, True)
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Literal, TypeVar

import openai

from graphmem.endpoint import RETRY_STATUSES, ModelPrice, RetryPolicy, parse_retry_after
from graphmem.errors import BudgetExceeded, ConfigError, ExtractionError, UnparseableOutput
from graphmem.extract import prompts
from graphmem.extract.base import Extraction
from graphmem.extract.llm_calls import (
    AnswerCache,
    LLMUsage,
    LoopState,
    LoopThread,
    Spend,
    answer_text,
    backoff,
    describe_error,
    expect_keys,
    lower_mode,
    rejects_format,
    request_kwargs,
)
from graphmem.extract.parse import (
    OutputMode,
    ParsedOutput,
    parse_decision,
    parse_entity_names,
    parse_indices,
)
from graphmem.models import Passage

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")

#: HTTP statuses after which no later request can succeed (bad key, model or URL)
_FATAL_STATUSES = frozenset({401, 403, 404})
#: short answers kept (a repeated question or candidate conflict costs no call)
RECOGNITION_CACHE = 1024


class LLMExtractor:
    """Entities, facts and events from passages, by an OpenAI-compatible chat model.

    ``name`` is ``"llm:<model>"`` and ``version`` the prompt version: together with the passage
    hash they key the ingest's extraction cache, so re-ingesting costs no calls.

    >>> ex = LLMExtractor("qwen2.5", base_url="http://127.0.0.1:9/v1", concurrency=8,
    ...                   max_tokens_budget=200_000)
    >>> ex.concurrency, ex.budget_exceeded
    (8, False)
    """

    cacheable = True

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        concurrency: int = 4,
        temperature: float = 0.0,
        max_retries: int = 4,
        max_output_tokens: int = 2048,
        max_tokens_budget: int | None = None,
        max_cost_budget: float | None = None,
        prices: Mapping[str, ModelPrice] | None = None,
        prompt: Literal["one_step", "two_step"] = "one_step",
        events: bool = True,
        output_mode: OutputMode | str = OutputMode.JSON_SCHEMA,
        retry: RetryPolicy | None = None,
        seed: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        if not model:
            raise ConfigError("LLMExtractor needs a model name")
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        if prompt not in ("one_step", "two_step"):
            raise ConfigError(f"prompt must be 'one_step' or 'two_step', got {prompt!r}")
        self.model, self.base_url, self.timeout = model, base_url, timeout
        self.concurrency, self.temperature = concurrency, temperature
        self.max_output_tokens, self.seed = max_output_tokens, seed
        self.prompt, self.events = prompt, events
        self.extra_body = dict(extra_body or {})
        self.retry = (retry or RetryPolicy()).model_copy(update={"max_retries": max_retries})
        self.max_tokens_budget, self.max_cost_budget = max_tokens_budget, max_cost_budget
        self.price = (prices or {}).get(model)
        if max_cost_budget is not None and self.price is None:
            raise ConfigError(f"max_cost_budget needs a price for model {model!r} in prices")
        try:
            self.output_mode = OutputMode(output_mode)
        except ValueError as exc:
            raise ConfigError(f"unknown output_mode {output_mode!r}") from exc
        self._api_key = api_key if api_key else ("unused" if base_url else None)
        self.name = f"llm:{model}"
        self.version = prompts.prompt_version(prompt, events=events)
        self._lock = threading.Lock()
        #: what was spent, over the extractor's life and the current ingest (the budget)
        self.spend = Spend(model, self.price, max_tokens_budget, max_cost_budget, self._lock)
        self._fatal: str | None = None
        #: a request succeeded in ``output_mode`` (a downgrade is then final)
        self._mode_confirmed = False
        self._runner: LoopThread | None = None
        # short calls' parsed answers (recognitions, update decisions), by their texts
        self._answers = AnswerCache(RECOGNITION_CACHE)
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopState] = (
            weakref.WeakKeyDictionary()
        )

    # -- public API --------------------------------------------------------------------------

    @property
    def usage(self) -> LLMUsage:
        """Running totals over the extractor's life."""
        return self.spend.usage

    @property
    def ingest_usage(self) -> LLMUsage:
        """Running totals over the current ingest (what the budget counts)."""
        return self.spend.ingest

    @property
    def budget_exceeded(self) -> bool:
        """True once this ingest's budget is spent (later passages fail without a call)."""
        return self.spend.budget_error is not None

    def check_budget(self) -> None:
        """Raise :class:`~graphmem.errors.BudgetExceeded` if this ingest's budget is spent."""
        if self.spend.budget_error is not None:
            raise BudgetExceeded(self.spend.budget_error)

    def reset_budget(self) -> None:
        """Start a new ingest: zero the per-ingest counters, forget a fatal error."""
        with self._lock:
            self.spend.reset()
            self._fatal = None

    def extract(self, passages: Sequence[Passage]) -> list[Extraction]:
        """One :class:`Extraction` per passage, in order (sync; safe inside a running loop)."""
        return self._run(self.aextract(passages))

    async def aextract(self, passages: Sequence[Passage]) -> list[Extraction]:
        """The async form of :meth:`extract`; requests overlap up to ``concurrency``."""
        state = self._state()
        return list(await asyncio.gather(*(self._extract_one(state, p) for p in passages)))

    def question_entities(self, question: str) -> list[str]:
        """Entities named in a question (to seed retrieval); ``[]`` if the call fails."""
        return self._run(self.aquestion_entities(question))

    async def aquestion_entities(self, question: str) -> list[str]:
        """The async form of :meth:`question_entities`."""
        what = "entities for the question"
        text = await self._short(prompts.question_messages(question), "named_entities", what)
        return self._parsed(text, parse_entity_names, what) or []

    def recognize_facts(self, question: str, facts: Sequence[str]) -> list[int] | None:
        """Which of ``facts`` (texts) bear on ``question``, as indices: HippoRAG 2's recognition
        memory, one short call per question, cached by question and facts; None if the call fails."""
        messages = prompts.recognition_messages(question, facts)
        return self._cached(
            ("recognize", question, *facts),
            messages,
            "relevant",
            "fact recognition for the question",
            lambda text: parse_indices(text, len(facts)),
        )

    def judge_update(self, held: str, newer: str, slot: str) -> str | None:
        """Mem0's decision on a candidate conflict: "UPDATE" (``newer`` replaces ``held``), "ADD"
        or "NOOP"; one short call, cached by its texts; None if the call fails.

        graphmem never deletes on it: an UPDATE ends the held fact (``graphmem.ingest.judge``).
        """
        messages = prompts.update_messages(held, newer, slot)
        return self._cached(
            ("update", held, newer, slot), messages, "decision", "update decision", parse_decision
        )

    def _cached(
        self,
        key: tuple[str, ...],
        messages: list[prompts.Message],
        field: str,
        what: str,
        parse: Callable[[str], V],
    ) -> V | None:
        """A short call's parsed answer, kept by ``key`` (a repeated call costs nothing); None
        (not kept) if the call or the parse fails."""
        hit, found = self._answers.get(key)
        if hit:
            return found  # type: ignore[no-any-return]

        async def call() -> V | None:
            return self._parsed(await self._short(messages, field, what), parse, what)

        value = self._run(call())
        if value is not None:
            self._answers.put(key, value)
        return value

    def _parsed(self, text: str | None, parse: Callable[[str], V], what: str) -> V | None:
        """``parse(text)``; None (logged) for no text or an unreadable one."""
        if text is None:
            return None
        try:
            return parse(text)
        except ExtractionError as exc:
            log.warning("llm %s: no %s: %s", self.model, what, exc)
            return None

    async def _short(self, messages: list[prompts.Message], field: str, what: str) -> str | None:
        """One short call's answer text, counted in the spend; None (logged) if it fails."""
        acc = LLMUsage()
        try:
            return await self._chat(self._state(), messages, (field,), acc, what)
        except ExtractionError as exc:
            log.warning("llm %s: no %s: %s", self.model, what, exc)
            return None
        finally:
            self.spend.account(acc, passage=False)

    def close(self) -> None:
        """Close the HTTP clients and the private event loop."""
        runner, self._runner = self._runner, None
        if runner is not None:
            state = self._states.pop(runner.loop, None)
            if state is not None:
                runner.run(state.client.close())
            runner.stop()

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop."""
        state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.client.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._runner is None:
                self._runner = LoopThread()
            runner = self._runner
        return runner.run(coro)

    def _state(self) -> LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            try:
                client = openai.AsyncOpenAI(
                    api_key=self._api_key,
                    base_url=self.base_url,
                    timeout=self.timeout,
                    max_retries=0,
                )
            except openai.OpenAIError as exc:
                raise ConfigError(f"cannot configure the LLM client: {exc}") from exc
            state = LoopState(client, asyncio.Semaphore(self.concurrency))
            self._states[loop] = state
        return state

    def _gate(self) -> None:
        """Refuse to send a request once the budget is spent or a fatal error was seen."""
        with self._lock:
            if self.spend.budget_error is not None:
                raise BudgetExceeded(self.spend.budget_error)
            if self._fatal is not None:
                raise ExtractionError(self._fatal)

    def _request(
        self, messages: list[prompts.Message], fields: tuple[str, ...], mode: OutputMode
    ) -> dict[str, Any]:
        return request_kwargs(
            self.model,
            messages,
            fields,
            mode,
            temperature=self.temperature,
            max_tokens=self.max_output_tokens,
            seed=self.seed,
            extra_body=self.extra_body,
        )

    async def _chat(
        self,
        state: LoopState,
        messages: list[prompts.Message],
        fields: tuple[str, ...],
        acc: LLMUsage,
        what: str,
    ) -> str:
        """One chat completion with retries and mode downgrades; returns the answer's text."""
        mode = self.output_mode
        probed_from: OutputMode | None = None
        attempt = 0
        while True:
            self._gate()
            try:
                try:
                    async with state.semaphore:
                        self._gate()
                        # another request may have learnt meanwhile that the server needs less
                        mode = lower_mode(mode, self.output_mode)
                        response = await state.client.chat.completions.create(
                            **self._request(messages, fields, mode)
                        )
                except openai.APIStatusError as exc:
                    if not rejects_format(exc, mode):
                        raise
                    probed_from = probed_from or mode
                    mode = self._downgrade(mode, what, exc)
                    continue
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if probed_from is not None:
                    self._undo_downgrade(probed_from)
                raise ExtractionError(f"{what}: request refused: {describe_error(exc)}") from exc
            except openai.APIStatusError as exc:
                if exc.status_code in _FATAL_STATUSES:
                    message = (
                        f"{exc.status_code} from {self.base_url or 'OpenAI'}: {describe_error(exc)}"
                    )
                    with self._lock:
                        if self._fatal is None:
                            log.error(
                                "llm %s: %s; stopping this ingest's requests", self.model, message
                            )
                        self._fatal = message
                    raise ExtractionError(message) from exc
                if exc.status_code not in RETRY_STATUSES:
                    raise ExtractionError(f"{what}: {describe_error(exc)}") from exc
                retry_after = parse_retry_after(exc.response.headers)
                await backoff(self.retry, self.model, acc, what, attempt, exc, retry_after)
                attempt += 1
                continue
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                await backoff(self.retry, self.model, acc, what, attempt, exc, None)
                attempt += 1
                continue
            self.spend.record(acc, response)
            with self._lock:
                if mode is self.output_mode:
                    self._mode_confirmed = True
            return answer_text(response, what)

    def _downgrade(self, mode: OutputMode, what: str, exc: openai.APIStatusError) -> OutputMode:
        """The server refused ``mode``: use the next one, here and (until a request proves the
        refusal was about something else) for every request."""
        lower = mode.downgrade()
        assert lower is not None  # rejects_format is False in text mode
        with self._lock:
            if lower_mode(lower, self.output_mode) is lower and self.output_mode is not lower:
                self.output_mode, self._mode_confirmed = lower, False
                log.warning(
                    "llm %s: %s: server refused response_format=%s (%s); using %s",
                    self.model,
                    what,
                    mode.value,
                    describe_error(exc),
                    lower.value,
                )
        return lower

    def _undo_downgrade(self, mode: OutputMode) -> None:
        """Every mode down to text was refused: the request was bad, not the format."""
        with self._lock:
            if not self._mode_confirmed and lower_mode(mode, self.output_mode) is self.output_mode:
                log.warning("llm %s: back to response_format=%s", self.model, mode.value)
                self.output_mode = mode

    async def _extract_one(self, state: LoopState, passage: Passage) -> Extraction:
        acc = LLMUsage()
        what = f"passage {passage.id}"
        start = time.perf_counter()
        try:
            parsed = await self._parse_passage(state, passage, acc, what)
        except (ExtractionError, ConfigError) as exc:
            error = str(exc)
            if isinstance(exc, BudgetExceeded):
                error = f"budget exceeded: {exc}"
            elif isinstance(exc, UnparseableOutput):
                log.warning("llm %s: %s: unusable answer: %s", self.model, what, exc)
            self.spend.account(acc, passage=True, failed=True)
            return Extraction(error=error, usage=acc.as_usage())
        except Exception as exc:  # a passage must never take the batch down
            log.exception("llm %s: %s: unexpected failure", self.model, what)
            self.spend.account(acc, passage=True, failed=True)
            return Extraction(error=f"{type(exc).__name__}: {exc}", usage=acc.as_usage())
        acc.repaired, acc.dropped = parsed.repaired, parsed.dropped
        acc.outputs_repaired = int(parsed.syntax_repaired)
        self.spend.account(acc, passage=True)
        if parsed.syntax_repaired or parsed.dropped:
            log.info(
                "llm %s: %s: %s; %d items repaired, %d dropped",
                self.model,
                what,
                "broken JSON repaired" if parsed.syntax_repaired else "answer parsed",
                parsed.repaired,
                parsed.dropped,
            )
        log.debug(
            "llm %s: %s: %d entities, %d facts, %d events in %.2fs",
            self.model,
            what,
            len(parsed.entities),
            len(parsed.facts),
            len(parsed.events),
            time.perf_counter() - start,
        )
        return Extraction(
            entities=parsed.entities,
            facts=parsed.facts,
            events=parsed.events if self.events else [],
            repaired=parsed.repaired,
            dropped=parsed.dropped,
            usage=acc.as_usage(),
        )

    async def _parse_passage(
        self, state: LoopState, passage: Passage, acc: LLMUsage, what: str
    ) -> ParsedOutput:
        title = passage.title
        if self.prompt == "one_step":
            fields: tuple[str, ...] = ("named_entities", "triples")
            if self.events:
                fields += ("events",)
            messages = prompts.one_step_messages(passage.text, title, events=self.events)
            answer = await self._chat(state, messages, fields, acc, what)
            return expect_keys(answer, "triples", "named_entities")
        ner = expect_keys(
            await self._chat(
                state,
                prompts.ner_messages(passage.text, title),
                ("named_entities",),
                acc,
                what + " (NER)",
            ),
            "named_entities",
        )
        names = [e.name for e in ner.entities]
        fields = ("triples", "events") if self.events else ("triples",)
        messages = prompts.openie_messages(passage.text, names, title, events=self.events)
        openie = expect_keys(
            await self._chat(state, messages, fields, acc, what + " (OpenIE)"), "triples"
        )
        entities = ner.entities + [
            e for e in openie.entities if e.name not in {n.name for n in ner.entities}
        ]
        return ParsedOutput(
            entities=list(entities),
            facts=openie.facts,
            events=openie.events,
            repaired=ner.repaired + openie.repaired,
            dropped=ner.dropped + openie.dropped,
            syntax_repaired=ner.syntax_repaired or openie.syntax_repaired,
            keys=ner.keys | openie.keys,
        )


__all__ = ["LLMExtractor", "LLMUsage"]
