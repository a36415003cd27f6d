"""Ingestion of several files: prepare each (by chunks), check across rows, quarantine, assign.

Large CSV files are read, checked and quarantined by chunks of text
(:data:`parsc_geo.io.csv.CHUNK_CHARS`), large vector layers, workbooks and KML files by chunks of
rows (:class:`parsc_geo.ingest.prepare.IncidentFile`): of each chunk only the rows that pass the
per-row checks are kept, in the canonical schema, and its raw rows are dropped. Checks across rows
(duplicate ids; duplicates by place, time and type; station stacks) run once over the rows kept from
every chunk of every file, exactly as over whole files; a chunk holding duplicates is parsed again
to quarantine them with their raw text. Rows, ids, quarantine and report are those of the whole
files read at once (``chunk_chars=None``). When the rows wait on disk (``spill``), so do the
keys of the duplicate checks, by hash buckets (:mod:`.buckets`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError
from .._fast import flags_to_text
from .._memory import release_memory
from .._messages import announce
from .._records import add_counts
from ..io.csv import CHUNK_CHARS
from ..schema import INCIDENT_COLUMNS
from .buckets import KeyBuckets
from .options import IngestOptions
from .prepare import FLAG_BITS, FLAG_CODES, IncidentFile, PreparedTable
from .report import AcceptedCounts, build_report, quarantine_frame

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from ..partitions import Partition


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
    parts
        None, or (when :func:`ingest_files` was given a ``spill`` folder) the accepted
        incidents as partitions written there, in row order, and ``accepted`` is their
        table without rows (columns, types and ``attrs``).
    """

    accepted: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]
    sources: list[dict[str, Any]]
    parts: list[Partition] | None = None


@dataclass
class _Kept:
    """What is kept of one chunk once its per-row checks are done."""

    file: int
    chunk: int
    #: rows of the chunk, and the reason, field and value of those the per-row checks
    #: quarantined (positions ``bad``), not an empty text for every other row
    n_rows: int
    bad: np.ndarray
    bad_marks: tuple[np.ndarray, np.ndarray, np.ndarray]
    #: positions (in the chunk) of the rows that passed the per-row checks
    alive: np.ndarray
    #: those rows, canonical schema, one array per column (not a frame: a frame holds its text
    #: columns in one block, which is freed only with its last column; see :func:`_assemble`)
    columns: dict[str, Any]
    #: their coordinates and whether their id is derived
    lon: np.ndarray
    lat: np.ndarray
    derived: np.ndarray
    #: the chunk's quarantine so far (per-row reasons)
    quarantine: pd.DataFrame
    #: positions (in ``alive``) of the rows accepted after the checks across rows (None: all)
    accepted: np.ndarray | None = None
    #: the names of ``columns`` in their order, and the file holding them when the rows wait
    #: on disk (see :func:`_spill`)
    names: tuple[str, ...] = ()
    spilled: Path | None = None

    def marks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the reason, field and value of every row of the chunk (empty texts: none)."""
        import numpy as np

        full = []
        for values in self.bad_marks:
            column = np.full(self.n_rows, "", dtype=object)
            column[self.bad] = values
            full.append(column)
        return full[0], full[1], full[2]


def _keep(file: int, chunk: int, table: PreparedTable) -> _Kept:
    import numpy as np

    assert table.raw is not None
    bad = table.reason != ""
    alive = np.flatnonzero(~bad)
    positions = np.flatnonzero(bad)
    quarantine = quarantine_frame(table.raw, table.reason, table.field, table.value, bad)
    frame = table.frame
    columns = {
        name: frame[name].array.take(alive) if bad.any() else frame[name].array
        for name in frame.columns
    }
    return _Kept(
        file,
        chunk,
        len(bad),
        positions,
        (table.reason[positions], table.field[positions], table.value[positions]),
        alive,
        columns,
        table.lon[alive],
        table.lat[alive],
        np.asarray(table.derived_id, dtype=bool)[alive],
        quarantine,
        names=tuple(frame.columns),
    )


#: Accepted rows of a file assigned and written at once when the rows wait on disk.
SPILL_ROWS = 200_000


def _spill(kept: _Kept, path: Path, keys: KeyBuckets) -> None:
    """Write a chunk's kept rows to ``path``, their keys to ``keys``; drop them here."""
    import pandas as pd

    columns = kept.columns
    keys.add(
        pd.Series(columns["incident_id"], copy=False),
        pd.Series(columns["occurred_at"], copy=False),
        pd.Series(columns["time_known"], copy=False).to_numpy(dtype=bool),
        pd.Series(columns["delito_especifico"], copy=False),
        pd.Series(columns["modalidad"], copy=False),
        kept.lon,
        kept.lat,
        kept.derived,
    )
    rows = {n: columns.pop(n) for n in kept.names}
    frame = pd.DataFrame({n: pd.Series(v, copy=False) for n, v in rows.items()}, copy=False)
    frame.to_parquet(path, index=False)
    kept.spilled = path


def _kept_ids(kept: _Kept) -> np.ndarray:
    """Return the ``incident_id`` of a chunk's kept rows (read back when they wait on disk)."""
    import numpy as np
    import pandas as pd

    if kept.spilled is None:
        return np.asarray(kept.columns["incident_id"], dtype=object)
    ids = pd.read_parquet(kept.spilled, columns=["incident_id"])["incident_id"]
    return np.asarray(ids, dtype=object)


def _kept_frame(kept: _Kept) -> pd.DataFrame:
    """Return a chunk's accepted rows, every column in order (read back when spilled)."""
    import pandas as pd

    columns = dict(kept.columns)
    if kept.spilled is not None:
        columns.update((str(n), v) for n, v in pd.read_parquet(kept.spilled).items())
        kept.spilled.unlink()
        kept.spilled = None
    data = {}
    for name in kept.names:
        values = pd.Series(columns.pop(name), copy=False)
        data[name] = values if kept.accepted is None else values.take(kept.accepted)
    kept.columns.clear()
    return pd.DataFrame(data, copy=False).reset_index(drop=True)


def _joined(kept: list[_Kept], name: str) -> pd.Series:
    """Return column ``name`` of every chunk's kept rows, one after the other."""
    import pandas as pd

    return pd.concat([pd.Series(c.columns[name], copy=False) for c in kept], ignore_index=True)


def _assemble(kept: list[_Kept]) -> pd.DataFrame:
    """Return the accepted rows of every chunk as one frame, column by column.

    Each column of the chunks is dropped as soon as it is joined, so that the rows are held
    about once, not twice (the chunks and the result), when a file has millions of them.
    """
    import pandas as pd

    data: dict[str, pd.Series] = {}
    for name in list(kept[0].columns):
        parts = []
        for c in kept:
            values = c.columns.pop(name)
            parts.append(values if c.accepted is None else values.take(c.accepted))
        data[name] = pd.concat([pd.Series(p, copy=False) for p in parts], ignore_index=True)
        del parts
    return pd.DataFrame(data, copy=False)


def ingest_files(
    paths: Iterable[str | Path],
    options: IngestOptions | None = None,
    *,
    assign: bool = True,
    sectors: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    chunk_chars: int | None = CHUNK_CHARS,
    spill: Path | None = None,
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
        Police stations for station stacking and assignment (default: the CENACOM 2017 units
        of the study area's departments, :meth:`parsc_geo.area.StudyArea.stations`).
    chunk_chars
        Characters of CSV text read and checked at once (None: each file at once, whatever
        its format; else large files of other formats are read by chunks of rows too, see
        :class:`IncidentFile`). The result does not depend on it; memory does.
    spill
        A folder where the accepted rows wait and end (None: they are held here), in a
        folder of their own made there (removed if the ingestion fails). Each chunk's rows
        that pass the per-row checks are written there, and the keys the checks across rows
        read, by hash buckets (:class:`~parsc_geo.ingest.buckets.KeyBuckets`); afterwards
        the rows are read back a few chunks at a time, assigned and written as partitions
        (:attr:`IngestResult.parts`): this process never holds every incident (a
        distributed run's ingestion, issue 17). The rows, their values, types and index are
        those held otherwise, cut into partitions.

    Returns
    -------
    IngestResult
        Accepted incidents, quarantine, report and per-file source records. Nothing is written
        but, with ``spill``, the partitions of the accepted incidents.

    Raises
    ------
    InputDataError
        A file is missing, unreadable, or has no coordinates at all.
    ConfigError
        An option is invalid (unknown column mapping, harm rule …).
    """
    if spill is None:
        return _ingest(paths, options, assign, sectors, stations, chunk_chars, None)
    import shutil
    import tempfile

    spill.mkdir(parents=True, exist_ok=True)
    # a folder of this call's own: nothing of the named folder is overwritten or removed
    work = Path(tempfile.mkdtemp(prefix="ingesta-", dir=spill))
    try:
        return _ingest(paths, options, assign, sectors, stations, chunk_chars, work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # the rows it wrote, when it fails
        raise


def _ingest(
    paths: Iterable[str | Path],
    options: IngestOptions | None,
    assign: bool,
    sectors: gpd.GeoDataFrame | None,
    stations: gpd.GeoDataFrame | None,
    chunk_chars: int | None,
    spill: Path | None,
) -> IngestResult:
    """Do :func:`ingest_files`'s work (``spill``: a folder of its own, or None)."""
    import numpy as np
    import pandas as pd

    from ..area import resolve_area
    from .checks import duplicate_mask, station_stack

    opts = options or IngestOptions()
    path_list = [Path(p) for p in paths]
    if not path_list:
        raise ConfigError(
            "no se indicó ningún archivo de entrada",
            hint="indique uno o más archivos de incidentes",
        )
    territory = resolve_area(opts.study_area)
    area = territory.polygon()
    opts = opts.resolve(area, default_utm_zone=territory.utm_zone)
    announce(
        logger,
        f"Área de estudio: {territory.describe()}; distancias en UTM {territory.utm_zone} "
        f"({territory.metric_crs})",
        quiet=not opts.progress,
    )
    # large workbooks and KML files are streamed when the rows wait on disk: the memory of a
    # chunk for twice the CPU of reading them at once
    files = [
        IncidentFile(p, opts, area, chunk_chars=chunk_chars, stream=spill is not None)
        for p in path_list
    ]
    kept: list[_Kept] = []
    keys = None if spill is None else KeyBuckets(spill)
    try:
        for i, file in enumerate(files):
            for k, table in enumerate(file):
                kept.append(_keep(i, k, table))
                del table  # the raw rows of the chunk go with it
                if spill is not None and keys is not None:
                    _spill(kept[-1], spill / f"filas-{len(kept):05d}.parquet", keys)
    except BaseException:
        if keys is not None:
            keys.close()  # its files go with the folder ingest_files made
        raise

    # checks across rows, over the rows that passed the per-row checks in every chunk
    lon = np.concatenate([c.lon for c in kept])
    lat = np.concatenate([c.lat for c in kept])
    if keys is not None:
        dup_id, dup_ptt = keys.duplicates()
    else:
        dup_id, dup_ptt = duplicate_mask(
            _joined(kept, "incident_id"),
            lon,
            lat,
            _joined(kept, "occurred_at"),
            _joined(kept, "time_known").to_numpy(dtype=bool),
            pd.DataFrame({col: _joined(kept, col) for col in ("delito_especifico", "modalidad")}),
            derived=np.concatenate([c.derived for c in kept]),
        )
    offsets = np.cumsum([0] + [len(c.alive) for c in kept])
    for c, start, stop in zip(kept, offsets[:-1], offsets[1:], strict=True):
        d_id, d_ptt = dup_id[start:stop], dup_ptt[start:stop]
        duplicate = d_id | d_ptt
        if duplicate.any():
            rows = c.alive[duplicate]
            reason, fld, value = c.marks()
            reason[c.alive[d_id]] = "duplicate_id"
            reason[c.alive[d_ptt]] = "duplicate_place_time_type"
            fld[c.alive[d_id]] = "incident_id"
            fld[c.alive[d_ptt]] = "coordenadas/fecha/modalidad"
            value[rows] = _kept_ids(c)[duplicate]
            raw = files[c.file].raw(c.chunk)
            c.quarantine = quarantine_frame(raw, reason, fld, value, reason != "")
            del raw
            c.accepted = np.flatnonzero(~duplicate)
    for file in files:
        file.release()  # the text decoded again to quarantine duplicates
    accepted_mask = ~(dup_id | dup_ptt)
    lon, lat = lon[accepted_mask], lat[accepted_mask]
    stacked = station_stack(
        lon,
        lat,
        stations=stations,
        radius_m=opts.station_stack_radius_m,
        min_count=opts.station_stack_min_count,
        metric_crs=territory.metric_crs,
        prefixes=territory.department_codes(),
    )
    located = _Located(lon, lat, stacked)

    def assigned(frame: gpd.GeoDataFrame, warn: bool = True) -> gpd.GeoDataFrame:
        if not assign:
            return frame
        from ..assign import assign_incidents

        return assign_incidents(
            frame,
            sectors=sectors,
            stations=stations,
            area=territory,
            station_max_distance_m=opts.station_max_distance_m,
            warn=warn,
        )

    attrs = {"parameters": opts.describe(), "study_area": territory.to_dict()}
    parts: list[Partition] | None = None
    if spill is None:
        accepted = located.frame(_assemble(kept), 0)
        # the chunks' tables are freed: their memory goes back before the assignment adds
        # columns
        release_memory()
        accepted = assigned(accepted)
        accepted.attrs.update(attrs)
        per_file = [_n_accepted(kept, i) for i in range(len(files))]
        file_index = np.repeat(np.arange(len(files)), per_file)
        counts = [AcceptedCounts.of(accepted[file_index == i]) for i in range(len(files))]
    else:
        accepted, parts, counts = _by_partitions(kept, len(files), located, assigned, attrs, spill)

    q_parts = [
        _file_quarantine([c.quarantine for c in kept if c.file == i]) for i in range(len(files))
    ]
    quarantine = pd.concat(q_parts, ignore_index=True)
    report, sources = build_report(files, counts, q_parts, opts)
    return IngestResult(accepted, quarantine, report, sources, parts)


def _n_accepted(kept: list[_Kept], file: int) -> int:
    """Return the rows of file ``file`` accepted after every check."""
    return sum(
        len(c.alive) if c.accepted is None else len(c.accepted) for c in kept if c.file == file
    )


@dataclass
class _Located:
    """The accepted rows' coordinates and whether each is stacked on a police station."""

    lon: np.ndarray
    lat: np.ndarray
    stacked: np.ndarray

    def frame(self, acc: pd.DataFrame, start: int) -> gpd.GeoDataFrame:
        """Return accepted rows ``start…`` (canonical schema) as points, station stacks flagged.

        The rows are numbered from ``start`` (their position among every accepted row).
        """
        import geopandas as gpd
        import numpy as np
        import pandas as pd

        stop = start + len(acc)
        at_station = acc["at_station"].to_numpy(dtype=bool) | self.stacked[start:stop]
        acc["at_station"] = at_station
        bits = (
            acc["flags"].to_numpy(dtype=np.int64)
            | at_station.astype(np.int64) * FLAG_BITS["station_stack"]
        )
        acc["flags"] = flags_to_text(bits, FLAG_CODES)
        table = acc[list(INCIDENT_COLUMNS)]
        if start:
            table.index = pd.RangeIndex(start, stop)
        return gpd.GeoDataFrame(
            table,
            geometry=gpd.points_from_xy(self.lon[start:stop], self.lat[start:stop]),
            crs="EPSG:4326",
        )


def _by_partitions(
    kept: list[_Kept],
    n_files: int,
    located: _Located,
    assigned: Callable[[gpd.GeoDataFrame, bool], gpd.GeoDataFrame],
    attrs: dict[str, Any],
    folder: Path,
) -> tuple[gpd.GeoDataFrame, list[Partition], list[AcceptedCounts]]:
    """Assign and write the accepted rows waiting on disk, a file's chunks at a time.

    Consecutive chunks of one file are read back until they hold :data:`SPILL_ROWS` accepted
    rows, assigned, counted and written as one partition; this process holds no more of
    them at once. Returns the table without rows (columns, types, ``attrs``), the partitions
    in row order and each file's counts.
    """
    import dataclasses

    import pandas as pd

    from ..partitions import write_partitions

    batches: list[list[_Kept]] = []
    size = 0
    for c in kept:
        n = len(c.alive) if c.accepted is None else len(c.accepted)
        if not batches or batches[-1][0].file != c.file or size >= SPILL_ROWS:
            batches.append([])
            size = 0
        batches[-1].append(c)
        size += n
    counts = [AcceptedCounts() for _ in range(n_files)]
    written: list[Partition] = []
    empty: gpd.GeoDataFrame | None = None
    assignment: dict[str, Any] | None = None
    start = 0
    for batch in batches:
        acc = pd.concat([_kept_frame(c) for c in batch], ignore_index=True)
        frame = assigned(located.frame(acc, start), False)  # warned of once, below
        del acc
        start += len(frame)
        counts[batch[0].file] += AcceptedCounts.of(frame)
        if "assignment" in frame.attrs:
            assignment = add_counts(assignment, frame.attrs["assignment"])
        frame.attrs = {}
        if empty is None:
            empty = frame.iloc[:0]
        if len(frame):
            written += write_partitions([("", frame)], folder, prefix=f"ingesta-{len(written):04d}")
        del frame
    assert empty is not None  # a file gives at least one chunk
    if assignment:
        from ..assign import warn_far_from_station

        warn_far_from_station(assignment)
        attrs = {"assignment": assignment, **attrs}
    empty.attrs = attrs
    parts = [dataclasses.replace(p, attrs=dict(attrs)) for p in written]
    return empty, parts, counts


def _file_quarantine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Join the quarantine of a file's chunks (the empty ones add nothing, not even dtypes)."""
    import pandas as pd

    full = [q for q in parts if len(q)]
    if len(full) == 1:
        return full[0]
    if not full:
        return parts[0]
    return pd.concat(full, ignore_index=True)
