"""Build data/floor_expectations.csv and data/coding/floor_reliability.json from the double coding.

Inputs (data/coding/, never edited after coding): ``floor_coder_a.csv`` and ``floor_coder_b.csv``, one row per roll
call and coder as coded (an empty level: no source found), and ``floor_adjudication.csv``, one row per roll call
either coder coded: both levels, the status, the final level (empty: dropped), whose source supports it and why.
Round 2 (optional, ``floor_coder_a_round2.csv`` and ``floor_coder_b_round2.csv``, same columns): the votes left
without a final level after round 1, coded afresh by both coders under the round-2 protocol
(``data/coding/floor_protocol_round2.md``); for those votes a coder's round-2 row replaces the round-1 row (the
round-1 files stay as they were coded), and ``floor_adjudication_round2.csv`` adjudicates them in place of
round 1's rows. The reliability's ``rounds`` block gives the agreement over the votes whose codes each round
supplies (``round_1``: the votes round 2 did not recode, so peru_h, coded by one coder in round 1, counts in
``round_2``).
The final table keeps, per vote with a final level, the chosen coder's source, date, quote and justification.
Krippendorff's alpha (ordinal) is computed over the votes both coders coded; the agreement on *whether* a vote
has a pre-vote source is reported beside it (data/CODING.md, "Floor expectations").

    python scripts/build_floor_expectations.py          # writes both files
    python scripts/build_floor_expectations.py --check  # exit 1 if either differs from what is built
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayes_coalition.data.reliability import krippendorff_alpha  # noqa: E402

COLUMNS = ["case_id", "level", "source_url", "outlet", "pub_date", "quote", "justification", "coder", "adjudication"]
STATUSES = ("agree", "disagree", "single_a", "single_b")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def build(data: Path = ROOT / "data") -> tuple[pd.DataFrame, dict]:
    coding = data / "coding"
    a, b = (_read(coding / f"floor_coder_{c}.csv").set_index("case_id") for c in ("a", "b"))
    adj = _read(coding / "floor_adjudication.csv")
    if sorted(a.index) != sorted(b.index):
        raise ValueError("floor_coder_a.csv and floor_coder_b.csv must list the same roll calls")
    round1 = (a.copy(), b.copy())
    round2: list[str] = []
    if (coding / "floor_coder_a_round2.csv").is_file() or (coding / "floor_coder_b_round2.csv").is_file():
        a2, b2 = (_read(coding / f"floor_coder_{c}_round2.csv").set_index("case_id") for c in ("a", "b"))
        if sorted(a2.index) != sorted(b2.index):
            raise ValueError("floor_coder_a_round2.csv and floor_coder_b_round2.csv must list the same roll calls")
        final1 = set(adj.loc[adj["final_level"] != "", "case_id"])
        wrong = sorted((set(a2.index) & final1) | (set(a2.index) - set(a.index)))
        if wrong:
            raise ValueError(f"round 2 codes only roll calls left without a final level after round 1, not {wrong}")
        round2 = list(a2.index)
        a.loc[round2], b.loc[round2] = a2.loc[round2, a.columns], b2.loc[round2, b.columns]
        adj2 = _read(coding / "floor_adjudication_round2.csv")
        adj = pd.concat([adj[~adj["case_id"].isin(round2)], adj2[adj.columns]], ignore_index=True)
    coded = sorted(set(a.index[a["level"] != ""]) | set(b.index[b["level"] != ""]))
    if sorted(adj["case_id"]) != coded:
        raise ValueError(f"floor_adjudication.csv must hold one row per vote either coder coded: {coded}")
    rows = []
    for r in adj.itertuples(index=False):
        la, lb = a.loc[r.case_id, "level"], b.loc[r.case_id, "level"]
        if (r.level_a, r.level_b) != (la, lb):
            raise ValueError(f"{r.case_id}: floor_adjudication.csv's levels ({r.level_a!r}, {r.level_b!r}) are not the "
                             f"coders' ({la!r}, {lb!r})")
        status = "agree" if la == lb else "disagree" if la and lb else "single_a" if la else "single_b"
        if r.status != status:
            raise ValueError(f"{r.case_id}: status {r.status!r}, expected {status!r}")
        if r.final_level == "":
            continue
        src = (a if r.chosen == "a" else b).loc[r.case_id]
        rows.append({"case_id": r.case_id, "level": int(r.final_level), "source_url": src["source_url"],
                     "outlet": src["outlet"], "pub_date": src["pub_date"], "quote": src["quote"],
                     "justification": src["justification"], "coder": src["coder"],
                     "adjudication": "agree" if status == "agree" and r.final_level == la else
                     "single" if status.startswith("single") else "resolved"})
    order = list(a.index)
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values("case_id", key=lambda s: s.map(order.index))
    both = [cid for cid in order if a.loc[cid, "level"] and b.loc[cid, "level"]]
    units = [[float(a.loc[c, "level"]), float(b.loc[c, "level"])] for c in both]
    rounds = {}
    for name, (ca, cb), votes in (("round_1", round1, [c for c in order if c not in round2]), ("round_2", (a, b), round2)):
        pair = [[float(ca.loc[c, "level"]), float(cb.loc[c, "level"])] for c in votes
                if ca.loc[c, "level"] and cb.loc[c, "level"]]
        rounds[name] = {"n_votes": len(votes), "coded_by_both": len(pair),
                        "coded_by_one": sum(bool(ca.loc[c, "level"]) != bool(cb.loc[c, "level"]) for c in votes),
                        "exact_agreement": sum(u[0] == u[1] for u in pair) / len(pair) if pair else None,
                        "alpha_ordinal": krippendorff_alpha(pair, "ordinal") if len(pair) > 1 else None}
    found_a, found_b = (a["level"] != ""), (b["level"] != "")
    rel = {
        "method": "Krippendorff's alpha over the roll calls both coders coded (two coders, levels 0-2)",
        "n_votes": len(order), "coded_by_both": len(both), "coded_by_one": int((found_a ^ found_b).sum()),
        "coded_by_neither": int((~found_a & ~found_b).sum()),
        "exact_agreement": sum(u[0] == u[1] for u in units) / len(units) if units else None,
        "alpha_ordinal": krippendorff_alpha(units, "ordinal") if units else None,
        "alpha_nominal": krippendorff_alpha(units, "nominal") if units else None,
        "source_found_agreement": float((found_a == found_b).mean()),
        "final_codes": len(table), "final_levels": {str(k): int(v) for k, v in table["level"].value_counts().sort_index().items()},
    }
    if round2:
        rel["rounds"] = rounds
    return table.reset_index(drop=True), rel


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data")
    ap.add_argument("--check", action="store_true", help="compare with the files instead of writing them")
    args = ap.parse_args(argv)
    table, rel = build(args.data)
    text = table.to_csv(index=False, lineterminator="\n")
    rel_text = json.dumps(rel, indent=2) + "\n"
    out, rel_out = args.data / "floor_expectations.csv", args.data / "coding" / "floor_reliability.json"
    if args.check:
        stale = [str(p) for p, t in ((out, text), (rel_out, rel_text)) if not p.is_file() or p.read_text() != t]
        if stale:
            print("out of date: " + ", ".join(stale))
            return 1
        print(f"{out} and {rel_out} are up to date")
        return 0
    out.write_text(text)
    rel_out.write_text(rel_text)
    print(f"wrote {out} ({len(table)} codes) and {rel_out} (alpha ordinal {rel['alpha_ordinal']:.3f} over "
          f"{rel['coded_by_both']} votes coded by both)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
