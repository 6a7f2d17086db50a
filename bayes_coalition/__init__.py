"""bayes_coalition: Bayesian analysis of coalition formation in US trade policymaking."""

import warnings as _warnings

# ArviZ 0.2x announces its 1.x refactor on import (PyMC imports it first); silence exactly that one
_warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)

from bayes_coalition.coalition.model import CoalitionModel
from bayes_coalition.data.dataset import TradeDataset, load_dataset
from bayes_coalition.errors import ConvergenceWarning, DataValidationError
from bayes_coalition.ideal_points.model import IdealPointModel
from bayes_coalition.prediction.bills import HypotheticalBill, load_bill
from bayes_coalition.report.build import report
from bayes_coalition.data.rollcalls import RollCallMatrix, load_rollcalls

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
