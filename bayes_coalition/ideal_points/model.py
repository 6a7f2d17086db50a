"""Member-level ideal points from a roll-call matrix: a hierarchical two-parameter IRT model.

Model (``link`` logit, the default, or probit; logit is about 4x cheaper per evaluation)::

    P(yea_ij) = F(discrimination_j * ideal_point_i - difficulty_j)
    raw_i     = party_mu[party_i] + covariates_i @ gamma + party_sigma[party_i] * z_i
    ideal_point = (raw - mean(raw)) / sd(raw)              # location and scale fixed in every draw

Identification: the likelihood only sees the standardised ideal points, so location and
scale are fixed by construction; the sign is left free while sampling (chains may settle
in mirror-image modes) and every draw is then mapped onto one frame (pscl's postProcess):
ideal points are standardised and the draw's ideal points, discriminations, party
locations and covariate effects are multiplied by -1 when the draw points the wrong way.
The direction comes from, in this order: ``anchors``; ``positive_legislator``;
``positive_party`` (default ``"R"``: Republicans positive); otherwise the data's first
principal component (its most extreme legislator positive).  R-hat and ESS are computed
on these aligned draws.  The raw party means sum to zero and the party sds have geometric
mean 1, so the only directions the likelihood cannot see are z's mean and spread (prior-fixed).

Prediction: posterior mean P(yea) of every cell (:meth:`IdealPointModel.predict_proba`);
``holdout_fraction`` hides a seeded share of the observed cells before fitting and
:meth:`IdealPointModel.holdout_scores` scores them (accuracy, Brier, log score, APRE
against each roll call's majority side in the training cells).

>>> from bayes_coalition import load_rollcalls, IdealPointModel
>>> model = IdealPointModel(load_rollcalls("data/senate106"), holdout_fraction=0.1)
>>> model.fit(random_seed=1)
>>> model.ideal_points(); model.fit_statistics(); model.holdout_scores()
"""

from __future__ import annotations

import io
import json
import math
import os
import time
import warnings
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_default_op_cache_key
from pymc.distributions.dist_math import normal_lcdf
from scipy.special import expit, log_ndtr, ndtr

from bayes_coalition import _arviz

from bayes_coalition import diagnostics
from bayes_coalition.errors import DataValidationError
from bayes_coalition.data.rollcalls import RollCallMatrix, load_rollcalls
from bayes_coalition.sampling import resolve_sampler

LINKS = ("probit", "logit")
PARTY_SD = ("party", "common")
FORMULATIONS = ("dense", "dense_graph", "gather")
NO_PARTY = "(none)"
# sampled quantities that change sign with the orientation of the axis
SIGNED = ("ideal_point", "discrimination", "party_location", "covariate_effect", "faction_location", "faction_loading")
IDENTIFIED = ("ideal_point", "discrimination", "difficulty", "party_location", "party_scale", "covariate_effect",
              "faction_location", "faction_loading", "faction_position")


# --- holdout --------------------------------------------------------------------------


def split_holdout(votes: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hide a seeded random ``fraction`` of the observed cells: returns (training matrix with the
    hidden cells set to NaN, boolean mask of the hidden cells)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    votes = np.asarray(votes, dtype=float)
    observed = np.flatnonzero(np.isfinite(votes).ravel())
    n_hide = int(round(fraction * observed.size))
    hidden = np.zeros(votes.size, dtype=bool)
    if n_hide:
        hidden[np.random.default_rng(int(seed)).choice(observed, size=n_hide, replace=False)] = True
    hidden = hidden.reshape(votes.shape)
    train = votes.copy()
    train[hidden] = np.nan
    return train, hidden


# --- likelihood -----------------------------------------------------------------------
# "dense" (default): the full legislator x roll call matrix with a sign mask S (+1 yea, -1 nay,
# 0 unobserved), log-likelihood and analytic gradient computed together by NumPy's vectorised
# exp/log in one Op.  "dense_graph" is the same masked matrix as a PyTensor graph (autodiff),
# "gather" a PyTensor graph over the observed cells only.  The benchmark times all three.

_LOG2 = math.log(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def dense_loglik_and_grad(x, beta, alpha, signs, n_unobserved, link):
    """Log-likelihood and its gradient w.r.t. (x, beta, alpha).  ``signs`` is the N x J mask
    (+1 yea, -1 nay, 0 unobserved); unobserved cells have t = 0 and contribute exactly
    log F(0) = -log 2 each, which ``n_unobserved`` removes."""
    t = signs * (np.outer(x, beta) - alpha)
    if link == "logit":
        # log F(t) = -log(1 + e^-t); t is floored at -700 so e^-t stays finite
        u = np.exp(-np.maximum(t, -700.0))
        one_plus_u = 1.0 + u
        lp = -np.sum(np.log(one_plus_u))  # np.log is vectorised, np.log1p is not
        dlp = u / one_plus_u  # d log F(t) / dt = F(-t)
    else:
        log_cdf = log_ndtr(t)
        lp = np.sum(log_cdf)
        dlp = np.exp(-0.5 * t * t - _LOG_SQRT_2PI - log_cdf)  # inverse Mills ratio
    lp += n_unobserved * _LOG2
    g = signs * dlp
    return lp, g @ beta, g.T @ x, -g.sum(axis=0)


class DenseVoteLogLik(Op):
    """Log-likelihood of a vote matrix given ideal points, discriminations and difficulties;
    outputs (logp, d/dx, d/dbeta, d/dalpha) from one vectorised pass."""

    __props__ = ("link",)

    def __init__(self, link: str):
        self.link = link

    def make_node(self, x, beta, alpha, signs, n_unobserved):
        inputs = [pt.as_tensor_variable(v).astype("float64") for v in (x, beta, alpha, signs, n_unobserved)]
        return Apply(self, inputs, [pt.dscalar(), pt.dvector(), pt.dvector(), pt.dvector()])

    def perform(self, node, inputs, outputs):
        lp, gx, gb, ga = dense_loglik_and_grad(*inputs, self.link)
        for store, value in zip(outputs, (np.asarray(lp), gx, gb, ga)):
            store[0] = value

    def L_op(self, inputs, outputs, output_grads):
        if any(not isinstance(g.type, DisconnectedType) for g in output_grads[1:]):
            raise NotImplementedError("only the log-likelihood output of DenseVoteLogLik is differentiable")
        g = output_grads[0]
        return [g * outputs[1], g * outputs[2], g * outputs[3], DisconnectedType()(), DisconnectedType()()]

    def connection_pattern(self, node):
        return [[True] * 4] * 3 + [[False] * 4] * 2


@register_funcify_default_op_cache_key(DenseVoteLogLik)
def _numba_dense_vote_loglik(op, node, **kwargs):
    """Numba (nutpie) calls back into NumPy, whose SIMD exp/log beat numba's scalar libm calls."""
    link = op.link
    ret = numba.types.Tuple([numba.types.Array(numba.types.float64, 0, "C")] + [numba.types.Array(numba.types.float64, 1, "C")] * 3)

    def py_loglik(x, beta, alpha, signs, n_unobserved):
        lp, gx, gb, ga = dense_loglik_and_grad(x, beta, alpha, signs, float(n_unobserved), link)
        return np.asarray(lp, dtype=np.float64), np.ascontiguousarray(gx), np.ascontiguousarray(gb), np.ascontiguousarray(ga)

    @numba_njit
    def vote_loglik(x, beta, alpha, signs, n_unobserved):
        with numba.objmode(out=ret):
            out = py_loglik(x, beta, alpha, signs, n_unobserved)
        return out

    return vote_loglik, 1


def _graph_loglik(eta, yea, link: str):
    """Elementwise log-likelihood of yea (1/0) given the linear predictor, as a PyTensor graph."""
    if link == "probit":
        return normal_lcdf(0.0, 1.0, (2.0 * yea - 1.0) * eta)
    return yea * eta - pt.softplus(eta)


# --- model ----------------------------------------------------------------------------


def check_options(*, link: str, party_sd: str, formulation: str) -> None:
    """Reject an unknown link, party-sd rule or likelihood formulation."""
    for name, value, allowed in (("link", link, LINKS), ("party_sd", party_sd, PARTY_SD), ("formulation", formulation, FORMULATIONS)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def build_model(
    train: np.ndarray,
    party_idx: np.ndarray,
    coords: dict,
    *,
    covariates: np.ndarray | None = None,
    link: str = "logit",
    party_sd: str = "party",
    difficulty_sd: float = 2.5,
    discrimination_sd: float = 2.5,
    anchors: dict[int, tuple[float, float]] | None = None,
    formulation: str = "dense",
    factions: dict | None = None,
    faction_weights: np.ndarray | None = None,
    faction_centre_weights: np.ndarray | None = None,
) -> pm.Model:
    """The PyMC model.  ``train`` is legislator x roll call (1/0/NaN); ``coords`` has
    legislator, rollcall, party (and covariate); ``anchors`` maps a legislator's row to a
    (value, sd) prior on its identified ideal point; ``factions`` (from
    :func:`bayes_coalition.ideal_points.faction_link.faction_prior`) with ``faction_weights`` makes the
    coalition model's factions the hyper-means of members' positions."""
    check_options(link=link, party_sd=party_sd, formulation=formulation)
    observed = np.isfinite(train)
    n_parties = len(coords["party"])
    with pm.Model(coords=coords) as model:
        # raw scale fixed (within-party sd 1 on average) and location fixed (party means sum to
        # zero), so the only directions the likelihood cannot see are z's mean and spread.
        if n_parties > 1:
            mu = pm.ZeroSumNormal("party_mu", sigma=3.0, dims="party")
        else:
            mu = pt.zeros(1)
        if party_sd == "party" and n_parties > 1:
            log_sigma = pm.ZeroSumNormal("party_log_sigma", sigma=0.5, dims="party")
            sigma_party = pt.exp(log_sigma)
        else:
            sigma_party = pt.ones(n_parties)
        location = mu[party_idx]
        gamma = None
        if covariates is not None and covariates.shape[1]:
            gamma = pm.Normal("gamma", 0.0, 1.0, dims="covariate")
            location = location + pt.dot(pt.as_tensor(covariates), gamma)
        if factions is None:
            z = pm.Normal("z", 0.0, 1.0, dims="legislator")
            raw = location + sigma_party[party_idx] * z
        else:
            # centred mixture: members' positions are strongly identified by their votes
            model.add_coord("faction", factions["names"])
            fpos = pm.Normal("faction_position", np.asarray(factions["mean"]), np.asarray(factions["sd"]), dims="faction")
            loading = pm.Normal("faction_scale", 0.0, 1.0)
            # positions relative to the party's share-weighted mean faction: the loading sets the
            # spread within parties and is orthogonal to the party means
            party_w = np.asarray(faction_centre_weights if faction_centre_weights is not None else faction_weights)
            centred = fpos[None, :] - pt.dot(pt.as_tensor(party_w), fpos)[:, None]
            comp_mu = location[:, None] + loading * centred
            sd = sigma_party[party_idx][:, None]
            raw = pm.NormalMixture("raw_ideal_point", w=np.asarray(faction_weights), mu=comp_mu, sigma=sd, dims="legislator")
            with np.errstate(divide="ignore"):
                logw = np.log(np.asarray(faction_weights))
            comp_lp = logw - 0.5 * pt.sqr((raw[:, None] - comp_mu) / sd)
            pm.Deterministic("faction_membership", pt.special.softmax(comp_lp, axis=1), dims=("legislator", "faction"))
        centre = raw.mean()
        scale = pt.sqrt(pt.mean(pt.sqr(raw - centre)) + 1e-12)
        x = pm.Deterministic("ideal_point", (raw - centre) / scale, dims="legislator")
        pm.Deterministic("party_location", (mu - centre) / scale, dims="party")
        pm.Deterministic("party_scale", sigma_party / scale, dims="party")
        if factions is not None:
            # each faction's hyper-mean on the identified scale (taken for a member of its party)
            rows = [int(np.flatnonzero(np.asarray(coords["party"]) == p)[0]) if p in coords["party"] else -1 for p in factions["party"]]
            base = pt.stack([mu[j] if j >= 0 else pt.constant(0.0) for j in rows])
            first = [int(np.flatnonzero(party_idx == j)[0]) if j >= 0 else 0 for j in rows]
            hyper = base + loading * centred[first, np.arange(len(rows))]
            pm.Deterministic("faction_location", (hyper - centre) / scale, dims="faction")
            pm.Deterministic("faction_loading", loading / scale)
        if gamma is not None:
            pm.Deterministic("covariate_effect", gamma / scale, dims="covariate")
        alpha = pm.Normal("difficulty", 0.0, difficulty_sd, dims="rollcall")
        beta = pm.Normal("discrimination", 0.0, discrimination_sd, dims="rollcall")
        if anchors:
            rows = np.fromiter(anchors, dtype=int)
            values = np.array([anchors[r][0] for r in rows])
            sds = np.array([anchors[r][1] for r in rows])
            pm.Potential("anchors", pm.logp(pm.Normal.dist(values, sds), x[rows]).sum())
        if formulation == "dense":
            signs = np.where(observed, 2.0 * np.nan_to_num(train) - 1.0, 0.0)
            ll = DenseVoteLogLik(link)(x, beta, alpha, signs, float((~observed).sum()))[0]
        elif formulation == "dense_graph":
            eta = x[:, None] * beta[None, :] - alpha[None, :]
            yea = pt.as_tensor(np.nan_to_num(train, nan=0.0))
            ll = (pt.as_tensor(observed.astype(float)) * _graph_loglik(eta, yea, link)).sum()
        else:
            li, ri = np.nonzero(observed)
            eta = x[li] * beta[ri] - alpha[ri]
            ll = _graph_loglik(eta, pt.as_tensor(train[li, ri]), link).sum()
        pm.Potential("votes_loglik", ll)
    return model


# --- identification -------------------------------------------------------------------


def first_component(train: np.ndarray) -> np.ndarray:
    """First principal component of the (mean-imputed, centred) vote matrix, signed so that its
    largest entry in absolute value is positive: a deterministic reference direction."""
    v = np.asarray(train, dtype=float)
    col_mean = np.nanmean(np.where(np.isfinite(v), v, np.nan), axis=0)
    col_mean = np.nan_to_num(col_mean, nan=0.5)
    filled = np.where(np.isfinite(v), v, col_mean[None, :]) - col_mean[None, :]
    u, _, _ = np.linalg.svd(filled, full_matrices=False)
    pc = u[:, 0]
    return pc * (1.0 if pc[np.argmax(np.abs(pc))] >= 0 else -1.0)


def orientation_weights(
    parties: np.ndarray,
    *,
    positive_party: str | None = "R",
    positive_legislator: int | None = None,
    anchors: dict[int, tuple[float, float]] | None = None,
    train: np.ndarray | None = None,
) -> tuple[np.ndarray, str]:
    """Weights w such that a draw is oriented when ``ideal_point @ w > 0``; with the rule used.

    Precedence: anchors, positive_legislator (a row index), positive_party, principal component."""
    n = len(parties)
    if anchors:
        w = np.zeros(n)
        for row, (value, _) in anchors.items():
            w[row] = value
        if np.any(w):
            return w, "anchors"
    if positive_legislator is not None:
        w = np.zeros(n)
        w[positive_legislator] = 1.0
        return w, "positive_legislator"
    if positive_party is not None:
        member = np.asarray([str(p) == str(positive_party) for p in parties], dtype=float)
        if 0 < member.sum() < n:
            return member / member.sum() - 1.0 / n, f"party {positive_party} positive"
    if train is None:
        raise ValueError("no orientation rule applies and no vote matrix was given")
    return first_component(train), "first principal component (most extreme legislator positive)"


def align_draws(ideal: np.ndarray, discrimination: np.ndarray, difficulty: np.ndarray, weights: np.ndarray):
    """Map draws onto the identified frame.  ``ideal`` is (..., legislator), the item arrays
    (..., rollcall).  Each draw is standardised (mean 0, sd 1; the item parameters absorb the
    affine map so predictions are unchanged) and flipped when ``ideal @ weights < 0``.
    Returns (ideal, discrimination, difficulty, sign) with sign shaped like the draws."""
    centre = ideal.mean(axis=-1, keepdims=True)
    scale = ideal.std(axis=-1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    std_ideal = (ideal - centre) / scale
    difficulty = difficulty - discrimination * centre
    discrimination = discrimination * scale
    sign = np.sign(std_ideal @ weights)
    sign = np.where(sign == 0, 1.0, sign)
    return std_ideal * sign[..., None], discrimination * sign[..., None], difficulty, sign


def align_posterior(posterior: xr.Dataset, weights: np.ndarray) -> xr.Dataset:
    """Identified posterior: :func:`align_draws` applied to every (chain, draw); the party
    locations and covariate effects follow the sign (they are already on the standardised scale)."""
    ideal = posterior["ideal_point"].transpose("chain", "draw", "legislator")
    disc = posterior["discrimination"].transpose("chain", "draw", "rollcall")
    diff = posterior["difficulty"].transpose("chain", "draw", "rollcall")
    x, b, a, sign = align_draws(ideal.values, disc.values, diff.values, np.asarray(weights, dtype=float))
    out = xr.Dataset(
        {
            "ideal_point": (ideal.dims, x),
            "discrimination": (disc.dims, b),
            "difficulty": (diff.dims, a),
        },
        coords={k: v for k, v in posterior.coords.items() if k in ("chain", "draw", "legislator", "rollcall")},
    )
    for name in ("party_location", "covariate_effect", "faction_location", "faction_loading"):
        if name in posterior:
            da = posterior[name]
            out[name] = da * xr.DataArray(sign, dims=("chain", "draw"), coords={"chain": da["chain"], "draw": da["draw"]})
    for name in ("party_scale", "faction_position", "faction_membership"):   # unchanged by a reflection
        if name in posterior:
            out[name] = posterior[name]
    out["orientation_sign"] = (("chain", "draw"), sign)
    out.attrs.update(posterior.attrs)
    return out


# --- prediction and scores ------------------------------------------------------------


def _cdf(eta: np.ndarray, link: str) -> np.ndarray:
    return ndtr(eta) if link == "probit" else expit(eta)


def _flat_draws(da: xr.DataArray, last: str) -> np.ndarray:
    return da.transpose("chain", "draw", last).values.reshape(-1, da.sizes[last])


def cell_probabilities(ideal: np.ndarray, discrimination: np.ndarray, difficulty: np.ndarray, link: str,
                       max_floats: int = 20_000_000) -> np.ndarray:
    """Posterior mean P(yea) of every legislator x roll call cell from (draw, .) arrays, in chunks."""
    n_draws, n_leg = ideal.shape
    n_rc = discrimination.shape[1]
    chunk = max(1, max_floats // max(n_leg * n_rc, 1))
    total = np.zeros((n_leg, n_rc))
    for start in range(0, n_draws, chunk):
        s = slice(start, start + chunk)
        eta = ideal[s, :, None] * discrimination[s, None, :] - difficulty[s, None, :]
        total += _cdf(eta, link).sum(axis=0)
    return total / n_draws


def majority_side(train: np.ndarray) -> np.ndarray:
    """Per roll call, the side (1 yea / 0 nay) most of the observed cells took (ties: yea)."""
    yea = np.nansum(train == 1, axis=0)
    nay = np.nansum(train == 0, axis=0)
    return (yea >= nay).astype(float)


def score_cells(prob: np.ndarray, votes: np.ndarray, cells: np.ndarray, majority: np.ndarray) -> dict:
    """Classification and probabilistic scores of ``prob`` on the ``cells`` of ``votes``.

    accuracy (correct classification at 0.5), brier, log_score (mean log predictive
    probability of the observed vote), gmp (its exponential: geometric mean probability) and
    apre (1 - errors / errors of predicting every roll call's majority side)."""
    cells = cells & np.isfinite(votes)
    y = votes[cells]
    p = np.clip(prob[cells], 1e-12, 1 - 1e-12)
    if y.size == 0:
        return {"n_cells": 0, "accuracy": float("nan"), "brier": float("nan"), "log_score": float("nan"),
                "gmp": float("nan"), "apre": float("nan")}
    correct = (p > 0.5) == (y == 1)
    log_p = np.where(y == 1, np.log(p), np.log1p(-p))
    baseline_errors = float(np.sum(votes[cells] != np.broadcast_to(majority[None, :], votes.shape)[cells]))
    errors = float(np.sum(~correct))
    return {
        "n_cells": int(y.size),
        "accuracy": float(correct.mean()),
        "brier": float(np.mean((p - y) ** 2)),
        "log_score": float(log_p.mean()),
        "gmp": float(np.exp(log_p.mean())),
        "apre": float((baseline_errors - errors) / baseline_errors) if baseline_errors else float("nan"),
    }


# --- the model class ------------------------------------------------------------------


def _frame_to_csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue()


class IdealPointModel:
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
    ):
        """Sample (nutpie when installed, else PyMC), align the draws and check convergence;
        returns the InferenceData (posterior = identified quantities)."""
        seed = int(random_seed)
        used = resolve_sampler(sampler)
        names = [v.name for v in self.model.free_RVs] + [v.name for v in self.model.deterministics]
        kwargs = dict(draws=int(draws), tune=int(tune), chains=int(chains), target_accept=float(target_accept),
                      random_seed=seed, var_names=names, progressbar=progressbar, compute_convergence_checks=False)
        if used == "nutpie":
            kwargs["nuts_sampler_kwargs"] = {"cores": min(int(chains), os.cpu_count() or 1), "save_warmup": False,
                                             "low_rank_modified_mass_matrix": bool(low_rank_mass_matrix)}
        else:
            kwargs["cores"] = min(int(chains), os.cpu_count() or 1)
            kwargs["idata_kwargs"] = {"log_likelihood": False}
        t0 = time.perf_counter()
        with self.model, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*idata_kwargs.*")
            idata = pm.sample(nuts_sampler=used, **kwargs)
        seconds = time.perf_counter() - t0
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
        self.idata.attrs.update(self._attrs())

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

    def _attrs(self) -> dict:
        return {
            "model_type": self.model_type,
            "model_version": self.version,
            "options": json.dumps(self.options),
            "legislators": _frame_to_csv(self.rollcalls.legislators),
            "rollcalls": _frame_to_csv(self.rollcalls.rollcalls),
            "dropped": json.dumps(self.rollcalls.dropped),
            "source": self.rollcalls.source,
            "diagnostics": json.dumps(self.diagnostics),
        }

    def _require_fit(self):
        if self.idata is None or "posterior" not in self.idata:
            raise RuntimeError("the model has not been fitted: call fit() or IdealPointModel.load()")

    # --- estimands ----------------------------------------------------------------
    def ideal_points(self, *, prob: float = 0.94) -> pd.DataFrame:
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

    def faction_positions(self, *, prob: float = 0.94) -> pd.DataFrame:
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

    def summary(self, var_names=None, *, prob: float = 0.94) -> pd.DataFrame:
        self._require_fit()
        names = var_names or [n for n in IDENTIFIED if n in self.idata.posterior]
        return _arviz.summary(self.idata, names, prob=prob, kind="hdi")

    def predict_proba(self) -> xr.DataArray:
        """Posterior predictive P(yea) of every cell (observed, missing and held-out alike)."""
        self._require_fit()
        if self._prob is None:
            post = self.idata.posterior
            self._prob = cell_probabilities(_flat_draws(post["ideal_point"], "legislator"),
                                            _flat_draws(post["discrimination"], "rollcall"),
                                            _flat_draws(post["difficulty"], "rollcall"), self.options["link"])
        return xr.DataArray(self._prob, dims=("legislator", "rollcall"), name="p_yea",
                            coords={"legislator": self.legislator_ids, "rollcall": self.rollcalls.votes["rollcall"].values})

    def posterior_predictive(self, random_seed: int, n_draws: int = 100) -> xr.DataArray:
        """Simulated vote matrices (1/0) from ``n_draws`` posterior draws chosen with ``random_seed``."""
        self._require_fit()
        rng = np.random.default_rng(int(random_seed))
        post = self.idata.posterior
        x, b, a = (_flat_draws(post[n], d) for n, d in (("ideal_point", "legislator"), ("discrimination", "rollcall"), ("difficulty", "rollcall")))
        pick = rng.choice(x.shape[0], size=min(int(n_draws), x.shape[0]), replace=False)
        p = _cdf(x[pick, :, None] * b[pick, None, :] - a[pick, None, :], self.options["link"])
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

    # --- persistence --------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the identified posterior, the votes, the holdout mask, options and metadata to netCDF."""
        self._require_fit()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.idata.attrs.update(self._attrs())
        _arviz.to_netcdf(self.idata, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "IdealPointModel":
        """Rebuild a fitted model from :meth:`save`'s file."""
        idata = _arviz.from_netcdf(path)
        attrs = idata.attrs
        if attrs.get("model_type") != cls.model_type:
            raise ValueError(f"{path}: not a saved {cls.model_type} (model_type={attrs.get('model_type')!r})")
        options = json.loads(attrs["options"])
        legs = pd.read_csv(io.StringIO(attrs["legislators"]), dtype={"legislator_id": str, "party": str})
        rcs = pd.read_csv(io.StringIO(attrs["rollcalls"]), dtype={"rollcall": str})
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
        model.idata = idata
        model.diagnostics = json.loads(attrs.get("diagnostics", "{}"))
        return model
