"""Provenance of results: checksums of input files and versions of the software used.

Every record of a run (``run.json`` of ``parsc-geo run``/``demo`` and of ``parsc-geo priority``,
the ingestion report, the workspace's import log) describes its inputs and software with these
functions, so the records agree with one another.
"""

from __future__ import annotations

import hashlib
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any, Final

#: Packages whose versions shape the results, recorded in every ``run.json``.
RECORDED_PACKAGES: Final[tuple[str, ...]] = (
    "numpy",
    "pandas",
    "scipy",
    "shapely",
    "pyproj",
    "pyogrio",
    "geopandas",
    "rasterio",
    "scikit-learn",
    "libpysal",
    "esda",
    "mapclassify",
    "folium",
    "matplotlib",
    "openpyxl",
)
#: Recorded for a package that is not installed.
NOT_INSTALLED: Final = "not installed"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_file(path: str | os.PathLike[str], **extra: Any) -> dict[str, Any]:
    """Return ``path``, ``name``, ``bytes`` and ``sha256`` of an input file, plus ``extra``.

    Examples
    --------
    >>> describe_file("incidentes.csv", role="incidents")  # doctest: +SKIP
    {'path': 'incidentes.csv', 'name': 'incidentes.csv', 'bytes': 1024, 'sha256': '…',
     'role': 'incidents'}
    """
    p = Path(path)
    return {
        "path": str(p),
        "name": p.name,
        "bytes": p.stat().st_size,
        "sha256": file_sha256(p),
        **extra,
    }


def package_versions() -> dict[str, str]:
    """Return the versions of parsc-geo, Python and :data:`RECORDED_PACKAGES`.

    A package that is not installed is recorded as ``"not installed"``.
    """
    from . import __version__

    versions = {"parsc-geo": __version__, "python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    return versions
