"""Where the bundled data lives (``boundaries/`` and ``incidents/`` beside the package)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ._errors import InputDataError


def data_root() -> Path:
    """Return the folder holding ``boundaries/`` and ``incidents/``.

    Looked up in this order: the ``PARSC_GEO_DATA`` environment variable, the source checkout
    (the folder above the package, for editable installs), and ``<prefix>/share/parsc-geo``
    (where a wheel installs the data files).
    """
    candidates: list[Path] = []
    env = os.environ.get("PARSC_GEO_DATA")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parent.parent)
    candidates.append(Path(sys.prefix) / "share" / "parsc-geo")
    for candidate in candidates:
        if (candidate / "boundaries").is_dir():
            return candidate
    raise InputDataError(
        "no se encuentra la carpeta de datos incluida 'boundaries/' (se buscó en "
        + ", ".join(str(c) for c in candidates)
        + ")",
        hint="asigne a PARSC_GEO_DATA la carpeta que contiene boundaries/ e incidents/",
    )


def boundaries_dir() -> Path:
    """Return the folder of vendored boundary, station and population data."""
    return data_root() / "boundaries"


def incidents_dir() -> Path:
    """Return the folder of bundled (synthetic) incident samples."""
    return data_root() / "incidents"
