"""Hypothetical bills: coded evidence, chamber composition and threshold rules, from TOML or Python.

A bill file (see ``bills/*.toml``)::

    [bill]
    name = "PNTR-like bill"
    like = "pntr2000"              # optional: an episode of the fitted data; its posterior effects are kept
    yea_is_pro_trade = true
    vote_type = "final_passage"    # or cloture, procedural, ... (the fitted offset of that vote type)

    [codes.formulation]            # indicator = level; any subset, the rest unknown
    executive_coordination = 2
    [codes.voting]
    payoff = 2

    [composition]                  # seats per party, or a Congress of the data's composition.csv (not both)
    congress = 106                 # or: House = { R = 223, D = 211, I = 1 } and Senate = { R = 55, D = 45 }

    [thresholds]
    house = "majority_of_voting"   # or "majority_of_members", "two_thirds_of_voting" (suspension of the rules)
    senate = "majority_of_voting"  # or "three_fifths_of_senate" (cloture), "majority_of_members", "two_thirds_of_voting"
    president = "signature"        # or "override" (needs two thirds in both chambers)

    [actors]                       # optional: where an actor stands (exactly one of position / shift)
    president = { position = -0.5 }          # set the ideal point (a number in [-2, 2])
    business = { shift = 0.5 }               # move it from the posterior draws

    [actor_weights]                # optional weights of non-legislative actors for pivotality (default 0)
    president = 10

The schema is strict: an unknown section, field, stage, indicator or actor, a value of the
wrong TOML type (``"no"`` for a boolean, ``2.0`` for an integer) and conflicting settings are
:class:`~bayes_coalition.errors.DataValidationError` naming the file and the field.
:func:`load_bill` checks what needs no data; :meth:`HypotheticalBill.validate` checks the rest
against the fitted data (indicators and levels of the codebook, actors, episodes, Congresses).
:func:`schema_markdown` documents the schema from the same tables (``scripts/bill_schema.py``).
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import NoReturn

import pandas as pd

from bayes_coalition.coalition.rules import CHAMBER_RULES, check_rule
from bayes_coalition.constants import CHAMBERS, PRESIDENT_RULES, SEAT_PARTIES, SEATS, STAGES, THRESHOLD_RULES, VOTE_TYPES
from bayes_coalition.data.dataset import TradeDataset
from bayes_coalition.errors import DataValidationError

HOUSE_RULES = CHAMBER_RULES["House"]
SENATE_RULES = CHAMBER_RULES["Senate"]
POSITION_RANGE = (-2.0, 2.0)          # the ideal-point scale of actors.csv
SHIFT_LIMIT = POSITION_RANGE[1] - POSITION_RANGE[0]   # a larger move leaves the scale from any point
ACTOR_KEYS = {"position": "set", "shift": "shift"}    # [actors] key -> stored kind
THRESHOLD_CHAMBERS = {"house": "House", "senate": "Senate"}

# section -> field -> (TOML type, default, meaning): the reader's list of known fields and the documentation
SCHEMA = {
    "bill": {
        "name": ("string", "the file's name", "a label for reports"),
        "like": ("string", "none: a new episode", "an episode of the fitted data whose posterior effects are kept"),
        "yea_is_pro_trade": ("boolean", "true", "a yea vote is the pro-trade side"),
        "vote_type": ("string", "final_passage", "the fitted offset of this vote type: " + ", ".join(VOTE_TYPES)),
        "election_year": ("boolean", "unknown: half the draws each way",
                          "the vote falls in a general-election (even) year; used by a model with the "
                          "`election_year` covariate (a bill `like` an observed vote: that vote moved to this year)"),
    },
    "composition": {
        "congress": ("integer", "the `like` episode's Congress, else the latest in the data",
                     "seats per party of that Congress from the data's `composition.csv` (Voteview; not "
                     "together with House/Senate)"),
        "House": ("table of integers {R, D, I}", "from `congress`", "seats per party; give both chambers"),
        "Senate": ("table of integers {R, D, I}", "from `congress`", "seats per party; give both chambers"),
    },
    "floor_expectation": {
        "house": ("integer 0, 1 or 2", "unknown", "what sources published before the House vote expected of it: 0 "
                  "expected to fail, 1 in doubt, 2 expected to carry; used by a model with `floor_expectation` (the "
                  "prediction is conditioned on it: coalition/expectation.py)"),
        "senate": ("integer 0, 1 or 2", "unknown", "the same for the Senate vote"),
    },
    "thresholds": {
        "house": ("string", "majority_of_voting", "the House's threshold rule (rules per chamber below)"),
        "senate": ("string", "majority_of_voting", "the Senate's threshold rule (rules per chamber below)"),
        "president": ("string", "signature", "one of " + ", ".join(PRESIDENT_RULES)
                      + " (override: a veto, so two thirds of those voting in both chambers)"),
    },
}
SECTIONS = ("bill", "codes", "composition", "floor_expectation", "thresholds", "actors", "actor_weights")


# --- messages -----------------------------------------------------------------------------------
def _fail(message: str, file: str | None, column: str | None = None) -> NoReturn:
    raise DataValidationError(message, file=file, column=column)


def _suggest(name, valid) -> str:
    """'(did you mean 'x'? valid: a, b, c)' for an unknown name."""
    valid = [str(v) for v in valid]
    close = difflib.get_close_matches(str(name), valid, n=1) or [v for v in valid if str(name) and v.startswith(str(name))][:1]
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"({hint}valid: {', '.join(valid)})"


def _got(value) -> str:
    """How a value reads in TOML, and its TOML type: 'got "no" (a string)'."""
    if isinstance(value, dict):
        return "got a table"
    if isinstance(value, list | tuple):
        return "got an array"
    if isinstance(value, bool):
        return f"got {'true' if value else 'false'} (a boolean)"
    if isinstance(value, str):
        return f"got {json.dumps(value, ensure_ascii=False)} (a string)"
    kind = {int: "an integer", float: "a float"}.get(type(value), f"a {type(value).__name__}")
    return f"got {value!r} ({kind})"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_bool(value, file, column):
    if not isinstance(value, bool):
        _fail(f"must be true or false, {_got(value)}", file, column)


def _check_str(value, file, column):
    if not isinstance(value, str):
        _fail(f"must be a string, {_got(value)}", file, column)


def _check_level(level, file, column):
    if not _is_int(level):
        _fail(f"a level must be an integer, {_got(level)}", file, column)


def _check_keys(table: dict, valid, file, prefix: str, kind: str):
    for key in table:
        if key not in valid:
            _fail(f"unknown {kind} '{key}' {_suggest(key, valid)}", file, f"{prefix}.{key}")


def _check_rule(name: str, rule, file):
    column = f"thresholds.{name}"
    _check_str(rule, file, column)
    if name == "president":
        if rule not in PRESIDENT_RULES:
            _fail(f"'{rule}' is not one of the president rules {_suggest(rule, PRESIDENT_RULES)}", file, column)
        return
    chamber = THRESHOLD_CHAMBERS[name]
    try:
        check_rule(rule, chamber)
    except ValueError:
        allowed = CHAMBER_RULES[chamber]
        where = f"does not apply to the {chamber}: it " if rule in THRESHOLD_RULES else ""
        _fail(f"'{rule}' {where}is not one of the {chamber}'s threshold rules {_suggest(rule, allowed)}", file, column)


def parse_code_key(key, *, default_stage: str | None = None, file: str | None = None) -> tuple[str, str]:
    """``(stage, indicator)`` of a code key: "stage.indicator" or "stage__indicator" (the keyword form of
    :meth:`HypotheticalBill.with_codes`); a bare "indicator" only with ``default_stage`` (``sweep``'s "voting").

    A key of another form or an unknown stage is a :class:`DataValidationError` naming the key."""
    forms = "'stage.indicator' or 'stage__indicator'" + (f" or 'indicator' (the {default_stage} stage)" if default_stage else "")
    if not isinstance(key, str):
        _fail(f"code key {key!r} must be a string: {forms}", file, "codes")
    parts = key.split("__") if "__" in key else key.split(".")
    if len(parts) == 1 and default_stage is not None:
        parts = [default_stage, key]
    if len(parts) != 2 or not all(p.strip() for p in parts):
        _fail(f"code key {key!r} is not {forms}, with stage one of {', '.join(STAGES)}", file, "codes")
    stage, indicator = parts
    if stage not in STAGES:
        _fail(f"code key {key!r}: unknown stage '{stage}' {_suggest(stage, STAGES)}", file, f"codes.{stage}")
    return stage, indicator


@dataclass(frozen=True)
class HypotheticalBill:
    """A bill described by its coded evidence, composition, threshold rules and actors."""

    name: str = "hypothetical bill"
    codes: dict = field(default_factory=dict)            # {(stage, indicator): level}
    composition: dict | None = None                     # {"House": {"R": n, ...}, "Senate": {...}}
    congress: int | None = None
    like: str | None = None                             # episode id of the fitted data
    yea_is_pro_trade: bool = True
    vote_type: str = "final_passage"                    # offset of this vote type (if the fit saw it)
    election_year: bool | None = None                   # None: unknown (half the draws in an election year)
    floor_expectation: dict = field(default_factory=dict)   # {"House": level, "Senate": level} (expectation.LEVELS)
    house_rule: str = "majority_of_voting"
    senate_rule: str = "majority_of_voting"
    president_rule: str = "signature"
    actor_weights: dict = field(default_factory=dict)
    source: str = "<python>"
    # {actor_id: ("set" | "shift", value)}: set the actor's ideal point in every draw, or add value to it
    actor_positions: dict = field(default_factory=dict)

    def with_codes(self, **changes) -> HypotheticalBill:
        """A copy with codes changed: ``bill.with_codes(voting__payoff=2)`` (stage__indicator=level), or
        ``bill.with_codes(**{"voting.payoff": 2})``. A key of another form is an error naming it."""
        codes = dict(self.codes)
        for key, level in changes.items():
            stage, indicator = parse_code_key(key, file=self.source)
            _check_level(level, self.source, f"codes.{stage}.{indicator}")
            codes[(stage, indicator)] = level
        return replace(self, codes=codes)

    def check_schema(self) -> HypotheticalBill:
        """Check what needs no data: types, rules, stages, composition, actor settings."""
        f = self.source
        _check_str(self.name, f, "bill.name")
        if self.like is not None:
            _check_str(self.like, f, "bill.like")
        _check_bool(self.yea_is_pro_trade, f, "bill.yea_is_pro_trade")
        _check_str(self.vote_type, f, "bill.vote_type")
        if self.election_year is not None:
            _check_bool(self.election_year, f, "bill.election_year")
        if not isinstance(self.floor_expectation, dict):
            _fail(f"floor_expectation must map chambers to a level, {_got(self.floor_expectation)}", f, "floor_expectation")
        for chamber, level in self.floor_expectation.items():
            if chamber not in CHAMBERS:
                _fail(f"unknown chamber '{chamber}' {_suggest(chamber, CHAMBERS)}", f, "floor_expectation")
            if not _is_int(level) or level not in (0, 1, 2):
                _fail(f"a floor expectation is 0 (expected to fail), 1 (in doubt) or 2 (expected to carry), {_got(level)}",
                      f, f"floor_expectation.{chamber.lower()}")
        if self.vote_type not in VOTE_TYPES:
            _fail(f"'{self.vote_type}' is not one of the vote types {_suggest(self.vote_type, VOTE_TYPES)}", f, "bill.vote_type")
        for name, rule in (("house", self.house_rule), ("senate", self.senate_rule), ("president", self.president_rule)):
            _check_rule(name, rule, f)
        self._check_composition()
        if not isinstance(self.codes, dict):
            _fail(f"codes must map (stage, indicator) to a level, {_got(self.codes)}", f, "codes")
        for key, level in self.codes.items():
            if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
                _fail(f"code key {key!r} must be a (stage, indicator) pair", f, "codes")
            stage, indicator = key
            if stage not in STAGES:
                _fail(f"unknown stage '{stage}' {_suggest(stage, STAGES)}", f, f"codes.{stage}")
            _check_level(level, f, f"codes.{stage}.{indicator}")
        for actor, w in self.actor_weights.items():
            if not _is_number(w) or w < 0:
                _fail(f"a weight must be a non-negative number, {_got(w)}", f, f"actor_weights.{actor}")
        for actor, setting in self.actor_positions.items():
            if not (isinstance(setting, tuple) and len(setting) == 2 and setting[0] in ACTOR_KEYS.values()):
                _fail(f"an actor setting must be ('set' or 'shift', value), got {setting!r}", f, f"actors.{actor}")
            kind, value = setting
            key = "position" if kind == "set" else "shift"
            lo, hi = POSITION_RANGE if kind == "set" else (-SHIFT_LIMIT, SHIFT_LIMIT)
            if not _is_number(value) or not lo <= value <= hi:
                _fail(f"{key} must be a number in [{lo:g}, {hi:g}], {_got(value)}", f, f"actors.{actor}.{key}")
        return self

    def _check_composition(self):
        f = self.source
        if self.congress is not None and (not _is_int(self.congress) or self.congress < 1):
            _fail(f"congress must be a positive integer, {_got(self.congress)}", f, "composition.congress")
        if self.composition is None:
            return
        if not isinstance(self.composition, dict):
            _fail(f"composition must map chambers to seats per party, {_got(self.composition)}", f, "composition")
        if self.congress is not None and self.composition:
            _fail(f"conflicting composition: congress = {self.congress} takes the seats from the data, and explicit "
                  f"seats are given for {' and '.join(sorted(self.composition))}; give one or the other", f, "composition")
        for chamber, seats in self.composition.items():
            if chamber not in SEATS:
                _fail(f"unknown chamber '{chamber}' {_suggest(chamber, CHAMBERS)}", f, f"composition.{chamber}")
            if not isinstance(seats, dict):
                _fail(f"seats must be a table of parties, e.g. {{ R = 220, D = 215 }}, {_got(seats)}", f, f"composition.{chamber}")
            for party, n in seats.items():
                if party not in SEAT_PARTIES:
                    _fail(f"unknown party '{party}' {_suggest(party, SEAT_PARTIES)}", f, f"composition.{chamber}.{party}")
                if not _is_int(n) or n < 0:
                    _fail(f"seats must be a non-negative integer, {_got(n)}", f, f"composition.{chamber}.{party}")
            total = sum(seats.values())
            if total > SEATS[chamber] or total == 0:
                _fail(f"{total} seats is impossible for the {chamber} (1..{SEATS[chamber]})", f, f"composition.{chamber}")
        for chamber in CHAMBERS:
            if chamber not in self.composition:
                _fail(f"an explicit composition must give both chambers: no seats for the {chamber} "
                      "(or give congress = N alone)", f, f"composition.{chamber}")

    def validate(self, dataset: TradeDataset) -> HypotheticalBill:
        """Check every field: the schema, then the fitted data's codebook, actors, episodes and Congresses."""
        self.check_schema()
        f = self.source
        cb = dataset.codebook
        indicators = list(dict.fromkeys(cb["indicator"]))
        for (stage, indicator), level in self.codes.items():
            column = f"codes.{stage}.{indicator}"
            if indicator not in indicators:
                _fail(f"unknown indicator '{indicator}' {_suggest(indicator, indicators)}", f, column)
            rows = cb[cb.indicator == indicator]
            allowed = str(rows["stages"].iloc[0]).split(";")
            if stage not in allowed:
                _fail(f"indicator '{indicator}' is not coded in the {stage} stage (allowed: {allowed})", f, column)
            levels = {int(r.level): str(r.label) for r in rows.itertuples()}
            if level not in levels:
                scale = ", ".join(f"{k} {v}" for k, v in sorted(levels.items()))
                _fail(f"level {level!r} is off the scale {sorted(levels)} ({scale})", f, column)
        actors = list(dataset.actors["actor_id"])
        for section, table in (("actors", self.actor_positions), ("actor_weights", self.actor_weights)):
            for actor in table:
                if actor not in actors:
                    _fail(f"unknown actor '{actor}' {_suggest(actor, actors)}", f, f"{section}.{actor}")
        episodes = list(dataset.episodes["episode_id"])
        if self.like is not None and self.like not in episodes:
            _fail(f"unknown episode '{self.like}' {_suggest(self.like, episodes)}", f, "bill.like")
        if self.congress is not None and self.congress not in known_congresses(dataset):
            _fail(_unknown_congress(self.congress, dataset), f, "composition.congress")
        return self

    def congress_of(self, dataset: TradeDataset) -> int:
        """The bill's Congress: ``congress``, else the ``like`` episode's, else the latest of the cases
        (its seats, its President and its place on the model's random walk over Congresses)."""
        if self.congress is not None:
            return int(self.congress)
        if self.like is not None:
            return int(dataset.cases.loc[dataset.cases.episode_id == self.like, "congress"].iloc[0])
        return int(dataset.cases["congress"].max())

    def seats(self, dataset: TradeDataset) -> dict:
        """Seats per chamber and party: explicit, or the Congress's row of the data's composition table.

        The Congress is ``congress``, else the ``like`` episode's, else the latest of the cases. A data
        set without a composition table (an older directory or saved run) falls back to the largest
        number voting per party in that Congress's votes, and says so under the key ``_notes``."""
        if self.composition is not None:
            out = copy.deepcopy(self.composition)
        else:
            congress = self.congress_of(dataset)
            if congress not in known_congresses(dataset):
                _fail(_unknown_congress(congress, dataset), self.source, "composition.congress")
            out = dataset.seats_of_congress(congress)
            if dataset.composition is None:
                out["_notes"] = [f"no composition table: seats inferred from the votes of Congress {congress}"]
                # a chamber with no party-split vote in that Congress: the nearest Congress that has one
                for chamber in SEATS:
                    if chamber not in out:
                        for other in sorted(set(dataset.cases["congress"]), key=lambda c: (abs(c - congress), c)):
                            alt = dataset.seats_of_congress(int(other)).get(chamber)
                            if alt:
                                out[chamber] = alt
                                out["_notes"].append(f"{chamber} seats taken from Congress {other}")
                                break
        for chamber in SEATS:
            if chamber not in out or not out[chamber]:
                raise DataValidationError(f"no composition for the {chamber}", file=self.source, column=f"composition.{chamber}")
        return out


def known_congresses(dataset: TradeDataset) -> list[int]:
    """Congresses a bill may name: those of the composition table, or (without one) of the cases."""
    table = dataset.composition if dataset.composition is not None else dataset.cases
    return sorted({int(c) for c in table["congress"]})


def _unknown_congress(congress: int, dataset: TradeDataset) -> str:
    valid = known_congresses(dataset)
    where = "composition.csv" if dataset.composition is not None else "the data's cases"
    span = f"{valid[0]}-{valid[-1]}" if valid == list(range(valid[0], valid[-1] + 1)) else ", ".join(map(str, valid))
    return f"Congress {congress} is not in {where} (valid: {span})"


def _read_toml(path: Path) -> dict:
    f = str(path)
    if path.is_dir():
        _fail("is a directory, not a bill file (give a .toml file)", f)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _fail("file not found", f)
    except OSError as err:
        _fail(f"cannot read the file: {err.strerror or err}", f)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        _fail(f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); save the bill as UTF-8", f)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        _fail(f"not valid TOML: {err}", f)


def load_bill(path: str | Path) -> HypotheticalBill:
    """Read a bill TOML strictly; every error is one line naming the file and the field."""
    path = Path(path)
    f = str(path)
    raw = _read_toml(path)
    for section, value in raw.items():
        if section not in SECTIONS:
            _fail(f"unknown section '{section}' {_suggest(section, SECTIONS)}", f, section)
        if not isinstance(value, dict):
            _fail(f"must be a table [{section}], {_got(value)}", f, section)
    bill = raw.get("bill", {})
    _check_keys(bill, SCHEMA["bill"], f, "bill", "field")
    th = raw.get("thresholds", {})
    _check_keys(th, SCHEMA["thresholds"], f, "thresholds", "threshold")
    comp = dict(raw.get("composition", {}))
    _check_keys(comp, SCHEMA["composition"], f, "composition", "key")
    congress = comp.pop("congress", None)
    fe = raw.get("floor_expectation", {})
    _check_keys(fe, SCHEMA["floor_expectation"], f, "floor_expectation", "chamber")
    codes = {}
    for stage, entries in raw.get("codes", {}).items():
        if not isinstance(entries, dict):
            _fail("codes must be grouped by stage: [codes.formulation] / [codes.voting]", f, f"codes.{stage}")
        if stage not in STAGES:
            _fail(f"unknown stage '{stage}' {_suggest(stage, STAGES)}", f, f"codes.{stage}")
        for indicator, level in entries.items():
            codes[(stage, indicator)] = level
    positions = {}
    for actor, entry in raw.get("actors", {}).items():
        if not isinstance(entry, dict):
            _fail(f"must be a table {{ position = x }} or {{ shift = x }}, {_got(entry)}", f, f"actors.{actor}")
        _check_keys(entry, ACTOR_KEYS, f, f"actors.{actor}", "key")
        if len(entry) != 1:
            _fail("give exactly one of position (set the ideal point) or shift (move it)", f, f"actors.{actor}")
        (key, value), = entry.items()
        positions[actor] = (ACTOR_KEYS[key], value)
    defaults = {fl.name: fl.default for fl in fields(HypotheticalBill)}
    return HypotheticalBill(
        name=bill.get("name", path.stem),
        codes=codes,
        composition=comp or None,
        congress=congress,
        like=bill.get("like"),
        yea_is_pro_trade=bill.get("yea_is_pro_trade", defaults["yea_is_pro_trade"]),
        vote_type=bill.get("vote_type", defaults["vote_type"]),
        election_year=bill.get("election_year", defaults["election_year"]),
        floor_expectation={THRESHOLD_CHAMBERS[k]: v for k, v in fe.items()},
        house_rule=th.get("house", defaults["house_rule"]),
        senate_rule=th.get("senate", defaults["senate_rule"]),
        president_rule=th.get("president", defaults["president_rule"]),
        actor_weights=dict(raw.get("actor_weights", {})),
        actor_positions=positions,
        source=f,
    ).check_schema()


def schema_markdown(codebook: pd.DataFrame) -> str:
    """The bill schema in Markdown, from the schema tables, the rules and the codebook (README's block)."""
    out = ["A bill file is TOML; every section is optional. Unknown sections, fields, stages, indicators and "
           "actors are errors (with a suggestion), and so are values of the wrong TOML type.", ""]

    def table(section: str) -> None:
        out.extend([f"`[{section}]`", "", "| field | type | default | meaning |", "|---|---|---|---|"])
        out.extend(f"| `{name}` | {typ} | {default} | {meaning} |" for name, (typ, default, meaning) in SCHEMA[section].items())
        out.append("")

    table("bill")
    out.extend(["`[codes.STAGE]` (STAGE: " + ", ".join(f"`{s}`" for s in STAGES) + ")", "",
                "`indicator = level`, an integer on the indicator's scale (below); any subset, the rest unknown.", ""])
    table("composition")
    table("floor_expectation")
    table("thresholds")
    lo, hi = POSITION_RANGE
    out.extend(["`[actors]`", "",
                f"`actor = {{ position = x }}` sets the actor's ideal point (a number in [{lo:g}, {hi:g}]) in every draw; "
                f"`actor = {{ shift = x }}` adds x (in [{-SHIFT_LIMIT:g}, {SHIFT_LIMIT:g}]) to it. Exactly one of the two; "
                "actor ids of the fitted data (`actors.csv`).", "",
                "`[actor_weights]`", "",
                "`actor = w`: a non-negative number, the weight of a non-legislative actor for pivotality (default 0).", "",
                "Threshold rules per chamber:", "", "| rule | " + " | ".join(CHAMBERS) + " |",
                "|---|" + "---|" * len(CHAMBERS)])
    for rule in THRESHOLD_RULES:
        out.append(f"| `{rule}` | " + " | ".join("yes" if rule in CHAMBER_RULES[c] else "no" for c in CHAMBERS) + " |")
    out.extend(["", "Indicators:", "", "| indicator | construct | stages | levels |", "|---|---|---|---|"])
    for indicator, rows in codebook.groupby("indicator", sort=False):
        stages = ", ".join(str(rows["stages"].iloc[0]).split(";"))
        levels = ", ".join(f"{int(r.level)} {r.label}" for r in rows.sort_values("level").itertuples())
        out.append(f"| `{indicator}` | {rows['construct'].iloc[0]} | {stages} | {levels} |")
    return "\n".join(out) + "\n"
