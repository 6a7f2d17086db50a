"""The report's honesty rules at their boundaries: LOO reliability, interval coverage, randomised PIT,
the provisional-fit line, the not-identified label and the backtest's verdict."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayes_coalition.report.checks import (
    backtest_findings,
    backtest_verdict,
    binomial_interval,
    coverage_verdict,
    elpd_difference_reading,
    identification_text,
    loo_reliability,
    loo_reliability_counts,
    out_of_sample_record,
    pit_band,
    pit_verdict,
    provisional_note,
    randomised_pit,
)

# --- PSIS-LOO reliability -----------------------------------------------------------------------------


def _k(n_bad: int, n: int = 100, bad: float = 0.71) -> np.ndarray:
    return np.array([bad] * n_bad + [0.3] * (n - n_bad))


def test_loo_is_reliable_up_to_ten_percent_of_rows_above_0_7():
    assert loo_reliability(_k(10)).ok                      # exactly 10%: still reliable
    assert loo_reliability(_k(10)).line == "reliable: 10 of 100 rows have Pareto k > 0.7, none above 1"
    eleven = loo_reliability(_k(11))
    assert not eleven.ok and eleven.status == "unreliable"
    assert eleven.line == "unreliable: 11 of 100 rows have k > 0.7 \u2014 PSIS-LOO cannot be trusted for this model"
    assert not loo_reliability(_k(9, n=89)).ok             # 9 / 89 > 10%
    assert loo_reliability(_k(8, n=89)).ok


def test_loo_reliability_from_counts_is_the_same_rule():
    assert loo_reliability_counts(10, 100, 0) == loo_reliability(_k(10))
    assert loo_reliability_counts(11, 100, 0) == loo_reliability(_k(11))
    assert not loo_reliability_counts(1, 100, 1).ok
    # the count above 1 not recorded (older compare files): the share alone decides, and the line does not claim it
    assert loo_reliability_counts(8, 89).line == "reliable: 8 of 89 rows have Pareto k > 0.7"
    assert loo_reliability_counts(9, 89).ok is False and loo_reliability_counts(0, 0).ok is False
    assert loo_reliability_counts(9, 90).status == "reliable" and loo_reliability_counts(10, 90).status == "unreliable"


def test_loo_k_boundaries_and_a_single_row_above_1():
    assert loo_reliability(_k(100, bad=0.7)).ok            # k = 0.7 is not above 0.7
    assert loo_reliability(_k(10, bad=1.0)).ok             # k = 1 counts as > 0.7, not as > 1
    one = loo_reliability(np.r_[1.01, np.full(99, 0.2)])
    assert not one.ok and "1 of 100 rows have k > 0.7 (1 above 1)" in one.line
    assert loo_reliability(np.r_[np.nan, np.full(9, 0.2)]).line.startswith("reliable: 0 of 10")  # a constant row
    assert not loo_reliability([]).ok


# --- coverage of predictive intervals ----------------------------------------------------------------


def test_binomial_interval_is_clopper_pearson():
    for k, n in ((0, 10), (1, 10), (3, 10), (83, 92), (92, 92)):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        assert binomial_interval(k, n) == pytest.approx((ci.low, ci.high))


def test_coverage_verdict_boundaries():
    # 92 rows at nominal 95%: 92 inside is too wide (lower bound 0.961 > 0.95), 91 is consistent;
    # 83 is the fewest consistent with 95% (upper bound of 82/92 is 0.947 < 0.95)
    assert coverage_verdict(92, 92, 0.95).status == "too wide"
    assert "intervals too wide (over-dispersed predictions" in coverage_verdict(92, 92, 0.95).line
    assert coverage_verdict(91, 92, 0.95).status == "consistent"
    assert coverage_verdict(83, 92, 0.95).status == "consistent"
    assert coverage_verdict(82, 92, 0.95).status == "too narrow"
    assert "intervals too narrow" in coverage_verdict(82, 92, 0.95).line
    for k in range(93):
        lo, hi = binomial_interval(k, 92)
        expected = "too narrow" if 0.95 > hi else ("too wide" if 0.95 < lo else "consistent")
        got = coverage_verdict(k, 92, 0.95)
        assert (got.status, got.ok) == (expected, expected == "consistent"), k
    lo, hi = binomial_interval(83, 92)
    assert coverage_verdict(83, 92, 0.95).line == (f"Coverage: 83 of 92 rows (90%) inside their 95% predictive intervals "
                                                   f"(95% binomial interval [{lo:.3f}, {hi:.3f}]): consistent with the "
                                                   f"nominal 95%")
    none = coverage_verdict(0, 0, 0.95)
    assert (none.status, none.ok, none.line) == ("none", False, "Coverage: no rows to check")
    one = coverage_verdict(1, 1, 0.5)                        # a single row is a verdict, not "no rows"
    assert one.status == "consistent" and one.ok is True and "1 of 1 rows (100%)" in one.line
    # the binomial interval's level is the verdict's: at 99% 81 of 92 is consistent with 95%, at 95% too narrow
    assert coverage_verdict(81, 92, 0.95, level=0.99).status == "consistent"
    assert coverage_verdict(81, 92, 0.95).status == "too narrow"


# --- randomised PIT -----------------------------------------------------------------------------------


def test_randomised_pit_lies_between_the_cdf_steps_and_is_seeded():
    draws = np.array([[0, 1], [1, 1], [2, 3], [2, 5]])          # 4 draws of 2 rows
    y = np.array([2, 1])
    u = randomised_pit(y, draws, np.random.default_rng(1))
    assert 0.5 <= u[0] <= 1.0 and 0.0 <= u[1] <= 0.5            # row 0: F(1) = 0.5, F(2) = 1; row 1: F(0) = 0, F(1) = 0.5
    assert np.array_equal(u, randomised_pit(y, draws, np.random.default_rng(1)))


def test_randomised_pit_of_calibrated_counts_is_uniform_where_the_plain_pit_is_not():
    """Counts from the predictive distribution itself: the randomised PIT passes the band, the plain PIT
    (F(y)) is pushed towards 1 and fails it; over-dispersed predictions pile the PIT in the middle.

    A fixed seed: a calibrated sample leaves the 95% band in 5% of seeds (2 of 40 checked), this one does not."""
    rng = np.random.default_rng(7)
    n_rows, n_draws = 300, 400
    draws = rng.binomial(4, 0.5, size=(n_draws, n_rows))
    y = rng.binomial(4, 0.5, size=n_rows)
    ok, *_ = pit_verdict(randomised_pit(y, draws, rng))
    assert ok.ok and ok.status == "calibrated"
    plain, *_ = pit_verdict(np.mean(draws <= y, axis=0))
    assert not plain.ok
    wide = rng.binomial(40, 0.5, size=(n_draws, n_rows)) - 18      # mean 2, sd 3.2 against sd 1 of y
    over, *_ = pit_verdict(randomised_pit(y, wide, rng))
    assert over.ok is False and over.status == "miscalibrated" and over.line.endswith(
        "(too many values in the middle: predictions over-dispersed)")
    narrow = np.full((n_draws, n_rows), 2)                           # every draw 2: far too sure
    under, *_ = pit_verdict(randomised_pit(y, narrow, rng))
    assert under.ok is False and under.line.endswith("(too many values in the tails: predictions under-dispersed)")


def test_pit_band_is_the_kolmogorov_smirnov_band_on_its_grid():
    """The simulated half-width of the simultaneous band for n uniforms, against SciPy's exact one-sample
    Kolmogorov-Smirnov quantile: the grid (99 points) sees slightly less than the supremum, never more."""
    for n, prob in ((50, 0.95), (300, 0.95), (300, 0.99)):
        z, half = pit_band(n, prob=prob)
        ks = stats.kstwo.ppf(prob, n)
        assert ks - 0.015 < half <= ks + 0.005, (n, prob, half, ks)
        assert len(z) == 99 and z[0] == pytest.approx(0.01) and z[-1] == pytest.approx(0.99)
    (z1, h1), (z2, h2) = pit_band(50), pit_band(50)
    assert h1 == h2 and np.array_equal(z1, z2)                      # seeded
    # the seed decides the draws: few replicates of many values make the half-width a continuous quantity
    few = [pit_band(500, n_rep=50, seed=seed)[1] for seed in (3, 3, 4)]
    assert few[0] == few[1] and few[0] != few[2]
    # a sample exactly on the band's edge decides by <=: the check's grid and half-width are the band's
    u = np.linspace(0.005, 0.995, 100)
    check, z, diff, half = pit_verdict(u)
    z100, half100 = pit_band(100)
    assert check.ok and np.max(np.abs(diff)) <= half and half == half100 and np.array_equal(z, z100)


# --- provisional fits and identification ------------------------------------------------------------------


def test_provisional_note_only_for_a_fit_that_did_not_pass():
    good = {"max_rhat": 1.001, "min_ess_bulk": 900, "min_ess_tail": 900, "divergences": 0, "min_bfmi": 0.9}
    assert provisional_note(good) is None and provisional_note({}) is None
    assert provisional_note({**good, "max_rhat": 1.015}) == ("This fit did not converge (max R-hat 1.015 > 1.01): "
                                                             "treat these numbers as provisional.")
    assert provisional_note({**good, "min_ess_bulk": 150}).startswith("This fit's convergence check warned (min bulk ESS 150")


def test_identification_text_at_the_threshold():
    assert identification_text(0.912, 0.5) == "0.91"
    assert identification_text(0.912, 0.49) == "not identified by the data (contraction 0.49)"
    assert identification_text(0.912, -0.03) == "not identified by the data (contraction -0.03)"
    assert identification_text(0.0, float("nan")) == "not estimated (fixed at zero in this spec)"


# --- the backtest against the party line ---------------------------------------------------------------

def _scores(brier=0.05, log=-0.2, p=0.95, cov=0.9):
    return {"model": {"brier": brier, "log_score": log}, "party_line": {"brier": 0.0663, "log_score": -0.2567},
            "p_model_better_brier": p, "coverage_90": cov}


@pytest.mark.parametrize(("scores", "met"), [
    # hand table at the bar's edges: ties lose, the bar's own values pass
    (_scores(), {"brier": True, "log_score": True, "p_model_better_brier": True, "coverage_90": True}),
    (_scores(brier=0.0663, log=-0.2567), {"brier": False, "log_score": False, "p_model_better_brier": True, "coverage_90": True}),
    (_scores(p=0.9, cov=0.85), {"brier": True, "log_score": True, "p_model_better_brier": True, "coverage_90": True}),
    (_scores(p=0.8999, cov=0.95), {"brier": True, "log_score": True, "p_model_better_brier": False, "coverage_90": True}),
    (_scores(cov=0.8139), {"brier": True, "log_score": True, "p_model_better_brier": True, "coverage_90": False}),
    (_scores(cov=0.9501), {"brier": True, "log_score": True, "p_model_better_brier": True, "coverage_90": False}),
    # the default spec's short-fit backtest (0.3.1): loses on both scores
    (_scores(brier=0.1227, log=-0.40, p=0.018, cov=0.86),
     {"brier": False, "log_score": False, "p_model_better_brier": False, "coverage_90": True}),
])
def test_backtest_findings_follow_the_bar(scores, met):
    assert {c.status: c.ok for c in backtest_findings(scores)} == met


def test_backtest_findings_say_what_each_part_measured():
    lines = [c.line for c in backtest_findings(_scores(brier=0.1174, log=-0.37531, p=0.02675, cov=0.8488))]
    assert lines == ["Brier 0.1174 against the party line's 0.0663", "log score -0.375 against -0.257",
                     "P(model's Brier is lower) 0.027 (bar 0.9)",
                     "90% coverage of party rows 0.849 (bar 0.85-0.95: intervals too narrow)"]
    assert backtest_findings(_scores(cov=0.9501))[-1].line == "90% coverage of party rows 0.950 (bar 0.85-0.95: intervals too wide)"
    assert backtest_findings(_scores(cov=0.95))[-1].line == "90% coverage of party rows 0.950 (bar 0.85-0.95)"
    assert backtest_findings(_scores(cov=0.85))[-1].line == "90% coverage of party rows 0.850 (bar 0.85-0.95)"



def test_backtest_verdict_is_one_line_of_the_findings():
    win = backtest_verdict(_scores())
    assert win.ok is True and win.status == "beats the party line"
    assert win.line == ("Verdict: the model beats the party-line baseline out of sample. Brier 0.0500 against the party "
                        "line's 0.0663; log score -0.200 against -0.257; P(model's Brier is lower) 0.950 (bar 0.9); "
                        "90% coverage of party rows 0.900 (bar 0.85-0.95).")
    lose = backtest_verdict(_scores(cov=0.8139))
    assert lose.ok is False and lose.status == "does not beat the party line"
    assert lose.line == ("Verdict: the model does not beat the party-line baseline out of sample on every count. Missed: "
                         "90% coverage of party rows 0.814 (bar 0.85-0.95: intervals too narrow). Met: Brier 0.0500 "
                         "against the party line's 0.0663; log score -0.200 against -0.257; P(model's Brier is lower) "
                         "0.950 (bar 0.9).")
    none_met = backtest_verdict(_scores(brier=0.2, log=-0.5, p=0.1, cov=0.5))
    assert none_met.line == ("Verdict: the model does not beat the party-line baseline out of sample on every count. "
                             "Missed: Brier 0.2000 against the party line's 0.0663; log score -0.500 against -0.257; "
                             "P(model's Brier is lower) 0.100 (bar 0.9); 90% coverage of party rows 0.500 (bar 0.85-0.95: "
                             "intervals too narrow).")


def test_out_of_sample_record_carries_the_verdict_or_says_why_not():
    assert out_of_sample_record(None, "not backtested: no x") == {"backtest": None, "note": "not backtested: no x"}
    scores = {**_scores(cov=0.8139), "n_votes": 43, "unconverged_fits": [{"origin": "a"}, {"origin": "b"}]}
    rec = out_of_sample_record(scores, "f/backtest.json")
    assert rec == {"backtest": "f/backtest.json", "beats_party_line": False, "verdict": backtest_verdict(scores).line,
                   "n_votes": 43, "brier": 0.05, "party_line_brier": 0.0663, "log_score": -0.2,
                   "party_line_log_score": -0.2567, "p_model_better_brier": 0.95, "coverage_90": 0.8139,
                   "unconverged_fits": 2}
    assert out_of_sample_record({**scores, "coverage_90": 0.9}, "f")["beats_party_line"] is True


# --- what an out-of-sample elpd difference says -----------------------------------------------------------


@pytest.mark.parametrize(("diff", "se", "status"), [
    (4.0, 2.0, "full"),                    # exactly 2 SE: favours the full model
    (3.99, 2.0, "not separated"),          # just under
    (-4.0, 2.0, "without"),                # exactly -2 SE: favours the model without the term
    (-3.99, 2.0, "not separated"),
    (0.0, 2.0, "not separated"),
    (7.41, 9.48, "not separated"),         # today's default, H1 (models/loeo/trade_coalition)
    (-8.57, 8.22, "not separated"),        # and H2: against the paper by 1.0 SE, not a refutation
    (5.0, float("nan"), "not separated"),  # one episode: no SE
    (5.0, 0.0, "not separated"),
    (float("nan"), 1.0, "not separated"),
])
def test_elpd_difference_reading_needs_two_standard_errors(diff, se, status):
    c = elpd_difference_reading(diff, se, "H2")
    assert c.status == status and c.ok is (status == "full")


def test_elpd_difference_reading_says_which_way_and_how_far():
    assert elpd_difference_reading(4.0, 2.0, "H1").line == "favours the model with H1 (+2.0 SE)"
    assert elpd_difference_reading(-5.0, 2.0, "H2").line == "favours the model without H2 (-2.5 SE)"
    assert elpd_difference_reading(-8.57, 8.22, "H2").line == (
        "not separated by the data (-1.0 SE, leaning to the model without H2; 2 SE needed)")
    assert elpd_difference_reading(1.0, 4.0, "H1").line == (
        "not separated by the data (+0.2 SE, leaning to the model with H1; 2 SE needed)")
    assert elpd_difference_reading(0.0, 4.0, "H1").line == "not separated by the data (+0.0 SE; 2 SE needed)"
    assert elpd_difference_reading(1.5, float("nan"), "H1").line == (
        "no standard error: the data do not separate the models with and without H1")



def test_loeo_reliability_phrases_by_hand():
    """The Monte Carlo check in words: the count of fits above the k-hat bar and the worst with its chains; the
    row-wise differences each with its reading (at 2 SE it favours); none above the bar said so; a record from
    before the check (no reliability, or no row-wise elpd) says it carries none."""
    from bayes_coalition.report.checks import loeo_reliability_phrases

    rel = {"khat_bar": 0.7,
           "unreliable": [{"variant": "without_H2", "episode": "usmca2019", "elpd_khat": 0.934,
                           "elpd_chains": [-32.45, -38.14, -27.43, -40.43]},
                          {"variant": "full", "episode": "tpa2015", "elpd_khat": 0.71, "elpd_chains": [-1.0]}],
           "row_differences": {"full_minus_without_H1": {"elpd_diff": 4.0, "se": 2.0, "n_episodes": 23},
                               "full_minus_without_H2": {"elpd_diff": 0.19, "se": 1.9, "n_episodes": 23}}}
    got = loeo_reliability_phrases(rel, 69)
    assert got[0] == ("2 of 69 fits' elpd rest on a few draws (Pareto k-hat above 0.7; worst without_H2 without "
                      "usmca2019, k-hat 0.93, its chains alone -32.5, -38.1, -27.4, -40.4)")
    assert got[1].endswith("the full model against the model without H1 +4.00 (SE 2.00): favours the model with H1 "
                           "(+2.0 SE)") and got[1].startswith("on the row-wise elpd (each held-out row scored alone")
    assert got[2].endswith("without H2 +0.19 (SE 1.90): not separated by the data (+0.1 SE, leaning to the model "
                           "with H2; 2 SE needed)")
    assert "k-hat is above" not in got[1]                              # no fit's rows above the bar: no caveat
    assert loeo_reliability_phrases({**rel, "unreliable": []}, 69)[0] == "every fit's elpd has Pareto k-hat at most 0.7"
    assert ("a different target; in 3 of 69 fits a held-out row's own k-hat is above 0.7 too) the full model"
            in loeo_reliability_phrases({**rel, "rows_unreliable": 3}, 69)[1])
    assert len(got) == 3                                               # no integrated elpd in this record
    integ = loeo_reliability_phrases({**rel, "integrated_unreliable": 5, "integrated_differences": {
        "full_minus_without_H2": {"elpd_diff": -2.5, "se": 1.0, "n_episodes": 23}}}, 69)
    assert len(integ) == 4 and integ[3] == (
        "on the joint elpd with each held-out episode's own effects integrated out per draw (the same target as the "
        "elpd, less Monte Carlo error; in 5 of 69 fits its k-hat over draws is still above 0.7) the full model against "
        "the model without H2 -2.50 (SE 1.00): favours the model without H2 (-2.5 SE)")
    for old in (None, {"khat_bar": 0.7, "unreliable": [], "row_differences": None}):
        assert loeo_reliability_phrases(old, 69) == [
            "this record carries no Monte Carlo check of the episodes' elpd (k-hat, each chain's elpd, row-wise elpd; "
            "`loeo` records it since 2026-12-03), so a difference that one episode drives may be Monte Carlo error unseen"]
