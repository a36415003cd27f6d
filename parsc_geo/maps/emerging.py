"""The emerging-hot-spot layer: each cell's pattern, its series and its trend in words.

Cells come from :func:`parsc_geo.trends.series.cell_series` (EPSG:4326: ``patron``,
``color``, ``counts`` and ``z`` per period, ``trend_es`` — the Mann-Kendall trend of the cell's
Gi* z series in Spanish); the legend from :func:`parsc_geo.trends.series.legend_table`. The
popup of a cell shows its pattern, a bar chart of its counts per period (an SVG the runtime
builds from the numbers, red where the period's Gi* z ≥ 1.96) and the trend in words. Cells
without a pattern are not drawn. The layer is of the whole period: it does not follow the
period control.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError
from ..labels_es import MONTHS_SHORT
from .base import add_legend
from .layers import GeoJsonLayer, _num, _text, feature_collection

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

#: Columns a cell table must have (those of ``cell_series``).
CELL_COLUMNS: tuple[str, ...] = ("pattern_key", "patron", "color", "counts", "z", "trend_es")


def emerging_cells(trends: Any) -> gpd.GeoDataFrame | None:
    """Return the cells with a pattern, in EPSG:4326, from a trends result or its cell table.

    Parameters
    ----------
    trends
        A :class:`parsc_geo.trends.emerging.TrendsResult`, or the GeoDataFrame of
        :func:`parsc_geo.trends.series.cell_series` (with or without the cells of no pattern),
        or None.

    Raises
    ------
    ConfigError
        When a table lacks the columns of ``cell_series``.
    """
    import geopandas as gpd

    from ..settings import CRS_GEOGRAPHIC
    from ..trends.series import cell_series, legend_table

    if trends is None:
        return None
    if isinstance(trends, gpd.GeoDataFrame):
        missing = [c for c in CELL_COLUMNS if c not in trends.columns]
        if missing:
            raise ConfigError(
                f"la tabla de tendencias no tiene {', '.join(missing)}",
                hint="pase el resultado de parsc_geo.trends (emerging_hotspots) o "
                "cell_series(resultado)",
            )
        cells = trends
    else:
        cells = cell_series(trends, include_no_pattern=False)
    scheme = str(dict(cells.attrs.get("parameters", {})).get("scheme", "arcgis"))
    legend = legend_table(scheme=scheme)
    codes = dict(zip(legend["pattern_key"], legend["code"], strict=True))
    keep = [codes.get(str(k), 0) != 0 for k in cells["pattern_key"]]
    out = cells[keep]
    if not len(out):
        return None
    out = out.to_crs(CRS_GEOGRAPHIC)
    out.attrs = {**dict(cells.attrs), "parsc_emerging_cells": True}
    return out


def period_label(iso: str, monthly: bool) -> str:
    """Return a short Spanish label of a period start: ``ene 2020`` or ``6 ene 2020``."""
    year, month, day = (int(x) for x in iso[:10].split("-"))
    text = f"{MONTHS_SHORT[month - 1]} {year}"
    return text if monthly else f"{day} {text}"


def add_emerging(
    m: folium.Map,
    cells: gpd.GeoDataFrame | None,
    *,
    area: Any = None,
    show: bool = False,
) -> dict[str, int]:
    """Add the emerging-hot-spot cells touching ``area`` with their legend.

    Parameters
    ----------
    m
        The map.
    cells
        From :func:`emerging_cells`.
    area
        A GeoDataFrame or shapely geometry (EPSG:4326) of the page; None: every cell.
    show
        Whether the layer starts visible (it is listed in the layer control either way).

    Returns
    -------
    dict
        Pattern key → cells drawn.
    """
    from ..trends.series import legend_table

    if cells is None or not len(cells):
        return {}
    part = cells
    if area is not None:
        geom = area.to_crs(cells.crs).union_all() if hasattr(area, "to_crs") else area
        part = cells[cells.intersects(geom)]
    if not len(part):
        return {}
    periods = list(part["periods"].iloc[0]) if "periods" in part.columns else []
    monthly = bool(periods) and all(p[8:10] == "01" for p in periods)
    labels = [period_label(p, monthly) for p in periods]

    def props(r: Mapping[str, Any]) -> dict[str, Any]:
        color = str(r["color"])
        counts = [int(v) for v in r["counts"]]
        z = [None if v is None or v != v else round(float(v), 2) for v in r["z"]]
        return {
            "style": {"color": color, "weight": 0.6, "fillColor": color, "fillOpacity": 0.55},
            "tooltip": _text(r.get("patron")),
            "popup_title": f"Tendencia: {_text(r.get('patron'))}",
            "popup": [
                ["Incidentes en la celda", _num(r.get("n_incidents", sum(counts)))],
                ["Periodos", str(len(counts))],
            ],
            "series": {"counts": counts, "z": z},
            "trend": f"Tendencia de z (Mann-Kendall): {_text(r.get('trend_es'))}",
        }

    fc = feature_collection(part, props)
    n = len(fc["features"])
    GeoJsonLayer(
        fc,
        name=f"Tendencias: puntos calientes emergentes ({n})",
        show=show,
        options={
            "periods": labels,
            "seriesTitle": "Incidentes por periodo (rojo: periodo caliente, Gi* z ≥ 1,96)",
        },
    ).add_to(m)
    scheme = str(dict(cells.attrs.get("parameters", {})).get("scheme", "arcgis"))
    table = legend_table(scheme=scheme)
    counts = part["pattern_key"].astype(str).value_counts()
    entries = [
        (str(r["color"]), str(r["patron"]), int(counts[str(r["pattern_key"])]))
        for _, r in table.iterrows()
        if int(r["code"]) != 0 and str(r["pattern_key"]) in counts.index
    ]
    params = dict(cells.attrs.get("parameters", {}))
    bits = []
    if params.get("cell_size") is not None:
        bits.append(f"celdas de {_num(params['cell_size'], 0)} m")
    if labels:
        bits.append(f"{len(labels)} periodos, de {labels[0]} a {labels[-1]}")
    note = (
        ("Análisis de puntos calientes emergentes: " + "; ".join(bits) + ". ") if bits else ""
    ) + "Clic en una celda: su serie y su tendencia. Del periodo completo."
    if not show:
        note += " Capa apagada al inicio: actívela en el control de capas."
    add_legend(m, "Tendencias (puntos calientes emergentes)", entries, shape="square", note=note)
    return {str(k): int(v) for k, v in counts.items()}
