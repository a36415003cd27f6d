"""Give freed memory back to the system, so that a long run's footprint follows its data.

Two allocators keep memory a process has freed, and a run that holds a million incidents at
one stage and builds large transient tables at the next would otherwise keep the largest of
them all for its whole life, in the main process and in every worker:

* pyarrow's default pool (mimalloc) keeps freed segments for reuse: the text columns of the
  incidents are Arrow arrays (pandas' ``str`` type), so every copy of a table allocated there.
  :func:`prefer_system_pool` makes pyarrow use the C library's allocator instead, unless the
  user chose a pool with ``ARROW_DEFAULT_MEMORY_POOL``; it is set in the environment, so the
  worker processes started afterwards inherit it.
* glibc's ``malloc`` returns the top of its heaps only: :func:`release_memory` asks it to
  return every free page (``malloc_trim``) after each stage of a run and each pool task.
* glibc serves a block from its own mapping (returned the moment it is freed) only above a
  threshold that it raises, up to 32 MiB, each time such a block is freed: after the first
  large arrays, a million incidents' columns (1–32 MB each) come from the heap, where the
  small objects between them keep the pages. :func:`fix_mmap_threshold` holds the threshold
  at :data:`MMAP_THRESHOLD` in every process that imports parsc-geo (workers too).
* Setting that threshold also stops glibc from raising its trim threshold with it: the heap's
  top was given back at every ``free`` leaving 128 KiB there, so a loop of 1 MB temporaries
  (Knox's permutations: three chunks of pairs, a hundred times) faulted its pages in again at
  each turn. :func:`fix_mmap_threshold` holds the trim threshold at :data:`TRIM_THRESHOLD`,
  as glibc itself would have set it (twice the mmap threshold).

Neither changes a result; both only change when memory goes back to the system.

Python's cycle collector (:func:`fewer_collections`) runs a young collection every 700 new
container objects by default: drawing a patrol sheet or a map builds hundreds of thousands, and
the region demo spent 3.7 CPU-s of its ~50 in about 5,800 collections (full ones among them,
which walk everything the process has not frozen). Raised to :data:`YOUNG_THRESHOLD`, the same run
spends 2.4 s. Collections find the same garbage, later; nothing else changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

#: The environment variable pyarrow reads, once, to choose its default memory pool.
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"

#: glibc's environment variable for the mmap threshold (the user's value wins).
MMAP_THRESHOLD_VARIABLE = "MALLOC_MMAP_THRESHOLD_"

#: Blocks of this many bytes or more get their own mapping (:func:`fix_mmap_threshold`): the
#: 8-byte columns of 524,288 incidents or more. Smaller blocks stay on the heap, whose reuse
#: is faster than new pages: held at 1 MiB, the sample's backtest (rasters and FFTs of a few
#: megabytes, allocated again for every candidate and month) took twice as long.
MMAP_THRESHOLD = 4 << 20

#: glibc's environment variable for the trim threshold (the user's value wins).
TRIM_THRESHOLD_VARIABLE = "MALLOC_TRIM_THRESHOLD_"

#: Free bytes the top of the heap may keep before a ``free`` gives them back: twice
#: :data:`MMAP_THRESHOLD`, the value glibc's own (dynamic) rule gives for that threshold. Left
#: at glibc's 128 KiB, the region's Knox test (20,935 incidents, 99 permutations) took
#: 600,000 page faults, 1.0 s of system time and 2.3 s in all; held here, 20,000 faults and
#: 0.6 s. Between stages and after long pool tasks :func:`release_memory` gives everything
#: back (``malloc_trim`` ignores the threshold), so a process keeps at most this much more.
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

#: New container objects between two young collections of Python's cycle collector in a
#: run's processes (CPython's default: 700; 2,000 from 3.13). The older generations keep
#: CPython's multipliers (a middle collection every 10 young ones, a full one every 10 middle
#: ones when the objects waiting for it are at least a quarter of those that survived the
#: last), so cyclic garbage waits at most 2 million allocations instead of 70,000 before a
#: full collection; between stages and after long tasks :func:`release_memory` collects
#: everything anyway.
YOUNG_THRESHOLD = 20_000

#: ``mallopt``'s parameters for the trim and mmap thresholds (glibc's ``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def prefer_system_pool() -> None:
    """Make pyarrow allocate with the C library (``system``) unless the user chose a pool.

    Effective for this process when pyarrow has not allocated yet, and for the processes it
    starts later (they inherit the environment).
    """
    if os.environ.get(ARROW_POOL_VARIABLE):
        return
    os.environ[ARROW_POOL_VARIABLE] = "system"
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def fix_mmap_threshold() -> None:
    """Hold glibc's mmap and trim thresholds (:data:`MMAP_THRESHOLD`, :data:`TRIM_THRESHOLD`).

    Each is left to glibc when the user set it in the environment.

    Measured on a million incidents in one province (two workers, PSS): a worker that had
    built the province's atlas page stayed at 0.7–1.0 GB after it, and ``mapas`` peaked at
    4.9 GB; the same code with the threshold held went back to 0.2–0.45 GB, and ``mapas``
    peaked at 3.5 GB (held at 128 KiB, 1 MiB or 4 MiB alike). Set in this process
    (``mallopt``); the pool's worker processes import parsc-geo and set it too. Nothing
    happens on other C libraries.
    """
    libc = _libc()
    if libc is None:
        return
    if not os.environ.get(MMAP_THRESHOLD_VARIABLE):
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    if not os.environ.get(TRIM_THRESHOLD_VARIABLE):
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)


@lru_cache(maxsize=1)
def _libc() -> Any:
    """Return glibc (with ``malloc_trim``), or None on other C libraries and systems."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - only glibc has it
    except (OSError, AttributeError):
        return None
    return libc


def release_memory() -> None:
    """Free unreachable cycles, then return the C heap's free pages to the system.

    Inside :func:`frozen_heap`, what is still reachable after the collection is frozen: the
    next release (and Python's own full collections) no longer walk it. The trim needs glibc;
    elsewhere only the cycles are collected. When ``pyarrow`` is loaded, its memory pool
    returns its unused pages too.
    """
    gc.collect()
    if _FROZEN["active"]:
        gc.freeze()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        # Arrow's own allocator (mimalloc or jemalloc: partitions written and read) keeps
        # freed pages for reuse; a run's main process has no use for them after a stage
        arrow.default_memory_pool().release_unused()


#: Whether :func:`release_memory` freezes the objects that survive its collection.
_FROZEN = {"active": False}


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Let :func:`release_memory` freeze what survives it, until the block ends.

    A full collection walks every object the collector tracks: in a run's main process, the
    imported libraries (a third of a million objects by the maps) and the run's state, at
    each stage's release and at each of Python's own full collections (the region demo: 32
    collections, 3.7 s of its 41 s on one core). What has survived a release between stages
    is the libraries and the state the next stages read; frozen (``gc.freeze``), it is left
    out of later collections, which then walk only what the stage since built. Cycles among
    frozen objects that die before the block ends wait for its end (``gc.unfreeze``: they
    are collected again); nothing is lost, some memory may return later. Nested blocks, or a
    process that froze objects itself, leave the collector as it is.
    """
    if _FROZEN["active"] or gc.get_freeze_count():
        yield
        return
    _FROZEN["active"] = True
    try:
        yield
    finally:
        _FROZEN["active"] = False
        gc.unfreeze()


def tune_collector() -> None:
    """Raise the young threshold of Python's cycle collector to :data:`YOUNG_THRESHOLD`.

    For the whole process (a pool worker); :func:`fewer_collections` for a block. A threshold
    already at least that high, or 0 (collection off), is left as it is.
    """
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with :func:`tune_collector`; the thresholds are restored when it ends."""
    before = gc.get_threshold()
    tune_collector()
    try:
        yield
    finally:
        gc.set_threshold(*before)


def freeze_imports() -> None:
    """Freeze what this process holds (a worker's parent after its imports).

    The pool's forkserver imports the workers' libraries once and forks every worker from
    it: frozen there, the libraries' objects are left out of every worker's collections (and
    their pages stay shared with the parent, as the collector no longer writes to them).
    """
    gc.collect()
    gc.freeze()
