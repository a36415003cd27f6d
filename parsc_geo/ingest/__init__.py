"""Incident ingestion: read → canonical schema → validate → quarantine, every row accounted for.

Each input row ends either in the accepted incidents (canonical schema of
:mod:`parsc_geo.schema`, EPSG:4326 points) or in the quarantine table
(:data:`parsc_geo.schema.QUARANTINE_COLUMNS`) with exactly one reason code, so that
``rows_read == rows_accepted + rows_quarantined`` for every file and in total.

Reason codes (checked in this order; the first that applies is reported)
-----------------------------------------------------------------------
``malformed_row``
    A CSV line with more fields than the header.
``missing_coordinates``
    No coordinate in the row (empty cells, empty geometry).
``unparseable_coordinates``
    Coordinates that are not numbers, or in no recognisable system.
``not_a_point``
    A geometry that is not a point (line, polygon, several points).
``null_island``
    Both coordinates zero — a placeholder, not a place.
``outside_study_area``
    Outside the study area, also after trying latitude and longitude swapped.
``missing_date`` / ``unparseable_date``
    The date column is empty, or holds text that is not a date.
``date_out_of_range``
    A date before ``min_date`` (typing errors such as 1923) or in the future.
``duplicate_id``
    The same ``incident_id`` seen before in this import.
``duplicate_place_time_type``
    Same place (to 0.1 m), time and modalidad as an earlier row, where the time is known.

Flags (kept rows)
-----------------
``latlon_swapped`` (fixed: swapping put the point inside the study area), ``utm_converted``,
``station_stack`` (stacked on a police station: ``at_station`` is True and hotspot methods
exclude the row by default), ``time_unparsed`` (hour cell unreadable: the date is kept and
``time_known`` is False), and ``nearest_district`` and ``far_from_station`` (added by the
assignment, see :mod:`parsc_geo.assign`).
"""

from typing import Any

from .._compat import moved_name
from .checks import duplicate_mask, inside, station_stack, study_area
from .files import IngestResult, ingest_files
from .options import IngestOptions, read_config
from .report import FIX_FLAGS, REASONS, build_report

__all__ = [
    "FIX_FLAGS",
    "REASONS",
    "IngestOptions",
    "IngestResult",
    "build_report",
    "duplicate_mask",
    "ingest_files",
    "inside",
    "read_config",
    "station_stack",
    "study_area",
]


def __getattr__(name: str) -> Any:
    """Serve names that moved elsewhere (``file_sha256``: :mod:`parsc_geo._provenance`)."""
    return moved_name(__name__, name)
