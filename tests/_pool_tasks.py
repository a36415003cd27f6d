"""Module-level tasks for the worker pool tests (they must pickle into other processes)."""

from __future__ import annotations

import os

from parsc_geo._errors import InputDataError


def square(x: int) -> int:
    return x * x


def pid_and_epoch(_: int) -> tuple[int, str | None]:
    """Return the process that ran the task and the document date it saw."""
    return os.getpid(), os.environ.get("SOURCE_DATE_EPOCH")


def fail(x: int) -> int:
    """Raise a parsc-geo error (with a hint) for 3, else return ``x``."""
    if x == 3:
        raise InputDataError(f"fila {x} ilegible", hint="revise el archivo")
    return x


def timed(weight: int) -> tuple[int, float, float]:
    """Sleep a moment; return ``weight`` with when the task ran (start, end; wall clock)."""
    import time

    start = time.time()
    time.sleep(0.25)
    return weight, start, time.time()
