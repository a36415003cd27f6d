"""Publish priority territories: tables, maps and ``run.json``.

Files written by :func:`write_priority_outputs` in the output folder:

``territorios_priorizados.csv`` / ``.xlsx`` / ``.md``
    The plan's section 2.8 table — N/O, DEPARTAMENTO, PROVINCIA, CLÚSTER per fenómeno — with
    the complaints, rates, stability and the observation behind each level
    (:func:`parsc_geo.priority.plan_table`). The XLSX is formatted (filters, frozen header,
    widths, number formats) and adds the method beside the table, the detailed indicators per
    level and the parameters; the Markdown adds the method and the indicators behind every
    level (:mod:`parsc_geo.priority.tables`).
``prioridad_detalle.csv``
    Every unit, target and indicator (Spanish headers, rounded for reading).
``mapa_prioridad_<nivel>_<objetivo>.html`` / ``.png``
    One choropleth per target and territorial level (:mod:`parsc_geo.priority.maps`).
``mapas_prioridad.pdf``
    The same document maps as the PNGs, one per page.
``run.json``
    Inputs (with SHA-256 checksums when paths are known), parameters, notes and versions.

CSV files are UTF-8 with a byte-order mark so that spreadsheet programs show the accents;
every text cell of a CSV or XLSX goes through :mod:`parsc_geo.io.tables` (never a formula).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from .._errors import OutputError
from .._provenance import describe_file, package_versions
from .._text import slug
from ..labels_es import NO_COMPLAINTS
from ..labels_es import PRIORITY_DETAIL_HEADERS as DETAIL_HEADERS_ES
from ..labels_es import PRIORITY_LEVELS as LEVEL_LABELS_ES
from .levels import LEVEL_NONE
from .maps import (
    LEVEL_COLORS,
    start_priority_figures,
    start_priority_maps_pdf,
    write_priority_map_html,
    write_priority_map_png,
    write_priority_maps_pdf,
)
from .tables import detail_table, plan_markdown, top_districts_table, write_plan_xlsx
from .territories import PriorityResult, plan_table

if TYPE_CHECKING:
    import pandas as pd

    from ..parallel import Pending, WorkerPool

__all__ = [
    "DETAIL_HEADERS_ES",
    "LEVEL_COLORS",
    "LEVEL_LABELS_ES",
    "describe_inputs",
    "detail_table",
    "package_versions",
    "plan_markdown",
    "top_districts_table",
    "write_priority_map_html",
    "write_priority_map_png",
    "write_priority_maps_pdf",
    "write_priority_outputs",
    "write_run_json",
]

#: File of the document maps, one page per map.
MAPS_PDF = "mapas_prioridad.pdf"


def describe_inputs(paths: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Return ``path``, ``name``, ``bytes`` and ``sha256`` of each input file, for ``run.json``."""
    return [describe_file(p) for p in paths]


def _atomic_write(path: Path, writer: Callable[[Path], object], *, overwrite: bool) -> Path:
    """Call ``writer(tmp)`` on a temporary file that then replaces ``path`` atomically."""
    from .._atomic import atomic_path

    with atomic_path(path, overwrite=overwrite) as tmp:
        try:
            writer(tmp)
        except OSError as exc:
            raise OutputError(f"no se puede escribir {path}: {exc}") from exc
    return path


def _write_plan_csv(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    return _write_csv(plan_table(result), path, overwrite=overwrite)


def _write_detail_csv(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    return _write_csv(detail_table(result), path, overwrite=overwrite)


def _write_markdown(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    text = plan_markdown(result)
    return _atomic_write(
        path, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=overwrite
    )


def _write_xlsx(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    return _atomic_write(path, partial(write_plan_xlsx, result), overwrite=overwrite)


def write_run_json(
    result: PriorityResult,
    path: str | os.PathLike[str],
    *,
    outputs: Sequence[Path] = (),
    command: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``run.json``: inputs (with checksums), parameters, notes, outputs and versions."""
    from zoneinfo import ZoneInfo

    record = {
        "tool": "parsc-geo priority",
        "command": command,
        "created": dt.datetime.now(ZoneInfo(settings.TIMEZONE)).isoformat(timespec="seconds"),
        "synthetic": result.synthetic,
        "period": result.parameters.get("period"),
        "previous_period": result.parameters.get("previous_period"),
        "inputs": result.inputs,
        "parameters": result.parameters,
        "notes": result.notes,
        "outputs": [Path(p).name for p in outputs],
        "summary": _summary(result),
        "versions": package_versions(),
    }
    text = json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n"
    return _atomic_write(
        Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=overwrite
    )


def _summary(result: PriorityResult) -> list[dict[str, Any]]:
    """Return the units a plan table lists (with a level or uncertain), for ``run.json``."""
    rows = result.table[(result.table["nivel"] != LEVEL_NONE) | result.table["incierto"]]
    return [
        {
            "nivel_territorial": r.nivel_territorial,
            "objetivo": r.objetivo,
            "codigo": r.codigo,
            "nombre": r.provincia if r.nivel_territorial == "provincia" else r.distrito,
            "nivel": r.nivel,
            "nivel_publicado": r.nivel_publicado,
            "estabilidad": _share(r.estabilidad),
        }
        for r in rows.itertuples(index=False)
    ]


def _share(value: object) -> float | None:
    share = float(value)  # type: ignore[arg-type]
    return None if share != share else round(share, 4)


def _said_empty(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table``, or for a table without rows one row saying there were no complaints.

    A month without some crime is normal; the published table says so instead of showing
    only headers.
    """
    import pandas as pd

    if len(table) or not len(table.columns):
        return table
    row = {column: "" for column in table.columns}
    row[table.columns[0]] = NO_COMPLAINTS
    return pd.DataFrame([row], columns=table.columns)


def _write_csv(table: pd.DataFrame, path: Path, *, overwrite: bool) -> Path:
    """Write a published table as CSV (UTF-8 with BOM), its text cells never formulas."""
    from ..io.tables import neutralise_frame

    table = neutralise_frame(_said_empty(table))
    return _atomic_write(
        path,
        lambda tmp: table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n"),
        overwrite=overwrite,
    )


def _call_map_writer(
    writer: Callable[..., Path], result: PriorityResult, path: Path, *, level: str, target: str
) -> Path:
    return writer(result, path, level=level, target=target, overwrite=True)


def write_priority_outputs(
    result: PriorityResult,
    output_dir: str | os.PathLike[str],
    *,
    synthetic: bool | None = None,
    overwrite: bool = False,
    maps: bool = True,
    extra_tables: dict[str, pd.DataFrame] | None = None,
    command: str | None = None,
    workers: WorkerPool | int = 1,
) -> list[Path]:
    """Write every publication of a priority result into ``output_dir``.

    Parameters
    ----------
    result
        Output of :func:`parsc_geo.priority.compute_priority`.
    output_dir
        Folder (created if missing).
    synthetic
        Show the synthetic-data banner; ``None`` takes ``result.synthetic``.
    overwrite
        Replace existing files; otherwise an existing output raises :class:`OutputError` before
        anything is written.
    maps
        Write the HTML and PNG maps.
    extra_tables
        More CSV tables to write, by file name (e.g. the A3 list of districts).
    command
        The command line, recorded in ``run.json``.
    workers
        A :class:`parsc_geo.parallel.WorkerPool` or a number of processes that draw the
        document maps (each figure once, for its PNG and its page of the PDF) while the tables
        and HTML maps are written (1: one after the other); the files do not depend on it.

    Returns
    -------
    list of pathlib.Path
        Files written, ``run.json`` last.
    """
    from ..parallel import worker_pool

    with worker_pool(workers) as pool:
        _, pending = start_priority_outputs(
            result,
            output_dir,
            synthetic=synthetic,
            overwrite=overwrite,
            maps=maps,
            extra_tables=extra_tables,
            command=command,
            pool=pool,
        )
        return pending.results()


def start_priority_outputs(
    result: PriorityResult,
    output_dir: str | os.PathLike[str],
    *,
    pool: WorkerPool,
    synthetic: bool | None = None,
    overwrite: bool = False,
    maps: bool = True,
    extra_tables: dict[str, pd.DataFrame] | None = None,
    command: str | None = None,
) -> tuple[list[Path], Pending[Path]]:
    """Write :func:`write_priority_outputs`'s files, leaving the PDF and ``run.json`` for later.

    Returns once the tables, the HTML maps and the PNGs are written. The PDF of the document
    maps (saved from the figures the pool drew) and ``run.json`` are written by this process
    when :meth:`~parsc_geo.parallel.Pending.results` is called, which returns what
    :func:`write_priority_outputs` returns; a run calls it while the pool draws other pages.

    Returns
    -------
    tuple
        The files that will have been written (as ``results()`` returns them), and the
        pending rest.
    """
    from ..parallel import Pending

    out = Path(output_dir)
    if synthetic is not None and synthetic != result.synthetic:
        result = dataclasses.replace(result, synthetic=synthetic)
    plan: list[tuple[Path, Callable[[Path], Path]]] = [
        (out / "territorios_priorizados.csv", lambda p: _write_plan_csv(result, p, overwrite=True)),
        (out / "territorios_priorizados.xlsx", lambda p: _write_xlsx(result, p, overwrite=True)),
        (out / "territorios_priorizados.md", lambda p: _write_markdown(result, p, overwrite=True)),
        (out / "prioridad_detalle.csv", lambda p: _write_detail_csv(result, p, overwrite=True)),
    ]
    for name, table in (extra_tables or {}).items():
        plan.append((out / name, partial(_write_csv, table, overwrite=True)))
    documents: list[tuple[str, str, Path]] = []
    if maps:
        targets = result.table[["nivel_territorial", "objetivo"]].drop_duplicates()
        for level, target in targets.itertuples(index=False):
            stem = f"mapa_prioridad_{level}_{slug(str(target), default='objetivo')}"
            plan.append(
                (
                    out / f"{stem}.html",
                    partial(
                        _call_map_writer,
                        write_priority_map_html,
                        result,
                        level=level,
                        target=target,
                    ),
                )
            )
            documents.append((str(level), str(target), out / f"{stem}.png"))
    paths = [p for p, _ in plan] + [p for *_, p in documents]
    paths += [out / MAPS_PDF] if documents else []
    run_path = out / "run.json"
    existing = [p for p in [*paths, run_path] if p.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{len(existing)} salida(s) ya existe(n) en {out}, la primera {existing[0].name}",
            hint="elija otra carpeta o use overwrite=True / --overwrite",
        )
    # The document maps (matplotlib, the slow part) are drawn by the pool meanwhile.
    drawing = start_priority_figures(pool, result, documents, overwrite=True) if documents else None
    written = [writer(path) for path, writer in plan]
    # the figures' PDF is saved by a worker when one is free (this process goes on)
    saving = (
        start_priority_maps_pdf(pool, result, drawing.results(), out / MAPS_PDF, overwrite=True)
        if drawing is not None
        else None
    )

    def finish() -> list[Path]:
        files = list(written)
        if saving is not None:
            files += [png for *_, png in documents]
            files += saving.results()
        files.append(
            write_run_json(result, run_path, outputs=files, command=command, overwrite=True)
        )
        return files

    return [*paths, run_path], Pending(finish)
