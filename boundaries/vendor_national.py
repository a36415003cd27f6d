"""Vendor the national reference data of Peru into ``boundaries/`` (run once, by hand).

Usage::

    .venv/bin/python boundaries/vendor_national.py /work/shared/data/peru/nacional

What it writes (see ``SOURCES.md`` §0 and ``LICENSES.md``):

``peru_limites.gpkg.gz``
    One GeoPackage, gzip-compressed (GDAL reads it through ``/vsigzip/``), holding the layers
    ``distritos`` (1,874), ``provincias`` (196) and ``departamentos`` (25, full resolution),
    copied feature by feature and attribute by attribute from the three national GeoJSON files,
    in code order. No spatial index (the package builds its own in memory).
``peru_centros_poblados.csv.gz``
    The 94,922 populated places, byte for byte, gzip-compressed.
``peru_poblacion_distrital.csv``, ``peru_comisarias_cenacom2017.csv``,
``peru_faltas_renadef2017_por_comisaria.csv``, ``peru_capitales_distritales.csv``
    Copied unchanged.

The output is reproducible: the GeoPackage is dated 2025-01-01 (``OGR_CURRENT_DATE``) and the
gzip headers carry no name and no time.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
from pathlib import Path

LAYERS = {
    "distritos": ("peru_distritos.geojson", "ubigeo"),
    "provincias": ("peru_provincias.geojson", "ubigeo_prov"),
    "departamentos": ("peru_departamentos.geojson", "ubigeo_dep"),
}
COPIED = (
    "peru_poblacion_distrital.csv",
    "peru_comisarias_cenacom2017.csv",
    "peru_faltas_renadef2017_por_comisaria.csv",
    "peru_capitales_distritales.csv",
)


def _gzip(source: Path, target: Path) -> None:
    # no file name and mtime 0 in the header: the same input gives the same bytes
    with (
        source.open("rb") as raw,
        target.open("wb") as out,
        gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=out, mtime=0) as gz,
    ):
        shutil.copyfileobj(raw, gz)


def main(source: Path, target: Path) -> None:
    """Write the vendored files of ``source`` (the shared national folder) into ``target``."""
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2025-01-01T00:00:00Z"})
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / "peru_limites.gpkg"
        for layer, (name, key) in LAYERS.items():
            frame = pyogrio.read_dataframe(source / name)
            frame = frame.sort_values(key, kind="stable").reset_index(drop=True)
            pyogrio.write_dataframe(
                frame, gpkg, layer=layer, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"}
            )
        _gzip(gpkg, target / "peru_limites.gpkg.gz")
    _gzip(source / "peru_centros_poblados.csv", target / "peru_centros_poblados.csv.gz")
    for name in COPIED:
        shutil.copyfile(source / name, target / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parent)
