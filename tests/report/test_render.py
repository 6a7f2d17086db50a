"""One renderer: every block type becomes self-contained HTML and Markdown from the same Section."""

from __future__ import annotations

import pandas as pd
import pytest

from bayes_coalition.report.blocks import (
    BulletList,
    Code,
    Columns,
    Details,
    Figure,
    Heading,
    KeyValue,
    Note,
    Paragraph,
    Section,
    Table,
    Verdict,
)
from bayes_coalition.report.render import html_blocks, render_html, render_markdown

from .runs import external_references

PNG = "data:image/png;base64,iVBORw0KGgo="


def _table() -> Table:
    frame = pd.DataFrame({"variable": ["a", "b|c"], "max R-hat": [1.2, 1.001], "n": [3, 4]})
    flags = pd.DataFrame({"max R-hat": [True, False]})
    return Table(frame, digits={"max R-hat": 3, "n": 0}, flags=flags)


def _section() -> Section:
    return Section("Everything", "all", [
        Heading("A heading", anchor="sub"),
        Paragraph("Verdict **FAIL**; run `bayes-coalition fit` with x < 1 & y > 2; see https://example.org"),
        Paragraph("fine print", small=True),
        Note("something missing"),
        Note("Traceback: boom", kind="error"),
        _table(),
        Figure(PNG, "a figure", "its caption"),
        KeyValue([("max R-hat", 1.23456), ("missing", None), ("flag", True)]),
        BulletList(["one", "two **bold**"]),
        Code('{"a": 1}'),
        Verdict("warn", ("min bulk ESS 150 < 400",), "the rule"),
        Details("more", [Paragraph("hidden detail")]),
        Columns([[Paragraph("left")], [Paragraph("right")]]),
    ])


def test_every_block_renders_to_self_contained_html():
    html = render_html([_section()], title="T", headline=Verdict("fail", ("3 divergent transitions",)),
                       meta="generated now", notes=["sections that failed: x"], footer="the end")
    assert external_references(html) == []
    body = html.split("</style>")[1]
    for piece in ('<section id="all"><h2>1. Everything</h2>', '<h3 id="sub">A heading</h3>', "<strong>FAIL</strong>",
                  "<code>bayes-coalition fit</code>", "x &lt; 1 &amp; y &gt; 2", '<p class="small">fine print</p>',
                  '<p class="note">something missing</p>', '<div class="section-error">Traceback: boom</div>',
                  f'<img src="{PNG}" alt="a figure"><figcaption>its caption</figcaption>', "<th>max R-hat</th><td>1.235</td>",
                  "<th>missing</th><td>-</td>", "<li>two <strong>bold</strong></li>", "<pre>{&quot;a&quot;: 1}</pre>",
                  '<p class="verdict warn">Convergence verdict: <strong>WARN</strong>: min bulk ESS 150 &lt; 400</p>',
                  "<details><summary>more</summary><p>hidden detail</p></details>",
                  '<div class="cols"><div><p>left</p></div><div><p>right</p></div></div>',
                  '<p class="verdict fail" id="verdict">Convergence: FAIL (3 divergent transitions)</p>',
                  '<a href="#all">Everything</a>', "<footer>the end</footer>"):
        assert piece in body, piece


def test_flagged_cells_get_the_flag_class():
    html = html_blocks([_table()])
    assert '<td class="num bad">1.200</td>' in html      # flagged
    assert '<td class="num">1.001</td>' in html          # same column, not flagged
    assert '<td class="num">3</td>' in html and "<td>b|c</td>" in html
    assert html.count("bad") == 1


def test_markdown_from_the_same_blocks():
    md = render_markdown([_section()], title="T", headline=Verdict("pass"), meta="generated now", footer="the end")
    assert md.startswith("# T\n\n**Convergence: PASS**\n")
    for piece in ("## 1. Everything", "### A heading", "Verdict **FAIL**; run `bayes-coalition fit`", "_something missing_",
                  "```\nTraceback: boom\n```", "| variable | max R-hat | n |", "| a | **1.200** | 3 |", "| b/c | 1.001 | 4 |",
                  "- max R-hat: 1.235", "- missing: -", "- flag: yes", "- two **bold**", '```\n{"a": 1}\n```',
                  "**Convergence verdict: WARN** (min bulk ESS 150 < 400)", "left\n\nright", "_the end_"):
        assert piece in md, piece
    # figures are named, not embedded; collapsed details are HTML-only
    assert "_(figure in the HTML report: a figure)_" in md
    assert "data:image" not in md and "hidden detail" not in md and "its caption" not in md


def test_unknown_block_is_an_error():
    with pytest.raises(TypeError, match="not a report block"):
        html_blocks(["plain string"])
