"""The ``bayes-coalition ideal-points`` subcommand: fit member-level ideal points to a roll-call matrix.

Registered by ``cli.py`` through :func:`add_parser`.  Writes ``ideal_points.csv``,
``diagnostics.json``, ``fit_statistics.json``, ``holdout.json`` (with ``--holdout-fraction``)
and ``posterior.nc`` to ``--out`` (default ``reports/ideal_points/``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bayes_coalition.errors import DataValidationError

DEFAULT_OUT = Path("reports") / "ideal_points"


def add_parser(subparsers, **kwargs) -> None:
    """Register ``ideal-points`` on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("ideal-points", help="hierarchical 2PL ideal points from a roll-call matrix", **kwargs)
    p.add_argument("path", nargs="?", default=None, metavar="DIR",
                   help="directory with legislators.csv + votes_wide.csv (+ rollcalls.csv), e.g. data/senate106")
    p.add_argument("--votes", default=None, help="votes file (instead of DIR's votes_wide.csv)")
    p.add_argument("--format", choices=["wide", "long", "voteview"], default="wide", help="layout of the votes")
    p.add_argument("--legislators", default=None, help="legislators.csv (default: DIR/legislators.csv)")
    p.add_argument("--out", default=None, help=f"output directory (default {DEFAULT_OUT}/)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sampler and the holdout split")
    p.add_argument("--sampler", choices=["auto", "pymc", "nutpie", "numpyro", "blackjax"], default="auto",
                   help="NUTS implementation (auto = nutpie when installed)")
    p.add_argument("--holdout-fraction", type=float, default=0.0, help="share of observed cells hidden and scored")
    p.add_argument("--draws", type=int, default=1000, help="posterior draws per chain")
    p.add_argument("--tune", type=int, default=500, help="tuning steps per chain")
    p.add_argument("--chains", type=int, default=2, help="chains")
    p.add_argument("--link", choices=["logit", "probit"], default="logit", help="link function of the 2PL model")
    p.add_argument("--party-sd", choices=["party", "common"], default="party",
                   help="spread of ideal points around the party mean: one per party, or common")
    p.add_argument("--lopsided", type=float, default=0.025, help="drop roll calls whose minority share is below this")
    p.add_argument("--min-votes", type=int, default=25, help="drop legislators with fewer recorded votes")
    p.add_argument("--positive-party", default="R", help="party placed on the positive side (default R)")
    p.add_argument("--link-factions", default=None, metavar="RUN",
                   help="coalition run (directory or posterior.nc) whose factions become the hyper-means of members' positions")
    p.add_argument("--faction-column", default=None,
                   help="with --link-factions: legislators.csv column naming each member's faction (blank = party mixture)")
    p.add_argument("--progress", action="store_true", help="show the sampler's progress bar")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.set_defaults(func=run)


def load_matrix(args):
    """The roll-call matrix named by DIR and/or --votes/--format/--legislators."""
    from bayes_coalition.data.rollcalls import load_rollcalls

    if args.path is None and args.votes is None:
        raise DataValidationError("give a data directory (DIR) or --votes FILE")
    if args.votes is None:
        return load_rollcalls(args.path, args.format, legislators=args.legislators)
    folder = Path(args.path) if args.path else None
    legislators = args.legislators or (folder / "legislators.csv" if folder else None)
    rollcalls = folder / "rollcalls.csv" if folder else None
    return load_rollcalls(args.votes, args.format, legislators=legislators, rollcalls=rollcalls)


def run(args) -> int:
    """Fit, write the files, print a short report; exit code 0, or 2 for bad input."""
    from bayes_coalition.diagnostics import verdict
    from bayes_coalition.ideal_points import IdealPointModel
    from bayes_coalition.report.run_dir import write_ideal_point_run

    try:
        matrix = load_matrix(args)
        model = IdealPointModel(matrix, link=args.link, party_sd=args.party_sd, positive_party=args.positive_party,
                                lopsided=args.lopsided, min_votes=args.min_votes,
                                holdout_fraction=args.holdout_fraction, holdout_seed=args.seed,
                                factions=args.link_factions, faction_column=args.faction_column)
    except (DataValidationError, ValueError, FileNotFoundError) as err:
        print(f"error: invalid data: {err}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    print(model.rollcalls.summary(), flush=True)
    t0 = time.perf_counter()
    model.fit(random_seed=args.seed, sampler=args.sampler, draws=args.draws, tune=args.tune, chains=args.chains,
              progressbar=args.progress)
    written = write_ideal_point_run(model, out, wall_seconds=time.perf_counter() - t0)
    diag, files = written.diagnostics, written.files
    stats = model.fit_statistics()
    lines = [f"in-sample: correct classification {stats['correct_classification']:.3f}, APRE {stats['apre']:.3f}, GMP {stats['gmp']:.3f}"]
    if model.holdout_mask.any():
        hold = model.holdout_scores()
        lines.append(f"held out ({hold['n_cells']} cells): accuracy {hold['accuracy']:.3f}, Brier {hold['brier']:.3f}, "
                     f"log score {hold['log_score']:.3f}, APRE {hold['apre']:.3f}")
    status, reasons = verdict(diag)
    lines.append(f"convergence: {status}" + (" (" + "; ".join(reasons) + ")" if reasons else "")
                 + f" | max R-hat {diag['max_rhat']:.3f}, min ESS bulk {diag['min_ess_bulk']:.0f}, divergences {diag['divergences']}"
                 + f", sampler {diag['sampler']}, {diag['wall_seconds']:.0f} s")
    if model.options["factions"] is not None:
        lines.append(f"linked to {model.options['factions']['source']}: faction max R-hat {diag['faction_max_rhat']:.3f}, "
                     f"min ESS bulk {diag['faction_min_ess_bulk']:.0f}")
        lines.append(model.faction_positions().round(3).to_string(index=False))
    print("\n".join(lines))
    print(f"wrote {out}/ ({', '.join(files)})")
    if not getattr(args, "no_report", False):
        from bayes_coalition.report import report

        print(f"report: {report(out, out)}")
    return 0
