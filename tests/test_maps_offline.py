"""Map assets: ``lib/`` beside the pages or inlined in one file, from a package source.

The expected file contents are read here straight from the installed xstatic packages (their
``BASE_DIR``), independently of :mod:`parsc_geo.maps.offline`.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import maps_data as md
import pytest
from click.testing import CliRunner

from parsc_geo._errors import MissingDependencyError, OutputError
from parsc_geo.cli.main import cli
from parsc_geo.maps import new_map, render_map_html, write_atlas, write_map_html
from parsc_geo.maps import offline as off
from parsc_geo.maps.layers import add_incidents

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a0d7e6b20000000049454e44ae426082"
)


@pytest.fixture
def npm_folder(tmp_path, monkeypatch):
    """An npm-style folder with marker contents, and no other source reachable."""
    root = tmp_path / "assets"
    for asset in off.ASSETS:
        path = root / asset.package / asset.path
        path.parent.mkdir(parents=True, exist_ok=True)
        body = f"/* marker {asset.key} */"
        if asset.key == "leaflet_css":
            body += " .leaflet-control-layers-toggle { background-image: url(images/layers.png); }"
        path.write_text(body, encoding="utf-8")
    (root / "leaflet" / "dist" / "images").mkdir()
    (root / "leaflet" / "dist" / "images" / "layers.png").write_bytes(PNG_1PX)
    monkeypatch.setattr(off, "_npm_fetch", lambda asset: None)
    monkeypatch.setenv(off.CACHE_DIR_ENV, str(tmp_path / "cache"))
    return root


def _map_with_incidents():
    m = new_map(bounds=md.sectors().total_bounds, tiles=None)
    add_incidents(m, md.incidents())
    return m


def test_offline_inlines_every_asset(npm_folder, tmp_path):
    out = write_map_html(
        _map_with_incidents(), tmp_path / "m.html", offline=True, assets_dir=npm_folder
    )
    page = out.read_text(encoding="utf-8")
    for asset in off.ASSETS:
        assert f"/* marker {asset.key} */" in page
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', page)
    assert 'url("data:image/png;base64,' in page  # CSS images inlined too
    assert "window.parscGeo = P" in page  # parsc-geo's own runtime inlined as well
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    assert not (tmp_path / "lib").exists()


def test_offline_missing_assets_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(off, "_npm_fetch", lambda asset: None)
    monkeypatch.setenv(off.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(
        off,
        "ASSETS",
        tuple(
            off.Asset(a.key, a.kind, a.package, a.version, a.path, tmp_path / "none.js")
            for a in off.ASSETS
        ),
    )
    with pytest.raises(MissingDependencyError, match="leaflet") as info:
        render_map_html(_map_with_incidents(), offline_mode=True, assets_dir=tmp_path / "empty")
    assert "libjs-leaflet" in str(info.value) and "xstatic-leaflet" in str(info.value)
    assert not (tmp_path / "m.html").exists()


def _xstatic_dirs() -> tuple[Path, Path, str, str]:
    import xstatic.pkg.leaflet as xl
    import xstatic.pkg.leaflet_markercluster as xm

    return Path(xl.BASE_DIR), Path(xm.BASE_DIR), xl.VERSION, xm.VERSION


def _lib_expected() -> dict[str, bytes]:
    """The bytes ``lib/`` must hold, read straight from the xstatic packages and the runtime."""
    from parsc_geo.maps._runtime import RUNTIME_CSS, RUNTIME_JS

    leaflet, cluster, _, _ = _xstatic_dirs()
    out = {name: (leaflet / name).read_bytes() for name in ("leaflet.js", "leaflet.css")}
    out |= {
        name: (cluster / name).read_bytes()
        for name in ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css")
    }
    # the images Leaflet's style sheet names (its url(images/...) references)
    for ref in re.findall(r"url\((images/[^)]+)\)", out["leaflet.css"].decode()):
        out[ref] = (leaflet / ref).read_bytes()
    out["parsc-geo.js"] = RUNTIME_JS.encode()
    out["parsc-geo.css"] = RUNTIME_CSS.encode()
    return out


@pytest.fixture
def no_assets_env(monkeypatch, tmp_path):
    monkeypatch.delenv(off.ASSETS_DIR_ENV, raising=False)
    monkeypatch.setattr(off, "_npm_fetch", lambda asset: None)
    monkeypatch.setenv(off.CACHE_DIR_ENV, str(tmp_path / "cache"))


def test_xstatic_packages_are_the_first_source(no_assets_env):
    leaflet, cluster, v_leaflet, v_cluster = _xstatic_dirs()
    assert off.resolve_asset(off.LEAFLET_JS) == leaflet / "leaflet.js"
    assert off.resolve_asset(off.LEAFLET_CSS) == leaflet / "leaflet.css"
    for asset in (off.MARKERCLUSTER_JS, off.MARKERCLUSTER_CSS, off.MARKERCLUSTER_DEFAULT_CSS):
        assert off.resolve_asset(asset).parent == cluster
    # the declared versions are the installed ones: what the browser tests run is what users get
    assert (off.LEAFLET_JS.version, off.MARKERCLUSTER_JS.version) == (v_leaflet, v_cluster)
    assert f'version="{v_leaflet}"' in (leaflet / "leaflet.js").read_text(encoding="utf-8")


def test_explicit_folder_comes_before_xstatic(npm_folder):
    assert off.resolve_asset(off.LEAFLET_JS, assets_dir=npm_folder) == (
        npm_folder / "leaflet" / "dist" / "leaflet.js"
    )


def test_default_page_references_only_lib_files():
    page = render_map_html(_map_with_incidents())
    scripts = re.findall(r'<script src="([^"]+)"', page)
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert scripts == ["lib/leaflet.js", "lib/parsc-geo.js", "lib/leaflet.markercluster.js"]
    assert sheets == [
        "lib/leaflet.css",
        "lib/parsc-geo.css",
        "lib/MarkerCluster.css",
        "lib/MarkerCluster.Default.css",
    ]
    assert "cdn." not in page and "jsdelivr" not in page
    assert off.asset_for_href("lib/leaflet.markercluster.js") is off.MARKERCLUSTER_JS
    assert off.asset_for_url("file:///srv/mapas/lib/leaflet.css") is off.LEAFLET_CSS
    old_cdn = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"  # older pages
    assert off.asset_for_url(old_cdn) is off.LEAFLET_JS
    assert off.asset_for_url("https://example.org/lib/other.js") is None


def test_write_map_html_writes_lib_beside_the_page(no_assets_env, tmp_path):
    folder = tmp_path / "prioridad"
    page_path = write_map_html(_map_with_incidents(), folder / "mapa.html")
    expected = _lib_expected()
    lib = folder / "lib"
    written = {p.relative_to(lib).as_posix(): p.read_bytes() for p in lib.rglob("*") if p.is_file()}
    assert written == expected
    # every script and style sheet of the page is a file of lib/, relative to the page
    page = page_path.read_text(encoding="utf-8")
    refs = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page)
    assert refs and all((folder / ref).is_file() for ref in refs)
    # a second page in the same folder shares lib/ and leaves its files untouched
    stamp = {p: p.stat().st_mtime_ns for p in lib.rglob("*") if p.is_file()}
    write_map_html(_map_with_incidents(), folder / "otro.html")
    assert {p: p.stat().st_mtime_ns for p in lib.rglob("*") if p.is_file()} == stamp


def test_different_lib_file_is_not_overwritten(no_assets_env, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "leaflet.js").write_text("/* an older Leaflet */", encoding="utf-8")
    with pytest.raises(OutputError, match=r"leaflet\.js ya existe"):
        write_map_html(_map_with_incidents(), tmp_path / "mapa.html")
    assert not (tmp_path / "mapa.html").exists()
    assert not (tmp_path / "lib" / "leaflet.css").exists()  # nothing written
    write_map_html(_map_with_incidents(), tmp_path / "mapa.html", overwrite=True)
    assert (tmp_path / "lib" / "leaflet.js").read_bytes() == _lib_expected()["leaflet.js"]


def test_offline_file_from_xstatic_has_no_external_reference(no_assets_env, tmp_path):
    out = write_map_html(_map_with_incidents(), tmp_path / "m.html", offline=True)
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link)\b[^>]*\b(src|href)=", page)
    assert "jsdelivr" not in page and "unpkg" not in page
    _, _, v_leaflet, _ = _xstatic_dirs()
    assert f'version="{v_leaflet}"' in page  # Leaflet itself, inlined
    expected = _lib_expected()
    layers_png = base64.b64encode(expected["images/layers.png"]).decode("ascii")
    assert f'url("data:image/png;base64,{layers_png}")' in page
    assert not (tmp_path / "lib").exists()


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("offline_mode", [False, True])
def test_atlas_is_deterministic(no_assets_env, tmp_path, monkeypatch, offline_mode):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1604102400")  # 2020-10-31 00:00 UTC
    kwargs = {
        "hotspots": md.hotspots(),
        "sectors": md.sectors(),
        "densities": {"Cajamarca": md.density(), "comisaria:COMISARIA CAJAMARCA I": md.density()},
        "synthetic": True,
        "offline": offline_mode,
    }
    write_atlas(md.incidents(), output_dir=tmp_path / "a", **kwargs)
    write_atlas(md.incidents(), output_dir=tmp_path / "b", **kwargs)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a == b
    assert ("lib/leaflet.js" in a) is not offline_mode
    # generation time from SOURCE_DATE_EPOCH, in Lima time (UTC-5)
    page = (tmp_path / "a" / "provincia-cajamarca.html").read_text(encoding="utf-8")
    lima = dt.datetime(2020, 10, 30, 19, 0)
    assert f"<dd>{lima:%Y-%m-%d %H:%M}</dd>" in page
    # re-writing in place changes no byte
    write_atlas(md.incidents(), output_dir=tmp_path / "a", overwrite=True, **kwargs)
    assert _tree(tmp_path / "a") == a


def test_script_close_in_asset_is_neutralised(npm_folder, tmp_path):
    (npm_folder / "leaflet" / "dist" / "leaflet.js").write_text('var s = "</script>";')
    page = render_map_html(_map_with_incidents(), offline_mode=True, assets_dir=npm_folder)
    assert 'var s = "<\\/script>";' in page


def test_cli_map_writes_atlas(tmp_path, npm_folder):
    from parsc_geo.workspace import Workspace

    ws = Workspace(tmp_path / "w.gpkg")
    import pandas as pd

    from parsc_geo.schema import QUARANTINE_COLUMNS

    ws.import_incidents(
        md.incidents(),
        pd.DataFrame(columns=list(QUARANTINE_COLUMNS)),
        sources=[{"source": "fixture.csv", "sha256": "0" * 64}],
        sectors=md.sectors(),
        metadata={"synthetic": True},
    )
    out = tmp_path / "maps"
    env = {off.ASSETS_DIR_ENV: str(npm_folder)}
    result = CliRunner().invoke(
        cli,
        ["map", "--workspace", str(ws.path), "-o", str(out), "--offline", "--public"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "comisaria-comisaria-cajamarca-i.html",
        "index.html",
        "privacidad.json",  # the public maps' accounting (privacy rule, issue 13)
        "provincia-cajamarca.html",
    ]
    page = (out / "provincia-cajamarca.html").read_text(encoding="utf-8")
    assert "/* marker leaflet */" in page and "Mapa público." in page
    assert "DATOS SINTÉTICOS" in page
    again = CliRunner().invoke(cli, ["map", "--workspace", str(ws.path), "-o", str(out)], env=env)
    assert again.exit_code == 5 and "ya existe" in again.output


def test_npm_registry_fetch_into_cache(tmp_path, monkeypatch):
    """With no folder and no Debian file, ``npm pack`` is run and its tarball unpacked."""
    import io
    import os
    import stat
    import tarfile

    tarball = io.BytesIO()
    with tarfile.open(fileobj=tarball, mode="w:gz") as tar:
        data = b"/* leaflet from npm */"
        info = tarfile.TarInfo("package/dist/leaflet.js")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "leaflet.tgz").write_bytes(tarball.getvalue())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "npm"
    # a stand-in for npm: "npm pack leaflet@1.9.4" drops the tarball in the working folder
    fake.write_text(f'#!/bin/sh\ncp "{tmp_path / "leaflet.tgz"}" ./leaflet-1.9.4.tgz\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(off.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(off.ASSETS_DIR_ENV, raising=False)
    asset = off.Asset("leaflet", "js", "leaflet", "1.9.4", "dist/leaflet.js", tmp_path / "no.js")
    path = off.resolve_asset(asset)
    assert path == tmp_path / "cache" / "npm" / "leaflet@1.9.4" / "package" / "dist" / "leaflet.js"
    assert path.read_text() == "/* leaflet from npm */"
    # a failing npm (e.g. no registry): served from the cache all the same
    fake.write_text("#!/bin/sh\nexit 1\n")
    assert off.resolve_asset(asset) == path
    # a package npm cannot provide: a clear error naming it
    with pytest.raises(MissingDependencyError, match="nopkg"):
        off.resolve_asset(off.Asset("x", "js", "nopkg", "0.0.1", "x.js", None))


def test_cli_help_and_missing_workspace(tmp_path):
    result = CliRunner().invoke(cli, ["map", "--help"])
    assert result.exit_code == 0
    assert "Ejemplos:" in result.output and "--public" in result.output
    missing = CliRunner().invoke(cli, ["map", "--workspace", str(tmp_path / "no.gpkg")])
    assert missing.exit_code == 3
    assert "no existe" in missing.output


def test_written_files_follow_the_umask(no_assets_env, tmp_path):
    import os
    import stat

    previous = os.umask(0o027)
    try:
        page = write_map_html(_map_with_incidents(), tmp_path / "m.html")
    finally:
        os.umask(previous)
    for path in (page, tmp_path / "lib" / "leaflet.js", tmp_path / "lib" / "images" / "layers.png"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
