"""Write notebooks/03_compliance.ipynb (run once; CI executes the notebook)."""

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("""# 03 · Compliance: checking a pilot design against the Zhejiang rulebook

A planner receives a design scheme for a future-community site in Hangzhou and
checks it against the **Zhejiang future-community rulebook**, which extends
GB 50180-2018 (residential block indicators, life circles, green, parking,
sunlight) and counts floor area by GB/T 50353-2013 with the province's FAR
exclusions. One parcel fails; the planner edits one building to fix it.

The scheme in `assets/pilot/` is **illustrative, authored for demonstration**:
not a real project. Results are advisory: rulings need certified software."""),
    code("""import cim
from cim._assets import asset_path

pilot = cim.read(asset_path("pilot", "hangzhou_pilot.gpkg"))
print(pilot)
pilot.metadata["planning"]"""),
    md("""The planning parameters in `metadata["planning"]` choose the thresholds:
Hangzhou is in building climate zone III, a city of more than 500,000 people;
the site is new development planned as a 5-minute life circle. The parcels
carry their planning conditions (规划条件) and parking supply."""),
    code("""pilot.parcels.drop(columns="geometry")"""),
    md("""## The rulebook

Rules are data (`assets/rules/*.toml`), each traced to its clause. `verified`
is false where the value was not confirmed from the primary text: Table
4.0.2 of GB 50180 was not found in a retrievable copy, and the Zhejiang
programme's own figures are gaps in our sources."""),
    code("""import pandas as pd

from cim.rules import load_rulebook

pd.set_option("display.max_colwidth", 60)
book = load_rulebook("zhejiang-future-community")
print(" > ".join(book.chain))
rules = book.to_frame(which="rules")
rules[["id", "indicator", "scope", "op", "unit", "verified"]]"""),
    md("""## The check

One row per (feature, rule): the value, the limit, pass or fail and the
margin, the clause, and whether the rule and the inputs behind the value are
verified. A rule whose indicator cannot be computed (no engine, or an input
missing) is *not evaluated*, never passed; rules whose table has no entry
for a feature (the housing rules on the park) are *not applicable*."""),
    code("""from cim.check import check

report = check(pilot, "zhejiang-future-community")
report.counts()"""),
    code("""report.summary("parcel")"""),
    code("""cols = [
    "feature_id",
    "rule_id",
    "indicator",
    "value",
    "limit",
    "margin",
    "status",
    "basis",
    "verified",
]
frame = report.to_frame()
frame.loc[frame["feature_id"] == "B-01", cols].query("status != 'not_applicable'")"""),
    md("""B-01 fails its FAR: 1.62 against the 1.3-1.6 range of a zone-III block of
four to six storeys (GB 50180 Table 4.0.2), and its planning condition of
1.6. Its `basis` says what produced the value: 38,880 m2 counted over a
parcel of 24,000 m2. The take-off behind it shows where the floor area comes
from;
for A-01 it shows the Zhejiang exclusions at work (stilt floor, balconies and
bay windows counted for gross floor area but not for FAR)."""),
    code("""bd = report.far_breakdown("parcel")
bd[bd["zone_id"] == "B-01"].groupby("building_id")[["area_m2", "counted_m2"]].sum()"""),
    code("""a1 = bd[(bd["zone_id"] == "A-01") & (bd["building_id"] == "A-T1")]
a1[["kind", "rule_id", "verified", "elements", "area_m2", "factor", "counted_m2"]]"""),
    md("""Every walking distance says, in its `basis`, which required facility
category (and which facility of it) is farthest from the home and so sets
the value:"""),
    code("""walk = frame[frame["indicator"] == "life_circle_walk_m"]
walk[["feature_id", "value", "limit", "status", "basis"]].head()"""),
    md("""Which values are provisional? The unverified rules used, and the
unverified inputs behind the values: here the default of 2.8 persons per
household, the take-off rules not confirmed from the primary text, and,
behind every walking distance, the life circle's facility list (recalled
from GB 50180 Appendix B). The pilot's storeys and heights are measured; in a
twin built from OpenStreetMap, FAR and average storeys would also say, per
parcel, how many buildings rest on estimated storeys (`storeys estimated
(floors_source=default) for 12 of 12 buildings`), a limit chosen by the
storey class would say it rests on them too (`limit chosen by
storey_class=multi_i from storeys estimated ...`), and the take-off breakdown
has `floors_source` and `storey_height_source` on every element."""),
    code("""report.unverified()[["kind", "rule_id", "rulebook", "rows"]]"""),
    code("""inputs = frame.loc[frame["unverified_inputs"] != "", "unverified_inputs"]
sorted({part for text in inputs for part in text.split("; ")})"""),
    md("""## A map of the result"""),
    code("""import matplotlib.pyplot as plt

colours = {
    "fail": "#e57373",
    "not_evaluated": "#ffd54f",
    "pass": "#81c784",
    "not_applicable": "#e0e0e0",
}
status = report.summary("parcel")["status"]
parcels = pilot.parcels.assign(status=pilot.parcels["parcel_id"].map(status))
fig, ax = plt.subplots(figsize=(8, 7))
parcels.plot(ax=ax, color=parcels["status"].map(colours), edgecolor="#555")
pilot.greens.plot(ax=ax, color="#2e7d32", alpha=0.3)
pilot.buildings.plot(ax=ax, color="#455a64", alpha=0.7)
for pid, p in zip(parcels["parcel_id"], parcels.representative_point(), strict=True):
    ax.annotate(pid, (p.x, p.y), ha="center")
ax.set_title("Pilot design: parcels by result (red fails)")
ax.set_axis_off()"""),
    md("""## Fix the failing parcel

Lower slab B-S9 from six storeys to five (and its height accordingly). The
twin is immutable: `with_layer` returns a new one, and the original stays as
it was."""),
    code("""b = pilot.buildings.copy()
i = b.index[b["building_id"] == "B-S9"][0]
b.loc[i, ["floors", "height_m"]] = [5, 5 * 3.0 + 1.2]
revised = pilot.with_layer("buildings", b)

again = check(revised, "zhejiang-future-community")
print(again.counts())
again.summary("parcel")"""),
    code("""frame2 = again.to_frame()
frame2.loc[(frame2["feature_id"] == "B-01") & (frame2["indicator"] == "far"), cols]"""),
    md("""## Reports to hand on

`to_json()` writes the rows (FAR rows with their take-off breakdown) for
pipelines; `to_html()` writes one self-contained page: summary per parcel and
rule, the map, the FAR breakdown tables and the unverified values. The
command line does the same: `cim check site.gpkg --rules
zhejiang-future-community --json r.json --html r.html` (`--strict` exits 1 on a
failure)."""),
    code("""import tempfile
from pathlib import Path

out = Path(tempfile.mkdtemp())
again.to_html(out / "pilot_report.html")
again.to_json(out / "pilot_report.json")
sorted((p.name, p.stat().st_size) for p in out.iterdir())"""),
    md("""## Your own rules, without code

A rulebook may extend the bundled ones and override one value. Here a
district asks for 100 m2 of community space per 100 households instead of 80:
the override is recorded and the rule marked unverified."""),
    code('''mine = out / "my-district.toml"
mine.write_text(
    """id = "my-district"
title = "My district: stricter community space"
jurisdiction = "CN-ZJ-Hangzhou"
version = "2026"
extends = "zhejiang-future-community"

[overrides."zj-fc-service-space"]
threshold = 100.0
""",
    encoding="utf-8",
)
strict = check(revised, mine)
print(strict.rulebook.overrides)
strict.to_frame().query("rule_id == 'zj-fc-service-space'")[cols]'''),
    md("""The same design under Hangzhou's own rules (2026 regulation: FAR and
density by average storeys, spacing; the 2024 FAR notice; the local sunlight
rule):"""),
    code("""hz = check(revised, "hangzhou")
print(hz.counts())
hz.summary("parcel")"""),
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
nbf.write(nb, "notebooks/03_compliance.ipynb")
