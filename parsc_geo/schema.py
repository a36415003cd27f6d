"""Canonical columns of the incident table and of the hotspot table.

Incidents
---------
An incident GeoDataFrame has one row per accepted incident, geometry in EPSG:4326 (points), and
these columns (see :data:`INCIDENT_COLUMNS`):

``incident_id`` (str)
    Stable identifier: given by the source, or derived from the source row's content so that
    re-importing the same row gives the same id.
``occurred_at`` (datetime64, tz America/Lima)
    When it happened. For records with a date but no time it is local midnight and
    ``time_known`` is False: the time is never invented, and hour-of-day analyses skip such rows.
``time_known`` (bool)
``delito_generico``, ``delito_especifico``, ``modalidad`` (str)
    Código Penal headings as on the plan's station maps (upper case, no accents).
``fenomeno`` (str)
    One of :data:`FENOMENOS` keys.
``harm`` (float)
    Harm weight of the modalidad (see :mod:`parsc_geo.taxonomy`).
``label_raw`` (str)
    The crime label as received; ``label_known`` (bool) says whether the taxonomy recognised it.
``descripcion`` (str)
    Free text from the source (never shown on public maps).
``comisaria_reportada``, ``sector_reportado`` (str)
    Police station and sector as written in the source, if any.
``source`` (str), ``source_row`` (int)
    File name and 1-based data row (or feature) number in it.
``flags`` (str)
    Semicolon-separated flag codes: ``latlon_swapped``, ``station_stack``, ``nearest_district``,
    ``far_from_station`` (no police unit within the assignment's distance limit),
    ``utm_converted``.
``at_station`` (bool)
    The point stacks on a police station's coordinates (excluded from hotspots by default).

After assignment (:func:`parsc_geo.boundaries.assign`): ``ubigeo``, ``distrito``, ``provincia``,
``comisaria``, ``comisaria_id``, ``sector``, ``subsector``.

Hotspots
--------
Every ``hotspot_*`` function returns a GeoDataFrame with :data:`HOTSPOT_COLUMNS`.
"""

from __future__ import annotations

from typing import Final

from .labels_es import DAYS

INCIDENT_COLUMNS: Final[tuple[str, ...]] = (
    "incident_id",
    "occurred_at",
    "time_known",
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "harm",
    "label_raw",
    "label_known",
    "descripcion",
    "comisaria_reportada",
    "sector_reportado",
    "source",
    "source_row",
    "flags",
    "at_station",
)

ASSIGNMENT_COLUMNS: Final[tuple[str, ...]] = (
    "ubigeo",
    "distrito",
    "provincia",
    "comisaria",
    "comisaria_id",
    "sector",
    "subsector",
)

HOTSPOT_COLUMNS: Final[tuple[str, ...]] = (
    "hotspot_id",
    "method",
    "n",
    "harm",
    "area_km2",
    "density",
    "provincia",
    "distrito",
    "comisaria",
    "sector",
    "subsector",
    "top_modalidades",
    "peak_hours",
    "peak_days",
    "geometry",
)

#: Quarantine table columns (one row per rejected input row).
QUARANTINE_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "source_row",
    "reason",
    "field",
    "value",
    "message",
    "raw",
)

#: The plan's four fenómenos (section 2.7) plus "otros": code → Spanish label.
FENOMENOS: Final[dict[str, str]] = {
    "violencia_mujer": "Violencia contra las mujeres e integrantes del grupo familiar",
    "muertes_violentas": "Muertes violentas",
    "patrimonio_espacio_publico": "Delitos patrimoniales en espacios públicos",
    "bandas_criminales": "Delitos cometidos por bandas criminales",
    "otros": "Otros delitos",
}

#: Labels of the plan's section 2.8 table, by fenómeno code.
FENOMENO_PLAN_LABELS: Final[dict[str, str]] = {
    "violencia_mujer": "VIOLENCIA CONTRA MUJERES E INTEGRANTES DEL GRUPO FAMILIAR",
    "muertes_violentas": "MUERTES VIOLENTAS",
    "patrimonio_espacio_publico": "DELITOS PATRIMONIALES EN ESPACIOS PUBLICOS",
    "bandas_criminales": "DELITOS COMETIDOS POR BANDAS CRIMINALES",
}

#: Spanish day names, Monday first (``datetime.weekday()`` order): :data:`parsc_geo.labels_es.DAYS`.
DAY_NAMES_ES: Final[tuple[str, ...]] = DAYS


def modalidad_label(delito_especifico: str, modalidad: str) -> str:
    """Return the display label of a modalidad, which is only unique with its delito específico.

    The plan's table names modalidades within a delito específico ("HURTO" / "SIMPLE"), so
    ``modalidad`` alone is ambiguous ("SIMPLE" is a hurto, a robo or a homicidio). Group by the
    pair, and show this label.

    Examples
    --------
    >>> modalidad_label("HURTO", "SIMPLE")
    'HURTO SIMPLE'
    >>> modalidad_label("PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD")
    'CONDUCCION EN ESTADO DE EBRIEDAD'
    >>> modalidad_label("OTROS", "OTROS")
    'OTROS'
    """
    esp = (delito_especifico or "").strip()
    mod = (modalidad or "").strip()
    if not esp or esp == mod or esp == "OTROS":
        return mod or esp
    if mod in (
        "SIMPLE",
        "AGRAVADO",
        "CALIFICADO",
        "VEHICULOS",
        "OTROS",
        "LEVES",
        "GRAVES",
        "CULPOSO",
        "CULPOSAS",
        "TENTATIVA",
        "HURTO",
        "ROBO",
        "POR PAF",
    ):
        return f"{esp} {mod}"
    return mod
