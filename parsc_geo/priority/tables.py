"""The priority tables as people read them: plan table, detail, method, Markdown and XLSX.

Every table shows the stability of each level and the published level (``NIVEL INCIERTO (A o
B)`` below the stability threshold), the crude rate before the smoothed one, and — in the
method written beside it (:func:`method_paragraphs`) — the rules behind levels, uncertain
levels, units without data and the comparison with the previous period, which is announced
only when it was computed. Numbers are rounded for reading: rates to one decimal, shares to
one decimal of a percent, stability and weights to whole percents.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .. import settings
from .._text import num
from ..labels_es import NO_COMPLAINTS, NO_DATA, PRIORITY_PLAN_HEADERS
from ..labels_es import PRIORITY_DETAIL_HEADERS as DETAIL_HEADERS_ES
from .coverage import coverage_rule_text
from .explain import SMOOTHING_SENTENCE
from .stability import LEVEL_TEXT, UNCERTAIN, stability_percent
from .territories import PriorityResult, plan_table

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    """How a column of the detailed table is published.

    Attributes
    ----------
    key
        Column of :attr:`PriorityResult.table`.
    kind
        ``"text"``, ``"int"`` (thousands grouped), ``"year"``, ``"rate"`` (per 100,000) or
        ``"pct"`` (a percentage).
    digits
        Decimals shown.
    to_fraction
        Factor from the stored value to a fraction (``0.01`` for values stored in percent).
    """

    key: str
    kind: str = "text"
    digits: int = 0
    to_fraction: float = 1.0


#: The detailed table's columns, in order (the change columns only when compared).
DETAIL_SPEC: Final[tuple[Column, ...]] = (
    Column("nivel_territorial"),
    Column("objetivo_nombre"),
    Column("codigo"),
    Column("departamento"),
    Column("provincia"),
    Column("distrito"),
    Column("periodo"),
    Column("con_datos"),
    Column("n", "int"),
    Column("poblacion", "int"),
    Column("anio_poblacion", "year"),
    Column("tasa", "rate", 1),
    Column("tasa_eb", "rate", 1),
    Column("peso_eb", "pct", 0),
    Column("tasa_regional", "rate", 1),
    Column("participacion", "pct", 1, 0.01),
    Column("n_anterior", "int"),
    Column("variacion", "pct", 0, 0.01),
    Column("grupo", "int"),
    Column("nivel_regla"),
    Column("nivel"),
    Column("estabilidad", "pct", 0),
    Column("nivel_alternativo"),
    Column("estabilidad_alternativa", "pct", 0),
    Column("nivel_publicado"),
    Column("motivo"),
    Column("observacion"),
)
_CHANGE_COLUMNS: Final = frozenset({"n_anterior", "variacion"})
_LEVEL_COLUMNS: Final = ("nivel_regla", "nivel", "nivel_alternativo", "nivel_publicado")


def period_text(result: PriorityResult) -> str:
    """Return the period, with its comparison period only when the change was computed."""
    if result.period is None:
        return "todo el contenido de las tablas (sin fechas)"
    text = result.period.label()
    if result.compared and result.previous_period is not None:
        text += f" (comparado con {result.previous_period.label()})"
    return text


def region_name(result: PriorityResult) -> str:
    """Return the territory as the plan's titles name it: ``"Región Cajamarca"``, ``"Perú"``."""
    if result.place:
        return result.place[:1].upper() + result.place[1:]
    deps = result.table["departamento"].dropna().astype(str).unique()
    return f"Región {deps[0].title()}" if len(deps) == 1 else "Área de estudio"


def _population_text(result: PriorityResult) -> str:
    years = sorted({int(y) for y in result.table["anio_poblacion"].dropna().unique()})
    parts = [f"Censo {y}" if y == 2017 else f"estimación {y}" for y in years]
    return "población: INEI (" + ", ".join(parts) + ")"


def _input_text(entry: dict[str, Any]) -> str:
    files = entry.get("files") or [entry.get("name") or entry.get("source", "")]
    named = ", ".join(str(f) for f in files if str(f))
    noun = "archivos" if len(files) > 1 else "archivo"
    kind = entry.get("format")
    if kind == "sidpol":
        head = "denuncias policiales del SIDPOL (datos abiertos del Ministerio del Interior)"
    elif kind == "puntos":
        head = "denuncias geolocalizadas del mapa del delito"
    else:
        head = "tabla de denuncias por UBIGEO"
    return f"{head}, {noun} {named}" if named else head


def source_text(result: PriorityResult) -> str:
    """Return the sources of a table or map in words: inputs, population and boundaries."""
    inputs = "; ".join(_input_text(entry) for entry in result.inputs) or "sin entradas"
    return (
        f"Fuente: {inputs}; {_population_text(result)}; límites: INEI vía mapsPERU. "
        "Elaborado con parsc-geo."
    )


def method_paragraphs(result: PriorityResult) -> list[tuple[str, str]]:
    """Return the method written beside every table: (heading, paragraph) pairs in Spanish."""
    parameters = result.parameters
    n_boot = int(parameters.get("n_boot", 0))
    min_stability = float(parameters.get("min_stability", 0.0))
    rule = parameters["rule"]
    out = [
        ("Regla de niveles", str(parameters["rule_description"])),
        (
            "Indicadores",
            "Denuncias del periodo; tasa por 100 000 habitantes (denuncias del periodo, sin "
            "anualizar, entre la población INEI del año más cercano); tasa suavizada por Bayes "
            f"empírico global (Marshall 1991). {SMOOTHING_SENTENCE}",
        ),
        (
            "Orden frente a las tasas",
            "La regla pondera el riesgo (tasa suavizada) y la carga de trabajo (número de "
            "denuncias): una unidad puede quedar por debajo de otra de menor tasa cuando tiene "
            "menos denuncias, cuando su tasa, de pocas denuncias, se suaviza por debajo de la "
            f"otra, o cuando no alcanza el mínimo de denuncias de un nivel ({rule['min_count']} "
            f"para ALTA PRIORIDAD, {rule['min_count_prioridad']} para PRIORIDAD). La columna "
            "Observación lo dice en cada caso.",
        ),
    ]
    if n_boot > 0:
        out.append(
            (
                "Estabilidad y nivel incierto",
                f"Estabilidad = % de {num(n_boot)} remuestreos bootstrap de las denuncias del "
                "periodo en que la unidad conserva su nivel. Un nivel se publica solo con una "
                f"estabilidad de al menos {num(min_stability * 100)} %; por debajo, la tabla dice "
                f"«{UNCERTAIN} (A o B)» con el nivel observado y el que la unidad toma con más "
                "frecuencia en los remuestreos: los datos no deciden entre los dos.",
            )
        )
    else:
        out.append(
            (
                "Estabilidad y nivel incierto",
                "No se calculó la estabilidad (sin remuestreos): ningún nivel puede marcarse "
                "como incierto.",
            )
        )
    out.append(("Unidades sin datos", coverage_rule_text()))
    if result.period is not None and result.previous_period is not None:
        if result.compared:
            text = (
                f"Variación = cambio en % de las denuncias frente a "
                f"{result.previous_period.label()}; todas las fuentes cubren ese periodo."
            )
        else:
            text = (
                "Sin comparación con un periodo anterior: las fuentes no cubren "
                f"{result.previous_period.label()} por completo."
            )
        out.append(("Comparación", text))
    out.append(("Fuentes", source_text(result).removeprefix("Fuente: ")))
    return out


def _detail_spec(result: PriorityResult) -> list[Column]:
    return [c for c in DETAIL_SPEC if result.compared or c.key not in _CHANGE_COLUMNS]


def _published_values(table: pd.DataFrame) -> pd.DataFrame:
    """Return the table with levels in words and no numbers where a unit has no data."""
    out = table.copy()
    covered = out["con_datos"].astype(bool)
    for column in _LEVEL_COLUMNS:
        words = out[column].map(lambda v: LEVEL_TEXT.get(v, v) if isinstance(v, str) else "")
        out[column] = words.where(covered, "")
    out["nivel_publicado"] = out["nivel_publicado"].where(covered, NO_DATA)
    out.loc[covered & (out["motivo"] == NO_COMPLAINTS), ["nivel_regla", "nivel"]] = ""
    unsure = out["incierto"].astype(bool)
    out["nivel_alternativo"] = out["nivel_alternativo"].where(unsure, "")
    out["estabilidad_alternativa"] = out["estabilidad_alternativa"].where(unsure)
    out["con_datos"] = covered.map({True: "sí", False: "no"})
    out["n"] = out["n"].astype("Int64").where(covered)
    out["nivel_territorial"] = out["nivel_territorial"].map(
        {"provincia": "Provincia", "distrito": "Distrito"}
    )
    return out


def detail_table(result: PriorityResult) -> pd.DataFrame:
    """Return the detailed table with Spanish headers and rounded values, ready to publish.

    Rates have one decimal; shares, weights, stability and change are percents (one decimal
    for shares, whole numbers otherwise); levels are written out (``SIN PRIORIDAD``); a unit
    without data shows no numbers. The change columns appear only when the change was
    computed.
    """
    spec = _detail_spec(result)
    table = _published_values(result.table)
    columns = {}
    for column in spec:
        values = table[column.key]
        if column.key == "estabilidad":
            values = values.astype(float).map(stability_percent).astype("Int64")
        elif column.kind == "pct":
            values = (values.astype(float) * column.to_fraction * 100).round(column.digits)
            if column.digits == 0:
                values = values.astype("Int64")
        elif column.kind == "rate":
            values = values.astype(float).round(column.digits)
        elif column.kind in ("int", "year"):
            values = values.astype("Float64").round().astype("Int64")
        columns[DETAIL_HEADERS_ES[column.key]] = values
    import pandas as pd

    return pd.DataFrame(columns)


def top_districts_table(top: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`parsc_geo.priority.top_districts` with Spanish headers and rounded values."""
    table = top.copy()
    for column in ("tasa", "tasa_eb", "participacion"):
        table[column] = table[column].astype(float).round(1)
    headers = {"rank": "Puesto", **DETAIL_HEADERS_ES}
    return table.rename(columns=headers)


# -- Markdown --------------------------------------------------------------------------------


def _md_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    try:
        import pandas as pd

        if value is pd.NA:
            return ""
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_number(value: object, digits: int) -> str:
    if value is None or value == "" or value != value:
        return ""
    try:
        return num(float(value), digits)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _md_cell(value)


def _plan_sections(result: PriorityResult) -> list[tuple[str, pd.DataFrame]]:
    """Return (section heading, plan rows) per target, in order."""
    table = plan_table(result)
    targets = result.level("provincia")[["objetivo", "objetivo_nombre"]].drop_duplicates()
    from ..labels_es import PRIORITY_PLAN_FENOMENOS

    sections = []
    for i, (code, name) in enumerate(targets.itertuples(index=False), start=1):
        label = PRIORITY_PLAN_FENOMENOS.get(code, str(name).upper())
        rows = table[table["FENÓMENO"] == label]
        sections.append((f"{i}. Territorios de intervención prioritaria en {name}.", rows))
    return sections


_PLAN_MD: Final[tuple[tuple[str, int | None], ...]] = (
    ("N/O", None),
    ("DEPARTAMENTO", None),
    ("PROVINCIA", None),
    ("CLÚSTER", None),
    ("DENUNCIAS", 0),
    ("TASA POR 100 000 HAB.", 1),
    ("TASA SUAVIZADA POR 100 000 HAB.", 1),
    ("ESTABILIDAD (%)", 0),
    ("OBSERVACIÓN", None),
)


def plan_markdown(result: PriorityResult) -> str:
    """Return the plan's table, the method beside it and the indicators as Markdown."""
    lines = [f"# Territorios de Intervención Prioritaria {region_name(result)}", ""]
    if result.synthetic:
        lines += [f"> **{settings.SYNTHETIC_BANNER}**", ""]
    lines += [
        f"- **Periodo:** {_md_cell(period_text(result))}",
        f"- **Fuentes:** {_md_cell(source_text(result).removeprefix('Fuente: '))}",
        "",
    ]
    headers = [h for h, _ in _PLAN_MD]
    lines += [
        "| " + " | ".join(headers) + " |",
        "|---|---|---|---|" + "---:|" * 4 + "---|",
    ]
    blank = " |" * (len(headers) - 1)
    for heading, rows in _plan_sections(result):
        lines.append(f"| **{_md_cell(heading)}** |{blank}")
        if rows.empty:
            lines.append("| | | | *ninguna provincia alcanza un nivel de prioridad* |" + " |" * 5)
        for _, row in rows.iterrows():
            cells = [
                _md_cell(row[h]) if digits is None else _md_number(row[h], digits)
                for h, digits in _PLAN_MD
            ]
            lines.append("| " + " | ".join(cells) + " |")
    missing = result.without_data("provincia")
    if not missing.empty:
        names = ", ".join(_md_cell(n) for n in missing["provincia"])
        lines += ["", f"**Provincias {NO_DATA} (no se ordenan):** {names}."]
    lines += ["", "## Método", ""]
    lines += [f"- **{title}.** {_md_cell(text)}" for title, text in method_paragraphs(result)]
    lines += ["", *_md_indicators(result)]
    if result.notes:
        lines += ["## Observaciones", ""]
        lines += [f"- {_md_cell(note)}" for note in result.notes]
        lines.append("")
    return "\n".join(lines)


def _md_indicators(result: PriorityResult) -> list[str]:
    columns: list[tuple[str, int | None]] = [
        ("provincia", None),
        ("n", 0),
        ("tasa", 1),
        ("tasa_eb", 1),
        ("participacion", 1),
    ]
    if result.compared:
        columns += [("n_anterior", 0), ("variacion", 0)]
    columns += [("nivel_publicado", None), ("estabilidad", 0)]
    headers = [DETAIL_HEADERS_ES[c] for c, _ in columns]
    lines = ["## Indicadores por provincia", "", f"*{SMOOTHING_SENTENCE}*", ""]
    table = result.level("provincia")
    table = table[table["con_datos"].astype(bool)].copy()
    table["estabilidad"] = table["estabilidad"].map(stability_percent)
    table["nivel_publicado"] = table["nivel_publicado"].map(lambda v: LEVEL_TEXT.get(v, v))
    for _target, part in table.groupby("objetivo", sort=False):
        lines += [f"### {_md_cell(part['objetivo_nombre'].iloc[0])}", ""]
        if part["n"].sum() == 0:
            lines += [f"*{NO_COMPLAINTS}*", ""]
            continue
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|---|" + "---:|" * (len(columns) - 3) + "---|---:|")
        for _, row in part.iterrows():
            cells = [
                _md_cell(row[c]) if digits is None else _md_number(row[c], digits)
                for c, digits in columns
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


# -- XLSX ------------------------------------------------------------------------------------

_NUMBER_FORMATS: Final[dict[str, str]] = {"int": "#,##0", "year": "0", "rate": "#,##0.0"}
_HEADER_FILL: Final = "D9D9D9"


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


def _format_table(
    ws: Any, header_row: int, last_row: int, formats: Sequence[str | None], widths: Sequence[int]
) -> None:
    """Give a sheet's table a bold filtered header, frozen panes, widths and number formats."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    last_column = get_column_letter(len(formats))
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.auto_filter.ref = f"A{header_row}:{last_column}{max(last_row, header_row)}"
    for index, (fmt, width) in enumerate(zip(formats, widths, strict=True), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
        if fmt is None:
            continue
        for row in ws.iter_rows(min_row=header_row + 1, max_row=last_row, min_col=index):
            row[0].number_format = fmt


def _width(header: str, values: Sequence[object], cap: int = 60) -> int:
    longest = max([len(str(v)) for v in values if v is not None] + [0])
    return min(cap, max(8, min(len(header), 24), longest + 2))


def _append_table(
    ws: Any, headers: Sequence[str], rows: Sequence[Sequence[object]], formats: list[str | None]
) -> None:
    ws.append(list(headers))
    header_row = ws.max_row
    for values in rows:
        ws.append([_xlsx_value(v) for v in values])
    widths = [_width(h, [r[i] for r in rows]) for i, h in enumerate(headers)]
    _format_table(ws, header_row, ws.max_row, formats, widths)


def _column_format(column: Column) -> str | None:
    if column.kind == "pct":
        return "0%" if column.digits == 0 else "0." + "0" * column.digits + "%"
    return _NUMBER_FORMATS.get(column.kind)


def _detail_rows(result: PriorityResult, level: str) -> tuple[list[str], list[list[object]]]:
    spec = _detail_spec(result)
    table = _published_values(result.table[result.table["nivel_territorial"] == level])
    headers = [DETAIL_HEADERS_ES[c.key] for c in spec]
    rows = []
    for _, record in table.iterrows():
        values: list[object] = []
        for column in spec:
            value = _xlsx_value(record[column.key])
            if column.key == "estabilidad" and value is not None:
                value = (stability_percent(float(value)) or 0) / 100  # type: ignore[arg-type]
            elif column.kind == "pct" and value is not None:
                value = round(float(value) * column.to_fraction, column.digits + 2)  # type: ignore[arg-type]
            elif column.kind == "rate" and value is not None:
                value = round(float(value), column.digits)  # type: ignore[arg-type]
            values.append(value)
        rows.append(values)
    return headers, rows


def write_plan_xlsx(result: PriorityResult, tmp: Path) -> None:
    """Write the formatted workbook: the plan's table with its method, details, parameters."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from .._xlsx import freeze_xlsx
    from ..io.tables import set_workbook_text

    wb = Workbook()
    ws = wb.active
    ws.title = "Territorios priorizados"
    ws.append([f"Territorios de Intervención Prioritaria {region_name(result)}"])
    ws["A1"].font = Font(bold=True, size=13)
    if result.synthetic:
        ws.append([settings.SYNTHETIC_BANNER])
        ws.cell(ws.max_row, 1).font = Font(bold=True, color="C00000")
    ws.append([f"Periodo: {period_text(result)}"])
    ws.append([source_text(result)])
    ws.append([])
    plan = plan_table(result)
    formats: list[str | None] = [None, None, None, None, None, "#,##0", "#,##0.0", "#,##0.0"]
    formats += ["0%", None]
    rows: list[list[object]] = [
        [
            *(record[h] for h in PRIORITY_PLAN_HEADERS[:8]),
            record["ESTABILIDAD (%)"] / 100 if record["ESTABILIDAD (%)"] != "" else None,
            record["OBSERVACIÓN"],
        ]
        for _, record in plan.iterrows()
    ]
    rows = [[None if v == "" else v for v in r] for r in rows]
    if not rows:
        rows = [[None, None, None, None, "ninguna provincia alcanza un nivel de prioridad"]]
        rows[0] += [None] * 5
    _append_table(ws, PRIORITY_PLAN_HEADERS, rows, formats)
    observation = ws.column_dimensions["J"]
    observation.width = 80
    for row in ws.iter_rows(min_row=ws.max_row - len(rows) + 1, max_row=ws.max_row):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    ws.append([])
    ws.append(["Método"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    for title, text in method_paragraphs(result):
        ws.append([title, text])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=10)
        ws.cell(ws.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[ws.max_row].height = 15 * (1 + len(text) // 150)
    for level, title in (("provincia", "Detalle provincias"), ("distrito", "Detalle distritos")):
        if (result.table["nivel_territorial"] == level).any():
            sheet = wb.create_sheet(title)
            headers, detail = _detail_rows(result, level)
            spec = _detail_spec(result)
            _append_table(sheet, headers, detail, [_column_format(c) for c in spec])
    _method_sheet(wb.create_sheet("Método"), result)
    set_workbook_text(wb)  # data text is text, never a formula
    wb.save(tmp)
    freeze_xlsx(tmp)


def _method_sheet(ws: Any, result: PriorityResult) -> None:
    from openpyxl.styles import Alignment

    entries: list[tuple[str, object]] = [
        ("Regla", result.parameters["rule_description"]),
        ("Periodo", period_text(result)),
    ]
    entries += [
        (key, json.dumps(value, ensure_ascii=False))
        for key, value in sorted(result.parameters.items())
        if key != "rule_description"
    ]
    entries += [("Observación", note) for note in result.notes]
    entries += [("Entrada", json.dumps(s, ensure_ascii=False)) for s in result.inputs]
    rows = [[key, text] for key, text in entries]
    _append_table(ws, ["Parámetro", "Valor"], rows, [None, None])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 120
    for row in ws.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")


__all__ = [
    "DETAIL_SPEC",
    "detail_table",
    "method_paragraphs",
    "period_text",
    "plan_markdown",
    "region_name",
    "source_text",
    "top_districts_table",
    "write_plan_xlsx",
]
