"""Simulation-based calibration (Talts et al. 2018) of the coalition and ideal-point models.

For each simulation: draw every parameter from the prior, simulate the data through the
same likelihood, fit, and record the rank of each true scalar among its posterior draws
thinned to their bulk effective sample size (autocorrelated draws bias ranks toward the ends).  If the sampler and the model agree the ranks are uniform.

- the statistics (ranks, uniformity tests, ECDF bands) are pure functions in
  :mod:`bayes_coalition.validation.sbc_stats`;
- :func:`run_coalition_sbc`: compiles the coalition model once with its observations in
  ``pm.Data`` and swaps simulated data in (nutpie ``with_data``; PyMC's sampler otherwise).
  Interval rows: a simulated count is coarsened into an interval of the same width at a random
  offset, a coarsening at random under which the interval likelihood is exact; a whip count read
  as a measurement reports its range around the count plus the drawn bias and error.
- :func:`run_ideal_point_sbc`: the member-level model on a small synthetic matrix; the truth
  is mapped onto the identified frame exactly as the posterior draws are.

Runs are seeded and resumable: ranks are appended to ``sbc.csv`` (and per-fit diagnostics to
``sbc_fits.csv``) as simulations finish, and finished simulations are skipped.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_coalition import _io
from bayes_coalition.validation import sbc_strategic
from bayes_coalition.validation.sbc_stats import ess_thinned_rank, summarise_sbc

COALITION_GROUPS = (
    "faction_deviation", "faction_share", "type_shift", "cut_point_mean", "chamber_offset",
    "vote_type_offset", "divided_government", "sigma_total", "episode_share", "congress_tilt",
    "sigma_tilt_total", "tilt_walk_share", "sigma_congress_tilt_step", "president_tilt", "sigma_party_tilt",
    "election_year", "party_gap_tilt", "majority_tilt", "house_tilt", "log_relative_discrimination",
    "whip_bias", "whip_error", "effect_included", "concentration",
    "construct_latent", "loading", "indicator_first_cut_3", "episode_effect", "cut_point", "party_tilt",
)
# the strategic layers' parameters and the faction-share walk's step (ranked where the spec has them)
COALITION_GROUPS += ("agenda_bar", "agenda_scale", "agenda_leak", "expectation_slope", "expectation_cuts",
                     "faction_share_step")
# prior draws per simulation from which the truths given the withdrawn measures are kept (agenda control)
CANDIDATES_PER_SIMULATION = 4
SELECTION_STREAM = 7919
IDEAL_POINT_GROUPS = ("ideal_point", "discrimination", "difficulty", "party_location", "party_scale")
RANK_COLUMNS = ["simulation", "parameter", "rank", "n_draws"]


# --- bookkeeping ---------------------------------------------------------------------------


def _scalars(group, names) -> dict:
    """{label: flat draws} for every scalar element of the named variables of an xarray group."""
    out = {}
    for name in names:
        if name not in group:
            continue
        v = group[name]
        flat = v.values.reshape(v.shape[0] * v.shape[1], -1)
        extra = [d for d in v.dims if d not in ("chain", "draw")]
        if not extra:
            labels = [name]
        elif len(extra) == 1:
            labels = [f"{name}[{c}]" for c in v[extra[0]].values]
        else:
            labels = [f"{name}[{'|'.join(map(str, idx))}]" for idx in np.ndindex(*v.shape[2:])]
        for j, lab in enumerate(labels):
            out[lab] = flat[:, j]
    return out


def start(out_dir: Path, settings: dict) -> dict:
    """Record a run's settings in ``out_dir/sbc_settings.json``; a resumed run must use the settings
    it started with (else its ranks would mix), so other settings raise ValueError."""
    path = Path(out_dir) / "sbc_settings.json"
    settings = json.loads(_io.dumps(settings))
    if path.is_file():
        old = _io.read_json(path)
        if old != settings:
            raise ValueError(f"sbc: {out_dir} holds a run with other settings {old}; use another output folder")
    else:
        _io.write_json(path, settings)
    return settings


def coalition_settings(spec: dict, spec_path: str, **settings) -> dict:
    """The recorded settings of a coalition SBC run (:func:`start`): ``settings`` (seed, draws, ...), the spec's
    path, its model id and its target acceptance. A resumed run whose spec file changed in between (another
    model, or another acceptance for its fits) is then refused instead of mixing two runs' ranks."""
    from bayes_coalition.coalition.model import model_id

    return dict(settings, model="coalition", spec=str(spec_path), model_id=model_id(spec),
                target_accept=float(spec["sampler"]["target_accept"]))


def finish(out_dir: Path, ranks: pd.DataFrame, n_sims: int, settings: dict, *, seconds: float) -> dict:
    """The verdict over the first ``n_sims`` simulations with the fits' cost and convergence; also
    written to ``out_dir/sbc.json``."""
    summary = summarise_sbc(ranks[ranks["simulation"] < n_sims])
    fits = pd.read_csv(Path(out_dir) / "sbc_fits.csv")
    summary.update(settings=settings, wall_seconds_this_call=seconds, fit_seconds_total=float(fits["seconds"].sum()),
                   fits_with_divergences=int((fits["divergences"] > 0).sum()), max_rhat_over_fits=float(fits["max_rhat"].max()))
    _io.write_json(Path(out_dir) / "sbc.json", summary)
    return summary


class _Store:
    """sbc.csv (ranks) and sbc_fits.csv (per-fit diagnostics) in ``out_dir``; resumable.

    Simulations may finish in any order (workers); both files are kept sorted by simulation and rewritten
    whole through a temporary file renamed into place (at most every ``every`` seconds, and on
    :meth:`flush`), so they never hold a half-written row and their content does not depend on the order
    in which simulations finished."""

    def __init__(self, out_dir: Path, every: float = 2.0):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ranks_path = self.dir / "sbc.csv"
        self.fits_path = self.dir / "sbc_fits.csv"
        self.ranks = pd.read_csv(self.ranks_path) if self.ranks_path.is_file() else pd.DataFrame(columns=RANK_COLUMNS)
        self.fits = pd.read_csv(self.fits_path) if self.fits_path.is_file() else pd.DataFrame()
        # a simulation counts as done when both its ranks and its fit row were written
        fitted = set(self.fits["simulation"].astype(int)) if len(self.fits) else set()
        self.done = set(self.ranks["simulation"].astype(int).unique()) & fitted
        self.ranks = self.ranks[self.ranks["simulation"].isin(self.done)]
        self.fits = self.fits[self.fits["simulation"].isin(self.done)] if len(self.fits) else self.fits
        self.every, self._last, self._dirty = every, time.perf_counter(), False

    def add(self, sim: int, rows: list, fit: dict):
        frame = pd.DataFrame(rows, columns=RANK_COLUMNS)
        self.ranks = pd.concat([self.ranks, frame], ignore_index=True) if len(self.ranks) else frame
        fit_row = pd.DataFrame([{"simulation": sim, **fit}])
        self.fits = pd.concat([self.fits, fit_row], ignore_index=True) if len(self.fits) else fit_row
        self.done.add(sim)
        self._dirty = True
        if time.perf_counter() - self._last >= self.every:
            self.flush()

    def flush(self):
        from bayes_coalition.parallel import write_csv_atomic

        if not self._dirty:
            return
        self.ranks = self.ranks.sort_values("simulation", kind="stable", ignore_index=True)
        self.fits = self.fits.sort_values("simulation", kind="stable", ignore_index=True)
        # the fits first: a run stopped between the two writes re-fits nothing that is in sbc.csv
        write_csv_atomic(self.fits, self.fits_path)
        write_csv_atomic(self.ranks, self.ranks_path)
        self._last, self._dirty = time.perf_counter(), False


# target acceptance of a strategic layer's own SBC fits: its model has no spec sampler, so nutpie's default, with
# which its shipped run was measured (docs/model_layers.md, "SBC of the layer")
LAYER_TARGET_ACCEPT = 0.8


def layer_fit_ranks(compiled, data: dict, theta: dict, groups, sim: int, rng, *, fit_seed: int, draws: int, tune: int,
                    chains: int, cores: int, n_keep: int) -> tuple:
    """A strategic layer's SBC fit: nutpie on its ``compiled`` model with this simulation's ``data``, then the
    ranks of the true ``theta`` among the draws of ``groups`` thinned to their ESS, and the fit's statistics
    (divergences, R-hat: reported in sbc.json, never dropped)."""
    from bayes_coalition.sampling import sample_compiled

    ts = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = sample_compiled(compiled.with_data(**data), draws=draws, tune=tune, chains=chains, cores=cores,
                                seed=fit_seed, target_accept=LAYER_TARGET_ACCEPT, low_rank_mass_matrix=False)
    seconds = time.perf_counter() - ts
    post = {k: idata.posterior[k].values.reshape(-1) for k in groups}
    return _ranks(sim, theta, post, n_keep, rng, int(idata.posterior.sizes["chain"])), _fit_stats(idata, seconds)


def run_layer_sbc(task, design: dict, priors: dict, n_sims: int, *, seed: int, out_dir: Path, draws: int, tune: int,
                  chains: int, n_keep: int, label: str, progress: bool = True, executor=None, client=None,
                  workers: int | None = None):
    """The runner of a strategic layer's own SBC (validation/agenda_sbc.py, buying_sbc.py): simulation ``sim`` is
    ``task(design, priors, sim, seed, draws, tune, chains, cores, n_keep)`` on the executor, resumable through the
    store of every SBC. Returns every rank in the store."""
    from bayes_coalition.parallel import resolve

    store = _Store(out_dir)
    ex, own = resolve(executor, client=client, workers=workers)
    tasks = [(sim, (design, priors, sim, seed, draws, tune, chains, ex.cores(chains), n_keep))
             for sim in range(n_sims) if sim not in store.done]
    return run_into_store(store, ex, own, task, tasks, label=label, progress=progress)


def run_into_store(store: _Store, ex, own: bool, fn, tasks: list, *, label: str = "sbc", progress: bool = True):
    """Run the simulations ``tasks`` (``(sim, args)``, ``fn(*args) -> (rank rows, fit statistics)``) on the
    executor ``ex`` into ``store`` as they finish (:func:`bayes_coalition.parallel.run_all`); the store is flushed
    whatever happens. Returns every rank in the store."""
    from bayes_coalition.parallel import run_all

    try:
        run_all(ex, fn, tasks, own=own, label=label, progress=progress,
                on_result=lambda sim, result, _: store.add(sim, *result))
    finally:
        store.flush()
    return store.ranks


def _ranks(sim: int, truth: dict, posterior: dict, n_keep: int, rng, n_chains: int = 1) -> list:
    """Each true scalar's rank among its posterior draws thinned to their effective sample size, on the
    common scale 0..n_keep (:func:`~bayes_coalition.validation.sbc_stats.ess_thinned_rank`)."""
    rows = []
    for label, value in truth.items():
        if label in posterior:
            rank, _ = ess_thinned_rank(float(value), np.asarray(posterior[label]).reshape(n_chains, -1), n_keep, rng)
            rows.append((sim, label, rank, n_keep))
    return rows


def _fit_stats(idata, seconds: float, free: list[str] | None = None) -> dict:
    """Divergences, max R-hat and min bulk ESS of a simulation's fit, over the model's free variables (``free``, or
    those the fit recorded; else every posterior variable): the convergence check of a fit
    (:meth:`CoalitionModel.fit`, the backtest's origins). Deterministics are functions of them, and checking the
    coalition model's 14 (1361 scalars against 319) took 3-4 s of the driver's CPU per simulation, time taken
    from the workers on a 2-core machine (docs/distributed.md)."""
    from bayes_coalition import diagnostics

    names = [v for v in (free or diagnostics.free_variable_names(idata)) if v != "orientation_sign"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # R-hat of a constant scalar (a one-faction share) is NaN
        stats_ = diagnostics.sampler_stats(idata)
        conv = diagnostics.convergence(idata, names)
    return {"seconds": round(seconds, 2), "divergences": stats_.get("divergences"), "max_rhat": conv["max_rhat"],
            "min_ess_bulk": conv["min_ess_bulk"]}


# --- the coalition model -------------------------------------------------------------------


def coarsen(counts: np.ndarray, widths: np.ndarray, n: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Intervals of the given widths holding each count, placed at a random offset (coarsening
    at random) and clipped to 0..n."""
    offset = rng.integers(0, widths)
    lower = counts - offset
    upper = lower + widths - 1
    return np.clip(lower, 0, n), np.clip(upper, 0, n)


def _dataset_token(dataset) -> str:
    """A name for the data a compiled model was built on (the key of the per-worker cache)."""
    if dataset is None:
        return "shipped"
    import hashlib
    import pickle

    return hashlib.sha1(pickle.dumps(dataset)).hexdigest()


def _coalition_sbc_model(spec: dict, dataset, sampler: str):
    """The SBC model of ``spec`` with its observations in ``pm.Data``, compiled for ``sampler``:
    ``(CoalitionModel, pm.Model, nutpie compiled model or None)``; built once per worker."""
    from bayes_coalition.coalition.graph import build_pymc_model
    from bayes_coalition.coalition.model import CoalitionModel

    base = CoalitionModel(dataset=dataset, spec=spec)
    model = build_pymc_model(base.model_data, base.spec, mutable_data=True)
    compiled = None
    if sampler == "nutpie":
        import nutpie

        compiled = nutpie.compile_pymc_model(model)
    return base, model, compiled


def warm_coalition_sbc_model(spec: dict, dataset, token: str, sampler: str):
    """The compiled SBC model of :func:`coalition_sbc_task` from this worker's cache (built on the first call)."""
    from bayes_coalition.parallel import content_key, worker_cached

    return worker_cached(("coalition-sbc", content_key(spec, sampler), token), lambda: _coalition_sbc_model(spec, dataset, sampler))


def coalition_sbc_chain(spec: dict, dataset, token: str, sampler: str, data: dict, chain_seed: int, draws: int,
                        tune: int) -> tuple:
    """One chain of an SBC simulation's fit, a pure function of its inputs: the simulated ``data`` swapped into
    the worker's compiled model, one chain from ``chain_seed`` (:func:`bayes_coalition.parallel.chain_seeds`),
    with the spec's target acceptance and mass matrix as in a fit of the spec (until 2026-12-01 nutpie's path kept
    nutpie's default acceptance, 0.8, whatever the spec said; the pymc path always used the spec's).
    Returns ``(InferenceData with posterior and sample_stats, seconds)``; the simulation's ranks and convergence
    are computed once its chains are in (:func:`bayes_coalition.sampling.merge_chains`)."""
    import pymc as pm

    from bayes_coalition.sampling import chain_only, sample_compiled

    base, model, compiled = warm_coalition_sbc_model(spec, dataset, token, sampler)
    ts = time.perf_counter()
    if compiled is not None:
        idata = sample_compiled(compiled.with_data(**data), draws=draws, tune=tune, chains=1, cores=1, seed=chain_seed,
                                target_accept=float(base.spec["sampler"]["target_accept"]),
                                low_rank_mass_matrix=base.spec["sampler"]["low_rank_mass_matrix"])
    else:
        with warnings.catch_warnings(), model:
            warnings.simplefilter("ignore")
            pm.set_data(data)
            idata = pm.sample(draws=draws, tune=tune, chains=1, cores=1, random_seed=chain_seed,
                              progressbar=False, compute_convergence_checks=False,
                              target_accept=float(base.spec["sampler"]["target_accept"]))
    return chain_only(idata), time.perf_counter() - ts


def prior_simulations(base, model, n_sims: int, seed: int, groups) -> dict:
    """The prior draws an SBC run of ``n_sims`` simulations takes its truths and data from: ``truth`` (the prior
    group, one draw per simulation, given the withdrawn measures under agenda control), ``pp`` (the prior
    predictive), ``keep`` (the scalars that vary, so have a rank) and the strategic layers that are on."""
    import pymc as pm

    md = base.model_data
    on_agenda, on_expect = sbc_strategic.layers(base.spec)
    # with agenda control the truths are drawn given the withdrawn measures: more candidates than simulations
    n_prior = CANDIDATES_PER_SIMULATION * n_sims + 16 if on_agenda else n_sims
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the interval Potential is (correctly) not part of the prior
        prior = pm.sample_prior_predictive(draws=n_prior, model=model, random_seed=int(seed))
    truth_all, pp = prior.prior, prior.prior_predictive
    # constants (a one-faction share) have no rank: told apart over every prior draw made
    keep = [k for k, v in _scalars(truth_all, groups).items() if np.ptp(v) > 0]
    if on_agenda:
        z = truth_all["agenda_floor_probability"].values[0]
        kept = sbc_strategic.kept_prior_draws(z, md, n_sims, np.random.default_rng([int(seed), SELECTION_STREAM]))
        truth_all, pp = truth_all.isel(draw=kept), pp.isel(draw=kept)
    return {"truth": truth_all, "pp": pp, "keep": keep, "groups": groups, "on_agenda": on_agenda,
            "on_expect": on_expect}


def _simulation(base, prior: dict, sim: int, seed: int) -> tuple[dict, dict, np.random.Generator]:
    """Simulation ``sim``'s data (the model's ``pm.Data`` values) and true scalars (the held votes' cut-point and
    tilt as selected given that they are held), and its random stream, from which the runner then draws the
    fit's seed and the ranks' ties: ``(data, true_s, rng)``."""
    from bayes_coalition.coalition.likelihood import whip_sd
    from bayes_coalition.coalition.predictive import draw_arrays, simulate

    md = base.model_data
    pp = prior["pp"]
    code_vars = [n for n in pp.data_vars if n.startswith("code_")]
    widths = md.int_upper - md.int_lower + 1
    rng = np.random.default_rng([int(seed), sim])
    truth = prior["truth"].isel(draw=[sim])
    data = {"obs_yea": pp["yea"].values[0, sim]}
    for name in code_vars:
        data[f"{name}_data"] = pp[name].values[0, sim]
    if len(md.int_case_idx):
        y_int = simulate(draw_arrays(truth, md, base.discrimination), md, rng)["interval_yea"][0]
        lower, upper = coarsen(y_int, widths, md.int_n, rng)
        measured = md.int_whip & (base.spec["model"]["whip_count"] == "measurement")
        for name, rows in (("interval", ~measured & (md.mix_int_idx < 0)), ("interval_two_party", md.mix_int_idx >= 0)):
            if rows.any():
                data[f"{name}_lower"], data[f"{name}_upper"] = lower[rows], upper[rows]
        whip = measured & (md.mix_int_idx < 0)
        if whip.any():
            # a whip count reports the count plus its bias and error: its middle is drawn from the
            # measurement model (the likelihood reads only the middle and the width)
            t = {k: float(truth[k].values.ravel()[0]) for k in ("whip_bias", "whip_error")}
            middle = rng.normal(y_int[whip] + t["whip_bias"], whip_sd(t["whip_error"], md.int_lower[whip], md.int_upper[whip]))
            half = (md.int_upper[whip] - md.int_lower[whip]) / 2.0
            data["whip_lower"], data["whip_upper"] = middle - half, middle + half
    true_s = {k: v[0] for k, v in _scalars(truth, prior["groups"]).items() if k in prior["keep"]}
    if prior["on_agenda"] or prior["on_expect"]:
        data.update(_strategic_data(truth, md, base, rng, true_s, data["obs_yea"], on_agenda=prior["on_agenda"],
                                    on_expect=prior["on_expect"]))
    return data, true_s, rng


def simulation_chains(base, prior: dict, sim: int, seed: int, spec: dict, dataset, token: str, sampler: str, *,
                      draws: int, tune: int, chains: int) -> tuple[list, dict, np.random.Generator]:
    """Simulation ``sim``'s fit as chain tasks ``((sim, chain), coalition_sbc_chain, args)`` of an executor, with its
    true scalars and its random stream, which has drawn the fit's seed and then breaks the ranks' ties
    (:func:`_ranks`): one order of draws for the runner and for a refit of the simulation (``scripts/sbc_refit.py``)."""
    from bayes_coalition.parallel import chain_seeds

    data, true_s, rng = _simulation(base, prior, sim, seed)
    fit_seed = int(rng.integers(2**31 - 1))
    tasks = [((sim, c), coalition_sbc_chain, (spec, dataset, token, sampler, data, s, draws, tune))
             for c, s in enumerate(chain_seeds(fit_seed, chains))]
    return tasks, true_s, rng


def coalition_truths(spec: dict, n_sims: int, *, seed: int, groups=COALITION_GROUPS, dataset=None) -> pd.DataFrame:
    """The true value of every ranked scalar in each simulation of ``run_coalition_sbc(spec, n_sims, seed=seed)``
    (simulation x scalar), drawn again the same way (the same prior draws, selection and streams; no fit): for
    reading a run's ranks against its truths (``scripts/sbc_rank_truth.py``). ``n_sims`` is the run's ``--sims``:
    under agenda control the truths are selected from ``4 n_sims + 16`` prior draws."""
    from bayes_coalition.coalition.model import CoalitionModel

    base = CoalitionModel(dataset=dataset, spec=spec)
    prior = prior_simulations(base, build_sbc_model(base), n_sims, seed, groups)
    rows = {sim: _simulation(base, prior, sim, seed)[1] for sim in range(n_sims)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("simulation")


def read_run(out_dir: Path, spec_path: Path, n_sims: int) -> tuple[dict, dict, pd.DataFrame]:
    """A finished or partial ``bayes-coalition sbc`` run of the coalition model, for reading it again
    (``scripts/sbc_rank_truth.py``, ``scripts/sbc_refit.py``): ``(settings, spec, ranks)``. Raises ValueError naming
    what is wrong: a folder without ``sbc_settings.json`` or ``sbc.csv``, a run of another model than the spec's
    today, a rank file without the rank columns, or simulations beyond ``n_sims`` (the run's ``--sims``)."""
    from bayes_coalition.coalition.model import model_id
    from bayes_coalition.coalition.spec import load_spec

    out_dir = Path(out_dir)
    missing = [f for f in ("sbc_settings.json", "sbc.csv") if not (out_dir / f).is_file()]
    if missing:
        raise ValueError(f"{out_dir} lacks {', '.join(missing)}: not the folder of a `bayes-coalition sbc` run")
    settings = json.loads((out_dir / "sbc_settings.json").read_text())
    spec = load_spec(spec_path)
    if settings.get("model_id") != model_id(spec):
        raise ValueError(f"{out_dir} is an SBC of model {settings.get('model_id')}, {spec_path} is model "
                         f"{model_id(spec)}: refused")
    ranks = pd.read_csv(out_dir / "sbc.csv")
    lacking = [c for c in RANK_COLUMNS if c not in ranks.columns]
    if lacking:
        raise ValueError(f"{out_dir / 'sbc.csv'} lacks the column(s) {', '.join(lacking)}")
    beyond = sorted(set(ranks["simulation"]) - set(range(n_sims)))
    if beyond:
        row = int(ranks.index[ranks["simulation"] == beyond[0]][0]) + 2
        raise ValueError(f"{out_dir / 'sbc.csv'} holds simulations beyond --sims {n_sims} (first {beyond[0]}, row {row}): "
                         f"give the run's --sims")
    return settings, spec, ranks


def run_coalition_sbc(spec: dict, n_sims: int, *, seed: int, out_dir: Path, draws: int = 500, tune: int = 500,
                      chains: int = 2, n_keep: int = 99, groups=COALITION_GROUPS, dataset=None,
                      progress: bool = True, sampler: str | None = None, executor=None, client=None, workers: int | None = None) -> pd.DataFrame:
    """SBC of the coalition model ``spec``; returns all ranks (also in ``out_dir/sbc.csv``).

    The simulations (data drawn from the prior) are made here; each chain of each fit is a task of
    ``executor`` (:mod:`bayes_coalition.parallel`; default: in this process, as many chains at once as
    ``executor.cores(chains)``), its seed drawn from ``(seed, simulation, chain)``; the ranks (from the
    simulation's own stream) and the fit statistics are computed here once a simulation's chains are in, so
    they do not depend on the number of workers or threads."""
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.parallel import resolve
    from bayes_coalition.sampling import ChainGather, available

    sampler = sampler or ("nutpie" if available("nutpie") else "pymc")
    ex, own = resolve(executor, client=client, workers=workers)
    store = _Store(out_dir)
    try:
        token = _dataset_token(dataset)
        # workers compile their model while this process draws the simulations
        ex.warm(warm_coalition_sbc_model, spec, dataset, token, sampler)
        base = CoalitionModel(dataset=dataset, spec=spec)
        model = build_sbc_model(base)
        free = [v.name for v in model.free_RVs]          # the workers' graph has the same (build_pymc_model)
        prior = prior_simulations(base, model, n_sims, seed, groups)
        tasks, sims = [], {}
        for sim in range(n_sims):
            if sim in store.done:
                continue
            chain_tasks, true_s, rng = simulation_chains(base, prior, sim, seed, spec, dataset, token, sampler,
                                                         draws=draws, tune=tune, chains=chains)
            sims[sim] = (true_s, rng)
            tasks += chain_tasks
    except BaseException:
        if own:
            ex.close()
        raise
    gathered = ChainGather(chains)

    def ranked(key, result):
        """A simulation's chains all in: its ranks and fit statistics into the store."""
        sim, c = key
        fit = gathered.add(sim, c, result)
        if fit is not None:
            idata, seconds = fit
            true_s, rng = sims.pop(sim)
            post_s = _scalars(idata.posterior, groups)
            store.add(sim, _ranks(sim, true_s, post_s, n_keep, rng, chains), _fit_stats(idata, seconds, free))
        return []

    # each chain is a task (a batch of whole fits ends with one worker idle while the other finishes the last,
    # longest fit); in process a fit's chains run on threads
    threads = ex.chain_threads(chains, sampler)
    try:
        for _ in ex.stream(tasks, ranked, threads=threads, label="sbc", progress=progress):
            pass
    finally:
        store.flush()
        if own:
            ex.close()
    return store.ranks


def _strategic_data(truth, md, base, rng, true_s: dict, obs_yea, *, on_agenda: bool, on_expect: bool) -> dict:
    """A simulation's data of the strategic layers (validation/sbc_strategic.py): the held votes' point rows and
    totals drawn given that they are held (their cut-point and tilt truths in ``true_s`` replaced by the selected
    ones), and the floor-expectation levels at the selected deviations."""
    from bayes_coalition.coalition.predictive import draw_arrays

    arrays = draw_arrays(truth, md, base.discrimination)
    data = {}
    if on_agenda:
        one = {k: float(truth[k].values.ravel()[0]) for k in ("sigma_case", "sigma_party_tilt", "agenda_bar",
                                                               "agenda_scale", "agenda_leak")}
        one.update(case_z=truth["case_z"].values[0, 0], party_tilt_z=truth["party_tilt_z"].values[0, 0])
        held = sbc_strategic.held_votes(arrays, md, one, rng)
        data["agenda_yea_data"] = held["yea_held"]
        data["obs_yea"] = np.where(held["obs_yea"] >= 0, held["obs_yea"], obs_yea)
        arrays["cut_point"] = held["cut_point"][None, :]
        arrays["party_tilt"] = held["party_tilt"][None, :]
        for name in ("cut_point", "party_tilt"):
            for c in sbc_strategic.floor_cases(md)[0]:
                label = f"{name}[{md.coords['case'][c]}]"
                if label in true_s:
                    true_s[label] = float(held[name][c])
    if on_expect:
        cuts = truth["expectation_cuts"].values.reshape(-1)
        data["expectation_level_data"] = sbc_strategic.expectation_levels(
            arrays, md, float(truth["expectation_slope"].values.ravel()[0]), cuts, rng)
    return data


def build_sbc_model(base):
    """The coalition graph with its observations in ``pm.Data`` (the model SBC draws its simulations from)."""
    from bayes_coalition.coalition.graph import build_pymc_model

    return build_pymc_model(base.model_data, base.spec, mutable_data=True)


# --- the ideal-point model ------------------------------------------------------------------


def synthetic_rollcalls(n_legislators: int, n_rollcalls: int):
    """A small two-party RollCallMatrix whose votes are all-missing placeholders (SBC fills them)."""
    import xarray as xr

    from bayes_coalition.data.rollcalls import RollCallMatrix

    legs = pd.DataFrame({"legislator_id": [f"L{i:03d}" for i in range(n_legislators)],
                         "party": np.where(np.arange(n_legislators) < n_legislators // 2, "R", "D")})
    votes = xr.DataArray(np.full((n_legislators, n_rollcalls), np.nan), dims=("legislator", "rollcall"),
                         coords={"legislator": legs["legislator_id"].to_numpy(), "rollcall": [f"V{j:03d}" for j in range(n_rollcalls)]})
    return RollCallMatrix(votes=votes, legislators=legs, rollcalls=pd.DataFrame({"rollcall_id": votes["rollcall"].values}),
                          source="synthetic")


def ideal_point_sbc_task(sim: int, seed: int, n_legislators: int, n_rollcalls: int, missing: float, draws: int,
                         tune: int, chains: int, cores: int | None, n_keep: int, groups, model_factory) -> tuple:
    """One simulation of :func:`run_ideal_point_sbc`, a pure function of ``(seed, sim)`` and the settings:
    ``(rank rows, fit statistics)``."""
    import pymc as pm

    from bayes_coalition.ideal_points import IdealPointModel
    from bayes_coalition.ideal_points.identification import align_draws
    from bayes_coalition.ideal_points.scores import cell_probabilities

    make = model_factory or (lambda r: IdealPointModel(r, lopsided=None, min_votes=None))
    rng = np.random.default_rng([int(seed), sim])
    rc = synthetic_rollcalls(n_legislators, n_rollcalls)
    template = make(rc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = pm.sample_prior_predictive(draws=1, model=template.model, random_seed=int(rng.integers(2**31 - 1))).prior
    weights, _ = template.orientation()
    raw = {k: prior[k].values[0, 0] for k in ("ideal_point", "discrimination", "difficulty")}
    x, b, a, sign = align_draws(raw["ideal_point"], raw["discrimination"], raw["difficulty"], weights)
    truth = {"ideal_point": x, "discrimination": b, "difficulty": a}
    if "party_location" in prior:
        truth["party_location"] = prior["party_location"].values[0, 0] * sign
    if "party_scale" in prior:
        truth["party_scale"] = prior["party_scale"].values[0, 0]
    p = cell_probabilities(x[None, :], b[None, :], a[None, :], template.options["link"])
    votes = (rng.uniform(size=p.shape) < p).astype(float)
    votes[rng.uniform(size=p.shape) < missing] = np.nan
    rc.votes.values[:] = votes
    model = make(rc)
    ts = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = model.fit(random_seed=int(rng.integers(2**31 - 1)), draws=draws, tune=tune, chains=chains, cores=cores)
    seconds = time.perf_counter() - ts
    post = _scalars(idata.posterior, groups)
    true_s = {}
    for name, values in truth.items():
        coord = {"ideal_point": "legislator", "discrimination": "rollcall", "difficulty": "rollcall",
                 "party_location": "party", "party_scale": "party"}[name]
        labels = idata.posterior[coord].values
        true_s.update({f"{name}[{c}]": float(v) for c, v in zip(labels, np.atleast_1d(values), strict=True)})
    return _ranks(sim, true_s, post, n_keep, rng, int(idata.posterior.sizes["chain"])), _fit_stats(idata, seconds)


def run_ideal_point_sbc(n_sims: int, *, seed: int, out_dir: Path, n_legislators: int = 20, n_rollcalls: int = 40,
                        missing: float = 0.1, draws: int = 500, tune: int = 500, chains: int = 2, n_keep: int = 99,
                        groups=IDEAL_POINT_GROUPS, model_factory: Callable | None = None, progress: bool = True,
                        executor=None, client=None, workers: int | None = None) -> pd.DataFrame:
    """SBC of :class:`IdealPointModel` on a synthetic two-party matrix (missing cells at random).

    Each simulation draws the raw parameters from the prior, maps them onto the identified
    frame (standardised, Republicans positive) with the same function as the posterior draws,
    simulates the votes, fits without filtering, and ranks the identified truth. Each simulation is a
    task of ``executor`` (:mod:`bayes_coalition.parallel`; default: in this process)."""
    from bayes_coalition.parallel import resolve

    store = _Store(out_dir)
    ex, own = resolve(executor, client=client, workers=workers)
    cores = ex.cores(chains) if ex.cores_per_worker is not None else None
    tasks = [(sim, (sim, seed, n_legislators, n_rollcalls, missing, draws, tune, chains, cores, n_keep, groups,
                    model_factory)) for sim in range(n_sims) if sim not in store.done]
    return run_into_store(store, ex, own, ideal_point_sbc_task, tasks, progress=progress)
