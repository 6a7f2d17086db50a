"""The one executor seam of every batch of independent fits: SBC, the backtest, cross-validation,
ideal points over several matrices and bill sweeps.

A batch is a list of tasks, each a pure function of its inputs and its seed (seeds are derived per task
from the batch's master seed by the runner, never from worker state), so its results are the same for any
number of workers and any completion order. The runner submits the tasks with :meth:`Executor.map` (or
:meth:`Executor.stream`, whose follow-up tasks come from the results: the SBC and the backtest submit each
chain of a fit as a task, then the fit's refit or predictions once its chains are in, so the batch ends with
every worker busy instead of one finishing the last, longest fit) and receives ``(key, result)`` pairs as
they finish; it alone writes files (atomically, so a lost worker or an interrupted run leaves no
half-written file, and a rerun skips what is done). A task the cluster cancels (a client that lost the scheduler
for a while) is submitted again: being pure, it gives the result it would have given.

- ``workers=1`` (the default): the tasks run in this process, one after another, exactly as before this
  seam existed; no Dask needed.
- ``workers=N > 1``: a local ``dask.distributed`` cluster of N worker processes, one thread each, one task
  at a time (worker saturation 1.0).
- ``scheduler="tcp://host:8786"`` or ``client=<distributed.Client>``: an existing cluster.

Every batch function of the Python API (``run_coalition_sbc``, ``run_ideal_point_sbc``, ``run_agenda_sbc``,
``backtest``, ``loeo``, ``loeo_votes``, ``sweep_batch``) takes ``client=`` (a ``distributed.Client``),
``workers=N`` or a ready ``executor=``; the CLI's ``--workers`` / ``--scheduler`` / ``--cores-per-worker`` build
the executor (:func:`executor`).

**Cores.** Parallelism across tasks and inside a fit must not fight: with workers, each task's chains run
on ``cores_per_worker`` cores (default 1: chains one after another), so N workers use N cores. In process,
a fit uses as many cores as it has chains (up to 2), as before, unless ``cores_per_worker`` says otherwise.

**Compiled models are built once per worker.** A task that needs a compiled model calls
:func:`worker_cached` with a key naming what it compiles (the spec's hash, the data); the first task on a
worker builds it and later tasks on that worker reuse it.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

CANCEL_RETRIES = 3      # a task the cluster cancelled (not one that failed) is submitted again this many times
INSTALL_HINT = 'workers need dask.distributed: pip install -e ".[distributed]" (or pip install "dask[distributed]")'


def have_distributed() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


# --- per-worker cache of compiled models ------------------------------------------------------

_CACHE: OrderedDict = OrderedDict()
CACHE_SIZE = 4
_CACHE_LOCK = threading.RLock()     # chain tasks run in threads in process: one build per key, never two at once


def worker_cached(key: Hashable, build: Callable[[], object]):
    """The object ``build()`` makes, built once per process (worker) for ``key`` and reused by the tasks that
    follow on it (the last ``CACHE_SIZE`` keys are kept). Thread-safe: a second thread asking for a key being
    built waits for it."""
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        value = build()
        _CACHE[key] = value
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return value


def chain_seeds(seed: int, chains: int) -> list[int]:
    """The seeds of a fit's chains when each chain is a task of its own (:meth:`Executor.stream`): drawn from
    ``seed`` alone (a ``SeedSequence``), so a chain's draws do not depend on where or with what it ran."""
    import numpy as np

    return [int(x) for x in np.random.SeedSequence(int(seed)).generate_state(int(chains))]


def content_key(*parts) -> str:
    """A digest of JSON-able ``parts`` (a whole spec, not its model hash: sampler settings matter to a
    compiled model's fits too): the key of :func:`worker_cached`."""
    import hashlib

    from bayes_coalition._io import dumps

    return hashlib.sha1(dumps(list(parts), indent=None).encode()).hexdigest()


def clear_worker_cache() -> None:
    _CACHE.clear()


# --- progress ---------------------------------------------------------------------------------


@dataclass
class Progress:
    """A text progress bar over tasks (one line per finished task: stdout may be a log file)."""

    label: str
    total: int
    enabled: bool = True
    done: int = 0
    t0: float = field(default_factory=time.perf_counter)

    def add(self, n: int) -> None:
        """``n`` more tasks (follow-ups of finished ones: :meth:`Executor.stream`)."""
        self.total += n

    def step(self, key) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / self.done * (self.total - self.done)
        width = 24
        filled = int(round(width * self.done / max(self.total, 1)))
        print(f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} tasks "
              f"({key} done; {elapsed:.0f} s elapsed, about {eta:.0f} s left)", flush=True)


# --- executors --------------------------------------------------------------------------------


class _Surfaced:
    """A task that returns its result with the ``ConvergenceWarning``s it raised, so the driver re-raises them:
    a warning raised on a worker would otherwise stay in that worker's log (convergence is surfaced, never
    silenced, wherever a fit runs)."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def __call__(self, *args):
        import warnings

        from bayes_coalition.errors import ConvergenceWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            result = self.fn(*args)
        kept = []
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                kept.append(str(w.message))
            else:                                   # anything else is shown as it would have been
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return result, kept


def _follow_ups(then: Callable | None, key, result, bar: Progress) -> list:
    """The follow-up tasks of a finished task (:meth:`Executor.stream`), counted on the progress bar."""
    new = list(then(key, result)) if then is not None else []
    bar.add(len(new))
    return new


def _resurface(messages: list[str]) -> None:
    import warnings

    from bayes_coalition.errors import ConvergenceWarning

    for m in messages:
        warnings.warn(m, ConvergenceWarning, stacklevel=3)


class Executor:
    """Runs tasks in this process, one after another (``workers=1``)."""

    workers = 1
    dashboard_link: str | None = None

    def __init__(self, cores_per_worker: int | None = None):
        self.cores_per_worker = cores_per_worker

    def cores(self, chains: int) -> int:
        """Cores a task's fit may use for its ``chains`` (the samplers' ``cores``)."""
        return self.cores_per_worker if self.cores_per_worker is not None else min(chains, 2)

    def chain_threads(self, chains: int, sampler: str) -> int:
        """Chain tasks run at once in process (:meth:`stream`): as many as a fit may use cores, for nutpie (which
        releases the GIL); one for PyMC's samplers (their tasks share one model's data containers)."""
        return self.cores(chains) if sampler == "nutpie" else 1

    def share(self, obj):
        """``obj`` as an argument of several tasks: itself in process; on Dask sent to the cluster once
        (``Client.scatter``) and fetched once per worker, instead of once per task."""
        return obj

    def warm(self, fn: Callable, *args) -> None:
        """Start ``fn(*args)`` (building a worker's cached model) on every worker now, so that it overlaps with
        what the driver does before submitting the tasks; in process there is nothing to overlap (the first
        task builds it)."""

    def map(self, fn: Callable, tasks: Iterable[tuple[Hashable, tuple]], *, label: str = "batch",
            progress: bool = True) -> Iterator[tuple[Hashable, object]]:
        """``(key, fn(*args))`` for each ``(key, args)`` of ``tasks``, in the order they finish."""
        return self.stream([(key, fn, args) for key, args in tasks], label=label, progress=progress)

    def stream(self, tasks: Iterable[tuple[Hashable, Callable, tuple]], then: Callable | None = None, *,
               threads: int = 1, label: str = "batch", progress: bool = True) -> Iterator[tuple[Hashable, object]]:
        """``(key, fn(*args))`` for each task ``(key, fn, args)`` in the order they finish, and for the follow-up
        tasks ``then(key, result)`` returns as each finishes (a fit's chains, then the fit's refit or its
        predictions): a batch whose tasks are single chains keeps every core busy to its end, where whole fits
        leave one worker idle while the other finishes the last, longest fit. Follow-ups run before the tasks
        still waiting, so a fit's pipeline completes early.

        In process the tasks run one at a time, or on ``threads`` threads at once (only for tasks that release
        the GIL and share no mutable state: nutpie chains on a compiled model; a task's own convergence checks
        belong in ``then``, which runs here, in the calling thread)."""
        pending = deque(tasks)
        bar = Progress(label, len(pending), progress)

        def follow(key, result):
            pending.extendleft(reversed(_follow_ups(then, key, result, bar)))

        if int(threads) <= 1:
            while pending:
                key, fn, args = pending.popleft()
                result, caught = _Surfaced(fn)(*args)
                _resurface(caught)
                bar.step(key)
                yield key, result
                follow(key, result)
            return
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        with ThreadPoolExecutor(max_workers=int(threads)) as pool:
            running = {}
            try:
                while pending or running:
                    while pending and len(running) < int(threads):
                        key, fn, args = pending.popleft()
                        running[pool.submit(fn, *args)] = key
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for fut in done:
                        key = running.pop(fut)
                        result = fut.result()
                        bar.step(key)
                        yield key, result
                        follow(key, result)
            finally:
                pending.clear()            # an error: the running tasks finish, nothing new starts

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


DASHBOARD_HINT = "the dashboard needs bokeh >= 3.1: pip install -e '.[distributed]'"


def dashboard_served() -> bool:
    """Whether a local Dask scheduler serves its dashboard: only with bokeh installed (the ``distributed`` extra
    brings it)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


class DaskExecutor(Executor):
    """Runs tasks on a ``dask.distributed`` cluster: a local one of ``workers`` processes (one thread each),
    an existing scheduler's, or a given client's."""

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None, client=None,
                 cores_per_worker: int | None = 1):
        from distributed import Client, LocalCluster

        super().__init__(cores_per_worker if cores_per_worker is not None else 1)
        self._own = client is None
        if client is not None:
            self.client = client
        elif scheduler:
            self.client = Client(scheduler)
        else:
            # processes, one thread each: a fit's own threads (nutpie's chains) are limited by cores_per_worker
            # the workers import the package the driver imported (a source checkout need not be installed)
            root = str(Path(__file__).resolve().parents[1])
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            # worker-saturation 1.0: a worker holds only the task it runs (Dask's default 1.1 rounds up to two
            # per single-threaded worker, so the last tasks can queue behind a long one while another worker idles)
            import dask

            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
                cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                       dashboard_address=":0", memory_limit=0, env={"PYTHONPATH": path})
            self.client = Client(cluster)
        self.workers = len(self.client.scheduler_info(n_workers=-1)["workers"]) or int(workers or 1)
        self.dashboard_link = getattr(self.client, "dashboard_link", None)
        if self._own and not scheduler and not dashboard_served():
            # a local scheduler without bokeh answers its dashboard address with "Dask needs bokeh"
            self.dashboard_link = f"not served ({DASHBOARD_HINT})"

    def share(self, obj):
        return self.client.scatter(obj, hash=False)

    def warm(self, fn, *args) -> None:
        workers = list(self.client.scheduler_info(n_workers=-1)["workers"])
        # one task pinned to each worker; never waited for (a worker runs its tasks one at a time, so the batch's
        # tasks queue behind it there)
        self._warming = [self.client.submit(fn, *args, workers=[w], allow_other_workers=False, pure=False)
                         for w in workers]

    def stream(self, tasks, then=None, *, threads=1, label="batch", progress=True):
        from distributed import as_completed

        tasks = list(tasks)
        bar = Progress(label, len(tasks), progress)
        if self.dashboard_link:
            print(f"{label}: {len(tasks)} tasks on {self.workers} Dask workers; dashboard {self.dashboard_link}",
                  flush=True)
        futures = {}
        queue = as_completed()
        retries = {}

        def submit(key, fn, args, priority):
            fut = self.client.submit(_Surfaced(fn), *args, key=f"{label}-{key}-{os.getpid()}-{time.time_ns()}",
                                     pure=False, priority=priority)
            futures[fut] = (key, fn, args, priority)
            queue.add(fut)

        for key, fn, args in tasks:
            submit(key, fn, args, 0)
        for fut in queue:
            key, fn, args, priority = futures.pop(fut)
            if fut.status == "cancelled":
                # the cluster dropped the task (a client that lost the scheduler for a while, a restarted
                # scheduler: "already forgotten"), which says nothing about the task itself: it is pure, so it is
                # submitted again, up to CANCEL_RETRIES times, and gives the result it would have given
                retries[key] = retries.get(key, 0) + 1
                if retries[key] > CANCEL_RETRIES:
                    fut.result()                      # raises the cancellation
                print(f"{label}: task {key} was cancelled by the cluster; submitted again "
                      f"({retries[key]} of {CANCEL_RETRIES})", flush=True)
                submit(key, fn, args, priority)
                continue
            result, caught = fut.result()
            _resurface(caught)
            bar.step(key)
            yield key, result
            for k, fn, args in _follow_ups(then, key, result, bar):    # first: a fit's pipeline completes early
                submit(k, fn, args, 1)

    def close(self) -> None:
        if self._own:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()


def executor(workers: int | None = None, *, scheduler: str | None = None, client=None,
             cores_per_worker: int | None = None) -> Executor:
    """The executor for ``--workers N`` / ``--scheduler ADDRESS`` / ``client=``: in process for one worker
    and no cluster, else Dask (an ImportError that says how to install it when Dask is missing)."""
    if client is None and not scheduler and (workers is None or int(workers) <= 1):
        return Executor(cores_per_worker if workers is None else (cores_per_worker or 1))
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not have_distributed():
        raise ImportError(INSTALL_HINT)
    return DaskExecutor(workers=workers, scheduler=scheduler, client=client, cores_per_worker=cores_per_worker)


def run_all(ex: Executor, fn: Callable, tasks: list, *, own: bool, label: str = "batch", progress: bool = False,
            on_result: Callable | None = None) -> dict:
    """``{key: result}`` of every task run on ``ex`` (``Executor.map``); ``on_result(key, result, n_done)`` is called
    as each finishes (progress lines, a store); an executor the caller made (``own``) is closed whatever happens."""
    results = {}
    try:
        for key, result in ex.map(fn, tasks, label=label, progress=progress):
            results[key] = result
            if on_result is not None:
                on_result(key, result, len(results))
    finally:
        if own:
            ex.close()
    return results


class ResultStore:
    """Finished tasks of a batch kept as ``<folder>/<name>.json`` (written atomically), each under a key of
    everything its result depends on (``base``: the run's data digest, spec and settings; ``parts``: the task's
    own inputs): a rerun takes a task whose key matches from its file and runs only the others, so an interrupted
    batch resumes whatever executor ran it. ``folder=None`` keeps nothing."""

    def __init__(self, folder, **base):
        self.folder = None if folder is None else Path(folder)
        self.base = base

    def key(self, name: str, *parts) -> str:
        return content_key(self.base, name, *parts)

    def load(self, name: str, *parts):
        """The stored result of task ``name`` (as JSON gave it back: lists for tuples, None for NaN), or None (none
        stored, or stored under another key)."""
        from bayes_coalition import _io

        if self.folder is None:
            return None
        saved = _io.read_json(self.folder / f"{name}.json", missing_ok=True)
        return saved.get("result") if saved.get("key") == self.key(name, *parts) else None

    def save(self, name: str, result, *parts) -> None:
        from bayes_coalition import _io

        if self.folder is not None:
            _io.write_json(self.folder / f"{name}.json", {"key": self.key(name, *parts), "name": name, "result": result})


def resolve(executor_=None, *, client=None, workers: int | None = None) -> tuple[Executor, bool]:
    """The executor a batch function runs on, from its ``executor=`` / ``client=`` / ``workers=`` keywords,
    and whether the function made it (and so closes it)."""
    if executor_ is not None:
        return executor_, False
    return executor(workers, client=client), True


def write_csv_atomic(frame, path: str | Path) -> Path:
    """Write a table to ``path`` through a temporary file renamed into place (never half-written)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path
