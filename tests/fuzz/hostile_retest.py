"""Hostile incident files of the issue-13 re-test, and a runner that checks what validate does.

New files and variants beyond ``fuzz_files.py``: UTF-16 with and without BOM, mixed line ends,
NUL bytes, Latin-1/cp1252 late in big files, stray quotes in several fields, missing and extra
fields, 20 MB and multi-line fields, header-only and empty files, workbooks with several sheets,
merged cells, formulas and error values, GeoJSON with null/invalid/3D/multi geometries and a
UTM CRS, deep KML, KMZ with 300 documents, path traversal, nested, encrypted, bzip2/LZMA and
corrupt members, entity bombs and XXE, shapefiles without .prj/.dbf/.shx or with a lying .cpg,
GeoPackages with two layers. Each file knows its physical data rows (None: not a data file).

For every file the runner checks: exit code in {0, 3, 4, 5, 6}, no traceback, and on exit 0
rows read = accepted + quarantined = the file's data rows. Usage::

    python tests/fuzz/hostile_retest.py --workdir /tmp/hostile [--only NAME ...]

It needs no network and no data beyond what it writes.
"""

# ruff: noqa: E501
from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

H = ["ID", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD", "DESCRIPCION"]


def pt(i):
    return round(-7.17 - 0.001 * (i % 20), 6), round(-78.5 + 0.001 * (i // 20), 6)


def write_files(D: Path) -> dict:
    """Write every hostile file into ``D``; return file name → physical data rows (or None)."""
    import geopandas as gpd
    from openpyxl import Workbook
    from shapely.geometry import Point

    D.mkdir(parents=True, exist_ok=True)
    man: dict = {}

    def row(i, desc=None, mod="Hurto"):
        la, lo = pt(i)
        return [
            f"R{i}",
            "05/03/2020",
            f"10:{i % 60:02d}",
            mod,
            str(la),
            str(lo),
            desc if desc is not None else f"robo en la cuadra {i}",
        ]

    def csvw(name, rows, sep=",", enc="utf-8", nl="\n", header=H, bom=b"", expect=None):
        text = nl.join(sep.join(r) for r in [header, *rows]) + nl
        (D / name).write_bytes(bom + text.encode(enc))
        man[name] = len(rows) if expect is None else expect

    N = 300
    rows = [row(i) for i in range(N)]
    csvw("utf16le_nobom.csv", rows, enc="utf-16-le")
    csvw("utf16be_bom.csv", rows, enc="utf-16-be", bom=b"\xfe\xff")
    csvw(
        "utf16le_bom_semicolon_crlf.csv", rows, sep=";", enc="utf-16-le", bom=b"\xff\xfe", nl="\r\n"
    )
    csvw("utf8bom_crlf.csv", rows, bom=b"\xef\xbb\xbf", nl="\r\n")
    # mixed line ends
    text = (
        ",".join(H)
        + "\r\n"
        + "".join(",".join(r) + ["\n", "\r\n", "\r"][i % 3] for i, r in enumerate(rows))
    )
    (D / "mixed_eol.csv").write_bytes(text.encode())
    man["mixed_eol.csv"] = N
    # NUL bytes
    r2 = [row(i, desc=f"robo\x00{i}" if i % 50 == 7 else None) for i in range(N)]
    csvw("nul_bytes.csv", r2)
    b = (D / "nul_bytes.csv").read_bytes()
    # NUL at the start of a line too
    (D / "nul_linestart.csv").write_bytes(b.replace(b"\nR100,", b"\n\x00R100,"))
    man["nul_linestart.csv"] = N
    # Latin-1 late in a big file, semicolon
    big = [row(i, desc="x" * 400) for i in range(6000)]
    big[5500][6] = "COACCIÓN con daño"
    csvw("latin1_late_semicolon.csv", big, sep=";", enc="latin-1")
    # cp1252 specific late
    big2 = [row(i, desc="y" * 400) for i in range(6000)]
    big2[5900][6] = "“robo” de 100€ — señor"
    csvw("cp1252_late.csv", big2, enc="cp1252")
    # utf-8 mostly but one lone invalid byte late
    raw = (
        ("\n".join(",".join(r) for r in [H, *big]) + "\n")
        .encode("utf-8")
        .replace(b"COACCI\xc3\x93N", b"COACCI\xd3N")
    )
    (D / "utf8_with_one_latin1_late.csv").write_bytes(raw)
    man["utf8_with_one_latin1_late.csv"] = 6000
    # stray quotes in several places
    r3 = [row(i) for i in range(N)]
    r3[5][6] = 'robo "grande" en la esquina'  # quote mid-field (not RFC but common)
    r3[20][3] = '"Hurto'  # opening quote in modalidad never closed
    r3[40][0] = 'R40"'  # quote at end of id
    r3[80][6] = '"robo, con coma'  # unbalanced quote + delimiter
    r3[150][6] = 'robo"'
    r3[299][6] = '"final sin cierre'  # last row unbalanced
    csvw("stray_quotes_many.csv", r3)
    # stray quote in header
    h2 = list(H)
    h2[6] = '"DESCRIPCION'
    csvw("stray_quote_header_last.csv", rows, header=h2)
    # extra/missing fields
    r4 = [list(r) for r in rows]
    r4[0] = r4[0][:5]
    r4[10] = r4[10] + ["extra", "extra2"]
    r4[299] = r4[299] + ["z"]
    r4[150] = r4[150][:1]
    csvw("extra_missing_fields.csv", r4)
    # extra field on every row (trailing commas not) - all rows have 8, header 7
    r5 = [[*r, "sobra"] for r in rows]
    csvw("extra_field_every_row.csv", r5)
    # huge field
    r6 = [list(r) for r in rows]
    r6[100][6] = "A" * (20 * 1024 * 1024)
    csvw("huge_field_20mb.csv", r6)
    # huge quoted field with newlines
    r7 = [list(r) for r in rows]
    r7[50][6] = '"' + ("linea\n" * 100000) + '"'
    csvw("huge_multiline_quoted.csv", r7)
    # header-only variants
    (D / "header_only_nonl.csv").write_bytes(",".join(H).encode())
    man["header_only_nonl.csv"] = 0
    (D / "header_only_utf16.csv").write_bytes(
        b"\xff\xfe" + (",".join(H) + "\r\n").encode("utf-16-le")
    )
    man["header_only_utf16.csv"] = 0
    (D / "header_only_blank_lines.csv").write_bytes((",".join(H) + "\n\n\n\n").encode())
    man["header_only_blank_lines.csv"] = 0
    (D / "empty.csv").write_bytes(b"")
    man["empty.csv"] = 0
    (D / "bom_only.csv").write_bytes(b"\xef\xbb\xbf")
    man["bom_only.csv"] = 0
    (D / "whitespace_only.csv").write_bytes(b"  \n\t\n\r\n")
    man["whitespace_only.csv"] = 0
    (D / "binary_garbage.csv").write_bytes(
        bytes(random.Random(1).randrange(256) for _ in range(5000))
    )
    man["binary_garbage.csv"] = None
    # duplicate column names
    h3 = list(H)
    h3[6] = "MODALIDAD"
    csvw("duplicate_columns.csv", rows, header=h3)
    # blank header cell
    h4 = list(H)
    h4[6] = ""
    csvw("blank_header_cell.csv", rows, header=h4)
    # only one column
    (D / "one_column.csv").write_bytes(b"ID\n1\n2\n3\n")
    man["one_column.csv"] = 3
    # blank lines between rows, and rows of only delimiters
    r8 = "\n".join(
        [",".join(H)]
        + [",".join(r) + ("\n,,,,,,\n" if i == 5 else "\n") for i, r in enumerate(rows[:50])]
    )
    (D / "blank_and_delim_rows.csv").write_bytes(r8.encode())
    man["blank_and_delim_rows.csv"] = 51  # ',,,,,,' row counted?
    # decimal comma with semicolon
    r9 = [[c.replace(".", ",") if j in (4, 5) else c for j, c in enumerate(r)] for r in rows]
    csvw("decimal_comma.csv", r9, sep=";")
    # pipe separated
    csvw("pipe.csv", rows, sep="|")
    # CR only line ends (old mac)
    csvw("cr_only.csv", rows, nl="\r")
    # quoted everything with embedded CRLF inside quotes and CR alone
    r10 = [['"' + c + '"' for c in r] for r in rows]
    r10[3][6] = '"a\r\nb\rc\nd"'
    csvw("quoted_embedded_eols.csv", r10)
    # Long header line, 2000 columns
    hh = H + [f"C{k}" for k in range(2000)]
    csvw("wide_2000_cols.csv", [r + [""] * 2000 for r in rows[:20]], header=hh)
    # Row count 1 with no trailing newline
    (D / "one_row_nonl.csv").write_bytes((",".join(H) + "\n" + ",".join(rows[0])).encode())
    man["one_row_nonl.csv"] = 1
    # zero-width / odd unicode in header
    h5 = ["\ufeffID", "FECHA\u200b", "HORA", "MODALIDAD", "LATITUD", "LONGITUD", "DESCRIPCION"]
    csvw("odd_unicode_header.csv", rows, header=h5)
    # injection column names
    h6 = [
        "ID",
        "FECHA",
        "HORA",
        "MODALIDAD",
        "LATITUD",
        "LONGITUD",
        '=HYPERLINK("http://x")',
        "{{7*7}}",
        "<script>alert(1)</script>",
    ]
    csvw("injection_columns.csv", [[*r, "a", "b"] for r in rows], header=h6)
    # XLSX: several sheets, merged cells, formulas
    wb = Workbook()
    ws = wb.active
    ws.title = "Portada"
    ws["A1"] = "Mapa del delito"
    ws.merge_cells("A1:G3")
    ws2 = wb.create_sheet("Datos")
    ws2.append(H)
    for r in rows:
        ws2.append(r)
    wb.save(D / "xlsx_cover_first.xlsx")
    man["xlsx_cover_first.xlsx"] = N
    wb = Workbook()
    ws = wb.active
    ws.append(H)
    for i, r in enumerate(rows):
        rr = list(r)
        if i == 3:
            rr[6] = "=1+1"
        if i == 4:
            rr[4] = "=-7.17"
        if i == 5:
            rr[6] = '=HYPERLINK("http://evil","x")'
        ws.append(rr)
    ws.merge_cells("G10:G12")
    wb.create_sheet("Otra").append(H)
    wb["Otra"].append(rows[0])
    wb.save(D / "xlsx_formulas_merged_two_sheets.xlsx")
    man["xlsx_formulas_merged_two_sheets.xlsx"] = N  # first sheet only?
    wb = Workbook()
    ws = wb.active
    ws.append(H)
    wb.save(D / "xlsx_header_only.xlsx")
    man["xlsx_header_only.xlsx"] = 0
    wb = Workbook()
    wb.save(D / "xlsx_empty.xlsx")
    man["xlsx_empty.xlsx"] = 0
    (D / "xlsx_truncated.xlsx").write_bytes((D / "xlsx_cover_first.xlsx").read_bytes()[:3000])
    man["xlsx_truncated.xlsx"] = None
    (D / "fake.xlsx").write_bytes(b"ID,FECHA\n1,2\n")
    man["fake.xlsx"] = None

    # GeoJSON variants
    def feat(i, geom):
        _la, _lo = pt(i)
        return {
            "type": "Feature",
            "properties": {
                "ID": f"G{i}",
                "FECHA": "05/03/2020",
                "HORA": "10:00",
                "MODALIDAD": "Hurto",
            },
            "geometry": geom,
        }

    def P(i, z=False):
        la, lo = pt(i)
        return {"type": "Point", "coordinates": [lo, la, 2700.0] if z else [lo, la]}

    feats = [feat(i, P(i)) for i in range(40)]
    feats[0]["geometry"] = None
    feats[1]["geometry"] = {"type": "Point", "coordinates": []}
    feats[2]["geometry"] = P(2, z=True)
    feats[3]["geometry"] = {
        "type": "MultiPoint",
        "coordinates": [P(3)["coordinates"], P(23)["coordinates"]],
    }
    feats[4]["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[-78.5, -7.17], [-78.49, -7.17], [-78.5, -7.16], [-78.49, -7.16], [-78.5, -7.17]]
        ],
    }  # bowtie invalid
    feats[5]["geometry"] = {"type": "LineString", "coordinates": [[-78.5, -7.17], [-78.49, -7.17]]}
    feats[6]["geometry"] = {"type": "GeometryCollection", "geometries": [P(6), P(26)]}
    feats[7]["geometry"] = (
        {"type": "Point", "coordinates": [float("nan"), -7.17]}
        if False
        else {"type": "Point", "coordinates": [-78.5]}
    )
    feats[8]["properties"] = None
    feats[9]["geometry"] = {"type": "MultiPoint", "coordinates": []}
    (D / "geojson_mixed.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats})
    )
    man["geojson_mixed.geojson"] = 40
    (D / "geojson_empty.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": []})
    )
    man["geojson_empty.geojson"] = 0
    (D / "geojson_3d_all.geojson").write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [feat(i, P(i, True)) for i in range(30)]}
        )
    )
    man["geojson_3d_all.geojson"] = 30
    (D / "geojson_all_null.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feat(i, None) for i in range(10)]})
    )
    man["geojson_all_null.geojson"] = 10
    (D / "geojson_single_feature.geojson").write_text(json.dumps(feat(1, P(1))))
    man["geojson_single_feature.geojson"] = 1
    (D / "geojson_truncated.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats})[:500]
    )
    man["geojson_truncated.geojson"] = None
    (D / "geojson_bare_geometry.geojson").write_text(json.dumps(P(1)))
    man["geojson_bare_geometry.geojson"] = None

    # KML deep with several placemarks at several depths, KMZ many files
    def pm(i, la, lo):
        return f"<Placemark><name>Hurto {i}</name><ExtendedData><Data name='FECHA'><value>05/03/2020</value></Data><Data name='MODALIDAD'><value>Hurto</value></Data></ExtendedData><Point><coordinates>{lo},{la},0</coordinates></Point></Placemark>"

    depth = 900
    s = [
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
    ]
    for d in range(depth):
        s.append("<Folder><name>f</name>")
        if d % 100 == 0:
            s.append(pm(d, *pt(d)))
    s.append("</Folder>" * depth + "</Document></kml>")
    (D / "kml_deep_900.kml").write_text("".join(s))
    man["kml_deep_900.kml"] = 9
    # kmz with 300 kml files, each 2 placemarks, plus nested dirs and a non-kml
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as z:
        for f in range(300):
            sub = f"capas/{f % 7}/" if f % 2 else ""
            z.writestr(
                f"{sub}capa_{f}.kml",
                '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                + pm(2 * f, *pt(2 * f))
                + pm(2 * f + 1, *pt(2 * f + 1))
                + "</Document></kml>",
            )
        z.writestr("files/icon.png", b"\x89PNG....")
    (D / "kmz_300_files.kmz").write_bytes(bio.getvalue())
    man["kmz_300_files.kmz"] = 600
    # KML with Placemark with no geometry, MultiGeometry mixed point + polygon, gx:Track
    k = [
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>',
        "<Placemark><name>Robo sin geometria</name></Placemark>",
        "<Placemark><name>Robo multi</name><MultiGeometry><Point><coordinates>-78.5,-7.17</coordinates></Point><Polygon><outerBoundaryIs><LinearRing><coordinates>-78.5,-7.17 -78.49,-7.17 -78.49,-7.16 -78.5,-7.17</coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry></Placemark>",
        "<Placemark><name>Robo track</name><gx:Track><when>2020-03-05T10:00:00Z</when><gx:coord>-78.5 -7.17 0</gx:coord></gx:Track></Placemark>",
        "<Placemark><name>Robo bad coords</name><Point><coordinates>abc,def</coordinates></Point></Placemark>",
        "<Placemark><name>Robo empty coords</name><Point><coordinates></coordinates></Point></Placemark>",
        "<Placemark><name>Robo ok</name><Point><coordinates>-78.501,-7.171,0</coordinates></Point></Placemark>",
        "</Document></kml>",
    ]
    (D / "kml_odd_geoms.kml").write_text("".join(k))
    man["kml_odd_geoms.kml"] = 6
    (D / "kml_truncated.kml").write_text("".join(k)[:300])
    man["kml_truncated.kml"] = None
    (D / "kml_utf16.kml").write_bytes(
        "".join(k).replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    )
    man["kml_utf16.kml"] = 6
    (D / "kml_entity_bomb.kml").write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&lol9;</name><Point><coordinates>-78.5,-7.17</coordinates></Point></Placemark></Document></kml>'
    )
    man["kml_entity_bomb.kml"] = None
    (D / "kml_xxe.kml").write_text(
        '<?xml version="1.0"?><!DOCTYPE k [<!ENTITY x SYSTEM "file:///etc/passwd">]><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Robo &x;</name><Point><coordinates>-78.5,-7.17</coordinates></Point></Placemark></Document></kml>'
    )
    man["kml_xxe.kml"] = None
    # shapefile without prj; and with prj but no dbf
    g = gpd.GeoDataFrame(
        {
            "ID": [f"S{i}" for i in range(50)],
            "FECHA": ["05/03/2020"] * 50,
            "MODALIDAD": ["Hurto"] * 50,
        },
        geometry=[Point(pt(i)[1], pt(i)[0]) for i in range(50)],
        crs=4326,
    )
    g.to_file(D / "shp_noprj.shp")
    os.remove(D / "shp_noprj.prj")
    man["shp_noprj.shp"] = 50
    g.to_crs(32717).to_file(D / "shp_utm_noprj.shp")
    os.remove(D / "shp_utm_noprj.prj")
    man["shp_utm_noprj.shp"] = 50
    g.to_file(D / "shp_nodbf.shp")
    os.remove(D / "shp_nodbf.dbf")
    man["shp_nodbf.shp"] = None
    g.to_file(D / "shp_noshx.shp")
    os.remove(D / "shp_noshx.shx")
    man["shp_noshx.shp"] = None

    def pm(i):
        la, lo = pt(i)
        return f"<Placemark><name>Hurto {i}</name><ExtendedData><Data name='FECHA'><value>05/03/2020</value></Data><Data name='MODALIDAD'><value>Hurto</value></Data></ExtendedData><Point><coordinates>{lo},{la},0</coordinates></Point></Placemark>"

    def kml(n0, n):
        return (
            '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            + "".join(pm(i) for i in range(n0, n0 + n))
            + "</Document></kml>"
        )

    def kmz(name, members, exp, **kw):
        bio = io.BytesIO()
        with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as z:
            for m, data in members:
                z.writestr(m, data)
        (D / name).write_bytes(bio.getvalue())
        man[name] = exp

    kmz(
        "kmz_traversal.kmz",
        [("../../../../tmp/parsc_hostile_evil.kml", kml(0, 3)), ("doc.kml", kml(3, 2))],
        5,
    )
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("doc.kml", kml(0, 4))
    kmz("kmz_nested_kmz.kmz", [("inner.kmz", inner.getvalue())], None)
    kmz("kmz_no_kml.kmz", [("readme.txt", "hola")], None)
    kmz("kmz_bad_member.kmz", [("doc.kml", "<kml><Document><Placemark>")], None)
    kmz("kmz_bzip2.kmz", [], None)
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("doc.kml", kml(0, 4))
    (D / "kmz_bzip2.kmz").write_bytes(bio.getvalue())
    man["kmz_bzip2.kmz"] = 4
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_LZMA) as z:
        z.writestr("doc.kml", kml(0, 4))
    (D / "kmz_lzma.kmz").write_bytes(bio.getvalue())
    man["kmz_lzma.kmz"] = 4
    # encrypted flag set by hand (general purpose bit 0)
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED) as z:
        z.writestr("doc.kml", kml(0, 4))
    b = bytearray(bio.getvalue())
    # set flag bit in local header (offset 6) and central dir
    i = b.find(b"PK\x03\x04")
    b[i + 6] |= 1
    j = b.find(b"PK\x01\x02")
    b[j + 8] |= 1
    (D / "kmz_encrypted.kmz").write_bytes(bytes(b))
    man["kmz_encrypted.kmz"] = None
    # unknown compression method 99 (AES)
    b2 = bytearray(bio.getvalue())
    i = b2.find(b"PK\x03\x04")
    b2[i + 8] = 99
    j = b2.find(b"PK\x01\x02")
    b2[j + 10] = 99
    (D / "kmz_aes_method.kmz").write_bytes(bytes(b2))
    man["kmz_aes_method.kmz"] = None
    # CRC corrupted
    b3 = bytearray(bio.getvalue())
    i = b3.find(b"<Placemark>")
    b3[i + 1] = ord("X")
    (D / "kmz_bad_crc.kmz").write_bytes(bytes(b3))
    man["kmz_bad_crc.kmz"] = None
    # GeoJSON with named CRS UTM, huge numbers, NaN literal
    feats = [
        {
            "type": "Feature",
            "properties": {"ID": f"G{i}", "FECHA": "05/03/2020", "MODALIDAD": "Hurto"},
            "geometry": {"type": "Point", "coordinates": [774000 + 10 * i, 9206000 + 10 * i]},
        }
        for i in range(10)
    ]
    (D / "geojson_crs_utm.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32717"}},
                "features": feats,
            }
        )
    )
    man["geojson_crs_utm.geojson"] = 10
    f2 = [
        {
            "type": "Feature",
            "properties": {"ID": f"G{i}", "FECHA": "05/03/2020", "MODALIDAD": "Hurto"},
            "geometry": {"type": "Point", "coordinates": [pt(i)[1], pt(i)[0]]},
        }
        for i in range(10)
    ]
    f2[0]["geometry"]["coordinates"] = [1e308, 1e308]
    f2[1]["geometry"]["coordinates"] = [-78.5, 1e-320]
    (D / "geojson_huge_numbers.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": f2})
    )
    man["geojson_huge_numbers.geojson"] = 10
    t = json.dumps({"type": "FeatureCollection", "features": f2[2:]}).replace("-78.5,", "NaN,", 1)
    (D / "geojson_nan_literal.geojson").write_text(t)
    man["geojson_nan_literal.geojson"] = 8
    # odd CSV extensions
    TAB_TEXT = "ID\tFECHA\tHORA\tMODALIDAD\tLATITUD\tLONGITUD\n" + "".join(
        f"T{i}\t05/03/2020\t10:00\tHurto\t{pt(i)[0]}\t{pt(i)[1]}\n" for i in range(30)
    )
    (D / "export.txt").write_text(TAB_TEXT)
    man["export.txt"] = 30
    (D / "export.tsv").write_text(TAB_TEXT)
    man["export.tsv"] = 30
    (D / "EXPORT.CSV").write_text(TAB_TEXT.replace("\t", ";"))
    man["EXPORT.CSV"] = 30
    (D / "sin_extension").write_text(TAB_TEXT.replace("\t", ","))
    man["sin_extension"] = 30
    (D / "a_directory.csv").mkdir(exist_ok=True)
    man["a_directory.csv"] = None
    (D / "name\nwith newline.csv").write_text(TAB_TEXT.replace("\t", ","))
    man["name\nwith newline.csv"] = 30
    (D / "fake.ods").write_bytes(b"PK\x03\x04garbage")
    man["fake.ods"] = None
    (D / "fake.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    man["fake.gpkg"] = None
    # XLSX with error values and excel serial dates
    wb = Workbook()
    ws = wb.active
    ws.append(["ID", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD"])
    for i in range(20):
        la, lo = pt(i)
        ws.append(
            [
                f"X{i}",
                43895 + i if i % 2 else "05/03/2020",
                "10:00",
                "Hurto",
                la if i != 3 else "#REF!",
                lo if i != 4 else "#N/A",
            ]
        )
    ws["B10"] = "=DATE(2020,3,5)"
    ws["E12"] = "=1/0"
    wb.save(D / "xlsx_serials_errors.xlsx")
    man["xlsx_serials_errors.xlsx"] = 20
    # GPKG with two point layers
    g = gpd.GeoDataFrame(
        {
            "ID": [f"P{i}" for i in range(12)],
            "FECHA": ["05/03/2020"] * 12,
            "MODALIDAD": ["Hurto"] * 12,
        },
        geometry=[Point(pt(i)[1], pt(i)[0]) for i in range(12)],
        crs=4326,
    )
    g.to_file(D / "two_layers.gpkg", layer="enero")
    g.iloc[:5].to_file(D / "two_layers.gpkg", layer="febrero")
    man["two_layers.gpkg"] = 12
    # shapefile with latin-1 attribute and .cpg saying UTF-8 (lying)
    g2 = g.copy()
    g2["MODALIDAD"] = "COACCIÓN"
    g2.to_file(D / "shp_latin1.shp", encoding="ISO-8859-1")
    (D / "shp_latin1.cpg").write_text("UTF-8")
    man["shp_latin1.shp"] = 12
    return man


def check(D: Path, man: dict, name: str) -> dict:
    """Run ``parsc-geo validate`` on one file and check exit code, traceback and row accounting."""
    rep = D / f"{name}.report.json"
    if rep.exists():
        rep.unlink()
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "parsc_geo",
            "validate",
            str(D / name),
            "--report",
            str(rep),
            "--overwrite",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    res: dict = {"file": name, "rc": p.returncode, "tb": "Traceback" in p.stderr + p.stdout}
    if rep.exists():
        f = (json.loads(rep.read_text(encoding="utf-8"))["files"] or [{}])[0]
        res.update(
            read=f.get("rows_read"),
            acc=f.get("rows_accepted"),
            q=f.get("rows_quarantined"),
            reasons=f.get("reasons"),
            warnings=f.get("warnings"),
        )
    ok = p.returncode in (0, 3, 4, 5, 6) and not res["tb"]
    if p.returncode == 0 and man[name] is not None:
        ok = ok and res.get("read") == man[name] and res["read"] == res["acc"] + res["q"]
    res["ok"], res["expected"] = ok, man[name]
    if not ok or p.returncode:
        res["message"] = (p.stderr or p.stdout)[-400:]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    man = write_files(args.workdir)
    names = args.only or list(man)
    failed = 0
    with ThreadPoolExecutor(args.jobs) as ex:
        for r in ex.map(lambda n: check(args.workdir, man, n), names):
            failed += not r["ok"]
            print(
                "ok  " if r["ok"] else "FAIL", json.dumps(r, ensure_ascii=False)[:600], flush=True
            )
    print(f"{len(names) - failed} / {len(names)} files ok")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
