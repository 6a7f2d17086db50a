"""Mutation testing of the coalition core with mutmut 3 (``pip install -e .[mutation]``).

mutmut mutates ``coalition/rules.py``, ``coalition/vote_model.py``, ``coalition/predictive.py``, the report's
verdict rules ``report/checks.py`` and the party-line baseline ``prediction/baseline.py`` (``[tool.mutmut]`` in
pyproject.toml) and runs the fast test selection there (tests/coalition/test_rules.py, test_likelihood.py,
test_predictive.py, tests/report/test_checks.py, tests/prediction/test_baseline.py; no MCMC sampling) against each
mutant.  This script starts from a clean
``mutants/`` folder, runs mutmut, and prints

    killed K of N mutants (P%)

followed by every mutant that was not killed.  A mutant counts as killed when a test failed or
it timed out; "no tests" (no selected test reaches the mutated function) counts as surviving.
Why each survivor is equivalent or harmless: scripts/mutation_survivors.md.

``--graph`` also runs hand-written mutants of the likelihood pieces in ``coalition/likelihood.py``
(interval mass, two-party sum, whip measurement) and of their use in ``coalition/graph.py``
against tests/coalition/test_likelihood.py, and of the strategic layers (agenda control, floor expectations,
vote buying) against their test files (mutmut would mutate whole functions there, hundreds
of mutants each needing a PyTensor compile and a test run that builds the model).  Each is applied to a
copy of the repository in a temporary folder; the working tree is never edited.  Every mutant's text must
be found exactly once in its file; the script checks that before running any (and so does
tests/test_scripts.py in the default suite).

Run:  python scripts/mutation.py [--keep] [--graph | --graph-only [--match TEXT]] [--max-children N]
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

# (file under bayes_coalition/coalition/, name, text, replacement): mistakes in the likelihood that a
# finite-logp test would not notice; each must make tests/coalition/test_likelihood.py fail
LIKELIHOOD = "coalition/likelihood.py"
GRAPH = "coalition/graph.py"
AGENDA = "coalition/agenda.py"
RULES = "coalition/rules.py"
AGENDA_TESTS = "tests/coalition/test_agenda.py"
EXPECTATION = "coalition/expectation.py"
EXPECTATION_TESTS = "tests/coalition/test_expectation.py"
BUYING_TESTS = "tests/coalition/test_buying.py"
GRAPH_MUTANTS = [
    (LIKELIHOOD, "beta-binomial alpha and beta swapped", "alpha=p * phi, beta=(1.0 - p) * phi",
     "alpha=(1.0 - p) * phi, beta=p * phi"),
    (LIKELIHOOD, "interval: upper bound exclusive", "valid = grid <= upper[:, None]", "valid = grid < upper[:, None]"),
    (LIKELIHOOD, "interval: lower bound shifted", "grid = lower[:, None] + np.arange(width)[None, :]",
     "grid = lower[:, None] + 1 + np.arange(width)[None, :]"),
    (LIKELIHOOD, "interval: sum of logs instead of log of the summed mass",
     "return pm.logsumexp(lp, axis=1).flatten()", "return pt.sum(pt.switch(valid, lp, 0.0), axis=1)"),
    (LIKELIHOOD, "two-party sum: upper bound of the total dropped", " & (total <= upper[:, None, None])", ""),
    (LIKELIHOOD, "two-party sum: second group's size bound dropped", " & (d <= np.asarray(n_d)[:, None, None])", ""),
    (LIKELIHOOD, "two-party sum: difference instead of sum", "d = total - r[None, :, None]",
     "d = total + r[None, :, None]"),
    (LIKELIHOOD, "whip: range width over 6 instead of 12", "(upper - lower) ** 2 / 12.0", "(upper - lower) ** 2 / 6.0"),
    (LIKELIHOOD, "whip: error enters unsquared", "(error**2 + ", "(error + "),
    (LIKELIHOOD, "whip: bias subtracted", "mu=y[None, :] + bias", "mu=y[None, :] - bias"),
    (LIKELIHOOD, "whip: lower bound read as the middle", "middle = 0.5 * (lower + upper)", "middle = lower"),
    (GRAPH, "point rows: n off by one", "pm.BetaBinomial(\"yea\", n=md.obs_n,", "pm.BetaBinomial(\"yea\", n=md.obs_n + 1,"),
    (GRAPH, "two-party rows: Democrats get the Republicans' concentration",
     "phi_d = phi[dispersion_index(chamber, np.full(len(rows), 1))]",
     "phi_d = phi[dispersion_index(chamber, np.full(len(rows), 0))]"),
    (GRAPH, "two-party rows: group sizes swapped", "n_r = md.mix_n_r[mix_idx[rows]]",
     "n_r = n[rows] - md.mix_n_r[mix_idx[rows]]"),
    (GRAPH, "two-party rows: pooled density not subtracted", "weigh(w_obs, rd_obs, exact - approx)", "weigh(w_obs, rd_obs, exact)"),
    (GRAPH, "whip count scored as a hard interval",
     "whip = np.setdiff1d(np.arange(len(md.int_case_idx)), hard)",
     "whip = np.setdiff1d(np.arange(len(md.int_case_idx)), hard); hard = np.arange(len(md.int_case_idx)); whip = whip[:0]"),
    # the agenda-control layer (coalition/agenda.py and its graph term), against tests/coalition/test_agenda.py
    (AGENDA, "floor probability: the whips' error left out of the spread", "sd = xp.sqrt(var + (scale * n) ** 2)",
     "sd = xp.sqrt(var)", AGENDA_TESTS),
    (AGENDA, "bar: continuity correction dropped", "return threshold - 0.5 + bar * n", "return threshold + bar * n",
     AGENDA_TESTS),
    (AGENDA, "pi(y): the leak not added", "return leak + (1.0 - leak) * normal_cdf(xp, (y - bar_votes",
     "return (1.0 - leak) * normal_cdf(xp, (y - bar_votes", AGENDA_TESTS),
    (AGENDA, "bivariate orthant: the 1/2 correction always 0", "beta = np.where(a * b > 0, 0.0, 0.5)", "beta = 0.0",
     AGENDA_TESTS),
    (GRAPH, "agenda: held votes not conditioned on being held", "log_pi - pt.log(z[:nh])", "log_pi", AGENDA_TESTS),
    (GRAPH, "agenda: withdrawn measure scored log Z", "pt.log1p(-z[nh:])", "pt.log(z[nh:])", AGENDA_TESTS),
    (GRAPH, "agenda: two-party slot mixes the shares the wrong way round",
     'share=fr["share"], polarity=md.case_polarity[cases])   # (K, vote, slot)',
     'share=1.0 - fr["share"], polarity=md.case_polarity[cases])   # (K, vote, slot)', AGENDA_TESTS),
    (GRAPH, "agenda: the tilt deviation not integrated", "sigma_tilt * node_tilt[:, None]", "0.0 * node_tilt[:, None]",
     AGENDA_TESTS),
    (RULES, "agenda: cloture votes exempt", 'FLOOR_CONTROLLED = ("final_passage", "cloture", "procedural")',
     'FLOOR_CONTROLLED = ("final_passage", "procedural")', AGENDA_TESTS),
    # the floor-expectation layer (coalition/expectation.py and its graph term), against test_expectation.py
    (GRAPH, "expectation: two-party slot mixes the shares the wrong way round",
     'share=fr["share"], polarity=md.case_polarity[cases])   # (vote, slot)',
     'share=1.0 - fr["share"], polarity=md.case_polarity[cases])   # (vote, slot)', EXPECTATION_TESTS),
    (GRAPH, "expectation: an anti-trade yea not flipped",
     'polarity=md.case_polarity[cases])   # (vote, slot)', 'polarity=np.ones(len(cases)))   # (vote, slot)',
     EXPECTATION_TESTS),
    (EXPECTATION, "expectation: margin without the continuity correction",
     "return PERCENT * (mean - (threshold - 0.5)) / n", "return PERCENT * (mean - threshold) / n", EXPECTATION_TESTS),
    (GRAPH, "expectation: cut-points in the wrong order", "pt.stack([first, first + gap])",
     "pt.stack([first + gap, first])", EXPECTATION_TESTS),
    # the vote-buying layer (coalition/buying.py and its graph term), against test_buying.py
    (GRAPH, "buying: a gap larger than the party nays still bought",
     "* (short <= party_nays[below])", "* (short <= party_nays[below] + 1000)", BUYING_TESTS),
    (GRAPH, "buying: below the threshold scored log b instead of log(1 - b)", "pt.log1p(-b)", "pt.log(b)",
     BUYING_TESTS),
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


def stale_mutants(mutants=GRAPH_MUTANTS, root: Path = ROOT) -> list[str]:
    """The hand-written mutants whose text is not found exactly once in their file (the code moved or was
    repeated): checked before any mutant runs, so a stale list fails at once, not after an hour of runs."""
    out = []
    for file, name, old, *_ in mutants:
        n = (root / "bayes_coalition" / file).read_text(encoding="utf-8").count(old)
        if n != 1:
            out.append(f"{file}: {name}: its text is found {n} times")
    return out


def run_graph_mutants(match: str = "") -> tuple[int, int, list[str]]:
    ignore = shutil.ignore_patterns(".git", "mutants", "reports", "__pycache__", ".venv", "*.pyc")
    survivors = []
    mutants = [m for m in GRAPH_MUTANTS if match in m[1]]
    stale = stale_mutants(mutants)
    if stale:
        raise SystemExit("hand-written mutants out of date with the code:\n  " + "\n  ".join(stale))
    for file, name, old, new, *tests in mutants:
        test_file = tests[0] if tests else "tests/coalition/test_likelihood.py"
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "repo"
            shutil.copytree(ROOT, copy, ignore=ignore)
            target = copy / "bayes_coalition" / file
            text = target.read_text(encoding="utf-8")
            if text.count(old) != 1:
                raise SystemExit(f"likelihood mutant {name!r}: its text is not found once in {file}")
            target.write_text(text.replace(old, new), encoding="utf-8")
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider",
                                test_file], check=False, cwd=copy, text=True,
                               capture_output=True)
            killed = r.returncode == 1    # a test failed (-n 0: under xdist an early stop exits with 2)
            print(f"  likelihood mutant {'killed' if killed else 'SURVIVED'}: {file}: {name}", flush=True)
            if not killed:
                survivors.append(f"{file}: {name} (pytest exit {r.returncode})")
    return len(mutants) - len(survivors), len(mutants), survivors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="reuse mutants/ and mutmut's cached results")
    ap.add_argument("--graph", action="store_true", help="also run the hand-written likelihood mutants (likelihood.py, graph.py)")
    ap.add_argument("--graph-only", action="store_true", help="run only the hand-written mutants (no mutmut)")
    ap.add_argument("--match", default="", help="with --graph/--graph-only: only hand-written mutants whose name contains this")
    ap.add_argument("--max-children", type=int, default=None, help="parallel mutmut workers (default: CPU count)")
    a = ap.parse_args()
    if not a.graph_only:
        killed, total, survivors = run_mutmut(a.keep, a.max_children)
        print(f"killed {killed} of {total} mutants ({100 * killed / total:.1f}%)")
        for s in survivors:
            print(f"  {s}")
    if a.graph or a.graph_only:
        gk, gt, gs = run_graph_mutants(a.match)
        print(f"likelihood and agenda control (hand-written): killed {gk} of {gt} mutants ({100 * gk / gt:.1f}%)")
        for s in gs:
            print(f"  {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
