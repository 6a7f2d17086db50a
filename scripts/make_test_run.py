"""Write tests/fixtures/real_run/: a thinned copy of a real fit of the default model, for tests that
need a posterior the data have moved (bill prediction precision, drivers), without sampling in the suite.

    bayes-coalition fit models/trade_coalition.toml --out /tmp/run --no-report   # seed 2000, 4 x 1000 draws
    python scripts/make_test_run.py /tmp/run

Keeps every 20th draw (4 chains x 50 draws) of the sampled and derived variables (not the
unconstrained ``*__`` copies), then saves through CoalitionModel.save (fit data, spec, id).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bayes_coalition import CoalitionModel, _arviz

ROOT = Path(__file__).resolve().parents[1]


def main(run: str, step: int = 20) -> Path:
    model = CoalitionModel.load(run)
    post = model.idata.posterior
    post = post[[v for v in post.data_vars if not v.endswith("__")]].isel(draw=slice(None, None, step))
    stats = model.idata.sample_stats.isel(draw=slice(None, None, step))
    thinned = _arviz.InferenceData(posterior=post, sample_stats=stats)
    thinned.attrs.update(model.idata.attrs)
    model.idata = thinned
    model.posterior_predictive()
    del model.idata.posterior_predictive      # the tests simulate what they need
    return model.save(ROOT / "tests" / "fixtures" / "real_run" / "posterior.nc")


if __name__ == "__main__":
    print(main(sys.argv[1]))
