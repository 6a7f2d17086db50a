"""``bayes-coalition report RUN_DIR``: (re)build a run's self-contained HTML report from its saved files.

Registered by :mod:`bayes_coalition.cli.main` through :func:`add_parser`.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

VALIDATION_DIRS = ("sbc", "ideal_points_sbc", "backtest", "compare")


def cmd_report(args) -> int:
    """Build the report; exit code 1 when a section failed (each failure printed to stderr), 2 for a missing run."""
    from bayes_coalition.report import ReportSectionWarning, report

    run_dir = Path(args.run_dir)
    if not run_dir.exists():
        print(f"error: run directory not found: {run_dir}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else (run_dir.parent if run_dir.is_file() else run_dir)
    t0 = time.perf_counter()
    validation = {k: getattr(args, k) for k in VALIDATION_DIRS if getattr(args, k, None)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReportSectionWarning)  # printed below, once, from the result
        result = report(run_dir, out, validation=validation or None)
    print(f"report: {result} ({result.with_suffix('.md').name} alongside) in {time.perf_counter() - t0:.1f} s")
    for err in result.errors:
        print(f"warning: section failed: {err}", file=sys.stderr)
    return 0 if result.ok else 1


def add_parser(subparsers, **kwargs) -> None:
    """Register the ``report`` subcommand on an argparse ``add_subparsers()`` object."""
    p = subparsers.add_parser(
        "report", **kwargs,
        help="(re)build RUN_DIR/report.html and report.md from a saved run",
        description="Build a self-contained HTML diagnostic report (and a Markdown summary) from a run directory "
                    "written by `bayes-coalition fit` or `bayes-coalition ideal-points`.",
    )
    p.add_argument("run_dir", help="run directory (containing posterior.nc, or an ideal-point run's files)")
    p.add_argument("--out", default=None, help="output directory (default: RUN_DIR)")
    for flag, what in (("--sbc", "sbc"), ("--ideal-points-sbc", "sbc --ideal-points"), ("--backtest", "backtest"),
                       ("--compare", "compare")):
        p.add_argument(flag, default=None, metavar="DIR",
                       help=f"output folder of `bayes-coalition {what}` for the validation section (default: RUN_DIR's sibling)")
    p.set_defaults(func=cmd_report)
    return p
