"""Ingestion of several files: prepare each, check across rows, quarantine, assign."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError
from .._fast import flags_to_text
from ..schema import INCIDENT_COLUMNS
from .options import IngestOptions
from .prepare import FLAG_BITS, FLAG_CODES, prepare_file
from .report import build_report, quarantine_frame

if TYPE_CHECKING:
    from collections.abc import Iterable

    import geopandas as gpd
    import pandas as pd


@dataclass
class IngestResult:
    """Outcome of :func:`ingest_files`.

    Attributes
    ----------
    accepted
        Accepted incidents (canonical schema, plus assignment columns when assigned).
    quarantine
        Rejected rows, :data:`parsc_geo.schema.QUARANTINE_COLUMNS`.
    report
        Per-file and total counts (see :func:`build_report`).
    sources
        One dict per file (``source``, ``path``, ``sha256``, counts) for
        :meth:`parsc_geo.store.Workspace.import_incidents`.
    """

    accepted: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]
    sources: list[dict[str, Any]]


def ingest_files(
    paths: Iterable[str | Path],
    options: IngestOptions | None = None,
    *,
    assign: bool = True,
    sectors: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
) -> IngestResult:
    """Read, normalise and validate incident files; optionally assign them to territory.

    Parameters
    ----------
    paths
        Incident files (CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML/KMZ).
    options
        :class:`IngestOptions`; defaults recognise columns and use the Cajamarca region.
    assign
        Add district, province, comisaría and sector columns
        (:func:`parsc_geo.assign.assign_incidents`).
    sectors
        Optional comisaría sector layer used by the assignment.
    stations
        Police stations for station stacking and assignment (default: bundled CENACOM 2017).

    Returns
    -------
    IngestResult
        Accepted incidents, quarantine, report and per-file source records. Nothing is written.

    Raises
    ------
    InputDataError
        A file is missing, unreadable, or has no coordinates at all.
    ConfigError
        An option is invalid (unknown column mapping, harm rule …).
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from .checks import duplicate_mask, station_stack, study_area

    opts = options or IngestOptions()
    path_list = [Path(p) for p in paths]
    if not path_list:
        raise ConfigError(
            "no se indicó ningún archivo de entrada",
            hint="indique uno o más archivos de incidentes",
        )
    area = study_area(opts.study_area)
    opts = opts.resolve(area)
    prepared = [prepare_file(p, opts, area) for p in path_list]

    frame = pd.concat([p.frame for p in prepared], ignore_index=True)
    lon = np.concatenate([p.lon for p in prepared])
    lat = np.concatenate([p.lat for p in prepared])
    reason = np.concatenate([p.reason for p in prepared])
    offsets = np.cumsum([0] + [len(p.frame) for p in prepared])

    derived = np.concatenate([p.derived_id for p in prepared]).astype(bool)
    alive = reason == ""
    sub = frame[alive].reset_index(drop=True)
    dup_id, dup_ptt = duplicate_mask(
        sub["incident_id"],
        lon[alive],
        lat[alive],
        sub["occurred_at"],
        sub["time_known"].to_numpy(dtype=bool),
        sub[["delito_especifico", "modalidad"]],
        derived=derived[alive],
    )
    alive_idx = np.flatnonzero(alive)
    for mask, code in ((dup_id, "duplicate_id"), (dup_ptt, "duplicate_place_time_type")):
        idx = alive_idx[mask]
        reason[idx] = code
        for p, start in zip(prepared, offsets[:-1], strict=True):
            local = idx[(idx >= start) & (idx < start + len(p.frame))] - start
            p.reason[local] = code
            p.field[local] = (
                "incident_id" if code == "duplicate_id" else "coordenadas/fecha/modalidad"
            )
            p.value[local] = p.frame["incident_id"].to_numpy()[local]

    accepted_mask = reason == ""
    stacked = station_stack(
        lon[accepted_mask],
        lat[accepted_mask],
        stations=stations,
        radius_m=opts.station_stack_radius_m,
        min_count=opts.station_stack_min_count,
    )
    acc = frame[accepted_mask].reset_index(drop=True)
    at_station = acc["at_station"].to_numpy(dtype=bool) | stacked
    acc["at_station"] = at_station
    bits = (
        acc["flags"].to_numpy(dtype=np.int64)
        | at_station.astype(np.int64) * FLAG_BITS["station_stack"]
    )
    acc["flags"] = flags_to_text(bits, FLAG_CODES)
    accepted = gpd.GeoDataFrame(
        acc[list(INCIDENT_COLUMNS)],
        geometry=gpd.points_from_xy(lon[accepted_mask], lat[accepted_mask]),
        crs="EPSG:4326",
    )
    if assign:
        from ..assign import assign_incidents

        accepted = assign_incidents(accepted, sectors=sectors, stations=stations)
    accepted.attrs["parameters"] = opts.describe()

    q_parts = [quarantine_frame(p, p.reason != "") for p in prepared]
    quarantine = pd.concat(q_parts, ignore_index=True)
    n_acc = [int((p.reason == "").sum()) for p in prepared]
    file_index = np.repeat(np.arange(len(prepared)), n_acc)
    report, sources = build_report(prepared, accepted, file_index, q_parts, opts)
    return IngestResult(accepted, quarantine, report, sources)
