"""Agenda control: a measure reaches the floor only when the leadership's count clears a bar.

The rule of the layer (``[model] agenda_control = true``), written once for the PyMC likelihood and
the NumPy predictions (Cox and McCubbins 2005 on the majority party's negative agenda power; Snyder
1991 on bills pulled when the votes are not there):

- Before a leadership-controlled vote (a pro-trade final passage, cloture or rule vote; see
  :func:`bayes_coalition.coalition.rules.floor_status`) the leadership knows the yea count ``y`` it
  would get, up to its whips' error, and brings the measure to the floor with probability

      pi(y) = leak + (1 - leak) * Phi((y - a) / (scale * n)),    a = threshold - 1/2 + bar * n,

  with ``n`` the number voting, ``bar`` the cushion it demands and ``scale`` its counting error (both
  as shares of those voting), and ``leak`` the probability that a vote is held whatever the count
  (position-taking votes such as the House's fast-track vote of 1998, or a package that a coalition
  turned against on the floor, TAA 2015).
- A held vote enters the likelihood *conditional on being held*: ``log pi(y_obs) - log Z`` with
  ``Z = E[pi(y)]`` under the vote's predictive count distribution (we do not know how many measures
  were considered and never brought up, so the held votes are a selected sample, not a census).  A
  withdrawn measure (a whip count without a roll call: fast-track 1997) enters as the event
  ``log(1 - Z)``.  Votes the leadership does not control (disapproval resolutions forced by
  statute) are exempt.
- ``Z`` uses the normal approximation of the count that the predictions use
  (:meth:`bayes_coalition.prediction.predictor.BillPredictor.probability_per_draw`): mean
  ``sum n p`` and variance ``sum n p (1 - p) (n + phi) / (1 + phi)`` over the vote's count rows; the
  vote's own shocks (its cut-point and party-tilt deviations) are integrated by Gauss-Hermite
  quadrature in the likelihood and by the posterior draws in prediction, so ``Z`` means the same in
  both.
- Prediction: P(pass | held) = E[P(pass and held | draw)] / E[Z]: a ratio of means over draws (a
  draw under which the vote would not be held counts for little), with
  ``P(pass and held | draw)`` a bivariate normal orthant probability (:func:`pass_and_floor`).

Why the leak has a floor (``agenda_leak = floor + (1 - floor) * Beta(alpha, beta)``, ``priors.agenda_leak_floor``,
default 0.001; found by the default spec's SBC, 2026-12-01). ``Z`` is the normal approximation of
``E[pi(y)]``, whose tail is far lighter than the count model's own (beta-binomial) tail when a vote's
predicted yea probabilities go to 0 or 1. With the leak free down to 0 a held vote's term
``log pi(y_obs) - log Z`` then grows without bound (up to ``-log leak`` when ``Z`` underflows to the leak),
faster than the counts' likelihood falls: the posterior is improper. Two of the first 18 SBC simulations
(11 and 14) each had a chain that ran into that region and stuck there with every transition divergent
(simulation 14's stuck chain: ``agenda_leak`` about exp(-706), step size 7e-5, log density +24,790 against
-866 on the other chain, of which the held votes' term +30,307 against +0.8). With the floor each held vote's
term is at most ``-log floor`` (6.9 nats at 0.001), so the density is bounded. The floor is the
probability that a measure is brought up whatever its count, at least one in a thousand; the Beta(1, 9)
leak had 1% of its prior mass below 0.0011, so the prior barely moves. Predictions read ``agenda_leak``
(the floored value) from the posterior, as before.
"""

from __future__ import annotations

import numpy as np
from scipy import special

# Gauss-Hermite nodes for the likelihood's Z over the vote's (cut-point, party-tilt) deviations. Z is a
# probit of the count, steep in the deviations, so the product rule needs several nodes per deviation; the
# tilt's spread is the larger in the posterior (about 0.7 against 0.3). Measured at three posterior draws of
# a fit on the shipped data, largest error of Z against 40 x 24 nodes (and summed |error of log Z| over the
# 45 votes): 7 x 3 nodes 0.012-0.042 (0.33-0.91), 13 x 5 0.004-0.015 (0.07-0.24), 7 x 7 0.003-0.006
# (0.05-0.14), 9 x 7 0.002-0.006 (0.03-0.10). Moment matching (a normal with the count's mean and variance
# over the deviations) was 0.040 off whatever the nodes. Each node costs about 0.035 ms of the gradient
# (0.4-0.7 ms without the layer, 2.5-3 ms with 49-65 nodes).
QUADRATURE_NODES = (7, 7)


def normal_cdf(xp, x):
    """Phi(x) for NumPy (``scipy.special.ndtr``) or PyTensor (``erfc``) operands."""
    if xp is np:
        return special.ndtr(x)
    return 0.5 * xp.erfc(-x / np.sqrt(2.0))


def count_moments(xp, n, p, phi):
    """Mean and variance of a sum of beta-binomial counts over the last axis (rows of one vote)."""
    mean = xp.sum(n * p, axis=-1)
    var = xp.sum(n * p * (1.0 - p) * (n + phi) / (1.0 + phi), axis=-1)
    return mean, var


def bar_votes(threshold, n, bar):
    """``a``: the count the leadership's (error-free) tally must reach, in votes."""
    return threshold - 0.5 + bar * n


def floor_given_count(xp, y, threshold, n, bar, scale, leak):
    """pi(y): the probability that a measure whose count is ``y`` is brought to the floor."""
    return leak + (1.0 - leak) * normal_cdf(xp, (y - bar_votes(threshold, n, bar)) / (scale * n))


def floor_probability(xp, mean, var, threshold, n, bar, scale, leak):
    """Z = E[pi(y)] with y ~ Normal(mean, var) (the normal approximation of the count)."""
    sd = xp.sqrt(var + (scale * n) ** 2)
    return leak + (1.0 - leak) * normal_cdf(xp, (mean - bar_votes(threshold, n, bar)) / sd)


def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of E[f(z)], z ~ N(0, 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return x, w / w.sum()


def product_nodes(n_nodes=QUADRATURE_NODES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cut-point nodes, tilt nodes, weights) of the product rule for E[f(z1, z2)], z1, z2 ~ N(0, 1) independent."""
    x1, w1 = gauss_hermite(n_nodes[0])
    x2, w2 = gauss_hermite(n_nodes[1])
    a, b = np.meshgrid(x1, x2, indexing="ij")
    return a.ravel(), b.ravel(), np.outer(w1, w2).ravel()


def bivariate_upper(h, k, rho):
    """P(X >= h, Y >= k) for standard normals with correlation ``rho`` (0 <= rho < 1), vectorised, by
    Owen's T function (Owen 1956, eq. 2.1)."""
    h, k, rho = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (h, k, rho)))
    # P(X >= h, Y >= k) = Phi2(-h, -k; rho)
    a, b = -h, -k
    a = np.where(a == 0.0, 1e-12, a)
    b = np.where(b == 0.0, 1e-12, b)
    r = np.sqrt(np.maximum(1.0 - rho**2, 1e-300))
    t1 = special.owens_t(a, (b - rho * a) / (a * r))
    t2 = special.owens_t(b, (a - rho * b) / (b * r))
    beta = np.where(a * b > 0, 0.0, 0.5)
    return np.clip(0.5 * special.ndtr(a) + 0.5 * special.ndtr(b) - t1 - t2 - beta, 0.0, 1.0)


def pass_and_floor(mean, var, pass_threshold, floor_threshold, n, bar, scale, leak):
    """(P(pass and held), Z) per draw, y ~ Normal(mean, var): pass when y >= pass_threshold - 1/2 (the
    continuity correction of the predictions), held with probability pi(y) at the floor rule's
    ``floor_threshold`` (the two differ for a whip count: a majority of members against those voting)."""
    mean, var = np.asarray(mean, dtype=float), np.maximum(np.asarray(var, dtype=float), 1e-9)
    sn = scale * n
    sd_held = np.sqrt(var + sn**2)
    h = (pass_threshold - 0.5 - mean) / np.sqrt(var)
    k = (bar_votes(floor_threshold, n, bar) - mean) / sd_held
    rho = np.sqrt(var) / sd_held
    p_pass = special.ndtr(-h)
    both = leak * p_pass + (1.0 - leak) * bivariate_upper(h, k, rho)
    z = leak + (1.0 - leak) * special.ndtr(-k)
    return both, z


PARAMETERS = ("agenda_bar", "agenda_scale", "agenda_leak")
MEANING = {
    "agenda_bar": "cushion over the threshold the leadership demands (share of those voting)",
    "agenda_scale": "the whips' counting error (share of those voting)",
    "agenda_leak": "probability that a vote is held whatever its count",
}


def leak_floor(priors: dict) -> float:
    """The leak's floor (module docstring, "Why the leak has a floor"). Required: a merged spec always has it, and a
    run saved before the key existed gets 0 from :func:`bayes_coalition.coalition.spec.saved_spec`, the one place
    that rule lives."""
    return float(priors["agenda_leak_floor"])


def leak_variable(priors: dict):
    """The leak in a PyMC model: ``agenda_leak_excess ~ Beta(alpha, beta)`` and the deterministic
    ``agenda_leak = floor + (1 - floor) * agenda_leak_excess`` that the likelihood and the predictions read."""
    import pymc as pm

    floor = leak_floor(priors)
    excess = pm.Beta("agenda_leak_excess", priors["agenda_leak_alpha"], priors["agenda_leak_beta"])
    return pm.Deterministic("agenda_leak", floor + (1.0 - floor) * excess)


def draw_leak(priors: dict, rng, size=None) -> np.ndarray:
    """Prior draws of ``agenda_leak`` (NumPy; the same law as :func:`leak_variable`)."""
    floor = leak_floor(priors)
    return floor + (1.0 - floor) * rng.beta(priors["agenda_leak_alpha"], priors["agenda_leak_beta"], size)


def prior_sd(priors: dict) -> dict:
    """Prior sd of the layer's parameters (for their posterior contraction): Normal(0, agenda_bar_sd),
    LogNormal(log median, log sd), floor + (1 - floor) Beta(alpha, beta)."""
    m, s = np.log(priors["agenda_scale_median"]), priors["agenda_scale_log_sd"]
    a, b = priors["agenda_leak_alpha"], priors["agenda_leak_beta"]
    return {"agenda_bar": float(priors["agenda_bar_sd"]),
            "agenda_scale": float(np.sqrt((np.exp(s**2) - 1.0) * np.exp(2 * m + s**2))),
            "agenda_leak": float((1.0 - leak_floor(priors)) * np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0))))}


def ratio_mean(num, den, axis=-1):
    """E[num] / E[den] over ``axis`` (P(pass | held) from per-draw joint and floor probabilities)."""
    return np.mean(num, axis=axis) / np.maximum(np.mean(den, axis=axis), 1e-300)
