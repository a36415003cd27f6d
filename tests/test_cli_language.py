"""The command line speaks Spanish by default and English on request (issue 16).

Walks every command and subcommand: its ``--help`` in Spanish (default, ``LANG=C.UTF-8``) must
contain no msgid of the catalog left untranslated and none of a list of common English words;
with ``LANG=en_US.UTF-8`` or ``--lang en`` it must be the English msgids. The catalog's ``.mo``
must match its ``.po``, and old option spellings must still work, with a Spanish notice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from parsc_geo import i18n
from parsc_geo.cli.main import cli
from parsc_geo.cli.msgids import cli_msgids, commands

#: Common English words that must not appear in Spanish help (checked as whole words, after
#: removing option names, choice lists, file names and the command lines of examples).
ENGLISH_WORDS = {
    "the",
    "of",
    "and",
    "with",
    "or",
    "for",
    "this",
    "that",
    "from",
    "into",
    "when",
    "default",
    "show",
    "message",
    "exit",
    "options",
    "usage",
    "examples",
    "commands",
    "file",
    "files",
    "folder",
    "output",
    "write",
    "writes",
    "each",
    "every",
    "only",
    "without",
    "cell",
    "size",
    "method",
    "methods",
    "level",
    "period",
    "shift",
    "text",
    "integer",
    "try",
    "missing",
    "argument",
    "weight",
    "weights",
    "workspace",
    "automatic",
}

SPANISH = {"LANG": "C.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
ENGLISH = {"LANG": "en_US.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}

#: Code-like tokens: options, choice lists, file names, identifiers, the examples' commands,
#: command names (``Uso: parsc-geo workspace init-roles``, the list of commands).
_CODE = re.compile(
    r"(?m)^\s+parsc-geo .*$|^\s{4,}--.*$|--?[\w-]+|\[[^\]]*\|[^\]]*\]|\S+\.\w{2,7}\b|\b\w+_\w+\b"
    r"|'[^']*'|``[^`]*``|<[^>]*>|^(?:Uso|Usage): parsc-geo[\w -]*|^  [a-z][\w-]*(?=\s{2,}\S)"
)


def _help(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], env=env, prog_name="parsc-geo")
    assert result.exit_code == 0, result.output
    return result.output


def _names() -> list[str]:
    return sorted(commands())


def _english_words(text: str) -> set[str]:
    prose = _CODE.sub(" ", text)
    return {w for w in re.findall(r"[A-Za-z]+", prose) if w.lower() in ENGLISH_WORDS}


@pytest.mark.parametrize("name", _names())
def test_help_is_spanish_by_default(name):
    text = _help(name.split(), SPANISH)
    assert text.startswith("Uso: parsc-geo"), text
    assert "Opciones:" in text and "Muestra este mensaje y termina." in text
    # no help text of the catalog left in English (single words and metavars aside)
    untranslated = [
        m for m in cli_msgids() if isinstance(m, str) and " " in m and len(m) > 12 and m in text
    ]
    assert not untranslated, untranslated
    assert not _english_words(text), (_english_words(text), text)
    assert "settings." not in text  # defaults are values


@pytest.mark.parametrize("name", _names())
@pytest.mark.parametrize("how", ["LANG", "--lang"])
def test_help_is_english_on_request(name, how):
    if how == "LANG":
        text = _help(name.split(), ENGLISH)
    else:
        text = _help(["--lang", "en", *name.split()], SPANISH)
    assert text.startswith("Usage: parsc-geo"), text
    assert "Show this message and exit." in text
    for word in ("Uso:", "Opciones:", "Muestra este mensaje", "predeterminado"):
        assert word not in text, (word, text)
    command = commands()[name]
    if command.help:
        first_line = command.help.strip().splitlines()[0]
        assert first_line.split()[0] in text


def test_the_language_comes_from_the_environment():
    assert i18n.language_from_environment({"LANG": "en_GB.UTF-8"}) == "en"
    assert i18n.language_from_environment({"LC_ALL": "es_PE.UTF-8", "LANG": "en_US"}) == "es"
    assert i18n.language_from_environment({"LANGUAGE": "en:es", "LANG": "es_PE"}) == "en"
    assert i18n.language_from_environment({"LANG": "POSIX"}) == "es"
    assert i18n.language_from_environment({}) == "es"
    with i18n.use_language("en"):
        assert i18n.gettext("Usage:") == "Usage:"
    with i18n.use_language("es"):
        assert i18n.gettext("Usage:") == "Uso:"


def test_click_messages_are_spanish():
    runner = CliRunner()
    result = runner.invoke(cli, ["density", "--no-existe"], env=SPANISH, prog_name="parsc-geo")
    assert result.exit_code == 2
    assert "Uso: parsc-geo density [OPCIONES] [ENTRADA]" in result.output
    assert "Pruebe 'parsc-geo density --help' para ver la ayuda." in result.output
    assert "No existe la opción '--no-existe'." in result.output
    result = runner.invoke(cli, ["ingest"], env=SPANISH, prog_name="parsc-geo")
    assert result.exit_code == 2
    assert "Falta el argumento 'ARCHIVOS...'." in result.output
    result = runner.invoke(cli, ["patrol", "--shifts", "99"], env=SPANISH, prog_name="parsc-geo")
    assert result.exit_code == 2
    assert "99 no está en el rango" in result.output
    result = runner.invoke(
        cli, ["--lang", "en", "density", "--no-existe"], env=SPANISH, prog_name="parsc-geo"
    )
    assert "No such option '--no-existe'." in result.output
    # click used outside parsc-geo keeps its own language
    assert i18n._click_gettext("Usage:") == "Usage:"


def _read_po(path: Path) -> dict[str, str]:
    """Parse msgid → msgstr of a .po file (singular entries), independently of gettext."""
    entries: dict[str, str] = {}
    key: str | None = None
    current: list[str] = []
    msgid = ""

    def flush() -> None:
        nonlocal msgid
        if key == "msgid":
            msgid = "".join(current)
        elif key == "msgstr" and msgid:
            entries[msgid] = "".join(current)

    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r'^(msgid|msgstr|msgid_plural|msgstr\[\d\]) "(.*)"$', line)
        if match:
            flush()
            key, current = match.group(1), [match.group(2)]
        elif line.startswith('"'):
            current.append(line[1:-1])
        else:
            flush()
            key, current = None, []
    flush()
    unescape = {"\\n": "\n", '\\"': '"', "\\t": "\t", "\\\\": "\\"}
    pattern = re.compile(r"\\n|\\\"|\\t|\\\\")
    return {
        pattern.sub(lambda m: unescape[m.group(0)], k): pattern.sub(
            lambda m: unescape[m.group(0)], v
        )
        for k, v in entries.items()
    }


def test_every_cli_msgid_is_translated_and_the_mo_is_current():
    po = _read_po(i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / "parsc_geo.po")
    missing = [m for m in cli_msgids() if isinstance(m, str) and not po.get(m)]
    assert not missing, missing
    compiled = i18n.translations("es")
    stale = [m for m, t in po.items() if t and compiled.gettext(m) != t]
    assert not stale, stale[:5]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["rank", "--by", "harm"], ["rank", "--rank-by", "harm"]),
        (["patrol", "--units", "2"], ["patrol", "--patrol-units", "2"]),
        (["patrol", "--risk", "harm"], ["patrol", "--weights", "harm"]),
        (["patrol", "-m", "grid"], ["patrol", "--points-method", "grid"]),
        (["priority", "--method", "quantiles"], ["priority", "--rule", "quantiles"]),
        (["priority", "--ubigeo-column", "U"], ["priority", "--ubigeo-col", "U"]),
    ],
)
def test_old_spellings_still_work_with_a_notice(old, new, monkeypatch):
    import click

    seen: list[dict[str, object]] = []
    command = commands()[old[0]]
    original = command.callback
    assert original is not None

    def capture(*args: object, **kwargs: object) -> None:
        seen.append(kwargs)

    monkeypatch.setattr(command, "callback", click.pass_context(lambda ctx, **kw: capture(**kw)))
    runner = CliRunner()
    result_old = runner.invoke(cli, [*old, "-o", "x"], env=SPANISH, prog_name="parsc-geo")
    result_new = runner.invoke(cli, [*new, "-o", "x"], env=SPANISH, prog_name="parsc-geo")
    assert result_old.exit_code == 0 and result_new.exit_code == 0, (result_old, result_new)
    assert seen[0] == seen[1]
    assert f"Aviso: {old[1]} está obsoleta y se retirará; use {new[1]}." in result_old.output
    assert "obsoleta" not in result_new.output
    # the old spelling is hidden from the help
    assert f"{old[1]} " not in runner.invoke(cli, [old[0], "--help"], env=SPANISH).output


def test_risk_n_means_no_weights(monkeypatch):
    from parsc_geo.cli.localized import Alias, _rewrite

    alias = Alias("--risk", "--weights", {"n": None})
    assert _rewrite(["--risk", "n", "-o", "x"], [alias])[0] == ["-o", "x"]
    assert _rewrite(["--risk=harm"], [alias])[0] == ["--weights", "harm"]
    assert _rewrite(["--", "--risk", "n"], [alias])[0] == ["--", "--risk", "n"]
