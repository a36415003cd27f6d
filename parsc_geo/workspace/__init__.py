"""The workspace: where accepted incidents, quarantine, sectors and results are kept.

:mod:`~parsc_geo.workspace.base` defines what a workspace offers (:class:`WorkspaceBackend`) and
the layer names; :mod:`~parsc_geo.workspace.gpkg` stores it in one GeoPackage file
(:class:`Workspace`, the default backend).
"""

from .base import IMPORTS, INCIDENTS, METADATA, QUARANTINE, SECTORS, WorkspaceBackend
from .gpkg import Workspace

__all__ = [
    "IMPORTS",
    "INCIDENTS",
    "METADATA",
    "QUARANTINE",
    "SECTORS",
    "Workspace",
    "WorkspaceBackend",
]
