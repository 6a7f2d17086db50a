"""The validation section of a coalition run: SBC, rolling-origin backtest, hypothesis comparison.

Each part reads the files its command writes (``bayes-coalition sbc``, ``backtest``, ``loeo``,
``compare``); by default from the run directory's siblings ``<name>_sbc``,
``<name>_backtest``, ``<name>_hypotheses`` and ``ideal_points_sbc`` (the commands'
default output folders), or from the folders passed to :func:`bayes_coalition.report.report`.
A record is shown only when it is of the run's model (its settings' ``model_id``); without one beside the run,
a record of that model shipped with the package stands in (``run_dir.find_record``). A part without a record
says which command makes it, or why the one it found is not shown.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition.report import checks, figures
from bayes_coalition.report.blocks import Block, Figure, Heading, Paragraph, Section, Table
from bayes_coalition.report.run_dir import RECORDS, find_backtest, find_record, shipped_of_other_models, validation_dirs
from bayes_coalition.report.sections import Context
from bayes_coalition.validation.loeo import vote_score_phrases

TITLE = "Validation: calibration, backtest, model comparison"


# the columns of the backtest's files that this section reads
VOTE_COLUMNS = ("origin", "case_id", "observed_passed", "p_pass", "p_party_line", "p_majority_baseline")
PARTY_ROW_COLUMNS = ("case_id", "party", "observed_yea_share", "q05", "q95", "in_90")


def _missing_columns(frame: pd.DataFrame, columns) -> list[str]:
    return [c for c in columns if c not in frame.columns]


def _absent(kind: str, folder: Path | None, why: str, title: str, command: str, *, model_id: str | None = None,
            shipped: bool = False) -> list[Block]:
    """What a part says when ``run_dir.find_record`` found no record of the run's model: which command makes one
    when the folder holds no such file, else ``why`` (another model's record, or one without a model id); either
    way, when shipped records could stand in, which of them are of another model (so that a user who sees one in
    ``models/`` knows why it is not shown)."""
    exists = folder is not None and (Path(folder) / RECORDS[kind].file).is_file()
    if exists:
        return [Paragraph(f"{title}: {why}.")]
    other = shipped_of_other_models(kind, model_id) if shipped else ""
    return [Paragraph(f"{title}: not run (make it with `{command}`)" + (f"; {other}" if other else "") + ".")]


def _source(found: Path, folder: Path | None, where: str) -> str:
    """Says where a record came from when it is not the folder the part was given (a shipped record)."""
    return "" if folder is not None and Path(found) == Path(folder) else f" Read from {where}."


def _sbc_part(folder: Path | None, title: str, command: str, *, model_id: str | None = None,
              shipped: bool = False) -> list[Block]:
    found, summary, where = find_record("sbc", folder, model_id, shipped=shipped)
    if summary is None:
        return _absent("sbc", folder, where, title, command, model_id=model_id, shipped=shipped)
    csv = found / "sbc.csv"
    if not csv.is_file():
        return [Paragraph(f"{title}: no {csv} beside {where}.")]
    ranks = pd.read_csv(csv)
    ranks = ranks[ranks["simulation"].isin(range(int(summary.get("n_simulations", 0)) or ranks["simulation"].nunique()))]
    ecdf = "ecdf_verdict" in summary          # a record from before 2026-12-03 has the chi-square test alone
    # "distinct": the Bonferroni factor since 2026-12-03 (a scalar and its reflection counted once); before, the scalars
    rows = [{"group": g, "scalars": v["n_scalars"], "distinct": v.get("n_distinct", v["n_scalars"]),
             "simulations": v["n_simulations"], "p (Bonferroni)": v["p_value"],
             "worst scalar": v["worst_scalar"], "its p": v["min_scalar_p"],
             **({"ECDF p (Bonferroni)": v["ecdf_p_value"], "ECDF worst scalar": v["ecdf_worst_scalar"]} if ecdf else {})}
            for g, v in summary["groups"].items()]
    settings = summary.get("settings", {})
    wall = summary.get("fit_seconds_total")
    lead = (f"{title}: {summary['n_simulations']} simulations; {settings.get('chains', '?')} chains x "
            f"{settings.get('draws', '?')} draws per fit after {settings.get('tune', '?')} tuning steps, ranks among {settings.get('n_keep', '?')} thinned draws; "
            f"{summary['test']}. Verdict at the {summary['level']:.0%} level: **{summary['verdict'].upper()}**"
            + (f"; {summary['ecdf_test']}: **{summary['ecdf_verdict'].upper()}**" if ecdf else "")
            + (f"; sampling time summed over fits {wall / 60:.1f} min (core-minutes where chains ran as separate worker "
               "tasks)" if wall else "")
            + (f"; {summary['fits_with_divergences']} fits with divergences, max R-hat over fits "
               f"{summary['max_rhat_over_fits']:.3f}" if "fits_with_divergences" in summary else "") + "."
            + _source(found, folder, where))
    return [
        Paragraph(lead),
        Table(pd.DataFrame(rows), digits={"scalars": 0, "distinct": 0, "simulations": 0, "p (Bonferroni)": 4, "its p": 4,
                                          "ECDF p (Bonferroni)": 4}),
        Figure(figures.to_data_uri(figures.sbc_ecdf(ranks)), "SBC ECDF differences",
               "Each line is one scalar's ECDF of fractional ranks minus the uniform; the grey band is the simultaneous "
               "99% band for one scalar (Kolmogorov-Smirnov type, simulated for discrete ranks; the ECDF test's null)."),
        Figure(figures.to_data_uri(figures.sbc_histogram(ranks)), "SBC rank histograms",
               "Rank histograms pooled over each group's scalars (10 bins); grey: 99% binomial range of one bin under "
               "uniformity (ranks of one simulation are dependent, so the range is only a guide)."),
    ]


def _bold_verdict(verdict: checks.Check) -> str:
    head, _, rest = verdict.line.partition(". ")
    return f"**{head}.**" + (f" {rest}" if rest else "")


def _backtest_part(folder: Path | None, model_id: str | None, *, shipped: bool) -> list[Block]:
    folder, scores, where = find_backtest(folder, model_id, shipped=shipped)
    csv = folder / "backtest.csv" if folder else None
    if scores is None or not csv.is_file():
        return [Paragraph(f"Backtest: {where if scores is None else f'no {csv}'}.")]
    table = pd.read_csv(csv)
    missing = _missing_columns(table, VOTE_COLUMNS)
    if missing:
        return [Paragraph(f"Backtest: {csv} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                          f"(written by `bayes-coalition backtest`; rerun it to rebuild the file).")]
    rows = [{"predictor": label, "Brier": scores[key]["brier"], "log score": scores[key]["log_score"]}
            for key, label in (("model", "coalition model"), ("party_line", "party-line rates (no latent variables)"),
                               ("majority", "always the majority outcome"))]
    origins = sorted(table["origin"].unique())
    blind = scores.get("settings", {}).get("same_episode", True) is False
    before = "its episode's first vote" if blind else "it"
    lead = (f"From {where}. Rolling origin by date: each of {scores['n_votes']} decided votes is predicted once, as a new bill, by "
            f"the fit at the latest origin not after {before} (trained on the votes dated before that origin) and the "
            f"codes whose sources are all dated before {before}, with its Congress's seats (not its turnout)"
            + (" (episode-blind: nothing of its episode informs a vote)" if blind else "")
            + f". {len(origins)} origins, {origins[0]} to {origins[-1]}.")
    gap = scores["model_minus_party_line"]
    b, lg = gap["brier"], gap["log_score"]
    lead += (f" Model minus party-line baseline: Brier {b['difference']:+.3f} (95% interval {b['interval_95'][0]:+.3f} "
             f"to {b['interval_95'][1]:+.3f}; negative favours the model), log score {lg['difference']:+.3f} "
             f"({lg['interval_95'][0]:+.3f} to {lg['interval_95'][1]:+.3f}); P(model's Brier is lower) "
             f"{scores['p_model_better_brier']:.2f}, resampling {gap['n_clusters']} episodes.")
    if scores["coverage_90"] is not None:
        lead += (f" Party rows (each party's yea share, {scores['n_party_rows']} rows): 50% intervals hold "
                 f"{scores['coverage_50']:.3f}, 90% intervals {scores['coverage_90']:.3f}.")
    bad = scores["unconverged_fits"]
    lead += (f" Origin fits: {scores['n_fits']}, {scores['refitted_fits']} refitted with more tuning and draws; "
             + (f"{len(bad)} still did not converge (max R-hat {max(x['max_rhat'] for x in bad):.3f}): their "
                f"predictions are marked in backtest.csv and count in the scores." if bad else "all converged."))
    return [Paragraph(lead), Paragraph(_bold_verdict(checks.backtest_verdict(scores))), Table(pd.DataFrame(rows)),
            Figure(figures.to_data_uri(figures.calibration(table)), "backtest calibration",
                   "Observed share of votes carried against the binned predicted probability (5 bins)."),
            *_losses_part(table, len(table)), *_misses_part(folder / "backtest_party_rows.csv")]


def _losses_part(table: pd.DataFrame, n_votes: int) -> list[Block]:
    from bayes_coalition.validation.backtest import largest_losses

    worst = largest_losses(table)
    if worst.empty:
        return [Paragraph("No vote has a larger squared error under the model than under the party-line baseline.")]
    shown = pd.DataFrame({"vote": worst["case_id"], **({"date": worst["date"]} if "date" in worst else {}),
                          "carried": worst["observed_passed"].map({True: "yes", False: "no"}),
                          "model P(carried)": worst["p_pass"], "party-line P(carried)": worst["p_party_line"],
                          "Brier gap": worst["brier_loss"]})
    return [Paragraph(f"Where the model falls furthest behind the party line (each vote's squared error minus the "
                      f"baseline's; it adds gap / {n_votes} to the mean Brier difference):"),
            Table(shown, digits={"model P(carried)": 3, "party-line P(carried)": 3, "Brier gap": 3})]


def _misses_part(path: Path) -> list[Block]:
    from bayes_coalition.validation.backtest import rows_outside

    if not path.is_file():
        return [Paragraph(f"Party rows: no {path.name} beside backtest.json, so the rows outside their intervals "
                          f"cannot be listed.")]
    rows = pd.read_csv(path)
    missing = _missing_columns(rows, PARTY_ROW_COLUMNS)
    if missing:
        return [Paragraph(f"Party rows: {path} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}, "
                          f"so the rows outside their intervals cannot be listed.")]
    out = rows_outside(rows, 90)
    if out.empty:
        return [Paragraph(f"Every one of the {len(rows)} party rows lies inside its 90% interval.")]
    sides = out["side"].value_counts()
    shown = pd.DataFrame({"vote": out["case_id"], "party": out["party"], "observed yea share": out["observed_yea_share"],
                          "90% interval": [f"{a:.3f} to {b:.3f}" for a, b in zip(out["q05"], out["q95"])],
                          "observed is": out["side"]})
    return [Paragraph(f"The {len(out)} of {len(rows)} party rows outside their 90% interval "
                      f"({sides.get('above', 0)} above it, {sides.get('below', 0)} below it):"),
            Table(shown, digits={"observed yea share": 3})]


def _compare_part(folder: Path | None, model_id: str | None = None, shipped: bool = False) -> list[Block]:
    _, res, where = find_record("compare", folder, model_id, shipped=shipped)
    if res is None:
        return _absent("compare", folder, where, "Model comparison", "bayes-coalition compare SPEC.toml",
                       model_id=model_id, shipped=shipped)
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
    verdicts = {m: checks.loo_reliability_counts(v["pareto_k_above_0.7"], v["n"], v.get("pareto_k_above_1"))
                for m, v in loo.items()}
    if all(c.ok for c in verdicts.values()):
        blocks: list[Block] = [
            Paragraph("PSIS-LOO of the yea counts: the full model against the model without the H1 terms (willingness, "
                      "pivotal actor) and without the H2 term (deadlock convergence). A positive ELPD difference favours "
                      "the full model."),
            Table(comp),
        ]
    else:
        # an ELPD difference between unreliable PSIS-LOO estimates is not shown (issue 13): LOEO replaces it
        ks = pd.DataFrame({"model": list(verdicts), "PSIS-LOO": [c.line.removesuffix(checks.LOO_UNTRUSTED) for c in verdicts.values()]})
        blocks = [
            Paragraph("PSIS-LOO comparison of the full model against the models without the H1 and without the H2 terms: "
                      "**not shown**, because PSIS-LOO is unreliable for "
                      + ", ".join(m for m, c in verdicts.items() if not c.ok)
                      + f" (rule: {checks.LOO_RULE}; every vote has its own cut-point and tilt). The H1/H2 "
                        "comparison out of sample is leave-one-episode-out "
                        "cross-validation (below; `bayes-coalition loeo`)."),
            Table(ks),
        ]
    return blocks + [
        Heading("Sensitivity of P(hypothesised sign)", 4),
        Paragraph("Under priors twice as wide (every prior sd doubled) and under every code moved one level at random "
                  "(seeded); the change is against the full model."),
        Table(sens),
    ]


def _loeo_part(folder: Path | None, model_id: str | None = None, shipped: bool = False) -> list[Block]:
    found, res, where = find_record("loeo", folder, model_id, shipped=shipped)
    if res is None:
        return _absent("loeo", folder, where, "Leave-one-episode-out cross-validation", "bayes-coalition loeo SPEC.toml",
                       model_id=model_id, shipped=shipped)
    rows = [{"comparison": k.replace("full_minus_", "full model against the model "), "elpd difference": d["elpd_diff"],
             "SE": d["se"], "episodes": d["n_episodes"],
             "reading": checks.elpd_difference_reading(d["elpd_diff"], d["se"], k.removeprefix("full_minus_without_")).line}
            for k, d in res["differences"].items()]
    bad = res["unconverged_fits"]
    st = res["settings"]
    lead = (f"Each episode's votes are predicted by a fit to every other episode's votes (its codes kept), "
            f"{st['chains']} chains x {st['draws']} draws per fit; the elpd difference sums the episodes' differences "
            f"(positive favours the full model, which holds the H1 and H2 terms) and its SE is sqrt(E) times their sd. "
            f"{len(res['fits'])} fits, "
            + (f"{len(bad)} of them did not converge (max R-hat {max(b['max_rhat'] for b in bad):.3f}): the differences "
               f"rest partly on unconverged fits." if bad else "all converged.") + _source(found, folder, where))
    blocks = [Paragraph(lead), Table(pd.DataFrame(rows), digits={"elpd difference": 2, "SE": 2})]
    sens = res.get("converged_differences")    # loeo.json since 2026-12-02
    shaky = {k: d for k, d in (sens or {}).get("differences", {}).items() if d["dropped"]}
    if shaky:
        blocks.append(Paragraph(
            f"Without the episodes whose fits missed R-hat {sens['max_rhat']:g} (the looser bar of this sensitivity): "
            + "; ".join(f"{k.replace('full_minus_', 'against the model ')} {d['elpd_diff']:+.2f} (SE {d['se']:.2f}) over "
                        f"{d['n_episodes']} episodes, dropping {', '.join(d['dropped'])}" for k, d in shaky.items()) + "."))
    blocks.append(Paragraph("Monte Carlo check: " + "; ".join(
        checks.loeo_reliability_phrases(res.get("reliability"), len(res["fits"]))) + "."))
    votes = res.get("vote_summary")            # the full model's predictions of the left-out votes (loeo.json since 2026-12-01)
    phrases = vote_score_phrases(votes) if votes else []
    if phrases:
        blocks.append(Paragraph("The same fits predict each left-out episode's votes (`loeo_votes.csv`): "
                                + "; ".join(phrases) + "."))
    return blocks


def validation_section(ctx: Context) -> Section:
    run = ctx.run
    name = run.model.spec["model"]["name"] if run.model is not None else "model"
    dirs = {**validation_dirs(run.run_dir, name), **{k: Path(v) for k, v in (ctx.validation or {}).items() if v}}
    sbc_dir = dirs.get("sbc")
    model_id = run.model.id if run.model is not None else None
    # a folder given to report() is the one to read; else a shipped record of this model stands in (models/<kind>/)
    given = lambda kind: bool((ctx.validation or {}).get(kind))
    parts = [
        ("sbc", "Simulation-based calibration of the coalition model",
         _sbc_part(sbc_dir, "coalition model SBC", f"bayes-coalition sbc SPEC.toml --sims 100 --out {sbc_dir or 'DIR'}",
                   model_id=model_id, shipped=not given("sbc"))),
        ("sbc-ideal", "Simulation-based calibration of the ideal-point model",
         _sbc_part(dirs.get("ideal_points_sbc"), "ideal-point SBC", "bayes-coalition sbc --ideal-points --sims 100")),
        ("backtest", "Rolling-origin backtest", _backtest_part(dirs.get("backtest"), model_id, shipped=not given("backtest"))),
        ("comparison", "Model comparison for H1 and H2", _compare_part(dirs.get("compare"), model_id, not given("compare"))),
        ("loeo", "Leave-one-episode-out cross-validation of H1 and H2",
         _loeo_part(dirs.get("compare"), model_id, not given("compare"))),
    ]
    return Section(TITLE, "validation", [b for anchor, title, blocks in parts for b in (Heading(title, anchor=anchor), *blocks)])
