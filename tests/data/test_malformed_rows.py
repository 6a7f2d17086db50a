"""Rows with too few or too many fields, in every shipped CSV file and every roll-call format.

pandas pads a short record with blanks and shifts a long one into the index, so a
damaged file would load as different data.  Each test damages one record of a copy
and checks that the error names that file and the record's spreadsheet row.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from bayes_coalition import DataValidationError, load_dataset, load_rollcalls
from bayes_coalition.data.dataset import OPTIONAL_TABLES, TABLES

REPO = Path(__file__).resolve().parents[2]
TRADE_FILES = sorted([*TABLES, *OPTIONAL_TABLES])
SENATE_FILES = ("votes_wide.csv", "legislators.csv", "rollcalls.csv")


def _records(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, records: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(records)


def truncate(record: list[str]) -> list[str]:
    """The record cut in the middle of a field about half-way along the line."""
    k = len(record) // 2
    return record[:k] + [record[k][: len(record[k]) // 2]]


def extend(record: list[str]) -> list[str]:
    return record + ["extra"]


def damage(path: Path, how) -> int:
    """Damage the middle record of ``path`` in place; return its spreadsheet row (header = row 1)."""
    records = _records(path)
    i = len(records) // 2
    records[i] = how(records[i])
    _write(path, records)
    return i + 1


def assert_names(err: pytest.ExceptionInfo, path: Path, row: int) -> None:
    e = err.value
    assert (e.file, e.row) == (str(path), row), str(e)
    assert f"row {row}" in str(e) and "field" in str(e)


SHIPPED = [("trade", name) for name in TRADE_FILES] + [("senate106", name) for name in SENATE_FILES]


@pytest.mark.parametrize("how", [truncate, extend])
@pytest.mark.parametrize("folder, name", SHIPPED)
def test_damaged_shipped_file_is_rejected_at_its_row(data_copy, tmp_path, folder, name, how):
    """Each file is read by the loader of its folder: load_dataset for the trade tables,
    load_rollcalls for the roll-call matrix and its legislator and roll-call metadata."""
    if folder == "trade":
        root, load = data_copy, load_dataset
    else:
        root, load = tmp_path / folder, load_rollcalls
        shutil.copytree(REPO / "data" / folder, root)
    path = root / name
    row = damage(path, how)
    with pytest.raises(DataValidationError) as err:
        load(root)
    assert_names(err, path, row)
    if how is truncate:  # a short record names the first column it lacks
        header, record = _records(path)[0], _records(path)[row - 1]
        assert err.value.column == header[len(record)]


LONG = [["legislator_id", "rollcall", "vote"], ["a", "r1", "1"], ["b", "r1", "0"], ["a", "r2", "0"], ["b", "r2", "1"]]
VOTEVIEW = [["congress", "chamber", "rollnumber", "icpsr", "cast_code"], ["106", "Senate", "1", "5", "1"],
            ["106", "Senate", "1", "6", "6"], ["106", "Senate", "2", "5", "6"], ["106", "Senate", "2", "6", "1"]]


@pytest.mark.parametrize("how", [truncate, extend])
@pytest.mark.parametrize("fmt, records", [("long", LONG), ("voteview", VOTEVIEW)])
def test_damaged_long_and_voteview_files_are_rejected(tmp_path, fmt, records, how):
    path = tmp_path / f"{fmt}.csv"
    _write(path, records)
    load_rollcalls(path, format=fmt)  # the undamaged file loads
    row = damage(path, how)
    with pytest.raises(DataValidationError) as err:
        load_rollcalls(path, format=fmt)
    assert_names(err, path, row)


def test_rollcall_order_file_is_read_strictly(tmp_path):
    """A long file's optional rollcalls.csv (it orders the columns) is held to the same rule."""
    votes, order = tmp_path / "long.csv", tmp_path / "rollcalls.csv"
    _write(votes, LONG)
    _write(order, [["rollcall", "label"], ["r2", "second"], ["r1", "first"]])
    assert list(load_rollcalls(votes, format="long", rollcalls=order).votes["rollcall"].values) == ["r2", "r1"]
    _write(order, [["rollcall", "label"], ["r2", "second", "x"], ["r1", "first"]])
    with pytest.raises(DataValidationError) as err:
        load_rollcalls(votes, format="long", rollcalls=order)
    assert (err.value.file, err.value.row) == (str(order), 2)


def test_rows_count_records_not_lines(data_copy):
    """A quoted cell spanning three lines is one record: the damaged record after it keeps its row."""
    path = data_copy / "actors.csv"
    records = _records(path)
    records[1][-1] = "first line\nsecond line\nthird line"
    records[3] = extend(records[3])
    _write(path, records)
    assert path.read_text(encoding="utf-8").splitlines()[5].startswith(records[3][0])  # physical line 6
    with pytest.raises(DataValidationError) as err:
        load_dataset(data_copy)
    assert (err.value.file, err.value.row) == (str(path), 4)
