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

_controller: Any = None
_lock = threading.Lock()


def _get_controller() -> Any:
    global _controller
    with _lock:
        if _controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:  # optional: without it, BLAS keeps its default pool
                _controller = False
            else:
                _controller = ThreadpoolController()
        return _controller


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with BLAS limited to one thread (a no-op without threadpoolctl)."""
    controller = _get_controller()
    if not controller:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
