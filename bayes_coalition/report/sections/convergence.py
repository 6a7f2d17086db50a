"""The convergence section (coalition and ideal-point runs).

The verdict and the headline numbers are :func:`bayes_coalition.diagnostics.convergence` on the
variables the fit judged itself by (a coalition model's free variables, an ideal-point model's
``ideal_point``), so the report agrees with the fit and the CLI.  The per-variable table adds
detail (every variable, derived ones marked) without changing the headline.

Section modules import matplotlib (through :mod:`~bayes_coalition.report.figures`): the
report imports them only when it builds one.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition import _arviz, diagnostics
from bayes_coalition.report import blocks as bl
from bayes_coalition.report import figures
from bayes_coalition.report.sections import Context

TITLE = "Convergence"
TOP_LEVEL = ("cut_point_mean", "sigma_episode", "sigma_case", "sigma_party_tilt", "effect", "chamber_offset",
             "concentration", "type_shift", "congress_tilt", "sigma_tilt_total", "tilt_walk_share",
             "sigma_congress_tilt_step", "president_tilt", "faction_share_step",
             "divided_government", "election_year", "party_gap_tilt", "majority_tilt", "house_tilt", "discrimination", "expectation_slope",
             "expectation_cuts")
IDEAL_TOP_LEVEL = ("party_location", "party_scale", "covariate_effect")
IDEAL_VERDICT_VARS = ("ideal_point",)    # what IdealPointModel.fit's diagnostics cover
# bookkeeping, not parameters: the ideal-point alignment's per-draw sign flip (+-1; chains that settle in mirror
# modes differ in it by design, so its R-hat is meaningless); never tabulated, named under the table
BOOKKEEPING = ("orientation_sign",)
MAX_RANK_ELEMENTS = 12
N_WORST = 8
N_TRACE = 4


def size(da: xr.DataArray) -> int:
    """Number of scalars of a posterior variable per draw."""
    return int(np.prod([s for d, s in da.sizes.items() if d not in ("chain", "draw")], dtype=int))


def element_label(da: xr.DataArray, flat: int) -> str:
    """``name[coord,...]`` of one scalar of a posterior variable (flat index over its own dims)."""
    dims = [d for d in da.dims if d not in ("chain", "draw")]
    if not dims:
        return str(da.name)
    idx = np.unravel_index(flat, [da.sizes[d] for d in dims])
    labels = [str(da[d].values[i]) if d in da.coords else str(i) for d, i in zip(dims, idx)]
    return f"{da.name}[{','.join(labels)}]"


def _agg(a, fn) -> float:
    a = np.asarray(a, dtype=float).ravel()
    a = a[np.isfinite(a)]
    return float(fn(a)) if a.size else float("nan")


def verdict_variables(kind: str, idata) -> list[str]:
    """The variables the fit's own diagnostics were computed on."""
    if kind == "coalition":
        return diagnostics.free_variable_names(idata)
    return [n for n in IDEAL_VERDICT_VARS if n in idata.posterior]


def convergence_tables(idata, verdict_vars: list[str], other_role: str = "derived"):
    """(per-variable table, headline diag dict, element R-hat list, per-chain table).

    The headline dict is :func:`diagnostics.convergence` on ``verdict_vars`` plus the sampler's
    tree-depth details; the table has every variable (unconstrained ``name__`` copies left out),
    role "sampled" for the verdict's variables and ``other_role`` for the rest.
    """
    post = idata.posterior
    verdict_set = set(verdict_vars)
    names = [n for n in post.data_vars
             if (not str(n).endswith("__") or n in verdict_set) and (n not in BOOKKEEPING or n in verdict_set)]
    chains = int(post.sizes["chain"])
    rhat = _arviz.rhat(idata, names) if chains > 1 else None
    ess_b = _arviz.ess(idata, names, "bulk")
    ess_t = _arviz.ess(idata, names, "tail")
    mcse = _arviz.mcse(idata, names)
    rows, elements = [], []
    for n in names:
        r = rhat[n].values if rhat is not None else np.array([np.nan])
        rows.append({
            "variable": n,
            "role": "sampled" if n in verdict_set else other_role,
            "size": size(post[n]),
            "max_rhat": _agg(r, np.max),
            "min_ess_bulk": _agg(ess_b[n].values, np.min),
            "min_ess_tail": _agg(ess_t[n].values, np.min),
            "max_mcse": _agg(mcse[n].values, np.max),
        })
        if rhat is not None and n in verdict_set:
            flat = np.asarray(r, dtype=float).ravel()
            elements += [(float(v), n, i) for i, v in enumerate(flat) if np.isfinite(v)]
    table = pd.DataFrame(rows)
    table = table.sort_values("role", key=lambda s: s != "sampled", kind="stable").reset_index(drop=True)
    diag = diagnostics.convergence(idata, verdict_vars)
    stats = diagnostics.sampler_stats(idata)
    per_chain = stats.pop("per_chain")
    diag.update(stats)
    elements.sort(reverse=True)
    return table, diag, elements, per_chain


def _flags(table: pd.DataFrame) -> pd.DataFrame:
    t = diagnostics.THRESHOLDS
    sampled = table["role"] == "sampled"
    return pd.DataFrame({
        "max R-hat": sampled & (table["max_rhat"] > t["max_rhat"]),
        "min ESS bulk": sampled & (table["min_ess_bulk"] < t["min_ess_bulk"]),
        "min ESS tail": sampled & (table["min_ess_tail"] < t["min_ess_tail"]),
    })


def verdict_block(diag: dict) -> bl.Verdict:
    t = diagnostics.THRESHOLDS
    status, reasons = diagnostics.verdict(diag)
    rule = (f"thresholds: R-hat \u2264 {t['max_rhat']}, bulk and tail ESS \u2265 {t['min_ess_bulk']:.0f}, "
            f"{t['divergences']} divergences, BFMI \u2265 {t['min_bfmi']}; fail = R-hat or divergences, warn = ESS or BFMI short.")
    return bl.Verdict(status, tuple(reasons), rule)


def _rank_figure(ds: xr.Dataset) -> str:
    n = len(ds.data_vars)
    cols = min(4, n)
    rows = int(math.ceil(n / cols))
    fig = _arviz.plot_rank_dataset(ds, grid=(rows, cols), figsize=(13, 1.9 * rows + 0.3))
    return figures.to_data_uri(figures.tidy(fig))


def _element_draws(post: xr.Dataset, picks: list[tuple[str, int]]) -> xr.Dataset:
    """Dataset of single scalar elements (chain, draw), named var[coord]."""
    out = {}
    for var, flat in picks:
        da = post[var]
        out[element_label(da, flat)] = (("chain", "draw"), da.values.reshape(da.shape[0], da.shape[1], -1)[:, :, flat])
    return xr.Dataset(out, coords={"chain": post["chain"].values, "draw": post["draw"].values})


def convergence_section(ctx: Context) -> bl.Section:
    run = ctx.run
    idata = run.idata
    if idata is None or "posterior" not in idata:
        v = verdict_block(run.stored_diag) if run.stored_diag else bl.Verdict("warn", ("no posterior to check",))
        blocks = [v, bl.Note("posterior.nc missing: verdict from diagnostics.json only, no plots.")]
        if run.stored_diag:
            blocks.append(bl.KeyValue(bl.scalar_pairs(run.stored_diag)))
        return bl.Section(TITLE, "convergence", blocks)
    verdict_vars = verdict_variables(run.kind, idata)
    if run.kind == "coalition":
        table, diag, elements, per_chain = convergence_tables(idata, verdict_vars)
        basis = "The verdict covers the sampled (free) variables; derived quantities are listed for reference."
    else:
        table, diag, elements, per_chain = convergence_tables(idata, verdict_vars, "reference")
        basis = (f"The verdict covers {', '.join(verdict_vars)}, the variables the fit's own diagnostics cover; "
                 "item parameters and hyperparameters are listed for reference.")
    saturated = diag.get("treedepth_saturated")
    summary = [
        ("chains x draws", f"{diag['chains']} x {diag['draws']}"),
        ("max R-hat (rank-normalised)", diag["max_rhat"]),
        ("min bulk ESS", diag["min_ess_bulk"]),
        ("min tail ESS", diag["min_ess_tail"]),
        ("divergent transitions", diag.get("divergences")),
        ("min E-BFMI", diag.get("min_bfmi")),
        ("max tree depth", diag.get("max_tree_depth")),
        ("tree-depth saturation", None if saturated is None else
         f"{saturated} transitions ({diag['treedepth_saturated_share']:.1%}); rule: {diag['treedepth_rule']}"),
    ]
    shown = table.rename(columns={"max_rhat": "max R-hat", "min_ess_bulk": "min ESS bulk", "min_ess_tail": "min ESS tail",
                                  "max_mcse": "max MCSE (mean)"})
    blocks = [
        verdict_block(diag),
        bl.Paragraph(basis),
        bl.Columns([[bl.KeyValue(summary)],
                 [bl.Heading("per chain", 4), bl.Table(per_chain, digits={"bfmi": 2, "mean_tree_depth": 2, "saturated_share": 3})]]),
        bl.Heading("R-hat, ESS and MCSE per variable", anchor="convergence-table"),
        bl.Paragraph("Aggregated over each variable's elements: max R-hat, min bulk / tail ESS, max MCSE of the mean. "
                  "Highlighted: a sampled variable missing a threshold. Unconstrained copies (name__) stored by the sampler "
                  "are left out." + _hidden_text(idata, verdict_vars), small=True),
        bl.Table(shown, digits={"max R-hat": 3, "min ESS bulk": 0, "min ESS tail": 0, "max MCSE (mean)": 4},
              flags=_flags(table), compact=True),
    ]
    blocks += _plots(run.kind, idata, verdict_vars, elements)
    return bl.Section(TITLE, "convergence", blocks)


def _hidden_text(idata, verdict_vars) -> str:
    hidden = [n for n in BOOKKEEPING if n in idata.posterior and n not in verdict_vars]
    return (f" Bookkeeping variables not tabulated: {', '.join(hidden)} (the sign each draw was aligned by, not a "
            "parameter: its R-hat says nothing about convergence)." if hidden else "")


def _plots(kind: str, idata, verdict_vars: list[str], elements: list) -> list:
    post = idata.posterior
    top = [n for n in (TOP_LEVEL if kind == "coalition" else IDEAL_TOP_LEVEL) if n in post]
    if not top:
        top = [n for n in verdict_vars if size(post[n]) <= 4]
    picks = [(n, i) for n in top for i in range(size(post[n]))][:MAX_RANK_ELEMENTS]
    blocks: list = []
    if picks:
        ds = _element_draws(post, picks)
        few = ds[list(ds.data_vars)[:N_TRACE]]
        trace = figures.tidy(_arviz.plot_trace_dataset(few, figsize=(13, 1.3 * len(few.data_vars) + 0.6)))
        blocks += [bl.Heading("Rank plots: top-level parameters", anchor="rank-top"),
                   bl.Figure(_rank_figure(ds), "rank plots of top-level parameters",
                          "Rank histograms per chain should be flat and alike across chains."),
                   bl.Heading("Trace plots: top-level parameters", anchor="trace-top"),
                   bl.Figure(figures.to_data_uri(trace), "trace plots of top-level parameters",
                          f"The first {len(few.data_vars)} top-level elements: marginal density per chain and the draws.")]
    taken = set(picks)
    worst = [(r, n, i) for r, n, i in elements if (n, i) not in taken][:N_WORST]
    if worst:
        listing = ", ".join(f"{element_label(post[n], i)} ({r:.3f})" for r, n, i in worst)
        blocks += [bl.Heading("Rank plots: the worst R-hat elements", anchor="rank-worst"),
                   bl.Figure(_rank_figure(_element_draws(post, [(n, i) for _, n, i in worst])),
                          "rank plots of the worst R-hat elements",
                          "Highest R-hat among the sampled elements (top-level parameters, shown above, left out): " + listing)]
    stats = idata.get("sample_stats")
    if stats is not None and "energy" in stats:
        blocks += [bl.Heading("Energy", anchor="energy"),
                   bl.Figure(figures.to_data_uri(figures.tidy(_arviz.plot_energy(idata))), "energy plot",
                          "Marginal energy vs energy transition: similar widths mean the sampler explores the tails (E-BFMI).")]
    return blocks
