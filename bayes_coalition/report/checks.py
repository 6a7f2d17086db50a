"""The report's honesty rules: every reliability verdict the report prints is one small function here.

Each rule is defined once and tested at its boundaries (``tests/report/test_checks.py``):

- :func:`loo_reliability`: whether PSIS-LOO can be trusted, from the share of rows with Pareto k > 0.7;
- :func:`coverage_verdict`: observed coverage of predictive intervals against the nominal
  probability, with an exact (Clopper-Pearson) binomial interval: too narrow, too wide or consistent;
- :func:`randomised_pit` and :func:`pit_verdict`: the randomised PIT of discrete counts (the plain
  PIT of counts piles up at 0 and 1 even for a calibrated model) and whether its ECDF stays inside
  a simultaneous band;
- :func:`provisional_note`: the one-line warning a section of an unconverged fit carries;
- :func:`identification_text`: P(hypothesised sign) or "not identified by the data (contraction c)";
- :func:`backtest_findings` and :func:`backtest_verdict`: whether the backtest beats the party-line baseline,
  part by part of the bar and in one line (:func:`out_of_sample_record`: the same for ``predict``);
- :func:`elpd_difference_reading`: what an out-of-sample elpd difference says of a hypothesis' term (which
  model it favours, or that the data do not separate them);
- :func:`loeo_reliability_phrases`: how far a leave-one-episode-out record's elpd can be trusted as a Monte Carlo
  estimate (fits above the k-hat bar, and the differences on the row-wise elpd).

No plotting here: sections call these and turn the results into blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bayes_coalition import diagnostics
from bayes_coalition.constants import CONTRACTION_IDENTIFIED

K_BAD = 0.7                  # Pareto k above which a row's PSIS estimate is unreliable
K_VERY_BAD = 1.0             # above which the importance ratios have no finite mean
LOO_MAX_BAD_SHARE = 0.10     # at most this share of rows may have k > K_BAD
LOO_UNTRUSTED = " \u2014 PSIS-LOO cannot be trusted for this model"   # the end of an unreliable verdict's line
LOO_RULE = f"at most {LOO_MAX_BAD_SHARE:.0%} of rows with Pareto k > {K_BAD} and none above {K_VERY_BAD:g}"
COVERAGE_LEVEL = 0.95        # confidence of the binomial interval of an observed coverage
PIT_BAND_PROB = 0.95         # simultaneous band of the randomised PIT's ECDF
# What "the model predicts better than the party line" must show in the backtest (issue 13's bar): both
# scores better, the paired bootstrap's P(model's Brier is lower) at least P_BETTER_BAR, and the party rows'
# 90% intervals holding a share in COVERAGE_90_RANGE (too few: too narrow; too many: too wide).
P_BETTER_BAR = 0.9
COVERAGE_90_RANGE = (0.85, 0.95)
# An elpd difference favours one model only when it is at least this many standard errors from zero (the usual
# reading of a cross-validated difference: within two SE the data do not separate the models).
ELPD_SE_MULTIPLE = 2.0

IN_SAMPLE = "in sample: the votes were used to fit the model; see the backtest for out-of-sample scores"


@dataclass(frozen=True)
class Check:
    """A verdict: ``status`` (a short word), ``ok`` and the line the report prints."""

    status: str
    ok: bool
    line: str


def loo_reliability(pareto_k) -> Check:
    """PSIS-LOO is "reliable" when at most 10% of the rows have Pareto k > 0.7 and none has k > 1.

    Rows without a finite k (a constant log-likelihood) count in the total but not as bad rows.
    """
    k = np.asarray(pareto_k, dtype=float).ravel()
    return loo_reliability_counts(int(np.sum(k > K_BAD)), int(k.size), int(np.sum(k > K_VERY_BAD)))


def loo_reliability_counts(bad: int, n: int, very: int | None = None) -> Check:
    """:func:`loo_reliability` from counts (``compare`` stores them): ``bad`` rows of ``n`` with k > 0.7, ``very``
    of them above 1 (None: not recorded, so only the 10% share decides)."""
    if n and bad <= LOO_MAX_BAD_SHARE * n + 1e-9 and not very:
        above = "" if very is None else f", none above {K_VERY_BAD:g}"
        return Check("reliable", True, f"reliable: {bad} of {n} rows have Pareto k > {K_BAD}{above}")
    extra = f" ({very} above {K_VERY_BAD:g})" if very else ""
    return Check("unreliable", False, f"unreliable: {bad} of {n} rows have k > {K_BAD}{extra}{LOO_UNTRUSTED}")


def binomial_interval(successes: int, n: int, level: float = COVERAGE_LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) ``level`` interval of a binomial proportion."""
    from scipy import stats

    a = (1 - level) / 2
    lo = 0.0 if successes <= 0 else float(stats.beta.ppf(a, successes, n - successes + 1))
    hi = 1.0 if successes >= n else float(stats.beta.ppf(1 - a, successes + 1, n - successes))
    return lo, hi


def coverage_verdict(inside: int, n: int, nominal: float, *, level: float = COVERAGE_LEVEL) -> Check:
    """Observed coverage ``inside / n`` of ``nominal`` predictive intervals against the nominal probability.

    "too narrow" when the nominal probability lies above the exact ``level`` binomial interval of
    the observed coverage, "too wide" when below it (predictions over-dispersed), else "consistent".
    """
    if n <= 0:
        return Check("none", False, "Coverage: no rows to check")
    lo, hi = binomial_interval(inside, n, level)
    head = (f"Coverage: {inside} of {n} rows ({inside / n:.0%}) inside their {nominal:.0%} predictive intervals "
            f"({level:.0%} binomial interval [{lo:.3f}, {hi:.3f}])")
    if nominal > hi:
        return Check("too narrow", False, f"{head}: intervals too narrow (coverage below the nominal {nominal:.0%})")
    if nominal < lo:
        return Check("too wide", False, f"{head}: intervals too wide (over-dispersed predictions; coverage above the "
                                        f"nominal {nominal:.0%})")
    return Check("consistent", True, f"{head}: consistent with the nominal {nominal:.0%}")


def randomised_pit(observed, draws, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT of discrete counts: per row u ~ Uniform(F(y - 1), F(y)), F the row's predictive ECDF.

    ``observed`` has shape (rows,), ``draws`` (samples, rows) of integer counts; under a calibrated
    model the values are uniform on (0, 1).
    """
    y = np.asarray(observed, dtype=float)
    d = np.asarray(draws, dtype=float)
    below = np.mean(d < y[None, :], axis=0)
    at_or_below = np.mean(d <= y[None, :], axis=0)
    return rng.uniform(below, at_or_below)


def pit_band(n: int, *, prob: float = PIT_BAND_PROB, grid: int = 99, n_rep: int = 2000, seed: int = 0):
    """Grid and half-width of the simultaneous ``prob`` band of ECDF - uniform for ``n`` uniform values."""
    rng = np.random.default_rng(seed)
    z = np.linspace(0, 1, grid + 2)[1:-1]
    sims = np.sort(rng.uniform(size=(n_rep, n)), axis=1)
    ecdf = np.stack([np.searchsorted(s, z, side="right") for s in sims]) / n
    half = float(np.quantile(np.max(np.abs(ecdf - z[None, :]), axis=1), prob))
    return z, half


def pit_verdict(pit, *, prob: float = PIT_BAND_PROB) -> tuple[Check, np.ndarray, np.ndarray, float]:
    """Whether the ECDF of PIT values stays inside the simultaneous band: (check, grid, ECDF - uniform, half-width)."""
    u = np.sort(np.asarray(pit, dtype=float).ravel())
    z, half = pit_band(len(u), prob=prob)
    diff = np.searchsorted(u, z, side="right") / max(len(u), 1) - z
    worst = float(np.max(np.abs(diff))) if len(u) else float("nan")
    if len(u) and worst <= half:
        return Check("calibrated", True, f"randomised PIT inside the {prob:.0%} simultaneous band (max |ECDF - uniform| "
                                         f"{worst:.3f} <= {half:.3f})"), z, diff, half
    mid = float(np.mean((u > 0.25) & (u < 0.75))) if len(u) else float("nan")
    shape = (" (too many values in the middle: predictions over-dispersed)" if mid > 0.5 else
             " (too many values in the tails: predictions under-dispersed)" if mid < 0.5 else "")
    return Check("miscalibrated", False, f"randomised PIT leaves the {prob:.0%} simultaneous band (max |ECDF - uniform| "
                                         f"{worst:.3f} > {half:.3f}){shape}"), z, diff, half


def provisional_note(diag: dict | None) -> str | None:
    """The one line a section of a fit that did not pass its convergence check carries (None for a pass)."""
    if not diag:
        return None
    status, reasons = diagnostics.verdict(diag)
    if status == "pass":
        return None
    head = "This fit did not converge" if status == "fail" else "This fit's convergence check warned"
    return f"{head} ({'; '.join(reasons)}): treat these numbers as provisional."


def identification_text(value: float, contraction: float, *, digits: int = 2) -> str:
    """``value`` formatted, or "not identified by the data (contraction c)" when the posterior barely moved
    from the prior (contraction below :data:`~bayes_coalition.constants.CONTRACTION_IDENTIFIED`)."""
    c = float(contraction)
    if math.isnan(c):
        return "not estimated (fixed at zero in this spec)"
    if c < CONTRACTION_IDENTIFIED:
        return f"not identified by the data (contraction {c:.2f})"
    return f"{float(value):.{digits}f}"


def backtest_findings(scores: dict) -> list[Check]:
    """The backtest's verdict, one :class:`Check` per part of the bar (``status`` names the part).

    Computed from ``backtest.json`` alone, so the report states in words whether the model beat the
    party-line baseline instead of leaving the reader to compare the numbers.
    """
    model, party = scores["model"], scores["party_line"]
    p = scores["p_model_better_brier"]
    out = [
        Check("brier", model["brier"] < party["brier"],
              f"Brier {model['brier']:.4f} against the party line's {party['brier']:.4f}"),
        Check("log_score", model["log_score"] > party["log_score"],
              f"log score {model['log_score']:.3f} against {party['log_score']:.3f}"),
        Check("p_model_better_brier", p >= P_BETTER_BAR, f"P(model's Brier is lower) {p:.3f} (bar {P_BETTER_BAR})"),
    ]
    cov = scores.get("coverage_90")
    if cov is not None:
        lo, hi = COVERAGE_90_RANGE
        why = "" if lo <= cov <= hi else (": intervals too narrow" if cov < lo else ": intervals too wide")
        out.append(Check("coverage_90", lo <= cov <= hi, f"90% coverage of party rows {cov:.3f} (bar {lo}-{hi}{why})"))
    return out


def backtest_verdict(scores: dict) -> Check:
    """All of :func:`backtest_findings` in one line: ``ok`` when every part of the bar is met; the line names
    what was met and what was missed (the report's and ``predict``'s sentence)."""
    findings = backtest_findings(scores)
    met = [c.line for c in findings if c.ok]
    missed = [c.line for c in findings if not c.ok]
    if not missed:
        return Check("beats the party line", True,
                     "Verdict: the model beats the party-line baseline out of sample. " + "; ".join(met) + ".")
    return Check("does not beat the party line", False,
                 "Verdict: the model does not beat the party-line baseline out of sample on every count. Missed: "
                 + "; ".join(missed) + "." + (" Met: " + "; ".join(met) + "." if met else ""))


def elpd_difference_reading(diff: float, se: float, term: str) -> Check:
    """What the elpd difference of the full model against the model without ``term`` says, in words.

    ``diff`` is full minus without (positive favours the full model). It favours a model only when
    ``|diff| >= ELPD_SE_MULTIPLE * se``; closer to zero (or with no finite SE) the data do not separate the two,
    whatever the sign: the report must not read a difference of one SE against the paper as a refutation, nor one
    in its favour as support. ``status``: "full", "without" or "not separated"; ``ok``: the full model favoured.
    """
    d, s = float(diff), float(se)
    if not math.isfinite(d) or not math.isfinite(s) or s <= 0:
        return Check("not separated", False, f"no standard error: the data do not separate the models with and "
                                             f"without {term}")
    z = d / s
    if z >= ELPD_SE_MULTIPLE:
        return Check("full", True, f"favours the model with {term} ({z:+.1f} SE)")
    if z <= -ELPD_SE_MULTIPLE:
        return Check("without", False, f"favours the model without {term} ({z:+.1f} SE)")
    lean = "" if z == 0 else f", leaning to the model {'with' if z > 0 else 'without'} {term}"
    return Check("not separated", False, f"not separated by the data ({z:+.1f} SE{lean}; "
                                         f"{ELPD_SE_MULTIPLE:g} SE needed)")


def loeo_reliability_phrases(reliability: dict | None, n_fits: int) -> list[str]:
    """The Monte Carlo check of a leave-one-episode-out record in words (the report and the ``loeo`` CLI): how many
    fits' elpd rest on a few draws (k-hat above the bar; the worst, with its chains' own elpd) and the differences
    on the row-wise elpd with their reading. A record from before the check (``reliability`` absent or without
    row-wise elpd) says so: a difference that one episode drives may then be Monte Carlo error unseen."""
    if not reliability or reliability.get("row_differences") is None:
        return ["this record carries no Monte Carlo check of the episodes' elpd (k-hat, each chain's elpd, row-wise "
                "elpd; `loeo` records it since 2026-12-03), so a difference that one episode drives may be Monte "
                "Carlo error unseen"]
    bad, bar = reliability["unreliable"], reliability["khat_bar"]
    out = []
    if bad:
        w = bad[0]
        out.append(f"{len(bad)} of {n_fits} fits' elpd rest on a few draws (Pareto k-hat above {bar:g}; worst "
                   f"{w['variant']} without {w['episode']}, k-hat {w['elpd_khat']:.2f}, its chains alone "
                   + ", ".join(f"{x:.1f}" for x in w["elpd_chains"]) + ")")
    else:
        out.append(f"every fit's elpd has Pareto k-hat at most {bar:g}")
    rows_bad = reliability.get("rows_unreliable") or 0
    caveat = f"; in {rows_bad} of {n_fits} fits a held-out row's own k-hat is above {bar:g} too" if rows_bad else ""
    for name, d in reliability["row_differences"].items():
        term = name.removeprefix("full_minus_without_")
        out.append(f"on the row-wise elpd (each held-out row scored alone: a steadier estimate of a different "
                   f"target{caveat}) the full model against the model without {term} {d['elpd_diff']:+.2f} "
                   f"(SE {d['se']:.2f}): " + elpd_difference_reading(d["elpd_diff"], d["se"], term).line)
    n_int = reliability.get("integrated_unreliable")
    for name, d in (reliability.get("integrated_differences") or {}).items():
        term = name.removeprefix("full_minus_without_")
        out.append(f"on the joint elpd with each held-out episode's own effects integrated out per draw (the same target "
                   f"as the elpd, less Monte Carlo error; in {n_int} of {n_fits} fits its k-hat over draws is still above "
                   f"{bar:g}) the full model against the model without {term} {d['elpd_diff']:+.2f} (SE {d['se']:.2f}): "
                   + elpd_difference_reading(d["elpd_diff"], d["se"], term).line)
    return out


def out_of_sample_record(scores: dict | None, where: str) -> dict:
    """What ``predict`` reports of the spec's backtest (its JSON key ``out_of_sample``): where it is, its verdict
    and scores; or ``backtest`` None and the reason (``note``) when there is none for this model."""
    if scores is None:
        return {"backtest": None, "note": where}
    verdict = backtest_verdict(scores)
    return {"backtest": where, "beats_party_line": verdict.ok, "verdict": verdict.line, "n_votes": scores["n_votes"],
            "brier": scores["model"]["brier"], "party_line_brier": scores["party_line"]["brier"],
            "log_score": scores["model"]["log_score"], "party_line_log_score": scores["party_line"]["log_score"],
            "p_model_better_brier": scores["p_model_better_brier"], "coverage_90": scores.get("coverage_90"),
            "unconverged_fits": len(scores.get("unconverged_fits", []))}


__all__ = ["IN_SAMPLE", "Check", "backtest_findings", "backtest_verdict", "binomial_interval", "coverage_verdict",
           "elpd_difference_reading", "identification_text", "loeo_reliability_phrases", "loo_reliability", "loo_reliability_counts", "out_of_sample_record", "pit_band", "pit_verdict",
           "provisional_note", "randomised_pit"]
