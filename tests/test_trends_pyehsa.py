"""The classification against pyehsa (PyPI ``pyehsa`` 0.1.2, a port of R sfdep's rules).

Conventions that can be matched: the same z series, the same significance flags and the same
trend threshold (pyehsa's ``threshold``, used for both the bins and the trend; here 0.05).
pyehsa's Gi* (permutation p-values over geohash cells) cannot be matched, so the comparison
is on the classification step and on the Mann-Kendall test.

Where they agree: every cell that is significant in the final period and never of the other
sign (``HHH.H…`` histories and their cold mirror, except diminishing cold spots) gets the same
pattern. Where they differ
(documented in the README's trends section, each checked below): pyehsa's *sporadic* does not
require the final period (ArcGIS Pro's does), its *persistent* is checked before *historical*
and does not require the final period, its *historical* needs a negative final z rather than
a final period that is not hot, its *consecutive* and *intensifying hot* count significant bins
of either sign (so a cold spot warming significantly is called an intensifying hot spot),
and its *oscillating hot* uses ≤ 90 % where the documentation says < 90 %.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyehsa.ehsa_classification import EhsaClassification
from pyehsa.mann_kendall import MannKendall as PyehsaMannKendall

from parsc_geo.trends.mannkendall import mann_kendall
from parsc_geo.trends.patterns import classify_arcgis

NAMES = {
    "no pattern detected": "no_pattern",
    "oscilating hotspot": "oscillating_hot",
    "oscilating coldspot": "oscillating_cold",
}
for _kind in ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
              "historical"):  # fmt: skip
    NAMES[f"{_kind} hotspot"] = f"{_kind}_hot"
    NAMES[f"{_kind} coldspot"] = f"{_kind}_cold"


def _pyehsa(z: np.ndarray, sig: np.ndarray, tau: float, p: float) -> str:
    return NAMES[EhsaClassification.classify_hotspot(z, sig, tau, p, threshold=0.05)["name"]]


def _random_cells(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    periods = 12
    drift = rng.normal(0, 0.4, (n, 1)) * np.arange(periods)
    z = rng.normal(0, 1.5, (n, periods)) + rng.normal(0, 2, (n, 1)) + drift
    sig = np.abs(z) > 1.96
    return z, sig


def test_mann_kendall_equals_pyehsa() -> None:
    z, _ = _random_cells(200, seed=1)
    ours = mann_kendall(z)
    for i in range(200):
        ref = PyehsaMannKendall.mann_kendall_test(z[i])
        assert ours.s[i] == ref["S"]
        assert ours.tau[i] == pytest.approx(ref["tau"], abs=1e-14)
        assert ours.p[i] == pytest.approx(ref["sl"], abs=1e-14)


def test_same_pattern_when_final_period_is_significant_and_never_of_the_other_sign() -> None:
    # Excluding the diminishing cold spots, which pyehsa calls intensifying hot (see below).
    z, sig = _random_cells(6000, seed=2)
    hot = sig & (z > 0)
    cold = sig & (z < 0)
    mk = mann_kendall(z)
    warming_cold = (10 * cold.sum(axis=1) >= 9 * z.shape[1]) & (mk.tau > 0) & (mk.p <= 0.05)
    matched = (hot[:, -1] & ~cold.any(axis=1)) | (cold[:, -1] & ~hot.any(axis=1) & ~warming_cold)
    z, sig = z[matched], sig[matched]
    assert len(z) > 1000
    mk = mann_kendall(z)
    ours = classify_arcgis(z, sig, mk.tau, mk.p, trend_alpha=0.05)
    theirs = [_pyehsa(z[i], sig[i], mk.tau[i], mk.p[i]) for i in range(len(z))]
    assert list(ours) == theirs
    # The comparison covers all 12 patterns that such histories can have.
    assert len(set(theirs)) >= 10


@pytest.mark.parametrize(
    ("series", "trend", "ours", "pyehsa"),
    [
        # ArcGIS Pro: sporadic is "hot for the final time-step interval"; pyehsa does not ask.
        ("..H...H...", (0.0, 1.0), "no_pattern", "sporadic_hot"),
        # ≥ 90 % hot but not hot now: ArcGIS's historical; pyehsa tests persistent first.
        ("HHHHHHHHH.", (0.0, 1.0), "historical_hot", "persistent_hot"),
        # pyehsa's consecutive counts a run of significant bins of either sign.
        ("HHHHHHHHHC", (0.0, 1.0), "oscillating_cold", "consecutive_cold"),
        # pyehsa's intensifying hot counts significant bins of either sign and is tested
        # before the cold patterns: a warming persistent cold spot comes out "intensifying hot".
        ("CCCCCCCCCC", (0.6, 0.001), "diminishing_cold", "intensifying_hot"),
        # A cold past: ArcGIS's oscillating; pyehsa's run of significant bins → consecutive.
        ("CCHHHHHHHH", (0.6, 0.001), "oscillating_hot", "consecutive_hot"),
    ],
)
def test_documented_differences(
    series: str, trend: tuple[float, float], ours: str, pyehsa: str
) -> None:
    z = np.array([[{"H": 3.0, "C": -3.0, ".": 0.5}[c] for c in series]])
    sig = np.array([[c != "." for c in series]])
    got = classify_arcgis(z, sig, np.array([trend[0]]), np.array([trend[1]]), trend_alpha=0.05)
    assert got[0] == ours
    assert _pyehsa(z[0], sig[0], *trend) == pyehsa
