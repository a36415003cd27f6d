"""One A4 patrol sheet per sector: map, critical points, hour × day chart, schedule and notes.

The page (portrait A4) holds, top to bottom: the title block (sector, comisaría, period and the
synthetic-data banner when applicable); a static map of the sector (outline, subsectors,
critical points numbered by rank, the straight-line visiting order and a light density
background) beside the ranked table of critical points, the counts per subsector and the main
modalidades; the hour × day chart with the patrol windows outlined; the visit schedule per shift
and day type; and the notes on period, data and method.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from .._text import num
from ..patrol.windows import DAY_TYPES
from ..schema import DAY_NAMES_ES, modalidad_label
from ..settings import INTERNAL_NOTICE, SYNTHETIC_BANNER

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..density import DensityRaster
    from ..patrol import PatrolPlan, SectorPlan

#: A4 portrait in inches.
A4_INCHES = (8.27, 11.69)
#: Colour of critical points.
POINT_COLOUR = "#b2182b"
#: Height of a table row as a fraction of the page height.
ROW_HEIGHT = 0.0118
#: Subsectors listed as a table; more are listed as wrapped text.
MAX_SUBSECTOR_ROWS = 8
#: Maximum visits listed per shift line on the sheet (the CSV has them all).
MAX_VISITS_LISTED = 14


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


def _scale_bar(ax: Axes, width: float) -> None:
    """Draw a scale bar of a round length about a fifth of ``width`` metres."""
    target = width / 5
    length = max(
        (v for v in (25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000) if v <= target),
        default=25,
    )
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x0 + (x1 - x0) * 0.05
    y = y0 + (y1 - y0) * 0.04
    ax.plot([x, x + length], [y, y], color="black", lw=2, solid_capstyle="butt")
    label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
    ax.text(x + length / 2, y + (y1 - y0) * 0.015, label, ha="center", va="bottom", fontsize=6)
    ax.annotate(
        "N",
        xy=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.05),
        xytext=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.15),
        ha="center",
        fontsize=8,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1},
    )


def label_positions(centres: list[Any], spacing: float) -> list[tuple[float, float]]:
    """Return label positions: at each point, moved outward when closer than ``spacing``.

    Points are placed in rank order; a label that would overlap an earlier one is moved to
    the first free spot on rings of ``spacing`` around its point (eight directions per ring).
    """
    import math

    placed: list[tuple[float, float]] = []
    for c in centres:
        candidates = [(c.x, c.y)] + [
            (
                c.x + ring * spacing * math.cos(k * math.pi / 4 + math.pi / 4),
                c.y + ring * spacing * math.sin(k * math.pi / 4 + math.pi / 4),
            )
            for ring in (1, 2, 3)
            for k in range(8)
        ]
        spot = next(
            (xy for xy in candidates if all(math.dist(xy, other) >= spacing for other in placed)),
            candidates[-1],
        )
        placed.append(spot)
    return placed


def _legend(ax: Axes, *, with_density: bool, with_tour: bool) -> None:
    """Add the map legend (lower right)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Line2D([], [], color="black", lw=1.4, label="Límite del sector"),
        Line2D([], [], color="#777777", lw=0.6, label="Subsector"),
        Patch(
            facecolor=POINT_COLOUR,
            alpha=0.5,
            edgecolor=POINT_COLOUR,
            label="Punto crítico (n.º = rango)",
        ),
    ]
    if with_tour:
        handles.append(
            Line2D([], [], color="#2166ac", lw=0.8, ls="--", label="Orden de visita (línea recta)")
        )
    if with_density:
        handles.append(Patch(facecolor="#fd8d3c", alpha=0.35, label="Densidad de denuncias"))
    ax.legend(handles=handles, loc="lower right", fontsize=5.5, frameon=True, framealpha=0.85)


def draw_map(
    ax: Axes,
    sp: SectorPlan,
    *,
    density: DensityRaster | None,
    basemap: bool,
    notes: list[str],
) -> None:
    """Draw the sector map on ``ax`` (metric CRS)."""
    import numpy as np
    from shapely.geometry import LineString

    minx, miny, maxx, maxy = sp.geometry.bounds
    pad = max(maxx - minx, maxy - miny) * 0.06 + 20
    x0, x1, y0, y1 = minx - pad, maxx + pad, miny - pad, maxy + pad
    fig_w, fig_h = A4_INCHES
    box = ax.get_position()
    box_ratio = (box.height * fig_h) / (box.width * fig_w)
    # Widen the shorter data side so the map fills its box at equal scale.
    if (y1 - y0) / (x1 - x0) < box_ratio:
        grow = (box_ratio * (x1 - x0) - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    else:
        grow = ((y1 - y0) / box_ratio - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
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
    sp.subsectors.boundary.plot(ax=ax, color="#777777", linewidth=0.6, zorder=2)
    for label, geom in zip(sp.subsectors["subsector"], sp.subsectors.geometry, strict=True):
        where = geom.representative_point()
        short = str(label).replace("SUB SECTOR", "").strip() or str(label)
        ax.text(where.x, where.y, short, fontsize=7, color="#555555", ha="center", va="center")
    outline = sp.geometry.boundary
    for line in getattr(outline, "geoms", [outline]):
        xs, ys = line.xy
        ax.plot(xs, ys, color="black", linewidth=1.4, zorder=3)
    centres = [p["geometry"].representative_point() for p in sp.points]
    if len(sp.tour) > 1:
        ring = [centres[i] for i in [*sp.tour, sp.tour[0]]]
        xs, ys = LineString(ring).xy
        ax.plot(xs, ys, color="#2166ac", linewidth=0.8, linestyle="--", zorder=4)
    for p in sp.points:
        geom = p["geometry"]
        for part in getattr(geom, "geoms", [geom]):
            xs, ys = part.exterior.xy
            ax.fill(xs, ys, facecolor=POINT_COLOUR, alpha=0.35, edgecolor=POINT_COLOUR, lw=0.8)
    for p, (lx, ly), c in zip(
        sp.points, label_positions(centres, (x1 - x0) * 0.035), centres, strict=True
    ):
        if (lx, ly) != (c.x, c.y):
            ax.plot([c.x, lx], [c.y, ly], color=POINT_COLOUR, lw=0.6, zorder=5)
        ax.text(
            lx,
            ly,
            str(p["rango"]),
            fontsize=7,
            fontweight="bold",
            color="white",
            ha="center",
            va="center",
            zorder=6,
            bbox={"boxstyle": "circle,pad=0.25", "fc": POINT_COLOUR, "ec": "white", "lw": 0.6},
        )
    _legend(ax, with_density=density is not None, with_tour=len(sp.tour) > 1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    _scale_bar(ax, x1 - x0)


def _table(
    ax: Axes,
    title: str,
    header: list[str],
    rows: list[list[str]],
    widths: list[float],
    *,
    empty: str,
    fontsize: float = 6.0,
) -> None:
    """Draw a small table with a title on ``ax`` (an invisible axes)."""
    ax.set_axis_off()
    ax.set_title(title, fontsize=8.5, fontweight="bold", loc="left", pad=2)
    if not rows:
        ax.text(0, 0.9, empty, fontsize=fontsize + 0.5, va="top", transform=ax.transAxes)
        return
    table = ax.table(
        cellText=rows,
        colLabels=header,
        colWidths=widths,
        loc="upper left",
        cellLoc="left",
        colLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    height = ROW_HEIGHT / ax.get_position().height
    for (r, _), cell in table.get_celld().items():
        cell.set_linewidth(0.3)
        cell.set_height(height)
        if r == 0:
            cell.set_facecolor("#e8e8e8")
            cell.set_text_props(fontweight="bold")


def _harm(value: float) -> str:
    """Return a harm total: one decimal below 100, whole numbers with thin spaces above."""
    return f"{value:.1f}" if abs(value) < 100 else _thousands(value)


def _shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters with an ellipsis (long single words too)."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def draw_points_table(ax: Axes, sp: SectorPlan) -> None:
    """Draw the ranked critical points."""
    tour_pos = {p: k + 1 for k, p in enumerate(sp.tour)}
    rows = []
    for k, p in enumerate(sp.points):
        sub = str(p["subsector"] or "").replace("SUB SECTOR", "").strip()
        main = p["modalidades"].split("; ")[0] if p["modalidades"] else ""
        rows.append(
            [
                str(p["rango"]),
                sub,
                str(p["n"]),
                _harm(p["dano"]),
                p["horas_pico"],
                _shorten(p["dias_pico"], 22),
                _shorten(main, 20),
                str(tour_pos[k]),
            ]
        )
    _table(
        ax,
        "Puntos críticos (por riesgo)",
        ["N.º", "Subs.", "Den.", "Daño", "Horas", "Días", "Modalidad principal", "Ord."],
        rows,
        [0.05, 0.07, 0.07, 0.10, 0.12, 0.22, 0.31, 0.06],
        empty="Sin puntos críticos con el mínimo de denuncias exigido.",
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


def draw_side_tables(ax_sub: Axes, ax_mod: Axes, sp: SectorPlan) -> None:
    """Draw the counts per subsector and the main modalidades of the sector."""
    counts = sp.subsector_counts()
    if len(counts) > MAX_SUBSECTOR_ROWS:
        ax_sub.set_axis_off()
        ax_sub.set_title(
            "Denuncias por subsector", fontsize=8.5, fontweight="bold", loc="left", pad=2
        )
        listed = " · ".join(
            f"{str(label).replace('SUB SECTOR', '').strip() or label}: {n}"
            for label, n, _ in counts
        )
        text = textwrap.fill(f"{listed} · Total del sector: {sp.n_incidents}", 95)
        ax_sub.text(0, 1, text, fontsize=6, va="top", transform=ax_sub.transAxes)
    else:
        rows = [[label, str(n), _harm(harm)] for label, n, harm in counts]
        total_harm = sum(h for _, _, h in counts)
        rows.append(["Total del sector", str(sp.n_incidents), _harm(total_harm)])
        _table(
            ax_sub,
            "Denuncias por subsector",
            ["Subsector", "Denuncias", "Daño"],
            rows,
            [0.5, 0.25, 0.25],
            empty="Sin subsectores.",
        )
    ranked = sorted(_modalidad_totals(sp.incidents).items(), key=lambda kv: (-kv[1][0], kv[0]))
    rows = [[_shorten(k, 40), str(int(v[0])), _harm(v[1])] for k, v in ranked[:5]]
    if len(ranked) > 5:
        rest = ranked[5:]
        rows.append(
            [
                f"Otras ({len(rest)} modalidades)",
                str(int(sum(v[0] for _, v in rest))),
                _harm(sum(v[1] for _, v in rest)),
            ]
        )
    _table(
        ax_mod,
        "Modalidades",
        ["Modalidad", "Denuncias", "Daño"],
        rows,
        [0.6, 0.2, 0.2],
        empty="Sin denuncias en el periodo.",
    )


def draw_hour_day(ax: Axes, sp: SectorPlan) -> None:
    """Draw the hour × day chart: counts per cell, patrol windows outlined in blue."""
    import numpy as np
    from matplotlib.patches import Rectangle

    values = sp.hour_day.to_numpy().T  # rows: days, columns: hours
    vmax = max(int(values.max()), 1)
    ax.imshow(values, cmap="Reds", vmin=0, vmax=vmax, aspect="auto", origin="upper")
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
                    fontsize=5.5,
                    color="white" if v > vmax * 0.6 else "black",
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
                        edgecolor="#2166ac",
                        linewidth=1.3,
                    )
                )
    ax.set_xticks(np.arange(24))
    ax.set_xticklabels([f"{h:02d}" for h in range(24)], fontsize=6)
    ax.set_yticks(np.arange(7))
    ax.set_yticklabels(list(DAY_NAMES_ES), fontsize=6.5)
    ax.set_xlabel("Hora del día", fontsize=7, labelpad=1)
    ax.tick_params(length=0)
    ax.set_title(
        "Denuncias por hora y día de la semana (con hora conocida; "
        f"{sp.n_no_time} sin hora) — en azul, ventanas de patrullaje",
        fontsize=8.5,
        fontweight="bold",
        loc="left",
        pad=3,
    )


def _split_at_midnight(start: int, hours: int) -> list[tuple[int, int]]:
    if start + hours <= 24:
        return [(start, hours)]
    return [(start, 24 - start), (0, start + hours - 24)]


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
                    text += f" … (+{len(sh.visits) - MAX_VISITS_LISTED}, ver CSV)"
            lines.append((shift, label, text))
    return lines


def draw_schedule(ax: Axes, sp: SectorPlan, plan: PatrolPlan) -> None:
    """Draw the schedule block: one line per shift and day type."""
    opts = plan.schedule_options
    ax.set_axis_off()
    ax.set_title(
        f"Horario de visitas ({opts.units} unidad{'es' if opts.units > 1 else ''} por turno, "
        f"{opts.visit_minutes} min por visita, revisita ≥ {opts.revisit_minutes} min, "
        f"{sp.travel_minutes} min de traslado)",
        fontsize=8.5,
        fontweight="bold",
        loc="left",
        pad=2,
    )
    windows = "; ".join(
        f"{DAY_TYPES[dt][0]}: "
        + (", ".join(w.label for w in ws) or "sin denuncias con hora")
        + f" ({sp.window_share(dt):.0%} de las denuncias)"
        for dt, ws in sp.windows.items()
    )
    rows = [
        [shift, day, "\n".join(textwrap.wrap(text, 105))]
        for shift, day, text in schedule_lines(sp, plan)
    ]
    y = 0.97
    ax.text(0, y, f"Ventanas: {windows}", fontsize=6.5, va="top", transform=ax.transAxes)
    y -= 0.09
    for shift, day, text in rows:
        n_lines = text.count("\n") + 1
        ax.text(0, y, shift, fontsize=6.3, fontweight="bold", va="top", transform=ax.transAxes)
        ax.text(0.17, y, day, fontsize=6.3, va="top", transform=ax.transAxes)
        ax.text(0.31, y, text, fontsize=6.1, va="top", transform=ax.transAxes)
        y -= 0.075 * n_lines + 0.02


def _thousands(value: float) -> str:
    """Return ``value`` rounded, with the project's thousands separator (``40\u00a0000``)."""
    return num(value)


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
        f"{period_text(plan)}. {sp.n_incidents} denuncias en el sector, {sp.n_no_time} sin hora "
        "conocida (no entran en el gráfico horario). Se muestran denuncias registradas, no todo "
        "el delito ocurrido.",
        f"Puntos críticos: {method}, recortados al sector, de {params['min_count']} denuncias o "
        f"más y hasta {_thousands(params['max_area_m2'])} m² (los mayores se reducen a su "
        f"núcleo de {params['core_radius_m']:g} m). Riesgo: "
        + ("número de denuncias." if params["risk"] == "n" else "daño ponderado.")
        + " Daño: suma de pesos por modalidad (ver tabla de pesos).",
        f"Ventanas: menor número de bloques de {params['block_hours']} h que cubren al menos el "
        f"{params['share']:.0%} de las denuncias con hora, por tipo de día.",
        "Dosificación: visitas cortas repetidas cada ~2 h en las horas de riesgo (curva de Koper, "
        "Koper 1995; Sherman y Weisburd 1995). Orden de visita (Ord.): recorrido más corto en "
        "línea recta (vecino más cercano + 2-opt), no es una ruta por calles.",
    ]
    lines.extend(sp.notes)
    lines.extend(extra)
    return lines


def draw_sector_sheet(
    sp: SectorPlan,
    plan: PatrolPlan,
    *,
    synthetic: bool = False,
    density: DensityRaster | None = None,
    basemap: bool = False,
) -> Figure:
    """Draw the A4 patrol sheet of one sector and return the figure.

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
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from .pdf import RC_PARAMS

    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=A4_INCHES)
        extra: list[str] = []
        fig.text(0.04, 0.975, f"Plan de patrullaje — {sp.sector}", fontsize=16, fontweight="bold")
        fig.text(
            0.04,
            0.955,
            f"{sp.comisaria} · {period_text(plan)} · {sp.n_incidents} denuncias · "
            f"{len(sp.points)} puntos críticos",
            fontsize=8.5,
        )
        fig.text(0.96, 0.985, INTERNAL_NOTICE, fontsize=6.5, ha="right", color="#555555")
        if synthetic:
            fig.text(
                0.5,
                0.937,
                SYNTHETIC_BANNER,
                fontsize=9,
                fontweight="bold",
                ha="center",
                va="center",
                color="white",
                bbox={"boxstyle": "square,pad=0.3", "fc": "#d6604d", "ec": "none"},
            )
        ax_map = fig.add_axes((0.04, 0.545, 0.47, 0.375))
        draw_map(ax_map, sp, density=density, basemap=basemap, notes=extra)
        draw_points_table(fig.add_axes((0.53, 0.775, 0.44, 0.14)), sp)
        draw_side_tables(
            fig.add_axes((0.53, 0.645, 0.44, 0.11)), fig.add_axes((0.53, 0.535, 0.44, 0.09)), sp
        )
        draw_hour_day(fig.add_axes((0.1, 0.34, 0.87, 0.16)), sp)
        draw_schedule(fig.add_axes((0.04, 0.11, 0.93, 0.19)), sp, plan)
        notes = notes_lines(sp, plan, extra)
        ax_notes = fig.add_axes((0.04, 0.01, 0.93, 0.09))
        ax_notes.set_axis_off()
        text = "\n".join(textwrap.fill(n, 150) for n in notes)
        ax_notes.text(0, 1, text, fontsize=5.6, va="top", transform=ax_notes.transAxes)
    return fig


def sheet_figures(
    plan: PatrolPlan,
    *,
    synthetic: bool = False,
    density: bool = True,
    basemap: bool = False,
) -> list[tuple[SectorPlan, Figure]]:
    """Return the sheet of every sector of ``plan``, in plan order."""
    out: list[tuple[SectorPlan, Any]] = []
    for sp in plan.sectors:
        raster = sector_density(sp, plan) if density else None
        out.append(
            (sp, draw_sector_sheet(sp, plan, synthetic=synthetic, density=raster, basemap=basemap))
        )
    return out
