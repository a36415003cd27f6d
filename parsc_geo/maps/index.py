"""The atlas index: an overview map and links to every map and to the run's other outputs.

``index.html`` opens on a map of the study area where each province and each comisaría with
sectors is an area to click (its page opens); beside it, the list of every page with its
incidents and first zones, then the other outputs of the run — priority maps and tables,
patrol sheets (PDF), hotspot tables, trends — given to :func:`parsc_geo.maps.write_atlas` as
``links`` (:func:`run_links` finds them in a run folder). Every atlas page links back here.

Like the maps, the index loads Leaflet and parsc-geo's runtime from ``lib/`` (or inlines them
offline) and passes data to the page as JSON; every text is escaped.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import schema, settings
from .._errors import ConfigError
from . import offline as assets
from .base import esc, js_json

if TYPE_CHECKING:
    import geopandas as gpd

    from ..area import StudyArea
    from ..privacy import PrivacyRule


class AtlasLink(NamedTuple):
    """A file the index links to: its section, its title and its path from the index."""

    section: str
    title: str
    href: str


#: Sections of a run folder the index lists, in order: folder → (section, file suffixes).
RUN_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "prioridad",
        "Territorios de intervención prioritaria",
        (".html", ".png", ".md", ".xlsx", ".csv"),
    ),
    ("patrullaje", "Planes de patrullaje", (".pdf", ".xlsx", ".csv", ".gpkg")),
    ("hotspots", "Zonas críticas y rankings", (".xlsx", ".gpkg", ".csv")),
    ("tendencias", "Tendencias (puntos calientes emergentes)", (".gpkg", ".csv", ".nc")),
    ("repeticion", "Repetición cercana", (".csv", ".md")),
    ("evaluacion", "Precisión de las zonas", (".json", ".csv", ".png")),
    ("densidad", "Densidad (GeoTIFF)", (".tif",)),
    ("", "Resumen de la corrida", (".md", ".qgz", ".json")),
)

#: How a file type is named in the index.
FORMATS_ES: dict[str, str] = {
    ".html": "mapa interactivo",
    ".png": "imagen",
    ".pdf": "PDF",
    ".xlsx": "Excel",
    ".csv": "CSV",
    ".md": "texto",
    ".gpkg": "GeoPackage",
    ".json": "JSON",
    ".tif": "GeoTIFF",
    ".qgz": "proyecto QGIS",
    ".nc": "netCDF",
}

_WORDS_ES: dict[str, str] = {
    "a3": "A3",
    "gistar": "Gi*",
    "kde": "KDE",
    "hdbscan": "HDBSCAN",
    "dbscan": "DBSCAN",
    "comisaria": "comisaría",
    "comisarias": "comisarías",
    "distrito": "por distrito",
    "provincia": "por provincia",
    "resumen": "resumen",
    "xlsx": "",
}


def file_title(stem: str) -> str:
    """Return a readable Spanish title for a file name stem.

    ``mapa_prioridad_distrito_violencia_mujer`` → ``Mapa prioridad por distrito — Violencia
    contra las mujeres e integrantes del grupo familiar``.
    """
    text = stem
    tail = ""
    for code, label in schema.FENOMENOS.items():
        if text.endswith("_" + code) or text == code:
            text = text[: -len(code)].rstrip("_")
            tail = f" — {label}"
            break
    words = [_WORDS_ES.get(w, w) for w in text.replace("-", "_").split("_") if w]
    title = " ".join(w for w in words if w)
    title = title[:1].upper() + title[1:] if title else stem
    return title + tail


def run_links(
    run_dir: str | os.PathLike[str], atlas_dir: str | os.PathLike[str]
) -> list[AtlasLink]:
    """Return links to the outputs of a run folder, by section (see :data:`RUN_SECTIONS`).

    Parameters
    ----------
    run_dir
        The run folder (``parsc-geo run … -o DIR``).
    atlas_dir
        The folder of the index (e.g. ``DIR/mapas``): hrefs are relative to it.

    Returns
    -------
    list of AtlasLink
        Files that exist, in section order, then by suffix order and name; ``lib/`` folders and
        the atlas itself are left out.
    """
    root = Path(run_dir)
    atlas = Path(atlas_dir).resolve()
    out: list[AtlasLink] = []
    for folder, section, suffixes in RUN_SECTIONS:
        base = root / folder if folder else root
        if not base.is_dir():
            continue
        files = [
            p
            for p in base.iterdir()
            if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
        ]
        files.sort(key=lambda p: (suffixes.index(p.suffix.lower()), p.name))
        for p in files:
            if p.resolve().parent == atlas:
                continue
            fmt = FORMATS_ES.get(p.suffix.lower(), p.suffix.lstrip("."))
            href = Path(os.path.relpath(p.resolve(), atlas)).as_posix()
            out.append(AtlasLink(section, f"{file_title(p.stem)} ({fmt})", href))
    return out


def normalise_links(
    links: Iterable[AtlasLink | tuple[str, str, str | os.PathLike[str]]] | None,
    atlas_dir: str | os.PathLike[str],
) -> list[AtlasLink]:
    """Return ``links`` as :class:`AtlasLink` with hrefs relative to the index's folder.

    Raises
    ------
    ConfigError
        When a link is not ``(section, title, path)`` or its path is a URL with a scheme.
    """
    out: list[AtlasLink] = []
    atlas = Path(atlas_dir).resolve()
    for link in links or ():
        if not isinstance(link, tuple) or len(link) != 3:
            raise ConfigError(
                f"un enlace del índice debe ser (sección, título, ruta); se recibió {link!r}"
            )
        section, title, path = (str(link[0]), str(link[1]), link[2])
        text = os.fspath(path)
        if ":" in text.split("/")[0] and not Path(text).is_absolute():
            raise ConfigError(
                f"el enlace {text!r} no es una ruta de archivo",
                hint="el índice solo enlaza archivos de la corrida (rutas relativas o absolutas)",
            )
        p = Path(text)
        href = Path(os.path.relpath(p.resolve(), atlas)).as_posix() if p.is_absolute() else text
        out.append(AtlasLink(section, title, posixpath.normpath(href)))
    return out


def _overview_data(
    entries: Sequence[tuple[str, Any]],
    territory: StudyArea,
    sectors: gpd.GeoDataFrame | None,
) -> dict[str, Any]:
    """Areas of the overview map (EPSG:4326, simplified) with the page each opens."""
    from .._text import fold
    from .layers import feature_collection

    provinces = territory.provinces()
    by_name = {fold(b.place): (href, b) for href, b in entries if b.kind == "provincia"}
    rows = provinces[provinces["provincia"].map(fold).isin(set(by_name))].copy()
    data: dict[str, Any] = {}
    if len(rows):
        hrefs = {k: v[0] for k, v in by_name.items()}
        counts = {k: int(v[1].summary.get("incidents", 0)) for k, v in by_name.items()}

        def prov_props(r: Mapping[str, Any]) -> dict[str, Any]:
            key = fold(r["provincia"])
            return {
                "name": f"Provincia de {r['provincia']}",
                "label": str(r["provincia"]),
                "href": hrefs[key],
                "n": counts[key],
            }

        data["provinces"] = feature_collection(rows, prov_props, simplify_m=200.0)
        west, south, east, north = rows.to_crs(settings.CRS_GEOGRAPHIC).total_bounds
        data["bounds"] = [[float(south), float(west)], [float(north), float(east)]]
    comisarias = [(href, b) for href, b in entries if b.kind == "comisaria"]
    if comisarias and sectors is not None and len(sectors):
        import geopandas as gpd

        shapes = []
        for href, b in comisarias:
            own = sectors[sectors["comisaria"].astype(str) == b.place]
            if not len(own):
                continue
            shapes.append(
                {
                    "name": f"Comisaría {b.place}",
                    "href": href,
                    "n": int(b.summary.get("incidents", 0)),
                    "geometry": own.to_crs(settings.CRS_GEOGRAPHIC).union_all(),
                }
            )
        if shapes:
            frame = gpd.GeoDataFrame(shapes, geometry="geometry", crs=settings.CRS_GEOGRAPHIC)
            data["comisarias"] = feature_collection(
                frame,
                lambda r: {"name": r["name"], "href": r["href"], "n": r["n"]},
                simplify_m=20.0,
            )
    return data


def _entry_html(href: str, info: Any) -> str:
    from .words import es_num

    s = info.summary
    tops = "".join(
        f"<li><span class='badge'>{esc(t.get('badge', t['rank']))}</span> "
        f"{esc(t['method'])}: {esc(es_num(t['n']))} incidentes"
        + (f" — {esc(t['top_modalidades'])}" if t.get("top_modalidades") else "")
        + "</li>"
        for t in s.get("top_hotspots", [])
    )
    tops_html = (
        f"<ol class='tops'>{tops}</ol>"
        if tops
        else "<p class='none'>Sin zonas críticas propias.</p>"
    )
    return (
        f'<li class="map-entry"><a href="{esc(href)}">{esc(info.title)}</a>'
        f"<div>Periodo: {esc(s.get('period') or 'sin fechas')} · "
        f"{esc(es_num(int(s.get('incidents', 0))))} incidentes</div>{tops_html}</li>"
    )


def index_html(
    entries: Sequence[tuple[str, Any]],
    *,
    territory: StudyArea,
    sectors: gpd.GeoDataFrame | None,
    synthetic: bool,
    rule: PrivacyRule | None,
    generated: dt.datetime,
    source: str,
    period: str | None = None,
    links: Sequence[AtlasLink] = (),
    offline: bool = False,
    assets_dir: Path | None = None,
) -> str:
    """Return the HTML of ``index.html``.

    Parameters
    ----------
    entries
        ``(file name, page info)`` of every page (``title``, ``kind``, ``place``, ``summary``).
    territory
        The study area (its provinces are the overview's areas).
    sectors
        The sector layer (each comisaría page's area on the overview).
    synthetic, rule, generated, source, period
        Banner, privacy notice, generation time, data source and period.
    links
        The run's other outputs, by section.
    offline, assets_dir
        Inline Leaflet and the runtime (single file) instead of referencing ``lib/``.
    """
    from ..privacy import REPORT_NAME

    place = territory.heading
    banner = (
        f'<div class="banner" id="parsc-synthetic-banner">{esc(settings.SYNTHETIC_BANNER)}</div>'
        if synthetic
        else ""
    )
    notice = (
        f'<p class="notice public">Mapas públicos. {esc(rule.describe())} Lo generalizado y '
        f'suprimido se detalla en <a href="{REPORT_NAME}">{REPORT_NAME}</a>.</p>'
        if rule is not None
        else f'<p class="notice">{esc(settings.INTERNAL_NOTICE)}</p>'
    )
    sections = []
    for kind, heading in (
        ("provincia", "Mapas por provincia"),
        ("comisaria", "Mapas por comisaría"),
    ):
        items = [_entry_html(href, info) for href, info in entries if info.kind == kind]
        if items:
            sections.append(
                f'<section class="maps"><h2>{heading} ({len(items)})</h2>'
                f"<ul>{''.join(items)}</ul></section>"
            )
    grouped: dict[str, list[AtlasLink]] = {}
    for link in links:
        grouped.setdefault(link.section, []).append(link)
    for heading, group in grouped.items():
        files = "".join(
            f'<li><a href="{esc(link.href)}">{esc(link.title)}</a></li>' for link in group
        )
        sections.append(
            f'<section class="files"><h2>{esc(heading)} ({len(group)})</h2><ul>{files}</ul>'
            "</section>"
        )
    body = "".join(sections) or "<p>No hay mapas: no hay incidentes.</p>"
    data = _overview_data(entries, territory, sectors)
    title = f"Atlas del mapa del delito — {place}"
    lib = assets.LIB_DIR
    page = f"""<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="stylesheet" href="{lib}/{assets.LEAFLET_CSS.filename}"/>
<link rel="stylesheet" href="{lib}/{assets.RUNTIME_CSS_FILE}"/>
<style>
html, body {{ margin: 0; height: 100%; }}
body {{ font: 15px/1.45 sans-serif; color: #222; display: flex; flex-direction: column; }}
header {{ padding: 6px 16px 4px; border-bottom: 1px solid #ccc; }}
h1 {{ font-size: 21px; margin: 4px 0; }} h2 {{ font-size: 17px; border-bottom: 1px solid #ccc;
  margin: 14px 0 6px; }}
.meta {{ margin: 2px 0; color: #444; font-size: 13px; }}
.banner {{ background: #b00020; color: #fff; font-weight: bold; padding: 5px 12px;
  text-align: center; }}
.notice {{ background: #fff3cd; border: 1px solid #e0b000; padding: 3px 8px; font-weight: bold;
  margin: 4px 0; font-size: 13px; }}
.notice.public {{ background: #e7f3ff; border-color: #5b9bd5; font-weight: normal; }}
main {{ flex: 1; display: grid; grid-template-columns: minmax(0, 1.35fr) minmax(320px, 1fr);
  min-height: 0; }}
#parsc-overview-box {{ position: relative; min-height: 360px; }}
#parsc-overview {{ position: absolute; inset: 0; }}
.hint {{ position: absolute; z-index: 1000; left: 50px; top: 8px; margin: 0; font-size: 12px;
  background: rgba(255,255,255,0.92); padding: 2px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); }}
.lists {{ overflow: auto; padding: 0 16px 24px; border-left: 1px solid #ccc; }}
ul {{ list-style: none; padding: 0; margin: 0; }} .map-entry {{ margin: 8px 0; }}
.map-entry a {{ font-weight: bold; }} .files li {{ margin: 3px 0; }}
.tops {{ margin: 2px 0 0 14px; padding: 0; color: #444; font-size: 14px; list-style: none; }}
.none {{ margin: 2px 0 0 14px; color: #666; font-size: 14px; }}
.badge {{ display: inline-block; background: #333; color: #fff; font: bold 11px sans-serif;
  padding: 0 4px; border-radius: 2px; }}
@media (max-width: 800px) {{
  body {{ display: block; height: auto; }}
  main {{ display: block; }}
  #parsc-overview-box {{ height: 52vh; }}
  .lists {{ border-left: 0; }}
  h1 {{ font-size: 18px; }}
}}
</style></head>
<body>{banner}
<header><h1>{esc(title)}</h1>
<p class="meta">Periodo: {esc(period or "sin fechas")} · Fuente: {esc(source)} ·
Generado: {generated:%Y-%m-%d %H:%M}</p>
{notice}</header>
<main>
<section id="parsc-overview-box"><div id="parsc-overview"></div>
<p class="hint">Clic en una provincia o comisaría para abrir su mapa.</p></section>
<div class="lists">{body}</div>
</main>
<script src="{lib}/{assets.LEAFLET_JS.filename}"></script>
<script src="{lib}/{assets.RUNTIME_JS_FILE}"></script>
<script>parscGeo.overview("parsc-overview", {js_json(data)});</script>
</body></html>
"""
    if offline:
        page = assets.inline_assets(page, assets_dir=assets_dir)
    return page
