"""Settings for OpenAI-compatible endpoints (chat for extraction, /v1/embeddings).

The retry policy both endpoints share and per-model prices are in :mod:`graphmem.endpoint`.

Nothing here reads the environment on import: the CLI and the server call
:meth:`LLMSettings.from_env` at their entry point and pass the result on.

>>> s = LLMSettings.from_env({"GRAPHMEM_LLM_MODEL": "gpt-4o-mini", "GRAPHMEM_LLM_CONCURRENCY": "8"})
>>> s.model, s.concurrency
('gpt-4o-mini', 8)
>>> s.merged(concurrency=2, base_url=None).concurrency
2
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graphmem.endpoint import ModelPrice
from graphmem.errors import ConfigError

if TYPE_CHECKING:
    from graphmem.embed.openai import OpenAIEmbedder
    from graphmem.extract.llm import LLMExtractor


def _env_float(environ: Mapping[str, str], name: str) -> float | None:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc


def _env_int(environ: Mapping[str, str], name: str) -> int | None:
    value = _env_float(environ, name)
    if value is None:
        return None
    if value != int(value):
        raise ConfigError(f"{name}={environ[name]!r} is not a whole number")
    return int(value)


class LLMSettings(BaseModel):
    """Everything needed to build an :class:`~graphmem.extract.llm.LLMExtractor` (and, through
    ``embed_*``, an :class:`~graphmem.embed.openai.OpenAIEmbedder`).

    Environment variables (read by :meth:`from_env` only):

    ==================================  ====================================================
    ``GRAPHMEM_LLM_BASE_URL``           e.g. ``http://127.0.0.1:8080/v1``; unset: OpenAI
    ``GRAPHMEM_LLM_MODEL``              chat model name (``gpt-4o-mini`` when unset)
    ``GRAPHMEM_LLM_API_KEY``            falls back to ``OPENAI_API_KEY``
    ``GRAPHMEM_LLM_CONCURRENCY``        requests in flight (4)
    ``GRAPHMEM_LLM_TIMEOUT``            seconds per request (60)
    ``GRAPHMEM_LLM_TEMPERATURE``        (0)
    ``GRAPHMEM_LLM_MAX_RETRIES``        retries per request on 429/5xx/timeouts (4)
    ``GRAPHMEM_LLM_MAX_OUTPUT_TOKENS``  completion limit per request (2048)
    ``GRAPHMEM_LLM_MAX_TOKENS_BUDGET``  stop an ingest after this many tokens
    ``GRAPHMEM_LLM_MAX_COST_BUDGET``    stop an ingest after this many US dollars
    ``GRAPHMEM_LLM_PRICE_PROMPT``       $ per million prompt tokens for the model
    ``GRAPHMEM_LLM_PRICE_COMPLETION``   $ per million completion tokens
    ``GRAPHMEM_LLM_PRICE_CACHED``       $ per million cached prompt tokens
    ``GRAPHMEM_LLM_PROMPT``             ``one_step`` (default) or ``two_step``
    ``GRAPHMEM_LLM_OUTPUT_MODE``        first mode to try: json_schema, json_object, text
    ``GRAPHMEM_EMBED_BASE_URL``         /v1/embeddings endpoint (defaults to the LLM's)
    ``GRAPHMEM_EMBED_MODEL``            embedding model (``text-embedding-3-small``)
    ``GRAPHMEM_EMBED_API_KEY``          defaults to the LLM's key
    ==================================  ====================================================
    """

    model_config = ConfigDict(extra="forbid")

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    concurrency: int = Field(default=4, ge=1, le=1024)
    timeout: float = Field(default=60.0, gt=0)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_retries: int = Field(default=4, ge=0, le=100)
    max_output_tokens: int = Field(default=2048, ge=16)
    max_tokens_budget: int | None = Field(default=None, ge=1)
    max_cost_budget: float | None = Field(default=None, gt=0)
    price: ModelPrice | None = None
    prompt: Literal["one_step", "two_step"] = "one_step"
    output_mode: Literal["json_schema", "json_object", "text"] = "json_schema"
    events: bool = True
    embed_base_url: str | None = None
    embed_model: str = "text-embedding-3-small"
    embed_api_key: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LLMSettings:
        """Settings from ``GRAPHMEM_*`` variables (pass ``os.environ``); unset ones keep defaults."""
        e = environ
        values: dict[str, Any] = {
            "model": e.get("GRAPHMEM_LLM_MODEL"),
            "base_url": e.get("GRAPHMEM_LLM_BASE_URL"),
            "api_key": e.get("GRAPHMEM_LLM_API_KEY") or e.get("OPENAI_API_KEY"),
            "concurrency": _env_int(e, "GRAPHMEM_LLM_CONCURRENCY"),
            "timeout": _env_float(e, "GRAPHMEM_LLM_TIMEOUT"),
            "temperature": _env_float(e, "GRAPHMEM_LLM_TEMPERATURE"),
            "max_retries": _env_int(e, "GRAPHMEM_LLM_MAX_RETRIES"),
            "max_output_tokens": _env_int(e, "GRAPHMEM_LLM_MAX_OUTPUT_TOKENS"),
            "max_tokens_budget": _env_int(e, "GRAPHMEM_LLM_MAX_TOKENS_BUDGET"),
            "max_cost_budget": _env_float(e, "GRAPHMEM_LLM_MAX_COST_BUDGET"),
            "prompt": e.get("GRAPHMEM_LLM_PROMPT"),
            "output_mode": e.get("GRAPHMEM_LLM_OUTPUT_MODE"),
            "embed_base_url": e.get("GRAPHMEM_EMBED_BASE_URL"),
            "embed_model": e.get("GRAPHMEM_EMBED_MODEL"),
            "embed_api_key": e.get("GRAPHMEM_EMBED_API_KEY"),
        }
        prices = {
            "prompt": _env_float(e, "GRAPHMEM_LLM_PRICE_PROMPT"),
            "completion": _env_float(e, "GRAPHMEM_LLM_PRICE_COMPLETION"),
            "cached": _env_float(e, "GRAPHMEM_LLM_PRICE_CACHED"),
        }
        if prices["prompt"] is not None or prices["completion"] is not None:
            if prices["prompt"] is None or prices["completion"] is None:
                raise ConfigError(
                    "set both GRAPHMEM_LLM_PRICE_PROMPT and GRAPHMEM_LLM_PRICE_COMPLETION"
                )
            values["price"] = prices
        return cls._build({k: v for k, v in values.items() if v not in (None, "")})

    @classmethod
    def _build(cls, values: Mapping[str, Any]) -> LLMSettings:
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"LLM setting {where}: {first['msg']}") from exc

    def merged(self, **overrides: Any) -> LLMSettings:
        """These settings with the given values replaced; ``None`` means "keep" (CLI options)."""
        values = self.model_dump()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return self._build(values)

    def extractor(self) -> LLMExtractor:
        """An :class:`~graphmem.extract.llm.LLMExtractor` with these settings."""
        from graphmem.extract.llm import LLMExtractor

        return LLMExtractor(
            self.model,
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=self.timeout,
            concurrency=self.concurrency,
            temperature=self.temperature,
            max_retries=self.max_retries,
            max_output_tokens=self.max_output_tokens,
            max_tokens_budget=self.max_tokens_budget,
            max_cost_budget=self.max_cost_budget,
            prices={self.model: self.price} if self.price else None,
            prompt=self.prompt,
            output_mode=self.output_mode,
            events=self.events,
        )

    def embedder(self, *, dim: int | None = None) -> OpenAIEmbedder:
        """An :class:`~graphmem.embed.openai.OpenAIEmbedder` for ``embed_model``."""
        from graphmem.embed.openai import OpenAIEmbedder

        return OpenAIEmbedder(
            self.embed_model,
            base_url=self.embed_base_url or self.base_url,
            api_key=self.embed_api_key or self.api_key,
            timeout=self.timeout,
            max_retries=self.max_retries,
            dim=dim,
        )
