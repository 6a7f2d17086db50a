"""The party-line baseline: a chamber's yea count from its parties' past yea rates, with no latent variables.

Each party's yea share on the training votes of the chamber (turned to the pro-trade side where the yea side is
anti-trade) gives a Beta by the method of moments; a vote's yea count is the sum over the parties' seats of
Beta-binomial draws, and P(carries) applies the vote's threshold rule (:mod:`bayes_coalition.coalition.rules`).
The backtest scores the model against it (``validation.backtest.party_line_baseline``: training votes dated
before the predicted one), and ``predict`` quotes it for a hypothetical bill beside the model's P (every decided
vote of the data: the bill lies after all of them). It ignores everything the model adds: the bill's codes, its
episode, the Congress's drift.
"""

from __future__ import annotations

import numpy as np

from bayes_coalition.coalition import rules


def party_line_counts(dataset, train, chamber: str, seats: dict, yea_is_pro_trade: bool, *, n_sim: int = 4000,
                      seed: int = 0) -> np.ndarray:
    """``n_sim`` draws of the chamber's yea total: ``seats`` (party -> seats; an independent or other group takes
    the rate of both parties' rows) times their parties' training-period yea rates (``train``: case ids)."""
    vc = dataset.vote_counts
    cases = dataset.cases.set_index("case_id")
    tr = vc[vc.case_id.isin(list(train)) & vc.party.isin(["R", "D"])].dropna(subset=["yea", "nay"])
    tr = tr[tr.case_id.map(cases["chamber"]) == chamber]
    rng = np.random.default_rng(seed)
    total = np.zeros(n_sim, dtype=int)
    for party, n in seats.items():
        rows = tr[tr.party == party] if party in ("R", "D") else tr
        if len(rows) >= 2:
            share = (rows["yea"] / (rows["yea"] + rows["nay"])).to_numpy(float)
            share = np.where(tr.loc[rows.index, "case_id"].map(cases["yea_is_pro_trade"]).to_numpy(bool), share, 1 - share)
            m, v = share.mean(), max(share.var(ddof=1), 1e-4)
            k = max(m * (1 - m) / v - 1, 0.5)
            q = rng.beta(m * k, (1 - m) * k, n_sim)
        else:
            q = rng.uniform(size=n_sim)
        q = q if yea_is_pro_trade else 1 - q
        total += rng.binomial(n, q)
    return total


def party_line_p(dataset, train, chamber: str, seats: dict, rule: str, yea_is_pro_trade: bool, *, n_sim: int = 4000,
                 seed: int = 0) -> tuple[float, np.ndarray]:
    """P(the vote carries under ``rule``) and the yea-total draws of :func:`party_line_counts`."""
    seats = {p: int(n) for p, n in seats.items() if not str(p).startswith("_")}
    total = party_line_counts(dataset, train, chamber, seats, yea_is_pro_trade, n_sim=n_sim, seed=seed)
    return float(rules.carries(total, sum(seats.values()), rule, chamber).mean()), total
