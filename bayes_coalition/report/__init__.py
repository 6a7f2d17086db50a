"""Self-contained diagnostic reports of saved runs."""

from bayes_coalition.report.build import report

__all__ = ["report"]
