"""The vote-buying layer (coalition/buying.py) against independent references: the rule b(d) at its
boundaries by hand, the likelihood factor against SciPy's normal density, the predictive P(carries) against
simulation through ``buy_votes``, and the likelihood's terms re-computed in NumPy on the shipped data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayes_coalition.coalition import buying, rules
from bayes_coalition.coalition.graph import build_pymc_model
from bayes_coalition.coalition.model_data import build_model_data
from bayes_coalition.coalition.spec import default_spec_path, load_spec, spec_hash
from bayes_coalition.coalition.vote_model import case_row_probability
from bayes_coalition.data.dataset import load_dataset


def test_close_probability_at_its_boundaries() -> None:
    """b(d) = prob * exp(-(d - 1) / (reach n)) for 1 <= d <= ceil(n / 4), 0 outside (hand-computed: n = 100,
    reach 0.02 -> e-folding every 2 yeas; the largest gap closed is 25)."""
    b = buying.close_probability(np, np.array([-300, 0, 1, 2, 3, 25, 26]), 100, 0.6, 0.02)
    np.testing.assert_allclose(b, [0.0, 0.0, 0.6, 0.6 * np.exp(-0.5), 0.6 * np.exp(-1.0), 0.6 * np.exp(-12.0), 0.0],
                               rtol=1e-12)
    assert buying.max_shortfall(430) == 108 and buying.max_shortfall(100) == 25
    assert np.all(np.isfinite(buying.close_probability(np, np.array([-1e6]), 430, 0.5, 1e-4)))   # no overflow


@pytest.mark.parametrize(("thr", "mean", "sd", "n", "prob", "reach"), [
    (216, 210.0, 12.0, 430, 0.7, 0.01),      # natural count just short: the factor is large
    (216, 240.0, 12.0, 430, 0.7, 0.01),      # natural count well above: the factor is near 1
    (60, 57.0, 3.0, 100, 0.4, 0.03),         # a Senate cloture vote
    (216, 80.0, 5.0, 430, 0.5, 0.01),        # far in the tail: log space must not overflow
])
def test_factor_at_threshold_matches_scipy(thr, mean, sd, n, prob, reach) -> None:
    """log(1 + sum_d b(d) f(t - d) / f(t)) with f SciPy's normal density, gap by gap."""
    d = np.arange(1, buying.max_shortfall(n) + 1)
    b = prob * np.exp(-(d - 1) / (reach * n))
    log_ratio = stats.norm.logpdf(thr - d, mean, sd) - stats.norm.logpdf(thr, mean, sd)
    expected = np.logaddexp.reduce(np.concatenate([[0.0], np.log(b) + log_ratio]))
    grid, mask = buying.shortfall_grid(np.array([n, 30]))      # padded beside a shorter vote
    got = buying.log_factor_at_threshold(np, np.array([thr, 10.0]), np.array([mean, 8.0]), np.array([sd**2, 4.0]),
                                         np.array([n, 30.0]), prob, reach, grid, mask)
    assert np.isfinite(got).all()
    assert got[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(("thr", "mean", "sd", "n", "prob", "reach"), [
    (216, 211.0, 8.0, 430, 0.8, 0.01),
    (60, 58.0, 2.5, 100, 0.5, 0.02),
])
def test_bought_probability_matches_simulation(thr, mean, sd, n, prob, reach) -> None:
    """P(carries) = P(y >= t) + sum_d b(d) P(y = t - d) (the predictions) equals the share of replicates that
    carry after ``buy_votes`` (the simulations) when the natural count is a rounded normal, to Monte Carlo
    error; every bought replicate lands exactly on the threshold."""
    rng = np.random.default_rng(3)
    S = 200_000
    y = np.clip(np.rint(rng.normal(mean, sd, S)), 0, n).astype(np.int64)
    after = buying.buy_votes(rng, y[:, None], np.array([n]), thr, np.full(S, prob), np.full(S, reach))[:, 0]
    natural = stats.norm.sf((thr - 0.5 - mean) / sd)
    predicted = natural + buying.bought_probability(mean, sd**2, thr, n, prob, reach)
    simulated = (after >= thr).mean()
    assert predicted > natural + 0.1
    assert simulated == pytest.approx(predicted, abs=4 * np.sqrt(predicted * (1 - predicted) / S))
    changed = after != y
    assert np.all(after[changed] == thr) and np.all(y[changed] < thr)
    assert np.all(after[y >= thr] == y[y >= thr])


def test_buy_votes_takes_the_yeas_from_the_nays() -> None:
    """Bought yeas come from the rows' nays: no row ever exceeds its members, the total lands on the threshold,
    rows with no nays get none; with prob 0 nothing moves."""
    rng = np.random.default_rng(0)
    n_rows = np.array([200, 230, 2])
    y = np.column_stack([rng.integers(60, 200, 5000), rng.integers(20, 40, 5000), np.full(5000, 2)])
    after = buying.buy_votes(rng, y, n_rows, 216, np.full(5000, 1.0), np.full(5000, 0.05))
    short = 216 - y.sum(axis=1)
    bought = after.sum(axis=1) != y.sum(axis=1)
    assert bought.any() and (~bought).any()
    assert np.all(after.sum(axis=1)[bought] == 216)
    assert np.all(after <= n_rows) and np.all(after >= y)
    assert np.all(after[:, 2] == 2)
    np.testing.assert_array_equal(after[short <= 0], y[short <= 0])      # at or above the line: untouched
    assert np.all(bought[short == 1])                                    # prob 1: b(1) = 1
    assert not bought[short > 108].any()                                 # beyond the largest gap closed
    np.testing.assert_array_equal(buying.buy_votes(rng, y, n_rows, 216, np.zeros(5000), np.full(5000, 0.05)), y)


@pytest.fixture(scope="module")
def buying_model() -> dict:
    md = build_model_data(load_dataset())
    spec = load_spec(default_spec_path(), model={"vote_buying": True})
    model = build_pymc_model(md, spec)
    names = ["vote_buying_below_threshold", "vote_buying_at_threshold", "cut_point", "party_tilt", "ideal_point",
             "faction_share", "concentration", "discrimination", "buying_prob", "buying_reach"]
    fn = model.compile_fn(model.replace_rvs_by_values([model[n] for n in names]), inputs=model.value_vars,
                          on_unused_input="ignore")
    return {"md": md, "spec": spec, "model": model, "fn": fn, "names": names}


@pytest.mark.parametrize("seed", (0, 1))
def test_buying_terms_match_a_numpy_reference(buying_model: dict, seed: int) -> None:
    """Guards the layer's likelihood on the shipped data: votes below their threshold add log(1 - b(t - y)),
    votes exactly at it log(1 + sum_d b(d) f(t - d) / f(t)) with f the normal density of the vote's natural
    count given its own cut-point and tilt, here re-computed row by row with the model's
    ``case_row_probability`` and SciPy; votes above add nothing."""
    md = buying_model["md"]
    rng = np.random.default_rng(seed)
    point = {k: val + rng.normal(0.0, 0.3, size=np.shape(val)) for k, val in buying_model["model"].initial_point().items()}
    v = dict(zip(buying_model["names"], buying_model["fn"](point)))
    held = np.flatnonzero(md.case_floor == rules.HELD)
    below_lp, at_lp, n_at, n_below = 0.0, 0.0, 0, 0
    for c in held:
        rows = np.flatnonzero(md.obs_case_idx == c)
        p = case_row_probability(np, cut_point=v["cut_point"], party_tilt=v["party_tilt"], md=md,
                                 case_idx=md.obs_case_idx[rows], group_idx=md.obs_group_idx[rows],
                                 mix_idx=md.mix_obs_idx[rows], faction_position=v["ideal_point"][md.faction_actor_idx],
                                 faction_share=v["faction_share"], mix_share=md.mix_share,
                                 discrimination=v["discrimination"])
        n = md.obs_n[rows].astype(float)
        phi = v["concentration"][md.obs_dispersion_idx[rows]]
        mean, var = np.sum(n * p), np.sum(n * p * (1 - p) * (n + phi) / (1 + phi))
        total, y = int(n.sum()), int(md.obs_yea[rows].sum())
        t = int(rules.votes_needed(md.case_threshold[c], ["House", "Senate"][md.case_chamber_idx[c]], total))
        d = np.arange(1, int(np.ceil(total / 4)) + 1)
        b = v["buying_prob"] * np.exp(-(d - 1) / (v["buying_reach"] * total))
        if y < t:
            below_lp += np.log1p(-(b[t - y - 1] if t - y <= len(d) else 0.0))
            n_below += 1
        elif y == t:
            ratio = stats.norm.pdf(t - d, mean, np.sqrt(var)) / stats.norm.pdf(t, mean, np.sqrt(var))
            at_lp += np.log1p(np.sum(b * ratio))
            n_at += 1
    assert n_at >= 3 and n_below >= 2            # the shipped data: votes exactly at the line, held votes that failed
    assert float(v["vote_buying_at_threshold"]) == pytest.approx(at_lp, rel=1e-8)
    assert float(v["vote_buying_below_threshold"]) == pytest.approx(below_lp, rel=1e-8)
    assert at_lp > 0.0 and below_lp < 0.0


def test_buying_off_is_model_v2(buying_model: dict) -> None:
    """Switched off, the layer leaves no trace in the graph, and the spec's id is model v2's."""
    md, on = buying_model["md"], buying_model["model"]
    off = build_pymc_model(md, load_spec(default_spec_path()))
    assert {v.name for v in on.free_RVs} - {v.name for v in off.free_RVs} == {"buying_prob", "buying_reach"}
    assert {v.name for v in off.free_RVs} <= {v.name for v in on.free_RVs}
    assert {p.name for p in on.potentials} - {p.name for p in off.potentials} == {"vote_buying_below_threshold",
                                                                                 "vote_buying_at_threshold"}
    assert not any(name.startswith("buying") for name in off.named_vars)
    plain = load_spec(default_spec_path())
    assert spec_hash(load_spec(default_spec_path(), model={"vote_buying": False})) == spec_hash(plain)
    assert spec_hash(buying_model["spec"]) != spec_hash(plain)


def test_weight_zero_takes_a_vote_out_of_the_buying_layer(buying_model: dict) -> None:
    """In the backtest's weighted model a vote of weight 0 adds nothing to the layer."""
    md = buying_model["md"]
    weighted = build_pymc_model(md, buying_model["spec"], weighted=True)
    names = ["vote_buying_below_threshold", "vote_buying_at_threshold"]
    fn = weighted.compile_fn(weighted.replace_rvs_by_values([weighted[n] for n in names]),
                             inputs=weighted.value_vars, on_unused_input="ignore")
    point = weighted.initial_point()
    full = [float(x) for x in fn(point)]
    weighted["obs_weight"].set_value(np.zeros(len(md.obs_n)))
    assert [float(x) for x in fn(point)] == [0.0, 0.0]
    assert full[0] != 0.0 and full[1] != 0.0


def test_spec_switch_is_checked() -> None:
    with pytest.raises(ValueError, match="vote_buying must be true or false"):
        load_spec(default_spec_path(), model={"vote_buying": "yes"})
    with pytest.raises(ValueError, match="cannot both be on"):
        load_spec(default_spec_path(), model={"vote_buying": True, "agenda_control": True})


def test_sbc_of_the_full_model_with_the_layer_is_refused() -> None:
    md = build_model_data(load_dataset())
    with pytest.raises(NotImplementedError, match="vote-buying"):
        build_pymc_model(md, load_spec(default_spec_path(), model={"vote_buying": True}), mutable_data=True)
