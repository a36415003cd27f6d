"""Dask distributed fan-out: the tasks of :class:`parsc_geo.parallel.WorkerPool` on a cluster.

:class:`DaskPool` is a :class:`~parsc_geo.parallel.WorkerPool` whose tasks run on the workers of
a Dask cluster: a ``LocalCluster`` of ``workers`` processes started for the run, or a running
cluster reached at its scheduler's address (``tcp://host:port``). Every fan-out point of the
run (densities and hotspots per province, priority maps, atlas pages, patrol plans and sheets)
hands its tasks to the pool it is given, so the same code runs serially, on the local process
pool or on Dask. The tasks are the same module-level functions, each item is sent to the
cluster once (``scatter``), the results come back in the order of the items and the caller
writes them as a serial loop would: the outputs are the same bytes. On a cluster, the run's
province tasks (densities, hotspot methods) do not receive their incidents: they carry a
:class:`parsc_geo.partitions.Partition` and each worker reads its province's GeoParquet file
itself (see :func:`parsc_geo.pipeline.run_pipeline`).

Dask is an optional extra (``pip install 'parsc-geo[dask]'``): without it,
:func:`require_distributed` raises :class:`~parsc_geo._errors.MissingDependencyError` (exit 6)
with the command that installs it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ._errors import ConfigError, MissingDependencyError
from .parallel import PRELOAD, Pending, WorkerPool, _document_dates, _run_task

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: ``--scheduler`` value for the standard process pool of one machine (no Dask).
PROCESSES: Final = "procesos"
#: ``--scheduler`` value for a Dask ``LocalCluster`` started for the run.
LOCAL_CLUSTER: Final = "dask"
#: Schemes of a running scheduler's address.
ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")
#: Seconds to wait for a running scheduler to answer.
CONNECT_TIMEOUT_S: Final = 15
#: How to install the extra (shown in the hint of a missing Dask).
INSTALL_HINT: Final = (
    "instale el complemento con: pip install 'parsc-geo[dask]' "
    "(o use --scheduler procesos: el grupo de procesos de esta máquina, sin Dask)"
)


def check_scheduler(value: str | None) -> str | None:
    """Return ``value`` checked: None, ``procesos``, ``dask`` or ``tcp://host:port``.

    Raises
    ------
    ConfigError
        For anything else.
    """
    if value is None or value in (PROCESSES, LOCAL_CLUSTER) or ADDRESS.match(value):
        return value
    raise ConfigError(
        f"scheduler debe ser 'procesos', 'dask' o la dirección de un planificador Dask "
        f"(tcp://máquina:puerto); se recibió {value!r}",
        hint="por ejemplo --scheduler tcp://10.0.0.5:8786 (la dirección que muestra "
        "'dask scheduler' al arrancar)",
    )


def require_distributed() -> ModuleType:
    """Return the ``distributed`` module, or raise a Spanish error saying how to install it.

    Raises
    ------
    MissingDependencyError
        When Dask distributed is not installed (exit 6).
    """
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            "repartir el trabajo en varios procesos o máquinas con Dask necesita el paquete "
            "'distributed', que no está instalado",
            hint=INSTALL_HINT,
        ) from exc
    return distributed


def _preload() -> None:
    """Import the libraries the tasks use (:data:`parsc_geo.parallel.PRELOAD`) in a worker."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def _dask_task(function: Callable[[Any], Any], dates: dict[str, Any], item: Any) -> Any:
    """Run one task on a Dask worker with the caller's document dates."""
    return _run_task([function, dates, item])


class DaskPool(WorkerPool):
    """A :class:`~parsc_geo.parallel.WorkerPool` whose tasks run on a Dask cluster.

    Parameters
    ----------
    workers
        Processes of the ``LocalCluster`` started at the first task (None: the available
        cores); ignored with ``address``.
    address
        A running scheduler (``tcp://host:port``) to use instead of a local cluster;
        :attr:`workers` is then the number of workers it has when connected.

    Raises
    ------
    MissingDependencyError
        When Dask distributed is not installed.
    """

    def __init__(self, workers: int | None = None, *, address: str | None = None) -> None:
        require_distributed()
        if address is not None and not ADDRESS.match(address):
            check_scheduler(address)
        super().__init__(workers if address is None else 1)
        self.address = address
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._warming: list[Any] = []

    @property
    def scheduler(self) -> str:
        """Return what the run records: ``dask`` (a local cluster) or the scheduler's address."""
        return self.address or LOCAL_CLUSTER

    def warm_up(self) -> None:
        """Start the local cluster, or connect to the scheduler (a wrong address fails here)."""
        self._ensure_client()

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this pool started one."""
        self._warming = []
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def start(
        self,
        function: Callable[[T], R],
        items: Iterable[T],
        held: Callable[[T], int] | None = None,
        *,
        background: bool = False,
    ) -> Pending[R]:
        """Start ``[function(item) for item in items]`` on the cluster and return at once.

        Each item is sent to the cluster once, when its task is handed out; the tasks are
        handed out in the order of ``items`` (so :meth:`map_largest_first` hands out the
        largest first), at most :attr:`window` at a time: the main process never holds more
        than that many items serialised for the cluster, whatever the number of tasks (all
        of them at once made a national run's main process three times its serial size).
        The next ones are handed out as the results are collected. A local cluster of one
        worker, or a single item that is not ``background``, runs in this process when the
        results are asked for; a ``background`` task goes to the cluster even alone (as
        :meth:`parsc_geo.parallel.WorkerPool.start` sends it to its processes).
        ``held`` (the incidents a task holds) is not used: each Dask worker keeps to its own
        memory limit (the cluster's ``memory_limit``) and the window bounds this process.
        ``background`` tasks get priorities below every other task's, so the scheduler runs
        them when no other task waits.
        """
        todo = list(items)
        if (
            not todo
            or (len(todo) < 2 and not background)
            or (self.address is None and self.workers <= 1)
        ):
            return Pending(lambda: [function(item) for item in todo])
        from distributed import as_completed, wait

        client = self._ensure_client()
        if self._warming:
            # a worker still importing the libraries (geopandas…) must not unpickle an item
            # meanwhile: the two imports race (a partially initialised module)
            wait(self._warming)
            self._warming = []
        dates = _document_dates()
        running: dict[Any, int] = {}
        queue = iter(range(len(todo)))

        def hand_out() -> Any:
            k = next(queue, None)
            if k is None:
                return None
            # the item travels once, as data, rather than inside the task's description
            [data] = client.scatter([todo[k]], hash=False)
            # Dask runs the highest priority first: the order of the items, background last
            priority = -1 - k if background else len(todo) - k
            future = client.submit(_dask_task, function, dates, data, pure=False, priority=priority)
            running[future] = k
            return future

        # the first tasks start now; the caller may do other work before collecting
        for _ in range(self.window):
            hand_out()
        pending = as_completed(list(running))

        def collect() -> list[R]:
            results: list[Any] = [None] * len(todo)
            try:
                for future in pending:
                    results[running.pop(future)] = future.result()
                    following = hand_out()
                    if following is not None:
                        pending.add(following)
            except BaseException:
                client.cancel(list(running))
                raise
            return results

        return Pending(collect)

    @property
    def window(self) -> int:
        """Return the most tasks handed out at once: two per worker, so none waits idle."""
        return max(2, 2 * self.workers)

    def _ensure_client(self) -> Client:
        if self._client is not None:
            return self._client
        from distributed import Client, LocalCluster

        if self.address is not None:
            try:
                client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"no se pudo conectar con el planificador Dask {self.address}: {exc}",
                    hint="compruebe que 'dask scheduler' está en marcha en esa dirección y "
                    "que sus trabajadores tienen instalada la misma versión de parsc-geo",
                ) from exc
            self.workers = max(1, len(client.scheduler_info().get("workers", {})))
            logger.debug("Dask: %s, %d trabajadores", self.address, self.workers)
        else:
            # one thread per process, as the local pool; the run's tasks are whole provinces
            # or sheets that cannot be spilled to disk, so the system, not Dask, bounds memory
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=0,
                dashboard_address=None,
                silence_logs=cluster_log_level(),
            )
            client = Client(self._cluster)
            logger.debug("Dask: LocalCluster de %d procesos", self.workers)
        # each worker imports the libraries (its first task) while this process reads the
        # incidents; the futures are kept, or the tasks would be forgotten
        self._warming = [
            client.submit(_preload, workers=[address], pure=False)
            for address in client.scheduler_info().get("workers", {})
        ]
        self._client = client
        return client


def cluster_log_level() -> int:
    """Return the level of the messages of a local cluster's scheduler and workers.

    A failed task comes back to this process as its error, said in Spanish; what Dask logs
    besides is for debugging: shown with ``-v`` (errors), otherwise only critical ones. A
    national run on a loaded machine ended with a worker's "Failed to communicate with
    scheduler during heartbeat" and its traceback (a heartbeat in flight while the cluster
    closed, logged at the error level) under a run that had succeeded.
    """
    from ._messages import ROOT

    return (
        logging.ERROR if logging.getLogger(ROOT).isEnabledFor(logging.DEBUG) else logging.CRITICAL
    )


def open_pool(workers: int | None, scheduler: str | None) -> WorkerPool:
    """Return the pool of a run for ``workers`` and ``scheduler``.

    ============================  ======================================================
    ``scheduler``                 pool
    ============================  ======================================================
    None or ``procesos``          the local process pool of ``workers`` (None: every core;
                                  1: everything in this process)
    ``dask``                      a Dask ``LocalCluster`` of ``workers`` processes
    ``tcp://host:port``           the running cluster at that address (``workers`` ignored)
    ============================  ======================================================

    ``parsc-geo run`` asks for ``dask`` when ``--workers`` is above 1 and no scheduler is
    named (:func:`default_scheduler`).

    Raises
    ------
    ConfigError
        For a bad ``workers`` or ``scheduler``.
    MissingDependencyError
        When a Dask pool is asked for and Dask distributed is not installed.
    """
    scheduler = check_scheduler(scheduler)
    if scheduler is None or scheduler == PROCESSES:
        return WorkerPool(workers)
    if scheduler == LOCAL_CLUSTER:
        return DaskPool(workers)
    return DaskPool(address=scheduler)


def default_scheduler(workers: int | None, scheduler: str | None) -> str | None:
    """Return the scheduler of ``parsc-geo run``: ``dask`` for more than one worker if unnamed.

    One worker works serially and no number keeps the process pool of every core, as before
    Dask; a named scheduler is kept.
    """
    if scheduler is None and workers is not None and workers > 1:
        return LOCAL_CLUSTER
    return scheduler
