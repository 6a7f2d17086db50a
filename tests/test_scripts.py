"""The developer scripts under scripts/ that the suite can check cheaply (they are not part of the package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mutation_script():
    spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_hand_written_mutant_matches_its_code_once() -> None:
    """Guards against the hand-written likelihood mutants going stale: ``scripts/mutation.py --graph`` failed for
    a while after the floor-expectation layer repeated the agenda layer's two-party slot line in graph.py."""
    mutation = _mutation_script()
    assert len(mutation.GRAPH_MUTANTS) >= 31
    assert mutation.stale_mutants() == []
    # the check itself: a text found many times, and one found nowhere, are both reported
    fake = [("coalition/graph.py", "many", "pm."), ("coalition/graph.py", "none", "no such text in the file")]
    stale = mutation.stale_mutants(fake)
    assert len(stale) == 2 and "many" in stale[0] and "found 0 times" in stale[1]
    # every mutant changes its text and names a test file that exists
    for file, name, old, new, *tests in mutation.GRAPH_MUTANTS:
        assert (ROOT / "bayes_coalition" / file).is_file(), name
        assert old != new, name
        assert (ROOT / (tests[0] if tests else "tests/coalition/test_likelihood.py")).is_file(), name


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ship_record_copies_only_a_finished_record_of_the_specs_model(tmp_path, capsys) -> None:
    """``scripts/ship_record.py``: a record of the spec's model today is copied whole into
    ``models/<kind folder>/<spec name>/`` (the old one replaced, nothing else of the source carried); a record of
    another model, one without a model id, or one lacking a file it must carry is refused and the shipped record
    is left as it was."""
    import json

    from bayes_coalition.coalition.model import model_id
    from bayes_coalition.coalition.spec import default_spec_path, load_spec

    ship = _script("ship_record")
    spec_path = default_spec_path()
    mid = model_id(load_spec(spec_path))

    def record(folder: Path, settings: dict) -> Path:
        folder.mkdir(parents=True)
        (folder / "sbc.json").write_text(json.dumps({"groups": {"g": {}}, "settings": settings}))
        for name in ("sbc.csv", "sbc_fits.csv", "sbc_settings.json"):
            (folder / name).write_text(f"{name} of {folder.name}\n")
        (folder / "sbc_progress.log").write_text("not carried\n")
        return folder

    models = tmp_path / "models"
    stale = models / "sbc" / "trade_coalition"
    stale.mkdir(parents=True)
    (stale / "old.csv").write_text("old record\n")
    good = record(tmp_path / "good", {"model_id": mid})
    assert ship.main(["sbc", str(good), str(spec_path), "--models", str(models)]) == 0
    assert sorted(p.name for p in stale.iterdir()) == ["sbc.csv", "sbc.json", "sbc_fits.csv", "sbc_settings.json"]
    assert (stale / "sbc.csv").read_text() == "sbc.csv of good\n"
    for name, settings, why in (("other", {"model_id": "fff000"}, "is the SBC of another model (id fff000"),
                                ("undated", {}, "does not say which model it calibrated")):
        assert ship.main(["sbc", str(record(tmp_path / name, settings)), str(spec_path), "--models", str(models)]) == 1
        assert why in capsys.readouterr().err
        assert (stale / "sbc.csv").read_text() == "sbc.csv of good\n"       # the shipped record is untouched
    lacking = record(tmp_path / "lacking", {"model_id": mid})
    (lacking / "sbc_fits.csv").unlink()
    assert ship.main(["sbc", str(lacking), str(spec_path), "--models", str(models)]) == 1
    assert "lacks sbc_fits.csv" in capsys.readouterr().err and (stale / "sbc.csv").read_text() == "sbc.csv of good\n"


def test_loeo_fit_diagnosis_names_the_scalar_whose_chains_disagree_and_the_elpd_per_chain(rng) -> None:
    """``scripts/loeo_fit_diagnosis.py``: the worst R-hat is the scalar (with its coordinate) whose chains sit
    apart, with its chain means; the held-out elpd per chain is log mean exp of that chain's draws (SciPy)."""
    import arviz as az
    import numpy as np
    from scipy import special

    diag = _script("loeo_fit_diagnosis")
    mixed = rng.normal(size=(4, 300, 3))
    mixed[2, :, 1] += 3.0                                # one chain of cut_point["b"] elsewhere
    idata = az.from_dict(posterior={"cut_point": mixed, "sigma": rng.normal(size=(4, 300))},
                         coords={"case": ["a", "b", "c"]}, dims={"cut_point": ["case"]})
    worst = diag.worst_rhat(idata, n=2)
    assert [w["name"] for w in worst] == ["cut_point", "sigma"] and worst[0]["coords"] == {"case": "b"}
    assert worst[0]["rhat"] > 1.3 > 1.05 > worst[1]["rhat"]
    # an object-dtype coordinate (as a fitted model's posterior has) names the same scalar
    obj = idata.assign_coords(case=np.array(["a", "b", "c"], dtype=object))
    assert diag.worst_rhat(obj, n=1)[0]["coords"] == {"case": "b"}
    np.testing.assert_allclose(worst[0]["chain_means"], mixed[:, :, 1].mean(axis=1))
    lp = rng.normal(-40.0, 3.0, size=(4, 300))
    e = diag.chain_elpd(lp)
    assert e["pooled"] == pytest.approx(special.logsumexp(lp) - np.log(lp.size))
    np.testing.assert_allclose(e["per_chain"], special.logsumexp(lp, axis=1) - np.log(300))


def test_loeo_fit_diagnosis_labels_each_held_out_row(rng) -> None:
    """``row_elpd`` names each held-out row's own elpd (``validation.loeo.row_elpds``, tested by hand there) by its
    row label: observed rows then intervals, only rows with weight."""
    import numpy as np
    from scipy import special

    diag = _script("loeo_fit_diagnosis")
    obs = rng.normal(-3.0, 1.0, size=(5, 200))
    ints = rng.normal(-1.0, 0.5, size=(2, 200))
    loglik = lambda posterior, w: np.asarray(w["obs_weight"]) @ obs + np.asarray(w["interval_weight"]) @ ints
    weights = {"obs_weight": np.array([0.0, 1.0, 0.0, 1.0, 0.0]), "interval_weight": np.array([1.0, 0.0]),
               "code_weight": np.zeros(3)}
    labels = {"obs_weight": [f"o{j}" for j in range(5)], "interval_weight": ["i0", "i1"]}
    rows = diag.row_elpd(loglik, None, weights, labels)
    assert [r for r, *_ in rows] == ["o1", "o3", "i0"]
    np.testing.assert_allclose([v for _, v, _ in rows], [special.logsumexp(obs[1]) - np.log(200),
                                                      special.logsumexp(obs[3]) - np.log(200),
                                                      special.logsumexp(ints[0]) - np.log(200)])


def test_loeo_fit_diagnosis_replicates_the_episodes_own_effects(rng) -> None:
    """``replicated_elpd`` draws only the named indices afresh from N(0, 1) and averages the likelihood over them:
    with ``p(y | z) = N(y; z, 1)`` and z the episode's own effect its elpd converges on the marginal
    ``log N(y; 0, sqrt 2)`` (SciPy) whatever the posterior held for z, and another episode's z is left as it is."""
    import numpy as np
    import xarray as xr
    from scipy import stats

    diag = _script("loeo_fit_diagnosis")
    held = np.full((2, 500, 2), 5.0)                    # a posterior far from the prior: index 1 is redrawn, 0 is not
    post = xr.Dataset({"episode_z": (("chain", "draw", "episode"), held)})
    seen = []

    def loglik(posterior, w):
        z = posterior["episode_z"].values.reshape(-1, 2)
        seen.append(z[:, 0].copy())
        return stats.norm.logpdf(1.0, loc=z[:, 1], scale=1.0)

    r = diag.replicated_elpd(loglik, post, {}, {"episode_z": np.array([1])}, m=100, seed=3)
    assert r["elpd"] == pytest.approx(stats.norm.logpdf(1.0, scale=np.sqrt(2.0)), abs=0.01)
    assert all((z == 5.0).all() for z in seen) and len(seen) == 100 and len(r["per_chain"]) == 2
    assert r["khat"] < 0.7 and (held == 5.0).all()       # the posterior given is not changed


def test_loeo_fit_diagnosis_replicates_a_walk_step_along_its_own_dimension(rng) -> None:
    """``faction_share_z`` is (congress_step, walking_faction) and its own entries lie along congress_step: own = [2]
    redraws both factions' entries of step 2 and nothing else (entry 2 of the last dimension does not exist)."""
    import numpy as np
    import xarray as xr

    diag = _script("loeo_fit_diagnosis")
    post = xr.Dataset({"faction_share_z": (("chain", "draw", "congress_step", "walking_faction"), np.full((2, 50, 3, 2), 5.0))})
    seen = []

    def loglik(posterior, w):
        seen.append(posterior["faction_share_z"].values.reshape(-1, 3, 2).copy())
        return np.zeros(100)

    diag.replicated_elpd(loglik, post, {}, {"faction_share_z": np.array([2])}, m=3, seed=1)
    for f in seen:
        assert (f[:, :2] == 5.0).all() and (np.abs(f[:, 2]) < 5.0).all() and f[:, 2].std() > 0.5


def test_loeo_fit_diagnosis_refuses_a_kept_posterior_of_another_fit(tmp_path, capsys) -> None:
    """``--posterior FILE`` reads a kept posterior back only when it is the fit asked for (spec, variant, episode,
    seed and settings, stored in its attributes): one of another variant is refused with rc 1 and a message naming
    the file, before any model is built."""
    import numpy as np
    import xarray as xr

    from bayes_coalition import _arviz

    diag = _script("loeo_fit_diagnosis")
    spec = str((ROOT / "models" / "trade_coalition.toml").resolve())
    attrs = {"spec": spec, "variant": "without_H2", "episode": "usmca2019", "seed": 23, "draws": 500, "tune": 1000,
             "chains": 4}
    path = tmp_path / "kept.nc"
    post = xr.Dataset({"episode_z": (("chain", "draw", "episode"), np.zeros((1, 2, 3)))}).assign_attrs(attrs)
    _arviz.to_netcdf(_arviz.inference_data(posterior=post), path)
    assert diag.main(["usmca2019", "--spec", spec, "--variant", "full", "--posterior", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "'variant': 'without_H2'" in err and "'variant': 'full'" in err


def test_sbc_rank_truth_bins_ranks_as_the_chi_square_does() -> None:
    """Ranks 0..99 in 10 bins of ten (r * 10 // 100): by hand, each bin's count and its truths' median and range; an
    empty bin has 0 simulations."""
    import pandas as pd

    table = _script("sbc_rank_truth").rank_truth_table(pd.Series([0, 9, 10, 35, 39, 99]),
                                                        pd.Series([0.1, 0.3, 0.5, 0.2, 0.6, 0.9]), 99)
    assert table["simulations"].tolist() == [2, 1, 0, 2, 0, 0, 0, 0, 0, 1]
    assert table.loc[0, "median"] == pytest.approx(0.2) and table.loc[3, "lowest"] == pytest.approx(0.2)
    assert table.loc[3, "highest"] == pytest.approx(0.6) and table.loc[9, "median"] == pytest.approx(0.9)


def test_sbc_rank_truth_splits_the_ranks_at_the_fits_median_r_hat() -> None:
    """Ranks of six fits split at the median max R-hat (1.0155 here): the three at or below it and the three above,
    with their counts, mean ranks, ten-bin counts, and p-values of the same tests on each half."""
    import pandas as pd

    from bayes_coalition.validation.sbc_stats import ecdf_pvalue, uniformity_pvalue

    ranks = pd.Series([5, 15, 16, 55, 80, 99], index=range(6))
    rhat = pd.Series([1.01, 1.05, 1.02, 1.011, 1.30, 1.0], index=range(6))
    table = _script("sbc_rank_truth").by_convergence(ranks, rhat, 99)
    low, high = table.iloc[0], table.iloc[1]
    assert table.index[0] == "max R-hat <= 1.0155" and low["simulations"] == 3 and high["simulations"] == 3
    assert low["mean rank"] == pytest.approx((5 + 55 + 99) / 3) and high["mean rank"] == pytest.approx((15 + 16 + 80) / 3)
    assert low["bins"] == "1 0 0 0 0 1 0 0 0 1" and high["bins"] == "0 2 0 0 0 0 0 0 1 0"
    assert high["chi-square p"] == pytest.approx(uniformity_pvalue([15, 16, 80], 99))
    assert low["ECDF p"] == pytest.approx(ecdf_pvalue([5, 55, 99], 99))


def test_sbc_rank_truth_reads_a_run_of_the_specs_model_only(tmp_path, capsys) -> None:
    """Against the run's truths drawn again: the table of the named scalar over the run's simulations; a run of
    another model is refused (rc 1) before anything is drawn."""
    import json

    import numpy as np
    import pandas as pd

    from bayes_coalition.coalition.model import model_id
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path
    from bayes_coalition.validation.sbc import coalition_truths

    path = shipped_spec_path("trade_coalition_v2")
    spec = load_spec(path)
    ranks = pd.DataFrame({"simulation": range(6), "parameter": "sigma_total", "rank": [5, 15, 16, 55, 80, 99],
                          "n_draws": 99})
    ranks.to_csv(tmp_path / "sbc.csv", index=False)
    (tmp_path / "sbc_settings.json").write_text(json.dumps({"seed": 3, "model_id": "0000"}))
    script = _script("sbc_rank_truth")
    assert script.main([str(tmp_path), str(path), "--sims", "6"]) == 1
    assert "refused" in capsys.readouterr().err
    (tmp_path / "sbc_settings.json").write_text(json.dumps({"seed": 3, "model_id": model_id(spec)}))
    assert script.main([str(tmp_path), str(path), "--sims", "6", "--save", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    truth = coalition_truths(spec, 6, seed=3)["sigma_total"]
    assert "sigma_total: 6 simulations" in out
    saved = pd.read_csv(tmp_path / "t.csv", index_col=0)["sigma_total"]
    np.testing.assert_allclose(saved.to_numpy(), truth.to_numpy())
    assert f"{np.median(truth.iloc[[1, 2]]):.3f}" in out      # bin 1 holds simulations 1 and 2
    # a run of more simulations than --sims says, a file without a rank column, a folder without the run: named
    assert script.main([str(tmp_path), str(path), "--sims", "5"]) == 1
    assert "beyond --sims 5 (first 5, row 7)" in capsys.readouterr().err
    ranks.drop(columns="rank").to_csv(tmp_path / "sbc.csv", index=False)
    assert script.main([str(tmp_path), str(path), "--sims", "6"]) == 1
    assert "sbc.csv lacks the column(s) rank" in capsys.readouterr().err
    assert script.main([str(tmp_path / "none"), str(path), "--sims", "6"]) == 1
    assert "lacks sbc_settings.json, sbc.csv" in capsys.readouterr().err


def test_sbc_refit_pairs_the_runs_rank_with_the_refits() -> None:
    """Per named scalar: the truth, the run's rank of that simulation (not another's), the refit's rank and the
    refit's posterior mean and sd (ddof 1), by hand."""
    import pandas as pd

    run = pd.DataFrame({"simulation": [0, 0, 1, 1], "parameter": ["a", "b", "a", "b"], "rank": [3, 7, 90, 40],
                        "n_draws": 99})
    rows = _script("sbc_refit").refit_rows(1, {"a": 0.5, "b": -1.0}, {"a": [[0.0, 1.0], [2.0, 3.0]], "b": [[1.0, 1.0]]},
                                           ["a"], run, [(1, "a", 12, 99), (1, "b", 50, 99)])
    assert rows == [{"simulation": 1, "parameter": "a", "truth": 0.5, "run_rank": 90, "refit_rank": 12,
                     "posterior_mean": 1.5, "posterior_sd": pytest.approx(1.2909944)}]


def test_sbc_refit_refuses_what_it_cannot_redraw(tmp_path, capsys) -> None:
    """Refused with rc 1 and named before anything is drawn or fitted: a folder without the run, a run of another
    model, a simulation outside the run's, a scalar the run did not rank."""
    import json

    import pandas as pd

    from bayes_coalition.coalition.model import model_id
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path

    path = shipped_spec_path("trade_coalition_v2")
    script = _script("sbc_refit")
    assert script.main([str(tmp_path), str(path), "--sims", "6", "--sim", "0"]) == 1
    assert "lacks sbc_settings.json, sbc.csv" in capsys.readouterr().err
    pd.DataFrame({"simulation": range(6), "parameter": "sigma_total", "rank": 5, "n_draws": 99}).to_csv(
        tmp_path / "sbc.csv", index=False)
    (tmp_path / "sbc_settings.json").write_text(json.dumps({"seed": 3, "model_id": "0000", "chains": 2, "n_keep": 99}))
    assert script.main([str(tmp_path), str(path), "--sims", "6", "--sim", "0"]) == 1
    assert "refused" in capsys.readouterr().err
    (tmp_path / "sbc_settings.json").write_text(json.dumps({"seed": 3, "model_id": model_id(load_spec(path)),
                                                            "chains": 2, "n_keep": 99}))
    assert script.main([str(tmp_path), str(path), "--sims", "6", "--sim", "6"]) == 1
    assert "--sim 6 is outside the run's simulations 0..5" in capsys.readouterr().err
    assert script.main([str(tmp_path), str(path), "--sims", "6", "--sim", "1", "--scalar", "episode_share"]) == 1
    assert "episode_share: not a ranked scalar of this run" in capsys.readouterr().err


def test_sbc_refit_with_the_runs_settings_gives_the_runs_ranks(mock_pymc_sample, tmp_path, capsys) -> None:
    """A refit with the run's settings draws the simulation's data, truths, fit seed and tie-breaking stream again
    as ``run_coalition_sbc`` drew them (agenda control and floor expectations: truths selected given the withdrawn
    measure, held votes given that they are held; mock sampling): the same rank of every scalar asked for."""
    import json

    import pandas as pd

    from bayes_coalition.coalition.model import model_id
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path
    from bayes_coalition.validation.sbc import run_coalition_sbc

    path = shipped_spec_path("trade_coalition_agenda_expectation")
    spec = load_spec(path)
    run = run_coalition_sbc(spec, 3, seed=5, out_dir=tmp_path, draws=20, tune=5, chains=2, n_keep=19, sampler="pymc",
                            progress=False)
    (tmp_path / "sbc_settings.json").write_text(json.dumps({"seed": 5, "model_id": model_id(spec), "chains": 2,
                                                            "n_keep": 19}))
    names = ["episode_share", "agenda_bar", "cut_point[ft1998_h]", "faction_share[rep_conservative]"]
    args = [str(tmp_path), str(path), "--sims", "3", "--sim", "2", "--sim", "1", "--draws", "20", "--tune", "5",
            "--sampler", "pymc", "--save", str(tmp_path / "refit.csv")]
    assert _script("sbc_refit").main(args + [a for n in names for a in ("--scalar", n)]) == 0
    refit = pd.read_csv(tmp_path / "refit.csv")
    assert list(zip(refit["simulation"], refit["parameter"])) == [(s, n) for s in (2, 1) for n in names]
    assert (refit["refit_rank"] == refit["run_rank"]).all()
    expected = run.set_index(["simulation", "parameter"])["rank"]
    assert refit["run_rank"].tolist() == [int(expected[(s, n)]) for s, n in zip(refit["simulation"], refit["parameter"])]
    assert "simulation 2: 20 draws after 5 tuning x 2 chains" in capsys.readouterr().out
