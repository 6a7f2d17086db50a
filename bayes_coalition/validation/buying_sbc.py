"""Simulation-based calibration of the vote-buying layer's parameters (issue 14), with the count model held fixed.

The full model's SBC (:mod:`bayes_coalition.validation.sbc`) does not include the layer: its observed totals enter
the graph as constants. As for agenda control (:mod:`bayes_coalition.validation.agenda_sbc`), this SBC checks what
is new in the layer (its priors, b(d), the factor of a count at, below or above its threshold) on the layer's own
likelihood with each vote's natural count distribution fixed:

- the design: the shipped data's leadership-controlled votes with a count (``rules.floor_status`` ``HELD``), each
  with its Republican and Democratic rows (members ``n_R``, ``n_D``), the yeas its rule needs ``t`` and natural
  party counts beta-binomial with the observed yea shares and concentration ``CONCENTRATION`` (100, about the
  model's posterior);
- the prior: ``buying_prob`` and ``buying_reach`` from the spec's priors (the layer has no selection event, so
  the truths are plain prior draws);
- the data: each vote's natural rows, bought up to its threshold with probability b(d) when d short
  (:func:`bayes_coalition.coalition.buying.buy_votes`, as the model's simulations);
- the fit: the layer's term for every vote (0 above the threshold, log(1 - b(t - y)) below it, the mixture over
  the natural rows at it) through the same functions as the full model's likelihood
  (:func:`~bayes_coalition.coalition.buying.log_factor_at_threshold`), the data-dependent pieces (which side of
  the threshold, the rows' log pmf at the shifted counts, the split probabilities) in ``pm.Data`` so one
  compilation serves every simulation.

Ranks on draws thinned to their effective sample size, written resumably through the store of every SBC; each
simulation is a task of the executor (:mod:`bayes_coalition.parallel`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition.coalition import buying, rules

CONCENTRATION = 100.0
GROUPS = buying.PARAMETERS
PRIOR_KEYS = ("buying_prob_alpha", "buying_prob_beta", "buying_reach_median", "buying_reach_log_sd")


def layer_design(md) -> dict:
    """The held votes of ``md``: per vote ``n`` voting, ``threshold``, and per party row (R, D) members ``n_r``/``n_d``,
    observed yeas ``observed_r``/``observed_d`` and the natural yea probability ``p_r``/``p_d`` (the observed share,
    kept inside (0.005, 0.995))."""
    from bayes_coalition.coalition.graph import floor_rows, party_rows_of

    held = np.flatnonzero(md.case_floor == rules.HELD)
    fr = floor_rows(md, held)
    row_r, row_d = party_rows_of(md, held)
    out = {"case": [md.coords["case"][c] for c in held], "threshold": fr["threshold"]}
    for key, rows in (("r", row_r), ("d", row_d)):
        out[f"n_{key}"] = md.obs_n[rows].astype(float)
        out[f"observed_{key}"] = md.obs_yea[rows].astype(float)
        out[f"p_{key}"] = np.clip(md.obs_yea[rows] / md.obs_n[rows], 0.005, 0.995)
    out["other"] = fr["n_case"] - out["n_r"] - out["n_d"]           # independents: voting, never bought
    out["other_yea"] = fr["yea_case"] - out["observed_r"] - out["observed_d"]
    out["n"] = fr["n_case"]
    return out


def draw_prior(priors: dict, rng, size: int = 1) -> dict:
    return {"buying_prob": rng.beta(priors["buying_prob_alpha"], priors["buying_prob_beta"], size),
            "buying_reach": np.exp(rng.normal(np.log(priors["buying_reach_median"]), priors["buying_reach_log_sd"], size))}


def simulate(design: dict, priors: dict, rng, theta: dict | None = None) -> tuple[dict, dict]:
    """One simulation: a prior draw (or ``theta``) and each vote's party rows after buying (independents keep their
    observed yeas)."""
    from bayes_coalition.coalition.predictive import beta_binomial

    if theta is None:
        theta = {k: float(v[0]) for k, v in draw_prior(priors, rng).items()}
    yr = beta_binomial(rng, design["n_r"].astype(np.int64), design["p_r"], CONCENTRATION)
    yd = beta_binomial(rng, design["n_d"].astype(np.int64), design["p_d"], CONCENTRATION)
    out_r, out_d = np.empty(len(yr)), np.empty(len(yd))
    for j in range(len(yr)):
        rows = np.array([[yr[j], yd[j], design["other_yea"][j]]], dtype=np.int64)
        n_rows = np.array([design["n_r"][j], design["n_d"][j], design["other"][j]], dtype=np.int64)
        after = buying.buy_votes(rng, rows, n_rows, int(design["threshold"][j]), np.array([theta["buying_prob"]]),
                                 np.array([theta["buying_reach"]]), buyable=np.array([True, True, False]))
        out_r[j], out_d[j] = after[0, 0], after[0, 1]
    return theta, {"observed_r": out_r, "observed_d": out_d}


def layer_data(design: dict, counts: dict) -> dict:
    """The fit's data of one simulation (names of ``pm.Data``): which side of its threshold each vote is, its
    shortfall, the rows' log pmf at the shifted counts and the split constants of the at-threshold mixture."""
    from scipy import stats

    r, d = counts["observed_r"], counts["observed_d"]
    total = r + d + design["other_yea"]
    t = design["threshold"]
    grid = buying.split_grid(r, design["n_r"], d, design["n_d"], design["n"])
    lps = []
    for key, obs in (("r", r), ("d", d)):
        n, p = design[f"n_{key}"], design[f"p_{key}"]
        shifted = buying.shifted_counts(obs, n, grid["k"])
        lps.append(stats.betabinom.logpmf(shifted, n[:, None], (p * CONCENTRATION)[:, None],
                                          ((1 - p) * CONCENTRATION)[:, None]))
    party_nays = design["n_r"] + design["n_d"] - r - d
    return {"below": (total < t).astype(float), "at": (total == t).astype(float),
            "short": np.where(total < t, t - total, 0.0), "buyable": (t - total <= party_nays).astype(float),
            "lp_r": lps[0], "lp_d": lps[1], "valid": grid["valid"].astype(float), "log_h": grid["log_h"]}


def build_layer_model(design: dict, priors: dict, data: dict | None = None):
    """The layer's likelihood with the natural rows fixed in distribution; the data in ``pm.Data``
    (default: the shipped counts)."""
    import pymc as pm
    import pytensor.tensor as pt

    if data is None:
        data = layer_data(design, {"observed_r": design["observed_r"], "observed_d": design["observed_d"]})
    n = design["n"].astype(float)
    grid0 = buying.split_grid(design["observed_r"], design["n_r"], design["observed_d"], design["n_d"], n)
    with pm.Model() as model:
        v = {k: pm.Data(k, val) for k, val in data.items()}
        prob = pm.Beta("buying_prob", priors["buying_prob_alpha"], priors["buying_prob_beta"])
        reach = pm.LogNormal("buying_reach", np.log(priors["buying_reach_median"]), priors["buying_reach_log_sd"])
        below = pt.log1p(-buying.close_probability(pt, v["short"], n, prob, reach) * v["buyable"])
        grid = {**grid0, "valid": v["valid"], "log_h": v["log_h"]}
        at = buying.log_factor_at_threshold(pt, v["lp_r"], v["lp_d"], grid, prob, reach)
        pm.Potential("vote_buying", pt.sum(v["below"] * below + v["at"] * at))
    return model


def _compiled(design: dict, priors: dict):
    import nutpie

    return nutpie.compile_pymc_model(build_layer_model(design, priors))


def buying_sbc_task(design: dict, priors: dict, sim: int, seed: int, draws: int, tune: int, chains: int,
                    cores: int, n_keep: int) -> tuple:
    """One simulation (a pure function of ``(seed, sim)`` and the settings): ``(rank rows, fit statistics)``."""
    from bayes_coalition.parallel import content_key, worker_cached
    from bayes_coalition.validation.sbc import layer_fit_ranks

    compiled = worker_cached(("buying-sbc", content_key(design, priors)), lambda: _compiled(design, priors))
    rng = np.random.default_rng([int(seed), sim])
    theta, counts = simulate(design, priors, rng)
    return layer_fit_ranks(compiled, layer_data(design, counts), theta, GROUPS, sim, rng,
                           fit_seed=int(rng.integers(2**31 - 1)), draws=draws, tune=tune, chains=chains, cores=cores,
                           n_keep=n_keep)


def run_buying_sbc(spec: dict, n_sims: int, *, seed: int, out_dir: Path, draws: int = 500, tune: int = 500,
                   chains: int = 2, n_keep: int = 99, dataset=None, progress: bool = True, executor=None, client=None,
                   workers: int | None = None) -> pd.DataFrame:
    """SBC of the vote-buying layer of ``spec`` (module docstring); returns all ranks (also in ``out_dir/sbc.csv``)."""
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.validation.sbc import run_layer_sbc

    spec = {**spec, "model": {**spec["model"], "vote_buying": True, "agenda_control": False}}
    base = CoalitionModel(dataset=dataset, spec=spec)
    priors = {k: float(base.spec["priors"][k]) for k in PRIOR_KEYS}
    return run_layer_sbc(buying_sbc_task, layer_design(base.model_data), priors, n_sims, seed=seed, out_dir=out_dir,
                         draws=draws, tune=tune, chains=chains, n_keep=n_keep, label="buying sbc", progress=progress,
                         executor=executor, client=client, workers=workers)
