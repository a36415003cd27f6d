"""No data text reaches a template engine: hostile names, labels, ids and titles in every page.

Issue 13: folium/branca compiled the rendered scripts again as Jinja source, so a sector named
``{{ … }}`` ran Python while the map was built, ``ZZ {{7*7}} QQ`` showed as ``ZZ 49 QQ`` and
``robo {% raw`` aborted the build. These tests put the payloads of :mod:`hostile_data` in every
text field that reaches a page, in internal, ``--offline`` and ``--public`` atlases.
"""

from __future__ import annotations

import json
from pathlib import Path

import hostile_data as hd
import jinja2
import pandas as pd
import pytest
from click.testing import CliRunner

from parsc_geo.maps import write_atlas

MODES = {
    "interno": {},
    "offline": {"offline": True},
    "publico": {"public": True},
}

#: Internal pages show these fields (and delito_especifico, in the modalidad label).
INTERNAL_VISIBLE = [*hd.INTERNAL_VISIBLE, "incident delito_especifico"]
PUBLIC_VISIBLE = hd.PUBLIC_VISIBLE
PUBLIC_HIDDEN = hd.PUBLIC_HIDDEN


def _write(folder: Path, mode: str, text: object = hd.tagged) -> list[Path]:
    inc, sectors, hs = hd.hostile_inputs(text)
    return write_atlas(
        inc,
        hotspots=hs,
        sectors=sectors,
        output_dir=folder,
        tiles=None,
        synthetic=True,
        **hd.atlas_text(text),
        **MODES[mode],
    )


@pytest.fixture(scope="module")
def compiled_and_pages(tmp_path_factory) -> dict[str, tuple[list[str], list[str]]]:
    """Per mode: every template source compiled while building, and the pages written."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    original = jinja2.Environment.compile
    for mode in MODES:
        sources: list[str] = []

        def spy(self, source, *args, _sources=sources, **kwargs):  # type: ignore[no-untyped-def]
            if isinstance(source, str):
                _sources.append(source)
            return original(self, source, *args, **kwargs)

        jinja2.Environment.compile = spy  # type: ignore[method-assign]
        try:
            paths = _write(tmp_path_factory.mktemp(mode), mode)
        finally:
            jinja2.Environment.compile = original  # type: ignore[method-assign]
        out[mode] = (sources, [p.read_text(encoding="utf-8") for p in paths])
    return out


@pytest.mark.parametrize("mode", list(MODES))
def test_no_data_text_is_compiled_as_a_template(compiled_and_pages, mode):
    sources, _ = compiled_and_pages[mode]
    offending = [s for s in sources if "QQ" in s or "onerror" in s or "F0" in s]
    assert offending == []


@pytest.mark.parametrize("mode", list(MODES))
def test_pages_hold_no_evaluated_template_nor_live_markup(compiled_and_pages, mode):
    _, pages = compiled_and_pages[mode]
    assert len(pages) == 3  # province, comisaría, index
    for page in pages:
        assert hd.EVALUATED not in page
        assert "<img src=x" not in page
        assert "<script>alert(1)" not in page
        assert "<script>window.parscPwned" not in page


@pytest.mark.parametrize("mode", ["interno", "offline"])
def test_internal_pages_show_every_field_literally(compiled_and_pages, mode):
    _, pages = compiled_and_pages[mode]
    text = "\n".join(pages)
    for field in INTERNAL_VISIBLE:
        tag = hd.FIELDS[field]
        # the tag and the template syntax behind it, unchanged by HTML or JSON escaping
        assert f"{tag} ZZ {{{{7*7}}}} QQ · robo {{% raw · a {{# b · c }}}} d" in text, field


def test_public_pages_show_names_literally_and_no_free_text(compiled_and_pages):
    _, pages = compiled_and_pages["publico"]
    text = "\n".join(pages)
    for field in PUBLIC_VISIBLE:
        assert f"{hd.FIELDS[field]} ZZ {{{{7*7}}}} QQ" in text, field
    for field in PUBLIC_HIDDEN:
        assert f"{hd.FIELDS[field]} ZZ" not in text, field


@pytest.mark.parametrize("mode", list(MODES))
def test_hostile_build_runs_no_os_command(tmp_path, mode):
    marker = tmp_path / "pwned"
    payload = hd.os_command(str(marker))
    paths = _write(tmp_path / "out", mode, payload)
    assert not marker.exists()
    assert payload.replace("'", "&#x27;") in paths[1].read_text(encoding="utf-8") or (
        payload.replace("'", "\\u0027") in paths[1].read_text(encoding="utf-8")
    )


def _workspace(tmp_path: Path, text: object = hd.tagged) -> Path:
    from parsc_geo.schema import QUARANTINE_COLUMNS
    from parsc_geo.store import Workspace

    inc, sectors, hs = hd.hostile_inputs(text)
    ws = Workspace(tmp_path / "w.gpkg")
    ws.import_incidents(
        inc,
        pd.DataFrame(columns=list(QUARANTINE_COLUMNS)),
        sources=[{"source": "fixture.csv", "sha256": "0" * 64}],
        sectors=sectors,
        metadata={"synthetic": True},
    )
    ws.write_layer("hotspots", hs)
    return ws.path


@pytest.mark.parametrize("flags", [[], ["--offline"], ["--public"], ["--public", "--offline"]])
def test_cli_map_builds_hostile_workspace(tmp_path, flags):
    from parsc_geo.cli.main import cli

    marker = tmp_path / "pwned"
    for name, text in (("tags", hd.tagged), ("os", hd.os_command(str(marker)))):
        ws = _workspace(tmp_path / name, text)
        out = tmp_path / name / "maps"
        result = CliRunner().invoke(
            cli, ["map", "--workspace", str(ws), "-o", str(out), "--tiles", "ninguna", *flags]
        )
        assert result.exit_code == 0, result.output
        for page in out.glob("*.html"):
            content = page.read_text(encoding="utf-8")
            assert hd.EVALUATED not in content and "<img src=x" not in content
    assert not marker.exists()


def test_single_map_writer_and_title_block_are_safe(tmp_path):
    """The public building blocks (new_map, add_title_block, add_legend) as another map maker."""
    from parsc_geo.maps import add_legend, add_title_block, new_map, write_map_html

    marker = tmp_path / "pwned"
    payload = hd.PAYLOAD + " " + hd.os_command(str(marker))
    m = new_map(bounds=(-78.6, -7.2, -78.4, -7.1), tiles=None, title=payload)
    add_title_block(m, title=payload, place=payload, period=payload, source=payload)
    add_legend(m, payload, [("#ff0000", payload, 3)], note=payload)
    page = write_map_html(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert not marker.exists()
    assert hd.EVALUATED not in page and "<img src=x" not in page
    # <title>, summary, place, period, source, legend title, entry and note
    assert page.count("ZZ {{7*7}} QQ") == 8


@pytest.mark.slow
def test_run_with_hostile_names_labels_and_title(tmp_path):
    """``run`` (normal and public maps) on a CSV and sector layer full of payloads: exit 0."""
    import geopandas as gpd

    from parsc_geo.cli.main import cli
    from parsc_geo.datasets import sample_paths

    paths = sample_paths()
    sample = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    chota = sample[sample["ubigeo"].str.startswith("0604")].copy()
    hostile_label = "robo {% raw ZZ {{7*7}} QQ"
    chota.loc[chota.index[:5], "modalidad"] = hostile_label
    chota.loc[chota.index[5:10], "descripcion"] = hd.PAYLOAD
    chota.loc[chota.index[10:15], "delito_especifico"] = r"ROBO $\alpha_{x$"
    chota.to_csv(tmp_path / "chota.csv", index=False)
    sectors = gpd.read_file(paths["sectors"])
    sectors = sectors[sectors["comisaria"].str.contains("CHOTA")].copy()
    sectors["sector"] = sectors["sector"] + " " + hd.PAYLOAD + r" $\alpha_{x$"
    sectors["comisaria"] = sectors["comisaria"] + " {{7*7}} {#"
    sectors.to_file(tmp_path / "sectores.geojson", driver="GeoJSON")
    for public in ("false", "true"):
        (tmp_path / "run.toml").write_text(
            f"""
title = {json.dumps(hd.PAYLOAD)}
synthetic = true
[inputs]
incidents = ["chota.csv"]
sectors = "sectores.geojson"
[hotspots]
methods = ["kde", "dbscan"]
[priority]
bootstrap = 5
[maps]
public = {public}
tiles = false
""",
            encoding="utf-8",
        )
        out = tmp_path / f"out-{public}"
        result = CliRunner().invoke(cli, ["run", str(tmp_path / "run.toml"), "--output", str(out)])
        assert result.exit_code == 0, result.output
        pages = sorted((out / "mapas").glob("*.html"))
        assert len(pages) >= 3
        for page in pages:
            content = page.read_text(encoding="utf-8")
            assert hd.EVALUATED not in content and "<img src=x" not in content
        assert hd.PAYLOAD in (out / "RESUMEN.md").read_text(encoding="utf-8")
        assert len(list((out / "patrullaje").glob("*.pdf"))) == 1
