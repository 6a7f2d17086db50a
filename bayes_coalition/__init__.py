"""bayes_coalition: Bayesian analysis of coalition formation in US trade policymaking.

The public API. Names are imported on first use (PEP 562), so ``import bayes_coalition``
stays light: it loads neither PyMC, matplotlib nor numba until a model, a report or an
ideal-point fit needs them (and never switches a notebook's matplotlib backend).
"""

from __future__ import annotations

import importlib
import warnings as _warnings

from bayes_coalition.errors import ConvergenceWarning, DataValidationError

# ArviZ 0.2x announces its 1.x refactor on import (PyMC imports it first); silence exactly that one
_warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)

__version__ = "0.1.0"

_LAZY = {
    "CoalitionModel": "bayes_coalition.coalition.model",
    "TradeDataset": "bayes_coalition.data.dataset",
    "load_dataset": "bayes_coalition.data.dataset",
    "IdealPointModel": "bayes_coalition.ideal_points",
    "HypotheticalBill": "bayes_coalition.prediction.bills",
    "load_bill": "bayes_coalition.prediction.bills",
    "report": "bayes_coalition.report",
    "RollCallMatrix": "bayes_coalition.data.rollcalls",
    "load_rollcalls": "bayes_coalition.data.rollcalls",
}

__all__ = ["ConvergenceWarning", "DataValidationError", "__version__", *sorted(_LAZY)]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bayes_coalition' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
