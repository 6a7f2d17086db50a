"""Rolling-origin backtest of the coalition model against two baselines.

- :func:`backtest`: date-based rolling origins. Each decided vote is predicted once, by the fit on
  every vote dated strictly before it (votes of one day do not see each other), and the codes whose
  sources are all dated before it. One model of every vote is compiled once; an origin's fit gives
  the rows it may see a weight of 1 and the rest 0 (:func:`training_weights`, checked by
  :func:`check_no_leakage`), which leaves a later vote's parameters at their prior: what a fit
  without it would say. A prediction knows what was known before the vote: its episode's codes dated
  before it (:func:`case_codes`), the seats of its Congress (``composition.csv``, every member
  voting; not the vote's own turnout) and its threshold rule. A later vote of an episode sees the
  episode's earlier votes and codes (the default); ``same_episode=False`` (``--episode-blind``) predicts
  every vote of an episode as of its first vote (:func:`forecast_dates`): by the fit on the votes before
  the episode began and the codes dated before it, a forecast made before the first roll call. Every
  fit's convergence is checked: a fit that fails (R-hat above the bar or divergences) is refitted with three times the tuning,
  twice the draws and a higher target acceptance, and a fit that still fails is listed (``unconverged_fits``), never
  silenced.
- :func:`backtest_scores`: Brier and log scores of P(pass) against two baselines (the majority
  outcome of the training votes; training-period party yea rates), the paired differences with 95%
  intervals and P(model better) from a bootstrap over episodes (votes of one episode are not
  independent), and the 50% / 90% interval coverage of the party rows (each party's yea share).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayes_coalition.coalition.predictive import weighted_quantile
from bayes_coalition.errors import LeakageError
from bayes_coalition.prediction.baseline import party_line_p

# --- rolling-origin backtest -----------------------------------------------------------


def origin_date(origin) -> str:
    """An origin as a date: a year ``2016`` is ``"2016-01-01"``; a date string stays as it is."""
    text = str(origin)
    if text.isdigit() and len(text) == 4:
        return f"{text}-01-01"
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else _bad_origin(origin)
    except ValueError:
        return _bad_origin(origin)


def _bad_origin(origin):
    raise ValueError(f"origin {origin!r}: expected a year (2016) or a date (2016-06-23)")


def training_cases(cases: pd.DataFrame, origin) -> list[str]:
    """Case ids dated strictly before ``origin`` (a year or a date): the only votes its fit may see."""
    return cases.loc[cases["date"].astype(str) < origin_date(origin), "case_id"].tolist()


def origin_dates(cases: pd.DataFrame, first: str = "1996-01-01") -> list[str]:
    """The default origins: every date from ``first`` with a decided vote, so each vote is predicted
    by the fit on every vote dated before it."""
    decided = cases[cases["passed"].notna() & (cases["date"].astype(str) >= first)]
    return sorted(set(decided["date"].astype(str)))


def forecast_dates(cases: pd.DataFrame, *, same_episode: bool = True) -> pd.Series:
    """The day as of which each vote is predicted, by case id: its own date, or with ``same_episode=False``
    the first date of any vote of its episode (a whip count included), so that nothing of the episode informs it."""
    day = cases["date"].astype(str)
    if not same_episode:
        day = day.groupby(cases["episode_id"]).transform("min")
    return pd.Series(day.to_numpy(), index=cases["case_id"].to_numpy(), name="forecast_date")


def _case_dates(md, cases: pd.DataFrame) -> np.ndarray:
    """The date (YYYY-MM-DD) of each case of the model, in its order."""
    return cases.set_index("case_id").loc[md.coords["case"], "date"].astype(str).to_numpy()


def training_weights(md, cases: pd.DataFrame, origin) -> dict[str, np.ndarray]:
    """Likelihood weights of the fit at ``origin``: 1 for the rows of votes dated strictly before it
    and for codes whose sources are all dated strictly before it, 0 otherwise. An undated code (the
    paper's retrospective account) is never used: it may rest on hindsight."""
    day = origin_date(origin)
    seen = _case_dates(md, cases) < day
    code_ok = (md.code_date != "") & (md.code_date < day)
    out = {"obs_weight": seen[md.obs_case_idx].astype(float),
           "interval_weight": seen[md.int_case_idx].astype(float),
           "code_weight": code_ok.astype(float)}
    if len(md.expect_case_idx):
        # a vote's floor expectation is part of that vote's data: seen with its rows (its source predates it)
        out["expectation_weight"] = seen[md.expect_case_idx].astype(float)
    return out


def check_no_leakage(md, cases: pd.DataFrame, weights: dict, origin) -> None:
    """The fit at ``origin`` may see no row of a vote dated on or after it and no code resting on a
    source dated on or after it (or undated): that would leak the future into its predictions. A
    real error, not an ``assert`` (``python -O`` strips those)."""
    day = origin_date(origin)
    date = _case_dates(md, cases)
    bad = []
    rows = [("obs_weight", md.obs_case_idx), ("interval_weight", md.int_case_idx)]
    if len(md.expect_case_idx):
        rows.append(("expectation_weight", md.expect_case_idx))
    for key, case_idx in rows:
        later = (np.asarray(weights[key]) != 0) & (date[case_idx] >= day)
        bad += [md.coords["case"][c] for c in case_idx[later]]
    late_code = (np.asarray(weights["code_weight"]) != 0) & ((md.code_date == "") | (md.code_date >= day))
    bad += [md.coords["code"][i] for i in np.flatnonzero(late_code)]
    if bad:
        raise LeakageError(f"the fit at origin {day} sees {len(bad)} row(s) dated on or after it: {sorted(set(bad))[:5]}")


def case_codes(dataset, case_id: str, include_ex_post: bool = False, *, as_of: str | None = None) -> pd.DataFrame:
    """The codes that may inform a prediction of one vote: its episode's, as the model reads them
    (:func:`~bayes_coalition.coalition.model_data.model_codes`), from sources dated strictly before
    the vote (or before ``as_of``, a day not after it: :func:`forecast_dates`). An episode's voting-stage
    code may be dated between two of its votes (the date rule of the evidence is per episode); predicting
    the earlier vote must not see it."""
    from bayes_coalition.coalition.model_data import model_codes

    c = dataset.cases.set_index("case_id").loc[case_id]
    day = str(c["date"]) if as_of is None else min(str(as_of), str(c["date"]))
    ev = dataset.evidence[dataset.evidence["episode_id"] == c["episode_id"]]
    if "pub_date" in ev.columns and ev["pub_date"].notna().any():
        # an undated code (the paper's) is ex post and left out unless include_ex_post
        dated_before = ev["pub_date"].notna() & (ev["pub_date"].astype(str) < day)
        ev = ev[dated_before | (ev["pub_date"].isna() & include_ex_post)]
    return model_codes(ev, include_ex_post)


def case_floor_expectation(dataset, case_id: str, *, as_of: str | None = None) -> dict:
    """The vote's pre-vote floor expectation as a bill's ``{chamber: level}``, when its source is dated strictly
    before the vote (before ``as_of``, a day not after it); ``{}`` otherwise or without the table."""
    fe = dataset.floor_expectations
    if fe is None or case_id not in set(fe["case_id"]):
        return {}
    c = dataset.cases.set_index("case_id").loc[case_id]
    day = str(c["date"]) if as_of is None else min(str(as_of), str(c["date"]))
    row = fe.set_index("case_id").loc[case_id]
    return {c["chamber"]: int(row["level"])} if str(row["pub_date"]) < day else {}


def case_bill(dataset, case_id: str, *, voters: bool = False, as_of: str | None = None):
    """A vote as a new bill: its episode's codes dated before it (before ``as_of``: :func:`case_codes`), its
    Congress, its threshold rule.

    The seats are its Congress's composition (``composition.csv``: what is known before the vote,
    every member voting). ``voters=True`` uses the vote's own voters per party instead (a check of
    the model in sample, not a forecast); a data set without a composition table falls back to them.
    """
    from bayes_coalition.prediction.bills import HypotheticalBill

    c = dataset.cases.set_index("case_id").loc[case_id]
    codes = {(r.stage, r.indicator): int(r.level) for r in case_codes(dataset, case_id, as_of=as_of).itertuples()}
    rule = c["threshold_rule"]
    common = dict(
        name=case_id, codes=codes, yea_is_pro_trade=bool(c["yea_is_pro_trade"]),
        floor_expectation=case_floor_expectation(dataset, case_id, as_of=as_of),
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


def party_line_baseline(dataset, train: list[str], case_id: str, n_sim: int = 4000, seed: int = 0) -> tuple[float, np.ndarray]:
    """P(pass) and yea draws from training-period party yea rates of the chamber (no latent variables;
    :mod:`bayes_coalition.prediction.baseline`), with the vote's seats and threshold rule."""
    cases = dataset.cases.set_index("case_id")
    chamber = cases.loc[case_id, "chamber"]
    seats = case_bill(dataset, case_id).seats(dataset)[chamber]
    return party_line_p(dataset, train, chamber, seats, cases.loc[case_id, "threshold_rule"],
                        bool(cases.loc[case_id, "yea_is_pro_trade"]), n_sim=n_sim, seed=seed)


def vote_scores(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per vote: squared error and log score (natural log), probabilities clipped to [0.001, 0.999]."""
    p = np.clip(np.asarray(p, float), 1e-3, 1 - 1e-3)
    y = np.asarray(y, float)
    return (p - y) ** 2, y * np.log(p) + (1 - y) * np.log(1 - p)


def score(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Brier score and mean log score: the means of :func:`vote_scores`."""
    brier, log = vote_scores(p, y)
    return float(np.mean(brier)), float(np.mean(log))


def largest_losses(votes: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The votes on which the model's Brier falls furthest behind the party line's, worst first: at most
    ``n`` rows of ``backtest.csv`` where the model's squared error exceeds the baseline's, with ``brier_model``,
    ``brier_party_line`` and their difference ``brier_loss`` (:func:`vote_scores`, so the losses and wins over
    all votes, divided by their number, are ``backtest.json``'s Brier difference)."""
    y = votes["observed_passed"].astype(float).to_numpy()
    model, _ = vote_scores(votes["p_pass"], y)
    party, _ = vote_scores(votes["p_party_line"], y)
    out = votes.assign(brier_model=model, brier_party_line=party, brier_loss=model - party)
    out = out[out["brier_loss"] > 0].sort_values("brier_loss", ascending=False, kind="mergesort")   # ties: file order
    return out.head(int(n)).reset_index(drop=True)


def rows_outside(party_rows: pd.DataFrame, level: int = 90) -> pd.DataFrame:
    """The party rows of ``backtest_party_rows.csv`` whose observed yea share lies outside their ``level``%
    interval (50 or 90), in file order, with ``side`` "below" or "above" the interval."""
    if level not in (50, 90):
        raise ValueError(f"level must be 50 or 90, not {level!r}")
    lo, hi = ("q25", "q75") if level == 50 else ("q05", "q95")
    out = party_rows[~party_rows[f"in_{level}"].astype(bool)]
    side = np.where(out["observed_yea_share"] < out[lo], "below", "above")
    return out.assign(side=side).reset_index(drop=True)


class OriginFits:
    """The model of every vote with likelihood weights (``build_pymc_model(weighted=True)``), compiled
    once and fitted at each origin with that origin's weights: a backtest pays one compilation
    instead of one per origin. nutpie's compiled model takes new weights through ``with_data``; other
    samplers get them through the ``pm.Data`` containers (PyMC compiles again per fit)."""

    def __init__(self, model, sampler: str | None = None):
        from bayes_coalition.coalition.graph import build_pymc_model
        from bayes_coalition.sampling import resolve_sampler

        self.model = model
        self.pm_model = build_pymc_model(model.model_data, model.spec, weighted=True)
        self.sampler = resolve_sampler(sampler or model.spec["sampler"]["sampler"])
        self.free = [v.name for v in self.pm_model.free_RVs]
        self._compiled = None
        self._compiling = threading.Lock()     # chains in threads: one compilation (PyTensor's is not thread-safe)
        self.compile_seconds = 0.0

    def sample(self, weights: dict, *, seed: int, draws: int, tune: int, chains: int, target_accept: float,
               cores: int | None = None):
        """InferenceData (posterior, sample_stats) of one fit with these weights, and its seconds (``cores``:
        chains run at once; default one per chain, up to 2)."""
        from bayes_coalition.sampling import sample_compiled, sample_model

        t0 = time.perf_counter()
        if self.sampler == "nutpie":
            import nutpie

            with self._compiling:
                if self._compiled is None:
                    self._compiled = nutpie.compile_pymc_model(self.pm_model)
                    self.compile_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            idata = sample_compiled(self._compiled.with_data(**weights), draws=draws, tune=tune, chains=chains,
                                    seed=seed, target_accept=target_accept, cores=cores,
                                    low_rank_mass_matrix=self.model.spec["sampler"]["low_rank_mass_matrix"])
        else:
            for name, value in weights.items():
                self.pm_model[name].set_value(np.asarray(value, dtype=float))
            idata, _, _ = sample_model(self.pm_model, sampler=self.sampler, draws=draws, tune=tune, chains=chains,
                                       target_accept=target_accept, random_seed=int(seed), progressbar=False,
                                       cores=cores)
        idata.posterior.attrs["free_variables"] = ",".join(self.free)
        return idata, time.perf_counter() - t0

    @staticmethod
    def attempts(seed: int, tune: int, target_accept: float, refit: bool, draws: int) -> list[tuple[int, int, float, int]]:
        """``(seed, tune, target_accept, draws)`` of each attempt at a fit: the first; with ``refit``, a second for a
        fit that fails the convergence bar (R-hat above 1.01 or divergences; a fit short only of ESS or BFMI is a
        warning, not refitted), with three times the tuning, target acceptance ``max(target_accept, 0.95)`` and twice
        the draws. The draws because more tuning alone did not help: on the default spec with the backtest's 4 x 500
        draws the first four origins' refits with 3000 tuning steps still missed (max R-hat 1.013 / 1.018 / 1.014 /
        1.011, bulk ESS as low as 338); with 4 x 1000 draws they passed (1.006-1.007; 2026-11-30)."""
        out = [(int(seed), int(tune), float(target_accept), int(draws))]
        return out + ([(int(seed) + 7919, 3 * int(tune), max(float(target_accept), 0.95), 2 * int(draws))] if refit else [])

    @staticmethod
    def diagnose(idata, seconds: float, attempt: int, settings: tuple) -> tuple[dict, bool]:
        """The diagnostics of attempt ``attempt`` (1-based) made with ``settings`` (:meth:`attempts`), and whether it
        failed the convergence bar (on the free variables :meth:`sample` names in the posterior's attributes)."""
        from bayes_coalition import diagnostics

        _, t, ta, d = settings
        diag = diagnostics.convergence(idata, idata.posterior.attrs["free_variables"].split(","))
        diag.update(wall_seconds=float(seconds), tune=int(t), draws=int(d), target_accept=float(ta), attempts=int(attempt))
        return diag, diagnostics.verdict(diag)[0] == "fail"

    def fit(self, weights: dict, *, seed: int, draws: int, tune: int, chains: int, target_accept: float,
            refit: bool = True, cores: int | None = None):
        """Fit with these weights (:meth:`attempts`: a fit that fails the convergence bar is refitted once). Returns
        the InferenceData and the diagnostics of the last attempt (``attempts``: how many were made)."""
        from bayes_coalition import diagnostics

        for attempt, settings in enumerate(self.attempts(seed, tune, target_accept, refit, draws), start=1):
            s, t, ta, d = settings
            idata, seconds = self.sample(weights, seed=s, draws=d, tune=t, chains=chains, target_accept=ta,
                                         cores=cores)
            diag, failed = self.diagnose(idata, seconds, attempt, settings)
            if not failed:
                break
        diagnostics.check(diag)          # never silenced: a fit that still fails warns here
        return idata, diag


@dataclass
class BacktestResult:
    """The backtest's tables: one row per predicted vote, per observed party row, per origin fit."""

    votes: pd.DataFrame
    party_rows: pd.DataFrame
    fits: pd.DataFrame
    settings: dict = field(default_factory=dict)


def _party_rows(ds, case_id: str, chamber: str, pred, seats: dict) -> list[dict]:
    """Each observed party row (R, D) of a vote against the predicted yea share of that party's seats."""
    vc = ds.vote_counts[ds.vote_counts.case_id == case_id].set_index("party")
    group = f"{chamber.lower()}_group"
    draws = pred[f"yea_{chamber.lower()}_party"]
    out = []
    for party in ("R", "D"):
        if party not in vc.index or pd.isna(vc.loc[party, "yea"]) or pd.isna(vc.loc[party, "nay"]):
            continue
        if party not in list(draws[group].values) or not seats.get(party):
            continue
        yea, nay = int(vc.loc[party, "yea"]), int(vc.loc[party, "nay"])
        if yea + nay == 0:
            continue
        share = draws.sel({group: party}).values / seats[party]
        observed = yea / (yea + nay)
        # with agenda control the count draws are weighted by their probability of being held (ones otherwise)
        w = pred[f"yea_{chamber.lower()}_floor_weight"].values
        q = weighted_quantile(share, w, [0.05, 0.25, 0.75, 0.95])
        out.append({"case_id": case_id, "party": party, "observed_yea_share": observed,
                    "predicted_mean": float(np.sum(w * share) / np.sum(w)), "q05": q[0], "q25": q[1], "q75": q[2], "q95": q[3],
                    "in_50": bool(q[1] <= observed <= q[2]), "in_90": bool(q[0] <= observed <= q[3])})
    return out


def _weighted_model(spec: dict, sampler: str | None):
    """The data, the model of every vote and its compiled weighted model (:class:`OriginFits`): built once
    per worker and reused by every origin (or left-out episode) fitted there."""
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.data.dataset import load_dataset

    ds = load_dataset(spec["data"]["path"] or None)
    model = CoalitionModel(ds, spec)
    return ds, model, OriginFits(model, sampler)


def weighted_model(spec: dict, sampler: str | None):
    """:func:`_weighted_model` from the per-worker cache (:func:`bayes_coalition.parallel.worker_cached`)."""
    from bayes_coalition.parallel import content_key, worker_cached

    return worker_cached(("weighted-model", content_key(spec, sampler)), lambda: _weighted_model(spec, sampler))


def origin_plan(ds, md, origin: str, until: str, as_of: pd.Series):
    """What the fit at ``origin`` may see and must predict: ``(training votes, test votes, weights)``, the test
    votes those decided ones whose forecast day (``as_of``: :func:`forecast_dates`) lies in ``[origin, until)``;
    the weights are checked against leakage (:func:`check_no_leakage`)."""
    cases = ds.cases.set_index("case_id")
    train = training_cases(ds.cases, origin)
    test = [c for c in cases.index if origin <= as_of[c] < until and pd.notna(cases.loc[c, "passed"])]
    weights = training_weights(md, ds.cases, origin)
    check_no_leakage(md, ds.cases, weights, origin)
    return train, test, weights


def origin_chain(spec: dict, sampler: str | None, weights: dict, chain_seed: int, draws: int, tune: int,
                 target_accept: float) -> tuple:
    """One chain of an origin's fit, a pure function of its inputs, on the worker's compiled weighted model:
    ``(InferenceData with posterior and sample_stats, seconds)``."""
    from bayes_coalition.sampling import chain_only

    _, _, fits = weighted_model(spec, sampler)
    idata, seconds = fits.sample(weights, seed=chain_seed, draws=draws, tune=tune, chains=1, target_accept=target_accept,
                                 cores=1)
    return chain_only(idata), seconds


def fit_row(origin: str, train: list, weights: dict, n_test: int, diag: dict) -> dict:
    """The row of ``backtest_fits.csv`` for the fit at ``origin``."""
    from bayes_coalition import diagnostics

    return {"origin": origin, "n_train_votes": len(train), "n_codes": int(weights["code_weight"].sum()),
            "n_predicted": int(n_test), "verdict": diagnostics.verdict(diag)[0], "max_rhat": diag["max_rhat"],
            "min_ess_bulk": diag["min_ess_bulk"], "min_ess_tail": diag["min_ess_tail"],
            "divergences": diag["divergences"], "attempts": diag["attempts"], "tune": diag["tune"],
            "draws": diag["draws"], "seconds": diag["wall_seconds"]}


def vote_prediction(spec: dict, sampler: str | None, origin: str, case_id: str, as_of: str, train: list, idata,
                    diag: dict, *, seed: int) -> dict:
    """One test vote of the fit at ``origin`` (``idata``, its diagnostics ``diag``), as known on ``as_of``: its
    P(pass) against the two baselines (``train``: the votes the fit saw) and its party rows against their
    predictive intervals. A pure function of its inputs (the worker's cached model is copied, never changed)."""
    import copy

    from bayes_coalition import diagnostics
    from bayes_coalition.prediction.predict import predict
    from bayes_coalition.prediction.predictor import BillPredictor

    ds, cached, fits = weighted_model(spec, sampler)
    model = copy.copy(cached)
    model.idata, model.diagnostics = idata, diag
    cases = ds.cases.set_index("case_id")
    c = cases.loc[case_id]
    bill = case_bill(ds, case_id, as_of=as_of)
    pred = predict(model, bill, seed=seed, predictor=BillPredictor(model), party_line=False)
    chamber = c["chamber"]
    seats = {p: n for p, n in bill.seats(ds)[chamber].items() if not p.startswith("_")}
    p_party, _ = party_line_baseline(ds, train, case_id, seed=seed)
    vote = {"origin": origin, "case_id": case_id, "episode_id": c["episode_id"], "chamber": chamber,
            "date": str(c["date"]), "forecast_date": as_of, "observed_passed": bool(c["passed"]),
            "p_pass": float(pred["p_house" if chamber == "House" else "p_senate"]),
            "p_majority_baseline": float(cases.loc[train, "passed"].dropna().astype(bool).mean()),
            "p_party_line": p_party, "n_codes": len(bill.codes), "seats": sum(seats.values()),
            "origin_verdict": diagnostics.verdict(diag)[0]}
    party = [{"origin": origin, "episode_id": c["episode_id"], **r} for r in _party_rows(ds, case_id, chamber, pred, seats)]
    return {"vote": vote, "party": party, "sampler": fits.sampler, "compile_seconds": fits.compile_seconds}


def backtest(spec, origins=None, *, seed: int = 1, draws: int = 500, chains: int = 4, tune: int = 1000,
             target_accept: float | None = None, sampler: str | None = None, refit: bool = True,
             same_episode: bool = True, progress: bool = True, executor=None, client=None,
             workers: int | None = None, checkpoint=None) -> BacktestResult:
    """Rolling-origin backtest (module docstring): each decided vote whose forecast day (its date, or with
    ``same_episode=False`` its episode's first vote: :func:`forecast_dates`) is on or after the first origin is
    predicted once, by the fit at the latest origin not after that day. ``origins``: years or dates
    (default: every date with a decided vote from 1996, :func:`origin_dates`).

    Each chain of each origin's fit is a task of ``executor`` (:mod:`bayes_coalition.parallel`; default: in this
    process, as many chains at once as ``executor.cores(chains)``), seeded from ``(seed + i, attempt, chain)`` for
    the i-th origin (:func:`bayes_coalition.parallel.chain_seeds`); once an origin's chains are in, its convergence
    is checked here (a failed fit's refit is submitted as new chain tasks; one that still fails warns), and each
    vote it predicts is a task (:func:`vote_prediction`). The tables are in origin order whatever order the tasks finish in, and the same for
    any number of workers.

    ``checkpoint`` (a folder; the CLI's ``DIR/origins``): each origin, once its fit and predictions are in, is
    written there (``<origin>.json``, atomically), and a rerun takes an origin from its file instead of fitting it
    again when the file's key (:class:`bayes_coalition.parallel.ResultStore`: model version, data, spec, settings, the
    origin's plan and seeds) is the rerun's, so an interrupted run resumes and its tables equal an uninterrupted one's."""
    from bayes_coalition import diagnostics
    from bayes_coalition.coalition.model import CoalitionModel, model_id
    from bayes_coalition.coalition.spec import batch_spec_content
    from bayes_coalition.data.dataset import data_digest, load_dataset
    from bayes_coalition.parallel import ResultStore, chain_seeds, resolve
    from bayes_coalition.sampling import ChainGather, resolve_sampler

    ds = load_dataset(spec["data"]["path"] or None)
    backtested = model_id(spec)                 # the id of a run fitted from this spec (the record predict matches)
    spec = {**spec, "data": {**spec["data"], "exclude_cases": []}}     # every vote is in the model; weights choose
    origins = sorted({origin_date(o) for o in origins}) if origins else origin_dates(ds.cases)
    ta = float(target_accept if target_accept is not None else spec["sampler"]["target_accept"])
    md = CoalitionModel(ds, spec).model_data
    as_of = forecast_dates(ds.cases, same_episode=same_episode)
    plans = {}
    for i, origin in enumerate(origins):
        until = origins[i + 1] if i + 1 < len(origins) else "9999-12-31"
        train, test, weights = origin_plan(ds, md, origin, until, as_of)
        if train and test:          # an origin with no training or no test vote has nothing to do
            plans[origin] = {"weights": weights, "train": train, "test": test,
                             "attempts": OriginFits.attempts(seed + i, tune, ta, refit, draws)}
    store = ResultStore(checkpoint, model_version=CoalitionModel.version, data=data_digest(ds), spec=batch_spec_content(spec),
                        sampler=sampler,
                        seed=seed, draws=draws,
                        chains=chains, tune=tune, target_accept=ta, refit=refit, same_episode=same_episode, origins=origins)
    predicted: dict = {}
    fit_rows: dict = {}
    for origin in list(plans):
        saved = store.load(origin, _plan_key(plans[origin]))
        if saved is not None:
            fit_rows[origin] = saved["fit_row"]
            predicted.update({(origin, c): r for c, r in zip(plans[origin]["test"], saved["predictions"], strict=True)})
    resumed = [o for o in plans if o in fit_rows]
    if progress and resumed:
        print(f"backtest: {len(resumed)} of {len(plans)} origins taken from {checkpoint} (fitted before with these "
              f"settings)", flush=True)
    ex, own = resolve(executor, client=client, workers=workers)

    def chain_tasks(origin, attempt):
        s, t, a, d = plans[origin]["attempts"][attempt - 1]
        return [((origin, attempt, c), origin_chain, (spec, sampler, plans[origin]["weights"], cs, d, t, a))
                for c, cs in enumerate(chain_seeds(s, chains))]

    gathered = ChainGather(chains)
    waiting = {origin: len(plan["test"]) for origin, plan in plans.items() if origin not in fit_rows}

    def then(key, result):
        if len(key) == 2:                                   # a vote's prediction
            predicted[key] = result
            origin = key[0]
            waiting[origin] -= 1
            if not waiting[origin]:
                store.save(origin, {"fit_row": fit_rows[origin],
                                    "predictions": [predicted[(origin, c)] for c in plans[origin]["test"]]},
                           _plan_key(plans[origin]))
            if progress and not waiting[origin]:
                f = fit_rows[origin]
                print(f"backtest origin {origin}: fitted on {f['n_train_votes']} votes ({f['verdict']}: max R-hat "
                      f"{f['max_rhat']:.3f}, {f['divergences']} divergences, {f['attempts']} attempt(s), "
                      f"{f['seconds']:.0f} core-s), predicted {f['n_predicted']} "
                      f"({len(resumed) + sum(not n for n in waiting.values())}/{len(plans)} origins)", flush=True)
            return []
        origin, attempt, c = key
        fit = gathered.add((origin, attempt), c, result)
        if fit is None:
            return []
        idata, seconds = fit
        plan = plans[origin]
        diag, failed = OriginFits.diagnose(idata, seconds, attempt, plan["attempts"][attempt - 1])
        if failed and attempt < len(plan["attempts"]):
            return chain_tasks(origin, attempt + 1)
        diagnostics.check(diag)          # never silenced: a fit that still fails warns here
        fit_rows[origin] = fit_row(origin, plan["train"], plan["weights"], len(plan["test"]), diag)
        # one task per predicted vote (the last origin predicts many), the fit's draws sent to a worker once
        shared = ex.share(idata)
        return [((origin, case_id), _VotePredict(seed),
                 (spec, sampler, origin, case_id, as_of[case_id], plan["train"], shared, diag))
                for case_id in plan["test"]]

    # each chain is a task (whole fits of unequal size leave one worker idle at the end); in process a fit's
    # chains run on threads
    threads = ex.chain_threads(chains, resolve_sampler(sampler or spec["sampler"]["sampler"]))
    tasks = [t for origin in plans if origin not in fit_rows for t in chain_tasks(origin, 1)]
    try:
        for _ in ex.stream(tasks, then, threads=threads, label="backtest", progress=False):
            pass
    finally:
        if own:
            ex.close()
    keys = [(o, c) for o in origins if o in plans for c in plans[o]["test"]]      # origin order, then the cases'
    votes = [predicted[k]["vote"] for k in keys]
    party = [r for k in keys for r in predicted[k]["party"]]
    done = [predicted[k] for k in keys]
    settings = {"seed": seed, "draws": draws, "chains": chains, "tune": tune, "target_accept": ta, "refit": refit,
                "same_episode": bool(same_episode), "origins": origins, "sampler": done[0]["sampler"] if done else None,
                "compile_seconds": max((r["compile_seconds"] for r in done), default=None),
                "workers": ex.workers, "model_id": backtested, "model_version": CoalitionModel.version}
    return BacktestResult(pd.DataFrame(votes), pd.DataFrame(party),
                          pd.DataFrame([fit_rows[o] for o in origins if o in fit_rows]), settings)


def _plan_key(plan: dict) -> list:
    """What an origin's checkpoint depends on beyond the run's settings: its training and test votes, weights and
    the seeds and settings of its attempts."""
    return [plan["train"], plan["test"], {k: np.asarray(v).tolist() for k, v in sorted(plan["weights"].items())},
            plan["attempts"]]


class _VotePredict:
    """``vote_prediction`` with the batch's seed bound (a picklable callable for the workers)."""

    def __init__(self, seed: int):
        self.seed = seed

    def __call__(self, spec, sampler, origin, case_id, as_of, train, idata, diag):
        return vote_prediction(spec, sampler, origin, case_id, as_of, train, idata, diag, seed=self.seed)


def paired_difference(table: pd.DataFrame, a: str, b: str, *, n_boot: int = 4000, seed: int = 0,
                      cluster: str = "episode_id") -> dict:
    """Brier and log-score differences ``a - b`` over the same votes, with 95% intervals from a
    bootstrap that resamples whole clusters (episodes: their votes share codes and politics), and the
    bootstrap probability that ``a`` is better (``p_a_better``: lower Brier, higher log score).
    Brier: lower is better, so a negative difference favours ``a``; log score: the opposite."""
    y = table["observed_passed"].astype(float).to_numpy()

    (ba, la), (bb, lb) = vote_scores(table[a], y), vote_scores(table[b], y)
    groups = table[cluster].to_numpy() if cluster in table else np.arange(len(table))
    labels, inverse = np.unique(groups, return_inverse=True)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    weight = np.zeros((n_boot, len(labels)))
    np.add.at(weight, (np.repeat(np.arange(n_boot), len(labels)), pick.ravel()), 1.0)
    w = weight[:, inverse]                                            # votes weighted by their episode's draws
    out = {"n_votes": int(len(table)), "n_clusters": int(len(labels))}
    for name, d, better in (("brier", ba - bb, -1.0), ("log_score", la - lb, 1.0)):
        boot = (w * d).sum(axis=1) / w.sum(axis=1)
        out[name] = {"difference": float(d.mean()), "interval_95": [float(np.quantile(boot, 0.025)),
                                                                   float(np.quantile(boot, 0.975))],
                     "p_a_better": float(np.mean(better * boot > 0))}
    return out


def backtest_scores(result: BacktestResult) -> dict:
    """``backtest.json``: the number of predicted votes; Brier and log score of the model and both
    baselines (``majority``: the training votes' majority outcome; ``party_line``: training-period
    party yea rates); ``p_model_better_brier`` (paired bootstrap over episodes); the 50% / 90%
    interval coverage of the party rows; the fits that did not converge after a refit; and the paired
    differences with their intervals."""
    votes = result.votes
    y = votes["observed_passed"].astype(float).to_numpy()
    out = {"n_votes": int(len(votes))}
    for col, name in (("p_pass", "model"), ("p_party_line", "party_line"), ("p_majority_baseline", "majority")):
        b, ls = score(votes[col].to_numpy(float), y)
        out[name] = {"brier": b, "log_score": ls}
    vs_party = paired_difference(votes, "p_pass", "p_party_line")
    out["p_model_better_brier"] = vs_party["brier"]["p_a_better"]
    rows = result.party_rows
    out["coverage_50"] = float(rows["in_50"].astype(bool).mean()) if len(rows) else None
    out["coverage_90"] = float(rows["in_90"].astype(bool).mean()) if len(rows) else None
    out["n_party_rows"] = int(len(rows))
    fits = result.fits
    bad = fits[fits["verdict"] == "fail"] if len(fits) else fits
    out["unconverged_fits"] = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                               for r in bad[["origin", "max_rhat", "divergences", "attempts"]].to_dict("records")] if len(bad) else []
    out["n_fits"] = int(len(fits))
    out["refitted_fits"] = int((fits["attempts"] > 1).sum()) if len(fits) else 0
    out["model_minus_party_line"] = vs_party
    out["model_minus_majority"] = paired_difference(votes, "p_pass", "p_majority_baseline")
    out["settings"] = result.settings
    return out
