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
from hypothesis import strategies as st

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


@settings(FUZZ, max_examples=150)
@given(sample=csv_samples())
def test_fast_and_careful_csv_parsers_agree(sample):
    # files whose rows are whole lines go through pandas' C parser; every file can go through
    # the line-by-line parser: where both apply they must give the same cells
    from parsc_geo.io import csv as reader

    try:
        text = reader.decode_bytes(sample.data).text
    except Exception:
        return
    lines = [line + "\n" for line in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()
    if not any(line.strip() for line in lines):
        return
    try:
        index, sep, _ = reader._find_header(lines, None, None, "f")
    except Exception:
        return
    header = reader._split_line(lines[index], sep)
    names = reader.column_names(header)
    fast = reader._fast_frame(lines, index + 1, sep, names)
    if fast is None or '"' in lines[index]:
        return
    frame, blank = fast
    careful = reader._parse_rows(lines, index + 1, sep, len(names))
    assert careful.blank_lines == blank
    assert [p for p in careful.problem if p] == []
    assert frame.to_numpy().tolist() == careful.cells


@settings(FUZZ, max_examples=150)
@given(sample=csv_samples(), chunk_chars=st.sampled_from([1, 2, 7, 40, 200]))
def test_csv_by_chunks_reads_the_whole_file(sample, chunk_chars):
    # a large file is read by chunks of text: every chunk size gives the rows, cells, lines,
    # problems and line accounting of the whole file read at once
    import numpy as np
    import pandas as pd

    from parsc_geo._errors import InputDataError
    from parsc_geo.io.csv import CsvFile, read_csv

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / sample.name
        path.write_bytes(sample.data)
        try:
            whole = read_csv(path)
        except InputDataError:
            return
        reader = CsvFile(path)
        tables = list(reader.chunks(chunk_chars))
    data = pd.concat([t.data for t in tables], ignore_index=True)
    pd.testing.assert_frame_equal(data, whole.data.reset_index(drop=True))
    for name in ("line", "source_row", "problem", "problem_text"):
        joined = np.concatenate([getattr(t, name) for t in tables])
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)
    assert reader.info == whole.info
