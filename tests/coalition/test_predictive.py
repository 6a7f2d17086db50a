"""Predictive simulation and the tables built from it, on tiny hand-made models and draws.

Expected values come from hand arithmetic (logistic of a known distance, counts added by hand,
order statistics of short lists) or from SciPy's beta-binomial moments.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from bayes_coalition.coalition import predictive
from bayes_coalition.coalition.model_data import build_model_data
from bayes_coalition.data.dataset import load_dataset

# --- draws ----------------------------------------------------------------------------


def test_draws_are_flattened_chain_major() -> None:
    """Guards against draws reshaped across the wrong axes (mixing chains, draws and coordinates)."""
    values = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)  # (chain, draw, actor)
    group = xr.Dataset({
        "ideal_point": (("chain", "draw", "actor"), values),
        "faction_share": (("chain", "draw", "faction"), values[..., :2] / 100),
        "cut_point": (("chain", "draw", "case"), values[..., :3] + 0.5),
        "party_tilt": (("chain", "draw", "case"), -values[..., :3]),
        "concentration": (("chain", "draw", "dispersion"), values[..., :2] + 1),
    })
    md = SimpleNamespace(faction_actor_idx=np.array([3, 1]), coords={"discrimination_type": ["final_passage"]},
                         mix_share=np.zeros(0), n_mix=0)
    a = predictive.draw_arrays(group, md, 1.5)
    # sample s = chain * 3 + draw; the row of sample 4 is chain 1, draw 1: 16, 17, 18, 19
    np.testing.assert_array_equal(a["ideal_point"][4], [16.0, 17.0, 18.0, 19.0])
    assert a["ideal_point"].shape == (6, 4)
    np.testing.assert_array_equal(a["faction_position"][4], [19.0, 17.0])
    np.testing.assert_array_equal(a["faction_share"][5], [0.20, 0.21])
    np.testing.assert_array_equal(a["cut_point"][2], [8.5, 9.5, 10.5])
    np.testing.assert_array_equal(a["party_tilt"][0], [0.0, -1.0, -2.0])
    np.testing.assert_array_equal(a["concentration"][1], [5.0, 6.0])
    # one vote type: no discrimination variable, the spec's value for every draw
    np.testing.assert_array_equal(a["discrimination"], np.full((6, 1), 1.5))
    assert a["mix_share"].shape == (6, 0)                 # no two-party rows
    assert predictive.draws_of(group, "discrimination") is None
    assert predictive.draws_of(group, "cut_point").shape == (6, 3)
    typed = group.assign(discrimination=(("chain", "draw", "discrimination_type"), values[..., :2] / 10))
    np.testing.assert_array_equal(predictive.draw_arrays(typed, md, 1.5)["discrimination"][3], [1.2, 1.3])
    mixed = SimpleNamespace(**{**vars(md), "mix_share": np.array([0.25]), "n_mix": 1})
    np.testing.assert_array_equal(predictive.draw_arrays(group, mixed, 1.5)["mix_share"], np.full((6, 1), 0.25))
    one_d = xr.Dataset({"x": (("chain", "draw"), np.array([[1.0, 2.0], [3.0, 4.0]]))})
    np.testing.assert_array_equal(predictive.draws_of(one_d, "x"), [1.0, 2.0, 3.0, 4.0])
    # the strategic layers' parameters: None when the spec switched a layer off, each its own draws otherwise
    for name in ("agenda_bar", "agenda_scale", "agenda_leak", "buying_prob", "buying_reach"):
        assert a[name] is None
    layers = group.assign({name: (("chain", "draw"), values[..., 0] + k / 10)
                           for k, name in enumerate(("agenda_bar", "agenda_scale", "agenda_leak", "buying_prob",
                                                     "buying_reach"))})
    b = predictive.draw_arrays(layers, md, 1.5)
    for k, name in enumerate(("agenda_bar", "agenda_scale", "agenda_leak", "buying_prob", "buying_reach")):
        np.testing.assert_allclose(b[name], np.arange(0, 24, 4) + k / 10, err_msg=name)   # (chain, draw) -> sample


# --- beta-binomial draws -----------------------------------------------------------------

N_DRAWS = 40_000


@pytest.mark.parametrize(("n", "p", "phi"), [(50, 0.3, 4.0), (20, 0.8, 0.7), (435, 0.55, 50.0)])
def test_beta_binomial_draws_match_scipy(n: int, p: float, phi: float) -> None:
    """Guards against swapped or mis-scaled beta parameters: BetaBinomial(n, p*phi, (1-p)*phi).

    Mean within 5 standard errors (sd / sqrt(N)); variance within 5 standard errors of the sample
    variance, sqrt((mu4 - var^2) / N) with SciPy's fourth central moment; the empirical pmf within
    5 binomial standard errors of SciPy's pmf at every count. A false alarm has probability < 1e-5
    per check, and the seed is fixed."""
    rng = np.random.default_rng(7)
    y = predictive.beta_binomial(rng, n, np.full(N_DRAWS, p), phi)
    dist = stats.betabinom(n, p * phi, (1 - p) * phi)
    mean, var = dist.mean(), dist.var()
    mu4 = dist.expect(lambda k: (k - mean) ** 4)
    assert abs(y.mean() - mean) < 5 * math.sqrt(var / N_DRAWS)
    assert abs(y.var() - var) < 5 * math.sqrt((mu4 - var**2) / N_DRAWS)
    k = np.arange(n + 1)
    freq = np.bincount(y, minlength=n + 1) / N_DRAWS
    pmf = dist.pmf(k)
    assert np.all(np.abs(freq - pmf) < 5 * np.sqrt(pmf * (1 - pmf) / N_DRAWS) + 1e-4)


def test_beta_binomial_broadcasts_rows_and_samples() -> None:
    """Guards against n, p or phi broadcast along the wrong axis: rows of (sample, row) keep their own n."""
    rng = np.random.default_rng(3)
    p = np.tile([0.999999, 1e-6, 0.999999], (500, 1))
    y = predictive.beta_binomial(rng, np.array([7, 9, 3]), p, np.array([1e9, 1e9, 1e9]))
    assert y.shape == (500, 3)
    np.testing.assert_array_equal(y.max(axis=0), [7, 0, 3])
    assert (y[:, 0] >= 6).all() and (y[:, 2] >= 2).all()


# --- simulation on a tiny model ----------------------------------------------------------

GAMMA = 1.0


def _tiny_md(*, mixed: bool = True) -> SimpleNamespace:
    """Two factions (R, D), a pro-trade House case 0 and an anti-trade Senate case 1.

    Point rows: (0, R, 200), (0, D, 150), (1, RD or D, 60), (1, R, 40); interval rows: (1, D, 30), (0, R, 10)
    (listed against the case order, so a row added to the case of its position is caught)."""
    obs_group = np.array([0, 1, 3 if mixed else 1, 0])
    return SimpleNamespace(
        coords={"case": ["h", "s"], "obs": ["h:R", "h:D", "s:RD" if mixed else "s:D", "s:R"], "interval_obs": ["s:D", "h:R"],
                "discrimination_type": ["final_passage"]},
        faction_party=np.array(["R", "D"]), case_polarity=np.array([1, -1]), case_chamber_idx=np.array([0, 1]),
        case_disc_idx=np.array([0, 0]),
        obs_case_idx=np.array([0, 0, 1, 1]), obs_group_idx=obs_group,
        mix_obs_idx=np.array([-1, -1, 0 if mixed else -1, -1]), obs_n=np.array([200, 150, 60, 40]),
        obs_yea=np.array([190, 10, 12, 3]),
        int_case_idx=np.array([1, 0]), int_group_idx=np.array([1, 0]), mix_int_idx=np.array([-1, -1]),
        int_n=np.array([30, 10]), int_lower=np.array([20, 8]), int_upper=np.array([25, 10]),
        mix_share=np.array([0.25]) if mixed else np.zeros(0), mix_n_r=np.array([15]) if mixed else np.zeros(0, int),
        # (chamber, R/D/other) of each row, by hand: House 0-2, Senate 3-5
        obs_dispersion_idx=np.array([0, 1, 5 if mixed else 4, 3]), int_dispersion_idx=np.array([4, 0]),
    )


PHI6 = (10.0,) * 6


def _arrays(S: int, *, pos: tuple[float, float], cut: tuple[float, float], tilt: tuple[float, float],
            phi: tuple, mix: float | None) -> dict:
    def rep(v: object) -> np.ndarray:
        return np.tile(np.asarray(v, dtype=float), (S, 1))

    return {"faction_position": rep(pos), "faction_share": rep([1.0, 1.0]), "cut_point": rep(cut),
            "party_tilt": rep(tilt), "concentration": rep(phi), "discrimination": rep([GAMMA]),
            "mix_share": np.zeros((S, 0)) if mix is None else rep([mix])}


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_simulated_counts_add_up_by_case() -> None:
    """Guards against rows added to the wrong case, intervals left out of the totals, or a flipped polarity.

    Positions +-50 put every faction's pro-trade probability at 0 or 1 (clipped at 1e-9) and a huge
    concentration makes the counts binomial, so each row's count is n or 0 (by hand):
    case h (pro-trade yea): R 200 + D 0 + interval R 10 = 210 of 360;
    case s (anti-trade yea, Republican share of the RD row 1): RD 0 + R 0 + interval D 30 = 30 of 130."""
    md = _tiny_md()
    md.mix_n_r = np.array([60])          # the RD row's 60 voters are all Republicans
    a = _arrays(20, pos=(50.0, -50.0), cut=(0.0, 0.0), tilt=(0.0, 0.0), phi=(1e12,) * 6, mix=1.0)
    sim = predictive.simulate(a, md, seed=1)
    np.testing.assert_array_equal(sim["obs_yea"], np.tile([200, 0, 0, 0], (20, 1)))
    np.testing.assert_array_equal(sim["interval_yea"], np.tile([30, 10], (20, 1)))
    np.testing.assert_array_equal(sim["case_yea"], np.tile([210, 30], (20, 1)))
    np.testing.assert_array_equal(sim["case_n"], [360, 130])
    # counts are integers (the thresholds compare integer yea counts)
    assert np.issubdtype(sim["case_yea"].dtype, np.integer) and np.issubdtype(sim["case_n"].dtype, np.integer)


def test_simulated_row_probabilities_are_the_vote_model() -> None:
    """Guards against the wrong rows, tilts, mix shares or polarity reaching the simulation.

    Hand values, discrimination 1: R at 0.4, D at -0.3; case h cut 0.1 tilt 0.2 (R cut 0.3, D cut -0.1);
    case s cut -0.2 tilt -0.1 (R cut -0.3, D cut -0.1), yea anti-trade, Republican share of RD 0.25."""
    md = _tiny_md()
    a = _arrays(3, pos=(0.4, -0.3), cut=(0.1, -0.2), tilt=(0.2, -0.1), phi=PHI6, mix=0.25)
    sim = predictive.simulate(a, md, seed=2)
    r_h, d_h = _logistic(0.4 - 0.3), _logistic(-0.3 + 0.1)
    r_s, d_s = _logistic(0.4 + 0.3), _logistic(-0.3 + 0.1)
    obs = [r_h, d_h, 1 - (0.25 * r_s + 0.75 * d_s), 1 - r_s]
    np.testing.assert_allclose(sim["obs_p"], np.tile(obs, (3, 1)), rtol=1e-12)
    np.testing.assert_allclose(sim["interval_p"], np.tile([1 - d_s, r_h], (3, 1)), rtol=1e-12)


def test_a_two_party_row_is_the_sum_of_its_party_counts() -> None:
    """Guards against a two-party row simulated as one pooled count: its draws have the mean and variance of
    the sum of a Republican count (15 of 60, the composition's share) and a Democratic one (45), each
    beta-binomial with its own party's probability and concentration (SciPy moments, 5 standard errors)."""
    md = _tiny_md()
    S = 20_000
    phi6 = (10.0, 10.0, 10.0, 4.0, 50.0, 1e6)
    a = _arrays(S, pos=(0.4, -0.3), cut=(0.1, -0.2), tilt=(0.2, -0.1), phi=phi6, mix=0.25)
    y = predictive.simulate(a, md, seed=9)["obs_yea"][:, 2]
    r_s, d_s = _logistic(0.4 + 0.3), _logistic(-0.3 + 0.1)      # anti-trade yea: 1 - these
    parts = [stats.betabinom(15, (1 - r_s) * 4.0, r_s * 4.0), stats.betabinom(45, (1 - d_s) * 50.0, d_s * 50.0)]
    mean, var = sum(d.mean() for d in parts), sum(d.var() for d in parts)
    assert abs(y.mean() - mean) < 5 * math.sqrt(var / S)
    assert abs(y.var() - var) < 5 * 2 * var / math.sqrt(S)       # sd of a sample variance ~ var * sqrt(2 / S) (near normal)
    pooled = stats.betabinom(60, (1 - (0.25 * r_s + 0.75 * d_s)) * 1e6, (0.25 * r_s + 0.75 * d_s) * 1e6)
    assert abs(pooled.var() - var) > 10 * 2 * var / math.sqrt(S)  # a pooled count would be caught


def test_a_two_party_interval_row_is_the_sum_of_its_party_counts() -> None:
    """The same for a chamber range without a party split (an interval row over both parties; the shipped data have
    none, the 1997 whip count being split by party): the Senate interval row made two-party, 12 Republicans of 30,
    each party with the Senate case's probability and the Senate's concentration. Guards against the point rows'
    case, group or probabilities used for the interval row's parts."""
    md = _tiny_md(mixed=False)
    md.int_group_idx, md.mix_int_idx = np.array([3, 0]), np.array([0, -1])
    md.mix_share, md.mix_n_r, md.int_dispersion_idx = np.array([0.4]), np.array([12]), np.array([5, 0])
    S = 20_000
    phi6 = (1e6, 1e6, 1e6, 4.0, 50.0, 1e6)          # House rows near binomial; the Senate parties over-dispersed
    a = _arrays(S, pos=(0.4, -0.3), cut=(0.1, -0.2), tilt=(0.2, -0.1), phi=phi6, mix=0.4)
    sim = predictive.simulate(a, md, seed=13)
    y = sim["interval_yea"][:, 0]
    r_s, d_s = _logistic(0.4 + 0.3), _logistic(-0.3 + 0.1)      # case s, anti-trade yea: 1 - these
    np.testing.assert_allclose(sim["interval_p"][0, 0], 1 - (0.4 * r_s + 0.6 * d_s), rtol=1e-12)
    parts = [stats.betabinom(12, (1 - r_s) * 4.0, r_s * 4.0), stats.betabinom(18, (1 - d_s) * 50.0, d_s * 50.0)]
    mean, var = sum(d.mean() for d in parts), sum(d.var() for d in parts)
    assert abs(y.mean() - mean) < 5 * math.sqrt(var / S)
    assert abs(y.var() - var) < 5 * 2 * var / math.sqrt(S)
    house = [stats.betabinom(12, (1 - r_s) * 1e6, r_s * 1e6), stats.betabinom(18, (1 - d_s) * 1e6, d_s * 1e6)]
    assert abs(sum(d.var() for d in house) - var) > 10 * 2 * var / math.sqrt(S)   # the House's phi would be caught
    assert ((y >= 0) & (y <= 30)).all()


def test_simulation_without_mixed_rows() -> None:
    """Guards against a model without RD rows (no two-party shares) failing to simulate."""
    md = _tiny_md(mixed=False)
    a = _arrays(3, pos=(0.4, -0.3), cut=(0.1, -0.2), tilt=(0.2, -0.1), phi=PHI6, mix=None)  # 3 draws, 2 cases
    sim = predictive.simulate(a, md, seed=2)
    d_s = _logistic(-0.3 + 0.1)
    np.testing.assert_allclose(sim["obs_p"][:, 2], [1 - d_s] * 3, rtol=1e-12)


def test_simulation_uses_each_chamber_and_party_concentration() -> None:
    """Guards against another chamber's or party's concentration used for a row: the variance of each
    row's count is SciPy's beta-binomial variance with its (chamber, party) phi (within 5 standard errors)."""
    md = _tiny_md()
    S = 20_000
    phi6 = (1e6, 3.0, 5.0, 1.5, 0.8, 2.0)       # House R, D, other; Senate R, D, other
    a = _arrays(S, pos=(0.4, -0.3), cut=(0.1, -0.2), tilt=(0.2, -0.1), phi=phi6, mix=0.25)
    sim = predictive.simulate(a, md, seed=5)
    for y, n, p, phi in ((sim["obs_yea"][:, 0], 200, sim["obs_p"][0, 0], 1e6),
                         (sim["obs_yea"][:, 1], 150, sim["obs_p"][0, 1], 3.0),
                         (sim["obs_yea"][:, 3], 40, sim["obs_p"][0, 3], 1.5),
                         (sim["interval_yea"][:, 0], 30, sim["interval_p"][0, 0], 0.8),
                         (sim["interval_yea"][:, 1], 10, sim["interval_p"][0, 1], 1e6)):
        dist = stats.betabinom(n, p * phi, (1 - p) * phi)
        mean, var = dist.mean(), dist.var()
        mu4 = dist.expect(lambda k, m=mean: (k - m) ** 4)
        assert abs(y.mean() - mean) < 5 * math.sqrt(var / S)
        assert abs(y.var() - var) < 5 * math.sqrt((mu4 - var**2) / S)


def test_simulation_is_seeded() -> None:
    """Guards against an unseeded generator: an int seed reproduces, a Generator is used as given."""
    md = _tiny_md()
    a = _arrays(50, pos=(0.4, -0.3), cut=(0.1, -0.2), tilt=(0.2, -0.1), phi=PHI6, mix=0.25)
    s1 = predictive.simulate(a, md, seed=11)
    s2 = predictive.simulate(a, md, seed=11)
    np.testing.assert_array_equal(s1["case_yea"], s2["case_yea"])
    s3 = predictive.simulate(a, md, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(s1["case_yea"], s3["case_yea"])
    g = np.random.default_rng(0)
    assert predictive._rng(g) is g


# --- posterior predictive row check ----------------------------------------------------------


def test_row_check_intervals_and_consistency() -> None:
    """Guards against wrong quantiles, off-by-one interval edges or an overlap test that is not an overlap.

    Draws 0..100 of every row: the equal-tailed 95% interval is [2.5, 97.5] (linear interpolation at
    positions 2.5 and 97.5). Points inside: 3, 97; outside: 2, 98. Intervals overlap [2.5, 97.5] when
    upper >= 2.5 and lower <= 97.5."""
    md = SimpleNamespace(
        coords={"obs": ["a:R", "a:D", "b:R", "b:I"], "interval_obs": ["c:R", "c:D", "d:R", "d:D"]},
        obs_n=np.array([100, 100, 100, 100]), obs_yea=np.array([3, 2, 97, 98]),
        int_case_idx=np.array([2, 2, 3, 3]), int_n=np.array([120, 120, 120, 120]),
        int_lower=np.array([98, 97, 0, 0]), int_upper=np.array([120, 120, 2, 3]),
    )
    draws = np.tile(np.arange(101)[:, None], (1, 4))
    t = predictive.row_check({"obs_yea": draws, "interval_yea": draws}, md)
    assert list(t.columns) == ["case_id", "group", "kind", "n", "observed_lower", "observed_upper",
                               "predicted_lower", "predicted_upper", "consistent"]
    assert t["case_id"].tolist() == ["a", "a", "b", "b", "c", "c", "d", "d"]
    assert t["group"].tolist() == ["R", "D", "R", "I", "R", "D", "R", "D"]
    assert t["kind"].tolist() == ["point"] * 4 + ["interval"] * 4
    assert t["n"].tolist() == [100] * 4 + [120] * 4
    assert t["observed_lower"].tolist() == [3, 2, 97, 98, 98, 97, 0, 0]
    assert t["observed_upper"].tolist() == [3, 2, 97, 98, 120, 120, 2, 3]
    np.testing.assert_allclose(t["predicted_lower"], [2.5] * 8)
    np.testing.assert_allclose(t["predicted_upper"], [97.5] * 8)
    assert t["consistent"].tolist() == [True, False, True, False, False, True, False, True]
    # prob is honoured: the 50% interval of 0..100 is [25, 75]; its edges count as inside / overlapping
    md.obs_yea = np.array([25, 75, 24, 76])
    md.int_lower, md.int_upper = np.array([75, 76, 0, 0]), np.array([80, 80, 25, 24])
    t50 = predictive.row_check({"obs_yea": draws, "interval_yea": draws}, md, prob=0.5)
    np.testing.assert_allclose(t50[["predicted_lower", "predicted_upper"]].to_numpy(), [[25.0, 75.0]] * 8)
    assert t50["consistent"].tolist() == [True, True, False, False, True, False, True, False]


def test_row_check_without_intervals() -> None:
    """Guards against the table requiring interval rows."""
    md = SimpleNamespace(coords={"obs": ["a:R"]}, obs_n=np.array([10]), obs_yea=np.array([5]),
                         int_case_idx=np.array([], dtype=int))
    t = predictive.row_check({"obs_yea": np.arange(11)[:, None]}, md)
    assert t["kind"].tolist() == ["point"] and t["consistent"].tolist() == [True]


# --- decisive votes ---------------------------------------------------------------------------


def test_decisive_cases_prefer_the_latest_final_vote_then_cloture_then_procedural() -> None:
    """Guards against a procedural vote or an earlier vote deciding an episode's chamber (hand table)."""
    cases = pd.DataFrame({
        "episode_id": ["e1", "e1", "e1", "e1", "e2", "e2", "e3", "e3", "e4", "e4", "e5"],
        "chamber": ["House", "House", "Senate", "Senate", "Senate", "Senate", "House", "House", "House", "House", "House"],
        "vote_type": ["final_passage", "final_passage", "cloture", "final_passage", "procedural", "cloture",
                      "procedural", "procedural", "whip_estimate", "cloture", "disapproval"],
        "date": ["2001-01-01", "2001-03-01", "2001-05-01", "2001-04-01", "2002-01-01", "2001-12-01",
                 "2003-01-01", "2003-01-01", "2004-01-01", "2004-02-01", "2005-01-01"],
    }, index=[10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])  # positions, not index labels, are returned
    assert predictive.decisive_cases(cases) == {
        ("e1", "House"): 1,    # the later final passage
        ("e1", "Senate"): 3,   # final passage beats a later cloture vote
        ("e2", "Senate"): 5,   # cloture beats a later procedural vote
        ("e3", "House"): 7,    # same date: the later row
        ("e4", "House"): 8,    # a whip count is a final-passage estimate
        ("e5", "House"): 10,   # a disapproval vote is final
    }


# --- approval table: every column -------------------------------------------------------------


def _two_chamber_table(house_yea: list[int], senate_yea: list[int], president: list[float],
                       cut: tuple[float, float], *, prob: float = 0.5, extra_house_episode: bool = False,
                       agenda: dict | None = None) -> pd.DataFrame:
    """approval_table on hand draws: episode ep (House case h, Senate case s, pro-trade yea), and optionally
    a House-only episode ep2 (case x, anti-trade yea) and an interval-observed case. ``agenda``: the agenda
    layer's draws (``agenda_bar``, ``agenda_scale``, ``agenda_leak``); h and s are held votes, x exempt."""
    from bayes_coalition.coalition import rules

    S = len(house_yea)
    cids = ["h", "s"] + (["x"] if extra_house_episode else [])
    md = SimpleNamespace(
        coords={"case": cids}, case_threshold=np.array(["majority_of_voting"] * len(cids)),
        case_chamber_idx=np.array([0, 1, 0][:len(cids)]), case_polarity=np.array([1, 1, -1][:len(cids)]),
        president_idx=0, obs_case_idx=np.array([0, 0, 1] + ([2] if extra_house_episode else [])),
        obs_yea=np.array([200.0, 30.0, 52.0] + ([100.0] if extra_house_episode else [])),
        int_case_idx=np.array([2] if extra_house_episode else [], dtype=int),
        case_floor=np.array([rules.HELD, rules.HELD, rules.EXEMPT][:len(cids)]),
    )
    cases = pd.DataFrame({
        "case_id": cids[::-1], "episode_id": (["ep2"] if extra_house_episode else []) + ["ep", "ep"],
        "chamber": (["House"] if extra_house_episode else []) + ["Senate", "House"],
        "vote_type": (["disapproval"] if extra_house_episode else []) + ["cloture", "final_passage"],
        "threshold_rule": (["majority_of_voting"] if extra_house_episode else []) + ["majority_of_voting"] * 2,
        "date": (["2001-01-01"] if extra_house_episode else []) + ["2000-02-01", "2000-01-01"],
        "passed": ([False] if extra_house_episode else []) + [True, None],
        "outcome": (["rejected"] if extra_house_episode else []) + ["cloture invoked", "passed"],
    })  # listed in another order than md.coords: the table must follow the model's case order
    columns = [house_yea, senate_yea] + ([[150] * S] if extra_house_episode else [])
    n = [435, 100] + ([435] if extra_house_episode else [])
    sim = {"case_yea": np.column_stack(columns), "case_n": np.array(n)}
    arrays = {"ideal_point": np.array(president, dtype=float)[:, None],
              "cut_point": np.tile(list(cut) + ([9.0] if extra_house_episode else []), (S, 1)), **(agenda or {})}
    return predictive.approval_table(sim, arrays, md, cases, prob=prob)


def test_approval_table_columns_by_hand() -> None:
    """Guards against mislabelled columns, intervals over the wrong axis, the pro-trade win of an
    anti-trade yea, and observed values attached to the wrong case."""
    # 5 draws; prob 0.5: quantile positions 1 and 3 of the sorted draws
    t = _two_chamber_table([220, 200, 250, 230, 210], [60, 40, 55, 45, 70], [1.0] * 5, (0.0, 0.0),
                           extra_house_episode=True)
    assert t["case_id"].tolist() == ["h", "s", "x"]
    assert t["episode_id"].tolist() == ["ep", "ep", "ep2"]
    assert t["chamber"].tolist() == ["House", "Senate", "House"]
    assert t["vote_type"].tolist() == ["final_passage", "cloture", "disapproval"]
    assert t["threshold_rule"].tolist() == ["majority_of_voting"] * 3
    assert t["n_voting"].tolist() == [435, 100, 435]
    np.testing.assert_allclose(t["yea_mean"], [222.0, 54.0, 150.0])
    np.testing.assert_allclose(t["yea_lower"], [210.0, 45.0, 150.0])   # sorted 200 210 220 230 250; 40 45 55 60 70
    np.testing.assert_allclose(t["yea_upper"], [230.0, 60.0, 150.0])
    np.testing.assert_allclose(t["p_pass"], [3 / 5, 3 / 5, 0.0])        # 218 and 51 needed
    np.testing.assert_allclose(t["p_pro_trade_win"], [3 / 5, 3 / 5, 1.0])  # x: an anti-trade yea failed
    np.testing.assert_allclose(t["p_house"], [3 / 5, 3 / 5, 0.0])
    np.testing.assert_allclose(t["p_senate"].iloc[:2], [3 / 5, 3 / 5])
    assert np.isnan(t["p_senate"].iloc[2]) and np.isnan(t["p_enacted"].iloc[2])  # no Senate vote: no enactment
    # signed in every draw: enacted when both pass: draws 0 (220, 60) and 2 (250, 55)
    np.testing.assert_allclose(t["p_enacted"].iloc[:2], [2 / 5, 2 / 5])
    np.testing.assert_array_equal(t["observed_yea"].iloc[:2], [230.0, 52.0])
    assert np.isnan(t["observed_yea"].iloc[2])  # interval-observed case has no count
    assert t["observed_passed"].isna().tolist() == [True, False, False]  # h has no recorded outcome
    assert bool(t["observed_passed"].iloc[1]) and not bool(t["observed_passed"].iloc[2])
    assert str(t["observed_passed"].dtype) == "boolean"
    assert t["observed_outcome"].tolist() == ["passed", "cloture invoked", "rejected"]
    # observed 230 in [210, 230] (edge included); 52 in [45, 60]; the interval case is unknown
    assert t["observed_in_interval"].tolist()[:2] == [True, True] and t["observed_in_interval"].isna().tolist()[2]
    assert str(t["observed_in_interval"].dtype) == "boolean"
    assert t.attrs["prob"] == 0.5
    # outcome classes: h needs 218 (spare 2, -18, 32, 12, -8), s 51 (9, -11, 4, -6, 19), x 218 (150: all fail)
    np.testing.assert_allclose(t["p_minimum_winning"], [1 / 5, 2 / 5, 0.0])
    np.testing.assert_allclose(t["p_oversized"], [2 / 5, 1 / 5, 0.0])
    np.testing.assert_allclose(t["p_deadlock"], [2 / 5, 2 / 5, 1.0])
    np.testing.assert_array_equal(t["observed_margin"].iloc[:2], [230 - 218, 52 - 51])
    assert np.isnan(t["observed_margin"].iloc[2])
    # h: no recorded outcome; s passed by 1; x failed (a deadlock whatever its count)
    assert t["observed_class"].tolist() == ["", "minimum_winning", "deadlock"]
    assert t.attrs["minimum_winning_margin"] == 10
    assert "p_floor" not in t                                   # no agenda control


def test_approval_table_observed_outside_interval() -> None:
    """Guards against an interval check that accepts values outside (or rejects the lower edge)."""
    # House draws sorted 190 200 229 240 260: interval [200, 240]; observed 230 inside.
    # Senate draws sorted 10 52 53 54 90: interval [52, 54]; observed 52 on the lower edge.
    t = _two_chamber_table([190, 240, 200, 229, 260], [53, 10, 52, 90, 54], [1.0] * 5, (0.0, 0.0))
    assert t["observed_in_interval"].tolist() == [True, True]
    # Senate draws sorted 53 54 55 56 57: observed 52 is below
    t = _two_chamber_table([190, 240, 200, 229, 260], [53, 54, 55, 56, 57], [1.0] * 5, (0.0, 0.0))
    assert t["observed_in_interval"].tolist() == [True, False]
    # House draws sorted 100 231 232 233 300: observed 230 is below
    t = _two_chamber_table([100, 231, 232, 233, 300], [60] * 5, [1.0] * 5, (0.0, 0.0))
    assert t["observed_in_interval"].tolist() == [False, False]
    # House draws sorted 100 200 210 229 300: observed 230 is above
    t = _two_chamber_table([100, 200, 210, 229, 300], [52] * 5, [1.0] * 5, (0.0, 0.0))
    assert t["observed_in_interval"].tolist() == [False, True]


def test_approval_table_signature_uses_the_mean_of_both_cut_points() -> None:
    """Guards against the President's reference cut-point being one chamber's or a wrong average:
    House cut 1.0, Senate cut 0.4 -> reference 0.7. Both chambers pass by a simple majority (no override)."""
    t = _two_chamber_table([220] * 4, [55] * 4, [0.5, 0.75, 0.69, 0.71], (1.0, 0.4))
    # signs (pro-trade yea, position > 0.7): draws 1 and 3
    assert t.loc[0, "p_enacted"] == pytest.approx(2 / 4)


def test_threshold_check_counts_margins_by_hand() -> None:
    """The margins near the threshold on the shipped votes, by hand: nine end within 5 yeas of the yeas needed
    (TPA 2001 215 of 429 voting, the 2002 rule 216/431 and conference 215/427, CAFTA's House 217/432 and two
    Senate votes 54/99 and 55/100, TPA 2015's House votes 219/430 and 218/426, its cloture 60), none short.
    Two replicate draws, the observed totals and the totals 5 yeas lower: 14 and 9 votes (margins 0..10, and
    0..4 become -5..-1); mid-p values 0.5 + 0.25 for both."""
    md = build_model_data(load_dataset())
    y = np.zeros(len(md.coords["case"]))
    np.add.at(y, md.obs_case_idx, md.obs_yea)
    totals = np.stack([y, y - 5])
    t = predictive.threshold_check(totals, md).set_index("statistic")
    assert t.attrs["n_votes"] == 49                       # every vote with a count (not the 1997 whip count)
    assert t["observed"].tolist() == [9, 0]
    assert t["predictive_mean"].tolist() == [(9 + 14) / 2, (0 + 9) / 2]
    assert t["p_value"].tolist() == [0.75, 0.75]


# --- weighted quantiles (held votes' replicates weighted by their floor probability) -----------------


def test_weighted_quantile_with_equal_weights_is_numpys() -> None:
    values = np.random.default_rng(3).normal(size=101)
    q = [0.03, 0.25, 0.5, 0.97]
    np.testing.assert_array_equal(predictive.weighted_quantile(values, np.full(101, 0.3), q), np.quantile(values, q))


def test_weighted_quantile_hand_table() -> None:
    """Values 3, 1, 2 with weights 1, 1, 2 (unsorted): sorted 1, 2, 3 with weights 1, 2, 1, so the mid-point CDF is
    (cumsum - w / 2) / 4 = 0.125, 0.5, 0.875 and the quantile interpolates linearly between those points."""
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 2.0])
    got = predictive.weighted_quantile(values, weights, [0.125, 0.3125, 0.5, 0.6875, 0.875, 0.01, 0.99])
    np.testing.assert_allclose(got, [1.0, 1.5, 2.0, 2.5, 3.0, 1.0, 3.0])
    # a weight scale does not matter
    np.testing.assert_allclose(predictive.weighted_quantile(values, 7 * weights, [0.3125]), [1.5])


def test_weighted_quantiles_per_column() -> None:
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(200, 3)), rng.uniform(0.1, 1.0, size=(200, 3))
    got = predictive._weighted_quantiles(x, w, [0.05, 0.95])
    assert got.shape == (2, 3)
    for j in range(3):
        np.testing.assert_array_equal(got[:, j], predictive.weighted_quantile(x[:, j], w[:, j], [0.05, 0.95]))
    np.testing.assert_array_equal(predictive._weighted_quantiles(x, np.ones_like(x), [0.05, 0.95]),
                                  np.quantile(x, [0.05, 0.95], axis=0))


def test_simulated_vote_buying_closes_the_held_votes_that_fall_just_short() -> None:
    """With b(d) = 1 (prob 1, an enormous reach) a held vote's replicate 1 to ceil(10% of 350) = 35 yeas short of
    its 176 is bought up to exactly 176; every other replicate, and the exempt case's rows, keep the counts of the
    same simulation without the layer (buying draws its randomness after the counts); prob 0 changes nothing."""
    from bayes_coalition.coalition import rules

    md = _tiny_md()
    md.case_floor = np.array([rules.HELD, rules.EXEMPT])
    md.case_threshold = np.array(["majority_of_voting", "majority_of_voting"])
    S = 3000
    a = _arrays(S, pos=(0.0, 0.0), cut=(0.0, 0.0), tilt=(0.0, 0.0), phi=(1e12,) * 6, mix=0.25)   # p = 1/2 per member
    a["cut_point"][S // 2:, 0] = 0.15            # half the draws further from the line: some short by more than 35
    natural = predictive.simulate(a, md, seed=4)["obs_yea"]
    bought = predictive.simulate({**a, "buying_prob": np.ones(S), "buying_reach": np.full(S, 1e9)}, md, seed=4)["obs_yea"]
    short = 176 - natural[:, :2].sum(axis=1)
    closed = (short >= 1) & (short <= 35)
    assert closed.sum() > 300 and (short > 35).sum() > 0 and (short < 1).sum() > 300      # all three kinds occur
    np.testing.assert_array_equal(bought[closed, :2].sum(axis=1), 176)
    np.testing.assert_array_equal(bought[~closed], natural[~closed])
    np.testing.assert_array_equal(bought[:, 2:], natural[:, 2:])                             # the exempt case
    assert (bought[:, :2] >= natural[:, :2]).all() and (bought[:, :2] <= md.obs_n[:2]).all()  # yeas from nays only
    none = predictive.simulate({**a, "buying_prob": np.zeros(S), "buying_reach": np.ones(S)}, md, seed=4)["obs_yea"]
    np.testing.assert_array_equal(none, natural)
    # independents are not bought (as in the likelihood): with the second row independent, only the first moves
    md.obs_group_idx = md.obs_group_idx.copy()
    md.obs_group_idx[1] = 2                      # GROUPS.index("I")
    natural = predictive.simulate(a, md, seed=4)["obs_yea"]
    bought = predictive.simulate({**a, "buying_prob": np.ones(S), "buying_reach": np.full(S, 1e9)}, md, seed=4)["obs_yea"]
    np.testing.assert_array_equal(bought[:, 1], natural[:, 1])
    short = 176 - natural[:, :2].sum(axis=1)
    closed = (short >= 1) & (short <= np.minimum(35, 200 - natural[:, 0]))   # only the first row's nays can be bought
    assert closed.sum() > 300
    np.testing.assert_array_equal(bought[closed, 0], natural[closed, 0] + short[closed])


# --- agenda control's floor weights and the outcome classes, by hand -------------------------------------


def _agenda_case(yeas: list[list[int]], *, bar=(0.02, 0.0, -0.01), scale=(0.01, 0.02, 0.03), leak=(0.1, 0.0, 0.25)):
    """Three votes: a held House final passage (400 voting, 201 needed), an exempt Senate cloture vote (100
    voting, 60 needed) and a withdrawn House measure counted against all members (218 of 435 needed); one
    (bar, scale, leak) per draw."""
    from bayes_coalition.coalition import rules

    md = SimpleNamespace(
        coords={"case": ["held", "exempt", "withdrawn"]},
        case_floor=np.array([rules.HELD, rules.EXEMPT, rules.WITHDRAWN]),
        case_threshold=np.array(["majority_of_voting", "three_fifths_of_senate", "majority_of_members"]),
        case_chamber_idx=np.array([0, 1, 0]),
    )
    S = len(yeas)
    sim = {"case_yea": np.array(yeas, dtype=float), "case_n": np.array([400, 100, 435])}
    arrays = {"agenda_bar": np.array(bar[:S]), "agenda_scale": np.array(scale[:S]), "agenda_leak": np.array(leak[:S])}
    return md, sim, arrays


def _pi(y: float, needed: int, n: int, bar: float, scale: float, leak: float) -> float:
    """The floor probability by hand: leak + (1 - leak) Phi((y - (needed - 1/2 + bar n)) / (scale n))."""
    return leak + (1 - leak) * stats.norm.cdf((y - (needed - 0.5 + bar * n)) / (scale * n))


def test_floor_weights_are_the_floor_probability_of_each_replicate() -> None:
    """Guards against weights on the wrong votes (exempt or withdrawn ones by default), a wrong threshold or turnout
    (the House majority of those voting against all members), and the draws' bar, scale and leak mixed up."""
    md, sim, arrays = _agenda_case([[205, 61, 210], [199, 59, 220], [212, 70, 218]])
    w = predictive.floor_weights(sim, arrays, md)
    pars = list(zip(arrays["agenda_bar"], arrays["agenda_scale"], arrays["agenda_leak"]))
    np.testing.assert_allclose(w[:, 0], [_pi(y, 201, 400, *p) for y, p in zip([205, 199, 212], pars)], rtol=1e-12)
    np.testing.assert_array_equal(w[:, 1:], 1.0)                     # only held votes by default
    both = predictive.floor_weights(sim, arrays, md, statuses=(1, 2))
    np.testing.assert_allclose(both[:, 0], w[:, 0], rtol=1e-12)
    np.testing.assert_allclose(both[:, 2], [_pi(y, 218, 435, *p) for y, p in zip([210, 220, 218], pars)], rtol=1e-12)
    np.testing.assert_array_equal(both[:, 1], 1.0)                   # an exempt vote is never weighted
    # draw 0 in numbers: a = 201 - 1/2 + 0.02 * 400 = 208.5, scale 0.01 * 400 = 4, Phi((205 - 208.5) / 4) = 0.190786
    assert w[0, 0] == pytest.approx(0.1 + 0.9 * 0.190786, abs=1e-6)
    # without the layer every weight is 1
    np.testing.assert_array_equal(predictive.floor_weights(sim, {"agenda_bar": None}, md), np.ones((3, 3)))
    np.testing.assert_array_equal(predictive.floor_weights(sim, {}, md), np.ones((3, 3)))


def test_outcome_classes_by_hand_at_the_margin() -> None:
    """Minimum winning is a pass with at most ``margin`` spare yeas (boundary included), oversized one with more,
    deadlock a failure; without agenda control every replicate counts once. House 400 voting: 201 needed, so 211
    is minimum winning (10 spare) and 212 oversized; the Senate cloture vote needs 60."""
    md, sim, _ = _agenda_case([[200, 59, 217], [201, 60, 218], [211, 70, 228], [212, 71, 229]])
    c = predictive.outcome_classes(sim, {}, md)
    np.testing.assert_array_equal(c["needed"], [201.0, 60.0, 218.0])
    np.testing.assert_allclose(c["p_minimum_winning"], [2 / 4, 2 / 4, 2 / 4])
    np.testing.assert_allclose(c["p_oversized"], [1 / 4, 1 / 4, 1 / 4])
    np.testing.assert_allclose(c["p_deadlock"], [1 / 4, 1 / 4, 1 / 4])
    c5 = predictive.outcome_classes(sim, {}, md, margin=0)          # only an exact hit is minimum winning
    np.testing.assert_allclose(c5["p_minimum_winning"], [1 / 4] * 3)
    np.testing.assert_allclose(c5["p_oversized"], [2 / 4] * 3)


def test_outcome_classes_weight_replicates_by_the_floor_probability() -> None:
    """With agenda control a replicate of a held vote or a withdrawn measure carries only with its probability of
    reaching the floor; the rest of its mass is deadlock (never voted). An exempt vote is unweighted."""
    yeas = [[205, 61, 230], [199, 59, 217], [215, 80, 240]]
    md, sim, arrays = _agenda_case(yeas)
    pars = list(zip(arrays["agenda_bar"], arrays["agenda_scale"], arrays["agenda_leak"]))
    pi_h = np.array([_pi(y[0], 201, 400, *p) for y, p in zip(yeas, pars)])
    pi_w = np.array([_pi(y[2], 218, 435, *p) for y, p in zip(yeas, pars)])
    c = predictive.outcome_classes(sim, arrays, md)
    # held: draws 0 (4 spare) and 2 (14 spare) carry; draw 1 fails
    np.testing.assert_allclose(c["p_minimum_winning"][0], pi_h[0] / 3, rtol=1e-12)
    np.testing.assert_allclose(c["p_oversized"][0], pi_h[2] / 3, rtol=1e-12)
    np.testing.assert_allclose(c["p_deadlock"][0], 1 - (pi_h[0] + pi_h[2]) / 3, rtol=1e-12)
    np.testing.assert_allclose([c["p_minimum_winning"][1], c["p_oversized"][1], c["p_deadlock"][1]], [1 / 3, 1 / 3, 1 / 3])
    # withdrawn, counted against all 435 members (218 needed): draws 0 (12 spare, oversized) and 2 (22) carry
    np.testing.assert_allclose(c["p_minimum_winning"][2], 0.0, atol=1e-15)
    np.testing.assert_allclose(c["p_oversized"][2], (pi_w[0] + pi_w[2]) / 3, rtol=1e-12)
    for k in range(3):
        assert c["p_minimum_winning"][k] + c["p_oversized"][k] + c["p_deadlock"][k] == pytest.approx(1.0)


def test_observed_classes_hand_table() -> None:
    """A counted-but-never-voted measure and a failed vote are deadlocks whatever their margin; an unknown outcome
    is blank; a pass is minimum winning up to ``margin`` spare yeas (boundary included), oversized beyond."""
    cases = pd.DataFrame({"passed": [True, True, True, False, None, True, np.nan],
                          "vote_type": ["final_passage", "cloture", "final_passage", "final_passage", "final_passage",
                                        "whip_estimate", "procedural"]})
    margins = np.array([10.0, 11.0, 0.0, 3.0, 5.0, -6.0, 1.0])
    assert predictive.observed_classes(margins, cases) == [
        "minimum_winning", "oversized", "minimum_winning", "deadlock", "", "deadlock", ""]
    assert predictive.observed_classes(margins, cases, margin=9)[:2] == ["oversized", "oversized"]
    assert predictive.observed_classes(margins, cases, margin=11)[:2] == ["minimum_winning", "minimum_winning"]


def _threshold_md(observed: list[int], n: list[int], *, interval_case: int | None = None) -> SimpleNamespace:
    """House votes by a majority of those voting, one count row per vote; ``interval_case`` also has a whip
    interval (its count is not observed exactly)."""
    k = len(observed)
    return SimpleNamespace(
        coords={"case": [f"c{i}" for i in range(k)]}, case_threshold=np.array(["majority_of_voting"] * k),
        case_chamber_idx=np.zeros(k, dtype=int), obs_case_idx=np.arange(k), obs_yea=np.array(observed),
        obs_n=np.array(n), int_case_idx=np.array([] if interval_case is None else [interval_case], dtype=int))


def test_threshold_check_boundaries_by_hand() -> None:
    """The two statistics at their edges: |margin| = 5 is near and 6 is not; 1 and 10 yeas short are short, 0 and
    11 are not. 101 voting needs 51. Observed margins -11, -10, -6, -5, -1, 0, 5, 6 (and one interval-observed vote,
    never counted): 4 near (-5, -1, 0, 5), 4 short (-10, -6, -5, -1)."""
    margins = [-11, -10, -6, -5, -1, 0, 5, 6, 0]
    md = _threshold_md([51 + m for m in margins], [101] * 9, interval_case=8)
    y = 51 + np.array(margins, dtype=float)
    # five replicate draws: the observed counts, and shifted by +3, -3, +20, -20 (the interval vote's replicate is
    # ignored whatever it is)
    totals = np.stack([y + d for d in (0, 3, -3, 20, -20)])
    totals[:, 8] = 51
    t = predictive.threshold_check(totals, md, prob=0.5).set_index("statistic")
    assert t.attrs == {"n_votes": 8, "prob": 0.5}
    near, short = t.loc["within 5 yeas of the threshold"], t.loc["1 to 10 yeas short"]
    # near per replicate: +0 -> 4; +3 (-8 -7 -3 -2 2 3 8 9) -> 4; -3 (-14 -13 -9 -8 -4 -3 2 3) -> 4;
    # +20 (9 10 14 15 19 20 25 26) -> 0; -20 (all at or below -14) -> 0
    assert near["observed"] == 4 and near["predictive_mean"] == pytest.approx(12 / 5)
    # short: +0 -> 4; +3 -> -8 -7 -3 -2: 4; -3 -> -9 -8 -4 -3: 4; +20 -> 0; -20 -> -11+... : -31 -30 -26 -25 -21
    # -20 -15 -14 -> 0
    assert short["observed"] == 4 and short["predictive_mean"] == pytest.approx(12 / 5)
    # mid-p: none above 4, three equal: 0 + 3 / 5 / 2
    assert near["p_value"] == pytest.approx(0.3) and short["p_value"] == pytest.approx(0.3)
    # 50% interval of (0, 0, 4, 4, 4): NumPy's quantiles 0.25 -> 0, 0.75 -> 4
    assert (near["lower"], near["upper"]) == (0.0, 4.0)
    # other settings: near 6 counts the margins of -6 and 6 too; short 11 counts -11
    t = predictive.threshold_check(totals[:1], md, near=6, short=11).set_index("statistic")
    assert t["observed"].tolist() == [6, 5]
    assert t.index.tolist() == ["within 6 yeas of the threshold", "1 to 11 yeas short"]


def test_threshold_check_p_value_counts_replicates_above_and_half_the_ties() -> None:
    """Mid-p on a hand set: observed 1 near vote; replicates with 0, 1, 1, 2 near votes -> 1/4 + 2/4 / 2 = 0.5;
    with 2, 2, 2, 0 -> 3/4. Also the default 95% interval's ends from NumPy's quantiles."""
    md = _threshold_md([51, 80], [101, 101])
    base = np.array([80.0, 80.0])                      # nothing near
    one = np.array([51.0, 80.0])
    two = np.array([52.0, 49.0])
    t = predictive.threshold_check(np.stack([base, one, one, two]), md).set_index("statistic")
    row = t.loc["within 5 yeas of the threshold"]
    assert row["observed"] == 1 and row["p_value"] == pytest.approx(0.5)
    np.testing.assert_allclose([row["lower"], row["upper"]], np.quantile([0, 1, 1, 2], [0.025, 0.975]))
    t = predictive.threshold_check(np.stack([two, two, two, base]), md).set_index("statistic")
    assert t.loc["within 5 yeas of the threshold", "p_value"] == pytest.approx(0.75)
    assert t.loc["1 to 10 yeas short", "observed"] == 0
    assert t.loc["1 to 10 yeas short", "p_value"] == pytest.approx(0.75 + 0.25 / 2)   # 49 is 2 short in 3 of 4


def test_approval_table_with_agenda_control_weights_each_replicate_by_its_floor_probability() -> None:
    """Guards against unweighted P(pass) for held votes, p_floor averaged over the wrong axis or shown for exempt
    votes, and enactment weighted by one chamber's floor probability (or their ratio) instead of their product."""
    house, senate = [220, 200, 250, 230], [60, 40, 55, 45]
    agenda = {"agenda_bar": np.array([0.0, 0.01, 0.02, 0.0]), "agenda_scale": np.array([0.01, 0.02, 0.01, 0.03]),
              "agenda_leak": np.array([0.05, 0.0, 0.1, 0.2])}
    t = _two_chamber_table(house, senate, [1.0] * 4, (0.0, 0.0), extra_house_episode=True, agenda=agenda)
    pars = list(zip(agenda["agenda_bar"], agenda["agenda_scale"], agenda["agenda_leak"]))
    w_h = np.array([_pi(y, 218, 435, *q) for y, q in zip(house, pars)])
    w_s = np.array([_pi(y, 51, 100, *q) for y, q in zip(senate, pars)])
    pass_h, pass_s = np.array(house) >= 218, np.array(senate) >= 51
    np.testing.assert_allclose(t["p_floor"].iloc[:2], [w_h.mean(), w_s.mean()], rtol=1e-12)
    assert np.isnan(t["p_floor"].iloc[2])                        # the exempt vote
    np.testing.assert_allclose(t["p_pass"].iloc[:2], [(w_h * pass_h).sum() / w_h.sum(), (w_s * pass_s).sum() / w_s.sum()],
                               rtol=1e-12)
    np.testing.assert_allclose(t["yea_mean"].iloc[0], (w_h * house).sum() / w_h.sum(), rtol=1e-12)
    both = w_h * w_s
    np.testing.assert_allclose(t["p_enacted"].iloc[0], (both * (pass_h & pass_s)).sum() / both.sum(), rtol=1e-12)
    assert t["p_pass"].iloc[2] == 0.0 and t["p_floor"].iloc[:2].between(0, 1).all()


def test_held_case_totals_are_the_counts_given_that_the_vote_is_held() -> None:
    """Rejection sampling against importance weights: the held vote's accepted totals follow the natural count
    distribution reweighted by pi(y) (their mean and P(carries) within 4 standard errors of the weighted values
    from an independent simulation); the exempt vote keeps the first simulated count; without the layer the first
    simulation is returned with nothing unresolved."""
    from bayes_coalition.coalition import rules

    md = _tiny_md()
    md.case_floor = np.array([rules.HELD, rules.EXEMPT])
    md.case_threshold = np.array(["majority_of_voting", "majority_of_voting"])
    S = 4000
    a = _arrays(S, pos=(0.0, 0.0), cut=(0.0, 0.0), tilt=(0.0, 0.0), phi=(30.0,) * 6, mix=0.25)
    # case 0: 360 voting, 181 needed; a = 180.5 + 0.01 * 360 = 184.1, scale 0.02 * 360 = 7.2 votes, leak 0.1
    layer = {"agenda_bar": np.full(S, 0.01), "agenda_scale": np.full(S, 0.02), "agenda_leak": np.full(S, 0.1)}
    arrays = {**a, **layer}
    totals, unresolved = predictive.held_case_totals(arrays, md, 11)
    assert totals.shape == (S, 2) and unresolved.shape == (S, 2)
    assert not unresolved[:, 1].any() and unresolved[:, 0].mean() < 0.01     # 200 candidates: nearly all accepted
    assert unresolved.dtype == bool                                          # a mask, as callers use it
    ref = predictive.simulate(a, md, 99)["case_yea"][:, 0].astype(float)       # an independent natural sample
    pi = 0.1 + 0.9 * stats.norm.cdf((ref - 184.1) / 7.2)
    w = pi / pi.sum()
    held = totals[~unresolved[:, 0], 0]
    se_mean = np.sqrt(held.var() / len(held) + np.sum(w**2 * (ref - np.sum(w * ref)) ** 2))
    assert abs(held.mean() - np.sum(w * ref)) < 4 * se_mean
    assert held.mean() > ref.mean() + 2                                      # being held selects the larger counts
    p_w = np.sum(w * (ref >= 181))
    se_p = np.sqrt(p_w * (1 - p_w) / len(held) + np.sum(w**2 * ((ref >= 181) - p_w) ** 2))
    assert abs(np.mean(held >= 181) - p_w) < 4 * se_p
    first = predictive.simulate(arrays, md, 11)["case_yea"]
    np.testing.assert_array_equal(totals[:, 1], first[:, 1])                 # the exempt vote: the first count
    plain, none = predictive.held_case_totals(a, md, 11)
    np.testing.assert_array_equal(plain, predictive.simulate(a, md, 11)["case_yea"])
    assert none.shape == (S, 2) and none.dtype == bool and not none.any()


def _never_held():
    """A held vote (case 0) and an exempt one on the tiny data, with pi(y) = 0 for the held one (no leak, a bar far
    above any count): no candidate is ever accepted. Returns (model data, draws with the layer, number of draws)."""
    from bayes_coalition.coalition import rules

    md = _tiny_md()
    md.case_floor = np.array([rules.HELD, rules.EXEMPT])
    md.case_threshold = np.array(["majority_of_voting", "majority_of_voting"])
    S = 50
    a = _arrays(S, pos=(0.0, 0.0), cut=(0.0, 0.0), tilt=(0.0, 0.0), phi=(30.0,) * 6, mix=0.25)
    return md, {**a, "agenda_bar": np.full(S, 5.0), "agenda_scale": np.full(S, 0.01), "agenda_leak": np.zeros(S)}, S


def test_held_case_totals_leave_the_last_candidate_when_none_is_accepted() -> None:
    """With pi(y) = 0 (no leak, a bar far above any count) no candidate is accepted: every held replicate is
    flagged unresolved and holds the last of its ``candidates`` draws (the generator's fourth simulation for 3
    candidates, after the first and one acceptance draw per try); the exempt vote is never pending."""
    md, arrays, S = _never_held()
    totals, unresolved = predictive.held_case_totals(arrays, md, 5, candidates=3)
    assert unresolved[:, 0].all() and not unresolved[:, 1].any()
    rng = np.random.default_rng(5)
    sims = [predictive.simulate(arrays, md, rng)]
    for _ in range(3):
        rng.random((S, 2))
        sims.append(predictive.simulate(arrays, md, rng))
    np.testing.assert_array_equal(totals[:, 0], sims[3]["case_yea"][:, 0])
    np.testing.assert_array_equal(totals[:, 1], sims[0]["case_yea"][:, 1])


def test_held_case_totals_simulate_new_candidates_only_for_pending_draws(monkeypatch) -> None:
    """A candidate is simulated only for the draws that still have a vote without an accepted count: with pi(y) = 1
    in the first half of the draws (leak 1: the first count is accepted) and 0 in the second, every later
    simulation covers the second half only; the first half keeps its first simulated counts, and only the second
    half's held vote is unresolved."""
    md, arrays, S = _never_held()
    half = S // 2
    arrays = {**arrays, "agenda_leak": np.where(np.arange(S) < half, 1.0, 0.0)}
    sizes = []
    original = predictive.simulate
    monkeypatch.setattr(predictive, "simulate",
                        lambda a, *args, **kw: sizes.append(len(a["cut_point"])) or original(a, *args, **kw))
    totals, unresolved = predictive.held_case_totals(arrays, md, 5, candidates=4)
    assert sizes == [S, half, half, half, half]
    assert not unresolved[:half].any() and unresolved[half:, 0].all() and not unresolved[:, 1].any()
    first = original(arrays, md, np.random.default_rng(5))["case_yea"]
    np.testing.assert_array_equal(totals[:half], first[:half])
    np.testing.assert_array_equal(totals[half:, 1], first[half:, 1])      # the exempt vote: the first count
    assert (totals[half:, 0] != first[half:, 0]).any()                     # the held one: a later candidate


def test_take_draws_restricts_every_array_to_the_draws() -> None:
    tree = {"a": np.arange(12).reshape(4, 3), "b": None, "c": (np.arange(4.0), [np.arange(8).reshape(4, 2)])}
    out = predictive.take_draws(tree, np.array([3, 1]))
    np.testing.assert_array_equal(out["a"], [[9, 10, 11], [3, 4, 5]])
    assert out["b"] is None and isinstance(out["c"], tuple) and isinstance(out["c"][1], list)
    np.testing.assert_array_equal(out["c"][0], [3.0, 1.0])
    np.testing.assert_array_equal(out["c"][1][0], [[6, 7], [2, 3]])


def test_held_case_totals_compute_the_row_probabilities_once(monkeypatch) -> None:
    """Rejection sampling draws its candidates from the same yea probabilities: they are computed once for the
    whole loop (rows, and the two parties of the two-party rows, for point and interval rows), not once per
    candidate (half of each simulation's time on the default fit), and the draws are those of simulations that
    compute them afresh (the generator's stream is unchanged)."""
    md, arrays, S = _never_held()
    assert (md.mix_obs_idx >= 0).any()                          # the two-party rows' parties are drawn too
    fresh = [predictive.simulate(arrays, md, np.random.default_rng(5))]
    calls = []
    original = predictive.row_probabilities
    monkeypatch.setattr(predictive, "row_probabilities", lambda *args, **kw: calls.append(1) or original(*args, **kw))
    totals, unresolved = predictive.held_case_totals(arrays, md, 5, candidates=20)
    assert unresolved[:, 0].all()                               # every candidate was drawn (none accepted)
    assert len(calls) <= 6                                      # point and interval rows, each with two parties
    cached = predictive.simulate(arrays, md, np.random.default_rng(5),
                                 probabilities=predictive.row_probability_sets(arrays, md))
    for key in ("obs_yea", "interval_yea", "case_yea"):
        np.testing.assert_array_equal(cached[key], fresh[0][key])
