"""Write notebooks/06_renovation_scenarios.ipynb (CI executes the notebook)."""

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("""# 06 · Renovation scenarios: three packages for an old estate, and a FAR sweep

An analyst has an old walk-up estate to renew and three ways to do it:
comprehensive renovation (lifts, insulation, greening, community service
space), partial demolition and infill, and full rebuild with a higher plot
ratio (FAR). For each, the pilot wants the compliance before and after, the
sunlight the neighbours lose, the change in service coverage, the cost, the
saleable floor area added and the **fund balance** (revenue minus cost) it
must reach. Then: how far must FAR rise for the rebuild to pay for itself,
and where do the neighbours start losing their sunlight?

*The estate is synthetic (`assets/renovation/old_estate.toml`: a layout
typical of 1970s-90s Hangzhou walk-ups, not a real place), and every cost
rate in `assets/renovation/packages.toml` is an order-of-magnitude
placeholder marked `verified = false`. The numbers show the method, not a
verdict on any real estate.*"""),
    code("""import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, display

from cim.viz import plot_layers
from scenarios import Scenario, checkout, list_branches, save_branch, sweep
from scenarios.renovation import (
    RenovationConfig,
    classify,
    compare_packages,
    load_packages,
    sample_estate,
)

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 60)
YEAR = 2026  # reference year: ages, completion of rebuilt buildings

estate = sample_estate()
print(estate)
ax = plot_layers(estate, column="year_built", title="the estate by year built")
plt.show()"""),
    md("""## 1 · Which buildings must be renovated or rebuilt?

The classification rules are data (`assets/renovation/classification.toml`):
precast hollow-core floor slabs must be demolished or renovated so that no
safety risk remains (mandatory), 4+ storeys without a lift are lift-retrofit
candidates, buildings completed before 2001 predate the energy codes, and so
on. Each rule states its source and whether it was verified."""),
    code("""c = classify(estate, year=YEAR)
display(c.summary()[["action", "rule", "buildings", "mandatory", "verified"]])
c.table[
    [
        "building_id",
        "year_built",
        "age_years",
        "floors",
        "structure",
        "has_lift",
        "era",
        "recommendation",
        "assumed",
    ]
]"""),
    md("""## 2 · The packages and their (placeholder) costs

A package is an edit template: steps that become scenario edits on the
buildings the classification selects, and cost rates per m2 of a quantity.
"""),
    code("""book = load_packages()
rates = pd.DataFrame(
    [
        {
            "package": p.id,
            "item": c.item,
            "basis": c.basis,
            "rate_cny_m2": c.rate_cny_m2,
            "verified": c.verified,
        }
        for p in book.packages.values()
        for c in p.costs
    ]
)
display(rates)
{k: (v.value, v.unit) for k, v in book.parameters.items()}"""),
    md("""## 3 · Three packages compared

`compare_packages` turns each package into a scenario (a named list of
edits, applied copy-on-write: the estate itself never changes), runs the
indicator modules on the estate and on each package (floor-area take-off,
the Zhejiang future-community compliance check, the Hangzhou sunlight rules
on the existing neighbours, walking coverage of the life-circle facilities),
prices the bill and ranks the packages: feasible ones first (no slab risk
left, no neighbour losing sunlight compliance, no compliance check newly
failing), then by fund balance."""),
    code("""study = compare_packages(estate, config=RenovationConfig(year=YEAR))
print(study.ranking_text())
study.ranking[
    [
        "rank",
        "package",
        "feasible",
        "balance_cny",
        "cost_cny",
        "added_saleable_m2",
        "far_after",
        "newly_failing_checks",
        "neighbours_losing_sunlight",
        "coverage_delta",
    ]
]"""),
    code("""wide = study.comparison.wide("value")
keep = [
    ("takeoff", "site_far"),
    ("takeoff", "households"),
    ("compliance", "failing_checks"),
    ("compliance", "failing_rules"),
    ("sunlight", "neighbours_losing_compliance"),
    ("sunlight", "max_loss_h"),
    ("circles", "elderly_care_share_5min"),
    ("circles", "community_centre_share_5min"),
    ("circles", "mean_share"),
]
wide[[(i, m) in keep for i, m, _ in wide.index]]"""),
    code("""display(Image(study.comparison.map_png()))"""),
    md("""What each package changes, feature by feature (the model compare), and
its bill:"""),
    code("""partial = study.results["partial"]
print(study.comparison.diffs["partial"])
print(partial.scenario.describe()[:600], "...")
partial.bill[["item", "basis", "quantity_m2", "rate_cny_m2", "cost_cny"]]"""),
    md("""## 4 · A variant written in Python, saved as a branch

Plans are data: the analyst derives a variant of the partial package that
also closes the west gate for good, and saves both as
branches of the estate's GeoPackage, with their edit logs and the estate's
content hash."""),
    code("""variant = Scenario(
    "partial, west gate closed",
    edits=partial.scenario.edits,
    description="partial package, and the west gate closed",
).close_gates([102])
tmp = Path(tempfile.mkdtemp())
site = estate.save(tmp / "estate.gpkg")
save_branch(site, partial.scenario)
save_branch(site, variant)
display(list_branches(site)[["name", "n_edits", "base_hash", "saved"]])
print(variant.to_toml()[-220:])
assert len(checkout(site, variant.name).buildings) == len(estate.buildings)"""),
    md("""## 5 · Sweep: FAR uplift against fund balance, on dask

The rebuild package is evaluated for FAR uplifts from 0 to 1.2, each variant
a task on a local dask cluster (two worker processes; give
`scheduler="tcp://..."` to use a real cluster). `make_plan` returns a
renovation config; the sweep runs it against the estate on the workers."""),
    code("""def make_plan(far_uplift):
    return RenovationConfig(
        package="rebuild",
        far_uplift=far_uplift,
        year=YEAR,
        indicators=("takeoff", "compliance", "sunlight"),
    )


uplifts = [round(u, 2) for u in np.linspace(0.0, 1.2, 13)]
result = sweep(estate, make_plan, {"far_uplift": uplifts}, n_workers=2)
table = result.table[
    [
        "far_uplift",
        "far_after",
        "cost_cny",
        "balance_cny",
        "compliance.newly_failing_checks",
        "sunlight.neighbours_losing_compliance",
    ]
]
table"""),
    code("""balance_m = table["balance_cny"] / 1e6
lost = table["sunlight.neighbours_losing_compliance"] > 0
breaks = table["compliance.newly_failing_checks"] > 0
break_even = float(np.interp(0.0, table["balance_cny"], table["far_uplift"]))
ok = (table["balance_cny"] >= 0) & ~lost & ~breaks

fig, ax = plt.subplots(figsize=(7.5, 4))
ax.plot(table["far_uplift"], balance_m, "o-", color="#1f77b4", label="fund balance")
ax.scatter(
    table.loc[breaks, "far_uplift"],
    balance_m[breaks],
    marker="x",
    s=80,
    color="#ff7f0e",
    zorder=3,
    label="compliance checks newly fail",
)
ax.scatter(
    table.loc[lost, "far_uplift"],
    balance_m[lost],
    s=140,
    facecolors="none",
    edgecolors="#d62728",
    label="a neighbour loses sunlight compliance",
)
ax.axhline(0, color="grey", lw=0.8)
ax.axvline(break_even, color="grey", ls="--", lw=0.8)
ax.set_xlabel("FAR uplift [-]")
ax.set_ylabel("fund balance [M CNY]")
ax.set_title("rebuild: fund balance against FAR uplift (placeholder costs)")
ax.legend(loc="upper left", fontsize=8)
plt.show()
print(f"break-even FAR uplift ~ {break_even:.2f}")
print(
    "uplifts that balance and break no rule:",
    list(table.loc[ok, "far_uplift"]) or "none",
)"""),
    md("""Which rules break, and from which uplift: the checks of each rule that
fail in a variant and did not in the estate as it is (the sweep keeps every
metric of every variant, here `compliance.failing:<rule>`)."""),
    code("""base = study.comparison.table.query("plan == 'baseline'")
base = base.set_index(["indicator", "metric"])["value"]
cols = [c for c in result.table.columns if c.startswith("compliance.failing:")]
more = pd.DataFrame(
    {
        c.split(":", 1)[1]: result.table[c]
        - base.get(("compliance", c.split(".", 1)[1]), 0.0)
        for c in cols
    }
).set_axis(result.table["far_uplift"])
more["sunlight: neighbours losing compliance"] = result.table[
    "sunlight.neighbours_losing_compliance"
].to_numpy()
more.loc[:, (more > 0).any()].astype(int)"""),
    md("""The rebuild works in a window. Below the break-even uplift it does not
pay for itself; above it, the rules start to break in the order the table
shows: taller slabs on the old footprints move the estate into a storey class
of GB 50180 Table 4.0.2 with a stricter density limit, and further up the
estate grows past the dwellings of one residential block (Table 3.0.4), the
neighbours to the north lose their sunlight and the parcel's planning FAR is
exceeded. The window moves with the sale price, the rehousing ratio and the
cost rates, which are parameters (`RenovationConfig(sale_price_cny_m2=...,
parameters={...})`), and with the layout: a scheme that redesigns it rather
than rebuilding on the old footprints is a new plan to compare with these.

The same study is written as a self-contained HTML report by
`study.to_html("renovation.html")`, and by `cim scenario renovate` and
`cim demo` on the command line."""),
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
nbf.write(nb, "notebooks/06_renovation_scenarios.ipynb")
