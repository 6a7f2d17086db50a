"""The institutional rules of the game, written once.

Every part of the package that decides whether a motion carries or a bill becomes law
calls these functions: the posterior predictive approval table of a fit
(:mod:`bayes_coalition.coalition.predictive`), hypothetical-bill prediction
(:mod:`bayes_coalition.prediction.predictor`) and the backtest's baselines
(:mod:`bayes_coalition.validation.backtest`).  So a rule cannot differ between the fit,
a prediction and an evaluation.

Threshold rules (``threshold_rule`` in ``cases.csv``, ``[thresholds]`` in a bill file):

========================  ===================================================  =======================
rule                      yeas needed                                          example
========================  ===================================================  =======================
majority_of_voting        more than half of those voting (a tie fails)         215-214 passes, 214-214 fails
majority_of_members       a majority of the chamber's seats (House 218, Senate 51) 1997 fast-track whip count
three_fifths_of_senate    60 senators (cloture, budget waivers)                 60 carries, 59 fails
two_thirds_of_voting      two thirds of those voting (suspension, override)     290 of 435 carries, 289 fails
========================  ===================================================  =======================

Enactment: a bill passed by both chambers becomes law when the President signs it, or
when both chambers reach two thirds of those voting (a veto override). The President
signs when the bill's side of the cut-point is the President's side (see
:func:`president_signs`). A bill whose ``president`` rule is ``override`` assumes a veto.
"""

from __future__ import annotations

import numpy as np

from bayes_coalition.constants import CHAMBERS, SEATS, THRESHOLD_RULES, chamber_control, congress_reference_date

# which rules a chamber can use (three fifths of the Senate is a Senate rule)
CHAMBER_RULES = {
    "House": ("majority_of_voting", "majority_of_members", "two_thirds_of_voting"),
    "Senate": ("majority_of_voting", "majority_of_members", "three_fifths_of_senate", "two_thirds_of_voting"),
}


def check_rule(rule: str, chamber: str) -> None:
    """Raise ValueError unless ``rule`` is a threshold rule that ``chamber`` can use."""
    if chamber not in CHAMBERS:
        raise ValueError(f"unknown chamber {chamber!r} (known: {list(CHAMBERS)})")
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"unknown threshold rule {rule!r} (known: {list(THRESHOLD_RULES)})")
    if rule not in CHAMBER_RULES[chamber]:
        raise ValueError(f"threshold rule {rule!r} does not apply to the {chamber} (allowed: {list(CHAMBER_RULES[chamber])})")


def votes_needed(rule, chamber, n_voting):
    """The smallest yea count that carries a motion; broadcasts over arrays of rules, chambers and turnout.

    ``n_voting`` is the number voting yea or nay (used by the rules "of voting"). Every
    (rule, chamber) pair is checked with :func:`check_rule`: a Senate rule in the House or an
    unknown chamber is an error, never a silent default."""
    rule, chamber, n = np.broadcast_arrays(np.asarray(rule), np.asarray(chamber), np.asarray(n_voting))
    for r, c in set(zip(rule.ravel().tolist(), chamber.ravel().tolist())):
        check_rule(r, c)
    seats = np.where(chamber == "House", SEATS["House"], SEATS["Senate"])
    majority_voting = n // 2 + 1                 # yea > n / 2
    two_thirds = -((-2 * n) // 3)                # ceil(2n / 3), in integers: 3 * yea >= 2 * n
    out = np.where(
        rule == "majority_of_voting", majority_voting,
        np.where(rule == "two_thirds_of_voting", two_thirds,
                 np.where(rule == "majority_of_members", seats // 2 + 1, 3 * SEATS["Senate"] // 5)))
    return out


def carries(yea, n_voting, rule, chamber):
    """Whether a yea count carries the motion: at least :func:`votes_needed`, and somebody voted."""
    yea = np.asarray(yea)
    n = np.asarray(n_voting)
    return (yea >= votes_needed(rule, chamber, n)) & (n > 0)


def override(house_yea, house_n, senate_yea, senate_n):
    """Two thirds of those voting in both chambers (a veto override)."""
    return carries(house_yea, house_n, "two_thirds_of_voting", "House") & carries(
        senate_yea, senate_n, "two_thirds_of_voting", "Senate")


def president_signs(president_position, cut_point, yea_is_pro_trade):
    """The President signs when on the bill's side of the reference cut-point (strictly)."""
    pos = np.asarray(president_position)
    cut = np.asarray(cut_point)
    return np.where(np.asarray(yea_is_pro_trade, dtype=bool), pos > cut, pos < cut)


def enacted(house_passed, senate_passed, signs, house_yea, house_n, senate_yea, senate_n):
    """Law: both chambers pass, and the President signs or both chambers override."""
    return (np.asarray(house_passed, dtype=bool) & np.asarray(senate_passed, dtype=bool)
            & (np.asarray(signs, dtype=bool) | override(house_yea, house_n, senate_yea, senate_n)))


# vote types whose scheduling the majority leadership controls (agenda control, coalition/agenda.py);
# a disapproval resolution is privileged by statute and reaches the floor whatever the count
FLOOR_CONTROLLED = ("final_passage", "cloture", "procedural")
EXEMPT, HELD, WITHDRAWN = 0, 1, 2


def floor_status(vote_type, yea_is_pro_trade):
    """Per vote: ``HELD`` (1) a leadership-controlled pro-trade motion that reached the floor,
    ``WITHDRAWN`` (2) a measure counted by the whips but never brought to a vote (``whip_estimate``),
    ``EXEMPT`` (0) a vote the leadership cannot keep off the floor (a disapproval resolution, or any
    motion whose yea side is anti-trade)."""
    vt = np.asarray(vote_type)
    pro = np.asarray(yea_is_pro_trade, dtype=bool)
    return np.where(vt == "whip_estimate", WITHDRAWN,
                    np.where(np.isin(vt, FLOOR_CONTROLLED) & pro, HELD, EXEMPT)).astype(int)


def party_sign(faction_party) -> np.ndarray:
    """+1 for Republican factions, -1 for Democratic ones (the direction of the party tilt)."""
    fp = np.asarray(faction_party)
    return (fp == "R").astype(float) - (fp == "D").astype(float)


def party_cut_point(cut_point, party_tilt, sign):
    """A faction's cut-point on a vote: the vote's cut-point moved by the party tilt,
    Republicans ``cut + tilt``, Democrats ``cut - tilt``. Works on NumPy and PyTensor operands."""
    return cut_point + party_tilt * sign


def chamber_majority(seats: dict, congress: int, chamber: str, date: str | None = None) -> str:
    """The party ("R"/"D") holding a chamber's majority: the one with more seats (``seats``: party -> seats, from
    composition.csv); on a tie, the party that organised the chamber on ``date`` (constants.CHAMBER_CONTROL; default
    the Congress's reference date, as for the President); "" when neither says."""
    r, d = seats.get("R", 0), seats.get("D", 0)
    if r != d:
        return "R" if r > d else "D"
    return chamber_control(congress, chamber, date if date is not None else congress_reference_date(congress))


def majority_sign(party: str) -> float:
    """+1 for a Republican majority, -1 for a Democratic one, 0 for none (the direction of the majority tilt,
    as the President's party is for the President's)."""
    return {"R": 1.0, "D": -1.0}.get(party, 0.0)


def divided_government(president_party: str, majority: str) -> float:
    """1.0 when the President's party ("R"/"D") lacks the chamber's majority (``majority``: the party holding it,
    :func:`chamber_majority`); 0.0 when it holds it, or when no party does ("")."""
    return float(majority != "" and majority != president_party)


# --- optional Congress-level covariates (spec ``[model] covariates``) ---------------------------------
COVARIATES = ("election_year", "party_gap", "chamber_majority", "house_tilt")
PARTY_GAP_UNIT = 0.1     # the party-gap covariate counts tenths of a DW-NOMINATE unit


def house_sign(chamber: str) -> float:
    """The ``house_tilt`` covariate of a vote: +1/2 in the House, -1/2 in the Senate (centred, so that the Congress's
    walk stays the two chambers' average and ``house_tilt`` is the House's tilt minus the Senate's)."""
    if chamber not in ("House", "Senate"):
        raise ValueError(f"unknown chamber {chamber!r}")
    return 0.5 if chamber == "House" else -0.5


def election_year(year: int) -> float:
    """1.0 for a vote cast in an even calendar year, the year of a general election (every House seat and a
    third of the Senate); 0.0 otherwise."""
    return float(int(year) % 2 == 0)


def party_gap(covariates, congress: int, chamber: str) -> float:
    """The party-gap covariate of a vote in ``congress`` and ``chamber``: the distance between the two parties'
    mean DW-NOMINATE first-dimension scores (``party_gap_d1`` of covariates.csv) in the *previous* Congress's
    chamber, minus that of the table's first Congress, in tenths (``PARTY_GAP_UNIT``). The previous Congress, so
    that no roll call cast during the vote's own Congress (some after the vote) enters its covariate; where the
    table holds no earlier Congress, the vote's own (the first Congress of the table; residual caveat: DW-NOMINATE
    is estimated on every Congress at once, so even a lagged score carries some later information). NaN when the
    table is absent or lacks the chamber."""
    if covariates is None or len(covariates) == 0:
        return float("nan")
    rows = covariates[covariates["chamber"] == chamber]
    if rows.empty:
        return float("nan")
    congresses = rows["congress"].astype(int)
    first = int(congresses.min())
    base = float(rows.loc[congresses == first, "party_gap_d1"].iloc[0])
    earlier = rows[congresses < int(congress)]
    if earlier.empty:
        return 0.0 if int(congress) == first else float("nan")
    lag = earlier.loc[earlier["congress"].astype(int).idxmax(), "party_gap_d1"]
    return (float(lag) - base) / PARTY_GAP_UNIT
