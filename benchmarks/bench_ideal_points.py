"""Benchmark of IdealPointModel against the quality bar (prints every figure).

    python benchmarks/bench_ideal_points.py [--skip-r] [--skip-house] [--skip-holdout]
                                            [--samplers auto,pymc] [--data data/senate106]

1. likelihood formulations: time of one log-likelihood + gradient evaluation on the Senate matrix
   (dense Op with analytic gradient, dense masked PyTensor graph, per-cell gather graph);
2. 106th Senate, 2 chains x 1000 draws: R-hat, ESS, divergences on identified ideal points,
   wall time (compile included) and min bulk ESS per second;
3. pscl::ideal (Rscript; installs r-base-core and r-cran-pscl with apt-get when missing) on
   the same filtered matrix: correlation of posterior means, its time and min ESS, the ratio;
4. held-out prediction with holdout fraction 0.1;
5. a synthetic House-sized matrix (435 x 1,000, 20% missing, simulated from the 2PL): wall
   time, peak memory, convergence, correlation with the true ideal points.

Writes nothing into the repository (temporary files only).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayes_coalition import _arviz, load_rollcalls  # noqa: E402
from bayes_coalition.data.rollcalls import RollCallMatrix  # noqa: E402
from bayes_coalition.ideal_points.model import IdealPointModel  # noqa: E402

warnings.filterwarnings("ignore")


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its (waited-for) children, MiB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def line(label, value):
    print(f"  {label:<44s} {value}", flush=True)


def bench_formulations(rc: RollCallMatrix, n_evals: int = 200):
    print("\n[1] log-likelihood + gradient, one evaluation (NUMBA mode, the nutpie backend; C mode for PyMC)")
    for form in ("dense", "dense_graph", "gather"):
        m = IdealPointModel(rc, formulation=form)
        for mode in ("NUMBA", "FAST_RUN"):
            t0 = time.perf_counter()
            f = m.model.logp_dlogp_function(mode=mode, ravel_inputs=True)
            f.set_extra_values({})
            point = m.model.initial_point()
            x0 = np.concatenate([np.ravel(point[v.name]) for v in f._grad_vars])
            x0 = x0 + np.random.default_rng(0).normal(scale=0.5, size=x0.size)
            f(x0)
            compile_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            for _ in range(n_evals):
                f(x0)
            line(f"{form:<12s} {mode:<8s}", f"{(time.perf_counter() - t0) / n_evals * 1e3:7.3f} ms/eval  (compile {compile_s:.1f} s)")


def fit_report(label, model: IdealPointModel, **fit_kwargs) -> dict:
    t0 = time.perf_counter()
    model.fit(**fit_kwargs)
    wall = time.perf_counter() - t0
    d = model.diagnostics
    print(f"\n{label}")
    line("matrix", f"{d['n_legislators']} legislators x {d['n_rollcalls']} roll calls, {d['n_cells']} cells "
               f"(dropped: {d['lopsided_rollcalls']} lopsided roll calls, {d['low_activity_legislators']} legislators)")
    line("sampler, chains x draws (tune)", f"{d['sampler']}, {d['chains']} x {d['draws']} ({d['tune']})")
    line("max R-hat (identified ideal points)", f"{d['max_rhat']:.4f}")
    line("min ESS bulk / tail (ideal points)", f"{d['min_ess_bulk']:.0f} / {d['min_ess_tail']:.0f}")
    line("item parameters: max R-hat, min ESS bulk", f"{d['item_max_rhat']:.4f}, {d['item_min_ess_bulk']:.0f}")
    line("divergences", d["divergences"])
    line("min E-BFMI", f"{d['min_bfmi']:.3f}")
    line("chains flipped by the alignment", d["chains_flipped"])
    line("wall seconds (compile included)", f"{wall:.1f}")
    line("min bulk ESS per second", f"{d['min_ess_bulk'] / wall:.2f}")
    d = dict(d, bench_wall=wall)
    return d


R_SCRIPT = textwrap.dedent(
    """
    suppressMessages(library(pscl))
    args <- commandArgs(trailingOnly = TRUE)
    m <- as.matrix(read.csv(args[1], row.names = 1, check.names = FALSE))
    rc <- rollcall(m, yea = 1, nay = 0, missing = NA, notInLegis = NULL, legis.names = rownames(m))
    set.seed(1)
    t <- system.time(id <- ideal(rc, maxiter = 11000, burnin = 1000, thin = 10, normalize = TRUE,
                                 store.item = FALSE, verbose = FALSE))
    write.csv(id$x[, , 1], args[2], row.names = FALSE)
    cat(sprintf("ELAPSED %.3f\\n", t[["elapsed"]]))
    """
)


def ensure_pscl() -> bool:
    def has_pscl():
        if shutil.which("Rscript") is None:
            return False
        return subprocess.run(["Rscript", "-e", "library(pscl)"], capture_output=True).returncode == 0

    if has_pscl():
        return True
    print("  installing r-base-core r-cran-pscl with apt-get (a few minutes) ...", flush=True)
    cmd = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core r-cran-pscl"
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    if res.returncode != 0:
        print(res.stderr[-2000:])
    return has_pscl()


def run_pscl(rc: RollCallMatrix) -> dict | None:
    print("\n[3] pscl::ideal on the same filtered matrix (maxiter 11000, burnin 1000, thin 10, normalize TRUE)")
    if not ensure_pscl():
        print("  pscl unavailable: skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        votes = rc.votes.to_pandas()
        votes.to_csv(Path(tmp, "votes.csv"), na_rep="NA")
        Path(tmp, "ideal.R").write_text(R_SCRIPT)
        t0 = time.perf_counter()
        res = subprocess.run(["Rscript", str(Path(tmp, "ideal.R")), str(Path(tmp, "votes.csv")), str(Path(tmp, "x.csv"))],
                             capture_output=True, text=True)
        total = time.perf_counter() - t0
        if res.returncode != 0:
            print(res.stderr[-2000:])
            return None
        elapsed = float(next(line.split()[1] for line in res.stdout.splitlines() if line.startswith("ELAPSED")))
        draws = pd.read_csv(Path(tmp, "x.csv")).to_numpy(float)
    post = xr.Dataset({"x": (("chain", "draw", "legislator"), draws[None])})
    per_leg = _arviz.ess(_arviz.InferenceData(posterior=post), ["x"], "bulk")["x"].values
    ess = float(per_leg.min())
    worst = rc.legislators.iloc[int(per_leg.argmin())]
    line("ideal() seconds / Rscript seconds", f"{elapsed:.1f} / {total:.1f}")
    line("min bulk ESS over legislators (1000 draws)", f"{ess:.1f} ({worst.get('name', worst['legislator_id'])}, {worst['party']})")
    line("bulk ESS 5% quantile / median over legislators", f"{np.quantile(per_leg, 0.05):.1f} / {np.median(per_leg):.1f}")
    line("min bulk ESS per second (ideal() time)", f"{ess / elapsed:.3f}")
    return {"seconds": elapsed, "ess": ess, "mean": draws.mean(axis=0)}


def simulate_house(n_leg=435, n_rc=1000, missing=0.2, seed=2024) -> tuple[RollCallMatrix, np.ndarray]:
    """A two-party chamber simulated from the logit 2PL."""
    rng = np.random.default_rng(seed)
    party = np.where(rng.random(n_leg) < 0.52, "R", "D")
    x = np.where(party == "R", 1.0, -1.0) + 0.5 * rng.normal(size=n_leg)
    beta = rng.normal(0, 1.5, n_rc)
    alpha = rng.normal(0, 1, n_rc)
    votes = (rng.random((n_leg, n_rc)) < 1 / (1 + np.exp(-(np.outer(x, beta) - alpha)))).astype(float)
    votes[rng.random(votes.shape) < missing] = np.nan
    ids = [f"H{i:03d}" for i in range(n_leg)]
    rcs = [f"rc{j}" for j in range(n_rc)]
    da = xr.DataArray(votes, dims=("legislator", "rollcall"),
                      coords={"legislator": np.array(ids, dtype=object), "rollcall": np.array(rcs, dtype=object)})
    legs = pd.DataFrame({"legislator_id": ids, "party": party})
    return RollCallMatrix(da, legs, pd.DataFrame({"rollcall": rcs}), source="synthetic House"), x


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT / "data" / "senate106"))
    p.add_argument("--samplers", default="auto", help="comma-separated samplers for the Senate fit (auto, pymc, nutpie)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--skip-r", action="store_true")
    p.add_argument("--skip-house", action="store_true")
    p.add_argument("--skip-holdout", action="store_true")
    p.add_argument("--skip-formulations", action="store_true")
    args = p.parse_args(argv)

    rc = load_rollcalls(args.data)
    print(f"data: {args.data}: {rc.summary()}")
    if not args.skip_formulations:
        bench_formulations(rc.filter(lopsided=0.025, min_votes=25))

    fits = {}
    for sampler in args.samplers.split(","):
        model = IdealPointModel(rc)
        d = fit_report(f"[2] 106th Senate, sampler={sampler}, 2 chains x 1000 draws, seed {args.seed}", model,
                       random_seed=args.seed, sampler=sampler, draws=1000, chains=2)
        fits[sampler] = (model, d)

    pscl = None if args.skip_r else run_pscl(next(iter(fits.values()))[0].rollcalls)
    if pscl is not None:
        print("\n    comparison with pscl::ideal")
        for sampler, (model, d) in fits.items():
            r = np.corrcoef(model.ideal_points()["mean"].to_numpy(), pscl["mean"])[0, 1]
            ratio = (d["min_ess_bulk"] / d["bench_wall"]) / (pscl["ess"] / pscl["seconds"])
            line(f"{sampler}: correlation with pscl means |r|", f"{abs(r):.4f}")
            line(f"{sampler}: ESS/s ratio to pscl::ideal", f"{ratio:.1f}x")

    if not args.skip_holdout:
        model = IdealPointModel(rc, holdout_fraction=0.1, holdout_seed=args.seed)
        fit_report(f"[4] 106th Senate with 10% of the observed cells held out (seed {args.seed})", model,
                   random_seed=args.seed, draws=1000, chains=2)
        h = model.holdout_scores()
        s = model.fit_statistics()
        line("held-out cells", h["n_cells"])
        line("held-out accuracy / Brier / log score / APRE", f"{h['accuracy']:.4f} / {h['brier']:.4f} / {h['log_score']:.4f} / {h['apre']:.4f}")
        line("in-sample correct class. / APRE / GMP", f"{s['correct_classification']:.4f} / {s['apre']:.4f} / {s['gmp']:.4f}")

    if not args.skip_house:
        house, truth = simulate_house()
        model = IdealPointModel(house)
        d = fit_report("[5] synthetic House-sized matrix (435 x 1000, 20% missing, logit 2PL)", model,
                       random_seed=args.seed, draws=1000, chains=2)
        r = np.corrcoef(model.ideal_points()["mean"].to_numpy(), truth)[0, 1]
        self_mib, child_mib = peak_rss_mib()
        line("correlation with the true ideal points", f"{r:.4f}")
        line("peak RSS MiB: this process / sampler children", f"{self_mib:.0f} / {child_mib:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
