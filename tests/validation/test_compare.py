"""H1/H2 comparison helpers: perturbed codes, nested models."""

from __future__ import annotations

import pytest

from bayes_coalition import load_dataset
from bayes_coalition.validation.compare import perturb_codes


def test_perturbed_codes_move_one_level_and_stay_on_the_scale():
    ds = load_dataset()
    moved = perturb_codes(ds, seed=4)
    diff = (moved.evidence["level"].astype(int) - ds.evidence["level"].astype(int)).abs()
    assert (diff == 1).all()
    assert moved.evidence["level"].between(0, 2).all()
    again = perturb_codes(ds, seed=4)
    assert (again.evidence["level"] == moved.evidence["level"]).all()
    from bayes_coalition import CoalitionModel
    from bayes_coalition.coalition.model_data import model_codes

    m = CoalitionModel(moved)   # a perturbed data set still builds a model, on the perturbed codes
    assert m.model_data.code_level.tolist() == model_codes(moved.evidence)["level"].tolist()
    assert m.model_data.code_level.tolist() != model_codes(ds.evidence)["level"].tolist()


def test_constructs_can_be_left_out():
    from bayes_coalition import CoalitionModel

    m = CoalitionModel(spec={"model": {"constructs": ["deadlock_convergence"]}})
    assert list(m.model.coords["included_construct"]) == ["deadlock_convergence"]
    with pytest.raises(ValueError, match="unknown construct"):
        CoalitionModel(spec={"model": {"constructs": ["charisma"]}})


def test_compare_hypotheses_contract_with_mock_sampling(mock_pymc_sample, monkeypatch):
    """compare_hypotheses on PyMC's mock sampler (prior draws): five fits (the full model, without H1, without H2,
    priors twice as wide, codes moved one level), PSIS-LOO of the first three over every likelihood row, and
    P(hypothesised sign) of the constructs each fit estimates: a construct left out of a fit is absent there (its
    effect is fixed at 0; a P(sign) of 0 would read as evidence against it)."""
    import numpy as np

    from bayes_coalition.coalition import model as model_module
    from bayes_coalition.coalition.spec import load_spec
    from bayes_coalition.errors import ConvergenceWarning
    from bayes_coalition.validation import compare

    built = []

    class Recording(model_module.CoalitionModel):
        def __init__(self, dataset=None, spec=None, **kw):
            super().__init__(dataset, spec, **kw)
            built.append(self)

    monkeypatch.setattr(model_module, "CoalitionModel", Recording)
    spec = load_spec()
    with pytest.warns(ConvergenceWarning):           # prior draws do not converge, and every fit says so
        res = compare.compare_hypotheses(spec, seed=3, draws=30, chains=2, progress=False)
    labels = ["full", "without_H1", "without_H2", "prior_twice_as_wide", "codes_perturbed"]
    assert len(built) == 5 and list(res["diagnostics"]) == labels
    full, no_h1, no_h2, wide, perturbed = built
    assert res["settings"]["model_id"] == full.id            # the report matches it to a run of this model
    assert no_h1.spec["model"]["constructs"] == ["deadlock_convergence", "formulation_coordination"]
    assert no_h2.spec["model"]["constructs"] == ["willingness", "pivotal", "formulation_coordination"]
    # priors twice as wide: every *_sd doubled, nothing else
    for k, v in spec["priors"].items():
        assert wide.spec["priors"][k] == (2 * v if k.endswith("_sd") else v), k
    assert perturbed.dataset.evidence["level"].tolist() != full.dataset.evidence["level"].tolist()
    # PSIS-LOO of the nested models over the same likelihood rows: the point rows ("yea")
    n_rows = len(full.model_data.obs_n)
    assert set(res["loo"]) == {"full", "without_H1", "without_H2"}
    for v in res["loo"].values():
        assert v["n"] == n_rows and 0 <= v["pareto_k_above_1"] <= v["pareto_k_above_0.7"] <= n_rows
        assert np.isfinite([v["elpd"], v["se"], v["p_loo"]]).all()
    assert sorted(r["model"] for r in res["comparison"]) == ["full", "without_H1", "without_H2"]
    # P(hypothesised sign): only the estimated constructs
    p = res["p_hypothesised_sign"]
    assert list(p["full"]) == ["willingness", "pivotal", "deadlock_convergence", "formulation_coordination"]
    assert list(p["without_H1"]) == ["deadlock_convergence", "formulation_coordination"]
    assert list(p["without_H2"]) == ["willingness", "pivotal", "formulation_coordination"]
    assert all(0.0 <= x <= 1.0 for fit in p.values() for x in fit.values())
    # the fit without H1 itself: its left-out effects are fixed at 0, not estimated, and not flagged as weak
    h = no_h1.hypotheses().set_index("construct")
    for k in ("willingness", "pivotal"):
        assert h.loc[k, "mean"] == 0.0 and h.loc[k, "sd"] == 0.0 and h.loc[k, "prior_sd"] == 0.0
        assert np.isnan(h.loc[k, "p_hypothesised_sign"]) and np.isnan(h.loc[k, "contraction"])
        assert np.isnan(h.loc[k, "bayes_factor_10"]) and not h.loc[k, "identified_by_data"]
    assert 0.0 <= h.loc["deadlock_convergence", "p_hypothesised_sign"] <= 1.0
    assert not any("willingness effect" in c or "pivotal effect" in c for c in no_h1.caveats())
