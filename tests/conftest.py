"""Shared fixtures (Agg backend, seeded rng, PyMC's mock sampler, copies of the shipped data, the
session's mock fit) and what keeps the default run short (about 135 s on two workers, 45 s of it the Dask cluster tests of tests/test_parallel.py): PyTensor's
traceback limit, the garbage collector's thresholds, and the pytest-xdist scheduler that keeps the
users of an expensive shared fixture on one worker.

PyMC (and pandas through the data loader) are imported inside the fixtures, not at the top: the
pytest-xdist controller loads this file only for its hooks, and the workers start after it has
loaded, so a top-level ``import pymc`` (about 3.5 s) would delay every run by that much.
"""

from __future__ import annotations

import gc
import os
import shutil
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from bayes_coalition.errors import ConvergenceWarning
from tests.helpers import mock_sample_stats

# PyTensor stores the creating stack (8 frames) on every variable it builds, for its error messages;
# the suite builds millions of them, and walking the stack cost about a tenth of the PyTensor-heavy
# tests' time. Set before PyTensor is imported (in the workers, and the subprocesses they start).
if "traceback__limit" not in os.environ.get("PYTENSOR_FLAGS", ""):
    os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [os.environ.get("PYTENSOR_FLAGS"), "traceback__limit=0"]))

# The tests build millions of PyTensor objects (graphs, rewrites, compiled functions), most of them cyclic
# garbage soon after. Under CPython's default thresholds (700, 10, 10) the collector's full passes over
# everything alive took 12-17% of a worker's time; young collections every 5000 allocations and a full one
# after 50 middle ones (not 10) leave collection at 4-5%, and a worker's memory within about 100 MB of the
# default's (about 650 MB).
gc.set_threshold(5000, 20, 50)

REPO = Path(__file__).resolve().parents[1]
SEED = 20240611


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


@pytest.fixture
def mock_pymc_sample(monkeypatch):
    """Replace pm.sample by PyMC's mock sampler (prior draws, fake sample_stats)."""
    import pymc as pm
    from pymc.testing import mock_sample

    monkeypatch.setattr(pm, "sample", partial(mock_sample, sample_stats=mock_sample_stats()))
    yield


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of the shipped data directory."""
    from bayes_coalition.data.dataset import default_data_dir

    dst = tmp_path / "data"
    shutil.copytree(default_data_dir(), dst, ignore=shutil.ignore_patterns("raw", "senate106", "*.md"))
    return dst


@pytest.fixture(autouse=True, scope="session")
def _small_report_figures():
    """Tests check what the report shows, not its pixels: draw its PNGs at a low resolution (the
    report's figures cost most of a report's build time, and reports are built in many tests)."""
    from bayes_coalition.report import figures

    dpi, figures.DPI = figures.DPI, 30
    yield
    figures.DPI = dpi


@pytest.fixture(scope="session")
def mock_fit():
    """One mock-sampled coalition model for the whole session (prior draws stand in for the posterior).

    Shared by the fitted-model tests (tests/coalition/test_fitted_model.py) and the report tests; the
    scheduler below sends all of its users to one pytest-xdist worker, so it is built once per run.
    """
    import pymc as pm
    from pymc.testing import mock_sample

    from bayes_coalition import CoalitionModel
    from bayes_coalition.coalition.spec import shipped_spec_path

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=mock_sample_stats()))
        # model v2 without the strategic layers (the tests switch each on over it); the default spec is v2 with
        # three layers on (tests/coalition/test_model.py)
        model = CoalitionModel(spec=shipped_spec_path("trade_coalition_v2"))
        with pytest.warns(ConvergenceWarning, match="convergence fail"):  # prior draws do not converge: the fit must say so
            model.fit(random_seed=11, draws=60, chains=2, progressbar=False)
    return model


# Test modules (and single tests) that use the session's ``mock_fit`` (4-5 s) and the report run built
# from it (tests/report/conftest.py ``coalition_run``: its saved run directory and its report, about
# 12 s): pytest-xdist sends all of them to one worker, so each is built once per run instead of once per
# worker. Every other test is scheduled on its own, as under ``--dist load``; the group has the most
# tests, so it starts first and the other worker's single tests fill in around it. A test that uses
# ``mock_fit`` and is not listed here fails the collection (it would build a second fit on the other
# worker). (``--dist loadgroup`` would group from marks, but pytest-xdist 3.8 cannot group under
# pytest 9.2: it renames ``item._nodeid``, which pytest 9.2 no longer reads.)
SHARED_RUN = (
    "tests/coalition/test_fitted_model.py",
    "tests/data/test_composition.py::test_a_saved_run_keeps_the_tables",
    "tests/report/test_build.py",
    "tests/report/test_honesty.py",
    "tests/report/test_run_dir.py",
)


# Modules whose tests share a module-scoped fit of their own (tests/prediction/test_bills.py: a 400-draw
# mock fit, about 2.5 s): each runs whole on one worker, so that fit too is built once per run.
ONE_WORKER_MODULES = ("tests/prediction/test_bills.py",)


def _shares_the_run(nodeid: str) -> bool:
    return nodeid.split("::")[0] in SHARED_RUN or nodeid.split("[")[0] in SHARED_RUN


def pytest_collection_modifyitems(items):
    stray = [item.nodeid for item in items if "mock_fit" in getattr(item, "fixturenames", ()) and not _shares_the_run(item.nodeid)]
    if stray:
        raise pytest.UsageError(f"tests using the session's mock_fit must be listed in SHARED_RUN of tests/conftest.py: {stray}")


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if _shares_the_run(nodeid):
                return "shared-report-run"
            module = nodeid.split("::")[0]
            return module if module in ONE_WORKER_MODULES else nodeid

    return SharedRunScheduling(config, log)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The run is over: leave what the tests built (PyTensor graphs, models, figures) to the process's exit
    instead of the garbage collector's last passes over it, which took 2-3 s in each pytest-xdist worker
    (the run waits for them) and in a -n 0 run."""
    gc.freeze()
