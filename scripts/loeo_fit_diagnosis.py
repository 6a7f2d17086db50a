"""Refit one fit of a leave-one-episode-out run and say why it missed R-hat: the parameters with the worst R-hat
(with their coordinates and chain means) and the held-out elpd per chain beside the pooled one, so a reader can see
whether the chains that disagree also disagree on what the comparison uses.

The fit is the one `bayes-coalition loeo` made: the same spec, variant, episode, seed (``seed + i``, ``i`` the
episode's place in the spec's episodes) and settings, through the same worker path
(``validation.loeo._episode_fit``). Usually it reproduces the run's fit draw for draw on the same machine, but not
always: of two runs of the full model without usmca2019 (2026-12-03, beside other work) the second gave held-out elpd
-37.16 where the first gave -32.73 (max R-hat 1.035 and 1.037), while the model without H2 reproduced its first run
to the last digit; so keep a fit with ``--posterior`` to rerun its checks on the same draws.

    .venv/bin/python scripts/loeo_fit_diagnosis.py taa2011 [--spec models/trade_coalition.toml] [--variant full]
        [--seed 1] [--draws 500] [--tune 1000] [--chains 4] [--rows] [--replicates M] [--integrated DRAWS]
        [--particles K] [--final-particles K] [--posterior FILE]

Measured 2026-12-02 (floored default, full model without taa2011, as the LOEO run's checkpoint: R-hat 1.355, elpd
-45.32): docs/model_layers.md, "The same check on today's default".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _plain(value):
    """A coordinate value as a plain Python object (a NumPy scalar's ``item()``; an object array's str as it is)."""
    return value.item() if hasattr(value, "item") else value


def worst_rhat(idata, n: int = 10) -> list[dict]:
    """The ``n`` scalars of the posterior with the largest R-hat: name, coordinates, R-hat and chain means."""
    from bayes_coalition import _arviz

    r = _arviz.rhat(idata)
    rows = []
    for name, da in r.data_vars.items():
        if not da.size:
            continue
        flat = np.nan_to_num(da.values.ravel(), nan=-np.inf)
        k = int(flat.argmax())
        where = dict(zip(da.dims, np.unravel_index(k, da.shape))) if da.dims else {}
        coords = {d: _plain(da.coords[d].values[i]) if d in da.coords else int(i) for d, i in where.items()}
        x = idata.posterior[name].isel(where).values                  # (chain, draw)
        rows.append({"name": name, "coords": coords, "rhat": float(flat[k]),
                     "chain_means": [float(m) for m in x.mean(axis=1)]})
    return sorted(rows, key=lambda row: -row["rhat"])[:n]


def chain_elpd(lp: np.ndarray) -> dict:
    """Held-out elpd ``log mean exp`` of the (chain, draw) log predictive densities, pooled and per chain."""
    from bayes_coalition.validation.loeo import logmeanexp

    lp = np.asarray(lp, dtype=float)
    return {"pooled": float(logmeanexp(lp.ravel())), "per_chain": [float(logmeanexp(c)) for c in lp]}


def row_elpd(loglik, posterior, weights: dict, labels: dict) -> list[tuple[str, float, float]]:
    """Each held-out vote row's own elpd and k-hat (``validation.loeo.row_elpds``) under its row label: which rows the
    episode's score turns on. Their sum is the row-wise elpd that ``loeo`` records beside the joint one."""
    from bayes_coalition.validation.loeo import row_elpds

    return [(labels[key][j], v, k) for key, j, v, k in row_elpds(loglik, posterior, weights)]


def replicated_elpd(loglik, posterior, weights: dict, own: dict, m: int, seed: int) -> dict:
    """The held-out joint elpd with the episode's own standard-normal effects drawn ``m`` times afresh for every
    posterior draw (``own``: :func:`validation.loeo.episode_own_effects`): ``log mean_{s, r} p(votes | theta_s,
    z_r)``, the same target as the plain estimate (a new episode's effects from their prior given the
    hyper-parameters), averaged over ``m`` times as many effect draws. Returns the elpd, the Pareto k-hat of the
    per-draw means over the replicates and each chain's elpd."""
    from bayes_coalition import _arviz
    from bayes_coalition.validation.loeo import logmeanexp, own_axis

    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(m):
        post = posterior.copy()
        for name, idx in own.items():
            arr = post[name].values.copy()
            view = np.moveaxis(arr, 2 + own_axis(posterior, name), -1)       # (chain, draw, ..., own dimension)
            view[..., idx] = rng.standard_normal(view[..., idx].shape)
            post[name] = (post[name].dims, arr)
        reps.append(np.asarray(loglik(post, weights), dtype=float))
    lp = np.stack(reps)                                             # (replicate, draw)
    per_draw = np.array([logmeanexp(c) for c in lp.T])                # each draw's mean over its replicates
    chains = lp.reshape(m, posterior.sizes["chain"], -1)
    return {"elpd": float(logmeanexp(lp.ravel())), "khat": _arviz.pareto_khat(per_draw),
            "per_chain": [float(logmeanexp(chains[:, c].ravel())) for c in range(chains.shape[1])]}


def main(argv: list[str] | None = None) -> int:
    from bayes_coalition import _arviz
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.spec import default_spec_path, load_spec
    from bayes_coalition.data.dataset import load_dataset
    from bayes_coalition.validation import loeo as L
    from bayes_coalition.validation.compare import H_VARIANTS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episode")
    ap.add_argument("--spec", type=Path, default=default_spec_path())
    ap.add_argument("--variant", default="full", choices=list(H_VARIANTS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--replicates", type=int, default=0,
                    help="also the joint elpd with the episode's own standard-normal effects drawn this many times "
                         "afresh per posterior draw (replicated_elpd)")
    ap.add_argument("--integrated", type=int, default=0, metavar="DRAWS",
                    help="also the joint elpd with the episode's own effects integrated out per draw by importance "
                         "sampling (validation.loeo.integrated_elpd) on this many evenly spaced posterior draws")
    ap.add_argument("--particles", type=int, default=None,
                    help="--integrated: tempering particles per draw (default max(128, 16 x effects))")
    ap.add_argument("--final-particles", type=int, default=256,
                    help="--integrated: importance-sampling particles per draw after the tempering")
    ap.add_argument("--untied", action="store_true",
                    help="--integrated: integrate each trailing walk step on its own, not one effect per walk "
                         "(validation.loeo.tied_walks)")
    ap.add_argument("--posterior", type=Path, default=None, metavar="FILE",
                    help="a NetCDF file of the fit's posterior: read when it exists (no fit), else written after the "
                         "fit, so the held-out checks can be rerun with other settings without refitting")
    ap.add_argument("--rows", action="store_true",
                    help="also each held-out row's elpd, the construct effects and the episode's approval shift")
    args = ap.parse_args(argv)

    spec = load_spec(args.spec)
    spec = {**spec, "model": {**spec["model"], "constructs": H_VARIANTS[args.variant]}}
    episodes = L.vote_episodes(CoalitionModel(load_dataset(spec["data"]["path"] or None), spec).model_data)
    if args.episode not in episodes:
        print(f"loeo_fit_diagnosis: {args.episode!r} is not an episode with votes ({', '.join(episodes)})", file=sys.stderr)
        return 1
    i = episodes.index(args.episode)
    # what a kept posterior is the fit of: read back only for the same spec file, variant, episode and fit settings
    fit_of = {"spec": str(Path(args.spec).resolve()), "variant": args.variant, "episode": args.episode,
              "seed": args.seed + i, "draws": args.draws, "tune": args.tune, "chains": args.chains}
    if args.posterior is not None and args.posterior.is_file():
        from bayes_coalition.validation.backtest import weighted_model

        idata = _arviz.from_netcdf(args.posterior, groups=["posterior"])
        kept = {k: idata.posterior.attrs.get(k) for k in fit_of}
        if kept != fit_of:
            print(f"loeo_fit_diagnosis: {args.posterior} is the posterior of {kept}, not of {fit_of}: give another "
                  f"--posterior file (or remove it to refit)", file=sys.stderr)
            return 1
        _, model, fits = weighted_model(spec, None)
        print(f"{args.variant} without {args.episode}: the posterior of {args.posterior} (not refitted)")
    else:
        _, model, fits, idata, _, row = L._episode_fit(spec, None, args.episode, i, seed=args.seed, draws=args.draws,
                                                       chains=args.chains, tune=args.tune, refit=False, cores=1)
        print(f"{args.variant} without {args.episode} (seed {args.seed + i}): {row}")
        if args.posterior is not None:
            _arviz.to_netcdf(_arviz.inference_data(posterior=idata.posterior.assign_attrs(fit_of)), args.posterior)
            print(f"wrote the posterior to {args.posterior}")
    for w in worst_rhat(idata):
        print(f"  R-hat {w['rhat']:.3f}  {w['name']} {w['coords']}  chain means "
              + " ".join(f"{m:+.3f}" for m in w["chain_means"]))
    post = idata.posterior
    loglik = L.VoteLogLik(fits.pm_model)                  # built once: the joint, the replicates and the rows use it
    weights = L.held_out_weights(model.model_data, args.episode)
    lp = np.asarray(loglik(post, weights))
    e = chain_elpd(lp.reshape(post.sizes["chain"], post.sizes["draw"]))
    print(f"held-out elpd {e['pooled']:.2f}; per chain " + ", ".join(f"{x:.2f}" for x in e["per_chain"])
          + f"; Pareto k-hat of its draws {_arviz.pareto_khat(lp):.2f}")
    own = L.episode_own_effects(model.model_data, args.episode, post)
    if args.replicates:
        for name, idx in own.items():
            x = np.moveaxis(post[name].values, 2 + L.own_axis(post, name), -1)[..., idx]
            print(f"  {name} of the episode (posterior, prior N(0, 1)): mean {x.mean():+.3f}, sd {x.std():.3f}")
        r = replicated_elpd(loglik, post, weights, own, args.replicates, args.seed)
        print(f"held-out elpd with {args.replicates} fresh draws of the episode's own effects per draw {r['elpd']:.2f}; "
              f"per chain " + ", ".join(f"{x:.2f}" for x in r["per_chain"]) + f"; Pareto k-hat {r['khat']:.2f}")
    if args.integrated:
        import time

        t0 = time.perf_counter()
        g = L.integrated_elpd(loglik, post, weights, own, max_draws=args.integrated, seed=args.seed,
                              particles=args.particles, final_particles=args.final_particles,
                              tie=() if args.untied else L.tied_walks(model.model_data, args.episode, own))
        print(f"held-out elpd with the episode's own effects integrated out per draw ({g['n_draws']} draws, "
              f"{g['dim']} effects, {time.perf_counter() - t0:.0f} s): {g['elpd']:.2f} (MCSE {g['mcse']:.2f}); "
              f"per chain " + ", ".join(f"{x:.2f}" for x in g["per_chain"]) + f"; Pareto k-hat over draws "
              f"{g['khat']:.2f}; inner k-hat max {g['draw_khat_max']:.2f} ({g['draws_khat_above']} draws above {L.ELPD_KHAT_BAR:g}), "
              f"inner MCSE max {g['draw_mcse_max']:.3f}, unfinished {g['unfinished']}")
    if args.rows:
        labels = {"obs_weight": list(post.coords["obs"].values) if "obs" in post.coords else model.model_data.coords["obs"],
                  "interval_weight": model.model_data.coords["interval_obs"]}
        rows = row_elpd(loglik, post, weights, labels)
        for label, v, k in rows:
            print(f"  row {label:28s} elpd {v:8.3f}  k-hat {k:5.2f}")
        print(f"  sum of the rows' own elpd {sum(v for _, v, _ in rows):.2f}")
        eff = post["effect"].mean(("chain", "draw"))
        print("  effect (posterior mean): " + ", ".join(f"{c} {float(eff.sel(construct=c)):+.3f}"
                                                       for c in eff.coords["construct"].values))
        shift = post["episode_effect"].sel(episode=args.episode)
        print(f"  episode_effect[{args.episode}] (the left-out episode's approval shift): mean {float(shift.mean()):+.3f}, "
              f"sd {float(shift.std()):.3f}")
        if "construct_latent" in post:
            for lab in post.coords["latent"].values:
                if str(lab).startswith(args.episode + ":"):
                    x = post["construct_latent"].sel(latent=lab)
                    print(f"  construct_latent[{lab}] mean {float(x.mean()):+.3f}, sd {float(x.std()):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
