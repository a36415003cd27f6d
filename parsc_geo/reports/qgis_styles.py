"""QGIS layer styles (``.qml``) built as XML elements: symbols, renderers, labels, raster ramps.

Every function returns :class:`xml.etree.ElementTree.Element` trees; text that comes from data
(category values and labels, layer names) is only ever set as an attribute value or element text,
so the XML library escapes it. Nothing here reads files: the values a style needs from the data
(categories present, class breaks, raster minimum and maximum) are passed in by
:mod:`parsc_geo.reports.qgis_project`.

The XML follows the layout QGIS 3.22 (Debian 12's ``qgis``) writes and every later version
reads: symbol-layer properties as an ``<Option type="Map">``, renderers as ``<renderer-v2>``,
labels as ``<labeling type="simple">`` and raster colour ramps as a ``singlebandpseudocolor``
``<rasterrenderer>`` inside the layer's ``<pipe>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

#: Version written in the ``<qgis>`` root of styles and projects: the oldest QGIS the tests load.
QGIS_VERSION: Final = "3.22.16-Białowieża"

#: Distances and sizes are in millimetres on paper/screen.
_MM: Final = "MM"


def color(hex_color: str, alpha: float = 1.0) -> str:
    """Return QGIS's ``"r,g,b,a"`` colour text for ``#rrggbb`` and an opacity in 0…1.

    Examples
    --------
    >>> color("#b2182b", 0.4)
    '178,24,43,102'
    """
    text = hex_color.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour must be #rrggbb, got {hex_color!r}")
    r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, alpha)) * 255)}"


def sub(parent: ET.Element, tag: str, attrib: Mapping[str, str] | None = None) -> ET.Element:
    """Append and return a child element (attribute values are escaped on output)."""
    return ET.SubElement(parent, tag, dict(attrib or {}))


def option_map(parent: ET.Element, values: Mapping[str, str]) -> ET.Element:
    """Append QGIS's ``<Option type="Map">`` with one QString ``<Option>`` per item."""
    opt = sub(parent, "Option", {"type": "Map"})
    for name, value in values.items():
        sub(opt, "Option", {"name": name, "type": "QString", "value": str(value)})
    return opt


# -- symbols ---------------------------------------------------------------------------------


def _symbol(kind: str, name: str, layer_class: str, props: Mapping[str, str]) -> ET.Element:
    sym = ET.Element(
        "symbol",
        {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    layer = sub(sym, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"})
    option_map(layer, props)
    return sym


def marker_symbol(
    name: str,
    fill: str,
    *,
    size: float = 2.0,
    outline: str = "#ffffff",
    outline_width: float = 0.2,
    shape: str = "circle",
    alpha: float = 1.0,
) -> ET.Element:
    """Return a simple marker symbol (sizes in mm)."""
    return _symbol(
        "marker",
        name,
        "SimpleMarker",
        {
            "name": shape,
            "color": color(fill, alpha),
            "outline_color": color(outline),
            "outline_style": "solid",
            "outline_width": f"{outline_width:g}",
            "outline_width_unit": _MM,
            "size": f"{size:g}",
            "size_unit": _MM,
            "angle": "0",
            "offset": "0,0",
            "offset_unit": _MM,
            "scale_method": "diameter",
            "joinstyle": "bevel",
            "horizontal_anchor_point": "1",
            "vertical_anchor_point": "1",
        },
    )


def fill_symbol(
    name: str,
    fill: str | None,
    *,
    fill_alpha: float = 1.0,
    outline: str = "#555555",
    outline_width: float = 0.26,
    outline_style: str = "solid",
) -> ET.Element:
    """Return a simple fill symbol; ``fill`` None draws only the outline."""
    return _symbol(
        "fill",
        name,
        "SimpleFill",
        {
            "color": color(fill or "#ffffff", fill_alpha if fill else 0.0),
            "style": "solid" if fill else "no",
            "outline_color": color(outline),
            "outline_style": outline_style,
            "outline_width": f"{outline_width:g}",
            "outline_width_unit": _MM,
            "joinstyle": "bevel",
            "offset": "0,0",
            "offset_unit": _MM,
        },
    )


# -- renderers -------------------------------------------------------------------------------


def _renderer(kind: str, **attrib: str) -> ET.Element:
    base = {
        "type": kind,
        "symbollevels": "0",
        "forceraster": "0",
        "enableorderby": "0",
        "referencescale": "-1",
    }
    base.update(attrib)
    return ET.Element("renderer-v2", base)


def _finish(renderer: ET.Element) -> ET.Element:
    sub(renderer, "rotation")
    sub(renderer, "sizescale")
    return renderer


def single_renderer(symbol: ET.Element) -> ET.Element:
    """Return a ``singleSymbol`` renderer drawing every feature with ``symbol``."""
    renderer = _renderer("singleSymbol")
    symbols = sub(renderer, "symbols")
    symbol.set("name", "0")
    symbols.append(symbol)
    return _finish(renderer)


@dataclass(frozen=True)
class Category:
    """One class of a categorized renderer: the field value, its legend text and its symbol."""

    value: str
    label: str
    symbol: ET.Element


def categorized_renderer(field: str, categories: Sequence[Category]) -> ET.Element:
    """Return a ``categorizedSymbol`` renderer on ``field`` (one symbol per value)."""
    renderer = _renderer("categorizedSymbol", attr=field)
    cats = sub(renderer, "categories")
    symbols = sub(renderer, "symbols")
    for i, category in enumerate(categories):
        sub(
            cats,
            "category",
            {"symbol": str(i), "value": category.value, "label": category.label, "render": "true"},
        )
        category.symbol.set("name", str(i))
        symbols.append(category.symbol)
    return _finish(renderer)


@dataclass(frozen=True)
class Range:
    """One class of a graduated renderer: ``lower`` < value ≤ ``upper`` (first class closed)."""

    lower: float
    upper: float
    label: str
    symbol: ET.Element


def graduated_renderer(field: str, ranges: Sequence[Range], *, method: str) -> ET.Element:
    """Return a ``graduatedSymbol`` renderer on ``field`` (colour by class).

    ``method`` is QGIS's classification id (``"Quantile"``, ``"Jenks"``, ``"EqualInterval"``,
    ``"Pretty"``), recorded so that QGIS offers the same method when the analyst reclassifies.
    """
    renderer = _renderer("graduatedSymbol", attr=field, graduatedMethod="GraduatedColor")
    rng = sub(renderer, "ranges")
    symbols = sub(renderer, "symbols")
    for i, r in enumerate(ranges):
        sub(
            rng,
            "range",
            {
                "symbol": str(i),
                "lower": repr(float(r.lower)),
                "upper": repr(float(r.upper)),
                "label": r.label,
                "render": "true",
            },
        )
        r.symbol.set("name", str(i))
        symbols.append(r.symbol)
    cm = sub(renderer, "classificationMethod", {"id": method})
    sub(cm, "symmetricMode", {"enabled": "0", "symmetrypoint": "0", "astride": "0"})
    sub(
        cm,
        "labelFormat",
        {"format": "%1 – %2", "labelprecision": "0", "trimtrailingzeroes": "1"},
    )
    return _finish(renderer)


@dataclass(frozen=True)
class Rule:
    """One rule of a rule-based renderer.

    ``filter`` is a QGIS expression (None keeps every feature), ``label`` the legend text; the
    rule draws with ``symbol``, or passes the features it keeps to its ``children``.
    """

    filter: str | None
    label: str
    symbol: ET.Element | None = None
    children: tuple[Rule, ...] = ()


def rule_renderer(rules: Sequence[Rule]) -> ET.Element:
    """Return a ``RuleRenderer``: each feature is drawn by every rule whose filters it passes."""
    renderer = _renderer("RuleRenderer")
    root = sub(renderer, "rules", {"key": "root"})
    symbols = sub(renderer, "symbols")
    counter = [0]

    def add(parent: ET.Element, rule: Rule, key: str) -> None:
        attrib = {"key": key, "label": rule.label}
        if rule.filter:
            attrib["filter"] = rule.filter
        if rule.symbol is not None:
            attrib["symbol"] = str(counter[0])
            rule.symbol.set("name", str(counter[0]))
            symbols.append(rule.symbol)
            counter[0] += 1
        node = sub(parent, "rule", attrib)
        for j, child in enumerate(rule.children):
            add(node, child, f"{key}_{j}")

    for i, rule in enumerate(rules):
        add(root, rule, f"regla_{i}")
    return _finish(renderer)


# -- labels ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelStyle:
    """How a layer's labels look and sit (sizes in points, distances in mm).

    ``text`` is a field name, or a QGIS expression when ``expression`` is True (expressions are
    written by this package from field names, never from data). ``badge`` draws the text on a
    disc of that colour (the atlas's rank badges); ``max_scale`` (a scale denominator, e.g.
    ``500_000``) hides the labels when the map is zoomed out beyond it.
    """

    text: str
    expression: bool = False
    size: float = 9.0
    color: str = "#222222"
    bold: bool = False
    buffer: str | None = "#ffffff"
    buffer_size: float = 0.8
    badge: str | None = None
    badge_border: str = "#ffffff"
    placement: str = "over"
    max_scale: float | None = None


#: QGIS placement codes: 0 around point, 1 over point (polygon centroid), 4 horizontal.
_PLACEMENTS: Final[dict[str, str]] = {"around": "0", "over": "1", "horizontal": "4"}


def labeling(style: LabelStyle) -> ET.Element:
    """Return a ``<labeling type="simple">`` element for ``style``."""
    root = ET.Element("labeling", {"type": "simple"})
    settings = sub(root, "settings", {"calloutType": "simple"})
    text_style = sub(
        settings,
        "text-style",
        {
            "fieldName": style.text,
            "isExpression": "1" if style.expression else "0",
            "fontFamily": "DejaVu Sans",
            "fontSize": f"{style.size:g}",
            "fontSizeUnit": "Point",
            "fontWeight": "75" if style.bold else "50",
            "namedStyle": "Bold" if style.bold else "Book",
            "textColor": color(style.color),
            "textOpacity": "1",
            "multilineHeight": "1",
            "allowHtml": "0",
            "capitalization": "0",
        },
    )
    sub(
        text_style,
        "text-buffer",
        {
            "bufferDraw": "1" if style.buffer else "0",
            "bufferSize": f"{style.buffer_size:g}",
            "bufferSizeUnits": _MM,
            "bufferColor": color(style.buffer or "#ffffff"),
            "bufferOpacity": "1",
            "bufferNoFill": "1",
            "bufferJoinStyle": "128",
        },
    )
    sub(
        text_style,
        "background",
        {
            "shapeDraw": "1" if style.badge else "0",
            "shapeType": "3",  # circle, like the atlas's rank badges
            "shapeSizeType": "0",  # buffer around the text
            "shapeSizeX": "0.8",
            "shapeSizeY": "0.8",
            "shapeSizeUnit": _MM,
            "shapeFillColor": color(style.badge or "#ffffff"),
            "shapeBorderColor": color(style.badge_border),
            "shapeBorderWidth": "0.4",
            "shapeBorderWidthUnit": _MM,
            "shapeOpacity": "1",
            "shapeRotationType": "0",
            "shapeJoinStyle": "64",
        },
    )
    sub(settings, "text-format", {"wrapChar": "", "multilineAlign": "3", "formatNumbers": "0"})
    sub(
        settings,
        "placement",
        {
            "placement": _PLACEMENTS[style.placement],
            "centroidInside": "1",
            "centroidWhole": "0",
            "fitInPolygonOnly": "0",
            "dist": "0",
            "distUnits": _MM,
            "quadOffset": "4",
            "priority": "5",
            "offsetType": "0",
            "xOffset": "0",
            "yOffset": "0",
            "offsetUnits": _MM,
            "repeatDistance": "0",
            "preserveRotation": "1",
            "placementFlags": "10",
        },
    )
    sub(
        settings,
        "rendering",
        {
            "drawLabels": "1",
            "obstacle": "1",
            "obstacleFactor": "1",
            "obstacleType": "1",
            "displayAll": "0",
            "upsidedownLabels": "0",
            "labelPerPart": "0",
            "mergeLines": "0",
            # QGIS reads scaleMax as the most zoomed-out scale at which labels show
            "scaleVisibility": "1" if style.max_scale else "0",
            "scaleMin": "0",
            "scaleMax": f"{style.max_scale:g}" if style.max_scale else "0",
            "fontLimitPixelSize": "0",
            "limitNumLabels": "0",
            "zIndex": "0",
        },
    )
    return root


# -- raster ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RampStop:
    """One colour of a raster ramp: the value where it sits and its legend text."""

    value: float
    color: str
    label: str


def pseudocolor_pipe(
    stops: Sequence[RampStop],
    *,
    minimum: float,
    maximum: float,
    opacity: float = 0.65,
    transparent_below: float | None = None,
    suffix: str = "",
) -> ET.Element:
    """Return a raster ``<pipe>`` colouring band 1 with an interpolated ramp through ``stops``.

    Parameters
    ----------
    stops
        Ramp colours at increasing values (the legend lists their labels).
    minimum, maximum
        The classification range, in the raster's own units.
    opacity
        Layer opacity (the atlas draws density at 0.65).
    transparent_below
        Values from ``minimum`` up to this value are fully transparent (the atlas hides the
        faint tail below 2 % of the maximum), or None.
    suffix
        Unit shown after the numbers of the continuous legend (``" incidentes/km²"``).
    """
    pipe = ET.Element("pipe")
    provider = sub(pipe, "provider")
    sub(
        provider,
        "resampling",
        {
            "enabled": "false",
            "zoomedInResamplingMethod": "nearestNeighbour",
            "zoomedOutResamplingMethod": "nearestNeighbour",
            "maxOversampling": "2",
        },
    )
    renderer = sub(
        pipe,
        "rasterrenderer",
        {
            "type": "singlebandpseudocolor",
            "band": "1",
            "opacity": f"{opacity:g}",
            "alphaBand": "-1",
            "classificationMin": repr(float(minimum)),
            "classificationMax": repr(float(maximum)),
            "nodataColor": "",
        },
    )
    if transparent_below is not None:
        transparency = sub(renderer, "rasterTransparency")
        pixels = sub(transparency, "singleValuePixelList")
        sub(
            pixels,
            "pixelListEntry",
            {
                "min": repr(float(minimum)),
                "max": repr(float(transparent_below)),
                "percentTransparent": "100",
            },
        )
    origin = sub(renderer, "minMaxOrigin")
    for tag, text in (
        ("limits", "None"),  # the range is fixed from the file's statistics, not re-estimated
        ("extent", "WholeRaster"),
        ("statAccuracy", "Exact"),
        ("cumulativeCutLower", "0.02"),
        ("cumulativeCutUpper", "0.98"),
        ("stdDevFactor", "2"),
    ):
        sub(origin, tag).text = text
    shader = sub(sub(renderer, "rastershader"), "colorrampshader")
    shader.attrib.update(
        {
            "colorRampType": "INTERPOLATED",
            "classificationMode": "1",
            "clip": "0",
            "minimumValue": repr(float(minimum)),
            "maximumValue": repr(float(maximum)),
            "labelPrecision": "1",
        }
    )
    for stop in stops:
        sub(
            shader,
            "item",
            {
                "value": repr(float(stop.value)),
                "color": stop.color,
                "alpha": "255",
                "label": stop.label,
            },
        )
    sub(
        shader,
        "rampLegendSettings",
        {
            "useContinuousLegend": "1",
            "suffix": suffix,
            "prefix": "",
            "minimumLabel": "",
            "maximumLabel": "",
            "direction": "0",
            "orientation": "2",
        },
    )
    sub(pipe, "brightnesscontrast", {"brightness": "0", "contrast": "0", "gamma": "1"})
    sub(
        pipe,
        "huesaturation",
        {"saturation": "0", "grayscaleMode": "0", "invertColors": "0", "colorizeOn": "0"},
    )
    sub(pipe, "rasterresampler", {"maxOversampling": "2"})
    sub(pipe, "resamplingStage").text = "resamplingFilter"
    return pipe


# -- whole styles ----------------------------------------------------------------------------


def vector_style(
    renderer: ET.Element,
    *,
    labels: LabelStyle | None = None,
    opacity: float = 1.0,
    temporal_field: str | None = None,
    map_tip: str | None = None,
    display_field: str | None = None,
) -> ET.Element:
    """Return the ``<qgis>`` root of a vector layer style (renderer, labels, time, map tip)."""
    root = ET.Element(
        "qgis",
        {
            "version": QGIS_VERSION,
            "styleCategories": "AllStyleCategories",
            "labelsEnabled": "1" if labels else "0",
            "hasScaleBasedVisibilityFlag": "0",
            "minScale": "100000000",
            "maxScale": "0",
        },
    )
    temporal = sub(
        root,
        "temporal",
        {
            "enabled": "1" if temporal_field else "0",
            "mode": "1" if temporal_field else "0",  # 1 = instant taken from one field
            "startField": temporal_field or "",
            "endField": "",
            "durationField": "",
            "durationUnit": "min",
            "fixedDuration": "0",
            "accumulate": "0",
            "startExpression": "",
            "endExpression": "",
            "limitMode": "0",
        },
    )
    fixed = sub(temporal, "fixedRange")
    sub(fixed, "start")
    sub(fixed, "end")
    root.append(renderer)
    if labels is not None:
        root.append(labeling(labels))
    sub(root, "blendMode").text = "0"
    sub(root, "featureBlendMode").text = "0"
    sub(root, "layerOpacity").text = f"{opacity:g}"
    if display_field:
        sub(root, "previewExpression").text = f'"{display_field}"'
    if map_tip:
        sub(root, "mapTip").text = map_tip
    return root


def raster_style(pipe: ET.Element) -> ET.Element:
    """Return the ``<qgis>`` root of a raster layer style around ``pipe``."""
    root = ET.Element(
        "qgis",
        {
            "version": QGIS_VERSION,
            "styleCategories": "AllStyleCategories",
            "hasScaleBasedVisibilityFlag": "0",
            "minScale": "1e+08",
            "maxScale": "0",
        },
    )
    root.append(pipe)
    sub(root, "blendMode").text = "0"
    return root


#: Characters XML 1.0 cannot hold at all (C0 controls but tab, newline and carriage return,
#: surrogates, U+FFFE/U+FFFF): escaping does not help, so they are removed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    r"""Return ``text`` without the characters XML 1.0 cannot represent.

    Examples
    --------
    >>> xml_safe("Sector\x0b 1")
    'Sector 1'
    """
    return _NOT_XML.sub("", text)


def clean_tree(root: ET.Element) -> ET.Element:
    """Remove characters XML cannot represent from every text and attribute of ``root``."""
    for element in root.iter():
        if element.text:
            element.text = xml_safe(element.text)
        if element.tail:
            element.tail = xml_safe(element.tail)
        for key, value in element.attrib.items():
            element.set(key, xml_safe(value))
    return root


def xml_document(root: ET.Element) -> str:
    """Return a QGIS document (style or project): QGIS doctype, then the escaped XML."""
    body = ET.tostring(clean_tree(root), encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def qml_text(style: ET.Element) -> str:
    """Return a style as the text of a ``.qml`` file."""
    return xml_document(style)
