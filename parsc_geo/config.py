"""Run configuration (``CONFIG.toml``) for ``parsc-geo run``: reading, defaults and checks.

Every key is optional except ``inputs.incidents``. Relative paths are taken relative to the
configuration file. A value of ``"auto"`` (or a missing key) lets parsc-geo choose, and the
choice is recorded in ``run.json``. See the README for an annotated example.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError
from ._validate import ProblemCollector
from .settings import STATION_MAX_DISTANCE_M

if TYPE_CHECKING:
    from .workspace.location import DatabaseURL

KERNELS = ("quartic", "gaussian", "epanechnikov", "triangular", "uniform")
METHODS = ("kde", "dbscan", "hdbscan", "gistar", "auto")
RANK_BY = ("n", "harm", "density")
PRIORITY_RULES = ("kmeans", "fisher_jenks", "quantiles", "thresholds")
PRIORITY_INDICATORS = ("tasa_eb", "tasa", "n")
PRIORITY_LEVELS = ("provincia", "distrito")
PATROL_METHODS = ("dbscan", "gistar", "grid")
PATROL_RISK = ("n", "harm")
BLOCK_HOURS = (1, 2, 3, 4, 6)
#: Base tiles of the maps: ``true`` (OpenStreetMap), ``false``, or one of these names.
TILES = {"osm": "OpenStreetMap", "carto": "CartoDB claro", "todas": "todas", "ninguna": None}
TREND_SCHEMES = ("arcgis", "sfhotspot")
#: Keys of [inputs] passed to the ingestion as they are (see parsc_geo.ingest.IngestOptions).
INGEST_KEYS = ("input_crs", "timezone", "year", "undated", "header_row")
#: Options of each hotspot method in ``[hotspots.<method>]`` (keyword arguments of
#: ``parsc_geo.hotspots.hotspot_<method>``), with the type each takes.
HOTSPOT_OPTIONS: dict[str, dict[str, str]] = {
    "kde": {"threshold": "umbral", "bandwidth_adjust": "positivo", "weights": "texto"},
    "dbscan": {
        "eps": "positivo",
        "min_samples": "entero",
        "hull": "envolvente",
        "buffer": "no_negativo",
    },
    "hdbscan": {
        "min_cluster_size": "entero",
        "min_samples": "entero",
        "hull": "envolvente",
        "buffer": "no_negativo",
    },
    "gistar": {
        "cell_size": "positivo",
        "grid_shape": "forma",
        "neighbours": "vecindad",
        "distance": "positivo",
        "alpha": "fraccion",
        "fdr": "booleano",
        "weights": "texto",
    },
    "auto": {"coverage": "coberturas", "cell_size": "positivo"},
}


@dataclass(frozen=True)
class TrendsConfig:
    """``[trends]``: emerging hot spots (see :func:`parsc_geo.trends.emerging.emerging_hotspots`).

    The stage runs when ``enabled`` and the data span at least ``min_periods`` periods.
    """

    enabled: bool = True
    period: str | None = None
    cell_size: float | None = None
    k: int = 1
    alpha: float = 0.05
    trend_alpha: float = 0.05
    scheme: str = "arcgis"
    min_periods: int = 5


@dataclass(frozen=True)
class NearRepeatConfig:
    """``[near_repeat]``: Knox test of near repeats (:func:`parsc_geo.trends.near_repeat`).

    The stage runs when ``enabled`` and the data span at least ``min_months`` months.
    """

    enabled: bool = True
    space_bands: str = "0,100,200,300,400,500"
    time_bands: str = "0,7,14,21,28"
    permutations: int = 99
    alpha: float = 0.05
    min_months: int = 2


@dataclass(frozen=True)
class EvaluationConfig:
    """``[evaluation]``: backtested accuracy of the hotspots the run draws.

    Each of the last ``folds`` whole months is forecast from every incident before it and
    scored at each coverage (fractions of the study area), beside the counts baseline; runs
    when ``enabled`` and the data span at least two months.
    """

    enabled: bool = True
    coverages: tuple[float, ...] = (0.01, 0.05)
    folds: int = 3
    cell_size: float | None = None


@dataclass
class RunConfig:
    """Validated configuration of one run. See the README for the meaning of each field."""

    incidents: list[Path]
    sectors: Path | None = None
    counts: list[Path] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    utm_zone: str | None = None
    ingest: dict[str, Any] = field(default_factory=dict)
    study_area: str | None = None
    station_max_distance: float = STATION_MAX_DISTANCE_M
    title: str | None = None
    synthetic: bool = False
    kernel: str = "quartic"
    cell_size: float | None = None
    bandwidth: float | None = None
    methods: list[str] = field(default_factory=lambda: ["kde", "gistar"])
    rank_by: str = "harm"
    priority_rule: str = "kmeans"
    priority_bootstrap: int = 200
    public: bool = False
    privacy_k: int | None = None
    offline: bool = False
    tiles: bool = True
    patrol_units: int = 1
    patrol_shift_hours: int = 8
    patrol_visit_minutes: int = 15
    patrol_share: float = 0.6
    seed: int = 20210101
    workers: int | None = None
    scheduler: str | None = None
    source: Path | None = None
    # the incidents every analysis uses (the workspace keeps all accepted ones)
    period: str | None = None
    fenomenos: list[str] = field(default_factory=list)
    include_at_station: bool = False
    # stages on or off
    density_enabled: bool = True
    hotspots_enabled: bool = True
    priority_enabled: bool = True
    maps_enabled: bool = True
    patrol_enabled: bool = True
    qgis_enabled: bool = True
    bandwidth_adjust: float = 1.0
    bandwidth_rule: str | None = None
    hotspot_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    priority_k: int = 3
    priority_indicator: str = "tasa_eb"
    priority_thresholds: tuple[float, float] | None = None
    priority_min_count: int | None = None
    priority_min_count_prioridad: int | None = None
    priority_levels: list[str] = field(default_factory=lambda: list(PRIORITY_LEVELS))
    priority_previous_period: str | None = None
    priority_top_modalidad: str | None = "homicidio"
    priority_top_n: int = 7
    priority_maps: bool = True
    tiles_name: str | None = None
    grid_m: float | None = None
    patrol_shifts: int | None = None
    patrol_first_shift_start: int = 6
    patrol_available_hours: float | None = None
    patrol_revisit_minutes: int = 120
    patrol_block_hours: int = 2
    patrol_method: str = "dbscan"
    patrol_min_count: int = 5
    patrol_eps: float = 60.0
    patrol_cell_size: float = 100.0
    patrol_risk: str = "n"
    patrol_density: bool = True
    patrol_basemap: bool = False
    patrol_comisaria: str | None = None
    trends: TrendsConfig = field(default_factory=TrendsConfig)
    near_repeat: NearRepeatConfig = field(default_factory=NearRepeatConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    @property
    def tiles_source(self) -> str | None:
        """Return the base tiles of the maps (a name for :func:`parsc_geo.maps.new_map`)."""
        if self.tiles_name is not None:
            return TILES[self.tiles_name]
        return "OpenStreetMap" if self.tiles else None

    #: The team's workspace the run also stores into (a GeoPackage or a PostGIS database).
    workspace: Path | DatabaseURL | None = None

    @property
    def run_title(self) -> str:
        """Return the title, by default ``"Mapa del delito — <the study area>"``."""
        if self.title is not None:
            return self.title
        from .area import resolve_area

        return f"Mapa del delito — {resolve_area(self.study_area, quiet=True).place}"

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as JSON-ready data (paths as text)."""
        out = asdict(self)
        out["title"] = self.run_title
        # a database URL as shown everywhere: its password masked
        out["workspace"] = str(self.workspace) if self.workspace is not None else None
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
            elif isinstance(value, list | tuple):
                out[key] = [str(v) if isinstance(v, Path) else v for v in value]
        return out


def _auto(value: Any) -> Any:
    return None if value in (None, "auto", 0) else value


def _paths(value: Any, base: Path, name: str, problems: ProblemCollector) -> list[Path]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        problems.add(f"{name} debe ser una ruta o una lista de rutas; se recibió {value!r}")
        return []
    paths = [(base / v).resolve() if not Path(v).is_absolute() else Path(v) for v in items]
    for p in paths:
        if not p.exists():
            problems.add(f"{name}: {p} no existe")
    return paths


def _study_area(value: Any, base: Path, problems: ProblemCollector) -> str | None:
    """Return the study area text (a polygon file made absolute), or None; check it resolves."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(
            "study_area debe ser un código UBIGEO, un nombre o un archivo de polígonos; "
            f"se recibió {value!r}"
        )
        return None
    from .area import resolve_area

    text = value
    candidate = Path(value)
    if not candidate.is_absolute() and (base / candidate).exists():
        text = str((base / candidate).resolve())
    try:
        resolve_area(text, quiet=True)
    except ConfigError as exc:
        problems.add(f"study_area = {value!r}: {exc.message}")
        return None
    return text


def parse_config(data: dict[str, Any], *, base: Path, source: Path | None = None) -> RunConfig:
    """Build a :class:`RunConfig` from parsed TOML, listing every problem at once.

    Parameters
    ----------
    data
        The TOML document as a dict.
    base
        Folder against which relative paths are resolved.
    source
        The configuration file, recorded in ``run.json``.

    Raises
    ------
    ConfigError
        Listing every unknown key, wrong type, out-of-range value and missing file.
    """
    where = f"en {source}" if source else "en la configuración"
    problems = ProblemCollector(where)
    known = {
        "title",
        "study_area",
        "workspace",
        "synthetic",
        "seed",
        "period",
        "fenomenos",
        "include_at_station",
        "inputs",
        "density",
        "hotspots",
        "priority",
        "maps",
        "patrol",
        "parallel",
        "evaluation",
        "trends",
        "near_repeat",
        "qgis",
    }
    for key in data:
        if key not in known:
            problems.add(f"clave desconocida {key!r} (conocidas: {', '.join(sorted(known))})")

    def section(name: str, keys: set[str]) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            problems.add(f"[{name}] debe ser una tabla; se recibió {value!r}")
            return {}
        for key in value:
            if key not in keys:
                problems.add(
                    f"clave desconocida {key!r} en [{name}] (conocidas: {', '.join(sorted(keys))})"
                )
        return value

    inputs = section(
        "inputs",
        {
            "incidents",
            "sectors",
            "counts",
            "columns",
            "utm_zone",
            "station_max_distance",
            *INGEST_KEYS,
        },
    )
    density = section(
        "density", {"enabled", "kernel", "cell_size", "bandwidth", "bandwidth_adjust"}
    )
    hotspots = section("hotspots", {"enabled", "methods", "rank_by", *HOTSPOT_OPTIONS})
    priority = section(
        "priority",
        {
            "enabled",
            "rule",
            "bootstrap",
            "k",
            "indicator",
            "thresholds",
            "min_count",
            "min_count_prioridad",
            "levels",
            "previous_period",
            "top_modalidad",
            "top_n",
            "maps",
        },
    )
    maps = section("maps", {"enabled", "public", "privacy_k", "offline", "tiles", "grid_m"})
    patrol = section(
        "patrol",
        {
            "enabled",
            "units",
            "shifts",
            "shift_hours",
            "first_shift_start",
            "available_hours",
            "visit_minutes",
            "revisit_minutes",
            "share",
            "block_hours",
            "method",
            "min_count",
            "eps",
            "cell_size",
            "risk",
            "density",
            "basemap",
            "comisaria",
        },
    )
    evaluation = section("evaluation", {"enabled", "coverages", "folds", "cell_size"})
    trends = section(
        "trends",
        {"enabled", "period", "cell_size", "k", "alpha", "trend_alpha", "scheme", "min_periods"},
    )
    near_repeat = section(
        "near_repeat",
        {"enabled", "space_bands", "time_bands", "permutations", "alpha", "min_months"},
    )
    qgis = section("qgis", {"enabled"})
    parallel = section("parallel", {"workers", "scheduler"})
    check = _Checker(problems)

    incidents = _paths(inputs.get("incidents"), base, "inputs.incidents", problems)
    if "incidents" not in inputs:
        problems.add("inputs.incidents es obligatorio: los archivos de incidentes a analizar")
    sectors_list = _paths(inputs.get("sectors"), base, "inputs.sectors", problems)
    counts = _paths(inputs.get("counts"), base, "inputs.counts", problems)
    columns = inputs.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        problems.add(
            "inputs.columns debe asociar nombres canónicos a nombres de columna; "
            f"se recibió {columns!r}"
        )
        columns = {}

    ingest = {key: inputs[key] for key in INGEST_KEYS if key in inputs}
    if ingest or "utm_zone" in inputs:
        from .ingest.options import IngestOptions

        try:
            checked = IngestOptions(utm_zone=inputs.get("utm_zone"), **ingest)
        except TypeError as exc:  # pragma: no cover - keys are filtered above
            problems.add(str(exc))
        else:
            problems.extend(f"inputs.{p}" for p in checked.problems())
    study_area = _study_area(data.get("study_area"), base, problems)
    station_max = inputs.get("station_max_distance", STATION_MAX_DISTANCE_M)
    number = isinstance(station_max, int | float) and not isinstance(station_max, bool)
    if not number or station_max <= 0:
        problems.add(
            "inputs.station_max_distance debe ser un número positivo de metros; "
            f"se recibió {station_max!r}"
        )
        station_max = STATION_MAX_DISTANCE_M

    kernel = density.get("kernel", "quartic")
    if kernel not in KERNELS:
        problems.add(f"density.kernel debe ser uno de {', '.join(KERNELS)}; se recibió {kernel!r}")
    numbers: dict[str, float | None] = {}
    bandwidth_rule = None
    raw_bandwidth = density.get("bandwidth")
    if isinstance(raw_bandwidth, str) and raw_bandwidth != "auto":
        from .bandwidth import RULES

        if raw_bandwidth.strip().lower() in RULES:
            bandwidth_rule = raw_bandwidth.strip().lower()
            raw_bandwidth = None
    for name, value in (
        ("cell_size", density.get("cell_size")),
        ("bandwidth", raw_bandwidth),
    ):
        value = _auto(value)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            rules = ""
            if name == "bandwidth":
                from .bandwidth import RULES

                rules = f", o una regla ({', '.join(RULES)})"
            problems.add(
                f"density.{name} debe ser un número positivo de metros o 'auto'{rules}; "
                f"se recibió {value!r}"
            )
            value = None
        numbers[name] = value
    methods = hotspots.get("methods", ["kde", "gistar"])
    if isinstance(methods, str):
        methods = [methods]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        problems.add(
            f"hotspots.methods debe ser una lista de {', '.join(METHODS)}; se recibió {methods!r}"
        )
    rank_by = hotspots.get("rank_by", "harm")
    if rank_by not in RANK_BY:
        problems.add(
            f"hotspots.rank_by debe ser uno de {', '.join(RANK_BY)}; se recibió {rank_by!r}"
        )
    rule = priority.get("rule", "kmeans")
    if rule not in PRIORITY_RULES:
        problems.add(
            f"priority.rule debe ser uno de {', '.join(PRIORITY_RULES)}; se recibió {rule!r}"
        )
    bootstrap = priority.get("bootstrap", 200)
    if not isinstance(bootstrap, int) or bootstrap < 0:
        problems.add(f"priority.bootstrap debe ser un número entero ≥ 0; se recibió {bootstrap!r}")
    share = patrol.get("share", 0.6)
    if not isinstance(share, int | float) or not 0 < share <= 1:
        problems.add(f"patrol.share debe ser una fracción en (0, 1]; se recibió {share!r}")
    ints = {}
    for key, default in (("units", 1), ("shift_hours", 8), ("visit_minutes", 15)):
        value = patrol.get(key, default)
        if not isinstance(value, int) or value <= 0:
            problems.add(f"patrol.{key} debe ser un número entero positivo; se recibió {value!r}")
            value = default
        ints[key] = value
    flags = {}
    for key, default in (("public", False), ("offline", False), ("tiles", True)):
        value = maps.get(key, default)
        if key == "tiles" and isinstance(value, str):
            continue  # a tile name, checked with the other options
        if not isinstance(value, bool):
            problems.add(f"maps.{key} debe ser true o false; se recibió {value!r}")
            value = default
        flags[key] = value
    privacy_k = maps.get("privacy_k")
    if privacy_k is not None and (
        isinstance(privacy_k, bool) or not isinstance(privacy_k, int) or privacy_k < 1
    ):
        problems.add(f"maps.privacy_k debe ser un número entero >= 1; se recibió {privacy_k!r}")
        privacy_k = None
    synthetic = data.get("synthetic", False)
    if not isinstance(synthetic, bool):
        problems.add(f"synthetic debe ser true o false; se recibió {synthetic!r}")
    seed = data.get("seed", 20210101)
    if not isinstance(seed, int):
        problems.add(f"seed debe ser un número entero; se recibió {seed!r}")
    extra = _parse_more(
        data,
        check,
        density=density,
        hotspots=hotspots,
        priority=priority,
        maps=maps,
        patrol=patrol,
        evaluation=evaluation,
        trends=trends,
        near_repeat=near_repeat,
        qgis=qgis,
    )
    if maps.get("tiles") is not None and not isinstance(maps.get("tiles"), bool):
        flags["tiles"] = extra["tiles_name"] is not None and TILES[extra["tiles_name"]] is not None
    workspace = _workspace(data.get("workspace"), base, problems)
    workers = parallel.get("workers")
    if workers == "auto":
        workers = None
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        problems.add(
            f"parallel.workers debe ser un número entero ≥ 1 o 'auto'; se recibió {workers!r}"
        )
        workers = None
    scheduler = parallel.get("scheduler")
    from .distributed import check_scheduler

    try:
        if scheduler is not None and not isinstance(scheduler, str):
            raise ConfigError(f"scheduler debe ser texto; se recibió {scheduler!r}")
        scheduler = check_scheduler(scheduler)
    except ConfigError as exc:
        problems.add(f"parallel.{exc.message}")
        scheduler = None
    problems.raise_if_any(
        ConfigError, hint="vea examples/demo.toml y la configuración comentada del README"
    )
    return RunConfig(
        incidents=incidents,
        sectors=sectors_list[0] if sectors_list else None,
        counts=counts,
        columns=dict(columns),
        utm_zone=inputs.get("utm_zone"),
        ingest=ingest,
        study_area=study_area,
        station_max_distance=float(station_max),
        title=str(data["title"]) if "title" in data else None,
        synthetic=bool(synthetic),
        kernel=kernel,
        cell_size=numbers["cell_size"],
        bandwidth=numbers["bandwidth"],
        methods=list(methods),
        rank_by=rank_by,
        priority_rule=rule,
        priority_bootstrap=int(bootstrap),
        public=flags["public"],
        privacy_k=privacy_k,
        offline=flags["offline"],
        tiles=flags["tiles"],
        patrol_units=ints["units"],
        patrol_shift_hours=ints["shift_hours"],
        patrol_visit_minutes=ints["visit_minutes"],
        patrol_share=float(share),
        seed=int(seed),
        workers=workers,
        scheduler=scheduler,
        source=source,
        bandwidth_rule=bandwidth_rule,
        **extra,
        workspace=workspace,
    )


def _workspace(value: Any, base: Path, problems: ProblemCollector) -> Path | DatabaseURL | None:
    """Return the ``workspace`` key: a PostgreSQL URL, or a GeoPackage relative to the config."""
    from .workspace.location import is_database_url, parse_database_url

    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(
            "workspace debe ser un archivo .gpkg o una dirección postgresql://…; "
            f"se recibió {value!r}"
        )
        return None
    if is_database_url(value):
        try:
            return parse_database_url(value)
        except ConfigError as exc:
            problems.add(f"workspace: {exc.message}")
            return None
    path = Path(value)
    return path if path.is_absolute() else (base / path).resolve()


def read_config(path: str | Path) -> RunConfig:
    """Read and validate a ``CONFIG.toml`` file.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML (with the line and column), or has invalid
        values (all listed).
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"el archivo de configuración {path} no existe",
            hint="parta de examples/demo.toml o de la configuración comentada del README",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} no es TOML válido: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} no es texto UTF-8: {exc}") from exc
    return parse_config(data, base=path.parent.resolve(), source=path.resolve())


class _Checker:
    """Typed reads of configuration values, each problem added to one collector."""

    def __init__(self, problems: ProblemCollector) -> None:
        self.problems = problems

    def _bad(self, where: str, expected: str, value: Any) -> None:
        self.problems.add(f"{where} debe ser {expected}; se recibió {value!r}")

    def boolean(self, table: dict[str, Any], where: str, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self._bad(f"{where}.{key}", "true o false", value)
            return default
        return value

    def integer(
        self,
        table: dict[str, Any],
        where: str,
        key: str,
        default: int | None,
        *,
        minimum: int = 1,
        maximum: int | None = None,
    ) -> int | None:
        value = table.get(key, default)
        if value is None:
            return None
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        if ok and maximum is not None:
            ok = value <= maximum
        if not ok:
            span = f"entre {minimum} y {maximum}" if maximum is not None else f"≥ {minimum}"
            self._bad(f"{where}.{key}", f"un número entero {span}", value)
            return default
        return int(value)

    def number(
        self,
        table: dict[str, Any],
        where: str,
        key: str,
        default: float | None,
        *,
        zero: bool = False,
        auto: bool = False,
        unit: str = "",
    ) -> float | None:
        value = table.get(key, default)
        if auto and value == "auto":
            return None
        if value is None:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (value >= 0 if zero else value > 0)
        if not ok:
            kind = "no negativo" if zero else "positivo"
            self._bad(
                f"{where}.{key}",
                f"un número {kind}{unit}" + (" o 'auto'" if auto else ""),
                value,
            )
            return default
        return float(value)

    def fraction(self, table: dict[str, Any], where: str, key: str, default: float) -> float:
        value = table.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1
        if not ok:
            self._bad(f"{where}.{key}", "una fracción entre 0 y 1 (p. ej. 0.05)", value)
            return default
        return float(value)

    def choice(
        self,
        table: dict[str, Any],
        where: str,
        key: str,
        default: Any,
        choices: tuple[Any, ...] | dict[str, Any],
    ) -> Any:
        value = table.get(key, default)
        if value is None and default is None:
            return None
        if value not in choices:
            names = ", ".join(str(c) for c in choices)
            self._bad(f"{where}.{key}", f"uno de {names}", value)
            return default
        return value

    def text(self, table: dict[str, Any], where: str, key: str, default: str | None) -> str | None:
        value = table.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            self._bad(f"{where}.{key}", "un texto", value)
            return default
        return value

    def period(self, value: Any, where: str) -> str | None:
        """Return a period of whole months (``2020``, ``2020-03``, ``2020-01:2020-10``)."""
        if value is None:
            return None
        from .priority.period import Period

        if not isinstance(value, str):
            self._bad(
                where, "un periodo AAAA, AAAA-MM o INICIO:FIN (p. ej. 2020-01:2020-10)", value
            )
            return None
        try:
            Period.parse(value)
        except ConfigError as exc:
            self.problems.add(f"{where} = {value!r}: {exc.message}")
            return None
        return value.strip()

    def bands(self, table: dict[str, Any], where: str, key: str, default: str) -> str:
        """Return band edges as text (``"0,100,200"``), from text or a list of numbers."""
        from .trends.near_repeat import parse_bands

        value = table.get(key, default)
        text = ",".join(str(v) for v in value) if isinstance(value, list) else value
        if not isinstance(text, str):
            self._bad(f"{where}.{key}", "una lista de límites, p. ej. [0, 100, 200]", value)
            return default
        try:
            parse_bands(text, key)
        except ConfigError as exc:
            self.problems.add(f"{where}.{key}: {exc.message}")
            return default
        return text

    def coverages(
        self, table: dict[str, Any], where: str, key: str, default: tuple[float, ...]
    ) -> tuple[float, ...]:
        """Return coverages given as percentages of the study area (``[1, 5]``) as fractions."""
        value = table.get(key)
        if value is None:
            return default
        items = value if isinstance(value, list) else [value]
        good = items and all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 100 for v in items
        )
        if not good:
            self._bad(f"{where}.{key}", "una lista de porcentajes del área, p. ej. [1, 5]", value)
            return default
        return tuple(sorted({round(float(v) / 100.0, 6) for v in items}))


def _parse_more(data: dict[str, Any], check: _Checker, **tables: dict[str, Any]) -> dict[str, Any]:
    """Return the :class:`RunConfig` fields of the selection, the stages and their options."""
    from .schema import FENOMENOS

    density, hotspots, priority = tables["density"], tables["hotspots"], tables["priority"]
    maps, patrol, evaluation = tables["maps"], tables["patrol"], tables["evaluation"]
    trends, near, qgis = tables["trends"], tables["near_repeat"], tables["qgis"]
    out: dict[str, Any] = {}
    out["period"] = check.period(data.get("period"), "period")
    fenomenos = data.get("fenomenos", [])
    if isinstance(fenomenos, str):
        fenomenos = [fenomenos]
    if not isinstance(fenomenos, list) or any(f not in FENOMENOS for f in fenomenos):
        check._bad("fenomenos", f"una lista de {', '.join(FENOMENOS)}", fenomenos)
        fenomenos = []
    out["fenomenos"] = list(fenomenos)
    out["include_at_station"] = check.boolean(data, "", "include_at_station", False)
    for name, table in (
        ("density", density),
        ("hotspots", hotspots),
        ("priority", priority),
        ("maps", maps),
        ("patrol", patrol),
        ("qgis", qgis),
    ):
        out[f"{name}_enabled"] = check.boolean(table, name, "enabled", True)
    out["bandwidth_adjust"] = check.number(density, "density", "bandwidth_adjust", 1.0)
    options: dict[str, dict[str, Any]] = {}
    for method, spec in HOTSPOT_OPTIONS.items():
        table = hotspots.get(method, {})
        where = f"hotspots.{method}"
        if not isinstance(table, dict):
            check._bad(f"[{where}]", "una tabla", table)
            continue
        chosen: dict[str, Any] = {}
        for key in table:
            if key not in spec:
                check.problems.add(
                    f"clave desconocida {key!r} en [{where}] (conocidas: {', '.join(sorted(spec))})"
                )
        for key, kind in spec.items():
            if key not in table:
                continue
            value: Any
            if kind == "positivo":
                value = check.number(table, where, key, None)
            elif kind == "no_negativo":
                value = check.number(table, where, key, None, zero=True)
            elif kind == "entero":
                value = check.integer(table, where, key, None)
            elif kind == "fraccion":
                value = check.fraction(table, where, key, 0.05)
            elif kind == "booleano":
                value = check.boolean(table, where, key, True)
            elif kind == "forma":
                value = check.choice(table, where, key, "square", ("square", "hex"))
            elif kind == "vecindad":
                value = check.choice(table, where, key, "distance", ("distance", "queen"))
            elif kind == "envolvente":
                value = check.choice(table, where, key, "concave", ("concave", "convex"))
            elif kind == "coberturas":
                value = check.coverages(table, where, key, (0.01, 0.05))
            elif kind == "umbral":
                value = table[key]
                if isinstance(value, bool) or not isinstance(value, str | int | float):
                    check._bad(f"{where}.{key}", "un percentil 'p95' o una densidad", value)
                    continue
            else:
                value = check.text(table, where, key, None)
            chosen[key] = value
        if chosen:
            options[method] = chosen
    out["hotspot_options"] = options
    # priority
    out["priority_k"] = check.integer(priority, "priority", "k", 3, minimum=2)
    out["priority_indicator"] = check.choice(
        priority, "priority", "indicator", "tasa_eb", PRIORITY_INDICATORS
    )
    thresholds = priority.get("thresholds")
    if thresholds is not None:
        good = (
            isinstance(thresholds, list)
            and len(thresholds) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in thresholds)
        )
        if not good:
            check._bad("priority.thresholds", "dos números [ALTA, PRIORIDAD]", thresholds)
            thresholds = None
        else:
            thresholds = (float(thresholds[0]), float(thresholds[1]))
    out["priority_thresholds"] = thresholds
    out["priority_min_count"] = check.integer(priority, "priority", "min_count", None, minimum=0)
    out["priority_min_count_prioridad"] = check.integer(
        priority, "priority", "min_count_prioridad", None, minimum=0
    )
    levels = priority.get("levels", list(PRIORITY_LEVELS))
    if isinstance(levels, str):
        levels = [levels]
    if not isinstance(levels, list) or not levels or any(v not in PRIORITY_LEVELS for v in levels):
        check._bad("priority.levels", f"una lista de {', '.join(PRIORITY_LEVELS)}", levels)
        levels = list(PRIORITY_LEVELS)
    out["priority_levels"] = list(levels)
    out["priority_previous_period"] = check.period(
        priority.get("previous_period"), "priority.previous_period"
    )
    top = priority.get("top_modalidad", "homicidio")
    if top is not False and (not isinstance(top, str) or not top.strip()):
        check._bad("priority.top_modalidad", "un delito o modalidad, o false", top)
        top = "homicidio"
    out["priority_top_modalidad"] = None if top is False else top
    out["priority_top_n"] = check.integer(priority, "priority", "top_n", 7)
    out["priority_maps"] = check.boolean(priority, "priority", "maps", True)
    # maps
    tiles = maps.get("tiles")
    out["tiles_name"] = None
    if isinstance(tiles, str):
        out["tiles_name"] = check.choice(maps, "maps", "tiles", None, TILES)
    out["grid_m"] = check.number(maps, "maps", "grid_m", None, unit=" de metros")
    # patrol
    out["patrol_shifts"] = check.integer(patrol, "patrol", "shifts", None)
    out["patrol_first_shift_start"] = check.integer(
        patrol, "patrol", "first_shift_start", 6, minimum=0, maximum=23
    )
    out["patrol_available_hours"] = check.number(patrol, "patrol", "available_hours", None)
    out["patrol_revisit_minutes"] = check.integer(
        patrol, "patrol", "revisit_minutes", 120, minimum=0
    )
    out["patrol_block_hours"] = check.choice(patrol, "patrol", "block_hours", 2, BLOCK_HOURS)
    out["patrol_method"] = check.choice(patrol, "patrol", "method", "dbscan", PATROL_METHODS)
    out["patrol_min_count"] = check.integer(patrol, "patrol", "min_count", 5)
    out["patrol_eps"] = check.number(patrol, "patrol", "eps", 60.0, unit=" de metros")
    out["patrol_cell_size"] = check.number(patrol, "patrol", "cell_size", 100.0, unit=" de metros")
    out["patrol_risk"] = check.choice(patrol, "patrol", "risk", "n", PATROL_RISK)
    out["patrol_density"] = check.boolean(patrol, "patrol", "density", True)
    out["patrol_basemap"] = check.boolean(patrol, "patrol", "basemap", False)
    out["patrol_comisaria"] = check.text(patrol, "patrol", "comisaria", None)
    # evaluation, trends, near repeats
    out["evaluation"] = EvaluationConfig(
        enabled=check.boolean(evaluation, "evaluation", "enabled", True),
        coverages=check.coverages(evaluation, "evaluation", "coverages", (0.01, 0.05)),
        folds=check.integer(evaluation, "evaluation", "folds", 3) or 3,
        cell_size=check.number(
            evaluation, "evaluation", "cell_size", None, auto=True, unit=" de metros"
        ),
    )
    period = trends.get("period")
    if period is not None and period != "auto":
        from .trends.periods import parse_period

        try:
            parse_period(str(period))
        except ConfigError as exc:
            check.problems.add(f"trends.period = {period!r}: {exc.message}")
            period = None
    out["trends"] = TrendsConfig(
        enabled=check.boolean(trends, "trends", "enabled", True),
        period=None if period in (None, "auto") else str(period),
        cell_size=check.number(trends, "trends", "cell_size", None, auto=True, unit=" de metros"),
        k=check.integer(trends, "trends", "k", 1, minimum=0) or 0,
        alpha=check.fraction(trends, "trends", "alpha", 0.05),
        trend_alpha=check.fraction(trends, "trends", "trend_alpha", 0.05),
        scheme=check.choice(trends, "trends", "scheme", "arcgis", TREND_SCHEMES),
        min_periods=check.integer(trends, "trends", "min_periods", 5, minimum=3) or 5,
    )
    out["near_repeat"] = NearRepeatConfig(
        enabled=check.boolean(near, "near_repeat", "enabled", True),
        space_bands=check.bands(near, "near_repeat", "space_bands", "0,100,200,300,400,500"),
        time_bands=check.bands(near, "near_repeat", "time_bands", "0,7,14,21,28"),
        permutations=check.integer(near, "near_repeat", "permutations", 99, minimum=0) or 0,
        alpha=check.fraction(near, "near_repeat", "alpha", 0.05),
        min_months=check.integer(near, "near_repeat", "min_months", 2) or 2,
    )
    return out
