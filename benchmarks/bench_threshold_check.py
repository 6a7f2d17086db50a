"""The threshold check's rejection sampling on a fitted run: the yea probabilities computed once for every
candidate (the package's ``held_case_totals``) against recomputed for each candidate (the loop before
2026-12-01: the same function with the probabilities left to each simulation), side by side in one run, with the totals compared draw by draw.

    .venv/bin/python benchmarks/bench_threshold_check.py RUN_DIR   (a run of a spec with agenda control)

The check runs twice in a default fit (``threshold_check.csv`` when the run is written, and the report's
section) and once in every ``bayes-coalition report``. Prints both times, their ratio and whether the totals
and the unresolved replicates are identical (they must be: the random numbers are drawn in the same order).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def reference(arrays, md, seed):
    """The rejection loop as it was before 2026-12-01: the rows' probabilities computed afresh in every
    simulation (``simulate`` without ``probabilities=``)."""
    from bayes_coalition.coalition import predictive

    once = predictive.row_probability_sets
    predictive.row_probability_sets = lambda arrays, md: None
    try:
        return predictive.held_case_totals(arrays, md, seed)
    finally:
        predictive.row_probability_sets = once


def main() -> int:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    warnings.simplefilter("ignore")
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.predictive import draw_arrays, held_case_totals

    model = CoalitionModel.load(sys.argv[1])
    if not model.spec["model"].get("agenda_control"):
        raise SystemExit("the run has no agenda control: its threshold check draws no candidates")
    arrays = draw_arrays(model.idata.posterior, model.model_data, model.discrimination)
    seed = int(model.idata.attrs.get("predictive_seed", 0))
    t0 = time.perf_counter()
    new, new_pending = held_case_totals(arrays, model.model_data, seed)
    t_new = time.perf_counter() - t0
    t0 = time.perf_counter()
    old, old_pending = reference(arrays, model.model_data, seed)
    t_old = time.perf_counter() - t0
    same = np.array_equal(new, old) and np.array_equal(new_pending, old_pending)
    print(f"{model.spec['model']['name']} (model id {model.id}), {new.shape[0]} draws x {new.shape[1]} cases, "
          f"{100 * new_pending.mean():.2f}% of replicates unresolved")
    print(f"probabilities once: {t_new:.1f} s; per candidate: {t_old:.1f} s; ratio {t_old / t_new:.2f}x; "
          f"identical totals: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
