"""The report's validation section: SBC, rolling-origin backtest, hypothesis comparison.

Each part reads the files its command writes (``bayes-coalition sbc``, ``backtest``,
``compare``); by default from the run directory's siblings ``<name>_sbc``,
``<name>_backtest``, ``<name>_hypotheses`` and ``ideal_points_sbc`` (the commands'
default output folders), or from the folders passed to :func:`bayes_coalition.report.build`.
A part whose files are missing says which command makes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bayes_coalition.report import figures as figs
from bayes_coalition.validation.sbc_stats import ecdf_band

KINDS = ("sbc", "ideal_points_sbc", "backtest", "compare")


def default_dirs(run_dir: Path | None, name: str) -> dict:
    if run_dir is None:
        return {}
    base = Path(run_dir).parent
    return {"sbc": base / f"{name}_sbc", "ideal_points_sbc": base / "ideal_points_sbc",
            "backtest": base / f"{name}_backtest", "compare": base / f"{name}_hypotheses"}


def _json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _helpers():
    """The report's table and figure helpers (imported late: report.py imports this module)."""
    import importlib

    report = importlib.import_module("bayes_coalition.report.build")   # the module (the package exports the function)
    return report._table, report._md_table, report._img, report._note, report._esc


# --- figures -------------------------------------------------------------------------------------


def sbc_ecdf_figure(ranks: pd.DataFrame, *, prob: float = 0.99):
    """Per parameter group: ECDF of each scalar's fractional ranks minus the uniform, with the
    simultaneous ``prob`` band for one scalar; a calibrated scalar stays inside."""
    ranks = ranks.assign(group=ranks["parameter"].str.split("[", regex=False).str[0])
    groups = list(dict.fromkeys(ranks["group"]))
    n_sims = int(ranks["simulation"].nunique())
    n_draws = int(ranks["n_draws"].max())
    z, half = ecdf_band(n_sims, n_draws, prob=prob)
    ncol = 4
    nrow = int(np.ceil(len(groups) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 2.1 * nrow), sharex=True, sharey=True, squeeze=False)
    for ax, group in zip(axes.flat, groups):
        g = ranks[ranks["group"] == group]
        for _, s in g.groupby("parameter"):
            u = s["rank"].to_numpy() / (s["n_draws"].to_numpy() + 1)
            ax.plot(z, (u[:, None] <= z[None, :]).mean(axis=0) - z, color="#1f5fa8", lw=0.6, alpha=0.5)
        ax.fill_between(z, -half, half, color="#bbbbbb", alpha=0.4, lw=0)
        ax.axhline(0, color="black", lw=0.5)
        ax.set_title(f"{group} ({g['parameter'].nunique()})", fontsize=8)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    fig.supxlabel("fractional rank")
    fig.supylabel("ECDF - uniform")
    return figs.tidy(fig)


def sbc_histogram_figure(ranks: pd.DataFrame, bins: int = 10):
    """Pooled rank histogram per group with the expected count and its 99% binomial range."""
    ranks = ranks.assign(group=ranks["parameter"].str.split("[", regex=False).str[0])
    groups = list(dict.fromkeys(ranks["group"]))
    ncol = 6
    nrow = int(np.ceil(len(groups) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 1.6 * nrow), squeeze=False)
    from scipy import stats

    for ax, group in zip(axes.flat, groups):
        g = ranks[ranks["group"] == group]
        n_draws = int(g["n_draws"].max())
        which = (g["rank"].to_numpy() * bins) // (n_draws + 1)
        counts = np.bincount(which, minlength=bins)
        expected = len(g) / bins
        lo, hi = stats.binom.ppf([0.005, 0.995], len(g), 1 / bins)
        ax.axhspan(lo, hi, color="#dddddd")
        ax.bar(np.arange(bins), counts, color="#1f5fa8", width=0.9)
        ax.axhline(expected, color="black", lw=0.6)
        ax.set_title(group, fontsize=7)
        ax.set_xticks([])
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    return figs.tidy(fig)


def calibration_figure(table: pd.DataFrame, bins: int = 5):
    """Backtest reliability: observed pass rate against binned predicted P(pass), per predictor."""
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    y = table["observed_passed"].astype(float).to_numpy()
    for col, label, color in (("p_pass", "model", "#1f5fa8"), ("p_party_line", "party-line baseline", "#e08214"),
                              ("p_majority_baseline", "majority baseline", "#7f7f7f")):
        p = table[col].to_numpy(float)
        edges = np.linspace(0, 1, bins + 1)
        idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
        xs, ys, ns = [], [], []
        for b in range(bins):
            sel = idx == b
            if sel.any():
                xs.append(p[sel].mean())
                ys.append(y[sel].mean())
                ns.append(sel.sum())
        ax.plot(xs, ys, "o-", color=color, label=label, ms=4)
        if col == "p_pass":
            for x_, y_, n_ in zip(xs, ys, ns):
                ax.annotate(str(n_), (x_, y_), textcoords="offset points", xytext=(4, -9), fontsize=6, color=color)
    ax.plot([0, 1], [0, 1], color="black", lw=0.5, ls=":")
    ax.set_xlabel("predicted P(motion carries)")
    ax.set_ylabel("observed share carried")
    ax.legend(fontsize=7, loc="upper left")
    return figs.tidy(fig)


# --- parts ---------------------------------------------------------------------------------------------


def _sbc_part(folder: Path | None, title: str, command: str) -> tuple[str, str]:
    _table, _md_table, _img, _note, _esc = _helpers()
    summary = _json(folder / "sbc.json") if folder else None
    csv = folder / "sbc.csv" if folder else None
    if summary is None or csv is None or not csv.is_file():
        msg = f"{title}: not run (make it with <code>{_esc(command)}</code>)."
        return f"<p>{msg}</p>", f"{title}: not run (`{command}`)"
    ranks = pd.read_csv(csv)
    ranks = ranks[ranks["simulation"].isin(range(int(summary.get("n_simulations", 0)) or ranks["simulation"].nunique()))]
    rows = [{"group": g, "scalars": v["n_scalars"], "simulations": v["n_simulations"], "p (Bonferroni)": v["p_value"],
             "worst scalar": v["worst_scalar"], "its p": v["min_scalar_p"]} for g, v in summary["groups"].items()]
    table = pd.DataFrame(rows)
    settings = summary.get("settings", {})
    wall = summary.get("fit_seconds_total")
    verdict = summary["verdict"]
    lead = (f"{summary['n_simulations']} simulations; {settings.get('chains', '?')} chains x {settings.get('draws', '?')} draws "
            f"per fit, ranks among {settings.get('n_keep', '?')} thinned draws; {summary['test']}. "
            f"Verdict at the {summary['level']:.0%} level: <strong>{verdict.upper()}</strong>"
            + (f"; sampling time {wall / 60:.1f} min in all" if wall else "")
            + (f"; {summary['fits_with_divergences']} fits with divergences, max R-hat over fits {summary['max_rhat_over_fits']:.3f}"
               if "fits_with_divergences" in summary else "") + ".")
    digits = {"scalars": 0, "simulations": 0, "p (Bonferroni)": 4, "its p": 4}
    body = [f"<p>{lead}</p>", _table(table, digits=digits),
            _img(figs.to_data_uri(sbc_ecdf_figure(ranks)), "SBC ECDF differences",
                 "Each line is one scalar's ECDF of fractional ranks minus the uniform; the grey band is the simultaneous "
                 "99% band for one scalar (Kolmogorov-Smirnov type, simulated for discrete ranks)."),
            _img(figs.to_data_uri(sbc_histogram_figure(ranks)), "SBC rank histograms",
                 "Rank histograms pooled over each group's scalars (10 bins); grey: 99% binomial range of one bin under "
                 "uniformity (ranks of one simulation are dependent, so the range is only a guide).")]
    md = f"{title}: {lead.replace('<strong>', '**').replace('</strong>', '**')}\n\n" + _md_table(table, digits)
    return "\n".join(body), md


def _backtest_part(folder: Path | None) -> tuple[str, str]:
    _table, _md_table, _img, _note, _esc = _helpers()
    scores = _json(folder / "backtest.json") if folder else None
    csv = folder / "backtest.csv" if folder else None
    if scores is None or csv is None or not csv.is_file():
        return ("<p>Backtest: not run (make it with <code>bayes-coalition backtest SPEC.toml</code>).</p>",
                "backtest: not run")
    table = pd.read_csv(csv)
    rows = [{"predictor": label, "Brier": scores[key]["brier"], "log score": scores[key]["log_score"]}
            for key, label in (("model", "coalition model"), ("majority_outcome", "always the majority outcome"),
                               ("party_line", "party-line rates (no latent variables)")) if key in scores]
    t = pd.DataFrame(rows)
    c = scores["coverage"]
    years = sorted(table["origin_year"].unique())
    lead = (f"Rolling origin: a fit on the votes before year T predicts every later vote as a new bill from its coded "
            f"evidence and its voters; origins {years[0]}-{years[-1]} ({len(years)}), {scores['n_predictions']} predictions "
            f"of {table['case_id'].nunique()} votes. Yea-count interval coverage: 50% interval {c['interval_50']:.2f}, "
            f"90% interval {c['interval_90']:.2f} (over {c['n']}).")
    body = [f"<p>{_esc(lead)}</p>", _table(t),
            _img(figs.to_data_uri(calibration_figure(table)), "backtest calibration",
                 "Observed share of votes carried against the binned predicted probability (5 bins).")]
    return "\n".join(body), lead + "\n\n" + _md_table(t)


def _compare_part(folder: Path | None) -> tuple[str, str]:
    _table, _md_table, _img, _note, _esc = _helpers()
    res = _json(folder / "hypotheses_comparison.json") if folder else None
    if res is None:
        return ("<p>Model comparison: not run (make it with <code>bayes-coalition compare SPEC.toml</code>).</p>",
                "model comparison: not run")
    comp = pd.DataFrame(res["comparison"])
    loo = res["loo"]
    comp["Pareto k > 0.7"] = [f"{loo[m]['pareto_k_above_0.7']}/{loo[m]['n']}" for m in comp["model"]]
    diag = res.get("diagnostics", {})
    if diag:
        comp["max R-hat"] = [diag.get(m, {}).get("max_rhat", np.nan) for m in comp["model"]]
        comp["divergences"] = [diag.get(m, {}).get("divergences", "") for m in comp["model"]]
    comp = comp.rename(columns={"elpd_diff": "ELPD difference", "dse": "SE of difference"})
    p = pd.DataFrame(res["p_hypothesised_sign"]).T
    change = (p.loc[["prior_twice_as_wide", "codes_perturbed"]] - p.loc["full"]).add_prefix("change ")
    sens = pd.concat([p.loc[["full", "prior_twice_as_wide", "codes_perturbed"]], change], axis=1).reset_index(names="fit")
    if diag:
        sens["max R-hat"] = [diag.get(m, {}).get("max_rhat", np.nan) for m in sens["fit"]]
    worst = max((loo[m]["pareto_k_above_0.7"] / loo[m]["n"] for m in loo), default=0)
    lead = ("PSIS-LOO of the yea counts: the full model against the model without the H1 terms (willingness, pivotal "
            "actor) and without the H2 term (deadlock convergence). A positive ELPD difference favours the full model.")
    caveat = (f"Up to {worst:.0%} of the rows have Pareto k > 0.7 (every vote has its own cut-point and tilt), so these "
              "LOO estimates are unreliable and the differences are within about one or two standard errors." if worst > 0.1 else "")
    body = [f"<p>{_esc(lead)}</p>", _table(comp), _note(caveat) if caveat else "",
            "<h4>Sensitivity of P(hypothesised sign)</h4>",
            "<p>Under priors twice as wide (every prior sd doubled) and under every code moved one level at random "
            "(seeded); the change is against the full model.</p>", _table(sens)]
    md = lead + "\n\n" + _md_table(comp) + ("\n\n" + caveat if caveat else "") + "\n\nSensitivity:\n\n" + _md_table(sens)
    return "\n".join(body), md


def section_validation(run, ctx: dict) -> tuple[str, str]:
    _esc = _helpers()[4]
    name = run.model.spec["model"]["name"] if run.model is not None else "model"
    dirs = {**default_dirs(run.run_dir, name), **{k: Path(v) for k, v in (ctx.get("validation") or {}).items() if v}}
    parts = [
        ("sbc", "Simulation-based calibration of the coalition model",
         lambda: _sbc_part(dirs.get("sbc"), "coalition model SBC", f"bayes-coalition sbc SPEC.toml --sims 100 --out {dirs.get('sbc', 'DIR')}")),
        ("sbc-ideal", "Simulation-based calibration of the ideal-point model",
         lambda: _sbc_part(dirs.get("ideal_points_sbc"), "ideal-point SBC", "bayes-coalition sbc --ideal-points --sims 100")),
        ("backtest", "Rolling-origin backtest", lambda: _backtest_part(dirs.get("backtest"))),
        ("comparison", "Model comparison for H1 and H2", lambda: _compare_part(dirs.get("compare"))),
    ]
    html_out, md_out = [], []
    for sid, title, make in parts:
        body, md = make()
        html_out.append(f"<h3 id=\"{sid}\">{_esc(title)}</h3>\n{body}")
        md_out.append(f"### {title}\n\n{md}\n")
    return "\n".join(html_out), "\n".join(md_out)
