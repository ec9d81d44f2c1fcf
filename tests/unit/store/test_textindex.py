"""The embedded store's BM25: FTS5's words and scores (with the file's word statistics) from the
namespace's own postings, kept in step with writes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from graphmem.errors import ConfigError
from graphmem.models import Episode, Passage
from graphmem.store.base import WriteBatch
from graphmem.store.lexical import fts5_query, query_terms
from graphmem.store.sqlite import SQLiteStore
from graphmem.store.textindex import TextIndex, tokens

TEXTS = [
    "The committee assembled in Paris to discuss the treaty.",
    "Paris is the capital of France and its largest city.",
    "She played the violin at the concert in Vienna last spring.",
    "Vienna hosts a famous concert every New Year, broadcast worldwide.",
    "The treaty was signed after long talks between the delegations.",
    "A violin maker in Cremona built instruments for the great players.",
    "Running and cycling are the city's favourite sports.",
]
QUESTIONS = [
    "Where was the treaty discussed?",
    "Which city hosts the New Year concert?",
    "who builds violins",
    "capital of France",
    "the runners of the city",
]


def _fts5(texts: list[str], question: str) -> list[tuple[str, float]]:
    """What an FTS5 table (porter unicode61, as the store's) answers, best first."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5(text, id UNINDEXED, tokenize='porter unicode61')"
    )
    conn.executemany(
        "INSERT INTO t (text, id) VALUES (?, ?)", [(x, str(i)) for i, x in enumerate(texts)]
    )
    rows = conn.execute(
        "SELECT id, bm25(t) AS r FROM t WHERE t MATCH ? ORDER BY r, id",
        (fts5_query(query_terms(question)),),
    ).fetchall()
    return [(str(i), -float(r)) for i, r in rows]


@pytest.mark.parametrize("question", QUESTIONS)
def test_scores_are_fts5s(question: str) -> None:
    index = TextIndex()
    index.add((str(i), x) for i, x in enumerate(TEXTS))
    mine = index.search(query_terms(question), 10)
    theirs = _fts5(TEXTS, question)
    assert mine == theirs  # to the last bit: the same words, the same arithmetic


def test_equal_scores_are_equal_to_the_last_bit_and_ordered_by_id() -> None:
    # common words sit at FTS5's IDF floor, where rounding decides ties unless it is FTS5's own
    texts = [f"the you {' '.join(['the'] * (i % 4))} you item{i % 7}" for i in range(300)]
    index = TextIndex()
    index.add((str(i), x) for i, x in enumerate(texts))
    for question in ("the you", "you item3", "item5 the"):
        theirs = _fts5(texts, question)
        assert index.search(query_terms(question), len(texts)) == theirs


#: text -> FTS5's tokens differ from ours only where a word keeps a non-ASCII letter after folding
#: and the two Porter stemmers part ("straße": FTS5 stems its bytes to "straß")
WORDS = [
    "Les MISÉRABLES, café naïveté Ærø Øresund œuvres",
    "ﬁve ﬁles ２０２３年 ½ cup x³ ①②",  # no compatibility folding
    "мой дом, мои книги",  # one diacritic on a Cyrillic letter stays
    "Ελληνικά ΣΊΣΥΦΟΣ Σίσυφος",  # final sigma folds
    "がぎぐ カタカナ 회동계올림픽",
    "Việt Nam tiếng Việt",  # two diacritics on one letter stay
    "e\u0301cole cafe\u0301 İstanbul",  # combining diacritics inside a word are dropped
    "don't it's U.S.A. hello_world foo-bar running jumped",
    "ǅemal Ǆ ĳssel Ŀl ﬀ 𝐁𝐨𝐥𝐝 Ⅻ",
]


@pytest.mark.parametrize("text", WORDS)
def test_words_are_cut_and_folded_as_fts5s_unicode61(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    conn.execute("INSERT INTO t (rowid, text) VALUES (1, ?)", (text,))
    theirs = [r[0] for r in conn.execute("SELECT term FROM v WHERE doc = 1 ORDER BY offset")]
    assert tokens(text) == theirs


def test_a_word_that_keeps_a_non_ascii_letter_is_left_unstemmed() -> None:
    assert tokens("Straße STRASSE") == ["straße", "strass"]  # FTS5: "straß", "strass"
    assert tokens("it's") == ["it", "s"]  # short words are not stemmed (nor emptied)


def test_no_match_and_k() -> None:
    index = TextIndex()
    assert index.search(["anything"], 3) == []
    index.add([("a", "one two"), ("b", "two three"), ("c", "three four")])
    assert index.search(["five"], 3) == []
    assert [i for i, _ in index.search(["two", "three"], 2)] == ["b", "a"]
    assert index.search(["two"], 0) == []


def _episode(ns: str, i: int, text: str) -> Episode:
    return Episode(
        id=f"ep:{ns}:{i}", namespace=ns, text=text, time=datetime(2024, 1, 1, tzinfo=UTC)
    )


def _match(path: str, ns: str, question: str) -> list[tuple[str, float]]:
    """What the FTS5 table beside the store answers (the search this index replaced)."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT id, bm25(episodes_fts) AS r FROM episodes_fts WHERE episodes_fts MATCH ? "
        "AND namespace = ? ORDER BY r, id",
        (fts5_query(query_terms(question)), ns),
    ).fetchall()
    conn.close()
    return [(str(i), -float(r)) for i, r in rows]


def test_the_store_scores_as_fts5_over_the_file(tmp_path: object) -> None:
    """A namespace's own postings, the file's word statistics: FTS5's scores, also after a
    write to another namespace changes them."""
    path = f"{tmp_path}/file.db"
    with SQLiteStore(path) as store:
        store.write(WriteBatch("a", episodes=[_episode("a", i, t) for i, t in enumerate(TEXTS)]))
        noise = [_episode("b", i, f"violin concert number {i} in Vienna") for i in range(30)]
        for question in [*QUESTIONS, "Vienna concert violin"]:
            mine = store.text_search("a", question, 10, kind="episode")
            theirs = _match(path, "a", question)[:10]
            assert [i for i, _ in mine] == [i for i, _ in theirs]
            assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], rel=1e-9)
        before = store.text_search("a", "Vienna concert violin", 5, kind="episode")
        store.write(WriteBatch("b", episodes=noise))
        after = store.text_search("a", "Vienna concert violin", 5, kind="episode")
        assert after != before  # the words are commoner in the file now
        theirs = _match(path, "a", "Vienna concert violin")[:5]
        assert [i for i, _ in after] == [i for i, _ in theirs]
        assert [s for _, s in after] == pytest.approx([s for _, s in theirs], rel=1e-9)
        assert all(
            i.startswith("ep:b:") for i, _ in store.text_search("b", "number", 5, kind="episode")
        )


def test_without_a_corpus_an_index_weighs_its_own_words() -> None:
    small = TextIndex()
    small.add([("a", "violin lessons"), ("b", "piano lessons"), ("c", "a quiet evening")])
    alone = dict(small.search(["violin", "lessons"], 3))
    assert alone["a"] > alone["b"] > 0  # violin is rarer than lessons here

    class Wide:
        def shape(self) -> tuple[int, float]:
            return 1000, 2.0

        def doc_freq(self, term: str) -> int:
            return {"violin": 400, "lessons": 2}.get(term, 0)

    wide = dict(small.search(["violin", "lessons"], 3, Wide()))
    assert wide["b"] > 0 and wide["a"] > wide["b"]
    assert wide["b"] > alone["b"]  # lessons is rare in the wider corpus


def test_writes_keep_the_index_in_step(tmp_path: object) -> None:
    with SQLiteStore(":memory:") as store:
        store.write(WriteBatch("a", episodes=[_episode("a", 0, "we adopted a cat named Miso")]))
        assert [i for i, _ in store.text_search("a", "cat", 5, kind="episode")] == ["ep:a:0"]
        # a new episode after the index was built is found without a reload
        store.write(WriteBatch("a", episodes=[_episode("a", 1, "the cat sleeps on the piano")]))
        assert {i for i, _ in store.text_search("a", "piano", 5, kind="episode")} == {"ep:a:1"}
        # a rewritten text replaces the old one
        store.write(WriteBatch("a", episodes=[_episode("a", 0, "we adopted a dog named Miso")]))
        assert [i for i, _ in store.text_search("a", "cat", 5, kind="episode")] == ["ep:a:1"]
        assert [i for i, _ in store.text_search("a", "dog", 5, kind="episode")] == ["ep:a:0"]
        # passages too, and a deleted source leaves the index
        store.write(
            WriteBatch(
                "a", passages=[Passage(id="p:1", namespace="a", text="a dog park", source="s")]
            )
        )
        assert [i for i, _ in store.text_search("a", "park", 5)] == ["p:1"]
        store.delete_source("a", "s")
        assert store.text_search("a", "park", 5) == []


def test_another_process_write_is_seen(tmp_path: pytest.TempPathFactory) -> None:
    path = f"{tmp_path}/two.db"
    with SQLiteStore(path) as first, SQLiteStore(path) as second:
        first.write(WriteBatch("a", episodes=[_episode("a", 0, "a red kite")]))
        assert second.text_search("a", "kite", 5, kind="episode") != []
        first.write(WriteBatch("a", episodes=[_episode("a", 1, "a blue kite")]))
        assert {i for i, _ in second.text_search("a", "kite", 5, kind="episode")} == {
            "ep:a:0",
            "ep:a:1",
        }


def test_episodes_come_back_as_copies() -> None:
    timed = _episode("a", 0, "first words")
    timed.metadata = {"times": [["today", "2024-01-01T00:00:00+00:00"]]}
    with SQLiteStore(":memory:") as store:
        store.write(WriteBatch("a", episodes=[timed]))
        got = store.get_episodes("a", ["ep:a:0"])["ep:a:0"]
        got.metadata["mine"] = 1
        got.metadata["times"][0].append("changed")  # nested: the kept episode's own list
        got.text = "changed by a caller"
        again = store.get_episodes("a", ["ep:a:0"])["ep:a:0"]
        assert again.text == "first words" and "mine" not in again.metadata
        assert again.metadata["times"] == [["today", "2024-01-01T00:00:00+00:00"]]
        assert store.lend_episodes("a", ["ep:a:0"])["ep:a:0"].metadata == again.metadata
        store.write(WriteBatch("a", episodes=[_episode("a", 0, "second words")]))
        assert store.get_episodes("a", ["ep:a:0"])["ep:a:0"].text == "second words"


def test_lent_episodes_are_the_kept_ones_and_hits_copy_them() -> None:
    from graphmem.retrieve.episodes import EpisodeRetrieval
    from graphmem.retrieve.results import episode_hits
    from graphmem.store.base import LendsEpisodes

    with SQLiteStore(":memory:") as store:
        store.write(WriteBatch("a", episodes=[_episode("a", i, f"turn {i}") for i in range(3)]))
        assert isinstance(store, LendsEpisodes)
        lent = store.lend_episodes("a", ["ep:a:0", "ep:a:1"])
        assert lent["ep:a:0"] is store.lend_episodes("a", ["ep:a:0"])["ep:a:0"]
        found = EpisodeRetrieval(
            [("ep:a:1", 0.9), ("ep:a:0", 0.5)], {}, [], {}, mode="episodic", rows=lent
        )
        hits = episode_hits(store, "a", found, context=False)
        assert [h.episode.id for h in hits] == ["ep:a:1", "ep:a:0"]
        hits[0].episode.metadata["mine"] = 1
        hits[0].episode.text = "changed by a caller"
        kept = store.lend_episodes("a", ["ep:a:1"])["ep:a:1"]
        assert kept.text == "turn 1" and "mine" not in kept.metadata


def test_memory_holds_the_namespaces_used_last(tmp_path: object) -> None:
    path = f"{tmp_path}/many.db"
    with SQLiteStore(path) as wide, SQLiteStore(path, memory_namespaces=2) as narrow:
        for ns in "abcd":
            wide.write(WriteBatch(ns, episodes=[_episode(ns, i, t) for i, t in enumerate(TEXTS)]))
        for _ in range(2):  # the second round rebuilds what the first dropped
            for ns in "abcd":
                assert narrow.text_search(ns, "violin concert", 5, kind="episode") == (
                    wide.text_search(ns, "violin concert", 5, kind="episode")
                )
                assert len(narrow._state) <= 2
        assert narrow._state.get("d") is not None and narrow._state.get("a") is None
    with pytest.raises(ConfigError):
        SQLiteStore(":memory:", memory_namespaces=0)


def test_a_namespace_too_large_to_hold_is_searched_by_fts5(tmp_path: object) -> None:
    path = f"{tmp_path}/large.db"
    with SQLiteStore(path) as held, SQLiteStore(path, text_index_limit=3) as matched:
        held.write(WriteBatch("a", episodes=[_episode("a", i, t) for i, t in enumerate(TEXTS)]))
        held.write(WriteBatch("b", episodes=[_episode("b", 0, "one violin")]))
        for question in [*QUESTIONS, "Vienna concert violin"]:
            mine = matched.text_search("a", question, 10, kind="episode")
            theirs = held.text_search("a", question, 10, kind="episode")
            assert [i for i, _ in mine] == [i for i, _ in theirs]
            assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], rel=1e-9)
        state = matched._state.get("a")
        assert state is not None and state.texts["episode"] is None  # 7 texts > 3: not held
        assert matched.text_search("b", "violin", 5, kind="episode")[0][0] == "ep:b:0"
        matched.write(WriteBatch("a", episodes=[_episode("a", 99, "a harpsichord recital")]))
        assert matched.text_search("a", "harpsichord", 5, kind="episode")[0][0] == "ep:a:99"
        matched.warm("a")  # warming a namespace it does not hold is no error
        matched.write(WriteBatch("c", episodes=[_episode("c", i, TEXTS[i]) for i in range(3)]))
        assert matched.text_search("c", "violin", 5, kind="episode")
        assert matched._state.get("c").texts["episode"] is not None  # type: ignore[union-attr]
        matched.write(WriteBatch("c", episodes=[_episode("c", 3, TEXTS[3])]))  # 4 > 3
        assert "episode" not in matched._state.get("c").texts  # type: ignore[union-attr]
        grown = matched.text_search("c", "Vienna concert violin", 5, kind="episode")
        assert matched._state.get("c").texts["episode"] is None  # type: ignore[union-attr]
        assert grown and grown == held.text_search("c", "Vienna concert violin", 5, kind="episode")
