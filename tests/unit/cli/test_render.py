"""graphmem.cli.render: a SearchResult as text (the CLI's output), on hand-built results."""

from __future__ import annotations

from datetime import UTC, datetime

from graphmem.cli.render import (
    episode_text,
    fact_chain,
    fact_line,
    render_text,
    unit_ended,
    validity,
)
from graphmem.models import (
    Episode,
    EpisodeHit,
    Fact,
    FactHit,
    Hyperedge,
    HyperedgeHit,
    Passage,
    PassageHit,
    SearchResult,
)

T0 = datetime(2020, 1, 10, 9, 0, tzinfo=UTC)
T1 = datetime(2024, 3, 1, 8, 15, tzinfo=UTC)


def fact(
    fid: str,
    s: str,
    p: str,
    o: str,
    *,
    valid: datetime | None = None,
    ended: datetime | None = None,
    expired: datetime | None = None,
) -> Fact:
    return Fact(
        id=fid,
        subject=f"e:{s}",
        predicate=p,
        object=f"e:{o}",
        text=f"{s} {p} {o}",
        valid_at=valid,
        invalid_at=ended,
        expired_at=expired,
    )


def hit(f: Fact, score: float = 0.5) -> FactHit:
    return FactHit(fact=f, score=score, subject_name=f.subject[2:], object_name=f.object[2:])


LISBON = fact("f:1", "Ada", "lives in", "Lisbon", valid=T0, ended=T1, expired=T1)
PORTO = fact("f:2", "Ada", "moved to", "Porto", valid=T1)
JAZZ = fact("f:3", "Ada", "likes", "jazz")


def episode(text: str, speaker: str | None = "Ada", eid: str = "ep:1") -> Episode:
    return Episode(id=eid, text=text, time=T0, speaker=speaker, session="ada-1")


def test_validity_says_since_ended_and_superseded() -> None:
    assert validity(LISBON) == "since 2020-01-10, ended 2024-03-01"
    assert validity(PORTO) == "since 2024-03-01"
    assert validity(JAZZ) == ""
    superseded = fact("f:9", "Ada", "works at", "Acme", expired=T1)
    assert validity(superseded) == "superseded 2024-03-01"


def test_episode_shows_the_speaker_once() -> None:
    # ingest stores a turn as "speaker: text"; the speaker must not be printed twice
    assert episode_text(episode("Ada: I love it.")).plain == "Ada: I love it."
    assert episode_text(episode("I love it.")).plain == "Ada: I love it."
    assert episode_text(episode("Adams: hello")).plain == "Ada: Adams: hello"
    assert episode_text(episode("No one speaks.", speaker=None)).plain == "No one speaks."


def test_episodes_show_time_session_facts_and_validity() -> None:
    result = SearchResult(
        question="Where does Ada live?",
        mode="episodic",
        episodes=[
            EpisodeHit(
                episode=episode("Ada: I live in Lisbon."),
                score=1.25,
                facts=[hit(LISBON), hit(JAZZ)],
            ),
            EpisodeHit(
                episode=episode("Ada: I moved to Porto.", eid="ep:2"), score=1.0, facts=[hit(PORTO)]
            ),
        ],
        facts=[hit(PORTO), hit(LISBON)],
    )
    text = render_text(result)
    assert "Ada: Ada:" not in text
    lines = text.splitlines()
    head = next(line for line in lines if line.startswith("episode ") and "score 1.2500" in line)
    assert "2020-01-10 09:00" in head and "session ada-1" in head
    lisbon = [line for line in lines if "-[lives in]->" in line]
    assert len(lisbon) == 2  # under its episode and in the fact list
    assert all("ended 2024-03-01" in line and "since 2020-01-10" in line for line in lisbon)
    porto = [line for line in lines if "-[moved to]->" in line]
    assert porto and all("since 2024-03-01" in line and "ended" not in line for line in porto)
    # the episode's facts come right after it, before the next episode
    assert (
        lines.index(head)
        < lines.index(lisbon[0])
        < lines.index(
            next(line for line in lines if line.startswith("episode ") and "score 1.0000" in line)
        )
    )


def test_passages_and_episodes_print_as_one_list_by_relevance() -> None:
    result = SearchResult(
        question="Where does Ada live now?",
        passages=[
            PassageHit(passage=Passage(id="p:1", text="Lisbon guide"), score=1 / 61, relevance=0.3),
            PassageHit(passage=Passage(id="p:2", text="Porto guide"), score=1 / 62, relevance=0.1),
        ],
        episodes=[EpisodeHit(episode=episode("Ada: I moved to Porto."), score=2.0, relevance=0.8)],
        confidence=0.7,
        answerable=True,
    )
    lines = render_text(result, width=200).splitlines()
    order = [i for i, line in enumerate(lines) if "relevance" in line]
    assert ["relevance 0.80" in lines[order[0]], "relevance 0.30" in lines[order[1]]] == [True] * 2
    assert "relevance 0.10" in lines[order[2]] and lines[order[1]].startswith("1.")
    assert any("confidence 0.70: answerable" in line for line in lines)
    result.answerable = False
    assert "probably not in memory" in render_text(result, width=200)


def test_passage_line_breaks_are_kept() -> None:
    text = "Kestrel\n\n\n\nKestrel is a project.\nIt started in 2021.   \nPriya leads it."
    p = Passage(id="p:1", text=text, source="notes/kestrel.md")
    out = render_text(SearchResult(question="q", passages=[PassageHit(passage=p, score=0.1)]))
    lines = out.splitlines()
    start = lines.index("   Kestrel")
    assert lines[start : start + 5] == [
        "   Kestrel",
        "",
        "   Kestrel is a project.",
        "   It started in 2021.",
        "   Priya leads it.",
    ]
    assert " — " not in out  # no longer flattened into one line


def test_the_path_is_the_chain_of_facts() -> None:
    wrote = fact("f:a", "Glass Orchard", "novel by", "Helena Marsh")
    born = fact("f:b", "Helena Marsh", "born in", "Port Adley")
    river = fact("f:c", "Veyle", "flows through", "Port Adley")
    p = Passage(id="p:1", text="...", source="d01")
    chained = PassageHit(
        passage=p,
        score=0.1,
        facts=[hit(born), hit(wrote), hit(river)],
        path=["Glass Orchard", "Helena Marsh", "Veyle"],
    )
    chain = fact_chain(chained)
    assert chain is not None
    assert chain.plain == (
        "Glass Orchard -[novel by]-> Helena Marsh -[born in]-> Port Adley <-[flows through]- Veyle"
    )
    # a star: one walk, then a branch off it; a name no fact reaches is set apart
    star = PassageHit(
        passage=p,
        score=0.1,
        facts=[
            hit(fact("f:d", "G", "adapted in", "1995")),
            hit(fact("f:e", "G", "novel by", "Simon")),
            hit(fact("f:f", "G", "adapted for", "radio")),
        ],
        path=["1995", "Simon", "radio", "Merrow"],
    )
    chain = fact_chain(star)
    assert chain is not None
    assert chain.plain == (
        "1995 <-[adapted in]- G -[novel by]-> Simon; G -[adapted for]-> radio — Merrow"
    )
    assert fact_chain(PassageHit(passage=p, score=0.1)) is None
    out = render_text(SearchResult(question="q", passages=[chained]), width=200)
    assert "   via Glass Orchard -[novel by]-> Helena Marsh -[born in]-> Port Adley" in out


def test_an_ended_memory_unit_is_marked() -> None:
    maria = fact("f:m", "Maria", "is CEO of", "Northwind", valid=T0, ended=T1, expired=T1)
    tom = fact("f:t", "Tom", "became CEO of", "Northwind", valid=T1)
    old = HyperedgeHit(
        hyperedge=Hyperedge(
            id="h:1",
            description="Maria Lopez is the CEO of Northwind.",
            members=["e:Maria", "e:Northwind", "e:CEO"],
        ),
        score=1.0,
    )
    new = HyperedgeHit(
        hyperedge=Hyperedge(
            id="h:2",
            description="Tom Baker became the CEO of Northwind.",
            members=["e:Tom", "e:Northwind", "e:CEO"],
        ),
        score=0.9,
    )
    unknown = HyperedgeHit(
        hyperedge=Hyperedge(
            id="h:3",
            description="The Blue Cottage is by the lake.",
            members=["e:Cottage", "e:lake", "e:Blue"],
        ),
        score=0.8,
    )
    assert unit_ended(old, [maria, tom]) == [maria]
    assert unit_ended(new, [maria, tom]) == []
    assert unit_ended(unknown, [maria, tom]) == []
    result = SearchResult(
        question="Who is the CEO of Northwind?",
        episodes=[
            EpisodeHit(
                episode=episode("Reporter: x", speaker="Reporter"), score=1.0, facts=[hit(maria)]
            )
        ],
        facts=[hit(tom)],
        hyperedges=[old, new, unknown],
    )
    lines = render_text(result).splitlines()
    units = {line.split("  ", 1)[1]: line for line in lines if line.startswith("memory unit")}
    assert units["Maria Lopez is the CEO of Northwind.  [ended 2024-03-01]"]
    assert "ended" not in " ".join(k for k in units if not k.startswith("Maria"))


def test_an_empty_result_says_so() -> None:
    out = render_text(SearchResult(question="anything?"))
    assert out.splitlines()[0].startswith("Q: anything?")
    assert "Nothing in this namespace answers the question." in out


def test_markup_in_data_is_printed_as_text() -> None:
    p = Passage(id="p:1", text="[bold]not bold[/bold] and [link=x]y[/link]", source="[red]s")
    out = render_text(SearchResult(question="[q]", passages=[PassageHit(passage=p, score=0.1)]))
    assert "[bold]not bold[/bold] and [link=x]y[/link]" in out and "[red]s" in out


def test_a_value_object_is_shown_as_the_text_says_it() -> None:
    # a date object is kept in the fact's text; the stored fact loops on its subject
    born = Fact(
        id="f:9",
        subject="e:Oren Vale",
        predicate="born in",
        object="e:Oren Vale",
        text="Oren Vale born in Caldor in 1862",
    )
    line = fact_line(hit(born)).plain
    assert line.startswith("(Oren Vale) -[born in]-> Caldor in 1862")
    assert fact_line(hit(JAZZ)).plain.startswith("(Ada) -[likes]-> (jazz)")
