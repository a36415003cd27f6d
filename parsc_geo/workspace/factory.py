"""The one place that picks a workspace backend from a ``--workspace`` value."""

from __future__ import annotations

import os

from .base import WorkspaceBackend
from .location import DatabaseURL, parse_workspace


def open_workspace(value: str | os.PathLike[str] | DatabaseURL) -> WorkspaceBackend:
    """Return the workspace backend for a ``--workspace`` value.

    A PostgreSQL URL opens :class:`parsc_geo.workspace.postgis.PostGISWorkspace` (nothing is
    connected until it is used); anything else is a GeoPackage file
    (:class:`parsc_geo.workspace.gpkg.Workspace`).
    """
    target = parse_workspace(value)
    if isinstance(target, DatabaseURL):
        from .postgis import PostGISWorkspace

        return PostGISWorkspace(target)
    from .gpkg import Workspace

    return Workspace(target)
