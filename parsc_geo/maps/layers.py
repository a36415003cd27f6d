"""Map layers: boundaries, stations, sectors, incidents, density, hotspots and Gi* cells.

Each ``add_*`` function adds one or more toggleable layers with Spanish names and a legend
section, and returns a small summary (counts drawn) that the atlas and the tests use.
Coordinates are rounded to :data:`parsc_geo.settings.COORD_DECIMALS` decimals (about 1 m).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
from jinja2 import Template

from .. import schema, settings
from .._errors import InputDataError
from .._text import num
from ..localtime import incidents_zone, local_times
from ..privacy import PrivacyRule, count_text
from .base import MarkerClusterAssets, SafeMacroElement, add_colorbar, add_legend, esc, js_json

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

#: Display names of hotspot methods.
METHOD_LABELS: dict[str, str] = {
    "kde": "densidad kernel (KDE)",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
    "gistar": "Getis-Ord Gi*",
}

#: Gi* classes: code → (Spanish label, colour). Hot in reds, cold in blues (ColorBrewer RdBu).
GI_CLASSES: dict[str, tuple[str, str]] = {
    "caliente_99": ("Caliente, 99 % de confianza", "#b2182b"),
    "caliente_95": ("Caliente, 95 % de confianza", "#ef8a62"),
    "caliente_90": ("Caliente, 90 % de confianza", "#fddbc7"),
    "frio_90": ("Frío, 90 % de confianza", "#d1e5f0"),
    "frio_95": ("Frío, 95 % de confianza", "#67a9cf"),
    "frio_99": ("Frío, 99 % de confianza", "#2166ac"),
}

#: Colour of ranked hotspot polygons by method.
METHOD_COLORS: dict[str, str] = {
    "kde": "#e31a1c",
    "dbscan": "#ff7f00",
    "hdbscan": "#6a3d9a",
}

#: Density colour ramp (ColorBrewer YlOrRd, 7 classes), low → high.
DENSITY_COLORS: tuple[str, ...] = (
    "#ffffb2",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#fc4e2a",
    "#e31a1c",
    "#b10026",
)

MONTHS_ES: tuple[str, ...] = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)

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
            {labelClass: {{ this.label_class_json }}});
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
    ) -> None:
        super().__init__(name=esc(name), overlay=True, control=True, show=show)
        self._name = "ParscGeoJson"
        self.data = data
        self.data_json = js_json(data)
        self.label_class_json = js_json(label_class)


class ImageOverlayLayer(folium.map.Layer, SafeMacroElement):
    """A georeferenced PNG (data URL) between lat/lon bounds."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.imageOverlay({{ this.url_json }}, {{ this.bounds_json }},
            {opacity: {{ this.opacity }}, interactive: false, className: "parsc-density"});
        {% endmacro %}
        """
    )

    def __init__(
        self, url: str, bounds: list[list[float]], *, name: str, opacity: float, show: bool = True
    ) -> None:
        super().__init__(name=esc(name), overlay=True, control=True, show=show)
        self._name = "ParscImageOverlay"
        self.url_json = js_json(url)
        self.bounds_json = js_json(bounds)
        self.opacity = float(opacity)


def _text(value: Any, default: str = "—") -> str:
    cleaned = _clean(value)
    return default if cleaned is None or cleaned == "" else str(cleaned)


def _num(value: Any, digits: int = 1) -> str:
    cleaned = _clean(value)
    if cleaned is None:
        return "—"
    if isinstance(cleaned, int) or float(cleaned).is_integer():
        return num(float(cleaned))
    return num(float(cleaned), digits)


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

    Returns
    -------
    pandas.DataFrame
        ``comisaria``, ``sector``, ``subsector``, ``n`` per subsector, in natural order.
    """
    import pandas as pd

    from ..sectors import sort_key

    subs = sectors.reset_index(drop=True).copy()
    subs["n"] = count_in_polygons(incidents, subs) if incidents is not None else 0
    order = sorted(
        range(len(subs)),
        key=lambda i: (
            sort_key(subs.at[i, "comisaria"]),
            sort_key(subs.at[i, "sector"]),
            sort_key(subs.at[i, "subsector"]),
        ),
    )
    subs = subs.iloc[order].reset_index(drop=True)
    by_sector = subs.dissolve(by=["comisaria", "sector"], aggfunc={"n": "sum"}, sort=False)
    by_sector = by_sector.reset_index()

    def count(value: Any) -> str:
        return _num(value) if public_k is None else count_text(int(value), public_k)

    def sector_props(r: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "style": {"color": "#3f007d", "weight": 3, "fill": False},
            "tooltip": f"{_text(r.get('sector'))}: {count(r.get('n'))} incidentes",
            "popup_title": _text(r.get("sector")),
            "popup": [
                ["Comisaría", _text(r.get("comisaria"))],
                ["Incidentes", count(r.get("n"))],
            ],
        }

    def sub_props(r: Mapping[str, Any]) -> dict[str, Any]:
        rows = [
            ["Comisaría", _text(r.get("comisaria"))],
            ["Sector", _text(r.get("sector"))],
            ["Incidentes", count(r.get("n"))],
        ]
        if _clean(r.get("barrio")) is not None:
            rows.insert(2, ["Barrio", _text(r.get("barrio"))])
        return {
            "style": {
                "color": "#807dba",
                "weight": 1.2,
                "fillColor": "#bcbddc",
                "fillOpacity": 0.12,
            },
            "label": f"{_text(r.get('subsector'))}: {count(r.get('n'))}",
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
        self.data_json = js_json(data)
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


def _month_label(period: str) -> str:
    year, month = period.split("-")
    return f"{MONTHS_ES[int(month) - 1]} {year}"


def add_incidents(
    m: folium.Map,
    incidents: gpd.GeoDataFrame,
    *,
    public: bool = False,
    grid_m: float | None = None,
    rule: PrivacyRule | None = None,
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

    Returns
    -------
    dict
        ``drawn`` (incidents drawn), ``suppressed`` (incidents not located), ``by_generico`` and
        ``by_fenomeno`` (counts drawn), ``months`` (YYYY-MM with counts; internal maps).
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
    data = data[~(data.geometry.is_empty | data.geometry.isna())]
    n = len(data)

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
    months = _per_value(day, lambda d: d.dt.strftime("%Y-%m")).fillna("sin fecha")
    month_codes = sorted(v for v in months.unique() if v != "sin fecha")
    mo_idx = pd.Categorical(months, categories=month_codes).codes
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

    scale = 10**settings.COORD_DECIMALS
    payload = {
        "public": False,
        "decimals": settings.COORD_DECIMALS,
        "lat": np.round(data.geometry.y.to_numpy() * scale).astype(np.int64).tolist(),
        "lon": np.round(data.geometry.x.to_numpy() * scale).astype(np.int64).tolist(),
        "g": np.asarray(g_idx, dtype=int).tolist(),
        "f": np.asarray(f_idx, dtype=int).tolist(),
        "m": np.asarray(mod_cat.codes, dtype=int).tolist(),
        "mo": np.asarray(mo_idx, dtype=int).tolist(),
        "h": np.asarray(h_values, dtype=int).tolist(),
        "s": np.asarray(sec_cat.codes, dtype=int).tolist(),
        "generico_colors": [GENERICO_COLORS[g] for g in gen_codes],
        "generico_labels": [GENERICO_LABELS_ES.get(g, g) for g in gen_codes],
        "fenomenos": fen_codes,
        "fenomeno_labels": [schema.FENOMENOS[f] for f in fen_codes],
        "modalidades": [str(c) for c in mod_cat.categories],
        "month_labels": [_month_label(p) for p in month_codes],
        "month_counts": [int((mo_idx == i).sum()) for i in range(len(month_codes))],
        "sectors": [str(c) for c in sec_cat.categories],
        "hour_bands": list(HOUR_BANDS),
        "dt": np.asarray(date_cat.codes, dtype=int).tolist(),
        "dates": [str(c) for c in date_cat.categories],
    }

    fen_counts = fen.value_counts()
    by_fen = {f: int(fen_counts[f]) for f in fen_codes}
    _add_incident_layer(m, payload, {f: num(n) for f, n in by_fen.items()})

    gen_counts = generico.value_counts()
    by_gen = {g: int(gen_counts[g]) for g in gen_codes}
    note = "Puntos agrupados; clic para ver modalidad, fecha, hora y sector."
    add_legend(
        m,
        "Incidentes por delito genérico",
        [(GENERICO_COLORS[g], GENERICO_LABELS_ES.get(g, g), by_gen[g]) for g in gen_codes],
        note=note,
    )
    return {
        "drawn": n,
        "suppressed": 0,
        "by_generico": by_gen,
        "by_fenomeno": by_fen,
        "months": dict(zip(month_codes, payload["month_counts"], strict=True)),
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
        "month_labels": [],
        "month_counts": [],
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


def density_image(
    raster: Any, *, max_size: int = 1200, threshold: float = 0.02
) -> tuple[str, list[list[float]], float]:
    """Render a density raster as a Web-Mercator PNG data URL with its lat/lon bounds.

    Parameters
    ----------
    raster
        A :class:`parsc_geo.density.DensityRaster` (``array`` first row north, ``transform``,
        ``crs``), values in incidents per km².
    max_size
        Largest side of the image in pixels (the raster is resampled if larger).
    threshold
        Fraction of the maximum below which pixels are transparent.

    Returns
    -------
    tuple
        ``(data_url, [[south, west], [north, east]], vmax)`` where ``vmax`` is the raster's
        maximum density in its own units (the top of the colour bar).

    Notes
    -----
    Leaflet draws in Web Mercator (EPSG:3857), so the raster is reprojected to it (bilinear)
    before being stretched between its corner coordinates; a UTM raster placed directly would
    be misplaced by up to a cell at the edges.
    """
    from matplotlib.colors import LinearSegmentedColormap
    from PIL import Image
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    src = np.asarray(raster.array, dtype="float64")
    if src.ndim != 2 or src.size == 0:
        raise InputDataError(
            f"un ráster de densidad debe ser un arreglo 2-D; se recibió la forma {src.shape}"
        )
    finite = src[np.isfinite(src)]
    vmax = float(finite.max()) if finite.size else 0.0
    height, width = src.shape
    t = raster.transform
    left, top = t.c, t.f
    right, bottom = left + t.a * width, top + t.e * height
    dst_t, dst_w, dst_h = calculate_default_transform(
        raster.crs, "EPSG:3857", width, height, left, bottom, right, top
    )
    assert dst_w is not None and dst_h is not None
    factor = max(dst_w, dst_h) / max_size
    if factor > 1:
        dst_w, dst_h = math.ceil(dst_w / factor), math.ceil(dst_h / factor)
        dst_t = dst_t @ dst_t.scale(factor, factor)
    dst = np.full((dst_h, dst_w), np.nan, dtype="float64")
    reproject(
        source=src,
        destination=dst,
        src_transform=t,
        src_crs=raster.crs,
        dst_transform=dst_t,
        dst_crs="EPSG:3857",
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    cmap = LinearSegmentedColormap.from_list("parsc_density", list(DENSITY_COLORS))
    norm = np.clip(np.nan_to_num(dst, nan=0.0) / vmax, 0, 1) if vmax > 0 else np.zeros_like(dst)
    rgba = (cmap(norm) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(np.isfinite(dst) & (norm > threshold), 255, 0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", optimize=True)
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    d_left, d_top = dst_t.c, dst_t.f
    d_right, d_bottom = d_left + dst_t.a * dst_w, d_top + dst_t.e * dst_h
    west, south, east, north = transform_bounds(
        "EPSG:3857", "EPSG:4326", d_left, d_bottom, d_right, d_top
    )
    digits = settings.COORD_DECIMALS
    bounds = [
        [round(south, digits), round(west, digits)],
        [round(north, digits), round(east, digits)],
    ]
    return url, bounds, vmax


def add_density(
    m: folium.Map,
    raster: Any,
    *,
    name: str = "Densidad kernel de incidentes",
    opacity: float = 0.65,
    show: bool = True,
) -> dict[str, Any]:
    """Add a kernel density raster as a georeferenced image with a colour bar (incidents/km²).

    Returns
    -------
    dict
        ``vmax`` (top of the colour bar, incidents per km²) and ``bounds``.
    """
    url, bounds, vmax = density_image(raster)
    ImageOverlayLayer(url, bounds, name=name, opacity=opacity, show=show).add_to(m)
    bits = []
    for label, attr, unit in (
        ("núcleo", "kernel", ""),
        ("ancho de banda", "bandwidth", " m"),
        ("celda", "cell_size", " m"),
    ):
        value = getattr(raster, attr, None)
        if value is not None:
            bits.append(
                f"{label} {value:.0f}{unit}"
                if isinstance(value, float)
                else f"{label} {value}{unit}"
            )
    add_colorbar(
        m,
        "Densidad (incidentes/km²)",
        list(DENSITY_COLORS),
        0.0,
        vmax,
        note=("Estimación kernel: " + ", ".join(bits)) if bits else None,
    )
    return {"vmax": vmax, "bounds": bounds}


def rank_within(hotspots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return hotspots in rank order with ``map_rank`` = 1, 2, … (the label on the map).

    The order is the table's ``rank`` (from :func:`parsc_geo.ranking.rank_hotspots`, ties by
    ``hotspot_id``) when every row has one, else ``n`` (descending), ``harm`` (descending),
    ``hotspot_id``. Labels are consecutive within a map even when the table ranks over a
    larger unit or over several methods together.
    """
    import pandas as pd

    if "rank" in hotspots.columns and hotspots["rank"].notna().all() and len(hotspots):
        keys, ascending = ["rank", "hotspot_id"], [True, True]
    else:
        keys, ascending = ["n", "harm", "hotspot_id"], [False, False, True]
    hs = hotspots.sort_values(keys, ascending=ascending, kind="stable").copy()
    hs["map_rank"] = pd.Series(np.arange(1, len(hs) + 1), index=hs.index)
    return hs


def add_hotspots(
    m: folium.Map, hotspots: gpd.GeoDataFrame, *, public_k: int | None = None
) -> dict[str, int]:
    """Add ranked hotspot polygons (one layer per method), labelled by rank, with popups.

    Gi* cells (rows with a ``gi_class``) are drawn by :func:`add_gistar` instead. On a public
    map (``public_k`` given: zones computed from generalised incidents, see
    :mod:`parsc_geo.maps.public`) popups show the method, counts, area and categories only, and
    counts below ``public_k`` as "menos de k".

    Returns
    -------
    dict
        Method → number of polygons drawn.
    """
    if hotspots is None or not len(hotspots):
        return {}
    hs = hotspots
    if "gi_class" in hs.columns:
        hs = hs[hs["gi_class"].isna()]
    out: dict[str, int] = {}
    entries: list[tuple[str, str, int | float | None]] = []
    for method in sorted(hs["method"].astype(str).unique()):
        part = rank_within(hs[hs["method"].astype(str) == method])
        color = METHOD_COLORS.get(method, "#e31a1c")
        label = METHOD_LABELS.get(method, method)

        def props(r: Mapping[str, Any], color: str = color, label: str = label) -> dict[str, Any]:
            style = {"color": color, "weight": 2.5, "fillColor": color, "fillOpacity": 0.18}
            if public_k is not None:
                return {
                    "style": style,
                    "label": str(int(r["map_rank"])),
                    "popup_title": f"Zona crítica n.º {int(r['map_rank'])}",
                    "popup": [
                        ["Método", label],
                        ["Incidentes", count_text(int(r.get("n") or 0), public_k)],
                        ["Área", f"{_num(r.get('area_km2'), 3)} km²"],
                        ["Delitos principales", _text(r.get("top_modalidades"))],
                    ],
                }
            return {
                "style": style,
                "label": str(int(r["map_rank"])),
                "popup_title": f"Zona crítica n.º {int(r['map_rank'])}",
                "popup": [
                    ["Método", label],
                    ["Rango en la tabla de ranking", _num(r.get("rank"))],
                    ["Incidentes", _num(r.get("n"))],
                    ["Daño ponderado", _num(r.get("harm"))],
                    ["Área", f"{_num(r.get('area_km2'), 3)} km²"],
                    ["Densidad", f"{_num(r.get('density'))} incidentes/km²"],
                    ["Modalidades principales", _text(r.get("top_modalidades"))],
                    ["Horas pico", _text(r.get("peak_hours"))],
                    ["Días pico", _text(r.get("peak_days"))],
                    ["Comisaría", _text(r.get("comisaria"))],
                    ["Sector", _text(r.get("sector"))],
                    ["Identificador", _text(r.get("hotspot_id"))],
                ],
            }

        fc = feature_collection(part, props)
        GeoJsonLayer(
            fc, name=f"Zonas críticas por {label} ({len(fc['features'])})", label_class="parsc-rank"
        ).add_to(m)
        out[method] = len(fc["features"])
        entries.append((color, f"Zona crítica ({label}); número = rango", out[method]))
    if entries:
        add_legend(m, "Zonas críticas (1 = más incidentes)", entries, shape="square")
    return out


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
