"""``graphmem show``, ``forget``, ``restore`` and ``consolidate``: a node's lifecycle,
archiving, restoring, merging duplicates.

    graphmem show f:2c0d…                     # state, strength, the node and its history
    graphmem forget --policy quota:5000       # keep the 5000 strongest facts and episodes
    graphmem forget --policy strength:0.05 --dry-run
    graphmem restore ep:1f3a… | --all-archived
    graphmem consolidate [--dry-run]          # merge duplicate entities, fold repeated facts

Thin layers over ``Memory.lifecycle``, ``Memory.forget`` and ``Memory.restore``
(:mod:`graphmem.lifecycle`); registered in :mod:`graphmem.cli.app`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from graphmem.cli.options import NamespaceOpt, StoreOpt
from graphmem.cli.terminal import console, err, open_existing
from graphmem.errors import InputError
from graphmem.models import Episode, Fact, Lifecycle


def _label(node: object) -> str:
    if isinstance(node, Episode):
        who = f"{node.speaker}: " if node.speaker else ""
        return f"{node.time:%Y-%m-%d %H:%M} {who}{node.text}"
    if isinstance(node, Fact):
        return node.text
    for attr in ("text", "name", "description"):
        value = getattr(node, attr, None)
        if isinstance(value, str):
            return value
    return ""


def _strength(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value >= 1e-3 else f"{value:.2e}"


def print_lifecycle(life: Lifecycle, label: str) -> None:
    """The lifecycle as lines: the node, its state and strength, then one line per step."""
    console.print(f"{life.kind} {life.id}", markup=False)
    if label:
        console.print(f"  {label}", markup=False)
    console.print(f"  state: {life.state}   strength: {_strength(life.strength)}", markup=False)
    console.print("  history:", markup=False)
    for e in life.events:
        by = f" by {e.actor}" if e.actor else ""
        why = f": {e.reason}" if e.reason else ""
        line = f"    {e.at:%Y-%m-%d %H:%M:%S}  {e.event:<10} -> {e.state}{by}{why}"
        console.print(line, markup=False)


def show_command(
    node_id: Annotated[str, typer.Argument(help="a node id (f:…, ep:…, h:…, p:…, e:…)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the lifecycle as JSON")] = False,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """A node's lifecycle: its state (active, superseded, merged, archived), its strength and
    the history of what happened to it, when, why and by which policy."""
    with open_existing(store, namespace) as mem:
        life = mem.lifecycle(node_id)
        node = mem.get_nodes([node_id]).get(node_id)
    if life is None:
        err.print(f"no node {escape(node_id)!r} in namespace {escape(mem.namespace)!r}")
        raise typer.Exit(1)
    if as_json:
        console.print_json(life.model_dump_json())
        return
    print_lifecycle(life, _label(node) if node is not None else "(deleted)")


def forget_command(
    policy: Annotated[
        str,
        typer.Option(
            help="strength:<x>: archive facts and episodes weaker than x (0 < x <= 1); "
            "quota:<n>: keep the n strongest of each kind, archive the rest"
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="report what would be archived; change nothing")
    ] = False,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Archive weak facts and episodes: out of default search, kept for export, as-of
    searches, restore and the history (nothing is deleted)."""
    with open_existing(store, namespace) as mem:
        report = mem.forget(policy=policy, dry_run=dry_run)
    console.print_json(report.model_dump_json(exclude={"ids"}))
    verb = "would archive" if dry_run else "archived"
    err.print(f"{verb} {len(report.ids)} of {report.considered} facts and episodes")


def restore_command(
    node_ids: Annotated[
        list[str] | None, typer.Argument(help="archived or merged node ids")
    ] = None,
    all_archived: Annotated[
        bool, typer.Option("--all-archived", help="restore every archived node")
    ] = False,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Bring archived nodes back into default search, or undo merges (ids)."""
    if bool(node_ids) == all_archived:
        raise InputError("give node ids or --all-archived (one of them)")
    with open_existing(store, namespace) as mem:
        report = mem.restore(None if all_archived else node_ids, all_archived=all_archived)
    console.print_json(report.model_dump_json(exclude={"ids"}))


def consolidate_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="report what would merge; change nothing")
    ] = False,
    summaries: Annotated[
        bool, typer.Option("--summaries", help="also a summary unit per session of episodes")
    ] = False,
    store: StoreOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Merge duplicate entities on alias evidence and fold repeated facts; every merge is
    recorded (graphmem show) and undone by graphmem restore <id>."""
    with open_existing(store, namespace) as mem:
        report = mem.consolidate(dry_run=dry_run, summaries=summaries)
        ids = [i for m in report.merges for i in (m["id"], m["into"])]
        nodes = mem.get_nodes(ids)
    for m in report.merges:
        a, b = (_label(nodes[i]) if i in nodes else i for i in (m["id"], m["into"]))
        why = ", ".join(m["evidence"])
        console.print(f"{m['kind']} {m['id']} {a!r} -> {m['into']} {b!r} ({why})", markup=False)
    verb = "would merge" if dry_run else "merged"
    err.print(
        f"{verb} {report.merged_entities} entities, folded {report.folded_facts} facts, "
        f"{report.session_units} session summaries"
    )
