"""Link member-level ideal points to the coalition model's legislative factions.

With a link, each legislator's raw position has the coalition model's factions of their
party as hyper-means (a normal mixture when the faction of a member is not known)::

    raw_i ~ sum_k w_ik Normal(party_mu[party_i] + faction_scale * faction_position_k, sigma_party_i)
    faction_position_k ~ Normal(coalition posterior mean_k, coalition posterior sd_k)

- ``faction_position`` is on the coalition model's trade axis (free trade positive); its prior
  is the coalition posterior (a normal approximation, one factor per faction), so the roll
  calls update the factions' positions as a second stage of the same inference.
- ``faction_scale`` maps the trade axis onto the roll-call scale.  Its sign follows the
  identified frame (flipped with the draws), and ``party_mu`` keeps the party divide, so a
  matrix whose main dimension is not trade reduces to the party model (scale near 0).
- ``w_ik``: one-hot for members with a faction in ``faction_column``; otherwise the
  coalition posterior mean shares of their party's factions; equal weights over all
  factions for members of a party without factions (independents).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition.errors import DataValidationError


def faction_prior(source, congress: int | None = None) -> dict:
    """Faction names, parties, posterior mean/sd of positions and mean within-party shares of a
    fitted :class:`CoalitionModel` (or the path of its run directory or ``posterior.nc``).

    A model whose shares walk over Congresses (``model.faction_shares = "congress"``) needs ``congress``, the
    roll calls' Congress, inside the fitted range: its shares are that Congress's (a model with static shares
    ignores it)."""
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.predictive import draws_of

    if isinstance(source, CoalitionModel):
        model, label = source, "CoalitionModel in memory"
    else:
        path = Path(source)
        path = path / "posterior.nc" if path.is_dir() else path
        if not path.is_file():
            raise FileNotFoundError(f"no coalition run at {source} (expected a run directory or its posterior.nc)")
        model, label = CoalitionModel.load(path), str(path)
    if model.idata is None or "posterior" not in model.idata:
        raise ValueError("the coalition model has not been fitted")
    md = model.model_data
    post = model.idata.posterior
    pos = draws_of(post, "ideal_point")[:, md.faction_actor_idx]
    by_congress = draws_of(post, "faction_share_congress")
    if by_congress is None:
        shares = draws_of(post, "faction_share").mean(axis=0)
    else:
        grid = [int(c) for c in md.coords["congress"]]
        if congress is None or int(congress) not in grid:
            raise ValueError(f"{label}: the model's faction shares vary by Congress (model.faction_shares = "
                             f"\"congress\"); give the roll calls' Congress, one of {grid[0]}-{grid[-1]} "
                             f"(faction_prior(run, congress=N)), got {congress!r}")
        shares = by_congress[:, grid.index(int(congress))].mean(axis=0)
    return {
        "source": label, "coalition_model_id": model.idata.attrs.get("model_id", ""),
        "names": [str(n) for n in md.coords["faction"]], "party": [str(p) for p in md.faction_party],
        "mean": [float(v) for v in pos.mean(axis=0)], "sd": [float(v) for v in pos.std(axis=0)],
        "share": [float(v) for v in shares],
    }


def membership_weights(prior: dict, parties, assigned=None, *, ids=None, rows=None, file: str | None = None,
                       column: str | None = None) -> np.ndarray:
    """(legislator x faction) prior membership weights; rows sum to one (see the module docstring).

    ``ids`` and ``rows`` (file rows, header = 1) only name the legislator in an error."""
    names = list(prior["names"])
    fparty = np.asarray(prior["party"], dtype=object)
    share = np.asarray(prior["share"], dtype=float)
    parties = np.asarray(parties, dtype=object)
    w = np.zeros((len(parties), len(names)))
    for i, party in enumerate(parties):
        given = None if assigned is None else assigned[i]
        if given is not None and not (isinstance(given, float) and np.isnan(given)) and str(given).strip():
            if str(given) not in names:
                who = f" for legislator {ids[i]}" if ids is not None else ""
                raise DataValidationError(f"unknown faction '{given}'{who} (the coalition model has {names})",
                                          file=file, row=None if rows is None else int(rows[i]), column=column)
            w[i, names.index(str(given))] = 1.0
            continue
        own = fparty == str(party)
        if own.any():
            w[i, own] = share[own] / share[own].sum()
        else:
            w[i, :] = 1.0 / len(names)
    return w


def membership_table(posterior, legislator_ids, names) -> pd.DataFrame:
    """Posterior mean membership probability of every legislator in every faction."""
    p = posterior["faction_membership"].mean(("chain", "draw")).values
    out = pd.DataFrame(p, columns=[f"p_{n}" for n in names])
    out.insert(0, "legislator_id", list(legislator_ids))
    return out
