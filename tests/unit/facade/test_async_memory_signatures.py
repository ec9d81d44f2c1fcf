"""``AsyncMemory`` mirrors ``Memory``: every public method has an awaitable twin, same signature."""

from __future__ import annotations

import inspect

import pytest

from graphmem.async_memory import AsyncMemory
from graphmem.memory import Memory

PUBLIC = sorted(
    name
    for name, member in vars(Memory).items()
    if not name.startswith("_") and inspect.isfunction(member)
)


def test_memory_has_public_methods_to_mirror() -> None:
    # a guard on the guard: an empty list would make the test below pass vacuously
    assert {"add", "add_many", "search", "explain", "neighbors", "close"} <= set(PUBLIC)


@pytest.mark.parametrize("name", ["__init__", *PUBLIC])
def test_async_twin_has_the_same_signature(name: str) -> None:
    sync = inspect.signature(getattr(Memory, name))
    twin = getattr(AsyncMemory, name, None)
    assert twin is not None, f"AsyncMemory has no {name}"
    if name != "__init__":
        assert inspect.iscoroutinefunction(twin), f"AsyncMemory.{name} is not async"
    got = inspect.signature(twin)
    # names, kinds, defaults and annotations (strings under postponed evaluation), return type
    assert list(got.parameters.values()) == list(sync.parameters.values()), name
    assert got.return_annotation == sync.return_annotation, name


def test_no_method_forwards_bare_kwargs() -> None:
    for name, member in vars(AsyncMemory).items():
        if inspect.isfunction(member):
            kinds = {p.kind for p in inspect.signature(member).parameters.values()}
            assert inspect.Parameter.VAR_KEYWORD not in kinds, name


def test_async_memory_has_nothing_public_memory_lacks() -> None:
    extra = {
        n for n, m in vars(AsyncMemory).items() if not n.startswith("_") and inspect.isfunction(m)
    }
    assert extra == set(PUBLIC)
