"""Two-dimensional radially symmetric kernels for kernel density estimation.

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

References
----------
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*. Chapman & Hall.
Wand, M. P. & Jones, M. C. (1995). *Kernel Smoothing*. Chapman & Hall, section 4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

#: Truncation of the gaussian kernel, in standard deviations.
GAUSSIAN_TRUNCATION: Final[float] = 4.0


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
            f"kernel must be one of {', '.join(map(repr, KERNELS))}, got {name!r}",
            hint="quartic is the default of ArcGIS and CrimeStat",
        )
    return KERNELS[key]
