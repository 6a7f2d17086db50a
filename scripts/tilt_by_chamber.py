"""The vote-level party-tilt deviations of a fitted run, by chamber: the check that motivated the ``house_tilt``
covariate (docs/model_layers.md, "House tilt").

    .venv/bin/python scripts/tilt_by_chamber.py RUN_DIR [--leave-out taa2011_h,taa2015_h,usmca_s_waiver]

Prints, per chamber, the mean, sd and count of the posterior-mean standardised deviations ``party_tilt_z`` (a vote's
tilt around its Congress's, in units of ``sigma_party_tilt``), Welch's t-test of House against Senate, and per
Congress the House mean minus the Senate mean. ``--leave-out`` drops votes first (default: the three whose sides
reverse on the pro-trade axis: worker aid, TAA 2011 and 2015, and the 2020 budget waiver). Negative deviations
move Republicans toward the motion and Democrats away from it.
"""

from __future__ import annotations

import argparse

import pandas as pd
from scipy import stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="a run directory written by `bayes-coalition fit`")
    ap.add_argument("--leave-out", default="taa2011_h,taa2015_h,usmca_s_waiver")
    args = ap.parse_args()

    from bayes_coalition.coalition.model import CoalitionModel

    model = CoalitionModel.load(args.run)
    z = model.idata.posterior["party_tilt_z"].mean(("chain", "draw")).to_series()
    cases = model.dataset.cases.set_index("case_id")
    t = pd.DataFrame({"tilt_z": z}).join(cases[["congress", "chamber"]])
    left_out = [c for c in args.leave_out.split(",") if c]
    t = t.drop(index=[c for c in left_out if c in t.index])
    print(f"{model.spec['model']['name']} (model id {model.id}); left out: {', '.join(left_out) or 'none'}")
    print(t.groupby("chamber")["tilt_z"].agg(["mean", "std", "count"]).round(2).to_string())
    house, senate = t.loc[t["chamber"] == "House", "tilt_z"], t.loc[t["chamber"] == "Senate", "tilt_z"]
    welch = stats.ttest_ind(house, senate, equal_var=False)
    print(f"Welch t (House - Senate): t = {welch.statistic:.2f}, p = {welch.pvalue:.3f}")
    by = t.groupby(["congress", "chamber"])["tilt_z"].mean().unstack()
    diff = (by["House"] - by["Senate"]).dropna()
    print("House minus Senate mean deviation per Congress: "
          + ", ".join(f"{c} {d:+.2f}" for c, d in diff.items())
          + f" ({int((diff < 0).sum())} of {len(diff)} negative)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
