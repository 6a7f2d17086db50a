"""Leave-one-episode-out cross-validation: which rows each fit sees and scores, the held-out log-likelihood
against PyMC's pointwise one, and the elpd arithmetic by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from bayes_coalition.coalition.model import CoalitionModel
from bayes_coalition.validation.loeo import (
    ELPD_KHAT_BAR,
    VoteLogLik,
    converged_differences,
    elpd_difference,
    elpd_reliability,
    held_out_scores,
    held_out_weights,
    leave_out_weights,
    logmeanexp,
    row_elpds,
    vote_episodes,
)


@pytest.fixture(scope="module")
def model():
    return CoalitionModel()


def test_each_fit_leaves_out_exactly_one_episodes_votes(model):
    md = model.model_data
    episodes = vote_episodes(md)
    assert len(episodes) == 23 and "pntr2000" in episodes and "fasttrack1997" in episodes
    total = np.zeros(len(md.obs_n))
    for ep in episodes:
        fit, score = leave_out_weights(md, ep), held_out_weights(md, ep)
        np.testing.assert_array_equal(fit["obs_weight"] + score["obs_weight"], 1.0)       # a row is fitted or scored
        np.testing.assert_array_equal(fit["interval_weight"] + score["interval_weight"], 1.0)
        assert fit["code_weight"].all() and not score["code_weight"].any()                # codes: covariates, not scored
        total += score["obs_weight"]
    np.testing.assert_array_equal(total, 1.0)                                              # every row scored once
    pntr = held_out_weights(md, "pntr2000")["obs_weight"].astype(bool)
    assert {md.coords["obs"][i].split(":")[0] for i in np.flatnonzero(pntr)} == {"pntr_h", "pntr_s"}
    assert held_out_weights(md, "fasttrack1997")["interval_weight"].tolist() == [1.0, 1.0]   # the whip count


def test_held_out_loglik_is_the_sum_of_the_episodes_pointwise_loglik(model):
    """At three prior draws, the held-out log-likelihood of PNTR 2000 equals the sum of PyMC's pointwise
    beta-binomial log-likelihood of its five rows in the unweighted model (checked against SciPy in
    tests/coalition/test_likelihood.py); leaving the weights at 1 elsewhere would add other episodes' rows."""
    import arviz as az
    import pymc as pm

    from bayes_coalition.coalition.graph import build_pymc_model

    md = model.model_data
    weighted = build_pymc_model(md, model.spec, weighted=True)
    free = weighted.free_RVs
    values = pm.draw(free, draws=3, random_seed=5)
    post = az.from_dict(posterior={rv.name: v[None] for rv, v in zip(free, values)}).posterior
    got = VoteLogLik(weighted)(post, held_out_weights(md, "pntr2000"))
    ll = pm.compute_log_likelihood(az.InferenceData(posterior=post), var_names=["yea"], model=model.model,
                                   progressbar=False).log_likelihood["yea"].values[0]       # (draw, obs)
    rows = held_out_weights(md, "pntr2000")["obs_weight"].astype(bool)
    np.testing.assert_allclose(got, ll[:, rows].sum(axis=1), rtol=1e-10)
    assert np.all(np.abs(ll.sum(axis=1) - got) > 1.0)


def test_elpd_arithmetic_by_hand():
    x = np.array([-1.0, -2.0, -4.0])
    assert logmeanexp(x) == pytest.approx(special.logsumexp(x) - math.log(3))
    assert logmeanexp(np.array([-1000.0, -1000.0])) == pytest.approx(-1000.0)          # no underflow
    t = pd.DataFrame({"full": [-10.0, -5.0, -7.0], "without_H1": [-11.0, -5.5, -6.0]})
    d = elpd_difference(t, "full", "without_H1")
    diffs = np.array([1.0, 0.5, -1.0])
    assert d["elpd_diff"] == pytest.approx(0.5) and d["n_episodes"] == 3
    assert d["se"] == pytest.approx(math.sqrt(3 * diffs.var(ddof=1)))


def test_converged_differences_drop_episodes_whose_fits_miss_the_looser_bar_by_hand():
    """The sensitivity keeps an episode only when the full model's fit and the compared variant's both reached
    R-hat <= 1.05: at the bar kept, just above it, NaN or missing dropped; each comparison drops its own."""
    t = pd.DataFrame({"full": [-10.0, -5.0, -7.0, -3.0], "without_H1": [-11.0, -5.5, -6.0, -2.0],
                      "without_H2": [-9.0, -6.0, -7.5, -4.0]}, index=pd.Index(["a", "b", "c", "d"], name="episode"))
    rhat = {("full", "a"): 1.05, ("full", "b"): 1.0501, ("full", "c"): 1.01, ("full", "d"): 1.02,
            ("without_H1", "a"): 1.00, ("without_H1", "b"): 1.00, ("without_H1", "c"): float("nan"),
            ("without_H1", "d"): 1.03, ("without_H2", "a"): 1.01, ("without_H2", "b"): 1.01, ("without_H2", "c"): 1.04}
    fits = [{"variant": v, "episode": e, "max_rhat": r} for (v, e), r in rhat.items()]     # (without_H2, d) missing
    got = converged_differences(t, fits)
    assert got["max_rhat"] == 1.05 and set(got["differences"]) == {"full_minus_without_H1", "full_minus_without_H2"}
    h1 = got["differences"]["full_minus_without_H1"]               # kept a, d: differences 1.0 and -1.0
    assert h1["dropped"] == ["b", "c"] and h1["n_episodes"] == 2
    assert h1["elpd_diff"] == pytest.approx(0.0) and h1["se"] == pytest.approx(math.sqrt(2 * np.var([1.0, -1.0], ddof=1)))
    h2 = got["differences"]["full_minus_without_H2"]               # kept a, c: differences -1.0 and 0.5
    assert h2["dropped"] == ["b", "d"] and h2["n_episodes"] == 2 and h2["elpd_diff"] == pytest.approx(-0.5)
    loose = converged_differences(t, fits, bar=1.06)["differences"]["full_minus_without_H1"]
    assert loose["dropped"] == ["c"] and loose["elpd_diff"] == pytest.approx(1.0 + 0.5 - 1.0)


def _row_loglik(obs, ints, seen=None):
    """A stand-in for VoteLogLik: per draw, the weighted sum of fixed (row, draw) log-likelihoods."""
    def loglik(posterior, w):
        if seen is not None:
            seen.append({k: np.asarray(v).copy() for k, v in w.items()})
        return np.asarray(w["obs_weight"]) @ obs + np.asarray(w["interval_weight"]) @ ints
    return loglik


def test_held_out_scores_by_hand(rng):
    """The joint elpd, each chain's elpd and the row-wise elpd against SciPy's logsumexp; each row scored alone
    (one-hot weights, codes never), rows outside the episode never; k-hat small for a likelihood that varies little
    over the draws and above the bar for one whose joint spreads over orders of magnitude (generalised Pareto
    draws of shape 1: an infinite-mean tail)."""
    import xarray as xr
    from scipy import stats

    chains, draws = 4, 500
    posterior = xr.Dataset(coords={"chain": np.arange(chains), "draw": np.arange(draws)})
    obs = rng.normal(-3.0, 0.2, size=(5, chains * draws))
    ints = rng.normal(-1.0, 0.1, size=(2, chains * draws))
    weights = {"obs_weight": np.array([0.0, 1.0, 0.0, 1.0, 0.0]), "interval_weight": np.array([1.0, 0.0]),
               "code_weight": np.zeros(3)}
    seen = []
    loglik = _row_loglik(obs, ints, seen)
    rows = row_elpds(loglik, posterior, weights)
    assert [(k, j) for k, j, *_ in rows] == [("obs_weight", 1), ("obs_weight", 3), ("interval_weight", 0)]
    lme = lambda x, axis=None: special.logsumexp(x, axis=axis) - math.log(np.shape(x)[-1] if axis is not None else np.size(x))
    np.testing.assert_allclose([v for _, _, v, _ in rows], [lme(obs[1]), lme(obs[3]), lme(ints[0])])
    assert all(k < 0.5 for *_, k in rows)                            # each row varies little over the draws
    assert all(w["code_weight"].sum() == 0 and w["obs_weight"].sum() + w["interval_weight"].sum() == 1 for w in seen[:3])
    got = held_out_scores(loglik, posterior, weights)
    joint = obs[1] + obs[3] + ints[0]
    assert got["elpd"] == pytest.approx(lme(joint))
    np.testing.assert_allclose(got["elpd_chains"], lme(joint.reshape(chains, draws), axis=1))
    assert got["elpd_rows"] == pytest.approx(lme(obs[1]) + lme(obs[3]) + lme(ints[0]))
    assert got["elpd_khat"] < 0.5 and got["elpd_rows_khat"] == pytest.approx(max(k for *_, k in rows))
    heavy = np.log(stats.genpareto.rvs(1.0, size=(1, chains * draws), random_state=rng))
    spread = held_out_scores(_row_loglik(np.vstack([heavy, obs[1:]]), ints), posterior,
                             {**weights, "obs_weight": np.array([1.0, 0, 0, 0, 0])})
    assert spread["elpd_khat"] > ELPD_KHAT_BAR and spread["elpd_rows_khat"] > ELPD_KHAT_BAR
    # a row with no voters (log-likelihood 0 at every draw) scores 0 with k-hat 0
    empty = row_elpds(_row_loglik(np.zeros_like(obs), ints), posterior, {**weights, "interval_weight": np.zeros(2)})
    assert [(v, k) for *_, v, k in empty] == [(0.0, 0.0), (0.0, 0.0)]


def test_elpd_reliability_by_hand():
    """Fits above the k-hat bar listed worst first (at the bar not listed); the row-wise differences by hand, as
    elpd_difference of the rows' sums; none when a fit lacks its row-wise elpd (a record from before)."""
    fits = [{"variant": v, "episode": e, "elpd_khat": k, "elpd_chains": [0.0], "elpd_rows": r, "max_rhat": 1.0,
             "elpd_rows_khat": rk}
            for v, e, k, r, rk in [("full", "a", 0.70, -10.0, 0.7), ("full", "b", 0.95, -5.0, 0.71),
                                   ("without_H2", "a", 0.71, -9.0, 0.3), ("without_H2", "b", 0.2, -6.5, 0.9)]]
    got = elpd_reliability(fits)
    assert got["khat_bar"] == 0.7 and got["rows_unreliable"] == 2
    assert [(f["variant"], f["episode"]) for f in got["unreliable"]] == [("full", "b"), ("without_H2", "a")]
    d = got["row_differences"]["full_minus_without_H2"]                 # differences -1.0 and +1.5
    assert d["elpd_diff"] == pytest.approx(0.5) and d["n_episodes"] == 2
    assert d["se"] == pytest.approx(math.sqrt(2 * np.var([-1.0, 1.5], ddof=1)))
    old = [{k: v for k, v in f.items() if k not in ("elpd_rows", "elpd_khat", "elpd_rows_khat")} for f in fits]
    assert elpd_reliability(old) == {"khat_bar": 0.7, "unreliable": [], "row_differences": None, "rows_unreliable": 0}
    assert "integrated_differences" not in got                          # no fit has the integrated elpd
    # the integrated elpd: differences -3.0 and +0.5, one fit's k-hat above the bar; a fit without it gives none
    integ = [{**f, "elpd_integrated": v, "elpd_integrated_khat": k}
             for f, v, k in zip(fits, [-10.0, -4.0, -7.0, -4.5], [0.5, 0.8, 0.7, 0.1])]
    d = elpd_reliability(integ)["integrated_differences"]["full_minus_without_H2"]
    assert d["elpd_diff"] == pytest.approx(-2.5) and d["se"] == pytest.approx(math.sqrt(2 * np.var([-3.0, 0.5], ddof=1)))
    assert elpd_reliability(integ)["integrated_unreliable"] == 1
    assert "integrated_differences" not in elpd_reliability(integ[:3] + fits[3:])


def test_loeo_scores_each_variant_on_the_held_out_episode(mock_pymc_sample, monkeypatch, tmp_path):
    """The whole loop with PyMC's mock sampler (prior draws): one episode, two variants; every fit is
    unconverged and listed, and the difference is the two variants' elpd. With a checkpoint a rerun takes
    every (variant, episode) task from its file (a second fit would raise) and returns the same result; a
    variant with other constructs, or another draw count, is fitted again."""
    import bayes_coalition.validation.loeo as loeo_mod
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.errors import ConvergenceWarning
    from bayes_coalition.validation.loeo import loeo

    spec = load_spec(default_spec_path())
    variants = {"full": spec["model"]["constructs"], "without_H1": ["deadlock_convergence", "formulation_coordination"]}
    run = lambda variants=variants, draws=20: loeo(spec, variants=variants, episodes=["pntr2000"], draws=draws, tune=5,
                                                   sampler="pymc", refit=False, progress=False, checkpoint=tmp_path)
    with pytest.warns(ConvergenceWarning, match="convergence fail"):
        res = run()
    votes = res.pop("votes")
    assert set(res["elpd"]) == set(variants) and len(res["fits"]) == 2 and len(res["unconverged_fits"]) == 2
    assert res["per_episode"][0]["episode"] == "pntr2000" and np.isfinite(res["elpd"]["full"])
    d = res["differences"]["full_minus_without_H1"]
    assert d["elpd_diff"] == pytest.approx(res["elpd"]["full"] - res["elpd"]["without_H1"]) and d["n_episodes"] == 1
    # the convergence sensitivity of the same difference, from the same fit rows (kept or dropped, never lost)
    s = res["converged_differences"]["differences"]["full_minus_without_H1"]
    kept = all(f["max_rhat"] <= 1.05 for f in res["fits"])
    assert (s["n_episodes"], s["dropped"]) == ((1, []) if kept else (0, ["pntr2000"]))
    # each fit's Monte Carlo reliability and row-wise elpd; the row-wise difference from the same fit rows
    assert all(len(f["elpd_chains"]) == 2 and np.isfinite(f["elpd_khat"]) and f["elpd_rows"] < 0 for f in res["fits"])
    rows = {f["variant"]: f["elpd_rows"] for f in res["fits"]}
    r = res["reliability"]["row_differences"]["full_minus_without_H1"]
    assert r["elpd_diff"] == pytest.approx(rows["full"] - rows["without_H1"]) and r["n_episodes"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full__pntr2000.json", "without_H1__pntr2000.json"]
    assert res["settings"]["integrated"] == 0 and "integrated_differences" not in res["reliability"]
    assert all("elpd_integrated" not in f for f in res["fits"])

    def refuse(*args, **kwargs):
        raise AssertionError("a finished fit was fitted again")

    monkeypatch.setattr(loeo_mod, "_episode_fit", refuse)
    same = lambda r: json.dumps(r, sort_keys=True)               # NaN (the SE of one episode) equals itself here
    again = run()
    pd.testing.assert_frame_equal(again.pop("votes"), votes)    # the full model's predictions are kept too
    assert same(again) == same(res)
    with pytest.raises(AssertionError, match="fitted again"):      # same label, other constructs
        run(variants={"full": spec["model"]["constructs"], "without_H1": ["deadlock_convergence"]})
    with pytest.raises(AssertionError, match="fitted again"):      # other settings
        run(draws=21)
    with pytest.raises(AssertionError, match="fitted again"):      # the integrated elpd asked for: scored again
        loeo(spec, variants=variants, episodes=["pntr2000"], draws=20, tune=5, sampler="pymc", refit=False,
             progress=False, checkpoint=tmp_path, integrated=8)


def test_loeo_integrated_elpd_of_each_fit_is_integrated_elpd_on_its_posterior(mock_pymc_sample, monkeypatch, tmp_path):
    """``loeo(integrated=K)``: each fit row carries integrated_elpd of that fit's posterior, with the episode's own
    effects (USMCA: the walks' trailing steps tied) and seed ``seed + i`` (recomputed here from the fit loeo made,
    caught on its way out), and reliability gives the differences on it."""
    import bayes_coalition.validation.loeo as loeo_mod
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.errors import ConvergenceWarning
    from bayes_coalition.validation.loeo import episode_own_effects, integrated_elpd, loeo, tied_walks

    spec = load_spec(default_spec_path())
    variants = {"full": spec["model"]["constructs"], "without_H2": ["willingness", "pivotal", "formulation_coordination"]}
    seen, fit = {}, loeo_mod._episode_fit

    def keep(*args, **kwargs):
        out = fit(*args, **kwargs)
        seen[args[2]] = seen.get(args[2], []) + [out]
        return out

    monkeypatch.setattr(loeo_mod, "_episode_fit", keep)
    with pytest.warns(ConvergenceWarning, match="convergence fail"):
        res = loeo(spec, variants=variants, episodes=["usmca2019"], draws=20, tune=5, sampler="pymc", refit=False,
                   progress=False, checkpoint=tmp_path, integrated=8, seed=3)
    assert res["settings"]["integrated"] == 8
    for (_, model, fits, idata, _, _), row in zip(seen["usmca2019"], res["fits"]):
        md = model.model_data
        own = episode_own_effects(md, "usmca2019", idata.posterior)
        want = integrated_elpd(VoteLogLik(fits.pm_model), idata.posterior, held_out_weights(md, "usmca2019"), own,
                               max_draws=8, seed=3, tie=tied_walks(md, "usmca2019", own))
        assert row["elpd_integrated"] == pytest.approx(want["elpd"], abs=1e-9) and row["integrated_dim"] == want["dim"]
        assert row["elpd_integrated_khat"] == pytest.approx(want["khat"]) and len(row["elpd_integrated_chains"]) == 2
        # USMCA's 7 own effects and the walks' two trailing steps tied: one for the tilt, one per walking faction
        n_walking = idata.posterior.sizes["walking_faction"]
        assert want["dim"] == 7 + 1 + n_walking and set(own) >= {"congress_tilt_z", "faction_share_z"}
    d = res["reliability"]["integrated_differences"]["full_minus_without_H2"]
    rows = {f["variant"]: f["elpd_integrated"] for f in res["fits"]}
    assert d["elpd_diff"] == pytest.approx(rows["full"] - rows["without_H2"]) and d["n_episodes"] == 1


def test_loeo_full_model_predicts_the_left_out_votes_as_loeo_votes_does(mock_pymc_sample, tmp_path):
    """The H1/H2 comparison's full-model fit without an episode is the fit of ``loeo_votes``: its predictions of
    the episode's votes come with it, equal to ``loeo_votes``' own (same seed, settings and mock draws), and
    the other variants predict none. The summary is ``loeo_vote_scores`` of that table."""
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.errors import ConvergenceWarning
    from bayes_coalition.validation.loeo import VOTE_COLUMNS, loeo, loeo_vote_scores, loeo_votes

    spec = load_spec(default_spec_path())
    kw = dict(episodes=["pntr2000"], draws=20, tune=5, sampler="pymc", refit=False, progress=False)
    variants = {"full": spec["model"]["constructs"], "without_H2": ["willingness", "pivotal", "formulation_coordination"]}
    with pytest.warns(ConvergenceWarning, match="convergence fail"):
        res = loeo(spec, variants=variants, checkpoint=tmp_path / "h", **kw)
        alone = loeo_votes(spec, checkpoint=tmp_path / "v", **kw)
    from bayes_coalition.coalition.model import model_id

    # which model this is the cross-validation of (the report shows it only beside a run of that model)
    assert res["settings"]["model_id"] == alone["settings"]["model_id"] == model_id(spec) == CoalitionModel(spec=spec).id
    assert list(res["votes"].columns) == VOTE_COLUMNS and list(res["votes"]["case_id"]) == ["pntr_h", "pntr_s"]
    pd.testing.assert_frame_equal(res["votes"], alone["votes"])
    assert res["vote_summary"] == loeo_vote_scores(alone["votes"]) == alone["summary"]
    assert set(res["votes"]["fit_verdict"]) == {"fail"}          # each row says how its fit converged
    with pytest.warns(ConvergenceWarning, match="convergence fail"):
        without_full = loeo(spec, variants={"without_H2": variants["without_H2"]}, checkpoint=None, **kw)
    assert without_full["votes"].empty and without_full["vote_summary"] is None


def test_observed_margins_by_hand(model):
    """Yeas minus the yeas needed at the observed turnout, for votes whose counts are in the sources:
    CAFTA House 217-215 (needs 217 of 432: margin 0), TAA 2015 126-302 (needs 215 of 428: -89), TPA 2015
    cloture 60-37 (three fifths of 100: 60, margin 0), USMCA House 385-41 (needs 214 of 426: 171); the
    withdrawn 1997 measure has no count."""
    from bayes_coalition.validation.loeo import observed_margins

    m = dict(zip(model.model_data.coords["case"], observed_margins(model.model_data)))
    assert (m["cafta_h"], m["taa2015_h"], m["tpa2015_s_cloture"], m["usmca_h"]) == (0, -89, 0, 171)
    assert np.isnan(m["ft1997_h_whip"])
    near = sorted(c for c, v in m.items() if abs(v) <= 10)
    assert len(near) == 14 and all(m[c] >= 0 for c in near)      # issue 14's 14 votes, none short


def test_loeo_vote_scores_by_hand():
    from bayes_coalition.validation.loeo import loeo_vote_scores

    t = pd.DataFrame({"case_id": ["a", "b", "c", "d", "w"], "observed_passed": [True, True, False, True, None],
                      "withdrawn": [False, False, False, False, True], "observed_margin": [0.0, 10.0, -89.0, 11.0, np.nan],
                      "p_pass": [0.6, 0.9, 0.2, 0.99, 0.7], "p_deadlock": [0.4, 0.1, 0.8, 0.01, 0.75]})
    s = loeo_vote_scores(t)
    assert s["near_threshold"]["n_votes"] == 2 and s["near_threshold"]["mean_p_pass"] == pytest.approx(0.75)
    f = s["failed_or_withdrawn"]
    # the failed vote was held: log(1 - P(pass)); the withdrawn one never reached the floor: log P(deadlock)
    assert f["n_votes"] == 2 and f["mean_log_score"] == pytest.approx((math.log(0.8) + math.log(0.75)) / 2)
    assert f["votes"]["w"] == pytest.approx(math.log(0.75))


def test_loeo_votes_predicts_the_left_out_episodes_votes(mock_pymc_sample, monkeypatch, tmp_path):
    """The loop with PyMC's mock sampler: the fit without PNTR 2000 predicts its two votes (probabilities in
    [0, 1], no layer so P(floor) = 1 and P(deadlock) = 1 - P(pass)); the unconverged fit is listed. With a
    checkpoint a rerun takes the episode from its file (a second fit would raise) and returns the same table,
    unless the refit schedule changed."""
    import bayes_coalition.validation.loeo as loeo_mod
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.errors import ConvergenceWarning
    from bayes_coalition.validation.loeo import loeo_votes

    spec = load_spec(default_spec_path())
    run = lambda: loeo_votes(spec, episodes=["pntr2000"], draws=20, tune=5, sampler="pymc", refit=False, progress=False,
                             checkpoint=tmp_path)
    with pytest.warns(ConvergenceWarning, match="convergence fail"):
        res = run()
    assert [p.name for p in tmp_path.iterdir()] == ["pntr2000.json"]

    def refuse(*args, **kwargs):
        raise AssertionError("a finished episode was fitted again")

    monkeypatch.setattr(loeo_mod, "_episode_fit", refuse)
    again = run()
    pd.testing.assert_frame_equal(again["votes"], res["votes"])
    assert again["fits"] == res["fits"] and again["summary"] == res["summary"]
    # an episode fitted under another refit schedule is not taken from its file
    import bayes_coalition.validation.backtest as bt

    monkeypatch.setattr(bt.OriginFits, "attempts", staticmethod(lambda s, t, a, r, d: [(s, t, a, d + 1)]))
    with pytest.raises(AssertionError, match="fitted again"):
        run()
    v = res["votes"].set_index("case_id")
    assert list(v.index) == ["pntr_h", "pntr_s"] and v["observed_passed"].all()
    assert v.loc["pntr_h", "observed_margin"] == 19
    # the default spec has agenda control: P(deadlock) = 1 - P(held) P(pass | held)
    assert ((v["p_pass"] >= 0) & (v["p_pass"] <= 1)).all() and ((v["p_floor"] > 0) & (v["p_floor"] < 1)).all()
    np.testing.assert_allclose(v["p_deadlock"], 1 - v["p_floor"] * v["p_pass"], atol=1e-12)
    assert len(res["unconverged_fits"]) == 1 and res["summary"]["failed_or_withdrawn"]["n_votes"] == 0


class _GaussianLogLik:
    """A stand-in for VoteLogLik: ``y_j ~ N(scale * case_z[2] + episode_z[1], 0.05)``, so only the slots
    ``episode_z[1]`` and ``case_z[2]`` enter; the other entries are noise that must not matter."""

    def __init__(self, y):
        self.y = y
        self.fn = type("Fn", (), {"names": ["case_z", "episode_z", "scale"]})()

    def __call__(self, ds, weights):
        flat = {n: ds[n].transpose("chain", "draw", ...).values.reshape(-1, *ds[n].shape[2:]) for n in self.fn.names}
        mean = flat["scale"][:, None] * flat["case_z"][:, [2]] + flat["episode_z"][:, [1]]
        return -0.5 * (((self.y - mean) / 0.05) ** 2 + np.log(2 * np.pi * 0.05 ** 2)).sum(-1)


def test_integrated_elpd_puts_the_effects_in_their_slots_and_matches_the_closed_form():
    """integrated_elpd with own = {episode_z: [1], case_z: [2]} on a Gaussian stand-in: per draw the marginal of
    y is N(0, (scale^2 + 1) 11^T + 0.05^2 I) (SciPy), and the elpd is their log mean exp over the evenly spaced
    draws it keeps (20 of 2 x 30, both chains); the inner error is a few hundredths."""
    import xarray as xr
    from scipy import stats

    from bayes_coalition.validation.loeo import integrated_elpd

    rng = np.random.default_rng(5)
    y = 0.8 * rng.normal() + rng.normal() + 0.05 * rng.normal(size=6)
    post = xr.Dataset({"case_z": (("chain", "draw", "case"), rng.normal(size=(2, 30, 4))),
                       "episode_z": (("chain", "draw", "episode"), rng.normal(size=(2, 30, 3))),
                       # the chains' scales far apart, so that their elpds differ
                       "scale": (("chain", "draw"), np.stack([rng.uniform(0.2, 0.4, 30), rng.uniform(1.5, 2.0, 30)]))})
    got = integrated_elpd(_GaussianLogLik(y), post, {}, {"episode_z": np.array([1]), "case_z": np.array([2])},
                          max_draws=20, seed=1, final_particles=1024)
    pick = np.unique(np.linspace(0, 59, 20).round().astype(int))
    scale = post["scale"].values.reshape(-1)[pick]
    exact = np.array([stats.multivariate_normal(np.zeros(6), (s ** 2 + 1) * np.ones((6, 6)) + 0.05 ** 2 * np.eye(6))
                      .logpdf(y) for s in scale])
    assert got["n_draws"] == 20 and got["dim"] == 2 and len(got["per_chain"]) == 2
    assert got["draw_mcse_max"] < 0.05 and got["draws_khat_above"] == 0 and got["unfinished"] == 0
    assert got["elpd"] == pytest.approx(logmeanexp(exact), abs=0.05)
    assert got["per_chain"] == pytest.approx([logmeanexp(exact[pick < 30]), logmeanexp(exact[pick >= 30])], abs=0.05)
    assert abs(got["per_chain"][0] - got["per_chain"][1]) > 0.5


def test_trailing_congress_steps_by_hand(model):
    """The walks' steps no other episode's rows reach. On the shipped data the last other episode votes in the 114th
    Congress (tpa2015), so USMCA (116th) owns the steps into the 115th and 116th (indices 12, 13 of 102..116) and every
    other episode none. On a stand-in of Congresses 10-13: B (13th) owns the steps after the last Congress of A's rows,
    and A's floor expectation in the 12th counts as one of A's rows."""
    from types import SimpleNamespace

    from bayes_coalition.validation.loeo import episode_own_effects, trailing_congress_steps

    md = model.model_data
    assert md.coords["congress"][0] == 102 and md.coords["congress"][-1] == 116
    assert trailing_congress_steps(md, "usmca2019").tolist() == [12, 13]
    assert all(trailing_congress_steps(md, ep).size == 0 for ep in vote_episodes(md) if ep != "usmca2019")
    names = {"episode_z", "case_z", "party_tilt_z", "congress_tilt_z", "faction_share_z"}
    own = episode_own_effects(md, "usmca2019", names)
    assert set(own) == names and own["congress_tilt_z"].tolist() == [12, 13] and own["faction_share_z"].tolist() == [12, 13]
    assert set(episode_own_effects(md, "tpa2015", names)) == {"episode_z", "case_z", "party_tilt_z"}

    def stand_in(expect):
        return SimpleNamespace(coords={"episode": ["A", "B"], "congress": [10, 11, 12, 13]},
                               case_episode_idx=np.array([0, 1, 0]), case_congress_idx=np.array([1, 3, 2]),
                               obs_case_idx=np.array([0, 1, 1]), int_case_idx=np.zeros(0, dtype=int),
                               expect_case_idx=np.array(expect, dtype=int))

    assert trailing_congress_steps(stand_in([2]), "B").tolist() == [2]
    assert trailing_congress_steps(stand_in([]), "B").tolist() == [1, 2]
    assert trailing_congress_steps(stand_in([2]), "A").tolist() == []


class _WalkLogLik:
    """A stand-in for VoteLogLik with a (congress_step, walking_faction) variable: ``y_j ~ N(scale * f[2, 0], 0.05)``
    for j < 3 and ``N(f[2, 1], 0.05)`` after, ``f = faction_share_z``; the other steps are noise that must not matter."""

    def __init__(self, y):
        self.y = y
        self.fn = type("Fn", (), {"names": ["faction_share_z", "scale"]})()

    def __call__(self, ds, weights):
        flat = {n: ds[n].transpose("chain", "draw", ...).values.reshape(-1, *ds[n].shape[2:]) for n in self.fn.names}
        f = flat["faction_share_z"]
        mean = np.concatenate([np.repeat(flat["scale"][:, None] * f[:, 2, [0]], 3, axis=1),
                               np.repeat(f[:, 2, [1]], 3, axis=1)], axis=1)
        return -0.5 * (((self.y - mean) / 0.05) ** 2 + np.log(2 * np.pi * 0.05 ** 2)).sum(-1)


def test_integrated_elpd_integrates_a_walk_step_along_its_own_dimension():
    """own = {faction_share_z: [2]} on a (congress_step, walking_faction) variable: both factions' entries of step 2
    are integrated (dim 2), not entry 2 of the last dimension. Per draw the marginal is two independent blocks,
    N(0, scale^2 11^T + 0.05^2 I) and N(0, 11^T + 0.05^2 I) (SciPy)."""
    import xarray as xr
    from scipy import stats

    from bayes_coalition.validation.loeo import integrated_elpd

    rng = np.random.default_rng(8)
    y = np.concatenate([0.7 * rng.normal() + 0.05 * rng.normal(size=3), rng.normal() + 0.05 * rng.normal(size=3)])
    post = xr.Dataset({"faction_share_z": (("chain", "draw", "congress_step", "walking_faction"), rng.normal(size=(2, 20, 3, 2))),
                       "scale": (("chain", "draw"), rng.uniform(0.3, 1.5, size=(2, 20)))})
    got = integrated_elpd(_WalkLogLik(y), post, {}, {"faction_share_z": np.array([2])}, max_draws=12, seed=2,
                          final_particles=1024)
    pick = np.unique(np.linspace(0, 39, 12).round().astype(int))
    block = lambda v, s: stats.multivariate_normal(np.zeros(3), s ** 2 * np.ones((3, 3)) + 0.05 ** 2 * np.eye(3)).logpdf(v)
    exact = np.array([block(y[:3], s) + block(y[3:], 1.0) for s in post["scale"].values.reshape(-1)[pick]])
    assert got["dim"] == 2 and got["n_draws"] == 12 and got["unfinished"] == 0
    assert got["elpd"] == pytest.approx(logmeanexp(exact), abs=0.05)


class _SumLogLik:
    """``y_j ~ N(scale * (f[1, w] + f[2, w]), 0.05)`` for walking faction w = j // 3, ``f = faction_share_z``: the
    likelihood sees steps 1 and 2 only through their sum; step 0 is noise that must not matter."""

    def __init__(self, y):
        self.y = y
        self.fn = type("Fn", (), {"names": ["faction_share_z", "scale"]})()

    def __call__(self, ds, weights):
        flat = {n: ds[n].transpose("chain", "draw", ...).values.reshape(-1, *ds[n].shape[2:]) for n in self.fn.names}
        total = flat["faction_share_z"][:, 1] + flat["faction_share_z"][:, 2]                  # (draw, faction)
        mean = np.repeat(flat["scale"][:, None] * total, 3, axis=1)
        return -0.5 * (((self.y - mean) / 0.05) ** 2 + np.log(2 * np.pi * 0.05 ** 2)).sum(-1)


def test_integrated_elpd_ties_steps_seen_only_through_their_sum():
    """tie = (faction_share_z,): one N(0, 1) per faction stands for steps 1 and 2 (each set to u / sqrt 2), dim 2
    instead of 4, and the elpd is the closed form, per draw two blocks N(0, 2 scale^2 11^T + 0.05^2 I) (SciPy)."""
    import xarray as xr
    from scipy import stats

    from bayes_coalition.validation.loeo import integrated_elpd

    rng = np.random.default_rng(9)
    y = np.concatenate([1.1 + 0.05 * rng.normal(size=3), -0.6 + 0.05 * rng.normal(size=3)])
    post = xr.Dataset({"faction_share_z": (("chain", "draw", "congress_step", "walking_faction"), rng.normal(size=(2, 20, 3, 2))),
                       "scale": (("chain", "draw"), rng.uniform(0.4, 1.2, size=(2, 20)))})
    own = {"faction_share_z": np.array([1, 2])}
    pick = np.unique(np.linspace(0, 39, 10).round().astype(int))
    block = lambda v, s: stats.multivariate_normal(np.zeros(3), 2 * s ** 2 * np.ones((3, 3)) + 0.05 ** 2 * np.eye(3)).logpdf(v)
    exact = logmeanexp(np.array([block(y[:3], s) + block(y[3:], s) for s in post["scale"].values.reshape(-1)[pick]]))
    for tie, dim in (((), 4), (("faction_share_z",), 2)):
        got = integrated_elpd(_SumLogLik(y), post, {}, own, max_draws=10, seed=4, final_particles=1024, tie=tie)
        assert got["dim"] == dim and got["elpd"] == pytest.approx(exact, abs=0.05), tie


def test_tied_walks_only_for_an_episode_of_the_last_congress_alone(model):
    """USMCA (all its rows in the 116th, the last Congress) ties both walks; a stand-in episode with rows in two
    Congresses, or in one before the last, ties none."""
    from types import SimpleNamespace

    from bayes_coalition.validation.loeo import episode_own_effects, tied_walks

    names = {"episode_z", "case_z", "party_tilt_z", "congress_tilt_z", "faction_share_z"}
    own = episode_own_effects(model.model_data, "usmca2019", names)
    assert tied_walks(model.model_data, "usmca2019", own) == ("congress_tilt_z", "faction_share_z")
    assert tied_walks(model.model_data, "usmca2019", {"case_z": own["case_z"]}) == ()

    def stand_in(b_congresses):
        n_b = len(b_congresses)
        return SimpleNamespace(coords={"episode": ["A", "B"], "congress": [10, 11, 12, 13]},
                               case_episode_idx=np.array([0] + [1] * n_b), case_congress_idx=np.array([0, *b_congresses]),
                               obs_case_idx=np.arange(n_b + 1), int_case_idx=np.zeros(0, dtype=int),
                               expect_case_idx=np.zeros(0, dtype=int))

    walks = {"congress_tilt_z": np.array([0, 1, 2])}
    assert tied_walks(stand_in([3, 3]), "B", walks) == ("congress_tilt_z",)
    assert tied_walks(stand_in([2, 3]), "B", walks) == ()
    assert tied_walks(stand_in([2]), "B", walks) == ()
