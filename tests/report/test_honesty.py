"""The report never overstates what a fit shows: LOO and coverage verdicts beside their numbers, a
randomised PIT for counts, in-sample scores labelled, an unconverged fit's sections marked provisional,
effects and positions the data do not identify marked, and the ideal-point report free of bookkeeping
variables, with names and figures of a sane height.

Reuses the session's mock-sampled coalition run (prior draws: it neither converges nor moves from the
prior, so every warning has to show) and the hand-made ideal-point run of :mod:`.runs`.
"""

from __future__ import annotations

import re
from html import escape

import numpy as np
import pandas as pd

from bayes_coalition import _arviz, diagnostics
from bayes_coalition.constants import PREDICTIVE_PROB
from bayes_coalition.report import figures, load_run
from bayes_coalition.report.build import build_sections
from bayes_coalition.report.checks import IN_SAMPLE, coverage_verdict, loo_reliability, provisional_note
from bayes_coalition.report.render import html_blocks
from bayes_coalition.report.sections.coalition import actor_labels, hypotheses_table
from bayes_coalition.report.sections.convergence import convergence_tables

from .runs import ideal_point_run


def _section(run_dir, anchor: str) -> str:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    return html.split(f'<section id="{anchor}">')[1].split("</section>")[0]


def _fit_diag(fitted) -> dict:
    diag = diagnostics.convergence(fitted.idata, diagnostics.free_variable_names(fitted.idata))
    stats = diagnostics.sampler_stats(fitted.idata)
    stats.pop("per_chain")
    return diag | stats


# --- posterior predictive checks and LOO ----------------------------------------------------------------


def test_loo_verdict_stands_beside_the_elpd(coalition_run, fitted):
    ppc = _section(coalition_run[0], "ppc")
    expected = loo_reliability(_arviz.loo(fitted.idata, "yea")["pareto_k"])
    assert f"<strong>PSIS-LOO: {escape(expected.line)}.</strong>" in ppc
    if expected.ok:
        # the key-value table: the verdict is the row right after the ELPD
        assert re.search(r"<th>ELPD \(LOO\)</th><td>[^<]*</td></tr><tr><th>PSIS-LOO reliability</th><td>"
                         + re.escape(escape(expected.line)) + "</td>", ppc)
    else:
        # an unreliable PSIS-LOO shows no ELPD at all (issue 13: not shown when k > 0.7 on more than 10% of rows)
        assert "ELPD (LOO)" not in ppc and "p_loo" not in ppc.split('id="loo"')[1].split("No ELPD")[0]
        assert "No ELPD, SE or p_loo is shown" in ppc and "leave-one-episode-out" in ppc


def _loo_idata(loglik: np.ndarray):
    return _arviz.from_dict(posterior={"x": np.zeros(loglik.shape[:2])}, log_likelihood={"yea": loglik},
                            coords={"obs": [f"row{i}" for i in range(loglik.shape[2])]}, dims={"yea": ["obs"]})


def _loo_html(loglik: np.ndarray) -> str:
    from bayes_coalition.report.sections.coalition import _loo_blocks

    return html_blocks(_loo_blocks(_loo_idata(loglik)))


def test_an_elpd_is_shown_only_when_psis_loo_is_reliable():
    """Well-behaved pointwise log-likelihoods (small spread): Pareto k low, the ELPD shown beside the verdict.
    One row with a heavy right tail in its log-likelihood: k > 1 there, so no ELPD, SE or p_loo at all."""
    rng = np.random.default_rng(3)
    good = rng.normal(-1.0, 0.05, size=(2, 500, 12))
    expected = loo_reliability(_arviz.loo(_loo_idata(good), "yea")["pareto_k"])
    assert expected.ok
    html = _loo_html(good)
    assert "<th>ELPD (LOO)</th>" in html and "<th>p_loo</th>" in html and "No ELPD" not in html
    bad = good.copy()
    bad[:, :, 0] = -1.0 + 3.0 * rng.standard_cauchy(size=(2, 500)).clip(-50, 50)
    assert not loo_reliability(_arviz.loo(_loo_idata(bad), "yea")["pareto_k"]).ok
    html = _loo_html(bad)
    assert "ELPD (LOO)" not in html and "<th>p_loo</th>" not in html and "No ELPD, SE or p_loo is shown" in html
    assert "neither the ELPD nor any comparison built on it is shown" in html


def test_coverage_verdict_on_the_point_rows(coalition_run, fitted):
    ppc = _section(coalition_run[0], "ppc")
    pc = fitted.predictive_check(prob=PREDICTIVE_PROB)
    point = pc[pc["kind"] == "point"]
    expected = coverage_verdict(int(point["consistent"].sum()), len(point), PREDICTIVE_PROB)
    assert f"<strong>{escape(expected.line)}.</strong>" in ppc
    assert ppc.index(escape(expected.line)) < ppc.index('id="ppc-cases"')     # at the top, before the figures
    assert IN_SAMPLE in ppc


def test_counts_get_a_randomised_pit_not_the_plain_loo_pit(coalition_run):
    ppc = _section(coalition_run[0], "ppc")
    assert 'id="pit"' in ppc and 'alt="randomised PIT"' in ppc
    assert 'alt="LOO-PIT"' not in ppc and "mild departures" not in ppc
    assert re.search(r"<strong>randomised PIT (inside|leaves) the 95% simultaneous band", ppc)
    assert "u ~ Uniform(F(y - 1), F(y))" in ppc


# --- in-sample scores and a fit that did not converge ------------------------------------------------------


def test_in_sample_brier_is_labelled(coalition_run):
    hyp = _section(coalition_run[0], "hypotheses")
    assert re.search(r"Brier score of P\(motion carries\) over \d+ decided votes \(" + re.escape(IN_SAMPLE) + r"\)", hyp)


def test_sections_of_an_unconverged_fit_say_so(coalition_run, fitted):
    line = provisional_note(_fit_diag(fitted))
    assert line is not None and line.startswith("This fit")     # the mock fit does not pass
    note = f'<p class="note">{escape(line)}</p>'
    for anchor in ("ppc", "illustration", "hypotheses"):
        assert note in _section(coalition_run[0], anchor), anchor
    hyp = _section(coalition_run[0], "hypotheses")
    assert hyp.count(note) == 2
    first, second = hyp.index(note), hyp.rindex(note)
    assert first < hyp.index("<th>P(hypothesised sign)</th>")                        # above the hypotheses table
    assert hyp.index('id="approval"') < second < hyp.index("<th>observed_outcome</th>")  # above the approval table


def test_a_converged_ideal_point_fit_has_no_provisional_line_and_a_divergent_one_has(tmp_path):
    def ideal_section(divergent: bool) -> str:
        run = ideal_point_run(tmp_path / f"ideal_{divergent}", divergent=divergent, draws=1000)
        sections, errors, _ = build_sections(load_run(run), tmp_path)
        assert not errors
        return html_blocks(next(s for s in sections if s.anchor == "ideal-points").blocks)

    assert "provisional" not in ideal_section(False)
    assert ("This fit did not converge (7 divergent transitions): treat these numbers as provisional."
            in ideal_section(True))


# --- what the data do not identify ---------------------------------------------------------------------------


def test_hypotheses_table_puts_contraction_beside_p_sign():
    h = pd.DataFrame({"hypothesis": ["H1", "H2", "F"], "hypothesised_sign": [1, -1, 1], "mean": [0.3, -0.1, 0.0],
                      "sd": [0.1, 0.47, 0.0], "lower": [0.1, -0.9, 0.0], "upper": [0.5, 0.8, 0.0],
                      "p_hypothesised_sign": [0.99, 0.58, np.nan], "prior_sd": [0.5, 0.5, 0.0],
                      "contraction": [0.96, 0.12, np.nan], "identified_by_data": [True, False, False],
                      "bayes_factor_10": [12.5, 0.9, np.nan]})
    shown, flags = hypotheses_table(h)
    assert list(shown.columns[-3:]) == ["BF10 (Savage-Dickey)", "contraction", "P(hypothesised sign)"]
    assert shown["BF10 (Savage-Dickey)"].tolist()[:2] == [12.5, 0.9]
    assert flags["BF10 (Savage-Dickey)"].tolist() == [False, True, True]    # flagged with an unidentified effect
    assert shown["P(hypothesised sign)"].tolist() == ["0.99", "not identified by the data (contraction 0.12)",
                                                      "not estimated (fixed at zero in this spec)"]
    assert flags["P(hypothesised sign)"].tolist() == [False, True, True]
    texts = [t.get_text() for t in figures.hypotheses(h, prob=0.94).axes[0].texts]
    # the figure words an effect fixed at zero as the table does (it said "not identified by the data" before)
    assert texts == ["P(sign +) = 0.99, contraction 0.96", "not identified by the data (contraction 0.12)",
                     "not estimated (fixed at zero in this spec)"]


def test_the_mock_fit_identifies_nothing_and_the_report_says_so(coalition_run, fitted):
    hyp = _section(coalition_run[0], "hypotheses")
    h = fitted.hypotheses()
    assert not h["identified_by_data"].any()         # prior draws: the posterior is the prior
    assert hyp.count("not identified by the data (contraction ") == len(h)
    ill = _section(coalition_run[0], "illustration")
    ip = fitted.ideal_points()
    n = int((~ip["identified_by_data"]).sum())
    assert f"<strong>{n} of {len(ip)} actors are not identified by the data</strong>" in ill
    assert "[prior only]" in ill


def test_actor_labels_mark_prior_only_actors():
    ip = pd.DataFrame({"name": ["AFL-CIO", "A very long name of an executive agency of the US"],
                       "identified_by_data": [True, False]})
    assert actor_labels(ip).tolist() == ["AFL-CIO", "A very long name of an execut\u2026 [prior only]"]


# --- the ideal-point report ----------------------------------------------------------------------------------


def test_bookkeeping_variables_stay_out_of_the_convergence_tables(ideal_cli_report):
    run = ideal_cli_report.run                  # ideal_point_run(divergent=False), reported once (conftest.py)
    idata = _arviz.from_netcdf(run / "posterior.nc")
    assert float(_arviz.rhat(idata, ["orientation_sign"])["orientation_sign"]) > 2    # meaningless, and huge
    table, diag, _, _ = convergence_tables(idata, ["ideal_point"], "reference")
    assert "orientation_sign" not in set(table["variable"])
    assert diag["max_rhat"] == diagnostics.convergence(idata, ["ideal_point"])["max_rhat"]   # what the CLI prints
    conv = html_blocks(next(s for s in ideal_cli_report.sections if s.anchor == "convergence").blocks)
    assert "<td>orientation_sign</td>" not in conv and "Bookkeeping variables not tabulated: orientation_sign" in conv


def test_legislators_are_labelled_by_name():
    ip = pd.DataFrame({"legislator_id": ["1", "2", "3", "4"], "name": ["SMITH", "JONES", "SMITH", None],
                       "party": ["R", "D", "D", "R"], "mean": [0.1, 0.2, 0.3, 0.4], "lower": 0.0, "upper": 1.0})
    assert figures.legislator_labels(ip).tolist() == ["SMITH (1)", "JONES", "SMITH (3)", "4"]
    assert figures.legislator_labels(ip.drop(columns="name")).tolist() == ["1", "2", "3", "4"]
    fig = figures.ideal_points_by_party(ip)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["SMITH (1)", "JONES", "SMITH (3)", "4"]


def test_figures_of_many_legislators_stay_under_the_height_cap():
    rng = np.random.default_rng(0)
    n = 440
    mean = rng.normal(size=n)
    ip = pd.DataFrame({"legislator_id": [str(i) for i in range(n)], "party": rng.choice(["R", "D"], n), "mean": mean,
                       "lower": mean - 0.3, "upper": mean + 0.3})
    fig = figures.ideal_points_by_party(ip)
    assert fig.get_figheight() <= figures.MAX_HEIGHT == 12.0
    cases = pd.DataFrame({"case_id": [f"c{i}" for i in range(n)], "chamber": "House", "p_pass": rng.uniform(size=n),
                          "observed_passed": True})
    assert figures.approval(cases).get_figheight() <= figures.MAX_HEIGHT
