"""load_dataset: the shipped data, and every rejection rule of the data layer."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bayes_coalition import DataValidationError, load_dataset
from bayes_coalition.cli.main import main as cli_main
from bayes_coalition.data.dataset import TABLES, dataset_from_frames, default_data_dir
from bayes_coalition.data.tables import read_csv

REPO = Path(__file__).resolve().parents[2]


def edit(path: Path, key: dict, column: str, value: str, *, many: bool = False) -> None:
    """Set one cell of a CSV file (the row matching every key column; every such row if ``many``)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    hits = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(hits) >= 1 if many else len(hits) == 1, f"{key} matches {len(hits)} rows"
    for hit in hits:
        hit[column] = value
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
    # blank party cells stay missing, never zero (the Washington Post gives the independent's nay only)
    assert pd.isna(pntr.loc[("ft1998_h", "I"), "yea"]) and pntr.loc[("ft1998_h", "I"), "nay"] == 1
    assert set(ds.actors["actor_id"]) >= {"afl_cio", "dem_liberal", "dem_moderate", "rep_conservative",
                                          "rep_internationalist", "business", "ustr", "president"}
    assert ds.actors["source_sentence"].str.len().min() > 20
    assert set(ds.evidence["episode_id"]) == set(ds.episodes["episode_id"])
    assert ds.evidence["coder"].notna().all() and ds.evidence["quote"].notna().all()
    assert "cases (votes): 50" in ds.summary()


def test_every_evidence_quote_is_in_the_paper():
    paper = REPO.parent / "shared" / "seed"
    texts = list(paper.glob("*.txt")) if paper.is_dir() else []
    if not texts:
        pytest.skip("the source paper is not beside the checkout")
    norm = " ".join(texts[0].read_text(encoding="utf-8").split())
    ev = load_dataset().evidence
    for quote in ev.loc[ev["adjudication"] == "paper", "quote"]:
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


# ---- frames -> data set -------------------------------------------------------------------


def _assert_same(a, b) -> None:
    for name in ("episodes", "cases", "vote_counts", "actors", "codebook", "evidence"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


def test_dataset_from_frames_equals_load_dataset():
    """load_dataset is read_csv per file + dataset_from_frames; the same frames give the same data set."""
    root = default_data_dir()
    shipped = load_dataset()
    from_files = dataset_from_frames({n: read_csv(root / n) for n in TABLES}, path=root)
    _assert_same(from_files, shipped)
    assert from_files.path == shipped.path
    # stored text read back by pandas (blanks as NaN, no row index), as a saved run would hold it
    text = {n: (root / n).read_text(encoding="utf-8") for n in TABLES}
    frames = {n: pd.read_csv(io.StringIO(t), dtype=str) for n, t in text.items()}
    rebuilt = dataset_from_frames(frames, path="run.nc", source_label="run.nc")
    _assert_same(rebuilt, shipped)
    assert rebuilt.path == Path("run.nc")


def test_dataset_from_frames_names_the_source_in_errors():
    root = default_data_dir()
    frames = {n: pd.read_csv(root / n, dtype=str, keep_default_na=False) for n in TABLES}
    frames["cases.csv"].loc[3, "chamber"] = "Parliament"
    with pytest.raises(DataValidationError) as err:
        dataset_from_frames(frames, path="x", source_label="saved run r.nc")
    assert (err.value.file, err.value.row, err.value.column) == ("saved run r.nc:cases.csv", 5, "chamber")
    with pytest.raises(DataValidationError) as err:
        dataset_from_frames({n: f for n, f in frames.items() if n != "codebook.csv"}, path="x")
    assert "missing table 'codebook.csv'" in str(err.value) and err.value.file == str(Path("x") / "codebook.csv")
    with pytest.raises(DataValidationError, match="unknown table\\(s\\) case.csv") as err:
        dataset_from_frames({**frames, "case.csv": frames["cases.csv"]}, path="x")
    assert err.value.file == str(Path("x") / "case.csv")


# ---- a folder that is not a trade data set ---------------------------------------------------


def test_rollcall_folder_is_told_apart_from_a_trade_data_set(capsys):
    senate = REPO / "data" / "senate106"
    with pytest.raises(DataValidationError) as err:
        load_dataset(senate)
    e = err.value
    assert (e.file, e.row, e.column) == (str(senate), None, None)
    assert "holds no trade data set (expected episodes.csv, cases.csv" in e.reason
    assert "it holds legislators.csv, rollcalls.csv, votes_wide.csv" in e.reason
    assert "for a roll-call matrix use `bayes-coalition ideal-points DIR`" in e.reason
    assert cli_main(["data", str(senate)]) == 2
    assert "bayes-coalition ideal-points" in capsys.readouterr().err


def test_empty_folder_is_told_what_was_expected(tmp_path):
    with pytest.raises(DataValidationError) as err:
        load_dataset(tmp_path)
    assert err.value.file == str(tmp_path)
    assert "it holds no files; see data/README.md" in err.value.reason and "ideal-points" not in err.value.reason


def test_not_a_directory(data_copy):
    with pytest.raises(DataValidationError, match="not a directory") as err:
        load_dataset(data_copy / "cases.csv")
    assert (err.value.file, err.value.row) == (str(data_copy / "cases.csv"), None)


# ---- rejection rules: each builds a broken copy and checks file, row and column --------------

CASES_KEY = {"case_id": "pntr_h"}
WHIP = "ft1997_h_whip"
PNTR_VOTING_PAYOFF = {"episode_id": "pntr2000", "stage": "voting", "indicator": "payoff", "coder": "coder_a"}
FT1998_PAYOFF = {"episode_id": "fasttrack1998", "stage": "voting", "indicator": "payoff"}


@pytest.mark.parametrize(
    "table, key, column, value, message, expected_column",
    [
        # cells (tables.py)
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "R"}, "yea", "many", "is not a number", None),
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "R"}, "yea", "-4", "below the minimum", None),
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "R"}, "yea", "163.5", "is not an integer", None),
        ("cases.csv", CASES_KEY, "chamber", "Parliament", "is not one of", None),
        ("cases.csv", CASES_KEY, "congress", "one hundred", "is not a number", None),
        ("cases.csv", CASES_KEY, "yea_is_pro_trade", "perhaps", "is not yes/no", None),
        ("actors.csv", {"actor_id": "ustr"}, "prior_position", "3.5", "above the maximum", None),
        ("actors.csv", {"actor_id": "ustr"}, "prior_sd", "inf", "is not a finite number", None),
        ("actors.csv", {"actor_id": "ustr"}, "prior_sd", "nan", "is not a finite number", None),
        ("actors.csv", {"actor_id": "ustr"}, "type", "agency", "is not one of", None),
        ("evidence.csv", PNTR_VOTING_PAYOFF, "coder", "", "required value is blank", None),
        ("codebook.csv", {"indicator": "payoff", "level": "2"}, "direction", "3", "is not one of", None),
        # cases
        ("cases.csv", CASES_KEY, "episode_id", "pntr2099", "unknown episode", None),
        ("cases.csv", CASES_KEY, "threshold_rule", "three_fifths_of_senate", "Senate only", None),
        ("cases.csv", CASES_KEY, "passed", "", "a recorded vote needs its outcome", None),
        ("cases.csv", {"case_id": "chinamfn1991_h"}, "yea_is_pro_trade", "yes", "yea is the anti-trade side", None),
        # vote counts, one row at a time
        ("vote_counts.csv", {"case_id": "pntr_h", "party": "ALL"}, "nay", "299", "exceeds the 435 seats", "yea+nay"),
        ("vote_counts.csv", {"case_id": "pntr_s", "party": "ALL"}, "yea", "90", "exceeds the 100 seats", "yea+nay"),
        ("vote_counts.csv", {"case_id": WHIP, "party": "R"}, "yea_upper", "150", "below yea_lower", None),
        ("vote_counts.csv", {"case_id": WHIP, "party": "R"}, "yea", "165", "either an observed count", None),
        ("vote_counts.csv", {"case_id": "ft1998_h", "party": "I"}, "nay", "", "neither counts nor an interval", "yea"),
        ("vote_counts.csv", {"case_id": WHIP, "party": "R"}, "n_members", "", "needs yea_lower, yea_upper and n_members", None),
        ("vote_counts.csv", {"case_id": WHIP, "party": "R"}, "yea_upper", "229", "exceeds n_members 228", None),
        ("vote_counts.csv", {"case_id": WHIP, "party": "ALL"}, "n_members", "436", "exceeds the 435 seats", None),
        # actors
        ("actors.csv", {"actor_id": "dem_liberal"}, "party", "", "needs its party", None),
        ("actors.csv", {"actor_id": "ustr"}, "party", "D", "only legislative factions have a party", None),
        # codebook
        ("codebook.csv", {"indicator": "payoff", "level": "2"}, "level", "5", "needs levels 0..K-1", None),
        ("codebook.csv", {"indicator": "payoff", "level": "1"}, "construct", "pivotal", "more than one construct", None),
        ("codebook.csv", {"indicator": "payoff", "level": "2"}, "direction", "-1", "more than one direction", None),
        ("codebook.csv", {"indicator": "payoff", "level": "1"}, "stages", "voting", "more than one stages", None),
        # evidence
        ("evidence.csv", PNTR_VOTING_PAYOFF, "level", "7", "off the scale", None),
        ("evidence.csv", PNTR_VOTING_PAYOFF, "episode_id", "nafta2099", "unknown episode", None),
        ("evidence.csv", PNTR_VOTING_PAYOFF, "indicator", "bargaining_mood", "unknown indicator", None),
        ("evidence.csv", {**PNTR_VOTING_PAYOFF, "indicator": "policy_impact", "actor_id": "business"}, "actor_id", "martians", "unknown actor", None),
        ("evidence.csv", {"episode_id": "pntr2000", "stage": "formulation", "indicator": "executive_coordination",
                          "coder": "coder_a"}, "stage", "voting", "not coded in the voting stage", None),
        # evidence: sources and the date rule (data/evidence.py)
        ("evidence.csv", FT1998_PAYOFF, "source_url", "", "needs its source_url", None),
        ("evidence.csv", FT1998_PAYOFF, "outlet", "", "needs its outlet", None),
        ("evidence.csv", FT1998_PAYOFF, "pub_date", "", "needs its pub_date", None),
        ("evidence.csv", FT1998_PAYOFF, "pub_date", "1998-09-31", "is not a date", None),
        ("evidence.csv", FT1998_PAYOFF, "pub_date", "1998-09-26", "outside the voting window", None),
        ("evidence.csv", FT1998_PAYOFF, "stage", "formulation", "has no formulation stage of its own", None),
        ("evidence.csv", FT1998_PAYOFF, "quote", " ".join(["word"] * 31), "the quote has 31 words", None),
        ("evidence.csv", FT1998_PAYOFF, "ex_post", "", "needs its ex_post", None),
        ("evidence.csv", FT1998_PAYOFF, "adjudication", "guess", "is not one of", None),
        ("evidence.csv", {**PNTR_VOTING_PAYOFF, "coder": "paper-coding/2026-11 (bayes_coalition dev, from the source paper text)"},
         "ex_post", "no", "retrospective account is ex post", None),
        ("evidence.csv", {"episode_id": "pntr2000", "stage": "formulation", "indicator": "executive_coordination",
                          "coder": "coder_a"}, "pub_date", "2000-03-08", "outside the formulation window", None),
        # episodes: the stage boundary
        ("episodes.csv", {"episode_id": "nafta1993"}, "proposal_date", "1993-11", "is not a date", None),
        ("episodes.csv", {"episode_id": "nafta1993"}, "proposal_date", "1993-11-18", "after the episode's first vote", None),
        # vote counts: every count obtained by a method names its source
        ("vote_counts.csv", {"case_id": "oman_h", "party": "R"}, "source", "", "need their source", None),
        ("vote_counts.csv", {"case_id": "oman_h", "party": "R"}, "method", "guessed", "is not one of", None),
    ],
)
def test_rejection_rules(data_copy, table, key, column, value, message, expected_column):
    path = data_copy / table
    row = row_of(path, key)
    edit(path, key, column, value)
    with pytest.raises(DataValidationError) as err:
        load_dataset(data_copy)
    e = err.value
    assert message in e.reason
    assert (e.file, e.row, e.column) == (str(path), row, expected_column or column)


def test_codebook_levels_are_judged_at_the_indicators_first_row(data_copy):
    """An indicator with one level is reported at its first row, whichever row made it so."""
    path = data_copy / "codebook.csv"
    rows = [row_of(path, {"indicator": "payoff", "level": lv}) for lv in ("0", "1", "2")]
    edit(path, {"indicator": "payoff", "level": "1"}, "indicator", "payoff_x")
    edit(path, {"indicator": "payoff", "level": "2"}, "indicator", "payoff_y")
    with pytest.raises(DataValidationError, match="'payoff' needs levels 0..K-1") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), rows[0], "level")


def test_unknown_stage_in_codebook(data_copy):
    path = data_copy / "codebook.csv"
    edit(path, {"indicator": "payoff"}, "stages", "formulation;lobbying", many=True)
    with pytest.raises(DataValidationError, match="unknown stage 'lobbying'") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row_of(path, {"indicator": "payoff", "level": "0"}), "stages")


def test_at_least_one_legislative_faction(data_copy):
    path = data_copy / "actors.csv"
    edit(path, {"type": "legislative_faction"}, "party", "", many=True)
    edit(path, {"type": "legislative_faction"}, "type", "interest_group", many=True)
    with pytest.raises(DataValidationError, match="no legislative faction") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), None, "type")


def test_party_split_may_not_exceed_total(data_copy):
    path = data_copy / "vote_counts.csv"
    edit(path, {"case_id": "pntr_h", "party": "R"}, "yea", "200")   # 200 + 73 + 0 > 237
    with pytest.raises(DataValidationError, match="party yea counts of case pntr_h sum to 273, more than the total 237") as err:
        load_dataset(data_copy)
    # reported at the last party row of the case
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row_of(path, {"case_id": "pntr_h", "party": "I"}), "yea")


def test_complete_party_split_must_equal_total(data_copy):
    path = data_copy / "vote_counts.csv"
    edit(path, {"case_id": "pntr_h", "party": "ALL"}, "nay", "198")
    with pytest.raises(DataValidationError, match="sum to 197, not the total 198") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row_of(path, {"case_id": "pntr_h", "party": "I"}), "nay")


@pytest.mark.parametrize(
    "lower, upper, message, column",
    [("100", "150", "lower bounds sum to 192, above the total's yea_upper 150", "yea_upper"),
     ("216", "230", "upper bounds sum to 215, below the total's yea_lower 216", "yea_lower")],
)
def test_party_intervals_must_meet_the_total_interval(data_copy, lower, upper, message, column):
    path = data_copy / "vote_counts.csv"
    edit(path, {"case_id": WHIP, "party": "ALL"}, "yea_lower", lower)
    edit(path, {"case_id": WHIP, "party": "ALL"}, "yea_upper", upper)
    with pytest.raises(DataValidationError, match=message) as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row_of(path, {"case_id": WHIP, "party": "ALL"}), column)


def test_party_intervals_short_of_the_total_pass_when_members_are_unlisted(data_copy):
    """Without the D row, unlisted members could supply the yeas the R interval lacks: no contradiction."""
    path = data_copy / "vote_counts.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(ln for ln in lines if not ln.startswith(f"{WHIP},D,")), encoding="utf-8")
    load_dataset(data_copy)
    edit(path, {"case_id": WHIP, "party": "ALL"}, "n_members", "228")  # now R holds every member: 170 < 192
    with pytest.raises(DataValidationError, match="upper bounds sum to 170, below the total's yea_lower 192") as err:
        load_dataset(data_copy)
    assert (err.value.row, err.value.column) == (row_of(path, {"case_id": WHIP, "party": "ALL"}), "yea_lower")


def test_counts_for_unknown_case_rejected(data_copy):
    path = data_copy / "vote_counts.csv"
    append(path, {"case_id": "nafta_x", "party": "ALL", "yea": "1", "nay": "1"})
    with pytest.raises(DataValidationError, match="unknown case 'nafta_x'") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row_of(path, {"case_id": "nafta_x"}), "case_id")


def test_duplicate_case_rejected(data_copy):
    path = data_copy / "cases.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate primary key \\(nafta_h\\); first seen in row 2") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), len(lines) + 1, "case_id")


def test_duplicate_evidence_code_rejected(data_copy):
    path = data_copy / "evidence.csv"
    n = len(path.read_text(encoding="utf-8").splitlines())
    row = pd.read_csv(path, dtype=str, keep_default_na=False).query(
        "episode_id == 'pntr2000' and stage == 'voting' and indicator == 'payoff' and coder == 'coder_a'").iloc[0]
    append(path, {**row.to_dict(), "level": "1"})
    with pytest.raises(DataValidationError, match="duplicate primary key \\(pntr2000, voting, payoff, <NA>, coder_a\\)") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), n + 1,
                                                                 "episode_id+stage+indicator+actor_id+coder")


def test_missing_required_column_is_named(data_copy):
    path = data_copy / "cases.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.drop(columns=["threshold_rule"]).to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="missing required column\\(s\\): threshold_rule") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), 1, "threshold_rule")


def test_missing_table_is_named(data_copy):
    (data_copy / "actors.csv").unlink()
    with pytest.raises(DataValidationError, match="missing table 'actors.csv'") as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row) == (str(data_copy / "actors.csv"), None)


def test_loading_again_returns_fresh_copies_and_sees_edited_files(data_copy):
    """Unchanged files are not parsed twice, but every call gets its own frames, and an edited,
    added or removed file is read again."""
    first = load_dataset(data_copy)
    first.cases.loc[first.cases.index[0], "measure"] = "edited in memory"
    again = load_dataset(data_copy)
    assert again.cases["measure"].iloc[0] != "edited in memory"
    _assert_same(again, load_dataset(data_copy))
    edit(data_copy / "cases.csv", {"case_id": "pntr_h"}, "measure", "edited on disk")
    assert load_dataset(data_copy).cases.set_index("case_id").loc["pntr_h", "measure"] == "edited on disk"
    (data_copy / "composition.csv").unlink()
    assert load_dataset(data_copy).composition is None
