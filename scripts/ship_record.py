"""Ship a finished batch record with the package: copy it into ``models/<kind folder>/<spec name>/`` after checking
that it is a record of the spec's model as the package defines it today (its settings' ``model_id``).

    .venv/bin/python scripts/ship_record.py backtest /path/to/OUT models/trade_coalition.toml
    .venv/bin/python scripts/ship_record.py sbc /path/to/OUT models/trade_coalition.toml
    .venv/bin/python scripts/ship_record.py loeo /path/to/OUT models/trade_coalition.toml

Kinds and their files: ``bayes_coalition.report.run_dir.RECORDS`` (the main file and those a shipped record
carries; a missing file it carries is an error, never skipped). The report and ``predict`` fall back to a shipped
record of the run's model when none is beside the run. The old record of that spec is replaced whole, through a
temporary folder renamed into place. ``--models DIR``: another models folder (tests).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path


def ship(kind: str, source: Path, spec_path: Path, models: Path | None = None) -> Path:
    """Copy the record of ``kind`` in ``source`` to ``models/<kind folder>/<spec name>/``; returns that folder.
    Raises ValueError when the record is missing, unfinished, of another model or lacks a file it must carry."""
    from bayes_coalition.coalition.model import model_id
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.report.run_dir import RECORDS, read_record

    if kind not in RECORDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(RECORDS)}")
    spec = load_spec(spec_path)
    want = model_id(spec)
    content, why = read_record(kind, Path(source), want)
    if content is None:
        raise ValueError(f"{kind} record not shipped: {why}")
    record = RECORDS[kind]
    files = [record.file, *record.ship]
    missing = [f for f in files if not (Path(source) / f).is_file()]
    if missing:
        raise ValueError(f"{kind} record not shipped: {source} lacks {', '.join(missing)}")
    root = (Path(models) if models is not None else default_spec_path().parent) / record.shipped
    dest = root / spec["model"]["name"]
    staging = root / f".{dest.name}.shipping"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for f in files:
        shutil.copy2(Path(source) / f, staging / f)
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", help="backtest, sbc, loeo or compare")
    ap.add_argument("source", type=Path, help="the folder the batch command wrote (its --out)")
    ap.add_argument("spec", type=Path, help="the spec TOML the record must be of")
    ap.add_argument("--models", type=Path, help="the models folder to ship into (default: the package's)")
    args = ap.parse_args(argv)
    try:
        dest = ship(args.kind, args.source, args.spec, args.models)
    except ValueError as err:
        print(f"ship_record: {err}", file=sys.stderr)
        return 1
    print(f"shipped {args.kind} of {args.spec} to {dest}: " + ", ".join(sorted(p.name for p in dest.iterdir())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
