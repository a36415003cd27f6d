"""End-to-end tests of ``parsc-geo run``: outputs, run.json, determinism, atomic replacement."""

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from _chota import chota_incidents, write_chota_sectors
from click.testing import CliRunner

from parsc_geo import pipeline
from parsc_geo._outdir import MANIFEST
from parsc_geo.cli.main import cli
from parsc_geo.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory) -> Path:
    """A small real-format input: the synthetic sample's Chota province, with its sectors."""
    folder = tmp_path_factory.mktemp("inputs")
    chota = chota_incidents()
    # two broken rows that must end in quarantine
    broken = chota.head(2).copy()
    broken["id"] = ["BROKEN-1", "BROKEN-2"]
    broken.loc[broken.index[0], "latitud"] = ""
    broken.loc[broken.index[1], "fecha"] = "31/31/2020"
    pd.concat([chota, broken]).to_csv(folder / "chota.csv", index=False)
    write_chota_sectors(folder)
    (folder / "run.toml").write_text(
        """
title = "Prueba Chota"
synthetic = true
[inputs]
incidents = ["chota.csv"]
sectors = "sectores.geojson"
[hotspots]
methods = ["kde", "gistar"]
[priority]
bootstrap = 20
[maps]
tiles = false
""",
        encoding="utf-8",
    )
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(config: Path, output: Path, *extra: str):
    return CliRunner().invoke(
        cli, ["run", str(config), "--output", str(output), *extra], catch_exceptions=False
    )


def test_run_writes_every_output_and_a_faithful_run_json(small_inputs, tmp_path):
    out = tmp_path / "out"
    result = run(small_inputs / "run.toml", out)
    assert result.exit_code == 0, result.output
    assert "Abra primero" in result.output
    for rel in (
        "run.json",
        "RESUMEN.md",
        "workspace.gpkg",
        "ingesta/report.json",
        "ingesta/cuarentena.csv",
        "mapas/index.html",
        "prioridad/territorios_priorizados.csv",
    ):
        assert (out / rel).is_file(), rel
    assert list((out / "densidad").glob("*.tif"))
    assert list((out / "patrullaje").glob("*.pdf"))

    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    source = small_inputs / "chota.csv"
    recorded = {Path(i["path"]).name: i["sha256"] for i in meta["inputs"]}
    assert recorded["chota.csv"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert set(recorded) == {"chota.csv", "sectores.geojson"}
    ing = meta["counts"]["ingesta"]
    n_rows = len(pd.read_csv(source, dtype=str))
    assert ing["rows_read"] == n_rows
    assert ing["rows_quarantined"] == 2
    assert ing["rows_accepted"] + ing["rows_quarantined"] == ing["rows_read"]
    assert meta["synthetic"] is True
    # automatic choices are recorded per province
    chota = meta["parameters"]["densidad"]["Chota"]
    assert chota["bandwidth_rule"] == "silverman" and chota["bandwidth_m"] > 0
    assert set(meta["timings_s"]) >= set(pipeline.STAGES) | {"total"}
    assert meta["versions"]["geopandas"]
    listed = set(meta["outputs"])
    # every file is listed by run.json, except the manifest written after it, which lists
    # run.json's files as well: both account for the whole folder
    assert listed == set(digest(out)) - {MANIFEST}
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == listed


def test_rerun_changes_nothing_but_run_json_stamps(small_inputs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(small_inputs / "run.toml", a).exit_code == 0
    assert run(small_inputs / "run.toml", b).exit_code == 0
    da, db = digest(a), digest(b)
    assert set(da) == set(db)
    differing = sorted(k for k in da if da[k] != db[k])
    # The run's time stamps: run.json files, the import log of the workspace and the
    # "Generado" (generation time) line of the HTML maps. Nothing else may change.
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    for name in [k for k in differing if k.endswith(".html")]:
        ta = stamp.sub("<hora>", (a / name).read_text(encoding="utf-8"))
        tb = stamp.sub("<hora>", (b / name).read_text(encoding="utf-8"))
        assert ta == tb, name
        differing.remove(name)
    assert set(differing) <= {"run.json", "prioridad/run.json", "workspace.gpkg"}, differing
    ja = json.loads((a / "run.json").read_text(encoding="utf-8"))
    jb = json.loads((b / "run.json").read_text(encoding="utf-8"))
    for j in (ja, jb):
        j.pop("generated_at")
        j.pop("timings_s")
    assert ja == jb
    wa, wb = Workspace(a / "workspace.gpkg"), Workspace(b / "workspace.gpkg")
    assert wa.layers() == wb.layers()
    for layer in wa.layers():
        ta, tb = wa.read_layer(layer), wb.read_layer(layer)
        if layer == "imports":
            ta, tb = ta.drop(columns="imported_at"), tb.drop(columns="imported_at")
        pd.testing.assert_frame_equal(pd.DataFrame(ta), pd.DataFrame(tb))


def test_failed_run_leaves_previous_outputs_intact(small_inputs, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run(small_inputs / "run.toml", out).exit_code == 0
    before = digest(out)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while drawing maps")

    monkeypatch.setattr(pipeline, "_stage_maps", broken)
    result = CliRunner().invoke(
        cli, ["run", str(small_inputs / "run.toml"), "--output", str(out), "--overwrite"]
    )
    assert result.exit_code == 1
    assert "Error interno" in result.output
    assert digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_existing_output_needs_overwrite_and_bad_config_is_reported(small_inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    result = CliRunner().invoke(cli, ["run", str(small_inputs / "run.toml"), "-o", str(out)])
    assert result.exit_code == 5
    assert "--overwrite" in result.output
    assert (out / "keep.txt").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('[inputs]\nincidents = ["nope.csv"]\n[density]\nkernel = "box"\n')
    result = CliRunner().invoke(cli, ["run", str(bad), "-o", str(tmp_path / "x")])
    assert result.exit_code == 4
    assert "nope.csv no existe" in result.output and "density.kernel" in result.output
    assert "Traceback" not in result.output


def test_overwrite_replaces_only_what_the_previous_run_wrote(small_inputs, tmp_path):
    out = tmp_path / "out"
    assert run(small_inputs / "run.toml", out).exit_code == 0
    previous = set(digest(out))
    # the analyst's own files, beside and inside parsc-geo's folders
    (out / "mis_notas.txt").write_text("reunión del lunes", encoding="utf-8")
    (out / "mapas" / "capa_propia.geojson").write_text("{}", encoding="utf-8")
    # a file of the previous run that the new run does not write any more
    (out / "prioridad" / "viejo.csv").write_text("x", encoding="utf-8")
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"].append("prioridad/viejo.csv")
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    result = run(small_inputs / "run.toml", out, "--overwrite")
    assert result.exit_code == 0, result.output
    now = set(digest(out))
    assert now == previous | {"mis_notas.txt", "mapas/capa_propia.geojson"}
    assert (out / "mis_notas.txt").read_text(encoding="utf-8") == "reunión del lunes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_demo_refuses_a_folder_that_is_not_a_parsc_geo_output(tmp_path):
    folder = tmp_path / "documentos"
    folder.mkdir()
    (folder / "tesis.docx").write_bytes(b"meses de trabajo")
    result = CliRunner().invoke(cli, ["demo", "-o", str(folder)])
    assert result.exit_code == 5, result.output
    assert "no es una salida de parsc-geo" in result.output
    assert [p.name for p in folder.iterdir()] == ["tesis.docx"]
    assert (folder / "tesis.docx").read_bytes() == b"meses de trabajo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documentos"]
