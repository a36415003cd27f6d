"""Every coordinate a map page publishes, to check that nobody can be located from it."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
from pyproj import Transformer

_PAIR = re.compile(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]")
_INCIDENTS = re.compile(r"parscGeo\.incidents\(\w+,\s*(\{.*?\}), \{\n", re.S)
_OVERLAY = re.compile(
    r'L\.imageOverlay\("(data:image/png;base64,[A-Za-z0-9+/=]+)",\s*'
    r"\[\[([-\d.]+),([-\d.]+)\],\[([-\d.]+),([-\d.]+)\]\]"
)
_DENSITY = re.compile(r"parscGeo\.density\(\w+,\s*")
_TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
_FROM_MERCATOR = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


def vector_lonlat(page: str) -> np.ndarray:
    """Every ``[a, b]`` pair of degrees in the page (GeoJSON, bounds, centre), as lon/lat.

    Peru's longitudes (about −70 to −81) and latitudes (0 to −18) cannot be confused, so each
    pair is put in lon/lat order whatever its order in the page; pairs of other numbers (pixel
    sizes, integer arrays) are ignored.
    """
    out = []
    for a, b in _PAIR.findall(page):
        x, y = float(a), float(b)
        if abs(x) > 180 or abs(y) > 180:
            continue
        lon, lat = (x, y) if abs(x) > abs(y) else (y, x)
        if -82 <= lon <= -68 and -19 <= lat <= 1:
            out.append((lon, lat))
    return np.array(out, dtype=float).reshape(-1, 2)


def incident_lonlat(page: str) -> np.ndarray:
    """Coordinates of the incident markers (internal points or public places)."""
    match = _INCIDENTS.search(page)
    if not match:
        return np.empty((0, 2))
    data = json.loads(match.group(1))
    scale = 10 ** data["decimals"]
    return np.column_stack([np.array(data["lon"]) / scale, np.array(data["lat"]) / scale])


def _density_images(page: str) -> list[tuple[str, float, float, float, float]]:
    """Every density image of the page (the whole period's and each month's) with its bounds."""
    out = []
    for m in _DENSITY.finditer(page):
        data, _ = json.JSONDecoder().raw_decode(page, m.end())
        (s, w), (n, e) = data["bounds"]
        out.extend((url, s, w, n, e) for url in data["urls"] if url)
    for m in _OVERLAY.finditer(page):
        url, s, w, n, e = m.groups()
        out.append((url, float(s), float(w), float(n), float(e)))
    return out


def density_lonlat(page: str) -> np.ndarray:
    """Centres of the visible (non-transparent) pixels of every density image, as lon/lat."""
    found = [_image_lonlat(*image) for image in _density_images(page)]
    return np.vstack(found) if found else np.empty((0, 2))


def _image_lonlat(url: str, s: float, w: float, n: float, e: float) -> np.ndarray:
    from PIL import Image

    image = np.asarray(
        Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")
    )
    alpha = image[..., 3]
    rows, cols = np.nonzero(alpha)
    if not len(rows):
        return np.empty((0, 2))
    (left, right), (bottom, top) = _TO_MERCATOR.transform(
        [float(w), float(e)], [float(s), float(n)]
    )
    height, width = alpha.shape
    x = left + (cols + 0.5) * (right - left) / width
    y = top - (rows + 0.5) * (top - bottom) / height
    lon, lat = _FROM_MERCATOR.transform(x, y)
    return np.column_stack([lon, lat])


def published_lonlat(page: str) -> np.ndarray:
    """Every coordinate the page publishes: vectors, markers and visible density pixels."""
    return np.vstack([vector_lonlat(page), incident_lonlat(page), density_lonlat(page)])


def distances_m(lonlat: np.ndarray, point_utm: tuple[float, float]) -> np.ndarray:
    """Distances in metres (UTM 17S) from ``lonlat`` points to ``point_utm``."""
    if not len(lonlat):
        return np.empty(0)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32717", always_xy=True)
    x, y = to_utm.transform(lonlat[:, 0], lonlat[:, 1])
    return np.hypot(np.asarray(x) - point_utm[0], np.asarray(y) - point_utm[1])
