"""The benchmark modules import each other without a cycle (counting imports inside functions and
under TYPE_CHECKING too): the shared pieces live in graphmem.bench.common."""

from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "graphmem" / "bench"


def bench_imports() -> dict[str, set[str]]:
    """Module name -> the graphmem.bench modules it imports anywhere in its source."""
    modules = {p.stem for p in BENCH.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse((BENCH / f"{name}.py").read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                target = node.module
                if target == "graphmem.bench":
                    found |= {a.name for a in node.names if a.name in modules}
                elif target.startswith("graphmem.bench."):
                    found.add(target.split(".")[2])
            elif isinstance(node, ast.Import):
                found |= {
                    a.name.split(".")[2] for a in node.names if a.name.startswith("graphmem.bench.")
                }
        graph[name] = found - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_bench_modules_have_no_import_cycle() -> None:
    graph = bench_imports()
    assert {"runner", "report", "conversation_runner", "common"} <= set(graph)
    # the runner uses the table and the conversation runner; neither uses the runner
    assert {"report", "conversation_runner", "common"} <= graph["runner"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])
