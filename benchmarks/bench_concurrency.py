"""How much slower is a fit when another runs at the same time? (The ceiling of any executor's speed-up.)

    .venv/bin/python benchmarks/bench_concurrency.py [--sims 4] [--draws 500] [--tune 500] [--seed 7]
                                                     [--spec models/trade_coalition_v2.toml]

Runs the same SBC batch (``sbc SPEC --sims N --workers 1 --cores-per-worker 1``, one
core) first alone, then twice at once in two independent processes (no Dask), and prints each simulation's
sampling time from ``sbc_fits.csv`` (same seed, so the same simulated data and the same fits in all three runs)
and the total against the run alone. If two fits at once are each X% slower than one alone, two Dask workers
cannot beat 2 / (1 + X/100) times one worker, whatever the scheduling: issue 15's bars are read against this
figure (docs/distributed.md). SPEC is model v2 unless ``--spec`` says otherwise (bench_parallel.py says why). Compile and import times are excluded (sampling seconds only).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "models" / "trade_coalition_v2.toml"


def command(out: Path, args) -> list[str]:
    return [sys.executable, "-m", "bayes_coalition.cli.main", "sbc", str(args.spec), "--sims", str(args.sims), "--draws",
            str(args.draws), "--tune", str(args.tune), "--chains", "2", "--seed", str(args.seed), "--workers", "1",
            "--cores-per-worker", "1", "--out", str(out)]


def run_all(outs: list[Path], args) -> None:
    procs = [subprocess.Popen(command(o, args), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for o in outs]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"sbc failed:\n{err[-3000:]}")


def seconds(out: Path) -> pd.Series:
    return pd.read_csv(out / "sbc_fits.csv").set_index("simulation")["seconds"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=4)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--spec", default=str(SPEC), help="spec of the SBC batch (default: model v2)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_concurrency_"))
    run_all([tmp / "alone"], args)
    run_all([tmp / "a", tmp / "b"], args)
    table = pd.DataFrame({"alone": seconds(tmp / "alone"), "at once (a)": seconds(tmp / "a"),
                          "at once (b)": seconds(tmp / "b")})
    print(f"sampling seconds per simulation (2 chains x {args.draws} draws after {args.tune}, one core each):")
    print(table.round(1).to_string())
    total = table.sum()
    slow = (total[["at once (a)", "at once (b)"]] / total["alone"] - 1) * 100
    print(f"total: alone {total['alone']:.1f} s; at once {total['at once (a)']:.1f} s and {total['at once (b)']:.1f} s "
          f"({slow.iloc[0]:+.0f}% and {slow.iloc[1]:+.0f}%)")
    mean = slow.mean()
    if mean <= 0:
        print("no slowdown measured at once (the runs' noise is several percent: run longer fits, more simulations)")
    else:
        print(f"ceiling of two workers' speed-up over one on sampling alone: {2 / (1 + mean / 100):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
