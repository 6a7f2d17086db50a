"""Posterior (and prior) predictive simulation of yea counts and approval, in NumPy on stored draws.

Uses :func:`bayes_coalition.coalition.vote_model.yea_probability`, the function the PyMC model
is built from, so simulation and likelihood agree.  No PyTensor compilation: a
saved run predicts in milliseconds.  Every function takes an int seed or a
``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition.coalition import agenda, buying, rules
from bayes_coalition.coalition.model_data import ModelData, dispersion_index
from bayes_coalition.coalition.vote_model import case_row_probability
from bayes_coalition.constants import CHAMBERS, MINIMUM_WINNING_MARGIN, PREDICTIVE_PROB

DECISIVE_PRIORITY = {"final_passage": 0, "disapproval": 0, "whip_estimate": 0, "cloture": 1, "procedural": 2}


def draws_of(group: xr.Dataset, name: str) -> np.ndarray | None:
    """A variable's draws flattened over (chain, draw) -> (sample, ...)."""
    if name not in group:
        return None
    v = group[name]
    return v.values.reshape((-1,) + v.shape[2:])


def draw_arrays(group: xr.Dataset, md: ModelData, discrimination: float = 2.0) -> dict:
    """The draws the vote model needs, (sample, ...); ``discrimination`` is the spec's value, used
    when the model has one vote type (no ``discrimination`` variable)."""
    ideal = draws_of(group, "ideal_point")
    disc = draws_of(group, "discrimination")
    if disc is None:
        disc = np.full((ideal.shape[0], max(len(md.coords["discrimination_type"]), 1)), float(discrimination))
    return {
        "ideal_point": ideal,
        "faction_position": ideal[:, md.faction_actor_idx],
        "faction_share": draws_of(group, "faction_share"),
        # (sample, congress, faction) where the model's faction shares walk over Congresses; None when static
        "faction_share_congress": draws_of(group, "faction_share_congress"),
        "cut_point": draws_of(group, "cut_point"),
        "party_tilt": draws_of(group, "party_tilt"),
        "concentration": draws_of(group, "concentration"),
        "discrimination": disc,
        "mix_share": np.broadcast_to(md.mix_share, (ideal.shape[0], md.n_mix)),
        # the agenda-control layer's parameters (None when the spec switched it off)
        "agenda_bar": draws_of(group, "agenda_bar"),
        "agenda_scale": draws_of(group, "agenda_scale"),
        "agenda_leak": draws_of(group, "agenda_leak"),
        # the vote-buying layer's (None when off)
        "buying_prob": draws_of(group, "buying_prob"),
        "buying_reach": draws_of(group, "buying_reach"),
    }


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def beta_binomial(rng, n, p, phi):
    """Draw BetaBinomial(n, p*phi, (1-p)*phi) with broadcasting."""
    q = rng.beta(p * phi, (1.0 - p) * phi)
    return rng.binomial(n, q)


def row_probabilities(arrays: dict, md: ModelData, *, interval: bool, group_idx=None, mix_idx=None) -> np.ndarray:
    """Yea probability of the point (or interval) rows per draw; ``group_idx``/``mix_idx`` override the
    rows' own groups (the party parts of a two-party row)."""
    case_idx = md.int_case_idx if interval else md.obs_case_idx
    group_idx = (md.int_group_idx if interval else md.obs_group_idx) if group_idx is None else group_idx
    mix_idx = (md.mix_int_idx if interval else md.mix_obs_idx) if mix_idx is None else mix_idx
    return case_row_probability(
        np, cut_point=arrays["cut_point"], party_tilt=arrays["party_tilt"], md=md, case_idx=case_idx,
        group_idx=group_idx, mix_idx=mix_idx, faction_position=arrays["faction_position"],
        faction_share=arrays["faction_share"], faction_share_congress=arrays.get("faction_share_congress"),
        mix_share=arrays["mix_share"], discrimination=arrays["discrimination"],
    )


def _row_probability_set(arrays: dict, md: ModelData, *, interval: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """The yea probabilities :func:`_simulate_rows` draws from: of every point (or interval) row, and of the
    Republican and Democratic parts of its two-party rows (empty when it has none)."""
    group_idx = md.int_group_idx if interval else md.obs_group_idx
    mix_idx = md.mix_int_idx if interval else md.mix_obs_idx
    p = row_probabilities(arrays, md, interval=interval)
    rd = np.flatnonzero(mix_idx >= 0)
    none = np.full(len(group_idx), -1)
    parties = [row_probabilities(arrays, md, interval=interval, group_idx=np.full(len(group_idx), party),
                                 mix_idx=none)[:, rd] for party in (0, 1)] if len(rd) else []
    return p, parties


def row_probability_sets(arrays: dict, md: ModelData) -> dict:
    """Every yea probability :func:`simulate` draws from, computed once: ``simulate(..., probabilities=)`` takes
    them, so repeated simulations from the same draws (rejection sampling: :func:`held_case_totals`) compute them
    once. They depend on the draws only, never on the random numbers, so the draws are the same either way."""
    return {"obs": _row_probability_set(arrays, md, interval=False), "int": _row_probability_set(arrays, md, interval=True)}


def _simulate_rows(rng, arrays: dict, md: ModelData, *, interval: bool, probabilities=None):
    """Yea counts of the point (or interval) rows: beta-binomial per row; a two-party row is the sum of
    its Republican and Democratic counts (sizes from the composition), as in the likelihood.
    ``probabilities``: :func:`_row_probability_set`'s result for these draws, when already computed."""
    n = md.int_n if interval else md.obs_n
    case_idx = md.int_case_idx if interval else md.obs_case_idx
    mix_idx = md.mix_int_idx if interval else md.mix_obs_idx
    disp = md.int_dispersion_idx if interval else md.obs_dispersion_idx
    phi = arrays["concentration"]
    p, parties = probabilities if probabilities is not None else _row_probability_set(arrays, md, interval=interval)
    y = beta_binomial(rng, n, p, phi[:, disp])
    rd = np.flatnonzero(mix_idx >= 0)
    if len(rd):
        chamber = md.case_chamber_idx[case_idx[rd]]
        n_r = md.mix_n_r[mix_idx[rd]]
        parts = []
        for party, size in ((0, n_r), (1, n[rd] - n_r)):
            parts.append(beta_binomial(rng, size, parties[party], phi[:, dispersion_index(chamber, np.full(len(rd), party))]))
        y[:, rd] = parts[0] + parts[1]
    return y, p


def bought_rows(rng, y_obs: np.ndarray, arrays: dict, md: ModelData) -> np.ndarray:
    """Point-row counts after vote buying (coalition/buying.py): each leadership-controlled vote counted in point
    rows whose replicate falls 1 to max_shortfall yeas short is bought up to its threshold with probability b(d),
    the yeas drawn from its party rows' nays (independents are not bought, as in the likelihood). Votes outside
    the layer's scope keep their natural counts."""
    y_obs = y_obs.copy()
    for c in np.flatnonzero(md.case_floor == rules.HELD):       # HELD: counted in point rows (model_data)
        rows = np.flatnonzero(md.obs_case_idx == c)
        n = md.obs_n[rows]
        thr = rules.votes_needed(md.case_threshold[c], CHAMBERS[md.case_chamber_idx[c]], int(n.sum()))
        y_obs[:, rows] = buying.buy_votes(rng, y_obs[:, rows], n, int(thr), arrays["buying_prob"], arrays["buying_reach"],
                                          buyable=buying.buyable(md.obs_group_idx[rows]))
    return y_obs


def simulate(arrays: dict, md: ModelData, seed, *, probabilities: dict | None = None) -> dict:
    """Simulated yea counts: per point row, per interval row and per case total; shapes (sample, ...).
    ``probabilities``: :func:`row_probability_sets` of these draws, when already computed (the same result)."""
    rng = _rng(seed)
    probabilities = probabilities or {}
    y_obs, p_obs = _simulate_rows(rng, arrays, md, interval=False, probabilities=probabilities.get("obs"))
    y_int, p_int = _simulate_rows(rng, arrays, md, interval=True, probabilities=probabilities.get("int"))
    if arrays.get("buying_prob") is not None:
        y_obs = bought_rows(rng, y_obs, arrays, md)
    n_cases = len(md.coords["case"])
    total = np.zeros((y_obs.shape[0], n_cases), dtype=np.int64)
    n_total = np.zeros(n_cases, dtype=np.int64)
    np.add.at(total.T, md.obs_case_idx, y_obs.T)
    np.add.at(total.T, md.int_case_idx, y_int.T)
    np.add.at(n_total, md.obs_case_idx, md.obs_n)
    np.add.at(n_total, md.int_case_idx, md.int_n)
    return {"obs_yea": y_obs, "interval_yea": y_int, "case_yea": total, "case_n": n_total, "obs_p": p_obs, "interval_p": p_int}


def passes(yea: np.ndarray, n: np.ndarray, rule, chamber_idx) -> np.ndarray:
    """Whether each (sample, case) yea count carries the motion under its threshold rule
    (:func:`bayes_coalition.coalition.rules.carries`)."""
    chamber = np.asarray(CHAMBERS)[np.asarray(chamber_idx)]
    return rules.carries(yea, n, rule, chamber)


def decisive_cases(cases: pd.DataFrame) -> dict:
    """(episode_id, chamber) -> position of the case deciding that chamber (latest final vote, else cloture, else procedural)."""
    c = cases.reset_index(drop=True).copy()
    c["_prio"] = c["vote_type"].map(DECISIVE_PRIORITY)
    c["_pos"] = np.arange(len(c))
    c = c.sort_values(["_prio", "date", "_pos"], ascending=[True, False, False])
    return {k: int(g["_pos"].iloc[0]) for k, g in c.groupby(["episode_id", "chamber"], sort=False)}


def floor_weights(sim: dict, arrays: dict, md: ModelData, statuses=(rules.HELD,)) -> np.ndarray:
    """Per (draw, case): pi(simulated count), the probability that the leadership would bring a vote with that
    count to the floor (coalition/agenda.py), for the cases whose floor status is in ``statuses`` (held votes by
    default); 1 elsewhere and when the model has no agenda control. Replicates of a held vote are weighted by
    it: the predictive distribution of a vote given that it is held."""
    w = np.ones(sim["case_yea"].shape)
    if arrays.get("agenda_bar") is None:
        return w
    ctl = np.flatnonzero(np.isin(md.case_floor, statuses))
    chamber = np.asarray(CHAMBERS)[md.case_chamber_idx[ctl]]
    n = sim["case_n"][ctl]
    thr = rules.votes_needed(md.case_threshold[ctl], chamber, n)
    w[:, ctl] = agenda.floor_given_count(np, sim["case_yea"][:, ctl], thr, n, arrays["agenda_bar"][:, None],
                                         arrays["agenda_scale"][:, None], arrays["agenda_leak"][:, None])
    return w


def outcome_classes(sim: dict, arrays: dict, md: ModelData, *, margin: int = MINIMUM_WINNING_MARGIN) -> dict:
    """Per case, the posterior predictive probability of each outcome class (summing to 1): minimum winning
    (carries with at most ``margin`` yeas beyond those needed), oversized (carries with more), deadlock (fails,
    or with agenda control is never brought to the floor: each replicate counts with its probability of being
    held, pi(y), for held votes and withdrawn measures alike). Also ``needed``: the yeas each case needed."""
    chamber = np.asarray(CHAMBERS)[md.case_chamber_idx]
    y, n = sim["case_yea"], sim["case_n"]
    needed = rules.votes_needed(md.case_threshold, chamber, n)
    carried = passes(y, n[None, :], md.case_threshold, md.case_chamber_idx)
    held = floor_weights(sim, arrays, md, statuses=(rules.HELD, rules.WITHDRAWN))
    spare = y - needed[None, :]
    p_carried = (held * carried).mean(axis=0)
    p_over = (held * (carried & (spare > margin))).mean(axis=0)
    return {"p_minimum_winning": p_carried - p_over, "p_oversized": p_over, "p_deadlock": 1.0 - p_carried,
            "needed": needed.astype(float)}


def observed_classes(observed_margin: np.ndarray, cases: pd.DataFrame, *, margin: int = MINIMUM_WINNING_MARGIN) -> list:
    """The observed outcome class of each case: a passed vote by its margin, a failed vote or a measure counted
    but never voted (``whip_estimate``) a deadlock; empty where the outcome is unknown."""
    out = []
    for m, passed, vt in zip(observed_margin, cases["passed"], cases["vote_type"]):
        if vt == "whip_estimate":
            out.append("deadlock")
        elif pd.isna(passed):
            out.append("")
        elif not bool(passed):
            out.append("deadlock")
        else:
            out.append("minimum_winning" if m <= margin else "oversized")
    return out


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (w * x).sum(axis=0) / w.sum(axis=0)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of ``values`` under importance ``weights`` (NumPy's default rule when the weights are equal)."""
    if np.allclose(weights, weights.flat[0]):
        return np.quantile(values, q)
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Per column of ``x`` (draw, case), :func:`weighted_quantile` under the column's weights ``w``."""
    if np.all(w == 1.0):
        return np.quantile(x, q, axis=0)
    return np.stack([weighted_quantile(x[:, j], w[:, j], q) for j in range(x.shape[1])], axis=1)


def approval_table(sim: dict, arrays: dict, md: ModelData, cases: pd.DataFrame, *, prob: float = PREDICTIVE_PROB) -> pd.DataFrame:
    """Per case: P(motion carries), predictive yea interval, observed values, and the episode's
    P(House), P(Senate), P(enacted) from its decisive votes, computed jointly per draw. With agenda
    control a held vote's replicates are weighted by :func:`floor_weights` (P(carries | held)) and
    ``p_floor`` is the mean weight."""
    cases = cases.set_index("case_id").loc[md.coords["case"]].reset_index()
    carried = passes(sim["case_yea"], sim["case_n"][None, :], md.case_threshold, md.case_chamber_idx)
    pro = md.case_polarity > 0
    w = floor_weights(sim, arrays, md)
    lo, hi = _weighted_quantiles(sim["case_yea"], w, [(1 - prob) / 2, (1 + prob) / 2])
    p_pass = _weighted_mean(carried, w)
    table = pd.DataFrame(
        {
            "case_id": cases["case_id"],
            "episode_id": cases["episode_id"],
            "chamber": cases["chamber"],
            "vote_type": cases["vote_type"],
            "threshold_rule": cases["threshold_rule"],
            "n_voting": sim["case_n"],
            "yea_mean": _weighted_mean(sim["case_yea"], w),
            "yea_lower": lo,
            "yea_upper": hi,
            "p_pass": p_pass,
            "p_pro_trade_win": np.where(pro, p_pass, 1 - p_pass),
        }
    )
    if arrays.get("agenda_bar") is not None:
        table["p_floor"] = np.where(md.case_floor == rules.HELD, w.mean(axis=0), np.nan)
    decisive = decisive_cases(cases)
    p_house, p_senate, p_enacted = {}, {}, {}
    ideal = arrays["ideal_point"]
    for ep in cases["episode_id"].unique():
        h = decisive.get((ep, "House"))
        s = decisive.get((ep, "Senate"))
        if h is not None:
            p_house[ep] = _weighted_mean(carried[:, h], w[:, h])
        if s is not None:
            p_senate[ep] = _weighted_mean(carried[:, s], w[:, s])
        if h is not None and s is not None:
            if md.president_idx is None:     # no President in the data: passing both chambers is enactment
                signs = np.ones(len(carried), dtype=bool)
            else:
                ref_cut = 0.5 * (arrays["cut_point"][:, h] + arrays["cut_point"][:, s])
                signs = rules.president_signs(ideal[:, md.president_idx], ref_cut, pro[h])
            y, n = sim["case_yea"], sim["case_n"]
            p_enacted[ep] = _weighted_mean(rules.enacted(carried[:, h], carried[:, s], signs, y[:, h], n[h], y[:, s], n[s]),
                                           w[:, h] * w[:, s])
    table["p_house"] = table["episode_id"].map(p_house)
    table["p_senate"] = table["episode_id"].map(p_senate)
    table["p_enacted"] = table["episode_id"].map(p_enacted)
    observed_yea = _observed_case_yea(md)
    table["observed_yea"] = observed_yea
    table["observed_passed"] = cases["passed"].astype("boolean")
    table["observed_outcome"] = cases["outcome"]
    inside = (observed_yea >= table["yea_lower"].to_numpy()) & (observed_yea <= table["yea_upper"].to_numpy())
    table["observed_in_interval"] = pd.array(np.where(np.isnan(observed_yea), None, inside), dtype="boolean")
    classes = outcome_classes(sim, arrays, md)
    for name in ("p_minimum_winning", "p_oversized", "p_deadlock"):
        table[name] = classes[name]
    table["observed_margin"] = observed_yea - classes["needed"]
    table["observed_class"] = observed_classes(table["observed_margin"].to_numpy(), cases)
    table.attrs["prob"] = prob
    table.attrs["minimum_winning_margin"] = MINIMUM_WINNING_MARGIN
    return table


def _observed_case_yea(md: ModelData) -> np.ndarray:
    out = np.zeros(len(md.coords["case"]))
    np.add.at(out, md.obs_case_idx, md.obs_yea)
    has_interval = np.zeros(len(out), dtype=bool)
    has_interval[md.int_case_idx] = True
    out[has_interval] = np.nan  # interval cases have no observed count
    return out


def take_draws(tree, draws: np.ndarray):
    """``tree`` (the draws' arrays, or :func:`row_probability_sets`' result: dicts, tuples and lists of arrays whose
    first axis is the draw) restricted to the draws ``draws``; None stays None."""
    if tree is None:
        return None
    if isinstance(tree, dict):
        return {k: take_draws(v, draws) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(take_draws(v, draws) for v in tree)
    return np.asarray(tree)[draws]


def held_case_totals(arrays: dict, md: ModelData, seed, *, candidates: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Replicated case totals (draw, case) given that every held vote is held: per draw and held vote, the
    first of ``candidates`` simulated counts accepted with probability pi(y) (rejection sampling, exact);
    exempt votes keep their first simulated count. Returns the totals and, per (draw, case), whether no
    candidate was accepted (then the last candidate stands; their share is reported, never hidden).
    Without agenda control, the first simulated totals.

    Each new candidate is simulated only for the draws that still have a vote without an accepted count
    (:func:`take_draws`): a draw's candidates depend on that draw's parameters alone, so leaving out the settled
    draws changes which random numbers each draw gets, not what they are drawn from. On the floored default's
    8000 draws, 75% of the draws are still pending after 10 candidates, 24% after 50 and 4% after 190, so the 200
    candidates cost about 41 full simulations instead of 200: 4.05x faster over three seeds, the check's
    mid-p values equal within Monte Carlo error (``benchmarks/bench_threshold_check.py``, 2026-12-02)."""
    rng = _rng(seed)
    if arrays.get("agenda_bar") is None:
        first = simulate(arrays, md, rng)
        return first["case_yea"], np.zeros(first["case_yea"].shape, dtype=bool)
    # the rows' yea probabilities are the same for every candidate: computed once (about half of each simulation)
    probabilities = row_probability_sets(arrays, md)
    sim = simulate(arrays, md, rng, probabilities=probabilities)
    total = sim["case_yea"].copy()
    pending = np.ones(total.shape, dtype=bool)
    pending[:, md.case_floor != rules.HELD] = False
    draws = np.arange(total.shape[0])                 # the draws ``sim`` was simulated for
    sub = arrays
    for _ in range(candidates):
        w = floor_weights(sim, sub, md)
        pending[draws] &= ~(rng.random(w.shape) < w)   # an accepted candidate is already in ``total``
        if not pending.any():
            break
        draws = np.flatnonzero(pending.any(axis=1))
        sub = take_draws(arrays, draws)
        sim = simulate(sub, md, rng, probabilities=take_draws(probabilities, draws))
        mine = pending[draws]
        total[draws] = np.where(mine, sim["case_yea"], total[draws])   # the last candidate stands if none is accepted
    return total, pending


def threshold_check(totals: np.ndarray, md: ModelData, *, near: int = 5, short: int = 10,
                    prob: float = PREDICTIVE_PROB) -> pd.DataFrame:
    """Posterior predictive check of the margins near the threshold (yeas minus the yeas needed) over the votes
    with an observed count: the number within ``near`` yeas of the threshold (|margin| <= near) and the number
    that end 1 to ``short`` yeas short. p-value: mid-p, P(T_rep > T_obs) + P(T_rep = T_obs) / 2 (a count
    observed at 0 is not an automatic p of 1)."""
    n = np.zeros(len(md.coords["case"]))
    np.add.at(n, md.obs_case_idx, md.obs_n)
    observed = np.full(len(n), np.nan)
    counted = np.isin(np.arange(len(n)), md.obs_case_idx) & ~np.isin(np.arange(len(n)), md.int_case_idx)
    y_obs = np.zeros(len(n))
    np.add.at(y_obs, md.obs_case_idx, md.obs_yea)
    observed[counted] = y_obs[counted]
    chamber = np.asarray(CHAMBERS)[md.case_chamber_idx]
    need = rules.votes_needed(md.case_threshold, chamber, n.astype(int))
    m_obs = (observed - need)[counted]
    m_rep = (totals - need[None, :])[:, counted]
    rows = []
    for name, test in ((f"within {near} yeas of the threshold", lambda m: np.abs(m) <= near),
                       (f"1 to {short} yeas short", lambda m: (m <= -1) & (m >= -short))):
        t_obs = int(test(m_obs).sum())
        t_rep = test(m_rep).sum(axis=1)
        lo, hi = np.quantile(t_rep, [(1 - prob) / 2, (1 + prob) / 2])
        rows.append({"statistic": name, "observed": t_obs, "predictive_mean": float(t_rep.mean()), "lower": lo,
                     "upper": hi, "p_value": float(np.mean(t_rep > t_obs) + 0.5 * np.mean(t_rep == t_obs))})
    out = pd.DataFrame(rows)
    out.attrs.update(n_votes=int(counted.sum()), prob=prob)
    return out


def row_check(sim: dict, md: ModelData, *, prob: float = PREDICTIVE_PROB) -> pd.DataFrame:
    """Posterior predictive check per likelihood row: observed yea (or interval) against the predictive interval."""
    q = [(1 - prob) / 2, (1 + prob) / 2]
    rows = []
    lo, hi = np.quantile(sim["obs_yea"], q, axis=0)
    for i, label in enumerate(md.coords["obs"]):
        case, group = label.split(":")
        rows.append((case, group, "point", md.obs_n[i], md.obs_yea[i], md.obs_yea[i], lo[i], hi[i],
                     bool(lo[i] <= md.obs_yea[i] <= hi[i])))
    if len(md.int_case_idx):
        lo, hi = np.quantile(sim["interval_yea"], q, axis=0)
        for i, label in enumerate(md.coords["interval_obs"]):
            case, group = label.split(":")
            # an interval is respected when the predictive interval overlaps it
            ok = bool(hi[i] >= md.int_lower[i] and lo[i] <= md.int_upper[i])
            rows.append((case, group, "interval", md.int_n[i], md.int_lower[i], md.int_upper[i], lo[i], hi[i], ok))
    return pd.DataFrame(rows, columns=["case_id", "group", "kind", "n", "observed_lower", "observed_upper",
                                       "predicted_lower", "predicted_upper", "consistent"])


__all__ = ["CHAMBERS", "approval_table", "draw_arrays", "held_case_totals", "passes", "row_check", "simulate",
           "threshold_check"]
