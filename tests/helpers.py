"""Helpers shared by test modules (no test module imports another's privates)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def mock_sample_stats() -> dict:
    """Sample statistics for PyMC's mock sampler: no divergences, normal energies, tree depth 4."""
    return {
        "diverging": lambda size: np.zeros(size, dtype=bool),
        "energy": lambda size: np.random.default_rng(0).normal(size=size),
        "tree_depth": lambda size: np.full(size, 4),
    }


def edit_csv(path: Path, key: dict, column: str, value: str) -> None:
    """Set one cell of a CSV file (the row matching every key column)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    hits = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(hits) == 1, f"{key} matches {len(hits)} rows"
    hits[0][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def run_cli(argv) -> int:
    """Run ``bayes-coalition ARGV`` through the package's entry point (``cli.main``), as a user would."""
    from bayes_coalition.cli.main import main

    return main([str(a) for a in argv])


def report_cli(argv) -> int:
    """``bayes-coalition report ARGV``."""
    return run_cli(["report", *argv])


def python_logp(model, *, gradient: bool = False):
    """The model's log density (and its gradient) at a point, compiled in PyTensor's Python mode.

    The terms are compiled as separate outputs and summed in NumPy: PyTensor's Python
    implementation of an addition fails beyond 32 operands (a NumPy ufunc limit), and the model
    has more terms than that. Returns ``f(point) -> logp`` or ``(logp, gradient)``.

    The gradient is ``model.dlogp()``'s (PyMC's pre-gradient rewrites of the summed log density, then
    its gradient with respect to every continuous value variable, flattened and concatenated), taken
    in one backward pass over all the variables instead of one per variable: the same numbers, in
    about 1.5 s less."""
    terms = model.logp(sum=False)
    outs = list(terms)
    if gradient:
        import pytensor
        import pytensor.tensor as pt
        from pymc.pytensorf import rewrite_pregrad

        grads = pytensor.grad(rewrite_pregrad(model.logp()), model.continuous_value_vars, disconnected_inputs="warn")
        outs.append(pt.concatenate([pt.as_tensor(g).ravel() for g in grads]))
    fn = model.compile_fn(outs, mode="FAST_COMPILE")

    def evaluate(point):
        values = fn(point)
        total = float(sum(np.sum(v) for v in values[:len(terms)]))
        return (total, values[-1]) if gradient else total

    return evaluate


def compare_logp(model):
    """``model.compile_logp()`` for comparing log densities at a few points: PyTensor's Python linker
    without graph rewrites. Rewriting the graph (even FAST_COMPILE's, as :func:`python_logp` does)
    costs more than the handful of evaluations it would speed up: 0.7 s against 1.4-1.5 s for the
    coalition model. Unrewritten, the summed terms stay one sum over a vector, so the 32-operand limit
    of :func:`python_logp`'s note does not arise. For checks that graphs give the same density, not for
    numerical robustness (checks that a density is finite keep the rewrites)."""
    from pytensor.compile.mode import Mode

    return model.compile_logp(mode=Mode(linker="py", optimizer=None))


def edited_copy(src: Path, dst: Path, *, drop_groups=(), drop_attrs=(), **attrs: str) -> Path:
    """A copy of a saved run's file with groups or root attributes removed and root attributes set
    (``model_version``, ``model_type``...), edited in the copy itself: reading the InferenceData and
    writing it again cost 1-1.5 s a file."""
    import h5py

    shutil.copyfile(src, dst)
    with h5py.File(dst, "a") as f:
        for group in drop_groups:
            del f[group]
        for key in drop_attrs:
            del f.attrs[key]
        for key, value in attrs.items():
            f.attrs[key] = value
    return dst

try:                                   # Dask is optional: without it the plugin is never registered
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:                    # pragma: no cover
    _WorkerPlugin = object


class MockSamplingPlugin(_WorkerPlugin):
    """A Dask worker plugin that replaces ``pm.sample`` by PyMC's mock sampler on every worker (the fixture
    ``mock_pymc_sample`` patches only the test's own process). With ``kill_marker``, the worker that makes
    the ``kill_at``-th call of the batch (counted in ``kill_marker``.count) exits hard, once: the marker
    file is created first, so a rerun is not killed again."""

    name = "mock-sampling"

    def __init__(self, kill_marker: str | None = None, kill_at: int = 3):
        self.kill_marker, self.kill_at = kill_marker, kill_at

    def setup(self, worker=None):
        import os
        from functools import partial

        import pymc as pm
        from pymc.testing import mock_sample

        mocked = partial(mock_sample, sample_stats=mock_sample_stats())
        marker = self.kill_marker
        kill_at = self.kill_at

        def sample(*args, **kwargs):
            if marker is not None and not os.path.exists(marker):
                count = Path(marker + ".count")
                with open(count, "a") as fh:
                    fh.write("x")
                if len(count.read_text()) >= kill_at:
                    Path(marker).write_text("killed")
                    os._exit(1)
            return mocked(*args, **kwargs)

        pm.sample = sample

    def teardown(self, worker=None):
        pass
