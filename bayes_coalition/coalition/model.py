"""CoalitionModel: fit / save / load / predict for the coalition model (ModelBuilder-style).

>>> from bayes_coalition import CoalitionModel
>>> model = CoalitionModel()                      # shipped data, models/trade_coalition.toml
>>> idata = model.fit(random_seed=1)              # InferenceData; diagnostics in model.diagnostics
>>> model.approval()                              # P(minimum winning coalition forms) per case
>>> model.save("run/posterior.nc"); CoalitionModel.load("run/posterior.nc")
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from bayes_coalition import _arviz, diagnostics
from bayes_coalition._base import FIT_DATA, FittedModel, run_file, tables_from_dataset, tables_to_dataset
from bayes_coalition.coalition.model_data import ModelData, build_model_data
from bayes_coalition.coalition.predictive import (
    approval_table,
    draw_arrays,
    held_case_totals,
    row_check,
    simulate,
    threshold_check,
)
from bayes_coalition.coalition.spec import DEFAULT_SPEC, default_spec_path, load_spec, merge, saved_spec, spec_hash, validate_spec
from bayes_coalition.constants import CONTRACTION_IDENTIFIED, PREDICTIVE_PROB, SUMMARY_PROB

if TYPE_CHECKING:
    import pymc as pm

from bayes_coalition.data.dataset import CONSTRUCTS, OPTIONAL_TABLES, TABLES, TradeDataset, dataset_from_frames, load_dataset

HYPOTHESISED_SIGN = {"willingness": 1, "pivotal": 1, "deadlock_convergence": -1, "formulation_coordination": 1}
HYPOTHESIS = {
    "willingness": "H1: willingness to bargain eases approval",
    "pivotal": "H1: a pivotal actor in favour eases approval",
    "deadlock_convergence": "H2: a converging deadlock coalition hinders approval",
    "formulation_coordination": "formulation: a coordinated executive eases approval",
}


def model_id(spec: Mapping) -> str:
    """The id of the model a (merged) spec defines at this package's model version: the id of a run fitted from
    it (:attr:`CoalitionModel.id`), recorded by the batch commands (``backtest.json``) so that a run and a
    backtest of the same model can be matched."""
    return spec_hash({**spec, "_version": CoalitionModel.version})


class CoalitionModel(FittedModel):
    """The hierarchical coalition model on a :class:`TradeDataset` and a spec."""

    model_type = "bayes_coalition.CoalitionModel"
    version = "0.3.2"

    def __init__(self, dataset: TradeDataset | None = None, spec: Mapping | str | Path | None = None):
        if spec is None:
            spec = load_spec(default_spec_path())
        elif isinstance(spec, (str, Path)):
            spec = load_spec(spec)
        else:
            spec = merge(DEFAULT_SPEC, {k: v for k, v in spec.items() if k != "_source"})
            validate_spec(spec)
        self.spec: dict = spec
        if dataset is None:
            dataset = load_dataset(spec["data"]["path"] or None)
        self.dataset = dataset
        self.model_data: ModelData = build_model_data(dataset, spec["data"]["exclude_cases"],
                                                          spec["data"].get("include_ex_post", False),
                                                          floor_expectation=spec["model"].get("floor_expectation", False))
        self._model: pm.Model | None = None
        self.idata = None
        self.diagnostics: dict = {}

    # --- identity -----------------------------------------------------------------
    @property
    def id(self) -> str:
        """Hash of the model definition (spec without sampler settings) and the model version."""
        return model_id(self.spec)

    @property
    def discrimination(self) -> float:
        return float(self.spec["identification"]["discrimination"])

    @property
    def model(self) -> pm.Model:
        if self._model is None:
            from bayes_coalition.coalition.graph import build_pymc_model  # PyMC loads only when a graph is needed

            self._model = build_pymc_model(self.model_data, self.spec)
        return self._model

    # --- fitting --------------------------------------------------------------------
    def fit(
        self,
        random_seed: int | None = None,
        *,
        sampler: str | None = None,
        draws: int | None = None,
        tune: int | None = None,
        chains: int | None = None,
        target_accept: float | None = None,
        progressbar: bool = True,
        log_likelihood: bool = True,
    ):
        """Sample the posterior, add posterior predictive draws and diagnostics; returns InferenceData."""
        s = dict(self.spec["sampler"])
        for key, val in dict(sampler=sampler, draws=draws, tune=tune, chains=chains, target_accept=target_accept).items():
            if val is not None:
                s[key] = val
        seed = int(s["random_seed"] if random_seed is None else random_seed)
        from bayes_coalition.draws import compute_log_likelihood
        from bayes_coalition.sampling import sample_model

        idata, seconds, used = sample_model(
            self.model,
            sampler=s["sampler"],
            draws=int(s["draws"]),
            tune=int(s["tune"]),
            chains=int(s["chains"]),
            target_accept=float(s["target_accept"]),
            random_seed=seed,
            progressbar=progressbar,
            low_rank_mass_matrix=bool(s["low_rank_mass_matrix"]),
        )
        if log_likelihood:
            idata.add_groups(log_likelihood=compute_log_likelihood(self.model, idata.posterior, ["yea"]))
        self._attach(idata, seed=seed, sampler=used, seconds=seconds, settings=s)
        return idata

    def _attach(self, idata, *, seed: int, sampler: str, seconds: float, settings: dict):
        self.idata = idata
        self._add_observed(idata)
        self.posterior_predictive(seed=seed + 1)
        diag = diagnostics.convergence(idata, diagnostics.free_variable_names(idata))
        diag.update(wall_seconds=float(seconds), sampler=sampler, random_seed=seed, tune=int(settings["tune"]))
        self.diagnostics = diag
        diagnostics.check(diag)
        idata.attrs.update(self._attrs())

    def _add_observed(self, idata):
        md = self.model_data
        obs = xr.Dataset(
            {
                "yea": ("obs", md.obs_yea),
                "n": ("obs", md.obs_n),
                "interval_lower": ("interval_obs", md.int_lower),
                "interval_upper": ("interval_obs", md.int_upper),
                "interval_n": ("interval_obs", md.int_n),
            },
            coords={"obs": md.coords["obs"], "interval_obs": md.coords["interval_obs"]},
        )
        if "observed_data" in idata:
            del idata.observed_data
        idata.add_groups(observed_data=obs)

    def _attrs(self) -> dict:
        return {**self._identity_attrs(), **self._model_attrs()}

    def _model_attrs(self) -> dict:
        return {"spec": json.dumps({k: v for k, v in self.spec.items() if k != "_source"})}

    def _fit_tables(self) -> dict:
        return _dataset_tables(self.dataset)

    # --- prediction ---------------------------------------------------------------
    def _simulate(self, group: xr.Dataset, seed: int) -> tuple[dict, dict]:
        arrays = draw_arrays(group, self.model_data, self.discrimination)
        return arrays, simulate(arrays, self.model_data, seed)

    def posterior_predictive(self, seed: int | None = None):
        """Posterior predictive yea counts (per count row, interval row and case) added to ``idata``."""
        self._require_fit()
        seed = int(self.idata.attrs.get("predictive_seed", 0) if seed is None else seed)
        _, sim = self._simulate(self.idata.posterior, seed)
        post = self.idata.posterior
        shape = (post.sizes["chain"], post.sizes["draw"])
        md = self.model_data
        pp = xr.Dataset(
            {
                "yea": (("chain", "draw", "obs"), sim["obs_yea"].reshape(shape + (-1,))),
                "interval_yea": (("chain", "draw", "interval_obs"), sim["interval_yea"].reshape(shape + (-1,))),
                "case_yea": (("chain", "draw", "case"), sim["case_yea"].reshape(shape + (-1,))),
            },
            coords={"chain": post["chain"], "draw": post["draw"], "obs": md.coords["obs"],
                    "interval_obs": md.coords["interval_obs"], "case": md.coords["case"]},
        )
        if "posterior_predictive" in self.idata:
            del self.idata.posterior_predictive
        self.idata.add_groups(posterior_predictive=pp)
        self.idata.attrs["predictive_seed"] = seed
        return pp

    def approval(self, *, prob: float = PREDICTIVE_PROB, seed: int | None = None) -> pd.DataFrame:
        """Per case: P(the yea count reaches the case's threshold), predictive yea interval, observed
        outcome, and the episode's P(House), P(Senate), P(enacted)."""
        self._require_fit()
        seed = int(self.idata.attrs.get("predictive_seed", 0) if seed is None else seed)
        arrays, sim = self._simulate(self.idata.posterior, seed)
        return approval_table(sim, arrays, self.model_data, self.dataset.cases, prob=prob)

    def coalition_outcomes(self, *, seed: int | None = None) -> xr.Dataset:
        """Per case, the outcome classes of the posterior predictive (``p_minimum_winning``, ``p_oversized``,
        ``p_deadlock``, summing to 1; a vote never brought to the floor is a deadlock) beside P(carries), the
        observed margin (yeas beyond those needed) and the observed class; attrs: the margin k."""
        a = self.approval(seed=seed)
        cols = ["p_minimum_winning", "p_oversized", "p_deadlock", "p_pass", "observed_margin", "observed_class"]
        ds = xr.Dataset({c: ("case", a[c].to_numpy()) for c in cols}, coords={"case": a["case_id"].to_numpy()})
        ds.attrs["minimum_winning_margin"] = int(a.attrs["minimum_winning_margin"])
        return ds

    def threshold_check(self, *, near: int = 5, short: int = 10, seed: int | None = None,
                        prob: float = PREDICTIVE_PROB) -> pd.DataFrame:
        """Posterior predictive check of the margins near the threshold (how many votes end within ``near``
        yeas of it, how many 1 to ``short`` yeas short), replicating every held vote given that it is held
        when the fit has agenda control; ``attrs['unresolved']``: the share of (draw, vote) replicates for
        which rejection sampling accepted no candidate."""
        self._require_fit()
        seed = int(self.idata.attrs.get("predictive_seed", 0) if seed is None else seed)
        arrays = draw_arrays(self.idata.posterior, self.model_data, self.discrimination)
        totals, unresolved = held_case_totals(arrays, self.model_data, seed)
        out = threshold_check(totals, self.model_data, near=near, short=short, prob=prob)
        out.attrs["unresolved"] = float(unresolved.mean())
        out.attrs["agenda_control"] = arrays.get("agenda_bar") is not None
        out.attrs["vote_buying"] = arrays.get("buying_prob") is not None
        return out

    def predictive_check(self, *, prob: float = PREDICTIVE_PROB, seed: int | None = None, group: str = "posterior") -> pd.DataFrame:
        """Observed yea (or whip interval) of every likelihood row against its predictive interval."""
        data = self.idata.posterior if group == "posterior" else self.idata.prior
        seed = int(self.idata.attrs.get("predictive_seed", 0) if seed is None else seed)
        _, sim = self._simulate(data, seed)
        table = row_check(sim, self.model_data, prob=prob)
        # redundant chamber-level intervals (e.g. the 1997 whip count total) are checked too
        for _, r in self.model_data.checks.iterrows():
            c = self.model_data.coords["case"].index(r["case_id"])
            lo, hi = np.quantile(sim["case_yea"][:, c], [(1 - prob) / 2, (1 + prob) / 2])
            ok = bool(hi >= r["yea_lower"] and lo <= r["yea_upper"])
            table.loc[len(table)] = [r["case_id"], "ALL", "interval", r["n_members"], r["yea_lower"], r["yea_upper"], lo, hi, ok]
        return table

    def sample_prior_predictive(self, draws: int = 500, random_seed: int | None = None):
        """Prior draws of every parameter plus simulated yea counts (as group ``prior_predictive``)."""
        seed = int(self.spec["sampler"]["random_seed"] if random_seed is None else random_seed)
        with self.model:
            import pymc as pm

            prior = pm.sample_prior_predictive(draws=draws, random_seed=seed, var_names=self._prior_var_names())
        arrays, sim = self._simulate(prior.prior, seed + 1)
        md = self.model_data
        shape = (prior.prior.sizes["chain"], prior.prior.sizes["draw"])
        if "prior_predictive" in prior:
            del prior.prior_predictive
        prior.add_groups(
            prior_predictive=xr.Dataset(
                {
                    "yea": (("chain", "draw", "obs"), sim["obs_yea"].reshape(shape + (-1,))),
                    "case_yea": (("chain", "draw", "case"), sim["case_yea"].reshape(shape + (-1,))),
                    "yea_share": (("chain", "draw", "obs"), (sim["obs_yea"] / np.maximum(md.obs_n, 1)).reshape(shape + (-1,))),
                },
                coords={"chain": prior.prior["chain"], "draw": prior.prior["draw"], "obs": md.coords["obs"], "case": md.coords["case"]},
            )
        )
        prior.attrs.update(self._attrs())
        prior.attrs["prior_seed"] = seed
        return prior

    def _prior_var_names(self) -> list[str]:
        m = self.model
        return [v.name for v in m.free_RVs] + [v.name for v in m.deterministics]

    def predict(self, bill, *, seed: int = 0, prob: float = SUMMARY_PROB):
        """Approval probabilities (with Monte Carlo standard errors), yea counts, P(pivotal) and
        P(in coalition) for a hypothetical bill (a :class:`HypotheticalBill` or the path of a bill
        TOML); an xarray Dataset. All posterior draws are used."""
        from bayes_coalition.prediction.bills import load_bill
        from bayes_coalition.prediction.predict import predict

        if not hasattr(bill, "codes"):
            bill = load_bill(bill)
        return predict(self, bill, seed=seed, prob=prob, predictor=self._predictor())

    def sweep(self, base_bill, vary: dict, *, seed: int = 0, max_draws: int | None = None) -> pd.DataFrame:
        """P(House), P(Senate), P(enacted) with MCSEs over a grid of indicator levels, on the draws and
        with the estimator of :meth:`predict` (vectorised, no compilation; all draws by default)."""
        from bayes_coalition.prediction.bills import load_bill
        from bayes_coalition.prediction.predictor import BillPredictor, sweep

        if not hasattr(base_bill, "codes"):
            base_bill = load_bill(base_bill)
        pr = self._predictor() if max_draws is None else BillPredictor(self, max_draws=max_draws)
        return sweep(self, base_bill, vary, seed=seed, predictor=pr)

    def drivers(self, bill, *, seed: int = 0) -> pd.DataFrame:
        """Which coded indicators move the bill's P(enacted), with Monte Carlo errors (see
        :func:`bayes_coalition.prediction.drivers.rank_drivers`)."""
        from bayes_coalition.prediction.bills import load_bill
        from bayes_coalition.prediction.drivers import rank_drivers

        if not hasattr(bill, "codes"):
            bill = load_bill(bill)
        return rank_drivers(self, bill, seed=seed, predictor=self._predictor())

    def caveats(self) -> list[str]:
        """One-line warnings that qualify every number of this fit: a failed convergence check, and
        effects and positions that the data do not identify (posterior contraction < 0.5)."""
        out = []
        status, reasons = diagnostics.verdict(self.diagnostics) if self.diagnostics else ("unknown", [])
        if status in ("fail", "warn"):
            out.append(f"convergence {status}: {'; '.join(reasons)}; treat these numbers as provisional")
        h = self.hypotheses()
        weak = h[~h["identified_by_data"] & (h["prior_sd"] > 0)]     # constructs left out of the spec are not "weak"
        if len(weak):
            out.append("not identified by the data (posterior contraction < 0.5): "
                       + ", ".join(f"{r.construct} effect {r.contraction:.2f}" for r in weak.itertuples()))
        layers = pd.concat([self.agenda(), self.vote_buying()])
        weak_layer = layers[~(layers["contraction"] >= CONTRACTION_IDENTIFIED)] if len(layers) else layers
        if len(weak_layer):
            out.append("strategic layer parameter(s) not identified by the data (posterior contraction < 0.5): "
                       + ", ".join(f"{r.parameter} {r.contraction:.2f}" for r in weak_layer.itertuples()))
        ip = self.ideal_points()
        prior_only = ip[~ip["informed_by_votes"]]["actor_id"].tolist()
        if prior_only:
            out.append("positions with no likelihood term (prior only): " + ", ".join(prior_only))
        return out

    def _predictor(self):
        from bayes_coalition.prediction.predictor import BillPredictor

        if getattr(self, "_bill_predictor", None) is None or self._bill_predictor.model.idata is not self.idata:
            self._bill_predictor = BillPredictor(self)
        return self._bill_predictor

    # --- estimands ----------------------------------------------------------------
    def ideal_points(self, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        """Actors' positions on the anti-free-trade (-) / free-trade (+) axis with intervals."""
        self._require_fit()
        s = _arviz.summary(self.idata, ["ideal_point"], prob=prob, kind="hdi")
        actors = self.dataset.actors.set_index("actor_id").loc[self.model_data.coords["actor"]]
        out = pd.DataFrame(
            {
                "actor_id": self.model_data.coords["actor"],
                "name": actors["name"].to_numpy(),
                "type": actors["type"].to_numpy(),
                "prior_position": actors["prior_position"].to_numpy(float),
                "mean": s["mean"].to_numpy(),
                "sd": s["sd"].to_numpy(),
                "lower": s["lower"].to_numpy(),
                "upper": s["upper"].to_numpy(),
                "informed_by_votes": actors["type"].to_numpy() == "legislative_faction",
                "prior_sd": self._position_prior_sd(actors),
            }
        )
        out["contraction"] = diagnostics.contraction(out["sd"], out["prior_sd"])
        out["identified_by_data"] = out["contraction"] >= CONTRACTION_IDENTIFIED
        out.attrs.update(prob=prob, kind="hdi")
        return out

    def _position_prior_sd(self, actors: pd.DataFrame) -> np.ndarray:
        """Prior sd of each actor's position: a faction's zero-sum deviation has marginal variance
        sd^2 (F - 1) / F; another actor's position is its placement + type shift + its own sd."""
        pr = self.spec["priors"]
        n_f = len(self.model_data.coords["faction"])
        faction = actors["type"].to_numpy() == "legislative_faction"
        other = np.sqrt(pr["type_shift_sd"] ** 2 + actors["prior_sd"].to_numpy(float) ** 2)
        return np.where(faction, pr["faction_deviation_sd"] * np.sqrt((n_f - 1) / n_f), other)

    def hypotheses(self, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        """Effects of the latent constructs on approval (positive = eases approval), P(hypothesised sign), the
        posterior contraction and the Savage-Dickey Bayes factor against a zero effect (``bayes_factor_10``). A
        construct the spec leaves out keeps its row with the effect fixed at 0, prior sd 0, and NaN for P(hypothesised
        sign), contraction and Bayes factor: not estimated, which is not evidence against it."""
        self._require_fit()
        eff = self.idata.posterior["effect"]
        rows = []
        for k in CONSTRUCTS:
            d = eff.sel(construct=k).values.ravel()
            lo, hi = _arviz.hdi(d, prob)
            sign = HYPOTHESISED_SIGN[k]
            included = k in self.spec["model"]["constructs"]
            prior_sd = float(self.spec["priors"]["effect_sd"]) if included else 0.0
            # a construct left out of the spec has its effect fixed at 0: no probability of either sign (NaN, not 0)
            p_sign = float(np.mean(np.sign(d) == sign)) if included else float("nan")
            rows.append((k, HYPOTHESIS[k], sign, d.mean(), d.std(), lo, hi, p_sign, prior_sd))
        out = pd.DataFrame(rows, columns=["construct", "hypothesis", "hypothesised_sign", "mean", "sd", "lower", "upper",
                                          "p_hypothesised_sign", "prior_sd"])
        out["contraction"] = diagnostics.contraction(out["sd"], out["prior_sd"])
        out["identified_by_data"] = out["contraction"] >= CONTRACTION_IDENTIFIED
        out["bayes_factor_10"] = [diagnostics.savage_dickey_bf10(eff.sel(construct=k).values, sd)
                                  for k, sd in zip(CONSTRUCTS, out["prior_sd"])]
        out.attrs.update(prob=prob, kind="hdi", contraction_threshold=CONTRACTION_IDENTIFIED)
        return out

    def agenda(self, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        """The agenda-control layer's parameters (coalition/agenda.py): posterior mean, sd and HDI beside the
        prior sd and the posterior contraction; empty when the spec switched the layer off."""
        from bayes_coalition.coalition import agenda

        return self._layer_table(agenda, prob)

    def vote_buying(self, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        """The vote-buying layer's parameters (coalition/buying.py), as :meth:`agenda`; empty when it is off."""
        from bayes_coalition.coalition import buying

        return self._layer_table(buying, prob)

    def _layer_table(self, layer, prob: float) -> pd.DataFrame:
        self._require_fit()
        post = self.idata.posterior
        rows = []
        prior = layer.prior_sd(self.spec["priors"])
        for name in layer.PARAMETERS:
            if name not in post:
                continue
            d = post[name].values.ravel()
            lo, hi = _arviz.hdi(d, prob)
            rows.append((name, layer.MEANING[name], d.mean(), d.std(), lo, hi, prior[name]))
        out = pd.DataFrame(rows, columns=["parameter", "meaning", "mean", "sd", "lower", "upper", "prior_sd"])
        out["contraction"] = diagnostics.contraction(out["sd"], out["prior_sd"])
        out.attrs.update(prob=prob, kind="hdi")
        return out

    def summary(self, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        self._require_fit()
        names = diagnostics.free_variable_names(self.idata) + ["ideal_point"]
        return _arviz.summary(self.idata, names, prob=prob, kind="hdi")

    # --- persistence --------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the InferenceData with spec, fit data (group ``fit_data``), versions and model id to
        netCDF, and the posterior as a compact ``.draws.npz`` beside it for fast bill prediction."""
        path = super().save(path)
        _write_draws_sidecar(self.idata, _sidecar(path))
        return path

    @classmethod
    def load(cls, path: str | Path, groups: tuple[str, ...] | None = None) -> CoalitionModel:
        """Rebuild a fitted model from a run directory or :meth:`save`'s file; predictions match the saved model's.

        ``groups`` limits what is read; ``("posterior",)`` (bill prediction) reads the compact
        ``.draws.npz`` written beside the netCDF file when it belongs to the same model."""
        path = run_file(path)
        if groups == ("posterior",) and _sidecar(path).is_file():
            idata = _read_draws_sidecar(_sidecar(path))
            if idata is not None:
                return cls._from_loaded(idata, path)
        return super().load(path, groups=groups)

    @classmethod
    def readable_versions(cls) -> tuple[str, ...]:
        return (cls.version,)

    @classmethod
    def _from_idata(cls, idata, tables: dict, path: Path) -> CoalitionModel:
        if not tables and "dataset" in idata.attrs:          # runs saved before the fit_data group
            tables = {name.removesuffix(".csv"): pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
                      for name, text in json.loads(idata.attrs["dataset"]).items()}
        if not tables:
            raise ValueError(f"{path}: the saved run holds no fit data")
        dataset = _dataset_from_tables(tables, path)
        return cls(dataset=dataset, spec=saved_spec(json.loads(idata.attrs["spec"])))


def _dataset_tables(ds: TradeDataset) -> dict:
    """The data tables a fit used, as stored with a saved run (no ``row`` bookkeeping column)."""
    names = [*TABLES, *(n for n in OPTIONAL_TABLES if getattr(ds, n.removesuffix(".csv")) is not None)]
    return {name.removesuffix(".csv"): getattr(ds, name.removesuffix(".csv")).drop(columns=["row"]) for name in names}


def _dataset_from_tables(tables: dict, path: Path) -> TradeDataset:
    """Validate stored tables exactly as files are validated (same schema, same cross-table rules);
    errors name the saved run and the table."""
    return dataset_from_frames({f"{name}.csv": frame for name, frame in tables.items()}, path=path, source_label=str(path))


def _sidecar(path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".draws.npz")


def _write_draws_sidecar(idata, path: Path) -> None:
    """The posterior group and the root attrs as one .npz (loads in milliseconds)."""
    post = idata.posterior
    arrays = {f"var:{name}": np.asarray(post[name].values) for name in post.data_vars}
    meta = {
        "dims": {name: list(post[name].dims) for name in post.data_vars},
        "coords": {name: np.asarray(post[name].values).tolist() for name in post.coords},
        "posterior_attrs": _scalar_attrs(post.attrs),
        "attrs": _scalar_attrs(idata.attrs),
        "fit_data": tables_from_dataset(idata[FIT_DATA]) if FIT_DATA in idata.groups() else {},
    }
    meta["fit_data"] = {name: frame.to_dict(orient="list") for name, frame in meta["fit_data"].items()}
    np.savez(path, _meta=np.array(json.dumps(meta, default=str)), **arrays)


def _scalar_attrs(attrs) -> dict:
    """Attributes that are scalars (NumPy scalars too: a run loaded from netCDF holds np.int64 seeds)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in attrs.items()
            if isinstance(v, (str, int, float, np.integer, np.floating))}


def _read_draws_sidecar(path: Path):
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["_meta"]))
        data = {k[4:]: (meta["dims"][k[4:]], f[k]) for k in f.files if k.startswith("var:")}
    post = xr.Dataset(data, coords={k: v for k, v in meta["coords"].items()}, attrs=meta["posterior_attrs"])
    idata = _arviz.InferenceData(posterior=post)
    idata.attrs.update(meta["attrs"])
    if meta.get("fit_data"):
        idata.add_groups({FIT_DATA: tables_to_dataset({k: pd.DataFrame(v, dtype=object) for k, v in meta["fit_data"].items()})})
    return idata
