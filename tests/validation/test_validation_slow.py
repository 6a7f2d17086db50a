"""Slow smoke runs of the validation tools (real sampling)."""

from __future__ import annotations

import pytest

from bayes_coalition.coalition.spec import default_spec_path, load_spec
from bayes_coalition.validation.backtest import backtest, backtest_scores
from bayes_coalition.validation.sbc import run_coalition_sbc
from bayes_coalition.validation.sbc_stats import summarise_sbc

pytestmark = pytest.mark.slow


def test_sbc_smoke_ten_simulations(tmp_path):
    spec = load_spec(default_spec_path())
    ranks = run_coalition_sbc(spec, 10, seed=3, out_dir=tmp_path, draws=300, tune=300, n_keep=49, progress=False)
    assert ranks["simulation"].nunique() == 10
    assert ((ranks["rank"] >= 0) & (ranks["rank"] <= ranks["n_draws"])).all()
    summary = summarise_sbc(ranks)
    assert set(summary["groups"]) >= {"effect_included", "sigma_total", "faction_deviation", "cut_point", "loading"}
    assert all(0.0 <= g["p_value"] <= 1.0 for g in summary["groups"].values())
    # resumable: a second call with the same number of simulations adds nothing
    again = run_coalition_sbc(spec, 10, seed=3, out_dir=tmp_path, draws=300, tune=300, n_keep=49, progress=False)
    assert len(again) == len(ranks)


def test_backtest_one_origin():
    """Real nutpie sampling of the weighted model at one origin (the backtest's compiled path)."""
    spec = load_spec(default_spec_path())
    result = backtest(spec, ["2015-06-12"], draws=150, chains=2, tune=400, progress=False)
    table = result.votes
    assert set(table["origin"]) == {"2015-06-12"} and table["case_id"].str.contains("2015|usmca").all()
    assert len(result.fits) == 1 and result.fits["n_train_votes"].iloc[0] == 37
    s = backtest_scores(result)
    assert 0 <= s["model"]["brier"] <= 1 and 0 <= s["coverage_90"] <= 1


def test_chain_tasks_give_the_same_sbc_and_backtest_on_one_or_two_threads(tmp_path):
    """Each chain of a fit is a task (parallel.Executor.stream): one chain at a time (``--workers 1``) and two at
    once on threads (no flag) give the same SBC ranks and fit rows, and the same backtest predictions and fit
    diagnostics, refits included (tuning this short fails the bar, so every origin is refitted)."""
    import pandas as pd

    from bayes_coalition.parallel import executor

    spec = load_spec(default_spec_path())
    sbc_kw = dict(seed=5, draws=60, tune=60, n_keep=19, progress=False)
    one = run_coalition_sbc(spec, 2, out_dir=tmp_path / "one", executor=executor(1), **sbc_kw)
    two = run_coalition_sbc(spec, 2, out_dir=tmp_path / "two", executor=executor(None), **sbc_kw)
    pd.testing.assert_frame_equal(one, two)
    fits = [pd.read_csv(tmp_path / d / "sbc_fits.csv").drop(columns="seconds") for d in ("one", "two")]
    pd.testing.assert_frame_equal(*fits)
    bt_kw = dict(draws=40, chains=2, tune=40, progress=False)
    origins = ["1996-06-27", "1997-11-04"]
    a = backtest(spec, origins, executor=executor(1), **bt_kw)
    b = backtest(spec, origins, executor=executor(None), **bt_kw)
    pd.testing.assert_frame_equal(a.votes, b.votes)
    pd.testing.assert_frame_equal(a.fits.drop(columns="seconds"), b.fits.drop(columns="seconds"))
    assert (a.fits["attempts"] == 2).all()
