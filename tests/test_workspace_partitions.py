"""Importing the accepted incidents as partitions, chunk by chunk (issue 17).

A distributed run hands ``import_incidents`` the partitions of its accepted incidents (one
GeoParquet file per ingestion chunk) instead of the table, so that its main process never
holds every incident. The workspace, quarantine, import log and counts must be those of
importing the concatenated table, on both backends; and the import stays one transaction: a
chunk that cannot be read leaves the workspace as it was.

The inputs are the bundled sample files, ingested as an analyst would: first with a study
area that quarantines most rows, then another export of the same incidents (the field file,
whose ids are stored already), then both files again with the right study area (their
earlier quarantine rows are accepted now, and the second file repeats the first's ids), then
the same import once more (nothing is added).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _postgis import pg_url, postgis_url, with_schema  # noqa: F401 - fixtures used by name
from geopandas.testing import assert_geodataframe_equal

from parsc_geo.ingest import IngestOptions, ingest_files
from parsc_geo.partitions import Partition, write_partitions
from parsc_geo.workspace import INCIDENTS, WorkspaceBackend, open_workspace

ROOT = Path(__file__).resolve().parents[1] / "incidents"
INCIDENTES = ROOT / "sintetico_cajamarca_2020_incidentes.csv"
CAMPO = ROOT / "sintetico_cajamarca_2020_campo.csv"

#: Rows of each chunk (an empty one among them), cycled over the table.
SIZES = (1500, 0, 2200, 777, 4000, 1)


@pytest.fixture(scope="module")
def batches() -> dict[str, tuple[gpd.GeoDataFrame, pd.DataFrame, list[dict]]]:
    """The imports of the scenario: name → (accepted, quarantine, sources)."""
    narrow = ingest_files([INCIDENTES], IngestOptions(study_area="0601"))
    full = ingest_files([INCIDENTES])
    campo = ingest_files([CAMPO])
    assert len(narrow.quarantine) > 10_000 and len(narrow.accepted) > 5_000
    assert narrow.sources[0]["sha256"] == full.sources[0]["sha256"]

    first = narrow.accepted.copy()
    ids = first["incident_id"].to_numpy(copy=True)
    # repeated ids: across chunks (rows 3000 and 4900 repeat rows 10 and 3600) and within
    # one (row 12 repeats row 11); the first row of each id is the one kept
    for later, earlier in ((3000, 10), (4900, 3600), (12, 11)):
        ids[later] = ids[earlier]
    first["incident_id"] = pd.Series(ids, index=first.index, dtype=first["incident_id"].dtype)
    # both files at once: the field file's rows repeat ids of the first file's rows
    both = pd.concat([full.accepted, campo.accepted], ignore_index=True)
    both.attrs = dict(full.accepted.attrs)
    both_quarantine = pd.concat([full.quarantine, campo.quarantine], ignore_index=True)
    return {
        "narrow": (first, narrow.quarantine, narrow.sources),
        "campo": (campo.accepted, campo.quarantine, campo.sources),
        "both": (both, both_quarantine, [*full.sources, *campo.sources]),
    }


def cut(table: gpd.GeoDataFrame, folder: Path) -> list[Partition]:
    """Write ``table`` as chunk partitions of :data:`SIZES` rows, in order."""
    chunks, start, k = [], 0, 0
    while start < len(table):
        size = SIZES[k % len(SIZES)]
        chunks.append(("", table.iloc[start : start + size]))
        start += size
        k += 1
    parts = write_partitions(chunks, folder)
    assert sum(len(p) for p in parts) == len(table) and len(parts) > 3
    return parts


@pytest.fixture(params=["gpkg", "postgis"])
def workspaces(request, tmp_path) -> Iterator[Callable[[str], WorkspaceBackend]]:
    """A maker of empty workspaces of one backend, by name."""
    if request.param == "gpkg":
        yield lambda name: open_workspace(tmp_path / f"{name}.gpkg")
        return
    import psycopg

    server = request.getfixturevalue("postgis_url")
    schemas: list[str] = []

    def make(name: str) -> WorkspaceBackend:
        schemas.append(f"t_{name}_{uuid.uuid4().hex[:10]}")
        return open_workspace(with_schema(server, schemas[-1]))

    yield make
    with psycopg.connect(server, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def state(
    ws: WorkspaceBackend,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """The stored incidents (as read and as stored), quarantine and log (without its times)."""
    with ws.snapshot():
        return (
            ws.read_incidents(),
            ws.read_layer(INCIDENTS),
            ws.read_quarantine(),
            ws.imports().drop(columns=["imported_at"]),
        )


def assert_same_state(whole: WorkspaceBackend, chunked: WorkspaceBackend) -> None:
    a, b = state(whole), state(chunked)
    assert_geodataframe_equal(a[0], b[0])
    assert a[0].attrs == b[0].attrs
    assert_geodataframe_equal(a[1], b[1])
    pd.testing.assert_frame_equal(a[2], b[2])
    pd.testing.assert_frame_equal(a[3], b[3])


def test_partitions_import_as_their_table(workspaces, batches, tmp_path):
    whole, chunked = workspaces("whole"), workspaces("chunked")
    seen: list[str] = []  # the ids stored so far, by hand
    for step, name in enumerate(("narrow", "campo", "both", "both")):
        accepted, quarantine, sources = batches[name]
        parts = cut(accepted, tmp_path / f"parts{step}")
        expected = whole.import_incidents(accepted, quarantine, sources=sources)
        got = chunked.import_incidents(parts, quarantine, sources=sources)
        assert got == expected, name
        assert_same_state(whole, chunked)

        # the counts by hand: the first row of each id not stored before is added
        ids = accepted["incident_id"].astype(str)
        first = ~ids.duplicated(keep="first") & ~ids.isin(seen)
        assert got["rows_new"] == int(first.sum())
        assert got["rows_already_present"] == len(accepted) - int(first.sum())
        for entry in got["files"]:
            of_file = (accepted["source"] == entry["source"]).to_numpy()
            assert entry["rows_new"] == int((first & of_file).sum())
            assert entry["rows_already_present"] == int(of_file.sum()) - entry["rows_new"]
        seen += list(ids[first])
        assert sorted(chunked.read_incidents()["incident_id"]) == sorted(seen)

        if step == 0:
            # the repeated ids were cut into other chunks than their first rows
            assert got["rows_already_present"] == 3
        if step == 1:
            assert got["rows_already_present"] > 5_000  # the field file repeats the first
        if step == 2:
            # the first file's rows quarantined by the narrow study area are accepted now
            narrow_q = batches["narrow"][1]
            of_first = accepted["source"] == sources[0]["source"]
            now = narrow_q["source_row"].astype(int).isin(accepted.loc[of_first, "source_row"])
            entry = got["files"][0]
            assert entry["reimport"] and entry["rows_quarantined_before"] == len(narrow_q)
            assert entry["rows_now_accepted"] == int(now.sum()) > 10_000
            assert got["files_reimported"] == [s["source"] for s in sources]
        if step == 3:
            assert got["rows_new"] == 0 and all(f["rows_new"] == 0 for f in got["files"])
    assert len(whole.imports()) == 6


def test_a_chunk_that_cannot_be_read_leaves_the_workspace_as_it_was(workspaces, batches, tmp_path):
    ws = workspaces("failing")
    accepted, quarantine, sources = batches["narrow"]
    ws.import_incidents(cut(accepted, tmp_path / "first"), quarantine, sources=sources)
    before = state(ws)
    gpkg = Path(str(ws.path)) if str(ws.path).endswith(".gpkg") else None
    raw = gpkg.read_bytes() if gpkg else b""

    # the full file again: its first chunks hold new incidents, its fifth cannot be read
    full, full_q, full_sources = batches["both"]
    parts = cut(full, tmp_path / "second")
    stored = set(before[0]["incident_id"])
    assert any(set(p.load()["incident_id"]) - stored for p in parts[:4])
    Path(parts[4].path).unlink()
    with pytest.raises(FileNotFoundError):
        ws.import_incidents(parts, full_q, sources=full_sources, metadata={"seed": 7})

    after = state(ws)
    assert_geodataframe_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[2], after[2])
    pd.testing.assert_frame_equal(before[3], after[3])
    assert "seed" not in ws.metadata()
    if gpkg is not None:
        assert gpkg.read_bytes() == raw
        assert [p.name for p in gpkg.parent.iterdir() if p.is_file()] == [gpkg.name]


def test_looking_ids_up_in_a_larger_set_answers_as_pandas_isin():
    import numpy as np

    from parsc_geo.workspace.importing import is_in

    stored = {f"id{k}" for k in range(50)} | {"ñandú", ""}
    for dtype in ("str", object):
        ids = pd.Series(["id3", "x", None, "ñandú", "", "id49", "id50"], dtype=dtype)
        expected = ids.isin(list(stored)).to_numpy()
        assert expected.tolist() == [True, False, False, True, True, True, False]
        np.testing.assert_array_equal(is_in(ids, stored), expected)  # looked up row by row
        np.testing.assert_array_equal(is_in(ids, {"x", "id3"}), ids.isin(["x", "id3"]))
