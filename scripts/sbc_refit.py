"""Refit chosen simulations of an SBC run with other sampler settings (longer chains, more tuning, a higher target
acceptance) and print their ranks and posteriors beside the run's: whether a miscalibrated group's ranks move when
the sampler gets more time separates the sampler from the model.

    .venv/bin/python scripts/sbc_refit.py OUT SPEC --sims 100 --sim 12 --sim 40 [--scalar NAME ...]
        [--draws 1000] [--tune 1500] [--chains 2] [--target-accept 0.95] [--sampler nutpie] [--save FILE]

OUT is the folder `bayes-coalition sbc SPEC --sims N --out OUT` wrote (its ``sbc_settings.json`` gives the seed and
the number of ranked draws; the spec must be of the run's model). Each simulation's data and truths are drawn again
as the run drew them (:func:`bayes_coalition.validation.sbc.prior_simulations`, ``simulation_chains``), the refit
starts from the run's fit seed, and the ranks break ties with the simulation's own stream as the run did: with the run's
settings a refit reproduces the run's ranks. Without ``--scalar``: every scalar of the run's worst group (lowest
ECDF p-value). ``--save``: one row per simulation and scalar (truth, the run's rank, the refit's rank, the refit's
posterior mean and sd) as CSV.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def refit_rows(sim: int, true_s: dict, post_s: dict, names: list[str], run_ranks: pd.DataFrame, new_ranks: list) -> list[dict]:
    """One row per named scalar of simulation ``sim``: truth, the run's rank, the refit's rank and posterior."""
    new = {label: rank for _, label, rank, _ in new_ranks}
    old = run_ranks[run_ranks["simulation"] == sim].set_index("parameter")["rank"]
    rows = []
    for name in names:
        draws = np.asarray(post_s[name], dtype=float).ravel()
        rows.append({"simulation": sim, "parameter": name, "truth": float(true_s[name]),
                     "run_rank": int(old[name]) if name in old.index else None, "refit_rank": int(new[name]),
                     "posterior_mean": float(draws.mean()), "posterior_sd": float(draws.std(ddof=1))})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the SBC run's folder (its --out)")
    ap.add_argument("spec", type=Path, help="the spec TOML of the run")
    ap.add_argument("--sims", type=int, required=True, help="the run's --sims")
    ap.add_argument("--sim", type=int, action="append", required=True, help="a simulation to refit (repeat for more)")
    ap.add_argument("--scalar", action="append", default=None, help="a ranked scalar (repeat for more)")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1500)
    ap.add_argument("--chains", type=int, default=None, help="default: the run's")
    ap.add_argument("--target-accept", type=float, default=None, help="default: the run's")
    ap.add_argument("--sampler", choices=("nutpie", "pymc"), default=None, help="default: nutpie where installed, as the run")
    ap.add_argument("--save", type=Path, default=None)
    args = ap.parse_args(argv)

    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.parallel import resolve
    from bayes_coalition.sampling import available, merge_chains
    from bayes_coalition.validation import sbc as S
    from bayes_coalition.validation.sbc_stats import summarise_sbc

    try:
        settings, spec, ranks = S.read_run(args.out, args.spec, args.sims)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    bad = [s for s in args.sim if not 0 <= s < args.sims]
    if bad:
        print(f"--sim {bad[0]} is outside the run's simulations 0..{args.sims - 1}", file=sys.stderr)
        return 1
    names = args.scalar
    if not names:
        summary = summarise_sbc(ranks)
        worst = min(summary["groups"], key=lambda g: summary["groups"][g]["ecdf_p_value"])
        names = sorted(p for p in ranks["parameter"].unique() if p == worst or p.startswith(worst + "["))
    unknown = [n for n in names if n not in set(ranks["parameter"])]
    if unknown:
        print(f"{unknown[0]}: not a ranked scalar of this run", file=sys.stderr)
        return 1
    chains = int(args.chains or settings["chains"])
    target = float(args.target_accept or settings.get("target_accept") or spec["sampler"]["target_accept"])
    spec = {**spec, "sampler": {**spec["sampler"], "target_accept": target}}
    sampler = args.sampler or ("nutpie" if available("nutpie") else "pymc")

    base = CoalitionModel(spec=spec)
    model = S.build_sbc_model(base)
    free = [v.name for v in model.free_RVs]          # R-hat over the free variables, as the run's sbc_fits.csv
    prior = S.prior_simulations(base, model, args.sims, int(settings["seed"]), S.COALITION_GROUPS)
    ex, _ = resolve(None)
    rows = []
    try:
        for sim in args.sim:
            tasks, true_s, rng = S.simulation_chains(base, prior, sim, int(settings["seed"]), spec, None, "shipped",
                                                     sampler, draws=args.draws, tune=args.tune, chains=chains)
            parts = dict(ex.stream(tasks, threads=ex.chain_threads(chains, sampler), label=f"refit {sim}",
                                   progress=False))
            idata, seconds = merge_chains([parts[(sim, c)] for c in range(chains)])   # seconds: core-seconds, as the run's
            post_s = S._scalars(idata.posterior, S.COALITION_GROUPS)
            new_ranks = S._ranks(sim, true_s, post_s, int(settings["n_keep"]), rng, chains)
            stats = S._fit_stats(idata, seconds, free)
            got = refit_rows(sim, true_s, post_s, names, ranks, new_ranks)
            rows += [{**r, **stats} for r in got]
            print(f"simulation {sim}: {args.draws} draws after {args.tune} tuning x {chains} chains, target "
                  f"{target}: {seconds:.0f} s, divergences {stats['divergences']}, max R-hat {stats['max_rhat']:.4f}, "
                  f"min bulk ESS {stats['min_ess_bulk']:.0f}", flush=True)
            for r in got:
                print(f"  {r['parameter']}: truth {r['truth']:.3f}; rank {r['run_rank']} -> {r['refit_rank']}; "
                      f"posterior {r['posterior_mean']:.3f} ({r['posterior_sd']:.3f})", flush=True)
            if args.save:
                pd.DataFrame(rows).to_csv(args.save, index=False)
    finally:
        ex.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
