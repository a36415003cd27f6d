"""What every workspace backend offers: the layers and the operations commands rely on.

A workspace holds the accepted incidents, the quarantine, the sector layer, the import log,
metadata and analysis layers. :class:`WorkspaceBackend` is the interface the rest of parsc-geo
uses; :class:`parsc_geo.workspace.gpkg.Workspace` (one GeoPackage file, the default) and
:class:`parsc_geo.workspace.postgis.PostGISWorkspace` (a schema of a PostGIS database, for a
team) implement it; :func:`parsc_geo.workspace.open_workspace` picks one from a
``--workspace`` value.

Every backend must keep these promises: ``read_incidents`` returns the canonical schema
(:mod:`parsc_geo.schema`) in EPSG:4326 with ``occurred_at`` as tz-aware America/Lima times,
sorted by ``incident_id``; ``import_incidents`` is one transaction (all or nothing) and adds
only incidents whose ``incident_id`` is new (:mod:`parsc_geo.workspace.importing`), from a
table or, chunk by chunk, from the partitions holding it; two
imports at once both keep their rows; a reader inside ``snapshot()`` sees the workspace before
or after a write, never a mixture. The contract test
``tests/test_workspace_postgis_contract.py`` runs the same checks on every backend.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from .._text import num
from ..settings import TIMEZONE

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd

    from ..partitions import Partition

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
#: Incidents beyond which a GeoPackage workspace should move to PostGIS: every import copies
#: the whole file (its transaction), so imports slow down as the store grows.
POSTGIS_INCIDENTS: Final = 1_000_000
#: File size (bytes) beyond which the same holds.
POSTGIS_BYTES: Final = 1 << 30
#: When a team should keep its workspace in PostGIS instead of a GeoPackage (README, ``info``).
WHEN_POSTGIS: Final = (
    "un GeoPackage sirve a un analista (o a varios que importan por turnos en la misma "
    "máquina); pase a PostGIS (--workspace postgresql://usuario@servidor/base, véase "
    "docs/postgis.md) cuando varios analistas importen a la vez o desde otras máquinas, "
    "cuando se consulte desde QGIS o la web mientras se importa, o al pasar de "
    "1 000 000 de incidentes o 1 GB"
)
#: Columns of an empty import log.
IMPORT_LOG_COLUMNS: Final = (
    "source",
    "sha256",
    "imported_at",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
    "rows_new",
)


@runtime_checkable
class WorkspaceBackend(Protocol):
    """The operations of a workspace, whatever stores it."""

    @property
    def path(self) -> Path | str:
        """What messages name: the file, or the database URL without its password."""

    @property
    def exists(self) -> bool:
        """Whether the workspace has been created."""

    def snapshot(self) -> AbstractContextManager[Any]:
        """Return a context in which every read sees one state of the workspace."""

    def check_writable(self) -> None:
        """Raise a clear error now if the workspace cannot be written (before a long import)."""

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
        accepted: gpd.GeoDataFrame | Sequence[Partition],
        quarantine: pd.DataFrame,
        *,
        sources: list[dict[str, Any]],
        sectors: gpd.GeoDataFrame | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add new incidents and quarantine rows in one transaction; return the counts.

        ``accepted`` is the table of accepted incidents, or the partitions holding it
        (:class:`parsc_geo.partitions.Partition`, in order): those are read and written one
        at a time, with the same result and counts as their concatenated table.
        """


def finish_incidents(gdf: gpd.GeoDataFrame, metadata: dict[str, Any]) -> gpd.GeoDataFrame:
    """Return stored incidents in the canonical form every backend returns.

    ``occurred_at`` (ISO 8601 text or timestamps) as tz-aware times of the workspace's
    ``timezone`` metadata (America/Lima when absent); boolean columns read with
    :func:`parsc_geo._text.as_bool` ("False" stays False); missing text as ""; sorted by
    ``incident_id``; ``attrs`` ``synthetic`` and ``study_area`` from the metadata.
    """
    import geopandas as gpd
    import pandas as pd

    from .._text import as_bool
    from ..schema import ASSIGNMENT_COLUMNS, INCIDENT_COLUMNS

    tz = str(metadata.get("timezone", TIMEZONE))
    if "occurred_at" in gdf.columns:
        gdf["occurred_at"] = pd.to_datetime(
            gdf["occurred_at"], utc=True, format="ISO8601"
        ).dt.tz_convert(tz)
    for col in ("time_known", "label_known", "at_station"):
        if col in gdf.columns:
            # stored as text when a value was missing: "False" must stay False
            gdf[col] = as_bool(gdf[col])
    for col in (*INCIDENT_COLUMNS, *ASSIGNMENT_COLUMNS):
        if col in gdf.columns and gdf[col].dtype == object:
            gdf[col] = gdf[col].fillna("")
    gdf = gdf.sort_values("incident_id", kind="stable").reset_index(drop=True)
    gdf.attrs["synthetic"] = bool(metadata.get("synthetic", False))
    gdf.attrs["timezone"] = tz
    if metadata.get("study_area"):
        gdf.attrs["study_area"] = metadata["study_area"]  # parsc_geo.area.StudyArea.to_dict()
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=gdf.crs)


def postgis_advice(incidents: int, size_bytes: int) -> str:
    """Return the Spanish advice of ``parsc-geo info`` on moving a GeoPackage to PostGIS."""
    if incidents > POSTGIS_INCIDENTS or size_bytes > POSTGIS_BYTES:
        return (
            f"este GeoPackage tiene {num(incidents)} incidentes ({num(size_bytes / 1e6)} MB) y "
            "cada importación copia el archivo entero: conviene pasar a PostGIS "
            "(--workspace postgresql://usuario@servidor/base, véase docs/postgis.md)"
        )
    return WHEN_POSTGIS
