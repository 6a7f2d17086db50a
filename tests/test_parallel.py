"""The executor seam (bayes_coalition/parallel.py): in-process runs, the per-worker cache, the error without
Dask, and a real two-process LocalCluster whose batch equals the in-process batch, also after a worker is
killed mid-batch and the batch is rerun, and when the cluster cancels a task."""

from __future__ import annotations

from concurrent.futures import CancelledError

import pandas as pd
import pytest

from bayes_coalition import parallel
from bayes_coalition.validation.sbc import run_ideal_point_sbc
from tests.helpers import MockSamplingPlugin

SMALL = dict(n_legislators=8, n_rollcalls=12, draws=20, tune=5, n_keep=19, progress=False)


def _square(x):
    return x * x


def _unconverged(x):
    import warnings

    from bayes_coalition.errors import ConvergenceWarning

    warnings.warn(f"convergence fail: max R-hat 1.2{x} > 1.01", ConvergenceWarning, stacklevel=1)
    return x


def _cancelled_once(marker: str, x: int) -> int:
    """Cancels itself on the cluster (for every client) the first time any task runs it, as a scheduler that
    forgot a client's futures does."""
    import os
    import time

    from distributed import Future, get_client, get_worker

    if not os.path.exists(marker):
        open(marker, "w").close()
        client = get_client()
        client.cancel([Future(get_worker().get_current_task(), client)], force=True)
        time.sleep(2)
    return 2 * x


def test_in_process_executor_runs_every_task_in_order(capsys):
    ex = parallel.executor()
    assert type(ex) is parallel.Executor and ex.workers == 1 and ex.cores(4) == 2 and ex.cores(1) == 1
    assert list(ex.map(_square, [("a", (2,)), ("b", (3,))], label="t")) == [("a", 4), ("b", 9)]
    out = capsys.readouterr().out
    assert "t [############............] 1/2 tasks" in out and "2/2 tasks" in out
    # an explicit --workers 1 runs in process on one core (the benchmark's baseline)
    assert parallel.executor(1).cores(4) == 1 and parallel.executor(None, cores_per_worker=3).cores(4) == 3
    with pytest.raises(ValueError, match="at least 1"):
        parallel.executor(-1, scheduler="tcp://nowhere:1")


def _chain_draw(fit: int, chain_seed: int) -> float:
    import numpy as np

    return float(np.random.default_rng(chain_seed).normal()) + fit


def _merge(fit: int, a: float, b: float) -> tuple:
    return (fit, round(a + b, 12))


class _Pipeline:
    """Three fits of two chains each; once a fit's chains are in, its merge step is a follow-up task (the shape
    of the SBC and backtest batches)."""

    def __init__(self):
        self.parts: dict = {}

    def tasks(self):
        return [((f, c), _chain_draw, (f, s)) for f in range(3) for c, s in enumerate(parallel.chain_seeds(100 + f, 2))]

    def then(self, key, result):
        if key[0] == "merge":
            return []
        parts = self.parts.setdefault(key[0], {})
        parts[key[1]] = result
        return [(("merge", key[0]), _merge, (key[0], parts[0], parts[1]))] if len(parts) == 2 else []


def test_stream_runs_follow_ups_first_with_the_same_results_on_threads(capsys):
    """In process one at a time, a fit's follow-up runs before the chains still waiting (the order below); on
    two threads the results are the same, whatever the order they finish in; the bar counts the follow-ups."""
    ex = parallel.executor(1)
    pipe = _Pipeline()
    run = list(ex.stream(pipe.tasks(), pipe.then, label="t"))
    assert [k for k, _ in run] == [(0, 0), (0, 1), ("merge", 0), (1, 0), (1, 1), ("merge", 1), (2, 0), (2, 1),
                                   ("merge", 2)]
    assert "9/9 tasks" in capsys.readouterr().out
    pipe2 = _Pipeline()
    threaded = dict(parallel.executor(None).stream(pipe2.tasks(), pipe2.then, threads=2, progress=False))
    assert threaded == dict(run) and len(threaded) == 9
    assert dict(run)[("merge", 1)] == (1, round(dict(run)[(1, 0)] + dict(run)[(1, 1)], 12))


def test_stream_on_threads_raises_a_task_error_and_starts_nothing_new():
    calls = []

    def boom(x):
        calls.append(x)
        if x == 1:
            raise RuntimeError("task 1 failed")
        return x

    with pytest.raises(RuntimeError, match="task 1 failed"):
        list(parallel.executor(None).stream([(i, boom, (i,)) for i in range(10)], threads=2, progress=False))
    assert len(calls) < 10


def test_chain_seeds_depend_on_the_seed_alone():
    a = parallel.chain_seeds(7, 4)
    assert a == parallel.chain_seeds(7, 4) and len(set(a)) == 4 and a[:2] == parallel.chain_seeds(7, 2)
    assert a != parallel.chain_seeds(8, 4) and all(0 <= x < 2**32 for x in a)


def test_worker_cache_builds_once_under_threads():
    import threading
    import time

    parallel.clear_worker_cache()
    built = []

    def build():
        built.append(1)
        time.sleep(0.2)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(parallel.worker_cached("slow", build))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len({id(g) for g in got}) == 1
    parallel.clear_worker_cache()


def test_worker_cache_builds_once_per_key():
    parallel.clear_worker_cache()
    built = []
    make = lambda k: parallel.worker_cached(k, lambda: built.append(k) or object())
    a = make("m1")
    assert make("m1") is a and built == ["m1"]
    for k in range(parallel.CACHE_SIZE):
        make(k)
    assert make("m1") is not a and built.count("m1") == 2          # evicted after CACHE_SIZE other keys
    assert parallel.content_key({"a": 1}, "nutpie") != parallel.content_key({"a": 2}, "nutpie")
    parallel.clear_worker_cache()


def test_without_dask_workers_say_how_to_install(monkeypatch):
    monkeypatch.setattr(parallel, "have_distributed", lambda: False)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[distributed\]"'):
        parallel.executor(2)
    assert type(parallel.executor(1)) is parallel.Executor       # one worker never needs Dask


def test_result_store_returns_a_result_only_under_its_key(tmp_path):
    """ResultStore: a saved result comes back under the same base and parts; other settings, other parts, a
    missing or half-written file give None; folder=None keeps nothing."""
    from bayes_coalition.parallel import ResultStore

    store = ResultStore(tmp_path, seed=1, draws=250)
    store.save("a", {"p": [0.25, None]}, "plan-1")
    assert store.load("a", "plan-1") == {"p": [0.25, None]}
    assert store.load("a", "plan-2") is None and store.load("b", "plan-1") is None
    assert ResultStore(tmp_path, seed=1, draws=500).load("a", "plan-1") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]          # no temporary left behind
    (tmp_path / "a.json").write_text('{"key": "')                              # a file cut off mid-write
    assert store.load("a", "plan-1") is None
    none = ResultStore(None, seed=1)
    none.save("a", {"p": 1})
    assert none.load("a") is None


def test_atomic_csv_leaves_no_temporary(tmp_path):
    parallel.write_csv_atomic(pd.DataFrame({"a": [1, 2]}), tmp_path / "x.csv")
    assert pd.read_csv(tmp_path / "x.csv")["a"].tolist() == [1, 2] and not list(tmp_path.glob("*.tmp"))


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, with PyMC's mock sampler on every worker."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      memory_limit=0) as lc, Client(lc) as client:
        client.register_plugin(MockSamplingPlugin())
        yield client


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    """The reference: four mocked-sampling SBC simulations of the member-level model, in this process."""
    from functools import partial

    import pymc as pm
    from pymc.testing import mock_sample

    from tests.helpers import mock_sample_stats

    out = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=mock_sample_stats()))
        run_ideal_point_sbc(4, seed=11, out_dir=out, **SMALL)
    return out


def test_a_two_process_cluster_gives_the_in_process_batch(cluster, in_process, tmp_path):
    """The same batch on two worker processes: the same sbc.csv and fit rows as in this process (seeds come
    from (seed, simulation), never from a worker), and both workers took tasks."""
    ex = parallel.executor(client=cluster)
    assert ex.workers == 2 and ex.cores(2) == 1
    out = tmp_path / "dask"
    remote = run_ideal_point_sbc(4, seed=11, out_dir=out, client=cluster, **SMALL)      # the API's client= keyword
    assert remote["simulation"].nunique() == 4
    pd.testing.assert_frame_equal(pd.read_csv(in_process / "sbc.csv"), pd.read_csv(out / "sbc.csv"))
    assert pd.read_csv(out / "sbc_fits.csv")["simulation"].tolist() == list(range(4))
    assert len(set(cluster.run(lambda: __import__("os").getpid()).values())) == 2


def test_stream_on_a_cluster_gives_the_in_process_results(cluster):
    pipe, ref = _Pipeline(), _Pipeline()
    remote = dict(parallel.executor(client=cluster).stream(pipe.tasks(), pipe.then, progress=False))
    assert remote == dict(parallel.executor(1).stream(ref.tasks(), ref.then, progress=False)) and len(remote) == 9


def test_a_local_cluster_gives_each_worker_one_task_at_a_time():
    """Dask's default worker saturation (1.1) rounds up to two tasks per single-threaded worker, so the last task
    can wait behind a long one while the other worker idles; the package's local cluster sets 1.0."""
    pytest.importorskip("distributed")
    with parallel.executor(2) as ex:
        assert ex.workers == 2
        assert ex.client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION) == 1.0
        # the address printed is one that serves the dashboard, or it says what the dashboard needs
        if parallel.dashboard_served():
            assert ex.dashboard_link.startswith("http")
        else:
            assert ex.dashboard_link == f"not served ({parallel.DASHBOARD_HINT})"


def test_a_dashboard_address_is_printed_only_where_it_is_served(monkeypatch):
    """A local scheduler without bokeh answers its address with "Dask needs bokeh": the batch says so instead;
    a user's own client or scheduler keeps its address (the dashboard is served there, not here)."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(parallel, "dashboard_served", lambda: False)
    with parallel.executor(1 + 1) as ex:
        assert "needs bokeh" in ex.dashboard_link
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as lc, Client(lc) as c:
        assert parallel.executor(client=c).dashboard_link == c.dashboard_link


def test_convergence_warnings_of_worker_tasks_reach_the_driver(cluster):
    """A fit's ConvergenceWarning raised on a worker is raised again in the driver (not left in a worker's log),
    once per task, as it is in process."""
    from bayes_coalition.errors import ConvergenceWarning

    for ex in (parallel.executor(client=cluster), parallel.executor()):
        with pytest.warns(ConvergenceWarning) as record:
            assert dict(ex.map(_unconverged, [("a", (1,)), ("b", (2,))], progress=False)) == {"a": 1, "b": 2}
        assert sorted(str(w.message) for w in record if w.category is ConvergenceWarning) == [
            "convergence fail: max R-hat 1.21 > 1.01", "convergence fail: max R-hat 1.22 > 1.01"]


def test_a_task_the_cluster_cancels_is_submitted_again(cluster, tmp_path, capsys):
    """A cancelled task (not a failed one) is pure, so the batch submits it again and ends with every result,
    saying so; a task cancelled more than CANCEL_RETRIES times raises."""
    marker = str(tmp_path / "cancelled")
    got = dict(parallel.executor(client=cluster).map(_cancelled_once, [(i, (marker, i)) for i in range(3)],
                                                    progress=False))
    assert got == {0: 0, 1: 2, 2: 4}
    assert "was cancelled by the cluster; submitted again (1 of 3)" in capsys.readouterr().out
    with pytest.MonkeyPatch.context() as mp, pytest.raises(CancelledError):
        mp.setattr(parallel, "CANCEL_RETRIES", 0)
        dict(parallel.executor(client=cluster).map(_cancelled_once, [(0, (str(tmp_path / "again"), 0))],
                                                   progress=False))


def test_a_worker_killed_mid_batch_leaves_no_corrupt_file_and_a_rerun_completes(cluster, in_process, tmp_path):
    """A worker exits hard during the batch's third fit and the scheduler may not retry (allowed failures 0):
    the batch fails with what had finished on disk, complete and readable; the rerun fits only what is
    missing and ends with the uninterrupted in-process batch."""
    from distributed.scheduler import KilledWorker

    def set_allowed(n):
        def f(dask_scheduler):
            dask_scheduler.allowed_failures = n
        cluster.run_on_scheduler(f)

    marker = str(tmp_path / "killed")
    out = tmp_path / "dask"
    set_allowed(0)
    try:
        cluster.register_plugin(MockSamplingPlugin(kill_marker=marker, kill_at=3))
        with pytest.raises(KilledWorker):
            run_ideal_point_sbc(4, seed=11, out_dir=out, executor=parallel.executor(client=cluster), **SMALL)
        assert (tmp_path / "killed").is_file()
        ranks, fits = pd.read_csv(out / "sbc.csv"), pd.read_csv(out / "sbc_fits.csv")
        assert 1 <= fits["simulation"].nunique() < 4 and not list(out.glob("*.tmp"))
        assert set(ranks["simulation"]) == set(fits["simulation"])
        again = run_ideal_point_sbc(4, seed=11, out_dir=out, executor=parallel.executor(client=cluster), **SMALL)
    finally:
        set_allowed(3)
        cluster.register_plugin(MockSamplingPlugin())
    assert again["simulation"].nunique() == 4
    pd.testing.assert_frame_equal(pd.read_csv(in_process / "sbc.csv"), pd.read_csv(out / "sbc.csv"))
    assert pd.read_csv(out / "sbc_fits.csv")["simulation"].tolist() == list(range(4))


def test_cli_workers_without_dask_is_a_clear_error(monkeypatch, tmp_path, capsys):
    from tests.helpers import REPO, run_cli

    monkeypatch.setattr(parallel, "have_distributed", lambda: False)
    bill = REPO / "bills" / "hypothetical_2027.toml"
    run = REPO / "tests" / "fixtures" / "real_run"
    assert run_cli(["sweep", run, bill, "--vary", "voting.payoff=0,1", "--workers", "2", "--out", tmp_path / "s.csv"]) == 2
    assert 'pip install -e ".[distributed]"' in capsys.readouterr().err and not (tmp_path / "s.csv").exists()
