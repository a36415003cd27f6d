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

import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import __version__
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

    from .density import DensityRaster
    from .parallel import WorkerPool
    from .workflow import Ingested, ProvinceHotspots
    from .workspace import Workspace, WorkspaceBackend

#: The stages, in order; each names the work it does.
STAGES: tuple[str, ...] = (
    "ingesta",
    "workspace",
    "densidad",
    "hotspots",
    "ranking",
    "prioridad",
    "mapas",
    "patrullaje",
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
    # workspace
    workspace: Workspace | None = None
    # densidad
    densities: dict[str, DensityRaster] = field(default_factory=dict)
    # hotspots
    hotspots: ProvinceHotspots | None = None
    # ranking
    ranked: gpd.GeoDataFrame | None = None
    # worker processes shared by the stages (see parsc_geo.parallel); 1 works serially
    pool: WorkerPool | int = 1

    @property
    def incidents(self) -> gpd.GeoDataFrame:
        """Return the accepted, assigned incidents (after ``ingesta``)."""
        if self.ingested is None:
            raise RuntimeError("the 'ingesta' stage has not run")
        return self.ingested.result.accepted

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
    import pyogrio

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
        "ranking": _stage_ranking,
        "prioridad": _stage_priority,
        "mapas": _stage_maps,
        "patrullaje": _stage_patrol,
    }
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    pinned = False
    pool = open_pool(workers, scheduler)
    try:
        # the workers' libraries load in other processes while the first stages run here
        pool.warm_up()
        with staged_output(output, overwrite=overwrite) as out:
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
                timings[name] = round(time.perf_counter() - t0, 3)
                progress.done(name, timings[name], detail)
                if name == "ingesta":
                    # Documents (GeoPackage, XLSX, PDF) are dated by the data, not the clock:
                    # same input, same bytes (the SOURCE_DATE_EPOCH convention).
                    _pin_document_dates(state.period_end)
                    pinned = True
            timings["total"] = round(time.perf_counter() - clock, 3)
            open_first = _open_first(out)
            (out / "RESUMEN.md").write_text(
                _summary_markdown(config, state.counts, open_first), encoding="utf-8"
            )
            run_json = {
                "parsc_geo_version": __version__,
                "generated_at": started,
                "command": command,
                "synthetic": config.synthetic,
                "inputs": state.inputs,
                "parameters": state.parameters,
                "versions": package_versions(),
                "counts": state.counts,
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


def _pin_document_dates(day: str) -> None:
    """Date GeoPackages (``last_change``) and documents (``SOURCE_DATE_EPOCH``) by ``day``."""
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{day}T00:00:00Z"})
    epoch = int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)


# -- stages: each calls the steps of parsc_geo.workflow and records what it did -----------------


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
    ingested = ingest(config.incidents, options, sectors_path=config.sectors)
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
    when = result.accepted["occurred_at"]
    if len(when):
        state.period = (when.min().date().isoformat(), when.max().date().isoformat())
    state.parameters["periodo"] = list(state.period)
    return (
        f"{num(totals['rows_read'])} filas leídas, "
        f"{num(totals['rows_accepted'])} aceptadas, "
        f"{num(totals['rows_quarantined'])} en cuarentena"
    )


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
    incidents = state.incidents
    # ingest() assigned district, province, comisaría, sector and subsector: count them
    with_sector = int((incidents["subsector"] != "").sum())
    at_station = int(incidents["at_station"].sum())
    nearest = int(incidents["flags"].str.contains("nearest_district", regex=False).sum())
    far = int(incidents["flags"].str.contains("far_from_station", regex=False).sum())
    state.counts["workspace"] = {
        "incidentes": len(incidents),
        "con_subsector": with_sector,
        "en_comisaria": at_station,
        "distrito_mas_cercano": nearest,
        "sin_comisaria_cercana": far,
        "por_provincia": {
            str(k): int(v) for k, v in incidents["provincia"].value_counts().sort_index().items()
        },
    }
    return (
        f"{num(len(incidents))} incidentes en {incidents['provincia'].nunique()} provincias, "
        f"{num(with_sector)} en sectores, {num(at_station)} apilados en comisarías"
    )


def _stage_density(state: RunState) -> str:
    from .workflow import densities_by_province

    config = state.config
    folder = state.out / "densidad"
    folder.mkdir()
    rasters, params = densities_by_province(
        state.incidents,
        kernel=config.kernel,
        bandwidth=config.bandwidth,
        cell_size=config.cell_size,
        seed=config.seed,
        workers=state.pool,
    )
    for name, raster in rasters.items():
        raster.to_geotiff(folder / f"densidad_{slug(name)}.tif")
    state.densities = rasters
    state.parameters["densidad"] = params
    state.counts["densidad"] = {"rasters": len(rasters)}
    return f"{len(rasters)} rásters (incidentes por km²)"


def _stage_hotspots(state: RunState) -> str:
    from .workflow import hotspots_by_province

    config = state.config
    found = hotspots_by_province(
        state.incidents,
        config.methods,
        kernel=config.kernel,
        bandwidth=config.bandwidth,
        cell_size=config.cell_size,
        workers=state.pool,
    )
    state.hotspots = found
    state.parameters["hotspots"] = found.parameters
    state.counts["hotspots"] = found.counts(config.methods)
    return ", ".join(f"{m}: {n}" for m, n in state.counts["hotspots"].items())


def _stage_ranking(state: RunState) -> str:
    from .reports.rankings import write_rankings

    config = state.config
    assert state.hotspots is not None and state.workspace is not None
    folder = state.out / "hotspots"
    folder.mkdir()
    ranked, files = write_rankings(
        state.hotspots.hotspots,
        folder,
        by=config.rank_by,
        declined=state.hotspots.declined,
        incidents=state.incidents,
        synthetic=config.synthetic,
    )
    state.ranked = ranked
    state.workspace.write_layer("hotspots", ranked)
    team = _team_workspace(state)
    if team is not None:
        team.write_layer("hotspots", ranked)
    state.parameters["ranking"] = {"by": config.rank_by}
    state.counts["ranking"] = {"archivos": len(files)}
    return f"{len(ranked)} hotspots ordenados por {RANKING_CRITERIA[config.rank_by]}"


def _stage_priority(state: RunState) -> str:
    from .area import area_of
    from .priority import PriorityRule, compute_priority, top_districts, write_priority_outputs
    from .priority.outputs import top_districts_table
    from .workflow import count_tables, plain

    config = state.config
    tables = count_tables(config.counts, state.incidents)
    area = area_of(state.incidents)
    result = compute_priority(
        tables,
        rule=PriorityRule(method=config.priority_rule),
        n_boot=config.priority_bootstrap,
        seed=config.seed,
        synthetic=config.synthetic,
        study_area=area,
    )
    extra = {
        "a3_distritos_homicidios.csv": top_districts_table(
            top_districts(tables, modalidad="homicidio", n=7, study_area=area)
        )
    }
    files = write_priority_outputs(
        result,
        state.out / "prioridad",
        synthetic=config.synthetic,
        extra_tables=extra,
        command=state.command,
        workers=state.pool,
    )
    state.parameters["prioridad"] = plain(result.parameters)
    state.counts["prioridad"] = {"archivos": len(files)}
    return f"{len(files)} archivos (tabla del plan, detalle, mapas)"


def _stage_maps(state: RunState) -> str:
    import geopandas as gpd
    import pandas as pd

    from .maps import write_atlas

    config = state.config
    assert state.ranked is not None and state.hotspots is not None
    hotspots = state.ranked
    if len(state.hotspots.cold_cells):
        hotspots = gpd.GeoDataFrame(
            pd.concat([hotspots, state.hotspots.cold_cells], ignore_index=True), crs="EPSG:4326"
        )
    pages = write_atlas(
        state.incidents,
        hotspots=hotspots,
        densities=state.densities,
        sectors=state.sectors,
        output_dir=state.out / "mapas",
        public=config.public,
        privacy_k=config.privacy_k,
        offline=config.offline,
        synthetic=config.synthetic,
        parameters={
            "kernel": config.kernel,
            "métodos": ", ".join(config.methods),
            "ranking": RANKING_CRITERIA[config.rank_by],
        },
        tiles="OpenStreetMap" if config.tiles else None,
        # the real generation time (not SOURCE_DATE_EPOCH, which dates documents by their data)
        generated=state.started,
        workers=state.pool,
    )
    state.counts["mapas"] = {"paginas": len(pages)}
    return f"{len(pages)} páginas HTML (atlas: mapas/index.html)"


def _stage_patrol(state: RunState) -> str:
    from .patrol import ScheduleOptions, plan_patrols
    from .reports import write_patrol_outputs
    from .workflow import plain

    config = state.config
    sectors = state.sectors
    if sectors is None or not len(sectors):
        state.counts["patrullaje"] = {"sectores": 0}
        return "sin capa de sectores: no hay planes de patrullaje"
    plan = plan_patrols(
        state.incidents,
        sectors,
        share=config.patrol_share,
        schedule=ScheduleOptions(
            units=config.patrol_units,
            shift_hours=config.patrol_shift_hours,
            visit_minutes=config.patrol_visit_minutes,
        ),
        workers=state.pool,
    )
    files = write_patrol_outputs(
        plan, state.out / "patrullaje", synthetic=config.synthetic, workers=state.pool
    )
    state.parameters["patrullaje"] = plain(plan.parameters)
    state.counts["patrullaje"] = {"sectores": len(plan.sectors), "archivos": len(files)}
    return f"{len(plan.sectors)} hojas de sector, {len(files)} archivos"


def _open_first(out: Path) -> list[Path]:
    candidates = [
        Path("mapas/index.html"),
        Path("prioridad") / "territorios_priorizados.md",
        Path("RESUMEN.md"),
    ]
    found = [c for c in candidates if (out / c).exists() or c.name == "RESUMEN.md"]
    found += sorted(
        p.relative_to(out) for p in (out / "hotspots").glob("resumen_provincias_*.csv")
    )[:1]
    found += sorted(p.relative_to(out) for p in (out / "patrullaje").glob("*.pdf"))[:3]
    return found


def _summary_markdown(config: RunConfig, counts: dict[str, Any], open_first: list[Path]) -> str:
    from .settings import SYNTHETIC_BANNER

    ing = counts.get("ingesta", {})
    lines = [f"# {config.run_title}", ""]
    if config.synthetic:
        lines += [f"**{SYNTHETIC_BANNER}**", ""]
    lines += [
        f"- Filas leídas: {num(ing.get('rows_read', 0))}; "
        f"aceptadas: {num(ing.get('rows_accepted', 0))}; "
        f"en cuarentena: {num(ing.get('rows_quarantined', 0))} (ver `ingesta/report.json`).",
        f"- Hotspots: {', '.join(f'{k} {v}' for k, v in counts.get('hotspots', {}).items())}.",
        "",
        "## Abrir primero",
        "",
    ]
    lines += [f"- `{p}`" for p in open_first]
    lines += ["", "Parámetros, versiones y sumas de control: `run.json`.", ""]
    return "\n".join(lines)


def __getattr__(name: str) -> Any:
    """Serve names that moved elsewhere (``package_versions`` …: :mod:`parsc_geo._provenance`)."""
    from ._compat import moved_name

    return moved_name(__name__, name)
