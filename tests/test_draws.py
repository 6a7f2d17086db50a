"""bayes_coalition/draws.py: deterministics and pointwise log-likelihood at every draw, vectorised over draws,
against PyMC's own per-draw functions (compiled on the C backend) as the reference."""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

from bayes_coalition.draws import DrawFunction, compute_deterministics, compute_log_likelihood


@pytest.fixture(scope="module")
def small():
    """Transforms (log, zero-sum, simplex), a three-input product, a deterministic of data only, named dims and
    an observed beta-binomial: the pieces the coalition graph uses."""
    coords = {"group": ["a", "b", "c"], "row": [f"r{i}" for i in range(6)]}
    n = np.array([10, 20, 30, 5, 8, 12])
    with pm.Model(coords=coords) as model:
        x = pm.Data("x", np.linspace(-1.0, 1.0, 6), dims="row")
        dev = pm.ZeroSumNormal("dev", sigma=0.5, dims="group")
        scale = pm.HalfNormal("scale", 1.0)
        share = pm.Dirichlet("share", a=np.ones(3), dims="group")
        group = np.array([0, 1, 2, 0, 1, 2])
        eta = pm.Deterministic("eta", scale * share[group] * x + dev[group], dims="row")   # Mul of three inputs
        pm.Deterministic("x_twice", 2.0 * x, dims="row")                                   # no free variable
        conc = pm.LogNormal("conc", 3.0, 0.5)
        p = pm.math.sigmoid(eta)
        pm.BetaBinomial("yea", n=n, alpha=p * conc, beta=(1 - p) * conc, observed=np.array([4, 11, 20, 2, 5, 3]),
                        dims="row")
    prior = pm.sample_prior_predictive(draws=14, random_seed=3, model=model).prior
    # two chains of seven draws, so that the (chain, draw) order matters
    free = {rv.name: prior[rv.name].values.reshape((2, 7, *prior[rv.name].shape[2:])) for rv in model.free_RVs}
    post = az.from_dict(posterior=free, dims={"dev": ["group"], "share": ["group"]}, coords=coords).posterior
    return model, post


def test_deterministics_equal_pymcs(small):
    model, post = small
    got = compute_deterministics(model, post)
    ref = pm.compute_deterministics(post, model=model, progressbar=False)
    assert set(got.data_vars) == {"eta", "x_twice"}
    for name in ("eta", "x_twice"):
        assert got[name].dims == ref[name].dims == ("chain", "draw", "row")
        np.testing.assert_allclose(got[name].values, ref[name].values, rtol=1e-13, atol=0)
        assert list(got[name]["row"].values) == [f"r{i}" for i in range(6)]
    # the data-only deterministic is the same at every draw
    np.testing.assert_array_equal(got["x_twice"].values[1, 3], 2.0 * np.linspace(-1.0, 1.0, 6))


def test_log_likelihood_equals_pymcs(small):
    model, post = small
    got = compute_log_likelihood(model, post, ["yea"])
    ref = pm.compute_log_likelihood(az.InferenceData(posterior=post), var_names=["yea"], model=model,
                                    progressbar=False, extend_inferencedata=False)
    assert got["yea"].dims == ref["yea"].dims == ("chain", "draw", "row")
    np.testing.assert_allclose(got["yea"].values, ref["yea"].values, rtol=1e-12)
    assert np.all(np.isfinite(got["yea"].values)) and np.ptp(got["yea"].values[:, :, 0]) > 0


def test_slices_of_draws_give_the_same_values(small):
    model, post = small
    fn = DrawFunction(model, lambda m: [m["eta"], m["x_twice"]])
    whole = fn(post, chunk=1000)
    for chunk in (1, 3, 5):                         # slices that do and do not divide the 14 draws
        for a, b in zip(fn(post, chunk=chunk), whole):
            np.testing.assert_array_equal(a, b)
    assert whole[0].shape == (2, 7, 6)


def test_no_product_or_sum_of_more_than_two_inputs_is_left():
    """The Python linker evaluates an n-ary Mul/Add element by element (numpy.frompyfunc); the rewrite
    leaves only binary ones, which NumPy evaluates as ufuncs."""
    from pytensor.scalar import basic as ps
    from pytensor.tensor.elemwise import Elemwise

    with pm.Model() as model:
        a = pm.Normal("a")
        b = pm.Normal("b", shape=3)
        pm.Deterministic("prod", pt.mul(a, b, pt.add(a, b, 1.0), 2.0))        # Elemwise of four and three inputs
    fn = DrawFunction(model, lambda m: [m["prod"]])
    nodes = [n for n in fn.fn.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)
             and isinstance(n.op.scalar_op, (ps.Mul, ps.Add))]
    assert nodes and all(len(n.inputs) == 2 for n in nodes)
    post = az.from_dict(posterior={"a": np.array([[1.0, 2.0]]), "b": np.array([[[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]]])}).posterior
    np.testing.assert_allclose(fn(post)[0][0], [[6.0, 16.0, 30.0], [0.0, 16.0, -8.0]])


def test_a_posterior_without_the_free_variables_is_refused(small):
    model, post = small
    with pytest.raises(KeyError, match="conc"):
        compute_deterministics(model, post.drop_vars("conc"))
