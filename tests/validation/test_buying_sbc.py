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
    assert (design["n"][j], design["threshold"][j]) == (432, 217)                         # 217-215
    assert design["observed_r"][j] + design["observed_d"][j] + design["other_yea"][j] == 217
    np.testing.assert_allclose(design["p_r"][j], design["observed_r"][j] / design["n_r"][j])


def test_simulated_counts_follow_the_layer(design):
    """One vote, many simulations at a fixed truth: P(total = t) = f(t) + sum_d b(d) f(t - d) and
    P(total = t - 3) = f(t - 3) (1 - b(3)), f the pmf of the sum of the two natural beta-binomial rows."""
    j = design["case"].index("cafta_h")
    one = {k: (v[j:j + 1] if isinstance(v, np.ndarray) else v) for k, v in design.items()}
    theta = {"buying_prob": 0.6, "buying_reach": 0.01}
    rng = np.random.default_rng(5)
    S = 20_000
    total = np.empty(S)
    for i in range(S):
        _, c = buying_sbc.simulate(one, PRIORS, rng, theta)
        total[i] = c["observed_r"][0] + c["observed_d"][0] + one["other_yea"][0]
    phi = buying_sbc.CONCENTRATION
    f_r = stats.betabinom.pmf(np.arange(one["n_r"][0] + 1), one["n_r"][0], one["p_r"][0] * phi, (1 - one["p_r"][0]) * phi)
    f_d = stats.betabinom.pmf(np.arange(one["n_d"][0] + 1), one["n_d"][0], one["p_d"][0] * phi, (1 - one["p_d"][0]) * phi)
    f = np.convolve(f_r, f_d)                                          # pmf of the party yeas
    t = int(one["threshold"][0] - one["other_yea"][0])                 # party yeas needed
    d = np.arange(1, 44)
    b = buying.close_probability(np, d, 432.0, theta["buying_prob"], theta["buying_reach"])
    p_at = f[t] + np.sum(b * f[t - d])
    p_3 = f[t - 3] * (1 - b[2])
    target = int(one["threshold"][0])
    for p, got in ((p_at, np.mean(total == target)), (p_3, np.mean(total == target - 3))):
        assert got == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / S))
    assert p_at > 2 * f[t]                              # the layer piles the counts on the threshold


def test_layer_model_density_by_hand(design):
    """The model's log density at a point: the two priors plus, per vote, log(1 - b(t - y)) below the threshold,
    the mixture over the natural rows at it (SciPy's pmfs, term by term), 0 above."""
    from tests.coalition.test_buying import _mixture_by_hand

    model = buying_sbc.build_layer_model(design, PRIORS)
    prob, reach = 0.55, 0.012
    like, n_at = 0.0, 0
    for j in range(len(design["case"])):
        r, d, n, t = design["observed_r"][j], design["observed_d"][j], design["n"][j], design["threshold"][j]
        y = r + d + design["other_yea"][j]
        if y < t:
            gap = t - y
            like += np.log1p(-(prob * np.exp(-(gap - 1) / (reach * n)) if gap <= np.ceil(n / 10) else 0.0))
        elif y == t:
            like += _mixture_by_hand(int(r), int(design["n_r"][j]), int(d), int(design["n_d"][j]), n, design["p_r"][j],
                                     design["p_d"][j], buying_sbc.CONCENTRATION, prob, reach)
            n_at += 1
    assert n_at >= 3
    prior = stats.beta.logpdf(prob, 2, 2) + stats.lognorm.logpdf(reach, 0.75, scale=0.01)
    logp = model.compile_logp(jacobian=False)
    value = {"buying_prob_logodds__": np.log(prob / (1 - prob)), "buying_reach_log__": np.log(reach)}
    assert float(logp(value)) == pytest.approx(prior + like, abs=1e-7)      # PyMC priors against SciPy: 4e-8


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
    theta = {"buying_prob": 0.7, "buying_reach": 0.01}
    _, counts = buying_sbc.simulate(rep, PRIORS, np.random.default_rng(11), theta)
    with buying_sbc.build_layer_model(rep, PRIORS, buying_sbc.layer_data(rep, counts)):
        idata = pm.sample(1000, tune=1000, chains=2, random_seed=3, progressbar=False, nuts_sampler="nutpie")
    for k, v in theta.items():
        draws = idata.posterior[k].values.ravel()
        lo, hi = np.quantile(draws, [0.005, 0.995])
        assert lo <= v <= hi, (k, lo, hi)
    sd = buying.prior_sd(PRIORS)
    assert 1 - idata.posterior["buying_prob"].values.var() / sd["buying_prob"] ** 2 > 0.5
