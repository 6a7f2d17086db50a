"""floor_expectations.csv: the build from the double coding, its reliability, and every validation rule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from bayes_coalition import DataValidationError, load_dataset
from bayes_coalition.data.reliability import krippendorff_alpha
from tests.data.test_composition import edit
from tests.helpers import REPO


def test_committed_table_is_what_the_build_makes(tmp_path):
    """data/floor_expectations.csv and data/coding/floor_reliability.json are what
    scripts/build_floor_expectations.py makes from the two codings and the adjudication (its --check)."""
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "build_floor_expectations.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _coder(name: str, round2: bool = True) -> pd.DataFrame:
    """A coder's codes: round 1, with round 2's rows in place of round 1's for the votes recoded there."""
    coding = REPO / "data" / "coding"
    t = pd.read_csv(coding / f"floor_coder_{name}.csv", dtype=str, keep_default_na=False).set_index("case_id")
    if round2:
        t2 = pd.read_csv(coding / f"floor_coder_{name}_round2.csv", dtype=str, keep_default_na=False).set_index("case_id")
        t.loc[t2.index] = t2[t.columns]
    return t


def test_reliability_by_hand():
    """Round 1: both coders coded 34 votes and agree on 33 (tpa2015_h_jun18: A 2, B 1). Round 2 recoded the 14
    votes left without a code: both coded 4 (all agreeing), A alone 1. Alpha recomputed from the coders' files
    over the 38 votes coded by both, and the counts of votes coded by one coder or by neither."""
    a1, b1 = _coder("a", round2=False), _coder("b", round2=False)
    r1 = [c for c in a1.index if a1.loc[c, "level"] and b1.loc[c, "level"]]
    assert len(r1) == 34 and [c for c in r1 if a1.loc[c, "level"] != b1.loc[c, "level"]] == ["tpa2015_h_jun18"]
    a, b = _coder("a"), _coder("b")
    both = [c for c in a.index if a.loc[c, "level"] and b.loc[c, "level"]]
    assert sorted(set(both) - set(r1)) == ["ft1997_s_cloture", "peru_h", "taa2011_h", "tradeact2002_h_conf"]
    rel = json.loads((REPO / "data" / "coding" / "floor_reliability.json").read_text())
    assert rel["coded_by_both"] == 38 and rel["coded_by_one"] == 2 and rel["coded_by_neither"] == 9
    assert rel["alpha_ordinal"] == pytest.approx(krippendorff_alpha([[float(a.loc[c, "level"]), float(b.loc[c, "level"])]
                                                                     for c in both], "ordinal"))
    assert rel["exact_agreement"] == pytest.approx(37 / 38)
    assert rel["rounds"]["round_1"]["alpha_ordinal"] == pytest.approx(
        krippendorff_alpha([[float(a1.loc[c, "level"]), float(b1.loc[c, "level"])] for c in r1], "ordinal"))


def test_round_two_recodes_only_votes_without_a_final_code(tmp_path):
    """A round-2 row for a vote round 1 already settled is refused (it would overwrite an adjudicated code)."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "data" / "coding", data / "coding")
    for coder in ("a", "b"):
        path = data / "coding" / f"floor_coder_{coder}_round2.csv"
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
        t.loc[0, "case_id"] = "nafta_h"
        t.to_csv(path, index=False)
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "build_floor_expectations.py"), "--data", str(data)],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "not ['nafta_h']" in out.stderr


def test_shipped_codes_rest_on_sources_before_their_votes():
    ds = load_dataset()
    fe = ds.floor_expectations.merge(ds.cases[["case_id", "date"]], on="case_id")
    assert len(fe) == 40 and fe["level"].value_counts().to_dict() == {2: 27, 1: 12, 0: 1}
    gap = (pd.to_datetime(fe["date"]) - pd.to_datetime(fe["pub_date"])).dt.days
    assert gap.between(1, 30).all()
    assert (fe["quote"].str.split().str.len() <= 30).all()


@pytest.mark.parametrize(
    "key, column, value, message",
    [
        ({"case_id": "cafta_h"}, "pub_date", "2005-07-28", "is not before the vote of 2005-07-28"),
        ({"case_id": "cafta_h"}, "pub_date", "2005-06-27", "31 days before the vote"),
        ({"case_id": "cafta_h"}, "pub_date", "July 2005", "is not a date"),
        ({"case_id": "cafta_h"}, "case_id", "cafta_x", "unknown case 'cafta_x'"),
        ({"case_id": "cafta_h"}, "case_id", "ft1997_h_whip", "is a whip estimate"),
        ({"case_id": "cafta_h"}, "level", "3", "is not one of"),
        ({"case_id": "cafta_h"}, "quote", " ".join(["word"] * 31), "a quote of 31 words"),
        ({"case_id": "cafta_h"}, "case_id", "cafta_s", "duplicate primary key"),
    ],
)
def test_rejection_rules(data_copy, key, column, value, message):
    path = data_copy / "floor_expectations.csv"
    row = edit(path, key, column, value)
    with pytest.raises(DataValidationError) as err:
        load_dataset(data_copy)
    assert message in err.value.reason
    assert (err.value.file, err.value.row) == (str(path), row)
    assert err.value.column == ("case_id" if message.startswith("duplicate") else column)


def test_a_directory_without_the_table_loads_and_says_so(data_copy):
    (data_copy / "floor_expectations.csv").unlink()
    ds = load_dataset(data_copy)
    assert ds.floor_expectations is None and any("no floor_expectations.csv" in n for n in ds.notes)
