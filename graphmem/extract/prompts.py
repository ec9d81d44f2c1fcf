"""Versioned prompts for LLM extraction. Changing any text here changes :func:`prompt_version`,
so cached extractions made with older prompts are not reused.

Two ways to get entities and triples (HippoRAG's format: ``{"named_entities": [...]}`` then
``{"triples": [[s, p, o], ...]}``):

* ``one_step`` (default): one call returns entities, triples and events together;
* ``two_step``: HippoRAG's NER call, then an OpenIE call given the passage and its entities.

``one_step`` sends the passage once instead of twice and makes one call instead of two: about half
the prompt tokens and latency (measured in the issue-3 note). HippoRAG's two-step split was tuned
for GPT-3.5; without a model here whose quality can be measured, the cheaper path is the default.

>>> msgs = one_step_messages("Paris is the capital of France.", title="Paris")
>>> [m["role"] for m in msgs]
['system', 'user', 'assistant', 'user']
>>> "Paris is the capital of France." in msgs[-1]["content"]
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Literal

#: bump by hand for meaning changes; the hash in :func:`prompt_version` catches the rest
PROMPT_VERSION = "1"

PromptStyle = Literal["one_step", "two_step"]
Message = dict[str, str]

# -- the worked example every prompt shows once ----------------------------------------------------

_EXAMPLE_TITLE = "Lake Bled Rowing Centre"
_EXAMPLE_TEXT = (
    "The Lake Bled Rowing Centre is a regatta course in Bled, Slovenia, opened in 1948. "
    "It hosted the World Rowing Championships in 1966 and again in 2011, when New Zealand won "
    "six gold medals. The centre was designed by the architect Vlasto Kopač."
)
_EXAMPLE_ENTITIES = [
    "Lake Bled Rowing Centre",
    "Bled",
    "Slovenia",
    "1948",
    "World Rowing Championships",
    "1966",
    "2011",
    "New Zealand",
    "Vlasto Kopač",
]
_EXAMPLE_TRIPLES = [
    ["Lake Bled Rowing Centre", "is a", "regatta course"],
    ["Lake Bled Rowing Centre", "located in", "Bled"],
    ["Bled", "located in", "Slovenia"],
    ["Lake Bled Rowing Centre", "opened in", "1948"],
    ["Lake Bled Rowing Centre", "hosted", "World Rowing Championships"],
    ["World Rowing Championships", "held at Lake Bled in", "1966"],
    ["World Rowing Championships", "held at Lake Bled in", "2011"],
    ["New Zealand", "won six gold medals at", "World Rowing Championships"],
    ["Lake Bled Rowing Centre", "designed by", "Vlasto Kopač"],
    ["Vlasto Kopač", "is a", "architect"],
]
_EXAMPLE_EVENTS = [
    {
        "description": "Lake Bled Rowing Centre opened",
        "time": "1948",
        "participants": ["Lake Bled Rowing Centre"],
    },
    {
        "description": "New Zealand won six gold medals at the World Rowing Championships in Bled",
        "time": "2011",
        "participants": ["New Zealand", "World Rowing Championships", "Bled"],
    },
]


def _passage(text: str, title: str | None) -> str:
    return f"{title}\n{text}" if title else text


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- NER -------------------------------------------------------------------------------------------

NER_SYSTEM = (
    "You extract named entities from a passage: people, organizations, places, works, events, "
    "dates, numbers with units and other specific things a question could ask about. "
    'Answer with JSON only: {"named_entities": ["...", ...]}. Copy each name as written.'
)


def ner_messages(text: str, title: str | None = None) -> list[Message]:
    """Step 1 of ``two_step``: the entities named in a passage."""
    return [
        {"role": "system", "content": NER_SYSTEM},
        {"role": "user", "content": _passage(_EXAMPLE_TEXT, _EXAMPLE_TITLE)},
        {"role": "assistant", "content": _dump({"named_entities": _EXAMPLE_ENTITIES})},
        {"role": "user", "content": _passage(text, title)},
    ]


# -- OpenIE (triples, and events) ------------------------------------------------------------------

_TRIPLE_RULES = (
    "Each triple is [subject, predicate, object]: exactly three short strings. "
    "Each triple should contain at least one, preferably two, of the named entities. "
    "Replace pronouns by the names they refer to."
)
_EVENT_RULES = (
    "Also list the events the passage reports: what happened, when (the time as written, or "
    "null) and the entities taking part."
)

OPENIE_SYSTEM = (
    "You build a knowledge graph from a passage and the named entities found in it. "
    + _TRIPLE_RULES
    + " Answer with JSON only: "
    + '{"triples": [["subject", "predicate", "object"], ...]}.'
)
OPENIE_EVENTS_SYSTEM = (
    "You build a knowledge graph from a passage and the named entities found in it. "
    + _TRIPLE_RULES
    + " "
    + _EVENT_RULES
    + " Answer with JSON only: "
    + '{"triples": [["subject", "predicate", "object"], ...], '
    + '"events": [{"description": "...", "time": "..." or null, "participants": ["..."]}]}.'
)


def _openie_user(text: str, title: str | None, entities: list[str]) -> str:
    return f"Passage:\n{_passage(text, title)}\n\nNamed entities: {_dump(entities)}"


def openie_messages(
    text: str, entities: list[str], title: str | None = None, *, events: bool = True
) -> list[Message]:
    """Step 2 of ``two_step``: triples (and events) given the passage and its entities."""
    answer: dict[str, object] = {"triples": _EXAMPLE_TRIPLES}
    if events:
        answer["events"] = _EXAMPLE_EVENTS
    return [
        {"role": "system", "content": OPENIE_EVENTS_SYSTEM if events else OPENIE_SYSTEM},
        {
            "role": "user",
            "content": _openie_user(_EXAMPLE_TEXT, _EXAMPLE_TITLE, _EXAMPLE_ENTITIES),
        },
        {"role": "assistant", "content": _dump(answer)},
        {"role": "user", "content": _openie_user(text, title, entities)},
    ]


# -- one step --------------------------------------------------------------------------------------

ONE_STEP_SYSTEM = (
    "You build a knowledge graph from a passage. First list the named entities (people, "
    "organizations, places, works, dates, numbers with units, other specific things), then the "
    "facts between them as triples. " + _TRIPLE_RULES + " " + _EVENT_RULES + " Answer with JSON "
    'only: {"named_entities": ["..."], "triples": [["subject", "predicate", "object"], ...], '
    '"events": [{"description": "...", "time": "..." or null, "participants": ["..."]}]}.'
)
ONE_STEP_NO_EVENTS_SYSTEM = (
    "You build a knowledge graph from a passage. First list the named entities (people, "
    "organizations, places, works, dates, numbers with units, other specific things), then the "
    "facts between them as triples. " + _TRIPLE_RULES + " Answer with JSON only: "
    '{"named_entities": ["..."], "triples": [["subject", "predicate", "object"], ...]}.'
)


def one_step_messages(text: str, title: str | None = None, *, events: bool = True) -> list[Message]:
    """Entities, triples (and events) in one call."""
    answer: dict[str, object] = {"named_entities": _EXAMPLE_ENTITIES, "triples": _EXAMPLE_TRIPLES}
    if events:
        answer["events"] = _EXAMPLE_EVENTS
    return [
        {"role": "system", "content": ONE_STEP_SYSTEM if events else ONE_STEP_NO_EVENTS_SYSTEM},
        {"role": "user", "content": _passage(_EXAMPLE_TEXT, _EXAMPLE_TITLE)},
        {"role": "assistant", "content": _dump(answer)},
        {"role": "user", "content": _passage(text, title)},
    ]


# -- entities named in a question ------------------------------------------------------------------

QUESTION_SYSTEM = (
    "List the named entities a question mentions (people, organizations, places, works, dates, "
    'other specific things). Answer with JSON only: {"named_entities": ["...", ...]}.'
)


def question_messages(question: str) -> list[Message]:
    """Entities named in a question, to seed retrieval."""
    return [
        {"role": "system", "content": QUESTION_SYSTEM},
        {"role": "user", "content": "Who designed the rowing course that hosted the 1966 worlds?"},
        {"role": "assistant", "content": _dump({"named_entities": ["1966", "World Rowing"]})},
        {"role": "user", "content": question},
    ]


# -- recognition: which matched facts bear on a question -------------------------------------------

RECOGNITION_SYSTEM = (
    "Given a question and numbered facts, keep the facts that help answer it, including a fact "
    "that is only one step of several. Answer with JSON only: "
    '{"relevant": [the numbers of the facts to keep]}.'
)


UPDATE_SYSTEM = (
    "You keep a memory of facts about people. Given a fact already held and a newer statement "
    "about the same person, decide: UPDATE if the newer statement gives a new value of the same "
    "attribute (it replaces the held fact), ADD if both can be true at once, NOOP if it says the "
    'same thing again. Answer with JSON only: {"decision": "UPDATE" | "ADD" | "NOOP"}.'
)


def update_messages(held: str, newer: str, slot: str) -> list[Message]:
    """Mem0's update decision for one candidate conflict: does ``newer`` replace ``held``?"""
    return [
        {"role": "system", "content": UPDATE_SYSTEM},
        {
            "role": "user",
            "content": "Held (employer): Ana works for Acme\nNewer: Ana joined Initech",
        },
        {"role": "assistant", "content": _dump({"decision": "UPDATE"})},
        {
            "role": "user",
            "content": "Held (residence): Ana lives in Leeds\nNewer: Ana visited Rome",
        },
        {"role": "assistant", "content": _dump({"decision": "ADD"})},
        {"role": "user", "content": f"Held ({slot}): {held}\nNewer: {newer}"},
    ]


def recognition_messages(question: str, facts: Sequence[str]) -> list[Message]:
    """HippoRAG 2's recognition memory: which of the facts matched to ``question`` to keep."""
    listing = "\n".join(f"{i}. {fact}" for i, fact in enumerate(facts))
    example = (
        "Question: Where was the author of Dune born?\nFacts:\n0. Frank Herbert wrote Dune\n"
        "1. Dune is a 2021 film\n2. Frank Herbert was born in Tacoma"
    )
    return [
        {"role": "system", "content": RECOGNITION_SYSTEM},
        {"role": "user", "content": example},
        {"role": "assistant", "content": _dump({"relevant": [0, 2]})},
        {"role": "user", "content": f"Question: {question}\nFacts:\n{listing}"},
    ]


def prompt_version(style: PromptStyle, *, events: bool = True) -> str:
    """The cache version of a prompt setup: the hand version, the style and a hash of the texts.

    >>> prompt_version("one_step").startswith("1.one_step.")
    True
    """
    sample = (
        one_step_messages("{text}", "{title}", events=events)
        if style == "one_step"
        else ner_messages("{text}", "{title}")
        + openie_messages("{text}", ["{entities}"], "{title}", events=events)
    )
    digest = hashlib.sha256(_dump(sample).encode()).hexdigest()[:8]
    return f"{PROMPT_VERSION}.{style}{'' if events else '.noevents'}.{digest}"
