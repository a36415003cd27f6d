import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from parsc_geo.io.coords import classify_pairs, parse_numbers, parse_utm_zone, utm_to_lonlat
from parsc_geo.io.dates import parse_hours, parse_occurrence


def test_parse_numbers():
    values, missing = parse_numbers(
        pd.Series(
            ["-7,1603", " -78.5130 ", "", "775,123.5", "7°09'36\"S", "abc", "NULL"], dtype=object
        )
    )
    assert values[0] == pytest.approx(-7.1603)
    assert values[1] == pytest.approx(-78.513)
    assert values[3] == pytest.approx(775123.5)
    assert values[4] == pytest.approx(-(7 + 9 / 60 + 36 / 3600))
    assert np.isnan(values[[2, 5, 6]]).all()
    assert missing.tolist() == [False, False, True, False, False, False, True]


def test_utm_zones_and_conversion():
    zone, south = parse_utm_zone(pd.Series(["17S", "18 s", "", "17M", "99"]), "17S", 5)
    assert zone.tolist() == [17, 18, 17, 17, 0]
    assert south.tolist() == [True, True, True, True, True]
    # reference: pyproj directly
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:32717", always_xy=True).transform(-78.5, -7.17)
    lon, lat = utm_to_lonlat(np.array([e]), np.array([n]), np.array([17]), np.array([True]))
    assert lon[0] == pytest.approx(-78.5, abs=1e-9) and lat[0] == pytest.approx(-7.17, abs=1e-9)


def test_classify_pairs():
    x = np.array([-78.5, 775_000.0, 9_207_000.0, -8_738_000.0, np.nan])
    y = np.array([-7.17, 9_207_000.0, 775_000.0, -800_000.0, 1.0])
    k = classify_pairs(x, y)
    assert k.degrees.tolist() == [True, False, False, False, False]
    assert k.utm.tolist() == [False, True, False, False, False]
    assert k.utm_swapped.tolist() == [False, False, True, False, False]
    assert k.mercator.tolist() == [False, False, False, True, False]


def test_hours():
    seconds, empty, bad = parse_hours(
        pd.Series(
            ["20:30", "8:05 pm", "2030", "20h15", "", "25:00", dt.time(7, 45), 0.5], dtype=object
        )
    )
    assert seconds[:4].tolist() == [73800, 72300, 73800, 72900]
    assert empty.tolist() == [False, False, False, False, True, False, False, False]
    assert bad.tolist() == [False, False, False, False, False, True, False, False]
    assert seconds[6] == 7 * 3600 + 45 * 60 and seconds[7] == 43200


def test_occurrence_rules():
    date = pd.Series(
        ["05/03/2020", "2020-03-06", "7 de marzo de 2020", "", "31/02/2020", "08/03/2020"]
    )
    hora = pd.Series(["20:30", "", "06:00", "", "", "xx"])
    t = parse_occurrence(date=date, time=hora, datetime_=None, n=6)
    assert str(t.occurred_at.dt.tz) == "America/Lima"
    assert t.occurred_at.iloc[0] == pd.Timestamp("2020-03-05 20:30", tz="America/Lima")
    assert t.occurred_at.iloc[1] == pd.Timestamp("2020-03-06 00:00", tz="America/Lima")
    assert t.occurred_at.iloc[2] == pd.Timestamp("2020-03-07 06:00", tz="America/Lima")
    assert t.time_known.tolist() == [True, False, True, False, False, False]
    assert t.status.tolist() == ["", "", "", "missing_date", "unparseable_date", ""]
    assert t.time_unparsed.tolist() == [False, False, False, False, False, True]


def test_epoch_milliseconds_are_utc():
    # 1547269200000 = 2019-01-12 05:00 UTC = 00:00 in Lima (SIDPOL example)
    # 1547334000000 = 2019-01-12 23:00 UTC = 18:00 in Lima
    t = parse_occurrence(
        date=None, time=None, datetime_=pd.Series(["1547269200000", "1547334000000"]), n=2
    )
    assert t.occurred_at.iloc[0] == pd.Timestamp("2019-01-12 00:00", tz="America/Lima")
    assert t.occurred_at.iloc[1] == pd.Timestamp("2019-01-12 18:00", tz="America/Lima")
    # exact local midnight is SIDPOL's "no hour": time unknown
    assert t.time_known.tolist() == [False, True]


def test_iso_with_offset_and_excel_values():
    t = parse_occurrence(
        date=None,
        time=None,
        datetime_=pd.Series(
            ["2020-03-05T20:30:00Z", dt.datetime(2020, 3, 5, 9, 15), 43895.5], dtype=object
        ),
        n=3,
    )
    assert t.occurred_at.iloc[0] == pd.Timestamp("2020-03-05 15:30", tz="America/Lima")
    assert t.occurred_at.iloc[1] == pd.Timestamp("2020-03-05 09:15", tz="America/Lima")
    # Excel serial 43895.5 = 2020-03-05 12:00
    assert t.occurred_at.iloc[2] == pd.Timestamp("2020-03-05 12:00", tz="America/Lima")
    assert t.time_known.tolist() == [True, True, True]
