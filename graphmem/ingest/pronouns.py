"""First and second person in a turn's words, replaced by the speakers' names for extraction.

"I moved to Paris" said by Caroline is read as "Caroline moved to Paris", so the extractor's facts
are about people; in a session of two speakers, "you" becomes the other one. Common present-tense
verbs after the pronoun agree with the name ("I work" → "Ada works").

>>> first_person("I think my cat likes me.", "Ada")
"Ada thinks Ada's cat likes Ada."
"""

from __future__ import annotations

import re

__all__ = ["first_person"]

_FIRST = [
    (re.compile(r"\bI'm\b|\bI’m\b|\bI am\b"), "{s} is"),
    (re.compile(r"\bI've\b|\bI’ve\b"), "{s} has"),
    (re.compile(r"\bI'd\b|\bI’d\b"), "{s} would"),
    (re.compile(r"\bI'll\b|\bI’ll\b"), "{s} will"),
    (re.compile(r"\bI\b"), "{s}"),
    (re.compile(r"\b(?:[Mm]y|MY)\b"), "{s}'s"),
    (re.compile(r"\b(?:[Mm]ine|[Mm]yself|[Mm]e)\b"), "{s}"),
]
_SECOND = [
    (re.compile(r"\b[Yy]ou're\b|\b[Yy]ou’re\b|\b[Yy]ou are\b"), "{s} is"),
    (re.compile(r"\b[Yy]ou've\b|\b[Yy]ou’ve\b"), "{s} has"),
    (re.compile(r"\b[Yy]our\b"), "{s}'s"),
    (re.compile(r"\b(?:[Yy]ourself|[Yy]ours)\b"), "{s}"),
    (re.compile(r"\b[Yy]ou\b"), "{s}"),
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: present-tense verbs whose "I <verb>" becomes "<name> <verb>s" (the parser needs the agreement)
_VERBS = _words(
    """work live love like want need have do go think feel know hope plan play enjoy own run
    paint teach study volunteer make take get see read write try visit use adopt attend join
    keep believe remember mean miss wish prefer hate collect cook bake sing dance swim hike
    travel drive ride watch listen spend build create draw practice support mentor care look
    stay move intend struggle manage lead help"""
)
_I_VERB = re.compile(
    r"\b(I|you)(\s+)(?:(always|really|also|still|usually|often|just|now|never)\s+)?([a-z]+)\b"
)


_AUX = _words(
    """do does did don't doesn't didn't can could will would should shall may might must can't
    won't wouldn't couldn't shouldn't to"""
)


def _third_person(verb: str) -> str:
    irregular = {"have": "has", "do": "does", "go": "goes"}
    if verb in irregular:
        return irregular[verb]
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


def _agree(m: re.Match[str]) -> str:
    who, space, adverb, word = m.group(1), m.group(2), m.group(3), m.group(4)
    before = m.string[: m.start()].rstrip().rsplit(None, 1)
    if word not in _VERBS or (before and before[-1].lower().strip(",") in _AUX):
        return m.group(0)  # "did I go", "can you help": the verb stays bare
    middle = f"{adverb} " if adverb else ""
    return f"{who}{space}{middle}{_third_person(word)}"


def first_person(text: str, speaker: str, addressee: str | None = None) -> str:
    """``text`` with I/me/my replaced by ``speaker`` (and you/your by ``addressee``, if given).

    Common present-tense verbs after the pronoun agree with the name ("I work" → "Ada works").
    """
    text = (
        _I_VERB.sub(_agree, text)
        if addressee
        else _I_VERB.sub(lambda m: _agree(m) if m.group(1) == "I" else m.group(0), text)
    )
    for pattern, repl in _FIRST:
        text = pattern.sub(repl.format(s=speaker), text)
    if addressee:
        for pattern, repl in _SECOND:
            text = pattern.sub(repl.format(s=addressee), text)
    return text
