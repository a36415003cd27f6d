"""``parsc-geo workspace``: set up a team's PostGIS workspace (roles of analysts and viewers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from . import localized
from .options import WorkspaceTarget

if TYPE_CHECKING:
    from pathlib import Path

    from ..workspace.location import DatabaseURL


@localized.group(
    name="workspace",
    epilog="""\b
Examples:
  parsc-geo workspace init-roles -w postgresql://postgres@servidor/observatorio \\
      --analyst ana --viewer visor
  parsc-geo workspace init-roles -w postgresql://postgres@servidor/observatorio --print-sql
""",
)
def command() -> None:
    """Set up a team's workspace in PostGIS (see docs/postgis.md)."""


@command.command(
    name="init-roles",
    epilog="""\b
Examples:
  parsc-geo workspace init-roles -w postgresql://postgres@servidor/observatorio \\
      --analyst ana --analyst beto --viewer visor
  parsc-geo workspace init-roles -w "postgresql://postgres@servidor/obs?schema=arequipa" \\
      --print-sql
""",
)
@localized.option(
    "--workspace",
    "-w",
    type=WorkspaceTarget(),
    required=True,
    help="The PostGIS workspace: postgresql://admin@host:port/db[?schema=NAME].",
)
@localized.option(
    "--analyst", "analysts", multiple=True, help="Login role that may write (repeat)."
)
@localized.option(
    "--viewer", "viewers", multiple=True, help="Login role that may only read (repeat)."
)
@localized.option(
    "--print-sql", is_flag=True, help="Print the SQL for an administrator; change nothing."
)
def init_roles_command(
    workspace: Path | DatabaseURL,
    analysts: tuple[str, ...],
    viewers: tuple[str, ...],
    print_sql: bool,
) -> None:
    """Create the workspace and its roles: <schema>_analistas write, <schema>_lectores read.

    Run it as a database administrator. The analysts' role owns the schema and its tables
    (every analyst can change every layer); the viewers' role may read them, now and later.
    The login roles given must exist (create them in psql with CREATE ROLE … LOGIN PASSWORD;
    parsc-geo never handles passwords). Running it again is harmless.
    """
    from .._errors import ConfigError
    from ..workspace.location import DatabaseURL
    from ..workspace.postgis import PostGISWorkspace
    from ..workspace.roles import TeamRoles, init_roles

    if not isinstance(workspace, DatabaseURL):
        raise ConfigError(
            f"{workspace} no es un espacio de trabajo PostGIS",
            hint="los roles solo existen en PostGIS: -w postgresql://admin@servidor/base",
        )
    ws = PostGISWorkspace(workspace)
    statements = init_roles(ws, analysts=analysts, viewers=viewers, dry_run=print_sql)
    if print_sql:
        click.echo("\n".join(statements))
        return
    roles = TeamRoles.of(ws.schema)
    click.echo(f"Espacio de trabajo {ws.path} (esquema {ws.schema}):")
    click.echo(f"  {roles.analysts}: escriben" + (f" ({', '.join(analysts)})" if analysts else ""))
    click.echo(f"  {roles.viewers}: solo leen" + (f" ({', '.join(viewers)})" if viewers else ""))
