"""The vote-buying layer's SBC (validation/buying_sbc.py): the design read from the data, the simulated counts
against their target distribution, the layer model's density against a NumPy/SciPy recomputation, and (slow) the
SBC itself and parameter recovery."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayes_coalition.coalition import buying
from bayes_coalition.coalition.model import CoalitionModel
from bayes_coalition.coalition.spec import load_spec
from bayes_coalition.validation import buying_sbc
from tests.helpers import REPO

SPEC = REPO / "models" / "trade_coalition_buying.toml"
PRIORS = {"buying_prob_alpha": 2.0, "buying_prob_beta": 2.0, "buying_reach_median": 0.01, "buying_reach_log_sd": 0.75}


@pytest.fixture(scope="module")
def design():
    return buying_sbc.layer_design(CoalitionModel(spec=load_spec(SPEC)).model_data)


def test_design_holds_the_leadership_controlled_votes(design):
    case = dict(zip(design["case"], range(len(design["case"]))))
    assert "cafta_h" in case and "chinamfn1996_h" not in case and "ft1997_h_whip" not in case
    j = case["cafta_h"]
    assert (design["observed"][j], design["n"][j], design["threshold"][j]) == (217, 432, 217)    # 217-215
    np.testing.assert_allclose(design["sd"], 0.03 * design["n"])


def test_simulated_counts_follow_the_layer(design):
    """One vote, many simulations at a fixed truth: P(count = t) = f(t) + sum_d b(d) f(t - d) and
    P(count = t - 3) = f(t - 3) (1 - b(3)), f the discrete Gaussian, against the simulated frequencies."""
    one = {"n": np.array([432.0]), "threshold": np.array([217.0]), "mean": np.array([212.0]), "sd": np.array([12.0])}
    theta = {"buying_prob": 0.6, "buying_reach": 0.01}
    rng = np.random.default_rng(5)
    S = 40_000
    y = np.empty(S)
    for i in range(S):
        nat = buying_sbc.natural_counts(one, rng)
        y[i] = buying.buy_votes(rng, nat[None, :], np.array([432]), 217, np.array([0.6]), np.array([0.01]))[0, 0]
    grid = np.arange(433)
    f = stats.norm.pdf(grid, 212.0, 12.0)
    f /= f.sum()
    d = np.arange(1, 109)
    b = buying.close_probability(np, d, 432.0, theta["buying_prob"], theta["buying_reach"])
    p_at = f[217] + np.sum(b * f[217 - d])
    p_3 = f[214] * (1 - b[2])
    for p, got in ((p_at, np.mean(y == 217)), (p_3, np.mean(y == 214))):
        assert got == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / S))
    assert p_at > 3 * f[217]                             # the layer piles the counts on the threshold


def test_layer_model_density_by_hand(design):
    """The model's log density at a point: the two priors plus, per vote, log(1 - b(t - y)) below the threshold,
    log(1 + sum_d b(d) f(t - d) / f(t)) at it (SciPy's normal density), 0 above."""
    model = buying_sbc.build_layer_model(design, PRIORS)
    prob, reach = 0.55, 0.012
    like = 0.0
    for y, n, t, m, s in zip(design["observed"], design["n"], design["threshold"], design["mean"], design["sd"]):
        d = np.arange(1, int(np.ceil(n / 4)) + 1)
        b = prob * np.exp(-(d - 1) / (reach * n))
        if y < t:
            like += np.log1p(-(b[int(t - y) - 1] if t - y <= len(d) else 0.0))
        elif y == t:
            like += np.log1p(np.sum(b * stats.norm.pdf(t - d, m, s) / stats.norm.pdf(t, m, s)))
    assert like != 0.0
    prior = stats.beta.logpdf(prob, 2, 2) + stats.lognorm.logpdf(reach, 0.75, scale=0.01)
    logp = model.compile_logp(jacobian=False)
    value = {"buying_prob_logodds__": np.log(prob / (1 - prob)), "buying_reach_log__": np.log(reach)}
    assert float(logp(value)) == pytest.approx(prior + like, rel=1e-7)     # log-space sum against log1p: 4e-9


@pytest.mark.slow
def test_buying_layer_sbc_passes_at_one_percent(tmp_path):
    from bayes_coalition.validation.sbc_stats import summarise_sbc

    ranks = buying_sbc.run_buying_sbc(load_spec(SPEC), 200, seed=1, out_dir=tmp_path, draws=500, tune=500,
                                      progress=False)
    summary = summarise_sbc(ranks)
    assert summary["n_simulations"] == 200 and summary["verdict"] == "pass", summary["groups"]


@pytest.mark.slow
def test_buying_layer_recovers_its_parameters(design):
    """Parameter recovery: the design's votes ten times over, simulated at a fixed truth; each parameter's 99%
    interval holds it and the data contract the prior of P(closing a one-vote gap)."""
    import pymc as pm

    rep = {k: (np.tile(v, 10) if isinstance(v, np.ndarray) else v * 10) for k, v in design.items()}
    rng = np.random.default_rng(11)
    theta = {"buying_prob": 0.7, "buying_reach": 0.01}
    nat = buying_sbc.natural_counts(rep, rng)
    rep["observed"] = np.array([buying.buy_votes(rng, np.array([[y]]), np.array([int(n)]), int(t),
                                                 np.array([theta["buying_prob"]]), np.array([theta["buying_reach"]]))[0, 0]
                                for y, n, t in zip(nat, rep["n"], rep["threshold"])], dtype=float)
    with buying_sbc.build_layer_model(rep, PRIORS):
        idata = pm.sample(1000, tune=1000, chains=2, random_seed=3, progressbar=False, nuts_sampler="nutpie")
    for k, v in theta.items():
        draws = idata.posterior[k].values.ravel()
        lo, hi = np.quantile(draws, [0.005, 0.995])
        assert lo <= v <= hi, (k, lo, hi)
    sd = buying.prior_sd(PRIORS)
    assert 1 - idata.posterior["buying_prob"].values.var() / sd["buying_prob"] ** 2 > 0.5
