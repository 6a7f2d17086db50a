"""The vote log-likelihood: every formulation against a direct SciPy computation at random
parameter values (both links, missing cells), the dense Op's gradient, and the lazy numba dispatch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad
from scipy.special import expit
from scipy.stats import bernoulli, norm

from bayes_coalition import IdealPointModel
from bayes_coalition.ideal_points.likelihood import FORMULATIONS, DenseVoteLogLik, dense_loglik_and_grad, vote_loglik, vote_signs
from tests.helpers import REPO
from tests.ideal_points.helpers import simulate_matrix

LINK_CDF = {"logit": expit, "probit": norm.cdf}


def random_problem(seed: int, n_leg: int = 7, n_rc: int = 9):
    """Random ideal points, discriminations, difficulties (|eta| < ~6, where the SciPy reference
    is exact) and a vote matrix with yeas, nays and missing cells."""
    rng = np.random.default_rng(seed)
    x, b, a = rng.normal(size=n_leg), rng.normal(0, 1.2, size=n_rc), rng.normal(0, 0.7, size=n_rc)
    votes = (rng.random((n_leg, n_rc)) < 0.5).astype(float)
    votes[rng.random(votes.shape) < 0.25] = np.nan
    assert np.isnan(votes).any() and (votes == 1).any() and (votes == 0).any()
    return x, b, a, votes


def scipy_loglik(x, b, a, votes, link) -> float:
    """Sum over observed cells of the Bernoulli log pmf with P(yea) = F(b_j x_i - a_j)."""
    obs = np.isfinite(votes)
    p = LINK_CDF[link](np.outer(x, b) - a)
    return float(bernoulli.logpmf(votes[obs], p[obs]).sum())


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_formulation_matches_scipy_at_random_points(formulation, link):
    xs, bs, as_ = pt.dvector("x"), pt.dvector("b"), pt.dvector("a")
    # PyMC's probit graph (normal_lcdf, via erfcx) agrees with SciPy's cdf to ~3e-9 relative;
    # NumPy/SciPy-based dense Op and the logistic graphs to ~1e-15
    rel = 1e-7 if link == "probit" and formulation != "dense" else 1e-10
    for seed in range(3):
        x, b, a, votes = random_problem(seed)
        f = pytensor.function([xs, bs, as_], vote_loglik(xs, bs, as_, votes, link=link, formulation=formulation))
        assert float(f(x, b, a)) == pytest.approx(scipy_loglik(x, b, a, votes, link), rel=rel)
        # the reference tells yea from nay: swapping them moves it
        assert scipy_loglik(x, b, a, 1 - votes, link) != pytest.approx(scipy_loglik(x, b, a, votes, link), rel=1e-3)


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_dense_numpy_value_and_finite_difference_gradient(link):
    x, b, a, votes = random_problem(2, 5, 4)
    signs, n_unobserved = vote_signs(votes)
    lp, gx, gb, ga = dense_loglik_and_grad(x, b, a, signs, n_unobserved, link)
    assert lp == pytest.approx(scipy_loglik(x, b, a, votes, link), rel=1e-10)
    h = 1e-6
    for which, grad in enumerate((gx, gb, ga)):
        for k in range(len(grad)):
            up = [v.copy() for v in (x, b, a)]
            down = [v.copy() for v in (x, b, a)]
            up[which][k] += h
            down[which][k] -= h
            fd = (dense_loglik_and_grad(*up, signs, n_unobserved, link)[0]
                  - dense_loglik_and_grad(*down, signs, n_unobserved, link)[0]) / (2 * h)
            assert grad[k] == pytest.approx(fd, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_dense_op_gradient_verify_grad(link):
    x, b, a, votes = random_problem(5)
    signs, n_unobserved = vote_signs(votes)
    op = DenseVoteLogLik(link)
    verify_grad(lambda x_, b_, a_: op(x_, b_, a_, signs, n_unobserved)[0], [x, b, a],
                rng=np.random.default_rng(0), abs_tol=1e-6, rel_tol=1e-6)


def test_model_formulations_agree_at_a_random_point():
    """The whole model's log density (priors + likelihood) is the same for every formulation
    away from the all-zero point, where every vote scores log 0.5 whichever way it went."""
    rc, _ = simulate_matrix(n_leg=8, n_rc=10)
    rng = np.random.default_rng(1)
    point, values = None, {}
    for form in FORMULATIONS:
        m = IdealPointModel(rc, lopsided=None, min_votes=None, formulation=form)
        if point is None:
            point = {k: v + rng.normal(0, 0.8, size=np.shape(v)) for k, v in m.model.initial_point().items()}
        values[form] = float(m.model.compile_logp(mode="FAST_COMPILE")(point))
    assert values["dense"] == pytest.approx(values["gather"], rel=1e-10)
    assert values["dense"] == pytest.approx(values["dense_graph"], rel=1e-10)


def test_unknown_formulation_and_link():
    x = pt.dvector("x")
    with pytest.raises(ValueError, match="formulation"):
        vote_loglik(x, x, x, np.ones((2, 2)), link="logit", formulation="sparse")
    with pytest.raises(ValueError, match="link"):
        vote_loglik(x, x, x, np.ones((2, 2)), link="cloglog")


def test_package_imports_and_builds_without_numba():
    """numba is only needed by nutpie's backend: with it unimportable the package still imports,
    builds the dense model and evaluates it on PyTensor's C/Python backend."""
    code = textwrap.dedent("""
        import sys
        sys.modules["numba"] = None          # any import of numba now fails
        import numpy as np
        import bayes_coalition.ideal_points
        from bayes_coalition.ideal_points.likelihood import register_numba_dispatch
        from tests.ideal_points.helpers import simulate_matrix
        rc, _ = simulate_matrix(n_leg=6, n_rc=8)
        m = bayes_coalition.ideal_points.IdealPointModel(rc, lopsided=None, min_votes=None)
        assert np.isfinite(m.model.compile_logp(mode="FAST_COMPILE")(m.model.initial_point()))
        assert register_numba_dispatch() is False
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_numba_dispatch_is_registered_when_a_model_is_built():
    code = textwrap.dedent("""
        import sys
        import bayes_coalition.ideal_points
        assert "pytensor.link.numba.dispatch.basic" not in sys.modules, "imported at package import"
        from tests.ideal_points.helpers import simulate_matrix
        rc, _ = simulate_matrix(n_leg=6, n_rc=8)
        bayes_coalition.ideal_points.IdealPointModel(rc, lopsided=None, min_votes=None).model
        from pytensor.link.numba.dispatch.basic import numba_funcify
        from bayes_coalition.ideal_points.likelihood import DenseVoteLogLik
        assert numba_funcify.dispatch(DenseVoteLogLik).__name__ == "_numba_dense_vote_loglik"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
