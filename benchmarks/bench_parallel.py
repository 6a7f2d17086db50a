"""Batches on Dask workers against one worker, side by side in one run (issue 15's bar).

    .venv/bin/python benchmarks/bench_parallel.py [--sims 20] [--origins 8] [--bills 19683] [--only sbc,backtest,sweep]
                                                  [--defaults | --draws 200 --tune 300] [--keep DIR]
                                                  [--spec models/trade_coalition_v2.toml]

For each batch the same command runs with ``--workers 1`` (in this process, one core) and ``--workers 2`` (a
local Dask cluster of two single-threaded processes, one core each: a fit's chains run one after another on
its worker's core), back to back in this script. It prints the wall times, their ratio and whether the
outputs are identical:

- ``sbc SPEC --sims N`` (bar: >= 1.7x, the same ``sbc.csv``);
- ``backtest SPEC`` over the first ``--origins`` default origins (bar: >= 1.6x, the same
  predictions in ``backtest.csv``);
- ``sweep`` of a 3^9 = 19,683-bill grid of the example 2027 bill on a fitted run (``--run``; default the
  thinned real fit in tests/fixtures/real_run) (the same table).

SPEC is model v2 (``models/trade_coalition_v2.toml``) unless ``--spec`` says otherwise: issue 15's bar was set,
and docs/distributed.md's figures measured, when model v2 was the default spec. The default spec now adds agenda
control, whose fits cost about four times as much (20 simulations with one worker: about three hours); the
speed-up measures the executor seam, which is the same for both.

The wall times include everything a user waits for: starting the cluster, importing and compiling the model
on each worker. Needs ``pip install -e ".[distributed]"``; a noisy machine moves the times, so read the ratio
of one run, never a time against another run's.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "models" / "trade_coalition_v2.toml"
BILL = REPO / "bills" / "hypothetical_2027.toml"
VARY = ["formulation.executive_coordination", "formulation.proposal_timeliness", "formulation.payoff",
        "voting.payoff", "voting.polarization", "voting.civil_society_opposition", "voting.pivotal_resources",
        "voting.nonparticipation_cost", "voting.deadlock_convergence"]


def cli(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bayes_coalition.cli.main", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(map(str, args))}")
    return time.perf_counter() - t0


def side_by_side(name: str, make_args, compare, keep: Path | None = None) -> dict:
    """Run the batch with 1 and 2 workers; the ratio and whether ``compare(out1, out2)`` holds; the outputs are
    deleted unless ``keep`` (a folder) is given."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench_{name}_", dir=keep))
    times = {}
    for w in (1, 2):
        out = tmp / f"w{w}"
        times[w] = cli(make_args(out) + ["--workers", str(w)])
        print(f"  {name}: --workers {w}: {times[w]:.1f} s", flush=True)
    same = compare(tmp / "w1", tmp / "w2")
    ratio = times[1] / times[2]
    print(f"{name:9s} 1 worker {times[1]:7.1f} s   2 workers {times[2]:7.1f} s   speed-up {ratio:.3f}x   "
          f"identical output: {same}", flush=True)
    if keep is None:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"  kept {tmp} (w1/, w2/: the outputs, with each task's seconds where the command writes them)", flush=True)
    return {"workers_1_s": times[1], "workers_2_s": times[2], "speedup": ratio, "identical": same}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=20)
    ap.add_argument("--spec", default=str(SPEC), help="spec of the sbc and backtest batches (default: model v2)")
    ap.add_argument("--draws", type=int, default=200, help="draws per chain of every fit")
    ap.add_argument("--tune", type=int, default=300, help="tuning steps per chain of every fit")
    ap.add_argument("--origins", type=int, default=8, help="the first N default backtest origins")
    ap.add_argument("--bills", type=int, default=3 ** 9, help="bills of the sweep (at most 3^9)")
    ap.add_argument("--run", default=str(REPO / "tests" / "fixtures" / "real_run"), help="fitted run for the sweep")
    ap.add_argument("--only", default="sbc,backtest,sweep")
    ap.add_argument("--defaults", action="store_true",
                    help="the commands' own sampling defaults (the bar's exact commands: sbc 2 chains x 1000 draws after "
                         "700 tuning steps, backtest 4 chains x 500 after 1000) instead of --draws/--tune and 2 chains")
    ap.add_argument("--keep", type=Path, help="keep both runs' outputs under this folder (sbc_fits.csv has each fit's "
                                              "seconds) instead of deleting them")
    args = ap.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    fit = [] if args.defaults else ["--draws", args.draws, "--tune", args.tune, "--chains", 2]
    print(("fits: each command's default sampling settings" if args.defaults else
           f"fits: 2 chains x {args.draws} draws after {args.tune} tuning steps") + ", one core per worker", flush=True)
    results = {}
    if "sbc" in only:
        results["sbc"] = side_by_side(
            "sbc", lambda out: ["sbc", args.spec, "--sims", args.sims, "--seed", 1, "--out", out, *fit],
            lambda a, b: filecmp.cmp(a / "sbc.csv", b / "sbc.csv", shallow=False), args.keep)
    if "backtest" in only:
        from bayes_coalition.data.dataset import load_dataset
        from bayes_coalition.validation.backtest import origin_dates

        origins = origin_dates(load_dataset().cases)[: args.origins]    # the last one predicts every later vote

        def same_predictions(a, b):
            return pd.read_csv(a / "backtest.csv").equals(pd.read_csv(b / "backtest.csv"))

        results["backtest"] = side_by_side(
            "backtest", lambda out: ["backtest", args.spec, "--origins", *origins, "--out", out, "--no-refit", *fit],
            same_predictions, args.keep)
    if "sweep" in only:
        levels = []
        n = 1
        for _key in VARY:
            k = 3 if n * 3 <= args.bills else max(1, args.bills // n)
            levels.append(k)
            n *= k
        vary = [f"--vary={key}={','.join(str(v) for v in range(k))}" for key, k in zip(VARY, levels) if k > 1]
        print(f"  sweep: {n} bills", flush=True)
        results["sweep"] = side_by_side(
            "sweep", lambda out: ["sweep", args.run, BILL, *vary, "--out", out / "sweep.csv", "--chunk", 1000],
            lambda a, b: filecmp.cmp(a / "sweep.csv", b / "sweep.csv", shallow=False), args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
