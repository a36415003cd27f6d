"""Periods of the space-time cube: sfhotspot's automatic rule, parsing and alignment."""

from __future__ import annotations

import pandas as pd
import pytest

from parsc_geo._errors import ConfigError
from parsc_geo.trends.periods import (
    PeriodSpec,
    auto_period,
    local_dates,
    make_periods,
    parse_date_range,
    parse_period,
)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        # sfhotspot R/hotspot_classify.R: ≤ 14 days → days; ≤ 91 → weeks; ≤ 366·2 → 28 days;
        # ≤ 3653 → 91 days; ≤ 3653·2 → years; beyond, a tenth of the span.
        (0, PeriodSpec(1, "day")),
        (14, PeriodSpec(1, "day")),
        (15, PeriodSpec(7, "day")),
        (91, PeriodSpec(7, "day")),
        (92, PeriodSpec(28, "day")),
        (732, PeriodSpec(28, "day")),
        (733, PeriodSpec(91, "day")),
        (3653, PeriodSpec(91, "day")),
        (3654, PeriodSpec(1, "year")),
        (7306, PeriodSpec(1, "year")),
        (7310, PeriodSpec(731, "day")),
    ],
)
def test_auto_period_follows_sfhotspot(span: float, expected: PeriodSpec) -> None:
    assert auto_period(span) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("day", PeriodSpec(1, "day")),
        ("semana", PeriodSpec(7, "day")),
        ("2 weeks", PeriodSpec(14, "day")),
        ("28 days", PeriodSpec(28, "day")),
        ("28 días", PeriodSpec(28, "day")),
        ("Month", PeriodSpec(1, "month")),
        ("trimestre", PeriodSpec(3, "month")),
        ("3 meses", PeriodSpec(3, "month")),
        ("año", PeriodSpec(1, "year")),
    ],
)
def test_parse_period(text: str, expected: PeriodSpec) -> None:
    assert parse_period(text) == expected


def test_parse_period_rejects_unknown_units() -> None:
    with pytest.raises(ConfigError, match="periodo no reconocido"):
        parse_period("fortnight")
    with pytest.raises(ConfigError):
        parse_period("0 days")


def test_labels() -> None:
    assert PeriodSpec(28, "day").label() == "28 días"
    assert PeriodSpec(7, "day").label() == "1 semana"
    assert PeriodSpec(3, "month").label() == "1 trimestre"
    assert PeriodSpec(1, "month").label() == "1 mes"


def test_end_alignment_keeps_only_complete_periods() -> None:
    # 2020-01-01 … 2020-10-31 (305 days), 28-day periods laid back from 2020-11-01:
    # 10 periods (280 days) from 2020-01-26; the first 25 days are a partial period, dropped.
    periods = make_periods(
        pd.Timestamp("2020-01-01"), pd.Timestamp("2020-10-31"), PeriodSpec(28, "day"), "end"
    )
    assert len(periods) == 10
    assert periods.starts[0] == pd.Timestamp("2020-01-26")
    assert periods.ends[-1] == pd.Timestamp("2020-11-01")
    dates = pd.Series(pd.to_datetime(["2020-01-25", "2020-01-26", "2020-02-22", "2020-02-23",
                                      "2020-10-31"]))  # fmt: skip
    assert list(periods.index_of(dates)) == [-1, 0, 0, 1, 9]


def test_start_alignment_and_calendar_months() -> None:
    # Months from 2020-01-31 forward: edges are 31 Jan + k months (29 Feb, 31 Mar, 30 Apr,
    # 31 May), computed from the anchor so they do not drift to the 29th. The data end on
    # 30 May, so [30 Apr, 31 May) is complete; [31 May, 30 Jun) is not and is dropped.
    periods = make_periods(
        pd.Timestamp("2020-01-31"), pd.Timestamp("2020-05-30"), PeriodSpec(1, "month"), "start"
    )
    assert list(periods.starts.strftime("%m-%d")) == ["01-31", "02-29", "03-31", "04-30"]
    assert periods.ends[-1] == pd.Timestamp("2020-05-31")


def test_end_alignment_of_calendar_months() -> None:
    periods = make_periods(
        pd.Timestamp("2021-01-01"), pd.Timestamp("2021-12-31"), PeriodSpec(1, "month"), "end"
    )
    assert len(periods) == 12
    assert list(periods.starts.month) == list(range(1, 13))
    assert all(s.day == 1 for s in periods.starts)


def test_local_dates_reads_peru_time() -> None:
    # 2021-03-01 03:00 UTC is still 2021-02-28 in Lima (UTC−5).
    aware = pd.Series(pd.to_datetime(["2021-03-01 03:00"]).tz_localize("UTC"))
    assert local_dates(aware, "America/Lima").iloc[0] == pd.Timestamp("2021-02-28")
    # without a zone, aware times keep their own (a workspace's times are in its zone)
    assert local_dates(aware).iloc[0] == pd.Timestamp("2021-03-01")
    lima = aware.dt.tz_convert("America/Lima")
    assert local_dates(lima).iloc[0] == pd.Timestamp("2021-02-28")
    assert local_dates(pd.Series(["2021-03-01 23:59"])).iloc[0] == pd.Timestamp("2021-03-01")


def test_parse_date_range() -> None:
    assert parse_date_range("2020") == (pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"))
    assert parse_date_range("2020-02:2020-03") == (
        pd.Timestamp("2020-02-01"),
        pd.Timestamp("2020-03-31"),
    )
    assert parse_date_range("2020-02-10") == (pd.Timestamp("2020-02-10"),) * 2
    for bad in ("20", "2020-13", "2021:2020", "2020:"):
        with pytest.raises(ConfigError):
            parse_date_range(bad)
