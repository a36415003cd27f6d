"""Long fuzz of the ingestion's CSV and KML/KMZ paths (the suite runs a short seeded one).

Generates hostile files with the strategies of ``tests/fuzz/fuzz_files.py`` for a given time,
validates each through the CLI and checks the properties listed there (never exit 1, rows
read = accepted + quarantined, physical lines respected, intact files read row for row).
Failing files are kept in ``--keep`` for a test to reproduce; the run prints a summary.

Usage::

    .venv/bin/python benchmarks/fuzz_ingest.py --minutes 5 --seed 1 --keep fuzz_hallazgos/
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))

from fuzz_files import Sample, check_file, csv_samples, kml_samples
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=1, help="seed of the file generator")
    parser.add_argument("--keep", type=Path, help="folder for the files that failed a check")
    args = parser.parse_args()

    deadline = time.monotonic() + args.minutes * 60
    stats: collections.Counter[str] = collections.Counter()
    failures: list[tuple[Sample, str]] = []
    rows = 0

    @seed(args.seed)
    @settings(
        max_examples=10**9,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=["generate"],  # no shrinking: every failing file is kept as it was
    )
    @given(sample=st.one_of(csv_samples(), kml_samples()))
    def one(sample: Sample) -> None:
        nonlocal rows
        if time.monotonic() > deadline:
            raise _Stop
        with tempfile.TemporaryDirectory() as folder:
            try:
                record = check_file(sample, Path(folder))
            except AssertionError as exc:
                failures.append((sample, f"{exc}"[:500]))
                stats[f"{sample.kind} FALLO"] += 1
                return
            except Exception:
                failures.append((sample, traceback.format_exc()[-800:]))
                stats[f"{sample.kind} EXCEPCIÓN"] += 1
                return
        stats[f"{sample.kind} salida {record['exit']}"] += 1
        rows += int(record.get("rows", 0))

    start = time.monotonic()
    with contextlib.suppress(_Stop):
        one()
    elapsed = time.monotonic() - start
    files = sum(stats.values())
    print(f"{files} archivos en {elapsed:.0f} s ({files / max(elapsed, 1e-9):.1f} por segundo)")
    print(f"{rows} filas leídas en los archivos que se leyeron")
    for key, n in sorted(stats.items()):
        print(f"  {key}: {n}")
    print(f"{len(failures)} archivos fallaron una comprobación")
    if failures and args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for i, (sample, why) in enumerate(failures):
            target = args.keep / f"{i:04d}_{sample.name}"
            target.write_bytes(sample.data)
            target.with_suffix(target.suffix + ".txt").write_text(why, encoding="utf-8")
        print(f"guardados en {args.keep}")
    for sample, why in failures[:5]:
        print(f"--- {sample.name} ({len(sample.data)} bytes): {why[:300]}")
    return 1 if failures else 0


class _Stop(Exception):
    """Raised inside the generator loop when the time is up."""


if __name__ == "__main__":
    sys.exit(main())
