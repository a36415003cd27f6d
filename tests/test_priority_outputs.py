import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from parsc_geo import settings
from parsc_geo._errors import OutputError
from parsc_geo.boundaries import population_for_year
from parsc_geo.cli.main import cli
from parsc_geo.priority import compute_priority
from parsc_geo.priority.counts import read_counts
from parsc_geo.priority.outputs import (
    LEVEL_COLORS,
    write_priority_map_html,
    write_priority_map_png,
    write_priority_outputs,
)

HEADER = "ANIO,MES,DPTO_HECHO_NEW,PROV_HECHO,DIST_HECHO,UBIGEO_HECHO,P_MODALIDADES,cantidad"


@pytest.fixture(scope="module")
def sidpol_csv(tmp_path_factory):
    """A SIDPOL-format file (BOM, dropped zeros) for every Cajamarca district, 2023–2024."""
    rng = np.random.default_rng(5)
    districts = population_for_year(2024, "distrito")
    lines = [HEADER, "2024,1,AMAZONAS,BAGUA,ARAMANGO,10202,Robo,3"]
    for year in (2023, 2024):
        for month in (3, 9):
            for r in districts.itertuples(index=False):
                hot = 3.0 if r.ubigeo_prov in ("0601", "0608", "0604") else 1.0
                for cat, rate in (
                    ("Robo", 2e-4),
                    ("Hurto", 3e-4),
                    ("Violencia contra la mujer e integrantes", 4e-4),
                    ("Extorsión", 3e-5),
                ):
                    k = int(rng.poisson(r.poblacion * rate * hot))
                    if k:
                        lines.append(
                            f"{year},{month},CAJAMARCA,{r.provincia},{r.distrito},"
                            f"{int(r.ubigeo)},{cat},{k}"
                        )
    path = (
        tmp_path_factory.mktemp("sidpol") / "DATASET_Denuncias_Policiales_Ene 2023 a Dic 2024.csv"
    )
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def small_result(sidpol_csv):
    counts = read_counts(sidpol_csv)
    return compute_priority(
        counts,
        levels=["provincia"],
        fenomenos=["patrimonio_espacio_publico"],
        modalidades=["Extorsión"],
        n_boot=5,
    )


# ---------------------------------------------------------------- library writer


def test_write_outputs_refuses_to_overwrite(small_result, tmp_path):
    write_priority_outputs(small_result, tmp_path, maps=False)
    with pytest.raises(OutputError, match="ya existe"):
        write_priority_outputs(small_result, tmp_path, maps=False)
    written = write_priority_outputs(small_result, tmp_path, maps=False, overwrite=True)
    assert written[-1].name == "run.json"


def test_map_html(small_result, tmp_path):
    path = write_priority_map_html(
        small_result.__class__(**{**small_result.__dict__, "synthetic": True}),
        tmp_path / "m.html",
        target="patrimonio_espacio_publico",
    )
    page = path.read_text(encoding="utf-8")
    assert settings.SYNTHETIC_BANNER in page
    assert "Delitos patrimoniales en espacios públicos" in page
    # One legend entry per level, with the number of provinces in each.
    rows = small_result.table[small_result.table["objetivo"] == "patrimonio_espacio_publico"]
    counts = rows["nivel"].value_counts()
    entries = re.findall(r'data-color="(#[0-9a-f]{6})".*?parsc-count">(\d+)<', page)
    assert {c: int(n) for c, n in entries} == {
        LEVEL_COLORS[lv]: int(counts.get(lv, 0)) for lv in LEVEL_COLORS
    }
    # 13 provinces drawn, each with its level's colour.
    assert page.count('"codigo": "06') == 13
    for level, colour in LEVEL_COLORS.items():
        assert page.count(f'"color": "{colour}"') == int(counts.get(level, 0))


def test_map_png(small_result, tmp_path):
    path = write_priority_map_png(small_result, tmp_path / "m.png", target="modalidad:EXTORSION")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OutputError):
        write_priority_map_png(small_result, path, target="modalidad:EXTORSION")


@pytest.mark.slow
def test_writer_with_maps(small_result, tmp_path):
    written = write_priority_outputs(small_result, tmp_path, synthetic=True)
    names = {p.name for p in written}
    stem = "mapa_prioridad_provincia_patrimonio_espacio_publico"
    assert {
        f"{stem}.html",
        f"{stem}.png",
        "mapa_prioridad_provincia_modalidad_extorsion.png",
    } <= names
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert run["synthetic"] is True
    assert settings.SYNTHETIC_BANNER in (tmp_path / "territorios_priorizados.md").read_text("utf-8")


def test_markdown_escapes_and_lists_every_fenomeno(small_result, tmp_path):
    write_priority_outputs(small_result, tmp_path, maps=False)
    text = (tmp_path / "territorios_priorizados.md").read_text(encoding="utf-8")
    assert "| N/O | DEPARTAMENTO | PROVINCIA | CLÚSTER |" in text
    assert "1. Territorios de intervención prioritaria en Delitos patrimoniales" in text
    assert "2. Territorios de intervención prioritaria en Extorsión" in text
    assert "Bayes empírico" in text
    assert settings.SYNTHETIC_BANNER not in text


# ---------------------------------------------------------------- command line


def test_cli_writes_every_table(sidpol_csv, tmp_path):
    out = tmp_path / "prioridad"
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "priority",
            str(sidpol_csv),
            "-o",
            str(out),
            "--bootstrap",
            "5",
            "--no-maps",
            "--top",
            "robo",
            "--top-n",
            "3",
            "--period",
            "2024",
        ],
    )
    assert res.exit_code == 0, res.output
    # The plan's table, as published: UTF-8 with BOM, accents in headers.
    plan = pd.read_csv(out / "territorios_priorizados.csv", encoding="utf-8-sig")
    assert list(plan.columns)[:5] == ["FENÓMENO", "N/O", "DEPARTAMENTO", "PROVINCIA", "CLÚSTER"]
    assert "ESTABILIDAD (%)" in plan.columns
    patrimonio = plan[plan["FENÓMENO"] == "DELITOS PATRIMONIALES EN ESPACIOS PÚBLICOS"]
    assert set(patrimonio["PROVINCIA"]) == {"CAJAMARCA", "JAÉN", "CHOTA"}
    # The detailed table holds the indicators behind every level.
    detail = pd.read_csv(out / "prioridad_detalle.csv", encoding="utf-8-sig", dtype={"UBIGEO": str})
    assert "Tasa suavizada (Bayes empírico) por 100 000 hab." in detail.columns
    assert len(detail) == 4 * (13 + 127)
    counts = read_counts(sidpol_csv)
    in_2024 = counts[(counts["anio"] == 2024) & counts["ubigeo"].str.startswith("0601")]
    row = detail[
        (detail["UBIGEO"] == "0601")
        & (detail["Fenómeno o modalidad"] == "Delitos patrimoniales en espacios públicos")
    ]
    assert (
        row["Denuncias"].iloc[0]
        == in_2024[in_2024["fenomeno"] == "patrimonio_espacio_publico"]["n"].sum()
    )
    # XLSX: the plan's layout, then detail and method sheets.
    wb = load_workbook(out / "territorios_priorizados.xlsx")
    assert wb.sheetnames == [
        "Territorios priorizados",
        "Detalle provincias",
        "Detalle distritos",
        "Método",
    ]
    values = [c.value for c in wb["Territorios priorizados"]["A"] if c.value]
    assert "VIOLENCIA CONTRA MUJERES E INTEGRANTES DEL GRUPO FAMILIAR" in values
    # A3: districts with most robberies.
    top = pd.read_csv(out / "top_distritos_robo.csv", encoding="utf-8-sig", dtype={"UBIGEO": str})
    assert top["Puesto"].tolist() == [1, 2, 3]
    assert top["UBIGEO"].iloc[0] == "060101"
    # run.json: inputs with checksums, parameters, versions.
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["inputs"][0]["sha256"] == hashlib.sha256(sidpol_csv.read_bytes()).hexdigest()
    assert run["parameters"]["rule"]["method"] == "kmeans"
    assert run["parameters"]["period"] == "2024-01:2024-12"
    assert "numpy" in run["versions"]
    assert "territorios_priorizados.xlsx" in run["outputs"]
    assert run["synthetic"] is False


def test_cli_levels_reproducible_run_to_run(sidpol_csv, tmp_path):
    args = ["priority", str(sidpol_csv), "--level", "provincia", "--bootstrap", "10", "--no-maps"]
    runner = CliRunner()
    a = runner.invoke(cli, [*args, "-o", str(tmp_path / "a")])
    b = runner.invoke(cli, [*args, "-o", str(tmp_path / "b")])
    assert a.exit_code == b.exit_code == 0
    for name in (
        "territorios_priorizados.csv",
        "prioridad_detalle.csv",
        "territorios_priorizados.md",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli_existing_output_exit_code(sidpol_csv, tmp_path):
    args = ["priority", str(sidpol_csv), "--level", "provincia", "--bootstrap", "0", "--no-maps"]
    runner = CliRunner()
    assert runner.invoke(cli, [*args, "-o", str(tmp_path)]).exit_code == 0
    again = runner.invoke(cli, [*args, "-o", str(tmp_path)])
    assert again.exit_code == 5
    assert "--overwrite" in again.output


def test_cli_bad_thresholds_and_rule(sidpol_csv, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli, ["priority", str(sidpol_csv), "-o", str(tmp_path), "--thresholds", "x"]
    )
    assert res.exit_code == 2
    res = runner.invoke(
        cli, ["priority", str(sidpol_csv), "-o", str(tmp_path), "--method", "thresholds"]
    )
    assert res.exit_code == 4
    assert "requiere thresholds" in res.output


def test_cli_fisher_jenks(sidpol_csv, tmp_path):
    res = CliRunner().invoke(
        cli,
        [
            "priority",
            str(sidpol_csv),
            "-o",
            str(tmp_path),
            "--level",
            "provincia",
            "--method",
            "fisher_jenks",
            "--bootstrap",
            "0",
            "--no-maps",
        ],
    )
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["rule"]["method"] == "fisher_jenks"
    assert "Fisher-Jenks" in run["parameters"]["rule_description"]


def test_cli_help_has_examples():
    res = CliRunner().invoke(cli, ["priority", "--help"])
    assert res.exit_code == 0
    assert "Ejemplos:" in res.output


def workspace_from_sample(path, n=400):
    """Store the first ``n`` incidents of the bundled synthetic sample in a workspace."""
    import geopandas as gpd

    from parsc_geo._data import incidents_dir
    from parsc_geo.schema import QUARANTINE_COLUMNS
    from parsc_geo.taxonomy import normalise_labels
    from parsc_geo.workspace import Workspace

    sample = incidents_dir() / "sintetico_cajamarca_2020_incidentes.csv"
    df = pd.read_csv(sample, dtype=str, keep_default_na=False).head(n)
    norm = normalise_labels(
        None,
        generico=df["delito_generico"],
        especifico=df["delito_especifico"],
        modalidad=df["modalidad"],
    )
    gdf = gpd.GeoDataFrame(
        {
            "incident_id": df["id"],
            "occurred_at": pd.to_datetime(df["fecha"]).dt.tz_localize("America/Lima"),
            "time_known": False,
            **{
                c: norm[c]
                for c in (
                    "delito_generico",
                    "delito_especifico",
                    "modalidad",
                    "fenomeno",
                    "harm",
                    "label_known",
                )
            },
            "label_raw": df["modalidad"],
            "descripcion": "",
            "comisaria_reportada": "",
            "sector_reportado": "",
            "source": sample.name,
            "source_row": range(1, len(df) + 1),
            "flags": "",
            "at_station": False,
            "ubigeo": df["ubigeo"],
            "distrito": "",
            "provincia": "",
            "comisaria": df["comisaria"],
            "comisaria_id": df["comisaria_id"],
            "sector": df["sector"],
            "subsector": df["subsector"],
        },
        geometry=gpd.points_from_xy(df["longitud"].astype(float), df["latitud"].astype(float)),
        crs="EPSG:4326",
    )
    Workspace(path).import_incidents(
        gdf,
        pd.DataFrame(columns=list(QUARANTINE_COLUMNS)),
        sources=[{"source": sample.name, "sha256": "0" * 64}],
        metadata={"synthetic": True},
    )
    return df


def test_cli_workspace_incidents(tmp_path):
    ws = tmp_path / "ws.gpkg"
    df = workspace_from_sample(ws)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "priority",
            "-w",
            str(ws),
            "-o",
            str(out),
            "--level",
            "provincia",
            "--bootstrap",
            "0",
            "--no-maps",
        ],
    )
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["synthetic"] is True  # taken from the workspace metadata
    assert settings.SYNTHETIC_BANNER in (out / "territorios_priorizados.md").read_text("utf-8")
    detail = pd.read_csv(out / "prioridad_detalle.csv", encoding="utf-8-sig", dtype={"UBIGEO": str})
    months = pd.to_datetime(df["fecha"]).dt.to_period("M")
    in_period = df[months >= months.max() - 11]
    expected = (in_period["ubigeo"].str[:4] == "0601").sum()
    fenomenos = normalise_labels_for(in_period)
    mine = detail[detail["UBIGEO"] == "0601"]["Denuncias"].sum()
    assert (
        mine
        == (
            (in_period["ubigeo"].str[:4] == "0601")
            & fenomenos.isin(
                [
                    "violencia_mujer",
                    "muertes_violentas",
                    "patrimonio_espacio_publico",
                    "bandas_criminales",
                ]
            )
        ).sum()
    )
    assert mine <= expected


def normalise_labels_for(df):
    from parsc_geo.taxonomy import normalise_labels

    return normalise_labels(
        None,
        generico=df["delito_generico"],
        especifico=df["delito_especifico"],
        modalidad=df["modalidad"],
    )["fenomeno"]


def test_cli_min_stability(sidpol_csv, tmp_path):
    args = ["priority", str(sidpol_csv), "--level", "provincia", "--bootstrap", "20", "--no-maps"]
    runner = CliRunner()
    strict = runner.invoke(cli, [*args, "--min-stability", "100", "-o", str(tmp_path / "a")])
    lenient = runner.invoke(cli, [*args, "--min-stability", "0", "-o", str(tmp_path / "b")])
    assert strict.exit_code == lenient.exit_code == 0, strict.output
    strict_run = json.loads((tmp_path / "a" / "run.json").read_text(encoding="utf-8"))
    lenient_run = json.loads((tmp_path / "b" / "run.json").read_text(encoding="utf-8"))
    assert strict_run["parameters"]["min_stability"] == 1.0
    assert lenient_run["parameters"]["min_stability"] == 0.0
    # 0 %: every level is published as it is; 100 %: a level that changed in any of the 20
    # replicates is uncertain
    for entry in lenient_run["summary"]:
        assert entry["nivel_publicado"] == entry["nivel"]
    published = [e["nivel_publicado"].startswith("NIVEL INCIERTO") for e in strict_run["summary"]]
    assert any(published) and not all(published)  # both cases occur in this table
    for entry, unsure in zip(strict_run["summary"], published, strict=True):
        assert unsure == (entry["estabilidad"] < 1.0)
    plan = pd.read_csv(tmp_path / "a" / "territorios_priorizados.csv", encoding="utf-8-sig")
    listed = plan[plan["N/O"].notna()]
    assert (listed["ESTABILIDAD (%)"] <= 100).all()
    bad = runner.invoke(cli, [*args, "--min-stability", "150", "-o", str(tmp_path / "c")])
    assert bad.exit_code == 2


def test_started_outputs_finish_as_written_outputs(small_result, tmp_path):
    # A run leaves the PDF and run.json for later: the PNGs are there when
    # start_priority_outputs returns, the PDF only after results(), and the files are the
    # same bytes as write_priority_outputs' (run.json: same outputs listed).
    from parsc_geo.parallel import WorkerPool
    from parsc_geo.priority.outputs import MAPS_PDF, start_priority_outputs

    direct = write_priority_outputs(small_result, tmp_path / "a", synthetic=True)
    with WorkerPool(1) as pool:
        planned, pending = start_priority_outputs(
            small_result, tmp_path / "b", synthetic=True, pool=pool
        )
        assert all(p.exists() for p in planned if p.suffix == ".png")
        assert not (tmp_path / "b" / MAPS_PDF).exists()
        later = pending.results()
    assert later == planned
    assert [p.name for p in later] == [p.name for p in direct]
    for a, b in zip(direct, later, strict=True):
        if a.name == "run.json":
            keys = ("outputs",)
            ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
            assert [ja[k] for k in keys] == [jb[k] for k in keys]
        else:
            assert a.read_bytes() == b.read_bytes(), a.name
