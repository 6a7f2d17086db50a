"""bayes_coalition/sampling.py: a fit whose chains ran as separate tasks is merged back into one InferenceData."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from bayes_coalition.sampling import merge_chains, resolve_sampler


def _chain(seed: int, draws: int = 5):
    rng = np.random.default_rng(seed)
    idata = az.from_dict(posterior={"mu": rng.normal(size=(1, draws)), "theta": rng.normal(size=(1, draws, 3))},
                         sample_stats={"diverging": rng.random((1, draws)) < 0.3})
    idata.posterior.attrs["free_variables"] = "mu,theta"
    return idata


def test_merge_chains_stacks_the_chains_in_order():
    parts = [(_chain(1), 2.5), (_chain(2), 4.0), (_chain(3), 1.0)]
    merged, seconds = merge_chains(parts)
    assert seconds == 7.5
    assert merged.posterior.sizes == {"chain": 3, "draw": 5, "theta_dim_0": 3}
    assert list(merged.posterior.chain.values) == [0, 1, 2]
    for c, (part, _) in enumerate(parts):
        np.testing.assert_array_equal(merged.posterior["theta"].values[c], part.posterior["theta"].values[0])
        np.testing.assert_array_equal(merged.sample_stats["diverging"].values[c], part.sample_stats["diverging"].values[0])
    assert merged.posterior.attrs["free_variables"] == "mu,theta"
    # the convergence statistics see three chains: R-hat of three identical chains is not defined by one
    assert az.rhat(merged.posterior)["mu"].size == 1


def test_an_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="sampler must be one of"):
        resolve_sampler("gibbs")


def test_chain_gather_returns_a_fit_when_its_last_chain_arrives():
    from bayes_coalition.sampling import ChainGather

    gather = ChainGather(2)
    assert gather.add("a", 1, (_chain(2), 1.0)) is None             # chains arrive in any order, fits interleave
    assert gather.add("b", 0, (_chain(3), 5.0)) is None
    merged, seconds = gather.add("a", 0, (_chain(1), 2.0))
    assert seconds == 3.0 and merged.posterior.sizes["chain"] == 2
    np.testing.assert_array_equal(merged.posterior["mu"].values[0], _chain(1).posterior["mu"].values[0])
    np.testing.assert_array_equal(merged.posterior["mu"].values[1], _chain(2).posterior["mu"].values[0])
    assert gather.add("a", 0, (_chain(4), 1.0)) is None             # a new attempt of "a" starts afresh
