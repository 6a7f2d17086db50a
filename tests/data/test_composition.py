"""composition.csv and covariates.csv: the build script, hand-checked values, every validation rule,
and directories (or saved runs) without them."""

from __future__ import annotations

import csv
import subprocess
import sys

import pandas as pd
import pytest

from bayes_coalition import DataValidationError, load_dataset
from bayes_coalition.data.dataset import OPTIONAL_TABLES, TABLES, dataset_from_frames, default_data_dir
from bayes_coalition.data.tables import read_csv
from tests.helpers import REPO

BUILT = ("composition.csv", "covariates.csv")
MEMBERS = REPO / "data" / "raw" / "voteview" / "members_100_118.csv"


def edit(path, key: dict, column: str, value: str) -> int:
    """Set one cell of the row matching ``key``; return that row's spreadsheet number."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    hits = [i for i, r in enumerate(rows) if all(r[k] == v for k, v in key.items())]
    assert len(hits) == 1, f"{key} matches {len(hits)} rows"
    rows[hits[0]][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return hits[0] + 2


def drop_rows(path, key: dict) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keep = [r for r in rows if not all(r[k] == v for k, v in key.items())]
    assert len(keep) < len(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(keep)


def test_committed_tables_match_the_build_script(tmp_path):
    """data/composition.csv and data/covariates.csv are byte for byte what scripts/build_composition.py
    makes from data/raw/voteview/ (written to a scratch folder: the checkout is only read)."""
    committed = {n: (REPO / "data" / n).read_bytes() for n in BUILT}
    out = tmp_path / "built"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_composition.py"), "--out", str(out)],
                   check=True, capture_output=True)
    assert {n: (out / n).read_bytes() for n in BUILT} == committed


def _count_members(congress: str, chamber: str) -> dict:
    """Distinct ICPSR ids per party code, counted here straight from the Voteview file."""
    with MEMBERS.open(newline="", encoding="utf-8") as fh:
        ids: dict = {}
        for r in csv.DictReader(fh):
            if r["congress"] == congress and r["chamber"] == chamber and r["state_abbrev"] not in {"AS", "DC", "GU", "MP", "PR", "VI"}:
                ids.setdefault(r["party_code"], set()).add(r["icpsr"])
    return {code: len(v) for code, v in ids.items()}


def _rows(ds, congress: int, chamber: str) -> dict:
    c = ds.composition
    sel = c[(c.congress == congress) & (c.chamber == chamber)]
    return {r.party: (None if pd.isna(r.members) else int(r.members), int(r.seats)) for r in sel.itertuples()}


def test_hand_checked_congresses():
    ds = load_dataset()
    # the 106th House (1999-2001): 225 Republican and 213 Democratic ICPSR ids in the source (Forbes,
    # NY-1, switched R -> D and is both); seats as it opened: 223 R, 211 D, Sanders (I, VT) absent from the source
    assert _count_members("106", "House") == {"200": 225, "100": 213}
    assert _rows(ds, 106, "House") == {"R": (225, 223), "D": (213, 211), "I": (None, 1)}
    # the 114th Senate (2015-2017): 54 R and 44 D, one member per seat; King (ME) and Sanders (VT) independents
    assert _count_members("114", "Senate") == {"200": 54, "100": 44}
    assert _rows(ds, 114, "Senate") == {"R": (54, 54), "D": (44, 44), "I": (None, 2)}
    # the 111th Senate over-counts most: 110 members (Specter in both parties, four appointees) for 100 seats
    assert _count_members("111", "Senate") == {"200": 44, "100": 66}
    assert _rows(ds, 111, "Senate") == {"R": (44, 42), "D": (66, 57), "I": (None, 1)}


def test_shipped_tables_cover_congresses_102_to_116():
    ds = load_dataset()
    assert ds.notes == ()
    for table in (ds.composition, ds.covariates):
        assert sorted(set(table["congress"])) == list(range(102, 117))
    seats = ds.composition.groupby(["congress", "chamber"])["seats"].sum()
    assert seats.xs("House", level="chamber").between(434, 435).all() and (seats.xs("Senate", level="chamber") == 100).all()
    assert (ds.composition["members"].dropna() >= ds.composition.loc[ds.composition["members"].notna(), "seats"]).all()
    cov = ds.covariates.set_index(["congress", "chamber"])
    assert cov.loc[(106, "House"), "year"] == 1999 and cov.loc[(106, "House"), "party_gap_d1"] == pytest.approx(0.776898, abs=1e-6)


@pytest.mark.parametrize(
    "table, key, column, value, message",
    [
        ("composition.csv", {"congress": "106", "chamber": "House", "party": "R"}, "seats", "226", "every seat needs a member"),
        ("composition.csv", {"congress": "106", "chamber": "House", "party": "D"}, "members", "", "may be blank only for independents"),
        ("composition.csv", {"congress": "106", "chamber": "House", "party": "I"}, "party", "G", "is not one of: R, D, I"),
        ("composition.csv", {"congress": "106", "chamber": "House", "party": "R"}, "seats", "-1", "below the minimum"),
        ("covariates.csv", {"congress": "106", "chamber": "House"}, "year", "2000", "Congress 106 first met in 1999"),
        ("covariates.csv", {"congress": "106", "chamber": "House"}, "party_gap_d1", "0.7", "is not rep_mean_d1 - dem_mean_d1"),
        ("covariates.csv", {"congress": "106", "chamber": "Senate"}, "dem_mean_d2", "1.5", "above the maximum"),
        ("covariates.csv", {"congress": "106", "chamber": "Senate"}, "chamber", "House", "duplicate primary key (106, House)"),
    ],
)
def test_rejection_rules(data_copy, table, key, column, value, message):
    path = data_copy / table
    row = edit(path, key, column, value)
    with pytest.raises(DataValidationError) as err:
        load_dataset(data_copy)
    assert message in err.value.reason
    # a duplicate key is named by its key columns
    expected = "congress+chamber" if message.startswith("duplicate") else column
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row, expected)


def test_a_chamber_over_its_seats_is_named_at_its_last_row(data_copy):
    path = data_copy / "composition.csv"
    edit(path, {"congress": "106", "chamber": "Senate", "party": "R"}, "members", "60")
    edit(path, {"congress": "106", "chamber": "Senate", "party": "R"}, "seats", "56")
    last = edit(path, {"congress": "106", "chamber": "Senate", "party": "D"}, "seats", "45")
    with pytest.raises(DataValidationError, match="the Senate of Congress 106 sums to 101 seats, more than its 100") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), last, "seats")


def test_a_chamber_without_seats(data_copy):
    path = data_copy / "composition.csv"
    edit(path, {"congress": "106", "chamber": "Senate", "party": "R"}, "seats", "0")
    last = edit(path, {"congress": "106", "chamber": "Senate", "party": "D"}, "seats", "0")
    with pytest.raises(DataValidationError, match="the Senate of Congress 106 has no seats") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), last, "seats")


def test_a_congress_needs_both_chambers(data_copy):
    path = data_copy / "composition.csv"
    drop_rows(path, {"congress": "116", "chamber": "Senate"})
    last = max(i for i, r in enumerate(csv.DictReader(path.open(encoding="utf-8")), start=2) if r["congress"] == "116")
    with pytest.raises(DataValidationError, match="Congress 116 has no Senate rows") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), last, "chamber")


def test_a_directory_without_the_tables_loads_with_notes(data_copy):
    for name in OPTIONAL_TABLES:
        (data_copy / name).unlink()
    ds = load_dataset(data_copy)
    assert ds.composition is None and ds.covariates is None and ds.floor_expectations is None
    assert ds.notes == ("no composition.csv: a bill's seats are inferred from the largest number voting per party "
                        "in its Congress's votes", "no covariates.csv: no Congress-level polarization covariates",
                        "no floor_expectations.csv: no pre-vote floor expectations (model.floor_expectation has "
                        "nothing to measure)")
    assert "note: no composition.csv" in ds.summary()


def test_frames_and_saved_text_give_the_same_tables():
    """dataset_from_frames takes the optional tables as it takes the others (a saved run stores them as text)."""
    root = default_data_dir()
    shipped = load_dataset()
    frames = {n: pd.read_csv(root / n, dtype=str) for n in [*TABLES, *OPTIONAL_TABLES]}
    rebuilt = dataset_from_frames(frames, path="run.nc", source_label="run.nc")
    for name in ("composition", "covariates"):
        pd.testing.assert_frame_equal(getattr(rebuilt, name), getattr(shipped, name), obj=name)
    bad = {**frames, "covariates.csv": frames["covariates.csv"].assign(year="1900")}
    with pytest.raises(DataValidationError) as err:
        dataset_from_frames(bad, path="x", source_label="saved run r.nc")
    assert (err.value.file, err.value.row, err.value.column) == ("saved run r.nc:covariates.csv", 2, "year")
    assert read_csv(root / "composition.csv").shape[0] == len(shipped.composition)


def test_a_saved_run_keeps_the_tables(mock_fit, tmp_path):
    from bayes_coalition import CoalitionModel

    path = mock_fit.save(tmp_path / "run" / "posterior.nc")
    loaded = CoalitionModel.load(path)
    for name in ("composition", "covariates"):
        pd.testing.assert_frame_equal(getattr(loaded.dataset, name), getattr(mock_fit.dataset, name), obj=name)
    # (runs saved before the tables existed were model version 0.2.0, which model v2 (0.3.0) refuses to
    # load: a data directory without them is covered by the dataset tests)


def test_seats_of_congress_table_and_fallback():
    """The one seat rule: the composition table (parties with seats only); without it, the most members
    of a party voting in one of the Congress's votes, a whip count's n_members where no tally exists
    (the 1997 House count: 228 R, 205 D of its sources; the 1997 Senate cloture vote: 55 R, 45 D)."""
    import dataclasses

    from bayes_coalition import load_dataset

    ds = load_dataset()
    assert ds.seats_of_congress(105) == {"House": {"R": 228, "D": 206, "I": 1}, "Senate": {"R": 55, "D": 45}}
    old = dataclasses.replace(ds, composition=None)
    assert old.seats_of_congress(105) == {"House": {"R": 228, "D": 205, "I": 1}, "Senate": {"R": 55, "D": 45}}
    assert old.seats_of_congress(106)["House"] == {"R": 221, "D": 211, "I": 2}    # PNTR: 164+57, 73+138, 0+2
    assert old.seats_of_congress(90) == {} and ds.seats_of_congress(90) == {}
