"""Rolling-origin backtest of the coalition model against two baselines.

- :func:`backtest`: fit on the cases before year T, predict each later case as a new bill
  from its coded evidence and composition, for every T; Brier and log scores and yea
  interval coverage against two baselines (majority outcome; party-line rates).
"""

from __future__ import annotations

import warnings

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


def case_bill(dataset, case_id: str):
    """A case as a new bill: its episode's codes, its own voters per party, its threshold rule."""
    from bayes_coalition.prediction.bills import HypotheticalBill, composition_of_congress

    c = dataset.cases.set_index("case_id").loc[case_id]
    codes = {(r.stage, r.indicator): int(r.level) for r in case_codes(dataset, case_id).itertuples()}
    vc = dataset.vote_counts[dataset.vote_counts.case_id == case_id].set_index("party")
    seats = {}
    for p in ("R", "D", "I"):
        if p in vc.index and pd.notna(vc.loc[p, "yea"]) and pd.notna(vc.loc[p, "nay"]):
            seats[p] = int(vc.loc[p, "yea"] + vc.loc[p, "nay"])
        elif p in vc.index and pd.notna(vc.loc[p, "n_members"]):
            seats[p] = int(vc.loc[p, "n_members"])
    if "ALL" in vc.index and pd.notna(vc.loc["ALL", "yea"]):
        total = int(vc.loc["ALL", "yea"] + vc.loc["ALL", "nay"])
        rest = total - sum(seats.values())
        missing = [p for p in ("R", "D") if p not in seats]
        if rest > 0 and missing:
            comp = composition_of_congress(dataset, int(c["congress"])).get(c["chamber"], {})
            w = np.array([comp.get(p, 1) for p in missing], dtype=float)
            split = np.floor(rest * w / w.sum()).astype(int)
            split[0] += rest - split.sum()
            seats.update({p: int(n) for p, n in zip(missing, split)})
    # the other chamber is never scored; its seats come from the data (nearest Congress with a split)
    other = "Senate" if c["chamber"] == "House" else "House"
    other_seats = HypotheticalBill(congress=int(c["congress"])).seats(dataset)[other]
    rule = c["threshold_rule"]
    return HypotheticalBill(
        name=case_id, codes=codes, composition={c["chamber"]: seats, other: other_seats},
        yea_is_pro_trade=bool(c["yea_is_pro_trade"]),
        vote_type=c["vote_type"] if c["vote_type"] != "whip_estimate" else "final_passage",
        house_rule=rule if c["chamber"] == "House" else "majority_of_voting",
        senate_rule=rule if c["chamber"] == "Senate" else "majority_of_voting",
        source=f"case {case_id}",
    )


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
    bill = case_bill(dataset, case_id)
    seats = bill.composition[chamber]
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


def backtest(spec, years, *, seed: int = 1, draws: int = 500, chains: int = 2, tune: int = 1000, progress: bool = True) -> pd.DataFrame:
    """Rolling-origin backtest; one row per (origin year, later case) with predictions and baselines."""
    from bayes_coalition.data.dataset import load_dataset
    from bayes_coalition.prediction.predict import predict

    ds = load_dataset(spec["data"]["path"] or None)
    rows = []
    previous = None
    for year in years:
        train = training_cases(ds.cases, year)
        test = [c for c in ds.cases["case_id"] if c not in set(train)]
        if not train or not test or train == previous:   # same fit as the previous origin
            continue
        previous = train
        model = origin_model(ds, spec, year)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(random_seed=seed + year, draws=draws, chains=chains, tune=tune, progressbar=False, log_likelihood=False)
        base_rate = float(ds.cases.set_index("case_id").loc[train, "passed"].dropna().astype(bool).mean())
        for case_id in test:
            c = ds.cases.set_index("case_id").loc[case_id]
            if pd.isna(c["passed"]):
                continue
            bill = case_bill(ds, case_id)
            pred = predict(model, bill, seed=seed)
            key = "yea_house" if c["chamber"] == "House" else "yea_senate"
            y = pred[key].values
            obs = ds.vote_counts[(ds.vote_counts.case_id == case_id) & (ds.vote_counts.party == "ALL")]["yea"]
            obs = float(obs.iloc[0]) if len(obs) and pd.notna(obs.iloc[0]) else np.nan
            p = float(pred["p_house" if c["chamber"] == "House" else "p_senate"])
            p_party, y_party = party_line_baseline(ds, train, case_id, seed=seed)
            q50, q90 = np.quantile(y, [0.25, 0.75]), np.quantile(y, [0.05, 0.95])
            rows.append({
                "origin_year": year, "case_id": case_id, "chamber": c["chamber"], "observed_passed": bool(c["passed"]),
                "p_pass": p, "p_majority_baseline": base_rate, "p_party_line": p_party,
                "observed_yea": obs, "yea_mean": float(y.mean()), "yea_q05": q90[0], "yea_q25": q50[0], "yea_q75": q50[1], "yea_q95": q90[1],
                "in_50": bool(q50[0] <= obs <= q50[1]) if np.isfinite(obs) else None,
                "in_90": bool(q90[0] <= obs <= q90[1]) if np.isfinite(obs) else None,
            })
        if progress:
            print(f"backtest origin {year}: fitted on {len(train)} cases, predicted {len(test)}", flush=True)
    return pd.DataFrame(rows)


def backtest_scores(table: pd.DataFrame) -> dict:
    y = table["observed_passed"].astype(float).to_numpy()
    out = {}
    for col, name in (("p_pass", "model"), ("p_majority_baseline", "majority_outcome"), ("p_party_line", "party_line")):
        b, ls = score(table[col].to_numpy(float), y)
        out[name] = {"brier": b, "log_score": ls}
    cov = table.dropna(subset=["in_50"])
    out["coverage"] = {"n": int(len(cov)), "interval_50": float(cov["in_50"].astype(bool).mean()) if len(cov) else None,
                       "interval_90": float(cov["in_90"].astype(bool).mean()) if len(cov) else None}
    out["n_predictions"] = int(len(table))
    return out
