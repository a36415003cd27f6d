"""The A4 patrol sheet of a sector: an overview page and the cards of its critical points.

**Overview page** (portrait A4), top to bottom: the title block (sector, comisaría, period and
the synthetic-data banner when applicable); a static map of the sector (outline, subsectors,
critical points numbered by rank, the straight-line visiting order and a light density
background) with its legend, beside the ranked table of critical points, the counts per
subsector and the main modalidades; the hour × day chart with the patrol windows outlined; the
visit schedule per shift and day type; the near-repeat advice when the run measured it; the
abbreviations and units; and the notes on period, data and method.

**Cards of critical points** (one page per :data:`CARDS_PER_PAGE` points): for each point its
rank and subsector, where it is for a crew (the nearest district capital or populated place
with distance and bearing, latitude/longitude, UTM with its zone) and a QR code that opens the
point in a phone's map app (a ``geo:`` URI), with its counts, hours, days and modalidades.

Every text is measured and placed by :class:`parsc_geo.reports.sheet_layout.Page`: nothing is
cut by the page edge or drawn over another text, whatever the names and counts. A sector
without incidents gets no sheet (:func:`sheet_sectors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .._text import num
from ..patrol.windows import DAY_TYPES
from ..schema import DAY_NAMES_ES, modalidad_label
from ..settings import INTERNAL_NOTICE, SYNTHETIC_BANNER
from .sheet_layout import Box, Column, Page, draw_table, layout_rc, row_heights, table_height

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..density import DensityRaster
    from ..patrol import PatrolPlan, SectorPlan

#: A4 portrait in inches.
A4_INCHES: Final = (8.27, 11.69)
#: Page margin (inches).
MARGIN: Final = 0.35
#: Colour of critical points.
POINT_COLOUR: Final = "#b2182b"
#: Colour of the visiting order and the patrol windows.
TOUR_COLOUR: Final = "#2166ac"
#: Subsectors listed as a table; more are listed as wrapped text.
MAX_SUBSECTOR_ROWS: Final = 8
#: Modalidades listed by name (the rest are added up in one row).
MAX_MODALIDAD_ROWS: Final = 5
#: Maximum visits listed per shift line on the sheet (the CSV has them all).
MAX_VISITS_LISTED: Final = 14
#: Cards of critical points per page (two columns).
CARDS_PER_PAGE: Final = 10
#: Height of the hour × day chart (inches, cells only).
CHART_HEIGHT: Final = 1.45
#: Smallest height of the map band (inches); the band grows into the space the text leaves.
MIN_BAND_HEIGHT: Final = 3.3
#: Largest height of the map band (inches).
MAX_BAND_HEIGHT: Final = 4.6

#: Abbreviations and units printed on every overview page.
ABBREVIATIONS: Final = (
    "N.º: número del punto crítico por riesgo (1 = el de mayor riesgo); P3: punto crítico n.º 3. "
    "Subs.: subsector (letra o número del plan de sectores). Den.: denuncias registradas "
    "(número). Daño: daño ponderado, suma del peso de gravedad de cada denuncia según su "
    "modalidad (con la regla por defecto, días de pena mínima del Código Penal; índice de daño "
    "de Cambridge). Horas: franja de 3 h con más denuncias; h: hora. Ord.: orden de visita en "
    "el recorrido. U2: unidad de patrullaje n.º 2. min: minutos; m: metros; km: kilómetros; "
    "m²: metros cuadrados. Rumbo desde el lugar de referencia: N, NE, E, SE, S, SO (suroeste), "
    "O (oeste), NO. UTM 17S: zona UTM 17, hemisferio sur (WGS 84), este y norte en metros."
)


def format_date(iso: str) -> str:
    """Return ``dd/mm/yyyy`` from an ISO date."""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def period_text(plan: PatrolPlan) -> str:
    """Return the Spanish period line of a plan."""
    if plan.period is None:
        return "Periodo: sin denuncias"
    start, end = plan.period
    return f"Periodo: {format_date(start)} – {format_date(end)}"


def sheet_sectors(plan: PatrolPlan) -> list[SectorPlan]:
    """Return the sectors that get a sheet: those with at least one incident, in plan order."""
    return [sp for sp in plan.sectors if sp.n_incidents > 0]


def card_pages(sp: SectorPlan) -> int:
    """Return how many pages the cards of the sector's critical points take."""
    return math.ceil(len(sp.points) / CARDS_PER_PAGE)


# -- near repeat ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearRepeatAdvice:
    """What the sheet says about near repeats: advice for the crew and the finding behind it.

    Attributes
    ----------
    advice
        An instruction (``"Tras un robo, vuelva a la zona (200 m alrededor) en los 14 días
        siguientes: …"``), or None when no near-repeat risk was found.
    interpretation
        :func:`parsc_geo.trends.interpret_near_repeat` of the same table.
    """

    advice: str | None
    interpretation: str


def near_repeat_advice(
    table: pd.DataFrame, *, label: str = "un incidente", alpha: float = 0.05
) -> NearRepeatAdvice:
    """Return the patrol advice of a Knox band table (:func:`parsc_geo.trends.near_repeat`).

    Parameters
    ----------
    table
        The Knox bands of the period.
    label
        What happened, with its article (``"un robo"``; see
        :func:`parsc_geo.trends.near_repeat.event_label`).
    alpha
        Significance level of the bands.
    """
    from ..trends.near_repeat import interpret_near_repeat, near_repeat_risk

    text = interpret_near_repeat(table, label=label, alpha=alpha)
    risk = near_repeat_risk(table, alpha=alpha)
    if risk is None:
        return NearRepeatAdvice(advice=None, interpretation=text)
    days = _whole(risk.days)
    metres = _whole(risk.distance_m)
    ratio = f"{risk.ratio:.1f}".replace(".", ",")
    advice = (
        f"Tras {label}, vuelva a la zona ({metres} m alrededor) en los {days} días siguientes: "
        f"el riesgo allí es {ratio} veces mayor de lo esperado (prueba de Knox, "
        f"p ≤ {str(alpha).replace('.', ',')}, {_whole(risk.permutations)} permutaciones)."
    )
    return NearRepeatAdvice(advice=advice, interpretation=text)


def _whole(value: float) -> str:
    return num(value)


# -- numbers ----------------------------------------------------------------------------------


def _thousands(value: float) -> str:
    """Return ``value`` rounded, with the project's thousands separator (``40\u00a0000``)."""
    return num(value)


def _harm(value: float) -> str:
    """Return a harm total: one decimal (comma) below 100, whole numbers with spaces above."""
    return f"{value:.1f}".replace(".", ",") if abs(value) < 100 else _thousands(value)


def _short_subsector(label: object) -> str:
    text = str(label or "").replace("SUB SECTOR", "").strip()
    return text or str(label or "")


# -- background density -----------------------------------------------------------------------


def sector_density(sp: SectorPlan, plan: PatrolPlan) -> DensityRaster | None:
    """Return a kernel density of the sector's incidents for the map background, or None.

    The background is decoration: when the density module is missing or the sector has too few
    incidents, the map is drawn without it. Incidents stacked at a police station are left out.
    """
    try:
        import geopandas as gpd

        from .._errors import ParscGeoError
        from .._text import as_bool
        from ..density import kernel_density
    except ImportError:
        return None
    points = sp.incidents
    if "at_station" in points:
        # Stacks at a station's coordinates are geocoding artefacts, as for the critical points.
        points = points[~as_bool(points["at_station"])]
    if len(points) < 3:
        return None
    try:
        return kernel_density(
            points,
            extent=tuple(sp.geometry.buffer(100).bounds),
            mask=gpd.GeoSeries([sp.geometry], crs=plan.crs),
            crs=plan.crs,
            quiet=True,
        )
    except ParscGeoError:
        return None


# -- the map ----------------------------------------------------------------------------------


@dataclass
class _Boxes:
    """Label boxes already placed on the map (data coordinates)."""

    boxes: list[tuple[float, float, float, float]]

    def free(self, box: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = box
        return all(x1 <= a0 or x0 >= a1 or y1 <= b0 or y0 >= b1 for a0, b0, a1, b1 in self.boxes)


def _scale_length(width_m: float) -> int:
    target = width_m / 5
    return max(
        (v for v in (25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000) if v <= target),
        default=25,
    )


def draw_map(
    ax: Axes,
    page: Page,
    box: Box,
    sp: SectorPlan,
    *,
    density: DensityRaster | None,
    basemap: bool,
    notes: list[str],
) -> None:
    """Draw the sector map on ``ax`` (metric CRS) filling ``box`` (inches) at equal scale.

    Labels are placed in inches: critical point numbers first (moved outward on rings, with a
    leader line, when they would touch another label), then the subsector letters at the first
    free spot inside their subsector (a smaller size if needed); a letter that finds no free
    spot is named in the notes instead of being drawn over another label.
    """
    import numpy as np
    from shapely.geometry import LineString

    panel = str(ax.get_gid())
    minx, miny, maxx, maxy = sp.geometry.bounds
    pad = max(maxx - minx, maxy - miny) * 0.06 + 20
    x0, x1, y0, y1 = minx - pad, maxx + pad, miny - pad, maxy + pad
    ratio = box.h / box.w
    # Widen the shorter data side so the map fills its box at equal scale.
    if (y1 - y0) / (x1 - x0) < ratio:
        grow = (ratio * (x1 - x0) - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    else:
        grow = ((y1 - y0) / ratio - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    per_inch = (x1 - x0) / box.w  # metres per inch of paper
    if density is not None:
        values = np.where(np.isfinite(density.array), density.array, np.nan)
        if np.nanmax(values) > 0:
            values = np.ma.masked_less_equal(np.nan_to_num(values, nan=0.0), 0.0)
            bx0, by0, bx1, by1 = density.bounds
            ax.imshow(
                values,
                extent=(bx0, bx1, by0, by1),
                origin="upper",
                cmap="YlOrRd",
                alpha=0.35,
                interpolation="bilinear",
                zorder=1,
            )
    if basemap:
        try:
            import contextily

            contextily.add_basemap(ax, crs=sp.subsectors.crs, attribution_size=5, zorder=0)
        except Exception:  # a missing package, no network or a tile error: the map stays usable
            notes.append("Mapa base no disponible: se dibuja sin teselas.")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    sp.subsectors.boundary.plot(ax=ax, color="#777777", linewidth=0.6, zorder=2)
    outline = sp.geometry.boundary
    for line in getattr(outline, "geoms", [outline]):
        xs, ys = line.xy
        ax.plot(xs, ys, color="black", linewidth=1.4, zorder=3)
    centres = [p["geometry"].representative_point() for p in sp.points]
    if len(sp.tour) > 1:
        ring = [centres[i] for i in [*sp.tour, sp.tour[0]]]
        xs, ys = LineString(ring).xy
        ax.plot(xs, ys, color=TOUR_COLOUR, linewidth=0.8, linestyle="--", zorder=4)
    for p in sp.points:
        geom = p["geometry"]
        for part in getattr(geom, "geoms", [geom]):
            if hasattr(part, "exterior"):
                xs, ys = part.exterior.xy
                ax.fill(xs, ys, facecolor=POINT_COLOUR, alpha=0.35, edgecolor=POINT_COLOUR, lw=0.8)

    margin = 0.04 * per_inch
    placed = _Boxes([])
    # the scale bar (lower left) and north arrow (upper right) keep their corners
    length = _scale_length(x1 - x0)
    bar_x, bar_y = x0 + 0.15 * per_inch, y0 + 0.12 * per_inch
    ax.plot([bar_x, bar_x + length], [bar_y, bar_y], color="black", lw=2, solid_capstyle="butt")
    scale_label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
    ax.text(
        bar_x + length / 2,
        bar_y + 0.04 * per_inch,
        scale_label,
        ha="center",
        va="bottom",
        fontsize=6,
        gid=panel,
    )
    label_w = page.text_width(scale_label, 6) * per_inch
    placed.boxes.append(
        (
            bar_x - margin,
            y0,
            max(bar_x + length, bar_x + length / 2 + label_w / 2) + margin,
            bar_y + 0.04 * per_inch + page.line_height(6) * per_inch + margin,
        )
    )
    nx, ny = x1 - 0.22 * per_inch, y1 - 0.1 * per_inch
    ax.annotate(
        "N",
        xy=(nx, ny),
        xytext=(nx, ny - 0.4 * per_inch),
        ha="center",
        va="top",
        fontsize=8,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1},
        gid=panel,
    )
    placed.boxes.append((nx - 0.15 * per_inch, ny - 0.6 * per_inch, x1, y1))

    inside = (x0 + margin, y0 + margin, x1 - margin, y1 - margin)

    def fits(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float] | None:
        candidate = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if (
            candidate[0] < inside[0]
            or candidate[1] < inside[1]
            or candidate[2] > inside[2]
            or candidate[3] > inside[3]
        ):
            return None
        return candidate if placed.free(candidate) else None

    size = 7.0
    for p, c in zip(sp.points, centres, strict=True):
        text = str(p["rango"])
        diameter = (
            max(page.text_width(text, size, "bold"), size / 72) + 0.6 * size / 72
        ) * per_inch
        side = diameter + margin
        spot = None
        for step in range(0, 9):
            n_steps = 1 if step == 0 else 8 * step
            for k in range(n_steps):
                angle = 2 * math.pi * k / n_steps + math.pi / 4
                cx = c.x + step * side * math.cos(angle)
                cy = c.y + step * side * math.sin(angle)
                found = fits(cx, cy, side, side)
                if found is not None:
                    spot = (cx, cy, found)
                    break
            if spot is not None:
                break
        if spot is None:
            notes.append(f"El número del punto crítico {text} no cabe en el mapa sin tapar otro.")
            continue
        cx, cy, found = spot
        placed.boxes.append(found)
        if (cx, cy) != (c.x, c.y):
            ax.plot([c.x, cx], [c.y, cy], color=POINT_COLOUR, lw=0.6, zorder=5)
        ax.text(
            cx,
            cy,
            text,
            fontsize=size,
            fontweight="bold",
            color="white",
            ha="center",
            va="center",
            zorder=6,
            gid=panel,
            bbox={"boxstyle": "circle,pad=0.25", "fc": POINT_COLOUR, "ec": "white", "lw": 0.6},
        )

    missing: list[str] = []
    for label, geom in zip(sp.subsectors["subsector"], sp.subsectors.geometry, strict=True):
        short = _short_subsector(label)
        where = geom.representative_point()
        done = False
        for fs in (7.0, 6.0, 5.0):
            w = (page.text_width(short, fs) + 0.03) * per_inch
            h = (fs * 1.2 / 72 + 0.02) * per_inch
            for cx, cy in _interior_spots(geom, where, max(w, h)):
                found = fits(cx, cy, w, h)
                if found is not None:
                    placed.boxes.append(found)
                    ax.text(
                        cx,
                        cy,
                        short,
                        fontsize=fs,
                        color="#555555",
                        ha="center",
                        va="center",
                        zorder=5,
                        gid=panel,
                    )
                    done = True
                    break
            if done:
                break
        if not done:
            missing.append(short)
    if missing:
        notes.append(
            "Subsectores sin rótulo en el mapa (no hay lugar libre dentro de ellos): "
            + ", ".join(missing)
            + "."
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _interior_spots(geom: Any, first: Any, step: float) -> list[tuple[float, float]]:
    """Return spots inside ``geom``: ``first``, then a grid of ``step`` by distance from it."""
    import numpy as np
    import shapely

    spots = [(first.x, first.y)]
    minx, miny, maxx, maxy = geom.bounds
    step = max(step, (maxx - minx) / 40, (maxy - miny) / 40, 1e-9)
    xs = np.arange(minx + step / 2, maxx, step)
    ys = np.arange(miny + step / 2, maxy, step)
    if len(xs) and len(ys):
        mesh_x, mesh_y = np.meshgrid(xs, ys)
        keep = shapely.contains_xy(geom, mesh_x.ravel(), mesh_y.ravel())
        gx, gy = mesh_x.ravel()[keep], mesh_y.ravel()[keep]
        order = np.lexsort((gx, gy, np.hypot(gx - first.x, gy - first.y)))
        spots += [(float(gx[i]), float(gy[i])) for i in order]
    return spots


def _map_legend(page: Page, box: Box, *, with_density: bool, with_tour: bool) -> None:
    """Draw the map's legend in ``box`` (two columns of symbol and text)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    items: list[tuple[str, str]] = [
        ("line:black:1.4:-", "Límite del sector"),
        ("line:#777777:0.6:-", "Subsector (letra)"),
        ("dot", "Punto crítico (n.º = rango)"),
    ]
    if with_tour:
        items.append((f"line:{TOUR_COLOUR}:0.8:--", "Orden de visita (línea recta)"))
    if with_density:
        items.append(("patch:#fd8d3c", "Densidad de denuncias"))
    page.panel("leyenda_mapa", box)
    size = 6.0
    col_w = box.w / 2
    lh = page.line_height(size) + 0.02
    for k, (symbol, label) in enumerate(items):
        col, row = k % 2, k // 2
        x = box.x + col * col_w + 0.05
        y = box.y + 0.04 + row * lh
        mid = y + page.line_height(size) / 2 - 0.01
        if symbol.startswith("line:"):
            _, colour, width, style = symbol.split(":")
            page.fig.add_artist(
                Line2D(
                    [page.fx(x), page.fx(x + 0.25)],
                    [page.fy(mid), page.fy(mid)],
                    transform=page.fig.transFigure,
                    color=colour,
                    linewidth=float(width),
                    linestyle=style,  # type: ignore[arg-type]
                )
            )
        elif symbol == "dot":
            page.fig.add_artist(
                Line2D(
                    [page.fx(x + 0.125)],
                    [page.fy(mid)],
                    transform=page.fig.transFigure,
                    marker="o",
                    markersize=6,
                    color=POINT_COLOUR,
                )
            )
        else:
            page.fig.add_artist(
                Rectangle(
                    (page.fx(x), page.fy(mid + 0.04)),
                    0.25 / page.width,
                    0.08 / page.height,
                    transform=page.fig.transFigure,
                    facecolor=symbol.split(":")[1],
                    alpha=0.45,
                )
            )
        page.text("leyenda_mapa", x + 0.32, y, page.ellipsize(label, col_w - 0.4, size), size)


def _legend_height(page: Page, *, with_density: bool, with_tour: bool) -> float:
    items = 3 + int(with_density) + int(with_tour)
    return 0.08 + math.ceil(items / 2) * (page.line_height(6.0) + 0.02)


# -- tables beside the map --------------------------------------------------------------------


def points_rows(sp: SectorPlan) -> list[list[str]]:
    """Return the rows of the critical point table (rank order)."""
    tour_pos = {p: k + 1 for k, p in enumerate(sp.tour)}
    rows = []
    for k, p in enumerate(sp.points):
        main = p["modalidades"].split("; ")[0] if p["modalidades"] else ""
        rows.append(
            [
                str(p["rango"]),
                _short_subsector(p["subsector"]),
                _thousands(p["n"]),
                _harm(p["dano"]),
                str(p["horas_pico"]),
                str(p["dias_pico"]),
                main,
                str(tour_pos[k]),
            ]
        )
    return rows


#: Lines a cell of the critical point table may take (a long modalidad name is not cut).
POINT_CELL_LINES: Final = 3
#: Critical points the overview's table shows before the modalidades table is shortened.
MIN_POINT_ROWS: Final = 5
POINT_TABLE: Final = (
    Column("N.º", 0.22, "right"),
    Column("Subs.", 0.3),
    Column("Den.", 0.3, "right"),
    Column("Daño", 0.4, "right"),
    Column("Horas", 0.45),
    Column("Días", 0.55, wrap=True),
    Column("Modalidad principal", 0.8, wrap=True),
    Column("Ord.", 0.25, "right"),
)


SUBSECTOR_TABLE: Final = (
    Column("Subsector", 1.0, wrap=True),
    Column("Denuncias", 0.6, "right"),
    Column("Daño", 0.6, "right"),
)
MODALIDAD_TABLE: Final = (
    Column("Modalidad", 1.4, wrap=True),
    Column("Denuncias", 0.6, "right"),
    Column("Daño", 0.6, "right"),
)


def _modalidad_totals(incidents: Any) -> dict[str, list[float]]:
    """Return modalidad label → [incidents, harm] (harm added in row order, as a loop would).

    The label is computed once per distinct (delito específico, modalidad) pair: a sector of a
    large city holds tens of thousands of incidents but a few hundred pairs.
    """
    import numpy as np
    import pandas as pd

    if not len(incidents):
        return {}
    # str() of each value, as the labels always were (None → "None", NaN → "nan")
    esp_codes, esp = pd.factorize(incidents["delito_especifico"].astype(object).map(str))
    mod_codes, mod = pd.factorize(incidents["modalidad"].astype(object).map(str))
    pairs, pair_codes = np.unique(esp_codes * len(mod) + mod_codes, return_inverse=True)
    label_of_pair = np.asarray(
        [modalidad_label(str(esp[p // len(mod)]), str(mod[p % len(mod)])) for p in pairs],
        dtype=object,
    )
    codes, labels = pd.factorize(label_of_pair[pair_codes.reshape(-1)])
    counts = np.bincount(codes, minlength=len(labels))
    harm = np.bincount(
        codes, weights=incidents["harm"].astype(float).to_numpy(), minlength=len(labels)
    )
    return {
        str(label): [int(n), float(h)] for label, n, h in zip(labels, counts, harm, strict=True)
    }


def modalidad_rows(sp: SectorPlan, max_rows: int = MAX_MODALIDAD_ROWS) -> list[list[str]]:
    """Return the modalidad table: the ``max_rows`` most frequent, then the others added up."""
    ranked = sorted(_modalidad_totals(sp.incidents).items(), key=lambda kv: (-kv[1][0], kv[0]))
    rows = [[k, _thousands(v[0]), _harm(v[1])] for k, v in ranked[:max_rows]]
    if len(ranked) > max_rows:
        rest = ranked[max_rows:]
        rows.append(
            [
                f"Otras ({len(rest)} modalidades)",
                _thousands(sum(v[0] for _, v in rest)),
                _harm(sum(v[1] for _, v in rest)),
            ]
        )
    return rows


def _heading(page: Page, panel: str, x: float, y: float, width: float, text: str) -> float:
    lines, size = page.fit(text, width, 8.5, min_size=7.0, max_lines=2, weight="bold")
    return page.lines(panel, x, y, lines, size, weight="bold") + 0.03


def _draw_side(page: Page, box: Box, sp: SectorPlan) -> None:
    """Draw the critical points, subsector counts and modalidades in ``box``."""
    page.panel("tablas", box)
    size = 6.0
    x, w = box.x, box.w
    # what comes below the points table is measured first: the points take the rest
    counts = sp.subsector_counts()
    sub_text = None
    rows_sub = [[str(label), _thousands(n), _harm(harm)] for label, n, harm in counts]
    rows_sub.append(
        ["Total del sector", _thousands(sp.n_incidents), _harm(sum(h for _, _, h in counts))]
    )
    if len(counts) > MAX_SUBSECTOR_ROWS:
        # a label and its count stay on one line (no-break space)
        listed = " · ".join(
            f"{_short_subsector(label)}:\u00a0{_thousands(n)}" for label, n, _ in counts
        )
        sub_text = page.wrap(
            f"{listed} · Total del sector:\u00a0{_thousands(sp.n_incidents)}", w, size
        )
        sub_h = len(sub_text) * page.line_height(size)
    else:
        sub_h = table_height(page, w, SUBSECTOR_TABLE, rows_sub, size, max_cell_lines=1)
    heading_h = page.line_height(8.5) + 0.03
    rows = points_rows(sp)
    note_h = page.line_height(size) + 0.03
    # the first critical points come before the modalidades: those give up lines, then rows
    heights = row_heights(page, w, POINT_TABLE, rows, size, max_cell_lines=POINT_CELL_LINES)
    points_h = sum(heights[: 1 + min(MIN_POINT_ROWS, len(rows))]) + note_h if rows else 0.0
    room = box.h - 3 * heading_h - sub_h - 0.26 - points_h
    mod_rows, mod_lines = modalidad_rows(sp), 2
    mod_h = table_height(page, w, MODALIDAD_TABLE, mod_rows, size)
    for max_rows in range(MAX_MODALIDAD_ROWS, 0, -1):
        if mod_h <= room:
            break
        mod_rows, mod_lines = modalidad_rows(sp, max_rows), 1
        mod_h = table_height(page, w, MODALIDAD_TABLE, mod_rows, size, max_cell_lines=1)
    lower = 2 * heading_h + sub_h + mod_h + 0.26

    y = _heading(page, "tablas", x, box.y, w, "Puntos críticos (por riesgo)")
    if rows:
        y, drawn = draw_table(
            page,
            "tablas",
            x,
            y,
            w,
            POINT_TABLE,
            rows,
            size,
            max_cell_lines=POINT_CELL_LINES,
            bottom=box.bottom - lower - note_h,
        )
        if drawn < len(rows):
            first = drawn + 1
            y = page.lines(
                "tablas",
                x,
                y + 0.02,
                page.fit(
                    f"Puntos n.º {first} a {len(rows)}: en las fichas de puntos críticos.",
                    w,
                    size,
                    max_lines=1,
                )[0],
                size,
            )
        y += 0.12
    else:
        y = page.lines(
            "tablas",
            x,
            y,
            page.wrap("Sin puntos críticos con el mínimo de denuncias exigido.", w, size + 0.5),
            size + 0.5,
        )
        y += 0.1

    y = _heading(page, "tablas", x, y, w, "Denuncias por subsector")
    if sub_text is not None:
        y = page.lines("tablas", x, y, sub_text, size)
    else:
        y, _ = draw_table(
            page, "tablas", x, y, w, SUBSECTOR_TABLE, rows_sub, size, max_cell_lines=1
        )
    y += 0.12
    y = _heading(page, "tablas", x, y, w, "Modalidades")
    draw_table(
        page,
        "tablas",
        x,
        y,
        w,
        MODALIDAD_TABLE,
        mod_rows,
        size,
        max_cell_lines=mod_lines,
        bottom=box.bottom,
    )


# -- hour × day chart -------------------------------------------------------------------------


def _split_at_midnight(start: int, hours: int) -> list[tuple[int, int]]:
    if start + hours <= 24:
        return [(start, hours)]
    return [(start, 24 - start), (0, start + hours - 24)]


def draw_hour_day(ax: Axes, sp: SectorPlan) -> None:
    """Draw the hour × day chart: counts per cell, patrol windows outlined in blue."""
    import numpy as np
    from matplotlib.patches import Rectangle

    panel = str(ax.get_gid())
    values = sp.hour_day.to_numpy().T  # rows: days, columns: hours
    vmax = max(int(values.max()), 1)
    ax.imshow(values, cmap="Reds", vmin=0, vmax=vmax, aspect="auto", origin="upper")
    widest = max((len(str(int(v))) for v in values.ravel()), default=1)
    cell_size = 5.5 if widest <= 3 else 4.5
    for d in range(7):
        for h in range(24):
            v = int(values[d, h])
            if v:
                ax.text(
                    h,
                    d,
                    str(v),
                    ha="center",
                    va="center",
                    fontsize=cell_size,
                    color="white" if v > vmax * 0.6 else "black",
                    gid=panel,
                )
    for day_type, windows in sp.windows.items():
        days = DAY_TYPES[day_type][1]
        for w in windows:
            for seg_start, seg_len in _split_at_midnight(w.start_hour, w.hours):
                ax.add_patch(
                    Rectangle(
                        (seg_start - 0.5, min(days) - 0.5),
                        seg_len,
                        len(days),
                        fill=False,
                        edgecolor=TOUR_COLOUR,
                        linewidth=1.3,
                    )
                )
    ax.set_xticks(np.arange(24))
    ax.set_xticklabels([f"{h:02d}" for h in range(24)], fontsize=6)
    ax.set_yticks(np.arange(7))
    ax.set_yticklabels(list(DAY_NAMES_ES), fontsize=6.5)
    ax.set_xlabel("Hora del día", fontsize=7, labelpad=1)
    ax.tick_params(length=0, pad=2)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label]:
        label.set_gid(panel)


# -- schedule ---------------------------------------------------------------------------------


def schedule_lines(sp: SectorPlan, plan: PatrolPlan) -> list[tuple[str, str, str]]:
    """Return ``(turno, tipo de día, visitas)`` lines of the sheet's schedule block."""
    from ..patrol import clock, shift_label

    opts = plan.schedule_options
    lines = []
    for day_type, shifts in sp.schedules.items():
        label = DAY_TYPES[day_type][0]
        for sh in shifts:
            shift = f"Turno {sh.shift} ({shift_label(sh.start_hour, opts.shift_hours)})"
            if not sh.visits:
                text = (
                    "Sin ventana de patrullaje en este turno: patrullaje preventivo general."
                    if not sh.segments
                    else "Sin puntos críticos: patrullaje preventivo en las ventanas."
                )
            else:
                parts = [
                    f"{clock(sh.start_hour, v.start)} P{sp.points[v.point]['rango']}"
                    + (f"/U{v.unit}" if opts.units > 1 else "")
                    for v in sh.visits[:MAX_VISITS_LISTED]
                ]
                text = ", ".join(parts)
                if len(sh.visits) > MAX_VISITS_LISTED:
                    more = len(sh.visits) - MAX_VISITS_LISTED
                    text += f" y {more} visita{'s' if more != 1 else ''} más (ver horario CSV)"
            lines.append((shift, label, text))
    return lines


def schedule_title(sp: SectorPlan, plan: PatrolPlan) -> str:
    """Return the heading of the schedule block (resources and dosage, with units)."""
    opts = plan.schedule_options
    return (
        f"Horario de visitas ({opts.units} unidad{'es' if opts.units > 1 else ''} por turno, "
        f"{opts.visit_minutes} min por visita, revisita ≥ {opts.revisit_minutes} min, "
        f"{sp.travel_minutes} min de traslado)"
    )


def windows_text(sp: SectorPlan) -> str:
    """Return the line of patrol windows per day type, with the share of incidents they cover."""
    return "Ventanas: " + "; ".join(
        f"{DAY_TYPES[dt][0]}: "
        + (", ".join(w.label for w in ws) or "sin denuncias con hora")
        + f" ({sp.window_share(dt):.0%} de las denuncias)".replace("%", " %")
        for dt, ws in sp.windows.items()
    )


# -- notes ------------------------------------------------------------------------------------


def notes_lines(sp: SectorPlan, plan: PatrolPlan, extra: list[str]) -> list[str]:
    """Return the notes printed at the foot of the sheet."""
    params = plan.parameters
    method = {
        "dbscan": f"agrupamientos DBSCAN (radio {params['eps_m']:g} m)",
        "gistar": f"celdas calientes Gi* de {params['cell_size_m']:g} m",
        "grid": f"celdas de {params['cell_size_m']:g} m",
        "hotspots": "zonas calientes dadas",
    }[params["method"]]
    lines = [
        f"{period_text(plan)}. {_thousands(sp.n_incidents)} denuncias en el sector, "
        f"{_thousands(sp.n_no_time)} sin hora conocida (no entran en el gráfico horario). Se "
        "muestran denuncias registradas, no todo el delito ocurrido.",
        f"Puntos críticos: {method}, recortados al sector, de {params['min_count']} denuncias o "
        f"más y hasta {_thousands(params['max_area_m2'])} m² (los mayores se reducen a su "
        f"núcleo de {params['core_radius_m']:g} m de radio). Riesgo: "
        + ("número de denuncias." if params["risk"] == "n" else "daño ponderado.")
        + " Ubicación de cada punto: su punto representativo (dentro del área); referencia: la "
        "capital distrital o el centro poblado más cercano (INEI), distancia en línea recta.",
        f"Ventanas: menor número de bloques de {params['block_hours']} h que cubren al menos el "
        f"{params['share']:.0%} de las denuncias con hora, por tipo de día.".replace("%", " %"),
        "Dosificación: visitas cortas repetidas cada ~2 h en las horas de riesgo (curva de Koper, "
        "Koper 1995; Sherman y Weisburd 1995). Orden de visita (Ord.): recorrido más corto en "
        "línea recta (vecino más cercano + 2-opt), no es una ruta por calles.",
    ]
    lines.extend(sp.notes)
    lines.extend(extra)
    return lines


# -- pages ------------------------------------------------------------------------------------


def _header(page: Page, title: str, subtitle: str, *, synthetic: bool, width: float) -> float:
    """Draw the title block; return the ``y`` below it."""
    x = MARGIN
    top = 0.18
    y = top
    page.text("cabecera", page.width - MARGIN, y, INTERNAL_NOTICE, 6.5, ha="right", color="#555555")
    y += page.line_height(6.5) + 0.02
    lines, size = page.fit(title, width, 16, min_size=11, max_lines=2, weight="bold")
    y = page.lines("cabecera", x, y, lines, size, weight="bold")
    y = page.lines("cabecera", x, y + 0.02, page.wrap(subtitle, width, 8.5), 8.5)
    if synthetic:
        y += 0.06
        page.text(
            "cabecera",
            page.width / 2,
            y,
            SYNTHETIC_BANNER,
            9,
            weight="bold",
            ha="center",
            color="white",
            bbox={"boxstyle": "square,pad=0.3", "fc": "#d6604d", "ec": "none"},
        )
        y += page.line_height(9) + 0.08
    page.panel("cabecera", Box(x, top - 0.02, page.width - 2 * MARGIN, y - top + 0.04))
    return y + 0.04


def _near_repeat_text(near_repeat: NearRepeatAdvice | str | None) -> str | None:
    if near_repeat is None:
        return None
    if isinstance(near_repeat, str):
        return near_repeat
    return near_repeat.advice


def draw_sector_sheet(
    sp: SectorPlan,
    plan: PatrolPlan,
    *,
    synthetic: bool = False,
    density: DensityRaster | None = None,
    basemap: bool = False,
    near_repeat: NearRepeatAdvice | str | None = None,
    notes: Sequence[str] = (),
) -> Figure:
    """Draw the overview page of one sector's sheet and return the figure.

    Parameters
    ----------
    sp
        The sector's plan.
    plan
        The whole plan (period, parameters, schedule options).
    synthetic
        Show :data:`parsc_geo.settings.SYNTHETIC_BANNER`.
    density
        Density raster for the map background (same CRS as the plan), or None.
    basemap
        Try to draw web tiles under the map (needs ``contextily`` and network; never required).
    near_repeat
        The near-repeat advice of the period (:func:`near_repeat_advice`, or a text printed as
        it is); None prints nothing about near repeats.
    notes
        More notes printed at the foot of the page.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from .pdf import RC_PARAMS

    with mpl.rc_context({**RC_PARAMS, **layout_rc()}):
        fig = Figure(figsize=A4_INCHES)
        page = Page(fig)
        width = page.width - 2 * MARGIN
        extra: list[str] = list(notes)
        y = _header(
            page,
            f"Plan de patrullaje — {sp.sector}",
            f"{sp.comisaria} · {period_text(plan)} · {_thousands(sp.n_incidents)} denuncias · "
            f"{len(sp.points)} puntos críticos"
            + (" · ubicación y código QR en la página siguiente" if sp.points else ""),
            synthetic=synthetic,
            width=width,
        )
        advice = _near_repeat_text(near_repeat)
        if isinstance(near_repeat, NearRepeatAdvice) and near_repeat.advice is None:
            extra.append(f"Repetición cercana: {near_repeat.interpretation}")

        # measure what goes below the map band, then give the band the rest of the page
        chart_title = page.wrap(
            "Denuncias por hora y día de la semana (con hora conocida; "
            f"{_thousands(sp.n_no_time)} sin hora) — en azul, ventanas de patrullaje",
            width,
            8.5,
            "bold",
        )
        chart_h = len(chart_title) * page.line_height(8.5) + 0.05 + CHART_HEIGHT + 0.36
        sched_title = page.wrap(schedule_title(sp, plan), width, 8.5, "bold")
        win_lines = page.wrap(windows_text(sp), width, 6.5)
        col_shift, col_day = 1.45, 1.15
        text_w = width - col_shift - col_day
        sched_rows = [
            (shift, day, page.fit(text, text_w, 6.1, max_lines=3)[0])
            for shift, day, text in schedule_lines(sp, plan)
        ]
        sched_h = (
            len(sched_title) * page.line_height(8.5)
            + 0.03
            + len(win_lines) * page.line_height(6.5)
            + 0.05
            + sum(len(t) * page.line_height(6.1) + 0.04 for _, _, t in sched_rows)
        )
        advice_lines = page.wrap(f"Consejo: {advice}", width, 7, "bold") if advice else []
        advice_h = len(advice_lines) * page.line_height(7) + (0.1 if advice else 0)
        abbr_lines = page.wrap(ABBREVIATIONS, width, 5.8)
        abbr_h = page.line_height(7) + len(abbr_lines) * page.line_height(5.8) + 0.06
        gaps = 0.12 * 4
        legend_h = _legend_height(
            page, with_density=density is not None, with_tour=len(sp.tour) > 1
        )
        bottom_limit = page.height - 0.25

        def band_for(notes_size: float) -> tuple[float, list[str]]:
            lines = [
                line
                for n in notes_lines(sp, plan, extra)
                for line in page.wrap(n, width, notes_size)
            ]
            notes_h = len(lines) * page.line_height(notes_size)
            rest = chart_h + sched_h + advice_h + abbr_h + notes_h + gaps
            return bottom_limit - y - rest, lines

        # the map's notes (labels that did not fit) are only known after drawing the map:
        # room for two more lines is kept
        extra_room = 2 * page.line_height(5.6)
        notes_size = 5.6
        band_h, _ = band_for(notes_size)
        band_h -= extra_room
        while band_h < MIN_BAND_HEIGHT and notes_size > 4.8:
            notes_size -= 0.2
            band_h, _ = band_for(notes_size)
            band_h -= extra_room
        band_h = min(max(band_h, MIN_BAND_HEIGHT), MAX_BAND_HEIGHT)

        map_w = 3.75
        map_box = Box(MARGIN, y, map_w, band_h - legend_h)
        page.panel("mapa", map_box)
        ax_map = page.axes(map_box, "mapa")
        draw_map(ax_map, page, map_box, sp, density=density, basemap=basemap, notes=extra)
        _map_legend(
            page,
            Box(MARGIN, map_box.bottom, map_w, legend_h),
            with_density=density is not None,
            with_tour=len(sp.tour) > 1,
        )
        side_x = MARGIN + map_w + 0.2
        _draw_side(page, Box(side_x, y, page.width - MARGIN - side_x, band_h), sp)
        y += band_h + 0.12

        # hour × day chart
        chart_box = Box(MARGIN, y, width, chart_h)
        page.panel("grafico", chart_box)
        y = page.lines("grafico", MARGIN, y, chart_title, 8.5, weight="bold") + 0.05
        label_w = max(page.text_width(d, 6.5) for d in DAY_NAMES_ES) + 0.08
        ax = page.axes(Box(MARGIN + label_w, y, width - label_w, CHART_HEIGHT), "grafico")
        draw_hour_day(ax, sp)
        y = chart_box.bottom + 0.12

        # schedule
        sched_box = Box(MARGIN, y, width, sched_h)
        page.panel("horario", sched_box)
        y = page.lines("horario", MARGIN, y, sched_title, 8.5, weight="bold") + 0.03
        y = page.lines("horario", MARGIN, y, win_lines, 6.5) + 0.05
        for shift, day, lines in sched_rows:
            shift_fit = page.fit(shift, col_shift - 0.08, 6.3, min_size=5.0, weight="bold")[0]
            page.lines("horario", MARGIN, y, shift_fit[:1], 6.3, weight="bold")
            page.lines(
                "horario", MARGIN + col_shift, y, [page.ellipsize(day, col_day - 0.08, 6.3)], 6.3
            )
            y = page.lines("horario", MARGIN + col_shift + col_day, y, lines, 6.1) + 0.04
        y = sched_box.bottom + 0.12

        if advice_lines:
            box = Box(MARGIN, y, width, advice_h)
            page.panel("repeticion", box)
            page.rect(
                Box(MARGIN - 0.05, y - 0.03, width + 0.1, advice_h - 0.04), facecolor="#fff3cd"
            )
            page.lines("repeticion", MARGIN, y, advice_lines, 7, weight="bold", color="#5c3c00")
            y = box.bottom + 0.02

        abbr_box = Box(MARGIN, y, width, abbr_h)
        page.panel("abreviaturas", abbr_box)
        yy = page.lines("abreviaturas", MARGIN, y, ["Abreviaturas y unidades"], 7, weight="bold")
        page.lines("abreviaturas", MARGIN, yy, abbr_lines, 5.8)
        y = abbr_box.bottom + 0.1

        notes = [
            line for n in notes_lines(sp, plan, extra) for line in page.wrap(n, width, notes_size)
        ]
        room = int((bottom_limit - y) // page.line_height(notes_size))
        if len(notes) > room:
            kept = notes[: max(room, 1)]
            kept[-1] = page.ellipsize(" ".join(notes[len(kept) - 1 :]), width, notes_size)
            notes = kept
        page.panel("notas", Box(MARGIN, y, width, max(bottom_limit - y, 0.01)))
        page.lines("notas", MARGIN, y, notes, notes_size, color="#333333")
    return fig


def draw_point_cards(sp: SectorPlan, plan: PatrolPlan, *, synthetic: bool = False) -> list[Figure]:
    """Draw the pages of cards of the sector's critical points (none without points).

    Each card: rank and subsector, the reference phrase, latitude/longitude, UTM, a QR code of
    the point's ``geo:`` URI, counts, hours, days, visits and modalidades.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from .geo_qr import draw_qr
    from .pdf import RC_PARAMS

    tour_pos = {p: k + 1 for k, p in enumerate(sp.tour)}
    visits: dict[str, list[int]] = {
        dt: [
            sum(1 for sh in shifts for v in sh.visits if v.point == k)
            for k in range(len(sp.points))
        ]
        for dt, shifts in sp.schedules.items()
    }
    figures = []
    with mpl.rc_context({**RC_PARAMS, **layout_rc()}):
        for page_no in range(card_pages(sp)):
            fig = Figure(figsize=A4_INCHES)
            page = Page(fig)
            width = page.width - 2 * MARGIN
            total = card_pages(sp)
            y = _header(
                page,
                f"Puntos críticos — {sp.sector}"
                + (f" ({page_no + 1}/{total})" if total > 1 else ""),
                f"{sp.comisaria} · {period_text(plan)} · Escanee el código QR con la cámara del "
                "teléfono: abre el punto en la aplicación de mapas.",
                synthetic=synthetic,
                width=width,
            )
            chunk = list(
                range(page_no * CARDS_PER_PAGE, min(len(sp.points), (page_no + 1) * CARDS_PER_PAGE))
            )
            gap = 0.12
            card_w = (width - gap) / 2
            card_h = (page.height - 0.3 - y - gap * 4) / 5
            for slot, k in enumerate(chunk):
                col, row = slot % 2, slot // 2
                box = Box(MARGIN + col * (card_w + gap), y + row * (card_h + gap), card_w, card_h)
                _draw_card(
                    page, box, sp, k, tour_pos[k], {dt: v[k] for dt, v in visits.items()}, draw_qr
                )
            figures.append(fig)
    return figures


def _draw_card(
    page: Page,
    box: Box,
    sp: SectorPlan,
    k: int,
    order: int,
    visits: dict[str, int],
    draw_qr: Any,
) -> None:
    """Draw the card of point ``k`` in ``box``."""
    p = sp.points[k]
    name = f"ficha_{p['rango']}"
    page.panel(name, box)
    page.rect(box, edgecolor="#555555", lw=0.6)
    pad = 0.08
    qr_side = min(box.h - 2 * pad, 1.45)
    if p.get("geo_uri"):
        ax = page.axes(Box(box.x + pad, box.y + pad, qr_side, qr_side), name)
        draw_qr(ax, str(p["geo_uri"]))
        caption_y = box.y + pad + qr_side
        if caption_y + page.line_height(5.5) <= box.bottom:
            page.text(
                name,
                box.x + pad + qr_side / 2,
                caption_y - 0.02,
                "Abrir en el mapa",
                5.5,
                ha="center",
            )
    x = box.x + pad + qr_side + 0.1
    w = box.right - pad - x
    y = box.y + pad
    head, size = page.fit(
        f"N.º {p['rango']} · {_short_subsector(p['subsector'])}"
        if p["subsector"]
        else f"N.º {p['rango']}",
        w,
        10,
        min_size=7,
        max_lines=1,
        weight="bold",
    )
    y = page.lines(name, x, y, head, size, weight="bold", color=POINT_COLOUR) + 0.02
    if p.get("referencia"):
        ref, rsize = page.fit(str(p["referencia"]), w, 7, min_size=6, max_lines=2, weight="bold")
        y = page.lines(name, x, y, ref, rsize, weight="bold") + 0.02
    lines: list[str] = []
    if p.get("lat") is not None:
        lines.append(f"Lat. {float(p['lat']):.5f} · Lon. {float(p['lon']):.5f}")
        lines.append(
            f"UTM {p['utm_zona']} {_thousands(p['utm_este'])} E {_thousands(p['utm_norte'])} N"
        )
    lines.append(
        f"{_thousands(p['n'])} denuncias · daño {_harm(p['dano'])} · {_thousands(p['area_m2'])} m²"
    )
    lines.append(f"Horas: {p['horas_pico']} · Días: {p['dias_pico']}")
    lines.append(
        f"Orden de visita: {order} · visitas por día: laborable {visits.get('laborable', 0)}, "
        f"fin de semana {visits.get('fin_de_semana', 0)}"
    )
    lines.append(f"Modalidades: {p['modalidades'] or '—'}")
    size = 6.3
    wrapped = [line for text in lines for line in page.wrap(text, w, size)]
    room = int((box.bottom - pad - y) // page.line_height(size))
    if len(wrapped) > room:
        kept = wrapped[: max(room, 1)]
        kept[-1] = page.ellipsize(" ".join(wrapped[len(kept) - 1 :]), w, size)
        wrapped = kept
    page.lines(name, x, y, wrapped, size)


def sheet_figures(
    plan: PatrolPlan,
    *,
    synthetic: bool = False,
    density: bool = True,
    basemap: bool = False,
    near_repeat: NearRepeatAdvice | str | None = None,
) -> list[tuple[SectorPlan, list[Figure]]]:
    """Return the pages of every sector with incidents: the overview, then the cards."""
    out: list[tuple[SectorPlan, list[Any]]] = []
    for sp in sheet_sectors(plan):
        raster = sector_density(sp, plan) if density else None
        empty = [
            s.sector for s in plan.sectors if s.comisaria == sp.comisaria and not s.n_incidents
        ]
        pages = [
            draw_sector_sheet(
                sp,
                plan,
                synthetic=synthetic,
                density=raster,
                basemap=basemap,
                near_repeat=near_repeat,
                notes=[f"Sin denuncias en el periodo (sin hoja): {', '.join(empty)}."]
                if empty
                else [],
            ),
            *draw_point_cards(sp, plan, synthetic=synthetic),
        ]
        out.append((sp, pages))
    return out
