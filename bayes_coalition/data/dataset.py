"""The shipped trade-policy data set: cases (votes), vote counts, episodes, actors, codebook, coded evidence.

:func:`load_dataset` reads a directory in the layout of the package's ``data/``
folder; :func:`dataset_from_frames` does the same from tables already in memory (a
saved run stores its tables as text).  Both validate every table and every
cross-table rule and return a :class:`TradeDataset`.  See ``data/README.md`` for the
sources.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import pandas as pd

# the domain's names are defined once in constants; they stay importable from here
from bayes_coalition.constants import (
    ACTOR_TYPES,
    CHAMBERS,
    CONSTRUCTS,
    PARTIES,
    SEAT_PARTIES,
    SEATS,
    STAGES,
    THRESHOLD_RULES,
    VOTE_TYPES,
    congress_year,
)
from bayes_coalition.data.evidence import QUOTE_MAX_WORDS, stage_windows, within_window, word_count
from bayes_coalition.data.rollcalls import DIRECTORY_FILES as ROLLCALL_FILES
from bayes_coalition.data.tables import Column, TableSchema, read_csv, validate_frame
from bayes_coalition.errors import DataValidationError

__all__ = [
    "ACTOR_TYPES", "CONSTRUCTS", "PARTIES", "SEATS", "STAGES", "THRESHOLD_RULES", "VOTE_TYPES",
    "OPTIONAL_TABLES", "TABLES", "TradeDataset", "dataset_from_frames", "default_data_dir", "load_dataset",
]

COUNT_METHODS = ("reported", "stated", "tallied", "derived", "whip_count")
# how a coded unit's final level was reached (data/CODING.md): both coders agreed; they disagreed and
# the adjudicator resolved it; one coder coded it and the adjudicator kept it; coded from the paper
ADJUDICATION = ("agree", "resolved", "single", "paper")

# One schema a table: its name and primary key first, then one line a column.
EPISODES = TableSchema("episodes.csv", primary_key=("episode_id",), columns=(
    Column("episode_id", nullable=False),
    Column("name", nullable=False),
    Column("year", "int", nullable=False, min=1900, max=2100),
    Column("description", required=False),
    # the stage boundary (see data/evidence.py); blank: the episode has no formulation stage of its own
    Column("proposal_date", required=False),
    Column("proposal_event", required=False),
    Column("proposal_source", required=False),
))

CASES = TableSchema("cases.csv", primary_key=("case_id",), columns=(
    Column("case_id", nullable=False),
    Column("episode_id", nullable=False),
    Column("measure", nullable=False),
    Column("bill", required=False),
    Column("chamber", nullable=False, choices=CHAMBERS),
    Column("date", nullable=False),
    Column("congress", "int", nullable=False, min=1, max=200),
    Column("vote_type", nullable=False, choices=VOTE_TYPES),
    Column("threshold_rule", nullable=False, choices=THRESHOLD_RULES),
    Column("yea_is_pro_trade", "bool", nullable=False),
    Column("passed", "bool"),
    Column("outcome", required=False),
    Column("roll_number", "int", required=False, min=1),
    Column("not_voting", "int", required=False, min=0),
    Column("threshold_note", required=False),
    Column("verified", nullable=False, choices=("yes", "partial", "no")),
    Column("source_url", nullable=False),
    Column("notes", required=False),
))

VOTE_COUNTS = TableSchema("vote_counts.csv", primary_key=("case_id", "party"), columns=(
    Column("case_id", nullable=False),
    Column("party", nullable=False, choices=PARTIES),
    Column("yea", "int", min=0),
    Column("nay", "int", min=0),
    Column("yea_lower", "int", required=False, min=0),
    Column("yea_upper", "int", required=False, min=0),
    Column("n_members", "int", required=False, min=1),
    Column("note", required=False),
    # how the numbers were obtained and where (data/README.md): reported with the case's sources,
    # stated by a later source, tallied from a member-by-member roll-call list, derived by arithmetic
    # from a source's own figures, or a press whip count
    Column("method", required=False, choices=COUNT_METHODS),
    Column("source", required=False),
))

ACTORS = TableSchema("actors.csv", primary_key=("actor_id",), columns=(
    Column("actor_id", nullable=False),
    Column("name", nullable=False),
    Column("type", nullable=False, choices=ACTOR_TYPES),
    Column("party", choices=("D", "R")),
    Column("chamber", choices=("both", *CHAMBERS)),
    Column("prior_position", "float", nullable=False, min=-2.0, max=2.0),
    Column("prior_sd", "float", nullable=False, min=1e-6, max=10.0),
    Column("source_sentence", nullable=False),
))

CODEBOOK = TableSchema("codebook.csv", primary_key=("indicator", "level"), columns=(
    Column("indicator", nullable=False),
    Column("construct", nullable=False, choices=CONSTRUCTS),
    Column("direction", "int", nullable=False, choices=(-1, 1)),
    Column("stages", nullable=False),
    Column("level", "int", nullable=False, min=0, max=20),
    Column("label", nullable=False),
    Column("definition", nullable=False),
))

# one row per coded unit (episode, stage, indicator, actor) and coder; the source columns are optional
# so that runs saved before they existed still load, and required where present (see _check_evidence)
EVIDENCE = TableSchema("evidence.csv", primary_key=("episode_id", "stage", "indicator", "actor_id", "coder"), columns=(
    Column("episode_id", nullable=False),
    Column("stage", nullable=False, choices=STAGES),
    Column("indicator", nullable=False),
    Column("level", "int", nullable=False),
    Column("actor_id"),
    Column("source_url", required=False),
    Column("outlet", required=False),
    Column("pub_date", required=False),
    Column("quote", nullable=False),
    Column("justification", nullable=False),
    Column("coder", nullable=False),
    Column("ex_post", "bool", required=False),
    Column("adjudication", required=False, choices=ADJUDICATION),
))

# Congress-level tables (scripts/build_composition.py from Voteview); optional: a data directory in the
# older layout and a run saved before them lack them (TradeDataset.notes says what that changes)
COMPOSITION = TableSchema("composition.csv", primary_key=("congress", "chamber", "party"), columns=(
    Column("congress", "int", nullable=False, min=1, max=200),
    Column("chamber", nullable=False, choices=CHAMBERS),
    Column("party", nullable=False, choices=SEAT_PARTIES),
    Column("members", "int", min=0),               # distinct members who served; blank: the source does not list them
    Column("seats", "int", nullable=False, min=0),  # seats held, the chamber's parties summing to at most its seats
    Column("note", required=False),
))

COVARIATES = TableSchema("covariates.csv", primary_key=("congress", "chamber"), columns=(
    Column("congress", "int", nullable=False, min=1, max=200),
    Column("chamber", nullable=False, choices=CHAMBERS),
    Column("year", "int", nullable=False, min=1789, max=2100),
    Column("dem_mean_d1", "float", nullable=False, min=-1.0, max=1.0),
    Column("rep_mean_d1", "float", nullable=False, min=-1.0, max=1.0),
    Column("dem_mean_d2", "float", nullable=False, min=-1.0, max=1.0),
    Column("rep_mean_d2", "float", nullable=False, min=-1.0, max=1.0),
    Column("party_gap_d1", "float", nullable=False, min=-2.0, max=2.0),
))

# the pre-vote floor expectation of a roll call (coalition/expectation.py; data/CODING.md): one adjudicated code
# per vote, resting on a source published strictly before the vote's day (at most EXPECTATION_WINDOW_DAYS before)
FLOOR_EXPECTATIONS = TableSchema("floor_expectations.csv", primary_key=("case_id",), columns=(
    Column("case_id", nullable=False),
    Column("level", "int", nullable=False, choices=(0, 1, 2)),
    Column("source_url", nullable=False),
    Column("outlet", nullable=False),
    Column("pub_date", nullable=False),
    Column("quote", nullable=False),
    Column("justification", nullable=False),
    Column("coder", nullable=False),
    Column("adjudication", nullable=False, choices=ADJUDICATION),
))
EXPECTATION_WINDOW_DAYS = 30

TABLES = {s.name: s for s in (EPISODES, CASES, VOTE_COUNTS, ACTORS, CODEBOOK, EVIDENCE)}
OPTIONAL_TABLES = {s.name: s for s in (COMPOSITION, COVARIATES, FLOOR_EXPECTATIONS)}
ABSENT_NOTES = {
    "composition.csv": "no composition.csv: a bill's seats are inferred from the largest number voting per party "
                       "in its Congress's votes",
    "covariates.csv": "no covariates.csv: no Congress-level polarization covariates",
    "floor_expectations.csv": "no floor_expectations.csv: no pre-vote floor expectations (model.floor_expectation "
                              "has nothing to measure)",
}
GAP_TOLERANCE = 1e-9   # party_gap_d1 is rep_mean_d1 - dem_mean_d1 (Voteview's party.mean.diff.d1)


@dataclass(frozen=True)
class TradeDataset:
    """All tables of one validated data directory (pandas frames, one row per record)."""

    path: Path
    episodes: pd.DataFrame
    cases: pd.DataFrame
    vote_counts: pd.DataFrame
    actors: pd.DataFrame
    codebook: pd.DataFrame
    evidence: pd.DataFrame
    composition: pd.DataFrame | None = None   # seats per (congress, chamber, party); None: not in the directory
    covariates: pd.DataFrame | None = None    # DW-NOMINATE party means per (congress, chamber); None: absent
    floor_expectations: pd.DataFrame | None = None   # pre-vote floor expectation per roll call; None: absent
    notes: tuple[str, ...] = field(default=())

    @property
    def indicators(self) -> pd.DataFrame:
        """One row per indicator: construct, direction, allowed stages, number of levels."""
        g = self.codebook.groupby("indicator", sort=False)
        return pd.DataFrame(
            {
                "construct": g["construct"].first(),
                "direction": g["direction"].first().astype(int),
                "stages": g["stages"].first(),
                "n_levels": g["level"].max().astype(int) + 1,
            }
        )

    def seats_of_congress(self, congress: int) -> dict[str, dict[str, int]]:
        """Seats per chamber and party of a Congress (parties with seats only): the composition table;
        without one (an older directory or saved run), the most members of each party voting in one of
        that Congress's votes in the chamber (yea + nay of a party row; its ``n_members`` where only a
        range is known). The one home of this rule: the model's composition-based splits and divided
        government, and a bill's seats, all read it."""
        out: dict = {}
        if self.composition is not None:
            rows = self.composition[(self.composition["congress"] == congress) & (self.composition["seats"] > 0)]
            for r in rows.itertuples():
                out.setdefault(str(r.chamber), {})[str(r.party)] = int(r.seats)
            return out
        cases = self.cases[self.cases["congress"] == congress].set_index("case_id")
        vc = self.vote_counts[self.vote_counts["case_id"].isin(cases.index) & self.vote_counts["party"].isin(["R", "D", "I"])]
        full = vc["yea"].notna() & vc["nay"].notna()
        voters = (vc["yea"].fillna(0) + vc["nay"].fillna(0)).where(full, vc["n_members"])
        for case_id, party, n in zip(vc["case_id"], vc["party"], voters):
            if pd.notna(n) and n > 0:
                chamber = out.setdefault(str(cases.loc[case_id, "chamber"]), {})
                chamber[str(party)] = max(chamber.get(str(party), 0), int(n))
        return out

    def coverage(self) -> dict:
        """What the evidence and the vote data cover: episodes coded, cells per stage, the ex post
        share, the coders' agreement (``coding/reliability.json`` of the data directory, when it has
        one) and the votes with an R and D split (yea and nay of both parties)."""
        ev = self.evidence
        ex_post = ev["ex_post"].fillna(False).astype(bool) if "ex_post" in ev else pd.Series(False, index=ev.index)
        cells = ev.groupby("episode_id").size()
        vc = self.vote_counts
        full = vc[vc["party"].isin(["R", "D"]) & vc["yea"].notna() & vc["nay"].notna()]
        split = set(full.groupby("case_id")["party"].nunique().loc[lambda n: n == 2].index)
        alpha = units = None
        rel = Path(self.path) / "coding" / "reliability.json"
        if rel.is_file():
            import json

            overall = json.loads(rel.read_text(encoding="utf-8"))["overall"]
            alpha, units = overall["alpha_ordinal"], overall["units_both"]
        return {
            "episodes": len(self.episodes),
            "episodes_coded": int(ev["episode_id"].nunique()),
            "episodes_with_10_cells": int((cells >= 10).sum()),
            "cells": len(ev),
            "cells_per_stage": {st: int((ev["stage"] == st).sum()) for st in STAGES},
            "ex_post": int(ex_post.sum()),
            "ex_post_share": float(ex_post.mean()) if len(ev) else 0.0,
            "alpha_ordinal": alpha,
            "alpha_units": units,
            "votes": len(self.cases),
            "votes_with_party_split": len(split),
            "votes_without_party_split": sorted(set(self.cases["case_id"]) - split),
        }

    def summary(self) -> str:
        """A short human-readable summary of what the data set holds."""
        c = self.cases
        vc = self.vote_counts
        interval = vc["yea_lower"].notna()
        point = vc["yea"].notna() & vc["nay"].notna()
        lines = [
            f"data set at {self.path}",
            f"  episodes: {len(self.episodes)}  cases (votes): {len(c)} "
            f"(House {int((c.chamber == 'House').sum())}, Senate {int((c.chamber == 'Senate').sum())})",
            "  vote types: " + ", ".join(f"{k} {v}" for k, v in c["vote_type"].value_counts().items()),
            "  verified: " + ", ".join(f"{k} {v}" for k, v in c["verified"].value_counts().items()),
            f"  count rows: {len(vc)} (complete yea+nay {int(point.sum())}, interval {int(interval.sum())}, "
            f"partial {int((~point & ~interval).sum())})",
            f"  actors: {len(self.actors)} (" + ", ".join(f"{k} {v}" for k, v in self.actors["type"].value_counts().items()) + ")",
            f"  indicators: {self.codebook['indicator'].nunique()}; coded evidence rows: {len(self.evidence)}",
        ]
        cov = self.coverage()
        per_stage = ", ".join(f"{k} {v}" for k, v in cov["cells_per_stage"].items())
        lines += [
            f"  episodes coded: {cov['episodes_coded']} of {cov['episodes']} "
            f"({cov['episodes_with_10_cells']} with at least 10 cells); cells per stage: {per_stage}",
            f"  ex post (excluded from the model by default): {cov['ex_post']} of {cov['cells']} cells "
            f"({cov['ex_post_share']:.0%})",
            "  reliability (Krippendorff's alpha, ordinal): " + (
                "not computed (no coding/reliability.json)" if cov["alpha_ordinal"] is None else
                f"{cov['alpha_ordinal']:.3f} overall on {cov['alpha_units']} double-coded units"),
            f"  votes with an R/D party split: {cov['votes_with_party_split']} of {cov['votes']}"
            + (f" (without: {', '.join(cov['votes_without_party_split'])})" if cov["votes_without_party_split"] else ""),
        ]
        if self.composition is not None:
            congresses = sorted(set(self.composition["congress"]))
            lines.append(f"  composition: {len(self.composition)} rows (Congresses {congresses[0]}-{congresses[-1]})")
        if self.covariates is not None:
            lines.append(f"  covariates: {len(self.covariates)} rows (DW-NOMINATE party means per Congress and chamber)")
        if self.floor_expectations is not None:
            n = self.floor_expectations["level"].value_counts()
            lines.append(f"  floor expectations: {len(self.floor_expectations)} roll calls coded from pre-vote sources "
                         f"({n.get(2, 0)} expected to carry, {n.get(1, 0)} in doubt, {n.get(0, 0)} expected to fail)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def default_data_dir() -> Path:
    """The shipped data: inside an installed wheel, or the repository's ``data/`` folder."""
    here = Path(__file__).resolve().parents[1]  # the package root
    for candidate in (here / "_shipped_data", here.parent / "data"):
        if (candidate / "cases.csv").is_file():
            return candidate
    raise FileNotFoundError("the shipped data directory was not found; pass path= explicitly")


def load_dataset(path: str | Path | None = None) -> TradeDataset:
    """Load and validate a data directory (default: the shipped data)."""
    root = Path(path) if path is not None else default_data_dir()
    if not root.is_dir():
        raise DataValidationError("not a directory", file=str(root))
    if not any((root / name).is_file() for name in TABLES):
        raise DataValidationError(_not_a_trade_directory(root), file=str(root))
    for name in TABLES:
        if not (root / name).is_file():
            raise DataValidationError(f"missing table '{name}'", file=str(root / name))
    key = _fingerprint(root)
    if key not in _LOADED:
        frames = {name: read_csv(root / name) for name in TABLES}
        for name in OPTIONAL_TABLES:
            if (root / name).is_file():
                frames[name] = read_csv(root / name)
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = dataset_from_frames(frames, path=root)
    return _copy(_LOADED[key])


# Validated data sets by directory and the state of its files: loading the same unchanged files again
# (a script, a notebook, a batch of fits) skips parsing and validation. A changed, added or removed table
# file changes the key. Callers get copies of the frames, so editing one never reaches the cache.
_LOADED: dict = {}
_LOADED_MAX = 8


def data_digest(ds: TradeDataset) -> str:
    """A digest of every table of a data set (contents, not file stamps): what a stored result computed from the
    data is keyed by (a resumed batch never reuses a result of other data)."""
    import dataclasses
    import hashlib

    h = hashlib.sha1()
    for f in dataclasses.fields(ds):
        frame = getattr(ds, f.name)
        if isinstance(frame, pd.DataFrame):
            h.update(f.name.encode())
            h.update(",".join(map(str, frame.columns)).encode())
            h.update(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()


def _fingerprint(root: Path) -> tuple:
    stamps = []
    for name in (*TABLES, *OPTIONAL_TABLES):
        try:
            st = (root / name).stat()
        except FileNotFoundError:
            stamps.append((name, None))
            continue
        stamps.append((name, st.st_mtime_ns, st.st_size, st.st_ino))
    return (str(root.resolve()), tuple(stamps))


def _copy(ds: TradeDataset) -> TradeDataset:
    frames = {f.name: getattr(ds, f.name).copy() for f in fields(ds)
              if isinstance(getattr(ds, f.name), pd.DataFrame)}
    return replace(ds, **frames)


def dataset_from_frames(
    frames: Mapping[str, pd.DataFrame], *, path: str | Path, source_label: str | None = None
) -> TradeDataset:
    """Validate tables held in memory, one all-text frame per file name of :data:`TABLES`.

    The same per-table and cross-table rules as :func:`load_dataset`, which reads its files
    into frames and calls this; a saved run rebuilds its data set from the stored text the
    same way, without writing files.  ``path`` becomes :attr:`TradeDataset.path`.  Errors name
    the file ``path/NAME``, or ``SOURCE_LABEL:NAME`` when a label is given (say, the saved run's
    file).  Row numbers come from a frame's index when it is named ``row`` (as
    :func:`~bayes_coalition.data.tables.read_csv` makes it), else count 2, 3, ... in order."""
    root = Path(path)

    def file(name: str) -> str:
        return str(root / name) if source_label is None else f"{source_label}:{name}"

    unknown = sorted(set(frames) - set(TABLES) - set(OPTIONAL_TABLES))
    if unknown:
        raise DataValidationError(f"unknown table(s) {', '.join(unknown)}; the tables are "
                                  f"{', '.join([*TABLES, *OPTIONAL_TABLES])}",
                                  file=file(unknown[0]))
    for name in TABLES:
        if name not in frames:
            raise DataValidationError(f"missing table '{name}'", file=file(name))
    t = {name: validate_frame(frames[name], schema, file=file(name)) for name, schema in TABLES.items()}
    _check_episodes(file("episodes.csv"), t["episodes.csv"], t["cases.csv"])
    _check_cases(file("cases.csv"), t["cases.csv"], t["episodes.csv"])
    _check_counts(file("vote_counts.csv"), t["vote_counts.csv"], t["cases.csv"])
    _check_actors(file("actors.csv"), t["actors.csv"])
    _check_codebook(file("codebook.csv"), t["codebook.csv"])
    _check_evidence(file("evidence.csv"), t["evidence.csv"], t["episodes.csv"], t["codebook.csv"], t["actors.csv"],
                    t["cases.csv"])
    for name, schema in OPTIONAL_TABLES.items():
        t[name] = validate_frame(frames[name], schema, file=file(name)) if name in frames else None
    if t["composition.csv"] is not None:
        _check_composition(file("composition.csv"), t["composition.csv"])
    if t["covariates.csv"] is not None:
        _check_covariates(file("covariates.csv"), t["covariates.csv"])
    if t["floor_expectations.csv"] is not None:
        _check_floor_expectations(file("floor_expectations.csv"), t["floor_expectations.csv"], t["cases.csv"])
    return TradeDataset(
        path=root,
        episodes=t["episodes.csv"],
        cases=t["cases.csv"],
        vote_counts=t["vote_counts.csv"],
        actors=t["actors.csv"],
        codebook=t["codebook.csv"],
        evidence=t["evidence.csv"],
        composition=t["composition.csv"],
        covariates=t["covariates.csv"],
        floor_expectations=t["floor_expectations.csv"],
        notes=tuple(note for name, note in ABSENT_NOTES.items() if t[name] is None),
    )


def _not_a_trade_directory(root: Path) -> str:
    """Why a directory without any trade table was refused: what it holds, what was expected, and
    the command for a roll-call folder (``bayes-coalition data`` is often pointed at one)."""
    found = sorted(p.name for p in root.iterdir() if p.is_file())
    holds = ", ".join(found[:6]) + (f" and {len(found) - 6} more" if len(found) > 6 else "") if found else "no files"
    message = f"holds no trade data set (expected {', '.join(TABLES)}); it holds {holds}"
    if any((root / name).is_file() for name in ROLLCALL_FILES.values()):
        message += "; for a roll-call matrix use `bayes-coalition ideal-points DIR`"
    else:
        message += "; see data/README.md for the layout"
    return message


def _records(frame: pd.DataFrame) -> list[dict]:
    """The rows as plain dicts (``_index``: the frame's index label), for the row-by-row rules:
    an order of magnitude faster than ``iterrows`` and the same values (missing cells are NA)."""
    return [{**r, "_index": i} for i, r in zip(frame.index, frame.to_dict("records"), strict=True)]


def _fail(file: str, row, column: str, message: str):
    raise DataValidationError(message, file=file, row=int(row), column=column)


def _check_foreign(file: str, frame: pd.DataFrame, column: str, valid, what: str) -> None:
    bad = frame[frame[column].notna() & ~frame[column].isin(set(valid))]
    if len(bad):
        r = bad.iloc[0]
        _fail(file, r["row"], column, f"unknown {what} '{r[column]}'")


def _is_date(text) -> bool:
    """A calendar date written YYYY-MM-DD."""
    if not isinstance(text, str) or len(text) != 10:
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_episodes(file: str, episodes: pd.DataFrame, cases: pd.DataFrame) -> None:
    first_vote = pd.to_datetime(cases["date"], format="%Y-%m-%d", errors="coerce").groupby(cases["episode_id"]).min()
    for r in _records(episodes):
        if pd.isna(r["proposal_date"]):
            continue
        if not _is_date(r["proposal_date"]):
            _fail(file, r["row"], "proposal_date", f"'{r['proposal_date']}' is not a date (YYYY-MM-DD)")
        vote = first_vote.get(r["episode_id"])
        if vote is not None and pd.notna(vote) and pd.Timestamp(r["proposal_date"]) > vote:
            _fail(file, r["row"], "proposal_date", f"the proposal date {r['proposal_date']} is after the episode's "
                  f"first vote ({vote.date()})")


def _check_cases(file: str, cases: pd.DataFrame, episodes: pd.DataFrame) -> None:
    _check_foreign(file, cases, "episode_id", episodes["episode_id"], "episode")
    for r in _records(cases):
        if r["threshold_rule"] == "three_fifths_of_senate" and r["chamber"] != "Senate":
            _fail(file, r["row"], "threshold_rule", "three_fifths_of_senate applies to the Senate only")
        if r["vote_type"] != "whip_estimate" and pd.isna(r["passed"]):
            _fail(file, r["row"], "passed", "a recorded vote needs its outcome (yes/no)")
        if r["vote_type"] == "disapproval" and r["yea_is_pro_trade"]:
            _fail(file, r["row"], "yea_is_pro_trade", "on a disapproval vote yea is the anti-trade side")


def _check_counts(file: str, counts: pd.DataFrame, cases: pd.DataFrame) -> None:
    _check_foreign(file, counts, "case_id", cases["case_id"], "case")
    chamber = cases.set_index("case_id")["chamber"]
    for r in _records(counts):
        if pd.notna(r["method"]) and pd.isna(r["source"]):
            _fail(file, r["row"], "source", f"counts obtained by '{r['method']}' need their source")
        seats = SEATS[chamber[r["case_id"]]]
        has_point = pd.notna(r["yea"]) or pd.notna(r["nay"])
        has_interval = pd.notna(r["yea_lower"]) or pd.notna(r["yea_upper"])
        if has_point and has_interval:
            _fail(file, r["row"], "yea", "a row is either an observed count (yea, nay) or an interval, not both")
        if not has_point and not has_interval:
            _fail(file, r["row"], "yea", "row has neither counts nor an interval")
        if has_interval:
            for col in ("yea_lower", "yea_upper", "n_members"):
                if pd.isna(r[col]):
                    _fail(file, r["row"], col, "an interval row needs yea_lower, yea_upper and n_members")
            if r["yea_lower"] > r["yea_upper"]:
                _fail(file, r["row"], "yea_upper", f"yea_upper {r['yea_upper']} is below yea_lower {r['yea_lower']}")
            if r["yea_upper"] > r["n_members"]:
                _fail(file, r["row"], "yea_upper", f"yea_upper {r['yea_upper']} exceeds n_members {r['n_members']}")
            if r["n_members"] > seats:
                _fail(file, r["row"], "n_members", f"n_members {r['n_members']} exceeds the {seats} seats of the chamber")
        else:
            total = (0 if pd.isna(r["yea"]) else r["yea"]) + (0 if pd.isna(r["nay"]) else r["nay"])
            if total > seats:
                _fail(file, r["row"], "yea+nay", f"yea + nay = {total} exceeds the {seats} seats of the chamber")
    # party splits against totals
    for case_id, grp in counts.groupby("case_id", sort=False):
        parts = grp[grp["party"] != "ALL"]
        tot = grp[grp["party"] == "ALL"]
        if tot.empty or parts.empty:
            continue
        t = tot.iloc[0]
        for side in ("yea", "nay"):
            if pd.notna(t[side]):
                s = parts[side].sum(skipna=True)
                if s > t[side]:
                    _fail(file, parts["row"].max(), side, f"party {side} counts of case {case_id} sum to {s}, more than the total {t[side]}")
                if parts[side].notna().all() and set(parts["party"]) >= {"R", "D", "I"} and s != t[side]:
                    _fail(file, parts["row"].max(), side, f"party {side} counts of case {case_id} sum to {s}, not the total {t[side]}")
        if pd.notna(t["yea_lower"]) and parts["yea_lower"].notna().any():
            low, high = parts["yea_lower"].sum(), parts["yea_upper"].sum()
            if low > t["yea_upper"]:
                _fail(file, t["row"], "yea_upper", f"party intervals of case {case_id} cannot meet the total interval: "
                      f"their lower bounds sum to {low}, above the total's yea_upper {t['yea_upper']}")
            # members in no party row could make up a shortfall: too few only when the rows hold every member
            every_member = parts["yea_upper"].notna().all() and parts["n_members"].sum() == t["n_members"]
            if every_member and high < t["yea_lower"]:
                _fail(file, t["row"], "yea_lower", f"party intervals of case {case_id} cannot meet the total interval: "
                      f"their upper bounds sum to {high}, below the total's yea_lower {t['yea_lower']}")


def _check_actors(file: str, actors: pd.DataFrame) -> None:
    for r in _records(actors):
        faction = r["type"] == "legislative_faction"
        if faction and pd.isna(r["party"]):
            _fail(file, r["row"], "party", "a legislative faction needs its party (D or R)")
        if not faction and pd.notna(r["party"]):
            _fail(file, r["row"], "party", "only legislative factions have a party")
    if not (actors["type"] == "legislative_faction").any():
        raise DataValidationError("no legislative faction: the vote model needs at least one", file=file, column="type")


def _check_codebook(file: str, codebook: pd.DataFrame) -> None:
    for ind, grp in codebook.groupby("indicator", sort=False):
        ordered = grp.sort_values("level")
        levels = [int(v) for v in ordered["level"]]
        if levels != list(range(len(levels))) or len(levels) < 2:
            # the row of the first level out of sequence; a lone level is its indicator's first row
            off = [r for i, (lv, r) in enumerate(zip(levels, ordered["row"], strict=True)) if lv != i]
            row = off[0] if off else grp["row"].iloc[0]
            _fail(file, row, "level", f"indicator '{ind}' needs levels 0..K-1 (K >= 2), got {levels}")
        for col in ("construct", "direction", "stages"):
            first = grp.iloc[0]
            other = grp[grp[col] != first[col]]
            if len(other):  # name the first row that disagrees with the indicator's first row
                r = other.iloc[0]
                _fail(file, r["row"], col, f"indicator '{ind}' has more than one {col}: '{first[col]}' in row "
                      f"{first['row']}, '{r[col]}' here")
        for stage in str(grp["stages"].iloc[0]).split(";"):
            if stage not in STAGES:
                _fail(file, grp["row"].iloc[0], "stages", f"unknown stage '{stage}'")


def _check_evidence(
    file: str, evidence: pd.DataFrame, episodes: pd.DataFrame, codebook: pd.DataFrame, actors: pd.DataFrame,
    cases: pd.DataFrame,
) -> None:
    _check_foreign(file, evidence, "episode_id", episodes["episode_id"], "episode")
    if evidence["source_url"].notna().any() or evidence["pub_date"].notna().any():  # a data set with sources: every row has them, and the date rule holds (data/evidence.py)
        inside = within_window(evidence, stage_windows(episodes, cases))
        formulation = {e for e in episodes["episode_id"] if has_formulation(episodes, e)}
        for r in _records(evidence):
            retrospective = str(r["adjudication"]) == "paper"   # the source paper: undated, always ex post
            for col in ("source_url", "outlet", "ex_post") + (() if retrospective else ("pub_date",)):
                if pd.isna(r[col]):
                    _fail(file, r["row"], col, f"a coded unit needs its {col} (every row has source_url, outlet, "
                          "pub_date, a quote and ex_post)")
            if retrospective:
                if not r["ex_post"]:
                    _fail(file, r["row"], "ex_post", "a code from the paper's retrospective account is ex post")
                continue
            if not _is_date(r["pub_date"]):
                _fail(file, r["row"], "pub_date", f"'{r['pub_date']}' is not a date (YYYY-MM-DD)")
            if word_count(r["quote"]) > QUOTE_MAX_WORDS:
                _fail(file, r["row"], "quote", f"the quote has {word_count(r['quote'])} words; quote at most "
                      f"{QUOTE_MAX_WORDS} (never copy an article)")
            if r["stage"] == "formulation" and r["episode_id"] not in formulation:
                _fail(file, r["row"], "stage", f"episode {r['episode_id']} has no formulation stage of its own "
                      "(episodes.csv: blank proposal_date)")
            if not r["ex_post"] and not inside[r["_index"]]:
                _fail(file, r["row"], "pub_date", f"a source dated {r['pub_date']} is outside the {r['stage']} window "
                      f"of {r['episode_id']} (formulation: before the proposal date; voting: on or before the last "
                      "vote): set ex_post = yes")
    _check_foreign(file, evidence, "indicator", codebook["indicator"], "indicator")
    _check_foreign(file, evidence, "actor_id", actors["actor_id"], "actor")
    levels = codebook.groupby("indicator")["level"].apply(set)
    stages = codebook.groupby("indicator")["stages"].first()
    for r in _records(evidence):
        if r["level"] not in levels[r["indicator"]]:
            _fail(file, r["row"], "level", f"level {r['level']} is off the scale of '{r['indicator']}' ({sorted(levels[r['indicator']])})")
        if r["stage"] not in str(stages[r["indicator"]]).split(";"):
            _fail(file, r["row"], "stage", f"indicator '{r['indicator']}' is not coded in the {r['stage']} stage")


def has_formulation(episodes: pd.DataFrame, episode_id: str) -> bool:
    """Whether an episode has a formulation stage of its own: a proposal date, or no stage
    columns at all (data sets made before the columns existed)."""
    if episodes["proposal_date"].isna().all():
        return True
    return bool(episodes.loc[episodes["episode_id"] == episode_id, "proposal_date"].notna().any())


def _check_composition(file: str, comp: pd.DataFrame) -> None:
    for r in _records(comp):
        if pd.notna(r["members"]) and r["seats"] > r["members"]:
            _fail(file, r["row"], "seats", f"{r['seats']} seats held by {r['members']} members: every seat needs a member")
        if pd.isna(r["members"]) and r["party"] != "I":
            _fail(file, r["row"], "members", f"party {r['party']}: members may be blank only for independents (I), "
                  "whom the source may not list")
    for (congress, chamber), grp in comp.groupby(["congress", "chamber"], sort=False):
        total = int(grp["seats"].sum())
        if total > SEATS[chamber]:
            _fail(file, grp["row"].max(), "seats", f"the {chamber} of Congress {congress} sums to {total} seats, "
                  f"more than its {SEATS[chamber]}")
        if total == 0:
            _fail(file, grp["row"].max(), "seats", f"the {chamber} of Congress {congress} has no seats")
    for congress, grp in comp.groupby("congress", sort=False):
        for chamber in CHAMBERS:
            if chamber not in set(grp["chamber"]):
                _fail(file, grp["row"].max(), "chamber", f"Congress {congress} has no {chamber} rows: "
                      "a Congress needs both chambers")


def _check_covariates(file: str, cov: pd.DataFrame) -> None:
    for r in _records(cov):
        year = congress_year(int(r["congress"]))
        if r["year"] != year:
            _fail(file, r["row"], "year", f"Congress {r['congress']} first met in {year}, not {r['year']}")
        gap = r["rep_mean_d1"] - r["dem_mean_d1"]
        if abs(r["party_gap_d1"] - gap) > GAP_TOLERANCE:
            _fail(file, r["row"], "party_gap_d1", f"party_gap_d1 {r['party_gap_d1']} is not rep_mean_d1 - dem_mean_d1 = {gap}")


def _check_floor_expectations(file: str, fe: pd.DataFrame, cases: pd.DataFrame) -> None:
    """Each code names a roll call of cases.csv (not a whip estimate) and rests on a source dated strictly before
    the vote's day and at most EXPECTATION_WINDOW_DAYS before it (no hindsight); its quote is short."""
    by_case = cases.set_index("case_id")
    for r in _records(fe):
        if r["case_id"] not in by_case.index:
            _fail(file, r["row"], "case_id", f"unknown case '{r['case_id']}' (not in cases.csv)")
        case = by_case.loc[r["case_id"]]
        if case["vote_type"] == "whip_estimate":
            _fail(file, r["row"], "case_id", f"'{r['case_id']}' is a whip estimate, not a roll call: its count is "
                  "measured in vote_counts.csv")
        if not _is_date(r["pub_date"]):
            _fail(file, r["row"], "pub_date", f"'{r['pub_date']}' is not a date (YYYY-MM-DD)")
        days = (pd.Timestamp(str(case["date"])) - pd.Timestamp(r["pub_date"])).days
        if days < 1:
            _fail(file, r["row"], "pub_date", f"a source dated {r['pub_date']} is not before the vote of "
                  f"{case['date']}: a floor expectation rests on what was published before the vote's day")
        if days > EXPECTATION_WINDOW_DAYS:
            _fail(file, r["row"], "pub_date", f"a source dated {r['pub_date']} is {days} days before the vote of "
                  f"{case['date']} (at most {EXPECTATION_WINDOW_DAYS})")
        if word_count(r["quote"]) > QUOTE_MAX_WORDS:
            _fail(file, r["row"], "quote", f"a quote of {word_count(r['quote'])} words (at most {QUOTE_MAX_WORDS}: "
                  "quote, never copy)")
