"""Cheap runs for the report tests: a coalition model fitted by PyMC's mock sampler (prior draws,
fake sample_stats; the session's ``mock_fit`` of tests/conftest.py), its saved run directory with
the report built through the CLI; and the hand-made ideal-point run of :mod:`.runs` reported through
the CLI. Each is built once per session (a report costs 2-12 s) and only read by the tests."""

from __future__ import annotations

import contextlib
import io
import json
from types import SimpleNamespace

import pytest

from tests.helpers import report_cli

from .runs import ideal_point_run


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


@pytest.fixture(scope="session")
def ideal_cli_report(tmp_path_factory):
    """The ideal-point run of :func:`.runs.ideal_point_run` (no divergences) reported by
    ``bayes-coalition report RUN --out OUT``: run and out directories, exit code, what the CLI printed,
    and the sections the report was built from (recorded from :func:`report.build.build_sections`)."""
    from bayes_coalition.report import build

    root = tmp_path_factory.mktemp("ideal_cli_report")
    run = ideal_point_run(root / "ideal", divergent=False)
    built, real = [], build.build_sections

    def spy(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.setattr(build, "build_sections", spy)
        rc = report_cli([str(run), "--out", str(root / "out")])
    (sections, _, _), = built
    return SimpleNamespace(run=run, out=root / "out", rc=rc, stdout=stdout.getvalue(), sections=sections)
