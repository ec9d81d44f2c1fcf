"""Resolution precision on the labelled notes pairs, computed by benchmarks/resolution_eval.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("spacy")

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "resolution_eval.py"


def test_resolution_precision_on_the_notes_pairs() -> None:
    spec = importlib.util.spec_from_file_location("resolution_eval", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    scores = module.evaluate()
    assert scores.pairs == 79 and scores.positives == 48
    assert scores.merged >= 20  # it does resolve, not just abstain
    assert scores.precision >= 0.9, [r for r in scores.rows if r[1] != r[0]["same"]]
    assert scores.link_recall >= 0.8
