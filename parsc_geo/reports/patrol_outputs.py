"""Writers of patrol plans: printable sheets and machine-readable tables and layers.

Files written in ``output_dir``
-------------------------------
``patrullaje_<comisaría>.pdf``
    For each sector with incidents, in natural sector order: its A4 overview page, then the
    cards of its critical points (:data:`~parsc_geo.reports.patrol_sheet.CARDS_PER_PAGE` a
    page, each with its QR code). A sector without incidents gets no page (it is one line of
    ``resumen_sectores.csv`` and a note on the comisaría's sheets); a comisaría without
    incidents gets no PDF.
``png/patrullaje_<comisaría>_<sector>.png``, ``png/patrullaje_<comisaría>_<sector>_puntos.png``
    The same pages as images, for messaging apps (further pages of cards end ``_puntos_2``,
    ``_puntos_3`` …).
``puntos_criticos.csv``, ``puntos_criticos.geojson``, ``puntos_criticos.gpkg``
    Critical points (polygons, EPSG:4326; layer ``puntos_criticos``), for exchange with the
    Ministerio Público (plan activity A101).
``horario_patrullaje.csv``, ``ventanas_patrullaje.csv``, ``resumen_sectores.csv``,
``modalidades_sectores.csv``, ``hora_dia_sectores.csv``
    The schedule, windows, counts per comisaría/sector/subsector, counts and harm by modalidad,
    and the hour × day tables.
``plan_patrullaje.xlsx``
    All the tables above, one sheet each, formatted for people
    (:func:`parsc_geo.io.xlsx.write_xlsx`: column widths, header filters, frozen header,
    number formats).
``plan_patrullaje.json``
    Parameters, period, counts and the list of files.

CSV and XLSX headers are in Spanish; GeoPackage and GeoJSON fields keep the snake_case names of
:data:`parsc_geo.patrol_points.POINT_COLUMNS`. Every file is byte-identical for the same input:
document dates (PDF metadata, XLSX properties and zip entries, GeoPackage ``last_change``) come
from ``SOURCE_DATE_EPOCH`` or the last day of the data, never from the clock.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import temp_name
from .._errors import OutputError
from .._text import slug
from ..labels_es import PATROL_HEADERS as HEADERS_ES

if TYPE_CHECKING:
    import pandas as pd

    from ..parallel import Pending, WorkerPool
    from ..patrol.plan import PatrolPlan, SectorPlan
    from .patrol_sheet import NearRepeatAdvice


def spanish(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with Spanish headers (:data:`HEADERS_ES`)."""
    return frame.rename(columns=HEADERS_ES)


def _csv_text(frame: pd.DataFrame) -> str:
    from ..io.tables import neutralise_frame

    text: str = neutralise_frame(spanish(frame)).to_csv(index=False, lineterminator="\n")
    return text


def page_names(sp: SectorPlan, stem: str | None = None) -> list[str]:
    """Return the PNG file names of a sector's pages: the overview, then the pages of cards.

    ``stem`` is the overview's name without ``.png`` (default: from the comisaría and sector
    names; :func:`planned_files` makes it distinct when two sectors give the same one).
    """
    from .patrol_sheet import card_pages

    stem = stem or f"patrullaje_{slug(sp.comisaria)}_{slug(sp.sector)}"
    names = [f"{stem}.png"]
    for k in range(card_pages(sp)):
        names.append(f"{stem}_puntos.png" if k == 0 else f"{stem}_puntos_{k + 1}.png")
    return names


def planned_files(plan: PatrolPlan, output_dir: Path) -> dict[str, Path]:
    """Return every file :func:`write_patrol_outputs` writes, by role.

    Sectors without incidents have no pages and comisarías without incidents no PDF
    (:func:`parsc_geo.reports.patrol_sheet.sheet_sectors`).
    """
    from .patrol_sheet import sheet_sectors

    files: dict[str, Path] = {}
    used: set[str] = set()
    drawn = sheet_sectors(plan)
    for comisaria in dict.fromkeys(sp.comisaria for sp in drawn):
        name = _distinct(f"patrullaje_{slug(comisaria)}", ".pdf", used)
        files[f"pdf:{comisaria}"] = output_dir / name
    for sp in drawn:
        stem = _distinct(f"patrullaje_{slug(sp.comisaria)}_{slug(sp.sector)}", ".png", used)
        for k, name in enumerate(page_names(sp, stem.removesuffix(".png"))):
            files[f"png:{sp.comisaria}:{sp.sector}:{k}"] = output_dir / "png" / name
    for name in (
        "puntos_criticos.csv",
        "puntos_criticos.geojson",
        "puntos_criticos.gpkg",
        "horario_patrullaje.csv",
        "ventanas_patrullaje.csv",
        "resumen_sectores.csv",
        "modalidades_sectores.csv",
        "hora_dia_sectores.csv",
        "plan_patrullaje.xlsx",
        "plan_patrullaje.json",
    ):
        files[name] = output_dir / name
    return files


def _distinct(stem: str, suffix: str, used: set[str]) -> str:
    """Return ``stem + suffix``, or ``stem-2 + suffix``… when another name already took it.

    Distinct comisarías (or sectors) whose names give the same slug ("COMISARIA ¿X?" and
    "COMISARIA ¡X!") must not write one file over the other, as the atlas pages do.
    """
    name, i = stem + suffix, 2
    while name.lower() in used:
        name, i = f"{stem}-{i}{suffix}", i + 1
    used.add(name.lower())
    return name


def _write_text(path: Path, text: str, *, overwrite: bool) -> None:
    from .._atomic import write_text_atomic

    write_text_atomic(path, text, overwrite=overwrite)


def write_patrol_outputs(
    plan: PatrolPlan,
    output_dir: str | Path,
    *,
    synthetic: bool = False,
    overwrite: bool = False,
    basemap: bool = False,
    density: bool = True,
    workers: WorkerPool | int = 1,
    near_repeat: NearRepeatAdvice | str | None = None,
) -> list[Path]:
    """Write the patrol sheets and tables of ``plan`` into ``output_dir``.

    Parameters
    ----------
    plan
        From :func:`parsc_geo.patrol.plan_patrols`.
    output_dir
        Folder (created if missing).
    synthetic
        The data is synthetic: every sheet shows the banner and the JSON says so.
    overwrite
        Replace existing files; otherwise an existing output raises :class:`OutputError`
        before anything is written.
    basemap
        Try web tiles under the maps (needs ``contextily`` and network; never required).
    density
        Draw a light kernel-density background on the maps.
    workers
        A :class:`parsc_geo.parallel.WorkerPool` or a number of processes that draw the
        comisarías' sheets in parallel (1: in this process); the files do not depend on it.
    near_repeat
        The period's near-repeat finding, printed on every overview page as advice for the
        crew: :func:`parsc_geo.reports.patrol_sheet.near_repeat_advice` of the run's Knox
        table (or a text printed as it is). None: nothing is said about near repeats.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of the module docstring.
    """
    from ..parallel import worker_pool

    with worker_pool(workers) as pool:
        _, pending = start_patrol_outputs(
            plan,
            output_dir,
            synthetic=synthetic,
            overwrite=overwrite,
            basemap=basemap,
            density=density,
            pool=pool,
            near_repeat=near_repeat,
        )
        return pending.results()


def start_patrol_outputs(
    plan: PatrolPlan,
    output_dir: str | Path,
    *,
    pool: WorkerPool,
    synthetic: bool = False,
    overwrite: bool = False,
    basemap: bool = False,
    density: bool = True,
    near_repeat: NearRepeatAdvice | str | None = None,
    sheets: Pending[Path] | None = None,
) -> tuple[list[Path], Pending[Path]]:
    """Write :func:`write_patrol_outputs`'s tables and start its sheets in ``pool``.

    Returns once the tables are written, the sheets (PDF and PNG) still being drawn by the
    pool: :meth:`~parsc_geo.parallel.Pending.results` waits for them and returns what
    :func:`write_patrol_outputs` returns. A run goes on with other work meanwhile.
    ``sheets``: the same plan's sheets already started by :func:`start_patrol_sheets` (with
    the same options), then not drawn again.

    Returns
    -------
    tuple
        The files that will have been written, and the pending sheets.
    """
    from ..parallel import Pending
    from .pdf import metadata_date

    out = Path(output_dir)
    files = _check_outputs(plan, out, overwrite=overwrite)
    date = metadata_date(plan.period[1] if plan.period else None)
    if sheets is None:
        # the sheets are drawn by the pool while this process writes the tables
        sheets = _start_sheets(
            plan,
            files,
            pool=pool,
            background=False,
            synthetic=synthetic,
            density=density,
            basemap=basemap,
            date=date,
            overwrite=overwrite,
            near_repeat=near_repeat,
        )
    _write_tables(plan, files, out, synthetic=synthetic, date=date, overwrite=overwrite)
    written = list(files.values())
    drawing = sheets

    def finish() -> list[Path]:
        drawing.results()
        return written

    return list(written), Pending(finish)


def start_patrol_sheets(
    plan: PatrolPlan,
    output_dir: str | Path,
    drafts: str | Path,
    *,
    pool: WorkerPool,
    synthetic: bool = False,
    overwrite: bool = False,
    basemap: bool = False,
    density: bool = True,
    near_repeat: NearRepeatAdvice | str | None = None,
) -> Pending[Path]:
    """Start drawing the sheets of ``plan`` as background tasks of ``pool``, into ``drafts``.

    A run starts them as soon as the plan and the near-repeat advice are known, long before
    its ``patrullaje`` stage: the workers draw them whenever no other task waits for them
    (:meth:`parsc_geo.parallel.WorkerPool.start` with ``background``). They are drawn in the
    a new folder inside ``drafts`` (created if missing; on the output's file system; the
    new folder alone is removed afterwards) so that ``output_dir`` holds
    nothing before the stage (the atlas, written meanwhile, links to what exists then):
    :meth:`~parsc_geo.parallel.Pending.results` waits for them, moves them to where
    :func:`write_patrol_outputs` writes them (same bytes) and returns their paths. Pass the
    pending sheets to :func:`start_patrol_outputs` (``sheets``) for the tables.

    Raises
    ------
    OutputError
        When ``output_dir`` is a file, or (without ``overwrite``) already holds an output.
    """
    import os
    import shutil

    from ..parallel import Pending
    from .pdf import metadata_date

    out = Path(output_dir)
    files = _check_outputs(plan, out, overwrite=overwrite)
    sheets = {k: p for k, p in files.items() if k.startswith(("pdf:", "png:"))}
    Path(drafts).mkdir(parents=True, exist_ok=True)
    # a folder of this call inside ``drafts``: the only one removed when the sheets are moved
    folder = Path(drafts) / temp_name(".sheets")
    folder.mkdir()
    drafted = {k: folder / p.relative_to(out) for k, p in sheets.items()}
    drawing = _start_sheets(
        plan,
        drafted,
        pool=pool,
        background=True,
        synthetic=synthetic,
        density=density,
        basemap=basemap,
        date=metadata_date(plan.period[1] if plan.period else None),
        overwrite=True,
        near_repeat=near_repeat,
    )

    def finish() -> list[Path]:
        drawing.results()
        for key, target in sheets.items():
            if target.exists() and not overwrite:
                raise OutputError(
                    f"el archivo de salida ya existe: {target}",
                    hint="use overwrite=True (--overwrite) o elija otra carpeta",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(drafted[key], target)
        shutil.rmtree(folder, ignore_errors=True)
        return list(sheets.values())

    return Pending(finish)


def _check_outputs(plan: PatrolPlan, out: Path, *, overwrite: bool) -> dict[str, Path]:
    """Return :func:`planned_files`, refused when ``out`` is a file or holds an output."""
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"la carpeta de salida es un archivo: {out}", hint="elija una carpeta con -o"
        )
    files = planned_files(plan, out)
    existing = [str(p) for p in files.values() if p.exists()]
    if existing and not overwrite:
        shown = ", ".join(existing[:3]) + (" …" if len(existing) > 3 else "")
        raise OutputError(
            f"{len(existing)} archivo(s) de salida ya existe(n) en {out}: {shown}",
            hint="use overwrite=True (--overwrite) o elija otra carpeta",
        )
    return files


def _start_sheets(
    plan: PatrolPlan,
    targets: dict[str, Path],
    *,
    pool: WorkerPool,
    background: bool,
    synthetic: bool,
    density: bool,
    basemap: bool,
    date: dt.datetime,
    overwrite: bool,
    near_repeat: NearRepeatAdvice | str | None,
) -> Pending[Path]:
    """Start one task per comisaría (its PDF and the PNG of every page) in ``pool``.

    ``targets`` maps the ``pdf:``/``png:`` keys of :func:`planned_files` to where the tasks
    write them.
    """
    from dataclasses import replace

    from .patrol_sheet import sheet_sectors

    tasks = []
    drawn = sheet_sectors(plan)
    for comisaria in dict.fromkeys(sp.comisaria for sp in drawn):
        own = replace(plan, sectors=[sp for sp in plan.sectors if sp.comisaria == comisaria])
        tasks.append(
            _SheetTask(
                plan=own,
                pdf=targets[f"pdf:{comisaria}"],
                pngs=[
                    targets[f"png:{sp.comisaria}:{sp.sector}:{k}"]
                    for sp in sheet_sectors(own)
                    for k in range(len(page_names(sp)))
                ],
                synthetic=synthetic,
                density=density,
                basemap=basemap,
                date=date,
                overwrite=overwrite,
                near_repeat=near_repeat,
            )
        )
    # the largest comisaría first: started last, it would keep one worker busy alone
    by_size = sorted(tasks, key=lambda t: -len(t.plan.sectors))
    if not background:
        return pool.start(_write_sheets, by_size)
    # drawn while the run goes on: a sheet holds its comisaría's incidents, and is not drawn
    # beside a task holding many others (a dense province's atlas page), nor they beside it
    return pool.start(
        _write_sheets,
        by_size,
        held=lambda t: sum(sp.n_incidents for sp in t.plan.sectors),
        background=True,
    )


def _write_tables(
    plan: PatrolPlan,
    files: dict[str, Path],
    out: Path,
    *,
    synthetic: bool,
    date: dt.datetime,
    overwrite: bool,
) -> None:
    """Write the CSV, XLSX, GeoPackage, GeoJSON and JSON files of ``plan``."""
    points = plan.points_frame()
    tables: dict[str, pd.DataFrame] = {
        "puntos_criticos.csv": points.drop(columns="geometry"),
        "horario_patrullaje.csv": plan.schedule_frame(),
        "ventanas_patrullaje.csv": plan.windows_frame(),
        "resumen_sectores.csv": plan.summary_frame(),
        "modalidades_sectores.csv": plan.modalidades_frame(),
        "hora_dia_sectores.csv": plan.hour_day_frame(),
    }
    for name, frame in tables.items():
        _write_text(files[name], _csv_text(frame), overwrite=overwrite)
    _write_text(files["puntos_criticos.geojson"], points.to_json(drop_id=True), overwrite=overwrite)
    _write_gpkg(files["puntos_criticos.gpkg"], points, date=date, overwrite=overwrite)
    _write_xlsx(files["plan_patrullaje.xlsx"], tables, date=date, overwrite=overwrite)
    meta: dict[str, Any] = {
        "synthetic": synthetic,
        "period": list(plan.period) if plan.period else None,
        "parameters": plan.parameters,
        "sectors": [
            {
                "comisaria": sp.comisaria,
                "sector": sp.sector,
                "incidents": sp.n_incidents,
                "incidents_without_time": sp.n_no_time,
                "critical_points": len(sp.points),
                "sheet_pages": len(page_names(sp)) if sp.n_incidents else 0,
            }
            for sp in plan.sectors
        ],
        "sectors_without_sheet": [
            {"comisaria": sp.comisaria, "sector": sp.sector}
            for sp in plan.sectors
            if not sp.n_incidents
        ],
        "incidents_outside_sectors": plan.n_outside,
        "references": [
            "Koper, C. S. (1995). Just enough police presence. Justice Quarterly 12(4), 649-672.",
            "Sherman, L. W., & Weisburd, D. (1995). General deterrent effects of police patrol "
            "in crime 'hot spots'. Justice Quarterly 12(4), 625-648.",
        ],
        "files": sorted(str(p.relative_to(out)) for p in files.values()),
    }
    _write_text(
        files["plan_patrullaje.json"],
        json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        overwrite=overwrite,
    )


@dataclass(frozen=True)
class _SheetTask:
    """The sheets of one comisaría: drawn, saved as one PDF and rasterised page by page."""

    plan: PatrolPlan
    pdf: Path
    pngs: list[Path]
    synthetic: bool
    density: bool
    basemap: bool
    date: dt.datetime
    overwrite: bool
    near_repeat: NearRepeatAdvice | str | None = None


def _write_sheets(task: _SheetTask) -> Path:
    """Draw, save and rasterise one comisaría's sheets (a task of write_patrol_outputs)."""
    import matplotlib as mpl

    from .._memory import release_memory
    from .patrol_sheet import sheet_figures
    from .pdf import RC_PARAMS, pdf_pages_to_png, save_pdf

    # A worker gives memory back after a long task, but what the task's result (sent after
    # that) or a short task after it freed stays with the process: a worker came here from a
    # million-incident atlas page still holding 1.4 GB and drew the sheets on top of it. A
    # comisaría's sheets take seconds; the release, milliseconds.
    release_memory()
    plan = task.plan
    sheets = sheet_figures(
        plan,
        synthetic=task.synthetic,
        density=task.density,
        basemap=task.basemap,
        near_repeat=task.near_repeat,
    )
    with mpl.rc_context(RC_PARAMS):
        pdf_path = save_pdf(
            [fig for _, pages in sheets for fig in pages],
            task.pdf,
            title=f"Plan de patrullaje — {plan.sectors[0].comisaria}",
            date=task.date,
            overwrite=task.overwrite,
        )
    # The PNGs are the PDF's pages rasterised (pdfium): drawing every sheet a second time with
    # matplotlib would double the time of the slowest stage of a run.
    pdf_pages_to_png(pdf_path, task.pngs, overwrite=task.overwrite)
    return pdf_path


def hour_day_pivot(frame: pd.DataFrame) -> pd.DataFrame:
    """Return :meth:`PatrolPlan.hour_day_frame` as people read it: one row per unit and day.

    The long table (one row per unit, day and hour) becomes hours as columns (``00 h`` …
    ``23 h``) and a ``Total``, units and days in their order of appearance, Spanish headers.
    """
    keys = ["nivel", "comisaria", "sector", "subsector", "dia"]
    table = frame.copy()
    for column in ("sector", "subsector"):
        table[column] = table[column].where(table[column].notna(), "")
    wide = table.pivot_table(
        index=keys, columns="hora", values="n", aggfunc="sum", sort=False, fill_value=0
    )
    wide = wide.reindex(columns=sorted(wide.columns))
    wide.columns = [f"{int(h):02d} h" for h in wide.columns]
    wide["Total"] = wide.sum(axis=1)
    return spanish(wide.reset_index())


#: Sheet of the workbook of each table.
SHEET_NAMES: dict[str, str] = {
    "puntos_criticos.csv": "Puntos críticos",
    "horario_patrullaje.csv": "Horario",
    "ventanas_patrullaje.csv": "Ventanas",
    "resumen_sectores.csv": "Resumen",
    "modalidades_sectores.csv": "Modalidades",
    "hora_dia_sectores.csv": "Hora y día",
}
#: Number formats of the workbook's columns (Spanish headers); other numbers are grouped.
NUMBER_FORMATS: dict[str, str] = {
    HEADERS_ES["lat"]: "0.00000",
    HEADERS_ES["lon"]: "0.00000",
    HEADERS_ES["utm_este"]: "0",
    HEADERS_ES["utm_norte"]: "0",
    HEADERS_ES["dano"]: "#,##0.0",
    HEADERS_ES["riesgo"]: "#,##0.0",
    HEADERS_ES["area_m2"]: "#,##0",
    HEADERS_ES["cobertura_tipo_dia"]: "0.0%",
    HEADERS_ES["hora_inicio"]: "0",
    HEADERS_ES["hora"]: "0",
    HEADERS_ES["rango"]: "0",
    HEADERS_ES["rango_comisaria"]: "0",
    HEADERS_ES["rango_subsector"]: "0",
}


def _write_xlsx(path: Path, tables: dict[str, pd.DataFrame], *, date: Any, overwrite: bool) -> None:
    """Write every table as a formatted sheet of one workbook (Spanish headers, fixed date)."""
    from .._atomic import atomic_path
    from ..io.xlsx_stream import write_xlsx

    # the hour × day counts are pivoted (hours as columns): the long form stays in the CSV
    sheets = {
        SHEET_NAMES[key]: hour_day_pivot(frame)
        if key == "hora_dia_sectores.csv"
        else spanish(frame)
        for key, frame in tables.items()
    }
    with atomic_path(path, overwrite=overwrite) as tmp:
        write_xlsx(tmp, sheets, date=date, number_formats=NUMBER_FORMATS)


def _write_gpkg(path: Path, points: Any, *, date: Any, overwrite: bool) -> None:
    """Write the critical points as layer ``puntos_criticos``, stamped ``date`` (not now)."""
    import pyogrio

    from .._atomic import atomic_path

    key = "OGR_CURRENT_DATE"
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: date.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.unlink()
            points.to_file(tmp, layer="puntos_criticos", driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({key: previous})
