"""Simulated roll-call matrices and CLI plumbing shared by the ideal-point tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from bayes_coalition.data.rollcalls import RollCallMatrix


def simulate_matrix(n_leg=12, n_rc=40, missing=0.1, seed=0) -> tuple[RollCallMatrix, np.ndarray]:
    """A 2PL matrix: the first half Republicans on the right; returns (matrix, true ideal points)."""
    rng = np.random.default_rng(seed)
    party = np.array(["R"] * (n_leg // 2) + ["D"] * (n_leg - n_leg // 2))
    x = np.where(party == "R", 1.0, -1.0) + 0.4 * rng.normal(size=n_leg)
    beta = rng.normal(0, 2, n_rc)
    alpha = rng.normal(0, 1, n_rc)
    votes = (rng.random((n_leg, n_rc)) < expit(np.outer(x, beta) - alpha)).astype(float)
    votes[rng.random(votes.shape) < missing] = np.nan
    ids = [f"L{i}" for i in range(n_leg)]
    rcs = [f"rc{j}" for j in range(n_rc)]
    da = xr.DataArray(votes, dims=("legislator", "rollcall"),
                      coords={"legislator": np.array(ids, dtype=object), "rollcall": np.array(rcs, dtype=object)})
    legs = pd.DataFrame({"legislator_id": ids, "party": party, "name": [f"name{i}" for i in range(n_leg)],
                         "age": rng.integers(40, 80, n_leg).astype(str)})
    return RollCallMatrix(da, legs, pd.DataFrame({"rollcall": rcs}), source="simulated"), x


def with_votes(rc: RollCallMatrix, votes: np.ndarray) -> RollCallMatrix:
    """The same matrix with other votes."""
    return RollCallMatrix(rc.votes.copy(data=votes), rc.legislators, rc.rollcalls, rc.source, dict(rc.dropped))


def write_dir(rc: RollCallMatrix, folder: Path) -> Path:
    """``rc`` as a data directory (votes_wide.csv, legislators.csv)."""
    folder.mkdir()
    wide = rc.votes.to_pandas()
    wide.index.name = "legislator_id"
    wide.to_csv(folder / "votes_wide.csv")
    rc.legislators.to_csv(folder / "legislators.csv", index=False)
    return folder
