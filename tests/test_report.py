"""The diagnostic report: every section renders, verdicts flag bad runs, the HTML is self-contained, CLI.

No real MCMC: the coalition run is PyMC's mock sampler (prior draws, fake sample_stats), the
ideal-point run is a hand-made posterior.nc with the files ``bayes-coalition ideal-points`` writes.
"""

from __future__ import annotations

import argparse
import json
import re
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from pymc.testing import mock_sample

from bayes_coalition import CoalitionModel, _arviz, diagnostics
from bayes_coalition.cli import report as cli_report
from bayes_coalition.report.build import convergence_tables, load_run, report

from .conftest import _stats

COALITION_SECTIONS = ("run", "convergence", "ppc", "prior", "illustration", "hypotheses")
COALITION_SUBSECTIONS = ("convergence-table", "rank-top", "trace-top", "energy", "ppc-cases", "ppc-party", "ppc-whip",
                         "loo", "paper-cases", "cut-points", "approval")
IDEAL_SECTIONS = ("run", "convergence", "ideal-points", "holdout")
VERDICT = re.compile(r"Convergence: (PASS|WARN|FAIL)")


def external_references(text: str) -> list[str]:
    """Anything in the HTML that would make a browser reach outside the file."""
    bad = []
    for needle in ("http://", "https://", "<script", "<link", "@import", "<iframe", "src=\"//", "ftp://"):
        if needle in text.lower():
            bad.append(needle)
    for m in re.finditer(r"url\(\s*['\"]?([^'\")]*)", text):
        if not m.group(1).startswith("data:"):
            bad.append(m.group(0))
    for m in re.finditer(r"(?:src|href)=\"([^\"]*)\"", text):
        if not (m.group(1).startswith("data:") or m.group(1).startswith("#")):
            bad.append(m.group(0))
    return bad


@pytest.fixture(scope="module")
def fitted():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=_stats()))
        model = CoalitionModel()
        with pytest.warns(Warning):  # prior draws do not converge
            model.fit(random_seed=11, draws=60, chains=2, progressbar=False)
    return model


@pytest.fixture(scope="module")
def coalition_run(fitted, tmp_path_factory):
    """A saved run directory, its report built through the CLI subcommand."""
    run = tmp_path_factory.mktemp("coalition_run")
    fitted.save(run / "posterior.nc")
    (run / "diagnostics.json").write_text(json.dumps({**fitted.diagnostics, "wall_seconds": 12.5,
                                                      "sampling_seconds": fitted.diagnostics["wall_seconds"]}))
    parser = argparse.ArgumentParser(prog="bayes-coalition")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_report.add_parser(sub)
    args = parser.parse_args(["report", str(run)])
    rc = args.func(args)
    return run, rc


def _ideal_point_run(path: Path, *, divergent: bool) -> Path:
    rng = np.random.default_rng(3)
    n_leg, n_rc, chains, draws = 12, 20, 2, 150
    legs = [f"L{i:02d}" for i in range(n_leg)]
    party = np.array(["R"] * 6 + ["D"] * 5 + ["I"])
    truth = np.where(party == "R", 1.0, -1.0) + rng.normal(0, 0.3, n_leg)
    ideal = truth + rng.normal(0, 0.2, (chains, draws, n_leg))
    div = np.zeros((chains, draws), dtype=bool)
    if divergent:
        div[0, :7] = True
    idata = _arviz.from_dict(
        posterior={"ideal_point": ideal, "discrimination": rng.normal(1, 0.1, (chains, draws, n_rc)),
                   "difficulty": rng.normal(0, 0.1, (chains, draws, n_rc)),
                   "party_location": rng.normal([1, -1, 0], 0.1, (chains, draws, 3))},
        sample_stats={"diverging": div, "energy": rng.normal(size=(chains, draws)), "tree_depth": np.full((chains, draws), 3)},
        coords={"legislator": legs, "rollcall": [f"rc{j}" for j in range(n_rc)], "party": ["D", "I", "R"]},
        dims={"ideal_point": ["legislator"], "discrimination": ["rollcall"], "difficulty": ["rollcall"], "party_location": ["party"]},
    )
    idata.attrs["model_type"] = "bayes_coalition.IdealPointModel"
    idata.attrs["options"] = json.dumps({"link": "probit", "positive_party": "R"})
    idata.attrs["source"] = "synthetic roll calls"
    path.mkdir(parents=True, exist_ok=True)
    _arviz.to_netcdf(idata, path / "posterior.nc")
    mean = ideal.mean(axis=(0, 1))
    pd.DataFrame({"legislator_id": legs, "party": party, "mean": mean, "sd": ideal.std(axis=(0, 1)),
                  "lower": mean - 0.4, "upper": mean + 0.4}).to_csv(path / "ideal_points.csv", index=False)
    (path / "diagnostics.json").write_text(json.dumps({"n_legislators": n_leg, "n_rollcalls": n_rc, "sampler": "pymc",
                                                       "chains": chains, "draws": draws, "wall_seconds": 3.2}))
    (path / "holdout.json").write_text(json.dumps({"n_cells": 24, "accuracy": 0.875, "brier": 0.09, "log_score": -0.31,
                                                   "apre": 0.52}))
    return path


# --- coalition runs ---------------------------------------------------------------------------


def test_cli_report_builds_every_section(coalition_run):
    run, rc = coalition_run
    assert rc == 0
    text = (run / "report.html").read_text(encoding="utf-8")
    for sid in COALITION_SECTIONS + COALITION_SUBSECTIONS:
        assert f'id="{sid}"' in text, sid
    for sid in COALITION_SECTIONS:
        assert f'href="#{sid}"' in text, f"table of contents lacks {sid}"
    assert "section-error" not in text.split("<style>")[1].split("</style>")[1]  # no section failed
    assert text.count("data:image/png;base64,") >= 12
    for phrase in ("ft1997_h_whip", "pntr_h", "pntr_s", "P(MWC)", "ELPD", "Pareto k", "H2: a converging deadlock"):
        assert phrase in text, phrase


def test_html_has_no_external_references(coalition_run):
    text = (coalition_run[0] / "report.html").read_text(encoding="utf-8")
    assert external_references(text) == []
    assert "<style>" in text and text.count("<img ") == text.count('<img src="data:image/png;base64,')


def test_markdown_summary_has_the_verdict(coalition_run, fitted):
    run = coalition_run[0]
    md = (run / "report.md").read_text(encoding="utf-8")
    html_verdict = VERDICT.search((run / "report.html").read_text(encoding="utf-8")).group(1)
    assert VERDICT.search(md).group(1) == html_verdict
    # the mock posterior (60 prior draws per chain) cannot reach ESS 400: never a pass
    assert html_verdict in ("WARN", "FAIL")
    expected, _ = diagnostics.verdict(diagnostics.convergence(fitted.idata, diagnostics.free_variable_names(fitted.idata)))
    assert html_verdict == expected.upper()
    for heading in ("## 1. Run", "## 2. Convergence", "## 3. Posterior", "## 4. Prior", "## 5. Illustration", "## 6. Hypotheses"):
        assert heading in md, heading
    assert "| variable |" in md and "pntr_h" in md


def test_prior_draws_are_cached_for_the_next_report(coalition_run):
    run = coalition_run[0]
    assert (run / "prior.nc").is_file()
    prior = _arviz.from_netcdf(run / "prior.nc")
    assert prior.prior_predictive.sizes["draw"] == 200 and prior.attrs["model_id"] == json.loads(
        json.dumps(prior.attrs["model_id"]))


def test_load_run_accepts_model_directory_and_file(fitted, coalition_run):
    assert load_run(fitted).kind == "coalition"
    r = load_run(coalition_run[0] / "posterior.nc")
    assert r.kind == "coalition" and r.model.id == fitted.id and r.stored_diag["wall_seconds"] == 12.5
    with pytest.raises(FileNotFoundError):
        load_run(coalition_run[0] / "missing")


# --- verdicts -------------------------------------------------------------------------------------


def _synthetic(rng, *, shift=0.0, divergences=0):
    chains, draws = 4, 500
    x = rng.normal(size=(chains, draws))
    x[0] += shift
    div = np.zeros((chains, draws), dtype=bool)
    div[1, :divergences] = True
    return _arviz.from_dict(posterior={"x": x, "y": rng.normal(size=(chains, draws, 3))},
                            sample_stats={"diverging": div, "energy": rng.normal(size=(chains, draws)),
                                          "tree_depth": np.full((chains, draws), 3)})


def test_verdict_flags_divergences(rng):
    table, diag, _, per_chain = convergence_tables(_synthetic(rng, divergences=5), ["x", "y"])
    assert diag["divergences"] == 5 and per_chain["divergences"].tolist() == [0, 5, 0, 0]
    status, reasons = diagnostics.verdict(diag)
    assert status == "fail" and any("divergent" in r for r in reasons)
    assert set(table["variable"]) == {"x", "y"} and (table["size"] == [1, 3]).all()


def test_verdict_flags_high_rhat(rng):
    _, diag, worst, _ = convergence_tables(_synthetic(rng, shift=3.0), ["x", "y"])
    status, reasons = diagnostics.verdict(diag)
    assert status == "fail" and any("R-hat" in r for r in reasons)
    assert worst[0][1] == "x" and worst[0][0] > 1.01  # the shifted chain's variable is the worst element


def test_verdict_passes_a_clean_run(rng):
    _, diag, _, _ = convergence_tables(_synthetic(rng), ["x", "y"])
    assert diagnostics.verdict(diag) == ("pass", [])
    assert diagnostics.verdict({"max_rhat": 1.0, "min_ess_bulk": 150, "min_ess_tail": 500, "divergences": 0, "min_bfmi": 0.9})[0] == "warn"


# --- ideal-point runs ---------------------------------------------------------------------------------


def test_ideal_point_run_report(tmp_path):
    run = _ideal_point_run(tmp_path / "ideal", divergent=True)
    path = report(run, run)
    text = path.read_text(encoding="utf-8")
    for sid in IDEAL_SECTIONS:
        assert f'id="{sid}"' in text, sid
    assert "section-error" not in text.split("</style>")[1]
    assert VERDICT.search(text).group(1) == "FAIL" and "7 divergent transitions" in text
    assert "0.875" in text and "apre" in text  # held-out scores
    assert external_references(text) == []
    md = (run / "report.md").read_text(encoding="utf-8")
    assert "Convergence: FAIL" in md and "held-out" in md


def test_cli_subcommand_errors_and_out_dir(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="bayes-coalition")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_report.add_parser(sub)
    args = parser.parse_args(["report", str(tmp_path / "nope")])
    assert args.func(args) == 2 and "not found" in capsys.readouterr().err
    run = _ideal_point_run(tmp_path / "ideal", divergent=False)
    args = parser.parse_args(["report", str(run), "--out", str(tmp_path / "out")])
    assert args.func(args) == 0
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "report.md").is_file()
    assert "report:" in capsys.readouterr().out


def test_only_arviz_wrapper_imports_arviz():
    root = Path(__file__).resolve().parents[1] / "bayes_coalition"
    checked = [p for p in root.rglob("*.py") if p.name != "_arviz.py"]
    assert len(checked) > 20
    for path in checked:
        src = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import arviz|from arviz)", src, re.M), path
