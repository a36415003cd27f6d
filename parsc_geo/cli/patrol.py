"""``parsc-geo patrol``: patrol plans per comisaría sector (PDF, PNG, CSV, XLSX, GeoPackage)."""

from __future__ import annotations

from pathlib import Path

import click

from .._text import num
from . import localized
from .options import (
    Choice,
    Count,
    Positive,
    cell_size_option,
    eps_option,
    fenomeno_option,
    include_at_station_option,
    input_argument,
    is_quiet,
    min_count_option,
    output_dir_option,
    overwrite_option,
    period_option,
    point_columns_options,
    workers_option,
    workspace_option,
    workspace_path,
)
from .progress import stage

#: Default output folder of the patrol plans.
DEFAULT_PATROL_DIR = Path("patrullaje")


@localized.command(
    "patrol",
    aliases=[
        localized.Alias("--units", "--patrol-units"),
        localized.Alias("--method", "--points-method"),
        localized.Alias("-m", "--points-method"),
        localized.Alias("--risk", "--weights", {"n": None}),
    ],
    epilog="""\b
Examples:
  parsc-geo patrol -o patrullaje/
  parsc-geo patrol --workspace cajamarca.gpkg --comisaria "CPNP CAJAMARCA" -o plan/
  parsc-geo patrol --patrol-units 2 --shift-hours 12 --shifts 2 --visit-minutes 10 -o plan/
  parsc-geo patrol --points-method grid --cell-size 100 --share 0.7 --overwrite -o plan/
  parsc-geo patrol --workers 1 -o plan/
""",
)
@input_argument
@workspace_option
@point_columns_options
@fenomeno_option
@period_option
@include_at_station_option
@output_dir_option(DEFAULT_PATROL_DIR)
@localized.option("--comisaria", help="Plan only this comisaría (name or CENACOM id).")
@localized.option(
    "--patrol-units",
    "units",
    type=Count(1),
    default=1,
    show_default=True,
    help="Patrol units per sector and shift.",
)
@localized.option(
    "--shifts",
    type=click.IntRange(min=1, max=24),
    default=None,
    help="Shifts per day [default: as many as fit in 24 h, e.g. 3 of 8 h].",
)
@localized.option(
    "--shift-hours",
    type=click.IntRange(min=1, max=24),
    default=8,
    show_default=True,
    help="Length of a shift (hours).",
)
@localized.option(
    "--first-shift-start",
    type=click.IntRange(min=0, max=23),
    default=6,
    show_default=True,
    help="Hour at which the first shift starts.",
)
@localized.option(
    "--available-hours",
    type=Positive(),
    default=None,
    help="Hours per unit and shift for visits to critical points [default: the whole shift].",
)
@localized.option(
    "--visit-minutes",
    type=click.IntRange(min=1, max=240),
    default=15,
    show_default=True,
    help="Length of a visit (Koper 1995: 10–15 min).",
)
@localized.option(
    "--revisit-minutes",
    type=Count(1),
    default=120,
    show_default=True,
    help="Minimum time between visits to the same point.",
)
@localized.option(
    "--share",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=0.6,
    show_default=True,
    help="Share of incidents the patrol windows must cover.",
)
@localized.option(
    "--block-hours",
    type=click.Choice(["1", "2", "3", "4", "6"]),
    default="2",
    show_default=True,
    help="Length of the hour blocks of the windows.",
)
@localized.option(
    "--points-method",
    "method",
    type=Choice(["dbscan", "gistar", "grid"]),
    default="dbscan",
    show_default=True,
    help="Where candidate critical points come from.",
)
@localized.option(
    "--hotspots-layer",
    help="Use this workspace layer (from 'parsc-geo hotspots') as candidate critical points "
    "instead of --points-method.",
)
@min_count_option(1, 5, help="Minimum incidents in a critical point.")
@eps_option(60.0, dest="eps_m", help="DBSCAN radius (m).")
@cell_size_option(100.0, dest="cell_size_m", help="Cell size (m) of the grid and gistar methods.")
@localized.option(
    "--weights",
    type=Choice(["harm"]),
    default=None,
    help="Rank points and share visits by harm-weighted incidents [default: incidents, "
    "unweighted].",
)
@localized.option("--no-density", is_flag=True, help="Draw the maps without a density background.")
@localized.option(
    "--basemap",
    is_flag=True,
    help="Try web tiles under the maps (needs contextily and network; skipped otherwise).",
)
@overwrite_option
@workers_option
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    fenomenos: tuple[str, ...],
    period: str | None,
    include_at_station: bool,
    output: Path,
    comisaria: str | None,
    units: int,
    shifts: int | None,
    shift_hours: int,
    first_shift_start: int,
    available_hours: float | None,
    visit_minutes: int,
    revisit_minutes: int,
    share: float,
    block_hours: str,
    method: str,
    hotspots_layer: str | None,
    min_count: int,
    eps_m: float,
    cell_size_m: float,
    weights: str | None,
    no_density: bool,
    basemap: bool,
    overwrite: bool,
    workers: int | None,
) -> None:
    """Write patrol plans per comisaría sector.

    Plans the incidents of INPUT (any incident file, or a workspace) or of the workspace, in
    the sectors of the workspace.

    For each sector: the ranked critical points (small hotspots inside the sector), the hour ×
    day table, the patrol windows (fewest hour blocks covering --share of the incidents, per
    weekday/weekend) and a schedule of short visits repeated about every two hours (Koper 1995;
    Sherman & Weisburd 1995), visiting the points in a short straight-line tour. Writes one A4
    PDF per comisaría (a page per sector), a PNG per sector, CSV/XLSX tables and the critical
    points as GeoPackage and GeoJSON.
    """
    from .._errors import InputDataError
    from ..parallel import WorkerPool
    from ..patrol import ScheduleOptions, plan_patrols
    from ..reports import write_patrol_outputs
    from ..workflow import IncidentFilter, PointInput, ensure_assigned, load_incidents
    from ..workspace import open_workspace

    # station stacks are left out (or kept) by plan_patrols, which counts them
    incidents = load_incidents(
        PointInput(input_path, workspace, lon_col, lat_col, input_crs),
        IncidentFilter(fenomenos, period, include_at_station=True),
    )
    ws = open_workspace(workspace_path(workspace))
    sectors = ws.read_sectors() if ws.exists else None
    if sectors is None:
        raise InputDataError(
            f"el espacio de trabajo {ws.path} no tiene capa de sectores",
            hint="cárguela con 'parsc-geo ingest --sectors ARCHIVO' o ejecute 'parsc-geo demo'",
        )
    incidents = ensure_assigned(incidents, sectors)
    options = ScheduleOptions(
        units=units,
        shifts=shifts,
        shift_hours=shift_hours,
        first_shift_start=first_shift_start,
        available_hours=available_hours,
        visit_minutes=visit_minutes,
        revisit_minutes=revisit_minutes,
    )
    hotspots = ws.read_layer(hotspots_layer) if hotspots_layer else None
    quiet = is_quiet(ctx)
    with WorkerPool(workers) as pool:
        with stage("planificando el patrullaje por sector", quiet=quiet):
            plan = plan_patrols(
                incidents,
                sectors,
                hotspots=hotspots,
                comisaria=comisaria,
                share=share,
                block_hours=int(block_hours),
                schedule=options,
                method=method,
                min_count=min_count,
                eps_m=eps_m,
                cell_size_m=cell_size_m,
                risk=weights or "n",
                exclude_at_station=not include_at_station,
                workers=pool,
            )
        synthetic = bool(incidents.attrs.get("synthetic", False))
        with stage(
            f"escribiendo hojas, mapas y tablas de {num(len(plan.sectors))} sectores", quiet=quiet
        ):
            paths = write_patrol_outputs(
                plan,
                output,
                synthetic=synthetic or bool(ws.metadata().get("synthetic", False)),
                overwrite=overwrite,
                basemap=basemap,
                density=not no_density,
                workers=pool,
            )
    if not quiet:
        for sp in plan.sectors:
            click.echo(
                f"{sp.comisaria} / {sp.sector}: {num(sp.n_incidents)} denuncias, "
                f"{len(sp.points)} puntos críticos"
            )
    click.echo(f"{num(len(paths))} archivo(s) escrito(s) en {output}")
