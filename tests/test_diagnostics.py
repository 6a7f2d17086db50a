"""bayes_coalition.diagnostics: the Savage-Dickey Bayes factor and posterior contraction against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from bayes_coalition import diagnostics


@pytest.mark.parametrize(("mean", "sd"), [(1.0, 0.5), (0.0, 0.3), (-0.4, 0.9)])
def test_savage_dickey_matches_the_normal_closed_form(mean, sd):
    """Draws from a Normal(mean, sd) posterior under a Normal(0, 1) prior: BF10 = N(0 | 0, 1) / N(0 | mean, sd).
    200 000 draws put the kernel estimate within 2% of the density (Scott's bandwidth, a smooth density)."""
    draws = np.random.default_rng(3).normal(mean, sd, 200_000)
    expected = stats.norm.pdf(0, 0, 1) / stats.norm.pdf(0, mean, sd)
    assert diagnostics.savage_dickey_bf10(draws, 1.0) == pytest.approx(expected, rel=0.02)


def test_savage_dickey_edges():
    draws = np.random.default_rng(0).normal(0.0, 1.0, 200_000)
    assert diagnostics.savage_dickey_bf10(draws, 1.0) == pytest.approx(1.0, rel=0.02)   # posterior = prior
    assert math.isnan(diagnostics.savage_dickey_bf10(draws, 0.0))                        # not in the model
    far = np.random.default_rng(1).normal(10.0, 0.1, 4000)
    assert diagnostics.savage_dickey_bf10(far, 1.0) == 1000.0                            # capped in the far tail


def test_contraction_closed_form():
    np.testing.assert_allclose(diagnostics.contraction([0.5, 1.0, 2.0], [1.0, 1.0, 1.0]), [0.75, 0.0, -3.0])
    assert math.isnan(float(diagnostics.contraction(0.3, 0.0)))
