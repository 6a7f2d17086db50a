"""Convergence diagnostics of a fit: R-hat, ESS, divergences, BFMI, tree depth; a verdict line.

:func:`convergence` returns the dict written to ``diagnostics.json``; :func:`check`
turns it into a verdict and warns (ConvergenceWarning) when a threshold is missed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _arviz
from .errors import ConvergenceWarning

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
    """The diagnostics dict (keys as in diagnostics.json)."""
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
    stats = idata.get("sample_stats")
    if stats is not None and "diverging" in stats:
        out["divergences"] = int(np.asarray(stats["diverging"]).sum())
    else:
        out["divergences"] = None
    if stats is not None and "energy" in stats:
        bf = _arviz.bfmi(idata)
        out["min_bfmi"] = float(np.min(bf))
        out["bfmi_per_chain"] = [float(b) for b in bf]
    else:
        out["min_bfmi"] = None
    flag = next((k for k in ("maxdepth_reached", "reached_max_treedepth") if stats is not None and k in stats), None)
    depth_key = next((k for k in ("tree_depth", "depth") if stats is not None and k in stats), None)
    if flag is not None:
        out["max_tree_depth_hits"] = int(np.asarray(stats[flag]).sum())
    if depth_key is not None:
        out["max_tree_depth"] = int(np.asarray(stats[depth_key]).max())
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
