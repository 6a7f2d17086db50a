"""The PyMC graph of the coalition model (the backend; the description lives in the spec and ModelData).

Parameterisation choices, for the geometry:

- faction positions: the paper's placements plus a ZeroSumNormal deviation (fixes location);
  the discrimination is a fixed constant (fixes scale) and positive (fixes sign), so the
  posterior is not reflection-symmetric and needs no alignment across chains;
- episode effects and vote-level deviations are *non-centred*: most episodes hold one to
  three votes, so how a cut-point's deviation splits between the episode and the vote is
  weakly identified and both spreads can approach zero; the centred forms fell into
  funnels (vote level: BFMI 0.04, R-hat 1.24; episode level: 206 divergences);
- latent constructs (willingness, pivotal actor, deadlock convergence, formulation
  coordination) exist only for episodes with at least one coded indicator of that
  construct; for the others the construct's contribution ``effect * N(0, 1)`` is
  integrated out analytically into the episode effect's variance, which is exact and
  avoids bilinear effect x latent funnels;
- ordinal indicators: ordered-logistic with item-specific ordered cut-points (first cut
  plus log-normal gaps) and
  log-normal loadings whose sign is the codebook's direction.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_coalition.coalition.model_data import ModelData
from bayes_coalition.coalition.vote_model import case_row_probability
from bayes_coalition.data.dataset import CONSTRUCTS


def latent_pairs(md: ModelData) -> list[tuple[int, int]]:
    """(episode, construct) pairs with coded evidence, in a fixed order."""
    return [tuple(map(int, p)) for p in np.argwhere(md.construct_observed)]


def build_pymc_model(md: ModelData, spec: dict, *, mutable_data: bool = False) -> pm.Model:
    """The PyMC model.  ``mutable_data=True`` holds the observations (point counts, interval
    bounds, indicator codes) in ``pm.Data`` so one compiled model can be refitted to new
    data (simulation-based calibration); the graph is otherwise identical."""
    pr = spec["priors"]

    def observed(name, value, dims=None):
        return pm.Data(name, value, dims=dims) if mutable_data else value

    gamma = float(spec["identification"]["discrimination"])
    pairs = latent_pairs(md)
    coords = dict(md.coords)
    coords["latent"] = [f"{md.coords['episode'][e]}:{CONSTRUCTS[k]}" for e, k in pairs]
    other = np.setdiff1d(np.arange(len(md.coords["actor"])), md.faction_actor_idx)
    coords["other_actor"] = [md.coords["actor"][i] for i in other]
    other_types = sorted(set(md.actor_type_idx[other].tolist()))
    coords["other_actor_type"] = [md.coords["actor_type"][t] for t in other_types]
    other_type_idx = np.array([other_types.index(t) for t in md.actor_type_idx[other]], dtype=int)

    with pm.Model(coords=coords) as model:
        # --- actors: ideal points on the anti-free-trade (-) / free-trade (+) axis
        dev = pm.ZeroSumNormal("faction_deviation", sigma=pr["faction_deviation_sd"], dims="faction")
        faction_pos = pt.as_tensor(md.actor_prior_mean[md.faction_actor_idx]) + dev
        type_shift = pm.Normal("type_shift", 0.0, pr["type_shift_sd"], dims="other_actor_type")
        actor_z = pm.Normal("actor_z", 0.0, 1.0, dims="other_actor")
        other_pos = (
            pt.as_tensor(md.actor_prior_mean[other])
            + type_shift[other_type_idx]
            + pt.as_tensor(md.actor_prior_sd[other]) * actor_z
        )
        position = pt.zeros(len(md.coords["actor"]))
        position = pt.set_subtensor(position[md.faction_actor_idx], faction_pos)
        position = pt.set_subtensor(position[other], other_pos)
        pm.Deterministic("ideal_point", position, dims="actor")

        # --- within-party faction shares
        share = pt.ones(len(md.coords["faction"]))
        for party in ("R", "D"):
            idx = np.flatnonzero(md.faction_party == party)
            if len(idx) > 1:
                name = f"faction_share_{party}"
                model.add_coord(f"faction_{party}", [md.coords["faction"][i] for i in idx])
                w = pm.Dirichlet(name, a=np.full(len(idx), pr["faction_share_concentration"]), dims=f"faction_{party}")
                share = pt.set_subtensor(share[idx], w)
        pm.Deterministic("faction_share", share, dims="faction")
        mix = None
        if md.n_mix:
            c = pr["party_share_concentration"]
            mix = pm.Beta("republican_share", c, c, dims="mix_row")

        # --- case cut-points
        mu = pm.Normal("cut_point_mean", 0.0, pr["cut_point_mean_sd"])
        chamber = pm.ZeroSumNormal("chamber_offset", sigma=pr["chamber_sd"], dims="chamber")
        vtype = (
            pm.ZeroSumNormal("vote_type_offset", sigma=pr["vote_type_sd"], dims="vote_type")
            if len(md.coords["vote_type"]) > 1
            else pt.zeros(1)
        )
        # the cut-point deviation not explained by chamber, vote type and constructs has a total
        # spread tau (identified by the data) split between episode and vote by a share rho
        # (weakly identified: most episodes hold one to three votes). Separate Gamma(2) scales
        # for the two levels sampled with R-hat up to 1.012 at ESS ~500; tau/rho with a
        # boundary-avoiding Gamma(4) on tau (its lower tail sat in the non-centred funnel:
        # tail ESS 295 with Gamma(2)) gave R-hat 1.0066 / 1.0070 on two seeds.
        total_prior = float(np.sqrt(pr["case_sd"] ** 2 + pr["episode_sd"] ** 2))
        sigma_total = pm.Gamma("sigma_total", alpha=4.0, beta=4.0 / total_prior)
        episode_share = pm.Beta("episode_share", 2.0, 2.0)
        sigma_episode = pm.Deterministic("sigma_episode", sigma_total * pt.sqrt(episode_share))
        sigma_case = pm.Deterministic("sigma_case", sigma_total * pt.sqrt(1.0 - episode_share))
        # constructs left out of the spec (model.constructs) keep their measurement model but
        # have no effect on the cut-point: the nested models of the H1/H2 comparisons
        included = [k for k, c in enumerate(CONSTRUCTS) if c in set(spec["model"]["constructs"])]
        model.add_coord("included_construct", [CONSTRUCTS[k] for k in included])
        free_effect = pm.Normal("effect_included", 0.0, pr["effect_sd"], dims="included_construct")
        effect = pm.Deterministic("effect", pt.set_subtensor(pt.zeros(len(CONSTRUCTS))[included], free_effect), dims="construct")

        n_ep = len(md.coords["episode"])
        shift = pt.zeros(n_ep)
        if pairs:
            latent = pm.Normal("construct_latent", 0.0, 1.0, dims="latent")
            ep_i = np.array([e for e, _ in pairs])
            k_i = np.array([k for _, k in pairs])
            shift = pt.inc_subtensor(shift[ep_i], effect[k_i] * latent)
        unobserved = pt.as_tensor((~md.construct_observed).astype(float))
        episode_sd = pt.sqrt(sigma_episode**2 + pt.sum(unobserved * effect[None, :] ** 2, axis=1))
        episode_z = pm.Normal("episode_z", 0.0, 1.0, dims="episode")
        approval_shift = pm.Deterministic("episode_effect", shift + episode_sd * episode_z, dims="episode")
        cut_mean = (
            mu
            + chamber[md.case_chamber_idx]
            + vtype[md.case_vote_type_idx]
            - approval_shift[md.case_episode_idx]
        )
        case_z = pm.Normal("case_z", 0.0, 1.0, dims="case")
        cut = pm.Deterministic("cut_point", cut_mean + sigma_case * case_z, dims="case")
        sigma_tilt = pm.HalfNormal("sigma_party_tilt", pr["party_tilt_sd"])
        tilt_z = pm.Normal("party_tilt_z", 0.0, 1.0, dims="case")
        tilt = pm.Deterministic("party_tilt", sigma_tilt * tilt_z, dims="case")
        phi = pm.LogNormal("concentration", pr["overdispersion_log_mean"], pr["overdispersion_log_sd"], dims="chamber")

        def probs(case_idx, group_idx, mix_idx):
            return case_row_probability(
                pt, cut_point=cut, party_tilt=tilt, md=md, case_idx=case_idx, group_idx=group_idx, mix_idx=mix_idx,
                faction_position=faction_pos, faction_share=share, mix_share=mix, discrimination=gamma,
            )

        # --- point observations: beta-binomial (members of a faction are not exchangeable)
        p_obs = probs(md.obs_case_idx, md.obs_group_idx, md.mix_obs_idx)
        phi_obs = phi[md.case_chamber_idx[md.obs_case_idx]]
        pm.BetaBinomial("yea", n=md.obs_n, alpha=p_obs * phi_obs, beta=(1 - p_obs) * phi_obs, observed=observed("obs_yea", md.obs_yea, "obs"), dims="obs")

        # --- interval observations: log P(lower <= yea <= upper)
        if len(md.int_case_idx):
            p_int = probs(md.int_case_idx, md.int_group_idx, md.mix_int_idx)
            phi_int = phi[md.case_chamber_idx[md.int_case_idx]]
            width = int((md.int_upper - md.int_lower).max()) + 1
            lower = observed("interval_lower", md.int_lower)
            upper = observed("interval_upper", md.int_upper)
            grid = lower[:, None] + np.arange(width)[None, :]
            valid = grid <= upper[:, None]
            grid = pt.minimum(grid, upper[:, None])
            dist = pm.BetaBinomial.dist(
                n=md.int_n[:, None], alpha=(p_int * phi_int)[:, None], beta=((1 - p_int) * phi_int)[:, None]
            )
            lp = pm.logp(dist, grid)
            lp = pt.switch(valid, lp, -np.inf)
            interval_lp = pm.logsumexp(lp, axis=1).flatten()
            pm.Potential("interval_yea", interval_lp.sum())

        # --- measurement model of the coded indicators
        if len(md.code_item_idx):
            loading = pm.LogNormal("loading", 0.0, pr["loading_log_sd"], dims="item")
            latent_index = {p: j for j, p in enumerate(pairs)}
            lat_idx = np.array(
                [latent_index[(int(e), int(md.item_construct_idx[i]))] for e, i in zip(md.code_episode_idx, md.code_item_idx)]
            )
            for n_levels in sorted(set(md.item_n_levels.tolist())):
                items = np.flatnonzero(md.item_n_levels == n_levels)
                dim = f"item_{n_levels}_levels"
                model.add_coord(dim, [md.coords["item"][i] for i in items])
                model.add_coord(f"cut_{n_levels}", np.arange(n_levels - 1))
                # ordered cut-points as first cut + positive gaps (prior centred on -1, +1 for
                # three levels); PyMC's ordered transform starts at -inf without an initval
                first = pm.Normal(f"indicator_first_cut_{n_levels}", -1.0, pr["indicator_cut_sd"], dims=dim)
                if n_levels > 2:
                    model.add_coord(f"gap_{n_levels}", np.arange(n_levels - 2))
                    gaps = pm.LogNormal(f"indicator_cut_gaps_{n_levels}", np.log(2.0), 0.5, dims=(dim, f"gap_{n_levels}"))
                    cuts = pt.concatenate([first[:, None], first[:, None] + pt.cumsum(gaps, axis=1)], axis=1)
                else:
                    cuts = first[:, None]
                pm.Deterministic(f"indicator_cuts_{n_levels}", cuts, dims=(dim, f"cut_{n_levels}"))
                sel = np.flatnonzero(np.isin(md.code_item_idx, items))
                if not len(sel):
                    continue
                item_i = md.code_item_idx[sel]
                local = np.searchsorted(items, item_i)
                eta = md.item_direction[item_i] * loading[item_i] * latent[lat_idx[sel]]
                pm.OrderedLogistic(
                    f"code_{n_levels}_levels",
                    eta=eta,
                    cutpoints=cuts[local],
                    observed=observed(f"code_{n_levels}_levels_data", md.code_level[sel]),
                )
    return model
