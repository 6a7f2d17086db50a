"""Log-likelihood of a legislator x roll call vote matrix under the two-parameter IRT model.

``P(yea_ij) = F(discrimination_j * ideal_point_i - difficulty_j)`` with F the logistic
(``logit``) or standard normal (``probit``) cdf.  Three formulations compute the same sum:

- ``dense`` (default): the full legislator x roll call matrix with a sign mask S (+1 yea,
  -1 nay, 0 unobserved), log-likelihood and analytic gradient computed together by NumPy's
  vectorised exp/log in one Op (:class:`DenseVoteLogLik`);
- ``dense_graph``: the same masked matrix as a PyTensor graph (autodiff);
- ``gather``: a PyTensor graph over the observed cells only.

The benchmark (``benchmarks/bench_ideal_points.py``) times all three.  The dense Op has a
numba implementation for nutpie that calls back into NumPy; it is registered by
:func:`register_numba_dispatch` when a likelihood is built, so importing the package does not
import numba (and the package works without it: the Op then runs on PyTensor's C/Python backend).
"""

from __future__ import annotations

import math

import numpy as np
import pytensor.tensor as pt
from pymc.distributions.dist_math import normal_lcdf
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor.variable import TensorVariable
from scipy.special import log_ndtr

LINKS = ("probit", "logit")
FORMULATIONS = ("dense", "dense_graph", "gather")

_LOG2 = math.log(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def vote_signs(train: np.ndarray) -> tuple[np.ndarray, float]:
    """The dense formulation's sign mask (+1 yea, -1 nay, 0 unobserved) and its number of unobserved cells."""
    observed = np.isfinite(train)
    return np.where(observed, 2.0 * np.nan_to_num(train) - 1.0, 0.0), float((~observed).sum())


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
        for store, value in zip(outputs, (np.asarray(lp), gx, gb, ga), strict=True):
            store[0] = value

    def L_op(self, inputs, outputs, output_grads):
        if any(not isinstance(g.type, DisconnectedType) for g in output_grads[1:]):
            raise NotImplementedError("only the log-likelihood output of DenseVoteLogLik is differentiable")
        g = output_grads[0]
        return [g * outputs[1], g * outputs[2], g * outputs[3], DisconnectedType()(), DisconnectedType()()]

    def connection_pattern(self, node):
        return [[True] * 4] * 3 + [[False] * 4] * 2


def _numba_dense_vote_loglik(op, node, **kwargs):
    """Numba (nutpie) calls back into NumPy, whose SIMD exp/log beat numba's scalar libm calls."""
    import numba
    from pytensor.link.numba.dispatch.basic import numba_njit

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


_numba_registered = False


def register_numba_dispatch() -> bool:
    """Teach PyTensor's numba backend (nutpie's) the dense Op, once.  Returns False when numba
    is not installed (then nutpie is not either, and the C/Python backends need no registration)."""
    global _numba_registered
    if not _numba_registered:
        try:
            from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key
        except ImportError:
            return False
        register_funcify_default_op_cache_key(DenseVoteLogLik)(_numba_dense_vote_loglik)
        _numba_registered = True
    return True


def graph_loglik(eta, yea, link: str):
    """Elementwise log-likelihood of yea (1/0) given the linear predictor, as a PyTensor graph."""
    if link == "probit":
        return normal_lcdf(0.0, 1.0, (2.0 * yea - 1.0) * eta)
    return yea * eta - pt.softplus(eta)


def vote_loglik(x, beta, alpha, train: np.ndarray, *, link: str, formulation: str = "dense") -> TensorVariable:
    """Total log-likelihood of the observed (finite) cells of ``train`` (1 yea / 0 nay / NaN),
    as a PyTensor scalar of ideal points ``x``, discriminations ``beta`` and difficulties ``alpha``."""
    if link not in LINKS:
        raise ValueError(f"link must be one of {LINKS}, got {link!r}")
    if formulation == "dense":
        register_numba_dispatch()
        signs, n_unobserved = vote_signs(train)
        return DenseVoteLogLik(link)(x, beta, alpha, signs, n_unobserved)[0]
    observed = np.isfinite(train)
    if formulation == "dense_graph":
        eta = x[:, None] * beta[None, :] - alpha[None, :]
        yea = pt.as_tensor(np.nan_to_num(train, nan=0.0))
        return (pt.as_tensor(observed.astype(float)) * graph_loglik(eta, yea, link)).sum()
    if formulation == "gather":
        li, ri = np.nonzero(observed)
        eta = x[li] * beta[ri] - alpha[ri]
        return graph_loglik(eta, pt.as_tensor(train[li, ri]), link).sum()
    raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
