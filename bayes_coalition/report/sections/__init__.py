"""Compute-only section builders: each takes a :class:`~bayes_coalition.report.run_dir.Run` and a
:class:`Context` and returns a :class:`~bayes_coalition.report.blocks.Section`; none renders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from bayes_coalition.constants import PREDICTIVE_PROB
from bayes_coalition.report.run_dir import Run


@dataclass
class Context:
    """What sections of one report share: the run, the output folder, validation folders, shared tables."""

    run: Run
    out_dir: Path
    validation: dict | None = None

    @cached_property
    def approval(self) -> pd.DataFrame:
        """The coalition model's approval table (used by three sections, computed once)."""
        return self.run.model.approval(prob=PREDICTIVE_PROB)
