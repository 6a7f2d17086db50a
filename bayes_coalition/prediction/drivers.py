"""What moves a bill's approval probability: each coded indicator swept over its levels.

One indicator at a time (the others at the bill's codes), P(enacted) at its lowest and highest
level on the draws and with the estimator of :func:`~bayes_coalition.prediction.predict.predict`
(common random numbers: the same case-effect draws for every level). The effect of an indicator
is the mean over draws of the paired difference, with its Monte Carlo standard error; an
indicator whose effect is within two standard errors of zero is not ranked (its order would be
Monte Carlo noise), and the indicators whose effect cannot be told apart from the largest one at
two standard errors are marked ``tied_with_top``: "the top driver" is that group, not one name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_coalition.prediction.bills import HypotheticalBill
from bayes_coalition.prediction.predictor import BillPredictor, approval_per_draw, case_effects, code_set_shifts, floor_weighted

NOISE_MCSE = 2.0     # effects within this many Monte Carlo standard errors of zero are not ranked


def rank_drivers(model, bill: HypotheticalBill, *, seed: int = 0, predictor: BillPredictor | None = None) -> pd.DataFrame:
    """One row per (stage, indicator): P(enacted) at its lowest and highest level, the effect (highest
    minus lowest, paired over draws) and its MCSE, and ``ranked`` (False within 2 MCSE of zero),
    ranked rows first by the size of the effect."""
    pr = predictor or BillPredictor(model)
    bill.validate(model.dataset)
    seats = bill.seats(model.dataset)
    seats.pop("_notes", None)
    rows, codes0 = case_effects(pr, bill, seats, seed)
    keys, code_sets = [], []
    for indicator, grp in model.dataset.codebook.groupby("indicator", sort=False):
        lo, hi = int(grp["level"].min()), int(grp["level"].max())
        for stage in str(grp["stages"].iloc[0]).split(";"):
            keys.append(f"{stage}.{indicator}")
            code_sets += [{**codes0, (stage, indicator): lo}, {**codes0, (stage, indicator): hi}]
    per_draw = approval_per_draw(pr, bill, rows, code_set_shifts(pr, bill, codes0, code_sets, seed))
    # P(enacted | held) per code set (weights 1 without agenda control); the effect's MCSE from the paired
    # difference of the two ratios' influences (delta method)
    p, influence = floor_weighted(per_draw["enacted"], per_draw["enacted_floor"])
    low, high = p[0::2], p[1::2]
    diff = influence[1::2] - influence[0::2]
    table = pd.DataFrame({
        "indicator": keys,
        "p_lowest_level": low,
        "p_highest_level": high,
        "effect": high - low,
        "effect_mcse": [pr.mcse(d) for d in diff],
    })
    table["ranked"] = np.abs(table["effect"]) > NOISE_MCSE * table["effect_mcse"]
    table["_size"] = np.where(table["ranked"], np.abs(table["effect"]), -1.0)
    table = table.sort_values(["_size", "indicator"], ascending=[False, True]).drop(columns="_size").reset_index(drop=True)
    top = table.iloc[0]
    gap = np.abs(top["effect"]) - np.abs(table["effect"])
    table["tied_with_top"] = table["ranked"] & (gap <= NOISE_MCSE * np.hypot(top["effect_mcse"], table["effect_mcse"]))
    table.attrs.update(seed=seed, draws=pr.n_samples, rule=f"ranked when |effect| > {NOISE_MCSE:g} MCSE")
    return table
