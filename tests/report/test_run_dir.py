"""The run-directory writers produce what ``bayes-coalition fit`` / ``ideal-points`` write, as strict JSON,
and :func:`load_run` reads it back."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_coalition.cli.main import main as cli_main
from bayes_coalition.data.rollcalls import RollCallMatrix
from bayes_coalition.errors import ConvergenceWarning
from bayes_coalition.ideal_points.model import IdealPointModel
from bayes_coalition.report import load_run
from bayes_coalition.report import run_dir as rd

COALITION_FILES = {"posterior.nc", "posterior.draws.npz", "summary.csv", "approval.csv", "ppc.csv", "ideal_points.csv",
                   "hypotheses.csv", "threshold_check.csv", "data_usage.csv", "diagnostics.json"}


def _strict_json(path) -> dict:
    """Parse as JSON that has no NaN / Infinity tokens (which json.loads would accept)."""
    def reject(token):
        raise AssertionError(f"{path.name}: non-standard JSON token {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


def test_write_coalition_run(fitted, tmp_path):
    written = rd.write_coalition_run(fitted, tmp_path / "run", wall_seconds=42.0)
    assert set(written.files) == COALITION_FILES == {p.name for p in (tmp_path / "run").iterdir()}
    diag = _strict_json(tmp_path / "run" / "diagnostics.json")
    assert set(diag) == set(fitted.diagnostics) | {"sampling_seconds"}
    assert diag["wall_seconds"] == 42.0 and diag["sampling_seconds"] == pytest.approx(fitted.diagnostics["wall_seconds"])
    assert diag == written.diagnostics and written.approval.equals(fitted.approval())
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert summary.columns[0] == "parameter" and len(summary) == len(fitted.summary())
    assert list(pd.read_csv(tmp_path / "run" / "hypotheses.csv").columns) == list(fitted.hypotheses().columns)
    run = load_run(tmp_path / "run")
    assert run.kind == "coalition" and run.model.id == fitted.id and run.stored_diag["wall_seconds"] == 42.0


def test_write_coalition_run_without_wall_time_keeps_the_model_diagnostics(fitted, tmp_path, monkeypatch):
    monkeypatch.setitem(fitted.idata.attrs, "diagnostics", fitted.idata.attrs["diagnostics"])  # save() restamps it
    monkeypatch.setattr(fitted, "diagnostics", {**fitted.diagnostics, "min_bfmi": float("nan")})
    written = rd.write_coalition_run(fitted, tmp_path)
    diag = _strict_json(tmp_path / "diagnostics.json")
    assert "sampling_seconds" not in diag and diag["min_bfmi"] is None  # NaN is written as null
    assert written.diagnostics["wall_seconds"] == fitted.diagnostics["wall_seconds"]


# --- ideal-point runs: the writer against the CLI --------------------------------------------------------


def _matrix(n_leg=16, n_rc=30, seed=0) -> RollCallMatrix:
    rng = np.random.default_rng(seed)
    party = np.array(["R"] * (n_leg // 2) + ["D"] * (n_leg - n_leg // 2))
    x = np.where(party == "R", 1.0, -1.0) + 0.4 * rng.normal(size=n_leg)
    votes = (rng.random((n_leg, n_rc)) < 1 / (1 + np.exp(-np.outer(x, rng.normal(0, 2, n_rc))))).astype(float)
    votes[rng.random(votes.shape) < 0.1] = np.nan
    ids, rcs = [f"L{i}" for i in range(n_leg)], [f"rc{j}" for j in range(n_rc)]
    da = xr.DataArray(votes, dims=("legislator", "rollcall"),
                      coords={"legislator": np.array(ids, dtype=object), "rollcall": np.array(rcs, dtype=object)})
    legislators = pd.DataFrame({"legislator_id": ids, "name": [f"NAME {i}" for i in range(n_leg)], "party": party})
    return RollCallMatrix(da, legislators, pd.DataFrame({"rollcall": rcs}), source="simulated")


def _cli_run(matrix: RollCallMatrix, folder, out) -> int:
    folder.mkdir()
    wide = matrix.votes.to_pandas()
    wide.index.name = "legislator_id"
    wide.to_csv(folder / "votes_wide.csv")
    matrix.legislators.to_csv(folder / "legislators.csv", index=False)
    return cli_main(["ideal-points", str(folder), "--out", str(out), "--seed", "3", "--holdout-fraction", "0.1",
                     "--draws", "20", "--chains", "1", "--min-votes", "5", "--no-report"])


def test_write_ideal_point_run_matches_the_cli(mock_pymc_sample, tmp_path):
    matrix = _matrix()
    with pytest.warns(ConvergenceWarning):
        assert _cli_run(matrix, tmp_path / "data", tmp_path / "cli") == 0
    model = IdealPointModel(matrix, min_votes=5, holdout_fraction=0.1, holdout_seed=3)
    with pytest.warns(ConvergenceWarning):
        model.fit(random_seed=3, draws=20, chains=1, tune=500, progressbar=False)
    written = rd.write_ideal_point_run(model, tmp_path / "api", wall_seconds=5.0)
    cli_files = {p.name for p in (tmp_path / "cli").iterdir()}
    assert set(written.files) == cli_files == {p.name for p in (tmp_path / "api").iterdir()}
    assert {"holdout.json", "fit_statistics.json", "diagnostics.json", "ideal_points.csv", "posterior.nc"} <= cli_files
    for name in ("diagnostics.json", "fit_statistics.json", "holdout.json"):
        api, cli = _strict_json(tmp_path / "api" / name), _strict_json(tmp_path / "cli" / name)
        assert list(api) == list(cli), name
    assert _strict_json(tmp_path / "api" / "holdout.json")["fraction"] == 0.1
    diag = _strict_json(tmp_path / "api" / "diagnostics.json")
    assert diag["max_rhat"] is None and diag["wall_seconds"] == 5.0  # one chain: no R-hat, written as null
    assert list(pd.read_csv(tmp_path / "api" / "ideal_points.csv").columns) == list(
        pd.read_csv(tmp_path / "cli" / "ideal_points.csv").columns)
    run = load_run(tmp_path / "api")
    assert run.kind == "ideal_points" and set(run.files) == {"ideal_points", "holdout", "fit_statistics"}
    # legislators are named beside their ids, in the files and for an in-memory model
    for table in (run.files["ideal_points"], pd.read_csv(tmp_path / "cli" / "ideal_points.csv", dtype=str),
                  load_run(model).files["ideal_points"]):
        assert list(table.columns[:2]) == ["legislator_id", "name"]
        assert (table["name"] == "NAME " + table["legislator_id"].str.slice(1)).all()
