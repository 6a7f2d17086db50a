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
    p.add_argument("path", nargs="*", default=None, metavar="DIR",
                   help="directory with legislators.csv + votes_wide.csv (+ rollcalls.csv), e.g. data/senate106; several "
                        "directories (one per Congress and chamber) are a batch, each fitted as a task and written to "
                        "OUT/<directory name>/")
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
    from bayes_coalition.cli.main import worker_options

    worker_options(p)
    p.set_defaults(func=run)


def load_matrix(args):
    """The roll-call matrix named by DIR and/or --votes/--format/--legislators."""
    from bayes_coalition.data.rollcalls import load_rollcalls

    if isinstance(args.path, list):
        if len(args.path) > 1:
            raise ValueError("load_matrix reads one matrix; several directories are a batch (run_batch)")
        args.path = args.path[0] if args.path else None
    if args.path is None and args.votes is None:
        raise DataValidationError("give a data directory (DIR) or --votes FILE")
    if args.votes is None:
        return load_rollcalls(args.path, args.format, legislators=args.legislators)
    folder = Path(args.path) if args.path else None
    legislators = args.legislators or (folder / "legislators.csv" if folder else None)
    rollcalls = folder / "rollcalls.csv" if folder else None
    return load_rollcalls(args.votes, args.format, legislators=legislators, rollcalls=rollcalls)


def run(args) -> int:
    """Fit, write the files, print a short report; exit code 0, or 2 for bad input. Several directories are
    a batch (:func:`run_batch`)."""
    if isinstance(args.path, list) and len(args.path) > 1:
        return run_batch(args)
    return run_one(args)


def run_one(args) -> int:
    """One matrix: fit, write the files, print a short report; exit code 0, or 2 for bad input."""
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
              progressbar=args.progress, cores=getattr(args, "cores", None))
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


def _batch_task(options: dict, path: str, final: str, cores: int | None) -> tuple[int, str]:
    """One matrix of a batch: fit and write its run into a temporary folder beside ``final``, renamed into
    place when complete (a lost worker leaves no half-written run). Returns the exit code and the printout."""
    import argparse
    import contextlib
    import io
    import os
    import shutil

    final = Path(final)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    args = argparse.Namespace(**{**options, "path": path, "out": str(tmp), "cores": cores})
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = run_one(args)
    text = buf.getvalue().replace(str(tmp), str(final))
    if code == 0:
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return code, text


def run_batch(args) -> int:
    """Several matrices (one per Congress and chamber), each fitted as a task of the executor of --workers /
    --scheduler (:mod:`bayes_coalition.parallel`) with the same options and seed, written to
    ``OUT/<directory name>/``. A rerun skips the matrices whose run folder is complete."""
    from bayes_coalition.cli.main import make_executor

    if args.votes is not None:
        print("error: --votes reads one matrix; give directories for a batch", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else DEFAULT_OUT
    names = [Path(p).resolve().name for p in args.path]
    if len(set(names)) < len(names):
        print(f"error: the directories' names must differ (they name the runs in {out}/): {names}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    options = {k: v for k, v in vars(args).items() if k not in ("func", "path", "out", "workers", "scheduler",
                                                                 "cores_per_worker")}
    todo = [(p, n) for p, n in zip(args.path, names) if not (out / n / "diagnostics.json").is_file()]
    for p, n in zip(args.path, names):
        if (p, n) not in todo:
            print(f"{n}: done already ({out / n}/), skipped")
    worst = 0
    with make_executor(args) as ex:
        cores = ex.cores(args.chains) if (ex.workers > 1 or ex.cores_per_worker is not None) else None
        tasks = [(n, (options, p, str(out / n), cores)) for p, n in todo]
        for name, (code, text) in ex.map(_batch_task, tasks, label="ideal-points", progress=ex.workers > 1):
            print(f"== {name} ==\n{text}", end="", flush=True)
            worst = max(worst, code)
    return worst
