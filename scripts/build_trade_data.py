"""Rebuild data/cases.csv, data/vote_counts.csv and data/episodes.csv from data/raw/.

`raw/trade_votes.csv` is a verbatim copy of ../shared/data/trade_votes.csv (see data/README.md).
`raw/party_splits.csv` holds the party splits sourced later for votes that the first file gives
only as totals: each row has its source, the publication date, a short quote and its method
(`stated` by the source, `tallied` from a member-by-member roll-call list, `derived` by arithmetic
from a source's own figures, shown in the note).  This script reshapes the raw files, fills a
blank party cell from party_splits.csv (a filled cell that disagrees is an error, never
overwritten), applies the few corrections listed in CORRECTIONS (each with its source) and adds
the annotations below (episode, vote type, threshold rule, direction of the yea vote).  A party
cell that no source gives stays missing in vote_counts.csv.

The one non-vote, the 1997 fast-track whip count, becomes interval evidence on the
yea counts; the bounds and their sources are spelled out in WHIP_1997 below.

Run:  python scripts/build_trade_data.py [--out DIR]   (default DIR: data/)
The tests build into a temporary folder and compare with the committed files, so the
checkout is never rewritten by a test run.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "trade_votes.csv"
SPLITS = ROOT / "data" / "raw" / "party_splits.csv"
# the stage boundary of each episode: the day the final proposal went to Congress, with its source
STAGES = ROOT / "data" / "raw" / "episode_stages.csv"

# Corrections of trade_votes.csv by later sources: case_id -> ({column: value}, why).  Roll numbers
# are the clerk's (House) or the Senate's record vote numbers, read from the roll-call records that
# party_splits.csv tallies (its source_url column names each record).
CORRECTIONS = {
    "chinamfn1991_h": ({"date": "1991-07-10", "roll_number": "203", "bill": "H.J.Res. 263 (102nd)"},
                       "date, roll and measure from the clerk's roll 203 of 1991 (tallied in party_splits.csv); "
                       "'Wednesday' in the Christian Science Monitor of 1991-07-12"),
    "chile_s": ({"yea_total": "65", "nay_total": "32", "roll_number": "319"},
                "the Senate's record of vote 319 (108th Congress) reads 'Bill Passed (65-32)'; the LA Times and "
                "CRS RL31144 give 66-31. The party tallies of the record (R 43-7, D 22-24, I 0-1) sum to 65-32"),
    "tpa2001_h": ({"roll_number": "481"}, "clerk roll 481 of 2001"),
    "tradeact2002_h_rule": ({"roll_number": "264"}, "clerk roll 264 of 2002"),
    "singapore_h": ({"roll_number": "432"}, "clerk roll 432 of 2003 (Voteview RH1080430)"),
    "australia_h": ({"roll_number": "375"}, "clerk roll 375 of 2004"),
    "taa2011_h": ({"roll_number": "784"}, "clerk roll 784 of 2011 (motion to agree to the Senate amendment to H.R. 2832)"),
    "chinamfn1996_h": ({"roll_number": "284"}, "clerk roll 284 of 1996 (H.J.Res. 182)"),
    "chinamfn1998_h": ({"roll_number": "317"}, "clerk roll 317 of 1998 (H.J.Res. 121)"),
    "chinantr2000_h": ({"roll_number": "405"}, "clerk roll 405 of 2000 (H.J.Res. 103)"),
    "ft1997_s_cloture": ({"roll_number": "292"}, "Senate record vote 292 (105th Congress)"),
    "tradeact2002_s_conf": ({"roll_number": "207"}, "Senate record vote 207 (107th Congress)"),
    "australia_s": ({"roll_number": "156"}, "Senate record vote 156 (108th Congress)"),
    "korea_s": ({"roll_number": "161"}, "Senate record vote 161 (112th Congress)"),
    "panama_s": ({"roll_number": "162"}, "Senate record vote 162 (112th Congress)"),
    "tpa2015_s_may": ({"roll_number": "193"}, "Senate record vote 193 (114th Congress)"),
    "tpa2015_s_final": ({"roll_number": "219"}, "Senate record vote 219 (114th Congress)"),
}

# episode_id, name, year, description.  An episode is one legislative fight; its votes are cases.
EPISODES = [
    ("chinamfn1991", "China MFN disapproval 1991", 1991, "House vote to deny China MFN status"),
    ("nafta1993", "NAFTA implementation", 1993, "North American Free Trade Agreement Implementation Act"),
    ("uraa1994", "Uruguay Round Agreements Act", 1994, "GATT/WTO implementing bill, lame-duck session"),
    ("chinamfn1996", "China MFN disapproval 1996", 1996, "House vote on revoking China MFN"),
    ("fasttrack1997", "Fast-track renewal 1997", 1997, "Clinton's fast-track request, pulled before the House vote (paper case 3.1)"),
    ("chinamfn1998", "China MFN/NTR disapproval 1998", 1998, "House vote on revoking China MFN/NTR"),
    ("fasttrack1998", "Fast-track renewal 1998", 1998, "House vote on fast-track, failed"),
    ("chinantr1999", "China NTR disapproval 1999", 1999, "Senate motion to discharge a disapproval resolution"),
    ("pntr2000", "China PNTR 2000", 2000, "Permanent normal trade relations with China (paper case 3.2)"),
    ("chinantr2000", "China NTR disapproval 2000", 2000, "House vote on revoking China NTR"),
    ("tpa2002", "Trade Act of 2002 (TPA)", 2002, "Trade promotion authority for President Bush"),
    ("chile2003", "U.S.-Chile FTA", 2003, "Implementing bill"),
    ("singapore2003", "U.S.-Singapore FTA", 2003, "Implementing bill"),
    ("australia2004", "U.S.-Australia FTA", 2004, "Implementing bill"),
    ("cafta2005", "DR-CAFTA", 2005, "Central America-Dominican Republic FTA implementing bill"),
    ("oman2006", "U.S.-Oman FTA", 2006, "Implementing bill"),
    ("peru2007", "U.S.-Peru TPA", 2007, "Implementing bill"),
    ("korea2011", "U.S.-Korea FTA", 2011, "Implementing bill"),
    ("colombia2011", "U.S.-Colombia TPA", 2011, "Implementing bill"),
    ("panama2011", "U.S.-Panama TPA", 2011, "Implementing bill"),
    ("taa2011", "Trade Adjustment Assistance 2011", 2011, "Worker aid paired with the 2011 FTAs"),
    ("tpa2015", "Trade promotion authority 2015", 2015, "TPA and TAA for President Obama"),
    ("usmca2019", "USMCA", 2019, "United States-Mexico-Canada Agreement implementing bill"),
]

# case_id -> (episode_id, vote_type, threshold_rule, yea_is_pro_trade, passed)
# vote_type: final_passage | cloture | procedural | whip_estimate | disapproval
# threshold_rule: majority_of_voting | three_fifths_of_senate | majority_of_members
# passed: the motion voted on carried (yes/no); blank when no vote was held.
CASES = {
    "nafta_h": ("nafta1993", "final_passage", "majority_of_voting", True, True),
    "nafta_s": ("nafta1993", "final_passage", "majority_of_voting", True, True),
    "uraa_h": ("uraa1994", "final_passage", "majority_of_voting", True, True),
    "uraa_s_waiver": ("uraa1994", "procedural", "three_fifths_of_senate", True, True),
    "uraa_s": ("uraa1994", "final_passage", "majority_of_voting", True, True),
    "ft1997_h_whip": ("fasttrack1997", "whip_estimate", "majority_of_members", True, None),
    "ft1997_s_cloture": ("fasttrack1997", "cloture", "three_fifths_of_senate", True, True),
    "ft1998_h": ("fasttrack1998", "final_passage", "majority_of_voting", True, False),
    "pntr_h": ("pntr2000", "final_passage", "majority_of_voting", True, True),
    "pntr_s": ("pntr2000", "final_passage", "majority_of_voting", True, True),
    "tpa2001_h": ("tpa2002", "final_passage", "majority_of_voting", True, True),
    "tradeact2002_s_hr3009": ("tpa2002", "final_passage", "majority_of_voting", True, True),
    "tradeact2002_h_rule": ("tpa2002", "procedural", "majority_of_voting", True, True),
    "tradeact2002_h_conf": ("tpa2002", "final_passage", "majority_of_voting", True, True),
    "tradeact2002_s_conf": ("tpa2002", "final_passage", "majority_of_voting", True, True),
    "chile_h": ("chile2003", "final_passage", "majority_of_voting", True, True),
    "singapore_h": ("singapore2003", "final_passage", "majority_of_voting", True, True),
    "chile_s": ("chile2003", "final_passage", "majority_of_voting", True, True),
    "singapore_s": ("singapore2003", "final_passage", "majority_of_voting", True, True),
    "australia_h": ("australia2004", "final_passage", "majority_of_voting", True, True),
    "australia_s": ("australia2004", "final_passage", "majority_of_voting", True, True),
    "cafta_s": ("cafta2005", "final_passage", "majority_of_voting", True, True),
    "cafta_h": ("cafta2005", "final_passage", "majority_of_voting", True, True),
    "oman_s1": ("oman2006", "final_passage", "majority_of_voting", True, True),
    "oman_h": ("oman2006", "final_passage", "majority_of_voting", True, True),
    "oman_s2": ("oman2006", "final_passage", "majority_of_voting", True, True),
    "peru_h": ("peru2007", "final_passage", "majority_of_voting", True, True),
    "peru_s": ("peru2007", "final_passage", "majority_of_voting", True, True),
    "korea_h": ("korea2011", "final_passage", "majority_of_voting", True, True),
    "colombia_h": ("colombia2011", "final_passage", "majority_of_voting", True, True),
    "panama_h": ("panama2011", "final_passage", "majority_of_voting", True, True),
    "taa2011_h": ("taa2011", "final_passage", "majority_of_voting", True, True),
    "korea_s": ("korea2011", "final_passage", "majority_of_voting", True, True),
    "colombia_s": ("colombia2011", "final_passage", "majority_of_voting", True, True),
    "panama_s": ("panama2011", "final_passage", "majority_of_voting", True, True),
    "tpa2015_s_may": ("tpa2015", "final_passage", "majority_of_voting", True, True),
    "taa2015_h": ("tpa2015", "final_passage", "majority_of_voting", True, False),
    "tpa2015_h_jun12": ("tpa2015", "final_passage", "majority_of_voting", True, True),
    "tpa2015_h_jun18": ("tpa2015", "final_passage", "majority_of_voting", True, True),
    "tpa2015_s_cloture": ("tpa2015", "cloture", "three_fifths_of_senate", True, True),
    "tpa2015_s_final": ("tpa2015", "final_passage", "majority_of_voting", True, True),
    "usmca_h": ("usmca2019", "final_passage", "majority_of_voting", True, True),
    "usmca_s_waiver": ("usmca2019", "procedural", "three_fifths_of_senate", True, True),
    "usmca_s": ("usmca2019", "final_passage", "majority_of_voting", True, True),
    "chinamfn1991_h": ("chinamfn1991", "disapproval", "majority_of_voting", False, True),
    "chinamfn1996_h": ("chinamfn1996", "disapproval", "majority_of_voting", False, False),
    "chinamfn1998_h": ("chinamfn1998", "disapproval", "majority_of_voting", False, False),
    "chinantr1999_s": ("chinantr1999", "disapproval", "majority_of_voting", False, False),
    "chinantr2000_h": ("chinantr2000", "disapproval", "majority_of_voting", False, False),
    "cafta_s_hr3045": ("cafta2005", "final_passage", "majority_of_voting", True, True),
}

# The 1997 House vote was never held.  Interval evidence on the yea count, per party
# and for the chamber, from the sources in trade_votes.csv (row ft1997_h_whip):
#   R: "GOP leaders counted 160-170 of 228 Republicans" (LA Times 1997-11-10)         -> [160, 170] of 228
#   D: "42 of 205 Democrats" (LA Times 11/10), "only about 40" (TIME), "not more than
#      45 of 205" (LA Times 11/8), "32 D yes + 2 leaning" (CongressDaily 11/7)       -> [32, 45] of 205
#   ALL: the sum of those bounds [192, 215] of 433; it contains the paper's "22 votes short
#      of the 218 ... at best" (196) and Gingrich's "within six or eight votes" (210-212).
WHIP_1997 = {
    "R": (160, 170, 228, "LA Times 1997-11-10: GOP leaders counted 160-170 of 228 Republicans"),
    "D": (32, 45, 205, "LA Times 11/10: 42 of 205; TIME: about 40; LA Times 11/8: at most 45; CongressDaily 11/7: 32 (+2 leaning)"),
    "ALL": (192, 215, 433, "sum of the party bounds; contains the paper's 196 (22 short of 218) and Gingrich's 210-212"),
}

PARTY_COLUMNS = {"R": ("r_yea", "r_nay"), "D": ("d_yea", "d_nay"), "I": ("i_yea", "i_nay"), "ALL": ("yea_total", "nay_total")}


def congress_of(date: str) -> int:
    """Number of the Congress sitting on a date (YYYY-MM or YYYY-MM-DD); Congresses start on 3 January of odd years."""
    year = int(date[:4])
    month = int(date[5:7]) if len(date) >= 7 else 12
    day = int(date[8:10]) if len(date) >= 10 else 31
    if year % 2 == 1 and month == 1 and day < 3:
        year -= 1
    return (year - 1789) // 2 + 1


def read_splits(path: Path = SPLITS) -> dict:
    """(case_id, party) -> the party_splits.csv row."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for r in rows:
        key = (r["case_id"], r["party"])
        if key in out:
            raise SystemExit(f"{path.name}: duplicate split {key}")
        out[key] = r
    return out


def apply_corrections(raw: list[dict]) -> None:
    by_id = {r["case_id"]: r for r in raw}
    for case_id, (values, why) in CORRECTIONS.items():
        row = by_id[case_id]
        for col, value in values.items():
            row[col] = value
        note = f"Corrected here ({', '.join(f'{c} = {v}' for c, v in values.items())}): {why}."
        row["notes"] = f"{row['notes']} {note}".strip()


def party_rows(r: dict, splits: dict) -> list[list]:
    """vote_counts.csv rows of one raw vote: the raw party cells, blanks filled from party_splits.csv."""
    rows = []
    for party, (ycol, ncol) in PARTY_COLUMNS.items():
        cells = {"yea": r[ycol].strip(), "nay": r[ncol].strip()}
        source, method = ("cases.csv source_url", "reported") if any(cells.values()) else ("", "")
        split = splits.get((r["case_id"], party))
        if split is not None:
            for key in ("yea", "nay"):
                new = split[key].strip()
                if cells[key] and new and cells[key] != new:
                    raise SystemExit(f"party_splits.csv: {r['case_id']} {party} {key} = {new} disagrees with "
                                     f"trade_votes.csv ({cells[key]}); resolve it in CORRECTIONS with a source")
                cells[key] = cells[key] or new
            source, method = split["source_url"], split["method"]
        if cells["yea"] == "" and cells["nay"] == "":
            continue
        rows.append([r["case_id"], party, cells["yea"], cells["nay"], "", "", "", "", method, source])
    return rows


def build(out: Path, raw_path: Path = RAW, splits_path: Path = SPLITS) -> int:
    """Write episodes.csv, cases.csv and vote_counts.csv into ``out``; 0 on success, 1 when annotations are stale.

    A function apart from :func:`main` so that a test can build into a scratch folder."""
    with raw_path.open(newline="", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    splits = read_splits(splits_path)
    unknown = [r["case_id"] for r in raw if r["case_id"] not in CASES]
    missing = [c for c in CASES if c not in {r["case_id"] for r in raw}]
    stray = sorted({c for c, _ in splits} - set(CASES))
    if unknown or missing or stray:
        print(f"case annotations out of date: unknown {unknown}, missing {missing}, splits of unknown cases {stray}",
              file=sys.stderr)
        return 1
    apply_corrections(raw)

    out.mkdir(parents=True, exist_ok=True)
    with STAGES.open(newline="", encoding="utf-8") as fh:
        stages = {r["episode_id"]: r for r in csv.DictReader(fh)}
    if set(stages) != {e[0] for e in EPISODES}:
        print(f"episode_stages.csv out of date: {sorted(set(stages) ^ {e[0] for e in EPISODES})}", file=sys.stderr)
        return 1
    with (out / "episodes.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["episode_id", "name", "year", "description", "proposal_date", "proposal_event", "proposal_source"])
        for episode in EPISODES:
            st = stages[episode[0]]
            w.writerow([*episode, st["proposal_date"], st["proposal_event"],
                        f"{st['outlet']}, {st['pub_date']}: {st['source_url']}" if st["source_url"] else ""])

    case_cols = [
        "case_id", "episode_id", "measure", "bill", "chamber", "date", "congress", "vote_type",
        "threshold_rule", "yea_is_pro_trade", "passed", "outcome", "roll_number", "not_voting",
        "threshold_note", "verified", "source_url", "notes",
    ]
    count_cols = ["case_id", "party", "yea", "nay", "yea_lower", "yea_upper", "n_members", "note", "method", "source"]
    with (out / "cases.csv").open("w", newline="", encoding="utf-8") as fc, (out / "vote_counts.csv").open(
        "w", newline="", encoding="utf-8"
    ) as fv:
        wc = csv.writer(fc, lineterminator="\n")
        wv = csv.writer(fv, lineterminator="\n")
        wc.writerow(case_cols)
        wv.writerow(count_cols)
        for r in raw:
            episode, vote_type, rule, pro, passed = CASES[r["case_id"]]
            wc.writerow([
                r["case_id"], episode, r["measure"], r["bill"], r["chamber"], r["date"], congress_of(r["date"]),
                vote_type, rule, "yes" if pro else "no", "" if passed is None else ("yes" if passed else "no"),
                r["outcome"], r["roll_number"], r["not_voting"], r["threshold_note"], r["verified"],
                r["source_url"], r["notes"],
            ])
            if vote_type == "whip_estimate":
                for party, (lo, hi, n, note) in WHIP_1997.items():
                    wv.writerow([r["case_id"], party, "", "", lo, hi, n, note, "whip_count", "cases.csv source_url"])
                continue
            wv.writerows(party_rows(r, splits))
    print(f"wrote {len(raw)} cases, {len(EPISODES)} episodes to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data", help="output folder (default: the repository's data/)")
    return build(parser.parse_args(argv).out)


if __name__ == "__main__":
    raise SystemExit(main())
