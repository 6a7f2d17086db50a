"""Threshold and enactment rules at their boundaries, and the three consumers that must use them.

Every expected value below is written out by hand from the rule's definition (Article I,
Senate Rule XXII, House Rule XV), never computed by the code under test.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from bayes_coalition.coalition import predictive, rules
from bayes_coalition.prediction.predictor import BillPredictor
from bayes_coalition.validation import backtest

# (yea, n_voting, rule, chamber, carries): the boundary table shared by every consumer test
BOUNDARY = [
    # majority of those voting: more than half, a tie fails, nobody voting fails
    (215, 429, "majority_of_voting", "House", True),    # odd turnout: 215 > 214.5
    (214, 429, "majority_of_voting", "House", False),   # odd turnout: 214 < 214.5
    (215, 428, "majority_of_voting", "House", True),    # even turnout: 215-213
    (214, 428, "majority_of_voting", "House", False),   # even turnout: 214-214 tie
    (1, 1, "majority_of_voting", "House", True),
    (0, 1, "majority_of_voting", "House", False),
    (0, 0, "majority_of_voting", "House", False),       # nobody voted
    (51, 100, "majority_of_voting", "Senate", True),
    (50, 100, "majority_of_voting", "Senate", False),   # 50-50 tie (no Vice President here)
    (50, 99, "majority_of_voting", "Senate", True),
    (49, 99, "majority_of_voting", "Senate", False),
    # majority of the members: House 218 of 435, Senate 51 of 100, whatever the turnout
    (218, 435, "majority_of_members", "House", True),
    (217, 435, "majority_of_members", "House", False),
    (217, 420, "majority_of_members", "House", False),  # a majority of those voting, not of members
    (218, 300, "majority_of_members", "House", True),
    (51, 100, "majority_of_members", "Senate", True),
    (50, 100, "majority_of_members", "Senate", False),
    (50, 90, "majority_of_members", "Senate", False),   # 50 of 90 voting is not 51 members
    # three fifths of the Senate: 60 of 100 sworn, independent of turnout
    (60, 100, "three_fifths_of_senate", "Senate", True),
    (59, 100, "three_fifths_of_senate", "Senate", False),
    (59, 98, "three_fifths_of_senate", "Senate", False),  # 59/98 > 3/5 of those voting, still fails
    (60, 60, "three_fifths_of_senate", "Senate", True),
    (60, 0, "three_fifths_of_senate", "Senate", False),   # nobody voted (impossible count, still no)
    # two thirds of those voting: 3 * yea >= 2 * n
    (290, 435, "two_thirds_of_voting", "House", True),  # exactly 2/3
    (289, 435, "two_thirds_of_voting", "House", False),
    (286, 429, "two_thirds_of_voting", "House", True),  # exactly 2/3
    (285, 429, "two_thirds_of_voting", "House", False),
    (287, 430, "two_thirds_of_voting", "House", True),  # 286.67 -> 287
    (286, 430, "two_thirds_of_voting", "House", False),
    (66, 99, "two_thirds_of_voting", "Senate", True),   # exactly 2/3
    (65, 99, "two_thirds_of_voting", "Senate", False),
    (67, 100, "two_thirds_of_voting", "Senate", True),  # 66.67 -> 67
    (66, 100, "two_thirds_of_voting", "Senate", False),
    (2, 3, "two_thirds_of_voting", "Senate", True),     # exact
    (1, 3, "two_thirds_of_voting", "Senate", False),    # just under
    (0, 0, "two_thirds_of_voting", "Senate", False),
]

# (rule, chamber, n_voting, yeas needed), by hand
NEEDED = [
    ("majority_of_voting", "House", 0, 1),
    ("majority_of_voting", "House", 1, 1),
    ("majority_of_voting", "House", 2, 2),
    ("majority_of_voting", "House", 428, 215),
    ("majority_of_voting", "House", 429, 215),
    ("majority_of_voting", "House", 435, 218),
    ("majority_of_voting", "Senate", 99, 50),
    ("majority_of_voting", "Senate", 100, 51),
    ("majority_of_members", "House", 0, 218),
    ("majority_of_members", "House", 400, 218),
    ("majority_of_members", "Senate", 80, 51),
    ("majority_of_members", "Senate", 100, 51),
    ("three_fifths_of_senate", "Senate", 0, 60),
    ("three_fifths_of_senate", "Senate", 80, 60),
    ("three_fifths_of_senate", "Senate", 100, 60),
    ("two_thirds_of_voting", "House", 0, 0),
    ("two_thirds_of_voting", "House", 1, 1),
    ("two_thirds_of_voting", "House", 2, 2),
    ("two_thirds_of_voting", "House", 3, 2),
    ("two_thirds_of_voting", "House", 4, 3),
    ("two_thirds_of_voting", "House", 5, 4),
    ("two_thirds_of_voting", "House", 430, 287),
    ("two_thirds_of_voting", "House", 435, 290),
    ("two_thirds_of_voting", "Senate", 99, 66),
    ("two_thirds_of_voting", "Senate", 100, 67),
]


def _ids(rows: list[tuple]) -> list[str]:
    return ["-".join(map(str, r)) for r in rows]


@pytest.mark.parametrize(("yea", "n", "rule", "chamber", "expected"), BOUNDARY, ids=_ids(BOUNDARY))
def test_carries_at_the_boundary(yea: int, n: int, rule: str, chamber: str, expected: bool) -> None:
    """Guards against off-by-one thresholds (>= vs >, floor vs ceil, ties) and turnout confusion."""
    assert bool(rules.carries(yea, n, rule, chamber)) is expected


@pytest.mark.parametrize(("rule", "chamber", "n", "needed"), NEEDED, ids=_ids(NEEDED))
def test_votes_needed(rule: str, chamber: str, n: int, needed: int) -> None:
    """Guards against a wrong threshold count, which the bill predictor uses directly; a count is an integer."""
    got = rules.votes_needed(rule, chamber, n)
    assert np.issubdtype(np.asarray(got).dtype, np.integer) and int(got) == needed


def test_rules_broadcast_over_arrays_of_rules_chambers_and_turnouts() -> None:
    """Guards against a rule applied to the wrong element when cases of several rules are stacked."""
    rule = np.array([r[2] for r in BOUNDARY])
    chamber = np.array([r[3] for r in BOUNDARY])
    yea = np.array([r[0] for r in BOUNDARY])
    n = np.array([r[1] for r in BOUNDARY])
    expected = np.array([r[4] for r in BOUNDARY])
    np.testing.assert_array_equal(rules.carries(yea, n, rule, chamber), expected)
    # (sample, case) counts against per-case rules, as the approval table evaluates them
    yea2 = np.array([[218, 60, 290], [217, 59, 289]])
    got = rules.carries(yea2, np.array([[435, 100, 435]]),
                        np.array(["majority_of_members", "three_fifths_of_senate", "two_thirds_of_voting"]),
                        np.array(["House", "Senate", "House"]))
    np.testing.assert_array_equal(got, [[True, True, True], [False, False, False]])
    needed = rules.votes_needed(np.array(["majority_of_voting", "two_thirds_of_voting"]), "Senate", np.array([[99], [100]]))
    np.testing.assert_array_equal(needed, [[50, 66], [51, 67]])


@pytest.mark.parametrize("rule", ["majority", "two_thirds", "", "Majority_Of_Voting"])
def test_unknown_rule_raises(rule: str) -> None:
    """Guards against an unknown rule silently getting some default threshold."""
    with pytest.raises(ValueError, match="unknown threshold rule"):
        rules.votes_needed(rule, "House", 400)
    with pytest.raises(ValueError, match="unknown threshold rule"):
        rules.carries(np.array([200, 300]), 400, rule, "House")
    with pytest.raises(ValueError, match="unknown threshold rule"):
        rules.check_rule(rule, "House")


def test_unknown_rule_in_an_array_is_named() -> None:
    """Guards against an error that hides which of several rules is wrong, or blames a valid rule
    (two thirds of nobody voting needs 0 yeas, which is not an unknown rule)."""
    with pytest.raises(ValueError, match=r"unknown threshold rule 'bogus'"):
        rules.votes_needed(np.array(["two_thirds_of_voting", "bogus", "majority_of_voting"]), "House",
                           np.array([0, 10, 10]))


@pytest.mark.parametrize(("rule", "chamber"), [("three_fifths_of_senate", "House"), ("majority_of_voting", "house"),
                                               ("majority_of_voting", "Congress")])
def test_rule_in_the_wrong_chamber_is_rejected(rule: str, chamber: str) -> None:
    """Guards against a cloture rule accepted for a House vote, or an unknown chamber."""
    with pytest.raises(ValueError, match="does not apply to the House|unknown chamber"):
        rules.check_rule(rule, chamber)


@pytest.mark.parametrize(("rule", "chamber"), [(r, c) for c, allowed in
                                               [("House", ["majority_of_voting", "majority_of_members", "two_thirds_of_voting"]),
                                                ("Senate", ["majority_of_voting", "majority_of_members",
                                                            "three_fifths_of_senate", "two_thirds_of_voting"])]
                                               for r in allowed])
def test_every_rule_of_a_chamber_is_accepted(rule: str, chamber: str) -> None:
    """Guards against a valid rule being refused (hand list of each chamber's rules)."""
    rules.check_rule(rule, chamber)
    assert rule in rules.CHAMBER_RULES[chamber]


@pytest.mark.parametrize("rule, chamber, match", [
    ("three_fifths_of_senate", "House", "does not apply to the House"),
    ("majority_of_members", "house", "unknown chamber"),
])
def test_votes_needed_rejects_a_rule_of_the_other_chamber(rule, chamber, match) -> None:
    """Three fifths of the Senate in the House (it once gave 60) and a misspelt chamber (it once
    counted as the Senate) are errors, in votes_needed and in carries."""
    with pytest.raises(ValueError, match=match):
        rules.votes_needed(rule, chamber, 400)
    with pytest.raises(ValueError, match=match):
        rules.carries(300, 400, rule, chamber)


def test_unknown_scalar_rule_with_array_turnout_raises_value_error() -> None:
    """A scalar unknown rule broadcast over several turnouts is a ValueError naming the rule
    (it once raised IndexError while building the message)."""
    with pytest.raises(ValueError, match="bogus"):
        rules.votes_needed("bogus", "House", np.array([10, 20]))


# --- enactment ------------------------------------------------------------------------

# (house_passed, senate_passed, signs, house_yea, house_n, senate_yea, senate_n, law)
ENACTMENT = [
    (True, True, True, 218, 435, 51, 100, True),      # passes both, signed
    (True, True, False, 218, 435, 51, 100, False),    # vetoed, no override
    (True, True, False, 290, 435, 67, 100, True),     # vetoed, two thirds in both
    (True, True, False, 290, 435, 66, 100, False),    # override in the House only
    (True, True, False, 289, 435, 67, 100, False),    # override in the Senate only
    (True, True, False, 2, 3, 2, 3, True),            # override at exactly two thirds in both (2 of 3)
    (True, True, False, 1, 3, 2, 3, False),           # just under two thirds in the House
    (False, True, True, 217, 435, 51, 100, False),    # fails the House, signature cannot save it
    (True, False, True, 218, 435, 50, 100, False),    # fails the Senate
    (False, False, True, 0, 0, 0, 0, False),
    (False, True, False, 290, 435, 67, 100, False),   # a chamber that failed cannot be overridden into passing
]


@pytest.mark.parametrize(("hp", "sp", "signs", "hy", "hn", "sy", "sn", "law"), ENACTMENT, ids=_ids(ENACTMENT))
def test_enacted(hp: bool, sp: bool, signs: bool, hy: int, hn: int, sy: int, sn: int, law: bool) -> None:
    """Guards against law without both chambers, or an override counted in one chamber only."""
    assert bool(rules.enacted(hp, sp, signs, hy, hn, sy, sn)) is law


@pytest.mark.parametrize(("hy", "hn", "sy", "sn", "expected"), [
    (290, 435, 67, 100, True), (289, 435, 67, 100, False), (290, 435, 66, 100, False),
    (286, 429, 66, 99, True), (0, 0, 0, 0, False),
])
def test_override_needs_two_thirds_in_both(hy: int, hn: int, sy: int, sn: int, expected: bool) -> None:
    """Guards against an override threshold other than two thirds of those voting in each chamber."""
    assert bool(rules.override(hy, hn, sy, sn)) is expected


def test_enacted_broadcasts_over_draws() -> None:
    """Guards against enactment mixing draws (the approval table evaluates arrays of draws)."""
    got = rules.enacted(np.array([True, True, True, False]), np.array([True, True, True, True]),
                        np.array([True, False, False, True]),
                        np.array([218, 290, 290, 100]), 435, np.array([51, 67, 66, 90]), 100)
    np.testing.assert_array_equal(got, [True, True, False, False])


@pytest.mark.parametrize(("position", "cut", "pro", "signs"), [
    (0.5, 0.0, True, True), (-0.5, 0.0, True, False), (0.0, 0.0, True, False),   # equality: no signature
    (0.5, 0.0, False, False), (-0.5, 0.0, False, True), (0.0, 0.0, False, False),
    (1.0, 1.0 - 1e-12, True, True), (1.0 - 1e-12, 1.0, False, True),
])
def test_president_signs_strictly_on_the_bill_side(position: float, cut: float, pro: bool, signs: bool) -> None:
    """Guards against signing at the cut-point or on the wrong side of it for an anti-trade yea."""
    assert bool(rules.president_signs(position, cut, pro)) is signs


def test_president_signs_broadcasts_per_draw() -> None:
    """Guards against the polarity being applied to the wrong draws."""
    got = rules.president_signs(np.array([1.0, -1.0, 0.0]), np.array([0.0, 0.0, 0.0]), np.array([True, False, True]))
    np.testing.assert_array_equal(got, [True, True, False])


def test_party_sign_and_cut_point() -> None:
    """Guards against the tilt moving the parties the same way, or independents being tilted."""
    np.testing.assert_array_equal(rules.party_sign(np.array(["R", "D", "I", "R"])), [1.0, -1.0, 0.0, 1.0])
    np.testing.assert_array_equal(rules.party_cut_point(0.25, 0.5, np.array([1.0, -1.0, 0.0])), [0.75, -0.25, 0.25])


# --- the consumers use these rules ----------------------------------------------------


@pytest.mark.parametrize(("yea", "n", "rule", "chamber", "expected"), BOUNDARY, ids=_ids(BOUNDARY))
def test_approval_table_rule(yea: int, n: int, rule: str, chamber: str, expected: bool) -> None:
    """The fit's approval table (predictive.passes) gives the hand answer at each boundary row."""
    chamber_idx = {"House": 0, "Senate": 1}[chamber]
    got = predictive.passes(np.array([[yea]]), np.array([[n]]), np.array([rule]), np.array([chamber_idx]))
    assert got.shape == (1, 1) and bool(got[0, 0]) is expected


# a bill always has voters (HypotheticalBill.validate refuses an empty chamber), so predict never sees n == 0
VOTING = [r for r in BOUNDARY if r[1] > 0]


@pytest.mark.parametrize(("yea", "n", "rule", "chamber", "expected"), VOTING, ids=_ids(VOTING))
def test_bill_predictor_rule(yea: int, n: int, rule: str, chamber: str, expected: bool) -> None:
    """Hypothetical-bill prediction (BillPredictor.threshold, compared as predict does) at each boundary row."""
    assert bool(yea >= BillPredictor.threshold(rule, chamber, n)) is expected


@pytest.mark.parametrize(("rule", "chamber", "n", "needed"), NEEDED, ids=_ids(NEEDED))
def test_bill_predictor_threshold(rule: str, chamber: str, n: int, needed: int) -> None:
    """BillPredictor.threshold is the hand table's yea count."""
    assert int(BillPredictor.threshold(rule, chamber, n)) == needed


class _FixedCountRng:
    """Stands in for numpy's Generator in party_line_baseline: every draw of the chamber's yea total is ``yea``.

    The baseline simulates party yea counts; fixing them isolates the rule it applies."""

    def __init__(self, yea: int) -> None:
        self.yea = yea

    def beta(self, a: float, b: float, size: int) -> np.ndarray:
        return np.full(size, 0.5)

    def uniform(self, size: int) -> np.ndarray:
        return np.full(size, 0.5)

    def binomial(self, n: int, q: np.ndarray) -> np.ndarray:
        return np.full(np.shape(q), self.yea if n else 0, dtype=int)


@pytest.mark.parametrize(("yea", "n", "rule", "chamber", "expected"), BOUNDARY, ids=_ids(BOUNDARY))
def test_backtest_party_line_baseline_rule(monkeypatch: pytest.MonkeyPatch, yea: int, n: int, rule: str,
                                           chamber: str, expected: bool) -> None:
    """The backtest's party-line baseline applies the case's rule: P(pass) is 1 or 0 at each boundary row."""
    cases = pd.DataFrame({"case_id": ["c"], "chamber": [chamber], "yea_is_pro_trade": [True], "threshold_rule": [rule]})
    votes = pd.DataFrame({"case_id": pd.Series([], dtype=str), "party": pd.Series([], dtype=str),
                          "yea": pd.Series([], dtype=float), "nay": pd.Series([], dtype=float)})
    dataset = SimpleNamespace(cases=cases, vote_counts=votes)
    monkeypatch.setattr(backtest, "case_bill", lambda ds, case_id: SimpleNamespace(seats=lambda ds: {chamber: {"R": n}}))
    monkeypatch.setattr(backtest.np.random, "default_rng", lambda seed: _FixedCountRng(yea))
    p, total = backtest.party_line_baseline(dataset, [], "c", n_sim=3)
    np.testing.assert_array_equal(total, [yea if n else 0] * 3)
    assert p == (1.0 if expected else 0.0)


# --- approval table: P(enacted) follows signature and override -------------------------


def _approval(house_yea: list[int], senate_yea: list[int], president: list[float] | None, polarity: int = 1,
              rule: tuple[str, str] = ("majority_of_voting", "majority_of_voting")) -> pd.DataFrame:
    """approval_table on hand-made draws of one episode with a House (435 voting) and a Senate (100) vote."""
    S = len(house_yea)
    md = SimpleNamespace(
        coords={"case": ["h", "s"]}, case_threshold=np.array(rule), case_chamber_idx=np.array([0, 1]),
        case_polarity=np.array([polarity, polarity]), president_idx=None if president is None else 0,
        obs_case_idx=np.array([0, 1]), obs_yea=np.array([250.0, 60.0]), int_case_idx=np.array([], dtype=int),
    )
    cases = pd.DataFrame({
        "case_id": ["h", "s"], "episode_id": ["ep", "ep"], "chamber": ["House", "Senate"],
        "vote_type": ["final_passage", "final_passage"], "threshold_rule": list(rule),
        "date": ["2000-01-01", "2000-01-02"], "passed": [True, True], "outcome": ["passed", "passed"],
    })
    sim = {"case_yea": np.column_stack([house_yea, senate_yea]), "case_n": np.array([435, 100])}
    ideal = np.zeros((S, 1)) if president is None else np.array(president, dtype=float)[:, None]
    arrays = {"ideal_point": ideal, "cut_point": np.zeros((S, 2))}
    return predictive.approval_table(sim, arrays, md, cases).set_index("case_id")


def test_approval_table_enactment_follows_signature_and_override() -> None:
    """Guards against P(enacted) ignoring the veto, the override or a failed chamber (hand-counted draws)."""
    # draw: House yea, Senate yea, President position (cut-point 0, pro-trade yea: signs when > 0)
    draws = [
        (218, 51, 1.0),    # passes both, signs                      -> law
        (290, 67, -1.0),   # passes both, veto, two thirds in both   -> law
        (290, 66, -1.0),   # passes both, veto, override House only  -> no
        (289, 67, -1.0),   # passes both, veto, override Senate only -> no
        (217, 67, 1.0),    # fails the House (tie-free 217 < 218), signs -> no
        (300, 50, 1.0),    # Senate 50-50 tie fails, signs           -> no
        (218, 51, 0.0),    # President exactly at the cut-point: no signature, no override -> no
        (435, 100, 0.0),   # unanimous: override                     -> law
    ]
    t = _approval([d[0] for d in draws], [d[1] for d in draws], [d[2] for d in draws])
    assert t.loc["h", "p_house"] == pytest.approx(7 / 8)
    assert t.loc["h", "p_senate"] == pytest.approx(7 / 8)
    assert t.loc["h", "p_enacted"] == pytest.approx(3 / 8)
    assert t.loc["s", "p_enacted"] == pytest.approx(3 / 8)
    np.testing.assert_allclose(t["p_pass"].to_numpy(), [7 / 8, 7 / 8])
    np.testing.assert_allclose(t["yea_mean"].to_numpy(), [np.mean([d[0] for d in draws]), np.mean([d[1] for d in draws])])


def test_approval_table_anti_trade_yea_flips_the_signature() -> None:
    """Guards against the President's side not following the yea side (polarity -1: signs when below the cut)."""
    draws = [(218, 51, -1.0), (218, 51, 1.0), (290, 67, 1.0), (100, 51, -1.0)]
    t = _approval([d[0] for d in draws], [d[1] for d in draws], [d[2] for d in draws], polarity=-1)
    assert t.loc["h", "p_enacted"] == pytest.approx(2 / 4)   # signed; overridden
    assert t.loc["h", "p_pass"] == pytest.approx(3 / 4)
    assert t.loc["h", "p_pro_trade_win"] == pytest.approx(1 / 4)  # an anti-trade yea passing is a pro-trade loss


def test_approval_table_without_a_president_enacts_on_passage() -> None:
    """Guards against requiring a signature when the data hold no President."""
    t = _approval([218, 217, 300], [51, 51, 49], None)
    assert t.loc["h", "p_enacted"] == pytest.approx(1 / 3)


def test_approval_table_applies_each_case_rule() -> None:
    """Guards against the approval table applying one rule to every case (House majority of members, Senate cloture)."""
    t = _approval([218, 217, 230], [60, 60, 59], None, rule=("majority_of_members", "three_fifths_of_senate"))
    assert t.loc["h", "p_house"] == pytest.approx(2 / 3)
    assert t.loc["h", "p_senate"] == pytest.approx(2 / 3)
    assert t.loc["h", "p_enacted"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(("president", "seats", "congress", "chamber", "date", "divided"), [
    ("D", {"R": 230, "D": 204, "I": 1}, 105, "House", None, 1.0),    # Clinton and the 105th House
    ("R", {"R": 230, "D": 204, "I": 1}, 105, "House", None, 0.0),
    ("R", {"R": 49, "D": 50, "I": 1}, 110, "Senate", None, 1.0),     # a Senate with a Democratic plurality
    ("D", {"R": 50, "D": 50}, 104, "Senate", None, 0.0),             # a tie nobody lists: no majority to lack
    ("R", {"R": 50, "D": 50}, 104, "Senate", None, 0.0),             # ... whichever party holds the White House
    ("R", {"R": 50, "D": 50}, 107, "Senate", "2002-05-23", 1.0),     # 107th Senate after Jeffords: Democratic
    ("R", {"R": 50, "D": 50}, 107, "Senate", "2001-06-05", 0.0),     # ... the day before: Republican (Cheney)
    ("R", {"R": 50, "D": 50}, 107, "Senate", "2001-01-19", 1.0),     # ... before the inauguration: Democratic (Gore)
    ("R", {"R": 50, "D": 50}, 107, "Senate", None, 1.0),             # a bill without a date: 1 July 2001, Democratic
    ("R", {"R": 50, "D": 50}, 107, "House", "2002-05-23", 0.0),      # the list is per chamber
    ("R", {"D": 1}, 105, "House", None, 1.0),                        # a party without seats has none (not one, not an error)
    ("D", {"R": 1}, 105, "House", None, 1.0),
    ("D", {"R": 1, "D": 2}, 105, "House", None, 0.0),
])
def test_divided_government_table(president, seats, congress, chamber, date, divided):
    assert rules.divided_government(president, rules.chamber_majority(seats, congress, chamber, date)) == divided


@pytest.mark.parametrize(("seats", "congress", "chamber", "date", "party", "sign"), [
    ({"R": 228, "D": 206, "I": 1}, 105, "House", "1998-09-25", "R", 1.0),
    ({"R": 200, "D": 235}, 110, "House", "2007-11-08", "D", -1.0),
    ({"R": 42, "D": 57, "I": 1}, 111, "Senate", None, "D", -1.0),
    ({"R": 50, "D": 50}, 107, "Senate", "2002-08-01", "D", -1.0),     # tradeact2002_s_conf
    ({"R": 50, "D": 50}, 107, "Senate", "2001-05-01", "R", 1.0),
    ({"R": 50, "D": 50}, 104, "Senate", "1996-01-01", "", 0.0),
])
def test_chamber_majority_and_its_sign(seats, congress, chamber, date, party, sign):
    assert rules.chamber_majority(seats, congress, chamber, date) == party
    assert rules.majority_sign(party) == sign


# --- optional Congress-level covariates ---------------------------------------------------------------
@pytest.mark.parametrize(("year", "expected"), [(1996, 1.0), (1997, 0.0), (2000, 1.0), (2019, 0.0), (2020, 1.0)])
def test_election_year_is_an_even_calendar_year(year: int, expected: float) -> None:
    assert rules.election_year(year) == expected


def test_party_gap_is_the_previous_congress_in_tenths_above_the_first() -> None:
    """Hand values from data/covariates.csv (party_gap_d1): House 102 0.658915, 105 0.777125, 106 0.776898;
    Senate 102 0.618877, 113 0.796739."""
    from bayes_coalition.data.dataset import load_dataset

    cov = load_dataset().covariates
    assert rules.party_gap(cov, 106, "House") == pytest.approx((0.7771248672710938 - 0.6589148148148148) * 10)
    assert rules.party_gap(cov, 107, "House") == pytest.approx((0.776897902973396 - 0.6589148148148148) * 10)
    assert rules.party_gap(cov, 114, "Senate") == pytest.approx((0.7967391304347826 - 0.6188769592476489) * 10)
    assert rules.party_gap(cov, 103, "House") == 0.0 and rules.party_gap(cov, 102, "House") == 0.0
    assert np.isnan(rules.party_gap(cov, 101, "House"))         # before the table: unknown, never extrapolated
    assert np.isnan(rules.party_gap(None, 106, "House"))
    assert np.isnan(rules.party_gap(cov[cov.chamber == "House"], 106, "Senate"))
    # a table of one row (the first Congress only): its own Congress is 0, a later one has no earlier row to lag
    one = cov[(cov.chamber == "House") & (cov.congress == 102)]
    assert len(one) == 1 and rules.party_gap(one, 102, "House") == 0.0
    assert rules.party_gap(one, 103, "House") == 0.0                # 103 lags to 102, the first: 0 tenths


def test_a_tied_chamber_without_a_date_is_organised_as_on_the_congress_reference_date(monkeypatch) -> None:
    """Guards against a tie without a date read as the Congress's last spell: a (made-up) chamber organised by the
    Democrats from 1 March and by the Republicans from 1 September of the Congress's first year is Democratic on
    its reference date, 1 July."""
    from bayes_coalition import constants

    monkeypatch.setitem(constants.CHAMBER_CONTROL, (104, "Senate"), (("1995-03-01", "D"), ("1995-09-01", "R")))
    assert constants.congress_reference_date(104) == "1995-07-01"
    assert rules.chamber_majority({"R": 50, "D": 50}, 104, "Senate") == "D"
    assert rules.chamber_majority({"R": 50, "D": 50}, 104, "Senate", "1995-10-01") == "R"
    assert rules.chamber_majority({"R": 50, "D": 50}, 104, "Senate", "1995-02-01") == ""


# --- which votes the leadership controls (agenda control) -------------------------------------------------


@pytest.mark.parametrize(("vote_type", "pro", "status"), [
    ("final_passage", True, rules.HELD),
    ("cloture", True, rules.HELD),
    ("procedural", True, rules.HELD),
    ("disapproval", False, rules.EXEMPT),        # privileged by statute: forced onto the floor
    ("disapproval", True, rules.EXEMPT),         # not a leadership motion whichever side yea is
    ("final_passage", False, rules.EXEMPT),      # yea is the anti-trade side: not the leadership's motion
    ("cloture", False, rules.EXEMPT),
    ("procedural", False, rules.EXEMPT),
    ("whip_estimate", True, rules.WITHDRAWN),    # counted, never voted
    ("whip_estimate", False, rules.WITHDRAWN),
])
def test_floor_status_table(vote_type, pro, status) -> None:
    assert int(rules.floor_status(vote_type, pro)) == status


def test_floor_status_is_elementwise() -> None:
    """Guards against a status read from the first vote only or from the wrong argument's positions."""
    got = rules.floor_status(["disapproval", "final_passage", "whip_estimate", "cloture", "final_passage"],
                             [False, True, True, True, False])
    assert got.tolist() == [rules.EXEMPT, rules.HELD, rules.WITHDRAWN, rules.HELD, rules.EXEMPT]
    assert got.dtype.kind == "i" and (rules.EXEMPT, rules.HELD, rules.WITHDRAWN) == (0, 1, 2)


@pytest.mark.parametrize(("chamber", "sign"), [("House", 0.5), ("Senate", -0.5)])
def test_house_sign_is_centred(chamber, sign) -> None:
    """The house_tilt covariate: +1/2 in the House, -1/2 in the Senate (the walk stays the chambers' average)."""
    assert rules.house_sign(chamber) == sign


@pytest.mark.parametrize("chamber", ["house", "senate", "", "Joint"])
def test_house_sign_rejects_an_unknown_chamber(chamber) -> None:
    with pytest.raises(ValueError, match=f"unknown chamber '{chamber}'"):
        rules.house_sign(chamber)
