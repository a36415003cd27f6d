"""Map layers: boundaries, stations, sectors, incidents and Gi* cells.

Each ``add_*`` function adds one or more toggleable layers with Spanish names and a legend
section, and returns a small summary (counts drawn) that the atlas and the tests use.
Coordinates are rounded to :data:`parsc_geo.settings.COORD_DECIMALS` decimals (about 1 m).
Layers that depend on time (incidents, counts per sector) follow the period control of
:mod:`.timeline`; the density layer is :mod:`.density_layer`, zones are :mod:`.zones`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
from jinja2 import Template

from .. import schema, settings
from .._errors import InputDataError
from ..localtime import incidents_zone, local_times
from ..privacy import PrivacyRule, count_text
from .base import (
    LargeJson,
    MarkerClusterAssets,
    SafeMacroElement,
    add_legend,
    esc,
    js_json,
    js_json_fields,
)
from .density_layer import DENSITY_COLORS, add_density, density_image
from .timeline import Timeline, counts_by_period, parts
from .words import METHODS_ES

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

#: Display names of hotspot methods (those of the parameters panel, :mod:`.words`).
METHOD_LABELS: dict[str, str] = {m: METHODS_ES[m] for m in ("kde", "dbscan", "hdbscan", "gistar")}

#: Gi* classes: code → (Spanish label, colour). Hot in reds, cold in blues (ColorBrewer RdBu).
GI_CLASSES: dict[str, tuple[str, str]] = {
    "caliente_99": ("Caliente, 99 % de confianza", "#b2182b"),
    "caliente_95": ("Caliente, 95 % de confianza", "#ef8a62"),
    "caliente_90": ("Caliente, 90 % de confianza", "#fddbc7"),
    "frio_90": ("Frío, 90 % de confianza", "#d1e5f0"),
    "frio_95": ("Frío, 95 % de confianza", "#67a9cf"),
    "frio_99": ("Frío, 99 % de confianza", "#2166ac"),
}

#: Colour of ranked hotspot zones by method (HDBSCAN in magenta: purple is the sectors').
METHOD_COLORS: dict[str, str] = {
    "kde": "#e31a1c",
    "dbscan": "#ff7f00",
    "hdbscan": "#c51b7d",
}

#: Colour of Gi* hot zones (contiguous hot cells, :func:`parsc_geo.maps.zones.gistar_zones`).
GISTAR_ZONE_COLOR = "#67000d"

__all__ = [
    "DENSITY_COLORS",
    "GI_CLASSES",
    "METHOD_COLORS",
    "METHOD_LABELS",
    "add_boundaries",
    "add_density",
    "add_gistar",
    "add_incidents",
    "add_public_places",
    "add_sectors",
    "add_stations",
    "count_in_polygons",
    "density_image",
    "feature_collection",
]

#: Canonical incident ids derived from a row's content (:mod:`parsc_geo.ingest.prepare`): not a
#: complaint number, so not shown as one.
DERIVED_ID = re.compile(r"^h[0-9a-f]{16}(-\d+)?$")
#: Longest address or reference text shown in a popup (characters).
ADDRESS_MAX = 160

#: Hour bands shown in public popups instead of the hour.
HOUR_BANDS: tuple[str, ...] = tuple(f"{h:02d}–{h + 3:02d} h" for h in range(0, 24, 3))


def round_geometry(geom: BaseGeometry, decimals: int = settings.COORD_DECIMALS) -> BaseGeometry:
    """Return ``geom`` with coordinates rounded to ``decimals`` decimal places."""
    import shapely

    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def _clean(value: Any) -> Any:
    """Return a JSON-friendly version of a cell value (None for missing)."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return None
        return round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value) if not isinstance(value, int | bool | str) else value


def feature_collection(
    gdf: gpd.GeoDataFrame,
    properties: Callable[[Mapping[str, Any]], dict[str, Any]],
    *,
    simplify_m: float | None = None,
) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection (EPSG:4326, rounded coordinates) of ``gdf``.

    Parameters
    ----------
    gdf
        Any CRS; converted to EPSG:4326.
    properties
        Row → properties (``style``, ``popup``, ``popup_title``, ``tooltip``, ``label``).
    simplify_m
        Tolerance in metres to simplify geometries (topology preserved), or None.
    """
    from shapely.geometry import mapping

    if gdf.crs is None:
        raise InputDataError(
            "una capa a cartografiar no tiene SRC", hint="asigne uno, p. ej. EPSG:4326"
        )
    data = gdf
    if simplify_m:
        from ..projection import to_metric

        metric = to_metric(gdf)
        metric = metric.set_geometry(metric.geometry.simplify(simplify_m, preserve_topology=True))
        data = metric
    data = data.to_crs(settings.CRS_GEOGRAPHIC)
    features = []
    records = data.drop(columns=data.geometry.name).to_dict("records")
    for geom, row in zip(data.geometry, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(round_geometry(geom)),
                "properties": properties(row),
            }
        )
    return {"type": "FeatureCollection", "features": features}


class GeoJsonLayer(folium.map.Layer, SafeMacroElement):
    """A toggleable GeoJSON layer drawn by the parsc-geo runtime (escaped popups and labels)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = parscGeo.geojson({{ this.data_json }},
            {{ this.options_json }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict[str, Any],
        *,
        name: str,
        show: bool = True,
        label_class: str = "parsc-label",
        badges: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(name=esc(name), overlay=True, control=True, show=show)
        self._name = "ParscGeoJson"
        self.data = data
        self.data_json = js_json(data)
        self.options_json = js_json(
            {"labelClass": label_class, "badges": badges, **(options or {})}
        )


def _text(value: Any, default: str = "—") -> str:
    cleaned = _clean(value)
    return default if cleaned is None or cleaned == "" else str(cleaned)


def _num(value: Any, digits: int = 1) -> str:
    """Return a number for a popup: ``1 234`` or ``12,5`` (Spanish separators), ``—`` if none."""
    from .words import es_num

    cleaned = _clean(value)
    if cleaned is None or isinstance(cleaned, str):
        return "—" if cleaned is None else str(cleaned)
    if isinstance(cleaned, int) or float(cleaned).is_integer():
        return es_num(float(cleaned))
    return es_num(float(cleaned), digits)


def add_boundaries(
    m: folium.Map,
    *,
    provinces: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> dict[str, int]:
    """Add province and district boundaries (with names on hover) as two layers.

    Returns
    -------
    dict
        ``{"provincias": n, "distritos": n}`` drawn.
    """
    out = {"provincias": 0, "distritos": 0}
    entries: list[tuple[str, str, int | float | None]] = []
    if districts is not None and len(districts):
        fc = feature_collection(
            districts,
            lambda r: {
                "style": {"color": "#555555", "weight": 1, "dashArray": "4 3", "fill": False},
                "tooltip": f"{_text(r.get('distrito'))} ({_text(r.get('provincia'))})",
            },
            simplify_m=20.0,
        )
        GeoJsonLayer(fc, name=f"Distritos ({len(fc['features'])})").add_to(m)
        out["distritos"] = len(fc["features"])
        entries.append(("#555555", "Límite distrital", None))
    if provinces is not None and len(provinces):
        fc = feature_collection(
            provinces,
            lambda r: {
                "style": {"color": "#111111", "weight": 2.5, "fill": False},
                "tooltip": f"Provincia {_text(r.get('provincia'))}",
            },
            simplify_m=30.0,
        )
        GeoJsonLayer(fc, name=f"Provincias ({len(fc['features'])})").add_to(m)
        out["provincias"] = len(fc["features"])
        entries.append(("#111111", "Límite provincial", None))
    if entries:
        add_legend(m, "Límites (INEI)", entries, shape="line")
    return out


def add_stations(m: folium.Map, stations: gpd.GeoDataFrame) -> int:
    """Add police stations (CENACOM 2017) as points with a popup; return the number drawn."""
    if stations is None or not len(stations):
        return 0

    def props(r: Mapping[str, Any]) -> dict[str, Any]:
        name = r.get("nombre_mostrado") or r.get("nombre")
        return {
            "style": {
                "radius": 6,
                "color": "#ffffff",
                "weight": 2,
                "fillColor": "#08306b",
                "fillOpacity": 1.0,
            },
            "tooltip": _text(name),
            "popup_title": _text(name),
            "popup": [
                ["Tipo", _text(r.get("tipo_dependencia"))],
                ["Distrito", _text(r.get("distrito"))],
                ["Provincia", _text(r.get("provincia"))],
                ["Efectivos asignados", _num(r.get("efectivos_asignados_total"), 0)],
            ],
        }

    fc = feature_collection(stations, props)
    n = len(fc["features"])
    GeoJsonLayer(fc, name=f"Comisarías y dependencias policiales ({n})").add_to(m)
    add_legend(m, "Policía", [("#08306b", "Comisaría o dependencia (CENACOM 2017)", n)])
    return n


def count_in_polygons(incidents: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Return, for each polygon (in order), the number of incident points within it."""
    import geopandas as gpd

    if incidents is None or not len(incidents) or not len(polygons):
        return np.zeros(len(polygons), dtype=int)
    pts = gpd.GeoDataFrame(
        geometry=incidents.geometry.to_crs(polygons.crs).values, crs=polygons.crs
    )
    poly = gpd.GeoDataFrame(geometry=polygons.geometry.values, crs=polygons.crs)
    joined = gpd.sjoin(pts, poly, how="inner", predicate="within")
    counts = np.bincount(joined["index_right"].to_numpy(dtype=int), minlength=len(polygons))
    return counts.astype(int)


def add_sectors(
    m: folium.Map,
    sectors: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame | None,
    *,
    public_k: int | None = None,
    timeline: Timeline | None = None,
    months: np.ndarray | None = None,
) -> pd.DataFrame:
    """Add sectors and subsectors (labels with incident counts) as two layers.

    Parameters
    ----------
    m
        The map.
    sectors
        Sector layer (one row per subsector; see the contracts).
    incidents
        Incidents counted per subsector by location (on internal maps every incident; on public
        maps the generalised ones, at their place).
    public_k
        Public map: counts from 1 to ``public_k - 1`` are shown as "menos de k".
    timeline, months
        Internal maps: the page's months and each incident's month; labels, tooltips and
        popups then show the count of the period chosen in the period control.

    Returns
    -------
    pandas.DataFrame
        ``comisaria``, ``sector``, ``subsector``, ``n`` (whole period) per subsector, in natural
        order.
    """
    import pandas as pd

    from ..sectors import sort_key

    subs = sectors.reset_index(drop=True).copy()
    order = sorted(
        range(len(subs)),
        key=lambda i: (
            sort_key(subs.at[i, "comisaria"]),
            sort_key(subs.at[i, "sector"]),
            sort_key(subs.at[i, "subsector"]),
        ),
    )
    subs = subs.iloc[order].reset_index(drop=True)
    tl = timeline if (timeline is not None and public_k is None) else Timeline(())
    series = counts_by_period(incidents, subs, tl, months if public_k is None else None)
    subs["n"] = series[:, 0]
    subs["_row"] = np.arange(len(subs))
    by_sector = subs.dissolve(by=["comisaria", "sector"], aggfunc={"n": "sum"}, sort=False)
    by_sector = by_sector.reset_index()
    sector_keys = list(zip(by_sector["comisaria"], by_sector["sector"], strict=True))
    sector_series = np.zeros((len(by_sector), series.shape[1]), dtype=np.int64)
    position = {k: i for i, k in enumerate(sector_keys)}
    for i, key in enumerate(zip(subs["comisaria"], subs["sector"], strict=True)):
        sector_series[position[key]] += series[i]
    by_sector["_row"] = np.arange(len(by_sector))
    timed = len(tl) > 0

    def count(value: Any) -> str:
        return _num(value) if public_k is None else count_text(int(value), public_k)

    def counted(prefix: str, row: int, table: np.ndarray, suffix: str = "") -> Any:
        if timed:
            return parts(prefix, table[row], suffix)
        return f"{prefix}{count(table[row][0])}{suffix}"

    def sector_props(r: Mapping[str, Any]) -> dict[str, Any]:
        row = int(r["_row"])
        return {
            "style": {"color": "#3f007d", "weight": 3, "fill": False},
            "tooltip": counted(f"{_text(r.get('sector'))}: ", row, sector_series, " incidentes"),
            "popup_title": _text(r.get("sector")),
            "popup": [
                ["Comisaría", _text(r.get("comisaria"))],
                [
                    "Incidentes" if not timed else ["Incidentes en ", {"period": True}],
                    counted("", row, sector_series),
                ],
            ],
        }

    def sub_props(r: Mapping[str, Any]) -> dict[str, Any]:
        row = int(r["_row"])
        rows: list[list[Any]] = [
            ["Comisaría", _text(r.get("comisaria"))],
            ["Sector", _text(r.get("sector"))],
            [
                "Incidentes" if not timed else ["Incidentes en ", {"period": True}],
                counted("", row, series),
            ],
        ]
        if timed:
            rows.append(["Incidentes en todo el periodo", count(series[row][0])])
        if _clean(r.get("barrio")) is not None:
            rows.insert(2, ["Barrio", _text(r.get("barrio"))])
        return {
            "style": {
                "color": "#807dba",
                "weight": 1.2,
                "fillColor": "#bcbddc",
                "fillOpacity": 0.1,
            },
            "label": counted(f"{_text(r.get('subsector'))}: ", row, series),
            "popup_title": _text(r.get("subsector")),
            "popup": rows,
        }

    fc_sectors = feature_collection(by_sector, sector_props)
    fc_subs = feature_collection(subs, sub_props)
    GeoJsonLayer(fc_sectors, name=f"Sectores ({len(fc_sectors['features'])})").add_to(m)
    GeoJsonLayer(
        fc_subs, name=f"Subsectores con número de incidentes ({len(fc_subs['features'])})"
    ).add_to(m)
    add_legend(
        m,
        "Sectorización de la comisaría",
        [
            ("#3f007d", f"Sector ({len(by_sector)})", None),
            ("#807dba", f"Subsector, con número de incidentes ({len(subs)})", None),
        ],
        shape="line",
        note="Los números siguen el periodo elegido." if timed else None,
    )
    return pd.DataFrame(
        {
            "comisaria": subs["comisaria"].astype(str),
            "sector": subs["sector"].astype(str),
            "subsector": subs["subsector"].astype(str),
            "n": subs["n"].astype(int),
        }
    )


class IncidentLayer(SafeMacroElement):
    """Clustered incident points with per-fenómeno toggles and a month filter (see runtime)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = parscGeo.incidents({{ this._parent.get_name() }},
            {{ this.data_json }}, {
            {%- for code, layer in this.toggles %}
            {{ code|tojson }}: {{ layer.get_name() }},
            {%- endfor %}
            });
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], toggles: list[tuple[str, folium.FeatureGroup]]):
        super().__init__()
        self._name = "ParscIncidents"
        self.data_json = LargeJson(js_json_fields(data))
        self.toggles = toggles
        self.add_child(MarkerClusterAssets())


def _add_incident_layer(m: folium.Map, payload: dict[str, Any], counts: dict[str, str]) -> None:
    """Add the incident layer with one layer-control toggle per fenómeno (``counts`` shown)."""
    toggles = []
    for code, shown in counts.items():
        fg = folium.FeatureGroup(
            name=esc(f"Incidentes: {schema.FENOMENOS[code]} ({shown})"),
            overlay=True,
            control=True,
            show=True,
        )
        fg.add_to(m)
        toggles.append((code, fg))
    IncidentLayer(payload, toggles).add_to(m)


def _address_codes(data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Index of each row's address or reference text (``descripcion``), -1 when empty.

    The ingestion reads the address columns of police exports (``DIRECCION``,
    ``DIRECCION_HECHO``, ``REFERENCIA``) into ``descripcion``; long texts are cut to
    :data:`ADDRESS_MAX` characters.
    """
    import pandas as pd

    if "descripcion" not in data.columns:
        return np.full(len(data), -1, dtype=np.int64), []
    text = data["descripcion"].astype("string").str.strip()
    text = text.where(text.str.len() > 0)
    short = _per_value(
        text,
        lambda d: d.map(
            lambda t: t if len(t) <= ADDRESS_MAX else t[: ADDRESS_MAX - 1].rstrip() + "…"
        ),
    )
    codes, distinct = pd.factorize(short, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), [str(v) for v in distinct]


def _complaint_codes(data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Index of each row's complaint number (a source ``incident_id``), -1 when derived."""
    import pandas as pd

    if "incident_id" not in data.columns:
        return np.full(len(data), -1, dtype=np.int64), []
    ids = data["incident_id"].astype("string")
    derived = ids.isna() | ids.str.fullmatch(DERIVED_ID.pattern).fillna(True).astype(bool)
    codes, distinct = pd.factorize(ids.where(~derived), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), [str(v) for v in distinct]


def _source_codes(data: pd.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Index of each row's source file (-1 when unknown) and its 1-based row number."""
    import pandas as pd

    if "source" not in data.columns or "source_row" not in data.columns:
        return np.full(len(data), -1, dtype=np.int64), [], np.zeros(len(data), dtype=np.int64)
    source = data["source"].astype("string")
    source = source.where(source.str.len() > 0)
    rows = pd.to_numeric(data["source_row"], errors="coerce")
    source = source.where(rows.notna())
    codes, distinct = pd.factorize(source, use_na_sentinel=True)
    return (
        np.asarray(codes, dtype=np.int64),
        [str(v) for v in distinct],
        rows.fillna(0).astype(np.int64).to_numpy(),
    )


#: Columns of the incidents that :func:`add_incidents` reads on internal maps, besides the
#: geometry (and ``attrs``): a page may hand it only these (a selection copies the columns it
#: keeps, and incident tables carry many more texts).
INCIDENT_LAYER_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "occurred_at",
    "time_known",
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "descripcion",
    "source",
    "source_row",
    "sector",
    "subsector",
)


def add_incidents(
    m: folium.Map,
    incidents: gpd.GeoDataFrame,
    *,
    public: bool = False,
    grid_m: float | None = None,
    rule: PrivacyRule | None = None,
    timeline: Timeline | None = None,
) -> dict[str, Any]:
    """Add incidents as clustered points coloured by delito genérico, one toggle per fenómeno.

    Parameters
    ----------
    m
        The map.
    incidents
        Incident table (schema columns; ``sector``/``subsector`` used when present).
    public
        Public map: the privacy rule of :mod:`parsc_geo.privacy` is applied (see
        :func:`add_public_places`).
    grid_m
        Finest grid of public maps (default :data:`parsc_geo.settings.PUBLIC_GRID_M`).
    rule
        Privacy rule of public maps (default: :class:`parsc_geo.privacy.PrivacyRule` with
        ``grid_m``).
    timeline
        The page's months (default: those of ``incidents``); the points, the counts of the
        layer control and of the legend follow the period control.

    Returns
    -------
    dict
        ``drawn`` (incidents drawn), ``suppressed`` (incidents not located), ``by_generico`` and
        ``by_fenomeno`` (counts drawn), ``months`` (YYYY-MM with counts; internal maps),
        ``complaint_numbers``, ``addresses`` (rows showing them).

    Notes
    -----
    An internal popup leads back to the complaint: its number (a source ``incident_id``; ids
    that the ingestion derived from the row's content are not complaint numbers and are not
    shown), its address or reference (``descripcion``, where the ingestion puts the
    ``DIRECCION`` columns) and its source file and row. Public maps never show them.
    """
    import pandas as pd

    from ..taxonomy import GENERICO_COLORS, GENERICO_LABELS_ES

    if public:
        from ..privacy import generalise

        if rule is None:
            rule = PrivacyRule.from_options(grid_m=grid_m)
        pub = generalise(incidents, rule)
        return add_public_places(m, pub.points, rule, withheld=pub.n_withheld)
    data = incidents.to_crs(settings.CRS_GEOGRAPHIC)
    missing = data.geometry.is_empty | data.geometry.isna()
    if missing.any():
        # a selection copies every column: only when there is something to leave out
        data = data[~missing]
    n = len(data)
    tl = timeline if timeline is not None else Timeline.of(data)

    generico, gen_codes = _generico_codes(data)
    g_idx = pd.Categorical(generico, categories=gen_codes).codes
    fen, fen_codes = _fenomeno_codes(data)
    f_idx = pd.Categorical(fen, categories=fen_codes).codes

    esp = data.get("delito_especifico", pd.Series("", index=data.index)).astype("string")
    mod = data.get("modalidad", pd.Series("", index=data.index)).astype("string")
    mod_labels = _per_pair(
        esp,
        mod,
        lambda e, mo: schema.modalidad_label(e or "", mo or "") or "sin modalidad",
    )
    mod_cat = pd.Categorical(mod_labels)

    when = local_times(data["occurred_at"], incidents_zone(incidents))
    # Dates are formatted once per distinct day, not once per incident.
    day = pd.Series(when.dt.tz_localize(None) if when.dt.tz is not None else when).dt.floor("D")
    dates = _per_value(day, lambda d: d.dt.strftime("%Y-%m-%d")).fillna("sin fecha")
    mo_idx = tl.index(data)
    date_cat = pd.Categorical(dates)
    known = data.get("time_known", pd.Series(True, index=data.index)).fillna(False).astype(bool)
    hour = when.dt.hour.where(known & when.notna(), -1).fillna(-1).astype(int)
    h_values = hour.to_numpy()

    if "sector" in data.columns:
        sec = data["sector"].astype("string")
        sub = (
            data["subsector"].astype("string")
            if "subsector" in data.columns
            else pd.Series(pd.NA, index=data.index, dtype="string")
        )
        sector_text = _per_pair(
            sec,
            sub,
            lambda s, b: (
                (f"{s} / {b}" if b is not None else s) if s is not None else "fuera de sectores"
            ),
        )
    else:
        sector_text = np.full(n, "sin asignar", dtype=object)
    sec_cat = pd.Categorical(sector_text)
    id_codes, ids = _complaint_codes(data)
    ad_codes, addresses = _address_codes(data)
    src_codes, sources, src_rows = _source_codes(data)

    scale = 10**settings.COORD_DECIMALS
    payload: dict[str, Any] = {
        "public": False,
        "decimals": settings.COORD_DECIMALS,
        # numpy columns: js_json_fields writes them without a Python object per incident
        "lat": np.round(data.geometry.y.to_numpy() * scale).astype(np.int64),
        "lon": np.round(data.geometry.x.to_numpy() * scale).astype(np.int64),
        "g": np.asarray(g_idx, dtype=int),
        "f": np.asarray(f_idx, dtype=int),
        "m": np.asarray(mod_cat.codes, dtype=int),
        "mo": np.asarray(mo_idx, dtype=int),
        "h": np.asarray(h_values, dtype=int),
        "s": np.asarray(sec_cat.codes, dtype=int),
        "generico_colors": [GENERICO_COLORS[g] for g in gen_codes],
        "generico_labels": [GENERICO_LABELS_ES.get(g, g) for g in gen_codes],
        "fenomenos": fen_codes,
        "fenomeno_labels": [schema.FENOMENOS[f] for f in fen_codes],
        "modalidades": [str(c) for c in mod_cat.categories],
        "sectors": [str(c) for c in sec_cat.categories],
        "dt": np.asarray(date_cat.codes, dtype=int),
        "dates": [str(c) for c in date_cat.categories],
    }
    if ids:
        payload.update({"id": id_codes, "ids": ids})
    if addresses:
        payload.update({"ad": ad_codes, "addresses": addresses})
    if sources:
        payload.update({"src": src_codes, "sources": sources, "row": src_rows})

    fen_counts = fen.value_counts()
    by_fen = {f: int(fen_counts[f]) for f in fen_codes}
    _add_incident_layer(m, payload, {f: _num(n) for f, n in by_fen.items()})

    gen_counts = generico.value_counts()
    by_gen = {g: int(gen_counts[g]) for g in gen_codes}
    leads = ["modalidad", "fecha", "hora", "sector"]
    if ids:
        leads.insert(0, "n.º de denuncia")
    if addresses:
        leads.append("dirección o referencia")
    if sources:
        leads.append("archivo y fila de origen")
    note = "Puntos agrupados; clic para ver " + ", ".join(leads[:-1]) + " y " + leads[-1] + "."
    add_legend(
        m,
        "Incidentes por delito genérico",
        [(GENERICO_COLORS[g], GENERICO_LABELS_ES.get(g, g), by_gen[g]) for g in gen_codes],
        note=note,
        key="incidentes",
        entry_keys=list(range(len(gen_codes))),
        when="Periodo: todo el periodo" if len(tl) else None,
    )
    return {
        "drawn": n,
        "suppressed": 0,
        "by_generico": by_gen,
        "by_fenomeno": by_fen,
        "months": dict(zip(tl.codes, tl.totals(mo_idx), strict=True)),
        "complaint_numbers": int((id_codes >= 0).sum()),
        "addresses": int((ad_codes >= 0).sum()),
    }


def _per_value(values: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Return ``func`` applied to the distinct values of ``values``, broadcast back to the rows."""
    import pandas as pd

    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    result = np.array([*func(pd.Series(distinct)).to_numpy(object), None], dtype=object)
    # code -1 (missing) takes the None appended at the end
    return pd.Series(result[codes], index=values.index, dtype=object)


def _per_pair(
    first: pd.Series, second: pd.Series, label: Callable[[str | None, str | None], str]
) -> np.ndarray:
    """Return ``label(a, b)`` for every row's pair of texts (None when missing), once per pair.

    A page of 100,000 incidents holds a few hundred distinct pairs: labelling each row in
    Python would dominate the time to build the page.
    """
    import pandas as pd

    codes_a, distinct_a = pd.factorize(first, use_na_sentinel=True)
    codes_b, distinct_b = pd.factorize(second, use_na_sentinel=True)
    # one code per pair; -1 (missing) becomes the last code of its column
    pair = (codes_a % (len(distinct_a) + 1)) * (len(distinct_b) + 1) + (
        codes_b % (len(distinct_b) + 1)
    )
    distinct, inverse = np.unique(pair, return_inverse=True)
    texts_a = [str(v) for v in distinct_a] + [None]
    texts_b = [str(v) for v in distinct_b] + [None]
    width = len(distinct_b) + 1
    labels = np.array(
        [label(texts_a[int(c) // width], texts_b[int(c) % width]) for c in distinct], dtype=object
    )
    out: np.ndarray = labels[inverse.reshape(-1)]
    return out


def _generico_codes(data: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Delito genérico of each row (unknown ones as OTROS DELITOS) and those present, in order."""
    from ..taxonomy import GENERICO_COLORS, UNKNOWN_GENERICO

    generico = data["delito_generico"].astype("string").fillna(UNKNOWN_GENERICO)
    generico = generico.where(generico.isin(list(GENERICO_COLORS)), UNKNOWN_GENERICO)
    present = set(generico.unique())
    return generico, [g for g in GENERICO_COLORS if g in present]


def _fenomeno_codes(data: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Fenómeno of each row (unknown ones as otros) and those present, in schema order."""
    fen = data["fenomeno"].astype("string").fillna("otros")
    fen = fen.where(fen.isin(list(schema.FENOMENOS)), "otros")
    present = set(fen.unique())
    return fen, [f for f in schema.FENOMENOS if f in present]


def add_public_places(
    m: folium.Map,
    points: gpd.GeoDataFrame,
    rule: PrivacyRule,
    *,
    withheld: int | None = None,
) -> dict[str, Any]:
    """Add generalised incidents: one marker per place and fenómeno, with categories and counts.

    Parameters
    ----------
    m
        The map.
    points
        Generalised incidents (:attr:`parsc_geo.privacy.PublicIncidents.points`): each at the
        centre of a place standing for at least ``rule.k`` incidents.
    rule
        The privacy rule applied (counts below ``k`` in legends show as "menos de k").
    withheld
        Incidents not located (reported in the summary).

    Returns
    -------
    dict
        ``drawn`` (incidents), ``places``, ``markers``, ``suppressed`` (``withheld``),
        ``by_generico`` and ``by_fenomeno`` (counts drawn), ``months`` (empty: public maps have
        no period filter).

    Notes
    -----
    A popup lists the canonical categories (delito específico and modalidad of the taxonomy)
    at the place with their counts, the place's total and its cell size: no free text, date or
    hour. Clusters show the number of incidents they hold, not of markers.
    """
    import pandas as pd

    from ..taxonomy import GENERICO_COLORS, GENERICO_LABELS_ES

    data = points.to_crs(settings.CRS_GEOGRAPHIC)
    data = data[~(data.geometry.is_empty | data.geometry.isna())]
    generico, gen_codes = _generico_codes(data)
    fen, fen_codes = _fenomeno_codes(data)
    esp = data.get("delito_especifico", pd.Series("", index=data.index)).astype(str)
    mod = data.get("modalidad", pd.Series("", index=data.index)).astype(str)
    frame = pd.DataFrame(
        {
            "place": data["place_id"].to_numpy(),
            "cell": data["cell_m"].to_numpy(dtype=float),
            "f": pd.Categorical(fen, categories=fen_codes).codes,
            "g": pd.Categorical(generico, categories=gen_codes).codes,
            "cat": [
                schema.modalidad_label(e, mo) or "sin modalidad"
                for e, mo in zip(esp, mod, strict=True)
            ],
            "lat": data.geometry.y.to_numpy(),
            "lon": data.geometry.x.to_numpy(),
        }
    )
    cats = sorted(frame["cat"].unique())
    cat_index = {c: i for i, c in enumerate(cats)}
    scale = 10**settings.COORD_DECIMALS
    lat, lon, f_list, g_list, w_list, c_list, cell_list = [], [], [], [], [], [], []
    for _key, group in frame.groupby(["place", "f"], sort=True):
        counts = group["cat"].value_counts()
        ordered = sorted(
            ((str(c), int(k)) for c, k in counts.items()), key=lambda kv: (-kv[1], kv[0])
        )
        lat.append(round(float(group["lat"].iloc[0]) * scale))
        lon.append(round(float(group["lon"].iloc[0]) * scale))
        f_list.append(int(group["f"].iloc[0]))
        # colour of the marker: its most frequent genérico (ties: legend order)
        g_list.append(int(np.bincount(group["g"].to_numpy(dtype=np.int64)).argmax()))
        w_list.append(len(group))
        c_list.append([[cat_index[c], k] for c, k in ordered])
        cell_list.append(float(group["cell"].iloc[0]))
    payload = {
        "public": True,
        "decimals": settings.COORD_DECIMALS,
        "lat": lat,
        "lon": lon,
        "f": f_list,
        "g": g_list,
        "w": w_list,
        "c": c_list,
        "cell": cell_list,
        "cats": cats,
        "generico_colors": [GENERICO_COLORS[g] for g in gen_codes],
        "generico_labels": [GENERICO_LABELS_ES.get(g, g) for g in gen_codes],
        "fenomenos": fen_codes,
        "fenomeno_labels": [schema.FENOMENOS[f] for f in fen_codes],
    }
    fen_counts = fen.value_counts()
    by_fen = {f: int(fen_counts[f]) for f in fen_codes}
    _add_incident_layer(m, payload, {f: count_text(n, rule.k) for f, n in by_fen.items()})
    gen_counts = generico.value_counts()
    by_gen = {g: int(gen_counts[g]) for g in gen_codes}
    add_legend(
        m,
        "Incidentes por delito genérico",
        [
            (GENERICO_COLORS[g], GENERICO_LABELS_ES.get(g, g), count_text(by_gen[g], rule.k))
            for g in gen_codes
        ],
        note=(
            f"Lugares generalizados: cada punto reúne al menos {rule.k} incidentes (centro de "
            "una celda); clic para ver categorías y números. Los incidentes de categorías "
            "sensibles o no reconocidas no se ubican (ver privacidad.json)."
        ),
    )
    return {
        "drawn": len(data),
        "places": int(frame["place"].nunique()),
        "markers": len(w_list),
        "suppressed": int(withheld or 0),
        "by_generico": by_gen,
        "by_fenomeno": by_fen,
        "months": {},
    }


def add_gistar(
    m: folium.Map,
    hotspots: gpd.GeoDataFrame,
    *,
    show: bool = True,
    public_k: int | None = None,
) -> dict[str, int]:
    """Add Gi* hot and cold cells coloured by confidence (non-significant cells not drawn).

    ``show`` False leaves the layer unticked in the layer control; ``public_k`` (public maps)
    shows cell counts below it as "menos de k".

    Returns
    -------
    dict
        Gi* class → number of cells drawn.
    """
    if hotspots is None or not len(hotspots) or "gi_class" not in hotspots.columns:
        return {}
    cells = hotspots[hotspots["gi_class"].isin(list(GI_CLASSES))]
    counts = {c: int((cells["gi_class"] == c).sum()) for c in GI_CLASSES}
    if not len(cells):
        return {}

    def props(r: Mapping[str, Any]) -> dict[str, Any]:
        label, color = GI_CLASSES[str(r["gi_class"])]
        return {
            "style": {"color": color, "weight": 0.5, "fillColor": color, "fillOpacity": 0.4},
            "popup_title": label,
            "popup": [
                [
                    "Incidentes en la celda",
                    _num(r.get("n"))
                    if public_k is None
                    else count_text(int(r.get("n") or 0), public_k),
                ],
                ["z de Gi*", _num(r.get("gi_z"), 2)],
                ["p", _text(_fmt_p(r.get("gi_p")))],
                ["p ajustado (FDR)", _text(_fmt_p(r.get("gi_p_fdr")))],
                ["Método", METHOD_LABELS["gistar"]],
            ],
        }

    fc = feature_collection(cells, props)
    GeoJsonLayer(
        fc, name=f"Gi*: celdas calientes y frías ({len(fc['features'])})", show=show
    ).add_to(m)
    add_legend(
        m,
        "Getis-Ord Gi* (celdas)",
        [(color, label, counts[c]) for c, (label, color) in GI_CLASSES.items() if counts[c]],
        shape="square",
        note="Celdas no significativas no se dibujan.",
    )
    return {c: v for c, v in counts.items() if v}


def _fmt_p(value: Any) -> str | None:
    cleaned = _clean(value)
    if cleaned is None:
        return None
    p = float(cleaned)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
