"""A fitted CoalitionModel: the fit's contents, predictions, estimands and persistence, on the session's
mock-sampled model (``mock_fit`` of tests/conftest.py: prior draws stand in for the posterior).

The report tests use the same fit; tests/conftest.py schedules this module on their pytest-xdist
worker, so the fit is built once per run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from bayes_coalition import CoalitionModel
from tests.helpers import edited_copy


@pytest.fixture(scope="module")
def fitted(mock_fit):
    """The session's mock-sampled model (tests/conftest.py), shared with the report tests."""
    return mock_fit


def test_fit_contract(fitted):
    idata = fitted.idata
    for group in ("posterior", "sample_stats", "posterior_predictive", "observed_data", "log_likelihood"):
        assert group in idata, group
    assert idata.posterior["ideal_point"].dims == ("chain", "draw", "actor")
    assert idata.posterior_predictive["case_yea"].shape == (2, 60, 50)
    assert idata.attrs["model_id"] == fitted.id and idata.attrs["model_version"] == CoalitionModel.version
    d = fitted.diagnostics
    for key in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi", "wall_seconds", "sampler", "draws", "chains"):
        assert key in d
    assert d["draws"] == 60 and d["chains"] == 2


def test_approval_probabilities(fitted):
    a = fitted.approval()
    assert len(a) == 50
    # the pro-trade side wins when a pro-trade motion carries or an anti-trade one fails
    pro = fitted.dataset.cases.set_index("case_id").loc[a["case_id"], "yea_is_pro_trade"].to_numpy(bool)
    np.testing.assert_allclose(a["p_pro_trade_win"], np.where(pro, a["p_pass"], 1 - a["p_pass"]))
    # an episode's P(House) is P(pass) of its deciding House vote; enactment needs both chambers
    by = a.set_index("case_id")
    assert by.loc["pntr_h", "p_house"] == by.loc["pntr_h", "p_pass"] and by.loc["pntr_s", "p_senate"] == by.loc["pntr_s", "p_pass"]
    assert by.loc["pntr_h", "p_enacted"] <= min(by.loc["pntr_h", "p_house"], by.loc["pntr_h", "p_senate"])
    pntr = a.set_index("case_id").loc["pntr_h"]
    assert pntr["observed_yea"] == 237 and pntr["n_voting"] == 434 and bool(pntr["observed_passed"])
    assert a.set_index("case_id").loc["pntr_s", "observed_yea"] == 83
    assert pd.isna(a.set_index("case_id").loc["ft1997_h_whip", "observed_yea"])
    # P(enacted) cannot exceed P(House) or P(Senate) of the same episode
    both = a.dropna(subset=["p_enacted"])
    assert (both["p_enacted"] <= both[["p_house", "p_senate"]].min(axis=1) + 1e-12).all()
    # pro-trade win is the complement of passage on disapproval votes
    dis = a[a.vote_type == "disapproval"]
    np.testing.assert_allclose(dis["p_pro_trade_win"], 1 - dis["p_pass"])
    # outcome classes: they sum to 1, deadlock is failing (no agenda control here); observed classes by hand
    classes = a[["p_minimum_winning", "p_oversized", "p_deadlock"]]
    np.testing.assert_allclose(classes.sum(axis=1), 1.0, atol=1e-12)
    assert ((classes >= 0) & (classes <= 1)).all().all()
    np.testing.assert_allclose(a["p_deadlock"], 1 - a["p_pass"], atol=1e-12)
    assert by.loc["cafta_h", "observed_margin"] == 0 and by.loc["cafta_h", "observed_class"] == "minimum_winning"   # 217 of 432
    assert by.loc["tpa2015_s_final", "observed_class"] == "minimum_winning"          # 60 of 98: 10 beyond the 50 needed
    assert by.loc["usmca_h", "observed_class"] == "oversized"                        # 385 of 426
    assert by.loc["ft1998_h", "observed_class"] == by.loc["ft1997_h_whip", "observed_class"] == "deadlock"


def test_coalition_outcomes_dataset(fitted):
    ds = fitted.coalition_outcomes(seed=1)
    assert ds["p_minimum_winning"].dims == ("case",) and ds.sizes["case"] == 50
    total = ds["p_minimum_winning"] + ds["p_oversized"] + ds["p_deadlock"]
    np.testing.assert_allclose(total.values, 1.0, atol=1e-12)
    assert ds.attrs["minimum_winning_margin"] == 10 and str(ds["observed_class"].sel(case="usmca_h").values) == "oversized"


def test_seeds_reproduce_predictions(fitted):
    a1, a2 = fitted.approval(seed=3), fitted.approval(seed=3)
    pd.testing.assert_frame_equal(a1, a2)
    a3 = fitted.approval(seed=4)
    assert not np.allclose(a1["yea_mean"], a3["yea_mean"])


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    """The shared fit saved once (the tests below read it; saving and loading cost seconds each)."""
    return fitted.save(tmp_path_factory.mktemp("saved") / "posterior.nc")


def test_save_load_round_trip_predicts_identically(fitted, saved, tmp_path):
    # a copy of what fitted.save() wrote (``saved``): this test saves over it below
    shutil.copytree(saved.parent, tmp_path / "run")
    path = tmp_path / "run" / saved.name
    loaded = CoalitionModel.load(path)
    assert loaded.id == fitted.id and loaded.spec == json.loads(fitted.idata.attrs["spec"])
    pd.testing.assert_frame_equal(loaded.approval(seed=9), fitted.approval(seed=9))
    pd.testing.assert_frame_equal(loaded.ideal_points(), fitted.ideal_points())
    assert loaded.diagnostics["draws"] == 60
    # the fast path (posterior only, from the .draws.npz beside the file) predicts the same
    fast = CoalitionModel.load(path, groups=("posterior",))
    assert (path.parent / "posterior.draws.npz").is_file() and list(fast.idata.groups()) == ["posterior", "fit_data"]
    pd.testing.assert_frame_equal(fast.approval(seed=9), fitted.approval(seed=9))
    # a loaded run can be saved over its own file; the run directory loads like the file
    loaded.save(path)
    assert CoalitionModel.load(path.parent).id == fitted.id
    # the data set comes back from the fit_data group, table by table
    for name in ("cases", "vote_counts", "evidence", "actors", "codebook", "episodes"):
        pd.testing.assert_frame_equal(getattr(loaded.dataset, name), getattr(fitted.dataset, name))


def test_runs_saved_before_the_fit_data_group_still_load(fitted, saved, tmp_path):
    """Runs of the previous layout kept the tables as CSV text in the attribute "dataset"."""
    tables = {}
    for name in ("episodes", "cases", "vote_counts", "actors", "codebook", "evidence"):
        frame = getattr(fitted.dataset, name).drop(columns=["row"])
        for col in frame.columns:
            if str(frame[col].dtype) == "boolean":
                frame[col] = frame[col].map({True: "yes", False: "no"}, na_action="ignore")
        tables[f"{name}.csv"] = frame.to_csv(index=False)
    old = tmp_path / "old" / "posterior.nc"
    old.parent.mkdir()
    edited_copy(saved, old, drop_groups=["fit_data"], dataset=json.dumps(tables))
    loaded = CoalitionModel.load(old)
    pd.testing.assert_frame_equal(loaded.approval(seed=9), fitted.approval(seed=9))


def test_a_run_of_another_version_names_the_version(saved, tmp_path):
    edited_copy(saved, tmp_path / "v01.nc", model_version="0.1.0")
    with pytest.raises(ValueError, match=r"version 0\.1\.0.*refit"):
        CoalitionModel.load(tmp_path / "v01.nc")


def test_ideal_points_and_hypotheses_tables(fitted):
    ip = fitted.ideal_points()
    assert len(ip) == 15 and (ip["lower"] <= ip["mean"]).all() and (ip["mean"] <= ip["upper"]).all()
    assert ip.set_index("actor_id").loc["dem_liberal", "informed_by_votes"]
    h = fitted.hypotheses()
    assert list(h["construct"]) == ["willingness", "pivotal", "deadlock_convergence", "formulation_coordination"]
    effect = fitted.idata.posterior["effect"]
    for row in h.itertuples():
        draws = effect.sel(construct=row.construct).values.ravel()
        assert row.p_hypothesised_sign == pytest.approx(np.mean(np.sign(draws) == row.hypothesised_sign))
        assert row.mean == pytest.approx(draws.mean())
    assert h.set_index("construct").loc["deadlock_convergence", "hypothesised_sign"] == -1


def test_predictive_check_covers_rows_and_whip_total(fitted):
    t = fitted.predictive_check()
    assert len(t) == len(fitted.model_data.obs_n) + 2 + 1
    whip = t[(t.case_id == "ft1997_h_whip") & (t.group == "ALL")].iloc[0]
    assert (whip.observed_lower, whip.observed_upper) == (192, 215)


def test_contraction_marks_what_the_data_do_not_identify(fitted):
    from bayes_coalition.diagnostics import contraction

    np.testing.assert_allclose(contraction([0.5, 1.0, 0.1], [1.0, 1.0, 0.0]), [0.75, 0.0, np.nan])
    h = fitted.hypotheses().set_index("construct")
    sd = fitted.idata.posterior["effect"].sel(construct="willingness").values.std()
    assert h.loc["willingness", "contraction"] == pytest.approx(1 - (sd / 0.5) ** 2)   # effect_sd 0.5 in the spec
    # mocked sampling draws the prior: nothing is identified by the data
    assert not h["identified_by_data"].any()
    ip = fitted.ideal_points().set_index("actor_id")
    assert ip.loc["dem_liberal", "prior_sd"] == pytest.approx(0.5 * np.sqrt(3 / 4))    # zero-sum over 4 factions
    assert not ip["identified_by_data"].any()


def _with_agenda(fitted, *, bar, scale, leak):
    """A shallow copy of the fit whose posterior carries agenda-control draws (constant values)."""
    import copy

    model = copy.copy(fitted)
    post = fitted.idata.posterior.copy()
    shape = (post.sizes["chain"], post.sizes["draw"])
    for name, value in (("agenda_bar", bar), ("agenda_scale", scale), ("agenda_leak", leak)):
        post[name] = (("chain", "draw"), np.full(shape, float(value)))
    model.idata = fitted.idata.copy()
    model.idata.posterior = post
    return model


def test_agenda_control_in_predictions(fitted):
    """Guards how the predictions read the layer: a leak of 1 (every vote held whatever its count) changes
    nothing; with no leak, no cushion and an error-free count a vote is held only when it carries, so
    P(pass | held) = 1 and P(floor vote) is the layer-free P(pass) (PNTR's House vote; the approval table too)."""
    from bayes_coalition.prediction.bills import load_bill
    from tests.helpers import REPO

    bill = load_bill(REPO / "bills" / "pntr_like.toml")
    plain = fitted.predict(bill, seed=2)
    leaky = _with_agenda(fitted, bar=0.0, scale=0.01, leak=1.0).predict(bill, seed=2)
    for key in ("p_house", "p_senate", "p_enacted"):
        assert float(leaky[key]) == pytest.approx(float(plain[key]), abs=1e-12)
    assert float(leaky["p_floor_house"]) == 1.0
    strict = _with_agenda(fitted, bar=0.0, scale=1e-6, leak=0.0)
    held = strict.predict(bill, seed=2)
    assert 0.01 < float(plain["p_house"]) < 0.99                   # the test needs an uncertain vote
    assert float(held["p_house"]) == pytest.approx(1.0, abs=1e-5)
    assert float(held["p_floor_house"]) == pytest.approx(float(plain["p_house"]), abs=1e-5)
    # predict --json: the floor probabilities and the switch
    from bayes_coalition.prediction.predict import summary_dict

    js, js_plain = summary_dict(held), summary_dict(plain)
    assert js["agenda_control"] is True and js_plain["agenda_control"] is False
    assert js["p_floor_house"]["mean"] == pytest.approx(float(plain["p_house"]), abs=1e-5)
    assert js_plain["p_floor_house"]["mean"] == 1.0
    # outcome classes sum to 1; without the layer deadlock is failing the vote; with a vote held exactly when it
    # carries, the classes are the layer-free ones (never held = fails); oversized <= carried
    for d in (js, js_plain):
        for ch in ("house", "senate"):
            parts = [d[f"p_{c}"][ch]["mean"] for c in ("minimum_winning", "oversized", "deadlock")]
            assert sum(parts) == pytest.approx(1.0, abs=1e-12) and all(0.0 <= x <= 1.0 for x in parts)
    assert js_plain["p_deadlock"]["house"]["mean"] == pytest.approx(1.0 - float(plain["p_house"]), abs=1e-12)
    for c in ("minimum_winning", "oversized", "deadlock"):
        assert js[f"p_{c}"]["house"]["mean"] == pytest.approx(js_plain[f"p_{c}"]["house"]["mean"], abs=1e-5)
    assert js["minimum_winning_margin"] == 10
    # by hand on the bill's own draws: oversized is P(yea >= needed + 11), the normal approximation of the count
    from scipy.stats import norm

    from bayes_coalition.coalition import rules as r_
    from bayes_coalition.prediction.predictor import BillPredictor, case_effects

    seats = bill.seats(fitted.dataset)
    seats.pop("_notes", None)
    rows, _ = case_effects(BillPredictor(fitted), bill, seats, 2)
    h = rows["House"]
    mean = (h["n"] * h["prob"]).sum(axis=-1)
    var = (h["n"] * h["prob"] * (1 - h["prob"]) * (h["n"] + h["phi"]) / (1 + h["phi"])).sum(axis=-1)
    need = r_.votes_needed(bill.house_rule, "House", int(h["n"].sum()))
    assert js_plain["p_oversized"]["house"]["mean"] == pytest.approx(norm.sf((need + 11 - 0.5 - mean) / np.sqrt(var)).mean(), abs=1e-12)
    leak_js = summary_dict(leaky)
    assert leak_js["p_oversized"]["house"]["mean"] == pytest.approx(js_plain["p_oversized"]["house"]["mean"], abs=1e-12)
    # a held vote's count draws are those that carry: the interval of the House count starts at the threshold
    assert js["yea_house"]["lower"] >= js_plain["yea_house"]["lower"]
    # the in-sample approval table: replicates of a held vote weighted by pi(y); disapproval votes exempt
    a_plain = fitted.approval(seed=5).set_index("case_id")
    a_held = strict.approval(seed=5).set_index("case_id")
    assert "p_floor" not in a_plain and a_held.loc["pntr_h", "p_pass"] == pytest.approx(1.0)
    assert a_held.loc["pntr_h", "p_floor"] == pytest.approx(a_plain.loc["pntr_h", "p_pass"], abs=1e-12)
    assert a_held.loc["chinamfn1996_h", "p_pass"] == a_plain.loc["chinamfn1996_h", "p_pass"]
    # classes with the layer: a replicate held only when it carries gives the layer-free classes
    for c in ("p_minimum_winning", "p_oversized", "p_deadlock"):
        np.testing.assert_allclose(a_held[c], a_plain[c], atol=1e-12)
    # a cushion of 5% of those voting (about 21 House yeas) and a leak of 1/2: a House replicate that carries by
    # at most 10 is held only by the leak, so P(minimum winning) halves
    cushion = _with_agenda(fitted, bar=0.05, scale=1e-6, leak=0.5).approval(seed=5).set_index("case_id")
    held_case = dict(zip(fitted.model_data.coords["case"], fitted.model_data.case_floor == 1))
    house = [c for c in a_plain.index if a_plain.loc[c, "chamber"] == "House" and held_case[c]]
    assert (a_plain.loc[house, "p_minimum_winning"] > 0).sum() >= 5      # the check has cases to bite on
    np.testing.assert_allclose(cushion.loc[house, "p_minimum_winning"], 0.5 * a_plain.loc[house, "p_minimum_winning"],
                               atol=1e-12)
    assert np.isnan(a_held.loc["chinamfn1996_h", "p_floor"])


def test_held_replicates_are_drawn_given_that_the_vote_is_held(fitted):
    """Guards the rejection sampler of the threshold check: with no leak, no cushion and an error-free count,
    every resolved replicate of a held vote carries (margin >= 0), exempt votes keep their free replicate, and
    without the layer nothing is rejected."""
    from bayes_coalition.coalition import rules
    from bayes_coalition.coalition.predictive import draw_arrays, held_case_totals, simulate
    from bayes_coalition.constants import CHAMBERS

    md = fitted.model_data
    strict = _with_agenda(fitted, bar=0.0, scale=1e-6, leak=0.0)
    arrays = draw_arrays(strict.idata.posterior, md)
    totals, unresolved = held_case_totals(arrays, md, 3)
    n = simulate(arrays, md, 0)["case_n"]
    need = rules.votes_needed(md.case_threshold, np.asarray(CHAMBERS)[md.case_chamber_idx], n)
    held = md.case_floor == rules.HELD
    resolved = ~unresolved[:, held]
    assert resolved.mean() > 0.5
    assert ((totals[:, held] - need[held])[resolved] >= 0).all()
    free = draw_arrays(fitted.idata.posterior, md)
    plain, none = held_case_totals(free, md, 3)
    assert not none.any()
    np.testing.assert_array_equal(plain[:, ~held], totals[:, ~held])   # same stream: exempt votes untouched
    check = strict.threshold_check(seed=3)
    assert check.attrs["agenda_control"] and 0.0 <= check.attrs["unresolved"] < 0.5


def _with_buying(fitted, *, prob: float, reach: float):
    """The fitted model with the vote-buying layer's parameters set to constants in every draw."""
    import copy

    model = copy.copy(fitted)
    post = fitted.idata.posterior.copy()
    shape = (post.sizes["chain"], post.sizes["draw"])
    for name, value in (("buying_prob", prob), ("buying_reach", reach)):
        post[name] = (("chain", "draw"), np.full(shape, float(value)))
    model.idata = fitted.idata.copy()
    model.idata.posterior = post
    return model


def test_vote_buying_in_predictions(fitted):
    """Guards how the predictions read the vote-buying layer (coalition/buying.py): with prob 0 every computed
    probability is the layer-free one; with prob 1 and a long reach every gap up to ceil(n / 10) yeas is closed,
    so P(House) = P(natural count >= t - ceil(n / 10)), by hand from the bill's own draws; the bought votes are
    minimum winning coalitions (oversized unchanged); the classes sum to 1; in sample, a held vote gains and an
    exempt one (a disapproval resolution) keeps its replicates; no held replicate ends 1-10 short."""
    from scipy.stats import norm

    from bayes_coalition.coalition import rules
    from bayes_coalition.coalition.predictive import draw_arrays, simulate
    from bayes_coalition.constants import CHAMBERS
    from bayes_coalition.prediction.bills import load_bill
    from bayes_coalition.prediction.predict import summary_dict
    from bayes_coalition.prediction.predictor import BillPredictor, case_effects
    from tests.helpers import REPO

    bill = load_bill(REPO / "bills" / "pntr_like.toml")
    plain = summary_dict(fitted.predict(bill, seed=2))
    off = summary_dict(_with_buying(fitted, prob=0.0, reach=0.01).predict(bill, seed=2))
    for key in ("p_house", "p_senate", "p_enacted"):
        assert off[key]["mean"] == pytest.approx(plain[key]["mean"], abs=1e-12)
    full = summary_dict(_with_buying(fitted, prob=1.0, reach=100.0).predict(bill, seed=2))
    assert full["vote_buying"] is True and plain["vote_buying"] is False
    seats = bill.seats(fitted.dataset)
    seats.pop("_notes", None)
    rows, _ = case_effects(BillPredictor(fitted), bill, seats, 2)
    h = rows["House"]
    mean = (h["n"] * h["prob"]).sum(axis=-1)
    sd = np.sqrt((h["n"] * h["prob"] * (1 - h["prob"]) * (h["n"] + h["phi"]) / (1 + h["phi"])).sum(axis=-1))
    n = int(h["n"].sum())
    need = rules.votes_needed(bill.house_rule, "House", n)
    reach_all = norm.sf((need - np.ceil(n / 10) - 0.5 - mean) / sd).mean()
    assert 0.01 < plain["p_house"]["mean"] < reach_all - 0.01                # the test needs a vote the layer moves
    assert full["p_house"]["mean"] == pytest.approx(reach_all, abs=1e-3)     # b(d) = exp(-(d-1)/(100 n)) ~ 1
    assert full["p_oversized"]["house"]["mean"] == pytest.approx(plain["p_oversized"]["house"]["mean"], abs=1e-12)
    assert full["p_minimum_winning"]["house"]["mean"] > plain["p_minimum_winning"]["house"]["mean"] + 0.01
    for ch in ("house", "senate"):
        parts = [full[f"p_{c}"][ch]["mean"] for c in ("minimum_winning", "oversized", "deadlock")]
        assert sum(parts) == pytest.approx(1.0, abs=1e-12) and all(0.0 <= x <= 1.0 for x in parts)
    assert full["yea_house"]["lower"] >= plain["yea_house"]["lower"]
    # in sample: the simulated replicates
    md = fitted.model_data
    bought = _with_buying(fitted, prob=1.0, reach=100.0)
    a_plain, a_bought = fitted.approval(seed=5).set_index("case_id"), bought.approval(seed=5).set_index("case_id")
    assert a_bought.loc["pntr_h", "p_pass"] >= a_plain.loc["pntr_h", "p_pass"]
    assert a_bought.loc["chinamfn1996_h", "p_pass"] == a_plain.loc["chinamfn1996_h", "p_pass"]
    sim = simulate(draw_arrays(bought.idata.posterior, md), md, 0)
    need = rules.votes_needed(md.case_threshold, np.asarray(CHAMBERS)[md.case_chamber_idx], sim["case_n"])
    held = md.case_floor == rules.HELD
    margin = sim["case_yea"][:, held] - need[held]
    assert not ((margin <= -1) & (margin >= -10)).any()
    free = simulate(draw_arrays(fitted.idata.posterior, md), md, 0)
    np.testing.assert_array_equal(free["case_yea"][:, ~held], sim["case_yea"][:, ~held])
    assert fitted.vote_buying().empty and list(bought.vote_buying()["parameter"]) == ["buying_prob", "buying_reach"]


def test_caveats_name_an_unidentified_layer_parameter(fitted):
    """A strategic layer's parameter whose posterior is no narrower than half its prior (contraction < 0.5) is
    named in the caveats (predict's warnings); one the data pin down is not."""
    pinned = _with_buying(fitted, prob=0.7, reach=0.01)
    assert not any("strategic layer" in c for c in pinned.caveats())
    wide = _with_buying(fitted, prob=0.7, reach=0.01)
    post = wide.idata.posterior
    rng = np.random.default_rng(0)
    post["buying_reach"] = (("chain", "draw"), np.exp(rng.normal(np.log(0.01), 1.5, post["buying_reach"].shape)))
    caveat = [c for c in wide.caveats() if "strategic layer" in c]
    assert len(caveat) == 1 and "buying_reach" in caveat[0] and "buying_prob" not in caveat[0]
