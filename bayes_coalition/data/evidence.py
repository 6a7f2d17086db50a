"""The date rule of the coded evidence (no hindsight), in one place.

Every episode has two stages. *Formulation* (the proposal is shaped or negotiated) ends on the
episode's ``proposal_date`` (``episodes.csv``: the day the final proposal went to Congress); an
episode without one has no formulation stage of its own (fast-track 1998 voted on the bill whose
formulation is fast-track 1997's). *Voting* runs to the episode's last roll call (``cases.csv``).

A code rests on what was written before the event it describes:

- a formulation code on a source published **before** the proposal date;
- a voting code on a source published **on or before** the episode's last vote.

A code whose source falls outside its window is *ex post*: it may be kept (flagged
``ex_post = yes``) but the model leaves it out by default (``[data] include_ex_post`` in the spec).
Codes taken from a retrospective account (the source paper) are ex post whatever their date.
"""

from __future__ import annotations

import pandas as pd

QUOTE_MAX_WORDS = 30


def stage_windows(episodes: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Per episode: ``formulation_before`` (sources must be dated before it; NaT = no formulation
    stage) and ``voting_until`` (sources on or before it; the last roll call of the episode)."""
    last_vote = pd.to_datetime(cases["date"], format="%Y-%m-%d", errors="coerce").groupby(cases["episode_id"]).max()
    if "proposal_date" in episodes:
        proposal = pd.to_datetime(episodes["proposal_date"], format="%Y-%m-%d", errors="coerce")
    else:
        proposal = pd.Series(pd.NaT, index=episodes.index)
    return pd.DataFrame({
        "formulation_before": proposal.to_numpy(),
        "voting_until": last_vote.reindex(episodes["episode_id"]).to_numpy(),
    }, index=pd.Index(episodes["episode_id"], name="episode_id"))


def within_window(evidence: pd.DataFrame, windows: pd.DataFrame) -> pd.Series:
    """True where a code's source is dated inside its stage's window (the date rule holds);
    False where it is dated after it, or has no date, or its stage does not exist."""
    date = pd.to_datetime(evidence["pub_date"], format="%Y-%m-%d", errors="coerce")
    w = windows.reindex(evidence["episode_id"])
    before = pd.Series(w["formulation_before"].to_numpy(), index=evidence.index)
    until = pd.Series(w["voting_until"].to_numpy(), index=evidence.index)
    formulation = (evidence["stage"] == "formulation") & before.notna() & (date < before)
    voting = (evidence["stage"] == "voting") & until.notna() & (date <= until)
    return (formulation | voting) & date.notna()


def word_count(text: str) -> int:
    """Words of a quote; the ellipsis that marks a trim is not a word."""
    return len([w for w in str(text).replace("...", " ").split() if w.strip(".…")])
