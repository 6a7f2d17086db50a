"""Rolling-origin backtest of the coalition model against two baselines.

- :func:`backtest`: for each origin year T, fit on the votes dated before T and predict the votes
  of the years up to the next origin as new bills: each vote is predicted once, by the latest fit
  that could not see it. A prediction knows what was known before the vote: its episode's codes
  dated before it (:func:`case_codes`), the seats of its Congress (``composition.csv``, every
  member voting; not the vote's own turnout) and its threshold rule.
- :func:`backtest_scores`: Brier and log scores against two baselines (the majority outcome of
  the training votes; training-period party yea rates), the paired differences with 95% intervals
  from a bootstrap over episodes (votes of one episode are not independent), interval coverage of
  the yea share, and each origin's convergence (fits are never silenced: an unconverged origin
  says so, and the scores are also given without its predictions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_coalition.coalition import rules
from bayes_coalition.errors import LeakageError

# --- rolling-origin backtest -----------------------------------------------------------


def training_cases(cases: pd.DataFrame, year: int) -> list[str]:
    """Case ids strictly before ``year`` (the only data a fit at origin ``year`` may see)."""
    y = cases["date"].str[:4].astype(int)
    return cases.loc[y < year, "case_id"].tolist()


def case_codes(dataset, case_id: str, include_ex_post: bool = False) -> pd.DataFrame:
    """The codes that may inform a prediction of one vote: its episode's, as the model reads them
    (:func:`~bayes_coalition.coalition.model_data.model_codes`), from sources dated strictly before
    the vote. An episode's voting-stage code may be dated between two of its votes (the date rule of
    the evidence is per episode); predicting the earlier vote must not see it."""
    from bayes_coalition.coalition.model_data import model_codes

    c = dataset.cases.set_index("case_id").loc[case_id]
    ev = dataset.evidence[dataset.evidence["episode_id"] == c["episode_id"]]
    if "pub_date" in ev.columns and ev["pub_date"].notna().any():
        # an undated code (the paper's) is ex post and left out unless include_ex_post
        dated_before = ev["pub_date"].notna() & (ev["pub_date"].astype(str) < str(c["date"]))
        ev = ev[dated_before | (ev["pub_date"].isna() & include_ex_post)]
    return model_codes(ev, include_ex_post)


def case_bill(dataset, case_id: str, *, voters: bool = False):
    """A vote as a new bill: its episode's codes dated before it, its Congress, its threshold rule.

    The seats are its Congress's composition (``composition.csv``: what is known before the vote,
    every member voting). ``voters=True`` uses the vote's own voters per party instead (a check of
    the model in sample, not a forecast); a data set without a composition table falls back to them.
    """
    from bayes_coalition.prediction.bills import HypotheticalBill

    c = dataset.cases.set_index("case_id").loc[case_id]
    codes = {(r.stage, r.indicator): int(r.level) for r in case_codes(dataset, case_id).itertuples()}
    rule = c["threshold_rule"]
    common = dict(
        name=case_id, codes=codes, yea_is_pro_trade=bool(c["yea_is_pro_trade"]),
        vote_type=c["vote_type"] if c["vote_type"] != "whip_estimate" else "final_passage",
        house_rule=rule if c["chamber"] == "House" else "majority_of_voting",
        senate_rule=rule if c["chamber"] == "Senate" else "majority_of_voting",
        source=f"case {case_id}",
    )
    if not voters and dataset.composition is not None:
        return HypotheticalBill(congress=int(c["congress"]), **common)
    vc = dataset.vote_counts[dataset.vote_counts.case_id == case_id].set_index("party")
    seats = {}
    for p in ("R", "D", "I"):
        if p in vc.index and pd.notna(vc.loc[p, "yea"]) and pd.notna(vc.loc[p, "nay"]):
            seats[p] = int(vc.loc[p, "yea"] + vc.loc[p, "nay"])
        elif p in vc.index and pd.notna(vc.loc[p, "n_members"]):
            seats[p] = int(vc.loc[p, "n_members"])
    # the other chamber is never scored; its seats come from the data
    other = "Senate" if c["chamber"] == "House" else "House"
    other_seats = HypotheticalBill(congress=int(c["congress"])).seats(dataset)[other]
    return HypotheticalBill(composition={c["chamber"]: seats, other: other_seats}, **common)


def origin_model(dataset, spec, year: int):
    """The model a backtest fits at origin ``year``: the spec on the cases dated before that year only."""
    from bayes_coalition.coalition.model import CoalitionModel

    train = training_cases(dataset.cases, year)
    exclude = sorted(set(dataset.cases["case_id"]) - set(train))
    model = CoalitionModel(dataset, {**spec, "data": {**spec["data"], "exclude_cases": exclude}})
    check_no_leakage(model, train, year)
    return model


def check_no_leakage(model, train: list[str], year: int) -> None:
    """The fit at origin ``year`` must see exactly the training cases: a later vote in its data would
    leak the future into the prediction. A real error, not an ``assert`` (``python -O`` strips those)."""
    seen = set(model.model_data.coords["case"])
    if seen != set(train):
        later = sorted(seen - set(train))
        raise LeakageError(f"the fit at origin {year} sees {len(later)} case(s) outside its training window: {later[:5]}")


def party_line_baseline(dataset, train: list[str], case_id: str, n_sim: int = 4000, seed: int = 0) -> tuple[float, np.ndarray]:
    """P(pass) and yea draws from training-period party yea rates of the chamber (no latent variables)."""
    vc = dataset.vote_counts
    cases = dataset.cases.set_index("case_id")
    chamber = cases.loc[case_id, "chamber"]
    pol = bool(cases.loc[case_id, "yea_is_pro_trade"])
    tr = vc[vc.case_id.isin(train) & vc.party.isin(["R", "D"])].dropna(subset=["yea", "nay"])
    tr = tr[tr.case_id.map(cases["chamber"]) == chamber]
    seats = {p: n for p, n in case_bill(dataset, case_id).seats(dataset)[chamber].items() if not p.startswith("_")}
    rng = np.random.default_rng(seed)
    total = np.zeros(n_sim, dtype=int)
    for p, n in seats.items():
        rows = tr[tr.party == p] if p in ("R", "D") else tr
        if len(rows) >= 2:
            share = (rows["yea"] / (rows["yea"] + rows["nay"])).to_numpy(float)
            share = np.where(tr.loc[rows.index, "case_id"].map(cases["yea_is_pro_trade"]).to_numpy(bool), share, 1 - share)
            m, v = share.mean(), max(share.var(ddof=1), 1e-4)
            k = max(m * (1 - m) / v - 1, 0.5)
            q = rng.beta(m * k, (1 - m) * k, n_sim)
        else:
            q = rng.uniform(size=n_sim)
        q = q if pol else 1 - q
        total += rng.binomial(n, q)
    n_total = sum(seats.values())
    rule = cases.loc[case_id, "threshold_rule"]
    return float(rules.carries(total, n_total, rule, chamber).mean()), total


def score(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Brier score and mean log score (natural log, probabilities clipped to [0.001, 0.999])."""
    p = np.clip(np.asarray(p, float), 1e-3, 1 - 1e-3)
    y = np.asarray(y, float)
    return float(np.mean((p - y) ** 2)), float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def origin_years(cases: pd.DataFrame, first: int = 1996) -> list[int]:
    """The default origins: every year from ``first`` with a decided vote (one-step-ahead: each
    vote is predicted by the fit on everything before its year)."""
    decided = cases[cases["passed"].notna()]
    return sorted({int(y) for y in decided["date"].str[:4] if int(y) >= first})


def backtest(spec, years=None, *, seed: int = 1, draws: int = 500, chains: int = 2, tune: int = 1000,
             progress: bool = True) -> pd.DataFrame:
    """Rolling-origin backtest: one row per predicted vote (each vote once, by the latest origin
    not after its year) with the prediction, both baselines and the origin fit's convergence."""
    from bayes_coalition import diagnostics
    from bayes_coalition.data.dataset import load_dataset
    from bayes_coalition.prediction.predict import predict

    ds = load_dataset(spec["data"]["path"] or None)
    cases = ds.cases.set_index("case_id")
    year_of = cases["date"].str[:4].astype(int)
    years = sorted(set(years)) if years else origin_years(ds.cases)
    rows = []
    for i, year in enumerate(years):
        until = years[i + 1] if i + 1 < len(years) else 10_000
        train = training_cases(ds.cases, year)
        test = [c for c in cases.index if year <= year_of[c] < until and pd.notna(cases.loc[c, "passed"])]
        if not train or not test:
            continue
        model = origin_model(ds, spec, year)
        # never silenced: an unconverged origin warns here and is flagged in every row it predicts
        model.fit(random_seed=seed + year, draws=draws, chains=chains, tune=tune, progressbar=False, log_likelihood=False)
        diag = model.diagnostics
        status, _ = diagnostics.verdict(diag)
        base_rate = float(cases.loc[train, "passed"].dropna().astype(bool).mean())
        for case_id in test:
            c = cases.loc[case_id]
            bill = case_bill(ds, case_id)
            pred = predict(model, bill, seed=seed)
            chamber = c["chamber"]
            y = pred["yea_house" if chamber == "House" else "yea_senate"].values
            n_seats = sum(n for p, n in bill.seats(ds)[chamber].items() if not p.startswith("_"))
            obs = ds.vote_counts[(ds.vote_counts.case_id == case_id) & (ds.vote_counts.party == "ALL")]
            share_obs = (float(obs["yea"].iloc[0] / (obs["yea"].iloc[0] + obs["nay"].iloc[0]))
                         if len(obs) and pd.notna(obs["yea"].iloc[0]) else np.nan)
            share = y / n_seats
            p = float(pred["p_house" if chamber == "House" else "p_senate"])
            p_party, _ = party_line_baseline(ds, train, case_id, seed=seed)
            q50, q90 = np.quantile(share, [0.25, 0.75]), np.quantile(share, [0.05, 0.95])
            rows.append({
                "origin_year": year, "case_id": case_id, "episode_id": c["episode_id"], "chamber": chamber,
                "date": c["date"], "observed_passed": bool(c["passed"]),
                "p_pass": p, "p_majority_baseline": base_rate, "p_party_line": p_party,
                "n_codes": len(bill.codes), "seats": n_seats,
                "observed_yea_share": share_obs, "yea_share_mean": float(share.mean()),
                "yea_share_q05": q90[0], "yea_share_q25": q50[0], "yea_share_q75": q50[1], "yea_share_q95": q90[1],
                "in_50": bool(q50[0] <= share_obs <= q50[1]) if np.isfinite(share_obs) else None,
                "in_90": bool(q90[0] <= share_obs <= q90[1]) if np.isfinite(share_obs) else None,
                "origin_verdict": status, "origin_max_rhat": diag["max_rhat"],
                "origin_min_ess_bulk": diag["min_ess_bulk"], "origin_divergences": diag["divergences"],
            })
        if progress:
            print(f"backtest origin {year}: fitted on {len(train)} votes ({status}: max R-hat {diag['max_rhat']:.3f}, "
                  f"{diag['divergences']} divergences), predicted {len(test)}", flush=True)
    return pd.DataFrame(rows)


def paired_difference(table: pd.DataFrame, a: str, b: str, *, n_boot: int = 4000, seed: int = 0,
                      cluster: str = "episode_id") -> dict:
    """Brier and log-score differences ``a - b`` over the same votes, with 95% intervals from a
    bootstrap that resamples whole clusters (episodes: their votes share codes and politics).
    Brier: lower is better, so a negative difference favours ``a``; log score: the opposite."""
    y = table["observed_passed"].astype(float).to_numpy()

    def parts(col):
        p = np.clip(table[col].to_numpy(float), 1e-3, 1 - 1e-3)
        return (p - y) ** 2, y * np.log(p) + (1 - y) * np.log(1 - p)

    (ba, la), (bb, lb) = parts(a), parts(b)
    groups = table[cluster].to_numpy() if cluster in table else np.arange(len(table))
    labels, inverse = np.unique(groups, return_inverse=True)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    weight = np.zeros((n_boot, len(labels)))
    np.add.at(weight, (np.repeat(np.arange(n_boot), len(labels)), pick.ravel()), 1.0)
    w = weight[:, inverse]                                            # votes weighted by their episode's draws
    out = {"n_votes": int(len(table)), "n_clusters": int(len(labels))}
    for name, d in (("brier", ba - bb), ("log_score", la - lb)):
        boot = (w * d).sum(axis=1) / w.sum(axis=1)
        out[name] = {"difference": float(d.mean()), "interval_95": [float(np.quantile(boot, 0.025)),
                                                                   float(np.quantile(boot, 0.975))]}
    return out


def backtest_scores(table: pd.DataFrame) -> dict:
    """Scores of the model and both baselines, the model's paired differences from each baseline
    (95% intervals over episodes), interval coverage of the yea share, and the origins' convergence;
    the scores again on the predictions of converged origins only."""
    def block(t: pd.DataFrame) -> dict:
        y = t["observed_passed"].astype(float).to_numpy()
        out = {}
        for col, name in (("p_pass", "model"), ("p_majority_baseline", "majority_outcome"), ("p_party_line", "party_line")):
            b, ls = score(t[col].to_numpy(float), y)
            out[name] = {"brier": b, "log_score": ls}
        out["model_minus_party_line"] = paired_difference(t, "p_pass", "p_party_line")
        out["model_minus_majority_outcome"] = paired_difference(t, "p_pass", "p_majority_baseline")
        out["n_predictions"] = int(len(t))
        return out

    out = block(table)
    cov = table.dropna(subset=["in_50"])
    out["coverage"] = {"n": int(len(cov)), "of": "yea share (yea / seats of the Congress)",
                       "interval_50": float(cov["in_50"].astype(bool).mean()) if len(cov) else None,
                       "interval_90": float(cov["in_90"].astype(bool).mean()) if len(cov) else None}
    if "origin_verdict" in table:
        origins = table.drop_duplicates("origin_year")
        out["origins"] = {"n": int(len(origins)), "verdicts": origins["origin_verdict"].value_counts().to_dict(),
                          "max_rhat": float(origins["origin_max_rhat"].max())}
        converged = table[table["origin_verdict"] != "fail"]
        if 0 < len(converged) < len(table):
            out["converged_origins_only"] = block(converged)
    return out
