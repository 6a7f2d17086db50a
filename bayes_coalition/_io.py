"""The package's one JSON reader and writer.

NumPy scalars and arrays become JSON numbers and lists; NaN and infinities become
``null`` (JSON has no NaN: ``json.dumps`` would write the invalid token ``NaN``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def to_jsonable(obj: Any) -> Any:
    """A copy of ``obj`` made of dicts, lists, str, int, float, bool and None; non-finite floats -> None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str):
        return obj
    try:  # pandas NA and other scalar missing values
        import pandas as pd

        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text (``allow_nan=False``: a NaN that slipped through is an error, not ``NaN``)."""
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as JSON (NaN -> null), atomically: a temporary file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps(obj) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_json(path: str | Path, *, missing_ok: bool = False) -> dict:
    """Read a JSON file; ``missing_ok`` returns {} for a missing or unreadable file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if missing_ok:
            return {}
        raise
