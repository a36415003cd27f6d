"""Deterministic and atomic saving of report files."""

from __future__ import annotations

import datetime as dt

import pytest

from parsc_geo._errors import OutputError
from parsc_geo.reports.pdf import atomic_path, metadata_date


def test_metadata_date_prefers_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert metadata_date("2020-10-31") == dt.datetime(1970, 1, 2, tzinfo=dt.UTC)


def test_metadata_date_falls_back_to_the_data_then_a_constant(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert metadata_date("2020-10-31") == dt.datetime(2020, 10, 31, tzinfo=dt.UTC)
    assert metadata_date(None) == dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def test_atomic_path_refuses_to_overwrite(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    with (
        pytest.raises(OutputError, match="ya existe") as info,
        atomic_path(target, overwrite=False),
    ):
        pass
    assert "overwrite" in str(info.value)
    assert target.read_text() == "old"


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "a.csv"
    with atomic_path(target, overwrite=False) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.csv"]  # no temp file left


def test_pdf_pages_to_png_writes_the_pixels_of_pdfiums_default_rendering(tmp_path):
    """Each page's PNG holds the bytes PIL writes for pdfium's default (BGR) rendering.

    The pages hold what the patrol sheets hold: text, coloured fills, a translucent image.
    """
    import io

    import numpy as np
    import pypdfium2 as pdfium
    from matplotlib.figure import Figure

    from parsc_geo.reports.pdf import PNG_COMPRESS_LEVEL, pdf_pages_to_png, save_pdf

    figures = []
    for k in range(2):
        fig = Figure(figsize=(3, 2))
        ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
        ax.imshow(np.arange(48.0).reshape(6, 8) * (k + 1), cmap="YlOrRd", alpha=0.35)
        ax.fill([1, 5, 3], [1, 1, 4], facecolor="#b2182b", alpha=0.35, edgecolor="#2166ac")
        fig.text(0.5, 0.95, f"Página {k + 1} — ñandú", ha="center", va="top", color="#5c3c00")
        figures.append(fig)
    pdf = save_pdf(figures, tmp_path / "p.pdf", title="t", date=metadata_date())
    pngs = pdf_pages_to_png(pdf, [tmp_path / "a.png", tmp_path / "b.png"], dpi=100)
    document = pdfium.PdfDocument(str(pdf))
    try:
        for index, png in enumerate(pngs):
            expected = io.BytesIO()
            image = document[index].render(scale=100 / 72).to_pil()
            image.save(expected, format="PNG", dpi=(100, 100), compress_level=PNG_COMPRESS_LEVEL)
            assert png.read_bytes() == expected.getvalue()
    finally:
        document.close()
