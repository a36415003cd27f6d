"""Evaluation of sectors: balance statistics, shape, coverage and labels, checked by hand."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from parsc_geo.districting.evaluate import (
    PLAN_EXISTING,
    coefficient_of_variation,
    evaluate_plan,
    gini,
    max_min_ratio,
    polsby_popper,
    summary_table,
)
from parsc_geo.districting.jurisdiction import Comisaria
from parsc_geo.districting.labels import label_style, letters, subsector_label
from parsc_geo.districting.workload import parse_weights

CRS = "EPSG:32717"
X0, Y0 = 770_000.0, 9_200_000.0


def test_balance_statistics_by_hand() -> None:
    # mean 4, deviations (−2, 0, 2): population sd √(8/3); CV = √(8/3)/4.
    assert coefficient_of_variation([2, 4, 6]) == pytest.approx(math.sqrt(8 / 3) / 4)
    assert max_min_ratio([2, 4, 6]) == 3.0
    assert max_min_ratio([0, 4]) == math.inf
    # Gini of (2, 4, 6): Σ|xi − xj| over ordered pairs = 2·(2 + 4 + 2) = 16; / (2·9·4) = 2/9.
    assert gini([2, 4, 6]) == pytest.approx(2 / 9)
    assert gini([5, 5, 5]) == 0.0
    assert math.isnan(gini([0, 0]))


def test_gini_matches_the_pairwise_definition() -> None:
    x = np.random.default_rng(3).gamma(0.7, size=25)
    pairwise = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(pairwise)


def test_polsby_popper_of_known_shapes() -> None:
    assert polsby_popper(shapely.box(0, 0, 1, 1)) == pytest.approx(math.pi / 4)
    # A 1 × 4 rectangle: 4π·4 / 10² = 0.16π.
    assert polsby_popper(shapely.box(0, 0, 4, 1)) == pytest.approx(0.16 * math.pi)
    assert polsby_popper(shapely.Point(0, 0).buffer(1, quad_segs=256)) == pytest.approx(1, abs=1e-4)


def layer(rows: list[tuple[str, str, shapely.Geometry]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "comisaria": "X",
            "comisaria_id": "",
            "sector": [r[0] for r in rows],
            "subsector": [r[1] for r in rows],
        },
        geometry=[r[2] for r in rows],
        crs=CRS,
    )


def test_evaluation_by_hand() -> None:
    # Jurisdiction 3 × 1 km. SECTOR 1 = two 1 km² subsectors (west), SECTOR 2 = one subsector
    # 0.9 km wide (east), leaving a 0.1 km² gap, plus an overlap of 0.05 km² with SECTOR 1.
    territory = shapely.box(X0, Y0, X0 + 3000, Y0 + 1000)
    a = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    b = shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
    c = shapely.box(X0 + 1950, Y0, X0 + 2900, Y0 + 1000)
    units = layer(
        [
            ("SECTOR 1", "SUB SECTOR A", a),
            ("SECTOR 1", "SUB SECTOR B", b),
            ("SECTOR 2", "SUB SECTOR C", c),
        ]
    )
    pts = [(X0 + 500, Y0 + 500)] * 3 + [(X0 + 1500, Y0 + 500)] + [(X0 + 2500, Y0 + 500)] * 4
    incidents = gpd.GeoDataFrame(
        {"harm": [1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0]},
        geometry=gpd.points_from_xy([p[0] for p in pts], [p[1] for p in pts]),
        crs=CRS,
    )
    com = Comisaria("X", "", True, None, 40)
    ev = evaluate_plan(
        units, incidents, comisaria=com, jurisdiction=territory, station_xy=(X0, Y0), year=2020
    )
    sectors = ev.units.query("nivel == 'sector'").set_index("sector")
    # SECTOR 1: 4 incidents, harm 1+1+1+2 = 5; SECTOR 2: 4 incidents, harm 12.
    assert sectors.loc["SECTOR 1", ["denuncias", "dano"]].tolist() == [4, 5]
    assert sectors.loc["SECTOR 2", ["denuncias", "dano"]].tolist() == [4, 12]
    assert sectors.loc["SECTOR 2", "pct_dano"] == pytest.approx(100 * 12 / 17)
    assert sectors.loc["SECTOR 1", "area_km2"] == pytest.approx(2.0)
    assert sectors.loc["SECTOR 2", "area_km2"] == pytest.approx(0.95)
    # Officers shared equally: 20 each; per 100 incidents 20/4·100 = 500.
    assert sectors.loc["SECTOR 1", "efectivos_por_100_denuncias"] == pytest.approx(500)
    # SECTOR 1 is a 2 × 1 km rectangle: PP = 4π·2/36.
    assert sectors.loc["SECTOR 1", "polsby_popper"] == pytest.approx(8 * math.pi / 36)
    summary = ev.summary["sector"]
    assert summary["hueco_km2"] == pytest.approx(0.1)
    assert summary["solape_km2"] == pytest.approx(0.05)
    assert summary["fuera_km2"] == pytest.approx(0.0)
    assert summary["cv_denuncias"] == 0.0
    # Gini of harm (5, 12): |5 − 12|·2 / (2·4·8.5).
    assert summary["gini_dano"] == pytest.approx(14 / 68)
    subs = ev.units.query("nivel == 'subsector'").set_index("subsector")
    assert subs["denuncias"].tolist() == [3, 1, 4]
    assert any("SECTOR 2 concentra el 71 % del daño con el 32 % del área" in f for f in ev.findings)
    table = summary_table([("X", ev)])
    cv_row = table[(table["clave"] == "cv_denuncias") & (table["nivel"] == "sector")]
    assert cv_row[PLAN_EXISTING].iloc[0] == 0.0


def test_non_contiguous_sector_is_reported() -> None:
    territory = shapely.box(X0, Y0, X0 + 3000, Y0 + 1000)
    west = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    middle = shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
    east = shapely.box(X0 + 2000, Y0, X0 + 3000, Y0 + 1000)
    units = layer([("SECTOR 1", "", shapely.union(west, east)), ("SECTOR 2", "", middle)])
    empty = gpd.GeoDataFrame({"harm": []}, geometry=[], crs=CRS)
    ev = evaluate_plan(
        units,
        empty,
        comisaria=Comisaria("X", "", True, None, None),
        jurisdiction=territory,
        station_xy=None,
        year=2020,
    )
    sectors = ev.units.set_index("sector")
    assert sectors.loc["SECTOR 1", "partes"] == 2
    assert not sectors.loc["SECTOR 1", "contiguo"]
    assert sectors.loc["SECTOR 2", "contiguo"]


def test_labels() -> None:
    assert [letters(k) for k in (1, 26, 27, 36, 37)] == ["A", "Z", "AA", "AJ", "AK"]
    assert subsector_label(36) == "SUB SECTOR AJ"
    assert subsector_label(10, "numbers") == "SUB SECTOR 10"
    assert label_style(["SUB SECTOR 1", "SUB SECTOR 2"]) == "numbers"
    assert label_style(["SUB SECTOR A", "SUB SECTOR AB"]) == "letters"
    assert label_style(["centro"]) is None


def test_weights_are_parsed_and_normalised() -> None:
    assert parse_weights("harm=3, population=1") == {"harm": 0.75, "population": 0.25}
    with pytest.raises(ValueError, match="no reconocido"):
        parse_weights("crimes=1")
