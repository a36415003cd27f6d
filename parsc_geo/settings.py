"""Documented defaults. A ``None`` argument anywhere in parsc-geo means "use the setting here"."""

from __future__ import annotations

#: Geographic CRS of inputs and of published maps.
CRS_GEOGRAPHIC = "EPSG:4326"
#: Metric CRS for analysis in Cajamarca (WGS 84 / UTM zone 17S). Elsewhere in Peru the UTM zone
#: is chosen automatically from the data (see :mod:`parsc_geo.projection`).
CRS_METRIC_CAJAMARCA = "EPSG:32717"
#: Time zone of occurrence times.
TIMEZONE = "America/Lima"
#: Longitude/latitude box of Peru: a study area centred in it uses :data:`TIMEZONE`.
PERU_BOUNDS: tuple[float, float, float, float] = (-81.35, -18.36, -68.65, -0.03)
#: UBIGEO prefix of the default study area (Cajamarca region).
STUDY_AREA_UBIGEO_PREFIX = "06"
#: Language of user-facing output.
LANGUAGE = "es"

#: Default kernel of kernel density estimation (as in ArcGIS and CrimeStat).
KERNEL = "quartic"
#: Smallest automatic cell size in metres: police geocoding is rarely better than this.
MIN_CELL_SIZE_M = 50.0
#: Automatic cell size: the shorter side of the extent divided by this number.
CELL_SIZE_EXTENT_DIVISOR = 250
#: Warn before building grids larger than this number of cells.
MAX_CELLS_WARNING = 4_000_000

#: Distance (m) within which an incident is taken as "stacked" on a police station's coordinates.
STATION_STACK_RADIUS_M = 10.0
#: Minimum number of incidents stacked at one station point before they are flagged.
STATION_STACK_MIN_COUNT = 3
#: Farthest police unit (m) an incident is assigned to; beyond it the comisaría stays empty.
#: 98.4 % of Peru's 94,922 populated places have a CENACOM 2017 unit within 50 km (median
#: 9.3 km, 99th percentile 56 km); the farthest incident of the bundled Cajamarca sample is
#: 30.3 km from one. See :func:`parsc_geo.assign.assign_incidents`.
STATION_MAX_DISTANCE_M = 50_000.0
#: Maximum distance (m) to the nearest district for points that fall in sliver gaps.
NEAREST_DISTRICT_MAX_M = 2_000.0

#: Tolerance (m²) below which overlaps and gaps between sectors are not reported.
SECTOR_TOPOLOGY_TOLERANCE_M2 = 100.0

#: Grid (m) to which public maps generalise point locations.
PUBLIC_GRID_M = 100.0
#: Decimal places of published coordinates (5 decimals of a degree ≈ 1.1 m).
COORD_DECIMALS = 5

#: Random seed used wherever randomness is involved, unless a seed is given.
SEED = 20210101

#: Banner shown on every output drawn from synthetic data.
SYNTHETIC_BANNER = "DATOS SINTÉTICOS — solo para demostración"
#: Notice on internal (police-use) maps.
INTERNAL_NOTICE = "USO INTERNO — contiene ubicaciones de denuncias"
