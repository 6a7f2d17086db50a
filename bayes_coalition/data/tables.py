"""Schema-checked CSV tables: typed columns, primary keys, clear errors.

Every shipped or user table is read through :func:`read_table`, which parses each
cell against its :class:`Column` and raises :class:`DataValidationError` naming the
file, row and column of the first bad cell.  Blank cells become missing values
(``pd.NA``), never zero.
"""

from __future__ import annotations

import re
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


def read_table(path: str | Path, schema: TableSchema) -> pd.DataFrame:
    """Read and validate one CSV table; the result has a ``row`` column with each record's row number."""
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise DataValidationError(f"missing table '{schema.name}'", file=file)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, skipinitialspace=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataValidationError(f"cannot parse as CSV: {err}", file=file) from None
    return validate_frame(raw, schema, file=file)


def validate_frame(raw: pd.DataFrame, schema: TableSchema, *, file: str) -> pd.DataFrame:
    """Validate an all-string frame against ``schema`` (used by :func:`read_table` and on user frames)."""
    raw = raw.rename(columns=lambda c: str(c).strip())
    dupes = raw.columns[raw.columns.duplicated()].tolist()
    if dupes:
        raise DataValidationError(f"duplicate column header(s): {', '.join(dupes)}", file=file, row=1)
    missing = [c.name for c in schema.columns if c.required and c.name not in raw.columns]
    if missing:
        raise DataValidationError(f"missing required column(s): {', '.join(missing)}", file=file, row=1)
    out = {}
    rows = np.arange(len(raw)) + 2
    for col in schema.columns:
        if col.name not in raw.columns:
            out[col.name] = pd.array([pd.NA] * len(raw), dtype=_DTYPES[col.kind])
            continue
        values = []
        for text, row in zip(raw[col.name].astype(str), rows):
            text = text.strip()
            if text == "":
                if not col.nullable:
                    raise DataValidationError("required value is blank", file=file, row=int(row), column=col.name)
                values.append(pd.NA)
            else:
                values.append(_parse_cell(text, col, file, int(row)))
        out[col.name] = pd.array(values, dtype=_DTYPES[col.kind])
    frame = pd.DataFrame(out)
    frame["row"] = rows
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
