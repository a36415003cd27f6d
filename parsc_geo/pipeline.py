"""The whole monthly chain in one reproducible run: raw files → maps, rankings, priorities, patrols.

Stages (:data:`STAGES`): ``ingesta`` (read, validate, quarantine and assign to territory) →
``workspace`` (store in ``workspace.gpkg``) → ``densidad`` and ``hotspots`` per province →
``ranking`` → ``prioridad`` → ``mapas`` → ``patrullaje``. Each stage is a step of
:mod:`parsc_geo.workflow` (the same steps the commands use) applied to a typed
:class:`RunState`. Everything lands in one output folder:

``run.json``
    Inputs with SHA-256 checksums, every parameter (automatic choices included), package
    versions, counts and timings per stage.
``RESUMEN.md``
    What was done and which files to open first.
``workspace.gpkg``
    Accepted incidents, quarantine, sectors, hotspots.
``ingesta/``
    Validation report (``report.json``) and quarantine file.
``densidad/``
    One GeoTIFF per province (incidents per km²).
``hotspots/``
    ``hotspots.gpkg`` (layer ``hotspots``) and rankings per province, comisaría and sector
    (CSV and XLSX), with a summary of the 13 provinces.
``prioridad/``
    Priority territories per fenómeno (plan section 2.8) — see :mod:`parsc_geo.priority`.
``mapas/``
    The HTML atlas (``index.html``).
``patrullaje/``
    Patrol plans per comisaría sector (PDF, PNG, CSV, XLSX, GeoPackage, GeoJSON).

The run is written into a temporary folder beside the output and moved into place only when
every stage succeeded, so a failed (or killed) run leaves the previous outputs untouched. The
output folder keeps ``.parsc-geo-manifest.json``, the list of files parsc-geo wrote: replacing
an output removes only those, never the user's own files, and a non-empty folder that is not a
parsc-geo output is refused (see :mod:`parsc_geo._outdir`). Re-running with the same inputs
rewrites identical files except the time stamps in ``run.json``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import __version__
from ._memory import fewer_collections, frozen_heap, release_memory
from ._messages import announce
from ._outdir import staged_output
from ._provenance import describe_file, package_versions
from ._text import num, slug
from .config import RunConfig
from .labels_es import RANKING_CRITERIA
from .settings import TIMEZONE

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .area import StudyArea
    from .density import DensityRaster
    from .evaluation.accuracy import HistoricalAccuracy
    from .parallel import Pending, WorkerPool
    from .partitions import Partition, Partitioned
    from .workflow import Ingested, ProvinceHotspots
    from .workspace import Workspace, WorkspaceBackend

#: The stages, in order; each names the work it does.
STAGES: tuple[str, ...] = (
    "ingesta",
    "workspace",
    "densidad",
    "hotspots",
    "evaluacion",
    "ranking",
    "tendencias",
    "repeticion",
    "prioridad",
    "mapas",
    "patrullaje",
    "qgis",
)


@dataclass
class RunResult:
    """What a run produced: the output folder, counts, timings and the files to open first."""

    output: Path
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    open_first: list[Path] = field(default_factory=list)
    run_json: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Tally:
    """What a run counts of the incidents its analyses use, added up a chunk at a time."""

    n: int = 0
    with_sector: int = 0
    at_station: int = 0
    nearest_district: int = 0
    far_from_station: int = 0
    provinces: Counter[str] = field(default_factory=Counter)
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None

    @classmethod
    def of(cls, incidents: gpd.GeoDataFrame) -> _Tally:
        """Count a whole table."""
        tally = cls()
        tally.add(incidents)
        return tally

    def add(self, incidents: gpd.GeoDataFrame) -> None:
        """Count the rows of ``incidents`` too (assigned: ``subsector``, ``provincia``…)."""
        from ._text import as_bool

        self.n += len(incidents)
        self.with_sector += int((incidents["subsector"] != "").sum())
        self.at_station += int(as_bool(incidents["at_station"]).sum())
        flags = incidents["flags"]
        self.nearest_district += int(flags.str.contains("nearest_district", regex=False).sum())
        self.far_from_station += int(flags.str.contains("far_from_station", regex=False).sum())
        self.provinces.update(
            {str(k): int(v) for k, v in incidents["provincia"].value_counts().items()}
        )
        when = incidents["occurred_at"].dropna()
        if len(when):
            first, last = when.min(), when.max()
            self.first = first if self.first is None else min(self.first, first)
            self.last = last if self.last is None else max(self.last, last)

    @property
    def period(self) -> tuple[str | None, str | None]:
        """Return the first and last day of the incidents' dates (ISO; None without dates)."""
        if self.first is None or self.last is None:
            return (None, None)
        return (self.first.date().isoformat(), self.last.date().isoformat())

    @property
    def months(self) -> int:
        """Return the calendar months the incidents' dates touch (0 without dates)."""
        from .trends.periods import calendar_months

        if self.first is None or self.last is None:
            return 0
        return calendar_months(self.first, self.last)


@dataclass
class RunState:
    """What the stages of one run hand to each other.

    The first block is given; each later attribute is filled by the stage named in its
    comment and read by the stages after it. ``counts`` and ``parameters`` are the records
    written to ``run.json`` (JSON documents, keyed by stage).
    """

    config: RunConfig
    out: Path
    command: str | None
    started: dt.datetime
    counts: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    # ingesta
    inputs: list[dict[str, Any]] = field(default_factory=list)
    ingested: Ingested | None = None
    period: tuple[str | None, str | None] = (None, None)
    # what the incidents the analyses use count (the workspace stage records it)
    tally: _Tally = field(default_factory=_Tally)
    # workspace
    workspace: Workspace | None = None
    # densidad
    densities: dict[str, DensityRaster] = field(default_factory=dict)
    # hotspots (started by densidad in a parallel run of few incidents)
    hotspots: ProvinceHotspots | None = None
    hotspots_started: Pending[ProvinceHotspots] | None = None
    # evaluacion: the backtest, and its table for the maps' parameters panel (one row per
    # scope, method and coverage; Spanish headers, see HistoricalAccuracy.table)
    accuracy: HistoricalAccuracy | None = None
    accuracy_table: list[dict[str, Any]] = field(default_factory=list)
    evaluation_record: dict[str, Any] = field(default_factory=dict)
    # ranking
    ranked: gpd.GeoDataFrame | None = None
    # hotspots of the maps and of hotspots/hotspots.gpkg: ranked zones and Gi* cold cells
    mapped_hotspots: gpd.GeoDataFrame | None = None
    # prioridad: the priority table (for the QGIS choropleths)
    priority_table: pd.DataFrame | None = None
    # tendencias: every cell of the cube with its pattern and province (cell_series, for the
    # maps' emerging-hotspot layer), the pattern legend, and per province the cells that are
    # new or intensifying hot spots ("Qué cambió este mes")
    trend_cells: gpd.GeoDataFrame | None = None
    trend_legend: pd.DataFrame | None = None
    trend_changes: dict[str, dict[str, int]] = field(default_factory=dict)
    trend_note: str | None = None
    # repeticion: the Knox test (started by ranking in a small parallel run), its band
    # table and its reading in Spanish (or why there is none)
    near_repeat_started: Pending[pd.DataFrame] | None = None
    near_repeat_table: pd.DataFrame | None = None
    near_repeat_text: str | None = None
    # worker processes shared by the stages (see parsc_geo.parallel); 1 works serially
    pool: WorkerPool | int = 1
    # work a stage left running (its name and what to wait for): the pool draws the patrol
    # sheets while this process goes on with the next stages; collected after the last stage,
    # in this order, before RESUMEN.md and run.json
    background: list[tuple[str, Pending[Any]]] = field(default_factory=list)
    # patrullaje's plan, started by ranking (it needs no other stage's result): the pool plans
    # the sectors while this process ranks, finds trends and near repeats
    patrol_plan: Pending[Any] | None = None
    # patrullaje's sheets, started after repeticion (they need its advice) as background
    # tasks of the pool, drawn into drafts_folder: the plan, the sheets' options and them
    patrol_sheets: tuple[Any, dict[str, Any], Pending[Path]] | None = None
    drafts_folder: Path | None = None
    # distributed runs: each province's incidents in a file its tasks read themselves
    # (parsc_geo.partitions), written once by the first stage that fans provinces out
    partitions: dict[str, Partition] | None = None
    # the same, as the incidents' rows in them (atlas pages read their rows from them)
    partitioned: Partitioned | None = None
    partition_folder: Path | None = None
    # the incidents of no province of the study area, as a partition (see _from_partitions)
    other_partitions: list[Partition] | None = None

    # ingesta: the incidents the analyses use when the configuration selects a period or
    # fenómenos (None: every accepted incident); the workspace keeps every accepted one
    selected: gpd.GeoDataFrame | None = None
    # workspace: how many incidents the analyses use and the calendar months their dates
    # touch; and in a distributed run, which holds none (see _split_by_province), their
    # table without rows (columns, types, attrs)
    n_incidents: int = 0
    months: int = 0
    released: gpd.GeoDataFrame | None = None

    @property
    def incidents(self) -> gpd.GeoDataFrame:
        """Return the incidents the analyses use (after ``ingesta``): the selection, or all.

        Raises
        ------
        RuntimeError
            Before ``ingesta``, or in a distributed run: this process holds no incidents
            (the stages work from :func:`_from_partitions`).
        """
        if self.ingested is None:
            raise RuntimeError("the 'ingesta' stage has not run")
        if self.released is not None:
            raise RuntimeError("a distributed run holds no incidents: read the partitions")
        if self.selected is not None:
            return self.selected
        return self.ingested.result.accepted

    @property
    def empty(self) -> gpd.GeoDataFrame:
        """Return the incidents' table without its rows: columns, types and ``attrs``.

        What :func:`parsc_geo.area.area_of` and the functions that read a table's shape
        only need, also when this process holds no incidents.
        """
        if self.released is not None:
            return self.released
        table = self.incidents.iloc[:0]
        table.attrs = dict(self.incidents.attrs)
        return table

    @property
    def sectors(self) -> gpd.GeoDataFrame | None:
        """Return the sector layer of the run (None without one)."""
        return self.ingested.sectors if self.ingested is not None else None

    @property
    def period_end(self) -> str:
        """Return the last day of the data (ISO), the date documents are stamped with."""
        return self.period[1] or "2000-01-01"


class _Progress:
    """Stage progress on stderr: a bar on terminals, else one logged line per stage."""

    def __init__(self, quiet: bool, echo: Callable[[str], None] | None) -> None:
        self.quiet = quiet
        self.echo = echo
        self.bar: Any = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=len(STAGES), desc="parsc-geo", unit="etapa", file=sys.stderr)

    def start(self, stage: str) -> None:
        if self.bar is not None:
            self.bar.set_description(f"parsc-geo: {stage}")

    def done(self, stage: str, seconds: float, detail: str) -> None:
        line = f"  ✓ {stage:<11} {seconds:6.1f} s  {detail}"
        if self.bar is not None:
            self.bar.update(1)
            self.bar.write(line)
        elif self.echo is not None:
            if not self.quiet:
                self.echo(line)
        else:
            announce(logger, line, quiet=self.quiet)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_pipeline(
    config: RunConfig,
    output: str | Path,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    echo: Callable[[str], None] | None = None,
    command: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> RunResult:
    """Run every stage for ``config`` and write the results into ``output``.

    Parameters
    ----------
    config
        The validated configuration (:func:`parsc_geo.config.read_config`).
    output
        Output folder; replaced only when the whole run succeeds.
    overwrite
        Allow replacing an existing, non-empty output folder.
    quiet
        Log the progress lines at DEBUG level (hidden unless asked for), and show no bar.
    echo
        Where progress lines go; by default they are logged (INFO) to ``parsc_geo.pipeline``.
    command
        The command line, recorded in ``run.json``.
    workers
        Processes for the work that splits by province, sector, comisaría or map (None: the
        available cores; 1: everything in this process). The outputs do not depend on it.
    scheduler
        None or ``procesos`` (the local process pool), ``dask`` (a Dask ``LocalCluster`` of
        ``workers`` processes) or the address of a running Dask scheduler (``tcp://host:port``);
        see :func:`parsc_geo.distributed.open_pool`. The outputs do not depend on it.

    Returns
    -------
    RunResult
    """
    from .distributed import open_pool

    output = Path(output)
    progress = _Progress(quiet, echo)
    timings: dict[str, float] = {}
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    clock = time.perf_counter()
    # Looked up when the run starts (not at import), so a stage can be replaced in tests.
    bodies: dict[str, Callable[[RunState], str]] = {
        "ingesta": _stage_ingest,
        "workspace": _stage_workspace,
        "densidad": _stage_density,
        "hotspots": _stage_hotspots,
        "evaluacion": _stage_evaluation,
        "ranking": _stage_ranking,
        "tendencias": _stage_trends,
        "repeticion": _stage_near_repeat,
        "prioridad": _stage_priority,
        "mapas": _stage_maps,
        "patrullaje": _stage_patrol,
        "qgis": _stage_qgis,
    }
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    pinned = False
    pool = open_pool(workers, scheduler)
    state: RunState | None = None
    try:
        # the workers' libraries load in other processes while the first stages run here;
        # started before this process loads GDAL (pyogrio: 0.4 s), the workers are ready
        # sooner (the first tasks are the hotspot methods, handed out by densidad)
        pool.warm_up()
        import pyogrio

        # what survives each stage's release is frozen: collections walk new objects only,
        # and less often (parsc_geo._memory.fewer_collections)
        with (
            fewer_collections(),
            frozen_heap(),
            staged_output(output, overwrite=overwrite) as out,
            _closed_on_failure(pool),
        ):
            state = RunState(
                config=config,
                out=out,
                command=command,
                started=dt.datetime.now(ZoneInfo(TIMEZONE)).replace(second=0, microsecond=0),
                parameters={"config": config.to_dict()},
                pool=pool,
            )
            for name in STAGES:
                progress.start(name)
                t0 = time.perf_counter()
                detail = bodies[name](state)
                if name == "repeticion":
                    # everything the patrol sheets need is known: the pool draws them
                    # whenever it has nothing else to do
                    _start_patrol_sheets(state)
                # what the stage freed goes back to the system before the next one
                release_memory()
                timings[name] = round(time.perf_counter() - t0, 3)
                progress.done(name, timings[name], detail)
                if name == "ingesta":
                    # Documents (GeoPackage, XLSX, PDF) are dated by the data, not the clock:
                    # same input, same bytes (the SOURCE_DATE_EPOCH convention).
                    _pin_document_dates(state.period_end)
                    pinned = True
            for name, pending in state.background:
                t0 = time.perf_counter()
                pending.results()
                # the wait counts for the stage that left the work running
                timings[name] = round(timings[name] + time.perf_counter() - t0, 3)
            timings["total"] = round(time.perf_counter() - clock, 3)
            open_first = _open_first(out)
            (out / "RESUMEN.md").write_text(_summary_markdown(state, open_first), encoding="utf-8")
            run_json = {
                "parsc_geo_version": __version__,
                "generated_at": started,
                "command": command,
                "synthetic": config.synthetic,
                "inputs": state.inputs,
                "parameters": state.parameters,
                "versions": package_versions(),
                "counts": state.counts,
                "evaluacion": state.evaluation_record or None,
                "timings_s": timings,
                "workers": pool.workers,
                "scheduler": pool.scheduler,
                "outputs": sorted(
                    [*(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()), "run.json"]
                ),
            }
            (out / "run.json").write_text(
                json.dumps(run_json, ensure_ascii=False, indent=2, sort_keys=True, default=str)
                + "\n",
                encoding="utf-8",
            )
    finally:
        pool.close()
        progress.close()
        if state is not None:
            for folder in (state.partition_folder, state.drafts_folder):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
        if pinned:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
            if previous_epoch is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous_epoch
    final = output.resolve()
    return RunResult(
        output=final,
        counts=state.counts,
        timings=timings,
        open_first=[final / p for p in open_first],
        run_json=run_json,
    )


@contextlib.contextmanager
def _closed_on_failure(pool: Any) -> Iterator[None]:
    """Close ``pool`` when the block fails, before the run's folder is removed.

    Closing cancels the tasks not handed out and waits for those running: a task left running
    (the priority maps' PDF, a patrol sheet) would write into the removed folder and leave it
    behind.
    """
    try:
        yield
    except BaseException:
        pool.close()
        raise


def _pin_document_dates(day: str) -> None:
    """Date GeoPackages (``last_change``) and documents (``SOURCE_DATE_EPOCH``) by ``day``."""
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{day}T00:00:00Z"})
    epoch = int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)


# -- stages: each calls the steps of parsc_geo.workflow and records what it did -----------------


#: Key of each stage in ``run.json``'s counts.
_STAGE_KEYS = {
    "density": "densidad",
    "hotspots": "hotspots",
    "priority": "prioridad",
    "maps": "mapas",
    "patrol": "patrullaje",
}


def _disabled(state: RunState, stage: str, switch: str) -> str:
    """Record a stage turned off in the configuration and say so."""
    state.counts[_STAGE_KEYS.get(stage, stage)] = {"estado": "desactivada"}
    return f"desactivada en la configuración ({switch})"


def _stage_ingest(state: RunState) -> str:
    from .ingest import IngestOptions
    from .io.writers import write_quarantine, write_report
    from .workflow import ingest

    config, out = state.config, state.out
    folder = out / "ingesta"
    folder.mkdir()
    options = IngestOptions.from_config(
        {"columns": dict(config.columns), **config.ingest},
        utm_zone=config.utm_zone,
        study_area=config.study_area,
        station_max_distance_m=config.station_max_distance,
    )
    # a distributed run's accepted incidents wait on disk and come back a chunk at a time,
    # written into the province partitions its stages read (issue 17): never all held here
    spill = None
    if _distributed(state):
        from .partitions import require_parquet

        require_parquet()
        spill = _partition_folder(state) / "ingesta"
    ingested = ingest(config.incidents, options, sectors_path=config.sectors, spill=spill)
    state.ingested = ingested
    if ingested.sectors is not None and ingested.sector_check is not None:
        sectors, topology = ingested.sectors, ingested.sector_check
        state.counts["sectores"] = {
            "subsectores": len(sectors),
            "comisarias": int(sectors["comisaria"].nunique()),
            "topologia_ok": topology.ok,
            "reparados": len(topology.repaired),
            "solapes": len(topology.overlaps),
            "huecos": len(topology.gaps),
        }
        (folder / "sectores_topologia.json").write_text(
            json.dumps(topology.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    result = ingested.result
    quarantine_path = write_quarantine(result.quarantine, folder / "cuarentena.csv")
    report = dict(result.report)
    report["quarantine_path"] = "cuarentena.csv"
    write_report(report, folder / "report.json")
    totals = report["total"]
    record: dict[str, Any] = {
        k: int(totals[k]) for k in ("rows_read", "rows_accepted", "rows_quarantined", "rows_fixed")
    }
    record["por_motivo"] = totals.get("reasons", {})
    record["cuarentena"] = str(quarantine_path.relative_to(out))
    state.counts["ingesta"] = record
    state.parameters["ingesta"] = options.describe()
    state.parameters["area_de_estudio"] = result.accepted.attrs.get("study_area")
    state.inputs = [describe_file(p, role="incidents") for p in config.incidents]
    if config.sectors is not None:
        state.inputs.append(describe_file(config.sectors, role="sectors"))
    state.inputs.extend(describe_file(p, role="counts") for p in config.counts)
    if result.parts is not None:
        state.tally = _split_by_province(state, result.parts)
    else:
        if _selecting(state):
            chosen = _select(state, result.accepted)
            chosen.attrs = {**result.accepted.attrs, **chosen.attrs}
            state.selected = chosen
        state.tally = _Tally.of(state.incidents)
    if _selecting(state):
        state.parameters["seleccion"] = {
            "periodo": config.period,
            "fenomenos": list(config.fenomenos),
            "incidentes": state.tally.n,
        }
    state.period = state.tally.period
    state.parameters["periodo"] = list(state.period)
    return (
        f"{num(totals['rows_read'])} filas leídas, "
        f"{num(totals['rows_accepted'])} aceptadas, "
        f"{num(totals['rows_quarantined'])} en cuarentena"
    )


def _selecting(state: RunState) -> bool:
    """Return whether the configuration selects a period or fenómenos of the incidents."""
    return state.config.period is not None or bool(state.config.fenomenos)


def _select(state: RunState, incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the incidents of the configuration's period and fenómenos (and its record)."""
    from .incidents import select

    return select(
        incidents,
        fenomenos=state.config.fenomenos,
        period=state.config.period,
        # the methods leave out incidents stacked on stations themselves (and say so)
        include_at_station=True,
    )


def _split_by_province(state: RunState, parts: list[Partition]) -> _Tally:
    """Write a distributed run's province partitions from its ingested chunks; count them.

    Each chunk of accepted incidents (:attr:`parsc_geo.ingest.IngestResult.parts`) is read
    in turn, selected (period, fenómenos), left without :data:`REPORTED_TEXTS`, counted and
    appended to the partitions of its provinces (those of no province of the study area to
    one of their own): the partitions :func:`_from_partitions` gives, the rows of each in
    the table's order, as :func:`_province_partitions` writes them from a table held here.
    This process holds one chunk at a time and, afterwards, the table without rows
    (:attr:`RunState.empty`).
    """
    import numpy as np

    from ._records import add_counts
    from .area import area_of
    from .partitions import PartitionWriter
    from .workflow import province_positions

    assert state.ingested is not None
    shape = state.ingested.result.accepted
    provinces = area_of(shape).provinces()
    folder = _partition_folder(state)
    writer = PartitionWriter(folder, [str(n) for n in provinces["provincia"]])
    others = PartitionWriter(folder, [""], prefix="otras")
    tally = _Tally()
    selection: dict[str, Any] | None = None
    n_others = 0
    for part in parts:
        chunk = part.load()
        if _selecting(state):
            chunk = _select(state, chunk)
            selection = add_counts(selection, chunk.attrs["selection"])
        chunk = _without_reported_texts(chunk)
        tally.add(chunk)
        groups = [(k, rows) for k, (_, rows) in enumerate(province_positions(chunk, provinces))]
        writer.append(chunk, groups)
        owned = np.zeros(len(chunk), dtype=bool)
        for _, rows in groups:
            owned[rows] = True
        rest = np.flatnonzero(~owned)
        others.append(chunk, [(0, rest)])
        n_others += len(rest)
        del chunk
    empty = _without_reported_texts(shape)
    if _selecting(state):
        if selection is None:  # no incident accepted: the record of none selected
            selection = _select(state, shape).attrs["selection"]
        empty.attrs = {**shape.attrs, "selection": selection}
    state.partitions = {p.key: p for p in writer.close(empty)}
    state.other_partitions = others.close(empty) if n_others else []
    state.released = empty
    return tally


def _team_workspace(state: RunState) -> WorkspaceBackend | None:
    """Return the workspace of the configuration's ``workspace`` key (the run fills it too).

    The run's folder keeps its own ``workspace.gpkg`` (its QGIS project reads it); a team's
    store (e.g. PostGIS) receives the same import, under the same rules, and the hotspots.
    """
    from .workspace import open_workspace

    target = state.config.workspace
    return open_workspace(target) if target is not None else None


def _stage_workspace(state: RunState) -> str:
    from .workflow import store
    from .workspace import Workspace

    assert state.ingested is not None
    metadata = {"synthetic": state.config.synthetic, "period": list(state.period)}
    team = _team_workspace(state)
    if team is not None:
        team.check_writable()  # a viewer's account is refused before the run's work
    ws = Workspace(state.out / "workspace.gpkg")
    store(state.ingested, ws, metadata=metadata)
    state.workspace = ws
    if team is not None:
        shared = store(state.ingested, team, metadata=metadata)
        logger.info(
            "espacio de trabajo del equipo %s: %s incidentes nuevos, %s ya presentes",
            team.path,
            num(shared["rows_new"]),
            num(shared["rows_already_present"]),
        )
    _drop_reported_texts(state)
    if state.ingested.result.parts is not None:
        # stored: the chunks the ingestion wrote go (the partitions hold the incidents)
        for part in state.ingested.result.parts:
            Path(part.path).unlink(missing_ok=True)
        state.ingested.result.parts = []
    tally = state.tally
    state.n_incidents = tally.n
    state.months = tally.months
    # ingest() assigned district, province, comisaría, sector and subsector: count them
    state.counts["workspace"] = {
        "incidentes": tally.n,
        "con_subsector": tally.with_sector,
        "en_comisaria": tally.at_station,
        "distrito_mas_cercano": tally.nearest_district,
        "sin_comisaria_cercana": tally.far_from_station,
        "por_provincia": dict(sorted(tally.provinces.items())),
    }
    return (
        f"{num(tally.n)} incidentes en {len(tally.provinces)} provincias, "
        f"{num(tally.with_sector)} en sectores, {num(tally.at_station)} apilados en comisarías"
    )


def _area(state: RunState) -> StudyArea:
    """Return the run's study area: the one its incidents record (also once released)."""
    from .area import area_of

    return area_of(state.incidents if state.released is None else state.empty)


#: Columns of the accepted incidents that only the import reads: the texts as the file gave
#: them (the delito's label, the comisaría and sector reported), kept in the workspace.
REPORTED_TEXTS: tuple[str, ...] = ("label_raw", "comisaria_reportada", "sector_reportado")


def _drop_reported_texts(state: RunState) -> None:
    """Leave :data:`REPORTED_TEXTS` out of the incidents the analyses use, once stored.

    No stage after ``workspace`` reads them; a million incidents carry ~120 MB of them in
    this process and in every copy, partition and task of the incidents.
    """
    assert state.ingested is not None
    result = state.ingested.result
    result.accepted = _without_reported_texts(result.accepted)
    if state.selected is not None:
        state.selected = _without_reported_texts(state.selected)


def _without_reported_texts(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` without :data:`REPORTED_TEXTS` (same ``attrs``)."""
    kept = frame.drop(columns=[c for c in REPORTED_TEXTS if c in frame.columns])
    kept.attrs = frame.attrs
    return kept


#: End of the name of a run's temporary folder of province partitions.
PARTITIONS_SUFFIX = "-particiones"


def _province_partitions(state: RunState) -> dict[str, Partition] | None:
    """Return each province's incidents as a partition its tasks read, when tasks go to workers.

    The tasks of a province read its incidents from a GeoParquet file (written here once,
    beside the output folder, where the workers of a Dask cluster on a shared file system see
    it) instead of receiving them from this process: this process then holds no pickled copy
    of a province per task waiting for a worker (with a million incidents in one province,
    three such copies at once, one per hotspot method). The local process pool reads them the
    same way. None when the run is serial (one worker: the tasks run here).
    """
    from .partitions import Partitioned, write_partitions
    from .workflow import province_positions

    if isinstance(state.pool, int) or (
        state.pool.scheduler == "procesos" and state.pool.workers <= 1
    ):
        return None
    if state.partitions is None:
        folder = _partition_folder(state)
        incidents = state.incidents
        positions = province_positions(incidents)
        written = write_partitions(
            [(name, incidents.iloc[rows]) for name, rows in positions], folder
        )
        state.partitions = {p.key: p for p in written}
        state.partitioned = Partitioned(
            incidents, [(p, rows) for p, (_, rows) in zip(written, positions, strict=True)]
        )
    return state.partitions


def _partition_folder(state: RunState) -> Path:
    """Return the run's folder of partitions (made on the first call, removed at the end).

    A temporary of this process beside the output folder, where the workers of a Dask
    cluster on a shared file system see it; if the run is killed, the next run into the
    same folder removes it, as it does the staging folder.
    """
    from ._atomic import temp_name

    if state.partition_folder is None:
        folder = state.out.parent / temp_name(PARTITIONS_SUFFIX)
        folder.mkdir(mode=0o700)
        state.partition_folder = folder
    return state.partition_folder


def _partitioned(state: RunState) -> Partitioned | None:
    """Return the incidents' province partitions when tasks go to workers (see above)."""
    if _province_partitions(state) is None:
        return None
    return state.partitioned


def _distributed(state: RunState) -> bool:
    """Return whether the run's tasks go to a Dask cluster (``LocalCluster`` or a scheduler)."""
    return not isinstance(state.pool, int) and state.pool.scheduler != "procesos"


def _from_partitions(state: RunState) -> list[Partition] | None:
    """Return the province partitions that a distributed run's stages work from, else None.

    In a distributed run (Dask), a stage that needs something of every incident (counts per
    district, a space-time cube, the patrol plan's incidents per comisaría) computes it from
    these partitions, each in a task that reads its own (see
    :func:`parsc_geo.partitions.map_partitions`), instead of from the incidents this process
    holds: it holds none (issue 17; they were written there by the ingestion, see
    :func:`_split_by_province`). Every row is in one partition: the provinces' partitions in
    their order, then (if any incident's province is not one of the study area's) one of the
    others. A partition keeps its rows' index and order, so a result that depends on the
    order of the incidents puts the rows back in index order (ascending in the table). None
    in a serial run or on the local process pool: the stages read the incidents held here.
    """
    if not _distributed(state):
        return None
    assert state.partitions is not None and state.other_partitions is not None
    return [*state.partitions.values(), *state.other_partitions]


def _incidents_in(state: RunState) -> gpd.GeoDataFrame | list[Partition]:
    """Return the run's incidents as a stage hands them to a function that takes either form.

    The partitions holding them in a distributed run (:func:`_from_partitions`: the
    function's tasks read them), else the table this process holds.
    """
    partitions = _from_partitions(state)
    return state.incidents if partitions is None else partitions


#: Incidents up to which a run on the local process pool computes its densities in this
#: process, while the pool runs the hotspot methods (started first): the region's 21,108
#: take 0.7 s here, and 2.1 s when handed to the pool (partitions written and read, workers
#: starting, 13 small tasks). Above it (a dense province), the densities' tasks go to the
#: pool as before.
LOCAL_DENSITY_INCIDENTS = 100_000


def _stage_density(state: RunState) -> str:
    if not state.config.density_enabled:
        return _disabled(state, "density", "[density] enabled = false")
    from .workflow import densities_by_province

    config = state.config
    folder = state.out / "densidad"
    folder.mkdir()
    workers: WorkerPool | int = state.pool
    if (
        _parallel(state)
        # a Dask cluster gets every province task, as before
        and not isinstance(state.pool, int)
        and state.pool.scheduler == "procesos"
        and config.hotspots_enabled
        and state.n_incidents <= LOCAL_DENSITY_INCIDENTS
    ):
        # the pool starts (and runs the hotspot methods) while this process draws densities
        _start_hotspots(state)
        workers = 1
    partitions = None if workers == 1 else _province_partitions(state)
    rasters, params = densities_by_province(
        # with partitions, the tasks read their incidents: the table's shape is enough here
        state.incidents if partitions is None else state.empty,
        kernel=config.kernel,
        # a rule named in [density] bandwidth ("silverman", "scott", "cv"…) or metres
        bandwidth=config.bandwidth_rule or config.bandwidth,
        bandwidth_adjust=config.bandwidth_adjust,
        cell_size=config.cell_size,
        seed=config.seed,
        workers=workers,
        partitions=partitions,
    )
    for name, raster in rasters.items():
        # the tags say what the run says: the incidents themselves do not carry the flag
        raster.parameters["synthetic"] = bool(config.synthetic)
        raster.to_geotiff(folder / f"densidad_{slug(name)}.tif", synthetic=config.synthetic)
    state.densities = rasters
    state.parameters["densidad"] = params
    state.counts["densidad"] = {"rasters": len(rasters)}
    return f"{len(rasters)} rásters (incidentes por km²)"


def _stage_hotspots(state: RunState) -> str:
    if not state.config.hotspots_enabled:
        return _disabled(state, "hotspots", "[hotspots] enabled = false")
    config = state.config
    if state.hotspots_started is None:
        _start_hotspots(state)
    assert state.hotspots_started is not None
    found = state.hotspots_started.results()[0]
    state.hotspots_started = None
    state.hotspots = found
    state.parameters["hotspots"] = found.parameters
    state.counts["hotspots"] = found.counts(config.methods)
    return ", ".join(f"{m}: {n}" for m, n in state.counts["hotspots"].items())


def _parallel(state: RunState) -> bool:
    """Return whether the run's tasks go to other processes (a pool of several, or Dask)."""
    return not isinstance(state.pool, int) and (
        state.pool.scheduler != "procesos" or state.pool.workers > 1
    )


def _start_hotspots(state: RunState) -> None:
    """Start the hotspot methods of every province in the run's pool (``hotspots``)."""
    from .parallel import WorkerPool, worker_pool
    from .workflow import start_hotspots_by_province

    config = state.config
    partitions = _province_partitions(state)
    with worker_pool(state.pool) as pool:
        started = start_hotspots_by_province(
            # with partitions, the tasks read their incidents: the table's shape is enough here
            state.incidents if partitions is None else state.empty,
            config.methods,
            kernel=config.kernel,
            bandwidth=config.bandwidth,
            cell_size=config.cell_size,
            pool=pool,
            options=config.hotspot_options,
            partitions=partitions,
        )
        if not isinstance(state.pool, WorkerPool):
            # a pool of this call only: its tasks end before it closes
            started.results()
    state.hotspots_started = started


def _stage_evaluation(state: RunState) -> str:
    """Backtest the run's hotspot methods, region-wide and per province (``evaluacion``)."""
    from .evaluation.accuracy import RUN_AUTO_CANDIDATES, historical_accuracy

    config = state.config
    options = config.evaluation
    if not options.enabled:
        return _disabled(state, "evaluacion", "[evaluation] enabled = false")
    parts = _from_partitions(state)
    # the run draws hotspots province by province: each province is backtested on its own
    # grid, and the region is their sum (each marking its own share of its area)
    backtest: dict[str, Any] = dict(
        methods=config.methods,
        bandwidth=config.bandwidth,
        coverages=options.coverages,
        folds=options.folds,
        cell_size=options.cell_size,
        auto_candidates=RUN_AUTO_CANDIDATES,
        workers=state.pool,
    )
    area = _area(state)
    if parts is None:
        result = historical_accuracy(
            _evaluation_scopes(state.incidents, area.provinces()),
            pooled=area.place,
            # with workers, each province's months read its partition (none held here)
            partitions=_province_partitions(state),
            **backtest,
        )
    else:
        # a distributed run: the provinces' tasks plan and backtest from their partitions
        provinces = _province_partitions(state) or {}
        held = (provinces[str(name)] for name in area.provinces()["provincia"])
        result = historical_accuracy(
            [("provincia", part.key, part) for part in held if len(part)],
            pooled=area.place,
            **backtest,
        )
    state.accuracy = result
    state.accuracy_table = result.table()
    state.parameters["evaluacion"] = result.parameters
    record = result.as_dict()
    state.counts["evaluacion"] = {
        "estado": "ok" if result.region.ok else "insuficiente",
        "ambitos_con_datos": sum(s.ok for s in result.scopes),
        "ambitos": len(result.scopes),
    }
    state.evaluation_record = record
    if state.accuracy_table:
        _write_accuracy_xlsx(state, result)
    if not result.region.ok:
        return f"datos insuficientes: {result.region.reason}"
    return (
        f"meses comprobados: {len(result.region.folds)}; "
        f"{sum(s.ok for s in result.scopes)} de {len(result.scopes)} ámbitos con datos"
    )


def _evaluation_scopes(
    incidents: gpd.GeoDataFrame, provinces: pd.DataFrame
) -> Iterator[tuple[str, str, gpd.GeoDataFrame]]:
    """Yield ``("provincia", name, incidents)`` for each province with incidents, one at a time.

    Each cut holds the columns the backtest reads only (a cut is a copy), and is made when
    the backtest takes it: a list would hold every province's copy while the months run.
    """
    from .evaluation.accuracy import BACKTEST_COLUMNS
    from .incidents import only_columns
    from .workflow import province_positions

    positions = province_positions(incidents, provinces)
    data = only_columns(incidents, BACKTEST_COLUMNS)
    for name, rows in positions:
        if len(rows):
            yield "provincia", name, data.iloc[rows]


def _write_accuracy_xlsx(state: RunState, result: HistoricalAccuracy) -> Path:
    """Write ``evaluacion/precision_historica.xlsx``: the table, and one row per month."""
    import pandas as pd

    from .evaluation.accuracy import DEFINITIONS_ES, method_label
    from .io.xlsx import Table, write_workbook

    rate_columns = ("Tasa de acierto", "PEI*", "Tasa de acierto del conteo", "PEI* del conteo")
    formats = {c: "0.0%" for c in rate_columns}
    formats.update({"PAI": "0.0", "PAI del conteo": "0.0", "Área (%)": "0.##"})
    months = []
    for scope in result.scopes:
        for fold in scope.folds:
            for method, per in fold["methods"].items():
                for key, m in per.items():
                    if not isinstance(m, dict):
                        continue
                    months.append(
                        {
                            "Ámbito": scope.name,
                            "Mes": fold["origin"][:7],
                            "Método": method_label(method),
                            "Área (%)": float(key),
                            "Celdas seleccionadas": m["n_cells"],
                            "Incidentes del mes": fold["n_test"],
                            "Capturados": m["hits"],
                            "Tasa de acierto": m["hit_rate"],
                            "PAI": m["pai"],
                            "PEI*": m["pei_star"],
                        }
                    )
    notes = [f"{k}: {v}" for k, v in DEFINITIONS_ES.items()]
    folder = state.out / "evaluacion"
    folder.mkdir(exist_ok=True)
    return write_workbook(
        folder / "precision_historica.xlsx",
        {
            "Precisión": Table(
                pd.DataFrame(state.accuracy_table),
                title="Precisión histórica de los hotspots (media de los meses comprobados)",
                notes=notes,
                number_formats=formats,
            ),
            "Por mes": Table(
                pd.DataFrame(months),
                title="Cada mes comprobado",
                number_formats={"Tasa de acierto": "0.0%", "PEI*": "0.0%", "PAI": "0.0"},
            ),
        },
        synthetic=state.config.synthetic,
    )


def _stage_ranking(state: RunState) -> str:
    import geopandas as gpd
    import pandas as pd

    from .hotspots.io import write_hotspots
    from .parallel import WorkerPool
    from .reports.rankings import write_rankings

    config = state.config
    sectors = state.sectors
    # the summary's incidents per province: in a distributed run, counted by tasks that each
    # read one partition (issue 17), before the pool gets the near repeats and the patrol plan
    counted: dict[str, Any] = {}
    if state.hotspots is not None:
        parts = _from_partitions(state)
        if parts is None:
            counted = {"incidents": state.incidents}
        else:
            from .reports.rankings import province_counts_from_partitions

            counts = province_counts_from_partitions(parts, pool=state.pool)
            counted = {"counts": counts, "area": _area(state)}
    _start_near_repeat(state)
    if (
        isinstance(state.pool, WorkerPool)
        and config.patrol_enabled
        and sectors is not None
        and len(sectors)
    ):
        from .patrol.plan import start_plan_patrols

        # in a distributed run, each sector's task reads its incidents from the partitions
        state.patrol_plan = start_plan_patrols(
            _incidents_in(state), sectors, pool=state.pool, **_patrol_plan_options(state)
        )
    assert state.workspace is not None
    if state.hotspots is None:
        state.counts["ranking"] = {"estado": "sin hotspots"}
        return "sin hotspots que ordenar"
    folder = state.out / "hotspots"
    folder.mkdir()
    ranked, files = write_rankings(
        state.hotspots.hotspots,
        folder,
        by=config.rank_by,
        declined=state.hotspots.declined,
        synthetic=config.synthetic,
        **counted,
    )
    state.ranked = ranked
    state.workspace.write_layer("hotspots", ranked)
    mapped = ranked
    if len(state.hotspots.cold_cells):
        mapped = gpd.GeoDataFrame(
            pd.concat([ranked, state.hotspots.cold_cells], ignore_index=True), crs="EPSG:4326"
        )
    mapped.attrs = dict(ranked.attrs)
    state.mapped_hotspots = mapped
    # the layer the pipeline's docstring promises: every method's zones and Gi* cold cells
    write_hotspots(mapped, folder / "hotspots.gpkg", synthetic=config.synthetic)
    team = _team_workspace(state)
    if team is not None:
        team.write_layer("hotspots", ranked)
    state.parameters["ranking"] = {"by": config.rank_by}
    state.counts["ranking"] = {"archivos": len(files)}
    return f"{len(ranked)} hotspots ordenados por {RANKING_CRITERIA[config.rank_by]}"


#: Patterns listed under "Qué cambió este mes", in this order.
CHANGE_PATTERNS: tuple[str, ...] = ("new_hot", "intensifying_hot")


def _stage_trends(state: RunState) -> str:
    """Emerging hot spots of the whole area, cells assigned to provinces (``tendencias``)."""
    import geopandas as gpd

    from ._errors import InsufficientDataError
    from .trends.emerging import emerging_hotspots
    from .trends.io import write_trends
    from .trends.series import cell_series, legend_table

    config = state.config
    options = config.trends
    if not options.enabled:
        state.counts["tendencias"] = {"estado": "desactivada"}
        state.trend_note = "desactivadas en la configuración ([trends] enabled = false)"
        return state.trend_note
    analysis: dict[str, Any] = {
        "period": options.period,
        "cell_size": options.cell_size,
        "k": options.k,
        "alpha": options.alpha,
        "trend_alpha": options.trend_alpha,
        "scheme": options.scheme,
        "exclude_at_station": not config.include_at_station,
        "quiet": True,
    }
    try:
        # in a distributed run, the cube is counted by tasks that read the partitions
        result = emerging_hotspots(_incidents_in(state), pool=state.pool, **analysis)
    except InsufficientDataError as exc:
        state.counts["tendencias"] = {"estado": "insuficiente", "motivo": exc.message}
        state.trend_note = f"datos insuficientes: {exc.message}"
        return state.trend_note
    n_cells, n_periods = result.cube.shape
    label = str(result.parameters.get("period_label_es", "periodos"))
    if n_periods < options.min_periods:
        state.counts["tendencias"] = {"estado": "insuficiente", "periodos": n_periods}
        state.trend_note = (
            f"los datos cubren {n_periods} periodo(s) de {label}: las tendencias necesitan al "
            f"menos {options.min_periods} ([trends] min_periods)"
        )
        return state.trend_note
    write_trends(result, state.out / "tendencias", synthetic=config.synthetic)
    cells = cell_series(result)
    # the province of each cell: the one its centre falls in
    grid = result.cube.grid
    provinces = _area(state).provinces()[["provincia", "geometry"]]
    centres = gpd.GeoDataFrame(
        {"cell_id": grid["cell_id"].to_numpy()},
        geometry=gpd.points_from_xy(grid["x"], grid["y"]),
        crs=grid.crs,
    ).to_crs(provinces.crs)
    joined = gpd.sjoin(centres, provinces, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    cell_province = joined["provincia"].fillna("").astype(str).to_numpy()
    province_of = dict(zip(joined["cell_id"], cell_province, strict=True))
    cells["provincia"] = [province_of.get(c, "") for c in cells["cell_id"]]
    state.trend_cells = cells
    state.trend_legend = legend_table(result, scheme=options.scheme)
    changes: dict[str, dict[str, int]] = {}
    for key, province in zip(result.pattern_key, cell_province, strict=True):
        if key in CHANGE_PATTERNS:
            row = changes.setdefault(province or "fuera de las provincias", {})
            row[str(key)] = row.get(str(key), 0) + 1
    state.trend_changes = dict(sorted(changes.items()))
    state.parameters["tendencias"] = _plain(result.parameters)
    state.counts["tendencias"] = {
        "estado": "ok",
        "celdas": n_cells,
        "periodos": n_periods,
        "patrones": {k: v for k, v in result.pattern_counts().items() if v},
        "cambios_por_provincia": state.trend_changes,
    }
    new = sum(v.get("new_hot", 0) for v in changes.values())
    more = sum(v.get("intensifying_hot", 0) for v in changes.values())
    return f"{n_cells} celdas × {n_periods} periodos; {new} nuevas, {more} en aumento"


def _plain(value: Any) -> Any:
    from .workflow import plain

    return plain(value)


def _near_repeat_options(state: RunState) -> dict[str, Any]:
    """Return the keywords of the run's Knox test (:func:`parsc_geo.trends.near_repeat`)."""
    options = state.config.near_repeat
    return {
        "space_bands": options.space_bands,
        "time_bands": options.time_bands,
        "permutations": options.permutations,
        "seed": state.config.seed,
        "exclude_at_station": not state.config.include_at_station,
    }


#: Incidents up to which a parallel run hands its Knox test to the pool when ranking starts,
#: to run while this process ranks and finds trends (the region's: 0.6 s off the path). A
#: larger run keeps it here, in repeticion, as before (its pairs, up to
#: parsc_geo.trends.near_repeat.MAX_PAIRS, are not added to the workers' memory then).
POOLED_KNOX_INCIDENTS = 100_000


def _start_near_repeat(state: RunState) -> None:
    """Start repeticion's Knox test in the pool's background, if the run is small and uses it."""
    from .parallel import WorkerPool
    from .trends.near_repeat import near_repeat_task

    options = state.config.near_repeat
    if (
        not isinstance(state.pool, WorkerPool)
        or not _parallel(state)
        or not options.enabled
        # a distributed run tests slim arrays of the partitions in repeticion
        or _from_partitions(state) is not None
        or state.n_incidents > POOLED_KNOX_INCIDENTS
        or state.months < options.min_months
    ):
        return
    # a background task: it takes a worker the patrol plan's tasks leave idle
    state.near_repeat_started = state.pool.start(
        near_repeat_task, [(state.incidents, _near_repeat_options(state))], background=True
    )


def _stage_near_repeat(state: RunState) -> str:
    """Knox test of near repeats on every incident of the run (``repeticion``)."""
    from ._errors import InsufficientDataError
    from .trends.io import write_near_repeat
    from .trends.near_repeat import (
        announce_sample,
        event_label,
        interpret_near_repeat,
        near_repeat,
    )

    config = state.config
    options = config.near_repeat
    if not options.enabled:
        return _disabled(state, "repeticion", "[near_repeat] enabled = false")
    # the calendar months the incidents' dates touch (counted by workspace)
    months = state.months
    if months < options.min_months:
        reason = (
            f"los datos tocan {months} mes(es) del calendario: la repetición cercana necesita "
            "al menos "
            f"{options.min_months} ([near_repeat] min_months)"
        )
        state.counts["repeticion"] = {"estado": "insuficiente", "motivo": reason}
        state.near_repeat_text = None
        return reason
    try:
        if state.near_repeat_started is not None:
            started, state.near_repeat_started = state.near_repeat_started, None
            table = started.results()[0]
            announce_sample(table)
        else:
            # in a distributed run, the test on slim arrays that tasks read from the partitions
            table = near_repeat(
                _incidents_in(state), pool=state.pool, **_near_repeat_options(state)
            )
    except InsufficientDataError as exc:
        state.counts["repeticion"] = {"estado": "insuficiente", "motivo": exc.message}
        return f"datos insuficientes: {exc.message}"
    text = interpret_near_repeat(
        table, label=event_label(tuple(config.fenomenos)), alpha=options.alpha
    )
    write_near_repeat(
        table, state.out / "repeticion", interpretation=text, synthetic=config.synthetic
    )
    state.near_repeat_table = table
    state.near_repeat_text = text
    state.parameters["repeticion"] = _plain(table.attrs.get("parameters", {}))
    state.counts["repeticion"] = {"estado": "ok", "interpretacion": text}
    return text


def _stage_priority(state: RunState) -> str:
    if not state.config.priority_enabled:
        return _disabled(state, "priority", "[priority] enabled = false")
    from .parallel import WorkerPool
    from .priority import PriorityRule, compute_priority, top_districts, write_priority_outputs
    from .priority.outputs import start_priority_outputs, top_districts_table
    from .workflow import count_tables, plain

    config = state.config
    parts = _from_partitions(state)
    if parts is not None:
        # a distributed run: each task counts one partition's incidents (issue 17)
        tables = count_tables(config.counts, partitions=parts, pool=state.pool)
    else:
        tables = count_tables(config.counts, state.incidents)
    area = _area(state)
    minimums = {
        key: value
        for key, value in (
            ("min_count", config.priority_min_count),
            ("min_count_prioridad", config.priority_min_count_prioridad),
        )
        if value is not None
    }
    rule = PriorityRule(
        method=config.priority_rule,
        k=config.priority_k,
        indicator=config.priority_indicator,
        thresholds=config.priority_thresholds,
        **minimums,
    )
    result = compute_priority(
        tables,
        levels=tuple(config.priority_levels),
        previous_period=config.priority_previous_period,
        rule=rule,
        n_boot=config.priority_bootstrap,
        seed=config.seed,
        synthetic=config.synthetic,
        study_area=area,
    )
    extra = {}
    if config.priority_top_modalidad:
        top = top_districts(
            tables,
            modalidad=config.priority_top_modalidad,
            n=config.priority_top_n,
            study_area=area,
        )
        name = "a3_distritos_homicidios.csv"
        if config.priority_top_modalidad != "homicidio":
            name = f"a3_distritos_{slug(config.priority_top_modalidad)}.csv"
        extra[name] = top_districts_table(top)
    options: dict[str, Any] = {
        "synthetic": config.synthetic,
        "maps": config.priority_maps,
        "extra_tables": extra,
        "command": state.command,
    }
    if isinstance(state.pool, WorkerPool):
        # the PDF of the maps and run.json are written while the pool draws the patrol sheets
        files, pending = start_priority_outputs(
            result, state.out / "prioridad", pool=state.pool, **options
        )
        state.background.append(("prioridad", pending))
    else:
        files = write_priority_outputs(
            result, state.out / "prioridad", workers=state.pool, **options
        )
    state.priority_table = result.table
    state.parameters["prioridad"] = plain(result.parameters)
    state.counts["prioridad"] = {"archivos": len(files)}
    return f"{len(files)} archivos (tabla del plan, detalle, mapas)"


def _stage_maps(state: RunState) -> str:
    if not state.config.maps_enabled:
        return _disabled(state, "maps", "[maps] enabled = false")

    from .maps import write_atlas

    config = state.config
    parameters: dict[str, Any] = {
        "kernel": config.kernel,
        "métodos": ", ".join(config.methods),
        "ranking": RANKING_CRITERIA[config.rank_by],
    }
    parameters.update(_accuracy_parameters(state))
    from .maps.index import run_links

    # a distributed run's pages come from the partitions, read by the workers' tasks
    partitions = _from_partitions(state)
    # the pool builds the pages while this process writes the patrol tables and the QGIS
    # project; the pages and the index are written at the end of the run
    deferred: list[Pending[Path]] = []
    pages = write_atlas(
        state.incidents if partitions is None else partitions,
        hotspots=state.mapped_hotspots,
        densities=state.densities,
        sectors=state.sectors,
        output_dir=state.out / "mapas",
        public=config.public,
        privacy_k=config.privacy_k,
        offline=config.offline,
        synthetic=config.synthetic,
        parameters=parameters,
        tiles=config.tiles_source,
        # the real generation time (not SOURCE_DATE_EPOCH, which dates documents by their data)
        generated=state.started,
        workers=state.pool,
        grid_m=config.grid_m,
        trends=state.trend_cells,
        accuracy=_accuracy_rows(state),
        links=run_links(state.out, state.out / "mapas"),
        partitioned=_partitioned(state) if partitions is None else None,
        deferred=deferred,
    )
    state.background += [("mapas", pending) for pending in deferred]
    state.counts["mapas"] = {"paginas": len(pages)}
    return f"{len(pages)} páginas HTML (atlas: mapas/index.html)"


def _accuracy_rows(state: RunState) -> list[dict[str, Any]] | None:
    """Return the backtest as rows for the maps' "Precisión histórica" panel.

    One row per scope, method and coverage (``method``, ``coverage_pct``, ``hit_rate``, ``pai``,
    ``pei_star``, ``n_folds``; ``provincia`` for a province's rows). None without a backtest
    (no panel); an empty list when the data were too short (the panel says so).
    """
    from .evaluation.metrics import coverage_key

    accuracy = state.accuracy
    if accuracy is None:
        return None
    rows: list[dict[str, Any]] = []
    for scope in accuracy.scopes:
        if not scope.ok:
            continue
        for method in accuracy.methods:
            for p in accuracy.coverages:
                key = coverage_key(p)
                m = scope.summary.get(method, {}).get(key)
                if not m:
                    continue
                row: dict[str, Any] = {
                    "method": method,
                    "coverage_pct": float(key),
                    "hit_rate": m.get("hit_rate"),
                    "pai": m.get("pai"),
                    "pei_star": m.get("pei_star"),
                    "n_folds": len(scope.folds),
                }
                if scope.scope == "provincia":
                    row["provincia"] = scope.name
                rows.append(row)
    return rows


def _accuracy_parameters(state: RunState) -> dict[str, str]:
    """Return the region's backtest as short texts for the maps' parameters panel.

    One entry per method and coverage (``precisión KDE (1 % del área)`` →
    ``34 % de los delitos del mes siguiente; conteo 33 %``); the full table is
    ``RunState.accuracy_table``.
    """
    from .evaluation.accuracy import BASELINE, method_label
    from .evaluation.metrics import coverage_key

    accuracy = state.accuracy
    if accuracy is None:
        return {}
    region = accuracy.region
    if not region.ok:
        return {"precisión histórica": f"sin datos suficientes ({region.reason})"}
    out = {}
    for method in accuracy.methods:
        if method == BASELINE:
            continue
        for p in accuracy.coverages:
            key = coverage_key(p)
            m = region.summary[method][key]
            b = region.summary[BASELINE][key]
            out[f"precisión {method_label(method)} ({key} % del área)"] = (
                f"{(m['hit_rate'] or 0) * 100:.0f} % de los delitos del mes siguiente "
                f"(PAI {m['pai'] or 0:.1f}); conteo {(b['hit_rate'] or 0) * 100:.0f} %"
            )
    return out


def _stage_patrol(state: RunState) -> str:
    if not state.config.patrol_enabled:
        return _disabled(state, "patrol", "[patrol] enabled = false")
    from .parallel import WorkerPool
    from .reports import write_patrol_outputs
    from .reports.patrol_outputs import start_patrol_outputs
    from .workflow import plain

    sectors = state.sectors
    if sectors is None or not len(sectors):
        state.counts["patrullaje"] = {"sectores": 0}
        return "sin capa de sectores: no hay planes de patrullaje"
    sheets = None
    if state.patrol_sheets is not None:
        plan, options, sheets = state.patrol_sheets
        state.patrol_sheets = None
    else:
        plan = _patrol_plan(state, sectors)
        options = _patrol_sheet_options(state)
    if isinstance(state.pool, WorkerPool):
        # the pool draws the sheets (started after repeticion, else now) while this process
        # writes the tables and the QGIS project
        files, pending = start_patrol_outputs(
            plan, state.out / "patrullaje", pool=state.pool, sheets=sheets, **options
        )
        state.background.append(("patrullaje", pending))
    else:
        files = write_patrol_outputs(plan, state.out / "patrullaje", workers=state.pool, **options)
    state.parameters["patrullaje"] = plain(plan.parameters)
    state.counts["patrullaje"] = {"sectores": len(plan.sectors), "archivos": len(files)}
    return f"{len(plan.sectors)} hojas de sector, {len(files)} archivos"


def _patrol_plan(state: RunState, sectors: gpd.GeoDataFrame) -> Any:
    """Return the run's patrol plan: the one ranking started, or one made now."""
    from .patrol import plan_patrols

    if state.patrol_plan is not None:
        plan = state.patrol_plan.results()[0]
        # the sheets' tasks hold the plan until they are drawn; the run need not keep it after
        state.patrol_plan = None
        return plan
    # in a distributed run, each sector's task reads its incidents from the partitions
    return plan_patrols(
        _incidents_in(state), sectors, workers=state.pool, **_patrol_plan_options(state)
    )


def _patrol_sheet_options(state: RunState) -> dict[str, Any]:
    """Return the options of the run's patrol sheets (with repeticion's advice, if any)."""
    config = state.config
    advice = None
    if state.near_repeat_table is not None:
        from .reports.patrol_sheet import near_repeat_advice
        from .trends.near_repeat import event_label

        advice = near_repeat_advice(
            state.near_repeat_table,
            label=event_label(tuple(config.fenomenos)),
            alpha=config.near_repeat.alpha,
        )
    return {
        "synthetic": config.synthetic,
        "density": config.patrol_density,
        "basemap": config.patrol_basemap,
        "near_repeat": advice,
    }


def _start_patrol_sheets(state: RunState) -> None:
    """Start the patrol sheets in the pool's background, once repeticion has run.

    Only when ranking started the plan in the pool of a parallel run (with sectors and
    patrols enabled). The sheets are drawn into a folder beside the output and moved into
    ``patrullaje/`` when the run collects them, after the last stage: the atlas (``mapas``)
    lists the files that exist when it is written, and lists no patrol file, as before.
    """
    from ._atomic import temp_name
    from .reports.patrol_outputs import start_patrol_sheets

    if state.patrol_plan is None or state.sectors is None or not _parallel(state):
        # serially the plan and the sheets are made by patrullaje itself, as before
        return
    plan = _patrol_plan(state, state.sectors)
    options = _patrol_sheet_options(state)
    # a temporary of this process, on the output's file system (the sheets are moved)
    folder = state.out.parent / temp_name(SHEETS_SUFFIX)
    state.drafts_folder = folder
    assert not isinstance(state.pool, int)
    sheets = start_patrol_sheets(plan, state.out / "patrullaje", folder, pool=state.pool, **options)
    state.patrol_sheets = (plan, options, sheets)


#: End of the name of a run's temporary folder of patrol sheets being drawn.
SHEETS_SUFFIX = "-hojas"


def _patrol_plan_options(state: RunState) -> dict[str, Any]:
    """Return the options of the run's patrol plan (:func:`parsc_geo.patrol.plan_patrols`)."""
    from .patrol import ScheduleOptions

    config = state.config
    return dict(
        comisaria=config.patrol_comisaria,
        share=config.patrol_share,
        block_hours=config.patrol_block_hours,
        schedule=ScheduleOptions(
            units=config.patrol_units,
            shifts=config.patrol_shifts,
            shift_hours=config.patrol_shift_hours,
            first_shift_start=config.patrol_first_shift_start,
            available_hours=config.patrol_available_hours,
            visit_minutes=config.patrol_visit_minutes,
            revisit_minutes=config.patrol_revisit_minutes,
        ),
        method=config.patrol_method,
        min_count=config.patrol_min_count,
        eps_m=config.patrol_eps,
        cell_size_m=config.patrol_cell_size,
        risk=config.patrol_risk,
        exclude_at_station=not config.include_at_station,
    )


def _stage_qgis(state: RunState) -> str:
    """Write ``proyecto.qgz`` over every layer of the run, after the last GeoPackage write."""
    from .reports.qgis_layers import (
        sector_counts_from_partitions,
        write_priority_layers,
        write_reference_layers,
        write_sector_layers,
    )
    from .reports.qgis_project import write_qgis_project
    from .reports.qgis_run import run_layers

    config, out = state.config, state.out
    if not config.qgis_enabled:
        state.counts["qgis"] = {"estado": "desactivado"}
        return "desactivado en la configuración ([qgis] enabled = false)"
    write_reference_layers(out / "limites.gpkg", area=_area(state).to_dict())
    if state.sectors is not None and len(state.sectors):
        parts = _from_partitions(state)
        if parts is not None:
            # a distributed run: each task counts one partition's incidents (issue 17)
            counts = sector_counts_from_partitions(state.sectors, parts, pool=state.pool)
            write_sector_layers(state.sectors, out / "sectores.gpkg", counts=counts)
        else:
            write_sector_layers(state.sectors, out / "sectores.gpkg", incidents=state.incidents)
    if state.priority_table is not None and len(state.priority_table):
        write_priority_layers(state.priority_table, out / "prioridad" / "prioridad.gpkg")
    layers = run_layers(out)
    project = write_qgis_project(out, layers, title=config.run_title)
    state.counts["qgis"] = {"estado": "ok", "capas": len(layers)}
    return f"proyecto.qgz con {len(layers)} capas ({Path(project.path).name})"


def _open_first(out: Path) -> list[Path]:
    candidates = [
        Path("mapas/index.html"),
        Path("proyecto.qgz"),
        Path("prioridad") / "territorios_priorizados.md",
        Path("RESUMEN.md"),
    ]
    found = [c for c in candidates if (out / c).exists() or c.name == "RESUMEN.md"]
    found += sorted(
        p.relative_to(out) for p in (out / "hotspots").glob("resumen_provincias_*.csv")
    )[:1]
    found += sorted(p.relative_to(out) for p in (out / "patrullaje").glob("*.pdf"))[:3]
    return found


def _summary_markdown(state: RunState, open_first: list[Path]) -> str:
    """Return ``RESUMEN.md``: what changed, the counts, the accuracy, what to open first."""
    from .settings import SYNTHETIC_BANNER

    config, counts = state.config, state.counts
    ing = counts.get("ingesta", {})
    lines = [f"# {config.run_title}", ""]
    if config.synthetic:
        lines += [f"**{SYNTHETIC_BANNER}**", ""]
    lines += _changes_markdown(state)
    lines += [
        "## Resumen",
        "",
        f"- Periodo de los datos: {state.period[0] or '—'} a {state.period[1] or '—'}.",
        f"- Filas leídas: {num(ing.get('rows_read', 0))}; "
        f"aceptadas: {num(ing.get('rows_accepted', 0))}; "
        f"en cuarentena: {num(ing.get('rows_quarantined', 0))} (ver `ingesta/report.json`).",
    ]
    hot = counts.get("hotspots", {})
    if hot:
        lines.append(f"- Hotspots (zonas, ordenadas en `hotspots/`): {_hotspot_counts(hot)}.")
    lines.append("")
    if state.accuracy is not None:
        lines += state.accuracy.markdown_es()
    elif counts.get("evaluacion", {}).get("estado") == "desactivada":
        lines += ["## Precisión histórica", "", "Desactivada en la configuración.", ""]
    lines += ["## Abrir primero", ""]
    lines += [f"- `{p}`" for p in open_first]
    lines += ["", "Parámetros, versiones y sumas de control: `run.json`.", ""]
    return "\n".join(lines)


#: Spanish names of the hotspot counts of ``run.json``.
_HOTSPOT_NAMES = {
    "kde": "KDE",
    "gistar": "Gi*",
    "hdbscan": "HDBSCAN",
    "dbscan": "DBSCAN",
    "auto": "auto",
}


def _hotspot_counts(hot: dict[str, Any]) -> str:
    parts = []
    for method, n in hot.items():
        if method not in _HOTSPOT_NAMES:
            continue
        text = f"{_HOTSPOT_NAMES[method]} {num(n)}"
        if method == "gistar" and "gistar_celdas_calientes" in hot:
            text += f" (de {num(hot['gistar_celdas_calientes'])} celdas calientes contiguas)"
        parts.append(text)
    if hot.get("gistar_frias"):
        parts.append(f"Gi* celdas frías {num(hot['gistar_frias'])}")
    return ", ".join(parts)


def _changes_markdown(state: RunState) -> list[str]:
    """Return ``Qué cambió este mes``: new and intensifying hot spots, then near repeats."""
    from .trends.patterns import pattern_table

    lines = ["## Qué cambió este mes", ""]
    if state.trend_cells is None:
        lines.append(f"- Tendencias: {state.trend_note or 'no calculadas'}.")
    elif not state.trend_changes:
        lines.append(
            "- Ninguna celda es un punto caliente nuevo ni en aumento "
            "(ver `tendencias/tendencias.gpkg`)."
        )
    else:
        names = pattern_table(state.config.trends.scheme)
        for province, found in state.trend_changes.items():
            parts = [
                f"{num(found[key])} celda(s) «{names[key].patron.lower()}»"
                for key in CHANGE_PATTERNS
                if found.get(key)
            ]
            lines.append(f"- {province}: {', '.join(parts)}.")
        lines.append("- Detalle por celda: `tendencias/tendencias.gpkg` (y `.csv`).")
    if state.near_repeat_text:
        lines.append(f"- Repetición cercana: {state.near_repeat_text}")
    else:
        reason = state.counts.get("repeticion", {}).get("motivo") or state.counts.get(
            "repeticion", {}
        ).get("estado", "no calculada")
        lines.append(f"- Repetición cercana: {reason}.")
    lines.append("")
    return lines


def __getattr__(name: str) -> Any:
    """Serve names that moved elsewhere (``package_versions`` …: :mod:`parsc_geo._provenance`)."""
    from ._compat import moved_name

    return moved_name(__name__, name)
