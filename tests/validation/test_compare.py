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
