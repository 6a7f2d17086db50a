"""Coalition analytics: pure functions on posterior draws (xarray in, xarray out).

Positions are on the anti-free-trade (-) / free-trade (+) axis. For a pro-trade motion an
actor sits in the *yes* coalition when its position lies right of the cut-point, in the
*deadlock* coalition otherwise. Weights are seats (or any voting weight); an actor with
weight 0 (an agency, an interest group) can belong to a coalition but adds no votes.
Every function is vectorised over whatever sample dims (chain, draw, case, bill, ...) the
inputs carry; ``actor`` is the dim of actors unless told otherwise.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

ACTOR = "actor"


def yes_coalition(position: xr.DataArray, cut_point: xr.DataArray, pro_trade: bool | xr.DataArray = True) -> xr.DataArray:
    """Boolean membership of the yes coalition (position right of the cut-point on a pro-trade motion)."""
    right = position > cut_point
    if isinstance(pro_trade, bool):
        return right if pro_trade else ~right
    return xr.where(pro_trade, right, ~right)


def deadlock_coalition(position, cut_point, pro_trade=True) -> xr.DataArray:
    """The actors opposing the motion: the complement of the yes coalition."""
    return ~yes_coalition(position, cut_point, pro_trade)


def coalition_weight(members: xr.DataArray, weight: xr.DataArray, dim: str = ACTOR) -> xr.DataArray:
    return (members * weight).sum(dim)


def minimum_winning_coalition(position: xr.DataArray, weight: xr.DataArray, threshold, dim: str = ACTOR) -> xr.Dataset:
    """Riker's minimum winning coalition built from the free-trade edge inward.

    Actors are added in decreasing order of position until their weights reach ``threshold``.
    Returns ``members`` (bool), ``size`` (number of actors added, NaN where unreachable),
    ``weight`` (the coalition's weight) and ``reachable``.
    """
    position, weight = xr.broadcast(position, weight)
    other_dims = [d for d in position.dims if d != dim]
    position = position.transpose(*other_dims, dim)
    pos = position.values
    w = weight.transpose(*other_dims, dim).values
    order = np.argsort(-pos, axis=-1, kind="stable")
    w_sorted = np.take_along_axis(w, order, axis=-1)
    cum = np.cumsum(w_sorted, axis=-1)
    thr = threshold if isinstance(threshold, xr.DataArray) else xr.DataArray(float(threshold))
    thr = thr.broadcast_like(position.isel({dim: 0}, drop=True)).transpose(*other_dims).values.astype(float)
    reached = cum >= thr[..., None]
    reachable = reached.any(axis=-1)
    first = np.where(reachable, reached.argmax(axis=-1), pos.shape[-1] - 1)
    rank = np.arange(pos.shape[-1])
    in_sorted = (rank <= first[..., None]) & reachable[..., None]
    members = np.zeros_like(in_sorted)
    np.put_along_axis(members, order, in_sorted, axis=-1)
    dims = position.dims
    coords = {k: v for k, v in position.coords.items() if set(v.dims) <= set(dims)}
    size = np.where(reachable, first + 1, np.nan)
    mwc_weight = np.where(reachable, np.take_along_axis(cum, first[..., None], axis=-1)[..., 0], np.nan)
    other = dims[:-1]
    return xr.Dataset(
        {
            "members": (dims, members),
            "size": (other, size),
            "weight": (other, mwc_weight),
            "reachable": (other, reachable),
        },
        coords=coords,
    )


def coalition_forms(position, cut_point, weight, threshold, pro_trade=True, dim: str = ACTOR) -> xr.Dataset:
    """Whether the yes coalition reaches the threshold, and its surplus over it."""
    yes = yes_coalition(position, cut_point, pro_trade)
    w = coalition_weight(yes, weight, dim)
    return xr.Dataset({"forms": w >= threshold, "surplus": w - threshold, "yes_weight": w})


def de_swaan_pivotal(position: xr.DataArray, weight: xr.DataArray, dim: str = ACTOR) -> xr.DataArray:
    """De Swaan's pivotal actor: |weight on its right - weight on its left| <= its own weight.

    Actors at exactly the same position as the actor count on neither side.
    """
    position, weight = xr.broadcast(position, weight)
    p = position.transpose(..., dim).values
    w = weight.transpose(..., dim).values
    right = ((p[..., None, :] > p[..., :, None]) * w[..., None, :]).sum(-1)   # for actor i: sum over j right of i
    left = ((p[..., None, :] < p[..., :, None]) * w[..., None, :]).sum(-1)
    pivotal = np.abs(right - left) <= w + 1e-12
    return xr.DataArray(pivotal, dims=position.transpose(..., dim).dims, coords=position.coords)


def decisive(position, cut_point, weight, threshold, pro_trade=True, dim: str = ACTOR) -> xr.DataArray:
    """Whether the outcome (yes weight >= threshold) flips when this actor alone switches sides."""
    yes = yes_coalition(position, cut_point, pro_trade)
    total = coalition_weight(yes, weight, dim)
    flipped = total - xr.where(yes, weight, -weight)
    return (total >= threshold) != (flipped >= threshold)


def deadlock_spread(position, cut_point, pro_trade=True, dim: str = ACTOR) -> xr.DataArray:
    """Standard deviation of the deadlock coalition's positions (H2's distance; NaN with < 2 members)."""
    members = deadlock_coalition(position, cut_point, pro_trade)
    x = position.where(members)
    n = members.sum(dim)
    return x.std(dim, ddof=1).where(n >= 2)


def institutional_pivots(member_position: xr.DataArray, dim: str = "legislator") -> xr.DataArray:
    """Positions of the institutional pivots of US lawmaking from member-level ideal points.

    ``median`` (chamber median), ``filibuster`` (the member whose vote is the 60th yea counting
    from the free-trade edge) and ``veto_override`` (the 67th, two thirds of 100; for a House-sized
    body the same shares of its size). Positions sorted per draw.
    """
    n = member_position.sizes[dim]
    srt = np.sort(member_position.transpose(..., dim).values, axis=-1)[..., ::-1]   # free-trade edge first
    k_fil = int(np.ceil(0.6 * n)) - 1
    k_veto = int(np.ceil(2 * n / 3)) - 1
    med = np.median(srt, axis=-1)
    out = np.stack([med, srt[..., k_fil], srt[..., k_veto]], axis=-1)
    dims = member_position.transpose(..., dim).dims[:-1] + ("pivot",)
    coords = {k: v for k, v in member_position.coords.items() if dim not in v.dims}
    coords["pivot"] = ["median", "filibuster", "veto_override"]
    return xr.DataArray(out, dims=dims, coords=coords)


def probability(flags: xr.DataArray, sample_dims=("chain", "draw")) -> xr.DataArray:
    """Posterior probability of a boolean quantity (mean over the sample dims present)."""
    dims = [d for d in sample_dims if d in flags.dims]
    return flags.astype(float).mean(dims)
