"""Schema-checked CSV tables: typed columns, primary keys, clear errors.

Every shipped or user table is read through :func:`read_table`, which parses each
cell against its :class:`Column` and raises :class:`DataValidationError` naming the
file, row and column of the first bad cell.  Blank cells become missing values
(``pd.NA``), never zero.

The CSV text itself is read by :func:`read_csv` (also used for roll-call files), which
rejects what pandas would silently repair: a record with fewer fields than the header
(a line cut short would be padded with blanks) or with more (the extra field would shift
the row into the index).  Rows are numbered as a spreadsheet shows them: the header is
row 1, the first record row 2, a record whose quoted field spans lines is still one row.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition.errors import DataValidationError

_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"yes", "true", "1", "y", "t"}
_FALSE = {"no", "false", "0", "n", "f"}


@dataclass(frozen=True)
class Column:
    """One column: its name, kind (str, int, float, bool) and the rules its cells obey."""

    name: str
    kind: str = "str"
    required: bool = True
    nullable: bool = True
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class TableSchema:
    """The columns and primary key of one table."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _parse_cell(text: str, col: Column, file: str, row: int):
    if col.kind == "str":
        value = text
    elif col.kind == "int":
        if not _INT.match(text):
            try:
                float(text)
            except ValueError:
                raise DataValidationError(f"'{text}' is not a number", file=file, row=row, column=col.name) from None
            raise DataValidationError(f"'{text}' is not an integer", file=file, row=row, column=col.name)
        value = int(text)
    elif col.kind == "float":
        try:
            value = float(text)
        except ValueError:
            raise DataValidationError(f"'{text}' is not a number", file=file, row=row, column=col.name) from None
        if not np.isfinite(value):
            raise DataValidationError(f"'{text}' is not a finite number", file=file, row=row, column=col.name)
    elif col.kind == "bool":
        low = text.lower()
        if low not in _TRUE | _FALSE:
            raise DataValidationError(f"'{text}' is not yes/no", file=file, row=row, column=col.name)
        value = low in _TRUE
    else:  # pragma: no cover - schema bug
        raise ValueError(f"unknown column kind {col.kind}")
    if col.choices is not None and value not in col.choices:
        allowed = ", ".join(map(str, col.choices))
        raise DataValidationError(f"'{text}' is not one of: {allowed}", file=file, row=row, column=col.name)
    if col.min is not None and value < col.min:
        raise DataValidationError(f"{value} is below the minimum {col.min}", file=file, row=row, column=col.name)
    if col.max is not None and value > col.max:
        raise DataValidationError(f"{value} is above the maximum {col.max}", file=file, row=row, column=col.name)
    return value


_DTYPES = {"str": "string", "int": "Int64", "float": "Float64", "bool": "boolean"}
ROW = "row"  # index name of a frame from read_csv: its values are the records' spreadsheet rows


def _check_header(names: list[str], file: str) -> None:
    """Two columns of one name would make every later lookup ambiguous (pandas would rename one ``x.1``)."""
    dupes = [n for n, k in Counter(names).items() if k > 1]
    if dupes:
        raise DataValidationError(f"duplicate column header(s): {', '.join(dupes)}", file=file, row=1, column=dupes[0])


def parse_csv(lines: Iterable[str], *, file: str) -> pd.DataFrame:
    """Parse CSV text (an open file, a ``StringIO``, a list of lines) into an all-``str`` frame.

    Every record must have as many fields as the header; blank lines are skipped but still
    counted, so the index (named ``row``) holds each record's spreadsheet row.  Header names
    are stripped of surrounding blanks.  ``file`` names the source in errors."""
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    records: list[list[str]] = []
    rows: list[int] = []
    row = 0
    try:
        for row, fields in enumerate(reader, start=1):
            if not fields:
                continue
            if header is None:
                header = [f.strip() for f in fields]
                _check_header(header, file)
                continue
            if len(fields) < len(header):
                raise DataValidationError(
                    f"the row has {len(fields)} field(s) but the header {len(header)}: the line is cut short "
                    f"(or a comma is missing) before column '{header[len(fields)]}'",
                    file=file, row=row, column=header[len(fields)],
                )
            if len(fields) > len(header):
                raise DataValidationError(
                    f"the row has {len(fields)} fields but the header only {len(header)}: an unquoted comma "
                    "or a field too many (quote cells that contain commas)",
                    file=file, row=row,
                )
            records.append(fields)
            rows.append(row)
    except csv.Error as err:
        raise DataValidationError(f"cannot parse as CSV: {err}", file=file, row=row + 1) from None
    if header is None:
        raise DataValidationError("empty file: no header row", file=file, row=1)
    # dtype=str, as pd.read_csv(dtype=str) gives it: callers see the string dtype (and its missing
    # value) of the pandas installed, as they did when the files were read by pandas
    return pd.DataFrame(records, columns=header, index=pd.Index(rows, name=ROW, dtype="int64"), dtype=str)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a UTF-8 CSV file (a byte-order mark is allowed) with :func:`parse_csv`."""
    path = Path(path)
    file = str(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataValidationError(f"not UTF-8 text: byte {data[err.start]:#04x} on line {line} ({err.reason})",
                                  file=file) from None
    return parse_csv(io.StringIO(text, newline=""), file=file)


def read_table(path: str | Path, schema: TableSchema) -> pd.DataFrame:
    """Read and validate one CSV table; the result has a ``row`` column with each record's row number."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"missing table '{schema.name}'", file=str(path))
    return validate_frame(read_csv(path), schema, file=str(path))


def validate_frame(raw: pd.DataFrame, schema: TableSchema, *, file: str) -> pd.DataFrame:
    """Validate an all-string frame against ``schema`` (used by :func:`read_table` and on user frames).

    Row numbers in errors and in the result's ``row`` column come from the index when it is
    named ``row`` (as :func:`read_csv` makes it); any other frame is numbered 2, 3, ... in
    order, as if it had been written to CSV under a header.  Missing cells (None, NaN) count
    as blank, so a frame read by pandas with its default NA handling is judged as its text."""
    raw = raw.rename(columns=lambda c: str(c).strip())
    _check_header(list(raw.columns), file)
    missing = [c.name for c in schema.columns if c.required and c.name not in raw.columns]
    if missing:
        raise DataValidationError(f"missing required column(s): {', '.join(missing)}", file=file, row=1,
                                  column=missing[0])
    out = {}
    rows = raw.index.to_numpy(dtype=np.int64) if raw.index.name == ROW else np.arange(len(raw)) + 2
    for col in schema.columns:
        if col.name not in raw.columns:
            out[col.name] = pd.array([pd.NA] * len(raw), dtype=_DTYPES[col.kind])
            continue
        values = []
        for cell, row in zip(raw[col.name], rows, strict=True):
            text = "" if _is_missing(cell) else str(cell).strip()
            if text == "":
                if not col.nullable:
                    raise DataValidationError("required value is blank", file=file, row=int(row), column=col.name)
                values.append(pd.NA)
            else:
                values.append(_parse_cell(text, col, file, int(row)))
        out[col.name] = pd.array(values, dtype=_DTYPES[col.kind])
    frame = pd.DataFrame(out)
    frame[ROW] = rows
    if schema.primary_key:
        key = list(schema.primary_key)
        dup = frame.duplicated(subset=key, keep="first")
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            first = frame.loc[frame[key].eq(frame.loc[i, key]).all(axis=1), "row"].iloc[0]
            value = ", ".join(str(frame.loc[i, k]) for k in key)
            raise DataValidationError(
                f"duplicate primary key ({value}); first seen in row {first}",
                file=file,
                row=int(frame.loc[i, "row"]),
                column=key[0] if len(key) == 1 else "+".join(key),
            )
    return frame


def _is_missing(cell) -> bool:
    try:
        return bool(pd.isna(cell))
    except (TypeError, ValueError):  # a list or array in a cell is not missing, and will fail to parse
        return False
