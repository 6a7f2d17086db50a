"""Likelihood pieces of the coalition model that are not a plain beta-binomial count, in PyTensor.

Each is checked against SciPy in ``tests/coalition/test_likelihood.py``:

- :func:`interval_logp`: a yea count known only to lie in ``[lower, upper]`` (a hard interval):
  ``log sum_{y=lower}^{upper} BetaBinomial(y | n, p, phi)``;
- :func:`sum_logp`: a count of two groups together (the chamber total of a vote without a party
  split) with known group sizes: the probability that ``Y_R + Y_D`` lies in ``[lower, upper]``
  (a point count: ``lower == upper``), each group beta-binomial, the split a latent quantity
  summed out (``sum_r P(Y_R = r) P(lower - r <= Y_D <= upper - r)``);
- :func:`whip_logp`: a press whip count as a noisy measurement of the yea count the motion would
  have got: ``log sum_y BetaBinomial(y | n, p, phi) Normal(m | y + bias, s)`` with ``m`` the middle
  of the reported range and ``s^2 = error^2 + width^2 / 12`` (the range read as a uniform spread
  around the count the whips had in mind).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt


def _bb_logp(n, p, phi, k):
    """log BetaBinomial(k | n, p * phi, (1 - p) * phi); broadcasts (k may hold values outside 0..n: -inf)."""
    return pm.logp(pm.BetaBinomial.dist(n=n, alpha=p * phi, beta=(1.0 - p) * phi), k)


def interval_logp(n, p, phi, lower, upper):
    """Per row, log P(lower <= Y <= upper) for Y ~ BetaBinomial(n, p, phi); ``lower``/``upper`` may
    be NumPy arrays or tensors (``pm.Data``); the grid is as wide as the widest interval."""
    width = int(np.max(np.asarray(upper) - np.asarray(lower))) + 1 if not hasattr(upper, "type") else None
    if width is None:
        raise TypeError("interval_logp needs the widths at build time: pass NumPy bounds or use interval_logp_data")
    return interval_logp_data(n, p, phi, lower, upper, width)


def interval_logp_data(n, p, phi, lower, upper, width: int):
    """:func:`interval_logp` with bounds that may be tensors and a known maximal ``width``."""
    grid = lower[:, None] + np.arange(width)[None, :]
    valid = grid <= upper[:, None]
    grid = pt.minimum(grid, upper[:, None])
    lp = _bb_logp(n[:, None], p[:, None], phi[:, None], grid)
    lp = pt.switch(valid, lp, -np.inf)
    return pm.logsumexp(lp, axis=1).flatten()


def sum_logp(n_r, n_d, p_r, p_d, phi_r, phi_d, lower, upper, width: int):
    """Per row, log P(lower <= Y_R + Y_D <= upper), Y_R ~ BB(n_r, p_r, phi_r), Y_D ~ BB(n_d, p_d, phi_d)
    independent; ``n_r``, ``n_d`` NumPy ints; ``width`` the largest ``upper - lower + 1``."""
    n_r = np.asarray(n_r)
    r = np.arange(int(n_r.max(initial=0)) + 1)                                   # (R,)
    lp_r = _bb_logp(n_r[:, None], p_r[:, None], phi_r[:, None], r[None, :])      # (row, R)
    lp_r = pt.switch(r[None, :] <= n_r[:, None], lp_r, -np.inf)
    total = lower[:, None, None] + np.arange(width)[None, None, :]               # (row, 1, W)
    d = total - r[None, :, None]                                                 # (row, R, W)
    ok = (d >= 0) & (d <= np.asarray(n_d)[:, None, None]) & (total <= upper[:, None, None])
    lp_d = _bb_logp(np.asarray(n_d)[:, None, None], p_d[:, None, None], phi_d[:, None, None],
                    pt.clip(d, 0, np.asarray(n_d)[:, None, None]))
    joint = pt.switch(ok, lp_r[:, :, None] + lp_d, -np.inf)
    return pm.logsumexp(joint.reshape((joint.shape[0], -1)), axis=1).flatten()


def whip_sd(error, lower, upper):
    """The measurement sd of a whip count's middle: ``sqrt(error^2 + width^2 / 12)``."""
    return (error**2 + (upper - lower) ** 2 / 12.0) ** 0.5


def whip_logp(n, p, phi, lower, upper, bias, error):
    """Per row, the log density of a whip count's reported range ``[lower, upper]`` (NumPy or
    tensors, may be fractional) given the yea probability: the count ``y`` the motion would have
    got is summed out over 0..n (``n`` NumPy ints)."""
    n = np.asarray(n)
    y = np.arange(int(n.max(initial=0)) + 1)                                     # (Y,)
    lp_y = _bb_logp(n[:, None], p[:, None], phi[:, None], y[None, :])
    lp_y = pt.switch(y[None, :] <= n[:, None], lp_y, -np.inf)
    middle = 0.5 * (lower + upper)
    sd = whip_sd(error, lower, upper)[:, None]
    lp_m = pm.logp(pm.Normal.dist(mu=y[None, :] + bias, sigma=sd), middle[:, None])
    return pm.logsumexp(lp_y + lp_m, axis=1).flatten()
