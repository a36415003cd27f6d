"""The README and SCHEMA texts written beside the synthetic sample (Spanish, for users)."""

from __future__ import annotations

from typing import Any

from .._text import num
from ..settings import SYNTHETIC_BANNER


def _n(value: int) -> str:
    """Format a count the Spanish way, with a thin space between thousands (21 108)."""
    return num(value)


#: The warning that opens every README of a synthetic sample.
_WARNING = (
    f"> **{SYNTHETIC_BANNER}.** Las denuncias, sus ubicaciones, fechas y horas, y los sectores y\n"
    "> subsectores de comisaría de estos archivos son **inventados** por un generador con "
    "semilla.\n> No describen hechos reales y no deben usarse para decisiones operativas."
)


def _provenance(manifest: dict[str, Any]) -> str:
    """Return the README lines on the generator, the period and how to regenerate."""
    return f"""- Generador: `parsc_geo.datasets` versión {manifest["generator_version"]}, semilla
  {manifest["seed"]}.
- Periodo: {manifest["period_start"]} a {manifest["period_end"]}; escala {manifest["scale"]:g};
  {_n(manifest["n_incidents"])} denuncias.
- Regenerar (idéntico byte a byte), desde la carpeta que contiene `incidents/`:"""


def readme_text(manifest: dict[str, Any]) -> str:
    """Return ``incidents/README.md`` for a manifest (what is synthetic, what is real, how made)."""
    if manifest.get("study_area"):
        return _area_readme(manifest)
    files = manifest["files"]
    planted: dict[str, int] = {}
    for p in manifest["messy"]["planted"]:
        planted[p["problem"]] = planted.get(p["problem"], 0) + 1
    planted_lines = "\n".join(f"| `{k}` | {v} |" for k, v in sorted(planted.items()))
    return f"""# Muestra SINTÉTICA del mapa del delito de la región Cajamarca

{_WARNING}

Solo son reales los insumos: límites distritales (INEI), población del Censo 2017, ubicación y
nombre de las comisarías (CENACOM 2017), carga de denuncias por comisaría (RENADEF 2017), centros
poblados y capitales distritales, la serie anual SIDPPOL y la tabla de delitos de mayor incidencia
(enero–octubre 2020) del Plan de Acción Regional de Seguridad Ciudadana 2021.

{_provenance(manifest)}

```
parsc-geo sample --seed {manifest["seed"]} --start {manifest["period_start"][:7]} \\
  --months {manifest["months"]} --scale {manifest["scale"]:g} --output . --overwrite
```

## Archivos

- `{files["incidents"]["path"]}`: muestra limpia, UTF-8, separador coma
  ({_n(files["incidents"]["rows"])} filas).
- `{files["messy_csv"]["path"]}`: la misma muestra "como llega del campo": Latin-1, punto y
  coma, coma decimal, abreviaturas de los mapas de comisaría y problemas sembrados
  ({_n(files["messy_csv"]["rows"])} filas).
- `{files["messy_kml"]["path"]}`: un mes de la COMISARIA CAJAMARCA I como exportado de Google
  My Maps, una carpeta por tipo de delito ({files["messy_kml"]["placemarks"]} marcadores, que no
  se repiten en el CSV de campo).
- `{files["sectors"]["path"]}`: sectores y subsectores SINTÉTICOS de 4 comisarías reales
  ({files["sectors"]["features"]} subsectores).
- `{files["manifest"]["path"]}`: semilla, versión, conteos por modalidad, SHA-256 de cada
  archivo y la lista fila por fila de los problemas sembrados.
- `incidents/SCHEMA.md`: descripción de las columnas.

## Cómo se generó

1. **Volumen y mezcla**: los conteos por delito genérico / específico / modalidad son
   exactamente los de la tabla del plan (21 108 denuncias, enero–octubre 2020). Otros periodos
   escalan el total con la serie anual SIDPPOL de la región.
2. **Distritos**: para cada tipo, la parte del distrito es
   `0,5 × población 2017 (urbana; rural para abigeato; total para violencia familiar y libertad
   sexual) / total regional + 0,5 × faltas RENADEF 2017 de sus comisarías / total regional`,
   repartida con el método del mayor residuo.
3. **Lugar dentro del distrito**: alrededor de la capital y de los centros poblados reales:
   pocos focos densos (plaza, mercado, calles comerciales), fondo difuso en el área urbana,
   abigeato en el campo lejos de los pueblos, violencia familiar dispersa en zonas residenciales
   y conducción en estado de ebriedad a lo largo de "vías" (las carreteras no están incluidas:
   se aproximan con tramos rectos entre centros poblados vecinos, árbol de expansión mínima).
   Todos los puntos caen dentro de su distrito. Un 1,2 % de las denuncias está geocodificado en
   la propia comisaría, como ocurre en los registros reales.
4. **Fechas y horas**: perfiles por tipo (robos al anochecer, violencia familiar de noche y en
   fines de semana, ebriedad de madrugada de viernes a domingo, abigeato de noche). En 2020 el
   aislamiento social obligatorio (16 de marzo – 30 de junio) reduce los delitos en la calle y
   multiplica la "desobediencia a la autoridad". Algunas denuncias solo tienen fecha (hora vacía).
5. **Sectores**: jurisdicción = celda de Voronoi de la comisaría entre las comisarías
   territoriales de su distrito, recortada al distrito; subsectores = k-medias ponderado por
   población (pueblos y centros poblados) y celdas de Voronoi de sus centros; sectores =
   agrupación contigua (Ward) de subsectores. Etiquetas `SUB SECTOR A` … `AJ` (Chota: `1` … `10`).
   Sin solapes ni vacíos por encima de la tolerancia de 100 m².

## Problemas sembrados en el CSV de campo

| problema | filas |
|---|---|
{planted_lines}

`latlon_swapped` son filas de la muestra con latitud y longitud intercambiadas (se corrigen y se
aceptan con la marca `latlon_swapped`); todas las demás son filas extra que deben ir a cuarentena.
El manifiesto da, fila por fila, el número de fila del archivo, el id y el resultado esperado.
"""


def _area_readme(manifest: dict[str, Any]) -> str:
    """Return the README of a sample of a study area other than the bundled Cajamarca one."""
    files = manifest["files"]
    area = manifest["study_area"]
    factors = ", ".join(
        f"{code}: {value:.4f}" for code, value in manifest["department_factors"].items()
    )
    plans = manifest.get("sector_plans", [])
    return f"""# Muestra SINTÉTICA del mapa del delito — {area["descripcion"]}

{_WARNING}

Solo son reales los insumos: límites distritales (INEI), población del Censo 2017, ubicación,
nombre y efectivos de las comisarías (CENACOM 2017), carga de denuncias por comisaría (RENADEF
2017), centros poblados y capitales distritales, las denuncias por departamento 2017–2019, la serie
anual SIDPPOL de Cajamarca y la tabla de delitos de mayor incidencia (enero–octubre 2020) del Plan
de Acción Regional de Seguridad Ciudadana 2021 de Cajamarca.

- Área de estudio: {area["descripcion"]} (UBIGEO {", ".join(area["ubigeo"]) or "—"}; distancias
  en UTM {area["zona_utm"]}).
{_provenance(manifest)}

```
parsc-geo sample --study-area {",".join(area["ubigeo"]) or "peru"} --seed {manifest["seed"]} \\
  --start {manifest["period_start"][:7]} --months {manifest["months"]} \\
  --scale {manifest["scale"]:g} --output . --overwrite
```

## Archivos

- `{files["incidents"]["path"]}`: muestra limpia, UTF-8, separador coma
  ({_n(files["incidents"]["rows"])} filas).
- `{files["sectors"]["path"]}`: sectores y subsectores SINTÉTICOS de {len(plans)} comisarías
  reales ({files["sectors"]["features"]} subsectores).
- `{files["manifest"]["path"]}`: semilla, versión, área, conteos por modalidad y SHA-256 de cada
  archivo.
- `incidents/SCHEMA.md`: descripción de las columnas.

La exportación "de campo" con problemas sembrados (CSV Latin-1 y KML de My Maps) solo acompaña a
la muestra de Cajamarca: sus problemas (puntos fuera de la región, un mes de la Comisaría
Cajamarca I) son de esa región.

## Cómo se generó

1. **Volumen y mezcla**: cada departamento recibe la mezcla por delito y modalidad de la tabla
   del plan de Cajamarca (la única disponible), con su propio volumen: el total de Cajamarca en
   el periodo (21 108 en enero–octubre 2020, escalado con la serie SIDPPOL en otros periodos)
   por `r_D` = denuncias 2017–2019 del departamento / denuncias 2017–2019 de Cajamarca
   ({factors}).
2. **Distritos**: dentro de cada departamento, la parte de cada distrito es
   `0,5 × población 2017 (urbana; rural para abigeato; total para violencia familiar y libertad
   sexual) / total departamental + 0,5 × faltas RENADEF 2017 de sus comisarías / total
   departamental`, repartida con el método del mayor residuo. Un área menor que un departamento
   conserva la parte de sus distritos.
3. **Lugar dentro del distrito, fechas y horas**: como en la muestra de Cajamarca (pueblos,
   focos, centros poblados, vías aproximadas; perfiles horarios por tipo; aislamiento de 2020).
4. **Comisaría**: la del sector si el punto cae en una jurisdicción sintética; si no, la
   dependencia CENACOM más cercana del departamento a menos de 50 km (más lejos queda vacía,
   como en la asignación de `parsc-geo ingest`).
5. **Sectores**: en cada departamento, las comisarías territoriales con más efectivos
   (CENACOM 2017); jurisdicción = celda de Voronoi entre las comisarías territoriales de su
   distrito; unos 4 efectivos por subsector (entre 8 y 36 subsectores), sectores por agrupación
   contigua (Ward).
"""


def schema_text(area_slug: str | None = None) -> str:
    """Return ``incidents/SCHEMA.md``: the columns of the clean and messy files.

    ``area_slug`` None: the bundled Cajamarca sample; otherwise the sample of that study area
    (:attr:`parsc_geo.area.StudyArea.slug`), which has no field-style files.
    """
    if area_slug is not None:
        return _area_schema(area_slug)
    return f"""# Esquema de la muestra sintética

> {SYNTHETIC_BANNER}.

## CSV limpio (`sintetico_cajamarca_<años>_incidentes.csv`)

UTF-8, separador coma, una fila por denuncia, ordenado por fecha y hora.

- `id` (texto): identificador estable `SINT-000001` …
- `fecha` (AAAA-MM-DD): fecha del hecho, hora de Lima.
- `hora` (HH:MM o vacío): hora del hecho; vacía cuando la denuncia no la registra.
- `delito_generico`, `delito_especifico`, `modalidad` (texto): títulos del Código Penal en
  mayúsculas sin tildes, como en la tabla del plan; la modalidad solo es única junto con el
  delito específico.
- `descripcion` (texto): texto libre sintético, sin nombres de personas.
- `latitud`, `longitud` (grados decimales WGS 84, 6 decimales): ubicación.
- `ubigeo` (texto de 6 dígitos): distrito INEI del punto (nombres en `boundaries/`).
- `comisaria`, `comisaria_id` (texto): comisaría (nombre e `id_n` del CENACOM 2017): la del
  sector si el punto cae en una jurisdicción sintética; si no, la más cercana.
- `sector`, `subsector` (texto): de la capa sintética; vacíos fuera de ella.

## CSV de campo (`sintetico_cajamarca_<años>_campo.csv`)

Latin-1, separador punto y coma, fin de línea CRLF, coma decimal. Columnas: `N° DENUNCIA` (= `id`),
`FECHA_HECHO` (dd/mm/aaaa), `HORA`, `DELITO_GENERICO`, `DELITO_ESPECIFICO`, `MODALIDAD` (con las
abreviaturas de los mapas: `VIOL. FAM`, `TID`, `CEE`, `PAF`, `H. AGRAV.`,
`HURTO AGRAVADO DURANTE LA NOCHE`, `ROBO AGRAV.`, `MAY. 14 AÑOS` …), `LATITUD`, `LONGITUD`,
`COMISARÍA`, `SECTOR`, `SUB SECTOR`.

## KML de My Maps (`sintetico_cajamarca_<años>_mymaps.kml`)

Una carpeta por tipo de delito; el nombre de cada marcador es la etiqueta del mapa de la comisaría
(p. ej. `VIOL. FAM`, `HURTO AGRAVADO DURANTE LA NOCHE`); `ExtendedData` con `N° DENUNCIA`,
`FECHA_HECHO` y `HORA`.

## Capa de sectores (`boundaries/sintetico_sectores_comisarias.geojson`)

GeoJSON (EPSG:4326), un polígono por subsector: `comisaria` (nombre CENACOM), `comisaria_id`
(`id_n` CENACOM), `sector` (`SECTOR 1` …), `subsector` (`SUB SECTOR A` … o `SUB SECTOR 1` …),
`sintetico` (siempre verdadero). El polígono de un sector es la unión de sus subsectores.
"""


def _area_schema(area_slug: str) -> str:
    """Return the SCHEMA of a sample of a study area other than Cajamarca."""
    bundled = schema_text()
    head, _, rest = bundled.partition("## CSV de campo")
    sectors = rest[rest.index("## Capa de sectores") :]
    text = head + sectors
    return text.replace("sintetico_cajamarca_", f"sintetico_{area_slug}_").replace(
        "sintetico_sectores_comisarias.geojson",
        f"sintetico_sectores_comisarias_{area_slug}.geojson",
    )
