"""Generate the lifecycle benchmark: chat histories where people change attributes, in other words.

Each person is one conversation (the conversation layout ``graphmem bench`` reads: ``turns.jsonl``
and ``questions.jsonl``, see ../shared/bench/README.md). Over monthly sessions a person states a
home, an employer, a diet, a job title and a partner, then changes each of them once or twice,
each time in different words ("I live in", "we just moved to", "I relocated to"), among noise
turns that name other cities, companies and foods (a visit, a friend's job, a meal) and the
assistant's replies. Questions:

- ``current`` (category 1): the value now; evidence the turns stating it, ``stale_dia_ids`` the
  turns of earlier values;
- ``past`` (category 2): the value at a date, asked ``as_of`` that date; evidence the turns of the
  value then, stale the turns of the values before it;
- ``changed`` (category 3): what changed; evidence every turn of the attribute.

Deterministic for a seed: ``python benchmarks/lifecycle_gen.py OUT --people 40 --seed 7``.
tests/data/lifecycle/chat holds ``--people 4 --seed 1``.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

NAMES = [
    "Dana", "Omar", "Priya", "Lena", "Marco", "Aiko", "Tomas", "Nadia", "Felix", "Grace",
    "Ivan", "Sofia", "Kwame", "Hana", "Luis", "Maya", "Oskar", "Rosa", "Yusuf", "Clara",
    "Jonas", "Amara", "Pavel", "Ines", "Theo", "Leila", "Bruno", "Elif", "Sami", "Vera",
    "Hugo", "Zara", "Emil", "Noor", "Ravi", "Alma", "Kofi", "Mila", "Arturo", "Yara",
]  # fmt: skip
CITIES = [
    "Lisbon", "Porto", "Leeds", "Edinburgh", "Glasgow", "Bristol", "Dublin", "Cork", "Berlin",
    "Munich", "Oslo", "Bergen", "Madrid", "Seville", "Lyon", "Toronto", "Denver", "Austin",
    "Seattle", "Boston", "Vienna", "Prague", "Krakow", "Milan",
]  # fmt: skip
COMPANIES = [
    "Hooli", "Globex", "Initech", "Acme", "Stripe", "Spotify", "Adobe", "Canva", "Shopify",
    "Siemens", "Netflix", "Oracle", "Atlassian", "Zalando", "Deloitte", "Unilever", "Airbus",
    "Pfizer",
]  # fmt: skip
DIETS = ["vegetarian", "vegan", "pescatarian", "keto", "paleo", "flexitarian"]
ROLES = [
    "teacher", "nurse", "designer", "engineer", "analyst", "chef", "editor", "consultant",
    "architect", "pharmacist", "researcher", "accountant",
]  # fmt: skip
PARTNERS = ["Alex", "Sam", "Jordan", "Robin", "Kim", "Jamie", "Morgan", "Charlie", "Quinn"]

#: attribute -> the ways a person states a value (each paraphrase names the value once)
SAY = {
    "residence": [
        "I live in {v}.",
        "Big news: I just moved to {v}!",
        "I relocated to {v} for a fresh start.",
        "I now live in {v}, still unpacking boxes.",
        "I settled in {v} after the move.",
        "I'm based in {v} these days.",
    ],
    "employer": [
        "I work at {v}.",
        "I joined {v} this month.",
        "I took a job at {v}.",
        "I started a new job at {v}.",
        "I got hired by {v}.",
        "I'm working for {v} now.",
    ],
    "diet": [
        "I'm {v}.",
        "I went {v} a few weeks ago.",
        "I switched to a {v} diet.",
        "These days I'm {v}.",
        "I became {v} this year.",
    ],
    "role": [
        "I work as {a} {v}.",
        "I started working as {a} {v}.",
        "I got promoted to {v}.",
        "I'm {a} {v} now.",
    ],
    "partner": [
        "I'm dating {v}.",
        "I started seeing {v}.",
        "I got engaged to {v}.",
        "I'm going out with {v}.",
    ],
}
VALUES = {
    "residence": CITIES,
    "employer": COMPANIES,
    "diet": DIETS,
    "role": ROLES,
    "partner": PARTNERS,
}
#: attribute -> (question now, question at a date, question about the change)
ASK = {
    "residence": (
        "Where does {p} live now?",
        "Where did {p} live in {d}?",
        "How has {p}'s home changed over time?",
    ),
    "employer": (
        "Where does {p} currently work?",
        "Which company did {p} work for in {d}?",
        "Which companies has {p} worked for?",
    ),
    "diet": (
        "What diet does {p} follow now?",
        "What diet was {p} on in {d}?",
        "How has {p}'s diet changed?",
    ),
    "role": (
        "What is {p}'s job title these days?",
        "What was {p}'s job in {d}?",
        "How has {p}'s job title changed?",
    ),
    "partner": (
        "Who is {p} seeing now?",
        "Who was {p} dating in {d}?",
        "Who has {p} been in a relationship with?",
    ),
}
NOISE = [
    "I visited {city} last weekend, lovely old town.",
    "My friend {name} works at {company}.",
    "We had dinner at a {diet} place near {city}.",
    "My sister lives in {city}.",
    "I read an article about {company} this morning.",
    "I love cooking pasta on Sundays.",
    "The weather has been awful lately.",
    "I'm training for a half marathon.",
    "I finished a great novel about sailing.",
    "My cousin is a {role}.",
    "I had a call with {name} about the holidays.",
    "I want to visit {city} next year.",
]
REPLIES = [
    "That sounds great, tell me more.",
    "Thanks for sharing that with me.",
    "How do you feel about it?",
    "Interesting! What happened next?",
    "I'll remember that.",
]


@dataclass
class _Statement:
    attribute: str
    value: str
    session: int


def _month(d: datetime) -> str:
    return d.strftime("%B %Y")


def person_history(rng: random.Random, person: str, sessions: int) -> dict[str, Any]:
    """One person's turns and questions (dicts in the conversation layout)."""
    start = datetime(2021, 1, 5, 10, 0) + timedelta(days=rng.randrange(0, 60))
    times = [start + timedelta(days=30 * i + rng.randrange(0, 5)) for i in range(sessions)]
    plan: list[_Statement] = []
    for attr, pool in VALUES.items():
        n_values = rng.choice([2, 3, 3])
        values = rng.sample(pool, n_values)
        # value i is first stated in a session after value i-1's
        slots = sorted(rng.sample(range(sessions), n_values))
        plan += [_Statement(attr, v, s) for v, s in zip(values, slots, strict=True)]
        # a restatement of a value, in other words, in a later session before the next change
        i = rng.randrange(n_values)
        end = slots[i + 1] if i + 1 < n_values else sessions
        if end - slots[i] > 1:
            plan.append(_Statement(attr, values[i], rng.randrange(slots[i] + 1, end)))
    turns: list[dict[str, Any]] = []
    said: dict[str, list[tuple[str, str, datetime]]] = {a: [] for a in VALUES}
    used: dict[str, list[str]] = {a: [] for a in VALUES}
    for s in range(sessions):
        lines: list[tuple[str, str, _Statement | None]] = []
        for st in [p for p in plan if p.session == s]:
            options = [t for t in SAY[st.attribute] if t not in used[st.attribute][-2:]]
            template = rng.choice(options)
            used[st.attribute].append(template)
            article = "an" if st.value[0] in "aeiou" else "a"
            lines.append((person, template.format(v=st.value, a=article), st))
        for _ in range(rng.randrange(2, 5)):
            lines.append((person, _noise(rng), None))
        rng.shuffle(lines)
        for speaker, text, st in lines:
            for spk, txt in ((speaker, text), ("Assistant", rng.choice(REPLIES))):
                dia = f"D{s + 1}:{len([t for t in turns if t['session'] == str(s + 1)]) + 1}"
                turns.append(
                    {
                        "conversation_id": person,
                        "session": str(s + 1),
                        "session_time": times[s].strftime("%Y-%m-%dT%H:%M:%S"),
                        "dia_id": dia,
                        "speaker": spk,
                        "text": txt,
                    }
                )
                if st is not None and spk == person:
                    said[st.attribute].append((st.value, dia, times[s]))
    return {"turns": turns, "questions": _questions(rng, person, said, times)}


def _noise(rng: random.Random) -> str:
    return rng.choice(NOISE).format(
        city=rng.choice(CITIES),
        company=rng.choice(COMPANIES),
        name=rng.choice(PARTNERS + NAMES),
        diet=rng.choice(DIETS),
        role=rng.choice(ROLES),
    )


def _questions(
    rng: random.Random,
    person: str,
    said: dict[str, list[tuple[str, str, datetime]]],
    times: list[datetime],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    asked = (times[-1] + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%S")
    for attr, statements in said.items():
        values = list(dict.fromkeys(v for v, _, _ in statements))
        first = {v: min(t for w, _, t in statements if w == v) for v in values}
        turns_of = {v: [d for w, d, _ in statements if w == v] for v in values}
        now_q, past_q, changed_q = ASK[attr]
        base = {"conversation_id": person, "attribute": attr}
        current = values[-1]
        out.append(
            base
            | {
                "id": f"{person}-{attr}-current",
                "question": now_q.format(p=person),
                "answer": current,
                "category": 1,
                "category_name": "current",
                "evidence_dia_ids": turns_of[current],
                "stale_dia_ids": [d for v in values[:-1] for d in turns_of[v]],
                "as_of": None,
                "question_time": asked,
            }
        )
        i = rng.randrange(len(values) - 1)
        lo, hi = first[values[i]], first[values[i + 1]]
        when = lo + (hi - lo) * rng.uniform(0.3, 0.9)
        # only what was said by then: a restatement after the date is not evidence yet
        evidence = [d for w, d, t in statements if w == values[i] and t <= when]
        out.append(
            base
            | {
                "id": f"{person}-{attr}-past",
                "question": past_q.format(p=person, d=_month(when)),
                "answer": values[i],
                "category": 2,
                "category_name": "past",
                "evidence_dia_ids": evidence,
                "stale_dia_ids": [d for v in values[:i] for d in turns_of[v]],
                "as_of": when.strftime("%Y-%m-%dT%H:%M:%S"),
                "question_time": when.strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )
        out.append(
            base
            | {
                "id": f"{person}-{attr}-changed",
                "question": changed_q.format(p=person),
                "answer": " -> ".join(values),
                "category": 3,
                "category_name": "changed",
                "evidence_dia_ids": [d for v in values for d in turns_of[v]],
                "stale_dia_ids": [],
                "as_of": None,
                "question_time": asked,
            }
        )
    return out


def generate(out: Path, people: int, seed: int, sessions: int = 8) -> tuple[int, int]:
    """Write ``turns.jsonl`` and ``questions.jsonl`` for ``people`` people; (turns, questions)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    turns: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    for person in rng.sample(NAMES, people):
        h = person_history(rng, person, sessions)
        turns += h["turns"]
        questions += h["questions"]
    for name, rows in (("turns.jsonl", turns), ("questions.jsonl", questions)):
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return len(turns), len(questions)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--people", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sessions", type=int, default=8)
    a = ap.parse_args()
    n_turns, n_q = generate(a.out, a.people, a.seed, a.sessions)
    print(f"{a.out}: {n_turns} turns, {n_q} questions")


if __name__ == "__main__":
    main()
