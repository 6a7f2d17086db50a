"""Validation helpers: backtest cut-offs, cases as bills, scores (SBC statistics: test_sbc.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_coalition import load_dataset
from bayes_coalition.validation.backtest import (
    backtest_scores,
    case_bill,
    score,
    training_cases,
)


def test_backtest_training_data_end_before_the_origin():
    ds = load_dataset()
    train = training_cases(ds.cases, 2000)
    years = ds.cases.set_index("case_id").loc[train, "date"].str[:4].astype(int)
    assert (years < 2000).all() and "pntr_h" not in train and "ft1998_h" in train
    later = set(ds.cases["case_id"]) - set(train)
    assert all(int(d[:4]) >= 2000 for d in ds.cases.set_index("case_id").loc[sorted(later), "date"])


def test_case_as_a_bill_uses_its_voters_and_rule():
    ds = load_dataset()
    bill = case_bill(ds, "pntr_h")
    assert bill.composition["House"] == {"R": 221, "D": 211, "I": 2}
    assert bill.codes[("voting", "payoff")] == 2 and bill.house_rule == "majority_of_voting"
    s = case_bill(ds, "tpa2015_s_cloture")
    assert s.senate_rule == "three_fifths_of_senate" and s.vote_type == "cloture"
    bill.validate(ds)
    # a case without party split: the total is split by the Congress's composition
    u = case_bill(ds, "ft1997_s_cloture")
    assert sum(u.composition["Senate"].values()) == 100


def test_scores_and_coverage():
    b, ls = score(np.array([1.0, 0.0]), np.array([1, 0]))
    assert b == pytest.approx(1e-6) and ls > -0.01
    t = pd.DataFrame({"observed_passed": [True, False], "p_pass": [0.9, 0.2], "p_majority_baseline": [0.8, 0.8],
                      "p_party_line": [0.5, 0.5], "in_50": [True, False], "in_90": [True, True]})
    s = backtest_scores(t)
    assert s["model"]["brier"] == pytest.approx((0.01 + 0.04) / 2)
    assert s["coverage"] == {"n": 2, "interval_50": 0.5, "interval_90": 1.0}


def test_perturbed_codes_move_one_level_and_stay_on_the_scale():
    from bayes_coalition.validation.backtest import perturb_codes

    ds = load_dataset()
    moved = perturb_codes(ds, seed=4)
    diff = (moved.evidence["level"].astype(int) - ds.evidence["level"].astype(int)).abs()
    assert (diff == 1).all()
    assert moved.evidence["level"].between(0, 2).all()
    again = perturb_codes(ds, seed=4)
    assert (again.evidence["level"] == moved.evidence["level"]).all()
    from bayes_coalition import CoalitionModel

    m = CoalitionModel(moved)   # a perturbed data set still builds a model
    assert len(m.model_data.code_level) == len(ds.evidence)


def test_constructs_can_be_left_out():
    from bayes_coalition import CoalitionModel

    m = CoalitionModel(spec={"model": {"constructs": ["deadlock_convergence"]}})
    assert list(m.model.coords["included_construct"]) == ["deadlock_convergence"]
    with pytest.raises(ValueError, match="unknown construct"):
        CoalitionModel(spec={"model": {"constructs": ["charisma"]}})
