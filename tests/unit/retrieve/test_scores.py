"""The one min-max scaler of retrieval (graphmem.retrieve.scores.minmax) and its constant rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphmem.retrieve.hyperedges import minmax_fuse
from graphmem.retrieve.scores import MIN_SPREAD, minmax


def test_scales_to_the_unit_interval() -> None:
    assert minmax(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert minmax([-1.0, 1.0]).tolist() == [0.0, 1.0]
    assert minmax([]).size == 0 and minmax([]).dtype == np.float64


@pytest.mark.parametrize(
    ("values", "positive", "one"),
    [
        ([0.4, 0.4, 0.4], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]),
        ([0.0, 0.0], [0.0, 0.0], [1.0, 1.0]),
        ([-0.2], [0.0], [1.0]),
        ([0.7], [1.0], [1.0]),
    ],
)
def test_constant_input_rule(values: list[float], positive: list[float], one: list[float]) -> None:
    assert minmax(values).tolist() == positive
    assert minmax(values, constant="positive").tolist() == positive
    assert minmax(values, constant="one").tolist() == one


def test_a_spread_below_the_threshold_counts_as_constant() -> None:
    tiny = [0.5, 0.5 + MIN_SPREAD / 2]
    assert minmax(tiny).tolist() == [1.0, 1.0]
    assert minmax([0.5, 0.5 + 10 * MIN_SPREAD]).tolist() == pytest.approx([0.0, 1.0])


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=30))
def test_spread_input_is_monotone_and_hits_both_ends(values: list[float]) -> None:
    x = np.array(values)
    if float(x.max() - x.min()) < MIN_SPREAD:
        return
    y = minmax(x)
    assert y.min() == 0.0 and y.max() == pytest.approx(1.0)
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(y[order]) >= 0)  # monotone (rounding may merge near-equal values)


def test_unit_fusion_uses_the_same_rule() -> None:
    # dense constant and positive: every unit gets 1 from it, the walk decides the order
    assert minmax_fuse({"h:a": 0.5, "h:b": 0.5}, {"h:b": 0.3}) == [("h:b", 2.0), ("h:a", 1.0)]
    # no walk at all: the dense part alone, constant input scaled to ones
    assert minmax_fuse({"h:a": 0.5}, {}) == [("h:a", 1.0)]
    assert minmax_fuse({}, {}) == []
