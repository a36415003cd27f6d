"""The synthetic sample exported "as field data arrives": a Latin-1 CSV and a My Maps KML.

The same incidents as the clean sample, written the way comisarías send them:

* **CSV** (``…_campo.csv``): Latin-1, semicolon-separated, Windows line ends, Spanish column
  names (``N° DENUNCIA``, ``FECHA_HECHO`` as dd/mm/yyyy, ``HORA``, ``DELITO_GENERICO``,
  ``DELITO_ESPECIFICO``, ``MODALIDAD``, ``LATITUD``/``LONGITUD`` with decimal commas,
  ``COMISARÍA``, ``SECTOR``, ``SUB SECTOR``), labels in the abbreviations of the station maps
  ("VIOL. FAM", "TID", "CEE", "PAF", "HURTO AGRAVADO DURANTE LA NOCHE" …).
* **KML** (``…_mymaps.kml``): one month of one comisaría (COMISARIA CAJAMARCA I, the last month
  of the period) as drawn in Google My Maps: a folder per crime type, the station-map label as
  the placemark name, and the table columns (``N° DENUNCIA``, ``FECHA_HECHO``, ``HORA``) as
  ``ExtendedData``. Those incidents are not repeated in the CSV.

Planted problems (recorded in the manifest, row by row, with the expected outcome)
---------------------------------------------------------------------------------
* ``latlon_swapped``: clean rows written with latitude and longitude swapped — the swap is
  detectable and undone (accepted, flagged);
* ``latlon_swapped_outside``: extra rows whose swapped coordinates, once swapped back, still lie
  outside the region (a Lima point; a point whose signs were also lost) — quarantined;
* ``duplicate``: exact copies of clean rows — quarantined;
* ``outside_region``: extra rows in Lima, Chachapoyas and Chiclayo — quarantined;
* ``missing_coordinates``: extra rows with blank coordinates — quarantined;
* ``invalid_date``: extra rows with dates that do not exist or are not dates — quarantined;
* ``station_stack``: complaints geocoded to their station (already in the clean sample) —
  accepted and flagged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from xml.sax.saxutils import escape

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Column names of the messy CSV, in order.
MESSY_COLUMNS: Final[tuple[str, ...]] = (
    "N° DENUNCIA",
    "FECHA_HECHO",
    "HORA",
    "DELITO_GENERICO",
    "DELITO_ESPECIFICO",
    "MODALIDAD",
    "LATITUD",
    "LONGITUD",
    "COMISARÍA",
    "SECTOR",
    "SUB SECTOR",
)

#: How the station maps write each delito genérico.
GENERICO_TEXT: Final[dict[str, str]] = {
    "CONTRA LA VIDA EL CUERPO Y LA SALUD": "Contra la Vida, el Cuerpo y la Salud",
    "CONTRA LA LIBERTAD": "Contra la Libertad",
    "CONTRA EL PATRIMONIO": "Contra el Patrimonio",
    "CONTRA LA SEGURIDAD PUBLICA": "Contra la Seguridad Pública",
    "COMETIDOS POR PARTICULARES": "Cometidos por Particulares",
    "OTROS DELITOS": "Otros Delitos",
}

#: How the station maps write each delito específico.
ESPECIFICO_TEXT: Final[dict[str, str]] = {
    "HOMICIDIO": "Homicidio",
    "ABORTO": "Aborto",
    "LESIONES": "Lesiones",
    "OTROS": "Otros",
    "LIBERTAD PERSONAL": "Libertad Personal",
    "LIBERTAD SEXUAL": "Libertad Sexual",
    "HURTO": "Hurto",
    "ROBO": "Robo",
    "ABIGEATO": "Abigeato",
    "PELIGRO COMUN": "Peligro Común",
    "CONTRA LA SALUD PUBLICA": "Contra la Salud Pública",
    "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD": "Violencia y Resistencia a la Autoridad",
    "ABUSO DE AUTORIDAD": "Abuso de Autoridad",
}

#: Station-map abbreviations of the modalidad column, by (específico, modalidad).
MODALIDAD_TEXT: Final[dict[tuple[str, str], str]] = {
    ("HOMICIDIO", "POR PAF"): "PAF",
    ("HOMICIDIO", "CALIFICADO"): "Calificado",
    ("ABORTO", "SIN CONSENTIMIENTO"): "SIN CONSEN.",
    ("LESIONES", "VIOLENCIA FAMILIAR"): "VIOL. FAM",
    ("LIBERTAD PERSONAL", "COACCION"): "Coacción",
    ("LIBERTAD PERSONAL", "TRATA DE PERSONAS"): "T. PERSONAS",
    ("LIBERTAD SEXUAL", "VIOLACION MAYOR DE 14 AÑOS"): "MAY. 14 AÑOS",
    ("LIBERTAD SEXUAL", "VIOLACION MENOR DE 14 AÑOS"): "MEN. 14 AÑOS",
    ("HURTO", "VEHICULOS"): "Hurto de Vehículo",
    ("ROBO", "AGRAVADO"): "ROBO AGRAV.",
    ("ROBO", "VEHICULOS"): "Robo de Vehículo",
    ("PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD"): "CEE",
    ("PELIGRO COMUN", "TENENCIA ILEGAL DE ARMAS"): "TENENCIA ILEGAL DE ARMA DE FUEGO",
    ("CONTRA LA SALUD PUBLICA", "TRAFICO ILICITO DE DROGAS"): "TID",
}

#: Self-contained placemark names of the KML (no separate columns there).
KML_NAME: Final[dict[tuple[str, str], str]] = {
    ("HOMICIDIO", "POR PAF"): "HOMICIDIO POR PAF",
    ("LESIONES", "VIOLENCIA FAMILIAR"): "VIOL. FAM",
    ("CONTRA LA SALUD PUBLICA", "TRAFICO ILICITO DE DROGAS"): "TID",
    ("PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD"): "CEE",
    ("ROBO", "AGRAVADO"): "ROBO AGRAV.",
    ("HURTO", "VEHICULOS"): "HURTO DE VEHÍCULO",
    ("ROBO", "VEHICULOS"): "ROBO DE VEHÍCULO",
    ("LIBERTAD SEXUAL", "VIOLACION MAYOR DE 14 AÑOS"): "VIOLACIÓN MAYOR DE 14 AÑOS",
    ("LIBERTAD SEXUAL", "VIOLACION MENOR DE 14 AÑOS"): "VIOLACIÓN MENOR DE 14 AÑOS",
    ("PELIGRO COMUN", "TENENCIA ILEGAL DE ARMAS"): "TIA",
}

#: KML folder (My Maps layer) by delito específico.
KML_FOLDER: Final[dict[str, str]] = {
    "HURTO": "HURTOS",
    "ROBO": "ROBOS",
    "LESIONES": "LESIONES Y VIOLENCIA FAMILIAR",
    "HOMICIDIO": "HOMICIDIOS",
    "PELIGRO COMUN": "PELIGRO COMÚN",
    "CONTRA LA SALUD PUBLICA": "DROGAS",
    "LIBERTAD SEXUAL": "VIOLENCIA SEXUAL",
    "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD": "DESOBEDIENCIA Y RESISTENCIA",
}

#: Placemark name of the OTROS rows by genérico (the taxonomy's aliases of "… / OTROS / OTROS").
_OTROS_NAME: Final[dict[str, str]] = {
    "CONTRA LA VIDA EL CUERPO Y LA SALUD": "OTROS DELITOS CONTRA LA VIDA EL CUERPO Y LA SALUD",
    "CONTRA LA LIBERTAD": "OTROS DELITOS CONTRA LA LIBERTAD",
    "CONTRA EL PATRIMONIO": "OTROS DELITOS CONTRA EL PATRIMONIO",
    "CONTRA LA SEGURIDAD PUBLICA": "OTROS DELITOS CONTRA LA SEGURIDAD PUBLICA",
    "COMETIDOS POR PARTICULARES": "DELITOS COMETIDOS POR PARTICULARES",
    "OTROS DELITOS": "OTROS DELITOS",
}

#: Quarantine reason that :func:`parsc_geo.ingest.ingest_files` must give each planted problem.
EXPECTED_REASON: Final[dict[str, str]] = {
    "duplicate": "duplicate_id",
    "outside_region": "outside_study_area",
    "latlon_swapped_outside": "outside_study_area",
    "missing_coordinates": "missing_coordinates",
    "invalid_date": "unparseable_date",
}

#: Comisaría whose last month goes to the KML.
KML_STATION_ID: Final[str] = "1027"


def modalidad_text(especifico: str, modalidad: str, hour: int) -> str:
    """Return the MODALIDAD cell of the messy CSV (station-map abbreviation).

    Examples
    --------
    >>> modalidad_text("HURTO", "AGRAVADO", 23)
    'HURTO AGRAVADO DURANTE LA NOCHE'
    >>> modalidad_text("HURTO", "AGRAVADO", 11)
    'H. AGRAV.'
    >>> modalidad_text("LESIONES", "LEVES", 11)
    'Leves'
    """
    if (especifico, modalidad) == ("HURTO", "AGRAVADO"):
        night = hour >= 19 or 0 <= hour < 6
        return "HURTO AGRAVADO DURANTE LA NOCHE" if night else "H. AGRAV."
    text = MODALIDAD_TEXT.get((especifico, modalidad))
    if text is not None:
        return text
    return modalidad.capitalize().replace("Conduccion", "Conducción")


def kml_name(generico: str, especifico: str, modalidad: str, hour: int) -> str:
    """Return the placemark name (a self-contained station-map label) of a KML incident."""
    from ..schema import modalidad_label

    if (especifico, modalidad) == ("HURTO", "AGRAVADO"):
        return modalidad_text(especifico, modalidad, hour)
    if especifico == "OTROS":
        return _OTROS_NAME[generico]
    if (especifico, modalidad) in KML_NAME:
        return KML_NAME[(especifico, modalidad)]
    return modalidad_label(especifico, modalidad)


@dataclass
class MessyExport:
    """Text of the messy CSV and KML and the record of planted problems."""

    csv_text: str
    kml_text: str
    kml_ids: list[str]
    planted: list[dict[str, Any]] = field(default_factory=list)
    csv_rows: int = 0


def _comma(value: float) -> str:
    return f"{value:.6f}".replace(".", ",")


def _hour(hora: str) -> int:
    return int(hora[:2]) if hora else -1


def build_messy(clean: pd.DataFrame, seed: int) -> MessyExport:
    """Write the clean incidents as a messy CSV and KML, planting the documented problems.

    Parameters
    ----------
    clean
        Clean incidents (:attr:`SyntheticSample.incidents`).
    seed
        Seed of the choices of which rows get problems.

    Returns
    -------
    MessyExport
        The texts and the list of planted problems: ``file``, ``source_row`` (1-based data row
        or placemark), ``id``, ``problem``, ``outcome`` (``accepted`` or ``quarantined``),
        ``flag`` or ``reason``.
    """
    rng = np.random.default_rng([seed, 606])
    months = clean["fecha"].str.slice(0, 7)
    last_month = months.max()
    in_kml = ((clean["comisaria_id"] == KML_STATION_ID) & (months == last_month)).to_numpy()
    kml_rows = clean[in_kml]
    csv_rows = clean[~in_kml].reset_index(drop=True)

    # Rows chosen for in-place problems: not at a station, with a known time.
    csv_rows = csv_rows.assign(
        lat_f=csv_rows["latitud"].astype(float), lon_f=csv_rows["longitud"].astype(float)
    )
    candidates = np.flatnonzero(~csv_rows["at_station"].to_numpy() & (csv_rows["hora"] != ""))
    chosen = rng.choice(candidates, size=min(9, len(candidates)), replace=False)
    swapped = set(int(i) for i in chosen[:4])
    duplicated = [int(i) for i in sorted(chosen[4:9])]

    entries: list[tuple[list[str], dict[str, Any] | None]] = []

    def cells(row: Any, *, swap: bool = False) -> list[str]:
        lat, lon = float(row.latitud), float(row.longitud)
        if swap:
            lat, lon = lon, lat
        return _cells(row, row.id, _comma(lat), _comma(lon), _ddmmyyyy(row.fecha))

    dup_set = set(duplicated)
    for i, row in enumerate(csv_rows.itertuples(index=False)):
        swap = i in swapped
        mark = _plant("messy_csv", row.id, "latlon_swapped", "accepted", flag="latlon_swapped")
        entries.append((cells(row, swap=swap), mark if swap else None))
        if i in dup_set:
            entries.append((cells(row), _plant("messy_csv", row.id, "duplicate", "quarantined")))

    # Extra rows go after seeded positions of the file.
    extra = _extra_rows(csv_rows, rng)
    after = set(
        rng.choice(len(entries), size=min(len(extra), len(entries)), replace=False).tolist()
    )
    final: list[tuple[list[str], dict[str, Any] | None]] = []
    extra_iter = iter(extra)
    for k, entry in enumerate(entries):
        final.append(entry)
        if k in after:
            problem, line = next(extra_iter)
            final.append((line, _plant("messy_csv", line[0], problem, "quarantined")))
    for problem, line in extra_iter:  # only in tiny samples: fewer rows than extra rows
        final.append((line, _plant("messy_csv", line[0], problem, "quarantined")))
    planted: list[dict[str, Any]] = []
    for n, (_, plant) in enumerate(final, start=1):
        if plant is not None:
            plant["source_row"] = n
            planted.append(plant)
    merged = [line for line, _ in final]

    header = ";".join(MESSY_COLUMNS)
    body = "\r\n".join(";".join(c) for c in merged)
    csv_text = header + "\r\n" + body + "\r\n"
    kml_text, kml_ids = _kml(kml_rows, last_month)
    return MessyExport(
        csv_text=csv_text,
        kml_text=kml_text,
        kml_ids=kml_ids,
        planted=planted,
        csv_rows=len(merged),
    )


def _ddmmyyyy(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def _cells(row: Any, ident: str, lat: str, lon: str, fecha: str) -> list[str]:
    """Return the messy CSV cells of a clean row with the given id, coordinates and date."""
    return [
        ident,
        fecha,
        row.hora,
        GENERICO_TEXT[row.delito_generico],
        ESPECIFICO_TEXT[row.delito_especifico],
        modalidad_text(row.delito_especifico, row.modalidad, _hour(row.hora)),
        lat,
        lon,
        row.comisaria,
        row.sector,
        row.subsector,
    ]


def _plant(file: str, ident: str, problem: str, outcome: str, *, flag: str = "") -> dict[str, Any]:
    return {
        "file": file,
        "source_row": 0,
        "id": ident,
        "problem": problem,
        "outcome": outcome,
        "reason": EXPECTED_REASON.get(problem, "") if outcome == "quarantined" else "",
        "flag": flag,
    }


def _extra_rows(csv_rows: pd.DataFrame, rng: np.random.Generator) -> list[tuple[str, list[str]]]:
    """Return (problem, cells) of the extra rows that must end in quarantine."""
    n = len(_EXTRA_SPECS)
    template = csv_rows.iloc[rng.choice(len(csv_rows), size=n, replace=len(csv_rows) < n)]
    rows: list[tuple[str, list[str]]] = []
    for k, ((problem, coords, date), row) in enumerate(
        zip(_EXTRA_SPECS, template.itertuples(index=False), strict=True)
    ):
        lat, lon = (
            coords
            if coords is not None
            else (_comma(float(str(row.lat_f))), _comma(float(str(row.lon_f))))
        )
        fecha = date if date is not None else _ddmmyyyy(str(row.fecha))
        rows.append((problem, _cells(row, f"SINT-P{k + 1:03d}", lat, lon, fecha)))
    return rows


#: Extra rows: (problem, (LATITUD, LONGITUD) cells or None to keep the row's, FECHA or None).
_EXTRA_SPECS: Final[tuple[tuple[str, tuple[str, str] | None, str | None], ...]] = (
    ("outside_region", ("-12,046374", "-77,042793"), None),  # Lima, Plaza Mayor
    ("outside_region", ("-6,231485", "-77,869036"), None),  # Chachapoyas (Amazonas)
    ("outside_region", ("-6,771370", "-79,840881"), None),  # Chiclayo (Lambayeque)
    ("latlon_swapped_outside", ("-77,042793", "-12,046374"), None),  # Lima, swapped
    ("latlon_swapped_outside", ("78,512000", "7,160000"), None),  # swapped, signs lost
    ("missing_coordinates", ("", ""), None),
    ("missing_coordinates", ("", ""), None),
    ("missing_coordinates", ("", ""), None),
    ("missing_coordinates", ("", ""), None),
    ("invalid_date", None, "31/02/2020"),
    ("invalid_date", None, "sin fecha"),
    ("invalid_date", None, "2020-13-45"),
)


def _kml(rows: pd.DataFrame, month: str) -> tuple[str, list[str]]:
    """Return the My Maps KML text of ``rows`` and the ids in placemark order."""
    folders: dict[str, list[Any]] = {}
    for row in rows.itertuples(index=False):
        folder = KML_FOLDER.get(str(row.delito_especifico), "OTROS DELITOS")
        folders.setdefault(folder, []).append(row)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2">',
        "  <Document>",
        f"    <name>MAPA DEL DELITO CIA CAJAMARCA I {escape(month)} (DATOS SINTÉTICOS)</name>",
        "    <description>DATOS SINTÉTICOS — solo para demostración</description>",
    ]
    ids: list[str] = []
    for folder in sorted(folders):
        out.append("    <Folder>")
        out.append(f"      <name>{escape(folder)}</name>")
        for row in folders[folder]:
            ids.append(row.id)
            name = kml_name(
                row.delito_generico, row.delito_especifico, row.modalidad, _hour(row.hora)
            )
            fecha = _ddmmyyyy(row.fecha)
            out.extend(
                [
                    "      <Placemark>",
                    f"        <name>{escape(name)}</name>",
                    "        <ExtendedData>",
                    f'          <Data name="N° DENUNCIA"><value>{escape(row.id)}</value></Data>',
                    f'          <Data name="FECHA_HECHO"><value>{fecha}</value></Data>',
                    f'          <Data name="HORA"><value>{escape(row.hora)}</value></Data>',
                    "        </ExtendedData>",
                    "        <Point>",
                    f"          <coordinates>{row.longitud},{row.latitud},0</coordinates>",
                    "        </Point>",
                    "      </Placemark>",
                ]
            )
        out.append("    </Folder>")
    out.extend(["  </Document>", "</kml>", ""])
    return "\n".join(out), ids
