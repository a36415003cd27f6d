"""Building blocks of every parsc-geo map: the map, title block, banner, legends, colour bar.

These are public so that other map makers (the priority choropleths, the reports) share one
look. Every text passed here is HTML-escaped; every value that reaches JavaScript is JSON with
``<``, ``>`` and ``&`` escaped, so ``</script>`` in a label cannot close a script.

No data text is ever compiled as a template. branca renders an element's macros and then wraps
the output in ``Element(output)``, which compiles it *again* as Jinja source: a sector named
``{{ … }}`` would run Python while the map is built. Pages made here render through
:class:`ParscFigure`, where every macro element renders as :class:`SafeMacroElement` does
(its output inserted verbatim), and HTML blocks are :class:`Verbatim` elements; data reaches
the templates only as values (JSON, escaped HTML), never as their source.

Examples
--------
>>> from parsc_geo.maps import new_map, add_title_block, add_legend, write_map_html
>>> m = new_map(bounds=(-78.6, -7.2, -78.4, -7.1))  # doctest: +SKIP
>>> add_title_block(m, title="Incidentes", place="Cajamarca", period="2020",
...                 source="SIDPOL")  # doctest: +SKIP
>>> add_legend(m, "Delitos", [("#e41a1c", "Contra el patrimonio", 12)])  # doctest: +SKIP
>>> write_map_html(m, "maps/cajamarca.html")  # doctest: +SKIP

Pages load nothing from the network: they reference Leaflet and parsc-geo's runtime in a
``lib/`` folder written beside them (see :mod:`parsc_geo.maps.offline`), or inline them.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import html
import json
import os
import re
import secrets
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, cast

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from .. import settings
from .._atomic import write_text_atomic
from .._errors import ConfigError, OutputError
from . import offline as assets

#: Base tile layers a map may offer: Spanish name → (URL template, attribution).
TILES: dict[str, tuple[str, str]] = {
    "OpenStreetMap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; colaboradores de OpenStreetMap",
    ),
    "CartoDB claro": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
        "&copy; colaboradores de OpenStreetMap &copy; CARTO",
    ),
}


#: Deepest zoom level (street level; also needed by marker clustering without tiles).
MAX_ZOOM = 19
#: Zoom from which permanent labels (subsectors) show; below it they would cover the map.
LABEL_MIN_ZOOM = 15
#: Shallowest zoom level (a Peruvian region fills the screen; fewer levels to cluster).
MIN_ZOOM = 5


def esc(value: object) -> str:
    """Return ``value`` as HTML-escaped text (None becomes an empty string)."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def js_json(value: object) -> str:
    r"""Serialise ``value`` as JSON safe to embed inside a ``<script>`` element.

    ``<``, ``>``, ``&`` and the JavaScript line separators are written as ``\\uXXXX`` escapes,
    so no input text can end the script or open a comment.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


#: Integers written per piece by :func:`js_json_fields` (bounds the transient Python objects).
_INTS_PER_PIECE = 65_536


def _ints_json(values: Any) -> str:
    """Return ``json.dumps(list(values))`` of a 1-D integer array, piece by piece.

    ``values.tolist()`` of a million-row column holds a million Python integers at once; a
    piece of :data:`_INTS_PER_PIECE` holds only those. Integers are written as ``json`` writes
    them (``int.__repr__``).
    """
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        return js_json(array.tolist())
    pieces = [
        ",".join(map(str, array[i : i + _INTS_PER_PIECE].tolist()))
        for i in range(0, len(array), _INTS_PER_PIECE)
    ]
    return "[" + ",".join(pieces) + "]"


def js_json_fields(fields: Mapping[str, Any]) -> str:
    """Return :func:`js_json` of ``fields`` with numpy integer arrays written column-wise.

    The text is that of ``js_json({k: v.tolist() if ndarray else v})``: a JSON object is its
    keys and values joined by ``,`` and ``:`` (the separators of :func:`js_json`), and numbers
    hold none of the characters :func:`js_json` escapes. An incident layer of a million points
    carries a dozen such columns: as lists they would hold twelve million Python integers.
    """
    import numpy as np

    parts = [
        js_json(str(key))
        + ":"
        + (_ints_json(value) if isinstance(value, np.ndarray) else js_json(value))
        for key, value in fields.items()
    ]
    return "{" + ",".join(parts) + "}"


#: While :func:`render_map_html` renders a page, :class:`LargeJson` texts show as placeholders.
_DEFERRING: contextvars.ContextVar[bool] = contextvars.ContextVar("parsc_deferring", default=False)
#: The :class:`LargeJson` texts alive in this process, by placeholder.
_LARGE: weakref.WeakValueDictionary[str, LargeJson] = weakref.WeakValueDictionary()
_PLACEHOLDER = re.compile(r"\x00parsc-json-[0-9a-f]{32}\x00")


class LargeJson:
    """A large JSON text (a :func:`js_json` or :func:`js_json_fields` output) for a template.

    Rendered as the text itself, except inside :func:`render_map_html`, which renders the page
    with a placeholder in its place and puts the text in once, at the end: the template engine,
    the page's sections and their joins would each copy it (a million incidents make a JSON of
    tens of megabytes). The text must be a JSON object or array from :func:`js_json` (no ``<``):
    then splicing it in gives the very bytes of rendering it in place (see
    :func:`render_map_html`).
    """

    def __init__(self, text: str) -> None:
        if text[:1] not in ("{", "[") or text[-1:] not in ("}", "]") or "<" in text:
            raise ValueError("LargeJson takes a JSON object or array written by js_json")
        self.text = text
        self.placeholder = f"\x00parsc-json-{secrets.token_hex(16)}\x00"
        _LARGE[self.placeholder] = self

    def __str__(self) -> str:
        return self.placeholder if _DEFERRING.get() else self.text


class Verbatim(Element):
    """Markup inserted into the page as it is, never compiled as a template.

    Use it for any HTML that holds data text (already escaped with :func:`esc`).
    """

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.markup = str(markup)

    def render(self, **kwargs: Any) -> str:
        """Return the markup unchanged."""
        return self.markup


def _render_macros(element: MacroElement, **kwargs: Any) -> None:
    """Render ``element`` like branca's ``MacroElement.render``, without compiling its output.

    The ``header``, ``html`` and ``script`` macros are rendered once (data enters as template
    values) and their output is added to the page as :class:`Verbatim` text.
    """
    figure = _root(element)
    module = element._template.module
    for part, target in (
        ("header", figure.header),
        ("html", figure.html),
        ("script", figure.script),
    ):
        macro = module.__dict__.get(part)
        if macro is not None:
            target.add_child(Verbatim(str(macro(element, kwargs))), name=element.get_name())
    for child in list(element._children.values()):
        make_safe(child)
        child.render(**kwargs)


class SafeMacroElement(MacroElement):
    """A macro element whose rendered output is inserted verbatim (see the module notes)."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render the macros and the children without compiling any output again."""
        _render_macros(self, **kwargs)


_SAFE_CLASSES: dict[type, type] = {}


def make_safe(element: Element) -> None:
    """Make ``element`` and its descendants render without compiling their output again.

    A folium or branca macro element (``folium.GeoJson``, ``LayerControl``, ``FitBounds``, a
    plugin…) gets a subclass that also derives from :class:`SafeMacroElement`, placed before
    ``MacroElement`` in the method order: its own ``render`` still runs (adding links, children)
    and ends in the verbatim rendering instead of branca's.
    """
    stack = [element]
    while stack:
        el = stack.pop()
        cls = type(el)
        if isinstance(el, MacroElement) and not isinstance(el, SafeMacroElement):
            safe = _SAFE_CLASSES.get(cls)
            if safe is None:
                safe = type(cls.__name__, (cls, SafeMacroElement), {"__doc__": cls.__doc__})
                _SAFE_CLASSES[cls] = safe
            el.__class__ = safe
        stack.extend(el._children.values())
        if isinstance(el, Figure):
            stack.extend((el.header, el.html, el.script))


class ParscFigure(Figure):
    """The page of a parsc-geo map: renders every element safely (see :func:`make_safe`)."""

    def render(self, **kwargs: Any) -> str:
        """Return the page's HTML."""
        make_safe(self)
        return super().render(**kwargs)


class ParscMap(folium.Map):
    """A folium map that loads only Leaflet and parsc-geo's runtime, from ``lib/``.

    No jQuery, Bootstrap nor icon fonts; no CDN: the page works from a disk with no network.
    The map lives in a :class:`ParscFigure`, so no data text is compiled as a template.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ParscFigure().add_child(self)
        self.default_js = [
            (assets.LEAFLET_JS.key, assets.LEAFLET_JS.href),
            ("parsc_runtime", assets.RUNTIME_JS_HREF),
        ]
        self.default_css = [
            (assets.LEAFLET_CSS.key, assets.LEAFLET_CSS.href),
            ("parsc_runtime_css", assets.RUNTIME_CSS_HREF),
        ]


class _Runtime(SafeMacroElement):
    """Scale bar, fullscreen button and page layout of parsc-geo's runtime (``lib/``).

    The layout folds panels on phones, keeps the layer list behind its button on screens
    narrower than the runtime's ``collapseWidth`` (1,600 px) and fits the map to ``fit`` in
    the room the open panels leave.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        new parscGeo.Fullscreen().addTo({{ this._parent.get_name() }});
        parscGeo.page({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}
        """
    )

    def __init__(self, fit: list[list[float]] | None = None) -> None:
        super().__init__()
        self._name = "ParscRuntime"
        self.config_json = js_json({"labelMinZoom": LABEL_MIN_ZOOM, "fit": fit})


class MarkerClusterAssets(SafeMacroElement):
    """Loads Leaflet.markercluster's script and style sheets (once per page)."""

    default_js: ClassVar[list[tuple[str, str]]] = [
        (assets.MARKERCLUSTER_JS.key, assets.MARKERCLUSTER_JS.href)
    ]
    default_css: ClassVar[list[tuple[str, str]]] = [
        (assets.MARKERCLUSTER_CSS.key, assets.MARKERCLUSTER_CSS.href),
        (assets.MARKERCLUSTER_DEFAULT_CSS.key, assets.MARKERCLUSTER_DEFAULT_CSS.href),
    ]

    _template = Template("")

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the assets to the page header."""
        figure = _root(self)
        for name, url in self.default_js:
            figure.header.add_child(folium.elements.JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(folium.elements.CssLink(url), name=name)
        super().render(**kwargs)


def _root(element: Element) -> Figure:
    """Return the page (branca Figure) that holds ``element``."""
    return cast(Figure, element.get_root())


def _check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    if len(bounds) != 4:
        raise ConfigError(f"bounds debe ser (oeste, sur, este, norte); se recibió {bounds!r}")
    west, south, east, north = (float(b) for b in bounds)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ConfigError(
            f"bounds debe ser (oeste, sur, este, norte) en grados; se recibió {tuple(bounds)!r}",
            hint="indique total_bounds de un GeoDataFrame en EPSG:4326",
        )
    return west, south, east, north


def new_map(
    *,
    bounds: Sequence[float],
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
) -> ParscMap:
    """Create a map fitted to ``bounds``, with scale bar and fullscreen button.

    Parameters
    ----------
    bounds
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    tiles
        Base tiles: ``"OpenStreetMap"``, ``"CartoDB claro"``, ``"todas"`` (both, switchable) or
        None for none. Without network the tiles do not load and every vector layer still shows
        on a plain background.
    title
        Text of the page ``<title>``.

    Returns
    -------
    ParscMap
        The folium map; add layers, then call :func:`add_layer_control` and
        :func:`write_map_html`.
    """
    west, south, east, north = _check_bounds(bounds)
    m = ParscMap(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        zoom_start=12,
        max_zoom=MAX_ZOOM,
        maxZoom=MAX_ZOOM,
        minZoom=MIN_ZOOM,
    )
    if tiles is not None:
        names = list(TILES) if tiles == "todas" else [tiles]
        for name in names:
            if name not in TILES:
                raise ConfigError(
                    f"mapa base desconocido {tiles!r}",
                    hint=f"use uno de {', '.join(TILES)}, 'todas' o None",
                )
            url, attribution = TILES[name]
            folium.TileLayer(
                url, attr=attribution, name=name, control=True, max_zoom=MAX_ZOOM
            ).add_to(m)
    m.fit_bounds([[south, west], [north, east]])
    m.add_child(_Runtime([[south, west], [north, east]]))
    _root(m).header.add_child(
        Verbatim(f"<title>{esc(title or 'Mapa del delito')}</title>"), name="parsc_title_tag"
    )
    m.parsc_bounds = (west, south, east, north)  # type: ignore[attr-defined]
    return m


def _add_html(m: folium.Map, key: str, markup: str) -> None:
    """Add ``markup`` to the page body inside the map container's stacking context."""
    _root(m).html.add_child(Verbatim(markup), name=key)


def add_synthetic_banner(m: folium.Map, text: str = settings.SYNTHETIC_BANNER) -> None:
    """Show the "DATOS SINTÉTICOS — solo para demostración" banner at the top of the map."""
    _add_html(
        m,
        "parsc_banner",
        f'<div class="parsc-banner" id="parsc-synthetic-banner" role="note">{esc(text)}</div>',
    )


def format_parameters(parameters: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Flatten a parameter dict into sorted ``(name, value)`` text pairs (for records, not pages).

    Pages show parameters in words (:func:`parsc_geo.maps.words.parameter_lines`).
    """
    if not parameters:
        return []
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key in sorted(value, key=str):
                walk(f"{prefix}.{key}" if prefix else str(key), value[key])
        else:
            if isinstance(value, float):
                value = f"{value:.6g}"
            out.append((prefix, str(value)))

    walk("", parameters)
    return out


#: File name of the atlas index, which every atlas page links back to.
INDEX_FILE = "index.html"


def add_title_block(
    m: folium.Map,
    *,
    title: str,
    place: str,
    period: str | None,
    source: str,
    generated: dt.datetime | None = None,
    parameters: Mapping[str, Any] | None = None,
    public: bool = False,
    generalisation: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
    sections: Sequence[tuple[str, Sequence[str]]] = (),
    home: str | None = None,
) -> None:
    """Add the title block: what, where, period, source, generation date and how it was made.

    Parameters
    ----------
    m
        The map.
    title, place, period, source
        What the map shows, where, over which period and from which data.
    generated
        Generation time (default: now, in America/Lima).
    parameters
        Every parameter used, shown in words under "Cómo se hizo este mapa"
        (:func:`parsc_geo.maps.words.parameter_lines`).
    public
        False (default): the block says :data:`parsc_geo.settings.INTERNAL_NOTICE`. True: it
        says how the data was generalised (``generalisation``).
    generalisation
        Text explaining the generalisation of a public map (required when ``public``).
    extra
        More ``(label, value)`` rows.
    sections
        ``(heading, lines)``: more folded sections ("Cómo se hizo este mapa" first, then e.g.
        "Precisión histórica"); a section named like the parameters one is merged with it.
    home
        Relative link to the atlas index (shown above the title), or None.
    """
    from zoneinfo import ZoneInfo

    from .words import parameter_lines

    if public and not generalisation:
        raise ConfigError(
            "un mapa público necesita el texto que explica cómo se generalizaron sus datos"
        )
    when = generated or dt.datetime.now(ZoneInfo(settings.TIMEZONE))
    rows = [
        ("Lugar", place),
        ("Periodo", period or "sin fechas"),
        ("Fuente", source),
        ("Generado", when.strftime("%Y-%m-%d %H:%M")),
        *extra,
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    how = "Cómo se hizo este mapa"
    folded: dict[str, list[str]] = {}
    params = parameter_lines(parameters)
    if params:
        folded[how] = list(params)
    for heading, lines in sections:
        if lines:
            folded.setdefault(str(heading), []).extend(str(x) for x in lines)
    parts_html = ""
    for heading, lines in folded.items():
        cls = "parsc-params" if heading == how else "parsc-params parsc-accuracy"
        items = "".join(f"<li>{esc(x)}</li>" for x in lines)
        parts_html += (
            f'<details class="{cls}"><summary>{esc(heading)}</summary><ul>{items}</ul></details>'
        )
    if public:
        notice = (
            '<div class="parsc-notice parsc-public" id="parsc-notice">'
            f"Mapa público. {esc(generalisation)}</div>"
        )
    else:
        notice = (
            f'<div class="parsc-notice" id="parsc-notice">{esc(settings.INTERNAL_NOTICE)}</div>'
        )
    home_html = (
        f'<a class="parsc-home" id="parsc-home" href="{esc(home)}">← Índice del atlas</a>'
        if home
        else ""
    )
    markup = (
        f'<div class="parsc-title" id="parsc-title">{home_html}'
        f'<details class="parsc-title-details" open><summary>{esc(title)}</summary>'
        f"<dl>{dl}</dl>{notice}{parts_html}</details></div>"
    )
    _add_html(m, "parsc_title_block", markup)


def _legend_panel(m: folium.Map) -> list[str]:
    panel: list[str] | None = getattr(m, "parsc_legends", None)
    if panel is None:
        panel = []
        m.parsc_legends = panel  # type: ignore[attr-defined]
        container = _LegendContainer(panel)
        _root(m).html.add_child(container, name="parsc_legends")
    return panel


class _LegendContainer(Element):
    """Renders every legend section added so far, in order, in one collapsible box."""

    def __init__(self, sections: list[str]) -> None:
        super().__init__()
        self._sections = sections

    def render(self, **kwargs: Any) -> str:
        """Return the legends' HTML."""
        return (
            '<details class="parsc-legends" id="parsc-legends" open><summary>Leyenda</summary>'
            + "".join(self._sections)
            + "</details>"
        )


def add_legend(
    m: folium.Map,
    title: str,
    entries: Iterable[tuple[str, str, int | float | str | None]],
    *,
    shape: str = "circle",
    note: str | None = None,
    key: str | None = None,
    entry_keys: Sequence[str | int] | None = None,
    when: str | None = None,
    when_id: str | None = None,
) -> None:
    """Add a legend section (colour, label, optional count) to the map's legend panel.

    Parameters
    ----------
    m
        The map.
    title
        Heading of the section.
    entries
        ``(colour, label, count)``; count None shows no count, a text is shown as it is
        (e.g. "menos de 5" on public maps).
    shape
        ``"circle"`` (points), ``"square"`` (areas), ``"line"`` or ``"dashed"`` (boundaries).
    note
        A line of text under the entries.
    key
        Names the section (``id="parsc-legend-<key>"``) for the runtime to update its counts.
    entry_keys
        One key per entry (``data-key``), e.g. the index the runtime counts by.
    when
        A line saying which period the counts are of (the runtime updates it).
    when_id
        ``id`` of that line.
    """
    if shape not in ("circle", "square", "line", "dashed"):
        raise ConfigError(
            f"la forma de la leyenda debe ser circle, square, line o dashed; se recibió {shape!r}"
        )
    items = []
    for i, (colour, label, count) in enumerate(entries):
        shown = count if isinstance(count, str) or count is None else _fmt(count)
        count_html = "" if shown is None else f'<span class="parsc-count">{esc(shown)}</span>'
        style = (
            f"border-color:{esc(colour)}"
            if shape in ("line", "dashed")
            else f"background:{esc(colour)}"
        )
        data_key = f' data-key="{esc(entry_keys[i])}"' if entry_keys is not None else ""
        items.append(
            f'<li data-color="{esc(colour)}"{data_key}><span class="parsc-swatch parsc-{shape}" '
            f'style="{style}"></span><span class="parsc-entry">{esc(label)}</span>'
            f"{count_html}</li>"
        )
    id_html = f' id="parsc-legend-{esc(key)}"' if key else ""
    when_html = ""
    if when is not None:
        wid = f' id="{esc(when_id)}"' if when_id else ""
        when_html = f'<div class="parsc-legend-when"{wid}>{esc(when)}</div>'
    note_html = f'<div class="parsc-legend-note">{esc(note)}</div>' if note else ""
    _legend_panel(m).append(
        f'<details class="parsc-legend"{id_html} open><summary>{esc(title)}</summary>'
        f"{when_html}<ul>{''.join(items)}</ul>{note_html}</details>"
    )


def add_badge_legend(
    m: folium.Map,
    title: str,
    entries: Iterable[tuple[str, str, str, int | str | None]],
    *,
    note: str | None = None,
) -> None:
    """Add a legend section of zone badges: ``(css class, badge text, label, count)``."""
    items = []
    for cls, badge, label, count in entries:
        shown = count if isinstance(count, str) or count is None else _fmt(count)
        count_html = "" if shown is None else f'<span class="parsc-count">{esc(shown)}</span>'
        items.append(
            f'<li data-color="{esc(cls)}"><span class="parsc-swatch parsc-badge {esc(cls)}">'
            f'{esc(badge)}</span><span class="parsc-entry">{esc(label)}</span>{count_html}</li>'
        )
    note_html = f'<div class="parsc-legend-note">{esc(note)}</div>' if note else ""
    _legend_panel(m).append(
        f'<details class="parsc-legend" open><summary>{esc(title)}</summary>'
        f"<ul>{''.join(items)}</ul>{note_html}</details>"
    )


def add_colorbar(
    m: folium.Map,
    title: str,
    colors: Sequence[str],
    vmin: float,
    vmax: float,
    *,
    ticks: int = 5,
    note: str | None = None,
) -> None:
    """Add a continuous colour bar (e.g. density in incidents per km²) to the legend panel.

    Parameters
    ----------
    m
        The map.
    title
        Heading, including the units.
    colors
        Colours from ``vmin`` to ``vmax`` (evenly spaced).
    vmin, vmax
        Values at both ends.
    ticks
        Number of labelled values (at least 2).
    note
        A line under the bar.
    """
    if len(colors) < 2 or ticks < 2 or not vmax >= vmin:
        raise ConfigError(
            f"una barra de colores requiere 2+ colores, 2+ marcas y vmax >= vmin "
            f"(se recibió {len(colors)} colores, {ticks} marcas, {vmin}..{vmax})"
        )
    gradient = ", ".join(esc(c) for c in colors)
    values = [vmin + (vmax - vmin) * i / (ticks - 1) for i in range(ticks)]
    tick_html = "".join(f"<span>{esc(_fmt(v))}</span>" for v in values)
    note_html = f'<div class="parsc-legend-note">{esc(note)}</div>' if note else ""
    _legend_panel(m).append(
        f'<details class="parsc-legend parsc-colorbar-box" open><summary>{esc(title)}</summary>'
        f'<div class="parsc-colorbar" style="background:linear-gradient(to right, {gradient})" '
        f'data-vmin="{vmin:.6g}" data-vmax="{vmax:.6g}"></div>'
        f'<div class="parsc-colorbar-ticks">{tick_html}</div>{note_html}</details>'
    )


def _fmt(value: float) -> str:
    """Format a number for display: ``12 345`` (non-breaking space), else ~3 significant digits.

    The decimal separator is a comma, as in every text of the maps.
    """
    from .words import es_num, es_short

    if float(value).is_integer():
        return es_num(value)
    return es_short(value)


def add_layer_control(m: folium.Map, *, collapsed: bool = False) -> None:
    """Add the layer control (toggle every layer by its Spanish name). Call it last."""
    folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])")


def _numbering(mapping: dict[str, str]) -> Any:
    """Return the replacement function of :func:`stable_element_ids` numbering into ``mapping``."""

    def number(match: re.Match[str]) -> str:
        key = match.group(0)
        if key not in mapping:
            mapping[key] = f"{len(mapping) + 1:032x}"
        return mapping[key]

    return number


def stable_element_ids(page: str) -> str:
    """Replace folium's random element ids with ids numbered in order of appearance.

    folium names every element ``<kind>_<32 random hex digits>``; numbering them instead makes
    the same map render to the same bytes on every run (reproducible outputs).
    """
    return _ELEMENT_ID.sub(_numbering({}), page)


def render_map_html(
    m: folium.Map, *, offline_mode: bool = False, assets_dir: Path | None = None
) -> str:
    """Render ``m`` to a full HTML page.

    The page references its scripts and style sheets in ``lib/`` beside it (write them with
    :func:`parsc_geo.maps.offline.write_lib`), or inlines them when ``offline_mode``.

    Notes
    -----
    :class:`LargeJson` texts are rendered as placeholders and put in last, each once. The page
    is the same: element ids are numbered over the pieces in their order with one numbering,
    and no id can straddle a piece's edge (a JSON object or array starts and ends with a
    bracket, which is neither ``_`` nor a letter or digit); ``<html>`` is the template's own
    and the assets inlined offline are found by tags (``<script``, ``<link``), which no
    :func:`js_json` text holds.
    """
    token = _DEFERRING.set(True)
    try:
        page = m.get_root().render()
    finally:
        _DEFERRING.reset(token)
    number = _numbering({})
    pieces: list[str] = []
    large: dict[str, str] = {}
    start = 0
    for match in _PLACEHOLDER.finditer(page):
        deferred = _LARGE.get(match.group(0))
        if deferred is None:  # not one of ours: left as rendered
            continue
        pieces.append(_ELEMENT_ID.sub(number, page[start : match.start()]))
        pieces.append(match.group(0))
        large[match.group(0)] = _ELEMENT_ID.sub(number, deferred.text)
        start = match.end()
    pieces.append(_ELEMENT_ID.sub(number, page[start:]))
    del page
    page = "".join(pieces)
    del pieces
    page = page.replace("<html>", '<html lang="es">', 1)
    if offline_mode:
        page = assets.inline_assets(page, assets_dir=assets_dir)
    if not large:
        return page
    parts = _PLACEHOLDER.split(page)
    found = _PLACEHOLDER.findall(page)
    del page
    out = [parts[0]]
    for placeholder, rest in zip(found, parts[1:], strict=True):
        out.append(large.get(placeholder, placeholder))
        out.append(rest)
    return "".join(out)


def write_map_html(
    m: folium.Map,
    path: str | os.PathLike[str],
    *,
    offline: bool = False,
    overwrite: bool = False,
    assets_dir: Path | None = None,
) -> Path:
    """Write the map to ``path`` (atomically), with its ``lib/`` folder or as a single file.

    Parameters
    ----------
    m
        The map.
    path
        Output ``.html`` file.
    offline
        Inline Leaflet, its plugins and parsc-geo's runtime (see :mod:`parsc_geo.maps.offline`):
        one self-contained file. Otherwise (default) they are written once into a ``lib/``
        folder beside the page, which references them by relative path; either way the map
        works with no network (only base tiles need it).
    overwrite
        Replace an existing file (and files of ``lib/`` that differ).
    assets_dir
        Folder of npm-style packages to take the assets from (see
        :func:`parsc_geo.maps.offline.resolve_asset`).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    MissingDependencyError
        Leaflet cannot be found in any package source.
    OutputError
        The file (or a different file of ``lib/``) exists and ``overwrite`` is False, or cannot
        be written.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(f"{target} ya existe", hint="use overwrite=True / --overwrite")
    page = render_map_html(m, offline_mode=offline, assets_dir=assets_dir)
    if not offline:
        assets.write_lib(target.parent, overwrite=overwrite, assets_dir=assets_dir)
    return write_text_atomic(target, page, overwrite=overwrite)
