"""The rolling-origin backtest: training windows, leakage by behaviour, cases as bills, scores."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bayes_coalition import load_dataset
from bayes_coalition.coalition.spec import default_spec_path, load_spec
from bayes_coalition.errors import LeakageError
from bayes_coalition.validation.backtest import (
    backtest_scores,
    case_bill,
    check_no_leakage,
    origin_model,
    paired_difference,
    score,
    training_cases,
)
from tests.helpers import compare_logp


def test_backtest_training_data_end_before_the_origin():
    ds = load_dataset()
    train = training_cases(ds.cases, 2000)
    years = ds.cases.set_index("case_id").loc[train, "date"].str[:4].astype(int)
    assert (years < 2000).all() and "pntr_h" not in train and "ft1998_h" in train
    later = set(ds.cases["case_id"]) - set(train)
    assert all(int(d[:4]) >= 2000 for d in ds.cases.set_index("case_id").loc[sorted(later), "date"])


def test_case_as_a_bill_knows_its_congress_not_its_turnout():
    """A forecast of a vote uses what was known before it: its Congress's seats (composition.csv,
    every member voting), not how many voted; the in-sample variant uses its own voters."""
    ds = load_dataset()
    bill = case_bill(ds, "pntr_h")
    comp = ds.composition[(ds.composition.congress == 106) & (ds.composition.chamber == "House")]
    assert {p: n for p, n in bill.seats(ds)["House"].items()} == dict(zip(comp.party, comp.seats, strict=True))
    assert bill.composition is None and bill.congress == 106
    assert bill.codes[("voting", "payoff")] == 2 and bill.house_rule == "majority_of_voting"
    own = case_bill(ds, "pntr_h", voters=True)
    assert own.composition["House"] == {"R": 221, "D": 211, "I": 2}            # 164+57, 73+138, 0+2
    s = case_bill(ds, "tpa2015_s_cloture")
    assert s.senate_rule == "three_fifths_of_senate" and s.vote_type == "cloture"
    bill.validate(ds)
    # the 1997 cloture vote: its voters per party (tallied from the Senate's record, all 100 voting)
    assert case_bill(ds, "ft1997_s_cloture", voters=True).composition["Senate"] == {"R": 55, "D": 45}


def test_a_vote_is_predicted_from_codes_dated_before_it():
    """CAFTA: the Senate voted on 2005-06-30, the House on 2005-07-28. Voting-stage codes dated
    2005-07-21 inform the House vote, not the Senate's; codes dated on the House vote's day inform neither."""
    ds = load_dataset()
    ev = ds.evidence[(ds.evidence.episode_id == "cafta2005") & (ds.evidence.stage == "voting")]
    dates = ev.groupby("indicator")["pub_date"].min()
    assert dates["payoff"] == "2005-07-21" and dates["pivotal_resources"] == "2005-07-28"
    senate = case_bill(ds, "cafta_s").codes
    house = case_bill(ds, "cafta_h").codes
    assert ("voting", "payoff") in house and ("voting", "payoff") not in senate
    assert ("voting", "pivotal_resources") not in house
    # every code behind a prediction is dated before the vote (checked on the evidence rows directly)
    for case_id, codes in (("cafta_s", senate), ("cafta_h", house)):
        vote = ds.cases.set_index("case_id").loc[case_id, "date"]
        for stage, indicator in codes:
            rows = ev if stage == "voting" else ds.evidence[(ds.evidence.episode_id == "cafta2005")
                                                            & (ds.evidence.stage == stage)]
            rows = rows[(rows.indicator == indicator) & ~rows.ex_post.astype(bool)]
            assert (rows.pub_date < vote).any(), (case_id, stage, indicator)


def test_scores_and_coverage():
    b, ls = score(np.array([1.0, 0.0]), np.array([1, 0]))
    assert b == pytest.approx(1e-6) and ls > -0.01
    t = pd.DataFrame({"observed_passed": [True, False], "p_pass": [0.9, 0.2], "p_majority_baseline": [0.8, 0.8],
                      "p_party_line": [0.5, 0.5], "in_50": [True, False], "in_90": [True, True]})
    s = backtest_scores(t)
    assert s["model"]["brier"] == pytest.approx((0.01 + 0.04) / 2)
    assert s["coverage"] == {"n": 2, "of": "yea share (yea / seats of the Congress)", "interval_50": 0.5,
                             "interval_90": 1.0}
    # paired difference model - party line, by hand: Brier (0.01 - 0.25 + 0.04 - 0.25) / 2
    d = s["model_minus_party_line"]
    assert d["brier"]["difference"] == pytest.approx((0.01 - 0.25 + 0.04 - 0.25) / 2)
    log = lambda p: np.log(p)   # noqa: E731
    assert d["log_score"]["difference"] == pytest.approx((log(0.9) - log(0.5) + log(0.8) - log(0.5)) / 2)


def test_paired_difference_resamples_episodes():
    rng = np.random.default_rng(0)
    n = 60
    t = pd.DataFrame({"observed_passed": rng.random(n) < 0.7, "episode_id": np.repeat(np.arange(12), 5)})
    t["a"] = np.where(t.observed_passed, 0.8, 0.3)
    t["b"] = 0.6
    d = paired_difference(t, "a", "b", n_boot=2000, seed=1)
    y = t.observed_passed.to_numpy(float)
    assert d["brier"]["difference"] == pytest.approx(np.mean((t.a - y) ** 2 - (t.b - y) ** 2))
    lo, hi = d["brier"]["interval_95"]
    assert lo < d["brier"]["difference"] < hi and hi < 0          # a is better, clearly
    assert d["n_clusters"] == 12 and d["n_votes"] == 60
    # one episode: nothing to resample, the interval collapses to the difference
    one = paired_difference(t.assign(episode_id=0), "a", "b", n_boot=200)
    assert one["brier"]["interval_95"] == pytest.approx([one["brier"]["difference"]] * 2)
    # clustering widens the interval when votes of an episode share their errors
    shared = t.assign(a=np.where(t.episode_id % 2 == 0, 0.9, 0.1), observed_passed=t.episode_id % 3 == 0)
    w_cluster = np.diff(paired_difference(shared, "a", "b", seed=2)["brier"]["interval_95"])[0]
    w_votes = np.diff(paired_difference(shared.assign(episode_id=np.arange(n)), "a", "b", seed=2)["brier"]["interval_95"])[0]
    assert w_cluster > 1.5 * w_votes


def test_each_vote_is_predicted_once_by_the_latest_origin(monkeypatch):
    """The origin fits are replaced by a stub (this checks the schedule, not the model)."""
    import bayes_coalition.prediction.predict as predict_mod
    import bayes_coalition.validation.backtest as bt

    fitted = []

    class Stub:
        diagnostics = {"max_rhat": 1.0, "min_ess_bulk": 1000.0, "min_ess_tail": 1000.0, "divergences": 0,
                       "min_bfmi": 1.0, "max_tree_depth_hits": 0}

        def __init__(self, year):
            self.year = year

        def fit(self, **kw):
            fitted.append(self.year)

    monkeypatch.setattr(bt, "origin_model", lambda ds, spec, year: Stub(year))
    monkeypatch.setattr(predict_mod, "predict", lambda model, bill, seed: {
        "p_house": 0.5, "p_senate": 0.5, "yea_house": pd.Series(np.full(10, 200)), "yea_senate": pd.Series(np.full(10, 50))})
    spec = load_spec(default_spec_path())
    table = bt.backtest(spec, [2003, 2005, 2011], progress=False)
    ds = load_dataset()
    decided = ds.cases[ds.cases.passed.notna() & (ds.cases.date >= "2003")]
    assert fitted == [2003, 2005, 2011]
    assert sorted(table.case_id) == sorted(decided.case_id) and table.case_id.is_unique
    year = table.date.str[:4].astype(int)
    origin_of = {2003: range(2003, 2005), 2005: range(2005, 2011), 2011: range(2011, 3000)}
    assert all(y in origin_of[o] for y, o in zip(year, table.origin_year, strict=True))


def _with_counts(ds, case_id: str, party: str, yea: int, nay: int):
    """A copy of the data set with one count row changed."""
    vc = ds.vote_counts.copy()
    hit = (vc.case_id == case_id) & (vc.party == party)
    assert hit.sum() == 1
    vc.loc[hit, "yea"], vc.loc[hit, "nay"] = yea, nay
    return dataclasses.replace(ds, vote_counts=vc)


def test_a_later_vote_cannot_move_the_origin_fit():
    """Leakage by behaviour: rewriting a vote dated after the origin (PNTR 2000 at origin 2000)
    leaves the origin model's data and its log density at a fixed point unchanged, while the same
    rewrite of a training vote (fast track 1998) changes the density."""
    ds = load_dataset()
    spec = load_spec(default_spec_path())
    base = origin_model(ds, spec, 2000)
    point = base.model.initial_point()
    logp = compare_logp(base.model)
    later = origin_model(_with_counts(ds, "pntr_h", "R", 10, 200), spec, 2000)
    assert later.model_data.coords["case"] == base.model_data.coords["case"]
    np.testing.assert_array_equal(later.model_data.obs_yea, base.model_data.obs_yea)
    assert compare_logp(later.model)(point) == logp(point)
    earlier = origin_model(_with_counts(ds, "ft1998_h", "D", 10, 190), spec, 2000)
    assert compare_logp(earlier.model)(point) != logp(point)


def test_the_guard_is_an_error_not_an_assert():
    ds = load_dataset()
    model = origin_model(ds, load_spec(default_spec_path()), 2000)
    with pytest.raises(LeakageError, match="outside its training window"):
        check_no_leakage(model, training_cases(ds.cases, 1999), 1999)
