"""Benchmark: peak memory of reading a large XLSX, KML or GeoJSON file whole and by chunks.

Writes one large file of each format (incidents with a date, a time, a type, a description,
a number and a point), then reads each in a fresh process, twice: whole
(:func:`parsc_geo.io.read_incident_file`, as ``ingest_files(..., chunk_chars=None)`` does),
and by chunks, as the ingestion reads a large file (:class:`parsc_geo.io.excel.XlsxFile`,
:class:`parsc_geo.io.kml.KmlFile`, :class:`parsc_geo.io.vector.VectorFile`), each chunk
dropped once counted. Each read prints the process's peak resident memory (``VmHWM``), the
same after the imports alone, the rows read and the CPU seconds. Reading by chunks takes a
chunk's memory, not the file's; the streamed formats are read twice (a first pass finds the
columns, or a GeoJSON file's missing integers), so they take more CPU.

Usage::

    .venv/bin/python benchmarks/bench_ingest_formats_memory.py [--rows 200000]
        [--features 1000000] [--chunk 50000] [--geojson-chunk 250000] [--keep DIR]
        [--formats xlsx,kml,geojson]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MODES = ("whole", "chunks")


def _row(i: int) -> tuple[dt.datetime, str, str, str, int, float, float]:
    return (
        dt.datetime(2020, 1 + i % 12, 1 + i % 28, i % 24, i % 60),
        f"{i % 24:02d}:{i % 60:02d}",
        ("Hurto", "Robo", "Extorsión", "Hurto de celular en vía pública")[i % 4],
        f"cuadra {i % 997} de la avenida, señora Núñez {i}",
        i,
        -7.1 - (i % 1000) * 1e-4,
        -78.5 + (i % 997) * 1e-4,
    )


def write_xlsx(path: Path, rows: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("Denuncias")
    dates = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for c, name in enumerate(
        ["FECHA", "HORA", "MODALIDAD", "DESCRIPCION", "NUM", "LATITUD", "LONGITUD"]
    ):
        ws.write_string(0, c, name)
    for i in range(rows):
        when, hour, kind, desc, num, lat, lon = _row(i)
        ws.write_datetime(i + 1, 0, when, dates)
        ws.write_string(i + 1, 1, hour)
        ws.write_string(i + 1, 2, kind)
        ws.write_string(i + 1, 3, desc)
        ws.write_number(i + 1, 4, num)
        ws.write_number(i + 1, 5, lat)
        ws.write_number(i + 1, 6, lon)
    book.close()


def write_kml(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n')
        for i in range(rows):
            if i % 10_000 == 0:
                out.write(("</Folder>" if i else "") + f"<Folder><name>HURTOS {i}</name>\n")
            when, _hour, kind, desc, num, lat, lon = _row(i)
            out.write(
                f"<Placemark><name>{kind}</name><description>{desc}</description>"
                f"<TimeStamp><when>{when.isoformat()}</when></TimeStamp><ExtendedData>"
                f'<Data name="NUM"><value>{num}</value></Data></ExtendedData>'
                f"<Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>\n"
            )
        out.write("</Folder></Document></kml>\n")


def write_geojson(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for i in range(rows):
            when, hour, kind, desc, num, lat, lon = _row(i)
            props = {"FECHA": when.date().isoformat(), "HORA": hour, "MODALIDAD": kind}
            props.update({"DESCRIPCION": desc, "NUM": num})
            feature = {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
            out.write(json.dumps(feature, ensure_ascii=False) + (",\n" if i < rows - 1 else "\n"))
        out.write("]}\n")


#: The reading run in a fresh process: argv = path, mode, rows per chunk.
_CHILD = r"""
import resource, sys, time
from pathlib import Path

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) // 1024

import numpy, pandas, pyogrio, openpyxl, defusedxml.ElementTree, geopandas, shapely
from parsc_geo.io.readers import read_incident_file
from parsc_geo.io.excel import XlsxFile
from parsc_geo.io.kml import KmlFile
from parsc_geo.io.vector import VectorFile

path, mode, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
base = hwm()
start = time.process_time()
if mode == "whole":
    n = len(read_incident_file(path).data)
    chunks = 1
else:
    suffix = path.suffix.lower()
    reader = (
        XlsxFile(path) if suffix == ".xlsx" else KmlFile(path) if suffix == ".kml"
        else VectorFile(path, stream=True)
    )
    n = chunks = 0
    for table in reader.chunks(size):
        n += len(table.data)
        chunks += 1
        del table
cpu = time.process_time() - start
print(f"{path.suffix[1:]:8s} {mode:7s} rows {n:>9,d} chunks {chunks:>3d} "
      f"peak {hwm():>6,d} MiB (imports {base} MiB) cpu {cpu:6.1f} s", flush=True)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="XLSX rows and KML placemarks")
    parser.add_argument("--chunk", type=int, default=50_000, help="rows of an XLSX/KML chunk")
    parser.add_argument("--features", type=int, default=1_000_000, help="GeoJSON features")
    parser.add_argument(
        "--geojson-chunk", type=int, default=250_000, help="features of a GeoJSON chunk"
    )
    parser.add_argument(
        "--formats", default="xlsx,kml,geojson", help="the formats measured, by commas"
    )
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-formats-"))
    folder.mkdir(parents=True, exist_ok=True)
    files = [
        (folder / "denuncias.xlsx", write_xlsx, args.rows, args.chunk),
        (folder / "denuncias.kml", write_kml, args.rows, args.chunk),
        (folder / "denuncias.geojson", write_geojson, args.features, args.geojson_chunk),
    ]
    formats = set(args.formats.split(","))
    files = [f for f in files if f[0].suffix[1:] in formats]
    try:
        _measure(files)
    finally:
        if args.keep is None:
            shutil.rmtree(folder)  # the folder made above, of this run's files


def _measure(files: list[tuple[Path, Callable[[Path, int], None], int, int]]) -> None:
    """Write each file (unless kept from an earlier run) and read it whole and by chunks."""
    for path, write, rows, size in files:
        if not path.exists():
            t = time.perf_counter()
            write(path, rows)
            print(
                f"wrote {path.name}: {rows:,d} rows, {path.stat().st_size / 2**20:.0f} MiB "
                f"({time.perf_counter() - t:.0f} s)",
                flush=True,
            )
        for mode in MODES:
            subprocess.run([sys.executable, "-c", _CHILD, str(path), mode, str(size)], check=True)


if __name__ == "__main__":
    main()
