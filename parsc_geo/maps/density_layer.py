"""The density layer: classed images per month on one scale shared by every page.

A kernel density is shown in **incidents per km² and per month**: a month's image is the
density of that month's incidents, and the whole period's image the density of all of them
divided by the number of months (the monthly average). The classes are fixed breaks
(:data:`DEFAULT_DENSITY_BREAKS`, or ``density_breaks`` of :func:`parsc_geo.maps.write_atlas`)
so that every month, every page and every monthly run use one scale: a colour means the same
number everywhere.

Monthly densities are computed on the very grid of the whole period's raster (same cells,
bandwidth, kernel and weights, with :func:`parsc_geo._kernels.kde_grid`) and masked like it.
Each image is a small palette PNG (one colour per class, transparent below the first break):
a province page with twelve months carries thirteen of them.
"""

from __future__ import annotations

import base64
import io
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import folium
import numpy as np
from jinja2 import Template

from .. import settings
from .._errors import ConfigError, InputDataError
from .base import SafeMacroElement, add_legend, esc, js_json

if TYPE_CHECKING:
    import geopandas as gpd

    from ..density import DensityRaster
    from .timeline import Timeline

#: Density colour ramp (ColorBrewer YlOrRd, 7 classes), low → high.
DENSITY_COLORS: tuple[str, ...] = (
    "#ffffb2",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#fc4e2a",
    "#e31a1c",
    "#b10026",
)

#: Lower edges of the density classes, in incidents per km² and per month: a half-decade
#: ladder from a single incident spread over a rural kernel (≈ 0.1) to a city block (≥ 100).
DEFAULT_DENSITY_BREAKS: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)

#: Largest side, in pixels, of a density image (Web Mercator).
MAX_IMAGE_SIZE = 900

#: zlib level of the density overlays embedded in the pages: the demo's 187 overlays take
#: 0.12 CPU-s at 6 against 1.0 s with Pillow's ``optimize`` (level 9), 5 % larger (0.38 MiB
#: against 0.36); the pixels are the same.
OVERLAY_COMPRESS_LEVEL: Final[int] = 6

_BLANK = (0, 0, 0, 0)


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def es_number(value: float) -> str:
    """Return a short Spanish number: ``0,1``, ``3``, ``1 000`` (decimal comma, NBSP groups)."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u00a0")
    digits = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 1
    return f"{value:.{digits}f}".rstrip("0").rstrip(".").replace(".", ",")


@dataclass(frozen=True)
class DensityScale:
    """Fixed classes of density: ``breaks[i] <= value < breaks[i + 1]`` is class ``i``.

    Values below ``breaks[0]`` are not drawn; values from the last break up form the top class.
    """

    breaks: tuple[float, ...] = DEFAULT_DENSITY_BREAKS
    colors: tuple[str, ...] = DENSITY_COLORS

    @classmethod
    def of(cls, breaks: Sequence[float] | None) -> DensityScale:
        """Return the scale of ``breaks`` (default :data:`DEFAULT_DENSITY_BREAKS`), checked.

        Raises
        ------
        ConfigError
            Fewer than two breaks, or breaks not positive and strictly increasing.
        """
        values = tuple(float(b) for b in (breaks or DEFAULT_DENSITY_BREAKS))
        if (
            len(values) < 2
            or any(not math.isfinite(b) or b <= 0 for b in values)
            or any(b >= c for b, c in itertools.pairwise(values))
        ):
            raise ConfigError(
                f"los cortes de densidad deben ser 2 o más números positivos crecientes; "
                f"se recibió {list(breaks or [])!r}",
                hint="p. ej. density_breaks=[0.1, 0.3, 1, 3, 10, 30, 100] (incidentes/km² y mes)",
            )
        return cls(values, _ramp(len(values)))

    def classify(self, values: np.ndarray) -> np.ndarray:
        """Return class numbers: 0 = not drawn (below the first break or NaN), 1 … n."""
        v = np.asarray(values, dtype="float64")
        classes = np.searchsorted(np.asarray(self.breaks), np.nan_to_num(v, nan=-1.0), "right")
        return np.where(np.isfinite(v), classes, 0).astype(np.uint8)

    def labels(self) -> list[str]:
        """Spanish labels of the classes: ``"0,1 a 0,3"``, …, ``"100 o más"``."""
        b = self.breaks
        out = [f"{es_number(lo)} a {es_number(hi)}" for lo, hi in itertools.pairwise(b)]
        return [*out, f"{es_number(b[-1])} o más"]


def _ramp(n: int) -> tuple[str, ...]:
    """Return ``n`` colours of the density ramp (the ramp itself for 7)."""
    if n == len(DENSITY_COLORS):
        return DENSITY_COLORS
    from matplotlib.colors import LinearSegmentedColormap, to_hex

    cmap = LinearSegmentedColormap.from_list("parsc_density", list(DENSITY_COLORS))
    return tuple(str(to_hex(cmap(i / max(n - 1, 1)))) for i in range(n))


def density_points(
    incidents: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    crs: Any,
    reach_m: float,
    columns: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Return the incidents within ``reach_m`` of ``area``, in ``crs``, without station stacks.

    The same selection as the page's whole-period density: incidents just outside the area
    contribute near its edges. ``columns``: the only columns kept besides the geometry (those
    present; None keeps them all): a selection copies every column it keeps, and a density
    needs few of a million incidents' texts.
    """
    import shapely

    from .._text import as_bool
    from ..incidents import only_columns

    context = area.to_crs(crs).buffer(reach_m).union_all()
    data = incidents if columns is None else only_columns(incidents, columns)
    geoms = np.asarray(data.geometry.to_crs(crs).values)
    if len(geoms) and bool((shapely.get_type_id(geoms) == 0).all()):
        shapely.prepare(context)
        inside = shapely.contains_xy(context, shapely.get_x(geoms), shapely.get_y(geoms))
    else:
        inside = np.asarray(data.geometry.to_crs(crs).within(context), dtype=bool)
    keep = np.asarray(inside, dtype=bool)
    del geoms
    if "at_station" in incidents.columns:
        keep = keep & ~np.asarray(as_bool(incidents["at_station"]), dtype=bool)
    # one selection (each copies its columns), projected after: the points of the selection
    return data[keep].to_crs(crs)


def monthly_densities(
    points: gpd.GeoDataFrame, raster: DensityRaster, months: np.ndarray, n_months: int
) -> list[np.ndarray | None]:
    """Return the density of each month's points on ``raster``'s grid (None: no incident).

    Parameters
    ----------
    points
        Incidents (any CRS; projected to the raster's).
    raster
        The whole period's density: its grid, kernel, bandwidth, units, weights and mask
        (NaN cells) are used.
    months
        Month index of each point (-1: not in any month).
    n_months
        Number of months.
    """
    from .._kernels import kde_grid

    pts = points.to_crs(raster.crs)
    x = pts.geometry.x.to_numpy(dtype="float64")
    y = pts.geometry.y.to_numpy(dtype="float64")
    weights_name = raster.parameters.get("weights")
    w = np.ones(len(pts), dtype="float64")
    if isinstance(weights_name, str) and weights_name in pts.columns:
        w = pts[weights_name].to_numpy(dtype="float64")
    rows, cols = raster.shape
    t = raster.transform
    factor = 1e6 if raster.units == "per_km2" else raster.cell_size**2
    outside = ~np.isfinite(np.asarray(raster.array, dtype="float64"))
    months = np.asarray(months, dtype=np.int64)
    out: list[np.ndarray | None] = []
    for i in range(n_months):
        sel = months == i
        if not sel.any():
            out.append(None)
            continue
        grid = kde_grid(
            x[sel],
            y[sel],
            w[sel],
            kernel=raster.kernel,
            bandwidth=raster.bandwidth,
            cell_size=raster.cell_size,
            x0=t.c,
            ytop=t.f,
            shape=(rows, cols),
        )
        out.append(np.where(outside, np.nan, grid * factor))
    return out


@dataclass
class _Warp:
    """The Web Mercator grid a raster is drawn on, and its lat/lon corners."""

    transform: Any
    width: int
    height: int
    bounds: list[list[float]]


def _warp_of(raster: DensityRaster, max_size: int) -> _Warp:
    from rasterio.warp import calculate_default_transform, transform_bounds

    height, width = raster.shape
    t = raster.transform
    left, top = t.c, t.f
    right, bottom = left + t.a * width, top + t.e * height
    dst_t, dst_w, dst_h = calculate_default_transform(
        raster.crs, "EPSG:3857", width, height, left, bottom, right, top
    )
    assert dst_w is not None and dst_h is not None
    factor = max(dst_w, dst_h) / max_size
    if factor > 1:
        dst_w, dst_h = math.ceil(dst_w / factor), math.ceil(dst_h / factor)
        dst_t = dst_t @ dst_t.scale(factor, factor)
    d_left, d_top = dst_t.c, dst_t.f
    d_right, d_bottom = d_left + dst_t.a * dst_w, d_top + dst_t.e * dst_h
    west, south, east, north = transform_bounds(
        "EPSG:3857", "EPSG:4326", d_left, d_bottom, d_right, d_top
    )
    digits = settings.COORD_DECIMALS
    bounds = [
        [round(south, digits), round(west, digits)],
        [round(north, digits), round(east, digits)],
    ]
    return _Warp(dst_t, int(dst_w), int(dst_h), bounds)


def _warped(array: np.ndarray, raster: DensityRaster, warp: _Warp) -> np.ndarray:
    """Reproject ``array`` (on ``raster``'s grid) to Web Mercator, bilinear."""
    return _warped_stack(np.asarray(array, dtype="float64")[None], raster, warp)[0]


#: Bytes of source and destination pixels one reprojection may hold: GDAL warps in one piece
#: under its working memory (64 MB by default), so that several arrays warped together are
#: resampled exactly as each alone.
WARP_BYTES: Final[int] = 24 * 2**20


def _warped_stack(arrays: np.ndarray, raster: DensityRaster, warp: _Warp) -> np.ndarray:
    """Reproject ``(b, rows, cols)`` arrays on ``raster``'s grid to Web Mercator, bilinear."""
    from rasterio.warp import Resampling, reproject

    dst = np.full((len(arrays), warp.height, warp.width), np.nan, dtype="float64")
    reproject(
        source=np.asarray(arrays, dtype="float64"),
        destination=dst,
        src_transform=raster.transform,
        src_crs=raster.crs,
        dst_transform=warp.transform,
        dst_crs="EPSG:3857",
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    return dst


def _warped_all(
    arrays: Sequence[np.ndarray], raster: DensityRaster, warp: _Warp
) -> Iterator[np.ndarray]:
    """Yield :func:`_warped` of each array, several at once where that gives the same pixels.

    Arrays with the same missing cells (a page's months share its mask) are warped together
    as the bands of one reprojection, at most :data:`WARP_BYTES` of pixels at a time: GDAL
    then resamples each band as it would alone, and computes the transformation once. Only
    one group's images are held at a time.
    """
    if not arrays:
        return
    first = np.asarray(arrays[0], dtype="float64")
    missing = ~np.isfinite(first)
    per_band = 8 * (first.size + warp.width * warp.height)
    group = max(1, WARP_BYTES // per_band)
    if group == 1 or any(
        not np.array_equal(~np.isfinite(np.asarray(a, dtype="float64")), missing)
        for a in arrays[1:]
    ):
        for array in arrays:
            yield _warped(array, raster, warp)
        return
    for start in range(0, len(arrays), group):
        stack = np.stack([np.asarray(a, dtype="float64") for a in arrays[start : start + group]])
        warped = _warped_stack(stack, raster, warp)
        del stack
        yield from warped


def class_png(classes: np.ndarray, scale: DensityScale) -> str:
    """Return a palette PNG data URL of class numbers (0 transparent, ``i`` = colour ``i-1``)."""
    from PIL import Image

    palette: list[int] = [0, 0, 0]
    for colour in scale.colors:
        palette.extend(_hex_rgb(colour))
    image = Image.fromarray(np.asarray(classes, dtype=np.uint8), "P")
    image.putpalette(palette)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=OVERLAY_COMPRESS_LEVEL, transparency=0)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class DensityLayer(folium.map.Layer, SafeMacroElement):
    """Density images that follow the period control (``urls[0]``: the whole period)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = parscGeo.density({{ this._parent.get_name() }},
            {{ this.data_json }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        urls: Sequence[str | None],
        bounds: list[list[float]],
        *,
        name: str,
        opacity: float,
        show: bool = True,
        whole: str = "",
    ) -> None:
        super().__init__(name=esc(name), overlay=True, control=True, show=show)
        self._name = "ParscDensity"
        self.data_json = js_json(
            {"urls": list(urls), "bounds": bounds, "opacity": float(opacity), "whole": whole}
        )


@dataclass
class DensityImages:
    """The images of a density layer: ``urls[0]`` whole period, ``urls[1 + i]`` month ``i``."""

    urls: list[str | None]
    bounds: list[list[float]]
    vmax: float
    monthly_max: list[float]


def density_images(
    raster: DensityRaster,
    *,
    monthly: Sequence[np.ndarray | None] = (),
    n_months: int = 0,
    scale: DensityScale | None = None,
    max_size: int = MAX_IMAGE_SIZE,
) -> DensityImages:
    """Classify and draw a density and its months on one scale (incidents/km² and month).

    Parameters
    ----------
    raster
        The whole period's density (incidents per km²).
    monthly
        Each month's density on the same grid (None: no incident that month).
    n_months
        Months of the period: the whole density is divided by it (0 or 1: shown as it is).
    scale
        The classes (default :class:`DensityScale` with :data:`DEFAULT_DENSITY_BREAKS`).
    max_size
        Largest side of the images in pixels.

    Returns
    -------
    DensityImages
        Data URLs, lat/lon bounds, and the largest value drawn (whole period and per month).
    """
    src = np.asarray(raster.array, dtype="float64")
    if src.ndim != 2 or src.size == 0:
        raise InputDataError(
            f"un ráster de densidad debe ser un arreglo 2-D; se recibió la forma {src.shape}"
        )
    scale = scale or DensityScale()
    warp = _warp_of(raster, max_size)
    per_month = src / n_months if n_months > 1 else src
    urls: list[str | None] = []
    maxima: list[float] = []
    arrays = [a for a in [per_month, *monthly] if a is not None]
    warped = _warped_all(arrays, raster, warp)
    for array in [per_month, *monthly]:
        if array is None:
            urls.append(None)
            maxima.append(0.0)
            continue
        finite = array[np.isfinite(array)]
        maxima.append(float(finite.max()) if finite.size else 0.0)
        urls.append(class_png(scale.classify(next(warped)), scale))
    return DensityImages(urls, warp.bounds, maxima[0], maxima[1:])


def density_image(
    raster: Any, *, max_size: int = 1200, threshold: float = 0.02
) -> tuple[str, list[list[float]], float]:
    """Render a density raster as a continuous-ramp PNG data URL with its lat/lon bounds.

    The continuous ramp from 0 to the raster's maximum (the atlas uses classed images on a
    shared scale instead, :func:`density_images`); pixels below ``threshold`` × the maximum are
    transparent. Leaflet draws in Web Mercator, so the raster is reprojected to it (bilinear)
    before being stretched between its corner coordinates.

    Returns
    -------
    tuple
        ``(data_url, [[south, west], [north, east]], vmax)``.
    """
    from matplotlib.colors import LinearSegmentedColormap
    from PIL import Image

    src = np.asarray(raster.array, dtype="float64")
    if src.ndim != 2 or src.size == 0:
        raise InputDataError(
            f"un ráster de densidad debe ser un arreglo 2-D; se recibió la forma {src.shape}"
        )
    finite = src[np.isfinite(src)]
    vmax = float(finite.max()) if finite.size else 0.0
    warp = _warp_of(raster, max_size)
    dst = _warped(src, raster, warp)
    cmap = LinearSegmentedColormap.from_list("parsc_density", list(DENSITY_COLORS))
    norm = np.clip(np.nan_to_num(dst, nan=0.0) / vmax, 0, 1) if vmax > 0 else np.zeros_like(dst)
    rgba = (cmap(norm) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(np.isfinite(dst) & (norm > threshold), 255, 0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", compress_level=OVERLAY_COMPRESS_LEVEL)
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return url, warp.bounds, vmax


def add_density(
    m: folium.Map,
    raster: DensityRaster,
    *,
    monthly: Sequence[np.ndarray | None] = (),
    timeline: Timeline | None = None,
    scale: DensityScale | None = None,
    name: str = "Densidad de incidentes",
    opacity: float = 0.7,
    show: bool = True,
    shared_scale: bool = True,
) -> dict[str, Any]:
    """Add a density layer that follows the period control, with its legend.

    Parameters
    ----------
    m
        The map.
    raster
        The whole period's density (incidents per km²).
    monthly
        Each month's density (see :func:`monthly_densities`), in ``timeline`` order.
    timeline
        The months of the page (None or empty: the period as a whole, no monthly images).
    scale
        Classes (default :data:`DEFAULT_DENSITY_BREAKS`).
    name, opacity, show
        Layer name in the control, opacity, initially visible.
    shared_scale
        The legend says that every page of the atlas uses this scale.

    Returns
    -------
    dict
        ``vmax`` (largest monthly-average value), ``monthly_max`` (per month), ``bounds``,
        ``breaks`` and ``units``.
    """
    n_months = len(timeline) if timeline is not None else 0
    scale = scale or DensityScale()
    images = density_images(
        raster, monthly=monthly if n_months else (), n_months=n_months, scale=scale
    )
    per_month = n_months >= 1
    unit = "incidentes por km² y por mes" if per_month else "incidentes por km² en el periodo"
    whole = "promedio mensual del periodo completo" if per_month else "periodo completo"
    DensityLayer(
        images.urls,
        images.bounds,
        name=name,
        opacity=opacity,
        show=show,
        whole=whole,
    ).add_to(m)
    notes = []
    if shared_scale:
        notes.append("Misma escala en todas las páginas del atlas y en todos los meses.")
    notes.append(f"Menos de {es_number(scale.breaks[0])}: sin color.")
    add_legend(
        m,
        f"Densidad ({unit})",
        [(c, label, None) for c, label in zip(scale.colors, scale.labels(), strict=True)],
        shape="square",
        note=" ".join(notes),
        key="densidad",
        when=whole,
        when_id="parsc-density-when",
    )
    return {
        "vmax": images.vmax,
        "monthly_max": images.monthly_max,
        "bounds": images.bounds,
        "breaks": list(scale.breaks),
        "units": unit,
        "images": sum(1 for u in images.urls if u),
    }
