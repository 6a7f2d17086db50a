"""The command lines in the README and docs/ name commands and options the CLI has (they drift otherwise)."""

from __future__ import annotations

import argparse
import re

import pytest

from bayes_coalition.cli.main import build_parser
from tests.helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "models" / "README.md",
        REPO / "models" / "backtests" / "README.md"]


def _commands() -> dict[str, set[str]]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {name: {o for a in p._actions for o in a.option_strings} for name, p in sub.choices.items()}


def _invocations(text: str):
    """(command, the options on its line and its backslash continuations) for each `bayes-coalition CMD` written."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for m in re.finditer(r"bayes-coalition ([a-z][a-z-]*)", line):
            rest = line[m.end():].split("`")[0]
            j = i
            while rest.rstrip().endswith("\\") and j + 1 < len(lines):
                j += 1
                rest += " " + lines[j]
            yield m.group(1), set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_documented_command_lines_use_real_commands_and_options(doc):
    commands = _commands()
    bad = []
    for cmd, opts in _invocations(doc.read_text(encoding="utf-8")):
        if cmd not in commands:
            bad.append(f"no command {cmd!r}")
        else:
            bad += [f"{cmd} has no {o}" for o in sorted(opts - commands[cmd])]
    assert not bad, f"{doc.name}: {sorted(set(bad))}"


def test_the_readme_command_summary_uses_real_options():
    """The README's block of command synopses (continuation lines belong to the command above them)."""
    commands = _commands()
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text[text.index("bayes-coalition fit SPEC.toml"):text.index("batch commands (sbc, backtest")]
    cmd, bad = None, []
    for line in block.splitlines():
        m = re.match(r"bayes-coalition ([a-z-]+)", line)
        cmd = m.group(1) if m else cmd
        bad += [f"{cmd} has no {o}" for o in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line) if o not in commands[cmd]]
    assert not bad, sorted(set(bad))


def _figures(cell: str) -> list[str]:
    """The decimal figures written in a table cell, as written ("0.477 / **0.872**" -> ["0.477", "0.872"])."""
    return re.findall(r"-?\d+\.\d+", cell)


def _quotes(written: str, value: float) -> bool:
    """Whether a figure written to d decimals is ``value`` rounded to d decimals."""
    d = len(written.split(".")[1])
    return abs(float(written) - value) <= 0.5 * 10 ** -d + 1e-12


def test_the_readme_backtest_table_quotes_the_shipped_records():
    """The README's out-of-sample table (issue 13's bar) quotes the backtest records shipped in models/backtests/
    (the default spec's and model v2's, and the baselines, which both records score on the same votes), and the
    paragraph above it names the default record's model id: replacing a record without the README fails here."""
    import json

    records = {name: json.loads((REPO / "models" / "backtests" / name / "backtest.json").read_text())
               for name in ("trade_coalition", "trade_coalition_v2")}
    d, v = records["trade_coalition"], records["trade_coalition_v2"]
    text = (REPO / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.endswith("| default spec | model v2 | party line | majority | bar |"))
    table = {}
    for line in lines[head + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0]] = cells[1:]
    assert lines[head].startswith(f"| {d['n_votes']} votes, {d['n_party_rows']} party rows |")
    assert (v["n_votes"], v["n_party_rows"]) == (d["n_votes"], d["n_party_rows"])
    quoted = {
        "Brier of P(pass)": [d["model"]["brier"], v["model"]["brier"], d["party_line"]["brier"], d["majority"]["brier"]],
        "log score": [d["model"]["log_score"], v["model"]["log_score"], d["party_line"]["log_score"],
                      d["majority"]["log_score"]],
        "P(model's Brier lower than the party line's)": [d["p_model_better_brier"], v["p_model_better_brier"]],
        "party rows in their 50% / 90% intervals": [d["coverage_50"], d["coverage_90"], v["coverage_50"], v["coverage_90"]],
    }
    for row, values in quoted.items():
        written = [f for cell in table[row][:4] for f in _figures(cell)]
        assert len(written) == len(values) and all(map(_quotes, written, values)), (row, written, values)
    for key in ("party_line", "majority"):                       # the baselines are the same in both records
        assert d[key] == v[key]
    above = text[text.rindex("**Out of sample", 0, text.index(lines[head])):text.index(lines[head])]
    assert f"model id {d['settings']['model_id']}" in above
