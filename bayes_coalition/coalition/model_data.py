"""Turn a validated :class:`TradeDataset` into the index arrays the coalition model needs.

Which count rows enter the likelihood, and why others do not, is decided here and
recorded in :attr:`ModelData.usage` so that nothing is dropped silently:

- a party row with both yea and nay is a point observation of that party, unless nobody of the party voted
  (yea = nay = 0, the House's lone independent absent): such a row says nothing and would only pad the row
  counts of the checks (predictive coverage, Pareto k), so it is listed as ``no_voters_unused``;
- the remainder of a chamber total (ALL) after the complete party rows is a point
  observation of the remaining voters ("residual"); if both major parties remain, their
  mix is a latent share;
- a party row with only yea or only nay cannot enter a binomial likelihood on its own:
  it is listed as ``partial_cell_unused`` (the total still enters through the residual);
- interval rows (yea_lower..yea_upper of n_members) are interval-censored observations, except a
  press whip count (``method = whip_count``), which is a noisy measurement of the yea count the
  motion would have got (``whip_row``; the graph decides how it enters, see ``[model] whip_count``);
  an ALL interval whose parties all have interval rows is redundant and kept for checks only;
- a row mixing both parties (RD) is the sum of a Republican and a Democratic count whose sizes
  come from the Congress's composition (``mix_share``, ``mix_n_r``): the split is never a free share.

Congress-level structure (model v2): every case has its Congress (an index into the unbroken range of
Congresses of the data, so a Congress without votes still sits between its neighbours), the party
of the President for most of that Congress (``case_president_sign``: +1 Republican, -1 Democrat)
and whether the President's party lacks the majority of the case's chamber on the vote's date (``case_divided``,
:func:`~bayes_coalition.coalition.rules.chamber_majority`: the seats of composition.csv, or without it the party that
cast more votes in that Congress's roll calls; a tie by the party that organised the chamber, as in the 107th Senate). The
optional covariates of ``[model] covariates`` are computed for every case whether used or not
(``case_election_year``, ``case_party_gap``, ``case_majority_sign``; their rules live in :mod:`~bayes_coalition.coalition.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayes_coalition.coalition import rules
from bayes_coalition.constants import congress_president_party
from bayes_coalition.data.dataset import CONSTRUCTS, TradeDataset

GROUPS = ("R", "D", "I", "RD")  # voter groups a count row can describe
CHAMBERS = ("House", "Senate")
HOUSE_SEATS, SENATE_SEATS = 435, 100
DISPERSION_GROUPS = ("R", "D", "other")   # beta-binomial over-dispersion per chamber and party (I and RD: other)
# a whip count estimates the final-passage vote the leaders expected: it shares that vote type's
# cut-point offset and discrimination
EFFECTIVE_VOTE_TYPE = {"whip_estimate": "final_passage"}
REFERENCE_VOTE_TYPE = "final_passage"     # its discrimination is the spec's; other types' are relative to it


def dispersion_index(chamber_idx, group_idx) -> np.ndarray:
    """Index into the (chamber x DISPERSION_GROUPS) over-dispersion parameters of count rows."""
    g = np.minimum(np.asarray(group_idx), 2)          # R 0, D 1, I and RD 2
    return np.asarray(chamber_idx) * len(DISPERSION_GROUPS) + g


@dataclass(frozen=True)
class ModelData:
    """Arrays (numpy) and coordinates (lists) for the coalition model."""

    coords: dict
    # actors
    actor_prior_mean: np.ndarray
    actor_prior_sd: np.ndarray
    actor_type_idx: np.ndarray
    faction_actor_idx: np.ndarray      # actor index of each legislative faction
    faction_party: np.ndarray          # "R"/"D" per faction
    president_idx: int | None
    # cases
    case_episode_idx: np.ndarray
    case_chamber_idx: np.ndarray
    case_vote_type_idx: np.ndarray
    case_polarity: np.ndarray          # +1 if yea is the pro-trade side, -1 otherwise
    case_threshold: np.ndarray         # rule name per case
    case_congress_idx: np.ndarray      # index into coords["congress"] (an unbroken range of Congresses)
    case_president_sign: np.ndarray    # +1 Republican President, -1 Democratic (for most of the Congress)
    case_divided: np.ndarray           # 1.0 when the President's party lacks the chamber's majority
    case_election_year: np.ndarray     # rules.election_year of the vote's date (used with [model] covariates)
    case_party_gap: np.ndarray         # rules.party_gap of the vote's Congress and chamber (NaN: no covariates.csv)
    case_majority_sign: np.ndarray     # rules.majority_sign of the chamber's majority on the vote's date (+1 R, -1 D, 0 none)
    case_disc_idx: np.ndarray          # index into coords["discrimination_type"]; 0 is the reference type
    case_floor: np.ndarray             # rules.floor_status: 0 exempt, 1 held by the leadership, 2 withdrawn
    # point observations
    obs_case_idx: np.ndarray
    obs_group_idx: np.ndarray
    obs_n: np.ndarray
    obs_yea: np.ndarray
    # interval observations
    int_case_idx: np.ndarray
    int_group_idx: np.ndarray
    int_n: np.ndarray
    int_lower: np.ndarray
    int_upper: np.ndarray
    int_whip: np.ndarray               # bool: the interval is a press whip count (a measurement)
    # rows mixing both parties with an unknown share
    mix_obs_idx: np.ndarray            # which point rows are RD rows (index into mix_share)
    mix_int_idx: np.ndarray
    mix_share: np.ndarray              # (n_mix,) Republican share of an RD row's voters, from the composition
    mix_n_r: np.ndarray                # (n_mix,) Republicans among the row's voters (the rest are Democrats)
    # coded evidence
    item_construct_idx: np.ndarray
    item_direction: np.ndarray
    item_n_levels: np.ndarray
    code_item_idx: np.ndarray
    code_episode_idx: np.ndarray
    code_level: np.ndarray
    code_date: np.ndarray              # latest source date (YYYY-MM-DD) behind each code; "" when a source is undated
    construct_observed: np.ndarray     # (episode, construct) bool: any code for it
    # bookkeeping
    usage: pd.DataFrame = field(repr=False)
    checks: pd.DataFrame = field(repr=False)   # redundant interval rows kept for predictive checks
    # pre-vote floor expectations (coalition/expectation.py; built only with floor_expectation=True)
    expect_case_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    expect_level: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def n_mix(self) -> int:
        return int(max(self.mix_obs_idx.max(initial=-1), self.mix_int_idx.max(initial=-1)) + 1)

    @property
    def obs_dispersion_idx(self) -> np.ndarray:
        return dispersion_index(self.case_chamber_idx[self.obs_case_idx], self.obs_group_idx)

    @property
    def int_dispersion_idx(self) -> np.ndarray:
        return dispersion_index(self.case_chamber_idx[self.int_case_idx], self.int_group_idx)


def model_codes(evidence: pd.DataFrame, include_ex_post: bool = False) -> pd.DataFrame:
    """The coded evidence the model reads: one level per (episode, stage, indicator).

    - Codes flagged ``ex_post`` (a source dated after its stage, or the paper's retrospective
      account; see data/evidence.py) are left out unless ``include_ex_post``.
    - Of several codes of one unit (episode, stage, indicator, actor), the contemporaneous one is
      used before an ex post one, and the adjudicated double coding before the paper's.
    - The pivotal indicators are coded per actor; the model's item is the stage's *most* pivotal
      actor, so an episode's level is the largest over its coded actors (H1 asks whether a pivotal
      actor is present, not which one).
    """
    ev = evidence
    if "ex_post" in ev.columns:
        # blank flags (a data set or saved run from before the columns existed) count as not ex post
        ex_post = ev["ex_post"].eq(True).to_numpy(dtype=bool, na_value=False)
        paper = (ev["adjudication"].eq("paper").to_numpy(dtype=bool, na_value=False) if "adjudication" in ev.columns
                 else np.zeros(len(ev), dtype=bool))
        ev = ev.assign(_rank=2 * ex_post.astype(int) + paper.astype(int))
        if not include_ex_post:
            ev = ev[~ex_post]
        ev = ev.assign(_actor=ev["actor_id"].fillna("")).sort_values("_rank", kind="stable")
        ev = ev.drop_duplicates(["episode_id", "stage", "indicator", "_actor"])
    keys = ["episode_id", "stage", "indicator"]
    out = ev.groupby(keys, sort=False)["level"].max()
    # the latest source behind each code ("" if one is undated): a backtest uses a code only
    # from the day after it, so a code may not rest on anything written on or after a vote
    dates = (ev["pub_date"].astype("string").fillna("") if "pub_date" in ev.columns
             else pd.Series("", index=ev.index, dtype="string"))
    latest = dates.groupby([ev[k] for k in keys], sort=False).agg(lambda d: "" if (d == "").any() else max(d))
    out = pd.DataFrame({"level": out, "source_date": latest.reindex(out.index)})
    return out.reset_index().sort_values(keys, kind="stable").reset_index(drop=True)


def build_model_data(ds: TradeDataset, exclude_cases=(), include_ex_post: bool = False, *,
                     floor_expectation: bool = False) -> ModelData:
    """Index the data set for the model; ``exclude_cases`` leaves those votes out; ``floor_expectation``: index
    the pre-vote floor expectations of the counted votes (``floor_expectations.csv``; an error without it)."""
    unknown = sorted(set(exclude_cases) - set(ds.cases["case_id"]))
    if unknown:
        raise KeyError(f"exclude_cases names unknown case(s): {unknown}")
    cases = ds.cases[~ds.cases["case_id"].isin(set(exclude_cases))].reset_index(drop=True)
    episodes = ds.episodes[ds.episodes["episode_id"].isin(set(cases["episode_id"]))].reset_index(drop=True)
    actors = ds.actors.reset_index(drop=True)
    types = list(dict.fromkeys(actors["type"]))
    vote_types = list(dict.fromkeys(EFFECTIVE_VOTE_TYPE.get(v, v) for v in cases["vote_type"]))
    factions = actors[actors["type"] == "legislative_faction"]
    pres = actors.index[actors["type"] == "president"]

    case_pos = {c: i for i, c in enumerate(cases["case_id"])}
    ep_pos = {e: i for i, e in enumerate(episodes["episode_id"])}

    obs, ints, usage, checks = [], [], [], []
    for case_id, grp in ds.vote_counts[ds.vote_counts["case_id"].isin(set(case_pos))].groupby("case_id", sort=False):
        ci = case_pos[case_id]
        g = grp.set_index("party")
        complete = [p for p in ("R", "D", "I") if p in g.index and pd.notna(g.loc[p, "yea"]) and pd.notna(g.loc[p, "nay"])]
        for p in complete:
            n = int(g.loc[p, "yea"]) + int(g.loc[p, "nay"])
            if n == 0:
                usage.append((case_id, p, "no_voters_unused"))
                continue
            obs.append((ci, GROUPS.index(p), n, int(g.loc[p, "yea"])))
            usage.append((case_id, p, "point"))
        for p in ("R", "D", "I"):
            if p in g.index and p not in complete and pd.notna(g.loc[p, "yea"]) | pd.notna(g.loc[p, "nay"]):
                usage.append((case_id, p, "partial_cell_unused"))
        interval_parties = [p for p in ("R", "D", "I") if p in g.index and pd.notna(g.loc[p, "yea_lower"])]
        for p in interval_parties:
            r = g.loc[p]
            whip = int(str(r.get("method")) == "whip_count")
            ints.append((ci, GROUPS.index(p), int(r["n_members"]), int(r["yea_lower"]), int(r["yea_upper"]), whip))
            usage.append((case_id, p, "whip_count" if whip else "interval"))
        if "ALL" not in g.index:
            continue
        a = g.loc["ALL"]
        if pd.notna(a["yea_lower"]):
            covered = {"R", "D"} <= set(interval_parties)
            if covered:
                usage.append((case_id, "ALL", "interval_redundant_check_only"))
                checks.append((case_id, int(a["n_members"]), int(a["yea_lower"]), int(a["yea_upper"])))
            else:
                whip = int(str(a.get("method")) == "whip_count")
                ints.append((ci, GROUPS.index("RD"), int(a["n_members"]), int(a["yea_lower"]), int(a["yea_upper"]), whip))
                usage.append((case_id, "ALL", "whip_count" if whip else "interval"))
            continue
        if pd.isna(a["yea"]) or pd.isna(a["nay"]):
            usage.append((case_id, "ALL", "partial_cell_unused"))
            continue
        ry = int(a["yea"]) - sum(int(g.loc[p, "yea"]) for p in complete)
        rn = int(a["nay"]) - sum(int(g.loc[p, "nay"]) for p in complete)
        if ry + rn == 0:
            usage.append((case_id, "ALL", "redundant_with_party_rows"))
            continue
        remaining = [p for p in ("R", "D") if p not in complete]
        group = "RD" if len(remaining) == 2 else (remaining[0] if remaining else "I")
        obs.append((ci, GROUPS.index(group), ry + rn, ry))
        usage.append((case_id, "ALL", f"residual_as_{group}"))

    obs_a = np.array(obs, dtype=int).reshape(-1, 4)
    int_a = np.array(ints, dtype=int).reshape(-1, 6)
    rd = GROUPS.index("RD")
    mix_obs = np.full(len(obs_a), -1)
    mix_int = np.full(len(int_a), -1)
    k = 0
    mix_share, mix_n_r = [], []
    r_share = _republican_share(ds, cases)
    for arr, out, n_col in ((obs_a, mix_obs, 2), (int_a, mix_int, 2)):
        for i in range(len(arr)):
            if arr[i, 1] == rd:
                out[i] = k
                share = r_share[arr[i, 0]]
                if np.isnan(share):
                    raise ValueError(f"case {cases['case_id'][arr[i, 0]]}: a count of both parties together needs "
                                     "the seats per party of its Congress (composition.csv, or a party split in "
                                     "another of its votes)")
                mix_share.append(share)
                mix_n_r.append(int(round(arr[i, n_col] * share)))
                k += 1

    congress = cases["congress"].astype(int).to_numpy()
    congress_range = list(range(int(congress.min()), int(congress.max()) + 1)) if len(cases) else []
    president = np.array([1.0 if congress_president_party(int(c)) == "R" else -1.0 for c in congress])
    majority_party = [rules.chamber_majority(_party_seats(ds, int(c), ch), int(c), ch, str(d))
                      for c, ch, d in zip(congress, cases["chamber"], cases["date"])]
    divided = np.array([rules.divided_government("R" if s > 0 else "D", m) for s, m in zip(president, majority_party)])
    election = np.array([rules.election_year(int(str(d)[:4])) for d in cases["date"]], dtype=float)
    gap = np.array([rules.party_gap(ds.covariates, int(c), ch) for c, ch in zip(congress, cases["chamber"])], dtype=float)
    majority = np.array([rules.majority_sign(m) for m in majority_party], dtype=float)
    effective = [EFFECTIVE_VOTE_TYPE.get(v, v) for v in cases["vote_type"]]
    disc_types = sorted(set(effective), key=lambda v: (v != REFERENCE_VOTE_TYPE, v))

    # coded evidence: one item per (indicator, stage)
    ind = ds.indicators
    ev = model_codes(ds.evidence, include_ex_post)
    ev = ev[ev["episode_id"].isin(set(ep_pos))]
    items = [(i, s) for i in ind.index for s in str(ind.loc[i, "stages"]).split(";")]
    item_pos = {it: j for j, it in enumerate(items)}
    code_item = np.array([item_pos[(r.indicator, r.stage)] for r in ev.itertuples()], dtype=int)
    code_ep = np.array([ep_pos[e] for e in ev["episode_id"]], dtype=int)
    item_construct = np.array([CONSTRUCTS.index(ind.loc[i, "construct"]) for i, _ in items], dtype=int)
    observed = np.zeros((len(episodes), len(CONSTRUCTS)), dtype=bool)
    observed[code_ep, item_construct[code_item]] = True

    coords = {
        "actor": actors["actor_id"].tolist(),
        "actor_type": types,
        "faction": factions["actor_id"].tolist(),
        "party": ["R", "D"],
        "case": cases["case_id"].tolist(),
        "episode": episodes["episode_id"].tolist(),
        "chamber": list(CHAMBERS),
        "vote_type": vote_types,
        "construct": list(CONSTRUCTS),
        "item": [f"{i}:{s}" for i, s in items],
        "obs": [f"{cases['case_id'][c]}:{GROUPS[g]}" for c, g, *_ in obs_a],
        "interval_obs": [f"{cases['case_id'][c]}:{GROUPS[g]}" for c, g, *_ in int_a],
        "code": [f"{e}:{s}:{i}" for e, s, i in zip(ev["episode_id"], ev["stage"], ev["indicator"])],
        "mix_row": [f"mix{j}" for j in range(k)],
        "congress": congress_range,
        "discrimination_type": disc_types,
        "dispersion": [f"{c}:{g}" for c in CHAMBERS for g in DISPERSION_GROUPS],
    }
    # agenda control needs a held vote's observed count: a held vote known only as an interval is exempt
    floor = rules.floor_status(cases["vote_type"].to_numpy(str), cases["yea_is_pro_trade"].to_numpy(bool))
    counted = np.isin(np.arange(len(cases)), np.concatenate([obs_a[:, 0], int_a[:, 0]]))
    floor[(floor == rules.HELD) & np.isin(np.arange(len(cases)), int_a[:, 0])] = rules.EXEMPT
    floor[~counted] = rules.EXEMPT
    expect_case, expect_level = _floor_expectations(ds, cases, counted) if floor_expectation else ([], [])
    return ModelData(
        coords=coords,
        actor_prior_mean=actors["prior_position"].to_numpy(float),
        actor_prior_sd=actors["prior_sd"].to_numpy(float),
        actor_type_idx=np.array([types.index(t) for t in actors["type"]]),
        faction_actor_idx=factions.index.to_numpy(),
        faction_party=factions["party"].to_numpy(str),
        president_idx=int(pres[0]) if len(pres) else None,
        case_episode_idx=np.array([ep_pos[e] for e in cases["episode_id"]]),
        case_chamber_idx=np.array([CHAMBERS.index(c) for c in cases["chamber"]]),
        case_vote_type_idx=np.array([vote_types.index(v) for v in effective], dtype=int),
        case_polarity=np.where(cases["yea_is_pro_trade"].to_numpy(bool), 1.0, -1.0),
        case_threshold=cases["threshold_rule"].to_numpy(str),
        case_congress_idx=(congress - congress_range[0]) if len(cases) else np.zeros(0, dtype=int),
        case_president_sign=president,
        case_divided=divided,
        case_election_year=election,
        case_party_gap=gap,
        case_majority_sign=majority,
        case_disc_idx=np.array([disc_types.index(v) for v in effective], dtype=int),
        case_floor=floor,
        obs_case_idx=obs_a[:, 0], obs_group_idx=obs_a[:, 1], obs_n=obs_a[:, 2], obs_yea=obs_a[:, 3],
        int_case_idx=int_a[:, 0], int_group_idx=int_a[:, 1], int_n=int_a[:, 2],
        int_lower=int_a[:, 3], int_upper=int_a[:, 4], int_whip=int_a[:, 5].astype(bool),
        mix_obs_idx=mix_obs, mix_int_idx=mix_int,
        mix_share=np.array(mix_share, dtype=float), mix_n_r=np.array(mix_n_r, dtype=int),
        item_construct_idx=item_construct,
        item_direction=np.array([ind.loc[i, "direction"] for i, _ in items], dtype=float),
        item_n_levels=np.array([ind.loc[i, "n_levels"] for i, _ in items], dtype=int),
        code_item_idx=code_item, code_episode_idx=code_ep, code_level=ev["level"].to_numpy(int),
        code_date=ev["source_date"].to_numpy(str),
        construct_observed=observed,
        usage=pd.DataFrame(usage, columns=["case_id", "party", "use"]),
        checks=pd.DataFrame(checks, columns=["case_id", "n_members", "yea_lower", "yea_upper"]),
        expect_case_idx=np.array(expect_case, dtype=int), expect_level=np.array(expect_level, dtype=int),
    )


def _floor_expectations(ds: TradeDataset, cases: pd.DataFrame, counted: np.ndarray) -> tuple[list, list]:
    """(case index, level) of each coded floor expectation of a counted vote of the model, in the cases' order."""
    if ds.floor_expectations is None:
        raise ValueError("model.floor_expectation is on, but the data have no floor_expectations.csv")
    level = ds.floor_expectations.set_index("case_id")["level"]
    keep = [i for i, c in enumerate(cases["case_id"]) if c in level.index and counted[i]]
    return keep, [int(level[cases["case_id"][i]]) for i in keep]


def _party_seats(ds: TradeDataset, congress: int, chamber: str) -> dict:
    """Seats per party of a Congress's chamber (:meth:`TradeDataset.seats_of_congress`)."""
    return ds.seats_of_congress(congress).get(chamber, {})


def _republican_share(ds: TradeDataset, cases: pd.DataFrame) -> np.ndarray:
    """Per case, the Republicans' share of the two parties' seats in its Congress and chamber (NaN: unknown)."""
    out = np.full(len(cases), np.nan)
    for i, (congress, chamber) in enumerate(zip(cases["congress"], cases["chamber"])):
        s = _party_seats(ds, int(congress), chamber)
        if s.get("R", 0) + s.get("D", 0) > 0:
            out[i] = s.get("R", 0) / (s.get("R", 0) + s.get("D", 0))
    return out
