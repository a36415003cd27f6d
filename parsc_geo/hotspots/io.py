"""Write and read hotspot tables as GeoPackage (layer ``hotspots``) with their parameters."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import atomic_path
from .._errors import InputDataError, OutputError

if TYPE_CHECKING:
    import geopandas as gpd

#: Layer name of hotspot tables in a GeoPackage.
LAYER = "hotspots"
#: Layer-metadata keys holding the JSON parameters, the decline reason and the synthetic flag.
METADATA_PARAMETERS = "PARSC_GEO_PARAMETERS"
METADATA_REASON = "PARSC_GEO_REASON"
METADATA_SYNTHETIC = "PARSC_GEO_SYNTHETIC"


def write_hotspots(
    hotspots: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    synthetic: bool = False,
) -> Path:
    """Write a hotspot table to a GeoPackage (layer ``hotspots``), atomically.

    Parameters
    ----------
    hotspots
        Output of a ``hotspot_*`` function; its ``attrs["parameters"]`` (and
        ``attrs["reason"]``) are stored as layer metadata (JSON).
    path
        Target ``.gpkg`` file.
    overwrite
        Replace an existing file.
    synthetic
        The incidents are synthetic: recorded as ``PARSC_GEO_SYNTHETIC`` metadata with
        :data:`parsc_geo.settings.SYNTHETIC_BANNER`.

    Raises
    ------
    OutputError
        The file exists without ``overwrite``, its folder is missing, or writing fails.
    """
    import pyogrio

    from ..settings import SYNTHETIC_BANNER

    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(f"{target} ya existe", hint="elija otro nombre o use --overwrite")
    if not target.parent.exists():
        raise OutputError(f"la carpeta {target.parent} no existe", hint="créela primero")
    metadata = {
        METADATA_PARAMETERS: json.dumps(
            hotspots.attrs.get("parameters", {}), ensure_ascii=False, default=str
        ),
        METADATA_SYNTHETIC: SYNTHETIC_BANNER if synthetic else "",
    }
    if hotspots.attrs.get("reason"):
        metadata[METADATA_REASON] = str(hotspots.attrs["reason"])
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.unlink()  # the GeoPackage driver creates the file itself
        try:
            pyogrio.write_dataframe(
                hotspots,
                tmp,
                layer=LAYER,
                driver="GPKG",
                layer_metadata=metadata,
                geometry_type="Unknown" if len(hotspots) == 0 else None,
            )
        except Exception as exc:
            raise OutputError(f"no se puede escribir {target}: {exc}") from exc
    return target


def read_hotspots(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read a hotspot GeoPackage written by :func:`write_hotspots`, restoring its ``attrs``.

    ``attrs["synthetic"]`` tells whether the incidents were synthetic.
    """
    import pyogrio

    source = Path(path)
    if not source.exists():
        raise InputDataError(
            f"{source}: el archivo no existe", hint="ejecute primero 'parsc-geo hotspots'"
        )
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(source)]
    except Exception as exc:
        raise InputDataError(f"{source}: no se puede leer: {exc}") from exc
    if LAYER not in layers:
        raise InputDataError(
            f"{source} no tiene la capa {LAYER!r} (capas: {', '.join(layers)})",
            hint="indique el GeoPackage escrito por 'parsc-geo hotspots'",
        )
    gdf = pyogrio.read_dataframe(source, layer=LAYER)
    info: dict[str, Any] = pyogrio.read_info(source, layer=LAYER)
    metadata = info.get("layer_metadata") or {}
    try:
        parameters = json.loads(metadata.get(METADATA_PARAMETERS, "{}"))
    except json.JSONDecodeError:
        parameters = {}
    for column in ("provincia", "distrito", "comisaria", "sector", "subsector"):
        if column in gdf.columns:
            gdf[column] = gdf[column].astype(object).where(gdf[column].notna(), None)
    gdf.attrs["parameters"] = parameters
    if metadata.get(METADATA_REASON):
        gdf.attrs["reason"] = metadata[METADATA_REASON]
    gdf.attrs["synthetic"] = bool(metadata.get(METADATA_SYNTHETIC))
    return gdf
