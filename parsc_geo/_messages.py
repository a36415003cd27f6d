"""How library code tells the user what it chose or did: through :mod:`logging`.

Every module logs to its own logger under ``parsc_geo``. Announcements of automatic choices
(bandwidth, cell size, CRS, a method that declines) are INFO messages, or DEBUG ones when the
caller passed ``quiet=True`` — so they are shown by default, like R's ``message()``, and
silenced by ``quiet``.

Where they go: in a script or notebook, to stderr through :data:`DEFAULT_HANDLER` (installed on
the ``parsc_geo`` logger by :func:`install_default`; remove it to route the messages through
your own logging configuration). On the command line, the one handler of
:mod:`parsc_geo.cli.main` takes its place for the duration of a command (``-q`` hides the
announcements, ``-v`` adds the DEBUG ones).
"""

from __future__ import annotations

import logging
import sys
from typing import Final

#: The logger every parsc-geo logger descends from.
ROOT: Final = "parsc_geo"


def announce(logger: logging.Logger, message: str, *, quiet: bool = False) -> None:
    """Log an announcement: INFO, or DEBUG when ``quiet`` (the library's ``quiet=`` argument)."""
    logger.log(logging.DEBUG if quiet else logging.INFO, message)


class StderrHandler(logging.Handler):
    """Write each message as one line on the current ``sys.stderr``.

    The stream is looked up at every message (not when the handler is made), so redirected or
    captured stderr streams receive the messages.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Write one message."""
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # a broken stream must not break the computation
            self.handleError(record)


#: The handler that shows announcements when nothing else was configured.
DEFAULT_HANDLER: Final = StderrHandler(logging.INFO)


def install_default() -> None:
    """Show INFO announcements on stderr unless the application decided otherwise."""
    logger = logging.getLogger(ROOT)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if DEFAULT_HANDLER not in logger.handlers:
        logger.addHandler(DEFAULT_HANDLER)
