"""A light base map that needs no network: capitals, district names and populated places.

Offline pages (and pages whose tiles cannot load) would show polygons on grey. This layer
draws, from the data bundled with parsc-geo (:mod:`parsc_geo.boundaries`: INEI district
capitals and the 2017 census's populated places), the province and district capitals, the
district names and the urban and rural populated places of the page's frame. The runtime
(``parscGeo.basemap``) places the labels most important first and skips any that would
overlap one already placed; smaller places appear as the map zooms in.

The layer is on when the page has no base tiles; with tiles, it is off and the runtime
switches it on if the tiles fail to load.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import folium
import numpy as np
from jinja2 import Template

from .. import settings
from .._text import fold
from .base import SafeMacroElement, esc, js_json


@dataclass(frozen=True)
class PlaceKind:
    """How a kind of place is drawn: dot radius and colour, zooms of the dot and the label."""

    name: str
    radius: float
    color: str
    min_zoom: int
    label_zoom: int
    css: str
    title: str = ""
    font: float = 1.0

    def as_json(self) -> dict[str, Any]:
        """Return the runtime's description of the kind."""
        return {
            "name": self.name,
            "radius": self.radius,
            "color": self.color,
            "minZoom": self.min_zoom,
            "labelZoom": self.label_zoom,
            "cls": self.css,
            "title": self.title,
            "font": self.font,
        }


#: Kinds of places, most important first (labels are placed in this order).
KINDS: tuple[PlaceKind, ...] = (
    PlaceKind(
        "province_capital", 5, "#222222", 5, 8, "parsc-base-capital", "capital de provincia", 1.1
    ),
    PlaceKind(
        "district_capital", 3.5, "#444444", 8, 10, "parsc-base-capital", "capital de distrito"
    ),
    PlaceKind("district", 0, "#000000", 10, 10, "parsc-base-district", "", 1.05),
    PlaceKind("urban", 3, "#666666", 10, 12, "parsc-base-urban", "centro poblado urbano"),
    PlaceKind("rural", 2, "#8c8c8c", 11, 13, "parsc-base-rural", "centro poblado rural", 0.9),
)
_KIND = {k.name: i for i, k in enumerate(KINDS)}

#: Within this distance (m) a populated place of the same name as a capital is the capital.
SAME_PLACE_M = 800.0

_SMALL_WORDS = {"de", "del", "la", "las", "los", "el", "y", "en"}


def place_name(text: str) -> str:
    """Return an upper-case census name in title case, small words in lower case.

    ``"SAN JUAN DE LOS RIOS"`` → ``"San Juan de los Rios"``.
    """
    words = re.split(r"(\s+)", str(text).strip().lower())
    out = []
    for i, w in enumerate(words):
        if i and w in _SMALL_WORDS:
            out.append(w)
        else:
            out.append(w[:1].upper() + w[1:])
    return "".join(out)


class BasemapLayer(SafeMacroElement):
    """Draws the places of :func:`basemap_data` into a feature group (see runtime)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        parscGeo.basemap({{ this._parent.get_name() }}, {{ this.data_json }},
            {{ this.group.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], group: folium.FeatureGroup) -> None:
        super().__init__()
        self._name = "ParscBasemap"
        self.data_json = js_json(data)
        self.group = group


def _inside(lat: np.ndarray, lon: np.ndarray, bounds: Sequence[float]) -> np.ndarray:
    west, south, east, north = bounds
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


@dataclass(frozen=True)
class _Places:
    """The bundled populated places of one UBIGEO prefix, prepared once for every page."""

    lat: np.ndarray
    lon: np.ndarray
    #: :func:`fold` of the census name (matched against the capitals' names)
    keys: list[str]
    #: kind index (urban or rural)
    kinds: list[int]
    #: the name shown (:func:`place_name`) and its sort key (:func:`fold` of it)
    names: list[str]
    order: list[str]
    #: position of each place in label order (kind, sort key, lat, lon; ties in table order)
    rank: np.ndarray


@lru_cache(maxsize=4)
def _places(prefix: str) -> _Places:
    from .. import boundaries

    places = boundaries.load_settlements(prefix=prefix)
    raw = [str(v) for v in places["centro_poblado"]]
    types = places["tipo"] if "tipo" in places.columns else [""] * len(places)
    names = [place_name(name) for name in raw]
    lat = places["latitud"].to_numpy(dtype=float)
    lon = places["longitud"].to_numpy(dtype=float)
    kinds = [_KIND["urban"] if str(t).lower().startswith("urb") else _KIND["rural"] for t in types]
    order = [fold(name) for name in names]
    keys = zip(kinds, order, lat.tolist(), lon.tolist(), range(len(names)), strict=True)
    ranked = [key[-1] for key in sorted(keys)]
    rank = np.empty(len(names), dtype=np.int64)
    rank[ranked] = np.arange(len(names))
    return _Places(
        lat=lat,
        lon=lon,
        keys=[fold(name) for name in raw],
        kinds=kinds,
        names=names,
        order=order,
        rank=rank,
    )


def basemap_data(bounds: Sequence[float], prefix: str | None = None) -> dict[str, Any]:
    """Return the places within ``bounds`` (west, south, east, north; degrees) for the runtime.

    Parameters
    ----------
    bounds
        The page's frame in EPSG:4326.
    prefix
        UBIGEO prefix to read the bundled tables from (default: the whole country, then
        clipped to ``bounds``).

    Returns
    -------
    dict
        ``lat``, ``lon`` (integers, :data:`parsc_geo.settings.COORD_DECIMALS` decimals),
        ``k`` (kind index into ``kinds``), ``names`` and ``kinds``; places in label order
        (kind, then name).
    """
    from .. import boundaries

    pre = prefix or ""
    # (sort key, kind, name, lat, lon): the populated places' keys are prepared once per prefix
    rows: list[tuple[str, int, str, float, float]] = []
    capitals = boundaries.load_capitals(prefix=pre)
    lat = capitals["latitud"].to_numpy(dtype=float)
    lon = capitals["longitud"].to_numpy(dtype=float)
    keep = np.flatnonzero(_inside(lat, lon, bounds))
    # capitals by folded name: a populated place of that name near one is the capital
    cap_xy: dict[str, list[tuple[float, float]]] = {}
    for i, code, name in zip(
        keep,
        capitals["ubigeo"].to_numpy()[keep],
        capitals["capital"].to_numpy()[keep],
        strict=True,
    ):
        kind = "province_capital" if str(code).endswith("01") else "district_capital"
        text = str(name)
        rows.append((fold(text), _KIND[kind], text, float(lat[i]), float(lon[i])))
        cap_xy.setdefault(fold(name), []).append((float(lat[i]), float(lon[i])))
    districts = boundaries.load_districts(prefix=pre) if pre else None
    if districts is not None and len(districts):
        west, south, east, north = bounds
        part = districts.cx[west:east, south:north]
        if len(part):
            points = part.to_crs(settings.CRS_GEOGRAPHIC).representative_point()
            for name, pt in zip(part["distrito"], points, strict=True):
                text = str(name)
                rows.append((fold(text), _KIND["district"], text, float(pt.y), float(pt.x)))
    rows.sort(key=lambda t: (t[1], t[0], t[3], t[4]))
    # the populated places come after the capitals and district names (their kinds are
    # later), already in label order
    places = _places(pre)
    inside = np.flatnonzero(_inside(places.lat, places.lon, bounds))
    ordered: list[int] = inside[np.argsort(places.rank[inside])].tolist()
    for j in ordered:
        y, x = float(places.lat[j]), float(places.lon[j])
        near = cap_xy.get(places.keys[j])
        if near is not None and _near_any(y, x, near):
            continue
        rows.append((places.order[j], places.kinds[j], places.names[j], y, x))
    scale = 10**settings.COORD_DECIMALS
    return {
        "decimals": settings.COORD_DECIMALS,
        "lat": [round(t[3] * scale) for t in rows],
        "lon": [round(t[4] * scale) for t in rows],
        "k": [t[1] for t in rows],
        "names": [t[2] for t in rows],
        "kinds": [k.as_json() for k in KINDS],
    }


def _near_any(lat: float, lon: float, capitals: list[tuple[float, float]]) -> bool:
    """Return whether a place is within :data:`SAME_PLACE_M` of one of ``capitals``."""
    for clat, clon in capitals:
        dy = (lat - clat) * 111_000.0
        dx = (lon - clon) * 111_000.0 * np.cos(np.radians(clat))
        if (dx * dx + dy * dy) ** 0.5 <= SAME_PLACE_M:
            return True
    return False


def add_basemap(
    m: folium.Map,
    bounds: Sequence[float],
    *,
    prefix: str | None = None,
    show: bool = True,
) -> int:
    """Add the offline base map of the frame ``bounds``; return the number of places.

    Parameters
    ----------
    m
        The map.
    bounds
        (west, south, east, north) in degrees.
    prefix
        UBIGEO prefix of the bundled tables to read (e.g. the department's ``"06"``).
    show
        Initially on (pages without tiles) or off (the runtime turns it on when tiles fail).
    """
    data = basemap_data(bounds, prefix)
    n = len(data["names"])
    if not n:
        return 0
    group = folium.FeatureGroup(
        name=esc(f"Mapa base sin conexión: capitales y centros poblados ({n})"),
        overlay=True,
        control=True,
        show=show,
    )
    group.add_to(m)
    BasemapLayer(data, group).add_to(m)
    return n
