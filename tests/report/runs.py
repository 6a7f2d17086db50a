"""Helpers of the report tests: a hand-made ideal-point run directory, a check for external references."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition import _arviz


def external_references(text: str) -> list[str]:
    """Anything in the HTML that would make a browser reach outside the file."""
    bad = []
    for needle in ("http://", "https://", "<script", "<link", "@import", "<iframe", "src=\"//", "ftp://"):
        if needle in text.lower():
            bad.append(needle)
    for m in re.finditer(r"url\(\s*['\"]?([^'\")]*)", text):
        if not m.group(1).startswith("data:"):
            bad.append(m.group(0))
    for m in re.finditer(r"(?:src|href)=\"([^\"]*)\"", text):
        if not (m.group(1).startswith("data:") or m.group(1).startswith("#")):
            bad.append(m.group(0))
    return bad


def ideal_point_run(path: Path, *, divergent: bool, draws: int = 150) -> Path:
    """The files ``bayes-coalition ideal-points`` writes, from a hand-made posterior (no sampling); with the
    default 150 draws per chain its ideal points miss the ESS threshold, with 1000 (and no divergences) they pass."""
    rng = np.random.default_rng(3)
    n_leg, n_rc, chains = 12, 20, 2
    legs = [f"L{i:02d}" for i in range(n_leg)]
    party = np.array(["R"] * 6 + ["D"] * 5 + ["I"])
    truth = np.where(party == "R", 1.0, -1.0) + rng.normal(0, 0.3, n_leg)
    ideal = truth + rng.normal(0, 0.2, (chains, draws, n_leg))
    div = np.zeros((chains, draws), dtype=bool)
    if divergent:
        div[0, :7] = True
    # the alignment's bookkeeping: chain 1 sampled the mirror image (an R-hat in the millions, meaningless)
    sign = np.where(np.arange(chains)[:, None] == 1, -1.0, 1.0) * np.ones((chains, draws))
    sign[0, 0] = -1.0
    idata = _arviz.from_dict(
        posterior={"ideal_point": ideal, "discrimination": rng.normal(1, 0.1, (chains, draws, n_rc)),
                   "difficulty": rng.normal(0, 0.1, (chains, draws, n_rc)),
                   "party_location": rng.normal([1, -1, 0], 0.1, (chains, draws, 3)), "orientation_sign": sign},
        sample_stats={"diverging": div, "energy": rng.normal(size=(chains, draws)), "tree_depth": np.full((chains, draws), 3)},
        coords={"legislator": legs, "rollcall": [f"rc{j}" for j in range(n_rc)], "party": ["D", "I", "R"]},
        dims={"ideal_point": ["legislator"], "discrimination": ["rollcall"], "difficulty": ["rollcall"], "party_location": ["party"]},
    )
    idata.attrs["model_type"] = "bayes_coalition.IdealPointModel"
    idata.attrs["options"] = json.dumps({"link": "probit", "positive_party": "R"})
    idata.attrs["source"] = "synthetic roll calls"
    path.mkdir(parents=True, exist_ok=True)
    _arviz.to_netcdf(idata, path / "posterior.nc")
    mean = ideal.mean(axis=(0, 1))
    names = ["SMITH", "JONES", "SMITH"] + [f"SENATOR {i}" for i in range(3, n_leg)]    # two SMITHs
    pd.DataFrame({"legislator_id": legs, "name": names, "party": party, "mean": mean, "sd": ideal.std(axis=(0, 1)),
                  "lower": mean - 0.4, "upper": mean + 0.4}).to_csv(path / "ideal_points.csv", index=False)
    (path / "diagnostics.json").write_text(json.dumps({"n_legislators": n_leg, "n_rollcalls": n_rc, "sampler": "pymc",
                                                       "chains": chains, "draws": draws, "wall_seconds": 3.2}))
    (path / "holdout.json").write_text(json.dumps({"n_cells": 24, "accuracy": 0.875, "brier": 0.09, "log_score": -0.31,
                                                   "apre": 0.52}))
    return path
