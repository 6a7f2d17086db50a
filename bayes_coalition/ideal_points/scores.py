"""Holdout split, posterior predictive cell probabilities and their scores.

``holdout_fraction`` hides a seeded share of the observed cells before fitting;
:func:`score_cells` scores predictions on any set of cells (accuracy, Brier, log score, GMP,
APRE against each roll call's majority side in the training cells).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import expit, ndtr


def split_holdout(votes: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hide a seeded random ``fraction`` of the observed cells: returns (training matrix with the
    hidden cells set to NaN, boolean mask of the hidden cells)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    votes = np.asarray(votes, dtype=float)
    observed = np.flatnonzero(np.isfinite(votes).ravel())
    n_hide = int(round(fraction * observed.size))
    hidden = np.zeros(votes.size, dtype=bool)
    if n_hide:
        hidden[np.random.default_rng(int(seed)).choice(observed, size=n_hide, replace=False)] = True
    hidden = hidden.reshape(votes.shape)
    train = votes.copy()
    train[hidden] = np.nan
    return train, hidden


def cdf(eta: np.ndarray, link: str) -> np.ndarray:
    """P(yea) from the linear predictor: the logistic or the standard normal cdf."""
    return ndtr(eta) if link == "probit" else expit(eta)


def flat_draws(da: xr.DataArray, last: str) -> np.ndarray:
    """A posterior variable as a (chain * draw, ``last``) array."""
    return da.transpose("chain", "draw", last).values.reshape(-1, da.sizes[last])


def cell_probabilities(ideal: np.ndarray, discrimination: np.ndarray, difficulty: np.ndarray, link: str,
                       max_floats: int = 20_000_000) -> np.ndarray:
    """Posterior mean P(yea) of every legislator x roll call cell from (draw, .) arrays, in chunks."""
    n_draws, n_leg = ideal.shape
    n_rc = discrimination.shape[1]
    chunk = max(1, max_floats // max(n_leg * n_rc, 1))
    total = np.zeros((n_leg, n_rc))
    for start in range(0, n_draws, chunk):
        s = slice(start, start + chunk)
        eta = ideal[s, :, None] * discrimination[s, None, :] - difficulty[s, None, :]
        total += cdf(eta, link).sum(axis=0)
    return total / n_draws


def majority_side(train: np.ndarray) -> np.ndarray:
    """Per roll call, the side (1 yea / 0 nay) most of the observed cells took (ties: yea)."""
    yea = np.nansum(train == 1, axis=0)
    nay = np.nansum(train == 0, axis=0)
    return (yea >= nay).astype(float)


def score_cells(prob: np.ndarray, votes: np.ndarray, cells: np.ndarray, majority: np.ndarray) -> dict:
    """Classification and probabilistic scores of ``prob`` on the ``cells`` of ``votes``.

    accuracy (correct classification at 0.5), brier, log_score (mean log predictive
    probability of the observed vote), gmp (its exponential: geometric mean probability) and
    apre (1 - errors / errors of predicting every roll call's majority side)."""
    cells = cells & np.isfinite(votes)
    y = votes[cells]
    p = np.clip(prob[cells], 1e-12, 1 - 1e-12)
    if y.size == 0:
        return {"n_cells": 0, "accuracy": float("nan"), "brier": float("nan"), "log_score": float("nan"),
                "gmp": float("nan"), "apre": float("nan")}
    correct = (p > 0.5) == (y == 1)
    log_p = np.where(y == 1, np.log(p), np.log1p(-p))
    baseline_errors = float(np.sum(votes[cells] != np.broadcast_to(majority[None, :], votes.shape)[cells]))
    errors = float(np.sum(~correct))
    return {
        "n_cells": int(y.size),
        "accuracy": float(correct.mean()),
        "brier": float(np.mean((p - y) ** 2)),
        "log_score": float(log_p.mean()),
        "gmp": float(np.exp(log_p.mean())),
        "apre": float((baseline_errors - errors) / baseline_errors) if baseline_errors else float("nan"),
    }
