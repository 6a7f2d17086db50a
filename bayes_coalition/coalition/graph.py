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
  log-normal loadings whose sign is the codebook's direction;
- model v2 (0.3.0): the party tilt is a non-centred Gaussian random walk over the unbroken range of
  Congresses (start N(0, party_tilt_sd), steps sigma * N(0, 1)) plus the President's co-partisanship and a
  non-centred vote-level deviation; the discrimination of each
  non-reference vote type is exp(N(0, discrimination_log_sd)) times final passage's. Measured on the
  shipped data (seed 2000, nutpie, 4 x 1000 draws after 1000 tuning): max R-hat 1.0097, bulk / tail
  ESS 511 / 481, BFMI 0.75, one divergence; wall 409 s on 2 busy cores (compilation dominates: the
  C gradient compiles in 20 s, numba's takes longer). With the step scale Gamma(2) (mean tilt_walk_sd)
  instead of HalfNormal: seeds 1-3 gave max R-hat 1.0097 / 1.0094 / 1.0047, bulk ESS 468 / 303 / 450,
  divergences 2 / 0 / 0 (benchmarks/bench_coalition_seeds.py); the bar holds on one seed of three.
- 0.3.1: the step's sd and the vote-level tilt's sd are one total spread (Gamma(4), prior mean
  sqrt(case_tilt_sd^2 + tilt_walk_sd^2)) split by a Beta(2, 2) share, as the cut-point's spread is: the step
  scale had the lowest ESS of the model (303-468 bulk on seeds 1-3). With 1500 tuning steps (the default
  since 0.3.1) seeds 1-3 gave max R-hat 1.0050 / 1.0065 / 1.0059, bulk ESS 518 / 688 / 801, no divergences
  (benchmarks/bench_coalition_seeds.py). SBC of 0.3.1 (100 simulations, 2 x 500 draws, ESS-thinned ranks):
  every group passes at 1%, the tilt's total and share at p 0.91 and 0.96.
- 0.3.2, why the walk and the vote-level tilt stay non-centred although 49 of 50 votes have party rows: centring
  either one was tried (default spec, seed 2000, 4 x 1000 draws after 1500 tuning, 2026-11-30). Leapfrog steps per
  draw 110.0 (non-centred) against 107.6 (centred walk increments) and 101.9 (centred vote-level tilt); max R-hat
  1.005 / 1.006 / 1.006, bulk / tail ESS 788 / 1279, 982 / 778, 667 / 876, no divergences. A gain of at most 7% of
  the sampling time (the 120 s bar needs more), so the parameterisation whose SBC was measured is kept; the long
  trajectories (tree depth about 6, step size 0.11-0.12) come from elsewhere in the posterior;
- where they come from, on the spec with agenda control, the floor expectations and faction shares by Congress
  (benchmarks/bench_geometry.py on a fit of seed 2000, 4 x 2000 draws after 1500 tuning, 97.3 leapfrog steps per
  draw, step size 0.10; 2026-11-30): the largest eigenvalue of the posterior-scaled Hessian (1 for a Gaussian
  posterior) is 124-286 over 8 draws, median 140, along the construct latents of tpa2015 (the episode with six
  votes, which pin its effect against the latents' bilinear ``effect * latent`` term) and its ``episode_z``, then
  along the walk's share with ``congress_tilt_z``; negative eigenvalues down to -14 show non-log-concave regions.
  Centring the episode effect of the six episodes with three or more votes and the Congress walk (a Gaussian random
  walk on the tilts themselves) lowered that eigenvalue to a median of 57 (max 103) at the same draws, but its fit
  (same seed and tuning, 4 x 500 draws) took 91.4 steps per draw with 6 divergences and max R-hat 1.015: the
  centred forms add funnels where the posterior reaches small spreads. Kept non-centred;
- an optional Student-t vote-level tilt (``model.party_tilt = "student_t"``): sigma / sqrt(precision) * z with
  precision ~ Gamma(df/2, df/2) per vote, a scale mixture so z stays non-centred and the agenda layer integrates
  each vote at its own scale. Backtest of the combined spec with it (docs/model_layers.md "Heavy-tailed party tilt"): party-row
  90% coverage unchanged at 0.814, Brier 0.0536 against 0.0535; one of 32 short fits had a stuck chain (250
  divergences) against none with the normal tilt. Off by default;
- optional within-party faction shares by Congress (``model.faction_shares = "congress"``): a non-centred walk of
  each faction's log share ratio to its party's first faction, one Gamma(2) step scale, renormalised within the
  party. Measured (2026-11-30, 4 x 1000 draws after 1500 tuning): seed 2000 max R-hat 1.007, ESS 628 / 1022; seeds
  1-3 max R-hat 1.0053 / 1.0082 / 1.0066, bulk ESS 666 / 593 / 643, no divergences; sampling 103-112 s, less than
  the static shares' 124-153 s. Off by default (docs/model_layers.md "Faction shares by Congress": its backtest);
- probabilities of interval and whip rows are built for each row subset (``int_probs``): indexing
  one shared probability vector by subsets made PyTensor's rewriting of the gradient run for
  minutes (measured: more than 10 minutes against 12-20 s).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_coalition.coalition import agenda, buying, expectation, likelihood, rules
from bayes_coalition.coalition.model_data import GROUPS, ModelData, dispersion_index
from bayes_coalition.coalition.spec import party_tilt_df, shares_by_congress
from bayes_coalition.coalition.vote_model import (
    EPS,
    case_row_probability,
    party_probabilities,
    share_arguments,
    slot_probabilities,
)
from bayes_coalition.constants import CHAMBERS
from bayes_coalition.data.dataset import CONSTRUCTS


def latent_pairs(md: ModelData) -> list[tuple[int, int]]:
    """(episode, construct) pairs with coded evidence, in a fixed order."""
    return [tuple(map(int, p)) for p in np.argwhere(md.construct_observed)]


def _split_spread(total: str, share: str, parts: tuple[str, str], sds: tuple[float, float]):
    """Two hierarchical sds written as one total spread ``total ~ Gamma(4, mean sqrt(sd_a^2 + sd_b^2))`` split by
    ``share ~ Beta(2, 2)``: ``parts`` = (total sqrt(share), total sqrt(1 - share)) as deterministics. Used where the
    data identify the sum of two levels' variances far better than the split (module doc: the cut-point's
    episode and vote levels, the tilt's walk step and vote level)."""
    prior_mean = float(np.hypot(*sds))
    tau = pm.Gamma(total, alpha=4.0, beta=4.0 / prior_mean)
    rho = pm.Beta(share, 2.0, 2.0)
    return (pm.Deterministic(parts[0], tau * pt.sqrt(rho)), pm.Deterministic(parts[1], tau * pt.sqrt(1.0 - rho)))


def _random_walk(name: str, pr: dict, congresses: list, model: pm.Model, sigma):
    """A Gaussian random walk over consecutive Congresses, non-centred: a start ~ N(0, party_tilt_sd)
    and steps sigma * z (``sigma`` the step's sd, a tensor). A Congress without votes sits between its
    neighbours, so a new vote borrows from the nearest Congresses."""
    start = pm.Normal(f"{name}_start", 0.0, pr["party_tilt_sd"])
    if len(congresses) < 2:
        return pm.Deterministic(name, start[None], dims="congress")
    model.add_coord("congress_step", congresses[1:])
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims="congress_step")
    return pm.Deterministic(name, start + pt.concatenate([pt.zeros(1), pt.cumsum(sigma * z)]), dims="congress")


def _rd_parts(md: ModelData, rows, case_idx, n, mix_idx, probs, phi):
    """(n_r, n_d, p_r, p_d, phi_r, phi_d) of count rows of both parties together: the group sizes from the
    composition (md.mix_n_r), each party's probability and over-dispersion."""
    cases = case_idx[rows]
    n_r = md.mix_n_r[mix_idx[rows]]
    n_d = n[rows] - n_r
    none = np.full(len(rows), -1)
    p_r = probs(cases, np.full(len(rows), GROUPS.index("R")), none)
    p_d = probs(cases, np.full(len(rows), GROUPS.index("D")), none)
    chamber = md.case_chamber_idx[cases]
    phi_r = phi[dispersion_index(chamber, np.full(len(rows), 0))]
    phi_d = phi[dispersion_index(chamber, np.full(len(rows), 1))]
    return n_r, n_d, p_r, p_d, phi_r, phi_d


def _faction_share_walk(md: ModelData, pr: dict, model: pm.Model, share):
    """Within-party faction shares by Congress (``model.faction_shares = "congress"``), ``(congress, faction)``: in
    the first Congress the static shares ``share`` (the Dirichlet), after it each faction's log share ratio to its
    party's first faction walks, non-centred, with steps ``faction_share_step * z``, ``faction_share_step ~
    Gamma(2, mean faction_share_walk_sd)`` (one scale for every faction), and the shares are renormalised within
    the party. A one-faction party keeps share 1; a one-Congress model has no steps."""
    congresses = md.coords["congress"]
    n_f = len(md.coords["faction"])
    walking = [i for party in ("R", "D") for i in np.flatnonzero(md.faction_party == party)[1:]]
    if len(congresses) < 2 or not walking:
        return pm.Deterministic("faction_share_congress", pt.repeat(share[None, :], len(congresses), axis=0),
                                dims=("congress", "faction"))
    model.add_coord("congress_step", congresses[1:])        # the tilt's walk adds the same coordinate
    model.add_coord("walking_faction", [md.coords["faction"][i] for i in walking])
    mean = pr["faction_share_walk_sd"]
    step = pm.Gamma("faction_share_step", alpha=2.0, beta=2.0 / mean)
    z = pm.Normal("faction_share_z", 0.0, 1.0, dims=("congress_step", "walking_faction"))
    walk = pt.concatenate([pt.zeros((1, len(walking))), pt.cumsum(step * z, axis=0)], axis=0)   # (congress, walking)
    # elementwise products with constant indicator matrices, not set_subtensor on slices: the deterministics are
    # later vectorised over draws (draws.py), which PyTensor cannot do for a slice index
    select = np.zeros((len(walking), n_f))
    select[np.arange(len(walking)), walking] = 1.0
    log_ratio = pt.sum(walk[:, :, None] * select[None, :, :], axis=1)                          # (congress, faction)
    weight = share[None, :] * pt.exp(log_ratio)
    groups = [np.flatnonzero(md.faction_party == p) for p in ("R", "D")]
    groups += [np.array([i]) for i in range(n_f) if md.faction_party[i] not in ("R", "D")]
    member = np.zeros((n_f, len(groups)))
    for g, idx in enumerate(groups):
        member[idx, g] = 1.0
    group_total = pt.sum(weight[:, :, None] * member[None, :, :], axis=1)                      # (congress, group)
    total = pt.sum(group_total[:, None, :] * member[None, :, :], axis=2)                       # (congress, faction)
    return pm.Deterministic("faction_share_congress", weight / total, dims=("congress", "faction"))


def floor_rows(md: ModelData, cases: np.ndarray) -> dict:
    """The count rows of some votes, gathered per vote into four slots (R, D, I, RD) for the agenda-control
    layer: ``n`` (vote, slot) the members in each (0 where the vote has no such row), ``share`` the Republican
    share of its RD row, ``dispersion_idx`` each slot's over-dispersion parameter; per vote the number voting
    ``n_case``, the yeas its threshold rule needs and, for votes counted in point rows, the observed total.
    A vote with two rows of one group (none in the shipped data) is an error: its slots would be ambiguous."""
    n = np.zeros((len(cases), len(GROUPS)))
    share = np.full(len(cases), 0.5)
    y_case = np.zeros(len(cases))
    for j, c in enumerate(cases):
        o = np.flatnonzero(md.obs_case_idx == c)
        i = np.flatnonzero(md.int_case_idx == c)
        groups = np.concatenate([md.obs_group_idx[o], md.int_group_idx[i]])
        if len(set(groups.tolist())) < len(groups):
            raise ValueError(f"case {md.coords['case'][c]}: two count rows of one voter group; agenda control needs "
                             "at most one row per group (R, D, I, RD)")
        n[j, groups] = np.concatenate([md.obs_n[o], md.int_n[i]])
        mix = np.concatenate([md.mix_obs_idx[o], md.mix_int_idx[i]])
        if (mix >= 0).any():
            share[j] = md.mix_share[mix[mix >= 0][0]]
        y_case[j] = md.obs_yea[o].sum()
    n_case = n.sum(axis=1)
    chamber_idx = md.case_chamber_idx[cases]
    thr = rules.votes_needed(md.case_threshold[cases], np.asarray(["House", "Senate"])[chamber_idx],
                             n_case.astype(int)).astype(float)
    slots = np.arange(len(GROUPS))
    return {"n": n, "share": share, "dispersion_idx": dispersion_index(chamber_idx[:, None], slots[None, :]),
            "n_case": n_case, "threshold": thr, "yea_case": y_case,
            "first_obs": np.array([np.flatnonzero(md.obs_case_idx == c)[0] if (md.obs_case_idx == c).any() else -1 for c in cases]),
            "first_int": np.array([np.flatnonzero(md.int_case_idx == c)[0] if (md.int_case_idx == c).any() else -1 for c in cases])}


def _agenda_control(md: ModelData, pr: dict, *, cut_mean, sigma_case, tilt_mean, sigma_tilt, faction_pos, share, share_c,
                    mix, disc, phi, w_obs, w_int, weigh, observed=lambda name, value: value) -> None:
    """The agenda-control layer (coalition/agenda.py): ``agenda_bar`` (the cushion, a share of those voting),
    ``agenda_scale`` (the whips' error, a share) and ``agenda_leak`` (P(held whatever the count)); held votes
    add log pi(y_obs) - log Z, withdrawn measures log(1 - Z), Z integrated over the vote's cut-point and tilt
    deviations by Gauss-Hermite quadrature (a Student-t tilt: given each vote's mixture scale, so Z is
    P(held) for a vote of that scale).

    The factions' curves are evaluated once per (node, vote) and the count's moments summed over the vote's
    four group slots (R, D, I and RD rows: ``floor_rows``), all elementwise: the layer's gradient is the
    model's most expensive term. Measured per gradient (PyTensor C backend): 0.41-0.66 ms without the layer;
    with 13 x 5 nodes 2.9 ms when evaluated per count row and mapped to votes by a matrix product (1.2 ms of it
    fixed cost), 3.1 ms per vote in slots (1.0 ms with 7 x 3 nodes, 0.8 ms with one): the nodes' work is real
    compute (profiled: the fused elementwise loops over (node, vote, faction)), about 0.035 ms a node."""
    held = np.flatnonzero(md.case_floor == rules.HELD)
    withdrawn = np.flatnonzero(md.case_floor == rules.WITHDRAWN)
    cases = np.concatenate([held, withdrawn])
    if not len(cases):
        return
    bar = pm.Normal("agenda_bar", 0.0, pr["agenda_bar_sd"])
    scale = pm.LogNormal("agenda_scale", np.log(pr["agenda_scale_median"]), pr["agenda_scale_log_sd"])
    leak = agenda.leak_variable(pr)
    fr = floor_rows(md, cases)
    node_cut, node_tilt, node_w = agenda.product_nodes()
    cut_k = cut_mean[cases][None, :] + sigma_case * node_cut[:, None]           # (K, vote)
    # sigma_tilt: the tilt deviation's sd, one for all votes, or per vote (a Student-t tilt's mixture scale)
    sigma_tilt = sigma_tilt[cases][None, :] if sigma_tilt.ndim == 1 else sigma_tilt
    tilt_k = tilt_mean[cases][None, :] + sigma_tilt * node_tilt[:, None]
    p_r, p_d, p_i = party_probabilities(pt, faction_position=faction_pos, cut_point=cut_k, party_tilt=tilt_k,
                                        faction_party=md.faction_party, discrimination=disc[md.case_disc_idx[cases]],
                                        **share_arguments(md, cases, share, share_c))
    p = slot_probabilities(pt, p_r, p_d, p_i, share=fr["share"], polarity=md.case_polarity[cases])   # (K, vote, slot)
    p = pt.clip(p, EPS, 1.0 - EPS)
    n, phi_s = fr["n"], phi[fr["dispersion_idx"]]
    mean = pt.sum(n * p, axis=-1)
    var = pt.sum(n * p * (1.0 - p) * (n + phi_s) / (1.0 + phi_s), axis=-1)
    z = pt.dot(node_w, agenda.floor_probability(pt, mean, var, fr["threshold"], fr["n_case"], bar, scale, leak))
    pm.Deterministic("agenda_floor_probability", z)
    nh = len(held)
    if nh:
        # the held votes' observed totals (data under SBC: validation/sbc.py draws them given that they are held)
        yea_held = observed("agenda_yea_data", fr["yea_case"][:nh])
        log_pi = pt.log(agenda.floor_given_count(pt, yea_held, fr["threshold"][:nh], fr["n_case"][:nh],
                                                 bar, scale, leak))
        pm.Potential("agenda_held", weigh(w_obs, fr["first_obs"][:nh], log_pi - pt.log(z[:nh])).sum())
    if len(withdrawn):
        pm.Potential("agenda_withdrawn", weigh(w_int, fr["first_int"][nh:], pt.log1p(-z[nh:])).sum())


def _floor_expectation(md: ModelData, pr: dict, *, cut, tilt, faction_pos, share, share_c, disc, w_exp, weigh,
                       observed=lambda name, value: value) -> None:
    """The pre-vote floor expectations (coalition/expectation.py): each coded vote's level, ordered logistic in
    ``expectation_slope`` times its expected margin (percentage points of those voting) at its own cut-point and
    tilt, with cut-points ``expectation_cuts`` (first N(-1, indicator_cut_sd) + a LogNormal(log 2, 0.5) gap)."""
    cases = md.expect_case_idx
    slope = pm.LogNormal("expectation_slope", np.log(pr["expectation_slope_median"]), pr["expectation_slope_log_sd"])
    first = pm.Normal("expectation_first_cut", -1.0, pr["indicator_cut_sd"])
    gap = pm.LogNormal("expectation_cut_gap", np.log(2.0), 0.5)
    cuts = pm.Deterministic("expectation_cuts", pt.stack([first, first + gap]))
    if not len(cases):
        return
    fr = floor_rows(md, cases)
    p_r, p_d, p_i = party_probabilities(pt, faction_position=faction_pos, cut_point=cut[cases],
                                        party_tilt=tilt[cases], faction_party=md.faction_party,
                                        **share_arguments(md, cases, share, share_c),
                                        discrimination=disc[md.case_disc_idx[cases]])
    p = slot_probabilities(pt, p_r, p_d, p_i, share=fr["share"], polarity=md.case_polarity[cases])   # (vote, slot)
    mean = pt.sum(fr["n"] * p, axis=-1)
    eta = expectation.linear_predictor(slope, mean, fr["threshold"], fr["n_case"])
    lp = expectation.level_log_probability(pt, observed("expectation_level_data", md.expect_level), eta, cuts)
    pm.Potential("floor_expectation", weigh(w_exp, slice(None), lp).sum())


def party_rows_of(md: ModelData, cases: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The point row of the Republicans and of the Democrats of each vote (the rows the vote-buying layer buys
    from). A vote without exactly one of each (a chamber total without its party split) is an error: the layer
    needs the split to say which members were bought."""
    out = np.full((len(cases), 2), -1)
    for j, c in enumerate(cases):
        for g, party in enumerate(("R", "D")):
            rows = np.flatnonzero((md.obs_case_idx == c) & (md.obs_group_idx == GROUPS.index(party)))
            if len(rows) != 1:
                raise ValueError(f"case {md.coords['case'][c]}: vote buying needs one {party} count row of each "
                                 f"leadership-controlled vote (found {len(rows)}); give its party split or switch "
                                 "model.vote_buying off")
            out[j, g] = rows[0]
    return out[:, 0], out[:, 1]


def _vote_buying(md: ModelData, pr: dict, *, probs, phi, w_obs, weigh) -> None:
    """The vote-buying layer (coalition/buying.py): ``buying_prob`` (P(a one-vote gap is closed)) and
    ``buying_reach`` (the gap, a share of those voting, over which it falls by e). Each leadership-controlled
    pro-trade vote with an observed count adds: 0 above its threshold, ``log(1 - b(t - y))`` below it, and exactly
    at it the log of the mixture over the natural party rows before buying (buying.log_factor_at_threshold), with
    the rows' own beta-binomial pmf at the shifted counts, given the vote's cut-point and tilt."""
    held = np.flatnonzero(md.case_floor == rules.HELD)
    if not len(held):
        return
    prob = pm.Beta("buying_prob", pr["buying_prob_alpha"], pr["buying_prob_beta"])
    reach = pm.LogNormal("buying_reach", np.log(pr["buying_reach_median"]), pr["buying_reach_log_sd"])
    fr = floor_rows(md, held)
    y, t, n = fr["yea_case"], fr["threshold"], fr["n_case"]
    row_r, row_d = party_rows_of(md, held)
    party_nays = md.obs_n[row_r] + md.obs_n[row_d] - md.obs_yea[row_r] - md.obs_yea[row_d]
    below = np.flatnonzero(y < t)
    if len(below):
        short = t[below] - y[below]
        b = buying.close_probability(pt, short, n[below], prob, reach) * (short <= party_nays[below])
        pm.Potential("vote_buying_below_threshold", weigh(w_obs, fr["first_obs"][below], pt.log1p(-b)).sum())
    at = np.flatnonzero(y == t)
    if len(at):
        rr, rd = row_r[at], row_d[at]
        grid = buying.split_grid(md.obs_yea[rr], md.obs_n[rr], md.obs_yea[rd], md.obs_n[rd], n[at])
        lps = []
        for rows in (rr, rd):
            # each row's probability built for this subset (indexing a shared vector slowed compilation: module doc)
            p, ph = probs(md.obs_case_idx[rows], md.obs_group_idx[rows], md.mix_obs_idx[rows]), phi[md.obs_dispersion_idx[rows]]
            counts = buying.shifted_counts(md.obs_yea[rows], md.obs_n[rows], grid["k"])
            lps.append(likelihood._bb_logp(md.obs_n[rows][:, None], p[:, None], ph[:, None], counts))
        lp = buying.log_factor_at_threshold(pt, lps[0], lps[1], grid, prob, reach)
        pm.Potential("vote_buying_at_threshold", weigh(w_obs, fr["first_obs"][at], lp).sum())


def build_pymc_model(md: ModelData, spec: dict, *, mutable_data: bool = False, weighted: bool = False) -> pm.Model:
    """The PyMC model.  ``mutable_data=True`` holds the observations (point counts, interval
    bounds, indicator codes) in ``pm.Data`` so one compiled model can be refitted to new
    data (simulation-based calibration); the graph is otherwise identical.

    ``weighted=True`` multiplies each likelihood row's log density by a weight held in ``pm.Data``
    (``obs_weight``, ``interval_weight``, ``code_weight``; 1 by default): a weight of 0 takes a row
    out of the fit, so one compiled model serves every origin of a backtest (a row left out leaves
    its case's parameters at their prior given the hyper-parameters, which is what a fit without
    that case would predict for it).  The likelihood then enters as potentials (no observed
    variables: no log-likelihood group, no posterior predictive from PyMC)."""
    pr = spec["priors"]

    def observed(name, value, dims=None):
        return pm.Data(name, value, dims=dims) if mutable_data else value

    def weights(name, n):
        return pm.Data(name, np.ones(n)) if weighted else None

    def weigh(w, rows, lp):
        """Row log densities ``lp`` of rows ``rows`` (NumPy indices or a slice) times their weights; a row of weight
        0 adds exactly 0, even where its density is 0 (``0 * -inf`` would be NaN)."""
        return lp if w is None else pt.switch(pt.gt(w[rows], 0), w[rows] * lp, 0.0)

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
        share_c = _faction_share_walk(md, pr, model, share) if shares_by_congress(spec) else None
        mix = pt.as_tensor(md.mix_share) if md.n_mix else None

        # --- case cut-points
        mu = pm.Normal("cut_point_mean", 0.0, pr["cut_point_mean_sd"])
        chamber = pm.ZeroSumNormal("chamber_offset", sigma=pr["chamber_sd"], dims="chamber")
        vtype = (
            pm.ZeroSumNormal("vote_type_offset", sigma=pr["vote_type_sd"], dims="vote_type")
            if len(md.coords["vote_type"]) > 1
            else pt.zeros(1)
        )
        divided = pm.Normal("divided_government", 0.0, pr["covariate_sd"])
        # the cut-point deviation not explained by chamber, vote type and constructs has a total
        # spread tau (identified by the data) split between episode and vote by a share rho
        # (weakly identified: most episodes hold one to three votes). Separate Gamma(2) scales
        # for the two levels sampled with R-hat up to 1.012 at ESS ~500; tau/rho with a
        # boundary-avoiding Gamma(4) on tau (its lower tail sat in the non-centred funnel:
        # tail ESS 295 with Gamma(2)) gave R-hat 1.0066 / 1.0070 on two seeds.
        sigma_episode, sigma_case = _split_spread("sigma_total", "episode_share", ("sigma_episode", "sigma_case"),
                                                  (pr["case_sd"], pr["episode_sd"]))
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
            + divided * md.case_divided
            - approval_shift[md.case_episode_idx]
        )
        covariates = list(spec["model"].get("covariates", []))
        if "election_year" in covariates:
            # a vote in the year of a general election: members avoid a hard trade vote (cut-point up if > 0)
            cut_mean = cut_mean + pm.Normal("election_year", 0.0, pr["covariate_sd"]) * md.case_election_year
        case_z = pm.Normal("case_z", 0.0, 1.0, dims="case")
        cut = pm.Deterministic("cut_point", cut_mean + sigma_case * case_z, dims="case")

        # --- the party tilt: a random walk over Congresses shared by both chambers, the President's
        # co-partisans moving toward the motion (a Republican President lowers the Republicans'
        # cut-point by `president_tilt`, a Democratic one the Democrats'), and a vote-level deviation
        # the tilt's variation not explained by the covariates: one total spread split between the walk's step
        # (Congress to Congress) and the vote's own deviation (model 0.3.1; module doc). Separate priors (step
        # Gamma(2), vote HalfNormal) left the step's sd with the model's lowest ESS (bulk / tail 468 / 777,
        # 303 / 316, 450 / 454 on seeds 1-3, 4 x 1000 draws). Always both: a one-Congress model has no walk, and
        # its predictions for later Congresses step with the posterior of total x sqrt(share).
        sigma_step, sigma_tilt = _split_spread("sigma_tilt_total", "tilt_walk_share",
                                               ("sigma_congress_tilt_step", "sigma_party_tilt"),
                                               (pr["tilt_walk_sd"], pr["case_tilt_sd"]))
        congress_tilt = _random_walk("congress_tilt", pr, md.coords["congress"], model, sigma_step)
        pres = pm.Normal("president_tilt", 0.0, pr["covariate_sd"])
        tilt_z = pm.Normal("party_tilt_z", 0.0, 1.0, dims="case")
        # the vote's deviation around its Congress: normal, or (model.party_tilt = "student_t") Student-t with
        # party_tilt_df degrees of freedom, written as a scale mixture of normals so that it stays non-centred and
        # the agenda layer's quadrature stays Gauss-Hermite given each vote's scale sigma / sqrt(precision)
        # (docs/model_layers.md "Heavy-tailed party tilt": why, and its measured effect)
        df = party_tilt_df(spec)
        if df is None:
            tilt_scale = sigma_tilt
        else:
            precision = pm.Gamma("party_tilt_precision", alpha=df / 2.0, beta=df / 2.0, dims="case")
            tilt_scale = pm.Deterministic("party_tilt_scale", sigma_tilt / pt.sqrt(precision), dims="case")
        tilt_mean = congress_tilt[md.case_congress_idx] - pres * md.case_president_sign
        if "party_gap" in covariates:
            # polarization: the distance between the parties' DW-NOMINATE means (previous Congress; rules.party_gap)
            if np.isnan(md.case_party_gap).any():
                missing = [c for c, g in zip(md.coords["case"], md.case_party_gap) if np.isnan(g)]
                raise ValueError(f"model.covariates has party_gap, but covariates.csv gives no party gap for the "
                                 f"Congress and chamber of {missing[:5]} (the table is absent or lacks them)")
            tilt_mean = tilt_mean + pm.Normal("party_gap_tilt", 0.0, pr["covariate_sd"]) * md.case_party_gap
        if "chamber_majority" in covariates:
            # the chamber's majority party moves toward the motion, as the President's co-partisans do: its leaders
            # bring a trade bill to the floor once it suits their members (Cox and McCubbins' agenda cartel; the
            # Democratic majorities of 2007 and 2019 took up agreements renegotiated on labour standards). Varies
            # within a Congress where the chambers differ (107th after June 2001, 112th-113th, 116th)
            majority_tilt = pm.Normal("majority_tilt", 0.0, pr["covariate_sd"])
            tilt_mean = tilt_mean - majority_tilt * md.case_majority_sign
        if "house_tilt" in covariates:
            # the House moves the parties apart on trade more than the Senate does (its majority whips the vote; the
            # Senate's rules need cross-party votes): house_tilt > 0 moves House Republicans toward the motion and
            # House Democrats away from it, relative to the Senate in the same Congress (rules.house_sign, centred)
            house = np.array([rules.house_sign(CHAMBERS[i]) for i in md.case_chamber_idx])
            tilt_mean = tilt_mean - pm.Normal("house_tilt", 0.0, pr["covariate_sd"]) * house
        tilt = pm.Deterministic("party_tilt", tilt_mean + tilt_scale * tilt_z, dims="case")

        # --- discrimination per vote type: the spec's value for final passage (it fixes the scale),
        # the other types' relative to it on the log scale
        n_disc = len(md.coords["discrimination_type"])
        if n_disc > 1:
            model.add_coord("relative_discrimination_type", md.coords["discrimination_type"][1:])
            log_rel = pm.Normal("log_relative_discrimination", 0.0, pr["discrimination_log_sd"],
                                dims="relative_discrimination_type")
            disc = pm.Deterministic("discrimination", gamma * pt.exp(pt.concatenate([pt.zeros(1), log_rel])),
                                    dims="discrimination_type")
        else:
            disc = pt.as_tensor(np.full(max(n_disc, 1), gamma))
        phi = pm.LogNormal("concentration", pr["overdispersion_log_mean"], pr["overdispersion_log_sd"], dims="dispersion")

        def probs(case_idx, group_idx, mix_idx):
            return case_row_probability(
                pt, cut_point=cut, party_tilt=tilt, md=md, case_idx=case_idx, group_idx=group_idx, mix_idx=mix_idx,
                faction_position=faction_pos, faction_share=share, faction_share_congress=share_c, mix_share=mix,
                discrimination=disc,
            )

        # --- point observations: beta-binomial (members of a faction are not exchangeable)
        obs_yea = observed("obs_yea", md.obs_yea, "obs")
        p_obs = probs(md.obs_case_idx, md.obs_group_idx, md.mix_obs_idx)
        phi_obs = phi[md.obs_dispersion_idx]
        w_obs, w_int = weights("obs_weight", len(md.obs_n)), weights("interval_weight", len(md.int_n))
        if weighted:
            lp_obs = pm.logp(pm.BetaBinomial.dist(n=md.obs_n, alpha=p_obs * phi_obs, beta=(1 - p_obs) * phi_obs), obs_yea)
            pm.Potential("yea", weigh(w_obs, slice(None), lp_obs).sum())
        else:
            pm.BetaBinomial("yea", n=md.obs_n, alpha=p_obs * phi_obs, beta=(1 - p_obs) * phi_obs, observed=obs_yea, dims="obs")
        rd_obs = np.flatnonzero(md.mix_obs_idx >= 0)
        if len(rd_obs):
            # a count of both parties together is the sum of two party counts whose sizes the composition
            # gives; `yea` scored it as one beta-binomial at the mean probability: replace that by the sum
            parts = _rd_parts(md, rd_obs, md.obs_case_idx, md.obs_n, md.mix_obs_idx, probs, phi)
            y = obs_yea[rd_obs]
            exact = likelihood.sum_logp(*parts, y, y, 1)
            # (probabilities built for the subset: indexing p_obs made the gradient's compilation take minutes)
            p_rd = probs(md.obs_case_idx[rd_obs], md.obs_group_idx[rd_obs], md.mix_obs_idx[rd_obs])
            phi_rd = phi[md.obs_dispersion_idx[rd_obs]]
            approx = pm.logp(pm.BetaBinomial.dist(n=md.obs_n[rd_obs], alpha=p_rd * phi_rd, beta=(1 - p_rd) * phi_rd), y)
            pm.Potential("yea_two_party_sum", weigh(w_obs, rd_obs, exact - approx).sum())

        # --- interval observations: log P(lower <= yea <= upper); whip counts: a measurement
        hard = np.flatnonzero(~md.int_whip | (spec["model"]["whip_count"] == "interval"))
        whip = np.setdiff1d(np.arange(len(md.int_case_idx)), hard)
        def int_probs(rows):
            """Yea probability and over-dispersion of some interval rows (built per subset)."""
            return (probs(md.int_case_idx[rows], md.int_group_idx[rows], md.mix_int_idx[rows]),
                    phi[md.int_dispersion_idx[rows]])
        # bounds: NumPy constants unless the data are mutable (SBC); constant bounds keep the grids'
        # masks constant, which the gradient's compilation needs (symbolic masks took minutes)
        def bounds(name, rows, dtype):
            lo, hi = md.int_lower[rows].astype(dtype), md.int_upper[rows].astype(dtype)
            return (observed(f"{name}_lower", lo), observed(f"{name}_upper", hi)) if len(rows) else (lo, hi)

        terms = []
        single = hard[md.mix_int_idx[hard] < 0]
        both = np.flatnonzero(md.mix_int_idx >= 0)   # every two-party interval, a whip count of both too
        if len(single):
            width = int((md.int_upper[single] - md.int_lower[single]).max()) + 1
            lo, hi = bounds("interval", single, "int64")
            terms.append(weigh(w_int, single, likelihood.interval_logp_data(md.int_n[single], *int_probs(single), lo, hi, width)))
        if len(both):   # a total of both parties (a whip count of both is read as a hard interval)
            width = int((md.int_upper[both] - md.int_lower[both]).max()) + 1
            parts = _rd_parts(md, both, md.int_case_idx, md.int_n, md.mix_int_idx, probs, phi)
            lo, hi = bounds("interval_two_party", both, "int64")
            terms.append(weigh(w_int, both, likelihood.sum_logp(*parts, lo, hi, width)))
        if len(terms):
            pm.Potential("interval_yea", pt.concatenate(terms).sum())
        whip = whip[md.mix_int_idx[whip] < 0]
        if len(whip):
            bias = pm.Normal("whip_bias", 0.0, pr["whip_bias_sd"])
            error = pm.LogNormal("whip_error", np.log(pr["whip_error_median"]), pr["whip_error_log_sd"])
            lo, hi = bounds("whip", whip, "float64")
            pm.Potential("whip_count", weigh(w_int, whip, likelihood.whip_logp(md.int_n[whip], *int_probs(whip), lo, hi, bias, error)).sum())

        # --- agenda control: held votes conditional on being held, withdrawn measures as events
        if spec["model"]["agenda_control"]:
            _agenda_control(md, pr, cut_mean=cut_mean, sigma_case=sigma_case, tilt_mean=tilt_mean, sigma_tilt=tilt_scale,
                            faction_pos=faction_pos, share=share, share_c=share_c, mix=mix, disc=disc, phi=phi,
                            w_obs=w_obs, w_int=w_int, weigh=weigh, observed=observed)

        # --- vote buying near the threshold (coalition/buying.py)
        if spec["model"]["vote_buying"]:
            if mutable_data:
                raise NotImplementedError("simulation-based calibration of the full model with the vote-buying layer is "
                                          "not implemented: its observed totals enter as constants (`sbc --buying-layer` "
                                          "calibrates the layer's parameters)")
            _vote_buying(md, pr, probs=probs, phi=phi, w_obs=w_obs, weigh=weigh)

        # --- pre-vote floor expectations: a measurement of each coded vote's margin (coalition/expectation.py)
        if spec["model"].get("floor_expectation", False):
            _floor_expectation(md, pr, cut=cut, tilt=tilt, faction_pos=faction_pos, share=share, share_c=share_c, disc=disc,
                               w_exp=weights("expectation_weight", len(md.expect_case_idx)), weigh=weigh, observed=observed)

        # --- measurement model of the coded indicators
        w_code = weights("code_weight", len(md.code_item_idx))
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
                levels = observed(f"code_{n_levels}_levels_data", md.code_level[sel])
                if weighted:
                    lp_code = pm.logp(pm.OrderedLogistic.dist(eta=eta, cutpoints=cuts[local]), levels)
                    pm.Potential(f"code_{n_levels}_levels", weigh(w_code, sel, lp_code).sum())
                else:
                    pm.OrderedLogistic(f"code_{n_levels}_levels", eta=eta, cutpoints=cuts[local], observed=levels)
    return model
