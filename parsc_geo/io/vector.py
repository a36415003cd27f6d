"""GeoJSON, GeoPackage and Shapefile reader (pyogrio): attributes plus point coordinates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from .._errors import InputDataError
from ._table import RawTable

#: Features of a layer read at once by :class:`VectorFile` (a layer of more is read by chunks
#: of this many features, never whole).
CHUNK_FEATURES: Final = 250_000
#: Formats whose layers are read by chunks: GDAL reaches a feature of them by its position.
#: A GeoJSON file is read at once: GDAL parses a FeatureCollection as a stream (a chunk of
#: 250,000 point features of a file of a million takes the chunk's memory), but it reads the
#: file through to open it and from its start to reach a chunk's first feature, so a file of
#: N chunks would be read about N times over: a time growing with the square of the file.
_CHUNKED_SUFFIXES = (".gpkg", ".shp")


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
    return VectorFile(path, layer=layer).chunk_at(0, None)


class VectorFile:
    """A vector layer opened for reading by chunks of features (see :data:`CHUNK_FEATURES`).

    :meth:`chunks` yields the features of a large GeoPackage or Shapefile layer a chunk at a
    time (each as :func:`read_vector` reads a whole file: the same columns, values, row
    numbers and coordinates); other files, and layers of fewer features, in one chunk, which
    is kept. :meth:`chunk` reads chunk ``k`` again (returns the one chunk kept).
    """

    def __init__(self, path: str | Path, *, layer: str | None = None) -> None:
        self.path = Path(path)
        self.layer = layer
        self._size: int | None = None
        self._whole: RawTable | None = None
        self._skipped: list[str] | None = None
        #: integer and boolean fields with a missing value somewhere in the layer (read by
        #: chunks, they are decimals in every chunk, as in the whole layer)
        self._decimal: list[str] = []

    def _features(self) -> int | None:
        """Return the layer's features when GDAL knows them cheaply (else None)."""
        import pyogrio

        if self.path.suffix.lower() not in _CHUNKED_SUFFIXES:
            return None
        try:
            count = int(pyogrio.read_info(self.path, layer=self.layer)["features"])
        except Exception:  # unreadable: reading it whole says why, in Spanish
            return None
        return count if count >= 0 else None

    def chunks(self, rows: int | None = CHUNK_FEATURES) -> Iterator[RawTable]:
        """Yield the features ``rows`` at a time (None, or a small layer: all at once)."""
        features = self._features() if rows is not None else None
        if features is not None and rows is not None and features > rows:
            decimal = _fields_with_nulls(self.path, self.layer)
            if decimal is None:
                features = None  # not known: read whole
            else:
                self._decimal = decimal
        if rows is None or features is None or features <= rows:
            # read at once, and kept (as a small file's rows were): read again, it is this
            self._size = None
            self._decimal = []
            self._whole = self.chunk_at(0, None)
            yield self._whole
            return
        self._size, self._whole = rows, None
        for start in range(0, features, rows):
            yield self.chunk_at(start, rows)

    def chunk(self, k: int) -> RawTable:
        """Read chunk ``k`` of the last :meth:`chunks` again."""
        if self._size is None:
            return self._whole if self._whole is not None else self.chunk_at(0, None)
        return self.chunk_at(k * self._size, self._size)

    def release(self) -> None:
        """Nothing to let go of: a chunk is read again from the file."""

    def chunk_at(self, start: int, rows: int | None) -> RawTable:
        """Return ``rows`` features from position ``start`` (None: all) as a :class:`RawTable`."""
        import numpy as np
        import pyogrio
        import shapely

        path, layer = self.path, self.layer
        window = {} if rows is None else {"skip_features": start, "max_features": rows}
        try:
            gdf = pyogrio.read_dataframe(path, layer=layer, **window)
        except Exception as exc:  # pyogrio raises several error types for unreadable files
            raise InputDataError(
                f"{path.name}: no se puede leer el archivo como capa vectorial ({exc})",
                hint="compruebe que sea un GeoJSON, GeoPackage o Shapefile válido",
            ) from exc
        for name in self._decimal:
            # pyogrio gives an integer or boolean field decimals when some value is missing:
            # in every chunk, as in the whole layer, whatever the chunk holds
            gdf[name] = gdf[name].astype("float64")
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
        if self._skipped is None:
            self._skipped = _skipped_layers(path, layer)
        if self._skipped:
            info["warnings"] = [
                "el archivo tiene otras capas con entidades que no se leyeron: "
                f"{', '.join(self._skipped)}; se leyó solo la primera capa (exporte cada capa "
                "aparte para importarla)"
            ]
        data = gdf.drop(columns=gdf.geometry.name)
        data = data.astype(object).where(data.notna().to_numpy(), "")
        return RawTable(
            data=data.reset_index(drop=True),
            source=path.name,
            source_row=np.arange(start + 1, start + n + 1, dtype=np.int64),
            kind="vector",
            geom_x=x,
            geom_y=y,
            geom_problem=problem,
            crs=crs,
            info=info,
        )


def _quoted(name: str) -> str | None:
    """Return a name of the file as an OGR SQL identifier (None: it cannot be one).

    A name holding a quote or a backslash (OGR SQL would read the identifier's end or an
    escape there) is not written in SQL at all: a name of a file is never read as SQL.
    """
    if '"' in name or "\\" in name:
        return None
    return f'"{name}"'


def _fields_with_nulls(path: Path, layer: str | None) -> list[str] | None:
    """Return the integer and boolean fields of a layer that miss a value (None: not known).

    Counted by GDAL (OGR SQL ``COUNT``) over the whole layer, a feature at a time.
    """
    import pyogrio

    try:
        info = pyogrio.read_info(path, layer=layer)
        name = layer if layer is not None else str(pyogrio.list_layers(path)[0][0])
        fields = [
            str(f)
            for f, dtype in zip(info["fields"], info["dtypes"], strict=True)
            if str(dtype).startswith(("int", "uint", "bool"))
        ]
        if not fields:
            return []
        quoted = [_quoted(n) for n in (name, *fields)]
        if None in quoted:
            return None  # a name that cannot be written in OGR SQL: the layer is read whole
        counts = ", ".join(f"COUNT({q}) AS c{i}" for i, q in enumerate(quoted[1:]))
        sql = f"SELECT COUNT(*) AS n, {counts} FROM {quoted[0]}"
        row = pyogrio.read_dataframe(path, sql=sql, sql_dialect="OGRSQL", read_geometry=False)
        total = int(row["n"].iloc[0])
        return [f for i, f in enumerate(fields) if int(row[f"c{i}"].iloc[0]) < total]
    except Exception:  # a layer GDAL cannot count: read whole
        return None


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
