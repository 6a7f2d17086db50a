"""Leave-one-episode-out cross-validation of the H1 and H2 terms.

Row-level PSIS-LOO does not fit this model: the rows of one vote (its parties) and the votes of one
episode share their case and episode effects, so they are not exchangeable, and Pareto k exceeded
0.7 on about half of the rows. Here every episode with vote rows is left out in turn: the model is
fitted to the votes of every other episode (the held-out episode keeps its codes, which describe it
before its votes) and scored on the held-out votes,

    elpd_e = log mean_s p(votes of e | theta_s),   theta_s from the fit without e's votes,

with the held-out episode's effects drawn from their prior given the hyper-parameters (what a new
episode with those codes would get). The full model is compared with the models without the H1 terms
and without the H2 terms (``H_VARIANTS``): ``elpd_diff = sum_e (elpd_full,e - elpd_other,e)`` and its
standard error ``sqrt(E var_e(difference))`` (positive favours the full model). The same differences are also
given over the episodes whose compared fits reached R-hat <= 1.05 (:func:`converged_differences`), so that a
comparison resting on fits that miss that looser bar shows it.

An episode's elpd is a mean over the draws of its votes' *joint* likelihood, which spreads over many orders of
magnitude when an episode has several rows; a few draws can then carry the mean. Each fit records the Pareto
k-hat of those draws and the elpd of each chain alone, and the differences are also given on the *row-wise*
elpd (each held-out row scored on its own, summed: :func:`row_elpds`), a different target with a far smaller
Monte Carlo error (:func:`elpd_reliability`). On 2026-12-03 USMCA's rows scored within 0.2 of each other in the
full model and the model without H2 (row-wise -27.62 against -27.81), while their joint elpd differed by 7.4
and the chains of one fit alone ranged over 13: README.md, "Leave-one-episode-out, today's default".

The fits reuse one compiled weighted model per variant (:class:`~bayes_coalition.validation.backtest.OriginFits`):
a held-out row has weight 0. Every fit's convergence is checked, refitted once with more tuning and draws when
it fails, and listed when it still fails.

The full model's fit without an episode is also the fit that predicts that episode's votes (:func:`loeo_votes`,
issue 14's check of the strategic layer): :func:`loeo` keeps those predictions too (``votes``, ``vote_summary``),
so the H1/H2 comparison of a spec answers both questions from one set of fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_coalition.report.checks import K_BAD
from bayes_coalition.validation.compare import H_VARIANTS

VOTE_TERMS = ("yea", "yea_two_party_sum", "interval_yea", "whip_count")
VOTE_COLUMNS = ["case_id", "episode_id", "chamber", "vote_type", "observed_passed", "withdrawn", "observed_margin",
                "p_pass", "p_floor", "p_deadlock", "fit_verdict"]
FULL = "full"              # the variant of loeo() whose fits also predict the left-out votes
# what a stored loeo() task holds: a file from before the full model's fits predicted the votes is fitted again
LOEO_OUTPUTS = "elpd, fit row with the elpd's k-hat, chains and row-wise elpd, the full model's vote predictions"


def vote_episodes(md) -> list[str]:
    """Episodes with at least one vote row (point or interval) in the likelihood."""
    cases = np.concatenate([md.obs_case_idx, md.int_case_idx])
    return sorted({md.coords["episode"][md.case_episode_idx[c]] for c in cases})


def _row_episode(md, case_idx) -> np.ndarray:
    return np.array([md.coords["episode"][md.case_episode_idx[c]] for c in case_idx], dtype=object)


def leave_out_weights(md, episode: str) -> dict[str, np.ndarray]:
    """Weights of the fit without ``episode``'s votes: every other vote row and every code."""
    out = {"obs_weight": (_row_episode(md, md.obs_case_idx) != episode).astype(float),
           "interval_weight": (_row_episode(md, md.int_case_idx) != episode).astype(float),
           "code_weight": np.ones(len(md.code_item_idx))}
    if len(md.expect_case_idx):
        # a left-out vote's floor expectation goes with its rows (what it predicts may use it: case_bill)
        out["expectation_weight"] = (_row_episode(md, md.expect_case_idx) != episode).astype(float)
    return out


def held_out_weights(md, episode: str) -> dict[str, np.ndarray]:
    """Weights that score only ``episode``'s vote rows (no codes: the votes are what is predicted)."""
    out = {"obs_weight": (_row_episode(md, md.obs_case_idx) == episode).astype(float),
           "interval_weight": (_row_episode(md, md.int_case_idx) == episode).astype(float),
           "code_weight": np.zeros(len(md.code_item_idx))}
    if len(md.expect_case_idx):
        out["expectation_weight"] = np.zeros(len(md.expect_case_idx))
    return out


class VoteLogLik:
    """Per posterior draw, the log-likelihood of the vote rows selected by a set of weights: the vote
    terms of the weighted model on the constrained scale (posterior draws go in as they are), evaluated
    at all draws at once (:class:`bayes_coalition.draws.DrawFunction`: nothing to compile per worker)."""

    def __init__(self, pm_model):
        import pytensor.tensor as pt

        from bayes_coalition.draws import DrawFunction

        def total(model):
            terms = [model[n] for n in VOTE_TERMS if n in model.named_vars]
            return [pt.sum(pt.stack([pt.sum(t) for t in terms]))]

        self.fn = DrawFunction(pm_model, total)
        self.model = self.fn.model

    def __call__(self, posterior, weights: dict) -> np.ndarray:
        """One value per draw, in the order of ``posterior.stack(sample=("chain", "draw"))``."""
        for name, value in weights.items():
            self.model[name].set_value(np.asarray(value, dtype=float))
        return self.fn(posterior)[0].reshape(-1)


def logmeanexp(x: np.ndarray) -> float:
    m = float(np.max(x))
    return m + float(np.log(np.mean(np.exp(x - m))))


# Pareto k-hat above which an episode's elpd, a mean over draws of its joint likelihood, rests on a few draws
# (Vehtari et al. 2024): its Monte Carlo error is then not reliable, and the row-wise score below is the steadier one.
# The same bar as PSIS-LOO's (report.checks.K_BAD), written there once
ELPD_KHAT_BAR = K_BAD


def row_elpds(loglik, posterior, weights: dict) -> list[tuple[str, int, float, float]]:
    """Each held-out row's own elpd (``log mean exp`` over the draws of that row's log-likelihood alone), as
    ``(weight name, row index, elpd, Pareto k-hat of that row's draws)``, observed rows then interval rows. Their
    sum is the episode's *row-wise* elpd: it scores each vote row's predictive on its own, so it leaves out what
    the rows of one episode share (its case and episode effects) and is not the joint elpd; but each term is a mean
    of one row's likelihood, whose draws spread far less than the joint's, so its Monte Carlo error is small where
    the joint's is not (each row's k-hat says how small)."""
    from bayes_coalition import _arviz

    base = {k: np.zeros_like(np.asarray(v, dtype=float)) for k, v in weights.items()}
    out = []
    for key in ("obs_weight", "interval_weight"):
        for j in np.flatnonzero(np.asarray(weights[key]) > 0):
            lp = np.asarray(loglik(posterior, {**base, key: np.eye(len(base[key]))[j]}), dtype=float)
            # a row whose log-likelihood is the same at every draw has nothing to estimate: k-hat 0 (ArviZ says
            # inf); the rows without voters were such rows until model_data lists them as no_voters_unused
            out.append((key, int(j), logmeanexp(lp), _arviz.pareto_khat(lp) if np.ptp(lp) > 0 else 0.0))
    return out


def held_out_scores(loglik, posterior, weights: dict) -> dict:
    """The held-out episode's scores from one fit: ``elpd`` (joint, what :func:`loeo` compares), ``elpd_khat``
    (Pareto k-hat of the draws' joint likelihood: above ``ELPD_KHAT_BAR`` the elpd rests on a few draws),
    ``elpd_chains`` (the elpd of each chain's draws alone: their spread is the Monte Carlo error seen directly),
    ``elpd_rows`` (the row-wise elpd, :func:`row_elpds`) and ``elpd_rows_khat`` (the largest of its rows' k-hat)."""
    from bayes_coalition import _arviz

    lp = np.asarray(loglik(posterior, weights), dtype=float)
    chains = lp.reshape(posterior.sizes["chain"], -1)
    rows = row_elpds(loglik, posterior, weights)
    return {"elpd": logmeanexp(lp), "elpd_khat": _arviz.pareto_khat(lp),
            "elpd_chains": [logmeanexp(c) for c in chains],
            "elpd_rows": float(sum(v for _, _, v, _ in rows)),
            "elpd_rows_khat": float(max((k for *_, k in rows), default=0.0))}


#: the held-out episode's own standard-normal effects (variable -> the dimension its episode's entries lie along): in
#: the fit without its votes nothing but their N(0, 1) prior informs them, so they can be integrated out draw by draw.
#: The walks' steps (``congress_step``) are the episode's own only after the last Congress of any other episode's vote
#: (:func:`trailing_congress_steps`): USMCA, the 116th Congress's one episode, owns the walks' last step
EPISODE_OWN_Z = {"episode_z": "episode", "case_z": "case", "party_tilt_z": "case",
                 "congress_tilt_z": "congress_step", "faction_share_z": "congress_step"}


def _row_cases(md) -> np.ndarray:
    """The case of every vote row, interval row and floor expectation (what a leave-out weighs), in that order."""
    return np.concatenate([np.asarray(md.obs_case_idx, dtype=int), np.asarray(md.int_case_idx, dtype=int),
                           np.asarray(md.expect_case_idx, dtype=int)])


def trailing_congress_steps(md, episode: str) -> np.ndarray:
    """The walk steps (indices into ``congress_step``, step ``j`` entering at Congress ``j + 1``) that no vote row,
    interval row or floor expectation of another episode reaches: each moves only Congresses after the last one
    with another episode's votes, so in the fit without ``episode``'s votes only its N(0, 1) prior informs it (the
    codes do not touch the walks). Empty when another episode votes in the last Congress."""
    ep_i = list(md.coords["episode"]).index(episode)
    cases = _row_cases(md)
    others = cases[np.asarray(md.case_episode_idx)[cases] != ep_i]
    last = int(np.asarray(md.case_congress_idx)[others].max()) if len(others) else 0
    n_steps = len(md.coords["congress"]) - 1
    return np.arange(last, n_steps)            # step j moves Congress j + 1 > last


def episode_own_effects(md, episode: str, posterior) -> dict[str, np.ndarray]:
    """``EPISODE_OWN_Z`` of ``episode`` present in ``posterior``: variable -> its indices along the dimension
    ``EPISODE_OWN_Z`` names (:func:`own_axis`); a variable with none of the episode's entries is left out."""
    ep_i = list(md.coords["episode"]).index(episode)
    where = {"episode": np.array([ep_i]), "case": np.flatnonzero(np.asarray(md.case_episode_idx) == ep_i),
             "congress_step": trailing_congress_steps(md, episode)}
    return {name: where[dim] for name, dim in EPISODE_OWN_Z.items() if name in posterior and len(where[dim])}


def own_axis(posterior, name: str) -> int:
    """The axis of ``posterior[name]`` without its (chain, draw) axes along which ``EPISODE_OWN_Z[name]`` lies
    (the test stand-ins' variables outside ``EPISODE_OWN_Z``: the last)."""
    dims = [d for d in posterior[name].dims if d not in ("chain", "draw")]
    dim = EPISODE_OWN_Z.get(name)
    return dims.index(dim) if dim in dims else len(dims) - 1


def tied_walks(md, episode: str, own: dict) -> tuple[str, ...]:
    """The walks in ``own`` whose steps enter ``episode``'s likelihood only through their sum: all of them when every
    vote row, interval row and floor expectation of the episode lies in the model's last Congress (every trailing
    step, :func:`trailing_congress_steps`, then moves that Congress), else none (an episode over two Congresses sees
    two partial sums; one before the last Congress does not see the steps after it). Their steps can then be
    integrated as one N(0, 1) per walk (``integrated_elpd(tie=...)``): the same integral in fewer dimensions."""
    ep_i = list(md.coords["episode"]).index(episode)
    cases = _row_cases(md)
    mine = cases[np.asarray(md.case_episode_idx)[cases] == ep_i]
    last_only = len(mine) > 0 and bool((np.asarray(md.case_congress_idx)[mine] == len(md.coords["congress"]) - 1).all())
    return tuple(name for name, dim in EPISODE_OWN_Z.items() if dim == "congress_step" and name in own) \
        if last_only else ()


def integrated_elpd(loglik, posterior, weights: dict, own: dict, *, max_draws: int = 500, seed: int = 0,
                    tie: tuple[str, ...] = (), **options) -> dict:
    """The held-out joint elpd with the episode's own effects ``own`` (:func:`episode_own_effects`) integrated out
    for each posterior draw by importance sampling (:func:`~bayes_coalition.validation.integrated.integrated_log_likelihood`,
    ``options`` passed on), so that only the shared parameters are averaged over draws: the same target as the
    plain ``log mean_s p(votes | theta_s, z_s)``, far less Monte Carlo error. At most ``max_draws`` draws, evenly
    spaced over the chains' draws in order. Returns ``elpd``; ``khat`` (Pareto k-hat of the per-draw integrated
    likelihoods: the outer mean's reliability); ``mcse`` (the outer mean's delta-method Monte Carlo sd, draws taken
    as independent; the inner estimates' error, ``draw_mcse_max``, is far smaller); ``draw_khat_max`` and
    ``draws_khat_above`` (the inner importance sampling's k-hat, largest and count above ``ELPD_KHAT_BAR``);
    ``unfinished`` (draws whose tempering did not reach the likelihood); ``per_chain``; ``n_draws``; ``dim``.

    ``tie``: variables of ``own`` whose entries enter the likelihood only through their sum along the own dimension
    (:func:`tied_walks`): one standard normal ``u`` per slice is integrated, and each of the ``m`` entries set to
    ``u / sqrt(m)``, whose sum has the sum's N(0, m) distribution: the same integral, ``m - 1`` fewer dimensions per
    slice (measured on USMCA's walks: 77 of 500 draws with inner k-hat above 0.7 instead of 175, the estimate 0.11
    apart)."""
    import xarray as xr

    from bayes_coalition import _arviz
    from bayes_coalition.validation.integrated import integrated_log_likelihood, log_mean_mcse

    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    n = chains * draws
    pick = np.unique(np.linspace(0, n - 1, min(n, int(max_draws))).round().astype(int))
    flat = {name: posterior[name].transpose("chain", "draw", ...).values.reshape((n, *posterior[name].shape[2:]))[pick]
            for name in loglik.fn.names}
    slots, start = [], 0
    for name, idx in own.items():
        axis = 1 + own_axis(posterior, name)                  # in flat, axis 0 is the draw
        rest = [n for a, n in enumerate(flat[name].shape) if a not in (0, axis)]
        tied = name in tie
        size = int(np.prod(rest, dtype=int)) * (1 if tied else len(idx))
        slots.append((name, np.asarray(idx), axis, slice(start, start + size), tied))
        start += size
    dim = start

    def loglik_z(z, rows):
        s, k, _ = z.shape
        data = {name: np.repeat(arr[rows], k, axis=0) for name, arr in flat.items()}
        for name, idx, axis, sl, tied in slots:
            view = np.moveaxis(data[name], axis, -1)              # a view: writing into it writes into data[name]
            if tied:
                view[..., idx] = z[..., sl].reshape((s * k, *view.shape[1:-1], 1)) / np.sqrt(len(idx))
            else:
                view[..., idx] = z[..., sl].reshape((s * k, *view.shape[1:-1], len(idx)))
        ds = xr.Dataset({name: (("chain", "draw", *[f"{name}_dim_{i}" for i in range(a.ndim - 1)]), a[None])
                         for name, a in data.items()})
        return np.asarray(loglik(ds, weights), dtype=float).reshape(s, k)

    rng = np.random.default_rng(seed)
    out = integrated_log_likelihood(loglik_z, len(pick), dim, rng=rng, **options)
    ll = out["log_lik"]
    chain_of = pick // draws
    return {"elpd": logmeanexp(ll), "khat": _arviz.pareto_khat(ll), "mcse": float(log_mean_mcse(ll)),
            "draw_mcse_max": float(out["mcse"].max()), "draw_khat_max": float(out["khat"].max()),
            "draws_khat_above": int((out["khat"] > ELPD_KHAT_BAR).sum()), "unfinished": int((out["beta"] < 1).sum()),
            "per_chain": [logmeanexp(ll[chain_of == c]) for c in range(chains) if (chain_of == c).any()],
            "n_draws": int(len(pick)), "dim": int(dim)}


def elpd_difference(table: pd.DataFrame, a: str, b: str) -> dict:
    """``sum_e (elpd_a,e - elpd_b,e)`` with its standard error ``sqrt(E var(d))`` over episodes."""
    d = (table[a] - table[b]).to_numpy(float)
    return {"elpd_diff": float(d.sum()), "se": float(np.sqrt(len(d) * d.var(ddof=1))) if len(d) > 1 else float("nan"),
            "n_episodes": int(len(d))}


# the looser R-hat bar of the differences' convergence sensitivity (converged_differences): a fit above it is more
# than slightly short (a left-out fit of the floored default reached 1.355 on 2026-12-02, its chains' held-out
# elpd -44 to -61: docs/model_layers.md)
RHAT_SENSITIVITY = 1.05


def converged_differences(table: pd.DataFrame, fits: list[dict], bar: float = RHAT_SENSITIVITY) -> dict:
    """The full model's elpd differences again, each over the episodes whose fits of both compared variants reached
    max R-hat <= ``bar`` (a missing or NaN R-hat does not): ``{"max_rhat": bar, "differences": {name: {elpd_diff,
    se, n_episodes, dropped}}}``, ``dropped`` the episodes left out, sorted. Beside ``differences`` it shows how much
    of each comparison rests on fits that miss that looser bar."""
    rhat = {(f["variant"], f["episode"]): f.get("max_rhat") for f in fits}
    ok = lambda label, ep: rhat.get((label, ep)) is not None and float(rhat[(label, ep)]) <= bar   # NaN <= bar is False
    out = {}
    for label in table.columns:
        if label == FULL:
            continue
        keep = [ep for ep in table.index if ok(FULL, ep) and ok(label, ep)]
        out[f"full_minus_{label}"] = {**elpd_difference(table.loc[keep], FULL, label),
                                      "dropped": sorted(set(table.index) - set(keep))}
    return {"max_rhat": float(bar), "differences": out}


def elpd_reliability(fits: list[dict], bar: float = ELPD_KHAT_BAR) -> dict:
    """How much of the comparison is Monte Carlo error: ``{"khat_bar": bar, "unreliable": [{variant, episode,
    elpd_khat, elpd_chains}] (fits whose k-hat exceeds the bar, worst first), "row_differences": {name: {elpd_diff,
    se, n_episodes}}, "rows_unreliable": n}``: ``row_differences`` are the full model's differences again on the
    row-wise elpd (:func:`row_elpds`; None when a fit lacks it, as a record from before 2026-12-03 does), and
    ``rows_unreliable`` the number of fits with a held-out row's own k-hat above the bar. When every fit has the
    integrated elpd (``loeo(integrated=...)``): ``integrated_differences`` on it and ``integrated_unreliable``, the
    number of fits whose integrated elpd's k-hat over draws is above the bar."""
    unreliable = sorted(({k: f[k] for k in ("variant", "episode", "elpd_khat", "elpd_chains")} for f in fits
                         if f.get("elpd_khat") is not None and float(f["elpd_khat"]) > bar),
                        key=lambda f: -float(f["elpd_khat"]))
    row_diff = None
    if fits and all(f.get("elpd_rows") is not None for f in fits):
        rows = pd.DataFrame(fits).pivot(index="episode", columns="variant", values="elpd_rows")
        row_diff = {f"full_minus_{k}": elpd_difference(rows, FULL, k) for k in rows.columns if k != FULL}
    rows_bad = sum(1 for f in fits if f.get("elpd_rows_khat") is not None and float(f["elpd_rows_khat"]) > bar)
    out = {"khat_bar": float(bar), "unreliable": unreliable, "row_differences": row_diff, "rows_unreliable": rows_bad}
    if fits and all(f.get("elpd_integrated") is not None for f in fits):
        table = pd.DataFrame(fits).pivot(index="episode", columns="variant", values="elpd_integrated")
        out["integrated_differences"] = {f"full_minus_{k}": elpd_difference(table, FULL, k)
                                         for k in table.columns if k != FULL}
        out["integrated_unreliable"] = sum(1 for f in fits if float(f["elpd_integrated_khat"]) > bar)
    return out


def _episode_fit(spec: dict, sampler, ep: str, i: int, *, seed, draws, chains, tune, refit, cores):
    """The fit without ``ep``'s votes (seed ``seed + i``) on the worker's cached weighted model of ``spec``:
    ``(data set, model, fits, idata, diagnostics, fit row)``."""
    from bayes_coalition import diagnostics
    from bayes_coalition.validation.backtest import weighted_model

    ds, model, fits = weighted_model(spec, sampler)
    md = model.model_data
    idata, diag = fits.fit(leave_out_weights(md, ep), seed=seed + i, draws=draws, tune=tune, chains=chains,
                           target_accept=float(spec["sampler"]["target_accept"]), refit=refit, cores=cores)
    status, _ = diagnostics.verdict(diag)
    row = {"episode": ep, "verdict": status, "max_rhat": diag["max_rhat"], "divergences": diag["divergences"],
           "attempts": diag["attempts"], "seconds": diag["wall_seconds"]}
    return ds, model, fits, idata, diag, row


class _EpisodeElpd:
    """One (variant, episode) task of :func:`loeo`: the held-out elpd of the episode's votes."""

    def __init__(self, common: dict, integrated: int = 0):
        self.common = common
        self.integrated = integrated            # posterior draws of the integrated elpd (0: none)

    def __call__(self, label: str, spec: dict, sampler, ep: str, i: int):
        from bayes_coalition.parallel import content_key, worker_cached

        ds, model, fits, idata, diag, row = _episode_fit(spec, sampler, ep, i, **self.common)
        loglik = worker_cached(("vote-loglik", content_key(spec, sampler)), lambda: VoteLogLik(fits.pm_model))
        weights = held_out_weights(model.model_data, ep)
        scores = held_out_scores(loglik, idata.posterior, weights)
        if self.integrated:
            # the same joint elpd with the episode's own effects integrated out per draw (integrated_elpd), seeded
            # by the episode's place as its fit is
            own = episode_own_effects(model.model_data, ep, idata.posterior)
            g = integrated_elpd(loglik, idata.posterior, weights, own, max_draws=self.integrated,
                                seed=self.common["seed"] + i, tie=tied_walks(model.model_data, ep, own))
            scores.update(elpd_integrated=g["elpd"], elpd_integrated_khat=g["khat"], elpd_integrated_mcse=g["mcse"],
                          elpd_integrated_chains=g["per_chain"], integrated_dim=g["dim"],
                          integrated_draws_khat_above=g["draws_khat_above"], integrated_unfinished=g["unfinished"])
        # the full model's fit is the fit loeo_votes makes: its predictions of the left-out votes come with it
        votes = vote_rows(ds, model, idata, diag, ep, seed=self.common["seed"], verdict=row["verdict"]) \
            if label == FULL else []
        elpd = scores.pop("elpd")
        return elpd, {"variant": label, **row, **scores}, votes


def _cores(ex, chains):
    return ex.cores(chains) if (ex.workers > 1 or ex.cores_per_worker is not None) else None


def loeo(spec, *, variants: dict | None = None, episodes=None, seed: int = 1, draws: int = 500, chains: int = 2,
         tune: int = 800, sampler: str | None = None, refit: bool = True, progress: bool = True,
         executor=None, client=None, workers: int | None = None, checkpoint=None, integrated: int = 0) -> dict:
    """Leave-one-episode-out elpd of each variant (default: full, without H1, without H2) and the full
    model's elpd difference from each other variant with its standard error (module docstring). Each
    (variant, episode) fit is a task of ``executor`` (:mod:`bayes_coalition.parallel`; default: in this
    process); the i-th episode's fit uses seed ``seed + i`` in every variant.

    ``checkpoint`` (a folder; the CLI's ``OUT/episodes``): each finished (variant, episode) task is kept there as
    ``<variant>__<episode>.json`` and a rerun with the same model version, data, spec, constructs and settings
    takes it from there (:class:`bayes_coalition.parallel.ResultStore`), so a batch of 69 fits can run across
    several sittings.

    ``integrated`` (a number of posterior draws; 0, the default, for none): each fit also scores its held-out episode
    with the episode's own effects integrated out on that many draws (:func:`integrated_elpd`; about 2.5 min per fit
    at 500 on 2026-12-03), kept in its fit row as ``elpd_integrated`` and its checks, and ``reliability`` gives the
    differences on it (:func:`elpd_reliability`)."""
    from bayes_coalition.coalition.model import CoalitionModel, model_id
    from bayes_coalition.coalition.spec import batch_spec_content
    from bayes_coalition.data.dataset import data_digest, load_dataset
    from bayes_coalition.parallel import ResultStore, resolve, run_all
    from bayes_coalition.validation.backtest import OriginFits

    variants = variants or H_VARIANTS
    ds = load_dataset(spec["data"]["path"] or None)
    ex, own = resolve(executor, client=client, workers=workers)
    # the refit schedule is part of the key: a task fitted under another schedule is fitted again
    schedule = OriginFits.attempts(0, tune, float(spec["sampler"]["target_accept"]), refit, draws)
    store = ResultStore(checkpoint, model_version=CoalitionModel.version, data=data_digest(ds),
                        spec=batch_spec_content(spec), sampler=sampler, seed=seed, draws=draws, chains=chains,
                        tune=tune, refit=refit, schedule=schedule, outputs=LOEO_OUTPUTS,
                        # a task scored without the integrated elpd is scored again when it is asked for (and the
                        # key of a run without it is the key it always had)
                        **({"integrated": int(integrated)} if integrated else {}))
    tasks, stored, parts = [], {}, {}
    for label, constructs in variants.items():
        vspec = {**spec, "model": {**spec["model"], "constructs": constructs}}
        chosen = list(episodes) if episodes else vote_episodes(CoalitionModel(ds, vspec).model_data)
        for i, ep in enumerate(chosen):
            parts[(label, ep)] = (f"{label}__{ep}", list(constructs), i)       # the task's file and key
            saved = store.load(*parts[(label, ep)])
            if saved is not None:
                stored[(label, ep)] = (float(saved[0]), saved[1], saved[2])
            tasks.append(((label, ep), (label, vspec, sampler, ep, i)))
    todo = [t for t in tasks if t[0] not in stored]
    if progress and stored:
        print(f"loeo: {len(stored)} of {len(tasks)} fits taken from {checkpoint}", flush=True)
    common = dict(seed=seed, draws=draws, chains=chains, tune=tune, refit=refit, cores=_cores(ex, chains))

    def report(key, result, n):
        name, constructs, i = parts[key]
        store.save(name, list(result), constructs, i)
        if progress:
            (label, ep), (elpd, row, _) = key, result
            print(f"loeo {label} without {ep}: elpd {elpd:.2f} ({row['verdict']}, max R-hat {row['max_rhat']:.3f}, "
                  f"{row['seconds']:.0f} s; {n}/{len(todo)} fits)", flush=True)

    results = {**stored, **run_all(ex, _EpisodeElpd(common, int(integrated)), todo, own=own, label="loeo", on_result=report)}
    rows, fits_out, votes = {}, [], []
    for key, _ in tasks:                                  # task order, whatever order the fits finished in
        elpd, row, vote_list = results[key]
        rows.setdefault(key[1], {})[key[0]] = elpd
        fits_out.append(row)
        votes += vote_list
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "episode"
    labels = list(variants)
    has_full = "full" in labels
    out = {"elpd": {k: float(table[k].sum()) for k in labels},
           "differences": {f"full_minus_{k}": elpd_difference(table, "full", k) for k in labels if k != "full"}
           if has_full else {},
           # the same differences over the episodes whose compared fits reached R-hat <= 1.05 (RHAT_SENSITIVITY)
           "converged_differences": converged_differences(table, fits_out) if has_full else None,
           # how far each episode's elpd can be trusted as a Monte Carlo estimate, and the steadier row-wise score
           "reliability": elpd_reliability(fits_out) if has_full else None,
           "per_episode": table.reset_index().to_dict(orient="records"),
           # the full model's predictions of each left-out episode's votes (as loeo_votes makes them) and their
           # scores (issue 14's questions): from the same fits, so no fit is made twice
           "votes": pd.DataFrame(votes, columns=VOTE_COLUMNS),
           "vote_summary": loeo_vote_scores(pd.DataFrame(votes, columns=VOTE_COLUMNS)) if votes else None,
           "fits": fits_out,
           "unconverged_fits": [f for f in fits_out if f["verdict"] == "fail"],
           # model_id: which model this is the cross-validation of (the report shows it only beside a run of that model)
           "settings": {"model_id": model_id(spec), "seed": seed, "draws": draws, "chains": chains, "tune": tune,
                        "refit": refit, "workers": ex.workers, "integrated": int(integrated)}}
    return out


# --- leave-one-episode-out predictions of the votes (issue 14's check of the strategic layer) ---------------

NEAR_THRESHOLD = 10        # a counted vote "near the threshold" ends within this many yeas of it


def observed_margins(md) -> np.ndarray:
    """Per case, the observed yeas minus the yeas needed by its rule at its observed turnout (NaN for a vote
    without a count: the withdrawn measure's whip estimate)."""
    from bayes_coalition.coalition import rules
    from bayes_coalition.coalition.predictive import _observed_case_yea
    from bayes_coalition.constants import CHAMBERS

    n = np.zeros(len(md.coords["case"]), dtype=int)
    np.add.at(n, md.obs_case_idx, md.obs_n)
    yea = _observed_case_yea(md)
    needed = rules.votes_needed(md.case_threshold, np.array(CHAMBERS)[md.case_chamber_idx], n).astype(float)
    return yea - needed


def strategy_episodes(md, *, near: int = NEAR_THRESHOLD) -> list[str]:
    """The episodes holding a vote that ended within ``near`` yeas of its threshold, a vote that failed, or a
    withdrawn measure: the episodes issue 14's leave-one-episode-out check predicts."""
    margin = observed_margins(md)
    case_ep = np.asarray(md.coords["episode"], dtype=object)[md.case_episode_idx]
    near_votes = np.isfinite(margin) & (np.abs(margin) <= near)
    failed = np.isfinite(margin) & (margin < 0)
    withdrawn = np.isin(np.arange(len(margin)), md.int_case_idx) & ~np.isfinite(margin)
    return sorted(set(case_ep[near_votes | failed | withdrawn].tolist()))


def loeo_votes(spec, *, episodes=None, seed: int = 1, draws: int = 500, chains: int = 2, tune: int = 800,
               sampler: str | None = None, refit: bool = True, progress: bool = True,
               executor=None, client=None, workers: int | None = None, checkpoint=None) -> dict:
    """Leave-one-episode-out predictions of every vote: each episode's votes are predicted by the fit to the
    votes of every other episode (its codes kept, as in :func:`loeo`), as a new bill of that Congress with
    the codes dated before the vote (``backtest.case_bill``). Per vote: P(pass), given that it reaches the
    floor where agenda control is on (``p_pass``); P(reaching the floor) (``p_floor``, 1 without the layer);
    and P(deadlock) (fails or is never held). The summary scores the questions of issue 14:

    - ``near_threshold``: the votes whose observed count ended within ``NEAR_THRESHOLD`` yeas of their
      threshold (every one of them on or above it in the shipped record), and their mean P(pass);
    - ``failed_or_withdrawn``: the mean log score of the votes that failed (log(1 - P(pass)), the vote was
      held) and of the withdrawn measure (log P(deadlock): it never reached the floor).

    ``checkpoint`` (a folder): each episode's fit and predictions are kept there (``<episode>.json``) and a rerun
    with the same model version, data, spec and settings takes them from it (:class:`bayes_coalition.parallel.ResultStore`).
    """
    from bayes_coalition.coalition.model import CoalitionModel, model_id
    from bayes_coalition.coalition.spec import batch_spec_content
    from bayes_coalition.data.dataset import data_digest, load_dataset
    from bayes_coalition.parallel import ResultStore, resolve, run_all
    from bayes_coalition.validation.backtest import OriginFits

    spec = {**spec, "data": {**spec["data"], "exclude_cases": []}}
    ex, own = resolve(executor, client=client, workers=workers)
    ds = load_dataset(spec["data"]["path"] or None)
    chosen = list(episodes) if episodes else vote_episodes(CoalitionModel(ds, spec).model_data)
    common = dict(seed=seed, draws=draws, chains=chains, tune=tune, refit=refit, cores=_cores(ex, chains))
    # the refit schedule is part of the key: an episode fitted under another schedule is fitted again
    schedule = OriginFits.attempts(0, tune, float(spec["sampler"]["target_accept"]), refit, draws)
    store = ResultStore(checkpoint, model_version=CoalitionModel.version, data=data_digest(ds), spec=batch_spec_content(spec),
                        sampler=sampler,
                        seed=seed, draws=draws, chains=chains, tune=tune, refit=refit, schedule=schedule)
    stored = {ep: store.load(ep, i) for i, ep in enumerate(chosen)}
    stored = {ep: tuple(r) for ep, r in stored.items() if r is not None}
    tasks = [(ep, (spec, sampler, ep, i)) for i, ep in enumerate(chosen) if ep not in stored]
    if progress and stored:
        print(f"loeo votes: {len(stored)} of {len(chosen)} episodes taken from {checkpoint}", flush=True)

    def report(ep, result, n):
        store.save(ep, list(result), chosen.index(ep))
        if progress:
            fit = result[1]
            print(f"loeo votes without {ep}: {fit['verdict']} (max R-hat {fit['max_rhat']:.3f}, {fit['seconds']:.0f} s; "
                  f"{n}/{len(tasks)} fits)", flush=True)

    results = {**stored, **run_all(ex, _EpisodeVotes(common), tasks, own=own, label="loeo", on_result=report)}
    table = pd.DataFrame([r for ep in chosen for r in results[ep][0]], columns=VOTE_COLUMNS)
    fits_out = [results[ep][1] for ep in chosen]
    return {"votes": table, "summary": loeo_vote_scores(table), "fits": fits_out,
            "unconverged_fits": [f for f in fits_out if f["verdict"] == "fail"],
            "settings": {"model_id": model_id(spec), "seed": seed, "draws": draws, "chains": chains, "tune": tune,
                         "refit": refit, "agenda_control": bool(spec["model"].get("agenda_control", False)),
                         "vote_buying": bool(spec["model"].get("vote_buying", False)), "workers": ex.workers}}


class _EpisodeVotes:
    """One episode of :func:`loeo_votes`: the fit without its votes predicts each of them."""

    def __init__(self, common: dict):
        self.common = common

    def __call__(self, spec: dict, sampler, ep: str, i: int):
        ds, model, _, idata, diag, fit = _episode_fit(spec, sampler, ep, i, **self.common)
        return vote_rows(ds, model, idata, diag, ep, seed=self.common["seed"], verdict=fit["verdict"]), fit


def vote_rows(ds, model, idata, diag, ep: str, *, seed: int, verdict: str) -> list[dict]:
    """The predictions of episode ``ep``'s votes by ``model``'s fit without them (``idata``): one row per vote
    (``VOTE_COLUMNS``), each vote a new bill of its Congress with the codes dated before it (``backtest.case_bill``)."""
    from bayes_coalition.prediction.predict import predict
    from bayes_coalition.prediction.predictor import BillPredictor
    from bayes_coalition.validation.backtest import case_bill

    model.idata, model.diagnostics = idata, diag
    margin = dict(zip(model.model_data.coords["case"], observed_margins(model.model_data)))
    cases = ds.cases.set_index("case_id")
    predictor = BillPredictor(model)
    rows = []
    for case_id in cases.index[cases["episode_id"] == ep]:
        c = cases.loc[case_id]
        pred = predict(model, case_bill(ds, case_id), seed=seed, predictor=predictor, party_line=False)
        ch = c["chamber"].lower()
        rows.append({"case_id": case_id, "episode_id": ep, "chamber": c["chamber"], "vote_type": c["vote_type"],
                     "observed_passed": None if pd.isna(c["passed"]) else bool(c["passed"]),
                     "withdrawn": c["vote_type"] == "whip_estimate",
                     "observed_margin": margin.get(case_id, float("nan")),
                     "p_pass": float(pred[f"p_{ch}"]),
                     "p_floor": float(pred[f"p_floor_{ch}"]),
                     "p_deadlock": float(pred[f"p_deadlock_{ch}"]), "fit_verdict": verdict})
    return rows


def vote_score_phrases(summary: dict) -> list[str]:
    """The two figures of :func:`loeo_vote_scores`' summary in words (for the CLI and the report): none for a set
    with no such vote."""
    near, bad = summary["near_threshold"], summary["failed_or_withdrawn"]
    out = []
    if near["n_votes"]:
        out.append(f"mean P(pass) {near['mean_p_pass']:.3f} over the {near['n_votes']} votes within {near['margin']} "
                   "yeas of their threshold")
    if bad["n_votes"]:
        out.append(f"mean log score {bad['mean_log_score']:.3f} over the {bad['n_votes']} failed or withdrawn votes "
                   "(log P of what happened)")
    return out


def loeo_vote_scores(table: pd.DataFrame, *, near: int = NEAR_THRESHOLD) -> dict:
    """The summary of :func:`loeo_votes` (its docstring) from the per-vote table."""
    eps = 1e-3
    m = table["observed_margin"].to_numpy(float)
    near_rows = table[np.isfinite(m) & (np.abs(m) <= near)]
    failed = table[table["observed_passed"].eq(False)]
    withdrawn = table[table["withdrawn"].astype(bool)]
    logs = [float(np.log(np.clip(1 - p, eps, 1))) for p in failed["p_pass"]]
    logs += [float(np.log(np.clip(p, eps, 1))) for p in withdrawn["p_deadlock"]]
    cases = list(failed["case_id"]) + list(withdrawn["case_id"])
    return {"near_threshold": {"n_votes": int(len(near_rows)), "margin": near,
                               "mean_p_pass": float(near_rows["p_pass"].mean()) if len(near_rows) else None,
                               "votes": dict(zip(near_rows["case_id"], near_rows["p_pass"].astype(float)))},
            "failed_or_withdrawn": {"n_votes": len(cases), "mean_log_score": float(np.mean(logs)) if logs else None,
                                    "votes": dict(zip(cases, logs))}}
