"""The schema-checked CSV reader: types, blanks, keys, and malformed input (property-based)."""

from __future__ import annotations


import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_coalition import DataValidationError
from bayes_coalition.data.tables import Column, TableSchema, read_table

SCHEMA = TableSchema(
    "t.csv",
    (
        Column("id", nullable=False),
        Column("count", "int", min=0),
        Column("share", "float", min=0.0, max=1.0),
        Column("flag", "bool"),
        Column("kind", choices=("a", "b")),
    ),
    ("id",),
)


def write(tmp_path, text: str):
    p = tmp_path / "t.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_types_and_keeps_blanks_missing(tmp_path):
    p = write(tmp_path, "id,count,share,flag,kind\nx,3,0.5,yes,a\ny,,,,\n")
    df = read_table(p, SCHEMA)
    assert df["count"].tolist()[0] == 3 and pd.isna(df["count"].iloc[1])
    assert df["share"].iloc[0] == 0.5 and bool(df["flag"].iloc[0]) is True
    assert pd.isna(df["flag"].iloc[1]) and pd.isna(df["kind"].iloc[1])
    assert df["row"].tolist() == [2, 3]


@pytest.mark.parametrize(
    "line, column, reason",
    [
        ("x,abc,0.5,yes,a", "count", "is not a number"),
        ("x,2.5,0.5,yes,a", "count", "is not an integer"),
        ("x,-1,0.5,yes,a", "count", "below the minimum"),
        ("x,1,1.5,yes,a", "share", "above the maximum"),
        ("x,1,zero,yes,a", "share", "is not a number"),
        ("x,1,0.5,maybe,a", "flag", "is not yes/no"),
        ("x,1,0.5,yes,c", "kind", "is not one of"),
        (",1,0.5,yes,a", "id", "required value is blank"),
    ],
)
def test_rejects_bad_cells_naming_file_row_column(tmp_path, line, column, reason):
    p = write(tmp_path, "id,count,share,flag,kind\ny,1,0.1,no,b\n" + line + "\n")
    with pytest.raises(DataValidationError) as err:
        read_table(p, SCHEMA)
    e = err.value
    assert e.row == 3 and e.column == column and e.file == str(p)
    assert reason in str(e) and "row 3" in str(e) and str(p) in str(e)


def test_rejects_duplicate_primary_key(tmp_path):
    p = write(tmp_path, "id,count,share,flag,kind\nx,1,0.1,no,a\ny,1,0.1,no,a\nx,2,0.2,no,b\n")
    with pytest.raises(DataValidationError, match=r"row 4.*duplicate primary key \(x\); first seen in row 2"):
        read_table(p, SCHEMA)


def test_names_missing_required_columns(tmp_path):
    p = write(tmp_path, "id,share,flag\nx,0.1,no\n")
    with pytest.raises(DataValidationError, match="missing required column.*count.*kind"):
        read_table(p, SCHEMA)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DataValidationError, match="missing table"):
        read_table(tmp_path / "nope.csv", SCHEMA)


@settings(max_examples=60, deadline=None)
@given(cell=st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=',"\r\n'), min_size=1, max_size=8))
def test_count_column_accepts_only_non_negative_integers(tmp_path_factory, cell):
    """Any text in an integer column either parses to a non-negative int or raises for that cell."""
    p = tmp_path_factory.mktemp("h") / "t.csv"
    p.write_text(f"id,count,share,flag,kind\nx,{cell},,,\n", encoding="utf-8")
    text = cell.strip()
    try:
        df = read_table(p, SCHEMA)
    except DataValidationError as err:
        assert err.row == 2 and err.column == "count"
        return
    value = df["count"].iloc[0]
    if text == "":
        assert pd.isna(value)
    else:
        assert int(text) == value and value >= 0


@settings(max_examples=40, deadline=None)
@given(n_rows=st.integers(1, 6), dup_at=st.integers(0, 5))
def test_any_duplicate_key_is_caught_at_its_row(tmp_path_factory, n_rows, dup_at):
    rows = [f"k{i},1,0.5,yes,a" for i in range(n_rows)]
    dup_at = dup_at % n_rows
    rows.append(f"k{dup_at},2,0.5,no,b")
    p = tmp_path_factory.mktemp("d") / "t.csv"
    p.write_text("id,count,share,flag,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        read_table(p, SCHEMA)
    assert err.value.row == n_rows + 2 and f"first seen in row {dup_at + 2}" in str(err.value)
