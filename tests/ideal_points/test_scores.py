"""Holdout split and the scores of predicted cells."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import logistic, norm

from bayes_coalition.ideal_points.scores import cell_probabilities, majority_side, score_cells, split_holdout


def test_split_holdout_hides_observed_cells_seeded():
    votes = np.array([[1, 0, np.nan, 1], [0, 0, 1, np.nan], [1, 1, 1, 0.0]] * 5)
    train, hidden = split_holdout(votes, 0.2, 7)
    observed = np.isfinite(votes)
    assert hidden.sum() == round(0.2 * observed.sum())
    assert np.all(observed[hidden]) and np.all(np.isnan(train[hidden]))
    assert np.array_equal(np.isfinite(train), observed & ~hidden)
    assert np.array_equal(split_holdout(votes, 0.2, 7)[1], hidden)
    assert not np.array_equal(split_holdout(votes, 0.2, 8)[1], hidden)
    assert not split_holdout(votes, 0.0, 7)[1].any()


def test_split_holdout_bad_fraction():
    with pytest.raises(ValueError):
        split_holdout(np.ones((3, 3)), 1.0, 0)


def test_score_cells_apre_against_majority_side():
    votes = np.array([[1, 0], [1, 0], [0, 1.0], [1, np.nan]])
    majority = majority_side(votes)
    np.testing.assert_array_equal(majority, [1, 0])
    prob = np.array([[0.9, 0.2], [0.8, 0.1], [0.3, 0.6], [0.7, 0.5]])
    s = score_cells(prob, votes, np.ones_like(votes, bool), majority)
    assert s["n_cells"] == 7 and s["accuracy"] == 1.0
    assert s["apre"] == pytest.approx(1.0)  # baseline errs twice (row 3), the model never
    assert s["gmp"] == pytest.approx(np.exp(np.mean(np.log([0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 0.6]))))
    assert s["brier"] == pytest.approx(np.mean(np.square([0.1, 0.2, 0.3, 0.3, 0.2, 0.1, 0.4])))


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_cell_probabilities_chunked_mean(link):
    rng = np.random.default_rng(3)
    x, b, a = rng.normal(size=(7, 4)), rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    F = logistic.cdf if link == "logit" else norm.cdf
    ref = F(x[:, :, None] * b[:, None, :] - a[:, None, :]).mean(axis=0)
    np.testing.assert_allclose(cell_probabilities(x, b, a, link, max_floats=24), ref, rtol=1e-12)  # 2 draws a chunk
