"""Layer schemas of the twin: columns, dtypes, units, defaults and allowed values.

Each layer of a :class:`~cim.Twin` is a GeoDataFrame in the twin's metric CRS
whose columns follow a :class:`LayerSchema`. Required columns must be present;
optional columns absent from the input are created with their documented
default. Columns not in the schema are kept unchanged. Values that were
estimated rather than measured are flagged in a ``*_source`` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from cim._assets import asset_path

__all__ = [
    "BUILDING_USES",
    "GREEN_KINDS",
    "LAYER_NAMES",
    "SCHEMAS",
    "SURFACE_SEMANTICS",
    "Column",
    "LayerSchema",
    "facility_categories",
    "schemas_markdown",
]

#: Building uses (GB 50137-style groups).
BUILDING_USES = (
    "residential",
    "commercial",
    "office",
    "mixed",
    "public",
    "education",
    "health",
    "elderly_care",
    "culture_sports",
    "industrial",
    "ancillary",
    "religious",
    "unknown",
)

#: Kinds of green. ``roof``, ``podium`` and ``vertical`` are 3D greening, which
#: rulebooks may count toward the green rate with a factor.
GREEN_KINDS = (
    "ground",
    "park",
    "roof",
    "podium",
    "vertical",
    "forest",
    "water",
    "other",
)

#: Provenance of estimated building values.
HEIGHT_SOURCES = ("measured", "levels", "default")
FLOORS_SOURCES = ("measured", "height", "default")
HOUSEHOLDS_SOURCES = ("measured", "estimated", "none")


@dataclass(frozen=True)
class Column:
    """One column of a layer schema.

    Parameters
    ----------
    name
        Column name; the suffix carries the unit (``_m``, ``_m2``, ``_s`` ...).
    dtype
        pandas dtype: ``"str"``, ``"float64"``, ``"Int64"`` or ``"bool"``.
    required
        Whether the input must provide it.
    default
        Value of the column when the input lacks it.
    unit
        Unit, ``"-"`` for dimensionless or categorical values.
    description
        Meaning of the column.
    choices
        Allowed values of a categorical column, if restricted.
    """

    name: str
    dtype: str
    required: bool = False
    default: object = None
    unit: str = "-"
    description: str = ""
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LayerSchema:
    """Schema of one layer: its id column, geometry types and columns."""

    name: str
    id_column: str
    geometry_types: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    #: Check 2D validity (and repair with make_valid). Off for 3D surfaces,
    #: whose vertical walls are degenerate in plan.
    check_validity: bool = True

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """The :class:`Column` called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """The schema as a table, for documentation."""
        rows = [
            {
                "column": c.name,
                "dtype": c.dtype,
                "unit": c.unit,
                "required": c.required,
                "default": c.default,
                "description": c.description,
            }
            for c in self.columns
        ]
        return pd.DataFrame(rows)


_POLY = ("Polygon", "MultiPolygon")

BUILDINGS = LayerSchema(
    name="buildings",
    id_column="building_id",
    geometry_types=_POLY,
    description="Building footprints with heights, storeys, use and households.",
    columns=(
        Column("building_id", "str", True, description="unique id"),
        Column(
            "height_m",
            "float64",
            unit="m",
            default=float("nan"),
            description="height above ground to the roof (parapet top)",
        ),
        Column(
            "height_source",
            "str",
            default="measured",
            choices=HEIGHT_SOURCES,
            description="measured, levels (floors x storey height) or default",
        ),
        Column("floors", "Int64", description="storeys above ground"),
        Column(
            "floors_source",
            "str",
            default="measured",
            choices=FLOORS_SOURCES,
            description=(
                "measured, height (height / storey height; under a pitched "
                "LoD2 roof, eave height / storey height) or default"
            ),
        ),
        Column(
            "use",
            "str",
            default="unknown",
            choices=BUILDING_USES,
            description="main use",
        ),
        Column("households", "Int64", description="dwellings (households)"),
        Column(
            "households_source",
            "str",
            default="none",
            choices=HOUSEHOLDS_SOURCES,
            description="measured, estimated (floor area / dwelling size) or none",
        ),
        Column(
            "service_space_m2",
            "float64",
            default=float("nan"),
            unit="m2",
            description="floor area of community service space in the building "
            "(neighbourhood centre, day care, shared rooms), for the "
            "service-space indicator; empty if unknown",
        ),
        Column("year_built", "Int64", unit="year", description="year of completion"),
        Column(
            "structure",
            "str",
            default="unknown",
            description="structure, e.g. brick_concrete, precast_hollow_core",
        ),
        Column("name", "str", default="", description="name"),
    ),
)

PARCELS = LayerSchema(
    name="parcels",
    id_column="parcel_id",
    geometry_types=_POLY,
    description="Land parcels (plots) with land use and optional planning limits.",
    columns=(
        Column("parcel_id", "str", True, description="unique id"),
        Column(
            "land_use",
            "str",
            default="unknown",
            description="land use, e.g. residential, 0701 (GB/T 21010)",
        ),
        Column(
            "far_max",
            "float64",
            default=float("nan"),
            unit="[-]",
            description="planning limit: maximum plot ratio",
        ),
        Column(
            "density_max",
            "float64",
            default=float("nan"),
            unit="[-]",
            description="planning limit: maximum building density (0-1)",
        ),
        Column(
            "green_rate_min",
            "float64",
            default=float("nan"),
            unit="[-]",
            description="planning limit: minimum green rate (0-1)",
        ),
        Column(
            "height_max_m",
            "float64",
            default=float("nan"),
            unit="m",
            description="planning limit: maximum building height",
        ),
        Column(
            "parking_spaces",
            "Int64",
            description="car parking spaces provided on the parcel",
        ),
        Column(
            "surface_parking_spaces",
            "Int64",
            description="of those, spaces at ground level (not in a garage)",
        ),
        Column("name", "str", default="", description="name"),
    ),
)

GREENS = LayerSchema(
    name="greens",
    id_column="green_id",
    geometry_types=_POLY,
    description="Green spaces, including roof, podium and vertical greening.",
    columns=(
        Column("green_id", "str", True, description="unique id"),
        Column(
            "kind",
            "str",
            default="ground",
            choices=GREEN_KINDS,
            description="ground, park, roof, podium, vertical, forest, water, other",
        ),
        Column(
            "soil_depth_m",
            "float64",
            default=float("nan"),
            unit="m",
            description="soil depth over structures (roof/podium greening)",
        ),
        Column(
            "area_m2",
            "float64",
            default=float("nan"),
            unit="m2",
            description="planted area where it differs from the polygon "
            "(vertical greening: the wall area)",
        ),
        Column("name", "str", default="", description="name"),
    ),
)

FACILITIES = LayerSchema(
    name="facilities",
    id_column="facility_id",
    geometry_types=("Point",),
    description="Service facilities as points, by life-circle category.",
    columns=(
        Column("facility_id", "str", True, description="unique id"),
        Column(
            "category",
            "str",
            True,
            description="life-circle category (assets/facility_categories.csv)",
        ),
        Column("name", "str", default="", description="name"),
    ),
)

SITE = LayerSchema(
    name="site",
    id_column="site_id",
    geometry_types=_POLY,
    description="The study area boundary.",
    columns=(
        Column("site_id", "str", True, description="unique id"),
        Column("name", "str", default="", description="name"),
    ),
)

#: Semantic surface types of 3D building surfaces (CityJSON semantics).
SURFACE_SEMANTICS = ("ground", "wall", "roof", "closure", "other")

SURFACES = LayerSchema(
    name="surfaces",
    id_column="surface_id",
    geometry_types=("Polygon",),
    check_validity=False,
    description=(
        "3D boundary surfaces (PolygonZ) of buildings with LoD2 or detailed "
        "geometry, e.g. from CityJSON; z in metres above the CRS's vertical datum."
    ),
    columns=(
        Column("surface_id", "str", True, description="unique id"),
        Column("building_id", "str", True, description="building it bounds"),
        Column("part_id", "str", default="", description="building part, if any"),
        Column(
            "semantic",
            "str",
            default="other",
            choices=SURFACE_SEMANTICS,
            description="ground, wall, roof, closure or other",
        ),
        Column("lod", "str", default="", description="level of detail, e.g. 2.2"),
    ),
)

#: Schemas by layer name. The street network is a graph, see cim.network;
#: storeys and area elements are a table, see cim.storeys.
SCHEMAS: dict[str, LayerSchema] = {
    s.name: s for s in (BUILDINGS, PARCELS, GREENS, FACILITIES, SITE, SURFACES)
}

#: All layer names, the network and the element table included.
LAYER_NAMES = (*SCHEMAS, "network", "elements")


def schemas_markdown() -> str:
    """The layer schemas as Markdown tables (the README's "Layers" section)."""
    out = []
    for schema in SCHEMAS.values():
        out.append(f"### `{schema.name}` ({' or '.join(schema.geometry_types)})")
        out.append("")
        out.append(schema.description)
        out.append("")
        out.append("| column | dtype | unit | required | default | meaning |")
        out.append("|---|---|---|---|---|---|")
        for c in schema.columns:
            if c.default is None:
                default = ""
            elif isinstance(c.default, float) and c.default != c.default:
                default = "NaN"
            else:
                default = f"`{c.default!r}`"
            req = "yes" if c.required else ""
            out.append(
                f"| `{c.name}` | {c.dtype} | {c.unit} | {req} | {default} | "
                f"{c.description} |"
            )
        out.append("")
    return "\n".join(out)


@cache
def facility_categories() -> pd.DataFrame:
    """The life-circle facility category table (``assets/facility_categories.csv``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``category``, with ``name_zh``, ``name_en``, ``life_circle``
        (``5``, ``10``, ``15``, ``none``), ``required`` (``yes`` where GB
        50180-2018 Appendix B marks the facility as required, unverified),
        ``osm_tags`` (``;``-separated
        alternatives, each ``key=value`` terms joined by ``+``) and ``note``.
    """
    table = pd.read_csv(asset_path("facility_categories.csv"), dtype=str)
    return table.set_index("category")
