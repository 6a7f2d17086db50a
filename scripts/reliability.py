"""Krippendorff's alpha (ordinal) of the two raw codings, per indicator and overall.

Reads data/coding/coder_a.csv and coder_b.csv (the two independent codings, kept as coded) and
writes data/coding/reliability.json. A unit is (episode, stage, indicator, actor); alpha counts the
units both coders coded (pairable values); the JSON also gives how many units each coder coded
alone, since alpha says nothing about them. Units of a stage an episode does not have (see
data/CODING.md) are left out, as in the adjudicated evidence.

Run:  python scripts/reliability.py [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayes_coalition._io import write_json  # noqa: E402
from bayes_coalition.data.dataset import has_formulation  # noqa: E402
from bayes_coalition.data.reliability import krippendorff_alpha, paired_units  # noqa: E402

KEY = ("episode_id", "stage", "indicator", "actor_id")
THRESHOLD = 0.667  # Krippendorff's lowest acceptable alpha for tentative conclusions (0.800 for firm ones)


def reliability(coding: Path = ROOT / "data" / "coding", episodes: Path = ROOT / "data" / "episodes.csv") -> dict:
    a = pd.read_csv(coding / "coder_a.csv", dtype=str)
    b = pd.read_csv(coding / "coder_b.csv", dtype=str)
    ep = pd.read_csv(episodes, dtype=str)
    no_formulation = {e for e in ep["episode_id"] if not has_formulation(ep, e)}
    pairs = paired_units(a, b, KEY)
    pairs = pairs[~((pairs["stage"] == "formulation") & pairs["episode_id"].isin(no_formulation))]
    for side in ("a", "b"):
        pairs[side] = pd.to_numeric(pairs[side])

    def block(frame: pd.DataFrame) -> dict:
        both = frame.dropna(subset=["a", "b"])
        return {
            "alpha_ordinal": round(krippendorff_alpha(frame[["a", "b"]].to_numpy(), "ordinal"), 4),
            "alpha_nominal": round(krippendorff_alpha(frame[["a", "b"]].to_numpy(), "nominal"), 4),
            "units_both": int(len(both)),
            "agreement": round(float((both["a"] == both["b"]).mean()), 4) if len(both) else None,
            "units_only_a": int((frame["a"].notna() & frame["b"].isna()).sum()),
            "units_only_b": int((frame["b"].notna() & frame["a"].isna()).sum()),
        }

    out = {
        "method": "Krippendorff's alpha, ordinal metric (nominal beside it), two coders, units coded by both",
        "unit": "episode x stage x indicator x actor",
        "threshold": THRESHOLD,
        "overall": block(pairs),
        "by_indicator": {ind: block(g) for ind, g in pairs.groupby("indicator")},
        "by_stage": {st: block(g) for st, g in pairs.groupby("stage")},
    }
    out["below_threshold"] = sorted(k for k, v in out["by_indicator"].items()
                                    if not (v["alpha_ordinal"] >= THRESHOLD))   # NaN counts as below
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "coding" / "reliability.json")
    args = parser.parse_args(argv)
    result = reliability()
    write_json(args.out, result)   # the package's JSON writer: an undefined alpha (NaN) becomes null
    o = result["overall"]
    print(f"overall ordinal alpha {o['alpha_ordinal']} on {o['units_both']} units coded by both "
          f"(agreement {o['agreement']}); below {THRESHOLD}: {', '.join(result['below_threshold']) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
