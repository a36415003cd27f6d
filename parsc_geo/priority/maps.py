"""Choropleth maps of priority levels: HTML (the atlas' look) and PNG/PDF for documents.

The document map (:func:`priority_figure`) is an A4 page: the map on the left, and beside it —
off the data — the legend, the units the table lists with their indicators, and the rules in
words; a scale bar and a north arrow in a corner of the map that holds no territory; names of
provinces and districts (with their accents) wherever they fit inside their unit without
touching another name (:func:`place_labels`); the sources in the footer. Uncertain levels are
hatched, units without data in the period drawn blank with dots.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .. import settings
from .._text import num
from ..labels_es import NO_DATA
from ..labels_es import PRIORITY_LEVELS as LEVEL_LABELS_ES
from .explain import SMOOTHING_SENTENCE
from .levels import LEVEL_ALTA, LEVEL_NONE, LEVEL_PRIORIDAD
from .stability import LEVEL_TEXT, stability_percent
from .tables import period_text, region_name, source_text
from .territories import PriorityResult, _letter

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox
    from shapely.geometry.base import BaseGeometry

    from ..parallel import Pending, WorkerPool

#: Colours of the levels on maps (ColorBrewer RdBu ends; light grey for none).
LEVEL_COLORS: Final[dict[str, str]] = {
    LEVEL_ALTA: "#b2182b",
    LEVEL_PRIORIDAD: "#f4a582",
    LEVEL_NONE: "#f0f0f0",
}
#: Fill of units without data in the period (drawn with a dotted hatch).
NO_DATA_COLOR: Final = "#ffffff"
#: Hatch of uncertain levels and of units without data.
UNCERTAIN_HATCH: Final = "////"
NO_DATA_HATCH: Final = "..."
#: Round lengths a scale bar may take, in metres.
_SCALE_STEPS: Final = (1, 2, 2.5, 5)
#: Points of white space kept between two labels.
_LABEL_GAP: Final = 1.5
#: Page sizes (inches): A4 portrait for tall territories, landscape for wide ones.
_A4: Final = (8.27, 11.69)


def _units_geometry(level: str, codes: Sequence[str]) -> gpd.GeoDataFrame:
    """Return the polygons of the ranked units (those of the result's study area)."""
    from ..boundaries import load_districts, load_provinces

    chosen = sorted(set(codes)) or ["-"]
    if level == "provincia":
        units = load_provinces(prefix=chosen).rename(columns={"ubigeo_prov": "codigo"})
    else:
        units = load_districts(prefix=chosen).rename(columns={"ubigeo": "codigo"})
    return units[["codigo", "geometry"]]


def map_frame(result: PriorityResult, level: str, target: str) -> gpd.GeoDataFrame:
    """Return one target's rows of one level with their polygons (EPSG:4326)."""
    rows = result.level(level)
    rows = rows[rows["objetivo"] == target]
    geo = _units_geometry(level, rows["codigo"].astype(str).tolist())
    return geo.merge(rows, on="codigo", how="inner")


def _fmt(value: float, digits: int) -> str:
    return "—" if value != value else num(value, digits)


def _unit_word(level: str) -> str:
    return "provincia" if level == "provincia" else "distrito"


# -- HTML ------------------------------------------------------------------------------------


def write_priority_map_html(
    result: PriorityResult,
    path: str | os.PathLike[str],
    *,
    level: str = "provincia",
    target: str,
    overwrite: bool = False,
) -> Path:
    """Write the choropleth of one target's levels as an HTML map (maps capability's look).

    Parameters
    ----------
    result
        Output of :func:`parsc_geo.priority.compute_priority`.
    path
        Output ``.html`` file.
    level
        ``"provincia"`` or ``"distrito"``.
    target
        Fenómeno code or modalidad target id (``result.table["objetivo"]``).
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    import folium

    from ..maps import (
        add_layer_control,
        add_legend,
        add_synthetic_banner,
        add_title_block,
        new_map,
        write_map_html,
    )
    from ..privacy import DEFAULT_K, count_text

    frame = map_frame(result, level, target)
    name = str(frame["objetivo_nombre"].iloc[0])
    unit = _unit_word(level)
    title = f"Territorios de intervención prioritaria — {name}"
    m = new_map(bounds=tuple(frame.total_bounds), tiles="CartoDB claro", title=title)
    add_title_block(
        m,
        title=title,
        place=f"{region_name(result)}, por {unit}",
        period=period_text(result),
        source=source_text(result).removeprefix("Fuente: "),
        parameters={"regla": result.parameters["rule"], "n_boot": result.parameters["n_boot"]},
        public=True,
        generalisation=f"Denuncias agregadas por {unit}; no muestra ubicaciones individuales. "
        f"Recuentos menores que {DEFAULT_K} (y las tasas que los revelan) no se muestran "
        "(regla de privacidad de parsc_geo.privacy).",
        extra=[("Tasa suavizada", SMOOTHING_SENTENCE), ("Nivel incierto", _uncertain_rule(result))],
    )
    if result.synthetic:
        add_synthetic_banner(m)
    # privacy rule: a count of 1 to k - 1 complaints is suppressed, with every indicator that
    # would reveal it (rates times population, shares, variation)
    small = ((frame["n"] > 0) & (frame["n"] < DEFAULT_K)).to_numpy()
    covered = frame["con_datos"].astype(bool).to_numpy()

    def shown(values: pd.Series, text: Callable[[float], str]) -> list[str]:
        return [
            "—" if hide or not inside else text(v)
            for v, hide, inside in zip(values, small, covered, strict=True)
        ]

    fields = [
        ("nombre", unit.capitalize()),
        ("nivel_texto", "Nivel publicado"),
        ("denuncias", "Denuncias"),
        ("tasa_txt", "Tasa por 100 000 hab."),
        ("tasa_eb_txt", "Tasa suavizada (Bayes empírico)"),
        ("part_txt", "Participación regional"),
    ]
    if result.compared:
        fields.append(("var_txt", "Variación"))
    fields += [("estab_txt", "Estabilidad del nivel"), ("obs_txt", "Observación")]
    props = frame.assign(
        nombre=frame[unit].astype(str).map(html.escape),
        nivel_texto=frame["nivel_publicado"].map(lambda v: LEVEL_TEXT.get(v, v)),
        denuncias=[
            "—" if not inside else count_text(v, DEFAULT_K) if hide else num(v)
            for v, hide, inside in zip(frame["n"], small, covered, strict=True)
        ],
        tasa_txt=shown(frame["tasa"], lambda v: _fmt(v, 1)),
        tasa_eb_txt=shown(frame["tasa_eb"], lambda v: _fmt(v, 1)),
        part_txt=shown(frame["participacion"], lambda v: _fmt(v, 1) + " %"),
        var_txt=shown(frame["variacion"], lambda v: _fmt(v, 0) + " %"),
        estab_txt=frame["estabilidad"].map(
            lambda v: "—" if v != v else f"{stability_percent(v)} %"
        ),
        # an observation names counts and rates: hidden where they are
        obs_txt=[
            "" if hide else html.escape(str(text))
            for text, hide in zip(frame["observacion"], small, strict=True)
        ],
        color=[
            LEVEL_COLORS[lv] if inside else NO_DATA_COLOR
            for lv, inside in zip(frame["nivel"], covered, strict=True)
        ],
        dash=["6 4" if u else "" for u in frame["incierto"].astype(bool)],
    )[[*(f for f, _ in fields), "codigo", "color", "dash", "geometry"]].to_crs(
        settings.CRS_GEOGRAPHIC
    )
    folium.GeoJson(
        props.to_json(),
        name=f"Nivel de prioridad por {unit}",
        style_function=lambda feature: {
            "fillColor": feature["properties"]["color"],
            "color": "#222222" if feature["properties"]["dash"] else "#555555",
            "weight": 2.5 if feature["properties"]["dash"] else 1,
            "dashArray": feature["properties"]["dash"],
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[f for f, _ in fields], aliases=[a for _, a in fields]
        ),
    ).add_to(m)
    counts = frame.loc[covered, "nivel"].value_counts()
    entries: list[tuple[str, str, int | float | str | None]] = [
        (LEVEL_COLORS[lv], LEVEL_LABELS_ES[lv], int(counts.get(lv, 0))) for lv in LEVEL_COLORS
    ]
    if (~covered).any():
        entries.append((NO_DATA_COLOR, NO_DATA.capitalize(), int((~covered).sum())))
    add_legend(
        m,
        "Nivel de prioridad",
        entries,
        shape="square",
        note=f"Número de unidades ({unit}) en cada nivel. Borde discontinuo: nivel incierto "
        f"({int(frame['incierto'].astype(bool).sum())}).",
    )
    add_layer_control(m)
    return write_map_html(m, path, overwrite=overwrite)


def _uncertain_rule(result: PriorityResult) -> str:
    n_boot = int(result.parameters.get("n_boot", 0))
    if n_boot <= 0:
        return "no se calculó la estabilidad (sin remuestreos)"
    share = float(result.parameters.get("min_stability", 0.0)) * 100
    return (
        f"un nivel que la unidad conserva en menos del {num(share)} % de {num(n_boot)} "
        "remuestreos de las denuncias se publica como NIVEL INCIERTO, con los dos niveles "
        "posibles"
    )


# -- labels, scale bar, north arrow ----------------------------------------------------------


@dataclass
class LabelRequest:
    """A name to write inside a unit.

    Attributes
    ----------
    text
        The name.
    geometry
        The unit's polygon, in the axes' data coordinates.
    gid
        Identifier given to the text artist (the unit's code).
    sizes
        Font sizes to try, largest first.
    may_cross
        When the name fits inside the unit nowhere, centre it on the unit even if it crosses
        the border (for the units a table lists: their name matters more than the border).
    """

    text: str
    geometry: BaseGeometry
    gid: str
    sizes: Sequence[float] = (7.0, 6.0)
    may_cross: bool = False


def _display_box(bbox: Bbox, ax: Axes) -> BaseGeometry:
    """Return a display-space box as a polygon in the axes' data coordinates."""
    from shapely.geometry import box

    (x0, y0), (x1, y1) = ax.transData.inverted().transform([[bbox.x0, bbox.y0], [bbox.x1, bbox.y1]])
    return box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _candidate_points(geometry: BaseGeometry) -> list[tuple[float, float]]:
    from shapely.ops import polylabel

    polygon = geometry
    if geometry.geom_type == "MultiPolygon":
        polygon = max(geometry.geoms, key=lambda g: g.area)
    points = []
    try:
        best = polylabel(polygon, tolerance=math.sqrt(polygon.area) / 200)
        points.append((best.x, best.y))
    except Exception:
        pass
    rep = geometry.representative_point()
    points.append((rep.x, rep.y))
    return points


def _variants(text: str) -> list[str]:
    words = text.split()
    if len(words) < 2:
        return [text]
    # the break that balances the two lines best
    cut = min(
        range(1, len(words)),
        key=lambda k: abs(len(" ".join(words[:k])) - len(" ".join(words[k:]))),
    )
    return [text, " ".join(words[:cut]) + "\n" + " ".join(words[cut:])]


def place_labels(
    ax: Axes,
    requests: Sequence[LabelRequest],
    renderer: RendererBase,
    *,
    avoid: Sequence[Bbox] = (),
) -> list[Text]:
    """Write each name on its unit where it fits without touching another name.

    Parameters
    ----------
    ax
        Map axes with their final limits.
    requests
        Names in order of importance (an earlier name wins a contested spot).
    renderer
        The figure's renderer (text sizes are measured with it).
    avoid
        Display-space boxes no label may touch (scale bar, north arrow).

    Returns
    -------
    list of matplotlib.text.Text
        The names written (their ``gid`` is the unit's code; those allowed to cross the
        unit's border have ``"+"`` appended); a name that fits nowhere is left out.

    Notes
    -----
    For each name, sizes (largest first), one line then two, and two spots (the pole of
    inaccessibility, then a representative point) are tried; the first whose text box lies
    inside the unit's polygon, inside the axes and clear of every box already taken (by
    :data:`_LABEL_GAP` points) is kept. A name marked ``may_cross`` that fits inside nowhere
    is then centred on its unit at the smallest size if it touches no other name.
    """
    from matplotlib.patheffects import withStroke

    placed: list[Text] = []
    taken = list(avoid)
    axes_box = ax.get_window_extent(renderer)
    gap = _LABEL_GAP * ax.figure.dpi / 72.0
    to_display = ax.transData.transform

    def attempt(
        request: LabelRequest,
        text: str,
        size: float,
        xy: tuple[float, float],
        shape: BaseGeometry | None,
    ) -> bool:
        def draw() -> Text:
            return ax.text(
                xy[0],
                xy[1],
                text,
                ha="center",
                va="center",
                fontsize=size,
                color="#1a1a1a",
                linespacing=1.0,
                gid=request.gid if shape is not None else request.gid + "+",
                zorder=6,
                path_effects=[withStroke(linewidth=2.2, foreground="white")],
            )

        # a name's box around its anchor is measured once for every spot, map and figure
        key = _layout_key(text, size, ax, renderer)
        layout = _LAYOUTS.get(key)
        artist = None
        if layout is None:
            artist = draw()
            layout = _LAYOUTS[key] = _text_layout(artist, renderer)
        # as Text.get_window_extent: the layout moved to the anchor's display position
        x, y = to_display((xy[0], xy[1]))
        bbox = layout.translated(x, y)
        padded = bbox.padded(gap)
        fits = (
            axes_box.contains(bbox.x0, bbox.y0)
            and axes_box.contains(bbox.x1, bbox.y1)
            and (shape is None or shape.contains(_display_box(bbox.padded(gap / 2), ax)))
            and not any(padded.overlaps(other) for other in taken)
        )
        if fits:
            placed.append(artist if artist is not None else draw())
            taken.append(bbox)
        elif artist is not None:
            artist.remove()
        return fits

    for request in requests:
        shape = request.geometry.buffer(0)
        spots = _candidate_points(shape)
        done = any(
            attempt(request, text, size, xy, shape)
            for size in request.sizes
            for text in _variants(request.text)
            for xy in spots
        )
        if not done and request.may_cross:
            any(
                attempt(request, text, request.sizes[-1], spots[0], None)
                for text in _variants(request.text)[::-1]
            )
    return placed


#: Boxes of names around their anchor (display units, as ``Text._get_layout`` gives them), by
#: :func:`_layout_key`: every map of a run tries the same names at the same sizes.
_LAYOUTS: dict[tuple[Any, ...], Bbox] = {}
#: Boxes kept at most (a national run's district names at every size and line break).
_MAX_LAYOUTS: Final = 50_000


def _layout_key(text: str, size: float, ax: Axes, renderer: RendererBase) -> tuple[Any, ...]:
    """Return what a label's box depends on besides its position (see :func:`place_labels`).

    The text, its font (family, weight, size… as ``ax.text`` resolves them from the current
    rc parameters), the line spacing and alignment place_labels always uses, the figure's dpi,
    the renderer's kind and the rc parameters of text metrics.
    """
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    rc = mpl.rcParams
    return (
        text,
        FontProperties(size=size),
        float(ax.figure.dpi),
        type(renderer),
        rc["text.parse_math"],
        rc["text.usetex"],
        rc["text.hinting"],
        rc["text.hinting_factor"],
        rc["text.kerning_factor"],
    )


def _text_layout(artist: Text, renderer: RendererBase) -> Bbox:
    """Return ``artist``'s box around its anchor (display units), kept for later names."""
    if len(_LAYOUTS) >= _MAX_LAYOUTS:
        _LAYOUTS.clear()
    get_layout = getattr(artist, "_get_layout", None)
    if get_layout is None:  # a matplotlib without it: the public box, moved back (round-off)
        x, y = artist.get_transform().transform(artist.get_unitless_position())
        return artist.get_window_extent(renderer).translated(-x, -y)
    # what Text.get_window_extent moves to the anchor's display position
    layout: Bbox = get_layout(renderer)[0]
    return layout


def _scale_length(width_m: float) -> float:
    """Return a round length (1, 2, 2.5 or 5 × 10^k metres) near a quarter of ``width_m``."""
    target = width_m / 4
    exponent = math.floor(math.log10(target))
    options = [s * 10**e for e in (exponent - 1, exponent) for s in _SCALE_STEPS]
    return max(v for v in options if v <= target)


@dataclass
class Furniture:
    """The scale bar and north arrow drawn on a map, with the boxes they take (display)."""

    scale_m: float
    boxes: list[Bbox] = field(default_factory=list)
    corner: str = ""


def _draw_scale_and_north(
    ax: Axes, x: float, y: float, length: float, height: float, arrow: float
) -> list[Any]:
    """Draw a two-segment scale bar from (x, y) and a north arrow to its right."""
    from matplotlib.patches import Polygon, Rectangle

    artists: list[Any] = []
    half = length / 2
    for k in range(2):
        artists.append(
            ax.add_patch(
                Rectangle(
                    (x + k * half, y),
                    half,
                    height,
                    facecolor="#222222" if k == 0 else "white",
                    edgecolor="#222222",
                    linewidth=0.8,
                    zorder=7,
                    gid="escala",
                )
            )
        )
    label = (
        f"{num(length / 1000, 1 if length % 1000 else 0)} km"
        if length >= 1000
        else f"{num(length)} m"
    )
    for value, text in ((0.0, "0"), (length, label)):
        artists.append(
            ax.text(
                x + value,
                y + height * 1.6,
                text,
                ha="center",
                va="bottom",
                fontsize=7,
                zorder=7,
                gid="escala",
            )
        )
    ax_x = x + length + arrow * 1.2
    artists.append(
        ax.add_patch(
            Polygon(
                [
                    (ax_x - arrow / 3, y),
                    (ax_x, y + arrow),
                    (ax_x + arrow / 3, y),
                    (ax_x, y + arrow / 4),
                ],
                closed=True,
                facecolor="#222222",
                edgecolor="#222222",
                zorder=7,
                gid="norte",
            )
        )
    )
    artists.append(
        ax.text(
            ax_x,
            y + arrow * 1.05,
            "N",
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            zorder=7,
            gid="norte",
        )
    )
    return artists


def add_scale_and_north(ax: Axes, territory: BaseGeometry, renderer: RendererBase) -> Furniture:
    """Draw the scale bar and north arrow in the first map corner without territory.

    Parameters
    ----------
    ax
        Map axes in metres (a projected CRS), with their final limits.
    territory
        Union of the drawn units (data coordinates).
    renderer
        The figure's renderer.

    Returns
    -------
    Furniture
        The bar's length and the display boxes taken (for the labels to avoid).

    Notes
    -----
    Corners are tried bottom-left, bottom-right, top-left, top-right; when every corner
    holds territory, the map is widened downwards by the furniture's height and it goes to
    the bottom-left.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    length = _scale_length(width)
    bar = height * 0.008
    arrow = height * 0.045
    pad = width * 0.03
    block_w = length + arrow * 1.6
    block_h = arrow * 1.5
    from shapely.geometry import box

    corners = {
        "abajo-izquierda": (x0 + pad, y0 + pad),
        "abajo-derecha": (x1 - pad - block_w, y0 + pad),
        "arriba-izquierda": (x0 + pad, y1 - pad - block_h),
        "arriba-derecha": (x1 - pad - block_w, y1 - pad - block_h),
    }
    chosen = next(
        (
            (name, xy)
            for name, xy in corners.items()
            if not territory.intersects(box(xy[0], xy[1], xy[0] + block_w, xy[1] + block_h))
        ),
        None,
    )
    if chosen is None:
        # widen the map downwards, keeping its scale equal and its box unchanged
        extra = block_h + 2 * pad
        new_width = (height + extra) * width / height
        centre = (x0 + x1) / 2
        ax.set_ylim(y0 - extra, y1)
        ax.set_xlim(centre - new_width / 2, centre + new_width / 2)
        chosen = ("abajo-izquierda (margen)", (centre - new_width / 2 + pad, y0 - extra + pad))
    name, (x, y) = chosen
    artists = _draw_scale_and_north(ax, x, y, length, bar, arrow)
    boxes = [a.get_window_extent(renderer) for a in artists]
    return Furniture(scale_m=length, boxes=boxes, corner=name)


# -- the document map ------------------------------------------------------------------------


#: Characters per line of the side panel.
_PANEL_WIDTH: Final = 46


def _stability_text(value: float) -> str:
    return "" if value != value else f", estab. {stability_percent(value)} %"


Block = tuple[str, bool]


def _panel_blocks(
    result: PriorityResult, frame: gpd.GeoDataFrame, level: str
) -> tuple[list[Block], list[Block], int]:
    """Return the text beside the map: (head, one block per listed unit, how to read it).

    Blocks are (paragraph, bold) pairs; the third item is the number of units listed.
    """
    unit = _unit_word(level)
    plural = "Provincias" if level == "provincia" else "Distritos"
    rows = result.level(level)
    rows = rows[(rows["objetivo"] == frame["objetivo"].iloc[0]) & rows["con_datos"].astype(bool)]
    listed = rows[(rows["nivel"] != LEVEL_NONE) | rows["incierto"].astype(bool)]
    listed = listed[(listed["nivel"] != LEVEL_NONE) | listed["nivel_alternativo"].notna()]
    head: list[Block] = [(f"{plural} con nivel o nivel incierto ({len(listed)})", True)]
    if rows["n"].sum() == 0:
        head.append(("Sin denuncias en el periodo.", False))
    elif listed.empty:
        nobody = "Ninguna provincia" if level == "provincia" else "Ningún distrito"
        head.append((f"{nobody} alcanza un nivel de prioridad.", False))
    if len(rows) == 1:
        alone = (
            "Una sola provincia con datos: no hay con qué compararla."
            if level == "provincia"
            else "Un solo distrito con datos: no hay con qué compararlo."
        )
        head.append((alone, False))
    units: list[Block] = []
    for i, row in enumerate(listed.itertuples(index=False)):
        level_text = LEVEL_TEXT.get(row.nivel_publicado, str(row.nivel_publicado))
        title = f"{_letter(i)}. {getattr(row, unit)}: {level_text}"
        figures = (
            f"{num(float(row.n))} den., tasa {num(float(row.tasa), 1)}"
            f"{_stability_text(float(row.estabilidad))}"
        )
        wrapped = textwrap.wrap(title, _PANEL_WIDTH, subsequent_indent="    ")
        wrapped += textwrap.wrap(figures, _PANEL_WIDTH, initial_indent="    ")
        units.append(("\n".join(wrapped), False))
    rules = [
        f"Tasa: denuncias por 100 000 habitantes. {SMOOTHING_SENTENCE}",
        f"Rayado: {_uncertain_rule(result)}.",
    ]
    if (~frame["con_datos"].astype(bool)).any():
        rules.append(f"Punteado: {NO_DATA}; ninguna fuente cubre la unidad y no se ordena.")
    reading: list[Block] = [("Cómo leer el mapa", True)]
    reading += [("\n".join(textwrap.wrap(text, _PANEL_WIDTH)), False) for text in rules]
    return head + units, reading, len(units)


def _panel_text(panel: Axes, text: str, bold: bool, y: float) -> Text:
    return panel.text(
        0.0,
        y,
        text,
        va="top",
        ha="left",
        fontsize=7.5 if bold else 6.8,
        fontweight="bold" if bold else "normal",
        linespacing=1.25,
        transform=panel.transAxes,
    )


def _draw_panel(
    panel: Axes,
    listing: Sequence[Block],
    reading: Sequence[Block],
    listed: int,
    top: float,
    renderer: RendererBase,
) -> None:
    """Write the list down the panel from ``top`` and the reading notes at its foot.

    Units that do not fit above the notes are summed up in one line ("… y 5 más").
    """
    inverse = panel.transAxes.inverted()

    def height(blocks: Sequence[Block]) -> float:
        total = 0.0
        for text, bold in blocks:
            artist = _panel_text(panel, text, bold, 1.0)
            box = artist.get_window_extent(renderer).transformed(inverse)
            artist.remove()
            total += box.height + (0.006 if bold else 0.012)
        return total

    floor = height(reading)
    y = top
    more = "… y {} más (vea la tabla)."
    reserve = height([(more.format(999), False)])
    heads = len(listing) - listed
    for index, (text, bold) in enumerate(listing):
        artist = _panel_text(panel, text, bold, y)
        box = artist.get_window_extent(renderer).transformed(inverse)
        last = index == len(listing) - 1
        if box.y0 < floor + (0.0 if last else reserve):
            artist.remove()
            _panel_text(panel, more.format(len(listing) - max(index, heads)), False, y)
            break
        y = box.y0 - (0.006 if bold else 0.012)
    y = floor
    for text, bold in reading:
        artist = _panel_text(panel, text, bold, y)
        box = artist.get_window_extent(renderer).transformed(inverse)
        y = box.y0 - (0.006 if bold else 0.012)


def priority_figure(
    result: PriorityResult, *, level: str = "provincia", target: str
) -> tuple[Figure, MapLayout]:
    """Draw one target's document map (A4) and return it with what was placed on it.

    Parameters
    ----------
    result
        Output of :func:`parsc_geo.priority.compute_priority`.
    level
        ``"provincia"`` or ``"distrito"``.
    target
        Fenómeno code or modalidad target id.

    Returns
    -------
    figure, layout
        A matplotlib figure (not managed by pyplot: save it, then let it go) and the
        :class:`MapLayout` of its map: axes, names written, scale bar and north arrow.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from ..projection import to_metric
    from ..reports.pdf import RC_PARAMS

    frame = to_metric(map_frame(result, level, target))
    name = str(frame["objetivo_nombre"].iloc[0])
    unit = _unit_word(level)
    minx, miny, maxx, maxy = frame.total_bounds
    wide = (maxx - minx) > (maxy - miny) * 1.15
    size = (_A4[1], _A4[0]) if wide else _A4
    # names as plain text, never mathtext; thin hatches that leave names readable
    with mpl.rc_context({**RC_PARAMS, "hatch.linewidth": 0.6}):
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        map_box = (0.02, 0.1, 0.62, 0.76) if not wide else (0.02, 0.1, 0.64, 0.72)
        ax = fig.add_axes(map_box)
        panel_left = map_box[0] + map_box[2] + 0.02
        panel = fig.add_axes((panel_left, 0.1, 0.98 - panel_left, map_box[3]))
        panel.set_axis_off()
        _fit_limits(ax, fig, (minx, miny, maxx, maxy))
        covered = frame["con_datos"].astype(bool)
        uncertain = frame["incierto"].astype(bool) & covered
        line = 0.6 if level == "provincia" else 0.3
        _draw_polygons(
            ax,
            frame.geometry[covered],
            facecolors=frame.loc[covered, "nivel"].map(LEVEL_COLORS).tolist(),
            edgecolor="#555555",
            linewidth=line,
        )
        dark = (frame["nivel"] == LEVEL_ALTA).to_numpy()
        for subset, colour in ((uncertain & ~dark, "#4d4d4d"), (uncertain & dark, "#ffffff")):
            # a light hatch on the darkest fill, a dark one elsewhere
            if subset.any():
                _draw_polygons(
                    ax,
                    frame.geometry[subset],
                    facecolors="none",
                    edgecolor=colour,
                    linewidth=0,
                    hatch=UNCERTAIN_HATCH,
                )
        if (~covered).any():
            _draw_polygons(
                ax,
                frame.geometry[~covered],
                facecolors=NO_DATA_COLOR,
                edgecolor="#999999",
                linewidth=line,
                hatch=NO_DATA_HATCH,
            )
        if level == "distrito":
            from ..boundaries import load_provinces

            provinces = sorted({str(c)[:4] for c in frame["codigo"]})
            outlines = load_provinces(prefix=provinces).to_crs(frame.crs).geometry
            _draw_polygons(ax, outlines, facecolors="none", edgecolor="#333333", linewidth=0.9)
        ax.set_axis_off()
        _fit_limits(ax, fig, (minx, miny, maxx, maxy))
        territory = _territory(frame.geometry)
        furniture = add_scale_and_north(ax, territory, renderer)
        order = frame.assign(
            _rank=frame["nivel"].map({LEVEL_ALTA: 0, LEVEL_PRIORIDAD: 1, LEVEL_NONE: 2}),
            _area=frame.geometry.area,
        ).sort_values(["_rank", "_area"], ascending=[True, False], kind="stable")
        sizes = (7.5, 6.5, 5.5) if level == "provincia" else (6.0, 5.0)
        requests = [
            LabelRequest(
                str(row[unit]),
                row.geometry,
                str(row["codigo"]),
                sizes,
                may_cross=bool(row["con_datos"]) and row["nivel"] != LEVEL_NONE,
            )
            for _, row in order.iterrows()
        ]
        labels = place_labels(ax, requests, renderer, avoid=furniture.boxes)
        # legend and lists beside the map, never over it
        counts = frame.loc[covered, "nivel"].value_counts()
        handles = [
            Patch(
                facecolor=LEVEL_COLORS[lv],
                edgecolor="#555555",
                label=f"{LEVEL_LABELS_ES[lv]} ({int(counts.get(lv, 0))})",
            )
            for lv in LEVEL_COLORS
        ]
        if uncertain.any() or int(result.parameters.get("n_boot", 0)) > 0:
            handles.append(
                Patch(
                    facecolor="white",
                    edgecolor="#333333",
                    hatch=UNCERTAIN_HATCH,
                    label=f"Nivel incierto ({int(uncertain.sum())})",
                )
            )
        if (~covered).any():
            handles.append(
                Patch(
                    facecolor=NO_DATA_COLOR,
                    edgecolor="#999999",
                    hatch=NO_DATA_HATCH,
                    label=f"{NO_DATA.capitalize()} ({int((~covered).sum())})",
                )
            )
        legend = panel.legend(
            handles=handles,
            title="Nivel de prioridad",
            loc="upper left",
            bbox_to_anchor=(0.0, 1.0),
            fontsize=8,
            title_fontsize=9,
            frameon=False,
            alignment="left",
        )
        legend_box = legend.get_window_extent(renderer).transformed(panel.transAxes.inverted())
        listing, reading, listed = _panel_blocks(result, frame, level)
        _draw_panel(panel, listing, reading, listed, legend_box.y0 - 0.03, renderer)
        top = 0.975
        if result.synthetic:
            fig.text(
                0.5,
                top,
                settings.SYNTHETIC_BANNER,
                ha="center",
                va="top",
                fontsize=11,
                fontweight="bold",
                color="white",
                bbox={"facecolor": "#c00000", "edgecolor": "none", "pad": 4},
            )
            top -= 0.035
        fig.text(
            0.5,
            top,
            f"Territorios de intervención prioritaria — {name}",
            ha="center",
            va="top",
            fontsize=12 if len(name) < 45 else 10,
            fontweight="bold",
        )
        fig.text(
            0.5,
            top - 0.028,
            f"{region_name(result)}, por {unit} — {period_text(result)}",
            ha="center",
            va="top",
            fontsize=9,
        )
        footer = textwrap.wrap(source_text(result), 150 if wide else 110)
        fig.text(0.02, 0.015, "\n".join(footer), fontsize=6, color="#444444", va="bottom")
    layout = MapLayout(ax=ax, panel=panel, labels=labels, furniture=furniture, frame=frame)
    return fig, layout


#: Unions of map frames' polygons by the SHA-256 of their WKB (the maps of one level show the
#: same units for every target).
_TERRITORIES: dict[bytes, BaseGeometry] = {}


def _territory(geometries: gpd.GeoSeries) -> BaseGeometry:
    """Return the union of ``geometries``, computed once for the same polygons in the same order."""
    import hashlib

    import shapely

    key = hashlib.sha256(b"".join(shapely.to_wkb(geometries.to_numpy()))).digest()
    territory = _TERRITORIES.get(key)
    if territory is None:
        if len(_TERRITORIES) >= 64:
            _TERRITORIES.clear()
        territory = _TERRITORIES[key] = geometries.union_all()
    return territory


@dataclass
class MapLayout:
    """What :func:`priority_figure` placed on its map (for checks and tests)."""

    ax: Axes
    panel: Axes
    labels: list[Text]
    furniture: Furniture
    frame: gpd.GeoDataFrame


def _draw_polygons(
    ax: Axes,
    geometries: gpd.GeoSeries,
    *,
    facecolors: str | list[str],
    edgecolor: str,
    linewidth: float,
    hatch: str | None = None,
) -> None:
    """Draw polygons as one collection (geopandas' plot redraws the whole figure each time)."""
    import numpy as np
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as MplPath

    def rings(geometry: BaseGeometry) -> list[MplPath]:
        parts = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
        paths = []
        for part in parts:
            for ring in [part.exterior, *part.interiors]:
                paths.append(MplPath(np.asarray(ring.coords)[:, :2], closed=True))
        return paths

    paths = [MplPath.make_compound_path(*rings(g)) for g in geometries if not g.is_empty]
    collection = PathCollection(
        paths,
        facecolors=facecolors,
        edgecolors=edgecolor,
        linewidths=linewidth,
        hatch=hatch,
        zorder=2,
    )
    ax.add_collection(collection, autolim=False)


def _fit_limits(ax: Axes, fig: Figure, bounds: tuple[float, float, float, float]) -> None:
    """Set equal-scale limits that fill the axes box, with the territory centred."""
    minx, miny, maxx, maxy = bounds
    box = ax.get_position()
    fig_w, fig_h = fig.get_size_inches()
    box_ratio = (box.width * fig_w) / (box.height * fig_h)
    margin = 0.03
    w = (maxx - minx) * (1 + 2 * margin)
    h = (maxy - miny) * (1 + 2 * margin)
    if w / h < box_ratio:
        w = h * box_ratio
    else:
        h = w / box_ratio
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")


def write_priority_map_png(
    result: PriorityResult,
    path: str | os.PathLike[str],
    *,
    level: str = "provincia",
    target: str,
    overwrite: bool = False,
    dpi: int = 150,
) -> Path:
    """Write the document map of one target's levels as a PNG (see :func:`priority_figure`).

    Parameters
    ----------
    result, level, target, overwrite
        As for :func:`write_priority_map_html`.
    path
        Output ``.png`` file.
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
    """
    from .._atomic import atomic_path
    from ..reports.pdf import PNG_SAVE_OPTIONS

    fig, _ = priority_figure(result, level=level, target=target)
    with atomic_path(Path(path), overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", pil_kwargs=dict(PNG_SAVE_OPTIONS))
    return Path(path)


def write_priority_documents(
    result: PriorityResult,
    maps: Sequence[tuple[str, str, Path]],
    pdf_path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    dpi: int = 150,
    workers: WorkerPool | int = 1,
) -> list[Path]:
    """Write each document map as a PNG and all of them as the pages of one PDF.

    Each figure is drawn once for both files.

    Parameters
    ----------
    result
        Output of :func:`parsc_geo.priority.compute_priority`.
    maps
        ``(level, target, png_path)`` of each map, in page order.
    pdf_path
        Output ``.pdf`` file.
    overwrite
        Replace existing files.
    dpi
        Resolution of the PNGs.
    workers
        A :class:`parsc_geo.parallel.WorkerPool` or a number of processes that draw the maps
        (1: one after the other); the files do not depend on it.

    Returns
    -------
    list of pathlib.Path
        The PNGs, then the PDF.
    """
    from ..parallel import worker_pool

    with worker_pool(workers) as pool:
        pending = start_priority_documents(
            pool, result, maps, pdf_path, overwrite=overwrite, dpi=dpi
        )
        return pending.results()


def start_priority_documents(
    pool: WorkerPool,
    result: PriorityResult,
    maps: Sequence[tuple[str, str, Path]],
    pdf_path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    dpi: int = 150,
) -> Pending[Path]:
    """Start drawing the document maps in ``pool`` and return at once.

    The workers draw each figure and save its PNG; :meth:`~parsc_geo.parallel.Pending.results`
    waits for them, saves the same figures as the pages of the PDF (a worker's task,
    :func:`start_priority_maps_pdf`) and returns the PNGs, then the PDF — what
    :func:`write_priority_documents` returns. The caller writes other files meanwhile.
    """
    from ..parallel import Pending

    drawing = start_priority_figures(pool, result, maps, overwrite=overwrite, dpi=dpi)

    def finish() -> list[Path]:
        saving = start_priority_maps_pdf(
            pool, result, drawing.results(), Path(pdf_path), overwrite=overwrite
        )
        return [Path(png) for *_, png in maps] + saving.results()

    return Pending(finish)


def start_priority_figures(
    pool: WorkerPool,
    result: PriorityResult,
    maps: Sequence[tuple[str, str, Path]],
    *,
    overwrite: bool = False,
    dpi: int = 150,
) -> Pending[bytes]:
    """Start drawing the document maps in ``pool``, each saved as its PNG; return at once.

    :meth:`~parsc_geo.parallel.Pending.results` waits for the PNGs and returns the figures,
    pickled, in the order of ``maps``, for the pages of the PDF
    (:func:`save_priority_maps_pdf`): the process that collects them need not load
    matplotlib (0.35 s) nor rebuild the figures it only hands on.
    """
    tasks = [(result, level, target, Path(png), dpi, overwrite) for level, target, png in maps]
    return pool.start(_document_map, tasks)


def _document_map(task: tuple[PriorityResult, str, str, Path, int, bool]) -> bytes:
    """Draw one document map, save its PNG and return the figure pickled (a pool task)."""
    import pickle

    from .._atomic import atomic_path
    from ..reports.pdf import PNG_SAVE_OPTIONS

    result, level, target, png, dpi, overwrite = task
    fig, _ = priority_figure(result, level=level, target=target)
    with atomic_path(png, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", pil_kwargs=dict(PNG_SAVE_OPTIONS))
    return pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)


def save_priority_maps_pdf(
    result: PriorityResult, figures: Sequence[Figure | bytes], path: Path, *, overwrite: bool
) -> Path:
    """Save drawn document maps (:func:`start_priority_figures`) as the pages of one PDF."""
    return _save_maps_pdf((list(figures), path, *_pdf_labels(result), overwrite))


def start_priority_maps_pdf(
    pool: WorkerPool,
    result: PriorityResult,
    figures: Sequence[Figure | bytes],
    path: Path,
    *,
    overwrite: bool,
) -> Pending[Path]:
    """Start saving drawn document maps as the pages of one PDF in ``pool``; return at once.

    The PDF is written by a worker when one is free (a background task of the pool, see
    :meth:`~parsc_geo.parallel.WorkerPool.start`), by this process when the pool has one
    worker; :meth:`~parsc_geo.parallel.Pending.results` waits for it and returns ``[path]``.
    The file is the one :func:`save_priority_maps_pdf` writes.
    """
    task = (list(figures), Path(path), *_pdf_labels(result), overwrite)
    return pool.start(_save_maps_pdf, [task], background=True)


def _pdf_labels(result: PriorityResult) -> tuple[str, dt.datetime]:
    """Return the title and the date of the document maps' PDF."""
    from ..reports.pdf import metadata_date

    last_day = None
    if result.period is not None:
        import calendar

        year, month = divmod(result.period.end, 12)
        last_day = f"{year}-{month + 1:02d}-{calendar.monthrange(year, month + 1)[1]:02d}"
    title = f"Territorios de intervención prioritaria — {region_name(result)}"
    return title, metadata_date(last_day)


def _save_maps_pdf(task: tuple[list[Figure | bytes], Path, str, dt.datetime, bool]) -> Path:
    """Save the figures (or pickled figures) as the pages of one PDF (a pool task)."""
    import pickle

    from ..reports.pdf import save_pdf

    pages, path, title, date, overwrite = task
    # our own workers pickled them (start_priority_figures)
    figures = [pickle.loads(page) if isinstance(page, bytes) else page for page in pages]
    return save_pdf(figures, path, title=title, date=date, overwrite=overwrite)


def write_priority_maps_pdf(
    result: PriorityResult,
    path: str | os.PathLike[str],
    *,
    maps: Sequence[tuple[str, str]],
    overwrite: bool = False,
) -> Path:
    """Write the document maps as the pages of one PDF, in the order of ``maps``.

    Parameters
    ----------
    result
        Output of :func:`parsc_geo.priority.compute_priority`.
    path
        Output ``.pdf`` file.
    maps
        ``(level, target)`` of each page.
    overwrite
        Replace an existing file.
    """
    figures = [priority_figure(result, level=lv, target=t)[0] for lv, t in maps]
    return save_priority_maps_pdf(result, figures, Path(path), overwrite=overwrite)
