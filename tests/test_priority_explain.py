"""Rates against counts: every order the crude rates contradict states its reason (issue 16)."""

import re

import numpy as np
import pytest
from _priority import count_table

from parsc_geo.boundaries import population_for_year
from parsc_geo.priority import compute_priority
from parsc_geo.priority.explain import SMOOTHING_SENTENCE
from parsc_geo.priority.levels import LEVEL_ALTA, LEVEL_PRIORIDAD
from parsc_geo.priority.tables import detail_table, plan_markdown

#: Homicides per province as in the demo's "Muertes violentas" (Jan–Oct 2020).
HOMICIDES = {
    "0601": 29,  # Cajamarca
    "0602": 7,  # Cajabamba
    "0603": 6,  # Celendín
    "0604": 7,  # Chota
    "0605": 6,  # Contumazá
    "0606": 10,  # Cutervo
    "0607": 8,  # Hualgayoc
    "0608": 15,  # Jaén
    "0609": 4,  # San Ignacio
    "0610": 5,  # San Marcos
    "0611": 2,  # San Miguel
    "0612": 1,  # San Pablo
    "0613": 0,  # Santa Cruz
}


@pytest.fixture(scope="module")
def homicides():
    rows = [(code + "01", 2020, 5, "HOMICIDIO", n) for code, n in HOMICIDES.items() if n]
    rows.append(("061301", 2020, 5, "Robo", 3))  # Santa Cruz is in the table: a real zero
    result = compute_priority(
        count_table(rows, "sidpol.csv"),
        levels=["provincia"],
        fenomenos=["muertes_violentas"],
        n_boot=0,
    )
    return result, result.table.set_index("codigo")


def test_crude_rates_by_hand(homicides):
    _, rows = homicides
    pop = population_for_year(2020, "provincia").set_index("ubigeo_prov")["poblacion"]
    # Contumazá: 6 / 29,357 × 100,000 = 20.44; Cajamarca: 29 / 388,170 × 100,000 = 7.47
    assert pop["0605"] == 29_357 and pop["0601"] == 388_170
    assert rows.loc["0605", "tasa"] == pytest.approx(20.438, abs=1e-3)
    assert rows.loc["0601", "tasa"] == pytest.approx(7.471, abs=1e-3)


def test_a_higher_rate_below_a_lower_one_says_why(homicides):
    _, rows = homicides
    cajamarca, contumaza = rows.loc["0601"], rows.loc["0605"]
    assert cajamarca["nivel"] == LEVEL_ALTA and contumaza["nivel"] == LEVEL_PRIORIDAD
    text = contumaza["observacion"]
    assert "Su tasa (20.4) supera la de Cajamarca (7.5, ALTA PRIORIDAD)" in text
    assert "tiene menos denuncias (6 frente a 29)" in text
    assert "con menos de 20 denuncias no puede ser ALTA PRIORIDAD" in text
    # smoothing pulled its 6 complaints toward the regional rate: said in plain words
    assert "Con 6 denuncias su tasa (20.4) es poco fiable" in text
    assert f"queda en {contumaza['tasa_eb']:.1f}" in text
    assert (
        "Queda por encima de Contumazá (tasa 20.4, PRIORIDAD) por su mayor número de denuncias"
        in (cajamarca["observacion"])
    )


def test_a_province_without_complaints_shows_its_raw_rate_first(homicides):
    result, rows = homicides
    santa_cruz = rows.loc["0613"]
    assert santa_cruz["n"] == 0 and santa_cruz["tasa"] == 0
    # the smoothed rate of no complaint is (1 - w) × the regional rate, above zero
    assert santa_cruz["tasa_eb"] == pytest.approx(
        (1 - santa_cruz["peso_eb"]) * santa_cruz["tasa_regional"]
    )
    assert santa_cruz["tasa_eb"] > 0
    assert "Sin denuncias en el periodo (tasa 0.0)" in santa_cruz["observacion"]
    assert (
        f"su tasa suavizada ({santa_cruz['tasa_eb']:.1f}) no viene de denuncias"
        in (santa_cruz["observacion"])
    )
    detail = list(detail_table(result).columns)
    assert detail.index("Tasa por 100 000 hab.") < detail.index(
        "Tasa suavizada (Bayes empírico) por 100 000 hab."
    )
    markdown = plan_markdown(result)
    assert SMOOTHING_SENTENCE in markdown
    header = next(line for line in markdown.splitlines() if line.startswith("| N/O"))
    assert header.index("TASA POR 100 000 HAB.") < header.index("TASA SUAVIZADA")


def test_every_inversion_of_the_crude_rates_is_explained():
    # Random regions: whenever a unit sits below one with a lower crude rate, its observation
    # says so and gives a reason.
    rng = np.random.default_rng(8)
    pop = population_for_year(2020, "distrito")
    for trial in range(4):
        rows = []
        for ubigeo, p in pop[["ubigeo", "poblacion"]].itertuples(index=False):
            k = int(rng.poisson(p * rng.gamma(2.0, 1.5e-4)))
            if k:
                rows.append((ubigeo, 2020, 3, "Robo", k))
        result = compute_priority(
            count_table(rows, "sidpol.csv"), fenomenos=["patrimonio_espacio_publico"], n_boot=0
        )
        for level in ("provincia", "distrito"):
            frame = result.level(level)
            frame = frame[frame["con_datos"]]
            rank = frame["nivel"].map({LEVEL_ALTA: 0, LEVEL_PRIORIDAD: 1, "": 2}).to_numpy()
            rate = frame["tasa"].to_numpy()
            for i, text in enumerate(frame["observacion"]):
                inverted = ((rank < rank[i]) & (rate < rate[i])).any()
                assert inverted == ("supera la de" in text), (trial, level, i, text)
                if inverted:
                    assert re.search(r"queda por debajo porque \S", text)
