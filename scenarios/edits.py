"""Edits: the steps a plan makes to a twin, as frozen dataclasses.

An edit is one change to a twin (demolish these buildings, add that one,
close this gate ...). It checks itself against the twin it is applied to
(:meth:`Edit.validate`) and returns a new twin (:meth:`Edit.apply`): the input
twin is never changed, because every edit goes through
:meth:`cim.Twin.with_layer`, which is copy-on-write. A
:class:`~scenarios.Scenario` is a named, ordered list of edits.

Each edit type has an ``op`` name, which is how scenario files (TOML) name it;
:data:`EDITS` maps names to types. A module that needs a new kind of edit (a
traffic module's lane closure, say) subclasses :class:`Edit` with a new
``op``: it is registered on definition and scenario files can use it at once.

Built-in edits (``op``: what it does):

- ``demolish``: remove buildings, with their surfaces, area elements and the
  greens on them (greens whose ``building_id`` names them).
- ``add_building``: a new building from a footprint, storeys, use, optional
  height, households, attributes and area elements (storeys with balconies
  ...); missing height and households are estimated as the twin estimates
  them, and flagged in the ``*_source`` columns.
- ``replace_building``: demolish a building and put up a new one in its place
  (same id unless ``new_id``; same footprint, storeys, use and name unless
  given).
- ``add_floors``: storeys added on top (height grows by the storey height;
  residential households in proportion; detailed element tables get copies
  of the top storey; storeys of another height than the building's are
  written out as elements).
- ``change_use``: a new main use (households re-estimated unless given).
- ``retrofit``: set attributes, such as envelope U-values
  (``u_wall_w_m2k``, ``u_roof_w_m2k``, ``u_window_w_m2k`` [W/(m2 K)]),
  ``has_lift`` or ``service_space_m2`` [m2].
- ``add_green`` / ``remove_greens``: green spaces, roof and vertical greening
  included (a roof garden may be given by its building: the footprint, or
  ``area_m2`` of it).
- ``add_facility`` / ``remove_facilities``: service facilities (points).
- ``close_gates`` / ``open_gates``: set the street-network node attribute
  ``gate_closed`` (True closed, False open; ``None`` on nodes no edit touched).
  Closing a node that is no barrier yet makes it one (``barrier = "gate"``).
  Indicators that route on the network read it (see
  :mod:`scenarios.indicators`).
- ``set_parking``: the parking supply ``parking_spaces`` (and
  ``surface_parking_spaces``) of parcels (default), buildings or parking
  facilities, as a new count or a change.

Geometry is given in the twin's CRS, as shapely geometry, WKT text, or
coordinates (``[[x, y], ...]`` for a footprint, ``[x, y]`` for a point). New
geometry must lie within the site (the ``site`` layer, else the parcels), to
1 cm.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cim.errors import CIMError
from cim.estimate import dwelling_gfa, estimate_parameter, storey_height
from cim.layers import (
    BUILDING_USES,
    GREEN_KINDS,
    HOUSEHOLDS_SOURCES,
    SCHEMAS,
    facility_categories,
)
from scenarios._frozen import Params, freeze, thaw
from scenarios.errors import ScenarioError

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "EDITS",
    "AddBuilding",
    "AddFacility",
    "AddFloors",
    "AddGreen",
    "ChangeUse",
    "CloseGates",
    "Demolish",
    "Edit",
    "OpenGates",
    "RemoveFacilities",
    "RemoveGreens",
    "ReplaceBuilding",
    "Retrofit",
    "SetParking",
    "column_dtype",
    "dwelling_gfa",
    "edit_from_dict",
    "require_ids",
    "site_geometry",
    "storey_height",
]

#: Edit types by ``op`` name; subclasses of :class:`Edit` register themselves.
EDITS: dict[str, type[Edit]] = {}

#: Tolerance of "within the site" [m].
SITE_TOLERANCE_M = 0.01
#: Overlap with an existing building above which a new footprint is refused [m2].
OVERLAP_TOLERANCE_M2 = 1.0
#: Storey heights closer than this are the same [m].
_SAME_HEIGHT_M = 1e-6

_SHOW = 5
_SINGULAR = {
    "buildings": "building",
    "parcels": "parcel",
    "greens": "green",
    "facilities": "facility",
    "site": "site",
    "surfaces": "surface",
}


# -- helpers ---------------------------------------------------------------------------


def _list(values: Iterable[Any]) -> str:
    vals = [repr(v) for v in values]
    more = f" and {len(vals) - _SHOW} more" if len(vals) > _SHOW else ""
    return ", ".join(vals[:_SHOW]) + more


def _did_you_mean(word: str, options: Iterable[str], *, n: int = 1) -> str:
    """The hint `` (did you mean 'x'?)`` naming the options closest to ``word``.

    ``""`` if none is close; at most ``n`` are named.
    """
    close = difflib.get_close_matches(word, list(options), n=n)
    return f" (did you mean {_list(close)}?)" if close else ""


def _as_ids(value: Any, what: str = "ids") -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    try:
        ids = tuple(str(v) for v in value)
    except TypeError as exc:
        msg = f"{what} must be a list of ids, got {value!r}"
        raise ScenarioError(msg) from exc
    if not ids:
        msg = f"{what} is empty; give at least one id"
        raise ScenarioError(msg)
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        msg = f"{what} lists {_list(dup)} more than once"
        raise ScenarioError(msg)
    return ids


def _as_nodes(value: Any) -> tuple[Hashable, ...]:
    if isinstance(value, (str, int)):
        value = [value]
    nodes = tuple(freeze(v) for v in value)
    if not nodes:
        msg = "nodes is empty; give at least one node id of the street network"
        raise ScenarioError(msg)
    return nodes


def _as_int(value: Any, what: str, *, minimum: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer))
        or (isinstance(value, float) and not value.is_integer())
    ):
        msg = f"{what} must be a whole number, got {value!r}"
        raise ScenarioError(msg)
    out = int(value)
    if minimum is not None and out < minimum:
        msg = f"{what} must be at least {minimum}, got {out}"
        raise ScenarioError(msg)
    return out


def _as_float(value: Any, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool):
        msg = f"{what} must be a number, got {value!r}"
        raise ScenarioError(msg)
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        msg = f"{what} must be a number, got {value!r}"
        raise ScenarioError(msg) from exc
    if not math.isfinite(out) or (positive and out <= 0) or out < 0:
        need = "> 0" if positive else ">= 0"
        msg = f"{what} must be a finite number {need}, got {value!r}"
        raise ScenarioError(msg)
    return out


def _as_choice(value: Any, what: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if value not in options:
        hint = _did_you_mean(str(value), options)
        msg = f"invalid {what} {value!r}{hint}; expected one of {', '.join(options)}"
        raise ScenarioError(msg)
    return str(value)


def _as_geometry(value: Any, what: str, *, point: bool = False) -> Any:
    """Shapely geometry from shapely, WKT text or coordinates."""
    geom: Any
    if isinstance(value, shapely.Geometry):
        geom = value
    elif isinstance(value, str):
        try:
            geom = shapely.from_wkt(value)
        except shapely.errors.GEOSException as exc:
            msg = f"{what}: cannot read WKT {value[:60]!r} ({exc})"
            raise ScenarioError(msg) from exc
    else:
        try:
            coords = np.asarray(thaw(value), dtype="float64")
            if point:
                geom = shapely.Point(coords)
            else:
                geom = shapely.Polygon(coords)
        except (TypeError, ValueError, shapely.errors.GEOSException) as exc:
            expected = "[x, y]" if point else "[[x, y], [x, y], [x, y], ...]"
            msg = f"{what}: expected WKT text or coordinates {expected}, got {value!r}"
            raise ScenarioError(msg) from exc
    allowed = ("Point",) if point else ("Polygon", "MultiPolygon")
    if geom is None or geom.geom_type not in allowed or geom.is_empty:
        kind = "empty" if geom is None or geom.is_empty else geom.geom_type
        msg = f"{what} is {kind}; expected a {' or '.join(allowed)}"
        raise ScenarioError(msg)
    if not point:
        if not geom.is_valid:
            msg = (
                f"{what} is not a valid polygon ({shapely.is_valid_reason(geom)}); "
                "redraw it (no self-intersections, rings closed)"
            )
            raise ScenarioError(msg)
        if geom.area <= 0:
            msg = f"{what} has no area; give at least three distinct corners"
            raise ScenarioError(msg)
    return geom


def _to_wkt(geom: Any) -> str:
    return str(shapely.to_wkt(geom, rounding_precision=-1, trim=True))


def _ids_of(twin: Twin, layer: str) -> pd.Series:
    return twin[layer][SCHEMAS[layer].id_column]


def require_ids(twin: Twin, layer: str, ids: Iterable[str]) -> None:
    """Check that every id names a feature of a layer of the twin.

    Parameters
    ----------
    twin
        The twin.
    layer
        Layer name, e.g. ``"buildings"``.
    ids
        Feature ids (``building_id``, ``green_id`` ...).

    Raises
    ------
    ScenarioError
        Naming the unknown ids, the closest known ones and the layer's size.

    Examples
    --------
    >>> import cim
    >>> from scenarios.edits import require_ids
    >>> pilot = cim.datasets.load("hangzhou_pilot")
    >>> require_ids(pilot, "buildings", ["A-T1", "B-S9"])
    >>> try:
    ...     require_ids(pilot, "buildings", ["B-S10"])
    ... except ValueError as exc:
    ...     print(str(exc).split(";")[0])
    no building 'B-S10' in layer 'buildings' (did you mean 'B-S1', 'C-S1', 'B-S9'?)
    """
    have = set(_ids_of(twin, layer))
    unknown = [i for i in ids if i not in have]
    if unknown:
        known = list(_ids_of(twin, layer))
        hint = _did_you_mean(unknown[0], [str(k) for k in known], n=3)
        what = _SINGULAR[layer]
        msg = (
            f"no {what} {_list(unknown)} in layer {layer!r}{hint}; the layer has "
            f"{len(known)} features" + (f", e.g. {_list(known[:3])}" if known else "")
        )
        raise ScenarioError(msg)


def _named(frame: pd.DataFrame, layer: str, ids: Iterable[str]) -> Any:
    """Which features of ``frame``, a layer ``layer``, have one of ``ids``."""
    return frame[SCHEMAS[layer].id_column].isin(list(ids)).to_numpy()


def _require_new_id(twin: Twin, layer: str, new_id: str) -> None:
    if new_id in set(_ids_of(twin, layer)):
        what = _SINGULAR[layer]
        msg = (
            f"{what} {new_id!r} already exists in layer {layer!r}; choose a new id "
            + ("or use replace_building" if layer == "buildings" else "")
        ).rstrip()
        raise ScenarioError(msg)


def site_geometry(twin: Twin) -> Any:
    """The twin's site as one geometry: the ``site`` layer, else the parcels.

    Parameters
    ----------
    twin
        The twin.

    Returns
    -------
    shapely.Geometry or None
        None when the twin has neither layer (new geometry is then not checked).
    """
    for layer in ("site", "parcels"):
        frame = twin[layer]
        if len(frame):
            return shapely.union_all(frame.geometry.array)
    return None


def _check_inside(twin: Twin, geom: Any, what: str) -> None:
    site = site_geometry(twin)
    if site is None:
        return
    if not shapely.covered_by(geom, shapely.buffer(site, SITE_TOLERANCE_M)):
        outside = shapely.difference(geom, site)
        layer = "site" if len(twin.site) else "parcels"
        if geom.geom_type == "Point":
            detail = f"the point ({geom.x:.1f}, {geom.y:.1f}) is outside"
        else:
            detail = f"{outside.area:,.1f} m2 of its {geom.area:,.1f} m2 lie outside"
        msg = (
            f"{what} lies outside the site ({detail} the {layer!r} layer); move it "
            "inside, or extend the site layer"
        )
        raise ScenarioError(msg)


def column_dtype(value: Any) -> str:
    """The pandas dtype of a new column holding ``value`` (nullable for numbers).

    Parameters
    ----------
    value
        A value set on some features: a bool, an integer, a float or text.

    Returns
    -------
    str
        ``"boolean"``, ``"Int64"``, ``"float64"`` or ``"str"``, so that
        features without the value read ``<NA>``/NaN rather than a made-up
        one; ``"object"`` for anything else.

    Examples
    --------
    >>> from scenarios.edits import column_dtype
    >>> [column_dtype(v) for v in (True, 3, 0.8, "lift", None)]
    ['boolean', 'Int64', 'float64', 'str', 'object']
    """
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "Int64"
    if isinstance(value, (float, np.floating)):
        return "float64"
    if isinstance(value, str):
        return "str"
    return "object"


def _set_values(frame: pd.DataFrame, column: str, mask: Any, value: Any) -> None:
    """Set ``frame.loc[mask, column] = value``, creating or widening the column."""
    if column not in frame.columns:
        dtype = column_dtype(value)
        empty = {"float64": np.nan, "object": None, "str": np.nan}.get(dtype, pd.NA)
        frame[column] = pd.Series(empty, index=frame.index, dtype=dtype)
    series = frame[column].copy()
    try:
        series[mask] = value
    except (TypeError, ValueError):
        wide = "float64" if isinstance(value, (int, float)) else "object"
        if wide == "float64" and pd.api.types.is_numeric_dtype(series.dtype):
            series = series.astype("Float64").astype("float64")
        else:
            series = series.astype(object)
        series[mask] = value
    frame[column] = series


def _set_count(frame: pd.DataFrame, column: str, mask: Any, value: Any) -> None:
    """Set ``frame.loc[mask, column] = value`` in a nullable integer column.

    The column is made ``Int64``, first with ``<NA>`` everywhere if missing.
    """
    if column not in frame.columns:
        frame[column] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    col = frame[column].astype("Int64")
    col[mask] = value
    frame[column] = col


def _with_layers(twin: Twin, **layers: Any) -> Twin:
    """Replace layers in dependency order (dependents first when removing)."""
    for name in ("elements", "surfaces", "greens", "buildings", "facilities"):
        if name in layers:
            twin = twin.with_layer(name, layers.pop(name), estimate=False)
    for name, data in layers.items():
        twin = twin.with_layer(name, data, estimate=False)
    return twin


def _with_layers_elements_last(twin: Twin, layers: Mapping[str, Any]) -> Twin:
    """Replace layers as :func:`_with_layers` does, but the elements last.

    New elements may refer to buildings that the other layers add.
    """
    layers = dict(layers)
    elements = layers.pop("elements", None)
    twin = _with_layers(twin, **layers)
    return twin if elements is None else twin.with_layer("elements", elements)


def _concat(frame: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Append rows; columns new to ``frame`` keep the rows' (nullable) dtypes."""
    out = pd.concat([frame, rows], ignore_index=True)
    for c in rows.columns:
        if c not in frame.columns and c != "geometry":
            out[c] = out[c].astype(rows[c].dtype)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


def _row_frame(row: Mapping[str, Any], geom: Any, crs: Any) -> gpd.GeoDataFrame:
    """One feature; values typed as :func:`column_dtype` says, None as NaN."""
    data = {
        k: pd.Series([np.nan], dtype="float64")
        if v is None
        else pd.Series([v], dtype=column_dtype(v))
        for k, v in row.items()
    }
    return gpd.GeoDataFrame(data, geometry=[geom], crs=crs)


# -- the base class --------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """One change to a twin. Subclasses are frozen dataclasses with an ``op``.

    A subclass implements :meth:`validate` (raise :class:`ScenarioError`
    naming the id, layer and fix) and :meth:`_apply` (return a new twin,
    deriving layers with :meth:`cim.Twin.with_layer`); fields are converted
    and checked in ``__post_init__``. Defining the subclass registers its
    ``op`` in :data:`EDITS`.
    """

    op: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        op = cls.__dict__.get("op")
        if op:
            if op in EDITS and EDITS[op].__qualname__ != cls.__qualname__:
                msg = f"edit op {op!r} is already defined by {EDITS[op].__qualname__}"
                raise ValueError(msg)
            EDITS[op] = cls

    def validate(self, twin: Twin) -> None:
        """Check that the edit can be applied to ``twin``.

        Parameters
        ----------
        twin
            The twin as it is before this edit.

        Raises
        ------
        ScenarioError
            If an id is unknown, geometry lies outside the site, ...
        """

    def _apply(self, twin: Twin) -> Twin:
        raise NotImplementedError

    def apply(self, twin: Twin) -> Twin:
        """A new twin with the edit made; ``twin`` is not changed.

        Parameters
        ----------
        twin
            The twin to edit.

        Returns
        -------
        Twin

        Raises
        ------
        ScenarioError
            If :meth:`validate` refuses the edit, or the edited layer does not
            pass the twin's validation.
        """
        self.validate(twin)
        try:
            return self._apply(twin)
        except ScenarioError:
            raise
        except CIMError as exc:
            msg = f"the edited twin is invalid: {exc}"
            raise ScenarioError(msg, op=self.op) from exc

    def describe(self) -> str:
        """One line saying what the edit does."""
        parts = []
        for name, v in self._given().items():
            if isinstance(v, shapely.Geometry):
                v = f"{v.geom_type} {v.area:,.0f} m2" if v.area else v.geom_type
            elif isinstance(v, tuple) and len(v) > 4:
                v = f"[{_list(v)}]"
            elif isinstance(v, tuple):
                v = "[" + ", ".join(map(repr, v)) + "]"
            elif isinstance(v, Params):
                v = dict(v)
            parts.append(f"{name}={v}")
        return f"{self.op} " + ", ".join(parts)

    def _given(self) -> dict[str, Any]:
        """Fields whose values differ from their defaults."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = f.default
            if v is None or (default is not dataclasses.MISSING and v == default):
                continue
            out[f.name] = v
        return out

    def to_dict(self) -> dict[str, Any]:
        """The edit as plain data (``op`` first; defaults left out; WKT geometry).

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"op": self.op}
        for name, v in self._given().items():
            out[name] = _to_wkt(v) if isinstance(v, shapely.Geometry) else thaw(v)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Edit:
        """An edit from plain data, as :meth:`to_dict` gives (``op`` optional).

        Parameters
        ----------
        data
            Field values.

        Returns
        -------
        Edit

        Raises
        ------
        ScenarioError
            For unknown or missing fields and invalid values.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k != "op"}
        unknown = [k for k in values if k not in fields]
        if unknown:
            hint = _did_you_mean(unknown[0], fields)
            msg = (
                f"unknown field {unknown[0]!r}{hint}; {cls.op} takes "
                f"{', '.join(fields)}"
            )
            raise ScenarioError(msg, op=cls.op)
        missing = [
            n
            for n, f in fields.items()
            if n not in values
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            msg = f"missing field {missing[0]!r}; {cls.op} needs {', '.join(missing)}"
            raise ScenarioError(msg, op=cls.op)
        return cls(**values)


def edit_from_dict(data: Mapping[str, Any]) -> Edit:
    """An edit from plain data with an ``op`` key (one ``[[edits]]`` table).

    Parameters
    ----------
    data
        ``{"op": "demolish", "ids": ["b1"]}`` and so on.

    Returns
    -------
    Edit

    Raises
    ------
    ScenarioError
        If ``op`` is missing or unknown (the message lists the ops), or a
        field is.

    Examples
    --------
    >>> from scenarios.edits import edit_from_dict
    >>> edit_from_dict({"op": "demolish", "ids": ["b1", "b2"]})
    Demolish(ids=('b1', 'b2'))
    """
    if not isinstance(data, Mapping):
        msg = f"an edit must be a table with an 'op' key, got {data!r}"
        raise ScenarioError(msg)
    op = data.get("op")
    if op is None:
        msg = f"an edit lacks its 'op'; expected one of {', '.join(sorted(EDITS))}"
        raise ScenarioError(msg)
    if op not in EDITS:
        hint = _did_you_mean(str(op), EDITS)
        msg = f"invalid op {op!r}{hint}; expected one of {', '.join(sorted(EDITS))}"
        raise ScenarioError(msg, op=str(op))
    return EDITS[op].from_dict(data)


@dataclass(frozen=True)
class _OnFeatures(Edit):
    """An edit of features of one layer that exist, named by their ids.

    Subclasses set ``layer``; a subclass with more fields converts them in
    its own ``__post_init__``, after calling this one.

    Parameters
    ----------
    ids
        Ids of the features (``building_id``, ``green_id`` ...).
    """

    layer: ClassVar[str] = "buildings"
    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _as_ids(self.ids))

    def validate(self, twin: Twin) -> None:
        require_ids(twin, self.layer, self.ids)

    def _selected(self, frame: pd.DataFrame) -> Any:
        """Which features of ``frame`` (the layer) the edit names: ``(n,)`` bool."""
        return _named(frame, self.layer, self.ids)


@dataclass(frozen=True)
class _Remove(_OnFeatures):
    """Remove the features named; no other layer refers to them.

    (Other layers refer to buildings: :class:`Demolish` removes those too.)
    """

    def _apply(self, twin: Twin) -> Twin:
        frame = twin[self.layer]
        return twin.with_layer(self.layer, frame[~self._selected(frame)])


# -- buildings -------------------------------------------------------------------------


@dataclass(frozen=True)
class Demolish(_OnFeatures):
    """Demolish buildings (with their surfaces, elements and greens on them).

    Parameters
    ----------
    ids
        ``building_id`` of each building.
    """

    op: ClassVar[str] = "demolish"

    def _apply(self, twin: Twin) -> Twin:
        return twin.without_buildings(self.ids)


_ELEMENT_KEYS = ("storey", "level", "kind", "area_m2")


@dataclass(frozen=True)
class AddBuilding(Edit):
    """Put up a new building.

    Parameters
    ----------
    id
        Its ``building_id``; must be new.
    footprint
        Polygon in the twin's CRS (shapely, WKT, or ``[[x, y], ...]``).
    floors
        Storeys above ground.
    use
        Main use, one of :data:`cim.layers.BUILDING_USES`.
    height_m
        Height [m]; default ``floors`` x ``storey_height_m``.
    storey_height_m
        Storey height for the default height [m]; default the twin's.
    households
        Dwellings; default estimated for residential use (floor area /
        dwelling size), flagged ``households_source = "estimated"``.
    households_source
        Provenance of ``households`` given (``"measured"``, the default, or
        ``"estimated"``).
    year_built
        Year of completion [year].
    structure
        Structure, e.g. ``"reinforced_concrete"``.
    name
        Name.
    attributes
        Further columns, e.g. ``{"has_lift": True, "u_wall_w_m2k": 0.6}``.
    elements
        Area elements of its storeys, one mapping each with at least
        ``storey``, ``level``, ``kind`` and ``area_m2`` (see
        :data:`cim.storeys.ELEMENTS`); ``element_id`` defaults to
        ``"<id>/<storey>/<kind>/<n>"`` and ``structural_height_m`` to the
        building's storey height.
    """

    op: ClassVar[str] = "add_building"
    _replace: ClassVar[bool] = False

    id: str
    footprint: Any = None
    floors: int | None = None
    use: str | None = None
    height_m: float | None = None
    storey_height_m: float | None = None
    households: int | None = None
    households_source: str | None = None
    year_built: int | None = None
    structure: str | None = None
    name: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=Params)
    elements: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "id", str(self.id))
        if not self._replace:
            for req in ("footprint", "floors"):
                if getattr(self, req) is None:
                    msg = f"building {self.id!r} needs {req}"
                    raise ScenarioError(msg, op=self.op)
        what = f"building {self.id!r}"
        if self.footprint is not None:
            s(self, "footprint", _as_geometry(self.footprint, f"{what}: footprint"))
        if self.floors is not None:
            s(self, "floors", _as_int(self.floors, f"{what}: floors", minimum=1))
        if self.use is not None:
            s(self, "use", _as_choice(self.use, f"{what}: use", BUILDING_USES))
        for name in ("height_m", "storey_height_m"):
            if getattr(self, name) is not None:
                s(
                    self,
                    name,
                    _as_float(getattr(self, name), f"{what}: {name}", positive=True),
                )
        if self.households is not None:
            s(
                self,
                "households",
                _as_int(self.households, f"{what}: households", minimum=0),
            )
        if self.households_source is not None:
            source = _as_choice(
                self.households_source, f"{what}: households_source", HOUSEHOLDS_SOURCES
            )
            s(self, "households_source", source)
        if self.year_built is not None:
            s(self, "year_built", _as_int(self.year_built, f"{what}: year_built"))
        attrs = Params(self.attributes)
        fixed = {f.name for f in dataclasses.fields(self)} | {
            "building_id",
            "geometry",
            "height_source",
            "floors_source",
            "households_source",
        }
        clash = [k for k in attrs if k in fixed]
        if clash:
            msg = (
                f"{what}: attribute {clash[0]!r} is a field of {self.op}; give it "
                "as the field, not in attributes"
            )
            raise ScenarioError(msg, op=self.op)
        s(self, "attributes", attrs)
        elements = tuple(Params(e) for e in self.elements)
        for i, e in enumerate(elements):
            lacking = [k for k in _ELEMENT_KEYS if k not in e]
            if lacking:
                msg = (
                    f"{what}: element {i + 1} lacks {', '.join(lacking)}; each "
                    "element needs storey, level, kind and area_m2"
                )
                raise ScenarioError(msg, op=self.op)
        s(self, "elements", elements)

    # The building this edit replaces, or None.
    def _old(self, twin: Twin) -> pd.Series | None:
        return None

    def _target_id(self) -> str:
        return self.id

    def validate(self, twin: Twin) -> None:  # noqa: D102
        old = self._old(twin)
        new_id = self._target_id()
        if old is None or new_id != self.id:
            _require_new_id(twin, "buildings", new_id)
        footprint = self.footprint if self.footprint is not None else old.geometry  # type: ignore[union-attr]
        what = f"building {new_id!r}"
        _check_inside(twin, footprint, f"{what}: footprint")
        b = twin.buildings
        others = b if old is None else b[b["building_id"] != self.id]
        if len(others):
            inter = shapely.area(shapely.intersection(others.geometry.array, footprint))
            hit = np.flatnonzero(inter > OVERLAP_TOLERANCE_M2)
            if len(hit):
                i = int(hit[np.argmax(inter[hit])])
                msg = (
                    f"{what}: footprint overlaps building "
                    f"{others['building_id'].iloc[i]!r} by {inter[i]:,.1f} m2; "
                    "demolish that building first (an earlier edit), or move the "
                    "footprint"
                )
                raise ScenarioError(msg, op=self.op)
        if self.elements:
            self._element_table(twin, new_id)

    def _element_table(self, twin: Twin, new_id: str) -> pd.DataFrame:
        from cim.storeys import validate_elements

        rows = []
        storey_m = self._storey_m(twin)
        for i, e in enumerate(self.elements):
            row = dict(thaw(e))
            row.setdefault("structural_height_m", storey_m)
            row["building_id"] = new_id
            row.setdefault(
                "element_id", f"{new_id}/{row['storey']}/{row['kind']}/{i + 1}"
            )
            rows.append(row)
        table = pd.DataFrame(rows)
        try:
            table = validate_elements(table)
        except CIMError as exc:
            msg = f"building {new_id!r}: invalid elements: {exc}"
            raise ScenarioError(msg, op=self.op) from exc
        taken = set(twin.elements["element_id"])
        clash = [i for i in table["element_id"] if i in taken]
        if clash:
            msg = (
                f"building {new_id!r}: element ids {_list(clash)} already exist in "
                "the twin's elements; give other element_id values"
            )
            raise ScenarioError(msg, op=self.op)
        return table

    def _storey_m(self, twin: Twin) -> float:
        """Storey height of the new building [m]: given, else height / floors."""
        if self.storey_height_m is not None:
            return self.storey_height_m
        if self.height_m is not None and self.floors:
            return self.height_m / self.floors
        return storey_height(twin)

    def _row(self, twin: Twin, old: pd.Series | None) -> gpd.GeoDataFrame:
        from cim.estimate import fill_building_estimates

        def pick(name: str, fallback: Any) -> Any:
            v = getattr(self, name)
            return fallback if v is None else v

        floors = pick("floors", None if old is None else int(old["floors"]))
        footprint = pick("footprint", None if old is None else old.geometry)
        use = pick("use", "residential" if old is None else str(old["use"]))
        name = pick("name", "" if old is None else str(old["name"]))
        row: dict[str, Any] = {}
        for col in SCHEMAS["buildings"].columns:
            row[col.name] = col.default if col.dtype == "str" else None
        row.update(
            building_id=self._target_id(),
            height_m=self.height_m,
            height_source="measured" if self.height_m is not None else None,
            floors=floors,
            floors_source="measured",
            use=use,
            households=self.households,
            households_source=(self.households_source or "measured")
            if self.households is not None
            else None,
            year_built=self.year_built,
            structure=self.structure or "unknown",
            name=name,
        )
        row.update(thaw(self.attributes))
        frame = _row_frame(row, footprint, twin.crs)
        for col in SCHEMAS["buildings"].columns:
            if col.dtype in ("Int64", "float64", "str"):
                frame[col.name] = frame[col.name].astype(col.dtype)
        sh = estimate_parameter("storey_height_m", self.storey_height_m, twin=twin)
        return fill_building_estimates(
            frame, storey_height_m=sh, dwelling_gfa_m2=dwelling_gfa(twin), warn=False
        )

    def _apply(self, twin: Twin) -> Twin:
        old = self._old(twin)
        new_id = self._target_id()
        row = self._row(twin, old)
        layers = {} if old is None else twin.layers_without_buildings([self.id])
        base = layers.get("buildings", twin.buildings)
        layers["buildings"] = _concat(base, row)
        if self.elements:
            table = self._element_table(twin, new_id)
            el = layers.get("elements", twin.elements)
            layers["elements"] = pd.concat([el, table], ignore_index=True)
        return _with_layers_elements_last(twin, layers)


@dataclass(frozen=True)
class ReplaceBuilding(AddBuilding):
    """Demolish a building and put up a new one in its place.

    Fields as :class:`AddBuilding`; ``footprint``, ``floors``, ``use`` and
    ``name`` default to the old building's, the rest to a new building's
    defaults (attributes, elements and greens on the old one are not kept).

    Parameters
    ----------
    new_id
        The new building's id; default the old one's.
    """

    op: ClassVar[str] = "replace_building"
    _replace: ClassVar[bool] = True
    new_id: str | None = None

    def _old(self, twin: Twin) -> pd.Series | None:
        require_ids(twin, "buildings", [self.id])
        b = twin.buildings
        return b[b["building_id"] == self.id].iloc[0]

    def _target_id(self) -> str:
        return self.id if self.new_id is None else str(self.new_id)


@dataclass(frozen=True)
class AddFloors(_OnFeatures):
    """Add storeys on top of buildings.

    Height grows by ``floors`` x the storey height (``storey_height_m``, else
    the building's ``storey_height_m`` column where the source gave one, else
    its mean storey height ``height_m / floors``).
    Households of residential buildings grow in proportion to the storeys
    (flagged ``households_source = "estimated"``). Buildings with a detailed
    element table get copies of their top storey's elements.

    New storeys of another height than the building's (``storey_height_m``
    given) are not averaged into it: the footprint x floors storey model
    (:func:`cim.storeys.storeys_from_buildings`) has one storey height per
    building, so such a building's storeys are written out as elements
    (as :func:`cim.takeoff.twin_elements` makes them, then grown as a
    detailed building's), each with its own structural height and
    elevation, its attic on top. Its ``storey_height_m`` column, where
    given, becomes the mean of its storeys' heights.

    Parameters
    ----------
    ids
        ``building_id`` of each building.
    floors
        Storeys added (>= 1).
    storey_height_m
        Structural height of each new storey [m].
    """

    op: ClassVar[str] = "add_floors"
    floors: int = 1
    storey_height_m: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "floors", _as_int(self.floors, "floors", minimum=1))
        if self.storey_height_m is not None:
            sh = _as_float(self.storey_height_m, "storey_height_m", positive=True)
            object.__setattr__(self, "storey_height_m", sh)

    def _apply(self, twin: Twin) -> Twin:
        b = twin.buildings.copy()
        sel = self._selected(b)
        floors = b["floors"].to_numpy(dtype="float64", na_value=np.nan)
        height = b["height_m"].to_numpy(dtype="float64")
        per = np.where(floors > 0, height / floors, storey_height(twin))
        if "storey_height_m" in b.columns:
            # A storey height the source gave (CityJSON LoD2: height_m is the
            # ridge, so height / floors would overstate the storey).
            given = pd.to_numeric(b["storey_height_m"], errors="coerce")
            given = given.to_numpy(dtype="float64", na_value=np.nan)
            own = np.isfinite(given) & (given > 0)
            per = np.where(own, given, per)
        new = per.copy()
        if self.storey_height_m is not None:
            new[:] = self.storey_height_m
        else:
            # A detailed building grows by copies of its top full storey, so
            # by that storey's structural height where the table gives it.
            top = _top_storey_heights(twin.elements, self.ids)
            ids = b["building_id"].to_numpy()
            given_top = np.array([top.get(i, np.nan) for i in ids], dtype="float64")
            new = np.where(sel & np.isfinite(given_top), given_top, new)
        new_floors = floors + self.floors
        b.loc[sel, "height_m"] = height[sel] + self.floors * new[sel]
        b.loc[sel, "floors"] = pd.array(new_floors[sel], dtype="Int64")
        if "storey_height_m" in b.columns and self.storey_height_m is not None:
            mean = (per * floors + new * self.floors) / new_floors
            b.loc[sel & own, "storey_height_m"] = mean[sel & own]
        hh = b["households"].to_numpy(dtype="float64", na_value=np.nan)
        res = sel & (b["use"].to_numpy() == "residential") & np.isfinite(hh)
        if res.any():
            grown = np.round(hh * new_floors / floors)
            b.loc[res, "households"] = pd.array(grown[res], dtype="Int64")
            b.loc[res, "households_source"] = "estimated"
        layers: dict[str, Any] = {"buildings": b}
        el = self._written_out(twin, sel & (np.abs(new - per) > _SAME_HEIGHT_M))
        detailed = el[el["building_id"].isin(self.ids)]
        if len(detailed):
            layers["elements"] = self._grown_elements(el, detailed, new, b)
        return _with_layers_elements_last(twin, layers)

    @staticmethod
    def _written_out(twin: Twin, mixed: Any) -> pd.DataFrame:
        """The element table with the storeys of ``mixed`` buildings written out.

        ``mixed`` ``(n,)`` bool marks the buildings that get storeys of
        another height; those without a detailed element table get the
        elements the take-off would give them.
        """
        from cim.takeoff import twin_elements

        el = twin.elements
        ids = twin.buildings["building_id"][mixed]
        simple = ids[~ids.isin(el["building_id"])]
        if not len(simple):
            return el
        written = twin_elements(twin)
        written = written[written["building_id"].isin(simple)]
        return pd.concat([el, written], ignore_index=True) if len(el) else written

    def _grown_elements(
        self, el: pd.DataFrame, detailed: pd.DataFrame, per: Any, b: pd.DataFrame
    ) -> pd.DataFrame:
        """The element table with the new storeys of the detailed buildings.

        New storeys copy the elements of the top full storey (the highest
        level with an element that is not an ``attic``); what stood above it
        (an attic under a pitched roof, a roof plant floor) moves up by the
        added storeys, so it stays on top and is not copied. New storeys of
        a given ``storey_height_m`` have that structural height, and the
        first stands on the top storey's own (its structural height where
        known).
        """
        per_building = dict(zip(b["building_id"], per, strict=True))
        moved = pd.Series(False, index=el.index)
        parts = []
        for bid, group in detailed.groupby("building_id", sort=False):
            full = group[group["kind"] != "attic"]
            top_level = (full if len(full) else group)["level"].max()
            top = full[full["level"] == top_level] if len(full) else group
            sh = float(per_building[bid])
            first = sh
            if self.storey_height_m is not None:
                top_sh = float(top["structural_height_m"].max())
                first = top_sh if np.isfinite(top_sh) else sh
            for k in range(1, self.floors + 1):
                level = int(top_level) + k
                copy = top.copy()
                copy["level"] = level
                copy["storey"] = f"{level}F"
                copy["element_id"] = [f"{e}+{level}F" for e in top["element_id"]]
                copy["elevation_m"] = top["elevation_m"] + k * sh + (first - sh)
                if self.storey_height_m is not None:
                    copy["structural_height_m"] = sh
                parts.append(copy)
            above = group[group["level"] > top_level]
            if len(above):
                up = above.copy()
                up["level"] = above["level"] + self.floors
                up["storey"] = [
                    f"{lv + self.floors}F" if st == f"{lv}F" else st
                    for st, lv in zip(above["storey"], above["level"], strict=True)
                ]
                up["elevation_m"] = above["elevation_m"] + self.floors * sh
                parts.append(up)
                moved[above.index] = True
        return pd.concat([el[~moved], *parts], ignore_index=True)


def _top_storey_heights(elements: pd.DataFrame, ids: Iterable[Any]) -> dict[Any, float]:
    """Structural height of the top full (non-attic) storey of each building.

    Only buildings of ``ids`` whose element table gives that height.
    """
    el = elements[elements["building_id"].isin(list(ids))]
    if not len(el) or "structural_height_m" not in el.columns:
        return {}
    full = el[el["kind"] != "attic"]
    out: dict[Any, float] = {}
    for bid, group in full.groupby("building_id", sort=False):
        top = group[group["level"] == group["level"].max()]
        h = pd.to_numeric(top["structural_height_m"], errors="coerce").max()
        if np.isfinite(h) and h > 0:
            out[bid] = float(h)
    return out


@dataclass(frozen=True)
class ChangeUse(_OnFeatures):
    """Give buildings a new main use.

    Parameters
    ----------
    ids
        ``building_id`` of each building.
    use
        New use, one of :data:`cim.layers.BUILDING_USES`.
    households
        Dwellings in each; default 0 for non-residential uses and an
        estimate (floor area / dwelling size) for residential use.
    """

    op: ClassVar[str] = "change_use"
    use: str
    households: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "use", _as_choice(self.use, "use", BUILDING_USES))
        if self.households is not None:
            hh = _as_int(self.households, "households", minimum=0)
            object.__setattr__(self, "households", hh)

    def _apply(self, twin: Twin) -> Twin:
        from cim.estimate import fill_building_estimates

        b = twin.buildings.copy()
        sel = self._selected(b)
        b.loc[sel, "use"] = self.use
        if self.households is not None:
            b.loc[sel, "households"] = self.households
            b.loc[sel, "households_source"] = "measured"
        else:
            b.loc[sel, "households"] = pd.NA
            b.loc[sel, "households_source"] = pd.NA
            part = fill_building_estimates(
                b[sel],
                storey_height_m=storey_height(twin),
                dwelling_gfa_m2=dwelling_gfa(twin),
                warn=False,
            )
            b.loc[sel, "households"] = part["households"].to_numpy()
            b.loc[sel, "households_source"] = part["households_source"].to_numpy()
        return twin.with_layer("buildings", b, estimate=False)


_RETROFIT_OPS = {
    "building_id": "replace_building",
    "geometry": "replace_building",
    "floors": "add_floors",
    "height_m": "add_floors or replace_building",
    "use": "change_use",
    "households": "change_use",
    "height_source": "add_floors",
    "floors_source": "add_floors",
    "households_source": "change_use",
}


@dataclass(frozen=True)
class Retrofit(_OnFeatures):
    """Set attributes of buildings, e.g. new envelope U-values or a lift.

    Column names carry units (``u_wall_w_m2k`` [W/(m2 K)],
    ``service_space_m2`` [m2]); a new column is created with a nullable
    dtype (other buildings get ``<NA>``).

    Parameters
    ----------
    ids
        ``building_id`` of each building.
    attributes
        Column -> value (a number, text or true/false).
    """

    op: ClassVar[str] = "retrofit"
    attributes: Mapping[str, Any]

    def __post_init__(self) -> None:
        super().__post_init__()
        attrs = Params(self.attributes)
        if not attrs:
            msg = "retrofit needs attributes, e.g. {u_wall_w_m2k = 0.8}"
            raise ScenarioError(msg, op=self.op)
        for k, v in attrs.items():
            if k in _RETROFIT_OPS:
                msg = f"retrofit cannot set {k!r}; use {_RETROFIT_OPS[k]}"
                raise ScenarioError(msg, op=self.op)
            if not isinstance(v, (str, int, float, bool)):
                msg = (
                    f"retrofit attribute {k!r} must be a number, text or bool, "
                    f"got {v!r}"
                )
                raise ScenarioError(msg, op=self.op)
        object.__setattr__(self, "attributes", attrs)

    def _apply(self, twin: Twin) -> Twin:
        b = twin.buildings.copy()
        sel = self._selected(b)
        for k, v in self.attributes.items():
            _set_values(b, k, sel, v)
        return twin.with_layer("buildings", b, estimate=False)


# -- greens and facilities -------------------------------------------------------------


@dataclass(frozen=True)
class AddGreen(Edit):
    """Add a green space, roof and vertical greening included.

    Parameters
    ----------
    id
        Its ``green_id``; must be new.
    kind
        One of :data:`cim.layers.GREEN_KINDS`.
    geometry
        Polygon in the twin's CRS. May be left out for greening on a
        building: ``roof`` and ``podium`` take the building's footprint,
        ``vertical`` a 0.3 m band around it.
    building_id
        The building it is on (roof, podium, vertical); demolishing the
        building removes the green.
    area_m2
        Planted area where it differs from the polygon [m2]: the wall area of
        vertical greening (required for it), or the planted part of a roof.
    soil_depth_m
        Soil depth over the structure [m] (roof and podium greening).
    name
        Name.
    """

    op: ClassVar[str] = "add_green"
    id: str
    kind: str = "ground"
    geometry: Any = None
    building_id: str | None = None
    area_m2: float | None = None
    soil_depth_m: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "id", str(self.id))
        what = f"green {self.id!r}"
        s(self, "kind", _as_choice(self.kind, f"{what}: kind", GREEN_KINDS))
        if self.geometry is not None:
            s(self, "geometry", _as_geometry(self.geometry, f"{what}: geometry"))
        elif self.building_id is None:
            msg = f"{what} needs geometry, or building_id for greening on a building"
            raise ScenarioError(msg, op=self.op)
        elif self.kind not in ("roof", "podium", "vertical"):
            msg = (
                f"{what}: a {self.kind!r} green needs geometry; only roof, podium "
                "and vertical greening may take a building's outline"
            )
            raise ScenarioError(msg, op=self.op)
        if self.building_id is not None:
            s(self, "building_id", str(self.building_id))
        for name in ("area_m2", "soil_depth_m"):
            if getattr(self, name) is not None:
                s(self, name, _as_float(getattr(self, name), f"{what}: {name}"))
        if self.kind == "vertical" and self.area_m2 is None and self.geometry is None:
            msg = f"{what}: give area_m2, the planted wall area, for vertical greening"
            raise ScenarioError(msg, op=self.op)

    def _geometry(self, twin: Twin) -> Any:
        if self.geometry is not None:
            return self.geometry
        b = twin.buildings
        footprint = b.geometry[b["building_id"] == self.building_id].iloc[0]
        if self.kind == "vertical":
            return shapely.difference(shapely.buffer(footprint, 0.3), footprint)
        return footprint

    def validate(self, twin: Twin) -> None:  # noqa: D102
        _require_new_id(twin, "greens", self.id)
        if self.building_id is not None:
            require_ids(twin, "buildings", [self.building_id])
        geom = self._geometry(twin)
        _check_inside(twin, geom, f"green {self.id!r}")
        if self.kind in ("roof", "podium") and self.area_m2 is not None:
            if self.area_m2 > geom.area + 1e-6:
                msg = (
                    f"green {self.id!r}: area_m2 {self.area_m2:,.1f} exceeds the "
                    f"roof's {geom.area:,.1f} m2"
                )
                raise ScenarioError(msg, op=self.op)

    def _apply(self, twin: Twin) -> Twin:
        row = {
            "green_id": self.id,
            "kind": self.kind,
            "soil_depth_m": np.nan if self.soil_depth_m is None else self.soil_depth_m,
            "area_m2": np.nan if self.area_m2 is None else self.area_m2,
            "name": self.name,
            "building_id": self.building_id,
        }
        frame = _row_frame(row, self._geometry(twin), twin.crs)
        frame["building_id"] = frame["building_id"].astype("str")
        return twin.with_layer("greens", _concat(twin.greens, frame))


@dataclass(frozen=True)
class RemoveGreens(_Remove):
    """Remove green spaces.

    Parameters
    ----------
    ids
        ``green_id`` of each green.
    """

    op: ClassVar[str] = "remove_greens"
    layer: ClassVar[str] = "greens"


@dataclass(frozen=True)
class AddFacility(Edit):
    """Add a service facility (a point).

    Parameters
    ----------
    id
        Its ``facility_id``; must be new.
    category
        Life-circle category (``assets/facility_categories.csv``).
    location
        Point in the twin's CRS (shapely, WKT or ``[x, y]``).
    name
        Name.
    attributes
        Further columns, e.g. ``{"floor_area_m2": 300.0}``.
    """

    op: ClassVar[str] = "add_facility"
    id: str
    category: str
    location: Any
    name: str = ""
    attributes: Mapping[str, Any] = field(default_factory=Params)

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "id", str(self.id))
        what = f"facility {self.id!r}"
        s(
            self,
            "category",
            _as_choice(self.category, f"{what}: category", facility_categories().index),
        )
        s(
            self,
            "location",
            _as_geometry(self.location, f"{what}: location", point=True),
        )
        attrs = Params(self.attributes)
        clash = [
            k for k in attrs if k in ("facility_id", "category", "name", "geometry")
        ]
        if clash:
            msg = f"{what}: attribute {clash[0]!r} is a field; give it as the field"
            raise ScenarioError(msg, op=self.op)
        s(self, "attributes", attrs)

    def validate(self, twin: Twin) -> None:  # noqa: D102
        _require_new_id(twin, "facilities", self.id)
        _check_inside(twin, self.location, f"facility {self.id!r}")

    def _apply(self, twin: Twin) -> Twin:
        row = {
            "facility_id": self.id,
            "category": self.category,
            "name": self.name,
            **thaw(self.attributes),
        }
        frame = _row_frame(row, self.location, twin.crs)
        return twin.with_layer("facilities", _concat(twin.facilities, frame))


@dataclass(frozen=True)
class RemoveFacilities(_Remove):
    """Remove service facilities.

    Parameters
    ----------
    ids
        ``facility_id`` of each facility.
    """

    op: ClassVar[str] = "remove_facilities"
    layer: ClassVar[str] = "facilities"


# -- network: gates --------------------------------------------------------------------


def _node_key(G: Any, node: Hashable) -> Hashable | None:
    """The graph's node matching ``node`` (ids from TOML may be text or numbers)."""
    if node in G:
        return node
    for cast in (int, str):
        try:
            alt = cast(node)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            continue
        if alt in G:
            return alt
    return None


@dataclass(frozen=True)
class _Gates(Edit):
    """Close or open gates: nodes of the street network (see the module doc)."""

    closed: ClassVar[bool] = True
    nodes: tuple[Hashable, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", _as_nodes(self.nodes))

    def validate(self, twin: Twin) -> None:
        G = twin.network
        unknown = [n for n in self.nodes if _node_key(G, n) is None]
        if unknown:
            msg = (
                f"no node {_list(unknown)} in layer 'network' "
                f"({G.number_of_nodes()} nodes); give node ids of the street graph"
            )
            raise ScenarioError(msg, op=self.op)

    def _apply(self, twin: Twin) -> Twin:
        H = twin.network.copy()
        for n in self.nodes:
            key = _node_key(H, n)
            data = H.nodes[key]
            data["gate_closed"] = self.closed
            if self.closed and not data.get("barrier"):
                data["barrier"] = "gate"
        # The topology is unchanged, so with_layer does not warn again about
        # the network's components.
        return twin.with_layer("network", H)


@dataclass(frozen=True)
class CloseGates(_Gates):
    """Close gates: ``gate_closed = True`` on street-network nodes.

    Parameters
    ----------
    nodes
        Node ids of the street graph.
    """

    op: ClassVar[str] = "close_gates"
    closed: ClassVar[bool] = True


@dataclass(frozen=True)
class OpenGates(_Gates):
    """Open gates: ``gate_closed = False`` on street-network nodes.

    Parameters
    ----------
    nodes
        Node ids of the street graph.
    """

    op: ClassVar[str] = "open_gates"
    closed: ClassVar[bool] = False


# -- parking ---------------------------------------------------------------------------

_PARKING_LAYERS = ("parcels", "buildings", "facilities")


@dataclass(frozen=True)
class SetParking(Edit):
    """Change the parking supply (``parking_spaces``) of parcels, buildings, facilities.

    Give exactly one of ``spaces`` (the new count) and ``change`` (added, or
    removed if negative). A parking module sums ``parking_spaces`` over the
    layers.

    Parameters
    ----------
    ids
        Ids of the features in ``layer``.
    spaces
        New number of car spaces of each feature.
    change
        Spaces added to (or removed from) each feature's current count.
    surface_spaces
        New number of those at ground level (``surface_parking_spaces``).
    layer
        ``"parcels"`` (default), ``"buildings"`` (garages) or
        ``"facilities"`` (category ``parking`` only).
    """

    op: ClassVar[str] = "set_parking"
    ids: tuple[str, ...]
    spaces: int | None = None
    change: int | None = None
    surface_spaces: int | None = None
    layer: str = "parcels"

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "ids", _as_ids(self.ids))
        s(self, "layer", _as_choice(self.layer, "layer", _PARKING_LAYERS))
        given = (self.spaces is not None) + (self.change is not None)
        if given == 2 or (given == 0 and self.surface_spaces is None):
            msg = (
                "set_parking needs exactly one of spaces (the new count) or change "
                "(spaces added, negative to remove), or surface_spaces alone"
            )
            raise ScenarioError(msg, op=self.op)
        if self.spaces is not None:
            s(self, "spaces", _as_int(self.spaces, "spaces", minimum=0))
        if self.change is not None:
            s(self, "change", _as_int(self.change, "change"))
        if self.surface_spaces is not None:
            ss = _as_int(self.surface_spaces, "surface_spaces", minimum=0)
            s(self, "surface_spaces", ss)
            if self.spaces is not None and ss > self.spaces:
                msg = f"surface_spaces {ss} exceeds spaces {self.spaces}"
                raise ScenarioError(msg, op=self.op)

    def validate(self, twin: Twin) -> None:  # noqa: D102
        require_ids(twin, self.layer, self.ids)
        frame = twin[self.layer]
        id_col = SCHEMAS[self.layer].id_column
        sel = _named(frame, self.layer, self.ids)
        if self.layer == "facilities":
            cats = frame.loc[sel, "category"]
            wrong = cats[cats != "parking"]
            if len(wrong):
                fid = frame.loc[wrong.index[0], id_col]
                msg = (
                    f"facility {fid!r} is a {wrong.iloc[0]!r}, not parking; set the "
                    "supply of parking facilities, parcels or buildings"
                )
                raise ScenarioError(msg, op=self.op)
        if self.change is not None:
            current = self._current(frame, sel)
            unknown = frame.loc[sel, id_col][np.isnan(current)]
            if len(unknown):
                msg = (
                    f"the parking supply of {_SINGULAR[self.layer]} "
                    f"{_list(unknown)} is unknown; give spaces (the new count) "
                    "rather than a change"
                )
                raise ScenarioError(msg, op=self.op)
            low = frame.loc[sel, id_col][current + self.change < 0]
            if len(low):
                msg = (
                    f"change {self.change} would leave {_SINGULAR[self.layer]} "
                    f"{_list(low)} with fewer than 0 spaces"
                )
                raise ScenarioError(msg, op=self.op)

    @staticmethod
    def _current(frame: pd.DataFrame, sel: Any) -> Any:
        if "parking_spaces" not in frame.columns:
            return np.full(int(np.sum(sel)), np.nan)
        col = frame.loc[sel, "parking_spaces"]
        return pd.to_numeric(col, errors="coerce").to_numpy("float64", na_value=np.nan)

    def _apply(self, twin: Twin) -> Twin:
        frame = twin[self.layer].copy()
        sel = _named(frame, self.layer, self.ids)
        if self.spaces is not None or self.change is not None:
            if self.spaces is not None:
                new: Any = self.spaces
            else:
                new = self._current(frame, sel) + float(self.change or 0)
                new = pd.array(np.round(new), dtype="Int64")
            _set_count(frame, "parking_spaces", sel, new)
        if self.surface_spaces is not None:
            _set_count(frame, "surface_parking_spaces", sel, self.surface_spaces)
        return twin.with_layer(self.layer, frame, estimate=False)
