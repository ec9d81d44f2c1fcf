"""The embedded SQLite store: migrations, WAL, crashes, several processes and threads, reloads."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import graphmem.store.sqlite.store as store_mod
import graphmem.store.sqlite.write as write_mod
from graphmem.errors import ConfigError, ConnectionFailed, InputError, StoreError, TransactionFailed
from graphmem.ids import entity_id, fact_id, normalize_name, passage_id
from graphmem.models import Edge, Entity, Fact, Passage
from graphmem.store import open_store
from graphmem.store.base import WriteBatch, embed_key, embed_text
from graphmem.store.sqlite import SQLiteStore
from graphmem.store.sqlite.schema import Migration, apply_migrations

NS = "unit"
MODEL = "unit-model"
DIM = 16
PER_BATCH = 20
UNIT_DIR = Path(__file__).resolve().parent
REPO = UNIT_DIR.parents[2]


def vec(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(size=DIM).astype(np.float32)


def numbered_batch(i: int, ns: str = NS, per: int = PER_BATCH) -> WriteBatch:
    """Batch ``i``: ``per`` passages of source ``b{i}``, each stating one fact about its own entity
    and the entity "Shared" (which gains the alias ``alias {i}``)."""
    batch = WriteBatch(ns, embedding_model=MODEL)
    shared = Entity(
        id=entity_id(ns, "Shared"),
        name="Shared",
        normalized="shared",
        aliases=[f"alias {i}"],
        namespace=ns,
    )
    batch.entities.append(shared)
    for j in range(per):
        text = f"Batch {i} passage {j}: E{i}x{j} relates to Shared."
        p = Passage(id=passage_id(ns, text), text=text, source=f"b{i}", namespace=ns)
        name = f"E{i}x{j}"
        e = Entity(id=entity_id(ns, name), name=name, normalized=normalize_name(name), namespace=ns)
        f = Fact(
            id=fact_id(ns, name, "relates to", "Shared"),
            subject=e.id,
            predicate="relates to",
            object=shared.id,
            text=f"{name} relates to Shared",
            namespace=ns,
        )
        batch.passages.append(p)
        batch.entities.append(e)
        batch.facts.append(f)
        batch.edges += [
            Edge(type="MENTIONS", src=p.id, dst=e.id, namespace=ns),
            Edge(type="MENTIONS", src=p.id, dst=shared.id, namespace=ns),
            Edge(type="STATES", src=p.id, dst=f.id, namespace=ns),
        ]
    for node in batch.nodes():
        batch.vectors[embed_key(node)] = vec(embed_text(node))
    return batch


def complete_batches(store: SQLiteStore, n: int, ns: str = NS) -> set[int]:
    """Indices of the batches fully present; fails if any batch is partly present."""
    done = set()
    for i in range(n):
        batch = numbered_batch(i, ns)
        ids = [p.id for p in batch.passages]
        present = store.get_passages(ns, ids)
        facts = store.get_facts(ns, [f.id for f in batch.facts])
        entities = store.get_entities(ns, [e.id for e in batch.entities[1:]])
        stated = store.facts_of_passages(ns, ids)
        sizes = (len(present), len(facts), len(entities), len(stated))
        assert sizes in ((0, 0, 0, 0), (PER_BATCH,) * 4), f"batch {i} is partly stored: {sizes}"
        if present:
            done.add(i)
    return done


def graph_weights(store: SQLiteStore, ns: str = NS) -> dict[frozenset[str], float]:
    view = store.graph(ns)
    coo = view.matrix().tocoo()
    return {
        frozenset((view.node_id(i), view.node_id(j))): round(float(w), 6)
        for i, j, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    }


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "graph.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(db)
    yield s
    s.close()


# ------------------------------------------------------------------------ child processes


def child_main(args: list[str]) -> None:
    """Entry point of the writer processes the tests start."""
    mode, path, start, stop = args[0], args[1], int(args[2]), int(args[3])
    store = SQLiteStore(path, busy_timeout=60.0)
    if mode == "hang":
        # Stop inside the transaction of batch `stop`, after its nodes were written.
        real = write_mod._write_edges

        def hang(*a: object, **kw: object) -> None:
            real(*a, **kw)  # type: ignore[arg-type]
            print("IN_TXN", flush=True)
            time.sleep(600)

        for i in range(start, stop + 1):
            if i == stop:
                write_mod._write_edges = hang  # type: ignore[assignment]
            store.write(numbered_batch(i))
        return
    go = Path(args[4]) if len(args) > 4 else None
    while go is not None and not go.exists():
        time.sleep(0.005)
    for i in range(start, stop):
        store.write(numbered_batch(i))
        print(f"DONE {i}", flush=True)
    store.close()


def spawn(*args: object) -> subprocess.Popen[str]:
    code = f"import sys; sys.path.insert(0, {str(UNIT_DIR)!r}); import test_sqlite_store as t; t.child_main(sys.argv[1:])"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 60.0) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"child exited ({proc.wait()}) before printing {marker!r}")
        if line.strip() == marker:
            return
    raise AssertionError(f"child did not print {marker!r} in {timeout}s")


# ------------------------------------------------------------------------ schema, WAL


def test_migrations_are_recorded_by_name_and_reopening_applies_nothing(db: Path) -> None:
    SQLiteStore(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    rows = conn.execute("SELECT name, applied_at FROM migrations").fetchall()
    assert [r[0] for r in rows] == [m.name for m in store_mod_migrations()] and rows[0][1]
    assert apply_migrations(conn) == []
    extra = Migration("9999_test", ("CREATE TABLE test_extra (x INTEGER)",))
    assert apply_migrations(conn, (*store_mod_migrations(), extra)) == ["9999_test"]
    assert apply_migrations(conn, (*store_mod_migrations(), extra)) == []
    conn.close()
    # a migration this graphmem does not know: a newer graphmem made the file (issue 21)
    with pytest.raises(StoreError, match=r"newer graphmem.*9999_test"):
        SQLiteStore(db)
    conn = sqlite3.connect(db)
    names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")]
    assert names == [*(m.name for m in store_mod_migrations()), "9999_test"]
    conn.close()


def store_mod_migrations() -> tuple[Migration, ...]:
    from graphmem.store.sqlite.schema import MIGRATIONS

    return MIGRATIONS


def test_a_failing_migration_is_not_recorded_and_leaves_no_trace(db: Path) -> None:
    SQLiteStore(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    bad = Migration("0002_bad", ("CREATE TABLE half (x)", "CREATE TABLE passages (x)"))
    with pytest.raises(sqlite3.OperationalError):
        apply_migrations(conn, (*store_mod_migrations(), bad))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "half" not in tables
    names = [r[0] for r in conn.execute("SELECT name FROM migrations")]
    assert names == [m.name for m in store_mod_migrations()]
    conn.close()


def test_wal_mode_and_busy_timeout(db: Path) -> None:
    with SQLiteStore(db, busy_timeout=7.5) as s:
        assert s._require().execute("PRAGMA busy_timeout").fetchone()[0] == 7500
        other = sqlite3.connect(db)
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        other.close()


# ------------------------------------------------------------------------ crashes, processes


def test_kill_9_inside_a_transaction_leaves_the_file_consistent(db: Path) -> None:
    proc = spawn("hang", db, 0, 3)  # batches 0-2 commit, batch 3 hangs mid-transaction
    try:
        read_until(proc, "IN_TXN")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with SQLiteStore(db) as s:
        assert s._require().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert complete_batches(s, 4) == {0, 1, 2}
        assert s.stats(NS).passages == 3 * PER_BATCH
        # Resuming the ingest: every batch again, the committed ones change nothing.
        for i in range(4):
            s.write(numbered_batch(i))
        assert complete_batches(s, 4) == {0, 1, 2, 3}
        assert s.stats(NS).passages == 4 * PER_BATCH
        shared = s.get_entities(NS, [entity_id(NS, "Shared")])[entity_id(NS, "Shared")]
        assert shared.aliases == [f"alias {i}" for i in range(4)]


def test_kill_9_at_an_arbitrary_moment_leaves_whole_batches(db: Path) -> None:
    rng = np.random.default_rng(7)
    for round_ in range(2):
        proc = spawn("loop", db, 0, 40)
        try:
            read_until(proc, f"DONE {2 + round_}")
            time.sleep(float(rng.uniform(0.0, 0.05)))  # somewhere in a later batch
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        with SQLiteStore(db) as s:
            assert s._require().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            done = complete_batches(s, 40)  # every batch the loop may have reached
            assert set(range(3 + round_)) <= done
            assert s.stats(NS).passages == len(done) * PER_BATCH


def test_two_processes_writing_one_file_lose_nothing(db: Path, tmp_path: Path) -> None:
    SQLiteStore(db).close()
    go = tmp_path / "go"
    procs = [spawn("loop", db, 0, 10, go), spawn("loop", db, 10, 20, go)]
    go.touch()
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with SQLiteStore(db) as s:
        assert complete_batches(s, 20) == set(range(20))
        assert s.stats(NS).passages == 20 * PER_BATCH
        shared = s.get_entities(NS, [entity_id(NS, "Shared")])[entity_id(NS, "Shared")]
        assert sorted(shared.aliases) == sorted(f"alias {i}" for i in range(20))
        assert s.stats(NS).edges == 20 * PER_BATCH * 3


def test_another_process_writes_are_seen_without_reopening(db: Path) -> None:
    a, b = SQLiteStore(db), SQLiteStore(db)  # two connections: as two processes would be
    try:
        a.write(numbered_batch(0))
        before = graph_weights(a)
        a.vector_search(NS, "entity", vec("E1x0")[None, :], 1)
        b.write(numbered_batch(1))
        assert graph_weights(a) == graph_weights(b) != before
        hit = a.vector_search(NS, "entity", vec("E1x0")[None, :], 1)[0][0]
        assert hit == (entity_id(NS, "E1x0"), pytest.approx(1.0, abs=1e-5))
        b.delete_source(NS, "b0")
        assert a.stats(NS).passages == PER_BATCH
        assert graph_weights(a) == graph_weights(b)
    finally:
        a.close()
        b.close()


def test_reopen_reloads_the_projection_and_vectors(db: Path) -> None:
    q = np.stack([vec("E0x1"), vec("Shared"), vec("E2x3 relates to Shared")])
    with SQLiteStore(db) as s:
        for i in range(3):
            s.write(numbered_batch(i))
        weights = graph_weights(s)
        ents = s.vector_search(NS, "entity", q, 5)
        facts = s.vector_search(NS, "fact", q, 5)
    with SQLiteStore(db) as s:
        assert graph_weights(s) == weights
        assert s.vector_search(NS, "entity", q, 5) == ents
        assert s.vector_search(NS, "fact", q, 5) == facts
        assert ents[0][0] == (entity_id(NS, "E0x1"), pytest.approx(1.0, abs=1e-5))


# ------------------------------------------------------------------------ in-memory state


def test_graph_is_loaded_once_then_fed_by_writes(
    store: SQLiteStore, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = []
    real = store_mod.load_projection
    monkeypatch.setattr(store_mod, "load_projection", lambda *a: loads.append(1) or real(*a))
    store.write(numbered_batch(0))
    view = store.graph(NS)
    assert store.graph(NS) is view
    for i in (1, 2, 1):
        store.write(numbered_batch(i))
    assert len(loads) == 1  # fed by the writes, not rebuilt
    fed = graph_weights(store)
    assert view.index_of(entity_id(NS, "E2x0")) is None  # old views are snapshots
    store.delete_source(NS, "b1")
    assert len(loads) == 1
    after = graph_weights(store)
    assert len(loads) == 2  # rebuilt once, lazily, after the delete
    monkeypatch.undo()
    with SQLiteStore(db) as fresh:
        assert graph_weights(fresh) == after
        fresh.write(numbered_batch(1))
        assert graph_weights(fresh) == fed


def test_vectors_written_after_their_nodes_are_found(store: SQLiteStore) -> None:
    e = Entity(id=entity_id(NS, "Late"), name="Late", normalized="late", namespace=NS)
    other = numbered_batch(0)
    store.write(other)
    store.write(WriteBatch(NS, entities=[e]))
    q = vec("Late")[None, :]
    assert e.id not in {i for i, _ in store.vector_search(NS, "entity", q, 100)[0]}
    store.write(WriteBatch(NS, embedding_model=MODEL, vectors={embed_key(e): vec("Late")}))
    assert store.vector_search(NS, "entity", q, 1)[0][0][0] == e.id


def test_a_changed_fact_text_moves_its_vector(store: SQLiteStore) -> None:
    batch = numbered_batch(0)
    store.write(batch)
    f = batch.facts[0]
    store.vector_search(NS, "fact", vec(f.text)[None, :], 1)
    new = f.model_copy(update={"text": "E0x0 is now unrelated"})
    store.write(
        WriteBatch(NS, facts=[new], embedding_model=MODEL, vectors={embed_key(new): vec(new.text)})
    )
    assert store.vector_search(NS, "fact", vec(new.text)[None, :], 1)[0][0][0] == f.id
    assert store.vector_search(NS, "fact", vec(f.text)[None, :], 1)[0][0][0] != f.id


def test_hnsw_above_the_exact_limit_agrees_with_exact_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    big = WriteBatch(NS, embedding_model=MODEL)
    for i in range(400):
        name = f"N{i}"
        e = Entity(id=entity_id(NS, name), name=name, normalized=name.lower(), namespace=NS)
        big.entities.append(e)
        big.vectors[embed_key(e)] = rng.normal(size=DIM).astype(np.float32)
    queries = rng.normal(size=(30, DIM)).astype(np.float32)
    with SQLiteStore(tmp_path / "h.db", exact_limit=100) as h, SQLiteStore(tmp_path / "e.db") as x:
        h.write(big)
        x.write(big)
        approx, exact = (
            h.vector_search(NS, "entity", queries, 5),
            x.vector_search(NS, "entity", queries, 5),
        )
        assert h._state[NS].vectors["entity"]._hnsw is not None
        assert x._state[NS].vectors["entity"]._hnsw is None
        recall = np.mean(
            [
                len({i for i, _ in a} & {i for i, _ in b}) / 5
                for a, b in zip(approx, exact, strict=True)
            ]
        )
        assert recall >= 0.9
        for a, b in zip(approx, exact, strict=True):
            assert a[0][1] == pytest.approx(b[0][1], abs=1e-4)  # cosine scores, same scale
        # Appended after the index was built: found.
        late = Entity(id=entity_id(NS, "late"), name="late", normalized="late", namespace=NS)
        h.write(
            WriteBatch(
                NS, entities=[late], embedding_model=MODEL, vectors={embed_key(late): queries[0]}
            )
        )
        assert h.vector_search(NS, "entity", queries[:1], 1)[0][0][0] == late.id


def test_threads_share_one_store(store: SQLiteStore) -> None:
    errors: list[BaseException] = []

    def writer(first: int) -> None:
        try:
            for i in range(first, first + 5):
                store.write(numbered_batch(i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(30):
                store.stats(NS)
                store.graph(NS)
                store.vector_search(NS, "entity", vec("Shared")[None, :], 3)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 5,)) for k in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert complete_batches(store, 15) == set(range(15))
    with SQLiteStore(store.path) as fresh:
        assert graph_weights(fresh) == graph_weights(store)


# ------------------------------------------------------------------------ failures


def test_a_failure_mid_batch_rolls_back_file_and_memory(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write(numbered_batch(0))
    weights = graph_weights(store)
    hits = store.vector_search(NS, "entity", vec("E1x0")[None, :], 3)
    stats = store.stats(NS)

    real = write_mod._write_edges

    def boom(*a: object, **kw: object) -> None:
        real(*a, **kw)  # type: ignore[arg-type]  # the edges are written, then the disk fails
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(write_mod, "_write_edges", boom)
    with pytest.raises(TransactionFailed, match="rolled back") as info:
        store.write(numbered_batch(1))
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert store.stats(NS) == stats
    assert graph_weights(store) == weights
    assert store.vector_search(NS, "entity", vec("E1x0")[None, :], 3) == hits
    monkeypatch.undo()
    store.write(numbered_batch(1))
    assert complete_batches(store, 2) == {0, 1}


def test_bad_batches_are_refused_with_clear_errors(store: SQLiteStore) -> None:
    with pytest.raises(InputError, match="namespace"):
        store.write(WriteBatch("bad ns"))
    p = Passage(id="p:1", text="x", namespace="other")
    with pytest.raises(InputError, match="has namespace 'other'"):
        store.write(WriteBatch(NS, passages=[p]))
    with pytest.raises(InputError, match="embedding_model"):
        store.write(WriteBatch(NS, vectors={"k": np.ones(3, np.float32)}))
    with pytest.raises(InputError, match="finite"):
        store.write(WriteBatch(NS, embedding_model=MODEL, vectors={"k": np.array([1.0, np.nan])}))
    store.write(numbered_batch(0))
    with pytest.raises(InputError, match="dim 16"):
        store.write(WriteBatch(NS, embedding_model=MODEL, vectors={"k": np.ones(3, np.float32)}))
    with pytest.raises(ConfigError, match="holds embeddings of model 'unit-model'"):
        other_model = numbered_batch(1)
        other_model.embedding_model = "other"
        store.write(other_model)
    broken = numbered_batch(2)
    broken.facts[-1] = broken.facts[-1].model_copy(update={"text": "lone \ud800 surrogate"})
    with pytest.raises(InputError, match=f"fact '{broken.facts[-1].id}' cannot be stored"):
        store.write(broken)
    assert complete_batches(store, 3) == {0}
    with pytest.raises(ConfigError, match="dim"):
        store.vector_search(NS, "entity", np.ones((1, 3), np.float32), 2)
    with pytest.raises(ConfigError, match="kind"):
        store.vector_search(NS, "nope", np.ones((1, DIM), np.float32), 2)  # type: ignore[arg-type]


def test_closed_store_and_bad_files(store: SQLiteStore, tmp_path: Path) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.stats(NS)
    store.close()  # twice is fine
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ConnectionFailed, match=r"junk\.db"):
        SQLiteStore(junk)
    a_dir = tmp_path / "a-dir"
    a_dir.mkdir()
    with pytest.raises(ConnectionFailed, match="a-dir"):
        SQLiteStore(a_dir)


# ------------------------------------------------------------------------ open_store


def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url, expected in [
        ("sqlite:///rel/a.db", tmp_path / "rel" / "a.db"),
        (f"sqlite:///{tmp_path}/abs.db", tmp_path / "abs.db"),
        ("plain.db", tmp_path / "plain.db"),
        (str(tmp_path / "p2.db"), tmp_path / "p2.db"),
    ]:
        s = open_store(url)
        assert isinstance(s, SQLiteStore)
        s.write(numbered_batch(0))
        s.close()
        assert expected.exists(), url
    mem = open_store("sqlite:///:memory:")
    assert mem.url == "sqlite:///:memory:" and mem.namespaces() == []
    mem.close()
    for bad in ["mysql://host/db", "sqlite://host/a.db", "sqlite:///", ""]:
        with pytest.raises(ConfigError) as info:
            open_store(bad)
        assert repr(bad) in str(info.value) or bad == ""


def test_server_urls_need_the_cypher_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphmem.store.cypher", None)  # as if not installed
    for url, extra in [
        ("neo4j://127.0.0.1:7687", "neo4j"),
        ("bolt://h:1", "neo4j"),
        ("falkordb://127.0.0.1:6379", "falkordb"),
    ]:
        with pytest.raises(ConfigError, match=rf"graphmem\[{extra}\]"):
            open_store(url)
