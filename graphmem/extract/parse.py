"""Structured output from LLMs: the response modes, tolerant JSON loading, validation and repair.

Models answer in three ways, best first (:class:`OutputMode`): a JSON schema the server enforces,
"some JSON object", or plain text. Whatever came back, :func:`parse_extraction` gets the facts out
or raises :class:`UnparseableOutput` (the only error it raises):

* JSON is found inside code fences and prose, and broken JSON is repaired: trailing commas, single
  quotes, Python literals, truncated output (closed with ``json_repair``);
* the shape is validated with pydantic, item by item, so one bad item never costs the others;
* triples are repaired where the meaning survives and dropped otherwise, and both are counted:

  ======================  =========================================================
  2 parts or fewer        dropped (no way to tell which part is missing)
  3 parts                 kept
  4 parts                 kept, the two middle parts joined into the predicate:
                          ``[Adam Wright, is, nephew of, Alan Jackson]`` →
                          ``[Adam Wright, is nephew of, Alan Jackson]``
  5 parts or more         kept as the first three (the tail is a qualifier such as
                          ``at the city of, Cairo``), counted as repaired
  number / bool parts     turned into text (repaired)
  empty parts             removed before counting parts (repaired if 3 remain)
  nested or null parts    dropped
  ======================  =========================================================

Every fact that comes out has three non-empty, trimmed strings without line breaks.

>>> out = parse_extraction('```json\\n{"triples": [["Paris", "capital of", "France"],'
...                        ' ["Adam", "is", "nephew of", "Alan"], ["x", "y"],]}\\n```')
>>> [(f.subject, f.predicate, f.object) for f in out.facts]
[('Paris', 'capital of', 'France'), ('Adam', 'is nephew of', 'Alan')]
>>> out.repaired, out.dropped, out.syntax_repaired
(1, 1, True)
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from graphmem.errors import UnparseableOutput
from graphmem.extract.base import ExtractedEntity, ExtractedEvent, ExtractedFact


class OutputMode(StrEnum):
    """How the response is requested; a server that rejects one mode gets the next."""

    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    TEXT = "text"

    def downgrade(self) -> OutputMode | None:
        """The next, less demanding mode (``None`` after plain text)."""
        order = list(OutputMode)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


# -- loading text into JSON ------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")
#: json_repair's cost grows with input; a model answer past this is not worth repairing
_MAX_REPAIR_CHARS = 200_000


def _first_json_start(text: str) -> int:
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    return min(starts) if starts else -1


def _strict(text: str) -> Any:
    """``json.loads``, else the first JSON value after any leading prose (``raw_decode``)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    start = _first_json_start(text)
    if start < 0:
        raise ValueError("no JSON value")
    value, _end = json.JSONDecoder().raw_decode(text, start)
    return value


def _lenient(text: str) -> Any:
    """Small repairs json_repair may also do, kept so the common cases need no dependency."""
    start = _first_json_start(text)
    if start < 0:
        raise ValueError("no JSON value")
    body = _TRAILING_COMMA.sub(r"\1", text[start:])
    try:
        return _strict(body)
    except (ValueError, RecursionError):
        pass
    # single quotes, True/None: a Python literal
    end = max(body.rfind("}"), body.rfind("]"))
    return ast.literal_eval(body[: end + 1])


def _repair(text: str) -> Any:
    import json_repair  # the llm extra; imported here so the module imports without it

    start = _first_json_start(text)
    if start < 0 or len(text) > _MAX_REPAIR_CHARS:
        raise ValueError("no JSON value")
    body = text[start:].rstrip()
    if not body.endswith(("}", "]")):
        # cut off (token limit) or followed by prose: keep only complete items, so the last,
        # half-written string never becomes a fact
        cut = max(body.rfind("]"), body.rfind("}"), body.rfind('",'))
        if cut > 0:
            body = body[: cut + 1]
    return json_repair.loads(body)


def load_json(text: str) -> tuple[Any, bool]:
    """The JSON value in a model's answer, and whether its syntax had to be repaired.

    >>> load_json('Sure! {"a": [1, 2,],}')
    ({'a': [1, 2]}, True)
    >>> load_json('{"a": 1}')
    ({'a': 1}, False)
    """
    stripped = text.strip()
    if not stripped:
        raise UnparseableOutput("empty output")
    candidates = [m.group(1).strip() for m in _FENCE.finditer(stripped) if m.group(1).strip()]
    candidates.append(stripped)
    for candidate in candidates:
        try:
            value = _strict(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict | list):
            return value, False
    for loader in (_lenient, _repair):
        for candidate in candidates:
            try:
                value = loader(candidate)
            except (ImportError, ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            except Exception:  # json_repair on adversarial input: treat as "not JSON"
                continue
            if isinstance(value, dict | list) and value:
                return value, True
    raise UnparseableOutput("no JSON object or list in the output", output=stripped)


# -- validation and repair -------------------------------------------------------------------------


class _RawOutput(BaseModel):
    """The top-level shape every prompt asks for; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    named_entities: list[Any] = Field(default_factory=list)
    triples: list[Any] = Field(default_factory=list)
    events: list[Any] = Field(default_factory=list)

    @field_validator("named_entities", "triples", "events", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        # one item given bare instead of in a list
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            return [value]
        return list(value)


_ENTITY_KEYS = ("named_entities", "entities", "named entities", "ner", "entity")
_TRIPLE_KEYS = ("triples", "relations", "facts", "triplets", "relationships")
_EVENT_KEYS = ("events", "event")


_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")


def _space(text: str) -> str:
    """Trimmed, with runs of ASCII whitespace made one space (other spaces, like the narrow
    no-break space in "17\u202f000", are part of the text)."""
    return _ASCII_SPACE.sub(" ", text).strip()


def _text(value: Any) -> tuple[str | None, bool]:
    """A scalar as normalized text, and whether it had to be coerced; ``None`` if unusable."""
    if isinstance(value, str):
        return _space(value), False
    if isinstance(value, bool):
        return ("true" if value else "false"), True
    if isinstance(value, int | float):
        return (str(value) if not isinstance(value, float) or value == value else None), True
    return None, False


_TRIPLE_FIELDS = (
    ("subject", "predicate", "object"),
    ("s", "p", "o"),
    ("head", "relation", "tail"),
    ("subject", "relation", "object"),
)


def coerce_triple(item: Any) -> tuple[tuple[str, str, str] | None, bool]:
    """One triple from a list (or a subject/predicate/object dict), and whether it was repaired.

    >>> coerce_triple(["Houston", "has", "average rainfall of", "49.8 in"])
    (('Houston', 'has average rainfall of', '49.8 in'), True)
    >>> coerce_triple(["Metlako Falls", "is tall"])
    (None, False)
    """
    if isinstance(item, dict):
        lowered = {str(k).lower(): v for k, v in item.items()}
        for keys in _TRIPLE_FIELDS:
            if all(k in lowered for k in keys):
                item = [lowered[k] for k in keys]
                break
        else:
            return None, False
    if not isinstance(item, list | tuple):
        return None, False
    repaired = False
    parts: list[str] = []
    for raw in item:
        text, coerced = _text(raw)
        if text is None:
            return None, False
        repaired |= coerced
        if text:
            parts.append(text)
        else:
            repaired = True
    if len(parts) < 3:
        return None, False
    if len(parts) == 4:
        return (parts[0], f"{parts[1]} {parts[2]}", parts[3]), True
    return (parts[0], parts[1], parts[2]), repaired or len(parts) > 3


def _coerce_entity(item: Any) -> tuple[ExtractedEntity | None, bool]:
    etype: str | None = None
    if isinstance(item, dict):
        lowered = {str(k).lower(): v for k, v in item.items()}
        item = lowered.get("name", lowered.get("entity", lowered.get("text")))
        raw_type = lowered.get("type", lowered.get("label"))
        etype = _space(raw_type) or None if isinstance(raw_type, str) else None
    name, coerced = _text(item)
    if not name:
        return None, False
    return ExtractedEntity(name=name, type=etype), coerced


def _coerce_event(item: Any) -> tuple[ExtractedEvent | None, bool]:
    if isinstance(item, str):
        bare = _space(item)
        return (ExtractedEvent(description=bare), True) if bare else (None, False)
    if not isinstance(item, dict):
        return None, False
    lowered = {str(k).lower(): v for k, v in item.items()}
    desc, _ = _text(lowered.get("description", lowered.get("event", lowered.get("name"))))
    if not desc:
        return None, False
    repaired = False
    time, coerced = _text(lowered.get("time", lowered.get("date")))
    repaired |= coerced
    raw_participants = lowered.get("participants", lowered.get("entities", []))
    if not isinstance(raw_participants, list):
        raw_participants = [raw_participants]
        repaired = True
    participants: list[str] = []
    for raw in raw_participants:
        name, coerced = _text(raw)
        repaired |= coerced
        if name:
            participants.append(name)
        else:
            repaired = True
    return ExtractedEvent(description=desc, time=time or None, participants=participants), repaired


@dataclass
class ParsedOutput:
    """What came out of one answer, with the repair counters."""

    entities: list[ExtractedEntity] = field(default_factory=list)
    facts: list[ExtractedFact] = field(default_factory=list)
    events: list[ExtractedEvent] = field(default_factory=list)
    #: items kept after a fix; items dropped as unusable
    repaired: int = 0
    dropped: int = 0
    #: the JSON text itself was broken (fences, trailing commas, truncation...) and repaired
    syntax_repaired: bool = False
    #: which keys the answer had (to tell "no triples" from "answered something else")
    keys: set[str] = field(default_factory=set)


def _pick(data: dict[str, Any], names: tuple[str, ...]) -> tuple[str | None, Any]:
    lowered = {str(k).strip().lower(): k for k in data}
    for name in names:
        if name in lowered:
            return name, data[lowered[name]]
    return None, None


def _classify_list(items: list[Any]) -> str:
    """What a bare list holds: triples (lists, s/p/o dicts), events, or entity names."""
    for item in items:
        if isinstance(item, list | tuple):
            return "triples"
        if isinstance(item, dict):
            keys = {str(k).lower() for k in item}
            if any(all(k in keys for k in names) for names in _TRIPLE_FIELDS):
                return "triples"
            if "description" in keys or "event" in keys:
                return "events"
    return "named_entities"


def _shape(value: Any, depth: int = 0) -> tuple[_RawOutput, set[str]]:
    if isinstance(value, list):
        key = _classify_list(value)
        return _RawOutput.model_validate({key: value}), {key}
    if not isinstance(value, dict):
        raise UnparseableOutput(f"expected a JSON object, got {type(value).__name__}")
    picked: dict[str, Any] = {}
    for target, names in (
        ("named_entities", _ENTITY_KEYS),
        ("triples", _TRIPLE_KEYS),
        ("events", _EVENT_KEYS),
    ):
        found, items = _pick(value, names)
        if found is not None:
            picked[target] = items
    if not picked and depth < 2:
        # an answer wrapped once more: {"output": {"triples": ...}} or {"result": [[s, p, o]]}
        for inner in value.values():
            if isinstance(inner, dict) and inner:
                try:
                    return _shape(inner, depth + 1)
                except UnparseableOutput:
                    continue
            if isinstance(inner, list) and inner and _classify_list(inner) == "triples":
                return _RawOutput.model_validate({"triples": inner}), {"triples"}
        shown = ", ".join(repr(str(k)[:40]) for k in list(value)[:5]) or "none"
        raise UnparseableOutput(f"the JSON object has none of the expected keys (keys: {shown})")
    return _RawOutput.model_validate(picked), set(picked)


def parse_extraction(text: str) -> ParsedOutput:
    """Entities, facts and events from a model's answer (see the module docstring).

    A bare JSON list is read by its items: lists are triples, strings are entity names.
    Raises :class:`UnparseableOutput` and nothing else.
    """
    try:
        value, syntax_repaired = load_json(text)
        raw, keys = _shape(value)
    except UnparseableOutput:
        raise
    except (ValidationError, ValueError, TypeError, RecursionError) as exc:
        raise UnparseableOutput(f"unexpected JSON shape ({type(exc).__name__})") from exc
    out = ParsedOutput(syntax_repaired=syntax_repaired, keys=keys)
    for item in raw.named_entities:
        entity, repaired = _coerce_entity(item)
        if entity is None:
            out.dropped += 1
            continue
        out.entities.append(entity)
        out.repaired += repaired
    for item in raw.triples:
        triple, repaired = coerce_triple(item)
        if triple is None:
            out.dropped += 1
            continue
        s, p, o = triple
        out.facts.append(ExtractedFact(subject=s, predicate=p, object=o))
        out.repaired += repaired
    for item in raw.events:
        event, repaired = _coerce_event(item)
        if event is None:
            out.dropped += 1
            continue
        out.events.append(event)
        out.repaired += repaired
    return out


def parse_entity_names(text: str) -> list[str]:
    """Entity names from an NER answer (``{"named_entities": [...]}`` or a bare list).

    >>> parse_entity_names('["Paris", {"name": "France"}, 3, ""]')
    ['Paris', 'France', '3']
    """
    out = parse_extraction(text)
    return [e.name for e in out.entities]


DECISIONS = ("UPDATE", "ADD", "NOOP")


def parse_decision(text: str) -> str:
    """The decision of an update answer (``{"decision": "UPDATE"}`` or the bare word).

    >>> parse_decision('{"decision": "update"}'), parse_decision("NOOP.")
    ('UPDATE', 'NOOP')
    """
    try:
        value, _ = load_json(text)
    except UnparseableOutput:
        value = text
    if isinstance(value, dict):
        value = next((v for k, v in value.items() if k.lower() == "decision"), None)
    word = str(value or "").strip().strip(".").upper()
    if word not in DECISIONS:
        raise UnparseableOutput(f"no decision among {', '.join(DECISIONS)}", output=text)
    return word


def parse_indices(text: str, n: int) -> list[int]:
    """The fact numbers of a recognition answer (``{"relevant": [...]}`` or a bare list), those
    in ``range(n)``, in order, once each; numbers given as text count.

    >>> parse_indices('{"relevant": [2, "0", 7, 2, "x"]}', 3)
    [2, 0]
    """
    value, _ = load_json(text)
    if isinstance(value, dict):
        value = next((v for k, v in value.items() if k.lower() in _INDEX_KEYS), None)
    if not isinstance(value, list):
        raise UnparseableOutput("no list of fact numbers in the answer", output=text)
    out: list[int] = []
    for item in value:
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item.strip())
        valid = isinstance(item, int) and not isinstance(item, bool) and 0 <= item < n
        if valid and item not in out:
            out.append(item)
    return out


_INDEX_KEYS = ("relevant", "facts", "keep", "indices", "numbers")


# -- JSON schemas sent as response_format ----------------------------------------------------------

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_TRIPLES: dict[str, Any] = {"type": "array", "items": _STRINGS}
_EVENTS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "time": {"type": ["string", "null"]},
            "participants": _STRINGS,
        },
        "required": ["description", "time", "participants"],
        "additionalProperties": False,
    },
}


def output_schema(*fields: str) -> dict[str, Any]:
    """A strict JSON schema for an answer with the given top-level fields.

    >>> sorted(output_schema("named_entities", "triples")["properties"])
    ['named_entities', 'triples']
    """
    known = {
        "named_entities": _STRINGS,
        "triples": _TRIPLES,
        "events": _EVENTS,
        "relevant": {"type": "array", "items": {"type": "integer"}},
        "decision": {"type": "string", "enum": list(DECISIONS)},
    }
    return {
        "type": "object",
        "properties": {name: known[name] for name in fields},
        "required": list(fields),
        "additionalProperties": False,
    }
