import datetime as dt
import zipfile

from openpyxl import Workbook, load_workbook

from parsc_geo._xlsx import DEFAULT_DOCUMENT_DATE, document_date, freeze_xlsx


def make(path):
    wb = Workbook()
    wb.active.append(["Provincia", "n"])
    wb.active.append(["Cajamarca", 3])
    wb.save(path)


def test_frozen_workbooks_are_byte_identical_and_dated(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    make(a)
    make(b)
    freeze_xlsx(a)
    freeze_xlsx(b)
    assert a.read_bytes() == b.read_bytes()
    props = load_workbook(a).properties
    assert props.modified == DEFAULT_DOCUMENT_DATE.replace(tzinfo=None)
    assert props.created == DEFAULT_DOCUMENT_DATE.replace(tzinfo=None)
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    assert load_workbook(a).active["A2"].value == "Cajamarca"


def test_source_date_epoch_is_honoured(monkeypatch):
    # 2020-10-31T00:00:00Z = 1604102400 s after the Unix epoch
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1604102400")
    assert document_date() == dt.datetime(2020, 10, 31, tzinfo=dt.UTC)
