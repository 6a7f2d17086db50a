"""The rolling-origin backtest: training windows, leakage by behaviour, cases as bills, scores."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bayes_coalition import load_dataset
from bayes_coalition.coalition.spec import default_spec_path, load_spec
from bayes_coalition.errors import ConvergenceWarning, LeakageError
from bayes_coalition.validation.backtest import (
    BacktestResult,
    backtest_scores,
    case_bill,
    check_no_leakage,
    forecast_dates,
    largest_losses,
    origin_dates,
    paired_difference,
    rows_outside,
    score,
    training_cases,
    training_weights,
)
from tests.helpers import python_logp


def test_backtest_training_data_end_before_the_origin():
    ds = load_dataset()
    train = training_cases(ds.cases, 2000)
    years = ds.cases.set_index("case_id").loc[train, "date"].str[:4].astype(int)
    assert (years < 2000).all() and "pntr_h" not in train and "ft1998_h" in train
    later = set(ds.cases["case_id"]) - set(train)
    assert all(int(d[:4]) >= 2000 for d in ds.cases.set_index("case_id").loc[sorted(later), "date"])
    # a date origin: votes of that day are not visible to each other
    june = training_cases(ds.cases, "2015-06-12")
    assert "tpa2015_s_may" in june and "taa2015_h" not in june and "tpa2015_h_jun12" not in june


@pytest.mark.parametrize("bad", ["2016-13", "2016-13-45", "20160101", "1996-02-30", "next year"])
def test_a_malformed_origin_is_refused(bad):
    from bayes_coalition.validation.backtest import origin_date

    assert origin_date(2016) == "2016-01-01" and origin_date("2015-06-12") == "2015-06-12"
    with pytest.raises(ValueError, match="expected a year"):
        origin_date(bad)


def test_origins_are_the_dates_of_decided_votes():
    """Each decided vote from 1996 is predicted by the fit on every vote dated before it: one origin
    per date (same-day votes share it); the undecided 1997 whip count is never an origin."""
    ds = load_dataset()
    origins = origin_dates(ds.cases)
    decided = ds.cases[ds.cases.passed.notna() & (ds.cases.date >= "1996")]
    assert origins == sorted(set(decided.date)) and origins[0] == "1996-06-27" and "1997-11-10" not in origins
    assert origins.count("2011-10-12") == 1 and len(origins) == 32


def test_training_weights_see_only_what_was_written_before_the_origin():
    """CAFTA at the House vote's date (2005-07-28): the Senate vote (06-30) is seen, the House vote is not;
    the voting-stage payoff code (sources to 07-21) is seen, the pivotal-resources code (07-28) is not."""
    from bayes_coalition.coalition.model_data import build_model_data

    ds = load_dataset()
    md = build_model_data(ds)
    w = training_weights(md, ds.cases, "2005-07-28")
    case_of = np.array(md.coords["case"])
    seen = set(case_of[md.obs_case_idx[w["obs_weight"] == 1]])
    assert "cafta_s" in seen and "cafta_h" not in seen and "cafta_s_hr3045" not in seen and "australia_h" in seen
    assert not seen & {"usmca_h", "oman_h", "peru_h", "korea_s"} and "pntr_h" in seen
    code = dict(zip(md.coords["code"], w["code_weight"], strict=True))
    assert code["cafta2005:voting:payoff"] == 1 and code["cafta2005:voting:pivotal_resources"] == 0
    # every weighted row and code is dated strictly before the origin, and every earlier one is weighted
    date = ds.cases.set_index("case_id").loc[md.coords["case"], "date"].to_numpy(str)
    np.testing.assert_array_equal(w["obs_weight"] == 1, date[md.obs_case_idx] < "2005-07-28")
    np.testing.assert_array_equal(w["code_weight"] == 1, (md.code_date < "2005-07-28") & (md.code_date != ""))
    assert w["interval_weight"].tolist() == [1.0] * len(md.int_n)          # the 1997 whip count
    assert training_weights(md, ds.cases, "1997-11-10")["interval_weight"].sum() == 0


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


def test_episode_blind_forecasts_every_vote_as_of_the_episodes_first_vote():
    """``same_episode=False``: CAFTA's House vote (2005-07-28) is forecast as of the Senate's (2005-06-30), so
    the voting-stage code dated 2005-07-21 that informs it by default no longer does; TPA 2015's six votes
    (2015-05-22 to 06-24) all as of 05-22; the 1997 whip count (11-10) as of the cloture vote (11-04)."""
    ds = load_dataset()
    cases = ds.cases
    own, first = forecast_dates(cases), forecast_dates(cases, same_episode=False)
    assert list(own.index) == list(first.index) == list(cases.case_id) and (own == cases.date.to_numpy()).all()
    assert (own["cafta_h"], first["cafta_h"]) == ("2005-07-28", "2005-06-30")
    tpa = cases.loc[cases.episode_id == "tpa2015", "case_id"]
    assert len(tpa) == 6 and set(first[tpa]) == {"2015-05-22"}
    assert first["ft1997_h_whip"] == "1997-11-04"
    assert first["nafta_h"] == "1993-11-17"                   # an episode's first vote: itself
    assert (first <= own).all()
    blind = case_bill(ds, "cafta_h", as_of=first["cafta_h"]).codes
    assert ("voting", "payoff") in case_bill(ds, "cafta_h").codes and ("voting", "payoff") not in blind
    assert blind == case_bill(ds, "cafta_s").codes             # both as of 2005-06-30
    # as_of never moves a vote's codes past its own date
    assert case_bill(ds, "cafta_s", as_of="2099-01-01").codes == case_bill(ds, "cafta_s").codes


def test_scores_and_coverage():
    b, ls = score(np.array([1.0, 0.0]), np.array([1, 0]))
    assert b == pytest.approx(1e-6) and ls > -0.01
    votes = pd.DataFrame({"observed_passed": [True, False], "episode_id": ["a", "b"], "p_pass": [0.9, 0.2],
                          "p_majority_baseline": [0.8, 0.8], "p_party_line": [0.5, 0.5]})
    party = pd.DataFrame({"in_50": [True, False, False, True], "in_90": [True, True, False, True]})
    fits = pd.DataFrame({"origin": ["2000-01-01", "2001-01-01"], "verdict": ["pass", "fail"], "max_rhat": [1.004, 1.03],
                         "divergences": [0, 2], "attempts": [1, 2]})
    s = backtest_scores(BacktestResult(votes, party, fits))
    assert s["n_votes"] == 2 and s["model"]["brier"] == pytest.approx((0.01 + 0.04) / 2)
    assert s["party_line"]["brier"] == pytest.approx(0.25) and s["majority"]["brier"] == pytest.approx((0.04 + 0.64) / 2)
    assert s["coverage_50"] == 0.5 and s["coverage_90"] == 0.75 and s["n_party_rows"] == 4
    assert s["unconverged_fits"] == [{"origin": "2001-01-01", "max_rhat": 1.03, "divergences": 2, "attempts": 2}]
    assert s["refitted_fits"] == 1 and s["n_fits"] == 2
    # the model beats the party line on both votes, so on every resample of the two episodes
    assert s["p_model_better_brier"] == 1.0
    # paired difference model - party line, by hand: Brier (0.01 - 0.25 + 0.04 - 0.25) / 2
    d = s["model_minus_party_line"]
    assert d["brier"]["difference"] == pytest.approx((0.01 - 0.25 + 0.04 - 0.25) / 2)
    log = lambda p: np.log(p)   # noqa: E731
    assert d["log_score"]["difference"] == pytest.approx((log(0.9) - log(0.5) + log(0.8) - log(0.5)) / 2)
    worse = backtest_scores(BacktestResult(votes.assign(p_pass=[0.3, 0.7]), party, fits))
    assert worse["p_model_better_brier"] == 0.0


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
    assert d["brier"]["p_a_better"] == 1.0 and d["log_score"]["p_a_better"] == 1.0
    assert paired_difference(t, "b", "a", n_boot=500)["brier"]["p_a_better"] == 0.0
    # one episode: nothing to resample, the interval collapses to the difference
    one = paired_difference(t.assign(episode_id=0), "a", "b", n_boot=200)
    assert one["brier"]["interval_95"] == pytest.approx([one["brier"]["difference"]] * 2)
    # clustering widens the interval when votes of an episode share their errors
    shared = t.assign(a=np.where(t.episode_id % 2 == 0, 0.9, 0.1), observed_passed=t.episode_id % 3 == 0)
    w_cluster = np.diff(paired_difference(shared, "a", "b", seed=2)["brier"]["interval_95"])[0]
    w_votes = np.diff(paired_difference(shared.assign(episode_id=np.arange(n)), "a", "b", seed=2)["brier"]["interval_95"])[0]
    assert w_cluster > 1.5 * w_votes


def _stub_origin_fits(monkeypatch, fitted: list, bills: list | None = None):
    """Replace the origin fits by a stub (the schedule and the weights each fit gets are checked, not the
    model); ``bills`` collects each predicted bill."""
    import bayes_coalition.prediction.predict as predict_mod
    import bayes_coalition.prediction.predictor as predictor_mod
    import bayes_coalition.validation.backtest as bt

    diag = {"max_rhat": 1.0, "min_ess_bulk": 1000.0, "min_ess_tail": 1000.0, "divergences": 0, "min_bfmi": 1.0,
            "max_tree_depth_hits": 0, "attempts": 1, "tune": 5, "draws": 5, "wall_seconds": 0.0}

    class Stub:
        sampler, compile_seconds = "stub", 0.0
        attempts = staticmethod(bt.OriginFits.attempts)

        def __init__(self, model, sampler=None):
            self.md = model.model_data

        @staticmethod
        def diagnose(idata, seconds, attempt, settings):
            return dict(diag), False

    def one_chain(spec, sampler, weights, chain_seed, draws, tune, target_accept):
        import arviz as az

        fitted.append(weights)
        idata = az.from_dict(posterior={"x": np.zeros((1, 3))}, sample_stats={"diverging": np.zeros((1, 3), bool)})
        idata.posterior.attrs["free_variables"] = "x"
        return idata, 0.0

    def fake_predict(model, bill, seed, predictor, party_line):
        assert party_line is False          # the backtest scores its own baseline, from the training votes only
        if bills is not None:
            bills.append(bill)
        return {"p_house": 0.5, "p_senate": 0.5}

    monkeypatch.setattr(bt, "OriginFits", Stub)
    monkeypatch.setattr(bt, "origin_chain", one_chain)
    monkeypatch.setattr(bt, "_party_rows", lambda *a: [])
    monkeypatch.setattr(predictor_mod, "BillPredictor", lambda model: None)
    monkeypatch.setattr(predict_mod, "predict", fake_predict)
    return bt


def test_each_vote_is_predicted_once_by_the_latest_origin(monkeypatch):
    """Each decided vote once, by the latest origin not after its date (origin fits stubbed)."""
    fitted = []
    bt = _stub_origin_fits(monkeypatch, fitted)
    spec = load_spec(default_spec_path())
    result = bt.backtest(spec, [2003, "2005-06-30", 2011], chains=1, progress=False)
    table = result.votes
    ds = load_dataset()
    decided = ds.cases[ds.cases.passed.notna() & (ds.cases.date >= "2003")]
    assert list(result.fits.origin) == ["2003-01-01", "2005-06-30", "2011-01-01"] and len(fitted) == 3
    assert sorted(table.case_id) == sorted(decided.case_id) and table.case_id.is_unique
    bounds = {"2003-01-01": ("2003-01-01", "2005-06-30"), "2005-06-30": ("2005-06-30", "2011-01-01"),
              "2011-01-01": ("2011-01-01", "9999")}
    assert all(bounds[o][0] <= d < bounds[o][1] for d, o in zip(table.date, table.origin, strict=True))
    # each fit saw exactly the votes dated before its origin: more rows at each later origin
    seen = [int(w["obs_weight"].sum()) for w in fitted]
    assert seen[0] < seen[1] < seen[2]
    assert set(result.fits.n_train_votes) == {len(training_cases(ds.cases, o)) for o in bounds}
    assert (table.forecast_date == table.date).all() and result.settings["same_episode"] is True


def test_a_fit_that_fails_is_refitted_with_more_tuning_and_draws(monkeypatch):
    """The refit schedule (hand table): a first attempt that misses the bar is refitted once with three times the
    tuning, twice the draws, target acceptance max(ta, 0.95) and its own seed; its draws and tuning reach the chain
    tasks; a refit that still fails is listed; ``refit=False`` makes one attempt only."""
    fitted = []
    bt = _stub_origin_fits(monkeypatch, fitted)
    assert bt.OriginFits.attempts(5, 100, 0.9, True, 40) == [(5, 100, 0.9, 40), (5 + 7919, 300, 0.95, 80)]
    assert bt.OriginFits.attempts(5, 100, 0.97, True, 40)[1][2] == 0.97
    assert bt.OriginFits.attempts(5, 100, 0.9, False, 40) == [(5, 100, 0.9, 40)]
    chains_run = []

    def one_chain(spec, sampler, weights, chain_seed, draws, tune, target_accept):
        import arviz as az

        chains_run.append((draws, tune, target_accept))
        idata = az.from_dict(posterior={"x": np.zeros((1, 3))}, sample_stats={"diverging": np.zeros((1, 3), bool)})
        idata.posterior.attrs["free_variables"] = "x"
        return idata, 0.0

    def diagnose(idata, seconds, attempt, settings):
        d = {"max_rhat": 1.05, "min_ess_bulk": 100.0, "min_ess_tail": 100.0, "divergences": 0, "min_bfmi": 1.0,
             "max_tree_depth_hits": 0, "attempts": attempt, "tune": settings[1], "draws": settings[3],
             "wall_seconds": 0.0}
        return d, True

    monkeypatch.setattr(bt, "origin_chain", one_chain)
    monkeypatch.setattr(bt.OriginFits, "diagnose", staticmethod(diagnose))
    spec = load_spec(default_spec_path())
    with pytest.warns(ConvergenceWarning):
        result = bt.backtest(spec, ["2011-01-01"], chains=2, draws=40, tune=100, target_accept=0.9, progress=False)
    assert chains_run == [(40, 100, 0.9)] * 2 + [(80, 300, 0.95)] * 2
    row = result.fits.iloc[0]
    assert (row.attempts, row.tune, row.draws, row.verdict) == (2, 300, 80, "fail")
    chains_run.clear()
    with pytest.warns(ConvergenceWarning):
        bt.backtest(spec, ["2011-01-01"], chains=2, draws=40, tune=100, target_accept=0.9, refit=False, progress=False)
    assert chains_run == [(40, 100, 0.9)] * 2


def test_episode_blind_backtest_predicts_an_episode_by_the_fit_before_it(monkeypatch):
    """``same_episode=False``: TPA 2015's votes of June (06-12 to 06-24) go to the origin before the episode's
    first vote (05-22), not to the June origin that would have seen the Senate's May vote; with the default they
    go to the June origin. The same votes are predicted either way, each once; no bill sees a code dated on or
    after its forecast day."""
    fitted, bills = [], []
    bt = _stub_origin_fits(monkeypatch, fitted, bills)
    spec = load_spec(default_spec_path())
    origins = ["2015-05-22", "2015-06-12"]
    default = bt.backtest(spec, origins, chains=1, progress=False).votes.set_index("case_id")
    bills.clear()
    blind = bt.backtest(spec, origins, same_episode=False, chains=1, progress=False)
    votes = blind.votes.set_index("case_id")
    assert sorted(votes.index) == sorted(default.index) and votes.index.is_unique
    june = ["taa2015_h", "tpa2015_h_jun12", "tpa2015_h_jun18", "tpa2015_s_cloture", "tpa2015_s_final"]
    assert (default.loc[june, "origin"] == "2015-06-12").all()
    assert (votes.loc[june, "origin"] == "2015-05-22").all() and (votes.loc[june, "forecast_date"] == "2015-05-22").all()
    assert (votes.loc["usmca_h", "origin"], votes.loc["usmca_h", "forecast_date"]) == ("2015-06-12", "2019-12-19")
    assert blind.settings["same_episode"] is False
    ds = load_dataset()
    ev = ds.evidence.dropna(subset=["pub_date"])
    for bill in bills:
        case_id = bill.source.removeprefix("case ")
        c = ds.cases.set_index("case_id").loc[case_id]
        day = votes.loc[case_id, "forecast_date"] if case_id in votes.index else c["date"]
        for stage, indicator in bill.codes:
            rows = ev[(ev.episode_id == c["episode_id"]) & (ev.stage == stage) & (ev.indicator == indicator)]
            assert (rows.pub_date < day).any(), (case_id, stage, indicator, day)


def _with_counts(ds, case_id: str, party: str, yea: int, nay: int):
    """A copy of the data set with one count row changed (and the vote's total row, where it has one, by as much)."""
    vc = ds.vote_counts.copy()
    hit = (vc.case_id == case_id) & (vc.party == party)
    assert hit.sum() == 1
    total = (vc.case_id == case_id) & (vc.party == "ALL")
    vc.loc[total, "yea"] += yea - int(vc.loc[hit, "yea"].iloc[0])
    vc.loc[total, "nay"] += nay - int(vc.loc[hit, "nay"].iloc[0])
    vc.loc[hit, "yea"], vc.loc[hit, "nay"] = yea, nay
    return dataclasses.replace(ds, vote_counts=vc)


def _origin_logp(ds, spec, origin):
    """The log density of the backtest's weighted model with the weights of ``origin``."""
    from bayes_coalition.coalition.graph import build_pymc_model
    from bayes_coalition.coalition.model_data import build_model_data

    md = build_model_data(ds)
    model = build_pymc_model(md, spec, weighted=True)
    for name, value in training_weights(md, ds.cases, origin).items():
        model[name].set_value(value)
    # python_logp: the default spec's strategic terms take the summed terms past compare_logp's 32 operands
    return model, python_logp(model)


def test_a_later_vote_cannot_move_the_origin_fit():
    """Leakage by behaviour: rewriting a vote dated after the origin (PNTR 2000 at origin 2000) leaves
    the origin's log density at a fixed point unchanged, while the same rewrite of a training vote
    (fast track 1998) changes it."""
    ds = load_dataset()
    spec = load_spec(default_spec_path())
    base, logp = _origin_logp(ds, spec, 2000)
    point = base.initial_point()
    _, later = _origin_logp(_with_counts(ds, "pntr_h", "R", 10, 200), spec, 2000)
    assert later(point) == logp(point)
    _, earlier = _origin_logp(_with_counts(ds, "ft1998_h", "D", 10, 190), spec, 2000)
    assert earlier(point) != logp(point)


def test_the_guard_is_an_error_not_an_assert():
    from bayes_coalition.coalition.model_data import build_model_data

    ds = load_dataset()
    md = build_model_data(ds)
    w = training_weights(md, ds.cases, 2000)
    check_no_leakage(md, ds.cases, w, 2000)                                   # the right weights pass
    no_codes = dict(w, code_weight=np.zeros_like(w["code_weight"]))
    with pytest.raises(LeakageError, match=r"origin 1999-01-01 sees 2 row\(s\) .*\['chinantr1999_s'\]"):
        check_no_leakage(md, ds.cases, no_codes, 1999)                        # the 1999 vote's R and D rows
    late = dict(w, code_weight=np.ones_like(w["code_weight"]))
    with pytest.raises(LeakageError, match="dated on or after it"):
        check_no_leakage(md, ds.cases, late, 2000)


def test_a_rerun_takes_finished_origins_from_the_checkpoint(monkeypatch, tmp_path, capsys):
    """``checkpoint``: an interrupted run resumes. A rerun with the same settings fits nothing and returns the same
    tables (origin fits stubbed; a second fit would raise); other settings (draws), another model version or other
    data fit again."""
    fitted = []
    bt = _stub_origin_fits(monkeypatch, fitted)
    spec = load_spec(default_spec_path())
    origins = ["2005-06-30", 2011]
    first = bt.backtest(spec, origins, chains=1, progress=False, checkpoint=tmp_path)
    assert len(fitted) == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["2005-06-30.json", "2011-01-01.json"]
    # an origin lost mid-run (its file never written) is the only one fitted again
    (tmp_path / "2011-01-01.json").unlink()
    capsys.readouterr()
    again = bt.backtest(spec, origins, chains=1, progress=True, checkpoint=tmp_path)
    assert len(fitted) == 3 and int(fitted[-1]["obs_weight"].sum()) > int(fitted[0]["obs_weight"].sum())
    # progress counts the origins taken from the checkpoint: the refitted one is the 2nd of 2, not the 1st
    out = capsys.readouterr().out
    assert "1 of 2 origins taken from" in out and "(2/2 origins)" in out and "(1/2 origins)" not in out

    def refuse(*args):
        raise AssertionError("a finished origin was fitted again")

    monkeypatch.setattr(bt, "origin_chain", refuse)
    # the same spec read from another place (a moved checkout) is the same spec
    resumed = bt.backtest({**spec, "_source": "/elsewhere/spec.toml"}, origins, chains=1, progress=False,
                          checkpoint=tmp_path)
    # the spec's own fit length and seed are the backtest's --draws, --tune, --chains and --seed, not the spec's
    own_fit = {**spec, "sampler": {**spec["sampler"], "draws": 7, "tune": 9, "chains": 1, "random_seed": 5}}
    relengthened = bt.backtest(own_fit, origins, chains=1, progress=False, checkpoint=tmp_path)
    for got in (again, resumed, relengthened):
        pd.testing.assert_frame_equal(got.votes, first.votes)
        pd.testing.assert_frame_equal(got.fits, first.fits)
    with pytest.raises(AssertionError, match="fitted again"):
        bt.backtest(spec, origins, chains=1, draws=123, progress=False, checkpoint=tmp_path)
    with pytest.raises(AssertionError, match="fitted again"):               # the spec's target acceptance is used
        bt.backtest({**spec, "sampler": {**spec["sampler"], "target_accept": 0.8}}, origins, chains=1,
                    progress=False, checkpoint=tmp_path)
    from bayes_coalition.coalition.model import CoalitionModel

    monkeypatch.setattr(CoalitionModel, "version", "0.0.0-other")          # results of another model version
    with pytest.raises(AssertionError, match="fitted again"):
        bt.backtest(spec, origins, chains=1, progress=False, checkpoint=tmp_path)
    from bayes_coalition.data.dataset import data_digest

    ds = load_dataset()
    assert data_digest(_with_counts(ds, "cafta_h", "R", 201, 27)) != data_digest(ds) == data_digest(load_dataset())


def test_largest_losses_ranks_votes_by_their_brier_gap_to_the_party_line():
    """Hand table: squared errors model / party line: a (passed, 0.4 / 0.9) 0.36 / 0.01 -> +0.35; b (failed,
    0.3 / 0.8) 0.09 / 0.64 -> -0.55 (a win, never listed); c (passed, 0.7 / 0.9) 0.09 / 0.01 -> +0.08; d (passed,
    0.9 / 0.9) -> 0 (a tie, not a loss); e (failed, 0.6 / 0.2) 0.36 / 0.04 -> +0.32."""
    votes = pd.DataFrame({"case_id": list("abcde"), "observed_passed": [True, False, True, True, False],
                          "p_pass": [0.4, 0.3, 0.7, 0.9, 0.6], "p_party_line": [0.9, 0.8, 0.9, 0.9, 0.2]})
    worst = largest_losses(votes)
    assert list(worst["case_id"]) == ["a", "e", "c"]
    assert worst["brier_loss"].tolist() == pytest.approx([0.35, 0.32, 0.08])
    assert worst["brier_model"].tolist() == pytest.approx([0.36, 0.36, 0.09])
    assert list(largest_losses(votes, n=2)["case_id"]) == ["a", "e"]
    # the losses and wins add up to the Brier difference of backtest_scores
    y = votes["observed_passed"].astype(float)
    total = ((votes["p_pass"] - y) ** 2 - (votes["p_party_line"] - y) ** 2).sum()
    assert total == pytest.approx(0.35 - 0.55 + 0.08 + 0.32)
    # the same clipped scores as backtest.json: a certain forecast that failed costs 0.999^2, and the gaps over all
    # votes average to the paired Brier difference
    sure = pd.DataFrame({"case_id": ["a", "b"], "episode_id": ["a", "b"], "observed_passed": [False, True],
                         "p_pass": [1.0, 0.9], "p_party_line": [0.5, 0.95]})
    gaps = largest_losses(sure, n=10)
    assert gaps["brier_model"].tolist() == pytest.approx([0.999 ** 2, 0.01])
    assert len(gaps) == 2                                    # both votes are losses here
    assert gaps["brier_loss"].sum() / 2 == pytest.approx(paired_difference(sure, "p_pass", "p_party_line")["brier"]["difference"])
    # equal gaps keep the file's (date) order; the input is not changed
    tie = pd.DataFrame({"case_id": ["x", "y"], "observed_passed": [True, True], "p_pass": [0.5, 0.5],
                        "p_party_line": [0.9, 0.9]})
    assert list(largest_losses(tie)["case_id"]) == ["x", "y"] and "brier_loss" not in tie


def test_rows_outside_lists_party_rows_beyond_their_interval_with_the_side():
    rows = pd.DataFrame({"case_id": ["a", "b", "c", "d"], "party": ["R", "D", "R", "D"],
                         "observed_yea_share": [0.95, 0.10, 0.50, 0.20],
                         "q05": [0.60, 0.20, 0.40, 0.20], "q25": [0.7, 0.3, 0.45, 0.3],
                         "q75": [0.8, 0.5, 0.55, 0.4], "q95": [0.90, 0.70, 0.60, 0.50],
                         "in_50": [False, False, True, False], "in_90": [False, False, True, True]})
    out = rows_outside(rows)
    assert list(out["case_id"]) == ["a", "b"] and list(out["side"]) == ["above", "below"]
    # d sits exactly on its 5% quantile: inside the 90% interval, below the 50% one
    out50 = rows_outside(rows, 50)
    assert list(out50["case_id"]) == ["a", "b", "d"] and list(out50["side"]) == ["above", "below", "below"]
    with pytest.raises(ValueError, match="50 or 90"):
        rows_outside(rows, 95)
