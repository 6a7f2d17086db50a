"""Sweeps as a batch of tasks (prediction/batch.py) and the `sweep` subcommand, on a real thinned posterior
(tests/fixtures/real_run): any slicing of the grid gives the whole sweep's table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_coalition.errors import DataValidationError
from bayes_coalition.prediction.batch import sweep_batch
from bayes_coalition.prediction.bills import load_bill
from tests.helpers import REPO, run_cli

RUN = REPO / "tests" / "fixtures" / "real_run"
BILL = REPO / "bills" / "hypothetical_2027.toml"
VARY = {"voting.payoff": [0, 1, 2], "voting.polarization": [0, 2], "formulation.executive_coordination": [0, 1, 2]}


@pytest.fixture(scope="module")
def whole():
    from bayes_coalition.coalition.model import CoalitionModel

    model = CoalitionModel.load(RUN, groups=("posterior",))
    return model.sweep(load_bill(BILL), VARY, seed=3)


def test_slices_of_the_grid_give_the_whole_sweep(whole):
    """Slices of 5 bills (the last one short) put back in grid order: the same table, to the last bit; the
    grid is the product of the levels, first key slowest."""
    batch = sweep_batch(RUN, BILL, VARY, seed=3, chunk=5)
    assert len(batch) == 18 and batch["voting.payoff"].tolist() == [0] * 6 + [1] * 6 + [2] * 6
    pd.testing.assert_frame_equal(batch, whole)
    assert np.ptp(batch["p_enacted"]) > 0.1                    # the grid moves the probability
    with pytest.raises(ValueError, match="at least 1"):
        sweep_batch(RUN, BILL, VARY, chunk=0)


def test_cli_sweep_writes_the_table(whole, tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    argv = ["sweep", RUN, BILL, "--seed", "3", "--chunk", "4", "--out", out]
    for k, v in VARY.items():
        argv += ["--vary", f"{k}={','.join(map(str, v))}"]
    assert run_cli(argv) == 0
    got = pd.read_csv(out)
    np.testing.assert_allclose(got[whole.columns].to_numpy(float), whole.to_numpy(float), rtol=1e-12)
    text = capsys.readouterr().out
    assert "18 bills (3 x 2 x 3 levels)" in text and f"wrote {out}" in text
    lo = whole.loc[whole["p_enacted"].idxmin()]
    assert f"lowest P(enacted) {lo['p_enacted']:.3f}" in text


def test_cli_sweep_rejects_a_malformed_vary(tmp_path, capsys):
    """A malformed --vary is an input error (exit 2, the expected form named), before any posterior is read;
    an unknown level is the bill schema's error."""
    from bayes_coalition.cli.main import parse_vary

    with pytest.raises(DataValidationError, match="stage.indicator=LEVEL"):
        parse_vary(["voting.payoff"])
    assert parse_vary(["voting.payoff=0,2", "polarization=1"]) == {"voting.payoff": [0, 2], "polarization": [1]}
    for bad in ("voting.payoff", "voting.payoff=low", "=1"):
        assert run_cli(["sweep", RUN, BILL, "--vary", bad, "--out", tmp_path / "x.csv"]) == 2
        assert "expected stage.indicator=LEVEL" in capsys.readouterr().err
    assert run_cli(["sweep", RUN, BILL, "--vary", "voting.payoff=9", "--out", tmp_path / "x.csv"]) == 2
    assert "payoff" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()
