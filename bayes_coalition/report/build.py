"""Self-contained diagnostic report of a run: ``report.html`` (figures embedded) and ``report.md``.

>>> from bayes_coalition.report import report
>>> report("reports/trade_coalition", "reports/trade_coalition")   # a run directory (posterior.nc)
>>> report(fitted_model, "out/")                                    # or a fitted CoalitionModel

Sections of a coalition run: run (spec, data, sampler, versions), convergence (per-variable
R-hat / ESS / MCSE, divergences, BFMI, tree depth, verdict, rank / trace / energy plots),
posterior predictive checks (per case and per party row, whip-count interval, PSIS-LOO,
LOO-PIT), prior predictive check, the estimated Illustration 1 (actors, cut-points,
coalition membership), hypotheses and approval, validation.  An ideal-point run
(``bayes-coalition ideal-points``) gets run, convergence and ideal points (by party,
held-out scores).

A section that fails does not lose the report: its place holds the traceback, and the
failure is listed on :class:`ReportResult` and announced with a :class:`ReportSectionWarning`.
The section modules (and matplotlib with them) are imported only when a report is built.
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from bayes_coalition.constants import PREDICTIVE_PROB, SUMMARY_PROB
from bayes_coalition.report.blocks import Note, Section, Verdict
from bayes_coalition.report.render import render_html, render_markdown
from bayes_coalition.report.run_dir import Run, load_run
from bayes_coalition.report.sections import Context

Builder = Callable[[Context], Section]


class ReportSectionWarning(UserWarning):
    """A report section could not be built; the report was written without it."""


class ReportResult(type(Path())):
    """The path of ``report.html`` (a :class:`~pathlib.Path`), with what went wrong while building it.

    ``errors`` lists the failed sections as ``"anchor: ExceptionType: message"``; ``timings``
    maps each section (and ``"total"``) to seconds.
    """

    # class defaults: paths derived from a result (with_suffix, parent) are plain results
    errors: tuple[str, ...] = ()
    timings: Mapping[str, float] = MappingProxyType({})

    def __new__(cls, path, *, errors=(), timings=None):
        self = super().__new__(cls, path)
        self.errors = tuple(errors)
        self.timings = dict(timings or {})
        return self

    @property
    def ok(self) -> bool:
        return not self.errors


def _plan(kind: str) -> list[tuple[str, str, Builder]]:
    """(anchor, title, builder) of each section of a run kind, looked up when a report is built."""
    from bayes_coalition.report.sections import coalition, convergence, ideal_points, validation

    if kind == "coalition":
        return [
            ("run", coalition.TITLES["run"], coalition.run_section),
            ("convergence", convergence.TITLE, convergence.convergence_section),
            ("ppc", coalition.TITLES["ppc"], coalition.ppc_section),
            ("prior", coalition.TITLES["prior"], coalition.prior_section),
            ("illustration", coalition.TITLES["illustration"], coalition.illustration_section),
            ("hypotheses", coalition.TITLES["hypotheses"], coalition.hypotheses_section),
            ("validation", validation.TITLE, validation.validation_section),
        ]
    return [
        ("run", ideal_points.TITLES["run"], ideal_points.run_section),
        ("convergence", convergence.TITLE, convergence.convergence_section),
        ("ideal-points", ideal_points.TITLES["ideal-points"], ideal_points.ideal_points_section),
    ]


def build_sections(run: Run, out_dir: Path, validation: dict | None = None) -> tuple[list[Section], list[str], dict]:
    """Every section of the run (a failed one as an error note); the failures; seconds per section."""
    import matplotlib

    from bayes_coalition.report import figures

    ctx = Context(run, out_dir, validation)
    sections, errors, timings = [], [], {}
    for anchor, title, build in _plan(run.kind):
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(), figures.closing_new_figures():
                warnings.filterwarnings("ignore", category=matplotlib.MatplotlibDeprecationWarning)
                section = build(ctx)
        except Exception as err:  # noqa: BLE001 - one broken section must not lose the report
            errors.append(f"{anchor}: {type(err).__name__}: {err}")
            section = Section(title, anchor, [Note("This section could not be rendered:\n" + traceback.format_exc(), "error")])
        sections.append(section)
        timings[anchor] = time.perf_counter() - t0
    return sections, errors, timings


def _headline(sections: list[Section]) -> Verdict:
    """The convergence section's verdict (the first Verdict block), shown in the report's header."""
    found = (b for s in sections for b in s.blocks if isinstance(b, Verdict))
    return next(found, Verdict("warn", ("convergence not assessed",)))


def report(run_or_model, out_dir, validation: dict | None = None) -> ReportResult:
    """Build ``out_dir/report.html`` (self-contained) and ``out_dir/report.md``; returns the HTML path.

    ``run_or_model`` is a run directory (with ``posterior.nc`` from :meth:`CoalitionModel.save`,
    or the files of an ideal-point run) or a fitted model.  ``validation`` maps "sbc",
    "ideal_points_sbc", "backtest", "compare" to the output folders of those commands
    (default: the run directory's siblings, see :mod:`bayes_coalition.report.sections.validation`).
    The returned path carries ``errors`` (failed sections, each also warned as
    :class:`ReportSectionWarning`) and ``timings``.
    """
    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    run = load_run(run_or_model)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections, errors, timings = build_sections(run, out_dir, validation)
    total = time.perf_counter() - t_start
    name = (run.model.spec["model"].get("name") if run.model is not None else
            (run.run_dir.name if run.run_dir is not None else "ideal points"))
    kind = "coalition model" if run.kind == "coalition" else "ideal-point model"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    timing = ", ".join(f"{s} {t:.1f} s" for s, t in timings.items())
    page = {
        "title": f"{name}: diagnostic report ({kind})",
        "headline": _headline(sections),
        "meta": f"generated {stamp} by bayes_coalition.report" + (f" from {run.run_dir}" if run.run_dir else ""),
        "notes": ["sections that failed: " + "; ".join(errors)] if errors else [],
        "footer": f"Report generated in {total:.1f} s ({timing}). Intervals: posterior {SUMMARY_PROB:.0%} HDI; predictive "
                  f"{PREDICTIVE_PROB:.0%} central intervals. Self-contained: no scripts, fonts or external resources.",
    }
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(sections, **page), encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(sections, **page), encoding="utf-8")
    for err in errors:
        warnings.warn(f"report section failed: {err}", ReportSectionWarning, stacklevel=2)
    return ReportResult(html_path, errors=errors, timings={"total": total, **timings})


__all__ = ["ReportResult", "ReportSectionWarning", "build_sections", "load_run", "report"]
