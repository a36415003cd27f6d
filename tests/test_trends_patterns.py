"""The 17 ArcGIS patterns and sfhotspot's categories, each on a hand-made cell series.

Each series is written as one character per period: ``H`` a significant hot bin (z = +3),
``C`` a significant cold bin (z = −3), ``.`` a bin that is not significant (z = +0.5). The
trend (Mann-Kendall τ and p of the z series) is given with it, so that each case checks the
documented rule alone (ArcGIS Pro, "How Emerging Hot Spot Analysis works").
"""

from __future__ import annotations

import numpy as np
import pytest

from parsc_geo._errors import ConfigError
from parsc_geo.trends.patterns import (
    ARCGIS_PATTERNS,
    SFHOTSPOT_PATTERNS,
    classify_arcgis,
    classify_sfhotspot,
    pattern_table,
)

NO_TREND = (0.05, 0.80)
UP = (0.60, 0.001)
DOWN = (-0.60, 0.001)

# (series, trend (τ, p), expected pattern, why, by the documented rule)
CASES: list[tuple[str, tuple[float, float], str, str]] = [
    ("..........", NO_TREND, "no_pattern", "never significant"),
    (".........H", NO_TREND, "new_hot", "hot at the end, never hot before"),
    ("......HHHH", NO_TREND, "consecutive_hot", "one run of 4 ≥ 2 ending now; 4/10 < 90 %"),
    ("HHHHHHHHHH", UP, "intensifying_hot", "10/10 ≥ 90 %, hot at the end, τ > 0 with p ≤ 0.05"),
    ("HHHHHHHHHH", NO_TREND, "persistent_hot", "10/10 ≥ 90 %, trend p = 0.80 > 0.05"),
    ("HHHHHHHHHH", DOWN, "diminishing_hot", "10/10 ≥ 90 %, hot at the end, τ < 0 with p ≤ 0.05"),
    ("..H...H..H", NO_TREND, "sporadic_hot", "hot at the end, on and off before, 3/10, never cold"),
    ("C....H...H", NO_TREND, "oscillating_hot", "hot at the end, cold in period 1, 2/10 < 90 %"),
    ("HHHHHHHHH.", NO_TREND, "historical_hot", "not hot at the end, 9/10 = 90 % hot"),
    (".........C", NO_TREND, "new_cold", "cold at the end, never cold before"),
    ("......CCCC", NO_TREND, "consecutive_cold", "one run of 4 cold ending now; 4/10 < 90 %"),
    ("CCCCCCCCCC", DOWN, "intensifying_cold", "10/10 cold, τ < 0 (colder) with p ≤ 0.05"),
    ("CCCCCCCCCC", NO_TREND, "persistent_cold", "10/10 cold, no significant trend"),
    ("CCCCCCCCCC", UP, "diminishing_cold", "10/10 cold, τ > 0 (warmer) with p ≤ 0.05"),
    ("..C...C..C", NO_TREND, "sporadic_cold", "cold at the end, on and off before, never hot"),
    ("H....C...C", NO_TREND, "oscillating_cold", "cold at the end, hot in period 1"),
    ("CCCCCCCCC.", NO_TREND, "historical_cold", "not cold at the end, 9/10 = 90 % cold"),
]

# Boundaries and the documented tie-breaks (module docstring of parsc_geo.trends.patterns).
EDGE_CASES: list[tuple[str, tuple[float, float], str, str]] = [
    (".HHHHHHHHH", UP, "intensifying_hot", "9/10 is exactly 90 %: counts as 'for 90 percent'"),
    ("HHHHHHHH.H", NO_TREND, "persistent_hot", "9/10 with a gap is still ≥ 90 %"),
    ("HHHHHHH..H", NO_TREND, "sporadic_hot", "8/10 < 90 %, hot bins before the final run"),
    ("........HH", NO_TREND, "consecutive_hot", "the shortest consecutive run: 2"),
    (".HH......H", NO_TREND, "sporadic_hot", "hot before the final run of 1 → not new"),
    ("C........H", NO_TREND, "oscillating_hot", "tie-break 2: a cold past beats 'new'"),
    ("C.......HH", NO_TREND, "oscillating_hot", "tie-break 2: a cold past beats 'consecutive'"),
    ("HHHHHHHHHC", NO_TREND, "oscillating_cold", "tie-break 1: the final period decides"),
    ("HHHHHHHHH.", DOWN, "historical_hot", "tie-break 3: not hot now → historical"),
    ("HHHHHHHHHH", (0.6, 0.05), "intensifying_hot", "p = 0.05 is significant (p ≤ alpha)"),
    ("HHHHHHHHHH", (0.6, 0.0501), "persistent_hot", "p just above alpha → no trend"),
    ("..H..H....", NO_TREND, "no_pattern", "a past hot spot, < 90 %, not hot now"),
    ("..H..C....", NO_TREND, "no_pattern", "hot and cold in the past, neither now"),
]


def _cube(series: list[str]) -> tuple[np.ndarray, np.ndarray]:
    z = np.array([[{"H": 3.0, "C": -3.0, ".": 0.5}[c] for c in s] for s in series])
    sig = np.array([[c != "." for c in s] for s in series])
    return z, sig


def _classify(cases: list[tuple[str, tuple[float, float], str, str]]) -> np.ndarray:
    z, sig = _cube([c[0] for c in cases])
    tau = np.array([c[1][0] for c in cases])
    p = np.array([c[1][1] for c in cases])
    return classify_arcgis(z, sig, tau, p, trend_alpha=0.05)


def test_each_of_the_17_arcgis_patterns_on_its_own_cell() -> None:
    got = _classify(CASES)
    for (series, _, expected, why), key in zip(CASES, got, strict=True):
        assert key == expected, f"{series}: {why}"
    # The 17 cells of this cube cover every pattern of the table exactly once.
    assert sorted(got) == sorted(p.key for p in ARCGIS_PATTERNS)


@pytest.mark.parametrize(("series", "trend", "expected", "why"), EDGE_CASES)
def test_boundaries_and_tie_breaks(
    series: str, trend: tuple[float, float], expected: str, why: str
) -> None:
    assert _classify([(series, trend, expected, why)])[0] == expected, why


def test_ninety_percent_of_twenty_periods() -> None:
    # 18 of 20 = 90 % (persistent); 17 of 20 = 85 % (sporadic: hot bins before the final run).
    got = _classify(
        [
            ("HH.HHHHHHHHHHHHHH.HH", NO_TREND, "", ""),
            ("HH.HHHHHHHH.HHHHH.HH", NO_TREND, "", ""),
        ]
    )
    assert list(got) == ["persistent_hot", "sporadic_hot"]


def test_mirror_symmetry_hot_and_cold() -> None:
    # Swapping hot and cold and reversing the trend swaps every hot pattern for its cold twin.
    rng = np.random.default_rng(3)
    states = rng.choice(np.array(["H", "C", "."]), size=(400, 12), p=[0.3, 0.2, 0.5])
    series = ["".join(row) for row in states]
    mirrored = [s.replace("H", "x").replace("C", "H").replace("x", "C") for s in series]
    tau = rng.uniform(-1, 1, 400)
    p = rng.uniform(0, 0.2, 400)
    z, sig = _cube(series)
    zm, sigm = _cube(mirrored)
    a = classify_arcgis(z, sig, tau, p)
    b = classify_arcgis(zm, sigm, -tau, p)
    swap = {"hot": "cold", "cold": "hot"}
    expected = [
        k if k == "no_pattern" else k.rsplit("_", 1)[0] + "_" + swap[k.rsplit("_", 1)[1]] for k in a
    ]
    assert list(b) == expected


def test_every_cell_gets_exactly_one_known_pattern() -> None:
    rng = np.random.default_rng(11)
    z = rng.normal(0, 2, (2000, 9))
    sig = np.abs(z) > 1.5
    keys = classify_arcgis(z, sig, rng.uniform(-1, 1, 2000), rng.uniform(0, 1, 2000))
    assert set(keys) <= {p.key for p in ARCGIS_PATTERNS}
    assert len(keys) == 2000


def test_pattern_table_names() -> None:
    table = pattern_table("arcgis")
    assert table["intensifying_hot"].pattern == "Intensifying Hot Spot"
    assert table["intensifying_hot"].patron == "Punto caliente en aumento"
    assert table["no_pattern"].code == 0
    assert {p.code for p in ARCGIS_PATTERNS} == set(range(-8, 9))
    assert len({p.color for p in ARCGIS_PATTERNS}) == 17
    with pytest.raises(ConfigError):
        pattern_table("esri")


# sfhotspot: 10 periods, recent = ⌊0.2·10⌋ = 2 (the last two), older = the first 8.
SF_CASES: list[tuple[str, str, str]] = [
    ("HHHHHHHH..", "sf_persistent_hot", "8/10 = 0.8 ≥ persistent_prop 0.8"),
    ("........H.", "sf_emerging_hot", "older 0/8 < 0.1, recent 1/2 = 0.5 ≥ 0.1"),
    (".H........", "sf_former_hot", "older 1/8 = 0.125 ≥ 0.1, recent 0/2 < 0.1"),
    (".H......H.", "sf_intermittent_hot", "2/10 ≥ 0.1, older 1/8 ≥ 0.1 and recent 1/2 ≥ 0.1"),
    ("CCCCCCCCCC", "sf_persistent_cold", "10/10 ≥ 0.8"),
    ("........CC", "sf_emerging_cold", "older 0/8, recent 2/2"),
    ("C.........", "sf_former_cold", "older 1/8 ≥ 0.1, recent 0/2"),
    ("C.......C.", "sf_intermittent_cold", "2/10, both windows ≥ 0.1"),
    ("H.......C.", "sf_mixed", "former hot and emerging cold at once"),
    ("..........", "sf_no_pattern", "never significant"),
]


def test_each_sfhotspot_category() -> None:
    z, sig = _cube([c[0] for c in SF_CASES])
    got = classify_sfhotspot(z, sig)
    for (series, expected, why), key in zip(SF_CASES, got, strict=True):
        assert key == expected, f"{series}: {why}"
    assert sorted(got) == sorted(p.key for p in SFHOTSPOT_PATTERNS)


def test_sfhotspot_needs_an_older_period() -> None:
    z, sig = _cube(["H"])
    with pytest.raises(ConfigError, match="periodo anterior"):
        classify_sfhotspot(z, sig)
    with pytest.raises(ConfigError, match="recent_prop"):
        classify_sfhotspot(*_cube(["H.H"]), recent_prop=1.5)
