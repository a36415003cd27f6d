"""The Mann-Kendall trend test, vectorised over the rows of a matrix (one series per cell)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import ConfigError


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall results, one value per series.

    Attributes
    ----------
    s
        Kendall's score ``S = Σᵢ<ⱼ sign(xⱼ − xᵢ)``.
    var_s
        Variance of ``S`` under no trend, corrected for ties.
    z
        Normal score with continuity correction.
    p
        Two-sided p-value (NaN for series with fewer than 3 values or zero variance; such
        series have no trend and ``p`` is reported as 1.0).
    tau
        Kendall's tau-a, ``S / (n(n − 1)/2)`` (as ``pymannkendall``'s ``Tau``).
    """

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray


def mann_kendall(series: np.ndarray) -> MannKendall:
    """Run the Mann-Kendall test on each row of ``series``.

    Parameters
    ----------
    series
        Array of shape (m, n): m series of n values in time order (a 1-D array is one series).
        Values must be finite.

    Returns
    -------
    MannKendall
        Arrays of length m.

    Notes
    -----
    Mann (1945), Kendall (1975); variance with the tie correction of Kendall (1975):

    ``Var(S) = [n(n−1)(2n+5) − Σₖ tₖ(tₖ−1)(2tₖ+5)] / 18``

    where ``tₖ`` are the sizes of the groups of tied values, and
    ``z = (S − sign(S)) / √Var(S)``, ``p = 2 (1 − Φ(|z|))``. Identical to
    ``pymannkendall.original_test`` (Hussain & Mahmud 2019). Ties are exact equalities: Gi*
    z-scores of bins with the same neighbourhood sum and weights are bit-for-bit equal, so
    no tolerance is needed. The score is accumulated over the n(n−1)/2 pairs of periods, each
    pass vectorised over the series, so 100,000 series of 36 periods take about a second.
    """
    from scipy.special import ndtr

    x = np.asarray(series, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ConfigError(f"series debe ser una matriz (series × periodos); forma {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ConfigError("la prueba de Mann-Kendall requiere valores finitos en cada serie")
    m, n = x.shape
    s = np.zeros(m)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    ties = _tie_term(x)
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var_s > 0, (s - np.sign(s)) / np.sqrt(var_s), 0.0)
    p = 2.0 * (1.0 - ndtr(np.abs(z)))
    p = np.where((var_s > 0) & (n >= 3), p, 1.0)
    pairs = n * (n - 1) / 2.0
    tau = s / pairs if pairs > 0 else np.zeros(m)
    return MannKendall(s=s, var_s=var_s, z=z, p=p, tau=tau)


def _tie_term(x: np.ndarray) -> np.ndarray:
    """Return ``Σₖ tₖ(tₖ−1)(2tₖ+5)`` over the groups of equal values of each row."""
    m, n = x.shape
    if n == 0:
        return np.zeros(m)
    ordered = np.sort(x, axis=1)
    new_group = np.ones((m, n), dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(new_group, axis=1) - 1
    key = (np.arange(m)[:, None] * n + group).ravel()
    sizes = np.bincount(key, minlength=m * n).astype(float)
    term = sizes * (sizes - 1) * (2 * sizes + 5)
    return np.asarray(term.reshape(m, n).sum(axis=1))
