"""The GeoPackage workspace: one file holding sectors, accepted incidents, quarantine and results.

Layers
------
``incidents``
    Accepted incidents (canonical schema, EPSG:4326). ``occurred_at`` is a GeoPackage
    ``DATETIME`` field in UTC, as the standard requires, so QGIS's temporal controller, GDAL
    and pandas read real date-times; the metadata key ``timezone`` names the local zone the
    times are given back in (America/Lima when absent). Workspaces written before this kept
    ISO 8601 local text: they are read as they are and converted by their next write.
``quarantine``
    Rejected input rows with their reason (attribute table, no geometry).
``sectors``
    The comisaría sector layer, if one was given.
``imports``
    One row per imported file: name, SHA-256, time (``imported_at``, ``DATETIME`` in UTC),
    counts.
``parsc_metadata``
    Key/value pairs (JSON): e.g. ``synthetic``, ``period``, parameters of the last run.
Other layers (``hotspots`` …) are written by analysis commands.

Writes are transactional: the workspace is copied to a temporary file beside it, changed there,
and moved over the original in one rename, so an interrupted import (even ``kill -9``) leaves
it as it was; the copy it leaves behind is removed on the next start
(:func:`parsc_geo._atomic.remove_stale_temporaries`). Writers take the workspace's lock
(:mod:`parsc_geo._lock`) for the whole transaction, so two imports at once both keep their
rows: the second waits for the first. Readers never wait: a multi-layer read works on a
snapshot (a hard link to the current file, which writers never change in place), so it sees
the workspace before or after a write, never a mixture. A workspace given as a symbolic link
is written through to its target. A file that is not a GeoPackage (a CSV, an empty or
truncated file) is refused and never touched.
Importing the same file twice adds nothing (files are recognised by SHA-256, incidents by
``incident_id``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import (
    check_name,
    file_mode,
    fsync_path,
    real_target,
    remove_stale_temporaries,
    temp_name,
)
from .._errors import InputDataError, OutputError, ParscGeoError
from .._lock import exclusive, release, try_lock
from .._text import num
from ..settings import TIMEZONE
from .base import (
    IMPORT_LOG_COLUMNS,
    IMPORTS,
    INCIDENTS,
    METADATA,
    QUARANTINE,
    SECTORS,
    finish_incidents,
)
from .importing import concat_tables

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd

    from ..partitions import Partition


#: Date-time columns of the workspace's own layers: stored as GeoPackage ``DATETIME`` (UTC).
DATETIME_FIELDS: dict[str, tuple[str, ...]] = {
    INCIDENTS: ("occurred_at",),
    IMPORTS: ("imported_at",),
}


def _encode_times(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with time-zone-aware columns in UTC, written as ``DATETIME`` fields.

    The GeoPackage standard stores date-times in UTC (``2020-03-05T19:30:00Z``); GDAL, QGIS
    (whose temporal controller then needs no expression) and pandas read them as date-times.
    The local clock is given back on reading, from the workspace's ``timezone``.
    """
    import pandas as pd

    out = df.copy(deep=False)  # copy-on-write: only the replaced columns are new
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC")
    return out


def _decode_times(
    df: pd.DataFrame, columns: tuple[str, ...] = ("occurred_at",), tz: str = TIMEZONE
) -> pd.DataFrame:
    """Return ``df`` with ``columns`` as local times in ``tz``.

    Reads ``DATETIME`` fields (UTC) and the ISO 8601 text with a UTC offset that workspaces
    written before held.
    """
    import pandas as pd

    for col in columns:
        if col not in df.columns:
            continue
        values = df[col]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            stamps = values.dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(values.dtype):
            stamps = values.dt.tz_localize("UTC")
        else:
            stamps = pd.to_datetime(values, utc=True, format="ISO8601")
        df[col] = stamps.dt.as_unit("ns").dt.tz_convert(tz)
    return df


def _upgrade_times(path: Path) -> list[str]:
    """Turn the text date-times of an older workspace into ``DATETIME`` fields, in ``path``.

    Called on the transaction's copy before anything is written, so that appended rows and
    the rows already there share one field type. Returns the ``layer.column`` names converted.
    """
    import pyogrio

    converted = []
    present = {str(name) for name, _ in pyogrio.list_layers(path)}
    for layer, columns in DATETIME_FIELDS.items():
        if layer not in present:
            continue
        info = pyogrio.read_info(path, layer=layer)
        types = dict(zip(info["fields"], info["ogr_types"], strict=True))
        text = tuple(c for c in columns if types.get(c) == "OFTString")
        if not text:
            continue
        frame = pyogrio.read_dataframe(path, layer=layer)
        try:
            frame = _decode_times(frame, text, "UTC")
        except (ValueError, TypeError) as exc:
            raise InputDataError(
                f"la capa {layer!r} del espacio de trabajo tiene fechas que no son fecha y hora "
                f"ISO 8601 ({exc})",
                hint="corrija esos valores en el GeoPackage; el archivo no se modificó",
            ) from exc
        try:
            pyogrio.write_dataframe(_encode_times(frame), path, layer=layer, driver="GPKG")
        except Exception as exc:
            raise OutputError(
                f"no se pueden convertir las fechas de la capa {layer!r} del espacio de trabajo: "
                f"{exc}"
            ) from exc
        converted += [f"{layer}.{c}" for c in text]
    return converted


def _use_arrow(df: Any) -> bool:
    """Whether to write ``df`` through Arrow (pyarrow importable, no all-null columns).

    Arrow hands the columns to GDAL in batches instead of one feature at a time: a 1M-row
    incident layer is stored in less than half the CPU time (issue 18). The fields, values,
    ``DATETIME`` text and NULLs written are the same. A column of nothing but missing values
    has Arrow's ``null`` type instead of a string type, and an empty table has no rows to
    gain on: both keep the feature-by-feature writer, so their field types stay as before.
    """
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None or len(df) == 0:
        return False
    # only object columns can become Arrow's null type (all-NaN floats stay doubles)
    return not any(df[col].isna().all() for col in df.columns if df[col].dtype == object)


_SQLITE_MAGIC = b"SQLite format 3\x00"
#: ``application_id`` values of GeoPackages (``GPKG``; ``GP10``/``GP11`` of versions 1.0/1.1).
_GPKG_IDS = frozenset({b"GPKG", b"GP10", b"GP11"})


def check_workspace_file(path: Path, *, writing: bool = False, shown: Path | None = None) -> None:
    """Raise a clear error unless ``path`` (which exists) looks like a usable GeoPackage.

    Refuses an empty file, a file that is not SQLite (a CSV given to ``-w``), an SQLite
    database that is not a GeoPackage, and a file shorter than its header says (truncated).
    Nothing is written to the file. Errors are data errors (exit 3) when reading and output
    errors (exit 5) when ``writing``; they name ``shown`` (default ``path``).
    """
    error: type[ParscGeoError] = OutputError if writing else InputDataError
    name = shown or path
    keep = "el archivo no se modificó"
    hint = (
        "indique con --workspace/-w un GeoPackage de parsc-geo, o un nombre nuevo para crear "
        f"uno; {keep}"
    )
    if path.is_dir():
        raise error(f"el espacio de trabajo {name} es una carpeta, no un archivo .gpkg", hint=hint)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise error(
            f"no se puede leer el espacio de trabajo {name}: {exc.strerror or exc}",
            hint="revise los permisos del archivo",
        ) from exc
    if size == 0:
        raise error(
            f"el espacio de trabajo {name} está vacío (0 bytes): no es un GeoPackage", hint=hint
        )
    if not header.startswith(_SQLITE_MAGIC):
        text = header.lstrip(b"\xef\xbb\xbf")
        looks_text = bool(text) and all(b >= 9 and b != 127 for b in text[:64])
        raise error(
            f"el espacio de trabajo {name} no es un GeoPackage"
            + (" (parece un archivo de texto o CSV)" if looks_text else ""),
            hint=(
                "para importar un archivo use 'parsc-geo ingest ARCHIVO -w ESPACIO.gpkg'; "
                if looks_text
                else ""
            )
            + hint,
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # the page count of the header is valid when "version-valid-for" equals the change counter
    counted = header[92:96] == header[24:28] and pages > 0
    if len(header) < 100 or (counted and pages * page_size > size):
        raise error(
            f"el espacio de trabajo {name} está truncado o dañado ({num(size)} bytes de "
            f"{num(pages * page_size)} esperados)",
            hint="restáurelo desde una copia, o indique otro --workspace/-w; " + keep,
        )
    if header[68:72] not in _GPKG_IDS:
        raise error(
            f"el espacio de trabajo {name} es una base SQLite pero no un GeoPackage", hint=hint
        )


class Workspace:
    """A GeoPackage workspace (see the module docstring for its layers).

    Implements :class:`parsc_geo.workspace.base.WorkspaceBackend`.

    Parameters
    ----------
    path
        The ``.gpkg`` file. It is created on the first write.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # the temporary copy of an open transaction, and the snapshot of an open read
        self._target: Path | None = None
        self._snapshot: Path | None = None
        self._checked: tuple[int, int, int] | None = None

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        """Whether the workspace file exists."""
        try:
            return self.path.exists()
        except OSError as exc:  # a name over the file-system limit cannot exist
            if exc.errno == errno.ENAMETOOLONG:
                return False
            raise

    @property
    def _source(self) -> Path:
        """Where reads go: the open transaction's copy, the open snapshot, or the file."""
        if self._target is not None and self._target.exists():
            return self._target
        return self._snapshot or self.path

    def _check_file(self, path: Path) -> None:
        """Check ``path`` with :func:`check_workspace_file` (once per version of the file)."""
        try:
            st = path.stat()
        except OSError:
            return
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if key != self._checked:
            check_workspace_file(path, shown=self.path)
            self._checked = key

    # -- reading -------------------------------------------------------------------------------

    def layers(self) -> list[str]:
        """Return the names of the layers in the workspace (empty if it does not exist)."""
        import pyogrio

        if not self.exists:
            return []
        source = self._source
        self._check_file(source)
        try:
            return [str(name) for name, _ in pyogrio.list_layers(source)]
        except Exception as exc:
            raise InputDataError(
                f"no se puede leer el espacio de trabajo {self.path}: {exc}",
                hint="restáurelo desde una copia, o indique otro --workspace/-w; "
                "el archivo no se modificó",
            ) from exc

    def recover(self) -> list[Path]:
        """Remove what killed parsc-geo processes left beside the workspace; return it.

        Copies of interrupted transactions and snapshots whose process is dead, and the lock
        file of a dead writer (when no live process holds it). The workspace itself is never
        touched: an interrupted transaction never reached it.
        """
        real = real_target(self.path)
        removed = remove_stale_temporaries(real.parent)
        from .._lock import lock_path

        lock = lock_path(real)
        if lock.exists() and try_lock(real):
            release(real)
            removed.append(lock)
        return removed

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Workspace]:
        """Read several layers from one version of the workspace, whatever writers do meanwhile.

        Yields the workspace itself; its reads inside the block see the file as it was when
        the block began. Writers replace the file by a rename and never change it in place,
        so a hard link to it is a consistent snapshot. Where hard links are impossible the
        reads go to the file itself.
        """
        if self._snapshot is not None or self._target is not None or not self.exists:
            yield self
            return
        real = real_target(self.path)
        self.recover()
        link = real.parent / temp_name(".gpkg")
        try:
            os.link(real, link)
        except OSError:
            yield self
            return
        self._snapshot = link
        try:
            yield self
        finally:
            self._snapshot = None
            with contextlib.suppress(FileNotFoundError):
                link.unlink()

    def _require(self) -> None:
        if not self.exists:
            raise InputDataError(
                f"el espacio de trabajo {self.path} no existe",
                hint="créelo con 'parsc-geo ingest ARCHIVO --workspace "
                f"{self.path}' o ejecute 'parsc-geo demo'",
            )

    def read_layer(self, name: str) -> Any:
        """Read a layer (GeoDataFrame, or DataFrame for attribute tables)."""
        import pyogrio

        self._require()
        if name not in self.layers():
            raise InputDataError(
                f"el espacio de trabajo {self.path} no tiene la capa {name!r} "
                f"(capas: {', '.join(self.layers())})",
                hint="ejecute primero el comando que la produce",
            )
        return pyogrio.read_dataframe(self._source, layer=name)

    def read_incidents(self) -> gpd.GeoDataFrame:
        """Return the accepted incidents, ``occurred_at`` as tz-aware local times.

        Local to the workspace's ``timezone`` metadata (set by the ingestion from the study
        area), America/Lima when it has none.
        """
        with self.snapshot():
            self._require()
            if INCIDENTS not in self.layers():
                raise InputDataError(
                    f"el espacio de trabajo {self.path} aún no contiene incidentes",
                    hint=f"impórtelos con 'parsc-geo ingest ARCHIVO --workspace {self.path}'",
                )
            gdf = self.read_layer(INCIDENTS)
            metadata = self.metadata()
        return finish_incidents(gdf, metadata)

    def read_quarantine(self) -> pd.DataFrame:
        """Return the quarantined rows (empty table when there are none)."""
        import pandas as pd

        from ..schema import QUARANTINE_COLUMNS

        if not self.exists or QUARANTINE not in self.layers():
            return pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
        return pd.DataFrame(self.read_layer(QUARANTINE))

    def read_sectors(self) -> gpd.GeoDataFrame | None:
        """Return the sector layer, or None when the workspace has none."""
        from ..sectors import order_sectors

        if not self.exists or SECTORS not in self.layers():
            return None
        gdf = self.read_layer(SECTORS)
        for col in ("comisaria", "comisaria_id", "sector", "subsector"):
            gdf[col] = gdf[col].fillna("").astype(str)
        return order_sectors(gdf)

    def imports(self) -> pd.DataFrame:
        """Return the import log (one row per imported file)."""
        import pandas as pd

        if not self.exists or IMPORTS not in self.layers():
            return pd.DataFrame(columns=list(IMPORT_LOG_COLUMNS))
        return _decode_times(pd.DataFrame(self.read_layer(IMPORTS)), ("imported_at",), "UTC")

    def metadata(self) -> dict[str, Any]:
        """Return the workspace metadata as a dict (empty if none)."""
        if not self.exists or METADATA not in self.layers():
            return {}
        table = self.read_layer(METADATA)
        return {str(k): json.loads(v) for k, v in zip(table["key"], table["value"], strict=True)}

    def describe(self) -> dict[str, Any]:
        """Return a summary: layers with feature counts, metadata, imports, period covered."""
        import pyogrio

        from .base import postgis_advice

        info: dict[str, Any] = {
            "path": str(self.path),
            "backend": "GeoPackage",
            "exists": self.exists,
            "layers": {},
        }
        if not self.exists:
            return info
        with self.snapshot():
            for name in self.layers():
                meta = pyogrio.read_info(self._source, layer=name)
                info["layers"][name] = int(meta["features"])
            info["metadata"] = self.metadata()
            info["imports"] = self.imports().to_dict(orient="records")
            if INCIDENTS in info["layers"] and info["layers"][INCIDENTS]:
                times = pyogrio.read_dataframe(
                    self._source, layer=INCIDENTS, columns=["occurred_at"], read_geometry=False
                )
                when = _decode_times(times)["occurred_at"]
                info["period"] = [when.min().date().isoformat(), when.max().date().isoformat()]
            size = self._source.stat().st_size
        info["advice"] = postgis_advice(info["layers"].get(INCIDENTS, 0), size)
        return info

    def check_writable(self) -> None:
        """Refuse now a name the file system cannot hold or a file that is not a workspace.

        Raises
        ------
        OutputError
            A part of the name is too long, or the existing file is not a GeoPackage (a CSV,
            an empty or truncated file), which is never touched.
        """
        check_name(self.path)
        if self.exists:
            check_workspace_file(self.path, writing=True)

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Path]:
        """Yield a temporary copy of the workspace; on success it replaces the original.

        The workspace's lock is held throughout (another writer waits, see
        :mod:`parsc_geo._lock`), so a transaction always starts from the latest version. On
        any error the temporary copy is removed and the workspace is left as it was; after a
        ``kill -9`` the copy is removed by the next start. A symbolic link is written through:
        its target is replaced, the link stays.

        Raises
        ------
        OutputError
            When the name is too long, the existing file is not a GeoPackage, another process
            holds the lock for too long, or the folder cannot be written.
        """
        if self._target is not None:  # re-entrant: the open transaction goes on
            yield self._target
            return
        check_name(self.path)
        real = real_target(self.path)
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"no se puede crear la carpeta del espacio de trabajo {real.parent}: "
                f"{exc.strerror or exc}"
            ) from exc
        with exclusive(real, what=f"el espacio de trabajo {self.path}"):
            remove_stale_temporaries(real.parent)
            existed = real.exists()
            mode = file_mode()
            if existed:
                check_workspace_file(real, writing=True)
                mode = real.stat().st_mode & 0o7777
            tmp = real.parent / temp_name(".gpkg")
            try:
                if existed:
                    shutil.copyfile(real, tmp)
                    _upgrade_times(tmp)
                self._target = tmp
                yield tmp
                self._target = None
                if not tmp.exists():  # nothing was written
                    return
                os.chmod(tmp, mode)
                fsync_path(tmp)
                os.replace(tmp, real)
                fsync_path(real.parent)
                self._checked = None
            except BaseException:
                self._target = None
                for leftover in (tmp, *(Path(f"{tmp}{s}") for s in ("-journal", "-wal", "-shm"))):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()
                raise

    def _write(self, df: Any, layer: str, *, append: bool = False) -> None:
        target = self._target
        if target is None:
            with self.transaction() as tmp:
                self._write_to(tmp, df, layer, append=append)
            return
        self._write_to(target, df, layer, append=append)

    @staticmethod
    def _write_to(path: Path, df: Any, layer: str, *, append: bool) -> None:
        import pyogrio

        exists = path.exists() and layer in [n for n, _ in pyogrio.list_layers(path)]
        try:
            pyogrio.write_dataframe(
                _encode_times(df),
                path,
                layer=layer,
                driver="GPKG",
                append=append and exists,
                use_arrow=_use_arrow(df),
            )
        except Exception as exc:
            raise OutputError(
                f"no se puede escribir la capa {layer!r} del espacio de trabajo: {exc}"
            ) from exc

    def write_layer(self, name: str, data: Any) -> None:
        """Write (replace) a layer: a GeoDataFrame, or a DataFrame as an attribute table."""
        self._write(data, name)

    def set_metadata(self, **values: Any) -> None:
        """Set metadata keys (values must be JSON-serialisable)."""
        import pandas as pd

        current = self.metadata()
        current.update(values)
        table = pd.DataFrame(
            {
                "key": list(current),
                "value": [
                    json.dumps(v, ensure_ascii=False, sort_keys=True) for v in current.values()
                ],
            }
        )
        self._write(table, METADATA)

    def write_sectors(self, sectors: gpd.GeoDataFrame) -> None:
        """Store (replace) the comisaría sector layer."""
        self._write(sectors.to_crs("EPSG:4326"), SECTORS)

    def import_incidents(
        self,
        accepted: gpd.GeoDataFrame | Sequence[Partition],
        quarantine: pd.DataFrame,
        *,
        sources: list[dict[str, Any]],
        sectors: gpd.GeoDataFrame | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add new incidents and quarantine rows, in one transaction.

        A file imported before (same SHA-256) is evaluated again, not skipped: its rows that
        are accepted now are added when their ``incident_id`` is new (rows quarantined by an
        earlier import with the wrong study area or column mapping come in), and its
        quarantine rows replace those of its earlier imports. Only accepted incident ids are
        de-duplicated.

        Parameters
        ----------
        accepted
            Accepted (and assigned) incidents in the canonical schema: the table, or the
            partitions holding it (:class:`parsc_geo.partitions.Partition`, in order), which
            are read and added one at a time, so that the import never holds every incident
            at once. Both give the same workspace and counts.
        quarantine
            Rejected rows (``schema.QUARANTINE_COLUMNS``); ``source`` names the file.
        sources
            One dict per input file with at least ``source`` (the name used in the
            ``source`` columns) and ``sha256``; other keys (``rows_read`` …) are logged.
        sectors
            A sector layer to store with the import (replaces the previous one).
        metadata
            Metadata keys to set.

        Returns
        -------
        dict
            ``rows_new`` (incidents added), ``rows_already_present`` (accepted rows whose
            ``incident_id`` was already stored), ``files_reimported`` (files imported before,
            by checksum, and evaluated again), ``quarantine_added``, ``quarantine_replaced``
            (rows of earlier imports of those files taken out of the quarantine) and ``files``:
            per file ``source``, ``reimport``, ``rows_new``, ``rows_already_present``,
            ``rows_quarantined``, ``rows_quarantined_before`` and ``rows_now_accepted`` (rows
            quarantined by an earlier import of the same file that are accepted now).
        """
        with self.transaction():
            return self._import(
                accepted, quarantine, sources=sources, sectors=sectors, metadata=metadata
            )

    def _import(
        self,
        accepted: gpd.GeoDataFrame | Sequence[Partition],
        quarantine: pd.DataFrame,
        *,
        sources: list[dict[str, Any]],
        sectors: gpd.GeoDataFrame | None,
        metadata: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Do the work of :meth:`import_incidents` inside its transaction (lock held).

        Everything is read inside the transaction, so that two imports at once (the second
        waits for the lock) both see the rows the other one added. Chunks of partitions are
        appended to the transaction's copy one at a time; the ids they add join the stored
        ones, against which the next chunk is checked.
        """
        import pyogrio

        from .importing import ImportRules, accepted_chunks

        existing_ids: set[str] = set()
        if self.exists and INCIDENTS in self.layers():
            ids = pyogrio.read_dataframe(
                self._source, layer=INCIDENTS, columns=["incident_id"], read_geometry=False
            )
            existing_ids = set(ids["incident_id"].astype(str))
        rules = ImportRules(
            quarantine,
            sources=sources,
            previous_imports=self.imports(),
            read_quarantine=self.read_quarantine,
        )
        tmp = self._target
        assert tmp is not None, "called outside a transaction"
        for chunk, more in accepted_chunks(accepted):
            new_rows = rules.new_rows(chunk, existing_ids)
            if len(new_rows):
                self._write(new_rows, INCIDENTS, append=True)
                if more:
                    existing_ids.update(new_rows["incident_id"].astype(str))
            del chunk, new_rows  # the next chunk is loaded without this one
        plan = rules.plan()
        if plan.quarantine_kept is not None:
            self._write(plan.replaced_quarantine(), QUARANTINE)
        elif len(plan.quarantine_new):
            self._append_table(tmp, plan.quarantine_new, QUARANTINE)
        if len(plan.log):
            # the plan's times are ISO text (shared with PostGIS); here a DATETIME field
            self._append_table(
                tmp, _decode_times(plan.log.copy(), ("imported_at",), "UTC"), IMPORTS
            )
        if sectors is not None:
            self.write_sectors(sectors)
        if metadata:
            self.set_metadata(**metadata)
        return plan.summary

    def _append_table(self, path: Path, table: pd.DataFrame, layer: str) -> None:
        """Append rows to an attribute table; a column it lacks rewrites the whole table."""
        import pyogrio

        exists = path.exists() and layer in [n for n, _ in pyogrio.list_layers(path)]
        if exists:
            fields = set(pyogrio.read_info(path, layer=layer)["fields"])
            if not set(table.columns) <= fields:
                old = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
                self._write(concat_tables(old, table), layer)
                return
        self._write(table, layer, append=exists)
