"""The language of what parsc-geo's command line says: Spanish by default, English on request.

Messages are looked up in a standard gettext catalog: the source strings (msgids) are English
and ``parsc_geo/locale/es/LC_MESSAGES/parsc_geo.po`` holds their Spanish translations
(``parsc_geo.mo`` is compiled from it with ``msgfmt``; ``make locale`` refreshes both). English
is the untranslated catalog.

The language is, in this order: the one chosen for the current command (``parsc-geo --lang
en``, :func:`use_language`), else the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` and
``LANG`` that names a language (``en_US.UTF-8`` → English; ``C``/``POSIX`` name none), else
Spanish, the users' language. Any language other than English reads Spanish.

click formats its own messages ("Usage:", "Missing argument", "Show this message and exit.")
through :func:`gettext.gettext`; :func:`install_click` points those lookups at this catalog
while a parsc-geo command runs, so they follow the same language.

This module imports only the standard library: ``parsc-geo --help`` stays instant.
"""

from __future__ import annotations

import gettext as _gettext
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Final

#: Gettext domain of parsc-geo's catalog (also the file name of the .po/.mo).
DOMAIN: Final = "parsc_geo"
#: Folder of the catalogs (``<lang>/LC_MESSAGES/parsc_geo.mo``).
LOCALE_DIR: Final = Path(__file__).with_name("locale")
#: Languages the command line speaks; the first is the default.
LANGUAGES: Final[tuple[str, ...]] = ("es", "en")
#: Environment variables that name the language, in gettext's order of precedence.
ENVIRONMENT: Final[tuple[str, ...]] = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_CHOSEN: ContextVar[str | None] = ContextVar("parsc_geo_language", default=None)
_CLICK_ACTIVE: ContextVar[bool] = ContextVar("parsc_geo_click_active", default=False)


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """Return ``"en"`` or ``"es"`` from the locale variables (Spanish unless English is named).

    Examples
    --------
    >>> language_from_environment({"LANG": "en_US.UTF-8"})
    'en'
    >>> language_from_environment({"LANG": "C.UTF-8"})
    'es'
    >>> language_from_environment({"LANGUAGE": "fr:en", "LANG": "es_PE.UTF-8"})
    'es'
    """
    env = os.environ if environ is None else environ
    for variable in ENVIRONMENT:
        value = env.get(variable, "")
        for entry in value.split(":") if variable == "LANGUAGE" else [value]:
            code = entry.split(".")[0].split("@")[0].split("_")[0].strip().lower()
            if code and code not in ("c", "posix"):
                return "en" if code == "en" else "es"
    return LANGUAGES[0]


def current_language() -> str:
    """Return the language of messages now: the chosen one, else the environment's."""
    chosen = _CHOSEN.get()
    return chosen if chosen is not None else language_from_environment()


def choose_language(language: str | None) -> None:
    """Choose the language of the current command (None: from the environment)."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}: {language!r}")
    _CHOSEN.set(language)


@contextmanager
def use_language(language: str | None) -> Iterator[None]:
    """Speak ``language`` inside the block (None: the environment's), then as before."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}: {language!r}")
    token = _CHOSEN.set(language)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """Return the compiled catalog of ``language`` (English: the msgids themselves)."""
    if language == "en":
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language])


def gettext(message: str) -> str:
    """Return ``message`` (an English msgid) in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Return the singular or plural form of a message, in the current language."""
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext


def _click_gettext(message: str) -> str:
    return gettext(message) if _CLICK_ACTIVE.get() else message


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    if _CLICK_ACTIVE.get():
        return ngettext(singular, plural, n)
    return singular if n == 1 else plural


#: click's modules that format messages with gettext.
CLICK_MODULES: Final[tuple[str, ...]] = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.termui",
    "click.utils",
    "click.shell_completion",
)


def install_click() -> None:
    """Route click's gettext lookups through this catalog (only while a command runs).

    click binds ``gettext.gettext`` and ``gettext.ngettext`` into each module at import; they
    are rebound here to lookups that translate while :func:`speaking_click` is active and
    return the msgid otherwise, so other click programs in the same process are unaffected.
    """
    import importlib

    for name in CLICK_MODULES:
        module = sys.modules.get(name) or importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = _click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]


@contextmanager
def speaking_click() -> Iterator[None]:
    """Translate click's own messages inside the block (a parsc-geo command's run)."""
    install_click()
    active = _CLICK_ACTIVE.set(True)
    chosen = _CHOSEN.set(_CHOSEN.get())
    try:
        yield
    finally:
        _CHOSEN.reset(chosen)
        _CLICK_ACTIVE.reset(active)
