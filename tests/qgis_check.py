"""Open a QGIS project in a real, headless QGIS and print what QGIS made of it, as JSON.

Run with the Python that has QGIS's bindings (Debian: ``/usr/bin/python3`` with the
``python3-qgis`` package), not parsc-geo's virtual environment, and
``QT_QPA_PLATFORM=offscreen``::

    /usr/bin/python3 tests/qgis_check.py salida/proyecto.qgz --png vista.png

The report has the project's title, CRS, default view and time range; the layer tree (groups and
layers in order, ticked or not); and for every layer what QGIS loaded: validity, provider,
source, CRS, feature count, renderer type with its categories, classes or colour ramp, labels,
time settings. ``--open-alone`` also opens every GeoPackage layer and raster *without* the
project, as a user opening the file would, and reports the style QGIS applied by default.
``--png`` renders the visible layers at the project's default view into a PNG.

Only the standard library and QGIS are imported: the script runs outside parsc-geo's
environment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsGraduatedSymbolRenderer,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapLayerType,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize, Qt
from qgis.PyQt.QtGui import QColor


def _color(c: QColor) -> str:
    return f"#{c.red():02x}{c.green():02x}{c.blue():02x}"


def _renderer(layer: Any) -> dict[str, Any]:
    if layer.type() == QgsMapLayerType.RasterLayer:
        r = layer.renderer()
        out: dict[str, Any] = {"type": r.type() if r else None}
        if isinstance(r, QgsSingleBandPseudoColorRenderer):
            shader = r.shader().rasterShaderFunction()
            out.update(
                {
                    "band": r.band(),
                    "min": r.classificationMin(),
                    "max": r.classificationMax(),
                    "opacity": r.opacity(),
                    "items": [
                        {"value": i.value, "color": _color(i.color), "label": i.label}
                        for i in shader.colorRampItemList()
                    ],
                    "transparent": [
                        [p.min, p.max, p.percentTransparent]
                        for p in (
                            r.rasterTransparency().transparentSingleValuePixelList()
                            if r.rasterTransparency()
                            else []
                        )
                    ],
                    "legend_suffix": shader.legendSettings().suffix()
                    if shader.legendSettings()
                    else None,
                }
            )
        return out
    r = layer.renderer()
    if r is None:  # a table without geometry
        return {"type": None}
    out = {"type": r.type()}
    if isinstance(r, QgsCategorizedSymbolRenderer):
        out["field"] = r.classAttribute()
        out["categories"] = [
            {
                "value": c.value(),
                "label": c.label(),
                "color": _color(c.symbol().color()),
                "alpha": round(c.symbol().color().alphaF(), 2),
            }
            for c in r.categories()
        ]
    elif isinstance(r, QgsGraduatedSymbolRenderer):
        out["field"] = r.classAttribute()
        out["ranges"] = [
            {
                "lower": g.lowerValue(),
                "upper": g.upperValue(),
                "label": g.label(),
                "color": _color(g.symbol().color()),
            }
            for g in r.ranges()
        ]
    else:
        symbol = r.symbol() if hasattr(r, "symbol") else None
        if symbol is not None:
            out["color"] = _color(symbol.color())
    return out


def _layer(layer: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": layer.id(),
        "name": layer.name(),
        "valid": layer.isValid(),
        "provider": layer.providerType(),
        "source": layer.source(),
        "crs": layer.crs().authid(),
        "renderer": _renderer(layer) if layer.isValid() else None,
    }
    if layer.type() == QgsMapLayerType.VectorLayer:
        info["features"] = layer.featureCount()
        info["subset"] = layer.subsetString()
        info["labels"] = bool(layer.labelsEnabled() and layer.labeling() is not None)
        if info["labels"]:
            settings = layer.labeling().settings()
            info["label_field"] = settings.fieldName
            info["label_is_expression"] = settings.isExpression
            info["label_scale"] = (
                [settings.minimumScale, settings.maximumScale] if settings.scaleVisibility else None
            )
        info["fields"] = {f.name(): f.typeName() for f in layer.fields()}
        temporal = layer.temporalProperties()
        info["temporal"] = {
            "active": temporal.isActive(),
            "mode": int(temporal.mode()),
            "start_field": temporal.startField(),
        }
        info["map_tip"] = layer.mapTipTemplate()
    return info


def _tree(group: QgsLayerTreeGroup) -> list[dict[str, Any]]:
    out = []
    for child in group.children():
        if isinstance(child, QgsLayerTreeGroup):
            out.append(
                {
                    "group": child.name(),
                    "checked": child.itemVisibilityChecked(),
                    "children": _tree(child),
                }
            )
        elif isinstance(child, QgsLayerTreeLayer):
            out.append(
                {"layer": child.layerId(), "name": child.name(), "checked": child.isVisible()}
            )
    return out


def _alone(project: QgsProject) -> list[dict[str, Any]]:
    """Open every layer's file again, outside the project, and report the default style."""
    out = []
    seen = set()
    for layer in project.mapLayers().values():
        source = layer.source()
        if layer.type() == QgsMapLayerType.VectorLayer:
            base = source.split("|subset=", 1)[0]
            if base in seen:
                continue
            seen.add(base)
            alone = QgsVectorLayer(base, "alone", "ogr")
        else:
            alone = QgsRasterLayer(source, "alone", "gdal")
        out.append(
            {
                "source": source.split("|subset=", 1)[0],
                "valid": alone.isValid(),
                "renderer": _renderer(alone) if alone.isValid() else None,
                "labels": bool(
                    alone.type() == QgsMapLayerType.VectorLayer and alone.labelsEnabled()
                ),
            }
        )
    return out


def _render(
    project: QgsProject, png: str, size: int, box: list[float] | None = None
) -> dict[str, Any]:
    root = project.layerTreeRoot()
    layers = [n.layer() for n in root.findLayers() if n.isVisible() and n.layer() is not None]
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(project.crs())
    extent = QgsRectangle(*box) if box else project.viewSettings().defaultViewExtent()
    settings.setExtent(extent)
    # the longer side gets ``size`` pixels, the other follows the extent's shape
    ratio = extent.height() / extent.width() if extent.width() > 0 else 1.0
    if ratio > 1:
        settings.setOutputSize(QSize(max(1, round(size / ratio)), size))
    else:
        settings.setOutputSize(QSize(size, max(1, round(size * ratio))))
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setFlag(settings.Antialiasing, True)
    settings.setFlag(settings.DrawLabeling, True)
    settings.setTransformContext(project.transformContext())
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    ok = image.save(png, "PNG")
    return {
        "path": png,
        "saved": bool(ok),
        "width": image.width(),
        "height": image.height(),
        "layers": [layer.name() for layer in layers],
        "errors": [f"{e.layerID}: {e.message}" for e in job.errors()],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project")
    parser.add_argument("--png")
    parser.add_argument("--size", type=int, default=1400)
    parser.add_argument("--open-alone", action="store_true")
    parser.add_argument(
        "--extent", type=float, nargs=4, metavar=("XMIN", "YMIN", "XMAX", "YMAX"), default=None
    )
    args = parser.parse_args(argv)

    app = QgsApplication([], False)
    app.initQgis()
    try:
        project = QgsProject.instance()
        read = project.read(args.project)
        extent = project.viewSettings().defaultViewExtent()
        time_range = project.timeSettings().temporalRange()
        layers = [project.mapLayer(i) for i in project.layerTreeRoot().findLayerIds()]
        report: dict[str, Any] = {
            "qgis_version": __import__("qgis.core").core.Qgis.QGIS_VERSION,
            "read": bool(read),
            "title": project.title(),
            "crs": project.crs().authid(),
            "absolute_paths": project.readBoolEntry("Paths", "/Absolute", True)[0],
            "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
            "time_range": [
                time_range.begin().toString(Qt.ISODate),
                time_range.end().toString(Qt.ISODate),
            ],
            "tree": _tree(project.layerTreeRoot()),
            "layers": [_layer(layer) for layer in layers if layer is not None],
            "n_layers": len(project.mapLayers()),
        }
        if args.open_alone:
            report["alone"] = _alone(project)
        if args.png:
            report["png"] = _render(project, args.png, args.size, args.extent)
        print(json.dumps(report, ensure_ascii=False))
    finally:
        app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
