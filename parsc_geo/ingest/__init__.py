"""Incident ingestion: read → canonical schema → validate → quarantine, every row accounted for.

Each input row ends either in the accepted incidents (canonical schema of
:mod:`parsc_geo.schema`, EPSG:4326 points) or in the quarantine table
(:data:`parsc_geo.schema.QUARANTINE_COLUMNS`) with exactly one reason code, so that
``rows_read == rows_accepted + rows_quarantined`` for every file and in total.

Reason codes (checked in this order; the first that applies is reported)
-----------------------------------------------------------------------
``malformed_row``
    A CSV line with more fields than the header (its line number in ``field``).
``unbalanced_quote``
    A CSV line whose quote opens a text that never closes in its row; the lines after it are
    read normally (:mod:`parsc_geo.io.csv`).
``missing_coordinates``
    No coordinate in the row (empty cells, empty geometry).
``unparseable_coordinates``
    Coordinates that are not numbers.
``projected_coordinates``
    Numbers in latitude/longitude columns (or a geographic geometry) that are not degrees and
    could not be placed in the study area as UTM or Web Mercator: use ``--input-crs`` or
    ``--utm-zone``.
``not_a_point``
    A geometry that is not a point (line, polygon, several points).
``null_island``
    Both coordinates zero — a placeholder, not a place.
``outside_study_area``
    Outside the study area, also after trying latitude and longitude swapped.
``missing_date`` / ``missing_year`` / ``unparseable_date``
    The date column is empty; holds a day and month without a year (``--year`` gives it); or
    holds text that is not a date. ``--undated keep`` accepts the first two without a date.
``date_out_of_range``
    A date before ``min_date`` (typing errors such as 1923), in the future, or outside
    1900–2199 (``05/03/3020``).
``duplicate_id``
    The same ``incident_id`` seen before in this import.
``duplicate_place_time_type``
    A row without an id of its own at the same place (to 0.1 m), time and type as another
    row, where the time is known.

Identity and duplicates
-----------------------
A row's ``incident_id`` is its source id (``N° DENUNCIA``, ``ID_DGC`` + type …). Rows with
distinct source ids are distinct records, never duplicates of each other: a complaint with
several victims is written once per victim, at the same place, time and type. A row without a
source id gets an id from its content — every cell, its point, and its rank among identical
rows of the file — so the same row gets the same id in every file and run; see
:func:`parsc_geo.ingest.checks.duplicate_mask` and ``prepare._content_ids``. Importing a file
again evaluates it again (:meth:`parsc_geo.workspace.Workspace.import_incidents`): only
accepted ids are de-duplicated against the workspace.

Flags (kept rows)
-----------------
``latlon_swapped`` (fixed: swapping put the point inside the study area), ``utm_converted``,
``station_stack`` (stacked on a police station: ``at_station`` is True and hotspot methods
exclude the row by default), ``time_unparsed`` (hour cell unreadable: the date is kept and
``time_known`` is False), ``undated`` (kept without a date, ``--undated keep``), and
``nearest_district`` (added by the assignment).
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
