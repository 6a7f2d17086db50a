"""Simulation-based calibration statistics (Talts et al. 2018): pure functions of ranks.

- :func:`rank_statistic`: the rank of a true value among posterior draws (ties split at random);
- :func:`thin`: evenly spaced draws (ranks of autocorrelated draws are not uniform);
- :func:`uniformity_pvalue`, :func:`summarise_sbc`: chi-square per scalar on ``bins`` bins
  that hold equally many rank values; per group the Bonferroni-adjusted minimum over its
  scalars, valid however the scalars depend;
- :func:`ecdf_statistic`, :func:`ecdf_pvalue`: the ECDF-difference test per scalar (the largest distance of the
  ECDF of fractional ranks ``(r + 1) / (n + 1)`` from the uniform, Saeilynoja et al. 2022, its null simulated for discrete ranks), which
  :func:`summarise_sbc` also gives per group (Bonferroni); it sees a shift or a too wide or narrow posterior (an
  S-shaped or a sloped ECDF) where the chi-square on bins is weak, and a lone crowded bin less;
- :func:`ecdf_band`: the simultaneous band of the ECDF-difference plot (the same null as :func:`ecdf_pvalue`).

The runners that fit models and produce ranks are in :mod:`bayes_coalition.validation.sbc`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats


def rank_statistic(true_value: float, draws: np.ndarray, rng: np.random.Generator | None = None) -> int:
    """Number of draws below the true value (0..len(draws)); ties are split at random when
    ``rng`` is given, else counted as not below."""
    draws = np.asarray(draws)
    below = int(np.sum(draws < true_value))
    if rng is None:
        return below
    ties = int(np.sum(draws == true_value))
    return below + (int(rng.integers(0, ties + 1)) if ties else 0)


def uniformity_pvalue(ranks, n_draws: int, bins: int = 10) -> float:
    """Chi-square p-value of ranks in 0..n_draws against the discrete uniform; bin b holds the
    rank values r with floor(r * bins / (n_draws + 1)) == b, and its expected count is exact."""
    ranks = np.asarray(ranks, dtype=int)
    if ranks.size == 0:
        return float("nan")
    if ranks.min() < 0 or ranks.max() > n_draws:
        raise ValueError(f"ranks must lie in 0..{n_draws}")
    bins = min(bins, n_draws + 1)
    which = (ranks * bins) // (n_draws + 1)
    counts = np.bincount(which, minlength=bins)
    per_bin = np.bincount((np.arange(n_draws + 1) * bins) // (n_draws + 1), minlength=bins)
    expected = ranks.size * per_bin / (n_draws + 1)
    return float(stats.chisquare(counts, expected).pvalue)


def distinct_scalars(ranks: pd.DataFrame) -> list[str]:
    """The scalars of ``ranks`` (columns of :data:`~bayes_coalition.validation.sbc.RANK_COLUMNS`) less those whose ranks
    repeat an earlier scalar's, or reflect them (``n_draws - r``), in every simulation: the two shares of a
    two-faction party (s and 1 - s), two offsets that sum to zero. Such a scalar is the same quantity seen from the
    other side; the chi-square and ECDF tests give it the same p-value, so a Bonferroni factor counts it once."""
    kept, seen = [], []
    for name, g in ranks.groupby("parameter", sort=False):
        g = g.sort_values("simulation")
        key = (tuple(g["simulation"]), int(g["n_draws"].iloc[0]))
        r = g["rank"].to_numpy()
        if any(k == key and (np.array_equal(r, x) or np.array_equal(key[1] - r, x)) for k, x in seen):
            continue
        kept.append(name)
        seen.append((key, r))
    return kept


def summarise_sbc(ranks: pd.DataFrame, *, bins: int = 10, level: float = 0.01) -> dict:
    """Per scalar: chi-square p-value on ``bins`` bins and ECDF-difference p-value (:func:`ecdf_pvalue`); per group
    and test: Bonferroni p (min over scalars x the number of distinct ones, :func:`distinct_scalars`; ``n_distinct``
    beside ``n_scalars``), ``p_value`` and ``ecdf_p_value``. ``verdict`` is the chi-square's ('pass' when every
    group's p >= ``level``), ``ecdf_verdict`` the ECDF test's on the same rule.

    Until 2026-12-03 the factor was the number of scalars, which counted the two shares of each two-faction party and
    the House and Senate offsets (reflections of each other) twice: a valid but looser bound, twice the p-value that
    the distinct quantities give."""
    ranks = ranks.copy()
    ranks["group"] = ranks["parameter"].str.split("[", regex=False).str[0]
    groups, scalars, ecdf = {}, {}, {}
    for name, g in ranks.groupby("parameter", sort=False):
        n_draws = int(g["n_draws"].iloc[0])
        scalars[name] = uniformity_pvalue(g["rank"].to_numpy(), n_draws, bins)
        ecdf[name] = ecdf_pvalue(g["rank"].to_numpy(), n_draws)
    for group, g in ranks.groupby("group", sort=False):
        names = g["parameter"].unique()
        m = len(distinct_scalars(g))
        ps = np.array([scalars[p] for p in names])
        es = np.array([ecdf[p] for p in names])
        groups[group] = {
            "p_value": float(min(1.0, ps.min() * m)), "n_scalars": int(len(ps)), "n_distinct": int(m),
            "min_scalar_p": float(ps.min()),
            "worst_scalar": str(names[int(np.argmin(ps))]), "n_simulations": int(g["simulation"].nunique()),
            "ecdf_p_value": float(min(1.0, es.min() * m)), "ecdf_min_scalar_p": float(es.min()),
            "ecdf_worst_scalar": str(names[int(np.argmin(es))]),
        }
    passes = lambda key: "pass" if groups and all(v[key] >= level for v in groups.values()) else "fail"
    return {"verdict": passes("p_value"), "ecdf_verdict": passes("ecdf_p_value"), "level": level, "bins": bins,
            "test": "chi-square per scalar, Bonferroni within group over its distinct scalars",
            "ecdf_test": f"ECDF difference per scalar (sup over {ECDF_GRID - 1} grid points, null simulated "
                         f"{ECDF_REPLICATES} times), Bonferroni within group over its distinct scalars",
            "n_simulations": int(ranks["simulation"].nunique()) if len(ranks) else 0, "groups": groups,
            "scalars": scalars, "ecdf_scalars": ecdf}


# the ECDF-difference test: its grid (the plot's: fractional ranks j / ECDF_GRID, j = 1..ECDF_GRID - 1) and the size of
# its simulated null, large enough for a Bonferroni p of 1% over the 83 scalars of the largest group (scalar p 1.2e-4)
ECDF_GRID = 100
ECDF_REPLICATES = 100_000


def _grid_ranks(n_draws: int, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid points ``z_j = j / grid`` (j = 1..grid-1) and the largest rank r whose fractional rank
    ``(r + 1) / (n_draws + 1)`` is at most ``z_j``, in integers (no rounding at a tie); -1 where none is.

    Fractional ranks ``(r + 1) / (n_draws + 1)`` make the discrete uniform's CDF equal ``z_j`` wherever ``grid``
    divides ``n_draws + 1`` (the SBC's 0..99 ranks on the default grid): every rank once is at distance 0, and the
    statistic of reflected ranks ``n_draws - r`` equals that of ``r``. Until 2026-12-03 the fractional rank was
    ``r / (n_draws + 1)``, against which the discrete uniform's CDF lies ``1 / (n_draws + 1)`` above ``z_j``: the
    p-values stayed exact (the null was simulated through the same statistic), but a set of uniform ranks sat off
    zero in the plot and a scalar and its reflection (the two shares of a two-faction party) got different p-values
    (0.0026 and 0.0089 at the SBC's 78th simulation)."""
    j = np.arange(1, grid)
    return j / grid, (j * (n_draws + 1)) // grid - 1


def ecdf_difference(ranks, n_draws: int, grid: int = ECDF_GRID) -> tuple[np.ndarray, np.ndarray]:
    """The grid points ``z_j`` and ``ECDF((r + 1) / (n_draws + 1)) at z_j - z_j`` for ranks in 0..n_draws (the grid of
    :func:`_grid_ranks`): the line of the report's ECDF plot, whose largest absolute value is :func:`ecdf_statistic`."""
    ranks = np.asarray(ranks, dtype=int)
    if ranks.min() < 0 or ranks.max() > n_draws:
        raise ValueError(f"ranks must lie in 0..{n_draws}")
    z, top = _grid_ranks(n_draws, grid)
    cdf = np.r_[0, np.cumsum(np.bincount(ranks, minlength=n_draws + 1))][top + 1] / ranks.size
    return z, cdf - z


def ecdf_statistic(ranks, n_draws: int, grid: int = ECDF_GRID) -> float:
    """``max_j |ECDF((r + 1) / (n_draws + 1)) at z_j - z_j|`` of ranks in 0..n_draws (:func:`ecdf_difference`)."""
    if np.size(ranks) == 0:
        return float("nan")
    return float(np.max(np.abs(ecdf_difference(ranks, n_draws, grid)[1])))


@lru_cache(maxsize=16)
def _ecdf_null(n_sims: int, n_draws: int, grid: int, n_rep: int, seed: int) -> np.ndarray:
    """:func:`ecdf_statistic` of ``n_rep`` sets of ``n_sims`` ranks uniform on 0..n_draws, sorted (each set's rank
    counts one multinomial draw)."""
    rng = np.random.default_rng(seed)
    z, top = _grid_ranks(n_draws, grid)
    out = []
    for size in np.diff(np.r_[0:n_rep:20_000, n_rep]):
        counts = rng.multinomial(n_sims, np.full(n_draws + 1, 1.0 / (n_draws + 1)), size=int(size))
        cum = np.concatenate([np.zeros((len(counts), 1), dtype=counts.dtype), np.cumsum(counts, axis=1)], axis=1)
        out.append(np.max(np.abs(cum[:, top + 1] / n_sims - z), axis=1))
    return np.sort(np.concatenate(out))


def ecdf_pvalue(ranks, n_draws: int, *, grid: int = ECDF_GRID, n_rep: int = ECDF_REPLICATES, seed: int = 0) -> float:
    """P(statistic >= observed) under uniform ranks, ``(1 + count) / (1 + n_rep)`` over the simulated null (one per
    number of simulations, draws and grid, cached): the ECDF-difference test of one scalar's ranks."""
    stat = ecdf_statistic(ranks, n_draws, grid)
    if np.isnan(stat):
        return float("nan")
    null = _ecdf_null(int(np.size(ranks)), int(n_draws), int(grid), int(n_rep), int(seed))
    above = null.size - np.searchsorted(null, stat - 1e-12, side="left")
    return float((1 + above) / (1 + null.size))


def ecdf_band(n_sims: int, n_draws: int, *, prob: float = 0.99, grid: int = ECDF_GRID, n_rep: int = 2000, seed: int = 0):
    """Simultaneous ``prob`` band (Kolmogorov-Smirnov type, simulated for discrete ranks) of
    ECDF(fractional rank) - uniform for ``n_sims`` uniform ranks: (grid points, half-width); the null of
    :func:`ecdf_pvalue` (fewer replicates), so a scalar leaves the band about when its p-value is below ``1 - prob``."""
    z, _ = _grid_ranks(n_draws, grid)
    return z, np.full_like(z, np.quantile(_ecdf_null(n_sims, n_draws, grid, n_rep, seed), prob))


def ess_thinned_rank(true_value: float, draws: np.ndarray, n_keep: int, rng: np.random.Generator) -> tuple[int, int]:
    """The rank of ``true_value`` among ``draws`` (shaped (chain, draw)) thinned to their bulk effective
    sample size (at most ``n_keep``; autocorrelated draws give ranks that are not uniform even for a
    correct sampler), put on the common scale 0..``n_keep`` so simulations whose fits had different
    ESS can be pooled: with ``r`` uniform on 0..n, ``(r + U) / (n + 1)`` is uniform on (0, 1) for
    ``U ~ Uniform(0, 1)``, and ``floor(that * (n_keep + 1))`` is uniform on 0..n_keep.
    Returns (rank on the common scale, number of draws kept)."""
    from bayes_coalition import _arviz

    draws = np.asarray(draws, dtype=float)
    ess = _arviz.ess_array(draws) if draws.shape[1] >= 4 else float(draws.size)
    n = int(max(1, min(n_keep, np.floor(ess) if np.isfinite(ess) else draws.size)))
    kept = thin(draws.ravel(), n)
    r = rank_statistic(true_value, kept, rng)
    u = (r + rng.random()) / (len(kept) + 1)
    return min(int(u * (n_keep + 1)), n_keep), len(kept)


def thin(values: np.ndarray, n_keep: int) -> np.ndarray:
    """``n_keep`` evenly spaced draws (autocorrelation would make ranks of every draw non-uniform)."""
    idx = np.unique(np.linspace(0, len(values) - 1, n_keep).round().astype(int))
    return values[idx]
