"""The steps shared by the commands and by the run: each exists once, here.

A command (``parsc_geo/cli/<command>.py``) parses its options, calls one or two of these steps
(or a library function) and reports; :func:`parsc_geo.pipeline.run_pipeline` calls the same
steps one after the other. So ``parsc-geo ingest`` and the run import files the same way,
``parsc-geo density``/``hotspots`` and the run read and select incidents the same way, and so on.

Steps
-----
:func:`load_incidents`
    Read incident points (:func:`parsc_geo.io.read_points`) and keep the usable ones
    (:func:`parsc_geo.incidents.select`).
:func:`ingest`, :func:`store`
    Check a sector layer and ingest incident files (validate, quarantine, assign); then add
    them to a workspace. The run pins document dates to the data between the two.
:func:`province_subsets`, :func:`densities_by_province`, :func:`hotspots_by_province`
    The analyses run once per province of the study area.
:func:`count_tables`
    The count tables of the priority analysis: count files plus incidents counted per district.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._text import num

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from .density import DensityRaster
    from .ingest import IngestOptions, IngestResult
    from .parallel import Pending, WorkerPool
    from .partitions import Partition
    from .sectors import SectorReport
    from .workspace import WorkspaceBackend

logger = logging.getLogger(__name__)


# -- incidents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointInput:
    """Where incident points come from: a file, or a workspace (``path`` None)."""

    path: Path | None = None
    workspace: Path | None = None
    lon_col: str | None = None
    lat_col: str | None = None
    input_crs: str = "EPSG:4326"


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents an analysis uses (see :func:`parsc_geo.incidents.select`)."""

    fenomenos: tuple[str, ...] = ()
    period: str | None = None
    area: str | None = None
    include_at_station: bool = False


def load_incidents(source: PointInput, selection: IncidentFilter | None = None) -> gpd.GeoDataFrame:
    """Read incident points and keep the usable ones.

    Parameters
    ----------
    source
        File or workspace to read.
    selection
        The filters; None applies the default rule (incidents stacked on a station left out).

    Returns
    -------
    geopandas.GeoDataFrame
        The selected incidents; ``attrs`` hold ``source``, ``synthetic`` and ``selection``.
    """
    from .incidents import select
    from .io import read_points

    points = read_points(
        source.path,
        workspace=source.workspace,
        lon_col=source.lon_col,
        lat_col=source.lat_col,
        input_crs=source.input_crs,
    )
    chosen = selection or IncidentFilter()
    return select(
        points,
        fenomenos=chosen.fenomenos,
        period=chosen.period,
        area=chosen.area,
        include_at_station=chosen.include_at_station,
    )


def ensure_assigned(
    incidents: gpd.GeoDataFrame, sectors: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Return incidents with district, province, comisaría and sector columns.

    Incidents read from a workspace are already assigned and returned as they are; points read
    from a file are assigned to the bundled INEI districts and police stations of the
    departments that hold them (:func:`parsc_geo.area.locate_area`; the default study area when
    none does), and to ``sectors`` when given (see :func:`parsc_geo.assign.assign_incidents`).
    """
    from .area import locate_area
    from .assign import assign_incidents
    from .schema import ASSIGNMENT_COLUMNS

    if all(c in incidents.columns for c in ASSIGNMENT_COLUMNS):
        return incidents
    # a file's points are assigned in the study area they lie in (announced), else the default
    area = incidents.attrs.get("study_area") or locate_area(incidents)
    assigned = assign_incidents(incidents, sectors=sectors, area=area)
    assigned.attrs = {**incidents.attrs, **assigned.attrs}
    return assigned


def check_mappable(incidents: gpd.GeoDataFrame, sectors: gpd.GeoDataFrame | None) -> int:
    """Refuse to draw an atlas with no map in it; return the incidents no map will show.

    The atlas draws one map per province of the bundled boundaries holding incidents and one
    per comisaría of the sector layer. Incidents that lie outside every province (another
    country, a study area the boundaries do not cover) and no sector layer would give an
    atlas with no map, reported as a success: this is an input error instead.

    Parameters
    ----------
    incidents
        Assigned incidents (:func:`ensure_assigned`).
    sectors
        The sector layer, or None.

    Returns
    -------
    int
        Incidents outside every province (announced; they appear only on comisaría maps).

    Raises
    ------
    InputDataError
        No incident to draw, or none in a province and no sector layer.
    """
    from ._errors import InputDataError
    from ._text import fold
    from .area import area_of

    if not len(incidents):
        raise InputDataError(
            "no hay incidentes que dibujar",
            hint="revise los filtros (--fenomeno, --period) o importe incidentes",
        )
    # the provinces of the incidents' study area (any department), as the atlas draws them
    provinces = area_of(incidents).provinces()
    names = {fold(p) for p in provinces["provincia"]}
    inside = incidents["provincia"].map(fold).isin(names)
    outside = int((~inside).sum())
    has_sectors = sectors is not None and len(sectors) > 0
    if outside == len(incidents) and not has_sectors:
        raise InputDataError(
            f"ninguno de los {num(len(incidents))} incidentes está en las {len(names)} "
            "provincias que cubren los límites incluidos: no hay ningún mapa que dibujar",
            hint="los mapas se dibujan por provincia de los límites incluidos y por comisaría "
            "de una capa de sectores: importe los sectores del área "
            "('parsc-geo ingest … --sectors SECTORES'), o use 'parsc-geo density' o "
            "'parsc-geo hotspots', que trabajan en cualquier área",
        )
    if outside:
        logger.warning(
            "%s de %s incidentes están fuera de las provincias de los límites incluidos: "
            "solo aparecen en los mapas de comisaría",
            num(outside),
            num(len(incidents)),
        )
    return outside


# -- importing -------------------------------------------------------------------------------


@dataclass
class Ingested:
    """Incident files ingested (validated, quarantined, assigned), not yet stored.

    Attributes
    ----------
    result
        The ingestion result (accepted incidents, quarantine, report, sources).
    sectors
        The sector layer the incidents were assigned to, if any.
    sector_check
        The topology check of a sector layer given with the files (None when the sectors come
        from the workspace or there are none).
    """

    result: IngestResult
    sectors: gpd.GeoDataFrame | None = None
    sector_check: SectorReport | None = None


def read_checked_sectors(path: Path) -> tuple[gpd.GeoDataFrame, SectorReport]:
    """Read a sector layer and check (and repair) its topology."""
    from .sectors import check_sectors, read_sectors

    sectors, check = check_sectors(read_sectors(path))
    logger.debug("Sectores: %s: %s subsectores", path.name, num(len(sectors)))
    return sectors, check


def ingest(
    files: Sequence[Path],
    options: IngestOptions,
    *,
    sectors_path: Path | None = None,
    workspace: WorkspaceBackend | None = None,
    spill: Path | None = None,
) -> Ingested:
    """Read, validate and assign incident files (nothing is written).

    Parameters
    ----------
    files
        Incident files.
    options
        Ingestion settings.
    sectors_path
        A sector layer to check and assign incidents to.
    workspace
        Without ``sectors_path``, the workspace whose sector layer (if any) is used.
    spill
        A folder where the accepted incidents are written as partitions instead of held
        here (see :func:`parsc_geo.ingest.ingest_files`).
    """
    from .ingest import ingest_files

    sectors = None
    check = None
    if sectors_path is not None:
        sectors, check = read_checked_sectors(sectors_path)
    elif workspace is not None and workspace.exists:
        sectors = workspace.read_sectors()
    result = ingest_files(files, options, assign=True, sectors=sectors, spill=spill)
    return Ingested(result, sectors, check)


def store(
    ingested: Ingested, workspace: WorkspaceBackend, *, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Add ingested incidents (and a newly checked sector layer) to ``workspace``.

    Returns
    -------
    dict
        ``path`` of the workspace and the counts of
        :meth:`parsc_geo.workspace.WorkspaceBackend.import_incidents`.
    """
    from .area import combined_record

    result = ingested.result
    # the local clock of the stored times (the study area's time zone)
    zone = {"timezone": result.report["parameters"]["timezone"]}
    recorded = result.accepted.attrs.get("study_area")
    if recorded is not None:
        # the workspace remembers the study area of its incidents
        previous = workspace.metadata().get("study_area") if workspace.exists else None
        metadata = {**(metadata or {}), "study_area": combined_record(previous, recorded)}
    summary = workspace.import_incidents(
        # the partitions holding them when the ingestion wrote them: stored a chunk at a time
        result.accepted if result.parts is None else result.parts,
        result.quarantine,
        sources=result.sources,
        sectors=ingested.sectors if ingested.sector_check is not None else None,
        metadata={**zone, **(metadata or {})},
    )
    return {"path": str(workspace.path), **summary}


# -- analyses per province -------------------------------------------------------------------


def province_subsets(
    incidents: gpd.GeoDataFrame, provinces: pd.DataFrame | None = None
) -> list[tuple[str, gpd.GeoDataFrame]]:
    """Return (province name, its incidents) for every province of the incidents' study area.

    The study area is :func:`parsc_geo.area.area_of` the incidents (recorded, else that of
    their UBIGEO codes, else Cajamarca) unless ``provinces`` (a table with a ``provincia``
    column) is given. The rows are grouped once (not compared with every province in turn)
    and keep their order (see :func:`province_positions`).
    """
    return [(name, incidents.iloc[rows]) for name, rows in province_positions(incidents, provinces)]


def province_positions(
    incidents: gpd.GeoDataFrame, provinces: pd.DataFrame | None = None
) -> list[tuple[str, np.ndarray]]:
    """Return (province name, positions of its incidents, ascending) as :func:`province_subsets`."""
    import numpy as np

    from .area import area_of

    if provinces is None:
        provinces = area_of(incidents).provinces()
    upper = incidents["provincia"].str.upper()
    groups = {
        str(key): np.sort(rows) for key, rows in upper.groupby(upper, sort=False).indices.items()
    }
    empty = np.zeros(0, dtype=np.intp)
    return [(str(name), groups.get(str(name).upper(), empty)) for name in provinces["provincia"]]


def densities_by_province(
    incidents: gpd.GeoDataFrame,
    *,
    kernel: str,
    bandwidth: float | str | None,
    cell_size: float | None,
    seed: int,
    bandwidth_adjust: float = 1.0,
    workers: WorkerPool | int = 1,
    partitions: Mapping[str, Partition] | None = None,
) -> tuple[dict[str, DensityRaster], dict[str, Any]]:
    """Return a kernel density per province (masked to it) and the parameters of each.

    Provinces with fewer than two usable incidents get no raster; their entry in the
    parameters says why. ``workers`` (a :class:`parsc_geo.parallel.WorkerPool` or a number of
    processes) computes the provinces in parallel; the results do not depend on it.
    ``partitions`` (province → :class:`parsc_geo.partitions.Partition` of its incidents, as
    :func:`province_subsets` cuts them) lets each task read its province itself instead of
    receiving it.
    """
    from .area import area_of
    from .parallel import worker_pool

    provinces = area_of(incidents).provinces().set_index("provincia")
    rasters: dict[str, DensityRaster] = {}
    params: dict[str, Any] = {}
    options = {
        "cell_size": cell_size,
        "bandwidth": bandwidth,
        "bandwidth_adjust": bandwidth_adjust,
        "kernel": kernel,
        "seed": seed,
    }
    subsets: list[tuple[str, Any]] = (
        [(str(name), partitions[str(name)]) for name in provinces.index]
        if partitions is not None
        else province_subsets(incidents)
    )
    tasks = [(name, subset, provinces.loc[[name]], options) for name, subset in subsets]
    with worker_pool(workers) as pool:
        computed = pool.map_largest_first(
            _province_density, tasks, lambda t: len(t[1]), held=lambda t: len(t[1])
        )
    for (name, *_), raster in zip(tasks, computed, strict=True):
        if isinstance(raster, int):
            params[name] = {"omitido": f"{raster} incidentes: muy pocos para una densidad"}
            continue
        rasters[name] = raster
        params[name] = {
            k: v
            for k, v in raster.parameters.items()
            if isinstance(v, str | int | float | bool | None)
        }
    # the serial order: provinces as listed, the omitted ones among them
    order = [str(name) for name in provinces.index]
    return (
        {n: rasters[n] for n in order if n in rasters},
        {n: params[n] for n in order if n in params},
    )


def _province_density(
    task: tuple[str, gpd.GeoDataFrame | Partition, gpd.GeoDataFrame, dict[str, Any]],
) -> DensityRaster | int:
    """Compute one province's density (a task of :func:`densities_by_province`).

    Returns the number of usable incidents instead when there are fewer than two.
    """
    from .density import kernel_density
    from .incidents import select
    from .partitions import materialise

    _, subset, area, options = task
    usable = select(materialise(subset))
    if len(usable) < 2:
        return len(usable)
    return kernel_density(usable, mask=area, quiet=True, **options)


@dataclass
class ProvinceHotspots:
    """Hotspots of several methods found province by province.

    Attributes
    ----------
    hotspots
        Hot areas of every method (for Gi*, its hot zones: contiguous hot cells merged, the
        incidents counted once), ids prefixed by the province slug.
    cold_cells
        Gi* cold cells (mapped, not ranked).
    hot_cells
        Gi* significant hot cells, ``zone_id`` naming their zone (``<province>-<n>``, the
        ``hotspot_id`` of the zone): recorded, neither ranked nor counted as hotspots.
    declined
        Method → {province → reason} where a method found nothing or declined.
    parameters
        Method → {province → parameters of that run}.
    """

    hotspots: gpd.GeoDataFrame
    cold_cells: gpd.GeoDataFrame
    declined: dict[str, dict[str, str]] = field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    hot_cells: gpd.GeoDataFrame | None = None

    def counts(self, methods: Iterable[str]) -> dict[str, int]:
        """Return hotspots per method (Gi*: zones), Gi* hot cells and cold cells, if any."""
        table = self.hotspots
        out = {m: int((table["method"] == m).sum()) if len(table) else 0 for m in methods}
        if self.hot_cells is not None and len(self.hot_cells):
            out["gistar_celdas_calientes"] = len(self.hot_cells)
        if len(self.cold_cells):
            out["gistar_frias"] = len(self.cold_cells)
        return out


def hotspots_by_province(
    incidents: gpd.GeoDataFrame,
    methods: Sequence[str],
    *,
    kernel: str,
    bandwidth: float | str | None,
    cell_size: float | None,
    workers: WorkerPool | int = 1,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    partitions: Mapping[str, Partition] | None = None,
) -> ProvinceHotspots:
    """Run each hotspot method in each province; keep Gi* cold cells apart.

    ``options`` gives each method's own keywords (``{"gistar": {"alpha": 0.01}}``, the run's
    ``[hotspots.<method>]`` tables); they override the shared ones.

    ``workers`` (a :class:`parsc_geo.parallel.WorkerPool` or a number of processes) runs the
    (method, province) pairs in parallel; results are combined in the serial order.
    ``partitions`` (province → :class:`parsc_geo.partitions.Partition` of its incidents, as
    :func:`province_subsets` cuts them) lets each task read its province itself instead of
    receiving it.
    """
    from .parallel import worker_pool

    with worker_pool(workers) as pool:
        return start_hotspots_by_province(
            incidents,
            methods,
            kernel=kernel,
            bandwidth=bandwidth,
            cell_size=cell_size,
            pool=pool,
            options=options,
            partitions=partitions,
        ).results()[0]


def start_hotspots_by_province(
    incidents: gpd.GeoDataFrame,
    methods: Sequence[str],
    *,
    kernel: str,
    bandwidth: float | str | None,
    cell_size: float | None,
    pool: WorkerPool,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    partitions: Mapping[str, Partition] | None = None,
) -> Pending[ProvinceHotspots]:
    """Start :func:`hotspots_by_province`'s tasks in ``pool`` and return at once.

    The result is the only item of the returned :class:`~parsc_geo.parallel.Pending`'s
    results (serially, the tasks run when it is asked for). A run starts them before its
    densities, which this process computes meanwhile.
    """
    from .area import area_of
    from .hotspots._common import method_input
    from .parallel import Pending

    province_table = area_of(incidents).provinces()
    provinces = province_table.set_index("provincia")
    subsets: list[tuple[str, Any]] = (
        [(str(name), partitions[str(name)]) for name in province_table["provincia"]]
        if partitions is not None
        # only the columns the methods read travel to the workers
        else province_subsets(method_input(incidents), province_table)
    )
    tasks = []
    for method in methods:
        for name, subset in subsets:
            kwargs: dict[str, Any] = {"quiet": True}
            if method == "kde":
                kwargs.update(kernel=kernel, cell_size=cell_size, bandwidth=bandwidth)
            if method == "gistar":
                # hot zones (contiguous hot cells) are ranked as hotspots; cold cells are only
                # mapped; hot cells are kept for the record
                kwargs.update(area=provinces.loc[[name]])
            kwargs.update((options or {}).get(method, {}))
            tasks.append((method, name, subset, kwargs))
    started = pool.start_largest_first(
        _province_hotspots,
        tasks,
        lambda t: len(t[2]) * _METHOD_COST.get(t[0], 1.0),
        held=lambda t: len(t[2]),
    )
    return Pending(lambda: [_combine_hotspots(methods, tasks, started.results())])


def _combine_hotspots(
    methods: Sequence[str], tasks: list[tuple[str, str, Any, dict[str, Any]]], results: list[Any]
) -> ProvinceHotspots:
    """Combine :func:`_province_hotspots`' results in the serial order of the tasks."""
    import geopandas as gpd
    import pandas as pd

    from ._text import slug

    frames = []
    cold_frames = []
    params: dict[str, dict[str, Any]] = {}
    declined: dict[str, dict[str, str]] = {}
    hot_cells = []
    for (method, name, *_), (result, cells) in zip(tasks, results, strict=True):
        params.setdefault(method, {})[name] = plain(result.attrs.get("parameters", {}))
        if len(result) == 0:
            declined.setdefault(method, {})[name] = str(
                result.attrs.get("reason_es") or result.attrs.get("reason", "sin hotspots")
            )
        else:
            result = result.copy()
            result["hotspot_id"] = [f"{slug(name)}-{h}" for h in result["hotspot_id"]]
            frames.append(result)
        if cells is not None and len(cells):
            # each cell names its zone by the zone's hotspot id (as ranked and mapped)
            zone_of = (
                dict(zip(result["zone_id"].astype("Int64"), result["hotspot_id"], strict=True))
                if len(result)
                else {}
            )
            cells = cells.copy()
            cells["hotspot_id"] = [f"{slug(name)}-celda-{h}" for h in cells["hotspot_id"]]
            cells["zone_id"] = [
                None if pd.isna(z) else zone_of.get(int(z)) for z in cells["zone_id"]
            ]
            hot = cells["gi_class"].astype(str).str.startswith("caliente").to_numpy()
            cold_frames.append(cells[~hot])
            hot_cells.append(cells[hot])
    for method in methods:
        params.setdefault(method, {})
    empty = gpd.GeoDataFrame({"hotspot_id": []}, geometry=[], crs="EPSG:4326")

    def concat(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
        if not parts:
            return empty
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")

    return ProvinceHotspots(
        concat(frames), concat(cold_frames), declined, params, hot_cells=concat(hot_cells)
    )


#: Relative cost per incident of each hotspot method (to hand out the longest tasks first).
_METHOD_COST: dict[str, float] = {"hdbscan": 6.0, "dbscan": 2.0, "kde": 1.0, "gistar": 1.0}


def _province_hotspots(
    task: tuple[str, str, gpd.GeoDataFrame | Partition, dict[str, Any]],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Run one method in one province (a task of :func:`hotspots_by_province`).

    Returns the hotspots and, for Gi*, its significant cells (the hotspots are its hot zones).
    """
    from .hotspots import run_method
    from .hotspots._common import method_input
    from .hotspots.gistar import gistar_cells_and_zones
    from .partitions import materialise

    method, _, item, kwargs = task
    subset = method_input(materialise(item))
    if method == "gistar":
        cells, zones = gistar_cells_and_zones(subset, cells="significant", **kwargs)
        return zones, cells
    result: gpd.GeoDataFrame = run_method(method, subset, **kwargs)
    return result, None


def plain(value: Any) -> Any:
    """Return ``value`` with only JSON-friendly leaves (others as text), for ``run.json``."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    return str(value)


# -- priority --------------------------------------------------------------------------------


def count_tables(
    count_files: Sequence[Path],
    incidents: gpd.GeoDataFrame | None = None,
    *,
    columns: dict[str, str | None] | None = None,
    partitions: Sequence[Partition] | None = None,
    pool: Any = 1,
) -> list[pd.DataFrame]:
    """Return the count tables of a priority analysis: each count file, then the incidents.

    Parameters
    ----------
    count_files
        SIDPOL open-data CSVs or any UBIGEO × category × count tables.
    incidents
        Incident points, counted per district (assigned to districts first if they are not).
    columns
        Column names of generic count tables (``ubigeo``, ``category``, ``count``, ``year``,
        ``month``).
    partitions
        The incidents as partitions (a distributed run, see
        :func:`parsc_geo.pipeline._from_partitions`), instead of ``incidents``: counted by
        tasks of ``pool`` that each read one (:func:`parsc_geo.priority.counts.
        counts_from_partitions`), into the table ``incidents`` would give.
    pool
        The workers that count ``partitions`` (a :class:`parsc_geo.parallel.WorkerPool`, a
        Dask pool or a number of workers).
    """
    from .priority.counts import counts_from_partitions, counts_from_points, read_counts

    tables = [read_counts(path, **(columns or {})) for path in count_files]
    for path, table in zip(count_files, tables, strict=True):
        logger.info(
            "%s: %s filas de conteo, %s denuncias",
            path.name,
            num(len(table)),
            num(table["n"].sum()),
        )
    if partitions is not None:
        attrs = partitions[0].attrs if partitions else {}
        source = Path(str(attrs.get("source", "workspace"))).name
        table = counts_from_partitions(partitions, source=source, pool=pool)
        logger.debug("%s: %s incidentes", source, num(table["n"].sum()))
        tables.append(table)
    elif incidents is not None:
        source = Path(str(incidents.attrs.get("source", "workspace"))).name
        table = counts_from_points(incidents, source=source)
        logger.debug("%s: %s incidentes", source, num(table["n"].sum()))
        tables.append(table)
    return tables
