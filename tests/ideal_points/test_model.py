"""Ideal points: identification/alignment, filtering, holdout, likelihood, persistence, CLI.

Nothing here runs MCMC except the test marked slow; fits are mocked with prior draws
(pymc.testing.mock_sample)."""

from __future__ import annotations

import argparse
import json
from functools import partial

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from pymc.testing import mock_sample
from scipy.special import expit, log_ndtr

from bayes_coalition import _arviz
from bayes_coalition.cli import ideal_points as cli_ideal_points
from bayes_coalition.errors import DataValidationError
from bayes_coalition.ideal_points.model import (
    IdealPointModel,
    align_draws,
    align_posterior,
    dense_loglik_and_grad,
    majority_side,
    orientation_weights,
    score_cells,
    split_holdout,
)
from bayes_coalition.data.rollcalls import RollCallMatrix


def simulate_matrix(n_leg=12, n_rc=40, missing=0.1, seed=0) -> tuple[RollCallMatrix, np.ndarray]:
    """A 2PL matrix: the first half Republicans on the right; returns (matrix, true ideal points)."""
    rng = np.random.default_rng(seed)
    party = np.array(["R"] * (n_leg // 2) + ["D"] * (n_leg - n_leg // 2))
    x = np.where(party == "R", 1.0, -1.0) + 0.4 * rng.normal(size=n_leg)
    beta = rng.normal(0, 2, n_rc)
    alpha = rng.normal(0, 1, n_rc)
    votes = (rng.random((n_leg, n_rc)) < expit(np.outer(x, beta) - alpha)).astype(float)
    votes[rng.random(votes.shape) < missing] = np.nan
    ids = [f"L{i}" for i in range(n_leg)]
    rcs = [f"rc{j}" for j in range(n_rc)]
    da = xr.DataArray(votes, dims=("legislator", "rollcall"),
                      coords={"legislator": np.array(ids, dtype=object), "rollcall": np.array(rcs, dtype=object)})
    legs = pd.DataFrame({"legislator_id": ids, "party": party, "name": [f"name{i}" for i in range(n_leg)],
                         "age": rng.integers(40, 80, n_leg).astype(str)})
    return RollCallMatrix(da, legs, pd.DataFrame({"rollcall": rcs}), source="simulated"), x


@pytest.fixture
def mocked_sampling(monkeypatch):
    stats = {"diverging": lambda size: np.zeros(size, dtype=bool),
             "energy": lambda size: np.random.default_rng(0).normal(size=size)}
    monkeypatch.setattr(pm, "sample", partial(mock_sample, sample_stats=stats))


def mirrored_posterior(seed=0, n_draws=1000):
    """Chain 1 around a fixed configuration; chain 2 its mirror image (ideal points and discriminations)."""
    rng = np.random.default_rng(seed)
    parties = np.array(["R", "R", "R", "D", "D", "D"])
    centre = np.array([1.2, 0.8, 0.5, -0.4, -0.9, -1.2])
    x1 = centre + 0.05 * rng.normal(size=(n_draws, 6))
    b1 = np.array([2.0, -1.0, 0.5]) + 0.05 * rng.normal(size=(n_draws, 3))
    a1 = np.array([0.1, 0.2, -0.3]) + 0.05 * rng.normal(size=(n_draws, 3))
    post = xr.Dataset(
        {"ideal_point": (("chain", "draw", "legislator"), np.stack([x1, -x1])),
         "discrimination": (("chain", "draw", "rollcall"), np.stack([b1, -b1])),
         "difficulty": (("chain", "draw", "rollcall"), np.stack([a1, a1]))},
        coords={"chain": [0, 1], "draw": np.arange(n_draws), "legislator": list("abcdef"), "rollcall": ["r1", "r2", "r3"]},
    )
    return post, parties


# --- identification -------------------------------------------------------------------


def test_reflected_chains_agree_after_alignment():
    post, parties = mirrored_posterior()
    w, rule = orientation_weights(parties)
    assert rule == "party R positive"
    raw_rhat = float(_arviz.rhat(_arviz.InferenceData(posterior=post), ["ideal_point"])["ideal_point"].max())
    aligned = align_posterior(post, w)
    a = aligned["ideal_point"].values
    np.testing.assert_allclose(a[0], a[1])
    np.testing.assert_allclose(aligned["discrimination"].values[0], aligned["discrimination"].values[1])
    rhat = _arviz.rhat(_arviz.InferenceData(posterior=aligned), ["ideal_point", "discrimination"])
    assert raw_rhat > 1.5
    assert float(rhat["ideal_point"].max()) < 1.01
    assert float(rhat["discrimination"].max()) < 1.01
    assert (aligned["orientation_sign"].values[1] == -1).all()


def test_orientation_republicans_positive_every_draw():
    rng = np.random.default_rng(1)
    parties = np.array(["R"] * 5 + ["D"] * 5)
    base = np.r_[np.full(5, 1.0), np.full(5, -1.0)]
    signs = rng.choice([-1.0, 1.0], size=50)
    ideal = signs[:, None] * (3.0 * base + 7.0 + 0.1 * rng.normal(size=(50, 10)))  # shifted, scaled, flipped
    disc = signs[:, None] * rng.normal(size=(50, 4))
    diff = rng.normal(size=(50, 4))
    w, _ = orientation_weights(parties)
    x, b, a, sign = align_draws(ideal, disc, diff, w)
    assert np.all(x[:, :5].mean(axis=1) > 0)
    np.testing.assert_allclose(x.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=1), 1, atol=1e-12)
    # the linear predictor of every cell is unchanged by the alignment
    np.testing.assert_allclose(ideal[:, :, None] * disc[:, None, :] - diff[:, None, :],
                               x[:, :, None] * b[:, None, :] - a[:, None, :], atol=1e-10)


def test_orientation_rules_precedence_and_fallback():
    parties = np.array(["D", "R", "D"])
    w, rule = orientation_weights(parties, anchors={2: (1.0, 0.01)})
    assert rule == "anchors" and w[2] == 1.0
    w, rule = orientation_weights(parties, positive_legislator=0)
    assert rule == "positive_legislator"
    train = np.array([[1, 0, 1.0], [0, 1, 0.0], [1, 0, np.nan]])
    w, rule = orientation_weights(np.array(["(none)"] * 3), train=train)
    assert rule.startswith("first principal component")
    assert w[np.argmax(np.abs(w))] > 0


def test_fit_orients_and_reports(mocked_sampling):
    rc, _ = simulate_matrix()
    model = IdealPointModel(rc, lopsided=None, min_votes=None)
    model.fit(random_seed=3, draws=30, chains=2)
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


# --- filtering, holdout, scores -----------------------------------------------------------


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


def test_holdout_never_leaks_into_fit_data():
    rc, _ = simulate_matrix(n_leg=10, n_rc=30, missing=0.2, seed=4)
    m = IdealPointModel(rc, lopsided=None, min_votes=None, holdout_fraction=0.1, holdout_seed=7)
    observed = np.isfinite(m.votes)
    assert m.holdout_mask.sum() == round(0.1 * observed.sum())
    assert np.all(observed[m.holdout_mask])  # only observed cells are held out
    assert np.all(np.isnan(m.train[m.holdout_mask]))
    assert np.array_equal(np.isfinite(m.train), observed & ~m.holdout_mask)
    # the likelihood's sign mask sees exactly the training cells
    signs = np.where(np.isfinite(m.train), 2 * np.nan_to_num(m.train) - 1, 0)
    assert np.all(signs[m.holdout_mask] == 0)
    # seeded: same seed same split, another seed another split
    _, again = split_holdout(m.votes, 0.1, 7)
    _, other = split_holdout(m.votes, 0.1, 8)
    assert np.array_equal(again, m.holdout_mask) and not np.array_equal(other, m.holdout_mask)


def test_split_holdout_bad_fraction():
    with pytest.raises(ValueError):
        split_holdout(np.ones((3, 3)), 1.0, 0)


def test_score_cells_apre_against_majority_side():
    votes = np.array([[1, 0], [1, 0], [0, 1.0], [1, np.nan]])
    majority = majority_side(votes)
    np.testing.assert_array_equal(majority, [1, 0])
    prob = np.array([[0.9, 0.2], [0.8, 0.1], [0.3, 0.6], [0.7, 0.5]])
    s = score_cells(prob, votes, np.ones_like(votes, bool), majority)
    assert s["n_cells"] == 7 and s["accuracy"] == 1.0
    assert s["apre"] == pytest.approx(1.0)  # baseline errs twice (row 3), the model never
    assert s["gmp"] == pytest.approx(np.exp(np.mean(np.log([0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 0.6]))))
    assert s["brier"] == pytest.approx(np.mean(np.square([0.1, 0.2, 0.3, 0.3, 0.2, 0.1, 0.4])))


# --- likelihood -------------------------------------------------------------------------


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_dense_likelihood_value_and_gradient(link):
    rng = np.random.default_rng(2)
    x, b, a = rng.normal(size=5), 2 * rng.normal(size=4), rng.normal(size=4)
    votes = (rng.random((5, 4)) < 0.5).astype(float)
    votes[0, 0] = votes[3, 2] = np.nan
    obs = np.isfinite(votes)
    signs = np.where(obs, 2 * np.nan_to_num(votes) - 1, 0.0)
    eta = np.outer(x, b) - a
    ref = (np.log(expit(signs * eta)) if link == "logit" else log_ndtr(signs * eta))[obs].sum()
    lp, gx, gb, ga = dense_loglik_and_grad(x, b, a, signs, float((~obs).sum()), link)
    assert lp == pytest.approx(ref, rel=1e-10)
    h = 1e-6
    for vec, grad in ((x, gx), (b, gb), (a, ga)):
        for k in range(len(vec)):
            up, down = vec.copy(), vec.copy()
            up[k] += h
            down[k] -= h
            args = {id(x): (x, b, a), id(b): (x, b, a), id(a): (x, b, a)}[id(vec)]
            f = lambda v: dense_loglik_and_grad(*[v if arr is vec else arr for arr in args], signs, float((~obs).sum()), link)[0]  # noqa: E731
            assert grad[k] == pytest.approx((f(up) - f(down)) / (2 * h), rel=1e-5, abs=1e-6)


def test_formulations_agree():
    rc, _ = simulate_matrix(n_leg=8, n_rc=10)
    point = None
    values = {}
    for form in ("dense", "dense_graph", "gather"):
        m = IdealPointModel(rc, lopsided=None, min_votes=None, formulation=form)
        point = point or m.model.initial_point()
        values[form] = m.model.compile_logp(mode="FAST_COMPILE")(point)
    assert values["dense"] == pytest.approx(values["gather"]) == pytest.approx(values["dense_graph"])


# --- persistence, prediction --------------------------------------------------------------


def test_save_load_round_trip(mocked_sampling, tmp_path):
    rc, _ = simulate_matrix()
    model = IdealPointModel(rc, lopsided=None, min_votes=None, holdout_fraction=0.2, holdout_seed=1)
    model.fit(random_seed=1, draws=20)
    path = model.save(tmp_path / "posterior.nc")
    loaded = IdealPointModel.load(path)
    pd.testing.assert_frame_equal(model.ideal_points(), loaded.ideal_points())
    assert np.array_equal(model.holdout_mask, loaded.holdout_mask)
    assert loaded.holdout_scores() == pytest.approx(model.holdout_scores())
    assert loaded.diagnostics["max_rhat"] == pytest.approx(model.diagnostics["max_rhat"], nan_ok=True)
    assert loaded.options == model.options
    sims = loaded.posterior_predictive(random_seed=5, n_draws=10)
    assert sims.shape == (10, rc.n_legislators, rc.n_rollcalls)
    assert np.array_equal(sims.values, loaded.posterior_predictive(random_seed=5, n_draws=10).values)
    p = loaded.predict_proba()
    assert p.shape == (rc.n_legislators, rc.n_rollcalls) and np.all((p >= 0) & (p <= 1))


def test_load_rejects_other_files(tmp_path):
    idata = _arviz.InferenceData(posterior=xr.Dataset({"a": (("chain", "draw"), np.zeros((1, 2)))}))
    _arviz.to_netcdf(idata, tmp_path / "x.nc")
    with pytest.raises(ValueError, match="not a saved"):
        IdealPointModel.load(tmp_path / "x.nc")


# --- bad input ----------------------------------------------------------------------------


def test_bad_inputs():
    rc, _ = simulate_matrix()
    with pytest.raises(DataValidationError, match="anchor"):
        IdealPointModel(rc, anchors={"nobody": 1.0}, lopsided=None, min_votes=None)
    with pytest.raises(DataValidationError, match="covariate"):
        IdealPointModel(rc, covariates=["height"], lopsided=None, min_votes=None)
    with pytest.raises(DataValidationError, match="at least 3 legislators"):
        IdealPointModel(rc, min_votes=10_000)
    with pytest.raises(ValueError, match="link"):
        IdealPointModel(rc, link="cloglog")
    with pytest.raises(RuntimeError, match="not been fitted"):
        IdealPointModel(rc, lopsided=None, min_votes=None).ideal_points()
    with pytest.raises(ValueError, match="no cells were held out"):
        m = IdealPointModel(rc, lopsided=None, min_votes=None)
        m.holdout_scores()


def test_covariates_and_anchors_build(mocked_sampling):
    rc, _ = simulate_matrix()
    m = IdealPointModel(rc, covariates=["age"], anchors={"L0": 1.5, "L11": (-1.5, 0.1)}, party_sd="common",
                        lopsided=None, min_votes=None)
    assert "covariate_effect" in m.model.named_vars and "anchors" in m.model.named_vars
    m.fit(random_seed=0, draws=10)
    assert m.diagnostics["orientation"] == "anchors"
    assert "covariate_effect" in m.idata.posterior


# --- CLI ----------------------------------------------------------------------------------


def _cli(argv) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli_ideal_points.add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def _write_dir(rc: RollCallMatrix, folder):
    folder.mkdir()
    wide = rc.votes.to_pandas()
    wide.index.name = "legislator_id"
    wide.to_csv(folder / "votes_wide.csv")
    rc.legislators.to_csv(folder / "legislators.csv", index=False)
    return folder


def test_cli_writes_files_and_keys(mocked_sampling, tmp_path, capsys):
    rc, _ = simulate_matrix(n_leg=30, n_rc=60)
    data = _write_dir(rc, tmp_path / "data")
    out = tmp_path / "out"
    code = _cli(["ideal-points", str(data), "--out", str(out), "--seed", "3", "--holdout-fraction", "0.1",
                 "--draws", "20", "--chains", "2", "--min-votes", "5"])
    assert code == 0
    for name in ("ideal_points.csv", "diagnostics.json", "holdout.json", "posterior.nc", "fit_statistics.json",
                 "report.html", "report.md"):
        assert (out / name).is_file(), name
    assert "Ideal points by party" in (out / "report.html").read_text(encoding="utf-8")
    table = pd.read_csv(out / "ideal_points.csv")
    assert list(table.columns) == ["legislator_id", "party", "mean", "sd", "lower", "upper"]
    diag = json.loads((out / "diagnostics.json").read_text())
    for key in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi", "wall_seconds", "sampler",
                "draws", "chains", "n_legislators", "n_rollcalls", "n_cells", "lopsided_rollcalls", "low_activity_legislators"):
        assert key in diag
    assert diag["draws"] == 20 and diag["chains"] == 2
    hold = json.loads((out / "holdout.json").read_text())
    assert {"n_cells", "accuracy", "brier", "log_score", "apre"} <= set(hold)
    assert "convergence:" in capsys.readouterr().out


def test_cli_long_format_and_bad_input(mocked_sampling, tmp_path, capsys):
    rc, _ = simulate_matrix(n_leg=10, n_rc=30)
    long = rc.votes.to_dataframe(name="vote").reset_index().rename(columns={"legislator": "legislator_id"})
    long["vote"] = long["vote"].map({1.0: "1", 0.0: "0"}).fillna("")
    long.to_csv(tmp_path / "long.csv", index=False)
    assert _cli(["ideal-points", "--votes", str(tmp_path / "long.csv"), "--format", "long", "--out", str(tmp_path / "o"),
                 "--draws", "10", "--min-votes", "1", "--positive-party", "none"]) == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "votes_wide.csv").write_text("legislator_id,rc1\nA,1\nB,yes\n")
    assert _cli(["ideal-points", str(bad), "--out", str(tmp_path / "o2")]) == 2
    assert "invalid data" in capsys.readouterr().err
    assert _cli(["ideal-points", "--out", str(tmp_path / "o3")]) == 2


# --- real sampling (deselected by default) ----------------------------------------------------


@pytest.mark.slow
def test_real_fit_recovers_simulated_ideal_points():
    rc, truth = simulate_matrix(n_leg=20, n_rc=80, seed=5)
    model = IdealPointModel(rc, lopsided=None, min_votes=None)
    model.fit(random_seed=1, draws=300, tune=300, chains=2)
    est = model.ideal_points()["mean"].to_numpy()
    assert np.corrcoef(est, truth)[0, 1] > 0.9
    assert model.diagnostics["max_rhat"] < 1.05 and model.diagnostics["divergences"] == 0
