"""Historical accuracy of a run's hotspots: monthly folds, PAI and PEI* beside counts."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from parsc_geo.evaluation.accuracy import historical_accuracy, months_tested, scope_accuracy

X0, Y0 = 500_000.0, 9_200_000.0  # a 1 km square in UTM 17S: 10 × 10 cells of 100 m


def centre(col: int, row: int) -> tuple[float, float]:
    return X0 + 100 * col + 50, Y0 + 100 * row + 50


def constructed() -> gpd.GeoDataFrame:
    """Training in January–February 2020, the month tested is March.

    Training counts: A 10, B 9, C 8, D 7, E 6 (and one incident in each corner, so that the
    study area, the training incidents' convex hull, is the whole square: 100 cells).
    March: A 5, B 2, F 5 (F had none before).
    """
    cells = {"A": (2, 2), "B": (4, 2), "C": (6, 2), "D": (2, 6), "E": (4, 6), "F": (7, 7)}
    rows: list[tuple[float, float, str]] = []
    train = {"A": 10, "B": 9, "C": 8, "D": 7, "E": 6}
    day = 0
    for name, n in train.items():
        for _ in range(n):
            x, y = centre(*cells[name])
            rows.append(
                (
                    x,
                    y,
                    (pd.Timestamp("2020-01-02") + pd.Timedelta(days=day % 55)).date().isoformat(),
                )
            )
            day += 1
    for x, y in ((X0 + 1, Y0 + 1), (X0 + 999, Y0 + 1), (X0 + 1, Y0 + 999), (X0 + 999, Y0 + 999)):
        rows.append((x, y, "2020-01-15"))
    test = {"A": 5, "B": 2, "F": 5}
    day = 0
    for name, n in test.items():
        for _ in range(n):
            x, y = centre(*cells[name])
            rows.append(
                (x, y, (pd.Timestamp("2020-03-02") + pd.Timedelta(days=2 * day)).date().isoformat())
            )
            day += 1
    frame = pd.DataFrame(rows, columns=["x", "y", "day"])
    when = pd.to_datetime(frame["day"]) + pd.Timedelta(hours=12)
    return gpd.GeoDataFrame(
        {
            "occurred_at": when.dt.tz_localize("America/Lima"),
            "at_station": np.zeros(len(frame), dtype=bool),
        },
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs="EPSG:32717",
    )


def test_counts_baseline_by_hand():
    result = scope_accuracy(
        constructed(),
        scope="región",
        name="prueba",
        methods=("counts", "gistar"),
        folds=1,
        cell_size=100.0,
    )
    assert result.ok, result.reason
    (fold,) = result.folds
    assert fold["origin"] == "2020-03-01"
    assert (fold["n_train"], fold["n_test"], fold["n_cells"]) == (44, 12, 100)
    counts = fold["methods"]["counts"]
    # 1 % of 100 cells = 1 cell: A (10 before) holds 5 of the 12 of March;
    # the best single cell holds 5 (A or F): PEI* = 5 / 5
    assert counts["1"]["hits"] == 5
    assert counts["1"]["hit_rate"] == pytest.approx(5 / 12)
    assert counts["1"]["pai"] == pytest.approx((5 / 12) / (1 / 100))  # 41.67
    assert counts["1"]["pei_star"] == pytest.approx(1.0)
    # 5 % = 5 cells: A…E hold 5 + 2 = 7; the best 5 cells hold 5 + 5 + 2 = 12
    assert counts["5"]["hits"] == 7
    assert counts["5"]["pai"] == pytest.approx((7 / 12) / (5 / 100))  # 11.67
    assert counts["5"]["pei_star"] == pytest.approx(7 / 12)
    # one fold: the means are the fold's values; counts over counts is 1
    assert result.summary["counts"]["1"]["pai"] == pytest.approx(41.6666667)
    assert result.summary["counts"]["5"]["ratio_to_counts"] == pytest.approx(1.0)


def test_resumen_sentence_and_table():
    acc = historical_accuracy(
        [("región", "prueba", constructed())], methods=["gistar"], folds=1, cell_size=100.0
    )
    text = "\n".join(acc.markdown_es())
    assert text.startswith("## Precisión histórica")
    assert "marzo de 2020" in text
    # counts: 5/12 = 42 % at 1 %, 7/12 = 58 % at 5 %
    assert "contar los delitos de los meses anteriores habría dado 42 % y 58 %" in text
    gi = acc.region.summary["gistar"]
    assert (
        f"habrían contenido el {gi['1']['hit_rate'] * 100:.0f} % de los delitos del mes "
        "siguiente en el 1 % del área" in text
    )
    assert "(1 mes" in text or "Se comprobó con 1 mes" in text
    rows = acc.table()
    assert {r["Método"] for r in rows} == {"Getis-Ord Gi*", "elegido por la evaluación (auto)"}
    first = next(r for r in rows if r["Método"] == "Getis-Ord Gi*" and r["Área (%)"] == 1.0)
    assert first["PAI del conteo"] == pytest.approx((5 / 12) / (1 / 100))
    assert first["Meses evaluados"] == 1
    as_json = acc.as_dict()
    assert as_json["scopes"][0]["status"] == "ok"
    assert as_json["methods"] == ["counts", "gistar", "auto"]


def test_short_data_say_so():
    short = constructed()
    short = short[short["occurred_at"] < pd.Timestamp("2020-01-20", tz="America/Lima")]
    acc = historical_accuracy([("región", "prueba", short)], methods=["kde"], folds=3)
    assert not acc.region.ok
    assert "hacen falta al menos dos meses completos" in str(acc.region.reason)
    text = "\n".join(acc.markdown_es())
    assert "No se pudo medir la precisión histórica en prueba" in text
    assert acc.table() == []


def test_months_tested_are_the_last_whole_ones():
    from parsc_geo.evaluation.backtest import to_days

    # data from 2020-01-01 to 2020-04-10: April is not whole, so the last is March
    days = to_days(pd.Series(pd.date_range("2020-01-01", "2020-04-10", freq="D")))
    folds, why = months_tested(days, 2)
    assert why is None
    assert [f.as_dict()["origin"] for f in folds] == ["2020-02-01", "2020-03-01"]
    # to 2020-03-27: within 7 days of the end of March, so March counts as whole
    days = to_days(pd.Series(pd.date_range("2020-01-01", "2020-03-27", freq="D")))
    folds, _ = months_tested(days, 5)
    # January has no month of history before it
    assert [f.as_dict()["origin"] for f in folds] == ["2020-02-01", "2020-03-01"]
