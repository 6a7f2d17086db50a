"""Rebuild data/composition.csv and data/covariates.csv from the Voteview files in data/raw/voteview/.

composition.csv: the party composition of each chamber for Congresses 102-116, one row per
(congress, chamber, party) with two counts:

- ``members``: distinct members (ICPSR ids) of the party who cast party-unity votes in that
  Congress and chamber.  It over-counts seats: a seat held by two members in one Congress
  (death, resignation, special election) counts twice, and a party switcher counts once in
  each party (Voteview gives him a new ICPSR id).
- ``seats``: the seats the party held, capped at the chamber.  Every seat is shared equally
  among the members who held it in the Congress: a House seat is (state, district), and a
  member held 1/k of it when k members held it; a state's two Senate seats are shared by its
  k senators (2/k each, or the one seat of a state with a single senator listed).  A
  party's seat share is rounded to whole seats by the largest remainder, so the parties sum
  to the seats present in the source; a tie (a seat split 1/2-1/2) goes to the party with
  more members, then R before D.  The package uses ``seats`` (data/README.md says why).

Independents: the source lists Democrats and Republicans only (party_code 100 and 200; no
328 or other code occurs in it).  A seat with no D or R member in the whole Congress was
held by an independent (Sanders in the House 102-109 and the Senate 110-116, Jeffords in the
Senate 108-109, King 113-116); its I row has those seats and a blank ``members`` (the source
does not list them).  No I row is written where every seat had a D or R member (an
independent who switched mid-Congress is counted under his former party).
Delegates of DC and the territories are not members of the 435 and are left out.

covariates.csv: DW-NOMINATE party means per Congress and chamber, copied as text from
party_polarization.csv (dimension 1: liberal-conservative; dimension 2), the party-mean gap on
dimension 1 (the source's party.mean.diff.d1, R mean minus D mean) and the first year of the
Congress.

Run:  python scripts/build_composition.py [--out DIR]   (default DIR: data/)
The tests build into a temporary folder and compare with the committed files.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "voteview"
MEMBERS = RAW / "members_100_118.csv"
POLARIZATION = RAW / "party_polarization.csv"

CONGRESSES = range(102, 117)                       # 102 (1991) .. 116 (2019-2021): the trade cases' span
CHAMBER_SEATS = {"House": 435, "Senate": 100}      # as bayes_coalition.constants.SEATS
PARTY_CODES = {"100": "D", "200": "R"}             # Voteview party codes; the file holds no other
DELEGATES = {"AS", "DC", "GU", "MP", "PR", "VI"}   # non-voting Delegates and the Resident Commissioner
PARTY_ORDER = ("R", "D", "I")

COMPOSITION_COLUMNS = ("congress", "chamber", "party", "members", "seats", "note")
# output column <- source column of party_polarization.csv
COVARIATE_COLUMNS = {
    "congress": "congress", "chamber": "chamber", "year": "year",
    "dem_mean_d1": "dem.mean.d1", "rep_mean_d1": "rep.mean.d1",
    "dem_mean_d2": "dem.mean.d2", "rep_mean_d2": "rep.mean.d2",
    "party_gap_d1": "party.mean.diff.d1",
}


def read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _fmt(x: Fraction) -> str:
    return str(int(x)) if x.denominator == 1 else f"{float(x):.2f}".rstrip("0")


def round_shares(shares: dict[str, Fraction], members: dict[str, int]) -> dict[str, int]:
    """Largest-remainder rounding to the (integer) total of the shares; ties: more members, then R, D."""
    total = sum(shares.values())
    assert total.denominator == 1, total
    out = {p: int(s) for p, s in shares.items()}         # floor (shares are non-negative)
    left = int(total) - sum(out.values())
    order = sorted(shares, key=lambda p: (-(shares[p] - out[p]), -members[p], PARTY_ORDER.index(p)))
    for p in order[:left]:
        out[p] += 1
    return out


def composition_rows(members: list[dict]) -> list[dict]:
    by_chamber: dict[tuple[int, str], list[dict]] = defaultdict(list)
    states_ever: dict[str, set] = defaultdict(set)
    for r in members:
        if r["party_code"] not in PARTY_CODES:
            raise ValueError(f"{MEMBERS}: party_code {r['party_code']} of {r['bioname']} has no rule here")
        if r["state_abbrev"] in DELEGATES:
            continue
        states_ever[r["chamber"]].add(r["state_abbrev"])
        if int(r["congress"]) in CONGRESSES:
            by_chamber[(int(r["congress"]), r["chamber"])].append(r)
    rows = []
    for (congress, chamber), group in sorted(by_chamber.items(), key=lambda kv: (kv[0][0], kv[0][1] != "House")):
        seats_of: dict[tuple, list[dict]] = defaultdict(list)
        for r in group:
            seat = (r["state_abbrev"], r["district_code"]) if chamber == "House" else (r["state_abbrev"],)
            seats_of[seat].append(r)
        share = {"R": Fraction(0), "D": Fraction(0)}
        present = 0
        for held in seats_of.values():
            n_seats = 1 if chamber == "House" else min(2, len(held))
            present += n_seats
            for r in held:
                share[PARTY_CODES[r["party_code"]]] += Fraction(n_seats, len(held))
        n_members = {p: len({r["icpsr"] for r in group if PARTY_CODES[r["party_code"]] == p}) for p in ("R", "D")}
        assert sum(n_members.values()) == len(group), "one row per member and Congress"
        seats = round_shares(share, n_members)
        for p in ("R", "D"):
            note = "" if share[p].denominator == 1 else (
                f"seat share {_fmt(share[p])} (a seat held by k members in the Congress counts 1/k each), "
                "rounded by the largest remainder")
            rows.append({"congress": congress, "chamber": chamber, "party": p, "members": n_members[p],
                         "seats": seats[p], "note": note})
        missing = CHAMBER_SEATS[chamber] - present
        assert missing >= 0, (congress, chamber, present)
        if missing:
            states = {s[0] for s in seats_of}
            where = sorted(states_ever[chamber] - states) if chamber == "House" else sorted(
                s[0] for s, held in seats_of.items() if len(held) == 1)
            rows.append({"congress": congress, "chamber": chamber, "party": "I", "members": "", "seats": missing,
                         "note": f"{missing} seat(s) with no D or R member in the Congress: independents, whom the "
                                 f"source does not list ({'seat' if chamber == 'House' else 'second seat'} of "
                                 f"{', '.join(where) or 'unnamed state'})"})
    found = sorted({c for c, _ in by_chamber})
    if found != list(CONGRESSES):
        raise ValueError(f"{MEMBERS}: Congresses {found} instead of {CONGRESSES}")
    return rows


def covariate_rows(polarization: list[dict]) -> list[dict]:
    rows = [{out: r[src] for out, src in COVARIATE_COLUMNS.items()} for r in polarization
            if int(r["congress"]) in CONGRESSES and r["chamber"] in CHAMBER_SEATS]
    rows.sort(key=lambda r: (int(r["congress"]), r["chamber"] != "House"))
    if len(rows) != 2 * len(CONGRESSES):
        raise ValueError(f"{POLARIZATION}: {len(rows)} rows for Congresses {CONGRESSES.start}-{CONGRESSES.stop - 1}")
    return rows


def write(path: Path, columns, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def build(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    composition = composition_rows(read(MEMBERS))
    covariates = covariate_rows(read(POLARIZATION))
    write(out / "composition.csv", COMPOSITION_COLUMNS, composition)
    write(out / "covariates.csv", COVARIATE_COLUMNS, covariates)
    print(f"wrote {out / 'composition.csv'} ({len(composition)} rows), {out / 'covariates.csv'} ({len(covariates)} rows)",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data", help="output folder (default: the repository's data/)")
    return build(parser.parse_args(argv).out)


if __name__ == "__main__":
    raise SystemExit(main())
