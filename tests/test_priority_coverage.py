"""Units without data are listed apart, and a comparison is announced only when computed."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _priority import count_table
from esda.smoothing import Empirical_Bayes

from parsc_geo.boundaries import load_districts, population_for_year
from parsc_geo.labels_es import NO_DATA
from parsc_geo.priority import compute_priority
from parsc_geo.priority.counts import counts_from_points
from parsc_geo.priority.coverage import covered_units, points_coverage
from parsc_geo.priority.period import Period
from parsc_geo.priority.tables import detail_table, method_paragraphs, period_text, plan_markdown
from parsc_geo.priority.territories import plan_table


def test_a_table_covers_its_provinces_only():
    table = count_table(
        [
            ("060101", 2020, 3, "Robo", 40),
            ("060102", 2020, 4, "Robo", 2),
            ("060801", 2020, 3, "Robo", 12),
        ]
    )
    result = compute_priority(table, fenomenos=["patrimonio_espacio_publico"], n_boot=0)
    provinces = result.level("provincia").set_index("codigo")
    covered = provinces["con_datos"]
    assert set(covered[covered].index) == {"0601", "0608"}
    # the eleven others: listed, not ranked, no rate, last in the table
    outside = provinces[~covered]
    assert len(outside) == 11
    assert set(outside["nivel_publicado"]) == {NO_DATA}
    assert set(outside["nivel"]) == {""}
    assert outside["tasa"].isna().all() and outside["tasa_eb"].isna().all()
    assert list(result.level("provincia")["con_datos"]) == [True] * 2 + [False] * 11
    # the regional rate and the smoothing use the two covered provinces only
    pop = population_for_year(2020, "provincia").set_index("ubigeo_prov")["poblacion"]
    regional = 54 / (pop["0601"] + pop["0608"]) * 1e5
    assert provinces.loc["0601", "tasa_regional"] == pytest.approx(regional)
    ref = Empirical_Bayes(np.array([42.0, 12.0]), pop[["0601", "0608"]].to_numpy(float))
    np.testing.assert_allclose(
        provinces.loc[["0601", "0608"], "tasa_eb"], ref.r.ravel() * 1e5, rtol=1e-10
    )
    # at district level every district of the two provinces is covered (a SIDPOL table lists
    # only districts with complaints), no other
    districts = result.level("distrito")
    covered_d = districts[districts["con_datos"]]["codigo"]
    assert set(covered_d.str[:4]) == {"0601", "0608"}
    n_districts = population_for_year(2020, "distrito")["ubigeo_prov"].isin(["0601", "0608"])
    assert len(covered_d) == n_districts.sum()
    # published: a separate list, with the rule beside the table
    plan = plan_table(result)
    apart = plan[plan["CLÚSTER"] == NO_DATA]
    assert len(apart) == 11 and set(apart["FENÓMENO"]) == {"TODOS"}
    assert "SANTA CRUZ" in set(apart["PROVINCIA"])
    text = plan_markdown(result)
    assert f"**Provincias {NO_DATA} (no se ordenan):**" in text
    assert (
        "no se ordena: un cero allí no es un dato"
        in dict(method_paragraphs(result))["Unidades sin datos"]
    )
    assert any("11 provincias sin datos en el periodo" in note for note in result.notes)
    detail = detail_table(result)
    rows = detail[(detail["Nivel territorial"] == "Provincia") & (detail["UBIGEO"] == "0613")]
    assert rows["Con datos en el periodo"].iloc[0] == "no"
    assert pd.isna(rows["Denuncias"].iloc[0])
    assert rows["Nivel publicado"].iloc[0] == NO_DATA


def test_points_of_one_city_do_not_rank_the_region():
    # 60 points in the city of Cajamarca (around 78.52 W, 7.16 S)
    rng = np.random.default_rng(4)
    lon = -78.52 + rng.normal(0, 0.01, 60)
    lat = -7.16 + rng.normal(0, 0.01, 60)
    points = gpd.GeoDataFrame(
        {
            "occurred_at": [pd.Timestamp("2020-06-15", tz="America/Lima")] * 60,
            "delito_generico": "CONTRA EL PATRIMONIO",
            "delito_especifico": "ROBO",
            "modalidad": "ROBO AGRAVADO",
            "fenomeno": "patrimonio_espacio_publico",
            "label_known": True,
            "source": "denuncias_ciudad.csv",
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    table = counts_from_points(points, source="denuncias_ciudad.csv")
    result = compute_priority(table, fenomenos=["patrimonio_espacio_publico"], n_boot=0)
    provinces = result.level("provincia")
    assert provinces.loc[provinces["con_datos"], "codigo"].tolist() == ["0601"]
    assert (provinces.loc[~provinces["con_datos"], "nivel_publicado"] == NO_DATA).all()
    # districts: those holding a point, and those at least half inside the points' outline
    districts = load_districts(prefix=["0601"]).to_crs("EPSG:32717")
    hull = points.to_crs("EPSG:32717").union_all().convex_hull
    share = districts.intersection(hull).area / districts.area
    with_points = set(table["ubigeo"])
    expected = with_points | set(districts.loc[share >= 0.5, "ubigeo"])
    got = result.level("distrito")
    assert set(got.loc[got["con_datos"], "codigo"]) == expected
    assert "060101" in expected and len(expected) < 12
    assert result.inputs[0]["format"] == "puntos"
    assert result.inputs[0]["files"] == ["denuncias_ciudad.csv"]
    # the province is ranked with the population of all of it: the note says so
    assert any("En Cajamarca los datos cubren" in note for note in result.notes)


def test_a_source_outside_the_period_covers_nothing_in_it():
    old = count_table(
        [("060801", 2018, 5, "Robo", 30), ("060401", 2018, 6, "Robo", 10)], "viejo.csv"
    )
    new = count_table([("060101", 2020, 5, "Robo", 25)], "nuevo.csv")
    assert not covered_units([old], "provincia", ["0608"], Period.parse("2020")).any()
    assert covered_units([old], "provincia", ["0608", "0601"], Period.parse("2018")).tolist() == [
        True,
        False,
    ]
    result = compute_priority([old, new], levels=["provincia"], period="2020", n_boot=0)
    provinces = result.level("provincia")
    assert set(provinces.loc[provinces["con_datos"], "codigo"]) == {"0601"}


def test_points_coverage_counts_every_district_with_a_point():
    # one point in each of two districts far apart: the outline is a line, no area
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([-78.52, -78.81], [-7.16, -5.71]))
    points = points.set_crs("EPSG:4326")
    assert points_coverage(points, pd.Series(["060101", "060801"])) == ["060101", "060801"]


# ---------------------------------------------------------------- comparison


def test_the_change_is_computed_and_announced_when_the_previous_period_is_there():
    # January and December of both years: the data span both whole years
    table = count_table(
        [
            ("060101", 2019, 1, "Robo", 30),
            ("060101", 2019, 12, "Robo", 10),
            ("060101", 2020, 1, "Robo", 50),
            ("060801", 2019, 12, "Robo", 20),
            ("060801", 2020, 12, "Robo", 15),
        ]
    )
    result = compute_priority(
        table, levels=["provincia"], fenomenos=["patrimonio_espacio_publico"], period="2020"
    )
    assert result.compared
    rows = result.table.set_index("codigo")
    # (50 - 40) / 40 = +25 %; (15 - 20) / 20 = -25 %
    assert rows.loc["0601", "variacion"] == pytest.approx(25.0)
    assert rows.loc["0608", "variacion"] == pytest.approx(-25.0)
    assert period_text(result) == "ene 2020 – dic 2020 (comparado con ene 2019 – dic 2019)"
    detail = detail_table(result)
    assert "Variación (%)" in detail.columns
    assert detail.set_index("UBIGEO").loc["0601", "Variación (%)"] == 25
    assert "Variación (%)" in plan_markdown(result)


def test_no_comparison_is_announced_without_the_previous_period():
    table = count_table([("060101", 2020, 3, "Robo", 50), ("060801", 2020, 4, "Robo", 15)])
    result = compute_priority(table, levels=["provincia"], period="2020-01:2020-10", n_boot=0)
    assert not result.compared
    assert period_text(result) == "ene 2020 – oct 2020"
    text = plan_markdown(result)
    assert "comparado con" not in text
    assert "Variación (%)" not in text
    assert "Sin comparación con un periodo anterior" in text
    detail = detail_table(result)
    assert "Variación (%)" not in detail.columns
    assert "Denuncias del periodo anterior" not in detail.columns


def test_a_source_that_starts_in_the_period_prevents_the_comparison():
    # the SIDPOL table spans both years, the points start in 2020: a "change" would count
    # the points as growth
    sidpol = count_table(
        [("060101", 2019, 1, "Robo", 40), ("060101", 2020, 12, "Robo", 40)], "sidpol.csv"
    )
    points = count_table([("060801", 2020, 3, "Robo", 9)], "puntos.gpkg")
    result = compute_priority([sidpol, points], levels=["provincia"], period="2020", n_boot=0)
    assert not result.compared
    assert result.table["variacion"].isna().all()
    assert any("periodo anterior" in n and "puntos.gpkg" in n for n in result.notes)
    assert not any("sidpol.csv" in n and "periodo anterior" in n for n in result.notes)
