"""Simulation-based calibration statistics (Talts et al. 2018): pure functions of ranks.

- :func:`rank_statistic`: the rank of a true value among posterior draws (ties split at random);
- :func:`thin`: evenly spaced draws (ranks of autocorrelated draws are not uniform);
- :func:`uniformity_pvalue`, :func:`summarise_sbc`: chi-square per scalar on ``bins`` bins
  that hold equally many rank values; per group the Bonferroni-adjusted minimum over its
  scalars, valid however the scalars depend;
- :func:`ecdf_band`: the simultaneous band of the ECDF-difference plot.

The runners that fit models and produce ranks are in :mod:`bayes_coalition.validation.sbc`.
"""

from __future__ import annotations

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


def summarise_sbc(ranks: pd.DataFrame, *, bins: int = 10, level: float = 0.01) -> dict:
    """Per scalar: chi-square p-value; per group: Bonferroni p (min over scalars x their number);
    verdict 'pass' when every group's p >= ``level``."""
    ranks = ranks.copy()
    ranks["group"] = ranks["parameter"].str.split("[", regex=False).str[0]
    groups, scalars = {}, {}
    for name, g in ranks.groupby("parameter", sort=False):
        scalars[name] = uniformity_pvalue(g["rank"].to_numpy(), int(g["n_draws"].iloc[0]), bins)
    for group, g in ranks.groupby("group", sort=False):
        ps = np.array([scalars[p] for p in g["parameter"].unique()])
        worst = g["parameter"].unique()[int(np.argmin(ps))]
        groups[group] = {
            "p_value": float(min(1.0, ps.min() * len(ps))), "n_scalars": int(len(ps)), "min_scalar_p": float(ps.min()),
            "worst_scalar": str(worst), "n_simulations": int(g["simulation"].nunique()),
        }
    verdict = "pass" if groups and all(v["p_value"] >= level for v in groups.values()) else "fail"
    return {"verdict": verdict, "level": level, "bins": bins, "test": "chi-square per scalar, Bonferroni within group",
            "n_simulations": int(ranks["simulation"].nunique()) if len(ranks) else 0, "groups": groups,
            "scalars": scalars}


def ecdf_band(n_sims: int, n_draws: int, *, prob: float = 0.99, grid: int = 100, n_rep: int = 2000, seed: int = 0):
    """Simultaneous ``prob`` band (Kolmogorov-Smirnov type, simulated for discrete ranks) of
    ECDF(fractional rank) - uniform for ``n_sims`` uniform ranks: (grid points, half-width)."""
    rng = np.random.default_rng(seed)
    z = np.linspace(0, 1, grid + 1)[1:-1]
    sims = rng.integers(0, n_draws + 1, size=(n_rep, n_sims)) / (n_draws + 1)
    sup = np.max(np.abs((sims[:, :, None] <= z[None, None, :]).mean(axis=1) - z[None, :]), axis=1)
    return z, np.full_like(z, np.quantile(sup, prob))


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
