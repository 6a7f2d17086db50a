"""Build data/evidence.csv (the adjudicated codes the model reads) from the double coding.

Inputs, all in data/coding/ (see data/CODING.md for the protocol):
- coder_a.csv, coder_b.csv: the two independent codings, as coded (never edited);
- adjudication.csv: one row per unit either coder coded, with both levels, the final level, whose
  source supports it (``chosen``) and the resolution; a unit with a blank final level was dropped;
- paper_codes.csv: the first coding, from the source paper's retrospective case studies (kept,
  flagged ``adjudication = paper`` and ex post).

The final row of a unit is the chosen coder's row (source, date, quote, justification) at the final
level. Where both coders agreed, the chosen row is the one whose source meets the date rule (coder
A's when both or neither do). ``ex_post`` is not coded by hand: it is computed by the date rule of
bayes_coalition/data/evidence.py from each source's date and the episode's stage window.

Run:  python scripts/build_evidence.py [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayes_coalition.data.evidence import stage_windows, within_window  # noqa: E402

KEY = ["episode_id", "stage", "indicator", "actor_id"]
COLUMNS = ["episode_id", "stage", "indicator", "level", "actor_id", "source_url", "outlet", "pub_date", "quote",
           "justification", "coder", "ex_post", "adjudication"]
STATUS = {"agree": "agree", "disagree": "resolved", "single_a": "single", "single_b": "single"}


def build(data: Path = ROOT / "data") -> pd.DataFrame:
    coding = data / "coding"
    rows = {c: pd.read_csv(coding / f"coder_{c}.csv", dtype=str, keep_default_na=False) for c in "ab"}
    adj = pd.read_csv(coding / "adjudication.csv", dtype=str, keep_default_na=False)
    episodes = pd.read_csv(data / "episodes.csv", dtype=str)
    cases = pd.read_csv(data / "cases.csv", dtype=str)
    windows = stage_windows(episodes, cases)
    index = {c: r.set_index(KEY) for c, r in rows.items()}
    for c, r in index.items():
        if r.index.duplicated().any():
            raise SystemExit(f"coder_{c}.csv codes a unit twice: {r.index[r.index.duplicated()][0]}")

    # the date rule of every coded row, computed once per coder (row by row it cost 2-3 s)
    in_window = {c: pd.Series(within_window(r.reset_index(), windows).to_numpy(), index=r.index) for c, r in index.items()}

    out = []
    for _, u in adj.iterrows():
        if u["final_level"] == "" or u["status"] not in STATUS:
            continue  # dropped by the adjudicator, or a stage the episode does not have
        key = tuple(u[k] for k in KEY)
        chosen = u["chosen"]
        if u["status"] == "agree":
            ok = {c: bool(in_window[c].loc[key]) for c in "ab"}
            chosen = "b" if ok["b"] and not ok["a"] else "a"
        if chosen not in ("a", "b"):
            raise SystemExit(f"adjudication.csv: unit {key} has final level {u['final_level']} but no chosen coder")
        src = index[chosen].loc[key]
        out.append({**dict(zip(KEY, key, strict=True)), "level": u["final_level"], "source_url": src["source_url"],
                    "outlet": src["outlet"], "pub_date": src["pub_date"], "quote": src["quote"],
                    "justification": src["justification"], "coder": f"coder_{chosen}",
                    "adjudication": STATUS[u["status"]]})
    final = pd.DataFrame(out)
    final["ex_post"] = ~within_window(final, windows)
    paper = pd.read_csv(coding / "paper_codes.csv", dtype=str, keep_default_na=False)
    paper["ex_post"] = True
    paper["adjudication"] = "paper"
    final = pd.concat([final, paper], ignore_index=True)
    final["ex_post"] = final["ex_post"].map({True: "yes", False: "no"})
    return final[COLUMNS].sort_values(KEY + ["coder"], kind="stable").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "evidence.csv")
    args = parser.parse_args(argv)
    final = build()
    final.to_csv(args.out, index=False, lineterminator="\n")
    contemporaneous = final[(final["ex_post"] == "no")]
    print(f"wrote {len(final)} coded units ({len(contemporaneous)} contemporaneous, "
          f"{int((final['ex_post'] == 'yes').sum())} ex post) for {final['episode_id'].nunique()} episodes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
