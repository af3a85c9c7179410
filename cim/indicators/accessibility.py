"""Accessibility indicators of the compliance check, from the street network.

Importing this module registers ``life_circle_walk_m``: for every dwelling
(housing building), the walking distance along the twin's street network to
the farthest of the facility categories its life circle requires (GB
50180-2018 Table 3.0.4 bounds it by 300, 500 and 1,000 m for the 5-, 10- and
15-minute circles). The life circle comes from the planning parameter
``life_circle`` (``"5"``, ``"10"`` or ``"15"``); without it the rule is not
evaluated. The computation is :func:`cim.network.circles.life_circle_walk`.

Every value rests on the list of categories the life circle requires, which
is recalled from GB 50180-2018 Appendix B, not confirmed from its text
(:func:`cim.network.circles.required_categories`; the per-category coverage
rows of :func:`~cim.network.circles.life_circle_coverage` say
``verified = False`` for the same reason). So a row never claims more than
that list: its ``unverified_inputs`` name the list, and its ``basis`` says
which category (and nearest facility) sets the value, or, where the value is
infinite, which required categories have no facility in the twin or none
reachable on foot.
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


def _walk_provenance(walk: pd.DataFrame, level: int) -> pd.DataFrame:
    """What each life-circle walk rests on: a compliance row's basis and inputs.

    Parameters
    ----------
    walk
        Output of :func:`cim.network.circles.life_circle_walk`.
    level
        The life circle [min]: 5, 10 or 15.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``walk``:

        - ``basis``: ``"set by <category> (nearest facility <id>)"``, or for
          an infinite walk ``"inf: no facility of <categories> in the twin,
          none of <categories> reachable on foot"``;
        - ``unverified``: the required categories, recalled and unverified.
    """
    from cim.network.circles import required_categories

    listed = (
        f"required categories of the {level}-min life circle recalled from "
        f"GB 50180-2018 Appendix B, not verified: "
        f"{', '.join(required_categories(level))}"
    )
    absent = walk["absent"].astype("str").str.replace("; ", ", ")
    unreachable = walk["unreachable"].astype("str").str.replace("; ", ", ")
    why = (
        ("no facility of " + absent + " in the twin").where(absent != "", "")
        + np.where((absent != "") & (unreachable != ""), ", ", "")
        + ("none of " + unreachable + " reachable on foot").where(unreachable != "", "")
    )
    finite = np.isfinite(walk["life_circle_walk_m"].to_numpy(dtype="float64"))
    setter = (
        "set by "
        + walk["category"].astype("str")
        + " (nearest facility "
        + walk["facility_id"].astype("str")
        + ")"
    )
    return pd.DataFrame(
        {"basis": setter.where(finite, "inf: " + why), "unverified": listed},
        index=walk.index,
    ).astype("str")


@register_indicator(
    "life_circle_walk_m",
    unit="m",
    scopes=("dwelling",),
    params=(),
    description="walking distance along the street network from a dwelling to "
    "the farthest facility category its life circle requires (cim.network)",
)
def _life_circle_walk_m(ctx: Context, rule: Rule) -> Evaluation:
    from cim.network.circles import life_circle_walk

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
    lv = int(level)
    walk = ctx.cached(
        ("life_circle_walk", str(level)), lambda: life_circle_walk(ctx.twin, lv)
    ).reindex(ids)
    # inf (a required category unreachable on foot) is a value that fails
    # the rule, not a missing one.
    values = walk["life_circle_walk_m"].astype("float64").rename(rule.indicator)
    made = _walk_provenance(walk, lv)
    return Evaluation(values, unverified=made["unverified"], basis=made["basis"])
