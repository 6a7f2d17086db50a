"""Matplotlib figures of the diagnostic report (plain arrays and tables in, Figure out).

Figures are built with the object-oriented API (:class:`matplotlib.figure.Figure`), so the
report neither needs nor changes the user's backend and none of its figures enters pyplot's
list of open figures.  ArviZ figures (rank, trace, energy, Pareto k, LOO-PIT) come from
:mod:`bayes_coalition._arviz`; the figures here draw the package's own tables.  Every figure
is encoded as a PNG data URI with :func:`to_data_uri`, which also closes it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayes_coalition.constants import CONTRACTION_IDENTIFIED
from bayes_coalition.validation.sbc_stats import ecdf_band, ecdf_difference

TYPE_COLORS = {
    "legislative_faction": "#7b3294",
    "president": "#d7301f",
    "executive_agency": "#2c7fb8",
    "interest_group": "#41ab5d",
}
PARTY_COLORS = {"R": "#c0392b", "D": "#2166ac", "I": "#7f7f7f", "RD": "#8c6d31", "ALL": "#444444"}
OUTCOME_COLORS = {"passed": "#1a9850", "failed": "#d73027", "none": "#7f7f7f"}
DPI = 90


def _subplots(*args, figsize: tuple[float, float], **kwargs):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def _close(fig) -> None:
    """Release a figure; only ArviZ's figures are known to pyplot and need closing there."""
    if getattr(fig.canvas, "manager", None) is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)


def to_data_uri(fig) -> str:
    """PNG data URI of a figure; the figure is closed."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    finally:
        _close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def tidy(fig, fontsize: float = 8.0):
    """Smaller fonts and a tight layout for ArviZ's multi-panel figures (long element names)."""
    for ax in fig.axes:
        ax.title.set_fontsize(fontsize)
        ax.xaxis.label.set_fontsize(fontsize)
        ax.yaxis.label.set_fontsize(fontsize)
        ax.tick_params(labelsize=fontsize - 1)
        leg = ax.get_legend()
        if leg is not None:
            for text in leg.get_texts():
                text.set_fontsize(fontsize - 0.5)
    fig.tight_layout()
    return fig


@contextmanager
def closing_new_figures() -> Iterator[None]:
    """On an error, close the pyplot figures (ArviZ plots) opened inside the block; the user's stay open."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        yield
    except BaseException:
        for num in set(plt.get_fignums()) - before:
            plt.close(num)
        raise


def _type_color(t) -> str:
    return TYPE_COLORS.get(str(t), "#555555")


MAX_HEIGHT = 12.0   # inches: no report figure is taller (at DPI 90, about 1,100 px)


def _rows_height(n: int, per_row: float = 0.2, base: float = 1.2, cap: float = MAX_HEIGHT) -> float:
    return float(min(cap, MAX_HEIGHT, base + per_row * n))


def legislator_labels(ip: pd.DataFrame) -> np.ndarray:
    """A legislator's name where the table has one (a repeated name gets its id), else the id."""
    ids = ip["legislator_id"].astype(str)
    if "name" not in ip:
        return ids.to_numpy()
    names = ip["name"].where(ip["name"].notna() & (ip["name"].astype(str).str.strip() != ""), ids).astype(str)
    repeated = names.duplicated(keep=False)
    return names.where(~repeated, names + " (" + ids + ")").to_numpy()


# --- posterior predictive ------------------------------------------------------------------


def ppc_rows(table: pd.DataFrame, chamber_of: dict, *, title: str):
    """Observed yea (dot, or bar for an interval observation) against the predictive interval, per row.

    ``table`` has columns label, chamber-independent n, observed_lower, observed_upper,
    predicted_lower, predicted_upper, consistent, group; one panel per chamber.
    """
    chambers = [c for c in ("House", "Senate") if any(chamber_of.get(cid) == c for cid in table["case_id"])]
    chambers = chambers or ["all"]
    sizes = [max(1, int(sum(chamber_of.get(cid, "all") == c for cid in table["case_id"]))) for c in chambers]
    fig, axes = _subplots(1, len(chambers), figsize=(13, _rows_height(max(sizes), 0.17)), squeeze=False)
    for ax, chamber in zip(axes[0], chambers):
        t = table[[chamber_of.get(cid, "all") == chamber for cid in table["case_id"]]].reset_index(drop=True)
        y = np.arange(len(t))[::-1]
        for yi, r in zip(y, t.itertuples()):
            color = PARTY_COLORS.get(str(r.group), "#444444")
            ax.plot([r.predicted_lower, r.predicted_upper], [yi, yi], color=color, lw=2.2, alpha=0.55, solid_capstyle="butt")
            if r.observed_lower == r.observed_upper:
                ax.plot(r.observed_lower, yi, "o", ms=4.5, color="black" if r.consistent else "#e31a1c", zorder=3)
            else:
                ax.plot([r.observed_lower, r.observed_upper], [yi, yi], color="#ff7f00", lw=6, alpha=0.9, zorder=3,
                        solid_capstyle="butt")
            ax.plot([r.n], [yi], "|", color="#999999", ms=6)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{c}:{g}" for c, g in zip(t["case_id"], t["group"])], fontsize=7)
        ax.set_ylim(-0.8, len(t) - 0.2)
        ax.set_xlabel("yea count (grey tick: members voting)")
        ax.set_title(f"{chamber}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], color=PARTY_COLORS[p], lw=2.2, alpha=0.6, label=f"predictive interval, {p}") for p in ("R", "D", "I", "RD", "ALL")]
    handles += [Line2D([], [], marker="o", ls="", color="black", label="observed (inside)"),
                Line2D([], [], marker="o", ls="", color="#e31a1c", label="observed (outside)"),
                Line2D([], [], color="#ff7f00", lw=6, label="observed interval (censored)")]
    fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.suptitle(title, fontsize=11, y=1.0 + 0.35 / fig.get_figheight())
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.55 / fig.get_figheight()))
    return fig


def ppc_cases(approval: pd.DataFrame, whip: dict, *, prob: float):
    """Per case: predictive interval of the total yea count, observed yea, whip-count interval."""
    chambers = [c for c in ("House", "Senate") if (approval["chamber"] == c).any()]
    n_max = max(int((approval["chamber"] == c).sum()) for c in chambers)
    fig, axes = _subplots(1, len(chambers), figsize=(13, _rows_height(n_max, 0.2)), squeeze=False)
    for ax, chamber in zip(axes[0], chambers):
        t = approval[approval["chamber"] == chamber].reset_index(drop=True)
        y = np.arange(len(t))[::-1]
        for yi, r in zip(y, t.itertuples()):
            ax.plot([r.yea_lower, r.yea_upper], [yi, yi], color="#6a51a3", lw=2.4, alpha=0.6, solid_capstyle="butt")
            ax.plot(r.yea_mean, yi, "|", color="#6a51a3", ms=8)
            if pd.notna(r.observed_yea):
                inside = bool(r.yea_lower <= r.observed_yea <= r.yea_upper)
                ax.plot(r.observed_yea, yi, "o", ms=5, color="black" if inside else "#e31a1c", zorder=3)
            elif r.case_id in whip:
                lo, hi = whip[r.case_id]
                ax.plot([lo, hi], [yi, yi], color="#ff7f00", lw=6, zorder=3, solid_capstyle="butt")
        ax.set_yticks(y)
        ax.set_yticklabels(t["case_id"], fontsize=7.5)
        ax.set_ylim(-0.8, len(t) - 0.2)
        ax.set_xlabel("total yea count")
        ax.set_title(chamber, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], color="#6a51a3", lw=2.4, alpha=0.6, label=f"{prob:.0%} predictive interval (tick: mean)"),
               Line2D([], [], marker="o", ls="", color="black", label="observed (inside)"),
               Line2D([], [], marker="o", ls="", color="#e31a1c", label="observed (outside)"),
               Line2D([], [], color="#ff7f00", lw=6, label="whip-count interval (censored)")]
    fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    return fig


def whip_evidence(panels: list[tuple[str, np.ndarray, float, float]]):
    """Predictive distribution of censored yea counts with the observed [lower, upper] interval shaded."""
    fig, axes = _subplots(1, len(panels), figsize=(4.2 * len(panels), 2.8), squeeze=False)
    for ax, (label, draws, lo, hi) in zip(axes[0], panels):
        draws = np.asarray(draws, dtype=float).ravel()
        bins = np.arange(np.floor(draws.min()) - 0.5, np.ceil(draws.max()) + 1.5, max(1, int(np.ptp(draws) // 40) or 1))
        ax.hist(draws, bins=bins, color="#6a51a3", alpha=0.6)
        ax.axvspan(lo, hi, color="#ff7f00", alpha=0.3, label=f"whip count {lo:.0f}-{hi:.0f}")
        inside = np.mean((draws >= lo) & (draws <= hi))
        ax.set_title(f"{label}: P(inside) = {inside:.2f}", fontsize=9)
        ax.set_xlabel("predicted yea")
        ax.set_yticks([])
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def pit(u: np.ndarray, z: np.ndarray, diff: np.ndarray, half: float, *, prob: float):
    """Randomised PIT values: histogram against the uniform, and ECDF - uniform with its simultaneous band."""
    fig, (ax, ax2) = _subplots(1, 2, figsize=(11, 3.2))
    n = len(u)
    bins = int(np.clip(round(np.sqrt(n)), 5, 20))
    ax.hist(u, bins=bins, range=(0, 1), color="#6a51a3", alpha=0.7)
    ax.axhline(n / bins, color="black", lw=0.8, ls="--", label="uniform")
    ax.set_xlabel("randomised PIT")
    ax.set_ylabel("rows")
    ax.legend(fontsize=8, frameon=False)
    ax2.fill_between(z, -half, half, color="#bbbbbb", alpha=0.5, lw=0, label=f"{prob:.0%} simultaneous band")
    ax2.plot(z, diff, color="#1f5fa8", lw=1.4)
    ax2.axhline(0, color="black", lw=0.5)
    ax2.set_xlabel("randomised PIT")
    ax2.set_ylabel("ECDF - uniform")
    ax2.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


# --- prior predictive ------------------------------------------------------------------------


def prior_shares(table: pd.DataFrame, all_shares: np.ndarray):
    """Prior 90% interval of each row's yea share with the observed share, and all prior shares pooled."""
    t = table.sort_values("share_median").reset_index(drop=True)
    fig, (ax, ax2) = _subplots(1, 2, figsize=(13, 3.6), gridspec_kw={"width_ratios": [3, 1]})
    x = np.arange(len(t))
    ax.vlines(x, t["share_q05"], t["share_q95"], color="#9e9ac8", lw=2)
    ax.plot(x, t["share_median"], "_", color="#54278f", ms=6)
    ax.plot(x, t["observed_share"], "o", ms=3, color="black")
    ax.set_xticks([])
    ax.set_xlabel("likelihood rows (sorted by prior median)")
    ax.set_ylabel("yea share")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("prior predictive 90% interval (bar) vs observed share (dot)", fontsize=10)
    ax2.hist(np.asarray(all_shares).ravel(), bins=40, range=(0, 1), color="#9e9ac8", density=True)
    ax2.set_xlabel("yea share, all rows and prior draws")
    ax2.set_yticks([])
    fig.tight_layout()
    return fig


# --- Illustration 1 ----------------------------------------------------------------------------


def actor_axis(ip: pd.DataFrame, *, prob: float):
    """Actors on the anti-free-trade (-) / free-trade (+) axis with intervals, coloured by type."""
    t = ip.sort_values("mean").reset_index(drop=True)
    fig, ax = _subplots(figsize=(11, _rows_height(len(t), 0.32, 1.4)))
    y = np.arange(len(t))
    for yi, r in zip(y, t.itertuples()):
        c = _type_color(r.type)
        ax.plot([r.lower, r.upper], [yi, yi], color=c, lw=2.5, solid_capstyle="butt")
        ax.plot(r.mean, yi, "o", color=c, ms=6)
        ax.plot(r.prior_position, yi, "D", mfc="none", mec="#333333", ms=5)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{n}" for n in t["name"]], fontsize=8)
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_xlabel("anti-free-trade  \u2190  ideal point  \u2192  free-trade")
    handles = [Line2D([], [], color=c, lw=2.5, marker="o", label=k.replace("_", " ")) for k, c in TYPE_COLORS.items()
               if k in set(t["type"])]
    handles.append(Line2D([], [], ls="", marker="D", mfc="none", mec="#333333", label="paper's placement (prior mean)"))
    ax.legend(handles=handles, fontsize=8, loc="lower right", frameon=True)
    ax.set_title(f"Estimated Illustration 1: posterior means and {prob:.0%} HDIs", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def case_coalitions(ip: pd.DataFrame, cases: list[dict]):
    """One panel per case: actors' intervals, the cut-point (line + interval band) and P(pro-trade side).

    Each ``cases`` item: case_id, title, cut_mean, cut_lower, cut_upper, p_pro (array per actor in
    ``ip`` order), pro_trade_yea (bool).
    """
    order = np.argsort(ip["mean"].to_numpy())
    t = ip.iloc[order].reset_index(drop=True)
    fig, axes = _subplots(1, len(cases), figsize=(4.6 * len(cases), _rows_height(len(t), 0.3, 1.8)), sharey=True, squeeze=False)
    y = np.arange(len(t))
    for ax, case in zip(axes[0], cases):
        p = np.asarray(case["p_pro"])[order]
        ax.axvspan(case["cut_lower"], case["cut_upper"], color="#fdae6b", alpha=0.45, lw=0)
        ax.axvline(case["cut_mean"], color="#e6550d", lw=1.5)
        for party, x in case.get("party_cuts", {}).items():
            ax.axvline(x, color=PARTY_COLORS[party], lw=1, ls="--", alpha=0.8)
        for yi, r in zip(y, t.itertuples()):
            c = _type_color(r.type)
            ax.plot([r.lower, r.upper], [yi, yi], color=c, lw=2.2, solid_capstyle="butt", alpha=0.9)
            ax.plot(r.mean, yi, "o", color=c, ms=5)
        lo = min(float(t["lower"].min()), case["cut_lower"]) - 0.3
        hi = max(float(t["upper"].max()), case["cut_upper"]) + 1.3
        ax.set_xlim(lo, hi)
        for yi, pi in zip(y, p):
            ax.text(hi - 0.05, yi, f"{pi:.2f}", ha="right", va="center", fontsize=7.5,
                    color="#1a9850" if pi >= 0.5 else "#d73027")
        ax.set_title(case["title"], fontsize=9)
        ax.set_xlabel("ideal point (cut-point: orange)")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(y)
    axes[0][0].set_yticklabels(t["name"].str.slice(0, 44), fontsize=7.5)
    fig.text(0.99, 0.005, "numbers: P(actor on the pro-trade side = minimum winning coalition); dashed: the Republican (red) "
             "and Democratic (blue) factions' cut-points (cut-point \u00b1 party tilt)", ha="right", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


def cut_points(table: pd.DataFrame, *, prob: float):
    """Posterior of every case's cut-point, coloured by chamber, marked by outcome."""
    t = table.reset_index(drop=True)
    fig, ax = _subplots(figsize=(11, _rows_height(len(t), 0.19, 1.2)))
    y = np.arange(len(t))[::-1]
    for yi, r in zip(y, t.itertuples()):
        c = "#2c7fb8" if r.chamber == "House" else "#d95f0e"
        ax.plot([r.lower, r.upper], [yi, yi], color=c, lw=2, alpha=0.8, solid_capstyle="butt")
        ax.plot(r.mean, yi, "o", ms=4, color=OUTCOME_COLORS.get(r.outcome_class, "#7f7f7f"), mec=c, zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{c} ({'pro' if p else 'anti'}-trade yea)" for c, p in zip(t["case_id"], t["pro_trade_yea"])], fontsize=7)
    ax.set_ylim(-0.8, len(t) - 0.2)
    ax.set_xlabel("cut-point on the ideal-point axis")
    handles = [Line2D([], [], color="#2c7fb8", lw=2, label="House"), Line2D([], [], color="#d95f0e", lw=2, label="Senate")]
    handles += [Line2D([], [], ls="", marker="o", color=c, label=k) for k, c in OUTCOME_COLORS.items()]
    ax.legend(handles=handles, fontsize=8, loc="upper right", ncol=5, frameon=False, bbox_to_anchor=(1, 1.0 + 0.45 / fig.get_figheight()))
    ax.set_title(f"cut-points per case: posterior mean, {prob:.0%} HDI", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


# --- hypotheses and approval ------------------------------------------------------------------------


def hypotheses(h: pd.DataFrame, *, prob: float):
    fig, ax = _subplots(figsize=(10, min(MAX_HEIGHT, 0.6 * len(h) + 1.2)))
    y = np.arange(len(h))[::-1]
    contraction = h["contraction"] if "contraction" in h else pd.Series(np.ones(len(h)), index=h.index)
    for yi, r, k in zip(y, h.itertuples(), contraction):
        c = "#1a9850" if r.p_hypothesised_sign >= 0.9 else ("#fdae61" if r.p_hypothesised_sign >= 0.5 else "#d73027")
        label = f"P(sign {'+' if r.hypothesised_sign > 0 else '-'}) = {r.p_hypothesised_sign:.2f}"
        if not k >= CONTRACTION_IDENTIFIED:   # NaN too: an effect fixed at zero
            c = "#999999"
            label = "not estimated (fixed at zero in this spec)" if np.isnan(k) else f"not identified by the data (contraction {k:.2f})"
        elif "contraction" in h:
            label += f", contraction {k:.2f}"
        ax.plot([r.lower, r.upper], [yi, yi], color=c, lw=3, solid_capstyle="butt")
        ax.plot(r.mean, yi, "o", color=c, ms=7, mfc=c if c != "#999999" else "none")
        ax.text(1.01, yi, label, va="center", fontsize=8.5, transform=ax.get_yaxis_transform(), clip_on=False)
    ax.axvline(0, color="#777777", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels(h["hypothesis"], fontsize=8.5)
    ax.set_xlim(min(h["lower"].min(), 0) - 0.2, max(h["upper"].max(), 0) + 0.2)
    ax.set_xlabel("effect on approval (positive = eases approval; cut-point units)")
    ax.set_title(f"construct effects: posterior mean and {prob:.0%} HDI", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def approval(a: pd.DataFrame):
    """P(motion carries) per case against the observed outcome."""
    t = a.reset_index(drop=True)
    fig, ax = _subplots(figsize=(11, _rows_height(len(t), 0.19, 1.2)))
    y = np.arange(len(t))[::-1]
    for yi, r in zip(y, t.itertuples()):
        outcome = "none" if pd.isna(r.observed_passed) else ("passed" if r.observed_passed else "failed")
        ax.plot([0, r.p_pass], [yi, yi], color="#cccccc", lw=1)
        ax.plot(r.p_pass, yi, "o", ms=5.5, color=OUTCOME_COLORS[outcome])
    ax.axvline(0.5, color="#777777", lw=0.8, ls="--")
    ax.set_xlim(-0.02, 1.02)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{c} ({ch[0]})" for c, ch in zip(t["case_id"], t["chamber"])], fontsize=7)
    ax.set_ylim(-0.8, len(t) - 0.2)
    ax.set_xlabel("P(motion carries)  [colour: observed outcome]")
    handles = [Line2D([], [], ls="", marker="o", color=c, label=f"observed: {k}") for k, c in OUTCOME_COLORS.items()]
    ax.legend(handles=handles, fontsize=8, loc="upper right", ncol=3, frameon=False, bbox_to_anchor=(1, 1.0 + 0.45 / fig.get_figheight()))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


# --- ideal-point runs ---------------------------------------------------------------------------------


def ideal_points_by_party(ip: pd.DataFrame, *, max_rows: int = 120):
    """Legislators' ideal points sorted, coloured by party (labelled by name where the table has names; long
    lists are thinned in labels only), and a histogram per party; at most :data:`MAX_HEIGHT` inches tall."""
    t = ip.sort_values("mean").reset_index(drop=True)
    party = t["party"].fillna("(none)").astype(str)
    fig, (ax, ax2) = _subplots(1, 2, figsize=(13, _rows_height(min(len(t), max_rows), 0.09, 2.0)),
                                  gridspec_kw={"width_ratios": [3, 1]})
    y = np.arange(len(t))
    colors = [PARTY_COLORS.get(p, "#7f7f7f") for p in party]
    ax.hlines(y, t["lower"], t["upper"], colors=colors, lw=1.2, alpha=0.7)
    ax.scatter(t["mean"], y, c=colors, s=8, zorder=3)
    step = max(1, len(t) // max_rows)
    ax.set_yticks(y[::step])
    ax.set_yticklabels(legislator_labels(t)[::step], fontsize=5.5 if len(t) > 60 else 7)
    ax.set_ylim(-1, len(t))
    ax.set_xlabel("ideal point (posterior mean and interval)")
    ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], color=PARTY_COLORS.get(p, "#7f7f7f"), lw=2, label=p) for p in sorted(set(party))]
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    for p in sorted(set(party)):
        ax2.hist(t.loc[party == p, "mean"], bins=25, alpha=0.55, color=PARTY_COLORS.get(p, "#7f7f7f"), label=p)
    ax2.set_xlabel("ideal point")
    ax2.set_yticks([])
    ax2.set_title("posterior means by party", fontsize=9)
    fig.tight_layout()
    return fig


# --- validation: SBC and backtest ------------------------------------------------------------------


def sbc_ecdf(ranks: pd.DataFrame, *, prob: float = 0.99):
    """Per parameter group: ECDF of each scalar's fractional ranks minus the uniform, with the
    simultaneous ``prob`` band for one scalar; a calibrated scalar stays inside."""
    ranks = ranks.assign(group=ranks["parameter"].str.split("[", regex=False).str[0])
    groups = list(dict.fromkeys(ranks["group"]))
    n_sims = int(ranks["simulation"].nunique())
    n_draws = int(ranks["n_draws"].max())
    z, half = ecdf_band(n_sims, n_draws, prob=prob)
    ncol = 4
    nrow = int(np.ceil(len(groups) / ncol))
    fig, axes = _subplots(nrow, ncol, figsize=(11, min(MAX_HEIGHT, 2.1 * nrow)), sharex=True, sharey=True, squeeze=False)
    for ax, group in zip(axes.flat, groups):
        g = ranks[ranks["group"] == group]
        for _, s in g.groupby("parameter"):
            ax.plot(*ecdf_difference(s["rank"].to_numpy(), int(s["n_draws"].iloc[0])), color="#1f5fa8", lw=0.6, alpha=0.5)
        ax.fill_between(z, -half, half, color="#bbbbbb", alpha=0.4, lw=0)
        ax.axhline(0, color="black", lw=0.5)
        ax.set_title(f"{group} ({g['parameter'].nunique()})", fontsize=8)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    fig.supxlabel("fractional rank")
    fig.supylabel("ECDF - uniform")
    return tidy(fig)


def sbc_histogram(ranks: pd.DataFrame, bins: int = 10):
    """Pooled rank histogram per group with the expected count and its 99% binomial range."""
    from scipy import stats

    ranks = ranks.assign(group=ranks["parameter"].str.split("[", regex=False).str[0])
    groups = list(dict.fromkeys(ranks["group"]))
    ncol = 6
    nrow = int(np.ceil(len(groups) / ncol))
    fig, axes = _subplots(nrow, ncol, figsize=(11, min(MAX_HEIGHT, 1.6 * nrow)), squeeze=False)
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
    return tidy(fig)


def calibration(table: pd.DataFrame, bins: int = 5):
    """Backtest reliability: observed pass rate against binned predicted P(pass), per predictor."""
    fig, ax = _subplots(figsize=(4.6, 4.0))
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
    return tidy(fig)
