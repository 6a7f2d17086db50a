"""Cheap runs for the report tests: a coalition model fitted by PyMC's mock sampler (prior draws,
fake sample_stats), its saved run directory with the report built through the CLI."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pymc as pm
import pytest
from pymc.testing import mock_sample

from bayes_coalition import CoalitionModel
from bayes_coalition.errors import ConvergenceWarning
from tests.helpers import mock_sample_stats as _stats
from tests.helpers import report_cli


@pytest.fixture(scope="session")
def fitted():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=_stats()))
        model = CoalitionModel()
        with pytest.warns(ConvergenceWarning):  # prior draws do not converge
            model.fit(random_seed=11, draws=60, chains=2, progressbar=False)
    return model


@pytest.fixture(scope="session")
def coalition_run(fitted, tmp_path_factory):
    """A saved run directory, its report built through the CLI subcommand: (directory, exit code)."""
    run = tmp_path_factory.mktemp("coalition_run")
    fitted.save(run / "posterior.nc")
    (run / "diagnostics.json").write_text(json.dumps({**fitted.diagnostics, "wall_seconds": 12.5,
                                                      "sampling_seconds": fitted.diagnostics["wall_seconds"]}))
    return run, report_cli([str(run)])


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (--dist loadgroup) every report test runs on one worker, so the session's
    report runs above are built once, not once per worker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("report"))
