"""The ``graphmem`` command: a thin layer over the library, with the library's parameter names.

Settings are resolved here, at the entry point: options first, then ``GRAPHMEM_*`` variables
(``GRAPHMEM_STORE``, ``GRAPHMEM_NAMESPACE``, ``GRAPHMEM_LLM_*``, see
:class:`graphmem.extract.settings.LLMSettings`), then defaults. Nothing else reads the
environment.

    graphmem ingest docs/ --store sqlite:///memory.db
    graphmem ingest notes/ --extractor llm --llm-base-url http://127.0.0.1:8080/v1 --llm-model m
    graphmem search "Where was the author of Emma born?" --store sqlite:///memory.db
    graphmem serve --store sqlite:///memory.db --port 8000

Without ``--store`` (or ``GRAPHMEM_STORE``) the store is ``sqlite:///graphmem.db``: the file
graphmem.db in the current folder. Only ``ingest`` (and ``serve``, ``demo``) create a store; the
read-only commands refuse a missing or empty one with "empty store: run graphmem ingest ...".
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from graphmem.cli.lifecycle import (
    consolidate_command,
    forget_command,
    restore_command,
    show_command,
)
from graphmem.cli.mcp import mcp_command
from graphmem.cli.options import NamespaceOpt, StoreOpt
from graphmem.cli.server import keys_app, schema_command, serve_command
from graphmem.cli.terminal import (
    console,
    err,
    help_width,
    llm_extractor,
    open_existing,
    open_memory,
    parse_between,
    print_report,
    print_result,
)
from graphmem.cli.viz import viz_command
from graphmem.errors import ConfigError, GraphmemError, InputError
from graphmem.memory import EXTRACTORS, MAX_K, make_extractor
from graphmem.timeparse import parse_iso

app = typer.Typer(
    name="graphmem",
    help="Knowledge-graph memory: ingest text, ask multi-hop questions, serve it over GraphQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve_command)
app.command("schema")(schema_command)
app.add_typer(keys_app, name="keys")
app.command("mcp")(mcp_command)
app.command("show")(show_command)
app.command("forget")(forget_command)
app.command("restore")(restore_command)
app.command("consolidate")(consolidate_command)

ExtractorOpt = Annotated[
    str,
    typer.Option(
        help="auto (triples.jsonl if the folder has one, else nlp) | nlp | precomputed | llm | none"
    ),
]
# LLM options: None means "not given", so the GRAPHMEM_LLM_* variable (or the default) stays.
LLMBaseUrl = Annotated[
    str | None,
    typer.Option("--llm-base-url", help="OpenAI-compatible endpoint (env GRAPHMEM_LLM_BASE_URL)"),
]
LLMModel = Annotated[
    str | None, typer.Option("--llm-model", help="chat model (env GRAPHMEM_LLM_MODEL)")
]
LLMApiKey = Annotated[
    str | None,
    typer.Option("--llm-api-key", help="(env GRAPHMEM_LLM_API_KEY, then OPENAI_API_KEY)"),
]
LLMConcurrency = Annotated[
    int | None,
    typer.Option("--llm-concurrency", min=1, max=1024, help="requests in flight [4]"),
]
LLMTimeout = Annotated[
    float | None, typer.Option("--llm-timeout", min=0.1, help="seconds per request [60]")
]
LLMTokens = Annotated[
    int | None,
    typer.Option("--llm-max-tokens", min=1, help="stop the ingest after this many tokens"),
]
LLMCost = Annotated[
    float | None,
    typer.Option("--llm-max-cost", min=0.0, help="stop the ingest after this many US dollars"),
]
STRICT_HELP = "refuse a folder whose questions name gold ids it lacks (default: skip them, warn)"
LLMRecognition = Annotated[
    bool,
    typer.Option(
        "--llm-recognition",
        help="the LLM extractor also keeps only the matched facts "
        "that bear on each question (HippoRAG 2's filter; one cached call per question)",
    ),
]


def _extractor(name: str, path: Path | None, triples: Path | None, llm: dict[str, Any]) -> Any:
    folder_triples = path / "triples.jsonl" if path is not None and path.is_dir() else None
    name = name.strip().lower()
    if name == "auto":
        has_triples = triples or (folder_triples and folder_triples.exists())
        name = "precomputed" if has_triples else "nlp"
    if name == "precomputed":
        source = triples or folder_triples
        if source is None or not source.exists():
            raise ConfigError(
                "--extractor precomputed needs --triples FILE (or a folder with triples.jsonl)"
            )
        return make_extractor(name, triples=source)
    if name == "llm":
        return llm_extractor(**llm)
    if name not in {*EXTRACTORS, "spacy"}:
        raise ConfigError(f"unknown extractor {name!r}: use auto, {', '.join(EXTRACTORS)}")
    return name


def _llm_options(
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    concurrency: int | None,
    timeout: float | None,
    max_tokens: int | None,
    max_cost: float | None,
) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "model": model,
        "api_key": api_key,
        "concurrency": concurrency,
        "timeout": timeout,
        "max_tokens_budget": max_tokens,
        "max_cost_budget": max_cost,
    }


@app.command()
def ingest(
    path: Annotated[
        Path,
        typer.Argument(help="a .md/.markdown/.txt/.rst/.html/.htm/.pdf/.jsonl file, or a folder"),
    ],
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
    extractor: ExtractorOpt = "auto",
    triples: Annotated[
        Path | None, typer.Option(help="triples.jsonl for --extractor precomputed")
    ] = None,
    episodes: Annotated[
        bool,
        typer.Option(
            "--episodes", help="each JSONL line is an episode: text, time, speaker, session"
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 64,
    retry_failed: Annotated[
        bool, typer.Option(help="then extract again the passages whose extraction failed")
    ] = False,
    source_prefix: Annotated[
        str,
        typer.Option(
            "--source-prefix",
            help="put before each file's source (its path relative to PATH), e.g. 'wiki/'",
        ),
    ] = "",
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks", help="also read files that links in the folder point to outside it"
        ),
    ] = False,
    llm_base_url: LLMBaseUrl = None,
    llm_model: LLMModel = None,
    llm_api_key: LLMApiKey = None,
    llm_concurrency: LLMConcurrency = None,
    llm_timeout: LLMTimeout = None,
    llm_max_tokens: LLMTokens = None,
    llm_max_cost: LLMCost = None,
) -> None:
    """Ingest documents or episodes (re-running is a no-op; failed extractions are kept).

    A file's source is its path relative to PATH (eng/notes.md); re-ingesting a changed file
    replaces its passages. Files that are empty, binary, over 10 MB or unreadable are reported
    one by one and the rest is ingested (exit code 1 if any failed).
    """
    from graphmem.cli.ingesting import print_problems, run_ingest
    from graphmem.memory import FileProblem

    llm = _llm_options(
        llm_base_url,
        llm_model,
        llm_api_key,
        llm_concurrency,
        llm_timeout,
        llm_max_tokens,
        llm_max_cost,
    )
    if not path.exists():  # before the store is opened: a typo creates no database
        raise InputError("no such file or folder", path=str(path))
    ex = _extractor(extractor, path, triples, llm)
    problems: list[FileProblem] = []
    with open_memory(store, namespace, ex) as mem:
        report = run_ingest(
            mem,
            path,
            episodes=episodes,
            batch_size=batch_size,
            source_prefix=source_prefix,
            follow_symlinks=follow_symlinks,
            problems=problems,
        )
        if retry_failed:
            again = mem.retry_failed(batch_size=batch_size)
            report.passages_added += again.passages_added
            report.passages_failed = again.passages_failed
            for name, value in again.usage.items():
                report.usage[name] = report.usage.get(name, 0.0) + value
        print_report(report.model_dump())
        failed = mem.stats().failed_passages
    if failed:
        err.print(
            f"[yellow]{failed} passage(s) are stored with a failed extraction:[/yellow] "
            "run again with --retry-failed"
        )
    n = print_problems(problems)
    if n:
        err.print(f"[red]{n} file(s) failed[/red]; the others were ingested")
        raise typer.Exit(1)


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="the question")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=MAX_K, help="passages to return")] = 5,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the world as it was then (ISO 8601)")
    ] = None,
    between: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--between",
            metavar="START END",
            help="episodes in that interval, facts that held during it (ISO 8601; '-' leaves "
            "an end open)",
        ),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option(help="passages, facts, entities, episodes, hyperedges, context (repeatable)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the SearchResult as JSON")] = False,
    extractor: Annotated[
        str, typer.Option(help="none | llm (the LLM names the question's entities as seeds)")
    ] = "none",
    llm_base_url: LLMBaseUrl = None,
    llm_model: LLMModel = None,
    llm_api_key: LLMApiKey = None,
) -> None:
    """Ask a question: ranked passages, the facts that linked them, and their scores."""
    ex: Any = None
    if extractor.strip().lower() == "llm":
        ex = llm_extractor(base_url=llm_base_url, model=llm_model, api_key=llm_api_key)
    elif extractor.strip().lower() != "none":
        raise ConfigError(f"search --extractor {extractor!r}: use none or llm")
    interval = parse_between(between)
    when = parse_iso(as_of, "--as-of")
    with open_existing(store, namespace, extractor=ex) as mem:
        result = mem.search(question, k=k, as_of=when, between=interval, include=include)
    if as_json:
        console.print_json(result.model_dump_json())
        return
    print_result(result)


@app.command()
def stats(store: StoreOpt = None, namespace: NamespaceOpt = None) -> None:
    """Counts of nodes and edges in a namespace (zeros, and a hint, for an empty one)."""
    # An empty namespace is a true answer (zeros, exit 0; the hint goes to stderr); a missing
    # store file is probably a wrong path, so that exits 1 like the other read-only commands.
    with open_existing(store, namespace, allow_empty=True) as mem:
        mem.check()  # counts of a corrupt file are not worth printing
        s = mem.stats()
    console.print_json(s.model_dump_json())


@app.command()
def delete(
    source: Annotated[
        str | None,
        typer.Option(help="delete this source's passages and what only they supported (exact)"),
    ] = None,
    source_prefix: Annotated[
        str | None,
        typer.Option("--source-prefix", help="delete every source starting with this, e.g. 'eng/'"),
    ] = None,
    all_namespace: Annotated[
        bool, typer.Option("--all", help="delete the whole namespace instead")
    ] = False,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Delete by source (entities and facts other passages still state are kept)."""
    given = sum((source is not None, source_prefix is not None, all_namespace))
    if given != 1:
        raise ConfigError("give exactly one of --source SOURCE, --source-prefix PREFIX or --all")
    if source_prefix is not None and not source_prefix:
        raise ConfigError("--source-prefix must not be empty (use --all for the whole namespace)")
    with open_existing(store, namespace) as mem:
        if source is not None:
            report = mem.delete(source=source)
        elif source_prefix is not None:
            report = mem.delete_prefix(source_prefix)
        else:
            report = mem.delete_namespace(mem.namespace)
        if not all_namespace and not any(report.model_dump().values()):
            from graphmem.cli.ingesting import nothing_deleted

            nothing_deleted(mem, source, source_prefix)
    console.print_json(report.model_dump_json())


@app.command()
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="file ('-': stdout)")] = Path("-"),
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or graphml (networkx)")] = "jsonl",
) -> None:
    """Write a namespace's nodes and edges as JSON Lines or GraphML (embeddings left out)."""
    if fmt not in ("jsonl", "graphml"):
        raise ConfigError(f"unknown --format {fmt!r}: use jsonl or graphml")
    with open_existing(store, namespace) as mem:
        stdout = str(output) == "-"
        output.parent.mkdir(parents=True, exist_ok=True)  # "-": ".", which exists
        stream = sys.stdout.buffer if fmt == "graphml" else sys.stdout
        counts = mem.export(stream if stdout else output, format=fmt)
    err.print(", ".join(f"{n} {kind}" for kind, n in counts.items()))


@app.command()
def bench(
    path: Annotated[
        Path, typer.Argument(help="a dataset folder in the layout of shared/bench/README.md")
    ],
    store: StoreOpt = None,
    extractor: Annotated[str, typer.Option(help="auto | nlp | precomputed | llm | none")] = "auto",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the results as JSON here")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="only the first N questions")] = None,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
    per_question: Annotated[
        Path | None,
        typer.Option(help="write each question's ranks and recall as JSON lines here"),
    ] = None,
    llm_base_url: LLMBaseUrl = None,
    llm_model: LLMModel = None,
    llm_api_key: LLMApiKey = None,
    llm_concurrency: LLMConcurrency = None,
    llm_timeout: LLMTimeout = None,
    llm_max_tokens: LLMTokens = None,
    llm_max_cost: LLMCost = None,
    llm_recognition: LLMRecognition = False,
) -> None:
    """Measure graphmem against dense and BM25 retrieval on one dataset, in one run."""
    from graphmem.bench.runner import run_bench
    from graphmem.memory import PassageSearchSettings

    ex: Any = extractor
    if extractor.strip().lower() == "llm":
        llm = _llm_options(
            llm_base_url,
            llm_model,
            llm_api_key,
            llm_concurrency,
            llm_timeout,
            llm_max_tokens,
            llm_max_cost,
        )
        ex = llm_extractor(**llm)
    run_bench(
        path,
        store=store,
        extractor=ex,
        json_path=json_path,
        limit=limit,
        strict=strict,
        per_question=per_question,
        passage_search=PassageSearchSettings(llm_recognition=llm_recognition),
    )


@app.command()
def demo(
    corpus: Annotated[Path, typer.Option(help="corpus .jsonl")] = Path(
        "examples/data/demo_corpus.jsonl"
    ),
    questions: Annotated[Path, typer.Option(help="questions .jsonl")] = Path(
        "examples/data/demo_questions.jsonl"
    ),
    store: StoreOpt = None,
    k: Annotated[int, typer.Option(min=1, max=50)] = 3,
) -> None:
    """Ingest the bundled demo corpus (offline) and answer its two-hop questions."""
    from graphmem.cli.demo import run_demo

    run_demo(corpus, questions, store, k=k)


app.command("viz")(viz_command)


def main() -> None:
    """Entry point: run the app and turn graphmem's errors (and a bad value's ``ValueError``)
    into one line, ``error: ...``, and exit code 2."""
    logging.basicConfig(
        level=os.environ.get("GRAPHMEM_LOG", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    help_width()
    try:
        app()
    except (GraphmemError, ValueError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(2)


__all__ = ["app", "main"]
