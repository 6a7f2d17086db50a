"""Krippendorff's alpha against published values and a brute-force pair count; the shipped
reliability.json against the script that computes it from the two raw codings."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from bayes_coalition.data.reliability import coincidences, krippendorff_alpha, paired_units
from tests.helpers import REPO

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers x 12 units
# with missing values. Published: nominal 0.743, ordinal 0.815, interval 0.849 (three decimals; the
# `krippendorff` package on PyPI gives 0.7434, 0.8154, 0.8491 on the same matrix).
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]).T


@pytest.mark.parametrize("metric, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_published_example(metric, published):
    assert krippendorff_alpha(KRIPPENDORFF_2011, metric) == pytest.approx(published, abs=5e-4)


def _brute_force(units, metric):
    """alpha = 1 - D_o / D_e from every ordered pair of pairable values, the textbook way:
    D_o over pairs within a unit (weight 1/(m_u - 1)), D_e over all pairs of pairable values."""
    values = [[v for v in u if not np.isnan(v)] for u in units]
    values = [u for u in values if len(u) >= 2]
    pooled = [v for u in values for v in u]
    n = len(pooled)
    levels = sorted(set(pooled))
    count = {c: pooled.count(c) for c in levels}

    def d2(c, k):
        if metric == "nominal":
            return float(c != k)
        if metric == "interval":
            return (c - k) ** 2
        lo, hi = min(c, k), max(c, k)
        return (sum(count[g] for g in levels if lo <= g <= hi) - (count[c] + count[k]) / 2) ** 2

    observed = sum(d2(a, b) / (len(u) - 1) for u in values for a, b in itertools.permutations(u, 2)) / n
    expected = sum(d2(a, b) for a, b in itertools.permutations(pooled, 2)) / (n * (n - 1))
    return 1 - observed / expected


@pytest.mark.parametrize("metric", ["nominal", "ordinal", "interval"])
def test_agrees_with_a_brute_force_count_on_random_codings(metric):
    rng = np.random.default_rng(3)
    for _ in range(5):
        units = rng.integers(0, 3, size=(40, 2)).astype(float)
        units[rng.random(units.shape) < 0.2] = NAN
        assert krippendorff_alpha(units, metric) == pytest.approx(_brute_force(units, metric), rel=1e-12)


def test_boundaries():
    # perfect agreement with variation: 1; no pairable value or no variation: undefined, not 1
    assert krippendorff_alpha([[0, 0], [1, 1], [2, 2]]) == pytest.approx(1.0)
    assert np.isnan(krippendorff_alpha([[1, 1], [1, 1]]))
    assert np.isnan(krippendorff_alpha([[1, NAN], [NAN, 2]]))
    # systematic disagreement is worse than chance
    assert krippendorff_alpha([[0, 2], [2, 0], [0, 2], [2, 0]]) < 0
    # a unit coded once adds nothing to the coincidences
    assert coincidences([[1, NAN]], [1.0]).sum() == 0
    with pytest.raises(ValueError, match="unknown metric"):
        krippendorff_alpha([[0, 1]], "ratio")


def test_ordinal_differs_from_interval_on_skewed_marginals():
    """The ordinal distance uses the marginals: a 0-vs-1 disagreement costs less when 1 is rare."""
    units = [[0, 1]] + [[0, 0]] * 8 + [[2, 2]] * 8
    assert krippendorff_alpha(units, "ordinal") != pytest.approx(krippendorff_alpha(units, "interval"))


def test_paired_units_rejects_a_unit_coded_twice():
    import pandas as pd

    a = pd.DataFrame({"unit": ["x", "x"], "level": [0, 1]})
    with pytest.raises(ValueError, match="codes a unit twice"):
        paired_units(a, a.iloc[:1], ["unit"])


def test_shipped_reliability_is_what_the_script_computes(tmp_path):
    out = tmp_path / "reliability.json"
    subprocess.run([sys.executable, str(REPO / "scripts" / "reliability.py"), "--out", str(out)], check=True,
                   capture_output=True)
    shipped = json.loads((REPO / "data" / "coding" / "reliability.json").read_text())
    assert json.loads(out.read_text()) == shipped
    # one block per indicator of the codebook; the overall figure meets Krippendorff's lowest bar
    codebook = (REPO / "data" / "codebook.csv").read_text().splitlines()[1:]
    assert set(shipped["by_indicator"]) == {line.split(",")[0] for line in codebook}
    assert shipped["overall"]["alpha_ordinal"] >= shipped["threshold"] == 0.667
