"""Every subcommand of ``bayes-coalition`` through the entry point ``cli.main`` (mocked sampling).

The subcommands that other test modules run through ``cli.main`` are listed in ``ELSEWHERE``;
a subcommand added to the parser without a test here or there fails
:func:`test_every_subcommand_is_exercised`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from bayes_coalition.cli.main import build_parser
from bayes_coalition.coalition.model import CoalitionModel
from bayes_coalition.coalition.spec import default_spec_path, load_spec
from bayes_coalition.errors import ConvergenceWarning
from bayes_coalition.report.checks import backtest_findings
from tests.helpers import REPO, run_cli

# subcommand -> (test, the call through cli.main that the test module makes)
ELSEWHERE = {
    "fit": ("tests/coalition/test_model.py::test_cli_fit_writes_run_directory", 'main(["fit"'),
    "prior": ("tests/coalition/test_model.py::test_cli_prior_and_errors", 'main(["prior"'),
    "predict": ("tests/prediction/test_bills.py::test_cli_predict_json_and_text", 'main(["predict"'),
    "report": ("tests/report/test_build.py::test_cli_report_builds_every_section", "report_cli("),
    "ideal-points": ("tests/ideal_points/test_cli.py::test_cli_writes_files_and_keys", 'run_cli(["ideal-points"'),
    "sweep": ("tests/prediction/test_batch.py::test_cli_sweep_writes_the_table", 'argv = ["sweep"'),
}
HERE = {"data", "sbc", "backtest", "loeo", "compare"}


def test_every_subcommand_is_exercised():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == HERE | set(ELSEWHERE)
    for where, call in ELSEWHERE.values():
        path, test = where.split("::")
        text = (REPO / path).read_text(encoding="utf-8")
        assert f"def {test}(" in text and call in text, where


def test_help_imports_no_modelling_stack():
    """`--help` must answer without PyMC (it took 7 s when the CLI imported PyMC first)."""
    code = ("import sys; from bayes_coalition.cli.main import build_parser; build_parser();"
            "bad = [m for m in ('pymc', 'pytensor', 'matplotlib', 'numba', 'pandas') if m in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


@pytest.mark.parametrize("module", ["bayes_coalition.cli.main", "bayes_coalition.cli"])
def test_python_dash_m_runs_without_runpy_warning(module):
    """``python -m bayes_coalition.cli.main`` (what the benchmarks and a checkout without the console script
    run) must not warn that the module was imported before it ran: the package ``__init__`` imported it."""
    proc = subprocess.run([sys.executable, "-W", "always", "-m", module, "--help"], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert "usage: bayes-coalition" in proc.stdout
    assert "RuntimeWarning" not in proc.stderr, proc.stderr


def test_console_script_entry_point_resolves():
    """The ``bayes-coalition`` script's target (pyproject.toml) is the CLI's ``main`` function (with the target
    ``bayes_coalition.cli:main`` and a lazy package attribute, importing the submodule ``cli.main`` replaced the
    function by the module)."""
    import tomllib
    from importlib import import_module

    import bayes_coalition.cli.main as cli_main

    target = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["bayes-coalition"]
    module, attr = target.split(":")
    assert getattr(import_module(module), attr) is cli_main.main


def test_data_summary_and_errors(capsys, tmp_path):
    assert run_cli(["data"]) == 0
    out = capsys.readouterr().out
    assert "episodes: 23" in out and "cases (votes): 50" in out
    # the coverage of the evidence and the vote data, with the figures of data/coding and data/evidence.csv
    rel = json.loads((REPO / "data" / "coding" / "reliability.json").read_text())["overall"]
    ev = pd.read_csv(REPO / "data" / "evidence.csv", dtype=str)
    assert "episodes coded: 23 of 23" in out
    assert f"formulation {(ev.stage == 'formulation').sum()}, voting {(ev.stage == 'voting').sum()}" in out
    assert f"ex post (excluded from the model by default): {(ev.ex_post == 'yes').sum()} of {len(ev)} cells" in out
    assert f"{rel['alpha_ordinal']:.3f} overall on {rel['units_both']} double-coded units" in out
    assert "votes with an R/D party split: 49 of 50 (without: ft1997_h_whip)" in out
    assert run_cli(["data", tmp_path / "nowhere"]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_sbc_ideal_points_runs_and_refuses_other_settings(mock_pymc_sample, tmp_path, capsys):
    argv = ["sbc", "--ideal-points", "--sims", "2", "--legislators", "8", "--rollcalls", "12", "--draws", "20",
            "--tune", "5", "--keep", "19", "--out", tmp_path]
    assert run_cli(argv) == 0
    summary = json.loads((tmp_path / "sbc.json").read_text())
    assert summary["n_simulations"] == 2 and summary["settings"]["n_legislators"] == 8
    out = capsys.readouterr().out
    assert f"verdict at the 1% level: {summary['verdict']} (chi-square), {summary['ecdf_verdict']} (ECDF difference)" in out
    assert "ECDF p = " in out and summary["ecdf_verdict"] in ("pass", "fail")
    assert run_cli([*argv[:-2], "--seed", "9", "--out", tmp_path]) == 2      # resuming with another seed
    assert "other settings" in capsys.readouterr().err
    assert run_cli(["sbc", "--sims", "1"]) == 2                                # no spec and not --ideal-points


def test_sbc_buying_layer_runs_and_refuses_two_layers(tmp_path, capsys):
    """``sbc --buying-layer`` (and ``--agenda-layer``): the layer's SBC (validation/buying_sbc.py; real sampling of its two-parameter model,
    a few seconds) writes its ranks and says which calibration ran; both layers at once is an error."""
    spec = REPO / "models" / "trade_coalition_buying.toml"
    argv = ["sbc", spec, "--buying-layer", "--sims", "2", "--draws", "60", "--tune", "60", "--keep", "9", "--out", tmp_path]
    assert run_cli(argv) == 0
    summary = json.loads((tmp_path / "sbc.json").read_text())
    assert summary["n_simulations"] == 2 and summary["settings"]["model"] == "buying_layer"
    assert set(pd.read_csv(tmp_path / "sbc.csv")["parameter"]) == {"buying_prob", "buying_reach"}
    assert "buying_prob" in capsys.readouterr().out
    assert run_cli(["sbc", spec, "--buying-layer", "--agenda-layer", "--sims", "1", "--out", tmp_path / "x"]) == 2
    assert "not both" in capsys.readouterr().err
    agenda = ["sbc", REPO / "models" / "trade_coalition_agenda.toml", "--agenda-layer", "--sims", "2", "--draws", "60",
              "--tune", "60", "--keep", "9", "--out", tmp_path / "agenda"]
    assert run_cli(agenda) == 0
    assert json.loads((tmp_path / "agenda" / "sbc.json").read_text())["settings"]["model"] == "agenda_layer"
    assert set(pd.read_csv(tmp_path / "agenda" / "sbc.csv")["parameter"]) == {"agenda_bar", "agenda_scale", "agenda_leak"}


def test_backtest_one_origin(mock_pymc_sample, tmp_path, capsys):
    # the mock fit draws the prior: its origin does not converge, and the backtest says so (never silenced)
    with pytest.warns(ConvergenceWarning, match="convergence fail"):
        assert run_cli(["backtest", default_spec_path(), "--origins", "2016", "--draws", "20", "--tune", "5",
                        "--sampler", "pymc", "--no-refit", "--episode-blind", "--out", tmp_path]) == 0
    scores = json.loads((tmp_path / "backtest.json").read_text())
    assert {"n_votes", "model", "party_line", "majority", "p_model_better_brier", "coverage_50", "coverage_90",
            "unconverged_fits"} <= set(scores)
    assert {"brier", "log_score"} == set(scores["model"]) == set(scores["party_line"]) == set(scores["majority"])
    # the three USMCA votes (2019-12-19, 2020-01-16 twice), the only decided votes from 2016 on, each once
    table = pd.read_csv(tmp_path / "backtest.csv")
    assert sorted(table["case_id"]) == ["usmca_h", "usmca_s", "usmca_s_waiver"] and scores["n_votes"] == 3
    # --episode-blind: the Senate's votes of 2020 forecast as of the House's of 2019 (the episode's first)
    assert scores["settings"]["same_episode"] is False and set(table["forecast_date"]) == {"2019-12-19"}
    # the record names the model it scored: the id of a run fitted from the same spec (predict and the report match it)
    assert scores["settings"]["model_id"] == CoalitionModel(spec=load_spec(default_spec_path())).id
    # party rows: USMCA House R and D, Senate R and D of both Senate votes
    rows = pd.read_csv(tmp_path / "backtest_party_rows.csv")
    assert len(rows) == scores["n_party_rows"] and set(rows["party"]) <= {"R", "D"} and len(rows) >= 4
    assert scores["coverage_90"] == pytest.approx(rows["in_90"].mean())
    assert [f["origin"] for f in scores["unconverged_fits"]] == ["2016-01-01"]
    out = capsys.readouterr().out
    assert "fitted on 47 votes (fail" in out and "model - party_line" in out and "1 unconverged: 2016-01-01" in out
    # the verdict line names what it missed, from the same rule as the report (tests/report/test_checks.py)
    verdict = next(line for line in out.splitlines() if line.startswith("verdict: "))
    missed = [c.line for c in backtest_findings(scores) if not c.ok]
    assert verdict.startswith("verdict: the model beats") if not missed else all(m in verdict for m in missed)
    # coverage to 3 decimals (0.8488 is not "0.85"); the votes lost to the party line and the rows outside 90%
    assert f"90% -> {scores['coverage_90']:.3f}" in out
    y = table["observed_passed"].astype(float)
    lost = table.loc[(table["p_pass"] - y) ** 2 > (table["p_party_line"] - y) ** 2, "case_id"]
    assert ("largest losses to the party line" in out) is (len(lost) > 0)
    assert all(f"{c}: " in out for c in lost)
    outside = rows.loc[~rows["in_90"], ["case_id", "party"]]
    assert (f"party rows outside their 90% interval ({len(outside)})" in out) is (len(outside) > 0)
    assert all(f"{c} {p} " in out for c, p in outside.itertuples(index=False))


def test_loeo_writes_the_cross_validation(tmp_path, capsys, monkeypatch):
    """The CLI layer of `loeo`: it passes its options to the API function and writes its result (the fits
    themselves are tested in tests/validation/test_loeo.py)."""
    import bayes_coalition.validation.loeo as loeo_mod

    fit = {"variant": "full", "episode": "pntr2000", "verdict": "fail", "max_rhat": 1.2, "divergences": 0, "attempts": 1,
           "seconds": 1.0}
    votes = pd.DataFrame({"case_id": ["pntr_h", "pntr_s"], "p_pass": [0.9, 0.95]})
    canned = {"elpd": {"full": -18.0, "without_H1": -19.5}, "per_episode": [],
              "differences": {"full_minus_without_H1": {"elpd_diff": 1.5, "se": float("nan"), "n_episodes": 1}},
              "votes": votes, "vote_summary": {"near_threshold": {"n_votes": 0, "margin": 10, "mean_p_pass": None},
                                               "failed_or_withdrawn": {"n_votes": 1, "mean_log_score": -0.25}},
              "converged_differences": {"max_rhat": 1.05, "differences": {"full_minus_without_H1": {
                  "elpd_diff": 0.0, "se": float("nan"), "n_episodes": 0, "dropped": ["pntr2000"]}}},
              "fits": [fit], "unconverged_fits": [fit], "settings": {"refit": False}}
    seen = {}
    monkeypatch.setattr(loeo_mod, "loeo", lambda spec, **kw: seen.update(kw) or canned)
    assert run_cli(["loeo", default_spec_path(), "--episodes", "pntr2000", "--seed", "3", "--no-refit",
                    "--out", tmp_path]) == 0
    assert seen["episodes"] == ["pntr2000"] and seen["seed"] == 3 and seen["refit"] is False and seen["chains"] == 2
    assert seen["integrated"] == 0                                  # off unless asked for
    written = json.loads((tmp_path / "loeo.json").read_text())
    assert written["elpd"] == canned["elpd"] and written["vote_summary"]["failed_or_withdrawn"]["n_votes"] == 1
    # the full model's predictions of the left-out votes: a CSV beside it, their scores printed
    assert pd.read_csv(tmp_path / "loeo_votes.csv")["case_id"].tolist() == ["pntr_h", "pntr_s"]
    out = capsys.readouterr().out
    assert "full_minus_without_H1    elpd difference +1.50" in out and "unconverged (no refits): 1" in out
    assert ("over 1 episodes (positive favours the full model): no standard error: the data do not separate the "
            "models with and without H1") in out
    assert ("full_minus_without_H1    over the 0 episodes whose fits reached R-hat <= 1.05: +0.00 (SE nan); "
            "dropped pntr2000") in out
    assert "the full model's left-out votes: mean log score -0.250 over the 1 failed or withdrawn votes" in out
    assert "mean P(pass)" not in out                               # no vote near the threshold among them
    assert "  Monte Carlo check: this record carries no Monte Carlo check" in out     # canned without it
    canned["votes"] = votes                                        # the first run popped it
    canned["reliability"] = {"khat_bar": 0.7, "unreliable": [],
                             "row_differences": {"full_minus_without_H1": {"elpd_diff": 3.0, "se": 1.0, "n_episodes": 1}}}
    assert run_cli(["loeo", default_spec_path(), "--out", tmp_path, "--integrated", "300"]) == 0
    assert seen["integrated"] == 300
    out = capsys.readouterr().out
    assert "  Monte Carlo check: every fit's elpd has Pareto k-hat at most 0.7" in out
    assert "the model without H1 +3.00 (SE 1.00): favours the model with H1 (+3.0 SE)" in out


def test_loeo_votes_writes_the_predictions(tmp_path, capsys, monkeypatch):
    """`loeo --votes`: the per-vote table as CSV, the summary as JSON, the two scores printed."""
    import bayes_coalition.validation.loeo as loeo_mod

    votes = pd.DataFrame({"case_id": ["cafta_h"], "p_pass": [0.7]})
    canned = {"votes": votes, "summary": {"near_threshold": {"n_votes": 14, "margin": 10, "mean_p_pass": 0.781},
                                         "failed_or_withdrawn": {"n_votes": 7, "mean_log_score": -0.412}},
              "fits": [], "unconverged_fits": [], "settings": {}}
    seen = {}
    monkeypatch.setattr(loeo_mod, "loeo_votes", lambda spec, **kw: seen.update(kw) or canned)
    assert run_cli(["loeo", default_spec_path(), "--votes", "--episodes", "cafta2005", "--out", tmp_path]) == 0
    assert seen["episodes"] == ["cafta2005"]
    assert pd.read_csv(tmp_path / "loeo_votes.csv")["case_id"].tolist() == ["cafta_h"]
    assert json.loads((tmp_path / "loeo_votes.json").read_text())["summary"]["near_threshold"]["n_votes"] == 14
    out = capsys.readouterr().out
    assert "mean P(pass) 0.781 over the 14 votes within 10 yeas of their threshold" in out
    assert "mean log score -0.412 over the 7 failed or withdrawn votes" in out


def test_compare_writes_the_comparison(mock_pymc_sample, tmp_path, capsys, monkeypatch):
    """The CLI layer of `compare`: it calls the API function and writes its result (the five fits
    of `compare_hypotheses` are tested in tests/validation/test_compare.py)."""
    import bayes_coalition.validation.compare as compare

    canned = {"loo": {"full": {"elpd": -1.0, "se": 0.5, "p_loo": 2.0, "pareto_k_above_0.7": 0, "n": 3}},
              "comparison": [{"model": "full", "elpd_diff": 0.0, "dse": 0.0}],
              "p_hypothesised_sign": {"full": {"willingness": 0.6}},
              "diagnostics": {"full": {"max_rhat": 1.0, "min_ess_bulk": 500.0, "min_ess_tail": 500.0,
                                       "divergences": 0, "min_bfmi": 0.9, "wall_seconds": 1.0}}}
    seen = {}
    monkeypatch.setattr(compare, "compare_hypotheses", lambda spec, **kw: seen.update(kw) or canned)
    assert run_cli(["compare", default_spec_path(), "--seed", "4", "--out", tmp_path]) == 0
    assert seen["seed"] == 4
    assert json.loads((tmp_path / "hypotheses_comparison.json").read_text()) == canned
    out = capsys.readouterr().out
    assert "willingness 0.60" in out and "elpd_diff    0.00" in out          # reliable (0 of 3): the comparison prints
    canned["loo"]["full"]["pareto_k_above_0.7"] = 1                           # 1 of 3 > 10%: it does not
    assert run_cli(["compare", default_spec_path(), "--out", tmp_path]) == 0
    out = capsys.readouterr().out
    assert "PSIS-LOO: full unreliable: 1 of 3 rows have k > 0.7" in out and "elpd_diff" not in out
    assert "with `bayes-coalition loeo`" in out


def test_every_option_has_help_and_a_version(capsys):
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {a.option_strings or a.dest}" for name, sp in sub.choices.items() for a in sp._actions
               if a.dest != "help" and not a.help]
    assert not missing
    assert all(sp.formatter_class is argparse.ArgumentDefaultsHelpFormatter for sp in sub.choices.values())
    with pytest.raises(SystemExit) as done:
        run_cli(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("bayes-coalition ")
