"""Approval of one hypothetical bill: probabilities with Monte Carlo errors, yea counts, coalitions.

:func:`predict` returns an xarray Dataset; :func:`summary_dict` its JSON form (``predict --json``).
Probabilities are posterior means over all draws of a per-draw probability that is computed, not
simulated (:func:`~bayes_coalition.prediction.predictor.approval_per_draw`), each with its Monte
Carlo standard error; :func:`sweep` and :func:`~bayes_coalition.prediction.drivers.rank_drivers`
use the same draws and estimator, so the three agree.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition.coalition import agenda, buying, rules
from bayes_coalition.coalition.predictive import beta_binomial, weighted_quantile
from bayes_coalition.constants import CHAMBERS, GROUPS, MINIMUM_WINNING_MARGIN, SUMMARY_PROB
from bayes_coalition.prediction import analytics
from bayes_coalition.prediction.baseline import party_line_p
from bayes_coalition.prediction.bills import HypotheticalBill
from bayes_coalition.prediction.predictor import (
    BillPredictor,
    approval_per_draw,
    case_effects,
    chamber_classes,
    fitted_expectations,
    floor_weighted,
)

INTERVAL_TEXT = ("the probability lies in this interval for that share of the draws of the bill's case effects "
                 "(episode, vote and party effects: from their posterior for a bill like an observed episode, "
                 "from their priors for a new one); wide: the outcome hinges on bill-specific factors the votes "
                 "cannot foresee")
PROBABILITIES = (("p_house", "House"), ("p_senate", "Senate"), ("p_enacted", "enacted"))


def decimals(mcse: float) -> int:
    """Decimals an estimate supports: the last digit shown is the first that its Monte Carlo standard
    error reaches (MCSE 0.008 -> 2 decimals: 0.69 +/- 0.008), at least 1 and at most 4."""
    if not math.isfinite(mcse) or mcse <= 0:
        return 4
    return int(min(4, max(1, math.floor(-math.log10(mcse)))))


PARTY_LINE_DRAWS = 4000   # simulated yea totals of the party-line baseline per chamber (MCSE <= 0.008)


def predict(model, bill: HypotheticalBill, *, seed: int = 0, prob: float = SUMMARY_PROB,
            predictor: BillPredictor | None = None, party_line: bool = True) -> xr.Dataset:
    """P(House), P(Senate), P(enacted) with Monte Carlo standard errors and intervals, yea-count draws
    per chamber and party, P(pivotal) and P(in the yes coalition) per actor, for one bill; and, with
    ``party_line``, the party-line baseline's P per chamber (every vote of the data: a backtest or
    cross-validation, which predicts a vote of the data, turns it off and scores its own baseline)."""
    bill.validate(model.dataset)
    pr = predictor or BillPredictor(model)
    seats = bill.seats(model.dataset)
    notes = seats.pop("_notes", [])
    used = fitted_expectations(pr, bill)        # the chambers whose floor expectation conditions the prediction
    if bill.floor_expectation and pr.p.get("expectation_slope") is None:
        notes.append("the bill's floor_expectation is not used: the model has no floor-expectation term "
                     "(model.floor_expectation = false)")
    elif set(bill.floor_expectation) - set(used):
        notes.append("the bill's floor_expectation is not used for " + " and ".join(sorted(set(bill.floor_expectation) - set(used)))
                     + f": the fit already measured the code of {bill.like}'s vote")
    rows, codes = case_effects(pr, bill, seats, seed)
    per_draw = approval_per_draw(pr, bill, rows, np.zeros((1, pr.n_samples)))
    sim_rng = np.random.default_rng([seed, 2])            # count draws: a stream of their own
    S = pr.n_samples
    md = model.model_data
    actors = md.coords["actor"]
    pos = xr.DataArray(rows["House"]["ideal"], dims=("sample", "actor"), coords={"actor": actors})
    sign = np.zeros(len(actors))
    sign[md.faction_actor_idx] = rules.party_sign(md.faction_party)
    out, membership, pivotal, decisive_ = {}, [], [], []
    for chamber in CHAMBERS:
        r = rows[chamber]
        y = beta_binomial(sim_rng, r["n"], r["prob"], r["phi"])
        if pr.p.get("buying_prob") is not None and int(rules.floor_status(bill.vote_type, bill.yea_is_pro_trade)) == rules.HELD:
            rule = bill.house_rule if chamber == "House" else bill.senate_rule
            y = buying.buy_votes(sim_rng, y, r["n"], int(rules.votes_needed(rule, chamber, int(r["n"].sum()))),
                                 pr.p["buying_prob"], pr.p["buying_reach"], buyable=buying.buyable(r["groups"]))
        out[f"yea_{chamber.lower()}"] = xr.DataArray(y.sum(axis=1), dims="sample")
        # with agenda control, each simulated count's probability of being held: the importance weight of
        # the count draws for statements about a held vote (1 without the layer or for exempt votes)
        # (times each draw's pre-vote floor-expectation weight, where the bill gives one and the model measures it)
        out[f"yea_{chamber.lower()}_floor_weight"] = xr.DataArray(
            floor_count_weights(pr, bill, chamber, y.sum(axis=1), int(r["n"].sum())) * per_draw[f"{chamber}_evidence"][0],
            dims="sample")
        group = f"{chamber.lower()}_group"
        out[f"yea_{chamber.lower()}_party"] = xr.DataArray(y, dims=("sample", group), coords={group: [GROUPS[g] for g in r["groups"]]})
        thr = float(rules.votes_needed(bill.house_rule if chamber == "House" else bill.senate_rule, chamber, int(r["n"].sum())))
        # actors: seat weights of factions in this chamber (independents split evenly), bill-given weights for others
        w = np.zeros((S, len(actors)))
        n_ind = seats[chamber].get("I", 0)
        for j, a in enumerate(md.faction_actor_idx):
            w[:, a] = r["faction_share"][:, j] * seats[chamber].get(md.faction_party[j], 0) + n_ind / len(md.faction_actor_idx)
        for actor, weight in bill.actor_weights.items():
            w[:, actors.index(actor)] = weight
        weight = xr.DataArray(w, dims=("sample", "actor"), coords={"actor": actors})
        # each legislative faction faces its party's cut-point (cut +/- tilt), as in the likelihood
        cut = xr.DataArray(rules.party_cut_point(r["cut"][:, None], r["tilt"][:, None], sign[None, :]),
                           dims=("sample", "actor"), coords={"actor": actors})
        membership.append(analytics.probability(analytics.yes_coalition(pos, cut, bill.yea_is_pro_trade), ("sample",)))
        pivotal.append(analytics.probability(analytics.de_swaan_pivotal(pos, weight), ("sample",)))
        decisive_.append(analytics.probability(analytics.decisive(pos, cut, weight, thr, bill.yea_is_pro_trade), ("sample",)))
    ds = xr.Dataset(out)
    for key, label in PROBABILITIES:
        values, weights = per_draw[label][0], per_draw[f"{label}_floor"][0]
        mean, influence = floor_weighted(values, weights)
        lo, hi = weighted_quantile(values, weights, [(1 - prob) / 2, (1 + prob) / 2])
        ds[key] = xr.DataArray(float(mean), attrs={
            "mcse": pr.mcse(influence), "lower": float(lo), "upper": float(hi), "prob": prob, "interval": INTERVAL_TEXT})
        ds[f"{key}_per_draw"] = xr.DataArray(values, dims="sample")
        ds[f"{key}_floor_per_draw"] = xr.DataArray(weights, dims="sample")
    for chamber in CHAMBERS:
        # every statement about the chamber's vote is conditional on its floor expectation where one is used
        # (weights e); the floor weights of the P(pass) ratios already hold z * e
        e = per_draw[f"{chamber}_evidence"][0] if chamber in used else None
        z, mcse = _mean_and_mcse(pr, per_draw[f"{chamber}_held"][0], e)
        ds[f"p_floor_{chamber.lower()}"] = xr.DataArray(z, attrs={"mcse": mcse})
        # outcome classes of the chamber's vote (unconditional on being held: a vote never held is a deadlock)
        for cls, values in chamber_classes(per_draw, chamber).items():
            mean, mcse = _mean_and_mcse(pr, values, e)
            ds[f"p_{cls}_{chamber.lower()}"] = xr.DataArray(mean, attrs={"mcse": mcse})
    ds.attrs.update(minimum_winning_margin=MINIMUM_WINNING_MARGIN)
    # the party-line baseline with the bill's seats and rules (every vote of the data; the bill's codes play no part):
    # the reference the model loses to out of sample, quoted so that the model's P is read against it
    if party_line:
        train = model.dataset.cases["case_id"].tolist()
        for chamber in CHAMBERS:
            rule = bill.house_rule if chamber == "House" else bill.senate_rule
            p, _ = party_line_p(model.dataset, train, chamber, seats[chamber], rule, bill.yea_is_pro_trade,
                                n_sim=PARTY_LINE_DRAWS, seed=seed)
            ds[f"p_party_line_{chamber.lower()}"] = xr.DataArray(
                p, attrs={"mcse": float(np.sqrt(p * (1 - p) / PARTY_LINE_DRAWS)), "draws": PARTY_LINE_DRAWS})
    ds["in_coalition"] = xr.concat(membership, dim=pd.Index(list(CHAMBERS), name="chamber"))
    ds["pivotal"] = xr.concat(pivotal, dim=pd.Index(list(CHAMBERS), name="chamber"))
    ds["decisive"] = xr.concat(decisive_, dim=pd.Index(list(CHAMBERS), name="chamber"))
    ds.attrs.update(agenda_control=int(pr.p.get("agenda_bar") is not None), vote_buying=int(pr.p.get("buying_prob") is not None),
                    floor_expectation=json.dumps(bill.floor_expectation),
                    floor_expectation_used=int(bool(used)))
    ds.attrs.update(bill=bill.name, like=bill.like or "", source=bill.source, seed=seed, prob=prob, n_samples=S,
                    n_chains=pr.n_chains, seats=json.dumps(seats), notes="; ".join(notes),
                    codes=json.dumps({f"{s}.{i}": v for (s, i), v in codes.items()}))
    return ds


def _mean_and_mcse(pr: BillPredictor, values: np.ndarray, weights: np.ndarray | None) -> tuple[float, float]:
    """Mean over draws and its MCSE; with floor-expectation ``weights``, the weighted mean (delta-method MCSE).
    Without, the plain mean: bit for bit what it was before the weights existed."""
    if weights is None:
        return float(values.mean()), pr.mcse(values)
    m, infl = floor_weighted(values, weights)
    return float(m), pr.mcse(infl)


def floor_count_weights(pr: BillPredictor, bill: HypotheticalBill, chamber: str, yea: np.ndarray, n_total: int) -> np.ndarray:
    """pi(simulated count) per draw for a leadership-controlled vote (coalition/agenda.py); ones otherwise."""
    if pr.p.get("agenda_bar") is None or int(rules.floor_status(bill.vote_type, bill.yea_is_pro_trade)) != rules.HELD:
        return np.ones(len(yea))
    thr = rules.votes_needed(bill.house_rule if chamber == "House" else bill.senate_rule, chamber, n_total)
    return agenda.floor_given_count(np, yea, thr, n_total, pr.p["agenda_bar"], pr.p["agenda_scale"], pr.p["agenda_leak"])


def summary_dict(ds: xr.Dataset) -> dict:
    """The JSON form of :func:`predict` (``predict --json``); README.md documents every key."""
    prob = float(ds.attrs["prob"])
    out = {"bill": {"name": ds.attrs["bill"], "like": ds.attrs["like"] or None, "file": ds.attrs.get("source")},
           "seed": int(ds.attrs["seed"]), "draws": int(ds.attrs["n_samples"]), "chains": int(ds.attrs.get("n_chains", 1)),
           "seats": json.loads(ds.attrs["seats"]), "codes": json.loads(ds.attrs["codes"]), "notes": [n for n in str(ds.attrs.get("notes", "")).split("; ") if n]}
    for key, _ in PROBABILITIES:
        a = ds[key].attrs
        out[key] = {"mean": float(ds[key]), "mcse": a["mcse"], "lower": a["lower"], "upper": a["upper"],
                    "decimals": decimals(a["mcse"])}
    for ch in ("house", "senate"):
        y = ds[f"yea_{ch}"].values.astype(float)
        w = ds[f"yea_{ch}_floor_weight"].values if f"yea_{ch}_floor_weight" in ds else np.ones(len(y))
        lo, hi = weighted_quantile(y, w, [(1 - prob) / 2, (1 + prob) / 2])
        out[f"yea_{ch}"] = {"mean": float(np.sum(w * y) / np.sum(w)), "lower": float(lo), "upper": float(hi)}
        if f"p_floor_{ch}" in ds:
            out[f"p_floor_{ch}"] = {"mean": float(ds[f"p_floor_{ch}"]), "mcse": ds[f"p_floor_{ch}"].attrs["mcse"]}
    if "p_party_line_house" in ds:
        out["party_line"] = {ch: {"mean": float(ds[f"p_party_line_{ch}"]), "mcse": ds[f"p_party_line_{ch}"].attrs["mcse"]}
                             for ch in ("house", "senate")}
    out["agenda_control"] = bool(ds.attrs.get("agenda_control", False))
    out["vote_buying"] = bool(ds.attrs.get("vote_buying", False))
    fe = json.loads(ds.attrs.get("floor_expectation", "{}"))
    out["floor_expectation"] = {"house": fe.get("House"), "senate": fe.get("Senate"),
                                "used": bool(ds.attrs.get("floor_expectation_used", False))}
    for cls in ("minimum_winning", "oversized", "deadlock"):
        if f"p_{cls}_house" in ds:
            out[f"p_{cls}"] = {ch: {"mean": float(ds[f"p_{cls}_{ch}"]), "mcse": ds[f"p_{cls}_{ch}"].attrs["mcse"]}
                               for ch in ("house", "senate")}
    if "minimum_winning_margin" in ds.attrs:
        out["minimum_winning_margin"] = int(ds.attrs["minimum_winning_margin"])
    out["pivotal"] = {a: float(v) for a, v in ds["pivotal"].max("chamber").to_series().items()}
    out["coalition"] = {a: float(v) for a, v in ds["in_coalition"].mean("chamber").to_series().items()}
    out["interval_prob"] = prob
    out["interval"] = ds["p_house"].attrs["interval"]
    return out
