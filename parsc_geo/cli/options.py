"""The option registry: every option two commands share, defined once with its validation.

As in rasterio's ``rio``, commands take their shared options from here, so the same spelling
means the same thing, is checked by the same code and fails with the same message and exit code
in every command:

- a malformed value (``--bandwidth -5``, ``--cell-size 0``, ``--kernel caja``, an unknown
  ``--method``) is a usage error, exit 2, reported while the command line is read — before any
  data is opened, so a method that would decline for lack of data still reports it first;
- an input file that does not exist or cannot be read is a data error, exit 3, with the same
  message whichever command reads it.

Only names, choices and checks live here: nothing numerical is imported, so that
``parsc-geo --help`` stays instant. Choices that mirror a library constant (kernels,
fenómenos) are checked against it by ``tests/test_cli_options.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..settings import SEED
from . import localized

if TYPE_CHECKING:
    from ..workspace.location import DatabaseURL

F = TypeVar("F", bound=Callable[..., Any])

#: Workspace used when ``--workspace`` is not given.
DEFAULT_WORKSPACE = Path("workspace.gpkg")
#: Kernel names (:data:`parsc_geo._kernels.KERNELS`).
KERNELS: tuple[str, ...] = ("quartic", "gaussian", "epanechnikov", "triangular", "uniform")
#: Bandwidth rules (:mod:`parsc_geo.bandwidth`).
BANDWIDTH_RULES: tuple[str, ...] = ("silverman", "arcgis", "scott", "lcv", "likelihood_cv")
#: Hotspot methods (:data:`parsc_geo.hotspots.METHODS`).
HOTSPOT_METHODS: tuple[str, ...] = ("kde", "dbscan", "hdbscan", "gistar", "auto")
#: Fenómeno codes (:data:`parsc_geo.schema.FENOMENOS`).
FENOMENOS: tuple[str, ...] = (
    "violencia_mujer",
    "muertes_violentas",
    "patrimonio_espacio_publico",
    "bandas_criminales",
    "otros",
)


class OptionError(click.BadParameter):
    """A malformed option value (exit 2), reported in Spanish with the option's name."""

    def format_message(self) -> str:
        """Return ``valor no válido para --opción: …``."""
        hint = self.param_hint or (self.param.get_error_hint(self.ctx) if self.param else None)
        if hint:
            return f"valor no válido para {hint}: {self.message}"
        return f"valor no válido: {self.message}"


def _received(value: Any) -> str:
    return f"se recibió {str(value)!r}"


def _number(value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
    try:
        number = float(str(value).strip().removesuffix("m"))
    except ValueError:
        raise OptionError(
            f"se esperaba un número; {_received(value)}", ctx=ctx, param=param
        ) from None
    if not math.isfinite(number):
        raise OptionError(f"se esperaba un número finito; {_received(value)}", ctx=ctx, param=param)
    return number


class Metres(click.ParamType):
    """A length in metres, greater than ``minimum`` (or at least it, when ``inclusive``)."""

    name = "metres"

    def __init__(self, minimum: float = 0.0, *, inclusive: bool = False) -> None:
        self.minimum = minimum
        self.inclusive = inclusive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the length as a float, or fail with a Spanish message."""
        if isinstance(value, float):
            return value
        number = _number(value, param, ctx)
        ok = number >= self.minimum if self.inclusive else number > self.minimum
        if not ok:
            bound = (
                f"al menos {self.minimum:g}" if self.inclusive else f"mayor que {self.minimum:g}"
            )
            raise OptionError(
                f"se esperaban metros, un número {bound}; {_received(value)}", ctx=ctx, param=param
            )
        return number


class Positive(click.ParamType):
    """A positive factor (a number greater than 0)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the factor as a float, or fail with a Spanish message."""
        if isinstance(value, float):
            return value
        number = _number(value, param, ctx)
        if not number > 0:
            raise OptionError(
                f"se esperaba un número mayor que 0; {_received(value)}", ctx=ctx, param=param
            )
        return number


class Count(click.ParamType):
    """A whole number of at least ``minimum``."""

    name = "integer"

    def __init__(self, minimum: int = 0) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the count as an int, or fail with a Spanish message."""
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise OptionError(
                    f"se esperaba un número entero; {_received(value)}", ctx=ctx, param=param
                ) from None
        if number < self.minimum:
            raise OptionError(
                f"se esperaba un número entero de al menos {self.minimum}; {_received(value)}",
                ctx=ctx,
                param=param,
            )
        return number


class Choice(click.Choice):
    """One of fixed names, compared without regard to case; failures in Spanish."""

    def __init__(self, choices: Sequence[str]) -> None:
        super().__init__(list(choices), case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the canonical spelling of ``value``, or fail listing the choices."""
        text = str(value).strip()
        for choice in self.choices:
            if str(choice).casefold() == text.casefold():
                return choice
        raise OptionError(
            f"{text!r} no es una opción conocida (use una de: {', '.join(map(str, self.choices))})",
            ctx=ctx,
            param=param,
        )


class Bandwidth(click.ParamType):
    """A bandwidth: metres (greater than 0) or the name of a rule."""

    name = "metres|rule"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return metres as a float or the rule's name, or fail with a Spanish message."""
        if isinstance(value, float):
            return value
        text = str(value).strip().lower()
        if text in BANDWIDTH_RULES:
            return text
        try:
            number = float(text.removesuffix("m"))
        except ValueError:
            raise OptionError(
                "se esperaban metros (p. ej. 500) o una regla: silverman, scott, lcv; "
                + _received(value),
                ctx=ctx,
                param=param,
            ) from None
        if not (math.isfinite(number) and number > 0):
            raise OptionError(
                f"se esperaban metros, un número mayor que 0; {_received(value)}",
                ctx=ctx,
                param=param,
            )
        return number


class StudyAreaText(click.ParamType):
    """A study area: UBIGEO prefix(es), a name, ``peru``, or a polygon file.

    The value is checked when the command line is read (an unknown or ambiguous name, a
    missing file: exit 2, with the candidates) and passed on as text, which
    :func:`parsc_geo.area.resolve_area` reads.
    """

    name = "area"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the text once it names a study area, or fail with a Spanish message."""
        from .._errors import ConfigError
        from ..area import resolve_area

        text = str(value).strip()
        try:
            resolve_area(text)
        except ConfigError as exc:
            message = exc.message + (f" ({exc.hint})" if exc.hint else "")
            raise OptionError(message, ctx=ctx, param=param) from None
        return text


class Period(click.ParamType):
    """A span of whole months: ``2020``, ``2020-03``, ``2020-01:2020-10``."""

    name = "period"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the text once it parses as a period, or fail with a Spanish message."""
        import re

        text = str(value).strip()
        parts = text.split(":")
        month = r"\d{4}(?:-(?:0?[1-9]|1[0-2]))?"
        if len(parts) > 2 or not all(re.fullmatch(month, p.strip()) for p in parts):
            raise OptionError(
                "se esperaba AAAA, AAAA-MM o INICIO:FIN (p. ej. 2020-01:2020-10); "
                + _received(value),
                ctx=ctx,
                param=param,
            )
        return text


class InputFile(click.ParamType):
    """An input file that must exist and be readable (a data error, exit 3, otherwise)."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the path, or raise :class:`parsc_geo._errors.InputDataError`."""
        path = Path(value)
        check_readable(path)
        return path


def check_readable(path: Path) -> None:
    """Raise :class:`parsc_geo._errors.InputDataError` unless ``path`` is a readable file."""
    from .._errors import InputDataError

    try:
        exists = path.exists()
    except OSError as exc:  # a name longer than the file system allows, a loop of links …
        shown = str(path) if len(str(path)) <= 60 else str(path)[:57] + "…"
        raise InputDataError(
            f"{shown}: no se puede usar como archivo ({exc.strerror})",
            hint="revise la ruta y su escritura (cada nombre admite hasta 255 bytes)",
        ) from exc
    if not exists:
        raise InputDataError(f"{path}: el archivo no existe", hint="revise la ruta y su escritura")
    if path.is_dir():
        raise InputDataError(f"{path}: es una carpeta, no un archivo", hint="indique un archivo")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputDataError(
            f"{path}: no se puede leer el archivo ({exc.strerror})",
            hint="revise los permisos del archivo",
        ) from exc


class CRSText(click.ParamType):
    """A coordinate reference system that pyproj understands (``EPSG:32717`` …)."""

    name = "CRS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the text once pyproj accepts it, or fail with a Spanish message."""
        if value == "EPSG:4326":
            return value
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(str(value))
        except CRSError:
            raise OptionError(
                f"sistema de referencia desconocido; {_received(value)} (p. ej. EPSG:4326)",
                ctx=ctx,
                param=param,
            ) from None
        return str(value)


class UTMZone(click.ParamType):
    """A UTM zone, 1 to 60, north or south (``17S``, ``18N``, ``32718``, ``EPSG:32618``)."""

    name = "zone"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the zone as ``"18S"``/``"18N"``, or fail with a Spanish message."""
        from ..io.coords import parse_zone, zone_name

        parsed = parse_zone(value)
        if parsed is None:
            raise OptionError(
                f"se esperaba una zona UTM de 1 a 60, N o S (p. ej. 17S, 18N o 32718); "
                f"{_received(value)}",
                ctx=ctx,
                param=param,
            )
        return zone_name(*parsed)


class TimeZone(click.ParamType):
    """An IANA time zone (``America/Lima``, ``America/Toronto``)."""

    name = "time_zone"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the name once the time-zone database knows it."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        text = str(value).strip()
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise OptionError(
                f"zona horaria desconocida; {_received(value)} (p. ej. America/Lima)",
                ctx=ctx,
                param=param,
            ) from None
        return text


class Year(click.ParamType):
    """A year between 1900 and 2199."""

    name = "year"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the year as an int, or fail with a Spanish message."""
        try:
            year = int(str(value).strip())
        except ValueError:
            year = 0
        if not 1900 <= year < 2200:
            raise OptionError(
                f"se esperaba un año entre 1900 y 2199; {_received(value)}", ctx=ctx, param=param
            )
        return year


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


# -- inputs ----------------------------------------------------------------------------------

#: ``[INPUT]``: an incident file or a workspace GeoPackage (the workspace when omitted).
input_argument = localized.argument(
    "input_path", metavar="[INPUT]", required=False, type=InputFile()
)

#: ``--incidents FILE``: incident points, for commands whose argument is something else.
incidents_option = localized.option(
    "--incidents",
    "input_path",
    type=InputFile(),
    help="Incident file (CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML/KMZ) or workspace.",
)


class WorkspaceTarget(click.ParamType):
    """A workspace: a GeoPackage file name, or a PostgreSQL URL (``postgresql://…``).

    Converts to a :class:`~pathlib.Path` (a folder is refused, exit 2) or to a
    :class:`parsc_geo.workspace.location.DatabaseURL` (a malformed URL or schema name is
    refused, exit 2, without showing its password). Nothing is opened or connected here.
    """

    name = "workspace"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return a Path or a DatabaseURL."""
        from .._errors import ConfigError
        from ..workspace.location import DatabaseURL, is_database_url, parse_database_url

        if isinstance(value, (Path, DatabaseURL)):
            return value
        if is_database_url(value):
            try:
                return parse_database_url(str(value))
            except ConfigError as exc:
                raise OptionError(exc.message, ctx=ctx, param=param) from None
        return click.Path(dir_okay=False, path_type=Path).convert(value, param, ctx)


workspace_option = localized.option(
    "--workspace",
    "-w",
    type=WorkspaceTarget(),
    default=None,
    help=f"Workspace: a GeoPackage file, or a PostGIS database "
    f"postgresql://user@host:port/db[?schema=NAME] [default: {DEFAULT_WORKSPACE}].",
)

#: Options of reading incident points from a table: coordinate columns and their CRS.
point_columns_options = _compose(
    localized.option(
        "--input-crs",
        type=CRSText(),
        default="EPSG:4326",
        show_default=True,
        help="CRS of coordinate columns in CSV/XLSX input (or of vector files without one).",
    ),
    localized.option("--lon-col", help="Longitude (or easting) column of CSV/XLSX input."),
    localized.option("--lat-col", help="Latitude (or northing) column of CSV/XLSX input."),
)

fenomeno_option = localized.option(
    "--fenomeno",
    "fenomenos",
    multiple=True,
    type=Choice(FENOMENOS),
    help="Only incidents of this fenómeno (repeatable).",
)

period_option = localized.option(
    "--period",
    type=Period(),
    help="Only incidents of this period: 2020, 2020-03 or 2020-01:2020-10.",
)

include_at_station_option = localized.option(
    "--include-at-station",
    is_flag=True,
    help="Keep incidents stacked on police stations (excluded by default).",
)

# -- analysis parameters ---------------------------------------------------------------------

kernel_option = localized.option(
    "--kernel",
    type=Choice(KERNELS),
    default="quartic",
    show_default=True,
    help="Kernel (quartic as in ArcGIS and CrimeStat).",
)

bandwidth_option = localized.option(
    "--bandwidth",
    type=Bandwidth(),
    help="Metres (search radius; σ for gaussian) or a rule: silverman, scott, lcv "
    "[default: silverman, ArcGIS's rule].",
)

bandwidth_adjust_option = localized.option(
    "--bandwidth-adjust",
    type=Positive(),
    default=1.0,
    show_default=True,
    help="Multiply the bandwidth by this factor.",
)

weights_option = localized.option(
    "--weights", metavar="COLUMN", help="Weight incidents by this column (e.g. harm)."
)


def cell_size_option(
    default: float | None = None, *, dest: str = "cell_size", help: str | None = None
) -> Callable[[F], F]:
    """``--cell-size`` in metres (greater than 0); None means automatic."""
    return localized.option(
        "--cell-size",
        dest,
        type=Metres(),
        default=default,
        show_default=default is not None,
        help=help or "Cell size in metres [default: automatic, announced].",
    )


def method_option(
    choices: Sequence[str], default: str | None, *, help: str = "Method."
) -> Callable[[F], F]:
    """``--method``/``-m`` among the command's methods."""
    return localized.option(
        "--method",
        "-m",
        type=Choice(choices),
        default=default,
        show_default=default is not None,
        help=help,
    )


def eps_option(default: float | None, *, dest: str = "eps", help: str) -> Callable[[F], F]:
    """``--eps``: a DBSCAN radius in metres (greater than 0)."""
    return localized.option(
        "--eps",
        dest,
        type=Metres(),
        default=default,
        show_default=default is not None,
        help=help,
    )


def min_count_option(minimum: int, default: int | None, *, help: str) -> Callable[[F], F]:
    """``--min-count``: a whole number of incidents of at least ``minimum``."""
    return localized.option(
        "--min-count",
        type=Count(minimum),
        default=default,
        show_default=default is not None,
        help=help,
    )


def seed_option(default: int | None = None) -> Callable[[F], F]:
    """``--seed``: the seed of random choices (a whole number ≥ 0)."""
    return localized.option(
        "--seed",
        type=Count(0),
        default=default,
        show_default=default is not None,
        help="Random seed." if default is not None else f"Random seed [default: {SEED}].",
    )


synthetic_option = localized.option(
    "--synthetic",
    is_flag=True,
    help="Mark the output as synthetic data (automatic for a synthetic workspace).",
)

workers_option = localized.option(
    "--workers",
    type=Count(1),
    default=None,
    help="Worker processes for the work that splits by province, sector or map "
    "[default: every available core]; 1 works in one process. The outputs are the same.",
)

# -- outputs ---------------------------------------------------------------------------------

overwrite_option = localized.option(
    "--overwrite", is_flag=True, help="Replace outputs that already exist."
)


def output_dir_option(
    default: Path | None = None, *, required: bool = False, help: str = "Output folder."
) -> Callable[[F], F]:
    """``--output``/``-o``: an output folder."""
    return localized.option(
        "--output",
        "-o",
        "output",
        type=click.Path(file_okay=False, path_type=Path),
        default=default,
        required=required,
        show_default=default is not None,
        help=help,
    )


public_option = localized.option(
    "--public",
    is_flag=True,
    help="Public maps (privacy rule of parsc_geo.privacy): sensitive or unrecognised "
    "categories never located; other incidents pooled into places of at least K incidents; "
    "small counts suppressed; no free text; privacidad.json written beside the pages.",
)

offline_option = localized.option(
    "--offline",
    is_flag=True,
    help="Write single self-contained files (Leaflet inlined from the xstatic-leaflet Python "
    "packages; no base tiles). Without it, Leaflet is written once into OUTPUT/lib/ and the "
    "pages load it from there: the maps need no network either way.",
)

# -- ingestion -------------------------------------------------------------------------------

#: ``--study-area``: the territory of an ingestion or a synthetic sample.
study_area_option = localized.option(
    "--study-area",
    "study_area",
    type=StudyAreaText(),
    metavar="UBIGEO|NAME|FILE",
    help="Study area: a UBIGEO prefix (04 = department of Arequipa, 0401 = province, "
    "040101 = district; several separated by commas), a name (Arequipa, 'provincia de "
    "Arequipa'; accents and case ignored), 'peru' for the whole country, or a polygon file "
    "[default: the workspace's study area, else 06 = Cajamarca].",
)

#: ``--station-max-distance``: the farthest police unit an incident is assigned to.
station_max_distance_option = localized.option(
    "--station-max-distance",
    "station_max_distance",
    type=Metres(),
    default=None,
    help="Farthest police unit (m) an incident outside every sector is assigned to; farther "
    "incidents keep an empty comisaría and are counted in a warning  [default: 50000].",
)

#: Options shared by ``ingest``, ``validate`` and ``info``: reading and validation rules.
ingest_options = _compose(
    localized.option(
        "--columns",
        "columns",
        multiple=True,
        metavar="FIELD=COLUMN,...",
        help="Map columns explicitly, e.g. lat=LAT_Y,lon=LON_X,date=FECHA,label=DELITO "
        "(fields: incident_id, lat, lon, easting, northing, utm_zone, datetime, date, time, "
        "generico, especifico, modalidad, label, descripcion, comisaria, sector, subsector).",
    ),
    localized.option(
        "--config",
        "config",
        type=InputFile(),
        help="TOML or JSON file with ingestion settings (columns, utm_zone, study_area, …).",
    ),
    localized.option(
        "--utm-zone",
        "utm_zone",
        type=UTMZone(),
        help="UTM zone of ESTE/NORTE columns without a zone column, and of projected values "
        "in LATITUD/LONGITUD: 1 to 60, N or S (17S, 18N, 32718)  [default: the study area's "
        "zone, 17S for Cajamarca].",
    ),
    localized.option(
        "--input-crs",
        "input_crs",
        type=CRSText(),
        default=None,
        help="CRS of the coordinate columns when they are not degrees (EPSG:32717 …)  "
        "[default: degrees, or UTM/Web Mercator recognised from the values].",
    ),
    study_area_option,
    localized.option(
        "--min-date",
        "min_date",
        metavar="YYYY-MM-DD",
        help="Earliest plausible date; earlier ones are quarantined  [default: 2000-01-01].",
    ),
    localized.option(
        "--timezone",
        "timezone",
        type=TimeZone(),
        help="Time zone of the times in the files (IANA name)  [default: America/Lima for a "
        "study area in Peru; required elsewhere].",
    ),
    localized.option(
        "--year",
        "year",
        type=Year(),
        help="Year of dates written with day and month only (05/03, 5 de marzo).",
    ),
    localized.option(
        "--undated",
        "undated",
        type=Choice(["quarantine", "keep"]),
        help="Rows without a full date: quarantine them, or keep them with no date "
        "[default: quarantine].",
    ),
    localized.option(
        "--header-row",
        "header_row",
        type=Count(1),
        help="Row of the column names in CSV/XLSX files (1 = first)  [default: detected, "
        "title rows above it skipped].",
    ),
)

#: ``FILES…``: incident files to ingest or validate.
files_argument = localized.argument("files", nargs=-1, required=True, type=InputFile())


def workspace_path(value: Path | DatabaseURL | None) -> Path | DatabaseURL:
    """Return the workspace to use: the one given, or :data:`DEFAULT_WORKSPACE`.

    Open it with :func:`parsc_geo.workspace.open_workspace`.
    """
    return value if value is not None else DEFAULT_WORKSPACE


def is_quiet(ctx: click.Context) -> bool:
    """Return whether ``-q`` was given to the group."""
    root = ctx.find_root()
    return bool(root.meta.get("parsc_geo.quiet"))
