"""Bandwidth selection and conversion for two-dimensional kernel density estimation.

Conventions (see :mod:`parsc_geo._kernels`): for compact kernels the bandwidth is the search
radius in metres; for the gaussian it is the standard deviation σ in metres. The field mixes
these up: a 500 m quartic search radius smooths about as much as a gaussian with σ ≈ 180 m, not
500 m. :func:`convert_bandwidth` converts between kernels.

Rules
-----
``"silverman"`` (alias ``"arcgis"``, the default)
    The spatial variant of Silverman's rule that ArcGIS uses as its default search radius
    (ESRI, *How Kernel Density works*):
    ``radius = 0.9 · min(SD, sqrt(1/ln 2) · Dm) · n^(−0.2)``, with SD the standard distance of
    the points, Dm the median distance to their mean centre and n the number of points. It is a
    quartic search radius and is converted to other kernels with the canonical conversion.
``"scott"``
    Scott's rule for a gaussian kernel in d = 2 dimensions, ``σ = σ̄ · n^(−1/6)`` with σ̄ the
    pooled standard deviation of the coordinates, ``sqrt((s_x² + s_y²)/2)`` (Scott 1992, eq. 6.42,
    with one isotropic bandwidth); converted to other kernels with the canonical conversion.
``"lcv"`` (alias ``"likelihood_cv"``)
    Likelihood cross-validation (Duin 1976; Silverman 1986, § 3.4.4): the σ of a gaussian kernel
    that maximises the leave-one-out log-likelihood ``Σ log f₋ᵢ(xᵢ)``. It is computed on a seeded
    random subsample of at most ``sample_size`` points and rescaled to the full sample with the
    rate ``n^(−1/6)`` of the AMISE-optimal bandwidth in two dimensions. Compact kernels are not
    used for the search because their leave-one-out density is zero for isolated points
    (log-likelihood −∞); the gaussian optimum is converted with the canonical conversion.

Weights (e.g. harm) enter the mean centre, SD, Dm and the likelihood as weights. Because harm
weights are importances, not counts, ``n`` is Kish's effective sample size
``(Σw)² / Σw²`` (which is the number of points for equal weights); ArcGIS instead uses ``Σw``
with a population field, which would make the bandwidth depend on the scale of the weights.

Forecast accuracy of the automatic bandwidth
--------------------------------------------
A rule of thumb optimises the estimate of a smooth density, not the crimes a patrol budget
captures. On Toronto's major-crime data (fit on one year, test on the next, for 2019, 2020 and
2021; 100 m cells; ``benchmarks/bench_forecast.py``) the 1 % of the area where a quartic KDE
is highest captured 13.6–14.1 % of the next year's crimes with the automatic radius
(Silverman/ArcGIS: 1 060–1 104 m), against 21.1–21.5 % at 200 m, 24.5–25.1 % at 150 m,
28.5–28.9 % at 100 m and 31.1–31.3 % at 50 m; counts per cell captured 33.5 % in 2021.
Capture fell monotonically with the radius, on 150 m cells too; the narrowest radius captured
most because Toronto geocodes to intersections (stacked points).

Recommendation: street-level maps meant to say where to patrol should use a 150 m radius, the
middle of the 100–200 m range that kept 64–86 % of what counts capture (against 41 % for the
rule) while still absorbing geocoding errors of about 50 m; the rule suits regional overviews
only; and the patrol selection itself should come from ``parsc-geo hotspots --method auto``,
which chooses by backtest (:mod:`parsc_geo.evaluation.selection`).

References
----------
ESRI. How Kernel Density works. ArcGIS Pro 3 documentation, Spatial Analyst toolbox.
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*. Chapman & Hall.
Scott, D. W. (1992). *Multivariate Density Estimation*. Wiley.
Duin, R. P. W. (1976). On the choice of smoothing parameters for Parzen estimators of
probability density functions. *IEEE Transactions on Computers* C-25(11), 1175–1179.
Marron, J. S. & Nolan, D. (1988). Canonical kernels for density estimation. *Statistics &
Probability Letters* 7(3), 195–199.
Kish, L. (1965). *Survey Sampling*. Wiley.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._errors import ConfigError, InsufficientDataError
from ._kernels import get_kernel
from .settings import SEED

#: Rule used when no bandwidth is given.
DEFAULT_RULE: Final[str] = "silverman"
#: Accepted rule names → canonical rule name.
RULES: Final[dict[str, str]] = {
    "silverman": "silverman",
    "arcgis": "silverman",
    "scott": "scott",
    "lcv": "lcv",
    "likelihood_cv": "lcv",
}
#: Largest subsample used by likelihood cross-validation.
LCV_SAMPLE_SIZE: Final[int] = 1000
#: Conversion methods accepted by :func:`convert_bandwidth`.
CONVERSIONS: Final[tuple[str, ...]] = ("canonical", "variance")


@dataclass(frozen=True)
class BandwidthChoice:
    """A bandwidth chosen by a rule.

    Attributes
    ----------
    value
        Bandwidth in metres in the convention of ``kernel``.
    kernel
        Kernel whose convention ``value`` follows.
    rule
        Canonical rule name.
    details
        Statistics behind the choice (JSON-serialisable).
    """

    value: float
    kernel: str
    rule: str
    details: dict[str, Any] = field(default_factory=dict)


def convert_bandwidth(
    value: float, from_kernel: str, to_kernel: str, *, method: str = "canonical"
) -> float:
    """Convert a bandwidth between kernels so that they smooth alike.

    Parameters
    ----------
    value
        Bandwidth of ``from_kernel`` in metres (search radius, or σ for the gaussian).
    from_kernel, to_kernel
        Kernel names (see :data:`parsc_geo._kernels.KERNELS`).
    method
        ``"canonical"`` (default): equal asymptotic mean integrated squared error, scaling by the
        canonical bandwidths ``δ = (R(K)/μ₂²)^(1/6)`` of Marron & Nolan (1988);
        ``"variance"``: equal variance of the kernels, ``h₂ = h₁ · sqrt(μ₂(K₁)/μ₂(K₂))``.

    Returns
    -------
    float
        Bandwidth of ``to_kernel`` in metres.

    Notes
    -----
    A quartic search radius r corresponds to a gaussian σ = r / 2.779 (canonical) or r / √8 =
    r / 2.828 (equal variance).

    Examples
    --------
    >>> round(convert_bandwidth(1000.0, "quartic", "gaussian", method="variance"), 1)
    353.6
    >>> round(convert_bandwidth(1000.0, "quartic", "gaussian"), 1)
    359.8
    """
    if method not in CONVERSIONS:
        raise ConfigError(
            f"method debe ser uno de {', '.join(map(repr, CONVERSIONS))}; se recibió {method!r}"
        )
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"bandwidth debe ser un número positivo de metros; se recibió {value!r}")
    k1, k2 = get_kernel(from_kernel), get_kernel(to_kernel)
    if method == "variance":
        return float(value) * math.sqrt(k1.mu2 / k2.mu2)
    return float(value) * k2.canonical / k1.canonical


def _prepare(
    xy: ArrayLike, weights: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pts = np.asarray(xy, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ConfigError(
            f"xy debe ser un arreglo de forma (n, 2); se recibió la forma {pts.shape}"
        )
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(pts),):
        raise ConfigError(
            f"weights debe tener un valor por punto ({len(pts)}); se recibió {w.shape}"
        )
    keep = w > 0
    pts, w = pts[keep], w[keep]
    if len(pts) < 2:
        raise InsufficientDataError(
            "un ancho de banda automático requiere al menos 2 puntos con peso positivo; "
            f"hay {len(pts)}",
            hint="indique el ancho de banda en metros (p. ej. bandwidth=500)",
        )
    return pts, w


def effective_n(weights: ArrayLike) -> float:
    """Return Kish's effective sample size ``(Σw)² / Σw²`` (the count for equal weights)."""
    w = np.asarray(weights, dtype=np.float64)
    return float(w.sum() ** 2 / np.square(w).sum())


def weighted_median(values: ArrayLike, weights: ArrayLike) -> float:
    """Return the weighted median of ``values``.

    When the cumulative weight reaches exactly one half between two values, their mean is
    returned, so that for equal weights the result equals :func:`numpy.median`.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if len(w) and bool((w == w[0]).all()):
        return float(np.median(v))
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half, side="left"))
    if math.isclose(cum[i], half, rel_tol=1e-12) and i + 1 < len(v):
        return float((v[i] + v[i + 1]) / 2.0)
    return float(v[i])


def _no_spread(rule: str) -> InsufficientDataError:
    return InsufficientDataError(
        f"la regla {rule} da un ancho de banda nulo: todos los puntos están en el mismo lugar",
        hint="indique el ancho de banda en metros (p. ej. bandwidth=500)",
    )


def silverman_spatial(xy: ArrayLike, weights: ArrayLike | None = None) -> BandwidthChoice:
    """Return ArcGIS's default search radius (spatial Silverman rule), for the quartic kernel.

    Parameters
    ----------
    xy
        Point coordinates in metres, shape (n, 2).
    weights
        Optional non-negative weights (points with zero weight are ignored).

    Returns
    -------
    BandwidthChoice
        ``0.9 · min(SD, sqrt(1/ln 2) · Dm) · n^(−0.2)`` as a quartic search radius.

    Notes
    -----
    ESRI, *How Kernel Density works* (ArcGIS Pro): SD is the standard distance, Dm the median
    distance to the mean centre, n the number of points (Kish's effective size with weights).
    """
    pts, w = _prepare(xy, weights)
    centre = np.average(pts, axis=0, weights=w)
    d2 = np.square(pts - centre).sum(axis=1)
    sd = math.sqrt(float(np.average(d2, weights=w)))
    dm = weighted_median(np.sqrt(d2), w)
    n = effective_n(w)
    spread = min(sd, math.sqrt(1.0 / math.log(2.0)) * dm)
    value = 0.9 * spread * n**-0.2
    if not value > 0:
        # The median distance is zero when over half the points stack on the mean centre.
        spread = sd
        value = 0.9 * sd * n**-0.2
    if not value > 0:
        raise _no_spread("silverman")
    return BandwidthChoice(
        value,
        "quartic",
        "silverman",
        {"standard_distance_m": sd, "median_distance_m": dm, "n_effective": n},
    )


def scott(xy: ArrayLike, weights: ArrayLike | None = None) -> BandwidthChoice:
    """Return Scott's rule σ for a gaussian kernel in two dimensions.

    Parameters
    ----------
    xy
        Point coordinates in metres, shape (n, 2).
    weights
        Optional non-negative weights.

    Returns
    -------
    BandwidthChoice
        ``σ̄ · n^(−1/6)`` with σ̄ = sqrt((s_x² + s_y²)/2), as a gaussian standard deviation.

    Notes
    -----
    Scott (1992), *Multivariate Density Estimation*, eq. 6.42, ``h_j = σ_j n^(−1/(d+4))``, here
    with a single pooled σ so that the kernel stays radially symmetric.
    """
    pts, w = _prepare(xy, weights)
    var = np.average(np.square(pts - np.average(pts, axis=0, weights=w)), axis=0, weights=w)
    sigma = math.sqrt(float(var.mean()))
    n = effective_n(w)
    value = sigma * n ** (-1.0 / 6.0)
    if not value > 0:
        raise _no_spread("scott")
    return BandwidthChoice(value, "gaussian", "scott", {"pooled_sd_m": sigma, "n_effective": n})


def _lcv_objective(
    excess: NDArray[np.float64], nearest: NDArray[np.float64], w: NDArray[np.float64], sigma: float
) -> float:
    """Weighted mean leave-one-out log-likelihood of a gaussian KDE.

    ``excess`` holds squared distances minus each row's smallest one (``nearest``), with +inf on
    the diagonal (leave one out); the shift keeps exp() from underflowing to zero.
    """
    s2 = 2.0 * sigma * sigma
    sums = np.exp(excess * (-1.0 / s2)) @ w
    total = w.sum()
    loglik = np.log(sums) - nearest / s2 - math.log(math.pi * s2) - np.log(total - w)
    return float(np.dot(w, loglik) / total)


def likelihood_cv(
    xy: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    sample_size: int = LCV_SAMPLE_SIZE,
    seed: int = SEED,
) -> BandwidthChoice:
    """Return the likelihood cross-validation σ of a gaussian kernel.

    Parameters
    ----------
    xy
        Point coordinates in metres, shape (n, 2).
    weights
        Optional non-negative weights.
    sample_size
        Largest number of points used; larger inputs are subsampled at random (seeded) and the
        optimum is rescaled by ``(m_eff / n_eff)^(1/6)``.
    seed
        Seed of the subsample.

    Returns
    -------
    BandwidthChoice
        The σ maximising the leave-one-out log-likelihood, as a gaussian standard deviation.
        ``details["at_boundary"]`` is True when the optimum lies at the edge of the searched
        range (1/30 to 3 times Scott's σ), a sign of heavily stacked or very sparse points.

    Notes
    -----
    Duin (1976); Silverman (1986, § 3.4.4). With duplicated locations (common in police data)
    the likelihood favours small bandwidths; the search range bounds that.
    """
    from scipy.optimize import minimize_scalar
    from scipy.spatial.distance import cdist

    pts, w = _prepare(xy, weights)
    n_all = effective_n(w)
    n_points = len(pts)
    if sample_size < 2:
        raise ConfigError(f"sample_size debe ser al menos 2; se recibió {sample_size}")
    if n_points > sample_size:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(n_points, size=sample_size, replace=False))
        pts, w = pts[idx], w[idx]
    n_sub = effective_n(w)
    reference = scott(pts, w).value
    excess = cdist(pts, pts, "sqeuclidean")
    np.fill_diagonal(excess, np.inf)
    nearest = excess.min(axis=1)
    excess -= nearest[:, None]
    lo, hi = math.log(reference / 30.0), math.log(reference * 3.0)
    grid = np.linspace(lo, hi, 21)
    scores = np.array([_lcv_objective(excess, nearest, w, math.exp(g)) for g in grid])
    best = int(np.argmax(scores))
    at_boundary = best in (0, len(grid) - 1)
    log_sigma = float(grid[best])
    if not at_boundary:
        step = grid[1] - grid[0]
        result = minimize_scalar(
            lambda g: -_lcv_objective(excess, nearest, w, math.exp(g)),
            bounds=(log_sigma - step, log_sigma + step),
            method="bounded",
            options={"xatol": 1e-3},
        )
        if -float(result.fun) >= scores[best]:
            log_sigma = float(result.x)
    sigma_sub = math.exp(log_sigma)
    value = sigma_sub * (n_sub / n_all) ** (1.0 / 6.0)
    return BandwidthChoice(
        value,
        "gaussian",
        "lcv",
        {
            "subsample_size": len(pts),
            "subsample_seed": seed if n_points > sample_size else None,
            "sigma_subsample_m": sigma_sub,
            "n_effective": n_all,
            "n_effective_subsample": n_sub,
            "at_boundary": at_boundary,
            "log_likelihood": float(scores[best]),
        },
    )


def select_bandwidth(
    xy: ArrayLike,
    rule: str,
    kernel: str,
    weights: ArrayLike | None = None,
    *,
    seed: int = SEED,
) -> BandwidthChoice:
    """Choose a bandwidth by ``rule`` and express it in the convention of ``kernel``.

    Parameters
    ----------
    xy
        Point coordinates in metres, shape (n, 2).
    rule
        ``"silverman"``/``"arcgis"``, ``"scott"`` or ``"lcv"``/``"likelihood_cv"``.
    kernel
        Kernel the bandwidth is for.
    weights
        Optional non-negative weights.
    seed
        Seed of the likelihood cross-validation subsample.

    Returns
    -------
    BandwidthChoice
        ``value`` in metres for ``kernel``; ``details`` records the rule's own value and kernel.
    """
    key = str(rule).strip().lower()
    if key not in RULES:
        raise ConfigError(
            f"bandwidth debe ser un número de metros o uno de {', '.join(map(repr, RULES))}; "
            f"se recibió {rule!r}",
            hint="silverman es el valor por defecto de ArcGIS",
        )
    name = get_kernel(kernel).name
    canonical_rule = RULES[key]
    if canonical_rule == "silverman":
        choice = silverman_spatial(xy, weights)
    elif canonical_rule == "scott":
        choice = scott(xy, weights)
    else:
        choice = likelihood_cv(xy, weights, seed=seed)
    value = convert_bandwidth(choice.value, choice.kernel, name, method="canonical")
    details = dict(choice.details)
    details.update({"rule_value_m": choice.value, "rule_kernel": choice.kernel})
    if choice.kernel != name:
        details["conversion"] = "canonical"
    return BandwidthChoice(value, name, canonical_rule, details)
