"""The GeoPackage workspace: one file holding sectors, accepted incidents, quarantine and results.

Layers
------
``incidents``
    Accepted incidents (canonical schema, EPSG:4326). ``occurred_at`` is stored as ISO 8601
    text with its UTC offset, so that time zones survive every GeoPackage reader.
``quarantine``
    Rejected input rows with their reason (attribute table, no geometry).
``sectors``
    The comisaría sector layer, if one was given.
``imports``
    One row per imported file: name, SHA-256, time, counts.
``parsc_metadata``
    Key/value pairs (JSON): e.g. ``synthetic``, ``period``, parameters of the last run.
Other layers (``hotspots`` …) are written by analysis commands.

Writes are transactional: the workspace is copied to a temporary file beside it, changed there,
and moved over the original in one rename, so an interrupted import leaves it as it was.
Importing the same file twice adds nothing (files are recognised by SHA-256, incidents by
``incident_id``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import file_mode
from .._errors import InputDataError, OutputError
from ..settings import TIMEZONE
from .base import IMPORTS, INCIDENTS, METADATA, QUARANTINE, SECTORS

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd


def _encode_times(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            values = out[col].dt.tz_convert(TIMEZONE)
            text = values.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
            out[col] = text.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True)
    return out


def _decode_times(df: pd.DataFrame, columns: tuple[str, ...] = ("occurred_at",)) -> pd.DataFrame:
    import pandas as pd

    for col in columns:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601").dt.tz_convert(TIMEZONE)
    return df


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
        self._target: Path | None = None

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        """Whether the workspace file exists."""
        return self.path.exists()

    # -- reading -------------------------------------------------------------------------------

    def layers(self) -> list[str]:
        """Return the names of the layers in the workspace (empty if it does not exist)."""
        import pyogrio

        if not self.exists:
            return []
        return [str(name) for name, _ in pyogrio.list_layers(self.path)]

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
        return pyogrio.read_dataframe(self.path, layer=name)

    def read_incidents(self) -> gpd.GeoDataFrame:
        """Return the accepted incidents, ``occurred_at`` as tz-aware America/Lima times."""
        import geopandas as gpd

        from ..schema import ASSIGNMENT_COLUMNS, INCIDENT_COLUMNS

        self._require()
        if INCIDENTS not in self.layers():
            raise InputDataError(
                f"el espacio de trabajo {self.path} aún no contiene incidentes",
                hint=f"impórtelos con 'parsc-geo ingest ARCHIVO --workspace {self.path}'",
            )
        gdf = self.read_layer(INCIDENTS)
        gdf = _decode_times(gdf)
        for col in ("time_known", "label_known", "at_station"):
            if col in gdf.columns:
                gdf[col] = gdf[col].fillna(False).astype(bool)
        for col in (*INCIDENT_COLUMNS, *ASSIGNMENT_COLUMNS):
            if col in gdf.columns and gdf[col].dtype == object:
                gdf[col] = gdf[col].fillna("")
        gdf = gdf.sort_values("incident_id", kind="stable").reset_index(drop=True)
        meta = self.metadata()
        gdf.attrs["synthetic"] = bool(meta.get("synthetic", False))
        if meta.get("study_area"):
            gdf.attrs["study_area"] = meta["study_area"]  # parsc_geo.area.StudyArea.to_dict()
        return gpd.GeoDataFrame(gdf, geometry="geometry", crs=gdf.crs)

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
            return pd.DataFrame(
                columns=[
                    "source",
                    "sha256",
                    "imported_at",
                    "rows_read",
                    "rows_accepted",
                    "rows_quarantined",
                    "rows_new",
                ]
            )
        return pd.DataFrame(self.read_layer(IMPORTS))

    def metadata(self) -> dict[str, Any]:
        """Return the workspace metadata as a dict (empty if none)."""
        if not self.exists or METADATA not in self.layers():
            return {}
        table = self.read_layer(METADATA)
        return {str(k): json.loads(v) for k, v in zip(table["key"], table["value"], strict=True)}

    def describe(self) -> dict[str, Any]:
        """Return a summary: layers with feature counts, metadata, imports, period covered."""
        import pyogrio

        info: dict[str, Any] = {"path": str(self.path), "exists": self.exists, "layers": {}}
        if not self.exists:
            return info
        for name in self.layers():
            meta = pyogrio.read_info(self.path, layer=name)
            info["layers"][name] = int(meta["features"])
        info["metadata"] = self.metadata()
        info["imports"] = self.imports().to_dict(orient="records")
        if INCIDENTS in info["layers"] and info["layers"][INCIDENTS]:
            times = pyogrio.read_dataframe(
                self.path, layer=INCIDENTS, columns=["occurred_at"], read_geometry=False
            )
            when = _decode_times(times)["occurred_at"]
            info["period"] = [when.min().date().isoformat(), when.max().date().isoformat()]
        return info

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Path]:
        """Yield a temporary copy of the workspace; on success it replaces the original.

        On any error the temporary copy is removed and the workspace is left as it was.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{self.path.stem}-", suffix=".gpkg", dir=self.path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if self.exists:
                shutil.copyfile(self.path, tmp)
            else:
                tmp.unlink()
            self._target = tmp
            yield tmp
            self._target = None
            os.chmod(tmp, file_mode())
            os.replace(tmp, self.path)
        except BaseException:
            self._target = None
            for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal")):
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
                _encode_times(df), path, layer=layer, driver="GPKG", append=append and exists
            )
        except Exception as exc:
            raise OutputError(f"no se puede escribir la capa {layer!r} en {path}: {exc}") from exc

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
        accepted: gpd.GeoDataFrame,
        quarantine: pd.DataFrame,
        *,
        sources: list[dict[str, Any]],
        sectors: gpd.GeoDataFrame | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add new incidents and quarantine rows, in one transaction.

        Parameters
        ----------
        accepted
            Accepted (and assigned) incidents in the canonical schema.
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
            ``incident_id`` was already stored), ``files_skipped`` (files imported before,
            by checksum), ``quarantine_added``.
        """
        import pandas as pd
        import pyogrio

        previous = self.imports()
        known_sha = set(previous["sha256"].astype(str)) if len(previous) else set()
        skipped = [s["source"] for s in sources if str(s.get("sha256")) in known_sha]
        fresh_sources = [s for s in sources if str(s.get("sha256")) not in known_sha]
        fresh_names = {s["source"] for s in fresh_sources}

        existing_ids: set[str] = set()
        if self.exists and INCIDENTS in self.layers():
            ids = pyogrio.read_dataframe(
                self.path, layer=INCIDENTS, columns=["incident_id"], read_geometry=False
            )
            existing_ids = set(ids["incident_id"].astype(str))
        in_fresh = accepted["source"].isin(fresh_names) if len(accepted) else accepted["source"]
        candidates = accepted[in_fresh] if len(accepted) else accepted
        is_new = ~candidates["incident_id"].astype(str).isin(existing_ids)
        new_rows = candidates[is_new].drop_duplicates("incident_id", keep="first")
        q_new = (
            quarantine[quarantine["source"].isin(fresh_names)] if len(quarantine) else quarantine
        )

        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        log_rows = []
        for s in fresh_sources:
            row = {k: v for k, v in s.items() if isinstance(v, str | int | float | bool)}
            row["imported_at"] = now
            row["rows_new"] = int((new_rows["source"] == s["source"]).sum())
            log_rows.append(row)

        with self.transaction():
            if len(new_rows):
                self._write(new_rows, INCIDENTS, append=True)
            if len(q_new):
                q = q_new.copy()
                for col in q.columns:
                    q[col] = q[col].astype(str) if q[col].dtype == object else q[col]
                self._write(pd.DataFrame(q), QUARANTINE, append=True)
            if log_rows:
                self._write(pd.DataFrame(log_rows), IMPORTS, append=True)
            if sectors is not None:
                self.write_sectors(sectors)
            if metadata:
                self.set_metadata(**metadata)
        return {
            "rows_new": len(new_rows),
            "rows_already_present": int(len(candidates) - int(is_new.sum()))
            + int(is_new.sum() - len(new_rows)),
            "files_skipped": skipped,
            "quarantine_added": len(q_new),
        }
