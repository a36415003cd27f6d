"""The parsc-geo look in QGIS: one style per kind of layer, with the HTML atlas's colours.

Each layer kind (:data:`KINDS`) has a Spanish group, the fields its style needs and a builder
that turns what was read from the data (:class:`LayerData`: the categories present, class
breaks, the raster's range) into a ``.qml`` style tree (see :mod:`parsc_geo.reports.qgis_styles`).
Colours are those of the atlas (:mod:`parsc_geo.maps.layers`) and of the priority maps, so an
analyst sees in QGIS what the HTML pages show.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from .qgis_styles import (
    Category,
    LabelStyle,
    RampStop,
    Range,
    categorized_renderer,
    fill_symbol,
    graduated_renderer,
    marker_symbol,
    pseudocolor_pipe,
    raster_style,
    single_renderer,
    vector_style,
)

#: Groups of the layer tree, top to bottom: the atlas draws them in the reverse order, so the
#: points lie over the zones, the zones over the boundaries, and the density underneath.
GROUPS: Final[tuple[str, ...]] = (
    "Incidentes",
    "Policía",
    "Zonas críticas",
    "Patrullaje",
    "Sectorización de la comisaría",
    "Getis-Ord Gi*",
    "Prioridad territorial",
    "Límites (INEI)",
    "Densidad kernel (incidentes/km²)",
)

#: Colours of incidents by fenómeno (Okabe–Ito, readable by colour-blind people).
FENOMENO_COLORS: Final[dict[str, str]] = {
    "violencia_mujer": "#CC79A7",
    "muertes_violentas": "#D55E00",
    "patrimonio_espacio_publico": "#E69F00",
    "bandas_criminales": "#0072B2",
    "otros": "#999999",
}

#: Unit of density rasters, as the legend shows it.
DENSITY_UNIT: Final = "incidentes/km²"

#: Values below this fraction of a density raster's maximum are transparent, as in the atlas.
DENSITY_TRANSPARENT_FRACTION: Final = 0.02

#: Largest number of classes of a graduated layer (fewer when the data has fewer distinct values).
MAX_CLASSES: Final = 5

#: Rank badges of zones show from this scale (1:n) inward: at the scale of a region every
#: province's "1" would crowd the map.
ZONE_LABEL_SCALE: Final = 500_000

#: Purples (ColorBrewer) for incidents per subsector, light to dark.
SUBSECTOR_COLORS: Final[tuple[str, ...]] = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")


@dataclass
class LayerData:
    """What a style needs to know about its layer's data.

    Attributes
    ----------
    fields
        Field names of a vector layer (empty for rasters).
    features
        Number of features (after the layer's filter).
    values
        For a categorized style: field → distinct values present with their counts.
    numbers
        For a graduated style: the values of its numeric field.
    minimum, maximum
        For a raster: the smallest and largest finite values of band 1.
    """

    fields: list[str] = field(default_factory=list)
    features: int = 0
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    numbers: list[float] = field(default_factory=list)
    minimum: float = math.nan
    maximum: float = math.nan


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def _fmt(value: float, digits: int = 1) -> str:
    """Return a number for a legend: Spanish thousands (non-breaking space), trailing zeros cut."""
    text = f"{value:,.{digits}f}".replace(",", "\u00a0")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def quote_field(name: str) -> str:
    """Return a field reference for a QGIS expression (double quotes, inner quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def map_tip(rows: Sequence[tuple[str, str]], title: str | None = None) -> str:
    """Return a QGIS map-tip template: a small table of ``(label, field)`` rows.

    The template holds field references (``[% "campo" %]``), never data values, so that values
    reach the map tip through QGIS's own expression engine.
    """
    cells = "".join(
        f"<tr><th>{label}</th><td>[% {quote_field(name)} %]</td></tr>" for label, name in rows
    )
    head = f"<b>[% {quote_field(title)} %]</b>" if title else ""
    return f"{head}<table>{cells}</table>"


# -- styles per kind ---------------------------------------------------------------------------


def _incidents(data: LayerData) -> ET.Element:
    from ..schema import FENOMENOS

    present = data.values.get("fenomeno", {})
    known = [f for f in FENOMENOS if f in present]
    extra = sorted(v for v in present if v not in FENOMENOS)
    categories = [
        Category(
            code,
            f"{FENOMENOS.get(code, code)} ({_count(present[code])})",
            marker_symbol(
                "",
                FENOMENO_COLORS.get(code, "#999999"),
                size=1.4 if code == "otros" else 1.8,
                outline="#ffffff",
                outline_width=0.15,
            ),
        )
        for code in [*known, *extra]
    ]
    tip = map_tip(
        [
            ("Fecha y hora", "occurred_at"),
            ("Delito específico", "delito_especifico"),
            ("Modalidad", "modalidad"),
            ("Distrito", "distrito"),
            ("Comisaría", "comisaria"),
            ("Sector", "sector"),
        ],
        title="incident_id",
    )
    return vector_style(
        categorized_renderer("fenomeno", categories),
        temporal_field="occurred_at" if "occurred_at" in data.fields else None,
        map_tip=tip,
        display_field="incident_id",
    )


def _stations(data: LayerData) -> ET.Element:
    name = "nombre_mostrado" if "nombre_mostrado" in data.fields else "nombre"
    return vector_style(
        single_renderer(marker_symbol("", "#08306b", size=2.6, outline_width=0.4)),
        map_tip=map_tip(
            [
                ("Tipo", "tipo_dependencia"),
                ("Distrito", "distrito"),
                ("Efectivos asignados", "efectivos_asignados_total"),
            ],
            title=name,
        ),
        display_field=name,
    )


def _zones(method: str) -> Callable[[LayerData], ET.Element]:
    def build(data: LayerData) -> ET.Element:
        from ..maps.layers import METHOD_COLORS

        hue = METHOD_COLORS[method]
        return vector_style(
            single_renderer(fill_symbol("", hue, fill_alpha=0.18, outline=hue, outline_width=0.66)),
            labels=LabelStyle(
                "rank",
                size=8,
                color="#ffffff",
                bold=True,
                buffer=None,
                badge=hue,
                max_scale=ZONE_LABEL_SCALE,
            ),
            map_tip=map_tip(
                [
                    ("Rango", "rank"),
                    ("Incidentes", "n"),
                    ("Daño ponderado", "harm"),
                    ("Área (km²)", "area_km2"),
                    ("Densidad (incidentes/km²)", "density"),
                    ("Modalidades principales", "top_modalidades"),
                    ("Horas pico", "peak_hours"),
                    ("Días pico", "peak_days"),
                    ("Comisaría", "comisaria"),
                    ("Sector", "sector"),
                ],
                title="hotspot_id",
            ),
            display_field="hotspot_id",
        )

    return build


def _critical_points(data: LayerData) -> ET.Element:
    return vector_style(
        single_renderer(
            fill_symbol("", "#b2182b", fill_alpha=0.35, outline="#67000d", outline_width=0.5)
        ),
        labels=LabelStyle(
            "rango",
            size=8,
            color="#b2182b",
            bold=True,
            buffer=None,
            badge="#ffffff",
            badge_border="#b2182b",
            max_scale=ZONE_LABEL_SCALE,
        ),
        map_tip=map_tip(
            [
                ("Comisaría", "comisaria"),
                ("Sector", "sector"),
                ("Subsector", "subsector"),
                ("Rango en el sector", "rango"),
                ("Incidentes", "n"),
                ("Modalidades", "modalidades"),
                ("Horas pico", "horas_pico"),
                ("Días pico", "dias_pico"),
                ("Orden de visita", "orden_visita"),
            ],
            title="punto_id",
        ),
        display_field="punto_id",
    )


def _sectors(data: LayerData) -> ET.Element:
    return vector_style(
        single_renderer(fill_symbol("", None, outline="#3f007d", outline_width=0.8)),
        labels=LabelStyle("sector", size=10, color="#3f007d", bold=True),
        map_tip=map_tip([("Comisaría", "comisaria"), ("Incidentes", "n")], title="sector"),
        display_field="sector",
    )


def class_breaks(values: Sequence[float], k: int = MAX_CLASSES) -> list[float]:
    """Return the upper bounds of up to ``k`` quantile classes of ``values`` (distinct, sorted).

    The last bound is the maximum; ties collapse classes, so few distinct values give few
    classes. Empty input gives no classes.

    Examples
    --------
    >>> class_breaks([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], k=5)
    [1.8, 3.6, 5.4, 7.2, 9.0]
    >>> class_breaks([3, 3, 3])
    [3.0]
    """
    import numpy as np

    finite = np.asarray([v for v in values if math.isfinite(v)], dtype="float64")
    if not finite.size:
        return []
    cuts = np.quantile(finite, np.linspace(0, 1, k + 1)[1:])
    return sorted({round(float(c), 6) for c in cuts})


def _subsectors(data: LayerData) -> ET.Element:
    labels = LabelStyle("subsector", size=7.5, color="#54278f")
    tip = map_tip([("Comisaría", "comisaria"), ("Sector", "sector")], title="subsector")
    breaks = class_breaks(data.numbers) if "n" in data.fields else []
    if not breaks:
        return vector_style(
            single_renderer(
                fill_symbol("", "#bcbddc", fill_alpha=0.12, outline="#807dba", outline_width=0.3)
            ),
            labels=labels,
            map_tip=tip,
            display_field="subsector",
        )
    top = len(SUBSECTOR_COLORS) - 1
    lower = min(v for v in data.numbers if math.isfinite(v))
    ranges = []
    for i, upper in enumerate(breaks):
        # classes spread over the whole ramp; a single class takes its darkest colour
        colour = SUBSECTOR_COLORS[round(i * top / (len(breaks) - 1)) if len(breaks) > 1 else top]
        ranges.append(
            Range(
                lower,
                upper,
                f"{_fmt(lower, 0)} – {_fmt(upper, 0)} incidentes",
                # light enough to leave the density raster underneath readable
                fill_symbol("", colour, fill_alpha=0.2, outline="#807dba", outline_width=0.3),
            )
        )
        lower = upper
    return vector_style(
        graduated_renderer("n", ranges, method="Quantile"),
        labels=LabelStyle(
            f"{quote_field('subsector')} || ': ' || {quote_field('n')}",
            expression=True,
            size=7.5,
            color="#3f007d",
        ),
        map_tip=map_tip(
            [("Comisaría", "comisaria"), ("Sector", "sector"), ("Incidentes", "n")],
            title="subsector",
        ),
        display_field="subsector",
    )


def _gistar(data: LayerData) -> ET.Element:
    from ..maps.layers import GI_CLASSES

    present = data.values.get("gi_class", {})
    categories = [
        Category(
            code,
            f"{label} ({_count(present[code])})",
            fill_symbol("", hue, fill_alpha=0.4, outline=hue, outline_width=0.13),
        )
        for code, (label, hue) in GI_CLASSES.items()
        if code in present
    ]
    return vector_style(
        categorized_renderer("gi_class", categories),
        map_tip=map_tip(
            [
                ("Incidentes en la celda", "n"),
                ("z de Gi*", "gi_z"),
                ("p", "gi_p"),
                ("p ajustado (FDR)", "gi_p_fdr"),
            ],
            title="hotspot_id",
        ),
        display_field="hotspot_id",
    )


def _priority(data: LayerData) -> ET.Element:
    from ..labels_es import PRIORITY_LEVELS as LEVEL_LABELS_ES
    from ..priority.outputs import LEVEL_COLORS

    present = data.values.get("nivel", {})
    order = [lv for lv in LEVEL_COLORS if lv in present]
    order += sorted(v for v in present if v not in LEVEL_COLORS)
    categories = [
        Category(
            level,
            f"{LEVEL_LABELS_ES.get(level, level)} ({_count(present[level])})",
            fill_symbol(
                "",
                LEVEL_COLORS.get(level, "#bdbdbd"),
                fill_alpha=0.75,
                outline="#555555",
                outline_width=0.26,
            ),
        )
        for level in order
    ]
    return vector_style(
        categorized_renderer("nivel", categories),
        labels=LabelStyle("nombre", size=8, color="#222222"),
        map_tip=map_tip(
            [
                ("Nivel", "nivel_texto"),
                ("Denuncias", "n"),
                ("Tasa por 100 000 hab.", "tasa"),
                ("Tasa suavizada (Bayes empírico)", "tasa_eb"),
                ("Participación regional (%)", "participacion"),
                ("Estabilidad del nivel (%)", "estabilidad"),
                ("Motivo del nivel", "motivo"),
            ],
            title="nombre",
        ),
        display_field="nombre",
    )


def _provinces(data: LayerData) -> ET.Element:
    return vector_style(
        single_renderer(fill_symbol("", None, outline="#111111", outline_width=0.7)),
        labels=LabelStyle("provincia", size=10, color="#111111", bold=True),
        display_field="provincia",
    )


def _districts(data: LayerData) -> ET.Element:
    return vector_style(
        single_renderer(
            fill_symbol("", None, outline="#555555", outline_width=0.26, outline_style="dash")
        ),
        labels=LabelStyle("distrito", size=7, color="#555555"),
        display_field="distrito",
    )


def density_stops(minimum: float, maximum: float) -> list[RampStop]:
    """Return the atlas's density ramp spread evenly from ``minimum`` to ``maximum``.

    Examples
    --------
    >>> [s.value for s in density_stops(0.0, 60.0)]
    [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    """
    from ..maps.layers import DENSITY_COLORS

    top = len(DENSITY_COLORS) - 1
    span = maximum - minimum
    stops = []
    for i, hue in enumerate(DENSITY_COLORS):
        value = minimum + span * i / top
        stops.append(RampStop(value, hue, f"{_fmt(value)} {DENSITY_UNIT}"))
    return stops


def _density(data: LayerData) -> ET.Element:
    low = data.minimum if math.isfinite(data.minimum) else 0.0
    high = data.maximum if math.isfinite(data.maximum) and data.maximum > low else low + 1.0
    return raster_style(
        pseudocolor_pipe(
            density_stops(low, high),
            minimum=low,
            maximum=high,
            transparent_below=low + (high - low) * DENSITY_TRANSPARENT_FRACTION,
            suffix=f" {DENSITY_UNIT}",
        )
    )


@dataclass(frozen=True)
class Kind:
    """A kind of layer: its group, geometry, the fields it needs and its style builder.

    ``categories`` names the field whose distinct values the style lists, ``numbers`` the
    numeric field it classes; both are read from the data before the style is built.
    """

    group: str
    geometry: str
    build: Callable[[LayerData], ET.Element]
    required: tuple[str, ...] = ()
    categories: str | None = None
    numbers: str | None = None
    visible: bool = True


#: Every kind of layer the project knows, in the order of the layer tree.
KINDS: Final[dict[str, Kind]] = {
    "incidents": Kind("Incidentes", "point", _incidents, ("fenomeno",), categories="fenomeno"),
    "stations": Kind("Policía", "point", _stations),
    "kde": Kind("Zonas críticas", "polygon", _zones("kde"), ("rank",)),
    "hdbscan": Kind("Zonas críticas", "polygon", _zones("hdbscan"), ("rank",)),
    "dbscan": Kind("Zonas críticas", "polygon", _zones("dbscan"), ("rank",)),
    "critical_points": Kind("Patrullaje", "polygon", _critical_points, ("rango",)),
    "sectors": Kind("Sectorización de la comisaría", "polygon", _sectors, ("sector",)),
    "subsectors": Kind(
        "Sectorización de la comisaría", "polygon", _subsectors, ("subsector",), numbers="n"
    ),
    "gistar": Kind(
        "Getis-Ord Gi*", "polygon", _gistar, ("gi_class",), categories="gi_class", visible=False
    ),
    "priority": Kind(
        "Prioridad territorial",
        "polygon",
        _priority,
        ("nivel", "nombre"),
        categories="nivel",
        visible=False,
    ),
    "provinces": Kind("Límites (INEI)", "polygon", _provinces, ("provincia",)),
    "districts": Kind("Límites (INEI)", "polygon", _districts, ("distrito",)),
    "density": Kind("Densidad kernel (incidentes/km²)", "raster", _density),
}
