"""Turn a validated :class:`TradeDataset` into the index arrays the coalition model needs.

Which count rows enter the likelihood, and why others do not, is decided here and
recorded in :attr:`ModelData.usage` so that nothing is dropped silently:

- a party row with both yea and nay is a point observation of that party;
- the remainder of a chamber total (ALL) after the complete party rows is a point
  observation of the remaining voters ("residual"); if both major parties remain, their
  mix is a latent share;
- a party row with only yea or only nay cannot enter a binomial likelihood on its own:
  it is listed as ``partial_cell_unused`` (the total still enters through the residual);
- interval rows (yea_lower..yea_upper of n_members) are interval-censored observations;
  an ALL interval whose parties all have interval rows is redundant and kept for checks only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayes_coalition.data.dataset import CONSTRUCTS, TradeDataset

GROUPS = ("R", "D", "I", "RD")  # voter groups a count row can describe
CHAMBERS = ("House", "Senate")
HOUSE_SEATS, SENATE_SEATS = 435, 100


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
    # rows mixing both parties with an unknown share
    mix_obs_idx: np.ndarray            # which point rows are RD rows (index into mix_share)
    mix_int_idx: np.ndarray
    # coded evidence
    item_construct_idx: np.ndarray
    item_direction: np.ndarray
    item_n_levels: np.ndarray
    code_item_idx: np.ndarray
    code_episode_idx: np.ndarray
    code_level: np.ndarray
    construct_observed: np.ndarray     # (episode, construct) bool: any code for it
    # bookkeeping
    usage: pd.DataFrame = field(repr=False)
    checks: pd.DataFrame = field(repr=False)   # redundant interval rows kept for predictive checks

    @property
    def n_mix(self) -> int:
        return int(max(self.mix_obs_idx.max(initial=-1), self.mix_int_idx.max(initial=-1)) + 1)


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
    return (ev.groupby(keys, sort=False)["level"].max().reset_index()
            .sort_values(keys, kind="stable").reset_index(drop=True))


def build_model_data(ds: TradeDataset, exclude_cases=(), include_ex_post: bool = False) -> ModelData:
    """Index the data set for the model; ``exclude_cases`` leaves those votes out."""
    unknown = sorted(set(exclude_cases) - set(ds.cases["case_id"]))
    if unknown:
        raise KeyError(f"exclude_cases names unknown case(s): {unknown}")
    cases = ds.cases[~ds.cases["case_id"].isin(set(exclude_cases))].reset_index(drop=True)
    episodes = ds.episodes[ds.episodes["episode_id"].isin(set(cases["episode_id"]))].reset_index(drop=True)
    actors = ds.actors.reset_index(drop=True)
    types = list(dict.fromkeys(actors["type"]))
    vote_types = list(dict.fromkeys(cases["vote_type"]))
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
            obs.append((ci, GROUPS.index(p), int(g.loc[p, "yea"]) + int(g.loc[p, "nay"]), int(g.loc[p, "yea"])))
            usage.append((case_id, p, "point"))
        for p in ("R", "D", "I"):
            if p in g.index and p not in complete and pd.notna(g.loc[p, "yea"]) | pd.notna(g.loc[p, "nay"]):
                usage.append((case_id, p, "partial_cell_unused"))
        interval_parties = [p for p in ("R", "D", "I") if p in g.index and pd.notna(g.loc[p, "yea_lower"])]
        for p in interval_parties:
            r = g.loc[p]
            ints.append((ci, GROUPS.index(p), int(r["n_members"]), int(r["yea_lower"]), int(r["yea_upper"])))
            usage.append((case_id, p, "interval"))
        if "ALL" not in g.index:
            continue
        a = g.loc["ALL"]
        if pd.notna(a["yea_lower"]):
            covered = {"R", "D"} <= set(interval_parties)
            if covered:
                usage.append((case_id, "ALL", "interval_redundant_check_only"))
                checks.append((case_id, int(a["n_members"]), int(a["yea_lower"]), int(a["yea_upper"])))
            else:
                ints.append((ci, GROUPS.index("RD"), int(a["n_members"]), int(a["yea_lower"]), int(a["yea_upper"])))
                usage.append((case_id, "ALL", "interval"))
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
    int_a = np.array(ints, dtype=int).reshape(-1, 5)
    rd = GROUPS.index("RD")
    mix_obs = np.full(len(obs_a), -1)
    mix_int = np.full(len(int_a), -1)
    k = 0
    for arr, out in ((obs_a, mix_obs), (int_a, mix_int)):
        for i in range(len(arr)):
            if arr[i, 1] == rd:
                out[i] = k
                k += 1

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
    }
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
        case_vote_type_idx=np.array([vote_types.index(v) for v in cases["vote_type"]]),
        case_polarity=np.where(cases["yea_is_pro_trade"].to_numpy(bool), 1.0, -1.0),
        case_threshold=cases["threshold_rule"].to_numpy(str),
        obs_case_idx=obs_a[:, 0], obs_group_idx=obs_a[:, 1], obs_n=obs_a[:, 2], obs_yea=obs_a[:, 3],
        int_case_idx=int_a[:, 0], int_group_idx=int_a[:, 1], int_n=int_a[:, 2],
        int_lower=int_a[:, 3], int_upper=int_a[:, 4],
        mix_obs_idx=mix_obs, mix_int_idx=mix_int,
        item_construct_idx=item_construct,
        item_direction=np.array([ind.loc[i, "direction"] for i, _ in items], dtype=float),
        item_n_levels=np.array([ind.loc[i, "n_levels"] for i, _ in items], dtype=int),
        code_item_idx=code_item, code_episode_idx=code_ep, code_level=ev["level"].to_numpy(int),
        construct_observed=observed,
        usage=pd.DataFrame(usage, columns=["case_id", "party", "use"]),
        checks=pd.DataFrame(checks, columns=["case_id", "n_members", "yea_lower", "yea_upper"]),
    )
