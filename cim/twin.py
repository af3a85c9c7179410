"""The twin: named layers sharing one projected metric CRS, plus metadata."""

from __future__ import annotations

import copy as _copy
import datetime as _dt
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Never, Self, TypeAlias, overload

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cim._validate import validate_layer
from cim.crs import (
    check_distortion,
    check_metric_crs,
    resolve_crs,
    utm_crs_for,
)
from cim.errors import CRSError, LayerSchemaError
from cim.estimate import fill_building_estimates
from cim.layers import SCHEMAS
from cim.network.graph import (
    component_sizes,
    empty_network,
    project_graph,
    validate_network,
)

__all__ = ["Twin"]

PathLike: TypeAlias = str | os.PathLike[str]
LayerInput: TypeAlias = gpd.GeoDataFrame | PathLike | None


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _empty_layer(name: str, crs: CRS) -> gpd.GeoDataFrame:
    schema = SCHEMAS[name]
    cols = {c.name: pd.Series([], dtype=c.dtype) for c in schema.columns}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


class _Layer:
    """A read-only attribute of :class:`Twin` that returns one vector layer."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type[Twin], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, twin: None, owner: type[Twin] | None = None) -> Self: ...
    @overload
    def __get__(
        self, twin: Twin, owner: type[Twin] | None = None
    ) -> gpd.GeoDataFrame: ...
    def __get__(self, twin: Twin | None, owner: type[Twin] | None = None) -> Any:
        if twin is None:
            return self
        return twin._layers[self.name]

    def __set__(self, twin: Twin, value: Never) -> Never:
        msg = (
            f"layer {self.name!r} is read-only; derive a new twin with "
            f"twin.with_layer({self.name!r}, data)"
        )
        raise AttributeError(msg)


class Twin:
    """A community digital twin: layers in one projected CRS in metres.

    Layers are GeoDataFrames following :data:`cim.layers.SCHEMAS`
    (``buildings``, ``parcels``, ``greens``, ``facilities``, ``site``) and the
    street ``network``, an osmnx-style :class:`networkx.MultiDiGraph`. Each
    layer is validated when it enters the twin; absent layers are empty.
    Treat the layers as read-only and derive new twins with
    :meth:`with_layer`, so that a baseline twin is never changed.

    Parameters
    ----------
    crs
        The twin's CRS: projected, in metres (e.g. 4549 or ``"EPSG:32650"``).
    name
        Name of the community or study.
    buildings, parcels, greens, facilities, site, surfaces
        Layers as GeoDataFrames in ``crs``.
    network
        Street graph with ``G.graph["crs"]`` equal to ``crs``.
    elements
        Storeys and area elements of buildings described in detail (see
        :mod:`cim.storeys`); buildings without elements are taken as
        footprint x floors by the floor-area take-off.
    metadata
        Extra metadata: ``sources`` (list of dicts with ``name``, ``licence``,
        ``attribution``), ``created``, ``modified`` and anything JSON-serialisable.
    estimate
        Fill missing heights, storeys and households with flagged estimates
        (see :func:`cim.estimate.fill_building_estimates`).
    storey_height_m
        Storey height for estimates [m]; default from ``assets/defaults.toml``.
    dwelling_gfa_m2
        Gross floor area per household for estimates [m2].
    default_floors
        Per-building default storeys (e.g. by OSM building type), used before
        the per-use default when neither height nor storeys are known.
    warn_components
        Warn when the street network has several components.

    Raises
    ------
    CRSError
        If ``crs`` is not projected in metres, or distorts areas at the data
        by more than 1 % (Web Mercator, a zone far from the data; see
        :func:`cim.crs.check_distortion`).
    LayerSchemaError
        If a layer does not follow its schema.

    Warns
    -----
    CRSWarning
        Once per twin, if its data lie outside the area of use of ``crs``
        although areas are still within 1 %.

    Examples
    --------
    >>> import cim
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> twin.crs.to_epsg()
    32650
    """

    def __init__(
        self,
        *,
        crs: Any,
        name: str = "twin",
        buildings: gpd.GeoDataFrame | None = None,
        parcels: gpd.GeoDataFrame | None = None,
        greens: gpd.GeoDataFrame | None = None,
        facilities: gpd.GeoDataFrame | None = None,
        site: gpd.GeoDataFrame | None = None,
        surfaces: gpd.GeoDataFrame | None = None,
        network: nx.MultiDiGraph | None = None,
        elements: pd.DataFrame | None = None,
        metadata: Mapping[str, Any] | None = None,
        estimate: bool = True,
        storey_height_m: float | None = None,
        dwelling_gfa_m2: float | None = None,
        default_floors: pd.Series | None = None,
        warn_components: bool = True,
    ) -> None:
        self._crs = check_metric_crs(crs, layer="twin")
        given = {
            "buildings": buildings,
            "parcels": parcels,
            "greens": greens,
            "facilities": facilities,
            "site": site,
            "surfaces": surfaces,
        }
        layers: dict[str, gpd.GeoDataFrame] = {}
        for lname, data in given.items():
            if data is None:
                layers[lname] = _empty_layer(lname, self._crs)
            else:
                layers[lname] = validate_layer(lname, data, crs=self._crs)
        if estimate and len(layers["buildings"]):
            if default_floors is not None:
                default_floors = default_floors.reset_index(drop=True)
            layers["buildings"] = fill_building_estimates(
                layers["buildings"],
                storey_height_m=storey_height_m,
                dwelling_gfa_m2=dwelling_gfa_m2,
                default_floors=default_floors,
            )
        _check_references(layers["surfaces"], layers["buildings"], "surfaces")
        self._layers = layers
        self._elements = _validated_elements(elements, layers["buildings"])
        self._network = (
            empty_network(self._crs)
            if network is None
            else validate_network(
                network, crs=self._crs, warn_components=warn_components
            )
        )
        # Each layer was refused if the CRS distorts its areas; warn once, for
        # all layers together, if they lie outside the CRS's area of use.
        bounds = _data_bounds(layers.values(), self._network)
        if bounds is not None:
            check_distortion(bounds, self._crs, layer="twin", warn=True)
        # Metadata is kept in its JSON form (tuples become lists ...), which is
        # how it is stored, so that a saved twin reads back equal.
        meta = json.loads(json.dumps(dict(metadata or {}), default=str))
        # The estimate parameters travel with the twin, so that layers added
        # later (with_layer) are estimated the same way.
        est = meta.setdefault("estimates", {})
        if storey_height_m is not None:
            est["storey_height_m"] = float(storey_height_m)
        if dwelling_gfa_m2 is not None:
            est["dwelling_gfa_m2"] = float(dwelling_gfa_m2)
        now = _now()
        meta.setdefault("created", now)
        meta.setdefault("modified", meta["created"])
        meta.setdefault("sources", [])
        meta["name"] = name
        self._metadata = meta

    # -- construction ----------------------------------------------------------
    @classmethod
    def from_layers(
        cls,
        *,
        crs: Any = None,
        name: str = "twin",
        buildings: LayerInput = None,
        parcels: LayerInput = None,
        greens: LayerInput = None,
        facilities: LayerInput = None,
        site: LayerInput = None,
        surfaces: LayerInput = None,
        network: nx.MultiDiGraph | None = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Twin:
        """Build a twin from GeoDataFrames or files, projecting as needed.

        Layers may be GeoDataFrames or paths to anything geopandas reads. If
        ``crs`` is not given, layers already in one metric CRS keep it;
        otherwise geographic layers are projected to the local UTM zone of
        their centre.

        Parameters
        ----------
        crs
            Target metric CRS (EPSG code or anything pyproj accepts).
        name
            Name of the twin.
        buildings, parcels, greens, facilities, site, surfaces
            Layers (GeoDataFrame or file path).
        network
            Street graph with ``G.graph["crs"]``; projected to the twin's CRS.
        metadata
            See :class:`Twin`.
        **kwargs
            Passed to :class:`Twin` (``estimate``, ``storey_height_m`` ...).

        Returns
        -------
        Twin

        Raises
        ------
        CRSError
            If a layer has no CRS, the target CRS is not metric or distorts
            areas at the data by more than 1 %, or no layer has data to choose
            a CRS from.
        InputFileError
            If a layer file cannot be read.
        """
        from cim.io.files import input_layer

        raw = {
            "buildings": buildings,
            "parcels": parcels,
            "greens": greens,
            "facilities": facilities,
            "site": site,
            "surfaces": surfaces,
        }
        frames = {
            lname: input_layer(data, layer=lname)
            for lname, data in raw.items()
            if data is not None
        }
        sources = (metadata or {}).get("sources") or []
        source = ", ".join(
            str(src["name"])
            for src in sources
            if isinstance(src, Mapping) and src.get("name")
        )
        target = _choose_crs(crs, frames, network, source)
        projected = {
            k: (v if v.crs.equals(target) else v.to_crs(target))
            for k, v in frames.items()
        }
        if network is not None:
            network = project_graph(network, target)
        return cls(
            crs=target,
            name=name,
            network=network,
            metadata=metadata,
            **projected,
            **kwargs,
        )

    @classmethod
    def from_osm(
        cls,
        path: PathLike,
        *,
        site: Any = None,
        crs: Any = None,
        name: str | None = None,
        progress: bool = False,
        **kwargs: Any,
    ) -> Twin:
        """Build a twin from an OpenStreetMap ``.osm`` or ``.osm.pbf`` file.

        Buildings get heights from ``height``, else ``building:levels`` x the
        storey height, else default storeys by building type
        (``assets/building_types.csv``), each flagged in ``height_source``;
        households are estimated from residential floor area. Needs the
        ``osm`` extra (pyosmium).

        Parameters
        ----------
        path
            The OSM file; it is only read.
        site
            The study area: polygons (GeoDataFrame/GeoSeries with a CRS) or a
            polygon layer file. Default: the file's ``<bounds>``, else the hull
            of the buildings, with a warning (see :func:`cim.io.osm.read_osm`).
        crs
            Target metric CRS; default: local UTM zone.
        name
            Name of the twin; default: the file's stem.
        progress
            Log progress of the import.
        **kwargs
            Passed to :class:`Twin` (``storey_height_m``, ``dwelling_gfa_m2`` ...).

        Returns
        -------
        Twin
        """
        from cim.io.osm import twin_from_osm

        return twin_from_osm(
            path, site=site, crs=crs, name=name, progress=progress, **kwargs
        )

    # -- access ----------------------------------------------------------------
    @property
    def crs(self) -> CRS:
        """The twin's projected CRS in metres."""
        return self._crs

    @property
    def name(self) -> str:
        """Name of the twin."""
        return str(self._metadata["name"])

    @property
    def metadata(self) -> dict[str, Any]:
        """Metadata: name, sources and attribution, created and modified times."""
        return _copy.deepcopy(dict(self._metadata, crs=self._crs.to_string()))

    buildings = _Layer('Building footprints (see ``cim.layers.SCHEMAS["buildings"]``).')
    parcels = _Layer("Land parcels.")
    greens = _Layer("Green spaces, 3D greening included.")
    facilities = _Layer("Service facilities (points) by life-circle category.")
    site = _Layer("The study area boundary.")
    surfaces = _Layer(
        "3D building surfaces (PolygonZ), where the twin has LoD2 geometry."
    )

    @property
    def elements(self) -> pd.DataFrame:
        """Storeys and area elements of buildings described in detail."""
        return self._elements

    @property
    def network(self) -> nx.MultiDiGraph:
        """The street graph (osmnx-style MultiDiGraph)."""
        return self._network

    @property
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The vector layers by name (the network excluded)."""
        return dict(self._layers)

    def __getitem__(self, name: str) -> Any:
        if name == "network":
            return self._network
        if name == "elements":
            return self._elements
        if name not in self._layers:
            known = ", ".join([*self._layers, "network", "elements"])
            msg = f"no layer {name!r}; layers are {known}"
            raise KeyError(msg)
        return self._layers[name]

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(v)}" for k, v in self._layers.items())
        G = self._network
        return (
            f"<Twin {self.name!r} {self._crs.to_string()}: {counts}, "
            f"network={G.number_of_nodes()} nodes/{G.number_of_edges()} edges, "
            f"elements={len(self._elements)}>"
        )

    # -- derivation ------------------------------------------------------------
    def _derive(self, **changes: Any) -> Twin:
        new = object.__new__(Twin)
        new._crs = self._crs
        new._layers = dict(self._layers)
        new._network = self._network
        new._elements = self._elements
        new._metadata = _copy.deepcopy(self._metadata)
        for k, v in changes.items():
            if k == "network":
                new._network = v
            elif k == "elements":
                new._elements = v
            else:
                new._layers[k] = v
        return new

    def layers_without_buildings(
        self, ids: Iterable[Any]
    ) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
        """The layers that change when buildings ``ids`` go, with them gone.

        A building takes with it the rows keyed on it: its storey elements,
        its surfaces and the greens on it (roof gardens, by an optional
        ``building_id`` column of the greens). Only layers that change are
        returned; apply them with :meth:`without_buildings`, or edit them
        further first (a replacement building).

        Parameters
        ----------
        ids
            Building ids, all in the buildings layer.

        Returns
        -------
        dict
            ``buildings`` and whichever of ``elements``, ``surfaces`` and
            ``greens`` lose rows.

        Raises
        ------
        LayerSchemaError
            If an id is not a building of the twin (nothing is dropped silently).
        """
        wanted = list(dict.fromkeys(ids))
        b = self.buildings
        known = b["building_id"]
        found = set(known[known.isin(wanted)])
        unknown = [i for i in wanted if i not in found]
        if unknown:
            msg = (
                f"building_id {', '.join(map(repr, unknown[:5]))} not in the "
                "buildings layer; give ids of the twin's buildings"
            )
            raise LayerSchemaError(msg, layer="buildings", column="building_id")
        out: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {
            "buildings": b[~known.isin(wanted).to_numpy()]
        }
        for name in ("elements", "surfaces", "greens"):
            table = self[name]
            if "building_id" not in table.columns or not len(table):
                continue
            gone = table["building_id"].isin(wanted).to_numpy()
            if gone.any():
                out[name] = table[~gone]
        return out

    def without_buildings(self, ids: Iterable[Any]) -> Twin:
        """A new twin without buildings ``ids`` and the rows keyed on them.

        See :meth:`layers_without_buildings`; dependents go first, so the twin
        never holds an element or surface of a building it lacks. This twin is
        unchanged.

        Parameters
        ----------
        ids
            Building ids, all in the buildings layer.

        Returns
        -------
        Twin
        """
        layers = self.layers_without_buildings(ids)
        out = self
        for name in ("elements", "surfaces", "greens", "buildings"):
            if name in layers:
                out = out.with_layer(name, layers[name], estimate=False)
        return out

    def with_layer(self, name: str, data: Any, *, estimate: bool = True) -> Twin:
        """A new twin with layer ``name`` replaced; this twin is unchanged.

        Parameters
        ----------
        name
            Layer name (``buildings``, ``parcels``, ``greens``, ``facilities``,
            ``site`` or ``network``).
        data
            The new layer, validated as it enters. A new ``network`` is
            warned about for disconnected components only when they differ
            from the current network's.
        estimate
            Fill missing building values with flagged estimates.

        Returns
        -------
        Twin
        """
        if name == "network":
            # A graph that splits into the components of the current network
            # (the same graph given back, or one with only its attributes
            # edited) is not warned about again.
            network = validate_network(data, crs=self._crs, previous=self._network)
            self._warn_first_data([], network)
            return self._derive(network=network)
        if name == "elements":
            return self._derive(
                elements=_validated_elements(data, self._layers["buildings"])
            )
        if name not in SCHEMAS:
            msg = f"no layer {name!r}; layers are {', '.join([*SCHEMAS, 'network'])}"
            raise KeyError(msg)
        layer = validate_layer(name, data, crs=self._crs)
        self._warn_first_data([layer], None)
        if name == "buildings" and estimate and len(layer):
            est = self._metadata.get("estimates", {})
            layer = fill_building_estimates(
                layer,
                storey_height_m=est.get("storey_height_m"),
                dwelling_gfa_m2=est.get("dwelling_gfa_m2"),
            )
        if name == "buildings":
            _check_references(self._layers["surfaces"], layer, "surfaces")
            _validated_elements(self._elements, layer)
        elif name == "surfaces":
            _check_references(layer, self._layers["buildings"], "surfaces")
        return self._derive(**{name: layer})

    def _warn_first_data(
        self, frames: list[gpd.GeoDataFrame], network: nx.MultiDiGraph | None
    ) -> None:
        # A twin with data was warned about the CRS's area of use when it was
        # built; warn again only when the first data enter an empty twin.
        if any(len(f) for f in self._layers.values()) or (
            self._network.number_of_nodes()
        ):
            return
        bounds = _data_bounds(frames, network)
        if bounds is not None:
            check_distortion(bounds, self._crs, layer="twin", warn=True)

    def copy(self) -> Twin:
        """A deep copy of the twin."""
        return self._derive(
            network=self._network.copy(),
            elements=self._elements.copy(),
            **{k: v.copy() for k, v in self._layers.items()},
        )

    # -- summary and storage -----------------------------------------------------
    def site_area_m2(self) -> float:
        """Area of the site [m2]: the site layer, else parcels, else the data hull."""
        for lname in ("site", "parcels"):
            layer = self._layers[lname]
            if len(layer):
                return float(shapely.union_all(layer.geometry.array).area)
        geoms = [g for layer in self._layers.values() for g in layer.geometry.array]
        if not geoms:
            return 0.0
        return float(shapely.convex_hull(shapely.union_all(np.asarray(geoms))).area)

    def summary(self) -> dict[str, Any]:
        """Counts, CRS, bounds, site area and how many values are estimated.

        Returns
        -------
        dict
            JSON-serialisable summary.
        """
        b = self.buildings
        bounds = [np.inf, np.inf, -np.inf, -np.inf]
        for layer in self._layers.values():
            if len(layer):
                lb = layer.total_bounds
                bounds = [
                    min(bounds[0], lb[0]),
                    min(bounds[1], lb[1]),
                    max(bounds[2], lb[2]),
                    max(bounds[3], lb[3]),
                ]
        G = self._network
        sizes = component_sizes(G) if G.number_of_nodes() else []
        out: dict[str, Any] = {
            "name": self.name,
            "crs": self._crs.to_string(),
            "crs_name": self._crs.name,
            "layers": {k: len(v) for k, v in self._layers.items()},
            "network": {"nodes": G.number_of_nodes(), "edges": G.number_of_edges()},
            "elements": len(self._elements),
            "network_components": len(sizes),
            "network_component_sizes": sizes[:10],
            "bounds": [round(float(x), 2) for x in bounds]
            if np.isfinite(bounds).all()
            else None,
            "site_area_m2": round(self.site_area_m2(), 1),
            "footprint_area_m2": round(float(b.geometry.area.sum()), 1),
            "heights_estimated": int((b["height_source"] != "measured").sum()),
            "heights_from_levels": int((b["height_source"] == "levels").sum()),
            "heights_default": int((b["height_source"] == "default").sum()),
            "households": int(b["households"].sum()),
            "households_estimated": int((b["households_source"] == "estimated").sum()),
            "facilities_by_category": {
                str(k): int(v)
                for k, v in self.facilities["category"]
                .value_counts()
                .sort_index()
                .items()
            },
            "sources": [s.get("name", "") for s in self._metadata.get("sources", [])],
            "created": self._metadata.get("created"),
            "modified": self._metadata.get("modified"),
        }
        return out

    def save(self, path: PathLike) -> Path:
        """Save all layers, the network and metadata to one GeoPackage, atomically.

        Parameters
        ----------
        path
            Target ``.gpkg``. An existing file is replaced only once the new one
            is completely written.

        Returns
        -------
        pathlib.Path
        """
        from cim.io.gpkg import write_gpkg

        snapshot = self._derive()
        snapshot._metadata["modified"] = _now()
        return write_gpkg(snapshot, path)


def _data_bounds(
    frames: Iterable[gpd.GeoDataFrame], network: nx.MultiDiGraph | None
) -> tuple[float, float, float, float] | None:
    """``(minx, miny, maxx, maxy)`` of all layers and network nodes; None if empty."""
    parts = [f.total_bounds for f in frames if len(f)]
    if network is not None and network.number_of_nodes():
        xy = np.array([(d["x"], d["y"]) for _, d in network.nodes(data=True)])
        parts.append(np.concatenate([xy.min(axis=0), xy.max(axis=0)]))
    if not parts:
        return None
    b = np.array(parts, dtype="float64")
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):
        return None
    lo, hi = b[:, :2].min(axis=0), b[:, 2:].max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _check_references(
    table: pd.DataFrame, buildings: gpd.GeoDataFrame, name: str
) -> None:
    if not len(table):
        return
    unknown = ~table["building_id"].isin(buildings["building_id"]).to_numpy()
    if unknown.any():
        ids = ", ".join(repr(i) for i in pd.unique(table["building_id"][unknown])[:5])
        msg = (
            f"layer {name!r}: building_id {ids} not in the buildings layer; add "
            "those buildings or fix the ids"
        )
        raise LayerSchemaError(msg, layer=name, column="building_id")


def _validated_elements(
    elements: pd.DataFrame | None, buildings: gpd.GeoDataFrame
) -> pd.DataFrame:
    from cim.storeys import ELEMENTS, validate_elements

    if elements is None:
        cols = {c.name: pd.Series([], dtype=c.dtype) for c in ELEMENTS.columns}
        return pd.DataFrame(cols)
    table = validate_elements(elements)
    _check_references(table, buildings, "elements")
    return table


def _no_data_message(
    frames: Mapping[str, gpd.GeoDataFrame],
    network: nx.MultiDiGraph | None,
    source: str,
) -> str:
    where = f"{source}: " if source else ""
    expected = ", ".join([*SCHEMAS, "network (network_nodes + network_edges)"])
    if not frames and (network is None or not network.number_of_nodes()):
        if source:
            # A file whose layers bear no twin name (cim.io.gpkg.read_gpkg
            # names the layers it found before it gets here).
            return (
                f"{where}cannot choose a CRS for an empty twin: no layer is "
                f"named after a twin layer (the twin's layers are {expected}); "
                "rename the file's layers to these names (QGIS: Rename Layer; "
                "ogr2ogr: -nln buildings); for an empty twin on purpose, pass "
                "crs=, e.g. crs=4549"
            )
        return (
            "cannot choose a CRS for an empty twin: no layer given (the twin's "
            f"layers are {expected}); pass them by name, e.g. "
            "Twin.from_layers(buildings=gdf), or for an empty twin on purpose "
            "crs=, e.g. crs=4549"
        )
    given = ", ".join(frames) or "network"
    return (
        f"{where}cannot choose a CRS for an empty twin: every layer given "
        f"({given}) is empty; give layers with features, or for an empty twin "
        "pass crs=, e.g. crs=4549 (command line: --crs 4549)"
    )


def _choose_crs(
    crs: Any,
    frames: Mapping[str, gpd.GeoDataFrame],
    network: nx.MultiDiGraph | None,
    source: str = "",
) -> CRS:
    if crs is not None:
        return check_metric_crs(resolve_crs(crs), layer="twin")
    candidates = [resolve_crs(f.crs) for f in frames.values()]
    if network is not None and "crs" in network.graph:
        candidates.append(resolve_crs(network.graph["crs"]))
    metric: list[CRS] = []
    for c in candidates:
        if not c.is_geographic and not any(c.equals(m) for m in metric):
            metric.append(c)
    if len(metric) == 1:
        return check_metric_crs(metric[0], layer="twin")
    if len(metric) > 1:
        names = ", ".join(sorted(m.to_string() for m in metric))
        msg = (
            f"layers are in different projected CRSs ({names}); "
            "choose one with crs=, e.g. crs=4549"
        )
        raise CRSError(msg)
    # Centre of all geographic input -> local UTM zone.
    lonlat = []
    for f in frames.values():
        if len(f):
            b = f.to_crs(4326).total_bounds
            lonlat.append(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
    if network is not None and network.number_of_nodes() and not lonlat:
        G = project_graph(network, 4326)
        xs = [d["x"] for _, d in G.nodes(data=True)]
        ys = [d["y"] for _, d in G.nodes(data=True)]
        lonlat.append(((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    if not lonlat:
        raise CRSError(_no_data_message(frames, network, source))
    lon, lat = np.mean(lonlat, axis=0)
    return utm_crs_for(float(lon), float(lat))
