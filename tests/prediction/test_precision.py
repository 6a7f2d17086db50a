"""Monte Carlo precision of bill predictions on a real posterior (tests/fixtures/real_run: a thinned
copy of the default fit, 4 chains x 50 draws; scripts/make_test_run.py writes it).

The numbers ``predict`` and the drivers print must not change with the seed beyond the Monte Carlo
standard error they state."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bayes_coalition import CoalitionModel, load_bill
from bayes_coalition.prediction.predict import decimals
from tests.helpers import REPO

SEEDS = (0, 1, 2)
# two estimates of one quantity from independent seeds differ by N(0, mcse_a^2 + mcse_b^2): 3.5
# standard deviations bound all three pairs with probability above 0.998
Z = 3.5


@pytest.fixture(scope="module")
def real():
    return CoalitionModel.load(REPO / "tests" / "fixtures" / "real_run", groups=("posterior",))


@pytest.fixture(scope="module")
def runs(real):
    bill = load_bill(REPO / "bills" / "hypothetical_2027.toml")
    return {s: (real.predict(bill, seed=s), real.drivers(bill, seed=s)) for s in SEEDS}


def test_probabilities_agree_across_seeds_to_their_stated_precision(runs):
    for key in ("p_house", "p_senate", "p_enacted"):
        for a, b in itertools.combinations(SEEDS, 2):
            pa, pb = runs[a][0][key], runs[b][0][key]
            assert abs(float(pa) - float(pb)) <= Z * np.hypot(pa.attrs["mcse"], pb.attrs["mcse"]), (key, a, b)
            assert 0 < pa.attrs["mcse"] < 0.05


def test_the_top_driver_agrees_across_seeds(runs):
    """Each seed's top driver has, under every other seed, an effect that agrees with its own to the
    stated precision, and the largest effect of each seed agrees with the others' (which indicator
    comes first among effects tied at 2 MCSE is Monte Carlo noise, so the CLI marks the tied group)."""
    for a, b in itertools.permutations(SEEDS, 2):
        da, db = runs[a][1].set_index("indicator"), runs[b][1].set_index("indicator")
        top = da.index[0]
        assert da.loc[top, "ranked"] and da.loc[top, "tied_with_top"]
        assert abs(da.loc[top, "effect"] - db.loc[top, "effect"]) <= Z * np.hypot(
            da.loc[top, "effect_mcse"], db.loc[top, "effect_mcse"]), (a, b, top)
        top_b = db.index[0]
        assert abs(abs(da.loc[top, "effect"]) - abs(db.loc[top_b, "effect"])) <= Z * np.hypot(
            da.loc[top, "effect_mcse"], db.loc[top_b, "effect_mcse"])


def test_drivers_within_two_mcse_of_zero_are_not_ranked(runs):
    d = runs[0][1]
    noise = np.abs(d["effect"]) <= 2 * d["effect_mcse"]
    assert (d.loc[noise, "ranked"] == False).all() and (d.loc[~noise, "ranked"] == True).all()  # noqa: E712
    assert list(d["ranked"]) == sorted(d["ranked"], reverse=True)          # ranked rows come first


def test_decimals_follow_the_mcse():
    assert [decimals(m) for m in (0.3, 0.08, 0.008, 0.0004, 1e-9, 0.0)] == [1, 1, 2, 3, 4, 4]


def test_actor_positions_of_a_bill_move_what_they_should(real):
    """[actors] president = {position = ...}: the President does not vote, so P(House) stays; a
    President against a pro-trade bill vetoes it, so P(enacted) falls to the override probability.
    Moving a legislative faction moves the vote itself."""
    from dataclasses import replace

    bill = load_bill(REPO / "bills" / "hypothetical_2027.toml")
    base = real.predict(bill, seed=0)
    against = real.predict(replace(bill, actor_positions={"president": ("set", -2.0)}), seed=0)
    favour = real.predict(replace(bill, actor_positions={"president": ("set", 2.0)}), seed=0)
    assert float(against["p_house"]) == float(base["p_house"]) == float(favour["p_house"])
    assert float(against["p_enacted"]) < float(base["p_enacted"]) <= float(favour["p_enacted"])
    # a veto leaves only the override: both chambers at two thirds, far less likely than passing
    assert float(against["p_enacted"]) < 0.5 * float(base["p_enacted"])
    moderates_leave = real.predict(replace(bill, actor_positions={"dem_moderate": ("shift", -1.5)}), seed=0)
    assert float(moderates_leave["p_house"]) < float(base["p_house"]) - 5 * base["p_house"].attrs["mcse"]


def test_congress_tilt_steps_the_walk_beyond_the_fitted_range(real):
    """Inside the fitted Congresses a bill takes the walk's draw; k Congresses beyond the last it continues the
    walk: per draw, the last fitted value plus sigma_step * sqrt(k) * N(0, 1) (standardised residuals: mean 0,
    sd 1 within sampling error over the fixture's 200 draws, many times over)."""
    from bayes_coalition.prediction.predictor import BillPredictor

    pred = BillPredictor(real)
    post = real.idata.posterior
    walk = post["congress_tilt"].values.reshape(-1, post.sizes["congress"])
    step = post["sigma_congress_tilt_step"].values.reshape(-1)
    first, last = int(post["congress"].values[0]), int(post["congress"].values[-1])
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(pred.congress_tilt(first + 3, rng), walk[:, 3])
    k = 4
    z = np.concatenate([(pred.congress_tilt(last + k, rng) - walk[:, -1]) / (step * np.sqrt(k)) for _ in range(50)])
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) and abs(z.std() - 1) < 0.05
    z = np.concatenate([(pred.congress_tilt(first - k, rng) - walk[:, 0]) / (step * np.sqrt(k)) for _ in range(50)])
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) and abs(z.std() - 1) < 0.05


def test_faction_shares_by_congress_step_the_walk_beyond_the_fitted_range(real):
    """Static shares are the draws' own (no random numbers used); shares by Congress (model.faction_shares =
    "congress") are the walk's draw inside the fitted Congresses, and k Congresses beyond the last each faction's
    log share ratio to its party's first faction moves by faction_share_step * sqrt(k) * N(0, 1) per draw
    (standardised residuals: mean 0, sd 1), the shares summing to 1 within each party."""
    from bayes_coalition.prediction.predictor import BillPredictor

    pred = BillPredictor(real)
    md = real.model_data
    first, last = md.coords["congress"][0], md.coords["congress"][-1]
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    np.testing.assert_array_equal(pred.faction_share(last + 2, rng), pred.arrays["faction_share"])
    assert rng.bit_generator.state == state
    S, C = pred.n_samples, len(md.coords["congress"])
    gen = np.random.default_rng(1)
    weight = pred.arrays["faction_share"][:, None, :] * np.exp(gen.normal(0.0, 0.4, (S, C, len(md.faction_party))))
    for party in ("R", "D"):
        idx = np.flatnonzero(md.faction_party == party)
        weight[:, :, idx] /= weight[:, :, idx].sum(axis=2, keepdims=True)
    pred.arrays["faction_share_congress"] = weight
    step = gen.gamma(2.0, 0.125, S)
    pred.p["faction_share_step"] = step
    np.testing.assert_array_equal(pred.faction_share(first + 3, rng), weight[:, 3])
    k = 4
    for congress, edge in ((last + k, -1), (first - k, 0)):
        z = []
        for _ in range(50):
            share = pred.faction_share(congress, rng)
            for party in ("R", "D"):
                idx = np.flatnonzero(md.faction_party == party)
                np.testing.assert_allclose(share[:, idx].sum(axis=1), 1.0, rtol=1e-12)
                ratio = np.log(share[:, idx[1]] / share[:, idx[0]])
                z.append((ratio - np.log(weight[:, edge, idx[1]] / weight[:, edge, idx[0]])) / (step * np.sqrt(k)))
        z = np.concatenate(z)
        assert abs(z.mean()) < 4 / np.sqrt(len(z)) and abs(z.std() - 1) < 0.05


@pytest.mark.parametrize("form", ("normal", "student_t"))
def test_a_new_votes_tilt_deviation_follows_the_spec(real, form):
    """A new vote's party-tilt deviation, standardised by its draw's sigma_party_tilt, is N(0, 1), or Student-t
    with party_tilt_df degrees of freedom under model.party_tilt = "student_t" (the graph's Gamma scale mixture
    drawn from its prior): Kolmogorov-Smirnov against SciPy's distribution over 10,000 deviations, and against the
    other form (the two must be told apart)."""
    import copy
    import types

    from scipy import stats

    from bayes_coalition.prediction.predictor import BillPredictor

    pred = BillPredictor(real)
    spec = copy.deepcopy(real.spec)
    spec["model"]["party_tilt"] = form
    spec["priors"]["party_tilt_df"] = 3.0
    pred.model = types.SimpleNamespace(spec=spec)
    sigma = real.idata.posterior["sigma_party_tilt"].values.reshape(-1)
    rng = np.random.default_rng(5)
    z = np.concatenate([pred.tilt_deviation(rng) / sigma for _ in range(50)])
    right, wrong = (stats.norm(), stats.t(3.0)) if form == "normal" else (stats.t(3.0), stats.norm())
    assert stats.kstest(z, right.cdf).pvalue > 0.01
    assert stats.kstest(z, wrong.cdf).pvalue < 1e-6
