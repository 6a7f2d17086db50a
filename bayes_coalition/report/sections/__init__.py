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

    @cached_property
    def convergence(self) -> dict:
        """The headline diagnostics (what the convergence section's verdict is computed from), computed once:
        :func:`diagnostics.convergence` on the fit's own variables plus the sampler statistics; the stored
        diagnostics when the run has no posterior."""
        from bayes_coalition import diagnostics
        from bayes_coalition.report.sections.convergence import verdict_variables

        idata = self.run.idata
        if idata is None or "posterior" not in idata:
            return dict(self.run.stored_diag)
        diag = diagnostics.convergence(idata, verdict_variables(self.run.kind, idata))
        stats = diagnostics.sampler_stats(idata)
        stats.pop("per_chain", None)
        return diag | stats

    def provisional(self) -> list:
        """A one-line warning block for a fit that did not pass its convergence check (empty for a pass)."""
        from bayes_coalition.report.blocks import Note
        from bayes_coalition.report.checks import provisional_note

        line = provisional_note(self.convergence)
        return [Note(line)] if line else []
