"""The spatial vote model, written once for both backends.

The same function builds the PyTensor graph inside the PyMC model and evaluates
posterior draws with NumPy for predictive simulation, so the likelihood and the
predictions cannot drift apart.  Pass ``xp=numpy`` or ``xp=pytensor.tensor``.

A member of faction f votes yea on a pro-trade motion with probability
``logistic(discrimination * (position_f - cut_point_case))``; a party's yea share is
the mixture over its factions with the within-party faction shares; independents
mix all factions equally; a per-case partisan tilt moves the Republicans' and the
Democrats' cut-points in opposite directions (party-by-case effect); a row counting both parties
together (RD) has the mean probability of R and D weighted by the Republicans' share of its
voters, known from the Congress's composition.  The discrimination may differ by vote type.  On a
motion whose yea side is anti-trade the probability flips.
"""

from __future__ import annotations

import numpy as np

from bayes_coalition.coalition.rules import party_cut_point, party_sign
from bayes_coalition.constants import GROUPS

EPS = 1e-9


def party_matrix(faction_party) -> np.ndarray:
    """(faction, party) indicator with columns R, D."""
    fp = np.asarray(faction_party)
    return np.stack([(fp == "R"), (fp == "D")], axis=-1).astype(float)


def group_one_hot(group_idx) -> np.ndarray:
    return np.eye(len(GROUPS))[np.asarray(group_idx)]


def row_shares(faction_share, share_idx=None):
    """Within-party faction shares of each row, broadcastable to ``(..., row, faction)``: static shares
    ``(..., faction)`` for every row, or shares by Congress ``(..., congress, faction)`` taken at each row's Congress
    ``share_idx`` ``(row,)``."""
    if share_idx is None:
        return faction_share[..., None, :]
    return faction_share[..., np.asarray(share_idx), :]


def share_arguments(md, case_idx, faction_share, faction_share_congress=None) -> dict:
    """The share arguments of :func:`party_probabilities` for rows of some cases: the static shares, or, where the
    model has shares by Congress (``faction_share_congress``), those at each case's Congress."""
    if faction_share_congress is None:
        return {"faction_share": faction_share}
    return {"faction_share": faction_share_congress, "share_idx": md.case_congress_idx[np.asarray(case_idx)]}


def party_probabilities(xp, *, faction_position, faction_share, cut_point, party_tilt, faction_party, discrimination,
                        share_idx=None):
    """Pro-trade yea probability of a Republican, a Democrat and an independent (who mixes all factions
    equally) on each row, ``(..., row)`` each: the factions' logistic curves at their party's cut-point,
    mixed with the within-party faction shares (static, or by Congress with each row's Congress ``share_idx``:
    :func:`row_shares`)."""
    pm_ = party_matrix(faction_party)
    pos = faction_position[..., None, :]                                   # (..., 1, F)
    cut = party_cut_point(cut_point[..., :, None], party_tilt[..., :, None], party_sign(faction_party))  # (..., row, F)
    slope = discrimination[..., None] if hasattr(discrimination, "ndim") else discrimination
    fac_p = 1.0 / (1.0 + xp.exp(-slope * (pos - cut)))                    # (..., row, F)
    weighted = fac_p * row_shares(faction_share, share_idx)
    return xp.sum(weighted * pm_[:, 0], axis=-1), xp.sum(weighted * pm_[:, 1], axis=-1), xp.mean(fac_p, axis=-1)


def two_party(share, p_r, p_d):
    """Yea probability of a count of both parties: the Republicans' share ``share`` of its voters at p_r, the rest
    at p_d (the composition gives the share)."""
    return share * p_r + (1.0 - share) * p_d


def flip(p, polarity):
    """The yea probability on a motion from the pro-trade one: unchanged for polarity +1, ``1 - p`` for -1 (the
    yea side is anti-trade)."""
    return 0.5 + polarity * (p - 0.5)


def mix_groups(xp, p_r, p_d, p_i, *, polarity, group_idx, mix_share, mix_idx):
    """Yea probability of each row from its party probabilities (``(..., row)``): R, D or I rows take
    theirs, a row of both parties (RD) the Republicans' share ``mix_share[mix_idx]`` of p_r and the rest of
    p_d; on a motion whose yea side is anti-trade (polarity -1) the probability flips."""
    pad = 0.5 * xp.ones_like(p_r[..., :1])                                 # dummy share for non-RD rows
    shares = xp.concatenate([mix_share, pad], axis=-1) if mix_share is not None else pad
    s = shares[..., np.asarray(mix_idx)]                                   # (..., row); -1 -> pad
    p_rd = two_party(s, p_r, p_d)
    onehot = group_one_hot(group_idx)
    p_pro = p_r * onehot[:, 0] + p_d * onehot[:, 1] + p_i * onehot[:, 2] + p_rd * onehot[:, 3]
    pol = np.asarray(polarity, dtype=float)
    p = flip(p_pro, pol)
    return xp.clip(p, EPS, 1.0 - EPS)


def slot_probabilities(xp, p_r, p_d, p_i, *, share, polarity):
    """Yea probability of each vote's four count slots in ``GROUPS``' order (R, D, I, RD), ``(..., vote, 4)``,
    from its party probabilities (``(..., vote)``): the RD slot mixes p_r and p_d with the Republicans' share
    ``share`` of its voters (``(vote,)``), as :func:`mix_groups` does for a row; on a motion whose yea side is
    anti-trade (``polarity`` -1, ``(vote,)``) every slot flips. Not clipped. The strategic layers' terms (agenda
    control's Z, the floor expectation's margin) sum a vote's slots."""
    p = xp.stack([p_r, p_d, p_i, two_party(share, p_r, p_d)], axis=-1)
    return flip(p, np.asarray(polarity, dtype=float)[:, None])


def yea_probability(
    xp,
    *,
    faction_position,   # (..., faction)
    faction_share,      # (..., faction): share of each faction within its party; by Congress (..., congress, faction)
    cut_point,          # (..., row)
    party_tilt,         # (..., row): Republicans' cut-point is cut_point + tilt, Democrats' cut_point - tilt
    polarity,           # (row,) +1 pro-trade yea, -1 anti-trade yea
    group_idx,          # (row,) index into GROUPS
    mix_share,          # (..., n_mix) Republican share of RD rows (may be empty)
    mix_idx,            # (row,) index into mix_share, -1 for non-RD rows
    faction_party,      # (faction,) "R"/"D"
    discrimination,     # a number, or (..., row): the slope of each row's vote type
    share_idx=None,     # (row,) each row's Congress when faction_share is by Congress; None: static shares
):
    """Yea probability of each count row; leading sample dims broadcast."""
    p_r, p_d, p_i = party_probabilities(
        xp, faction_position=faction_position, faction_share=faction_share, cut_point=cut_point,
        party_tilt=party_tilt, faction_party=faction_party, discrimination=discrimination, share_idx=share_idx)
    return mix_groups(xp, p_r, p_d, p_i, polarity=polarity, group_idx=group_idx, mix_share=mix_share, mix_idx=mix_idx)


def case_row_probability(xp, *, cut_point, party_tilt, md, case_idx, group_idx, mix_idx, discrimination,
                         faction_share, faction_share_congress=None, **params):
    """:func:`yea_probability` of count rows given per-case cut-points and tilts (``(..., case)``) and
    the discrimination per vote type (``(..., discrimination_type)``, a number: the same for all):
    the one call shared by the PyMC likelihood and NumPy simulation. ``faction_share_congress``
    (``(..., congress, faction)``), where the model has shares by Congress, replaces the static ``faction_share``
    at each case's Congress. ``params`` holds ``faction_position`` and ``mix_share``."""
    if hasattr(discrimination, "ndim") and discrimination.ndim:
        discrimination = discrimination[..., md.case_disc_idx[case_idx]]
    params.update(share_arguments(md, case_idx, faction_share, faction_share_congress))
    return yea_probability(
        xp,
        discrimination=discrimination,
        cut_point=cut_point[..., case_idx],
        party_tilt=party_tilt[..., case_idx],
        polarity=md.case_polarity[case_idx],
        group_idx=group_idx,
        mix_idx=mix_idx,
        faction_party=md.faction_party,
        **params,
    )
