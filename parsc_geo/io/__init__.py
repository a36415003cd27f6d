"""Input and output of tables and points: every incident file is read through this package.

:mod:`~parsc_geo.io.readers` dispatches a file to its reader by suffix (:mod:`~parsc_geo.io.csv`
— the one CSV reader —, :mod:`~parsc_geo.io.excel`, :mod:`~parsc_geo.io.vector`,
:mod:`~parsc_geo.io.kml`); :mod:`~parsc_geo.io.columns`, :mod:`~parsc_geo.io.coords` and
:mod:`~parsc_geo.io.dates` interpret columns, coordinates and dates;
:mod:`~parsc_geo.io.points` reads incident points for every analysis (:func:`read_points`);
:mod:`~parsc_geo.io.writers` writes tables, quarantine files and reports atomically.
"""

from ._table import RawTable
from .points import read_points
from .readers import SUFFIXES, read_incident_file

__all__ = ["SUFFIXES", "RawTable", "read_incident_file", "read_points"]
