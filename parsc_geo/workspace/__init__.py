"""The workspace: where accepted incidents, quarantine, sectors and results are kept.

:mod:`~parsc_geo.workspace.base` defines what a workspace offers (:class:`WorkspaceBackend`) and
the layer names; :mod:`~parsc_geo.workspace.gpkg` stores it in one GeoPackage file
(:class:`Workspace`, the default backend); :mod:`~parsc_geo.workspace.postgis` in a schema of
a PostGIS database shared by a team (:class:`~parsc_geo.workspace.postgis.PostGISWorkspace`,
imported only when used). :func:`open_workspace` picks the backend from a ``--workspace``
value (a file name, or ``postgresql://…``); :mod:`~parsc_geo.workspace.importing` holds the
rules of an import that every backend follows.
"""

from .base import IMPORTS, INCIDENTS, METADATA, QUARANTINE, SECTORS, WorkspaceBackend
from .factory import open_workspace
from .gpkg import Workspace
from .location import DatabaseURL, is_database_url, parse_workspace

__all__ = [
    "IMPORTS",
    "INCIDENTS",
    "METADATA",
    "QUARANTINE",
    "SECTORS",
    "DatabaseURL",
    "Workspace",
    "WorkspaceBackend",
    "is_database_url",
    "open_workspace",
    "parse_workspace",
]
