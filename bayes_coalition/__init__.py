"""bayes_coalition: Bayesian analysis of coalition formation in US trade policymaking."""

from .coalition_model import CoalitionModel
from .dataset import TradeDataset, load_dataset
from .errors import ConvergenceWarning, DataValidationError
from .rollcalls import RollCallMatrix, load_rollcalls

__version__ = "0.1.0"

__all__ = [
    "CoalitionModel",
    "ConvergenceWarning",
    "DataValidationError",
    "RollCallMatrix",
    "TradeDataset",
    "__version__",
    "load_dataset",
    "load_rollcalls",
]
