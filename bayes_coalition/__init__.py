"""bayes_coalition: Bayesian analysis of coalition formation in US trade policymaking."""

import warnings as _warnings

# ArviZ 0.2x announces its 1.x refactor on import (PyMC imports it first); silence exactly that one
_warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)

from .coalition_model import CoalitionModel
from .dataset import TradeDataset, load_dataset
from .errors import ConvergenceWarning, DataValidationError
from .ideal_points import IdealPointModel
from .bills import HypotheticalBill, load_bill
from .report import report
from .rollcalls import RollCallMatrix, load_rollcalls

__version__ = "0.1.0"

__all__ = [
    "CoalitionModel",
    "ConvergenceWarning",
    "DataValidationError",
    "HypotheticalBill",
    "IdealPointModel",
    "RollCallMatrix",
    "TradeDataset",
    "__version__",
    "load_bill",
    "load_dataset",
    "load_rollcalls",
    "report",
]
