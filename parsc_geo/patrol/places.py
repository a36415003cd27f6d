"""Where a critical point is, said as a crew says it: coordinates and the nearest named place.

A patrol crew finds a critical point by a place it knows ("a 350 m al NE de Los Baños del
Inca"), by the coordinates its GPS shows (latitude/longitude or UTM with its zone) or by a QR
code (:mod:`parsc_geo.reports.geo_qr`). This module gives the first two for any point of Peru:

- **Reference places**: the bundled district capitals (1,874, with their proper names) and
  populated places (94,922 *centros poblados*) of the whole country
  (:func:`parsc_geo.boundaries.load_capitals`, :func:`~parsc_geo.boundaries.load_settlements`).
  A populated place within :data:`SAME_TOWN_M` of its own district's capital is the capital's
  town and is represented by the capital (one name, written as the capital table writes it).
- **Nearest**: the place at the shortest geodesic distance (WGS 84), found among the
  :data:`CANDIDATES` nearest by chord length on the unit sphere, so the search is right
  anywhere in the country (no projection, no zone boundary).
- **Distance and bearing**: geodesic distance and the azimuth from the place to the point,
  named on an eight-point compass in Spanish (N, NE, E, SE, S, SO, O, NO).
- **UTM**: the point's own standard zone (the zone a GPS shows), ``17S`` … ``19S`` in Peru.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import numpy.typing as npt
    import pandas as pd

#: A populated place this close (m) to its own district's capital is the capital's town.
SAME_TOWN_M: Final = 200.0
#: Places compared by geodesic distance after the chord search.
CANDIDATES: Final = 4
#: Compass points in Spanish, clockwise from north (each covers 45°).
COMPASS_ES: Final[tuple[str, ...]] = ("N", "NE", "E", "SE", "S", "SO", "O", "NO")
#: Words written in lower case inside a place name (after the first word).
_LOWER_WORDS: Final = frozenset({"de", "del", "la", "las", "los", "el", "y", "e", "en"})
#: Roman numerals kept in capitals ("Cajamarca II").
_ROMAN: Final = frozenset({"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"})
_EARTH_RADIUS_M: Final = 6_371_008.8


@dataclass(frozen=True)
class Reference:
    """The nearest named place of a point and where the point lies from it.

    Attributes
    ----------
    place
        Name of the place (``"Los Baños del Inca"``).
    kind
        ``"capital distrital"`` or ``"centro poblado"``.
    ubigeo
        District of the place.
    distance_m
        Geodesic distance from the place to the point (m).
    azimuth
        Direction from the place to the point, degrees clockwise from north (0–360).
    """

    place: str
    kind: str
    ubigeo: str
    distance_m: float
    azimuth: float

    @property
    def bearing(self) -> str:
        """Return the compass point of :attr:`azimuth` (``"NE"``)."""
        return compass(self.azimuth)

    def phrase(self) -> str:
        """Return the Spanish phrase a crew reads: ``"a 350 m al NE de Los Baños del Inca"``."""
        return reference_phrase(self.distance_m, self.azimuth, self.place)


def compass(azimuth: float) -> str:
    """Return the Spanish eight-point compass name of an azimuth in degrees.

    Examples
    --------
    >>> compass(0), compass(44.9), compass(45), compass(200), compass(337.6)
    ('N', 'NE', 'NE', 'S', 'N')
    """
    return COMPASS_ES[int(((azimuth % 360.0) + 22.5) // 45.0) % 8]


def distance_text(metres: float) -> str:
    """Return a distance as a crew reads it: 10 m steps below 1 km, then km with a comma.

    Examples
    --------
    >>> distance_text(4), distance_text(347), distance_text(1234), distance_text(12_600)
    ('10 m', '350 m', '1,2 km', '13 km')
    """
    if metres < 995:
        return f"{max(10, round(metres / 10.0) * 10)} m"
    if metres < 9_950:
        return f"{metres / 1000:.1f} km".replace(".", ",")
    return f"{metres / 1000:.0f} km"


def reference_phrase(distance_m: float, azimuth: float, place: str) -> str:
    """Return ``"a 350 m al NE de <place>"`` (``"en <place>"`` within 10 m of its point)."""
    if distance_m < 10:
        return f"en {place}"
    return f"a {distance_text(distance_m)} al {compass(azimuth)} de {place}"


def place_name(text: str) -> str:
    """Return an upper-case place name in the usual Spanish capitalisation.

    Examples
    --------
    >>> place_name("SAN JOSE DE LOS CHORRILLOS")
    'San Jose de los Chorrillos'
    >>> place_name("CAJAMARCA II")
    'Cajamarca II'
    """
    words = str(text).split()
    out = []
    for k, word in enumerate(words):
        low = word.lower()
        if word in _ROMAN and k:
            out.append(word)
        elif k and low in _LOWER_WORDS:
            out.append(low)
        else:
            out.append("-".join(part[:1].upper() + part[1:] for part in low.split("-")))
    return " ".join(out)


def _unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> np.ndarray:
    import numpy as np

    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


@lru_cache(maxsize=1)
def reference_places() -> pd.DataFrame:
    """Return the reference places of Peru: ``place``, ``kind``, ``ubigeo``, ``lon``, ``lat``.

    District capitals first (in UBIGEO order), then the populated places that are not a
    capital's own town (within :data:`SAME_TOWN_M` of their district's capital).
    """
    import numpy as np
    import pandas as pd
    from pyproj import Geod

    from ..boundaries import load_capitals, load_settlements

    capitals = load_capitals(prefix="")
    settlements = load_settlements(prefix="")
    cap = pd.DataFrame(
        {
            "place": capitals["capital"].astype(str).str.strip(),
            "kind": "capital distrital",
            "ubigeo": capitals["ubigeo"].astype(str),
            "lon": capitals["longitud"].astype(float),
            "lat": capitals["latitud"].astype(float),
        }
    )
    by_ubigeo = cap.drop_duplicates("ubigeo").set_index("ubigeo")
    own = settlements["ubigeo"].astype(str)
    known = own.isin(by_ubigeo.index).to_numpy()
    same_town = np.zeros(len(settlements), dtype=bool)
    if known.any():
        capital_xy = by_ubigeo[["lon", "lat"]].reindex(own[known].tolist()).to_numpy(float)
        _, _, dist = Geod(ellps="WGS84").inv(
            capital_xy[:, 0],
            capital_xy[:, 1],
            settlements["longitud"].to_numpy(float)[known],
            settlements["latitud"].to_numpy(float)[known],
        )
        same_town[known] = np.asarray(dist) <= SAME_TOWN_M
    rest = settlements[~same_town]
    pop = pd.DataFrame(
        {
            "place": [place_name(s) for s in rest["centro_poblado"].astype(str)],
            "kind": "centro poblado",
            "ubigeo": rest["ubigeo"].astype(str).to_numpy(),
            "lon": rest["longitud"].astype(float).to_numpy(),
            "lat": rest["latitud"].astype(float).to_numpy(),
        }
    )
    places = pd.concat([cap, pop], ignore_index=True)
    ok = np.isfinite(places["lon"].to_numpy()) & np.isfinite(places["lat"].to_numpy())
    return places[ok].reset_index(drop=True)


@lru_cache(maxsize=1)
def _place_tree() -> tuple[object, np.ndarray]:
    from scipy.spatial import cKDTree

    places = reference_places()
    xyz = _unit_vectors(places["lon"], places["lat"])
    return cKDTree(xyz), xyz


def nearest_places(
    lon: Sequence[float] | npt.ArrayLike,
    lat: Sequence[float] | npt.ArrayLike,
    places: pd.DataFrame | None = None,
) -> list[Reference]:
    """Return the nearest reference place of each point (WGS 84 longitude and latitude).

    Parameters
    ----------
    lon, lat
        Point coordinates in degrees.
    places
        Reference places (columns of :func:`reference_places`); default: those of Peru.

    Returns
    -------
    list of Reference
        One per point, in input order.
    """
    import numpy as np
    from pyproj import Geod
    from scipy.spatial import cKDTree

    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    if not len(lon_a):
        return []
    if places is None:
        places = reference_places()
        tree, _ = _place_tree()
    else:
        places = places.reset_index(drop=True)
        tree = cKDTree(_unit_vectors(places["lon"], places["lat"]))
    k = min(CANDIDATES, len(places))
    _, idx = tree.query(_unit_vectors(lon_a, lat_a), k=k)  # type: ignore[attr-defined]
    idx = np.asarray(idx).reshape(len(lon_a), k)
    geod = Geod(ellps="WGS84")
    p_lon = places["lon"].to_numpy(float)[idx]
    p_lat = places["lat"].to_numpy(float)[idx]
    azimuth, _, dist = geod.inv(
        p_lon.ravel(), p_lat.ravel(), np.repeat(lon_a, k), np.repeat(lat_a, k)
    )
    dist = np.asarray(dist).reshape(len(lon_a), k)
    azimuth = np.asarray(azimuth).reshape(len(lon_a), k)
    # the nearest by geodesic distance; ties go to the earlier place (capitals come first)
    order = np.lexsort((idx, dist), axis=1)[:, 0]
    rows = np.arange(len(lon_a))
    chosen = idx[rows, order]
    names = places["place"].to_numpy(object)
    kinds = places["kind"].to_numpy(object)
    ubigeos = places["ubigeo"].to_numpy(object)
    return [
        Reference(
            place=str(names[c]),
            kind=str(kinds[c]),
            ubigeo=str(ubigeos[c]),
            distance_m=float(dist[r, order[r]]),
            azimuth=float(azimuth[r, order[r]] % 360.0),
        )
        for r, c in enumerate(chosen)
    ]


@dataclass(frozen=True)
class UTMPosition:
    """A position in the UTM grid of its own zone (WGS 84).

    Attributes
    ----------
    zone
        Zone number and hemisphere, ``"17S"`` (S: southern hemisphere, N: northern).
    easting, northing
        Metres, rounded to the metre.
    """

    zone: str
    easting: int
    northing: int

    def text(self) -> str:
        """Return ``"UTM 17S 776 543 E 9 207 123 N"`` (thin spaces between thousands)."""
        return f"UTM {self.zone} {_grouped(self.easting)} E {_grouped(self.northing)} N"


def _grouped(value: int) -> str:
    return f"{value:,d}".replace(",", "\u202f")


def utm_zone(lon: float, lat: float) -> tuple[int, bool]:
    """Return the standard UTM zone number of a point and whether it is south of the equator."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return zone, lat < 0


def utm_positions(
    lon: Sequence[float] | npt.ArrayLike, lat: Sequence[float] | npt.ArrayLike
) -> list[UTMPosition]:
    """Return each point's UTM position in its own zone (WGS 84 / UTM, EPSG:326zz or 327zz)."""
    import numpy as np
    from pyproj import Transformer

    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    out: list[UTMPosition | None] = [None] * len(lon_a)
    zones = [utm_zone(x, y) for x, y in zip(lon_a, lat_a, strict=True)]
    for zone, south in sorted(set(zones)):
        which = [i for i, z in enumerate(zones) if z == (zone, south)]
        epsg = (32700 if south else 32600) + zone
        to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
        east, north = to_utm.transform(lon_a[which], lat_a[which])
        for i, e, n in zip(which, np.atleast_1d(east), np.atleast_1d(north), strict=True):
            out[i] = UTMPosition(
                zone=f"{zone}{'S' if south else 'N'}",
                easting=round(float(e)),
                northing=round(float(n)),
            )
    return [p for p in out if p is not None]


#: Location fields of a critical point (besides its polygon), in table order.
LOCATION_COLUMNS: Final[tuple[str, ...]] = (
    "lon",
    "lat",
    "utm_zona",
    "utm_este",
    "utm_norte",
    "referencia",
    "lugar_referencia",
    "tipo_lugar",
    "distancia_lugar_m",
    "rumbo_lugar",
    "geo_uri",
)
#: Longest label of a geo URI (characters before escaping): the QR code stays small.
GEO_LABEL_MAX: Final = 40


def geo_label(text: str) -> str:
    """Return ``text`` as a geo URI label: ASCII letters, digits, spaces, ``.`` and ``-`` only.

    Accents are dropped (``"Jaén"`` → ``"Jaen"``), every other character becomes a space, and the
    label is cut to :data:`GEO_LABEL_MAX` characters.
    """
    import re

    from .._text import strip_accents

    ascii_text = strip_accents(text).encode("ascii", "ignore").decode("ascii")
    clean = " ".join(re.sub(r"[^A-Za-z0-9.\- ]+", " ", ascii_text).split())
    return clean[:GEO_LABEL_MAX].rstrip()


def geo_uri(lat: float, lon: float, label: str) -> str:
    """Return the ``geo:`` URI (RFC 5870) that opens a point with its label in a phone's map app.

    ``geo:lat,lon?q=lat,lon(label)``: the ``q`` query with a label in brackets is how Android
    map apps (and iOS readers that hand ``geo:`` to a map) show a named pin. Coordinates are
    written with five decimals (about a metre); the label is ASCII (:func:`geo_label`) and
    percent-escaped, so no data text can change the URI's structure.

    Examples
    --------
    >>> geo_uri(-7.16362, -78.46446, "PC 1 (SECTOR 1) Baños")
    'geo:-7.16362,-78.46446?q=-7.16362,-78.46446(PC%201%20SECTOR%201%20Banos)'
    """
    from urllib.parse import quote

    where = f"{lat:.5f},{lon:.5f}"
    return f"geo:{where}?q={where}({quote(geo_label(label), safe='')})"


def locate(
    centres_lon: Sequence[float], centres_lat: Sequence[float], labels: Sequence[str]
) -> list[dict[str, object]]:
    """Return the :data:`LOCATION_COLUMNS` of points given in WGS 84 (already rounded).

    Parameters
    ----------
    centres_lon, centres_lat
        Where each point is (degrees).
    labels
        The label of each point in its geo URI (``"PC 3 SECTOR 1 COMISARIA …"``).
    """
    refs = nearest_places(centres_lon, centres_lat)
    utm = utm_positions(centres_lon, centres_lat)
    out: list[dict[str, object]] = []
    for lon, lat, label, ref, pos in zip(centres_lon, centres_lat, labels, refs, utm, strict=True):
        out.append(
            {
                "lon": float(lon),
                "lat": float(lat),
                "utm_zona": pos.zone,
                "utm_este": pos.easting,
                "utm_norte": pos.northing,
                "referencia": ref.phrase(),
                "lugar_referencia": ref.place,
                "tipo_lugar": ref.kind,
                "distancia_lugar_m": round(ref.distance_m),
                "rumbo_lugar": ref.bearing,
                "geo_uri": geo_uri(float(lat), float(lon), label),
            }
        )
    return out
