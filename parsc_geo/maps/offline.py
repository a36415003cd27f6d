"""JavaScript and CSS assets of the maps, and their inlining for single-file offline maps.

A map needs only three libraries: Leaflet, Leaflet.markercluster and their style sheets (the
fullscreen button, the scale bar, the legends and the period filter are parsc-geo's own code).
Online maps load them from a CDN (``cdn.jsdelivr.net``, which mirrors the npm registry). An
offline map inlines them, and they are taken from a package registry, never from this
repository, in this order:

1. a folder given as ``assets_dir`` or in the ``PARSC_GEO_ASSETS_DIR`` environment variable,
   laid out as npm packages (``leaflet/dist/leaflet.js``, ``leaflet.markercluster/dist/...``);
2. Debian's packages ``libjs-leaflet`` and ``libjs-leaflet.markercluster``
   (``/usr/share/javascript/leaflet/``);
3. the npm registry at run time: ``npm pack`` into the user cache
   (``~/.cache/parsc-geo/npm``; ``PARSC_GEO_CACHE_DIR`` overrides it), when ``npm`` exists.

When none of them has a file, :class:`~parsc_geo._errors.MissingDependencyError` says how to
install one.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .._errors import MissingDependencyError, OutputError

#: Folder of Debian's ``libjs-leaflet*`` packages.
DEBIAN_JS_DIR: Final = Path("/usr/share/javascript/leaflet")
#: Environment variable naming a folder of npm-style packages to inline assets from.
ASSETS_DIR_ENV: Final = "PARSC_GEO_ASSETS_DIR"
#: Environment variable overriding the cache folder for npm downloads.
CACHE_DIR_ENV: Final = "PARSC_GEO_CACHE_DIR"
#: Seconds allowed for ``npm pack`` before giving up.
NPM_TIMEOUT_S: Final = 120


@dataclass(frozen=True)
class Asset:
    """One JavaScript or CSS file of an npm package.

    Parameters
    ----------
    key
        Name used by folium for the asset (unique in a page).
    kind
        ``"js"`` or ``"css"``.
    package, version, path
        npm package, version and path of the file inside the package.
    debian
        Path of the same file in Debian's package, if there is one.
    """

    key: str
    kind: str
    package: str
    version: str
    path: str
    debian: Path | None

    @property
    def url(self) -> str:
        """Return the CDN URL of the asset (jsDelivr's mirror of the npm registry)."""
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{self.path}"


LEAFLET_JS: Final = Asset(
    "leaflet", "js", "leaflet", "1.9.4", "dist/leaflet.js", DEBIAN_JS_DIR / "leaflet.min.js"
)
LEAFLET_CSS: Final = Asset(
    "leaflet_css", "css", "leaflet", "1.9.4", "dist/leaflet.css", DEBIAN_JS_DIR / "leaflet.css"
)
MARKERCLUSTER_JS: Final = Asset(
    "markercluster",
    "js",
    "leaflet.markercluster",
    "1.5.3",
    "dist/leaflet.markercluster.js",
    DEBIAN_JS_DIR / "leaflet.markercluster.min.js",
)
MARKERCLUSTER_CSS: Final = Asset(
    "markercluster_css",
    "css",
    "leaflet.markercluster",
    "1.5.3",
    "dist/MarkerCluster.css",
    DEBIAN_JS_DIR / "MarkerCluster.css",
)
MARKERCLUSTER_DEFAULT_CSS: Final = Asset(
    "markercluster_default_css",
    "css",
    "leaflet.markercluster",
    "1.5.3",
    "dist/MarkerCluster.Default.css",
    DEBIAN_JS_DIR / "MarkerCluster.Default.css",
)

#: Every asset a parsc-geo map may reference.
ASSETS: Final[tuple[Asset, ...]] = (
    LEAFLET_JS,
    LEAFLET_CSS,
    MARKERCLUSTER_JS,
    MARKERCLUSTER_CSS,
    MARKERCLUSTER_DEFAULT_CSS,
)

_INSTALL_HINT = (
    "install Debian's packages (apt-get install libjs-leaflet libjs-leaflet.markercluster), "
    "or install npm so that parsc-geo can fetch them from the npm registry, or set "
    f"{ASSETS_DIR_ENV} to a folder holding leaflet/ and leaflet.markercluster/ npm packages; "
    "or write the map without --offline"
)


def asset_for_url(url: str) -> Asset | None:
    """Return the asset whose CDN URL is ``url`` (ignoring version and query), or None."""
    clean = url.split("?", 1)[0].split("#", 1)[0]
    for asset in ASSETS:
        if clean == asset.url:
            return asset
    for asset in ASSETS:
        if clean.endswith("/" + asset.path) and f"/{asset.package}@" in clean:
            return asset
    return None


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env) / "npm"
    return Path.home() / ".cache" / "parsc-geo" / "npm"


def _npm_package_dir(asset: Asset) -> Path:
    return _cache_dir() / f"{asset.package}@{asset.version}" / "package"


def _npm_fetch(asset: Asset) -> Path | None:
    """Download ``asset``'s package with ``npm pack`` into the cache; return its folder."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    target = _npm_package_dir(asset)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        try:
            proc = subprocess.run(
                [npm, "pack", f"{asset.package}@{asset.version}", "--silent"],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            return None
        extract_to = Path(tmp) / "x"
        with tarfile.open(tarballs[0], "r:gz") as tar:
            tar.extractall(extract_to, filter="data")
        if not (extract_to / "package").is_dir():
            return None
        if target.exists():
            shutil.rmtree(target)
        os.replace(extract_to / "package", target)
    return target


def resolve_asset(asset: Asset, *, assets_dir: Path | None = None, allow_npm: bool = True) -> Path:
    """Return a local file holding ``asset``, from a folder, Debian, or the npm registry.

    Parameters
    ----------
    asset
        The asset wanted.
    assets_dir
        Folder of npm-style packages (``<package>/<path>``); None reads ``PARSC_GEO_ASSETS_DIR``.
    allow_npm
        Whether ``npm pack`` may be run to fetch a missing package.

    Returns
    -------
    pathlib.Path
        An existing file.

    Raises
    ------
    MissingDependencyError
        When no source has the file.
    """
    folders: list[Path] = []
    if assets_dir is not None:
        folders.append(Path(assets_dir))
    elif os.environ.get(ASSETS_DIR_ENV):
        folders.append(Path(os.environ[ASSETS_DIR_ENV]))
    for folder in folders:
        candidate = folder / asset.package / asset.path
        if candidate.is_file():
            return candidate
    if asset.debian is not None and asset.debian.is_file():
        return asset.debian
    cached = _npm_package_dir(asset) / asset.path
    if cached.is_file():
        return cached
    if allow_npm:
        fetched = _npm_fetch(asset)
        if fetched is not None and (fetched / asset.path).is_file():
            return fetched / asset.path
    raise MissingDependencyError(
        f"cannot find {asset.package} {asset.path} to inline in an offline map "
        f"(looked in {', '.join(str(f) for f in folders) or 'no assets folder'}, "
        f"{asset.debian}, {_npm_package_dir(asset)})",
        hint=_INSTALL_HINT,
    )


_CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:)([^'\")]+)['\"]?\s*\)")
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


def _inline_css_urls(css: str, base: Path) -> str:
    """Replace relative ``url(...)`` references of a style sheet by data URIs."""

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1)
        path = (base / ref).resolve()
        mime = _MIME.get(path.suffix.lower())
        if mime is None or not path.is_file():
            # Leaflet's CSS also names the IE behaviour "#default#VML": harmless, left as is.
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'url("data:{mime};base64,{data}")'

    return _CSS_URL.sub(repl, css)


def _safe_script(text: str) -> str:
    return text.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def inline_assets(html: str, *, assets_dir: Path | None = None, allow_npm: bool = True) -> str:
    """Return ``html`` with every CDN ``<script src>`` and ``<link href>`` of ASSETS inlined.

    Parameters
    ----------
    html
        A rendered parsc-geo map.
    assets_dir, allow_npm
        See :func:`resolve_asset`.

    Returns
    -------
    str
        A self-contained page: no ``<script src>`` nor style sheet ``<link>`` to the network
        remains (tiles, if any, are still requested at run time and fail quietly offline).

    Raises
    ------
    MissingDependencyError
        When an asset cannot be found.
    OutputError
        When the page references a script or style sheet that parsc-geo does not know.
    """
    script_re = re.compile(r'<script\s+src="(https?://[^"]+)"\s*>\s*</script>')
    link_re = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"\s*/?>')

    def script_repl(match: re.Match[str]) -> str:
        asset = asset_for_url(match.group(1))
        if asset is None:
            raise OutputError(f"the map references an unknown script {match.group(1)!r}")
        path = resolve_asset(asset, assets_dir=assets_dir, allow_npm=allow_npm)
        code = path.read_text(encoding="utf-8")
        return f"<script>/* {asset.package} ({path.name}) */\n{_safe_script(code)}\n</script>"

    def link_repl(match: re.Match[str]) -> str:
        asset = asset_for_url(match.group(1))
        if asset is None:
            raise OutputError(f"the map references an unknown style sheet {match.group(1)!r}")
        path = resolve_asset(asset, assets_dir=assets_dir, allow_npm=allow_npm)
        css = _inline_css_urls(path.read_text(encoding="utf-8"), path.parent)
        return f"<style>/* {asset.package} ({path.name}) */\n{_safe_script(css)}\n</style>"

    out = script_re.sub(script_repl, html)
    out = link_re.sub(link_repl, out)
    leftover = re.search(r'<(?:script|link)[^>]+(?:src|href)="https?://', out)
    if leftover:
        raise OutputError(
            f"the offline map still references the network near {out[leftover.start() :][:120]!r}"
        )
    return out
