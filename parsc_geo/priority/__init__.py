"""Priority territories per fenómeno (the plan's section 2.8), regenerated from data.

:mod:`~parsc_geo.priority.counts` reads count tables (SIDPOL, any UBIGEO × category × count
table) and aggregates incident points; :mod:`~parsc_geo.priority.period` chooses the months;
:mod:`~parsc_geo.priority.rates` computes crude and Empirical-Bayes rates;
:mod:`~parsc_geo.priority.levels` turns indicators into "ALTA PRIORIDAD" / "PRIORIDAD";
:mod:`~parsc_geo.priority.coverage` decides which units the inputs cover;
:mod:`~parsc_geo.priority.stability` how stable a level is and what a table publishes;
:mod:`~parsc_geo.priority.explain` says why a unit sits where it does;
:mod:`~parsc_geo.priority.territories` puts them together (:func:`compute_priority`);
:mod:`~parsc_geo.priority.tables`, :mod:`~parsc_geo.priority.maps` and
:mod:`~parsc_geo.priority.outputs` write the plan's table, the detail, maps and run.json.
"""

from .levels import (
    LEVEL_ALTA,
    LEVEL_NONE,
    LEVEL_PRIORIDAD,
    PriorityRule,
    assign_levels,
    levels_array,
)
from .outputs import write_priority_outputs
from .period import DEFAULT_PERIOD_MONTHS, Period
from .rates import RATE_PER, empirical_bayes, percent_change
from .territories import (
    DEFAULT_FENOMENOS,
    DEFAULT_N_BOOT,
    DETAIL_COLUMNS,
    TERRITORIAL_LEVELS,
    PriorityResult,
    bootstrap_stability,
    compute_priority,
    plan_table,
    top_districts,
)

__all__ = [
    "DEFAULT_FENOMENOS",
    "DEFAULT_N_BOOT",
    "DEFAULT_PERIOD_MONTHS",
    "DETAIL_COLUMNS",
    "LEVEL_ALTA",
    "LEVEL_NONE",
    "LEVEL_PRIORIDAD",
    "RATE_PER",
    "TERRITORIAL_LEVELS",
    "Period",
    "PriorityResult",
    "PriorityRule",
    "assign_levels",
    "bootstrap_stability",
    "compute_priority",
    "empirical_bayes",
    "levels_array",
    "percent_change",
    "plan_table",
    "top_districts",
    "write_priority_outputs",
]
