"""The diagnostic report of a run: :func:`report` writes ``report.html`` and ``report.md``.

Layout: :mod:`.run_dir` owns a run directory (writes and reads it), :mod:`.sections` compute
the content as :mod:`.blocks`, :mod:`.render` draws them as HTML and Markdown, :mod:`.build`
puts it together.  Importing this package does not import the sections or the figures (and
so no plotting code of the report runs, nor is a matplotlib backend chosen, until a report
is built).
"""

from bayes_coalition.report.build import ReportResult, ReportSectionWarning, report
from bayes_coalition.report.run_dir import Run, load_run

__all__ = ["ReportResult", "ReportSectionWarning", "Run", "load_run", "report"]
