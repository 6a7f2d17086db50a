"""What moves a bill's approval probability: each coded indicator swept over its levels.

One indicator at a time (the others at the bill's codes), P(both chambers) from
:func:`bayes_coalition.prediction.predictor.sweep` on a common set of posterior draws;
the spread between the lowest and the highest level ranks the indicators.
"""

from __future__ import annotations

import pandas as pd

from bayes_coalition.prediction.bills import HypotheticalBill
from bayes_coalition.prediction.predictor import BillPredictor, sweep


def rank_drivers(model, bill: HypotheticalBill, *, seed: int = 0, draws: int | None = 250) -> pd.DataFrame:
    """One row per (stage, indicator): P(both chambers) at its lowest and highest level and the spread
    between them, largest spread first. ``draws`` posterior draws are used (None: all)."""
    predictor = BillPredictor(model, max_draws=draws)
    rows = []
    for indicator, grp in model.dataset.codebook.groupby("indicator", sort=False):
        levels = sorted(int(v) for v in grp["level"])
        for stage in str(grp["stages"].iloc[0]).split(";"):
            key = f"{stage}.{indicator}"
            t = sweep(model, bill, {key: levels}, seed=seed, predictor=predictor)
            p = t["p_both_chambers"]
            rows.append((p.max() - p.min(), key, p.iloc[0], p.iloc[-1]))
    rows.sort(reverse=True)
    return pd.DataFrame(rows, columns=["spread", "indicator", "p_lowest_level", "p_highest_level"])
