"""Gates a plan closes or opens (``gate_closed``) in the scenario indicators.

The mode graphs of :mod:`cim.network.modes` apply ``gate_closed`` themselves;
the ``circles`` indicator passes the twin on and adds nothing of its own.
"""

from __future__ import annotations

import pytest

import cim
import scenarios.indicators as ind
from scenarios import Scenario

pytest.importorskip("cim.network.circles")


def test_circles_indicator_sees_the_plan_close_a_gate(twin: cim.Twin) -> None:
    # Node 1 is the south-west corner of the streets.
    closed = Scenario("c").close_gates([1]).apply(twin)
    base = ind.circles_indicator(twin)
    shut = ind.circles_indicator(closed)
    assert shut["kindergarten_share_5min"] < base["kindergarten_share_5min"]
    # As the gates= override the indicator used to derive from gate_closed.
    assert shut == pytest.approx(
        ind.circles_indicator(twin, gates={1: False}), nan_ok=True
    )
    # A gates= option still wins over the plan; opening it again undoes it.
    assert ind.circles_indicator(closed, gates={1: True}) == pytest.approx(
        base, nan_ok=True
    )
    reopened = Scenario("o").open_gates([1]).apply(closed)
    assert ind.circles_indicator(reopened) == pytest.approx(base, nan_ok=True)


def test_closed_gates_lists_the_plan(twin: cim.Twin) -> None:
    closed = Scenario("c").close_gates([1]).apply(twin)
    assert ind.closed_gates(twin) == {}
    assert ind.closed_gates(closed) == cim.network.gate_overrides(closed.network)
    assert ind.closed_gates(closed) == {1: False}
