"""Identification: orientation rules and alignment of mirror-image draws onto one frame."""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayes_coalition import _arviz
from bayes_coalition.ideal_points.identification import align_draws, align_posterior, first_component, orientation_weights


def mirrored_posterior(seed=0, n_draws=1000):
    """Chain 1 around a fixed configuration; chain 2 its mirror image (ideal points and discriminations)."""
    rng = np.random.default_rng(seed)
    parties = np.array(["R", "R", "R", "D", "D", "D"])
    centre = np.array([1.2, 0.8, 0.5, -0.4, -0.9, -1.2])
    x1 = centre + 0.05 * rng.normal(size=(n_draws, 6))
    b1 = np.array([2.0, -1.0, 0.5]) + 0.05 * rng.normal(size=(n_draws, 3))
    a1 = np.array([0.1, 0.2, -0.3]) + 0.05 * rng.normal(size=(n_draws, 3))
    post = xr.Dataset(
        {"ideal_point": (("chain", "draw", "legislator"), np.stack([x1, -x1])),
         "discrimination": (("chain", "draw", "rollcall"), np.stack([b1, -b1])),
         "difficulty": (("chain", "draw", "rollcall"), np.stack([a1, a1]))},
        coords={"chain": [0, 1], "draw": np.arange(n_draws), "legislator": list("abcdef"), "rollcall": ["r1", "r2", "r3"]},
    )
    return post, parties


def test_reflected_chains_agree_after_alignment():
    post, parties = mirrored_posterior()
    w, rule = orientation_weights(parties)
    assert rule == "party R positive"
    raw_rhat = float(_arviz.rhat(_arviz.InferenceData(posterior=post), ["ideal_point"])["ideal_point"].max())
    aligned = align_posterior(post, w)
    a = aligned["ideal_point"].values
    np.testing.assert_allclose(a[0], a[1])
    np.testing.assert_allclose(aligned["discrimination"].values[0], aligned["discrimination"].values[1])
    rhat = _arviz.rhat(_arviz.InferenceData(posterior=aligned), ["ideal_point", "discrimination"])
    assert raw_rhat > 1.5
    assert float(rhat["ideal_point"].max()) < 1.01
    assert float(rhat["discrimination"].max()) < 1.01
    assert (aligned["orientation_sign"].values[1] == -1).all()


def test_orientation_republicans_positive_every_draw():
    rng = np.random.default_rng(1)
    parties = np.array(["R"] * 5 + ["D"] * 5)
    base = np.r_[np.full(5, 1.0), np.full(5, -1.0)]
    signs = rng.choice([-1.0, 1.0], size=50)
    ideal = signs[:, None] * (3.0 * base + 7.0 + 0.1 * rng.normal(size=(50, 10)))  # shifted, scaled, flipped
    disc = signs[:, None] * rng.normal(size=(50, 4))
    diff = rng.normal(size=(50, 4))
    w, _ = orientation_weights(parties)
    x, b, a, sign = align_draws(ideal, disc, diff, w)
    assert np.all(x[:, :5].mean(axis=1) > 0)
    np.testing.assert_allclose(x.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=1), 1, atol=1e-12)
    # the linear predictor of every cell is unchanged by the alignment
    np.testing.assert_allclose(ideal[:, :, None] * disc[:, None, :] - diff[:, None, :],
                               x[:, :, None] * b[:, None, :] - a[:, None, :], atol=1e-10)


def test_orientation_rules_precedence_and_fallback():
    parties = np.array(["D", "R", "D"])
    w, rule = orientation_weights(parties, anchors={2: (1.0, 0.01)})
    assert rule == "anchors" and w[2] == 1.0
    w, rule = orientation_weights(parties, positive_legislator=0)
    assert rule == "positive_legislator"
    train = np.array([[1, 0, 1.0], [0, 1, 0.0], [1, 0, np.nan]])
    w, rule = orientation_weights(np.array(["(none)"] * 3), train=train)
    assert rule.startswith("first principal component")
    assert w[np.argmax(np.abs(w))] > 0




def test_first_component_separates_blocs_and_is_signed():
    train = np.array([[1, 1, 0, 0], [1, 1, 0, np.nan], [1, 1, 0, 0], [0, 0, 1, 1], [0, np.nan, 1, 1.0]])
    pc = first_component(train)
    assert np.all(np.sign(pc[:3]) == np.sign(pc[0])) and np.all(np.sign(pc[3:]) == -np.sign(pc[0]))
    assert pc[np.argmax(np.abs(pc))] > 0
    np.testing.assert_allclose(first_component(1 - train), pc)   # recoding yea/nay is the same axis
