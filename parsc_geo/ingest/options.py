"""Settings of an ingestion: column mapping, UTM zone, study area, dates, harm, readers.

Two settings are chosen from the study area when they are not given, and the choice is
announced and recorded (:meth:`IngestOptions.resolve`): the UTM zone of easting/northing
columns without a zone (the zone of the study area's centre: 17S for Cajamarca) and the time
zone of local times (America/Lima for a study area in Peru; elsewhere ``timezone`` is needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, InputDataError
from ..settings import (
    PERU_BOUNDS,
    STATION_MAX_DISTANCE_M,
    STATION_STACK_MIN_COUNT,
    STATION_STACK_RADIUS_M,
    TIMEZONE,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shapely.geometry.base import BaseGeometry

#: What ``undated`` may be: keep rows without a full date (``occurred_at`` empty) or not.
UNDATED_CHOICES: tuple[str, ...] = ("quarantine", "keep")


@dataclass
class IngestOptions:
    """Settings of an ingestion (all have working defaults).

    Attributes
    ----------
    columns
        Explicit ``field → column`` mapping (see :mod:`parsc_geo.io.columns`).
    utm_zone
        Zone of easting/northing columns without a zone column, and of projected values in
        latitude/longitude columns: any zone 1–60, north or south (``"17S"``, ``"18N"``,
        ``"32718"``; see :func:`parsc_geo.io.coords.parse_zone`). None: the study area's zone.
    input_crs
        CRS of the coordinate columns (``"EPSG:32717"`` …) when they are not longitude and
        latitude in degrees; None guesses degrees, UTM or Web Mercator from the values.
    study_area
        None (the Cajamarca region), a UBIGEO prefix, a name, a polygon file or a shapely
        polygon (see :func:`parsc_geo.area.resolve_area`).
    timezone
        IANA time zone of local times (``"America/Toronto"``). None: America/Lima for a study
        area in Peru; required elsewhere.
    year
        Year of dates written with day and month only (``05/03``, ``5 de marzo``).
    undated
        ``"quarantine"`` (default) puts rows without a full date in quarantine
        (``missing_date``, ``missing_year``); ``"keep"`` accepts them with an empty
        ``occurred_at`` and the ``undated`` flag.
    header_row
        1-based row of the column names in CSV and XLSX files; None detects title rows.
    harm_rule, harm_overrides
        See :func:`parsc_geo.taxonomy.harm_weights`.
    min_date
        Earliest plausible occurrence date (ISO); earlier dates are quarantined.
    encoding, delimiter, sheet, layer
        Reader options (detected or first when None).
    station_stack_radius_m, station_stack_min_count
        Station-stacking rule (see :func:`parsc_geo.ingest_checks.station_stack`).
    station_max_distance_m
        Farthest police unit (m) an incident is assigned to (see
        :func:`parsc_geo.assign.assign_incidents`).
    progress
        Show progress bars on stderr.
    """

    columns: dict[str, str] = field(default_factory=dict)
    utm_zone: str | None = None
    study_area: Any = None
    input_crs: str | None = None
    timezone: str | None = None
    year: int | None = None
    undated: str = "quarantine"
    header_row: int | None = None
    harm_rule: str | None = None
    harm_overrides: dict[tuple[str, str], float] | None = None
    min_date: str = "2000-01-01"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    layer: str | None = None
    station_stack_radius_m: float = STATION_STACK_RADIUS_M
    station_stack_min_count: int = STATION_STACK_MIN_COUNT
    station_max_distance_m: float = STATION_MAX_DISTANCE_M
    progress: bool = False
    auto: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> IngestOptions:
        """Build options from a config mapping (see :func:`ingest_checks.read_config`)."""
        from ..io.columns import check_mapping

        known = {
            f for f in cls.__dataclass_fields__ if f not in ("harm_overrides", "progress", "auto")
        }
        values: dict[str, Any] = {}
        for key, value in config.items():
            if key == "harm":
                if not isinstance(value, dict):
                    raise ConfigError(
                        "la clave 'harm' de la configuración debe ser una tabla "
                        "ESPECIFICO|MODALIDAD = peso"
                    )
                parsed: dict[tuple[str, str], float] = {}
                for k, w in value.items():
                    if "|" not in k:
                        raise ConfigError(
                            f"la clave de harm {k!r} debe tener la forma 'ESPECIFICO|MODALIDAD'",
                            hint='p. ej. "HURTO|SIMPLE" = 365',
                        )
                    esp, mod = (p.strip() for p in k.split("|", 1))
                    parsed[(esp, mod)] = w
                values["harm_overrides"] = parsed
            elif key in known:
                values[key] = value
            else:
                raise ConfigError(
                    f"opción de importación desconocida {key!r}",
                    hint="opciones conocidas: " + ", ".join(sorted(known | {"harm"})),
                )
        if "columns" in values:
            if not isinstance(values["columns"], dict):
                raise ConfigError(
                    "la clave 'columns' de la configuración debe ser una tabla campo = COLUMNA"
                )
            check_mapping(values["columns"])
        for key, value in overrides.items():
            if value is None:
                continue
            if key == "columns":
                values["columns"] = {**values.get("columns", {}), **value}
            else:
                values[key] = value
        options = cls(**values)
        options.check()
        return options

    def check(self) -> None:
        """Raise :class:`ConfigError` for a value that cannot work (zone, time zone, year …)."""
        from .._validate import ProblemCollector

        problems = ProblemCollector("en las opciones de importación")
        problems.extend(self.problems())
        problems.raise_if_any(ConfigError, hint="vea 'parsc-geo ingest --help'")

    def problems(self) -> list[str]:
        """Return what is wrong with the options (empty when they can work)."""
        from .._validate import ProblemCollector

        problems = ProblemCollector("")
        if self.utm_zone is not None:
            from ..io.coords import parse_zone

            if parse_zone(self.utm_zone) is None:
                problems.add(
                    f"utm_zone: {self.utm_zone!r} no es una zona UTM (1 a 60, N o S: p. ej. "
                    "17S, 18N o 32718)"
                )
        if self.timezone is not None and not _known_timezone(self.timezone):
            problems.add(
                f"timezone: {self.timezone!r} no es una zona horaria IANA (p. ej. America/Lima)"
            )
        if self.year is not None and (
            isinstance(self.year, bool)
            or not isinstance(self.year, int)
            or not 1900 <= self.year < 2200
        ):
            problems.add(f"year: se esperaba un año entre 1900 y 2199; se recibió {self.year!r}")
        if self.undated not in UNDATED_CHOICES:
            problems.add(
                f"undated: se esperaba {' o '.join(UNDATED_CHOICES)}; se recibió {self.undated!r}"
            )
        if self.header_row is not None and (
            isinstance(self.header_row, bool)
            or not isinstance(self.header_row, int)
            or self.header_row < 1
        ):
            problems.add(
                f"header_row: se esperaba un número de fila (1 o más); se recibió "
                f"{self.header_row!r}"
            )
        if self.input_crs is not None:
            from pyproj import CRS
            from pyproj.exceptions import CRSError

            try:
                CRS.from_user_input(self.input_crs)
            except CRSError:
                problems.add(f"input_crs: sistema de referencia desconocido {self.input_crs!r}")
        return list(problems.problems)

    def resolve(self, area: BaseGeometry, *, default_utm_zone: str | None = None) -> IngestOptions:
        """Return a copy with the UTM zone and time zone chosen from ``area`` when not given.

        ``default_utm_zone`` is the study area's own zone (the one rule for an area's zone,
        :attr:`parsc_geo.area.StudyArea.utm_zone`); without it, the zone of a point in ``area``.

        Every choice is announced (logging) and recorded in ``auto`` (see :meth:`describe`).

        Raises
        ------
        ConfigError
            The study area is outside Peru and no ``timezone`` was given.
        """
        import dataclasses
        import logging

        from ..io.coords import parse_zone, zone_name, zone_of_lonlat

        self.check()
        log = logging.getLogger(__name__)
        auto: dict[str, str] = {}
        centre = area.representative_point()
        utm_zone = self.utm_zone
        if utm_zone is None:
            utm_zone = default_utm_zone or zone_of_lonlat(centre.x, centre.y)
            auto["utm_zone"] = utm_zone
            # announced by the ingestion when a row is actually read with it
            log.debug("Zona UTM del área de estudio: %s", utm_zone)
        else:
            parsed = parse_zone(utm_zone)
            assert parsed is not None
            utm_zone = zone_name(*parsed)
        timezone = self.timezone
        if timezone is None:
            west, south, east, north = PERU_BOUNDS
            if not (west <= centre.x <= east and south <= centre.y <= north):
                raise ConfigError(
                    "el área de estudio está fuera del Perú: indique la zona horaria de las "
                    "horas del archivo",
                    hint="use --timezone (o timezone en la configuración), p. ej. "
                    "--timezone America/Toronto",
                )
            timezone = TIMEZONE
            auto["timezone"] = timezone
            log.debug("Zona horaria del área de estudio (Perú): %s", timezone)
        return dataclasses.replace(self, utm_zone=utm_zone, timezone=timezone, auto=auto)

    def describe(self) -> dict[str, Any]:
        """Return the options as JSON-serialisable parameters."""
        from ..area import resolve_area

        return {
            "columns": dict(self.columns),
            "utm_zone": self.utm_zone,
            "input_crs": self.input_crs,
            "study_area": resolve_area(self.study_area, quiet=True).describe()[:200],
            "harm_rule": self.harm_rule or "min_days",
            "harm_overrides": {f"{e}|{m}": w for (e, m), w in (self.harm_overrides or {}).items()},
            "min_date": self.min_date,
            "timezone": self.timezone or TIMEZONE,
            "year": self.year,
            "undated": self.undated,
            "header_row": self.header_row,
            "station_stack_radius_m": self.station_stack_radius_m,
            "station_stack_min_count": self.station_stack_min_count,
            "automatic": dict(self.auto),
            "station_max_distance_m": self.station_max_distance_m,
        }


def _known_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def read_config(path: str | Path) -> dict[str, Any]:
    """Read an ingestion config file (TOML or JSON).

    Keys (all optional): ``columns`` (table field → column), ``utm_zone``, ``input_crs``,
    ``study_area`` (UBIGEO prefix, name or polygon file), ``timezone``, ``year``, ``undated``
    (``quarantine``/``keep``), ``header_row``, ``harm_rule``, ``harm`` (table
    "ESPECIFICO|MODALIDAD" → weight), ``min_date``, ``encoding``, ``delimiter``, ``sheet``,
    ``layer``, ``station_stack_radius_m``, ``station_stack_min_count``,
    ``station_max_distance_m``. An ``[ingest]`` table may hold them.
    """
    import json
    import tomllib

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"no se puede leer el archivo de configuración {p}: {exc.strerror}"
        ) from exc
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8"))
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"el archivo de configuración {p.name} no es "
            f"{'JSON' if p.suffix == '.json' else 'TOML'} válido: {exc}"
        ) from exc
    if isinstance(data.get("ingest"), dict):
        data = data["ingest"]
    if not isinstance(data, dict):
        raise InputDataError(
            f"archivo de configuración {p.name}: se esperaba una tabla de opciones"
        )
    return data
