"""Integrated importance sampling (validation/integrated.py) against integrals known in closed form or by quadrature."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayes_coalition.validation.integrated import integrated_log_likelihood


def _gaussian_case(seed=0, n_draws=12, n=40, dim=5, sigma=0.05):
    """y_j ~ N(a_s + B_s z, sigma^2), z ~ N(0, I): the marginal of y is N(a_s, B_s B_s^T + sigma^2 I) (SciPy)."""
    rng = np.random.default_rng(seed)
    a0, b0 = rng.normal(size=n), rng.normal(size=(n, dim))
    y = a0 + b0 @ rng.normal(size=dim) + sigma * rng.normal(size=n)
    # the draws' shared parameters near those that made y, as posterior draws would be
    a = a0 + 0.01 * rng.normal(size=(n_draws, n))
    b = b0 + 0.01 * rng.normal(size=(n_draws, n, dim))

    def loglik_z(z, rows):                             # z (len(rows), K, d)
        mean = a[rows, None, :] + np.einsum("snd,skd->skn", b[rows], z)
        return stats.norm.logpdf(y, mean, sigma).sum(-1)

    want = np.array([stats.multivariate_normal(a[s], b[s] @ b[s].T + sigma ** 2 * np.eye(n)).logpdf(y)
                     for s in range(n_draws)])
    return loglik_z, want, dim


def test_gaussian_effects_match_the_closed_form_marginal():
    """A sharp likelihood (40 observations at sd 0.05, five effects: the posterior of z about 1/100 the prior's
    width) integrated per draw matches SciPy's marginal density within four of its own Monte Carlo sds (each below 0.06), with every draw's k-hat below 0.7;
    the plain estimate from as many prior draws is off by tens of nats (what the integration is for)."""
    loglik_z, want, dim = _gaussian_case()
    got = integrated_log_likelihood(loglik_z, len(want), dim, rng=1, final_particles=1024)
    assert (got["mcse"] < 0.06).all()
    assert np.abs(got["log_lik"] - want) == pytest.approx(0, abs=1) and (np.abs(got["log_lik"] - want) < 4 * got["mcse"]).all()
    assert (got["khat"] < 0.7).all() and (got["beta"] == 1.0).all()
    # the pilot's pooled proposal starts every draw near its target: the main tempering is short
    pilot_rounds, main_rounds = got["rounds"]
    assert pilot_rounds > 15 and main_rounds <= pilot_rounds / 2
    z = np.random.default_rng(2).standard_normal((len(want), 256, dim))
    plain = special.logsumexp(loglik_z(z, np.arange(len(want))), axis=-1) - np.log(256)
    assert np.min(want - plain) > 10.0


def test_binomial_logit_effect_matches_quadrature():
    """One effect, a binomial row of 400 members with logit p = c_s + b_s z (the shape of a vote row): the
    integral over N(0, 1) by scipy.integrate.quad, draw by draw, within four Monte Carlo sds (each below 0.03)."""
    rng = np.random.default_rng(3)
    c, b = rng.normal(0.3, 0.5, size=8), rng.uniform(0.5, 2.0, size=8)
    n, y = 400, 251

    def row(s, z):
        return stats.binom.logpmf(y, n, special.expit(c[s] + b[s] * z))

    def loglik_z(z, rows):
        return stats.binom.logpmf(y, n, special.expit(c[rows, None] + b[rows, None] * z[..., 0]))

    want = []
    for s in range(8):
        mode = (special.logit(y / n) - c[s]) / b[s]
        peak = row(s, mode) + stats.norm.logpdf(mode)
        val, _ = integrate.quad(lambda t, s=s, peak=peak: np.exp(row(s, t) + stats.norm.logpdf(t) - peak), mode - 2, mode + 2,
                                points=[mode], limit=200, epsabs=0, epsrel=1e-10)
        want.append(np.log(val) + peak)
    got = integrated_log_likelihood(loglik_z, 8, 1, rng=4, final_particles=1024)
    assert (got["mcse"] < 0.03).all() and (np.abs(got["log_lik"] - np.array(want)) < 4 * got["mcse"]).all()


def test_seeded_and_shaped():
    loglik_z, want, dim = _gaussian_case(n_draws=3)
    a = integrated_log_likelihood(loglik_z, 3, dim, rng=7, final_particles=64)
    b = integrated_log_likelihood(loglik_z, 3, dim, rng=7, final_particles=64)
    assert np.array_equal(a["log_lik"], b["log_lik"]) and a["log_lik"].shape == a["khat"].shape == (3,)
    assert len(a["rounds"]) == 1 and a["rounds"][0] >= 2      # three draws: fewer than the pilot's eight
