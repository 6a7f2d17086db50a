"""CoalitionModel contract: construction, dims, log-probability, mocked fit, predictions, persistence, CLI."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from pymc.testing import mock_sample

from bayes_coalition import CoalitionModel, ConvergenceWarning, load_dataset
from bayes_coalition import load_bill as bc_load_bill
from bayes_coalition.cli.main import main
from bayes_coalition.coalition.model_data import build_model_data
from bayes_coalition.coalition.spec import default_spec_path, load_spec
from tests.helpers import REPO, mock_sample_stats, python_logp
from tests.helpers import edit_csv as edit


@pytest.fixture(scope="module")
def fitted(mock_fit):
    """The session's mock-sampled model (tests/conftest.py), shared with the report tests."""
    return mock_fit


def test_model_dims_and_shapes():
    model = CoalitionModel()
    md = model.model_data
    m = model.model
    dims = m.named_vars_to_dims
    assert dims["ideal_point"] == ("actor",) and dims["cut_point"] == ("case",) and dims["yea"] == ("obs",)
    assert len(m.coords["actor"]) == 15 and len(m.coords["case"]) == 50
    assert m["yea"].owner.inputs[3].eval().shape == (len(md.obs_n),)  # n per row
    assert len(md.int_n) == 2 and set(md.coords["interval_obs"]) == {"ft1997_h_whip:R", "ft1997_h_whip:D"}
    # the redundant whip total is kept for checks, never silently dropped
    assert md.checks["case_id"].tolist() == ["ft1997_h_whip"]
    # one partial cell left: ft1998_h I (the Washington Post gives the independent's nay only)
    assert md.usage.loc[md.usage["use"] == "partial_cell_unused", ["case_id", "party"]].values.tolist() == [["ft1998_h", "I"]]


def test_finite_logp_and_gradient_at_initial_point():
    m = CoalitionModel().model
    ip = m.initial_point()
    # one Python-mode function for both (a C compile of the gradient costs more than evaluating it once)
    logp, grad = python_logp(m, gradient=True)(ip)
    assert np.isfinite(logp)
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_every_count_row_is_accounted_for():
    ds = load_dataset()
    md = build_model_data(ds)
    used = md.usage.groupby(["case_id", "party"]).size()
    rows = ds.vote_counts.groupby(["case_id", "party"]).size()
    assert rows.index.isin(used.index).all()  # each row of vote_counts has a recorded use
    # rows partition each case's voters: sum of row n equals the chamber total where it is known
    totals = ds.vote_counts[ds.vote_counts.party == "ALL"].set_index("case_id")
    n_by_case = pd.Series(md.obs_n).groupby(md.obs_case_idx).sum()
    for ci, case in enumerate(md.coords["case"]):
        if case in totals.index and pd.notna(totals.loc[case, "yea"]):
            assert n_by_case[ci] == totals.loc[case, "yea"] + totals.loc[case, "nay"], case


def test_interval_observations_are_general(data_copy):
    """Any count row may be an interval: turn the PNTR Senate total into one."""
    vc = data_copy / "vote_counts.csv"
    for party in ("R", "D"):
        edit(vc, {"case_id": "pntr_s", "party": party}, "nay", "")
        edit(vc, {"case_id": "pntr_s", "party": party}, "yea", "")
        edit(vc, {"case_id": "pntr_s", "party": party}, "yea_lower", "40" if party == "R" else "30")
        edit(vc, {"case_id": "pntr_s", "party": party}, "yea_upper", "50" if party == "R" else "40")
        edit(vc, {"case_id": "pntr_s", "party": party}, "n_members", "54" if party == "R" else "44")
    md = build_model_data(load_dataset(data_copy))
    assert {"pntr_s:R", "pntr_s:D"} <= set(md.coords["interval_obs"])
    m = CoalitionModel(dataset=load_dataset(data_copy)).model
    assert np.isfinite(python_logp(m)(m.initial_point()))


def test_missing_codes_are_unobserved_not_zero(data_copy):
    ev = pd.read_csv(data_copy / "evidence.csv", dtype=str, keep_default_na=False)
    ev[ev.episode_id != "pntr2000"].to_csv(data_copy / "evidence.csv", index=False)
    md = build_model_data(load_dataset(data_copy))
    pntr = md.coords["episode"].index("pntr2000")
    assert not md.construct_observed[pntr].any()
    assert md.construct_observed[md.coords["episode"].index("fasttrack1997")].all()
    m = CoalitionModel(dataset=load_dataset(data_copy)).model
    # one latent per (episode, construct) with a code; none for the uncoded episode
    assert "construct_latent" in m.named_vars and len(m.coords["latent"]) == md.construct_observed.sum()
    assert not any(name.startswith("pntr2000:") for name in m.coords["latent"])


def test_exclude_cases_leaves_them_out():
    model = CoalitionModel(spec={"data": {"exclude_cases": ["pntr_h", "pntr_s"]}})
    assert "pntr_h" not in model.model_data.coords["case"] and "pntr2000" not in model.model_data.coords["episode"]
    with pytest.raises(KeyError, match="unknown case"):
        CoalitionModel(spec={"data": {"exclude_cases": ["nope"]}})


def test_spec_merge_does_not_mutate_and_rejects_unknown_keys():
    base = load_spec(default_spec_path())
    snapshot = json.dumps(base, sort_keys=True)
    CoalitionModel(spec={"priors": {"effect_sd": 2.0}})
    assert json.dumps(load_spec(default_spec_path()), sort_keys=True) == snapshot
    with pytest.raises(KeyError, match="unknown spec key 'priors.nonsense'"):
        CoalitionModel(spec={"priors": {"nonsense": 1}})
    with pytest.raises(ValueError, match="discrimination must be positive"):
        CoalitionModel(spec={"identification": {"discrimination": -1.0}})


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


def test_seeds_reproduce_predictions(fitted):
    a1, a2 = fitted.approval(seed=3), fitted.approval(seed=3)
    pd.testing.assert_frame_equal(a1, a2)
    a3 = fitted.approval(seed=4)
    assert not np.allclose(a1["yea_mean"], a3["yea_mean"])


def test_save_load_round_trip_predicts_identically(fitted, tmp_path):
    path = fitted.save(tmp_path / "run" / "posterior.nc")
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


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    """The shared fit saved once (the tests below read it; saving and loading cost seconds each)."""
    return fitted.save(tmp_path_factory.mktemp("saved") / "posterior.nc")


def test_runs_saved_before_the_fit_data_group_still_load(fitted, saved, tmp_path):
    """Runs of the previous layout kept the tables as CSV text in the attribute "dataset"."""
    from bayes_coalition import _arviz

    idata = _arviz.from_netcdf(saved)
    tables = {}
    for name in ("episodes", "cases", "vote_counts", "actors", "codebook", "evidence"):
        frame = getattr(fitted.dataset, name).drop(columns=["row"])
        for col in frame.columns:
            if str(frame[col].dtype) == "boolean":
                frame[col] = frame[col].map({True: "yes", False: "no"}, na_action="ignore")
        tables[f"{name}.csv"] = frame.to_csv(index=False)
    del idata.fit_data
    idata.attrs["dataset"] = json.dumps(tables)
    old = tmp_path / "old" / "posterior.nc"
    old.parent.mkdir()
    _arviz.to_netcdf(idata, old)
    loaded = CoalitionModel.load(old)
    pd.testing.assert_frame_equal(loaded.approval(seed=9), fitted.approval(seed=9))


def test_a_run_of_another_version_names_the_version(saved, tmp_path):
    from bayes_coalition import _arviz

    idata = _arviz.from_netcdf(saved)
    idata.attrs["model_version"] = "0.1.0"
    _arviz.to_netcdf(idata, tmp_path / "v01.nc")
    with pytest.raises(ValueError, match=r"version 0\.1\.0.*refit"):
        CoalitionModel.load(tmp_path / "v01.nc")


def test_load_rejects_other_files(tmp_path, fitted):

    from bayes_coalition import _arviz

    bad = _arviz.from_dict(posterior={"x": np.zeros((1, 3))})
    _arviz.to_netcdf(bad, tmp_path / "x.nc")
    with pytest.raises(ValueError, match="not a saved bayes_coalition.CoalitionModel"):
        CoalitionModel.load(tmp_path / "x.nc")


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


def test_prior_predictive_is_seeded():
    model = CoalitionModel()
    p1 = model.sample_prior_predictive(draws=30, random_seed=5)
    p2 = model.sample_prior_predictive(draws=30, random_seed=5)
    np.testing.assert_array_equal(p1.prior_predictive["yea"].values, p2.prior_predictive["yea"].values)
    share = p1.prior_predictive["yea_share"].values
    assert share.shape == (1, 30, len(model.model_data.obs_n))
    # share of yeas among those voting (a row with nobody voting counts as share 0, not NaN)
    np.testing.assert_allclose(share, p1.prior_predictive["yea"].values / np.maximum(model.model_data.obs_n, 1))


def test_cli_fit_writes_run_directory(mock_pymc_sample, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.warns(ConvergenceWarning, match="convergence fail"):
        rc = main(["fit", str(default_spec_path()), "--out", str(out), "--draws", "30", "--chains", "2", "--seed", "3", "--quiet", "--no-report"])
    assert rc == 0
    for name in ("posterior.nc", "summary.csv", "approval.csv", "diagnostics.json", "ppc.csv", "ideal_points.csv", "hypotheses.csv"):
        assert (out / name).is_file(), name
    diag = json.loads((out / "diagnostics.json").read_text())
    assert {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi", "wall_seconds", "sampler", "draws", "chains"} <= set(diag)
    assert diag["draws"] == 30 and diag["chains"] == 2
    approval = pd.read_csv(out / "approval.csv")
    assert {"case_id", "chamber", "p_house", "p_senate", "p_enacted", "observed_outcome"} <= set(approval.columns)
    text = capsys.readouterr().out
    assert "pntr_h" in text and "convergence:" in text


def test_cli_prior_and_errors(tmp_path, capsys):
    rc = main(["prior", str(default_spec_path()), "--out", str(tmp_path / "p"), "--draws", "20", "--seed", "1"])
    assert rc == 0 and (tmp_path / "p" / "prior_predictive.csv").is_file()
    assert main(["fit", str(tmp_path / "missing.toml")]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[priors]\nnonsense = 1\n")
    assert main(["fit", str(bad)]) == 2
    assert "unknown spec key" in capsys.readouterr().err


def test_sampler_selection():
    from bayes_coalition.sampling import available, resolve_sampler

    assert resolve_sampler("pymc") == "pymc"
    assert resolve_sampler("auto") == ("nutpie" if available("nutpie") else "pymc")
    with pytest.raises(ValueError, match="sampler must be one of"):
        resolve_sampler("gibbs")
    if not available("numpyro"):
        with pytest.raises(ImportError, match="numpyro"):
            resolve_sampler("numpyro")


def test_diagnostics_flag_divergences_and_depth():
    from bayes_coalition import _arviz, diagnostics

    rng = np.random.default_rng(0)
    idata = _arviz.from_dict(
        posterior={"x": rng.normal(size=(2, 200))},
        sample_stats={"diverging": np.r_[np.zeros(399), 1].reshape(2, 200).astype(bool),
                      "energy": rng.normal(size=(2, 200)),
                      "reached_max_treedepth": np.r_[np.zeros(395), np.ones(5)].reshape(2, 200).astype(bool)},
    )
    d = diagnostics.convergence(idata, ["x"])
    assert d["divergences"] == 1 and d["max_tree_depth_hits"] == 5
    status, reasons = diagnostics.verdict(d)
    assert status == "fail" and any("divergent" in r for r in reasons)


PINNED = Path(__file__).parent / "pinned_mock_fit.json"


def pinned_results(fitted) -> dict:
    """What the pin holds: the approval table and the `predict` summaries of the three example bills
    (the bill file's path left out: it differs by checkout)."""
    from bayes_coalition.prediction.predict import summary_dict

    cols = ["case_id", "n_voting", "yea_mean", "yea_lower", "yea_upper", "p_pass", "p_house", "p_senate", "p_enacted"]
    approval = json.loads(fitted.approval()[cols].to_json(orient="records", double_precision=15))
    predict = {}
    for name in ("fasttrack1997_like", "hypothetical_2027", "pntr_like"):
        got = json.loads(json.dumps(summary_dict(fitted.predict(bc_load_bill(REPO / "bills" / f"{name}.toml"), seed=0))))
        got.pop("bill")
        predict[name] = got
    return {"approval": approval, "predict": predict}


def test_results_pinned_for_model_v2():
    """A fixed mocked-sampling fit (seed 11, 2 x 60 draws) of model v2 (version 0.3.0) on the shipped data:
    its approval table and the `predict` summaries of the three example bills equal those pinned when
    v2 landed, so a later change that should leave the model alone (a refactor, the strategic layer
    switched off) can show it does. JSON keeps 15 significant digits, hence the 1e-12 relative
    tolerance. Regenerate deliberately only: ``python -c "from tests.coalition.test_model import
    write_pin; write_pin()"``."""
    _assert_close(_results_now(), json.loads(PINNED.read_text()), where="pinned")


def _results_now() -> dict:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=mock_sample_stats()))
        fitted = CoalitionModel()
        with pytest.warns(ConvergenceWarning, match="convergence fail"):
            fitted.fit(random_seed=11, draws=60, chains=2, progressbar=False)
    return pinned_results(fitted)


def write_pin() -> None:
    PINNED.write_text(json.dumps(_results_now(), indent=1) + "\n")


def _assert_close(got, want, where: str) -> None:
    if isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for key in want:
            _assert_close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12), where
    else:
        assert got == want, where


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
