"""Files of sector evaluation and design: layers, tables (CSV, formatted XLSX), maps, JSON.

Design (:func:`write_design_outputs`) writes into one folder:

``sectores_disenados.geojson`` and ``sectores_disenados.gpkg`` (layer ``sectores_disenados``)
    One row per subsector: ``comisaria``, ``comisaria_id``, ``sector``, ``subsector`` and the
    workload columns, in the format ``--sectors`` reads (:func:`parsc_geo.sectors.read_sectors`),
    so the plan can be fed back to ``patrol`` and ``run``.
``evaluacion_sectores.csv``
    One row per sector and subsector of the existing and the designed plans
    (:data:`parsc_geo.districting.evaluate.UNIT_COLUMNS`).
``evaluacion_resumen.csv``
    Old vs new per comisaría, level and indicator (CV, max/min, Gini, Polsby–Popper,
    contiguity, gaps, overlaps, officers) with the change.
``evaluacion_sectores.xlsx``
    Both tables and the findings, formatted for people (column widths, header filter, frozen
    header, number formats).
``mapa_sectores_<comisaría>.pdf`` / ``.png``
    The printable sector map (A4 or A3) of each comisaría.
``diseno_sectores.json``
    Parameters, automatic choices, algorithm and trials, messages and findings.

Evaluation (:func:`write_evaluation_outputs`) writes the same tables, the map of today's sectors
(``mapa_evaluacion_<comisaría>``) and ``evaluacion_sectores.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._errors import OutputError

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

    from .design import SectorDesign
    from .evaluate import PlanEvaluation

#: Spanish headers of the XLSX tables.
HEADERS_ES: Final[dict[str, str]] = {
    "comisaria": "Comisaría",
    "plan": "Plan",
    "nivel": "Nivel",
    "sector": "Sector",
    "subsector": "Subsector",
    "denuncias": "Denuncias",
    "dano": "Daño",
    "denuncias_noche": "Denuncias de noche",
    "poblacion": "Población",
    "area_km2": "Área (km²)",
    "recorrido_km3": "Recorrido (km²·km)",
    "carga": "Carga",
    "pct_denuncias": "% denuncias",
    "pct_dano": "% daño",
    "pct_denuncias_noche": "% denuncias de noche",
    "pct_poblacion": "% población",
    "pct_area": "% área",
    "pct_carga": "% carga",
    "distancia_km": "Distancia a la comisaría (km)",
    "distancia_max_km": "Distancia máxima (km)",
    "polsby_popper": "Polsby–Popper",
    "partes": "Partes",
    "contiguo": "Contiguo",
    "efectivos": "Efectivos (reparto igual)",
    "efectivos_por_100_denuncias": "Efectivos por 100 denuncias",
    "indicador": "Indicador",
    "clave": "Clave",
    "existente": "Existente",
    "diseñado": "Diseñado",
    "cambio": "Cambio",
    "hallazgo": "Hallazgo",
}

#: Number formats of XLSX columns (others are general).
NUMBER_FORMATS: Final[dict[str, str]] = {
    "denuncias": "#,##0",
    "dano": "#,##0.0",
    "denuncias_noche": "#,##0",
    "poblacion": "#,##0",
    "area_km2": "#,##0.00",
    "recorrido_km3": "#,##0.0",
    "carga": "#,##0.0",
    "distancia_km": "0.00",
    "distancia_max_km": "0.00",
    "polsby_popper": "0.000",
    "efectivos": "0.0",
    "efectivos_por_100_denuncias": "0.00",
    "existente": "#,##0.000",
    "diseñado": "#,##0.000",
    "cambio": "#,##0.000",
}


def _check_free(paths: list[Path], overwrite: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"ya existe(n): {', '.join(str(p) for p in existing[:3])}"
            + (" …" if len(existing) > 3 else ""),
            hint="use --overwrite para reemplazar o elija otra carpeta",
        )


def _published(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the table as published: yes/no in words."""
    out = frame.copy()
    if "contiguo" in out.columns:
        out["contiguo"] = out["contiguo"].map({True: "sí", False: "no"})
    return out


def _csv_value(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the table as published in CSV: text cells never formulas (OWASP)."""
    from ..io.tables import neutralise_frame

    return neutralise_frame(_published(frame))


def _write_csv(frame: pd.DataFrame, path: Path, *, overwrite: bool) -> None:
    from .._atomic import write_bytes_atomic

    text = _csv_value(frame).to_csv(index=False, lineterminator="\n", float_format="%.6g")
    write_bytes_atomic(path, text.encode("utf-8-sig"), overwrite=overwrite)


def write_tables_xlsx(
    path: Path,
    sheets: dict[str, pd.DataFrame],
    *,
    date: dt.datetime,
    overwrite: bool,
) -> Path:
    """Write ``sheets`` as a workbook formatted for people (:mod:`parsc_geo.io.xlsx`).

    Every sheet gets the Spanish headers of :data:`HEADERS_ES` in bold on a grey fill, the
    header row frozen, an autofilter over the table, column widths fitted to the content and
    the number formats of :data:`NUMBER_FORMATS`. Text from the data is written as text,
    never as a formula; the document dates are ``date`` (reproducible files).
    """
    from ..io.xlsx import Table, write_workbook

    tables = {
        name: Table(
            _published(frame).rename(columns=HEADERS_ES),
            number_formats={
                HEADERS_ES.get(c, c): fmt for c, fmt in NUMBER_FORMATS.items() if c in frame.columns
            },
        )
        for name, frame in sheets.items()
    }
    return write_workbook(path, tables, date=date, overwrite=overwrite)


def _write_tables(
    out: Path,
    units: pd.DataFrame,
    summary: pd.DataFrame,
    findings: list[tuple[str, str]],
    *,
    hide: list[str],
    date: dt.datetime,
    overwrite: bool,
) -> None:
    """Write the unit and summary CSVs and the workbook (summary without ``hide`` columns)."""
    import pandas as pd

    _write_csv(units, out / "evaluacion_sectores.csv", overwrite=overwrite)
    _write_csv(summary, out / "evaluacion_resumen.csv", overwrite=overwrite)
    write_tables_xlsx(
        out / "evaluacion_sectores.xlsx",
        {
            "Resumen": summary.drop(columns=hide),
            "Sectores": units,
            "Hallazgos": pd.DataFrame(findings, columns=["comisaria", "hallazgo"]),
        },
        date=date,
        overwrite=overwrite,
    )


def _map(
    evaluation: PlanEvaluation,
    *,
    comisaria: str,
    plan: str,
    workload: str,
    station_xy: tuple[float, float] | None,
    paper: str,
    synthetic: bool,
    findings: list[str],
    pdf: Path,
    png: Path,
    date: dt.datetime,
    overwrite: bool,
) -> list[Path]:
    import matplotlib as mpl

    from ..reports.pdf import RC_PARAMS, pdf_pages_to_png, save_pdf
    from ..reports.sector_map import draw_sector_map

    units = evaluation.units
    table = units[units["nivel"] == "sector"]
    with mpl.rc_context(RC_PARAMS):
        fig = draw_sector_map(
            evaluation.subsectors,
            evaluation.sectors,
            comisaria=comisaria,
            plan=plan,
            workload=workload,
            table=table,
            findings=findings,
            station_xy=station_xy,
            paper=paper,
            synthetic=synthetic,
        )
        save_pdf([fig], pdf, title=f"Sectores — {comisaria}", date=date, overwrite=overwrite)
    pdf_pages_to_png(pdf, [png], overwrite=overwrite)
    return [pdf, png]


def _json(path: Path, data: Any, *, overwrite: bool) -> None:
    from .._atomic import write_text_atomic

    def default(value: Any) -> Any:
        if hasattr(value, "item"):
            return value.item()
        return str(value)

    text = json.dumps(data, indent=2, ensure_ascii=False, default=default, allow_nan=False)
    write_text_atomic(path, text + "\n", overwrite=overwrite)


def _clean(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def design_files(designs: list[SectorDesign], output_dir: Path) -> list[Path]:
    """Return every file :func:`write_design_outputs` writes."""
    from .._text import slug

    names = [
        "sectores_disenados.geojson",
        "sectores_disenados.gpkg",
        "evaluacion_sectores.csv",
        "evaluacion_resumen.csv",
        "evaluacion_sectores.xlsx",
        "diseno_sectores.json",
    ]
    files = [output_dir / n for n in names]
    for d in designs:
        stem = f"mapa_sectores_{slug(d.comisaria.name)}"
        files += [output_dir / f"{stem}.pdf", output_dir / f"{stem}.png"]
    return files


def write_design_outputs(
    designs: list[SectorDesign],
    output_dir: str | Path,
    *,
    paper: str = "A4",
    synthetic: bool = False,
    overwrite: bool = False,
) -> list[Path]:
    """Write the designed layers, the old-vs-new tables, the maps and the JSON record.

    Parameters
    ----------
    designs
        One :class:`~parsc_geo.districting.design.SectorDesign` per comisaría.
    output_dir
        Folder (created if missing).
    paper
        ``"A4"`` or ``"A3"`` for the maps.
    synthetic
        The incidents are synthetic: the maps say so.
    overwrite
        Replace existing files (otherwise nothing is written when any exists).

    Returns
    -------
    list of pathlib.Path
        Files written.
    """
    import geopandas as gpd
    import pandas as pd

    from .._text import slug
    from ..reports.pdf import metadata_date
    from .evaluate import summary_table

    out = Path(output_dir)
    files = design_files(designs, out)
    _check_free(files, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    date = metadata_date()
    layer = gpd.GeoDataFrame(
        pd.concat([d.layer for d in designs], ignore_index=True),
        geometry="geometry",
        crs="EPSG:4326",
    )
    _write_vector(layer, out / "sectores_disenados.geojson", "GeoJSON", overwrite, date)
    _write_vector(layer, out / "sectores_disenados.gpkg", "GPKG", overwrite, date)
    plans: list[tuple[str, PlanEvaluation]] = []
    units = []
    findings: list[tuple[str, str]] = []
    for d in designs:
        if d.existing is not None:
            plans.append((d.comisaria.name, d.existing))
            units.append(d.existing.units)
            findings += [(d.comisaria.name, f) for f in d.existing.findings]
        plans.append((d.comisaria.name, d.designed))
        units.append(d.designed.units)
        findings += [(d.comisaria.name, f) for f in d.designed.findings]
    _write_tables(
        out,
        pd.concat(units, ignore_index=True),
        summary_table(plans),
        findings,
        hide=["clave"],
        date=date,
        overwrite=overwrite,
    )
    for d in designs:
        stem = f"mapa_sectores_{slug(d.comisaria.name)}"
        lines = list(d.designed.findings)
        if d.existing is not None:
            lines += d.existing.findings
        _map(
            d.designed,
            comisaria=d.comisaria.name,
            plan="diseñado",
            workload=d.parameters["carga_texto"],
            station_xy=d.station_xy,
            paper=paper,
            synthetic=synthetic,
            findings=lines,
            pdf=out / f"{stem}.pdf",
            png=out / f"{stem}.png",
            date=date,
            overwrite=overwrite,
        )
    record = {
        "comisarias": [
            {
                "parametros": d.parameters,
                "mensajes": d.messages,
                "resumen": {
                    "diseñado": d.designed.summary,
                    "existente": d.existing.summary if d.existing is not None else None,
                },
                "hallazgos": d.designed.findings
                + (d.existing.findings if d.existing is not None else []),
            }
            for d in designs
        ],
        "sintetico": synthetic,
        "papel": paper,
    }
    _json(out / "diseno_sectores.json", _clean(record), overwrite=overwrite)
    return files


def _write_vector(layer: Any, path: Path, driver: str, overwrite: bool, date: dt.datetime) -> None:
    import pyogrio

    from .._atomic import atomic_path

    key = "OGR_CURRENT_DATE"
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: date.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.unlink()
            kwargs: dict[str, Any] = {"layer": "sectores_disenados"} if driver == "GPKG" else {}
            layer.to_file(tmp, driver=driver, **kwargs)
    finally:
        pyogrio.set_gdal_config_options({key: previous})


def write_evaluation_outputs(
    evaluations: list[tuple[Any, PlanEvaluation, tuple[float, float] | None]],
    output_dir: str | Path,
    *,
    paper: str = "A4",
    synthetic: bool = False,
    overwrite: bool = False,
) -> list[Path]:
    """Write the evaluation of given sectors: the tables, a map per comisaría and the JSON.

    Parameters
    ----------
    evaluations
        ``(comisaria, evaluation, station_xy)`` per comisaría.
    output_dir, paper, synthetic, overwrite
        As in :func:`write_design_outputs`.
    """
    import pandas as pd

    from .._text import slug
    from ..reports.pdf import metadata_date
    from .evaluate import summary_table

    out = Path(output_dir)
    files = [
        out / "evaluacion_sectores.csv",
        out / "evaluacion_resumen.csv",
        out / "evaluacion_sectores.xlsx",
        out / "evaluacion_sectores.json",
    ]
    for com, _, _ in evaluations:
        stem = f"mapa_evaluacion_{slug(com.name)}"
        files += [out / f"{stem}.pdf", out / f"{stem}.png"]
    _check_free(files, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    date = metadata_date()
    _write_tables(
        out,
        pd.concat([e.units for _, e, _ in evaluations], ignore_index=True),
        summary_table([(com.name, e) for com, e, _ in evaluations]),
        [(com.name, f) for com, e, _ in evaluations for f in e.findings],
        hide=["clave", "diseñado", "cambio"],
        date=date,
        overwrite=overwrite,
    )
    for com, evaluation, station_xy in evaluations:
        stem = f"mapa_evaluacion_{slug(com.name)}"
        _map(
            evaluation,
            comisaria=com.name,
            plan="existente",
            workload="denuncias y daño",
            station_xy=station_xy,
            paper=paper,
            synthetic=synthetic,
            findings=evaluation.findings,
            pdf=out / f"{stem}.pdf",
            png=out / f"{stem}.png",
            date=date,
            overwrite=overwrite,
        )
    record = {
        "comisarias": [
            {"comisaria": com.name, "resumen": e.summary, "hallazgos": e.findings}
            for com, e, _ in evaluations
        ],
        "sintetico": synthetic,
    }
    _json(out / "evaluacion_sectores.json", _clean(record), overwrite=overwrite)
    return files
