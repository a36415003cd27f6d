"""Where a critical point is: nearest named place, distance, bearing, UTM and geo URI.

Every expected value is computed independently of :mod:`parsc_geo.patrol.places`: points are
placed at a known distance and azimuth from a place with pyproj's geodesic ``fwd``, the nearest
place is found by brute force over every reference place with ``Geod.inv``, UTM zones are worked
out by hand from the longitude and coordinates checked against pyproj's transformation to the
zone's own EPSG code.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from pyproj import Geod, Transformer

from parsc_geo.patrol.places import (
    compass,
    distance_text,
    geo_uri,
    locate,
    nearest_places,
    reference_phrase,
    reference_places,
    utm_positions,
    utm_zone,
)

GEOD = Geod(ellps="WGS84")
#: Los Baños del Inca, capital of district 060108 (bundled INEI capitals table: 7°09'49" S,
#: 78°27'52" O, written with seven decimals).
BANOS = (-78.4644444, -7.1636111)


def test_compass_points_and_their_boundaries():
    # eight sectors of 45°, centred on N (337.5°–22.5°), NE (22.5°–67.5°) …
    assert [compass(a) for a in (0, 22.4, 22.5, 67.4, 67.5, 135, 180, 225, 270, 315)] == [
        "N",
        "N",
        "NE",
        "NE",
        "E",
        "SE",
        "S",
        "SO",
        "O",
        "NO",
    ]
    assert compass(337.5) == "N" and compass(-45) == "NO" and compass(720) == "N"


def test_distances_as_a_crew_reads_them():
    # 10 m steps below 1 km (347 → 350), km with one decimal and a comma below 10 km
    assert distance_text(347) == "350 m"
    assert distance_text(4) == "10 m"
    assert distance_text(1_234) == "1,2 km"
    assert distance_text(12_600) == "13 km"
    assert reference_phrase(5, 80, "Jesús") == "en Jesús"
    assert reference_phrase(347, 44, "Jesús") == "a 350 m al NE de Jesús"


def test_a_point_350_m_north_east_of_banos_del_inca():
    lon, lat, _ = GEOD.fwd(BANOS[0], BANOS[1], 45.0, 350.0)
    (ref,) = nearest_places([lon], [lat])
    assert ref.place == "Los Baños del Inca" and ref.kind == "capital distrital"
    assert ref.ubigeo == "060108"
    assert ref.distance_m == pytest.approx(350.0, abs=0.01)
    assert ref.azimuth == pytest.approx(45.0, abs=0.01)
    assert ref.phrase() == "a 350 m al NE de Los Baños del Inca"


def test_nearest_place_is_the_geodesic_nearest_anywhere_in_peru():
    places = reference_places()
    rng = np.random.default_rng(5)
    # random points across the country's extent (Tumbes to Tacna, Loreto to the coast)
    lon = rng.uniform(-80.5, -69.0, 25)
    lat = rng.uniform(-18.0, -0.5, 25)
    refs = nearest_places(lon, lat)
    p_lon = places["lon"].to_numpy(float)
    p_lat = places["lat"].to_numpy(float)
    for x, y, ref in zip(lon, lat, refs, strict=True):
        az, _, dist = GEOD.inv(p_lon, p_lat, np.full_like(p_lon, x), np.full_like(p_lat, y))
        best = int(np.argmin(dist))
        assert ref.distance_m == pytest.approx(dist[best], abs=1e-3)
        assert ref.place == places["place"].iloc[best]
        assert ref.azimuth == pytest.approx(az[best] % 360.0, abs=1e-6)


def test_a_populated_place_next_to_its_capital_is_the_capital():
    places = reference_places()
    capitals = places[places["kind"] == "capital distrital"]
    # the town of a capital is named once, as the capital: no populated place of the same
    # district lies within 200 m of it
    pop = places[places["kind"] == "centro poblado"].merge(
        capitals[["ubigeo", "lon", "lat"]], on="ubigeo", suffixes=("", "_cap")
    )
    _, _, dist = GEOD.inv(
        pop["lon_cap"].to_numpy(), pop["lat_cap"].to_numpy(), pop["lon"].to_numpy(), pop["lat"]
    )
    assert (np.asarray(dist) > 200.0).all()


@pytest.mark.parametrize(
    ("lon", "lat", "zone"),
    [
        # zone = floor((lon + 180) / 6) + 1: Cajamarca (−78.5 → 16.9 → 17), Lima (−77.03 →
        # 17.16 → 18), Puno (−70.02 → 18.33 → 19), all south of the equator
        (-78.51, -7.16, "17S"),
        (-77.03, -12.05, "18S"),
        (-70.02, -15.84, "19S"),
        # north of the equator (Tumbes' far north is south; a Colombian border point is north)
        (-75.0, 0.3, "18N"),
    ],
)
def test_utm_of_the_points_own_zone(lon, lat, zone):
    (pos,) = utm_positions([lon], [lat])
    assert pos.zone == zone
    number, south = utm_zone(lon, lat)
    epsg = (32700 if south else 32600) + number
    east, north = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True).transform(
        lon, lat
    )
    assert (pos.easting, pos.northing) == (round(east), round(north))
    assert pos.text().startswith(f"UTM {zone} ")


def test_geo_uri_opens_the_point_and_no_label_can_change_it():
    hostile = 'PC 1 (SECTOR "A") & q=0,0 ?#/ Jaén ñandú =HYPERLINK("x")'
    uri = geo_uri(-5.7092741, -78.8081234, hostile)
    parts = urlsplit(uri)
    assert parts.scheme == "geo" and parts.fragment == ""
    assert parts.path == "-5.70927,-78.80812"
    assert parts.query.startswith("q=-5.70927,-78.80812(") and parts.query.endswith(")")
    label = unquote(parts.query[len("q=-5.70927,-78.80812(") : -1])
    # ASCII letters, digits, spaces, "." and "-" only: accents dropped, brackets, quotes,
    # "&", "?", "#", "=" and "/" become spaces (runs collapsed); cut at 40 characters:
    # "PC 1 SECTOR A q 0 0 " (20) + "Jaen nandu " (11) + "HYPERLINK" (9) = 40, " x" dropped
    assert label == "PC 1 SECTOR A q 0 0 Jaen nandu HYPERLINK"
    assert set(label) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-")
    assert len(label) <= 40
    assert uri.isascii() and " " not in uri


def test_locate_gives_every_location_field():
    lon, lat, _ = GEOD.fwd(BANOS[0], BANOS[1], 200.0, 600.0)
    lon, lat = round(lon, 5), round(lat, 5)
    (row,) = locate([lon], [lat], ["PC 1 SECTOR 1"])
    assert row["utm_zona"] == "17S"
    assert row["lugar_referencia"] == "Los Baños del Inca"
    # 600 m towards 200° (S covers 157.5°–202.5°); rounding to 5 decimals moves it < 1 m
    assert row["distancia_lugar_m"] in (599, 600, 601)
    assert row["rumbo_lugar"] == "S"
    assert row["referencia"] == "a 600 m al S de Los Baños del Inca"
    where = f"{lat:.5f},{lon:.5f}"
    assert row["geo_uri"] == f"geo:{where}?q={where}(PC%201%20SECTOR%201)"
    assert isinstance(row["utm_este"], int) and isinstance(row["utm_norte"], int)
