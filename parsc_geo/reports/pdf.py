"""Deterministic, atomic saving of matplotlib figures as PDF pages and PNG images."""

from __future__ import annotations

import datetime as dt
import os
import threading
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Matplotlib settings that make saved files reproducible and their text extractable. Texts are
#: plain text: a name such as ``$\\alpha_{x$`` is printed as it is, never parsed as mathtext.
RC_PARAMS: dict[Any, Any] = {
    "text.parse_math": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.hashsalt": "parsc-geo",
    "font.family": "DejaVu Sans",
    "path.simplify": True,
}


#: zlib level of the page images (patrol sheets, document maps, charts): the demo's 23 patrol
#: pages take 1.0 CPU-s and 7.7 MiB at 3, against 1.7 s and 8.5 MiB at Pillow's default (6);
#: the pixels are the same at any level.
PNG_COMPRESS_LEVEL = 3

#: What :meth:`matplotlib.figure.Figure.savefig` passes to Pillow for a PNG.
PNG_SAVE_OPTIONS: dict[str, Any] = {"compress_level": PNG_COMPRESS_LEVEL}


#: Tables of the embedded fonts that a PDF never uses: OpenType layout (glyph substitution and
#: positioning: GSUB, GPOS, GDEF, BASE, JSTF, MATH) and TrueType's kerning (``kern``). A page
#: places its glyphs itself, one by one (matplotlib laid the text out before writing it), and
#: viewers draw the glyphs and read the ToUnicode map only. Subsetting the fonts took 2.7 of the
#: demo's patrol sheets' 12.5 CPU-s, 1.6 of them on DejaVu Sans's layout tables.
UNUSED_FONT_TABLES: tuple[str, ...] = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "kern")


class _LeanBlocks:
    """The blocks of :func:`_lean_font_subsets` running in this process (threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.original: types.ModuleType | None = None


_LEAN = _LeanBlocks()


@contextmanager
def _lean_font_subsets() -> Iterator[None]:
    """Embed fonts without :data:`UNUSED_FONT_TABLES` while the block runs.

    matplotlib subsets every embedded TrueType font with fontTools, keeping the tables a font
    holds except some it lists (``backends._backend_pdf_ps``, which has no option for it): its
    ``fontTools.subset`` is replaced, while any block runs, by the same module whose
    ``Options`` also drop these tables. Pages render and extract the same
    (``tests/test_pdf_fonts.py``). Where matplotlib no longer subsets that way, nothing is
    replaced.
    """
    from matplotlib.backends import _backend_pdf_ps as subsetting

    original = getattr(subsetting, "subset", None)
    base = getattr(original, "Options", None)
    if not isinstance(original, types.ModuleType) or not isinstance(base, type):
        yield
        return
    with _LEAN.lock:
        if _LEAN.depth == 0:
            _LEAN.original = original
            subsetting.subset = _lean_module(original, base)
        _LEAN.depth += 1
    try:
        yield
    finally:
        with _LEAN.lock:
            _LEAN.depth -= 1
            if _LEAN.depth == 0:
                subsetting.subset = _LEAN.original
                _LEAN.original = None


def _lean_module(original: types.ModuleType, base: type) -> types.ModuleType:
    """Return a copy of ``fontTools.subset`` whose ``Options`` drop :data:`UNUSED_FONT_TABLES`."""

    class Options(base):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.drop_tables += [t for t in UNUSED_FONT_TABLES if t not in self.drop_tables]

    lean = types.ModuleType(original.__name__)
    lean.__dict__.update(vars(original))
    lean.Options = Options  # type: ignore[attr-defined]
    return lean


def metadata_date(fallback: str | None = None) -> dt.datetime:
    """Return the date to stamp on documents.

    ``SOURCE_DATE_EPOCH`` (reproducible-builds convention) wins; otherwise ``fallback`` (an ISO
    date, e.g. the last day of the data), otherwise 2021-01-01. Never the current time, so the
    same input gives byte-identical files.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    if fallback:
        day = dt.date.fromisoformat(fallback)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def save_pdf(
    figures: Sequence[Figure],
    path: Path,
    *,
    title: str,
    date: dt.datetime,
    overwrite: bool = False,
) -> Path:
    """Save ``figures`` as the pages of one PDF, with fixed metadata.

    Parameters
    ----------
    figures
        One figure per page, in order.
    path
        Output file.
    title
        Document title (PDF metadata).
    date
        Creation and modification date written in the metadata.
    overwrite
        Replace an existing file.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_pdf import PdfPages

    from .. import __version__

    metadata = {
        "Title": title,
        "Creator": f"parsc-geo {__version__}",
        "Producer": "parsc-geo (matplotlib)",
        "CreationDate": date,
        "ModDate": date,
    }
    with (
        atomic_path(path, overwrite=overwrite) as tmp,
        mpl.rc_context(RC_PARAMS),
        _lean_font_subsets(),
        PdfPages(tmp, metadata=metadata) as pdf,
    ):
        for fig in figures:
            pdf.savefig(fig)
    return path


def pdf_pages_to_png(
    pdf_path: Path, png_paths: Sequence[Path], *, dpi: int = 150, overwrite: bool = False
) -> list[Path]:
    """Rasterise the pages of a PDF into PNG files, one per page, in order (pdfium).

    Parameters
    ----------
    pdf_path
        The PDF.
    png_paths
        One target per page.
    dpi
        Resolution (150 keeps an A4 page legible on a phone and near 0.5 MB).
    overwrite
        Replace existing files.
    """
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf_path))
    try:
        if len(document) != len(png_paths):
            raise ValueError(f"{pdf_path} has {len(document)} pages for {len(png_paths)} PNGs")
        for index, path in enumerate(png_paths):
            # pdfium writes the pixels in RGB order, as PIL keeps them: the same image without
            # a conversion from pdfium's default BGR
            image = document[index].render(scale=dpi / 72, rev_byteorder=True).to_pil()
            with atomic_path(path, overwrite=overwrite) as tmp:
                image.save(tmp, format="PNG", dpi=(dpi, dpi), compress_level=PNG_COMPRESS_LEVEL)
    finally:
        document.close()
    return list(png_paths)
