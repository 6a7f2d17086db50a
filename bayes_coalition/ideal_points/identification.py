"""Identification of the ideal-point axis: map every draw onto one frame (pscl's postProcess).

The likelihood only sees the standardised ideal points, so location and scale are fixed by
construction; the sign is left free while sampling (chains may settle in mirror-image
modes) and every draw is then mapped onto one frame: ideal points are standardised and the
draw's ideal points, discriminations, party locations and covariate effects are multiplied
by -1 when the draw points the wrong way.  The direction comes from, in this order:
``anchors``; ``positive_legislator``; ``positive_party`` (default ``"R"``: Republicans
positive); otherwise the data's first principal component (its most extreme legislator
positive).  R-hat and ESS are computed on these aligned draws.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

# sampled quantities that change sign with the orientation of the axis
SIGNED = ("ideal_point", "discrimination", "party_location", "covariate_effect", "faction_location", "faction_loading")
IDENTIFIED = ("ideal_point", "discrimination", "difficulty", "party_location", "party_scale", "covariate_effect",
              "faction_location", "faction_loading", "faction_position")


def first_component(train: np.ndarray) -> np.ndarray:
    """First principal component of the (mean-imputed, centred) vote matrix, signed so that its
    largest entry in absolute value is positive: a deterministic reference direction."""
    v = np.asarray(train, dtype=float)
    col_mean = np.nanmean(np.where(np.isfinite(v), v, np.nan), axis=0)
    col_mean = np.nan_to_num(col_mean, nan=0.5)
    filled = np.where(np.isfinite(v), v, col_mean[None, :]) - col_mean[None, :]
    u, _, _ = np.linalg.svd(filled, full_matrices=False)
    pc = u[:, 0]
    return pc * (1.0 if pc[np.argmax(np.abs(pc))] >= 0 else -1.0)


def orientation_weights(
    parties: np.ndarray,
    *,
    positive_party: str | None = "R",
    positive_legislator: int | None = None,
    anchors: dict[int, tuple[float, float]] | None = None,
    train: np.ndarray | None = None,
) -> tuple[np.ndarray, str]:
    """Weights w such that a draw is oriented when ``ideal_point @ w > 0``; with the rule used.

    Precedence: anchors, positive_legislator (a row index), positive_party, principal component."""
    n = len(parties)
    if anchors:
        w = np.zeros(n)
        for row, (value, _) in anchors.items():
            w[row] = value
        if np.any(w):
            return w, "anchors"
    if positive_legislator is not None:
        w = np.zeros(n)
        w[positive_legislator] = 1.0
        return w, "positive_legislator"
    if positive_party is not None:
        member = np.asarray([str(p) == str(positive_party) for p in parties], dtype=float)
        if 0 < member.sum() < n:
            return member / member.sum() - 1.0 / n, f"party {positive_party} positive"
    if train is None:
        raise ValueError("no orientation rule applies and no vote matrix was given")
    return first_component(train), "first principal component (most extreme legislator positive)"


def align_draws(ideal: np.ndarray, discrimination: np.ndarray, difficulty: np.ndarray, weights: np.ndarray):
    """Map draws onto the identified frame.  ``ideal`` is (..., legislator), the item arrays
    (..., rollcall).  Each draw is standardised (mean 0, sd 1; the item parameters absorb the
    affine map so predictions are unchanged) and flipped when ``ideal @ weights < 0``.
    Returns (ideal, discrimination, difficulty, sign) with sign shaped like the draws."""
    centre = ideal.mean(axis=-1, keepdims=True)
    scale = ideal.std(axis=-1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    std_ideal = (ideal - centre) / scale
    difficulty = difficulty - discrimination * centre
    discrimination = discrimination * scale
    sign = np.sign(std_ideal @ weights)
    sign = np.where(sign == 0, 1.0, sign)
    return std_ideal * sign[..., None], discrimination * sign[..., None], difficulty, sign


def align_posterior(posterior: xr.Dataset, weights: np.ndarray) -> xr.Dataset:
    """Identified posterior: :func:`align_draws` applied to every (chain, draw); the party
    locations and covariate effects follow the sign (they are already on the standardised scale)."""
    ideal = posterior["ideal_point"].transpose("chain", "draw", "legislator")
    disc = posterior["discrimination"].transpose("chain", "draw", "rollcall")
    diff = posterior["difficulty"].transpose("chain", "draw", "rollcall")
    x, b, a, sign = align_draws(ideal.values, disc.values, diff.values, np.asarray(weights, dtype=float))
    out = xr.Dataset(
        {
            "ideal_point": (ideal.dims, x),
            "discrimination": (disc.dims, b),
            "difficulty": (diff.dims, a),
        },
        coords={k: v for k, v in posterior.coords.items() if k in ("chain", "draw", "legislator", "rollcall")},
    )
    for name in ("party_location", "covariate_effect", "faction_location", "faction_loading"):
        if name in posterior:
            da = posterior[name]
            out[name] = da * xr.DataArray(sign, dims=("chain", "draw"), coords={"chain": da["chain"], "draw": da["draw"]})
    for name in ("party_scale", "faction_position", "faction_membership"):   # unchanged by a reflection
        if name in posterior:
            out[name] = posterior[name]
    out["orientation_sign"] = (("chain", "draw"), sign)
    out.attrs.update(posterior.attrs)
    return out
