"""Issue 14's leave-one-episode-out check of the strategic layers, side by side in one run.

    .venv/bin/python benchmarks/bench_strategy_loeo.py [--specs trade_coalition_v2,trade_coalition_buying]
        [--chains 4 --draws 300 --tune 600] [--refit] [--out DIR]

For each spec of ``models/`` (default: model v2 without a layer, ``trade_coalition_v2``, and with vote buying; add
``trade_coalition_agenda`` for agenda control, about four times slower, or ``trade_coalition``, the default spec), the votes of the episodes that hold a
vote within 10 yeas of its threshold, a failed vote or the withdrawn 1997 measure
(:func:`bayes_coalition.validation.loeo.strategy_episodes`) are predicted by the fit without their episode
(:func:`bayes_coalition.validation.loeo.loeo_votes`, the same seed for every spec). It prints, per spec, the mean
P(pass) of the near-threshold votes (bar: >= 0.75 with the layer), the mean log score of the failed or withdrawn
votes (bar: no worse than without the layer), each failed vote's log score, and the fits that missed the
convergence bar. ``--out`` keeps each spec's ``loeo_votes.csv`` and ``loeo_votes.json``, and each episode's fit as it finishes
(``OUT/<spec>/episodes/``): a rerun with the same settings resumes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--specs", default="trade_coalition_v2,trade_coalition_buying")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--tune", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--refit", action="store_true", help="refit a fit that misses the convergence bar (default: no)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from bayes_coalition._io import write_json
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.spec import load_spec
    from bayes_coalition.data.dataset import load_dataset
    from bayes_coalition.validation.loeo import loeo_votes, strategy_episodes

    episodes = strategy_episodes(CoalitionModel(load_dataset()).model_data)
    print(f"episodes ({len(episodes)}): {', '.join(episodes)}; {args.chains} chains x {args.draws} draws after "
          f"{args.tune} tuning, seed {args.seed}, refit {args.refit}", flush=True)
    results = {}
    for name in args.specs.split(","):
        spec = load_spec(REPO / "models" / f"{name}.toml")
        t0 = time.perf_counter()
        res = loeo_votes(spec, episodes=episodes, seed=args.seed, draws=args.draws, chains=args.chains, tune=args.tune,
                         refit=args.refit, progress=True,
                         checkpoint=None if args.out is None else args.out / name / "episodes")
        res["seconds"] = time.perf_counter() - t0
        results[name] = res
        if args.out is not None:
            d = args.out / name
            d.mkdir(parents=True, exist_ok=True)
            res["votes"].to_csv(d / "loeo_votes.csv", index=False)
            write_json(d / "loeo_votes.json", {k: v for k, v in res.items() if k != "votes"})
    print()
    print(f"{'spec':28s} {'near: n':>8s} {'mean P(pass)':>13s} {'failed/withdrawn: n':>20s} {'mean log score':>15s} "
          f"{'unconverged':>12s} {'seconds':>8s}")
    for name, res in results.items():
        near, bad = res["summary"]["near_threshold"], res["summary"]["failed_or_withdrawn"]
        rhat = [f["max_rhat"] for f in res["fits"]]
        print(f"{name:28s} {near['n_votes']:8d} {near['mean_p_pass']:13.3f} {bad['n_votes']:20d} "
              f"{bad['mean_log_score']:15.3f} {len(res['unconverged_fits']):5d} of {len(res['fits']):2d} "
              f"{res['seconds']:8.0f}   (max R-hat {min(rhat):.3f}-{max(rhat):.3f})")
    print("\nlog score per failed or withdrawn vote:")
    names = list(results)
    cases = list(results[names[0]]["summary"]["failed_or_withdrawn"]["votes"])
    print(f"{'vote':24s} " + " ".join(f"{n[:24]:>24s}" for n in names))
    for c in cases:
        print(f"{c:24s} " + " ".join(f"{results[n]['summary']['failed_or_withdrawn']['votes'].get(c, float('nan')):24.2f}"
                                     for n in names))
    print("\nP(pass) per near-threshold vote:")
    cases = list(results[names[0]]["summary"]["near_threshold"]["votes"])
    for c in cases:
        print(f"{c:24s} " + " ".join(f"{results[n]['summary']['near_threshold']['votes'].get(c, float('nan')):24.3f}"
                                     for n in names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
