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

from bayes_coalition.coalition import likelihood
from bayes_coalition.coalition.graph import build_pymc_model
from bayes_coalition.coalition.model_data import ModelData, build_model_data
from bayes_coalition.coalition.spec import load_spec, shipped_spec_path
from bayes_coalition.coalition.vote_model import EPS, case_row_probability, mix_groups, slot_probabilities, yea_probability
from bayes_coalition.data.dataset import load_dataset

# relative tolerance of model logp vs SciPy (see module docstring); absolute 1e-9 for values near 0
RTOL, ATOL = 1e-9, 1e-9
SEEDS = (0, 1, 2)
JITTER_SD = 0.3  # on the unconstrained scale: moves every parameter off its initial value, stays in a plausible region

CONSTRAINED = ["cut_point", "party_tilt", "ideal_point", "faction_share", "concentration", "discrimination",
               "whip_bias", "whip_error", "loading", "construct_latent", "indicator_cuts_3"]


@pytest.fixture(scope="module")
def built() -> dict:
    """The model on the shipped data, one compiled function of every term and the constrained values."""
    md = build_model_data(load_dataset())
    spec = load_spec(shipped_spec_path("trade_coalition_v2"))
    model = build_pymc_model(md, spec)
    names = [n for n in CONSTRAINED if n in model.named_vars]
    terms = [model["whip_count"]] + model.logp(vars=[model["yea"], model["code_3_levels"]], sum=False)
    outs = model.replace_rvs_by_values(terms + [model[n] for n in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    return {"md": md, "spec": spec, "model": model, "fn": fn, "names": names}


def _evaluate(built: dict, seed: int) -> dict:
    """All terms and constrained values at the initial point jittered with a seeded rng."""
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0.0, JITTER_SD, size=np.shape(v)) for k, v in built["model"].initial_point().items()}
    whip, yea, code, *values = built["fn"](point)
    out = dict(zip(built["names"], values))
    out.update(whip=float(whip), yea=yea, code=code)
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
        mix_share=md.mix_share, discrimination=v["discrimination"],
    )


def _phi(md: ModelData, v: dict, case_idx, group_idx) -> np.ndarray:
    """The over-dispersion of each row by hand: chamber x (R, D, other) in the order of coords["dispersion"]."""
    labels = [f"{md.coords['chamber'][md.case_chamber_idx[c]]}:{ {0: 'R', 1: 'D'}.get(int(g), 'other')}"
              for c, g in zip(case_idx, group_idx)]
    return np.array([v["concentration"][md.coords["dispersion"].index(lab)] for lab in labels])


@pytest.mark.parametrize("seed", SEEDS)
def test_whip_count_is_a_noisy_measurement_of_the_count(built: dict, seed: int) -> None:
    """Guards against a dropped bias or error term, a wrong middle or width, or a wrong count distribution
    in the whip-count term: log sum_y BetaBinomial(y | n, p, phi) Normal(middle | y + bias, sd),
    sd^2 = error^2 + width^2 / 12, summed over the 1997 party rows (SciPy)."""
    md = built["md"]
    v = _evaluate(built, seed)
    assert md.int_whip.all() and len(md.int_n) == 2          # the 1997 whip count's R and D rows
    p = _row_p(built, v, interval=True)
    phi = _phi(md, v, md.int_case_idx, md.int_group_idx)
    expected = 0.0
    for i in range(len(md.int_n)):
        y = np.arange(md.int_n[i] + 1)
        middle = (md.int_lower[i] + md.int_upper[i]) / 2
        sd = math.sqrt(v["whip_error"] ** 2 + (md.int_upper[i] - md.int_lower[i]) ** 2 / 12)
        mass = stats.betabinom.pmf(y, md.int_n[i], p[i] * phi[i], (1 - p[i]) * phi[i]) * stats.norm.pdf(middle, y + v["whip_bias"], sd)
        expected += math.log(mass.sum())
    assert v["whip"] == pytest.approx(expected, rel=RTOL, abs=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_point_rows_are_beta_binomial(built: dict, seed: int) -> None:
    """Guards against a wrong n, a swapped alpha/beta, the wrong vote type's discrimination or the wrong
    chamber's or party's concentration in the point rows."""
    md = built["md"]
    v = _evaluate(built, seed)
    p = _row_p(built, v, interval=False)
    phi = _phi(md, v, md.obs_case_idx, md.obs_group_idx)
    expected = stats.betabinom.logpmf(md.obs_yea, md.obs_n, p * phi, (1 - p) * phi)
    assert v["yea"].shape == expected.shape
    np.testing.assert_allclose(v["yea"], expected, rtol=RTOL, atol=ATOL)
    assert np.ptp(v["discrimination"]) > 0.01 and np.ptp(v["concentration"]) > 0.01   # the jitter separates them


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


# --- the likelihood pieces on their own, against SciPy -------------------------------------

N = np.array([228, 205, 60, 9])
P = np.array([0.71, 0.18, 0.5, 0.93])
PHI = np.array([40.0, 120.0, 7.5, 300.0])
LOWER = np.array([160, 32, 0, 8])
UPPER = np.array([170, 45, 3, 9])


def _reference_interval(lower, upper) -> np.ndarray:
    return np.array([math.log(stats.betabinom.pmf(np.arange(lo, hi + 1), n, p * f, (1 - p) * f).sum())
                     for n, p, f, lo, hi in zip(N, P, PHI, lower, upper)])


def test_interval_logp_is_the_mass_between_both_bounds() -> None:
    """Guards against a dropped or shifted bound: log P(lower <= Y <= upper) for each row, and the
    rows chosen so that dropping either bound moves the value by far more than the tolerance."""
    got = likelihood.interval_logp(N, pt.as_tensor(P), pt.as_tensor(PHI), LOWER, UPPER).eval()
    np.testing.assert_allclose(got, _reference_interval(LOWER, UPPER), rtol=RTOL, atol=ATOL)
    no_upper = _reference_interval(LOWER, N)
    no_lower = _reference_interval(np.zeros_like(LOWER), UPPER)
    assert np.all(np.abs(no_upper - got)[:3] > 1e-3) and np.all(np.abs(no_lower - got)[:2] > 1e-3)


def test_sum_logp_is_the_convolution_of_two_party_counts() -> None:
    """Guards against the two-party total being scored as one count (or with the wrong group sizes):
    P(lower <= Y_R + Y_D <= upper) by brute-force convolution of SciPy's beta-binomial pmfs."""
    n_r, n_d = np.array([120, 10, 30]), np.array([95, 40, 0])
    p_r, p_d = np.array([0.8, 0.3, 0.6]), np.array([0.2, 0.55, 0.4])
    f_r, f_d = np.array([50.0, 8.0, 20.0]), np.array([90.0, 15.0, 5.0])
    lower, upper = np.array([110, 17, 18]), np.array([110, 25, 21])      # a point count, then two intervals
    expected = []
    for i in range(3):
        pr_ = stats.betabinom.pmf(np.arange(n_r[i] + 1), n_r[i], p_r[i] * f_r[i], (1 - p_r[i]) * f_r[i])
        pd_ = stats.betabinom.pmf(np.arange(n_d[i] + 1), n_d[i], p_d[i] * f_d[i], (1 - p_d[i]) * f_d[i])
        total = np.convolve(pr_, pd_)
        expected.append(math.log(total[lower[i]:upper[i] + 1].sum()))
    got = likelihood.sum_logp(n_r, n_d, pt.as_tensor(p_r), pt.as_tensor(p_d), pt.as_tensor(f_r), pt.as_tensor(f_d),
                              pt.as_tensor(lower), pt.as_tensor(upper), int((upper - lower).max()) + 1).eval()
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    pooled = stats.betabinom.logpmf(110, 215, 0.5 * 50, 0.5 * 50)          # what a single pooled count would say
    assert abs(got[0] - pooled) > 0.1


UNSPLIT = ("nafta_h", "pntr_s", "korea_h", "cafta_h", "usmca_s")


def test_a_two_party_total_enters_as_the_sum_of_party_counts(data_copy) -> None:
    """Guards against the chamber total of a vote without a party split being scored with a free or pooled
    share: with the party rows of five votes removed, the model's density of their totals is the exact
    convolution of the two party counts, sized by the Congress's composition (yea and its correction
    together), checked against SciPy."""
    counts = data_copy / "vote_counts.csv"
    lines = counts.read_text().splitlines(keepends=True)
    keep = [ln for ln in lines if not (ln.split(",")[0] in UNSPLIT and ln.split(",")[1] in ("R", "D"))]
    counts.write_text("".join(keep))
    ds = load_dataset(data_copy)
    md = build_model_data(ds)
    rd = np.flatnonzero(md.mix_obs_idx >= 0)
    assert sorted(md.coords["obs"][i].split(":")[0] for i in rd) == sorted(UNSPLIT)
    comp = ds.composition.set_index(["congress", "chamber", "party"])["seats"]
    for i in rd:      # the Republicans' share of the voters is their share of the two parties' seats
        case = ds.cases.set_index("case_id").loc[md.coords["obs"][i].split(":")[0]]
        r, d = comp[(case["congress"], case["chamber"], "R")], comp[(case["congress"], case["chamber"], "D")]
        assert md.mix_n_r[md.mix_obs_idx[i]] == round(md.obs_n[i] * r / (r + d))
    spec = load_spec(shipped_spec_path("trade_coalition_v2"))
    model = build_pymc_model(md, spec)
    outs = model.replace_rvs_by_values(model.logp(vars=[model["yea"]], sum=False)
                                       + [model["yea_two_party_sum"], model["cut_point"], model["party_tilt"],
                                          model["ideal_point"], model["faction_share"], model["concentration"],
                                          model["discrimination"]])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    rng = np.random.default_rng(5)
    point = {k: x + rng.normal(0.0, JITTER_SD, size=np.shape(x)) for k, x in model.initial_point().items()}
    yea, correction, cut, tilt, ideal, share, phi, disc = fn(point)
    v = {"cut_point": cut, "party_tilt": tilt, "ideal_point": ideal, "faction_share": share, "concentration": phi,
         "discrimination": disc}
    got = yea[rd].sum() + float(correction)
    expected = 0.0
    for i in rd:
        c, m = md.obs_case_idx[i], md.mix_obs_idx[i]
        n_r = md.mix_n_r[m]
        n_d = md.obs_n[i] - n_r
        parts = []
        for g, size in ((0, n_r), (1, n_d)):
            p = case_row_probability(np, cut_point=cut, party_tilt=tilt, md=md, case_idx=np.array([c]),
                                     group_idx=np.array([g]), mix_idx=np.array([-1]),
                                     faction_position=ideal[md.faction_actor_idx], faction_share=share,
                                     mix_share=md.mix_share, discrimination=disc)[0]
            f = _phi(md, v, [c], [g])[0]
            parts.append(stats.betabinom.pmf(np.arange(size + 1), size, p * f, (1 - p) * f))
        expected += math.log(np.convolve(*parts)[md.obs_yea[i]])
        assert 0 < n_r < md.obs_n[i]
    assert got == pytest.approx(expected, rel=1e-8)


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


def test_slot_probabilities_hand_values_and_rows() -> None:
    """The strategic layers' four slots of a vote (R, D, I, RD), by hand: p_r 0.8, p_d 0.3, p_i 0.5 and a
    Republican share 0.25 give RD 0.25 * 0.8 + 0.75 * 0.3 = 0.425; an anti-trade yea flips every slot. The slots
    equal mix_groups' rows of each group (the likelihood's rule), in NumPy and PyTensor."""
    p_r, p_d, p_i = np.array([[0.8, 0.8]]), np.array([[0.3, 0.3]]), np.array([[0.5, 0.5]])
    share, polarity = np.array([0.25, 0.25]), np.array([1, -1])
    got = slot_probabilities(np, p_r, p_d, p_i, share=share, polarity=polarity)
    assert got.shape == (1, 2, 4)
    np.testing.assert_allclose(got[0], [[0.8, 0.3, 0.5, 0.425], [0.2, 0.7, 0.5, 0.575]], rtol=1e-14)
    with_pt = slot_probabilities(pt, pt.as_tensor(p_r), pt.as_tensor(p_d), pt.as_tensor(p_i), share=share,
                                 polarity=polarity).eval()
    np.testing.assert_allclose(with_pt, got, rtol=1e-14)
    for v in range(2):
        rows = mix_groups(np, np.repeat(p_r[:, v:v + 1], 4, axis=1), np.repeat(p_d[:, v:v + 1], 4, axis=1),
                          np.repeat(p_i[:, v:v + 1], 4, axis=1), polarity=np.full(4, polarity[v]),
                          group_idx=np.arange(4), mix_share=np.array([[share[v]]]), mix_idx=np.array([-1, -1, -1, 0]))
        np.testing.assert_allclose(rows[0], got[0, v], rtol=1e-14)


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


def test_yea_probability_with_shares_by_congress() -> None:
    """Shares by Congress (model.faction_shares = "congress"): each row mixes its factions with the shares of its
    own Congress (``share_idx``), by hand for every row and sample, in NumPy and PyTensor; a row whose Congress has
    the static shares gets the static value, so a wrong index or a share applied across rows fails."""
    share_c = np.stack([SHARE, SHARE[:, [1, 0, 3, 2]], np.array([[0.9, 0.1, 0.2, 0.8], [0.05, 0.95, 0.5, 0.5]])],
                       axis=1)                                                   # (sample, congress, faction)
    share_idx = np.array([1, 2, 0, 0, 2])
    got = yea_probability(np, **{**_inputs(np), "faction_share": share_c}, share_idx=share_idx)
    expected = np.empty_like(got)
    for r, c in enumerate(share_idx):
        expected[:, r] = yea_probability(np, **{**_inputs(np), "faction_share": share_c[:, c]})[:, r]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    static = yea_probability(np, **_inputs(np))
    assert got[0, 2] == static[0, 2] and abs(got[0, 0] - static[0, 0]) > 0.01 and abs(got[0, 1] - static[0, 1]) > 0.01
    # row 0 by hand: sample 0's Congress 1 swaps the Republicans' shares, so 0.7 * 0.726115 + 0.3 * 0.443986
    assert got[0, 0] == pytest.approx(0.7 * 0.7261150 + 0.3 * 0.4439861, abs=1e-6)
    with_pt = yea_probability(pt, **{**_inputs(pt), "faction_share": pt.as_tensor(share_c)}, share_idx=share_idx).eval()
    np.testing.assert_allclose(with_pt, got, rtol=1e-12, atol=0)


def test_floatx_is_double() -> None:
    """The tolerances above assume float64 graphs."""
    assert pytensor.config.floatX == "float64"


def test_row_weights_take_rows_out_of_the_likelihood(built: dict) -> None:
    """Guards the backtest's one compiled model (``weighted=True``): with every weight 1 each likelihood
    term equals the unweighted model's; a weight of 0 removes exactly that row's log density (point rows,
    the whip count, indicator codes), so a row dated after an origin cannot inform its fit."""
    from pytensor.compile.mode import Mode

    md, model = built["md"], built["model"]
    weighted = build_pymc_model(md, built["spec"], weighted=True)
    assert {v.name for v in weighted.free_RVs} == {v.name for v in model.free_RVs}   # same parameters
    assert not weighted.observed_RVs                                                     # the likelihood is all potentials
    names = ["yea", "whip_count", "code_3_levels"]
    outs = weighted.replace_rvs_by_values([weighted[n] for n in names])
    fn = weighted.compile_fn(outs, inputs=weighted.value_vars, on_unused_input="ignore",
                             mode=Mode(linker="py", optimizer=None))
    rng = np.random.default_rng(7)
    point = {k: v + rng.normal(0.0, JITTER_SD, size=np.shape(v)) for k, v in model.initial_point().items()}
    whip, yea, code, *_ = built["fn"](point)

    def terms():
        return dict(zip(names, (float(x) for x in fn(point))))

    got = terms()
    assert got["yea"] == pytest.approx(float(np.sum(yea)), rel=1e-10)
    assert got["whip_count"] == pytest.approx(float(whip), rel=1e-10)
    assert got["code_3_levels"] == pytest.approx(float(np.sum(code)), rel=1e-10)

    w_obs = (rng.random(len(md.obs_n)) < 0.5).astype(float)
    w_code = (rng.random(len(md.code_item_idx)) < 0.5).astype(float)
    assert 0 < w_obs.sum() < len(w_obs) and 0 < w_code.sum() < len(w_code)
    weighted["obs_weight"].set_value(w_obs)
    weighted["code_weight"].set_value(w_code)
    weighted["interval_weight"].set_value(np.zeros(len(md.int_n)))
    got = terms()
    assert got["yea"] == pytest.approx(float(np.sum(w_obs * yea)), rel=1e-10)
    assert got["code_3_levels"] == pytest.approx(float(np.sum(w_code * code)), rel=1e-10)
    assert got["whip_count"] == 0.0
    assert abs(float(np.sum(yea)) - got["yea"]) > 1.0        # the rows taken out mattered
