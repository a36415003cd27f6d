"""Every Spanish label of parsc-geo's outputs, in one place.

Reasons of quarantined rows, month and day names, names of methods and priority levels, and the
headers of published tables. Code, identifiers and columns stay English/snake_case; what users
read comes from here, so one word means one thing in every table, map and message.

This module imports nothing: any module may use it.
"""

from __future__ import annotations

from typing import Final

# -- calendar ----------------------------------------------------------------------------------

#: Month names, January first (Peruvian usage: "setiembre").
MONTHS: Final[tuple[str, ...]] = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "setiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
#: Month abbreviations of period labels (``"ene 2020 – oct 2020"``).
MONTHS_SHORT: Final[tuple[str, ...]] = (
    "ene",
    "feb",
    "mar",
    "abr",
    "may",
    "jun",
    "jul",
    "ago",
    "set",
    "oct",
    "nov",
    "dic",
)
#: Day names, Monday first (``datetime.weekday()`` order).
DAYS: Final[tuple[str, ...]] = (
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
)

# -- ingestion ---------------------------------------------------------------------------------

#: Reason code of a quarantined row → what it means (:data:`parsc_geo.ingest.REASONS`).
REASONS: Final[dict[str, str]] = {
    "malformed_row": "fila mal formada",
    "unbalanced_quote": "comilla sin cerrar",
    "missing_coordinates": "sin coordenadas",
    "unparseable_coordinates": "coordenadas ilegibles",
    "projected_coordinates": "las coordenadas parecen proyectadas (no son grados)",
    "not_a_point": "geometría que no es un punto",
    "null_island": "coordenadas 0,0",
    "outside_study_area": "fuera del área de estudio",
    "missing_date": "sin fecha",
    "missing_year": "fecha sin año",
    "unparseable_date": "fecha ilegible",
    "date_out_of_range": "fecha fuera de rango",
    "duplicate_id": "identificador duplicado",
    "duplicate_place_time_type": "duplicado (lugar, hora y modalidad)",
}
#: Flag of a kept row (:data:`parsc_geo.ingest.prepare.FLAG_CODES`, and the assignment's
#: flags) → what it means, in the summaries of ``ingest`` and ``validate``.
FLAGS: Final[dict[str, str]] = {
    "latlon_swapped": "latitud y longitud intercambiadas (corregidas)",
    "utm_converted": "coordenadas UTM convertidas a grados",
    "station_stack": "apiladas en una comisaría",
    "time_unparsed": "hora ilegible (se conserva la fecha)",
    "undated": "conservadas sin fecha",
    "nearest_district": "asignadas al distrito más cercano",
    "far_from_station": "lejos de toda comisaría",
}
#: Quarantine table (:data:`parsc_geo.schema.QUARANTINE_COLUMNS`) → header of its CSV.
QUARANTINE_HEADERS: Final[dict[str, str]] = {
    "source": "Archivo",
    "source_row": "Fila",
    "reason": "Código del motivo",
    "field": "Campo",
    "value": "Valor",
    "message": "Mensaje",
    "raw": "Fila original",
}
#: Reason code → what the user can do about it.
REASON_HINTS: Final[dict[str, str]] = {
    "malformed_row": "la fila tiene más campos que la cabecera: revise separadores y comillas",
    "unbalanced_quote": 'una comilla (") abre un texto que no se cierra en su fila: quítela o '
    "cierre el texto entre comillas; las filas siguientes se leyeron normalmente",
    "missing_coordinates": "complete la ubicación o geocodifique la dirección",
    "unparseable_coordinates": "use grados decimales (-7.1634) o UTM con zona (--columns "
    "easting=ESTE,northing=NORTE y utm_zone en la configuración)",
    "not_a_point": "convierta la geometría a un punto (p. ej. el centroide) antes de importar",
    "null_island": "0,0 es un valor de relleno: complete la ubicación real",
    "projected_coordinates": "use --input-crs o --utm-zone (p. ej. --utm-zone 18S o "
    "--input-crs EPSG:32718) para indicar su sistema",
    "outside_study_area": "revise el signo de las coordenadas o amplíe el área de estudio "
    "(study_area en la configuración)",
    "missing_date": "complete la fecha del hecho, o use --undated keep para aceptar la fila "
    "sin fecha",
    "missing_year": "indique el año con --year (p. ej. --year 2020), o use --undated keep "
    "para aceptar la fila sin fecha",
    "unparseable_date": "use día/mes/año (05/03/2020) o año-mes-día (2020-03-05)",
    "date_out_of_range": "revise el año (error de digitación) o ajuste --min-date",
    "duplicate_id": "el mismo identificador ya apareció antes en esta importación",
    "duplicate_place_time_type": "misma ubicación, hora y modalidad que otra fila, y sin "
    "identificador propio que las distinga",
}

# -- methods and levels ------------------------------------------------------------------------

#: Hotspot method → its name in messages and titles.
METHODS: Final[dict[str, str]] = {
    "gistar": "Gi*",
    "kde": "KDE",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
}
#: Priority level → legend text (levels as in :mod:`parsc_geo.priority.levels`).
PRIORITY_LEVELS: Final[dict[str, str]] = {
    "ALTA PRIORIDAD": "Alta prioridad",
    "PRIORIDAD": "Prioridad",
    "": "Sin prioridad",
}
#: Fenómeno code → its heading in the plan's section 2.8 table (capitals, with accents).
PRIORITY_PLAN_FENOMENOS: Final[dict[str, str]] = {
    "violencia_mujer": "VIOLENCIA CONTRA MUJERES E INTEGRANTES DEL GRUPO FAMILIAR",
    "muertes_violentas": "MUERTES VIOLENTAS",
    "patrimonio_espacio_publico": "DELITOS PATRIMONIALES EN ESPACIOS PÚBLICOS",
    "bandas_criminales": "DELITOS COMETIDOS POR BANDAS CRIMINALES",
}
#: Columns of the plan's priority table as published (CSV, XLSX, Markdown), in order.
PRIORITY_PLAN_HEADERS: Final[tuple[str, ...]] = (
    "FENÓMENO",
    "N/O",
    "DEPARTAMENTO",
    "PROVINCIA",
    "CLÚSTER",
    "DENUNCIAS",
    "TASA POR 100 000 HAB.",
    "TASA SUAVIZADA POR 100 000 HAB.",
    "ESTABILIDAD (%)",
    "OBSERVACIÓN",
)
#: Indicator of the priority rules → its name in the rule's description.
INDICATORS: Final[dict[str, str]] = {
    "tasa_eb": "tasa suavizada (Bayes empírico)",
    "tasa": "tasa por 100 000 hab.",
    "n": "número de denuncias",
}
#: Ranking criterion → the words used in titles.
RANKING_CRITERIA: Final[dict[str, str]] = {
    "n": "incidentes",
    "harm": "daño ponderado",
    "density": "densidad",
}
#: Label of a group whose territorial unit is unknown.
UNASSIGNED: Final = "(sin asignar)"
#: What a table says for a fenómeno, modalidad or indicator without any complaint.
NO_COMPLAINTS: Final = "sin denuncias en el periodo"
#: What a priority table says for a unit that no input covers in the period (not ranked).
NO_DATA: Final = "sin datos en el periodo"

# -- headers of published tables ---------------------------------------------------------------

#: Ranking tables (column → header).
RANKING_HEADERS: Final[dict[str, str]] = {
    "rank": "Puesto",
    "hotspot_id": "Hotspot",
    "method": "Método",
    "n": "Incidentes",
    "harm": "Daño ponderado",
    "area_km2": "Área (km²)",
    "density": "Densidad (incidentes/km²)",
    "gi_z": "Gi* (z)",
    "gi_class": "Clase Gi*",
    "provincia": "Provincia",
    "distrito": "Distrito",
    "comisaria": "Comisaría",
    "sector": "Sector",
    "subsector": "Subsector",
    "top_modalidades": "Modalidades principales",
    "peak_hours": "Horas pico",
    "peak_days": "Días pico",
}
#: Patrol plan tables (CSV and XLSX).
PATROL_HEADERS: Final[dict[str, str]] = {
    "punto_id": "ID punto",
    "comisaria": "Comisaría",
    "comisaria_id": "ID comisaría",
    "sector": "Sector",
    "subsector": "Subsector",
    "rango": "Rango en el sector",
    "rango_comisaria": "Rango en la comisaría",
    "rango_subsector": "Rango en el subsector",
    "n": "Denuncias",
    "dano": "Daño ponderado",
    "riesgo": "Riesgo",
    "area_m2": "Área (m²)",
    "modalidades": "Modalidades principales",
    "horas_pico": "Horas pico",
    "dias_pico": "Días pico",
    "orden_visita": "Orden de visita",
    "visitas_laborable": "Visitas por día laborable",
    "visitas_fin_de_semana": "Visitas por día de fin de semana",
    "lon": "Longitud",
    "lat": "Latitud",
    "utm_zona": "Zona UTM",
    "utm_este": "UTM este (m)",
    "utm_norte": "UTM norte (m)",
    "referencia": "Referencia",
    "lugar_referencia": "Lugar de referencia",
    "tipo_lugar": "Tipo de lugar",
    "distancia_lugar_m": "Distancia al lugar (m)",
    "rumbo_lugar": "Rumbo desde el lugar",
    "geo_uri": "Enlace geo (QR)",
    "metodo": "Método",
    "origen_id": "ID de origen",
    "tipo_dia": "Tipo de día",
    "turno": "Turno",
    "horario_turno": "Horario del turno",
    "unidad": "Unidad",
    "orden": "Orden",
    "inicio": "Inicio",
    "fin": "Fin",
    "punto": "Punto (rango)",
    "minutos_visita": "Minutos de visita",
    "minutos_traslado": "Minutos de traslado",
    "ventana": "Ventana",
    "hora_inicio": "Hora de inicio",
    "horas": "Horas",
    "cobertura_tipo_dia": "Cobertura del tipo de día",
    "nivel": "Nivel",
    "n_sin_hora": "Denuncias sin hora",
    "puntos_criticos": "Puntos críticos",
    "observacion": "Observación",
    "delito_especifico": "Delito específico",
    "modalidad": "Modalidad",
    "etiqueta": "Modalidad (etiqueta)",
    "dia": "Día",
    "hora": "Hora",
}
#: The detailed priority table.
PRIORITY_DETAIL_HEADERS: Final[dict[str, str]] = {
    "nivel_territorial": "Nivel territorial",
    "objetivo_nombre": "Fenómeno o modalidad",
    "codigo": "UBIGEO",
    "departamento": "Departamento",
    "provincia": "Provincia",
    "distrito": "Distrito",
    "periodo": "Periodo",
    "con_datos": "Con datos en el periodo",
    "n": "Denuncias",
    "poblacion": "Población",
    "anio_poblacion": "Año de la población",
    "tasa": "Tasa por 100 000 hab.",
    "tasa_eb": "Tasa suavizada (Bayes empírico) por 100 000 hab.",
    "peso_eb": "Peso de la tasa propia (%)",
    "tasa_regional": "Tasa regional por 100 000 hab.",
    "participacion": "Participación en el total regional (%)",
    "n_anterior": "Denuncias del periodo anterior",
    "variacion": "Variación (%)",
    "grupo": "Grupo (1 = más alto)",
    "nivel_regla": "Nivel según la regla",
    "nivel": "Nivel",
    "estabilidad": "Estabilidad del nivel (%)",
    "nivel_alternativo": "Nivel alternativo en los remuestreos",
    "estabilidad_alternativa": "Remuestreos con el nivel alternativo (%)",
    "nivel_publicado": "Nivel publicado",
    "motivo": "Motivo del nivel",
    "observacion": "Observación",
}
#: Files written by ``parsc-geo sample`` (key → label of the terminal summary).
SAMPLE_FILES: Final[dict[str, str]] = {
    "incidents": "incidentes",
    "messy_csv": "CSV con problemas",
    "messy_kml": "KML con problemas",
    "sectors": "sectores",
    "manifest": "manifiesto",
}
