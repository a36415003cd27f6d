"""Duplicate checks by hash buckets on disk give the masks of the check over every row at once.

The expected masks come from :func:`parsc_geo.ingest.checks.duplicate_mask` over the whole
rows (the path of an ingestion that holds its rows); the buckets see the same rows a chunk at
a time, in 1, 3 or 16 buckets. The rows are built to collide: ids from a small pool, places on
a few points (one on the equator, at -0.0 and 0.0 degrees), few times and types, missing types
(None and NaN alike), sourced and derived ids, unknown times, missing coordinates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parsc_geo.ingest.buckets import KeyBuckets
from parsc_geo.ingest.checks import duplicate_mask
from parsc_geo.ingest.files import ingest_files


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lon = rng.choice(
        [-78.5, -78.500001, -78.5000004, -79.0, np.nan], n, p=[0.4, 0.2, 0.2, 0.15, 0.05]
    )
    lat = rng.choice([-7.1, -0.0, 0.0, 1e-8, -1e-8, np.nan], n, p=[0.5, 0.1, 0.1, 0.1, 0.1, 0.1])
    times = pd.to_datetime(["2020-03-05 10:00", "2020-03-05 10:01", "2020-03-06 10:00"])
    occurred = pd.Series(times[rng.integers(0, 3, n)]).dt.tz_localize("America/Lima")
    kinds = np.array(["Hurto", "Robo", None, np.nan], dtype=object)
    return pd.DataFrame(
        {
            "incident_id": [f"D{i}" for i in rng.integers(0, n // 3, n)],
            "occurred_at": occurred,
            "time_known": rng.random(n) < 0.8,
            "delito_especifico": kinds[rng.integers(0, 4, n)],
            "modalidad": kinds[rng.integers(0, 4, n)],
            "lon": lon,
            "lat": lat,
            "derived": rng.random(n) < 0.6,
        }
    )


def _whole(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return duplicate_mask(
        rows["incident_id"],
        rows["lon"].to_numpy(),
        rows["lat"].to_numpy(),
        rows["occurred_at"],
        rows["time_known"].to_numpy(),
        rows[["delito_especifico", "modalidad"]],
        derived=rows["derived"].to_numpy(),
    )


def _by_buckets(rows: pd.DataFrame, sizes: list[int], buckets: int, folder) -> tuple:
    keys = KeyBuckets(folder, buckets=buckets)
    start = 0
    for i, size in enumerate(sizes):
        chunk = rows.iloc[start : start + size].reset_index(drop=True)
        start += size
        ids = chunk["incident_id"]
        if i % 2:  # a column's type may differ between chunks
            ids = ids.astype("string[pyarrow]")
        keys.add(
            ids,
            chunk["occurred_at"],
            chunk["time_known"].to_numpy(),
            chunk["delito_especifico"],
            chunk["modalidad"],
            chunk["lon"].to_numpy(),
            chunk["lat"].to_numpy(),
            chunk["derived"].to_numpy(),
        )
    assert start == len(rows)
    masks = keys.duplicates()
    assert not list(folder.iterdir())  # the bucket files are removed once read
    return masks


@pytest.mark.parametrize("buckets", [1, 3, 16])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_buckets_give_the_masks_of_every_row_at_once(tmp_path, buckets, seed):
    rows = _rows(3_000, seed)
    dup_id, dup_ptt = _whole(rows)
    # the rows collide as meant: both kinds of duplicates, many of each
    assert dup_id.sum() > 500 and dup_ptt.sum() > 100
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, len(rows)), 9, replace=False))
    sizes = np.diff([0, *cuts, len(rows)]).tolist()
    folder = tmp_path / "claves"
    folder.mkdir()
    got_id, got_ptt = _by_buckets(rows, sizes, buckets, folder)
    np.testing.assert_array_equal(got_id, dup_id)
    np.testing.assert_array_equal(got_ptt, dup_ptt)


def test_a_place_on_the_equator_is_one_place(tmp_path):
    # -0.0 and 0.0 degrees (and 1e-8, rounded to 0 at 1e-6) are one place: a derived row at
    # 0.0 repeats a sourced row at -0.0 whatever buckets their hashes fall in
    rows = _rows(4, 0).iloc[:0]
    t = pd.Timestamp("2020-03-05 10:00", tz="America/Lima")
    rows = pd.DataFrame(
        {
            "incident_id": ["S1", "D1", "D2", "D3"],
            "occurred_at": [t] * 4,
            "time_known": [True] * 4,
            "delito_especifico": ["Hurto"] * 4,
            "modalidad": [None, np.nan, None, "otra"],
            "lon": [-78.5] * 4,
            "lat": [-0.0, 0.0, 1e-8, 0.0],
            "derived": [False, True, True, True],
        }
    )
    _, dup_ptt = _whole(rows)
    assert dup_ptt.tolist() == [False, True, True, False]
    folder = tmp_path / "claves"
    folder.mkdir()
    for buckets in (2, 5, 16):
        got_id, got_ptt = _by_buckets(rows, [1, 1, 2], buckets, folder)
        assert got_ptt.tolist() == dup_ptt.tolist() and not got_id.any()


def test_spilled_ingestion_quarantines_the_same_duplicates(tmp_path, monkeypatch):
    # sourced ids repeated (duplicate ids) and rows without an id at the place, time and type of
    # sourced ones (duplicates of place, time and type), across chunks and files
    from parsc_geo.ingest import buckets, files

    monkeypatch.setattr(files, "SPILL_ROWS", 13)
    header = "ID,FECHA,HORA,MODALIDAD,LATITUD,LONGITUD,DESCRIPCION"
    first = [header]
    for i in range(150):
        first.append(
            f"S{i % 100},05/03/2020,10:{i % 7:02d},Hurto,-7.1{i % 9},-78.5{i % 5},robo {i}"
        )
    second = [header]
    for i in range(90):  # no id: derived from the content
        second.append(f",05/03/2020,10:{i % 7:02d},Hurto,-7.1{i % 9},-78.5{i % 5},otro {i}")
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path, lines in zip(paths, (first, second), strict=True):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = ingest_files(paths, chunk_chars=None, assign=False)
    reasons = whole.quarantine["reason"].value_counts().to_dict()
    assert reasons["duplicate_id"] == 50
    assert reasons["duplicate_place_time_type"] > 20
    for n in (1, 3, 16):
        monkeypatch.setattr(buckets, "KEY_BUCKETS", n)
        spill = tmp_path / f"s{n}"
        spilled = ingest_files(paths, chunk_chars=400, assign=False, spill=spill)
        pd.testing.assert_frame_equal(spilled.quarantine, whole.quarantine)
        assert spilled.report == whole.report
        assert sum(len(p) for p in spilled.parts) == len(whole.accepted)
        joined = pd.concat([p.load() for p in spilled.parts])
        pd.testing.assert_frame_equal(joined, whole.accepted, check_index_type=False)
        # nothing of the keys is left beside the partitions
        assert not [p for p in spill.rglob("claves-*")]


def test_a_failed_spilled_ingestion_closes_its_bucket_files(tmp_path, monkeypatch):
    # a second file that cannot be read stops the ingestion after the first one's keys were
    # written: the open bucket files are closed, and the folder goes with them
    from parsc_geo._errors import InputDataError

    closed: list[int] = []
    close = KeyBuckets.close

    def spying(self):
        closed.append(len(self._writers))
        close(self)

    monkeypatch.setattr(KeyBuckets, "close", spying)
    good = tmp_path / "a.csv"
    good.write_text(
        "ID,FECHA,HORA,MODALIDAD,LATITUD,LONGITUD\n"
        + "\n".join(f"S{i},05/03/2020,10:00,Hurto,-7.1{i % 9},-78.5{i % 5}" for i in range(50))
        + "\n",
        encoding="utf-8",
    )
    spill = tmp_path / "carpeta"
    with pytest.raises(InputDataError):
        ingest_files([good, tmp_path / "no-existe.csv"], assign=False, spill=spill)
    assert len(closed) == 1 and closed[0] > 0  # the first file's buckets were open
    assert list(spill.iterdir()) == []
