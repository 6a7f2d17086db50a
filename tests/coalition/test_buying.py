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
from bayes_coalition.coalition.spec import load_spec, shipped_spec_path, spec_hash
from bayes_coalition.coalition.vote_model import case_row_probability
from bayes_coalition.data.dataset import load_dataset


def test_close_probability_at_its_boundaries() -> None:
    """b(d) = prob * exp(-(d - 1) / (reach n)) for 1 <= d <= ceil(n / 10), 0 outside (hand-computed: n = 100,
    reach 0.02 -> e-folding every 2 yeas; the largest gap closed is 10)."""
    b = buying.close_probability(np, np.array([-300, 0, 1, 2, 3, 10, 11]), 100, 0.6, 0.02)
    np.testing.assert_allclose(b, [0.0, 0.0, 0.6, 0.6 * np.exp(-0.5), 0.6 * np.exp(-1.0), 0.6 * np.exp(-4.5), 0.0],
                               rtol=1e-12)
    assert buying.max_shortfall(430) == 43 and buying.max_shortfall(100) == 10
    assert np.all(np.isfinite(buying.close_probability(np, np.array([-1e6]), 430, 0.5, 1e-4)))   # no overflow
    # who can be bought: the parties and a row of both; independents never (GROUPS: R, D, I, RD)
    np.testing.assert_array_equal(buying.buyable([0, 1, 2, 3]), [True, True, False, True])


def _mixture_by_hand(r_r, n_r, r_d, n_d, n_total, p_r, p_d, phi, prob, reach, phi_d=None) -> float:
    """log of sum over (k, j), 1 <= k + j <= ceil(n / 10), of b(k + j) h(k, j) BB(r_r - k) BB(r_d - j) /
    (BB(r_r) BB(r_d)) with SciPy's beta-binomial and hypergeometric pmfs, term by term (plus 1: no yea bought);
    ``phi_d``: the Democrats' concentration when it differs from the Republicans' ``phi``."""
    phi_d = phi if phi_d is None else phi_d
    bb_r = lambda y: stats.betabinom.pmf(y, n_r, p_r * phi, (1 - p_r) * phi)
    bb_d = lambda y: stats.betabinom.pmf(y, n_d, p_d * phi_d, (1 - p_d) * phi_d)
    total = 1.0
    for k in range(r_r + 1):
        for j in range(r_d + 1):
            d = k + j
            if not 1 <= d <= np.ceil(n_total / 10):
                continue
            nay_r, nay_d = n_r - r_r + k, n_d - r_d + j
            h = stats.hypergeom.pmf(k, nay_r + nay_d, nay_r, d)
            b = prob * np.exp(-(d - 1) / (reach * n_total))
            total += b * h * bb_r(r_r - k) * bb_d(r_d - j) / (bb_r(r_r) * bb_d(r_d))
    return float(np.log(total))


def _factor(r_r, n_r, r_d, n_d, n_total, p_r, p_d, phi, prob, reach) -> np.ndarray:
    grid = buying.split_grid(np.atleast_1d(r_r), np.atleast_1d(n_r), np.atleast_1d(r_d), np.atleast_1d(n_d),
                             np.atleast_1d(n_total))
    lp = [stats.betabinom.logpmf(buying.shifted_counts(np.atleast_1d(r), np.atleast_1d(n), grid["k"]),
                                 np.atleast_1d(n)[:, None], p * phi, (1 - p) * phi)
          for r, n, p in ((r_r, n_r, p_r), (r_d, n_d, p_d))]
    return buying.log_factor_at_threshold(np, lp[0], lp[1], grid, prob, reach)


@pytest.mark.parametrize(("r_r", "n_r", "r_d", "n_d", "p_r", "p_d", "prob", "reach"), [
    (190, 228, 27, 204, 0.82, 0.10, 0.7, 0.01),      # CAFTA's House vote (217-215): natural count close
    (190, 228, 27, 204, 0.70, 0.08, 0.7, 0.04),      # a natural count well short: the mixture is large
    (52, 54, 8, 46, 0.93, 0.12, 0.4, 0.03),          # a Senate cloture vote at 60
])
def test_factor_at_threshold_matches_scipy(r_r, n_r, r_d, n_d, p_r, p_d, prob, reach) -> None:
    """The at-threshold mixture over the natural party rows against SciPy's pmfs, term by term."""
    got = _factor(r_r, n_r, r_d, n_d, n_r + n_d, p_r, p_d, 100.0, prob, reach)
    assert np.isfinite(got).all()
    assert got[0] == pytest.approx(_mixture_by_hand(r_r, n_r, r_d, n_d, n_r + n_d, p_r, p_d, 100.0, prob, reach),
                                   rel=1e-9)


def test_layer_distribution_sums_to_one() -> None:
    """The observed rows' distribution under the layer is a probability: over every (R, D) count of a small
    vote, the natural pmf above the threshold, times 1 - b(t - y) below it, times the mixture at it, sums to 1
    (the mixture's normalisation is what keeps fits from running away); and the mass at the threshold is the
    natural mass there plus every bought shortfall's."""
    n_r, n_d, p_r, p_d, phi, prob, reach = 30, 25, 0.55, 0.35, 40.0, 0.8, 0.05
    n = n_r + n_d
    t = n // 2 + 1
    yr, yd = np.meshgrid(np.arange(n_r + 1), np.arange(n_d + 1), indexing="ij")
    nat = (stats.betabinom.pmf(yr, n_r, p_r * phi, (1 - p_r) * phi)
           * stats.betabinom.pmf(yd, n_d, p_d * phi, (1 - p_d) * phi))
    total = yr + yd
    obs = np.where(total > t, nat, nat * (1 - buying.close_probability(np, t - total, n, prob, reach)))
    at = np.argwhere(total == t)
    factor = _factor(at[:, 0], np.full(len(at), n_r), at[:, 1], np.full(len(at), n_d), np.full(len(at), n),
                     p_r, p_d, phi, prob, reach)
    obs[at[:, 0], at[:, 1]] = nat[at[:, 0], at[:, 1]] * np.exp(factor)
    assert obs.sum() == pytest.approx(1.0, abs=1e-12)
    b = buying.close_probability(np, t - total, n, prob, reach)
    assert obs[total == t].sum() == pytest.approx(nat[total == t].sum() + (nat * b)[total < t].sum(), abs=1e-12)


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
    assert not bought[short > 44].any()                                 # beyond the largest gap closed (ceil(43.2))
    np.testing.assert_array_equal(buying.buy_votes(rng, y, n_rows, 216, np.zeros(5000), np.full(5000, 0.05)), y)


@pytest.fixture(scope="module")
def buying_model() -> dict:
    md = build_model_data(load_dataset())
    spec = load_spec(shipped_spec_path("trade_coalition_v2"), model={"vote_buying": True})
    model = build_pymc_model(md, spec)
    names = ["vote_buying_below_threshold", "vote_buying_at_threshold", "cut_point", "party_tilt", "ideal_point",
             "faction_share", "concentration", "discrimination", "buying_prob", "buying_reach"]
    fn = model.compile_fn(model.replace_rvs_by_values([model[n] for n in names]), inputs=model.value_vars,
                          on_unused_input="ignore")
    return {"md": md, "spec": spec, "model": model, "fn": fn, "names": names}


@pytest.mark.parametrize("seed", (0, 1))
def test_buying_terms_match_a_numpy_reference(buying_model: dict, seed: int) -> None:
    """Guards the layer's likelihood on the shipped data: votes below their threshold add log(1 - b(t - y)),
    votes exactly at it the log of the mixture over the natural party rows (k Republican and j Democratic yeas
    bought, with the hypergeometric probability of that split), the rows' beta-binomial pmf given the vote's
    natural given its own cut-point and tilt, here re-computed row by row with the model's
    ``case_row_probability`` and SciPy's beta-binomial and hypergeometric pmfs; votes above add nothing."""
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
        n = md.obs_n[rows]
        phi = v["concentration"][md.obs_dispersion_idx[rows]]
        total, y = int(n.sum()), int(md.obs_yea[rows].sum())
        t = int(rules.votes_needed(md.case_threshold[c], ["House", "Senate"][md.case_chamber_idx[c]], total))
        if y < t:
            d = t - y
            b = v["buying_prob"] * np.exp(-(d - 1) / (v["buying_reach"] * total)) if d <= np.ceil(total / 10) else 0.0
            below_lp += np.log1p(-b)
            n_below += 1
        elif y == t:
            g = list(md.obs_group_idx[rows])
            i_r, i_d = g.index(0), g.index(1)           # GROUPS: R, D
            at_lp += _mixture_by_hand(int(md.obs_yea[rows][i_r]), int(n[i_r]), int(md.obs_yea[rows][i_d]), int(n[i_d]),
                                      total, p[i_r], p[i_d], phi[i_r], v["buying_prob"], v["buying_reach"],
                                      phi_d=phi[i_d])
            n_at += 1
    assert n_at >= 3 and n_below >= 2            # the shipped data: votes exactly at the line, held votes that failed
    assert float(v["vote_buying_at_threshold"]) == pytest.approx(at_lp, rel=1e-8)
    assert float(v["vote_buying_below_threshold"]) == pytest.approx(below_lp, rel=1e-8)
    assert at_lp > 0.0 and below_lp < 0.0


def test_buying_off_is_model_v2(buying_model: dict) -> None:
    """Switched off, the layer leaves no trace in the graph, and the spec's id is model v2's."""
    md, on = buying_model["md"], buying_model["model"]
    off = build_pymc_model(md, load_spec(shipped_spec_path("trade_coalition_v2")))
    assert {v.name for v in on.free_RVs} - {v.name for v in off.free_RVs} == {"buying_prob", "buying_reach"}
    assert {v.name for v in off.free_RVs} <= {v.name for v in on.free_RVs}
    assert {p.name for p in on.potentials} - {p.name for p in off.potentials} == {"vote_buying_below_threshold",
                                                                                 "vote_buying_at_threshold"}
    assert not any(name.startswith("buying") for name in off.named_vars)
    plain = load_spec(shipped_spec_path("trade_coalition_v2"))
    assert spec_hash(load_spec(shipped_spec_path("trade_coalition_v2"), model={"vote_buying": False})) == spec_hash(plain)
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
        load_spec(shipped_spec_path("trade_coalition_v2"), model={"vote_buying": "yes"})
    with pytest.raises(ValueError, match="cannot both be on"):
        load_spec(shipped_spec_path("trade_coalition_v2"), model={"vote_buying": True, "agenda_control": True})


def test_sbc_of_the_full_model_with_the_layer_is_refused() -> None:
    md = build_model_data(load_dataset())
    with pytest.raises(NotImplementedError, match="vote-buying"):
        build_pymc_model(md, load_spec(shipped_spec_path("trade_coalition_v2"), model={"vote_buying": True}), mutable_data=True)
