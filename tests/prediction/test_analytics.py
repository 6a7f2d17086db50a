"""Coalition analytics on hand-made draws with known answers, and properties on random ones."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_coalition.prediction import analytics as an

ACTORS = ["a", "b", "c", "d"]


def da(values, dims=("actor",)):
    coords = {"actor": ACTORS[: np.shape(values)[-1]]} if "actor" in dims else {}
    return xr.DataArray(np.asarray(values, dtype=float), dims=dims, coords=coords)


@pytest.mark.parametrize(
    "positions, weights, expected",
    [
        ([2, 1, -1, -2], [30, 30, 20, 20], [False, True, False, False]),   # b: |30 - 40| = 10 <= 30
        ([3, 2, 1, 0], [10, 10, 10, 10], [False, True, True, False]),      # the two middle actors: |10 - 20| = 10
        ([1, 0, -1], [50, 1, 49], [True, True, False]),                    # a: |0 - 50| = 50 <= 50 (equality counts); b: |50 - 49| <= 1
        ([1, 0, -1], [50, 1, 50], [False, True, False]),                   # b: |50 - 50| = 0 <= 1
        ([0, 0, 1], [10, 10, 5], [True, True, False]),                     # tied positions count on neither side
        ([1, 0, -1], [0, 0, 0], [True, True, True]),                       # all weightless: |0 - 0| <= 0
    ],
)
def test_de_swaan_pivotal_on_known_examples(positions, weights, expected):
    got = an.de_swaan_pivotal(da(positions), da(weights))
    assert got.values.tolist() == expected


def test_minimum_winning_coalition_from_the_free_trade_edge():
    pos = da([[2, 1, -1, -2], [-2, -1, 1, 2]], dims=("draw", "actor"))
    w = da([30, 30, 20, 20])
    mwc = an.minimum_winning_coalition(pos, w, 51)
    assert mwc["members"].values.tolist() == [[True, True, False, False], [False, True, True, True]]
    assert mwc["size"].values.tolist() == [2.0, 3.0] and mwc["weight"].values.tolist() == [60.0, 70.0]
    # weights that cannot reach the threshold: no coalition, P(forms) = 0
    none = an.minimum_winning_coalition(pos, w, 101)
    assert not none["reachable"].any() and np.isnan(none["size"]).all() and not none["members"].any()
    forms = an.coalition_forms(pos, xr.DataArray([0.0, 0.0], dims="draw"), w, 101)
    assert float(an.probability(forms["forms"])) == 0.0


def test_membership_follows_the_cut_point_and_polarity():
    pos = da([2, 0.5, -1, -3])
    assert an.yes_coalition(pos, 0.0).values.tolist() == [True, True, False, False]
    assert an.yes_coalition(pos, 0.0, pro_trade=False).values.tolist() == [False, False, True, True]
    assert an.deadlock_coalition(pos, 0.0).values.tolist() == [False, False, True, True]
    spread = an.deadlock_spread(pos, 0.0)
    assert float(spread) == pytest.approx(np.std([-1, -3], ddof=1))
    assert np.isnan(float(an.deadlock_spread(pos, -2.0)))  # one member only


def test_decisiveness_flags_actors_whose_switch_flips_the_outcome():
    pos = da([2, 1, -1, -2])
    w = da([30, 30, 20, 20])
    # yes = a + b = 60 >= 51: losing a or b flips it; c or d joining does not matter
    assert an.decisive(pos, 0.0, w, 51).values.tolist() == [True, True, False, False]
    # threshold 70: yes 60 fails; c or d joining (80) flips, a or b leaving does not
    assert an.decisive(pos, 0.0, w, 70).values.tolist() == [False, False, True, True]


def test_institutional_pivots_on_a_known_chamber():
    members = xr.DataArray(np.arange(100, dtype=float)[None, :], dims=("draw", "legislator"))
    piv = an.institutional_pivots(members)
    assert piv.sel(pivot="median").item() == 49.5
    assert piv.sel(pivot="filibuster").item() == 40.0     # 60th from the top of 0..99
    assert piv.sel(pivot="veto_override").item() == 33.0  # 67th from the top


@settings(max_examples=60, deadline=None)
@given(
    pos=st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=6),
    data=st.data(),
)
def test_properties_on_random_draws(pos, data):
    n = len(pos)
    weights = data.draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    cut = data.draw(st.floats(-3, 3, allow_nan=False))
    threshold = data.draw(st.integers(1, 200))
    p = xr.DataArray(np.array(pos)[None, :], dims=("draw", "actor"))
    w = xr.DataArray(np.array(weights, dtype=float), dims="actor")
    yes = an.yes_coalition(p, cut)
    # membership consistent with the cut-point
    assert (yes.values[0] == (np.array(pos) > cut)).all()
    forms = an.coalition_forms(p, cut, w, threshold)
    prob = float(an.probability(forms["forms"]))
    if sum(weights) < threshold:
        assert prob == 0.0
    mwc = an.minimum_winning_coalition(p, w, threshold)
    if bool(mwc["reachable"].item()):
        assert mwc["weight"].item() >= threshold
        # minimal along the free-trade edge: dropping its innermost member falls short
        order = np.argsort(-np.array(pos), kind="stable")
        k = int(mwc["size"].item())
        assert np.array(weights)[order][: k - 1].sum() < threshold
    piv = an.de_swaan_pivotal(p, w).values[0]
    for i in range(n):
        right = sum(weights[j] for j in range(n) if pos[j] > pos[i])
        left = sum(weights[j] for j in range(n) if pos[j] < pos[i])
        assert piv[i] == (abs(right - left) <= weights[i])
