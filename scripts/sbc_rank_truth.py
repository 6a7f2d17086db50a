"""Read an SBC run's ranks against its true values: for each named scalar, the simulations per rank bin with the
median truth in each, and the rank's Spearman correlation with the truth; where the run's ``sbc_fits.csv`` is there,
the uniformity tests on the simulations whose fits' max R-hat is at or below its median and on the rest. A bin crowded by one region of the
parameter (small truths, say) points at a miscalibration there; a crowded bin whose truths spread like the others'
does not.

    .venv/bin/python scripts/sbc_rank_truth.py OUT SPEC --sims 100 [--scalar NAME ...] [--bins 10] [--save FILE]

OUT is the folder `bayes-coalition sbc SPEC --sims N --out OUT` wrote; the truths are drawn again
(:func:`bayes_coalition.validation.sbc.coalition_truths`, with the run's seed from ``sbc_settings.json``; about 15 s,
no fit). The spec must be of the run's model (its model id), else the script refuses (rc 1). Without ``--scalar``:
the scalar with the lowest chi-square p-value. ``--save``: the truths as CSV (simulation x scalar).

Measured 2026-12-03 on the default's SBC at 78 simulations (docs/model_layers.md, "The Bonferroni factor counts
distinct quantities"): faction_share[rep_conservative]'s crowded bin of ranks 30-39 (18 simulations) has truths
from 0.14 to 0.81. At 84 simulations its non-uniformity sits in the less converged half of the fits (max R-hat above
1.0192: chi-square p 0.001, ECDF 0.015; the other half 0.32 and 0.29).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rank_truth_table(ranks: pd.Series, truths: pd.Series, n_draws: int, bins: int = 10) -> pd.DataFrame:
    """Per rank bin (bin b holds the ranks r with ``r * bins // (n_draws + 1) == b``, as the chi-square's): the number of
    simulations and the median, smallest and largest truth among them. ``ranks`` and ``truths`` are indexed by
    simulation."""
    both = pd.DataFrame({"rank": ranks, "truth": truths}).dropna()
    both["bin"] = (both["rank"].astype(int) * bins) // (n_draws + 1)
    table = both.groupby("bin")["truth"].agg(simulations="size", median="median", lowest="min", highest="max")
    return table.reindex(range(bins)).fillna({"simulations": 0}).astype({"simulations": int})


def by_convergence(ranks: pd.Series, max_rhat: pd.Series, n_draws: int) -> pd.DataFrame:
    """The scalar's ranks (indexed by simulation) split at the median of their fits' max R-hat (``sbc_fits.csv``):
    per half the simulations, mean rank, chi-square and ECDF p-values (not Bonferroni-adjusted) and the ten-bin
    counts. A non-uniformity that sits in the less converged half points at the fits rather than the model."""
    from bayes_coalition.validation.sbc_stats import ecdf_pvalue, uniformity_pvalue

    rhat = max_rhat.reindex(ranks.index)
    cut = float(rhat.median())
    rows = []
    for label, part in ((f"max R-hat <= {cut:.4f}", ranks[rhat <= cut]), (f"max R-hat > {cut:.4f}", ranks[rhat > cut])):
        r = part.to_numpy(dtype=int)
        rows.append({"fits": label, "simulations": len(r), "mean rank": float(r.mean()) if len(r) else float("nan"),
                     "chi-square p": uniformity_pvalue(r, n_draws), "ECDF p": ecdf_pvalue(r, n_draws),
                     "bins": " ".join(map(str, np.bincount(r * 10 // (n_draws + 1), minlength=10)))})
    return pd.DataFrame(rows).set_index("fits")


def main(argv: list[str] | None = None) -> int:
    from bayes_coalition.validation.sbc import coalition_truths, read_run
    from bayes_coalition.validation.sbc_stats import summarise_sbc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the SBC run's folder (its --out)")
    ap.add_argument("spec", type=Path, help="the spec TOML of the run")
    ap.add_argument("--sims", type=int, required=True, help="the run's --sims")
    ap.add_argument("--scalar", action="append", default=None, help="a ranked scalar (repeat for more)")
    ap.add_argument("--bins", type=int, default=10)
    ap.add_argument("--save", type=Path, default=None, help="write the truths (simulation x scalar) here")
    args = ap.parse_args(argv)

    try:
        settings, spec, ranks = read_run(args.out, args.spec, args.sims)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    names = args.scalar
    if not names:
        scalars = summarise_sbc(ranks, bins=args.bins)["scalars"]
        names = [min(scalars, key=scalars.get)]
    fits_path = args.out / "sbc_fits.csv"
    fits = pd.read_csv(fits_path).set_index("simulation") if fits_path.is_file() else None
    truths = coalition_truths(spec, args.sims, seed=int(settings["seed"]))
    if args.save:
        truths.to_csv(args.save)
    for name in names:
        if name not in truths.columns:
            print(f"{name}: not a ranked scalar of this run", file=sys.stderr)
            return 1
        r = ranks[ranks["parameter"] == name].set_index("simulation")
        t = truths.loc[r.index, name]
        rho = pd.Series(r["rank"].to_numpy()).corr(pd.Series(t.to_numpy()), method="spearman")
        print(f"{name}: {len(r)} simulations; Spearman(rank, truth) {rho:.3f}")
        print(rank_truth_table(r["rank"], t, int(r["n_draws"].iloc[0]), args.bins).to_string(float_format=lambda x: f"{x:.3f}"))
        if fits is not None:
            print(by_convergence(r["rank"], fits["max_rhat"], int(r["n_draws"].iloc[0])).to_string(
                float_format=lambda x: f"{x:.4f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
