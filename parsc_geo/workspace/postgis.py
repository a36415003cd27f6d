"""The PostGIS workspace: one store in a PostgreSQL database for a team of analysts.

Give ``--workspace postgresql://usuario@servidor:5432/base`` (optionally ``?schema=NAME``;
default schema ``parsc_geo``) instead of a ``.gpkg`` file. The workspace is a schema holding
one table per layer (``incidents``, ``quarantine``, ``sectors``, ``imports``,
``parsc_metadata``, ``hotspots`` …) plus three of its own: ``parsc_schema`` (the version of the
layout, for upgrades), ``parsc_layers`` (which table holds which layer, its columns and CRS)
and ``parsc_trash``. It is created on first use; the PostGIS extension must be installed in
the database (a superuser's ``CREATE EXTENSION postgis``, tried once automatically).

Guarantees (the same as the GeoPackage's, see :mod:`parsc_geo.workspace.gpkg`)
--------------------------------------------------------------------------------
- Every write (an import, a layer, metadata) is one database transaction: all or nothing,
  whatever kills the process.
- Writers are serialised by a transaction-level advisory lock of the schema: a second import
  waits for the first (saying so) and then reads what it added, so two analysts importing at
  once lose nothing and re-imports follow the rules of :mod:`parsc_geo.workspace.importing`.
  A writer that waited ``PARSC_GEO_LOCK_TIMEOUT`` seconds (default 600) gives up (exit 5).
- Readers never wait for writers and never see half a write: every read runs in a
  ``REPEATABLE READ`` read-only transaction (one MVCC snapshot for all the layers it reads).
  Writers change rows only with ``DELETE``/``INSERT``/``COPY``, never ``TRUNCATE`` or a table
  rewrite (which are not MVCC-safe); a layer whose columns change gets a new table (a new
  *generation*) and the registry points to it, and the old table is dropped only when no
  reader holds it (readers lock the tables of their snapshot in ``ACCESS SHARE`` mode; a
  writer never waits for them, it leaves the table in ``parsc_trash`` for a later writer).
- Tables are created by the owner of the schema (writers ``SET ROLE`` to it when they are
  members), so that every analyst of a team can change every layer; see
  :mod:`parsc_geo.workspace.roles` for the viewer and analyst roles.

Passwords are never shown: the workspace prints as its URL with the password masked, and
database messages are scrubbed of it. Connection problems are Spanish errors with a hint: an
unreachable server or a missing driver or extension exits with 6, a refused login or a missing
database with 3.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from .._errors import (
    InputDataError,
    MissingDependencyError,
    OutputError,
    ParscGeoError,
)
from .base import IMPORTS, INCIDENTS, METADATA, QUARANTINE, SECTORS, finish_incidents
from .location import DatabaseURL, parse_database_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd
    import psycopg

    from ..partitions import Partition

logger = logging.getLogger(__name__)

#: Version of the layout of a workspace schema (``parsc_schema.version``).
SCHEMA_VERSION: Final = 1
#: The tables of the workspace itself (never layers).
REGISTRY: Final = "parsc_layers"
VERSION_TABLE: Final = "parsc_schema"
TRASH: Final = "parsc_trash"
#: Hidden column that keeps the order in which rows were written.
ORDER_COLUMN: Final = "parsc_fid"
#: Seconds to wait for the server when connecting.
CONNECT_TIMEOUT_S: Final = 10
#: Attempts at opening a snapshot while writers replace tables under it.
_SNAPSHOT_TRIES: Final = 50

#: SQL type of each column kind.
_SQL_TYPES: Final = {
    "boolean": "boolean",
    "bigint": "bigint",
    "double": "double precision",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "text": "text",
}
#: PostgreSQL's limit on identifiers (longer ones are silently cut).
_MAX_IDENTIFIER: Final = 63


def _driver() -> Any:
    """Return the psycopg module, or raise the Spanish error for a missing driver (exit 6)."""
    try:
        import psycopg
    except ImportError as exc:
        raise MissingDependencyError(
            "un espacio de trabajo PostGIS necesita el paquete psycopg (versión 3)",
            hint="instálelo con: pip install 'parsc-geo[postgis]'",
        ) from exc
    return psycopg


def lock_key(schema: str) -> int:
    """Return the advisory-lock key of a workspace schema (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"parsc-geo:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Layer:
    """A layer as the registry describes it."""

    name: str
    table: str
    generation: int
    position: int
    columns: tuple[tuple[str, str], ...]
    geometry: dict[str, Any] | None

    @property
    def kinds(self) -> dict[str, str]:
        """Column name → kind."""
        return dict(self.columns)


class PostGISWorkspace:
    """A workspace in a PostGIS database (see the module docstring).

    Implements :class:`parsc_geo.workspace.base.WorkspaceBackend`. Nothing is connected until
    the workspace is used; every operation opens its own connection (or uses the one of an
    open :meth:`snapshot` or :meth:`transaction`).

    Parameters
    ----------
    url
        ``postgresql://[usuario[:contraseña]@]servidor[:puerto]/base[?schema=NOMBRE]``, or a
        parsed :class:`~parsc_geo.workspace.location.DatabaseURL`.
    schema
        The schema of the workspace, overriding the URL's (default ``parsc_geo``).
    """

    def __init__(self, url: str | DatabaseURL, *, schema: str | None = None) -> None:
        if isinstance(url, DatabaseURL):
            self.url = replace(url, schema=schema) if schema else url
            if schema:
                parse_database_url(url.conninfo, schema=schema)  # checks the name
        else:
            self.url = parse_database_url(url, schema=schema)
        self.schema = self.url.schema
        #: What messages name: the URL without its password.
        self.path = self.url.display
        self._conn: psycopg.Connection[Any] | None = None
        self._writing = False
        self._registry: dict[str, Layer] | None = None
        self._geometry_schema: str | None = None

    def __repr__(self) -> str:
        return f"PostGISWorkspace({self.path!r}, schema={self.schema!r})"

    @property
    def _shown(self) -> str:
        return f"{self.path} (esquema {self.schema})"

    # -- connections ---------------------------------------------------------------------------

    def connect(self) -> psycopg.Connection[Any]:
        """Open a connection to the database (refusals and failures as Spanish errors)."""
        psycopg = _driver()
        try:
            return psycopg.connect(
                self.url.conninfo,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="parsc-geo",
            )
        except psycopg.Error as exc:
            raise self._connection_error(exc) from None

    def _connection_error(self, exc: Exception) -> ParscGeoError:
        """Turn a failed connection into a Spanish error (exit 3 or 6) with a hint."""
        text = self.url.scrub(str(exc)).strip()
        detail = " ".join(text.split())
        lower = detail.lower()
        where = f"el servidor PostgreSQL de {self.path}"
        if "password" in lower or "authentication" in lower or "contraseña" in lower:
            return InputDataError(
                f"{where} rechazó el usuario o la contraseña ({detail})",
                hint="revise el usuario de la dirección y la contraseña (en ~/.pgpass o "
                "PGPASSWORD mejor que en la dirección)",
            )
        if "does not exist" in lower or "no existe" in lower:
            return InputDataError(
                f"{where} no tiene esa base de datos o ese usuario ({detail})",
                hint="revise el nombre de la base al final de la dirección "
                "(postgresql://usuario@servidor:5432/BASE) o pida que la creen (createdb)",
            )
        return MissingDependencyError(
            f"no se pudo conectar con {where} ({detail})",
            hint="compruebe que el servidor esté en marcha y acepte conexiones "
            "(pg_isready -h SERVIDOR -p PUERTO), y la dirección y el puerto; para trabajar "
            "sin servidor use un archivo .gpkg",
        )

    def _database_error(self, exc: Exception, *, writing: bool) -> ParscGeoError:
        """Turn an error of the database during an operation into a Spanish error."""
        psycopg = _driver()
        lines = self.url.scrub(str(exc)).strip().splitlines()
        detail = lines[0] if lines else type(exc).__name__
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            if writing:
                return OutputError(
                    f"el usuario de {self.path} no puede escribir en el espacio de trabajo "
                    f"(esquema {self.schema}): {detail}",
                    hint="los lectores solo consultan; para importar o escribir resultados "
                    "use un usuario del rol de analistas ('parsc-geo workspace init-roles', "
                    "véase docs/postgis.md)",
                )
            return InputDataError(
                f"el usuario de {self.path} no puede leer el espacio de trabajo "
                f"(esquema {self.schema}): {detail}",
                hint="pida el rol de lectores o de analistas del espacio de trabajo "
                "('parsc-geo workspace init-roles', véase docs/postgis.md)",
            )
        if isinstance(exc, psycopg.OperationalError):
            return MissingDependencyError(
                f"se perdió la conexión con el servidor de {self.path}: {detail}",
                hint="compruebe el servidor y vuelva a ejecutar el comando: la operación "
                "interrumpida no cambió nada",
            )
        error: type[ParscGeoError] = OutputError if writing else InputDataError
        return error(
            f"error de la base de datos del espacio de trabajo {self._shown}: {detail}",
            hint="la operación no cambió nada; con -v se ve el detalle",
        )

    def _postgis_schema(self, conn: psycopg.Connection[Any], *, create: bool) -> str:
        """Return the schema of the PostGIS extension, creating the extension if allowed."""
        if self._geometry_schema is not None:
            return self._geometry_schema
        psycopg = _driver()
        query = (
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
            "e.extnamespace WHERE e.extname = 'postgis'"
        )
        row = conn.execute(query).fetchone()
        if row is None and create:
            try:
                with conn.transaction():
                    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                row = conn.execute(query).fetchone()
            except psycopg.Error as exc:
                detail = self.url.scrub(str(exc)).strip().splitlines()
                logger.debug("CREATE EXTENSION postgis: %s", detail[0] if detail else exc)
        if row is None:
            raise MissingDependencyError(
                f"la base de datos de {self.path} no tiene la extensión PostGIS",
                hint="un administrador debe instalarla (en Debian: apt-get install "
                "postgresql-15-postgis-3) y ejecutar en la base: CREATE EXTENSION postgis;",
            )
        self._geometry_schema = str(row[0])
        return self._geometry_schema

    # -- reading -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[PostGISWorkspace]:
        """Read several layers from one state of the workspace, whatever writers do meanwhile.

        Opens a ``REPEATABLE READ`` read-only transaction: every read inside the block sees
        the workspace as it was when the block began (MVCC), never a write half done. The
        tables of that state are locked in ``ACCESS SHARE`` mode, so that no writer drops
        them during the block. Inside an open transaction, reads see its changes.
        """
        if self._conn is not None:
            yield self
            return
        psycopg = _driver()
        for attempt in range(_SNAPSHOT_TRIES):
            conn = self.connect()
            try:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                self._registry = self._open_snapshot(conn)
                break
            except psycopg.errors.UndefinedTable:
                # a writer replaced a table between our registry read and our lock: retry
                conn.close()
                time.sleep(min(0.02 * (attempt + 1), 0.5))
            except psycopg.Error as exc:
                conn.close()
                raise self._database_error(exc, writing=False) from exc
            except BaseException:
                conn.close()
                raise
        else:  # pragma: no cover - needs 50 shape changes during one snapshot's start
            raise InputDataError(
                f"el espacio de trabajo {self._shown} cambia sin cesar: no se pudo leer",
                hint="vuelva a intentarlo cuando terminen las importaciones en curso",
            )
        self._conn = conn
        try:
            yield self
        except psycopg.Error as exc:
            raise self._database_error(exc, writing=False) from exc
        finally:
            self._conn = None
            self._registry = None
            with contextlib.suppress(Exception):
                conn.rollback()
            conn.close()

    def _open_snapshot(self, conn: psycopg.Connection[Any]) -> dict[str, Layer]:
        """Start a snapshot: check the version, read the registry, lock its tables."""
        from psycopg import sql

        registry = self._read_registry(conn)
        if registry:
            tables = sql.SQL(", ").join(
                sql.Identifier(self.schema, layer.table) for layer in registry.values()
            )
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(tables))
        return registry

    def _read_registry(self, conn: psycopg.Connection[Any]) -> dict[str, Layer]:
        """Return the layers (empty when the workspace does not exist); check its version."""
        from psycopg import sql

        found = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
            [f"{self.schema}.{REGISTRY}", f"{self.schema}.{VERSION_TABLE}"],
        ).fetchone()
        if found is None or not all(found):
            return {}
        row = conn.execute(
            sql.SQL("SELECT max(version) FROM {}").format(
                sql.Identifier(self.schema, VERSION_TABLE)
            )
        ).fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise InputDataError(
                f"el espacio de trabajo {self._shown} tiene el formato {version}, más reciente "
                f"que el que conoce esta versión de parsc-geo ({SCHEMA_VERSION})",
                hint="actualice parsc-geo (pip install -U parsc-geo); nada se modificó",
            )
        rows = conn.execute(
            sql.SQL(
                "SELECT name, table_name, generation, position, columns, geometry FROM {} "
                "ORDER BY position"
            ).format(sql.Identifier(self.schema, REGISTRY))
        ).fetchall()
        return {
            str(r[0]): Layer(
                name=str(r[0]),
                table=str(r[1]),
                generation=int(r[2]),
                position=int(r[3]),
                columns=tuple((str(c), str(k)) for c, k in r[4]),
                geometry=r[5],
            )
            for r in rows
        }

    @property
    def exists(self) -> bool:
        """Whether the workspace schema has been created in the database."""
        with self.snapshot():
            return self._registry_exists()

    def _registry_exists(self) -> bool:
        assert self._conn is not None
        row = self._conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", [f"{self.schema}.{REGISTRY}"]
        ).fetchone()
        return bool(row and row[0])

    def layers(self) -> list[str]:
        """Return the names of the layers, in the order they were first written."""
        with self.snapshot():
            assert self._registry is not None
            return list(self._registry)

    def _require(self) -> None:
        if not self._registry_exists():
            raise InputDataError(
                f"el espacio de trabajo {self._shown} no existe",
                hint=f"créelo con 'parsc-geo ingest ARCHIVO --workspace {self.path}'",
            )

    def read_layer(self, name: str) -> Any:
        """Read a layer (GeoDataFrame, or DataFrame for attribute tables), in written order."""
        with self.snapshot():
            self._require()
            assert self._registry is not None
            if name not in self._registry:
                raise InputDataError(
                    f"el espacio de trabajo {self._shown} no tiene la capa {name!r} "
                    f"(capas: {', '.join(self._registry)})",
                    hint="ejecute primero el comando que la produce",
                )
            return self._read(self._registry[name])

    def _read(self, layer: Layer) -> Any:
        import geopandas as gpd
        import pandas as pd
        import shapely
        from psycopg import sql

        assert self._conn is not None
        wanted = layer.columns
        names = [c for c, _ in wanted]
        geom = layer.geometry
        select = [sql.Identifier(c) for c in names]
        if geom is not None:
            select.append(sql.Identifier(geom["column"]))
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(select) if select else sql.SQL("NULL"),
            sql.Identifier(self.schema, layer.table),
            sql.Identifier(ORDER_COLUMN),
        )
        rows = self._conn.execute(query).fetchall()
        values = list(zip(*rows, strict=True)) if rows else [() for _ in select]
        data = {name: _column_from_db(values[i], kind) for i, (name, kind) in enumerate(wanted)}
        frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
        if geom is None:
            return frame
        import numpy as np

        geometry = shapely.from_wkb(np.asarray(values[len(names)], dtype=object))
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=geom.get("crs") or None)

    def read_incidents(self) -> gpd.GeoDataFrame:
        """Return the accepted incidents, ``occurred_at`` as tz-aware local times.

        Local to the workspace's ``timezone`` metadata, America/Lima when it has none.
        """
        with self.snapshot():
            self._require()
            assert self._registry is not None
            if INCIDENTS not in self._registry:
                raise InputDataError(
                    f"el espacio de trabajo {self._shown} aún no contiene incidentes",
                    hint=f"impórtelos con 'parsc-geo ingest ARCHIVO --workspace {self.path}'",
                )
            gdf = self._read(self._registry[INCIDENTS])
            metadata = self.metadata()
        return finish_incidents(gdf, metadata)

    def read_quarantine(self) -> pd.DataFrame:
        """Return the quarantined rows (empty table when there are none)."""
        from ..schema import QUARANTINE_COLUMNS

        return self._table(QUARANTINE, QUARANTINE_COLUMNS)

    def _table(self, name: str, empty: tuple[str, ...]) -> pd.DataFrame:
        """Return an attribute table, or an empty one with columns ``empty`` when absent."""
        import pandas as pd

        with self.snapshot():
            assert self._registry is not None
            if name not in self._registry:
                return pd.DataFrame(columns=list(empty))
            return pd.DataFrame(self._read(self._registry[name]))

    def read_sectors(self) -> gpd.GeoDataFrame | None:
        """Return the sector layer, or None when the workspace has none."""
        from ..sectors import order_sectors

        with self.snapshot():
            assert self._registry is not None
            if SECTORS not in self._registry:
                return None
            gdf = self._read(self._registry[SECTORS])
        for col in ("comisaria", "comisaria_id", "sector", "subsector"):
            if col in gdf.columns:
                gdf[col] = gdf[col].fillna("").astype(str)
        return order_sectors(gdf)

    def imports(self) -> pd.DataFrame:
        """Return the import log (one row per imported file)."""
        from .base import IMPORT_LOG_COLUMNS

        return self._table(IMPORTS, IMPORT_LOG_COLUMNS)

    def metadata(self) -> dict[str, Any]:
        """Return the workspace metadata as a dict (empty if none)."""
        with self.snapshot():
            assert self._registry is not None
            if METADATA not in self._registry:
                return {}
            table = self._read(self._registry[METADATA])
        return {str(k): json.loads(v) for k, v in zip(table["key"], table["value"], strict=True)}

    def describe(self) -> dict[str, Any]:
        """Return a summary: backend, layers with feature counts, metadata, imports, period."""
        from psycopg import sql

        from ..settings import TIMEZONE

        info: dict[str, Any] = {
            "path": self.path,
            "backend": "PostGIS",
            "schema": self.schema,
            "exists": False,
            "layers": {},
        }
        with self.snapshot():
            assert self._conn is not None and self._registry is not None
            info["exists"] = self._registry_exists()
            if not info["exists"]:
                return info
            for name, layer in self._registry.items():
                row = self._conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(
                        sql.Identifier(self.schema, layer.table)
                    )
                ).fetchone()
                info["layers"][name] = int(row[0]) if row else 0
            info["metadata"] = self.metadata()
            info["imports"] = self.imports().to_dict(orient="records")
            incidents = self._registry.get(INCIDENTS)
            if incidents is not None and incidents.kinds.get("occurred_at") == "timestamptz":
                tz = str(info["metadata"].get("timezone", TIMEZONE))
                row = self._conn.execute(
                    sql.SQL(
                        "SELECT min({c} AT TIME ZONE %s), max({c} AT TIME ZONE %s) FROM {t}"
                    ).format(
                        c=sql.Identifier("occurred_at"),
                        t=sql.Identifier(self.schema, incidents.table),
                    ),
                    [tz, tz],
                ).fetchone()
                if row and row[0] is not None:
                    info["period"] = [row[0].date().isoformat(), row[1].date().isoformat()]
        return info

    def check_writable(self) -> None:
        """Raise a clear error now, before a long import, if this user cannot write here.

        Connects (connection errors, exit 3/6) and checks that the user may create the
        schema, or belongs to the role that owns it (exit 5 otherwise). Nothing is written.
        """
        conn = self.connect()
        try:
            row = conn.execute(
                "SELECT n.oid IS NOT NULL, "
                "CASE WHEN n.oid IS NULL THEN has_database_privilege(current_database(), "
                "'CREATE') ELSE pg_has_role(current_user, n.nspowner, 'MEMBER') END, "
                "current_user FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = %s",
                [self.schema],
            ).fetchone()
        finally:
            conn.close()
        assert row is not None
        exists, allowed, user = bool(row[0]), bool(row[1]), str(row[2])
        if not allowed:
            what = "escribir en el esquema" if exists else "crear el esquema"
            raise OutputError(
                f"el usuario {user!r} no puede {what} {self.schema} de {self.path}",
                hint="los lectores solo consultan; para importar use un usuario del rol de "
                "analistas ('parsc-geo workspace init-roles', véase docs/postgis.md)",
            )

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostGISWorkspace]:
        """Hold one database transaction, with the workspace's writer lock, for the block.

        Every write inside the block is committed at its end, or none is. The lock (an
        advisory lock of the schema) makes a second writer wait; reads inside the block
        see the latest committed state and the block's own changes.

        Raises
        ------
        OutputError
            Another writer held the lock for longer than ``PARSC_GEO_LOCK_TIMEOUT`` seconds,
            or this user may not write.
        """
        if self._conn is not None:
            if not self._writing:
                raise RuntimeError("a write inside a read snapshot")  # a programming error
            yield self
            return
        psycopg = _driver()
        conn = self.connect()
        self._conn, self._writing = conn, True
        try:
            self._begin_write(conn)
            yield self
            self._empty_trash(conn)
            conn.commit()
        except psycopg.Error as exc:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise self._database_error(exc, writing=True) from exc
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise
        finally:
            self._conn, self._writing, self._registry = None, False, None
            conn.close()

    def _begin_write(self, conn: psycopg.Connection[Any]) -> None:
        """Take the writer lock, create or check the schema, act as its owner."""
        from psycopg import sql

        from .._lock import timeout_s

        psycopg = _driver()
        key = lock_key(self.schema)
        row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", [key]).fetchone()
        if not (row and row[0]):
            limit = timeout_s()
            logger.warning(
                "el espacio de trabajo %s está en uso por otro proceso de parsc-geo: esperando "
                "a que termine (como máximo %.0f s)…",
                self._shown,
                limit,
            )
            started = time.monotonic()
            conn.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(limit * 1000)}"])
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [key])
            except psycopg.errors.LockNotAvailable:
                raise OutputError(
                    f"el espacio de trabajo {self._shown} está en uso por otro proceso de "
                    f"parsc-geo; se esperó {time.monotonic() - started:.0f} s",
                    hint="espere a que termine y vuelva a ejecutar el comando "
                    "(PARSC_GEO_LOCK_TIMEOUT fija la espera en segundos)",
                ) from None
            conn.execute("SELECT set_config('lock_timeout', '0', true)")
        self._postgis_schema(conn, create=True)
        found = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", [self.schema]).fetchone()
        if not (found and found[0]):
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
        # act as the schema's owner (the analysts' role after init-roles), so that the tables
        # one analyst creates can be changed and replaced by the others
        owner = conn.execute(
            "SELECT n.nspowner::regrole::text, pg_has_role(current_user, n.nspowner, 'MEMBER'), "
            "n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
            "FROM pg_namespace n WHERE n.nspname = %s",
            [self.schema],
        ).fetchone()
        if owner and owner[1] and not owner[2]:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner[0])))
        self._create_tables(conn)
        self._registry = self._read_registry(conn)

    def _create_tables(self, conn: psycopg.Connection[Any]) -> None:
        """Create the workspace's own tables on first use, or bring an old layout up to date."""
        from psycopg import sql

        from .. import __version__

        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", [f"{self.schema}.{VERSION_TABLE}"]
        ).fetchone()
        if row and row[0]:
            return  # version 1 is the only layout so far: nothing to upgrade
        s = self.schema
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (version integer NOT NULL, parsc_geo_version text NOT NULL, "
                "created_at timestamp with time zone NOT NULL DEFAULT now())"
            ).format(sql.Identifier(s, VERSION_TABLE))
        )
        conn.execute(
            sql.SQL("INSERT INTO {} (version, parsc_geo_version) VALUES (%s, %s)").format(
                sql.Identifier(s, VERSION_TABLE)
            ),
            [SCHEMA_VERSION, __version__],
        )
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (name text PRIMARY KEY, table_name text NOT NULL UNIQUE, "
                "generation integer NOT NULL, position integer NOT NULL, columns jsonb NOT NULL, "
                "geometry jsonb, updated_at timestamp with time zone NOT NULL DEFAULT now())"
            ).format(sql.Identifier(s, REGISTRY))
        )
        conn.execute(
            sql.SQL("CREATE TABLE {} (table_name text PRIMARY KEY)").format(
                sql.Identifier(s, TRASH)
            )
        )
        logger.info(
            "espacio de trabajo PostGIS creado: esquema %s en %s (formato %d)",
            s,
            self.path,
            SCHEMA_VERSION,
        )

    def _empty_trash(self, conn: psycopg.Connection[Any]) -> None:
        """Drop replaced tables that no reader holds; leave the others for a later writer."""
        from psycopg import sql

        psycopg = _driver()
        rows = conn.execute(
            sql.SQL("SELECT table_name FROM {} ORDER BY table_name").format(
                sql.Identifier(self.schema, TRASH)
            )
        ).fetchall()
        for (table,) in rows:
            name = sql.Identifier(self.schema, table)
            try:
                with conn.transaction():  # a savepoint: a held table leaves the rest intact
                    conn.execute(
                        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(name)
                    )
                    conn.execute(sql.SQL("DROP TABLE {}").format(name))
                    conn.execute(
                        sql.SQL("DELETE FROM {} WHERE table_name = %s").format(
                            sql.Identifier(self.schema, TRASH)
                        ),
                        [table],
                    )
            except psycopg.errors.LockNotAvailable:
                logger.debug("tabla %s en uso por un lector: se borrará más tarde", table)

    def _store(self, name: str, data: Any, *, append: bool) -> None:
        """Write ``data`` to layer ``name``: replace its rows, or append to them."""
        _check_layer_name(name)
        with self.transaction():
            conn = self._conn
            assert conn is not None and self._registry is not None
            frame, geometry = _split_geometry(data)
            columns = _columns_of(frame)
            layer = self._registry.get(name)
            if append and layer is not None and geometry is not None and layer.geometry:
                geometry = _to_layer_crs(geometry, layer.geometry)
            spec = _geometry_spec(geometry) if geometry is not None else None
            if layer is None:
                layer = self._new_table(conn, name, columns, spec, previous=None)
            elif append:
                if (spec is None) != (layer.geometry is None):
                    raise OutputError(
                        f"no se pueden añadir filas {'con' if spec else 'sin'} geometría a la "
                        f"capa {name!r} del espacio de trabajo {self._shown}"
                    )
                merged = _merge_columns(layer.columns, columns)
                if merged != layer.columns:
                    layer = self._new_table(conn, name, merged, layer.geometry, previous=layer)
            else:
                same_geometry = (spec is None and layer.geometry is None) or (
                    spec is not None
                    and layer.geometry is not None
                    and spec["srid"] == layer.geometry["srid"]
                    and spec["crs"] == layer.geometry["crs"]
                    and spec["column"] == layer.geometry["column"]
                )
                if tuple(columns) == layer.columns and same_geometry:
                    conn.execute(
                        sql_delete_all(self.schema, layer.table)  # MVCC-safe, unlike TRUNCATE
                    )
                else:
                    layer = self._new_table(conn, name, columns, spec, previous=None, old=layer)
            self._copy_rows(conn, layer, frame, geometry)

    def _new_table(
        self,
        conn: psycopg.Connection[Any],
        name: str,
        columns: list[tuple[str, str]] | tuple[tuple[str, str], ...],
        spec: dict[str, Any] | None,
        *,
        previous: Layer | None,
        old: Layer | None = None,
    ) -> Layer:
        """Create the next generation of a layer's table; register it; trash the old one.

        ``previous`` is a table whose rows are copied (an append that adds or widens
        columns); ``old`` one whose rows are not (a replacement with another shape).
        """
        from psycopg import sql
        from psycopg.types.json import Jsonb

        assert self._registry is not None
        before = previous or old
        generation = before.generation + 1 if before else 1
        table = name if generation == 1 else f"{name}__{generation}"
        position = (
            before.position
            if before
            else max((x.position for x in self._registry.values()), default=0) + 1
        )
        s = self.schema
        geometry_type = sql.Identifier(self._postgis_schema(conn, create=False), "geometry")
        defs = [
            sql.SQL("{} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY").format(
                sql.Identifier(ORDER_COLUMN)
            )
        ]
        defs += [
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_SQL_TYPES[k])) for c, k in columns
        ]
        if spec is not None:
            defs.append(
                sql.SQL("{} {}(Geometry, {})").format(
                    sql.Identifier(spec["column"]), geometry_type, sql.Literal(int(spec["srid"]))
                )
            )
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(s, table), sql.SQL(", ").join(defs)
            )
        )
        if previous is not None:
            kinds = dict(columns)
            kept = [c for c, _ in previous.columns]
            casts: list[sql.Composable] = [
                sql.SQL("{}::{}").format(sql.Identifier(c), sql.SQL(_SQL_TYPES[kinds[c]]))
                for c in kept
            ]
            targets: list[sql.Composable] = [sql.Identifier(c) for c in kept]
            if spec is not None:
                casts.append(sql.Identifier(spec["column"]))
                targets.append(sql.Identifier(spec["column"]))
            if targets:
                conn.execute(
                    sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY {}").format(
                        sql.Identifier(s, table),
                        sql.SQL(", ").join(targets),
                        sql.SQL(", ").join(casts),
                        sql.Identifier(s, previous.table),
                        sql.Identifier(ORDER_COLUMN),
                    )
                )
        if spec is not None:
            conn.execute(
                sql.SQL("CREATE INDEX ON {} USING gist ({})").format(
                    sql.Identifier(s, table), sql.Identifier(spec["column"])
                )
            )
        if name == INCIDENTS and "incident_id" in dict(columns):
            # the database itself refuses a second copy of an incident
            conn.execute(
                sql.SQL("CREATE UNIQUE INDEX ON {} ({})").format(
                    sql.Identifier(s, table), sql.Identifier("incident_id")
                )
            )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (name, table_name, generation, position, columns, geometry) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                "table_name = EXCLUDED.table_name, generation = EXCLUDED.generation, "
                "columns = EXCLUDED.columns, geometry = EXCLUDED.geometry, updated_at = now()"
            ).format(sql.Identifier(s, REGISTRY)),
            [
                name,
                table,
                generation,
                position,
                Jsonb([list(c) for c in columns]),
                Jsonb(spec) if spec is not None else None,
            ],
        )
        if before is not None:
            conn.execute(
                sql.SQL("INSERT INTO {} (table_name) VALUES (%s) ON CONFLICT DO NOTHING").format(
                    sql.Identifier(s, TRASH)
                ),
                [before.table],
            )
        layer = Layer(name, table, generation, position, tuple(columns), spec)
        self._registry[name] = layer
        return layer

    def _copy_rows(
        self,
        conn: psycopg.Connection[Any],
        layer: Layer,
        frame: pd.DataFrame,
        geometry: Any,
    ) -> None:
        """Append the rows of ``frame`` (and ``geometry``) to the layer's table with COPY."""
        from psycopg import sql

        if not len(frame):
            return
        kinds = layer.kinds
        names = [c for c in frame.columns if c in kinds]
        arrays = [_column_to_db(frame[c], kinds[c]) for c in names]
        if geometry is not None and layer.geometry is not None:
            arrays.append(_ewkb(geometry, int(layer.geometry["srid"])))
            names.append(layer.geometry["column"])
        if not names:  # a table without columns: rows of defaults
            conn.execute(
                sql.SQL("INSERT INTO {} SELECT FROM generate_series(1, %s)").format(
                    sql.Identifier(self.schema, layer.table)
                ),
                [len(frame)],
            )
            return
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.schema, layer.table),
            sql.SQL(", ").join(sql.Identifier(c) for c in names),
        )
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for row in zip(*arrays, strict=True):
                copy.write_row(row)

    def write_layer(self, name: str, data: Any) -> None:
        """Write (replace) a layer: a GeoDataFrame, or a DataFrame as an attribute table."""
        self._store(name, data, append=False)

    def set_metadata(self, **values: Any) -> None:
        """Set metadata keys (values must be JSON-serialisable)."""
        import pandas as pd

        with self.transaction():
            current = self.metadata()
            current.update(values)
            table = pd.DataFrame(
                {
                    "key": list(current),
                    "value": [
                        json.dumps(v, ensure_ascii=False, sort_keys=True) for v in current.values()
                    ],
                },
                dtype=object,
            )
            self._store(METADATA, table, append=False)

    def write_sectors(self, sectors: gpd.GeoDataFrame) -> None:
        """Store (replace) the comisaría sector layer."""
        self._store(SECTORS, sectors.to_crs("EPSG:4326"), append=False)

    def import_incidents(
        self,
        accepted: gpd.GeoDataFrame | Sequence[Partition],
        quarantine: pd.DataFrame,
        *,
        sources: list[dict[str, Any]],
        sectors: gpd.GeoDataFrame | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add new incidents and quarantine rows in one transaction.

        The rules (and the returned counts) are those of
        :meth:`parsc_geo.workspace.gpkg.Workspace.import_incidents`: only accepted incident
        ids are de-duplicated, a file imported before is evaluated again and its quarantine
        replaces the earlier one. Everything is read after the writer lock is taken, so two
        imports at once both keep their rows. ``accepted`` is the table or the partitions
        holding it: their chunks are read and copied into the transaction one at a time, and
        each chunk's ids are looked up in the table, which holds those of the chunks before.
        """
        from .importing import ImportRules, accepted_chunks

        with self.transaction():
            rules = ImportRules(
                quarantine,
                sources=sources,
                previous_imports=self.imports(),
                read_quarantine=self.read_quarantine,
            )
            for chunk, _ in accepted_chunks(accepted):
                new_rows = rules.new_rows(chunk, self._stored_ids(chunk["incident_id"]))
                if len(new_rows):
                    self._store(INCIDENTS, new_rows, append=True)
                del chunk, new_rows  # the next chunk is loaded without this one
            plan = rules.plan()
            if plan.quarantine_kept is not None:
                self._store(QUARANTINE, plan.replaced_quarantine(), append=False)
            elif len(plan.quarantine_new):
                self._store(QUARANTINE, plan.quarantine_new, append=True)
            if len(plan.log):
                self._store(IMPORTS, plan.log, append=True)
            if sectors is not None:
                self.write_sectors(sectors)
            if metadata:
                self.set_metadata(**metadata)
            return plan.summary

    def _stored_ids(self, ids: pd.Series) -> set[str]:
        """Return which of ``ids`` are already stored (asked of the database, not read whole)."""
        from psycopg import sql

        assert self._conn is not None and self._registry is not None
        layer = self._registry.get(INCIDENTS)
        if layer is None or "incident_id" not in layer.kinds or not len(ids):
            return set()
        wanted = sorted(set(ids.astype(str)))
        column = sql.Identifier("incident_id")
        if layer.kinds["incident_id"] != "text":
            column = sql.SQL("{}::text").format(column)  # type: ignore[assignment]
        rows = self._conn.execute(
            sql.SQL("SELECT {c} FROM {t} WHERE {c} = ANY(%s)").format(
                c=column, t=sql.Identifier(self.schema, layer.table)
            ),
            [wanted],
        ).fetchall()
        return {str(r[0]) for r in rows}


# -- tables and frames ---------------------------------------------------------------------------


def sql_delete_all(schema: str, table: str) -> Any:
    """``DELETE FROM schema.table`` (an old snapshot still sees the rows, unlike TRUNCATE)."""
    from psycopg import sql

    return sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, table))


def _check_layer_name(name: str) -> None:
    import re

    reserved = {REGISTRY, VERSION_TABLE, TRASH}
    if (
        not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
        or len(name) > _MAX_IDENTIFIER - 8
        or name in reserved
        or "__" in name
    ):
        raise OutputError(
            f"nombre de capa no válido para un espacio de trabajo PostGIS: {name!r}",
            hint="use letras sin tildes, cifras y '_' (sin '__'), hasta 55 caracteres",
        )


def _split_geometry(data: Any) -> tuple[pd.DataFrame, Any]:
    """Return the attribute columns of ``data`` and its active geometry (or None)."""
    import geopandas as gpd
    import pandas as pd

    active = data.active_geometry_name if isinstance(data, gpd.GeoDataFrame) else None
    if active is not None and active in data.columns:
        geometry = data.geometry
        frame = pd.DataFrame(data.drop(columns=[geometry.name]))
        others = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
        for col in others:  # other geometry columns are kept as WKT text
            frame[col] = frame[col].to_wkt()
        return frame, geometry
    return pd.DataFrame(data), None


def _geometry_spec(geometry: Any) -> dict[str, Any]:
    crs = geometry.crs
    epsg = crs.to_epsg() if crs is not None else None
    types = sorted({str(t) for t in geometry.geom_type.dropna().unique()})
    return {
        "column": str(geometry.name),
        "srid": int(epsg) if epsg is not None else 0,
        "crs": (f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()) if crs is not None else None,
        "types": types,
    }


def _to_layer_crs(geometry: Any, spec: dict[str, Any]) -> Any:
    """Reproject ``geometry`` to the layer's CRS when appending rows in another one."""
    from pyproj import CRS

    if spec.get("crs") and geometry.crs is not None and CRS(spec["crs"]) != geometry.crs:
        moved = geometry.to_crs(spec["crs"])
        moved.name = geometry.name
        return moved
    return geometry


def _kind(series: pd.Series) -> str:
    """Return the column kind that stores ``series`` without loss."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamptz"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp"
    values = series.dropna()
    if len(values) and all(type(v) is bool for v in values.tolist()):
        return "boolean"
    return "text"


def _columns_of(frame: pd.DataFrame) -> list[tuple[str, str]]:
    names = [str(c) for c in frame.columns]
    problems = [n for n in names if len(n.encode()) > _MAX_IDENTIFIER or n == ORDER_COLUMN or not n]
    if problems or len(set(names)) != len(names):
        raise OutputError(
            "columnas que PostGIS no puede guardar tal cual: "
            + ", ".join(repr(n) for n in (problems or names)),
            hint=f"nombres únicos, no vacíos, de hasta {_MAX_IDENTIFIER} bytes y distintos "
            f"de {ORDER_COLUMN!r}",
        )
    return [(n, _kind(frame[c])) for n, c in zip(names, frame.columns, strict=True)]


def _widen(stored: str, new: str) -> str:
    if stored == new:
        return stored
    if {stored, new} == {"bigint", "double"}:
        return "double"
    return "text"


def _merge_columns(
    stored: tuple[tuple[str, str], ...], new: list[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """Return the columns that hold both the stored rows and the new ones."""
    kinds = dict(new)
    merged = [(c, _widen(k, kinds[c]) if c in kinds else k) for c, k in stored]
    have = {c for c, _ in stored}
    merged += [(c, k) for c, k in new if c not in have]
    return tuple(merged)


def _column_to_db(series: pd.Series, kind: str) -> list[Any]:
    """Python values of ``series`` for a column of ``kind`` (None for missing values)."""
    import pandas as pd

    missing = series.isna().to_numpy()
    if kind in ("timestamptz", "timestamp"):
        times = pd.to_datetime(series, utc=kind == "timestamptz", errors="coerce")
        missing = missing | times.isna().to_numpy()
        values: list[Any] = list(times.dt.to_pydatetime())
        return [None if m else v for v, m in zip(values, missing, strict=True)]
    raw = series.astype(object).tolist()
    if kind == "boolean":
        convert: Any = bool
    elif kind == "bigint":
        convert = int
    elif kind == "double":
        convert = float
    else:
        convert = _text
    return [None if m else convert(v) for v, m in zip(raw, missing, strict=True)]


def _text(value: Any) -> str:
    """Text for PostgreSQL, which cannot hold NUL: it becomes U+FFFD (replacement character)."""
    text = value if type(value) is str else str(value)
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _column_from_db(values: tuple[Any, ...], kind: str) -> Any:
    """Return a pandas column from database values of ``kind``."""
    import numpy as np
    import pandas as pd

    has_null = None in values  # a C-level scan
    if kind == "boolean":
        return np.asarray(values, dtype=object if has_null else bool)
    if kind == "bigint":
        return np.asarray(values, dtype=float if has_null else np.int64)
    if kind == "double":
        return np.asarray(values, dtype=float)
    if kind == "timestamptz":
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    if kind == "timestamp":
        return pd.to_datetime(pd.Series(values, dtype=object))
    return np.asarray(values, dtype=object)


def _ewkb(geometry: Any, srid: int) -> list[str | None]:
    """Hex EWKB of each geometry with the layer's SRID (what PostGIS reads in COPY)."""
    import numpy as np
    import shapely

    geoms = np.asarray(geometry.array, dtype=object)
    if srid:
        geoms = shapely.set_srid(geoms, srid)
    out = shapely.to_wkb(geoms, hex=True, include_srid=bool(srid))
    return [None if v is None else str(v) for v in out]
