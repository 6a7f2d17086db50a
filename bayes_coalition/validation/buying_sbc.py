"""Simulation-based calibration of the vote-buying layer's parameters (issue 14), with the count model held fixed.

The full model's SBC (:mod:`bayes_coalition.validation.sbc`) does not include the layer: its observed totals enter
the graph as constants. As for agenda control (:mod:`bayes_coalition.validation.agenda_sbc`), this SBC checks what
is new in the layer (its priors, b(d), the factor of a count at, below or above its threshold) on the layer's own
likelihood with each vote's natural count distribution fixed:

- the design: the shipped data's leadership-controlled votes with a count (``rules.floor_status`` ``HELD``), each
  with its number voting ``n``, the yeas its rule needs ``t`` and a natural count on the integers 0..n with
  probabilities proportional to the normal density at mean its observed count and standard deviation
  ``COUNT_SD_SHARE * n`` (a discrete Gaussian: the ratio f(t - d) / f(t) of the layer's factor is then exact);
- the prior: ``buying_prob`` and ``buying_reach`` from the spec's priors (the layer has no selection event, so
  the truths are plain prior draws);
- the data: each vote's natural count, bought up to its threshold with probability b(d) when d short
  (:func:`bayes_coalition.coalition.buying.buy_votes`, as the model's simulations);
- the fit: the layer's factor for every vote (0 above the threshold, log(1 - b(t - y)) below it,
  log(1 + sum_d b(d) f(t - d) / f(t)) at it) through the same functions as the full model's likelihood, with the
  counts in ``pm.Data`` so one compilation serves every simulation.

Ranks on draws thinned to their effective sample size, written resumably through the store of every SBC; each
simulation is a task of the executor (:mod:`bayes_coalition.parallel`).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition.coalition import buying, rules

COUNT_SD_SHARE = 0.03
GROUPS = buying.PARAMETERS
PRIOR_KEYS = ("buying_prob_alpha", "buying_prob_beta", "buying_reach_median", "buying_reach_log_sd")


def layer_design(md) -> dict:
    """The held votes of ``md`` with their ``n``, ``threshold``, observed count and natural count ``mean``/``sd``."""
    from bayes_coalition.coalition.graph import floor_rows

    held = np.flatnonzero(md.case_floor == rules.HELD)
    fr = floor_rows(md, held)
    n = fr["n_case"]
    return {"case": [md.coords["case"][c] for c in held], "n": n, "threshold": fr["threshold"],
            "mean": fr["yea_case"].astype(float), "sd": COUNT_SD_SHARE * n, "observed": fr["yea_case"].astype(float)}


def draw_prior(priors: dict, rng, size: int = 1) -> dict:
    return {"buying_prob": rng.beta(priors["buying_prob_alpha"], priors["buying_prob_beta"], size),
            "buying_reach": np.exp(rng.normal(np.log(priors["buying_reach_median"]), priors["buying_reach_log_sd"], size))}


def natural_counts(design: dict, rng) -> np.ndarray:
    """One natural count per vote from its discrete Gaussian on 0..n (inverse CDF)."""
    out = np.empty(len(design["n"]), dtype=np.int64)
    for j, (n, m, s) in enumerate(zip(design["n"], design["mean"], design["sd"])):
        y = np.arange(int(n) + 1)
        logp = -0.5 * ((y - m) / s) ** 2
        p = np.exp(logp - logp.max())
        out[j] = int(np.searchsorted(np.cumsum(p) / p.sum(), rng.uniform(), side="right"))
    return np.minimum(out, design["n"].astype(np.int64))


def simulate(design: dict, priors: dict, rng) -> tuple[dict, np.ndarray]:
    """One simulation: a prior draw and the votes' counts after buying."""
    theta = {k: float(v[0]) for k, v in draw_prior(priors, rng).items()}
    y = natural_counts(design, rng)
    out = np.empty(len(y))
    for j, (yj, n, t) in enumerate(zip(y, design["n"], design["threshold"])):
        out[j] = buying.buy_votes(rng, np.array([[yj]]), np.array([int(n)]), int(t), np.array([theta["buying_prob"]]),
                                  np.array([theta["buying_reach"]]))[0, 0]
    return theta, out


def build_layer_model(design: dict, priors: dict):
    """The layer's likelihood with the natural counts fixed in distribution; the counts in ``pm.Data`` (``yea``)."""
    import pymc as pm
    import pytensor.tensor as pt

    n, t = design["n"].astype(float), design["threshold"].astype(float)
    d, mask = buying.shortfall_grid(n)
    with pm.Model() as model:
        y = pm.Data("yea", design["observed"])
        prob = pm.Beta("buying_prob", priors["buying_prob_alpha"], priors["buying_prob_beta"])
        reach = pm.LogNormal("buying_reach", np.log(priors["buying_reach_median"]), priors["buying_reach_log_sd"])
        below = pt.log1p(-buying.close_probability(pt, t - y, n, prob, reach))
        at = buying.log_factor_at_threshold(pt, t, design["mean"], design["sd"] ** 2, n, prob, reach, d, mask)
        pm.Potential("vote_buying", pt.sum(pt.switch(pt.lt(y, t), below, pt.switch(pt.eq(y, t), at, 0.0))))
    return model


def _compiled(design: dict, priors: dict):
    import nutpie

    return nutpie.compile_pymc_model(build_layer_model(design, priors))


def buying_sbc_task(design: dict, priors: dict, sim: int, seed: int, draws: int, tune: int, chains: int,
                    cores: int, n_keep: int) -> tuple:
    """One simulation (a pure function of ``(seed, sim)`` and the settings): ``(rank rows, fit statistics)``."""
    from bayes_coalition.parallel import content_key, worker_cached
    from bayes_coalition.sampling import sample_compiled
    from bayes_coalition.validation.sbc import _fit_stats, _ranks

    compiled = worker_cached(("buying-sbc", content_key(design, priors)), lambda: _compiled(design, priors))
    rng = np.random.default_rng([int(seed), sim])
    theta, y = simulate(design, priors, rng)
    fit_seed = int(rng.integers(2**31 - 1))
    ts = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = sample_compiled(compiled.with_data(yea=y), draws=draws, tune=tune, chains=chains, cores=cores,
                                seed=fit_seed, low_rank_mass_matrix=False)
    seconds = time.perf_counter() - ts
    post = {k: idata.posterior[k].values.reshape(-1) for k in GROUPS}
    return _ranks(sim, theta, post, n_keep, rng, int(idata.posterior.sizes["chain"])), _fit_stats(idata, seconds)


def run_buying_sbc(spec: dict, n_sims: int, *, seed: int, out_dir: Path, draws: int = 500, tune: int = 500,
                   chains: int = 2, n_keep: int = 99, dataset=None, progress: bool = True, executor=None, client=None,
                   workers: int | None = None) -> pd.DataFrame:
    """SBC of the vote-buying layer of ``spec`` (module docstring); returns all ranks (also in ``out_dir/sbc.csv``)."""
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.parallel import resolve
    from bayes_coalition.validation.sbc import _Store, run_into_store

    spec = {**spec, "model": {**spec["model"], "vote_buying": True, "agenda_control": False}}
    base = CoalitionModel(dataset=dataset, spec=spec)
    design = layer_design(base.model_data)
    priors = {k: float(base.spec["priors"][k]) for k in PRIOR_KEYS}
    store = _Store(out_dir)
    ex, own = resolve(executor, client=client, workers=workers)
    tasks = [(sim, (design, priors, sim, seed, draws, tune, chains, ex.cores(chains), n_keep))
             for sim in range(n_sims) if sim not in store.done]
    return run_into_store(store, ex, own, buying_sbc_task, tasks, label="buying sbc", progress=progress)
