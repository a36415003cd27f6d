"""Sector design and evaluation for a comisaría (issue 15): balanced, contiguous, compact.

:mod:`.evaluate` measures today's sectors (workload, balance, compactness, contiguity, coverage);
:mod:`.design` proposes new ones from building blocks (:mod:`.blocks`) with a workload
(:mod:`.workload`, :mod:`.population`) split by :mod:`.partition` and labelled by
:mod:`.labels`; :mod:`.jurisdiction` finds the comisaría and its territory; :mod:`.outputs`
writes the layers, tables and maps.
"""

from __future__ import annotations

__all__: list[str] = []
