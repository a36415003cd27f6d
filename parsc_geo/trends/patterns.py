"""Emerging hot spot patterns: ArcGIS's 17 and sfhotspot's ``hotspot_classify`` categories.

Both classify a cell from its series of bins: hot (significant, z > 0), cold (significant,
z < 0) or neither, and (ArcGIS only) the Mann-Kendall trend of its Gi* z-scores.

ArcGIS's rules ("How Emerging Hot Spot Analysis works", ArcGIS Pro documentation,
pro.arcgis.com/en/pro-app/latest/tool-reference/space-time-pattern-mining/learnmoreemerging.htm),
for a cell with T periods, H hot bins and C cold bins ("90 percent" is H ≥ 0.9·T, tested as
10·H ≥ 9·T so that no rounding can move a cell across it):

=========================  ==================================================================
pattern                    rule (hot; cold is the mirror image, with the trend reversed)
=========================  ==================================================================
New Hot Spot               hot in the final period and never hot before.
Consecutive Hot Spot       a single uninterrupted run of ≥ 2 hot bins ending in the final
                           period, never hot before that run, H < 90 %.
Intensifying Hot Spot      H ≥ 90 %, hot in the final period, significant increasing trend.
Persistent Hot Spot        H ≥ 90 %, no significant trend.
Diminishing Hot Spot       H ≥ 90 %, hot in the final period, significant decreasing trend.
Sporadic Hot Spot          hot in the final period, on-and-off hot before, H < 90 %, never cold.
Oscillating Hot Spot       hot in the final period, cold in some earlier period, H < 90 %.
Historical Hot Spot        not hot in the final period, H ≥ 90 %.
No Pattern Detected        none of the above.
=========================  ==================================================================

The documented definitions overlap at a few points; we resolve them so that every cell gets
exactly one pattern, and say how:

1. The final period decides first: a cell hot in the final period gets a hot pattern, cold
   in the final period a cold pattern (so a cell hot 90 % of the time and cold at the end is
   an *Oscillating Cold Spot*, not a *Historical Hot Spot*).
2. A cold bin in the history makes a hot cell *Oscillating*, even if it was never hot before
   (which alone would make it *New* or *Consecutive*); this is how sfdep and pyehsa read it
   (their *new* requires a single significant bin of either sign).
3. With H ≥ 90 % and the final period not hot, the cell is *Historical* (more specific than
   *Persistent*, whose definition does not mention the final period).
4. A significant trend (Mann-Kendall p ≤ ``trend_alpha``) on a cell hot ≥ 90 % of the time and
   hot at the end makes it *Intensifying* (τ > 0) or *Diminishing* (τ < 0); otherwise
   *Persistent*.

sfhotspot's categories (``hotspot_classify``, documented rules, defaults
``hotspot_prop = 0.1``, ``persistent_prop = 0.8``, ``recent_prop = 0.2``): with the last
``max(1, ⌊recent_prop·T⌋)`` periods as *recent* and the others as *older*, a cell is a
*persistent* hot spot when hot in ≥ ``persistent_prop`` of all periods; else *emerging* when
hot in < ``hotspot_prop`` of the older periods and ≥ ``hotspot_prop`` of the recent ones;
else *former* when hot in ≥ ``hotspot_prop`` of the older periods and < ``hotspot_prop`` of
the recent ones; else *intermittent* when hot in ≥ ``hotspot_prop`` of all periods. Cold
likewise; a cell with both a hot and a cold category is *mixed*. Two details of sfhotspot's
code differ from its documentation and are *not* reproduced: its emerging test compares the
recent proportion with ``recent_prop`` instead of ``hotspot_prop``, and its recent window
takes one period more than it divides by (``ch[, (ncol - recent):ncol]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import ConfigError

SCHEMES: tuple[str, ...] = ("arcgis", "sfhotspot")


@dataclass(frozen=True)
class Pattern:
    """One pattern: its stable key, ArcGIS or sfhotspot name, Spanish name and map colour."""

    key: str
    pattern: str
    patron: str
    color: str
    code: int


#: ArcGIS's 17 patterns in the order of its documentation table (hot codes 1…8, cold −1…−8).
ARCGIS_PATTERNS: tuple[Pattern, ...] = (
    Pattern("no_pattern", "No Pattern Detected", "Sin patrón detectado", "#d9d9d9", 0),
    Pattern("new_hot", "New Hot Spot", "Nuevo punto caliente", "#fdae61", 1),
    Pattern("consecutive_hot", "Consecutive Hot Spot", "Punto caliente consecutivo", "#f46d43", 2),
    Pattern("intensifying_hot", "Intensifying Hot Spot", "Punto caliente en aumento", "#a50026", 3),
    Pattern("persistent_hot", "Persistent Hot Spot", "Punto caliente persistente", "#d73027", 4),
    Pattern(
        "diminishing_hot", "Diminishing Hot Spot", "Punto caliente en disminución", "#f4a582", 5
    ),
    Pattern("sporadic_hot", "Sporadic Hot Spot", "Punto caliente esporádico", "#fee090", 6),
    Pattern("oscillating_hot", "Oscillating Hot Spot", "Punto caliente oscilante", "#c51b7d", 7),
    Pattern("historical_hot", "Historical Hot Spot", "Punto caliente histórico", "#b08f8f", 8),
    Pattern("new_cold", "New Cold Spot", "Nuevo punto frío", "#abd9e9", -1),
    Pattern("consecutive_cold", "Consecutive Cold Spot", "Punto frío consecutivo", "#74add1", -2),
    Pattern("intensifying_cold", "Intensifying Cold Spot", "Punto frío en aumento", "#313695", -3),
    Pattern("persistent_cold", "Persistent Cold Spot", "Punto frío persistente", "#4575b4", -4),
    Pattern(
        "diminishing_cold", "Diminishing Cold Spot", "Punto frío en disminución", "#92c5de", -5
    ),
    Pattern("sporadic_cold", "Sporadic Cold Spot", "Punto frío esporádico", "#e0f3f8", -6),
    Pattern("oscillating_cold", "Oscillating Cold Spot", "Punto frío oscilante", "#762a83", -7),
    Pattern("historical_cold", "Historical Cold Spot", "Punto frío histórico", "#8f99b0", -8),
)

#: sfhotspot's ``hotspot_category`` values, with their English names as sfhotspot writes them.
SFHOTSPOT_PATTERNS: tuple[Pattern, ...] = (
    Pattern("sf_no_pattern", "no pattern", "Sin patrón", "#d9d9d9", 0),
    Pattern("sf_persistent_hot", "persistent hotspot", "Punto caliente persistente", "#d73027", 1),
    Pattern("sf_emerging_hot", "emerging hotspot", "Punto caliente emergente", "#f46d43", 2),
    Pattern("sf_former_hot", "former hotspot", "Antiguo punto caliente", "#b08f8f", 3),
    Pattern(
        "sf_intermittent_hot", "intermittent hotspot", "Punto caliente intermitente", "#fee090", 4
    ),
    Pattern("sf_persistent_cold", "persistent coldspot", "Punto frío persistente", "#4575b4", -1),
    Pattern("sf_emerging_cold", "emerging coldspot", "Punto frío emergente", "#74add1", -2),
    Pattern("sf_former_cold", "former coldspot", "Antiguo punto frío", "#8f99b0", -3),
    Pattern(
        "sf_intermittent_cold", "intermittent coldspot", "Punto frío intermitente", "#e0f3f8", -4
    ),
    Pattern("sf_mixed", "mixed hot/coldspot", "Mixto caliente/frío", "#762a83", 9),
)


def patterns_of(scheme: str) -> tuple[Pattern, ...]:
    """Return the pattern table of ``scheme`` (``"arcgis"`` or ``"sfhotspot"``)."""
    if scheme == "arcgis":
        return ARCGIS_PATTERNS
    if scheme == "sfhotspot":
        return SFHOTSPOT_PATTERNS
    raise ConfigError(f"scheme debe ser 'arcgis' o 'sfhotspot'; se recibió {scheme!r}")


def pattern_table(scheme: str) -> dict[str, Pattern]:
    """Return ``{key: Pattern}`` for ``scheme``."""
    return {p.key: p for p in patterns_of(scheme)}


def _check(z: np.ndarray, significant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(z, dtype=float)
    sig = np.asarray(significant, dtype=bool)
    if z.ndim != 2 or z.shape != sig.shape:
        raise ConfigError(
            f"z y significant deben ser matrices celdas × periodos iguales; {z.shape} y {sig.shape}"
        )
    if z.shape[1] < 1:
        raise ConfigError("se necesita al menos un periodo para clasificar")
    hot = sig & (z > 0)
    cold = sig & (z < 0)
    return hot, cold


def _trailing_run(flags: np.ndarray) -> np.ndarray:
    """Return the length of the run of True values that ends in the last column."""
    return np.asarray(np.cumprod(flags[:, ::-1], axis=1).sum(axis=1))


def classify_arcgis(
    z: np.ndarray,
    significant: np.ndarray,
    trend_tau: np.ndarray,
    trend_p: np.ndarray,
    *,
    trend_alpha: float = 0.05,
) -> np.ndarray:
    """Return each cell's ArcGIS pattern key (see the module docstring for the rules).

    Parameters
    ----------
    z
        Gi* z-scores, shape (cells, periods) in time order.
    significant
        Whether each bin is significant (same shape).
    trend_tau, trend_p
        Mann-Kendall tau and p-value of each cell's z series.
    trend_alpha
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray
        Keys of :data:`ARCGIS_PATTERNS` (object array of length cells).
    """
    hot, cold = _check(z, significant)
    n_periods = hot.shape[1]
    tau = np.asarray(trend_tau, dtype=float)
    trend_sig = np.asarray(trend_p, dtype=float) <= trend_alpha
    out = np.full(hot.shape[0], "no_pattern", dtype=object)
    for side, mine, other, up in (("hot", hot, cold, tau > 0), ("cold", cold, hot, tau < 0)):
        count = mine.sum(axis=1)
        mostly = 10 * count >= 9 * n_periods
        final = mine[:, -1]
        run = _trailing_run(mine)
        other_before = other.any(axis=1)
        down = trend_sig & ~up & (tau != 0)
        rising = trend_sig & up
        rules = (
            (final & mostly & rising, "intensifying"),
            (final & mostly & down, "diminishing"),
            (final & mostly & ~rising & ~down, "persistent"),
            (final & ~mostly & other_before, "oscillating"),
            (final & ~mostly & ~other_before & (count == 1), "new"),
            (final & ~mostly & ~other_before & (count == run) & (run >= 2), "consecutive"),
            (final & ~mostly & ~other_before & (count > run), "sporadic"),
        )
        for mask, name in rules:
            out[mask] = f"{name}_{side}"
    neither = ~hot[:, -1] & ~cold[:, -1]
    for side, mine in (("hot", hot), ("cold", cold)):
        mostly = 10 * mine.sum(axis=1) >= 9 * n_periods
        out[neither & mostly] = f"historical_{side}"
    return out


def classify_sfhotspot(
    z: np.ndarray,
    significant: np.ndarray,
    *,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    recent_prop: float = 0.2,
) -> np.ndarray:
    """Return each cell's sfhotspot category key (see the module docstring for the rules).

    Raises
    ------
    ConfigError
        A proportion is outside (0, 1), or there are too few periods to have both a recent
        and an older period.
    """
    for name, value in (
        ("hotspot_prop", hotspot_prop),
        ("persistent_prop", persistent_prop),
        ("recent_prop", recent_prop),
    ):
        if not 0 < value < 1:
            raise ConfigError(f"{name} debe estar entre 0 y 1; se recibió {value!r}")
    hot, cold = _check(z, significant)
    n_periods = hot.shape[1]
    recent = max(1, int(np.floor(recent_prop * n_periods)))
    if n_periods - recent < 1:
        raise ConfigError(
            f"con {n_periods} periodo(s) no queda ningún periodo anterior a los recientes",
            hint="use periodos más cortos para tener más de uno",
        )
    categories = []
    for side, mine in (("hot", hot), ("cold", cold)):
        share = mine.mean(axis=1)
        recent_share = mine[:, -recent:].mean(axis=1)
        older_share = mine[:, :-recent].mean(axis=1)
        cat = np.full(hot.shape[0], "", dtype=object)
        rules = (
            (share >= hotspot_prop, "intermittent"),
            ((older_share >= hotspot_prop) & (recent_share < hotspot_prop), "former"),
            ((older_share < hotspot_prop) & (recent_share >= hotspot_prop), "emerging"),
            (share >= persistent_prop, "persistent"),
        )
        # Applied from the weakest to the strongest so that the strongest rule wins.
        for mask, name in rules:
            cat[mask] = f"sf_{name}_{side}"
        categories.append(cat)
    hot_cat, cold_cat = categories
    out = np.where(hot_cat != "", hot_cat, cold_cat)
    out[(hot_cat != "") & (cold_cat != "")] = "sf_mixed"
    out[out == ""] = "sf_no_pattern"
    return np.asarray(out, dtype=object)
