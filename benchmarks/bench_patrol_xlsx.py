"""Benchmark: writing the patrol plan workbook (``plan_patrullaje.xlsx``) of the bundled sample.

Goal (issue 15): the plan workbook formatted for people (widths, filters, frozen header,
number formats) through XlsxWriter, no slower than the raw dump it replaces. The reference,
measured in the same run on the same tables, is the previous writer: pandas' ``to_excel`` with
openpyxl, every text cell set as text (:func:`parsc_geo.io.tables.set_workbook_text`) and the
file rewritten with fixed dates (:func:`parsc_geo._xlsx.freeze_xlsx`). The schedule table is
repeated ``--scale`` times to show how both grow. CPU times, best of ``--repeat``.

Usage: ``.venv/bin/python benchmarks/bench_patrol_xlsx.py [--scale 10] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import pandas as pd
from _measure import machine_note

from parsc_geo._xlsx import freeze_xlsx
from parsc_geo.datasets import sample_paths
from parsc_geo.ingest import IngestOptions
from parsc_geo.io.tables import set_workbook_text
from parsc_geo.patrol import plan_patrols
from parsc_geo.reports.patrol_outputs import NUMBER_FORMATS, SHEET_NAMES, spanish
from parsc_geo.workflow import ingest

DATE = dt.datetime(2020, 10, 31, tzinfo=dt.UTC)


def reference_writer(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """The previous workbook: a raw openpyxl dump, text set as text, dates fixed."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        set_workbook_text(writer.book)
    freeze_xlsx(path, DATE)


def new_writer(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    from parsc_geo.io.xlsx_stream import write_xlsx

    write_xlsx(path, sheets, date=DATE, number_formats=NUMBER_FORMATS)


def best_cpu(fn, path: Path, sheets: dict[str, pd.DataFrame], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        path.unlink(missing_ok=True)
        start = time.process_time()
        fn(path, sheets)
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    paths = sample_paths()
    ingested = ingest([paths["incidents"]], IngestOptions(), sectors_path=paths["sectors"])
    plan = plan_patrols(ingested.result.accepted, ingested.sectors)
    tables = {
        "puntos_criticos.csv": plan.points_frame().drop(columns="geometry"),
        "horario_patrullaje.csv": pd.concat([plan.schedule_frame()] * args.scale),
        "ventanas_patrullaje.csv": plan.windows_frame(),
        "resumen_sectores.csv": plan.summary_frame(),
        "modalidades_sectores.csv": plan.modalidades_frame(),
        "hora_dia_sectores.csv": plan.hour_day_frame(),
    }
    sheets = {SHEET_NAMES[k]: spanish(v) for k, v in tables.items()}
    cells = sum(f.size for f in sheets.values())
    print(machine_note())
    print(f"{len(sheets)} sheets, {cells:,} cells (schedule repeated {args.scale}×)")
    with tempfile.TemporaryDirectory() as tmp:
        ref = best_cpu(reference_writer, Path(tmp) / "ref.xlsx", sheets, args.repeat)
        new = best_cpu(new_writer, Path(tmp) / "new.xlsx", sheets, args.repeat)
        size_ref = (Path(tmp) / "ref.xlsx").stat().st_size
        size_new = (Path(tmp) / "new.xlsx").stat().st_size
    print(f"openpyxl dump (reference): {ref:.3f} s CPU, {size_ref:,} bytes")
    print(f"XlsxWriter, formatted:     {new:.3f} s CPU, {size_new:,} bytes")
    print(f"ratio new / reference: {new / ref:.2f}")


if __name__ == "__main__":
    main()
