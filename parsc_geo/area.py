"""The study area: the territory an analysis covers, named by UBIGEO, by name or by a polygon file.

How a study area is named (:func:`resolve_area`)
------------------------------------------------
- a UBIGEO prefix: ``"04"`` (department of Arequipa), ``"0401"`` (province), ``"040101"``
  (district); several separated by commas (``"04,18"``);
- the whole country: ``"peru"``, ``"perú"``, ``"pe"`` or ``"nacional"``;
- a name, compared without accents or case: ``"Arequipa"``, ``"áncash"``. A name is looked up
  among departments, then provinces, then districts, and the first level where it names
  something wins (``"Arequipa"`` is the department 04; the province 0401 and the district
  040101 of the same name are announced with their codes). ``"provincia de Arequipa"`` or
  ``"distrito de Yanahuara"`` choose the level. A name that names several units of one level
  (there are ten districts called Santa Rosa) is refused with the list of their codes;
- a polygon file (GeoJSON, GeoPackage, Shapefile, KML …): its polygons, united;
- ``None``: the default study area, :data:`parsc_geo.settings.STUDY_AREA_UBIGEO_PREFIX`
  (``"06"``, Cajamarca).

What a study area gives
-----------------------
Its districts, provinces and population (the bundled INEI units of its UBIGEO prefixes, or those
a polygon touches); the police units that may take its complaints (every CENACOM 2017 unit of
the departments it covers: complaints are handled within the police region, which is the
department); the polygon that accepts incident points (see :meth:`StudyArea.polygon`); and its
metric CRS.

The metric CRS
--------------
The WGS 84 / UTM zone (south) containing the centre of the area's extent: 17S for Cajamarca,
Piura or Lima, 18S for Cusco or Ayacucho, 19S for Puno or Tacna. An area over two zones
(Arequipa spans 18S and 19S; the whole country 17S to 19S) is projected in the zone of its
centre, for every district alike, so that distances between any two of its incidents are
measured in one plane. At the country's western edge, 6.3° from the central meridian of 18S,
the UTM scale factor is 1.0057: lengths there are overstated by less than 0.6 % (areas by 1.1 %),
which is far below the uncertainty of police geocoding. Per-province analyses (densities,
hotspots) still choose the zone of each province's own data (:mod:`parsc_geo.projection`).

How incidents tell their study area (:func:`area_of`)
-----------------------------------------------------
The area recorded with them (``attrs["study_area"]``: set by the ingestion and kept in the
workspace metadata); otherwise the departments of their assigned UBIGEO codes; otherwise the
default. Incidents not yet assigned to districts can be located instead (:func:`locate_area`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ._errors import ConfigError
from ._messages import announce
from ._text import fold
from .settings import STUDY_AREA_UBIGEO_PREFIX

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

logger = logging.getLogger(__name__)

#: Kinds of study area.
KINDS: Final[tuple[str, ...]] = ("pais", "departamento", "provincia", "distrito", "poligono")

#: Names of the whole country (compared folded).
COUNTRY_NAMES: Final[frozenset[str]] = frozenset({"PERU", "PE", "NACIONAL", "TODO EL PERU"})

#: Words that choose the level of a name (``"provincia de Arequipa"``).
_LEVEL_WORDS: Final[dict[str, str]] = {
    "DEPARTAMENTO": "departamento",
    "REGION": "departamento",
    "PROVINCIA": "provincia",
    "DISTRITO": "distrito",
}
_LEVEL_NAME = re.compile(r"^(DEPARTAMENTO|REGION|PROVINCIA|DISTRITO)(?:\s+DE(?:L)?)?\s+(.+)$")
_CODE_LIST = re.compile(r"^\d+(\s*,\s*\d+)*$")
#: Suffixes read as polygon files even when the file does not exist yet (to say so).
_POLYGON_SUFFIXES: Final[frozenset[str]] = frozenset(
    {".geojson", ".json", ".gpkg", ".shp", ".kml", ".kmz", ".zip", ".fgb", ".gml"}
)
#: Share of located points a department must hold to be taken as part of a located area.
LOCATE_MIN_SHARE: Final[float] = 0.01


@dataclass(frozen=True)
class StudyArea:
    """The territory an analysis covers.

    Attributes
    ----------
    kind
        ``"pais"``, ``"departamento"``, ``"provincia"``, ``"distrito"`` or ``"poligono"``.
    codes
        UBIGEO prefixes (``("06",)``; ``("",)`` for the whole country; empty for a polygon).
    name
        Name of the unit(s) as in the INEI layers (``"Arequipa"``), or of the polygon file.
    source
        The polygon file, for ``"poligono"`` areas read from a file.
    geometry
        The polygon of an area given as a geometry (EPSG:4326), not as a file.
    """

    kind: str
    codes: tuple[str, ...]
    name: str
    source: str | None = None
    geometry: BaseGeometry | None = field(default=None, compare=False, repr=False)

    # -- naming ---------------------------------------------------------------------------

    @property
    def place(self) -> str:
        """Return the area as titles name it: ``"región Cajamarca"``, ``"provincia de Ilo"``."""
        if self.kind == "departamento":
            return ("región " if len(self.codes) == 1 else "regiones ") + self.name
        if self.kind in ("provincia", "distrito"):
            return f"{self.kind} de {self.name}"
        if self.kind == "pais":
            return self.name
        return f"área de estudio ({self.name})"

    @property
    def heading(self) -> str:
        """Return the area as headings name it: ``"Cajamarca"``, ``"provincia de Ilo (…)"``."""
        return self.name if self.kind in ("departamento", "pais") else self.place

    @property
    def slug(self) -> str:
        """Return a file-name form: ``"cajamarca"``, ``"peru"``, ``"arequipa_0401"``."""
        from ._text import slug

        if self.kind == "pais":
            return "peru"
        if self.kind == "departamento":
            return slug(self.name)
        if self.kind == "poligono":
            return slug(Path(self.name).stem, default="area")
        return slug(self.name.split(" (")[0]) + "_" + "_".join(self.codes)

    def describe(self) -> str:
        """Return a one-line description (``"Cajamarca (13 provincias)"``)."""
        if self.kind == "departamento":
            return f"{self.name} ({len(self.provinces())} provincias)"
        if self.kind == "pais":
            return f"{self.name} ({len(self.departments())} departamentos)"
        if self.kind == "poligono":
            return f"polígono {self.name}"
        return f"{self.place} (UBIGEO {', '.join(self.codes)})"

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready record (workspace metadata, ``run.json``)."""
        return {
            "tipo": self.kind,
            "ubigeo": list(self.codes),
            "nombre": self.name,
            "archivo": self.source,
            "descripcion": self.describe(),
            "crs_metrico": self.metric_crs,
            "zona_utm": self.utm_zone,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> StudyArea:
        """Rebuild an area from :meth:`to_dict` (a polygon area needs its file)."""
        kind = str(record.get("tipo", ""))
        if kind not in KINDS:
            raise ConfigError(f"área de estudio guardada con un tipo desconocido: {kind!r}")
        if kind == "poligono":
            if not record.get("archivo"):
                raise ConfigError(
                    "el área de estudio guardada era un polígono en memoria y no se puede "
                    "reconstruir",
                    hint="indique --study-area con un código UBIGEO, un nombre o un archivo",
                )
            return _polygon_file(Path(str(record["archivo"])))
        codes = tuple(str(c) for c in record.get("ubigeo", ()))
        return cls(kind, codes, str(record.get("nombre", "")))

    # -- territory ------------------------------------------------------------------------

    @cached_property
    def prefixes(self) -> tuple[str, ...]:
        """Return the UBIGEO prefixes of the area's districts (a polygon: those it touches)."""
        if self.kind != "poligono":
            return self.codes
        import shapely

        from . import boundaries

        districts = boundaries.load_districts(prefix=boundaries.WHOLE_COUNTRY)
        shape = self.polygon()
        shapely.prepare(shape)
        touched = shapely.intersects(shape, districts.geometry.to_numpy())
        return tuple(districts.loc[touched, "ubigeo"])

    def department_codes(self) -> tuple[str, ...]:
        """Return the two-digit codes of the departments the area covers, in order."""
        from . import boundaries

        if self.kind == "pais":
            return tuple(boundaries.load_departments()["ubigeo_dep"])
        return tuple(sorted({p[:2] for p in self.prefixes}))

    def departments(self) -> gpd.GeoDataFrame:
        """Return the departments the area covers (full resolution)."""
        from . import boundaries

        deps = boundaries.load_departments(simplified=False)
        deps = deps[deps["ubigeo_dep"].isin(self.department_codes())]
        return deps.reset_index(drop=True)

    def districts(self) -> gpd.GeoDataFrame:
        """Return the area's districts (:func:`parsc_geo.boundaries.load_districts`)."""
        from . import boundaries

        return boundaries.load_districts(prefix=self._prefixes_or_none())

    def provinces(self) -> gpd.GeoDataFrame:
        """Return the provinces of the area (a district's province, for a district area)."""
        from . import boundaries

        return boundaries.load_provinces(prefix=self._prefixes_or_none())

    def stations(self) -> gpd.GeoDataFrame:
        """Return the police units that may take the area's complaints: its departments' units."""
        from . import boundaries

        return boundaries.load_stations(prefix=self.department_codes() or ("-",))

    def population(self) -> pd.DataFrame:
        """Return the population table of the area's districts."""
        from . import boundaries

        return boundaries.load_population(prefix=self._prefixes_or_none())

    def _prefixes_or_none(self) -> tuple[str, ...]:
        # a polygon touching no district selects nothing (an empty tuple would mean "all")
        return self.prefixes or ("-",)

    def contains_code(self, ubigeo: pd.Series) -> pd.Series:
        """Return whether each UBIGEO code lies in the area (at the area's level or below)."""
        codes = ubigeo.astype(str)
        if "" in self.prefixes:
            return codes.str.len() > 0
        # a coarser code (a department's total, for a province area) covers more than the area
        return codes.str.startswith(self._prefixes_or_none())

    def polygon(self) -> BaseGeometry:
        """Return the polygon (EPSG:4326, without holes) that accepts incident points.

        A department is the union of its provinces (the source's own province layer, which has
        fewer slivers than the union of districts) and of its districts; the country the union
        of the departments and of the districts; a province or district the union of its
        districts; a polygon area its polygons. Each INEI layer was simplified on its own, so
        along the coast a district can reach beyond its department's outline: the union keeps
        every point that lies in a district of the area. Holes are removed: the bundled
        boundaries leave slivers between neighbours, which belong to the territory.
        """
        if self.geometry is not None:
            return _without_holes(self.geometry)
        if self.kind == "poligono":
            assert self.source is not None
            return _file_polygon(self.source)
        return _coded_polygon(self.kind, self.codes)

    @cached_property
    def metric_crs(self) -> str:
        """Return the EPSG code of the UTM zone of the centre of the area's extent."""
        from .projection import utm_crs_for_lonlat

        minx, miny, maxx, maxy = self.polygon().bounds
        return utm_crs_for_lonlat((minx + maxx) / 2, (miny + maxy) / 2)

    @property
    def utm_zone(self) -> str:
        """Return the UTM zone as users write it (``"17S"``)."""
        code = int(self.metric_crs.split(":")[1])
        return f"{code % 100}{'S' if code >= 32700 else 'N'}"


# -- building areas ----------------------------------------------------------------------------


def default_area() -> StudyArea:
    """Return the default study area (:data:`~parsc_geo.settings.STUDY_AREA_UBIGEO_PREFIX`)."""
    return _from_codes((STUDY_AREA_UBIGEO_PREFIX,))


def resolve_area(value: Any = None, *, quiet: bool = False) -> StudyArea:
    """Return the study area named by ``value`` (see the module notes for every form).

    Parameters
    ----------
    value
        None (default area), a :class:`StudyArea`, its :meth:`~StudyArea.to_dict` record, a
        UBIGEO prefix or list of them, a name, a polygon file path, a shapely polygon or a
        GeoDataFrame of polygons.
    quiet
        Log the announcement of a name's other meanings at DEBUG level.

    Raises
    ------
    ConfigError
        An unknown code or name (with the closest names), an ambiguous name (with the codes of
        its units), a missing or unreadable polygon file, a file without polygons.
    """
    import shapely

    if value is None:
        return default_area()
    if isinstance(value, StudyArea):
        return value
    if isinstance(value, Mapping):
        return StudyArea.from_dict(value)
    if isinstance(value, Path):
        return _polygon_file(value)
    if isinstance(value, shapely.Geometry):
        return StudyArea("poligono", (), "polígono", geometry=value)
    if isinstance(value, str):
        return _from_text(value, quiet=quiet)
    if isinstance(value, Iterable):
        items = list(value)
        if all(isinstance(v, str) and v.isdigit() for v in items) and items:
            return _from_codes(tuple(items))
    import geopandas as gpd

    if isinstance(value, gpd.GeoDataFrame):
        return StudyArea("poligono", (), "polígono", geometry=_frame_polygon(value, "polígono"))
    raise ConfigError(
        f"no se entiende el área de estudio {value!r}",
        hint="use un código UBIGEO (04, 0401, 040101), un nombre (Arequipa) o un archivo de "
        "polígonos",
    )


def _from_text(text: str, *, quiet: bool) -> StudyArea:
    raw = text.strip()
    if not raw:
        raise ConfigError(
            "el área de estudio está vacía", hint="p. ej. --study-area 04 o --study-area Arequipa"
        )
    if _CODE_LIST.match(raw):
        return _from_codes(tuple(c.strip() for c in raw.split(",")))
    key = fold(raw)
    if key in COUNTRY_NAMES:
        return StudyArea("pais", ("",), "Perú")
    path = Path(raw)
    if path.exists() or path.suffix.lower() in _POLYGON_SUFFIXES:
        return _polygon_file(path)
    return _from_name(raw, quiet=quiet)


def _from_codes(codes: tuple[str, ...]) -> StudyArea:
    from . import boundaries

    districts = boundaries.load_districts(prefix=boundaries.WHOLE_COUNTRY)
    bad = [c for c in codes if not c.isdigit() or len(c) not in (2, 4, 6)]
    if bad:
        raise ConfigError(
            f"área de estudio: {', '.join(bad)} no es un código UBIGEO de departamento (2 "
            "dígitos), provincia (4) o distrito (6)",
            hint="p. ej. 04 (Arequipa), 0401 (provincia de Arequipa), 040101 (distrito)",
        )
    missing = [c for c in codes if not districts["ubigeo"].str.startswith(c).any()]
    if missing:
        raise ConfigError(
            "área de estudio: ningún distrito del Perú tiene un UBIGEO que empiece por "
            + ", ".join(repr(c) for c in missing),
            hint="los departamentos van de 01 (Amazonas) a 25 (Ucayali); p. ej. 06 = "
            "Cajamarca, 0601 = provincia de Cajamarca",
        )
    codes = tuple(sorted(dict.fromkeys(codes)))
    lengths = {len(c) for c in codes}
    kind = {2: "departamento", 4: "provincia", 6: "distrito"}[max(lengths)]
    names = [_unit_name(c, districts) for c in codes]
    name = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " y " + names[-1]
    return StudyArea(kind, codes, name)


def _unit_name(code: str, districts: pd.DataFrame) -> str:
    row = districts[districts["ubigeo"].str.startswith(code)].iloc[0]
    if len(code) == 2:
        return str(row["departamento"])
    if len(code) == 4:
        return f"{row['provincia']} ({row['departamento']})"
    return f"{row['distrito']} ({row['provincia']}, {row['departamento']})"


@lru_cache(maxsize=1)
def _name_index() -> dict[str, dict[str, list[str]]]:
    """Return level → folded name → codes (departments, provinces, districts)."""
    from . import boundaries

    districts = boundaries.load_districts(prefix=boundaries.WHOLE_COUNTRY)
    index: dict[str, dict[str, list[str]]] = {"departamento": {}, "provincia": {}, "distrito": {}}
    for level, code_col, name_col, width in (
        ("departamento", "ubigeo", "departamento", 2),
        ("provincia", "ubigeo_prov", "provincia", 4),
        ("distrito", "ubigeo", "distrito", 6),
    ):
        pairs = dict.fromkeys(
            zip(districts[code_col].str[:width], districts[name_col].map(fold), strict=True)
        )
        for code, name in pairs:
            index[level].setdefault(name, []).append(code)
    return index


def _from_name(text: str, *, quiet: bool) -> StudyArea:
    key = fold(text)
    levels = ["departamento", "provincia", "distrito"]
    match = _LEVEL_NAME.match(key)
    if match:
        levels = [_LEVEL_WORDS[match.group(1)]]
        key = match.group(2).strip()
    index = _name_index()
    found = [(level, index[level][key]) for level in levels if key in index[level]]
    if not found:
        import difflib

        names = sorted({n for level in levels for n in index[level]})
        close = difflib.get_close_matches(key, names, n=5, cutoff=0.7)
        raise ConfigError(
            f"área de estudio: no hay ningún {' ni '.join(levels)} llamado {text!r}",
            hint=("¿quiso decir " + ", ".join(close) + "? " if close else "")
            + "use también un código UBIGEO (04, 0401, 040101) o un archivo de polígonos",
        )
    level, codes = found[0]
    if len(codes) > 1:
        from . import boundaries

        districts = boundaries.load_districts(prefix=boundaries.WHOLE_COUNTRY)
        listed = "; ".join(f"{c} = {_unit_name(c, districts)}" for c in sorted(codes))
        raise ConfigError(
            f"área de estudio: {text!r} es ambiguo: hay {len(codes)} unidades de nivel "
            f"{level} con ese nombre ({listed})",
            hint="indique el código UBIGEO de la que quiere",
        )
    area = _from_codes((codes[0],))
    others = [f"{lv} {', '.join(sorted(cs))}" for lv, cs in found[1:]]
    if others:
        announce(
            logger,
            f"Área de estudio: {text!r} se tomó como {area.place} (UBIGEO {codes[0]}); el "
            f"nombre también corresponde a: {'; '.join(others)} (indique el código para elegirlo)",
            quiet=quiet,
        )
    return area


def _polygon_file(path: Path) -> StudyArea:
    if not path.exists():
        raise ConfigError(
            f"área de estudio: el archivo de polígonos {path} no existe",
            hint="indique un archivo GeoJSON, GeoPackage, Shapefile o KML, un código UBIGEO o "
            "un nombre",
        )
    area = StudyArea("poligono", (), path.name, source=str(path.resolve()))
    area.polygon()  # read now: a bad file is reported where it is named
    return area


# -- polygons ----------------------------------------------------------------------------------


def _without_holes(geom: BaseGeometry) -> BaseGeometry:
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geom, Polygon):
        return Polygon(geom.exterior)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([Polygon(g.exterior) for g in geom.geoms])
    return geom


@lru_cache(maxsize=16)
def _coded_polygon(kind: str, codes: tuple[str, ...]) -> BaseGeometry:
    import shapely

    from . import boundaries

    districts = boundaries.load_districts(prefix=codes).geometry.to_numpy()
    if kind == "pais":
        outline = boundaries.load_departments(simplified=False).geometry.to_numpy()
    elif all(len(c) == 2 for c in codes):
        outline = boundaries.load_provinces(prefix=codes).geometry.to_numpy()
    else:
        outline = districts[:0]
    return _without_holes(shapely.union_all([*outline, *districts]))


@lru_cache(maxsize=8)
def _file_polygon(source: str) -> BaseGeometry:
    import geopandas as gpd

    try:
        gdf = gpd.read_file(source)
    except Exception as exc:
        raise ConfigError(
            f"área de estudio: no se puede leer el archivo de polígonos {source} ({exc})"
        ) from exc
    return _frame_polygon(gdf, source)


def _frame_polygon(gdf: gpd.GeoDataFrame, name: str) -> BaseGeometry:
    import shapely

    if gdf.crs is not None:
        gdf = gdf.to_crs("EPSG:4326")
    polys = gdf.geometry[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise ConfigError(
            f"área de estudio: {name} no tiene polígonos",
            hint="el área de estudio debe ser un polígono (o varios)",
        )
    return _without_holes(shapely.union_all(polys.to_numpy()))


# -- the area of a set of incidents --------------------------------------------------------------


def area_of(incidents: pd.DataFrame, *, quiet: bool = True) -> StudyArea:
    """Return the study area of ``incidents`` (recorded, else from their UBIGEO, else default).

    Parameters
    ----------
    incidents
        Incidents; ``attrs["study_area"]`` (a :meth:`StudyArea.to_dict` record or any value
        :func:`resolve_area` takes) wins, then the departments of the ``ubigeo`` column.
    quiet
        Log the inference at DEBUG level (the default) rather than INFO.
    """
    recorded = incidents.attrs.get("study_area")
    if recorded is not None:
        try:
            return resolve_area(recorded, quiet=True)
        except ConfigError as exc:
            logger.warning("No se puede usar el área de estudio registrada (%s)", exc)
    if "ubigeo" in incidents.columns:
        codes = incidents["ubigeo"].dropna().astype(str)
        deps = sorted({c[:2] for c in codes.unique() if len(c) >= 2 and c[:2].isdigit()})
        if deps:
            area = _from_codes(tuple(deps))
            announce(
                logger,
                f"Área de estudio deducida de los UBIGEO de los incidentes: {area.describe()}",
                quiet=quiet,
            )
            return area
    return default_area()


def locate_area(incidents: gpd.GeoDataFrame, *, quiet: bool = False) -> StudyArea | None:
    """Return the departments that hold the incident points (None when none does).

    Departments holding less than :data:`LOCATE_MIN_SHARE` of the located points are left out
    (stray points of a file do not widen its area); the choice is announced.
    """
    import numpy as np
    import shapely

    if not len(incidents) or incidents.crs is None:
        return None
    from . import boundaries

    deps = boundaries.load_departments(simplified=False)
    pts = incidents.geometry.to_crs("EPSG:4326").to_numpy()
    pts = pts[~(shapely.is_missing(pts) | shapely.is_empty(pts))]
    if not len(pts):
        return None
    tree = shapely.STRtree(deps.geometry.to_numpy())
    _, di = tree.query(pts, predicate="within")
    counts = np.bincount(di, minlength=len(deps))
    keep = counts >= max(1.0, LOCATE_MIN_SHARE * len(pts))
    if not keep.any():
        return None
    area = _from_codes(tuple(deps.loc[keep, "ubigeo_dep"]))
    outside = len(pts) - int(counts[keep].sum())
    announce(
        logger,
        f"Área de estudio deducida de la ubicación de los incidentes: {area.describe()}"
        + (f" ({outside} incidentes quedan fuera)" if outside else ""),
        quiet=quiet,
    )
    return area


def combined_record(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """Return the study area a workspace records after an import into ``new``'s area.

    A workspace remembers the area of its incidents: the first import sets it; an import into
    another coded area widens it to both (``"06"`` then ``"04"`` gives ``"04,06"``, announced);
    a polygon area replaces the record (a warning says so).
    """
    if not previous or dict(previous) == dict(new):
        return dict(new)
    old_area = resolve_area(previous, quiet=True)
    new_area = resolve_area(new, quiet=True)
    if old_area.kind == "poligono" or new_area.kind == "poligono":
        logger.warning(
            "El espacio de trabajo cubría %s; ahora se registra %s",
            old_area.describe(),
            new_area.describe(),
        )
        return new_area.to_dict()
    codes = tuple(dict.fromkeys((*old_area.codes, *new_area.codes)))
    # a prefix inside another one adds nothing ("06" already holds "0601")
    kept = tuple(c for c in codes if not any(o != c and c.startswith(o) for o in codes))
    merged = _from_codes(kept) if "" not in kept else StudyArea("pais", ("",), "Perú")
    if merged != old_area:
        announce(
            logger,
            f"El espacio de trabajo cubría {old_area.describe()}; ahora cubre {merged.describe()}",
        )
    return merged.to_dict()
