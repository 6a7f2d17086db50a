"""The strategic layers in the full model's simulation-based calibration (:func:`bayes_coalition.validation.sbc.run_coalition_sbc`).

A simulation must be drawn from the joint distribution the fit targets. Agenda control and the floor expectations
are likelihood terms the PyMC prior predictive does not draw (``pm.Potential``), so their data are drawn here,
from the same rules (:mod:`~bayes_coalition.coalition.agenda`, :mod:`~bayes_coalition.coalition.expectation`,
:mod:`~bayes_coalition.coalition.vote_model`):

- **Agenda control.** The layer adds, per held vote, ``log pi(y) - log Z`` with ``Z`` the floor probability
  integrated over the vote's own deviations (its ``case_z`` and ``party_tilt_z``), and per withdrawn measure
  ``log(1 - Z)``. With ``Z`` exact, a held vote's own deviations and count have the joint density
  ``N(z) p(y | z) pi(y) / Z``: they are drawn *given that the vote is held*, by rejection (deviations from their
  prior, the vote's count rows from the count model, kept with probability ``pi(y)``: :func:`held_votes`). A
  withdrawn measure's term depends on the parameters only, so the parameters themselves are drawn given the
  withdrawal: a prior draw is kept with probability ``prod(1 - Z_withdrawn)`` (:func:`kept_prior_draws`; the
  layer's own SBC, ``validation/agenda_sbc.py``, draws its truths the same way). The graph's ``Z`` uses a normal
  approximation of the count and Gauss-Hermite nodes (agenda.py measured its error), so the simulated joint is the
  fit's up to that approximation.
- **Floor expectations.** Each coded vote's level is drawn from the ordered logistic of its expected margin at
  its own (selected) cut-point and tilt (:func:`expectation_levels`).

A Student-t party tilt with agenda control is refused (its per-vote precision would have to be drawn given that
the vote is held too).
"""

from __future__ import annotations

import numpy as np

from bayes_coalition.coalition import agenda, expectation, rules
from bayes_coalition.coalition.vote_model import party_probabilities, share_arguments, slot_probabilities

# candidate deviations drawn at once per held vote, and the most rounds before a vote is declared unreachable
BATCH = 256
MAX_ROUNDS = 400


def layers(spec: dict) -> tuple[bool, bool]:
    """(agenda control on, floor expectations on) of a spec; refuses what the simulation cannot draw."""
    from bayes_coalition.coalition.spec import party_tilt_df

    on_agenda = bool(spec["model"]["agenda_control"])
    on_expect = bool(spec["model"].get("floor_expectation", False))
    if on_agenda and party_tilt_df(spec) is not None:
        raise NotImplementedError("simulation-based calibration of agenda control with a Student-t party tilt is not "
                                  "implemented (each held vote's tilt precision would be drawn given that it is held): "
                                  "use model.party_tilt = \"normal\"")
    return on_agenda, on_expect       # vote buying: the SBC graph itself refuses it (graph.build_pymc_model)


def floor_cases(md) -> tuple[np.ndarray, np.ndarray]:
    """The held and the withdrawn votes in the layer's order (graph._agenda_control)."""
    return np.flatnonzero(md.case_floor == rules.HELD), np.flatnonzero(md.case_floor == rules.WITHDRAWN)


def kept_prior_draws(floor_probability: np.ndarray, md, n_sims: int, rng) -> np.ndarray:
    """Indices of the first ``n_sims`` prior draws kept given the withdrawn measures: draw ``d`` is kept with
    probability ``prod(1 - Z_withdrawn[d])`` (``floor_probability``: the graph's ``agenda_floor_probability``,
    ``(draw, held + withdrawn)``). Raises when the draws hold fewer than ``n_sims`` kept ones."""
    held, withdrawn = floor_cases(md)
    z_w = np.asarray(floor_probability)[:, len(held):]
    keep_prob = np.prod(1.0 - z_w, axis=1)
    kept = np.flatnonzero(rng.uniform(size=len(keep_prob)) < keep_prob)
    if len(kept) < n_sims:
        raise RuntimeError(f"sbc: {len(kept)} of {len(keep_prob)} prior draws kept given the withdrawn measures, "
                           f"fewer than the {n_sims} simulations (mean P(kept) {keep_prob.mean():.3f})")
    return kept[:n_sims]


def tiled(arrays: dict, size: int) -> dict:
    """The one-draw arrays of :func:`bayes_coalition.coalition.predictive.draw_arrays` repeated ``size`` times."""
    return {k: (np.repeat(np.asarray(v), size, axis=0) if v is not None else None) for k, v in arrays.items()}


def held_votes(arrays: dict, md, truth: dict, rng) -> dict:
    """Each held vote's own deviations and count rows drawn given that it is held (module docstring).

    ``arrays``: one draw's :func:`~bayes_coalition.coalition.predictive.draw_arrays`; ``truth``: its scalars
    ``sigma_case``, ``sigma_party_tilt``, ``agenda_bar``, ``agenda_scale``, ``agenda_leak`` and vectors ``case_z``,
    ``party_tilt_z`` (per case). Returns ``case_z``, ``party_tilt_z``, ``cut_point``, ``party_tilt`` (per case, the
    held votes' replaced), ``obs_yea`` (the held votes' point rows replaced; other rows -1) and ``yea_held`` (the
    held votes' totals, the layer's data) with ``rounds`` (batches needed)."""
    from bayes_coalition.coalition.graph import floor_rows
    from bayes_coalition.coalition.predictive import simulate

    held, _ = floor_cases(md)
    fr = floor_rows(md, held)
    if len(md.int_case_idx) and np.isin(md.int_case_idx, held).any():
        raise NotImplementedError("sbc: a held vote counted in interval rows (the layer reads held totals from point rows)")
    s_c, s_t = float(truth["sigma_case"]), float(truth["sigma_party_tilt"])
    case_z, tilt_z = np.array(truth["case_z"], dtype=float), np.array(truth["party_tilt_z"], dtype=float)
    cut = np.array(arrays["cut_point"][0], dtype=float)
    tilt = np.array(arrays["party_tilt"][0], dtype=float)
    cut_mean, tilt_mean = cut - s_c * case_z, tilt - s_t * tilt_z
    rows_of = [np.flatnonzero(md.obs_case_idx == c) for c in held]
    obs = np.full(len(md.obs_n), -1, dtype=np.int64)
    yea_held = np.zeros(len(held))
    todo = np.arange(len(held))
    batch = tiled(arrays, BATCH)
    rounds = 0
    while len(todo):
        rounds += 1
        if rounds > MAX_ROUNDS:
            names = [md.coords["case"][held[j]] for j in todo]
            raise RuntimeError(f"sbc: no held draw in {MAX_ROUNDS * BATCH} tries for {names[:5]} (P(held) is near 0)")
        cases = held[todo]
        zc, zt = rng.normal(size=(BATCH, len(todo))), rng.normal(size=(BATCH, len(todo)))
        batch["cut_point"][:, cases] = cut_mean[cases] + s_c * zc
        batch["party_tilt"][:, cases] = tilt_mean[cases] + s_t * zt
        y = simulate(batch, md, rng)["obs_yea"]                                   # (BATCH, row)
        u = rng.uniform(size=(BATCH, len(todo)))
        left = []
        for k, j in enumerate(todo):
            total = y[:, rows_of[j]].sum(axis=1)
            pi = agenda.floor_given_count(np, total, fr["threshold"][j], fr["n_case"][j], float(truth["agenda_bar"]),
                                          float(truth["agenda_scale"]), float(truth["agenda_leak"]))
            hit = np.flatnonzero(u[:, k] < pi)
            if not len(hit):
                left.append(j)
                continue
            b, c = hit[0], held[j]
            case_z[c], tilt_z[c] = zc[b, k], zt[b, k]
            cut[c], tilt[c] = cut_mean[c] + s_c * zc[b, k], tilt_mean[c] + s_t * zt[b, k]
            obs[rows_of[j]] = y[b, rows_of[j]]
            yea_held[j] = total[b]
        todo = np.asarray(left, dtype=int)
    return {"case_z": case_z, "party_tilt_z": tilt_z, "cut_point": cut, "party_tilt": tilt, "obs_yea": obs,
            "yea_held": yea_held, "rounds": rounds}


def expectation_levels(arrays: dict, md, slope: float, cuts: np.ndarray, rng) -> np.ndarray:
    """Each coded vote's floor-expectation level drawn from the ordered logistic of its expected margin at its own
    cut-point and tilt (``arrays``: one draw, the held votes' deviations already selected)."""
    from bayes_coalition.coalition.graph import floor_rows

    cases = md.expect_case_idx
    if not len(cases):
        return np.zeros(0, dtype=np.int64)
    fr = floor_rows(md, cases)
    disc = np.asarray(arrays["discrimination"])[:, md.case_disc_idx[cases]]
    p_r, p_d, p_i = party_probabilities(np, faction_position=arrays["faction_position"],
                                        cut_point=arrays["cut_point"][:, cases], party_tilt=arrays["party_tilt"][:, cases],
                                        faction_party=md.faction_party, discrimination=disc,
                                        **share_arguments(md, cases, arrays["faction_share"],
                                                          arrays.get("faction_share_congress")))
    p = slot_probabilities(np, p_r, p_d, p_i, share=fr["share"], polarity=md.case_polarity[cases])[0]
    mean = np.sum(fr["n"] * p, axis=-1)
    eta = expectation.linear_predictor(slope, mean, fr["threshold"], fr["n_case"])
    probs = expectation.level_probabilities(np, eta, np.asarray(cuts, dtype=float))
    u = rng.uniform(size=len(cases))
    return (u[:, None] > np.cumsum(probs, axis=-1)[:, :-1]).sum(axis=1).astype(np.int64)
