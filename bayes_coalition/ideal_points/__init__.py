"""Member-level ideal points from roll-call matrices (see :mod:`bayes_coalition.ideal_points.model`)."""

from bayes_coalition.ideal_points.model import IdealPointModel

__all__ = ["IdealPointModel"]
