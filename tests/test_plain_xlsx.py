"""Plain tables written straight as SpreadsheetML: the bytes pandas + openpyxl write."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from parsc_geo.reports.plain_xlsx import pandas_xlsx, write_plain_xlsx

DATE = dt.datetime(2020, 10, 31, tzinfo=dt.UTC)


def _tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    n = 300
    mixed = pd.DataFrame(
        {
            "Comisaría": rng.choice(["COMISARÍA A", "B & C <sur>", " con espacio", "   "], n),
            "Sector": pd.Series(rng.choice(["SECTOR 1", None], n), dtype=object),
            "Denuncias": rng.integers(0, 10**6, n),
            "Daño": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1e3, n)),
            "Activo": rng.random(n) < 0.5,
            "Texto": pd.Series(rng.choice(["línea\nnueva", "ñandú", "", "x"], n), dtype="string"),
        }
    )
    mixed.loc[3, "Daño"] = np.inf
    mixed.loc[4, "Daño"] = -np.inf
    mixed.loc[5, "Daño"] = -0.0
    mixed.loc[6, "Daño"] = 1e-300
    mixed.loc[7, "Denuncias"] = 2**62
    objects = pd.DataFrame({"n": pd.Series([np.int64(3), 2.5, True, None, "t"], dtype=object)})
    return {
        "Mezcla": mixed,
        "Objetos": objects,
        "Solo encabezado": mixed.iloc[:0],
        "Vacía": pd.DataFrame(),
    }


def test_same_bytes_as_pandas_and_openpyxl(tmp_path: Path) -> None:
    tables = _tables()
    pandas_xlsx(tmp_path / "a.xlsx", tables, date=DATE, creator="parsc-geo")
    write_plain_xlsx(tmp_path / "b.xlsx", tables, date=DATE, creator="parsc-geo")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    book = openpyxl.load_workbook(tmp_path / "b.xlsx")
    assert book.sheetnames == list(tables)
    sheet = book["Mezcla"]
    assert sheet["C9"].value == 2**62 and sheet["D5"].value == "inf"
    assert sheet["E2"].data_type == "b"
    assert book.properties.creator == "parsc-geo"
    with zipfile.ZipFile(tmp_path / "b.xlsx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(2020, 10, 31, 0, 0, 0)}


def test_text_is_never_a_formula_or_an_error(tmp_path: Path) -> None:
    hostile = pd.DataFrame({"Modalidad": ['=HYPERLINK("http://x")', "#N/A", "+1", "a\x07b"]})
    write_plain_xlsx(tmp_path / "h.xlsx", {"Hoja": hostile}, date=DATE, creator="parsc-geo")
    sheet = openpyxl.load_workbook(tmp_path / "h.xlsx")["Hoja"]
    assert [c.value for c in sheet["A"][1:]] == ['=HYPERLINK("http://x")', "#N/A", "+1", "ab"]
    assert {c.data_type for c in sheet["A"]} == {"s"}


def test_dates_fall_back_to_pandas(tmp_path: Path) -> None:
    dated = pd.DataFrame({"Fecha": pd.to_datetime(["2020-01-02", "2020-03-04"])})
    write_plain_xlsx(tmp_path / "d.xlsx", {"Hoja": dated}, date=DATE, creator="parsc-geo")
    pandas_xlsx(tmp_path / "e.xlsx", {"Hoja": dated}, date=DATE, creator="parsc-geo")
    assert (tmp_path / "d.xlsx").read_bytes() == (tmp_path / "e.xlsx").read_bytes()
    cell = openpyxl.load_workbook(tmp_path / "d.xlsx")["Hoja"]["A2"]
    assert cell.value == dt.datetime(2020, 1, 2)


@pytest.mark.parametrize("index", [1, 26, 27, 52, 53, 702, 703, 16384])
def test_column_letters(index: int) -> None:
    from openpyxl.utils import get_column_letter

    from parsc_geo.reports.plain_xlsx import _column_letter

    assert _column_letter(index) == get_column_letter(index)
