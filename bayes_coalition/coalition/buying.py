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
- Likelihood of a vote's observed party rows (its Republican and Democratic yeas ``r_R``, ``r_D``; independents
  are never bought): below the threshold the natural rows times ``1 - b(t - y)``; above it the natural rows;
  exactly at it the mixture ``P(r_R, r_D) + sum_{k + j = d >= 1} b(d) P(r_R - k, r_D - j) h(k, j)``, the natural
  rows before ``k`` Republican and ``j`` Democratic yeas were bought, ``h`` the (multivariate hypergeometric)
  probability that ``d`` yeas drawn from the natural nays split that way. ``P`` is the model's own
  beta-binomial pmf of each row, so the mixture is a proper probability (at most 1) whatever the vote's
  cut-point: a first version took the ratio from the count's normal approximation, and its fits ran away to
  cut-points that put a vote's natural count at 0 (the normal ratio f(t - d) / f(t) grows without bound where
  the beta-binomial rows' likelihood does not fall as fast; leave-one-episode-out fits reached R-hat 3.07).
  The likelihood's party rows keep their term; the layer adds the log of the mixture over the natural rows.
- Prediction: ``P(carries) = P(y >= t) + sum_d b(d) P(y = t - d)`` (the count's normal approximation with
  the predictions' continuity correction); a bought vote carries with no yea to spare, a minimum winning
  coalition. A veto override's two-thirds threshold is left to the natural count.
- Simulation: a replicate short by ``d`` is bought up to ``t`` with probability ``b(d)``; the ``d`` yeas are
  drawn from the nays of the vote's party rows (multivariate hypergeometric, :func:`buy_votes`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

PARAMETERS = ("buying_prob", "buying_reach")
MEANING = {
    "buying_prob": "probability that the leadership closes a one-vote shortfall",
    "buying_reach": "shortfall (share of those voting) over which that probability falls by a factor e",
}
# the largest gap the leadership may close, a share of those voting (House 43 of 430, Senate 10 of 100): "near the
# threshold", the issue's margin of 10 yeas four times over in the House. A first version allowed a quarter of the
# chamber (108 House votes): the reach's posterior then ran to its prior's upper tail and the at-threshold
# mixture cost six times the compute (a (K + 1)^2 grid per vote). At the prior's median reach (0.01) b(d) has
# fallen to e^-9.8 of b(1) at the largest gap, at its 97.5% (0.043) only to e^-2.3: the cap binds for a long reach.
# b is 0 beyond it, in every use (likelihood, predictions, simulations)
MAX_SHORTFALL_SHARE = 0.10
# the voter groups whose members can be bought: the parties (and a row of both, in predictions of a bill without
# its split); independents never (the likelihood needs each controlled vote's R and D rows: graph.party_rows_of)
BUYABLE_GROUPS = ("R", "D", "RD")


def buyable(group_idx) -> np.ndarray:
    """Which rows (indices into ``constants.GROUPS``) hold members the layer can buy."""
    from bayes_coalition.constants import GROUPS

    return np.isin(np.asarray(group_idx), [GROUPS.index(g) for g in BUYABLE_GROUPS])


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


def split_grid(r_r, n_r, r_d, n_d, n_total) -> dict:
    """Constants of the at-threshold mixture of votes observed with ``r_r`` of ``n_r`` Republican and ``r_d`` of
    ``n_d`` Democratic yeas (arrays over votes; ``n_total`` those voting): ``k``/``j`` the yeas bought from each
    party (0..K, K the largest :func:`max_shortfall`), ``d = k + j``, ``valid`` (vote, k, j) where 1 <= d <=
    max_shortfall and the natural rows ``r - k``, ``r - j`` are counts, and ``log_h`` the log probability that
    ``d`` yeas drawn from the natural nays (``n_r - r_r + k`` and ``n_d - r_d + j``) split as (k, j)."""
    r_r, n_r, r_d, n_d = (np.asarray(v, dtype=float) for v in (r_r, n_r, r_d, n_d))
    dmax = max_shortfall(n_total)
    K = int(dmax.max()) if dmax.size else 0
    k = np.arange(K + 1, dtype=float)
    kk, jj = k[None, :, None], k[None, None, :]
    d = kk + jj
    nay_r = n_r[:, None, None] - r_r[:, None, None] + kk
    nay_d = n_d[:, None, None] - r_d[:, None, None] + jj
    valid = (d >= 1) & (d <= dmax[:, None, None]) & (kk <= r_r[:, None, None]) & (jj <= r_d[:, None, None])

    def log_choose(a, b):
        return special.gammaln(a + 1.0) - special.gammaln(b + 1.0) - special.gammaln(np.maximum(a - b, 0.0) + 1.0)

    log_h = np.where(valid, log_choose(nay_r, kk) + log_choose(nay_d, jj) - log_choose(nay_r + nay_d, d), 0.0)
    return {"k": k, "d": np.broadcast_to(d, valid.shape).copy(), "valid": valid, "log_h": log_h,
            "n_total": np.asarray(n_total, dtype=float)}


def log_factor_at_threshold(xp, lp_r, lp_d, grid: dict, prob, reach):
    """Per vote observed exactly at its threshold, log of the mixture over its natural rows relative to the
    observed rows: ``log(1 + sum_{valid (k, j)} b(k + j) h(k, j) P_R(r_R - k) P_D(r_D - j) / (P_R(r_R) P_D(r_D)))``.
    ``lp_r``/``lp_d`` (vote, K + 1): the rows' log pmf at ``r - k`` for k = 0..K (column 0: the observed rows;
    entries outside a count may be anything finite, they are masked by ``grid['valid']``). NumPy or PyTensor."""
    n = grid["n_total"][:, None, None]
    log_b = xp.log(prob) - (grid["d"] - 1.0) / (reach * n)
    terms = (lp_r - lp_r[:, 0][:, None])[:, :, None] + (lp_d - lp_d[:, 0][:, None])[:, None, :] + log_b + grid["log_h"]
    if xp is np:
        terms = np.where(grid["valid"], terms, -np.inf).reshape(len(terms), -1)
        top = np.maximum(terms.max(axis=1), 0.0)
        return top + np.log(np.exp(-top) + np.exp(terms - top[:, None]).sum(axis=1))
    terms = xp.switch(xp.gt(grid["valid"], 0.5), terms, -np.inf).reshape((terms.shape[0], -1))   # valid may be data
    top = xp.maximum(xp.max(terms, axis=1), 0.0)
    return top + xp.log(xp.exp(-top) + xp.sum(xp.exp(terms - top[:, None]), axis=1))


def shifted_counts(r, n_rows, k) -> np.ndarray:
    """``r - k`` (vote, K + 1) clipped into 0..n (the masked entries stay valid counts for the pmf)."""
    return np.clip(np.asarray(r, dtype=float)[:, None] - k[None, :], 0.0, np.asarray(n_rows, dtype=float)[:, None])


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


def buy_votes(rng, yea_rows: np.ndarray, n_rows: np.ndarray, threshold, prob, reach, buyable=None) -> np.ndarray:
    """Simulated counts after vote buying: ``yea_rows`` (sample, row) the natural yeas of one vote's rows
    (``n_rows`` members each), ``prob``/``reach`` (sample,) the layer's draws, ``buyable`` the rows whose members
    can be bought (the party rows; default all). A replicate ``d`` short of ``threshold`` is bought up to it with
    probability b(d) when the buyable rows have ``d`` nays; the yeas are drawn from those nays (multivariate
    hypergeometric, row by row). Returns a new array."""
    y = np.array(yea_rows, dtype=np.int64, copy=True)
    n_rows = np.asarray(n_rows, dtype=np.int64)
    cols = np.flatnonzero(np.ones(y.shape[1], dtype=bool) if buyable is None else np.asarray(buyable, dtype=bool))
    total = int(n_rows.sum())
    short = threshold - y.sum(axis=1)
    nays = n_rows[None, cols] - y[:, cols]
    left = nays.sum(axis=1)
    b = close_probability(np, short, total, prob, reach)
    bought = (rng.random(len(y)) < b) & (short <= left)
    if not bought.any() or not len(cols):
        return y
    need = np.where(bought, short, 0).astype(np.int64)
    for i, col in enumerate(cols[:-1]):
        rest = left - nays[:, i]
        take = np.zeros(len(y), dtype=np.int64)
        go = need > 0
        if go.any():
            take[go] = rng.hypergeometric(nays[go, i], rest[go], need[go])
        y[:, col] += take
        need -= take
        left = rest
    y[:, cols[-1]] += need
    return y


def prior_sd(priors: dict) -> dict:
    """Prior sd of the layer's parameters (for their posterior contraction): Beta(alpha, beta) and
    LogNormal(log median, log sd)."""
    a, b = priors["buying_prob_alpha"], priors["buying_prob_beta"]
    m, s = np.log(priors["buying_reach_median"]), priors["buying_reach_log_sd"]
    return {"buying_prob": float(np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))),
            "buying_reach": float(np.sqrt((np.exp(s**2) - 1.0) * np.exp(2 * m + s**2)))}
