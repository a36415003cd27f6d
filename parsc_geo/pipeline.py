"""The whole monthly chain in one reproducible run: raw files → maps, rankings, priorities, patrols.

Stages: ingest → validate → assign → workspace → density and hotspots per province → rankings →
priority territories → maps and atlas → patrol plans. Everything lands in one output folder:

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
every stage succeeded, so a failed run leaves the previous outputs untouched. Re-running with
the same inputs rewrites identical files except the time stamps in ``run.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import __version__
from ._errors import OutputError
from ._provenance import describe_file, package_versions
from ._text import num, slug
from .config import RunConfig
from .settings import TIMEZONE

if TYPE_CHECKING:
    import geopandas as gpd

STAGES: tuple[str, ...] = (
    "ingesta",
    "asignacion",
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


@contextmanager
def staged_output(output: Path, *, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``output`` only if the block succeeds."""
    output = output.resolve()
    if output.exists() and not overwrite and any(output.iterdir()):
        raise OutputError(
            f"la carpeta de salida {output} existe y no está vacía",
            hint="use --overwrite para reemplazarla, o elija otro --output",
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-partial-", dir=output.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = None
    if output.exists():
        previous = output.parent / f".{output.name}-previous-{os.getpid()}"
        os.replace(output, previous)
    os.replace(staging, output)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


class _Progress:
    """Stage progress on stderr: a bar on terminals, one line per stage otherwise."""

    def __init__(self, quiet: bool, echo: Callable[[str], None]) -> None:
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
        if self.bar is not None:
            self.bar.update(1)
            self.bar.write(f"  ✓ {stage:<11} {seconds:6.1f} s  {detail}")
        elif not self.quiet:
            self.echo(f"  ✓ {stage:<11} {seconds:6.1f} s  {detail}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _province_subsets(incidents: gpd.GeoDataFrame) -> list[tuple[str, gpd.GeoDataFrame]]:
    from . import boundaries

    provinces = boundaries.load_provinces()
    out = []
    for name in provinces["provincia"]:
        subset = incidents[incidents["provincia"].str.upper() == str(name).upper()]
        out.append((str(name), subset))
    return out


def run_pipeline(
    config: RunConfig,
    output: str | Path,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    echo: Callable[[str], None] = print,
    command: str | None = None,
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
        Print nothing but errors.
    echo
        Where progress lines go (``print`` by default; the CLI passes ``click.echo``).
    command
        The command line, recorded in ``run.json``.

    Returns
    -------
    RunResult
    """
    import pyogrio

    output = Path(output)
    progress = _Progress(quiet, echo)
    timings: dict[str, float] = {}
    counts: dict[str, Any] = {}
    parameters: dict[str, Any] = {"config": config.to_dict()}
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    clock = time.perf_counter()

    def stage(name: str) -> Callable[[Callable[[], str]], None]:
        def run(body: Callable[[], str]) -> None:
            progress.start(name)
            t0 = time.perf_counter()
            detail = body()
            timings[name] = round(time.perf_counter() - t0, 3)
            progress.done(name, timings[name], detail)

        return run

    state: dict[str, Any] = {
        "started": dt.datetime.now(ZoneInfo(TIMEZONE)).replace(second=0, microsecond=0)
    }
    previous_epoch: str | None = None
    try:
        with staged_output(output, overwrite=overwrite) as out:
            run = _Run(config, out, state, counts, parameters, command)
            stage("ingesta")(lambda: _stage_ingest(run))
            # GeoPackages record a "last change" time: pin it to the data so that re-running
            # with the same inputs gives identical files.
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": state["period_end_utc"]})
            previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
            os.environ["SOURCE_DATE_EPOCH"] = str(state["period_end_epoch"])
            for name, body in (
                ("asignacion", _stage_assign),
                ("densidad", _stage_density),
                ("hotspots", _stage_hotspots),
                ("ranking", _stage_ranking),
                ("prioridad", _stage_priority),
                ("mapas", _stage_maps),
                ("patrullaje", _stage_patrol),
            ):
                stage(name)(partial(body, run))
            timings["total"] = round(time.perf_counter() - clock, 3)
            open_first = _open_first(out)
            (out / "RESUMEN.md").write_text(
                _summary_markdown(config, counts, timings, open_first, output), encoding="utf-8"
            )
            run_json = {
                "parsc_geo_version": __version__,
                "generated_at": started,
                "command": command,
                "synthetic": config.synthetic,
                "inputs": state["inputs"],
                "parameters": parameters,
                "versions": package_versions(),
                "counts": counts,
                "timings_s": timings,
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
        progress.close()
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        if "period_end_epoch" in state:
            if previous_epoch is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous_epoch
    final = output.resolve()
    return RunResult(
        output=final,
        counts=counts,
        timings=timings,
        open_first=[final / p for p in open_first],
        run_json=run_json,
    )


# -- stages ------------------------------------------------------------------------------------


@dataclass
class _Run:
    """What every stage reads and fills: configuration, output folder, state and records."""

    config: RunConfig
    out: Path
    state: dict[str, Any]
    counts: dict[str, Any]
    parameters: dict[str, Any]
    command: str | None

    def unpack(
        self,
    ) -> tuple[RunConfig, Path, dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Return the configuration, output folder, state, counts and parameters."""
        return self.config, self.out, self.state, self.counts, self.parameters


def _stage_ingest(run: _Run) -> str:
    from .ingest import IngestOptions, ingest_files
    from .io.writers import write_quarantine, write_report
    from .sectors import check_sectors, read_sectors

    config, out, state, counts, parameters = run.unpack()
    folder = out / "ingesta"
    folder.mkdir()
    sectors = None
    if config.sectors is not None:
        sectors, topology = check_sectors(read_sectors(config.sectors))
        counts["sectores"] = {
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
    options = IngestOptions(columns=dict(config.columns), utm_zone=config.utm_zone or "17S")
    result = ingest_files(config.incidents, options, assign=True, sectors=sectors)
    quarantine_path = write_quarantine(result.quarantine, folder / "cuarentena.csv")
    report = dict(result.report)
    report["quarantine_path"] = "cuarentena.csv"
    write_report(report, folder / "report.json")
    state["accepted"] = result.accepted
    state["quarantine"] = result.quarantine
    state["sources"] = result.sources
    totals = report["total"]
    counts["ingesta"] = {
        k: int(totals[k]) for k in ("rows_read", "rows_accepted", "rows_quarantined", "rows_fixed")
    }
    counts["ingesta"]["por_motivo"] = totals.get("reasons", {})
    counts["ingesta"]["cuarentena"] = str(quarantine_path.relative_to(out))
    parameters["ingesta"] = options.describe()
    inputs = [describe_file(p, role="incidents") for p in config.incidents]
    if config.sectors is not None:
        inputs.append(describe_file(config.sectors, role="sectors"))
    inputs.extend(describe_file(p, role="counts") for p in config.counts)
    state["sectors"] = sectors
    state["inputs"] = inputs
    when = result.accepted["occurred_at"]
    if len(when):
        state["period"] = (when.min().date().isoformat(), when.max().date().isoformat())
    else:
        state["period"] = (None, None)
    end = state["period"][1] or "2000-01-01"
    state["period_end_utc"] = f"{end}T00:00:00Z"
    # Documents (GeoPackage, XLSX, PDF) are dated by the data, not the clock: same input, same
    # bytes (the reproducible-builds SOURCE_DATE_EPOCH convention).
    state["period_end_epoch"] = int(
        dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC).timestamp()
    )
    parameters["periodo"] = list(state["period"])
    return (
        f"{num(totals['rows_read'])} filas leídas, "
        f"{num(totals['rows_accepted'])} aceptadas, "
        f"{num(totals['rows_quarantined'])} en cuarentena"
    )


def _stage_assign(run: _Run) -> str:
    from .workspace import Workspace

    config, out, state, counts, _ = run.unpack()
    # ingest_files already assigned district, province, station, sector and subsector.
    incidents = state["accepted"]
    state["incidents"] = incidents
    ws = Workspace(out / "workspace.gpkg")
    ws.import_incidents(
        incidents,
        state["quarantine"],
        sources=state["sources"],
        sectors=state["sectors"],
        metadata={"synthetic": config.synthetic, "period": list(state["period"])},
    )
    state["workspace"] = ws
    with_sector = int((incidents["subsector"] != "").sum())
    at_station = int(incidents["at_station"].sum())
    nearest = int(incidents["flags"].str.contains("nearest_district", regex=False).sum())
    counts["asignacion"] = {
        "incidentes": len(incidents),
        "con_subsector": with_sector,
        "en_comisaria": at_station,
        "distrito_mas_cercano": nearest,
        "por_provincia": {
            str(k): int(v) for k, v in incidents["provincia"].value_counts().sort_index().items()
        },
    }
    return (
        f"{num(len(incidents))} incidentes en {incidents['provincia'].nunique()} provincias, "
        f"{num(with_sector)} en sectores, {num(at_station)} apilados en comisarías"
    )


def _stage_density(run: _Run) -> str:
    from . import boundaries
    from .density import kernel_density

    config, out, state, counts, parameters = run.unpack()
    folder = out / "densidad"
    folder.mkdir()
    provinces = boundaries.load_provinces().set_index("provincia")
    rasters: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for name, subset in _province_subsets(state["incidents"]):
        usable = subset[~subset["at_station"]] if "at_station" in subset else subset
        if len(usable) < 2:
            params[name] = {"omitido": f"{len(usable)} incidentes: muy pocos para una densidad"}
            continue
        raster = kernel_density(
            usable,
            cell_size=config.cell_size,
            bandwidth=config.bandwidth,
            kernel=config.kernel,
            mask=provinces.loc[[name]],
            quiet=True,
            seed=config.seed,
        )
        raster.to_geotiff(folder / f"densidad_{slug(name)}.tif")
        rasters[name] = raster
        params[name] = {
            k: v
            for k, v in raster.parameters.items()
            if isinstance(v, str | int | float | bool | None)
        }
    state["densities"] = rasters
    parameters["densidad"] = params
    counts["densidad"] = {"rasters": len(rasters)}
    return f"{len(rasters)} rásters (incidentes por km²)"


def _stage_hotspots(run: _Run) -> str:
    import geopandas as gpd
    import pandas as pd

    from . import boundaries
    from .hotspots import run_method

    config, _out, state, counts, parameters = run.unpack()
    provinces = boundaries.load_provinces().set_index("provincia")
    frames = []
    cold_frames = []
    params: dict[str, Any] = {}
    declined: dict[str, dict[str, str]] = {}
    for method in config.methods:
        params[method] = {}
        for name, subset in _province_subsets(state["incidents"]):
            kwargs: dict[str, Any] = {"quiet": True}
            if method == "kde":
                kwargs.update(
                    kernel=config.kernel, cell_size=config.cell_size, bandwidth=config.bandwidth
                )
            if method == "gistar":
                # hot and cold cells: hot ones are ranked as hotspots, cold ones only mapped
                kwargs.update(area=provinces.loc[[name]], output="significant")
            result = run_method(method, subset, **kwargs)
            params[method][name] = _plain(result.attrs.get("parameters", {}))
            if len(result) == 0:
                declined.setdefault(method, {})[name] = str(
                    result.attrs.get("reason_es") or result.attrs.get("reason", "sin hotspots")
                )
                continue
            result = result.copy()
            result["hotspot_id"] = [f"{slug(name)}-{h}" for h in result["hotspot_id"]]
            if "gi_class" in result.columns:
                cold = ~result["gi_class"].astype(str).str.startswith("caliente")
                cold_frames.append(result[cold])
                result = result[~cold]
            if len(result):
                frames.append(result)
    empty = gpd.GeoDataFrame({"hotspot_id": []}, geometry=[], crs="EPSG:4326")
    hotspots = (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326") if frames else empty
    )
    state["hotspots"] = hotspots
    state["cold_cells"] = (
        gpd.GeoDataFrame(pd.concat(cold_frames, ignore_index=True), crs="EPSG:4326")
        if cold_frames
        else empty
    )
    state["hotspots_declined"] = declined
    parameters["hotspots"] = params
    counts["hotspots"] = {
        m: int((hotspots["method"] == m).sum()) if len(hotspots) else 0 for m in config.methods
    }
    if len(state["cold_cells"]):
        counts["hotspots"]["gistar_frias"] = len(state["cold_cells"])
    return ", ".join(f"{m}: {n}" for m, n in counts["hotspots"].items())


def _plain(value: Any) -> Any:
    """Return ``value`` with only JSON-friendly leaves (others as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    return str(value)


def _stage_ranking(run: _Run) -> str:
    from .ranking import write_rankings

    config, out, state, counts, parameters = run.unpack()
    folder = out / "hotspots"
    folder.mkdir()
    ranked, files = write_rankings(
        state["hotspots"],
        folder,
        by=config.rank_by,
        declined=state.get("hotspots_declined"),
        incidents=state["incidents"],
        synthetic=config.synthetic,
    )
    state["hotspots_ranked"] = ranked
    state["workspace"].write_layer("hotspots", ranked)
    parameters["ranking"] = {"by": config.rank_by}
    counts["ranking"] = {"archivos": len(files)}
    return f"{len(ranked)} hotspots ordenados por {config.rank_by}"


def _stage_priority(run: _Run) -> str:
    from .priority.counts import counts_from_incidents, read_counts
    from .priority.levels import PriorityRule
    from .priority.outputs import write_priority_outputs
    from .priority.territories import compute_priority, top_districts

    config, out, state, counts, parameters = run.unpack()
    tables = [counts_from_incidents(state["incidents"])]
    tables.extend(read_counts(p) for p in config.counts)
    result = compute_priority(
        tables,
        rule=PriorityRule(method=config.priority_rule),
        n_boot=config.priority_bootstrap,
        seed=config.seed,
        synthetic=config.synthetic,
    )
    extra = {"a3_distritos_homicidios.csv": top_districts(tables, modalidad="homicidio", n=7)}
    files = write_priority_outputs(
        result,
        out / "prioridad",
        synthetic=config.synthetic,
        extra_tables=extra,
        command=run.command,
    )
    parameters["prioridad"] = _plain(getattr(result, "parameters", {}))
    counts["prioridad"] = {"archivos": len(files)}
    return f"{len(files)} archivos (tabla del plan, detalle, mapas)"


def _stage_maps(run: _Run) -> str:
    import geopandas as gpd
    import pandas as pd

    from .maps import write_atlas

    config, out, state, counts, _parameters = run.unpack()
    hotspots = state["hotspots_ranked"]
    if len(state["cold_cells"]):
        hotspots = gpd.GeoDataFrame(
            pd.concat([hotspots, state["cold_cells"]], ignore_index=True), crs="EPSG:4326"
        )
    pages = write_atlas(
        state["incidents"],
        hotspots=hotspots,
        densities=state["densities"],
        sectors=state["sectors"],
        output_dir=out / "mapas",
        public=config.public,
        offline=config.offline,
        synthetic=config.synthetic,
        parameters={
            "kernel": config.kernel,
            "métodos": ", ".join(config.methods),
            "ranking": config.rank_by,
        },
        tiles="OpenStreetMap" if config.tiles else None,
        # the real generation time (not SOURCE_DATE_EPOCH, which dates documents by their data)
        generated=state["started"],
    )
    counts["mapas"] = {"paginas": len(pages)}
    return f"{len(pages)} páginas HTML (atlas: mapas/index.html)"


def _stage_patrol(run: _Run) -> str:
    from .patrol import ScheduleOptions, plan_patrols
    from .reports.patrol_outputs import write_patrol_outputs

    config, out, state, counts, parameters = run.unpack()
    sectors = state["sectors"]
    if sectors is None or not len(sectors):
        counts["patrullaje"] = {"sectores": 0}
        return "sin capa de sectores: no hay planes de patrullaje"
    plan = plan_patrols(
        state["incidents"],
        sectors,
        share=config.patrol_share,
        schedule=ScheduleOptions(
            units=config.patrol_units,
            shift_hours=config.patrol_shift_hours,
            visit_minutes=config.patrol_visit_minutes,
        ),
    )
    files = write_patrol_outputs(plan, out / "patrullaje", synthetic=config.synthetic)
    parameters["patrullaje"] = _plain(getattr(plan, "parameters", {}))
    n_sectors = len(plan.sectors) if hasattr(plan, "sectors") else 0
    counts["patrullaje"] = {"sectores": n_sectors, "archivos": len(files)}
    return f"{n_sectors} hojas de sector, {len(files)} archivos"


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


def _summary_markdown(
    config: RunConfig,
    counts: dict[str, Any],
    timings: dict[str, float],
    open_first: list[Path],
    output: Path,
) -> str:
    from .settings import SYNTHETIC_BANNER

    ing = counts.get("ingesta", {})
    lines = [f"# {config.title}", ""]
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
