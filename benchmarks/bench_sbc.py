"""Simulation-based calibration of the default spec (issue bar: >= 100 simulations, every
parameter group uniform at the 1% level) and of the ideal-point model on a synthetic matrix.

    .venv/bin/python benchmarks/bench_sbc.py [--sims 100] [--seed 1] [--ideal-points]

Runs `bayes-coalition sbc` (resumable: an interrupted run continues where it stopped) and
prints per group the Bonferroni p-value, the verdict, and the wall and sampling times.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ideal-points", action="store_true")
    args = ap.parse_args()
    out = REPO / "reports" / ("ideal_points_sbc" if args.ideal_points else "trade_coalition_sbc")
    cmd = [sys.executable, "-m", "bayes_coalition.cli.main", "sbc", "--sims", str(args.sims), "--seed", str(args.seed), "--out", str(out)]
    cmd += ["--ideal-points"] if args.ideal_points else [str(REPO / "models" / "trade_coalition.toml")]
    t0 = time.perf_counter()
    code = subprocess.call(cmd, cwd=REPO)
    wall = time.perf_counter() - t0
    if code:
        return code
    summary = json.loads((out / "sbc.json").read_text())
    fits = pd.read_csv(out / "sbc_fits.csv")
    print(f"\n{summary['n_simulations']} simulations; wall time of this call {wall:.0f} s; "
          f"sampling time of all fits {fits['seconds'].sum():.0f} s (median {fits['seconds'].median():.1f} s per fit)")
    print(f"fits with divergences: {(fits['divergences'] > 0).sum()}; max R-hat over fits {fits['max_rhat'].max():.3f}; "
          f"median min bulk ESS {fits['min_ess_bulk'].median():.0f}")
    worst = min(summary["groups"].items(), key=lambda kv: kv[1]["p_value"])
    print(f"verdict at {summary['level']:.0%}: {summary['verdict']} (lowest group p {worst[1]['p_value']:.4f}: {worst[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
