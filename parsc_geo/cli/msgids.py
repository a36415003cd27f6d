"""The msgids of the command line: what the catalog must translate.

Walks every command of ``parsc-geo`` (help texts, epilogs, option help, metavars, usage pieces),
reads the ``_("…")`` calls of parsc-geo's CLI modules and of click's own modules, and writes
them as a gettext template::

    python -m parsc_geo.cli.msgids parsc_geo/locale/parsc_geo.pot

(``make locale`` then merges the template into the Spanish ``.po`` and compiles the ``.mo``.)
The test of the catalog uses the same walk, so a help text added without its translation fails.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from ..i18n import CLICK_MODULES, use_language


def commands() -> dict[str, click.Command]:
    """Every command: the group as ``""``, commands by name, subcommands as ``"group sub"``."""
    from .main import COMMANDS, cli

    found: dict[str, click.Command] = {"": cli}
    for name, (module, _short) in sorted(COMMANDS.items()):
        command = importlib.import_module(f"parsc_geo.cli.{module}").command
        found[name] = command
        if isinstance(command, click.Group):
            for sub_name, sub in sorted(command.commands.items()):
                found[f"{name} {sub_name}"] = sub
    return found


def _paragraph_msgids(text: str) -> Iterator[str]:
    for paragraph in text.split("\n\n"):
        prose = [
            line
            for line in paragraph.split("\n")
            if line and line != "\b" and not line.startswith("  ")
        ]
        if prose:
            yield "\n".join(prose)


def command_msgids(command: click.Command) -> Iterator[str]:
    """Yield the msgids of one command's help, in the order they are shown."""
    ctx = click.Context(command, info_name=command.name)
    with use_language("en"):
        yield from command.collect_usage_pieces(ctx)
        if command.help:
            yield inspect.cleandoc(command.help).partition("\f")[0]
        if command.short_help:
            yield inspect.cleandoc(command.short_help)
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and param.hidden:
                continue
            if isinstance(param, click.Option) and param.help:
                yield inspect.cleandoc(param.help)
            flag = isinstance(param, click.Option) and param.is_flag
            # the values of a choice ([kde|dbscan|…]) are names to type, not words to translate
            if not flag and not isinstance(param.type, click.Choice):
                yield param.make_metavar(ctx)
        if command.epilog:
            yield from _paragraph_msgids(inspect.cleandoc(command.epilog))


#: A msgid, or the singular and plural msgids of an ``ngettext`` message.
Msgid = str | tuple[str, str]


def source_msgids(path: Path) -> Iterator[Msgid]:
    """Yield the msgids of the ``_("…")`` and ``ngettext("…", "…", n)`` calls of a Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        texts = [
            arg.value
            for arg in node.args
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        ]
        if node.func.id == "_" and texts:
            yield texts[0]
        elif node.func.id == "ngettext" and len(texts) >= 2:
            yield (texts[0], texts[1])


def cli_msgids() -> list[Msgid]:
    """Return every msgid of parsc-geo's command line (help and ``_()`` calls), once each."""
    from .main import COMMANDS

    seen: dict[Msgid, None] = {}
    for command in commands().values():
        seen.update(dict.fromkeys(command_msgids(command)))
    seen.update(dict.fromkeys(short for _module, short in COMMANDS.values()))
    from .info import LABELS

    seen.update(dict.fromkeys(LABELS.values()))
    for path in sorted(Path(__file__).parent.glob("*.py")):
        seen.update(dict.fromkeys(source_msgids(path)))
    seen.pop("", None)
    return list(seen)


def click_msgids() -> list[Msgid]:
    """Return the msgids of click's own messages (``_()`` and ``ngettext`` in its modules)."""
    seen: dict[Msgid, None] = {}
    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        if module.__file__:
            seen.update(dict.fromkeys(source_msgids(Path(module.__file__))))
    return list(seen)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{escaped}"'
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{part}"' for part in parts)


def template() -> str:
    """Return the gettext template (``.pot``) of the command line and of click's messages."""
    out = [
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Content-Transfer-Encoding: 8bit\\n"\n"Project-Id-Version: parsc-geo\\n"\n'
    ]
    ours = cli_msgids()
    entries = [("parsc_geo.cli", m) for m in ours]
    entries += [("click", m) for m in click_msgids() if m not in ours]
    for origin, msgid in entries:
        if isinstance(msgid, tuple):
            out.append(
                f"#: {origin}\nmsgid {_quote(msgid[0])}\nmsgid_plural {_quote(msgid[1])}\n"
                'msgstr[0] ""\nmsgstr[1] ""\n'
            )
        else:
            out.append(f'#: {origin}\nmsgid {_quote(msgid)}\nmsgstr ""\n')
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("parsc_geo/locale/parsc_geo.pot")
    target.write_text(template(), encoding="utf-8")
    print(f"{target}")
