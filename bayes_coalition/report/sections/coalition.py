"""Sections of a coalition run: run, posterior predictive checks and LOO, prior predictive check,
Illustration 1 (actors, cut-points, coalitions), hypotheses and approval.

Every ArviZ call goes through :mod:`bayes_coalition._arviz`.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition import _arviz
from bayes_coalition._base import package_versions
from bayes_coalition.constants import CONTRACTION_IDENTIFIED, PREDICTIVE_PROB, SUMMARY_PROB
from bayes_coalition.report import checks, figures
from bayes_coalition.report.blocks import (
    BulletList,
    Code,
    Columns,
    Details,
    Figure,
    Heading,
    KeyValue,
    Note,
    Paragraph,
    Section,
    Table,
)
from bayes_coalition.report.run_dir import PRIOR_CACHE, Run
from bayes_coalition.report.sections import Context
from bayes_coalition.report.sections.convergence import TOP_LEVEL, element_label, size

PRIOR_DRAWS = 200
PAPER_CASES = (
    ("ft1997_h_whip", "Fast-track 1997, House (whip count)"),
    ("pntr_h", "PNTR 2000, House"),
    ("pntr_s", "PNTR 2000, Senate"),
)
TITLES = {
    "run": "Run: spec, data, sampler, versions",
    "ppc": "Posterior predictive checks and LOO",
    "prior": "Prior predictive check",
    "illustration": "Illustration 1: actors, cut-points and coalitions",
    "hypotheses": "Hypotheses and approval",
}


def _figure(fig, alt: str, caption: str = "") -> Figure:
    return Figure(figures.to_data_uri(fig), alt, caption)


def run_section(ctx: Context) -> Section:
    run = ctx.run
    m = run.model
    ds = m.dataset
    md = m.model_data
    spec = m.spec
    d = run.stored_diag
    c = ds.cases[ds.cases["case_id"].isin(md.coords["case"])]
    data = [
        ("episodes", len(md.coords["episode"])),
        ("cases (votes)", f"{len(c)} (House {int((c.chamber == 'House').sum())}, Senate {int((c.chamber == 'Senate').sum())})"),
        ("likelihood rows", f"{len(md.obs_n)} point, {len(md.int_n)} interval-censored, {len(md.checks)} check-only"),
        ("actors", f"{len(ds.actors)} (" + ", ".join(f"{k} {v}" for k, v in ds.actors["type"].value_counts().items()) + ")"),
        ("coded indicators", f"{ds.codebook['indicator'].nunique()} indicators, {len(ds.evidence)} coded evidence rows "
                             f"for {ds.evidence['episode_id'].nunique()} episodes"),
        ("excluded cases", ", ".join(spec["data"]["exclude_cases"]) or "none"),
    ]
    wall = d.get("wall_seconds")
    sampler = [
        ("sampler", d.get("sampler")), ("chains", d.get("chains")), ("draws per chain", d.get("draws")),
        ("tuning steps", d.get("tune")), ("random seed", d.get("random_seed")),
        ("target accept", spec["sampler"].get("target_accept")),
        ("sampling time (s)", d.get("sampling_seconds", wall)),
        ("wall time of the fit command (s)", wall if "sampling_seconds" in d else None),
    ]
    saved = json.loads(run.idata.attrs.get("package_versions", "{}") or "{}")
    now = package_versions()
    versions = pd.DataFrame({"package": sorted(set(saved) | set(now))})
    versions["at fit"] = versions["package"].map(saved)
    versions["at report"] = versions["package"].map(now)
    model_rows = [("spec name", spec["model"].get("name")), ("description", spec["model"].get("description")),
                  ("model id", m.id), ("model version", m.version),
                  ("discrimination (fixed)", spec["identification"]["discrimination"]),
                  ("run directory", str(run.run_dir) if run.run_dir else "(in-memory model)")]
    priors = pd.DataFrame({"prior": list(spec["priors"]), "value": [str(v) for v in spec["priors"].values()]})
    full_spec = json.dumps({k: v for k, v in spec.items() if k != "_source"}, indent=2)
    return Section(TITLES["run"], "run", [
        Columns([[Heading("Model"), KeyValue(model_rows), Heading("Sampler"), KeyValue(sampler)],
                 [Heading("Data"), KeyValue(data), Heading("Package versions"), Table(versions)]]),
        Details("Priors (spec [priors])", [Table(priors)]),
        Details("Full spec (JSON)", [Code(full_spec)]),
        Details("Data summary", [Code(ds.summary())]),
    ])


# --- posterior predictive checks --------------------------------------------------------------------


def _whip_intervals(m) -> dict:
    md = m.model_data
    out = {}
    for _, r in md.checks.iterrows():
        out[r["case_id"]] = (float(r["yea_lower"]), float(r["yea_upper"]))
    for ci in sorted(set(md.int_case_idx.tolist())):
        case = md.coords["case"][ci]
        if case not in out:
            sel = md.int_case_idx == ci
            out[case] = (float(md.int_lower[sel].sum()), float(md.int_upper[sel].sum()))
    return out


def _whip_panels(m, pp) -> list:
    md = m.model_data
    panels = []
    for j, label in enumerate(md.coords["interval_obs"]):
        if "interval_yea" in pp:
            draws = pp["interval_yea"].sel(interval_obs=label).values
            panels.append((label, draws, float(md.int_lower[j]), float(md.int_upper[j])))
    for _, r in md.checks.iterrows():
        if "case_yea" in pp:
            panels.append((f"{r['case_id']}:ALL", pp["case_yea"].sel(case=r["case_id"]).values,
                           float(r["yea_lower"]), float(r["yea_upper"])))
    return panels


def ppc_section(ctx: Context) -> Section:
    m = ctx.run.model
    idata = ctx.run.idata
    if "posterior_predictive" not in idata:
        m.posterior_predictive()
    pc = m.predictive_check(prob=PREDICTIVE_PROB)
    a = ctx.approval
    chamber_of = dict(zip(a["case_id"], a["chamber"]))
    p = f"{PREDICTIVE_PROB:.0%}"
    point = pc[pc["kind"] == "point"]
    interval = pc[pc["kind"] != "point"]
    cov = checks.coverage_verdict(int(point["consistent"].sum()), len(point), PREDICTIVE_PROB)
    blocks = [
        *ctx.provisional(),
        Paragraph(f"**{cov.line}.**"),
        Paragraph(f"Point rows (observed yea counts) only, {checks.IN_SAMPLE}. Coverage well above the nominal {p} is not "
                  f"a success: the intervals are wider than the data need. Rows of one vote share its cut-point, so they "
                  f"are not independent and the binomial interval is a guide. {int(interval['consistent'].sum())} of "
                  f"{len(interval)} whip-count intervals overlap their {p} predictive interval.", small=True),
        Heading("Per case", anchor="ppc-cases"),
        _figure(figures.ppc_cases(a, _whip_intervals(m), prob=PREDICTIVE_PROB), "predicted vs observed yea per case",
                f"Total yea count per case: {p} posterior predictive interval against the observed count."),
        Heading("Per chamber and party", anchor="ppc-party"),
        _figure(figures.ppc_rows(pc, chamber_of, title=f"{p} posterior predictive interval per likelihood row"),
                "predicted vs observed yea per party row"),
    ]
    bad = pc[~pc["consistent"].astype(bool)]
    if len(bad):
        blocks.append(Details(f"{len(bad)} rows outside their predictive interval", [Table(bad, digits=0)]))
    blocks.append(Details("All rows", [Table(pc, digits=0)]))
    panels = _whip_panels(m, idata.posterior_predictive)
    if panels:
        blocks += [Heading("Censored whip-count evidence", anchor="ppc-whip"),
                   Paragraph("The 1997 fast-track bill never reached a House vote; the whip counts enter the likelihood as "
                             "interval-censored yea counts (the chamber total only as a check)."),
                   _figure(figures.whip_evidence(panels), "whip-count intervals",
                           "Posterior predictive yea counts (histogram) against the whip-count interval (shaded).")]
    seed = int(ctx.run.stored_diag.get("random_seed", 0) or 0)
    return Section(TITLES["ppc"], "ppc", blocks + [Heading("PSIS-LOO", anchor="loo")] + _loo_blocks(idata)
                   + [Heading("Randomised PIT", anchor="pit")] + _pit_blocks(m, idata, seed))


def _loo_blocks(idata) -> list:
    ll = idata.get("log_likelihood")
    if ll is None or "yea" not in ll:
        return [Note("No log_likelihood group for 'yea' in this run: LOO skipped (fit with log_likelihood=True).")]
    res = _arviz.loo(idata, "yea")
    k = res["pareto_k"]
    labels = list(ll["yea"]["obs"].values) if "obs" in ll["yea"].coords else [str(i) for i in range(len(k))]
    bins = [("good (k <= 0.5)", k <= 0.5), ("ok (0.5 < k <= 0.7)", (k > 0.5) & (k <= 0.7)),
            ("bad (0.7 < k <= 1)", (k > 0.7) & (k <= 1)), ("very bad (k > 1)", k > 1)]
    ktab = pd.DataFrame({"Pareto k": [b for b, _ in bins], "count": [int(s.sum()) for _, s in bins],
                         "share": [float(s.mean()) for _, s in bins]})
    worst = np.argsort(-np.where(np.isfinite(k), k, -np.inf), kind="stable")[:8]
    wtab = pd.DataFrame({"row": [labels[i] for i in worst], "Pareto k": k[worst]})
    n_nan = int((~np.isfinite(k)).sum())
    rel = checks.loo_reliability(k)
    if rel.ok:
        numbers = [KeyValue([("ELPD (LOO)", res["elpd"]), ("PSIS-LOO reliability", rel.line), ("SE", res["se"]),
                             ("p_loo", res["p_loo"]), ("ArviZ warning (high k)", res["warning"])])]
    else:
        # an ELPD with this many high-k rows is not an estimate: it is not shown, not even "for reference"
        numbers = [Note("No ELPD, SE or p_loo is shown: with this many rows of high Pareto k, PSIS-LOO does not estimate "
                        "them (every vote has its own cut-point and tilt, so leaving one row out moves the posterior "
                        "too far for importance sampling). The out-of-sample evidence is the rolling-origin backtest "
                        "and leave-one-episode-out cross-validation (`bayes-coalition backtest`, `bayes-coalition loeo`; "
                        "validation section).")]
    blocks = [
        Paragraph(f"**PSIS-LOO: {rel.line}.**"),
        *numbers,
        Columns([[Table(ktab, digits={"count": 0, "share": 2})], [Heading("highest k", 4), Table(wtab, digits=2)]]),
        Paragraph("Point rows of the beta-binomial likelihood (variable yea) only; the interval-censored whip counts enter "
                  "as a Potential and have no pointwise log-likelihood."
                  + (f" {n_nan} rows have no finite k (a constant log-likelihood, e.g. a row with no or one voter)."
                     if n_nan else ""), small=True),
        _figure(_arviz.plot_khat(k), "Pareto k", "Pareto k per likelihood row."),
        Paragraph(f"Rule: reliable when {checks.LOO_RULE}; otherwise neither the ELPD nor any comparison built on it "
                  "is shown.", small=True),
    ]
    return blocks


def _pit_blocks(m, idata, seed: int) -> list:
    """Randomised PIT of the point rows' yea counts against their posterior predictive draws (seeded)."""
    pp = idata.get("posterior_predictive")
    if pp is None or "yea" not in pp:
        return [Note("No posterior predictive draws of 'yea' in this run: PIT skipped.")]
    draws = pp["yea"].transpose("chain", "draw", ...).values.reshape(-1, pp["yea"].shape[-1])
    u = checks.randomised_pit(m.model_data.obs_yea, draws, np.random.default_rng(seed))
    check, z, diff, half = checks.pit_verdict(u)
    return [
        Paragraph(f"**{check.line}.**"),
        Paragraph("The yea counts are discrete, so the plain (LOO-)PIT piles up at 0 and 1 even for a calibrated model and "
                  "is not shown. Instead, per row u ~ Uniform(F(y - 1), F(y)), F the row's posterior predictive ECDF "
                  f"(random seed {seed}); under a calibrated model u is uniform. A hump in the middle means over-dispersed "
                  f"predictions, U shape under-dispersed. Posterior predictive, not leave-one-out: {checks.IN_SAMPLE}.",
                  small=True),
        _figure(figures.pit(u, z, diff, half, prob=checks.PIT_BAND_PROB), "randomised PIT",
                f"Randomised PIT of {len(u)} point rows: histogram, and ECDF - uniform with its "
                f"{checks.PIT_BAND_PROB:.0%} simultaneous band (grey)."),
    ]


# --- prior predictive check ----------------------------------------------------------------------------


def _prior_idata(run: Run, out_dir: Path):
    """Prior predictive draws: the cache of an earlier report when it is of this model, else sampled and cached."""
    m = run.model
    for d in [p for p in (run.run_dir, out_dir) if p is not None]:
        f = Path(d) / PRIOR_CACHE
        if f.is_file():
            try:
                prior = _arviz.from_netcdf(f)
            except Exception:  # noqa: BLE001 - unreadable cache: resample
                continue
            if prior.attrs.get("model_id") == m.id and "prior_predictive" in prior and "yea_share" in prior.prior_predictive:
                n = prior.prior_predictive.sizes["draw"] * prior.prior_predictive.sizes["chain"]
                return prior, f"read from {f.name} ({n} draws)"
    seed = run.stored_diag.get("random_seed", m.spec["sampler"]["random_seed"])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # the whip-count intervals are a Potential (a likelihood term): irrelevant for prior draws
        warnings.filterwarnings("ignore", message=".*Potentials.*")
        prior = m.sample_prior_predictive(draws=PRIOR_DRAWS, random_seed=int(seed))
    note = f"sampled now ({PRIOR_DRAWS} draws, seed {seed}, {time.perf_counter() - t0:.1f} s)"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _arviz.to_netcdf(prior, out_dir / PRIOR_CACHE)
        note += f"; cached in {out_dir.name}/{PRIOR_CACHE} for the next report"
    except Exception:  # noqa: BLE001 - read-only directory: no cache
        pass
    return prior, note


def prior_section(ctx: Context) -> Section:
    run = ctx.run
    prior, source = _prior_idata(run, ctx.out_dir)
    md = run.model.model_data
    pp = prior.prior_predictive
    share = pp["yea_share"].values.reshape(-1, pp.sizes["obs"])
    q = np.quantile(share, [0.05, 0.5, 0.95], axis=0)
    observed = md.obs_yea / np.maximum(md.obs_n, 1)
    table = pd.DataFrame({"obs": pp["obs"].values, "share_q05": q[0], "share_median": q[1], "share_q95": q[2],
                          "observed_share": observed})
    inside = float(np.mean((observed >= q[0]) & (observed <= q[2])))
    extreme = float(np.mean((share < 0.05) | (share > 0.95)))
    blocks = [
        Paragraph("What the priors alone imply for the yea share of every likelihood row (simulated with the same "
                  "vote model as the posterior predictive)."),
        KeyValue([("prior draws", source), ("median of the rows' prior medians", float(np.median(q[1]))),
                  ("mean width of the 90% intervals", float(np.mean(q[2] - q[0]))),
                  ("observed shares inside their prior 90% interval", f"{inside:.0%}"),
                  ("prior draws with a share < 5% or > 95%", f"{extreme:.0%}")]),
        _figure(figures.prior_shares(table, share), "prior predictive yea shares"),
    ]
    post = run.idata.posterior
    rows = []
    for n in TOP_LEVEL:
        if n in post and n in prior.prior:
            pr = prior.prior[n].values.reshape(-1, size(post[n]))
            po = post[n].values.reshape(-1, size(post[n]))
            for i in range(po.shape[1]):
                rows.append((element_label(post[n], i), pr[:, i].mean(), pr[:, i].std(), po[:, i].mean(), po[:, i].std(),
                             1 - po[:, i].var() / max(pr[:, i].var(), 1e-12)))
    if rows:
        ct = pd.DataFrame(rows, columns=["parameter", "prior mean", "prior sd", "posterior mean", "posterior sd", "contraction"])
        blocks += [Heading("Prior to posterior: top-level parameters", anchor="prior-contraction"),
                   Paragraph("contraction = 1 - posterior variance / prior variance (near 0: the data say little).", small=True),
                   Table(ct, digits=2)]
    return Section(TITLES["prior"], "prior", blocks)


# --- Illustration 1 ------------------------------------------------------------------------------------


def _cut_draws(m, case: str) -> tuple[np.ndarray, np.ndarray]:
    """Per draw: the case's cut-point (sample,) and each actor's effective cut (sample, actor)."""
    post = m.idata.posterior
    md = m.model_data
    cut = post["cut_point"].sel(case=case).values.ravel()
    eff = np.repeat(cut[:, None], len(md.coords["actor"]), axis=1)
    if "party_tilt" in post:
        tilt = post["party_tilt"].sel(case=case).values.ravel()
        sign = np.where(md.faction_party == "R", 1.0, -1.0)
        eff[:, md.faction_actor_idx] = cut[:, None] + tilt[:, None] * sign[None, :]
    return cut, eff


def _paper_cases(m, ip: pd.DataFrame) -> tuple[list[dict], dict, list[str]]:
    """The paper's cases: figure panels, P(on the free-trade side) per actor, one summary line each."""
    md = m.model_data
    ideal = m.idata.posterior["ideal_point"].values.reshape(-1, len(md.coords["actor"]))
    cases, member_cols, lines = [], {}, []
    for case, title in PAPER_CASES:
        if case not in md.coords["case"]:
            continue
        cut, eff = _cut_draws(m, case)
        right = (ideal > eff).mean(axis=0)     # P(on the free-trade side of the cut-point)
        pro_yea = bool(md.case_polarity[md.coords["case"].index(case)] > 0)
        lo, hi = _arviz.hdi(cut, SUMMARY_PROB)
        party_cuts = {}
        for party in ("R", "D"):
            cols = md.faction_actor_idx[md.faction_party == party]
            if len(cols):
                party_cuts[party] = float(eff[:, cols[0]].mean())
        cases.append(dict(case_id=case, title=f"{title}\ncut-point {cut.mean():.2f} [{lo:.2f}, {hi:.2f}]",
                          cut_mean=float(cut.mean()), cut_lower=lo, cut_upper=hi, p_pro=right, pro_trade_yea=pro_yea,
                          party_cuts=party_cuts))
        member_cols[case] = right
        lines.append(f"{case}: cut-point {cut.mean():.2f} [{lo:.2f}, {hi:.2f}]; minimum winning coalition (P >= 0.5): "
                     + ", ".join(ip.loc[right >= 0.5, "actor_id"]) + "; deadlock coalition: "
                     + ", ".join(ip.loc[right < 0.5, "actor_id"]))
    return cases, member_cols, lines


PRIOR_ONLY = "[prior only]"


def actor_labels(ip: pd.DataFrame, width: int = 30) -> pd.Series:
    """Actor names for figures, marked "[prior only]" where the data do not identify the position."""
    names = ip["name"].astype(str)
    short = names.where(names.str.len() <= width, names.str.slice(0, width - 1) + "\u2026")
    marked = ~ip["identified_by_data"].astype(bool)
    return names.where(~marked, short + " " + PRIOR_ONLY)


def _prior_only_note(prior_only: pd.DataFrame, n: int) -> Paragraph:
    if prior_only.empty:
        return Paragraph(f"All {n} actors' positions are identified by the data (posterior contraction >= "
                         f"{CONTRACTION_IDENTIFIED}).", small=True)
    listing = ", ".join(f"{r.name} (contraction {r.contraction:.2f})" for r in prior_only.itertuples())
    return Paragraph(f"**{len(prior_only)} of {n} actors are not identified by the data** (posterior contraction = 1 - "
                     f"posterior variance / prior variance below {CONTRACTION_IDENTIFIED}: their positions are essentially "
                     f"their priors, marked {PRIOR_ONLY}): {listing}.")


def illustration_section(ctx: Context) -> Section:
    m = ctx.run.model
    md = m.model_data
    fitted = m.ideal_points(prob=SUMMARY_PROB)
    ip = fitted.assign(name=actor_labels(fitted))
    prior_only = fitted[~fitted["identified_by_data"].astype(bool)]
    blocks = [
        *ctx.provisional(),
        Paragraph("Actors on the anti-free-trade (-) / free-trade (+) axis, estimated from the votes (legislative factions) "
                  "and from the paper's placements as priors (other actors)."),
        _prior_only_note(prior_only, len(fitted)),
        _figure(figures.actor_axis(ip, prob=SUMMARY_PROB), "actors on the trade axis",
                f"{PRIOR_ONLY}: posterior contraction below {CONTRACTION_IDENTIFIED} (the position is still close to its "
                "prior)."),
        Details("Ideal points (table)", [Table(fitted.drop(columns=["actor_id"]), digits=2,
                                               flags=pd.DataFrame({"contraction": ~fitted["identified_by_data"].astype(bool)}))]),
    ]
    cases, member_cols, lines = _paper_cases(m, ip)
    if cases:
        mem = pd.DataFrame({"actor": ip["name"], "type": ip["type"], "contraction": fitted["contraction"]})
        for case, p in member_cols.items():
            mem[f"{case}: P(MWC)"] = p
            mem[f"{case}: P(deadlock)"] = 1 - p
        blocks += [
            Heading("The paper's cases: cut-point and coalitions", anchor="paper-cases"),
            Paragraph("P(in yes coalition) = P(ideal point > cut-point) on these pro-trade votes: the minimum winning "
                      "coalition are the actors right of the cut-point, the deadlock coalition those left of it "
                      "(P(deadlock) = 1 - P(minimum winning)). For legislative factions the party-specific cut-point "
                      "(cut-point \u00b1 the case's party tilt) is used, as in the likelihood."),
            BulletList(lines),
            _figure(figures.case_coalitions(ip, cases), "coalitions of the paper's cases"),
            Heading("Coalition membership probabilities", 4),
            Table(mem, digits=2, compact=True),
        ]
    s = _arviz.summary(ctx.run.idata, ["cut_point"], prob=SUMMARY_PROB, kind="hdi")
    outcome = ctx.approval.set_index("case_id").loc[md.coords["case"]]
    ct = pd.DataFrame({"case_id": md.coords["case"], "chamber": outcome["chamber"].to_numpy(),
                       "mean": s["mean"].to_numpy(), "lower": s["lower"].to_numpy(), "upper": s["upper"].to_numpy(),
                       "pro_trade_yea": md.case_polarity > 0,
                       "outcome_class": ["none" if pd.isna(p) else ("passed" if p else "failed")
                                         for p in outcome["observed_passed"]]})
    blocks += [Heading("Cut-points of every case", anchor="cut-points"),
               _figure(figures.cut_points(ct, prob=SUMMARY_PROB), "cut-points per case",
                       "A vote's yes coalition on a pro-trade motion is the set of actors right of its cut-point.")]
    return Section(TITLES["illustration"], "illustration", blocks)


# --- hypotheses and approval ------------------------------------------------------------------------------


def hypotheses_table(h: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hypotheses as shown: contraction beside P(hypothesised sign), which reads "not identified by the data
    (contraction c)" where the posterior barely moved from the prior; and the flags of those cells."""
    shown = pd.DataFrame({
        "hypothesis": h["hypothesis"], "sign": np.where(h["hypothesised_sign"] > 0, "+", "-"),
        "mean": h["mean"], "sd": h["sd"], "lower": h["lower"], "upper": h["upper"], "prior sd": h["prior_sd"],
        "BF10 (Savage-Dickey)": h["bayes_factor_10"], "contraction": h["contraction"],
        "P(hypothesised sign)": [checks.identification_text(p, c) for p, c in zip(h["p_hypothesised_sign"], h["contraction"])],
    })
    bad = ~h["identified_by_data"].astype(bool).to_numpy()
    return shown, pd.DataFrame({"contraction": bad, "BF10 (Savage-Dickey)": bad, "P(hypothesised sign)": bad})


def hypotheses_section(ctx: Context) -> Section:
    h = ctx.run.model.hypotheses(prob=SUMMARY_PROB)
    shown, flags = hypotheses_table(h)
    a = ctx.approval
    known = a.dropna(subset=["observed_passed"])
    obs = known["observed_passed"].astype(bool).to_numpy()
    brier = float(np.mean((known["p_pass"].to_numpy(float) - obs) ** 2)) if len(known) else float("nan")
    wrong = known[(known["p_pass"] >= 0.5) != obs]
    cols = ["case_id", "chamber", "vote_type", "p_pass", "yea_lower", "yea_upper", "observed_yea", "observed_outcome",
            "p_house", "p_senate", "p_enacted"]
    counts = {"yea_lower": 0, "yea_upper": 0, "observed_yea": 0}
    probs = {c: 2 for c in ("p_pass", "p_house", "p_senate", "p_enacted")}
    paper = a[a["case_id"].isin([c for c, _ in PAPER_CASES])][
        ["case_id", "p_pass", "yea_lower", "yea_upper", "observed_yea", "observed_outcome", "p_enacted"]]
    agenda_blocks = []
    if "p_floor" in a.columns:     # the agenda-control layer is on
        cols = cols + ["p_floor"]
        probs["p_floor"] = 2
        ag = ctx.run.model.agenda(prob=SUMMARY_PROB)
        agenda_blocks = [
            Paragraph("Agenda control is on (coalition/agenda.py): the leadership brings a pro-trade motion to the floor "
                      "only when its count clears a bar, so P(motion carries) below is P(carries | the vote is held), and "
                      "p_floor is the probability that a vote with its predicted count would have been held. Disapproval "
                      "resolutions (forced by statute) are exempt; the withdrawn 1997 fast-track bill enters as an event."),
            Table(ag.drop(columns=["meaning"]), digits={"mean": 4, "sd": 4, "lower": 4, "upper": 4, "prior_sd": 4,
                                                        "contraction": 2}),
        ]
    vb = ctx.run.model.vote_buying(prob=SUMMARY_PROB)
    if len(vb):                    # the vote-buying layer is on
        agenda_blocks += [
            Paragraph("Vote buying is on (coalition/buying.py): a leadership-controlled pro-trade vote that falls d yeas "
                      "short of its threshold is bought up to it with probability b(d) = buying_prob * exp(-(d - 1) / "
                      "(buying_reach * n)); P(motion carries) below includes the bought votes. Disapproval resolutions "
                      "are exempt."),
            Table(vb.drop(columns=["meaning"]), digits={"mean": 4, "sd": 4, "lower": 4, "upper": 4, "prior_sd": 4,
                                                        "contraction": 2}),
        ]
    return Section(TITLES["hypotheses"], "hypotheses", [
        *ctx.provisional(),
        Paragraph("Effects of the latent constructs on approval (positive = eases approval) with the posterior probability "
                  "of the hypothesised sign, beside the posterior contraction (1 - posterior variance / prior variance). "
                  f"Where the contraction is below {CONTRACTION_IDENTIFIED} the posterior is still mostly the prior, and "
                  "P(hypothesised sign) says little about the data: it reads \"not identified by the data\"."),
        _figure(figures.hypotheses(h, prob=SUMMARY_PROB), "hypotheses"),
        Paragraph("BF10: the Savage-Dickey Bayes factor of the effect against no effect (prior density at 0 over the "
                  "posterior's, from a kernel density estimate of the draws): above 1 the data moved the effect away from "
                  "0, below 1 toward it, near 1 they say little; it depends on the prior's width as much as on the data."),
        Table(shown, digits={"mean": 2, "sd": 2, "lower": 2, "upper": 2, "prior sd": 2, "contraction": 2,
                             "BF10 (Savage-Dickey)": 2}, flags=flags),
        Heading("Approval per case against the observed outcome", anchor="approval"),
        *ctx.provisional(),
        Paragraph(f"Brier score of P(motion carries) over {len(known)} decided votes ({checks.IN_SAMPLE}): {brier:.3f}; "
                  f"{len(wrong)} vote{'' if len(wrong) == 1 else 's'} on the wrong side of 0.5 (in sample)."),
        *agenda_blocks,
        Table(paper, digits=counts | probs),
        _figure(figures.approval(a), "approval probabilities", f"P(motion carries) per case, {checks.IN_SAMPLE}."),
        Details("Approval table", [Table(a[cols], digits=counts | probs)]),
        *threshold_blocks(ctx),
    ])


def threshold_blocks(ctx: Context) -> list:
    """Margins near the threshold, observed against the posterior predictive (CoalitionModel.threshold_check)."""
    t = ctx.run.model.threshold_check(prob=PREDICTIVE_PROB)
    agenda = ("with held votes replicated given that they are held (agenda control)" if t.attrs["agenda_control"]
              else "with votes short of the line bought up to it (vote buying)" if t.attrs.get("vote_buying")
              else "without agenda control or vote buying: a smooth count model, no strategy")
    text = (f"How many of the {t.attrs['n_votes']} counted votes end within 5 yeas of the yeas they needed, and how "
            f"many end 1 to 10 short, against the posterior predictive ({agenda}). p: mid-p value, "
            "P(T_rep > T_obs) + P(T_rep = T_obs) / 2; near 0 or 1 the model misses the pattern.")
    if t.attrs.get("unresolved", 0) > 0:
        text += f" {100 * t.attrs['unresolved']:.2f}% of held replicates accepted no candidate count (the last one stands)."
    table = t.rename(columns={"predictive_mean": "predictive mean", "p_value": "p"})
    a = ctx.approval
    k = a.attrs.get("minimum_winning_margin", 10)
    classes = a[["case_id", "chamber", "vote_type", "p_minimum_winning", "p_oversized", "p_deadlock", "observed_margin",
                 "observed_class"]]
    return [Heading("Margins near the threshold", anchor="threshold"), Paragraph(text),
            Table(table, digits={"predictive mean": 2, "lower": 0, "upper": 0, "p": 3}),
            Details(f"Outcome classes per case (minimum winning: carries with at most {k} yeas beyond those needed; "
                    "oversized: with more; deadlock: fails or is never brought to the floor)",
                    [Table(classes, digits={"p_minimum_winning": 2, "p_oversized": 2, "p_deadlock": 2,
                                            "observed_margin": 0})])]
