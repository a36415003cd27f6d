"""Publish priority territories: tables, maps and ``run.json``.

The plan's table (CSV, XLSX, Markdown), the detailed indicators, choropleth maps per fenómeno
(HTML and PNG) and ``run.json``.

Files written by :func:`write_priority_outputs` in the output folder:

``territorios_priorizados.csv`` / ``.xlsx`` / ``.md``
    The plan's section 2.8 table: N/O, DEPARTAMENTO, PROVINCIA, CLÚSTER per fenómeno. The XLSX
    adds the detailed indicators per level and a sheet with the method; the Markdown adds the
    indicators behind every level.
``prioridad_detalle.csv``
    Every unit, target and indicator (Spanish headers).
``mapa_prioridad_<nivel>_<objetivo>.html`` / ``.png``
    One choropleth per target and territorial level.
``run.json``
    Inputs (with SHA-256 checksums when paths are known), parameters, notes and versions.

CSV files are UTF-8 with a byte-order mark so that spreadsheet programs show the accents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .. import settings
from .._errors import OutputError
from .._provenance import describe_file, package_versions
from .._text import fold, num, slug
from ..labels_es import NO_COMPLAINTS
from ..labels_es import PRIORITY_DETAIL_HEADERS as DETAIL_HEADERS_ES
from ..labels_es import PRIORITY_LEVELS as LEVEL_LABELS_ES
from .levels import LEVEL_ALTA, LEVEL_NONE, LEVEL_PRIORIDAD
from .territories import PriorityResult, plan_table

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..parallel import WorkerPool

#: Colours of the levels on maps (ColorBrewer RdBu ends; light grey for none).
LEVEL_COLORS: Final[dict[str, str]] = {
    LEVEL_ALTA: "#b2182b",
    LEVEL_PRIORIDAD: "#f4a582",
    LEVEL_NONE: "#f0f0f0",
}


_ROUNDING: Final[dict[str, int]] = {
    "tasa": 2,
    "tasa_eb": 2,
    "peso_eb": 4,
    "tasa_regional": 2,
    "participacion": 2,
    "variacion": 1,
    "estabilidad": 1,
}

_PLAN_HEADERS: Final[tuple[str, ...]] = ("N/O", "DEPARTAMENTO", "PROVINCIA", "CLÚSTER")


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


def detail_table(result: PriorityResult) -> pd.DataFrame:
    """Return the detailed table with Spanish headers and rounded values, ready to publish.

    Stability is given in percent; empty cells mean "not computed" (no previous period, no
    bootstrap).
    """
    table = result.table.copy()
    table["estabilidad"] = table["estabilidad"] * 100.0
    for column, digits in _ROUNDING.items():
        table[column] = table[column].astype(float).round(digits)
    table["n_anterior"] = table["n_anterior"].astype("Int64")
    table["nivel_territorial"] = table["nivel_territorial"].map(
        {"provincia": "Provincia", "distrito": "Distrito"}
    )
    return table[list(DETAIL_HEADERS_ES)].rename(columns=DETAIL_HEADERS_ES)


def top_districts_table(top: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`parsc_geo.priority.top_districts` with Spanish headers and rounded values."""
    table = top.copy()
    for column in ("tasa", "tasa_eb", "participacion"):
        table[column] = table[column].astype(float).round(_ROUNDING[column])
    headers = {"rank": "Puesto", **DETAIL_HEADERS_ES}
    return table.rename(columns=headers)


def _plan_sections(result: PriorityResult) -> list[tuple[str, pd.DataFrame]]:
    """Return (section heading, rows with N/O…CLÚSTER) per target, in order."""
    table = plan_table(result)
    targets = result.level("provincia")[["objetivo", "objetivo_nombre"]].drop_duplicates()
    from ..schema import FENOMENO_PLAN_LABELS

    sections = []
    for i, (code, name) in enumerate(targets.itertuples(index=False), start=1):
        label = FENOMENO_PLAN_LABELS.get(code, fold(name))
        rows = table[table["FENÓMENO"] == label][list(_PLAN_HEADERS)]
        sections.append((f"{i}. Territorios de intervención prioritaria en {name}.", rows))
    return sections


def _region_name(result: PriorityResult) -> str:
    """Return the territory as the plan's titles name it: ``"Región Cajamarca"``, ``"Perú"``."""
    if result.place:
        return result.place[:1].upper() + result.place[1:]
    deps = result.table["departamento"].dropna().astype(str).unique()
    return f"Región {deps[0].title()}" if len(deps) == 1 else "Área de estudio"


def _write_plan_csv(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    return _write_csv(plan_table(result), path, overwrite=overwrite)


def _write_detail_csv(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    return _write_csv(detail_table(result), path, overwrite=overwrite)


def _md_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text


def _period_text(result: PriorityResult) -> str:
    if result.period is None:
        return "todo el contenido de las tablas (sin fechas)"
    text = result.period.label()
    if result.previous_period is not None:
        text += f" (comparado con {result.previous_period.label()})"
    return text


def plan_markdown(result: PriorityResult) -> str:
    """Return the plan's table, the indicators behind each level and the method as Markdown."""
    region = _region_name(result)
    lines = [
        f"# Territorios de Intervención Prioritaria {region}",
        "",
    ]
    if result.synthetic:
        lines += [f"> **{settings.SYNTHETIC_BANNER}**", ""]
    lines += [
        f"- **Periodo:** {_md_cell(_period_text(result))}",
        f"- **Método:** {_md_cell(result.parameters['rule_description'])}",
        "- **Indicadores:** tasa por 100 000 habitantes con la población INEI del año más "
        "cercano; tasa suavizada por Bayes empírico global (Marshall 1991); estabilidad = % de "
        f"{result.parameters['n_boot']} remuestreos bootstrap de las denuncias en que la unidad "
        "conserva su nivel.",
        "",
        "| " + " | ".join(_PLAN_HEADERS) + " |",
        "|" + "---|" * len(_PLAN_HEADERS),
    ]
    for heading, rows in _plan_sections(result):
        lines.append(f"| **{_md_cell(heading)}** | | | |")
        if rows.empty:
            lines.append("| | | *ninguna provincia alcanza un nivel de prioridad* | |")
        for row in rows.itertuples(index=False):
            lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    lines += ["", "## Indicadores por provincia", ""]
    columns = ["provincia", "n", "tasa", "tasa_eb", "participacion", "variacion", "nivel"]
    columns.append("estabilidad")
    headers = [DETAIL_HEADERS_ES[c] for c in columns]
    table = result.level("provincia").copy()
    table["estabilidad"] = table["estabilidad"] * 100.0
    for _target, part in table.groupby("objetivo", sort=False):
        lines += [f"### {_md_cell(part['objetivo_nombre'].iloc[0])}", ""]
        if part["n"].sum() == 0:
            lines += [f"*{NO_COMPLAINTS}*", ""]
            continue
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|---|" + "---:|" * (len(columns) - 2) + "---:|")
        for row in part[columns].itertuples(index=False):
            cells = []
            for column, value in zip(columns, row, strict=True):
                if column in _ROUNDING and value == value:
                    cells.append(num(float(value), _ROUNDING[column]))
                else:
                    cells.append(_md_cell(value))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if result.notes:
        lines += ["## Observaciones", ""]
        lines += [f"- {_md_cell(note)}" for note in result.notes]
        lines.append("")
    return "\n".join(lines)


def _write_markdown(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    text = plan_markdown(result)
    return _atomic_write(
        path, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=overwrite
    )


def _write_xlsx(result: PriorityResult, path: Path, *, overwrite: bool) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from .._xlsx import freeze_xlsx
    from ..io.tables import set_workbook_text

    def build(tmp: Path) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = "Territorios priorizados"
        bold = Font(bold=True)
        ws.append([f"Territorios de Intervención Prioritaria {_region_name(result)}"])
        ws["A1"].font = Font(bold=True, size=13)
        if result.synthetic:
            ws.append([settings.SYNTHETIC_BANNER])
            ws.cell(ws.max_row, 1).font = Font(bold=True, color="C00000")
        ws.append([f"Periodo: {_period_text(result)}"])
        ws.append(list(_PLAN_HEADERS))
        for cell in ws[ws.max_row]:
            cell.font = bold
            cell.fill = PatternFill("solid", fgColor="D9D9D9")
        for heading, rows in _plan_sections(result):
            ws.append([_xlsx_value(heading)])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=4)
            ws.cell(ws.max_row, 1).font = bold
            if rows.empty:
                ws.append(["", "", "ninguna provincia alcanza un nivel de prioridad", ""])
            for row in rows.itertuples(index=False):
                ws.append([_xlsx_value(v) for v in row])
        for column, width in zip("ABCD", (8, 18, 22, 20), strict=True):
            ws.column_dimensions[column].width = width
        detail = detail_table(result)
        for level, title in (
            ("Provincia", "Detalle provincias"),
            ("Distrito", "Detalle distritos"),
        ):
            part = detail[detail["Nivel territorial"] == level]
            if part.empty:
                continue
            sheet = wb.create_sheet(title)
            sheet.append([_xlsx_value(c) for c in part.columns])
            for cell in sheet[1]:
                cell.font = bold
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for values in part.itertuples(index=False):
                sheet.append([_xlsx_value(v) for v in values])
            sheet.freeze_panes = "A2"
        method = wb.create_sheet("Método")
        entries: list[tuple[str, object]] = [
            ("Regla", result.parameters["rule_description"]),
            ("Periodo", _period_text(result)),
        ]
        entries += [
            (key, json.dumps(value, ensure_ascii=False))
            for key, value in sorted(result.parameters.items())
            if key != "rule_description"
        ]
        entries += [("Observación", note) for note in result.notes]
        entries += [("Entrada", json.dumps(s, ensure_ascii=False)) for s in result.inputs]
        for key_text, text in entries:
            method.append([_xlsx_value(key_text), _xlsx_value(text)])
        method.column_dimensions["A"].width = 28
        method.column_dimensions["B"].width = 120
        set_workbook_text(wb)  # data text is text, never a formula
        wb.save(tmp)
        freeze_xlsx(tmp)

    return _atomic_write(path, build, overwrite=overwrite)


def _xlsx_value(value: object) -> object:
    """Return a cell value for openpyxl: plain Python numbers, None for missing ones."""
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _units_geometry(level: str, codes: Sequence[str]) -> gpd.GeoDataFrame:
    """Return the polygons of the ranked units (those of the result's study area)."""
    from ..boundaries import load_districts, load_provinces

    chosen = sorted(set(codes)) or ["-"]
    if level == "provincia":
        units = load_provinces(prefix=chosen).rename(columns={"ubigeo_prov": "codigo"})
    else:
        units = load_districts(prefix=chosen).rename(columns={"ubigeo": "codigo"})
    return units[["codigo", "geometry"]]


def _map_frame(result: PriorityResult, level: str, target: str) -> gpd.GeoDataFrame:
    rows = result.level(level)
    rows = rows[rows["objetivo"] == target]
    geo = _units_geometry(level, rows["codigo"].astype(str).tolist())
    return geo.merge(rows, on="codigo", how="inner")


def _fmt_es(value: float, digits: int) -> str:
    if value != value:
        return "—"
    return num(value, digits)


def write_priority_map_html(
    result: PriorityResult,
    path: str | os.PathLike[str],
    *,
    level: str = "provincia",
    target: str,
    overwrite: bool = False,
) -> Path:
    """Write the choropleth of one target's levels as an HTML map (maps capability's look).

    Parameters
    ----------
    result
        Output of :func:`parsc_geo.priority.compute_priority`.
    path
        Output ``.html`` file.
    level
        ``"provincia"`` or ``"distrito"``.
    target
        Fenómeno code or modalidad target id (``result.table["objetivo"]``).
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    import folium

    from ..maps import (
        add_layer_control,
        add_legend,
        add_synthetic_banner,
        add_title_block,
        new_map,
        write_map_html,
    )
    from ..privacy import DEFAULT_K, count_text

    frame = _map_frame(result, level, target)
    name = str(frame["objetivo_nombre"].iloc[0])
    title = f"Territorios de intervención prioritaria — {name}"
    m = new_map(bounds=tuple(frame.total_bounds), tiles="CartoDB claro", title=title)
    add_title_block(
        m,
        title=title,
        place=f"{_region_name(result)}, por {level}",
        period=_period_text(result),
        source=", ".join(str(s["source"]) for s in result.inputs),
        parameters={"regla": result.parameters["rule"], "n_boot": result.parameters["n_boot"]},
        public=True,
        generalisation=f"Denuncias agregadas por {level}; no muestra ubicaciones individuales. "
        f"Recuentos menores que {DEFAULT_K} (y las tasas que los revelan) no se muestran "
        "(regla de privacidad de parsc_geo.privacy).",
    )
    if result.synthetic:
        add_synthetic_banner(m)
    unit = "provincia" if level == "provincia" else "distrito"
    # privacy rule: a count of 1 to k - 1 complaints is suppressed, with every indicator that
    # would reveal it (rates times population, shares, variation)
    small = ((frame["n"] > 0) & (frame["n"] < DEFAULT_K)).to_numpy()

    def shown(values: pd.Series, text: Callable[[float], str]) -> list[str]:
        return ["—" if hide else text(v) for v, hide in zip(values, small, strict=True)]

    props = frame.assign(
        nombre=(frame["provincia"] if level == "provincia" else frame["distrito"]).map(html.escape),
        nivel_texto=frame["nivel"].map(LEVEL_LABELS_ES),
        denuncias=[
            count_text(v, DEFAULT_K) if hide else num(int(v))
            for v, hide in zip(frame["n"], small, strict=True)
        ],
        tasa_txt=shown(frame["tasa"], lambda v: _fmt_es(v, 1)),
        tasa_eb_txt=shown(frame["tasa_eb"], lambda v: _fmt_es(v, 1)),
        part_txt=shown(frame["participacion"], lambda v: _fmt_es(v, 1) + " %"),
        var_txt=shown(frame["variacion"], lambda v: _fmt_es(v, 1) + " %"),
        estab_txt=frame["estabilidad"].map(lambda v: _fmt_es(v * 100, 0) + " %"),
        color=frame["nivel"].map(LEVEL_COLORS),
    )[
        [
            "codigo",
            "nombre",
            "nivel_texto",
            "denuncias",
            "tasa_txt",
            "tasa_eb_txt",
            "part_txt",
            "var_txt",
            "estab_txt",
            "color",
            "geometry",
        ]
    ].to_crs(settings.CRS_GEOGRAPHIC)
    folium.GeoJson(
        props.to_json(),
        name=f"Nivel de prioridad por {unit}",
        style_function=lambda feature: {
            "fillColor": feature["properties"]["color"],
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[
                "nombre",
                "nivel_texto",
                "denuncias",
                "tasa_txt",
                "tasa_eb_txt",
                "part_txt",
                "var_txt",
                "estab_txt",
            ],
            aliases=[
                unit.capitalize(),
                "Nivel",
                "Denuncias",
                "Tasa por 100 000 hab.",
                "Tasa suavizada (Bayes empírico)",
                "Participación regional",
                "Variación",
                "Estabilidad del nivel",
            ],
        ),
    ).add_to(m)
    counts = frame["nivel"].value_counts()
    add_legend(
        m,
        "Nivel de prioridad",
        [(LEVEL_COLORS[lv], LEVEL_LABELS_ES[lv], int(counts.get(lv, 0))) for lv in LEVEL_COLORS],
        shape="square",
        note=f"Número de unidades ({unit}) en cada nivel.",
    )
    add_layer_control(m)
    return write_map_html(m, path, overwrite=overwrite)


def write_priority_map_png(
    result: PriorityResult,
    path: str | os.PathLike[str],
    *,
    level: str = "provincia",
    target: str,
    overwrite: bool = False,
    dpi: int = 150,
) -> Path:
    """Write the choropleth of one target's levels as a PNG for documents (matplotlib).

    Parameters
    ----------
    result, level, target, overwrite
        As for :func:`write_priority_map_html`.
    path
        Output ``.png`` file.
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from ..projection import to_metric

    frame = to_metric(_map_frame(result, level, target))
    name = str(frame["objetivo_nombre"].iloc[0])

    from ..reports.pdf import RC_PARAMS

    def draw(tmp: Path) -> None:
        with matplotlib.rc_context(RC_PARAMS):  # names as plain text, never mathtext
            _draw_priority_png(tmp)

    def _draw_priority_png(tmp: Path) -> None:
        # a figure outside pyplot: geopandas' plt.draw() then redraws no map of ours
        fig = Figure(figsize=(8.3, 9.5))
        ax = fig.subplots()
        try:
            frame.plot(
                ax=ax,
                color=frame["nivel"].map(LEVEL_COLORS).tolist(),
                edgecolor="#555555",
                linewidth=0.6 if level == "provincia" else 0.3,
            )
            if level == "distrito":
                from ..boundaries import load_provinces

                provinces = sorted({str(c)[:4] for c in frame["codigo"]})
                load_provinces(prefix=provinces).to_crs(frame.crs).boundary.plot(
                    ax=ax, color="#333333", linewidth=0.9
                )
            if level == "provincia":
                for _, row in frame.iterrows():
                    point = row.geometry.representative_point()
                    ax.annotate(
                        str(row["provincia"]),
                        (point.x, point.y),
                        ha="center",
                        fontsize=7,
                        color="#222222",
                    )
            ax.set_axis_off()
            ax.set_aspect("equal")
            counts = frame["nivel"].value_counts()
            handles = [
                Patch(
                    facecolor=LEVEL_COLORS[lv],
                    edgecolor="#555555",
                    label=f"{LEVEL_LABELS_ES[lv]} ({int(counts.get(lv, 0))})",
                )
                for lv in LEVEL_COLORS
            ]
            ax.legend(handles=handles, title="Nivel de prioridad", loc="lower left", fontsize=8)
            fig.subplots_adjust(top=0.84, bottom=0.04)
            fig.suptitle(
                f"Territorios de intervención prioritaria\n{name}",
                y=0.935,
                va="top",
                fontsize=12,
                fontweight="bold",
            )
            ax.set_title(
                f"{_region_name(result)}, por {level} — {_period_text(result)}", fontsize=8
            )
            fig.text(
                0.01,
                0.01,
                "Fuente: "
                + ", ".join(str(s["source"]) for s in result.inputs)
                + ". Población: INEI. Regla: "
                + result.parameters["rule"]["method"]
                + ". Generado con parsc-geo.",
                fontsize=6,
                color="#444444",
            )
            if result.synthetic:
                fig.text(
                    0.5,
                    0.985,
                    settings.SYNTHETIC_BANNER,
                    ha="center",
                    va="top",
                    fontsize=11,
                    fontweight="bold",
                    color="white",
                    bbox={"facecolor": "#c00000", "edgecolor": "none", "pad": 4},
                )
            fig.savefig(tmp, dpi=dpi, format="png")
        finally:
            fig.clear()

    return _atomic_write(Path(path), draw, overwrite=overwrite)


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
    rows = result.table[result.table["nivel"] != LEVEL_NONE]
    return [
        {
            "nivel_territorial": r.nivel_territorial,
            "objetivo": r.objetivo,
            "codigo": r.codigo,
            "nombre": r.provincia if r.nivel_territorial == "provincia" else r.distrito,
            "nivel": r.nivel,
        }
        for r in rows.itertuples(index=False)
    ]


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


def _write_planned(item: tuple[Path, Callable[[Path], Path]]) -> Path:
    """Write one planned output (a task of :func:`write_priority_outputs`)."""
    path, writer = item
    return writer(path)


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
        A :class:`parsc_geo.parallel.WorkerPool` or a number of processes that draw the PNG
        maps while the tables and HTML maps are written (1: one after the other); the files do
        not depend on it.

    Returns
    -------
    list of pathlib.Path
        Files written, ``run.json`` last.
    """
    from ..parallel import worker_pool

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
    if maps:
        targets = result.table[["nivel_territorial", "objetivo"]].drop_duplicates()
        for level, target in targets.itertuples(index=False):
            stem = f"mapa_prioridad_{level}_{slug(str(target), default='objetivo')}"
            for suffix, writer in (
                (".html", write_priority_map_html),
                (".png", write_priority_map_png),
            ):
                plan.append(
                    (
                        out / f"{stem}{suffix}",
                        partial(_call_map_writer, writer, result, level=level, target=target),
                    )
                )
    run_path = out / "run.json"
    existing = [p for p, _ in plan if p.exists()] + ([run_path] if run_path.exists() else [])
    if existing and not overwrite:
        raise OutputError(
            f"{len(existing)} salida(s) ya existe(n) en {out}, la primera {existing[0].name}",
            hint="elija otra carpeta o use overwrite=True / --overwrite",
        )
    # The PNG maps (matplotlib, the slow part) are drawn by the pool meanwhile.
    drawn = [k for k, (path, _) in enumerate(plan) if path.suffix == ".png"]
    with worker_pool(workers) as pool:
        pending = pool.start(_write_planned, [plan[k] for k in drawn])
        written = [
            writer(path) if k not in drawn else path for k, (path, writer) in enumerate(plan)
        ]
        pending.results()
    written.append(
        write_run_json(result, run_path, outputs=written, command=command, overwrite=True)
    )
    return written
