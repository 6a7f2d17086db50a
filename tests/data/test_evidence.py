"""The coded evidence: sources and the date rule on the shipped codes (checked here against the
episode dates directly, not through the library's rule), the adjudication trail from the two raw
codings to evidence.csv, the build script, and which codes the model reads."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from bayes_coalition import load_dataset
from bayes_coalition.coalition.model_data import model_codes
from bayes_coalition.data.evidence import stage_windows, within_window
from tests.helpers import REPO

KEY = ["episode_id", "stage", "indicator", "actor_id"]


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def coded(ds):
    """The double-coded (adjudicated) rows, without the paper's retrospective codes."""
    return ds.evidence[ds.evidence["adjudication"] != "paper"]


def test_every_code_has_its_source_date_and_a_short_quote(coded):
    assert len(coded) > 300
    for col in ("source_url", "outlet", "pub_date", "quote", "justification", "coder"):
        assert coded[col].notna().all() and (coded[col].astype(str).str.strip() != "").all(), col
    assert coded["source_url"].str.match(r"https?://").all()
    assert pd.to_datetime(coded["pub_date"], format="%Y-%m-%d", errors="coerce").notna().all()
    words = coded["quote"].str.replace("...", " ", regex=False).str.split().str.len()
    assert words.max() <= 30
    assert set(coded["coder"]) == {"coder_a", "coder_b"}


def test_the_date_rule_against_the_episode_dates(ds, coded):
    """ex_post is 'no' exactly when the source predates the proposal (formulation) or is dated on or
    before the episode's last vote (voting); recomputed here from episodes.csv and cases.csv."""
    proposal = ds.episodes.set_index("episode_id")["proposal_date"]
    last_vote = ds.cases.groupby("episode_id")["date"].max()
    for _, r in coded.iterrows():
        if r["stage"] == "formulation":
            assert pd.notna(proposal[r["episode_id"]]), r["episode_id"]   # no formulation code without the stage
            ok = r["pub_date"] < proposal[r["episode_id"]]                 # ISO dates compare as text
        else:
            ok = r["pub_date"] <= last_vote[r["episode_id"]]
        assert bool(r["ex_post"]) == (not ok), (r["episode_id"], r["stage"], r["indicator"], r["pub_date"])
    # the paper's retrospective codes are all ex post
    assert ds.evidence.loc[ds.evidence["adjudication"] == "paper", "ex_post"].all()


def test_coverage_of_the_episodes(ds, coded):
    cells = coded.groupby("episode_id").size().reindex(ds.episodes["episode_id"], fill_value=0)
    assert (cells >= 10).sum() >= 20, cells[cells < 10].to_dict()
    assert (cells > 0).all()
    cov = ds.coverage()
    assert cov["episodes_coded"] == 23 and cov["votes_with_party_split"] >= 45
    assert cov["votes_without_party_split"] == ["ft1997_h_whip"]   # a whip count, not a vote


@pytest.mark.parametrize("stage, date, inside", [
    ("formulation", "1993-11-02", True), ("formulation", "1993-11-03", False),   # before the proposal date only
    ("voting", "1993-11-20", True), ("voting", "1993-11-21", False),             # on or before the last vote
    ("voting", "1993-11-18", True),                                              # between the House and Senate votes
    ("voting", "", False),
])
def test_window_boundaries(ds, stage, date, inside):
    ev = pd.DataFrame({"episode_id": ["nafta1993"], "stage": [stage], "pub_date": [date or None]})
    assert bool(within_window(ev, stage_windows(ds.episodes, ds.cases)).iloc[0]) is inside


def test_an_episode_without_a_proposal_date_has_no_formulation_window(ds):
    ev = pd.DataFrame({"episode_id": ["fasttrack1998"] * 2, "stage": ["formulation", "voting"],
                       "pub_date": ["1998-01-05", "1998-01-05"]})
    assert within_window(ev, stage_windows(ds.episodes, ds.cases)).tolist() == [False, True]


def test_adjudication_trail(ds):
    """Every unit either coder coded has one adjudication row with both raw levels; agreed units keep
    their level; each final row is the chosen coder's row (same source and quote)."""
    a = pd.read_csv(REPO / "data" / "coding" / "coder_a.csv", dtype=str, keep_default_na=False)
    b = pd.read_csv(REPO / "data" / "coding" / "coder_b.csv", dtype=str, keep_default_na=False)
    adj = pd.read_csv(REPO / "data" / "coding" / "adjudication.csv", dtype=str, keep_default_na=False)
    units = set(map(tuple, pd.concat([a, b])[KEY].to_numpy()))
    assert set(map(tuple, adj[KEY].to_numpy())) == units and not adj.duplicated(KEY).any()
    for side, raw in (("a", a), ("b", b)):
        levels = adj.merge(raw[KEY + ["level"]], on=KEY)
        assert (levels[f"level_{side}"] == levels["level"]).all()
    agree = adj[adj["status"] == "agree"]
    assert (agree["level_a"] == agree["level_b"]).all() and (agree["final_level"] == agree["level_a"]).all()
    assert adj.loc[adj["status"].isin(["disagree", "single_a", "single_b"]), "resolution"].str.len().gt(10).all()
    final = ds.evidence[ds.evidence["adjudication"] != "paper"].copy()
    final["actor_id"] = final["actor_id"].fillna("")
    kept = adj[adj["final_level"] != ""]
    assert len(final) == len(kept)
    rows = {"coder_a": a.set_index(KEY), "coder_b": b.set_index(KEY)}
    for _, r in final.iterrows():
        src = rows[r["coder"]].loc[tuple(r[k] for k in KEY)]
        assert (src["quote"], src["source_url"]) == (r["quote"], r["source_url"])


def test_committed_evidence_is_what_the_build_script_makes(tmp_path):
    out = tmp_path / "evidence.csv"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_evidence.py"), "--out", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == (REPO / "data" / "evidence.csv").read_bytes()


# --- what the model reads -----------------------------------------------------------------------

def _ev(rows):
    cols = ["episode_id", "stage", "indicator", "actor_id", "level", "ex_post", "adjudication"]
    return pd.DataFrame(rows, columns=cols)


def test_model_codes_leave_ex_post_out_and_take_the_most_pivotal_actor():
    ev = _ev([
        ("e", "voting", "payoff", None, 2, True, "agree"),                 # ex post: out by default
        ("e", "voting", "policy_impact", "president", 1, False, "agree"),
        ("e", "voting", "policy_impact", "business", 2, False, "single"),  # the most pivotal actor
        ("e", "voting", "polarization", None, 0, False, "resolved"),
    ])
    got = model_codes(ev).set_index(["stage", "indicator"])["level"].to_dict()
    assert got == {("voting", "policy_impact"): 2, ("voting", "polarization"): 0}
    assert model_codes(ev, include_ex_post=True).set_index("indicator")["level"]["payoff"] == 2


def test_model_codes_prefer_contemporaneous_then_adjudicated_codes_of_a_unit():
    ev = _ev([
        ("e", "voting", "payoff", None, 0, True, "paper"),
        ("e", "voting", "payoff", None, 2, False, "agree"),
        ("f", "voting", "payoff", None, 0, True, "paper"),
        ("f", "voting", "payoff", None, 1, True, "single"),
    ])
    got = model_codes(ev, include_ex_post=True).set_index("episode_id")["level"].to_dict()
    assert got == {"e": 2, "f": 1}
    assert model_codes(ev).set_index("episode_id")["level"].to_dict() == {"e": 2}


def test_a_data_set_without_ex_post_flags_uses_every_code():
    ev = _ev([("e", "voting", "payoff", None, 1, None, None)]).drop(columns=["ex_post", "adjudication"])
    assert model_codes(ev)["level"].tolist() == [1]
