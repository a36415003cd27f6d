"""Aggregated complaint counts in one long table.

The SIDPOL open-data CSV, any UBIGEO × category × count table, and the same aggregation of
incident points.

Count table
-----------
One row per territorial unit × period × category, with :data:`COUNT_COLUMNS`:

``ubigeo`` (str)
    INEI code with leading zeros: 6 digits for a district (``"060101"``), 4 for a province
    (``"0601"``) when a table is only published per province.
``anio``, ``mes`` (Int64, nullable)
    Year and month of the events; ``mes`` is missing for yearly tables, both for tables
    without time.
``categoria`` (str)
    The category as received (``"Robo"``, ``"HURTO AGRAVADO"``...).
``n`` (int)
    Number of complaints.
``source`` (str), ``source_row`` (int)
    File name and the 1-based data row of the first row that contributed to the count.

:func:`classify_counts` adds ``delito_generico``, ``delito_especifico``, ``modalidad``,
``fenomeno`` and ``label_known`` through the same taxonomy as ingestion
(:func:`parsc_geo.taxonomy.normalise_labels`), so that points and counts agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._errors import ConfigError, InputDataError, ValidationError
from .._text import fold_key
from .._validate import ProblemCollector

if TYPE_CHECKING:
    import pandas as pd

    from ..partitions import Partition

COUNT_COLUMNS: Final[tuple[str, ...]] = (
    "ubigeo",
    "anio",
    "mes",
    "categoria",
    "n",
    "source",
    "source_row",
)

TAXONOMY_COLUMNS: Final[tuple[str, ...]] = (
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "label_known",
)

#: Columns of the SIDPOL "Denuncias Policiales" open-data CSV (MININTER), in file order.
SIDPOL_COLUMNS: Final[tuple[str, ...]] = (
    "ANIO",
    "MES",
    "DPTO_HECHO_NEW",
    "PROV_HECHO",
    "DIST_HECHO",
    "UBIGEO_HECHO",
    "P_MODALIDADES",
    "cantidad",
)

#: SIDPOL columns a reader can do without (names are not used: UBIGEO is the key).
_OPTIONAL_SIDPOL: Final[frozenset[str]] = frozenset({"DPTO_HECHO_NEW", "PROV_HECHO", "DIST_HECHO"})

#: Recognised header names (upper case, without accents or separators) of generic tables.
COLUMN_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "ubigeo": (
        "UBIGEO",
        "UBIGEOHECHO",
        "CODUBIGEO",
        "CODIGOUBIGEO",
        "UBIGEODISTRITO",
        "UBIGEOPROVINCIA",
        "IDDIST",
        "IDDISTHECHO",
        "UBIGEOHECHODELITO",
    ),
    "categoria": (
        "PMODALIDADES",
        "MODALIDAD",
        "MODALIDADES",
        "CATEGORIA",
        "DELITO",
        "DELITOESPECIFICO",
        "TIPODELITO",
        "TIPOHECHO",
        "SUBTIPOHECHO",
    ),
    "n": ("CANTIDAD", "N", "COUNT", "TOTAL", "DENUNCIAS", "CASOS", "NUMERO", "FRECUENCIA"),
    "anio": ("ANIO", "ANO", "YEAR", "ANIOHECHO", "ANOHECHO"),
    "mes": ("MES", "MONTH", "MESHECHO"),
}


def _column_key(name: object) -> str:
    return fold_key(name, sep="")


def _read_any(path: Path) -> tuple[pd.DataFrame, str]:
    """Read a count table (CSV or XLSX) as text with the readers of :mod:`parsc_geo.io`."""
    import numpy as np

    from ..io.csv import read_csv
    from ..io.excel import read_xlsx

    if not path.is_file():
        raise InputDataError(
            f"{path}: no se encontró el archivo", hint="revise la ruta de la tabla de conteos"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = read_xlsx(path)
        return table.data.astype(str), "xlsx"
    table = read_csv(path)
    if table.malformed is not None and table.malformed.any():
        first = int(table.source_row[np.flatnonzero(table.malformed)[0]])
        raise InputDataError(
            f"{path}: {int(table.malformed.sum())} filas tienen más campos que la cabecera "
            f"(la primera es la fila de datos {first})",
            hint="guarde la tabla como CSV con una fila de encabezados y revise separadores",
        )
    return table.data, str(table.info["encoding"])


def pad_ubigeo(values: pd.Series) -> pd.Series:
    """Return UBIGEO codes as text with their leading zeros restored.

    Parameters
    ----------
    values
        Codes as read (text or numbers; ``60101``, ``"60101"``, ``60101.0``, ``"060101"``).

    Returns
    -------
    pandas.Series
        Six-digit district codes (``"060101"``) for codes of 5–6 digits and four-digit province
        codes (``"0601"``) for codes of 3–4 digits; ``<NA>`` where the value is not a code.

    Notes
    -----
    SIDPOL stores ``UBIGEO_HECHO`` as a number, so departments 01–09 lose their leading zero
    (``10202`` is ``010202``). District codes start at 010101 (5 digits once the zero is lost)
    and province codes end at 2511, so the number of digits tells the two apart.
    """
    import pandas as pd

    text = values.astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    ok = text.str.fullmatch(r"\d{3,6}").fillna(False).astype(bool)
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    district = ok & (text.str.len() >= 5)
    province = ok & (text.str.len() <= 4)
    out[district] = text[district].str.zfill(6)
    out[province] = text[province].str.zfill(4)
    return out


def _integers(
    df: pd.DataFrame,
    column: str,
    header: str,
    problems: ProblemCollector,
    *,
    low: int,
    high: int | None = None,
) -> pd.Series:
    import pandas as pd

    text = df[column].astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    numbers = pd.to_numeric(text.where(text.str.fullmatch(r"-?\d+").fillna(False)), errors="coerce")
    bad = numbers.isna() | (numbers < low)
    if high is not None:
        bad |= numbers > high
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        span = f"{low}–{high}" if high is not None else f"≥ {low}"
        problems.add(
            f"columna {header!r}: {int(bad.sum())} fila(s) no son números enteros en {span}; "
            f"la primera es la fila de datos {first + 1} con {df[column].iloc[first]!r}"
        )
    return numbers.astype("Int64")


def _finish(
    df: pd.DataFrame, *, source: str, problems: ProblemCollector, hint: str
) -> pd.DataFrame:
    """Validate codes, sum repeated keys and return the count table."""
    bad = df["ubigeo"].isna()
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        problems.add(
            f"columna UBIGEO: {int(bad.sum())} fila(s) sin código de 4 o 6 dígitos; la primera "
            f"es la fila de datos {first + 1} con {df['ubigeo_raw'].iloc[first]!r}"
        )
    problems.raise_if_any(ValidationError, hint=hint)
    df = df.assign(source=source, source_row=range(1, len(df) + 1))
    keys = ["ubigeo", "anio", "mes", "categoria"]
    repeated = int(df.duplicated(keys, keep=False).sum())
    out = (
        df.groupby(keys, dropna=False, sort=True)
        .agg(n=("n", "sum"), source=("source", "first"), source_row=("source_row", "min"))
        .reset_index()
    )
    out["n"] = out["n"].astype("int64")
    out = out[list(COUNT_COLUMNS)]
    out.attrs["repeated_key_rows"] = repeated
    out.attrs["rows_read"] = len(df)
    return out


def is_sidpol_header(columns: list[str]) -> bool:
    """Return whether a header is the SIDPOL open-data layout (case and BOM ignored)."""
    keys = {_column_key(c) for c in columns}
    return {"UBIGEOHECHO", "PMODALIDADES", "CANTIDAD", "ANIO", "MES"} <= keys


def read_sidpol_csv(path: str | Path) -> pd.DataFrame:
    """Read the SIDPOL "Denuncias Policiales" open-data CSV into a count table.

    Parameters
    ----------
    path
        The CSV as downloaded from datosabiertos.gob.pe (any cut; its name changes every month).

    Returns
    -------
    pandas.DataFrame
        :data:`COUNT_COLUMNS`, sorted by key; ``attrs`` holds ``rows_read``,
        ``repeated_key_rows`` and ``encoding``.

    Raises
    ------
    InputDataError
        The file cannot be read or lacks the SIDPOL columns.
    ValidationError
        Some rows have an invalid year, month, UBIGEO or count (all problems listed at once).

    Notes
    -----
    The file is UTF-8 with a byte-order mark, ``cantidad`` is lower case, and ``UBIGEO_HECHO``
    is numeric, so codes of departments 01–09 lose their leading zero and are padded back
    (``60101`` → ``"060101"``). Rows repeating the key (year, month, UBIGEO, modalidad) are
    summed, since every row is already a count (the file has no exact duplicates; see
    ``formatos_datos_policiales.md`` §1.2). Names are kept out: UBIGEO is the join key because
    district names repeat across provinces.
    """
    path = Path(path)
    df, encoding = _read_any(path)
    by_key = {_column_key(c): c for c in df.columns}
    missing = [
        c for c in SIDPOL_COLUMNS if _column_key(c) not in by_key and c not in _OPTIONAL_SIDPOL
    ]
    if missing:
        raise InputDataError(
            f"{path}: no es un CSV de datos abiertos SIDPOL; falta(n) la(s) columna(s) "
            f"{', '.join(missing)} (encontradas: {', '.join(map(str, df.columns))})",
            hint="indique en su lugar una tabla genérica UBIGEO × categoría × conteo con "
            "read_count_table",
        )
    problems = ProblemCollector(f"en {path}")
    table = df.rename(
        columns={by_key[_column_key(c)]: c for c in SIDPOL_COLUMNS if _column_key(c) in by_key}
    )
    ubigeo_raw = table["UBIGEO_HECHO"]
    out = table.assign(
        anio=_integers(table, "ANIO", "ANIO", problems, low=1900, high=2100),
        mes=_integers(table, "MES", "MES", problems, low=1, high=12),
        n=_integers(table, "cantidad", "cantidad", problems, low=0),
        ubigeo=pad_ubigeo(ubigeo_raw),
        ubigeo_raw=ubigeo_raw,
        categoria=table["P_MODALIDADES"].astype(str).str.strip(),
    )
    result = _finish(
        out,
        source=path.name,
        problems=problems,
        hint="el archivo SIDPOL debe leerse tal como se publica; ¿fue editado en una hoja de "
        "cálculo?",
    )
    result.attrs["encoding"] = encoding
    result.attrs["format"] = "sidpol"
    return result


def _find(by_key: dict[str, str], field: str, given: str | None, path: Path) -> str | None:
    if given is not None:
        if given in by_key.values():
            return given
        if _column_key(given) in by_key:
            return by_key[_column_key(given)]
        raise ConfigError(
            f"{path}: la columna {given!r} indicada para {field} no está en el archivo "
            f"(encontradas: {', '.join(by_key.values())})"
        )
    for alias in COLUMN_ALIASES[field]:
        if alias in by_key:
            return by_key[alias]
    return None


def read_count_table(
    path: str | Path,
    *,
    ubigeo: str | None = None,
    category: str | None = None,
    count: str | None = None,
    year: str | None = None,
    month: str | None = None,
) -> pd.DataFrame:
    """Read any UBIGEO × category × count table (CSV or XLSX) into a count table.

    Parameters
    ----------
    path
        CSV (comma or semicolon, UTF-8 or Windows-1252) or XLSX (first sheet).
    ubigeo, category, count, year, month
        Header of each column; ``None`` recognises the common names (see
        :data:`COLUMN_ALIASES`: ``UBIGEO``, ``MODALIDAD``/``DELITO``/``CATEGORIA``,
        ``CANTIDAD``/``TOTAL``/``N``, ``ANIO``/``AÑO``, ``MES``). Year and month are optional.

    Returns
    -------
    pandas.DataFrame
        :data:`COUNT_COLUMNS`; ``attrs`` holds ``rows_read`` and ``repeated_key_rows``.

    Raises
    ------
    InputDataError, ValidationError, ConfigError
        Unreadable file, unrecognised columns, or invalid values (all listed at once).
    """
    import pandas as pd

    path = Path(path)
    df, encoding = _read_any(path)
    if is_sidpol_header(list(df.columns)) and not any((ubigeo, category, count, year, month)):
        return read_sidpol_csv(path)
    by_key = {_column_key(c): str(c) for c in df.columns}
    columns = {
        "ubigeo": _find(by_key, "ubigeo", ubigeo, path),
        "categoria": _find(by_key, "categoria", category, path),
        "n": _find(by_key, "n", count, path),
        "anio": _find(by_key, "anio", year, path),
        "mes": _find(by_key, "mes", month, path),
    }
    missing = [f for f in ("ubigeo", "categoria", "n") if columns[f] is None]
    if missing:
        raise InputDataError(
            f"{path}: no se encuentra(n) la(s) columna(s) {', '.join(missing)} entre "
            f"{', '.join(map(str, df.columns))}",
            hint="indíquelas con los argumentos ubigeo=/category=/count= "
            "(CLI: --ubigeo-col, --category-col, --count-col)",
        )
    problems = ProblemCollector(f"en {path}")
    n_col, u_col, c_col = str(columns["n"]), str(columns["ubigeo"]), str(columns["categoria"])
    out = pd.DataFrame(
        {
            "ubigeo_raw": df[u_col],
            "ubigeo": pad_ubigeo(df[u_col]),
            "categoria": df[c_col].astype(str).str.strip(),
            "n": _integers(df, n_col, n_col, problems, low=0),
        }
    )
    for field, low, high in (("anio", 1900, 2100), ("mes", 1, 12)):
        col = columns[field]
        if col is None:
            out[field] = pd.array([pd.NA] * len(df), dtype="Int64")
        else:
            out[field] = _integers(df, col, col, problems, low=low, high=high)
    empty = out["categoria"].eq("")
    if empty.any():
        first = int(empty.to_numpy().nonzero()[0][0])
        problems.add(
            f"columna {c_col!r}: {int(empty.sum())} fila(s) sin categoría; la primera es la fila "
            f"de datos {first + 1}"
        )
    result = _finish(
        out,
        source=path.name,
        problems=problems,
        hint="corrija las filas o columnas indicadas e inténtelo de nuevo",
    )
    result.attrs["encoding"] = encoding
    result.attrs["format"] = "table"
    return result


def counts_from_incidents(incidents: pd.DataFrame, *, source: str = "workspace") -> pd.DataFrame:
    """Aggregate incident points (already assigned to districts) into a classified count table.

    Parameters
    ----------
    incidents
        Incident table with ``ubigeo`` (after :func:`parsc_geo.assign.assign_incidents`),
        ``occurred_at`` and the taxonomy columns of :mod:`parsc_geo.schema`.
    source
        Name recorded in the ``source`` column.

    Returns
    -------
    pandas.DataFrame
        :data:`COUNT_COLUMNS` plus :data:`TAXONOMY_COLUMNS`; ``categoria`` is
        :func:`parsc_geo.schema.modalidad_label`. Incidents outside every district
        (``ubigeo`` missing) are left out; their number is in ``attrs["without_ubigeo"]``.
    """
    import pandas as pd

    from ..schema import modalidad_label

    required = ["ubigeo", "occurred_at", *TAXONOMY_COLUMNS[:4]]
    missing = [c for c in required if c not in incidents.columns]
    if missing:
        raise InputDataError(
            f"a la tabla de incidentes le falta(n) la(s) columna(s) {', '.join(missing)}",
            hint="importe los incidentes con 'parsc-geo ingest' para que se clasifiquen y asignen",
        )
    df = pd.DataFrame(
        {
            "ubigeo": pad_ubigeo(incidents["ubigeo"]),
            "delito_generico": incidents["delito_generico"].astype(str),
            "delito_especifico": incidents["delito_especifico"].astype(str),
            "modalidad": incidents["modalidad"].astype(str),
            "fenomeno": incidents["fenomeno"].astype(str),
            "label_known": (
                incidents["label_known"].astype(bool)
                if "label_known" in incidents.columns
                else pd.Series(True, index=incidents.index)
            ),
        }
    )
    occurred = pd.to_datetime(incidents["occurred_at"])
    df["anio"] = occurred.dt.year.astype("Int64")
    df["mes"] = occurred.dt.month.astype("Int64")
    df["categoria"] = [
        modalidad_label(e, m) for e, m in zip(df["delito_especifico"], df["modalidad"], strict=True)
    ]
    df["source_row"] = range(1, len(df) + 1)
    without = int(df["ubigeo"].isna().sum())
    df = df[df["ubigeo"].notna()]
    keys = ["ubigeo", "anio", "mes", "categoria", *TAXONOMY_COLUMNS]
    out = (
        df.groupby(keys, dropna=False, sort=True)
        .agg(n=("source_row", "size"), source_row=("source_row", "min"))
        .reset_index()
    )
    out["n"] = out["n"].astype("int64")
    out["source"] = source
    out = out[[*COUNT_COLUMNS, *TAXONOMY_COLUMNS]]
    out.attrs["without_ubigeo"] = without
    out.attrs["rows_read"] = len(incidents)
    out.attrs["format"] = "points"
    return out


def counts_from_workspace(path: str | Path) -> pd.DataFrame:
    """Read a workspace's incidents and aggregate them with :func:`counts_from_points`."""
    from ..workspace import Workspace

    return counts_from_points(Workspace(path).read_incidents(), source=Path(path).name)


def counts_from_points(incidents: pd.DataFrame, *, source: str = "workspace") -> pd.DataFrame:
    """Aggregate incident points per district, assigning them to districts first if needed.

    Incidents without a district (read from a file, or from older workspaces) are assigned to
    the bundled INEI districts first. ``attrs["synthetic"]`` tells whether the incidents are
    synthetic data, ``attrs["covered_districts"]`` which districts the points cover
    (:func:`parsc_geo.priority.coverage.points_coverage`) and ``attrs["source_files"]`` the
    files the incidents were imported from.
    """
    from .coverage import COVERED_DISTRICTS, points_coverage

    synthetic = bool(incidents.attrs.get("synthetic", False))
    if "ubigeo" not in incidents.columns or not incidents["ubigeo"].astype(str).str.strip().any():
        from ..assign import assign_incidents

        incidents = assign_incidents(incidents)
    out = counts_from_incidents(incidents, source=source)
    out.attrs["synthetic"] = synthetic
    if "geometry" in incidents.columns and hasattr(incidents, "crs"):
        out.attrs[COVERED_DISTRICTS] = points_coverage(incidents, pad_ubigeo(incidents["ubigeo"]))
    if "source" in incidents.columns:
        files = incidents["source"].dropna().astype(str)
        out.attrs["source_files"] = sorted(set(files[files.str.strip() != ""]))
    return out


def counts_from_partitions(
    partitions: Sequence[Partition], *, source: str = "workspace", pool: Any = 1
) -> pd.DataFrame:
    """Return :func:`counts_from_points` of the incidents of ``partitions``, read by tasks.

    How a distributed run counts its incidents without holding them (issue 17): each task
    reads one partition (:func:`parsc_geo.partitions.map_partitions`) and returns its partial
    count table, its rows' index and the districts it covers; this process adds the counts of
    equal rows up and keeps each row's first incident. When no partition has a district code
    (incidents never assigned), the tasks run again and assign theirs first, as
    :func:`counts_from_points` assigns the whole table. The convex hull of the points
    (:attr:`~parsc_geo.priority.coverage.COVERED_DISTRICTS`) is drawn in the metric CRS of
    every covered province, known once every task has returned: a second round of tasks, on
    the partitions with a district, returns its hull's vertices.

    Parameters
    ----------
    partitions
        Partitions (:func:`parsc_geo.partitions.write_partitions`) holding every incident
        once, each in the incidents' order (ascending index), together cut from one table
        (their ``attrs`` are that table's); at least one.
    source
        Name recorded in the ``source`` column.
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.

    Returns
    -------
    pandas.DataFrame
        The table :func:`counts_from_points` gives for the partitions' incidents put together
        in index order: the same rows, order, types and ``attrs`` (``source_row`` is the
        position of a row's first incident in the whole table).
    """
    import numpy as np
    import pandas as pd

    from ..partitions import map_partitions
    from .coverage import (
        COVERED_DISTRICTS,
        covered_province_districts,
        districts_in_hull,
        hull_of_points,
    )

    if not partitions:
        raise ValueError("counts_from_partitions needs at least one partition")
    columns = ["ubigeo", "occurred_at", *TAXONOMY_COLUMNS, "source"]
    parts = map_partitions(
        _partition_counts, partitions, pool=pool, columns=columns, args=(source, False)
    )
    assign = not any(part["has_ubigeo"] for part in parts)
    if assign:
        # as counts_from_points: no district code anywhere, so every incident is assigned
        parts = map_partitions(_partition_counts, partitions, pool=pool, args=(source, True))
    # the incidents' index, ascending: a row's position in the whole table
    index = np.sort(np.concatenate([part["index"] for part in parts]))
    tables = []
    for part in parts:
        table = part["table"]
        table["source_row"] = np.searchsorted(index, part["first"]).astype(np.int64) + 1
        tables.append(table)
    keys = ["ubigeo", "anio", "mes", "categoria", *TAXONOMY_COLUMNS]
    counted = [table for table in tables if len(table)] or tables[:1]
    out = (
        pd.concat(counted, ignore_index=True)
        .groupby(keys, dropna=False, sort=True)
        .agg(n=("n", "sum"), source_row=("source_row", "min"))
        .reset_index()
    )
    out["n"] = out["n"].astype("int64")
    out["source"] = source
    out = out[[*COUNT_COLUMNS, *TAXONOMY_COLUMNS]]
    out.attrs["without_ubigeo"] = sum(part["without_ubigeo"] for part in parts)
    out.attrs["rows_read"] = len(index)
    out.attrs["format"] = "points"
    out.attrs["synthetic"] = bool(partitions[0].attrs.get("synthetic", False))
    if parts[0]["located"]:
        covered: set[str] = set().union(*(part["covered"] for part in parts))
        crs = parts[0]["crs"]
        if covered and crs is not None:
            districts = covered_province_districts(covered)
            with_points = [p for p, part in zip(partitions, parts, strict=True) if part["covered"]]
            vertices = map_partitions(
                _partition_hull,
                with_points,
                pool=pool,
                columns=None if assign else ["ubigeo"],
                args=(districts.crs, assign),
            )
            hull = hull_of_points(np.concatenate(vertices))
            covered |= districts_in_hull(districts, hull)
        out.attrs[COVERED_DISTRICTS] = sorted(covered)
    if parts[0]["files"] is not None:
        out.attrs["source_files"] = sorted(set().union(*(part["files"] for part in parts)))
    return out


def _partition_counts(incidents: pd.DataFrame, source: str, assign: bool) -> dict[str, Any]:
    """Count one partition's incidents as :func:`counts_from_points` (a task's result).

    ``has_ubigeo``: whether a district code is given (else, with ``assign`` False, nothing
    else is computed when the column is missing); ``table``: the counts
    (:func:`counts_from_incidents`, after :func:`parsc_geo.assign.assign_incidents` when
    ``assign``); ``first``: the index of each row's first incident; ``index``: the
    partition's index; ``without_ubigeo``; ``located``: whether the incidents have
    locations (``covered``: their districts, :func:`~.coverage.districts_with_points`;
    ``crs``); ``files``: the ``source`` files (None without that column).
    """
    from .coverage import districts_with_points

    has_ubigeo = "ubigeo" in incidents.columns and bool(
        incidents["ubigeo"].astype(str).str.strip().any()
    )
    result: dict[str, Any] = {"has_ubigeo": has_ubigeo}
    if not assign and "ubigeo" not in incidents.columns:
        return result
    if assign:
        from ..assign import assign_incidents

        incidents = assign_incidents(incidents)
    table = counts_from_incidents(incidents, source=source)
    index = incidents.index.to_numpy()
    result["table"] = table
    result["first"] = index[table["source_row"].to_numpy() - 1]
    result["index"] = index
    result["without_ubigeo"] = int(table.attrs["without_ubigeo"])
    result["located"] = "geometry" in incidents.columns and hasattr(incidents, "crs")
    if result["located"]:
        result["covered"] = districts_with_points(pad_ubigeo(incidents["ubigeo"]))
        result["crs"] = incidents.crs
    result["files"] = None
    if "source" in incidents.columns:
        files = incidents["source"].dropna().astype(str)
        result["files"] = set(files[files.str.strip() != ""])
    return result


def _partition_hull(incidents: pd.DataFrame, crs: Any, assign: bool) -> Any:
    """Return the vertices of one partition's convex hull in ``crs`` (a task's result).

    See :func:`parsc_geo.priority.coverage.points_hull`; ``assign``: assign the incidents
    to districts first, as :func:`counts_from_partitions` did.
    """
    import shapely

    from .coverage import points_hull

    if assign:
        from ..assign import assign_incidents

        incidents = assign_incidents(incidents)
    hull = points_hull(incidents, pad_ubigeo(incidents["ubigeo"]), crs)
    return shapely.get_coordinates(hull)


def classify_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Add the taxonomy columns to a count table through the ingestion taxonomy.

    Parameters
    ----------
    counts
        Count table (:data:`COUNT_COLUMNS`). Rows that already carry a ``fenomeno`` (counts of
        incident points) keep it.

    Returns
    -------
    pandas.DataFrame
        A copy with :data:`TAXONOMY_COLUMNS` filled by
        :func:`parsc_geo.taxonomy.normalise_labels` applied to ``categoria``.
    """
    from .. import taxonomy

    out = counts.copy()
    for column in TAXONOMY_COLUMNS:
        if column not in out.columns:
            out[column] = None
    todo = out["fenomeno"].isna()
    if todo.any():
        labels = out.loc[todo, "categoria"].astype(str)
        unique = labels.drop_duplicates()
        mapped = taxonomy.normalise_labels(unique.reset_index(drop=True))
        mapped.index = unique.to_numpy()
        for column in TAXONOMY_COLUMNS:
            out.loc[todo, column] = labels.map(mapped[column]).to_numpy()
    out["label_known"] = out["label_known"].astype(bool)
    out.attrs = dict(counts.attrs)
    return out


def read_counts(path: str | Path, **columns: str | None) -> pd.DataFrame:
    """Read a SIDPOL CSV or a generic count table (detected from its header) and classify it.

    Parameters
    ----------
    path
        The file.
    **columns
        Column names for :func:`read_count_table` (``ubigeo``, ``category``, ``count``,
        ``year``, ``month``).

    Returns
    -------
    pandas.DataFrame
        :data:`COUNT_COLUMNS` plus :data:`TAXONOMY_COLUMNS`.
    """
    table = read_count_table(path, **columns)
    return classify_counts(table)
