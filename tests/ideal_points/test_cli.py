"""The ideal-point CLI: files written, keys reported, long format, bad input (mocked sampling)."""

from __future__ import annotations

import json

import pandas as pd

from tests.helpers import run_cli
from tests.ideal_points.helpers import simulate_matrix, write_dir


def test_cli_writes_files_and_keys(mock_pymc_sample, tmp_path, capsys):
    rc, _ = simulate_matrix(n_leg=30, n_rc=60)
    data = write_dir(rc, tmp_path / "data")
    out = tmp_path / "out"
    code = run_cli(["ideal-points", str(data), "--out", str(out), "--seed", "3", "--holdout-fraction", "0.1",
                    "--draws", "20", "--chains", "2", "--min-votes", "5"])
    assert code == 0
    for name in ("ideal_points.csv", "diagnostics.json", "holdout.json", "posterior.nc", "fit_statistics.json",
                 "report.html", "report.md"):
        assert (out / name).is_file(), name
    assert "Ideal points by party" in (out / "report.html").read_text(encoding="utf-8")
    table = pd.read_csv(out / "ideal_points.csv")
    assert list(table.columns) == ["legislator_id", "name", "party", "mean", "sd", "lower", "upper"]
    assert table["name"].str.startswith("name").all()          # names from legislators.csv ride along
    diag = json.loads((out / "diagnostics.json").read_text())
    for key in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi", "wall_seconds", "sampler",
                "draws", "chains", "n_legislators", "n_rollcalls", "n_cells", "lopsided_rollcalls", "low_activity_legislators"):
        assert key in diag
    assert diag["draws"] == 20 and diag["chains"] == 2
    hold = json.loads((out / "holdout.json").read_text())
    assert {"n_cells", "accuracy", "brier", "log_score", "apre"} <= set(hold)
    assert "convergence:" in capsys.readouterr().out


def test_cli_long_format_and_bad_input(mock_pymc_sample, tmp_path, capsys):
    rc, _ = simulate_matrix(n_leg=10, n_rc=30)
    long = rc.votes.to_dataframe(name="vote").reset_index().rename(columns={"legislator": "legislator_id"})
    long["vote"] = long["vote"].map({1.0: "1", 0.0: "0"}).fillna("")
    long.to_csv(tmp_path / "long.csv", index=False)
    assert run_cli(["ideal-points", "--votes", str(tmp_path / "long.csv"), "--format", "long", "--out", str(tmp_path / "o"),
                    "--draws", "10", "--min-votes", "1", "--positive-party", "none"]) == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "votes_wide.csv").write_text("legislator_id,rc1\nA,1\nB,yes\n")
    assert run_cli(["ideal-points", str(bad), "--out", str(tmp_path / "o2")]) == 2
    assert "invalid data" in capsys.readouterr().err
    assert run_cli(["ideal-points", "--out", str(tmp_path / "o3")]) == 2


def test_cli_batch_of_matrices_one_run_each_and_resumable(mock_pymc_sample, tmp_path, capsys):
    """Several directories are a batch: one run folder per directory (named after it) holding what a single
    run writes, the same posterior as fitting that directory alone; no temporary folder is left; a rerun
    skips the finished runs; a bad matrix fails the batch (exit 2) without a run folder."""
    import numpy as np
    import xarray as xr

    dirs = []
    for i, (n_leg, n_rc) in enumerate(((12, 30), (14, 30))):
        rc, _ = simulate_matrix(n_leg=n_leg, n_rc=n_rc, seed=i)
        dirs.append(write_dir(rc, tmp_path / f"congress{105 + i}"))
    opts = ["--seed", "3", "--draws", "10", "--chains", "2", "--min-votes", "5", "--no-report"]
    out = tmp_path / "batch"
    assert run_cli(["ideal-points", *map(str, dirs), "--out", str(out), *opts]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["congress105", "congress106"]
    for d in dirs:
        assert {"ideal_points.csv", "diagnostics.json", "posterior.nc"} <= {p.name for p in (out / d.name).iterdir()}
    text = capsys.readouterr().out
    assert "== congress105 ==" in text and f"wrote {out / 'congress106'}/" in text
    single = tmp_path / "single"
    assert run_cli(["ideal-points", str(dirs[1]), "--out", str(single), *opts]) == 0
    a = xr.open_dataset(out / "congress106" / "posterior.nc", group="posterior")
    b = xr.open_dataset(single / "posterior.nc", group="posterior")
    np.testing.assert_array_equal(a["ideal_point"].values, b["ideal_point"].values)
    capsys.readouterr()
    assert run_cli(["ideal-points", *map(str, dirs), "--out", str(out), *opts]) == 0
    assert capsys.readouterr().out.count("done already") == 2
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "votes_wide.csv").write_text("legislator_id,rc1\nA,1\nB,yes\n")
    assert run_cli(["ideal-points", str(dirs[0]), str(bad), "--out", str(tmp_path / "b2"), *opts]) == 2
    assert not (tmp_path / "b2" / "bad").exists() and not list((tmp_path / "b2").glob(".*tmp*"))
