"""What every workspace backend offers: the layers and the operations commands rely on.

A workspace holds the accepted incidents, the quarantine, the sector layer, the import log,
metadata and analysis layers. :class:`WorkspaceBackend` is the interface the rest of parsc-geo
uses; :class:`parsc_geo.workspace.gpkg.Workspace` (one GeoPackage file) implements it, and a
database backend (e.g. PostGIS for national scale) implements the same methods.

Every backend must keep these promises: ``read_incidents`` returns the canonical schema
(:mod:`parsc_geo.schema`) in EPSG:4326 with ``occurred_at`` as tz-aware America/Lima times,
sorted by ``incident_id``; ``import_incidents`` is one transaction (all or nothing) and adds
only incidents whose ``incident_id`` is new.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: Layer of accepted incidents.
INCIDENTS: Final = "incidents"
#: Layer of quarantined input rows (attribute table).
QUARANTINE: Final = "quarantine"
#: Layer of comisaría sectors.
SECTORS: Final = "sectors"
#: Import log: one row per imported file (attribute table).
IMPORTS: Final = "imports"
#: Key/value metadata (attribute table, values as JSON).
METADATA: Final = "parsc_metadata"


@runtime_checkable
class WorkspaceBackend(Protocol):
    """The operations of a workspace, whatever stores it."""

    path: Path

    @property
    def exists(self) -> bool:
        """Whether the workspace has been created."""

    def layers(self) -> list[str]:
        """Return the names of the layers (empty if the workspace does not exist)."""

    def read_layer(self, name: str) -> Any:
        """Read a layer (GeoDataFrame, or DataFrame for attribute tables)."""

    def read_incidents(self) -> gpd.GeoDataFrame:
        """Return the accepted incidents in the canonical schema."""

    def read_quarantine(self) -> pd.DataFrame:
        """Return the quarantined rows."""

    def read_sectors(self) -> gpd.GeoDataFrame | None:
        """Return the sector layer, or None."""

    def imports(self) -> pd.DataFrame:
        """Return the import log."""

    def metadata(self) -> dict[str, Any]:
        """Return the metadata as a dict."""

    def describe(self) -> dict[str, Any]:
        """Return a summary: layers with feature counts, metadata, imports, period."""

    def write_layer(self, name: str, data: Any) -> None:
        """Write (replace) a layer."""

    def set_metadata(self, **values: Any) -> None:
        """Set metadata keys."""

    def write_sectors(self, sectors: gpd.GeoDataFrame) -> None:
        """Store (replace) the sector layer."""

    def import_incidents(
        self,
        accepted: gpd.GeoDataFrame,
        quarantine: pd.DataFrame,
        *,
        sources: list[dict[str, Any]],
        sectors: gpd.GeoDataFrame | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add new incidents and quarantine rows in one transaction; return the counts."""
