"""Deterministic and atomic saving of report files."""

from __future__ import annotations

import datetime as dt

import pytest

from parsc_geo._errors import OutputError
from parsc_geo.reports.pdf import atomic_path, metadata_date


def test_metadata_date_prefers_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert metadata_date("2020-10-31") == dt.datetime(1970, 1, 2, tzinfo=dt.UTC)


def test_metadata_date_falls_back_to_the_data_then_a_constant(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert metadata_date("2020-10-31") == dt.datetime(2020, 10, 31, tzinfo=dt.UTC)
    assert metadata_date(None) == dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def test_atomic_path_refuses_to_overwrite(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    with (
        pytest.raises(OutputError, match="ya existe") as info,
        atomic_path(target, overwrite=False),
    ):
        pass
    assert "overwrite" in str(info.value)
    assert target.read_text() == "old"


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "a.csv"
    with atomic_path(target, overwrite=False) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.csv"]  # no temp file left
