"""DataLoaders and the neighbourhood walk, so resolvers make a fixed number of store calls.

Within one request, every node asked for by id is fetched through :attr:`Loaders.nodes`, which
gathers the ids asked for in the same tick into one ``get_<kind>s`` call per kind; every adjacency
goes through :attr:`Loaders.links`, one ``edges_of`` and one ``facts_between`` call for all the
nodes asked about together. So ``neighbors(depth: 3)`` costs a handful of store calls per level,
however many nodes each level holds, and so do nested ``neighbors`` fields under a list of nodes.

Both go through the facade (:meth:`graphmem.Memory.get_nodes`, :meth:`graphmem.Memory.links`);
adjacency is the one of :meth:`graphmem.Memory.neighbors`: an entity's facts (``RELATES``, labelled by the fact's text, weighted by its confidence) and every
stored edge touching the node.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.dataloader import DataLoader

from graphmem.ids import node_kind
from graphmem.models import Entity, Episode, Event, Fact, Hyperedge, Link, Passage
from graphmem_api.errors import BAD_REQUEST, APIError

if TYPE_CHECKING:
    from graphmem.memory import Memory

T = TypeVar("T")
NodeModel = Passage | Entity | Fact | Event | Hyperedge | Episode
Call = Callable[..., Awaitable[Any]]


def kind_of_id(node_id: str) -> str:
    """``"entity"`` for ``e:…`` and so on; ``"node"`` for an id of no known kind."""
    return node_kind(node_id)


def label_of(node: NodeModel | None, node_id: str) -> str:
    """A short human label: a name, a title, or the start of a text."""
    if isinstance(node, Entity):
        return node.name
    if isinstance(node, Passage):
        return node.title or node.text[:80]
    if isinstance(node, Fact):
        return node.text
    if isinstance(node, Episode):
        return (f"{node.speaker}: " if node.speaker else "") + node.text[:80]
    if isinstance(node, Event | Hyperedge):
        return node.description[:80]
    return node_id


@dataclass(frozen=True)
class Step:
    """A link found by the walk, at ``depth`` hops from the start."""

    depth: int
    link: Link
    label: str

    @property
    def sort_key(self) -> tuple[int, float, str, str]:
        return (self.depth, -self.link.weight, self.link.id, self.link.key)


class Loaders:
    """The DataLoaders of one request and one namespace."""

    def __init__(self, memory: Memory, namespace: str, call: Call) -> None:
        self.memory, self.namespace, self._call = memory, namespace, call
        self.nodes: DataLoader[str, NodeModel | None] = DataLoader(self._load_nodes)
        self.links: DataLoader[str, list[Link]] = DataLoader(self._load_links)

    async def _load_nodes(self, ids: list[str]) -> list[NodeModel | None]:
        found: dict[str, NodeModel] = await self._call(
            self.memory.get_nodes, ids, namespace=self.namespace
        )
        return [found.get(i) for i in ids]

    async def _load_links(self, ids: list[str]) -> list[list[Link]]:
        found: dict[str, list[Link]] = await self._call(
            self.memory.links, ids, namespace=self.namespace
        )
        return [found[i] for i in ids]


async def walk(loaders: Loaders, start: str, depth: int, max_nodes: int) -> tuple[list[Step], bool]:
    """Every link from a node ``d - 1`` hops from ``start`` to one ``d`` hops away (``d <= depth``).

    Returns the steps in page order and whether the walk stopped at ``max_nodes`` nodes.
    """
    seen: dict[str, int] = {start: 0}
    frontier = [start]
    found: list[tuple[int, Link]] = []
    truncated = False
    for d in range(1, depth + 1):
        if not frontier:
            break
        following: list[str] = []
        for links in await loaders.links.load_many(frontier):
            for link in links:
                at = seen.get(link.id)
                if at is None:
                    if len(seen) >= max_nodes:
                        truncated = True
                        continue
                    seen[link.id] = d
                    following.append(link.id)
                elif at < d:
                    continue
                found.append((d, link))
        frontier = following
    nodes = await loaders.nodes.load_many([link.id for _, link in found])
    steps = [
        Step(d, link, link.label if link.label is not None else label_of(node, link.id))
        for (d, link), node in zip(found, nodes, strict=True)
    ]
    steps.sort(key=lambda s: s.sort_key)
    return steps, truncated


# ------------------------------------------------------------------------------- cursors


def _fingerprint(namespace: str, start: str, depth: int) -> str:
    return hashlib.sha256(f"{namespace}\x1f{start}\x1f{depth}".encode()).hexdigest()[:12]


def encode_cursor(step: Step, namespace: str, start: str, depth: int) -> str:
    """An opaque cursor: the step's place in the order, tied to the query it came from."""
    d, weight, node_id, key = step.sort_key
    raw = json.dumps([_fingerprint(namespace, start, depth), d, weight, node_id, key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, namespace: str, start: str, depth: int) -> tuple[Any, ...]:
    """The sort key a cursor points after; ``BAD_REQUEST`` for a cursor of another query."""
    bad = APIError(
        "invalid cursor: pass an endCursor returned by the same neighbors query", BAD_REQUEST
    )
    if len(cursor) > 4096:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad from exc
    if (
        not isinstance(value, list)
        or len(value) != 5
        or value[0] != _fingerprint(namespace, start, depth)
        or not isinstance(value[1], int)
        or not isinstance(value[2], int | float)
        or not isinstance(value[3], str)
        or not isinstance(value[4], str)
    ):
        raise bad
    return (value[1], float(value[2]), value[3], value[4])


def page(steps: list[Step], first: int, after: tuple[Any, ...] | None) -> tuple[list[Step], bool]:
    """The ``first`` steps after the cursor's key (keyset pagination: stable under inserts)."""
    if after is not None:
        steps = [s for s in steps if s.sort_key > after]
    return steps[:first], len(steps) > first
