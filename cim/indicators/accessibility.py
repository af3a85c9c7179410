"""Accessibility indicators of the compliance check, from the street network.

Importing this module registers ``life_circle_walk_m``: for every dwelling
(housing building), the walking distance along the twin's street network to
the farthest of the facility categories its life circle requires (GB
50180-2018 Table 3.0.4 bounds it by 300, 500 and 1,000 m for the 5-, 10- and
15-minute circles). The life circle comes from the planning parameter
``life_circle`` (``"5"``, ``"10"`` or ``"15"``); without it the rule is not
evaluated. The computation is :func:`cim.network.circles.life_circle_walk_m`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cim.indicators.registry import Evaluation, register_indicator

if TYPE_CHECKING:
    from cim.indicators.context import Context
    from cim.rules.rulebook import Rule

__all__: list[str] = []


@register_indicator(
    "life_circle_walk_m",
    unit="m",
    scopes=("dwelling",),
    params=(),
    description="walking distance along the street network from a dwelling to "
    "the farthest facility category its life circle requires (cim.network)",
)
def _life_circle_walk_m(ctx: Context, rule: Rule) -> Evaluation:
    from cim.network.circles import life_circle_walk_m

    ids = ctx.ids(rule.scope)
    level = ctx.planning.get("life_circle")
    if level is None:
        reason = "planning parameter life_circle (5, 10 or 15) not given"
        values = pd.Series(np.nan, index=ids, name=rule.indicator)
        return Evaluation(values, reason=pd.Series(reason, index=ids))
    if ctx.twin.network.number_of_nodes() == 0:
        values = pd.Series(np.nan, index=ids, name=rule.indicator)
        return Evaluation(
            values, reason=pd.Series("the twin has no street network", index=ids)
        )
    walk = ctx.cached(
        ("life_circle_walk_m", str(level)),
        lambda: life_circle_walk_m(ctx.twin, int(level)),
    )
    # inf (a required category unreachable on foot) is a value that fails
    # the rule, not a missing one.
    values = walk.reindex(ids).astype("float64").rename(rule.indicator)
    return Evaluation(values)
