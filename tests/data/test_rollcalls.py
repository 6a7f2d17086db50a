"""load_rollcalls: the 106th Senate in wide, long and Voteview form, codes, filters, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_coalition import DataValidationError, load_rollcalls

SENATE = Path(__file__).resolve().parents[2] / "data" / "senate106"


@pytest.fixture(scope="module")
def wide():
    return load_rollcalls(SENATE)


def test_senate106_wide_loads_as_is(wide):
    assert wide.votes.dims == ("legislator", "rollcall")
    assert wide.votes.shape == (102, 672)
    assert wide.legislators["party"].value_counts().to_dict() == {"R": 56, "D": 46}
    # PNTR passage (rc625) was 83-15 in the record
    pntr = wide.votes.sel(rollcall="rc625").values
    assert (np.nansum(pntr == 1), np.nansum(pntr == 0)) == (83, 15)
    assert wide.rollcalls.set_index("rollcall").loc["rc625", "yea"] == 83
    assert set(np.unique(wide.votes.values[np.isfinite(wide.votes.values)])) == {0.0, 1.0}
    ds = wide.to_dataset()
    assert "legislator_party" in ds.coords and ds["votes"].shape == (102, 672)


def _to_long(wide, path: Path) -> Path:
    v = wide.votes.to_series().dropna().astype(int).reset_index()
    v.columns = ["legislator_id", "rollcall", "vote"]
    v.to_csv(path, index=False)
    return path


def _to_voteview(wide, path: Path) -> Path:
    v = wide.votes.to_series().reset_index()
    v.columns = ["icpsr", "rollcall", "vote"]
    cast = np.where(v["vote"] == 1, 1, np.where(v["vote"] == 0, 6, 9))
    pd.DataFrame({
        "congress": 106, "chamber": "Senate", "rollnumber": v["rollcall"].str[2:].astype(int),
        "icpsr": v["icpsr"], "cast_code": cast,
    }).to_csv(path, index=False)
    return path


def test_long_and_voteview_forms_give_the_same_matrix(wide, tmp_path):
    long = load_rollcalls(_to_long(wide, tmp_path / "long.csv"), format="long",
                          legislators=SENATE / "legislators.csv", rollcalls=SENATE / "rollcalls.csv")
    vv = load_rollcalls(_to_voteview(wide, tmp_path / "vv.csv"), format="voteview",
                        legislators=SENATE / "legislators.csv", rollcalls=SENATE / "rollcalls.csv")
    for other in (long, vv):
        aligned = other.votes.sel(legislator=wide.votes["legislator"], rollcall=wide.votes["rollcall"])
        np.testing.assert_array_equal(aligned.values, wide.votes.values)
        assert list(other.legislators.set_index("legislator_id").loc[wide.legislators["legislator_id"], "party"]) == list(wide.legislators["party"])


def test_configurable_codes_like_pscl(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("legislator_id,v1,v2,v3\na,1,6,9\nb,4,2,0\n", encoding="utf-8")
    m = load_rollcalls(p, yea=(1, 2, 3), nay=(4, 5, 6), missing=(0, 7, 8, 9))
    np.testing.assert_array_equal(m.votes.values, [[1, 0, np.nan], [0, 1, np.nan]])


def test_unknown_vote_code_names_file_row_column(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("legislator_id,v1,v2\na,1,0\nb,1,Y\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_rollcalls(p)
    assert (err.value.row, err.value.column, err.value.file) == (3, "v2", str(p))
    assert "vote code 'Y'" in str(err.value)


def test_duplicate_legislator_rejected(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("legislator_id,v1\na,1\na,0\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate legislator_id 'a'") as err:
        load_rollcalls(p)
    assert err.value.row == 3


def test_duplicate_long_vote_rejected(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("legislator_id,rollcall,vote\na,r1,1\nb,r1,0\na,r1,0\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate vote for legislator a on r1") as err:
        load_rollcalls(p, format="long")
    assert err.value.row == 4


def test_voteview_requires_its_columns(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("congress,rollnumber,icpsr,cast_code\n106,1,5,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="missing required column\\(s\\): chamber"):
        load_rollcalls(p, format="voteview")


def test_voteview_non_integer_id_rejected(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("congress,chamber,rollnumber,icpsr,cast_code\n106,Senate,1,5,1\n106,Senate,x2,5,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_rollcalls(p, format="voteview")
    assert (err.value.row, err.value.column) == (3, "rollnumber")


def test_legislator_without_metadata_rejected(tmp_path):
    (tmp_path / "votes_wide.csv").write_text("legislator_id,v1\na,1\nz,0\n", encoding="utf-8")
    (tmp_path / "legislators.csv").write_text("legislator_id,party\na,R\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="legislator\\(s\\) \\['z'\\] have votes but no row"):
        load_rollcalls(tmp_path)


def test_filter_reports_what_it_drops(wide):
    v = wide.votes.values
    yea, nay = np.nansum(v == 1, axis=0), np.nansum(v == 0, axis=0)
    minority = np.minimum(yea, nay) / (yea + nay)
    expected = int((minority < 0.025).sum())
    f = wide.filter(lopsided=0.025, min_votes=None)
    assert f.dropped == {"lopsided_rollcalls": expected}
    assert f.n_rollcalls == 672 - expected and f.n_legislators == 102
    # legislators: drop those with fewer than 600 recorded votes, counted
    n_votes = np.isfinite(v).sum(axis=1)
    g = wide.filter(lopsided=None, min_votes=600)
    assert g.dropped == {"low_activity_legislators": int((n_votes < 600).sum())}
    assert g.n_legislators == int((n_votes >= 600).sum())
    assert "dropped" in g.summary()


def test_rows_after_a_blank_line_keep_their_number(tmp_path):
    """Rows are the editor's: a blank line skipped by the reader still counts."""
    p = tmp_path / "w.csv"
    p.write_text("legislator_id,v1,v2\na,1,0\n\nb,1,Y\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_rollcalls(p)
    assert (err.value.file, err.value.row, err.value.column) == (str(p), 4, "v2")


def test_duplicate_legislator_metadata_rejected_at_its_row(tmp_path):
    (tmp_path / "votes_wide.csv").write_text("legislator_id,v1\na,1\nb,0\n", encoding="utf-8")
    legs = tmp_path / "legislators.csv"
    legs.write_text("legislator_id,party\na,R\n\nb,D\n a ,D\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate legislator_id 'a'") as err:
        load_rollcalls(tmp_path)
    assert (err.value.file, err.value.row, err.value.column) == (str(legs), 5, "legislator_id")


def test_duplicate_rollcall_column_rejected(tmp_path):
    """pandas would read the second rc1 as a roll call of its own named rc1.1."""
    p = tmp_path / "w.csv"
    p.write_text("legislator_id,rc1,rc2,rc1\na,1,0,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate column header") as err:
        load_rollcalls(p)
    assert (err.value.file, err.value.row, err.value.column) == (str(p), 1, "rc1")
