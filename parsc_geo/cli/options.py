"""Options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_WORKSPACE = Path("workspace.gpkg")

workspace_option = click.option(
    "--workspace",
    "-w",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_WORKSPACE,
    show_default=True,
    help="Workspace GeoPackage (created if missing).",
)

overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace outputs that already exist."
)

output_dir_option = click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.",
)


def is_quiet(ctx: click.Context) -> bool:
    """Return whether ``-q`` was given to the group."""
    root = ctx.find_root()
    return bool(root.meta.get("parsc_geo.quiet"))
