"""The package as a whole: light import, the public API, the shared JSON writer and fit-data tables."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import bayes_coalition as bc
from bayes_coalition import _base, _io
from tests.helpers import REPO


def test_import_loads_neither_matplotlib_nor_numba():
    code = ("import bayes_coalition, sys; bad = [m for m in ('matplotlib', 'numba', 'pymc') if m in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_public_names_resolve():
    for name in bc.__all__:
        assert getattr(bc, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        bc.nonexistent  # noqa: B018


@pytest.mark.parametrize("first", ["", "import bayes_coalition.report.checks", "bc.report; import bayes_coalition.report.render"])
def test_bc_report_is_callable_whatever_was_imported_first(first):
    """``bc.report(model, dir)`` (README): the name is also the subpackage, which an import of any of its modules binds
    in ``bayes_coalition``; it was "'module' object is not callable" after e.g. ``bayes_coalition.report.checks``."""
    code = "\n".join(["import bayes_coalition as bc", first,
                      "try:",
                      "    bc.report('/nonexistent/run', '/nonexistent/out')",
                      "except FileNotFoundError as e:",        # the report function ran (and found no run)
                      "    assert 'run directory not found' in str(e), e"])
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_json_writer_turns_nan_into_null(tmp_path):
    obj = {"a": float("nan"), "b": np.float64("inf"), "c": np.int64(3), "d": [np.nan, 1.5], "e": pd.NA, "f": np.bool_(True)}
    path = _io.write_json(tmp_path / "x.json", obj)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": None, "c": 3, "d": [None, 1.5], "e": None, "f": True}
    assert not (tmp_path / "x.json.tmp").exists()
    with pytest.raises(TypeError, match="cannot write object"):
        _io.dumps({"x": object()})


def test_fit_data_tables_round_trip_including_blanks_and_empty_tables():
    tables = {"a": pd.DataFrame({"id": ["x", "y"], "n": pd.array([1, None], dtype="Int64"),
                                 "ok": pd.array([True, None], dtype="boolean")}),
              "empty": pd.DataFrame({"q": pd.Series([], dtype="string")})}
    back = _base.tables_from_dataset(_base.tables_to_dataset(tables))
    assert list(back) == ["a", "empty"]
    assert back["a"].to_dict(orient="list") == {"id": ["x", "y"], "n": ["1", ""], "ok": ["yes", ""]}
    assert back["empty"].shape == (0, 1)


def test_run_file_accepts_a_directory_or_the_file(tmp_path):
    (tmp_path / "posterior.nc").write_bytes(b"")
    assert _base.run_file(tmp_path) == tmp_path / "posterior.nc"
    assert _base.run_file(tmp_path / "posterior.nc") == tmp_path / "posterior.nc"
    with pytest.raises(FileNotFoundError, match="no saved model"):
        _base.run_file(tmp_path / "elsewhere")
