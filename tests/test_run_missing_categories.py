"""A month or a province without some crime is normal: every stage of the run completes
(issue 11). Before, a month without homicides stopped the run at the priority stage (exit 4,
"la modalidad 'homicidio' no coincide…") and wrote nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from parsc_geo._errors import ConfigError
from parsc_geo.cli.main import cli
from parsc_geo.datasets import sample_paths
from parsc_geo.labels_es import NO_COMPLAINTS, NO_DATA
from parsc_geo.priority import compute_priority, plan_table, top_districts
from parsc_geo.priority.counts import classify_counts
from parsc_geo.schema import FENOMENOS

pytestmark = pytest.mark.slow

RUN_TOML = """
title = "Un mes"
synthetic = true
[inputs]
incidents = ["{csv}"]
sectors = "sectores.geojson"
[hotspots]
methods = ["kde", "gistar"]
[priority]
bootstrap = 10
[maps]
tiles = false
"""


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """September 2020 of the sample in the province of Chota (4 homicides), with its sectors."""
    folder = tmp_path_factory.mktemp("mes")
    paths = sample_paths()
    sample = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    month_rows = sample[
        sample["fecha"].str.startswith("2020-09") & sample["ubigeo"].str.startswith("0604")
    ]
    sectors = gpd.read_file(paths["sectors"])
    sectors[sectors["comisaria"].str.contains("CHOTA")].to_file(
        folder / "sectores.geojson", driver="GeoJSON"
    )
    return folder, month_rows


def run(folder: Path, rows: pd.DataFrame, name: str) -> Path:
    rows.to_csv(folder / f"{name}.csv", index=False)
    config = folder / f"{name}.toml"
    config.write_text(RUN_TOML.format(csv=f"{name}.csv"), encoding="utf-8")
    out = folder / f"out_{name}"
    result = CliRunner().invoke(cli, ["-q", "run", str(config), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def read_csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def assert_every_stage_wrote(out: Path) -> None:
    assert (out / "workspace.gpkg").is_file()
    assert list((out / "densidad").glob("*.tif"))
    assert list((out / "hotspots").glob("ranking_*.csv")) or list((out / "hotspots").iterdir())
    assert (out / "prioridad" / "territorios_priorizados.xlsx").is_file()
    assert (out / "mapas" / "index.html").is_file()
    assert list((out / "patrullaje").glob("*.pdf"))


def test_a_month_without_homicides_runs_every_stage(month):
    folder, month_rows = month
    no_homicide = month_rows[month_rows["delito_especifico"] != "HOMICIDIO"]
    assert len(no_homicide) < len(month_rows)  # the month had homicides: they were removed
    out = run(folder, no_homicide, "sin_homicidios")
    assert_every_stage_wrote(out)

    # the plan's list of districts with most homicides (A3) says there were none
    a3 = read_csv_rows(out / "prioridad" / "a3_distritos_homicidios.csv")
    assert a3[0][:2] == ["Puesto", "UBIGEO"]  # Spanish headers of the published table
    assert a3[1:] == [[NO_COMPLAINTS] + [""] * (len(a3[0]) - 1)]
    # every homicide is a muerte violenta: that fenómeno has none either
    plan = pd.read_csv(out / "prioridad" / "territorios_priorizados.csv", encoding="utf-8-sig")
    violent = plan[plan["FENÓMENO"] == "MUERTES VIOLENTAS"]
    assert violent["CLÚSTER"].tolist() == [NO_COMPLAINTS]
    detail = pd.read_csv(
        out / "prioridad" / "prioridad_detalle.csv", encoding="utf-8-sig", dtype={"UBIGEO": str}
    )
    rows = detail[detail["Fenómeno o modalidad"] == "Muertes violentas"]
    # the month's points are all in Chota: only Chota and its districts are ranked (with
    # none); the other twelve provinces have no data, not zero homicides
    covered = rows["Con datos en el periodo"] == "sí"
    assert set(rows.loc[covered & (rows["Nivel territorial"] == "Provincia"), "UBIGEO"]) == {"0604"}
    assert rows.loc[covered, "UBIGEO"].str.startswith("0604").all()
    assert (rows.loc[covered, "Denuncias"] == 0).all()
    assert set(rows.loc[covered, "Motivo del nivel"]) == {NO_COMPLAINTS}
    assert set(rows.loc[~covered, "Motivo del nivel"]) == {NO_DATA}
    assert rows.loc[~covered, "Denuncias"].isna().all()
    others = detail[detail["Fenómeno o modalidad"] == "Delitos patrimoniales en espacios públicos"]
    assert others["Denuncias"].sum() > 0
    markdown = (out / "prioridad" / "territorios_priorizados.md").read_text(encoding="utf-8")
    assert NO_COMPLAINTS in markdown


def test_a_month_of_a_single_fenomeno_runs_every_stage(month):
    folder, month_rows = month
    family = month_rows[month_rows["modalidad"] == "VIOLENCIA FAMILIAR"]
    out = run(folder, family, "un_fenomeno")
    assert_every_stage_wrote(out)
    plan = pd.read_csv(out / "prioridad" / "territorios_priorizados.csv", encoding="utf-8-sig")
    silent = plan[plan["CLÚSTER"] == NO_COMPLAINTS]["FENÓMENO"].tolist()
    assert silent == [
        "MUERTES VIOLENTAS",
        "DELITOS PATRIMONIALES EN ESPACIOS PÚBLICOS",
        "DELITOS COMETIDOS POR BANDAS CRIMINALES",
    ]
    detail = pd.read_csv(out / "prioridad" / "prioridad_detalle.csv", encoding="utf-8-sig")
    provinces = detail[detail["Nivel territorial"] == "Provincia"]
    by_target = provinces.groupby("Fenómeno o modalidad")["Denuncias"].sum()
    # every row of the file is a family-violence complaint in the study area: all counted
    women = FENOMENOS["violencia_mujer"]
    assert by_target[women] == len(family) > 0
    assert by_target.drop(women).eq(0).all()
    a3 = read_csv_rows(out / "prioridad" / "a3_distritos_homicidios.csv")
    assert a3[1][0] == NO_COMPLAINTS


def _counts(rows: list[tuple[str, int, int, str, int]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["ubigeo", "anio", "mes", "categoria", "n"])
    df["anio"] = df["anio"].astype("Int64")
    df["mes"] = df["mes"].astype("Int64")
    df["source"] = "tabla.csv"
    df["source_row"] = range(1, len(df) + 1)
    return classify_counts(df)


def test_no_table_requires_a_modalidad_to_be_present():
    counts = _counts([("060101", 2020, 3, "Robo", 12), ("060401", 2020, 3, "Robo", 4)])
    result = compute_priority(counts, modalidades=["homicidio"], n_boot=0)
    homicide = result.table[result.table["objetivo"] == "modalidad:HOMICIDIO"]
    assert len(homicide) and (homicide["n"] == 0).all()
    # the two provinces of the table have none; the other eleven have no data at all
    assert set(homicide["nivel"]) == {""}
    covered = homicide["con_datos"].astype(bool)
    assert set(homicide.loc[covered, "codigo"].str[:4]) == {"0601", "0604"}
    assert set(homicide.loc[covered, "motivo"]) == {NO_COMPLAINTS}
    assert set(homicide.loc[~covered, "motivo"]) == {NO_DATA}
    assert any(NO_COMPLAINTS in note for note in result.notes)
    top = top_districts(counts, modalidad="homicidio", n=7)
    assert len(top) == 0 and list(top.columns)[:2] == ["rank", "codigo"]
    plan = plan_table(result)
    assert plan.loc[plan["CLÚSTER"] == NO_COMPLAINTS, "FENÓMENO"].tolist() == [
        "VIOLENCIA CONTRA MUJERES E INTEGRANTES DEL GRUPO FAMILIAR",
        "MUERTES VIOLENTAS",
        "DELITOS COMETIDOS POR BANDAS CRIMINALES",
        "HOMICIDIO",
    ]
    # 12 + 4 robberies, all in the two provinces: the only fenómeno with complaints
    provinces = result.level("provincia")
    robbery = provinces[provinces["objetivo"] == "patrimonio_espacio_publico"]
    assert robbery["n"].sum() == 16
    with pytest.raises(ConfigError) as err:  # a misspelling is still a configuration error
        compute_priority(counts, modalidades=["homicido"], n_boot=0)
    assert err.value.exit_code == 4
