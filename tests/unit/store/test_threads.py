"""single_blas_thread: BLAS runs one thread inside the block and gets its own count back after."""

from __future__ import annotations

import numpy as np
import pytest

import graphmem.store.threads as threads_mod
from graphmem.store.threads import single_blas_thread

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_one_thread_inside_and_the_count_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    np.ones(2) @ np.ones(2)  # numpy's BLAS is loaded
    # found again here: libraries loaded after the first search (by other tests) are not known
    monkeypatch.setattr(threads_mod, "_blas", None)
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can control")
    with threadpoolctl.threadpool_limits(limits=3, user_api="blas"):
        assert set(_blas_threads()) == {3}
        with single_blas_thread():
            assert set(_blas_threads()) == {1}
            with single_blas_thread():  # nested: the inner block leaves the outer one's count
                pass
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {3}
