"""The run comparison of tests/test_outputs_unchanged.py: PNG encodings equal, pixels not."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image
from run_compare import compare_runs


def _png(pixels: np.ndarray, level: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


def _page(png: bytes, stamp: str) -> str:
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return f'<html><p>Generado {stamp}</p><img src="{url}"></html>'


def test_png_encodings_are_equal_and_pixels_are_not(tmp_path: Path) -> None:
    pixels = np.random.default_rng(3).integers(0, 255, size=(40, 60, 3), dtype=np.uint8)
    changed = pixels.copy()
    changed[17, 23, 1] ^= 1
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
    (old / "same.png").write_bytes(_png(pixels, 9))
    (new / "same.png").write_bytes(_png(pixels, 1))
    (old / "moved.png").write_bytes(_png(pixels, 6))
    (new / "moved.png").write_bytes(_png(changed, 6))
    (old / "same.html").write_text(_page(_png(pixels, 9), "2026-01-01 10:00"), "utf-8")
    (new / "same.html").write_text(_page(_png(pixels, 3), "2026-12-07 21:15"), "utf-8")
    (old / "moved.html").write_text(_page(_png(pixels, 9), "2026-01-01 10:00"), "utf-8")
    (new / "moved.html").write_text(_page(_png(changed, 9), "2026-01-01 10:00"), "utf-8")
    assert (old / "same.png").read_bytes() != (new / "same.png").read_bytes()
    result = compare_runs(old, new)
    assert set(result["equal"]) == {"same.png", "same.html"}
    assert result["different"] == {
        "moved.png": "pixels differ",
        "moved.html": "HTML differs beyond the generation time and the inlined images' encoding",
    }
