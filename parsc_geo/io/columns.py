"""Recognition of incident columns in Spanish and English, with explicit overrides.

Each canonical field has a list of accepted column names, compared after :func:`fold_name`
(upper case, accents removed, punctuation as ``_``). The first name of the list that the file has
wins. An explicit mapping (``--columns lat=Y_COORD,date=FECHA_DENUNCIA`` or a config file) takes
precedence over recognition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from .._errors import ConfigError
from .._text import fold_key as fold_name

#: Canonical field → accepted column names (folded), in order of preference.
FIELD_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "incident_id": (
        "INCIDENT_ID",
        "ID_INCIDENTE",
        "ID_DENUNCIA",
        "IDDENUNCIA",
        "ID_DGC",
        "NRO_DENUNCIA",
        "N_DENUNCIA",
        "NUMERO_DENUNCIA",
        "NUM_DENUNCIA",
        "COD_DENUNCIA",
        "CODIGO_DENUNCIA",
        "ID_HECHO",
        "ID_OCURRENCIA",
        "IDOCURRENCIA",
        "CODIGO",
        "ID",
    ),
    "lat": (
        "LATITUD",
        "LAT",
        "LATITUDE",
        "LAT_HECHO",
        "LATITUD_HECHO",
        "COORD_Y",
        "COORDENADA_Y",
        "XX",
        "Y",
    ),
    "lon": (
        "LONGITUD",
        "LON",
        "LNG",
        "LONG",
        "LONGITUDE",
        "LONG_HECHO",
        "LON_HECHO",
        "LONGITUD_HECHO",
        "COORD_X",
        "COORDENADA_X",
        "YY",
        "X",
    ),
    "easting": ("ESTE", "EASTING", "UTM_ESTE", "ESTE_UTM", "UTM_E", "UTM_X", "X_UTM", "COORD_ESTE"),
    "northing": (
        "NORTE",
        "NORTHING",
        "UTM_NORTE",
        "NORTE_UTM",
        "UTM_N",
        "UTM_Y",
        "Y_UTM",
        "COORD_NORTE",
    ),
    "utm_zone": ("ZONA_UTM", "UTM_ZONA", "ZONA", "HUSO", "UTM_ZONE", "ZONE"),
    "datetime": (
        "FECHA_HORA_HECHO",
        "FECHA_HORA",
        "FECHAHORA",
        "FECHA_Y_HORA",
        "OCCURRED_AT",
        "DATETIME",
        "TIMESTAMP",
        "FECHA_HORA_HECHO_ISO_UTC",
    ),
    "date": (
        "FECHA_HECHO",
        "FECHA",
        "FECHA_OCURRENCIA",
        "FECHA_DEL_HECHO",
        "FECHA_INCIDENTE",
        "FECHA_DENUNCIA",
        "F_HECHO",
        "DATE",
        "DIA",
    ),
    "time": ("HORA_HECHO", "HORA", "HORA_OCURRENCIA", "HORA_DEL_HECHO", "TIME"),
    "generico": (
        "DELITO_GENERICO",
        "GENERICO",
        "TIPO_HECHO",
        "IH208_GENERICO",
        "ID_GENERICO",
        "IDGENERICO",
    ),
    "especifico": (
        "DELITO_ESPECIFICO",
        "ESPECIFICO",
        "ESPECIFICA",
        "SUBTIPO_HECHO",
        "SUB_TIPO",
        "DELITO_ESP",
        "IH208_ESPECIFICO",
        "IDESPECIFICO",
    ),
    "modalidad": (
        "MODALIDAD",
        "MODALIDAD_HECHO",
        "MODALIDAD_DELITO",
        "P_MODALIDADES",
        "IH208_MODALIDAD",
        "IDMODALIDAD",
    ),
    "label": (
        "DELITO",
        "TIPO_DELITO",
        "TIPO_DE_DELITO",
        "DELITO_MODALIDAD",
        "TIPO",
        "CATEGORIA",
        "INCIDENCIA",
        "OCURRENCIA",
        "HECHO",
        "CRIME",
        "CRIME_TYPE",
        "OFFENSE",
        "OFFENCE",
    ),
    "descripcion": (
        "DESCRIPCION",
        "DESCRIPTION",
        "DETALLE",
        "DIRECCION",
        "DIRECCION_HECHO",
        "REFERENCIA",
    ),
    "comisaria": (
        "COMISARIA",
        "COMISARIA_HECHO",
        "CPNP",
        "DEPENDENCIA",
        "CIA",
        "COMISARIA_REGISTRO",
    ),
    "sector": ("SECTOR", "SECTOR_PATRULLAJE", "SECTOR_DE_PATRULLAJE"),
    "subsector": ("SUBSECTOR", "SUB_SECTOR"),
    "observacion": ("OBSERVACION",),
}

#: Fields filled from KML/KMZ placemarks when no column provides them (see :mod:`.kml`).
KML_FALLBACKS: Final[dict[str, tuple[str, ...]]] = {
    "label_name": ("NAME",),
    "label_folder": ("FOLDER",),
    "datetime": ("KML_WHEN",),
}


def parse_column_mapping(text: str | Iterable[str] | None) -> dict[str, str]:
    """Parse ``field=COLUMN`` pairs (comma-separated, or several strings) into a mapping.

    Raises
    ------
    ConfigError
        On a pair without ``=`` or an unknown field name.
    """
    if not text:
        return {}
    items = [text] if isinstance(text, str) else list(text)
    mapping: dict[str, str] = {}
    for item in items:
        for pair in item.split(","):
            if not pair.strip():
                continue
            if "=" not in pair:
                raise ConfigError(
                    f"--columns: se esperaba campo=COLUMNA; se recibió {pair.strip()!r}",
                    hint="p. ej. --columns lat=LATITUD_Y,lon=LONGITUD_X,date=FECHA",
                )
            field, column = (p.strip() for p in pair.split("=", 1))
            mapping[field] = column
    check_mapping(mapping)
    return mapping


def check_mapping(mapping: Mapping[str, str]) -> None:
    """Raise :class:`ConfigError` when ``mapping`` names a field that does not exist."""
    bad = [f for f in mapping if f not in FIELD_ALIASES]
    if bad:
        raise ConfigError(
            f"campo(s) de columna desconocido(s): {', '.join(map(repr, bad))}",
            hint="campos conocidos: " + ", ".join(FIELD_ALIASES),
        )


def recognise_columns(
    columns: Iterable[str], mapping: Mapping[str, str] | None = None, *, source: str = ""
) -> dict[str, str]:
    """Return canonical field → actual column name for the columns of one file.

    Parameters
    ----------
    columns
        The file's column names, as read.
    mapping
        Explicit ``field → column`` choices; a mapped column that the file lacks is an error.
    source
        File name, for messages.

    Raises
    ------
    ConfigError
        When an explicitly mapped column is not in the file.
    """
    cols = list(columns)
    folded: dict[str, str] = {}
    for c in cols:
        folded.setdefault(fold_name(c), c)
    found: dict[str, str] = {}
    used: set[str] = set()
    for field, column in (mapping or {}).items():
        key = fold_name(column)
        if key not in folded:
            raise ConfigError(
                f"{source}: la columna {column!r} asignada a {field!r} no está en el archivo",
                hint="columnas del archivo: " + ", ".join(map(str, cols)),
            )
        found[field] = folded[key]
        used.add(folded[key])
    for field, aliases in FIELD_ALIASES.items():
        if field in found:
            continue
        for alias in aliases:
            actual = folded.get(alias)
            if actual is not None and actual not in used:
                found[field] = actual
                used.add(actual)
                break
    return found


def known_column_count(cells: Iterable[object]) -> int:
    """Return how many canonical fields the cells of a row name (to find a header row)."""
    names = ["" if c is None or c != c else str(c).strip().lstrip("\ufeff") for c in cells]
    return len(recognise_columns([n for n in names if n]))
