"""The memory operations are listed once (:mod:`graphmem.operations`), and ``Memory``,
``AsyncMemory``, ``Client`` and ``AsyncClient`` each match the list: the same names, and for each
the same parameter names, kinds and defaults. The local classes also keep the annotations; a
client may leave out only what ``REMOTE_OMISSIONS`` declares, with a reason, and add only the
keyword parameters ``REMOTE_EXTRAS`` declares. (Replaces the AsyncMemory-only signature test.)"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from graphmem.async_memory import AsyncMemory
from graphmem.client import AsyncClient, Client
from graphmem.memory import Memory
from graphmem.operations import (
    OPERATIONS,
    REMOTE_EXTRAS,
    REMOTE_OMISSIONS,
    AsyncMemoryOperations,
    MemoryOperations,
)

LOCAL = [Memory, AsyncMemory]
REMOTE = [Client, AsyncClient]
ASYNC = {AsyncMemory, AsyncClient}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        if klass is not object
        for name, member in vars(klass).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def params(fn: Any) -> list[inspect.Parameter]:
    return list(inspect.signature(fn).parameters.values())


def test_the_list_is_not_empty() -> None:
    # a guard on the guards below: an empty list would let them pass vacuously
    assert {"add", "add_many", "add_note", "search", "explain", "delete_prefix", "close"} <= set(
        OPERATIONS
    )
    assert set(OPERATIONS) == public_methods(AsyncMemoryOperations)


def test_memory_offers_exactly_the_operations() -> None:
    assert public_methods(Memory) == set(OPERATIONS)


def test_async_memory_offers_exactly_the_operations() -> None:
    assert public_methods(AsyncMemory) == set(OPERATIONS)


@pytest.mark.parametrize("name", OPERATIONS)
@pytest.mark.parametrize("cls", LOCAL, ids=lambda c: c.__name__)
def test_local_classes_match_the_list_with_annotations(cls: type, name: str) -> None:
    want = inspect.signature(getattr(MemoryOperations, name))
    got = getattr(cls, name)
    assert inspect.iscoroutinefunction(got) == (cls in ASYNC), f"{cls.__name__}.{name}"
    sig = inspect.signature(got)
    # names, kinds, defaults and annotations (strings under postponed evaluation), return type
    assert params(got) == list(want.parameters.values()), f"{cls.__name__}.{name}"
    assert sig.return_annotation == want.return_annotation, f"{cls.__name__}.{name}"


@pytest.mark.parametrize("name", OPERATIONS)
def test_async_list_has_the_same_parameters(name: str) -> None:
    sync, twin = getattr(MemoryOperations, name), getattr(AsyncMemoryOperations, name)
    assert inspect.iscoroutinefunction(twin)
    assert params(twin) == params(sync)
    assert inspect.signature(twin).return_annotation == inspect.signature(sync).return_annotation


def test_async_memory_init_mirrors_memory() -> None:
    assert params(AsyncMemory.__init__) == params(Memory.__init__)


@pytest.mark.parametrize("name", [n for n in OPERATIONS if n not in REMOTE_OMISSIONS])
@pytest.mark.parametrize("cls", REMOTE, ids=lambda c: c.__name__)
def test_clients_match_the_list(cls: type, name: str) -> None:
    got = getattr(cls, name, None)
    assert got is not None, f"{cls.__name__} lacks {name} and REMOTE_OMISSIONS gives no reason"
    assert inspect.iscoroutinefunction(got) == (cls in ASYNC), f"{cls.__name__}.{name}"
    want = params(getattr(MemoryOperations, name))
    have = params(got)
    extra = REMOTE_EXTRAS.get(name, ())
    # names, kinds and defaults (a client's annotations may name its own types)
    shape = [(p.name, p.kind, p.default) for p in have[: len(want)]]
    assert shape == [(p.name, p.kind, p.default) for p in want], f"{cls.__name__}.{name}"
    added = have[len(want) :]
    assert [p.name for p in added] == list(extra), f"{cls.__name__}.{name}"
    for p in added:
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty


@pytest.mark.parametrize("name", sorted(REMOTE_OMISSIONS))
def test_declared_omissions_are_real_and_have_reasons(name: str) -> None:
    assert name in OPERATIONS
    assert len(REMOTE_OMISSIONS[name].split()) >= 8  # a reason, not a placeholder
    for cls in REMOTE:
        assert not hasattr(cls, name), f"{cls.__name__} has {name}: drop it from the omissions"


def test_extras_are_for_operations_the_clients_have() -> None:
    assert set(REMOTE_EXTRAS) <= set(OPERATIONS) - set(REMOTE_OMISSIONS)


@pytest.mark.parametrize("cls", [*LOCAL, *REMOTE], ids=lambda c: c.__name__)
def test_no_method_forwards_bare_kwargs(cls: type) -> None:
    for name in public_methods(cls):
        kinds = {p.kind for p in params(getattr(cls, name))}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{cls.__name__}.{name}"
