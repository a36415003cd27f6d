"""Measuring helpers shared by the benchmarks: CPU of a process tree, peak memory, stage timers.

The machine's cores are shared, so wall time alone says little: every figure is given as wall
time *and* CPU time (this process plus every live descendant: pool workers, the forkserver),
and peak memory is the largest sum of the proportional set sizes (PSS: resident memory, pages
shared between processes counted once in all) of the whole process tree, sampled every 250 ms
by a thread. Workers forked from the forkserver share its libraries: summing their resident
sizes (RSS) would count those pages once per worker.
"""

from __future__ import annotations

import math
import os
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import psutil

#: Every stage of the run (``parsc_geo.pipeline.STAGES``, in order) → the function of
#: ``parsc_geo.pipeline`` that does it (to time each stage).
PIPELINE_STAGES: dict[str, str] = {
    "ingesta": "_stage_ingest",
    "workspace": "_stage_workspace",
    "densidad": "_stage_density",
    "hotspots": "_stage_hotspots",
    "evaluacion": "_stage_evaluation",
    "ranking": "_stage_ranking",
    "tendencias": "_stage_trends",
    "repeticion": "_stage_near_repeat",
    "prioridad": "_stage_priority",
    "mapas": "_stage_maps",
    "patrullaje": "_stage_patrol",
    "qgis": "_stage_qgis",
}


def tree_cpu() -> float:
    """Return the CPU seconds (user + system) of this process and its live descendants.

    Children that ended and were waited for are counted too: this process's
    (``RUSAGE_CHILDREN``) and those of live descendants (pool workers reaped by the forkserver).
    """
    me = resource.getrusage(resource.RUSAGE_SELF)
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = me.ru_utime + me.ru_stime + done.ru_utime + done.ru_stime
    for child in psutil.Process().children(recursive=True):
        with suppress(psutil.Error):  # ended between the listing and the reading
            t = child.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def _memory(process: psutil.Process) -> int:
    """Return the PSS of ``process`` (its RSS where PSS cannot be read)."""
    try:
        return int(process.memory_full_info().pss)
    except (psutil.AccessDenied, AttributeError):
        return int(process.memory_info().rss)


def tree_rss() -> int:
    """Return the memory (PSS, bytes) of this process and its live descendants."""
    me = psutil.Process()
    total = _memory(me)
    for child in me.children(recursive=True):
        with suppress(psutil.Error):
            total += _memory(child)
    return total


class PeakMemory:
    """Sample :func:`tree_rss` every ``interval`` seconds in a thread; ``peak`` is the largest."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak = 0
        #: the largest memory since the start, whatever the resets
        self.overall = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = tree_rss()
            self.peak = max(self.peak, now)
            self.overall = max(self.overall, now)
            self._stop.wait(self.interval)

    def reset(self) -> None:
        """Start a new peak from the current memory."""
        self.peak = tree_rss()

    def __enter__(self) -> PeakMemory:
        self.reset()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss())
        self.overall = max(self.overall, self.peak)


@dataclass
class Timing:
    """Wall seconds, CPU seconds of the process tree and peak memory (bytes) of one step."""

    wall: float = 0.0
    cpu: float = 0.0
    peak: int = 0

    @property
    def parallelism(self) -> float:
        """CPU seconds per wall second (≈ cores kept busy)."""
        return self.cpu / self.wall if self.wall > 0 else float("nan")


@dataclass
class Recorder:
    """Times named steps: ``with recorder.step("name"): ...``."""

    memory: PeakMemory | None = None
    steps: dict[str, Timing] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[Timing]:
        timing = Timing()
        if self.memory is not None:
            self.memory.reset()
        wall0, cpu0 = time.perf_counter(), tree_cpu()
        try:
            yield timing
        finally:
            timing.wall = time.perf_counter() - wall0
            timing.cpu = tree_cpu() - cpu0
            timing.peak = self.memory.peak if self.memory is not None else 0
            self.steps[name] = timing


def wrap_stages(recorder: Recorder, module: Any, names: dict[str, str]) -> Callable[[], None]:
    """Replace ``module.<function>`` by a timed version for each ``{step: function}``.

    Returns a function that puts the originals back. Every stage of ``module.STAGES`` must be
    named, so a new stage of the run cannot go untimed.
    """
    untimed = [stage for stage in getattr(module, "STAGES", ()) if stage not in names]
    if untimed:
        raise RuntimeError(f"stages of the run not timed by the benchmark: {untimed}")
    originals = {function: getattr(module, function) for function in names.values()}

    def timed(step: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            with recorder.step(step):
                return original(*args, **kwargs)

        return run

    for step, function in names.items():
        setattr(module, function, timed(step, originals[function]))

    def restore() -> None:
        for function, original in originals.items():
            setattr(module, function, original)

    return restore


def slope(sizes: list[int], values: list[float]) -> float:
    """Return the log-log slope between the last two sizes (the growth exponent)."""
    (n0, n1), (v0, v1) = sizes[-2:], values[-2:]
    if v0 <= 0 or v1 <= 0:
        return float("nan")
    return math.log(v1 / v0) / math.log(n1 / n0)


def nlogn_exponent(n0: int, n1: int) -> float:
    """Return the log-log slope of ``n log n`` between ``n0`` and ``n1`` (the goal's bound)."""
    return math.log((n1 * math.log(n1)) / (n0 * math.log(n0))) / math.log(n1 / n0)


def machine_note() -> str:
    """Return the cores and the load average, to read the wall times against."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{psutil.cpu_count()} cores, load average {load}"


def mib(n_bytes: float) -> str:
    """Return ``n_bytes`` in MiB, rounded."""
    return f"{n_bytes / 2**20:,.0f} MiB"
