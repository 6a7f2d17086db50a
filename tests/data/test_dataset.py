"""load_dataset: the shipped data, and every rejection rule of the data layer."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bayes_coalition import DataValidationError, load_dataset

REPO = Path(__file__).resolve().parents[2]


def edit(path: Path, key: dict, column: str, value: str) -> None:
    """Set one cell of a CSV file (the row matching every key column)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    hits = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(hits) == 1, f"{key} matches {len(hits)} rows"
    hits[0][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def append(path: Path, row: dict) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        fields = next(csv.reader(fh))
    with path.open("a", newline="", encoding="utf-8") as fh:
        csv.DictWriter(fh, fieldnames=fields, lineterminator="\n").writerow({f: row.get(f, "") for f in fields})


def row_of(path: Path, key: dict) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            if all(r[k] == v for k, v in key.items()):
                return i
    raise KeyError(key)


def test_shipped_dataset_loads_with_the_papers_cases():
    ds = load_dataset()
    assert len(ds.cases) == 50 and ds.cases["case_id"].is_unique
    assert set(ds.cases["chamber"]) == {"House", "Senate"}
    pntr = ds.vote_counts.set_index(["case_id", "party"])
    assert (pntr.loc[("pntr_h", "ALL"), "yea"], pntr.loc[("pntr_h", "ALL"), "nay"]) == (237, 197)
    assert (pntr.loc[("pntr_h", "R"), "yea"], pntr.loc[("pntr_h", "D"), "yea"]) == (164, 73)
    assert (pntr.loc[("pntr_s", "ALL"), "yea"], pntr.loc[("pntr_s", "ALL"), "nay"]) == (83, 15)
    whip = pntr.loc["ft1997_h_whip"]
    assert whip["yea"].isna().all() and (whip.loc["R", "yea_lower"], whip.loc["R", "yea_upper"]) == (160, 170)
    assert whip.loc["ALL", "yea_lower"] <= 196 <= whip.loc["ALL", "yea_upper"]  # the paper's "22 short of 218"
    # blank party cells stay missing, never zero
    assert pd.isna(pntr.loc[("uraa_s", "R"), "nay"])
    assert set(ds.actors["actor_id"]) >= {"afl_cio", "dem_liberal", "dem_moderate", "rep_conservative",
                                          "rep_internationalist", "business", "ustr", "president"}
    assert ds.actors["source_sentence"].str.len().min() > 20
    assert set(ds.evidence["episode_id"]) == {"fasttrack1997", "pntr2000"}
    assert ds.evidence["coder"].notna().all() and ds.evidence["quote"].notna().all()
    assert "cases (votes): 50" in ds.summary()


def test_every_evidence_quote_is_in_the_paper():
    paper = REPO.parent / "shared" / "seed"
    texts = list(paper.glob("*.txt")) if paper.is_dir() else []
    if not texts:
        pytest.skip("the source paper is not beside the checkout")
    norm = " ".join(texts[0].read_text(encoding="utf-8").split())
    for quote in load_dataset().evidence["quote"]:
        for piece in str(quote).split("..."):
            piece = " ".join(piece.split()).strip(" .\"'")
            if len(piece) > 15:
                assert piece in norm, piece[:80]


BUILT = ("cases.csv", "vote_counts.csv", "episodes.csv")


def test_committed_tables_match_the_build_script(tmp_path):
    """data/cases.csv etc. are byte for byte what scripts/build_trade_data.py makes from the raw file.

    The script writes into a scratch folder: the checkout is only read, so a drifting script
    fails every run instead of fixing the files on the first one."""
    committed = {n: (REPO / "data" / n).read_bytes() for n in BUILT}
    out = tmp_path / "built"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_trade_data.py"), "--out", str(out)],
                   check=True, capture_output=True)
    assert {n: (out / n).read_bytes() for n in BUILT} == committed
    assert {n: (REPO / "data" / n).read_bytes() for n in BUILT} == committed


# ---- rejection rules: each builds a broken copy and checks file, row and column --------------

CASES_KEY = {"case_id": "pntr_h"}


@pytest.mark.parametrize(
    "table, key, column, value, message",
    [
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "R"}, "yea", "many", "is not a number"),
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "R"}, "yea", "-4", "below the minimum"),
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "R"}, "yea", "163.5", "is not an integer"),
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "ALL"}, "nay", "299", "exceeds the 435 seats"),
        ("vote_counts.csv", {"case_id": "pntr_s", "party": "ALL"}, "yea", "90", "exceeds the 100 seats"),
        ("vote_counts.csv", {"case_id": "ft1997_h_whip", "party": "R"}, "yea_upper", "150", "below yea_lower"),
        ("vote_counts.csv", {"case_id": "ft1997_h_whip", "party": "R"}, "yea", "165", "either an observed count"),
        ("cases.csv", CASES_KEY, "chamber", "Parliament", "is not one of"),
        ("cases.csv", CASES_KEY, "episode_id", "pntr2099", "unknown episode"),
        ("cases.csv", CASES_KEY, "threshold_rule", "three_fifths_of_senate", "Senate only"),
        ("cases.csv", CASES_KEY, "congress", "one hundred", "is not a number"),
        ("actors.csv", {"actor_id": "ustr"}, "prior_position", "3.5", "above the maximum"),
        ("actors.csv", {"actor_id": "ustr"}, "type", "agency", "is not one of"),
        ("actors.csv", {"actor_id": "dem_liberal"}, "party", "", "needs its party"),
        ("evidence.csv", {"episode_id": "pntr2000", "stage": "voting", "indicator": "payoff"}, "level", "7", "off the scale"),
        ("evidence.csv", {"episode_id": "pntr2000", "stage": "voting", "indicator": "payoff"}, "episode_id", "nafta2099", "unknown episode"),
        ("evidence.csv", {"episode_id": "pntr2000", "stage": "voting", "indicator": "policy_impact"}, "actor_id", "martians", "unknown actor"),
        ("evidence.csv", {"episode_id": "pntr2000", "stage": "formulation", "indicator": "executive_coordination"}, "stage", "voting", "not coded in the voting stage"),
        ("evidence.csv", {"episode_id": "pntr2000", "stage": "voting", "indicator": "payoff"}, "coder", "", "required value is blank"),
        ("codebook.csv", {"indicator": "payoff", "level": "2"}, "direction", "3", "is not one of"),
    ],
)
def test_rejection_rules(data_copy, table, key, column, value, message):
    expected_column = "yea+nay" if "seats" in message else None
    path = data_copy / table
    row = row_of(path, key)
    edit(path, key, column, value)
    with pytest.raises(DataValidationError) as err:
        load_dataset(data_copy)
    e = err.value
    assert message in str(e)
    assert e.file == str(path)
    assert e.row == row and e.column == (expected_column or column)


def test_party_split_may_not_exceed_total(data_copy):
    path = data_copy / "vote_counts.csv"
    edit(path, {"case_id": "pntr_h", "party": "R"}, "yea", "200")   # 200 + 73 + 0 > 237
    with pytest.raises(DataValidationError, match="party yea counts of case pntr_h sum to 273, more than the total 237") as err:
        load_dataset(data_copy)
    assert err.value.column == "yea"


def test_complete_party_split_must_equal_total(data_copy):
    path = data_copy / "vote_counts.csv"
    edit(path, {"case_id": "pntr_h", "party": "ALL"}, "nay", "198")
    with pytest.raises(DataValidationError, match="sum to 197, not the total 198"):
        load_dataset(data_copy)


def test_counts_for_unknown_case_rejected(data_copy):
    append(data_copy / "vote_counts.csv", {"case_id": "nafta_x", "party": "ALL", "yea": "1", "nay": "1"})
    with pytest.raises(DataValidationError, match="unknown case 'nafta_x'") as err:
        load_dataset(data_copy)
    assert err.value.column == "case_id"


def test_duplicate_case_rejected(data_copy):
    with (data_copy / "cases.csv").open(encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    (data_copy / "cases.csv").write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate primary key \\(nafta_h\\)"):
        load_dataset(data_copy)


def test_duplicate_evidence_code_rejected(data_copy):
    append(data_copy / "evidence.csv", {"episode_id": "pntr2000", "stage": "voting", "indicator": "payoff", "level": "1",
                                        "quote": "q", "justification": "j", "coder": "c"})
    with pytest.raises(DataValidationError, match="duplicate primary key"):
        load_dataset(data_copy)


def test_missing_required_column_is_named(data_copy):
    df = pd.read_csv(data_copy / "cases.csv", dtype=str, keep_default_na=False)
    df.drop(columns=["threshold_rule"]).to_csv(data_copy / "cases.csv", index=False)
    with pytest.raises(DataValidationError, match="missing required column\\(s\\): threshold_rule") as err:
        load_dataset(data_copy)
    assert err.value.row == 1


def test_missing_table_is_named(data_copy):
    (data_copy / "actors.csv").unlink()
    with pytest.raises(DataValidationError, match="missing table 'actors.csv'"):
        load_dataset(data_copy)


def test_codebook_levels_must_be_contiguous(data_copy):
    edit(data_copy / "codebook.csv", {"indicator": "payoff", "level": "2"}, "level", "5")
    with pytest.raises(DataValidationError, match="needs levels 0..K-1"):
        load_dataset(data_copy)
