"""Offline single-file maps: assets inlined from a package source, clear error when missing."""

from __future__ import annotations

import re

import maps_data as md
import pytest
from click.testing import CliRunner

from parsc_geo._errors import MissingDependencyError
from parsc_geo.cli.main import cli
from parsc_geo.maps import new_map, render_map_html, write_map_html
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
    assert "libjs-leaflet" in str(info.value)
    assert not (tmp_path / "m.html").exists()


def test_online_page_references_cdn_assets():
    page = render_map_html(_map_with_incidents())
    urls = re.findall(r'<script src="([^"]+)"', page)
    assert urls == [off.LEAFLET_JS.url, off.MARKERCLUSTER_JS.url]
    assert off.asset_for_url(urls[1]) is off.MARKERCLUSTER_JS


def test_script_close_in_asset_is_neutralised(npm_folder, tmp_path):
    (npm_folder / "leaflet" / "dist" / "leaflet.js").write_text('var s = "</script>";')
    page = render_map_html(_map_with_incidents(), offline_mode=True, assets_dir=npm_folder)
    assert 'var s = "<\\/script>";' in page


def test_cli_map_writes_atlas(tmp_path, npm_folder):
    from parsc_geo.store import Workspace

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
        "provincia-cajamarca.html",
    ]
    page = (out / "provincia-cajamarca.html").read_text(encoding="utf-8")
    assert "/* marker leaflet */" in page and "Mapa público." in page
    assert "DATOS SINTÉTICOS" in page
    again = CliRunner().invoke(cli, ["map", "--workspace", str(ws.path), "-o", str(out)], env=env)
    assert again.exit_code == 5 and "already exist" in again.output


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
    assert "Examples:" in result.output and "--public" in result.output
    missing = CliRunner().invoke(cli, ["map", "--workspace", str(tmp_path / "no.gpkg")])
    assert missing.exit_code == 3
    assert "does not exist" in missing.output
