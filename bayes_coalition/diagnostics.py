"""Convergence diagnostics of a fit: R-hat, ESS, divergences, BFMI, tree depth; a verdict line.

:func:`convergence` returns the dict written to ``diagnostics.json``; :func:`check`
turns it into a verdict and warns (ConvergenceWarning) when a threshold is missed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from bayes_coalition import _arviz
from bayes_coalition.errors import ConvergenceWarning

DEFAULT_MAX_TREEDEPTH = 10  # PyMC's and nutpie's default

THRESHOLDS = {"max_rhat": 1.01, "min_ess_bulk": 400.0, "min_ess_tail": 400.0, "divergences": 0, "min_bfmi": 0.3}


def _extreme(ds, fn) -> float:
    vals = [np.asarray(ds[v]).ravel() for v in ds.data_vars]
    vals = np.concatenate(vals) if vals else np.array([np.nan])
    vals = vals[np.isfinite(vals)]
    return float(fn(vals)) if vals.size else float("nan")


def free_variable_names(idata, exclude=()) -> list[str]:
    """Posterior variables that are sampled (not Deterministic), when the fit recorded them."""
    names = list(idata.posterior.data_vars)
    free = idata.posterior.attrs.get("free_variables")
    if free:
        names = [n for n in names if n in set(str(free).split(","))]
    return [n for n in names if n not in set(exclude)]


def convergence(idata, var_names=None) -> dict:
    """The diagnostics dict (keys as in diagnostics.json); elements constant over the draws (a value fixed by
    identification) have no R-hat or ESS and are left out (``_arviz`` returns NaN for them)."""
    var_names = var_names or list(idata.posterior.data_vars)
    chains = int(idata.posterior.sizes["chain"])
    draws = int(idata.posterior.sizes["draw"])
    out = {"chains": chains, "draws": draws}
    if chains > 1:
        out["max_rhat"] = _extreme(_arviz.rhat(idata, var_names), np.max)
    else:
        out["max_rhat"] = float("nan")
    out["min_ess_bulk"] = _extreme(_arviz.ess(idata, var_names, "bulk"), np.min)
    out["min_ess_tail"] = _extreme(_arviz.ess(idata, var_names, "tail"), np.min)
    stats = sampler_stats(idata)
    for key in ("divergences", "min_bfmi", "bfmi_per_chain", "max_tree_depth"):
        if key in stats:
            out[key] = stats[key]
    if "treedepth_saturated" in stats:
        out["max_tree_depth_hits"] = stats["treedepth_saturated"]
    return out


def sampler_stats(idata) -> dict:
    """Divergences, BFMI and tree-depth saturation from sample_stats, in total and per chain."""
    out: dict = {}
    stats = idata.get("sample_stats") if hasattr(idata, "get") else None
    n_chain = int(idata.posterior.sizes["chain"])
    per_chain = pd.DataFrame({"chain": np.arange(n_chain)})
    if stats is not None and "diverging" in stats:
        div = np.asarray(stats["diverging"]).reshape(n_chain, -1)
        out["divergences"] = int(div.sum())
        per_chain["divergences"] = div.sum(axis=1).astype(int)
    else:
        out["divergences"] = None
    if stats is not None and "energy" in stats:
        bf = _arviz.bfmi(idata)
        out["min_bfmi"] = float(np.min(bf))
        out["bfmi_per_chain"] = [float(b) for b in bf]
        if len(bf) == n_chain:
            per_chain["bfmi"] = bf
    else:
        out["min_bfmi"] = None
    depth_key = next((k for k in ("tree_depth", "depth") if stats is not None and k in stats), None)
    flag_key = next((k for k in ("reached_max_treedepth", "maxdepth_reached") if stats is not None and k in stats), None)
    if depth_key is not None:
        depth = np.asarray(stats[depth_key]).reshape(n_chain, -1)
        out["max_tree_depth"] = int(depth.max()) if depth.size else 0
        per_chain["mean_tree_depth"] = depth.mean(axis=1)
        per_chain["max_tree_depth"] = depth.max(axis=1).astype(int)
    if flag_key is not None:
        sat = np.asarray(stats[flag_key]).reshape(n_chain, -1).astype(bool)
        out["treedepth_rule"] = f"sample_stats.{flag_key}"
    elif depth_key is not None:
        sat = depth >= DEFAULT_MAX_TREEDEPTH
        out["treedepth_rule"] = f"tree depth >= {DEFAULT_MAX_TREEDEPTH} (the samplers' default maximum)"
    else:
        sat = None
    if sat is not None:
        out["treedepth_saturated"] = int(sat.sum())
        out["treedepth_saturated_share"] = float(sat.mean()) if sat.size else 0.0
        per_chain["saturated_share"] = sat.mean(axis=1)
    out["per_chain"] = per_chain
    return out


def failures(diag: dict) -> list[str]:
    """Which thresholds a diagnostics dict misses (empty list = pass)."""
    bad = []
    t = THRESHOLDS
    if diag.get("max_rhat") is not None and not math.isnan(diag["max_rhat"]) and diag["max_rhat"] > t["max_rhat"]:
        bad.append(f"max R-hat {diag['max_rhat']:.3f} > {t['max_rhat']}")
    for key, label in (("min_ess_bulk", "bulk ESS"), ("min_ess_tail", "tail ESS")):
        if diag.get(key) is not None and not math.isnan(diag[key]) and diag[key] < t[key]:
            bad.append(f"min {label} {diag[key]:.0f} < {t[key]:.0f}")
    if diag.get("divergences"):
        bad.append(f"{diag['divergences']} divergent transitions")
    if diag.get("min_bfmi") is not None and diag["min_bfmi"] < t["min_bfmi"]:
        bad.append(f"min BFMI {diag['min_bfmi']:.2f} < {t['min_bfmi']}")
    return bad


def verdict(diag: dict) -> tuple[str, list[str]]:
    """'pass', 'warn' (ESS or BFMI short) or 'fail' (R-hat or divergences), with the reasons."""
    bad = failures(diag)
    if not bad:
        return "pass", []
    severe = any(b.startswith("max R-hat") or "divergent" in b for b in bad)
    return ("fail" if severe else "warn"), bad


def check(diag: dict, *, warn: bool = True) -> str:
    status, reasons = verdict(diag)
    if status != "pass" and warn:
        warnings.warn("convergence " + status + ": " + "; ".join(reasons), ConvergenceWarning, stacklevel=3)
    return status


def contraction(posterior_sd, prior_sd):
    """Posterior contraction ``1 - var(posterior) / var(prior)``: near 1 when the data pin a quantity
    down, near 0 (or below) when its posterior is still its prior. NaN where the prior sd is 0."""
    post = np.asarray(posterior_sd, dtype=float)
    prior = np.asarray(prior_sd, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prior > 0, 1.0 - post**2 / prior**2, np.nan)


def savage_dickey_bf10(draws, prior_sd: float) -> float:
    """Savage-Dickey Bayes factor of an effect against the point null ``effect = 0``, for a
    ``Normal(0, prior_sd)`` prior: ``BF10 = prior density at 0 / posterior density at 0``, the
    posterior density from a Gaussian kernel density estimate of the draws (Scott's bandwidth).
    Above 1 the data moved mass away from 0, below 1 toward it; near 1 they say little. NaN where the
    prior is not proper (``prior_sd`` 0: the effect is not in the model). The estimate is poor when
    0 lies far in the posterior's tail (few draws near it): it is capped at 1000."""
    from scipy import stats

    if not prior_sd > 0:
        return float("nan")
    d = np.asarray(draws, dtype=float).ravel()
    prior0 = stats.norm.pdf(0.0, 0.0, prior_sd)
    post0 = float(stats.gaussian_kde(d)(0.0)[0])
    return float(min(prior0 / post0, 1000.0)) if post0 > 0 else 1000.0

