import pandas as pd
import pytest

from parsc_geo import taxonomy
from parsc_geo._errors import ConfigError, InputDataError, ValidationError
from parsc_geo.priority.counts import (
    COUNT_COLUMNS,
    TAXONOMY_COLUMNS,
    classify_counts,
    counts_from_incidents,
    pad_ubigeo,
    read_count_table,
    read_counts,
    read_sidpol_csv,
)

SIDPOL_HEADER = "ANIO,MES,DPTO_HECHO_NEW,PROV_HECHO,DIST_HECHO,UBIGEO_HECHO,P_MODALIDADES,cantidad"


def write_sidpol(path, rows, *, bom=True):
    text = "\n".join([SIDPOL_HEADER, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.fixture
def sidpol_file(tmp_path):
    return write_sidpol(
        tmp_path / "DATASET_Denuncias_Policiales_Enero 2018 a Junio 2025.csv",
        [
            "2018,1,AMAZONAS,BAGUA,ARAMANGO,10202,Otros,4",
            "2024,3,CAJAMARCA,CAJAMARCA,CAJAMARCA,60101,Robo,12",
            "2024,3,CAJAMARCA,CAJAMARCA,CAJAMARCA,60101,Extorsión,2",
            "2024,3,CAJAMARCA,CAJAMARCA,CAJAMARCA,60101,Violencia contra la mujer e integrantes,30",
            "2024,12,CAJAMARCA,SAN PABLO,SAN PABLO,61201,Hurto,5",
            "2024,12,CAJAMARCA,SAN PABLO,SAN PABLO,61201,Hurto,1",
            "2024,1,JUNIN,HUANCAYO,HUANCAYO,120101,Estafa,9",
            "2024,2,CAJAMARCA,CAJAMARCA,CAJAMARCA,60101,Secuestro,1",
        ],
    )


# ---------------------------------------------------------------- check inputs


def test_sidpol_missing_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("ANIO,MES,UBIGEO_HECHO,cantidad\n2024,1,60101,3\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="P_MODALIDADES"):
        read_sidpol_csv(path)


def test_sidpol_bad_rows_listed_at_once(tmp_path):
    path = write_sidpol(
        tmp_path / "bad.csv",
        [
            "2024,1,CAJAMARCA,CAJAMARCA,CAJAMARCA,60101,Robo,3",
            "2024,13,CAJAMARCA,CAJAMARCA,CAJAMARCA,60101,Robo,3",
            "2024,2,CAJAMARCA,CAJAMARCA,CAJAMARCA,60101,Robo,tres",
            "2024,2,CAJAMARCA,CAJAMARCA,CAJAMARCA,6A,Robo,1",
        ],
    )
    with pytest.raises(ValidationError) as info:
        read_sidpol_csv(path)
    message = str(info.value)
    assert "3 problemas" in message
    assert "'MES'" in message and "fila de datos 2" in message
    assert "'cantidad'" in message and "'tres'" in message
    assert "UBIGEO" in message and "'6A'" in message


def test_missing_file(tmp_path):
    with pytest.raises(InputDataError, match="no se encontró el archivo"):
        read_counts(tmp_path / "nope.csv")


def test_generic_table_unknown_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("codigo,cosa,valor\n060101,ROBO,3\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="ubigeo, categoria, n"):
        read_count_table(path)


def test_generic_table_named_column_not_found(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("UBIGEO,DELITO,TOTAL\n060101,ROBO,3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'CASOS'"):
        read_count_table(path, count="CASOS")


# ---------------------------------------------------------------- check outputs


def test_pad_ubigeo():
    values = pd.Series(
        [60101, "60101", "060101", 60101.0, "10202", 130101, "601", "0601", "x", None]
    )
    assert pad_ubigeo(values).tolist() == [
        "060101",
        "060101",
        "060101",
        "060101",
        "010202",
        "130101",
        "0601",
        "0601",
        pd.NA,
        pd.NA,
    ]


def test_read_sidpol_restores_zeros_and_sums_repeats(sidpol_file):
    df = read_sidpol_csv(sidpol_file)
    assert list(df.columns) == list(COUNT_COLUMNS)
    assert set(df["ubigeo"]) == {"010202", "060101", "061201", "120101"}
    hurto = df[(df["ubigeo"] == "061201") & (df["categoria"] == "Hurto")]
    assert hurto["n"].tolist() == [6]  # 5 + 1: repeated keys are summed
    assert hurto["source_row"].tolist() == [5]
    assert df.attrs["repeated_key_rows"] == 2
    assert df.attrs["rows_read"] == 8
    assert df.attrs["encoding"] == "utf-8-sig"
    assert df["n"].sum() == 4 + 12 + 2 + 30 + 6 + 9 + 1
    assert "Extorsión" in set(df["categoria"])  # accents read as UTF-8


def test_read_sidpol_without_bom(tmp_path):
    path = write_sidpol(tmp_path / "s.csv", ["2024,3,CAJAMARCA,JAEN,JAEN,60801,Robo,7"], bom=False)
    df = read_sidpol_csv(path)
    assert df["ubigeo"].tolist() == ["060801"]
    assert df["n"].tolist() == [7]


def test_read_counts_classifies_sidpol_values_like_the_taxonomy(sidpol_file):
    df = read_counts(sidpol_file)
    expected = taxonomy.sidpol_fenomeno(df["categoria"])
    assert df["fenomeno"].tolist() == expected.tolist()
    by_cat = dict(zip(df["categoria"], df["fenomeno"], strict=False))
    assert by_cat["Robo"] == "patrimonio_espacio_publico"
    assert by_cat["Hurto"] == "patrimonio_espacio_publico"
    assert by_cat["Estafa"] == "patrimonio_espacio_publico"
    assert by_cat["Extorsión"] == "bandas_criminales"
    assert by_cat["Violencia contra la mujer e integrantes"] == "violencia_mujer"
    assert by_cat["Otros"] == "otros"


def test_generic_semicolon_table_with_province_codes(tmp_path):
    path = tmp_path / "provincias.csv"
    path.write_text(
        "Ubigeo;Año;Delito;Casos\n601;2020;HOMICIDIO;4\n0608;2020;Robo agravado;11\n",
        encoding="cp1252",
    )
    df = read_counts(path)
    assert df["ubigeo"].tolist() == ["0601", "0608"]
    assert df["anio"].tolist() == [2020, 2020]
    assert df["mes"].isna().all()
    assert df["fenomeno"].tolist() == ["muertes_violentas", "patrimonio_espacio_publico"]
    assert df.attrs["encoding"] == "cp1252"


def test_generic_xlsx_table(tmp_path):
    path = tmp_path / "t.xlsx"
    pd.DataFrame(
        {"UBIGEO": [60101, 60201], "MODALIDAD": ["HURTO", "EXTORSION"], "CANTIDAD": [5, 2]}
    ).to_excel(path, index=False)
    df = read_counts(path)
    assert df["ubigeo"].tolist() == ["060101", "060201"]
    assert df["n"].tolist() == [5, 2]
    assert df["anio"].isna().all()


def test_read_count_table_detects_sidpol(sidpol_file):
    assert read_count_table(sidpol_file).attrs["format"] == "sidpol"


def test_counts_from_incidents():
    incidents = pd.DataFrame(
        {
            "ubigeo": ["060101", "060101", "60101", "", "060801"],
            "occurred_at": pd.to_datetime(
                ["2024-03-01", "2024-03-05", "2024-03-31", "2024-03-02", "2024-04-01"]
            ).tz_localize("America/Lima"),
            "delito_generico": ["CONTRA EL PATRIMONIO"] * 5,
            "delito_especifico": ["ROBO", "ROBO", "ROBO", "ROBO", "HURTO"],
            "modalidad": ["AGRAVADO", "AGRAVADO", "AGRAVADO", "AGRAVADO", "SIMPLE"],
            "fenomeno": ["patrimonio_espacio_publico"] * 5,
        }
    )
    df = counts_from_incidents(incidents, source="ws.gpkg")
    assert list(df.columns) == [*COUNT_COLUMNS, *TAXONOMY_COLUMNS]
    assert df.attrs["without_ubigeo"] == 1
    robo = df[df["categoria"] == "ROBO AGRAVADO"]
    assert robo[["ubigeo", "anio", "mes", "n"]].values.tolist() == [["060101", 2024, 3, 3]]
    hurto = df[df["categoria"] == "HURTO SIMPLE"]
    assert hurto[["ubigeo", "mes", "n"]].values.tolist() == [["060801", 4, 1]]


def test_classify_keeps_existing_fenomeno():
    counts = pd.DataFrame(
        {
            "ubigeo": ["060101", "060101"],
            "anio": [2024, 2024],
            "mes": [1, 1],
            "categoria": ["Robo", "X"],
            "n": [1, 2],
            "source": ["a", "b"],
            "source_row": [1, 1],
            "fenomeno": [None, "violencia_mujer"],
        }
    )
    out = classify_counts(counts)
    assert out["fenomeno"].tolist() == ["patrimonio_espacio_publico", "violencia_mujer"]
