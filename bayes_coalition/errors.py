"""The package's exception types."""

from __future__ import annotations


class DataValidationError(ValueError):
    """Input data that breaks a rule; the message names the file, the row and the column.

    ``row`` counts as a spreadsheet does: the header is row 1, the first record row 2.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        self.reason = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ConvergenceWarning(UserWarning):
    """A fit did not meet the convergence thresholds (R-hat, ESS, divergences, BFMI)."""


class LeakageError(RuntimeError):
    """An evaluation would let data dated on or after a predicted vote inform its prediction."""
