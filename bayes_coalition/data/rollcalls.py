"""Member-level roll-call matrices (legislator x roll call), read from wide, long or Voteview CSV.

:func:`load_rollcalls` returns a :class:`RollCallMatrix` whose ``votes`` is an
``xarray.DataArray`` with dims ``(legislator, rollcall)``: 1.0 yea, 0.0 nay, NaN
missing (not voting, absent, not in office).  Codes are configurable as in
pscl's ``rollcall``; a cell whose code is in none of the sets is an error.

Every file is read by :func:`bayes_coalition.data.tables.read_csv`, so a record with
too few or too many fields is an error, and every error names its spreadsheet row
(header row 1), taken from the index that ``read_csv`` gives each frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition.data.tables import read_csv
from bayes_coalition.errors import DataValidationError

FORMATS = ("wide", "long", "voteview")
# the votes file of each format in a roll-call directory (the shared ``senate106`` layout)
DIRECTORY_FILES = {"wide": "votes_wide.csv", "long": "votes_long.csv", "voteview": "votes_voteview.csv"}
# Voteview cast codes: 1-3 yea, 4-6 nay, 7-9 present/not voting, 0 not a member
VOTEVIEW_CODES = {"yea": (1, 2, 3), "nay": (4, 5, 6), "missing": (0, 7, 8, 9)}


@dataclass(frozen=True)
class RollCallMatrix:
    """A validated roll-call matrix with legislator and roll-call metadata."""

    votes: xr.DataArray
    legislators: pd.DataFrame
    rollcalls: pd.DataFrame
    source: str = ""
    dropped: dict = field(default_factory=dict)

    @property
    def n_legislators(self) -> int:
        return self.votes.sizes["legislator"]

    @property
    def n_rollcalls(self) -> int:
        return self.votes.sizes["rollcall"]

    @property
    def n_observed(self) -> int:
        return int(np.isfinite(self.votes.values).sum())

    def to_dataset(self) -> xr.Dataset:
        """Votes plus metadata as one xarray Dataset (metadata as coordinates)."""
        ds = self.votes.to_dataset(name="votes")
        for col in self.legislators.columns:
            ds = ds.assign_coords({f"legislator_{col}": ("legislator", self.legislators[col].to_numpy())})
        for col in self.rollcalls.columns:
            ds = ds.assign_coords({f"rollcall_{col}": ("rollcall", self.rollcalls[col].to_numpy())})
        return ds

    def filter(self, *, lopsided: float | None = 0.025, min_votes: int | None = 25) -> RollCallMatrix:
        """Drop lopsided roll calls (minority share below ``lopsided``, unanimous ones included)
        and legislators with fewer than ``min_votes`` recorded votes; counts go into ``dropped``."""
        v = self.votes
        dropped = dict(self.dropped)
        if lopsided is not None:
            yea = (v == 1).sum("legislator")
            nay = (v == 0).sum("legislator")
            total = yea + nay
            minority = np.minimum(yea, nay) / total.where(total > 0)
            keep = (minority >= lopsided).fillna(False)
            dropped["lopsided_rollcalls"] = dropped.get("lopsided_rollcalls", 0) + int((~keep).sum())
            v = v.isel(rollcall=np.flatnonzero(keep.values))
        if min_votes is not None:
            n = np.isfinite(v).sum("rollcall")
            keep = n >= min_votes
            dropped["low_activity_legislators"] = dropped.get("low_activity_legislators", 0) + int((~keep).sum())
            v = v.isel(legislator=np.flatnonzero(keep.values))
        legs = self.legislators.set_index("legislator_id").loc[v["legislator"].values].reset_index()
        rcs = self.rollcalls.set_index("rollcall").loc[v["rollcall"].values].reset_index()
        return RollCallMatrix(v, legs, rcs, self.source, dropped)

    def summary(self) -> str:
        parties = self.legislators["party"].value_counts(dropna=False).to_dict() if "party" in self.legislators else {}
        text = (
            f"{self.n_legislators} legislators x {self.n_rollcalls} roll calls, "
            f"{self.n_observed} observed votes ({self.n_observed / max(self.votes.size, 1):.1%}); parties {parties}"
        )
        if self.dropped:
            text += "; dropped " + ", ".join(f"{k} {v}" for k, v in self.dropped.items())
        return text


def _codes(values) -> set[str]:
    if values is None:
        return set()
    if isinstance(values, (str, int, float)):
        values = [values]
    return {str(v).strip() for v in values}


def _recode(cells: pd.DataFrame, yea, nay, missing, file: str) -> np.ndarray:
    """Map text cells to 1/0/NaN; unknown codes raise with file, row (the index) and column."""
    yea_s, nay_s, miss_s = _codes(yea), _codes(nay), _codes(missing)
    overlap = (yea_s & nay_s) | (yea_s & miss_s) | (nay_s & miss_s)
    if overlap:
        raise ValueError(f"codes {sorted(overlap)} are in more than one of yea/nay/missing")
    out = np.full(cells.shape, np.nan)
    arr = cells.to_numpy(dtype=str)
    stripped = np.char.strip(arr)
    # numeric codes written as 1.0 etc. count as 1
    norm = np.where(np.char.endswith(stripped, ".0"), np.char.rstrip(np.char.rstrip(stripped, "0"), "."), stripped)
    is_yea = np.isin(norm, list(yea_s))
    is_nay = np.isin(norm, list(nay_s))
    is_miss = np.isin(norm, list(miss_s))
    bad = ~(is_yea | is_nay | is_miss)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise DataValidationError(
            f"vote code '{arr[i, j]}' is not among yea {sorted(yea_s)}, nay {sorted(nay_s)} or missing {sorted(miss_s)}",
            file=file,
            row=int(cells.index[i]),
            column=str(cells.columns[j]),
        )
    out[is_yea] = 1.0
    out[is_nay] = 0.0
    return out


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataValidationError("file not found", file=str(path))
    return read_csv(path)


def _require(frame: pd.DataFrame, cols, file: str):
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataValidationError(f"missing required column(s): {', '.join(missing)}", file=file, row=1)


def _unique(frame: pd.DataFrame, col: str, file: str):
    dup = frame[col].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataValidationError(f"duplicate {col} '{frame[col].iloc[i]}'", file=file, row=int(frame.index[i]), column=col)


def _read_metadata(path: Path | None, ids: list[str], key: str, what: str) -> pd.DataFrame | None:
    """Metadata rows for ``ids`` (key column ``key``) in the order of ``ids``; None without a file."""
    if path is None or not Path(path).is_file():
        return None
    file = str(path)
    meta = _read_csv(Path(path))
    _require(meta, [key], file)
    meta[key] = meta[key].str.strip()
    _unique(meta, key, file)
    unknown = sorted(set(ids) - set(meta[key]))
    if unknown:
        raise DataValidationError(f"{what} {unknown[:5]} have votes but no row in {Path(path).name}", file=file)
    return meta.set_index(key).loc[ids].reset_index()


def _read_legislators(path: Path | None, ids: list[str]) -> pd.DataFrame:
    legs = _read_metadata(path, ids, "legislator_id", "legislator(s)")
    if legs is None:
        return pd.DataFrame({"legislator_id": ids, "party": pd.array([pd.NA] * len(ids), dtype="string")})
    if "party" not in legs:
        legs["party"] = pd.NA
    return legs.replace({"": pd.NA})


def _read_rollcall_meta(path: Path | None, ids: list[str]) -> pd.DataFrame:
    rcs = _read_metadata(path, ids, "rollcall", "roll call(s)")
    if rcs is None:
        return pd.DataFrame({"rollcall": ids})
    for col in ("session", "year", "vote_number", "yea", "nay"):
        if col in rcs:
            rcs[col] = pd.to_numeric(rcs[col].replace({"": pd.NA}), errors="coerce").astype("Int64")
    return rcs


def load_rollcalls(
    path: str | Path,
    format: str = "wide",
    *,
    yea=(1,),
    nay=(0,),
    missing=("", "NA"),
    legislators: str | Path | None = None,
    rollcalls: str | Path | None = None,
) -> RollCallMatrix:
    """Read a roll-call matrix.

    ``path`` is a directory in the shared ``senate106`` layout (``votes_wide.csv``,
    ``legislators.csv``, optional ``rollcalls.csv``) or a votes file:

    - ``wide``: one row per legislator (column ``legislator_id``), one column per roll call;
    - ``long``: columns ``legislator_id, rollcall, vote``;
    - ``voteview``: Voteview member votes (``congress, chamber, rollnumber, icpsr, cast_code``);
      cast codes 1-3 yea, 4-6 nay, 0/7-9 missing unless ``yea``/``nay``/``missing`` are given.

    Every vote cell must carry one of the ``yea``, ``nay`` or ``missing`` codes.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    path = Path(path)
    if path.is_dir():
        legislators = legislators or path / "legislators.csv"
        rollcalls = rollcalls or path / "rollcalls.csv"
        path = path / DIRECTORY_FILES[format]
    file = str(path)
    raw = _read_csv(path)

    if format == "wide":
        _require(raw, ["legislator_id"], file)
        raw["legislator_id"] = raw["legislator_id"].str.strip()
        _unique(raw, "legislator_id", file)
        rc_ids = [c for c in raw.columns if c != "legislator_id"]
        if not rc_ids:
            raise DataValidationError("no roll-call columns", file=file, row=1)
        matrix = _recode(raw[rc_ids], yea, nay, missing, file)
        leg_ids = raw["legislator_id"].tolist()
    else:
        if format == "long":
            cols = ["legislator_id", "rollcall", "vote"]
            _require(raw, cols, file)
            frame = pd.DataFrame({"legislator_id": raw["legislator_id"].str.strip(), "rollcall": raw["rollcall"].str.strip(), "vote": raw["vote"]})
        else:
            cols = ["congress", "chamber", "rollnumber", "icpsr", "cast_code"]
            _require(raw, cols, file)
            if (yea, nay) == ((1,), (0,)):
                yea, nay, missing = VOTEVIEW_CODES["yea"], VOTEVIEW_CODES["nay"], VOTEVIEW_CODES["missing"]
            for col in ("congress", "rollnumber", "icpsr"):
                bad = ~raw[col].str.strip().str.fullmatch(r"\d+")
                if bad.any():
                    i = int(np.flatnonzero(bad.to_numpy())[0])
                    raise DataValidationError(f"'{raw[col].iloc[i]}' is not an integer", file=file, row=int(raw.index[i]), column=col)
            if raw["congress"].nunique() > 1 or raw["chamber"].nunique() > 1:
                raise DataValidationError("a Voteview file must hold one congress and one chamber", file=file, column="congress")
            frame = pd.DataFrame(
                {"legislator_id": raw["icpsr"].str.strip(), "rollcall": "rc" + raw["rollnumber"].str.strip(), "vote": raw["cast_code"]}
            )
        key = frame.duplicated(["legislator_id", "rollcall"])
        if key.any():
            i = int(np.flatnonzero(key.to_numpy())[0])
            raise DataValidationError(
                f"duplicate vote for legislator {frame['legislator_id'].iloc[i]} on {frame['rollcall'].iloc[i]}",
                file=file, row=int(frame.index[i]), column="rollcall" if format == "long" else "rollnumber",
            )
        coded = _recode(frame[["vote"]].rename(columns={"vote": "vote" if format == "long" else "cast_code"}), yea, nay, missing, file)[:, 0]
        leg_ids = list(dict.fromkeys(frame["legislator_id"]))
        rc_ids = list(dict.fromkeys(frame["rollcall"]))
        li = pd.Index(leg_ids).get_indexer(frame["legislator_id"])
        ri = pd.Index(rc_ids).get_indexer(frame["rollcall"])
        matrix = np.full((len(leg_ids), len(rc_ids)), np.nan)
        matrix[li, ri] = coded
        if rollcalls is not None and Path(rollcalls).is_file():
            order = _read_csv(Path(rollcalls))
            if "rollcall" in order:
                known = [r for r in order["rollcall"].str.strip() if r in set(rc_ids)]
                rest = [r for r in rc_ids if r not in set(known)]
                perm = pd.Index(rc_ids).get_indexer(known + rest)
                rc_ids = known + rest
                matrix = matrix[:, perm]

    legs = _read_legislators(legislators, leg_ids)
    rcs = _read_rollcall_meta(rollcalls, rc_ids)
    votes = xr.DataArray(
        matrix,
        dims=("legislator", "rollcall"),
        coords={"legislator": np.asarray(leg_ids, dtype=object), "rollcall": np.asarray(rc_ids, dtype=object)},
        name="votes",
        attrs={"coding": "1 = yea, 0 = nay, NaN = missing", "source": file},
    )
    if "party" in legs:
        votes = votes.assign_coords(party=("legislator", legs["party"].astype(object).to_numpy()))
    return RollCallMatrix(votes=votes, legislators=legs, rollcalls=rcs, source=file)
