"""Predict hypothetical bills on stored posterior draws (NumPy only, no PyTensor compilation).

For a *new* bill every case-level effect is drawn from its hierarchical prior for each
posterior draw: the episode effect from the constructs' effects times their latent values
plus the episode spread, the vote-level deviation and the party tilt from theirs. A coded
construct's latent value is drawn from its posterior given the bill's codes (sampling-
importance-resampling on the ordered-logistic measurement model, per draw); an uncoded one
from N(0, 1). A bill ``like`` an observed episode keeps that episode's posterior effects and shifts them by
``effect * (E[latent | new codes] - E[latent | old codes])`` (per draw) for the constructs whose
codes change: the counterfactual keeps what the votes taught about the episode.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from bayes_coalition import _arviz
from bayes_coalition.coalition import agenda, buying, expectation, rules
from bayes_coalition.coalition.model_data import (
    EFFECTIVE_VOTE_TYPE,
    REFERENCE_VOTE_TYPE,
    ModelData,
    dispersion_index,
    model_codes,
)
from bayes_coalition.coalition.predictive import decisive_cases, draw_arrays, draws_of
from bayes_coalition.coalition.spec import party_tilt_df
from bayes_coalition.coalition.vote_model import yea_probability
from bayes_coalition.constants import CHAMBERS, CONSTRUCTS, GROUPS, MINIMUM_WINNING_MARGIN, SUMMARY_PROB, congress_president_party
from bayes_coalition.prediction.bills import HypotheticalBill, parse_code_key

N_CANDIDATES = 128


class BillPredictor:
    """Stored draws of a fitted CoalitionModel, ready to predict many bills quickly."""

    def __init__(self, model, max_draws: int | None = None):
        model._require_fit()
        self.model = model
        self.md: ModelData = model.model_data
        self.dataset = model.dataset
        post = model.idata.posterior
        self.arrays = draw_arrays(post, self.md, model.discrimination)
        get = lambda name: draws_of(post, name)
        self.p = {name: get(name) for name in (
            "cut_point_mean", "chamber_offset", "vote_type_offset", "sigma_case", "sigma_episode", "effect",
            "sigma_party_tilt", "episode_effect", "construct_latent", "loading", "concentration", "party_tilt", "cut_point",
            "congress_tilt", "sigma_congress_tilt_step", "faction_share_step", "president_tilt", "divided_government", "discrimination",
            "election_year", "party_gap_tilt", "majority_tilt", "house_tilt", "agenda_bar", "agenda_scale", "agenda_leak", "buying_prob", "buying_reach",
            "expectation_slope", "expectation_cuts")}
        self.cuts = {int(n.rsplit("_", 1)[1]): get(n) for n in post.data_vars if n.startswith("indicator_cuts_")}
        self.n_samples = self.arrays["cut_point"].shape[0]
        self.n_chains = int(post.sizes["chain"])
        if max_draws is not None and max_draws < self.n_samples:
            # the same evenly spaced draws from every chain, so MCSEs can use the chain structure
            per_chain = max(1, -(-max_draws // self.n_chains))
            n_draw = int(post.sizes["draw"])
            within = np.unique(np.linspace(0, n_draw - 1, min(per_chain, n_draw)).round().astype(int))
            keep = (np.arange(self.n_chains)[:, None] * n_draw + within[None, :]).ravel()
            self.arrays = {k: (None if v is None else v[keep]) for k, v in self.arrays.items()}
            self.p = {k: (None if v is None else v[keep]) for k, v in self.p.items()}
            self.cuts = {k: v[keep] for k, v in self.cuts.items()}
            self.n_samples = len(keep)
        self.items = self.md.coords["item"]
        self.discrimination = model.discrimination
        self._latent_cache: dict = {}
        self.decisive = decisive_cases(self.dataset.cases.set_index("case_id").loc[self.md.coords["case"]].reset_index())

    # --- latent constructs ------------------------------------------------------
    def episode_codes(self, episode: str) -> dict:
        ev = model_codes(self.dataset.evidence, self.model.spec["data"].get("include_ex_post", False))
        ev = ev[ev.episode_id == episode]
        return {(r.stage, r.indicator): int(r.level) for r in ev.itertuples()}

    def latent_draws(self, construct: int, codes: dict, rng, *, mean: bool = False) -> np.ndarray:
        """Per posterior draw, one construct's latent value given a bill's codes: a draw from its
        conditional distribution, or (``mean=True``) its conditional mean (0 without codes)."""
        mine = tuple(sorted((k, v) for k, v in codes.items()
                            if self.md.item_construct_idx[self.items.index(f"{k[1]}:{k[0]}")] == construct))
        key = (construct, mine, mean)
        if key in self._latent_cache:
            return self._latent_cache[key]
        S = self.n_samples
        if not mine:
            out = np.zeros(S) if mean else rng.standard_normal(S)
        else:
            cand = rng.standard_normal((S, N_CANDIDATES))
            loglik = np.zeros((S, N_CANDIDATES))
            for (stage, indicator), level in mine:
                i = self.items.index(f"{indicator}:{stage}")
                k = int(self.md.item_n_levels[i])
                local = [j for j in range(len(self.items)) if self.md.item_n_levels[j] == k].index(i)
                c = self.cuts[k][:, local, :]                                       # (S, K-1)
                eta = self.md.item_direction[i] * self.p["loading"][:, i][:, None] * cand
                upper = expit(c[:, level][:, None] - eta) if level < k - 1 else 1.0
                lower = expit(c[:, level - 1][:, None] - eta) if level > 0 else 0.0
                loglik += np.log(np.clip(upper - lower, 1e-300, None))
            w = np.exp(loglik - loglik.max(axis=1, keepdims=True))
            w /= w.sum(axis=1, keepdims=True)
            if mean:
                out = (w * cand).sum(axis=1)
            else:
                u = rng.random((S, 1))
                pick = (w.cumsum(axis=1) < u).sum(axis=1).clip(max=N_CANDIDATES - 1)
                out = cand[np.arange(S), pick]
        self._latent_cache[key] = out
        return out

    def episode_effect(self, bill: HypotheticalBill, rng) -> tuple[np.ndarray, dict]:
        """Episode effect draws for the bill, and the codes it uses."""
        beta = self.p["effect"]                                                    # (S, construct)
        if bill.like is None:
            codes = dict(bill.codes)
            ep = self.p["sigma_episode"] * rng.standard_normal(self.n_samples)
            for k in range(len(CONSTRUCTS)):
                ep = ep + beta[:, k] * self.latent_draws(k, codes, rng)
            return ep, codes
        # counterfactual: keep the episode's posterior effect (its residual included) and move it by
        # effect * (E[latent | new codes] - E[latent | old codes]) for each construct whose codes change
        e = self.md.coords["episode"].index(bill.like)
        old = self.episode_codes(bill.like)
        codes = {**old, **bill.codes}
        ep = self.p["episode_effect"][:, e].copy()
        for k in range(len(CONSTRUCTS)):
            before = {key: v for key, v in old.items() if self._construct_of(key) == k}
            after = {key: v for key, v in codes.items() if self._construct_of(key) == k}
            if before != after:
                ep = ep + beta[:, k] * (self.latent_draws(k, after, rng, mean=True) - self.latent_draws(k, before, rng, mean=True))
        return ep, codes

    def reset_draws(self) -> None:
        """Forget cached random latent draws (conditional means stay): each call starts from its seed."""
        self._latent_cache = {k: v for k, v in self._latent_cache.items() if k[2]}

    def signature(self, codes: dict, construct: int) -> tuple:
        """The codes of one construct, as a hashable key."""
        return tuple(sorted((key, v) for key, v in codes.items() if self._construct_of(key) == construct))

    def _construct_of(self, key) -> int:
        stage, indicator = key
        return int(self.md.item_construct_idx[self.items.index(f"{indicator}:{stage}")])

    # --- chambers -----------------------------------------------------------------
    def chamber_rows(self, bill: HypotheticalBill, chamber: str, ep: np.ndarray, seats: dict, rng,
                     ideal: np.ndarray | None = None) -> dict:
        """Cut-point, tilt and count rows (group, n, mix) of the bill's vote in one chamber; ``ideal``:
        the actors' positions to use (default: the posterior draws)."""
        md = self.md
        ideal = self.arrays["ideal_point"] if ideal is None else ideal
        faction_position = ideal[:, md.faction_actor_idx]
        ch = CHAMBERS.index(chamber)
        case = self.decisive.get((bill.like, chamber)) if bill.like is not None else None
        if case is not None and bill.composition is None and bill.congress is None:
            sel = md.obs_case_idx == case
            isel = md.int_case_idx == case
            groups = np.concatenate([md.obs_group_idx[sel], md.int_group_idx[isel]])
            n = np.concatenate([md.obs_n[sel], md.int_n[isel]])
            mix = np.concatenate([md.mix_obs_idx[sel], md.mix_int_idx[isel]])
        else:
            parties = [p for p in ("R", "D", "I") if seats[chamber].get(p, 0) > 0]
            groups = np.array([GROUPS.index(p) for p in parties])
            n = np.array([seats[chamber][p] for p in parties])
            mix = np.full(len(parties), -1)
        congress = bill.congress_of(self.dataset)
        if case is not None:
            e = md.case_episode_idx[case]
            cut = self.p["cut_point"][:, case] - (ep - self.p["episode_effect"][:, e])
            if self.p["election_year"] is not None and bill.election_year is not None:
                # counterfactual year: move the vote's cut-point by the effect times the change of the covariate
                cut = cut + self.p["election_year"] * (float(bill.election_year) - md.case_election_year[case])
            tilt = self.p["party_tilt"][:, case]
            disc = self.discrimination_draws(md.coords["discrimination_type"][md.case_disc_idx[case]], rng)
        else:
            vt = md.coords["vote_type"]
            vt_off = self.p["vote_type_offset"][:, vt.index(bill.vote_type)] if bill.vote_type in vt and self.p["vote_type_offset"] is not None else 0.0
            party = congress_president_party(congress)
            pres = 1.0 if party == "R" else -1.0
            majority = rules.chamber_majority(seats[chamber], congress, chamber)
            divided = rules.divided_government(party, majority)
            cut = (self.p["cut_point_mean"] + self.p["chamber_offset"][:, ch] + vt_off - ep
                   + self._draws_or_zero("divided_government") * divided
                   + self._election_year_term(bill, rng)
                   + self.p["sigma_case"] * rng.standard_normal(self.n_samples))
            tilt = (self.congress_tilt(congress, rng) - self._draws_or_zero("president_tilt") * pres
                    + self._party_gap_term(congress, chamber)
                    - self._draws_or_zero("majority_tilt") * rules.majority_sign(majority)
                    - self._draws_or_zero("house_tilt") * rules.house_sign(chamber)
                    + self.tilt_deviation(rng))
            disc = self.discrimination_draws(EFFECTIVE_VOTE_TYPE.get(bill.vote_type, bill.vote_type), rng)
        pol = 1.0 if bill.yea_is_pro_trade else -1.0
        share = self.faction_share(congress, rng)
        prob = yea_probability(
            np, faction_position=faction_position, faction_share=share,
            cut_point=np.repeat(cut[:, None], len(groups), axis=1), party_tilt=np.repeat(tilt[:, None], len(groups), axis=1),
            polarity=np.full(len(groups), pol), group_idx=groups, mix_share=self.arrays["mix_share"], mix_idx=mix,
            faction_party=md.faction_party, discrimination=np.repeat(disc[:, None], len(groups), axis=1),
        )
        phi = self.p["concentration"][:, dispersion_index(np.full(len(groups), ch), groups)]
        return {"cut": cut, "tilt": tilt, "groups": groups, "n": n, "mix": mix, "prob": prob, "phi": phi, "discrimination": disc,
                "ideal": ideal, "faction_position": faction_position, "faction_share": share}

    def tilt_deviation(self, rng) -> np.ndarray:
        """Per draw, a new vote's party-tilt deviation around its Congress: sigma_party_tilt * N(0, 1), or with a
        Student-t tilt (model.party_tilt) divided by the square root of a Gamma(df/2, rate df/2) precision: the
        graph's scale mixture, drawn from its prior as the vote is new."""
        z = rng.standard_normal(self.n_samples)
        df = party_tilt_df(self.model.spec)
        if df is None:
            return self.p["sigma_party_tilt"] * z
        precision = rng.gamma(df / 2.0, 2.0 / df, self.n_samples)
        return self.p["sigma_party_tilt"] * z / np.sqrt(precision)

    def _election_year_term(self, bill: HypotheticalBill, rng):
        """The cut-point shift of a vote in an election year (a model with that covariate; else 0): the bill's
        ``election_year``, or, when it does not say, an election year in a random half of the draws."""
        beta = self.p["election_year"]
        if beta is None:
            return 0.0
        u = rng.random(self.n_samples)          # drawn either way: bills that do and do not say share random numbers
        return beta * (float(bill.election_year) if bill.election_year is not None else (u < 0.5))

    def _party_gap_term(self, congress: int, chamber: str):
        """The tilt's shift by the party gap of the bill's Congress (rules.party_gap; a model with that covariate)."""
        beta = self.p["party_gap_tilt"]
        if beta is None:
            return 0.0
        gap = rules.party_gap(self.dataset.covariates, congress, chamber)
        if np.isnan(gap):
            raise ValueError(f"the model has the party_gap covariate, but covariates.csv gives no party gap for "
                             f"Congress {congress}'s {chamber}")
        return beta * gap

    def _draws_or_zero(self, name: str):
        v = self.p[name]
        return 0.0 if v is None else v

    def congress_tilt(self, congress: int, rng) -> np.ndarray:
        """Per draw, the party tilt of a Congress on the fitted random walk; a Congress beyond the fitted
        range continues the walk from the nearest fitted Congress (k steps: sd sigma_step * sqrt(k))."""
        walk = self.p["congress_tilt"]
        if walk is None:
            return np.zeros(self.n_samples)
        grid = self.md.coords["congress"]
        if grid[0] <= congress <= grid[-1]:
            return walk[:, congress - grid[0]]
        edge = 0 if congress < grid[0] else -1
        steps = abs(congress - grid[edge])
        # the step's sd has a posterior even in a one-Congress fit (total spread x sqrt(walk share), model 0.3.1)
        sigma = self.p["sigma_congress_tilt_step"]
        return walk[:, edge] + sigma * np.sqrt(steps) * rng.standard_normal(self.n_samples)

    def faction_share(self, congress: int, rng) -> np.ndarray:
        """Per draw, the within-party faction shares of a Congress, ``(sample, faction)``: the static shares, or
        (``model.faction_shares = "congress"``) the fitted walk's; a Congress beyond the fitted range continues the
        walk of each faction's log share ratio to its party's first faction from the nearest fitted Congress (k
        steps: sd faction_share_step * sqrt(k)), renormalised within the party, as the graph does."""
        by_congress = self.arrays.get("faction_share_congress")
        if by_congress is None:
            return self.arrays["faction_share"]
        grid = self.md.coords["congress"]
        if grid[0] <= congress <= grid[-1]:
            return by_congress[:, congress - grid[0]]
        edge = 0 if congress < grid[0] else -1
        share = by_congress[:, edge]
        step = self.p["faction_share_step"]
        if step is None:                        # a one-Congress fit has no walk
            return share
        out = share.copy()                      # a faction of no party (none shipped) keeps its share, as in the graph
        sd = step * np.sqrt(abs(congress - grid[edge]))
        for party in ("R", "D"):
            idx = np.flatnonzero(self.md.faction_party == party)
            if len(idx) < 2:
                continue
            # the walk moves each faction's log ratio to the party's first; renormalising makes it a ratio again
            w = share[:, idx] * np.exp(np.concatenate(
                [np.zeros((self.n_samples, 1)), sd[:, None] * rng.standard_normal((self.n_samples, len(idx) - 1))], axis=1))
            out[:, idx] = w / w.sum(axis=1, keepdims=True)
        return out

    def discrimination_draws(self, vote_type: str, rng) -> np.ndarray:
        """Per draw, the discrimination of a vote type; a type the fit has not seen draws its log ratio
        to final passage from the prior."""
        types = self.md.coords["discrimination_type"]
        d = self.p["discrimination"]
        if vote_type in types and d is not None:
            return d[:, types.index(vote_type)]
        if vote_type in types or vote_type == REFERENCE_VOTE_TYPE:
            return np.full(self.n_samples, self.discrimination)
        sd = float(self.model.spec["priors"]["discrimination_log_sd"])
        return self.discrimination * np.exp(sd * rng.standard_normal(self.n_samples))

    def mcse(self, values: np.ndarray) -> float:
        """Monte Carlo standard error of the mean of a per-draw quantity (chain structure kept)."""
        return _arviz.mcse_mean(np.asarray(values, dtype=float).reshape(self.n_chains, -1))

    @staticmethod
    def threshold(rule: str, chamber: str, n_total):
        """Yeas needed in ``chamber`` (:func:`bayes_coalition.coalition.rules.votes_needed`)."""
        return rules.votes_needed(rule, chamber, n_total)

    def probability_per_draw(self, rows: dict, thr) -> np.ndarray:
        """P(yea >= thr | draw) with a normal approximation to the sum of beta-binomial counts."""
        p, n, phi = rows["prob"], rows["n"], rows["phi"]
        mean = (n * p).sum(axis=-1)
        var = (n * p * (1 - p) * (n + phi) / (1 + phi)).sum(axis=-1)
        return norm.sf((thr - 0.5 - mean) / np.sqrt(np.maximum(var, 1e-9)))


def case_effects(pr: BillPredictor, bill: HypotheticalBill, seats: dict, seed: int) -> tuple[dict, dict]:
    """The bill's random case effects, drawn once per posterior draw from the seed: its episode
    effect (constructs' latent values included) and each chamber's cut-point, tilt and count rows.
    predict, sweep and the drivers all start here, so they share these draws."""
    pr.reset_draws()
    rng = np.random.default_rng(seed)
    ep, codes = pr.episode_effect(bill, rng)
    ideal = actor_positions(pr, bill)
    rows = {ch: pr.chamber_rows(bill, ch, ep, seats, rng, ideal=ideal) for ch in CHAMBERS}
    return rows, codes


def actor_positions(pr: BillPredictor, bill: HypotheticalBill) -> np.ndarray:
    """Posterior draws of every actor's position with the bill's ``[actors]`` settings applied
    (``("set", x)`` replaces the draws by x, ``("shift", x)`` adds x); a copy, (S, actor)."""
    ideal = pr.arrays["ideal_point"].copy()
    actors = pr.md.coords["actor"]
    for actor, (kind, value) in getattr(bill, "actor_positions", {}).items():
        j = actors.index(actor)
        ideal[:, j] = value if kind == "set" else ideal[:, j] + value
    return ideal


def code_set_shifts(pr: BillPredictor, bill: HypotheticalBill, base_codes: dict, code_sets: list[dict], seed: int) -> np.ndarray:
    """Per code set and draw, the shift of the episode effect relative to the base codes:
    ``effect * (latent | set) - effect * (latent | base)`` for the constructs whose codes differ
    (conditional means for a bill ``like`` an observed episode, draws for a new one); (B, S)."""
    as_mean = bill.like is not None
    beta = pr.p["effect"]
    delta = np.zeros((len(code_sets), pr.n_samples))
    for k in range(len(CONSTRUCTS)):
        base_sig = pr.signature(base_codes, k)
        sigs = [pr.signature(c, k) for c in code_sets]
        if all(sig == base_sig for sig in sigs):
            continue
        base_latent = pr.latent_draws(k, dict(base_sig), np.random.default_rng([seed, 1, k]), mean=as_mean)
        for b, sig in enumerate(sigs):
            if sig != base_sig:
                # each code set's draws come from its own stream (seed, construct, codes): the same
                # code set gets the same latent draws in any grid, whatever else the grid holds
                rng = np.random.default_rng([seed, 1, k, zlib.crc32(repr(sig).encode())])
                delta[b] += beta[:, k] * (pr.latent_draws(k, dict(sig), rng, mean=as_mean) - base_latent)
    return delta


def approval_per_draw(pr: BillPredictor, bill: HypotheticalBill, rows: dict, delta: np.ndarray, *, chunk: int = 512) -> dict:
    """Per bill of a grid (rows of ``delta``) and posterior draw: P(House), P(Senate), P(enacted).

    Rao-Blackwellised: given a draw and the case effects, the yea count's distribution is known,
    so each probability is computed (normal approximation to the sum of beta-binomial party
    counts) instead of simulated; the Monte Carlo error left is that of averaging over draws.
    Enactment: both chambers pass and the President signs, or both reach two thirds of those
    voting (:mod:`bayes_coalition.coalition.rules`); with no President in the data, passing both
    chambers enacts; a bill whose president rule is ``override`` assumes a veto."""
    out = {key: np.empty(delta.shape) for key in ("House", "Senate", "House_override", "Senate_override")}
    floor = {ch: np.ones(delta.shape) for ch in CHAMBERS}
    # P(held and carries with more than MINIMUM_WINNING_MARGIN yeas to spare), per draw: with P(held and carries)
    # it splits the outcome into minimum winning, oversized and deadlock (failed or never held)
    oversized = {ch: np.empty(delta.shape) for ch in CHAMBERS}
    carried = {ch: np.empty(delta.shape) for ch in CHAMBERS}
    mix = pr.arrays["mix_share"]
    # agenda control (coalition/agenda.py): a leadership-controlled vote is held with probability Z per draw;
    # the chamber's probabilities are then P(pass | held, draw), to be averaged with weights Z
    controlled = int(rules.floor_status(bill.vote_type, bill.yea_is_pro_trade)) == rules.HELD
    held = pr.p.get("agenda_bar") is not None and controlled
    # vote buying (coalition/buying.py): a controlled vote short by d yeas is bought up to the line with probability b(d)
    bought = pr.p.get("buying_prob") is not None and controlled
    # a pre-vote floor expectation (coalition/expectation.py): each draw weighted by P(level | the draw's margin)
    evidence = {ch: np.ones(delta.shape) for ch in CHAMBERS}
    expected = fitted_expectations(pr, bill)
    for ch in CHAMBERS:
        r = rows[ch]
        n_total = int(r["n"].sum())
        rule = bill.house_rule if ch == "House" else bill.senate_rule
        thr = rules.votes_needed(rule, ch, n_total)
        thr_override = np.maximum(thr, rules.votes_needed("two_thirds_of_voting", ch, n_total))
        for start in range(0, len(delta), chunk):
            d = delta[start:start + chunk]
            # one cut-point column shared by every party row: the factions' sigmoids are computed once
            cut = (r["cut"][None, :] - d)[..., None]                                            # (B, S, 1)
            tilt = np.broadcast_to(r["tilt"][None, :, None], cut.shape)
            prob = yea_probability(
                np, faction_position=r["faction_position"][None], faction_share=r["faction_share"][None],
                cut_point=cut, party_tilt=tilt, polarity=np.full(len(r["groups"]), 1.0 if bill.yea_is_pro_trade else -1.0),
                group_idx=r["groups"], mix_share=np.broadcast_to(mix[None], cut.shape[:2] + mix.shape[1:]),
                mix_idx=r["mix"], faction_party=pr.md.faction_party, discrimination=r["discrimination"][None, :, None],
            )
            counts = {"prob": prob, "n": r["n"], "phi": r["phi"][None]}
            if ch in expected:
                eta = expectation.linear_predictor(pr.p["expectation_slope"][None], (r["n"] * prob).sum(axis=-1), thr, n_total)
                evidence[ch][start:start + chunk] = expectation.level_probability(np, expected[ch], eta, pr.p["expectation_cuts"][None])
            if held:
                mean, var = agenda.count_moments(np, r["n"], prob, r["phi"][None])
                a = (pr.p["agenda_bar"], pr.p["agenda_scale"], pr.p["agenda_leak"])
                both, z = agenda.pass_and_floor(mean, var, thr, thr, n_total, *a)
                both_o, _ = agenda.pass_and_floor(mean, var, thr_override, thr, n_total, *a)
                # P(pass | held, draw); a draw under which the vote is never held has weight 0 (value 0)
                out[ch][start:start + chunk] = np.divide(both, z, out=np.zeros_like(both), where=z > 0)
                out[f"{ch}_override"][start:start + chunk] = np.divide(both_o, z, out=np.zeros_like(both_o), where=z > 0)
                floor[ch][start:start + chunk] = z
                carried[ch][start:start + chunk] = both
                oversized[ch][start:start + chunk] = agenda.pass_and_floor(
                    mean, var, thr + MINIMUM_WINNING_MARGIN + 1, thr, n_total, *a)[0]
                continue
            out[ch][start:start + chunk] = pr.probability_per_draw(counts, thr)
            if bought:
                mean, var = agenda.count_moments(np, r["n"], prob, r["phi"][None])
                out[ch][start:start + chunk] += buying.bought_probability(mean, var, thr, n_total, pr.p["buying_prob"],
                                                                           pr.p["buying_reach"])
            out[f"{ch}_override"][start:start + chunk] = pr.probability_per_draw(counts, thr_override)
            carried[ch][start:start + chunk] = out[ch][start:start + chunk]
            oversized[ch][start:start + chunk] = pr.probability_per_draw(counts, thr + MINIMUM_WINNING_MARGIN + 1)
    # the floor probability alone (p_floor) before the evidence is folded into the weights of every ratio
    held_prob = {ch: floor[ch] for ch in CHAMBERS}
    floor = {ch: floor[ch] * evidence[ch] for ch in CHAMBERS}
    pres = pr.md.president_idx
    if bill.president_rule == "override":
        signs = np.zeros(delta.shape, dtype=bool)
    elif pres is None:
        signs = np.ones(delta.shape, dtype=bool)
    else:
        ref = 0.5 * (rows["House"]["cut"] + rows["Senate"]["cut"])[None, :] - delta
        signs = rules.president_signs(rows["House"]["ideal"][None, :, pres], ref, bill.yea_is_pro_trade)
    enacted = np.where(signs, out["House"] * out["Senate"], out["House_override"] * out["Senate_override"])
    return {"House": out["House"], "Senate": out["Senate"], "enacted": enacted,
            "House_floor": floor["House"], "Senate_floor": floor["Senate"], "enacted_floor": floor["House"] * floor["Senate"],
            "House_evidence": evidence["House"], "Senate_evidence": evidence["Senate"],
            "House_held": held_prob["House"], "Senate_held": held_prob["Senate"],
            **{f"{ch}_carried": carried[ch] for ch in CHAMBERS}, **{f"{ch}_oversized": oversized[ch] for ch in CHAMBERS}}


def fitted_expectations(pr: BillPredictor, bill: HypotheticalBill) -> dict:
    """The bill's floor expectations that condition its prediction: none without the model's term; and not for a
    chamber whose vote is an observed vote of the fit (a bill ``like`` an episode) whose own code the fit already
    measured (conditioning on it again would count it twice)."""
    if pr.p.get("expectation_slope") is None:
        return {}
    return {ch: lvl for ch, lvl in bill.floor_expectation.items() if not _code_in_fit(pr, bill, ch)}


def _code_in_fit(pr: BillPredictor, bill: HypotheticalBill, chamber: str) -> bool:
    case = pr.decisive.get((bill.like, chamber)) if bill.like is not None else None
    return case is not None and bill.composition is None and bill.congress is None and case in set(pr.md.expect_case_idx.tolist())


def chamber_classes(per_draw: dict, chamber: str, b: int = 0) -> dict:
    """Per draw, the probability of each outcome class of a chamber's vote on bill ``b`` of a grid, summing to 1:
    ``minimum_winning`` (held and carries with at most MINIMUM_WINNING_MARGIN yeas beyond those needed),
    ``oversized`` (held and carries with more), ``deadlock`` (fails on the floor, or is never brought to it)."""
    carried, over = per_draw[f"{chamber}_carried"][b], per_draw[f"{chamber}_oversized"][b]
    return {"minimum_winning": carried - over, "oversized": over, "deadlock": 1.0 - carried}


def floor_weighted(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(event | held) from per-draw conditional probabilities ``values`` and floor probabilities ``weights``
    (both (..., S)): the ratio E[w v] / E[w] and each draw's influence ``w (v - ratio) / E[w]``, whose MCSE is
    the ratio's (delta method). With weights 1 (no agenda control) the plain mean and ``v - mean``."""
    wbar = weights.mean(axis=-1, keepdims=True)
    ratio = (weights * values).mean(axis=-1, keepdims=True) / wbar
    return ratio[..., 0], weights * (values - ratio) / wbar


def sweep_grid(vary: dict) -> list[tuple]:
    """The grid of :func:`sweep`: every combination of the levels in ``vary``, first key slowest."""
    return list(itertools.product(*vary.values()))


def sweep(model, base: HypotheticalBill, vary: dict, *, seed: int = 0, max_draws: int | None = None,
          predictor: BillPredictor | None = None, prob: float = SUMMARY_PROB, rows: slice | None = None) -> pd.DataFrame:
    """P(House), P(Senate), P(enacted) with their Monte Carlo standard errors over a grid of indicator
    levels, on the same draws and with the same estimator as :func:`predict` (all posterior draws by
    default).

    ``vary`` maps "stage.indicator" to a list of levels. A bill of the grid differs from ``base``
    only through its constructs' latent values, so its episode effect is the base's plus
    ``effect * (latent - base latent)``; every other random quantity is shared across the grid
    (common random numbers), and the grid point with the base's codes equals ``predict(base)``.
    Each grid point's draws come from its own stream, so a slice of the grid (``rows``, as a batch of
    :func:`bayes_coalition.prediction.batch.sweep_batch` computes it) gives the same rows as the whole.
    """
    pr = predictor or BillPredictor(model, max_draws=max_draws)
    base.validate(model.dataset)
    keys = [parse_code_key(k, default_stage="voting") for k in vary]
    combos = sweep_grid(vary)
    if rows is not None:
        combos = combos[rows]
    for combo in combos:
        bill = replace(base, codes={**base.codes, **dict(zip(keys, combo))})
        bill.validate(model.dataset)
    seats = base.seats(model.dataset)
    seats.pop("_notes", None)
    effects, codes0 = case_effects(pr, base, seats, seed)
    code_sets = [{**codes0, **dict(zip(keys, combo))} for combo in combos]
    per_draw = approval_per_draw(pr, base, effects, code_set_shifts(pr, base, codes0, code_sets, seed))
    table = pd.DataFrame(combos, columns=[f"{s}.{i}" for s, i in keys])
    for key, label in (("p_house", "House"), ("p_senate", "Senate"), ("p_enacted", "enacted")):
        mean, influence = floor_weighted(per_draw[label], per_draw[f"{label}_floor"])
        table[key] = mean
        table[f"{key}_mcse"] = [pr.mcse(v) for v in influence]
    # the outcome classes of each chamber's vote (unconditional: a vote never held is a deadlock), as in predict
    for chamber in CHAMBERS:
        carried, over = per_draw[f"{chamber}_carried"], per_draw[f"{chamber}_oversized"]
        for cls, values in (("minimum_winning", carried - over), ("oversized", over), ("deadlock", 1.0 - carried)):
            table[f"p_{cls}_{chamber.lower()}"] = values.mean(axis=-1)
    table.attrs.update(seed=seed, draws=pr.n_samples, chains=pr.n_chains, minimum_winning_margin=MINIMUM_WINNING_MARGIN)
    return table
