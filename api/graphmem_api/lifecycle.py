"""GraphQL types of a node's lifecycle (issue 22), mirroring :class:`graphmem.models.Lifecycle`
and :class:`graphmem.models.LifecycleEvent`; every node type offers them as ``lifecycle``."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graphmem import models as m
from graphmem_api.context import Context


@strawberry.type(description="One step in a node's life: what, when, why, by which policy.")
class LifecycleEvent:
    node_id: strawberry.ID
    kind: str
    event: str = strawberry.field(description="stored, superseded, archived, restored, merged…")
    state: str = strawberry.field(description="the node's state after this step")
    at: datetime
    reason: str | None
    actor: str | None = strawberry.field(description="the policy or actor that took the step")
    data: JSON
    recorded: bool = strawberry.field(
        description="false for steps read off the node itself (stored, superseded)"
    )


@strawberry.type(description="A node's state, strength (facts and episodes) and history.")
class Lifecycle:
    id: strawberry.ID
    kind: str
    state: str = strawberry.field(description="active, superseded, merged or archived")
    strength: float | None = strawberry.field(
        description="retention exp(-t/S) on MemoryBank's forgetting curve, in [0, 1]"
    )
    events: list[LifecycleEvent]


def to_lifecycle(life: m.Lifecycle) -> Lifecycle:
    return Lifecycle(
        id=strawberry.ID(life.id),
        kind=life.kind,
        state=life.state,
        strength=life.strength,
        events=[
            LifecycleEvent(
                node_id=strawberry.ID(e.node_id),
                kind=e.kind,
                event=e.event,
                state=e.state,
                at=e.at,
                reason=e.reason,
                actor=e.actor,
                data=cast(JSON, e.data),
                recorded=e.recorded,
            )
            for e in life.events
        ],
    )


async def node_lifecycle(context: Context, namespace: str, node_id: str) -> Lifecycle | None:
    """The lifecycle of a node the request already read (its namespace checked then)."""
    found = await context.runtime.call(context.memory.lifecycle, node_id, namespace=namespace)
    return None if found is None else to_lifecycle(found)
