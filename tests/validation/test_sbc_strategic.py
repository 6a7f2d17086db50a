"""The strategic layers' data in the full model's SBC (bayes_coalition/validation/sbc_strategic.py): held votes drawn
given that they are held, truths given the withdrawn measures, and floor-expectation levels; on one draw of a real
posterior (tests/fixtures/real_run, model v2) with the layer's parameters set by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayes_coalition.coalition import agenda, rules
from bayes_coalition.validation import sbc_strategic

REPO = Path(__file__).resolve().parents[2]
LAYER = {"agenda_bar": 0.02, "agenda_scale": 0.01, "agenda_leak": 0.05}


@pytest.fixture(scope="module")
def one_draw():
    from bayes_coalition import CoalitionModel
    from bayes_coalition.coalition.predictive import draw_arrays

    run = CoalitionModel.load(REPO / "tests" / "fixtures" / "real_run", groups=("posterior",))
    post = run.idata.posterior.isel(chain=[0], draw=[7])
    md = run.model_data
    arrays = draw_arrays(post, md, run.discrimination)
    truth = {k: float(post[k].values.ravel()[0]) for k in ("sigma_case", "sigma_party_tilt")}
    truth.update(case_z=post["case_z"].values[0, 0], party_tilt_z=post["party_tilt_z"].values[0, 0], **LAYER)
    return md, arrays, truth


def _pi(md, totals, j):
    from bayes_coalition.coalition.graph import floor_rows

    held, _ = sbc_strategic.floor_cases(md)
    fr = floor_rows(md, held)
    return agenda.floor_given_count(np, totals, fr["threshold"][j], fr["n_case"][j], LAYER["agenda_bar"],
                                    LAYER["agenda_scale"], LAYER["agenda_leak"])


def test_held_votes_are_drawn_given_that_they_are_held(one_draw):
    """Rejection against importance weighting: the mean total of a vote's held draws equals the pi(y)-weighted mean
    of unselected draws (deviations from their prior, rows from the count model) within Monte Carlo error, on the
    held vote whose selection moves it most; a vote's totals are the sums of its rows, and the deviations the
    held rows were drawn at are the ones returned."""
    from bayes_coalition.coalition.predictive import simulate

    md, arrays, truth = one_draw
    held, _ = sbc_strategic.floor_cases(md)
    rng = np.random.default_rng(3)
    # the reference: 20,000 unselected draws of every held vote's deviations and rows, weighted by pi(y)
    n_ref = 20_000
    ref = sbc_strategic.tiled(arrays, n_ref)
    s_c, s_t = truth["sigma_case"], truth["sigma_party_tilt"]
    cut_mean = arrays["cut_point"][0] - s_c * truth["case_z"]
    tilt_mean = arrays["party_tilt"][0] - s_t * truth["party_tilt_z"]
    ref["cut_point"][:, held] = cut_mean[held] + s_c * rng.normal(size=(n_ref, len(held)))
    ref["party_tilt"][:, held] = tilt_mean[held] + s_t * rng.normal(size=(n_ref, len(held)))
    y = simulate(ref, md, rng)["obs_yea"]
    rows = [np.flatnonzero(md.obs_case_idx == c) for c in held]
    totals = np.stack([y[:, r].sum(axis=1) for r in rows], axis=1)                 # (draw, held vote)
    w = np.stack([_pi(md, totals[:, j], j) for j in range(len(held))], axis=1)
    weighted = (w * totals).sum(axis=0) / w.sum(axis=0)
    plain = totals.mean(axis=0)
    j = int(np.argmax(np.abs(weighted - plain) / totals.std(axis=0)))
    assert abs(weighted[j] - plain[j]) > 0.3 * totals[:, j].std()          # selection matters on this vote
    got = []
    for _ in range(150):
        out = sbc_strategic.held_votes(arrays, md, truth, rng)
        got.append(out["yea_held"][j])
        assert np.array_equal(out["yea_held"], [out["obs_yea"][r].sum() for r in rows])
        assert (out["obs_yea"][np.concatenate(rows)] >= 0).all()
        others = np.setdiff1d(np.arange(len(md.obs_n)), np.concatenate(rows))
        assert (out["obs_yea"][others] == -1).all()
        np.testing.assert_allclose(out["cut_point"][held], cut_mean[held] + s_c * out["case_z"][held])
        np.testing.assert_allclose(out["party_tilt"][held], tilt_mean[held] + s_t * out["party_tilt_z"][held])
        not_held = np.setdiff1d(np.arange(len(out["case_z"])), held)
        np.testing.assert_array_equal(out["case_z"][not_held], truth["case_z"][not_held])
    got = np.asarray(got, dtype=float)
    # the weighted reference's own error is small against the 150 draws' (effective size of 20,000 weights)
    se = got.std(ddof=1) / np.sqrt(len(got))
    assert abs(got.mean() - weighted[j]) < 4 * se
    assert abs(got.mean() - plain[j]) > 4 * se                              # and not the unselected mean


def test_kept_prior_draws_keep_each_draw_with_the_probability_of_the_withdrawals(one_draw):
    """P(kept) = prod(1 - Z_withdrawn): a draw whose withdrawn measure would surely be held (Z = 1) is never kept, one
    with Z = 0 always, one with Z = 0.75 a quarter of the time (binomial error)."""
    md, _, _ = one_draw
    held, withdrawn = sbc_strategic.floor_cases(md)
    assert len(withdrawn) == 1 and md.coords["case"][withdrawn[0]] == "ft1997_h_whip"
    z = np.zeros((4000, len(held) + 1))
    z[:, :len(held)] = 0.5                                   # the held votes' Z plays no part
    z[0::4, -1] = 1.0
    z[1::4, -1] = 0.0
    z[2::4, -1] = 0.75
    z[3::4, -1] = 0.75
    kept = sbc_strategic.kept_prior_draws(z, md, 10, np.random.default_rng(1))
    assert len(kept) == 10 and np.all(np.diff(kept) > 0)
    every = sbc_strategic.kept_prior_draws(z, md, 1, np.random.default_rng(1))
    assert every[0] == kept[0]
    rng = np.random.default_rng(2)
    keep_prob = np.prod(1.0 - z[:, len(held):], axis=1)
    draws = np.flatnonzero(rng.uniform(size=len(keep_prob)) < keep_prob)
    all_kept = sbc_strategic.kept_prior_draws(z, md, len(draws), np.random.default_rng(2))
    assert not np.isin(all_kept, np.arange(0, 4000, 4)).any()
    assert np.isin(np.arange(1, 4000, 4), all_kept).all()
    share = np.isin(np.flatnonzero(z[:, -1] == 0.75), all_kept).mean()
    assert abs(share - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 2000)
    with pytest.raises(RuntimeError, match="fewer than the 4000 simulations"):
        sbc_strategic.kept_prior_draws(z, md, 4000, np.random.default_rng(1))


def test_expectation_levels_follow_the_expected_margin(one_draw):
    """With a steep slope the level is the side of the cut-points the vote's expected margin lies on; the margin
    recomputed here from the count rows' own probabilities (predictive.row_probabilities, row by row)."""
    from bayes_coalition import CoalitionModel
    from bayes_coalition.coalition.graph import floor_rows
    from bayes_coalition.coalition.predictive import row_probabilities
    from bayes_coalition.coalition.spec import load_spec, shipped_spec_path

    _, arrays, _ = one_draw
    md = CoalitionModel(spec=load_spec(shipped_spec_path("trade_coalition_expectation"))).model_data
    cases = md.expect_case_idx
    assert len(cases) >= 30
    p = row_probabilities(arrays, md, interval=False)[0]
    mean = np.array([np.sum(md.obs_n[md.obs_case_idx == c] * p[md.obs_case_idx == c]) for c in cases])
    fr = floor_rows(md, cases)
    points = 100.0 * (mean - (fr["threshold"] - 0.5)) / fr["n_case"]
    levels = sbc_strategic.expectation_levels(arrays, md, 200.0, np.array([-100.0, 100.0]), np.random.default_rng(0))
    far = np.abs(np.abs(points) - 0.5) > 0.05                # not within 0.05 points of a cut (eta +-100 at +-0.5)
    expected = np.where(points < -0.5, 0, np.where(points > 0.5, 2, 1))
    np.testing.assert_array_equal(levels[far], expected[far])
    assert len(set(expected[far].tolist())) >= 2             # the votes are on more than one side
    # a flat slope: every level drawn with the cut-points' probabilities (1/(1+e), 1 - 2/(1+e), 1/(1+e)), tallied
    flat = np.stack([sbc_strategic.expectation_levels(arrays, md, 0.0, np.array([-1.0, 1.0]), np.random.default_rng(s))
                     for s in range(200)])
    share = np.bincount(flat.ravel(), minlength=3) / flat.size
    ends = 1.0 / (1.0 + np.e)
    np.testing.assert_allclose(share, [ends, 1 - 2 * ends, ends], atol=4 * np.sqrt(0.25 / flat.size))


def test_refuses_what_it_cannot_draw():
    from bayes_coalition.coalition.spec import DEFAULT_SPEC, merge

    spec = merge(DEFAULT_SPEC, {"model": {"agenda_control": True, "party_tilt": "student_t"}})
    with pytest.raises(NotImplementedError, match="Student-t"):
        sbc_strategic.layers(spec)
    assert sbc_strategic.layers(merge(DEFAULT_SPEC, {"model": {"agenda_control": True, "floor_expectation": True}})) == (True, True)
    assert rules.HELD != rules.WITHDRAWN
