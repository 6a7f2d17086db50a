"""The agenda layer's SBC (validation/agenda_sbc.py): the design read from the data, the two rejection steps
against their target distributions (numerical integration), the layer model's density against a NumPy
recomputation, and (slow) the SBC itself and parameter recovery."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from bayes_coalition.coalition import agenda
from bayes_coalition.coalition.model import CoalitionModel
from bayes_coalition.coalition.spec import load_spec
from bayes_coalition.validation import agenda_sbc
from tests.helpers import REPO

SPEC = REPO / "models" / "trade_coalition_agenda.toml"
PRIORS = {"agenda_bar_sd": 0.02, "agenda_scale_median": 0.01, "agenda_scale_log_sd": 0.75, "agenda_leak_alpha": 1.0,
          "agenda_leak_beta": 9.0, "agenda_leak_floor": 0.001}


@pytest.fixture(scope="module")
def design():
    return agenda_sbc.layer_design(CoalitionModel(spec=load_spec(SPEC)).model_data)


def test_design_holds_the_held_votes_and_the_withdrawn_measure(design):
    case = dict(zip(design["case"], range(len(design["case"]))))
    h = design["n_held"]
    assert design["case"][h:] == ["ft1997_h_whip"] and "cafta_h" in case and "chinamfn1996_h" not in case
    j = case["cafta_h"]
    assert (design["mean"][j], design["n"][j], design["threshold"][j]) == (217, 432, 217)    # 217-215
    assert design["threshold"][h] == 218                      # a majority of the members, the whip count's rule
    np.testing.assert_allclose(design["sd"], 0.03 * design["n"])


def test_held_counts_follow_the_normal_times_pi(design):
    """y given held has density N(y) pi(y) / Z: the rejection draws' mean and P(y >= T) against quadrature."""
    theta = {"agenda_bar": 0.004, "agenda_scale": 0.01, "agenda_leak": 0.1}
    one = {k: (v[:1] if isinstance(v, np.ndarray) else v) for k, v in design.items()}
    one.update(n_held=1, mean=np.array([210.0]), sd=np.array([12.0]), threshold=np.array([217.0]), n=np.array([432.0]))
    rng = np.random.default_rng(3)
    ys = np.array([_held_once(one, theta, rng) for _ in range(4000)])
    pi = lambda y: agenda.floor_given_count(np, y, 217.0, 432.0, theta["agenda_bar"], theta["agenda_scale"], theta["agenda_leak"])
    dens = lambda y: stats.norm.pdf(y, 210.0, 12.0) * pi(y)
    z, _ = integrate.quad(dens, 100, 320, points=[218])
    assert z == pytest.approx(float(agenda.floor_probability(np, 210.0, 144.0, 217.0, 432.0, 0.004, 0.01, 0.1)), rel=1e-6)
    mean, _ = integrate.quad(lambda y: y * dens(y) / z, 100, 320, points=[218])
    above, _ = integrate.quad(lambda y: dens(y) / z, 216.5, 320)
    se = ys.std() / np.sqrt(len(ys))
    assert abs(ys.mean() - mean) < 4 * se
    assert abs(np.mean(ys >= 216.5) - above) < 4 * np.sqrt(above * (1 - above) / len(ys))
    assert mean > 215                                   # the layer moves held counts well above the smooth mean


def _held_once(design, theta, rng):
    return agenda_sbc.simulate_held_counts(design, theta, rng, batch=64)[0]


def test_truths_are_the_prior_given_the_withdrawal(design):
    """Kept truths have density prior(theta) (1 - Z_w(theta)): their mean bar against importance weights of
    plain prior draws; the withdrawal pulls the bar up (a higher bar makes withdrawal likelier)."""
    rng = np.random.default_rng(7)
    kept = np.array([agenda_sbc.simulate_truth(design, PRIORS, rng)["agenda_bar"] for _ in range(1500)])
    prior = agenda_sbc.draw_prior(PRIORS, np.random.default_rng(8), 40000)
    w = np.array([1 - agenda_sbc.z_values(design, {k: v[i] for k, v in prior.items()})[-1] for i in range(40000)])
    target = np.sum(w * prior["agenda_bar"]) / w.sum()
    assert target > 0.001                              # the event is informative: prior mean 0
    assert abs(kept.mean() - target) < 4 * kept.std() / np.sqrt(len(kept))


def test_layer_model_density_by_hand(design):
    """The model's log density at a point: the three priors plus sum_held [log pi(y) - log Z] + log(1 - Z_w)."""
    model = agenda_sbc.build_layer_model(design, PRIORS)
    point = {"agenda_bar": 0.003, "agenda_scale": 0.008, "agenda_leak": 0.05}
    h = design["n_held"]
    z = agenda_sbc.z_values(design, point)
    pi = agenda.floor_given_count(np, design["observed"], design["threshold"][:h], design["n"][:h], *point.values())
    like = np.sum(np.log(pi) - np.log(z[:h])) + np.log1p(-z[h:]).sum()
    excess = (0.05 - 0.001) / 0.999            # agenda_leak = floor + (1 - floor) * excess
    prior = (stats.norm.logpdf(0.003, 0, 0.02) + stats.lognorm.logpdf(0.008, 0.75, scale=0.01)
             + stats.beta.logpdf(excess, 1, 9))
    logp = model.compile_logp(jacobian=False)
    value = {"agenda_bar": 0.003, "agenda_scale_log__": np.log(0.008),
             "agenda_leak_excess_logodds__": np.log(excess / (1 - excess))}
    assert float(logp(value)) == pytest.approx(prior + like, rel=1e-7)     # erfc against ndtr: 5e-9


@pytest.mark.slow
def test_agenda_layer_sbc_passes_at_one_percent(tmp_path):
    from bayes_coalition.validation.sbc_stats import summarise_sbc

    ranks = agenda_sbc.run_agenda_sbc(load_spec(SPEC), 200, seed=1, out_dir=tmp_path, draws=500, tune=500,
                                      progress=False)
    summary = summarise_sbc(ranks)
    assert summary["n_simulations"] == 200 and summary["verdict"] == "pass", summary["groups"]


@pytest.mark.slow
def test_agenda_layer_recovers_its_parameters(design):
    """Parameter recovery: 400 held votes (the design's votes ten times over) simulated at a fixed truth; each
    parameter's 99% interval holds it and the data contract the bar's and the scale's prior."""
    import pymc as pm

    rep = {k: (np.tile(v[: design["n_held"]], 10) if isinstance(v, np.ndarray) else v) for k, v in design.items()}
    rep.update(n_held=10 * design["n_held"], case=rep["case"] * 10)
    for k in ("n", "threshold", "mean", "sd"):
        rep[k] = np.concatenate([rep[k], design[k][design["n_held"]:]])
    theta = {"agenda_bar": 0.006, "agenda_scale": 0.012, "agenda_leak": 0.08}
    rng = np.random.default_rng(11)
    rep["observed"] = np.array([_held_once({**rep, "n_held": 1, "mean": rep["mean"][i:i + 1], "sd": rep["sd"][i:i + 1],
                                            "threshold": rep["threshold"][i:i + 1], "n": rep["n"][i:i + 1]}, theta, rng)
                                for i in range(rep["n_held"])])
    with agenda_sbc.build_layer_model(rep, PRIORS):
        idata = pm.sample(1000, tune=1000, chains=2, random_seed=3, progressbar=False, nuts_sampler="nutpie")
    for k, v in theta.items():
        draws = idata.posterior[k].values.ravel()
        lo, hi = np.quantile(draws, [0.005, 0.995])
        assert lo <= v <= hi, (k, lo, hi)
    sd = agenda.prior_sd(PRIORS)
    for k in ("agenda_bar", "agenda_scale"):
        assert 1 - idata.posterior[k].values.var() / sd[k] ** 2 > 0.5, k
