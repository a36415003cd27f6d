"""The atlas: one map per province, one per comisaría with sectors, and an ``index.html``.

:func:`build_province_map` and :func:`build_comisaria_map` assemble the layers of
:mod:`parsc_geo.maps.layers`, :mod:`.density_layer`, :mod:`.zones`, :mod:`.emerging` and
:mod:`.basemap`; :func:`write_atlas` computes what each map needs (its incidents, hotspots, a
kernel density clipped to its area and the density of each month), writes every page
atomically and an index (:mod:`.index`) with an overview map linking every page and the run's
other outputs. Every page links back to the index.

Time: internal pages carry a period control (whole period or one month) that filters every
layer depending on time — incidents, density, counts per sector, subsector and zone, the
incident legend — and says so; zone outlines, Gi* cells and trends are of the whole period.

The pages load Leaflet and parsc-geo's runtime from a ``lib/`` folder written beside them
(or, offline, inline them), never from the network: the atlas works from a disk or USB stick.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import settings
from .._atomic import write_bytes_atomic
from .._errors import ConfigError, InputDataError, InsufficientDataError, OutputError
from .._text import fold as _fold
from .._text import fold_values, slug
from ..localtime import incident_times
from ..partitions import Partition, Partitioned, Pieces, Rows, materialise
from ..privacy import REPORT_NAME, RULE_VERSION, PrivacyRule, write_privacy_report
from . import offline as assets
from .atlas_partitions import period_of, rows_near, summarise_partitions
from .base import (
    INDEX_FILE,
    add_layer_control,
    add_synthetic_banner,
    add_title_block,
    new_map,
    render_map_html,
    write_text_atomic,
)
from .basemap import add_basemap
from .density_layer import (
    DensityScale,
    add_density,
    density_points,
    es_number,
    monthly_densities,
)
from .emerging import add_emerging, emerging_cells
from .index import AtlasLink, index_html, normalise_links
from .layers import (
    INCIDENT_LAYER_COLUMNS,
    add_boundaries,
    add_gistar,
    add_incidents,
    add_public_places,
    add_sectors,
    add_stations,
)
from .public import (
    PartitionedPublic,
    PublicData,
    PublicPage,
    prepare_public,
    prepare_public_partitions,
)
from .timeline import Timeline, add_period_control
from .words import accuracy_for, accuracy_lines, accuracy_rows, density_words
from .zones import add_zones, polygon_zones, split_own

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import numpy as np

    from ..parallel import Pending, WorkerPool

#: Default data source shown in title blocks.
DEFAULT_SOURCE = "Denuncias policiales georreferenciadas (PNP)"
#: Source shown for the bundled synthetic sample.
SYNTHETIC_SOURCE = "Muestra sintética de parsc-geo (no son denuncias reales)"
#: Minimum incidents for a kernel density layer (fewer gives a meaningless surface).
MIN_DENSITY_INCIDENTS = 5
#: Incidents within this distance (m) of a map's area enter its kernel density.
DENSITY_CONTEXT_M = 2_000.0
#: Margin (m) around a comisaría's sectors in its map and density grid.
COMISARIA_MARGIN_M = 300.0


@dataclass
class BuiltMap:
    """A map and what it shows (for the atlas index and the tests)."""

    map: folium.Map
    title: str
    kind: str
    place: str
    summary: dict[str, Any] = field(default_factory=dict)


def slugify(text: str) -> str:
    """Return an ASCII file-name slug of ``text`` (``San José B`` → ``san-jose-b``)."""
    return slug(text, sep="-", default="sin-nombre")


def period_text(incidents: gpd.GeoDataFrame) -> str | None:
    """Return ``"YYYY-MM-DD a YYYY-MM-DD"`` spanning the incidents' dates (None if no dates)."""
    if "occurred_at" not in incidents.columns or not len(incidents):
        return None
    when = incident_times(incidents).dropna()
    if not len(when):
        return None
    return period_of(when.min(), when.max())


def _check_incidents(incidents: gpd.GeoDataFrame) -> None:
    _check_columns(incidents.columns, incidents.crs)


def _check_columns(columns: Any, crs: Any) -> None:
    """Raise the error of :func:`_check_incidents` for a table of ``columns`` in ``crs``."""
    missing = [c for c in ("delito_generico", "fenomeno", "occurred_at") if c not in columns]
    if missing:
        raise InputDataError(
            f"a los incidentes les falta(n) la(s) columna(s) {', '.join(missing)}, necesaria(s) "
            "para los mapas",
            hint="impórtelos con parsc-geo ingest, que produce el esquema canónico",
        )
    if crs is None:
        raise InputDataError("los incidentes no tienen SRC", hint="asigne EPSG:4326")


def _points_within(points: gpd.GeoDataFrame | gpd.GeoSeries, area: Any) -> Any:
    """Return ``points.within(area)`` for point layers, a prepared polygon answering all at once.

    Other geometries (and missing ones) take geopandas' own ``within``.
    """
    import numpy as np
    import shapely

    geoms = np.asarray(points.geometry.values)
    if not len(geoms) or not bool((shapely.get_type_id(geoms) == 0).all()):
        return points.within(area)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, shapely.get_x(geoms), shapely.get_y(geoms))
    return np.asarray(inside, dtype=bool) & ~shapely.is_empty(geoms)


def _page_rows(incidents: gpd.GeoDataFrame, keep: Any) -> gpd.GeoDataFrame:
    """Return the rows ``keep`` of ``incidents`` that an internal page draws and counts.

    Only the columns the page reads of them are kept (:data:`INCIDENT_LAYER_COLUMNS` and the
    geometry; ``attrs`` follow): a selection copies every column it keeps, and a province of a
    million incidents carries hundreds of megabytes of texts the page never shows.
    """
    from ..incidents import only_columns

    return only_columns(incidents, INCIDENT_LAYER_COLUMNS)[keep]


def _within(gdf: gpd.GeoDataFrame | None, area: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Rows of ``gdf`` intersecting ``area`` (both any CRS)."""
    if gdf is None or not len(gdf):
        return gdf
    geom = area.to_crs(gdf.crs).union_all()
    return gdf[gdf.intersects(geom)]


def _hotspots_for(
    hotspots: gpd.GeoDataFrame | None, province: gpd.GeoDataFrame, name: str
) -> gpd.GeoDataFrame | None:
    """Hotspots of a province: by their ``provincia`` column, else by location."""
    if hotspots is None or not len(hotspots):
        return hotspots
    if "provincia" not in hotspots.columns:
        return _within(hotspots, province)
    known = hotspots["provincia"].notna()
    mine = known & (fold_values(hotspots["provincia"]) == _fold(name))
    located = _within(hotspots[~known], province)
    keep = mine.copy()
    if located is not None:
        keep.loc[located.index] = True
    return hotspots[keep]


def _has_cells(hotspots: gpd.GeoDataFrame | None) -> bool:
    """Whether there are zones besides Gi* cells (then Gi* cells start unticked)."""
    if hotspots is None or not len(hotspots):
        return False
    if "gi_class" not in hotspots.columns:
        return True
    return bool(hotspots["gi_class"].isna().any()) or (
        "zone_id" in hotspots.columns and bool(hotspots["zone_id"].notna().any())
    )


def _public_rule(grid_m: float | None, privacy_k: int | None) -> PrivacyRule:
    """Return the privacy rule of public maps with the given grid and k (defaults otherwise)."""
    return PrivacyRule.from_options(k=privacy_k, grid_m=grid_m)


def _density_for(
    incidents: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    margin_m: float = 0.0,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """Kernel density on ``area``'s extent (masked to it), or None if too few incidents.

    Only incidents within :data:`DENSITY_CONTEXT_M` of the area are used, so that the automatic
    bandwidth reflects the local spread of points, not the whole region's; the ones just outside
    still contribute near the edges. Incidents stacked at a police station are left out, as
    the hotspot methods do.
    """
    from ..density import kernel_density
    from ..projection import metric_crs

    crs = metric_crs(area)
    metric_area = area.to_crs(crs)
    weights = dict(options or {}).get("weights")
    pts = density_points(incidents, area, crs, DENSITY_CONTEXT_M, _density_columns(weights))
    if len(pts) < MIN_DENSITY_INCIDENTS:
        return None
    minx, miny, maxx, maxy = metric_area.total_bounds
    extent = (minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)
    try:
        return kernel_density(
            pts, extent=extent, mask=metric_area, crs=crs, quiet=True, **dict(options or {})
        )
    except InsufficientDataError:
        return None


def _density_columns(source: Any) -> tuple[str, ...]:
    """Columns a density of incidents reads besides their geometry.

    ``source`` is a raster (its ``weights`` parameter) or a weights option; a column named by
    it is kept, with ``occurred_at`` (the months of the density layer).
    """
    weights = source
    if hasattr(source, "parameters"):
        weights = source.parameters.get("weights")
    return ("occurred_at", weights) if isinstance(weights, str) else ("occurred_at",)


@dataclass
class _Extras:
    """What a page adds besides its data: period, scale, trends, accuracy, index link."""

    timeline: Timeline | None = None
    density_scale: DensityScale | None = None
    trends: gpd.GeoDataFrame | None = None
    accuracy: list[dict[str, Any]] | None = None
    home: str | None = None
    basemap: bool = True


def _extras(
    timeline: Timeline | None,
    density_scale: DensityScale | Sequence[float] | None,
    trends: Any,
    accuracy: Any,
    home: str | None,
    basemap: bool,
) -> _Extras:
    scale = (
        density_scale if isinstance(density_scale, DensityScale) else DensityScale.of(density_scale)
    )
    cells = trends if trends is None or _is_cells(trends) else emerging_cells(trends)
    rows = None if accuracy is None else accuracy_rows(accuracy)
    return _Extras(timeline, scale, cells, rows, home, basemap)


def _is_cells(trends: Any) -> bool:
    return bool(getattr(trends, "attrs", {}).get("parsc_emerging_cells"))


def _add_density_layer(
    m: folium.Map,
    raster: Any,
    *,
    points: gpd.GeoDataFrame | None,
    timeline: Timeline,
    scale: DensityScale,
    monthly: bool,
) -> dict[str, Any]:
    """Add the density with its months (internal maps) on the atlas's scale."""
    series: list[np.ndarray | None] = []
    if monthly and points is not None and len(timeline) >= 2:
        series = monthly_densities(points, raster, timeline.index(points), len(timeline))
    summary = add_density(m, raster, monthly=series, timeline=timeline, scale=scale)
    summary["words"] = density_words(raster)
    return summary


def _how_lines(summary: Mapping[str, Any], zones: Mapping[str, Any]) -> list[str]:
    """Lines of "Cómo se hizo este mapa" that the page itself knows (density, zones)."""
    from .zones import style_of

    lines = []
    density = summary.get("density")
    if density:
        words = str(density["words"])
        lines.append(f"Densidad: {words[:1].lower()}{words[1:]}.")
        lines.append(
            "Densidad mostrada en incidentes por km² y por mes; clases fijas ("
            + "; ".join(es_number(b) for b in density["breaks"])
            + "), las mismas en todo el atlas."
        )
    methods = zones.get("by_method", {})
    if methods:
        lines.append(
            "Zonas críticas: "
            + "; ".join(
                f"{style_of(mt).label}: letra {style_of(mt).letter}, {n} zona" + ("s" * (n != 1))
                for mt, n in methods.items()
            )
            + ". Números por orden de la tabla de ranking dentro de este mapa."
        )
    return lines


def _finish(
    m: folium.Map,
    *,
    title: str,
    place: str,
    period: str | None,
    source: str,
    parameters: Mapping[str, Any] | None,
    rule: PrivacyRule | None,
    synthetic: bool,
    generated: dt.datetime | None,
    how: Sequence[str] = (),
    accuracy: Sequence[str] | None = None,
    accuracy_scope: str = "",
    home: str | None = None,
) -> None:
    sections: list[tuple[str, Sequence[str]]] = [("Cómo se hizo este mapa", list(how))]
    if accuracy is not None:
        heading = "Precisión histórica" + (f" ({accuracy_scope})" if accuracy_scope else "")
        sections.append(
            (
                heading,
                list(accuracy)
                or [
                    "Sin datos suficientes para medirla: hacen falta al menos dos periodos "
                    "(entrenar con uno y comprobar con el siguiente)."
                ],
            )
        )
    add_title_block(
        m,
        title=title,
        place=place,
        period=period,
        source=source,
        generated=generated,
        parameters=parameters,
        public=rule is not None,
        generalisation=rule.describe() if rule is not None else None,
        extra=[("Privacidad", f"regla v{RULE_VERSION}, k = {rule.k}")] if rule is not None else (),
        sections=sections,
        home=home,
    )
    if synthetic:
        add_synthetic_banner(m)
    add_layer_control(m)


def _accuracy_text(extras: _Extras, province: str | None) -> tuple[list[str] | None, str]:
    if extras.accuracy is None:
        return None, ""
    rows = accuracy_for(extras.accuracy, province)
    scope = ""
    if rows and province and any(r.get("provincia") for r in rows):
        scope = f"provincia de {province}"
    elif rows:
        scope = "toda el área de estudio"
    return accuracy_lines(rows), scope


def build_province_map(
    incidents: gpd.GeoDataFrame,
    *,
    province: str,
    hotspots: gpd.GeoDataFrame | None = None,
    density: Any = None,
    public: bool = False,
    synthetic: bool = False,
    period: str | None = None,
    source: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    tiles: str | None = "OpenStreetMap",
    grid_m: float | None = None,
    generated: dt.datetime | None = None,
    privacy_k: int | None = None,
    public_data: PublicData | None = None,
    density_options: Mapping[str, Any] | None = None,
    timeline: Timeline | None = None,
    density_scale: DensityScale | Sequence[float] | None = None,
    trends: Any = None,
    accuracy: Any = None,
    home: str | None = None,
    basemap: bool = True,
) -> BuiltMap:
    """Build the map of one province: boundaries, stations, incidents, density, zones, trends.

    Parameters
    ----------
    incidents
        Incidents (all of them, or the province's with those near it); those of the province
        are selected by the ``provincia`` column when present, else by location; those near
        it enter the density near its edges.
    province
        Province name as in :func:`parsc_geo.boundaries.load_provinces` (accents and case are
        ignored).
    hotspots
        Hotspots of any method (``schema.HOTSPOT_COLUMNS``); those of the province are drawn.
    density
        A :class:`parsc_geo.density.DensityRaster` of the province, or None for none. Public
        maps ignore it and compute the density from the generalised incidents.
    public, synthetic, period, source, parameters, tiles, grid_m, generated, privacy_k
        See :func:`write_atlas`.
    public_data
        Public maps: the privacy rule already applied to every incident and hotspot method
        (:func:`parsc_geo.maps.public.prepare_public`; :func:`write_atlas` computes it once for
        all its maps). None: computed here from ``incidents`` and ``hotspots``.
    density_options
        Keyword arguments of the density computed on public maps.
    timeline
        The months of the period control (default: those of the province's incidents).
    density_scale, trends, accuracy, basemap
        See :func:`write_atlas`.
    home
        Relative link to the atlas index (None: no link).

    Returns
    -------
    BuiltMap
        The map and a summary (``incidents``, ``drawn``, ``hotspots``, ``months``, ...).

    Raises
    ------
    ConfigError
        When ``province`` is not a province of the bundled boundaries.
    """
    from .. import boundaries
    from ..area import area_of

    _check_incidents(incidents)
    extras = _extras(timeline, density_scale, trends, accuracy, home, basemap)
    provinces = area_of(incidents).provinces()
    match = provinces[fold_values(provinces["provincia"]) == _fold(province)]
    if not len(match):
        raise ConfigError(
            f"provincia desconocida {province!r}",
            hint=f"use una de {', '.join(sorted(provinces['provincia']))}",
        )
    name = str(match["provincia"].iloc[0])
    rule = None
    points = incidents
    if public:
        data = public_data or prepare_public(incidents, hotspots, _public_rule(grid_m, privacy_k))
        rule = data.rule
        points = data.incidents.points
        # places by their own location: each is drawn whole, with its k or more incidents
        inc = points[points.to_crs(match.crs).within(match.union_all())]
        hotspots = data.hotspots
        density = _density_for(points, match, options=density_options)
    elif "provincia" in incidents.columns and incidents["provincia"].notna().any():
        inc = _page_rows(incidents, fold_values(incidents["provincia"]) == _fold(name))
    else:
        inc = _page_rows(
            incidents, _points_within(incidents.geometry.to_crs(match.crs), match.union_all())
        )
    tl = extras.timeline if extras.timeline is not None else Timeline.of(inc)
    code = str(match["ubigeo_prov"].iloc[0])
    districts = boundaries.load_districts(prefix=code)
    stations = boundaries.load_stations(prefix=code)
    title = f"Mapa del delito — Provincia de {name}"
    bounds = match.to_crs(settings.CRS_GEOGRAPHIC).total_bounds
    m = new_map(bounds=bounds, tiles=tiles, title=title)
    summary: dict[str, Any] = {"incidents": len(inc)}
    if extras.basemap:
        summary["basemap"] = add_basemap(m, _padded(bounds), prefix=code[:2], show=tiles is None)
    months = tl.index(inc) if not public else None
    if density is not None:
        summary["density"] = _add_density_layer(
            m,
            density,
            points=None
            if public
            else density_points(
                points, match, density.crs, DENSITY_CONTEXT_M, _density_columns(density)
            ),
            timeline=tl,
            scale=extras.density_scale or DensityScale(),
            monthly=not public,
        )
    summary["boundaries"] = add_boundaries(m, provinces=match, districts=districts)
    hs = _hotspots_for(hotspots, match, name)
    k = rule.k if rule is not None else None
    summary["gistar"] = (
        add_gistar(m, hs, show=not _has_cells(hs), public_k=k) if hs is not None else {}
    )
    zones = add_zones(
        m,
        polygon_zones(hs),
        public_k=k,
        points=None if public else inc,
        timeline=tl,
        months=months,
        unit="provincia",
    )
    summary["hotspots"] = zones["by_method"]
    summary["top_hotspots"] = zones["top"]
    if not public and extras.trends is not None:
        summary["trends"] = add_emerging(m, extras.trends, area=match)
    summary["stations"] = add_stations(m, stations)
    if rule is not None:
        summary.update(add_public_places(m, inc, rule, withheld=data.incidents.n_withheld))
    else:
        summary.update(add_incidents(m, inc, timeline=tl))
        assert months is not None  # internal pages index their incidents' months
        summary["period_control"] = add_period_control(m, tl, tl.totals(months), len(inc))
    accuracy_text, scope = _accuracy_text(extras, name)
    _finish(
        m,
        title=title,
        place=f"Provincia de {name}, {match['departamento'].iloc[0]}",
        period=period or period_text(inc),
        source=source or (SYNTHETIC_SOURCE if synthetic else DEFAULT_SOURCE),
        parameters=parameters,
        rule=rule,
        synthetic=synthetic,
        generated=generated,
        how=_how_lines(summary, zones),
        accuracy=accuracy_text,
        accuracy_scope=scope,
        home=extras.home,
    )
    summary["period"] = period or period_text(inc)
    return BuiltMap(m, title, "provincia", name, summary)


def _padded(bounds: Sequence[float], share: float = 0.15) -> tuple[float, float, float, float]:
    """Return ``bounds`` widened by ``share`` of their size on each side (base map places)."""
    west, south, east, north = (float(b) for b in bounds)
    dx, dy = (east - west) * share, (north - south) * share
    return west - dx, south - dy, east + dx, north + dy


def build_comisaria_map(
    incidents: gpd.GeoDataFrame,
    sectors: gpd.GeoDataFrame,
    *,
    comisaria: str,
    hotspots: gpd.GeoDataFrame | None = None,
    density: Any = None,
    public: bool = False,
    synthetic: bool = False,
    period: str | None = None,
    source: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    tiles: str | None = "OpenStreetMap",
    grid_m: float | None = None,
    generated: dt.datetime | None = None,
    privacy_k: int | None = None,
    public_data: PublicData | None = None,
    density_options: Mapping[str, Any] | None = None,
    timeline: Timeline | None = None,
    density_scale: DensityScale | Sequence[float] | None = None,
    trends: Any = None,
    accuracy: Any = None,
    home: str | None = None,
    basemap: bool = True,
) -> BuiltMap:
    """Build the map of one comisaría: sectors and subsectors with counts, incidents, zones.

    Zones with most of their area inside the jurisdiction are the comisaría's own (badged and
    listed in the index); the province's zones that only touch it are drawn apart, unbadged
    (:func:`parsc_geo.maps.zones.split_own`).

    Parameters
    ----------
    incidents
        Incidents; those inside the comisaría's sectors are drawn and counted.
    sectors
        Sector layer (one row per subsector, see the contracts).
    comisaria
        Value of the sector layer's ``comisaria`` column.
    hotspots, density, public, synthetic, period, source, parameters, tiles, grid_m, generated
        See :func:`build_province_map` and :func:`write_atlas`.
    privacy_k, public_data, density_options, timeline, density_scale, trends, accuracy, home
        See :func:`build_province_map`.
    basemap
        See :func:`write_atlas`.

    Returns
    -------
    BuiltMap
        The map and its summary (``incidents``, ``subsectors`` counts, ...).
    """
    from ..area import area_of
    from ..projection import metric_crs

    _check_incidents(incidents)
    extras = _extras(timeline, density_scale, trends, accuracy, home, basemap)
    own = sectors[sectors["comisaria"].astype(str) == str(comisaria)]
    if not len(own):
        known = sorted(sectors["comisaria"].astype(str).unique())
        raise ConfigError(
            f"no hay sectores para la comisaría {comisaria!r}",
            hint=f"use una de {', '.join(known)}",
        )
    own = own.to_crs(settings.CRS_GEOGRAPHIC)
    area = own.union_all()
    rule = None
    points = incidents
    if public:
        data = public_data or prepare_public(incidents, hotspots, _public_rule(grid_m, privacy_k))
        rule = data.rule
        points = data.incidents.points
        inc = points[points.to_crs(settings.CRS_GEOGRAPHIC).within(area)]
        hotspots = data.hotspots
        density = _density_for(points, own, COMISARIA_MARGIN_M, density_options)
    else:
        inc = _page_rows(
            incidents, _points_within(incidents.geometry.to_crs(settings.CRS_GEOGRAPHIC), area)
        )
    tl = extras.timeline if extras.timeline is not None else Timeline.of(inc)
    crs = metric_crs(own)
    frame = own.to_crs(crs).buffer(COMISARIA_MARGIN_M).to_crs(settings.CRS_GEOGRAPHIC)
    bounds = frame.total_bounds
    territory = area_of(incidents)
    districts = territory.districts()
    districts = districts[districts.intersects(frame.union_all())]
    stations = territory.stations()
    stations = stations[stations.within(frame.union_all())]
    title = f"Mapa del delito — Comisaría {comisaria}"
    m = new_map(bounds=bounds, tiles=tiles, title=title)
    summary: dict[str, Any] = {"incidents": len(inc)}
    prefix = str(districts["ubigeo"].iloc[0])[:2] if len(districts) else None
    if extras.basemap:
        summary["basemap"] = add_basemap(m, _padded(bounds, 0.3), prefix=prefix, show=tiles is None)
    months = tl.index(inc) if not public else None
    if density is not None:
        summary["density"] = _add_density_layer(
            m,
            density,
            points=None
            if public
            else density_points(
                points, own, density.crs, DENSITY_CONTEXT_M, _density_columns(density)
            ),
            timeline=tl,
            scale=extras.density_scale or DensityScale(),
            monthly=not public,
        )
    summary["boundaries"] = add_boundaries(m, districts=districts)
    near = _within(hotspots, own)
    k = rule.k if rule is not None else None
    summary["gistar"] = (
        add_gistar(m, near, show=not _has_cells(near), public_k=k) if near is not None else {}
    )
    summary["subsectors"] = add_sectors(
        m, own, inc, public_k=k, timeline=None if public else tl, months=months
    )
    mine, touching = split_own(polygon_zones(near), own)
    zones = add_zones(
        m,
        mine,
        public_k=k,
        points=None if public else inc,
        timeline=tl,
        months=months,
        touching=touching,
        unit="comisaría",
    )
    summary["hotspots"] = zones["by_method"]
    summary["touching_zones"] = zones["touching"]
    summary["top_hotspots"] = zones["top"]
    province = ""
    province_name = None
    if len(districts):
        province_name = str(districts["provincia"].mode().iloc[0])
        province = f", provincia de {province_name}"
    if not public and extras.trends is not None:
        summary["trends"] = add_emerging(m, extras.trends, area=own)
    summary["stations"] = add_stations(m, stations)
    if rule is not None:
        summary.update(add_public_places(m, inc, rule, withheld=data.incidents.n_withheld))
    else:
        summary.update(add_incidents(m, inc, timeline=tl))
        assert months is not None  # internal pages index their incidents' months
        summary["period_control"] = add_period_control(m, tl, tl.totals(months), len(inc))
    accuracy_text, scope = _accuracy_text(extras, province_name)
    _finish(
        m,
        title=title,
        place=f"Jurisdicción de la comisaría {comisaria}{province}",
        period=period or period_text(inc),
        source=source or (SYNTHETIC_SOURCE if synthetic else DEFAULT_SOURCE),
        parameters=parameters,
        rule=rule,
        synthetic=synthetic,
        generated=generated,
        how=_how_lines(summary, zones),
        accuracy=accuracy_text,
        accuracy_scope=scope,
        home=extras.home,
    )
    summary["period"] = period or period_text(inc)
    return BuiltMap(m, title, "comisaria", str(comisaria), summary)


def _generation_time(tz: dt.tzinfo) -> dt.datetime:
    """Return ``SOURCE_DATE_EPOCH`` (reproducible builds) when set, else now, in ``tz``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).astimezone(tz)
    return dt.datetime.now(tz)


def write_atlas(
    incidents: gpd.GeoDataFrame | Sequence[Partition],
    *,
    hotspots: gpd.GeoDataFrame | None = None,
    densities: Mapping[str, Any] | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    output_dir: str | Path,
    public: bool = False,
    offline: bool = False,
    synthetic: bool = False,
    period: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    tiles: str | None = "OpenStreetMap",
    source: str | None = None,
    grid_m: float | None = None,
    assets_dir: Path | None = None,
    density_options: Mapping[str, Any] | None = None,
    generated: dt.datetime | None = None,
    privacy_k: int | None = None,
    workers: WorkerPool | int = 1,
    trends: Any = None,
    accuracy: Any = None,
    links: Sequence[AtlasLink | tuple[str, str, str | os.PathLike[str]]] | None = None,
    density_breaks: Sequence[float] | None = None,
    basemap: bool = True,
    partitioned: Partitioned | None = None,
    deferred: list[Pending[Path]] | None = None,
) -> list[Path]:
    """Write one map per province with incidents, one per comisaría with sectors, and an index.

    Parameters
    ----------
    incidents
        Incident table (canonical schema; assignment columns used when present), or the
        partitions holding it, every incident in one (:func:`parsc_geo.partitions.write_partitions`,
        as a distributed run writes them): then tasks of ``workers`` read them, and this
        process holds none (:mod:`parsc_geo.maps.atlas_partitions`,
        :func:`parsc_geo.maps.public.prepare_public_partitions`); the pages are the same.
    hotspots
        Hotspots of any methods (ranked or not); each map draws those touching its area. Public
        maps draw zones of the same methods computed again from the generalised incidents.
    densities
        Density rasters keyed by province name or ``"comisaria:<name>"`` (case and accents
        ignored); missing ones are computed with :func:`parsc_geo.density.kernel_density`
        (defaults, masked to the area; incidents stacked at stations excluded). Pass ``{}`` to
        compute all, as None does. Public maps ignore them: their densities come from the
        generalised incidents. Internal maps add the density of every month on the same grid.
    sectors
        Sector layer; one map per comisaría in it.
    output_dir
        Folder for the pages (created).
    public
        Public maps following the privacy rule of :mod:`parsc_geo.privacy` (no sensitive
        incident located, places of at least ``privacy_k`` incidents, no free text, no period
        control, no trends layer), with ``privacidad.json`` beside the pages; default internal.
    offline
        Single self-contained files (Leaflet and parsc-geo's runtime inlined, no base tiles).
        Otherwise (default) they are written once into ``output_dir/lib/`` and every page
        references them by relative path; either way the maps need no network (only the
        optional base tiles do).
    synthetic
        Data are synthetic: every page shows :data:`parsc_geo.settings.SYNTHETIC_BANNER`.
    period
        Period text for title blocks (default: the incidents' date range).
    parameters
        Parameters shown, in words, under "Cómo se hizo este mapa" (e.g. ``{"kernel":
        "quartic", "métodos": "kde, gistar", "ranking": "harm"}``; see
        :func:`parsc_geo.maps.words.parameter_lines`).
    overwrite
        Replace existing pages.
    tiles
        Base tiles (see :func:`parsc_geo.maps.new_map`); ignored when ``offline``.
    source
        Data source text.
    grid_m
        Finest grid of public maps in metres (default
        :data:`parsc_geo.settings.PUBLIC_GRID_M`).
    assets_dir
        Folder of npm-style packages to take Leaflet from (see
        :func:`parsc_geo.maps.offline.resolve_asset`; default: the xstatic packages).
    density_options
        Keyword arguments for :func:`parsc_geo.density.kernel_density` when a density is
        computed here (e.g. ``{"kernel": "quartic", "bandwidth": 400, "cell_size": 50}``).
    generated
        Generation time shown in the pages; default ``SOURCE_DATE_EPOCH`` when set (the
        reproducible-builds convention: same input, same bytes), else now.
    privacy_k
        Public maps: minimum number of incidents behind every place and count (default
        :data:`parsc_geo.privacy.DEFAULT_K`).
    workers
        A :class:`parsc_geo.parallel.WorkerPool` or a number of processes that build internal
        pages in parallel (1: one after the other); the pages do not depend on it.
    trends
        Emerging hot spots for a layer on internal pages: a
        :class:`parsc_geo.trends.emerging.TrendsResult` (``emerging_hotspots(...)``) or its
        :func:`parsc_geo.trends.series.cell_series` table; each page draws the cells with a
        pattern that touch it. None: no trends layer.
    accuracy
        Backtested accuracy for the "Precisión histórica" panel: a
        :class:`parsc_geo.evaluation.forecast.Evaluation`, or rows (a DataFrame or a list of
        mappings) with ``method`` (``"counts"``, ``"kde"``, ``"auto"`` …), ``coverage_pct``
        (1, 5 …), ``hit_rate`` (share 0–1 of the next period's incidents in the marked
        cells), ``pai``, ``pei_star`` and optionally ``provincia`` (rows for one province; rows
        without it are the whole area's, used where a province has none) and ``n_folds``. An
        empty list says the data were too short to measure it; None shows no panel.
    links
        The run's other outputs for the index: :class:`parsc_geo.maps.index.AtlasLink` or
        ``(section, title, path)`` (paths relative to ``output_dir`` or absolute); see
        :func:`parsc_geo.maps.index.run_links` to list a run folder's.
    density_breaks
        Lower edges of the density classes in incidents per km² and per month (default
        :data:`parsc_geo.maps.density_layer.DEFAULT_DENSITY_BREAKS`); one scale for every page.
    basemap
        Draw the offline base map (capitals, district names, populated places) on every page.
    partitioned
        ``incidents`` also written by province (:class:`parsc_geo.partitions.Partitioned`, as
        a distributed run writes them): pages built by workers read their incidents from it
        rather than receiving them from this process. The pages do not depend on it.
    deferred
        A list to leave the pages' end to: the call returns once the pages are handed to
        ``workers`` (a :class:`parsc_geo.parallel.WorkerPool`, open until then, as
        background tasks), with the paths it will write, and appends to ``deferred`` a
        :class:`~parsc_geo.parallel.Pending` whose ``results()`` waits for the pages, writes
        them and the index and returns those paths (a run writes its patrol tables and QGIS
        project meanwhile). The files do not depend on it.

    Returns
    -------
    list of pathlib.Path
        The pages written, ``index.html`` last (the ``lib/`` files and ``privacidad.json`` are
        not listed).

    Raises
    ------
    OutputError
        When a page, or a different file of ``lib/``, exists and ``overwrite`` is False (nothing
        is written then).
    ConfigError
        Bad ``density_breaks``, ``accuracy`` rows or ``trends`` table.
    MissingDependencyError
        When Leaflet cannot be found in any package source.
    """
    from zoneinfo import ZoneInfo

    import pandas as pd

    from ..area import area_of
    from ..parallel import Pending, WorkerPool, worker_pool

    # a table held here, or its partitions read by tasks (spread: what the atlas needs of them)
    table = cast("gpd.GeoDataFrame", incidents) if isinstance(incidents, pd.DataFrame) else None
    spread = None
    if table is not None:
        _check_incidents(table)
        territory = area_of(table, quiet=False)
        whole_period = None if period else period_text(table)
        timeline = Timeline.of(table)
    else:
        spread = summarise_partitions(cast("Sequence[Partition]", incidents), pool=workers)
        _check_columns(spread.columns, spread.crs)
        territory = spread.territory
        whole_period, timeline = spread.period, spread.timeline
    out_dir = Path(output_dir)
    if generated is None:
        generated = _generation_time(ZoneInfo(settings.TIMEZONE))
    given = {_fold(k): v for k, v in (densities or {}).items()}
    if offline:
        tiles = None
    src = source or (SYNTHETIC_SOURCE if synthetic else DEFAULT_SOURCE)
    scale = DensityScale.of(density_breaks)
    cells = None if public or trends is None else emerging_cells(trends)
    accuracy_table = None if accuracy is None else accuracy_rows(accuracy)
    extra_links = normalise_links(links, out_dir)
    public_data: PublicData | None = None
    public_parts: PartitionedPublic | None = None
    if public and table is not None:
        public_data = prepare_public(table, hotspots, _public_rule(grid_m, privacy_k))
    elif public and spread is not None:
        public_parts = prepare_public_partitions(
            spread.partitions,
            hotspots,
            _public_rule(grid_m, privacy_k),
            areas=territory.provinces(),
            pool=workers,
        )
    common: dict[str, Any] = {
        "public": public,
        "public_data": public_data,
        "density_options": density_options,
        "synthetic": synthetic,
        "period": period or whole_period,
        "source": src,
        "parameters": parameters,
        "tiles": tiles,
        "grid_m": grid_m,
        "generated": generated,
        "timeline": timeline,
        "density_scale": scale,
        "trends": cells,
        "accuracy": accuracy_table,
        "home": INDEX_FILE,
        "basemap": basemap,
    }
    provinces = territory.provinces()
    if spread is not None:
        present = spread.present
    elif table is None:
        raise AssertionError("neither a table nor partitions")
    elif "provincia" in table.columns and table["provincia"].notna().any():
        keys = fold_values(table["provincia"])
        present = set(keys[table["provincia"].notna()])
    else:
        joined = provinces[provinces.intersects(table.to_crs(provinces.crs).geometry.union_all())]
        present = set(joined["provincia"].map(_fold))
    names = [p for p in provinces["provincia"] if _fold(p) in present]
    comisarias = sorted(sectors["comisaria"].astype(str).unique()) if sectors is not None else []
    plan: list[tuple[str, str, str]] = []
    used: set[str] = {"index"}
    for kind, name in [("provincia", p) for p in names] + [("comisaria", c) for c in comisarias]:
        stem = f"{kind}-{slugify(name)}"
        base, i = stem, 2
        while stem in used:
            stem, i = f"{base}-{i}", i + 1
        used.add(stem)
        plan.append((kind, name, f"{stem}.html"))
    targets = [out_dir / f for _, _, f in plan] + [out_dir / INDEX_FILE]
    if public:
        targets.append(out_dir / REPORT_NAME)
    existing = [str(t) for t in targets if t.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{len(existing)} mapa(s) ya existe(n), p. ej. {existing[0]}",
            hint="use overwrite=True / --overwrite, o elija otra carpeta de salida",
        )
    lib = None if offline else assets.lib_files(assets_dir=assets_dir)
    if lib is not None:
        assets.check_lib(out_dir, lib, overwrite=overwrite)
    areas = []
    for kind, name, _ in plan:
        if kind == "provincia":
            areas.append(provinces[provinces["provincia"] == name])
        else:
            assert sectors is not None
            areas.append(sectors[sectors["comisaria"].astype(str) == name])
    columns = _page_columns([density_options, *given.values()])
    rows: list[gpd.GeoDataFrame | Rows | Pieces | PublicPage]
    if table is not None and public:
        rows = [table] * len(plan)
    elif table is not None:
        # the incidents near each page: those of the province or within reach of the
        # comisaría's sectors, whose kernels reach over its edge (and of its density)
        located = _Located(table, partitioned, columns)
        rows = [located.near(own, DENSITY_CONTEXT_M) for own in areas]
    else:
        assert spread is not None
        # the same, found and read by tasks on the partitions: this process holds none
        boxes = [_near_box(own, DENSITY_CONTEXT_M) for own in areas]
        if public_parts is None:
            rows = list(rows_near(spread.partitions, boxes, columns, pool=workers))
        else:
            rows = list(_public_pages(public_parts, boxes, spread.attrs, territory))
    tasks = []
    for (kind, name, filename), own, page_rows in zip(plan, areas, rows, strict=True):
        key = name if kind == "provincia" else f"comisaria:{name}"
        tasks.append(
            _PageTask(
                kind=kind,
                name=name,
                filename=filename,
                incidents=page_rows,
                sectors=sectors if kind == "comisaria" else None,
                own=own,
                hotspots=hotspots,
                raster=given.get(_fold(key)) if not public else None,
                common=common,
                offline=offline,
                assets_dir=assets_dir,
            )
        )
    # Public pages of a table share its generalised data: they are built here, one after the
    # other; those of partitions carry their own.
    building: Pending[tuple[str, PageInfo, bytes]]
    if public and table is not None:
        building = Pending(lambda: [_atlas_page(task) for task in tasks])
    elif deferred is not None and isinstance(workers, WorkerPool):
        # nothing waits for the pages before ``finish``: they are background tasks, handed
        # out when a worker is free, after the background work queued before them (the
        # priority maps' PDF, 1.7 s, had waited for the demo's 17 pages and ended the run
        # alone) and never ahead of a task the run waits for
        building = workers.start_largest_first(
            _atlas_page,
            tasks,
            lambda t: len(t.incidents),
            held=lambda t: len(t.incidents),
            background=True,
        )
    else:
        with worker_pool(workers) as pool:
            pages = pool.map_largest_first(
                _atlas_page, tasks, lambda t: len(t.incidents), held=lambda t: len(t.incidents)
            )
        building = Pending(lambda: pages)

    def finish() -> list[Path]:
        """Wait for the built pages; write them, ``lib/``, the index and the privacy report."""
        pages = building.results()
        if lib is not None:
            assets.write_lib(out_dir, overwrite=overwrite, files=lib)
        written = [
            write_bytes_atomic(out_dir / filename, page, overwrite=overwrite)
            for filename, _, page in pages
        ]
        rule = public_data.rule if public_data is not None else None
        if public_parts is not None:
            rule = public_parts.rule
        index = index_html(
            [(f, b) for f, b, _ in pages],
            territory=territory,
            sectors=sectors,
            synthetic=synthetic,
            rule=rule,
            generated=generated,
            source=src,
            period=common["period"],
            links=extra_links,
            offline=offline,
            assets_dir=assets_dir,
        )
        written.append(write_text_atomic(out_dir / INDEX_FILE, index, overwrite=overwrite))
        if public_data is not None:
            report = _privacy_report(public_data.incidents.report(), public_data.zones, pages)
            write_privacy_report(out_dir, report, overwrite=overwrite)
        elif public_parts is not None:
            report = _privacy_report(public_parts.generalised.report(), public_parts.zones, pages)
            write_privacy_report(out_dir, report, overwrite=overwrite)
        return written

    if deferred is None:
        return finish()
    deferred.append(Pending(finish))
    return [out_dir / filename for _, _, filename in plan] + [out_dir / INDEX_FILE]


@dataclass
class _PageTask:
    """One page of an atlas: what :func:`_atlas_page` needs to build and render it."""

    kind: str
    name: str
    filename: str
    incidents: gpd.GeoDataFrame | Rows | Pieces | PublicPage
    sectors: gpd.GeoDataFrame | None
    own: gpd.GeoDataFrame | None
    hotspots: gpd.GeoDataFrame | None
    raster: Any
    common: dict[str, Any]
    offline: bool
    assets_dir: Path | None


@dataclass
class PageInfo:
    """What the index and the privacy report need of a built page (no folium object)."""

    title: str
    kind: str
    place: str
    summary: dict[str, Any]


def _atlas_page(task: _PageTask) -> tuple[str, PageInfo, bytes]:
    """Build and render one atlas page (a task of :func:`write_atlas`, maybe in a worker).

    Returns the file name, what the index needs of the page and the page's HTML (UTF-8).
    """
    common = task.common
    public = bool(common["public"])
    options = common["density_options"]
    raster = task.raster
    if isinstance(task.incidents, PublicPage):
        # a public page of partitions: its published incidents, read here
        incidents, data = task.incidents.load()
        common = {**common, "public_data": data}
    else:
        incidents = materialise(task.incidents)
    assert task.own is not None
    if task.kind == "provincia":
        if raster is None and not public:
            raster = _density_for(incidents, task.own, options=options)
        built = build_province_map(
            incidents, province=task.name, hotspots=task.hotspots, density=raster, **common
        )
    else:
        assert task.sectors is not None
        if raster is None and not public:
            raster = _density_for(incidents, task.own, COMISARIA_MARGIN_M, options)
        built = build_comisaria_map(
            incidents,
            task.sectors,
            comisaria=task.name,
            hotspots=task.hotspots,
            density=raster,
            **common,
        )
    # the page's file content: UTF-8 is half the size of the text in memory (its dashes and
    # accents make Python store two bytes a character), here, in the message and in this
    # process until every page is written
    page = render_map_html(built.map, offline_mode=task.offline, assets_dir=task.assets_dir).encode(
        "utf-8"
    )
    summary = dict(built.summary)
    summary["bounds"] = [float(b) for b in built.map.parsc_bounds]  # type: ignore[attr-defined]
    return task.filename, PageInfo(built.title, built.kind, built.place, summary), page


def _page_columns(densities: Sequence[Any]) -> frozenset[str]:
    """Return the columns an internal page reads of its incidents, besides the geometry.

    Those the incident layer shows (:data:`INCIDENT_LAYER_COLUMNS`), the province and UBIGEO
    (which rows are the province's; the study area when none is recorded), the station
    stacks and the columns of the page's density (``densities``: its rasters or options).
    A page's task carries (or reads from the partitions) these only.
    """
    names = {*INCIDENT_LAYER_COLUMNS, "provincia", "ubigeo", "at_station"}
    for source in densities:
        # options name their weights; rasters (or None) are read by _density_columns
        names.update(
            _density_columns(source.get("weights") if isinstance(source, Mapping) else source)
        )
    return frozenset(names)


class _Located:
    """Incidents with a spatial index, to hand each page only the incidents near it.

    ``columns``: the only columns a page's rows carry (:func:`_page_columns`).
    """

    def __init__(
        self,
        incidents: gpd.GeoDataFrame,
        partitioned: Partitioned | None,
        columns: frozenset[str],
    ) -> None:
        import numpy as np
        import shapely

        self.incidents = incidents
        self.partitioned = partitioned
        self.columns = columns
        geographic = incidents.to_crs(settings.CRS_GEOGRAPHIC)
        self.tree = shapely.STRtree(np.asarray(geographic.geometry.values))

    def near(self, area: gpd.GeoDataFrame, distance_m: float) -> Rows:
        """Return the incidents (in their order) within a box around ``area``.

        The box is ``area``'s bounds widened by twice ``distance_m`` (plus the comisaría
        margin) in degrees at the area's latitude: a superset of every incident the page
        selects or uses for its density, which then select exactly as before.
        """
        import numpy as np

        hits = self.tree.query(_near_box(area, distance_m))
        # cut when the page's task is handed out, not all pages' at once (partitions.Rows)
        if self.partitioned is not None and self.partitioned.frame is self.incidents:
            return self.partitioned.rows(np.sort(hits), self.columns)
        return Rows(self.incidents, np.sort(hits), columns=self.columns)


def _near_box(area: gpd.GeoDataFrame, distance_m: float) -> Any:
    """Return the box around ``area`` holding every incident its page selects or weighs.

    ``area``'s bounds widened by twice ``distance_m`` (plus the comisaría margin) in degrees at
    the area's latitude (:data:`parsc_geo.settings.CRS_GEOGRAPHIC`): a superset of the
    incidents the page draws or uses for its density, which then select exactly as from all.
    """
    import math

    from shapely.geometry import box

    minx, miny, maxx, maxy = area.to_crs(settings.CRS_GEOGRAPHIC).total_bounds
    reach = 2 * (distance_m + COMISARIA_MARGIN_M)
    dy = reach / 110_000.0
    dx = reach / (110_000.0 * max(math.cos(math.radians(max(abs(miny), abs(maxy)))), 0.05))
    return box(minx - dx, miny - dy, maxx + dx, maxy + dy)


def _public_pages(
    data: PartitionedPublic, boxes: Sequence[Any], attrs: Mapping[str, Any], territory: Any
) -> list[PublicPage]:
    """Return what each public page needs: the published incidents of the places in its box.

    A place's incidents are all at its point: those of the places in a page's box
    (:func:`_near_box`) are a superset of those the page draws or weighs in its density.
    """
    import numpy as np
    import shapely

    points = np.asarray(data.generalised.places.to_crs(settings.CRS_GEOGRAPHIC).geometry.values)
    tree = shapely.STRtree(points)
    # the pages' incidents name the table's study area (area_of reads it), as the table does
    area = None if "study_area" in attrs else territory.to_dict()
    pages = []
    for found in boxes:
        chosen = np.zeros(len(points), dtype=bool)
        chosen[tree.query(found)] = True
        pages.append(data.page(chosen, area))
    return pages


def _privacy_report(
    report: dict[str, Any],
    zones: Mapping[str, Any],
    pages: Sequence[tuple[str, BuiltMap | PageInfo, bytes]],
) -> dict[str, Any]:
    """Return the accounting of ``privacidad.json`` for a public atlas.

    ``report``: that of the generalised incidents
    (:meth:`parsc_geo.privacy.PublicIncidents.report`), completed here; ``zones``: the
    accounting of the public zones (:class:`PublicData`).
    """
    report["zonas_criticas"] = {
        "calculadas_desde_lugares": True,
        "metodos": list(zones.get("metodos", [])),
        "calculadas": int(zones.get("calculadas", 0)),
        "descartadas_por_k": int(zones.get("descartadas_por_k", 0)),
        "declinadas": dict(zones.get("declinadas", {})),
    }
    report["densidad"] = (
        "estimación kernel de los incidentes generalizados (centros de lugares), sin "
        "incidentes no ubicados"
    )
    report["paginas"] = [
        {
            "archivo": filename,
            "lugares": int(built.summary.get("places", 0)),
            "incidentes_en_lugares": int(built.summary.get("drawn", 0)),
        }
        for filename, built, _ in pages
    ]
    return report
