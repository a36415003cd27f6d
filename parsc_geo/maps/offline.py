"""JavaScript and CSS of the maps: written beside the pages, or inlined in a single file.

A map needs Leaflet, Leaflet.markercluster and their style sheets, plus parsc-geo's own runtime
(layers, scale bar, fullscreen button, legends and period filter, :mod:`._runtime`). No page
loads anything from the network: by default the files are written once into a ``lib/`` folder
beside the pages (:func:`write_lib`), which reference them by relative path
(``lib/leaflet.js``), so a map opened from a disk, a USB stick or a shared folder works with no
connection; an offline map inlines them instead (:func:`inline_assets`) and is a single file.

The third-party files come from a package registry, never from this repository, in this order:

1. a folder given as ``assets_dir`` or in the ``PARSC_GEO_ASSETS_DIR`` environment variable,
   laid out as npm packages (``leaflet/dist/leaflet.js``, ``leaflet.markercluster/dist/...``);
2. the PyPI packages ``xstatic-leaflet`` and ``xstatic-leaflet-markercluster`` (dependencies of
   parsc-geo, so a fresh install with only Python has them);
3. Debian's packages ``libjs-leaflet`` and ``libjs-leaflet.markercluster``
   (``/usr/share/javascript/leaflet/``);
4. the npm registry at run time: ``npm pack`` into the user cache
   (``~/.cache/parsc-geo/npm``; ``PARSC_GEO_CACHE_DIR`` overrides it), when ``npm`` exists.

The versions declared below are those of the xstatic packages, so the browser tests run the
same Leaflet that users get. When no source has a file,
:class:`~parsc_geo._errors.MissingDependencyError` says how to install one.
"""

from __future__ import annotations

import base64
import importlib
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .._atomic import write_bytes_atomic
from .._errors import MissingDependencyError, OutputError
from ._runtime import RUNTIME_CSS, RUNTIME_JS

#: Folder of Debian's ``libjs-leaflet*`` packages.
DEBIAN_JS_DIR: Final = Path("/usr/share/javascript/leaflet")
#: Environment variable naming a folder of npm-style packages to take assets from.
ASSETS_DIR_ENV: Final = "PARSC_GEO_ASSETS_DIR"
#: Environment variable overriding the cache folder for npm downloads.
CACHE_DIR_ENV: Final = "PARSC_GEO_CACHE_DIR"
#: Seconds allowed for ``npm pack`` before giving up.
NPM_TIMEOUT_S: Final = 120
#: Folder, beside the pages, holding the scripts and style sheets they reference.
LIB_DIR: Final = "lib"
#: File names of parsc-geo's own runtime in ``lib/``.
RUNTIME_JS_FILE: Final = "parsc-geo.js"
RUNTIME_CSS_FILE: Final = "parsc-geo.css"


@dataclass(frozen=True)
class Asset:
    """One JavaScript or CSS file of a third-party package.

    Parameters
    ----------
    key
        Name used by folium for the asset (unique in a page).
    kind
        ``"js"`` or ``"css"``.
    package, version, path
        npm package, version and path of the file inside the npm package.
    debian
        Path of the same file in Debian's package, if there is one.
    xstatic
        Python module of the xstatic package holding the file (in its ``BASE_DIR``), if any.
    """

    key: str
    kind: str
    package: str
    version: str
    path: str
    debian: Path | None
    xstatic: str | None = None

    @property
    def filename(self) -> str:
        """Return the file's name in ``lib/`` (the npm file name, e.g. ``leaflet.js``)."""
        return posixpath.basename(self.path)

    @property
    def href(self) -> str:
        """Return the relative URL by which a page references the file (``lib/leaflet.js``)."""
        return f"{LIB_DIR}/{self.filename}"


_XL: Final = "xstatic.pkg.leaflet"
_XM: Final = "xstatic.pkg.leaflet_markercluster"

LEAFLET_JS: Final = Asset(
    "leaflet", "js", "leaflet", "1.9.3", "dist/leaflet.js", DEBIAN_JS_DIR / "leaflet.min.js", _XL
)
LEAFLET_CSS: Final = Asset(
    "leaflet_css",
    "css",
    "leaflet",
    "1.9.3",
    "dist/leaflet.css",
    DEBIAN_JS_DIR / "leaflet.css",
    _XL,
)
MARKERCLUSTER_JS: Final = Asset(
    "markercluster",
    "js",
    "leaflet.markercluster",
    "1.4.1",
    "dist/leaflet.markercluster.js",
    DEBIAN_JS_DIR / "leaflet.markercluster.min.js",
    _XM,
)
MARKERCLUSTER_CSS: Final = Asset(
    "markercluster_css",
    "css",
    "leaflet.markercluster",
    "1.4.1",
    "dist/MarkerCluster.css",
    DEBIAN_JS_DIR / "MarkerCluster.css",
    _XM,
)
MARKERCLUSTER_DEFAULT_CSS: Final = Asset(
    "markercluster_default_css",
    "css",
    "leaflet.markercluster",
    "1.4.1",
    "dist/MarkerCluster.Default.css",
    DEBIAN_JS_DIR / "MarkerCluster.Default.css",
    _XM,
)

#: Every third-party asset a parsc-geo map may reference.
ASSETS: Final[tuple[Asset, ...]] = (
    LEAFLET_JS,
    LEAFLET_CSS,
    MARKERCLUSTER_JS,
    MARKERCLUSTER_CSS,
    MARKERCLUSTER_DEFAULT_CSS,
)

#: Href of parsc-geo's own runtime script and style sheet.
RUNTIME_JS_HREF: Final = f"{LIB_DIR}/{RUNTIME_JS_FILE}"
RUNTIME_CSS_HREF: Final = f"{LIB_DIR}/{RUNTIME_CSS_FILE}"

_INSTALL_HINT = (
    "instale las dependencias de parsc-geo (pip install xstatic-leaflet "
    "xstatic-leaflet-markercluster), o los paquetes de Debian (apt-get install libjs-leaflet "
    "libjs-leaflet.markercluster), o npm para que parsc-geo los obtenga del registro npm, "
    f"o asigne a {ASSETS_DIR_ENV} una carpeta con los paquetes npm leaflet/ y "
    "leaflet.markercluster/"
)


def asset_for_href(href: str) -> Asset | None:
    """Return the asset a page references as ``href`` (``lib/leaflet.js``), or None."""
    clean = href.split("?", 1)[0].split("#", 1)[0]
    for asset in ASSETS:
        if clean == asset.href:
            return asset
    return None


def asset_for_url(url: str) -> Asset | None:
    """Return the asset a URL names, or None.

    Accepts a page's ``lib/`` href, a ``file://`` URL ending in ``/lib/<file>``, and the CDN URL
    (``.../<package>@<version>/<path>``) that pages of older parsc-geo versions referenced.
    """
    clean = url.split("?", 1)[0].split("#", 1)[0]
    for asset in ASSETS:
        if clean == asset.href or clean.endswith("/" + asset.href):
            return asset
        if f"/{asset.package}@" in clean and clean.endswith("/" + asset.path):
            return asset
    return None


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env) / "npm"
    return Path.home() / ".cache" / "parsc-geo" / "npm"


def _npm_package_dir(asset: Asset) -> Path:
    return _cache_dir() / f"{asset.package}@{asset.version}" / "package"


def _xstatic_file(asset: Asset) -> Path | None:
    """Return the asset's file in its installed xstatic package, or None."""
    if asset.xstatic is None:
        return None
    try:
        module = importlib.import_module(asset.xstatic)
    except ImportError:
        return None
    base = getattr(module, "BASE_DIR", None)
    if not base:
        return None
    candidate = Path(base) / asset.filename
    return candidate if candidate.is_file() else None


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
    """Return a local file holding ``asset``: a folder, xstatic, Debian, or the npm registry.

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
    xstatic = _xstatic_file(asset)
    if xstatic is not None:
        return xstatic
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
        f"no se encuentra {asset.package} {asset.path} para los mapas "
        f"(se buscó en {', '.join(str(f) for f in folders) or 'ninguna carpeta de recursos'}, "
        f"el paquete Python {asset.xstatic or '-'}, {asset.debian}, {_npm_package_dir(asset)})",
        hint=_INSTALL_HINT,
    )


_CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:)([^'\")]+)['\"]?\s*\)")
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


def _css_images(css: str, base: Path) -> dict[str, bytes]:
    """Return the images a style sheet references by relative URL: URL → bytes.

    Only files inside ``base`` with a known image type count; other references (Leaflet's
    IE behaviour ``#default#VML``, absolute URLs) are left alone.
    """
    out: dict[str, bytes] = {}
    root = base.resolve()
    for ref in _CSS_URL.findall(css):
        if "://" in ref or ref.startswith(("/", "#")):
            continue
        path = (base / ref).resolve()
        if _MIME.get(path.suffix.lower()) is None or not path.is_file():
            continue
        if root not in path.parents:
            continue
        out[posixpath.normpath(ref)] = path.read_bytes()
    return out


def lib_files(*, assets_dir: Path | None = None, allow_npm: bool = True) -> dict[str, bytes]:
    """Return every file of ``lib/``: path relative to ``lib/`` → bytes, in a fixed order.

    The third-party scripts and style sheets of :data:`ASSETS` (from :func:`resolve_asset`),
    the images their style sheets reference (``images/layers.png``, ...), and parsc-geo's own
    runtime (``parsc-geo.js``, ``parsc-geo.css``).

    Parameters
    ----------
    assets_dir, allow_npm
        See :func:`resolve_asset`.

    Returns
    -------
    dict of str to bytes
        The files, the same bytes on every call with the same package sources.

    Raises
    ------
    MissingDependencyError
        When an asset cannot be found.
    """
    files: dict[str, bytes] = {}
    for asset in ASSETS:
        path = resolve_asset(asset, assets_dir=assets_dir, allow_npm=allow_npm)
        data = path.read_bytes()
        files[asset.filename] = data
        if asset.kind == "css":
            images = _css_images(data.decode("utf-8"), path.parent)
            for ref in sorted(images):
                files.setdefault(ref, images[ref])
    files[RUNTIME_JS_FILE] = RUNTIME_JS.encode("utf-8")
    files[RUNTIME_CSS_FILE] = RUNTIME_CSS.encode("utf-8")
    return files


def check_lib(
    folder: str | os.PathLike[str], files: Mapping[str, bytes], *, overwrite: bool = False
) -> None:
    """Raise if writing ``files`` into ``folder/lib`` would replace different existing files.

    Raises
    ------
    OutputError
        When a file of ``lib/`` exists with other bytes and ``overwrite`` is False.
    """
    if overwrite:
        return
    lib = Path(folder) / LIB_DIR
    for name, data in files.items():
        target = lib / name
        if target.exists() and (not target.is_file() or target.read_bytes() != data):
            raise OutputError(
                f"{target} ya existe con otro contenido (otra versión de las bibliotecas del mapa)",
                hint="use overwrite=True / --overwrite, o elija otra carpeta de salida",
            )


def write_lib(
    folder: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    assets_dir: Path | None = None,
    allow_npm: bool = True,
    files: Mapping[str, bytes] | None = None,
) -> list[Path]:
    """Write the map libraries into ``folder/lib/`` (atomically, each file once).

    Files already present with the same bytes are left untouched, so several pages (or several
    runs) share one ``lib/`` and re-running changes nothing.

    Parameters
    ----------
    folder
        Folder of the pages.
    overwrite
        Replace files of ``lib/`` that differ (e.g. after upgrading parsc-geo).
    assets_dir, allow_npm
        See :func:`resolve_asset`.
    files
        The files (default :func:`lib_files`).

    Returns
    -------
    list of pathlib.Path
        Every file of ``lib/`` the pages need (written or already there).

    Raises
    ------
    MissingDependencyError
        When an asset cannot be found.
    OutputError
        When a different file exists and ``overwrite`` is False (nothing is written then), or a
        file cannot be written.
    """
    content = (
        dict(files) if files is not None else lib_files(assets_dir=assets_dir, allow_npm=allow_npm)
    )
    check_lib(folder, content, overwrite=overwrite)
    lib = Path(folder) / LIB_DIR
    out: list[Path] = []
    for name, data in content.items():
        target = lib / name
        try:
            if not (target.is_file() and target.read_bytes() == data):
                write_bytes_atomic(target, data, overwrite=True)
        except OSError as exc:
            raise OutputError(f"no se puede escribir {target}: {exc}") from exc
        out.append(target)
    return out


def _inline_css_urls(css: str, images: Mapping[str, bytes], prefix: str) -> str:
    """Replace the ``url(...)`` references of a style sheet found in ``images`` by data URIs."""

    def repl(match: re.Match[str]) -> str:
        ref = posixpath.normpath(posixpath.join(prefix, match.group(1)))
        mime = _MIME.get(posixpath.splitext(ref)[1].lower())
        if mime is None or ref not in images:
            # Leaflet's CSS also names the IE behaviour "#default#VML": harmless, left as is.
            return match.group(0)
        data = base64.b64encode(images[ref]).decode("ascii")
        return f'url("data:{mime};base64,{data}")'

    return _CSS_URL.sub(repl, css)


def _safe_script(text: str) -> str:
    return text.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def _safe_style(text: str) -> str:
    return text.replace("</style", "<\\/style").replace("</STYLE", "<\\/STYLE")


_SCRIPT_RE = re.compile(r'<script\s+src="([^"]+)"\s*>\s*</script>')
_LINK_RE = re.compile(r'<link\s+rel="stylesheet"\s+href="([^"]+)"\s*/?>')


def inline_assets(html: str, *, assets_dir: Path | None = None, allow_npm: bool = True) -> str:
    """Return ``html`` with every ``lib/`` script and style sheet inlined.

    Parameters
    ----------
    html
        A rendered parsc-geo map (referencing ``lib/leaflet.js`` and the like).
    assets_dir, allow_npm
        See :func:`resolve_asset`.

    Returns
    -------
    str
        A self-contained page: no ``<script src>`` nor style sheet ``<link>`` remains, and the
        images of the style sheets are data URIs (tiles, if any, are still requested at run
        time and fail quietly offline).

    Raises
    ------
    MissingDependencyError
        When an asset cannot be found.
    OutputError
        When the page references a script or style sheet that parsc-geo does not know.
    """
    files = lib_files(assets_dir=assets_dir, allow_npm=allow_npm)
    prefix = LIB_DIR + "/"

    def lookup(href: str, what: str) -> tuple[str, str]:
        name = href[len(prefix) :] if href.startswith(prefix) else None
        if name is None or name not in files:
            raise OutputError(f"el mapa hace referencia a un {what} desconocido {href!r}")
        return name, files[name].decode("utf-8")

    def script_repl(match: re.Match[str]) -> str:
        name, code = lookup(match.group(1), "script")
        return f"<script>/* {name} */\n{_safe_script(code)}\n</script>"

    def link_repl(match: re.Match[str]) -> str:
        name, css = lookup(match.group(1), "style sheet")
        css = _inline_css_urls(css, files, posixpath.dirname(name))
        return f"<style>/* {name} */\n{_safe_style(css)}\n</style>"

    out = _SCRIPT_RE.sub(script_repl, html)
    out = _LINK_RE.sub(link_repl, out)
    leftover = re.search(r"<(?:script|link)[^>]+(?:src|href)=", out)
    if leftover:
        raise OutputError(
            "el mapa sin conexión aún hace referencia a otro archivo cerca de "
            f"{out[leftover.start() :][:120]!r}"
        )
    return out
