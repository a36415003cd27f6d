"""Old import paths of modules and names that moved, kept working without files for them.

parsc-geo 0.1 had flat modules (``parsc_geo.store``, ``parsc_geo.patrol_windows`` …) that now
live in concept folders (``parsc_geo.workspace``, ``parsc_geo.patrol.windows`` …). Scripts and
notebooks written against the old paths keep working:

- :data:`MOVED_MODULES` maps every old module path to its new home. :func:`install` puts a
  finder on :data:`sys.meta_path` that serves an old path as a thin alias of the new module:
  every attribute read (or monkeypatched) through it is the new module's own object.
- :data:`MOVED_NAMES` maps names that left a module (old or still existing) to the module that
  defines them now. An alias serves them directly; a module that still exists serves them
  through its ``__getattr__`` (:func:`moved_name`).

This is the only place that knows old paths; nothing else in the package imports them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, Final

#: Old module path → new module path.
MOVED_MODULES: Final[dict[str, str]] = {
    "parsc_geo._es": "parsc_geo._text",
    "parsc_geo._xlsx": "parsc_geo.io.xlsx",
    "parsc_geo.counts": "parsc_geo.priority.counts",
    "parsc_geo.ingest_checks": "parsc_geo.ingest",
    "parsc_geo.patrol_outputs": "parsc_geo.reports.patrol_outputs",
    "parsc_geo.patrol_points": "parsc_geo.patrol.points",
    "parsc_geo.patrol_schedule": "parsc_geo.patrol.schedule",
    "parsc_geo.patrol_windows": "parsc_geo.patrol.windows",
    "parsc_geo.priority_levels": "parsc_geo.priority.levels",
    "parsc_geo.priority_outputs": "parsc_geo.priority.outputs",
    "parsc_geo.rates": "parsc_geo.priority.rates",
    "parsc_geo.store": "parsc_geo.workspace",
}

_RANKINGS = "parsc_geo.reports.rankings"

#: Module path → {name that left it → module that defines it now, or ``module:new_name``}.
MOVED_NAMES: Final[dict[str, dict[str, str]]] = {
    "parsc_geo.ingest": {"file_sha256": "parsc_geo._provenance"},
    "parsc_geo.store": {"file_sha256": "parsc_geo._provenance"},
    "parsc_geo.patrol": {"write_patrol_outputs": "parsc_geo.reports"},
    "parsc_geo.patrol_outputs": {"slug": "parsc_geo._text"},
    "parsc_geo.patrol_points": {
        "peak_days": "parsc_geo.profile",
        "peak_hours": "parsc_geo.profile",
        "top_modalidades": "parsc_geo.profile",
    },
    "parsc_geo.pipeline": {
        "RECORDED_PACKAGES": "parsc_geo._provenance",
        "fmt_int": "parsc_geo._text:num",
        "package_versions": "parsc_geo._provenance",
        "slug": "parsc_geo._text",
    },
    "parsc_geo.ranking": {
        "CRITERIA_ES": _RANKINGS,
        "HEADERS_ES": _RANKINGS,
        "RANKING_FILES": _RANKINGS,
        "UNASSIGNED_ES": _RANKINGS,
        "province_summary": _RANKINGS,
        "ranking_table": _RANKINGS,
        "write_rankings": _RANKINGS,
        "write_table": "parsc_geo.io.writers",
    },
}


def moved_name(module: str, name: str) -> Any:
    """Return ``name`` that left ``module``, from its new home (for a module ``__getattr__``).

    Raises
    ------
    AttributeError
        ``name`` never lived in ``module``.
    """
    home = MOVED_NAMES.get(module, {}).get(name)
    if home is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    home, _, new_name = home.partition(":")
    return getattr(importlib.import_module(home), new_name or name)


class _AliasModule(types.ModuleType):
    """An old module path: reads, writes and deletions go to the new module."""

    def __init__(self, name: str, target: types.ModuleType) -> None:
        super().__init__(name, target.__doc__)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        try:
            return getattr(target, name)
        except AttributeError:
            return moved_name(object.__getattribute__(self, "__name__"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("__") and name.endswith("__"):
            object.__setattr__(self, name, value)
        else:
            setattr(object.__getattribute__(self, "_target"), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "_target"), name)

    def __dir__(self) -> list[str]:
        target = object.__getattribute__(self, "_target")
        moved = MOVED_NAMES.get(object.__getattribute__(self, "__name__"), {})
        return sorted({*dir(target), *moved})


class _AliasLoader(importlib.abc.Loader):
    """Load an old module path as an :class:`_AliasModule` of its new home."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        target = importlib.import_module(MOVED_MODULES[spec.name])
        return _AliasModule(spec.name, target)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the alias holds no code of its own."""


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Find old module paths (and only those)."""

    def find_spec(
        self, fullname: str, path: Any = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Return a spec for an old module path, None for every other module."""
        if fullname not in MOVED_MODULES:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(), origin="alias")


_FINDER = _AliasFinder()


def install() -> None:
    """Put the finder of old module paths on :data:`sys.meta_path` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
