"""The seeded generator of the synthetic "mapa del delito" of the Cajamarca region.

Steps: counts per crime type (:mod:`.mix`), split across districts (:mod:`.allocation`), points
inside each district (:mod:`.places`), dates and hours (:mod:`.profiles`), comisaría, sector and
subsector (:mod:`.jurisdictions` for four real stations, nearest CENACOM station elsewhere), and
a small share of complaints geocoded to the police station itself, as real exports have.

Everything random comes from ``numpy.random.default_rng([seed, k])`` streams, and every output is
sorted with explicit tie-breaks, so one seed always gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ..settings import SEED, STATION_MAX_DISTANCE_M
from .mix import REFERENCE_MONTHS, REFERENCE_START, Period

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: Version of the generator; changes whenever the same seed would give different files.
GENERATOR_VERSION: Final[str] = "1.0.0"

#: Smallest sample the generator makes (the messy export plants 21 problems in it).
MIN_INCIDENTS: Final[int] = 30

#: Share of complaints geocoded to the coordinates of their police station.
STATION_STACK_SHARE: Final[float] = 0.012

#: Columns of the clean incident CSV, in order.
CLEAN_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "fecha",
    "hora",
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "descripcion",
    "latitud",
    "longitud",
    "ubigeo",
    "comisaria",
    "comisaria_id",
    "sector",
    "subsector",
)


@dataclass
class SyntheticSample:
    """A generated sample: clean incidents, sector layer and the parameters that made them.

    Attributes
    ----------
    incidents
        Clean incident table with :data:`CLEAN_COLUMNS` plus ``family`` (place family),
        ``at_station`` (bool) and ``minute`` (minute of the day, -1 when unknown).
    sectors
        Synthetic sector layer (one row per subsector, EPSG:4326).
    parameters
        Seed, period, scale, generator version and the rules used.
    """

    incidents: pd.DataFrame
    sectors: gpd.GeoDataFrame
    parameters: dict[str, Any] = field(default_factory=dict)


def parse_period(start: str, months: int) -> Period:
    """Return the :class:`~parsc_geo.datasets.mix.Period` of ``start`` (``YYYY-MM``) and months.

    Raises
    ------
    ConfigError
        When ``start`` is not ``YYYY-MM`` or ``months`` is not a positive integer.
    """
    from .._errors import ConfigError

    try:
        year_s, month_s = start.split("-")
        year, month = int(year_s), int(month_s)
        if not (1 <= month <= 12 and 1900 < year < 2200):
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"start debe ser un mes con la forma AAAA-MM; se recibió {start!r}",
            hint="por ejemplo 2020-01",
        ) from None
    if not isinstance(months, int) or months < 1 or months > 120:
        raise ConfigError(
            f"months debe ser un entero de 1 a 120; se recibió {months!r}", hint="por ejemplo 10"
        )
    return Period(year, month, months)


def _days(period: Period) -> list[dt.date]:
    first = dt.date.fromisoformat(period.start)
    last = dt.date.fromisoformat(period.end)
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def generate_sample(
    seed: int = SEED,
    *,
    start: str = "2020-01",
    months: int = REFERENCE_MONTHS,
    scale: float = 1.0,
    area: Any = None,
    sector_comisarias: int | None = None,
) -> SyntheticSample:
    """Generate the synthetic sample mapa del delito of a study area (the Cajamarca region).

    Parameters
    ----------
    seed
        Random seed (the bundled sample uses ``settings.SEED``).
    start
        First month, ``YYYY-MM``.
    months
        Number of months. January–October 2020 reproduces the plan's table exactly.
    scale
        Multiplier of the volume (after scaling to the SIDPPOL series for other periods).
    area
        The study area (anything :func:`parsc_geo.area.resolve_area` takes: ``"04"``,
        ``"Arequipa"``, ``"peru"`` …); default Cajamarca. Each of its departments gets the
        plan's mix at its own volume (:mod:`.mix`), split across its districts by the rule of
        :mod:`.allocation`; a province, district or polygon keeps its districts' part.
    sector_comisarias
        Comisarías with synthetic sectors per department (:func:`.jurisdictions.automatic_plans`;
        default 4, and Cajamarca's four hand-made plans in the default area).

    Returns
    -------
    SyntheticSample
        Clean incidents, sector layer and parameters.

    Notes
    -----
    See :mod:`parsc_geo.datasets` for the rules and their sources.
    """
    import pandas as pd

    from ..area import resolve_area
    from . import allocation, jurisdictions, mix, places, profiles

    territory = resolve_area(area, quiet=True)
    bundled = is_bundled_area(territory, sector_comisarias)
    period = parse_period(start, months)
    if bundled:
        counts = mix.crime_counts(period, scale)
        alloc = allocation.allocate(counts, allocation.district_inputs())
    else:
        counts, alloc = _area_counts(territory, period, scale)
    total = int(alloc["n"].sum()) if len(alloc) else 0
    if total < MIN_INCIDENTS:
        from .._errors import ConfigError

        raise ConfigError(
            f"scale {scale!r} en {period.months} mes(es) da solo {total} "
            f"incidentes; se necesitan al menos {MIN_INCIDENTS}",
            hint="use un --scale mayor o más --months",
        )
    crs = territory.metric_crs
    layouts = places.build_layouts(seed, prefix=territory.prefixes, metric_crs=crs)
    stations = territory.stations()
    if bundled:
        sectors = jurisdictions.build_sectors(layouts, seed)
    else:
        plans = jurisdictions.automatic_plans(
            layouts,
            territory.department_codes(),
            per_department=(
                jurisdictions.PER_DEPARTMENT if sector_comisarias is None else sector_comisarias
            ),
            stations=stations,
        )
        sectors = jurisdictions.build_sectors(layouts, seed, plans=plans, stations=stations)
    days = _days(period)

    behaviours = [
        profiles.behaviour(str(g), str(e), str(m))
        for g, e, m in zip(
            counts["delito_generico"], counts["delito_especifico"], counts["modalidad"], strict=True
        )
    ]
    alloc = alloc.assign(family=[behaviours[i].family for i in alloc["type_index"]])

    # Places: one draw per (district, family), then dealt to the types in plan order.
    rng_place = np.random.default_rng([seed, 202])
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    place_names: list[np.ndarray] = []
    type_index: list[np.ndarray] = []
    ubigeos: list[np.ndarray] = []
    for (ubigeo, family), grp in alloc.groupby(["ubigeo", "family"], sort=True):
        grp = grp.sort_values("type_index", kind="stable")
        n = int(grp["n"].sum())
        ll, names = places.place_points(rng_place, layouts[str(ubigeo)], str(family), n)
        lon.append(ll[:, 0])
        lat.append(ll[:, 1])
        place_names.append(names)
        type_index.append(np.repeat(grp["type_index"].to_numpy(), grp["n"].to_numpy()))
        ubigeos.append(np.full(n, ubigeo, dtype=object))
    df = pd.DataFrame(
        {
            "type_index": np.concatenate(type_index),
            "ubigeo": np.concatenate(ubigeos),
            "lon": np.concatenate(lon),
            "lat": np.concatenate(lat),
            "lugar": np.concatenate(place_names),
        }
    )
    df = df.sort_values(["type_index", "ubigeo"], kind="stable").reset_index(drop=True)

    # Times: per crime type, from its profile.
    rng_time = np.random.default_rng([seed, 303])
    day_idx = np.empty(len(df), dtype=np.int64)
    minute = np.empty(len(df), dtype=np.int64)
    for i, grp_idx in df.groupby("type_index", sort=True).indices.items():
        prof = profiles.PROFILES[behaviours[int(str(i))].profile]
        d, mnt, known = profiles.sample_times(rng_time, len(grp_idx), days, prof)
        day_idx[grp_idx] = d
        minute[grp_idx] = np.where(known, mnt, -1)
    df["day"] = day_idx
    df["minute"] = minute

    ti = df["type_index"].to_numpy()
    df["delito_generico"] = counts["delito_generico"].to_numpy()[ti]
    df["delito_especifico"] = counts["delito_especifico"].to_numpy()[ti]
    df["modalidad"] = counts["modalidad"].to_numpy()[ti]
    df["family"] = [behaviours[int(i)].family for i in ti]

    df = _assign_stations(df, sectors, layouts, seed, stations=stations, metric_crs=crs)

    rng_text = np.random.default_rng([seed, 404])
    descr = np.empty(len(df), dtype=object)
    for family, idx in df.groupby("family", sort=True).indices.items():
        descr[idx] = profiles.descriptions(rng_text, str(family), df["lugar"].to_numpy()[idx])
    df["descripcion"] = descr

    _separate_repeats(df)
    df = df.sort_values(
        ["day", "minute", "ubigeo", "type_index", "lat", "lon"], kind="stable"
    ).reset_index(drop=True)
    df["id"] = [f"SINT-{k + 1:06d}" for k in range(len(df))]
    df["fecha"] = [days[int(d)].isoformat() for d in df["day"]]
    df["hora"] = [f"{m // 60:02d}:{m % 60:02d}" if m >= 0 else "" for m in df["minute"]]
    df["latitud"] = df["lat"].map(lambda v: f"{v:.6f}")
    df["longitud"] = df["lon"].map(lambda v: f"{v:.6f}")
    out = df[[*CLEAN_COLUMNS, "family", "at_station", "minute"]].copy()

    parameters: dict[str, Any] = {
        "synthetic": True,
        "generator": "parsc_geo.datasets",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "period_start": period.start,
        "period_end": period.end,
        "months": period.months,
        "scale": float(scale),
        "sidppol_factor": mix.sidppol_factor(period),
        "reference_period": f"{REFERENCE_START[0]}-{REFERENCE_START[1]:02d}"
        f" + {REFERENCE_MONTHS} months",
        "n_incidents": len(out),
        "station_stack_share": STATION_STACK_SHARE,
        "district_rule": (
            "w = 0.5 * population_2017 share (urban; rural for abigeato; total for violencia "
            "familiar and libertad sexual) + 0.5 * RENADEF 2017 faltas share; largest remainder"
        ),
    }
    if not bundled:
        # the bundled Cajamarca sample predates these keys (absent means the default area)
        factors = mix.department_factors()
        parameters["study_area"] = territory.to_dict()
        parameters["department_factors"] = {
            code: round(factors[code], 6) for code in territory.department_codes()
        }
        parameters["department_rule"] = (
            "total of a department = plan total (21,108) x SIDPPOL factor x scale x r_D, "
            "r_D = complaints 2017-2019 of the department / those of Cajamarca "
            f"({mix.DEPARTMENT_COMPLAINTS_FILE})"
        )
        parameters["sector_plans"] = sectors.attrs["parameters"]["plans"]
        parameters["station_max_distance_m"] = STATION_MAX_DISTANCE_M
    return SyntheticSample(incidents=out, sectors=sectors, parameters=parameters)


def is_bundled_area(area: Any, sector_comisarias: int | None = None) -> bool:
    """Return whether a sample of ``area`` is made the bundled way (Cajamarca's own rules).

    The default study area with the default sectors: the plan's table at Cajamarca's volume,
    the four hand-made sector plans and the field-style export. Any other area (or a chosen
    number of comisarías with sectors) follows the rules for any department.
    """
    from ..area import default_area, resolve_area

    return resolve_area(area, quiet=True) == default_area() and sector_comisarias is None


def _area_counts(territory: Any, period: Period, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the crime types and their allocation to the districts of a study area.

    Each department of the area gets :func:`.mix.crime_counts` at its own volume and splits it
    across its districts (:func:`.allocation.allocate`); districts outside the area are dropped.
    """
    import pandas as pd

    from . import allocation, mix

    factors = mix.department_factors()
    counts = mix.crime_counts(period, scale)
    parts = []
    for code in territory.department_codes():
        own = mix.crime_counts(period, scale, factor=factors[code])
        if int(own["n"].sum()) == 0:
            continue
        parts.append(allocation.allocate(own, allocation.district_inputs(prefix=code)))
    if not parts:
        return counts, pd.DataFrame({"type_index": [], "ubigeo": [], "n": [], "quota": []})
    alloc = pd.concat(parts, ignore_index=True)
    if territory.kind not in ("departamento", "pais"):
        alloc = alloc[alloc["ubigeo"].str.startswith(territory.prefixes)]
    return counts, alloc.reset_index(drop=True)


def _keep_clear_of_stations(
    lon: np.ndarray,
    lat: np.ndarray,
    ubigeo: np.ndarray,
    tree: Any,
    layouts: dict[str, Any],
    metric_crs: str,
) -> None:
    """Move points drawn by chance near a station out to ``2 × STATION_STACK_RADIUS_M``.

    Only the deliberately stacked complaints may sit on a station's coordinates; otherwise the
    ingestion's station-stack rule would flag random points.
    """
    import shapely
    from pyproj import Transformer

    from ..settings import STATION_STACK_RADIUS_M

    clear = 2 * STATION_STACK_RADIUS_M
    fwd = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    inv = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)
    x, y = fwd.transform(lon, lat)
    dist, nearest = tree.query(np.column_stack([x, y]), distance_upper_bound=clear)
    for i in np.flatnonzero(np.isfinite(dist)):
        sx, sy = tree.data[nearest[i]]
        dx, dy = x[i] - sx, y[i] - sy
        norm = float(np.hypot(dx, dy)) or 1.0
        if norm == 1.0 and dx == 0 and dy == 0:
            dx, dy = 1.0, 0.0
        nx, ny = sx + dx / norm * clear * 1.01, sy + dy / norm * clear * 1.01
        new_lon, new_lat = (round(float(v), 6) for v in inv.transform(nx, ny))
        if shapely.contains_xy(layouts[str(ubigeo[i])].area_ll, new_lon, new_lat):
            lon[i], lat[i] = new_lon, new_lat


def _separate_repeats(df: pd.DataFrame) -> None:
    """Shift by a minute any complaint that repeats the place, time and type of another.

    The ingestion takes such rows as duplicates (same place to 0.1 m, same known time, same
    modalidad); in the sample they can only arise from complaints stacked on a station.
    """
    for _ in range(20):
        known = df["minute"].to_numpy() >= 0
        key = df.loc[known, ["lat", "lon", "day", "minute", "type_index"]]
        repeats = key.duplicated(keep="first")
        if not repeats.any():
            return
        idx = key.index[repeats.to_numpy()]
        minute = df.loc[idx, "minute"].to_numpy()
        df.loc[idx, "minute"] = np.where(minute < 1439, minute + 1, minute - 1)


def _assign_stations(
    df: pd.DataFrame,
    sectors: gpd.GeoDataFrame,
    layouts: dict[str, Any],
    seed: int,
    *,
    stations: gpd.GeoDataFrame,
    metric_crs: str,
) -> pd.DataFrame:
    """Add comisaría, sector and subsector; stack a few complaints on their station.

    As the ingestion's assignment does (:func:`parsc_geo.assign.assign_incidents`): the
    comisaría of the sector a point falls in, else the nearest of ``stations`` within
    :data:`~parsc_geo.settings.STATION_MAX_DISTANCE_M`, else none.
    """
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from ..settings import STATION_STACK_MIN_COUNT

    fwd = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    st_lon = np.round(stations["longitud"].to_numpy(float), 6)
    st_lat = np.round(stations["latitud"].to_numpy(float), 6)
    # Nearest station from the published (unrounded) coordinates, as the assignment does: two
    # stations 9 m apart in Celendín would otherwise swap for points far from both.
    sx, sy = fwd.transform(
        stations["longitud"].to_numpy(float), stations["latitud"].to_numpy(float)
    )
    tree = cKDTree(np.column_stack([sx, sy]))
    st_index = {sid: k for k, sid in enumerate(stations["id_n"])}

    sector_tree = shapely.STRtree(sectors.geometry.to_numpy())

    def locate(lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        n = len(lon)
        x, y = fwd.transform(lon, lat)
        dist, nearest = tree.query(np.column_stack([x, y]))
        near = dist <= STATION_MAX_DISTANCE_M
        comisaria = np.where(near, stations["nombre_mostrado"].to_numpy()[nearest], "")
        comisaria_id = np.where(near, stations["id_n"].to_numpy()[nearest], "")
        comisaria, comisaria_id = comisaria.astype(object), comisaria_id.astype(object)
        sector = np.full(n, "", dtype=object)
        subsector = np.full(n, "", dtype=object)
        # the first subsector (in layer order) that contains the point
        pi, si = sector_tree.query(shapely.points(lon, lat), predicate="within")
        if len(pi):
            order = np.lexsort((si, pi))
            pi, si = pi[order], si[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            pi, si = pi[first], si[first]
            comisaria[pi] = sectors["comisaria"].to_numpy()[si]
            comisaria_id[pi] = sectors["comisaria_id"].to_numpy()[si]
            sector[pi] = sectors["sector"].to_numpy()[si]
            subsector[pi] = sectors["subsector"].to_numpy()[si]
        return {
            "comisaria": comisaria,
            "comisaria_id": comisaria_id,
            "sector": sector,
            "subsector": subsector,
        }

    lon = df["lon"].to_numpy(float).copy()
    lat = df["lat"].to_numpy(float).copy()
    _keep_clear_of_stations(lon, lat, df["ubigeo"].to_numpy(), tree, layouts, metric_crs)
    loc = locate(lon, lat)

    # A few complaints are geocoded to the station of their comisaría, when that station lies
    # in the same district (the station's own point is then inside the district area).
    rng = np.random.default_rng([seed, 505])
    station_ok = np.array(
        [
            str(stations["ubigeo"].iloc[k]) in layouts
            and bool(
                shapely.contains_xy(
                    layouts[str(stations["ubigeo"].iloc[k])].area_ll, st_lon[k], st_lat[k]
                )
            )
            for k in range(len(stations))
        ]
    )
    k_station = np.array([st_index.get(c, -1) for c in loc["comisaria_id"]], dtype=np.int64)
    has_station = k_station >= 0
    k_station = np.where(has_station, k_station, 0)
    same_district = has_station & (
        stations["ubigeo"].to_numpy()[k_station] == df["ubigeo"].to_numpy()
    )
    stack = (
        (rng.random(len(df)) < STATION_STACK_SHARE)
        & same_district
        & station_ok[k_station]
        & (df["family"].to_numpy() != "rural")
    )
    # The ingestion flags a stack from STATION_STACK_MIN_COUNT points on: keep only those.
    per_station = np.bincount(k_station[stack], minlength=len(stations))
    stack &= per_station[k_station] >= STATION_STACK_MIN_COUNT
    lon[stack] = st_lon[k_station[stack]]
    lat[stack] = st_lat[k_station[stack]]
    if stack.any():
        relocated = locate(lon[stack], lat[stack])
        for key, values in relocated.items():
            loc[key][stack] = values
    out = df.copy()
    out["lon"] = lon
    out["lat"] = lat
    out["at_station"] = stack
    for key, values in loc.items():
        out[key] = values
    return out
