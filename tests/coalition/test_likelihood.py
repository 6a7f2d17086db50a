"""Likelihood terms of the coalition model against independent references (SciPy, hand computation).

The model is built once on the shipped data; its terms are evaluated at jittered points of the
unconstrained space and compared with SciPy's beta-binomial and logistic functions evaluated at
the same constrained values.  All arithmetic is float64 (PyTensor's floatX here), so values agree
to rounding: the tolerances below leave a margin of about 1e3 over double-precision error
accumulated over a few hundred terms (logsumexp vs. summed pmf, lgamma identities).
"""

from __future__ import annotations

import math

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import special, stats

from bayes_coalition.coalition.graph import build_pymc_model
from bayes_coalition.coalition.model_data import ModelData, build_model_data
from bayes_coalition.coalition.spec import default_spec_path, load_spec
from bayes_coalition.coalition.vote_model import EPS, case_row_probability, yea_probability
from bayes_coalition.data.dataset import load_dataset

# relative tolerance of model logp vs SciPy (see module docstring); absolute 1e-9 for values near 0
RTOL, ATOL = 1e-9, 1e-9
SEEDS = (0, 1, 2)
JITTER_SD = 0.3  # on the unconstrained scale: moves every parameter off its initial value, stays in a plausible region

CONSTRAINED = ["cut_point", "party_tilt", "ideal_point", "faction_share", "concentration",
               "republican_share", "loading", "construct_latent", "indicator_cuts_3"]


@pytest.fixture(scope="module")
def built() -> dict:
    """The model on the shipped data, one compiled function of every term and the constrained values."""
    md = build_model_data(load_dataset())
    spec = load_spec(default_spec_path())
    model = build_pymc_model(md, spec)
    names = [n for n in CONSTRAINED if n in model.named_vars]
    terms = [model["interval_yea"]] + model.logp(vars=[model["yea"], model["code_3_levels"]], sum=False)
    outs = model.replace_rvs_by_values(terms + [model[n] for n in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    return {"md": md, "spec": spec, "model": model, "fn": fn, "names": names}


def _evaluate(built: dict, seed: int) -> dict:
    """All terms and constrained values at the initial point jittered with a seeded rng."""
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0.0, JITTER_SD, size=np.shape(v)) for k, v in built["model"].initial_point().items()}
    interval, yea, code, *values = built["fn"](point)
    out = dict(zip(built["names"], values))
    out.update(interval=float(interval), yea=yea, code=code)
    return out


def _row_p(built: dict, v: dict, *, interval: bool) -> np.ndarray:
    """Yea probability of each point or interval row at the evaluated values (NumPy backend)."""
    md: ModelData = built["md"]
    return case_row_probability(
        np, cut_point=v["cut_point"], party_tilt=v["party_tilt"], md=md,
        case_idx=md.int_case_idx if interval else md.obs_case_idx,
        group_idx=md.int_group_idx if interval else md.obs_group_idx,
        mix_idx=md.mix_int_idx if interval else md.mix_obs_idx,
        faction_position=v["ideal_point"][md.faction_actor_idx], faction_share=v["faction_share"],
        mix_share=v.get("republican_share", np.zeros(0)),
        discrimination=float(built["spec"]["identification"]["discrimination"]),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_interval_term_is_the_beta_binomial_mass_between_the_bounds(built: dict, seed: int) -> None:
    """Guards against a dropped or shifted bound, a swapped alpha/beta, or a wrong concentration
    in the whip-count term: log P(lower <= yea <= upper) under BetaBinomial(n, p*phi, (1-p)*phi)."""
    md = built["md"]
    v = _evaluate(built, seed)
    p = _row_p(built, v, interval=True)
    phi = v["concentration"][md.case_chamber_idx[md.int_case_idx]]
    expected = 0.0
    for i in range(len(md.int_n)):
        k = np.arange(md.int_lower[i], md.int_upper[i] + 1)
        expected += math.log(stats.betabinom.pmf(k, md.int_n[i], p[i] * phi[i], (1 - p[i]) * phi[i]).sum())
    assert v["interval"] == pytest.approx(expected, rel=RTOL, abs=ATOL)


def test_interval_term_depends_on_both_bounds(built: dict) -> None:
    """The jittered points are ones where the upper tail matters: a test that dropped the upper bound
    (mass from lower to n) or the lower one (0 to upper) would differ from the interval mass by far
    more than the tolerance, so the comparison above can see either mistake."""
    md = built["md"]
    v = _evaluate(built, SEEDS[0])
    p = _row_p(built, v, interval=True)
    phi = v["concentration"][md.case_chamber_idx[md.int_case_idx]]
    a, b, n = p * phi, (1 - p) * phi, md.int_n
    inside = np.log(stats.betabinom.cdf(md.int_upper, n, a, b) - stats.betabinom.cdf(md.int_lower - 1, n, a, b)).sum()
    no_upper = np.log(stats.betabinom.sf(md.int_lower - 1, n, a, b)).sum()
    no_lower = np.log(stats.betabinom.cdf(md.int_upper, n, a, b)).sum()
    assert v["interval"] == pytest.approx(inside, rel=1e-8)
    assert abs(no_upper - inside) > 1e-3 and abs(no_lower - inside) > 1e-3


@pytest.mark.parametrize("seed", SEEDS)
def test_point_rows_are_beta_binomial(built: dict, seed: int) -> None:
    """Guards against a wrong n, a swapped alpha/beta or the wrong chamber's concentration in the point rows."""
    md = built["md"]
    v = _evaluate(built, seed)
    p = _row_p(built, v, interval=False)
    phi = v["concentration"][md.case_chamber_idx[md.obs_case_idx]]
    expected = stats.betabinom.logpmf(md.obs_yea, md.obs_n, p * phi, (1 - p) * phi)
    assert v["yea"].shape == expected.shape
    np.testing.assert_allclose(v["yea"], expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_indicator_codes_are_ordered_logistic(built: dict, seed: int) -> None:
    """Guards against a wrong loading sign, latent index or cut-point order in the measurement model:
    P(level k) = expit(eta - c_{k-1}) - expit(eta - c_k), c_{-1} = -inf, c_K = +inf."""
    md = built["md"]
    v = _evaluate(built, seed)
    items3 = np.flatnonzero(md.item_n_levels == 3)
    assert len(items3) == len(md.item_n_levels)  # the shipped codebook has three-level items only
    pairs = [tuple(int(x) for x in p) for p in np.argwhere(md.construct_observed)]
    expected = []
    for e, item, level in zip(md.code_episode_idx, md.code_item_idx, md.code_level):
        latent = v["construct_latent"][pairs.index((int(e), int(md.item_construct_idx[item])))]
        eta = md.item_direction[item] * v["loading"][item] * latent
        c = np.concatenate([[-np.inf], v["indicator_cuts_3"][np.searchsorted(items3, item)], [np.inf]])
        expected.append(math.log(special.expit(eta - c[level]) - special.expit(eta - c[level + 1])))
    np.testing.assert_allclose(v["code"], expected, rtol=1e-7, atol=1e-9)  # PyMC clips probabilities at ~1e-15


# --- the vote model on a tiny hand case -------------------------------------------------

FACTION_PARTY = np.array(["R", "R", "D", "D"])
POSITION = np.array([[1.0, 0.2, -0.4, -1.2], [0.5, -0.3, 0.1, -2.0]])   # two samples
SHARE = np.array([[0.3, 0.7, 0.6, 0.4], [0.5, 0.5, 0.9, 0.1]])          # within-party shares
CUT = np.array([[0.1, -0.2, 0.3, 0.0, 50.0], [0.4, 0.0, -0.5, 0.2, -50.0]])
TILT = np.array([[0.25, -0.5, 0.1, 0.3, 0.0], [0.0, 0.6, -0.2, 0.4, 0.0]])
POLARITY = np.array([1, -1, 1, -1, -1])
GROUP = np.array([0, 1, 2, 3, 0])           # R, D, I, RD, R (extreme cut-point: clipped)
MIX_SHARE = np.array([[0.25], [0.8]])
MIX_IDX = np.array([-1, -1, -1, 0, -1])
GAMMA = 1.5


def _hand(s: int, r: int) -> float:
    """One sample, one row, from the model's definition with scalar math."""
    c, t = CUT[s, r], TILT[s, r]
    f = []
    for j, party in enumerate(FACTION_PARTY):
        cut = c + t if party == "R" else c - t
        f.append(1.0 / (1.0 + math.exp(-GAMMA * (POSITION[s, j] - cut))))
    p_r = SHARE[s, 0] * f[0] + SHARE[s, 1] * f[1]
    p_d = SHARE[s, 2] * f[2] + SHARE[s, 3] * f[3]
    group = ("R", "D", "I", "RD")[GROUP[r]]
    pro = {"R": p_r, "D": p_d, "I": sum(f) / 4, "RD": MIX_SHARE[s, 0] * p_r + (1 - MIX_SHARE[s, 0]) * p_d}[group]
    p = pro if POLARITY[r] > 0 else 1.0 - pro
    return min(max(p, 1e-9), 1 - 1e-9)


def _inputs(xp) -> dict:
    conv = (lambda a: a) if xp is np else pt.as_tensor
    return {"faction_position": conv(POSITION), "faction_share": conv(SHARE), "cut_point": conv(CUT),
            "party_tilt": conv(TILT), "polarity": POLARITY, "group_idx": GROUP, "mix_share": conv(MIX_SHARE),
            "mix_idx": MIX_IDX, "faction_party": FACTION_PARTY, "discrimination": GAMMA}


def test_yea_probability_matches_the_hand_computation() -> None:
    """Guards against the tilt moving the wrong party, shares applied across parties, the mixture or
    the polarity flip being wrong, or leading sample dims being mixed up."""
    got = yea_probability(np, **_inputs(np))
    expected = np.array([[_hand(s, r) for r in range(CUT.shape[1])] for s in range(CUT.shape[0])])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)  # same float64 formula, rounding only
    # the extreme row is clipped at EPS: polarity -1 and cut +/-50 puts the pro-trade share at ~0 / ~1
    assert EPS == 1e-9 and got[0, 4] == pytest.approx(1 - 1e-9, abs=1e-15) and got[1, 4] == pytest.approx(1e-9, rel=1e-6)


def test_yea_probability_hand_values() -> None:
    """Two values worked out on paper, so the scalar reference above is itself checked.

    Sample 0, row 0 (R, pro-trade yea, cut 0.1, tilt 0.25 -> Republican cut 0.35):
    0.3 * logistic(1.5 * 0.65) + 0.7 * logistic(1.5 * -0.15) = 0.3 * 0.726115 + 0.7 * 0.443986.
    Sample 0, row 1 (D, anti-trade yea, cut -0.2, tilt -0.5 -> Democratic cut 0.3):
    1 - (0.6 * logistic(1.5 * -0.7) + 0.4 * logistic(1.5 * -1.5)) = 1 - (0.6 * 0.259225 + 0.4 * 0.095349)."""
    got = yea_probability(np, **_inputs(np))
    assert got[0, 0] == pytest.approx(0.3 * 0.7261150 + 0.7 * 0.4439861, abs=1e-6)
    assert got[0, 1] == pytest.approx(1 - (0.6 * 0.2592251 + 0.4 * 0.0953495), abs=1e-6)


def test_yea_probability_numpy_and_pytensor_agree() -> None:
    """Guards against the likelihood (PyTensor) and the predictions (NumPy) drifting apart."""
    with_np = yea_probability(np, **_inputs(np))
    with_pt = yea_probability(pt, **_inputs(pt)).eval()
    np.testing.assert_allclose(with_pt, with_np, rtol=1e-12, atol=0)


def test_yea_probability_without_mixed_rows() -> None:
    """Guards against mix_share=None (no RD rows in the data) failing or shifting other rows."""
    kw = _inputs(np)
    rows = [0, 1, 2, 4]
    kw.update(cut_point=CUT[:, rows], party_tilt=TILT[:, rows], polarity=POLARITY[rows], group_idx=GROUP[rows],
              mix_idx=MIX_IDX[rows], mix_share=None)
    expected = np.array([[_hand(s, r) for r in rows] for s in range(2)])
    np.testing.assert_allclose(yea_probability(np, **kw), expected, rtol=1e-13, atol=0)
    kw_pt = {**kw, "faction_position": pt.as_tensor(POSITION), "faction_share": pt.as_tensor(SHARE),
             "cut_point": pt.as_tensor(CUT[:, rows]), "party_tilt": pt.as_tensor(TILT[:, rows])}
    np.testing.assert_allclose(yea_probability(pt, **kw_pt).eval(), expected, rtol=1e-12, atol=0)


def test_floatx_is_double() -> None:
    """The tolerances above assume float64 graphs."""
    assert pytensor.config.floatX == "float64"
