"""Two-dimensional radially symmetric kernels, and the binned FFT engine that sums them on grids.

Bandwidth convention
--------------------
For the compact kernels (quartic, epanechnikov, triangular, uniform) the bandwidth ``h`` is the
*search radius*: the kernel is zero beyond ``h`` metres, as in ArcGIS and CrimeStat. For the
gaussian kernel ``h`` is the *standard deviation* σ of each coordinate; the kernel never reaches
zero and is truncated at :data:`GAUSSIAN_TRUNCATION` standard deviations (the mass beyond 4σ in
two dimensions is ``exp(-8)`` ≈ 0.03 %), and the truncated kernel is renormalised.

With ``u = d / h`` every kernel is ``K_h(d) = c · f(u) / h²`` and integrates to one over the plane:

============  ================  ============  =====  ============
kernel        f(u), u ≤ 1       c             μ₂     R(K)
============  ================  ============  =====  ============
quartic       (1 − u²)²         3/π           1/8    9/(5π)
epanechnikov  1 − u²            2/π           1/6    4/(3π)
triangular    1 − u             3/π           3/20   3/(2π)
uniform       1                 1/π           1/4    1/π
gaussian      exp(−u²/2)        1/(2π)        1      1/(4π)
============  ================  ============  =====  ============

μ₂ is the variance of each coordinate under the unit kernel (``∫ x² K(x, y) dx dy``) and R(K) its
roughness ``∫ K²``; both serve to convert bandwidths between kernels
(:func:`parsc_geo.bandwidth.convert_bandwidth`).

Notes
-----
The quartic kernel ``3/(π r²) · (1 − d²/r²)²`` is the one of Silverman (1986, eq. 4.5) used by
ArcGIS Kernel Density and CrimeStat. scikit-learn's ``KernelDensity`` uses the same convention
(``bandwidth`` = radius for ``tophat``, ``epanechnikov``, ``linear``; σ for ``gaussian``).

Engine
------
:func:`kde_grid` evaluates ``Σᵢ wᵢ K_h(g − xᵢ)`` at every cell centre g of a grid by linear
binning (:func:`linear_binning`) and FFT convolution with the kernel sampled at cell-centre
offsets and normalised to unit mass (:func:`discrete_kernel`), as in Wand (1994).

References
----------
Wand, M. P. (1994). Fast computation of multivariate kernel estimators. *Journal of
Computational and Graphical Statistics* 3(4), 433–445.
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*. Chapman & Hall.
Wand, M. P. & Jones, M. C. (1995). *Kernel Smoothing*. Chapman & Hall, section 4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Truncation of the gaussian kernel, in standard deviations.
GAUSSIAN_TRUNCATION: Final[float] = 4.0
#: Values below this fraction of the maximum are FFT round-off and are set to zero.
ROUNDOFF_CUTOFF: Final[float] = 1e-12


@dataclass(frozen=True)
class Kernel:
    """A radially symmetric 2-D kernel with unit bandwidth.

    Attributes
    ----------
    name
        Kernel name.
    norm
        Constant ``c`` that makes ``c · profile(u)`` integrate to one over the plane.
    support
        Radius (in bandwidths) beyond which the kernel is zero (or truncated).
    mu2
        Variance of each coordinate under the unit kernel.
    roughness
        ``∫ K²`` of the unit kernel.
    convention
        What the bandwidth means: ``"search radius"`` or ``"standard deviation"``.
    sklearn_name
        Name of the same kernel in :class:`sklearn.neighbors.KernelDensity`, if any.
    """

    name: str
    norm: float
    support: float
    mu2: float
    roughness: float
    convention: str
    sklearn_name: str | None
    profile: Callable[[NDArray[np.float64]], NDArray[np.float64]]

    def density(self, d2: NDArray[np.float64], h: float) -> NDArray[np.float64]:
        """Return ``K_h`` at squared distances ``d2`` (m²), in units of 1/m².

        Parameters
        ----------
        d2
            Squared distances from the kernel centre.
        h
            Bandwidth (search radius, or σ for the gaussian).
        """
        u2 = np.asarray(d2, dtype=np.float64) / (h * h)
        values = self.norm * self.profile(u2) / (h * h)
        return np.where(u2 <= self.support**2, values, 0.0)

    @property
    def canonical(self) -> float:
        """Canonical bandwidth factor ``(R(K) / μ₂²)^(1/6)`` in two dimensions.

        Notes
        -----
        Marron, J. S. & Nolan, D. (1988). Canonical kernels for density estimation.
        *Statistics & Probability Letters* 7(3), 195–199.
        """
        return float((self.roughness / self.mu2**2) ** (1.0 / 6.0))


def _quartic(u2: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.clip(1.0 - u2, 0.0, None) ** 2


def _epanechnikov(u2: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.clip(1.0 - u2, 0.0, None)


def _triangular(u2: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.clip(1.0 - np.sqrt(u2), 0.0, None)


def _uniform(u2: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(u2 <= 1.0, 1.0, 0.0)


def _gaussian(u2: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(-0.5 * u2)


KERNELS: Final[dict[str, Kernel]] = {
    "quartic": Kernel(
        "quartic", 3 / math.pi, 1.0, 1 / 8, 9 / (5 * math.pi), "search radius", None, _quartic
    ),
    "epanechnikov": Kernel(
        "epanechnikov",
        2 / math.pi,
        1.0,
        1 / 6,
        4 / (3 * math.pi),
        "search radius",
        "epanechnikov",
        _epanechnikov,
    ),
    "triangular": Kernel(
        "triangular",
        3 / math.pi,
        1.0,
        3 / 20,
        3 / (2 * math.pi),
        "search radius",
        "linear",
        _triangular,
    ),
    "uniform": Kernel(
        "uniform", 1 / math.pi, 1.0, 1 / 4, 1 / math.pi, "search radius", "tophat", _uniform
    ),
    "gaussian": Kernel(
        "gaussian",
        1 / (2 * math.pi),
        GAUSSIAN_TRUNCATION,
        1.0,
        1 / (4 * math.pi),
        "standard deviation",
        "gaussian",
        _gaussian,
    ),
}


def get_kernel(name: str) -> Kernel:
    """Return the kernel called ``name`` (see :data:`KERNELS`).

    Raises
    ------
    ConfigError
        When ``name`` is not a known kernel.
    """
    from ._errors import ConfigError

    key = str(name).strip().lower()
    if key not in KERNELS:
        raise ConfigError(
            f"kernel debe ser uno de {', '.join(map(repr, KERNELS))}; se recibió {name!r}",
            hint="quartic es el valor por defecto de ArcGIS y CrimeStat",
        )
    return KERNELS[key]


def discrete_kernel(kernel: Kernel, bandwidth: float, cell_size: float) -> NDArray[np.float64]:
    """Return the kernel sampled at cell-centre offsets, normalised to sum to one.

    Parameters
    ----------
    kernel
        The kernel.
    bandwidth
        Bandwidth in metres (search radius, or σ for the gaussian).
    cell_size
        Cell side in metres.

    Returns
    -------
    numpy.ndarray
        Square array of odd side ``2k + 1``, ``k = floor(support · h / δ)``. When the kernel is
        narrower than a cell it is a single 1.
    """
    half = math.floor(kernel.support * bandwidth / cell_size + 1e-9)
    offsets = np.arange(-half, half + 1, dtype=np.float64) * cell_size
    d2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    values = kernel.density(d2, bandwidth)
    total = values.sum()
    if not total > 0:
        values = np.zeros_like(d2)
        values[half, half] = 1.0
        return values
    return values / total


#: Points binned at a time: temporaries stay near 100 MB whatever the number of points.
BINNING_CHUNK: Final[int] = 1 << 20


def linear_binning(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    *,
    x0: float,
    ytop: float,
    cell_size: float,
    shape: tuple[int, int],
) -> NDArray[np.float64]:
    """Share each point's weight among the four nearest cell centres (bilinear weights).

    Parameters
    ----------
    x, y, weights
        Coordinates (metres) and weights of the points (None: every weight is 1).
    x0, ytop
        Map coordinates of the grid's west and north edges.
    cell_size
        Cell side in metres.
    shape
        (rows, columns); row 0 is north.

    Returns
    -------
    numpy.ndarray
        Binned weights; shares falling outside the grid are dropped.

    Notes
    -----
    Points are binned :data:`BINNING_CHUNK` at a time, so memory does not grow with their
    number beyond the coordinates themselves (5 million points: about the memory of
    ``numpy.histogram2d``).
    """
    rows, cols = shape
    # One ring of extra cells takes the shares that fall just outside; it is cut off afterwards.
    stride = cols + 2
    size = (rows + 2) * stride
    binned: NDArray[np.float64] = np.zeros(size, dtype=np.float64)
    for start in range(0, len(x), BINNING_CHUNK):
        part = slice(start, start + BINNING_CHUNK)
        _bin_chunk(
            binned,
            x[part],
            y[part],
            None if weights is None else weights[part],
            x0=x0,
            ytop=ytop,
            cell_size=cell_size,
            shape=shape,
        )
    grid: NDArray[np.float64] = binned.reshape(rows + 2, stride)[1:-1, 1:-1]
    return grid


def _bin_chunk(
    binned: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    *,
    x0: float,
    ytop: float,
    cell_size: float,
    shape: tuple[int, int],
) -> None:
    """Add the bilinear shares of one chunk of points to ``binned`` (grid with its ring)."""
    rows, cols = shape
    fx = (x - x0) / cell_size - 0.5
    fy = (ytop - y) / cell_size - 0.5
    ix = np.floor(fx)
    iy = np.floor(fy)
    inside = (ix >= -1) & (ix < cols) & (iy >= -1) & (iy < rows)
    if weights is None:
        weights = np.ones(len(fx))
    if not inside.all():
        fx, fy, ix, iy, weights = fx[inside], fy[inside], ix[inside], iy[inside], weights[inside]
    fx -= ix  # the fractions tx, ty, computed in place
    fy -= iy
    tx, ty = fx, fy
    stride = cols + 2
    size = binned.size
    base = (iy.astype(np.intp) + 1) * stride + (ix.astype(np.intp) + 1)
    del ix, iy
    wy0 = weights * (1.0 - ty)
    wy1 = weights * ty
    binned += np.bincount(base, wy0 * (1.0 - tx), minlength=size)
    binned += np.bincount(base + 1, wy0 * tx, minlength=size)
    binned += np.bincount(base + stride, wy1 * (1.0 - tx), minlength=size)
    binned += np.bincount(base + stride + 1, wy1 * tx, minlength=size)


def kde_grid(
    x: ArrayLike,
    y: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    kernel: str,
    bandwidth: float,
    cell_size: float,
    x0: float,
    ytop: float,
    shape: tuple[int, int],
) -> NDArray[np.float64]:
    """Return the binned kernel density (weight per m²) at the centres of a north-up grid.

    The low-level engine of :func:`kernel_density`: coordinates in metres, no CRS handling.
    Points outside the grid contribute where their kernels reach into it.

    Parameters
    ----------
    x, y
        Point coordinates in metres.
    weights
        Point weights (ones when None).
    kernel
        Kernel name.
    bandwidth
        Bandwidth in metres (search radius, or σ for the gaussian).
    cell_size
        Cell side in metres.
    x0, ytop
        West and north edges of the grid.
    shape
        (rows, columns).

    Returns
    -------
    numpy.ndarray
        Density in weight per m², first row north.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    kern = discrete_kernel(get_kernel(kernel), bandwidth, cell_size)
    half = kern.shape[0] // 2
    rows, cols = shape
    binned = linear_binning(
        xs,
        ys,
        w,
        x0=x0 - half * cell_size,
        ytop=ytop + half * cell_size,
        cell_size=cell_size,
        shape=(rows + 2 * half, cols + 2 * half),
    )
    smoothed = binned if half == 0 else convolve_valid(binned, kern)
    # FFT round-off leaves noise of about 1e-16 times the largest value where the true value is
    # zero; genuine values (even gaussian tails at 4σ) are far above 1e-12 of the maximum.
    peak = float(smoothed.max()) if smoothed.size else 0.0
    smoothed[smoothed < ROUNDOFF_CUTOFF * peak] = 0.0
    result: NDArray[np.float64] = smoothed / (cell_size * cell_size)
    return result


def convolve_valid(image: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the 2-D convolution of ``image`` by a smaller ``kernel``, where it fits whole.

    What ``scipy.signal.fftconvolve(image, kernel, mode="valid")`` returns for two real 2-D
    arrays with ``image`` at least as large as ``kernel`` (and no side of length 1), by the
    same steps (:mod:`scipy.fft` real transforms padded to fast lengths): the same values to
    the bit, without importing :mod:`scipy.signal` (0.4 s in a run's main process).
    """
    from scipy import fft

    axes = [0, 1]
    full = [image.shape[a] + kernel.shape[a] - 1 for a in axes]
    padded = [fft.next_fast_len(n, True) for n in full]
    spectrum = fft.rfftn(image, padded, axes=axes) * fft.rfftn(kernel, padded, axes=axes)
    whole = fft.irfftn(spectrum, padded, axes=axes)[: full[0], : full[1]]
    valid = [image.shape[a] - kernel.shape[a] + 1 for a in axes]
    start = [(full[a] - valid[a]) // 2 for a in axes]
    out: NDArray[np.float64] = whole[
        start[0] : start[0] + valid[0], start[1] : start[1] + valid[1]
    ].copy()
    return out
