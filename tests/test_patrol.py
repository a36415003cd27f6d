"""plan_patrols: sectors, counts that add up, critical points, windows and schedules."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from test_patrol_helpers import COMISARIA, UTM, X0, Y0, incidents, sector_layer

from parsc_geo._errors import ConfigError, InputDataError
from parsc_geo.patrol import NO_SUBSECTOR, plan_patrols
from parsc_geo.patrol.schedule import ScheduleOptions
from parsc_geo.patrol.windows import DAY_TYPES


@pytest.fixture(scope="module")
def data():
    return incidents()


@pytest.fixture(scope="module")
def plan(data):
    return plan_patrols(data, sector_layer(), method="grid", cell_size_m=100)


# -- check inputs -----------------------------------------------------------------------------


def test_unassigned_incidents_are_rejected(data):
    with pytest.raises(InputDataError, match="sector") as info:
        plan_patrols(data.drop(columns=["sector", "subsector"]), sector_layer())
    assert "assign_incidents" in str(info.value)


def test_unknown_comisaria_names_the_known_ones(data):
    with pytest.raises(ConfigError, match="COMISARIA PNP DEMO"):
        plan_patrols(data, sector_layer(), comisaria="NO EXISTE")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "kde"}, "method"),
        ({"min_count": 0}, "min_count"),
        ({"eps_m": -1}, "eps_m"),
        ({"risk": "density"}, "risk"),
        ({"share": 0}, "share"),
        ({"max_points": 0}, "max_points"),
    ],
)
def test_bad_parameters_are_rejected(data, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        plan_patrols(data, sector_layer(), **{"method": "grid", **kwargs})


# -- check outputs ----------------------------------------------------------------------------


def test_sectors_follow_the_natural_order_of_labels(plan):
    assert [sp.sector for sp in plan.sectors] == ["SECTOR 1", "SECTOR 2", "SECTOR 10"]
    assert [list(sp.subsectors["subsector"]) for sp in plan.sectors] == [
        ["SUB SECTOR A", "SUB SECTOR B"]
    ] * 3


def test_comisaria_selection_by_name_or_id(data):
    by_name = plan_patrols(data, sector_layer(), comisaria="comisaria pnp demo", method="grid")
    by_id = plan_patrols(data, sector_layer(), comisaria="9999", method="grid")
    assert len(by_name.sectors) == len(by_id.sectors) == 3


def test_numbers_add_up(plan, data):
    # Independent counts from the fixture table itself.
    expected = data.groupby("sector").size().to_dict()
    for sp in plan.sectors:
        assert sp.n_incidents == expected[sp.sector]
        by_sub = sp.subsector_counts()
        assert sum(n for _, n, _ in by_sub) == sp.n_incidents
        own = data[data["sector"] == sp.sector]
        for label, n, harm in by_sub:
            rows = own[own["subsector"] == label]
            assert n == len(rows)
            assert harm == pytest.approx(rows["harm"].sum())
        assert int(sp.hour_day.to_numpy().sum()) + sp.n_no_time == sp.n_incidents
        assert sp.n_no_time == int((~own["time_known"]).sum())
    summary = plan.summary_frame()
    com = summary[summary["nivel"] == "comisaría"].iloc[0]
    sectors = summary[summary["nivel"] == "sector"]
    subs = summary[summary["nivel"] == "subsector"]
    assert com["n"] == len(data) == sectors["n"].sum() == subs["n"].sum()
    assert com["n_sin_hora"] == sectors["n_sin_hora"].sum() == subs["n_sin_hora"].sum()
    assert com["dano"] == pytest.approx(data["harm"].sum())
    mods = plan.modalidades_frame()
    for level in ("comisaría", "sector", "subsector"):
        assert mods.loc[mods["nivel"] == level, "n"].sum() == len(data)
    long = plan.hour_day_frame()
    for level in ("comisaría", "sector", "subsector"):
        assert long.loc[long["nivel"] == level, "n"].sum() == int(data["time_known"].sum())
    subs_long = long[long["nivel"] == "subsector"]
    for (sector, sub), part in subs_long.groupby(["sector", "subsector"]):
        own = data[(data["sector"] == sector) & (data["subsector"] == sub)]
        assert part["n"].sum() == int(own["time_known"].sum())


def test_modalidades_are_grouped_with_their_delito_especifico(plan):
    mods = plan.modalidades_frame()
    sector1 = mods[(mods["nivel"] == "sector") & (mods["sector"] == "SECTOR 1")]
    got = dict(zip(sector1["etiqueta"], sector1["n"], strict=True))
    # Fixture: 12 ROBO AGRAVADO (cluster P), 7 HURTO SIMPLE (cluster Q), scatter HURTO AGRAVADO.
    assert got["ROBO AGRAVADO"] == 12
    assert got["HURTO SIMPLE"] == 7
    assert list(sector1["n"]) == sorted(sector1["n"], reverse=True)


def test_windows_cover_at_least_the_share(data):
    for share in (0.3, 0.6, 0.9):
        plan = plan_patrols(data, sector_layer(), method="grid", share=share, block_hours=1)
        for sp in plan.sectors:
            own = data[(data["sector"] == sp.sector) & data["time_known"]]
            local = own["occurred_at"].dt.tz_convert("America/Lima")
            for day_type, (_, days) in DAY_TYPES.items():
                of_type = local[local.dt.day_of_week.isin(days)]
                hours = {
                    (w.start_hour + k) % 24 for w in sp.windows[day_type] for k in range(w.hours)
                }
                inside = of_type.dt.hour.isin(hours).sum()
                assert inside >= share * len(of_type) - 1e-9
                assert sp.window_share(day_type) == pytest.approx(
                    inside / len(of_type) if len(of_type) else 0.0
                )


def test_critical_points_are_the_planted_clusters(plan, data):
    sp = plan.sectors[0]
    assert [p["rango"] for p in sp.points] == [1, 2]
    first, second = sp.points
    metric = data.to_crs(UTM)
    own = metric[metric["sector"] == "SECTOR 1"]
    for point in (first, second):
        inside = own[own.geometry.intersects(point["geometry"])]
        assert point["n"] == len(inside)
        assert point["dano"] == pytest.approx(inside["harm"].sum())
    # Cluster P (12 robberies at 150, 350 m) ranks first, cluster Q (7 thefts) second.
    assert first["geometry"].contains(box(X0 + 135, Y0 + 335, X0 + 165, Y0 + 365))
    assert first["subsector"] == "SUB SECTOR A" and first["n"] >= 12
    assert second["subsector"] == "SUB SECTOR B" and second["n"] >= 7
    assert first["modalidades"].startswith("ROBO AGRAVADO (12)")
    assert first["horas_pico"] in ("19–22 h", "20–23 h")
    assert "viernes" in first["dias_pico"]
    assert plan.sectors[2].points == []  # SECTOR 10 has only scatter


def test_large_candidates_are_shrunk_to_a_small_core(data):
    # A hotspot covering the whole of SECTOR 1 is a neighbourhood, not a critical point.
    huge = gpd.GeoDataFrame(
        {"hotspot_id": ["h-1"]}, geometry=[box(X0 - 10, Y0 - 10, X0 + 1010, Y0 + 510)], crs=UTM
    )
    plan = plan_patrols(data, sector_layer(), hotspots=huge.to_crs("EPSG:4326"), core_radius_m=50)
    sp = plan.sectors[0]
    assert len(sp.points) == 1
    point = sp.points[0]
    assert point["area_m2"] <= math.pi * 50**2 * 1.001
    assert point["origen_id"] == "h-1"
    # The densest incident is in cluster P, whose 12 incidents lie within 30 m of each other.
    assert point["geometry"].contains(box(X0 + 140, Y0 + 340, X0 + 160, Y0 + 360))
    assert plan.parameters["method"] == "hotspots"


def test_an_incident_counts_in_one_point_only(data):
    cells = gpd.GeoDataFrame(
        {"hotspot_id": ["a", "b"]},
        geometry=[
            box(X0 + 100, Y0 + 300, X0 + 200, Y0 + 400),
            box(X0 + 100, Y0 + 300, X0 + 160, Y0 + 400),
        ],
        crs=UTM,
    )
    plan = plan_patrols(data, sector_layer(), hotspots=cells.to_crs("EPSG:4326"), min_count=3)
    ids = [p["origen_id"] for p in plan.sectors[0].points]
    assert ids[0] == "a"
    total = sum(p["n"] for p in plan.sectors[0].points)
    metric = data.to_crs(UTM)
    assert total == int(metric.geometry.intersects(cells.geometry.iloc[0]).sum())


def test_at_station_incidents_do_not_make_critical_points(data):
    stacked = data.copy()
    cluster = stacked["modalidad"].eq("AGRAVADO") & stacked["delito_especifico"].eq("ROBO")
    stacked.loc[cluster, "at_station"] = True
    plan = plan_patrols(stacked, sector_layer(), method="grid")
    assert all(p["n"] < 12 for p in plan.sectors[0].points)
    assert plan.sectors[0].n_incidents == int((data["sector"] == "SECTOR 1").sum())
    assert any("comisaría" in note for note in plan.sectors[0].notes)


def test_empty_labels_from_the_workspace_are_missing(data):
    blanked = data.copy()
    first = blanked.index[0]
    blanked.loc[first, "subsector"] = ""
    plan = plan_patrols(blanked, sector_layer(), method="grid")
    labels = [label for label, _, _ in plan.sectors[0].subsector_counts()]
    assert labels[-1] == NO_SUBSECTOR
    outside = data.copy()
    outside.loc[first, "sector"] = ""
    plan = plan_patrols(outside, sector_layer(), method="grid")
    assert plan.n_outside == 1
    assert sum(sp.n_incidents for sp in plan.sectors) == len(data) - 1


def test_schedule_fits_the_shifts_and_follows_risk(plan):
    opts = plan.schedule_options
    for sp in plan.sectors:
        for day_type, shifts in sp.schedules.items():
            assert len(shifts) == opts.shifts
            for sh in shifts:
                for unit in range(1, opts.units + 1):
                    assert sh.minutes_used(unit) <= opts.available_minutes
                for v in sh.visits:
                    hour = (sh.start_hour + v.start // 60) % 24
                    assert any(w.contains(hour) for w in sp.windows[day_type])
    frame = plan.schedule_frame()
    pts = plan.points_frame()
    weekday = frame[frame["tipo_dia"] == "Lunes a viernes"].groupby("punto_id").size()
    for pid, n in zip(pts["punto_id"], pts["visitas_laborable"], strict=True):
        assert n == weekday.get(pid, 0)
    assert set(frame["tipo_dia"]) <= {label for label, _ in DAY_TYPES.values()}
    assert (frame["minutos_visita"] == opts.visit_minutes).all()


def test_scarce_time_goes_to_the_riskier_point(data):
    opts = ScheduleOptions(available_hours=0.5, visit_minutes=10, revisit_minutes=10)
    plan = plan_patrols(data, sector_layer(), method="grid", schedule=opts, share=1.0)
    sp = plan.sectors[0]
    visits = [v.point for shifts in sp.schedules.values() for sh in shifts for v in sh.visits]
    assert visits.count(0) >= visits.count(1)
    for shifts in sp.schedules.values():
        for sh in shifts:
            assert sh.minutes_used(1) <= 30


def test_points_frame_is_geographic_with_stable_ids(plan):
    pts = plan.points_frame()
    assert pts.crs.to_epsg() == 4326
    assert list(pts["punto_id"]) == [
        "PC-9999-SECTOR 1-01",
        "PC-9999-SECTOR 1-02",
        "PC-9999-SECTOR 2-01",
    ]
    assert pts["comisaria"].eq(COMISARIA).all()
    assert pts["lon"].between(-79, -78).all() and pts["lat"].between(-7.3, -7.0).all()
    assert sorted(pts.loc[pts["sector"] == "SECTOR 1", "orden_visita"]) == [1, 2]
    assert pts.attrs["parameters"]["min_count"] == 5
    # Ranks across the comisaría follow the risk (incidents) whatever the sector.
    by_rank = pts.sort_values("rango_comisaria")
    assert list(by_rank["rango_comisaria"]) == [1, 2, 3]
    assert list(by_rank["n"]) == sorted(pts["n"], reverse=True)
    assert (pts["rango_subsector"] == 1).all()  # one point per subsector here


def test_shuffling_rows_changes_nothing(data, plan):
    shuffled = data.sample(frac=1.0, random_state=4)
    again = plan_patrols(shuffled, sector_layer().iloc[::-1], method="grid", cell_size_m=100)
    pd.testing.assert_frame_equal(
        plan.points_frame().drop(columns="geometry"), again.points_frame().drop(columns="geometry")
    )
    pd.testing.assert_frame_equal(plan.schedule_frame(), again.schedule_frame())
    pd.testing.assert_frame_equal(plan.summary_frame(), again.summary_frame())


def test_dbscan_candidates_from_the_hotspot_engine(data):
    pytest.importorskip("sklearn")
    plan = plan_patrols(data, sector_layer(), method="dbscan", eps_m=40)
    first = plan.sectors[0].points[0]
    assert first["n"] >= 12
    assert first["origen_id"].startswith("dbscan")
    assert first["area_m2"] < 40_000


def test_a_sector_without_incidents_still_gets_a_plan(data):
    layer = sector_layer()
    empty = layer[layer["sector"] == "SECTOR 1"].copy()
    empty["sector"] = "SECTOR 3"
    plan = plan_patrols(data, pd.concat([layer, empty]), method="grid")
    assert [sp.sector for sp in plan.sectors] == ["SECTOR 1", "SECTOR 2", "SECTOR 3", "SECTOR 10"]
    sp = plan.sectors[2]
    assert sp.n_incidents == 0 and sp.points == [] and sp.n_no_time == 0
    assert all(ws == [] for ws in sp.windows.values())
    assert all(not sh.visits for shifts in sp.schedules.values() for sh in shifts)
    assert [n for _, n, _ in sp.subsector_counts()] == [0, 0]


def test_hotspots_without_crs_are_rejected(data):
    from parsc_geo._errors import CRSError

    cells = gpd.GeoDataFrame({"hotspot_id": ["a"]}, geometry=[box(0, 0, 1, 1)])
    with pytest.raises(CRSError, match="no tienen SRC"):
        plan_patrols(data, sector_layer(), hotspots=cells)


# -- what a plan holds ------------------------------------------------------------------------


def test_sector_tasks_carry_the_rows_a_projected_copy_gave(data):
    import pickle

    import numpy as np
    from geopandas.testing import assert_geodataframe_equal

    from parsc_geo.patrol.plan import _planned_columns, _SectorRows

    blanked = data.copy()
    blanked.loc[blanked.index[0], "subsector"] = "  "
    blanked.loc[blanked.index[1], "subsector"] = None
    positions = np.flatnonzero((blanked["sector"] == "SECTOR 1").to_numpy())
    # what every task held before: the whole table projected, blank labels None, then cut
    whole = _planned_columns(blanked).to_crs(UTM)
    for col in ("comisaria", "sector", "subsector"):
        blank = whole[col].isna() | (whole[col].astype(str).str.strip() == "")
        whole[col] = whole[col].astype(object).where(~blank, None)
    expected = whole.iloc[positions]
    rows = _SectorRows(_planned_columns(blanked), positions, whole.crs)
    assert len(rows) == len(positions)
    # as a worker receives it, and as it is loaded in this process
    assert_geodataframe_equal(pickle.loads(pickle.dumps(rows)), expected)
    assert_geodataframe_equal(rows.load(), expected)
    assert expected["subsector"].iloc[:2].tolist() == [None, None]


def test_plans_keep_the_columns_sheets_read_and_one_string_per_label(plan, data):
    from parsc_geo.patrol.plan import _SHEET_COLUMNS

    for sp in plan.sectors:
        assert set(sp.incidents.columns) == {*_SHEET_COLUMNS, "geometry"}
        if not sp.n_incidents:
            continue
        own = data[(data["sector"] == sp.sector).to_numpy()]
        assert sp.incidents["subsector"].tolist() == own["subsector"].tolist()
        for col in ("comisaria", "sector", "subsector"):
            # the rows of one label share one string object
            assert len({id(v) for v in sp.incidents[col]}) == sp.incidents[col].nunique()
