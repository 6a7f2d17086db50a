"""The report's validation section reads the files of `sbc`, `backtest` and `compare`."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd

from bayes_coalition.report.render import html_blocks, markdown_blocks
from bayes_coalition.report.run_dir import validation_dirs
from bayes_coalition.report.sections import Context
from bayes_coalition.report.sections.validation import validation_section
from bayes_coalition.validation.sbc import RANK_COLUMNS
from bayes_coalition.validation.sbc_stats import summarise_sbc


def _sbc_dir(path, rng, *, bad: bool, model_id: str | None = None):
    path.mkdir(parents=True)
    rows = [(s, f"effect_included[{k}]", int(rng.integers(0, 100)), 99) for s in range(60) for k in ("a", "b")]
    rows += [(s, "sigma_total", 0 if bad else int(rng.integers(0, 100)), 99) for s in range(60)]
    ranks = pd.DataFrame(rows, columns=RANK_COLUMNS)
    ranks.to_csv(path / "sbc.csv", index=False)
    summary = summarise_sbc(ranks)
    summary.update(settings={"chains": 2, "draws": 1000, "tune": 700, "n_keep": 99, **({"model_id": model_id} if model_id else {})},
                   fit_seconds_total=600.0,
                   fits_with_divergences=1, max_rhat_over_fits=1.02)
    (path / "sbc.json").write_text(json.dumps(summary))
    return summary


def _backtest_dir(path, rng, settings: dict | None = None):
    path.mkdir()
    n = 40
    y = rng.random(n) < 0.7
    table = pd.DataFrame({"origin": np.repeat(["2000-05-24", "2005-06-30"], n // 2), "case_id": [f"c{i % 25}" for i in range(n)],
                          "observed_passed": y, "p_pass": np.clip(y * 0.6 + 0.2 + rng.normal(0, 0.1, n), 0, 1),
                          "p_majority_baseline": 0.7, "p_party_line": 0.65})
    table.to_csv(path / "backtest.csv", index=False)
    gap = {"n_votes": 40, "n_clusters": 12, "brier": {"difference": -0.077, "interval_95": [-0.12, -0.03], "p_a_better": 0.99},
           "log_score": {"difference": 0.19, "interval_95": [0.05, 0.3], "p_a_better": 0.99}}
    scores = {"n_votes": 40, "model": {"brier": 0.1234, "log_score": -0.4}, "majority": {"brier": 0.21, "log_score": -0.6},
              "party_line": {"brier": 0.2, "log_score": -0.59}, "p_model_better_brier": 0.987, "coverage_50": 0.55,
              "coverage_90": 0.875, "n_party_rows": 64, "n_fits": 2, "refitted_fits": 1,
              "unconverged_fits": [{"origin": "2005-06-30", "max_rhat": 1.013, "divergences": 0, "attempts": 2}],
              "model_minus_party_line": gap}
    if settings is not None:
        scores["settings"] = settings
    (path / "backtest.json").write_text(json.dumps(scores))


def _compare_dir(path, model_id: str | None = None):
    path.mkdir(parents=True)
    ids = {"settings": {"model_id": model_id}} if model_id else {}
    loo = {m: {"elpd": e, "se": 10.0, "p_loo": 40.0, "pareto_k_above_0.7": k, "n": 89}
           for m, e, k in (("full", -290.0, 40), ("without_H1", -292.5, 45), ("without_H2", -291.0, 41))}
    comp = [{"model": "full", "elpd": -290.0, "elpd_diff": 0.0, "dse": 0.0, "se": 10.0},
            {"model": "without_H2", "elpd": -291.0, "elpd_diff": 1.0, "dse": 0.9, "se": 10.0},
            {"model": "without_H1", "elpd": -292.5, "elpd_diff": 2.5, "dse": 1.5, "se": 10.0}]
    p = {"full": {"willingness": 0.6, "pivotal": 0.55}, "prior_twice_as_wide": {"willingness": 0.58, "pivotal": 0.55},
         "codes_perturbed": {"willingness": 0.5, "pivotal": 0.45}}
    diag = {m: {"max_rhat": 1.005, "divergences": 0} for m in ("full", "without_H1", "without_H2", "prior_twice_as_wide", "codes_perturbed")}
    (path / "hypotheses_comparison.json").write_text(json.dumps({"loo": loo, "comparison": comp, "p_hypothesised_sign": p,
                                                                 "diagnostics": diag, **ids}))
    fits = [{"variant": "full", "episode": "e1", "verdict": "fail", "max_rhat": 1.024, "divergences": 0, "attempts": 2}]
    (path / "loeo.json").write_text(json.dumps({
        "elpd": {"full": -300.0, "without_H1": -303.5, "without_H2": -299.0},
        "differences": {"full_minus_without_H1": {"elpd_diff": 3.5, "se": 2.25, "n_episodes": 23},
                        "full_minus_without_H2": {"elpd_diff": -1.0, "se": 1.5, "n_episodes": 23}},
        "converged_differences": {"max_rhat": 1.05, "differences": {
            "full_minus_without_H1": {"elpd_diff": 2.75, "se": 2.0, "n_episodes": 22, "dropped": ["taa2011"]},
            "full_minus_without_H2": {"elpd_diff": -1.0, "se": 1.5, "n_episodes": 23, "dropped": []}}},
        "fits": fits * 69, "unconverged_fits": fits, "settings": {"chains": 2, "draws": 400, **ids.get("settings", {})},
        "vote_summary": {"near_threshold": {"n_votes": 14, "margin": 10, "mean_p_pass": 0.8904},
                         "failed_or_withdrawn": {"n_votes": 7, "mean_log_score": -1.2961}}}))


def _render(run, tmp_path, validation=None) -> tuple[str, str]:
    section = validation_section(Context(run, tmp_path, validation))
    return html_blocks(section.blocks), markdown_blocks(section.blocks)


def test_validation_section_reads_every_part(tmp_path, rng):
    summary = _sbc_dir(tmp_path / "sbc", rng, bad=True)
    _backtest_dir(tmp_path / "bt", rng)
    _compare_dir(tmp_path / "cmp")
    run = SimpleNamespace(model=None, run_dir=None)
    html, md = _render(run, tmp_path, {"sbc": tmp_path / "sbc", "backtest": tmp_path / "bt", "compare": tmp_path / "cmp"})
    assert summary["verdict"] == "fail" and "<strong>FAIL</strong>" in html
    assert summary["ecdf_verdict"] == "fail" and html.count("<strong>FAIL</strong>") == 2 and "ECDF difference per scalar" in md
    assert "ECDF p (Bonferroni)" in md and "ECDF worst scalar" in md
    assert "sigma_total" in md and "effect_included" in md
    assert html.count("data:image/png;base64,") == 3           # ECDF, histograms, backtest calibration
    assert "0.123" in md and "0.210" in md                      # model and majority Brier scores
    assert "P(model's Brier is lower) 0.99" in md and "90% intervals 0.875" in md and "share, 64 rows" in md
    assert "1 still did not converge (max R-hat 1.013)" in md and "2000-05-24 to 2005-06-30" in md
    assert "change willingness" in md and "-0.100" in md        # codes perturbed: 0.5 - 0.6
    # 40-45 of 89 rows with k > 0.7: the PSIS-LOO comparison is withheld, leave-one-episode-out stands in for it
    assert "**not shown**, because PSIS-LOO is unreliable for full, without_H1, without_H2" in md
    assert "| without_H1 | unreliable: 45 of 89 rows have k > 0.7 |" in md and "ELPD difference" not in md
    assert "full model against the model without_H1 | 3.50 | 2.25 | 23 | not separated by the data (+1.6 SE, " in md
    assert "full model against the model without_H2 | -1.00 | 1.50 | 23 | not separated by the data (-0.7 SE, leaning to the model without H2" in md
    assert "69 fits, 1 of them did not converge (max R-hat 1.024)" in md
    # the convergence sensitivity: only the comparison that dropped an episode is stated
    assert ("Without the episodes whose fits missed R-hat 1.05 (the looser bar of this sensitivity): against the "
            "model without_H1 +2.75 (SE 2.00) over 22 episodes, dropping taa2011.") in md and "over 23 episodes, dropping" not in md
    assert ("mean P(pass) 0.890 over the 14 votes within 10 yeas of their threshold; mean log score -1.296 over the 7 "
            "failed or withdrawn votes") in md
    # a record from before the Monte Carlo check says it carries none
    assert "Monte Carlo check: this record carries no Monte Carlo check of the episodes' elpd" in md
    assert "ideal-point SBC: not run" in md                      # missing part says what to run
    # the design the backtest ran with: each vote as of its own date (a run without settings: the default)
    assert "latest origin not after it (trained" in md and "episode-blind" not in md
    assert "Verdict: the model beats the party-line baseline out of sample" in md and "Missed" not in md
    assert "no backtest_party_rows.csv beside backtest.json" in md    # an old folder: says what it cannot list


def test_the_report_lists_the_votes_and_party_rows_where_the_model_misses(tmp_path, rng):
    """The worst votes against the party line (hand values: squared errors 0.36 - 0.01 and 0.36 - 0.04) and the
    party rows outside their 90% interval, with the side; a won vote and a covered row are not listed."""
    _backtest_dir(tmp_path / "bt", rng)
    table = pd.DataFrame({"origin": "2011-01-01", "case_id": ["cafta_h", "taa2015_h", "nafta_h"],
                          "date": ["2005-07-28", "2015-06-12", "1993-11-17"], "observed_passed": [True, False, True],
                          "p_pass": [0.4, 0.6, 0.95], "p_majority_baseline": 0.7, "p_party_line": [0.9, 0.2, 0.8]})
    table.to_csv(tmp_path / "bt" / "backtest.csv", index=False)
    rows = pd.DataFrame({"case_id": ["taa2015_h", "taa2015_h", "nafta_h"], "party": ["R", "D", "R"],
                         "observed_yea_share": [0.352, 0.28, 0.57], "q05": [0.644, 0.1, 0.3], "q25": 0.0, "q75": 1.0,
                         "q95": [0.976, 0.5, 0.9], "in_50": True, "in_90": [False, True, True]})
    rows.to_csv(tmp_path / "bt" / "backtest_party_rows.csv", index=False)
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"backtest": tmp_path / "bt"})
    assert "adds gap / 3 to the mean Brier difference" in md
    assert "| cafta_h | 2005-07-28 | yes | 0.400 | 0.900 | 0.350 |" in md
    assert "| taa2015_h | 2015-06-12 | no | 0.600 | 0.200 | 0.320 |" in md and "| nafta_h |" not in md.split("Brier gap")[1].split("party rows")[0]
    assert "The 1 of 3 party rows outside their 90% interval (0 above it, 1 below it):" in md
    assert "| taa2015_h | R | 0.352 | 0.644 to 0.976 | below |" in md


def test_a_reliable_psis_loo_comparison_is_shown(tmp_path):
    _compare_dir(tmp_path / "cmp")
    path = tmp_path / "cmp" / "hypotheses_comparison.json"
    res = json.loads(path.read_text())
    for m, bad in (("full", 8), ("without_H1", 8), ("without_H2", 9)):     # 8 / 89 <= 10% < 9 / 89
        res["loo"][m].update({"pareto_k_above_0.7": bad, "pareto_k_above_1": 0})
    path.write_text(json.dumps(res))
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"compare": tmp_path / "cmp"})
    assert "unreliable for without_H2 (rule" in md and "ELPD difference" not in md
    res["loo"]["without_H2"]["pareto_k_above_0.7"] = 8
    path.write_text(json.dumps(res))
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"compare": tmp_path / "cmp"})
    assert "not shown" not in md and "| without_H1 | -292.500 | 2.500 | 1.500 |" in md
    res["loo"]["full"]["pareto_k_above_1"] = 1                             # one row above 1 is enough
    path.write_text(json.dumps(res))
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"compare": tmp_path / "cmp"})
    assert "unreliable for full (rule" in md


def test_validation_section_says_when_the_backtest_was_episode_blind(tmp_path, rng):
    _backtest_dir(tmp_path / "bt", rng, settings={"same_episode": False})
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"backtest": tmp_path / "bt"})
    assert "latest origin not after its episode's first vote" in md
    assert "dated before its episode's first vote" in md and "episode-blind: nothing of its episode informs" in md


def test_validation_defaults_to_sibling_folders(tmp_path):
    dirs = validation_dirs(tmp_path / "trade_coalition", "trade_coalition")
    assert dirs["sbc"] == tmp_path / "trade_coalition_sbc" and dirs["backtest"] == tmp_path / "trade_coalition_backtest"
    assert dirs["compare"] == tmp_path / "trade_coalition_hypotheses" and validation_dirs(None, "x") == {}
    html, md = _render(SimpleNamespace(model=None, run_dir=tmp_path / "model"), tmp_path)
    assert md.count("not run") == 4 and "<code>bayes-coalition backtest SPEC.toml</code>" in html
    assert "Backtest: not backtested: no " in md


def test_the_report_says_in_words_when_the_model_loses(tmp_path, rng):
    _backtest_dir(tmp_path / "bt", rng)
    path = tmp_path / "bt" / "backtest.json"
    scores = json.loads(path.read_text())
    scores.update(model={"brier": 0.0535, "log_score": -0.198}, party_line={"brier": 0.0663, "log_score": -0.2567},
                  p_model_better_brier=0.942, coverage_90=0.814)
    path.write_text(json.dumps(scores))
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"backtest": tmp_path / "bt"})
    assert "does not beat the party-line baseline out of sample on every count" in md
    assert "Missed: 90% coverage of party rows 0.814 (bar 0.85-0.95: intervals too narrow)" in md
    assert "Met: Brier 0.0535 against the party line's 0.0663; log score -0.198 against -0.257" in md


def test_the_report_shows_only_a_backtest_of_its_own_model(tmp_path, rng):
    """A run's report takes the backtest beside it only when the backtest scored the run's model (spec and model
    version): a stale or foreign backtest.json says so instead of lending the run its scores."""
    run = SimpleNamespace(model=SimpleNamespace(id="abc123", spec={"model": {"name": "m"}}), run_dir=None)
    for settings, shown, why in (({"model_id": "abc123"}, True, ""),
                                 ({"model_id": "fff000"}, False, "is the backtest of another model (id fff000; this run's is abc123)"),
                                 (None, False, "does not say which model it scored")):
        folder = tmp_path / f"bt{len(why)}"
        _backtest_dir(folder, rng, settings=settings)
        _, md = _render(run, tmp_path, {"backtest": folder})
        assert ("P(model's Brier is lower) 0.99" in md) is shown and why in md


def test_a_shipped_backtest_of_the_same_model_is_the_fallback(tmp_path, rng, monkeypatch):
    """Without a backtest beside the run, the report shows the record shipped with the package when it scored
    the run's model (models/backtests/<name>/), and says so; never one of another model, and never when the
    user named a folder."""
    import bayes_coalition.report.run_dir as run_dir

    shipped = tmp_path / "shipped" / "m"
    shipped.parent.mkdir()
    _backtest_dir(shipped, rng, settings={"model_id": "abc123"})
    monkeypatch.setattr(run_dir, "shipped_records", lambda kind: [shipped] if kind == "backtest" else [])
    run = SimpleNamespace(model=SimpleNamespace(id="abc123", spec={"model": {"name": "m"}}), run_dir=tmp_path / "runs" / "m")
    _, md = _render(run, tmp_path)
    assert f"From {shipped / 'backtest.json'} (shipped with the package)." in md and "P(model's Brier is lower) 0.99" in md
    _, md = _render(run, tmp_path, {"backtest": tmp_path / "elsewhere"})          # a folder named: that folder only
    assert "shipped with the package" not in md and f"not backtested: no {tmp_path / 'elsewhere' / 'backtest.json'}" in md
    other = SimpleNamespace(model=SimpleNamespace(id="fff000", spec={"model": {"name": "m"}}), run_dir=tmp_path / "runs" / "m")
    _, md = _render(other, tmp_path)
    assert "shipped with the package" not in md and "Backtest: not backtested" in md
    # ... and says why the record it can see in models/ is not shown
    assert f"the package's own record, {shipped} (model id abc123), is of another model (this run's is fff000)." in md


def test_sbc_comparison_and_cross_validation_show_only_records_of_the_runs_model(tmp_path, rng, monkeypatch):
    """As for the backtest: the SBC, the PSIS-LOO comparison and the leave-one-episode-out cross-validation beside
    a run are shown only when they are of the run's model (their settings' model_id); a foreign or undated record
    says why instead, and a record of the run's model shipped with the package stands in when none is beside it."""
    import bayes_coalition.report.run_dir as run_dir

    run = SimpleNamespace(model=SimpleNamespace(id="abc123", spec={"model": {"name": "m"}}), run_dir=None)
    shown = ("coalition model SBC: 60 simulations", "full model against the model without_H1 | 3.50",
             "Sensitivity of P(hypothesised sign)")
    for model_id, why in (("abc123", ()),
                          ("fff000", ("is the SBC of another model (id fff000; this run's is abc123)",
                                      "is the model comparison of another model (id fff000",
                                      "is the leave-one-episode-out cross-validation of another model (id fff000")),
                          (None, ("does not say which model it calibrated", "does not say which model it compared",
                                  "does not say which model it cross-validated"))):
        sbc, cmp = tmp_path / f"sbc_{model_id}", tmp_path / f"cmp_{model_id}"
        _sbc_dir(sbc, rng, bad=False, model_id=model_id)
        _compare_dir(cmp, model_id=model_id)
        _, md = _render(run, tmp_path, {"sbc": sbc, "compare": cmp})
        assert all((line in md) is (not why) for line in shown), model_id
        if not why:     # the lead states the fits' tuning and that the summed time is per chain task (core-minutes)
            assert ("2 chains x 1000 draws per fit after 700 tuning steps" in md
                    and "sampling time summed over fits 10.0 min (core-minutes where chains ran as separate" in md)
        assert all(w in md for w in why) and "shipped with the package" not in md
    # none beside the run: a shipped record of the run's model (models/sbc/<name>/, models/loeo/<name>/), said so
    shipped = {"sbc": tmp_path / "shipped_sbc" / "m", "loeo": tmp_path / "shipped_loeo" / "m"}
    _sbc_dir(shipped["sbc"], rng, bad=False, model_id="abc123")
    _compare_dir(shipped["loeo"], model_id="abc123")
    monkeypatch.setattr(run_dir, "shipped_records", lambda kind: [shipped[kind]] if kind in shipped else [])
    beside = SimpleNamespace(model=run.model, run_dir=tmp_path / "runs" / "m")
    _, md = _render(beside, tmp_path)
    assert f"Read from {shipped['sbc'] / 'sbc.json'} (shipped with the package)." in md and shown[0] in md
    assert f"Read from {shipped['loeo'] / 'loeo.json'} (shipped with the package)." in md and shown[1] in md
    assert "Model comparison: not run" in md                      # none shipped: says what makes it
    other = SimpleNamespace(model=SimpleNamespace(id="fff000", spec={"model": {"name": "m"}}), run_dir=beside.run_dir)
    _, md = _render(other, tmp_path)
    assert "shipped with the package" not in md and "coalition model SBC: not run" in md
    for kind in ("sbc", "loeo"):                                  # the shipped records it did not use, named
        assert f"the package's own record, {shipped[kind]} (model id abc123), is of another model (this run's is fff000)." in md
    assert "Model comparison: not run (make it with `bayes-coalition compare SPEC.toml`)." in md   # nothing shipped: nothing named


def test_a_backtest_file_without_a_needed_column_is_named_not_a_crash(tmp_path, rng):
    """A hand-edited or truncated output file: the report names the file and the missing column and goes on."""
    _backtest_dir(tmp_path / "bt", rng)
    pd.read_csv(tmp_path / "bt" / "backtest.csv").drop(columns="p_party_line").to_csv(tmp_path / "bt" / "backtest.csv",
                                                                                       index=False)
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"backtest": tmp_path / "bt"})
    assert f"Backtest: {tmp_path / 'bt' / 'backtest.csv'} lacks the column p_party_line" in md
    _backtest_dir(tmp_path / "bt2", rng)
    pd.DataFrame({"case_id": ["a"], "party": ["R"], "observed_yea_share": [0.5]}).to_csv(
        tmp_path / "bt2" / "backtest_party_rows.csv", index=False)
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"backtest": tmp_path / "bt2"})
    assert f"{tmp_path / 'bt2' / 'backtest_party_rows.csv'} lacks the columns q05, q95, in_90" in md
    assert "Rolling origin by date" in md and "P(model's Brier is lower) 0.99" in md   # the rest of the part shows


def test_the_loeo_part_states_its_monte_carlo_check(tmp_path, rng):
    """With the check recorded, the part states the fits above the k-hat bar and the row-wise differences with
    their readings (the wording is tested in tests/report/test_checks.py)."""
    _compare_dir(tmp_path / "cmp")
    path = tmp_path / "cmp" / "loeo.json"
    res = json.loads(path.read_text())
    res["reliability"] = {"khat_bar": 0.7, "unreliable": [{"variant": "full", "episode": "tpa2015", "elpd_khat": 0.81,
                                                           "elpd_chains": [-20.0, -26.5]}],
                          "row_differences": {"full_minus_without_H2": {"elpd_diff": 0.5, "se": 1.0, "n_episodes": 23}}}
    path.write_text(json.dumps(res))
    _, md = _render(SimpleNamespace(model=None, run_dir=None), tmp_path, {"compare": tmp_path / "cmp"})
    assert ("Monte Carlo check: 1 of 69 fits' elpd rest on a few draws (Pareto k-hat above 0.7; worst full without "
            "tpa2015, k-hat 0.81, its chains alone -20.0, -26.5); on the row-wise elpd") in md
    assert "without H2 +0.50 (SE 1.00): not separated by the data (+0.5 SE" in md and "carries no Monte Carlo" not in md
