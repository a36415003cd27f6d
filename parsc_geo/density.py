"""Kernel density of incidents on a grid: linear binning + FFT convolution, as a GeoTIFF.

The estimate at a cell centre g is ``f(g) = Σᵢ wᵢ K_h(g − xᵢ)`` (incidents per unit area): the
sum of one kernel per incident, weighted (e.g. by harm). It is computed as Wand (1994) does:

1. *linear binning*: each incident's weight is shared among the four surrounding cell centres
   in proportion to the opposite areas (bilinear, "cloud in cell"). The error each point then
   contributes is that of linear interpolation of its kernel, O(δ²) in the cell size δ, where
   counting points per cell moves them by up to half a cell, an O(δ) error (Hall & Wand 1996);
2. *convolution* of the binned weights with the kernel sampled at the cell-centre offsets,
   normalised to sum to one so that mass is conserved, by FFT
   (:func:`parsc_geo._kernels.convolve_valid`: the steps of :func:`scipy.signal.fftconvolve`).

No loop runs over points. The raster integrates to the (weighted) number of incidents whenever
the grid covers every kernel, which the default extent (data bounds padded by the kernel's
support) guarantees; points outside a given ``extent`` still contribute where their kernels
reach into it.

References
----------
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*. Chapman & Hall.
Wand, M. P. (1994). Fast computation of multivariate kernel estimators. *Journal of
Computational and Graphical Statistics* 3(4), 433–445.
Hall, P. & Wand, M. P. (1996). On the accuracy of binned kernel density estimators. *Journal of
Multivariate Analysis* 56(2), 165–184.
ESRI. How Kernel Density works. ArcGIS Pro documentation.

See :mod:`parsc_geo.bandwidth` for the bandwidth conventions (search radius for compact kernels,
standard deviation for the gaussian), the automatic rules and the conversion between kernels.
"""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import __version__
from ._atomic import atomic_path
from ._errors import ConfigError, CRSError, InputDataError, InsufficientDataError, OutputError
from ._kernels import KERNELS, Kernel, get_kernel, kde_grid
from ._messages import announce
from ._text import num
from .bandwidth import DEFAULT_RULE, select_bandwidth
from .grid import CELLS_PER_RADIUS, auto_cell_size
from .settings import (
    KERNEL,
    MAX_CELLS_WARNING,
    MIN_CELL_SIZE_M,
    SEED,
    SYNTHETIC_BANNER,
)

__all__ = ["UNITS", "DensityRaster", "check_parameters", "kde_grid", "kernel_density"]

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import geopandas as gpd
    from affine import Affine
    from pyproj import CRS

#: Output units → description (Spanish, user-facing) used as the GeoTIFF band description.
UNITS: Final[dict[str, str]] = {
    "per_km2": "Densidad de incidentes (incidentes por km²)",
    "per_cell": "Incidentes esperados por celda",
}
#: Grids larger than this many cells are refused (memory), whatever the settings.
MAX_CELLS_HARD: Final[int] = 25 * MAX_CELLS_WARNING
#: Automatic bandwidths below this quartic-equivalent radius are raised to it: police
#: geocoding (≈ MIN_CELL_SIZE_M) does not support finer smoothing.
MIN_AUTO_RADIUS_M: Final[float] = CELLS_PER_RADIUS * MIN_CELL_SIZE_M
#: Tag holding the JSON parameters in the GeoTIFF.
PARAMETERS_TAG: Final[str] = "PARSC_GEO_PARAMETERS"


#: How each bandwidth convention is named in terminal messages.
_CONVENTION_ES: Final[dict[str, str]] = {
    "search radius": "radio de búsqueda",
    "standard deviation": "desviación estándar",
}


def _announce(message: str, quiet: bool) -> None:
    """Tell the user about an automatic choice (logged, see :mod:`parsc_geo._messages`)."""
    announce(logger, f"densidad: {message}", quiet=quiet)


@dataclass
class DensityRaster:
    """A kernel density surface on a north-up grid in a metric CRS.

    Attributes
    ----------
    array
        2-D float array, first row north, first column west. Cells outside ``mask`` are NaN.
    transform
        Affine transform from (col, row) to map coordinates of cell corners, as rasterio uses.
    crs
        Metric CRS of the grid (:class:`pyproj.CRS`).
    cell_size
        Side of a square cell in metres.
    bandwidth
        Bandwidth in metres (search radius, or σ for the gaussian kernel).
    kernel
        Kernel name.
    units
        ``"per_km2"`` (incidents per km²) or ``"per_cell"`` (expected incidents per cell).
    parameters
        Every parameter, given or chosen automatically (JSON-serialisable).
    """

    array: NDArray[np.float64]
    transform: Affine
    crs: CRS
    cell_size: float
    bandwidth: float
    kernel: str
    units: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """Return (rows, columns)."""
        rows, cols = self.array.shape
        return int(rows), int(cols)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Return (minx, miny, maxx, maxy) of the grid in its CRS."""
        rows, cols = self.shape
        minx, maxy = self.transform.c, self.transform.f
        return (minx, maxy - rows * self.cell_size, minx + cols * self.cell_size, maxy)

    @property
    def cell_area_km2(self) -> float:
        """Return the area of one cell in km²."""
        return self.cell_size * self.cell_size / 1e6

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the x and y coordinates of the cell centres, each of the raster's shape."""
        rows, cols = self.shape
        minx, _, _, maxy = self.bounds
        xs = minx + (np.arange(cols) + 0.5) * self.cell_size
        ys = maxy - (np.arange(rows) + 0.5) * self.cell_size
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy

    def integral(self) -> float:
        """Return the number of (weighted) incidents the raster holds (NaN cells skipped)."""
        total = float(np.nansum(self.array))
        return total * self.cell_area_km2 if self.units == "per_km2" else total

    def to_units(self, units: str) -> DensityRaster:
        """Return a copy expressed in ``units`` (``"per_km2"`` or ``"per_cell"``)."""
        _check_units(units)
        if units == self.units:
            return replace(self, array=self.array.copy(), parameters=dict(self.parameters))
        factor = self.cell_area_km2 if units == "per_cell" else 1.0 / self.cell_area_km2
        parameters = dict(self.parameters, units=units)
        return replace(self, array=self.array * factor, units=units, parameters=parameters)

    def to_geotiff(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        dtype: str = "float32",
        synthetic: bool | None = None,
    ) -> Path:
        """Write the raster as a compressed, tiled GeoTIFF with its parameters as tags.

        Parameters
        ----------
        path
            Output file. Its folder is created if missing.
        overwrite
            Replace an existing file (otherwise :class:`OutputError`).
        dtype
            ``"float32"`` (default) or ``"float64"``.
        synthetic
            The data are synthetic: the file gets a ``SINTETICO`` tag with
            :data:`parsc_geo.settings.SYNTHETIC_BANNER`. None: ``parameters["synthetic"]``.

        Returns
        -------
        Path
            The written file.

        Notes
        -----
        DEFLATE compression with the floating-point predictor, 256 × 256 tiles, NaN as nodata
        (cells outside the mask). Each parameter is a tag (JSON values) and the whole set is
        in the ``PARSC_GEO_PARAMETERS`` tag, which :meth:`from_geotiff` reads back. The file is
        written to a temporary name in the same folder and renamed (atomic).
        """
        import rasterio
        from rasterio.crs import CRS as RioCRS

        if dtype not in ("float32", "float64"):
            raise ConfigError(f"dtype debe ser 'float32' o 'float64'; se recibió {dtype!r}")
        target = Path(path)
        if target.exists() and not overwrite:
            raise OutputError(
                f"la salida {str(target)!r} ya existe", hint="use overwrite=True (--overwrite)"
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"no se puede crear la carpeta {str(target.parent)!r}: {exc}"
            ) from exc
        rows, cols = self.shape
        profile = {
            "driver": "GTiff",
            "width": cols,
            "height": rows,
            "count": 1,
            "dtype": dtype,
            "crs": RioCRS.from_wkt(self.crs.to_wkt()),
            "transform": self.transform,
            "nodata": float("nan"),
            "compress": "deflate",
            "predictor": 3,
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
        }
        tags = {
            key: json.dumps(value, ensure_ascii=False) for key, value in self.parameters.items()
        }
        tags[PARAMETERS_TAG] = json.dumps(self.parameters, ensure_ascii=False, sort_keys=True)
        tags["units"] = self.units
        if synthetic is None:
            synthetic = bool(self.parameters.get("synthetic", False))
        if synthetic:
            tags["SINTETICO"] = SYNTHETIC_BANNER
        with atomic_path(target, overwrite=overwrite) as tmp:
            try:
                with rasterio.open(tmp, "w", **profile) as dst:
                    dst.write(self.array.astype(dtype), 1)
                    dst.update_tags(**tags)
                    dst.set_band_description(1, UNITS[self.units])
            except (OSError, rasterio.errors.RasterioError) as exc:
                raise OutputError(f"no se puede escribir {str(target)!r}: {exc}") from exc
        return target

    @classmethod
    def from_geotiff(cls, path: str | os.PathLike[str]) -> DensityRaster:
        """Read a raster written by :meth:`to_geotiff` (or any single-band metric GeoTIFF).

        Raises
        ------
        InputDataError
            When the file cannot be read or its grid is not square-celled and north-up.
        """
        import rasterio
        from pyproj import CRS

        source = Path(path)
        try:
            with rasterio.open(source) as src:
                array = src.read(1).astype(np.float64)
                transform = src.transform
                crs_wkt = src.crs.to_wkt() if src.crs else None
                tags = src.tags()
        except rasterio.errors.RasterioError as exc:
            raise InputDataError(f"no se puede leer el GeoTIFF {str(source)!r}: {exc}") from exc
        if crs_wkt is None:
            raise InputDataError(f"el GeoTIFF {str(source)!r} no tiene SRC")
        if transform.b != 0 or transform.d != 0 or not math.isclose(transform.a, -transform.e):
            raise InputDataError(
                f"el GeoTIFF {str(source)!r} no es una cuadrícula orientada al norte de celdas "
                f"cuadradas (transformación {tuple(transform)[:6]})"
            )
        parameters: dict[str, Any] = {}
        if PARAMETERS_TAG in tags:
            try:
                parameters = json.loads(tags[PARAMETERS_TAG])
            except json.JSONDecodeError as exc:
                raise InputDataError(
                    f"GeoTIFF {str(source)!r}: la etiqueta {PARAMETERS_TAG} no es JSON válido: "
                    f"{exc}"
                ) from exc
        units = tags.get("units", parameters.get("units", "per_km2"))
        return cls(
            array=array,
            transform=transform,
            crs=CRS.from_wkt(crs_wkt),
            cell_size=float(transform.a),
            bandwidth=float(parameters.get("bandwidth_m", math.nan)),
            kernel=str(parameters.get("kernel", "")),
            units=units if units in UNITS else "per_km2",
            parameters=parameters,
        )


def _check_units(units: str) -> None:
    if units not in UNITS:
        raise ConfigError(
            f"units debe ser uno de {', '.join(map(repr, UNITS))}; se recibió {units!r}",
            hint="per_km2 da incidentes por km²; per_cell, incidentes esperados por celda",
        )


def _points_xy(
    incidents: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS | str | None
) -> tuple[NDArray[np.float64], CRS, bool]:
    """Return metric coordinates (n, 2), the metric CRS and whether it was chosen here."""
    import geopandas as gpd
    import shapely
    from pyproj import CRS as ProjCRS
    from pyproj import Transformer

    from .projection import metric_crs

    if not isinstance(incidents, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputDataError(
            f"incidents debe ser un GeoDataFrame de puntos; se recibió {type(incidents).__name__}",
            hint="lea los archivos con geopandas.read_file o "
            "parsc_geo.store.Workspace.read_incidents",
        )
    geoms = incidents.geometry if isinstance(incidents, gpd.GeoDataFrame) else incidents
    if len(geoms) == 0:
        raise InsufficientDataError("no hay incidentes a partir de los cuales estimar una densidad")
    # shapely's vectorised functions on the raw array: far faster than the GeoSeries accessors.
    data = np.asarray(geoms.array)
    type_id = shapely.get_type_id(data)
    not_point = (type_id != shapely.GeometryType.POINT) & (type_id != shapely.GeometryType.MISSING)
    if not_point.any():
        i = int(np.flatnonzero(not_point)[0])
        raise InputDataError(
            f"{int(not_point.sum())} de {len(geoms)} geometrías no son puntos "
            f"(la primera en la fila {geoms.index[i]!r}: {data[i].geom_type})",
            hint="use centroides (gdf.geometry.centroid) o puntos representativos",
        )
    x = shapely.get_x(data)
    y = shapely.get_y(data)
    missing = (type_id == shapely.GeometryType.MISSING) | np.isnan(x) | np.isnan(y)
    if missing.any():
        first = geoms.index[np.flatnonzero(missing)[0]]
        raise InputDataError(
            f"{int(missing.sum())} de {len(geoms)} incidentes no tienen ubicación "
            f"(el primero en la fila {first!r})",
            hint="elimine antes las filas sin geometría (gdf[~gdf.geometry.is_empty])",
        )
    if geoms.crs is None:
        raise CRSError(
            "los datos no tienen sistema de referencia de coordenadas",
            hint="asigne uno con gdf.set_crs('EPSG:4326') si las coordenadas son longitud/latitud",
        )
    own = ProjCRS.from_user_input(geoms.crs)
    own_is_metric = (
        own.is_projected
        and bool(own.axis_info)
        and own.axis_info[0].unit_name in ("metre", "meter")
    )
    if crs is not None:
        target, chosen = ProjCRS.from_user_input(crs), False
    elif own_is_metric:
        target, chosen = own, False
    else:
        target, chosen = metric_crs(gpd.GeoDataFrame(geometry=geoms)), True
    if not target.is_projected:
        raise CRSError(
            f"el SRC de análisis debe ser proyectado en metros; se recibió {target.to_string()!r}",
            hint="use p. ej. EPSG:32717 (UTM 17S) para Cajamarca",
        )
    if not target.equals(own):
        transformer = Transformer.from_crs(own, target, always_xy=True)
        x, y = transformer.transform(x, y)
    xy = np.column_stack([x, y]).astype(np.float64)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        first = geoms.index[np.flatnonzero(bad)[0]]
        raise InputDataError(
            f"{int(bad.sum())} incidentes tienen coordenadas que no se pueden proyectar a "
            f"{target.to_string()} (el primero en la fila {first!r})",
            hint="revise si hay latitud/longitud intercambiadas o fuera de rango",
        )
    return xy, target, chosen


def _weights(
    incidents: gpd.GeoDataFrame | gpd.GeoSeries, weights: str | ArrayLike | None, n: int
) -> tuple[NDArray[np.float64], str | None]:
    """Return validated non-negative weights and the name of their column (if any)."""
    import pandas as pd

    if weights is None:
        return np.ones(n), None
    name: str | None = None
    if isinstance(weights, str):
        columns = list(getattr(incidents, "columns", []))
        if weights not in columns:
            raise ConfigError(
                f"no se encontró la columna de pesos {weights!r}",
                hint=f"columnas disponibles: {', '.join(map(str, columns)) or '(ninguna)'}",
            )
        name = weights
        series = pd.to_numeric(incidents[weights], errors="coerce")
        values = series.to_numpy(dtype=np.float64)
        index = incidents.index
    else:
        values = np.asarray(weights, dtype=np.float64).ravel()
        index = pd.RangeIndex(len(values))
    if len(values) != n:
        raise ConfigError(
            f"weights debe tener un valor por incidente ({n}); se recibieron {len(values)}"
        )
    label = f"columna de pesos {name!r}" if name else "weights"
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputDataError(
            f"{label}: {int(bad.sum())} valores faltan o no son números "
            f"(el primero en la fila {index[np.flatnonzero(bad)[0]]!r})",
            hint="complételos (p. ej. con 1.0) o elimine esos incidentes",
        )
    negative = values < 0
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise InputDataError(
            f"{label}: {int(negative.sum())} valores son negativos "
            f"(el primero en la fila {index[i]!r}: {values[i]})",
            hint="los pesos son daño o conteos y deben ser cero o positivos",
        )
    if not values.sum() > 0:
        raise InputDataError(f"{label}: todos los pesos son cero", hint="no hay nada que estimar")
    return values, name


def _extent_bounds(extent: Any, crs: CRS) -> tuple[float, float, float, float]:
    """Return (minx, miny, maxx, maxy) in ``crs`` from a tuple or a geometry container."""
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    if isinstance(extent, gpd.GeoDataFrame | gpd.GeoSeries):
        if extent.crs is None:
            raise CRSError("extent no tiene SRC", hint="asígnelo con .set_crs(...)")
        bounds = tuple(float(v) for v in extent.to_crs(crs).total_bounds)
    elif isinstance(extent, BaseGeometry):
        bounds = tuple(float(v) for v in extent.bounds)
    else:
        try:
            bounds = tuple(float(v) for v in extent)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"extent debe ser (minx, miny, maxx, maxy) en metros o un GeoDataFrame; "
                f"se recibió {extent!r}"
            ) from exc
    if len(bounds) != 4 or not all(map(math.isfinite, bounds)):
        raise ConfigError(
            f"extent debe ser cuatro números finitos (minx, miny, maxx, maxy); se recibió {bounds}"
        )
    minx, miny, maxx, maxy = bounds
    if not (maxx > minx and maxy > miny):
        raise ConfigError(
            f"extent debe cumplir maxx > minx y maxy > miny; se recibió {bounds}",
            hint="el orden es (minx, miny, maxx, maxy)",
        )
    return minx, miny, maxx, maxy


def _mask_cells(
    mask: Any, crs: CRS, transform: Affine, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """Return True for cells whose centre lies inside ``mask``."""
    import geopandas as gpd
    from rasterio.features import geometry_mask
    from shapely.geometry.base import BaseGeometry

    if isinstance(mask, gpd.GeoDataFrame | gpd.GeoSeries):
        if mask.crs is None:
            raise CRSError("mask no tiene SRC", hint="asígnelo con .set_crs(...)")
        geoms = [g for g in mask.to_crs(crs).geometry if g is not None and not g.is_empty]
    elif isinstance(mask, BaseGeometry):
        geoms = [mask]
    elif isinstance(mask, list | tuple) and all(isinstance(g, BaseGeometry) for g in mask):
        geoms = list(mask)
    else:
        raise ConfigError(
            f"mask debe ser polígonos (GeoDataFrame, GeoSeries o geometría shapely); "
            f"se recibió {type(mask).__name__}"
        )
    polygons = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise ConfigError(
            "mask no contiene polígonos", hint="indique polígonos de área, p. ej. distritos"
        )
    inside: NDArray[np.bool_] = geometry_mask(
        polygons, out_shape=shape, transform=transform, invert=True, all_touched=False
    )
    return inside


def kernel_density(
    incidents: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    cell_size: float | None = None,
    bandwidth: float | str | None = None,
    bandwidth_adjust: float = 1.0,
    kernel: str = KERNEL,
    weights: str | ArrayLike | None = None,
    extent: Any = None,
    mask: Any = None,
    units: str = "per_km2",
    crs: CRS | str | None = None,
    quiet: bool = False,
    seed: int = SEED,
) -> DensityRaster:
    """Estimate the kernel density of incidents on a square grid.

    Parameters
    ----------
    incidents
        Points in any CRS (GeoDataFrame or GeoSeries); projected with
        :func:`parsc_geo.projection.to_metric` (UTM 17S for Cajamarca) unless ``crs`` is given.
    cell_size
        Cell side in metres. None: the shorter side of the extent / 250 (ArcGIS's rule) or a
        quarter of the (quartic-equivalent) search radius, whichever is smaller, never below
        50 m and enlarged if the grid would exceed 4 million cells.
    bandwidth
        Metres (search radius for compact kernels, σ for the gaussian; see
        :mod:`parsc_geo.bandwidth`), or a rule: ``"silverman"`` (ArcGIS default, used when None),
        ``"scott"`` or ``"lcv"``. Automatic radii below 200 m (quartic-equivalent) are raised to
        200 m, as police geocoding is rarely better than 50 m; that minimum is also used when
        every incident shares one location (no spread to measure).
    bandwidth_adjust
        Factor applied to the bandwidth, given or automatic (sfhotspot's convention).
    kernel
        ``"quartic"`` (default), ``"gaussian"``, ``"epanechnikov"``, ``"triangular"`` or
        ``"uniform"``.
    weights
        Column name (e.g. ``"harm"``) or one non-negative value per incident.
    extent
        Grid extent: (minx, miny, maxx, maxy) in the analysis CRS, or a GeoDataFrame/GeoSeries
        whose bounds are used. None: the data bounds padded by the kernel's support (search
        radius, or 4σ), snapped outward to multiples of the cell size.
    mask
        Polygons (GeoDataFrame/GeoSeries in any CRS, or shapely geometries in the analysis CRS).
        Cells whose centre lies outside are set to NaN (nodata in the GeoTIFF). Incidents outside
        the mask still contribute to cells inside it; no edge correction is made.
    units
        ``"per_km2"`` (incidents per km², default) or ``"per_cell"`` (expected incidents per cell).
    crs
        Metric CRS of the analysis; None chooses it with :func:`parsc_geo.projection.metric_crs`.
    quiet
        Do not announce automatic choices on stderr (they are stored in ``parameters`` anyway).
    seed
        Seed of the likelihood cross-validation subsample.

    Returns
    -------
    DensityRaster
        The density; ``parameters`` records every input and automatic choice.

    Raises
    ------
    InputDataError
        Missing or non-point geometries, bad weights.
    InsufficientDataError
        No incidents.
    ConfigError
        Invalid kernel, bandwidth, cell size, extent, mask or units; grids over 100 million cells.

    Notes
    -----
    Incidents stacked on police stations (``at_station``) are not excluded here: the hotspot
    functions and the ``parsc-geo density`` command leave them out before calling this.

    ``f(g) = Σᵢ wᵢ K_h(g − xᵢ)`` at cell centres, computed by linear binning and FFT convolution
    with the sampled kernel normalised to unit mass (Wand 1994). With the default extent the
    raster integrates to ``Σ wᵢ``. The quartic kernel is ``3/(π h²) (1 − d²/h²)²`` (Silverman
    1986, eq. 4.5), as in ArcGIS and CrimeStat.

    Examples
    --------
    >>> raster = kernel_density(incidents, bandwidth=500, cell_size=50)  # doctest: +SKIP
    >>> raster.to_geotiff("densidad.tif")  # doctest: +SKIP
    """
    from affine import Affine

    kern = check_parameters(
        kernel=kernel,
        bandwidth=bandwidth,
        bandwidth_adjust=bandwidth_adjust,
        cell_size=cell_size,
        units=units,
    )

    xy, analysis_crs, crs_chosen = _points_xy(incidents, crs)
    w, weights_name = _weights(incidents, weights, len(xy))
    crs_label = analysis_crs.to_string()
    if crs_chosen:
        _announce(f"SRC de análisis {crs_label} (elegido a partir de los datos)", quiet)
    parameters: dict[str, Any] = {
        "kernel": kern.name,
        "bandwidth_convention": kern.convention,
        "bandwidth_adjust": float(bandwidth_adjust),
        "crs": crs_label,
        "crs_rule": "chosen from the data" if crs_chosen else "given or the data's own",
        "n_incidents": len(xy),
        "weights": weights_name if weights_name else ("array" if weights is not None else None),
        "total_weight": float(w.sum()),
        "units": units,
        "synthetic": bool(getattr(incidents, "attrs", {}).get("synthetic", False)),
        "parsc_geo_version": __version__,
    }
    h = _resolve_bandwidth(bandwidth, bandwidth_adjust, kern, xy, w, seed, parameters, quiet)
    grid = _grid_spec(xy, kern, h, cell_size, extent, analysis_crs, parameters, quiet)

    per_m2 = kde_grid(
        xy[:, 0],
        xy[:, 1],
        w,
        kernel=kern.name,
        bandwidth=h,
        cell_size=grid.size,
        x0=grid.x0,
        ytop=grid.ytop,
        shape=grid.shape,
    )
    array = per_m2 * (1e6 if units == "per_km2" else grid.size * grid.size)
    transform = Affine(grid.size, 0.0, grid.x0, 0.0, -grid.size, grid.ytop)
    parameters["integral"] = float(per_m2.sum() * grid.size * grid.size)
    parameters["mask"] = mask is not None
    if mask is not None:
        inside = _mask_cells(mask, analysis_crs, transform, grid.shape)
        array = np.where(inside, array, np.nan)
        parameters["mask_cells_inside"] = int(inside.sum())
    return DensityRaster(
        array=array,
        transform=transform,
        crs=analysis_crs,
        cell_size=grid.size,
        bandwidth=h,
        kernel=kern.name,
        units=units,
        parameters=parameters,
    )


def check_parameters(
    *,
    kernel: str = KERNEL,
    bandwidth: float | str | None = None,
    bandwidth_adjust: float = 1.0,
    cell_size: float | None = None,
    units: str = "per_km2",
) -> Kernel:
    """Check the parameters of :func:`kernel_density` without any data; return the kernel.

    Called first by :func:`kernel_density` and by the methods built on it, so that an invalid
    parameter is reported even when there are too few incidents to compute anything.

    Raises
    ------
    ConfigError
        An unknown kernel, rule or unit; a bandwidth, factor or cell size that is not a
        positive number.
    """
    from .bandwidth import RULES

    kern = get_kernel(kernel)
    _check_units(units)
    if not _is_positive_number(bandwidth_adjust):
        raise ConfigError(
            f"bandwidth_adjust debe ser un número positivo; se recibió {bandwidth_adjust!r}"
        )
    if cell_size is not None and not _is_positive_number(cell_size):
        raise ConfigError(
            f"cell_size debe ser un número positivo de metros; se recibió {cell_size!r}"
        )
    if isinstance(bandwidth, str):
        if bandwidth.strip().lower() not in RULES:
            raise ConfigError(
                f"bandwidth debe ser un número de metros o uno de {', '.join(map(repr, RULES))}; "
                f"se recibió {bandwidth!r}",
                hint="silverman es el valor por defecto de ArcGIS",
            )
    elif bandwidth is not None and not _is_positive_number(bandwidth):
        raise ConfigError(
            f"bandwidth debe ser un número positivo de metros o el nombre de una regla; "
            f"se recibió {bandwidth!r}",
            hint="p. ej. bandwidth=500, o 'silverman', 'scott', 'lcv'",
        )
    return kern


def _is_positive_number(value: Any) -> bool:
    """Return whether ``value`` is a finite positive int or float (not a bool)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    )


def _resolve_bandwidth(
    bandwidth: float | str | None,
    adjust: float,
    kern: Kernel,
    xy: NDArray[np.float64],
    w: NDArray[np.float64],
    seed: int,
    parameters: dict[str, Any],
    quiet: bool,
) -> float:
    """Return the bandwidth to use (metres), recording and announcing automatic choices."""
    if bandwidth is None or isinstance(bandwidth, str):
        convention = _CONVENTION_ES.get(kern.convention, kern.convention)
        floor = _from_quartic_radius(MIN_AUTO_RADIUS_M, kern)
        rule = DEFAULT_RULE if bandwidth is None else bandwidth
        try:
            choice = select_bandwidth(xy, rule, kern.name, w, seed=seed)
        except InsufficientDataError as exc:
            # One location (or one weighted point) has no spread to measure: smooth it with the
            # smallest automatic bandwidth rather than refuse to map it.
            parameters.update(
                {"bandwidth_rule": "minimum", "bandwidth_rule_details": {"reason": exc.message}}
            )
            _announce(
                f"ancho de banda {num(floor)} m ({convention}, núcleo {kern.name}), el mínimo: "
                f"{exc.message}",
                quiet,
            )
            return _adjusted(floor, adjust, parameters, quiet)
        base = max(choice.value, floor)
        parameters.update(
            {
                "bandwidth_rule": choice.rule,
                "bandwidth_rule_details": choice.details,
                "bandwidth_unadjusted_m": choice.value,
            }
        )
        message = (
            f"ancho de banda {num(choice.value)} m "
            f"({convention}, núcleo {kern.name}) "
            f"según la regla {choice.rule}"
        )
        if choice.details.get("at_boundary"):
            message += " (óptimo en el borde del rango explorado: revise los datos)"
        if choice.value < floor:
            parameters["bandwidth_floor_m"] = floor
            message += f", elevado al mínimo de {num(floor)} m"
        _announce(message, quiet)
    elif _is_positive_number(bandwidth):
        base = float(bandwidth)
        parameters["bandwidth_rule"] = "given"
    else:
        raise ConfigError(
            f"bandwidth debe ser un número positivo de metros o el nombre de una regla; "
            f"se recibió {bandwidth!r}",
            hint="p. ej. bandwidth=500, o 'silverman', 'scott', 'lcv'",
        )
    return _adjusted(base, adjust, parameters, quiet)


def _adjusted(base: float, adjust: float, parameters: dict[str, Any], quiet: bool) -> float:
    """Apply ``bandwidth_adjust``, record the result and announce a change."""
    h = base * float(adjust)
    if adjust != 1.0:
        _announce(f"ancho de banda × {adjust:g} = {num(h)} m", quiet)
    parameters["bandwidth_m"] = h
    return h


@dataclass(frozen=True)
class _Grid:
    """A north-up grid: west edge, north edge, rows, columns and cell size (metres)."""

    x0: float
    ytop: float
    rows: int
    cols: int
    size: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols


def _grid_spec(
    xy: NDArray[np.float64],
    kern: Kernel,
    h: float,
    cell_size: float | None,
    extent: Any,
    crs: CRS,
    parameters: dict[str, Any],
    quiet: bool,
) -> _Grid:
    """Choose extent and cell size, recording and announcing automatic choices."""
    support = kern.support * h
    radius_equiv = _to_quartic_radius(h, kern)
    if extent is None:
        minx, miny = xy.min(axis=0) - support
        maxx, maxy = xy.max(axis=0) + support
        extent_rule = "data bounds padded by the kernel support, snapped to the cell size"
    else:
        minx, miny, maxx, maxy = _extent_bounds(extent, crs)
        extent_rule = "given"

    if cell_size is None:
        choice = auto_cell_size(
            float(maxx - minx), float(maxy - miny), purpose="surface", search_radius=radius_equiv
        )
        size, size_rule = choice.size, choice.rule
        _announce(f"celda de {num(size)} m: {choice.rule_es}", quiet)
    else:
        size, size_rule = float(cell_size), "given"
        if size > radius_equiv / 2:
            warnings.warn(
                f"una celda de {num(size)} m es gruesa para un ancho de banda {kern.name} de "
                f"{num(h)} m: la superficie se verá en bloques (use como máximo "
                f"{num(radius_equiv / CELLS_PER_RADIUS)} m)",
                stacklevel=3,
            )

    if extent is None:
        # Linear binning moves each share up to a cell from its point, and cell centres lie
        # half a cell inside the edges: two more cells keep every kernel on the grid.
        pad = 2 * size
        minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
        x0 = math.floor(minx / size) * size
        cols = max(1, math.ceil(maxx / size - 1e-9) - math.floor(minx / size))
        rows = max(1, math.ceil(maxy / size - 1e-9) - math.floor(miny / size))
        ytop = math.floor(miny / size) * size + rows * size
    else:
        x0, ytop = float(minx), float(maxy)
        cols = max(1, math.ceil((maxx - minx) / size - 1e-9))
        rows = max(1, math.ceil((maxy - miny) / size - 1e-9))
    n_cells = rows * cols
    if n_cells > MAX_CELLS_HARD:
        raise ConfigError(
            f"una cuadrícula de {num(rows)} × {num(cols)} ({num(n_cells)} celdas) es demasiado "
            "grande",
            hint="use un cell_size mayor o una extensión menor",
        )
    if n_cells > MAX_CELLS_WARNING:
        warnings.warn(
            f"construyendo una cuadrícula grande: {num(rows)} × {num(cols)} = "
            f"{num(n_cells)} celdas (más de {num(MAX_CELLS_WARNING)}); esto requiere tiempo "
            "y memoria",
            stacklevel=3,
        )
    parameters.update(
        {
            "cell_size_m": size,
            "cell_size_rule": size_rule,
            "extent": [x0, ytop - rows * size, x0 + cols * size, ytop],
            "extent_rule": extent_rule,
            "shape": [rows, cols],
        }
    )
    return _Grid(x0, ytop, rows, cols, size)


def _to_quartic_radius(h: float, kern: Kernel) -> float:
    """Return the quartic search radius that smooths like bandwidth ``h`` of ``kern``."""
    return h * KERNELS["quartic"].canonical / kern.canonical


def _from_quartic_radius(radius: float, kern: Kernel) -> float:
    """Return the bandwidth of ``kern`` that smooths like a quartic search radius."""
    return radius * kern.canonical / KERNELS["quartic"].canonical
