"""Parameter recovery (slow): simulate votes from the model with known parameters and refit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bayes_coalition import CoalitionModel
from bayes_coalition.coalition.predictive import draw_arrays, simulate

pytestmark = pytest.mark.slow


def test_parameters_are_recovered_inside_their_90_percent_intervals():
    base = CoalitionModel(spec={"data": {"exclude_cases": ["ft1997_h_whip"]}})
    truth = base.sample_prior_predictive(draws=1, random_seed=12345).prior
    truth_arrays = draw_arrays(truth, base.model_data, base.discrimination)
    sim = simulate(truth_arrays, base.model_data, seed=54321)

    model = CoalitionModel(spec={"data": {"exclude_cases": ["ft1997_h_whip"]}})
    model.model_data = dataclasses.replace(model.model_data, obs_yea=sim["obs_yea"][0].astype(int))
    with _no_fail():
        model.fit(random_seed=7, draws=500, tune=1000, chains=2, progressbar=False, log_likelihood=False)
    post = model.idata.posterior

    def coverage(name, index=None):
        t = truth[name].values.reshape(-1) if index is None else truth[name].values[0, 0][index]
        d = post[name].values.reshape(-1, *post[name].shape[2:])
        d = d.reshape(d.shape[0], -1) if index is None else d[:, index]
        lo, hi = np.quantile(d, [0.05, 0.95], axis=0)
        return (t >= lo) & (t <= hi)

    factions = model.model_data.faction_actor_idx
    checks = {
        "faction ideal points": coverage("ideal_point", factions),
        "case cut-points": coverage("cut_point"),
        "party tilts": coverage("party_tilt"),
        "faction shares": coverage("faction_share"),
    }
    for name, inside in checks.items():
        # 90% intervals: allow the binomial slack of a 90% coverage rate
        assert inside.mean() >= 0.75, f"{name}: {inside.mean():.0%} of true values inside their 90% intervals"
    assert checks["faction ideal points"].sum() >= 3


class _no_fail:
    """Convergence warnings are reported by the fit; recovery is judged on coverage."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
