"""The ``graphmem`` command: a thin layer over the library, with the library's parameter names.

Settings are resolved here, at the entry point: options first, then ``GRAPHMEM_*`` variables
(``GRAPHMEM_STORE``, ``GRAPHMEM_NAMESPACE``, ``GRAPHMEM_LLM_*``), then defaults.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from graphmem.errors import GraphmemError

app = typer.Typer(
    name="graphmem",
    help="Knowledge-graph memory: ingest text, ask multi-hop questions, serve it over GraphQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="sqlite:///file.db, neo4j://host, bolt://host, falkordb://host:port [env GRAPHMEM_STORE]"),
]
NamespaceOpt = Annotated[
    str | None, typer.Option("--namespace", "-n", help="tenant / user / agent [env GRAPHMEM_NAMESPACE]")
]


def _store_url(store: str | None) -> str:
    return store or os.environ.get("GRAPHMEM_STORE") or "sqlite:///graphmem.db"


def _namespace(namespace: str | None) -> str:
    return namespace or os.environ.get("GRAPHMEM_NAMESPACE") or "default"


def _memory(store: str | None, namespace: str | None, extractor: Any = "nlp") -> Any:
    from graphmem.memory import Memory

    return Memory(_store_url(store), extractor=extractor, namespace=_namespace(namespace))


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="a .jsonl/.txt/.md file, or a folder")],
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
    extractor: Annotated[
        str, typer.Option(help="auto (triples.jsonl if the folder has one, else nlp) | nlp | precomputed | none")
    ] = "auto",
    triples: Annotated[Path | None, typer.Option(help="triples.jsonl for --extractor precomputed")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 64,
    retry_failed: Annotated[bool, typer.Option(help="extract again the passages that failed before")] = False,
) -> None:
    """Ingest documents (re-running is a no-op; failed extractions are kept for --retry-failed)."""
    from graphmem.sources import read_documents

    ex = _extractor(extractor, path, triples)
    with _memory(store, namespace, ex) as mem:
        report = mem.add_many(read_documents(path), batch_size=batch_size, progress=True)
        if retry_failed:
            again = mem.retry_failed()
            report.passages_added += again.passages_added
            report.passages_failed = again.passages_failed
        _print_report(report.model_dump())


def _extractor(name: str, path: Path, triples: Path | None) -> Any:
    folder_triples = path / "triples.jsonl" if path.is_dir() else None
    if name == "auto":
        name = "precomputed" if (triples or (folder_triples and folder_triples.exists())) else "nlp"
    if name == "precomputed":
        from graphmem.extract.precomputed import PrecomputedExtractor

        source = triples or folder_triples
        if source is None or not source.exists():
            raise GraphmemError("--extractor precomputed needs --triples FILE (or a folder with triples.jsonl)")
        return PrecomputedExtractor.from_file(source)
    return name


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title="ingest", show_header=False)
    for key, value in report.items():
        if value not in (0, 0.0, {}, None):
            table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    console.print(table)


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="the question")],
    k: Annotated[int, typer.Option(min=1, max=1000)] = 5,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the SearchResult as JSON")] = False,
) -> None:
    """Ask a question: ranked passages, the facts that linked them, and their scores."""
    with _memory(store, namespace, extractor=None) as mem:
        result = mem.search(question, k=k)
    if as_json:
        console.print_json(result.model_dump_json())
        return
    print_result(result)


def print_result(result: Any) -> None:
    """Answer passages with scores and the facts that linked them (used by the demo too)."""
    console.print(f"[bold]Q:[/bold] {result.question}   [dim]({result.mode} ranking)[/dim]")
    for rank, hit in enumerate(result.passages, start=1):
        p = hit.passage
        dense = f", dense {hit.dense_score:.3f}" if hit.dense_score is not None else ""
        console.print(f"\n[bold cyan]{rank}.[/bold cyan] score {hit.score:.4f}{dense}  [dim]{p.source or p.id}[/dim]")
        console.print("   " + p.text[:300].replace("\n", " — ") + ("…" if len(p.text) > 300 else ""))
        if hit.path:
            console.print("   [green]via[/green] " + " → ".join(hit.path))
        for f in hit.facts[:3]:
            console.print(f"   [yellow]fact[/yellow] ({f.subject_name}) -[{f.fact.predicate}]-> ({f.object_name})  {f.score:.3f}")


@app.command()
def stats(store: StoreOpt = None, namespace: NamespaceOpt = None) -> None:
    """Counts of nodes and edges in a namespace."""
    with _memory(store, namespace, extractor=None) as mem:
        s = mem.stats()
    console.print_json(s.model_dump_json())


@app.command()
def delete(
    source: Annotated[str, typer.Option(help="delete this source's passages and what only they supported")],
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Delete by source."""
    with _memory(store, namespace, extractor=None) as mem:
        report = mem.delete(source=source)
    console.print_json(report.model_dump_json())


@app.command()
def bench(
    path: Annotated[Path, typer.Argument(help="a dataset folder in the layout of shared/bench/README.md")],
    store: StoreOpt = None,
    extractor: Annotated[str, typer.Option(help="auto | nlp | precomputed | llm")] = "auto",
    json_path: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N questions")] = None,
) -> None:
    """Measure graphmem against dense and BM25 retrieval on one dataset, in one run."""
    from graphmem.bench.runner import run_bench

    run_bench(path, store=store, extractor=extractor, json_path=json_path, limit=limit)


@app.command()
def demo(
    corpus: Annotated[Path, typer.Option(help="corpus .jsonl")] = Path("examples/data/demo_corpus.jsonl"),
    questions: Annotated[Path, typer.Option(help="questions .jsonl")] = Path("examples/data/demo_questions.jsonl"),
    store: StoreOpt = None,
    k: Annotated[int, typer.Option(min=1, max=50)] = 3,
) -> None:
    """Ingest the bundled demo corpus (offline) and answer its two-hop questions."""
    from graphmem.demo import run_demo

    run_demo(corpus, questions, store, k=k)


def main() -> None:
    """Entry point: run the app and turn graphmem's errors into one clear line and exit code 2."""
    logging.basicConfig(level=os.environ.get("GRAPHMEM_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except GraphmemError as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()

__all__ = ["app", "main"]
