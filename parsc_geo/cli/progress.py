"""Progress of long stages (priority, patrol) while they run, not only when they end.

:func:`stage` wraps one phase of a command ("planificando 12 sectores"). It says when the phase
starts and how long it took, and meanwhile shows that it is still running: on a terminal a tqdm
line whose elapsed time keeps counting; elsewhere (a log file, a CI job) a line through the
command line's message handler every ``every`` seconds. With ``-q`` it says nothing.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .._text import num

logger = logging.getLogger("parsc_geo.cli.progress")

#: Seconds between two "still running" lines when stderr is not a terminal.
EVERY_S = 15.0


@dataclass
class Heartbeat:
    """When to say that a phase is still running: every ``every`` seconds after ``start``."""

    what: str
    start: float
    every: float = EVERY_S
    said: int = field(default=0)

    def due(self, now: float) -> str | None:
        """Return the line to show at ``now`` (None when it is not yet time)."""
        elapsed = now - self.start
        if elapsed < (self.said + 1) * self.every:
            return None
        self.said = int(elapsed // self.every)
        return f"{self.what}: sigue en curso ({num(elapsed)} s)"


@contextmanager
def stage(
    what: str,
    *,
    quiet: bool = False,
    every: float = EVERY_S,
    clock: Callable[[], float] = time.monotonic,
    terminal: bool | None = None,
) -> Iterator[None]:
    """Show that the phase ``what`` runs, then how long it took.

    Parameters
    ----------
    what
        The phase, in Spanish and lower case ("planificando 12 sectores").
    quiet
        Say nothing (``-q``).
    every
        Seconds between two "still running" lines (not on a terminal).
    clock
        Source of time (tests pass their own).
    terminal
        Whether stderr is a terminal [default: asked to stderr].
    """
    if quiet:
        yield
        return
    start = clock()
    logger.info(f"{what[:1].upper()}{what[1:]}…")
    on_terminal = sys.stderr.isatty() if terminal is None else terminal
    stop = threading.Event()
    ticker: threading.Thread
    if on_terminal:
        from tqdm import tqdm

        bar = tqdm(total=None, desc=what, bar_format="{desc}: {elapsed}", file=sys.stderr)

        def tick() -> None:
            while not stop.wait(0.5):
                bar.refresh()

        ticker = threading.Thread(target=tick, daemon=True)
    else:
        bar = None
        beat = Heartbeat(what, start, every)

        def tick() -> None:
            while not stop.wait(min(every, 1.0)):
                line = beat.due(clock())
                if line:
                    logger.info(line)

        ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        if bar is not None:
            bar.close()
    logger.info(f"{what[:1].upper()}{what[1:]}: listo en {num(clock() - start, 1)} s")
