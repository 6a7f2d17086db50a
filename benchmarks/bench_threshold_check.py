"""The threshold check's rejection sampling on a fitted run: each candidate simulated only for the draws that
still have a vote without an accepted count (the package's ``held_case_totals`` since 2026-12-01, session 29)
against every candidate simulated for every draw (the loop before it, kept below as ``every_draw``), side by
side in one run.

    .venv/bin/python benchmarks/bench_threshold_check.py RUN_DIR [--seeds 3]   (a run of a spec with agenda control)

The check runs twice in a default fit (``threshold_check.csv`` when the run is written, and the report's
section) and once in every ``bayes-coalition report``. The two loops draw different random numbers (the settled
draws no longer consume any), so their totals differ draw by draw but follow the same distribution: the script
prints both times, their ratio, and per seed both loops' threshold check (predictive means and mid-p values) and
share of unresolved replicates, which must agree within Monte Carlo error.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def every_draw(arrays, md, seed, *, candidates: int = 200):
    """The rejection loop before 2026-12-01 (session 29): every candidate simulated for every draw."""
    from bayes_coalition.coalition import predictive, rules

    rng = np.random.default_rng(seed)
    probabilities = predictive.row_probability_sets(arrays, md)
    sim = predictive.simulate(arrays, md, rng, probabilities=probabilities)
    total = sim["case_yea"].copy()
    pending = np.ones(total.shape, dtype=bool)
    pending[:, md.case_floor != rules.HELD] = False
    for _ in range(candidates):
        w = predictive.floor_weights(sim, arrays, md)
        accept = pending & (rng.random(w.shape) < w)
        total[accept] = sim["case_yea"][accept]
        pending &= ~accept
        if not pending.any():
            break
        sim = predictive.simulate(arrays, md, rng, probabilities=probabilities)
        total[pending] = sim["case_yea"][pending]
    return total, pending


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 of both loops")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.predictive import draw_arrays, held_case_totals, threshold_check

    model = CoalitionModel.load(args.run_dir)
    if not model.spec["model"].get("agenda_control"):
        raise SystemExit("the run has no agenda control: its threshold check draws no candidates")
    md = model.model_data
    arrays = draw_arrays(model.idata.posterior, md, model.discrimination)
    print(f"{model.spec['model']['name']} (model id {model.id}), {len(arrays['cut_point'])} draws x "
          f"{len(md.coords['case'])} cases")
    times = {"pending draws only": 0.0, "every draw": 0.0}
    print(f"{'seed':>4s} {'loop':20s} {'unresolved':>10s}  statistic: predictive mean, mid-p")
    for seed in range(args.seeds):
        for name, loop in (("pending draws only", held_case_totals), ("every draw", every_draw)):
            t0 = time.perf_counter()
            totals, unresolved = loop(arrays, md, seed)
            times[name] += time.perf_counter() - t0
            check = threshold_check(totals, md)
            stats = "; ".join(f"{r.statistic}: {r.predictive_mean:.3f}, {r.p_value:.4f}" for r in check.itertuples())
            print(f"{seed:4d} {name:20s} {100 * unresolved.mean():9.3f}%  {stats}")
    new, old = times["pending draws only"], times["every draw"]
    print(f"time over {args.seeds} seeds: pending draws only {new:.1f} s; every draw {old:.1f} s; ratio {old / new:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
