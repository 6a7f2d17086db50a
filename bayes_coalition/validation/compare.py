"""H1/H2 evidence: nested-model comparison and the sensitivity of the hypotheses.

:func:`compare_hypotheses` fits the full model and the models without the H1 and without
the H2 terms (PSIS-LOO), and re-fits the full model under priors twice as wide and under
codes moved one level at random (:func:`perturb_codes`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

H_VARIANTS = {
    "full": ["willingness", "pivotal", "deadlock_convergence", "formulation_coordination"],
    "without_H1": ["deadlock_convergence", "formulation_coordination"],
    "without_H2": ["willingness", "pivotal", "formulation_coordination"],
}


def perturb_codes(dataset, seed: int):
    """A copy of the data set whose every code moves one level up or down at random (kept on its scale)."""
    rng = np.random.default_rng(seed)
    ev = dataset.evidence.copy()
    top = dataset.indicators["n_levels"] - 1
    step = rng.choice([-1, 1], size=len(ev))
    new = ev["level"].to_numpy(int) + step
    hi = ev["indicator"].map(top).to_numpy(int)
    new = np.where(new < 0, 1, np.where(new > hi, hi - 1, new))
    ev["level"] = pd.array(new, dtype="Int64")
    return dataclasses.replace(dataset, evidence=ev)


def compare_hypotheses(spec, *, seed: int = 1, draws: int | None = None, chains: int | None = None, tune: int | None = None,
                       progress: bool = True) -> dict:
    """PSIS-LOO of the full model against the models without the H1 and without the H2 terms, and the
    H1/H2 posterior probabilities under a prior twice as wide and under codes perturbed by one level."""
    from bayes_coalition import _arviz
    from bayes_coalition.coalition.model import CoalitionModel, model_id
    from bayes_coalition.data.dataset import load_dataset
    from bayes_coalition.report.checks import K_BAD, K_VERY_BAD

    ds = load_dataset(spec["data"]["path"] or None)
    fits, hyp, diag = {}, {}, {}

    def fit(label, model):
        # never silenced: an unconverged fit warns (ConvergenceWarning) and its diagnostics are returned
        model.fit(random_seed=seed, draws=draws, chains=chains, tune=tune, progressbar=False)
        h = model.hypotheses().set_index("construct")
        # only the constructs the fit estimates: one left out has no P(sign) (its effect is fixed at 0)
        hyp[label] = h.loc[h["prior_sd"] > 0, "p_hypothesised_sign"].to_dict()
        d = model.diagnostics
        diag[label] = {k: d.get(k) for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi", "wall_seconds")}
        if progress:
            print(f"fitted {label}: {model.diagnostics['max_rhat']:.3f} max R-hat, {model.diagnostics['divergences']} divergences", flush=True)
        return model

    for label, constructs in H_VARIANTS.items():
        fits[label] = fit(label, CoalitionModel(ds, {**spec, "model": {**spec["model"], "constructs": constructs}}))
    loo = {k: _arviz.loo(m.idata, "yea") for k, m in fits.items()}
    table = _arviz.compare_loo({k: m.idata for k, m in fits.items()}, var_name="yea")
    wide = {**spec, "priors": {k: (v * 2 if k.endswith("_sd") else v) for k, v in spec["priors"].items()}}
    fit("prior_twice_as_wide", CoalitionModel(ds, wide))
    fit("codes_perturbed", CoalitionModel(perturb_codes(ds, seed), spec))
    return {
        "loo": {k: {"elpd": v["elpd"], "se": v["se"], "p_loo": v["p_loo"],
                    # the thresholds of the reliability rule (report.checks); the keys name them for the JSON's readers
                    "pareto_k_above_0.7": int((v["pareto_k"] > K_BAD).sum()), "pareto_k_above_1": int((v["pareto_k"] > K_VERY_BAD).sum()),
                    "n": int(len(v["pareto_k"]))} for k, v in loo.items()},
        "comparison": table.reset_index().rename(columns={"index": "model"}).to_dict(orient="records"),
        "p_hypothesised_sign": hyp,
        "diagnostics": diag,
        # model_id: which model this is the comparison of (the report shows it only beside a run of that model)
        "settings": {"model_id": model_id(spec), "seed": seed, "draws": draws, "chains": chains, "tune": tune},
    }
