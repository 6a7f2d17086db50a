"""Simulation-based calibration: rank statistics on hand-made draws, the uniformity test,
interval coarsening, resumable runs (mocked sampling) and the swappable-data coalition graph."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from bayes_coalition import CoalitionModel
from bayes_coalition.coalition.graph import build_pymc_model
from bayes_coalition.validation.sbc import RANK_COLUMNS, coarsen, run_ideal_point_sbc, start
from bayes_coalition.validation.sbc_stats import (
    ecdf_band,
    ecdf_pvalue,
    ecdf_statistic,
    rank_statistic,
    summarise_sbc,
    thin,
    uniformity_pvalue,
)
from tests.helpers import compare_logp, python_logp


def test_rank_statistic_on_known_draws():
    draws = np.array([0.1, 0.5, 0.2, 0.9, 0.4])
    assert rank_statistic(0.0, draws) == 0
    assert rank_statistic(0.45, draws) == 3
    assert rank_statistic(1.0, draws) == 5
    assert rank_statistic(0.5, draws) == 3  # strictly below


def test_rank_statistic_splits_ties_at_random():
    draws = np.array([1.0, 1.0, 1.0, 2.0])
    rng = np.random.default_rng(0)
    ranks = [rank_statistic(1.0, draws, rng) for _ in range(4000)]
    assert set(ranks) == {0, 1, 2, 3}
    # a share of 4000 draws at p = 0.25 has sd 0.0068: 0.03 is about 4.4 sd
    assert np.allclose(np.bincount(ranks) / 4000, 0.25, atol=0.03)


def test_uniformity_exact_for_exactly_uniform_ranks():
    # 101 rank values in 10 bins: bins hold 11 or 10 values; the expected counts must say so
    ranks = np.repeat(np.arange(101), 7)
    assert uniformity_pvalue(ranks, 100) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="0..100"):
        uniformity_pvalue([101], 100)


def test_uniformity_detects_skewed_ranks(rng):
    uniform = rng.integers(0, 100, size=2000)
    skewed = np.minimum(rng.integers(0, 100, size=2000), rng.integers(0, 100, size=2000))
    assert uniformity_pvalue(uniform, 99) > 0.001
    assert uniformity_pvalue(skewed, 99) < 1e-6


def test_summarise_bonferroni_within_group(rng):
    rows = [(s, f"effect[{k}]", int(rng.integers(0, 100)), 99) for s in range(50) for k in "ab"]
    rows += [(s, "sigma_case", 0, 99) for s in range(50)]  # always ranked lowest: miscalibrated
    ranks = pd.DataFrame(rows, columns=RANK_COLUMNS)
    res = summarise_sbc(ranks)
    eff = res["groups"]["effect"]
    pa = uniformity_pvalue(ranks.loc[ranks.parameter == "effect[a]", "rank"], 99)
    pb = uniformity_pvalue(ranks.loc[ranks.parameter == "effect[b]", "rank"], 99)
    assert eff["n_scalars"] == 2 and eff["p_value"] == pytest.approx(min(1.0, 2 * min(pa, pb)))
    assert eff["worst_scalar"] == ("effect[a]" if pa < pb else "effect[b]")
    assert res["groups"]["sigma_case"]["p_value"] < 1e-10
    assert res["verdict"] == "fail" and res["n_simulations"] == 50
    assert summarise_sbc(ranks[ranks.parameter != "sigma_case"])["verdict"] == ("pass" if eff["p_value"] >= 0.01 else "fail")


def test_summarise_counts_a_scalar_and_its_reflection_once(rng):
    """The shares of a two-faction party (s and 1 - s) or offsets that sum to zero have reflected ranks (r and
    99 - r) in every simulation, and a copy has equal ranks: one quantity, one test. The Bonferroni factor is the
    number of distinct rank vectors (``n_distinct``), not of scalars; ranks that differ in one simulation stay
    distinct."""
    a = np.minimum(rng.integers(0, 100, 60), rng.integers(0, 100, 60))      # skewed: small p-values, so factors differ
    b = rng.integers(0, 100, 60)
    near = 99 - a
    near[7] = (near[7] + 1) % 100
    rows = [(s, "share[x]", int(a[s]), 99) for s in range(60)] + [(s, "share[y]", int(99 - a[s]), 99) for s in range(60)]
    rows += [(s, "share[z]", int(b[s]), 99) for s in range(60)] + [(s, "share[w]", int(a[s]), 99) for s in range(60)]
    rows += [(s, "other[u]", int(a[s]), 99) for s in range(60)] + [(s, "other[v]", int(near[s]), 99) for s in range(60)]
    res = summarise_sbc(pd.DataFrame(rows, columns=RANK_COLUMNS))
    share, other = res["groups"]["share"], res["groups"]["other"]
    assert share["n_scalars"] == 4 and share["n_distinct"] == 2 and other["n_distinct"] == 2
    assert res["scalars"]["share[y]"] == pytest.approx(res["scalars"]["share[x]"])
    assert share["p_value"] < 0.5
    assert share["p_value"] == pytest.approx(2 * min(res["scalars"]["share[x]"], res["scalars"]["share[z]"]))
    e = res["ecdf_scalars"]
    assert share["ecdf_p_value"] < 0.5
    assert share["ecdf_p_value"] == pytest.approx(2 * min(e["share[x]"], e["share[z]"]))


def test_summarise_gives_the_ecdf_test_per_group_beside_the_chi_square(rng):
    """Each group's ``ecdf_p_value`` is its scalars' smallest ECDF p-value times their number, ``ecdf_verdict`` fails
    when a group is below 1%. A lone crowded bin (a fifth of the ranks in 30..39, the rest uniform) fails the
    chi-square and passes the ECDF test; ranks of a posterior too wide (uniform on 20..79, an S-shaped ECDF) fail
    the ECDF test."""
    rows = [(s, f"effect[{k}]", int(rng.integers(0, 100)), 99) for s in range(100) for k in "ab"]
    crowded = np.where(np.arange(100) < 20, 30 + rng.integers(0, 10, 100), rng.integers(0, 100, 100))
    rows += [(s, "crowded", int(crowded[s]), 99) for s in range(100)]
    ranks = pd.DataFrame(rows, columns=RANK_COLUMNS)
    res = summarise_sbc(ranks)
    eff = res["groups"]["effect"]
    ea = ecdf_pvalue(ranks.loc[ranks.parameter == "effect[a]", "rank"], 99)
    eb = ecdf_pvalue(ranks.loc[ranks.parameter == "effect[b]", "rank"], 99)
    assert eff["ecdf_p_value"] == pytest.approx(min(1.0, 2 * min(ea, eb)))
    assert eff["ecdf_worst_scalar"] == ("effect[b]" if eb < ea else "effect[a]") and res["ecdf_scalars"]["effect[a]"] == ea
    assert res["groups"]["crowded"]["p_value"] < 0.01 and res["groups"]["crowded"]["ecdf_p_value"] > 0.01
    assert res["verdict"] == "fail" and res["ecdf_verdict"] == ("pass" if eff["ecdf_p_value"] >= 0.01 else "fail")
    wide = pd.DataFrame([(s, "wide", int(r), 99) for s, r in enumerate(20 + rng.integers(0, 60, 100))], columns=RANK_COLUMNS)
    res = summarise_sbc(pd.concat([ranks[ranks.parameter != "crowded"], wide]))
    assert res["groups"]["wide"]["ecdf_p_value"] < 0.001 and res["ecdf_verdict"] == "fail"


def test_ecdf_statistic_by_hand():
    """Ranks 0..3 have fractional ranks (r + 1) / 4, so that the discrete uniform's CDF is exactly z on the grid 1/4,
    2/4, 3/4: [0, 0, 0, 3] has ECDF 3/4 at each, distances 1/2, 1/4, 0; [3, 3, 3, 3] has ECDF 0, distances 1/4, 1/2,
    3/4, as its mirror [0, 0, 0, 0] (ECDF 1). A fractional rank on a grid point counts as at or below it
    ((9 + 1) / 100 <= 0.1): [9] is 0.9 from the uniform at 0.1, [10] 0.8 at 0.2."""
    assert ecdf_statistic([0, 0, 0, 3], 3, grid=4) == pytest.approx(0.5)
    assert ecdf_statistic([3, 3, 3, 3], 3, grid=4) == pytest.approx(0.75)
    assert ecdf_statistic([0, 0, 0, 0], 3, grid=4) == pytest.approx(0.75)
    assert ecdf_statistic([9], 99, grid=10) == pytest.approx(0.9)
    assert ecdf_statistic([10], 99, grid=10) == pytest.approx(0.8)
    # grid points below 1/10 count no rank (ECDF 0 there, not 1): largest distance 0.9 at 0.1, not 0.99 at 0.01
    assert ecdf_statistic([0], 9, grid=100) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="0..3"):
        ecdf_statistic([4], 3, grid=4)


def test_ecdf_statistic_is_zero_on_exactly_uniform_ranks_and_blind_to_mirroring(rng):
    """Every rank once is the discrete uniform itself: distance 0 on the default grid (the grid of the SBC's 0..99
    ranks), and on a coarser grid that divides it. Reflected ranks (n - r, the ranks of -theta, or of one share of a
    two-faction party against the other's) are as far from uniform as the ranks themselves: the same statistic and
    p-value."""
    assert ecdf_statistic(np.arange(100), 99) == pytest.approx(0.0, abs=1e-12)
    assert ecdf_statistic(np.repeat(np.arange(100), 3), 99, grid=20) == pytest.approx(0.0, abs=1e-12)
    for ranks in (rng.integers(0, 100, 78), (rng.random(78) ** 1.5 * 100).astype(int), np.r_[np.zeros(20, int), 50]):
        assert ecdf_statistic(99 - ranks, 99) == pytest.approx(ecdf_statistic(ranks, 99), abs=1e-12)
        assert ecdf_pvalue(99 - ranks, 99) == ecdf_pvalue(ranks, 99)


def test_ecdf_pvalue_against_scipy_and_a_direct_simulation():
    """Near-continuous ranks (0..999) on a fine grid: the p-value is SciPy's exact Kolmogorov-Smirnov one (kstwo,
    continuous uniform, n = 400) within the grid's and the simulation's error. On the default grid with 0..99 ranks it
    matches a direct simulation of uniform ranks (rng.integers, 20,000 sets), another algorithm than its multinomial
    counts. Ranks all 0 get the smallest p the null can give."""
    from scipy import stats

    rng = np.random.default_rng(11)
    for power in (1.0, 1.15, 1.3):                  # u ** power: uniform, then ranks drifting low
        ranks = (rng.random(400) ** power * 1000).astype(int)
        stat = ecdf_statistic(ranks, 999, grid=1000)
        p = ecdf_pvalue(ranks, 999, grid=1000, n_rep=10_000)
        assert p == pytest.approx(stats.kstwo.sf(stat, 400), abs=0.025)
    sims = rng.integers(0, 100, size=(20_000, 60))
    direct = np.array([ecdf_statistic(s, 99) for s in sims])
    for q in (0.5, 0.9, 0.99):
        stat = float(np.quantile(direct, q))
        ranks = sims[int(np.argmin(np.abs(direct - stat)))]
        assert ecdf_pvalue(ranks, 99) == pytest.approx(np.mean(direct >= ecdf_statistic(ranks, 99) - 1e-12), abs=0.01)
    assert ecdf_pvalue(np.zeros(60, dtype=int), 99) == pytest.approx(1 / 100_001)
    # exact by enumeration: 5 ranks in 0..3 on the grid 1/4, 2/4, 3/4 (all 4^5 sets equally likely)
    import itertools

    every = np.array([ecdf_statistic(r, 3, grid=4) for r in itertools.product(range(4), repeat=5)])
    for ranks in ([0, 1, 2, 3, 3], [0, 0, 1, 3, 3], [0, 0, 0, 1, 3], [3, 3, 3, 3, 3]):
        exact = np.mean(every >= ecdf_statistic(ranks, 3, grid=4) - 1e-12)
        assert ecdf_pvalue(ranks, 3, grid=4) == pytest.approx(exact, abs=0.005), ranks


def test_thin_keeps_evenly_spaced_draws():
    x = np.arange(1000)
    kept = thin(x, 99)
    assert len(kept) == 99 and kept[0] == 0 and kept[-1] == 999
    assert np.all(np.diff(kept) >= 10)


def _ar1_chains(rng, rho: float, chains: int = 2, draws: int = 400) -> np.ndarray:
    """A correct but sticky sampler of N(0, 1): stationary AR(1) chains with autocorrelation ``rho``."""
    x = np.empty((chains, draws))
    x[:, 0] = rng.normal(size=chains)
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=chains)
    return x


def test_ess_thinned_ranks_are_uniform_where_raw_ranks_are_not():
    """SBC of a correct sampler with autocorrelation 0.99 (bulk ESS under 30 of 800 draws): the truth is a
    draw from the posterior N(0, 1). Ranks among the draws thinned to their ESS pass the uniformity test
    on the common 0..99 scale; ranks among 99 evenly spaced raw draws pile up at both ends (the draws
    are fewer than they look) and fail it."""
    from bayes_coalition.validation.sbc_stats import ess_thinned_rank

    rng = np.random.default_rng(11)
    thinned, raw, kept = [], [], []
    for _ in range(600):
        truth = rng.normal()
        x = _ar1_chains(rng, 0.99)
        r, n = ess_thinned_rank(truth, x, 99, rng)
        thinned.append(r)
        kept.append(n)
        raw.append(int(np.sum(thin(x.ravel(), 99) < truth)))
    assert max(kept) < 40 and min(thinned) >= 0 and max(thinned) <= 99
    assert uniformity_pvalue(np.array(thinned), 99) > 0.01
    assert uniformity_pvalue(np.array(raw), 99) < 1e-5       # measured: 1.6e-7 (seed 11), 1.9e-9 (seed 12)


def test_coarsen_holds_count_at_uniform_offset():
    rng = np.random.default_rng(1)
    counts = np.full(5000, 50)
    lower, upper = coarsen(counts, np.full(5000, 11), np.full(5000, 228), rng)
    assert np.all((lower <= counts) & (counts <= upper)) and np.all(upper - lower == 10)
    position = counts - lower
    assert set(position) == set(range(11))
    # a share of 5000 draws at p = 1/11 has sd 0.0041: 0.02 is about 5 sd
    assert np.allclose(np.bincount(position) / 5000, 1 / 11, atol=0.02)
    lo, hi = coarsen(np.array([2, 227]), np.array([11, 11]), np.array([228, 228]), rng)
    assert lo[0] >= 0 and hi[1] <= 228 and lo[0] <= 2 <= hi[0] and lo[1] <= 227 <= hi[1]


def test_ecdf_band_shape_and_width():
    z, half = ecdf_band(100, 99, prob=0.99, n_rep=500)
    assert z.shape == half.shape and np.all(half > 0)
    # Kolmogorov-Smirnov: the 99% quantile of sup|ECDF - U| is about 1.63 / sqrt(n)
    # the asymptotic 99% Kolmogorov quantile is 1.63 / sqrt(n); the band is simulated for discrete ranks
    # (2000 replicates), so it sits within 0.02 of it at n = 100
    assert half.max() == pytest.approx(1.63 / np.sqrt(100), abs=0.02)
    rng = np.random.default_rng(3)
    inside = [np.all(np.abs(((rng.integers(0, 100, 100) + 1)[:, None] / 100 <= z).mean(0) - z) <= half) for _ in range(300)]
    assert np.mean(inside) > 0.97


def test_resume_refuses_other_settings(tmp_path):
    start(tmp_path, {"seed": 1, "draws": 10})
    start(tmp_path, {"seed": 1, "draws": 10})   # same settings: fine
    with pytest.raises(ValueError, match="other settings"):
        start(tmp_path, {"seed": 2, "draws": 10})


def test_resume_refuses_a_spec_changed_in_between(tmp_path):
    """A coalition run records its spec's model id and target acceptance: the same spec file edited between two
    calls (a prior, or the sampler's acceptance, which the model id leaves out) is refused on resume."""
    from bayes_coalition.coalition.model import model_id
    from bayes_coalition.coalition.spec import DEFAULT_SPEC, merge
    from bayes_coalition.validation.sbc import coalition_settings

    spec = merge(DEFAULT_SPEC, {})
    rec = coalition_settings(spec, "models/x.toml", seed=1, draws=10)
    assert rec == {"seed": 1, "draws": 10, "model": "coalition", "spec": "models/x.toml", "model_id": model_id(spec),
                   "target_accept": spec["sampler"]["target_accept"]}
    start(tmp_path, rec)
    start(tmp_path, coalition_settings(merge(DEFAULT_SPEC, {}), "models/x.toml", seed=1, draws=10))  # same: fine
    other_prior = merge(DEFAULT_SPEC, {"priors": {"effect_sd": 0.7}})
    other_acceptance = merge(DEFAULT_SPEC, {"sampler": {"target_accept": 0.95}})
    for changed in (other_prior, other_acceptance):
        with pytest.raises(ValueError, match="other settings"):
            start(tmp_path, coalition_settings(changed, "models/x.toml", seed=1, draws=10))


@pytest.mark.parametrize("spec_name", ["trade_coalition_v2", "trade_coalition"])
def test_mutable_data_graph_has_the_same_density(spec_name):
    """The SBC graph (observations in pm.Data) has the fitted graph's density; with the strategic layers the held
    votes' totals (agenda control) and the floor-expectation levels are data too, and new values move it."""
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path

    model = CoalitionModel(spec=load_spec(shipped_spec_path(spec_name)))
    fixed = build_pymc_model(model.model_data, model.spec)
    mutable = build_pymc_model(model.model_data, model.spec, mutable_data=True)
    assert {"obs_yea", "whip_lower", "whip_upper", "code_3_levels_data"} <= set(mutable.named_vars)
    strategic = {"agenda_yea_data", "expectation_level_data"}
    assert (strategic <= set(mutable.named_vars)) == (spec_name == "trade_coalition")
    rng = np.random.default_rng(1)
    point = {k: v + rng.normal(0.0, 0.3, size=np.shape(v)) for k, v in fixed.initial_point(0).items()}
    # the strategic layers' Potentials take the summed terms past the Python linker's 32 operands (tests/helpers.py)
    logp_of = compare_logp if spec_name == "trade_coalition_v2" else python_logp
    a = logp_of(fixed)(point)
    mutable_logp = logp_of(mutable)
    b = mutable_logp(point)
    assert a == pytest.approx(b, rel=1e-10)
    # new data change the density
    for name in sorted(strategic & set(mutable.named_vars)):
        old = mutable[name].get_value()
        with mutable:
            pm.set_data({name: np.zeros_like(old)})
        assert abs(mutable_logp(point) - b) > 1.0, name
        with mutable:
            pm.set_data({name: old})
        assert mutable_logp(point) == pytest.approx(b, rel=1e-12)
    with mutable:
        pm.set_data({"obs_yea": np.zeros_like(model.model_data.obs_yea)})
    assert mutable_logp(point) < b - 100


def test_coalition_sbc_draws_the_strategic_layers_data(mock_pymc_sample, tmp_path, monkeypatch):
    """SBC of a spec with agenda control and the floor expectations (mock sampling): every simulation swaps in held
    totals that are the sums of its held votes' simulated rows, levels 0-2 for every coded vote, and ranks the
    layers' parameters (validation/sbc_strategic.py draws them; its tests check the draws' distribution)."""
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path
    from bayes_coalition.validation import sbc as sbc_mod
    from bayes_coalition.validation import sbc_strategic

    spec = load_spec(shipped_spec_path("trade_coalition_agenda_expectation"))
    md = CoalitionModel(spec=spec).model_data
    held, _ = sbc_strategic.floor_cases(md)
    seen = []
    original = sbc_mod.coalition_sbc_chain

    def recording(spec_, dataset, token, sampler, data, *args):
        seen.append(data)
        return original(spec_, dataset, token, sampler, data, *args)

    monkeypatch.setattr(sbc_mod, "coalition_sbc_chain", recording)
    ranks = sbc_mod.run_coalition_sbc(spec, 2, seed=5, out_dir=tmp_path, draws=20, tune=5, chains=1, n_keep=19,
                                      sampler="pymc", progress=False)
    assert len(seen) == 2 and ranks["simulation"].nunique() == 2
    for data in seen:
        totals = [data["obs_yea"][md.obs_case_idx == c].sum() for c in held]
        np.testing.assert_array_equal(data["agenda_yea_data"], totals)
        assert set(np.unique(data["expectation_level_data"])) <= {0, 1, 2}
        assert len(data["expectation_level_data"]) == len(md.expect_case_idx)
    assert not np.array_equal(seen[0]["agenda_yea_data"], seen[1]["agenda_yea_data"])
    ranked = set(ranks["parameter"].str.split("[").str[0])
    assert {"agenda_bar", "agenda_scale", "agenda_leak", "expectation_slope", "expectation_cuts"} <= ranked
    # one simulation ranks as much: what is constant is told apart over all the prior draws made, not the kept one
    one = sbc_mod.run_coalition_sbc(spec, 1, seed=5, out_dir=tmp_path / "one", draws=20, tune=5, chains=1, n_keep=19,
                                    sampler="pymc", progress=False)
    assert set(one["parameter"]) == set(ranks.loc[ranks["simulation"] == 0, "parameter"])


def test_coalition_truths_are_the_truths_the_runner_ranks(mock_pymc_sample, tmp_path, monkeypatch):
    """``coalition_truths`` draws again what ``run_coalition_sbc`` ranked against (agenda control and floor
    expectations: truths selected given the withdrawn measure, held votes' cut-points and tilts selected given that
    they are held): the same value of every scalar of every simulation, and nothing more."""
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path
    from bayes_coalition.validation import sbc as sbc_mod

    spec = load_spec(shipped_spec_path("trade_coalition_agenda_expectation"))
    seen = {}
    original = sbc_mod._ranks

    def recording(sim, truth, posterior, n_keep, rng, n_chains=1):
        seen[sim] = dict(truth)
        return original(sim, truth, posterior, n_keep, rng, n_chains)

    monkeypatch.setattr(sbc_mod, "_ranks", recording)
    sbc_mod.run_coalition_sbc(spec, 2, seed=5, out_dir=tmp_path, draws=20, tune=5, chains=1, n_keep=19,
                              sampler="pymc", progress=False)
    truths = sbc_mod.coalition_truths(spec, 2, seed=5)
    assert list(truths.index) == [0, 1] and set(truths.columns) == set(seen[0])
    held = [c for c in truths.columns if c.startswith("cut_point[")]
    assert held and not np.allclose(truths.loc[0, held], truths.loc[1, held])
    for sim in (0, 1):
        np.testing.assert_array_equal(truths.loc[sim, list(seen[sim])].to_numpy(dtype=float),
                                      np.array(list(seen[sim].values()), dtype=float))


def test_coalition_sbc_grown_to_more_simulations_keeps_the_first_ones(mock_pymc_sample, tmp_path):
    """A run resumed with a larger ``--sims`` (24, then 100) ranks the same simulations as one run of the larger
    size: with agenda control the prior draws made grow with the number of simulations (the withdrawn measure
    keeps some of them), and each simulation must still be the same kept draw with the same data and seeds."""
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path
    from bayes_coalition.validation import sbc as sbc_mod

    spec = load_spec(shipped_spec_path("trade_coalition_agenda_expectation"))
    kw = dict(seed=5, draws=20, tune=5, chains=1, n_keep=19, sampler="pymc", progress=False)
    sbc_mod.run_coalition_sbc(spec, 2, out_dir=tmp_path / "grown", **kw)
    grown = sbc_mod.run_coalition_sbc(spec, 3, out_dir=tmp_path / "grown", **kw)
    whole = sbc_mod.run_coalition_sbc(spec, 3, out_dir=tmp_path / "whole", **kw)
    key = ["simulation", "parameter"]
    grown, whole = (r.sort_values(key).reset_index(drop=True) for r in (grown, whole))
    assert grown["simulation"].nunique() == 3
    pd.testing.assert_frame_equal(grown, whole)


def test_ideal_point_sbc_writes_resumable_ranks(mock_pymc_sample, tmp_path):
    ranks = run_ideal_point_sbc(3, seed=4, out_dir=tmp_path, n_legislators=8, n_rollcalls=12, draws=20, tune=5,
                                n_keep=19, progress=False)
    assert ranks["simulation"].nunique() == 3
    assert set(ranks["parameter"].str.split("[").str[0]) >= {"ideal_point", "discrimination", "difficulty", "party_location"}
    assert ((ranks["rank"] >= 0) & (ranks["rank"] <= ranks["n_draws"])).all() and (ranks["n_draws"] == 19).all()
    assert (ranks.parameter.str.startswith("ideal_point")).sum() == 3 * 8
    fits = pd.read_csv(tmp_path / "sbc_fits.csv")
    assert list(fits["simulation"]) == [0, 1, 2] and {"seconds", "divergences", "max_rhat"} <= set(fits)
    again = run_ideal_point_sbc(4, seed=4, out_dir=tmp_path, n_legislators=8, n_rollcalls=12, draws=20, tune=5,
                                n_keep=19, progress=False)
    assert again["simulation"].nunique() == 4 and len(pd.read_csv(tmp_path / "sbc_fits.csv")) == 4
    assert json.dumps(summarise_sbc(again))   # JSON-serialisable



def test_fit_statistics_check_the_free_variables_as_a_fit_does():
    """A simulation's R-hat and ESS are those of its free variables (what CoalitionModel.fit checks), not of the
    deterministics as well: here a deterministic whose chains disagree does not enter; without a record of the
    free variables every variable does."""
    import arviz as az

    from bayes_coalition import diagnostics
    from bayes_coalition.validation.sbc import _fit_stats

    rng = np.random.default_rng(3)
    shifted = rng.normal(size=(2, 400)) + np.array([[0.0], [3.0]])          # chains 3 sd apart: R-hat far above 1
    idata = az.from_dict(posterior={"a": rng.normal(size=(2, 400)), "d": shifted})
    expected = diagnostics.convergence(idata, ["a"])
    assert expected["max_rhat"] < 1.05
    given = _fit_stats(idata, 1.0, ["a"])
    assert (given["max_rhat"], given["min_ess_bulk"]) == (expected["max_rhat"], expected["min_ess_bulk"])
    assert _fit_stats(idata, 1.0)["max_rhat"] > 1.5                          # no record of the free variables: all
    idata.posterior.attrs["free_variables"] = "a"                            # as sampling.sample_model records them
    assert _fit_stats(idata, 1.0)["max_rhat"] == expected["max_rhat"]


def test_coalition_sbc_chain_samples_with_the_specs_target_acceptance(monkeypatch):
    """An SBC chain on nutpie's path samples as a fit of the spec does: the spec's target acceptance and mass
    matrix reach nutpie (until 2026-12-01 nutpie's own default acceptance, 0.8, was used whatever the spec said)."""
    from types import SimpleNamespace

    from bayes_coalition import sampling
    from bayes_coalition.coalition.spec import DEFAULT_SPEC, merge
    from bayes_coalition.validation import sbc as sbc_mod

    spec = merge(DEFAULT_SPEC, {"sampler": {"target_accept": 0.93, "low_rank_mass_matrix": False}})

    class Compiled:
        def with_data(self, **data):
            self.data = data
            return self

    compiled, seen = Compiled(), {}
    monkeypatch.setattr(sbc_mod, "warm_coalition_sbc_model",
                        lambda *args: (SimpleNamespace(spec=spec), None, compiled))
    monkeypatch.setattr(sampling, "sample_compiled", lambda c, **kw: seen.update(kw, compiled=c) or "idata")
    monkeypatch.setattr(sampling, "chain_only", lambda idata: idata)
    out, _ = sbc_mod.coalition_sbc_chain(spec, None, "token", "nutpie", {"obs_yea": np.arange(3)}, 17, 30, 20)
    assert out == "idata" and seen["compiled"] is compiled and list(compiled.data) == ["obs_yea"]
    assert seen["target_accept"] == 0.93 and seen["low_rank_mass_matrix"] is False
    assert (seen["seed"], seen["draws"], seen["tune"], seen["chains"], seen["cores"]) == (17, 30, 20, 1, 1)
