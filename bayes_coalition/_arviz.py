"""Every ArviZ call of the package lives here, so the ArviZ 1.x change (DataTree, renamed
summary columns, ETI intervals, PlotCollection) touches this one file.

Interval probability and kind are always passed explicitly; callers get plain
pandas/xarray/float results with the package's own column names.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition.constants import SUMMARY_PROB


def _az():
    """ArviZ, imported on first use (it loads matplotlib and numba: about 1.5-2.5 s), so reading a
    saved run's draws and predicting a bill does not pay for it unless it needs an ArviZ statistic."""
    import sys

    if "arviz" not in sys.modules:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)
            import arviz  # noqa: F401
    return sys.modules["arviz"]


def __getattr__(name: str):
    if name == "InferenceData":
        return _az().InferenceData
    if name == "ARVIZ_VERSION":
        return _az().__version__
    raise AttributeError(name)


def summary(idata, var_names=None, *, prob: float = SUMMARY_PROB, kind: str = "hdi") -> pd.DataFrame:
    """Posterior summary with columns mean, sd, lower, upper, mcse_mean, ess_bulk, ess_tail, r_hat.

    A quantity constant over chains and draws (a value fixed by identification, such as final passage's
    discrimination) has no R-hat, ESS or MCSE: those cells are NaN, and the zero within-chain variance ArviZ
    divides by does not print NumPy's "invalid value" warning (it did on every fit's report). Convergence
    verdicts come from :func:`bayes_coalition.diagnostics.convergence`, which leaves such elements out."""
    if kind not in ("hdi", "eti"):
        raise ValueError("kind must be 'hdi' or 'eti'")
    with np.errstate(invalid="ignore", divide="ignore"):
        df = _az().summary(idata, var_names=var_names, hdi_prob=prob, kind="all", stat_focus="mean", round_to="none")
    df.loc[df["sd"] == 0, ["mcse_mean", "ess_bulk", "ess_tail", "r_hat"]] = np.nan
    if kind == "hdi":
        lo, hi = [c for c in df.columns if c.startswith("hdi_")][:2]
        lower, upper = df[lo], df[hi]
    else:
        post = idata.posterior if hasattr(idata, "posterior") else idata
        q = quantiles(post if var_names is None else post[var_names], [(1 - prob) / 2, (1 + prob) / 2])
        lower, upper = q[0], q[1]
    out = pd.DataFrame(
        {
            "mean": df["mean"],
            "sd": df["sd"],
            "lower": np.asarray(lower),
            "upper": np.asarray(upper),
            "mcse_mean": df["mcse_mean"],
            "ess_bulk": df["ess_bulk"],
            "ess_tail": df["ess_tail"],
            "r_hat": df["r_hat"],
        },
        index=df.index,
    )
    out.attrs.update(prob=prob, kind=kind)
    return out


def quantiles(post: xr.Dataset, probs) -> list[np.ndarray]:
    flat = []
    for name in post.data_vars:
        arr = post[name].values.reshape(post[name].shape[0] * post[name].shape[1], -1)
        flat.append(arr)
    arr = np.concatenate(flat, axis=1)
    return [np.quantile(arr, p, axis=0) for p in probs]


def _per_element(fn, idata, var_names, **kw) -> xr.Dataset:
    """``fn`` (ArviZ's rhat, ess or mcse) with the elements that are constant over chains and draws set to NaN:
    a value fixed by identification (final passage's discrimination, recorded with the draws) has no R-hat, ESS
    or MCSE, and computing one divides by a zero within-chain variance; NumPy's "invalid value" warning it
    printed on every fit is not shown (other elements are computed as before; the extremes of
    :func:`bayes_coalition.diagnostics.convergence` leave NaN out)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ds = fn(idata, var_names=var_names, **kw)
    post = idata.posterior if hasattr(idata, "posterior") else idata
    for v in ds.data_vars:
        const = post[v].max(("chain", "draw")) == post[v].min(("chain", "draw"))
        ds[v] = ds[v].where(~const)
    return ds


def rhat(idata, var_names=None) -> xr.Dataset:
    return _per_element(_az().rhat, idata, var_names, method="rank")


def ess(idata, var_names=None, method: str = "bulk") -> xr.Dataset:
    return _per_element(_az().ess, idata, var_names, method=method)


def ess_array(values: np.ndarray, method: str = "bulk") -> float:
    """Effective sample size of one scalar's draws shaped (chain, draw)."""
    return float(_az().ess(np.asarray(values, dtype=float), method=method))


def mcse(idata, var_names=None) -> xr.Dataset:
    return _per_element(_az().mcse, idata, var_names, method="mean")


def mcse_mean(values: np.ndarray) -> float:
    """Monte Carlo standard error of the mean of a (chain, draw) array of a scalar quantity."""
    return float(np.asarray(_az().mcse(np.asarray(values, dtype=float), method="mean")).ravel()[0])


def pareto_khat(log_values: np.ndarray) -> float:
    """Pareto k-hat of the right tail of ``exp(log_values)`` over a 1-D array of draws (PSIS's shape estimate,
    ``psislw``). A mean over the draws of ``exp(log_values)``, such as a held-out episode's joint predictive
    density, has a Monte Carlo error that shrinks at the usual rate only for k-hat < 0.7 (Vehtari et al. 2024,
    "Pareto smoothed importance sampling"); above it a few draws carry the mean and its MCSE is not reliable."""
    x = np.asarray(log_values, dtype=float).ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, k = _az().psislw(x, normalize=False)
    return float(np.asarray(k).ravel()[0])


def bfmi(idata) -> np.ndarray:
    """E-BFMI per chain (needs sample_stats.energy)."""
    return np.atleast_1d(_az().bfmi(idata))


def hdi(values: np.ndarray, prob: float) -> tuple[float, float]:
    """HDI of a 1-D array of draws."""
    lo, hi = _az().hdi(np.asarray(values, dtype=float).ravel(), hdi_prob=prob)
    return float(lo), float(hi)


def loo(idata, var_name: str | None = None):
    """PSIS-LOO; returns (elpd, se, p_loo, pareto_k array, warning flag)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _az().loo(idata, var_name=var_name, pointwise=True)
    return {
        "elpd": float(res["elpd_loo"]),
        "se": float(res["se"]),
        "p_loo": float(res["p_loo"]),
        "pareto_k": np.asarray(res["pareto_k"]),
        "warning": bool(res["warning"]),
    }


def compare_loo(models: dict, var_name: str | None = None) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = _az().compare(models, ic="loo", var_name=var_name)
    return pd.DataFrame({"elpd": df["elpd_loo"], "elpd_diff": df["elpd_diff"], "dse": df["dse"], "se": df["se"]})


def to_netcdf(idata, path) -> None:
    idata.to_netcdf(str(path), engine="h5netcdf")


def from_netcdf(path, groups=None):
    """Read InferenceData into memory (the file is closed afterwards, so it can be overwritten);
    with ``groups`` only those groups (and the root attrs) are read."""
    import h5netcdf

    with h5netcdf.File(str(path), "r") as f:
        available = list(f.groups)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    if groups is None:
        groups = available
    data = {}
    for g in groups:
        if g not in available:
            continue
        with xr.open_dataset(str(path), group=g, engine="h5netcdf") as ds:
            data[g] = ds.load()
    idata = _az().InferenceData(**data)
    idata.attrs.update(attrs)
    return idata


def from_dict(**groups):
    return _az().from_dict(**groups)


def inference_data(**groups):
    """An InferenceData of these xarray Datasets (``posterior=...``, ``sample_stats=...``)."""
    return _az().InferenceData(**groups)


# --- plots (each returns a matplotlib Figure) ---------------------------------


def _fig(ax):
    ax = np.asarray(ax).ravel()[0]
    return ax.figure


def plot_rank(idata, var_names):
    return _fig(_az().plot_rank(idata, var_names=var_names, kind="bars", show=False))


def plot_trace(idata, var_names):
    return _fig(_az().plot_trace(idata, var_names=var_names, compact=True, show=False))


def plot_energy(idata):
    return _fig(_az().plot_energy(idata, show=False))


def plot_khat(loo_result_k):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.scatter(np.arange(len(loo_result_k)), loo_result_k, s=12)
    for h in (0.5, 0.7, 1.0):
        ax.axhline(h, ls="--", lw=0.8, color="grey")
    ax.set_xlabel("observation")
    ax.set_ylabel("Pareto k")
    return fig


def plot_forest(idata, var_names, *, prob: float, combined: bool = True):
    return _fig(_az().plot_forest(idata, var_names=var_names, hdi_prob=prob, combined=combined, show=False))


# --- appended for bayes_coalition.report.build ---------------------------------------


def plot_loo_pit(idata, y: str, *, ecdf: bool = True):
    """LOO-PIT of observed variable ``y`` against its posterior predictive (needs log_likelihood[y])."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _fig(_az().plot_loo_pit(idata, y=y, ecdf=ecdf, show=False))


def plot_rank_dataset(draws: xr.Dataset, *, grid=None, figsize=None):
    """Rank plots (bars) of every variable of a (chain, draw) Dataset, e.g. hand-picked scalar elements."""
    return _fig(_az().plot_rank(draws, kind="bars", grid=grid, figsize=figsize, show=False))


def plot_trace_dataset(draws: xr.Dataset, *, figsize=None):
    """Compact trace plots of every variable of a (chain, draw) Dataset."""
    return _fig(_az().plot_trace(draws, compact=True, figsize=figsize, show=False))
