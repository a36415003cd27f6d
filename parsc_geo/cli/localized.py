"""click commands and options whose help speaks the user's language, and deprecated spellings.

Help texts stay written in English in the command modules: they are the msgids of the catalog
(:mod:`parsc_geo.i18n`) and are translated when the help is shown, not when the module is
imported, so one process can show the help in either language. Every command, group, option
and argument of ``parsc-geo`` is made with the classes of this module (``command``, ``group``,
``option``, ``argument`` below, used like click's decorators).

A renamed option keeps its old spelling as a hidden, deprecated alias
(:class:`Alias`): scripts that use it go on working and get a notice naming the new spelling.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from ..i18n import _, speaking_click

F = TypeVar("F", bound=Callable[..., Any])

#: click's msgid of the ``--help`` option.
HELP_MSGID = "Show this message and exit."


def translate_text(text: str) -> str:
    r"""Translate a help text: the whole text, else paragraph by paragraph.

    In a paragraph, lines indented by two spaces or more (command lines of examples) are kept
    as they are; the other lines together are one msgid; ``\b`` markers are kept.
    """
    whole = _(text)
    if whole != text:
        return whole
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        prose = [line for line in lines if line and line != "\b" and not line.startswith("  ")]
        if not prose:
            out.append(paragraph)
            continue
        translated = _("\n".join(prose)).split("\n")
        rebuilt: list[str] = []
        for line in lines:
            if line and line != "\b" and not line.startswith("  "):
                if translated is not None:
                    rebuilt.extend(translated)
                    translated = None  # type: ignore[assignment]
            else:
                rebuilt.append(line)
        out.append("\n".join(rebuilt))
    return "\n\n".join(out)


@dataclass(frozen=True)
class Alias:
    """An old spelling of an option, still accepted with a notice.

    Parameters
    ----------
    old
        The old spelling (``--by``).
    new
        The option it now means (``--rank-by``).
    values
        Old values → new ones (``{"n": None}``: ``--risk n`` means leaving the new option
        out); values not listed are passed on unchanged.
    """

    old: str
    new: str
    values: Mapping[str, str | None] = field(default_factory=dict)


def _rewrite(args: list[str], aliases: Sequence[Alias]) -> tuple[list[str], list[Alias]]:
    """Replace old spellings by the new ones in a command line (up to ``--``)."""
    by_old = {alias.old: alias for alias in aliases}
    out: list[str] = []
    used: list[Alias] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            out.extend(args[i:])
            break
        name, eq, inline = token.partition("=")
        alias = by_old.get(name)
        if alias is None:
            out.append(token)
            i += 1
            continue
        used.append(alias)
        if not alias.values:
            out.append(alias.new + eq + inline)
            i += 1
            continue
        if eq:
            value, i = inline, i + 1
        elif i + 1 < len(args):
            value, i = args[i + 1], i + 2
        else:  # no value: let the new option report it
            out.append(alias.new)
            break
        new_value = alias.values.get(value, value)
        if new_value is not None:
            out += [alias.new, new_value]
    return out, used


class Option(click.Option):
    """A click option whose help text and metavar are translated when shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        """Return the option's row of the help, in the current language."""
        original = self.help
        if original:
            self.help = translate_text(inspect.cleandoc(original))
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = original

    def make_metavar(self, ctx: click.Context) -> str:
        """Return the metavar (``METROS``, ``TEXTO``) in the current language."""
        return _(super().make_metavar(ctx))


class Argument(click.Argument):
    """A click argument whose metavar is translated when shown."""

    def make_metavar(self, ctx: click.Context) -> str:
        """Return the metavar (``[ENTRADA]``, ``ARCHIVOS...``) in the current language."""
        return _(super().make_metavar(ctx))


class LocalizedMixin:
    """Translation of a command's help, usage pieces and epilog; old option spellings."""

    help: str | None
    short_help: str | None
    epilog: str | None
    aliases: tuple[Alias, ...] = ()

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command's help text in the current language."""
        original = self.help
        if original:
            text = inspect.cleandoc(original).partition("\f")[0]
            self.help = translate_text(text)
        try:
            super().format_help_text(ctx, formatter)  # type: ignore[misc]
        finally:
            self.help = original

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the epilog (exit codes, examples) in the current language."""
        original = self.epilog
        if original:
            self.epilog = translate_text(inspect.cleandoc(original))
        try:
            super().format_epilog(ctx, formatter)  # type: ignore[misc]
        finally:
            self.epilog = original

    def get_short_help_str(self, limit: int = 45) -> str:
        """Return the one-line help of the command, in the current language."""
        original = (self.short_help, self.help)
        if self.short_help:
            self.short_help = _(inspect.cleandoc(self.short_help))
        elif self.help:
            self.help = translate_text(inspect.cleandoc(self.help).partition("\f")[0])
        try:
            return super().get_short_help_str(limit)  # type: ignore[misc]
        finally:
            self.short_help, self.help = original

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """Return ``--help``, its text translated when shown (click builds it only once)."""
        help_option: click.Option | None = super().get_help_option(ctx)  # type: ignore[misc]
        if help_option is not None and not isinstance(help_option, Option):
            help_option.__class__ = Option
            help_option.help = HELP_MSGID
        return help_option

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """Return the pieces of the usage line (``[OPCIONES]`` …), in the current language."""
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        return [_(piece) for piece in pieces]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Accept old option spellings (with a notice on stderr), then parse."""
        if self.aliases:
            args, used = _rewrite(args, self.aliases)
            for alias in used:
                click.echo(
                    _("Warning: {old} is deprecated and will be removed; use {new}.").format(
                        old=alias.old, new=alias.new
                    ),
                    err=True,
                )
        result: list[str] = super().parse_args(ctx, args)  # type: ignore[misc]
        return result

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command with click's own messages in the current language."""
        with speaking_click():
            return super().main(*args, **kwargs)  # type: ignore[misc]


class Command(LocalizedMixin, click.Command):
    """A parsc-geo command (help translated when shown, old spellings accepted)."""

    def __init__(self, *args: Any, aliases: Sequence[Alias] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = tuple(aliases)


class Group(LocalizedMixin, click.Group):
    """A parsc-geo command group; its subcommands are :class:`Command`."""

    command_class = Command

    def __init__(self, *args: Any, aliases: Sequence[Alias] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = tuple(aliases)


Group.group_class = Group


def command(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], Command]:
    """Like :func:`click.command`, making a :class:`Command`."""
    attrs.setdefault("cls", Command)
    return click.command(name, **attrs)


def group(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], Group]:
    """Like :func:`click.group`, making a :class:`Group`."""
    attrs.setdefault("cls", Group)
    return click.group(name, **attrs)


def option(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """Like :func:`click.option`, making an :class:`Option`."""
    attrs.setdefault("cls", Option)
    return click.option(*param_decls, **attrs)


def argument(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """Like :func:`click.argument`, making an :class:`Argument`."""
    attrs.setdefault("cls", Argument)
    return click.argument(*param_decls, **attrs)
