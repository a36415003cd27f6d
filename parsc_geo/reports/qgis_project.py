"""A QGIS project (``proyecto.qgz``) over a run's outputs, with a style for every layer.

:func:`write_qgis_project` takes the layers to show (:class:`QgisLayer`: a path relative to the
project folder, the GeoPackage layer, the kind of layer and its Spanish name), reads from each
file what its style needs (categories present, class breaks, the raster's range, the extent),
and writes:

``proyecto.qgz``
    The project: a zip holding ``proyecto.qgs`` (QGIS's XML), with relative paths, Spanish
    groups in the atlas's order, the data's extent, the incidents' period on the time
    controller, and every layer's style inside.
``<data>.qml`` beside each data file
    The same style as a file: QGIS applies ``densidad_x.qml`` when ``densidad_x.tif`` is opened
    alone; GeoPackage layers get ``<gpkg>_<layer>.qml`` to load by hand.
the ``layer_styles`` table of each GeoPackage
    QGIS's standard place for a GeoPackage layer's default style, so the GeoPackage opened
    without the project shows the same colours.

:func:`parsc_geo.reports.qgis_run.run_layers` lists the layers of a ``parsc-geo run`` output
folder in the atlas's order, so that the whole project is one call:
``write_qgis_project(out, run_layers(out), title=...)``.

The XML is built with :mod:`xml.etree.ElementTree`: names, labels and values from the data are
element text or attribute values, escaped by the library, never pasted into a template.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import math
import os
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._atomic import atomic_path, write_text_atomic
from .._errors import ConfigError, InputDataError, OutputError
from .qgis_layers import replace_layer, slug
from .qgis_styles import (
    QGIS_VERSION,
    Rule,
    qml_text,
    rule_renderer,
    sub,
    vector_style,
    xml_document,
)
from .qgis_symbology import GROUPS, KINDS, LayerData, quote_field

if TYPE_CHECKING:
    from pyproj import CRS

#: File name of the project written by :func:`write_qgis_project`.
PROJECT_FILE: Final = "proyecto.qgz"

#: Kinds that frame the data without being the data (left out of the project's extent).
REFERENCE_KINDS: Final[frozenset[str]] = frozenset(
    {"provinces", "districts", "stations", "priority"}
)

#: Margin added around the data's extent, as a fraction of its width and height.
EXTENT_MARGIN: Final = 0.03

#: Groups with more layers than this start collapsed in the layer panel.
COLLAPSE_ABOVE: Final = 4

#: GeoPackage table where QGIS keeps layer styles (its schema is QGIS's).
STYLES_TABLE: Final = "layer_styles"


@dataclass(frozen=True)
class QgisLayer:
    """One layer of the project.

    Attributes
    ----------
    path
        Data file relative to the project folder (``"densidad/densidad_chota.tif"``,
        ``"workspace.gpkg"``), with ``/`` separators.
    kind
        One of :data:`parsc_geo.reports.qgis_symbology.KINDS` (``"incidents"``, ``"density"``,
        ``"kde"``, ``"gistar"``, ``"priority"`` …): it chooses the group and the style.
    name
        Name shown in the layer panel (Spanish).
    layer
        Layer (table) name inside a GeoPackage; None for rasters and single-layer files.
    where
        ``(field, value)``: show only the features whose field equals value (e.g.
        ``("method", "kde")`` on a table of hotspots of every method).
    visible
        Whether the layer starts ticked; None takes the kind's default.
    """

    path: str
    kind: str
    name: str
    layer: str | None = None
    where: tuple[str, str] | None = None
    visible: bool | None = None


@dataclass
class QgisProject:
    """What :func:`write_qgis_project` wrote.

    Attributes
    ----------
    path
        The ``.qgz`` file.
    styles
        The ``.qml`` files, in layer order.
    embedded
        GeoPackage → tables whose default style was stored in its ``layer_styles``.
    layers
        One summary per layer: ``name``, ``kind``, ``group``, ``id``, ``source``, ``features``
        (None for rasters), ``style``.
    extent
        ``(xmin, ymin, xmax, ymax)`` of the project in its CRS.
    """

    path: Path
    styles: list[Path] = field(default_factory=list)
    embedded: dict[Path, list[str]] = field(default_factory=dict)
    layers: list[dict[str, Any]] = field(default_factory=list)
    extent: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


@dataclass
class _Source:
    """A layer as read from its file."""

    spec: QgisLayer
    file: Path
    provider: str
    datasource: str
    crs: CRS
    geometry: str
    data: LayerData
    bounds: tuple[float, float, float, float] | None
    geometry_column: str = ""
    qml: Path = field(default_factory=Path)
    layer_id: str = ""
    style: ET.Element = field(default_factory=lambda: ET.Element("qgis"))


# -- helpers -----------------------------------------------------------------------------------


def sql_where(where: tuple[str, str]) -> str:
    r"""Return the SQL filter ``"field" = 'value'`` with both parts quoted for SQLite/OGR.

    Examples
    --------
    >>> sql_where(("method", "kde"))
    '"method" = \'kde\''
    >>> sql_where(("nombre", "O'Brien"))
    '"nombre" = \'O\'\'Brien\''
    """
    column, value = where
    return '"' + column.replace('"', '""') + "\" = '" + str(value).replace("'", "''") + "'"


def _source_date() -> dt.datetime:
    """Return the time stamped in styles: ``SOURCE_DATE_EPOCH`` when set (reproducible runs)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _resolve(root: Path, spec: QgisLayer) -> Path:
    relative = Path(spec.path)
    if relative.is_absolute() or not spec.path.strip():
        raise ConfigError(
            f"la capa {spec.name!r}: la ruta {spec.path!r} debe ser relativa a la carpeta del "
            "proyecto",
            hint="dé la ruta desde la carpeta de salida, p. ej. 'densidad/densidad_chota.tif'",
        )
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise ConfigError(
            f"la capa {spec.name!r}: la ruta {spec.path!r} sale de la carpeta del proyecto",
            hint="el proyecto usa rutas relativas: sus datos deben estar dentro de su carpeta",
        )
    if not target.is_file():
        raise InputDataError(
            f"la capa {spec.name!r}: no existe el archivo {target}",
            hint="escriba primero los datos (p. ej. con 'parsc-geo run') y luego el proyecto",
        )
    return target


# -- reading the data --------------------------------------------------------------------------


def _read_vector(spec: QgisLayer, file: Path) -> _Source:
    import numpy as np
    import pyogrio
    from pyproj import CRS

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(file)]
    except Exception as exc:
        raise InputDataError(f"la capa {spec.name!r}: no se puede leer {file}: {exc}") from exc
    layer = spec.layer or (layers[0] if len(layers) == 1 else None)
    if layer is None or layer not in layers:
        raise InputDataError(
            f"la capa {spec.name!r}: {file.name} no tiene la capa {spec.layer!r} "
            f"(capas: {', '.join(layers)})",
            hint="indique la capa del GeoPackage con layer=",
        )
    info = pyogrio.read_info(file, layer=layer)
    fields = [str(f) for f in info["fields"]]
    kind = KINDS[spec.kind]
    where = sql_where(spec.where) if spec.where else None
    needed = [*kind.required, *([spec.where[0]] if spec.where else [])]
    missing = [f for f in needed if f not in fields]
    if missing:
        raise InputDataError(
            f"la capa {spec.name!r} ({file.name}, {layer}) no tiene el/los campo(s) "
            f"{', '.join(missing)} que su estilo ({spec.kind}) necesita",
            hint=f"campos presentes: {', '.join(fields)}",
        )
    if info["crs"] is None:
        raise InputDataError(
            f"la capa {spec.name!r} ({file.name}, {layer}) no tiene SRC",
            hint="escríbala con un SRC, p. ej. EPSG:4326",
        )
    _, boxes = pyogrio.read_bounds(file, layer=layer, where=where)
    boxes = np.asarray(boxes, dtype="float64")
    finite = boxes[:, np.isfinite(boxes).all(axis=0)] if boxes.size else boxes
    bounds = None
    if finite.size and finite.shape[1]:
        bounds = (
            float(finite[0].min()),
            float(finite[1].min()),
            float(finite[2].max()),
            float(finite[3].max()),
        )
    data = LayerData(fields=fields, features=int(boxes.shape[1]) if boxes.size else 0)
    columns = [c for c in (kind.categories, kind.numbers) if c and c in fields]
    if columns:
        table = pyogrio.read_dataframe(
            file, layer=layer, columns=columns, read_geometry=False, where=where
        )
        if kind.categories and kind.categories in fields:
            values = table[kind.categories].fillna("").astype(str).value_counts(sort=False)
            data.values[kind.categories] = {str(k): int(v) for k, v in values.items()}
        if kind.numbers and kind.numbers in fields:
            data.numbers = [float(v) for v in table[kind.numbers].dropna()]
    datasource = f"./{Path(spec.path).as_posix()}|layername={layer}"
    if str(info.get("geometry_type") or "Unknown") == "Unknown":
        # a table declared as any geometry (an empty result is written so) would load as a
        # table without geometry: tell QGIS which geometry the kind holds
        datasource += f"|geometrytype={'Point' if kind.geometry == 'point' else 'Polygon'}"
    if where:
        datasource += f"|subset={where}"
    return _Source(
        spec=spec,
        file=file,
        provider="ogr",
        datasource=datasource,
        crs=CRS.from_user_input(info["crs"]),
        geometry=kind.geometry,
        data=data,
        bounds=bounds,
        geometry_column=str(info.get("geometry_name") or "geom"),
    )


def _read_raster(spec: QgisLayer, file: Path) -> _Source:
    import numpy as np
    import rasterio
    from pyproj import CRS

    try:
        with rasterio.open(file) as src:
            if src.crs is None:
                raise InputDataError(
                    f"la capa {spec.name!r}: el ráster {file.name} no tiene SRC",
                    hint="escríbalo con un SRC (los de 'parsc-geo density' lo tienen)",
                )
            band = src.read(1, masked=True)
            crs = CRS.from_wkt(src.crs.to_wkt())
            b = src.bounds
    except rasterio.RasterioIOError as exc:
        raise InputDataError(f"la capa {spec.name!r}: no se puede leer {file}: {exc}") from exc
    values = np.asarray(band.compressed(), dtype="float64")
    values = values[np.isfinite(values)]
    data = LayerData(
        minimum=float(values.min()) if values.size else math.nan,
        maximum=float(values.max()) if values.size else math.nan,
    )
    return _Source(
        spec=spec,
        file=file,
        provider="gdal",
        datasource=f"./{Path(spec.path).as_posix()}",
        crs=crs,
        geometry="raster",
        data=data,
        bounds=(b.left, b.bottom, b.right, b.top),
    )


def _qml_path(source: _Source) -> Path:
    file = source.file
    if source.provider == "gdal":
        return file.with_suffix(".qml")
    parts = [file.stem, _table(source)]
    if source.spec.where:
        parts.append(source.spec.where[1])
    return file.with_name("_".join(slug(p) for p in parts) + ".qml")


def _table(source: _Source) -> str:
    return source.datasource.split("|layername=", 1)[1].split("|", 1)[0]


def _rule(renderer: ET.Element, where: str | None, label: str) -> Rule:
    """Return the rule drawing, within ``where``, what ``renderer`` draws."""
    symbols = {sym.get("name"): sym for sym in renderer.iterfind("symbols/symbol")}
    kind = renderer.get("type")
    field_name = renderer.get("attr", "")
    if kind == "singleSymbol":
        return Rule(where, label, copy.deepcopy(symbols["0"]))
    children = []
    if kind == "categorizedSymbol":
        for cat in renderer.iterfind("categories/category"):
            test = sql_where((field_name, cat.get("value", "")))
            children.append(
                Rule(test, cat.get("label", ""), copy.deepcopy(symbols[cat.get("symbol")]))
            )
    elif kind == "graduatedSymbol":
        ref = quote_field(field_name)
        for i, rng in enumerate(renderer.iterfind("ranges/range")):
            low, high = rng.get("lower"), rng.get("upper")
            test = f"{ref} {'>=' if i == 0 else '>'} {low} AND {ref} <= {high}"
            children.append(
                Rule(test, rng.get("label", ""), copy.deepcopy(symbols[rng.get("symbol")]))
            )
    else:
        raise ValueError(f"no rule for a {kind} renderer")
    return Rule(where, label, children=tuple(children))


def combined_style(sources: Sequence[_Source]) -> ET.Element:
    """Return one style for a table that several layers show, each part drawn as its layer.

    Used as the table's default style in the GeoPackage (the table opened alone holds every
    part: zones of each method and Gi* cells), with one rule per layer (its filter) and, inside,
    the layer's categories or classes.
    """
    rules = []
    for source in sources:
        renderer = source.style.find("renderer-v2")
        if renderer is None:
            continue
        where = sql_where(source.spec.where) if source.spec.where else None
        rules.append(_rule(renderer, where, source.spec.name))
    return vector_style(rule_renderer(rules))


def _layer_id(source: _Source) -> str:
    key = f"{source.datasource}\n{source.spec.kind}".encode()
    return f"{slug(source.spec.name)[:40]}_{hashlib.sha256(key).hexdigest()[:12]}"


# -- XML pieces --------------------------------------------------------------------------------


def _spatialrefsys(parent: ET.Element, crs: CRS) -> ET.Element:
    from pyproj.enums import WktVersion

    srs = sub(parent, "spatialrefsys")
    authority = crs.to_authority()
    authid = f"{authority[0]}:{authority[1]}" if authority else ""
    sub(srs, "wkt").text = crs.to_wkt(WktVersion.WKT2_2019)
    with warnings.catch_warnings():
        # PROJ strings lose datum details; QGIS reads the WKT first and keeps this as a fallback
        warnings.simplefilter("ignore", UserWarning)
        sub(srs, "proj4").text = crs.to_proj4() or ""
    sub(srs, "srid").text = authority[1] if authority and authority[0] == "EPSG" else "0"
    sub(srs, "authid").text = authid
    sub(srs, "description").text = crs.name
    sub(srs, "geographicflag").text = "true" if crs.is_geographic else "false"
    return srs


def _bounds_in(
    bounds: tuple[float, float, float, float], source: CRS, target: CRS
) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    if source == target:
        return bounds
    transformer = Transformer.from_crs(source, target, always_xy=True)
    xmin, ymin, xmax, ymax = transformer.transform_bounds(*bounds, densify_pts=21)
    return (float(xmin), float(ymin), float(xmax), float(ymax))


def _extent_element(parent: ET.Element, tag: str, box: Sequence[float]) -> ET.Element:
    ext = sub(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
        sub(ext, name).text = repr(float(value))
    return ext


def _map_layer(source: _Source) -> ET.Element:
    style = source.style
    if source.provider == "gdal":
        attrib = {"type": "raster"}
    else:
        attrib = {
            "type": "vector",
            "geometry": {"point": "Point", "polygon": "Polygon"}.get(source.geometry, "Polygon"),
            "labelsEnabled": style.get("labelsEnabled", "0"),
            "readOnly": "0",
            "simplifyDrawingHints": "1",
            "simplifyDrawingTol": "1",
            "simplifyLocal": "1",
            "simplifyAlgorithm": "0",
            "simplifyMaxScale": "1",
        }
    attrib.update(
        {
            "styleCategories": "AllStyleCategories",
            "hasScaleBasedVisibilityFlag": "0",
            "minScale": style.get("minScale", "1e+08"),
            "maxScale": "0",
            "autoRefreshEnabled": "0",
            "autoRefreshTime": "0",
            "refreshOnNotifyEnabled": "0",
            "refreshOnNotifyMessage": "",
        }
    )
    element = ET.Element("maplayer", attrib)
    if source.bounds is not None:
        _extent_element(element, "extent", source.bounds)
    sub(element, "id").text = source.layer_id
    sub(element, "datasource").text = source.datasource
    sub(element, "layername").text = source.spec.name
    _spatialrefsys(sub(element, "srs"), source.crs)
    provider = sub(element, "provider", {"encoding": "UTF-8"} if source.provider == "ogr" else {})
    provider.text = source.provider
    manager = sub(element, "map-layer-style-manager", {"current": "predeterminado"})
    sub(manager, "map-layer-style", {"name": "predeterminado"})
    for child in style:
        element.append(child)
    return element


def _time_range(sources: Sequence[_Source]) -> tuple[str, str] | None:
    """Return the first and last ``occurred_at`` of the incident layers, as UTC ISO text."""
    import pandas as pd
    import pyogrio

    first: list[pd.Timestamp] = []
    last: list[pd.Timestamp] = []
    for source in sources:
        if source.spec.kind != "incidents" or "occurred_at" not in source.data.fields:
            continue
        table = _table(source)
        values = pyogrio.read_dataframe(
            source.file, layer=table, columns=["occurred_at"], read_geometry=False
        )["occurred_at"]
        when = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce").dropna()
        if len(when):
            first.append(when.min())
            last.append(when.max())
    if not first:
        return None
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return min(first).strftime(fmt), max(last).strftime(fmt)


def _layer_tree(parent: ET.Element, sources: Sequence[_Source]) -> None:
    root = sub(parent, "layer-tree-group")
    sub(root, "customproperties")
    for group in GROUPS:
        members = [s for s in sources if KINDS[s.spec.kind].group == group]
        if not members:
            continue
        shown = [_visible(s) for s in members]
        node = sub(
            root,
            "layer-tree-group",
            {
                "name": group,
                "checked": "Qt::Checked" if any(shown) else "Qt::Unchecked",
                "expanded": "0" if len(members) > COLLAPSE_ABOVE else "1",
            },
        )
        sub(node, "customproperties")
        for source, visible in zip(members, shown, strict=True):
            leaf = sub(
                node,
                "layer-tree-layer",
                {
                    "id": source.layer_id,
                    "name": source.spec.name,
                    "source": source.datasource,
                    "providerKey": source.provider,
                    "checked": "Qt::Checked" if visible else "Qt::Unchecked",
                    "expanded": "1" if visible else "0",
                    "legend_exp": "",
                    "patch_size": "-1,-1",
                    "legend_split_behavior": "0",
                },
            )
            props = sub(sub(leaf, "customproperties"), "Option", {"type": "Map"})
            if source.provider == "ogr":
                sub(props, "Option", {"name": "showFeatureCount", "type": "bool", "value": "true"})
    sub(root, "custom-order", {"enabled": "0"})


def _visible(source: _Source) -> bool:
    if source.spec.visible is not None:
        return source.spec.visible
    return KINDS[source.spec.kind].visible


def _ordered(sources: Sequence[_Source]) -> list[_Source]:
    """Return the sources in layer-tree order: by group, then as given."""
    rank = {g: i for i, g in enumerate(GROUPS)}
    return sorted(sources, key=lambda s: rank[KINDS[s.spec.kind].group])


def project_document(
    sources: Sequence[_Source],
    *,
    title: str,
    crs: CRS,
    extent: tuple[float, float, float, float],
    time_range: tuple[str, str] | None,
) -> ET.Element:
    """Return the ``<qgis>`` root of the project (layers in tree order)."""
    root = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    sub(root, "homePath", {"path": ""})
    sub(root, "title").text = title
    _spatialrefsys(sub(root, "projectCrs"), crs)
    _layer_tree(root, sources)
    layers = sub(root, "projectlayers")
    for source in sources:
        layers.append(_map_layer(source))
    order = sub(root, "layerorder")
    for source in sources:
        sub(order, "layer", {"id": source.layer_id})
    properties = sub(root, "properties")
    paths = sub(properties, "Paths")
    sub(paths, "Absolute", {"type": "bool"}).text = "false"
    # QGIS reads <projectCrs> only when this legacy switch says projections are on
    ref = sub(properties, "SpatialRefSys")
    sub(ref, "ProjectionsEnabled", {"type": "int"}).text = "1"
    canvas = sub(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    sub(canvas, "units").text = "degrees" if crs.is_geographic else "meters"
    _extent_element(canvas, "extent", extent)
    sub(canvas, "rotation").text = "0"
    _spatialrefsys(sub(canvas, "destinationsrs"), crs)
    sub(canvas, "rendermaptile").text = "0"
    view = sub(root, "ProjectViewSettings", {"UseProjectScales": "0", "rotation": "0"})
    sub(view, "Scales")
    default = sub(
        view,
        "DefaultViewExtent",
        {k: repr(float(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True)},
    )
    _spatialrefsys(default, crs)
    time = sub(
        root,
        "ProjectTimeSettings",
        {"timeStep": "1", "timeStepUnit": "d", "frameRate": "1", "cumulativeTemporalRange": "0"},
    )
    if time_range is not None:
        span = sub(time, "TemporalRange")
        sub(span, "start").text = time_range[0]
        sub(span, "end").text = time_range[1]
    meta = sub(root, "projectMetadata")
    sub(meta, "identifier")
    sub(meta, "parentidentifier")
    sub(meta, "language").text = "es"
    sub(meta, "type").text = "dataset"
    sub(meta, "title").text = title
    sub(meta, "abstract").text = (
        "Proyecto QGIS escrito por parsc-geo junto a sus resultados: densidad, zonas críticas, "
        "Gi*, sectores, prioridad territorial e incidentes, con los colores del atlas HTML."
    )
    return root


# -- writing -----------------------------------------------------------------------------------


def _write_qgz(path: Path, document: str, *, overwrite: bool) -> None:
    stamp = _source_date()
    # zip entries cannot be dated before 1980
    when = max(stamp, dt.datetime(1980, 1, 1, tzinfo=dt.UTC)).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{path.stem}.qgs", date_time=when)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, document.encode("utf-8"))
    with atomic_path(path, overwrite=overwrite) as tmp:
        try:
            tmp.write_bytes(buffer.getvalue())
        except OSError as exc:
            raise OutputError(f"no se puede escribir {path}: {exc.strerror or exc}") from exc


def embed_styles(
    gpkg: str | os.PathLike[str],
    styles: Sequence[tuple[str, str, str, str, bool]],
) -> list[str]:
    """Store styles in a GeoPackage's ``layer_styles`` table (QGIS's schema), atomically.

    Parameters
    ----------
    gpkg
        The GeoPackage; changed on a copy that replaces it when complete.
    styles
        ``(table, geometry column, style name, qml text, default)`` per style. A style with
        the same table and name replaces the stored one; a new default for a table clears the
        table's previous default.

    Returns
    -------
    list of str
        The tables whose style was stored.
    """
    import pandas as pd
    import pyogrio

    path = Path(gpkg)
    layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    columns = [
        "f_table_catalog",
        "f_table_schema",
        "f_table_name",
        "f_geometry_column",
        "styleName",
        "styleQML",
        "styleSLD",
        "useAsDefault",
        "description",
        "owner",
        "ui",
        "update_time",
    ]
    if STYLES_TABLE in layers:
        current = pyogrio.read_dataframe(path, layer=STYLES_TABLE, read_geometry=False)
        current = current[[c for c in columns if c in current.columns]]
    else:
        current = pd.DataFrame(columns=columns)
    stamp = pd.Timestamp(_source_date())
    rows = []
    for table, geometry_column, name, qml, default in styles:
        same = (current["f_table_name"] == table) & (current["styleName"] == name)
        current = current[~same]
        if default:
            current.loc[current["f_table_name"] == table, "useAsDefault"] = False
        rows.append(
            {
                "f_table_catalog": "",
                "f_table_schema": "",
                "f_table_name": table,
                "f_geometry_column": geometry_column,
                "styleName": name,
                "styleQML": qml,
                "styleSLD": "",
                "useAsDefault": bool(default),
                "description": "Estilo de parsc-geo (colores del atlas HTML)",
                "owner": "",
                "ui": "",
                "update_time": stamp,
            }
        )
    frame = pd.concat([current, pd.DataFrame(rows, columns=columns)], ignore_index=True)
    frame["useAsDefault"] = frame["useAsDefault"].fillna(False).astype(bool)
    frame["update_time"] = pd.to_datetime(frame["update_time"], utc=True)
    for column in columns:
        if column not in ("useAsDefault", "update_time"):
            frame[column] = frame[column].fillna("").astype(str)
    replace_layer(
        path,
        STYLES_TABLE,
        frame,
        layer_options={"FID": "id", "DATETIME_PRECISION": "MILLISECOND"},
    )
    return sorted({s[0] for s in styles})


def write_qgis_project(
    output_dir: str | os.PathLike[str],
    layers: Sequence[QgisLayer],
    *,
    title: str,
    filename: str = PROJECT_FILE,
    crs: str = "EPSG:4326",
    embed: bool = True,
    overwrite: bool = False,
) -> QgisProject:
    """Write a QGIS project over ``layers``, a ``.qml`` beside each and GeoPackage styles.

    Parameters
    ----------
    output_dir
        The project folder: ``filename`` is written here and every layer path is relative
        to it (the project keeps working when the folder is moved or copied).
    layers
        The layers (:class:`QgisLayer`), any order: the layer tree groups them as the atlas
        does (:data:`parsc_geo.reports.qgis_symbology.GROUPS`), keeping the given order
        within a group.
    title
        Project title (shown in QGIS's title bar and metadata).
    filename
        Project file name (``.qgz``).
    crs
        Project CRS (the layers keep theirs; QGIS reprojects on the fly).
    embed
        Also store each GeoPackage layer's style as its default in the GeoPackage's
        ``layer_styles`` table. When several project layers share a table (hotspots of several
        methods), the first one's style is the table's default and the others are stored by
        name.
    overwrite
        Replace an existing project and ``.qml`` files.

    Returns
    -------
    QgisProject

    Raises
    ------
    ConfigError
        An unknown kind, a path that is absolute or leaves ``output_dir``, or two layers with
        the same file, table, filter and kind.
    InputDataError
        A layer's file, GeoPackage table or needed field is missing, or it has no CRS.
    OutputError
        The project or a ``.qml`` exists and ``overwrite`` is False, or writing fails.
    """
    from pyproj import CRS

    root = Path(output_dir).resolve()
    if not root.is_dir():
        raise OutputError(
            f"la carpeta del proyecto {root} no existe", hint="escriba primero los resultados"
        )
    if not filename.endswith(".qgz") or Path(filename).name != filename:
        raise ConfigError(
            f"nombre de proyecto no válido: {filename!r}",
            hint="un nombre de archivo .qgz, sin carpetas, p. ej. 'proyecto.qgz'",
        )
    if not layers:
        raise ConfigError("el proyecto QGIS no tiene capas", hint="pase al menos una capa")
    unknown = sorted({spec.kind for spec in layers if spec.kind not in KINDS})
    if unknown:
        raise ConfigError(
            f"tipo(s) de capa desconocido(s): {', '.join(map(repr, unknown))}",
            hint=f"use uno de {', '.join(KINDS)}",
        )
    project_crs = CRS.from_user_input(crs)
    sources: list[_Source] = []
    for spec in layers:
        file = _resolve(root, spec)
        if KINDS[spec.kind].geometry == "raster":
            source = _read_raster(spec, file)
        else:
            source = _read_vector(spec, file)
        source.layer_id = _layer_id(source)
        source.qml = _qml_path(source)
        source.style = KINDS[spec.kind].build(source.data)
        sources.append(source)
    seen: dict[str, str] = {}
    for source in sources:
        if source.layer_id in seen or str(source.qml) in seen.values():
            raise ConfigError(
                f"la capa {source.spec.name!r} repite los datos y el tipo de otra capa "
                f"({source.datasource})",
                hint="cada capa del proyecto debe mostrar datos o un filtro distinto",
            )
        seen[source.layer_id] = str(source.qml)
    sources = _ordered(sources)

    target = root / filename
    if not overwrite:
        existing = [p for p in [target, *(s.qml for s in sources)] if p.exists()]
        if existing:
            raise OutputError(
                f"ya existe {existing[0]}",
                hint="use overwrite=True (--overwrite) para reemplazar el proyecto y sus estilos",
            )

    framing = [s for s in sources if s.bounds and s.spec.kind not in REFERENCE_KINDS]
    boxes = [
        _bounds_in(s.bounds, s.crs, project_crs)
        for s in (framing or [s for s in sources if s.bounds])
        if s.bounds is not None
    ]
    if boxes:
        xmin, ymin = min(b[0] for b in boxes), min(b[1] for b in boxes)
        xmax, ymax = max(b[2] for b in boxes), max(b[3] for b in boxes)
        dx, dy = (xmax - xmin) * EXTENT_MARGIN, (ymax - ymin) * EXTENT_MARGIN
        extent = (xmin - dx, ymin - dy, xmax + dx, ymax + dy)
    else:
        extent = _bounds_in((-81.4, -18.4, -68.6, -0.03), CRS.from_epsg(4326), project_crs)

    result = QgisProject(path=target, extent=extent)
    by_table: dict[tuple[Path, str], list[_Source]] = {}
    for source in sources:
        write_text_atomic(source.qml, qml_text(source.style), overwrite=overwrite)
        result.styles.append(source.qml)
        if source.provider == "ogr" and source.file.suffix.lower() == ".gpkg":
            by_table.setdefault((source.file, _table(source)), []).append(source)
        result.layers.append(
            {
                "name": source.spec.name,
                "kind": source.spec.kind,
                "group": KINDS[source.spec.kind].group,
                "id": source.layer_id,
                "source": source.datasource,
                "features": source.data.features if source.provider == "ogr" else None,
                "style": source.qml.relative_to(root).as_posix(),
            }
        )
    if embed:
        by_gpkg: dict[Path, list[tuple[str, str, str, str, bool]]] = {}
        for (gpkg, table), members in by_table.items():
            entries = by_gpkg.setdefault(gpkg, [])
            column = members[0].geometry_column
            if len(members) > 1:
                # the table opened alone shows every part as its project layer draws it
                entries.append(
                    (
                        table,
                        column,
                        f"{table}: todas las capas",
                        qml_text(combined_style(members)),
                        True,
                    )
                )
            for source in members:
                entries.append(
                    (table, column, source.spec.name, qml_text(source.style), len(members) == 1)
                )
        for gpkg, entries in by_gpkg.items():
            result.embedded[gpkg] = embed_styles(gpkg, entries)
    document = project_document(
        sources, title=title, crs=project_crs, extent=extent, time_range=_time_range(sources)
    )
    _write_qgz(target, xml_document(document), overwrite=overwrite)
    return result
