"""One base for every fitted model: identity, version, fit data, save and load.

After pymc-marketing's ``ModelBuilder``: a subclass names its ``model_type`` and
``version``, says which data tables it was fitted to (:meth:`FittedModel._fit_tables`)
and how to rebuild itself from a loaded InferenceData (:meth:`FittedModel._from_idata`);
the base stores the tables in the InferenceData group ``fit_data`` (strings, one
variable per column, so a run file carries exactly the data its posterior came from),
writes the identity attributes, and on load checks the model type and version with a
message that names both.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition import _arviz

RUN_FILE = "posterior.nc"        # the file a run directory keeps its fitted model in
FIT_DATA = "fit_data"            # the InferenceData group holding the data tables


def package_versions() -> dict:
    """Installed versions of the package and its modelling stack (recorded with every fit)."""
    out = {}
    for name in ("bayes_coalition", "pymc", "pytensor", "arviz", "numpy", "pandas", "xarray", "nutpie"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def run_file(path: str | Path) -> Path:
    """A saved model's file from a run directory or the file itself."""
    path = Path(path)
    if path.is_dir():
        path = path / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    return path


def tables_to_dataset(tables: dict[str, pd.DataFrame]) -> xr.Dataset:
    """Data tables as one xarray Dataset of strings: variable ``table:column`` on dim ``table_row``.

    Cells are kept as the text a CSV would hold (missing -> empty string), so reading them back
    goes through the same schema validation as a file."""
    data = {}
    for name, frame in tables.items():
        for col in frame.columns:
            values = frame[col].astype("object").where(frame[col].notna(), "")
            data[f"{name}:{col}"] = (f"{name}_row", np.asarray([_cell_text(v) for v in values], dtype=object))
        if frame.columns.empty:  # pragma: no cover - tables always have columns
            continue
    ds = xr.Dataset(data)
    ds.attrs["tables"] = json.dumps({name: list(frame.columns) for name, frame in tables.items()})
    return ds


def tables_from_dataset(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The all-string frames stored by :func:`tables_to_dataset`, columns in their original order."""
    out = {}
    for name, columns in json.loads(ds.attrs["tables"]).items():
        cols = {}
        for col in columns:
            values = ds[f"{name}:{col}"].values
            # an empty string variable comes back from netCDF as float: its cells are blank
            cols[col] = [str(v) for v in values] if values.dtype.kind in "OUS" else [""] * len(values)
        out[name] = pd.DataFrame(cols, columns=columns, dtype=object)
    return out


def _cell_text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


class FittedModel:
    """Identity, fit state and persistence shared by the package's models."""

    model_type: ClassVar[str]
    version: ClassVar[str]

    idata = None
    diagnostics: dict

    # --- identity --------------------------------------------------------------------
    @property
    def id(self) -> str:
        """A stable hash of what defines the model (subclasses say what that is)."""
        raise NotImplementedError

    def _identity_attrs(self) -> dict:
        return {
            "model_type": self.model_type,
            "model_version": self.version,
            "model_id": self.id,
            "package_versions": json.dumps(package_versions()),
            "diagnostics": json.dumps(self.diagnostics, default=float),
        }

    def _require_fit(self) -> None:
        if self.idata is None or "posterior" not in self.idata:
            raise RuntimeError(f"the model has not been fitted: call fit() or {type(self).__name__}.load()")

    # --- what a subclass provides -----------------------------------------------------------
    def _model_attrs(self) -> dict:
        """Attributes that rebuild the model (spec, options); strings only."""
        return {}

    def _fit_tables(self) -> dict[str, pd.DataFrame]:
        """The data tables the model was fitted to."""
        return {}

    @classmethod
    def _from_idata(cls, idata, tables: dict[str, pd.DataFrame], path: Path) -> FittedModel:
        raise NotImplementedError

    # --- persistence ------------------------------------------------------------------------
    def _stamp(self) -> None:
        """Write identity, model attributes and the fit data into ``self.idata``."""
        self.idata.attrs.update(self._identity_attrs())
        self.idata.attrs.update(self._model_attrs())
        tables = self._fit_tables()
        if tables:
            if FIT_DATA in self.idata.groups():
                delattr(self.idata, FIT_DATA)
            self.idata.add_groups({FIT_DATA: tables_to_dataset(tables)})

    def save(self, path: str | Path) -> Path:
        """Write the InferenceData (posterior, sample stats, data groups, fit data, identity) to netCDF."""
        self._require_fit()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._stamp()
        _arviz.to_netcdf(self.idata, path)
        return path

    @classmethod
    def load(cls, path: str | Path, groups: tuple[str, ...] | None = None):
        """Rebuild a fitted model from a run directory or the file :meth:`save` wrote."""
        path = run_file(path)
        idata = _arviz.from_netcdf(path, groups=None if groups is None else tuple(groups) + (FIT_DATA,))
        return cls._from_loaded(idata, path)

    @classmethod
    def _from_loaded(cls, idata, path: Path):
        cls.check_identity(idata.attrs, path)
        tables = tables_from_dataset(idata[FIT_DATA]) if FIT_DATA in idata.groups() else {}
        model = cls._from_idata(idata, tables, path)
        if model.id != idata.attrs.get("model_id", model.id):
            raise ValueError(f"{path}: model id {idata.attrs.get('model_id')} does not match the rebuilt model {model.id} "
                             f"(saved by {cls.model_type} version {idata.attrs.get('model_version')}; this is {cls.version})")
        model.idata = idata
        model.diagnostics = json.loads(idata.attrs.get("diagnostics", "{}") or "{}")
        return model

    @classmethod
    def check_identity(cls, attrs, path) -> None:
        """The saved model type must be ours and its version one we read; the message names both."""
        saved = attrs.get("model_type")
        if saved != cls.model_type:
            raise ValueError(f"{path}: not a saved {cls.model_type} (model_type={saved!r})")
        v = attrs.get("model_version")
        if v not in cls.readable_versions():
            raise ValueError(f"{path}: saved by {cls.model_type} version {v}; this package reads versions "
                             f"{', '.join(cls.readable_versions())}: refit the model")

    @classmethod
    def readable_versions(cls) -> tuple[str, ...]:
        return (cls.version,)
