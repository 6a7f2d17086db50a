"""IdealPointModel: fitting (mocked sampling) through the shared sampler, filtering, holdout
leakage judged by the model's own log density, persistence through FittedModel, bad input.

Nothing here runs MCMC except the test marked slow; fits are mocked with prior draws
(pymc.testing.mock_sample)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayes_coalition.ideal_points.model as model_module
from bayes_coalition import _arviz
from bayes_coalition._base import FIT_DATA, RUN_FILE
from bayes_coalition.data.rollcalls import RollCallMatrix
from bayes_coalition.errors import ConvergenceWarning, DataValidationError
from bayes_coalition.ideal_points import IdealPointModel
from bayes_coalition.ideal_points.likelihood import FORMULATIONS
from tests.helpers import compare_logp, edited_copy
from tests.ideal_points.helpers import simulate_matrix, with_votes

OPEN = {"lopsided": None, "min_votes": None}     # no filtering: rows and columns stay those of the matrix


def fitted(rc, *, draws=20, seed=1, **options) -> IdealPointModel:
    """A model fitted with the mocked sampler (prior draws never converge: the fit must say so)."""
    model = IdealPointModel(rc, **{**OPEN, **options})
    with pytest.warns(ConvergenceWarning, match="min bulk ESS"):
        model.fit(random_seed=seed, draws=draws, chains=2)
    return model


# --- fitting ------------------------------------------------------------------------------


def test_fit_orients_and_reports(mock_pymc_sample):
    rc, _ = simulate_matrix()
    model = fitted(rc, draws=30, seed=3)
    x = model.idata.posterior["ideal_point"].values
    r = np.asarray(model.parties) == "R"
    assert np.all(x[..., r].mean(axis=-1) > 0)
    table = model.ideal_points()
    assert list(table.columns) == ["legislator_id", "party", "mean", "sd", "lower", "upper"]
    assert (table["lower"] <= table["upper"]).all()
    for key in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi", "wall_seconds", "sampler",
                "draws", "chains", "n_legislators", "n_rollcalls", "n_cells", "lopsided_rollcalls", "low_activity_legislators"):
        assert key in model.diagnostics
    assert model.diagnostics["orientation"] == "party R positive"


def test_fit_samples_through_sample_model(mock_pymc_sample, monkeypatch):
    """Sampler dispatch is sampling.sample_model's; the sampler records the deterministics."""
    calls = []
    real = model_module.sample_model

    def spy(model, **kwargs):
        calls.append(kwargs)
        return real(model, **kwargs)

    monkeypatch.setattr(model_module, "sample_model", spy)
    rc, _ = simulate_matrix()
    model = IdealPointModel(rc, **OPEN)
    with pytest.warns(ConvergenceWarning):
        model.fit(random_seed=4, sampler="pymc", draws=10, tune=7, chains=2)
    (kw,) = calls
    assert (kw["sampler"], kw["draws"], kw["tune"], kw["chains"], kw["random_seed"]) == ("pymc", 10, 7, 2, 4)
    assert {"z", "difficulty", "ideal_point", "party_location"} <= set(kw["var_names"])
    assert model.diagnostics["sampler"] == "pymc" and model.diagnostics["random_seed"] == 4


def test_covariates_and_anchors_build(mock_pymc_sample):
    rc, _ = simulate_matrix()
    m = IdealPointModel(rc, covariates=["age"], anchors={"L0": 1.5, "L11": (-1.5, 0.1)}, party_sd="common", **OPEN)
    assert "covariate_effect" in m.model.named_vars and "anchors" in m.model.named_vars
    with pytest.warns(ConvergenceWarning):
        m.fit(random_seed=0, draws=10)
    assert m.diagnostics["orientation"] == "anchors"
    assert "covariate_effect" in m.idata.posterior


# --- filtering and holdout ------------------------------------------------------------------


def test_filter_counts_lopsided_and_low_activity():
    rc, _ = simulate_matrix(n_leg=12, n_rc=40, missing=0.0)
    v = rc.votes.values.copy()
    v[:, 0] = 1.0  # unanimous
    v[:, 1] = 1.0
    v[0, 1] = 0.0  # 1 of 12 = 8% minority: kept at 0.025, dropped at 0.1
    v[3, 5:] = np.nan  # legislator L3 votes only 5 times
    rc = RollCallMatrix(rc.votes.copy(data=v), rc.legislators, rc.rollcalls, rc.source)
    m = IdealPointModel(rc, lopsided=0.025, min_votes=10)
    assert m.dropped["lopsided_rollcalls"] >= 1 and "rc0" not in m.model.coords["rollcall"]
    assert "rc1" in m.model.coords["rollcall"]
    assert m.dropped["low_activity_legislators"] == 1 and "L3" not in m.legislator_ids
    m2 = IdealPointModel(rc, lopsided=0.1, min_votes=None)
    assert "rc1" not in m2.model.coords["rollcall"]
    assert m2.dropped["low_activity_legislators"] == 0


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_heldout_votes_do_not_reach_the_model(formulation):
    """Flip every held-out vote: the model's training matrix and its log density at a fixed
    point do not move.  Flipping one training vote instead does move it (the check can fail)."""
    rc, _ = simulate_matrix(n_leg=10, n_rc=30, missing=0.2, seed=4)
    options = {**OPEN, "holdout_fraction": 0.1, "holdout_seed": 7, "formulation": formulation}
    m = IdealPointModel(rc, **options)
    assert m.holdout_mask.sum() == round(0.1 * np.isfinite(m.votes).sum())
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(0, 0.5, size=np.shape(v)) for k, v in m.model.initial_point().items()}

    def logp(model: IdealPointModel) -> float:
        return float(compare_logp(model.model)(point))

    base = logp(m)                      # compiled once, compared twice
    flipped = m.votes.copy()
    flipped[m.holdout_mask] = 1.0 - flipped[m.holdout_mask]
    leaky = IdealPointModel(with_votes(rc, flipped), **options)
    assert np.array_equal(leaky.holdout_mask, m.holdout_mask)
    np.testing.assert_array_equal(leaky.train, m.train)
    assert logp(leaky) == base
    i, j = np.argwhere(np.isfinite(m.train))[0]
    flipped[i, j] = 1.0 - flipped[i, j]
    assert logp(IdealPointModel(with_votes(rc, flipped), **options)) != pytest.approx(base, rel=1e-9)


# --- persistence ------------------------------------------------------------------------------


def test_save_load_round_trip(mock_pymc_sample, tmp_path):
    rc, _ = simulate_matrix()
    model = fitted(rc, holdout_fraction=0.2, holdout_seed=1)
    path = model.save(tmp_path / RUN_FILE)
    saved = _arviz.from_netcdf(path)
    assert FIT_DATA in saved.groups()
    assert saved.attrs["model_id"] == model.id and saved.attrs["model_version"] == model.version
    assert "legislators" not in saved.attrs          # the tables live in the fit data group now
    loaded = IdealPointModel.load(tmp_path)          # the run directory
    assert loaded.id == model.id and loaded.options == model.options
    pd.testing.assert_frame_equal(model.ideal_points(), loaded.ideal_points())
    assert list(loaded.rollcalls.legislators["legislator_id"]) == list(rc.legislators["legislator_id"])
    assert list(loaded.parties) == list(model.parties)
    assert np.array_equal(model.holdout_mask, loaded.holdout_mask)
    np.testing.assert_array_equal(model.train, loaded.train)
    assert loaded.holdout_scores() == pytest.approx(model.holdout_scores())
    assert loaded.diagnostics["max_rhat"] == pytest.approx(model.diagnostics["max_rhat"], nan_ok=True)
    sims = loaded.posterior_predictive(random_seed=5, n_draws=10)
    assert sims.shape == (10, rc.n_legislators, rc.n_rollcalls)
    assert np.array_equal(sims.values, loaded.posterior_predictive(random_seed=5, n_draws=10).values)
    p = loaded.predict_proba()
    assert p.shape == (rc.n_legislators, rc.n_rollcalls) and np.all((p >= 0) & (p <= 1))


def test_load_a_run_saved_before_the_fit_data_group(mock_pymc_sample, tmp_path):
    """Files written before FittedModel kept the tables as CSV text in attributes and had no model id."""
    rc, _ = simulate_matrix()
    rc.legislators.loc[2, "party"] = None                 # a legislator without a party survives the trip
    model = fitted(rc, holdout_fraction=0.1, covariates=["age"])
    edited_copy(model.save(tmp_path / "new.nc"), tmp_path / "old.nc", drop_groups=[FIT_DATA],
                drop_attrs=["model_id", "package_versions"],
                legislators=model.rollcalls.legislators.to_csv(index=False),
                rollcalls=model.rollcalls.rollcalls.to_csv(index=False))
    old, new = IdealPointModel.load(tmp_path / "old.nc"), IdealPointModel.load(tmp_path / "new.nc")
    pd.testing.assert_frame_equal(old.rollcalls.legislators, new.rollcalls.legislators)
    pd.testing.assert_frame_equal(old.rollcalls.rollcalls, new.rollcalls.rollcalls)
    assert old.parties[2] == "(none)" and list(old.parties) == list(model.parties)
    assert old.id == model.id
    pd.testing.assert_frame_equal(old.ideal_points(), model.ideal_points())


def test_load_rejects_other_model_types_and_versions(mock_pymc_sample, tmp_path):
    rc, _ = simulate_matrix()
    saved = fitted(rc).save(tmp_path / "run" / RUN_FILE)
    edited_copy(saved, tmp_path / "old_version.nc", model_version="0.0.9")
    with pytest.raises(ValueError, match=r"version 0\.0\.9.*reads versions 0\.1\.0"):
        IdealPointModel.load(tmp_path / "old_version.nc")
    edited_copy(saved, tmp_path / "coalition.nc", model_type="bayes_coalition.CoalitionModel", model_version="0.1.0")
    with pytest.raises(ValueError, match="not a saved bayes_coalition.IdealPointModel.*CoalitionModel"):
        IdealPointModel.load(tmp_path / "coalition.nc")
    with pytest.raises(FileNotFoundError, match="no saved model"):
        IdealPointModel.load(tmp_path / "nowhere")


def test_id_follows_the_options():
    rc, _ = simulate_matrix()
    a, b = IdealPointModel(rc, **OPEN), IdealPointModel(rc, **OPEN)
    assert a.id == b.id and len(a.id) == 16
    assert IdealPointModel(rc, link="probit", **OPEN).id != a.id


# --- bad input ----------------------------------------------------------------------------


def test_bad_inputs():
    rc, _ = simulate_matrix()
    with pytest.raises(DataValidationError, match="anchor"):
        IdealPointModel(rc, anchors={"nobody": 1.0}, **OPEN)
    with pytest.raises(DataValidationError, match="covariate"):
        IdealPointModel(rc, covariates=["height"], **OPEN)
    with pytest.raises(DataValidationError, match="at least 3 legislators"):
        IdealPointModel(rc, min_votes=10_000)
    with pytest.raises(ValueError, match="link"):
        IdealPointModel(rc, link="cloglog")
    with pytest.raises(ValueError, match="formulation"):
        IdealPointModel(rc, formulation="sparse")
    with pytest.raises(RuntimeError, match="not been fitted"):
        IdealPointModel(rc, **OPEN).ideal_points()
    with pytest.raises(ValueError, match="no cells were held out"):
        IdealPointModel(rc, **OPEN).holdout_scores()


# --- real sampling (deselected by default) ----------------------------------------------------


@pytest.mark.slow
def test_real_fit_recovers_simulated_ideal_points():
    rc, truth = simulate_matrix(n_leg=20, n_rc=80, seed=5)
    model = IdealPointModel(rc, **OPEN)
    model.fit(random_seed=1, draws=300, tune=300, chains=2)
    est = model.ideal_points()["mean"].to_numpy()
    assert np.corrcoef(est, truth)[0, 1] > 0.9
    assert model.diagnostics["max_rhat"] < 1.05 and model.diagnostics["divergences"] == 0
