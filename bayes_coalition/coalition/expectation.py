"""The pre-vote floor expectation: press reports before a vote as a measurement of its margin.

The rule of ``[model] floor_expectation = true``, written once for the PyMC likelihood and the NumPy
predictions (as :mod:`~bayes_coalition.coalition.vote_model` and :mod:`~bayes_coalition.coalition.agenda` are):

- ``data/floor_expectations.csv`` gives, per roll call, what sources published *strictly before the vote's
  day* expected of it (double-coded; ``data/CODING.md``): 0 expected to fail, 1 in doubt (close, still
  short, too close to call), 2 expected to carry. The whip counts of the press are a noisy measurement of
  the count the vote would get (as the 1997 whip estimate is, in votes, in the ``whip_count`` term).
- The measured quantity is the vote's expected margin as a share of those voting,
  ``m = (E[yea] - (threshold - 1/2)) / n`` (``E[yea] = sum n p`` over the vote's count rows, at the vote's own
  cut-point and tilt), in percentage points; the level follows an ordered logistic in
  ``eta = slope * 100 * m`` with two ordered cut-points (first cut + a log-normal gap, as the coded
  indicators). A positive slope says that the press expects what the count will be; its size says how
  precisely (slope 0.5: a 5-point margin is eta 2.5).
- In the likelihood the term moves a fitted vote's cut-point and tilt very little (its own counts pin them
  down); it is there to learn the slope and the cut-points. A *new* vote's code conditions the prediction:
  each posterior draw of the vote's case effects is weighted by ``P(code | m of that draw)``
  (self-normalised importance weights on the same draws: :func:`level_probability`).
- A code stands for what was known before the vote: a backtest or a leave-one-episode-out fit never sees the
  code of a vote it predicts (its weight ``expectation_weight`` is that of the vote's rows), and a prediction
  uses it only when the source is dated strictly before the forecast date (``validation.backtest.case_bill``).
"""

from __future__ import annotations

import numpy as np

LEVELS = (0, 1, 2)
LABELS = {0: "expected to fail", 1: "in doubt", 2: "expected to carry"}
PERCENT = 100.0


def margin(mean, threshold, n):
    """Expected margin of a vote in percentage points of those voting: ``100 (E[yea] - (t - 1/2)) / n``."""
    return PERCENT * (mean - (threshold - 0.5)) / n


def softplus(xp, x):
    """log(1 + exp(x)), stable for large |x|."""
    return np.logaddexp(0.0, x) if xp is np else xp.softplus(x)


def level_log_probabilities(xp, eta, cuts):
    """log P(level = 0, 1, 2) of an ordered logistic with linear predictor ``eta`` (...,) and cut-points ``cuts``
    (..., 2), stacked on a last axis of 3. Written without differences of probabilities, which lose everything
    in the tails (a vote 20 points clear of its line has P(expected to fail) near 1e-9):
    log P(0) = -softplus(eta - c1), log P(2) = -softplus(c2 - eta) and, with a = eta - c1, b = eta - c2,
    log P(1) = log sigma(a) + log sigma(-b) + log(1 - exp(b - a)) (sigma(a) - sigma(b) factored)."""
    a, b = eta - cuts[..., 0], eta - cuts[..., 1]
    log0 = -softplus(xp, a)
    log2 = -softplus(xp, -b)
    log1 = -softplus(xp, -a) - softplus(xp, b) + xp.log1p(-xp.exp(b - a))
    return xp.stack([log0, log1, log2], axis=-1)


def level_log_probability(xp, level, eta, cuts):
    """log P(observed level | eta) for integer ``level`` (broadcast with ``eta``; NumPy, or a PyTensor variable: the
    levels as data under SBC): the measurement's term in the graph."""
    if isinstance(level, (np.ndarray, list, tuple, int, np.integer)):
        onehot = np.eye(len(LEVELS))[np.asarray(level, dtype=int)]
    else:
        onehot = xp.eq(level[..., None], np.arange(len(LEVELS)))
    return xp.sum(level_log_probabilities(xp, eta, cuts) * onehot, axis=-1)


def level_probability(xp, level, eta, cuts):
    """P(observed level | eta): the importance weight of a posterior draw in prediction."""
    return xp.exp(level_log_probability(xp, level, eta, cuts))


def level_probabilities(xp, eta, cuts):
    """P(level = 0, 1, 2), stacked on a last axis of 3."""
    return xp.exp(level_log_probabilities(xp, eta, cuts))


def linear_predictor(slope, mean, threshold, n):
    """``eta = slope * margin``."""
    return slope * margin(mean, threshold, n)
