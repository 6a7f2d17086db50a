"""Names and numbers of the domain, defined once.

Every module that needs a chamber, a seat count, a party, a vote type, a threshold
rule, a construct or a default interval probability imports it from here.
"""

from __future__ import annotations

CHAMBERS = ("House", "Senate")
SEATS = {"House": 435, "Senate": 100}
HOUSE_SEATS, SENATE_SEATS = SEATS["House"], SEATS["Senate"]

PARTIES = ("R", "D", "I", "ALL")          # party column of vote_counts.csv (ALL = chamber total)
SEAT_PARTIES = ("R", "D", "I")            # parties that hold seats (composition.csv, a bill's [composition])
GROUPS = ("R", "D", "I", "RD")            # voter groups a likelihood row can describe (RD: both parties, unknown mix)

VOTE_TYPES = ("final_passage", "cloture", "procedural", "whip_estimate", "disapproval")
THRESHOLD_RULES = ("majority_of_voting", "three_fifths_of_senate", "majority_of_members", "two_thirds_of_voting")
PRESIDENT_RULES = ("signature", "override")

FIRST_CONGRESS_YEAR = 1789                # the 1st Congress met in 1789; each Congress lasts two years


def congress_year(congress: int) -> int:
    """The year a Congress first met (the 106th: 1999)."""
    return FIRST_CONGRESS_YEAR + 2 * (congress - 1)

# Presidents since 1989 and their parties, with the day each took office (inauguration, 20 January):
# the National Archives' list of Presidents (https://www.archives.gov/presidential-libraries/presidents)
# and the White House's (https://www.whitehouse.gov/about-the-white-house/presidents/).
PRESIDENTS = (
    ("George H. W. Bush", "R", "1989-01-20"),
    ("Bill Clinton", "D", "1993-01-20"),
    ("George W. Bush", "R", "2001-01-20"),
    ("Barack Obama", "D", "2009-01-20"),
    ("Donald J. Trump", "R", "2017-01-20"),
    ("Joseph R. Biden", "D", "2021-01-20"),
    ("Donald J. Trump", "R", "2025-01-20"),
)


def president_party(date: str) -> str:
    """The party ("R"/"D") of the President in office on ``date`` (ISO text, 1989-01-20 or later)."""
    if str(date) < PRESIDENTS[0][2]:
        raise ValueError(f"no President listed before {PRESIDENTS[0][2]} (asked for {date})")
    return [party for _, party, start in PRESIDENTS if start <= str(date)][-1]


# Chambers whose seat counts (composition.csv) do not say which party organised them: the party that did, from
# the day it did. The 107th Senate sat 50-50: Democrats organised it until 20 January 2001 (Vice President Gore's
# tie-break), Republicans from then (Vice President Cheney's), Democrats again once Sen. Jeffords left the Republican
# party and caucused with them (effective 6 June 2001) until the Congress ended. Sources: PBS NewsHour, 2001-05-24
# (https://www.pbs.org/newshour/politics/politics-jan-june01-jeffords_05-24: "Jeffords' defection effectively gives
# control of the Senate to the Democrats"); Roll Call, 2005-05-20 (https://rollcall.com/2005/05/20/2001-jeffords-
# puts-democrats-back-in-power/: the Democrats held the majority until the 2002 elections).
CHAMBER_CONTROL = {
    (107, "Senate"): (("2001-01-03", "D"), ("2001-01-20", "R"), ("2001-06-06", "D")),
}


def chamber_control(congress: int, chamber: str, date: str) -> str:
    """The party ("R"/"D") that organised a chamber on ``date`` where :data:`CHAMBER_CONTROL` lists it, else ""."""
    spells = CHAMBER_CONTROL.get((int(congress), str(chamber)), ())
    started = [party for start, party in spells if start <= str(date)]
    return started[-1] if started else ""


def congress_reference_date(congress: int) -> str:
    """The day that stands for a Congress when a vote has no date: 1 July of its first year (a new President
    takes office on 20 January, 17 days after a new Congress first meets)."""
    return f"{congress_year(congress)}-07-01"


def congress_president_party(congress: int) -> str:
    """The party of the President for most of a Congress: in office on its reference date."""
    return president_party(congress_reference_date(congress))


ACTOR_TYPES = ("legislative_faction", "executive_agency", "president", "interest_group")
CONSTRUCTS = ("willingness", "pivotal", "deadlock_convergence", "formulation_coordination")
STAGES = ("formulation", "voting")

# default interval probabilities: posterior summaries use the HDI at 94% (ArviZ's default);
# predictive intervals of counts use equal tails at 95%
SUMMARY_PROB = 0.94
# outcome classes of a vote (issue 14, the paper's minimum winning coalition): minimum winning when it carries
# with at most MINIMUM_WINNING_MARGIN yeas beyond those needed, oversized with more, deadlock when it fails on
# the floor or never reaches it
MINIMUM_WINNING_MARGIN = 10
PREDICTIVE_PROB = 0.95

# the samplers a spec may name (sampler.sampler); "auto" is nutpie when installed, else PyMC's NUTS
SAMPLERS = ("auto", "pymc", "nutpie", "numpyro", "blackjax")

# posterior contraction 1 - var(posterior) / var(prior) below this: "not identified by the data"
# (the posterior is still mostly the prior; Betancourt 2018, "Calibrating model-based inferences")
CONTRACTION_IDENTIFIED = 0.5
