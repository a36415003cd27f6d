"""The README and SCHEMA texts written beside the synthetic sample (Spanish, for users)."""

from __future__ import annotations

from typing import Any

from ..settings import SYNTHETIC_BANNER


def _n(value: int) -> str:
    """Format a count the Spanish way, with a thin space between thousands (21 108)."""
    return f"{value:,}".replace(",", "\u202f")


def readme_text(manifest: dict[str, Any]) -> str:
    """Return ``incidents/README.md`` for a manifest (what is synthetic, what is real, how made)."""
    files = manifest["files"]
    planted: dict[str, int] = {}
    for p in manifest["messy"]["planted"]:
        planted[p["problem"]] = planted.get(p["problem"], 0) + 1
    planted_lines = "\n".join(f"| `{k}` | {v} |" for k, v in sorted(planted.items()))
    return f"""# Muestra SINTÉTICA del mapa del delito de la región Cajamarca

> **{SYNTHETIC_BANNER}.** Las denuncias, sus ubicaciones, fechas y horas, y los sectores y
> subsectores de comisaría de estos archivos son **inventados** por un generador con semilla.
> No describen hechos reales y no deben usarse para decisiones operativas.

Solo son reales los insumos: límites distritales (INEI), población del Censo 2017, ubicación y
nombre de las comisarías (CENACOM 2017), carga de denuncias por comisaría (RENADEF 2017), centros
poblados y capitales distritales, la serie anual SIDPPOL y la tabla de delitos de mayor incidencia
(enero–octubre 2020) del Plan de Acción Regional de Seguridad Ciudadana 2021.

- Generador: `parsc_geo.datasets` versión {manifest["generator_version"]}, semilla
  {manifest["seed"]}.
- Periodo: {manifest["period_start"]} a {manifest["period_end"]}; escala {manifest["scale"]:g};
  {_n(manifest["n_incidents"])} denuncias.
- Regenerar (idéntico byte a byte), desde la carpeta que contiene `incidents/`:

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


def schema_text() -> str:
    """Return ``incidents/SCHEMA.md``: the columns of the clean and messy files."""
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
