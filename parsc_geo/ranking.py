"""Ranking of hotspots per province, comisaría and sector, with a deterministic tie-break.

Tie-break
---------
Hotspots are ordered by the chosen criterion (``n``, ``harm`` or ``density``), highest first,
then by ``harm``, then ``n``, then ``density`` (each highest first, skipping the criterion
itself), and finally by ``hotspot_id`` in ascending order, which is unique. Missing values
(e.g. the density of a zero-area outline) come last. The same table always gives the same
ranks, whatever the order of its rows.

The published tables (Spanish headers, the 13-province summary) and their writers live in
:mod:`parsc_geo.reports.rankings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import InputDataError
from ._text import fold
from ._validate import check_choice

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: Ranking criteria: incidents, harm-weighted incidents, incidents per km².
RANK_BY: tuple[str, ...] = ("n", "harm", "density")
#: Columns a ranking can be grouped by, coarse to fine.
LEVELS: tuple[str, ...] = ("provincia", "distrito", "comisaria", "sector", "subsector")
#: Columns a ranking can be grouped by: the method (tables mixing methods) and the units.
GROUP_COLUMNS: tuple[str, ...] = ("method", *LEVELS)


def check_hotspot_table(hotspots: pd.DataFrame, by: str, within: tuple[str, ...]) -> None:
    """Raise unless ``hotspots`` can be ranked by ``by`` within ``within`` (unique ids …)."""
    check_choice("by", by, RANK_BY)
    for level in within:
        check_choice("within", level, GROUP_COLUMNS)
    missing = [c for c in ("hotspot_id", "n", "harm", "density", *within) if c not in hotspots]
    if missing:
        raise InputDataError(
            f"a la tabla de hotspots le falta(n) la(s) columna(s) {', '.join(missing)}",
            hint="ordene la salida de una función parsc_geo.hotspots.hotspot_*",
        )
    if not hotspots["hotspot_id"].is_unique:
        dup = hotspots["hotspot_id"][hotspots["hotspot_id"].duplicated()].iloc[0]
        raise InputDataError(
            f"hotspot_id debe ser único; {dup!r} aparece más de una vez",
            hint="ordene la tabla de un solo método a la vez",
        )


def sort_keys(by: str) -> list[str]:
    """Return the descending sort keys for criterion ``by`` (then ``hotspot_id`` ascending)."""
    check_choice("by", by, RANK_BY)
    return [by, *[k for k in ("harm", "n", "density") if k != by]]


def rank_hotspots(
    hotspots: gpd.GeoDataFrame | pd.DataFrame,
    *,
    by: str = "n",
    within: tuple[str, ...] | list[str] | str = ("provincia",),
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Rank hotspots within each unit (province, comisaría, sector…).

    Parameters
    ----------
    hotspots
        A table from a ``hotspot_*`` function.
    by
        ``"n"`` (incidents), ``"harm"`` (harm-weighted) or ``"density"`` (incidents per km²).
    within
        Column(s) defining the groups, e.g. ``("provincia",)``, ``("provincia", "comisaria")``
        or ``("comisaria", "sector")``; ``()`` ranks the whole table. Hotspots whose unit is
        unknown (None) are ranked in a group of their own.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        A copy with ``rank`` (1 = first) after the ``hotspot_id`` column, sorted by the groups
        (None last) and then rank; ``attrs["ranking"]`` records ``by``, ``within`` and the
        tie-break.

    Notes
    -----
    Tie-break: see the module docstring (criterion, harm, n, density — highest first — then
    ``hotspot_id``).
    """
    levels = (within,) if isinstance(within, str) else tuple(within)
    check_hotspot_table(hotspots, by, levels)
    keys = sort_keys(by)
    table = hotspots.copy()
    order_frame = table[[*levels, *keys, "hotspot_id"]].copy()
    sort_columns: list[str] = []
    ascending: list[bool] = []
    for level in levels:
        order_frame[f"_missing_{level}"] = order_frame[level].isna()
        order_frame[f"_key_{level}"] = order_frame[level].map(fold)
        sort_columns += [f"_missing_{level}", f"_key_{level}"]
        ascending += [True, True]
    for key in keys:
        values = order_frame[key].astype(float)
        order_frame[f"_nan_{key}"] = values.isna()
        order_frame[f"_val_{key}"] = values.fillna(0.0)
        sort_columns += [f"_nan_{key}", f"_val_{key}"]
        ascending += [True, False]
    sort_columns.append("hotspot_id")
    ascending.append(True)
    order_frame = order_frame.sort_values(sort_columns, ascending=ascending, kind="stable")
    if levels:
        group_keys = [order_frame[f"_key_{level}"] for level in levels]
        ranks = order_frame.groupby(group_keys, sort=False, dropna=False).cumcount() + 1
    else:
        ranks = np.arange(1, len(order_frame) + 1)
    table = table.loc[order_frame.index]
    position = list(table.columns).index("hotspot_id") + 1
    table.insert(position, "rank", np.asarray(ranks, dtype=np.int64))
    table = table.reset_index(drop=True)
    table.attrs = dict(hotspots.attrs)
    table.attrs["ranking"] = {
        "by": by,
        "within": list(levels),
        "tie_break": [*keys, "hotspot_id"],
    }
    return table


def __getattr__(name: str) -> Any:
    """Serve names that moved elsewhere (writers: :mod:`parsc_geo.reports.rankings`)."""
    from ._compat import moved_name

    return moved_name(__name__, name)
