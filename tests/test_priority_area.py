"""The priority analysis of study areas other than Cajamarca: units, populations and titles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parsc_geo._data import boundaries_dir
from parsc_geo.priority import compute_priority, plan_table
from parsc_geo.priority.counts import classify_counts
from parsc_geo.priority.outputs import plan_markdown


def count_table(rows):
    df = pd.DataFrame(rows, columns=["ubigeo", "anio", "mes", "categoria", "n"])
    df["anio"] = df["anio"].astype("Int64")
    df["mes"] = df["mes"].astype("Int64")
    df["source"] = "sidpol.csv"
    df["source_row"] = range(1, len(df) + 1)
    return classify_counts(df)


@pytest.fixture(scope="module")
def population():
    table = pd.read_csv(boundaries_dir() / "peru_poblacion_distrital.csv", dtype={"ubigeo": str})
    return table.set_index("ubigeo")


@pytest.fixture(scope="module")
def national_counts(population):
    """A year of robberies in every district of Peru (SIDPOL-like national open data)."""
    rng = np.random.default_rng(7)
    rows = [
        (u, 2022, m, "Robo", int(k))
        for u, pop in population["poblacion_estimada_2022"].items()
        for m in (1, 6)
        if (k := rng.poisson(pop * 2e-4))
    ]
    return count_table(rows)


def test_a_department_ranks_its_own_units_with_inei_populations(national_counts, population):
    result = compute_priority(
        national_counts, fenomenos=["patrimonio_espacio_publico"], n_boot=0, study_area="Áncash"
    )
    table = result.table
    districts = table[table["nivel_territorial"] == "distrito"]
    expected = population[population.index.str.startswith("02")]
    assert set(districts["codigo"]) == set(expected.index)  # all 166 districts of Áncash
    # the 2022 estimate: the population year nearest a 2022 period
    got = districts.set_index("codigo")["poblacion"]
    assert (got == expected.loc[got.index, "poblacion_estimada_2022"]).all()
    in_area = national_counts["ubigeo"].str.startswith("02")
    assert table.loc[table["nivel_territorial"] == "provincia", "n"].sum() == int(
        national_counts.loc[in_area, "n"].sum()
    )
    assert any("fuera del área de estudio" in note for note in result.notes)
    assert plan_markdown(result).startswith(
        "# Territorios de Intervención Prioritaria Región Áncash"
    )
    assert set(plan_table(result)["DEPARTAMENTO"]) <= {"ÁNCASH"}


def test_the_whole_country_and_a_province(national_counts):
    country = compute_priority(
        national_counts, fenomenos=["patrimonio_espacio_publico"], n_boot=0, study_area="peru"
    )
    provinces = country.table[country.table["nivel_territorial"] == "provincia"]
    assert provinces["codigo"].nunique() == 196
    assert plan_markdown(country).startswith("# Territorios de Intervención Prioritaria Perú")
    one = compute_priority(
        national_counts, fenomenos=["patrimonio_espacio_publico"], n_boot=0, study_area="0401"
    )
    assert set(one.table.loc[one.table["nivel_territorial"] == "provincia", "codigo"]) == {"0401"}
    assert one.parameters["study_area_ubigeo_prefix"] == "0401"
