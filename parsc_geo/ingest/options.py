"""Settings of an ingestion: column mapping, UTM zone, study area, dates, harm, readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, InputDataError
from ..settings import (
    STATION_MAX_DISTANCE_M,
    STATION_STACK_MIN_COUNT,
    STATION_STACK_RADIUS_M,
    TIMEZONE,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass
class IngestOptions:
    """Settings of an ingestion (all have working defaults).

    Attributes
    ----------
    columns
        Explicit ``field → column`` mapping (see :mod:`parsc_geo.io.columns`).
    utm_zone
        Zone of easting/northing columns without a zone column (``"17S"``, ``"18S"``, ``"19S"``).
    study_area
        None (the Cajamarca region), a UBIGEO prefix, a name, a polygon file or a shapely
        polygon (see :func:`parsc_geo.area.resolve_area`).
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
    utm_zone: str = "17S"
    study_area: Any = None
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

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> IngestOptions:
        """Build options from a config mapping (see :func:`ingest_checks.read_config`)."""
        from ..io.columns import check_mapping

        known = {f for f in cls.__dataclass_fields__ if f not in ("harm_overrides", "progress")}
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
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        """Return the options as JSON-serialisable parameters."""
        from ..area import resolve_area

        return {
            "columns": dict(self.columns),
            "utm_zone": self.utm_zone,
            "study_area": resolve_area(self.study_area, quiet=True).describe()[:200],
            "harm_rule": self.harm_rule or "min_days",
            "harm_overrides": {f"{e}|{m}": w for (e, m), w in (self.harm_overrides or {}).items()},
            "min_date": self.min_date,
            "timezone": TIMEZONE,
            "station_stack_radius_m": self.station_stack_radius_m,
            "station_stack_min_count": self.station_stack_min_count,
            "station_max_distance_m": self.station_max_distance_m,
        }


def read_config(path: str | Path) -> dict[str, Any]:
    """Read an ingestion config file (TOML or JSON).

    Keys (all optional): ``columns`` (table field → column), ``utm_zone``, ``study_area``
    (UBIGEO prefix or polygon file), ``harm_rule``, ``harm`` (table "ESPECIFICO|MODALIDAD" →
    weight), ``min_date``, ``encoding``, ``delimiter``, ``sheet``, ``layer``,
    ``station_stack_radius_m``, ``station_stack_min_count``, ``station_max_distance_m``. An
    ``[ingest]`` table may hold them.
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
