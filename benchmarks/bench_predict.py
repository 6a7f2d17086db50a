"""Latency of bill prediction from a saved run, and of a 10,000-bill scenario sweep.

    .venv/bin/python benchmarks/bench_predict.py [RUN_DIR]   (default reports/trade_coalition)

Targets (issue): one bill <= 1 s end to end through the CLI after imports; a sweep of 10,000
scenario bills <= 20 s on 2 cores. Prints the figures; the run directory must exist
(`bayes-coalition fit models/trade_coalition.toml`).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "reports" / "trade_coalition"
    if not (run / "posterior.nc").is_file():
        raise SystemExit(f"no saved run at {run}: fit the default model first")
    t0 = time.perf_counter()
    from bayes_coalition.cli.main import main as cli_main  # noqa: E402  (imports counted separately)

    t_import = time.perf_counter() - t0
    bill = str(REPO / "bills" / "hypothetical_2027.toml")
    timings = []
    for _ in range(3):
        buf = io.StringIO()
        t1 = time.perf_counter()
        with contextlib.redirect_stdout(buf):
            cli_main(["predict", str(run), bill, "--json"])
        timings.append(time.perf_counter() - t1)
    full = []
    for _ in range(2):
        buf = io.StringIO()
        t1 = time.perf_counter()
        with contextlib.redirect_stdout(buf):
            cli_main(["predict", str(run), bill])
        full.append(time.perf_counter() - t1)
    t1 = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("bayes-coalition")), "predict", str(run), bill, "--json"],
                   check=True, capture_output=True)
    t_process = time.perf_counter() - t1

    from bayes_coalition import CoalitionModel
    from bayes_coalition.prediction.bills import load_bill

    model = CoalitionModel.load(run / "posterior.nc")
    base = load_bill(bill)
    vary = {f"voting.{i}": [0, 1, 2] for i in ("payoff", "polarization", "civil_society_opposition", "policy_impact",
                                                "nonparticipation_cost", "pivotal_resources", "deadlock_convergence")}
    vary.update({"formulation.executive_coordination": [0, 1, 2], "formulation.proposal_timeliness": [0, 1]})
    n_bills = 1
    for v in vary.values():
        n_bills *= len(v)
    t1 = time.perf_counter()
    table = model.sweep(base, vary, seed=1, max_draws=1000)
    t_sweep = time.perf_counter() - t1
    assert len(table) == n_bills

    print("== bill prediction from", run)
    print(f"imports (pymc, arviz, package): {t_import:.2f} s")
    print(f"one bill, CLI predict --json after imports (load run + predict + summary): "
          f"best {min(timings):.2f} s, median {sorted(timings)[1]:.2f} s   target <= 1 s   "
          f"{'OK' if min(timings) <= 1 else 'MISSED'}")
    print(f"one bill, CLI predict with 'what moves the probability' ranking: best {min(full):.2f} s")
    print(f"one bill, fresh process including imports: {t_process:.2f} s")
    print(f"sweep: {n_bills} scenario bills x 1000 draws in {t_sweep:.1f} s -> {t_sweep * 10000 / n_bills:.1f} s per 10,000 bills"
          f"   target <= 20 s   {'OK' if t_sweep * 10000 / n_bills <= 20 else 'MISSED'}")
    best = table.sort_values("p_both_chambers").iloc[[0, -1]]
    print("sweep range of P(both chambers):", f"{best['p_both_chambers'].iloc[0]:.3f} .. {best['p_both_chambers'].iloc[1]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
