"""Process pools for work that splits into independent parts: provinces, sectors, sheets, maps.

Every fan-out goes through :meth:`WorkerPool.map`: the task is a module-level function whose
arguments pickle (so it runs under the ``spawn`` and ``forkserver`` start methods alike), the
results come back in the order of the inputs, and the caller combines or writes them exactly as
a serial loop would. Outputs are therefore the same bytes whatever the number of workers;
``workers=1`` runs every task in the calling process, without any pool.

Workers are forked from a ``forkserver`` process (spawned, never forked from the caller, so no
thread or open file of the caller leaks into them) that imports the heavy libraries once;
:func:`start_early` launches it in the background while the caller is still busy, so that a
pool opened later starts in milliseconds. Where ``forkserver`` does not exist, ``spawn`` is
used. Every task runs with the caller's document date (``SOURCE_DATE_EPOCH`` and GDAL's
``OGR_CURRENT_DATE``) as it was when :meth:`WorkerPool.map` was called.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Final, Generic, TypeVar

from ._errors import ConfigError
from ._memory import freeze_imports, release_memory, tune_collector

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: CPU seconds after which a task's worker gives its freed memory back (see :func:`_run_task`).
RELEASE_AFTER_CPU_S: Final[float] = 1.0

#: Incidents that the tasks handed out at once may hold together (see
#: :meth:`WorkerPool.start`): a task peaks at 1.0–1.4 kB per incident it holds above its
#: worker's own 0.3 GB (a million incidents, measured with ``benchmarks/bench_scale.py``: the
#: HDBSCAN hotspots 1.35 GB, a backtest month 0.9–1.2 GB, the province's atlas page 1.2 GB),
#: so two million-incident tasks run side by side: a Lima-sized province's run peaks at
#: 3.6 GB on two workers and takes 50 s less than one such task at a time. A task holding
#: more than this is handed out alone.
IN_FLIGHT_INCIDENTS: Final[int] = 2_000_000

#: Modules the forkserver imports once, so that every worker starts with them loaded.

PRELOAD: Final[tuple[str, ...]] = (
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyproj",
    "scipy.spatial",
    "sklearn.cluster",
    "hdbscan",
    "scipy.ndimage",
    "scipy.special",
    "rasterio.features",
    "rasterio.warp",
    "pyogrio",
    "openpyxl",
    "matplotlib.figure",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_pdf",
    "matplotlib.backends.backend_agg",
    "pypdfium2",
    "PIL.Image",
    "folium",
    "parsc_geo.workflow",
    "parsc_geo.density",
    "parsc_geo.hotspots",
    "parsc_geo.patrol",
    "parsc_geo.reports.patrol_sheet",
    "parsc_geo.reports.patrol_outputs",
    "parsc_geo.priority.outputs",
    "parsc_geo.maps.atlas",
)
#: Environment variables every task sees as the caller had them (document dates).
PASSED_ENVIRONMENT: Final[tuple[str, ...]] = ("SOURCE_DATE_EPOCH",)
#: GDAL configuration options every task sees as the caller had them.
PASSED_GDAL_OPTIONS: Final[tuple[str, ...]] = ("OGR_CURRENT_DATE",)


def available_cores() -> int:
    """Return the number of cores this process may run on (its CPU affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int | None) -> int:
    """Return the number of worker processes: ``workers``, or the available cores when None.

    Raises
    ------
    ConfigError
        When ``workers`` is not a positive whole number.
    """
    if workers is None:
        return available_cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(
            f"workers debe ser un número entero ≥ 1; se recibió {workers!r}",
            hint="1 trabaja en serie; sin indicarlo se usan todos los núcleos disponibles",
        )
    return workers


def start_method() -> str:
    """Return the start method of worker processes: ``forkserver`` where it exists."""
    import multiprocessing

    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def start_early(workers: int) -> None:
    """Start the forkserver (importing :data:`PRELOAD`) in the background, if it will be used.

    Returns at once; the imports run in another process while the caller goes on.
    """
    if workers <= 1 or start_method() != "forkserver":
        return
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(PRELOAD))
    forkserver.ensure_running()


def _document_dates() -> dict[str, dict[str, str | None]]:
    """Return the caller's document dates, to be set in each task's process."""
    import pyogrio

    return {
        "environment": {name: os.environ.get(name) for name in PASSED_ENVIRONMENT},
        "gdal": {name: pyogrio.get_gdal_config_option(name) for name in PASSED_GDAL_OPTIONS},
    }


def _run_task(task: list[Any]) -> Any:
    """Run one task in a worker with the caller's document dates.

    ``task`` is ``[function, dates, item]``; it is emptied here, so that once the task is
    done its item (a province's or a page's incidents, unpickled in the worker) is freed
    before the memory is given back: the worker's loop keeps the list until the result has
    been sent, and with the item in it a million-incident page stayed resident (1 GB) until
    the worker's next long task.
    """
    function, dates, item = task
    task.clear()
    for name, value in dates["environment"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if any(v is not None for v in dates["gdal"].values()):
        import pyogrio

        pyogrio.set_gdal_config_options(dates["gdal"])
    started = time.process_time()
    try:
        return function(item)
    finally:
        del item
        # the worker lives on: what a long task freed goes back to the system
        # (parsc_geo._memory); a short one frees little, and the release's own cost (tens of
        # milliseconds) would add up over the thousands of tasks of a national run
        if time.process_time() - started >= RELEASE_AFTER_CPU_S:
            release_memory()


class WorkerPool:
    """A pool of ``workers`` processes, opened at the first task that needs it.

    Parameters
    ----------
    workers
        Number of processes; 1 runs every task in the calling process. None: the available
        cores (:func:`available_cores`).

    Examples
    --------
    >>> with WorkerPool(1) as pool:
    ...     pool.map(abs, [-2, 3])
    [2, 3]
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = resolve_workers(workers)
        #: incidents the tasks handed out at once may hold (:meth:`start` with ``held``)
        self.in_flight = IN_FLIGHT_INCIDENTS
        self._executor: Executor | None = None
        # what the pool has handed to its executor: tasks not finished, the incidents those
        # with a weight hold (background ones apart), the callers waiting to hand out more
        # (see start), and the background tasks not yet handed out
        self._lock = threading.RLock()
        self._running = 0
        self._held = 0
        self._held_background = 0
        self._waiting: list[Callable[[], None]] = []
        self._background: deque[tuple[Callable[[], None], int, Future[Any]]] = deque()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def scheduler(self) -> str:
        """Return what runs the tasks, as ``run.json`` records it: ``procesos`` (this machine)."""
        return "procesos"

    def warm_up(self) -> None:
        """Get the workers ready in the background (:func:`start_early`); returns at once."""
        start_early(self.workers)

    def close(self) -> None:
        """Stop the worker processes (they are started again if another task comes).

        Background tasks not handed out yet are cancelled.
        """
        with self._lock:
            while self._background:
                self._background.popleft()[2].cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        with self._lock:
            self._running = self._held = self._held_background = 0

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Return ``[function(item) for item in items]``, computed by the workers.

        ``function`` must be defined at module level and ``items`` and the results must
        pickle. Results are in the order of ``items``; an exception in a task is raised here.
        With one worker, or fewer than two items, the tasks run in this process.
        """
        return self.start(function, items).results()

    def map_largest_first(
        self,
        function: Callable[[T], R],
        items: Iterable[T],
        size: Callable[[T], float],
        held: Callable[[T], int] | None = None,
    ) -> list[R]:
        """Return ``[function(item) for item in items]``, the largest items given out first.

        A long task started last would keep one worker busy while the others wait: starting
        with the largest (by ``size``) shortens the whole. The results are in the order of
        ``items``, as :meth:`map` returns them. ``held`` gives the incidents a task holds (see
        :meth:`start`).
        """
        return self.start_largest_first(function, items, size, held).results()

    def start_largest_first(
        self,
        function: Callable[[T], R],
        items: Iterable[T],
        size: Callable[[T], float],
        held: Callable[[T], int] | None = None,
        *,
        background: bool = False,
    ) -> Pending[R]:
        """Start :meth:`map_largest_first`'s tasks and return at once (see :meth:`start`).

        ``background`` queues them as :meth:`start`'s background tasks, largest first.
        """
        todo = list(items)
        order = sorted(range(len(todo)), key=lambda k: -size(todo[k]))
        started = self.start(function, [todo[k] for k in order], held=held, background=background)

        def collect() -> list[R]:
            results: list[R | None] = [None] * len(todo)
            for k, result in zip(order, started.results(), strict=True):
                results[k] = result
            return results  # type: ignore[return-value]

        return Pending(collect)

    def start(
        self,
        function: Callable[[T], R],
        items: Iterable[T],
        held: Callable[[T], int] | None = None,
        *,
        background: bool = False,
    ) -> Pending[R]:
        """Start ``[function(item) for item in items]`` and return at once.

        The caller can do other work meanwhile and collect the results (in the order of
        ``items``) with :meth:`Pending.results`. Serially (one worker, or fewer than two
        items) the tasks run when the results are asked for.

        ``held`` gives the incidents each task holds: the tasks are then handed out in the
        order of ``items`` so that those running or waiting for a worker (of this call and
        of every other) hold at most :attr:`in_flight` incidents together (a bigger one is
        handed out alone, once the others are done), the next ones as the earlier ones
        finish. Without it every task is handed out at once. Either way the results are the
        same.

        ``background`` tasks (the patrol sheets of a run) wait in this process and are handed
        out one by one, in order, only while fewer tasks than :attr:`workers` are running:
        they take the time the workers would otherwise be idle, and a task started later
        without ``background`` waits at most for those already handed out (never for the
        whole queue). They run in the pool even alone. With ``held``, a background task is
        not handed out beside other tasks' incidents beyond :attr:`in_flight`, nor another
        task beside it (background tasks may run side by side, as they did after the other
        work before: a million-incident atlas page never runs beside a sheet).
        """
        todo = list(items)
        if self.workers <= 1 or not todo or (len(todo) < 2 and not background):
            return Pending(lambda: [function(item) for item in todo])
        executor = self._ensure_executor()
        dates = _document_dates()
        if background:
            return self._start_background(function, todo, held, dates)
        if held is None:
            futures = [self._submit(executor, function, dates, item) for item in todo]
            return Pending(lambda: [future.result() for future in futures])
        weights = [max(0, int(held(item))) for item in todo]
        # tasks holding incidents follow this process's preparation of them (cuts, prepared
        # copies): what it freed goes back to the system before the workers take theirs
        # (a million incidents' backtest left 0.6 GB of freed heap here)
        release_memory()
        answers: list[Future[R]] = [Future() for _ in todo]
        queue = {"next": 0}

        def finished(k: int, future: Future[Any]) -> None:
            with self._lock:
                self._held -= weights[k]
            _pass_on(future, answers[k])
            self._feed()

        def hand_out() -> None:
            with self._lock:
                while queue["next"] < len(todo):
                    k = queue["next"]
                    busy = self._held + self._held_background
                    if busy and busy + weights[k] > self.in_flight:
                        return
                    queue["next"] += 1
                    self._held += weights[k]
                    try:
                        future = self._submit(executor, function, dates, todo[k])
                    except BaseException as error:  # a broken pool: the caller hears of it
                        self._held -= weights[k]
                        answers[k].set_exception(error)
                        continue
                    future.add_done_callback(functools.partial(finished, k))
                # every task handed out (a task done at once may have come back here first)
                if hand_out in self._waiting:
                    self._waiting.remove(hand_out)

        with self._lock:
            self._waiting.append(hand_out)
            hand_out()
        return Pending(lambda: [answer.result() for answer in answers])

    def _start_background(
        self,
        function: Callable[[T], R],
        todo: list[T],
        held: Callable[[T], int] | None,
        dates: dict[str, dict[str, str | None]],
    ) -> Pending[R]:
        """Queue ``todo`` as background tasks (see :meth:`start`); hand out what may go now."""
        executor = self._ensure_executor()
        answers: list[Future[R]] = [Future() for _ in todo]

        def launcher(k: int, weight: int) -> Callable[[], None]:
            def finished(done: Future[Any]) -> None:
                with self._lock:
                    self._held_background -= weight
                _pass_on(done, answers[k])
                self._feed()

            def launch() -> None:
                try:
                    future = self._submit(executor, function, dates, todo[k])
                except BaseException as error:  # a broken pool: the caller hears of it
                    with self._lock:
                        self._held_background -= weight
                    answers[k].set_exception(error)
                    return
                future.add_done_callback(finished)

            return launch

        with self._lock:
            for k, item in enumerate(todo):
                weight = max(0, int(held(item))) if held is not None else 0
                self._background.append((launcher(k, weight), weight, answers[k]))
            self._feed()
        return Pending(lambda: [answer.result() for answer in answers])

    def _submit(
        self,
        executor: Executor,
        function: Callable[[Any], Any],
        dates: dict[str, dict[str, str | None]],
        item: Any,
    ) -> Future[Any]:
        """Hand one task to the executor, counted as running until it finishes."""
        with self._lock:
            future = executor.submit(_run_task, [function, dates, item])
            self._running += 1
        future.add_done_callback(self._task_done)
        return future

    def _task_done(self, _: Future[Any]) -> None:
        with self._lock:
            self._running -= 1
        self._feed()

    def _feed(self) -> None:
        """Hand out what waits: the held tasks of every caller, then background tasks."""
        with self._lock:
            for hand_out in list(self._waiting):
                hand_out()
            while self._background and self._running < self.workers:
                launch, weight, _ = self._background[0]
                if self._held and self._held + weight > self.in_flight:
                    return
                self._background.popleft()
                self._held_background += weight
                launch()

    def _ensure_executor(self) -> Executor:
        import multiprocessing

        if self._executor is None:
            method = start_method()
            if method == "forkserver":
                start_early(self.workers)
            # each worker freezes the libraries it starts with (its collections walk only
            # what its tasks build: parsc_geo._memory.freeze_imports) and ends with the run
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
            logger.debug("%d procesos de trabajo (%s)", self.workers, method)
        return self._executor


def _start_worker(parent: int) -> None:
    """Prepare a pool's worker process: freeze its libraries, and end it with ``parent``.

    Its cycle collector runs less often (:func:`parsc_geo._memory.tune_collector`).

    A worker waits for its next task on a queue whose writing end it holds itself, and the
    forkserver it comes from waits for the processes holding its "alive" pipe, the workers
    among them: when the run's process is killed (SIGKILL, the out-of-memory killer), they
    would wait for ever, each holding its libraries (0.3–0.4 GB). A thread of each worker
    waits for ``parent`` (the process that opened the pool) to end and then ends the worker;
    with its workers gone, the forkserver ends too.
    """
    freeze_imports()
    tune_collector()
    threading.Thread(target=_end_with, args=(parent,), name="parsc-geo-parent", daemon=True).start()


#: Seconds between two looks at the parent where it cannot be waited for (no pidfd).
PARENT_POLL_S: Final = 1.0


def _end_with(parent: int) -> None:
    """Wait for process ``parent`` to end, then end this process at once (exit code 1)."""
    import select

    try:
        handle = os.pidfd_open(parent)
    except (AttributeError, OSError):
        # no pidfd (not Linux ≥ 5.3): look every second whether it is still there
        while _alive(parent):
            time.sleep(PARENT_POLL_S)
    else:
        select.select([handle], [], [])  # readable once the process has ended
    os._exit(1)


def _alive(pid: int) -> bool:
    """Return whether process ``pid`` still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pass_on(source: Future[Any], target: Future[Any]) -> None:
    """Give ``target`` the outcome of the finished ``source``."""
    if source.cancelled():
        target.cancel()
        return
    error = source.exception()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())


class Pending(Generic[R]):
    """Results of tasks started by :meth:`WorkerPool.start`, collected by :meth:`results`."""

    def __init__(self, collect: Callable[[], list[R]]) -> None:
        self._collect = collect
        self._results: list[R] | None = None

    def results(self) -> list[R]:
        """Wait for the tasks and return their results, in the order they were given."""
        if self._results is None:
            self._results = self._collect()
        return self._results


@contextmanager
def worker_pool(pool: WorkerPool | int | None) -> Iterator[WorkerPool]:
    """Yield ``pool`` if it is a :class:`WorkerPool`, else a new one closed at the end.

    Library functions take ``workers`` as a pool (shared by the stages of a run) or a number.
    """
    if isinstance(pool, WorkerPool):
        yield pool
        return
    own = WorkerPool(pool)
    try:
        yield own
    finally:
        own.close()
