"""Sections of an ideal-point run (``bayes-coalition ideal-points``): run, and ideal points by party
with the held-out scores.  Its convergence section is :mod:`.convergence`."""

from __future__ import annotations

import json

import pandas as pd

from bayes_coalition import _arviz
from bayes_coalition._base import package_versions
from bayes_coalition.constants import SUMMARY_PROB
from bayes_coalition.report import figures
from bayes_coalition.report.blocks import Code, Details, Figure, Heading, KeyValue, Note, Paragraph, Section, Table, scalar_pairs
from bayes_coalition.report.checks import IN_SAMPLE
from bayes_coalition.report.run_dir import IDEAL_POINT_TYPE, Run
from bayes_coalition.report.sections import Context

TITLES = {
    "run": "Run: data, sampler, versions",
    "ideal-points": "Ideal points by party and held-out scores",
}
RUN_KEYS = ("n_legislators", "n_rollcalls", "n_cells", "n_heldout_cells", "lopsided_rollcalls", "low_activity_legislators",
            "sampler", "chains", "draws", "tune", "random_seed", "wall_seconds", "orientation", "chains_flipped", "link")


def run_section(ctx: Context) -> Section:
    run = ctx.run
    d = run.stored_diag
    attrs = dict(run.idata.attrs) if run.idata is not None else {}
    options = json.loads(attrs.get("options", "{}") or "{}")
    rows = [("model", attrs.get("model_type", IDEAL_POINT_TYPE)), ("source", attrs.get("source", "-")),
            ("run directory", str(run.run_dir) if run.run_dir else "(in-memory model)")]
    rows += [(k, d[k]) for k in RUN_KEYS if k in d]
    blocks: list = [KeyValue(rows)]
    if options:
        blocks.append(Details("Model options", [Code(json.dumps(options, indent=2))]))
    versions = pd.DataFrame(list(package_versions().items()), columns=["package", "version"])
    blocks += [Heading("Package versions (report)"), Table(versions)]
    return Section(TITLES["run"], "run", blocks)


def _ideal_points(run: Run) -> pd.DataFrame | None:
    """The run's ideal_points.csv, else a summary of its ideal_point draws."""
    ip = run.files.get("ideal_points")
    if ip is not None or run.idata is None or "ideal_point" not in run.idata.posterior:
        return ip
    s = _arviz.summary(run.idata, ["ideal_point"], prob=SUMMARY_PROB, kind="hdi")
    leg = run.idata.posterior["ideal_point"]
    dim = [d for d in leg.dims if d not in ("chain", "draw")][0]
    const = run.idata.get("constant_data")
    party = const["party"].values if const is not None and "party" in const else [None] * len(s)
    return pd.DataFrame({"legislator_id": [str(v) for v in leg[dim].values], "party": party, "mean": s["mean"].to_numpy(),
                         "sd": s["sd"].to_numpy(), "lower": s["lower"].to_numpy(), "upper": s["upper"].to_numpy()})


def ideal_points_section(ctx: Context) -> Section:
    run = ctx.run
    ip = _ideal_points(run)
    blocks: list = [*ctx.provisional()]
    if ip is not None:
        party = ip["party"].fillna("(none)").astype(str)
        by = ip.assign(party=party, width=ip["upper"] - ip["lower"]).groupby("party").agg(
            legislators=("mean", "size"), mean=("mean", "mean"), min=("mean", "min"), max=("mean", "max"),
            mean_interval_width=("width", "mean")).reset_index()
        blocks += [
            Paragraph("Identified ideal points (location and scale fixed per draw, sign aligned) with their intervals, "
                      "by party."),
            Figure(figures.to_data_uri(figures.ideal_points_by_party(ip)), "ideal points by party"),
            Table(by, digits={"legislators": 0, "mean": 2, "min": 2, "max": 2, "mean_interval_width": 2}),
            Details("All legislators", [Table(ip.sort_values("mean"), digits=2)]),
        ]
    else:
        blocks.append(Note("No ideal_points.csv and no ideal_point draws in this run."))
    blocks.append(Heading("Held-out cells", anchor="holdout"))
    hold = run.files.get("holdout")
    if hold:
        blocks += [Paragraph("Scores on the held-out cells, hidden from the fit (APRE against the majority side of the "
                             "training cells)."), KeyValue(scalar_pairs(hold))]
    else:
        blocks.append(Note("No holdout.json: the run held no cells out."))
    fit = run.files.get("fit_statistics")
    if fit:
        blocks += [Heading("In-sample fit"), Paragraph(f"Scores on the training cells ({IN_SAMPLE}).", small=True),
                   KeyValue(scalar_pairs(fit))]
    return Section(TITLES["ideal-points"], "ideal-points", blocks)
