"""How library code tells the user what it chose or did: through :mod:`logging`.

Every module logs to its own logger under ``parsc_geo``. Announcements of automatic choices
(bandwidth, cell size, CRS, a method that declines) are INFO messages, or DEBUG ones when the
caller passed ``quiet=True``. The command line renders them with one handler (see
:mod:`parsc_geo.cli.main`; ``-q`` hides them, ``-v`` adds the DEBUG ones); a script or notebook
shows them with ``logging.basicConfig(level=logging.INFO, format="%(message)s")``.
"""

from __future__ import annotations

import logging
from typing import Final

#: The logger every parsc-geo logger descends from.
ROOT: Final = "parsc_geo"


def announce(logger: logging.Logger, message: str, *, quiet: bool = False) -> None:
    """Log an announcement: INFO, or DEBUG when ``quiet`` (the library's ``quiet=`` argument)."""
    logger.log(logging.DEBUG if quiet else logging.INFO, message)
