"""The diagnostic report: every section renders, verdicts flag bad runs, the HTML is self-contained,
the headline agrees with :func:`diagnostics.convergence`, failures are surfaced, CLI.

No real MCMC: the coalition run is PyMC's mock sampler (prior draws, fake sample_stats), the
ideal-point run is a hand-made posterior.nc with the files ``bayes-coalition ideal-points`` writes.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bayes_coalition import _arviz, diagnostics
from bayes_coalition.report import ReportSectionWarning, build, load_run, report
from bayes_coalition.report.blocks import Columns
from bayes_coalition.report.sections import ideal_points
from bayes_coalition.report.sections.convergence import convergence_tables
from tests.helpers import report_cli

from .runs import external_references, ideal_point_run

REPO = Path(__file__).resolve().parents[2]
COALITION_SECTIONS = ("run", "convergence", "ppc", "prior", "illustration", "hypotheses", "validation")
COALITION_SUBSECTIONS = ("convergence-table", "rank-top", "trace-top", "energy", "ppc-cases", "ppc-party", "ppc-whip",
                         "loo", "paper-cases", "cut-points", "approval")
IDEAL_SECTIONS = ("run", "convergence", "ideal-points", "holdout")
VERDICT = re.compile(r"Convergence: (PASS|WARN|FAIL)")


def _body(html: str) -> str:
    return html.split("</style>")[1]


# --- coalition runs ---------------------------------------------------------------------------


def test_cli_report_builds_every_section(coalition_run):
    run, rc = coalition_run
    assert rc == 0
    text = (run / "report.html").read_text(encoding="utf-8")
    for sid in COALITION_SECTIONS + COALITION_SUBSECTIONS:
        assert f'id="{sid}"' in text, sid
    for sid in COALITION_SECTIONS:
        assert f'href="#{sid}"' in text, f"table of contents lacks {sid}"
    assert "section-error" not in _body(text)  # no section failed
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
    assert "data:image" not in md  # figures are HTML-only


def test_headline_agrees_with_diagnostics_convergence(coalition_run, fitted):
    """The report's max R-hat / min ESS are the fit's (same function, same variables), to the printed digit."""
    expected = diagnostics.convergence(fitted.idata, diagnostics.free_variable_names(fitted.idata))
    html = (coalition_run[0] / "report.html").read_text(encoding="utf-8")
    shown = {label: re.search(rf"<th>{re.escape(label)}</th><td>([^<]*)</td>", html).group(1)
             for label in ("max R-hat (rank-normalised)", "min bulk ESS", "min tail ESS")}
    # the report prints 3 decimals: the shown value is the exact one rounded (half a unit = 5e-4)
    assert float(shown["max R-hat (rank-normalised)"]) == pytest.approx(expected["max_rhat"], abs=5e-4)
    assert float(shown["min bulk ESS"]) == pytest.approx(expected["min_ess_bulk"], abs=5e-4)
    assert float(shown["min tail ESS"]) == pytest.approx(expected["min_ess_tail"], abs=5e-4)
    _, diag, _, _ = convergence_tables(fitted.idata, diagnostics.free_variable_names(fitted.idata))
    for key in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi"):
        assert diag[key] == expected[key], key


def test_prior_draws_are_cached_for_the_next_report(coalition_run, fitted):
    run = coalition_run[0]
    assert (run / "prior.nc").is_file()
    prior = _arviz.from_netcdf(run / "prior.nc")
    # the cache is stamped with the id of the model it was drawn from (a stale cache is redrawn)
    assert prior.prior_predictive.sizes["draw"] == 200 and prior.attrs["model_id"] == fitted.id


def test_load_run_accepts_model_directory_and_file(fitted, coalition_run):
    assert load_run(fitted).kind == "coalition"
    r = load_run(coalition_run[0] / "posterior.nc")
    assert r.kind == "coalition" and r.model.id == fitted.id and r.stored_diag["wall_seconds"] == 12.5
    with pytest.raises(FileNotFoundError):
        load_run(coalition_run[0] / "missing")


# --- a failing section -------------------------------------------------------------------------------


def _broken(ctx):
    raise RuntimeError("boom in a section")


def test_failing_section_is_reported_not_fatal(tmp_path, monkeypatch):
    run = ideal_point_run(tmp_path / "ideal", divergent=False)
    monkeypatch.setattr(ideal_points, "ideal_points_section", _broken)
    monkeypatch.setattr(ideal_points, "run_section", _broken)  # a second one: every failure is listed
    with pytest.warns(ReportSectionWarning) as warned:
        result = report(run, tmp_path / "out")
    assert [str(w.message) for w in warned] == [f"report section failed: {e}" for e in result.errors]
    assert not result.ok and result == tmp_path / "out" / "report.html" and result.is_file()
    assert [e.split(":")[0] for e in result.errors] == ["run", "ideal-points"]
    html = result.read_text(encoding="utf-8")
    assert 'id="ideal-points"' in html and "boom in a section" in html
    assert _body(html).count('class="section-error"') == 2
    assert "section-error" not in html.split('id="convergence"')[1].split("<section")[0]  # the others still render
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "sections that failed: run: RuntimeError" in md and "## 3. Ideal points" in md


def test_cli_returns_1_and_prints_failed_sections(tmp_path, monkeypatch, capsys, recwarn):
    run = ideal_point_run(tmp_path / "ideal", divergent=False)
    monkeypatch.setattr(ideal_points, "ideal_points_section", _broken)
    assert report_cli([str(run)]) == 1
    err = capsys.readouterr().err
    assert "warning: section failed: ideal-points: RuntimeError: boom in a section" in err
    assert not [w for w in recwarn if issubclass(w.category, ReportSectionWarning)]  # printed once, not warned too


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


def test_verdict_covers_only_the_fit_variables(rng):
    """A bad derived variable shows in the table but not in the headline (the fit did not judge it)."""
    idata = _synthetic(rng, shift=3.0)
    table, diag, _, _ = convergence_tables(idata, ["y"])
    assert diagnostics.verdict(diag)[0] == "pass" and diag == {**diag, **diagnostics.convergence(idata, ["y"])}
    assert table.set_index("variable").loc["x", "role"] == "derived" and table["max_rhat"].max() > 1.01


def test_verdict_passes_a_clean_run(rng):
    _, diag, _, _ = convergence_tables(_synthetic(rng), ["x", "y"])
    assert diagnostics.verdict(diag) == ("pass", [])
    assert diagnostics.verdict({"max_rhat": 1.0, "min_ess_bulk": 150, "min_ess_tail": 500, "divergences": 0, "min_bfmi": 0.9})[0] == "warn"


# --- ideal-point runs ---------------------------------------------------------------------------------


def test_ideal_point_run_report(tmp_path, monkeypatch):
    run = ideal_point_run(tmp_path / "ideal", divergent=True)
    built = []        # the sections report() builds, checked below (building them a second time cost 2-3 s)
    real = build.build_sections

    def spy(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(build, "build_sections", spy)
    path = report(run, run)
    assert path.ok and path.errors == ()
    text = path.read_text(encoding="utf-8")
    for sid in IDEAL_SECTIONS:
        assert f'id="{sid}"' in text, sid
    assert "section-error" not in _body(text)
    assert VERDICT.search(text).group(1) == "FAIL" and "7 divergent transitions" in text
    assert "0.875" in text and "apre" in text  # held-out scores
    assert external_references(text) == []
    md = (run / "report.md").read_text(encoding="utf-8")
    assert "Convergence: FAIL" in md and "held-out" in md
    # the headline covers what IdealPointModel.fit judges: the ideal points
    (sections, _, _), = built
    kv = dict(next(b for b in sections[1].blocks if isinstance(b, Columns)).columns[0][0].pairs)
    expected = diagnostics.convergence(_arviz.from_netcdf(run / "posterior.nc"), ["ideal_point"])
    assert math.isclose(kv["max R-hat (rank-normalised)"], expected["max_rhat"])
    assert math.isclose(kv["min bulk ESS"], expected["min_ess_bulk"])


def test_cli_subcommand_errors_and_out_dir(tmp_path, capsys, ideal_cli_report):
    assert report_cli([str(tmp_path / "nope")]) == 2 and "not found" in capsys.readouterr().err
    out = ideal_cli_report.out                  # report RUN --out OUT, run once per session (conftest.py)
    assert ideal_cli_report.rc == 0
    assert (out / "report.html").is_file() and (out / "report.md").is_file()
    assert "report:" in ideal_cli_report.stdout


# --- imports and backend ------------------------------------------------------------------------------


def _python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_importing_the_report_loads_no_plotting_code():
    """ArviZ (imported by the package) loads matplotlib itself; the report's figures and sections stay unloaded."""
    done = _python("import sys, bayes_coalition.report\n"
                   "loaded = [m for m in sys.modules if m.startswith('bayes_coalition.report.')]\n"
                   "assert not [m for m in loaded if m.endswith('figures') or '.sections.' in m], loaded\n"
                   "print('ok')")
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


def test_figures_leave_the_backend_alone():
    """A user's backend survives importing and drawing the report's figures; pyplot keeps no report figure."""
    done = _python("import matplotlib\n"
                   "matplotlib.use('svg')\n"
                   "import matplotlib.pyplot as plt\n"
                   "import pandas as pd\n"
                   "from bayes_coalition.report import figures\n"
                   "h = pd.DataFrame({'hypothesis': ['H1'], 'hypothesised_sign': [1], 'mean': [0.3], 'lower': [-0.1],"
                   " 'upper': [0.7], 'p_hypothesised_sign': [0.8]})\n"
                   "fig = figures.hypotheses(h, prob=0.94)\n"
                   "assert plt.get_fignums() == [], plt.get_fignums()\n"
                   "assert figures.to_data_uri(fig).startswith('data:image/png;base64,')\n"
                   "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
                   "print('ok')", MPLBACKEND="")
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


def test_only_arviz_wrapper_imports_arviz():
    root = REPO / "bayes_coalition"
    checked = [p for p in root.rglob("*.py") if p.name != "_arviz.py"]
    assert len(checked) > 20
    for path in checked:
        src = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import arviz|from arviz)", src, re.M), path
