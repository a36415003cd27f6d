import datetime as dt
import zipfile

from openpyxl import Workbook, load_workbook

from parsc_geo.io.xlsx import DEFAULT_DOCUMENT_DATE, document_date, freeze_xlsx


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


# -- the one formatting of workbooks for people ----------------------------------------------

import pandas as pd  # noqa: E402

from parsc_geo.io.xlsx import (  # noqa: E402
    DATE_FORMAT,
    DECIMAL_FORMAT,
    INTEGER_FORMAT,
    Table,
    write_workbook,
)
from parsc_geo.settings import SYNTHETIC_BANNER  # noqa: E402


def test_tables_get_filters_frozen_header_widths_and_number_formats(tmp_path):
    frame = pd.DataFrame(
        {
            "Provincia": ["Cajamarca", '=HYPERLINK("x")', "Jaén"],
            "Incidentes": [5318, 2846, 0],
            "Tasa": [12.345, 0.5, None],
            "Fecha": pd.to_datetime(["2020-01-31", "2020-02-29", "2020-03-31"]),
            "Conteo leído": [3.0, None, 7.0],  # whole numbers with a gap: still counts
            "PAI": [1.5, 2.25, 3.0],
        }
    )
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "Una hoja con un nombre demasiado largo para Excel": Table(
                frame, title="Título", notes=["Periodo: 2020"], number_formats={"PAI": "0.0"}
            )
        },
        synthetic=True,
    )
    book = load_workbook(path)
    (sheet,) = book.worksheets
    assert sheet.title == "Una hoja con un nombre demasiado"[:31]
    # title, banner and note above; the header on row 4
    assert [sheet.cell(r, 1).value for r in (1, 2, 3, 4)] == [
        "Título",
        SYNTHETIC_BANNER,
        "Periodo: 2020",
        "Provincia",
    ]
    assert sheet.cell(4, 1).font.bold
    assert sheet.auto_filter.ref == "A4:F7"
    assert sheet.freeze_panes == "A5"
    formats = {sheet.cell(4, k).value: sheet.cell(5, k).number_format for k in range(1, 7)}
    assert formats == {
        "Provincia": "General",
        "Incidentes": INTEGER_FORMAT,
        "Tasa": DECIMAL_FORMAT,
        "Fecha": DATE_FORMAT,
        "Conteo leído": INTEGER_FORMAT,
        "PAI": "0.0",
    }
    # widths: header or longest content + 2, between 8 and 60 characters
    assert sheet.column_dimensions["A"].width == len('=HYPERLINK("x")') + 2
    assert sheet.column_dimensions["B"].width == len("Incidentes") + 2
    # numbers stay numbers, missing values empty, formula-like text stays text
    assert sheet["B5"].value == 5318 and sheet["C7"].value is None
    assert sheet["A6"].data_type == "s" and sheet["A6"].quotePrefix


def test_workbooks_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    one = write_workbook(tmp_path / "1.xlsx", {"Hoja": frame})
    two = write_workbook(tmp_path / "2.xlsx", {"Hoja": frame})
    assert one.read_bytes() == two.read_bytes()
