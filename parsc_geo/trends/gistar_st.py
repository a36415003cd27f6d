"""Space-time Getis-Ord Gi* of every bin of a cube, as ArcGIS's Emerging Hot Spot Analysis.

The neighbourhood of bin (cell i, period t) is every bin (cell j, period t′) with j = i or
j within the neighbourhood distance of i, and t − k ≤ t′ ≤ t: the bin's own period and the k
previous ones. k is ArcGIS's *Neighborhood Time Step* ("the number of time-step intervals to
include in the analysis neighborhood"; its default 1 means the period and the one before, as
Esri's staff explain it). Weights are binary (1 inside, 0 outside), the bin itself included:
the statistic is Gi*. Bins of the first k periods have fewer neighbours in time.

The statistic is Ord & Getis (1995, eq. 14) over all bins of the *global window*:

``Gᵢₜ* = (Σ w yⱼₜ′ − ȳ Wᵢₜ) / (S √((n Wᵢₜ − Wᵢₜ²)/(n − 1)))``

with binary weights (so ``S₁ = W``), where ``ȳ``, ``S`` (population standard deviation) and
``n`` are taken over

- ``"cube"``: every bin of the cube (n = cells × periods; ArcGIS's default *Entire cube*);
- ``"period"``: the bins of period t only (n = cells; ArcGIS's *Individual time step*);
  with k = 0 this is exactly :func:`parsc_geo.hotspots.gistar.gi_star_z` on each period;
- ``"window"``: the bins of periods t − k … t (ArcGIS's *Neighborhood time step*).

With the ``"cube"`` window the result equals :func:`parsc_geo.hotspots.gistar.gi_star_z`
applied to the flattened cube with the block weights of :func:`space_time_weights`; the
fast path here computes the same sums without building that (cells·periods)² matrix: one
sparse product for the spatial sums of every period, then a running sum over k periods.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ConfigError

if TYPE_CHECKING:
    import scipy.sparse as sp

GLOBAL_WINDOWS: tuple[str, ...] = ("cube", "period", "window")


def _window_sum(a: np.ndarray, k: int) -> np.ndarray:
    """Return ``Σ_{l=0..k} a[:, t−l]`` (terms with t − l < 0 left out) along axis 1."""
    c = np.cumsum(a, axis=1)
    out = c.copy()
    if k + 1 < a.shape[1]:
        out[:, k + 1 :] -= c[:, : -(k + 1)]
    return out


def space_time_gistar(
    values: np.ndarray,
    w: sp.spmatrix | sp.sparray,
    *,
    k: int = 1,
    window: str = "cube",
) -> np.ndarray:
    """Return the space-time Gi* z-score of every bin.

    Parameters
    ----------
    values
        Cube of shape (cells, periods): counts or weighted counts.
    w
        cells × cells binary spatial weights between distinct cells (e.g.
        :func:`parsc_geo.grid.distance_band_weights`); the diagonal is ignored.
    k
        Number of previous periods in the neighbourhood (0: the bin's own period only).
    window
        Global window for the mean and variance: ``"cube"``, ``"period"`` or ``"window"``.

    Returns
    -------
    numpy.ndarray
        z-scores, shape (cells, periods); NaN where the variance is zero.
    """
    import scipy.sparse as sp

    y = np.asarray(values, dtype=float)
    if y.ndim != 2:
        raise ConfigError(f"values debe ser una matriz celdas × periodos; forma {y.shape}")
    if k < 0 or int(k) != k:
        raise ConfigError(f"k (periodos previos) debe ser un entero ≥ 0; se recibió {k!r}")
    if window not in GLOBAL_WINDOWS:
        raise ConfigError(
            f"window debe ser uno de {', '.join(GLOBAL_WINDOWS)}; se recibió {window!r}"
        )
    n_cells, n_periods = y.shape
    w = sp.csr_matrix(w, dtype=float)
    if w.shape != (n_cells, n_cells):
        raise ConfigError(f"weights debe ser {n_cells} × {n_cells}; se recibió {w.shape}")
    w.setdiag(0.0)
    w.eliminate_zeros()
    w.data[:] = 1.0
    degree = np.asarray(w.sum(axis=1)).ravel() + 1.0
    spatial = np.asarray(w @ y) + y
    local = _window_sum(spatial, int(k))
    steps = np.minimum(np.arange(n_periods), int(k)) + 1.0
    wi = degree[:, None] * steps[None, :]
    if window == "cube":
        n = float(y.size)
        mean = np.full(n_periods, y.mean())
        s = np.full(n_periods, math.sqrt(max(float((y * y).mean() - y.mean() ** 2), 0.0)))
        n_t = np.full(n_periods, n)
    else:
        span = 0 if window == "period" else int(k)
        sums = _window_sum(y.sum(axis=0, keepdims=True), span).ravel()
        squares = _window_sum((y * y).sum(axis=0, keepdims=True), span).ravel()
        n_t = n_cells * (np.minimum(np.arange(n_periods), span) + 1.0)
        mean = sums / n_t
        s = np.sqrt(np.maximum(squares / n_t - mean**2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = s[None, :] * np.sqrt((n_t[None, :] * wi - wi * wi) / (n_t[None, :] - 1.0))
        z = (local - mean[None, :] * wi) / denominator
    z[~np.isfinite(z)] = np.nan
    return np.asarray(z)


def space_time_weights(w: sp.spmatrix | sp.sparray, n_periods: int, k: int) -> sp.csr_matrix:
    """Return the binary space-time weights between the bins of a flattened cube.

    Bins are ordered period-major (bin index ``t·cells + i``). Bin (i, t) has weight 1 towards
    (j, t′) when j = i or ``w[i, j] ≠ 0``, and t − k ≤ t′ ≤ t, except itself (the diagonal is
    empty: :func:`parsc_geo.hotspots.gistar.gi_star_z` adds the self-weight).

    Notes
    -----
    The matrix is not symmetric (only earlier periods are neighbours). It has about
    (mean degree + 1)·(k + 1)·cells·periods entries, which is why
    :func:`space_time_gistar` never builds it; it is here to state the neighbourhood exactly
    and to check the fast path against the project's Gi*.
    """
    import scipy.sparse as sp

    w = sp.csr_matrix(w, dtype=float)
    w.setdiag(0.0)
    w.eliminate_zeros()
    w.data[:] = 1.0
    n_cells = w.shape[0]
    block = w + sp.identity(n_cells, format="csr")
    shift = sp.csr_matrix((n_periods, n_periods))
    for lag in range(min(int(k), n_periods - 1) + 1):
        shift = shift + sp.eye(n_periods, k=-lag, format="csr")
    st = sp.kron(shift, block, format="csr")
    st.setdiag(0.0)
    st.eliminate_zeros()
    return sp.csr_matrix(st)
