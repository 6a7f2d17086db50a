"""Simulation-based calibration of the agenda-control layer's parameters (issue 14), with the count model held
fixed.

The full model's SBC (:mod:`bayes_coalition.validation.sbc`, with the layer's data from
:mod:`~bayes_coalition.validation.sbc_strategic`) draws every held vote's party rows given that the vote is held,
but one fit with the layer takes about four minutes on two cores (a hundred simulations: seven hours). This SBC
checks what is new in the
layer (its priors, pi(y), the normalisation Z, the conditioning on being held, the withdrawn measure as an
event) on the layer's own likelihood, with each vote's count distribution fixed:

- the design: the shipped data's leadership-controlled votes (``rules.floor_status``: held or withdrawn), each
  with its number voting ``n``, the yeas its rule needs ``T`` and a normal count distribution with mean its
  observed count (the whip count's middle for the withdrawn 1997 measure, ``n`` its seats) and standard
  deviation ``COUNT_SD_SHARE * n`` (0.03: about the posterior predictive spread of a House count, 13 votes);
- the prior: ``agenda_bar``, ``agenda_scale``, ``agenda_leak`` from the spec's priors, *given the withdrawal*:
  a prior draw is kept with probability ``1 - Z_withdrawn`` (the model's ``log(1 - Z)`` term is a function of
  the parameters only, so the joint distribution the fit targets draws its truths this way);
- the data: each held vote's count drawn from its normal distribution given that it is held (rejection with
  probability ``pi(y)``);
- the fit: the same terms as the full model's layer, ``sum_held [log pi(y) - log Z] + log(1 - Z_withdrawn)``,
  through the same functions (:mod:`bayes_coalition.coalition.agenda`), with Z in closed form (the count's
  own shocks are already in its normal distribution here).

Ranks are taken on draws thinned to their effective sample size, and written resumably through the same store
as every SBC (``sbc.csv``, ``sbc_fits.csv``); each simulation is a task of the executor
(:mod:`bayes_coalition.parallel`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition.coalition import agenda, rules

COUNT_SD_SHARE = 0.03
GROUPS = ("agenda_bar", "agenda_scale", "agenda_leak")


def layer_design(md) -> dict:
    """The held and withdrawn votes of ``md`` with their ``n``, ``threshold`` and count ``mean`` and ``sd``."""
    from bayes_coalition.coalition.graph import floor_rows

    held = np.flatnonzero(md.case_floor == rules.HELD)
    withdrawn = np.flatnonzero(md.case_floor == rules.WITHDRAWN)
    fr = floor_rows(md, np.concatenate([held, withdrawn]))
    mean = fr["yea_case"].astype(float)
    for j, c in enumerate(withdrawn, start=len(held)):
        rows = np.flatnonzero(md.int_case_idx == c)
        mean[j] = float(np.sum((md.int_lower[rows] + md.int_upper[rows]) / 2.0))
    n = fr["n_case"]
    return {"case": [md.coords["case"][c] for c in np.concatenate([held, withdrawn])], "n_held": len(held),
            "n": n, "threshold": fr["threshold"], "mean": mean, "sd": COUNT_SD_SHARE * n, "observed": mean[: len(held)]}


def draw_prior(priors: dict, rng, size: int = 1) -> dict:
    """Prior draws of the layer's parameters (the spec's priors)."""
    return {"agenda_bar": rng.normal(0.0, priors["agenda_bar_sd"], size),
            "agenda_scale": np.exp(rng.normal(np.log(priors["agenda_scale_median"]), priors["agenda_scale_log_sd"], size)),
            "agenda_leak": agenda.draw_leak(priors, rng, size)}


def z_values(design: dict, theta: dict) -> np.ndarray:
    """Z per vote of the design (closed form) at scalar parameters."""
    return agenda.floor_probability(np, design["mean"], design["sd"] ** 2, design["threshold"], design["n"],
                                    theta["agenda_bar"], theta["agenda_scale"], theta["agenda_leak"])


def simulate_truth(design: dict, priors: dict, rng, *, batch: int = 256) -> dict:
    """One truth: a prior draw kept with probability 1 - Z of the withdrawn votes (rejection)."""
    h = design["n_held"]
    while True:
        draws = draw_prior(priors, rng, batch)
        for i in range(batch):
            theta = {k: float(v[i]) for k, v in draws.items()}
            if rng.uniform() < np.prod(1.0 - z_values(design, theta)[h:]):
                return theta


def simulate_held_counts(design: dict, theta: dict, rng, *, batch: int = 256) -> np.ndarray:
    """The held votes' counts given that they are held: normal candidates accepted with probability pi(y)."""
    h = design["n_held"]
    y = np.full(h, np.nan)
    mean, sd, thr, n = (design[k][:h] for k in ("mean", "sd", "threshold", "n"))
    while np.isnan(y).any():
        todo = np.flatnonzero(np.isnan(y))
        cand = rng.normal(mean[todo, None], sd[todo, None], size=(len(todo), batch))
        pi = agenda.floor_given_count(np, cand, thr[todo, None], n[todo, None], theta["agenda_bar"],
                                      theta["agenda_scale"], theta["agenda_leak"])
        accept = rng.uniform(size=cand.shape) < pi
        first = np.argmax(accept, axis=1)
        ok = accept[np.arange(len(todo)), first]
        y[todo[ok]] = cand[ok, first[ok]]
    return y


def simulate(design: dict, priors: dict, rng) -> tuple[dict, np.ndarray]:
    """One simulation: a truth given the withdrawal and the held counts given held."""
    theta = simulate_truth(design, priors, rng)
    return theta, simulate_held_counts(design, theta, rng)


def build_layer_model(design: dict, priors: dict):
    """The layer's likelihood with the counts fixed in distribution; the held counts in ``pm.Data`` (``held_yea``)."""
    import pymc as pm
    import pytensor.tensor as pt

    h = design["n_held"]
    with pm.Model() as model:
        y = pm.Data("held_yea", design["observed"])
        bar = pm.Normal("agenda_bar", 0.0, priors["agenda_bar_sd"])
        scale = pm.LogNormal("agenda_scale", np.log(priors["agenda_scale_median"]), priors["agenda_scale_log_sd"])
        leak = agenda.leak_variable(priors)
        z = agenda.floor_probability(pt, design["mean"], design["sd"] ** 2, design["threshold"], design["n"], bar, scale,
                                     leak)
        log_pi = pt.log(agenda.floor_given_count(pt, y, design["threshold"][:h], design["n"][:h], bar, scale, leak))
        pm.Potential("agenda_held", pt.sum(log_pi - pt.log(z[:h])))
        if len(design["n"]) > h:
            pm.Potential("agenda_withdrawn", pt.sum(pt.log1p(-z[h:])))
    return model


def _compiled(design: dict, priors: dict):
    import nutpie

    return nutpie.compile_pymc_model(build_layer_model(design, priors))


def agenda_sbc_task(design: dict, priors: dict, sim: int, seed: int, draws: int, tune: int, chains: int,
                    cores: int, n_keep: int) -> tuple:
    """One simulation (a pure function of ``(seed, sim)`` and the settings): ``(rank rows, fit statistics)``."""
    from bayes_coalition.parallel import content_key, worker_cached
    from bayes_coalition.validation.sbc import layer_fit_ranks

    compiled = worker_cached(("agenda-sbc", content_key(design, priors)),
                             lambda: _compiled(design, priors))
    rng = np.random.default_rng([int(seed), sim])
    theta, y = simulate(design, priors, rng)
    return layer_fit_ranks(compiled, {"held_yea": y}, theta, GROUPS, sim, rng, fit_seed=int(rng.integers(2**31 - 1)),
                           draws=draws, tune=tune, chains=chains, cores=cores, n_keep=n_keep)


def run_agenda_sbc(spec: dict, n_sims: int, *, seed: int, out_dir: Path, draws: int = 500, tune: int = 500,
                   chains: int = 2, n_keep: int = 99, dataset=None, progress: bool = True, executor=None, client=None, workers: int | None = None) -> pd.DataFrame:
    """SBC of the agenda-control layer of ``spec`` (module docstring); returns all ranks (also in ``out_dir/sbc.csv``)."""
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.validation.sbc import run_layer_sbc

    spec = {**spec, "model": {**spec["model"], "agenda_control": True}}
    base = CoalitionModel(dataset=dataset, spec=spec)
    priors = {k: float(base.spec["priors"][k]) for k in ("agenda_bar_sd", "agenda_scale_median", "agenda_scale_log_sd",
                                                         "agenda_leak_alpha", "agenda_leak_beta", "agenda_leak_floor")}
    return run_layer_sbc(agenda_sbc_task, layer_design(base.model_data), priors, n_sims, seed=seed, out_dir=out_dir,
                         draws=draws, tune=tune, chains=chains, n_keep=n_keep, label="agenda sbc", progress=progress,
                         executor=executor, client=client, workers=workers)
