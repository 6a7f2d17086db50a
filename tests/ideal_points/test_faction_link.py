"""Ideal points linked to the coalition model's factions (factions as hyper-means of members)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_coalition import CoalitionModel, IdealPointModel, _arviz
from bayes_coalition.errors import ConvergenceWarning, DataValidationError
from bayes_coalition.ideal_points.faction_link import faction_prior, membership_weights
from bayes_coalition.ideal_points.identification import align_posterior, orientation_weights
from tests.helpers import run_cli
from tests.ideal_points.helpers import simulate_matrix, write_dir

PRIOR = {"source": "test", "names": ["dem_liberal", "dem_moderate", "rep_conservative", "rep_internationalist"],
         "party": ["D", "D", "R", "R"], "mean": [-1.5, 1.0, -1.5, 1.7], "sd": [0.3, 0.3, 0.3, 0.3],
         "share": [0.6, 0.4, 0.25, 0.75]}


def test_membership_weights_rules():
    w = membership_weights(PRIOR, ["R", "D", "I", "R"], [None, "", None, "rep_conservative"])
    np.testing.assert_allclose(w[0], [0, 0, 0.25, 0.75])        # party shares
    np.testing.assert_allclose(w[1], [0.6, 0.4, 0, 0])
    np.testing.assert_allclose(w[2], [0.25] * 4)               # no faction of that party: equal weights
    np.testing.assert_allclose(w[3], [0, 0, 1, 0])             # named faction: one-hot
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    with pytest.raises(DataValidationError, match="unknown faction 'rep_libertarian'") as err:
        membership_weights(PRIOR, ["R", "R"], [None, "rep_libertarian"], ids=["A", "B"], rows=[2, 3],
                           file="legislators.csv", column="faction")
    assert err.value.row == 3 and err.value.column == "faction" and "legislator B" in str(err.value)


def test_faction_prior_from_a_coalition_posterior():
    model = CoalitionModel()
    md = model.model_data
    rng = np.random.default_rng(0)
    n_actor = len(md.coords["actor"])
    ideal = rng.normal(size=(2, 50, n_actor)) + np.arange(n_actor)
    share = rng.dirichlet([1, 1, 1, 1], size=(2, 50))
    post = xr.Dataset({"ideal_point": (("chain", "draw", "actor"), ideal),
                       "faction_share": (("chain", "draw", "faction"), share)},
                      coords={"chain": [0, 1], "draw": np.arange(50), "actor": md.coords["actor"], "faction": md.coords["faction"]})
    model.idata = _arviz.InferenceData(posterior=post)
    prior = faction_prior(model)
    pos = ideal[..., md.faction_actor_idx].reshape(100, -1)
    assert prior["names"] == list(md.coords["faction"]) and prior["party"] == list(md.faction_party)
    np.testing.assert_allclose(prior["mean"], pos.mean(axis=0))
    np.testing.assert_allclose(prior["sd"], pos.std(axis=0))
    np.testing.assert_allclose(prior["share"], share.reshape(100, -1).mean(axis=0))
    with pytest.raises(FileNotFoundError, match="no coalition run"):
        faction_prior("/nonexistent/run")
    # shares by Congress (model.faction_shares = "congress"): the roll calls' Congress's, which must be given
    congresses = md.coords["congress"]
    by_congress = rng.dirichlet([1, 1, 1, 1], size=(2, 50, len(congresses)))
    model.idata = _arviz.InferenceData(posterior=post.assign(faction_share_congress=(
        ("chain", "draw", "congress", "faction"), by_congress)).assign_coords(congress=congresses))
    prior = faction_prior(model, congress=congresses[2])
    np.testing.assert_allclose(prior["share"], by_congress[:, :, 2].reshape(100, -1).mean(axis=0))
    for congress in (None, congresses[-1] + 1):
        with pytest.raises(ValueError, match="vary by Congress"):
            faction_prior(model, congress=congress)


def test_linked_model_graph_and_estimands(mock_pymc_sample, tmp_path):
    rc, _ = simulate_matrix()
    m = IdealPointModel(rc, lopsided=None, min_votes=None, factions=PRIOR)
    names = set(m.model.named_vars)
    assert {"faction_position", "faction_scale", "raw_ideal_point", "faction_membership", "faction_location"} <= names
    assert "z" not in names   # the mixture replaces the party-normal prior
    with pytest.warns(ConvergenceWarning):
        m.fit(random_seed=1, draws=40, chains=2)
    member = m.faction_membership()
    probs = member.drop(columns="legislator_id").to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    party = np.asarray(m.parties)
    assert np.all(probs[party == "R"][:, :2] == 0) and np.all(probs[party == "D"][:, 2:] == 0)
    table = m.faction_positions()
    assert list(table["faction"]) == PRIOR["names"] and (table["member_scale_lower"] <= table["member_scale_upper"]).all()
    assert {"faction_max_rhat", "faction_min_ess_bulk", "linked_to"} <= set(m.diagnostics)
    again = IdealPointModel.load(m.save(tmp_path / "posterior.nc"))
    assert again.options["factions"] == PRIOR
    pd.testing.assert_frame_equal(again.faction_positions(), table)


def test_alignment_flips_faction_locations_not_positions():
    post = xr.Dataset(
        {"ideal_point": (("chain", "draw", "legislator"), np.array([[[1.0, -1.0]], [[-1.0, 1.0]]])),
         "discrimination": (("chain", "draw", "rollcall"), np.ones((2, 1, 1))),
         "difficulty": (("chain", "draw", "rollcall"), np.zeros((2, 1, 1))),
         "faction_location": (("chain", "draw", "faction"), np.array([[[0.5, -0.5]], [[-0.5, 0.5]]])),
         "faction_loading": (("chain", "draw"), np.array([[0.3], [-0.3]])),
         "faction_position": (("chain", "draw", "faction"), np.array([[[1.7, -1.5]], [[1.7, -1.5]]]))},
        coords={"chain": [0, 1], "draw": [0], "legislator": ["a", "b"], "rollcall": ["r"], "faction": ["ri", "rc"]})
    w, _ = orientation_weights(np.array(["R", "D"]))
    out = align_posterior(post, w)
    np.testing.assert_allclose(out["faction_location"].values[1], [[0.5, -0.5]])
    np.testing.assert_allclose(out["faction_loading"].values[:, 0], [0.3, 0.3])
    np.testing.assert_allclose(out["faction_position"].values, post["faction_position"].values)


def test_cli_link_factions(mock_pymc_sample, tmp_path, monkeypatch, capsys):
    import bayes_coalition.ideal_points.faction_link as fl

    monkeypatch.setattr(fl, "faction_prior", lambda source: dict(PRIOR, source=str(source)))
    rc, _ = simulate_matrix(n_leg=20, n_rc=40)
    rc.legislators["faction"] = [""] * 19 + ["rep_internationalist"]
    data = write_dir(rc, tmp_path / "data")
    argv = ["ideal-points", str(data), "--out", str(tmp_path / "out"), "--draws", "20", "--min-votes", "5",
            "--link-factions", "RUN", "--faction-column", "faction", "--no-report"]
    assert run_cli(argv) == 0
    out = tmp_path / "out"
    assert list(pd.read_csv(out / "faction_positions.csv")["faction"]) == PRIOR["names"]
    member = pd.read_csv(out / "faction_membership.csv", dtype={"legislator_id": str}).set_index("legislator_id")
    assert member.loc[str(rc.legislators["legislator_id"].iloc[-1]), "p_rep_internationalist"] == pytest.approx(1.0)
    assert json.loads((out / "diagnostics.json").read_text())["linked_to"] == "RUN"
    assert "linked to RUN" in capsys.readouterr().out
    # an unknown faction name is a data error naming the column
    rc.legislators.loc[0, "faction"] = "rep_libertarian"
    bad = write_dir(rc, tmp_path / "bad")
    assert run_cli(argv[:1] + [str(bad)] + argv[2:]) == 2
    err = capsys.readouterr().err
    assert "unknown faction 'rep_libertarian' for legislator" in err and "faction" in err
