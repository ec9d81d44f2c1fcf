"""Deprecated: renamed :mod:`graphmem.retrieve.passages` (this name stays for one release)."""

from __future__ import annotations

import warnings
from typing import Any

_RENAMED = {"HippoSettings": "PassageSearchSettings"}


def __getattr__(name: str) -> Any:
    from graphmem.retrieve import passages as new

    target = _RENAMED.get(name, name)
    if name.startswith("__") or not hasattr(new, target):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"{__name__}.{name} is deprecated; use graphmem.retrieve.passages.{target}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(new, target)
