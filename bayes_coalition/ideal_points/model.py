"""Member-level ideal points from a roll-call matrix: a hierarchical two-parameter IRT model.

One concern per module: :mod:`~bayes_coalition.ideal_points.likelihood` (the vote
log-likelihood and its formulations), :mod:`~bayes_coalition.ideal_points.graph` (the PyMC
model), :mod:`~bayes_coalition.ideal_points.identification` (orientation and alignment of the
draws), :mod:`~bayes_coalition.ideal_points.scores` (holdout split and scores) and
:mod:`~bayes_coalition.ideal_points.faction_link`; this module holds :class:`IdealPointModel`,
which ties them together on the shared :class:`~bayes_coalition._base.FittedModel`.

Model (``link`` logit, the default, or probit; logit is about 4x cheaper per evaluation)::

    P(yea_ij) = F(discrimination_j * ideal_point_i - difficulty_j)
    raw_i     = party_mu[party_i] + covariates_i @ gamma + party_sigma[party_i] * z_i
    ideal_point = (raw - mean(raw)) / sd(raw)              # location and scale fixed in every draw

Identification: the likelihood only sees the standardised ideal points, so location and
scale are fixed by construction; the sign is left free while sampling (chains may settle
in mirror-image modes) and every draw is then mapped onto one frame (pscl's postProcess).
The direction comes from, in this order: ``anchors``; ``positive_legislator``;
``positive_party`` (default ``"R"``: Republicans positive); otherwise the data's first
principal component (its most extreme legislator positive).  R-hat and ESS are computed
on these aligned draws.

Prediction: posterior mean P(yea) of every cell (:meth:`IdealPointModel.predict_proba`);
``holdout_fraction`` hides a seeded share of the observed cells before fitting and
:meth:`IdealPointModel.holdout_scores` scores them (accuracy, Brier, log score, APRE
against each roll call's majority side in the training cells).

Persistence: the fitted model's file keeps the legislators and roll-call tables in the
``fit_data`` group (:mod:`bayes_coalition._base`); files written before that kept them as
CSV text in the attributes ``legislators`` and ``rollcalls`` and still load.

>>> from bayes_coalition import load_rollcalls, IdealPointModel
>>> model = IdealPointModel(load_rollcalls("data/senate106"), holdout_fraction=0.1)
>>> model.fit(random_seed=1)
>>> model.ideal_points(); model.fit_statistics(); model.holdout_scores()
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayes_coalition import _arviz, diagnostics
from bayes_coalition._base import FittedModel
from bayes_coalition.constants import SUMMARY_PROB
from bayes_coalition.data.rollcalls import RollCallMatrix, load_rollcalls
from bayes_coalition.errors import DataValidationError
from bayes_coalition.ideal_points.graph import build_model, check_options
from bayes_coalition.ideal_points.identification import IDENTIFIED, align_posterior, orientation_weights
from bayes_coalition.ideal_points.scores import cdf, cell_probabilities, flat_draws, majority_side, score_cells, split_holdout
from bayes_coalition.sampling import sample_model

NO_PARTY = "(none)"
# how each fit table is read back (ids stay text; other columns are typed as a CSV reader would)
TABLE_DTYPES = {"legislators": {"legislator_id": str, "party": str}, "rollcalls": {"rollcall": str}}


def _frame_to_csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue()


def read_table(name: str, text: str) -> pd.DataFrame:
    """A fit table from its CSV text (what :meth:`IdealPointModel._fit_tables` stored, either way)."""
    return pd.read_csv(io.StringIO(text), dtype=TABLE_DTYPES[name])


class IdealPointModel(FittedModel):
    """Hierarchical 2PL ideal-point model of a :class:`RollCallMatrix` (fit / save / load / predict).

    ``lopsided`` and ``min_votes`` are passed to :meth:`RollCallMatrix.filter` (``None`` keeps
    everything); ``holdout_fraction`` hides that share of the observed cells (seeded by
    ``holdout_seed``) before fitting.  ``anchors`` maps legislator ids to a value (or a
    ``(value, sd)`` pair) on the identified scale: a prior N(value, sd) on that ideal point,
    sd defaulting to ``anchor_sd`` (0.01: practically fixed).  ``covariates`` are numeric
    columns of ``rollcalls.legislators`` entering the legislators' prior mean.
    """

    model_type = "bayes_coalition.IdealPointModel"
    version = "0.1.0"

    def __init__(
        self,
        rollcalls: RollCallMatrix | str | Path,
        *,
        link: str = "logit",
        party_sd: str = "party",
        covariates: list[str] | None = None,
        positive_party: str | None = "R",
        positive_legislator: str | None = None,
        anchors: dict | None = None,
        anchor_sd: float = 0.01,
        lopsided: float | None = 0.025,
        min_votes: int | None = 25,
        holdout_fraction: float = 0.0,
        holdout_seed: int = 0,
        difficulty_sd: float = 2.5,
        discrimination_sd: float = 2.5,
        formulation: str = "dense",
        factions=None,
        faction_column: str | None = None,
    ):
        if not isinstance(rollcalls, RollCallMatrix):
            rollcalls = load_rollcalls(rollcalls)
        check_options(link=link, party_sd=party_sd, formulation=formulation)
        self.options = {
            "link": link, "party_sd": party_sd, "covariates": list(covariates or []),
            "positive_party": positive_party, "positive_legislator": positive_legislator,
            "anchors": {str(k): (list(v) if isinstance(v, (tuple, list)) else float(v)) for k, v in (anchors or {}).items()},
            "anchor_sd": float(anchor_sd), "lopsided": lopsided, "min_votes": min_votes,
            "holdout_fraction": float(holdout_fraction), "holdout_seed": int(holdout_seed),
            "difficulty_sd": float(difficulty_sd), "discrimination_sd": float(discrimination_sd),
            "formulation": formulation,
            "factions": self._faction_prior(factions), "faction_column": faction_column,
        }
        if lopsided is not None or min_votes is not None:
            rollcalls = rollcalls.filter(lopsided=lopsided, min_votes=min_votes)
        self.rollcalls = rollcalls
        self._validate()
        self.votes = rollcalls.votes.values.astype(float)
        self.train, self.holdout_mask = split_holdout(self.votes, holdout_fraction, holdout_seed)
        self.idata = None
        self.diagnostics: dict = {}
        self._model: pm.Model | None = None
        self._prob: np.ndarray | None = None

    @staticmethod
    def _faction_prior(factions) -> dict | None:
        """None, a prior dict from :func:`faction_link.faction_prior`, or a coalition run to make one from."""
        if factions is None or (isinstance(factions, dict) and {"names", "mean", "sd", "party", "share"} <= set(factions)):
            return factions
        from bayes_coalition.ideal_points.faction_link import faction_prior

        return faction_prior(factions)

    def faction_weights(self, *, party_default: bool = False) -> np.ndarray | None:
        """Prior faction membership weights (legislator x faction) when linked to a coalition run;
        ``party_default`` ignores the faction column (the weights of the member's party)."""
        prior = self.options["factions"]
        if prior is None:
            return None
        from bayes_coalition.ideal_points.faction_link import membership_weights

        col = self.options["faction_column"]
        assigned = None if col is None or party_default else self.rollcalls.legislators[col].to_numpy(dtype=object)
        # rows of the filtered table are not file rows: the error names the legislator instead
        return membership_weights(prior, self.parties, assigned, ids=self.legislator_ids, file=self.rollcalls.source or None,
                                  column=col)

    # --- data ---------------------------------------------------------------------
    def _validate(self):
        rc = self.rollcalls
        if rc.n_legislators < 3 or rc.n_rollcalls < 2:
            raise DataValidationError(
                f"need at least 3 legislators and 2 roll calls after filtering, have {rc.n_legislators} x {rc.n_rollcalls}"
                + (f" (dropped {rc.dropped})" if rc.dropped else ""), file=rc.source or None)
        ids = [str(i) for i in rc.votes["legislator"].values]
        for key in list(self.options["anchors"]) + ([self.options["positive_legislator"]] if self.options["positive_legislator"] else []):
            if str(key) not in ids:
                raise DataValidationError(f"legislator '{key}' (anchor/orientation) is not in the filtered matrix", file=rc.source or None)
        col = self.options["faction_column"]
        if col is not None and self.options["factions"] is None:
            raise ValueError("faction_column needs factions (a fitted coalition run to link to)")
        if col is not None and col not in rc.legislators:
            raise DataValidationError(f"faction column '{col}' not in the legislators table", file=rc.source or None, column=col)
        if self.options["factions"] is not None:
            self.faction_weights()   # unknown factions raise here, before any compilation
        for col in self.options["covariates"]:
            if col not in rc.legislators:
                raise DataValidationError(f"covariate column '{col}' not in the legislators table", file=rc.source or None, column=col)
            vals = pd.to_numeric(rc.legislators[col], errors="coerce")
            if vals.isna().any():
                i = int(np.flatnonzero(vals.isna().to_numpy())[0])
                raise DataValidationError(f"covariate '{col}' is missing or not numeric for legislator {ids[i]}",
                                          file=rc.source or None, column=col)

    @property
    def legislator_ids(self) -> list[str]:
        return [str(i) for i in self.rollcalls.votes["legislator"].values]

    @property
    def parties(self) -> np.ndarray:
        legs = self.rollcalls.legislators
        if "party" not in legs:
            return np.array([NO_PARTY] * self.rollcalls.n_legislators, dtype=object)
        return legs["party"].astype(object).where(legs["party"].notna(), NO_PARTY).astype(str).to_numpy(dtype=object)

    def _anchor_rows(self) -> dict[int, tuple[float, float]]:
        ids = self.legislator_ids
        out = {}
        for key, spec in self.options["anchors"].items():
            value, sd = (spec[0], spec[1]) if isinstance(spec, list) else (spec, self.options["anchor_sd"])
            out[ids.index(str(key))] = (float(value), float(sd))
        return out

    def _covariate_matrix(self) -> np.ndarray | None:
        cols = self.options["covariates"]
        if not cols:
            return None
        legs = self.rollcalls.legislators
        m = np.column_stack([pd.to_numeric(legs[c]).to_numpy(float) for c in cols])
        sd = m.std(axis=0)
        return (m - m.mean(axis=0)) / np.where(sd > 0, sd, 1.0)

    @property
    def model(self) -> pm.Model:
        if self._model is None:
            party_names, party_idx = np.unique(self.parties, return_inverse=True)
            coords = {"legislator": self.legislator_ids,
                      "rollcall": [str(r) for r in self.rollcalls.votes["rollcall"].values],
                      "party": [str(p) for p in party_names]}
            if self.options["covariates"]:
                coords["covariate"] = self.options["covariates"]
            self._model = build_model(
                self.train, party_idx, coords, covariates=self._covariate_matrix(), link=self.options["link"],
                party_sd=self.options["party_sd"], difficulty_sd=self.options["difficulty_sd"],
                discrimination_sd=self.options["discrimination_sd"], anchors=self._anchor_rows(),
                formulation=self.options["formulation"], factions=self.options["factions"],
                faction_weights=self.faction_weights(), faction_centre_weights=self.faction_weights(party_default=True),
            )
        return self._model

    def orientation(self) -> tuple[np.ndarray, str]:
        """The orientation weights and the rule that gave them (see :func:`orientation_weights`)."""
        pos = self.options["positive_legislator"]
        return orientation_weights(
            self.parties, positive_party=self.options["positive_party"],
            positive_legislator=None if pos is None else self.legislator_ids.index(str(pos)),
            anchors=self._anchor_rows(), train=self.train,
        )

    # --- fitting ------------------------------------------------------------------
    def fit(
        self,
        random_seed: int = 0,
        *,
        sampler: str = "auto",
        draws: int = 1000,
        tune: int = 500,
        chains: int = 2,
        target_accept: float = 0.8,
        low_rank_mass_matrix: bool = False,
        progressbar: bool = False,
        cores: int | None = None,
    ):
        """Sample (nutpie when installed, else PyMC), align the draws and check convergence;
        returns the InferenceData (posterior = identified quantities). ``cores``: how many chains run at
        once (default: one per chain, up to the machine's cores; a batch on workers gives each fit its
        worker's cores).

        Sampling goes through :func:`bayes_coalition.sampling.sample_model`; the sampler records
        the deterministics itself (``var_names``), as this model always has: recomputing them
        afterwards changes nutpie's draws in the last bit."""
        seed = int(random_seed)
        names = [v.name for v in self.model.free_RVs] + [v.name for v in self.model.deterministics]
        idata, seconds, used = sample_model(
            self.model, sampler=sampler, draws=int(draws), tune=int(tune), chains=int(chains),
            target_accept=float(target_accept), random_seed=seed, progressbar=progressbar,
            cores=int(cores) if cores else min(int(chains), os.cpu_count() or 1), low_rank_mass_matrix=bool(low_rank_mass_matrix), var_names=names,
        )
        self._attach(idata, seed=seed, sampler=used, seconds=seconds, tune=int(tune))
        return self.idata

    def _attach(self, idata, *, seed: int, sampler: str, seconds: float, tune: int):
        """Keep the identified posterior and sample stats, add data groups and diagnostics."""
        weights, rule = self.orientation()
        post = align_posterior(idata.posterior, weights)
        groups = {"posterior": post}
        if "sample_stats" in idata:
            groups["sample_stats"] = idata.sample_stats
        new = _arviz.InferenceData(**groups)
        self.idata = new
        self._add_data_groups()
        self._prob = None
        diag = diagnostics.convergence(new, ["ideal_point"])
        items = diagnostics.convergence(new, ["discrimination", "difficulty"])
        diag.update(
            wall_seconds=float(seconds), sampler=sampler, random_seed=seed, tune=tune,
            n_legislators=int(self.rollcalls.n_legislators), n_rollcalls=int(self.rollcalls.n_rollcalls),
            n_cells=int(np.isfinite(self.train).sum()), n_heldout_cells=int(self.holdout_mask.sum()),
            item_max_rhat=items["max_rhat"], item_min_ess_bulk=items["min_ess_bulk"], item_min_ess_tail=items["min_ess_tail"],
            chains_flipped=int(np.sum(np.mean(post["orientation_sign"].values, axis=1) < 0)),
            orientation=rule, link=self.options["link"],
        )
        if self.options["factions"] is not None:
            linked = diagnostics.convergence(new, ["faction_position", "faction_location", "faction_loading"])
            diag.update(faction_max_rhat=linked["max_rhat"], faction_min_ess_bulk=linked["min_ess_bulk"],
                        linked_to=self.options["factions"]["source"])
        diag.update(self.dropped)
        self.diagnostics = diag
        diagnostics.check(diag)
        self._stamp()

    def _add_data_groups(self):
        coords = {"legislator": self.legislator_ids, "rollcall": [str(r) for r in self.rollcalls.votes["rollcall"].values]}
        obs = xr.Dataset({"votes": (("legislator", "rollcall"), self.votes)}, coords=coords)
        const = xr.Dataset({"heldout": (("legislator", "rollcall"), self.holdout_mask.astype(np.int8)),
                            "party": ("legislator", self.parties.astype(str))}, coords=coords)
        for name, group in (("observed_data", obs), ("constant_data", const)):
            if name in self.idata:
                delattr(self.idata, name)
            self.idata.add_groups({name: group})

    @property
    def dropped(self) -> dict:
        out = {"lopsided_rollcalls": 0, "low_activity_legislators": 0}
        out.update({k: int(v) for k, v in self.rollcalls.dropped.items()})
        return out

    # --- identity and persistence (FittedModel) -----------------------------------------
    @property
    def id(self) -> str:
        """Hash of the options (which define the model given the data) and the model version."""
        text = json.dumps({**self.options, "_version": self.version}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _model_attrs(self) -> dict:
        return {"options": json.dumps(self.options), "dropped": json.dumps(self.rollcalls.dropped),
                "source": self.rollcalls.source}

    def _fit_tables(self) -> dict[str, pd.DataFrame]:
        return {"legislators": self.rollcalls.legislators, "rollcalls": self.rollcalls.rollcalls}

    # --- estimands ----------------------------------------------------------------
    def ideal_points(self, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        """Posterior mean, sd and ``prob`` HDI of every legislator's identified ideal point."""
        self._require_fit()
        s = _arviz.summary(self.idata, ["ideal_point"], prob=prob, kind="hdi")
        out = pd.DataFrame({
            "legislator_id": self.legislator_ids,
            "party": [None if p == NO_PARTY else p for p in self.parties],
            "mean": s["mean"].to_numpy(), "sd": s["sd"].to_numpy(),
            "lower": s["lower"].to_numpy(), "upper": s["upper"].to_numpy(),
        })
        out.attrs.update(prob=prob, kind="hdi")
        return out

    def faction_membership(self) -> pd.DataFrame:
        """Posterior probability of each legislator belonging to each coalition-model faction (linked fits)."""
        self._require_fit()
        if "faction_membership" not in self.idata.posterior:
            raise ValueError("the model is not linked to a coalition run (factions=None)")
        from bayes_coalition.ideal_points.faction_link import membership_table

        return membership_table(self.idata.posterior, self.legislator_ids, self.options["factions"]["names"])

    def faction_positions(self, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        """Each faction: coalition-model prior, position after the roll calls, and its hyper-mean on the member scale."""
        self._require_fit()
        if "faction_position" not in self.idata.posterior:
            raise ValueError("the model is not linked to a coalition run (factions=None)")
        prior = self.options["factions"]
        pos = _arviz.summary(self.idata, ["faction_position"], prob=prob, kind="hdi")
        loc = _arviz.summary(self.idata, ["faction_location"], prob=prob, kind="hdi")
        return pd.DataFrame({
            "faction": prior["names"], "party": prior["party"], "coalition_mean": prior["mean"], "coalition_sd": prior["sd"],
            "mean": pos["mean"].to_numpy(), "sd": pos["sd"].to_numpy(), "member_scale_mean": loc["mean"].to_numpy(),
            "member_scale_lower": loc["lower"].to_numpy(), "member_scale_upper": loc["upper"].to_numpy(),
        })

    def summary(self, var_names=None, *, prob: float = SUMMARY_PROB) -> pd.DataFrame:
        self._require_fit()
        names = var_names or [n for n in IDENTIFIED if n in self.idata.posterior]
        return _arviz.summary(self.idata, names, prob=prob, kind="hdi")

    def predict_proba(self) -> xr.DataArray:
        """Posterior predictive P(yea) of every cell (observed, missing and held-out alike)."""
        self._require_fit()
        if self._prob is None:
            post = self.idata.posterior
            self._prob = cell_probabilities(flat_draws(post["ideal_point"], "legislator"),
                                            flat_draws(post["discrimination"], "rollcall"),
                                            flat_draws(post["difficulty"], "rollcall"), self.options["link"])
        return xr.DataArray(self._prob, dims=("legislator", "rollcall"), name="p_yea",
                            coords={"legislator": self.legislator_ids, "rollcall": self.rollcalls.votes["rollcall"].values})

    def posterior_predictive(self, random_seed: int, n_draws: int = 100) -> xr.DataArray:
        """Simulated vote matrices (1/0) from ``n_draws`` posterior draws chosen with ``random_seed``."""
        self._require_fit()
        rng = np.random.default_rng(int(random_seed))
        post = self.idata.posterior
        x, b, a = (flat_draws(post[n], d) for n, d in (("ideal_point", "legislator"), ("discrimination", "rollcall"), ("difficulty", "rollcall")))
        pick = rng.choice(x.shape[0], size=min(int(n_draws), x.shape[0]), replace=False)
        p = cdf(x[pick, :, None] * b[pick, None, :] - a[pick, None, :], self.options["link"])
        sims = (rng.random(p.shape) < p).astype(np.int8)
        return xr.DataArray(sims, dims=("sample", "legislator", "rollcall"), name="votes",
                            coords={"sample": pick, "legislator": self.legislator_ids,
                                    "rollcall": self.rollcalls.votes["rollcall"].values})

    def fit_statistics(self) -> dict:
        """In-sample fit on the training cells: correct classification, APRE, GMP, Brier, log score."""
        prob = self.predict_proba().values
        s = score_cells(prob, self.train, np.isfinite(self.train), majority_side(self.train))
        return {"n_cells": s["n_cells"], "correct_classification": s["accuracy"], "apre": s["apre"], "gmp": s["gmp"],
                "brier": s["brier"], "log_score": s["log_score"]}

    def holdout_scores(self) -> dict:
        """Scores on the held-out cells: n_cells, accuracy, brier, log_score, apre (majority side from training cells), gmp."""
        if not self.holdout_mask.any():
            raise ValueError("no cells were held out (holdout_fraction=0)")
        prob = self.predict_proba().values
        return score_cells(prob, self.votes, self.holdout_mask, majority_side(self.train))

    @classmethod
    def _from_idata(cls, idata, tables: dict[str, pd.DataFrame], path: Path) -> IdealPointModel:
        """Rebuild the model a file was saved from: its filtered matrix, options and holdout mask.

        The tables come from the ``fit_data`` group, or, in files written before it existed,
        from CSV text in the attributes ``legislators`` and ``rollcalls``."""
        attrs = idata.attrs
        options = json.loads(attrs["options"])
        texts = {name: _frame_to_csv(tables[name]) if name in tables else attrs[name] for name in TABLE_DTYPES}
        legs, rcs = (read_table(name, texts[name]) for name in TABLE_DTYPES)
        votes = idata.observed_data["votes"]
        votes = xr.DataArray(votes.values, dims=("legislator", "rollcall"), name="votes",
                             coords={"legislator": np.asarray([str(v) for v in votes["legislator"].values], dtype=object),
                                     "rollcall": np.asarray([str(v) for v in votes["rollcall"].values], dtype=object)})
        matrix = RollCallMatrix(votes, legs, rcs, str(attrs.get("source", "")), json.loads(attrs.get("dropped", "{}")))
        anchors = {k: (tuple(v) if isinstance(v, list) else v) for k, v in options.pop("anchors").items()}
        options.update(lopsided=None, min_votes=None, holdout_fraction=0.0)
        model = cls(matrix, anchors=anchors, **{k: v for k, v in options.items() if k != "holdout_seed"})
        model.options.update(json.loads(attrs["options"]))
        model.holdout_mask = idata.constant_data["heldout"].values.astype(bool)
        model.train = np.where(model.holdout_mask, np.nan, model.votes)
        return model
