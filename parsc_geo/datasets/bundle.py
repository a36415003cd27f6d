"""Writing the synthetic sample to disk (atomically, byte-identical for a seed) and finding it.

Layout of an output folder (the bundled sample lives in the repository's data root)::

    incidents/sintetico_cajamarca_<años>_incidentes.csv   clean incidents (UTF-8, comma)
    incidents/sintetico_cajamarca_<años>_campo.csv        messy export (Latin-1, semicolon)
    incidents/sintetico_cajamarca_<años>_mymaps.kml       messy My Maps export (one month)
    incidents/sintetico_manifest.json                      seed, version, counts, planted problems
    incidents/README.md, incidents/SCHEMA.md               what the files are, column by column
    boundaries/sintetico_sectores_comisarias.geojson       synthetic sector layer

A sample of another study area (``area="04"``, ``"peru"`` …) is named after it
(``sintetico_arequipa_<años>_incidentes.csv``, ``sintetico_sectores_comisarias_arequipa.geojson``)
and has no field-style export: its planted problems (points in Lima, Chachapoyas and Chiclayo
"outside the region", a My Maps month of Comisaría Cajamarca I) are Cajamarca's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._atomic import write_bytes_atomic
from .._errors import InputDataError, OutputError
from ..settings import SEED, SYNTHETIC_BANNER

if TYPE_CHECKING:
    import geopandas as gpd

    from .generator import SyntheticSample
    from .messy import MessyExport

MANIFEST_NAME: Final[str] = "sintetico_manifest.json"
SECTORS_NAME: Final[str] = "sintetico_sectores_comisarias.geojson"
#: Keys of :func:`sample_paths` and of the ``files`` section of the manifest.
SAMPLE_KEYS: Final[tuple[str, ...]] = ("incidents", "sectors", "messy_csv", "messy_kml", "manifest")


def file_names(period_tag: str, area_slug: str | None = None) -> dict[str, str]:
    """Return the relative path of each sample file for a period tag such as ``"2020"``.

    ``area_slug`` None is the bundled Cajamarca sample (with its field-style export); another
    area's slug (:attr:`parsc_geo.area.StudyArea.slug`) names its files, without that export.
    """
    base = f"sintetico_{area_slug or 'cajamarca'}_{period_tag}"
    names = {
        "incidents": f"incidents/{base}_incidentes.csv",
        "messy_csv": f"incidents/{base}_campo.csv",
        "messy_kml": f"incidents/{base}_mymaps.kml",
        "sectors": f"boundaries/{SECTORS_NAME}",
        "manifest": f"incidents/{MANIFEST_NAME}",
        "readme": "incidents/README.md",
        "schema": "incidents/SCHEMA.md",
    }
    if area_slug is not None:
        del names["messy_csv"], names["messy_kml"]
        names["sectors"] = f"boundaries/{SECTORS_NAME.removesuffix('.geojson')}_{area_slug}.geojson"
    return names


def period_tag(period_start: str, period_end: str) -> str:
    """Return ``"2020"`` for a period within one year, ``"2020_2021"`` otherwise."""
    y0, y1 = period_start[:4], period_end[:4]
    return y0 if y0 == y1 else f"{y0}_{y1}"


def sample_paths() -> dict[str, Path]:
    """Return the paths of the bundled synthetic sample.

    Returns
    -------
    dict
        ``incidents`` (clean CSV), ``sectors`` (GeoJSON), ``messy_csv``, ``messy_kml`` and
        ``manifest`` (JSON with ``synthetic: true``, generator version and seed).

    Raises
    ------
    InputDataError
        When the bundled sample is missing (regenerate it with ``parsc-geo sample``).
    """
    from .._data import data_root

    root = data_root()
    manifest_path = root / "incidents" / MANIFEST_NAME
    if not manifest_path.is_file():
        raise InputDataError(
            f"falta la muestra sintética incluida (no se encontró {manifest_path})",
            hint=f"regenérela con: parsc-geo sample --seed {SEED} --output {root} --overwrite",
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    paths = {key: root / manifest["files"][key]["path"] for key in SAMPLE_KEYS if key != "manifest"}
    paths["manifest"] = manifest_path
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise InputDataError(
            "la muestra sintética incluida está incompleta; falta: " + ", ".join(missing),
            hint=f"regenérela con: parsc-geo sample --seed {SEED} --output {root} --overwrite",
        )
    return paths


def _atomic_write(path: Path, data: bytes) -> None:
    write_bytes_atomic(path, data, overwrite=True)


def sectors_geojson(sectors: gpd.GeoDataFrame, parameters: dict[str, Any]) -> str:
    """Return the sector layer as deterministic GeoJSON text (RFC 7946, EPSG:4326)."""
    from shapely.geometry import mapping

    features = []
    for row in sectors.itertuples(index=False):
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "comisaria": row.comisaria,
                    "comisaria_id": row.comisaria_id,
                    "sector": row.sector,
                    "subsector": row.subsector,
                    "sintetico": True,
                },
                "geometry": mapping(row.geometry),
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "sintetico_sectores_comisarias",
        "description": f"{SYNTHETIC_BANNER}. Sectores y subsectores SINTÉTICOS de comisarías "
        "reales (ubicaciones CENACOM 2017); generador parsc_geo.datasets "
        f"{parameters['generator_version']}, semilla {parameters['seed']}.",
        "synthetic": True,
        "generator_version": parameters["generator_version"],
        "seed": parameters["seed"],
        "features": features,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def clean_csv(sample: SyntheticSample) -> str:
    """Return the clean incident CSV text (UTF-8, comma, Unix line ends)."""
    from .generator import CLEAN_COLUMNS

    return sample.incidents[list(CLEAN_COLUMNS)].to_csv(index=False, lineterminator="\n")


def build_manifest(
    sample: SyntheticSample,
    messy: MessyExport | None,
    names: dict[str, str],
    blobs: dict[str, bytes],
) -> dict[str, Any]:
    """Return the manifest: parameters, files with SHA-256, counts and planted problems.

    ``messy`` None (a study area other than Cajamarca): no field-style files, ``messy`` None.
    """
    from ..schema import modalidad_label

    inc = sample.incidents
    counts = (
        inc.groupby(["delito_generico", "delito_especifico", "modalidad"], sort=False)
        .size()
        .reset_index(name="n")
    )
    keys = ("incidents", "messy_csv", "messy_kml", "sectors") if messy else ("incidents", "sectors")
    files = {
        key: {
            "path": names[key],
            "sha256": hashlib.sha256(blobs[key]).hexdigest(),
            "bytes": len(blobs[key]),
        }
        for key in keys
    }
    files["incidents"]["rows"] = len(inc)
    if messy is not None:
        files["messy_csv"]["rows"] = messy.csv_rows
        files["messy_csv"]["encoding"] = "latin-1"
        files["messy_csv"]["delimiter"] = ";"
        files["messy_kml"]["placemarks"] = len(messy.kml_ids)
    files["sectors"]["features"] = len(sample.sectors)
    files["manifest"] = {"path": names["manifest"]}
    manifest: dict[str, Any] = {
        "synthetic": True,
        "banner": SYNTHETIC_BANNER,
        **{k: v for k, v in sample.parameters.items() if k != "synthetic"},
        "files": files,
        "counts": [
            {
                "delito_generico": r.delito_generico,
                "delito_especifico": r.delito_especifico,
                "modalidad": r.modalidad,
                "etiqueta": modalidad_label(str(r.delito_especifico), str(r.modalidad)),
                "n": int(str(r.n)),
            }
            for r in counts.itertuples(index=False)
        ],
    }
    if messy is None:
        manifest["messy"] = None
        manifest["station_stack_ids"] = inc.loc[inc["at_station"], "id"].tolist()
        return manifest
    quarantined = [p for p in messy.planted if p["outcome"] == "quarantined"]
    manifest["messy"] = {
        "csv_data_rows": messy.csv_rows,
        "csv_accepted_expected": messy.csv_rows - len(quarantined),
        "kml_ids": messy.kml_ids,
        "quarantine_expected": len(quarantined),
        "planted": messy.planted,
        "station_stack_ids": inc.loc[inc["at_station"], "id"].tolist(),
    }
    return manifest


def write_sample(
    output: str | Path,
    sample: SyntheticSample | None = None,
    *,
    seed: int = SEED,
    start: str = "2020-01",
    months: int = 10,
    scale: float = 1.0,
    overwrite: bool = False,
    area: Any = None,
    sector_comisarias: int | None = None,
) -> dict[str, Path]:
    """Generate (unless given) and write the synthetic sample under ``output``.

    Parameters
    ----------
    output
        Folder receiving ``incidents/`` and ``boundaries/`` files.
    sample
        An already generated sample; generated from ``seed``, ``start``, ``months``,
        ``scale``, ``area`` and ``sector_comisarias`` when None.
    seed, start, months, scale, area, sector_comisarias
        See :func:`parsc_geo.datasets.generate_sample`.
    overwrite
        Replace existing files.

    Returns
    -------
    dict
        Paths by key (:data:`SAMPLE_KEYS` plus ``readme`` and ``schema``).

    Raises
    ------
    OutputError
        When a file exists and ``overwrite`` is False.
    """
    from ..area import resolve_area
    from .docs import readme_text, schema_text
    from .generator import generate_sample, is_bundled_area, parse_period
    from .messy import build_messy

    out = Path(output)
    if sample is None:
        period = parse_period(start, months)
        first, last = period.start, period.end
        territory = resolve_area(area, quiet=True)
        bundled = is_bundled_area(territory, sector_comisarias)
    else:
        first, last = sample.parameters["period_start"], sample.parameters["period_end"]
        recorded = sample.parameters.get("study_area")
        territory = resolve_area(recorded, quiet=True)
        bundled = recorded is None
    names = file_names(period_tag(first, last), None if bundled else territory.slug)
    existing = [str(out / rel) for rel in names.values() if (out / rel).exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{len(existing)} archivo(s) de muestra ya existe(n), el primero: {existing[0]}",
            hint="use --overwrite (overwrite=True) para reemplazarlos, o elija otro --output",
        )
    if sample is None:
        sample = generate_sample(
            seed,
            start=start,
            months=months,
            scale=scale,
            area=territory,
            sector_comisarias=sector_comisarias,
        )
    messy = build_messy(sample.incidents, int(sample.parameters["seed"])) if bundled else None
    blobs: dict[str, bytes] = {
        "incidents": clean_csv(sample).encode("utf-8"),
        "sectors": sectors_geojson(sample.sectors, sample.parameters).encode("utf-8"),
    }
    if messy is not None:
        blobs["messy_csv"] = messy.csv_text.encode("latin-1")
        blobs["messy_kml"] = messy.kml_text.encode("utf-8")
    manifest = build_manifest(sample, messy, names, blobs)
    blobs["manifest"] = (
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=False) + "\n"
    ).encode("utf-8")
    blobs["readme"] = readme_text(manifest).encode("utf-8")
    blobs["schema"] = schema_text(None if bundled else territory.slug).encode("utf-8")
    paths: dict[str, Path] = {}
    for key, rel in names.items():
        path = out / rel
        try:
            _atomic_write(path, blobs[key])
        except OSError as exc:
            raise OutputError(f"no se puede escribir {path}: {exc.strerror}") from exc
        paths[key] = path
    return paths
