"""Crime rates per inhabitants and their Empirical-Bayes smoothing.

Rates of small populations are noisy: three robberies in a district of 2,000 inhabitants give a
rate of 150 per 100,000, above a city with hundreds of robberies. Empirical-Bayes smoothing pulls
each raw rate toward the regional rate in proportion to how little information its population
carries, so that units are compared on signal rather than on noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._errors import InputDataError

#: The plan's baseline unit: rates are expressed per 100,000 inhabitants.
RATE_PER = 100_000

FloatArray = npt.NDArray[np.float64]


def _as_arrays(events: npt.ArrayLike, population: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    e = np.asarray(events, dtype=float).reshape(-1)
    b = np.asarray(population, dtype=float).reshape(-1)
    if e.shape != b.shape:
        raise InputDataError(
            f"eventos y población difieren en longitud ({e.size} frente a {b.size})",
            hint="indique un conteo y una población por unidad territorial",
        )
    if np.any(~np.isfinite(e)) or np.any(e < 0):
        raise InputDataError(
            "los conteos de eventos deben ser finitos y no negativos; se recibió "
            f"{e[~(np.isfinite(e) & (e >= 0))][:5]}"
        )
    bad = ~np.isfinite(b) | (b <= 0)
    if np.any(bad):
        raise InputDataError(
            f"la población debe ser positiva en cada unidad; {int(bad.sum())} unidad(es) tienen "
            f"{b[bad][:5].tolist()}",
            hint="compruebe que cada UBIGEO tenga población en la tabla INEI incluida",
        )
    return e, b


def crude_rate(
    events: npt.ArrayLike, population: npt.ArrayLike, *, per: float = RATE_PER
) -> FloatArray:
    """Return events per ``per`` inhabitants (the crude rate).

    Parameters
    ----------
    events
        Number of incidents in each unit.
    population
        Population at risk in each unit (positive).
    per
        Multiplier; the plan's baseline is per 100,000 inhabitants.

    Returns
    -------
    numpy.ndarray
        ``events / population * per``.
    """
    e, b = _as_arrays(events, population)
    return e / b * per


@dataclass(frozen=True)
class EBEstimate:
    """Result of global Empirical-Bayes smoothing.

    Attributes
    ----------
    rate
        Smoothed rates, per ``per`` inhabitants.
    raw_rate
        Crude rates, per ``per`` inhabitants.
    weight
        Shrinkage weight of each unit's own rate (0 = the regional rate, 1 = its own rate).
    prior_mean
        Regional rate (Σ events / Σ population), per ``per`` inhabitants.
    prior_variance
        Method-of-moments variance of the true rates (per inhabitant², before truncation at 0).
    per
        The multiplier of every rate.
    """

    rate: FloatArray
    raw_rate: FloatArray
    weight: FloatArray
    prior_mean: float
    prior_variance: float
    per: float


def empirical_bayes(
    events: npt.ArrayLike, population: npt.ArrayLike, *, per: float = RATE_PER
) -> EBEstimate:
    r"""Smooth rates toward the regional rate with global (aspatial) Empirical Bayes.

    Parameters
    ----------
    events
        Number of incidents in each unit.
    population
        Population at risk in each unit (positive).
    per
        Multiplier of the returned rates (100,000 by default).

    Returns
    -------
    EBEstimate
        Smoothed and crude rates, shrinkage weights and the prior's moments.

    Notes
    -----
    Marshall's (1991) method-of-moments estimator, as in PySAL's
    ``esda.smoothing.Empirical_Bayes``. With events :math:`e_i`, populations :math:`b_i`,
    crude rates :math:`r_i = e_i / b_i`, regional rate :math:`m = \sum e_i / \sum b_i` and
    mean population :math:`\bar b`:

    .. math::

        s^2 = \frac{\sum b_i (r_i - m)^2}{\sum b_i} - \frac{m}{\bar b}, \qquad
        w_i = \frac{s^2}{s^2 + m / b_i}, \qquad
        \hat r_i = w_i r_i + (1 - w_i) m .

    When the rates vary less than Poisson noise alone would make them vary, :math:`s^2` is
    negative; it is then set to 0 (Marshall 1991; Bailey & Gatrell 1995, p. 305), so every
    unit receives the regional rate, whereas PySAL leaves it negative (weights outside [0, 1]).
    With no events at all, every smoothed rate is 0.

    References
    ----------
    Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
    estimators. *Journal of the Royal Statistical Society C* 40(2), 283–294.
    Bailey, T. C. & Gatrell, A. C. (1995). *Interactive Spatial Data Analysis*. Longman.
    """
    e, b = _as_arrays(events, population)
    if e.size == 0:
        empty = np.zeros(0)
        return EBEstimate(empty, empty, empty, float("nan"), float("nan"), per)
    raw = e / b
    mean = e.sum() / b.sum()
    variance = float((b * (raw - mean) ** 2).sum() / b.sum() - mean / b.mean())
    if mean == 0:
        weight = np.ones_like(raw)
    else:
        s2 = max(variance, 0.0)
        weight = s2 / (s2 + mean / b)
    smoothed = weight * raw + (1.0 - weight) * mean
    return EBEstimate(
        rate=smoothed * per,
        raw_rate=raw * per,
        weight=weight,
        prior_mean=float(mean * per),
        prior_variance=variance,
        per=per,
    )


def percent_change(current: npt.ArrayLike, previous: npt.ArrayLike) -> FloatArray:
    """Return the change from ``previous`` to ``current`` in percent (NaN where previous is 0).

    Parameters
    ----------
    current, previous
        Counts (or rates) of the current and of the previous period.

    Returns
    -------
    numpy.ndarray
        ``(current - previous) / previous * 100``; NaN where ``previous`` is 0 or missing.
    """
    c, p = np.broadcast_arrays(np.asarray(current, dtype=float), np.asarray(previous, dtype=float))
    out = np.full(c.shape, np.nan)
    ok = np.isfinite(p) & (p != 0) & np.isfinite(c)
    np.divide(c - p, p, out=out, where=ok)
    out[ok] *= 100.0
    return out
