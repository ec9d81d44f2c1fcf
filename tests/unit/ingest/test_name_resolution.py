"""Short names resolve to the one full name they are part of; values are never names (issue 14)."""

from __future__ import annotations

from collections.abc import Sequence

from graphmem.extract.base import ExtractedEntity, ExtractedFact, Extraction
from graphmem.ids import entity_id
from graphmem.ingest.pipeline import Ingestor
from graphmem.ingest.resolve import resolve_mentions
from graphmem.models import Entity, Passage
from graphmem.names import NameIndex, looks_like_value


def index(*names: tuple[str, str]) -> NameIndex:
    ix = NameIndex()
    ix.add_all(names)
    return ix


def test_token_subset_accents_initials_and_nicknames() -> None:
    ix = index(
        ("Tomás Silva", "PERSON"),
        ("Daniel Reyes", "PERSON"),
        ("Daniel Okoro", "PERSON"),
        ("Alexandra Reid", "PERSON"),
        ("Project Heron", "ORG"),
    )
    assert ix.candidates("Tomas") == ["Tomás Silva"]
    assert ix.candidates("Tomas Silva") == ["Tomás Silva"]  # accents fold, display keeps them
    assert ix.candidates("Tomás Silva") == []  # a full name is itself
    assert ix.candidates("Daniel") == ["Daniel Okoro", "Daniel Reyes"]
    assert ix.candidates("Daniel O.") == ["Daniel Okoro"]
    assert ix.candidates("Alex") == ["Alexandra Reid"]  # nickname prefix of a first name
    assert ix.candidates("Heron") == ["Project Heron"]
    assert ix.candidates("Heron Street") == []  # "street" is no token of the project
    assert ix.candidates("heron") == []  # a common noun, not a name


def test_only_clean_full_person_or_org_names_are_indexed() -> None:
    ix = index(
        ("Lisbon Office", "GPE"),
        ("Helen / Daniel Weekly", "ORG"),
        ("Florence, Grace", "PERSON"),
        ("Nikolai Nikolai", "ORG"),
        ("Daniel O", "PERSON"),
        ("3 November 2023", "DATE"),
        ("University of Copenhagen", "ORG"),
    )
    assert len(ix) == 1
    assert ix.candidates("Copenhagen") == ["University of Copenhagen"]


def test_values_look_like_values() -> None:
    for value in ("2024", "ten engineers", "3 November 2023", "six hours", "March 2024", "40,000"):
        assert looks_like_value(value), value
    for name in ("Heron", "Priya Natarajan", "Apollo Theatre", "University of Oslo"):
        assert not looks_like_value(name), name


def test_document_first_then_namespace_places_never() -> None:
    namespace = index(
        ("Daniel Reyes", "PERSON"), ("Daniel Okoro", "PERSON"), ("Priya Natarajan", "PERSON")
    )
    document = index(("Daniel Okoro", "PERSON"))
    res = resolve_mentions(
        {"Daniel": "PERSON", "Priya": None, "Florence": "GPE"}, document, namespace
    )
    assert res.merges == {"Daniel": "Daniel Okoro", "Priya": "Priya Natarajan"}
    res = resolve_mentions({"Daniel": "PERSON"}, NameIndex(), namespace)
    assert res.merges == {}
    assert res.links == {"Daniel": [("Daniel Okoro", 0.5), ("Daniel Reyes", 0.5)]}


class EmptyStore:
    """Just what :meth:`Ingestor.build` reads: the namespace's (no) stored entities."""

    def list_ids(
        self, namespace: str, kind: str, *, after: str | None = None, limit: int = 1000
    ) -> list[str]:
        return []

    def get_entities(self, namespace: str, ids: Sequence[str]) -> dict[str, Entity]:
        return {}


def test_build_merges_short_names_links_ambiguous_ones_and_keeps_values_as_attributes() -> None:
    ing = Ingestor(EmptyStore(), embedder=None, extractor=None)  # type: ignore[arg-type]
    a = Passage(id="p:a", namespace="ns", text="...", source="eng/team.md")
    b = Passage(id="p:b", namespace="ns", text="...", source="people/roster.md")
    ex_a = Extraction(
        entities=[
            ExtractedEntity(name="Priya Natarajan", type="PERSON"),
            ExtractedEntity(name="Tomás", type="PERSON"),
            ExtractedEntity(name="Daniel", type="PERSON"),
            ExtractedEntity(name="2017", type="DATE"),
        ],
        facts=[
            ExtractedFact(subject="Tomás", predicate="reports to", object="Priya"),
            ExtractedFact(subject="Priya", predicate="joined in", object="2017"),
        ],
    )
    ex_b = Extraction(
        entities=[
            ExtractedEntity(name="Tomás Silva", type="PERSON"),
            ExtractedEntity(name="Daniel Reyes", type="PERSON"),
            ExtractedEntity(name="Daniel Okoro", type="PERSON"),
        ],
    )
    batch = ing.build("ns", [a, b], [ex_a, ex_b])
    names = {e.name: e for e in batch.entities}
    assert "Priya" not in names and "Tomás" not in names and "2017" not in names
    assert "Priya" in names["Priya Natarajan"].aliases
    priya, tomas = entity_id("ns", "Priya Natarajan"), entity_id("ns", "Tomás Silva")
    facts = {f.text: f for f in batch.facts}
    assert (
        facts["Tomás Silva reports to Priya Natarajan"].subject,
        facts["Tomás Silva reports to Priya Natarajan"].object,
    ) == (tomas, priya)
    joined = facts["Priya Natarajan joined in 2017"]
    assert joined.subject == joined.object == priya  # a loop: never an edge of the walk
    syn = {(e.dst, e.weight) for e in batch.edges if e.type == "SYNONYM"}
    daniel = entity_id("ns", "Daniel")
    assert all(e.src == daniel for e in batch.edges if e.type == "SYNONYM")
    assert syn == {(entity_id("ns", "Daniel Reyes"), 0.5), (entity_id("ns", "Daniel Okoro"), 0.5)}
