"""Workload of blocks and sectors: incidents, harm, night incidents, population, area, distance.

Components (the keys of ``--weights``)
--------------------------------------
``incidents``
    Incidents whose point falls in the block (``denuncias``).
``harm``
    Sum of their harm weights (``dano``, :mod:`parsc_geo.taxonomy`).
``night``
    Incidents with a known time from 18:00 to 05:59 (``denuncias_noche``): the hours of
    darkness all year round at Cajamarca's latitude. Incidents without a time never count.
``population``
    Inhabitants (``poblacion``, :mod:`parsc_geo.districting.population`).
``area``
    Area in km² (``area_km2``).
``distance``
    Travel from the station: area times straight-line distance from the station to the
    block's centroid (``recorrido_km3``, km² · km), so a large or far-away sector weighs more,
    whatever the cell size.

Combining
---------
A workload made of one component is balanced in its own unit. A mixture is the weighted sum of
each component's *share* of the jurisdiction's total, scaled so that the jurisdiction's total
equals its number of incidents (``carga``, in "equivalent incidents"; 100 when it has none). A
component whose jurisdiction total is zero cannot be balanced and its weight goes to the others
(said in the notes); when every component is zero, the area is balanced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np

from .._errors import ConfigError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .blocks import Blocks

#: Year of the population estimate when the incidents have no dates.
DEFAULT_POPULATION_YEAR: Final[int] = 2020

#: Component key → column of the block and sector tables.
COMPONENT_COLUMNS: Final[dict[str, str]] = {
    "incidents": "denuncias",
    "harm": "dano",
    "night": "denuncias_noche",
    "population": "poblacion",
    "area": "area_km2",
    "distance": "recorrido_km3",
}

#: Component key → Spanish name used in messages and on maps.
COMPONENT_NAMES: Final[dict[str, str]] = {
    "incidents": "denuncias",
    "harm": "daño",
    "night": "denuncias de noche",
    "population": "población",
    "area": "área",
    "distance": "recorrido desde la comisaría",
}

#: ``--workload`` presets: component weights.
WORKLOADS: Final[dict[str, dict[str, float]]] = {
    "incidents": {"incidents": 1.0},
    "harm": {"harm": 1.0},
    "mixed": {"harm": 0.4, "incidents": 0.2, "population": 0.2, "area": 0.1, "distance": 0.1},
}

#: First and last-plus-one hour of "night" (18:00–05:59).
NIGHT_START_HOUR: Final[int] = 18
NIGHT_END_HOUR: Final[int] = 6


@dataclass
class Workload:
    """The balanced quantity of each block and how it was made.

    Attributes
    ----------
    values
        Per-block combined workload.
    weights
        Component weights actually used (summing to 1).
    unit
        Spanish unit of ``values`` (``denuncias``, ``daño`` or ``carga (denuncias equivalentes)``).
    notes
        Spanish notes about fallbacks.
    """

    values: np.ndarray
    weights: dict[str, float]
    unit: str
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """Return the Spanish announcement of the weights (``daño 40 %, denuncias 20 % …``)."""
        return ", ".join(
            f"{COMPONENT_NAMES[k]} {round(100 * w):d} %" for k, w in self.weights.items() if w > 0
        )


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``"harm=0.5,population=0.3,area=0.2"`` into component weights.

    Raises
    ------
    ConfigError
        Unknown components, non-numeric or negative weights, or all weights zero.
    """
    weights: dict[str, float] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in COMPONENT_COLUMNS:
            raise ConfigError(
                f"peso de carga no reconocido: {item!r}",
                hint="use componente=peso con componentes "
                + ", ".join(COMPONENT_COLUMNS)
                + " (p. ej. harm=0.6,population=0.4)",
            )
        try:
            weight = float(value)
        except ValueError:
            raise ConfigError(f"el peso de {key} no es un número: {value!r}") from None
        if not weight >= 0 or not np.isfinite(weight):
            raise ConfigError(f"el peso de {key} debe ser ≥ 0; se recibió {value!r}")
        weights[key] = weight
    return check_weights(weights)


def check_weights(weights: dict[str, float]) -> dict[str, float]:
    """Return ``weights`` normalised to sum 1, in component order."""
    unknown = [k for k in weights if k not in COMPONENT_COLUMNS]
    if unknown:
        raise ConfigError(
            f"componente(s) de carga desconocido(s): {', '.join(unknown)}",
            hint="componentes: " + ", ".join(COMPONENT_COLUMNS),
        )
    total = sum(weights.values())
    if not total > 0:
        raise ConfigError("al menos un peso de carga debe ser positivo")
    return {k: weights[k] / total for k in COMPONENT_COLUMNS if weights.get(k, 0) > 0}


def workload_weights(workload: str, weights: dict[str, float] | None = None) -> dict[str, float]:
    """Return the component weights of a ``--workload`` preset, or the given ``weights``."""
    if weights:
        return check_weights(weights)
    if workload not in WORKLOADS:
        raise ConfigError(
            f"--workload debe ser uno de {', '.join(WORKLOADS)}; se recibió {workload!r}"
        )
    return dict(WORKLOADS[workload])


def night_mask(incidents: pd.DataFrame) -> np.ndarray:
    """Return which incidents happened at night (known time from 18:00 to 05:59)."""
    n = len(incidents)
    if "occurred_at" not in incidents.columns or not n:
        return np.zeros(n, dtype=bool)
    import pandas as pd

    when = pd.to_datetime(incidents["occurred_at"], errors="coerce")
    hour = when.dt.hour.to_numpy(dtype=float, na_value=np.nan)
    known = (
        incidents["time_known"].fillna(False).to_numpy(dtype=bool)
        if "time_known" in incidents.columns
        else np.ones(n, dtype=bool)
    )
    night = (hour >= NIGHT_START_HOUR) | (hour < NIGHT_END_HOUR)
    return known & night & np.isfinite(hour)


def incident_xy(incidents: gpd.GeoDataFrame, crs: object) -> tuple[np.ndarray, np.ndarray]:
    """Return the metric coordinates of point incidents (empty geometries dropped as NaN)."""
    import shapely

    pts = incidents.to_crs(crs).geometry.to_numpy()
    xy = np.full((len(pts), 2), np.nan)
    ok = ~(shapely.is_empty(pts) | shapely.is_missing(pts))
    if ok.any():
        xy[ok] = shapely.get_coordinates(pts[ok])
    return xy[:, 0], xy[:, 1]


def block_table(
    blocks: Blocks,
    incidents: gpd.GeoDataFrame,
    *,
    station_xy: tuple[float, float] | None,
    population: np.ndarray | None,
) -> pd.DataFrame:
    """Return the workload components of every block.

    Parameters
    ----------
    blocks
        The blocks (metric CRS).
    incidents
        Point incidents (any CRS) with ``harm`` and optionally ``occurred_at``/``time_known``.
    station_xy
        Station in the blocks' CRS (distance columns are NaN without it).
    population
        Inhabitants per block (zeros when None).

    Returns
    -------
    pandas.DataFrame
        One row per block: the :data:`COMPONENT_COLUMNS` and ``distancia_km``.
    """
    import pandas as pd

    from .blocks import locate

    frame = blocks.frame
    n = len(frame)
    x, y = incident_xy(incidents, frame.crs) if len(incidents) else (np.zeros(0), np.zeros(0))
    where = locate(blocks, x, y)
    inside = where >= 0
    harm = (
        pd.to_numeric(incidents["harm"], errors="coerce").fillna(0.0).to_numpy(float)
        if "harm" in incidents.columns
        else np.ones(len(incidents))
    )
    night = night_mask(incidents)
    area_km2 = frame["area_m2"].to_numpy(float) / 1e6
    if station_xy is None:
        distance = np.full(n, np.nan)
    else:
        distance = np.hypot(frame["x"] - station_xy[0], frame["y"] - station_xy[1]).to_numpy() / 1e3
    table = pd.DataFrame(
        {
            "denuncias": np.bincount(where[inside], minlength=n).astype(float),
            "dano": np.bincount(where[inside], weights=harm[inside], minlength=n),
            "denuncias_noche": np.bincount(where[inside & night], minlength=n).astype(float),
            "poblacion": population if population is not None else np.zeros(n),
            "area_km2": area_km2,
            "recorrido_km3": area_km2 * distance,
            "distancia_km": distance,
        }
    )
    return table


def combine(table: pd.DataFrame, weights: dict[str, float]) -> Workload:
    """Combine block components into the balanced workload (see the module notes)."""
    notes: list[str] = []
    usable: dict[str, float] = {}
    for key, weight in weights.items():
        column = table[COMPONENT_COLUMNS[key]].to_numpy(float)
        if not np.isfinite(column).all() or column.sum() <= 0:
            reason = "sin ubicación de la comisaría" if not np.isfinite(column).all() else "total 0"
            notes.append(f"{COMPONENT_NAMES[key]}: {reason}; su peso pasa a los demás componentes")
            continue
        usable[key] = weight
    if not usable:
        notes.append("ningún componente de la carga tiene valores: se equilibra el área")
        usable = {"area": 1.0}
    total_w = sum(usable.values())
    usable = {k: w / total_w for k, w in usable.items()}
    if len(usable) == 1:
        key = next(iter(usable))
        unit = COMPONENT_NAMES[key] if key != "area" else "km²"
        return Workload(table[COMPONENT_COLUMNS[key]].to_numpy(float), usable, unit, notes)
    incidents = float(table["denuncias"].sum())
    scale = incidents if incidents > 0 else 100.0
    values = np.zeros(len(table))
    for key, weight in usable.items():
        column = table[COMPONENT_COLUMNS[key]].to_numpy(float)
        values += weight * column / column.sum()
    return Workload(values * scale, usable, "carga (denuncias equivalentes)", notes)


def data_year(incidents: pd.DataFrame) -> int:
    """Return the median year of the incidents' dates (2020 when they have none)."""
    import pandas as pd

    if "occurred_at" not in incidents.columns or not len(incidents):
        return DEFAULT_POPULATION_YEAR
    years = pd.to_datetime(incidents["occurred_at"], errors="coerce").dt.year.dropna()
    return int(years.median()) if len(years) else DEFAULT_POPULATION_YEAR


def usable_incidents(
    incidents: gpd.GeoDataFrame, include_at_station: bool
) -> tuple[gpd.GeoDataFrame, int]:
    """Return the incidents to count and how many stacked at a station were left out.

    The one selection rule of every analysis (:func:`parsc_geo.incidents.select`).
    """
    from ..incidents import select

    chosen = select(incidents, include_at_station=include_at_station)
    return chosen, int(chosen.attrs["selection"]["n_excluded_at_station"])
