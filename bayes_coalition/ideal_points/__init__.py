"""Member-level ideal points (2PL IRT) of roll-call matrices."""

from bayes_coalition.ideal_points.model import IdealPointModel

__all__ = ["IdealPointModel"]
