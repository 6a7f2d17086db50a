"""Inter-coder reliability: Krippendorff's alpha from raw codings.

``alpha = 1 - D_o / D_e``: the observed disagreement between values coded for the same unit over
the disagreement expected by chance, both from the coincidence matrix of the pairable values
(Krippendorff 2011, "Computing Krippendorff's alpha-reliability", Annenberg School for
Communication, Departmental Papers 43). A unit counts only when at least two coders coded it; any
number of coders and missing values are allowed. Metrics: ``nominal``, ``ordinal`` (the rank
distance on the observed marginals, the metric for the codebook's 0/1/2 levels) and ``interval``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

METRICS = ("nominal", "ordinal", "interval")


def coincidences(units: Iterable[Sequence[float]], values: Sequence[float]) -> np.ndarray:
    """The coincidence matrix o[c, k]: each unit with m >= 2 values adds its ordered pairs of
    values from different coders, weighted 1 / (m - 1)."""
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for unit in units:
        coded = [index[v] for v in unit if not pd.isna(v)]
        m = len(coded)
        if m < 2:
            continue
        counts = np.bincount(coded, minlength=len(values)).astype(float)
        o += (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
    return o


def _delta2(values: Sequence[float], n: np.ndarray, metric: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if metric == "nominal":
        return 1.0 - np.eye(len(v))
    if metric == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if metric == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n)])
        lo = np.minimum.outer(np.arange(len(v)), np.arange(len(v)))
        hi = np.maximum.outer(np.arange(len(v)), np.arange(len(v)))
        # sum of the marginals from the lower to the higher value, minus half of the two ends
        between = cum[hi + 1] - cum[lo]
        return (between - (n[lo] + n[hi]) / 2.0) ** 2
    raise ValueError(f"unknown metric '{metric}'; use one of {', '.join(METRICS)}")


def krippendorff_alpha(units: Iterable[Sequence[float]], metric: str = "ordinal") -> float:
    """Krippendorff's alpha of ``units`` (one sequence of coded values per unit, NaN = not coded).

    NaN when fewer than two pairable values exist or when every pairable value is the same
    (no expected disagreement: alpha is undefined, not 1)."""
    units = [list(u) for u in units]
    values = sorted({float(v) for u in units for v in u if not pd.isna(v)})
    if metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}'; use one of {', '.join(METRICS)}")
    o = coincidences(units, values)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n < 2:
        return float("nan")
    d2 = _delta2(values, n_c, metric)
    expected = (np.outer(n_c, n_c) * d2).sum()
    if expected == 0:
        return float("nan")
    return float(1.0 - (n - 1) * (o * d2).sum() / expected)


def paired_units(a: pd.DataFrame, b: pd.DataFrame, key: Sequence[str], value: str = "level") -> pd.DataFrame:
    """Two coders' tables side by side, one row per unit either coded (outer join): columns
    ``key``, ``a`` and ``b`` (NaN where that coder left the unit uncoded)."""
    def side(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        f = frame[list(key) + [value]].copy()
        for k in key:
            f[k] = f[k].fillna("")
        if f.duplicated(list(key)).any():
            raise ValueError(f"coder {name} codes a unit twice: {f[f.duplicated(list(key))].iloc[0][list(key)].tolist()}")
        return f.rename(columns={value: name})

    return side(a, "a").merge(side(b, "b"), on=list(key), how="outer")
