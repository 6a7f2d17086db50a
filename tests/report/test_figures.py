"""Figures drawn from computed data: what a figure plots is checked against the statistic it stands for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_coalition.report import figures
from bayes_coalition.validation.sbc import RANK_COLUMNS
from bayes_coalition.validation.sbc_stats import ecdf_statistic


def test_sbc_ecdf_plots_the_statistic_of_the_ecdf_test():
    """Each scalar's line is its ECDF minus the uniform on the test's grid: every rank once (the discrete uniform)
    lies on zero, and the largest distance of a skewed scalar's line from zero is its ``ecdf_statistic``."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(5)
    skewed = (rng.random(100) ** 1.6 * 100).astype(int)
    rows = [(s, "flat", s, 99) for s in range(100)] + [(s, "skewed", int(skewed[s]), 99) for s in range(100)]
    fig = figures.sbc_ecdf(pd.DataFrame(rows, columns=RANK_COLUMNS))
    try:
        lines = {ax.get_title().split(" ")[0]: ax.get_lines()[0].get_ydata() for ax in fig.axes if ax.get_lines()}
    finally:
        plt.close(fig)
    assert np.max(np.abs(lines["flat"])) == pytest.approx(0.0, abs=1e-12)
    assert ecdf_statistic(skewed, 99) > 0.1
    assert np.max(np.abs(lines["skewed"])) == pytest.approx(ecdf_statistic(skewed, 99), abs=1e-12)
