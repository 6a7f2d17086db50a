"""The one owner of a run directory: what ``bayes-coalition fit`` / ``ideal-points`` write and the report reads.

File names are defined here once; :func:`write_coalition_run` and :func:`write_ideal_point_run`
write a fitted model's files (JSON through :func:`bayes_coalition._io.write_json`, so NaN
is written as ``null``), :func:`load_run` reads a run back (or wraps a fitted model) for the
report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_coalition import _arviz
from bayes_coalition._base import RUN_FILE
from bayes_coalition._io import read_json, write_json
from bayes_coalition.constants import SUMMARY_PROB

COALITION_TYPE = "bayes_coalition.CoalitionModel"
IDEAL_POINT_TYPE = "bayes_coalition.IdealPointModel"

POSTERIOR = RUN_FILE
POSTERIOR_DRAWS = "posterior.draws.npz"   # CoalitionModel.save's fast-loading copy of the draws, beside posterior.nc
DIAGNOSTICS = "diagnostics.json"
SUMMARY = "summary.csv"
APPROVAL = "approval.csv"
PPC = "ppc.csv"
IDEAL_POINTS = "ideal_points.csv"
HYPOTHESES = "hypotheses.csv"
THRESHOLD_CHECK = "threshold_check.csv"
DATA_USAGE = "data_usage.csv"
FIT_STATISTICS = "fit_statistics.json"
FIT_STATISTICS_OLD = "fit.json"           # name of fit_statistics.json in early ideal-point runs
HOLDOUT = "holdout.json"
FACTION_POSITIONS = "faction_positions.csv"
FACTION_MEMBERSHIP = "faction_membership.csv"
PRIOR_CACHE = "prior.nc"                  # prior predictive draws (``fit --prior-only``; cached by the report)
PRIOR_PREDICTIVE = "prior_predictive.csv"
HOLDOUT_KEYS = ("n_cells", "accuracy", "brier", "log_score", "apre", "gmp")
BACKTEST = "backtest.json"                # the scores `bayes-coalition backtest` writes (validation/backtest.py)


@dataclass
class WrittenRun:
    """What a writer produced: the directory, its files (in writing order) and what the CLI prints."""

    path: Path
    files: list[str]
    diagnostics: dict
    approval: pd.DataFrame | None = None


def validation_dirs(run_dir: Path | None, name: str) -> dict:
    """The batch commands' default output folders next to a run directory (``reports/<name>`` has its
    backtest in ``reports/<name>_backtest``, and so on): where the report and ``predict`` look for them."""
    if run_dir is None:
        return {}
    base = Path(run_dir).parent
    return {"sbc": base / f"{name}_sbc", "ideal_points_sbc": base / "ideal_points_sbc",
            "backtest": base / f"{name}_backtest", "compare": base / f"{name}_hypotheses"}


@dataclass(frozen=True)
class Record:
    """What a batch command writes beside a run (``<name>_backtest``, ``<name>_sbc``, ``<name>_hypotheses``) and what
    the report and ``predict`` need to trust it: the file, a key only a finished record has, the command that makes
    it, where the package ships its own records (``models/<shipped>/<spec name>/``) and how to say what it is."""

    file: str
    finished_key: str
    command: str
    shipped: str
    noun: str                 # "the <noun> of another model"
    missing: str              # what the report says when there is none
    verb: str                 # "does not say which model it <verb>"
    rerun: str = ""           # how a rerun of the command treats the folder (said to a record without a model id)
    ship: tuple[str, ...] = ()  # the files beside ``file`` that a shipped record carries (scripts/ship_record.py)


RECORDS = {
    "backtest": Record(BACKTEST, "n_votes", "bayes-coalition backtest SPEC.toml", "backtests", "backtest",
                       "not backtested", "scored", ", which reuses the finished origins",
                       ship=("backtest.csv", "backtest_fits.csv", "backtest_party_rows.csv")),
    "sbc": Record("sbc.json", "groups", "bayes-coalition sbc SPEC.toml --sims 100", "sbc", "SBC", "SBC not run", "calibrated",
                  ship=("sbc.csv", "sbc_fits.csv", "sbc_settings.json")),
    "loeo": Record("loeo.json", "differences", "bayes-coalition loeo SPEC.toml", "loeo",
                   "leave-one-episode-out cross-validation", "leave-one-episode-out cross-validation not run",
                   "cross-validated", ship=("loeo_votes.csv",)),
    "compare": Record("hypotheses_comparison.json", "p_hypothesised_sign", "bayes-coalition compare SPEC.toml", "compare",
                      "model comparison", "model comparison not run", "compared"),
}


def read_record(kind: str, folder: Path | None, model_id: str | None) -> tuple[dict | None, str]:
    """The content of ``folder``'s record of kind ``kind`` (:data:`RECORDS`) when it is a record of model
    ``model_id``; else ``None``.

    The second item is the file's path, or why there is no record: no file (or an unfinished one), a file that
    does not say which model it is of (written before model ids were recorded), or another model's (another spec
    or model version). A ``model_id`` of None accepts any record (a report without a fitted model, or the
    ideal-point SBC, which has no spec)."""
    r = RECORDS[kind]
    if folder is None:
        return None, f"{r.missing} (no folder given)"
    path = Path(folder) / r.file
    content = read_json(path, missing_ok=True)
    if not content or r.finished_key not in content:
        return None, f"{r.missing}: no {path} (make it with `{r.command}`)"
    got = (content.get("settings") or {}).get("model_id")
    if model_id is not None and got is None:
        return None, (f"{path} does not say which model it {r.verb} (written before model ids were recorded; "
                      f"rerun its `{r.command.split(' SPEC')[0]}` command{r.rerun})")
    if model_id is not None and got != model_id:
        return None, f"{path} is the {r.noun} of another model (id {got}; this run's is {model_id})"
    return content, str(path)


def shipped_records(kind: str) -> list[Path]:
    """The folders of records of kind ``kind`` shipped with the package (``models/<shipped>/<spec name>/``: runs too
    long to repeat casually, e.g. the default spec's backtest, SBC and leave-one-episode-out cross-validation)."""
    from bayes_coalition.coalition.spec import default_spec_path

    r = RECORDS[kind]
    root = default_spec_path().parent / r.shipped
    return sorted(p.parent for p in root.glob(f"*/{r.file}")) if root.is_dir() else []


def shipped_of_other_models(kind: str, model_id: str | None) -> str:
    """Why no shipped record stood in although ``models/<shipped>/`` holds some: a phrase naming each record of kind
    ``kind`` shipped with the package that is of another model than ``model_id`` (e.g. the default spec's record,
    scored before a model change), or '' when there is none (or ``model_id`` is None)."""
    if model_id is None:
        return ""
    others = []
    for found in shipped_records(kind):
        content = read_json(found / RECORDS[kind].file, missing_ok=True) or {}
        got = (content.get("settings") or {}).get("model_id")
        if got != model_id:
            others.append(f"{found} (model id {got or 'not recorded'})")
    if not others:
        return ""
    return (f"the package's own record{'s' if len(others) > 1 else ''}, {', '.join(others)}, "
            f"{'are of other models' if len(others) > 1 else 'is of another model'} (this run's is {model_id})")


def find_record(kind: str, folder: Path | None, model_id: str | None, *,
                shipped: bool = True) -> tuple[Path | None, dict | None, str]:
    """The record of kind ``kind`` of model ``model_id``: ``folder``'s (:func:`read_record`), else (``shipped``) a
    shipped record of the same model. Returns the folder it is in, its content and where it is from, or
    (None, None, why not; with :func:`shipped_of_other_models` when ``shipped``)."""
    content, why = read_record(kind, folder, model_id)
    if content is not None:
        return Path(folder), content, why
    if shipped and model_id is not None:
        for found in shipped_records(kind):
            record, where = read_record(kind, found, model_id)
            if record is not None:
                return found, record, f"{where} (shipped with the package)"
        other = shipped_of_other_models(kind, model_id)
        why = f"{why}; {other}" if other else why
    return None, None, why


def read_backtest(folder: Path | None, model_id: str | None) -> tuple[dict | None, str]:
    """:func:`read_record` of a backtest (``backtest.json``: the scores)."""
    return read_record("backtest", folder, model_id)


def find_backtest(folder: Path | None, model_id: str | None, *, shipped: bool = True) -> tuple[Path | None, dict | None, str]:
    """:func:`find_record` of a backtest: ``folder``'s, else a shipped record of the same model (``models/backtests/``)."""
    return find_record("backtest", folder, model_id, shipped=shipped)


def _timed(diag: dict, wall_seconds: float | None) -> dict:
    """The model's diagnostics with the command's wall time; the model's own time becomes sampling_seconds."""
    out = dict(diag)
    if wall_seconds is not None:
        out["sampling_seconds"] = diag["wall_seconds"]
        out["wall_seconds"] = float(wall_seconds)
    return out


def write_coalition_run(model, out_dir: str | Path, *, wall_seconds: float | None = None) -> WrittenRun:
    """Write a fitted CoalitionModel's run files (as ``bayes-coalition fit`` does).

    ``wall_seconds`` is the fit command's wall time; when given, the model's own sampling
    time is kept as ``sampling_seconds`` in diagnostics.json.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / POSTERIOR)
    model.summary().to_csv(out / SUMMARY, index_label="parameter")
    approval = model.approval()
    approval.to_csv(out / APPROVAL, index=False)
    model.predictive_check().to_csv(out / PPC, index=False)
    model.ideal_points().to_csv(out / IDEAL_POINTS, index=False)
    model.hypotheses().to_csv(out / HYPOTHESES, index=False)
    model.threshold_check().to_csv(out / THRESHOLD_CHECK, index=False)
    model.model_data.usage.to_csv(out / DATA_USAGE, index=False)
    diag = _timed(model.diagnostics, wall_seconds)
    write_json(out / DIAGNOSTICS, diag)
    files = [POSTERIOR, POSTERIOR_DRAWS, SUMMARY, APPROVAL, PPC, IDEAL_POINTS, HYPOTHESES, THRESHOLD_CHECK, DATA_USAGE,
             DIAGNOSTICS]
    return WrittenRun(out, files, diag, approval)


def write_prior_run(model, out_dir: str | Path, *, draws: int = 500, seed: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Prior predictive check of a CoalitionModel (``bayes-coalition prior``): the prior draws
    (``prior.nc``) and per count row the 5/50/95% quantiles of the simulated yea share beside the
    observed share (``prior_predictive.csv``); returns that table and a summary."""
    import numpy as np

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prior = model.sample_prior_predictive(draws=draws, random_seed=seed)
    _arviz.to_netcdf(prior, out / PRIOR_CACHE)
    share = prior.prior_predictive["yea_share"].values.reshape(-1, prior.prior_predictive.sizes["obs"])
    q = np.quantile(share, [0.05, 0.5, 0.95], axis=0)
    md = model.model_data
    table = pd.DataFrame({"obs": prior.prior_predictive["obs"].values, "share_q05": q[0], "share_median": q[1],
                          "share_q95": q[2], "observed_share": md.obs_yea / np.maximum(md.obs_n, 1)})
    table.to_csv(out / PRIOR_PREDICTIVE, index=False)
    inside = (table.observed_share >= q[0]) & (table.observed_share <= q[2])
    summary = {"draws": int(share.shape[0]), "median_share": float(np.median(q[1])),
               "mean_width_90": float(np.mean(q[2] - q[0])), "observed_inside_90": float(np.mean(inside))}
    return table, summary


def with_names(ideal_points: pd.DataFrame, legislators: pd.DataFrame) -> pd.DataFrame:
    """An ideal-point table with the legislators' ``name`` beside their id, when the legislators table has names."""
    if "name" not in legislators or "name" in ideal_points:
        return ideal_points
    names = dict(zip(legislators["legislator_id"].astype(str), legislators["name"]))
    out = ideal_points.copy()
    out.insert(1, "name", out["legislator_id"].astype(str).map(names))
    return out


def write_ideal_point_run(model, out_dir: str | Path, *, wall_seconds: float | None = None) -> WrittenRun:
    """Write a fitted IdealPointModel's run files (as ``bayes-coalition ideal-points`` does).

    ``holdout.json`` (when cells were held out) records the model's holdout fraction and seed,
    the values the command passes from ``--holdout-fraction`` and ``--seed``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / POSTERIOR)
    with_names(model.ideal_points(), model.rollcalls.legislators).to_csv(out / IDEAL_POINTS, index=False)
    files = [IDEAL_POINTS, DIAGNOSTICS, FIT_STATISTICS]
    if model.options["factions"] is not None:
        model.faction_positions().to_csv(out / FACTION_POSITIONS, index=False)
        model.faction_membership().to_csv(out / FACTION_MEMBERSHIP, index=False)
        files += [FACTION_POSITIONS, FACTION_MEMBERSHIP]
    diag = _timed(model.diagnostics, wall_seconds)
    write_json(out / DIAGNOSTICS, diag)
    write_json(out / FIT_STATISTICS, model.fit_statistics())
    if model.holdout_mask.any():
        hold = model.holdout_scores()
        write_json(out / HOLDOUT, {k: hold[k] for k in HOLDOUT_KEYS}
                   | {"fraction": model.options["holdout_fraction"], "seed": model.options["holdout_seed"]})
        files.append(HOLDOUT)
    return WrittenRun(out, files + [POSTERIOR], diag)


# --- reading --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """A run as the report sees it: its kind, where it came from, the model or posterior, stored files."""

    kind: str                      # "coalition" or "ideal_points"
    run_dir: Path | None
    model: Any = None              # CoalitionModel (coalition runs)
    idata: Any = None
    stored_diag: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def _netcdf_model_type(path: Path) -> str | None:
    """The model_type attribute of a saved run, read without loading the draws."""
    try:
        import h5netcdf

        with h5netcdf.File(str(path), "r") as f:
            value = f.attrs.get("model_type")
        if isinstance(value, bytes):
            value = value.decode()
        return None if value is None else str(value)
    except Exception:  # noqa: BLE001 - unreadable attrs: decide from the files
        return None


def _is_ideal_point_run(path: Path, model_type: str | None) -> bool:
    if model_type is not None:
        return model_type == IDEAL_POINT_TYPE
    csv = path / IDEAL_POINTS
    return csv.is_file() and "legislator_id" in csv.read_text(encoding="utf-8").split("\n", 1)[0]


def load_run(run_or_model) -> Run:
    """A :class:`Run` from a fitted model or a run directory (or its posterior.nc)."""
    model_type = getattr(run_or_model, "model_type", None)
    if model_type == COALITION_TYPE:
        run_or_model._require_fit()
        return Run("coalition", None, model=run_or_model, idata=run_or_model.idata,
                   stored_diag=dict(run_or_model.diagnostics))
    if model_type == IDEAL_POINT_TYPE:
        run_or_model._require_fit()
        files: dict = {"ideal_points": with_names(run_or_model.ideal_points(prob=SUMMARY_PROB), run_or_model.rollcalls.legislators)}
        if run_or_model.holdout_mask.any():
            files["holdout"] = run_or_model.holdout_scores()
        return Run("ideal_points", None, idata=run_or_model.idata, stored_diag=dict(run_or_model.diagnostics), files=files)
    path = Path(run_or_model)
    if path.is_file():
        path = path.parent
    if not path.is_dir():
        raise FileNotFoundError(f"run directory not found: {path}")
    nc = path / POSTERIOR
    stored = read_json(path / DIAGNOSTICS, missing_ok=True)
    if _is_ideal_point_run(path, _netcdf_model_type(nc) if nc.is_file() else None):
        return _load_ideal_point_dir(path, stored)
    if not nc.is_file():
        raise FileNotFoundError(f"{path}: no {POSTERIOR} (and no {IDEAL_POINTS} of an ideal-point run)")
    from bayes_coalition.coalition.model import CoalitionModel

    model = CoalitionModel.load(nc)
    diag = dict(model.diagnostics)
    diag.update({k: v for k, v in stored.items() if k in ("wall_seconds", "sampling_seconds")})
    return Run("coalition", path, model=model, idata=model.idata, stored_diag=diag)


def _load_ideal_point_dir(path: Path, stored: dict) -> Run:
    files: dict = {}
    if (path / IDEAL_POINTS).is_file():
        files["ideal_points"] = pd.read_csv(path / IDEAL_POINTS, dtype={"legislator_id": str, "party": str, "name": str})
    if (path / HOLDOUT).is_file():
        files["holdout"] = read_json(path / HOLDOUT, missing_ok=True)
    for name in (FIT_STATISTICS, FIT_STATISTICS_OLD):
        if (path / name).is_file():
            files["fit_statistics"] = read_json(path / name, missing_ok=True)
    idata = _arviz.from_netcdf(path / POSTERIOR) if (path / POSTERIOR).is_file() else None
    if idata is not None and not stored:
        stored = json.loads(idata.attrs.get("diagnostics", "{}") or "{}")
    return Run("ideal_points", path, idata=idata, stored_diag=stored, files=files)
