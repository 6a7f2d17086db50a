"""The README's Python API example runs as written (PyMC's mock sampler stands in for NUTS: the calls, their
arguments and the files they write are what is checked, not the draws)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "README.md's Python API section has no ```python block"
    return blocks[0]


def test_the_readme_python_example_runs(mock_pymc_sample, tmp_path, monkeypatch):
    for name in ("models", "bills", "data"):                  # the paths the example uses, from the repository root
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # mock draws do not converge; the fit says so
        exec(compile(_python_example(), "README.md (Python API)", "exec"), scope)
    assert (tmp_path / "reports" / "run" / "report.html").is_file()
    assert (tmp_path / "reports" / "run" / "posterior.nc").is_file()
    same, model = scope["same"], scope["model"]
    assert same.id == model.id and same.idata.posterior.sizes == model.idata.posterior.sizes
    assert {"p_house", "p_senate", "p_enacted", "pivotal", "in_coalition"} <= set(model.predict(scope["bill"]).data_vars)
    assert len(scope["ip"].ideal_points()) == scope["senate"].n_legislators     # one row per legislator kept
