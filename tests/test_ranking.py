"""Tests of parsc_geo.ranking: ranks, ties, groups, the 13-province summary."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo._errors import ConfigError, InputDataError, OutputError
from parsc_geo.ranking import rank_hotspots
from parsc_geo.reports.rankings import province_summary, ranking_table, write_rankings


def _table() -> gpd.GeoDataFrame:
    df = pd.DataFrame(
        {
            "hotspot_id": ["h-05", "h-01", "h-03", "h-02", "h-04", "h-06", "h-07"],
            "method": "dbscan",
            "n": [10, 10, 10, 25, 3, 8, 8],
            "harm": [30.0, 40.0, 30.0, 20.0, 90.0, 8.0, 8.0],
            "density": [100.0, 50.0, 100.0, 10.0, 5.0, np.nan, 1.0],
            "provincia": ["Jaén", "Jaén", "Jaén", "Cajamarca", "Cajamarca", None, None],
            "comisaria": ["A", "A", "B", "C", "C", None, None],
        }
    )
    return gpd.GeoDataFrame(df, geometry=[shapely.Point(i, i) for i in range(len(df))], crs=4326)


def test_rank_by_n_with_documented_tie_break() -> None:
    ranked = rank_hotspots(_table(), by="n", within=("provincia",))
    ranks = dict(zip(ranked["hotspot_id"], ranked["rank"], strict=True))
    # Jaén: all n=10 → harm 40 (h-01) first; h-03 and h-05 tie on n, harm, density → id order
    assert (ranks["h-01"], ranks["h-03"], ranks["h-05"]) == (1, 2, 3)
    assert (ranks["h-02"], ranks["h-04"]) == (1, 2)
    # unknown province is its own group; tie on n and harm: density 1.0 beats NaN
    assert (ranks["h-07"], ranks["h-06"]) == (1, 2)
    # groups sorted by name (accents ignored), unknown last
    assert ranked["provincia"].tolist()[:2] == ["Cajamarca", "Cajamarca"]
    assert pd.isna(ranked["provincia"].iloc[-1])
    assert list(ranked.columns).index("rank") == 1
    assert ranked.attrs["ranking"]["tie_break"] == ["n", "harm", "density", "hotspot_id"]


def test_rank_by_harm_and_density_and_global() -> None:
    by_harm = rank_hotspots(_table(), by="harm", within=())
    assert by_harm["hotspot_id"].tolist()[:3] == ["h-04", "h-01", "h-03"]
    assert by_harm["rank"].tolist() == list(range(1, 8))
    by_density = rank_hotspots(_table(), by="density", within=("provincia", "comisaria"))
    jaen_a = by_density[by_density["comisaria"] == "A"]
    assert jaen_a["hotspot_id"].tolist() == ["h-05", "h-01"]
    assert by_density.loc[by_density["hotspot_id"] == "h-03", "rank"].item() == 1


def test_rank_is_independent_of_row_order() -> None:
    table = _table()
    a = rank_hotspots(table, by="n", within=("provincia",))
    b = rank_hotspots(table.sample(frac=1, random_state=5), by="n", within=("provincia",))
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))


def test_rank_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="by"):
        rank_hotspots(_table(), by="size")
    with pytest.raises(ConfigError, match="within"):
        rank_hotspots(_table(), within=("barrio",))
    duplicated = _table()
    duplicated.loc[1, "hotspot_id"] = "h-05"
    with pytest.raises(InputDataError, match="debe ser único"):
        rank_hotspots(duplicated)
    with pytest.raises(InputDataError, match="sector"):
        rank_hotspots(_table(), within=("sector",))


def test_ranking_table_spanish_headers_and_top() -> None:
    ranked = rank_hotspots(_table(), by="n", within=("provincia",))
    table = ranking_table(ranked, top=1)
    assert list(table.columns[:4]) == ["Provincia", "Puesto", "Hotspot", "Método"]
    assert table["Puesto"].tolist() == [1, 1, 1]
    assert table["Provincia"].tolist() == ["Cajamarca", "Jaén", "(sin asignar)"]
    assert "Comisaría" in table.columns and "geometry" not in table.columns


def test_province_summary_covers_all_13_provinces() -> None:
    incidents = pd.DataFrame(
        {
            "provincia": ["Jaén"] * 40 + ["Cajamarca"] * 50 + ["Chota"] * 4 + ["Cutervo"] * 30,
            "at_station": [False] * 120 + [True] * 4,
        }
    )
    table = _table()
    table.attrs["parameters"] = {"method": "dbscan", "min_incidents": 10}
    summary = province_summary(table, incidents=incidents)
    assert len(summary) == 14  # 13 provinces + the hotspots without a province
    assert summary["UBIGEO"].tolist()[:13] == [f"06{i:02d}" for i in range(1, 14)]
    rows = summary.set_index("Provincia")
    assert rows.loc["Jaén", "Hotspots"] == 3
    assert rows.loc["Jaén", "Hotspot principal"] == "h-01"
    assert rows.loc["Jaén", "Incidentes en hotspots"] == 30
    assert rows.loc["Cajamarca", "Hotspot principal"] == "h-02"
    assert "solo 4 incidentes" in rows.loc["Chota", "Observación"]
    # Cutervo's 30 incidents include 4 stacked at a station, left out as the method did
    assert rows.loc["Cutervo", "Incidentes"] == 26
    assert "sin concentración" in rows.loc["Cutervo", "Observación"]
    assert "no hay incidentes" in rows.loc["San Ignacio", "Observación"]
    assert rows.loc["(sin asignar)", "Hotspots"] == 2
    # counts are whole numbers (written "26", not "26.0"); the unassigned row has none
    assert str(summary["Incidentes"].dtype) == "Int64"
    assert pd.isna(rows.loc["(sin asignar)", "Incidentes"])
    assert summary["Incidentes"].iloc[:13].sum() == 40 + 50 + 4 + 26


def test_province_summary_when_method_declined() -> None:
    empty = _table().iloc[:0]
    empty.attrs["parameters"] = {"method": "gistar"}
    empty.attrs["reason"] = "only 3 incidents"
    summary = province_summary(empty)
    assert len(summary) == 13
    assert (summary["Hotspots"] == 0).all()
    assert summary["Observación"].str.contains("no se aplicó").all()
    assert "Incidentes" not in summary.columns


def test_write_rankings_mixed_methods_and_declines(tmp_path: Path) -> None:
    table = _table()
    table.loc[table["hotspot_id"].isin(["h-06", "h-07"]), "method"] = "gistar"
    declined = {"gistar": {"Chota": "solo 3 incidentes utilizables"}, "kde": {"Jaén": "x"}}
    ranked, files = write_rankings(table, tmp_path, by="harm", declined=declined)
    assert {p.name for p in files} >= {
        "ranking_provincias_dbscan.csv",
        "ranking_sectores_gistar.xlsx",
        "resumen_provincias_kde.csv",
    }
    assert len(files) == 3 * 4 * 2
    assert ranked.attrs["ranking"]["within"] == ["method", "provincia"]
    assert ranked.loc[ranked["hotspot_id"] == "h-04", "rank"].item() == 1
    gistar = pd.read_csv(tmp_path / "resumen_provincias_gistar.csv", encoding="utf-8-sig")
    chota = gistar.loc[gistar["Provincia"] == "Chota", "Observación"].item()
    assert chota == "sin hotspots: el método gistar no se aplicó (solo 3 incidentes utilizables)"
    kde = pd.read_csv(tmp_path / "resumen_provincias_kde.csv", encoding="utf-8-sig")
    assert len(kde) == 13 and (kde["Hotspots"] == 0).all()
    with pytest.raises(OutputError, match="ya existe"):
        write_rankings(table, tmp_path, by="harm", declined=declined)


def test_write_rankings_empty_table(tmp_path: Path) -> None:
    empty = gpd.GeoDataFrame({"hotspot_id": []}, geometry=[], crs="EPSG:4326")
    ranked, files = write_rankings(
        empty, tmp_path, declined={"dbscan": {"Cajamarca": "pocos"}}, formats=("csv",)
    )
    assert len(ranked) == 0
    assert [p.name for p in files][-1] == "resumen_provincias_dbscan.csv"
