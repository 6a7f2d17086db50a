"""The developer scripts under scripts/ that the suite can check cheaply (they are not part of the package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _mutation_script():
    spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_hand_written_mutant_matches_its_code_once() -> None:
    """Guards against the hand-written likelihood mutants going stale: ``scripts/mutation.py --graph`` failed for
    a while after the floor-expectation layer repeated the agenda layer's two-party slot line in graph.py."""
    mutation = _mutation_script()
    assert len(mutation.GRAPH_MUTANTS) >= 31
    assert mutation.stale_mutants() == []
    # the check itself: a text found many times, and one found nowhere, are both reported
    fake = [("coalition/graph.py", "many", "pm."), ("coalition/graph.py", "none", "no such text in the file")]
    stale = mutation.stale_mutants(fake)
    assert len(stale) == 2 and "many" in stale[0] and "found 0 times" in stale[1]
    # every mutant changes its text and names a test file that exists
    for file, name, old, new, *tests in mutation.GRAPH_MUTANTS:
        assert (ROOT / "bayes_coalition" / file).is_file(), name
        assert old != new, name
        assert (ROOT / (tests[0] if tests else "tests/coalition/test_likelihood.py")).is_file(), name
