"""Cheap runs for the report tests: a coalition model fitted by PyMC's mock sampler (prior draws,
fake sample_stats; the session's ``mock_fit`` of tests/conftest.py), its saved run directory with
the report built through the CLI."""

from __future__ import annotations

import json

import pytest

from tests.helpers import report_cli


@pytest.fixture(scope="session")
def fitted(mock_fit):
    return mock_fit


@pytest.fixture(scope="session")
def coalition_run(fitted, tmp_path_factory):
    """A saved run directory, its report built through the CLI subcommand: (directory, exit code)."""
    run = tmp_path_factory.mktemp("coalition_run")
    fitted.save(run / "posterior.nc")
    (run / "diagnostics.json").write_text(json.dumps({**fitted.diagnostics, "wall_seconds": 12.5,
                                                      "sampling_seconds": fitted.diagnostics["wall_seconds"]}))
    return run, report_cli([str(run)])
