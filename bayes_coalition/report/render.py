"""The one renderer: the same :mod:`~bayes_coalition.report.blocks` become HTML and Markdown.

The HTML is self-contained (inline CSS, images as data URIs, no scripts, no external
references) so a report can be mailed or archived as one file.  The Markdown is the text
summary of the same content: a figure is named, not embedded, and collapsed
:class:`~bayes_coalition.report.blocks.Details` are HTML-only; everything else appears in both.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayes_coalition.report import blocks as bl

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
main{max-width:1320px;margin:0 auto;padding:0 24px 40px;background:#fff}
header{padding:18px 0 6px;border-bottom:2px solid #ddd}
h1{font-size:1.6em;margin:0 0 6px}h2{font-size:1.3em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:34px}
h3{font-size:1.08em;margin-top:22px}h4{margin:10px 0 4px}
nav{background:#f3f3f3;border:1px solid #e0e0e0;padding:8px 16px;margin:14px 0}
nav ol{margin:4px 0;padding-left:22px;columns:2}nav a{color:#1f5fa8;text-decoration:none}
table{border-collapse:collapse;font-size:0.86em;margin:6px 0 10px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}th{background:#f1f1f1}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.bad{background:#fbd3d0;font-weight:bold}
table.kv th{width:15em;font-weight:normal;color:#555}table.compact{font-size:0.8em}
figure{margin:10px 0 18px}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.85em;color:#555}
.verdict{font-size:1.15em;padding:8px 12px;border-radius:4px;margin:10px 0 4px}
.verdict.pass{background:#d9f0d3;border:1px solid #5aae61}.verdict.warn{background:#fee8c8;border:1px solid #f4a582}
.verdict.fail{background:#fbd3d0;border:1px solid #d6604d}
.small{font-size:0.85em;color:#555}.note{color:#7a5b00;background:#fff7e0;padding:4px 8px}
.section-error{color:#900;background:#fdd;padding:6px 8px;white-space:pre-wrap;font-family:monospace;font-size:0.8em}
.cols{display:flex;gap:28px;flex-wrap:wrap}.cols>div{flex:1 1 420px;min-width:0;overflow-x:auto}
details{margin:8px 0}summary{cursor:pointer;color:#1f5fa8}pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:0.8em}
footer{color:#777;font-size:0.8em;margin-top:30px}
"""

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


# --- values -----------------------------------------------------------------------------------------


def fmt(x, digits: int = 3) -> str:
    """A value as report text: '-' for missing, integers plain, large floats without decimals."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            return "-"
        x = float(x)
        if abs(x) >= 1000 or (x == int(x) and abs(x) >= 100):
            return f"{x:.0f}"
        return f"{x:.{digits}f}"
    if x is pd.NA:
        return "-"
    return str(x)


def _cell(x, digits: int) -> str:
    try:
        if pd.isna(x):
            return "-"
    except (TypeError, ValueError):  # arrays and other non-scalars: formatted as text
        pass
    return fmt(x, digits)


def _digits(digits: int | dict, column) -> int:
    return digits.get(column, 3) if isinstance(digits, dict) else digits


def _flagged(table: bl.Table, i: int, column) -> bool:
    flags = table.flags
    return flags is not None and column in flags.columns and bool(flags[column].iat[i])


def _esc(text) -> str:
    """HTML-escape; '://' is broken up so no text can read as a network address."""
    return html.escape(str(text)).replace("://", ":&#8203;//")


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", _esc(text)))


# --- HTML -----------------------------------------------------------------------------------------------


def _html_table(t: bl.Table) -> str:
    df = t.frame
    cols = list(df.columns)
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    rows = []
    for i in range(len(df)):
        cells = []
        for j, c in enumerate(cols):
            v = df.iat[i, j]
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            klass = " ".join(k for k, on in (("num", num), ("bad", _flagged(t, i, c))) if on)
            text = _esc(_cell(v, _digits(t.digits, c)))
            cells.append(f"<td class=\"{klass}\">{text}</td>" if klass else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cls = " class=\"compact\"" if t.compact else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _html_block(b: bl.Block) -> str:
    match b:
        case bl.Heading(text, level, anchor):
            ident = f" id=\"{_esc(anchor)}\"" if anchor else ""
            return f"<h{level}{ident}>{_esc(text)}</h{level}>"
        case bl.Paragraph(text, small):
            return f"<p class=\"small\">{_inline(text)}</p>" if small else f"<p>{_inline(text)}</p>"
        case bl.Note(text, "error"):
            return f"<div class=\"section-error\">{_esc(text)}</div>"
        case bl.Note(text, _):
            return f"<p class=\"note\">{_esc(text)}</p>"
        case bl.Table():
            return _html_table(b)
        case bl.Figure(uri, alt, caption):
            cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
            return f"<figure><img src=\"{_esc(uri)}\" alt=\"{_esc(alt)}\">{cap}</figure>"
        case bl.KeyValue(pairs):
            rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(fmt(v))}</td></tr>" for k, v in pairs)
            return f"<table class=\"kv\">{rows}</table>"
        case bl.BulletList(items):
            return "<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>"
        case bl.Code(text):
            return f"<pre>{_esc(text)}</pre>"
        case bl.Verdict(status, reasons, rule):
            why = ": " + _esc("; ".join(reasons)) if reasons else ""
            line = f"<p class=\"verdict {status}\">Convergence verdict: <strong>{status.upper()}</strong>{why}</p>"
            return line + (f"<p class=\"small\">{_esc(rule)}</p>" if rule else "")
        case bl.Details(summary, blocks):
            return f"<details><summary>{_esc(summary)}</summary>{html_blocks(blocks)}</details>"
        case bl.Columns(columns):
            return "<div class=\"cols\">" + "".join(f"<div>{html_blocks(c)}</div>" for c in columns) + "</div>"
    raise TypeError(f"not a report block: {type(b).__name__}")


def html_blocks(blocks: Sequence[bl.Block]) -> str:
    return "\n".join(_html_block(b) for b in blocks)


def render_html(sections: Sequence[bl.Section], *, title: str, headline: bl.Verdict | None = None, meta: str = "",
                notes: Sequence[str] = (), footer: str = "") -> str:
    """The whole report page: header with the headline verdict, table of contents, numbered sections."""
    toc = "".join(f"<li><a href=\"#{_esc(s.anchor)}\">{_esc(s.title)}</a></li>" for s in sections)
    body = [f"<section id=\"{_esc(s.anchor)}\"><h2>{i}. {_esc(s.title)}</h2>\n{html_blocks(s.blocks)}\n</section>"
            for i, s in enumerate(sections, start=1)]
    head = [f"<header><h1>{_esc(title)}</h1>"]
    if headline is not None:
        head.append(f"<p class=\"verdict {headline.status}\" id=\"verdict\">{_esc(headline.line)}</p>")
    head += [f"<p class=\"note\">{_esc(n)}</p>" for n in notes]
    head.append((f"<p class=\"small\">{_esc(meta)}</p>" if meta else "") + "</header>")
    doc = [
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body><main>",
        *head,
        f"<nav id=\"toc\"><strong>Contents</strong><ol>{toc}</ol></nav>",
        *body,
        f"<footer>{_esc(footer)}</footer>" if footer else "",
        "</main></body></html>",
    ]
    return "\n".join(doc)


# --- Markdown --------------------------------------------------------------------------------------------


def _md_table(t: bl.Table) -> str:
    df = t.frame
    cols = list(df.columns)
    lines = ["| " + " | ".join(str(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for i in range(len(df)):
        vals = []
        for j, c in enumerate(cols):
            text = _cell(df.iat[i, j], _digits(t.digits, c)).replace("|", "/")
            vals.append(f"**{text}**" if _flagged(t, i, c) else text)
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _md_block(b: bl.Block) -> str | None:
    match b:
        case bl.Heading(text, level, _):
            return "#" * level + " " + text
        case bl.Paragraph(text, _):
            return text
        case bl.Note(text, "error"):
            return "```\n" + text + "\n```"
        case bl.Note(text, _):
            return f"_{text}_"
        case bl.Table():
            return _md_table(b)
        case bl.Figure(_, alt, _):
            return f"_(figure in the HTML report: {alt})_"
        case bl.Details():
            return None
        case bl.KeyValue(pairs):
            return "\n".join(f"- {k}: {fmt(v)}" for k, v in pairs)
        case bl.BulletList(items):
            return "\n".join(f"- {i}" for i in items)
        case bl.Code(text):
            return "```\n" + text + "\n```"
        case bl.Verdict(status, reasons, _):
            return f"**Convergence verdict: {status.upper()}**" + (" (" + "; ".join(reasons) + ")" if reasons else "")
        case bl.Columns(columns):
            return markdown_blocks([b for c in columns for b in c])
    raise TypeError(f"not a report block: {type(b).__name__}")


def markdown_blocks(blocks: Sequence[bl.Block]) -> str:
    return "\n\n".join(text for text in map(_md_block, blocks) if text)


def render_markdown(sections: Sequence[bl.Section], *, title: str, headline: bl.Verdict | None = None, meta: str = "",
                    notes: Sequence[str] = (), footer: str = "") -> str:
    """The Markdown summary of the same sections (figures named only, no collapsed details)."""
    doc = [f"# {title}", ""]
    if headline is not None:
        doc += [f"**{headline.line}**", ""]
    doc += [f"{n}\n" for n in notes]
    if meta:
        doc += [meta, ""]
    for i, s in enumerate(sections, start=1):
        doc += [f"## {i}. {s.title}", "", markdown_blocks(s.blocks), ""]
    if footer:
        doc.append(f"_{footer}_")
    return "\n".join(doc) + "\n"
