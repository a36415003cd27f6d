"""Fonts embedded in our PDFs leave out the tables no viewer reads (parsc_geo.reports.pdf)."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Texts that exercise what the layout tables hold for Latin text: kerning pairs, accents,
#: ligature candidates, symbols of the sheets, in the three faces the sheets use.
TEXTS = (
    "AVATAR Wo Ty Te Yo LT P. F, «Comisaría» fi fl ffi",
    "Daño ponderado: 1 234,5 días — ≥ 30 min · m² · N.º 3 – ¿Qué? ¡Sí! ñ Ñ ü",
    "Hora del día 00 h … 23 h; UTM 17S 774 512 E 9 207 334 N",
)


def _figure() -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.27, 3.0))
    for i, text in enumerate(TEXTS):
        fig.text(0.02, 0.85 - 0.3 * i, text, fontsize=11)
        fig.text(0.02, 0.75 - 0.3 * i, text, fontsize=9, fontweight="bold")
        fig.text(0.02, 0.65 - 0.3 * i, text, fontsize=7, fontstyle="oblique")
    return fig


def _save(path: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> Path:
    """Save the page with our fonts, or (``monkeypatch`` given) as matplotlib embeds them."""
    import contextlib
    import datetime as dt

    from parsc_geo.reports import pdf

    if monkeypatch is not None:
        with monkeypatch.context() as patch:
            patch.setattr(pdf, "_lean_font_subsets", contextlib.nullcontext)
            return pdf.save_pdf([_figure()], path, title="t", date=dt.datetime(2021, 1, 1))
    return pdf.save_pdf([_figure()], path, title="t", date=dt.datetime(2021, 1, 1))


def _embedded_fonts(path: Path) -> list[set[str]]:
    """Return the table tags of every TrueType font embedded in a PDF (its font streams)."""
    from fontTools.ttLib import TTFont

    data = path.read_bytes()
    fonts = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            raw = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        if raw[:4] not in (b"\x00\x01\x00\x00", b"true"):
            continue
        fonts.append(set(TTFont(io.BytesIO(raw)).keys()))
    return fonts


def _pages(path: Path) -> tuple[list[str], list[bytes]]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        texts = [page.get_textpage().get_text_range() for page in document]
        images = [page.render(scale=200 / 72).to_pil().tobytes() for page in document]
        return texts, images
    finally:
        document.close()


def test_embedded_fonts_leave_out_the_layout_tables_and_pages_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parsc_geo.reports.pdf import UNUSED_FONT_TABLES

    plain = _save(tmp_path / "plain.pdf", monkeypatch)
    lean = _save(tmp_path / "lean.pdf")
    plain_fonts, lean_fonts = _embedded_fonts(plain), _embedded_fonts(lean)
    # regular, bold and oblique DejaVu Sans (matplotlib embeds a font once per 256 glyphs
    # of a subset, and this page uses few: one or two each)
    assert len(plain_fonts) == len(lean_fonts) >= 3
    # matplotlib alone keeps DejaVu's layout tables; ours leave every one of them out
    assert all({"GSUB", "GPOS", "GDEF"} <= tags for tags in plain_fonts)
    assert all(not (tags & set(UNUSED_FONT_TABLES)) for tags in lean_fonts)
    # and nothing else: the glyphs, metrics and character maps stay
    assert [tags - set(UNUSED_FONT_TABLES) for tags in plain_fonts] == lean_fonts
    assert lean.stat().st_size < plain.stat().st_size
    # what a reader gets is the same: the text extracted and every pixel at 200 dpi
    plain_texts, plain_images = _pages(plain)
    lean_texts, lean_images = _pages(lean)
    assert lean_texts == plain_texts
    assert all(t.replace("\r\n", " ").strip() for t in lean_texts)
    assert lean_images == plain_images


def test_matplotlibs_subsetting_is_restored_after_the_last_block(tmp_path: Path) -> None:
    from matplotlib.backends import _backend_pdf_ps

    from parsc_geo.reports.pdf import _lean_font_subsets

    before = _backend_pdf_ps.subset
    _save(tmp_path / "a.pdf")
    assert _backend_pdf_ps.subset is before
    with pytest.raises(RuntimeError), _lean_font_subsets():
        assert _backend_pdf_ps.subset is not before
        raise RuntimeError("a failing page")
    assert _backend_pdf_ps.subset is before
    # blocks that overlap (threads saving PDFs side by side) keep it until the last one ends
    outer = _lean_font_subsets()
    outer.__enter__()
    lean = _backend_pdf_ps.subset
    with _lean_font_subsets():
        assert _backend_pdf_ps.subset is lean
    assert _backend_pdf_ps.subset is lean
    outer.__exit__(None, None, None)
    assert _backend_pdf_ps.subset is before
