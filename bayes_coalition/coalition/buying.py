"""Vote buying near the threshold: a leadership short of the votes closes a small gap, no more.

The rule of the layer (``[model] vote_buying = true``), written once for the PyMC likelihood and the NumPy
predictions. Groseclose and Snyder (1996) show why vote buyers build just-winning coalitions: each vote
bought beyond the threshold is wasted money, so a coalition assembled by side payments ends at the line;
Snyder (1991) on leaders who bring a bill up only after the last votes are bought. The shipped record
agrees: of the 14 trade votes within 10 yeas of their threshold, all carried and five by exactly the yeas
they needed or one more (215-214, 216-215, 217-215, cloture at exactly 60), none fell 1-10 short.

- A leadership-controlled pro-trade vote (a final passage, cloture or rule vote; the scope of
  :func:`bayes_coalition.coalition.rules.floor_status`'s ``HELD``; disapproval resolutions are forced by
  statute and nobody buys votes for them) has a *natural* yea count ``y``, the count the model without
  the layer describes. When it is ``d = t - y >= 1`` short of the ``t`` yeas it needs, the leadership
  closes the gap with probability

      b(d) = prob * exp(-(d - 1) / (reach * n))      for 1 <= d <= max_shortfall(n), 0 beyond,

  buying exactly ``d`` votes (the count lands on ``t``): ``prob`` is the chance of closing a one-vote gap,
  ``reach`` (a share of the ``n`` voting) how fast that chance falls with the gap. Otherwise the vote fails
  with its natural count. Counts at or above ``t`` are untouched, so the layer moves mass from the band just
  below the threshold onto it, and nothing else.
- Likelihood of an observed total ``y_o`` relative to the natural count's ``f``: ``1`` above ``t``;
  ``1 + sum_d b(d) f(t - d) / f(t)`` at ``t``; ``1 - b(t - y_o)`` below. The party rows keep their
  likelihood, so the bought yeas are taken to split between the parties as the natural ones would (the
  data do not record who was bought). ``f`` is the normal approximation of the count that the predictions
  use (:func:`bayes_coalition.coalition.agenda.count_moments`), given the vote's own cut-point and tilt.
- Prediction: ``P(carries) = P(y >= t) + sum_d b(d) P(y = t - d)`` (the count's normal approximation with
  the predictions' continuity correction); a bought vote carries with no yea to spare, a minimum winning
  coalition. A veto override's two-thirds threshold is left to the natural count.
- Simulation: a replicate short by ``d`` is bought up to ``t`` with probability ``b(d)``; the ``d`` yeas are
  drawn from the vote's nays, row by row (:func:`buy_votes`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

PARAMETERS = ("buying_prob", "buying_reach")
MEANING = {
    "buying_prob": "probability that the leadership closes a one-vote shortfall",
    "buying_reach": "shortfall (share of those voting) over which that probability falls by a factor e",
}
# the largest gap the leadership may close, a share of those voting (House 108 of 430, Senate 25 of 100): at the
# prior's 97.5% reach (0.043) b(d) has fallen to e^-5.8 of b(1) there; b is 0 beyond, in every use
MAX_SHORTFALL_SHARE = 0.25


def max_shortfall(n) -> np.ndarray:
    """The largest shortfall (yeas) the layer closes for ``n`` voting."""
    return np.ceil(MAX_SHORTFALL_SHARE * np.asarray(n, dtype=float))


def close_probability(xp, short, n, prob, reach):
    """b(d): the probability that a vote ``short`` = d yeas short (d >= 1; 0 for d < 1 or d beyond
    :func:`max_shortfall`) is bought up to its threshold. ``short`` may be symbolic with PyTensor (the SBC's
    data); the gap is clipped to 1 before the exponential, so a count far above the line cannot overflow it."""
    dmax = max_shortfall(n)
    if xp is np:
        short = np.asarray(short, dtype=float)
        inside = (short >= 1) & (short <= dmax)
        return np.where(inside, prob * np.exp(-(np.maximum(short, 1.0) - 1.0) / (reach * n)), 0.0)
    inside = xp.and_(xp.ge(short, 1.0), xp.le(short, dmax))
    return xp.switch(inside, prob * xp.exp(-(xp.maximum(short, 1.0) - 1.0) / (reach * n)), 0.0)


def log_factor_at_threshold(xp, threshold, mean, var, n, prob, reach, shortfalls, mask):
    """log(1 + sum_d b(d) f(t - d) / f(t)) of votes observed exactly at their threshold, ``f`` the normal
    density of the natural count (mean, var): ``shortfalls`` (vote, d) the gaps 1..max_shortfall padded,
    ``mask`` 1 for a real gap and 0 for padding. Computed in log space (no underflow far in the tails)."""
    a = (threshold - mean)[:, None]
    log_ratio = (2.0 * shortfalls * a - shortfalls**2) / (2.0 * var[:, None])
    log_b = xp.log(prob) - (shortfalls - 1.0) / (reach * n[:, None])
    terms = log_b + log_ratio
    if xp is np:
        terms = np.where(mask > 0, terms, -np.inf)
        top = np.maximum(terms.max(axis=1), 0.0)
        return top + np.log(np.exp(-top) + np.exp(terms - top[:, None]).sum(axis=1))
    terms = xp.switch(mask > 0, terms, -np.inf)
    top = xp.maximum(xp.max(terms, axis=1), 0.0)
    return top + xp.log(xp.exp(-top) + xp.sum(xp.exp(terms - top[:, None]), axis=1))


def shortfall_grid(n) -> tuple[np.ndarray, np.ndarray]:
    """(d, mask): per vote the gaps 1..max_shortfall(n), padded to the longest with mask 0."""
    dmax = max_shortfall(n).astype(int)
    width = int(dmax.max()) if len(dmax) else 1
    d = np.broadcast_to(np.arange(1, width + 1, dtype=float), (len(dmax), width)).copy()
    return d, (d <= dmax[:, None]).astype(float)


def bought_probability(mean, var, threshold, n, prob, reach) -> np.ndarray:
    """P(the natural count falls short and is bought up to the threshold) per draw (NumPy, broadcasting over
    ``mean``/``var``/``prob``/``reach``): ``sum_d b(d) P(y = t - d)``, y normal with the predictions'
    continuity correction."""
    mean, sd = np.asarray(mean, dtype=float), np.sqrt(np.maximum(np.asarray(var, dtype=float), 1e-9))
    dmax = int(max_shortfall(n))
    d = np.arange(1, dmax + 1, dtype=float)
    shape = np.broadcast_shapes(mean.shape, np.shape(prob), np.shape(reach))
    mean, sd = np.broadcast_to(mean, shape)[..., None], np.broadcast_to(sd, shape)[..., None]
    prob, reach = np.broadcast_to(prob, shape)[..., None], np.broadcast_to(reach, shape)[..., None]
    y = threshold - d
    pmf = special.ndtr((y + 0.5 - mean) / sd) - special.ndtr((y - 0.5 - mean) / sd)
    return np.sum(close_probability(np, d, n, prob, reach) * pmf, axis=-1)


def buy_votes(rng, yea_rows: np.ndarray, n_rows: np.ndarray, threshold, prob, reach) -> np.ndarray:
    """Simulated counts after vote buying: ``yea_rows`` (sample, row) the natural yeas of one vote's rows
    (``n_rows`` members each), ``prob``/``reach`` (sample,) the layer's draws. A replicate ``d`` short of
    ``threshold`` is bought up to it with probability b(d); its ``d`` yeas are drawn from the rows' nays
    (multivariate hypergeometric, row by row). Returns a new array."""
    y = np.array(yea_rows, dtype=np.int64, copy=True)
    n_rows = np.asarray(n_rows, dtype=np.int64)
    total = int(n_rows.sum())
    short = threshold - y.sum(axis=1)
    b = close_probability(np, short, total, prob, reach)
    bought = rng.random(len(y)) < b
    if not bought.any():
        return y
    need = np.where(bought, short, 0).astype(np.int64)
    nays = n_rows[None, :] - y
    left = nays.sum(axis=1)
    for j in range(y.shape[1] - 1):
        rest = left - nays[:, j]
        take = np.zeros(len(y), dtype=np.int64)
        go = need > 0
        if go.any():
            take[go] = rng.hypergeometric(nays[go, j], rest[go], need[go])
        y[:, j] += take
        need -= take
        left = rest
    y[:, -1] += need
    return y


def prior_sd(priors: dict) -> dict:
    """Prior sd of the layer's parameters (for their posterior contraction): Beta(alpha, beta) and
    LogNormal(log median, log sd)."""
    a, b = priors["buying_prob_alpha"], priors["buying_prob_beta"]
    m, s = np.log(priors["buying_reach_median"]), priors["buying_reach_log_sd"]
    return {"buying_prob": float(np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))),
            "buying_reach": float(np.sqrt((np.exp(s**2) - 1.0) * np.exp(2 * m + s**2)))}
