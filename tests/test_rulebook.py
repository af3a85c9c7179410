"""Rulebooks: the TOML format, extends chains, overrides and error messages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from cim.errors import CIMError
from cim.rules import (
    AreaRule,
    Condition,
    Rule,
    RulebookError,
    ThresholdTable,
    available_rulebooks,
    compare,
    load_rulebook,
    override,
)

HEAD = """\
id = "{id}"
title = "test book"
jurisdiction = "CN-TEST"
version = "1"
"""

FLOOR_RULE = """
[[area_rules]]
id = "{id}"
kinds = ["floor"]
factor = {factor}
clause = "test §1"
verified = true
"""


def write(tmp_path: Path, name: str, body: str, *, book_id: str | None = None) -> Path:
    path = tmp_path / name
    head = HEAD.format(id=book_id or Path(name).stem)
    path.write_text(head + body, encoding="utf-8")
    return path


def error(path: Path | str) -> RulebookError:
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    return info.value


# --- bundled books -----------------------------------------------------------


def test_bundled_rulebooks():
    assert {"gbt50353-2013", "zhejiang-future-community"} <= set(available_rulebooks())
    gb = load_rulebook("gbt50353-2013")
    assert gb.chain == ("gbt50353-2013",)
    assert gb.jurisdiction == "CN"
    assert str(gb.effective) == "2014-07-01"
    assert gb.rules == ()
    # Every national value was read in the transcribed text.
    assert all(r.verified for r in gb.area_rules)
    assert all(r.clause.startswith("GB/T 50353-2013 §3.0.") for r in gb.area_rules)
    assert all(r.basis == "gfa" for r in gb.area_rules)


def test_zhejiang_overlay_is_far_only_and_unverified():
    zj = load_rulebook("zhejiang-future-community")
    assert zj.chain == ("zhejiang-future-community", "gb50180-2018", "gbt50353-2013")
    assert zj.extends == ("gb50180-2018",)
    assert zj.effective is None
    own = [r for r in zj.area_rules if r.rulebook == zj.id]
    assert {k for r in own for k in r.kinds} == {
        "balcony",
        "bay_window",
        "stilt_floor",
        "disaster_passage",
        "public_open_space",
    }
    for r in own:
        assert (r.factor, r.basis, r.verified) == (0.0, "far", False)
        assert "[GAP]" in r.clause and "project brief" in r.clause
    # The overlay's rules come first for FAR and not at all for gross area.
    far = zj.area_rules_for("far")
    assert [r.rulebook for r in far[: len(own)]] == [zj.id] * len(own)
    assert all(r.rulebook == "gbt50353-2013" for r in zj.area_rules_for("gfa"))


def test_rulebook_by_path_and_pathlike(tmp_path):
    path = write(tmp_path, "mine.toml", FLOOR_RULE.format(id="f", factor=1))
    assert load_rulebook(str(path)).id == "mine"
    assert load_rulebook(path).source_file == path.resolve()


def test_to_frame():
    zj = load_rulebook("zhejiang-future-community")
    frame = zj.to_frame()
    assert list(frame["id"]) == [r.id for r in zj.area_rules]
    assert {"conditions", "factor", "basis", "clause", "verified", "rulebook"} <= set(
        frame.columns
    )
    half = frame.set_index("id").loc["gbt50353-3.0.3-half", "conditions"]
    assert half == "clear_height_m >= 1.2 and clear_height_m < 2.1"
    rules = zj.to_frame(which="rules")
    assert list(rules["id"]) == [r.id for r in zj.rules]
    with pytest.raises(ValueError, match="invalid which 'bogus'"):
        zj.to_frame(which="bogus")


# --- errors name the file and the key ----------------------------------------


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        (
            FLOOR_RULE.format(id="f", factor='"half"'),
            "area_rules[0].factor",
            "expected a number, got 'half' (str)",
        ),
        (
            FLOOR_RULE.format(id="f", factor="-1"),
            "area_rules[0].factor",
            "expected a number >= 0",
        ),
        (
            FLOOR_RULE.format(id="f", factor="2"),
            "area_rules[0].factor",
            "> 1 on a gross-floor-area rule",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1) + "factr = 0.5\n",
            "area_rules[0].factr",
            "unknown key (did you mean 'factor'?)",
        ),
        ('titel = "x"\n', "titel", "unknown key (did you mean 'title'?)"),
        (
            FLOOR_RULE.format(id="f", factor=1).replace("verified = true\n", ""),
            "area_rules[0].verified",
            "missing; this key is required",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1).replace('"floor"', '"flor"'),
            "area_rules[0].kinds[0]",
            "expected an element kind",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1)
            + 'conditions = [["structural_height_m", "=>", 2.2]]\n',
            "area_rules[0].conditions[0][1]",
            "expected an op: <=, <, >=, >, ==, !=",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1)
            + 'conditions = [["height", ">=", 2.2]]\n',
            "area_rules[0].conditions[0][0]",
            "expected an element attribute",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1)
            + 'conditions = [["enclosed", ">=", 1]]\n',
            "area_rules[0].conditions[0][2]",
            "expected true or false",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1) + 'basis = "plot"\n',
            "area_rules[0].basis",
            "expected one of 'gfa', 'far'",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1) + FLOOR_RULE.format(id="f", factor=0),
            "area_rules[1].id",
            "duplicate id 'f'",
        ),
        (
            FLOOR_RULE.format(id="f", factor=1) + 'replaces = ["nope"]\n',
            "area_rules[0].replaces[0]",
            "no area rule in the chain has id 'nope'",
        ),
        ('effective = "July 2014"\n', "effective", "expected a date"),
        (
            'extends = ["gbt50353-2013", "gbt50353-2013"]\n',
            "extends[1]",
            "listed twice",
        ),
        ("[overrides.gbt50353-3_0_1-full]\nfactor = 0.5\n", "overrides", "no rule"),
    ],
)
def test_malformed_rulebook_names_file_and_key(tmp_path, body, key, expected):
    path = write(tmp_path, "bad.toml", body)
    err = error(path)
    assert isinstance(err, CIMError) and isinstance(err, ValueError)
    assert err.file == str(path.resolve())
    assert err.key is not None and err.key.startswith(key)
    message = str(err)
    assert str(path.resolve()) in message
    assert key in message
    assert expected in message


def test_error_names_the_rule_id(tmp_path):
    path = write(tmp_path, "bad.toml", FLOOR_RULE.format(id="my-rule", factor='"x"'))
    assert "(rule 'my-rule')" in str(error(path))


def test_compliance_rule_errors(tmp_path):
    rule = """
[[rules]]
id = "far-max"
indicator = "plot_ratio"
scope = "parcel"
op = "{op}"
threshold = {threshold}
unit = "-"
clause = "test §2"
verified = false
"""
    err = error(write(tmp_path, "a.toml", rule.format(op="=<", threshold=2.0)))
    assert err.key == "rules[0].op"
    assert "expected one of '<=', '<', '>=', '>', '==', 'between'" in str(err)
    err = error(write(tmp_path, "b.toml", rule.format(op="between", threshold=2.0)))
    assert err.key == "rules[0].threshold"
    assert "[lo, hi] for op 'between'" in str(err)
    err = error(write(tmp_path, "c.toml", rule.format(op="<=", threshold="[1, 2]")))
    assert "a number for op '<='" in str(err)
    err = error(
        write(tmp_path, "d.toml", rule.format(op="between", threshold="[2, 1]"))
    )
    assert "lo <= hi" in str(err)
    table = '{by = "storey_class", values = {low = 1.2}, dflt = 1}'
    err = error(write(tmp_path, "e.toml", rule.format(op="<=", threshold=table)))
    assert err.key == "rules[0].threshold.dflt"
    table = '{by = ["zone", "size"], values = {III = 2.0}}'
    err = error(write(tmp_path, "f.toml", rule.format(op="<=", threshold=table)))
    assert err.key == "rules[0].threshold.values.III"
    assert "a table keyed by size" in str(err)


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.toml"
    err = error(missing)
    assert "nope.toml" in str(err) and err.file.endswith("nope.toml")
    err = error("no-such-book")
    assert "no bundled rulebook 'no-such-book'" in str(err)
    assert "gbt50353-2013" in str(err)  # lists what exists


def test_missing_extends_names_the_extending_file(tmp_path):
    path = write(tmp_path, "a.toml", 'extends = "base.toml"\n')
    err = error(path)
    assert err.file == str(path.resolve()) and err.key == "extends"
    assert "no rulebook file" in str(err) and "base.toml" in str(err)
    path = write(tmp_path, "b.toml", 'extends = ["gbt50353-2013", "gb-nope"]\n')
    err = error(path)
    assert err.key == "extends[1]" and "no bundled rulebook 'gb-nope'" in str(err)


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = ["c.toml"]\n')
    c = write(tmp_path, "c.toml", 'extends = ["a.toml"]\n')
    err = error(tmp_path / "a.toml")
    assert "extends cycle a.toml -> b.toml -> c.toml -> a.toml" in str(err)
    assert err.file == str(c.resolve()) and err.key == "extends[0]"
    write(tmp_path, "self.toml", 'extends = "self.toml"\n')
    assert "extends cycle self.toml -> self.toml" in str(error(tmp_path / "self.toml"))


def test_invalid_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('id = "broken"\ntitle = \n', encoding="utf-8")
    err = error(path)
    assert "not valid TOML" in str(err) and "broken.toml" in str(err)
    assert re.search(r"line 2", str(err))


def test_duplicate_book_ids_in_one_chain(tmp_path):
    write(tmp_path, "a.toml", "", book_id="gbt50353-2013")
    path = write(tmp_path, "top.toml", 'extends = ["a.toml", "gbt50353-2013"]\n')
    assert "distinct ids in one chain" in str(error(path))


# --- extends order and override by id ----------------------------------------


def test_extends_order_and_redefinition_by_id(tmp_path):
    body = 'extends = "zhejiang-future-community"\n' + (
        """
[[area_rules]]
id = "gbt50353-3.0.21-outside"
kinds = ["balcony"]
conditions = [["inside_structure", "==", false]]
factor = 0.25
clause = "my city §1"
verified = true

[[area_rules]]
id = "mine-terrace"
kinds = ["terrace"]
factor = 0.5
basis = "far"
clause = "my city §2"
verified = true
"""
    )
    mine = load_rulebook(write(tmp_path, "mine.toml", body))
    zj = load_rulebook("zhejiang-future-community")
    assert mine.chain == (
        "mine",
        "zhejiang-future-community",
        "gb50180-2018",
        "gbt50353-2013",
    )
    ids = [r.id for r in mine.area_rules]
    # New rules come first; a redefined rule keeps the base's place.
    assert ids[0] == "mine-terrace"
    assert ids[1:] == [r.id for r in zj.area_rules]
    redefined = mine.area_rule("gbt50353-3.0.21-outside")
    assert (redefined.factor, redefined.rulebook) == (0.25, "mine")
    assert len(ids) == len(set(ids))


def test_extends_list_order_and_diamond(tmp_path):
    write(
        tmp_path,
        "a.toml",
        'extends = "gbt50353-2013"\n' + FLOOR_RULE.format(id="a-floor", factor=0.25),
    )
    write(
        tmp_path,
        "b.toml",
        'extends = "gbt50353-2013"\n' + FLOOR_RULE.format(id="b-floor", factor=0.75),
    )
    top = load_rulebook(write(tmp_path, "top.toml", 'extends = ["a.toml", "b.toml"]\n'))
    # Depth first, each base after every book extending it.
    assert top.chain == ("top", "a", "b", "gbt50353-2013")
    ids = [r.id for r in top.area_rules]
    assert ids[:2] == ["a-floor", "b-floor"]
    assert ids[2:] == [r.id for r in load_rulebook("gbt50353-2013").area_rules]


def test_replaces_retires_a_rule_for_its_quantity_only(tmp_path):
    body = 'extends = "gbt50353-2013"\n' + (
        """
[[area_rules]]
id = "far-balcony"
kinds = ["balcony"]
conditions = [["inside_structure", "==", false]]
factor = 0.0
basis = "far"
replaces = ["gbt50353-3.0.21-outside"]
clause = "x"
verified = false
"""
    )
    book = load_rulebook(write(tmp_path, "r.toml", body))
    far = [r.id for r in book.area_rules_for("far")]
    gfa = [r.id for r in book.area_rules_for("gfa")]
    assert "gbt50353-3.0.21-outside" not in far and "far-balcony" in far
    assert "gbt50353-3.0.21-outside" in gfa and "far-balcony" not in gfa
    frame = book.to_frame().set_index("id")
    assert frame.loc["gbt50353-3.0.21-outside", "replaced_by"] == "far-balcony"
    with pytest.raises(ValueError, match="invalid basis 'gross'"):
        book.area_rules_for("gross")


def test_overrides_table(tmp_path):
    body = 'extends = "zhejiang-future-community"\n' + (
        """
[overrides."gbt50353-3.0.1-half"]
factor = 0.0

[overrides."gbt50353-3.0.21-inside"]
clause = "GB/T 50353-2013 §3.0.21 (commentary)"
"""
    )
    book = load_rulebook(write(tmp_path, "o.toml", body))
    half = book.area_rule("gbt50353-3.0.1-half")
    assert half.factor == 0.0 and not half.verified
    assert "overridden by o: factor 0.5 -> 0.0 (was verified)" in half.note
    inside = book.area_rule("gbt50353-3.0.21-inside")
    assert inside.verified and inside.clause.endswith("(commentary)")
    assert "gbt50353-3.0.1-half: factor 0.5 -> 0.0 (by o)" in book.overrides
    # Its place in the order is kept.
    ids = [r.id for r in book.area_rules]
    base = [r.id for r in load_rulebook("zhejiang-future-community").area_rules]
    assert ids == base


def test_higher_redefinition_beats_lower_override(tmp_path):
    write(
        tmp_path,
        "mid.toml",
        'extends = "gbt50353-2013"\n[overrides."gbt50353-3.0.1-half"]\nfactor = 0.0\n',
    )
    top = write(
        tmp_path,
        "top.toml",
        'extends = "mid.toml"\n'
        + FLOOR_RULE.format(id="gbt50353-3.0.1-half", factor=0.25),
    )
    assert (
        load_rulebook(tmp_path / "mid.toml").area_rule("gbt50353-3.0.1-half").factor
        == 0.0
    )
    rule = load_rulebook(top).area_rule("gbt50353-3.0.1-half")
    assert (rule.factor, rule.verified, rule.rulebook) == (0.25, True, "top")


def test_overrides_table_errors(tmp_path):
    body = '[overrides."gbt50353-3.0.1-half"]\nfactor = "zero"\n'
    err = error(write(tmp_path, "o.toml", 'extends = "gbt50353-2013"\n' + body))
    assert err.key == 'overrides."gbt50353-3.0.1-half".factor'
    assert "(rule 'gbt50353-3.0.1-half')" in str(err)
    body = '[overrides."gbt50353-3.0.1-halt"]\nfactor = 0.0\n'
    err = error(write(tmp_path, "p.toml", 'extends = "gbt50353-2013"\n' + body))
    assert "did you mean 'gbt50353-3.0.1-half'" in str(err)
    body = '[overrides."gbt50353-3.0.1-half"]\nid = "x"\n'
    err = error(write(tmp_path, "q.toml", 'extends = "gbt50353-2013"\n' + body))
    assert "unknown key" in str(err) and err.key.endswith(".id")


# --- override() --------------------------------------------------------------


def test_override_changes_one_value():
    gb = load_rulebook("gbt50353-2013")
    mine = override(gb, "gbt50353-3.0.21-outside", factor=0.0)
    rule = mine.area_rule("gbt50353-3.0.21-outside")
    assert rule.factor == 0.0
    assert not rule.verified
    assert "factor 0.5 -> 0.0" in rule.note
    assert mine.overrides == (
        "gbt50353-3.0.21-outside: factor 0.5 -> 0.0 (by override())",
    )
    # The input is unchanged, and so is everything else.
    assert gb.area_rule("gbt50353-3.0.21-outside").factor == 0.5
    assert [r.id for r in mine.area_rules] == [r.id for r in gb.area_rules]
    others = [r for r in mine.area_rules if r.id != "gbt50353-3.0.21-outside"]
    assert others == [r for r in gb.area_rules if r.id != "gbt50353-3.0.21-outside"]


def test_override_keeps_verified_when_told_and_for_doc_fields():
    gb = load_rulebook("gbt50353-2013")
    mine = override(
        gb,
        "gbt50353-3.0.1-half",
        factor=0.5,
        verified=True,
        conditions=[("structural_height_m", "<", 2.2)],
    )
    assert mine.area_rule("gbt50353-3.0.1-half").verified
    mine = override(gb, "gbt50353-3.0.1-half", note="checked again")
    assert mine.area_rule("gbt50353-3.0.1-half").verified
    mine = override(
        gb,
        "gbt50353-3.0.1-half",
        conditions=[Condition("structural_height_m", "<", 2.3)],
    )
    rule = mine.area_rule("gbt50353-3.0.1-half")
    assert not rule.verified
    assert "structural_height_m < 2.3" in rule.note


def test_override_errors():
    gb = load_rulebook("gbt50353-2013")
    with pytest.raises(
        RulebookError,
        match=r"overrides\.\"gbt50353-3\.0\.1-half\"\."
        r"factor \(rule 'gbt50353-3\.0\.1-half'\): expected a number",
    ):
        override(gb, "gbt50353-3.0.1-half", factor="half")
    with pytest.raises(RulebookError, match=r"did you mean 'gbt50353-3\.0\.1-half'"):
        override(gb, "gbt50353-3.0.1-halt", factor=0.0)
    with pytest.raises(RulebookError, match="unknown key"):
        override(gb, "gbt50353-3.0.1-half", fctor=0.0)
    with pytest.raises(RulebookError, match="> 1 on a gross-floor-area rule"):
        override(gb, "gbt50353-3.0.1-half", factor=1.5)
    with pytest.raises(RulebookError, match="no area rule in the chain has id"):
        override(gb, "gbt50353-3.0.1-half", replaces=["nothing"])
    # A FAR rule may count a storey more than once.
    far = override(gb, "gbt50353-3.0.1-full", basis="far", factor=2.0)
    assert far.area_rule("gbt50353-3.0.1-full").factor == 2.0


def test_lookup_errors():
    gb = load_rulebook("gbt50353-2013")
    with pytest.raises(ValueError, match="no area rule of rulebook 'gbt50353-2013'"):
        gb.area_rule("x")
    with pytest.raises(ValueError, match="no compliance rule"):
        gb.rule("x")


# --- compliance rules and thresholds -----------------------------------------

COMPLIANCE = """
[[rules]]
id = "far-by-class"
indicator = "plot_ratio"
scope = "parcel"
op = "<="
threshold = {by = "storey_class", values = {low = 1.2, multi = 2.0, high = 3.0}}
unit = "-"
clause = "杭规划资源发〔2026〕4号 表(2-3)"
verified = true

[[rules]]
id = "far-range"
indicator = "plot_ratio"
scope = "parcel"
op = "between"
threshold.by = ["zone", "storey_class"]
threshold.values.III = {low = [1.0, 1.2], multi_i = [1.3, 1.6]}
threshold.default = [0.0, 9.0]
unit = "-"
clause = "GB 50180-2018 Table 4.0.2"
verified = false
note = "[M]"

[[rules]]
id = "sun-hours"
indicator = "sunlight_hours"
scope = "dwelling"
op = ">="
threshold = 2
unit = "h"
clause = "GB 50180-2018 §4.0.9"
verified = true
"""


def test_compliance_rules_and_threshold_tables(tmp_path):
    book = load_rulebook(write(tmp_path, "c.toml", COMPLIANCE))
    far = book.rule("far-by-class")
    assert isinstance(far, Rule) and isinstance(far.threshold, ThresholdTable)
    assert far.threshold.by == ("storey_class",)
    assert far.threshold_for(storey_class="multi", zone="III") == 2.0
    np.testing.assert_array_equal(
        far.check([1.9, 2.0, 2.1, np.nan], storey_class="multi"),
        [True, True, False, False],
    )
    with pytest.raises(
        ValueError, match="rule 'far-by-class': missing parameter 'storey_class'"
    ):
        far.threshold_for()
    with pytest.raises(
        ValueError,
        match="invalid storey_class 'tower'; expected one of 'low', 'multi', 'high'",
    ):
        far.threshold_for(storey_class="tower")

    rng = book.rule("far-range")
    assert rng.threshold_for(zone="III", storey_class="multi_i") == (1.3, 1.6)
    assert rng.threshold_for(zone="I", storey_class="low") == (0.0, 9.0)
    assert rng.check([1.3, 1.6, 1.7], zone="III", storey_class="multi_i").tolist() == [
        True,
        True,
        False,
    ]
    assert book.rule("sun-hours").threshold == 2.0
    frame = book.to_frame(which="rules").set_index("id")
    assert frame.loc["far-by-class", "threshold"] == (
        "by storey_class: low: 1.2; multi: 2; high: 3"
    )
    assert not frame.loc["far-range", "verified"]


def test_rulebooks_are_hashable(tmp_path):
    book = load_rulebook(write(tmp_path, "c.toml", COMPLIANCE))
    assert hash(book) == hash(load_rulebook(write(tmp_path, "c.toml", COMPLIANCE)))
    assert book == load_rulebook(tmp_path / "c.toml")


def test_override_compliance_rule(tmp_path):
    book = load_rulebook(write(tmp_path, "c.toml", COMPLIANCE))
    mine = override(book, "sun-hours", threshold=3)
    assert mine.rule("sun-hours").threshold == 3.0
    assert not mine.rule("sun-hours").verified
    with pytest.raises(RulebookError, match="a number for op '>='"):
        override(book, "sun-hours", threshold=(1, 2))
    mine = override(book, "sun-hours", op="between", threshold=[1, 2])
    assert mine.rule("sun-hours").check([1.5, 2.5]).tolist() == [True, False]


def test_compare():
    v = [1.0, 2.0, np.nan]
    assert compare(v, "<=", 1.0).tolist() == [True, False, False]
    assert compare(v, "<", 2.0).tolist() == [True, False, False]
    assert compare(v, ">", 1.0).tolist() == [False, True, False]
    assert compare(v, "==", 2.0).tolist() == [False, True, False]
    # NaN (unknown) never passes, not even "!=".
    assert compare(v, "!=", 2.0).tolist() == [True, False, False]
    assert compare(v, "between", (1.0, 2.0)).tolist() == [True, True, False]
    with pytest.raises(ValueError, match="invalid op '=>'; expected one of"):
        compare(v, "=>", 1.0)
    with pytest.raises(ValueError, match="expected \\(lo, hi\\)"):
        compare(v, "between", 1.0)


def test_dataclasses_are_frozen():
    rule = load_rulebook("gbt50353-2013").area_rules[0]
    assert isinstance(rule, AreaRule)
    with pytest.raises(AttributeError):
        rule.factor = 0.0  # type: ignore[misc]
