"""The atlas of a distributed run: from the province partitions, the pages of the whole table.

The expected values are those of the table held in this process (:func:`generalise`,
:func:`prepare_public`, :func:`write_atlas` of the table): an independent code path. The
partitions are cut as a distributed run cuts them (:func:`province_positions`, then one
partition of the incidents of no province of the area).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from parsc_geo.datasets import sample_paths
from parsc_geo.ingest import IngestOptions
from parsc_geo.maps import write_atlas
from parsc_geo.maps.atlas_partitions import summarise_partitions
from parsc_geo.maps.public import prepare_public, prepare_public_partitions
from parsc_geo.parallel import WorkerPool
from parsc_geo.partitions import Partition, rows_loaded, write_partitions
from parsc_geo.privacy import PrivacyRule, generalise, generalise_partitions, located_points
from parsc_geo.workflow import ingest, province_positions

#: Comisarías of the two provinces (their sectors make the comisaría pages), and one of the
#: city of Cajamarca, whose page has no incident near it.
COMISARIAS = "CHOTA|JAEN|CAJAMARCA II"
GENERATED = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def accepted() -> gpd.GeoDataFrame:
    """The sample's incidents of Chota and Jaén, two of them in a province of no study area."""
    every = ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted
    chosen = every[every["ubigeo"].str.startswith(("0604", "0608"))].copy()
    chosen.attrs = every.attrs
    # a province outside the area: the run puts them in a partition of their own
    chosen.loc[chosen.index[[5, 700]], "provincia"] = "FUERA"
    return chosen


@pytest.fixture(scope="module")
def sectors() -> gpd.GeoDataFrame:
    every = gpd.read_file(sample_paths()["sectors"])
    return every[every["comisaria"].str.contains(COMISARIAS)]


def _partitions(frame: gpd.GeoDataFrame, folder: Path) -> list[Partition]:
    """Cut ``frame`` as a distributed run does: by province, then those of no province."""
    groups = province_positions(frame)
    owner = np.full(len(frame), -1)
    for k, (_, rows) in enumerate(groups):
        owner[rows] = k
    parts = write_partitions([(name, frame.iloc[rows]) for name, rows in groups], folder)
    others = np.flatnonzero(owner < 0)
    if len(others):
        parts += write_partitions([("", frame.iloc[others])], folder, prefix="otras")
    return parts


@pytest.fixture(scope="module")
def parts(accepted: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> list[Partition]:
    written = _partitions(accepted, tmp_path_factory.mktemp("particiones"))
    # empty provinces of the area, the two provinces, and the two incidents of no province
    assert [p.key for p in written if len(p)] == ["Chota", "Jaén", ""]
    assert len(written[-1]) == 2
    return written


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_generalised_partitions_are_the_generalised_table(
    accepted: gpd.GeoDataFrame, parts: list[Partition]
) -> None:
    # k = 3 on a 50 m grid: places at every level, some incidents suppressed
    rule = PrivacyRule(k=3, grid_m=50.0)
    expected = generalise(accepted, rule)
    assert expected.withheld["suprimido_por_k"] > 0
    assert expected.places["cell_m"].nunique() > 2
    for pool in (1, 2):
        with WorkerPool(pool) as running:
            before = rows_loaded()
            got = generalise_partitions(parts, rule, pool=running)
            if pool == 2:
                assert rows_loaded() == before  # the workers read them, not this process
        # the same places, numbered alike, and the same accounting
        pd.testing.assert_frame_equal(
            pd.DataFrame(got.places), pd.DataFrame(expected.places), check_exact=True
        )
        assert got.places.crs == expected.places.crs
        assert got.withheld == expected.withheld
        assert got.sensitive_categories == expected.sensitive_categories
        assert got.n_input == expected.n_input == len(accepted)
        assert got.n_published == len(expected.points)
        assert got.report() == expected.report()
        # every published incident, read from the partitions: generalise's points
        everything = np.ones(len(got.places), dtype=bool)
        rows, place_ids = got.located_rows(everything)
        points = located_points(rows.load(), place_ids, got.places)
        pd.testing.assert_frame_equal(
            pd.DataFrame(points), pd.DataFrame(expected.points), check_exact=True
        )
        assert points.crs == expected.points.crs
        # the points of some places only: those rows of generalise's points, in its order
        some = np.isin(got.places["place_id"].to_numpy(), expected.places["place_id"][::3])
        rows, place_ids = got.located_rows(some)
        points = located_points(rows.load(), place_ids, got.places[some])
        wanted = expected.points[expected.points["place_id"].isin(np.flatnonzero(some))]
        pd.testing.assert_frame_equal(pd.DataFrame(points), pd.DataFrame(wanted), check_exact=True)


def test_public_zones_of_partitions_are_those_of_the_table(
    accepted: gpd.GeoDataFrame, parts: list[Partition]
) -> None:
    from parsc_geo.area import area_of

    hotspots = gpd.GeoDataFrame({"method": ["kde", "dbscan"]}, geometry=[None, None], crs=4326)
    rule = PrivacyRule(k=5)
    expected = prepare_public(accepted, hotspots, rule)
    assert expected.hotspots is not None and set(expected.hotspots["provincia"]) == {
        "Chota",
        "Jaén",
    }
    with WorkerPool(2) as pool:
        before = rows_loaded()
        got = prepare_public_partitions(
            parts, hotspots, rule, areas=area_of(accepted).provinces(), pool=pool
        )
        assert rows_loaded() == before
    assert got.hotspots is not None
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.hotspots), pd.DataFrame(expected.hotspots), check_exact=True
    )
    assert got.zones == expected.zones


def test_summary_of_partitions_is_that_of_the_table(
    accepted: gpd.GeoDataFrame, parts: list[Partition]
) -> None:
    from parsc_geo._text import fold
    from parsc_geo.area import area_of
    from parsc_geo.maps.atlas import period_text
    from parsc_geo.maps.timeline import Timeline

    with WorkerPool(2) as pool:
        before = rows_loaded()
        got = summarise_partitions(parts, pool=pool)
        assert rows_loaded() == before
    assert got.period == period_text(accepted) and got.period
    assert got.timeline == Timeline.of(accepted) and len(got.timeline) > 2
    assert got.territory == area_of(accepted)
    assert got.present == {fold(p) for p in ("Chota", "Jaén", "FUERA")}
    # without a recorded study area: the departments of the incidents' UBIGEO
    bare = accepted.copy()
    bare.attrs = {k: v for k, v in accepted.attrs.items() if k != "study_area"}
    folder = Path(parts[0].path).parent.with_name("sin-area")
    unrecorded = summarise_partitions(_partitions(bare, folder))
    assert unrecorded.territory == area_of(bare)


@pytest.mark.slow
@pytest.mark.parametrize("public", [False, True], ids=["interno", "publico"])
def test_atlas_of_partitions_is_the_atlas_of_the_table(
    accepted: gpd.GeoDataFrame,
    parts: list[Partition],
    sectors: gpd.GeoDataFrame,
    tmp_path: Path,
    public: bool,
) -> None:
    hotspots = (
        gpd.GeoDataFrame({"method": ["kde", "dbscan"]}, geometry=[None, None], crs=4326)
        if public
        else None
    )
    options = {
        "hotspots": hotspots,
        "sectors": sectors,
        "public": public,
        "privacy_k": 4,
        "synthetic": True,
        "tiles": None,
        "generated": GENERATED,
        "density_options": {"bandwidth": 1000, "cell_size": 250},
    }
    expected = tmp_path / "tabla"
    pages = write_atlas(accepted, output_dir=expected, **options)
    # provinces, comisarías and the index (the incidents of no province make no page)
    assert sorted(p.name for p in pages) == [
        "comisaria-comisaria-cajamarca-ii.html",
        "comisaria-comisaria-sectorial-chota.html",
        "comisaria-comisaria-sectorial-jaen.html",
        "index.html",
        "provincia-chota.html",
        "provincia-jaen.html",
    ]
    assert (expected / "privacidad.json").exists() is public
    for pool in (1, 2):
        out = tmp_path / f"particiones-{pool}"
        with WorkerPool(pool) as running:
            before = rows_loaded()
            write_atlas(parts, output_dir=out, workers=running, **options)
            if pool == 2:
                assert rows_loaded() == before  # every page's incidents read by the workers
        assert _digest(out) == _digest(expected), pool
