"""Hypothetical bills: loading, validation errors naming the field, prediction and sweeps."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pymc as pm
import pytest
from pymc.testing import mock_sample

from bayes_coalition import CoalitionModel, ConvergenceWarning, DataValidationError, load_dataset
from bayes_coalition.cli.main import main
from bayes_coalition.coalition.spec import shipped_spec_path
from bayes_coalition.prediction.baseline import party_line_p
from bayes_coalition.prediction.bills import HypotheticalBill, load_bill
from tests.helpers import mock_sample_stats as _stats

ROOT = Path(__file__).resolve().parents[2]
BILLS = ROOT / "bills"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=_stats()))
        # model v2 without the strategic layers (the tests switch each on over it)
        model = CoalitionModel(spec=shipped_spec_path("trade_coalition_v2"))
        with pytest.warns(ConvergenceWarning, match="convergence fail"):
            model.fit(random_seed=5, draws=400, chains=2, progressbar=False, log_likelihood=False)
    path = model.save(tmp_path_factory.mktemp("run") / "posterior.nc")
    return model, path.parent


def test_shipped_bills_load_and_validate():
    ds = load_dataset()
    for path in sorted(BILLS.glob("*.toml")):
        bill = load_bill(path).validate(ds)
        seats = bill.seats(ds)
        assert set(seats) >= {"House", "Senate"}
    b = load_bill(BILLS / "hypothetical_2027.toml")
    assert b.codes[("voting", "polarization")] == 2 and b.congress == 116 and b.senate_rule == "three_fifths_of_senate"


@pytest.mark.parametrize(
    "toml, column, message",
    [
        ("[codes.voting]\nsunshine = 1\n", "codes.voting.sunshine", "unknown indicator"),
        ("[codes.voting]\npayoff = 7\n", "codes.voting.payoff", "off the scale"),
        ("[codes.voting]\nexecutive_coordination = 1\n", "codes.voting.executive_coordination", "not coded in the voting stage"),
        ("[actor_weights]\nmartians = 3\n", "actor_weights.martians", "unknown actor"),
        ("[composition]\nHouse = { R = 300, D = 200 }\nSenate = { R = 50, D = 50 }\n", "composition.House", "500 seats is impossible"),
        ("[composition]\nHouse = { R = -3, D = 200 }\nSenate = { R = 50, D = 50 }\n", "composition.House.R", "non-negative integer"),
        ("[composition]\nHouse = { Q = 3 }\nSenate = { R = 50, D = 50 }\n", "composition.House.Q", "unknown party"),
        ("[thresholds]\nsenate = \"unanimity\"\n", "thresholds.senate", "is not one of"),
        ("[bill]\nlike = \"nafta2099\"\n", "bill.like", "unknown episode"),
        ("[bill]\ncolour = \"red\"\n", "bill.colour", "unknown field"),
        ("[votes]\nx = 1\n", "votes", "unknown section"),
        ("[floor_expectation]\nhouse = 3\n", "floor_expectation.house", "0 (expected to fail), 1 (in doubt) or 2"),
        ("[floor_expectation]\nhouse = \"close\"\n", "floor_expectation.house", "got \"close\" (a string)"),
        ("[floor_expectation]\nsenat = 1\n", "floor_expectation.senat", "unknown chamber"),
    ],
)
def test_bad_bill_files_name_the_field(tmp_path, toml, column, message):
    p = tmp_path / "bad.toml"
    p.write_text(toml, encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_bill(p).validate(load_dataset())
    assert err.value.column == column and message in str(err.value) and str(p) in str(err.value)


def test_congress_composition_comes_from_the_composition_table():
    ds = load_dataset()
    # data/composition.csv (Voteview): the 106th House 223 R, 211 D and Sanders's seat; the Senate 55 R, 45 D
    assert HypotheticalBill(congress=106).seats(ds) == {"House": {"R": 223, "D": 211, "I": 1}, "Senate": {"R": 55, "D": 45}}
    # without `congress`: the `like` episode's Congress (fast-track 1997: the 105th), else the latest (116th)
    assert HypotheticalBill(like="fasttrack1997").seats(ds) == {"House": {"R": 228, "D": 206, "I": 1},
                                                                "Senate": {"R": 55, "D": 45}}
    assert HypotheticalBill().seats(ds) == {"House": {"R": 201, "D": 234}, "Senate": {"R": 53, "D": 45, "I": 2}}
    # a Congress of the table without a trade vote in the data is a valid composition
    assert HypotheticalBill(congress=111).validate(ds).seats(ds)["Senate"] == {"R": 42, "D": 57, "I": 1}


def test_a_congress_missing_from_the_composition_table_names_the_bill_and_field(tmp_path):
    p = tmp_path / "old.toml"
    p.write_text("[composition]\ncongress = 101\n", encoding="utf-8")
    bill = load_bill(p)
    for check in (bill.validate, bill.seats):
        with pytest.raises(DataValidationError, match=r"Congress 101 is not in composition.csv \(valid: 102-116\)") as err:
            check(load_dataset())
        assert (err.value.file, err.value.column) == (str(p), "composition.congress")


def test_explicit_seats_override_the_table(tmp_path):
    p = tmp_path / "seats.toml"
    p.write_text("[composition]\nHouse = { R = 218, D = 217 }\nSenate = { R = 51, D = 49 }\n", encoding="utf-8")
    assert load_bill(p).validate(load_dataset()).seats(load_dataset()) == {"House": {"R": 218, "D": 217}, "Senate": {"R": 51, "D": 49}}


def test_without_a_composition_table_seats_come_from_the_votes(data_copy):
    """A data directory in the older layout: the largest number voting per party, and a note saying so."""
    (data_copy / "composition.csv").unlink()
    ds = load_dataset(data_copy)
    assert ds.composition is None and any("no composition.csv" in n for n in ds.notes)
    seats = HypotheticalBill(congress=106).seats(ds)
    # PNTR 2000: 221 R + 211 D + 2 I voting in the House; the Senate's largest R turnout is the July 1999
    # NTR vote (R 8-47: 55, Bob Smith still listed R), its largest D turnout PNTR's 44
    assert seats["House"]["R"] >= 221 and seats["House"]["D"] >= 211 and seats["Senate"] == {"R": 55, "D": 44}
    assert seats["_notes"][0] == "no composition table: seats inferred from the votes of Congress 106"
    with pytest.raises(DataValidationError, match="Congress 111 is not in the data's cases"):
        HypotheticalBill(congress=111).validate(ds)


def test_bill_like_an_observed_case_reproduces_its_approval(fitted):
    model, _ = fitted
    a = model.approval(seed=1).set_index("case_id")
    pred = model.predict(HypotheticalBill(like="pntr2000"), seed=1)
    n = model.idata.posterior.sizes["chain"] * model.idata.posterior.sizes["draw"]
    for key, case in (("p_house", "pntr_h"), ("p_senate", "pntr_s")):
        p = a.loc[case, "p_pass"]
        mc = 4 * np.sqrt(max(p * (1 - p), 1 / n) / n) + 1e-9   # two independent simulations: generous MC error
        assert abs(float(pred[key]) - p) <= mc, (key, float(pred[key]), p)
    assert abs(float(pred["p_enacted"]) - a.loc["pntr_h", "p_enacted"]) <= 0.08


def test_prediction_contents(fitted):
    model, _ = fitted
    ds = model.predict(load_bill(BILLS / "hypothetical_2027.toml"), seed=3)
    for key, chamber in (("p_house", "House"), ("p_senate", "Senate")):
        # P(pass) is the share of draws whose simulated yea count reaches the rule's threshold
        yea = ds[f"yea_{chamber.lower()}"].values
        # two estimators of one probability: the share of simulated counts that pass, and the mean of the
        # per-draw normal approximation; they differ by Monte Carlo error (4 standard errors of a share of
        # S draws) plus the normal approximation's error to a sum of beta-binomials (< 0.02 here)
        p_sim, p_approx = float(ds[key]), float(np.mean(ds[f"{key}_per_draw"].values))
        assert abs(p_sim - p_approx) <= 4 * np.sqrt(p_approx * (1 - p_approx) / len(yea)) + 0.02
        assert ds[key].attrs["lower"] <= np.median(ds[f"{key}_per_draw"].values) <= ds[key].attrs["upper"]
        assert yea.shape == (model.idata.posterior.sizes["chain"] * model.idata.posterior.sizes["draw"],)
    assert float(ds["p_enacted"]) <= min(float(ds["p_house"]), float(ds["p_senate"])) + 1e-12
    assert ds["in_coalition"].dims == ("chamber", "actor") and ds["pivotal"].sizes["actor"] == 15
    assert ds["yea_house"].max() <= 435 and ds["yea_senate"].max() <= 100
    # the 116th Congress of composition.csv: no independent in the House, King and Sanders in the Senate
    assert set(ds["yea_house_party"]["house_group"].values) == {"R", "D"}
    assert set(ds["yea_senate_party"]["senate_group"].values) == {"R", "D", "I"}
    # seeds reproduce
    again = model.predict(load_bill(BILLS / "hypothetical_2027.toml"), seed=3)
    np.testing.assert_array_equal(ds["yea_house"].values, again["yea_house"].values)


def test_sweep_grid_and_common_random_numbers(fitted):
    model, _ = fitted
    base = load_bill(BILLS / "hypothetical_2027.toml")
    t = model.sweep(base, {"voting.payoff": [0, 1, 2], "formulation.executive_coordination": [0, 2]}, seed=2)
    assert len(t) == 6 and list(t.columns[:2]) == ["voting.payoff", "formulation.executive_coordination"]
    assert t[["voting.payoff", "formulation.executive_coordination"]].drop_duplicates().shape[0] == 6
    # the base bill's own codes reproduce the base's normal-approximation probability
    same = model.sweep(base, {"voting.payoff": [base.codes[("voting", "payoff")]]}, seed=2)
    again = model.sweep(base, {"voting.payoff": [base.codes[("voting", "payoff")]]}, seed=2)
    assert same.equals(again)
    # predict, sweep and the drivers share draws and estimator: the base's grid point is predict's number
    ds = model.predict(base, seed=2)
    for key in ("p_house", "p_senate", "p_enacted"):
        assert same[key].iloc[0] == pytest.approx(float(ds[key]), rel=1e-12)
        assert same[f"{key}_mcse"].iloc[0] == pytest.approx(ds[key].attrs["mcse"], rel=1e-12)
    # and so are the outcome classes (issue 14's columns of the sweep), which sum to 1 per bill and chamber
    for ch in ("house", "senate"):
        classes = [f"p_{c}_{ch}" for c in ("minimum_winning", "oversized", "deadlock")]
        for key in classes:
            assert same[key].iloc[0] == pytest.approx(float(ds[key]), rel=1e-12)
        np.testing.assert_allclose(t[classes].sum(axis=1), 1.0, atol=1e-12)
        assert ((t[classes] >= 0) & (t[classes] <= 1)).all().all()
    drivers = model.drivers(base, seed=2).set_index("indicator")
    payoff = t.set_index(["voting.payoff", "formulation.executive_coordination"])
    lo_code = {**base.codes, ("voting", "payoff"): 0}
    hi_code = {**base.codes, ("voting", "payoff"): 2}
    grid = model.sweep(base, {"voting.payoff": [0, 2]}, seed=2).set_index("voting.payoff")["p_enacted"]
    assert drivers.loc["voting.payoff", "p_lowest_level"] == pytest.approx(grid[0], rel=1e-12)
    assert drivers.loc["voting.payoff", "p_highest_level"] == pytest.approx(grid[2], rel=1e-12)
    assert len(payoff) == 6 and lo_code != hi_code
    with pytest.raises(DataValidationError, match="off the scale"):
        model.sweep(base, {"voting.payoff": [9]})


def test_cli_predict_json_and_text(fitted, capsys):
    _, run = fitted
    assert main(["predict", str(run), str(BILLS / "hypothetical_2027.toml"), "--json", "--seed", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("p_house", "p_senate", "p_enacted"):
        assert set(out[key]) == {"mean", "mcse", "lower", "upper", "decimals"}
    for key in ("yea_house", "yea_senate"):
        assert set(out[key]) == {"mean", "lower", "upper"}
    assert set(out["pivotal"]) == set(load_dataset().actors["actor_id"]) and set(out["coalition"]) == set(out["pivotal"])
    assert out["bill"]["name"] == "hypothetical 2027 trade promotion authority" and out["seed"] == 1
    assert out["draws"] == 800 and out["chains"] == 2 and set(out["seats"]) == {"House", "Senate"}
    assert {"indicator", "effect", "effect_mcse", "ranked", "tied_with_top"} <= set(out["drivers"][0])
    assert any(w.startswith("convergence fail") for w in out["warnings"])      # mocked draws do not converge
    # the party-line baseline beside the model's P: the bill's seats and rules, every vote of the data, the same seed
    bill = load_bill(BILLS / "hypothetical_2027.toml")
    ds = load_dataset()
    seats = bill.seats(ds)
    for ch, chamber, rule in (("house", "House", bill.house_rule), ("senate", "Senate", bill.senate_rule)):
        p, _ = party_line_p(ds, ds.cases["case_id"], chamber, seats[chamber], rule, True, seed=1)
        assert out["party_line"][ch]["mean"] == p and out["party_line"][ch]["mcse"] == pytest.approx(np.sqrt(p * (1 - p) / 4000))
    assert main(["predict", str(run), str(BILLS / "fasttrack1997_like.toml")]) == 0
    text = capsys.readouterr().out
    assert "warning: convergence fail" in text and "pivotal" in text and "like fasttrack1997" in text
    assert re.search(r"party-line baseline \(.*\): House 0\.\d\d, Senate 0\.\d\d", text)


def test_every_predict_json_key_is_documented_in_the_readme(fitted, capsys):
    """The README's `predict --json` table is the contract: every key the command writes has a row, and every
    row names a key it writes (the layers' keys: p_floor_* appear when the fit has agenda control)."""
    _, run = fitted
    assert main(["predict", str(run), str(BILLS / "hypothetical_2027.toml"), "--json"]) == 0
    keys = set(json.loads(capsys.readouterr().out))
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| key | meaning |", 1)[1].split("\n\n", 1)[0]
    documented = {k for row in table.splitlines()[2:] for k in re.findall(r"`([a-z_]+)`", row.split(" | ")[0])}
    layer_only = {"p_floor_house", "p_floor_senate"}
    assert keys - documented == set(), "undocumented keys"
    assert documented - keys - layer_only == set(), "documented keys predict does not write"


def test_cli_predict_reports_the_backtest_of_its_model(fitted, tmp_path, capsys, monkeypatch):
    """predict says how the spec did out of sample: the verdict of a backtest of the run's own model (beside the
    run, named by --backtest, or shipped with the package), else why it has none (no backtest, one that does not
    record its model, another model's)."""
    import bayes_coalition.report.run_dir as run_dir

    model, run = fitted
    monkeypatch.setattr(run_dir, "shipped_records", lambda kind: [])
    bill = str(BILLS / "hypothetical_2027.toml")
    assert main(["predict", str(run), bill, "--json"]) == 0
    oos = json.loads(capsys.readouterr().out)["out_of_sample"]
    sibling = Path(run).parent / f"{model.spec['model']['name']}_backtest" / "backtest.json"
    assert oos == {"backtest": None, "note": f"not backtested: no {sibling} (make it with `bayes-coalition backtest SPEC.toml`)"}
    scores = {"n_votes": 43, "model": {"brier": 0.0535, "log_score": -0.198}, "party_line": {"brier": 0.0663, "log_score": -0.2567},
              "p_model_better_brier": 0.942, "coverage_90": 0.814, "unconverged_fits": [{"origin": "2001-12-06"}],
              "settings": {"model_id": model.id}}
    folder = tmp_path / "bt"
    folder.mkdir()
    (folder / "backtest.json").write_text(json.dumps(scores))
    assert main(["predict", str(run), bill, "--json", "--backtest", str(folder)]) == 0
    oos = json.loads(capsys.readouterr().out)["out_of_sample"]
    assert oos["backtest"] == str(folder / "backtest.json") and oos["beats_party_line"] is False
    assert (oos["n_votes"], oos["brier"], oos["party_line_brier"], oos["coverage_90"], oos["unconverged_fits"]) == (43, 0.0535, 0.0663, 0.814, 1)
    assert "Missed: 90% coverage of party rows 0.814 (bar 0.85-0.95: intervals too narrow)" in oos["verdict"]
    assert main(["predict", str(run), bill, "--backtest", str(folder)]) == 0
    assert f"out of sample (43 votes, {folder / 'backtest.json'}): the model does not beat" in capsys.readouterr().out
    for settings, why in (({}, "does not say which model it scored"), ({"model_id": "0123"}, "backtest of another model (id 0123")):
        (folder / "backtest.json").write_text(json.dumps({**scores, "settings": settings}))
        assert main(["predict", str(run), bill, "--json", "--backtest", str(folder)]) == 0
        oos = json.loads(capsys.readouterr().out)["out_of_sample"]
        assert oos["backtest"] is None and why in oos["note"]
    # no backtest beside the run: a shipped record of the same model is used, and named as such
    (folder / "backtest.json").write_text(json.dumps(scores))
    monkeypatch.setattr(run_dir, "shipped_records", lambda kind: [folder] if kind == "backtest" else [])
    assert main(["predict", str(run), bill, "--json"]) == 0
    oos = json.loads(capsys.readouterr().out)["out_of_sample"]
    assert oos["backtest"] == f"{folder / 'backtest.json'} (shipped with the package)" and oos["n_votes"] == 43
    # printed relative to the working directory when below it (the JSON keeps the full path)
    monkeypatch.chdir(folder.parent)
    assert main(["predict", str(run), bill]) == 0
    assert f"out of sample (43 votes, {folder.name}/backtest.json (shipped with the package)): " in capsys.readouterr().out
    # a shipped record of another model is not used, and the note says why it is not
    (folder / "backtest.json").write_text(json.dumps({**scores, "settings": {"model_id": "0123"}}))
    assert main(["predict", str(run), bill, "--json"]) == 0
    oos = json.loads(capsys.readouterr().out)["out_of_sample"]
    assert oos["backtest"] is None and oos["note"] == (
        f"not backtested: no {sibling} (make it with `bayes-coalition backtest SPEC.toml`); the package's own record, "
        f"{folder} (model id 0123), is of another model (this run's is {model.id})")


def test_cli_predict_bad_bill(fitted, tmp_path, capsys):
    _, run = fitted
    bad = tmp_path / "b.toml"
    bad.write_text("[codes.voting]\npayoff = 5\n")
    assert main(["predict", str(run), str(bad)]) == 2
    assert "codes.voting.payoff" in capsys.readouterr().err
    # a malformed bill is rejected before any posterior is read (no run directory needed)
    bad.write_text("[bill]\nname = 'x'\nnonsense = 1\n")
    assert main(["predict", str(tmp_path / "no_run_here"), str(bad)]) == 2
    assert "bill.nonsense" in capsys.readouterr().err


def test_optional_covariates_enter_a_new_bills_cut_point_and_tilt():
    """A model with [model] covariates: a new bill's cut-point moves by the election-year effect when the bill
    says it falls in an election year, by it in about half the draws when the bill does not say, and its tilt by
    the party-gap effect times rules.party_gap of the bill's Congress and against the majority effect times the sign of
    the chamber's majority (its seats: the Congress's, or the bill's own composition; common random numbers)."""
    from bayes_coalition.coalition import rules
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.prediction.predictor import BillPredictor

    spec = load_spec(default_spec_path())
    spec["model"]["covariates"] = ["election_year", "party_gap", "chamber_majority", "house_tilt"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=_stats()))
        model = CoalitionModel(spec=spec)
        with pytest.warns(ConvergenceWarning):
            model.fit(random_seed=5, draws=200, chains=2, progressbar=False, log_likelihood=False)
    pred = BillPredictor(model)
    beta, gamma = pred.p["election_year"], pred.p["party_gap_tilt"]
    assert beta.shape == (400,) and np.ptp(beta) > 0

    def rows(bill):
        ep = np.zeros(pred.n_samples)
        return pred.chamber_rows(bill, "House", ep, bill.seats(model.dataset), np.random.default_rng(3))

    base = HypotheticalBill(congress=114, election_year=False)
    off, on, unknown = rows(base), rows(replace(base, election_year=True)), rows(replace(base, election_year=None))
    np.testing.assert_allclose(on["cut"] - off["cut"], beta, atol=1e-12)
    shifted = np.isclose(unknown["cut"] - off["cut"], beta, atol=1e-12)
    assert np.all(shifted | np.isclose(unknown["cut"], off["cut"], atol=1e-12)) and 0.35 < shifted.mean() < 0.65
    gap = rules.party_gap(model.dataset.covariates, 114, "House")
    assert gap == pytest.approx(10 * (model.dataset.covariates.set_index(["congress", "chamber"]).loc[(113, "House"), "party_gap_d1"]
                                      - model.dataset.covariates.set_index(["congress", "chamber"]).loc[(102, "House"), "party_gap_d1"]))
    pred.p["party_gap_tilt"] = np.zeros_like(gamma)
    np.testing.assert_allclose(off["tilt"] - rows(base)["tilt"], gamma * gap, atol=1e-12)
    delta = pred.p["majority_tilt"]
    assert delta.shape == (400,) and np.ptp(delta) > 0
    no_majority = rows(base)["tilt"]
    pred.p["majority_tilt"] = np.zeros_like(delta)
    # the 114th House: 247 Republicans, 188 Democrats, a Republican majority (sign +1)
    np.testing.assert_allclose(no_majority - rows(base)["tilt"], -delta, atol=1e-12)
    pred.p["majority_tilt"] = delta
    democratic = replace(base, congress=None, composition={"House": {"R": 200, "D": 235}, "Senate": {"R": 45, "D": 55}})
    flipped = rows(democratic)["tilt"]
    pred.p["majority_tilt"] = np.zeros_like(delta)
    np.testing.assert_allclose(flipped - rows(democratic)["tilt"], delta, atol=1e-12)
    pred.p["majority_tilt"] = delta
    # the House-versus-Senate tilt: -house_tilt / 2 on a House vote, +house_tilt / 2 on a Senate vote
    eta = pred.p["house_tilt"]
    assert eta.shape == (400,) and np.ptp(eta) > 0

    def senate(bill):
        return pred.chamber_rows(bill, "Senate", np.zeros(pred.n_samples), bill.seats(model.dataset),
                                 np.random.default_rng(3))["tilt"]

    with_h, with_s = rows(base)["tilt"], senate(base)
    pred.p["house_tilt"] = np.zeros_like(eta)
    np.testing.assert_allclose(with_h - rows(base)["tilt"], -0.5 * eta, atol=1e-12)
    np.testing.assert_allclose(with_s - senate(base), 0.5 * eta, atol=1e-12)
    pred.p["house_tilt"] = eta
    # a bill like an observed vote keeps its cut-point, moved only when the bill changes the vote's year
    like = HypotheticalBill(like="cafta2005")                       # CAFTA's House vote: 2005, not an election year
    kept = rows(like)
    np.testing.assert_allclose(rows(replace(like, election_year=False))["cut"], kept["cut"], atol=1e-12)
    np.testing.assert_allclose(rows(replace(like, election_year=True))["cut"] - kept["cut"], beta, atol=1e-12)


def test_a_floor_expectation_conditions_the_prediction(fitted, tmp_path):
    """A bill's floor expectation weights each draw by P(level | the draw's margin) (coalition/expectation.py):
    P(House) is the weighted mean of the per-draw P(House) of the same bill without it (same seed, same draws),
    with weights computed here from the draws' expected House count; the Senate, without a code, is unchanged.
    A model without the term does not use the code and says so."""
    from scipy.special import expit

    from bayes_coalition.coalition import rules
    from bayes_coalition.prediction.predict import predict
    from bayes_coalition.prediction.predictor import BillPredictor, case_effects

    model, _ = fitted
    p = tmp_path / "doubt.toml"
    p.write_text("[composition]\ncongress = 109\n[floor_expectation]\nhouse = 1\n", encoding="utf-8")
    bill = load_bill(p)
    assert bill.floor_expectation == {"House": 1}
    plain = replace(bill, floor_expectation={})
    off = predict(model, bill, seed=4)
    assert "floor_expectation is not used" in off.attrs["notes"]
    assert float(off["p_house"]) == float(predict(model, plain, seed=4)["p_house"])
    pr = BillPredictor(model)
    slope = np.linspace(0.2, 0.8, pr.n_samples)
    pr.p["expectation_slope"] = slope
    pr.p["expectation_cuts"] = np.tile([-1.0, 1.5], (pr.n_samples, 1))
    with_code, without = predict(model, bill, seed=4, predictor=pr), predict(model, plain, seed=4, predictor=pr)
    rows, _ = case_effects(pr, bill, bill.seats(model.dataset), 4)
    n = rows["House"]["n"]
    thr = rules.votes_needed("majority_of_voting", "House", int(n.sum()))
    eta = slope * 100 * ((rows["House"]["prob"] * n).sum(axis=1) - thr + 0.5) / n.sum()
    w = expit(eta + 1.0) - expit(eta - 1.5)                       # P(level 1) = sigma(eta - c1) - sigma(eta - c2)
    v = without["p_house_per_draw"].values
    assert float(with_code["p_house"]) == pytest.approx(float((w * v).sum() / w.sum()), rel=1e-9)
    assert abs(float(with_code["p_house"]) - float(without["p_house"])) > 0.01       # the code moves it
    assert float(with_code["p_senate"]) == pytest.approx(float(without["p_senate"]), rel=1e-12)
    np.testing.assert_allclose(with_code["yea_house_floor_weight"].values, w, rtol=1e-7, atol=1e-14)   # (w loses digits in the tails)
    from bayes_coalition.prediction.predict import summary_dict

    assert summary_dict(with_code)["floor_expectation"] == {"house": 1, "senate": None, "used": True}
    assert summary_dict(off)["floor_expectation"] == {"house": 1, "senate": None, "used": False}
    # the outcome classes are conditional on the code too, and still sum to one
    total = sum(float(with_code[f"p_{c}_house"]) for c in ("minimum_winning", "oversized", "deadlock"))
    assert total == pytest.approx(1.0, abs=1e-9)


def test_a_like_bill_does_not_count_its_fitted_code_twice(fitted):
    """A bill like an observed episode keeps that vote's posterior, which already measured the vote's own code: the
    bill's floor expectation for that chamber is not applied again (and predict says so); the other chamber's is."""
    from bayes_coalition.coalition.model_data import build_model_data
    from bayes_coalition.prediction.predict import predict, summary_dict
    from bayes_coalition.prediction.predictor import BillPredictor

    model, _ = fitted
    pr = BillPredictor(model)
    md = build_model_data(model.dataset, floor_expectation=True)
    pr.md = replace(pr.md, expect_case_idx=md.expect_case_idx, expect_level=md.expect_level)
    pr.p["expectation_slope"] = np.full(pr.n_samples, 0.3)
    pr.p["expectation_cuts"] = np.tile([-1.0, 1.5], (pr.n_samples, 1))
    like = HypotheticalBill(like="cafta2005")
    both = replace(like, floor_expectation={"House": 1, "Senate": 0})
    plain, coded = predict(model, like, seed=2, predictor=pr), predict(model, both, seed=2, predictor=pr)
    assert float(coded["p_house"]) == float(plain["p_house"])            # cafta_h's code is in the fit
    # the episode's decisive Senate vote (cafta_s_hr3045, the House bill's passage) has no code: the bill's applies
    assert pr.md.coords["case"][pr.decisive[("cafta2005", "Senate")]] == "cafta_s_hr3045"
    assert float(coded["p_senate"]) != float(plain["p_senate"])
    assert "not used for House and Senate" not in coded.attrs["notes"]
    assert "not used for House: the fit already measured the code of cafta2005's vote" in coded.attrs["notes"]
    assert summary_dict(coded)["floor_expectation"]["used"] is True
