"""The ``bayes-coalition`` command line."""

from bayes_coalition.cli.main import main

__all__ = ["main"]
