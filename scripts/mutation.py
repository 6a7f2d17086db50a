"""Mutation testing of the coalition core with mutmut 3 (``pip install -e .[mutation]``).

mutmut mutates ``coalition/rules.py``, ``coalition/vote_model.py`` and ``coalition/predictive.py``
(``[tool.mutmut]`` in pyproject.toml) and runs the fast test selection there (tests/coalition/test_rules.py, test_likelihood.py and
test_predictive.py; no MCMC sampling) against each mutant.  This script starts from a clean
``mutants/`` folder, runs mutmut, and prints

    killed K of N mutants (P%)

followed by every mutant that was not killed.  A mutant counts as killed when a test failed or
it timed out; "no tests" (no selected test reaches the mutated function) counts as surviving.
Why each survivor is equivalent or harmless: scripts/mutation_survivors.md.

``--graph`` also runs hand-written mutants of the interval-censored likelihood in
``coalition/graph.py`` against tests/coalition/test_likelihood.py (mutmut would mutate the whole
``build_pymc_model``, hundreds of mutants each needing a PyTensor compile).  Each is applied to a
copy of the repository in a temporary folder; the working tree is never edited.

Run:  python scripts/mutation.py [--keep] [--graph] [--max-children N]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {"killed", "timeout"}

# (name, text in graph.py, replacement): mistakes in the interval term that would go unnoticed by a
# finite-logp test
GRAPH_MUTANTS = [
    ("upper bound dropped", 'upper = observed("interval_upper", md.int_upper)', 'upper = observed("interval_upper", md.int_n)'),
    ("upper bound exclusive", "valid = grid <= upper[:, None]", "valid = grid < upper[:, None]"),
    ("lower bound shifted", "grid = lower[:, None] + np.arange(width)[None, :]",
     "grid = lower[:, None] + 1 + np.arange(width)[None, :]"),
    ("alpha and beta swapped", "alpha=(p_int * phi_int)[:, None], beta=((1 - p_int) * phi_int)[:, None]",
     "alpha=((1 - p_int) * phi_int)[:, None], beta=(p_int * phi_int)[:, None]"),
    ("wrong chamber's concentration", "phi_int = phi[md.case_chamber_idx[md.int_case_idx]]",
     "phi_int = phi[1 - md.case_chamber_idx[md.int_case_idx]]"),
    ("sum of log instead of log of sum", "interval_lp = pm.logsumexp(lp, axis=1).flatten()",
     "interval_lp = pt.sum(pt.switch(valid, lp, 0.0), axis=1)"),
    ("point rows: n off by one", "pm.BetaBinomial(\"yea\", n=md.obs_n,", "pm.BetaBinomial(\"yea\", n=md.obs_n + 1,"),
]


def mutmut(*args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=ROOT, check=False, text=True,
                          capture_output=capture)


def run_mutmut(keep: bool, max_children: int | None) -> tuple[int, int, list[str]]:
    if not keep:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    args = ["run"] + (["--max-children", str(max_children)] if max_children else [])
    run = mutmut(*args, capture=True)
    if run.returncode != 0:
        sys.stdout.write(run.stdout[-4000:] + run.stderr[-4000:])
        raise SystemExit(f"mutmut run failed with exit code {run.returncode}")
    res = mutmut("results", "--all", "true", capture=True)
    statuses = dict(re.findall(r"^\s*(\S+): (.+?)\s*$", res.stdout, flags=re.MULTILINE))
    if not statuses:
        raise SystemExit("mutmut reported no mutants:\n" + res.stdout + res.stderr)
    survivors = sorted(f"{name}: {status}" for name, status in statuses.items() if status not in KILLED)
    return len(statuses) - len(survivors), len(statuses), survivors


def run_graph_mutants() -> tuple[int, int, list[str]]:
    ignore = shutil.ignore_patterns(".git", "mutants", "reports", "__pycache__", ".venv", "*.pyc")
    survivors = []
    for name, old, new in GRAPH_MUTANTS:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "repo"
            shutil.copytree(ROOT, copy, ignore=ignore)
            graph = copy / "bayes_coalition" / "coalition" / "graph.py"
            text = graph.read_text(encoding="utf-8")
            if text.count(old) != 1:
                raise SystemExit(f"graph mutant {name!r}: its text is not found once in graph.py")
            graph.write_text(text.replace(old, new), encoding="utf-8")
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                "tests/coalition/test_likelihood.py"], check=False, cwd=copy, text=True,
                               capture_output=True)
            killed = r.returncode == 1
            print(f"  graph mutant {'killed' if killed else 'SURVIVED'}: {name}", flush=True)
            if not killed:
                survivors.append(f"graph.py: {name} (pytest exit {r.returncode})")
    return len(GRAPH_MUTANTS) - len(survivors), len(GRAPH_MUTANTS), survivors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="reuse mutants/ and mutmut's cached results")
    ap.add_argument("--graph", action="store_true", help="also run the hand-written graph.py mutants")
    ap.add_argument("--max-children", type=int, default=None, help="parallel mutmut workers (default: CPU count)")
    a = ap.parse_args()
    killed, total, survivors = run_mutmut(a.keep, a.max_children)
    print(f"killed {killed} of {total} mutants ({100 * killed / total:.1f}%)")
    for s in survivors:
        print(f"  {s}")
    if a.graph:
        gk, gt, gs = run_graph_mutants()
        print(f"graph.py interval term: killed {gk} of {gt} mutants ({100 * gk / gt:.1f}%)")
        for s in gs:
            print(f"  {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
