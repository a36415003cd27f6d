"""The reasons behind a priority table, in words a committee member reads.

Every published table shows the crude rate first, then the smoothed rate, and says in one
sentence what smoothing does (:data:`SMOOTHING_SENTENCE`). Where the table orders two units
against their crude rates — a province with 20.4 homicides per 100,000 below one with 7.5 —
the unit's observation says why (:func:`observations`): fewer complaints (the rule weighs the
load of work as well as the risk), a smoothed rate below the other's (few complaints make a
crude rate unreliable), or the minimum number of complaints for a level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from .._text import num
from .levels import LEVEL_ALTA, LEVEL_NONE, LEVEL_PRIORIDAD, PriorityRule
from .stability import LEVEL_TEXT, stability_percent

if TYPE_CHECKING:
    import pandas as pd

#: What smoothing does, in one sentence (written beside every table of smoothed rates).
SMOOTHING_SENTENCE: Final = (
    "La tasa suavizada acerca la tasa de cada unidad a la tasa regional, tanto más cuanto "
    "menor es su población, porque con pocos habitantes unas pocas denuncias de más o de menos "
    "cambian mucho la tasa; por eso una unidad sin denuncias puede mostrar una tasa suavizada "
    "mayor que cero."
)
#: Relative gap between crude and smoothed rate above which an observation mentions it.
NOTABLE_SMOOTHING: Final = 0.25

_RANK: Final[dict[str, int]] = {LEVEL_ALTA: 0, LEVEL_PRIORIDAD: 1, LEVEL_NONE: 2}


def _pct(share: float) -> str:
    return f"{num(share * 100)} %"


def _below_reason(unit: pd.Series, other: pd.Series, rule: PriorityRule, dropped: bool) -> str:
    reasons = []
    if unit["n"] < other["n"]:
        reasons.append(f"tiene menos denuncias ({num(unit['n'])} frente a {num(other['n'])})")
    if unit["tasa_eb"] < other["tasa_eb"]:
        reasons.append(
            f"su tasa suavizada es menor ({num(unit['tasa_eb'], 1)} frente a "
            f"{num(other['tasa_eb'], 1)})"
        )
    if other["nivel"] == LEVEL_ALTA and unit["n"] < rule.min_count:
        reasons.append(f"con menos de {rule.min_count} denuncias no puede ser ALTA PRIORIDAD")
    if dropped:
        reasons.append(f"con menos de {rule.min_count_prioridad} denuncias no recibe nivel")
    if not reasons:
        reasons.append("la regla la ubica en un grupo más bajo")
    return "; ".join(reasons)


def _above_reason(unit: pd.Series, other: pd.Series) -> str:
    if unit["n"] > other["n"]:
        return f"por su mayor número de denuncias ({num(unit['n'])} frente a {num(other['n'])})"
    if unit["tasa_eb"] > other["tasa_eb"]:
        return (
            f"por su mayor tasa suavizada ({num(unit['tasa_eb'], 1)} frente a "
            f"{num(other['tasa_eb'], 1)})"
        )
    return "por la regla de niveles"


def observations(
    frame: pd.DataFrame, rule: PriorityRule, name_column: str, *, min_stability: float
) -> list[str]:
    """Return one observation per unit: why it sits where it does, in plain Spanish.

    Parameters
    ----------
    frame
        The covered units of one target and level, with ``n``, ``tasa``, ``tasa_eb``,
        ``tasa_regional``, ``nivel_regla``, ``nivel``, ``estabilidad``, ``nivel_alternativo``,
        ``estabilidad_alternativa``, ``incierto`` and ``name_column``.
    rule
        The rule of the levels (its minimum counts are named).
    name_column
        Column with the units' names (``"provincia"`` or ``"distrito"``).
    min_stability
        The stability below which a level is uncertain (named in the observation).

    Returns
    -------
    list of str
        Sentences joined by spaces; empty for a unit with nothing to explain.
    """
    rank = frame["nivel"].map(_RANK).to_numpy()
    rate = frame["tasa"].to_numpy(dtype=float)
    out = []
    for i, (_, unit) in enumerate(frame.iterrows()):
        sentences = []
        if unit["n"] == 0:
            sentences.append(
                f"Sin denuncias en el periodo (tasa 0.0): su tasa suavizada "
                f"({num(unit['tasa_eb'], 1)}) no viene de denuncias, es la tasa regional "
                "hacia la que se acerca una unidad con pocos datos."
            )
        elif abs(unit["tasa"] - unit["tasa_eb"]) > NOTABLE_SMOOTHING * max(
            unit["tasa"], unit["tasa_eb"]
        ):
            sentences.append(
                f"Con {num(unit['n'])} denuncias su tasa ({num(unit['tasa'], 1)}) es poco "
                f"fiable: suavizada hacia la regional ({num(unit['tasa_regional'], 1)}) queda en "
                f"{num(unit['tasa_eb'], 1)}."
            )
        above = np.flatnonzero((rank < rank[i]) & (rate < rate[i]))
        if above.size:
            # the most striking case: the highest level, then the lowest crude rate
            j = int(above[np.lexsort((rate[above], rank[above]))[0]])
            other = frame.iloc[j]
            more = f" y la de otras {above.size - 1} de nivel más alto" if above.size > 1 else ""
            dropped = unit["nivel_regla"] != LEVEL_NONE and unit["nivel"] == LEVEL_NONE
            sentences.append(
                f"Su tasa ({num(unit['tasa'], 1)}) supera la de {other[name_column]} "
                f"({num(other['tasa'], 1)}, {LEVEL_TEXT[other['nivel']]}){more}; queda por debajo "
                f"porque {_below_reason(unit, other, rule, dropped)}."
            )
        below = np.flatnonzero((rank > rank[i]) & (rate > rate[i]))
        if below.size and unit["nivel"] != LEVEL_NONE:
            j = int(below[np.argmax(rate[below])])
            other = frame.iloc[j]
            sentences.append(
                f"Queda por encima de {other[name_column]} (tasa {num(other['tasa'], 1)}, "
                f"{LEVEL_TEXT[other['nivel']]}) {_above_reason(unit, other)}."
            )
        if unit["incierto"]:
            alternative = unit["nivel_alternativo"]
            kept = stability_percent(unit["estabilidad"])
            sentences.append(
                f"Nivel incierto (estabilidad menor que {_pct(min_stability)}): "
                f"{LEVEL_TEXT[unit['nivel']]} en el {kept} % de los remuestreos, "
                f"{LEVEL_TEXT[alternative]} en el {_pct(unit['estabilidad_alternativa'])}."
            )
        out.append(" ".join(sentences))
    return out
