"""The schema-checked CSV reader: types, blanks, keys, and malformed input (property-based)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_coalition import DataValidationError
from bayes_coalition.data.dataset import default_data_dir
from bayes_coalition.data.tables import Column, TableSchema, read_csv, read_table, validate_frame

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


def where(err: pytest.ExceptionInfo) -> tuple:
    return err.value.file, err.value.row, err.value.column


def test_rejects_duplicate_primary_key(tmp_path):
    p = write(tmp_path, "id,count,share,flag,kind\nx,1,0.1,no,a\ny,1,0.1,no,a\nx,2,0.2,no,b\n")
    with pytest.raises(DataValidationError, match=r"row 4.*duplicate primary key \(x\); first seen in row 2") as err:
        read_table(p, SCHEMA)
    assert where(err) == (str(p), 4, "id")


def test_composite_key_names_all_its_columns(tmp_path):
    schema = TableSchema("t.csv", (Column("a"), Column("b"), Column("c")), ("a", "b"))
    p = write(tmp_path, "a,b,c\nx,1,p\nx,2,q\nx,1,r\n")
    with pytest.raises(DataValidationError, match=r"duplicate primary key \(x, 1\); first seen in row 2") as err:
        read_table(p, schema)
    assert where(err) == (str(p), 4, "a+b")


def test_names_missing_required_columns(tmp_path):
    p = write(tmp_path, "id,share,flag\nx,0.1,no\n")
    with pytest.raises(DataValidationError, match="missing required column.*count.*kind") as err:
        read_table(p, SCHEMA)
    assert where(err) == (str(p), 1, "count")


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DataValidationError, match="missing table 't.csv'") as err:
        read_table(tmp_path / "nope.csv", SCHEMA)
    assert where(err) == (str(tmp_path / "nope.csv"), None, None)


@pytest.mark.parametrize("cell", ["inf", "-inf", "nan", "NaN", "1e999"])
def test_float_must_be_finite(tmp_path, cell):
    p = write(tmp_path, f"id,count,share,flag,kind\nx,1,{cell},no,a\n")
    with pytest.raises(DataValidationError, match="is not a finite number") as err:
        read_table(p, SCHEMA)
    assert where(err) == (str(p), 2, "share")


def test_duplicate_header_is_an_error(tmp_path):
    """pandas would rename the second ``count`` to ``count.1`` and read the first."""
    p = write(tmp_path, "id,count,share,flag,kind, count\nx,1,0.5,no,a,2\n")
    with pytest.raises(DataValidationError, match=r"duplicate column header\(s\): count") as err:
        read_table(p, SCHEMA)
    assert where(err) == (str(p), 1, "count")


def test_duplicate_header_in_a_frame_is_an_error():
    frame = pd.DataFrame([["x", "1", "2"]], columns=["id", "count", "count "])
    with pytest.raises(DataValidationError, match="duplicate column header") as err:
        validate_frame(frame, SCHEMA, file="f")
    assert where(err) == ("f", 1, "count")


@pytest.mark.parametrize(
    "text, row, reason",
    [
        ("id,count,share,flag,kind\nx,1,0.5,no,a\ny,1,0.5,no,\"a\n", 3, "unexpected end of data"),
        ("id,count,share,flag,kind\nx,1,0.5,no,a\ny,1,\"0.5\"x,no,a\n", 3, "',' expected after '\"'"),
    ],
)
def test_bad_quoting_is_an_error_at_its_row(tmp_path, text, row, reason):
    p = write(tmp_path, text)
    with pytest.raises(DataValidationError, match="cannot parse as CSV") as err:
        read_table(p, SCHEMA)
    assert reason in err.value.reason and where(err) == (str(p), row, None)


def test_empty_file_is_an_error(tmp_path):
    p = write(tmp_path, "")
    with pytest.raises(DataValidationError, match="empty file: no header row") as err:
        read_table(p, SCHEMA)
    assert where(err) == (str(p), 1, None)


def test_text_must_be_utf8(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes("id,count,share,flag,kind\nx,1,0.5,no,a\nZ\u00fcrich,1,0.5,no,a\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match="not UTF-8 text: byte 0xfc on line 3") as err:
        read_table(p, SCHEMA)
    assert where(err) == (str(p), None, None)


def test_byte_order_mark_and_crlf_are_read(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b"\xef\xbb\xbfid,count,share,flag,kind\r\nx,1,0.5,no,a\r\n")
    assert read_table(p, SCHEMA)["id"].tolist() == ["x"]


def test_blank_lines_are_skipped_but_counted(tmp_path):
    """A blank line is no record, but the rows after it keep the numbers an editor shows."""
    p = write(tmp_path, "id,count,share,flag,kind\nx,1,0.5,no,a\n\ny,1,0.5,no,a\nz,-1,0.5,no,a\n\n")
    with pytest.raises(DataValidationError, match="below the minimum") as err:
        read_table(p, SCHEMA)
    assert where(err) == (str(p), 5, "count")
    p = write(tmp_path, "id,count,share,flag,kind\nx,1,0.5,no,a\n\ny,1,0.5,no,a\n\n")
    assert read_table(p, SCHEMA)["row"].tolist() == [2, 4]


def test_validate_frame_numbers_rows_and_reads_missing_cells_as_blank():
    """A frame from pandas (NaN for blanks, a plain index) is numbered 2, 3, ... as if written to CSV."""
    frame = pd.DataFrame({"id": ["x", "y", "z"], "count": ["1", np.nan, None], "share": [np.nan, "0.5", "0.5"],
                          "flag": [None, "no", "yes"], "kind": ["a", "b", "c"]}, index=[10, 11, 12])
    with pytest.raises(DataValidationError) as err:
        validate_frame(frame, SCHEMA, file="f")
    assert where(err) == ("f", 4, "kind")
    ok = validate_frame(frame.iloc[:2], SCHEMA, file="f")
    assert ok["row"].tolist() == [2, 3] and pd.isna(ok["count"].iloc[1]) and pd.isna(ok["share"].iloc[0])


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


@pytest.mark.parametrize("name", ["actors.csv", "cases.csv", "codebook.csv", "episodes.csv", "evidence.csv",
                                  "vote_counts.csv", "senate106/legislators.csv", "senate106/rollcalls.csv",
                                  "senate106/votes_wide.csv"])
def test_read_csv_reads_well_formed_files_as_pandas_does(name):
    """Same text cells and string dtype as pd.read_csv(dtype=str): code downstream of the readers
    (blank metadata cells turned missing, say) sees the same values; only the index is the row."""
    path = default_data_dir() / name
    ours = read_csv(path)
    assert ours.index.name == "row" and ours.index[0] == 2 and ours.index[-1] == len(ours) + 1
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), pd.read_csv(path, dtype=str, keep_default_na=False))
