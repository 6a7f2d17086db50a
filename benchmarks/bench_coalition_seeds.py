"""The default coalition fit on several seeds: compile and sampling time apart, the convergence bar,
and the posterior predictive coverage of the party rows.

    .venv/bin/python benchmarks/bench_coalition_seeds.py [--seeds 1 2 3] [--spec models/trade_coalition.toml]

For each seed, in one process (so the first seed's compile is cold for nutpie's numba code, later
ones rebuild the same graph): nutpie's compile of the model (``compile_pymc_model``) and its sampling
are timed apart with the spec's settings (chains, draws, tune, target acceptance, low-rank mass
matrix), then the draws go through the package's checks (``CoalitionModel._attach``: diagnostics,
posterior predictive). Prints per seed: compile s, sampling s, divergences, max R-hat, min bulk /
tail ESS, min BFMI against the bar (0, <= 1.01, >= 400, >= 0.3), and the share of party rows
(R and D count rows) whose observed count lies in its 90% posterior predictive interval (bar >= 0.9).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="models/trade_coalition.toml")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()

    import nutpie

    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.spec import load_spec
    from bayes_coalition.sampling import sample_compiled

    spec = load_spec(args.spec)
    s = spec["sampler"]
    print(f"== {args.spec}: {s['chains']} chains x {s['draws']} draws, tune {s['tune']}, target_accept {s['target_accept']}")
    rows = []
    for seed in args.seeds:
        model = CoalitionModel(spec=spec)
        t0 = time.perf_counter()
        compiled = nutpie.compile_pymc_model(model.model)
        t_compile = time.perf_counter() - t0
        t0 = time.perf_counter()
        idata = sample_compiled(compiled, draws=int(s["draws"]), tune=int(s["tune"]), chains=int(s["chains"]), seed=seed,
                                target_accept=s["target_accept"], low_rank_mass_matrix=s["low_rank_mass_matrix"])
        t_sample = time.perf_counter() - t0
        idata.posterior.attrs["free_variables"] = ",".join(v.name for v in model.model.free_RVs)
        model._attach(idata, seed=seed, sampler="nutpie", seconds=t_compile + t_sample, settings=s)
        d = model.diagnostics
        ppc = model.predictive_check(prob=0.9)
        party = ppc[ppc["group"].isin(["R", "D"])]
        cover = float(party["consistent"].astype(bool).mean())
        ok = (d["divergences"] == 0 and d["max_rhat"] <= 1.01 and d["min_ess_bulk"] >= 400 and d["min_ess_tail"] >= 400
              and d["min_bfmi"] >= 0.3)
        rows.append((seed, t_compile, t_sample, ok, cover))
        print(f"seed {seed}: compile {t_compile:6.1f} s, sampling {t_sample:6.1f} s, total {t_compile + t_sample:6.1f} s | "
              f"divergences {d['divergences']}, max R-hat {d['max_rhat']:.4f}, ESS bulk/tail {d['min_ess_bulk']:.0f}/"
              f"{d['min_ess_tail']:.0f}, BFMI {d['min_bfmi']:.2f} -> {'bar met' if ok else 'bar MISSED'} | "
              f"party rows in 90% PPI: {int(party['consistent'].astype(bool).sum())}/{len(party)} = {cover:.3f}", flush=True)
    met = sum(r[3] for r in rows)
    print(f"convergence bar met on {met} of {len(rows)} seeds; total wall {np.mean([r[1] + r[2] for r in rows]):.0f} s "
          f"on average (bar: <= 120 s cold); party-row 90% coverage {min(r[4] for r in rows):.3f}-{max(r[4] for r in rows):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
