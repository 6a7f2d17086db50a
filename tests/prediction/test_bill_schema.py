"""The strict bill schema: every malformed bill file is a one-line DataValidationError naming the file and
the field; the shipped bills still load; [actors]; code keys; the README's generated schema block."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from bayes_coalition import DataValidationError, load_dataset
from bayes_coalition.coalition.rules import CHAMBER_RULES
from bayes_coalition.prediction.bills import SCHEMA, HypotheticalBill, load_bill, parse_code_key, schema_markdown

ROOT = Path(__file__).resolve().parents[2]
BILLS = ROOT / "bills"
START, END = "<!-- bill-schema:start -->", "<!-- bill-schema:end -->"


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def write(tmp_path, text: str | bytes, name: str = "bad.toml") -> Path:
    p = tmp_path / name
    (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
    return p


def error_of(p: Path, dataset=None) -> DataValidationError:
    with pytest.raises(DataValidationError) as err:
        bill = load_bill(p)
        if dataset is not None:
            bill.validate(dataset)
    e = err.value
    assert e.file == str(p) and "\n" not in str(e) and str(e).startswith(f"file {p}")
    return e


# --- malformed bills found by load_bill alone (no data needed) ------------------------------------
MALFORMED = [
    # typed booleans: bool("no") is true, so "no" used to run as a pro-trade bill
    ('[bill]\nyea_is_pro_trade = "no"\n', "bill.yea_is_pro_trade", 'must be true or false, got "no" (a string)'),
    ("[bill]\nyea_is_pro_trade = 0\n", "bill.yea_is_pro_trade", "must be true or false, got 0 (an integer)"),
    ('[bill]\nelection_year = "yes"\n', "bill.election_year", 'must be true or false, got "yes" (a string)'),
    # integers must be TOML integers
    ("[codes.voting]\npolarization = 2.0\n", "codes.voting.polarization", "must be an integer, got 2.0 (a float)"),
    ("[codes.voting]\npolarization = true\n", "codes.voting.polarization", "must be an integer, got true"),
    ('[codes.voting]\npayoff = "2"\n', "codes.voting.payoff", 'must be an integer, got "2"'),
    ("[composition]\nHouse = { R = 220.0, D = 215 }\nSenate = { R = 50, D = 50 }\n", "composition.House.R",
     "non-negative integer, got 220.0"),
    ('[composition]\ncongress = "116"\n', "composition.congress", 'positive integer, got "116"'),
    # unknown keys: a suggestion and the valid names
    ("[code.voting]\npayoff = 1\n", "code", "unknown section 'code' (did you mean 'codes'? valid: bill, codes,"),
    ("[bill]\nyea_is_protrade = true\n", "bill.yea_is_protrade", "did you mean 'yea_is_pro_trade'? valid: name, like,"),
    ("[codes.votng]\npayoff = 1\n", "codes.votng", "unknown stage 'votng' (did you mean 'voting'? valid: formulation, voting)"),
    ('[thresholds]\nhous = "majority_of_voting"\n', "thresholds.hous", "did you mean 'house'? valid: house, senate, president"),
    ("[composition]\nhouse = { R = 220, D = 215 }\nSenate = { R = 50, D = 50 }\n", "composition.house",
     "did you mean 'House'? valid: congress, House, Senate"),
    ('[bill]\nvote_type = "clotur"\n', "bill.vote_type", "did you mean 'cloture'?"),
    ("[composition]\nHouse = { R = 220, DEM = 215 }\nSenate = { R = 50, D = 50 }\n", "composition.House.DEM",
     "unknown party 'DEM'"),
    # conflicting or incomplete composition
    ("[composition]\ncongress = 116\nHouse = { R = 220, D = 215 }\n", "composition", "conflicting composition: congress = 116"),
    ("[composition]\nHouse = { R = 220, D = 215 }\n", "composition.Senate", "must give both chambers: no seats for the Senate"),
    # threshold rules: a rule of the other chamber names the allowed ones; an unknown one gets a suggestion
    ('[thresholds]\nhouse = "three_fifths_of_senate"\n', "thresholds.house",
     "does not apply to the House: it is not one of the House's threshold rules (valid: majority_of_voting, "
     "majority_of_members, two_thirds_of_voting)"),
    ('[thresholds]\nsenate = "majority_of_votes"\n', "thresholds.senate", "did you mean 'majority_of_voting'?"),
    ('[thresholds]\npresident = "veto"\n', "thresholds.president", "valid: signature, override"),
    ("[thresholds]\nhouse = 1\n", "thresholds.house", "must be a string, got 1"),
    # wrong shapes
    ("codes = 1\n", "codes", "must be a table [codes], got 1"),
    ("[bill]\nname = 3\n", "bill.name", "must be a string, got 3 (an integer)"),
    ("[actor_weights]\npresident = true\n", "actor_weights.president", "non-negative number, got true"),
    ("[actor_weights]\npresident = nan\n", "actor_weights.president", "non-negative number, got nan"),
]


@pytest.mark.parametrize("toml, column, message", MALFORMED, ids=[m[1] + ":" + m[2][:24] for m in MALFORMED])
def test_malformed_bill_is_rejected_by_load_bill(tmp_path, toml, column, message):
    e = error_of(write(tmp_path, toml))
    assert e.column == column and message in str(e), str(e)


# --- malformed bills found against the fitted data --------------------------------------------------
AGAINST_DATA = [
    ("[codes.voting]\npayof = 1\n", "codes.voting.payof",
     "unknown indicator 'payof' (did you mean 'payoff'? valid: payoff, polarization, civil_society_opposition,"),
    ("[codes.voting]\npayoff = 3\n", "codes.voting.payoff", "level 3 is off the scale [0, 1, 2] (0 low, 1 medium, 2 high)"),
    ('[bill]\nlike = "pntr200"\n', "bill.like", "unknown episode 'pntr200' (did you mean 'pntr2000'?"),
    ("[actor_weights]\npresidnet = 1\n", "actor_weights.presidnet", "unknown actor 'presidnet' (did you mean 'president'?"),
    ("[composition]\ncongress = 99\n", "composition.congress", "Congress 99 is not in composition.csv (valid: 102-116)"),
]


@pytest.mark.parametrize("toml, column, message", AGAINST_DATA, ids=[m[1] for m in AGAINST_DATA])
def test_malformed_bill_is_rejected_against_the_data(tmp_path, ds, toml, column, message):
    p = write(tmp_path, toml)
    load_bill(p)                       # well formed
    e = error_of(p, ds)
    assert e.column == column and message in str(e), str(e)


# --- files that are not bills -------------------------------------------------------------------------
def test_a_directory_is_not_a_bill(tmp_path):
    e = error_of(tmp_path)
    assert e.column is None and "is a directory, not a bill file" in str(e)


def test_missing_file(tmp_path):
    e = error_of(tmp_path / "nope.toml")
    assert e.column is None and "file not found" in str(e)


def test_non_utf8_file(tmp_path):
    e = error_of(write(tmp_path, '[bill]\nname = "caf\xe9"\n'.encode("latin-1")))
    assert e.column is None and "not UTF-8 text (byte 0xe9" in str(e)


def test_invalid_toml_gives_line_and_column(tmp_path):
    e = error_of(write(tmp_path, "[bill]\nname = \n"))
    assert e.column is None and "not valid TOML" in str(e) and "line 2, column" in str(e)


def test_utf8_with_bom_is_read(tmp_path):
    assert load_bill(write(tmp_path, '\ufeff[bill]\nname = "café"\n'.encode())).name == "café"


# --- what a bill accepts ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(BILLS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_bills_load_and_validate(ds, path):
    bill = load_bill(path).validate(ds)
    seats = bill.seats(ds)
    assert all(sum(seats[c].values()) > 0 for c in ("House", "Senate"))
    assert bill.source == str(path) and bill.actor_positions == {}


def test_shipped_bill_values():
    b = load_bill(BILLS / "hypothetical_2027.toml")
    assert b.codes[("voting", "polarization")] == 2 and b.congress == 116 and b.composition is None
    assert (b.senate_rule, b.house_rule, b.president_rule) == ("three_fifths_of_senate", "majority_of_voting", "signature")
    f = load_bill(BILLS / "fasttrack1997_like.toml")
    assert f.like == "fasttrack1997" and f.yea_is_pro_trade is True and f.name.startswith("fast-track 1997")


@pytest.mark.parametrize("chamber", ["House", "Senate"])
def test_every_rule_of_a_chamber_is_accepted(tmp_path, ds, chamber):
    used = set(ds.cases.loc[ds.cases.chamber == chamber, "threshold_rule"])
    assert used <= set(CHAMBER_RULES[chamber])
    for rule in CHAMBER_RULES[chamber]:
        p = write(tmp_path, f'[thresholds]\n{chamber.lower()} = "{rule}"\npresident = "override"\n')
        bill = load_bill(p).validate(ds)
        assert getattr(bill, f"{chamber.lower()}_rule") == rule and bill.president_rule == "override"


def test_suspension_of_the_rules_in_the_house(tmp_path, ds):
    bill = load_bill(write(tmp_path, '[thresholds]\nhouse = "two_thirds_of_voting"\n')).validate(ds)
    assert bill.house_rule == "two_thirds_of_voting"


def test_explicit_composition_of_both_chambers(tmp_path, ds):
    p = write(tmp_path, "[composition]\nHouse = { R = 220, D = 213, I = 2 }\nSenate = { R = 50, D = 48, I = 2 }\n")
    bill = load_bill(p).validate(ds)
    assert bill.congress is None and bill.seats(ds) == {"House": {"R": 220, "D": 213, "I": 2}, "Senate": {"R": 50, "D": 48, "I": 2}}


def test_schema_defaults_are_the_dataclass_defaults():
    defaults = {f.name: f.default for f in fields(HypotheticalBill)}
    assert SCHEMA["bill"]["vote_type"][1] == defaults["vote_type"]
    assert SCHEMA["bill"]["yea_is_pro_trade"][1] == str(defaults["yea_is_pro_trade"]).lower()
    for key in ("house", "senate", "president"):
        assert SCHEMA["thresholds"][key][1] == defaults[f"{key}_rule"]


# --- [actors] ------------------------------------------------------------------------------------------
def test_actors_set_and_shift(tmp_path, ds):
    p = write(tmp_path, "[actors]\npresident = { position = -0.5 }\nbusiness = { shift = 1 }\nustr = { position = 2 }\n")
    bill = load_bill(p).validate(ds)
    assert bill.actor_positions == {"president": ("set", -0.5), "business": ("shift", 1), "ustr": ("set", 2)}
    assert HypotheticalBill(actor_positions={"president": ("shift", -1.0)}).validate(ds).actor_positions["president"][1] == -1.0


ACTORS_MALFORMED = [
    ("president = { position = -0.5, shift = 1.0 }", "actors.president", "exactly one of position"),
    ("president = {}", "actors.president", "exactly one of position"),
    ("president = -0.5", "actors.president", "must be a table { position = x } or { shift = x }, got -0.5"),
    ("president = { pos = -0.5 }", "actors.president.pos", "did you mean 'position'? valid: position, shift"),
    ("president = { position = 2.5 }", "actors.president.position", "must be a number in [-2, 2], got 2.5"),
    ('president = { position = "left" }', "actors.president.position", 'must be a number in [-2, 2], got "left"'),
    ("president = { position = true }", "actors.president.position", "got true (a boolean)"),
    ("president = { shift = inf }", "actors.president.shift", "must be a number in [-4, 4], got inf"),
]


@pytest.mark.parametrize("entry, column, message", ACTORS_MALFORMED, ids=[m[0] for m in ACTORS_MALFORMED])
def test_actors_rejected(tmp_path, entry, column, message):
    e = error_of(write(tmp_path, f"[actors]\n{entry}\n"))
    assert e.column == column and message in str(e), str(e)


def test_unknown_actor_is_named_with_a_suggestion(tmp_path, ds):
    e = error_of(write(tmp_path, "[actors]\npresidnet = { position = 0.0 }\n"), ds)
    assert e.column == "actors.presidnet" and "unknown actor 'presidnet' (did you mean 'president'? valid: afl_cio," in str(e)


def test_python_actor_settings_are_checked():
    with pytest.raises(DataValidationError, match="actors.nec.position.*in \\[-2, 2\\], got -3.0"):
        HypotheticalBill(actor_positions={"nec": ("set", -3.0)}).check_schema()
    with pytest.raises(DataValidationError, match="'set' or 'shift'"):
        HypotheticalBill(actor_positions={"nec": ("move", 1.0)}).check_schema()


# --- bills built in Python, and code keys ------------------------------------------------------------
def test_python_bill_fields_are_checked(ds):
    with pytest.raises(DataValidationError) as err:
        HypotheticalBill(yea_is_pro_trade="no").validate(ds)
    assert err.value.file == "<python>" and err.value.column == "bill.yea_is_pro_trade"
    with pytest.raises(DataValidationError) as err:
        HypotheticalBill(congress=116, composition={"House": {"R": 220, "D": 215}}).validate(ds)
    assert err.value.column == "composition" and "conflicting" in str(err.value)


def test_with_codes_accepts_both_key_forms(ds):
    bill = HypotheticalBill().with_codes(voting__payoff=2, **{"formulation.executive_coordination": 1})
    assert bill.codes == {("voting", "payoff"): 2, ("formulation", "executive_coordination"): 1}
    bill.validate(ds)


@pytest.mark.parametrize("key, column, message", [
    ("payoff", "codes", "code key 'payoff' is not 'stage.indicator' or 'stage__indicator'"),
    ("voting.pay.off", "codes", "code key 'voting.pay.off' is not"),
    ("votin__payoff", "codes.votin", "unknown stage 'votin' (did you mean 'voting'?"),
    ("voting.", "codes", "is not 'stage.indicator'"),
])
def test_with_codes_rejects_bad_keys(key, column, message):
    with pytest.raises(DataValidationError) as err:
        HypotheticalBill().with_codes(**{key: 1})
    assert err.value.column == column and message in str(err.value), str(err.value)


def test_with_codes_rejects_a_float_level():
    with pytest.raises(DataValidationError) as err:
        HypotheticalBill().with_codes(voting__payoff=2.0)
    assert err.value.column == "codes.voting.payoff" and "must be an integer, got 2.0" in str(err.value)


def test_parse_code_key():
    assert parse_code_key("voting.payoff") == ("voting", "payoff")
    assert parse_code_key("formulation__executive_coordination") == ("formulation", "executive_coordination")
    assert parse_code_key("payoff", default_stage="voting") == ("voting", "payoff")
    with pytest.raises(DataValidationError, match="'payoff' is not 'stage.indicator' or 'stage__indicator', with stage"):
        parse_code_key("payoff")
    with pytest.raises(DataValidationError, match="or 'indicator' \\(the voting stage\\)"):
        parse_code_key("a.b.c", default_stage="voting")
    with pytest.raises(ValueError, match="must be a string"):
        parse_code_key(3)


# --- generated documentation ----------------------------------------------------------------------------
def test_schema_markdown_lists_every_indicator_and_rule(ds):
    md = schema_markdown(ds.codebook)
    for indicator in set(ds.codebook["indicator"]):
        assert f"| `{indicator}` |" in md
    assert "| `three_fifths_of_senate` | no | yes |" in md and "| `two_thirds_of_voting` | yes | yes |" in md
    assert "| `payoff` | willingness | formulation, voting | 0 low, 1 medium, 2 high |" in md
    assert "`[actors]`" in md


def test_script_writes_between_the_markers(tmp_path, ds):
    readme = write(tmp_path, f"# x\n\n{START}\nold text\n{END}\n\nafter\n", "README.md")
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bill_schema.py"), "--write", str(readme)],
                         capture_output=True, text=True, check=True)
    assert "wrote" in run.stdout
    assert readme.read_text() == f"# x\n\n{START}\n{schema_markdown(ds.codebook)}{END}\n\nafter\n"
    bad = write(tmp_path, "# no markers\n", "OTHER.md")
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bill_schema.py"), "--write", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "markers" in run.stderr


def test_readme_block_is_the_generated_schema(ds):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if START not in text or END not in text:
        pytest.skip(f"README.md has no {START} ... {END} block yet; add the markers and run "
                    "`python scripts/bill_schema.py --write README.md`")
    block = text[text.index(START) + len(START):text.index(END)]
    assert block == "\n" + schema_markdown(ds.codebook), "README's bill schema is stale: run scripts/bill_schema.py --write README.md"
