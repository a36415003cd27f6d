"""Shared test settings: the command line speaks its default language, Spanish.

The language of help and click's messages follows LANGUAGE, LC_ALL, LC_MESSAGES and LANG
(:mod:`parsc_geo.i18n`); tests that read Spanish output must not depend on the locale of the
machine that runs them, so those variables are set to a locale that names no language.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _spanish_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
