"""Printable and tabular reports: patrol sheets and tables, written deterministically.

:mod:`~parsc_geo.reports.patrol_sheet` draws one A4 page per sector;
:mod:`~parsc_geo.reports.patrol_outputs` writes a patrol plan's PDF, PNG, CSV, XLSX, GeoPackage
and GeoJSON files; :mod:`~parsc_geo.reports.pdf` saves figures with fixed metadata dates,
atomically.
"""

from __future__ import annotations

from .patrol_outputs import write_patrol_outputs

__all__ = ["write_patrol_outputs"]
