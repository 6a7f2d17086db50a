"""Sweeps of many hypothetical bills as a batch of tasks (:mod:`bayes_coalition.parallel`).

A grid of ``vary`` levels is cut into slices of ``chunk`` bills; each slice is a task that loads the run's
posterior (once per worker) and computes its rows with :func:`~bayes_coalition.prediction.predictor.sweep`.
Every grid point draws from its own random stream, so the table is the same for any chunk size, any
number of workers and any completion order; the slices are put back in grid order.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _run_predictor(run: str, max_draws: int | None):
    """The fitted model of a run directory and its predictor, once per worker."""
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.parallel import worker_cached
    from bayes_coalition.prediction.predictor import BillPredictor

    def build():
        model = CoalitionModel.load(run, groups=("posterior",))
        return model, BillPredictor(model, max_draws=max_draws)

    path = Path(run).resolve()
    stamp = max((f.stat().st_mtime_ns for f in ([path] if path.is_file() else path.glob("posterior*"))), default=0)
    return worker_cached(("run-predictor", str(path), stamp, max_draws), build)


def sweep_task(run: str, bill, vary: dict, start: int, stop: int, seed: int, max_draws: int | None) -> pd.DataFrame:
    """Rows ``start:stop`` of the sweep grid of ``bill`` over ``vary`` on the run's posterior."""
    from bayes_coalition.prediction.predictor import sweep

    model, pr = _run_predictor(run, max_draws)
    return sweep(model, bill, vary, seed=seed, predictor=pr, rows=slice(start, stop))


def sweep_batch(run, bill, vary: dict, *, seed: int = 0, max_draws: int | None = None, chunk: int = 1000,
                executor=None, progress: bool = False, client=None,
                workers: int | None = None) -> pd.DataFrame:
    """The sweep of ``bill`` over the grid of ``vary`` (:func:`~bayes_coalition.prediction.predictor.sweep`) on
    the posterior of the run ``run`` (a run directory or its posterior.nc), in slices of ``chunk`` bills,
    each a task of ``executor`` (default: in this process)."""
    from bayes_coalition.parallel import resolve
    from bayes_coalition.prediction.bills import load_bill
    from bayes_coalition.prediction.predictor import sweep_grid

    if not hasattr(bill, "codes"):
        bill = load_bill(bill)
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 bill, got {chunk}")
    n = len(sweep_grid(vary))
    tasks = [(start, (str(run), bill, vary, start, min(start + chunk, n), seed, max_draws)) for start in range(0, n, chunk)]
    ex, own = resolve(executor, client=client, workers=workers)
    parts = {}
    try:
        for start, table in ex.map(sweep_task, tasks, label="sweep", progress=progress):
            parts[start] = table
    finally:
        if own:
            ex.close()
    out = pd.concat([parts[k] for k in sorted(parts)], ignore_index=True)
    out.attrs.update(parts[0].attrs if parts else {})
    return out
