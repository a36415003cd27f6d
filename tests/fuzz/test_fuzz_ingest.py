"""Seeded, bounded fuzzing of the CSV and KML/KMZ paths of the ingestion (issue 13).

The properties are those of :mod:`fuzz_files`: never exit 1, rows read = accepted +
quarantined, the physical lines of the file respected, and intact files (or files whose only
damage is stray quotes) read row for row. ``benchmarks/fuzz_ingest.py`` runs the same checks
for minutes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzz_files import check_file, csv_samples, kml_samples
from hypothesis import HealthCheck, given, settings

FUZZ = settings(
    max_examples=150,
    derandomize=True,  # seeded: the same files on every run
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(sample=csv_samples())
def test_fuzz_csv(sample):
    with tempfile.TemporaryDirectory() as folder:
        check_file(sample, Path(folder))


@settings(FUZZ, max_examples=100)
@given(sample=kml_samples())
def test_fuzz_kml(sample):
    with tempfile.TemporaryDirectory() as folder:
        check_file(sample, Path(folder))
