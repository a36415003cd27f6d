"""Compare two run folders file by file: same bytes, same content, or different (and how).

Used by ``tests/test_outputs_unchanged.py`` and as a script::

    .venv/bin/python tests/run_compare.py OLD_RUN NEW_RUN

A file is *identical* when its bytes are; otherwise it is *equal* when only the run's time
stamps differ (the "Generado" time of HTML pages, the times and timings of ``run.json``, the
import log of ``workspace.gpkg``) or when its content is the same in another encoding (XLSX
cell values and types; PDF page count, text and pages rasterised at 100 dpi; PNG pixels, in
files and in the ``data:image/png`` images of HTML pages); anything else is *different*, with
the reason.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
#: A PNG image inlined in an HTML page.
PNG_URL = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
#: Keys of run.json files that hold the run's time, timings, command, worker count or scheduler.
RUN_KEYS = ("generated_at", "created", "timings_s", "command", "workers", "scheduler")


def _pixels(png: bytes) -> tuple[Any, ...]:
    """Return what a PNG shows: its size, mode, palette, transparency and pixels."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    palette = image.getpalette() if image.mode == "P" else None
    return image.size, image.mode, palette, image.info.get("transparency"), image.tobytes()


def _html_text(path: Path) -> str:
    """Return a page's text with its time stamps and its inlined PNGs' encodings set aside."""
    import base64
    import hashlib

    def image(match: re.Match[str]) -> str:
        shown = repr(_pixels(base64.b64decode(match.group(1))))
        return "<png " + hashlib.sha256(shown.encode()).hexdigest() + ">"

    return PNG_URL.sub(image, STAMP.sub("<hora>", path.read_text(encoding="utf-8")))


def _html(a: Path, b: Path) -> str | None:
    if _html_text(a) == _html_text(b):
        return None
    return "HTML differs beyond the generation time and the inlined images' encoding"


def _run_json(a: Path, b: Path) -> str | None:
    def load(path: Path) -> Any:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in RUN_KEYS:
            data.pop(key, None)
        return data

    da, db = load(a), load(b)
    if da == db:
        return None
    keys = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))
    return f"run.json differs in {keys}"


def _xlsx(a: Path, b: Path) -> str | None:
    import openpyxl

    wa, wb = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    if wa.sheetnames != wb.sheetnames:
        return f"sheets {wa.sheetnames} vs {wb.sheetnames}"
    for name in wa.sheetnames:
        rows_a = [[(c.value, c.data_type) for c in row] for row in wa[name].iter_rows()]
        rows_b = [[(c.value, c.data_type) for c in row] for row in wb[name].iter_rows()]
        if rows_a != rows_b:
            return f"sheet {name!r}: cells differ"
    return None


def _pdf_pages(path: Path) -> tuple[list[str], list[bytes]]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        texts, images = [], []
        for page in document:
            texts.append(page.get_textpage().get_text_range())
            image = page.render(scale=100 / 72).to_pil()
            images.append(image.tobytes())
        return texts, images
    finally:
        document.close()


def _pdf(a: Path, b: Path) -> str | None:
    texts_a, images_a = _pdf_pages(a)
    texts_b, images_b = _pdf_pages(b)
    if len(texts_a) != len(texts_b):
        return f"{len(texts_a)} pages vs {len(texts_b)}"
    if texts_a != texts_b:
        return "page text differs"
    if images_a != images_b:
        return "rendered pages differ"
    return None


def _png(a: Path, b: Path) -> str | None:
    return None if _pixels(a.read_bytes()) == _pixels(b.read_bytes()) else "pixels differ"


def _gpkg(a: Path, b: Path) -> str | None:
    import pandas as pd
    import pyogrio

    layers_a = [name for name, _ in pyogrio.list_layers(a)]
    layers_b = [name for name, _ in pyogrio.list_layers(b)]
    if layers_a != layers_b:
        return f"layers {layers_a} vs {layers_b}"
    for layer in layers_a:
        ta = pyogrio.read_dataframe(a, layer=layer)
        tb = pyogrio.read_dataframe(b, layer=layer)
        stamps = [c for c in ta.columns if c in ("imported_at",)]
        ta, tb = ta.drop(columns=stamps), tb.drop(columns=stamps)
        try:
            pd.testing.assert_frame_equal(pd.DataFrame(ta), pd.DataFrame(tb))
        except AssertionError:
            return f"layer {layer!r} differs"
    return None


CHECKS: dict[str, Callable[[Path, Path], str | None]] = {
    ".html": _html,
    ".xlsx": _xlsx,
    ".pdf": _pdf,
    ".png": _png,
    ".gpkg": _gpkg,
}


def compare_runs(old: Path, new: Path) -> dict[str, dict[str, str]]:
    """Return ``{"identical": {...}, "equal": {...}, "different": {...}, "missing": {...}}``.

    Each maps a file (relative path) to a note: what made it equal, or how it differs.
    """
    files_old = {str(p.relative_to(old)) for p in old.rglob("*") if p.is_file()}
    files_new = {str(p.relative_to(new)) for p in new.rglob("*") if p.is_file()}
    out: dict[str, dict[str, str]] = {"identical": {}, "equal": {}, "different": {}, "missing": {}}
    for name in sorted(files_old ^ files_new):
        out["missing"][name] = "only in the old run" if name in files_old else "only in the new"
    for name in sorted(files_old & files_new):
        a, b = old / name, new / name
        if a.read_bytes() == b.read_bytes():
            out["identical"][name] = ""
            continue
        check = _run_json if name.endswith("run.json") else CHECKS.get(Path(name).suffix)
        if check is None:
            out["different"][name] = "bytes differ"
            continue
        reason = check(a, b)
        if reason is None:
            out["equal"][name] = f"same content ({check.__name__.strip('_')})"
        else:
            out["different"][name] = reason
    return out


def main(argv: list[str]) -> int:
    """Print the comparison of two run folders; exit 1 when a file differs or is missing."""
    old, new = Path(argv[0]), Path(argv[1])
    result = compare_runs(old, new)
    for kind in ("identical", "equal", "different", "missing"):
        print(f"{kind}: {len(result[kind])}")
        if kind != "identical":
            for name, note in result[kind].items():
                print(f"  {name}: {note}")
    return 1 if result["different"] or result["missing"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
