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

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit
from scipy.stats import norm

from bayes_coalition.coalition import rules
from bayes_coalition.coalition.model_data import ModelData
from bayes_coalition.coalition.predictive import beta_binomial, decisive_cases, draw_arrays, draws_of
from bayes_coalition.coalition.vote_model import yea_probability
from bayes_coalition.constants import CHAMBERS, CONSTRUCTS, GROUPS, SUMMARY_PROB
from bayes_coalition.prediction import analytics
from bayes_coalition.prediction.bills import HypotheticalBill

N_CANDIDATES = 128


class BillPredictor:
    """Stored draws of a fitted CoalitionModel, ready to predict many bills quickly."""

    def __init__(self, model, max_draws: int | None = None):
        model._require_fit()
        self.model = model
        self.md: ModelData = model.model_data
        self.dataset = model.dataset
        post = model.idata.posterior
        self.arrays = draw_arrays(post, self.md)
        get = lambda name: draws_of(post, name)
        self.p = {name: get(name) for name in (
            "cut_point_mean", "chamber_offset", "vote_type_offset", "sigma_case", "sigma_episode", "effect",
            "sigma_party_tilt", "episode_effect", "construct_latent", "loading", "concentration", "party_tilt", "cut_point")}
        self.cuts = {int(n.rsplit("_", 1)[1]): get(n) for n in post.data_vars if n.startswith("indicator_cuts_")}
        self.n_samples = self.arrays["cut_point"].shape[0]
        if max_draws is not None and max_draws < self.n_samples:
            keep = np.linspace(0, self.n_samples - 1, max_draws).astype(int)
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
        ev = self.dataset.evidence[self.dataset.evidence.episode_id == episode]
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

    def _construct_of(self, key) -> int:
        stage, indicator = key
        return int(self.md.item_construct_idx[self.items.index(f"{indicator}:{stage}")])

    # --- chambers -----------------------------------------------------------------
    def chamber_rows(self, bill: HypotheticalBill, chamber: str, ep: np.ndarray, seats: dict, rng) -> dict:
        """Cut-point, tilt and count rows (group, n, mix) of the bill's vote in one chamber."""
        md = self.md
        ch = CHAMBERS.index(chamber)
        case = self.decisive.get((bill.like, chamber)) if bill.like is not None else None
        if case is not None:
            e = md.case_episode_idx[case]
            cut = self.p["cut_point"][:, case] - (ep - self.p["episode_effect"][:, e])
            tilt = self.p["party_tilt"][:, case]
        else:
            vt = md.coords["vote_type"]
            vt_off = self.p["vote_type_offset"][:, vt.index(bill.vote_type)] if bill.vote_type in vt and self.p["vote_type_offset"] is not None else 0.0
            cut = (self.p["cut_point_mean"] + self.p["chamber_offset"][:, ch] + vt_off - ep
                   + self.p["sigma_case"] * rng.standard_normal(self.n_samples))
            tilt = self.p["sigma_party_tilt"] * rng.standard_normal(self.n_samples)
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
        pol = 1.0 if bill.yea_is_pro_trade else -1.0
        mix_share = self.arrays["republican_share"] if self.arrays["republican_share"] is not None else np.zeros((self.n_samples, 0))
        prob = yea_probability(
            np, faction_position=self.arrays["faction_position"], faction_share=self.arrays["faction_share"],
            cut_point=np.repeat(cut[:, None], len(groups), axis=1), party_tilt=np.repeat(tilt[:, None], len(groups), axis=1),
            polarity=np.full(len(groups), pol), group_idx=groups, mix_share=mix_share, mix_idx=mix,
            faction_party=md.faction_party, discrimination=self.discrimination,
        )
        return {"cut": cut, "tilt": tilt, "groups": groups, "n": n, "mix": mix, "prob": prob, "phi": self.p["concentration"][:, ch]}

    @staticmethod
    def threshold(rule: str, chamber: str, n_total):
        """Yeas needed in ``chamber`` (:func:`bayes_coalition.coalition.rules.votes_needed`)."""
        return rules.votes_needed(rule, chamber, n_total)

    def probability_per_draw(self, rows: dict, thr) -> np.ndarray:
        """P(yea >= thr | draw) with a normal approximation to the sum of beta-binomial counts."""
        p, n, phi = rows["prob"], rows["n"], rows["phi"][..., None]
        mean = (n * p).sum(axis=-1)
        var = (n * p * (1 - p) * (n + phi) / (1 + phi)).sum(axis=-1)
        return norm.sf((thr - 0.5 - mean) / np.sqrt(np.maximum(var, 1e-9)))


def predict(model, bill: HypotheticalBill, *, seed: int = 0, prob: float = SUMMARY_PROB, predictor: BillPredictor | None = None) -> xr.Dataset:
    """P(House), P(Senate), P(enacted), yea-count draws per chamber and party, P(pivotal) and
    P(in the yes coalition) per actor, for one bill."""
    bill.validate(model.dataset)
    pr = predictor or BillPredictor(model)
    pr.reset_draws()
    rng = np.random.default_rng(seed)
    seats = bill.seats(model.dataset)
    notes = seats.pop("_notes", [])
    ep, codes = pr.episode_effect(bill, rng)
    S = pr.n_samples
    out, passed, yea_tot, n_tot, cuts = {}, {}, {}, {}, {}
    per_draw = {}
    actors = model.model_data.coords["actor"]
    ideal = pr.arrays["ideal_point"]
    pos = xr.DataArray(ideal, dims=("sample", "actor"), coords={"actor": actors})
    membership, pivotal, decisive_ = [], [], []
    for chamber in CHAMBERS:
        rows = pr.chamber_rows(bill, chamber, ep, seats, rng)
        y = beta_binomial(rng, rows["n"], rows["prob"], rows["phi"][:, None])
        total, n_total = y.sum(axis=1), int(rows["n"].sum())
        rule = bill.house_rule if chamber == "House" else bill.senate_rule
        thr = pr.threshold(rule, chamber, n_total)
        passed[chamber] = total >= thr
        per_draw[chamber] = pr.probability_per_draw(rows, thr)
        yea_tot[chamber], n_tot[chamber], cuts[chamber] = total, n_total, rows["cut"]
        party = [GROUPS[g] for g in rows["groups"]]
        out[f"yea_{chamber.lower()}"] = xr.DataArray(total, dims="sample")
        out[f"yea_{chamber.lower()}_party"] = xr.DataArray(y, dims=("sample", f"{chamber.lower()}_group"), coords={f"{chamber.lower()}_group": party})
        # actors: seat weights of factions in this chamber (independents split evenly), bill-given weights for others
        w = np.zeros((S, len(actors)))
        share = pr.arrays["faction_share"]
        n_ind = seats[chamber].get("I", 0)
        for j, a in enumerate(model.model_data.faction_actor_idx):
            party_seats = seats[chamber].get(model.model_data.faction_party[j], 0)
            w[:, a] = share[:, j] * party_seats + n_ind / len(model.model_data.faction_actor_idx)
        for actor, weight in bill.actor_weights.items():
            w[:, actors.index(actor)] = weight
        weight = xr.DataArray(w, dims=("sample", "actor"), coords={"actor": actors})
        # each legislative faction faces its party's cut-point (cut +/- tilt), as in the likelihood
        sign = np.zeros(len(actors))
        sign[model.model_data.faction_actor_idx] = rules.party_sign(model.model_data.faction_party)
        cut = xr.DataArray(rules.party_cut_point(rows["cut"][:, None], rows["tilt"][:, None], sign[None, :]),
                           dims=("sample", "actor"), coords={"actor": actors})
        membership.append(analytics.probability(analytics.yes_coalition(pos, cut, bill.yea_is_pro_trade), ("sample",)))
        pivotal.append(analytics.probability(analytics.de_swaan_pivotal(pos, weight), ("sample",)))
        decisive_.append(analytics.probability(analytics.decisive(pos, cut, weight, thr if np.isscalar(thr) else float(thr), bill.yea_is_pro_trade), ("sample",)))
    pres_idx = model.model_data.president_idx
    two_thirds = rules.override(yea_tot["House"], n_tot["House"], yea_tot["Senate"], n_tot["Senate"])
    if bill.president_rule == "override" or pres_idx is None:
        signs = np.zeros(S, dtype=bool)
    else:
        signs = rules.president_signs(ideal[:, pres_idx], 0.5 * (cuts["House"] + cuts["Senate"]), bill.yea_is_pro_trade)
    enacted = rules.enacted(passed["House"], passed["Senate"], signs, yea_tot["House"], n_tot["House"],
                            yea_tot["Senate"], n_tot["Senate"])
    per_draw["enacted"] = per_draw["House"] * per_draw["Senate"] * np.where(signs, 1.0, two_thirds.astype(float))
    ds = xr.Dataset(out)
    for key, flag, pd_ in (("p_house", passed["House"], per_draw["House"]), ("p_senate", passed["Senate"], per_draw["Senate"]),
                           ("p_enacted", enacted, per_draw["enacted"])):
        lo, hi = np.quantile(pd_, [(1 - prob) / 2, (1 + prob) / 2])
        ds[key] = xr.DataArray(float(flag.mean()), attrs={"lower": float(lo), "upper": float(hi), "prob": prob,
                                                           "interval": "equal-tailed interval of the per-draw probability"})
        ds[f"{key}_per_draw"] = xr.DataArray(pd_, dims="sample")
    ds["in_coalition"] = xr.concat(membership, dim=pd.Index(list(CHAMBERS), name="chamber"))
    ds["pivotal"] = xr.concat(pivotal, dim=pd.Index(list(CHAMBERS), name="chamber"))
    ds["decisive"] = xr.concat(decisive_, dim=pd.Index(list(CHAMBERS), name="chamber"))
    ds.attrs.update(bill=bill.name, like=bill.like or "", seed=seed, prob=prob, n_samples=S,
                    seats=str(seats), notes="; ".join(notes), codes=str({f"{s}.{i}": v for (s, i), v in codes.items()}))
    return ds


def summary_dict(ds: xr.Dataset) -> dict:
    """The JSON form: p_house, p_senate, p_enacted, yea_house, yea_senate (mean/lower/upper), pivotal, coalition."""
    prob = float(ds.attrs["prob"])
    out = {}
    for key in ("p_house", "p_senate", "p_enacted"):
        out[key] = {"mean": float(ds[key]), "lower": ds[key].attrs["lower"], "upper": ds[key].attrs["upper"]}
    for ch in ("house", "senate"):
        y = ds[f"yea_{ch}"].values
        lo, hi = np.quantile(y, [(1 - prob) / 2, (1 + prob) / 2])
        out[f"yea_{ch}"] = {"mean": float(y.mean()), "lower": float(lo), "upper": float(hi)}
    out["pivotal"] = {a: float(v) for a, v in ds["pivotal"].max("chamber").to_series().items()}
    out["coalition"] = {a: float(v) for a, v in ds["in_coalition"].mean("chamber").to_series().items()}
    out["interval_prob"] = prob
    return out


def sweep(model, base: HypotheticalBill, vary: dict, *, seed: int = 0, max_draws: int | None = 1000,
          predictor: BillPredictor | None = None, chunk: int = 512) -> pd.DataFrame:
    """P(House), P(Senate), P(both chambers) over a grid of indicator levels, vectorised on stored draws.

    ``vary`` maps "stage.indicator" (or "indicator" for voting-stage codes) to a list of levels.
    A bill of the grid differs from ``base`` only through its constructs' latent values, so its
    episode effect is the base's plus ``effect * (latent - base latent)``; every other random
    quantity is shared across the grid (common random numbers). Probabilities use the per-draw
    normal approximation to the yea count (no simulation noise).
    """
    pr = predictor or BillPredictor(model, max_draws=max_draws)
    pr.reset_draws()
    base.validate(model.dataset)
    keys = []
    for k in vary:
        stage, indicator = k.split(".") if "." in k else ("voting", k)
        keys.append((stage, indicator))
    for k, levels in zip(keys, vary.values()):
        for level in levels:
            HypotheticalBill(**{**base.__dict__, "codes": {**base.codes, k: level}}).validate(model.dataset)
    rng = np.random.default_rng(seed)
    seats = base.seats(model.dataset)
    seats.pop("_notes", None)
    ep0, codes0 = pr.episode_effect(base, rng)
    rows0 = {ch: pr.chamber_rows(base, ch, ep0, seats, rng) for ch in CHAMBERS}
    beta = pr.p["effect"]
    lat_rng = np.random.default_rng(seed + 1)
    as_mean = base.like is not None          # counterfactual shifts of an observed episode use conditional means
    base_latent = [pr.latent_draws(k, codes0, lat_rng, mean=as_mean) for k in range(len(CONSTRUCTS))]
    combos = list(itertools.product(*vary.values()))
    # per construct: the distinct code sets across the grid and each bill's index into them
    delta = np.zeros((len(combos), pr.n_samples))
    for k in range(len(CONSTRUCTS)):
        if not any(pr._construct_of(key) == k for key in keys):
            continue
        table, index = {}, np.empty(len(combos), dtype=int)
        for b, combo in enumerate(combos):
            codes = {**codes0, **dict(zip(keys, combo))}
            sig = tuple(sorted((key, v) for key, v in codes.items() if pr._construct_of(key) == k))
            if sig not in table:
                table[sig] = len(table)
            index[b] = table[sig]
        lat = np.stack([pr.latent_draws(k, dict(sig), lat_rng, mean=as_mean) for sig in table])      # (n_sets, S)
        delta += beta[:, k][None, :] * (lat[index] - base_latent[k][None, :])
    result = {}
    for ch in CHAMBERS:
        r = rows0[ch]
        rule = base.house_rule if ch == "House" else base.senate_rule
        thr = pr.threshold(rule, ch, r["n"].sum())
        out = np.empty((len(combos), pr.n_samples))
        mix = pr.arrays["republican_share"]
        for start in range(0, len(combos), chunk):
            d = delta[start:start + chunk]
            # one cut-point column shared by every party row: the factions' sigmoids are computed once
            cut = (r["cut"][None, :] - d)[..., None]                                            # (B, S, 1)
            tilt = np.broadcast_to(r["tilt"][None, :, None], cut.shape)
            prob = yea_probability(
                np, faction_position=pr.arrays["faction_position"][None], faction_share=pr.arrays["faction_share"][None],
                cut_point=cut, party_tilt=tilt, polarity=np.full(len(r["groups"]), 1.0 if base.yea_is_pro_trade else -1.0),
                group_idx=r["groups"], mix_share=None if mix is None else np.broadcast_to(mix[None], cut.shape[:2] + mix.shape[1:]),
                mix_idx=r["mix"], faction_party=pr.md.faction_party, discrimination=pr.discrimination,
            )
            out[start:start + chunk] = pr.probability_per_draw({"prob": prob, "n": r["n"], "phi": r["phi"][None, :]}, thr)
        result[ch] = out
    table = pd.DataFrame(combos, columns=[f"{s}.{i}" for s, i in keys])
    table["p_house"] = result["House"].mean(axis=1)
    table["p_senate"] = result["Senate"].mean(axis=1)
    table["p_both_chambers"] = (result["House"] * result["Senate"]).mean(axis=1)
    return table
