"""The PyMC graph of the hierarchical two-parameter IRT model.

Model (``link`` logit, the default, or probit; logit is about 4x cheaper per evaluation)::

    P(yea_ij) = F(discrimination_j * ideal_point_i - difficulty_j)
    raw_i     = party_mu[party_i] + covariates_i @ gamma + party_sigma[party_i] * z_i
    ideal_point = (raw - mean(raw)) / sd(raw)              # location and scale fixed in every draw

The raw party means sum to zero and the party sds have geometric mean 1, so the only
directions the likelihood cannot see are z's mean and spread (prior-fixed); the sign is
fixed after sampling (:mod:`bayes_coalition.ideal_points.identification`).  With a link to
the coalition model the party-normal prior of ``raw`` becomes a mixture over its factions
(:mod:`bayes_coalition.ideal_points.faction_link`).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_coalition.ideal_points.likelihood import FORMULATIONS, LINKS, vote_loglik

PARTY_SD = ("party", "common")


def check_options(*, link: str, party_sd: str, formulation: str) -> None:
    """Reject an unknown link, party-sd rule or likelihood formulation."""
    for name, value, allowed in (("link", link, LINKS), ("party_sd", party_sd, PARTY_SD), ("formulation", formulation, FORMULATIONS)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _faction_mixture(model: pm.Model, factions: dict, location, sigma_party, party_idx: np.ndarray,
                     faction_weights: np.ndarray, centre_weights: np.ndarray):
    """Raw positions as a normal mixture over the coalition model's factions; returns (raw, loading, centred).

    Centred mixture: members' positions are strongly identified by their votes."""
    model.add_coord("faction", factions["names"])
    fpos = pm.Normal("faction_position", np.asarray(factions["mean"]), np.asarray(factions["sd"]), dims="faction")
    loading = pm.Normal("faction_scale", 0.0, 1.0)
    # positions relative to the party's share-weighted mean faction: the loading sets the
    # spread within parties and is orthogonal to the party means
    centred = fpos[None, :] - pt.dot(pt.as_tensor(np.asarray(centre_weights)), fpos)[:, None]
    comp_mu = location[:, None] + loading * centred
    sd = sigma_party[party_idx][:, None]
    raw = pm.NormalMixture("raw_ideal_point", w=np.asarray(faction_weights), mu=comp_mu, sigma=sd, dims="legislator")
    with np.errstate(divide="ignore"):
        logw = np.log(np.asarray(faction_weights))
    comp_lp = logw - 0.5 * pt.sqr((raw[:, None] - comp_mu) / sd)
    pm.Deterministic("faction_membership", pt.special.softmax(comp_lp, axis=1), dims=("legislator", "faction"))
    return raw, loading, centred


def _faction_locations(factions: dict, parties: list, party_idx: np.ndarray, mu, loading, centred, centre, scale) -> None:
    """Each faction's hyper-mean on the identified scale (taken for a member of its party)."""
    rows = [int(np.flatnonzero(np.asarray(parties) == p)[0]) if p in parties else -1 for p in factions["party"]]
    base = pt.stack([mu[j] if j >= 0 else pt.constant(0.0) for j in rows])
    first = [int(np.flatnonzero(party_idx == j)[0]) if j >= 0 else 0 for j in rows]
    hyper = base + loading * centred[first, np.arange(len(rows))]
    pm.Deterministic("faction_location", (hyper - centre) / scale, dims="faction")
    pm.Deterministic("faction_loading", loading / scale)


def build_model(
    train: np.ndarray,
    party_idx: np.ndarray,
    coords: dict,
    *,
    covariates: np.ndarray | None = None,
    link: str = "logit",
    party_sd: str = "party",
    difficulty_sd: float = 2.5,
    discrimination_sd: float = 2.5,
    anchors: dict[int, tuple[float, float]] | None = None,
    formulation: str = "dense",
    factions: dict | None = None,
    faction_weights: np.ndarray | None = None,
    faction_centre_weights: np.ndarray | None = None,
) -> pm.Model:
    """The PyMC model.  ``train`` is legislator x roll call (1/0/NaN); ``coords`` has
    legislator, rollcall, party (and covariate); ``anchors`` maps a legislator's row to a
    (value, sd) prior on its identified ideal point; ``factions`` (from
    :func:`bayes_coalition.ideal_points.faction_link.faction_prior`) with ``faction_weights`` makes the
    coalition model's factions the hyper-means of members' positions."""
    check_options(link=link, party_sd=party_sd, formulation=formulation)
    n_parties = len(coords["party"])
    with pm.Model(coords=coords) as model:
        # raw scale fixed (within-party sd 1 on average) and location fixed (party means sum to
        # zero), so the only directions the likelihood cannot see are z's mean and spread.
        if n_parties > 1:
            mu = pm.ZeroSumNormal("party_mu", sigma=3.0, dims="party")
        else:
            mu = pt.zeros(1)
        if party_sd == "party" and n_parties > 1:
            log_sigma = pm.ZeroSumNormal("party_log_sigma", sigma=0.5, dims="party")
            sigma_party = pt.exp(log_sigma)
        else:
            sigma_party = pt.ones(n_parties)
        location = mu[party_idx]
        gamma = None
        if covariates is not None and covariates.shape[1]:
            gamma = pm.Normal("gamma", 0.0, 1.0, dims="covariate")
            location = location + pt.dot(pt.as_tensor(covariates), gamma)
        if factions is None:
            z = pm.Normal("z", 0.0, 1.0, dims="legislator")
            raw = location + sigma_party[party_idx] * z
        else:
            centre_weights = faction_centre_weights if faction_centre_weights is not None else faction_weights
            raw, loading, centred = _faction_mixture(model, factions, location, sigma_party, party_idx,
                                                     faction_weights, centre_weights)
        centre = raw.mean()
        scale = pt.sqrt(pt.mean(pt.sqr(raw - centre)) + 1e-12)
        x = pm.Deterministic("ideal_point", (raw - centre) / scale, dims="legislator")
        pm.Deterministic("party_location", (mu - centre) / scale, dims="party")
        pm.Deterministic("party_scale", sigma_party / scale, dims="party")
        if factions is not None:
            _faction_locations(factions, coords["party"], party_idx, mu, loading, centred, centre, scale)
        if gamma is not None:
            pm.Deterministic("covariate_effect", gamma / scale, dims="covariate")
        alpha = pm.Normal("difficulty", 0.0, difficulty_sd, dims="rollcall")
        beta = pm.Normal("discrimination", 0.0, discrimination_sd, dims="rollcall")
        if anchors:
            rows = np.fromiter(anchors, dtype=int)
            values = np.array([anchors[r][0] for r in rows])
            sds = np.array([anchors[r][1] for r in rows])
            pm.Potential("anchors", pm.logp(pm.Normal.dist(values, sds), x[rows]).sum())
        pm.Potential("votes_loglik", vote_loglik(x, beta, alpha, train, link=link, formulation=formulation))
    return model
