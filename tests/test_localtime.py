"""Hours, weekdays and dates are read in the incidents' own time zone, never a fixed one."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from _ingest_fixtures import point, write_csv
from click.testing import CliRunner
from shapely.geometry import Point, box

from parsc_geo.cli.main import cli
from parsc_geo.incidents import select
from parsc_geo.io import read_points
from parsc_geo.localtime import incidents_zone, local_times
from parsc_geo.maps.atlas import period_text
from parsc_geo.patrol.windows import hour_day_table
from parsc_geo.profile import dated_weekdays, known_hours
from parsc_geo.trends.periods import local_dates
from parsc_geo.workspace import Workspace

TORONTO = (43.6532, -79.3832)


def _toronto() -> gpd.GeoDataFrame:
    # 2020-07-31 21:30 and 2020-12-31 23:30 in Toronto: in Lima (UTC−5 all year) the first is
    # 20:30 (Toronto is UTC−4 in July) and the second stays 23:30 (UTC−5 in December)
    times = pd.to_datetime(["2020-07-31 21:30", "2020-12-31 23:30"]).tz_localize("America/Toronto")
    lat, lon = TORONTO
    return gpd.GeoDataFrame(
        {"occurred_at": times, "time_known": [True, True]},
        geometry=[Point(lon, lat), Point(lon + 0.01, lat)],
        crs="EPSG:4326",
    )


def test_analysis_reads_hours_in_the_incidents_zone() -> None:
    data = _toronto()
    assert incidents_zone(data) == "America/Toronto"
    _, hours = known_hours(data)
    assert hours.tolist() == [21, 23]  # not 20 (Lima's clock)
    _, days = dated_weekdays(data)
    assert days.tolist() == [4, 3]  # Friday 31 July, Thursday 31 December 2020
    table = hour_day_table(data)
    assert int(table.loc[21].sum()) == 1 and int(table.loc[20].sum()) == 0
    assert period_text(data) == "2020-07-31 a 2020-12-31"
    # a zone named by the table wins over the times' own (a UTC copy of the same incidents)
    utc = data.assign(occurred_at=data["occurred_at"].dt.tz_convert("UTC"))
    utc.attrs["timezone"] = "America/Toronto"
    assert known_hours(utc)[1].tolist() == [21, 23]
    assert local_dates(utc["occurred_at"], incidents_zone(utc)).tolist() == [
        pd.Timestamp("2020-07-31"),
        pd.Timestamp("2020-12-31"),
    ]
    # naive times are local clock readings already
    naive = data.assign(occurred_at=data["occurred_at"].dt.tz_localize(None))
    assert local_times(naive["occurred_at"]).dt.hour.tolist() == [21, 23]


def test_period_selection_uses_local_months() -> None:
    # 2020-12-31 23:30 in Toronto is already January in UTC: it belongs to December
    data = _toronto()
    chosen = select(data, period="2020-12")
    assert len(chosen) == 1 and chosen.attrs["selection"]["n_outside_period"] == 1
    assert chosen["occurred_at"].iloc[0].day == 31


def test_read_points_keeps_the_local_clock_outside_peru(tmp_path) -> None:
    lat, lon = TORONTO
    path = write_csv(
        tmp_path / "toronto.csv",
        ["occurred_at", "lat", "lon"],
        [["2020-07-31T21:30:00-04:00", lat, lon], ["2020-12-31T23:30:00-05:00", lat, lon]],
    )
    pts = read_points(path)
    assert pts["occurred_at"].dt.hour.tolist() == [21, 23]
    assert "timezone" not in pts.attrs
    pts = read_points(path, timezone="America/Toronto")
    assert str(pts["occurred_at"].dt.tz) == "America/Toronto"
    assert pts["occurred_at"].dt.hour.tolist() == [21, 23]
    # in Peru, times with an offset are Lima's: 21:30−04:00 is 20:30 in Lima
    plat, plon = point(1)
    peru = write_csv(
        tmp_path / "peru.csv",
        ["occurred_at", "lat", "lon"],
        [["2020-07-31T21:30:00-04:00", plat, plon]],
    )
    pts = read_points(peru)
    assert pts.attrs["timezone"] == "America/Lima"
    assert pts["occurred_at"].dt.hour.tolist() == [20]


def test_workspace_names_its_zone(tmp_path) -> None:
    lat, lon = TORONTO
    path = write_csv(
        tmp_path / "t.csv",
        ["ID", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD"],
        [["T1", "31/07/2020", "21:30", "ROBBERY", lat, lon]],
    )
    area = tmp_path / "area.geojson"
    gpd.GeoDataFrame(
        geometry=[box(lon - 0.2, lat - 0.2, lon + 0.2, lat + 0.2)], crs="EPSG:4326"
    ).to_file(area)
    ws = tmp_path / "w.gpkg"
    res = CliRunner().invoke(
        cli,
        [
            "-q",
            "ingest",
            str(path),
            "-w",
            str(ws),
            "--study-area",
            str(area),
            "--timezone",
            "America/Toronto",
        ],
    )
    assert res.exit_code == 0, res.output
    got = Workspace(ws).read_incidents()
    assert got.attrs["timezone"] == "America/Toronto"
    assert known_hours(got)[1].tolist() == [21]
