"""Printable reports: A4 patrol sheets (PDF and PNG) drawn with matplotlib.

:mod:`parsc_geo.reports.patrol_sheet` draws one A4 page per sector; :mod:`parsc_geo.reports.pdf`
saves figures deterministically (fixed metadata dates, no timestamps) and atomically.
"""

from __future__ import annotations

__all__: list[str] = []
