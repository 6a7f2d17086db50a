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
