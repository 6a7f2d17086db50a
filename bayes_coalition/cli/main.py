"""The ``bayes-coalition`` command line: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bayes_coalition._io import dumps
from bayes_coalition.constants import PREDICTIVE_PROB, SUMMARY_PROB
from bayes_coalition.errors import DataValidationError


def _fmt_p(x) -> str:
    import pandas as pd

    return "   -  " if pd.isna(x) else f"{x:6.3f}"


def print_approval(table, out=None) -> None:
    import pandas as pd

    out = out or sys.stdout
    prob = table.attrs.get("prob", PREDICTIVE_PROB)
    print(f"\nP(threshold reached) per case, with the {prob:.0%} predictive interval of the yea count:", file=out)
    print(f"{'case':24s} {'chamber':7s} {'p_pass':>6s}  {'yea interval':>13s} {'observed':>8s}  outcome", file=out)
    for r in table.itertuples():
        obs = "  -" if pd.isna(r.observed_yea) else f"{int(r.observed_yea):5d}"
        passed = "withdrawn/none" if pd.isna(r.observed_passed) else ("passed" if r.observed_passed else "failed")
        print(f"{r.case_id:24s} {r.chamber:7s} {_fmt_p(r.p_pass)}  [{r.yea_lower:5.0f},{r.yea_upper:5.0f}]   {obs:>5s}  {passed}", file=out)


def cmd_data(args) -> int:
    from bayes_coalition.data.dataset import load_dataset

    ds = load_dataset(args.path)
    print(ds.summary())
    return 0


def cmd_fit(args) -> int:
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.coalition.spec import load_spec
    from bayes_coalition.diagnostics import verdict
    from bayes_coalition.report.run_dir import write_coalition_run

    spec = load_spec(args.spec)
    name = spec["model"]["name"]
    out = Path(args.out) if args.out else Path("reports") / name
    out.mkdir(parents=True, exist_ok=True)
    model = CoalitionModel(spec=spec)
    print(model.dataset.summary())
    if args.prior_only:
        return _write_prior(model, out, args)
    s = spec["sampler"]
    draws = args.draws or s["draws"]
    chains = args.chains or s["chains"]
    print(f"\nfitting {name} (model id {model.id}): {chains} chains x {draws} draws, seed "
          f"{args.seed if args.seed is not None else s['random_seed']}, sampler {args.sampler or s['sampler']}", flush=True)
    t0 = time.perf_counter()
    model.fit(random_seed=args.seed, sampler=args.sampler, draws=args.draws, chains=args.chains,
              tune=args.tune, progressbar=not args.quiet)
    written = write_coalition_run(model, out, wall_seconds=time.perf_counter() - t0)
    diag = written.diagnostics
    print_approval(written.approval)
    status, reasons = verdict(diag)
    print(f"\nconvergence: {status}" + (" (" + "; ".join(reasons) + ")" if reasons else "") +
          f" | max R-hat {diag['max_rhat']:.3f}, min ESS bulk {diag['min_ess_bulk']:.0f} / tail {diag['min_ess_tail']:.0f}, "
          f"divergences {diag['divergences']}, min BFMI {diag['min_bfmi']:.2f}")
    if not args.no_report:
        _report(out)
    print(f"wrote {out}/ ({', '.join(written.files[:4])}, ...) in {diag['wall_seconds']:.0f} s")
    return 0


def _report(run_dir: Path) -> None:
    import warnings

    from bayes_coalition.report import ReportSectionWarning, report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReportSectionWarning)   # printed below, once
        result = report(run_dir, run_dir)
    print(f"report: {result}")
    for err in result.errors:
        print(f"warning: report section failed: {err}", file=sys.stderr)


def _write_prior(model, out: Path, args) -> int:
    from bayes_coalition.report.run_dir import write_prior_run

    table, summary = write_prior_run(model, out, draws=args.draws or 500, seed=args.seed)
    print(f"\nprior predictive yea shares ({summary['draws']} draws): median of row medians {summary['median_share']:.2f}, "
          f"mean 90% width {summary['mean_width_90']:.2f}; observed shares inside the prior 90% interval: "
          f"{summary['observed_inside_90']:.0%}")
    print(f"wrote {out}/prior.nc and prior_predictive.csv")
    return 0


def cmd_predict(args) -> int:
    from bayes_coalition.prediction.bills import load_bill

    bill = load_bill(args.bill)            # a malformed bill fails here, before any posterior is read
    from bayes_coalition.coalition.model import CoalitionModel
    from bayes_coalition.prediction.predict import decimals, summary_dict
    from bayes_coalition.report.checks import out_of_sample_record
    from bayes_coalition.report.run_dir import find_backtest, validation_dirs

    model = CoalitionModel.load(args.run_dir, groups=("posterior",))
    bill.validate(model.dataset)
    ds = model.predict(bill, seed=args.seed, prob=args.prob)
    summary = summary_dict(ds)
    drivers = model.drivers(bill, seed=args.seed)
    summary["drivers"] = drivers.to_dict(orient="records")
    summary["drivers_rule"] = drivers.attrs["rule"]
    summary["warnings"] = model.caveats()
    run = Path(args.run_dir)
    run = run if run.is_dir() else run.parent
    folder = Path(args.backtest) if args.backtest else validation_dirs(run, model.spec["model"]["name"])["backtest"]
    _, scores, where = find_backtest(folder, model.id, shipped=not args.backtest)
    summary["out_of_sample"] = out_of_sample_record(scores, where)
    if args.json:
        print(dumps(summary))
        return 0
    print(f"{bill.name}" + (f" (like {bill.like})" if bill.like else " (new episode: case effects drawn from their priors)"))
    for w in summary["warnings"]:
        print(f"  warning: {w}")
    for note in summary["notes"]:
        print(f"  note: {note}")
    oos = summary["out_of_sample"]
    here = f"{Path.cwd()}{os.sep}"            # paths below the working directory are printed relative to it
    if oos["backtest"] is None:
        print(f"  out of sample: {oos['note'].replace(here, '')}")
    else:
        print(f"  out of sample ({oos['n_votes']} votes, {oos['backtest'].replace(here, '')}): "
              f"{oos['verdict'].removeprefix('Verdict: ')}")
    print(f"  {summary['draws']} posterior draws, seed {summary['seed']}; P = posterior mean +/- Monte Carlo standard error")
    print(f"  {'':10s} {'P':>14s}   {summary['interval_prob']:.0%} interval*")
    for key, label in (("p_house", "House"), ("p_senate", "Senate"), ("p_enacted", "enacted")):
        v = summary[key]
        d = v["decimals"]
        print(f"  {label:10s} {v['mean']:.{d}f} +/- {v['mcse']:.1g}   [{v['lower']:.2f}, {v['upper']:.2f}]")
    print(f"  * {summary['interval']}")
    if "party_line" in summary:
        pl = summary["party_line"]
        print(f"  party-line baseline (the parties' yea rates on the data's votes with this bill's seats and rules; its "
              f"codes play no part): House {pl['house']['mean']:.2f}, Senate {pl['senate']['mean']:.2f}")
    if summary.get("agenda_control"):
        fl = "; ".join(f"{ch.capitalize()} {summary[f'p_floor_{ch}']['mean']:.2f}" for ch in ("house", "senate"))
        print(f"  agenda control: P is P(passes | the vote is held), yea counts are those of a held vote; P(held): {fl}")
    if summary.get("vote_buying"):
        print("  vote buying: P includes the votes bought up to the threshold when a few yeas short; yea counts are after buying")
    if "p_minimum_winning" in summary:
        k = summary["minimum_winning_margin"]
        for ch in ("house", "senate"):
            c = {cls: summary[f"p_{cls}"][ch]["mean"] for cls in ("minimum_winning", "oversized", "deadlock")}
            print(f"  {ch.capitalize():7s} minimum winning (margin <= {k}) {c['minimum_winning']:.2f}, oversized "
                  f"{c['oversized']:.2f}, deadlock (fails or never held) {c['deadlock']:.2f}")
    for ch in ("house", "senate"):
        v = summary[f"yea_{ch}"]
        print(f"  yea {ch:6s} {v['mean']:6.1f}   [{v['lower']:.0f}, {v['upper']:.0f}]")
    top = sorted(summary["pivotal"].items(), key=lambda kv: -kv[1])[:4]
    print("  most likely pivotal (De Swaan, either chamber): " + ", ".join(f"{a} {p:.2f}" for a, p in top))
    ranked = drivers[drivers["ranked"]]
    if ranked.empty:
        print(f"  no indicator moves P(enacted) by more than 2 Monte Carlo standard errors ({drivers.attrs['draws']} draws)")
    else:
        print("  what moves P(enacted) most (lowest -> highest level; effect +/- MCSE; * = tied with the top at 2 MCSE):")
        for r in ranked.head(max(3, int(ranked["tied_with_top"].sum()))).itertuples():
            d = decimals(r.effect_mcse)
            print(f"   {'*' if r.tied_with_top else ' '}{r.indicator:40s} {r.p_lowest_level:.{d}f} -> {r.p_highest_level:.{d}f}"
                  f"  ({r.effect:+.{d}f} +/- {r.effect_mcse:.1g})")
    return 0


def parse_vary(items: list[str]) -> dict:
    """``--vary stage.indicator=0,1,2`` (repeatable) as the ``vary`` mapping of a sweep."""
    from bayes_coalition.errors import DataValidationError

    vary = {}
    for item in items:
        key, sep, levels = item.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            vary[key.strip()] = [int(v) for v in levels.split(",")]
        except ValueError:
            raise DataValidationError(f"--vary {item!r}: expected stage.indicator=LEVEL,LEVEL,... "
                                      "(e.g. voting.polarization=0,1,2)") from None
    return vary


def cmd_sweep(args) -> int:
    from bayes_coalition.prediction.batch import sweep_batch
    from bayes_coalition.prediction.bills import load_bill

    bill = load_bill(args.bill)            # a malformed bill fails here, before any posterior is read
    vary = parse_vary(args.vary)
    with make_executor(args) as ex:
        table = sweep_batch(args.run_dir, bill, vary, seed=args.seed, max_draws=args.max_draws, chunk=args.chunk,
                            executor=ex, progress=args.workers is not None and args.workers > 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    lo, hi = table["p_enacted"].idxmin(), table["p_enacted"].idxmax()
    keys = list(table.columns[: len(vary)])
    show = lambda i: ", ".join(f"{k}={table.loc[i, k]}" for k in keys)
    print(f"{len(table)} bills ({' x '.join(str(len(v)) for v in vary.values())} levels), {table.attrs.get('draws')} draws, "
          f"seed {args.seed}")
    print(f"  lowest P(enacted) {table.loc[lo, 'p_enacted']:.3f} +/- {table.loc[lo, 'p_enacted_mcse']:.1g} at {show(lo)}")
    print(f"  highest P(enacted) {table.loc[hi, 'p_enacted']:.3f} +/- {table.loc[hi, 'p_enacted_mcse']:.1g} at {show(hi)}")
    print(f"wrote {out}")
    return 0


def cmd_sbc(args) -> int:
    from bayes_coalition.validation import sbc

    t0 = time.perf_counter()
    common = dict(draws=args.draws, tune=args.tune, chains=args.chains, n_keep=args.keep)
    if args.ideal_points:
        out = Path(args.out) if args.out else Path("reports") / "ideal_points_sbc"
        settings = sbc.start(out, dict(seed=args.seed, **common, model="ideal_points", n_legislators=args.legislators,
                                       n_rollcalls=args.rollcalls, missing=args.missing))
        with make_executor(args) as ex:
            ranks = sbc.run_ideal_point_sbc(args.sims, seed=args.seed, out_dir=out, n_legislators=args.legislators,
                                            n_rollcalls=args.rollcalls, missing=args.missing, executor=ex, **common)
    else:
        if not args.spec:
            raise ValueError("sbc: give a SPEC.toml (or --ideal-points)")
        from bayes_coalition.coalition.spec import load_spec

        spec = load_spec(args.spec)
        if args.agenda_layer and args.buying_layer:
            raise ValueError("sbc: give --agenda-layer or --buying-layer, not both")
        if args.agenda_layer or args.buying_layer:      # a strategic layer's own SBC, the count model held fixed
            if args.agenda_layer:
                from bayes_coalition.validation.agenda_sbc import run_agenda_sbc as run
            else:
                from bayes_coalition.validation.buying_sbc import run_buying_sbc as run
            layer = "agenda" if args.agenda_layer else "buying"
            out = Path(args.out) if args.out else Path("reports") / f"{spec['model']['name']}_{layer}_sbc"
            settings = sbc.start(out, dict(seed=args.seed, **common, model=f"{layer}_layer", spec=str(args.spec)))
            with make_executor(args) as ex:
                ranks = run(spec, args.sims, seed=args.seed, out_dir=out, executor=ex, **common)
            return _sbc_summary(out, ranks, args, settings, t0)
        out = Path(args.out) if args.out else Path("reports") / f"{spec['model']['name']}_sbc"
        settings = sbc.start(out, sbc.coalition_settings(spec, args.spec, seed=args.seed, **common))
        with make_executor(args) as ex:
            ranks = sbc.run_coalition_sbc(spec, args.sims, seed=args.seed, out_dir=out, sampler=args.sampler, executor=ex,
                                          **common)
    return _sbc_summary(out, ranks, args, settings, t0)


def _sbc_summary(out, ranks, args, settings, t0) -> int:
    from bayes_coalition.validation import sbc

    summary = sbc.finish(out, ranks, args.sims, settings, seconds=time.perf_counter() - t0)
    for group, v in summary["groups"].items():
        print(f"{group:24s} p = {v['p_value']:.3f}, ECDF p = {v['ecdf_p_value']:.3f}  ({v['n_scalars']} scalars, "
              f"{v.get('n_distinct', v['n_scalars'])} distinct; {v['n_simulations']} simulations; worst {v['worst_scalar']} p = {v['min_scalar_p']:.4f})")
    print(f"verdict at the {summary['level']:.0%} level: {summary['verdict']} (chi-square), {summary['ecdf_verdict']} "
          f"(ECDF difference); "
          f"{summary['wall_seconds_this_call']:.0f} s this call; wrote {out}/sbc.csv, sbc_fits.csv, sbc.json")
    return 0


def _spec_and_out(args, suffix: str) -> tuple[dict, Path]:
    """The spec of ``args.spec`` and the output folder (``--out``, else ``reports/<spec name><suffix>``), created."""
    from bayes_coalition.coalition.spec import load_spec

    spec = load_spec(args.spec)
    out = Path(args.out) if args.out else Path("reports") / f"{spec['model']['name']}{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    return spec, out


def cmd_backtest(args) -> int:
    from bayes_coalition._io import write_json
    from bayes_coalition.report.checks import backtest_verdict
    from bayes_coalition.validation.backtest import backtest, backtest_scores, largest_losses, rows_outside

    spec, out = _spec_and_out(args, "_backtest")
    with make_executor(args) as ex:
        result = backtest(spec, args.origins or None, seed=args.seed, draws=args.draws, chains=args.chains,
                          tune=args.tune, sampler=args.sampler, refit=not args.no_refit,
                          same_episode=not args.episode_blind, executor=ex, checkpoint=out / "origins")
    result.votes.to_csv(out / "backtest.csv", index=False)
    result.party_rows.to_csv(out / "backtest_party_rows.csv", index=False)
    result.fits.to_csv(out / "backtest_fits.csv", index=False)
    scores = backtest_scores(result)
    write_json(out / "backtest.json", scores)
    for name in ("model", "party_line", "majority"):
        print(f"{name:11s} Brier {scores[name]['brier']:.3f}   log score {scores[name]['log_score']:.3f}")
    for base in ("party_line", "majority"):
        d = scores[f"model_minus_{base}"]
        print(f"model - {base:10s} Brier {d['brier']['difference']:+.3f} [{d['brier']['interval_95'][0]:+.3f}, "
              f"{d['brier']['interval_95'][1]:+.3f}]   log score {d['log_score']['difference']:+.3f} "
              f"[{d['log_score']['interval_95'][0]:+.3f}, {d['log_score']['interval_95'][1]:+.3f}]   "
              f"(95% over {d['n_clusters']} episodes)")
    print(f"P(model's Brier below the party line's) = {scores['p_model_better_brier']:.3f} (bootstrap over episodes)")
    if scores["coverage_90"] is not None:
        print(f"party-row interval coverage over {scores['n_party_rows']} rows: 50% -> {scores['coverage_50']:.3f}, "
              f"90% -> {scores['coverage_90']:.3f}")
    worst = largest_losses(result.votes)
    if len(worst):
        print("largest losses to the party line (vote: observed, model P, party-line P, squared-error gap): "
              + "; ".join(f"{r.case_id}: {'carried' if r.observed_passed else 'failed'}, {r.p_pass:.2f}, "
                          f"{r.p_party_line:.2f}, {r.brier_loss:+.3f}" for r in worst.itertuples()))
    outside = rows_outside(result.party_rows, 90) if len(result.party_rows) else result.party_rows
    if len(outside):
        print(f"party rows outside their 90% interval ({len(outside)}): "
              + ", ".join(f"{r.case_id} {r.party} {r.observed_yea_share:.2f} ({r.side})" for r in outside.itertuples()))
    bad = scores["unconverged_fits"]
    print(f"origin fits: {scores['n_fits']} ({scores['refitted_fits']} refitted; {len(bad)} unconverged"
          + (": " + ", ".join(f"{b['origin']} R-hat {b['max_rhat']:.3f}, {b['divergences']} div." for b in bad) if bad else "")
          + ")")
    print("verdict: " + backtest_verdict(scores).line.removeprefix("Verdict: "))
    print(f"wrote {out}/backtest.json, backtest.csv, backtest_party_rows.csv, backtest_fits.csv ({scores['n_votes']} votes)")
    return 0


def cmd_loeo(args) -> int:
    from bayes_coalition._io import write_json
    from bayes_coalition.report.checks import elpd_difference_reading, loeo_reliability_phrases
    from bayes_coalition.validation.loeo import loeo

    spec, out = _spec_and_out(args, "_hypotheses")
    if args.votes:
        return _loeo_votes(args, spec, out)
    with make_executor(args) as ex:
        res = loeo(spec, episodes=args.episodes or None, seed=args.seed, draws=args.draws, chains=args.chains,
                   tune=args.tune, sampler=args.sampler, refit=not args.no_refit, executor=ex,
                   checkpoint=out / "episodes", integrated=args.integrated)
    votes = res.pop("votes")
    write_json(out / "loeo.json", res)
    print("leave-one-episode-out elpd: " + ", ".join(f"{k} {v:.1f}" for k, v in res["elpd"].items()))
    for name, d in res["differences"].items():
        reading = elpd_difference_reading(d["elpd_diff"], d["se"], name.removeprefix("full_minus_without_")).line
        print(f"  {name:24s} elpd difference {d['elpd_diff']:+.2f} (SE {d['se']:.2f}) over {d['n_episodes']} episodes "
              f"(positive favours the full model): {reading}")
    _print_converged_differences(res.get("converged_differences"))
    for phrase in loeo_reliability_phrases(res.get("reliability"), len(res["fits"])):
        print("  Monte Carlo check: " + phrase)
    written = "loeo.json"
    if len(votes):
        votes.to_csv(out / "loeo_votes.csv", index=False)
        written += ", loeo_votes.csv (the full model's predictions of each left-out episode's votes)"
        _print_vote_scores(res["vote_summary"], "the full model's left-out votes: ")
    bad = res["unconverged_fits"]
    print(f"fits: {len(res['fits'])}, unconverged{' after a refit' if res['settings'].get('refit') else ' (no refits)'}: {len(bad)}"
          + (" (" + ", ".join(f"{b['variant']} without {b['episode']} R-hat {b['max_rhat']:.3f}" for b in bad) + ")" if bad else ""))
    print(f"wrote {out}/{written}")
    return 0


def _print_converged_differences(sens: dict | None) -> None:
    """The elpd differences over the episodes whose fits reached the looser R-hat bar, when that drops any."""
    for name, d in (sens or {}).get("differences", {}).items():
        if d["dropped"]:
            print(f"  {name:24s} over the {d['n_episodes']} episodes whose fits reached R-hat <= {sens['max_rhat']:g}: "
                  f"{d['elpd_diff']:+.2f} (SE {d['se']:.2f}); dropped {', '.join(d['dropped'])}")


def _print_vote_scores(summary: dict, prefix: str = "") -> None:
    """The two figures of issue 14's leave-one-episode-out check, one line each (``validation.loeo.vote_score_phrases``)."""
    from bayes_coalition.validation.loeo import vote_score_phrases

    for phrase in vote_score_phrases(summary):
        print(prefix + phrase)


def _loeo_votes(args, spec, out) -> int:
    from bayes_coalition._io import write_json
    from bayes_coalition.validation.loeo import loeo_votes

    with make_executor(args) as ex:
        res = loeo_votes(spec, episodes=args.episodes or None, seed=args.seed, draws=args.draws, chains=args.chains,
                         tune=args.tune, sampler=args.sampler, refit=not args.no_refit, executor=ex,
                         checkpoint=out / "episodes")
    res["votes"].to_csv(out / "loeo_votes.csv", index=False)
    write_json(out / "loeo_votes.json", {k: v for k, v in res.items() if k != "votes"})
    _print_vote_scores(res["summary"])
    bad = res["unconverged_fits"]
    print(f"fits: {len(res['fits'])}, unconverged: {len(bad)}"
          + (" (" + ", ".join(f"without {b['episode']} R-hat {b['max_rhat']:.3f}" for b in bad) + ")" if bad else ""))
    print(f"wrote {out}/loeo_votes.csv, loeo_votes.json")
    return 0


def cmd_compare(args) -> int:
    from bayes_coalition._io import write_json
    from bayes_coalition.report.checks import LOO_UNTRUSTED, loo_reliability_counts
    from bayes_coalition.validation.compare import compare_hypotheses

    spec, out = _spec_and_out(args, "_hypotheses")
    res = compare_hypotheses(spec, seed=args.seed, draws=args.draws, chains=args.chains, tune=args.tune)
    write_json(out / "hypotheses_comparison.json", res)
    verdicts = {k: loo_reliability_counts(v["pareto_k_above_0.7"], v["n"], v.get("pareto_k_above_1"))
                for k, v in res["loo"].items()}
    if all(c.ok for c in verdicts.values()):
        print("PSIS-LOO (elpd, se; Pareto k > 0.7 of n):")
        for k, v in res["loo"].items():
            print(f"  {k:12s} {v['elpd']:9.1f} {v['se']:7.1f}   k>0.7: {v['pareto_k_above_0.7']}/{v['n']}")
        for row in res["comparison"]:
            print(f"  {row['model']:12s} elpd_diff {row['elpd_diff']:7.2f}  dse {row['dse']:6.2f}")
    else:
        # the numbers stay in the JSON; an ELPD difference of unreliable PSIS-LOO estimates is not printed
        counts = {k: c.line.removesuffix(LOO_UNTRUSTED) for k, c in verdicts.items()}
        print("PSIS-LOO: " + "; ".join(f"{k} {line}" for k, line in counts.items()))
        print("  the ELPD comparison is not printed (PSIS-LOO cannot be trusted here); compare H1/H2 out of sample "
              "with `bayes-coalition loeo`")
    print("P(hypothesised sign) by construct:")
    for label, probs in res["p_hypothesised_sign"].items():
        print(f"  {label:20s} " + "  ".join(f"{c} {p:.2f}" for c, p in probs.items()))
    print("convergence of each fit:")
    for label, d in res["diagnostics"].items():
        print(f"  {label:20s} max R-hat {d['max_rhat']:.4f}, min ESS bulk {d['min_ess_bulk']:.0f} / tail {d['min_ess_tail']:.0f}, "
              f"divergences {d['divergences']}, min BFMI {d['min_bfmi']:.2f}")
    print(f"wrote {out}/hypotheses_comparison.json")
    return 0


HELP = argparse.ArgumentDefaultsHelpFormatter   # every option's help shows its default


SPEC_HELP = "model spec TOML (e.g. models/trade_coalition.toml)"


def batch_options(p, folder: str, seed_help: str, fits: str) -> None:
    """The options every batch of fits shares (backtest, loeo): the spec, the output folder, the seed, the
    sampler and the refit switch."""
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument("--out", help=f"output directory (default: reports/<spec name>_{folder}/)")
    p.add_argument("--seed", type=int, default=1, help=f"random seed ({seed_help})")
    p.add_argument("--sampler", default=None, help=f"sampler of the {fits} (default: the spec's)")
    p.add_argument("--no-refit", action="store_true",
                   help="do not refit a fit that misses the convergence bar (by default it is refitted once with three times "
                        "the tuning, twice the draws and target acceptance 0.95; it is listed as unconverged either way)")
    worker_options(p)


def worker_options(p) -> None:
    """--workers, --scheduler and --cores-per-worker of a batch command (bayes_coalition.parallel)."""
    p.add_argument("--workers", type=int, default=None,
                   help="run the batch's tasks on a local Dask cluster of N worker processes, one core each (1: in this "
                        "process on one core; default: in this process, a fit's chains on up to 2 cores); needs "
                        'pip install -e ".[distributed]" for N > 1')
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the tasks on an existing Dask cluster (e.g. tcp://10.0.0.5:8786)")
    p.add_argument("--cores-per-worker", type=int, default=None,
                   help="chains of one fit run at once on a worker (default 1 with workers)")


def make_executor(args):
    """The executor of --workers / --scheduler / --cores-per-worker (bayes_coalition.parallel.executor)."""
    from bayes_coalition.parallel import executor

    return executor(args.workers, scheduler=args.scheduler, cores_per_worker=args.cores_per_worker)


def sampling_options(parser, *, draws, chains, tune, per: str) -> None:
    """--draws, --chains and --tune of a command that runs fits."""
    parser.add_argument("--draws", type=int, default=draws, help=f"posterior draws per chain {per}")
    parser.add_argument("--chains", type=int, default=chains, help=f"chains {per}")
    parser.add_argument("--tune", type=int, default=tune, help=f"tuning steps per chain {per}")


def build_parser() -> argparse.ArgumentParser:
    from bayes_coalition import __version__

    p = argparse.ArgumentParser(prog="bayes-coalition", description="Bayesian coalition analysis of US trade policymaking",
                                formatter_class=HELP)
    p.add_argument("--version", action="version", version=f"bayes-coalition {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    add = lambda name, text: sub.add_parser(name, help=text, description=text, formatter_class=HELP)

    d = add("data", "validate and summarise a data directory")
    d.add_argument("path", nargs="?", default=None, help="data directory (default: the shipped data/)")
    d.set_defaults(func=cmd_data)

    spec_help = SPEC_HELP
    for name, prior_only in (("fit", False), ("prior", True)):
        f = add(name, "fit a model spec and write its run directory" if name == "fit" else "prior predictive check of a spec")
        f.add_argument("spec", help=spec_help)
        f.add_argument("--out", help="output directory (default: reports/<spec name>/)")
        f.add_argument("--seed", type=int, default=None, help="random seed (default: the spec's sampler.random_seed)")
        f.add_argument("--sampler", choices=["auto", "pymc", "nutpie", "numpyro", "blackjax"], default=None,
                       help="NUTS implementation (default: the spec's; auto = nutpie when installed)")
        f.add_argument("--draws", type=int, default=None,
                       help="posterior draws per chain (default: the spec's); with prior: prior draws (default 500)")
        f.add_argument("--tune", type=int, default=None, help="tuning steps per chain (default: the spec's)")
        f.add_argument("--chains", type=int, default=None, help="chains (default: the spec's)")
        f.add_argument("--quiet", action="store_true", help="no progress bar")
        f.add_argument("--no-report", action="store_true", help="skip report.html")
        if not prior_only:
            f.add_argument("--prior-only", action="store_true", help="prior predictive check instead of fitting")
        f.set_defaults(func=cmd_fit, prior_only=prior_only)

    pr = add("predict", "approval probabilities of a hypothetical bill from a saved run")
    pr.add_argument("run_dir", help="run directory (with posterior.nc) or the posterior.nc file")
    pr.add_argument("bill", help="bill TOML (see bills/ and the bill schema in README.md)")
    pr.add_argument("--json", action="store_true", help="emit JSON (keys documented in README.md)")
    pr.add_argument("--seed", type=int, default=0, help="seed of the bill's case-effect and count draws")
    pr.add_argument("--prob", type=float, default=SUMMARY_PROB, help="probability of the intervals")
    pr.add_argument("--backtest", help="the spec's backtest folder, whose verdict is reported when it scored this run's "
                                        "model (default: <spec name>_backtest beside the run directory, where `backtest` writes it, else the "
                                        "record shipped in models/backtests/ when it is of the same model)")
    pr.set_defaults(func=cmd_predict)

    sb = add("sbc", "simulation-based calibration of a spec, or of the ideal-point model (resumable)")
    sb.add_argument("spec", nargs="?", help="model spec TOML (not needed with --ideal-points)")
    sb.add_argument("--sims", type=int, required=True, help="number of simulations")
    sb.add_argument("--seed", type=int, default=1, help="master seed of the simulations")
    sb.add_argument("--out", help="output directory (default: reports/<spec name>_sbc/ or reports/ideal_points_sbc/)")
    sampling_options(sb, draws=1000, chains=2, tune=700, per="per simulation")
    sb.add_argument("--keep", type=int, default=99, help="thinned draws ranked per simulation (ranks 0..keep)")
    sb.add_argument("--ideal-points", action="store_true", help="calibrate the member-level model on a synthetic matrix")
    sb.add_argument("--agenda-layer", action="store_true",
                    help="calibrate the agenda-control layer's parameters on the spec's held and withdrawn votes, the "
                         "count model held fixed (bayes_coalition/validation/agenda_sbc.py)")
    sb.add_argument("--buying-layer", action="store_true",
                    help="calibrate the vote-buying layer's parameters on the spec's leadership-controlled votes, the "
                         "count model held fixed (bayes_coalition/validation/buying_sbc.py)")
    sb.add_argument("--legislators", type=int, default=20, help="--ideal-points: legislators in the synthetic matrix")
    sb.add_argument("--rollcalls", type=int, default=40, help="--ideal-points: roll calls in the synthetic matrix")
    sb.add_argument("--missing", type=float, default=0.1, help="--ideal-points: share of cells missing at random")
    sb.add_argument("--sampler", default=None, help="sampler of the fits (default: nutpie when installed, else pymc)")
    worker_options(sb)
    sb.set_defaults(func=cmd_sbc)

    bt = add("backtest", "rolling-origin backtest on the shipped votes (resumable: each finished origin is kept in OUT/origins/)")
    batch_options(bt, "backtest", "the fit at the i-th origin uses seed + i", "origin fits")
    bt.add_argument("--origins", nargs="*",
                    help="origin dates (2015-06-12) or years (2016 = 2016-01-01); each vote is predicted once, by the fit on "
                         "every vote dated before the latest origin not after it (default: every date from 1996 with a "
                         "decided vote, so each vote is predicted by the fit on all earlier votes)")
    bt.add_argument("--episode-blind", action="store_true",
                    help="predict every vote of an episode as of its first vote: by the fit on the votes before the "
                         "episode and the codes dated before it (default: a later vote of an episode sees the "
                         "episode's earlier votes and codes)")
    sampling_options(bt, draws=500, chains=4, tune=1000, per="per fit")
    bt.set_defaults(func=cmd_backtest)

    sw = add("sweep", "P(House), P(Senate), P(enacted) with MCSEs over a grid of a bill's indicator levels")
    sw.add_argument("run_dir", help="a fitted run (directory or its posterior.nc)")
    sw.add_argument("bill", help="the base bill (TOML)")
    sw.add_argument("--vary", action="append", required=True, metavar="STAGE.INDICATOR=L1,L2,...",
                    help="levels of one indicator (repeat for a grid, e.g. --vary voting.polarization=0,1,2)")
    sw.add_argument("--out", default="sweep.csv", help="output CSV")
    sw.add_argument("--seed", type=int, default=0, help="seed of the bills' case effects (common to the grid)")
    sw.add_argument("--max-draws", type=int, default=None, help="use at most this many posterior draws")
    sw.add_argument("--chunk", type=int, default=1000, help="bills per task")
    worker_options(sw)
    sw.set_defaults(func=cmd_sweep)

    lo = add("loeo", "H1/H2: leave-one-episode-out elpd of the full model and the models without H1 and without H2 "
                     "(resumable: each finished fit is kept in OUT/episodes/)")
    batch_options(lo, "hypotheses", "the i-th episode's fit uses seed + i", "fits")
    lo.add_argument("--episodes", nargs="*", help="episodes to leave out (default: every episode with vote rows)")
    lo.add_argument("--votes", action="store_true",
                    help="predict each left-out episode's votes with the spec as given (P(pass), P(floor), P(deadlock); "
                         "the near-threshold and failed-or-withdrawn scores) instead of the H1/H2 elpd comparison")
    lo.add_argument("--integrated", type=int, default=0, metavar="DRAWS",
                    help="also score each held-out episode with its own effects integrated out per posterior draw, on "
                         "this many draws (validation.loeo.integrated_elpd; about 2.5 min per fit at 500), and give the "
                         "differences on that score")
    sampling_options(lo, draws=500, chains=2, tune=800, per="per fit")
    lo.set_defaults(func=cmd_loeo)

    cp = add("compare", "H1/H2: LOO of nested models and sensitivity of the hypotheses")
    cp.add_argument("spec", help=spec_help)
    cp.add_argument("--out", help="output directory (default: reports/<spec name>_hypotheses/)")
    cp.add_argument("--seed", type=int, default=1, help="random seed of every fit")
    sampling_options(cp, draws=None, chains=None, tune=None, per="(default: the spec's)")
    cp.set_defaults(func=cmd_compare)
    from bayes_coalition.cli import ideal_points as cli_ideal_points
    from bayes_coalition.cli import report as cli_report

    for module in (cli_report, cli_ideal_points):
        module.add_parser(sub, formatter_class=HELP)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DataValidationError as err:
        print(f"error: invalid data: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        from bayes_coalition.parallel import INSTALL_HINT

        if str(err) != INSTALL_HINT:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
