"""Roles of a team's PostGIS workspace: analysts who write, viewers who only read.

:func:`role_statements` returns the SQL (also printed by ``parsc-geo workspace init-roles
--print-sql`` and shown in ``docs/postgis.md``); :func:`init_roles` runs it, as a database
administrator, in one transaction. For a workspace schema ``S``:

``S_analistas`` (no login)
    Owns the schema and every table in it. Writers act as this role (``SET ROLE``), so the
    tables one analyst creates can be changed and replaced by every other analyst.
``S_lectores`` (no login)
    May read every table of the schema, now and later (default privileges), and nothing
    else: an import by a viewer is refused (exit 5) before any work.

People log in with their own roles (``CREATE ROLE ana LOGIN PASSWORD …``, run by the
administrator in ``psql``: parsc-geo never handles passwords) and are made members of one of
the two groups. Role names come from the command line and are always quoted as identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, OutputError

if TYPE_CHECKING:
    from psycopg import sql

    from .postgis import PostGISWorkspace

_ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$.-]{0,62}")


@dataclass(frozen=True)
class TeamRoles:
    """The two group roles of a workspace schema."""

    analysts: str
    viewers: str

    @classmethod
    def of(cls, schema: str) -> TeamRoles:
        """Return the roles of ``schema``: ``<schema>_analistas`` and ``<schema>_lectores``."""
        return cls(analysts=f"{schema}_analistas", viewers=f"{schema}_lectores")


def check_role_names(names: Sequence[str]) -> None:
    """Refuse role names PostgreSQL would cut or that are empty (exit 4)."""
    bad = [n for n in names if not _ROLE_NAME.fullmatch(n)]
    if bad:
        raise ConfigError(
            f"nombres de rol no válidos: {', '.join(repr(n) for n in bad)}",
            hint="use letras sin tildes, cifras y '_' (hasta 63 caracteres)",
        )


def role_statements(
    schema: str,
    database: str,
    *,
    analysts: Sequence[str] = (),
    viewers: Sequence[str] = (),
    existing_roles: frozenset[str] = frozenset(),
    tables: Sequence[str] = (),
) -> list[sql.Composed]:
    """Return the SQL that sets up the roles of a workspace schema.

    Parameters
    ----------
    schema, database
        The workspace schema and its database.
    analysts, viewers
        Existing login roles to make members of each group.
    existing_roles
        Roles that already exist (their ``CREATE ROLE`` is left out).
    tables
        Tables already in the schema (handed over to the analysts' role).
    """
    from psycopg import sql

    roles = TeamRoles.of(schema)
    a, v = sql.Identifier(roles.analysts), sql.Identifier(roles.viewers)
    s = sql.Identifier(schema)
    out: list[sql.Composed] = []
    for name in (roles.analysts, roles.viewers):
        if name not in existing_roles:
            out.append(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
    out += [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(sql.Identifier(database), a, v),
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s),
        sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(s, a),
    ]
    out += [
        sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(schema, t), a) for t in tables
    ]
    out += [
        sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(s),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, v),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(s, v),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}"
        ).format(a, s, v),
    ]
    out += [sql.SQL("GRANT {} TO {}").format(a, sql.Identifier(n)) for n in analysts]
    out += [sql.SQL("GRANT {} TO {}").format(v, sql.Identifier(n)) for n in viewers]
    return out


def init_roles(
    ws: PostGISWorkspace,
    *,
    analysts: Sequence[str] = (),
    viewers: Sequence[str] = (),
    dry_run: bool = False,
) -> list[str]:
    """Create the workspace (if new) and its roles; return the SQL run (or to run).

    Run as a database administrator (a role that may create roles and owns the schema, e.g.
    ``postgres``). Running it again is harmless: existing roles are kept, grants repeated.

    Raises
    ------
    ConfigError
        A role name is not valid (exit 4).
    OutputError
        A role to add does not exist, or the user may not create roles (exit 5).
    """
    check_role_names([*analysts, *viewers])
    from .postgis import _driver

    psycopg = _driver()
    if not dry_run:
        with ws.transaction():
            pass  # creates the schema and the workspace's own tables on first use
    conn: Any = ws.connect()
    try:
        roles = TeamRoles.of(ws.schema)
        names = [roles.analysts, roles.viewers, *analysts, *viewers]
        rows = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [names]
        ).fetchall()
        existing = frozenset(str(r[0]) for r in rows)
        missing = [n for n in (*analysts, *viewers) if n not in existing]
        if missing:
            raise OutputError(
                f"no existen los roles {', '.join(missing)}",
                hint="créelos antes en psql, p. ej. CREATE ROLE ana LOGIN PASSWORD '…'; "
                "(parsc-geo nunca maneja contraseñas)",
            )
        database = str(conn.execute("SELECT current_database()").fetchone()[0])
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                [ws.schema],
            ).fetchall()
        ]
        statements = role_statements(
            ws.schema,
            database,
            analysts=analysts,
            viewers=viewers,
            existing_roles=existing,
            tables=tables,
        )
        shown = [s.as_string(conn) + ";" for s in statements]
        if dry_run:
            return shown
        try:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        except psycopg.errors.InsufficientPrivilege as exc:
            raise OutputError(
                f"el usuario de {ws.path} no puede crear los roles del espacio de trabajo: "
                f"{ws.url.scrub(str(exc).splitlines()[0])}",
                hint="ejecute init-roles con un administrador de la base (p. ej. postgres), "
                "o pídale que ejecute el SQL de 'parsc-geo workspace init-roles --print-sql'",
            ) from None
        return shown
    finally:
        conn.close()
