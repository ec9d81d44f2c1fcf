"""run_ahead: chunk i + 1 is prepared (its extraction started) before chunk i is written, and an
error anywhere finishes what came before it first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from graphmem.ingest.ahead import Submit, run_ahead, run_now


class Log:
    def __init__(self) -> None:
        self.steps: list[str] = []
        self.threads: list[str] = []

    def work(self, chunk: list[int]) -> int:
        self.threads.append(threading.current_thread().name)
        if -1 in chunk:
            raise ValueError("bad chunk")
        return sum(chunk)

    def prepare(self, chunk: list[int], submit: Submit) -> tuple[int, Future[Any]]:
        self.steps.append(f"prepare {chunk[0]}")
        if -2 in chunk:
            raise KeyError("cannot prepare")
        return chunk[0], submit(self.work, chunk)

    def finish(self, prepared: tuple[int, Future[Any]]) -> None:
        first, future = prepared
        self.steps.append(f"finish {first}={future.result()}")


CHUNKS = [[1, 2], [3, 4], [5]]


def test_the_next_chunk_is_prepared_before_one_is_finished_and_order_is_kept() -> None:
    log = Log()
    run_ahead(iter(CHUNKS), log.prepare, log.finish)
    assert log.steps == [
        "prepare 1",
        "prepare 3",
        "finish 1=3",
        "prepare 5",
        "finish 3=7",
        "finish 5=5",
    ]
    assert all(name.startswith("graphmem-extract") for name in log.threads)


def test_without_ahead_each_chunk_is_finished_before_the_next_is_read() -> None:
    log = Log()
    run_ahead(iter(CHUNKS), log.prepare, log.finish, ahead=False)
    assert log.steps == [
        "prepare 1",
        "finish 1=3",
        "prepare 3",
        "finish 3=7",
        "prepare 5",
        "finish 5=5",
    ]
    assert log.threads == [threading.current_thread().name] * 3


@pytest.mark.parametrize("ahead", [True, False])
def test_a_failed_extraction_raises_at_its_turn_after_the_chunks_before_it(ahead: bool) -> None:
    log = Log()
    with pytest.raises(ValueError, match="bad chunk"):
        run_ahead(iter([[1], [2], [-1], [4]]), log.prepare, log.finish, ahead=ahead)
    assert [s for s in log.steps if s.startswith("finish")] == ["finish 1=1", "finish 2=2"]


@pytest.mark.parametrize("ahead", [True, False])
def test_an_input_error_finishes_the_prepared_chunk_first(ahead: bool) -> None:
    def chunks() -> Iterator[list[int]]:
        yield [1]
        yield [2]
        raise OSError("input broke")

    log = Log()
    with pytest.raises(OSError, match="input broke"):
        run_ahead(chunks(), log.prepare, log.finish, ahead=ahead)
    assert [s for s in log.steps if s.startswith("finish")] == ["finish 1=1", "finish 2=2"]
    assert log.steps[-1] == "finish 2=2"


def test_a_prepare_error_finishes_the_chunk_before_it_first() -> None:
    log = Log()
    with pytest.raises(KeyError):
        run_ahead(iter([[1], [-2, 0], [3]]), log.prepare, log.finish)
    assert log.steps == ["prepare 1", "prepare -2", "finish 1=1"]


def test_run_now_keeps_an_error_for_result() -> None:
    future = run_now(lambda x: 1 // x, 0)
    assert future.done()
    with pytest.raises(ZeroDivisionError):
        future.result()
    assert run_now(lambda x: x + 1, 1).result() == 2
