"""schema/schema.graphql is the schema the code serves, and the GraphQL types mirror the models.

Regenerate the file after changing the API: ``make schema``
(``graphmem schema > schema/schema.graphql``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from graphmem import models
from graphmem.client.core import camel
from graphmem_api.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema" / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    generated = schema.as_str().rstrip("\n")
    on_disk = SCHEMA_FILE.read_text(encoding="utf-8").rstrip("\n")
    assert on_disk == generated, "schema/schema.graphql is stale: run `make schema` and commit it"


MIRRORED = [
    (models.Passage, "Passage"),
    (models.Entity, "Entity"),
    (models.Fact, "Fact"),
    (models.Event, "Event"),
    (models.Hyperedge, "Hyperedge"),
    (models.Episode, "Episode"),
    (models.FactHit, "FactHit"),
    (models.EntityHit, "EntityHit"),
    (models.PassageHit, "PassageHit"),
    (models.HyperedgeHit, "HyperedgeHit"),
    (models.EpisodeHit, "EpisodeHit"),
    (models.SearchResult, "SearchResult"),
    (models.IngestReport, "IngestReport"),
    (models.DeleteReport, "DeleteReport"),
    (models.Stats, "Stats"),
    (models.Neighbor, "NeighborEdge"),
    (models.Document, "DocumentInput"),
    (models.EpisodeReport, "EpisodeReport"),
    (models.Lifecycle, "Lifecycle"),
    (models.LifecycleEvent, "LifecycleEvent"),
    (models.ConsolidateReport, "ConsolidateReport"),
]


@pytest.mark.parametrize(("model", "type_name"), MIRRORED, ids=[t for _, t in MIRRORED])
def test_graphql_types_have_every_model_field(model: type[BaseModel], type_name: str) -> None:
    # The client SDK selects every model field by its camelCase name and parses the answer back
    # into the model: a field added to a model but not to the API must fail here, not in use.
    gql_type = schema._schema.get_type(type_name)
    assert gql_type is not None
    have = set(gql_type.fields)  # type: ignore[union-attr]
    missing = {camel(name) for name in model.model_fields} - have
    assert not missing, f"{type_name} lacks {sorted(missing)}; add them to api/types.py"
