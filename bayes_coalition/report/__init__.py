"""The diagnostic report of a run: :func:`report` writes ``report.html`` and ``report.md``.

Layout: :mod:`.run_dir` owns a run directory (writes and reads it), :mod:`.sections` compute
the content as :mod:`.blocks`, :mod:`.render` draws them as HTML and Markdown, :mod:`.build`
puts it together.  Importing this package does not import the sections or the figures (and
so no plotting code of the report runs, nor is a matplotlib backend chosen, until a report
is built).
"""

import sys
import types

from bayes_coalition.report.build import ReportResult, ReportSectionWarning, report
from bayes_coalition.report.run_dir import Run, load_run

__all__ = ["ReportResult", "ReportSectionWarning", "Run", "load_run", "report"]


class _CallablePackage(types.ModuleType):
    """``bayes_coalition.report`` is both this package and the function :func:`report` (``bc.report(model, dir)``,
    the public API). Importing any submodule binds the package to the name ``report`` in ``bayes_coalition``,
    replacing the function there, so that ``bc.report(...)`` worked or failed ("'module' object is not callable")
    depending on what had been imported first. Calling the package calls the function, whatever the order."""

    def __call__(self, *args, **kwargs):
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
