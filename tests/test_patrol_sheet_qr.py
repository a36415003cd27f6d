"""Every QR code of the demo's patrol sheets opens its own critical point.

The demo's sheets (the bundled sample's comisarías with sectors, as the run writes them) are
written to PDF and PNG; every PNG page is decoded with ZXing (``zxing-cpp``, independent of
the QR encoder ``segno``), and each code must be a ``geo:`` URI whose coordinates are those of
its critical point to five decimals: the representative point of the point's polygon in WGS 84,
computed here with geopandas from the plan's polygons.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import geopandas as gpd
import pytest
from shapely.geometry import Point

from parsc_geo.reports.patrol_outputs import page_names

pytestmark = pytest.mark.slow

GEO = re.compile(r"^geo:(-?\d+\.\d{5}),(-?\d+\.\d{5})\?q=(-?\d+\.\d{5}),(-?\d+\.\d{5})\((.*)\)$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from parsc_geo.datasets import sample_paths
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.patrol import plan_patrols
    from parsc_geo.reports import write_patrol_outputs
    from parsc_geo.workflow import ingest

    paths = sample_paths()
    ingested = ingest([paths["incidents"]], IngestOptions(), sectors_path=paths["sectors"])
    plan = plan_patrols(ingested.result.accepted, ingested.sectors)
    out = tmp_path_factory.mktemp("demo_patrol")
    write_patrol_outputs(plan, out, synthetic=True)
    return plan, out


def decoded(path) -> list[str]:
    import zxingcpp
    from PIL import Image

    with Image.open(path) as im:
        return [
            r.text for r in zxingcpp.read_barcodes(im) if r.format == zxingcpp.BarcodeFormat.QRCode
        ]


def test_every_qr_code_opens_its_critical_point(demo):
    plan, out = demo
    frame = plan.points_frame()
    assert len(frame) > 0
    centre = frame.geometry.representative_point()
    expected = {
        (row.comisaria, row.sector, int(row.rango)): (round(c.y, 5), round(c.x, 5))
        for row, c in zip(frame.itertuples(), centre, strict=True)
    }
    found: dict[tuple[str, str, int], tuple[float, float]] = {}
    owner = {name: sp for sp in plan.sectors for name in page_names(sp)}
    pngs = sorted((out / "png").glob("*.png"))
    assert {p.name for p in pngs} == set(owner)
    for path in pngs:
        sp = owner[path.name]
        for text in decoded(path):
            match = GEO.match(text)
            assert match, text
            lat, lon, q_lat, q_lon, label = match.groups()
            assert (lat, lon) == (q_lat, q_lon)
            # the label names the point: "PC <rank> <sector> <comisaría>" in ASCII
            words = unquote(label).split(" ")
            assert words[0] == "PC"
            assert "_puntos" in path.name, "a code on an overview page"
            key = (sp.comisaria, sp.sector, int(words[1]))
            assert key not in found, f"{key} twice"
            found[key] = (float(lat), float(lon))
    # one code per critical point, none missing, each at its point to 5 decimals
    assert set(found) == set(expected)
    for key, (lat, lon) in found.items():
        assert (lat, lon) == pytest.approx(expected[key], abs=5e-6), key


def test_qr_code_point_lies_in_its_polygon(demo):
    plan, _ = demo
    frame = plan.points_frame()
    utm = frame.to_crs(plan.crs)

    spots = gpd.GeoSeries(
        [Point(lon, lat) for lon, lat in zip(frame["lon"], frame["lat"], strict=True)],
        crs="EPSG:4326",
    ).to_crs(plan.crs)
    # five decimals of a degree are at most 0.5e-5° ≈ 0.6 m off in each direction
    distance = [poly.distance(p) for poly, p in zip(utm.geometry, spots, strict=True)]
    assert max(distance) < 1.0
