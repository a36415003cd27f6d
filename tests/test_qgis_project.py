"""The QGIS project of a run, opened in a real QGIS (Debian's python3-qgis, headless).

A small run (the synthetic sample's Chota province, with its sectors) is written by
``parsc-geo run``; the layers the project also shows (boundaries, sectors with counts, priority
choropleths, hotspots GeoPackage) are added with :mod:`parsc_geo.reports.qgis_layers`; the
project is written, the whole folder is *moved* (so only relative paths can work), and
``tests/qgis_check.py`` opens it with the system Python's QGIS and reports, as JSON, what QGIS
made of every layer. Expected values are read independently from the files (SQLite counts,
rasterio statistics, the atlas's colour tables).

Without python3-qgis the QGIS tests skip, unless ``PARSC_REQUIRE_QGIS=1`` (set by ``.ci/run``),
when they fail. ``PARSC_QGIS_PYTHON`` names another interpreter with QGIS's bindings.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from _chota import write_chota
from click.testing import CliRunner
from shapely.geometry import Point, box

from parsc_geo._errors import ConfigError, InputDataError, OutputError
from parsc_geo.cli.main import cli
from parsc_geo.maps.layers import DENSITY_COLORS, GI_CLASSES, METHOD_COLORS
from parsc_geo.priority_outputs import LEVEL_COLORS
from parsc_geo.reports.qgis_layers import (
    sector_layers,
    write_datetime_fields,
    write_layers,
    write_priority_layers,
)
from parsc_geo.reports.qgis_project import QgisLayer, embed_styles, write_qgis_project
from parsc_geo.reports.qgis_run import run_layers
from parsc_geo.reports.qgis_symbology import FENOMENO_COLORS, GROUPS
from parsc_geo.schema import FENOMENOS
from parsc_geo.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
CHECKER = Path(__file__).resolve().parent / "qgis_check.py"
ARTIFACTS = ROOT / "test-artifacts"
#: The Python that has QGIS's bindings (Debian's python3-qgis installs them for the system one).
QGIS_PYTHON = Path(os.environ.get("PARSC_QGIS_PYTHON", "/usr/bin/python3"))

#: Renderer QGIS must load for each kind of layer, and whether the layer has labels.
EXPECTED = {
    "incidents": ("categorizedSymbol", False),
    "stations": ("singleSymbol", False),
    "kde": ("singleSymbol", True),
    "hdbscan": ("singleSymbol", True),
    "dbscan": ("singleSymbol", True),
    "critical_points": ("singleSymbol", True),
    "sectors": ("singleSymbol", True),
    "subsectors": ("graduatedSymbol", True),
    "gistar": ("categorizedSymbol", False),
    "priority": ("categorizedSymbol", True),
    "provinces": ("singleSymbol", True),
    "districts": ("singleSymbol", True),
    "density": ("singlebandpseudocolor", None),
}


# -- running QGIS ------------------------------------------------------------------------------


def _qgis_missing() -> str | None:
    if not QGIS_PYTHON.exists():
        return f"{QGIS_PYTHON} is absent"
    probe = subprocess.run(
        [str(QGIS_PYTHON), "-c", "import qgis.core"], capture_output=True, text=True, timeout=120
    )
    if probe.returncode != 0:
        return "python3-qgis is not installed (apt-get install python3-qgis qgis-providers)"
    return None


@pytest.fixture(scope="session")
def qgis() -> None:
    reason = _qgis_missing()
    if reason is None:
        return
    if os.environ.get("PARSC_REQUIRE_QGIS") == "1":
        pytest.fail(f"QGIS tests required (PARSC_REQUIRE_QGIS=1) but {reason}")
    pytest.skip(reason)


def check_project(project: Path, *args: str) -> dict[str, Any]:
    """Open ``project`` in a headless QGIS (tests/qgis_check.py) and return its JSON report."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(
        [str(QGIS_PYTHON), str(CHECKER), str(project), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=project.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the run -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """``parsc-geo run`` on the sample's Chota province, plus the project's extra layers."""
    folder = tmp_path_factory.mktemp("qgis_run")
    write_chota(folder)
    (folder / "run.toml").write_text(
        """
title = "Prueba Chota"
synthetic = true
[inputs]
incidents = ["chota.csv"]
sectors = "sectores.geojson"
[hotspots]
methods = ["kde", "gistar", "hdbscan"]
[priority]
bootstrap = 10
[maps]
tiles = false
""",
        encoding="utf-8",
    )
    out = folder / "salida"
    result = CliRunner().invoke(
        cli, ["run", str(folder / "run.toml"), "--output", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output

    # the run writes the layers the project needs beside its outputs, and the project itself
    for name in (
        "limites.gpkg",
        "sectores.gpkg",
        "prioridad/prioridad.gpkg",
        "hotspots/hotspots.gpkg",
        "proyecto.qgz",
    ):
        assert (out / name).is_file(), name
    # the workspace stores occurrence times as DATETIME fields already: nothing to convert
    assert write_datetime_fields(out / "workspace.gpkg", "incidents") == []
    return out


@pytest.fixture(scope="module")
def written(run_folder: Path):
    # written again over the run's layers (the run wrote it first): the same project
    return write_qgis_project(
        run_folder, run_layers(run_folder), title="Mapa del delito — Chota (prueba)", overwrite=True
    )


@pytest.fixture(scope="module")
def moved(run_folder: Path, written, tmp_path_factory) -> Path:
    """The output folder moved elsewhere after the project was written."""
    target = tmp_path_factory.mktemp("movida") / "copia de salida"
    shutil.move(str(run_folder), str(target))
    return target


@pytest.fixture(scope="module")
def report(moved: Path, qgis) -> dict[str, Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / "qgis_proyecto_chota.png"
    return check_project(moved / "proyecto.qgz", "--open-alone", "--png", str(png))


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {layer["name"]: layer for layer in report["layers"]}


def _sql_count(gpkg: Path, table: str, where: tuple[str, str] | None) -> int:
    with sqlite3.connect(gpkg) as con:
        if where is None:
            return int(con.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])
        column, value = where
        return int(
            con.execute(
                f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ?', (value,)
            ).fetchone()[0]
        )


# -- the real QGIS -----------------------------------------------------------------------------


def test_project_and_every_layer_load_valid_in_qgis(report, written):
    assert report["read"] is True
    assert report["n_layers"] == len(written.layers) >= 12
    invalid = [layer["name"] for layer in report["layers"] if not layer["valid"]]
    assert invalid == []
    assert report["title"] == "Mapa del delito — Chota (prueba)"
    assert report["crs"] == "EPSG:4326"
    assert report["absolute_paths"] is False


def test_the_run_offers_every_kind_of_layer(written):
    kinds = {layer["kind"] for layer in written.layers}
    assert kinds >= {
        "incidents",
        "stations",
        "kde",
        "hdbscan",
        "gistar",
        "critical_points",
        "sectors",
        "subsectors",
        "priority",
        "provinces",
        "districts",
        "density",
    }
    hotspot_sources = [
        layer["source"] for layer in written.layers if layer["kind"] in ("kde", "gistar")
    ]
    assert all(s.startswith("./hotspots/hotspots.gpkg|") for s in hotspot_sources)


def test_renderers_and_labels_are_the_expected_ones(report, written):
    loaded = _by_name(report)
    for layer in written.layers:
        got = loaded[layer["name"]]
        renderer, labels = EXPECTED[layer["kind"]]
        assert got["renderer"]["type"] == renderer, layer["name"]
        if labels is not None:
            assert got["labels"] is labels, layer["name"]


def test_feature_counts_equal_the_files(report, written, moved):
    loaded = _by_name(report)
    for layer in written.layers:
        if layer["features"] is None:
            continue
        path, _, rest = layer["source"].removeprefix("./").partition("|layername=")
        table, _, subset = rest.partition("|subset=")
        where = None
        if subset:  # '"method" = \'kde\''
            column, value = subset.split(" = ", 1)
            where = (column.strip('"'), value.strip("'"))
        expected = _sql_count(moved / path, table, where)
        assert loaded[layer["name"]]["features"] == expected == layer["features"], layer["name"]
        assert expected > 0 or layer["kind"] == "gistar", layer["name"]


def test_density_ramp_is_in_the_rasters_own_units(report, moved):
    rasters = [layer for layer in report["layers"] if layer["provider"] == "gdal"]
    assert rasters
    for layer in rasters:
        with rasterio.open(layer["source"]) as src:
            values = src.read(1, masked=True).compressed()
        values = values[np.isfinite(values)]
        r = layer["renderer"]
        assert r["min"] == pytest.approx(float(values.min()))
        assert r["max"] == pytest.approx(float(values.max()))
        assert [i["color"] for i in r["items"]] == [c.lower() for c in DENSITY_COLORS]
        assert r["items"][0]["value"] == pytest.approx(float(values.min()))
        assert r["items"][-1]["value"] == pytest.approx(float(values.max()))
        assert all(i["label"].endswith(" incidentes/km²") for i in r["items"])
        assert r["legend_suffix"] == " incidentes/km²"
        # the atlas hides values below 2 % of the maximum
        assert r["transparent"] == [
            [pytest.approx(r["min"]), pytest.approx(r["min"] + 0.02 * (r["max"] - r["min"])), 100]
        ]
        assert layer["name"].startswith("Densidad — Chota")


def test_incidents_by_fenomeno_with_real_datetimes(report, moved):
    incidents = next(
        layer for layer in report["layers"] if layer["name"].startswith("Incidentes por fenómeno")
    )
    with sqlite3.connect(moved / "workspace.gpkg") as con:
        counts = dict(con.execute("SELECT fenomeno, COUNT(*) FROM incidents GROUP BY 1"))
        declared = {row[1]: row[2] for row in con.execute("PRAGMA table_info(incidents)")}
    cats = incidents["renderer"]["categories"]
    assert incidents["renderer"]["field"] == "fenomeno"
    assert {c["value"] for c in cats} == set(counts)
    for c in cats:
        n = f"{counts[c['value']]:,}".replace(",", "\u00a0")
        assert c["label"] == f"{FENOMENOS[c['value']]} ({n})"
        assert c["color"] == FENOMENO_COLORS[c["value"]].lower()
    assert declared["occurred_at"] == "DATETIME"
    assert incidents["fields"]["occurred_at"] == "DateTime"
    assert incidents["temporal"] == {"active": True, "mode": 1, "start_field": "occurred_at"}
    when = Workspace(moved / "workspace.gpkg").read_incidents()["occurred_at"].dt.tz_convert("UTC")
    assert report["time_range"] == [
        when.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
        when.max().strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]


def test_zones_gistar_and_priority_use_the_atlas_colours(report, written, moved):
    loaded = _by_name(report)
    for layer in written.layers:
        got = loaded[layer["name"]]
        if layer["kind"] in METHOD_COLORS:
            assert got["renderer"]["color"] == METHOD_COLORS[layer["kind"]]
            assert got["label_field"] == "rank"
            # rank badges show from 1:500 000 inward (QGIS: minimum scale 500 000)
            assert got["label_scale"] == [500000.0, 0.0]
        if layer["kind"] == "gistar":
            for c in got["renderer"]["categories"]:
                assert c["color"] == GI_CLASSES[c["value"]][1]
                assert c["label"].startswith(GI_CLASSES[c["value"]][0])
        if layer["kind"] == "priority":
            table = layer["source"].split("|layername=")[1]
            with sqlite3.connect(moved / "prioridad" / "prioridad.gpkg") as con:
                levels = {r[0] for r in con.execute(f'SELECT DISTINCT nivel FROM "{table}"')}
            cats = got["renderer"]["categories"]
            assert {c["value"] for c in cats} == levels
            assert all(c["color"] == LEVEL_COLORS[c["value"]] for c in cats)
            assert got["label_field"] == "nombre"


def test_subsectors_are_graduated_by_incident_count(report, moved):
    subs = next(layer for layer in report["layers"] if layer["name"].startswith("Subsectores"))
    counts = gpd.read_file(moved / "sectores.gpkg", layer="subsectores")["n"]
    ranges = subs["renderer"]["ranges"]
    assert subs["renderer"]["field"] == "n"
    assert ranges[0]["lower"] == pytest.approx(counts.min())
    assert ranges[-1]["upper"] == pytest.approx(counts.max())
    # every subsector falls in a class (lower bound of the first class closed)
    inside = [
        any(
            (r["lower"] <= v if i == 0 else r["lower"] < v) and v <= r["upper"]
            for i, r in enumerate(ranges)
        )
        for v in counts
    ]
    assert all(inside)
    assert subs["label_is_expression"] is True


def test_layer_tree_follows_the_atlas(report):
    groups = [node["group"] for node in report["tree"]]
    assert groups == [g for g in GROUPS if g in groups]
    assert groups[0] == "Incidentes" and groups[-1] == "Densidad kernel (incidentes/km²)"
    checked = {node["group"]: node["checked"] for node in report["tree"]}
    # as in the atlas: Gi* cells hidden when zone polygons are drawn; priority maps on demand
    assert checked["Getis-Ord Gi*"] is False
    assert checked["Prioridad territorial"] is False
    assert checked["Incidentes"] is True
    assert checked["Zonas críticas"] is True


def test_paths_are_relative_and_the_extent_is_the_datas(moved, report):
    with zipfile.ZipFile(moved / "proyecto.qgz") as archive:
        names = archive.namelist()
        root = ET.fromstring(archive.read(names[0]))
    assert names == ["proyecto.qgs"]
    sources = [e.text or "" for e in root.iter("datasource")]
    assert sources and all(s.startswith("./") for s in sources)
    assert str(moved.parent) not in ET.tostring(root, encoding="unicode")
    with sqlite3.connect(moved / "workspace.gpkg") as con:
        xmin, xmax, ymin, ymax = con.execute(
            "SELECT MIN(minx), MAX(maxx), MIN(miny), MAX(maxy) FROM rtree_incidents_geom"
        ).fetchone()
    ext = report["extent"]
    # the view holds every incident, and is not the whole region (Chota is ~1/10 of it)
    assert ext[0] <= xmin and ext[1] <= ymin and ext[2] >= xmax and ext[3] >= ymax
    assert (ext[2] - ext[0]) < 1.5 * (xmax - xmin) + 0.2


def test_geopackages_and_rasters_opened_alone_show_the_style(report):
    alone = {a["source"].split("/")[-1]: a for a in report["alone"]}
    assert all(a["valid"] for a in alone.values())
    assert alone["workspace.gpkg|layername=incidents"]["renderer"]["type"] == "categorizedSymbol"
    # hotspots of every method in one table: one rule per project layer
    assert alone["hotspots.gpkg|layername=hotspots"]["renderer"]["type"] == "RuleRenderer"
    assert alone["sectores.gpkg|layername=subsectores"]["renderer"]["type"] == "graduatedSymbol"
    assert alone["sectores.gpkg|layername=sectores"]["labels"] is True
    tifs = [a for name, a in alone.items() if name.endswith(".tif")]
    assert tifs and all(a["renderer"]["type"] == "singlebandpseudocolor" for a in tifs)


def test_rendered_view_is_saved_for_people(report):
    png = report["png"]
    assert png["saved"] is True and png["errors"] == []
    path = Path(png["path"])
    assert path.exists() and path.stat().st_size > 20_000
    from PIL import Image

    colours = Image.open(path).convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200  # a map, not a blank canvas


# -- hostile text and edge cases in a real QGIS ------------------------------------------------

HOSTILE = [
    'otros</category><category value="x" label="inyectado"/>',
    "a & b <c>",
    'comillas " dobles',
    "fin ]]> de CDATA",
    "apóstrofo ' y control\x0b",
]


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostil")
    points = gpd.GeoDataFrame(
        {
            "incident_id": [f"I{i}" for i in range(len(HOSTILE))],
            "fenomeno": HOSTILE,
            "occurred_at": pd.date_range("2024-01-01", periods=len(HOSTILE), freq="D", tz="UTC"),
        },
        geometry=[Point(-78.5 + i / 100, -7.1) for i in range(len(HOSTILE))],
        crs="EPSG:4326",
    )
    classes = list(GI_CLASSES)
    cells = gpd.GeoDataFrame(
        {
            "hotspot_id": [f"c{i}" for i in range(len(classes))],
            "method": ["gistar"] * len(classes),
            "rank": list(range(1, len(classes) + 1)),
            "gi_class": classes,
        },
        geometry=[box(-78.5 + i / 50, -7.2, -78.49 + i / 50, -7.19) for i in range(len(classes))],
        crs="EPSG:4326",
    )
    empty = gpd.GeoDataFrame(
        {"hotspot_id": [], "method": [], "rank": []}, geometry=[], crs="EPSG:4326"
    )
    write_layers(folder / "datos <&>.gpkg", {"puntos": points, "celdas": cells, "vacia": empty})
    return folder


@pytest.fixture(scope="module")
def hostile_report(hostile_folder: Path, qgis) -> dict[str, Any]:
    layers = [
        QgisLayer("datos <&>.gpkg", "incidents", 'Capa "<b>&amp;</b>" ]]>', "puntos"),
        QgisLayer("datos <&>.gpkg", "gistar", "Gi* seis clases", "celdas"),
        QgisLayer("datos <&>.gpkg", "dbscan", "Vacía", "vacia"),
    ]
    # a projected project CRS (UTM 17S) over EPSG:4326 data
    write_qgis_project(hostile_folder, layers, title='Título <x> & "y" ]]>', crs="EPSG:32717")
    return check_project(hostile_folder / "proyecto.qgz")


def test_hostile_text_is_data_in_the_xml(hostile_report, hostile_folder):
    with zipfile.ZipFile(hostile_folder / "proyecto.qgz") as archive:
        root = ET.fromstring(archive.read("proyecto.qgs"))
    layer = next(e for e in root.iter("maplayer") if e.findtext("layername", "").startswith("Capa"))
    assert layer.findtext("layername") == 'Capa "<b>&amp;</b>" ]]>'
    values = [c.get("value") for c in layer.iter("category")]
    # one category per value, nothing injected, the control character (not XML) removed
    assert sorted(values) == sorted(v.replace("\x0b", "") for v in HOSTILE)
    assert root.findtext("title") == 'Título <x> & "y" ]]>'
    qml = (hostile_folder / "datos_puntos.qml").read_text(encoding="utf-8")
    assert len(ET.fromstring(qml.split("\n", 1)[1]).findall(".//category")) == len(HOSTILE)


def test_hostile_text_reaches_qgis_as_text(hostile_report):
    assert hostile_report["read"] is True
    assert hostile_report["title"] == 'Título <x> & "y" ]]>'
    layers = _by_name(hostile_report)
    incidents = layers['Capa "<b>&amp;</b>" ]]>']
    assert incidents["valid"] is True
    assert {c["value"] for c in incidents["renderer"]["categories"]} == {
        v.replace("\x0b", "") for v in HOSTILE
    }


def test_project_crs_can_be_projected(hostile_report):
    from pyproj import Transformer

    assert hostile_report["crs"] == "EPSG:32717"
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32717", always_xy=True)
    xs, ys = to_utm.transform([-78.5, -78.5 + 4 / 100], [-7.1, -7.1])  # first and last point
    xmin, ymin, xmax, ymax = hostile_report["extent"]
    assert xmin <= min(xs) and xmax >= max(xs) and ymin <= min(ys) and ymax >= max(ys)
    assert 0 < xmax - xmin < 20_000  # metres around the points, not degrees
    layers = _by_name(hostile_report)
    assert layers["Gi* seis clases"]["crs"] == "EPSG:4326"  # the data keep theirs


def test_all_six_gistar_classes_and_an_empty_layer(hostile_report):
    layers = _by_name(hostile_report)
    gi = layers["Gi* seis clases"]
    assert [c["value"] for c in gi["renderer"]["categories"]] == list(GI_CLASSES)
    assert [c["color"] for c in gi["renderer"]["categories"]] == [
        colour for _, colour in GI_CLASSES.values()
    ]
    assert all(c["alpha"] == 0.4 for c in gi["renderer"]["categories"])
    empty = layers["Vacía"]
    assert empty["valid"] is True and empty["features"] == 0


# -- pure Python: dates, layers, styles, errors ------------------------------------------------


def _workspace_with_times(tmp_path: Path) -> Path:
    times = pd.to_datetime(
        ["2020-01-01T00:00:00-05:00", "2020-03-05T14:30:00-05:00", "2020-12-31T23:59:00-05:00"]
    ).tz_convert("America/Lima")
    frame = gpd.GeoDataFrame(
        {
            "incident_id": ["a", "b", "c"],
            "occurred_at": times,
            "fenomeno": ["otros", "muertes_violentas", "otros"],
            "at_station": [False, True, False],
        },
        geometry=[Point(-78.5, -7.1), Point(-78.4, -7.2), Point(-78.3, -7.3)],
        crs="EPSG:4326",
    )
    # the text form workspaces were written in before they stored DATETIME fields
    frame["occurred_at"] = [t.isoformat() for t in times]
    path = tmp_path / "workspace.gpkg"
    write_layers(path, {"incidents": frame})
    return path


def test_datetime_fields_keep_every_instant(tmp_path):
    path = _workspace_with_times(tmp_path)
    with sqlite3.connect(path) as con:
        before_text = [r[0] for r in con.execute("SELECT occurred_at FROM incidents")]
    assert before_text[0] == "2020-01-01T00:00:00-05:00"  # an older workspace's text form
    before = Workspace(path).read_incidents()
    assert write_datetime_fields(path, "incidents") == ["occurred_at"]
    after = Workspace(path).read_incidents()
    # same instants, same zone (GDAL returns millisecond resolution, the text microseconds)
    assert str(after["occurred_at"].dt.tz) == "America/Lima"
    pd.testing.assert_series_equal(
        before["occurred_at"], after["occurred_at"].dt.as_unit(before["occurred_at"].dt.unit)
    )
    assert after["at_station"].tolist() == [False, True, False]
    with sqlite3.connect(path) as con:
        declared = {r[1]: r[2] for r in con.execute("PRAGMA table_info(incidents)")}
        stored = [r[0] for r in con.execute("SELECT occurred_at FROM incidents")]
    assert declared["occurred_at"] == "DATETIME"
    # 2020-01-01 00:00 in Lima (UTC-5) is 05:00 UTC, in the GeoPackage's standard form
    assert stored == [
        "2020-01-01T05:00:00.000Z",
        "2020-03-05T19:30:00.000Z",
        "2021-01-01T04:59:00.000Z",
    ]
    assert write_datetime_fields(path, "incidents") == []  # already done: nothing to do


def test_datetime_fields_refuse_text_that_is_not_a_date(tmp_path):
    frame = gpd.GeoDataFrame(
        {"occurred_at": ["2020-01-01T00:00:00-05:00", "ayer"]},
        geometry=[Point(0, 0), Point(1, 1)],
        crs="EPSG:4326",
    )
    path = write_layers(tmp_path / "x.gpkg", {"incidents": frame})
    original = path.read_bytes()
    with pytest.raises(InputDataError, match="'ayer'"):
        write_datetime_fields(path, "incidents")
    assert path.read_bytes() == original
    with pytest.raises(InputDataError, match="no tiene la capa"):
        write_datetime_fields(path, "otra")
    with pytest.raises(InputDataError, match="fecha_hora"):
        write_datetime_fields(path, "incidents", ["fecha_hora"])


def test_sector_layers_count_incidents_by_hand():
    # two subsectors of one sector side by side, one of another sector; 3 + 1 + 0 points
    sectors = gpd.GeoDataFrame(
        {
            "comisaria": ["C", "C", "C"],
            "sector": ["SECTOR 10", "SECTOR 2", "SECTOR 2"],
            "subsector": ["SUB SECTOR A", "SUB SECTOR B", "SUB SECTOR A"],
        },
        geometry=[box(2, 0, 3, 1), box(1, 0, 2, 1), box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )
    points = gpd.GeoDataFrame(
        geometry=[Point(0.5, 0.5), Point(0.2, 0.7), Point(0.9, 0.1), Point(1.5, 0.5)],
        crs="EPSG:4326",
    )
    layers = sector_layers(sectors, points)
    subs = layers["subsectores"]
    assert subs[["sector", "subsector", "n"]].values.tolist() == [
        ["SECTOR 2", "SUB SECTOR A", 3],
        ["SECTOR 2", "SUB SECTOR B", 1],
        ["SECTOR 10", "SUB SECTOR A", 0],
    ]
    by_sector = layers["sectores"]
    assert by_sector[["sector", "n"]].values.tolist() == [["SECTOR 2", 4], ["SECTOR 10", 0]]
    assert by_sector.geometry.iloc[0].equals(box(0, 0, 2, 1))


def test_priority_layers_one_per_level_and_target(tmp_path):
    table = pd.DataFrame(
        {
            "nivel_territorial": ["provincia", "provincia", "provincia"],
            "objetivo": ["muertes_violentas", "muertes_violentas", "otros"],
            "objetivo_nombre": ["Muertes violentas", "Muertes violentas", "Otros delitos"],
            "codigo": ["0605", "0608", "0605"],
            "n": [30, 3, 1],
            "nivel": ["ALTA PRIORIDAD", "", "PRIORIDAD"],
            "estabilidad": [0.955, 1.0, 0.5],
        }
    )
    path = write_priority_layers(table, tmp_path / "prioridad.gpkg")
    mv = gpd.read_file(path, layer="prioridad_provincia_muertes_violentas")
    assert mv["nombre"].tolist() == ["Contumazá", "Jaén"]  # names with accents
    assert mv["nivel_texto"].tolist() == ["Alta prioridad", "Sin prioridad"]
    assert mv["estabilidad_pct"].tolist() == [95.5, 100.0]
    assert gpd.read_file(path, layer="prioridad_provincia_otros")["n"].tolist() == [1]


def test_embedded_styles_replace_by_name_and_keep_one_default(tmp_path):
    path = _workspace_with_times(tmp_path)
    embed_styles(path, [("incidents", "geom", "uno", "<qgis/>", True)])
    embed_styles(
        path,
        [
            ("incidents", "geom", "dos", "<qgis a='2'/>", True),
            ("incidents", "geom", "uno", "<x/>", False),
        ],
    )
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT styleName, styleQML, useAsDefault, f_table_schema FROM layer_styles "
            "ORDER BY styleName"
        ).fetchall()
        kind = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert rows == [("dos", "<qgis a='2'/>", 1, ""), ("uno", "<x/>", 0, "")]
    assert kind == ("attributes",)
    # the incidents themselves are untouched
    assert len(Workspace(path).read_incidents()) == 3


def test_project_refuses_bad_layers(tmp_path):
    path = _workspace_with_times(tmp_path)
    good = QgisLayer("workspace.gpkg", "incidents", "Incidentes", "incidents")
    cases = [
        (QgisLayer("workspace.gpkg", "nube", "X", "incidents"), ConfigError, "desconocido"),
        (QgisLayer(str(path), "incidents", "X", "incidents"), ConfigError, "relativa"),
        (QgisLayer("../workspace.gpkg", "incidents", "X", "incidents"), ConfigError, "sale"),
        (QgisLayer("falta.gpkg", "incidents", "X"), InputDataError, "no existe"),
        (QgisLayer("workspace.gpkg", "incidents", "X", "otra"), InputDataError, "no tiene la capa"),
        (QgisLayer("workspace.gpkg", "gistar", "X", "incidents"), InputDataError, "gi_class"),
    ]
    for layer, error, message in cases:
        with pytest.raises(error, match=message):
            write_qgis_project(tmp_path, [layer], title="x")
    with pytest.raises(ConfigError, match="repite"):
        write_qgis_project(tmp_path, [good, good], title="x")
    assert not (tmp_path / "proyecto.qgz").exists()
    write_qgis_project(tmp_path, [good], title="x")
    with pytest.raises(OutputError, match="ya existe"):
        write_qgis_project(tmp_path, [good], title="x")


def test_project_bytes_are_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    _workspace_with_times(tmp_path)
    layer = QgisLayer("workspace.gpkg", "incidents", "Incidentes", "incidents")
    write_qgis_project(tmp_path, [layer], title="x")
    first = (
        (tmp_path / "proyecto.qgz").read_bytes(),
        (tmp_path / "workspace_incidents.qml").read_bytes(),
    )
    write_qgis_project(tmp_path, [layer], title="x", overwrite=True)
    second = (
        (tmp_path / "proyecto.qgz").read_bytes(),
        (tmp_path / "workspace_incidents.qml").read_bytes(),
    )
    assert first == second
