"""The package's shape: no import circles, no import up the layers, no module over 500 lines, at
most 10 modules at the top of ``graphmem/``; the GraphQL server (``api/graphmem_api``, its own
distribution) imports only graphmem's public surface (:data:`PUBLIC`), and so do the surfaces
inside the package (:data:`SURFACES`: only :data:`OVER_THE_FACADE`, their own room, the links
between surfaces of :data:`SURFACE_LINKS` and, for the bench harness, :data:`BENCH_INTERNALS`).

The import graph is read from the source (``ast``), so it sees imports inside functions too (a
lazy import hides a circle from Python, not from the design); imports under
``if TYPE_CHECKING:`` are left out, as they never run. ``from pkg import name`` is an edge to the
submodule ``pkg.name`` when there is one, else to ``pkg``. Check by hand with
``python tests/unit/test_layout.py`` (prints every circle and every import up the layers).

:data:`LAYERS` is the table docs/ARCHITECTURE.md shows: each room imports only from its own layer
and the layers below it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "graphmem"
API = PACKAGE.parent / "api" / "graphmem_api"
MAX_LINES = 500
MAX_TOP_MODULES = 10

#: layer -> its rooms, lowest layer first (a room is a module or a subpackage of graphmem)
LAYERS: dict[str, tuple[str, ...]] = {
    "ground": ("errors", "models", "ids", "validity", "names", "timeparse", "endpoint"),
    "parts": ("store", "extract", "embed"),
    "core": ("ingest", "retrieve", "viz", "lifecycle"),
    "facade": ("memory", "async_memory", "operations"),
    "surfaces": ("cli", "keys", "mcp", "client", "integrations", "bench", ""),
}
# "" is graphmem/__init__.py: the public entry re-exports the facade and the client.

#: what graphmem-api may import of graphmem: the facade, the data it takes and returns, its
#: errors, the id scheme and the key files it shares with MCP. Nothing below the facade.
PUBLIC = (
    "graphmem",
    "graphmem.memory",
    "graphmem.async_memory",
    "graphmem.models",
    "graphmem.errors",
    "graphmem.ids",
    "graphmem.timeparse",
    "graphmem.keys",
)

#: the surfaces inside the package ("" is graphmem/__init__.py)
SURFACES = ("cli", "keys", "mcp", "client", "integrations", "bench", "")
#: what a surface may import of graphmem besides its own room: the facade (the package's entry,
#: Memory, AsyncMemory, the operations) and the ground data modules: the models it passes and
#: reads (with their reading helpers: fact_wording, is_current, mixed, top_facts), the errors,
#: the id scheme, the one ISO 8601 reader (timeparse.parse_iso) and the key files. Never store/,
#: ingest/, retrieve/, extract/, embed/, viz/, validity, names or endpoint: what a surface needs
#: of those is a Memory method or a name graphmem.memory re-exports.
OVER_THE_FACADE = (
    "graphmem",
    "graphmem.memory",
    "graphmem.async_memory",
    "graphmem.operations",
    "graphmem.errors",
    "graphmem.models",
    "graphmem.ids",
    "graphmem.timeparse",
    "graphmem.keys",
)
#: a surface's imports of another surface's room, each with its reason
SURFACE_LINKS: dict[tuple[str, str], str] = {
    ("cli", "mcp"): "`graphmem mcp` starts the MCP server",
    (
        "cli",
        "bench",
    ): "`graphmem bench` runs the harness; `graphmem demo` prints its dense baseline",
    ("", "client"): "`graphmem.Client` and `AsyncClient` are the package's entry to the client",
}
#: what the bench harness imports below the facade, and why: a benchmark measures graphmem against
#: baselines over the very same store, embedder and chunks, which the facade does not hand out
BENCH_INTERNALS: dict[str, str] = {
    "graphmem.store.base": "the dense and BM25 baselines read the store Memory wrote (its vectors "
    "and texts), so every method is measured on one ingest",
    "graphmem.embed.base": "the baselines embed the questions with Memory's own embedder",
    "graphmem.extract.base": "a run takes and reports an Extractor instance (its name)",
    "graphmem.ingest.episodes": "conversation runs map each turn to the id it is stored under "
    "(make_episode) and read dataset times as the ingest reads them (parse_time), to score turns",
    "graphmem.ingest.passages": "the runs refuse passages over MAX_PASSAGE_CHARS before writing, "
    "and the documents bench maps gold quotes to the chunk ids the ingest makes (to_passages)",
}


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join(pkg + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in mods else base)
            for target in targets:
                if target in mods and target != mod:
                    edges[mod].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def layer_of(module: str) -> int:
    """The rank of ``module``'s layer in :data:`LAYERS` (0: ground); KeyError when it has none."""
    parts = module.split(".")
    room = parts[1] if len(parts) > 1 else ""
    for rank, rooms in enumerate(LAYERS.values()):
        if room in rooms:
            return rank
    raise KeyError(f"{module} is in no layer: add its room to LAYERS (and to ARCHITECTURE.md)")


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every import from a lower layer into a higher one."""
    return sorted(
        (src, dst) for src, dsts in edges.items() for dst in dsts if layer_of(dst) > layer_of(src)
    )


def top_modules(root: Path = PACKAGE) -> list[str]:
    return sorted(p.stem for p in root.glob("*.py") if p.name != "__init__.py")


def test_the_checker_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    found = circles(import_graph(modules()))
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_checker_finds_an_import_up_the_layers() -> None:
    edges = {
        "graphmem.store.base": {"graphmem.memory", "graphmem.ids"},
        "graphmem.cli.app": {"graphmem.memory"},
    }
    assert upward(edges) == [("graphmem.store.base", "graphmem.memory")]


def test_every_module_has_a_layer() -> None:
    for module in modules():
        layer_of(module)


def test_no_import_up_the_layers() -> None:
    found = upward(import_graph(modules()))
    assert found == [], "imports up the layers: " + "; ".join(f"{a} -> {b}" for a, b in found)


def test_architecture_shows_the_same_layers() -> None:
    doc = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    shown: dict[str, tuple[str, ...]] = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in LAYERS:
            rooms = re.findall(r"`([^`]+)`", cells[1])
            shown[cells[0]] = tuple(
                "" if r == "graphmem/__init__.py" else r.removesuffix("/").removesuffix(".py")
                for r in rooms
            )
    assert shown == {layer: LAYERS[layer] for layer in reversed(LAYERS)}


def graphmem_imports(root: Path = API) -> dict[str, set[str]]:
    """The graphmem modules each file under ``root`` imports, ``if TYPE_CHECKING:`` included (a
    type-only import still ties the server to that module)."""
    known = modules()
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in known else node.module)
        found[path.relative_to(root.parent).as_posix()] = {
            t for t in targets if t == "graphmem" or t.startswith("graphmem.")
        }
    return found


def test_the_api_checker_sees_internal_imports(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "from graphmem import models\nfrom graphmem.store.base import Store\nimport graphmem.keys\n"
    )
    assert graphmem_imports(tmp_path) == {
        f"{tmp_path.name}/m.py": {"graphmem.models", "graphmem.store.base", "graphmem.keys"}
    }


def test_the_api_imports_only_the_public_surface() -> None:
    found = graphmem_imports()
    assert found, "no graphmem_api modules found"
    outside = {f: sorted(t - set(PUBLIC)) for f, t in found.items() if t - set(PUBLIC)}
    assert outside == {}, f"graphmem_api imports graphmem below its public surface: {outside}"


def surface_imports(root: Path = PACKAGE) -> dict[str, list[str]]:
    """Each surface file's imports of graphmem that :data:`OVER_THE_FACADE`, its own room,
    :data:`SURFACE_LINKS` and (for bench) :data:`BENCH_INTERNALS` do not allow."""
    out: dict[str, list[str]] = {}
    for room in SURFACES:
        files = {"__init__.py": root / "__init__.py"} if room == "" else None
        found = graphmem_imports(root / room) if files is None else _file_imports(root)
        for file, targets in found.items():
            bad = []
            for target in sorted(targets):
                parts = target.split(".")
                other = parts[1] if len(parts) > 1 else ""
                if target in OVER_THE_FACADE or (room and other == room):
                    continue
                if (room, other) in SURFACE_LINKS:
                    continue
                if room == "bench" and target in BENCH_INTERNALS:
                    continue
                bad.append(target)
            if bad:
                out[file] = bad
    return out


def _file_imports(root: Path) -> dict[str, set[str]]:
    """graphmem/__init__.py's imports (``graphmem_imports`` of the package would read every room)."""
    entry = {k: v for k, v in graphmem_imports(root).items() if k == f"{root.name}/__init__.py"}
    assert entry, "graphmem/__init__.py not found"
    return entry


def test_the_surface_checker_sees_internal_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "graphmem"
    (pkg / "mcp").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from graphmem.client import Client\n")
    (pkg / "mcp" / "tools.py").write_text(
        "from graphmem.memory import MAX_K\nfrom graphmem.validity import valid_at\n"
        "from graphmem.mcp.render import x\nfrom graphmem.cli.app import app\n"
    )
    for room in SURFACES:
        (pkg / room).mkdir(exist_ok=True)
    assert surface_imports(pkg) == {"mcp/tools.py": ["graphmem.cli.app", "graphmem.validity"]}


def test_surfaces_import_only_over_the_facade() -> None:
    found = surface_imports()
    assert found == {}, f"surfaces import graphmem below the facade: {found}"


def test_bench_internals_are_still_needed() -> None:
    # a declared exception that nothing uses any more would hide the next one
    used = set().union(*graphmem_imports(PACKAGE / "bench").values())
    assert set(BENCH_INTERNALS) <= used, set(BENCH_INTERNALS) - used


def test_few_modules_at_the_top() -> None:
    top = top_modules()
    assert len(top) <= MAX_TOP_MODULES, f"{len(top)} top-level modules: {top}"


def test_no_module_over_the_limit() -> None:
    found = {**modules(), **modules(API)}  # graphmem-api's modules too
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in found.items()}
    too_long = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert too_long == {}, f"modules over {MAX_LINES} lines: {too_long}"


if __name__ == "__main__":
    graph = import_graph(modules())
    for circle in circles(graph):
        print(" <-> ".join(circle))
    for src, dst in upward(graph):
        print(f"up the layers: {src} -> {dst}")
    for file, targets in graphmem_imports().items():
        for target in sorted(set(targets) - set(PUBLIC)):
            print(f"graphmem_api below the public surface: {file} -> {target}")
    for file, bad in surface_imports().items():
        print(f"surface below the facade: {file} -> {', '.join(bad)}")
    sys.exit(0)
