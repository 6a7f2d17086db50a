"""Cheap runs for the report tests: a coalition model fitted by PyMC's mock sampler (prior draws,
fake sample_stats), its saved run directory with the report built through the CLI."""

from __future__ import annotations

import argparse
import json
from functools import partial

import pymc as pm
import pytest
from pymc.testing import mock_sample

from bayes_coalition import CoalitionModel
from bayes_coalition.cli import report as cli_report
from bayes_coalition.errors import ConvergenceWarning

from ..conftest import _stats


def report_cli(argv: list[str]) -> int:
    """Run ``bayes-coalition report ARGV`` through the subcommand's own parser."""
    parser = argparse.ArgumentParser(prog="bayes-coalition")
    cli_report.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *argv])
    return args.func(args)


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
