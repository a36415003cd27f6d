"""A printable sector map of one comisaría (A4 or A3 portrait), with the plan's annex legend.

Top to bottom: the title block (comisaría, plan, workload, the synthetic-data banner when
applicable); the map (subsectors filled in their sector's colour and marked with their code,
sector limits in black with the sector number, the police station, a scale bar and north
arrow); the legend as on the plan's annex maps, ``LEYENDA — SECTORES - SUB SECTORES``, one column
per sector listing ``1. SUB SECTOR A``, ``2. SUB SECTOR B`` … numbered on across sectors; the
workload table per sector; and the sentences of the evaluation ("el SECTOR 3 concentra …").

Font sizes shrink with the number of legend lines so that every line fits its column (down to
3.5 pt); only a line that still would not fit ends in an ellipsis. Sentences are wrapped.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, Final

from .._text import num
from ..settings import INTERNAL_NOTICE, SYNTHETIC_BANNER

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Characters per line of the title: 90 % of the page width over the average width of a bold
#: DejaVu Sans character (~0.62 em) at 12 pt on A4 (0.9 × 8.27 in × 72 / (12 × 0.62) ≈ 72); the
#: font grows with the paper, so the count holds for every size.
TITLE_CHARS: Final = 72
#: Paper sizes (portrait, inches).
PAPER_INCHES: Final[dict[str, tuple[float, float]]] = {
    "A4": (8.27, 11.69),
    "A3": (11.69, 16.54),
}
#: Colours of sectors (ColorBrewer Set3 and Pastel1: light enough for black text on top).
SECTOR_COLOURS: Final[tuple[str, ...]] = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)


def _code(label: str) -> str:
    """Return the code of ``SUB SECTOR AB`` (``AB``) or ``SECTOR 3`` (``3``)."""
    return str(label).strip().rsplit(" ", 1)[-1]


def _scale_bar(ax: Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    steps = (50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000)
    length = max((v for v in steps if v <= target), default=50)
    x = x0 + (x1 - x0) * 0.04
    y = y0 + (y1 - y0) * 0.04
    ax.plot([x, x + length], [y, y], color="black", lw=2.5, solid_capstyle="butt", zorder=6)
    label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
    ax.text(x + length / 2, y + (y1 - y0) * 0.012, label, ha="center", va="bottom", fontsize=7)
    ax.annotate(
        "N",
        xy=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.04),
        xytext=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.12),
        ha="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2},
    )


def _frame(
    ax: Axes, bounds: tuple[float, float, float, float], fig_size: tuple[float, float]
) -> None:
    """Set equal-scale limits that fill the axes' box around ``bounds``."""
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny) * 0.05 + 50
    x0, x1, y0, y1 = minx - pad, maxx + pad, miny - pad, maxy + pad
    box = ax.get_position()
    ratio = (box.height * fig_size[1]) / (box.width * fig_size[0])
    if (y1 - y0) / (x1 - x0) < ratio:
        grow = (ratio * (x1 - x0) - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    else:
        grow = ((y1 - y0) / ratio - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_sector_map(
    subsectors: gpd.GeoDataFrame,
    sectors: gpd.GeoDataFrame,
    *,
    comisaria: str,
    plan: str,
    workload: str,
    table: pd.DataFrame | None = None,
    findings: list[str] | None = None,
    station_xy: tuple[float, float] | None = None,
    paper: str = "A4",
    synthetic: bool = False,
) -> Figure:
    """Draw the sector map of one comisaría.

    Parameters
    ----------
    subsectors
        Subsector polygons in a metric CRS with ``sector`` and ``subsector`` (may be empty).
    sectors
        Sector polygons in the same CRS with ``sector``, in natural order.
    comisaria, plan, workload
        Title texts (comisaría name, "diseñado"/"existente", the workload announcement).
    table
        Optional per-sector rows with ``sector``, ``denuncias``, ``pct_dano``, ``pct_area``,
        ``poblacion`` for the workload table.
    findings
        Sentences shown under the table.
    station_xy
        Police station in the map's CRS.
    paper
        ``"A4"`` or ``"A3"`` (portrait).
    synthetic
        Show the synthetic-data banner.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    size = PAPER_INCHES[paper]
    scale = size[0] / PAPER_INCHES["A4"][0]
    fig = Figure(figsize=size)
    colour = {s: SECTOR_COLOURS[k % len(SECTOR_COLOURS)] for k, s in enumerate(sectors["sector"])}
    # wrapped here, not with matplotlib's wrap=True: its width measure parses "$…$" as mathtext
    # whatever text.parse_math says, and a comisaría named "$\frac{a}{$" aborted the page
    fig.text(
        0.5,
        0.975,
        "\n".join(textwrap.wrap(f"SECTORES Y SUBSECTORES — {comisaria}", TITLE_CHARS)),
        ha="center",
        va="top",
        fontsize=12 * scale,
        fontweight="bold",
    )
    fig.text(
        0.5,
        0.952,
        f"Plan {plan} · carga: {workload}",
        ha="center",
        va="top",
        fontsize=8 * scale,
    )
    banner = f"{SYNTHETIC_BANNER} · {INTERNAL_NOTICE}" if synthetic else INTERNAL_NOTICE
    fig.text(
        0.5,
        0.935,
        banner,
        ha="center",
        va="top",
        fontsize=7 * scale,
        color="#b2182b" if synthetic else "#555555",
    )

    ax = fig.add_axes((0.05, 0.40, 0.90, 0.52))
    _frame(ax, tuple(sectors.total_bounds), size)
    if len(subsectors):
        for _, row in subsectors.iterrows():
            _fill(ax, [row.geometry], colour.get(row["sector"], "#dddddd"), "#ffffff", 0.5)
        for _, row in subsectors.iterrows():
            point = row.geometry.representative_point()
            ax.text(
                point.x,
                point.y,
                _code(row["subsector"]),
                ha="center",
                va="center",
                fontsize=5.5 * scale,
                color="#333333",
                zorder=5,
            )
    else:
        for _, row in sectors.iterrows():
            _fill(ax, [row.geometry], colour[row["sector"]], "#ffffff", 0.5)
    for _, row in sectors.iterrows():
        _fill(ax, [row.geometry], "none", "black", 1.3)
        point = row.geometry.representative_point()
        ax.text(
            point.x,
            point.y,
            _code(row["sector"]),
            ha="center",
            va="center",
            fontsize=13 * scale,
            fontweight="bold",
            color="black",
            alpha=0.55,
            zorder=4,
        )
    handles: list[Any] = [Patch(facecolor="none", edgecolor="black", lw=1.3, label="Sector")]
    if station_xy is not None:
        ax.plot(
            [station_xy[0]],
            [station_xy[1]],
            marker="*",
            markersize=12 * scale,
            color="#b2182b",
            markeredgecolor="white",
            zorder=7,
            ls="none",
        )
        handles.append(
            ax.plot([], [], marker="*", color="#b2182b", ls="none", label="Comisaría")[0]
        )
    ax.legend(handles=handles, loc="upper left", fontsize=6.5 * scale, framealpha=0.85)
    _scale_bar(ax)
    _legend_block(fig, sectors, subsectors, colour, scale)
    _table_block(fig, table, findings or [], scale)
    return fig


def _fill(ax: Axes, geoms: list[Any], face: str, edge: str, width: float) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    for geom in geoms:
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            rings = [poly.exterior, *poly.interiors]
            vertices: list[Any] = []
            codes: list[Any] = []
            for ring in rings:
                coords = list(ring.coords)
                vertices.extend(coords)
                codes.extend(
                    [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 2) + [MplPath.CLOSEPOLY]
                )
            ax.add_patch(
                PathPatch(
                    MplPath(vertices, codes),
                    facecolor=face,
                    edgecolor=edge,
                    lw=width,
                    zorder=2 if face != "none" else 3,
                )
            )


def legend_columns(
    sectors: gpd.GeoDataFrame, subsectors: gpd.GeoDataFrame
) -> list[tuple[str, list[str]]]:
    """Return the annex legend: per sector, its ``n. SUB SECTOR X`` lines numbered on."""
    columns: list[tuple[str, list[str]]] = []
    number = 0
    for sector in sectors["sector"]:
        lines = []
        if len(subsectors):
            for label in subsectors.loc[subsectors["sector"] == sector, "subsector"]:
                number += 1
                lines.append(f"{number}. {label}")
        columns.append((str(sector), lines))
    return columns


def _legend_block(
    fig: Figure,
    sectors: gpd.GeoDataFrame,
    subsectors: gpd.GeoDataFrame,
    colour: dict[str, str],
    scale: float,
) -> None:
    from matplotlib.patches import Rectangle

    columns = legend_columns(sectors, subsectors)
    per_row = min(len(columns), 6)
    blocks = (len(columns) + per_row - 1) // per_row
    longest = max((len(lines) for _, lines in columns), default=0)
    top, bottom = 0.385, 0.215
    fig.text(0.05, top, "LEYENDA", fontsize=8 * scale, fontweight="bold", va="top")
    fig.text(
        0.05,
        top - 0.013,
        "SECTORES - SUB SECTORES",
        fontsize=7.5 * scale,
        fontweight="bold",
        va="top",
    )
    area_top = top - 0.03
    lines_total = blocks * (longest + 1.5)
    line_h = (area_top - bottom) / max(lines_total, 1)
    page_h_pt = fig.get_figheight() * 72
    font = max(3.5, min(7.0 * scale, line_h * page_h_pt / 1.35))
    col_w = 0.90 / per_row
    chars = int(col_w * fig.get_figwidth() * 72 / (font * 0.6))
    for index, (sector, lines) in enumerate(columns):
        row, col = divmod(index, per_row)
        x = 0.05 + col * col_w
        y = area_top - row * (longest + 1.5) * line_h
        fig.patches.append(
            Rectangle(
                (x, y - line_h * 0.8),
                0.012,
                line_h * 0.8,
                transform=fig.transFigure,
                facecolor=colour.get(sector, "#dddddd"),
                edgecolor="black",
                lw=0.5,
            )
        )
        fig.text(x + 0.016, y, sector, fontsize=font, fontweight="bold", va="top")
        for k, line in enumerate(lines):
            fig.text(
                x + 0.016,
                y - (k + 1) * line_h,
                textwrap.shorten(line, width=max(chars, 8), placeholder="…"),
                fontsize=font,
                va="top",
            )


def _table_block(
    fig: Figure, table: pd.DataFrame | None, findings: list[str], scale: float
) -> None:
    import math

    y = 0.20
    if table is not None and len(table):
        header = ("Sector", "Denuncias", "% daño", "% área", "Población")
        xs = (0.05, 0.30, 0.45, 0.58, 0.71)
        rows = len(table) + 1
        line_h = min(0.012, 0.10 / rows)
        font = max(4.0, min(7.0 * scale, line_h * fig.get_figheight() * 72 / 1.35))
        for x, text in zip(xs, header, strict=True):
            fig.text(x, y, text, fontsize=font, fontweight="bold", va="top")
        for k, (_, row) in enumerate(table.iterrows(), start=1):
            values = (
                str(row["sector"]),
                num(row["denuncias"]),
                f"{row['pct_dano']:.0f} %" if math.isfinite(row["pct_dano"]) else "—",
                f"{row['pct_area']:.0f} %" if math.isfinite(row["pct_area"]) else "—",
                num(row["poblacion"]),
            )
            for x, text in zip(xs, values, strict=True):
                fig.text(x, y - k * line_h, text, fontsize=font, va="top")
        y -= rows * line_h + 0.01
    width = int(0.90 * fig.get_figwidth() * 72 / (6.5 * scale * 0.55))
    for sentence in findings:
        for line in textwrap.wrap(sentence, width=width):
            if y < 0.02:
                return
            fig.text(0.05, y, line, fontsize=6.5 * scale, va="top")
            y -= 0.013
