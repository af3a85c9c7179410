"""Scenario framework: edits, copy-on-write, TOML, branches, diff, compare, sweeps."""

from __future__ import annotations

import copy
import dataclasses
import importlib.metadata
import subprocess
import sys
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import box

import cim
from cim.cli import main
from scenarios import (
    BaselineChangedError,
    Scenario,
    ScenarioError,
    compare,
    diff,
    load_scenario,
    sweep,
)
from scenarios import indicators as ind
from scenarios.edits import EDITS, Demolish, Edit, edit_from_dict
from scenarios.store import (
    checkout,
    delete_branch,
    list_branches,
    load_branch,
    save_branch,
    twin_hash,
)

#: Origin of the conftest district (EPSG:32650).
X0, Y0 = 440_000.0, 4_428_000.0


def _full_plan() -> Scenario:
    """A plan with one edit of every built-in type."""
    n1 = [
        [X0 + 40, Y0 + 30],
        [X0 + 60, Y0 + 30],
        [X0 + 60, Y0 + 42],
        [X0 + 40, Y0 + 42],
    ]
    return (
        Scenario("full", description="every edit type")
        .demolish(["b4"])
        .add_building(
            "n1",
            footprint=n1,
            floors=8,
            use="residential",
            year_built=2030,
            attributes={"has_lift": True},
            elements=[
                {"storey": "1F", "level": 1, "kind": "floor", "area_m2": 240.0},
                {
                    "storey": "1F",
                    "level": 1,
                    "kind": "balcony",
                    "area_m2": 12.0,
                    "inside_structure": False,
                },
            ],
        )
        .replace_building("b2", floors=9, use="residential")
        .add_floors(["b1"], 2)
        .change_use(["b3"], "mixed")
        .retrofit(["b1", "b3"], u_wall_w_m2k=0.6, has_lift=True)
        .add_green("g9", kind="roof", building_id="b3", area_m2=100.0)
        .remove_greens(["g1"])
        .add_facility("f9", "elderly_care", [X0 + 10, Y0 + 20])
        .remove_facilities(["f1"])
        .close_gates([5])
        .open_gates([4])
        .set_parking(["p1"], spaces=40, surface_spaces=10)
    )


def _snapshot(twin: cim.Twin) -> dict:
    return {
        "ids": {k: id(v) for k, v in twin.layers.items()}
        | {"network": id(twin.network), "elements": id(twin.elements)},
        "layers": {k: v.copy() for k, v in twin.layers.items()},
        "elements": twin.elements.copy(),
        "network": copy.deepcopy(twin.network),
        "metadata": twin.metadata,
        "hash": twin_hash(twin),
    }


# -- copy-on-write ---------------------------------------------------------------------


def test_every_edit_type_is_covered():
    ops = {e.op for e in _full_plan().edits}
    assert ops == set(EDITS)


def test_baseline_is_never_mutated(twin, assert_graphs_equal):
    before = _snapshot(twin)
    proposed = _full_plan().apply(twin)
    # Same objects, same content, same hash.
    assert {k: id(v) for k, v in twin.layers.items()} | {
        "network": id(twin.network),
        "elements": id(twin.elements),
    } == before["ids"]
    for name, frame in before["layers"].items():
        pd.testing.assert_frame_equal(twin[name], frame)
    pd.testing.assert_frame_equal(twin.elements, before["elements"])
    assert_graphs_equal(twin.network, before["network"])
    assert twin.metadata == before["metadata"]
    assert twin_hash(twin) == before["hash"]
    # ... while the plan's twin did change, and shares what it did not touch.
    assert twin_hash(proposed) != before["hash"]
    assert proposed.site is twin.site
    assert proposed.network is not twin.network


def test_edits_and_scenarios_are_immutable():
    plan = Scenario("p").demolish(["b1"])
    longer = plan.add_floors(["b2"], 1)
    assert len(plan.edits) == 1 and len(longer.edits) == 2
    with pytest.raises(AttributeError):
        plan.name = "q"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        plan.edits[0].ids = ("b2",)  # type: ignore[misc]
    retrofit = longer.retrofit(["b1"], u_wall_w_m2k=0.5).edits[-1]
    with pytest.raises(TypeError):
        retrofit.attributes["u_wall_w_m2k"] = 1.0  # type: ignore[index]
    assert hash(retrofit) == hash(copy.deepcopy(retrofit))


# -- each edit -------------------------------------------------------------------------


def test_demolish_removes_dependents(twin):
    t = Scenario("d").demolish(["b1"]).apply(twin)
    assert "b1" not in set(t.buildings["building_id"])
    assert not len(t.surfaces)  # b1's LoD2 surfaces went with it
    assert len(t.buildings) == len(twin.buildings) - 1


def test_add_building_estimates_and_elements(twin):
    plan = _full_plan()
    t = Scenario("a", edits=plan.edits[:2]).apply(twin)
    n1 = t.buildings.set_index("building_id").loc["n1"]
    assert n1["floors"] == 8
    assert n1["height_m"] == pytest.approx(24.0)  # 8 x 3.0 m default storey
    assert n1["height_source"] == "levels"
    assert n1["households"] == int(240 * 8 / 100)  # footprint x floors / 100 m2
    assert n1["households_source"] == "estimated"
    assert bool(n1["has_lift"]) and pd.isna(
        t.buildings.set_index("building_id").loc["b1", "has_lift"]
    )
    assert n1["year_built"] == 2030
    el = t.elements
    assert list(el["element_id"]) == ["n1/1F/floor/1", "n1/1F/balcony/2"]


def test_replace_building_keeps_footprint_and_id(twin):
    t = Scenario("r").replace_building("b2", floors=9).apply(twin)
    old = twin.buildings.set_index("building_id").loc["b2"]
    new = t.buildings.set_index("building_id").loc["b2"]
    assert new["floors"] == 9 and new["use"] == old["use"]
    assert shapely.equals(new.geometry, old.geometry)
    assert len(t.buildings) == len(twin.buildings)


def test_add_floors_grows_height_and_households(twin):
    t = Scenario("f").add_floors(["b1"], 2).apply(twin)
    old = twin.buildings.set_index("building_id").loc["b1"]
    new = t.buildings.set_index("building_id").loc["b1"]
    assert new["floors"] == old["floors"] + 2
    assert new["height_m"] == pytest.approx(old["height_m"] * 8 / 6)
    assert new["households"] == round(old["households"] * 8 / 6)


def test_add_floors_uses_a_given_storey_height_column(twin):
    # Under a pitched LoD2 roof height_m is the ridge: b1 at 6 floors with a
    # 2.8 m storey given grows by 2 x 2.8 m, not by 2 x height / floors.
    b = twin.buildings.copy()
    b["storey_height_m"] = [2.8] + [float("nan")] * (len(b) - 1)
    given = twin.with_layer("buildings", b, estimate=False)
    t = Scenario("f").add_floors(["b1", "b2"], 2).apply(given)
    old = given.buildings.set_index("building_id")
    new = t.buildings.set_index("building_id")
    assert new.loc["b1", "height_m"] == pytest.approx(old.loc["b1", "height_m"] + 5.6)
    per_b2 = old.loc["b2", "height_m"] / old.loc["b2", "floors"]
    assert new.loc["b2", "height_m"] == pytest.approx(
        old.loc["b2", "height_m"] + 2 * per_b2
    )


def test_add_floors_copies_the_top_storey_elements(twin):
    el = pd.DataFrame(
        {
            "building_id": ["b1", "b1"],
            "storey": ["1F", "2F"],
            "level": [1, 2],
            "element_id": ["e1", "e2"],
            "kind": ["floor", "floor"],
            "area_m2": [300.0, 280.0],
            "elevation_m": [0.0, 3.0],
        }
    )
    detailed = twin.with_layer("elements", el)
    t = Scenario("f").add_floors(["b1"], 2, storey_height_m=3.0).apply(detailed)
    new = t.elements[t.elements["level"] > 2]
    assert list(new["element_id"]) == ["e2+3F", "e2+4F"]
    assert list(new["area_m2"]) == [280.0, 280.0]
    assert list(new["elevation_m"]) == [6.0, 9.0]


def test_add_floors_keeps_an_attic_on_top(twin):
    # Under a pitched roof the top level holds attic bands: new storeys copy
    # the top full storey (2F) and the attic moves up; copying the attic
    # would add its bands again instead of a storey.
    el = pd.DataFrame(
        {
            "building_id": ["b1"] * 5,
            "storey": ["1F", "2F", "3F", "3F", "3F"],
            "level": [1, 2, 3, 3, 3],
            "element_id": ["b1/1F", "b1/2F", "b1/3F#0", "b1/3F#1", "b1/3F#2"],
            "kind": ["floor", "floor", "attic", "attic", "attic"],
            "area_m2": [80.0, 80.0, 32.0, 24.0, 24.0],
            "elevation_m": [0.0, 3.0, 6.0, 6.0, 6.0],
            "clear_height_m": [None, None, 0.0, 1.2, 2.1],
        }
    )
    detailed = twin.with_layer("elements", el)
    t = Scenario("f").add_floors(["b1"], 1, storey_height_m=3.0).apply(detailed)
    mine = t.elements[t.elements["building_id"] == "b1"].set_index("element_id")
    assert mine.loc["b1/2F+3F", ["level", "area_m2", "elevation_m"]].tolist() == [
        3,
        80.0,
        6.0,
    ]
    attic = mine[mine["kind"] == "attic"]
    assert sorted(attic.index) == ["b1/3F#0", "b1/3F#1", "b1/3F#2"]  # not copied
    assert (attic["level"] == 4).all() and (attic["storey"] == "4F").all()
    assert (attic["elevation_m"] == 9.0).all()
    assert mine["area_m2"].sum() == el["area_m2"].sum() + 80.0


def _lod2_b1(twin, **columns):
    """The twin with b1 as a LoD2 reader gives it: 6 storeys of 3 m under a
    24 m ridge (storey_height_m), and an attic of 80 m2 (48 m2 from 1.20 m,
    24 m2 from 2.10 m) above them."""
    b = twin.buildings.copy()
    is_b1 = (b["building_id"] == "b1").to_numpy()
    values = {
        "height_m": 24.0,
        "storey_height_m": 3.0,
        "attic_area_m2": 80.0,
        "attic_area_clear120_m2": 48.0,
        "attic_area_clear210_m2": 24.0,
        **columns,
    }
    for column, value in values.items():
        if column not in b.columns:
            b[column] = float("nan")
        b.loc[is_b1, column] = value
    return twin.with_layer("buildings", b, estimate=False)


def test_add_floors_of_another_height_gives_each_storey_its_own(twin):
    # Bug: the storey_height_m column stayed 3.0, so the take-off gave the
    # new 7F a structural height of 3.0 m (not 4.0 m) and put the attic at
    # 7 x 3 = 21 m (not 6 x 3 + 4 = 22 m). One storey height per building
    # cannot hold 3 m and 4 m storeys: b1's storeys are written out.
    from cim.takeoff import twin_elements, twin_takeoff

    lod2 = _lod2_b1(twin)
    t = Scenario("f").add_floors(["b1"], 1, storey_height_m=4.0).apply(lod2)
    el = twin_elements(t)
    mine = el[el["building_id"] == "b1"]
    floors = mine[mine["kind"] == "floor"].sort_values("level")
    assert floors["level"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert floors["structural_height_m"].tolist() == pytest.approx([3.0] * 6 + [4.0])
    assert floors["elevation_m"].tolist() == pytest.approx([0, 3, 6, 9, 12, 15, 18])
    attic = mine[mine["kind"] == "attic"]
    assert len(attic) == 3 and (attic["level"] == 8).all()
    assert attic["elevation_m"].tolist() == pytest.approx([22.0] * 3)
    assert attic["area_m2"].tolist() == pytest.approx([32.0, 24.0, 24.0])
    new = t.buildings.set_index("building_id").loc["b1"]
    assert new["height_m"] == pytest.approx(28.0)
    assert new["floors"] == 7
    assert new["storey_height_m"] == pytest.approx((6 * 3.0 + 4.0) / 7)
    # The written-out storeys keep the provenance the simple model gave.
    before = twin_elements(lod2)
    source = before.loc[before["building_id"] == "b1", "storey_height_source"]
    assert set(mine["storey_height_source"]) == set(source)
    footprint = lod2.buildings.set_index("building_id").geometry["b1"].area
    gfa = twin_takeoff(t).by_building["gross_floor_area_m2"]
    base = twin_takeoff(lod2).by_building["gross_floor_area_m2"]
    assert gfa["b1"] == pytest.approx(base["b1"] + footprint)
    assert gfa.drop("b1").equals(base.drop("b1"))


def test_add_floors_without_a_height_repeats_the_top_storey(twin):
    # After a 4.0 m storey on top, a plain AddFloors copies that storey: the
    # new 8F stands at 6 x 3 + 4 = 22 m, is 4.0 m high, the attic moves to
    # 26 m and the height grows by 4 m (not by the building's mean 3.14 m).
    from cim.takeoff import twin_elements

    lod2 = _lod2_b1(twin)
    once = Scenario("f").add_floors(["b1"], 1, storey_height_m=4.0).apply(lod2)
    t = Scenario("g").add_floors(["b1"], 1).apply(once)
    el = twin_elements(t)
    mine = el[el["building_id"] == "b1"]
    floors = mine[mine["kind"] == "floor"].sort_values("level")
    assert floors["structural_height_m"].tolist() == pytest.approx(
        [3.0] * 6 + [4.0, 4.0]
    )
    assert floors["elevation_m"].tolist() == pytest.approx([0, 3, 6, 9, 12, 15, 18, 22])
    attic = mine[mine["kind"] == "attic"]
    assert (attic["level"] == 9).all()
    assert attic["elevation_m"].tolist() == pytest.approx([26.0] * 3)
    h0 = once.buildings.set_index("building_id").loc["b1", "height_m"]
    assert t.buildings.set_index("building_id").loc["b1", "height_m"] == pytest.approx(
        h0 + 4.0
    )


def test_add_floors_of_the_same_height_stays_simple(twin):
    from cim.takeoff import twin_elements

    lod2 = _lod2_b1(twin)
    for plan in (
        Scenario("f").add_floors(["b1"], 1, storey_height_m=3.0),
        Scenario("f").add_floors(["b1"], 1),
    ):
        t = plan.apply(lod2)
        assert len(t.elements) == 0
        assert t.buildings.set_index("building_id").loc["b1", "storey_height_m"] == 3.0
        el = twin_elements(t)
        mine = el[el["building_id"] == "b1"]
        assert mine["structural_height_m"].dropna().tolist() == [3.0] * 7
        attic = mine[mine["kind"] == "attic"]
        assert attic["elevation_m"].tolist() == [21.0] * 3


def test_add_floors_of_another_height_without_a_height_column(twin):
    # b3: 30 m, 10 storeys estimated from the height (3 m each); two of 3.5 m.
    from cim.takeoff import twin_elements

    t = Scenario("f").add_floors(["b3"], 2, storey_height_m=3.5).apply(twin)
    new = t.buildings.set_index("building_id").loc["b3"]
    assert new["height_m"] == pytest.approx(37.0)
    assert "storey_height_m" not in t.buildings.columns
    mine = t.elements[t.elements["building_id"] == "b3"].sort_values("level")
    assert mine["level"].tolist() == list(range(1, 13))
    assert mine["structural_height_m"].tolist() == pytest.approx([3.0] * 10 + [3.5] * 2)
    assert mine["elevation_m"].tolist() == pytest.approx(
        [3.0 * k for k in range(11)] + [33.5]
    )
    before = twin_elements(twin)
    assert set(mine["storey_height_source"]) == set(
        before.loc[before["building_id"] == "b3", "storey_height_source"]
    )
    assert set(t.elements["building_id"]) == {"b3"}  # b1 ... untouched


def test_add_floors_of_a_given_height_on_a_detailed_building(twin):
    # New storeys of 4 m stand on the top storey's own 3 m, not on 4 m.
    el = pd.DataFrame(
        {
            "building_id": ["b1", "b1"],
            "storey": ["1F", "2F"],
            "level": [1, 2],
            "element_id": ["e1", "e2"],
            "kind": ["floor", "floor"],
            "area_m2": [300.0, 280.0],
            "elevation_m": [0.0, 3.0],
            "structural_height_m": [3.0, 3.0],
        }
    )
    detailed = twin.with_layer("elements", el)
    t = Scenario("f").add_floors(["b1"], 2, storey_height_m=4.0).apply(detailed)
    new = t.elements[t.elements["level"] > 2]
    assert list(new["element_id"]) == ["e2+3F", "e2+4F"]
    assert list(new["elevation_m"]) == [6.0, 10.0]
    assert list(new["structural_height_m"]) == [4.0, 4.0]


def test_estimate_lookups_are_re_exported():
    import cim.estimate
    import scenarios.edits

    assert scenarios.edits.storey_height is cim.estimate.storey_height
    assert scenarios.edits.dwelling_gfa is cim.estimate.dwelling_gfa


def test_change_use_reestimates_households(twin):
    t = Scenario("u").change_use(["b1"], "office").apply(twin)
    b1 = t.buildings.set_index("building_id").loc["b1"]
    assert b1["use"] == "office" and b1["households"] == 0
    assert b1["households_source"] == "none"
    t2 = Scenario("u").change_use(["b2"], "residential", households=12).apply(twin)
    assert t2.buildings.set_index("building_id").loc["b2", "households"] == 12


def test_retrofit_sets_typed_columns(twin):
    t = (
        Scenario("r")
        .retrofit(["b1"], u_wall_w_m2k=0.6, has_lift=True, note="x")
        .apply(twin)
    )
    b = t.buildings
    assert str(b["u_wall_w_m2k"].dtype) == "float64"
    assert str(b["has_lift"].dtype) == "boolean"
    assert b.set_index("building_id").loc["b1", "note"] == "x"
    assert b["u_wall_w_m2k"].isna().sum() == len(b) - 1


def test_greens_roof_and_vertical(twin):
    t = (
        Scenario("g")
        .add_green("r1", kind="roof", building_id="b3", soil_depth_m=0.6)
        .add_green("v1", kind="vertical", building_id="b4", area_m2=80.0)
        .remove_greens(["g1", "g2"])
        .apply(twin)
    )
    g = t.greens.set_index("green_id")
    b3 = twin.buildings.set_index("building_id").loc["b3"].geometry
    assert shapely.equals(g.loc["r1"].geometry, b3)
    assert g.loc["v1", "area_m2"] == 80.0 and g.loc["v1", "building_id"] == "b4"
    assert {"g1", "g2"}.isdisjoint(g.index)
    # Greening goes with its building.
    t2 = Scenario("d").demolish(["b4"]).apply(t)
    assert "v1" not in set(t2.greens["green_id"])


def test_facilities_gates_and_parking(twin):
    t = _full_plan().apply(twin)
    assert "f9" in set(t.facilities["facility_id"])
    assert "f1" not in set(t.facilities["facility_id"])
    assert t.network.nodes[5]["gate_closed"] is True
    assert t.network.nodes[5]["barrier"] == "gate"
    assert t.network.nodes[4]["gate_closed"] is False
    assert t.network.nodes[1]["gate_closed"] is None
    p = t.parcels.set_index("parcel_id")
    assert p.loc["p1", "parking_spaces"] == 40
    assert p.loc["p1", "surface_parking_spaces"] == 10
    t2 = Scenario("c").set_parking(["p1"], change=-15).apply(t)
    assert t2.parcels.set_index("parcel_id").loc["p1", "parking_spaces"] == 25


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "match"),
    [
        (lambda s: s.demolish(["b9"]), r"no building 'b9' in layer 'buildings'"),
        (lambda s: s.remove_greens(["g7"]), r"no green 'g7' in layer 'greens'"),
        (lambda s: s.add_floors(["b1", "bx"], 1), r"no building 'bx'"),
        (
            lambda s: s.add_building(
                "far", footprint=box(X0 + 500, Y0, X0 + 520, Y0 + 10), floors=3
            ),
            r"outside the site .*200.0 m2 of its 200.0 m2",
        ),
        (
            lambda s: s.add_facility("f0", "shop", [X0 + 900, Y0]),
            r"facility 'f0' lies outside the site",
        ),
        (
            lambda s: s.add_building(
                "n", footprint=box(X0 + 5, Y0 + 2, X0 + 25, Y0 + 10), floors=3
            ),
            r"overlaps building 'b1'",
        ),
        (
            lambda s: s.add_building(
                "b1", footprint=box(X0, Y0, X0 + 1, Y0 + 1), floors=1
            ),
            r"building 'b1' already exists .* replace_building",
        ),
        (lambda s: s.close_gates([99]), r"no node 99 in layer 'network'"),
        (
            lambda s: s.set_parking(["f3"], spaces=5, layer="facilities"),
            r"facility 'f3' is a 'pharmacy', not parking",
        ),
        (
            lambda s: s.set_parking(["p2"], change=5),
            r"parcel 'p2' is unknown; give spaces",
        ),
        (
            lambda s: s.add_green("r", kind="roof", building_id="b9"),
            r"no building 'b9'",
        ),
    ],
    ids=[
        "demolish-unknown",
        "green-unknown",
        "floors-unknown",
        "outside-site",
        "facility-outside",
        "overlap",
        "duplicate-id",
        "gate-unknown",
        "parking-not-parking",
        "parking-unknown-supply",
        "roof-on-unknown",
    ],
)
def test_edit_errors_name_id_layer_and_fix(twin, plan, match):
    with pytest.raises(ScenarioError, match=match) as info:
        plan(Scenario("bad")).apply(twin)
    # The scenario and the edit number lead the message.
    assert str(info.value).startswith("scenario 'bad', edit ")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            {"op": "demolsh", "ids": ["b1"]},
            r"invalid op 'demolsh' \(did you mean 'demolish'\?\); "
            r"expected one of add_building, add_facility",
        ),
        ({"ids": ["b1"]}, r"lacks its 'op'"),
        (
            {"op": "demolish", "idz": ["b1"]},
            r"unknown field 'idz' \(did you mean 'ids'\?\)",
        ),
        ({"op": "add_building", "id": "x", "floors": 3}, r"needs footprint"),
        (
            {"op": "change_use", "ids": ["b1"], "use": "housing"},
            r"invalid use 'housing'",
        ),
        (
            {"op": "retrofit", "ids": ["b1"], "attributes": {"floors": 3}},
            r"use add_floors",
        ),
        ({"op": "add_floors", "ids": ["b1"], "floors": 1.5}, r"whole number"),
        ({"op": "demolish", "ids": []}, r"empty"),
        (
            {
                "op": "add_building",
                "id": "x",
                "floors": 3,
                "footprint": "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",
            },
            r"not a valid polygon",
        ),
        ({"op": "set_parking", "ids": ["p1"]}, r"exactly one of spaces"),
    ],
)
def test_edit_data_errors(data, match):
    with pytest.raises(ScenarioError, match=match):
        edit_from_dict(data)


def test_toml_errors_name_the_file_and_edit(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(
        'name = "p"\n[[edits]]\nop = "demolish"\nids = ["b1"]\n'
        '[[edits]]\nop = "nope"\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"plan.toml: edit 2 \(nope\): invalid op"):
        load_scenario(path)
    path.write_text('name = "p"\nedits = 3\nfoo = 1\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"unknown key 'foo'"):
        load_scenario(path)
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"not valid TOML"):
        load_scenario(path)


# -- TOML and JSON ---------------------------------------------------------------------


def test_toml_round_trip(twin, tmp_path):
    plan = _full_plan()
    text = plan.to_toml()
    back = Scenario.from_toml(text)
    assert back == plan
    assert Scenario.from_json(plan.to_json()) == plan
    assert twin_hash(back.apply(twin)) == twin_hash(plan.apply(twin))
    path = plan.save(tmp_path / "plan.toml")
    assert load_scenario(path) == plan
    assert load_scenario(plan.save(tmp_path / "plan.json")) == plan
    # Planners' form: readable keys, WKT geometry.
    assert '[[edits]]\nop = "demolish"\nids = ["b4"]' in text
    assert 'footprint = "POLYGON ((' in text


def test_a_new_edit_type_plugs_in(twin):
    @dataclass(frozen=True)
    class Rename(Edit):
        op: ClassVar[str] = "test_rename"
        id: str
        name: str

        def validate(self, twin):
            Demolish(ids=(self.id,)).validate(twin)

        def _apply(self, twin):
            b = twin.buildings.copy()
            b.loc[b["building_id"] == self.id, "name"] = self.name
            return twin.with_layer("buildings", b, estimate=False)

    try:
        plan = Scenario.from_toml(
            'name = "p"\n[[edits]]\nop = "test_rename"\nid = "b1"\nname = "新楼"\n'
        )
        t = plan.apply(twin)
        assert t.buildings.set_index("building_id").loc["b1", "name"] == "新楼"
        assert Scenario.from_toml(plan.to_toml()) == plan
    finally:
        EDITS.pop("test_rename")


# -- branches --------------------------------------------------------------------------


def test_branch_save_load_checkout(twin, tmp_path):
    path = twin.save(tmp_path / "site.gpkg")
    layers_before = pyogrio.list_layers(path)[:, 0].tolist()
    plan = _full_plan()
    saved = save_branch(path, plan)
    assert saved.base_hash == twin_hash(twin)
    assert list(list_branches(path)["name"]) == ["full"]
    assert load_branch(path, "full") == saved
    out = checkout(path, "full")
    assert twin_hash(out) == twin_hash(plan.apply(twin))
    # The twin itself is untouched and still reads without a warning.
    assert twin_hash(cim.read(path)) == twin_hash(twin)
    assert pyogrio.list_layers(path)[:, 0].tolist() == [*layers_before, "cim_scenarios"]
    # Names are unique unless overwritten; branches can be removed.
    with pytest.raises(ScenarioError, match="already has a branch 'full'"):
        save_branch(path, plan)
    save_branch(path, plan.demolish(["b3"]), overwrite=True)
    save_branch(path, Scenario("other").demolish(["b1"]))
    assert list_branches(path)["n_edits"].tolist() == [len(plan.edits) + 1, 1]
    delete_branch(path, "other")
    assert list(list_branches(path)["name"]) == ["full"]
    with pytest.raises(ScenarioError, match=r"no branch 'nope' \(branches: 'full'\)"):
        checkout(path, "nope")


def test_branch_save_is_atomic_and_validated(twin, tmp_path):
    path = twin.save(tmp_path / "site.gpkg")
    save_branch(path, Scenario("ok").demolish(["b1"]))
    content = path.read_bytes()
    with pytest.raises(ScenarioError, match="no building 'b9'"):
        save_branch(path, Scenario("bad").demolish(["b9"]))
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.gpkg"]  # no temp left


def test_checkout_refuses_a_changed_baseline(twin, tmp_path):
    path = twin.save(tmp_path / "site.gpkg")
    save_branch(path, Scenario("plan").demolish(["b1"]))
    # The baseline is edited in place by someone else (here: another twin
    # written over it, the branch table carried over).
    table = pyogrio.read_dataframe(path, layer="cim_scenarios", read_geometry=False)
    changed = Scenario("x").add_floors(["b3"], 1).apply(twin)
    changed.save(path)
    pyogrio.write_dataframe(table, path, layer="cim_scenarios", driver="GPKG")
    with pytest.raises(BaselineChangedError, match="baseline changed since"):
        checkout(path, "plan")
    pinned = load_branch(path, "plan")
    with pytest.raises(BaselineChangedError, match="was written for baseline"):
        pinned.apply(changed)
    assert len(pinned.apply(changed, check_base=False).buildings) == 3


def test_twin_hash_survives_a_round_trip(twin, tmp_path):
    back = cim.read(twin.save(tmp_path / "t.gpkg"))
    assert twin_hash(back) == twin_hash(twin)
    b = twin.buildings.copy()
    b.loc[0, "name"] = "changed"
    assert twin_hash(twin.with_layer("buildings", b, estimate=False)) != twin_hash(twin)


# -- diff ------------------------------------------------------------------------------


def test_diff_lists_added_removed_changed_columns(twin):
    d = diff(twin, _full_plan().apply(twin))
    f = d.features.set_index(["layer", "id"])
    assert f.loc[("buildings", "b4"), "change"] == "removed"
    assert f.loc[("buildings", "n1"), "change"] == "added"
    assert f.loc[("buildings", "b1"), "columns"] == (
        "height_m, floors, households, has_lift, u_wall_w_m2k"
    )
    assert f.loc[("buildings", "b2"), "change"] == "changed"
    assert "floors" in f.loc[("buildings", "b2"), "columns"]
    assert f.loc[("network_nodes", "5"), "columns"] == "barrier, gate_closed"
    assert f.loc[("network_nodes", "4"), "columns"] == "gate_closed"
    assert f.loc[("parcels", "p1"), "columns"] == (
        "parking_spaces, surface_parking_spaces"
    )
    assert f.loc[("elements", "n1/1F/balcony/2"), "change"] == "added"
    summary = d.summary()
    assert summary.loc["buildings"].tolist() == [1, 1, 3]  # added, removed, changed
    assert summary.loc["greens"].tolist() == [1, 1, 0]
    assert "network_edges" not in summary.index  # edges untouched
    assert d.changed_columns("buildings")["floors"] == 2  # b1 raised, b2 replaced
    assert len(diff(twin, twin)) == 0


# -- indicators and compare ------------------------------------------------------------


def test_compare_table_and_deltas(twin):
    a = Scenario("A").add_floors(["b1"], 2)
    b = Scenario("B").demolish(["b4"])
    cmp = compare(twin, a, b, ("C", twin), indicators=["takeoff"])
    t = cmp.table
    assert list(t.columns) == [
        "plan",
        "indicator",
        "metric",
        "unit",
        "value",
        "baseline",
        "delta",
        "delta_pct",
    ]
    assert list(cmp.twins) == ["baseline", "A", "B", "C"]
    wide = cmp.wide("delta")
    foot = twin.buildings.set_index("building_id").loc["b1"].geometry.area
    key = ("takeoff", "gross_floor_area_m2", "m2")
    assert wide.loc[key, "A"] == pytest.approx(2 * foot)
    b4 = twin.buildings.set_index("building_id").loc["b4"]
    assert wide.loc[key, "B"] == pytest.approx(-b4.geometry.area * b4["floors"])
    assert (wide["baseline"] == 0).all() and (wide["C"] == 0).all()
    site = twin.site_area_m2()
    assert wide.loc[("takeoff", "site_far", "-"), "A"] == pytest.approx(2 * foot / site)
    with pytest.raises(ScenarioError, match="used twice"):
        compare(twin, a, a)


def test_a_new_indicator_module_plugs_in(twin):
    @ind.register_indicator("test_green", description="green area")
    def green(t, *, factor=1.0):
        return {"green_area_m2": factor * float(t.greens.geometry.area.sum())}

    try:
        cmp = compare(
            twin,
            Scenario("g").remove_greens(["g1"]),
            indicators=["takeoff", "test_green"],
            options={"test_green": {"factor": 2.0}},
        )
        row = cmp.table.query("indicator == 'test_green' and plan == 'g'").iloc[0]
        assert row["unit"] == "m2"
        g1 = twin.greens.set_index("green_id").loc["g1"].geometry.area
        assert row["delta"] == pytest.approx(-2 * g1)
        assert "test_green" in ind.available_indicators()
        with pytest.raises(ValueError, match="already registered"):
            ind.register_indicator("test_green", green)
    finally:
        ind.unregister_indicator("test_green")


def test_indicator_modules_from_entry_points(twin, monkeypatch):
    ep = importlib.metadata.EntryPoint(
        name="test_ep_takeoff",
        value="scenarios.indicators:takeoff_indicator",
        group=ind.ENTRY_POINT_GROUP,
    )
    broken = importlib.metadata.EntryPoint(
        name="test_ep_broken", value="no_such_module_xyz:f", group=ind.ENTRY_POINT_GROUP
    )

    def fake(*, group):
        return [ep, broken] if group == ind.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    monkeypatch.setattr(ind, "_ENTRY_POINTS_LOADED", False)
    try:
        out = ind.evaluate_indicators(twin, indicators=["test_ep_takeoff"])
        assert "site_far" in set(out["metric"])
        assert "test_ep_broken" not in ind.available_indicators(include_all=True)
    finally:
        ind.unregister_indicator("test_ep_takeoff")


def test_unavailable_modules_are_skipped_with_the_reason(twin):
    ind.register_indicator(
        "test_missing", lambda t: {}, requires=("no_such_engine_xyz",), default=False
    )
    try:
        cmp = compare(twin, Scenario("p"), indicators=["takeoff", "test_missing"])
        assert "no_such_engine_xyz" in cmp.skipped["test_missing"]
        with pytest.raises(cim.CIMError, match="cannot run here"):
            ind.evaluate_indicators(twin, indicators=["test_missing"])
        with pytest.raises(KeyError, match=r"no indicator module 'takeof'.*'takeoff'"):
            ind.evaluate_indicators(twin, indicators=["takeof"])
    finally:
        ind.unregister_indicator("test_missing")


def test_gate_edits_reach_the_travel_circles(twin):
    pytest.importorskip("cim.network.circles")
    plan = Scenario("closed").close_gates([5])
    closed = plan.apply(twin)
    assert ind.closed_gates(closed) == {5: False}
    assert ind.closed_gates(Scenario("o").open_gates([5]).apply(closed)) == {5: True}
    out = ind.evaluate_indicators(closed, indicators=["circles"])
    assert "mean_share" in set(out["metric"])


def test_html_report_is_self_contained_and_escaped(twin, tmp_path):
    pytest.importorskip("matplotlib")
    evil = Scenario("<script>alert(1)</script>", description='"quoted" & <b>')
    cmp = compare(twin, evil.demolish(["b4"]), indicators=["takeoff"])
    text = cmp.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == text
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text
    assert "<link" not in text


def test_map_figure_has_a_panel_per_plan(twin):
    pytest.importorskip("matplotlib")
    cmp = compare(
        twin, _full_plan(), Scenario("B").add_floors(["b3"], 1), indicators=["takeoff"]
    )
    fig = cmp.map_figure()
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["baseline", "full", "B"]
    assert cmp.map_png()[:8] == b"\x89PNG\r\n\x1a\n"


# -- sweeps ----------------------------------------------------------------------------


def _raise_and_green(floors: int, roof: bool) -> Scenario:
    plan = Scenario(f"+{floors}").add_floors(["b1", "b3"], floors)
    return plan.add_green("r", kind="roof", building_id="b3") if roof else plan


def test_sweep_on_dask_equals_the_serial_run(twin):
    cloudpickle = pytest.importorskip("cloudpickle")
    distributed = pytest.importorskip("distributed")
    grid = {"floors": [1, 2, 3], "roof": [False, True]}
    serial = sweep(
        twin, _raise_and_green, grid, indicators=["takeoff"], scheduler="serial"
    )
    assert serial.table[["floors", "roof"]].values.tolist() == [
        [1, False],
        [1, True],
        [2, False],
        [2, True],
        [3, False],
        [3, True],
    ]
    assert serial.table["takeoff.buildings"].tolist() == [4.0] * 6
    # Workers import this module by value (tests/ is not on their path).
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    try:
        parallel = sweep(
            twin, _raise_and_green, grid, indicators=["takeoff"], n_workers=2
        )
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    assert parallel.scheduler == "local"
    pd.testing.assert_frame_equal(parallel.table, serial.table)
    with pytest.raises(ValueError, match="No global client"):
        distributed.get_client()  # the cluster it started is closed
    long = serial.long()
    assert set(long.columns) == {"floors", "roof", "metric", "value"}


def test_sweep_errors_name_the_variant(twin):
    def bad(n):
        return Scenario("x").demolish([f"b{n}"])

    with pytest.raises(ScenarioError) as info:
        sweep(twin, bad, {"n": [1, 9]}, indicators=["takeoff"], scheduler="serial")
    assert "no building 'b9'" in str(info.value)
    assert "in sweep variant {'n': 9}" in info.value.__notes__
    with pytest.raises(ValueError, match="grid values must be lists"):
        sweep(twin, bad, {"n": 1}, scheduler="serial")


# -- packaging and the command line ----------------------------------------------------


def test_import_scenarios_is_light():
    code = (
        "import sys, scenarios;"
        "from scenarios import Scenario, compare, sweep, diff, save_branch;"
        "import scenarios.renovation;"
        "mods = ('dask', 'distributed', 'matplotlib', 'pyvista');"
        "heavy = [m for m in mods if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_cli_scenario_run_branches_checkout(twin, tmp_path, capsys):
    site = twin.save(tmp_path / "site.gpkg")
    plan = _full_plan().save(tmp_path / "plan.toml")
    other = Scenario("B").add_floors(["b3"], 2).save(tmp_path / "b.toml")
    html = tmp_path / "compare.html"
    code = main(
        [
            "-q",
            "scenario",
            "run",
            str(plan),
            str(other),
            "--twin",
            str(site),
            "--html",
            str(html),
            "--csv",
            str(tmp_path / "t.csv"),
            "--indicators",
            "takeoff",
            "--save-branch",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "gross_floor_area_m2" in out and "buildings: 1 added, 1 removed" in out
    assert html.stat().st_size > 0
    assert set(pd.read_csv(tmp_path / "t.csv")["plan"]) == {"baseline", "full", "B"}
    assert main(["scenario", "branches", str(site)]) == 0
    assert "full: 13 edits" in capsys.readouterr().out
    assert (
        main(
            [
                "-q",
                "scenario",
                "checkout",
                str(site),
                "B",
                "-o",
                str(tmp_path / "b.gpkg"),
            ]
        )
        == 0
    )
    assert (
        cim.read(tmp_path / "b.gpkg").buildings["floors"].sum()
        > twin.buildings["floors"].sum()
    )
    # Bad input: one line, exit 2, nothing written over the baseline.
    content = site.read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\n[[edits]]\nop = "demolish"\nids = ["zz"]\n', encoding="utf-8"
    )
    assert (
        main(["-q", "scenario", "run", str(bad), "--twin", str(site), "--save-branch"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no building 'zz' in layer 'buildings'" in err
    assert main(["-q", "scenario", "checkout", str(site), "B", "-o", str(site)]) == 2
    assert "refusing to overwrite the baseline" in capsys.readouterr().err
    assert site.read_bytes() == content


def test_saving_the_twin_again_keeps_its_branches(tmp_path):
    import cim
    from scenarios.store import list_branches, save_branch

    twin = cim.datasets.load("beijing_haidian_cau")
    path = twin.save(tmp_path / "site.gpkg")
    bid = twin.buildings["building_id"].iloc[0]
    from scenarios import Scenario

    save_branch(path, Scenario("plan A").demolish([bid]))
    before = list_branches(path)
    assert len(before) == 1
    cim.read(path).save(path)  # a planner re-saves the twin
    assert len(list_branches(path)) == 1


# -- edit formats and messages, pinned ------------------------------------------------


def test_edit_fields_are_the_toml_keys():
    # The fields of each edit type, in order, are the keys of its [[edits]]
    # table and the arguments of its constructor.
    building = [
        "id",
        "footprint",
        "floors",
        "use",
        "height_m",
        "storey_height_m",
        "households",
        "households_source",
        "year_built",
        "structure",
        "name",
        "attributes",
        "elements",
    ]
    assert {op: [f.name for f in dataclasses.fields(c)] for op, c in EDITS.items()} == {
        "demolish": ["ids"],
        "add_building": building,
        "replace_building": [*building, "new_id"],
        "add_floors": ["ids", "floors", "storey_height_m"],
        "change_use": ["ids", "use", "households"],
        "retrofit": ["ids", "attributes"],
        "add_green": [
            "id",
            "kind",
            "geometry",
            "building_id",
            "area_m2",
            "soil_depth_m",
            "name",
        ],
        "remove_greens": ["ids"],
        "add_facility": ["id", "category", "location", "name", "attributes"],
        "remove_facilities": ["ids"],
        "close_gates": ["nodes"],
        "open_gates": ["nodes"],
        "set_parking": ["ids", "spaces", "change", "surface_spaces", "layer"],
    }
    assert repr(edit_from_dict({"op": "remove_facilities", "ids": "f1"})) == (
        "RemoveFacilities(ids=('f1',))"
    )
    assert edit_from_dict({"op": "add_floors", "ids": ["b1"]}).to_dict() == {
        "op": "add_floors",
        "ids": ["b1"],
    }


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            lambda s: s.remove_facilities(["f7"]),
            "(remove_facilities): no facility 'f7' in layer 'facilities'; the layer "
            "has 5 features, e.g. 'f1', 'f2', 'f3'",
        ),
        (
            lambda s: s.remove_greens(["g11"]),
            "(remove_greens): no green 'g11' in layer 'greens' (did you mean "
            "'g1'?); the layer has 4 features, e.g. 'g1', 'g2', 'g3'",
        ),
        (
            lambda s: s.demolish(["b11", "b9"]),
            "(demolish): no building 'b11', 'b9' in layer 'buildings' (did you "
            "mean 'b1'?); the layer has 4 features, e.g. 'b1', 'b2', 'b3'",
        ),
        (
            lambda s: s.retrofit(["bz"], has_lift=True),
            "(retrofit): no building 'bz' in layer 'buildings'; the layer has 4 "
            "features, e.g. 'b1', 'b2', 'b3'",
        ),
        (
            lambda s: s.change_use(["bq"], "office"),
            "(change_use): no building 'bq' in layer 'buildings'; the layer has 4 "
            "features, e.g. 'b1', 'b2', 'b3'",
        ),
        (
            lambda s: s.set_parking(["p1"], spaces=3).set_parking(["p1"], change=-5),
            "edit 2 of 2 (set_parking): change -5 would leave parcel 'p1' with "
            "fewer than 0 spaces",
        ),
    ],
)
def test_unknown_ids_are_named_with_close_matches(twin, plan, message):
    with pytest.raises(ScenarioError) as info:
        plan(Scenario("bad")).apply(twin)
    assert str(info.value).endswith(message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"op": "change_use", "ids": ["b1"], "use": "residental"},
            "invalid use 'residental' (did you mean 'residential'?); expected one "
            "of residential, commercial, office, mixed, public, education, health, "
            "elderly_care, culture_sports, industrial, ancillary, religious, unknown",
        ),
        (
            {"op": "remove_green", "ids": ["g1"]},
            "invalid op 'remove_green' (did you mean 'remove_greens'?); expected "
            "one of add_building, add_facility, add_floors, add_green, change_use, "
            "close_gates, demolish, open_gates, remove_facilities, remove_greens, "
            "replace_building, retrofit, set_parking",
        ),
        (
            {"op": "add_floors", "ids": ["b1"], "floor": 2},
            "unknown field 'floor' (did you mean 'floors'?); add_floors takes ids, "
            "floors, storey_height_m",
        ),
        (
            {"op": "retrofit", "ids": ["b1"]},
            "missing field 'attributes'; retrofit needs attributes",
        ),
        (
            {"op": "set_parking", "ids": ["p1"], "spaces": 3, "layer": "parcel"},
            "invalid layer 'parcel' (did you mean 'parcels'?); expected one of "
            "parcels, buildings, facilities",
        ),
    ],
)
def test_edit_data_errors_suggest_close_names(data, message):
    with pytest.raises(ScenarioError) as info:
        edit_from_dict(data)
    assert str(info.value).endswith(message)


def test_set_parking_counts_are_nullable_integers(twin):
    # Ground-level spaces alone: no total is made up.
    t = Scenario("s").set_parking(["p2"], surface_spaces=3).apply(twin)
    p = t.parcels.set_index("parcel_id")
    pd.testing.assert_series_equal(
        t.parcels["parking_spaces"], twin.parcels["parking_spaces"]
    )
    assert str(p["surface_parking_spaces"].dtype) == "Int64"
    assert p.loc["p2", "surface_parking_spaces"] == 3
    assert pd.isna(p.loc["p1", "surface_parking_spaces"])
    # Garages in buildings, then a change of their count.
    t2 = (
        Scenario("g")
        .set_parking(["b1", "b2"], spaces=12, layer="buildings")
        .set_parking(["b2"], change=-2, layer="buildings")
        .apply(twin)
    )
    b = t2.buildings.set_index("building_id")
    assert str(b["parking_spaces"].dtype) == "Int64"
    assert b["parking_spaces"].tolist()[:2] == [12, 10]
    assert b["parking_spaces"].isna().tolist() == [False, False, True, True]


def test_comparison_figure_of_chinese_plans_warns_once_without_a_cjk_font(
    twin, monkeypatch
):
    # Without a CJK font the plans side by side give one FontWarning, not one
    # matplotlib warning per character of the plans' names.
    import warnings

    pytest.importorskip("matplotlib")
    from cim.errors import FontWarning
    from cim.viz import _fonts

    plan = Scenario("加建方案").add_floors(["b3"], 1)
    cmp = compare(twin, plan, indicators=["takeoff"])
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(_fonts, "_said", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = cmp.map_png(dpi=30)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    font = [w for w in caught if issubclass(w.category, FontWarning)]
    assert len(font) == 1
    assert "加建方案" in str(font[0].message)
    assert [str(w.message) for w in caught if w not in font] == []
