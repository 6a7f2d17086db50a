"""Where the coalition posterior is stiff: the directions that set NUTS's step size.

    .venv/bin/python benchmarks/bench_geometry.py SPEC POSTERIOR.nc [--points 8] [--seed 0]

``POSTERIOR.nc`` is a fit of ``SPEC`` (``bayes-coalition fit`` writes ``posterior.nc``) whose posterior group holds
the model's unconstrained value variables. With the posterior covariance ``S`` of those values (the best a mass
matrix can do), the Hessian ``H`` of -logp at a draw, scaled to ``S^1/2 H S^1/2``, would be the identity for a
Gaussian posterior. Its largest eigenvalue ``lambda`` bounds the leapfrog step (stable below about
``2 / sqrt(lambda)``), and its eigenvector says which parameters make that direction stiff; negative eigenvalues
are where the posterior is not log-concave (funnels, bilinear terms). For each of ``--points`` random draws the
script prints the four largest eigenvalues, the three smallest, and the parameters carrying most of the stiffest
direction (share of its squared length), then the median and largest top eigenvalue over the draws.

The Hessian is a central difference of the compiled gradient (PyTensor's C backend) along the columns of
``S^1/2``: 2 x (number of parameters) gradients per draw, a minute or two for the default spec.
"""

from __future__ import annotations

import argparse

import numpy as np


def _labels(model, value_var, size: int) -> list[str]:
    """``name[coordinate, ...]`` of each of a value variable's ``size`` elements (C order), from its variable's dims;
    by position where a transform changes the length (simplex, zero-sum) or the variable has no dims."""
    import itertools

    name = value_var.name
    dims = model.named_vars_to_dims.get(model.values_to_rvs[value_var].name) or ()
    coords = [list(model.coords[d]) for d in dims]
    if coords and int(np.prod([len(c) for c in coords])) == size:
        return [f"{name}[{', '.join(map(str, c))}]" for c in itertools.product(*coords)]
    return [name] if size == 1 else [f"{name}[{i}]" for i in range(size)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("posterior")
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import xarray as xr

    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.spec import load_spec

    model = CoalitionModel(spec=load_spec(args.spec)).model
    value_vars = model.value_vars
    post = xr.open_dataset(args.posterior, group="posterior")
    names = [v.name for v in value_vars]
    missing = [n for n in names if n not in post]
    if missing:
        raise SystemExit(f"{args.posterior} lacks the value variables {missing[:5]}: not a fit of {args.spec}'s model")
    # a fit records its free variables (sampling.py); another spec's fit may hold a superset of this model's values
    fitted = post.attrs.get("free_variables")
    free = [rv.name for rv in model.free_RVs]
    if fitted is not None and sorted(fitted.split(",")) != sorted(free):
        extra = sorted(set(fitted.split(",")) - set(free))
        raise SystemExit(f"{args.posterior} is a fit of another model: its free variables differ from {args.spec}'s "
                         f"(only in the fit: {extra[:5]}; only in the spec: {sorted(set(free) - set(fitted.split(',')))[:5]})")
    shapes = [post[n].shape[2:] for n in names]
    sizes = [int(np.prod(s)) for s in shapes]
    x = np.concatenate([post[n].values.reshape(-1, k) for n, k in zip(names, sizes)], axis=1)
    labels = [label for vv, k in zip(value_vars, sizes) for label in _labels(model, vv, k)]
    grad_fn = model.compile_fn(model.dlogp(), inputs=value_vars, on_unused_input="ignore")

    def grad(point):
        out, i = {}, 0
        for n, s, k in zip(names, shapes, sizes):
            out[n] = point[i:i + k].reshape(s)
            i += k
        return np.asarray(grad_fn(out))

    w, v = np.linalg.eigh(np.cov(x.T))
    root = v @ np.diag(np.sqrt(np.maximum(w, 0.0))) @ v.T
    rng = np.random.default_rng(args.seed)
    tops = []
    print(f"{args.spec}: {x.shape[1]} parameters, {x.shape[0]} draws; posterior-scaled Hessian at {args.points} draws")
    for j in rng.choice(len(x), args.points, replace=False):
        eps = 1e-5
        hess = np.column_stack([-(grad(x[j] + eps * root[:, i]) - grad(x[j] - eps * root[:, i])) / (2 * eps)
                                for i in range(x.shape[1])])
        scaled = root @ hess
        ev, vec = np.linalg.eigh(0.5 * (scaled + scaled.T))
        tops.append(ev[-1])
        direction = root @ vec[:, -1]
        share = direction**2 / np.sum(direction**2)
        lead = ", ".join(f"{labels[o]} {share[o]:.2f}" for o in np.argsort(-share)[:4])
        print(f"draw {j:5d}: largest {np.round(ev[-4:][::-1], 1)}, smallest {np.round(ev[:3], 2)} | stiffest: {lead}")
    print(f"largest eigenvalue: median {np.median(tops):.1f}, max {max(tops):.1f} (a Gaussian posterior: 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
