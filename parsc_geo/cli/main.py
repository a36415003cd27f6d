"""The ``parsc-geo`` command group.

Commands are loaded lazily (one module per command in this package) so that
``parsc-geo --help`` is instant. User mistakes raise :class:`parsc_geo._errors.ParscGeoError`,
which the group turns into a message on stderr and the documented exit code (see
:mod:`parsc_geo._errors`); ``-v`` shows the traceback as well.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import sys
import traceback
from typing import Any, NoReturn

import click

from .. import __version__
from .._errors import EXIT_INTERNAL, EXIT_OUTPUT, ParscGeoError
from .._text import terminal_text
from ..i18n import LANGUAGES, _, choose_language
from .localized import Group, option

#: command name → (module in parsc_geo.cli, short help shown by ``parsc-geo --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("ingest", "Import incident files into the workspace (validated, assigned)."),
    "validate": ("validate", "Check incident files and write a report; import nothing."),
    "info": ("info", "Describe a workspace or an incident file."),
    "workspace": ("workspace", "Set up a team's PostGIS workspace (analyst and viewer roles)."),
    "sample": ("sample", "Generate the synthetic sample mapa del delito."),
    "density": ("density", "Kernel density of incidents as a GeoTIFF."),
    "hotspots": ("hotspots", "Find hotspots (kde, dbscan, hdbscan, gistar, auto)."),
    "evaluate": ("evaluate", "Score hotspot methods as forecasts (hit rate, PAI, PEI*)."),
    "rank": ("rank", "Rank hotspots per province, comisaría and sector."),
    "map": ("map", "Interactive HTML maps per province and comisaría, with an atlas."),
    "trends": ("trends", "Emerging hot spots: space-time cube, Gi*, trends, 17 patterns."),
    "near-repeat": ("near_repeat", "Near-repeat risk: Knox test over distance and time bands."),
    "priority": ("priority", "Priority territories per fenómeno (plan section 2.8)."),
    "patrol": ("patrol", "Patrol plans per comisaría sector (PDF, PNG, CSV, GeoPackage)."),
    "sectors": ("sectors", "Evaluate comisaría sectors or design balanced ones."),
    "run": ("run", "Run the whole chain from a CONFIG.toml."),
    "demo": ("demo", "Run the whole chain on the bundled synthetic sample."),
}

EPILOG = """\b
Exit codes: 0 ok, 1 internal error, 2 usage error, 3 input data error,
4 configuration error, 5 output error, 6 missing optional component.

\b
Examples:
  parsc-geo demo
  parsc-geo ingest incidents/mapa_delito.csv --report report.json
  parsc-geo hotspots --method gistar -o out/
"""


#: Prefixes of the lines of warnings and errors.
_PREFIXES = {logging.WARNING: "Aviso: ", logging.ERROR: "Error: ", logging.CRITICAL: "Error: "}


class MessageHandler(logging.Handler):
    """The one handler of the command line: parsc-geo's log messages, as lines on stderr.

    Messages are already Spanish sentences; warnings and errors get a prefix. ``-q`` shows
    only warnings and errors, ``-v`` adds debugging detail.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Write one message to stderr (through click, so tests capture it)."""
        try:
            prefix = _PREFIXES.get(record.levelno, "")
            click.echo(terminal_text(prefix + record.getMessage()), err=True)
        except Exception:  # a broken stream must not break the command
            self.handleError(record)


_HANDLER = MessageHandler()


def configure_messages(ctx: click.Context, *, quiet: bool, verbose: bool) -> None:
    """Route parsc-geo's messages to the CLI handler at the level ``-q``/``-v`` ask for.

    The library's default handler (:data:`parsc_geo._messages.DEFAULT_HANDLER`) steps aside
    while the command runs and comes back when it ends.
    """
    from .._messages import DEFAULT_HANDLER, ROOT

    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    root = logging.getLogger(ROOT)
    previous_level = root.level
    had_default = DEFAULT_HANDLER in root.handlers
    root.removeHandler(DEFAULT_HANDLER)
    root.addHandler(_HANDLER)
    root.setLevel(level)
    _HANDLER.setLevel(level)

    def restore() -> None:
        root.removeHandler(_HANDLER)
        root.setLevel(previous_level)
        if had_default:
            root.addHandler(DEFAULT_HANDLER)

    ctx.call_on_close(restore)


class LazyGroup(Group):
    """A click group whose commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the names of all registered commands, sorted."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return the command ``cmd_name`` (None if unknown)."""
        if cmd_name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[cmd_name]
        try:
            module = importlib.import_module(f"parsc_geo.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"parsc_geo.cli.{module_name}":
                return None
            raise
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands with their short help without importing them."""
        rows = [(name, _(COMMANDS[name][1])) for name in self.list_commands(ctx)]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, turning parsc-geo errors into messages and exit codes."""
        try:
            return super().invoke(ctx)
        except ParscGeoError as exc:
            verbose = bool(ctx.meta.get("parsc_geo.verbose"))
            if verbose:
                traceback.print_exc()
            click.secho(terminal_text(f"Error: {exc}"), fg="red", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.secho("Interrumpido.", fg="red", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # the reader of our output went away (``parsc-geo info … | head``): not a bug.
            # Later writes (and the interpreter's final flush) go to /dev/null, and the exit
            # code says the output is incomplete.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            click.secho(
                "Error: la salida se cerró antes de terminar (p. ej. con | head); "
                "lo escrito está incompleto",
                fg="red",
                err=True,
            )
            ctx.exit(EXIT_OUTPUT)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                _internal(ctx, exc)
            # a name the file system cannot hold, met before an explicit check could see it
            if ctx.meta.get("parsc_geo.verbose"):
                traceback.print_exc()
            name = os.fsdecode(exc.filename) if exc.filename is not None else "?"
            shown = name if len(name) <= 80 else f"{name[:50]}…{name[-20:]}"
            click.secho(
                f"Error: el nombre de archivo {shown!r} es demasiado largo para el sistema de "
                "archivos (máximo 255 bytes por nombre)\n"
                "  Sugerencia: elija un nombre más corto",
                fg="red",
                err=True,
            )
            ctx.exit(EXIT_OUTPUT)
        except Exception as exc:
            _internal(ctx, exc)


def _internal(ctx: click.Context, exc: BaseException) -> NoReturn:
    """Report an unexpected error (a bug) and exit 1."""
    if ctx.meta.get("parsc_geo.verbose"):
        traceback.print_exc()
    click.secho(
        terminal_text(f"Error interno: {type(exc).__name__}: {exc}\n")
        + "  Es un fallo de parsc-geo. Vuelva a ejecutar con -v e informe la salida.",
        fg="red",
        err=True,
    )
    ctx.exit(EXIT_INTERNAL)


def _choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Speak the language of ``--lang`` from here on (it is eager: before ``--help``)."""
    if value is not None:
        choose_language(value)


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(_("%(prog)s, version %(version)s") % {"prog": "parsc-geo", "version": __version__})
    ctx.exit()


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@option(
    "--lang",
    type=click.Choice(LANGUAGES),
    is_eager=True,
    expose_value=False,
    callback=_choose_language,
    help="Language of help and messages: es (Spanish) or en (English)  [default: es, or en "
    "when LANGUAGE, LC_ALL, LC_MESSAGES or LANG name English].",
)
@option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_show_version,
    help="Show the version and exit.",
)
@option("-v", "--verbose", is_flag=True, help="Show tracebacks and debugging detail.")
@option("-q", "--quiet", is_flag=True, help="Print only errors and final summaries.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """parsc-geo: crime maps of Peru's police stations → hotspots, patrol plans and maps."""
    ctx.meta["parsc_geo.verbose"] = verbose
    ctx.meta["parsc_geo.quiet"] = quiet
    configure_messages(ctx, quiet=quiet, verbose=verbose)


def main() -> None:
    """Entry point for ``python -m parsc_geo``."""
    cli(prog_name="parsc-geo")


if __name__ == "__main__":  # pragma: no cover
    main()
