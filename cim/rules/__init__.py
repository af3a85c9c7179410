"""Planning rules as data: rulebooks in TOML, read into frozen dataclasses.

Rulebooks are kept in ``assets/rules/`` (national standards, jurisdictions'
overlays) or written by users; :func:`load_rulebook` reads one and resolves
its ``extends`` chain, :func:`override` changes one value. The format is
documented in :mod:`cim.rules.rulebook`. Area-counting rules are evaluated by
:func:`cim.takeoff.takeoff`.
"""

from __future__ import annotations

from cim.rules.rulebook import (
    AREA_BASES,
    CONDITION_OPS,
    OPS,
    SCOPES,
    AreaRule,
    Condition,
    Rule,
    Rulebook,
    RulebookError,
    ThresholdTable,
    available_rulebooks,
    compare,
    load_rulebook,
    override,
)

__all__ = [
    "AREA_BASES",
    "CONDITION_OPS",
    "OPS",
    "SCOPES",
    "AreaRule",
    "Condition",
    "Rule",
    "Rulebook",
    "RulebookError",
    "ThresholdTable",
    "available_rulebooks",
    "compare",
    "load_rulebook",
    "override",
]
