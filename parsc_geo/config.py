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
#: Keys of [inputs] passed to the ingestion as they are (see parsc_geo.ingest.IngestOptions).
INGEST_KEYS = ("input_crs", "timezone", "year", "undated", "header_row")


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
            elif isinstance(value, list):
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
        "inputs",
        "density",
        "hotspots",
        "priority",
        "maps",
        "patrol",
        "parallel",
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
    density = section("density", {"kernel", "cell_size", "bandwidth"})
    hotspots = section("hotspots", {"methods", "rank_by"})
    priority = section("priority", {"rule", "bootstrap"})
    maps = section("maps", {"public", "privacy_k", "offline", "tiles"})
    patrol = section("patrol", {"units", "shift_hours", "visit_minutes", "share"})
    parallel = section("parallel", {"workers", "scheduler"})

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
    for name, value in (
        ("cell_size", density.get("cell_size")),
        ("bandwidth", density.get("bandwidth")),
    ):
        value = _auto(value)
        if value is not None and (not isinstance(value, int | float) or value <= 0):
            problems.add(
                f"density.{name} debe ser un número positivo de metros o 'auto'; "
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
