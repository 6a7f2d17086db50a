"""Run NUTS on a PyMC model with the selected sampler; sample free variables, then compute deterministics."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence

import pymc as pm

from bayes_coalition.constants import SAMPLERS
from bayes_coalition.draws import compute_deterministics


def available(name: str) -> bool:
    if name == "pymc":
        return True
    module = {"nutpie": "nutpie", "numpyro": "numpyro", "blackjax": "blackjax"}.get(name)
    return module is not None and importlib.util.find_spec(module) is not None


def resolve_sampler(name: str) -> str:
    if name not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {name!r}")
    if name == "auto":
        return "nutpie" if available("nutpie") else "pymc"
    if not available(name):
        raise ImportError(f"sampler '{name}' is not installed (pip install {name})")
    return name


def sample_model(
    model: pm.Model,
    *,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    random_seed: int,
    progressbar: bool = True,
    cores: int | None = None,
    low_rank_mass_matrix: bool = True,
    var_names: Sequence[str] | None = None,
):
    """Sample and return (InferenceData with posterior + sample_stats, seconds, sampler used).

    By default the free variables are sampled and the deterministics computed from them
    afterwards.  ``var_names`` instead names what the sampler itself records (deterministics
    included, nothing is recomputed; :mod:`bayes_coalition.draws` computes them otherwise): nutpie evaluates deterministics in its numba expand
    function, whose last bits differ from a recomputation on PyTensor's C backend, so a model
    whose draws were always recorded that way (the ideal-point model) keeps bit-identical
    posteriors for a given seed."""
    sampler = resolve_sampler(sampler)
    free = [v.name for v in model.free_RVs]
    extra = {}
    if sampler == "nutpie" and low_rank_mass_matrix:
        # nutpie's low-rank mass matrix adapts to the linear ridges between the cut-point
        # intercept and the episode effects (min ESS 342 -> 689 on the default spec)
        extra["nuts_sampler_kwargs"] = {"low_rank_modified_mass_matrix": True}
    t0 = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores if cores is not None else min(chains, 2),
            target_accept=target_accept,
            random_seed=int(random_seed),
            nuts_sampler=sampler,
            var_names=free if var_names is None else list(var_names),
            progressbar=progressbar,
            compute_convergence_checks=False,
            **extra,
        )
        if var_names is None:
            idata.posterior = idata.posterior.assign(compute_deterministics(model, idata.posterior))
    for group in ("warmup_posterior", "warmup_sample_stats"):   # nutpie keeps tuning draws; runs do not need them
        if group in idata.groups():
            delattr(idata, group)
    idata.posterior.attrs["free_variables"] = ",".join(free)
    seconds = time.perf_counter() - t0
    return idata, seconds, sampler


def sample_compiled(compiled, *, draws: int, tune: int, chains: int, seed: int, target_accept: float,
                    low_rank_mass_matrix: bool = True, cores: int | None = None):
    """nutpie on an already compiled model (``nutpie.compile_pymc_model``, new data through its
    ``with_data``): the path of fits that reuse one compilation (backtest origins, leave-one-episode-out,
    SBC, the seed benchmark). No tuning draws are kept. ``target_accept`` is required: a fit of a spec passes the
    spec's (an optional one let the coalition SBC fall back to nutpie's default, 0.8, unnoticed until 2026-12-01)."""
    import nutpie

    return nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, cores=cores if cores is not None else min(chains, 2),
                         seed=int(seed), progress_bar=False, save_warmup=False, target_accept=float(target_accept),
                         low_rank_modified_mass_matrix=bool(low_rank_mass_matrix))



def chain_only(idata):
    """What a one-chain task sends back to the driver: the posterior and the sampler statistics."""
    from bayes_coalition import _arviz

    return _arviz.inference_data(posterior=idata.posterior, sample_stats=idata.sample_stats)


def merge_chains(parts: list):
    """One InferenceData of a fit whose chains ran as separate tasks (:meth:`bayes_coalition.parallel.Executor.stream`):
    ``parts`` are ``(InferenceData, seconds)`` in chain order, renumbered 0..C-1; returns it and the chains' total
    seconds (the core-seconds of the fit, not its wall time)."""
    import xarray as xr

    from bayes_coalition import _arviz

    groups = {}
    for group in ("posterior", "sample_stats"):
        sets = [idata[group].assign_coords(chain=[c]) for c, (idata, _) in enumerate(parts)]
        groups[group] = xr.concat(sets, dim="chain", combine_attrs="override")
    return _arviz.inference_data(**groups), float(sum(seconds for _, seconds in parts))


class ChainGather:
    """Collects the chains of fits that ran as separate tasks: :meth:`add` returns the merged fit
    (:func:`merge_chains`) when the last of its ``chains`` arrives, else None."""

    def __init__(self, chains: int):
        self.chains = int(chains)
        self._parts: dict = {}

    def add(self, fit, chain: int, part):
        parts = self._parts.setdefault(fit, {})
        parts[chain] = part
        if len(parts) < self.chains:
            return None
        del self._parts[fit]
        return merge_chains([parts[c] for c in range(self.chains)])
