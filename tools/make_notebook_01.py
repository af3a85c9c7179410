"""Write notebooks/01_twin_basics.ipynb (run once; CI executes the notebook)."""

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("""# 01 · Twin basics: load, inspect, map, save and reload

A planner's first steps with **cim-twin**: load the bundled sample community (a
real OpenStreetMap extract of residential compounds and a campus in Haidian,
Beijing; © OpenStreetMap contributors, ODbL), look at its layers and at which
values are estimates, draw a map, and keep the twin in one GeoPackage that QGIS
opens."""),
    code("""import cim

twin = cim.datasets.load("beijing_haidian_cau")
twin"""),
    md("""Every layer shares one projected CRS in metres (here the local UTM zone,
chosen automatically on import). `summary()` is what `cim info` prints."""),
    code("""summary = twin.summary()
print(twin.crs.name)
summary"""),
    md("""## Buildings and their estimates

Chinese OSM rarely has heights: where `height` is missing, the twin uses
`building:levels` x storey height, else default storeys by building type, and
says so in `height_source`. Households of residential buildings are estimated
from floor area; `households_source` flags them."""),
    code("""b = twin.buildings
b[["building_id", "use", "height_m", "height_source", "floors", "households",
   "households_source", "name"]].head(10)"""),
    code("""b["height_source"].value_counts()"""),
    code("""b.groupby("use")[["height_m", "floors"]].describe().round(1)"""),
    md("""## The other layers"""),
    code("""twin.facilities["category"].value_counts()"""),
    code("""twin.parcels[["parcel_id", "land_use", "name"]].head()"""),
    code("""from cim.network import graph_to_gdfs

nodes, edges = graph_to_gdfs(twin.network)
km = edges["length_m"].sum() / 1000 / 2  # two-way streets are two edges
print(len(nodes), "nodes,", len(edges), "edges, about", round(km, 1), "km of street")
edges["highway"].value_counts().head(8)"""),
    md("""## A map"""),
    code("""import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(9, 9))
twin.site.boundary.plot(ax=ax, color="black", linewidth=1)
twin.parcels.plot(ax=ax, color="#f3e9d2", edgecolor="#c9b68b")
twin.greens.plot(ax=ax, color="#9fd49f")
edges.plot(ax=ax, color="#888888", linewidth=0.6)
b.plot(ax=ax, column="height_m", cmap="viridis", legend=True,
       legend_kwds={"label": "height [m]", "shrink": 0.6})
twin.facilities.plot(ax=ax, color="crimson", markersize=12)
ax.set_title(f"{twin.name}: buildings by height, facilities in red")
ax.set_axis_off()"""),
    md("""## Save and reload

One GeoPackage holds all layers, the network and the metadata. The write is
atomic, and the round trip is lossless."""),
    code("""import tempfile
from pathlib import Path

from geopandas.testing import assert_geodataframe_equal

path = Path(tempfile.mkdtemp()) / "site.gpkg"
twin.save(path)
again = cim.read(path)
for name, layer in twin.layers.items():
    assert_geodataframe_equal(layer, again[name])
assert again.network.number_of_edges() == twin.network.number_of_edges()
again"""),
    md("""## Your own data

`Twin.from_layers` takes GeoDataFrames or files (GeoPackage, GeoJSON,
Shapefile); longitude/latitude input is projected. Points picked from a
Chinese web map are in GCJ-02 and must be converted to WGS84 first."""),
    code("""import geopandas as gpd
from shapely.geometry import Point, box

from cim.gcj02 import gcj02_to_wgs84

# A kindergarten picked on a Gaode (Amap) map in Hangzhou, GCJ-02 lon/lat.
lon, lat = gcj02_to_wgs84(120.1550722, 30.274088)
facilities = gpd.GeoDataFrame(
    {"facility_id": ["k1"], "category": ["kindergarten"], "name": ["示例幼儿园"]},
    geometry=[Point(lon, lat)], crs=4326)
buildings = gpd.GeoDataFrame(
    {"building_id": ["A1"], "floors": [6], "use": ["residential"]},
    geometry=[box(lon + 0.001, lat, lon + 0.0015, lat + 0.0002)], crs=4326)
mine = cim.Twin.from_layers(crs=4549, name="hangzhou_example",
                            buildings=buildings, facilities=facilities)
mine.buildings[["building_id", "height_m", "height_source", "households",
                "households_source"]]"""),
]
nb = nbf.v4.new_notebook(
    cells=cells,
    metadata={
        "kernelspec": {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        },
        "language_info": {"name": "python"},
    },
)
nbf.write(nb, "notebooks/01_twin_basics.ipynb")
