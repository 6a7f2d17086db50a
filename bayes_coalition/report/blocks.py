"""The report's content as small dataclasses, so sections compute once and one renderer draws them.

A section builder returns a :class:`Section` of blocks; :mod:`bayes_coalition.report.render`
turns the same blocks into HTML and into Markdown.  Text is plain: the renderer escapes it.
:class:`Paragraph` alone understands two inline marks, ``**bold**`` and ```code```, because
both output formats have them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd


@dataclass(frozen=True)
class Heading:
    """A sub-heading (level 3 or 4); ``anchor`` makes it a link target."""

    text: str
    level: int = 3
    anchor: str | None = None


@dataclass(frozen=True)
class Paragraph:
    """Running text; ``small`` is the grey fine print under a table or figure."""

    text: str
    small: bool = False


@dataclass(frozen=True)
class Note:
    """An aside: ``note`` (something missing or caveated) or ``error`` (a section that failed)."""

    text: str
    kind: Literal["note", "error"] = "note"


@dataclass(frozen=True)
class Table:
    """A data frame; ``digits`` per column or for all, ``flags`` (bool frame, same rows) marks cells."""

    frame: pd.DataFrame
    digits: int | dict[str, int] = 3
    flags: pd.DataFrame | None = None
    compact: bool = False


@dataclass(frozen=True)
class Figure:
    """An image as a PNG data URI (see :func:`bayes_coalition.report.figures.to_data_uri`)."""

    uri: str
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class KeyValue:
    """Labelled values, one per row."""

    pairs: Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class BulletList:
    items: Sequence[str]


@dataclass(frozen=True)
class Code:
    """Preformatted text (a JSON spec, a data summary)."""

    text: str


@dataclass(frozen=True)
class Verdict:
    """A convergence verdict with its reasons and the rule that produced it."""

    status: Literal["pass", "warn", "fail"]
    reasons: Sequence[str] = ()
    rule: str = ""

    @property
    def line(self) -> str:
        return f"Convergence: {self.status.upper()}" + (" (" + "; ".join(self.reasons) + ")" if self.reasons else "")


@dataclass(frozen=True)
class Details:
    """Collapsed detail (long tables, the full spec): shown in the HTML, left out of the Markdown summary."""

    summary: str
    blocks: Sequence[Block]


@dataclass(frozen=True)
class Columns:
    """Blocks side by side in the HTML (one after the other in Markdown)."""

    columns: Sequence[Sequence[Block]]


Block = Heading | Paragraph | Note | Table | Figure | KeyValue | BulletList | Code | Verdict | Details | Columns


@dataclass
class Section:
    """One numbered section of the report; ``anchor`` is its id in the table of contents."""

    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)


def scalar_pairs(d: dict) -> list[tuple[str, Any]]:
    """The scalar entries of a stored JSON dict (lists and nested dicts are not tabulated)."""
    return [(k, v) for k, v in d.items() if not isinstance(v, (list, dict))]
