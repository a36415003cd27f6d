import numpy as np
import pandas as pd
import pytest
from _shared import shared_reference
from esda.smoothing import Empirical_Bayes

from parsc_geo._errors import ConfigError, InputDataError
from parsc_geo._text import fold
from parsc_geo.boundaries import population_for_year
from parsc_geo.labels_es import NO_COMPLAINTS
from parsc_geo.priority import (
    LEVEL_ALTA,
    LEVEL_NONE,
    Period,
    PriorityRule,
    compute_priority,
    plan_table,
    top_districts,
)
from parsc_geo.priority.counts import classify_counts, counts_from_incidents

REFERENCE = shared_reference("territorios_priorizados_parsc2021.csv")


def count_table(rows, source="tabla.csv"):
    """rows: (ubigeo, anio, mes, categoria, n)."""
    df = pd.DataFrame(rows, columns=["ubigeo", "anio", "mes", "categoria", "n"])
    df["anio"] = df["anio"].astype("Int64")
    df["mes"] = df["mes"].astype("Int64")
    df["source"] = source
    df["source_row"] = range(1, len(df) + 1)
    return classify_counts(df)


@pytest.fixture(scope="module")
def districts():
    return population_for_year(2024, "distrito")


@pytest.fixture(scope="module")
def regional_counts(districts):
    """Two years of monthly counts for every district; three provinces with more robbery."""
    rng = np.random.default_rng(42)
    rows = []
    hot = {"0601", "0608", "0604"}
    for year in (2023, 2024):
        for month in range(1, 13):
            for ubigeo, prov, pop in districts[["ubigeo", "ubigeo_prov", "poblacion"]].itertuples(
                index=False
            ):
                factor = 3.0 if prov in hot else 1.0
                for categoria, rate in (
                    ("Robo", 3e-4),
                    ("Violencia contra la mujer e integrantes", 4e-4),
                ):
                    k = int(rng.poisson(pop * rate * factor / 12))
                    if k:
                        rows.append((ubigeo, year, month, categoria, k))
                k = int(rng.poisson(pop * 1.5e-5 * factor / 12))
                if k:
                    rows.append((ubigeo, year, month, "HOMICIDIO", k))
    return count_table(rows, source="sidpol.csv")


@pytest.fixture(scope="module")
def result(regional_counts):
    return compute_priority(
        regional_counts, modalidades=["homicidio"], n_boot=20, period="2024-01:2024-12"
    )


# ---------------------------------------------------------------- check inputs


@pytest.mark.parametrize("text", ["2020-13", "20", "2020-01:2019-12", "a:b:c"])
def test_bad_periods(text):
    with pytest.raises(ConfigError):
        Period.parse(text)


def test_unknown_fenomeno(regional_counts):
    with pytest.raises(ConfigError, match=r"fenómeno\(s\) desconocido"):
        compute_priority(regional_counts, fenomenos=["robos"], n_boot=0)


def test_unknown_modalidad_lists_known_values(regional_counts):
    # a name neither the counts nor the taxonomy know is a mistake (a misspelling) …
    with pytest.raises(ConfigError, match="no coincide con ninguna categoría") as info:
        compute_priority(regional_counts, modalidades=["abigeatto"], n_boot=0)
    assert "HOMICIDIO" in str(info.value)
    # … while a crime of the taxonomy absent from these counts is a normal month (issue 11)
    res = compute_priority(regional_counts, modalidades=["abigeato"], n_boot=0)
    rows = res.table[res.table["objetivo"] == "modalidad:ABIGEATO"]
    assert len(rows) and (rows["n"] == 0).all()
    assert set(rows["motivo"]) == {NO_COMPLAINTS}


def test_bad_level(regional_counts):
    with pytest.raises(ConfigError, match="levels"):
        compute_priority(regional_counts, levels=["region"], n_boot=0)


def test_no_counts_in_study_area():
    table = count_table([("120101", 2024, 1, "Robo", 5)])
    with pytest.raises(InputDataError, match="ninguna denuncia en el área de estudio"):
        compute_priority(table, n_boot=0)


def test_period_outside_data(regional_counts):
    with pytest.raises(InputDataError, match="ningún conteo cae en el periodo"):
        compute_priority(regional_counts, period="2010", n_boot=0)


def test_period_on_table_without_time():
    table = count_table([("060101", None, None, "Robo", 5)])
    with pytest.raises(ConfigError, match="no tienen año ni mes"):
        compute_priority(table, period="2020", n_boot=0)


# ---------------------------------------------------------------- periods


def test_period_parsing_and_previous():
    p = Period.parse("2020-01:2020-10")
    assert (p.start, p.end, p.months) == (2020 * 12, 2020 * 12 + 9, 10)
    assert p.previous() == Period.parse("2019-01:2019-10")
    assert p.label() == "ene 2020 – oct 2020"
    assert Period.parse("2020") == Period.parse("2020-01:2020-12")
    assert Period.parse("2019:2020").previous() == Period.parse("2017:2018")
    assert Period.parse("2020-03").iso() == "2020-03:2020-03"


def test_default_period_is_latest_twelve_months(regional_counts):
    res = compute_priority(regional_counts, levels=["provincia"], n_boot=0)
    assert res.parameters["period"] == "2024-01:2024-12"
    assert res.parameters["previous_period"] == "2023-01:2023-12"


def test_incomplete_previous_period_gives_no_change(regional_counts):
    res = compute_priority(
        regional_counts, levels=["provincia"], period="2023-01:2023-06", n_boot=0
    )
    assert res.table["variacion"].isna().all()
    assert any("periodo anterior" in note for note in res.notes)


def test_yearly_table():
    table = count_table(
        [
            ("060101", 2019, None, "Robo", 100),
            ("060101", 2020, None, "Robo", 150),
            ("060801", 2020, None, "Robo", 30),
            ("060801", 2019, None, "Robo", 60),
        ]
    )
    res = compute_priority(
        table, levels=["provincia"], fenomenos=["patrimonio_espacio_publico"], n_boot=0
    )
    assert res.parameters["period"] == "2020-01:2020-12"
    rows = res.table.set_index("codigo")
    assert rows.loc["0601", "n"] == 150
    assert rows.loc["0601", "variacion"] == pytest.approx(50.0)
    assert rows.loc["0608", "variacion"] == pytest.approx(-50.0)


# ---------------------------------------------------------------- indicators


def test_indicators_by_hand(result, regional_counts):
    prov = result.level("provincia")
    rows = prov[prov["objetivo"] == "patrimonio_espacio_publico"].set_index("codigo")
    assert len(rows) == 13
    data = regional_counts[regional_counts["fenomeno"] == "patrimonio_espacio_publico"]
    key = data["ubigeo"].str[:4]
    current = data[data["anio"] == 2024].groupby(key)["n"].sum()
    previous = data[data["anio"] == 2023].groupby(key)["n"].sum()
    pop = population_for_year(2024, "provincia").set_index("ubigeo_prov")["poblacion"]
    assert (rows["anio_poblacion"] == 2022).all()  # nearest available year to 2024
    for code in ("0601", "0612"):
        n = current[code]
        assert rows.loc[code, "n"] == n
        assert rows.loc[code, "poblacion"] == pop[code]
        assert rows.loc[code, "tasa"] == pytest.approx(n / pop[code] * 1e5)
        assert rows.loc[code, "participacion"] == pytest.approx(n / current.sum() * 100)
        assert rows.loc[code, "n_anterior"] == previous[code]
        assert rows.loc[code, "variacion"] == pytest.approx(
            (n - previous[code]) / previous[code] * 100
        )
    assert rows["participacion"].sum() == pytest.approx(100.0)
    assert rows["tasa_regional"].iloc[0] == pytest.approx(current.sum() / pop.sum() * 1e5)


@pytest.mark.parametrize("level", ["provincia", "distrito"])
def test_smoothed_rates_match_esda(result, level):
    rows = result.level(level)
    rows = rows[rows["objetivo"] == "violencia_mujer"].sort_values("codigo")
    assert len(rows) == (13 if level == "provincia" else 127)
    e = rows["n"].to_numpy(dtype=float)
    b = rows["poblacion"].to_numpy(dtype=float)
    ref = Empirical_Bayes(e, b).r.ravel() * 1e5
    np.testing.assert_allclose(rows["tasa_eb"].to_numpy(), ref, rtol=1e-10)


def test_hot_provinces_are_prioritised(result):
    prov = result.prioritised("provincia")
    robo = prov[prov["objetivo"] == "patrimonio_espacio_publico"]
    assert set(robo["provincia"]) == {"Cajamarca", "Jaén", "Chota"}
    assert "ALTA PRIORIDAD" in set(robo["nivel"])


def test_levels_are_reproducible(regional_counts, result):
    again = compute_priority(
        regional_counts, modalidades=["homicidio"], n_boot=20, period="2024-01:2024-12"
    )
    pd.testing.assert_frame_equal(result.table, again.table)


def test_stability_is_a_share(result):
    stab = result.table["estabilidad"]
    assert stab.between(0, 1).all()
    # Provinces far from every boundary keep their level in every replicate.
    prov = result.level("provincia")
    cajamarca = prov[
        (prov["objetivo"] == "patrimonio_espacio_publico") & (prov["codigo"] == "0601")
    ]
    assert cajamarca["estabilidad"].iloc[0] == 1.0


def test_small_population_province_is_not_alta_prioridad_on_a_handful(districts):
    # Every province at ~10 robberies per 100,000, except San Pablo (the smallest, 22,225
    # inhabitants) with 9: the highest crude rate of the region, on a handful of complaints.
    pop = population_for_year(2024, "provincia").set_index("ubigeo_prov")["poblacion"]
    capital = districts.groupby("ubigeo_prov")["ubigeo"].min()
    rows = []
    for code, p in pop.items():
        n = 9 if code == "0612" else round(p * 1e-4)
        rows.append((capital[code], 2024, 6, "ROBO AGRAVADO", n))
    table = count_table(rows)
    res = compute_priority(
        table, levels=["provincia"], fenomenos=["patrimonio_espacio_publico"], n_boot=0
    )
    rows = res.table.set_index("codigo")
    assert rows["tasa"].idxmax() == "0612"  # the raw rate would put San Pablo first
    assert rows.loc["0612", "nivel"] != LEVEL_ALTA
    assert rows.loc["0612", "tasa_eb"] < rows.loc["0612", "tasa"]
    # Even a rule on the crude rate alone cannot make it ALTA PRIORIDAD: the guard caps it.
    crude = PriorityRule(method="thresholds", thresholds=(30, 12), indicator="tasa")
    res = compute_priority(
        table, levels=["provincia"], fenomenos=["patrimonio_espacio_publico"], rule=crude, n_boot=0
    )
    row = res.table.set_index("codigo").loc["0612"]
    assert row["nivel_regla"] == LEVEL_ALTA
    assert row["nivel"] != LEVEL_ALTA
    assert "mínimo 20" in row["motivo"]


def test_points_and_sidpol_counts_agree():
    # The same complaints as points (canonical labels) and as SIDPOL rows.
    labels = ["ROBO AGRAVADO"] * 4 + ["HURTO SIMPLE"] * 3 + ["EXTORSION"] * 2
    from parsc_geo.taxonomy import normalise_labels

    norm = normalise_labels(pd.Series(labels))
    incidents = pd.concat(
        [
            norm,
            pd.DataFrame(
                {
                    "ubigeo": ["060101"] * 9,
                    "occurred_at": pd.Timestamp("2024-05-10", tz="America/Lima"),
                }
            ),
        ],
        axis=1,
    )
    points = counts_from_incidents(incidents)
    sidpol = count_table(
        [
            ("060101", 2024, 5, "Robo", 4),
            ("060101", 2024, 5, "Hurto", 3),
            ("060101", 2024, 5, "Extorsión", 2),
        ]
    )
    a = compute_priority(points, levels=["provincia"], n_boot=0).table
    b = compute_priority(sidpol, levels=["provincia"], n_boot=0).table
    pd.testing.assert_series_equal(a["n"], b["n"])
    cajamarca = a[a["codigo"] == "0601"].set_index("objetivo")["n"]
    assert cajamarca["patrimonio_espacio_publico"] == 7
    assert cajamarca["bandas_criminales"] == 2


def test_rows_outside_study_area_are_noted():
    table = count_table([("060101", 2024, 1, "Robo", 5), ("010202", 2024, 1, "Robo", 4)])
    res = compute_priority(table, levels=["provincia"], n_boot=0)
    assert any("fuera del área de estudio" in note for note in res.notes)
    assert res.table["n"].sum() == 5


def test_province_tables_skip_district_level():
    table = count_table([("0601", 2024, 1, "Robo", 5), ("060801", 2024, 1, "Robo", 4)])
    res = compute_priority(table, fenomenos=["patrimonio_espacio_publico"], n_boot=0)
    assert res.level("provincia")["n"].sum() == 9
    assert res.level("distrito")["n"].sum() == 4
    assert any("por provincia" in note for note in res.notes)


# ---------------------------------------------------------------- ready-made answers


def test_top_districts_homicides(regional_counts):
    top = top_districts(regional_counts, modalidad="homicidio", n=7, period="2024")
    data = regional_counts[
        (regional_counts["delito_especifico"] == "HOMICIDIO") & (regional_counts["anio"] == 2024)
    ]
    by_district = data.groupby("ubigeo")["n"].sum().sort_values(ascending=False, kind="stable")
    assert len(top) == 7
    assert top["rank"].tolist() == list(range(1, 8))
    assert top["n"].tolist() == by_district.head(7).tolist()
    assert top["codigo"].iloc[0] == by_district.index[0]
    assert (top["n"].diff().dropna() <= 0).all()


def test_top_districts_arguments(regional_counts):
    with pytest.raises(ConfigError, match="exactamente uno"):
        top_districts(regional_counts)
    with pytest.raises(ConfigError, match="by debe ser"):
        top_districts(regional_counts, fenomeno="muertes_violentas", by="harm")


def test_plan_table_format(result):
    table = plan_table(result)
    assert list(table.columns) == [
        "FENÓMENO",
        "N/O",
        "DEPARTAMENTO",
        "PROVINCIA",
        "CLÚSTER",
        "DENUNCIAS",
        "TASA POR 100 000 HAB.",
        "TASA SUAVIZADA POR 100 000 HAB.",
        "ESTABILIDAD (%)",
        "OBSERVACIÓN",
    ]
    reference = pd.read_csv(REFERENCE)
    # the plan writes its labels without accents
    assert set(reference["fenomeno"]) <= {fold(v) for v in table["FENÓMENO"]}
    # the counts hold no banda criminal: that fenómeno's only row says so (issue 11)
    published = {"ALTA PRIORIDAD", "PRIORIDAD", NO_COMPLAINTS}
    assert all(v in published or v.startswith("NIVEL INCIERTO (") for v in table["CLÚSTER"])
    empty = table[table["CLÚSTER"] == NO_COMPLAINTS]
    assert empty["FENÓMENO"].tolist() == ["DELITOS COMETIDOS POR BANDAS CRIMINALES"]
    assert empty[["N/O", "PROVINCIA"]].to_numpy().tolist() == [["", ""]]
    assert (table["DEPARTAMENTO"] == "CAJAMARCA").all()
    first = table[table["FENÓMENO"] == "DELITOS PATRIMONIALES EN ESPACIOS PÚBLICOS"]
    assert first["N/O"].tolist()[:3] == ["a.", "b.", "c."]
    assert LEVEL_NONE not in set(table["CLÚSTER"])


def test_yearly_rows_straddling_the_period_are_noted():
    table = count_table([("060101", 2024, 3, "Robo", 5), ("060801", 2024, None, "Robo", 40)])
    res = compute_priority(table, levels=["provincia"], period="2024-01:2024-06", n_boot=0)
    assert res.table["n"].sum() == 5
    assert any("tablas anuales" in note for note in res.notes)


def test_motivo_shows_the_indicators(result):
    row = result.level("provincia").iloc[0]
    assert f"{row['n']} denuncias" in row["motivo"]
    assert f"{row['tasa_eb']:.1f}" in row["motivo"]


def test_row_order_of_the_counts_changes_nothing(regional_counts):
    shuffled = regional_counts.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = compute_priority(regional_counts, levels=["provincia"], n_boot=10)
    b = compute_priority(shuffled, levels=["provincia"], n_boot=10)
    pd.testing.assert_frame_equal(a.table, b.table)
