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

    [composition]                  # seats per party, or a Congress taken from the data
    congress = 106                 # or: House = { R = 223, D = 211, I = 1 } and Senate = { R = 55, D = 45 }

    [thresholds]
    house = "majority_of_voting"   # or "majority_of_members", "two_thirds_of_voting" (suspension of the rules)
    senate = "majority_of_voting"  # or "three_fifths_of_senate" (cloture), "majority_of_members", "two_thirds_of_voting"
    president = "signature"        # or "override" (needs two thirds in both chambers)

    [actor_weights]                # optional weights of non-legislative actors for pivotality (default 0)
    president = 10
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from bayes_coalition.coalition.rules import CHAMBER_RULES
from bayes_coalition.constants import PRESIDENT_RULES, SEATS, VOTE_TYPES
from bayes_coalition.data.dataset import TradeDataset
from bayes_coalition.errors import DataValidationError

HOUSE_RULES = CHAMBER_RULES["House"]
SENATE_RULES = CHAMBER_RULES["Senate"]
SECTIONS = {"bill", "codes", "composition", "thresholds", "actor_weights"}


@dataclass(frozen=True)
class HypotheticalBill:
    """A bill described by its coded evidence, composition and threshold rules."""

    name: str = "hypothetical bill"
    codes: dict = field(default_factory=dict)            # {(stage, indicator): level}
    composition: dict | None = None                     # {"House": {"R": n, ...}, "Senate": {...}}
    congress: int | None = None
    like: str | None = None                             # episode id of the fitted data
    yea_is_pro_trade: bool = True
    vote_type: str = "final_passage"                    # offset of this vote type (if the fit saw it)
    house_rule: str = "majority_of_voting"
    senate_rule: str = "majority_of_voting"
    president_rule: str = "signature"
    actor_weights: dict = field(default_factory=dict)
    source: str = "<python>"

    def with_codes(self, **changes) -> HypotheticalBill:
        """A copy with codes changed: ``bill.with_codes(voting__payoff=2)`` (stage__indicator=level)."""
        codes = dict(self.codes)
        for key, level in changes.items():
            stage, indicator = key.split("__")
            codes[(stage, indicator)] = level
        return replace(self, codes=codes)

    def validate(self, dataset: TradeDataset) -> HypotheticalBill:
        """Check every field against the fitted data's codebook, actors and episodes."""
        f = self.source
        cb = dataset.codebook
        for (stage, indicator), level in self.codes.items():
            if indicator not in set(cb["indicator"]):
                raise DataValidationError(f"unknown indicator '{indicator}'", file=f, column=f"codes.{stage}.{indicator}")
            allowed = str(cb.loc[cb.indicator == indicator, "stages"].iloc[0]).split(";")
            if stage not in allowed:
                raise DataValidationError(f"indicator '{indicator}' is not coded in the {stage} stage (allowed: {allowed})",
                                          file=f, column=f"codes.{stage}.{indicator}")
            levels = set(int(v) for v in cb.loc[cb.indicator == indicator, "level"])
            if not isinstance(level, int) or isinstance(level, bool) or level not in levels:
                raise DataValidationError(f"level {level!r} is off the scale {sorted(levels)}", file=f, column=f"codes.{stage}.{indicator}")
        actors = set(dataset.actors["actor_id"])
        for actor, w in self.actor_weights.items():
            if actor not in actors:
                raise DataValidationError(f"unknown actor '{actor}'", file=f, column=f"actor_weights.{actor}")
            if not isinstance(w, (int, float)) or w < 0:
                raise DataValidationError(f"weight {w!r} must be a non-negative number", file=f, column=f"actor_weights.{actor}")
        if self.vote_type not in VOTE_TYPES:
            raise DataValidationError(f"'{self.vote_type}' is not one of {VOTE_TYPES}", file=f, column="bill.vote_type")
        if self.like is not None and self.like not in set(dataset.episodes["episode_id"]):
            raise DataValidationError(f"unknown episode '{self.like}'", file=f, column="bill.like")
        for name, rule, allowed in (("house", self.house_rule, HOUSE_RULES), ("senate", self.senate_rule, SENATE_RULES),
                                    ("president", self.president_rule, PRESIDENT_RULES)):
            if rule not in allowed:
                raise DataValidationError(f"'{rule}' is not one of {allowed}", file=f, column=f"thresholds.{name}")
        if self.composition is not None:
            for chamber, seats in self.composition.items():
                if chamber not in SEATS:
                    raise DataValidationError(f"unknown chamber '{chamber}'", file=f, column=f"composition.{chamber}")
                for party, n in seats.items():
                    if party not in ("R", "D", "I"):
                        raise DataValidationError(f"unknown party '{party}'", file=f, column=f"composition.{chamber}.{party}")
                    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                        raise DataValidationError(f"seats {n!r} must be a non-negative integer", file=f, column=f"composition.{chamber}.{party}")
                total = sum(seats.values())
                if total > SEATS[chamber] or total == 0:
                    raise DataValidationError(f"{total} seats is impossible for the {chamber} (1..{SEATS[chamber]})",
                                              file=f, column=f"composition.{chamber}")
        if self.congress is not None and self.congress not in set(dataset.cases["congress"]):
            raise DataValidationError(f"Congress {self.congress} is not in the data", file=f, column="composition.congress")
        return self

    def seats(self, dataset: TradeDataset) -> dict:
        """Seats per chamber and party: explicit, or the largest number voting per party in that Congress."""
        if self.composition is not None:
            out = copy.deepcopy(self.composition)
        else:
            congress = self.congress
            if congress is None:
                congress = int(dataset.cases["congress"].max()) if self.like is None else int(
                    dataset.cases.loc[dataset.cases.episode_id == self.like, "congress"].iloc[0])
            out = composition_of_congress(dataset, congress)
            # a chamber with no party-split vote in that Congress: the nearest Congress that has one
            for chamber in SEATS:
                if chamber not in out:
                    for other in sorted(set(dataset.cases["congress"]), key=lambda c: (abs(c - congress), c)):
                        alt = composition_of_congress(dataset, int(other)).get(chamber)
                        if alt:
                            out[chamber] = alt
                            out.setdefault("_notes", []).append(f"{chamber} seats taken from Congress {other}")
                            break
        for chamber in SEATS:
            if chamber not in out or not out[chamber]:
                raise DataValidationError(f"no composition for the {chamber}", file=self.source, column=f"composition.{chamber}")
        return out


def composition_of_congress(dataset: TradeDataset, congress: int) -> dict:
    """Members voting per party in a Congress, read from its fully split votes (max over votes)."""
    cases = dataset.cases[dataset.cases.congress == congress].set_index("case_id")
    vc = dataset.vote_counts[dataset.vote_counts.case_id.isin(cases.index) & dataset.vote_counts.party.isin(["R", "D", "I"])]
    vc = vc.dropna(subset=["yea", "nay"])
    out: dict = {}
    for (case_id, party), r in vc.set_index(["case_id", "party"]).iterrows():
        chamber = cases.loc[case_id, "chamber"]
        n = int(r["yea"] + r["nay"])
        out.setdefault(chamber, {})
        out[chamber][party] = max(out[chamber].get(party, 0), n)
    return out


def load_bill(path: str | Path) -> HypotheticalBill:
    """Read a bill TOML; errors name the file and the field."""
    path = Path(path)
    f = str(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise DataValidationError("file not found", file=f) from None
    except tomllib.TOMLDecodeError as err:
        raise DataValidationError(f"not valid TOML: {err}", file=f) from None
    unknown = set(raw) - SECTIONS
    if unknown:
        raise DataValidationError(f"unknown section(s) {sorted(unknown)} (known: {sorted(SECTIONS)})", file=f, column=sorted(unknown)[0])
    bill = raw.get("bill", {})
    known_bill = {"name", "like", "yea_is_pro_trade", "vote_type"}
    if set(bill) - known_bill:
        key = sorted(set(bill) - known_bill)[0]
        raise DataValidationError(f"unknown field (known: {sorted(known_bill)})", file=f, column=f"bill.{key}")
    codes = {}
    for stage, entries in raw.get("codes", {}).items():
        if not isinstance(entries, dict):
            raise DataValidationError("codes must be grouped by stage: [codes.formulation] / [codes.voting]", file=f, column=f"codes.{stage}")
        for indicator, level in entries.items():
            codes[(stage, indicator)] = level
    comp = dict(raw.get("composition", {}))
    congress = comp.pop("congress", None)
    if congress is not None and (not isinstance(congress, int) or isinstance(congress, bool)):
        raise DataValidationError(f"congress {congress!r} must be an integer", file=f, column="composition.congress")
    th = raw.get("thresholds", {})
    if set(th) - {"house", "senate", "president"}:
        key = sorted(set(th) - {"house", "senate", "president"})[0]
        raise DataValidationError("unknown threshold (known: house, senate, president)", file=f, column=f"thresholds.{key}")
    return HypotheticalBill(
        name=str(bill.get("name", path.stem)),
        codes=codes,
        composition={k: dict(v) for k, v in comp.items()} or None,
        congress=congress,
        like=bill.get("like"),
        yea_is_pro_trade=bool(bill.get("yea_is_pro_trade", True)),
        vote_type=str(bill.get("vote_type", "final_passage")),
        house_rule=th.get("house", "majority_of_voting"),
        senate_rule=th.get("senate", "majority_of_voting"),
        president_rule=th.get("president", "signature"),
        actor_weights=dict(raw.get("actor_weights", {})),
        source=f,
    )


def parse_code_key(key) -> tuple[str, str]:
    """``"stage.indicator"`` (or a ``(stage, indicator)`` pair) -> ``(stage, indicator)``."""
    if isinstance(key, tuple) and len(key) == 2:
        return key
    stage, sep, indicator = str(key).partition(".")
    if not sep or not stage or not indicator:
        raise ValueError(f"code key {key!r} must be 'stage.indicator' (e.g. 'voting.payoff')")
    return stage, indicator


def bill_codes_frame(bill: HypotheticalBill) -> pd.DataFrame:
    return pd.DataFrame([(s, i, lvl) for (s, i), lvl in bill.codes.items()], columns=["stage", "indicator", "level"])
