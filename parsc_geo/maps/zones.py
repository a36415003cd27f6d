"""Hotspot zones on a map: badges per method, a page's own zones, and their counts per month.

Zones of different methods look different at a glance: each method has its colour, outline
(solid, dashed, dash-dot, double) and a letter in its badge (``K1`` for the first KDE zone,
``D``, ``H``, ``G`` for DBSCAN, HDBSCAN and Gi* hot zones). Cluster bubbles of incidents are
round and carry numbers only, so a badge never reads as a cluster; the runtime also moves
badges off bubbles and off each other (``parscGeo.declutter``).

Gi* is drawn twice: its significant cells coloured by confidence (:func:`add_gistar` in
:mod:`.layers`), and its hot zones — contiguous hot cells, one zone each
(:func:`gistar_zones`) — ranked and badged like the zones of the other methods.

A comisaría's page lists as its own only the zones with most of their area inside its
jurisdiction (:func:`split_own`); province zones that merely touch it are drawn apart, without
a badge, as "zonas de la provincia que tocan la jurisdicción".

Zone outlines and ranks are those of the whole period; the number of incidents inside each
zone follows the period control (internal maps).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..privacy import count_text
from .base import add_badge_legend, add_legend, esc
from .layers import (
    GISTAR_ZONE_COLOR,
    METHOD_COLORS,
    GeoJsonLayer,
    _num,
    _text,
    feature_collection,
)
from .timeline import Timeline, counts_by_period, parts

if TYPE_CHECKING:
    import folium
    import geopandas as gpd


@dataclass(frozen=True)
class ZoneStyle:
    """How a method's zones are drawn: letter of the badge, colour, outline dashes, label."""

    letter: str
    color: str
    dash: str | None
    label: str


#: Zone styles by method (colours shared with the QGIS styles, :mod:`parsc_geo.reports`).
ZONE_STYLES: dict[str, ZoneStyle] = {
    "kde": ZoneStyle("K", METHOD_COLORS["kde"], None, "densidad kernel (KDE)"),
    "dbscan": ZoneStyle("D", METHOD_COLORS["dbscan"], "9 5", "DBSCAN"),
    "hdbscan": ZoneStyle("H", METHOD_COLORS["hdbscan"], "10 4 2 4", "HDBSCAN"),
    "gistar": ZoneStyle("G", GISTAR_ZONE_COLOR, None, "Getis-Ord Gi* (zona caliente)"),
}

#: Share of a zone's area that must lie inside a comisaría's jurisdiction to be its own.
OWN_SHARE = 0.5

#: Method order of legends and of the atlas index.
METHOD_ORDER: tuple[str, ...] = ("kde", "dbscan", "hdbscan", "gistar")


def style_of(method: str) -> ZoneStyle:
    """Return the style of ``method`` (an unknown method gets a grey style and ``Z``)."""
    return ZONE_STYLES.get(method, ZoneStyle("Z", "#444444", "4 4", method))


def rank_within(hotspots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return hotspots in rank order with ``map_rank`` = 1, 2, … (the number on the badge).

    The order is the table's ``rank`` (from :func:`parsc_geo.ranking.rank_hotspots`, ties by
    ``hotspot_id``) when every row has one, else ``n`` (descending), ``harm`` (descending),
    ``hotspot_id``. Numbers are consecutive within a map even when the table ranks over a
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


def gistar_zones(hotspots: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Return Gi* hot zones (contiguous hot cells merged, one row each), or None.

    Cells with a ``zone_id`` (see :func:`parsc_geo.hotspots.gistar.hotspot_gistar`) are merged
    per province and zone: ``n`` and ``harm`` add up, ``area_km2`` too, ``gi_z`` is the
    largest, ``n_cells`` counts the cells; ``hotspot_id`` is ``gistar-zona-<id>``. When the
    table already holds Gi* zones as polygons (Gi* rows without ``gi_class``), none is made.
    """
    import geopandas as gpd
    import pandas as pd

    if hotspots is None or not len(hotspots) or "gi_class" not in hotspots.columns:
        return None
    if "zone_id" not in hotspots.columns:
        return None
    gi = hotspots[hotspots["method"].astype(str) == "gistar"]
    if gi["gi_class"].isna().any():
        return None
    cells = gi[gi["zone_id"].notna()]
    if not len(cells):
        return None
    keys = ["provincia", "zone_id"] if "provincia" in cells.columns else ["zone_id"]
    frame = cells.copy()
    frame["_prov"] = frame["provincia"].astype(str) if "provincia" in frame.columns else ""
    rows = []
    for (prov, zone), group in frame.groupby(["_prov", "zone_id"], sort=True):
        first = group.iloc[0]
        rows.append(
            {
                "hotspot_id": f"gistar-zona-{int(zone)}"
                + (f"-{prov}" if "provincia" in keys and prov else ""),
                "method": "gistar",
                "n": int(pd.to_numeric(group["n"], errors="coerce").fillna(0).sum()),
                "harm": float(pd.to_numeric(group.get("harm"), errors="coerce").fillna(0).sum())
                if "harm" in group.columns
                else 0.0,
                "area_km2": float(pd.to_numeric(group["area_km2"], errors="coerce").sum())
                if "area_km2" in group.columns
                else float("nan"),
                "gi_z": float(pd.to_numeric(group["gi_z"], errors="coerce").max())
                if "gi_z" in group.columns
                else float("nan"),
                "n_cells": len(group),
                "provincia": first.get("provincia"),
                "comisaria": group["comisaria"].mode().iloc[0]
                if "comisaria" in group.columns and group["comisaria"].notna().any()
                else None,
                "geometry": group.geometry.union_all(),
            }
        )
    zones = gpd.GeoDataFrame(rows, geometry="geometry", crs=hotspots.crs)
    zones["density"] = zones["n"] / zones["area_km2"].where(zones["area_km2"] > 0)
    return zones


def polygon_zones(hotspots: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Return every zone a map badges: polygons of every method and Gi* hot zones."""
    import geopandas as gpd
    import pandas as pd

    if hotspots is None or not len(hotspots):
        return None
    polys = hotspots
    if "gi_class" in polys.columns:
        polys = polys[polys["gi_class"].isna()]
    gi = gistar_zones(hotspots)
    if gi is not None and len(gi):
        polys = gpd.GeoDataFrame(
            pd.concat([polys, gi.to_crs(hotspots.crs)], ignore_index=True), crs=hotspots.crs
        )
    return polys if len(polys) else None


def split_own(
    zones: gpd.GeoDataFrame | None, jurisdiction: Any, *, share: float = OWN_SHARE
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Split zones into a comisaría's own and the province's zones that touch it.

    Parameters
    ----------
    zones
        Zones (any CRS).
    jurisdiction
        The comisaría's sectors (GeoDataFrame), whose union is its jurisdiction.
    share
        A zone is the comisaría's own when at least this share of its area is inside.

    Returns
    -------
    tuple
        ``(own, touching)``: zones intersecting the jurisdiction, split by ``share`` (None when
        there is none).
    """
    from ..projection import metric_crs

    if zones is None or not len(zones):
        return None, None
    crs = metric_crs(jurisdiction)
    area = jurisdiction.to_crs(crs).union_all()
    metric = zones.to_crs(crs)
    touches = metric.intersects(area).to_numpy()
    inside = metric.geometry.intersection(area).area.to_numpy()
    whole = metric.geometry.area.to_numpy()
    frac = np.divide(inside, whole, out=np.zeros_like(inside), where=whole > 0)
    own = zones[touches & (frac >= share)]
    touching = zones[touches & (frac < share)]
    return (own if len(own) else None), (touching if len(touching) else None)


def add_zones(
    m: folium.Map,
    zones: gpd.GeoDataFrame | None,
    *,
    public_k: int | None = None,
    points: gpd.GeoDataFrame | None = None,
    timeline: Timeline | None = None,
    months: np.ndarray | None = None,
    touching: gpd.GeoDataFrame | None = None,
    unit: str = "provincia",
) -> dict[str, Any]:
    """Add ranked zones, one layer per method, each badged with its letter and rank.

    Parameters
    ----------
    m
        The map.
    zones
        The page's own zones (:func:`polygon_zones`; Gi* cells are left to
        :func:`parsc_geo.maps.layers.add_gistar`).
    public_k
        Public map: popups show the method, counts (below ``public_k`` as "menos de k"), area
        and categories only.
    points, timeline, months
        Internal maps: the page's incidents, its months and each incident's month, to count
        the incidents in each zone per period (the popup follows the period control).
    touching
        Comisaría pages: the province's zones that touch the jurisdiction without being its
        own, drawn in one unbadged layer (initially hidden).
    unit
        What the ranks are within (``"provincia"`` or ``"comisaría"``), for the popups.

    Returns
    -------
    dict
        ``by_method`` (method → zones drawn), ``touching`` (number) and ``top`` (the first
        three zones of the first method, for the index).
    """
    out: dict[str, Any] = {"by_method": {}, "touching": 0, "top": []}
    tl = timeline or Timeline(())
    entries = []
    if zones is not None and len(zones):
        methods = [x for x in METHOD_ORDER if x in set(zones["method"].astype(str))]
        methods += sorted(set(zones["method"].astype(str)) - set(methods))
        for method in methods:
            part = rank_within(zones[zones["method"].astype(str) == method])
            st = style_of(method)
            series = (
                counts_by_period(points, part, tl, months)
                if public_k is None and points is not None
                else None
            )
            part = part.assign(_row=np.arange(len(part)))

            def props(
                r: Mapping[str, Any], st: ZoneStyle = st, series: np.ndarray | None = series
            ) -> dict[str, Any]:
                return _zone_props(r, st, series, public_k, unit)

            fc = feature_collection(part, props)
            GeoJsonLayer(
                fc,
                name=f"Zonas críticas por {st.label} ({len(fc['features'])})",
                label_class=f"parsc-rank parsc-badge parsc-badge-{esc(method)}",
                badges=True,
            ).add_to(m)
            out["by_method"][method] = len(fc["features"])
            entries.append(
                (
                    f"parsc-badge-{method}",
                    f"{st.letter}1",
                    f"Zona crítica por {st.label}",
                    len(fc["features"]),
                )
            )
            if not out["top"]:
                out["top"] = [
                    {
                        "rank": int(r["map_rank"]),
                        "badge": f"{st.letter}{int(r['map_rank'])}",
                        "method": st.label,
                        "n": int(r.get("n") or 0),
                        "top_modalidades": ""
                        if r.get("top_modalidades") is None
                        or r.get("top_modalidades") != r.get("top_modalidades")
                        else str(r.get("top_modalidades")),
                    }
                    for _, r in part.head(3).iterrows()
                ]
    if touching is not None and len(touching):
        out["touching"] = _add_touching(m, touching, public_k)
    if entries:
        note = (
            "Letra = método, número = rango (1 = primera). Los círculos sin letra son grupos de "
            "incidentes."
        )
        if out["touching"]:
            note += (
                " Las zonas de la provincia que solo tocan la jurisdicción van aparte, sin "
                "número (línea de puntos)."
            )
        add_badge_legend(m, "Zonas críticas (todo el periodo)", entries, note=note)
    elif out["touching"]:
        add_badge_legend(
            m,
            "Zonas críticas",
            [],
            note="Ninguna zona crítica es de esta jurisdicción; las de la provincia que la "
            "tocan van en una capa aparte.",
        )
    return out


def _zone_props(
    r: Mapping[str, Any],
    st: ZoneStyle,
    series: np.ndarray | None,
    public_k: int | None,
    unit: str,
) -> dict[str, Any]:
    rank = int(r["map_rank"])
    style: dict[str, Any] = {
        "color": st.color,
        "weight": 3.5 if r.get("method") == "gistar" else 2.5,
        "fillColor": st.color,
        "fillOpacity": 0.04 if r.get("method") == "gistar" else 0.12,
    }
    if st.dash:
        style["dashArray"] = st.dash
    badge = f"{st.letter}{rank}"
    title = f"Zona crítica {badge} ({st.label})"
    if public_k is not None:
        rows: list[list[Any]] = [
            ["Método", st.label],
            ["Incidentes", count_text(int(r.get("n") or 0), public_k)],
            ["Área", f"{_num(r.get('area_km2'), 3)} km²"],
            ["Delitos principales", _text(r.get("top_modalidades"))],
        ]
        return {"style": style, "label": badge, "popup_title": title, "popup": rows}
    rows = [
        ["Método", st.label],
        [f"Número en este mapa ({unit})", str(rank)],
        ["Rango en la tabla de ranking", _num(r.get("rank"))],
        ["Incidentes en todo el periodo", _num(r.get("n"))],
    ]
    if series is not None:
        rows.append([["Incidentes en ", {"period": True}], parts("", series[int(r["_row"])])])
    rows += [
        ["Daño ponderado", _num(r.get("harm"))],
        ["Área", f"{_num(r.get('area_km2'), 3)} km²"],
        ["Densidad", f"{_num(r.get('density'))} incidentes/km²"],
    ]
    if r.get("method") == "gistar" and r.get("n_cells") is not None:
        rows.append(["Celdas calientes contiguas", _num(r.get("n_cells"))])
        rows.append(["z de Gi* más alto", _num(r.get("gi_z"), 2)])
    rows += [
        ["Modalidades principales", _text(r.get("top_modalidades"))],
        ["Horas pico", _text(r.get("peak_hours"))],
        ["Días pico", _text(r.get("peak_days"))],
        ["Comisaría", _text(r.get("comisaria"))],
        ["Sector", _text(r.get("sector"))],
        ["Identificador", _text(r.get("hotspot_id"))],
    ]
    return {"style": style, "label": badge, "popup_title": title, "popup": rows}


def _add_touching(m: folium.Map, touching: gpd.GeoDataFrame, public_k: int | None) -> int:
    def props(r: Mapping[str, Any]) -> dict[str, Any]:
        st = style_of(str(r.get("method")))
        rows = [
            ["Método", st.label],
            ["Provincia", _text(r.get("provincia"))],
            ["Rango en la tabla de ranking", _num(r.get("rank"))],
            [
                "Incidentes",
                _num(r.get("n"))
                if public_k is None
                else count_text(int(r.get("n") or 0), public_k),
            ],
            ["Nota", "la mayor parte de la zona está fuera de esta jurisdicción"],
        ]
        return {
            "style": {
                "color": st.color,
                "weight": 2,
                "dashArray": "2 5",
                "fill": True,
                "fillOpacity": 0.04,
            },
            "tooltip": f"Zona de la provincia ({st.label}) que toca la jurisdicción",
            "popup_title": "Zona crítica de la provincia",
            "popup": rows,
        }

    fc = feature_collection(touching, props)
    n = len(fc["features"])
    GeoJsonLayer(
        fc, name=f"Zonas de la provincia que tocan la jurisdicción ({n})", show=False
    ).add_to(m)
    add_legend(
        m,
        "Zonas de la provincia",
        [("#555555", "Zona de la provincia que toca la jurisdicción (capa apagada al inicio)", n)],
        shape="dashed",
    )
    return n
