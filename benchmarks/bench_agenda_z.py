"""Agenda control's Z against the exact floor probability, at the true parameters of an SBC run.

    .venv/bin/python benchmarks/bench_agenda_z.py [--spec models/trade_coalition.toml] [--sims 40] [--draws 8000]
                                                  [--seed 1] [--run-sims 100]

The layer's likelihood divides each held vote's term by ``Z``, the normal approximation of ``E[pi(y)]`` integrated
over the vote's own deviations by Gauss-Hermite nodes (``coalition/agenda.py``). The SBC simulates held votes from
the count model itself (``validation/sbc_strategic.held_votes``), whose normalising constant is the exact
``E[pi(y)]``; so the fit's density differs from the simulator's by ``sum_v log Z_exact - log Z`` over the held votes,
a function of the parameters. If it moved with a parameter, that parameter's SBC ranks would not be uniform.

For the first ``--sims`` simulations of an SBC run of ``--run-sims`` simulations and seed ``--seed`` (the run's
truths: ``validation.sbc.prior_simulations``), this draws ``--draws`` deviations and counts per held vote from the
count model, takes the mean of ``pi(y)`` (the exact ``Z`` up to Monte Carlo error) and prints per simulation the
summed ``log Z - log Z_exact``, its Monte Carlo sd (binomial, summed over the votes), the largest error of one vote,
and the Spearman correlation of the summed error with each party's first faction share.

Measured 2026-12-03 (default spec, model id 27c8ed442771927d, 40 simulations, 8000 draws; beside an SBC):
summed error over the 44 held votes mean -0.025, sd 0.139 (range -0.42 to 0.43), Monte Carlo sd of one
simulation's sum median 0.041, largest for one vote 0.159; Spearman with the Republican share 0.08, with the
Democratic 0.34 (docs/model_layers.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from bayes_coalition.coalition import agenda
    from bayes_coalition.coalition.graph import floor_rows
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.predictive import draw_arrays, simulate
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.validation import sbc, sbc_strategic

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=default_spec_path())
    ap.add_argument("--sims", type=int, default=40)
    ap.add_argument("--draws", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--run-sims", type=int, default=100)
    args = ap.parse_args(argv)

    spec = load_spec(args.spec)
    if not spec["model"]["agenda_control"]:
        print(f"{args.spec} has no agenda control", file=sys.stderr)
        return 1
    base = CoalitionModel(spec=spec)
    md = base.model_data
    prior = sbc.prior_simulations(base, sbc.build_sbc_model(base), args.run_sims, args.seed, sbc.COALITION_GROUPS)
    held, _ = sbc_strategic.floor_cases(md)
    fr = floor_rows(md, held)
    rows_of = [np.flatnonzero(md.obs_case_idx == c) for c in held]
    first = {p: md.coords["faction"][np.flatnonzero(md.faction_party == p)[0]] for p in ("R", "D")}
    rng = np.random.default_rng(2026)
    out = []
    for sim in range(min(args.sims, args.run_sims)):
        t = prior["truth"].isel(draw=[sim])
        arrays = draw_arrays(t, md, base.discrimination)
        one = {k: float(t[k].values.ravel()[0]) for k in ("sigma_case", "sigma_party_tilt", "agenda_bar", "agenda_scale",
                                                           "agenda_leak")}
        s_c, s_t = one["sigma_case"], one["sigma_party_tilt"]
        cut = arrays["cut_point"][0] - s_c * t["case_z"].values.reshape(-1)
        tilt = arrays["party_tilt"][0] - s_t * t["party_tilt_z"].values.reshape(-1)
        batch = sbc_strategic.tiled(arrays, args.draws)
        batch["cut_point"][:, held] = cut[held] + s_c * rng.normal(size=(args.draws, len(held)))
        batch["party_tilt"][:, held] = tilt[held] + s_t * rng.normal(size=(args.draws, len(held)))
        y = simulate(batch, md, rng)["obs_yea"]
        pi = np.stack([agenda.floor_given_count(np, y[:, rows_of[j]].sum(axis=1), fr["threshold"][j], fr["n_case"][j],
                                                one["agenda_bar"], one["agenda_scale"], one["agenda_leak"])
                       for j in range(len(held))], axis=1)
        exact = pi.mean(axis=0)
        z = t["agenda_floor_probability"].values.reshape(-1)[:len(held)]
        err = np.log(z) - np.log(exact)
        mc = np.sqrt(np.sum(pi.var(axis=0) / (args.draws * exact ** 2)))
        share = t["faction_share"].values.reshape(-1)
        faction = list(md.coords["faction"])
        out.append({"simulation": sim, "summed_error": float(err.sum()), "mc_sd": float(mc),
                    "largest_error": float(np.abs(err).max()),
                    **{f"share_{first[p]}": float(share[faction.index(first[p])]) for p in ("R", "D")}})
        print(out[-1], flush=True)
    d = pd.DataFrame(out)
    print(f"\nsummed log Z - log Z_exact over {len(held)} held votes, {len(d)} simulations: mean "
          f"{d['summed_error'].mean():.3f}, sd {d['summed_error'].std():.3f} (range {d['summed_error'].min():.2f} to "
          f"{d['summed_error'].max():.2f}); Monte Carlo sd of one simulation's sum, median {d['mc_sd'].median():.3f}; "
          f"largest for one vote {d['largest_error'].max():.3f}")
    for p in ("R", "D"):
        col = f"share_{first[p]}"
        print(f"Spearman(summed error, {col}) {d['summed_error'].corr(d[col], method='spearman'):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
