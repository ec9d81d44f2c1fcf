"""Keep numpy's BLAS from fighting the embedding model for the CPU.

A search multiplies one question vector by a few thousand stored ones: a job for one thread. With
BLAS's own pool of threads it finishes no faster, and its threads keep spinning afterwards while
torch embeds the next question on the same cores, which made a 8 ms question embedding take 35 ms
on a 2-core machine. The vector stores run their products inside :func:`single_blas_thread`.

>>> import numpy as np
>>> with single_blas_thread():
...     float(np.ones(3) @ np.ones(3))
3.0
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_blas: list[Any] | None = None
_lock = threading.Lock()


def _blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded when first asked ([] without
    threadpoolctl), found once: finding them costs tens of milliseconds."""
    global _blas
    with _lock:
        if _blas is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:  # optional: without it, BLAS keeps its default pool
                _blas = []
            else:
                _blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        return _blas


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with BLAS limited to one thread (a no-op without threadpoolctl).

    Sets each library's count directly rather than through ``ThreadpoolController.limit``,
    which costs ~10x more per call, and a search makes several."""
    changed = [(lib, n) for lib in _blas_libraries() if (n := lib.get_num_threads()) != 1]
    for lib, _ in changed:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in changed:
            lib.set_num_threads(n)
