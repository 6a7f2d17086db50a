"""The party-line baseline against SciPy's beta-binomial: its rule for a yea total from past party yea rates."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_coalition.prediction.baseline import party_line_counts, party_line_p

N_SIM = 200_000


def _data():
    """Training House votes: R yea shares 0.8 and 0.4, so 0.8 and 0.6 (mean 0.7, variance 0.02: Beta(6.65, 2.85))
    on the pro-trade side (h2's yea side is anti-trade: 1 - its yea share); D 0.2 and 0.6, so 0.2 and 0.4;
    a Senate vote and an untrained House vote that must not count."""
    cases = pd.DataFrame({"case_id": ["h1", "h2", "s1", "h3"], "chamber": ["House", "House", "Senate", "House"],
                          "yea_is_pro_trade": [True, False, True, True]})
    votes = pd.DataFrame({"case_id": ["h1", "h1", "h2", "h2", "s1", "s1", "h3"], "party": ["R", "D", "R", "D", "R", "D", "R"],
                          "yea": [80.0, 20, 40, 60, 1, 1, 0], "nay": [20.0, 80, 60, 40, 99, 99, 100]})
    return SimpleNamespace(cases=cases, vote_counts=votes)


def _beta_of(shares):
    m, v = np.mean(shares), np.var(shares, ddof=1)
    k = m * (1 - m) / v - 1
    return m * k, (1 - m) * k


def test_one_party_total_is_the_moment_matched_beta_binomial():
    ds = _data()
    a, b = _beta_of([0.8, 0.6])                  # R on the pro-trade side: h1 0.8, h2 1 - 0.4
    assert (a, b) == pytest.approx((6.65, 2.85))
    total = party_line_counts(ds, ["h1", "h2"], "House", {"R": 30}, True, n_sim=N_SIM, seed=5)
    ref = stats.betabinom(30, a, b)
    assert total.mean() == pytest.approx(ref.mean(), abs=4 * ref.std() / np.sqrt(N_SIM))
    assert total.var() == pytest.approx(ref.var(), rel=0.02)
    # the anti-trade side of a vote: the same rates turned over
    anti = party_line_counts(ds, ["h1", "h2"], "House", {"R": 30}, False, n_sim=N_SIM, seed=5)
    assert anti.mean() == pytest.approx(stats.betabinom(30, b, a).mean(), abs=4 * ref.std() / np.sqrt(N_SIM))


def test_p_carries_applies_the_rule_to_the_sum_of_the_parties():
    ds = _data()
    seats = {"R": 30, "D": 20, "_notes": ["ignored"]}
    p, total = party_line_p(ds, ["h1", "h2"], "House", seats, "majority_of_voting", True, n_sim=N_SIM, seed=7)
    # reference: the sum of two independent beta-binomials (R 30 seats, D 20 seats, D at 0.2 and 0.4 pro-trade)
    r = stats.betabinom(30, *_beta_of([0.8, 0.6])).pmf(np.arange(31))
    d = stats.betabinom(20, *_beta_of([0.2, 0.4])).pmf(np.arange(21))
    pmf = np.convolve(r, d)                       # yea totals 0..50
    exact = pmf[26:].sum()                        # a majority of the 50 voting: 26 or more
    assert p == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / N_SIM))
    assert total.max() <= 50 and len(total) == N_SIM


def test_only_the_chambers_training_votes_count():
    ds = _data()
    # h3 (R 0% yea) is not in train, s1 is the Senate's: neither moves the House rates
    with_h1_h2 = party_line_counts(ds, ["h1", "h2"], "House", {"R": 30}, True, n_sim=1000, seed=1)
    with_others = party_line_counts(ds, ["h1", "h2", "s1"], "House", {"R": 30}, True, n_sim=1000, seed=1)
    np.testing.assert_array_equal(with_h1_h2, with_others)
    assert not np.array_equal(with_h1_h2, party_line_counts(ds, ["h1", "h2", "h3"], "House", {"R": 30}, True,
                                                            n_sim=1000, seed=1))
    # fewer than two training rows for a party: a uniform rate (mean half the seats)
    flat = party_line_counts(ds, ["h1"], "House", {"R": 30}, True, n_sim=N_SIM, seed=2)
    assert flat.mean() == pytest.approx(15, abs=0.1)


def test_an_independent_takes_both_parties_rows_and_a_blank_elsewhere_drops_nothing():
    ds = _data()
    # a column the baseline does not read, blank on one row: that row still counts
    ds.vote_counts = ds.vote_counts.assign(source=[None, "x", "x", "x", "x", "x", "x"])   # on an R row
    base = party_line_counts(_data(), ["h1", "h2"], "House", {"R": 30}, True, n_sim=1000, seed=1)
    np.testing.assert_array_equal(party_line_counts(ds, ["h1", "h2"], "House", {"R": 30}, True, n_sim=1000, seed=1), base)
    # an independent seat draws from the rates of both parties' rows (0.8, 0.6, 0.2, 0.4: mean 0.5)
    ind = party_line_counts(_data(), ["h1", "h2"], "House", {"I": 40}, True, n_sim=N_SIM, seed=3)
    ref = stats.betabinom(40, *_beta_of([0.8, 0.6, 0.2, 0.4]))
    assert ind.mean() == pytest.approx(ref.mean(), abs=4 * ref.std() / np.sqrt(N_SIM))
    assert ind.var() == pytest.approx(ref.var(), rel=0.02)


def test_overdispersed_rates_floor_the_beta_concentration_at_one_half():
    """Shares 1.0 and 0.0: mean 0.5, variance 0.5, so the moment estimate of the concentration is negative; the
    baseline floors it at 0.5, i.e. Beta(0.25, 0.25)."""
    cases = pd.DataFrame({"case_id": ["a", "b"], "chamber": ["Senate", "Senate"], "yea_is_pro_trade": [True, True]})
    votes = pd.DataFrame({"case_id": ["a", "b"], "party": ["D", "D"], "yea": [50.0, 0.0], "nay": [0.0, 50.0]})
    total = party_line_counts(SimpleNamespace(cases=cases, vote_counts=votes), ["a", "b"], "Senate", {"D": 20}, True,
                              n_sim=N_SIM, seed=4)
    assert total.var() == pytest.approx(stats.betabinom(20, 0.25, 0.25).var(), rel=0.02)


def test_the_seed_fixes_the_draws():
    ds = _data()
    one = party_line_p(ds, ["h1", "h2"], "House", {"R": 30, "D": 20}, "majority_of_voting", True, n_sim=500, seed=9)
    two = party_line_p(ds, ["h1", "h2"], "House", {"R": 30, "D": 20}, "majority_of_voting", True, n_sim=500, seed=9)
    other = party_line_p(ds, ["h1", "h2"], "House", {"R": 30, "D": 20}, "majority_of_voting", True, n_sim=500, seed=10)
    assert one[0] == two[0] and np.array_equal(one[1], two[1]) and not np.array_equal(one[1], other[1])
