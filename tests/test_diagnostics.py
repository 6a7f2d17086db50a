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


def test_convergence_leaves_out_constant_elements_quietly():
    """Final passage's discrimination is fixed (identification) but recorded with the draws: its R-hat would
    divide by a zero within-chain variance (a RuntimeWarning on every fit, from the report's convergence
    table). The extremes are those of the varying elements, computed one by one here with ArviZ as the
    reference; the fixed element's R-hat and MCSE are NaN."""
    import warnings

    import arviz as az

    rng = np.random.default_rng(5)
    b = rng.normal(size=(4, 300, 3))
    b[:, :, 0] = 1.5                                   # fixed
    b[2, :, 2] += 2.0                                  # one chain off: R-hat well above 1
    a = rng.normal(size=(4, 300))
    idata = az.from_dict(posterior={"a": a, "b": b})
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no RuntimeWarning (nor any other)
        diag = diagnostics.convergence(idata, ["a", "b"])
    elements = [a, b[:, :, 1], b[:, :, 2]]
    assert diag["max_rhat"] == pytest.approx(max(float(az.rhat(x, method="rank")) for x in elements))
    assert diag["max_rhat"] > 1.05
    assert diag["min_ess_bulk"] == pytest.approx(min(float(az.ess(x, method="bulk")) for x in elements))
    assert diag["min_ess_tail"] == pytest.approx(min(float(az.ess(x, method="tail")) for x in elements))
    from bayes_coalition import _arviz

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_element = _arviz.rhat(idata, ["b"])["b"].values, _arviz.mcse(idata, ["b"])["b"].values
    assert all(math.isnan(x[0]) and np.isfinite(x[1:]).all() for x in per_element)   # the report's table
    # a variable that is constant everywhere has no diagnostics at all
    only_fixed = diagnostics.convergence(az.from_dict(posterior={"c": np.ones((2, 50))}), ["c"])
    assert math.isnan(only_fixed["max_rhat"]) and math.isnan(only_fixed["min_ess_bulk"])


def test_summary_of_a_fixed_element_is_quiet_and_has_no_diagnostics():
    """The report's parameter table summarises every variable, the fixed discrimination too: its R-hat, ESS
    and MCSE cells are NaN (not applicable) and no RuntimeWarning is printed; the other rows keep ArviZ's values."""
    import warnings

    import arviz as az

    from bayes_coalition import _arviz

    rng = np.random.default_rng(6)
    b = rng.normal(size=(4, 200, 2))
    b[:, :, 0] = 1.5
    idata = az.from_dict(posterior={"b": b})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = _arviz.summary(idata, ["b"])
    fixed, free = table.iloc[0], table.iloc[1]
    assert fixed["mean"] == 1.5 and fixed["sd"] == 0
    assert all(math.isnan(fixed[c]) for c in ("mcse_mean", "ess_bulk", "ess_tail", "r_hat"))
    assert free["r_hat"] == pytest.approx(float(az.rhat(b[:, :, 1], method="rank")))
    assert free["ess_bulk"] == pytest.approx(float(az.ess(b[:, :, 1], method="bulk")))


@pytest.mark.parametrize("shape", [0.1, 0.5, 1.0])
def test_pareto_khat_recovers_the_tail_shape_of_generalised_pareto_draws(shape):
    """``_arviz.pareto_khat`` of ``log w`` estimates the tail shape of ``w``: for SciPy's generalised Pareto draws of
    known shape it lands within 0.2 of it (PSIS fits the largest 3 sqrt(n) draws: 8000 draws, about 270 in the tail);
    a log-normal's tail (lighter than any power law) gets a small k-hat when its log spreads little."""
    from bayes_coalition import _arviz

    w = stats.genpareto.rvs(shape, size=8000, random_state=np.random.default_rng(7))
    assert _arviz.pareto_khat(np.log(w)) == pytest.approx(shape, abs=0.2)
    assert _arviz.pareto_khat(np.random.default_rng(7).normal(0.0, 0.3, size=8000)) < 0.3
