"""floor_expectations.csv: the build from the double coding, its reliability, and every validation rule."""

from __future__ import annotations

import json
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


def test_reliability_by_hand():
    """Both coders coded 34 votes and agree on 33 (tpa2015_h_jun18: A 2, B 1); alpha recomputed from the
    coders' files, and the counts of votes coded by one coder or by neither."""
    a = pd.read_csv(REPO / "data" / "coding" / "floor_coder_a.csv", dtype=str, keep_default_na=False).set_index("case_id")
    b = pd.read_csv(REPO / "data" / "coding" / "floor_coder_b.csv", dtype=str, keep_default_na=False).set_index("case_id")
    both = [c for c in a.index if a.loc[c, "level"] and b.loc[c, "level"]]
    assert len(both) == 34 and [c for c in both if a.loc[c, "level"] != b.loc[c, "level"]] == ["tpa2015_h_jun18"]
    rel = json.loads((REPO / "data" / "coding" / "floor_reliability.json").read_text())
    assert rel["coded_by_both"] == 34 and rel["coded_by_one"] == 2 and rel["coded_by_neither"] == 13
    assert rel["alpha_ordinal"] == pytest.approx(krippendorff_alpha([[float(a.loc[c, "level"]), float(b.loc[c, "level"])]
                                                                     for c in both], "ordinal"))
    assert rel["exact_agreement"] == pytest.approx(33 / 34)


def test_shipped_codes_rest_on_sources_before_their_votes():
    ds = load_dataset()
    fe = ds.floor_expectations.merge(ds.cases[["case_id", "date"]], on="case_id")
    assert len(fe) == 35 and set(fe["level"]) == {1, 2}
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
