"""Self-contained diagnostic report of a run: ``report.html`` (figures embedded) and ``report.md``.

>>> from bayes_coalition.report.build import report
>>> report("reports/trade_coalition", "reports/trade_coalition")   # a run directory (posterior.nc)
>>> report(fitted_model, "out/")                                    # or a fitted CoalitionModel

Sections of a coalition run: run (spec, data, sampler, versions), convergence (per-variable
R-hat / ESS / MCSE, divergences, BFMI, tree depth, verdict, rank / trace / energy plots),
posterior predictive checks (per case and per party row, whip-count interval, PSIS-LOO,
LOO-PIT), prior predictive check, the estimated Illustration 1 (actors, cut-points,
coalition membership), hypotheses and approval.  An ideal-point run (``bayes-coalition
ideal-points``) gets run, convergence and ideal points (by party, held-out scores).

The HTML has no external references: inline CSS, PNG images as data URIs, no scripts.
Every ArviZ call goes through :mod:`bayes_coalition._arviz`.
"""

from __future__ import annotations

import html
import json
import math
import time
import traceback
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition import _arviz

from bayes_coalition import diagnostics
from bayes_coalition.report import figures as figs
from bayes_coalition.report.validation import section_validation

COALITION_TYPE = "bayes_coalition.CoalitionModel"
IDEAL_POINT_TYPE = "bayes_coalition.IdealPointModel"
PROB = 0.94            # interval probability of posterior summaries (HDI)
PPC_PROB = 0.95        # predictive intervals
PRIOR_DRAWS = 200
PAPER_CASES = (
    ("ft1997_h_whip", "Fast-track 1997, House (whip count)"),
    ("pntr_h", "PNTR 2000, House"),
    ("pntr_s", "PNTR 2000, Senate"),
)
TOP_LEVEL = ("cut_point_mean", "sigma_episode", "sigma_case", "sigma_party_tilt", "effect", "chamber_offset",
             "concentration", "type_shift")
IDEAL_TOP_LEVEL = ("party_location", "party_scale", "covariate_effect")
IDEAL_IDENTIFIED = ("ideal_point", "discrimination", "difficulty", "party_location", "party_scale", "covariate_effect")
MAX_RANK_ELEMENTS = 12
N_WORST = 8
N_TRACE = 4


# --- small HTML / Markdown helpers ----------------------------------------------------------


def _esc(text) -> str:
    """HTML-escape; '://' is broken up so no text can read as a network address."""
    return html.escape(str(text)).replace("://", ":&#8203;//")


def _fmt(x, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            return "-"
        x = float(x)
        if abs(x) >= 1000 or (x == int(x) and abs(x) >= 100):
            return f"{x:.0f}"
        return f"{x:.{digits}f}"
    if x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return str(x)


def _cell(x, digits: int) -> str:
    try:
        if pd.isna(x):
            return "-"
    except (TypeError, ValueError):
        pass
    return _fmt(x, digits)


def _table(df: pd.DataFrame, *, digits: int | dict = 3, bad: pd.DataFrame | None = None, cls: str = "") -> str:
    """An HTML table; ``bad`` (same shape, bool) marks cells to highlight."""
    cols = list(df.columns)
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    rows = []
    for i in range(len(df)):
        cells = []
        for j, c in enumerate(cols):
            d = digits.get(c, 3) if isinstance(digits, dict) else digits
            v = df.iat[i, j]
            mark = bad is not None and c in bad.columns and bool(bad.iat[i, list(bad.columns).index(c)])
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            klass = " ".join(k for k in ("num" if num else "", "bad" if mark else "") if k)
            cells.append(f"<td class=\"{klass}\">{_esc(_cell(v, d))}</td>" if klass else f"<td>{_esc(_cell(v, d))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class=\"{cls}\"><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _md_table(df: pd.DataFrame, digits: int | dict = 3) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(str(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for i in range(len(df)):
        vals = []
        for j, c in enumerate(cols):
            d = digits.get(c, 3) if isinstance(digits, dict) else digits
            vals.append(_cell(df.iat[i, j], d).replace("|", "/"))
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _kv(pairs) -> str:
    return "<table class=\"kv\">" + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_fmt(v))}</td></tr>" for k, v in pairs) + "</table>"


def _img(uri: str, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return f"<figure><img src=\"{uri}\" alt=\"{_esc(alt)}\">{cap}</figure>"


def _note(text: str, cls: str = "note") -> str:
    return f"<p class=\"{cls}\">{_esc(text)}</p>"


# --- run loading ----------------------------------------------------------------------------


@dataclass
class Run:
    kind: str                      # "coalition" or "ideal_points"
    run_dir: Path | None
    model: object | None = None     # CoalitionModel (coalition runs)
    idata: object | None = None
    stored_diag: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _netcdf_model_type(path: Path) -> str | None:
    """The model_type attribute of a saved run, read without loading the draws."""
    try:
        import h5netcdf

        with h5netcdf.File(str(path), "r") as f:
            value = f.attrs.get("model_type")
        if isinstance(value, bytes):
            value = value.decode()
        return None if value is None else str(value)
    except Exception:  # noqa: BLE001 - unreadable attrs: decide from the files
        return None


def load_run(run_or_model) -> Run:
    """A :class:`Run` from a fitted model or a run directory (or its posterior.nc)."""
    model_type = getattr(run_or_model, "model_type", None)
    if model_type == COALITION_TYPE:
        model = run_or_model
        model._require_fit()
        return Run("coalition", None, model=model, idata=model.idata, stored_diag=dict(model.diagnostics))
    if model_type == IDEAL_POINT_TYPE:
        run_or_model._require_fit()
        m = run_or_model
        files = {"ideal_points": m.ideal_points(prob=PROB)}
        try:
            files["holdout"] = m.holdout_scores()
        except ValueError:
            pass
        return Run("ideal_points", None, idata=m.idata, stored_diag=dict(m.diagnostics), files=files)
    path = Path(run_or_model)
    if path.is_file():
        path = path.parent
    if not path.is_dir():
        raise FileNotFoundError(f"run directory not found: {path}")
    nc = path / "posterior.nc"
    stored = _read_json(path / "diagnostics.json")
    mtype = _netcdf_model_type(nc) if nc.is_file() else None
    ip_csv = path / "ideal_points.csv"
    is_ideal = mtype == IDEAL_POINT_TYPE or (
        mtype is None and ip_csv.is_file() and "legislator_id" in ip_csv.read_text(encoding="utf-8").split("\n", 1)[0])
    if is_ideal:
        files = {}
        if ip_csv.is_file():
            files["ideal_points"] = pd.read_csv(ip_csv, dtype={"legislator_id": str, "party": str})
        if (path / "holdout.json").is_file():
            files["holdout"] = _read_json(path / "holdout.json")
        for extra in ("fit_statistics.json", "fit.json"):
            if (path / extra).is_file():
                files["fit_statistics"] = _read_json(path / extra)
        idata = _arviz.from_netcdf(nc) if nc.is_file() else None
        if idata is not None and not stored:
            stored = json.loads(idata.attrs.get("diagnostics", "{}") or "{}")
        return Run("ideal_points", path, idata=idata, stored_diag=stored, files=files)
    if not nc.is_file():
        raise FileNotFoundError(f"{path}: no posterior.nc (and no ideal_points.csv of an ideal-point run)")
    from bayes_coalition.coalition.model import CoalitionModel

    model = CoalitionModel.load(nc)
    diag = dict(model.diagnostics)
    if stored:
        diag.update({k: v for k, v in stored.items() if k in ("wall_seconds", "sampling_seconds")})
    return Run("coalition", path, model=model, idata=model.idata, stored_diag=diag)


# --- convergence -------------------------------------------------------------------------------


def _size(da: xr.DataArray) -> int:
    return int(np.prod([s for d, s in da.sizes.items() if d not in ("chain", "draw")], dtype=int))


def _finite(a) -> np.ndarray:
    a = np.asarray(a, dtype=float).ravel()
    return a[np.isfinite(a)]


def _agg(a, fn) -> float:
    a = _finite(a)
    return float(fn(a)) if a.size else float("nan")


def _element_label(da: xr.DataArray, flat: int) -> str:
    dims = [d for d in da.dims if d not in ("chain", "draw")]
    if not dims:
        return str(da.name)
    idx = np.unravel_index(flat, [da.sizes[d] for d in dims])
    labels = [str(da[d].values[i]) if d in da.coords else str(i) for d, i in zip(dims, idx)]
    return f"{da.name}[{','.join(labels)}]"


def _element_draws(post: xr.Dataset, picks: list[tuple[str, int]]) -> xr.Dataset:
    """Dataset of single scalar elements (chain, draw), named var[coord]."""
    out = {}
    for var, flat in picks:
        da = post[var]
        vals = da.values.reshape(da.shape[0], da.shape[1], -1)[:, :, flat]
        out[_element_label(da, flat)] = (("chain", "draw"), vals)
    return xr.Dataset(out, coords={"chain": post["chain"].values, "draw": post["draw"].values})


def _rank(ds: xr.Dataset):
    n = len(ds.data_vars)
    cols = min(4, n)
    rows = int(math.ceil(n / cols))
    return figs.tidy(_arviz.plot_rank_dataset(ds, grid=(rows, cols), figsize=(13, 1.9 * rows + 0.3)))


def convergence_tables(idata, verdict_vars: list[str]):
    """(per-variable table, diag dict for :func:`diagnostics.verdict`, element R-hat list, per-chain table)."""
    post = idata.posterior
    # unconstrained copies (name__) that some samplers store duplicate their constrained variables: left out
    names = [n for n in post.data_vars if not str(n).endswith("__") or n in set(verdict_vars)]
    chains = int(post.sizes["chain"])
    rhat = _arviz.rhat(idata, names) if chains > 1 else None
    ess_b = _arviz.ess(idata, names, "bulk")
    ess_t = _arviz.ess(idata, names, "tail")
    mcse = _arviz.mcse(idata, names)
    rows, elements = [], []
    verdict_set = set(verdict_vars)
    for n in names:
        r = rhat[n].values if rhat is not None else np.array([np.nan])
        rows.append({
            "variable": n,
            "role": "sampled" if n in verdict_set else "derived",
            "size": _size(post[n]),
            "max_rhat": _agg(r, np.max),
            "min_ess_bulk": _agg(ess_b[n].values, np.min),
            "min_ess_tail": _agg(ess_t[n].values, np.min),
            "max_mcse": _agg(mcse[n].values, np.max),
        })
        if rhat is not None and n in verdict_set:
            flat = np.asarray(r, dtype=float).ravel()
            elements += [(float(v), n, i) for i, v in enumerate(flat) if np.isfinite(v)]
    table = pd.DataFrame(rows)
    table["_order"] = (table["role"] != "sampled").astype(int)
    table = table.sort_values(["_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
    sampled = table[table["role"] == "sampled"]
    diag = {"chains": chains, "draws": int(post.sizes["draw"]),
            "max_rhat": _agg(sampled["max_rhat"], np.max) if chains > 1 else float("nan"),
            "min_ess_bulk": _agg(sampled["min_ess_bulk"], np.min),
            "min_ess_tail": _agg(sampled["min_ess_tail"], np.min)}
    stats = diagnostics.sampler_stats(idata)
    per_chain = stats.pop("per_chain")
    diag.update(stats)
    elements.sort(reverse=True)
    return table, diag, elements, per_chain


def _flags(table: pd.DataFrame) -> pd.DataFrame:
    t = diagnostics.THRESHOLDS
    return pd.DataFrame({
        "max R-hat": table["max_rhat"] > t["max_rhat"],
        "min ESS bulk": table["min_ess_bulk"] < t["min_ess_bulk"],
        "min ESS tail": table["min_ess_tail"] < t["min_ess_tail"],
    })


def _verdict_html(status: str, reasons: list[str]) -> str:
    t = diagnostics.THRESHOLDS
    rule = (f"thresholds: R-hat &le; {t['max_rhat']}, bulk and tail ESS &ge; {t['min_ess_bulk']:.0f}, "
            f"{t['divergences']} divergences, BFMI &ge; {t['min_bfmi']}")
    why = "" if not reasons else ": " + _esc("; ".join(reasons))
    return (f"<p class=\"verdict {status}\">Convergence verdict: <strong>{status.upper()}</strong>{why}</p>"
            f"<p class=\"small\">{rule}; fail = R-hat or divergences, warn = ESS or BFMI short.</p>")


def _section_convergence(run: Run, ctx: dict) -> tuple[str, str]:
    idata = run.idata
    if idata is None or "posterior" not in idata:
        status, reasons = diagnostics.verdict(run.stored_diag) if run.stored_diag else ("warn", ["no posterior to check"])
        ctx["verdict"] = (status, reasons)
        body = _verdict_html(status, reasons) + _note("posterior.nc missing: verdict from diagnostics.json only, no plots.")
        if run.stored_diag:
            body += _kv([(k, v) for k, v in run.stored_diag.items() if not isinstance(v, (list, dict))])
        return body, f"**Convergence: {status.upper()}**" + (" (" + "; ".join(reasons) + ")" if reasons else "")
    post = idata.posterior
    if run.kind == "coalition":
        verdict_vars = diagnostics.free_variable_names(idata)
    else:
        verdict_vars = [n for n in IDEAL_IDENTIFIED if n in post]
    table, diag, elements, per_chain = convergence_tables(idata, verdict_vars)
    status, reasons = diagnostics.verdict(diag)
    ctx["verdict"] = (status, reasons)
    ctx["diag"] = diag
    out = [_verdict_html(status, reasons)]
    basis = "sampled (free) variables" if run.kind == "coalition" else "identified quantities (" + ", ".join(verdict_vars) + ")"
    summary = [
        ("chains x draws", f"{diag['chains']} x {diag['draws']}"),
        ("max R-hat (rank-normalised)", diag["max_rhat"]),
        ("min bulk ESS", diag["min_ess_bulk"]),
        ("min tail ESS", diag["min_ess_tail"]),
        ("divergent transitions", diag.get("divergences")),
        ("min E-BFMI", diag.get("min_bfmi")),
        ("max tree depth", diag.get("max_tree_depth")),
        ("tree-depth saturation", None if diag.get("treedepth_saturated") is None else
         f"{diag['treedepth_saturated']} transitions ({diag['treedepth_saturated_share']:.1%}); rule: {diag['treedepth_rule']}"),
    ]
    out.append(f"<p>The verdict covers the {_esc(basis)}; derived quantities are listed for reference.</p>")
    out.append("<div class=\"cols\"><div>" + _kv(summary) + "</div><div><h4>per chain</h4>"
               + _table(per_chain, digits={"bfmi": 2, "mean_tree_depth": 2, "saturated_share": 3}) + "</div></div>")
    shown = table.rename(columns={"max_rhat": "max R-hat", "min_ess_bulk": "min ESS bulk", "min_ess_tail": "min ESS tail",
                                  "max_mcse": "max MCSE (mean)"})
    flags = _flags(table)
    flags[table["role"] != "sampled"] = False
    out.append("<h3 id=\"convergence-table\">R-hat, ESS and MCSE per variable</h3>")
    out.append("<p class=\"small\">Aggregated over each variable's elements: max R-hat, min bulk / tail ESS, max MCSE of the mean. "
               "Highlighted: a sampled variable missing a threshold. Unconstrained copies (name__) stored by the sampler are "
               "left out.</p>")
    out.append(_table(shown, digits={"max R-hat": 3, "min ESS bulk": 0, "min ESS tail": 0, "max MCSE (mean)": 4}, bad=flags, cls="compact"))

    # plots
    top = [n for n in (TOP_LEVEL if run.kind == "coalition" else IDEAL_TOP_LEVEL) if n in post]
    if not top:
        top = [n for n in verdict_vars if _size(post[n]) <= 4]
    picks = []
    for n in top:
        for i in range(_size(post[n])):
            if len(picks) < MAX_RANK_ELEMENTS:
                picks.append((n, i))
    if picks:
        ds = _element_draws(post, picks)
        out.append("<h3 id=\"rank-top\">Rank plots: top-level parameters</h3>")
        out.append(_img(figs.to_data_uri(_rank(ds)), "rank plots of top-level parameters",
                        "Rank histograms per chain should be flat and alike across chains."))
        few = ds[list(ds.data_vars)[:N_TRACE]]
        out.append("<h3 id=\"trace-top\">Trace plots: top-level parameters</h3>")
        out.append(_img(figs.to_data_uri(figs.tidy(_arviz.plot_trace_dataset(few, figsize=(13, 1.3 * len(few.data_vars) + 0.6)))),
                        "trace plots of top-level parameters",
                        f"The first {len(few.data_vars)} top-level elements: marginal density per chain and the draws."))
    taken = set(picks)
    worst = [(r, n, i) for r, n, i in elements if (n, i) not in taken][:N_WORST]
    if worst:
        ds = _element_draws(post, [(n, i) for _, n, i in worst])
        out.append("<h3 id=\"rank-worst\">Rank plots: the worst R-hat elements</h3>")
        listing = ", ".join(f"{_element_label(post[n], i)} ({r:.3f})" for r, n, i in worst)
        out.append(_img(figs.to_data_uri(_rank(ds)), "rank plots of the worst R-hat elements",
                        "Highest R-hat among the sampled elements (top-level parameters, shown above, left out): " + listing))
    stats = idata.get("sample_stats")
    if stats is not None and "energy" in stats:
        out.append("<h3 id=\"energy\">Energy</h3>")
        out.append(_img(figs.to_data_uri(figs.tidy(_arviz.plot_energy(idata))), "energy plot",
                        "Marginal energy vs energy transition: similar widths mean the sampler explores the tails (E-BFMI)."))
    md = [f"**Convergence: {status.upper()}**" + (" (" + "; ".join(reasons) + ")" if reasons else ""), "",
          f"chains x draws {diag['chains']} x {diag['draws']}; max R-hat {_fmt(diag['max_rhat'])}; min ESS bulk "
          f"{_fmt(diag['min_ess_bulk'], 0)} / tail {_fmt(diag['min_ess_tail'], 0)}; divergences {_fmt(diag.get('divergences'))}; "
          f"min BFMI {_fmt(diag.get('min_bfmi'), 2)}; tree-depth saturated {_fmt(diag.get('treedepth_saturated'))}", "",
          _md_table(shown, digits={"max R-hat": 3, "min ESS bulk": 0, "min ESS tail": 0, "max MCSE (mean)": 4})]
    return "\n".join(out), "\n".join(md)


# --- coalition sections ------------------------------------------------------------------------------


def _section_run_coalition(run: Run, ctx: dict) -> tuple[str, str]:
    from bayes_coalition.coalition.model import package_versions

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
        ("sampling time (s)", d.get("sampling_seconds", wall)), ("wall time of the fit command (s)", wall if "sampling_seconds" in d else None),
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
    out = ["<div class=\"cols\"><div><h3>Model</h3>" + _kv(model_rows) + "<h3>Sampler</h3>" + _kv(sampler) + "</div>",
           "<div><h3>Data</h3>" + _kv(data) + "<h3>Package versions</h3>" + _table(versions) + "</div></div>",
           "<details><summary>Priors (spec [priors])</summary>" + _table(priors) + "</details>",
           "<details><summary>Full spec (JSON)</summary><pre>" + _esc(json.dumps({k: v for k, v in spec.items() if k != "_source"}, indent=2)) + "</pre></details>",
           "<details><summary>Data summary</summary><pre>" + _esc(ds.summary()) + "</pre></details>"]
    md_lines = [f"- spec: {spec['model'].get('name')} (model id {m.id}, version {m.version})"]
    md_lines += [f"- {k}: {_fmt(v)}" for k, v in data]
    md_lines += [f"- {k}: {_fmt(v)}" for k, v in sampler if v is not None]
    md_lines.append("- versions: " + ", ".join(f"{r['package']} {r['at fit'] if pd.notna(r['at fit']) else r['at report']}"
                                                for _, r in versions.iterrows()))
    return "\n".join(out), "\n".join(md_lines)


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


def _section_ppc(run: Run, ctx: dict) -> tuple[str, str]:
    m = run.model
    idata = run.idata
    if "posterior_predictive" not in idata:
        m.posterior_predictive()
    pc = m.predictive_check(prob=PPC_PROB)
    a = ctx.setdefault("approval", m.approval(prob=PPC_PROB))
    chamber_of = dict(zip(a["case_id"], a["chamber"]))
    whip = _whip_intervals(m)
    n_ok = int(pc["consistent"].sum())
    out = [f"<p>{n_ok} of {len(pc)} likelihood rows ({n_ok / max(len(pc), 1):.0%}) have the observed yea count (or the "
           f"whip-count interval) inside / overlapping the {PPC_PROB:.0%} posterior predictive interval.</p>"]
    out.append("<h3 id=\"ppc-cases\">Per case</h3>")
    out.append(_img(figs.to_data_uri(figs.ppc_cases(a, whip, prob=PPC_PROB)), "predicted vs observed yea per case",
                    f"Total yea count per case: {PPC_PROB:.0%} posterior predictive interval against the observed count."))
    out.append("<h3 id=\"ppc-party\">Per chamber and party</h3>")
    out.append(_img(figs.to_data_uri(figs.ppc_rows(pc, chamber_of, title=f"{PPC_PROB:.0%} posterior predictive interval per likelihood row")),
                    "predicted vs observed yea per party row"))
    bad = pc[~pc["consistent"].astype(bool)]
    if len(bad):
        out.append(f"<details><summary>{len(bad)} rows outside their predictive interval</summary>"
                   + _table(bad, digits=0) + "</details>")
    out.append("<details><summary>All rows</summary>" + _table(pc, digits=0) + "</details>")

    # censored whip-count evidence
    md = m.model_data
    panels = []
    pp = idata.posterior_predictive
    for j, label in enumerate(md.coords["interval_obs"]):
        if "interval_yea" in pp:
            draws = pp["interval_yea"].sel(interval_obs=label).values
            panels.append((label, draws, float(md.int_lower[j]), float(md.int_upper[j])))
    for _, r in md.checks.iterrows():
        if "case_yea" in pp:
            panels.append((f"{r['case_id']}:ALL", pp["case_yea"].sel(case=r["case_id"]).values, float(r["yea_lower"]), float(r["yea_upper"])))
    if panels:
        out.append("<h3 id=\"ppc-whip\">Censored whip-count evidence</h3>")
        out.append("<p>The 1997 fast-track bill never reached a House vote; the whip counts enter the likelihood as "
                   "interval-censored yea counts (the chamber total only as a check).</p>")
        out.append(_img(figs.to_data_uri(figs.whip_evidence(panels)), "whip-count intervals",
                        "Posterior predictive yea counts (histogram) against the whip-count interval (shaded)."))
    md_lines = [f"{n_ok}/{len(pc)} likelihood rows consistent with the {PPC_PROB:.0%} predictive interval."]

    # LOO
    out.append("<h3 id=\"loo\">PSIS-LOO</h3>")
    ll = idata.get("log_likelihood")
    if ll is not None and "yea" in ll:
        res = _arviz.loo(idata, "yea")
        k = res["pareto_k"]
        labels = list(ll["yea"]["obs"].values) if "obs" in ll["yea"].coords else [str(i) for i in range(len(k))]
        bins = [("good (k <= 0.5)", k <= 0.5), ("ok (0.5 < k <= 0.7)", (k > 0.5) & (k <= 0.7)),
                ("bad (0.7 < k <= 1)", (k > 0.7) & (k <= 1)), ("very bad (k > 1)", k > 1)]
        ktab = pd.DataFrame({"Pareto k": [b for b, _ in bins], "count": [int(s.sum()) for _, s in bins],
                             "share": [float(s.mean()) for _, s in bins]})
        worst = np.argsort(-np.where(np.isfinite(k), k, -np.inf), kind="stable")[:8]
        wtab = pd.DataFrame({"row": [labels[i] for i in worst], "Pareto k": k[worst]})
        out.append(_kv([("ELPD (LOO)", res["elpd"]), ("SE", res["se"]), ("p_loo", res["p_loo"]),
                        ("ArviZ warning (high k)", res["warning"])]))
        out.append("<div class=\"cols\"><div>" + _table(ktab, digits={"count": 0, "share": 2}) + "</div><div><h4>highest k</h4>"
                   + _table(wtab, digits=2) + "</div></div>")
        n_nan = int((~np.isfinite(k)).sum())
        out.append("<p class=\"small\">Point rows of the beta-binomial likelihood (variable yea) only; the interval-censored "
                   "whip counts enter as a Potential and have no pointwise log-likelihood."
                   + (f" {n_nan} rows have no finite k (a constant log-likelihood, e.g. a row with no or one voter)." if n_nan else "")
                   + "</p>")
        out.append(_img(figs.to_data_uri(_arviz.plot_khat(k)), "Pareto k", "Pareto k per likelihood row."))
        md_lines += ["", f"LOO: ELPD {res['elpd']:.1f} (SE {res['se']:.1f}), p_loo {res['p_loo']:.1f}; "
                     + ", ".join(f"{b}: {int(s.sum())}" for b, s in bins)]
        try:
            out.append("<h3 id=\"loo-pit\">LOO-PIT</h3>")
            out.append(_img(figs.to_data_uri(_arviz.plot_loo_pit(idata, "yea")), "LOO-PIT",
                            "LOO-PIT ECDF difference with its simultaneous band; the counts are discrete, so expect "
                            "mild departures from uniformity even for a well-calibrated model."))
        except Exception as err:  # noqa: BLE001 - optional plot
            figs.close_all()
            out.append(_note(f"LOO-PIT not available: {err}"))
    else:
        out.append(_note("No log_likelihood group for 'yea' in this run: LOO skipped (fit with log_likelihood=True)."))
        md_lines.append("LOO: no log_likelihood group")
    return "\n".join(out), "\n".join(md_lines)


def _prior_idata(run: Run, out_dir: Path, ctx: dict):
    m = run.model
    for d in [p for p in (run.run_dir, out_dir) if p is not None]:
        f = Path(d) / "prior.nc"
        if f.is_file():
            try:
                prior = _arviz.from_netcdf(f)
            except Exception:  # noqa: BLE001 - unreadable cache: resample
                continue
            if prior.attrs.get("model_id") == m.id and "prior_predictive" in prior and "yea_share" in prior.prior_predictive:
                return prior, f"read from {f.name} ({prior.prior_predictive.sizes['draw'] * prior.prior_predictive.sizes['chain']} draws)"
    seed = run.stored_diag.get("random_seed", m.spec["sampler"]["random_seed"])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # the whip-count intervals are a Potential (a likelihood term): irrelevant for prior draws
        warnings.filterwarnings("ignore", message=".*Potentials.*")
        prior = m.sample_prior_predictive(draws=PRIOR_DRAWS, random_seed=int(seed))
    note = f"sampled now ({PRIOR_DRAWS} draws, seed {seed}, {time.perf_counter() - t0:.1f} s)"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _arviz.to_netcdf(prior, out_dir / "prior.nc")
        note += f"; cached in {out_dir.name}/prior.nc for the next report"
    except Exception:  # noqa: BLE001 - read-only directory: no cache
        pass
    return prior, note


def _section_prior(run: Run, ctx: dict) -> tuple[str, str]:
    m = run.model
    prior, source = _prior_idata(run, ctx["out_dir"], ctx)
    md = m.model_data
    pp = prior.prior_predictive
    share = pp["yea_share"].values.reshape(-1, pp.sizes["obs"])
    q = np.quantile(share, [0.05, 0.5, 0.95], axis=0)
    observed = md.obs_yea / np.maximum(md.obs_n, 1)
    table = pd.DataFrame({"obs": pp["obs"].values, "share_q05": q[0], "share_median": q[1], "share_q95": q[2],
                          "observed_share": observed})
    inside = float(np.mean((observed >= q[0]) & (observed <= q[2])))
    extreme = float(np.mean((share < 0.05) | (share > 0.95)))
    rows = [("prior draws", source), ("median of the rows' prior medians", float(np.median(q[1]))),
            ("mean width of the 90% intervals", float(np.mean(q[2] - q[0]))),
            ("observed shares inside their prior 90% interval", f"{inside:.0%}"),
            ("prior draws with a share < 5% or > 95%", f"{extreme:.0%}")]
    out = ["<p>What the priors alone imply for the yea share of every likelihood row (simulated with the same "
           "vote model as the posterior predictive).</p>", _kv(rows)]
    out.append(_img(figs.to_data_uri(figs.prior_shares(table, share)), "prior predictive yea shares"))
    # prior -> posterior contraction of the top-level parameters
    post = run.idata.posterior
    rows = []
    for n in TOP_LEVEL:
        if n in post and n in prior.prior:
            pr = prior.prior[n].values.reshape(-1, _size(post[n]))
            po = post[n].values.reshape(-1, _size(post[n]))
            for i in range(po.shape[1]):
                rows.append((_element_label(post[n], i), pr[:, i].mean(), pr[:, i].std(), po[:, i].mean(), po[:, i].std(),
                             1 - po[:, i].var() / max(pr[:, i].var(), 1e-12)))
    if rows:
        ct = pd.DataFrame(rows, columns=["parameter", "prior mean", "prior sd", "posterior mean", "posterior sd", "contraction"])
        out.append("<h3 id=\"prior-contraction\">Prior to posterior: top-level parameters</h3>"
                   "<p class=\"small\">contraction = 1 - posterior variance / prior variance (near 0: the data say little).</p>"
                   + _table(ct, digits=2))
    md_lines = [f"prior predictive ({source}): observed shares inside the prior 90% interval {inside:.0%}; "
                f"mean 90% width {np.mean(q[2] - q[0]):.2f}"]
    return "\n".join(out), "\n".join(md_lines)


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


def _section_illustration(run: Run, ctx: dict) -> tuple[str, str]:
    m = run.model
    md = m.model_data
    post = run.idata.posterior
    ip = m.ideal_points(prob=PROB)
    out = ["<p>Actors on the anti-free-trade (-) / free-trade (+) axis, estimated from the votes (legislative factions) "
           "and from the paper's placements as priors (other actors).</p>"]
    out.append(_img(figs.to_data_uri(figs.actor_axis(ip, prob=PROB)), "actors on the trade axis"))
    out.append("<details><summary>Ideal points (table)</summary>" + _table(ip.drop(columns=["actor_id"]), digits=2) + "</details>")

    ideal = post["ideal_point"].values.reshape(-1, len(md.coords["actor"]))
    cases = []
    member_cols = {}
    md_lines = []
    a = ctx.setdefault("approval", m.approval(prob=PPC_PROB))
    for case, title in PAPER_CASES:
        if case not in md.coords["case"]:
            continue
        cut, eff = _cut_draws(m, case)
        right = (ideal > eff).mean(axis=0)     # P(on the free-trade side of the cut-point)
        pro_yea = bool(md.case_polarity[md.coords["case"].index(case)] > 0)
        lo, hi = _arviz.hdi(cut, PROB)
        party_cuts = {}
        for party in ("R", "D"):
            cols = md.faction_actor_idx[md.faction_party == party]
            if len(cols):
                party_cuts[party] = float(eff[:, cols[0]].mean())
        cases.append(dict(case_id=case, title=f"{title}\ncut-point {cut.mean():.2f} [{lo:.2f}, {hi:.2f}]",
                          cut_mean=float(cut.mean()), cut_lower=lo, cut_upper=hi, p_pro=right, pro_trade_yea=pro_yea,
                          party_cuts=party_cuts))
        member_cols[case] = right
        md_lines.append(f"- {case}: cut-point {cut.mean():.2f} [{lo:.2f}, {hi:.2f}]; minimum winning coalition (P >= 0.5): "
                        + ", ".join(ip.loc[right >= 0.5, "actor_id"]) + "; deadlock coalition: " + ", ".join(ip.loc[right < 0.5, "actor_id"]))
    if cases:
        out.append("<h3 id=\"paper-cases\">The paper's cases: cut-point and coalitions</h3>")
        out.append("<p>P(in yes coalition) = P(ideal point &gt; cut-point) on these pro-trade votes: the minimum winning "
                   "coalition are the actors right of the cut-point, the deadlock coalition those left of it "
                   "(P(deadlock) = 1 - P(minimum winning)). For legislative factions the party-specific cut-point "
                   "(cut-point &plusmn; the case's party tilt) is used, as in the likelihood.</p>")
        out.append(_img(figs.to_data_uri(figs.case_coalitions(ip, cases)), "coalitions of the paper's cases"))
        mem = pd.DataFrame({"actor": ip["name"], "type": ip["type"]})
        for case, p in member_cols.items():
            mem[f"{case}: P(MWC)"] = p
            mem[f"{case}: P(deadlock)"] = 1 - p
        ctx["membership"] = mem
        out.append("<h4>Coalition membership probabilities</h4>" + _table(mem, digits=2, cls="compact"))
    # all cut-points
    s = _arviz.summary(run.idata, ["cut_point"], prob=PROB, kind="hdi")
    outcome = a.set_index("case_id").loc[md.coords["case"]]
    ct = pd.DataFrame({"case_id": md.coords["case"], "chamber": outcome["chamber"].to_numpy(),
                       "mean": s["mean"].to_numpy(), "lower": s["lower"].to_numpy(), "upper": s["upper"].to_numpy(),
                       "pro_trade_yea": md.case_polarity > 0,
                       "outcome_class": ["none" if pd.isna(p) else ("passed" if p else "failed") for p in outcome["observed_passed"]]})
    out.append("<h3 id=\"cut-points\">Cut-points of every case</h3>")
    out.append(_img(figs.to_data_uri(figs.cut_points(ct, prob=PROB)), "cut-points per case",
                    "A vote's yes coalition on a pro-trade motion is the set of actors right of its cut-point."))
    return "\n".join(out), "\n".join(md_lines)


def _section_hypotheses(run: Run, ctx: dict) -> tuple[str, str]:
    m = run.model
    h = m.hypotheses(prob=PROB)
    a = ctx.setdefault("approval", m.approval(prob=PPC_PROB))
    out = ["<p>Effects of the latent constructs on approval (positive = eases approval) with the posterior probability "
           "of the hypothesised sign.</p>"]
    out.append(_img(figs.to_data_uri(figs.hypotheses(h, prob=PROB)), "hypotheses"))
    out.append(_table(h, digits={"hypothesised_sign": 0, "mean": 2, "sd": 2, "lower": 2, "upper": 2, "p_hypothesised_sign": 2}))
    known = a.dropna(subset=["observed_passed"])
    obs = known["observed_passed"].astype(bool).to_numpy()
    brier = float(np.mean((known["p_pass"].to_numpy(float) - obs) ** 2)) if len(known) else float("nan")
    wrong = known[(known["p_pass"] >= 0.5) != obs]
    out.append("<h3 id=\"approval\">Approval per case against the observed outcome</h3>")
    out.append(f"<p>Brier score of P(motion carries) over {len(known)} decided votes: {brier:.3f}; "
               f"{len(wrong)} votes on the wrong side of 0.5.</p>")
    out.append(_img(figs.to_data_uri(figs.approval(a)), "approval probabilities"))
    cols = ["case_id", "chamber", "vote_type", "p_pass", "yea_lower", "yea_upper", "observed_yea", "observed_outcome",
            "p_house", "p_senate", "p_enacted"]
    out.append("<details><summary>Approval table</summary>" + _table(a[cols], digits={"yea_lower": 0, "yea_upper": 0, "observed_yea": 0, "p_pass": 2, "p_house": 2, "p_senate": 2, "p_enacted": 2}) + "</details>")
    paper = a[a["case_id"].isin([c for c, _ in PAPER_CASES])][["case_id", "p_pass", "yea_lower", "yea_upper", "observed_yea", "observed_outcome", "p_enacted"]]
    md_lines = [_md_table(h[["construct", "hypothesised_sign", "mean", "lower", "upper", "p_hypothesised_sign"]], digits=2), "",
                f"approval: Brier {brier:.3f} over {len(known)} decided votes; {len(wrong)} on the wrong side of 0.5", "",
                _md_table(paper, digits={"p_pass": 2, "yea_lower": 0, "yea_upper": 0, "observed_yea": 0, "p_enacted": 2})]
    return "\n".join(out), "\n".join(md_lines)


# --- ideal-point sections ------------------------------------------------------------------------------


def _section_run_ideal(run: Run, ctx: dict) -> tuple[str, str]:
    from bayes_coalition.coalition.model import package_versions

    d = run.stored_diag
    attrs = dict(run.idata.attrs) if run.idata is not None else {}
    options = json.loads(attrs.get("options", "{}") or "{}")
    keys = ("n_legislators", "n_rollcalls", "n_cells", "n_heldout_cells", "lopsided_rollcalls", "low_activity_legislators",
            "sampler", "chains", "draws", "tune", "random_seed", "wall_seconds", "orientation", "chains_flipped", "link")
    rows = [("model", attrs.get("model_type", IDEAL_POINT_TYPE)), ("source", attrs.get("source", "-")),
            ("run directory", str(run.run_dir) if run.run_dir else "(in-memory model)")]
    rows += [(k, d[k]) for k in keys if k in d]
    out = [_kv(rows)]
    if options:
        out.append("<details><summary>Model options</summary><pre>" + _esc(json.dumps(options, indent=2)) + "</pre></details>")
    out.append("<h3>Package versions (report)</h3>" + _table(pd.DataFrame(list(package_versions().items()), columns=["package", "version"])))
    return "\n".join(out), "\n".join(f"- {k}: {_fmt(v)}" for k, v in rows)


def _section_ideal_points(run: Run, ctx: dict) -> tuple[str, str]:
    ip = run.files.get("ideal_points")
    if ip is None and run.idata is not None and "ideal_point" in run.idata.posterior:
        s = _arviz.summary(run.idata, ["ideal_point"], prob=PROB, kind="hdi")
        leg = run.idata.posterior["ideal_point"]
        dim = [d for d in leg.dims if d not in ("chain", "draw")][0]
        party = (run.idata.constant_data["party"].values if "constant_data" in run.idata and "party" in run.idata.constant_data
                 else [None] * len(s))
        ip = pd.DataFrame({"legislator_id": [str(v) for v in leg[dim].values], "party": party, "mean": s["mean"].to_numpy(),
                           "sd": s["sd"].to_numpy(), "lower": s["lower"].to_numpy(), "upper": s["upper"].to_numpy()})
    out, md_lines = [], []
    if ip is not None:
        party = ip["party"].fillna("(none)").astype(str)
        by = ip.assign(party=party, width=ip["upper"] - ip["lower"]).groupby("party").agg(
            legislators=("mean", "size"), mean=("mean", "mean"), min=("mean", "min"), max=("mean", "max"),
            mean_interval_width=("width", "mean")).reset_index()
        out.append("<p>Identified ideal points (location and scale fixed per draw, sign aligned) with their intervals, "
                   "by party.</p>")
        out.append(_img(figs.to_data_uri(figs.ideal_points_by_party(ip)), "ideal points by party"))
        out.append(_table(by, digits={"legislators": 0, "mean": 2, "min": 2, "max": 2, "mean_interval_width": 2}))
        out.append("<details><summary>All legislators</summary>" + _table(ip.sort_values("mean"), digits=2) + "</details>")
        md_lines.append(_md_table(by, digits=2))
    else:
        out.append(_note("No ideal_points.csv and no ideal_point draws in this run."))
    hold = run.files.get("holdout")
    out.append("<h3 id=\"holdout\">Held-out cells</h3>")
    if hold:
        out.append(_kv([(k, v) for k, v in hold.items() if not isinstance(v, (list, dict))]))
        md_lines += ["", "held-out: " + ", ".join(f"{k} {_fmt(v)}" for k, v in hold.items() if not isinstance(v, (list, dict)))]
    else:
        out.append(_note("No holdout.json: the run held no cells out."))
    fit = run.files.get("fit_statistics")
    if fit:
        out.append("<h3>In-sample fit</h3>" + _kv([(k, v) for k, v in fit.items() if not isinstance(v, (list, dict))]))
    return "\n".join(out), "\n".join(md_lines)


# --- assembly ----------------------------------------------------------------------------------------------

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
main{max-width:1320px;margin:0 auto;padding:0 24px 40px;background:#fff}
header{padding:18px 0 6px;border-bottom:2px solid #ddd}
h1{font-size:1.6em;margin:0 0 6px}h2{font-size:1.3em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:34px}
h3{font-size:1.08em;margin-top:22px}h4{margin:10px 0 4px}
nav{background:#f3f3f3;border:1px solid #e0e0e0;padding:8px 16px;margin:14px 0}
nav ol{margin:4px 0;padding-left:22px;columns:2}nav a{color:#1f5fa8;text-decoration:none}
table{border-collapse:collapse;font-size:0.86em;margin:6px 0 10px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}th{background:#f1f1f1}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.bad{background:#fbd3d0;font-weight:bold}
table.kv th{width:15em;font-weight:normal;color:#555}table.compact{font-size:0.8em}
figure{margin:10px 0 18px}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.85em;color:#555}
.verdict{font-size:1.15em;padding:8px 12px;border-radius:4px;margin:10px 0 4px}
.verdict.pass{background:#d9f0d3;border:1px solid #5aae61}.verdict.warn{background:#fee8c8;border:1px solid #f4a582}
.verdict.fail{background:#fbd3d0;border:1px solid #d6604d}
.small{font-size:0.85em;color:#555}.note{color:#7a5b00;background:#fff7e0;padding:4px 8px}
.section-error{color:#900;background:#fdd;padding:6px 8px;white-space:pre-wrap;font-family:monospace;font-size:0.8em}
.cols{display:flex;gap:28px;flex-wrap:wrap}.cols>div{flex:1 1 420px;min-width:0;overflow-x:auto}
details{margin:8px 0}summary{cursor:pointer;color:#1f5fa8}pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:0.8em}
footer{color:#777;font-size:0.8em;margin-top:30px}
"""

SECTIONS = {
    "coalition": [
        ("run", "Run: spec, data, sampler, versions", _section_run_coalition),
        ("convergence", "Convergence", _section_convergence),
        ("ppc", "Posterior predictive checks and LOO", _section_ppc),
        ("prior", "Prior predictive check", _section_prior),
        ("illustration", "Illustration 1: actors, cut-points and coalitions", _section_illustration),
        ("hypotheses", "Hypotheses and approval", _section_hypotheses),
        ("validation", "Validation: calibration, backtest, model comparison", section_validation),
    ],
    "ideal_points": [
        ("run", "Run: data, sampler, versions", _section_run_ideal),
        ("convergence", "Convergence", _section_convergence),
        ("ideal-points", "Ideal points by party and held-out scores", _section_ideal_points),
    ],
}


def report(run_or_model, out_dir, validation: dict | None = None) -> Path:
    """Build ``out_dir/report.html`` (self-contained) and ``out_dir/report.md``; returns the HTML path.

    ``run_or_model`` is a run directory (with ``posterior.nc`` from :meth:`CoalitionModel.save`,
    or the files of an ideal-point run) or a fitted model.  ``validation`` maps "sbc",
    "ideal_points_sbc", "backtest", "compare" to the output folders of those commands
    (default: the run directory's siblings, see :mod:`bayes_coalition.report.validation`).
    """
    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    run = load_run(run_or_model)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx: dict = {"out_dir": out_dir, "validation": validation}
    parts, md_parts, timings, errors = [], [], [], []
    toc = []
    for i, (sid, title, fn) in enumerate(SECTIONS[run.kind], start=1):
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=matplotlib.MatplotlibDeprecationWarning)
                body, md = fn(run, ctx)
        except Exception as err:  # noqa: BLE001 - one broken section must not lose the report
            figs.close_all()
            errors.append(f"{sid}: {type(err).__name__}: {err}")
            body = f"<div class=\"section-error\">This section could not be rendered:\n{_esc(traceback.format_exc())}</div>"
            md = f"(section failed: {type(err).__name__}: {err})"
        timings.append((sid, time.perf_counter() - t0))
        toc.append(f"<li><a href=\"#{sid}\">{_esc(title)}</a></li>")
        parts.append(f"<section id=\"{sid}\"><h2>{i}. {_esc(title)}</h2>\n{body}\n</section>")
        md_parts.append(f"## {i}. {title}\n\n{md}\n")
    status, reasons = ctx.get("verdict", ("warn", ["convergence not assessed"]))
    total = time.perf_counter() - t_start
    name = (run.model.spec["model"].get("name") if run.model is not None else
            (run.run_dir.name if run.run_dir is not None else "ideal points"))
    kind = "coalition model" if run.kind == "coalition" else "ideal-point model"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    timing = ", ".join(f"{s} {t:.1f} s" for s, t in timings)
    verdict_line = f"Convergence: {status.upper()}" + (" (" + "; ".join(reasons) + ")" if reasons else "")
    doc = [
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>{_esc(name)}: diagnostic report</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>{_esc(name)}: diagnostic report ({_esc(kind)})</h1>",
        f"<p class=\"verdict {status}\" id=\"verdict\">{_esc(verdict_line)}</p>",
        f"<p class=\"small\">generated {stamp} by bayes_coalition.report.build"
        + (f" from {_esc(run.run_dir)}" if run.run_dir else "") + "</p></header>",
        "<nav id=\"toc\"><strong>Contents</strong><ol>" + "".join(toc) + "</ol></nav>",
        *parts,
        f"<footer>Report generated in {total:.1f} s ({_esc(timing)}). Intervals: posterior {PROB:.0%} HDI; predictive "
        f"{PPC_PROB:.0%} central intervals. Self-contained: no scripts, fonts or external resources.</footer>",
        "</main></body></html>",
    ]
    html_path = out_dir / "report.html"
    html_path.write_text("\n".join(doc), encoding="utf-8")
    md_doc = [f"# {name}: diagnostic report ({kind})", "", f"**{verdict_line}**", "",
              f"generated {stamp}" + (f" from {run.run_dir}" if run.run_dir else ""), "", *md_parts,
              f"_report generated in {total:.1f} s ({timing})_"]
    if errors:
        md_doc.insert(4, "sections that failed: " + "; ".join(errors) + "\n")
    (out_dir / "report.md").write_text("\n".join(md_doc) + "\n", encoding="utf-8")
    report.last_timings = {"total": total, **dict(timings)}  # type: ignore[attr-defined]
    report.last_errors = errors  # type: ignore[attr-defined]
    return html_path


__all__ = ["report", "load_run", "convergence_tables", "Run"]
