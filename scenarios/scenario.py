"""Scenarios: named, ordered lists of edits applied to a baseline twin.

A :class:`Scenario` is a plan written as edits (:mod:`scenarios.edits`). It is
immutable: each fluent method returns a new scenario, so that variants can be
derived from a common plan::

    plan = (
        Scenario("plan A", description="rebuild the two north slabs")
        .demolish(["b3", "b4"])
        .add_building("n1", footprint=..., floors=11, use="residential")
    )
    proposed = plan.apply(baseline)  # baseline is unchanged

Planners write the same plan in TOML::

    name = "plan A"
    description = "rebuild the two north slabs"

    [[edits]]
    op = "demolish"
    ids = ["b3", "b4"]

    [[edits]]
    op = "add_building"
    id = "n1"
    footprint = "POLYGON ((440000 4428030, 440020 4428030, ...))"
    floors = 11
    attributes = { has_lift = true }

``base_hash`` pins a scenario to the baseline it was written for (the
content hash of :func:`scenarios.store.twin_hash`): applying it to another
twin raises :class:`~scenarios.errors.BaselineChangedError`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cim.errors import CIMError
from scenarios import edits as E
from scenarios._toml import dumps
from scenarios.errors import BaselineChangedError, ScenarioError

if TYPE_CHECKING:
    from cim.twin import Twin
    from scenarios.diffing import TwinDiff

__all__ = ["Scenario", "load_scenario"]

_TOP_KEYS = ("name", "description", "base_hash", "edits")


@dataclass(frozen=True)
class Scenario:
    """A plan: a named, ordered list of edits to a baseline twin.

    Parameters
    ----------
    name
        Name of the plan (unique among the plans compared).
    edits
        The edits, applied in order.
    description
        What the plan is.
    base_hash
        Content hash of the baseline twin it was written for
        (:func:`scenarios.store.twin_hash`), or None to apply it to any twin.

    Examples
    --------
    >>> from scenarios import Scenario
    >>> plan = Scenario("plan A").demolish(["b1"]).add_floors(["b2"], floors=2)
    >>> [e.op for e in plan.edits]
    ['demolish', 'add_floors']
    >>> Scenario.from_toml(plan.to_toml()) == plan
    True
    """

    name: str
    edits: tuple[E.Edit, ...] = ()
    description: str = ""
    base_hash: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            msg = f"a scenario needs a name, got {self.name!r}"
            raise ScenarioError(msg)
        edits = tuple(self.edits)
        bad = [e for e in edits if not isinstance(e, E.Edit)]
        if bad:
            msg = (
                f"scenario {self.name!r}: {bad[0]!r} is not an edit; build edits "
                "with the fluent methods or scenarios.edits"
            )
            raise ScenarioError(msg)
        object.__setattr__(self, "edits", edits)

    # -- building the plan -----------------------------------------------------------
    def then(self, *edits: E.Edit) -> Scenario:
        """A new scenario with ``edits`` appended."""
        return dataclasses.replace(self, edits=(*self.edits, *edits))

    def edit(self, op: str, **fields: Any) -> Scenario:
        """A new scenario with one edit appended, by op name (plug-in edits too).

        Parameters
        ----------
        op
            Edit op, a key of :data:`scenarios.edits.EDITS`.
        **fields
            The edit's fields.

        Returns
        -------
        Scenario
        """
        return self.then(E.edit_from_dict({"op": op, **fields}))

    def demolish(self, ids: Iterable[str] | str) -> Scenario:
        """Append :class:`~scenarios.edits.Demolish`."""
        return self.then(E.Demolish(ids=tuple(_seq(ids))))

    def add_building(self, id: str, **fields: Any) -> Scenario:
        """Append :class:`~scenarios.edits.AddBuilding` (footprint, floors ...)."""
        return self.then(E.AddBuilding(id=id, **fields))

    def replace_building(self, id: str, **fields: Any) -> Scenario:
        """Append :class:`~scenarios.edits.ReplaceBuilding`."""
        return self.then(E.ReplaceBuilding(id=id, **fields))

    def add_floors(
        self,
        ids: Iterable[str] | str,
        floors: int = 1,
        *,
        storey_height_m: float | None = None,
    ) -> Scenario:
        """Append :class:`~scenarios.edits.AddFloors`."""
        edit = E.AddFloors(
            ids=tuple(_seq(ids)), floors=floors, storey_height_m=storey_height_m
        )
        return self.then(edit)

    def change_use(
        self, ids: Iterable[str] | str, use: str, *, households: int | None = None
    ) -> Scenario:
        """Append :class:`~scenarios.edits.ChangeUse`."""
        edit = E.ChangeUse(ids=tuple(_seq(ids)), use=use, households=households)
        return self.then(edit)

    def retrofit(self, ids: Iterable[str] | str, **attributes: Any) -> Scenario:
        """Append :class:`~scenarios.edits.Retrofit` (attributes as keywords)."""
        return self.then(E.Retrofit(ids=tuple(_seq(ids)), attributes=attributes))

    def add_green(self, id: str, **fields: Any) -> Scenario:
        """Append :class:`~scenarios.edits.AddGreen`."""
        return self.then(E.AddGreen(id=id, **fields))

    def remove_greens(self, ids: Iterable[str] | str) -> Scenario:
        """Append :class:`~scenarios.edits.RemoveGreens`."""
        return self.then(E.RemoveGreens(ids=tuple(_seq(ids))))

    def add_facility(
        self,
        id: str,
        category: str,
        location: Any,
        **fields: Any,
    ) -> Scenario:
        """Append :class:`~scenarios.edits.AddFacility`."""
        edit = E.AddFacility(id=id, category=category, location=location, **fields)
        return self.then(edit)

    def remove_facilities(self, ids: Iterable[str] | str) -> Scenario:
        """Append :class:`~scenarios.edits.RemoveFacilities`."""
        return self.then(E.RemoveFacilities(ids=tuple(_seq(ids))))

    def close_gates(self, nodes: Iterable[Hashable] | Hashable) -> Scenario:
        """Append :class:`~scenarios.edits.CloseGates`."""
        return self.then(E.CloseGates(nodes=tuple(_seq(nodes))))

    def open_gates(self, nodes: Iterable[Hashable] | Hashable) -> Scenario:
        """Append :class:`~scenarios.edits.OpenGates`."""
        return self.then(E.OpenGates(nodes=tuple(_seq(nodes))))

    def set_parking(self, ids: Iterable[str] | str, **fields: Any) -> Scenario:
        """Append :class:`~scenarios.edits.SetParking` (``spaces`` or ``change``)."""
        return self.then(E.SetParking(ids=tuple(_seq(ids)), **fields))

    def pinned(self, baseline: Twin) -> Scenario:
        """The scenario pinned to ``baseline`` (its content hash as ``base_hash``)."""
        from scenarios.store import twin_hash

        return dataclasses.replace(self, base_hash=twin_hash(baseline))

    # -- using it ----------------------------------------------------------------------
    def apply(self, baseline: Twin, *, check_base: bool = True) -> Twin:
        """The twin as the plan leaves it; ``baseline`` is not changed.

        Parameters
        ----------
        baseline
            The twin the plan edits.
        check_base
            If the scenario has a ``base_hash``, refuse a baseline whose
            content differs.

        Returns
        -------
        Twin

        Raises
        ------
        ScenarioError
            Naming the scenario, the edit (its number and op) and the problem,
            if an edit does not fit the twin as the earlier edits left it.
        BaselineChangedError
            If ``check_base`` and the baseline is not the one the scenario
            was pinned to.
        """
        if check_base and self.base_hash is not None:
            from scenarios.store import twin_hash

            found = twin_hash(baseline)
            if found != self.base_hash:
                msg = (
                    f"scenario {self.name!r} was written for baseline "
                    f"{self.base_hash[:12]}, but this twin is {found[:12]}; its "
                    "content changed since. Check the edits still fit, then "
                    "re-pin it (scenario.pinned(twin)) or apply it with "
                    "check_base=False"
                )
                raise BaselineChangedError(msg)
        twin = baseline
        n = len(self.edits)
        for i, edit in enumerate(self.edits):
            try:
                twin = edit.apply(twin)
            except CIMError as exc:
                msg = f"scenario {self.name!r}, edit {i + 1} of {n} ({edit.op}): {exc}"
                raise ScenarioError(msg, op=edit.op, index=i) from exc
        return twin

    def validate(self, baseline: Twin) -> None:
        """Check that every edit fits (by applying them); ``baseline`` is unchanged.

        Parameters
        ----------
        baseline
            The twin.

        Raises
        ------
        ScenarioError
            As :meth:`apply`.
        """
        self.apply(baseline)

    def diff(self, baseline: Twin) -> TwinDiff:
        """What the plan adds, removes and changes (see :func:`scenarios.diff`)."""
        from scenarios.diffing import diff

        return diff(baseline, self.apply(baseline))

    def describe(self) -> str:
        """The edit log: one numbered line per edit."""
        head = f"{self.name}" + (f": {self.description}" if self.description else "")
        lines = [head]
        for i, e in enumerate(self.edits):
            lines.append(f"  {i + 1}. {e.describe()}")
        return "\n".join(lines)

    # -- files -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (the TOML/JSON form)."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.base_hash:
            out["base_hash"] = self.base_hash
        out["edits"] = [e.to_dict() for e in self.edits]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> Scenario:
        """A scenario from plain data (the TOML/JSON form).

        Parameters
        ----------
        data
            ``name``, optional ``description`` and ``base_hash``, and ``edits``
            (a list of tables with an ``op``).
        source
            Where the data comes from, for error messages.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            Naming the edit and field, for unknown keys, ops and fields, and
            invalid values.
        """
        where = f"{source}: " if source else ""
        unknown = [k for k in data if k not in _TOP_KEYS]
        if unknown:
            msg = (
                f"{where}unknown key {unknown[0]!r}; a scenario has "
                f"{', '.join(_TOP_KEYS)}"
            )
            raise ScenarioError(msg)
        if "name" not in data:
            msg = f'{where}the scenario has no name; add name = "..."'
            raise ScenarioError(msg)
        raw = data.get("edits", [])
        if not isinstance(raw, list):
            msg = f"{where}'edits' must be an array of tables ([[edits]])"
            raise ScenarioError(msg)
        edits = []
        for i, d in enumerate(raw):
            try:
                edits.append(E.edit_from_dict(d))
            except ScenarioError as exc:
                op = d.get("op") if isinstance(d, Mapping) else None
                label = f" ({op})" if op else ""
                msg = f"{where}edit {i + 1}{label}: {exc}"
                raise ScenarioError(msg, op=exc.op, index=i) from exc
        return cls(
            name=str(data["name"]),
            edits=tuple(edits),
            description=str(data.get("description", "")),
            base_hash=data.get("base_hash"),
        )

    def to_toml(self) -> str:
        """The scenario as a TOML document (read back by :meth:`from_toml`)."""
        return dumps(self.to_dict(), header=f"cim-twin scenario {self.name!r}")

    @classmethod
    def from_toml(cls, text: str, *, source: str = "") -> Scenario:
        """A scenario from TOML text.

        Parameters
        ----------
        text
            The document.
        source
            Where it comes from, for error messages.

        Returns
        -------
        Scenario
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            where = f"{source}: " if source else ""
            msg = f"{where}not valid TOML ({exc}); fix the syntax there"
            raise ScenarioError(msg) from exc
        return cls.from_dict(data, source=source)

    def to_json(self) -> str:
        """The scenario as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str, *, source: str = "") -> Scenario:
        """A scenario from JSON text (see :meth:`from_toml`)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"{source}: " if source else ""
            msg = f"{where}not valid JSON ({exc})"
            raise ScenarioError(msg) from exc
        return cls.from_dict(data, source=source)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the scenario to a ``.toml`` (or ``.json``) file, atomically.

        Parameters
        ----------
        path
            Target file.

        Returns
        -------
        pathlib.Path
        """
        from scenarios._files import write_text_atomic

        target = Path(path)
        text = self.to_json() if target.suffix == ".json" else self.to_toml()
        return write_text_atomic(target, text)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario from a ``.toml`` or ``.json`` file.

    Parameters
    ----------
    path
        The file; it is only read.

    Returns
    -------
    Scenario

    Raises
    ------
    InputFileError
        If the file is missing or empty.
    ScenarioError
        If it is not a valid scenario (the message names the file and edit).
    """
    from cim.io.files import check_input_file

    p = check_input_file(path, what="scenario file")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        return Scenario.from_json(text, source=str(p))
    return Scenario.from_toml(text, source=str(p))


def _seq(values: Any) -> Sequence[Any]:
    if isinstance(values, (str, int)):
        return [values]
    return list(values)
