"""The layers of a ``parsc-geo run`` output folder, for :func:`~.qgis_project.write_qgis_project`.

:func:`run_layers` looks for the files a run writes (and those of
:mod:`parsc_geo.reports.qgis_layers`) and returns them as :class:`~.qgis_project.QgisLayer`
descriptions with Spanish names carrying their number of features, as the atlas's layer control
does. The whole project of a run is then one call::

    write_qgis_project(output, run_layers(output), title=config.run_title)
"""

from __future__ import annotations

import os
from pathlib import Path

from .qgis_layers import (
    DISTRICTS,
    PRIORITY_PREFIX,
    PROVINCES,
    SECTORS,
    STATIONS,
    SUBSECTORS,
    slug,
)
from .qgis_project import QgisLayer, sql_where

#: Zone methods drawn as their own layer, in the atlas's order.
ZONE_METHODS = ("kde", "hdbscan", "dbscan")


class _Folder:
    """A run's output folder: which GeoPackage layers exist, how many features they hold."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.found: list[QgisLayer] = []

    def tables(self, path: str) -> list[str]:
        import pyogrio

        file = self.root / path
        return [str(name) for name, _ in pyogrio.list_layers(file)] if file.is_file() else []

    def count(self, path: str, table: str, where: tuple[str, str] | None = None) -> int:
        import pyogrio

        file = self.root / path
        if where is None:
            return int(pyogrio.read_info(file, layer=table)["features"])
        fids, _ = pyogrio.read_bounds(file, layer=table, where=sql_where(where))
        return len(fids)

    def add(
        self,
        path: str,
        kind: str,
        label: str,
        table: str,
        where: tuple[str, str] | None = None,
        visible: bool | None = None,
    ) -> None:
        """Add a layer named ``label (n)`` when ``table`` exists in ``path``."""
        if table not in self.tables(path):
            return
        count = f"{self.count(path, table, where):,}".replace(",", "\u00a0")
        self.found.append(QgisLayer(path, kind, f"{label} ({count})", table, where, visible))


def run_layers(output_dir: str | os.PathLike[str]) -> list[QgisLayer]:
    """Return the layers of a ``parsc-geo run`` output folder that exist, in the atlas's order.

    Looked for, relative to ``output_dir``:

    - ``workspace.gpkg``: ``incidents`` (by fenómeno, with time), and ``hotspots`` when
      ``hotspots/hotspots.gpkg`` is absent;
    - ``hotspots/hotspots.gpkg`` (layer ``hotspots``): one layer per method present (KDE,
      HDBSCAN, DBSCAN zones; Gi* hot and cold cells);
    - ``patrullaje/puntos_criticos.gpkg``: patrol critical points;
    - ``sectores.gpkg`` (:func:`~parsc_geo.reports.qgis_layers.write_sector_layers`):
      sectors and subsectors; else the workspace's ``sectors`` as subsectors;
    - ``prioridad/prioridad.gpkg``
      (:func:`~parsc_geo.reports.qgis_layers.write_priority_layers`): one choropleth per level
      and target, provinces first;
    - ``limites.gpkg`` (:func:`~parsc_geo.reports.qgis_layers.write_reference_layers`):
      stations, provinces and districts;
    - ``densidad/densidad_*.tif``: one density raster per province.
    """
    folder = _Folder(Path(output_dir))
    folder.add("workspace.gpkg", "incidents", "Incidentes por fenómeno", "incidents")
    folder.add("limites.gpkg", "stations", "Comisarías y dependencias policiales", STATIONS)
    _hotspot_layers(folder)
    folder.add(
        "patrullaje/puntos_criticos.gpkg",
        "critical_points",
        "Puntos críticos de patrullaje",
        "puntos_criticos",
    )
    folder.add("sectores.gpkg", "sectors", "Sectores", SECTORS)
    if SUBSECTORS in folder.tables("sectores.gpkg"):
        folder.add(
            "sectores.gpkg", "subsectors", "Subsectores, por número de incidentes", SUBSECTORS
        )
    else:
        folder.add("workspace.gpkg", "subsectors", "Subsectores", "sectors")
    _priority_layers(folder)
    folder.add("limites.gpkg", "provinces", "Provincias", PROVINCES)
    folder.add("limites.gpkg", "districts", "Distritos", DISTRICTS)
    return folder.found + _density_layers(folder.root)


def _hotspot_layers(folder: _Folder) -> None:
    import pyogrio

    from ..maps.layers import METHOD_LABELS

    path = "hotspots/hotspots.gpkg"
    if "hotspots" not in folder.tables(path):
        path = "workspace.gpkg"
        if "hotspots" not in folder.tables(path):
            return
    fields = list(pyogrio.read_info(folder.root / path, layer="hotspots")["fields"])
    if "method" not in fields:
        return
    methods = pyogrio.read_dataframe(
        folder.root / path, layer="hotspots", columns=["method"], read_geometry=False
    )["method"]
    present = set(methods.dropna().astype(str))
    for method in ZONE_METHODS:
        if method in present:
            label = f"Zonas críticas por {METHOD_LABELS[method]}"
            folder.add(path, method, label, "hotspots", where=("method", method))
    if "gistar" in present and "gi_class" in fields:
        folder.add(
            path,
            "gistar",
            "Gi*: celdas calientes y frías",
            "hotspots",
            where=("method", "gistar"),
            # the atlas shows cells only when no zone polygons are drawn
            visible=not present & set(ZONE_METHODS),
        )


def _priority_layers(folder: _Folder) -> None:
    import pyogrio

    path = "prioridad/prioridad.gpkg"
    tables = [t for t in folder.tables(path) if t.startswith(f"{PRIORITY_PREFIX}_")]
    # provinces before districts; within a level, the order written (the plan's fenómenos)
    tables.sort(key=lambda t: not t.startswith(f"{PRIORITY_PREFIX}_provincia"))
    for table in tables:
        head = pyogrio.read_dataframe(
            folder.root / path,
            layer=table,
            columns=["nivel_territorial", "objetivo_nombre"],
            read_geometry=False,
            max_features=1,
        )
        if len(head):
            level, target = (str(v) for v in head.iloc[0])
            folder.found.append(
                QgisLayer(path, "priority", f"Prioridad por {level} — {target}", table)
            )


def _density_layers(root: Path) -> list[QgisLayer]:
    from .. import boundaries

    # file names are slugs (densidad_celendin.tif): the boundaries give back the accents
    provinces = boundaries.load_provinces(prefix=boundaries.WHOLE_COUNTRY)
    names = {slug(str(p)): str(p) for p in provinces["provincia"]}
    layers = []
    for tif in sorted((root / "densidad").glob("densidad_*.tif")):
        key = tif.stem.removeprefix("densidad_")
        place = names.get(key, key.replace("_", " ").title())
        layers.append(
            QgisLayer(f"densidad/{tif.name}", "density", f"Densidad — {place} (incidentes/km²)")
        )
    return layers
