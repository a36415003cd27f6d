"""GeoJSON, GeoPackage and Shapefile reader (pyogrio): attributes plus point coordinates."""

from __future__ import annotations

from pathlib import Path

from .._errors import InputDataError
from ._table import RawTable


def read_vector(path: str | Path, *, layer: str | None = None) -> RawTable:
    """Read a vector file; point geometries give coordinates in the file's CRS.

    Parameters
    ----------
    path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp`` (or a zipped shapefile).
    layer
        Layer name for multi-layer files (GeoPackage); default the first layer.

    Returns
    -------
    RawTable
        Attributes, ``geom_x``/``geom_y`` (NaN where the feature has no usable point) and
        ``geom_problem`` (the geometry type when it is not a point, ``"empty"`` when missing).
        A GeoJSON without a declared CRS is taken as EPSG:4326 (RFC 7946).
    """
    import numpy as np
    import pyogrio
    import shapely

    path = Path(path)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise InputDataError(
            f"{path.name}: no se puede leer el archivo como capa vectorial ({exc})",
            hint="compruebe que sea un GeoJSON, GeoPackage o Shapefile válido",
        ) from exc
    geoms = gdf.geometry.to_numpy()
    n = len(gdf)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    problem = np.full(n, "", dtype=object)
    types = shapely.get_type_id(geoms)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    point = (types == 0) & ~empty
    x[point] = shapely.get_x(geoms[point])
    y[point] = shapely.get_y(geoms[point])
    multi = (types == 4) & ~empty
    if multi.any():
        single = shapely.get_num_geometries(geoms[multi]) == 1
        idx = np.flatnonzero(multi)[single]
        firsts = shapely.get_geometry(geoms[idx], 0)
        x[idx], y[idx] = shapely.get_x(firsts), shapely.get_y(firsts)
        problem[np.flatnonzero(multi)[~single]] = "MultiPoint with several points"
    other = ~empty & ~point & ~multi
    names = {
        1: "LineString",
        2: "LinearRing",
        3: "Polygon",
        5: "MultiLineString",
        6: "MultiPolygon",
        7: "GeometryCollection",
    }
    problem[other] = [names.get(int(t), "geometry") for t in types[other]]
    problem[empty] = "empty"
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    if crs is None and path.suffix.lower() in (".geojson", ".json"):
        crs = "EPSG:4326"
    info: dict[str, object] = {
        "format": path.suffix.lower().lstrip(".").upper(),
        "layer": layer,
        "crs": crs,
    }
    skipped = _skipped_layers(path, layer)
    if skipped:
        info["warnings"] = [
            "el archivo tiene otras capas con entidades que no se leyeron: "
            f"{', '.join(skipped)}; se leyó solo la primera capa (exporte cada capa aparte "
            "para importarla)"
        ]
    data = gdf.drop(columns=gdf.geometry.name)
    data = data.astype(object).where(data.notna().to_numpy(), "")
    return RawTable(
        data=data.reset_index(drop=True),
        source=path.name,
        source_row=np.arange(1, n + 1, dtype=np.int64),
        kind="vector",
        geom_x=x,
        geom_y=y,
        geom_problem=problem,
        crs=crs,
        info=info,
    )


def _skipped_layers(path: Path, layer: str | None) -> list[str]:
    """Name the layers after the first one that hold features, with their count.

    pyogrio reads the first layer of a GeoPackage when none is named: a second layer of
    complaints must never vanish silently, so it is named in the report.
    """
    import pyogrio

    if layer is not None:
        return []
    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # the file was read above; a listing failure only loses the warning
        return []
    skipped = []
    for name, _geometry_type in layers[1:]:
        try:
            count = int(pyogrio.read_info(path, layer=name)["features"])
        except Exception:  # an unreadable extra layer is still named
            count = -1
        if count != 0:
            shown = "?" if count < 0 else str(count)
            skipped.append(f"'{name}' ({shown} entidad(es))")
    return skipped
