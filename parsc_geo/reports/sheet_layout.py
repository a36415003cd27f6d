"""Text that fits: printed pages laid out from measured text extents, one line per text artist.

A printed sheet must never cut or overlap text, whatever the names and counts are (a sector
called with sixty characters, forty critical points, thirty modalidades). :class:`Page` lays
text out in inches from the top-left corner of a matplotlib figure and measures every string
with the figure's own renderer (the same font metrics the PDF and PNG use):

- paragraphs are wrapped word by word at the measured width (a word longer than the line is
  broken between characters), shrunk down to a minimum size when a line count is given, and
  ended with "…" only when even the smallest size cannot hold them;
- each line is its own text artist, placed one line height below the previous, so no two lines
  overlap;
- every text belongs to a *panel*, a named rectangle of the page recorded as an invisible patch
  (``gid="panel:<name>"``); each text carries its panel's name as ``gid``. Tests (and anyone)
  can check that every text lies inside its panel and the panel inside the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

#: Line advance as a multiple of the font size (DejaVu Sans is 1.17 em from ascent to descent).
LINE_SPACING: Final = 1.28
#: Prefix of the ``gid`` of the invisible patches that record panels.
PANEL_GID: Final = "panel:"
#: Ellipsis ending text that cannot fit even at the smallest size.
ELLIPSIS: Final = "…"
#: Where a line may break: ASCII white space (not the no-break spaces).
_BREAKS: Final = re.compile(r"[ \t\r\f\v]+")
#: Share of a width that wrapped lines fill: the PDF's unhinted glyphs and a PNG's at another
#: resolution differ from the measuring renderer by a fraction of a percent.
WRAP_SAFETY: Final = 0.98
#: Measured widths (inches) by text, size, weight and what else the metrics depend on
#: (resolution, fonts, hinting): sheets of one run measure many of the same strings.
_WIDTHS: dict[tuple[Any, ...], float] = {}
#: Widths kept before the cache starts again (bounds a long process's memory).
_MAX_WIDTHS: Final = 200_000
#: Total width and characters measured at each (size, weight), to guess where lines end.
_PER_CHAR: dict[tuple[float, str], tuple[float, int]] = {}


def layout_rc() -> dict[Any, Any]:
    """Return the matplotlib settings of measured pages.

    Glyphs are unhinted, so their widths scale with the resolution as the PDF's do (hinting
    snaps each glyph to whole pixels of one resolution).
    """
    import matplotlib as mpl

    rc: dict[Any, Any] = {"text.hinting": "none"}
    # matplotlib < 3.11 also over-samples glyphs horizontally (deprecated in 3.11, default None)
    if mpl.rcParamsDefault.get("text.hinting_factor") not in (None, 1):
        rc["text.hinting_factor"] = 1
    return rc


def page_canvas(fig: Figure) -> Any:
    """Attach to ``fig`` an Agg canvas that draws only when the page is saved, and return it.

    geopandas asks the canvas of the axes it plots on for an idle redraw (``draw_idle``), which
    an interactive window needs; on a canvas without a window, Agg's answers it by drawing the
    whole figure at once, a page drawn once more for nothing before it is saved (about a tenth of
    the patrol sheets' time). This canvas ignores the request; saving draws the page as before,
    with the same renderer for every measurement.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    global _PageCanvas
    if _PageCanvas is None:

        class _Canvas(FigureCanvasAgg):
            def draw_idle(self, *args: Any, **kwargs: Any) -> None:
                """Draw nothing: the page is drawn when saved."""

        _PageCanvas = _Canvas
    return _PageCanvas(fig)


#: The class of :func:`page_canvas` (made on first use: matplotlib is imported lazily).
_PageCanvas: Any = None


@dataclass(frozen=True)
class Box:
    """A rectangle of the page in inches: ``x`` from the left edge, ``y`` from the top edge."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        """Right edge (inches from the left)."""
        return self.x + self.w

    @property
    def bottom(self) -> float:
        """Bottom edge (inches from the top)."""
        return self.y + self.h


@dataclass
class Page:
    """A figure of ``width`` × ``height`` inches on which text is measured and placed.

    Attributes
    ----------
    fig
        The figure (created by the caller, inside its rc context).
    """

    fig: Figure
    _renderer: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = self.fig.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = page_canvas(self.fig)
        self._renderer = canvas.get_renderer()

    @property
    def width(self) -> float:
        """Page width (inches)."""
        return float(self.fig.get_figwidth())

    @property
    def height(self) -> float:
        """Page height (inches)."""
        return float(self.fig.get_figheight())

    @property
    def renderer(self) -> Any:
        """The renderer whose metrics every measurement uses."""
        return self._renderer

    # -- measuring ---------------------------------------------------------------------------

    def text_width(self, text: str, size: float, weight: str = "normal") -> float:
        """Return the width of one line of ``text`` in inches."""
        key = (text, size, weight, *self._metrics_key())
        width = _WIDTHS.get(key)
        if width is None:
            from matplotlib.font_manager import FontProperties

            if len(_WIDTHS) >= _MAX_WIDTHS:
                _WIDTHS.clear()

            prop = FontProperties(size=size, weight=weight)
            measured, _, _ = self._renderer.get_text_width_height_descent(text, prop, ismath=False)
            width = _WIDTHS[key] = float(measured) / self.fig.dpi
            # a running mean width per character guesses where a line ends (see wrap)
            done = _PER_CHAR.get((size, weight), (0.0, 0))
            _PER_CHAR[(size, weight)] = (done[0] + width, done[1] + len(text))
        return width

    def _metrics_key(self) -> tuple[Any, ...]:
        """Return what, besides the text, size and weight, a measured width depends on."""
        import matplotlib as mpl

        rc = mpl.rcParams
        return (
            self.fig.dpi,
            tuple(rc["font.family"]),
            tuple(rc["font.sans-serif"]),
            rc["text.hinting"],
            rc.get("text.hinting_factor"),
            rc["font.stretch"],
            rc["font.style"],
            rc["font.variant"],
        )

    @staticmethod
    def line_height(size: float) -> float:
        """Return the advance between two lines of ``size`` points, in inches."""
        return size * LINE_SPACING / 72.0

    def wrap(self, text: str, width: float, size: float, weight: str = "normal") -> list[str]:
        """Return ``text`` broken into lines no wider than ``width`` inches.

        Explicit line breaks are kept; words are never split unless one alone is too wide.
        Lines break at ASCII white space only: no-break spaces (``"\u00a0"``, and the narrow
        ``"\u202f"`` that groups thousands) hold their words together.
        """
        width *= WRAP_SAFETY
        lines: list[str] = []
        for paragraph in str(text).split("\n"):
            words = [w for w in _BREAKS.split(paragraph) if w]
            current = ""
            at = 0
            while at < len(words):
                if current:
                    count = self._words_that_fit(current, words[at:], width, size, weight)
                    current = " ".join([current, *words[at : at + count]])
                    at += count
                    if at == len(words):
                        break
                    lines.append(current)
                current = words[at]
                at += 1
                while self.text_width(current, size, weight) > width and len(current) > 1:
                    cut = self._longest_prefix(current, width, size, weight)
                    lines.append(current[:cut])
                    current = current[cut:]
            lines.append(current)
        return lines

    def _words_that_fit(
        self, line: str, words: Sequence[str], width: float, size: float, weight: str
    ) -> int:
        """Return how many of ``words`` can follow ``line`` within ``width``.

        The same count as adding the words one by one until the first that does not fit
        (a line only widens as words are added), found by measuring from a guess: the mean
        width of a character at this size times the characters, then one word at a time.
        """

        def fits(count: int) -> bool:
            trial = " ".join([line, *words[:count]])
            return self.text_width(trial, size, weight) <= width

        total, chars = _PER_CHAR.get((size, weight), (0.0, 0))
        per_char = total / chars if chars else 0.0
        count = 0
        if per_char > 0:
            used = self.text_width(line, size, weight)
            for word in words:
                used += per_char * (len(word) + 1)
                if used > width:
                    break
                count += 1
        if count and not fits(count):
            count -= 1
            while count and not fits(count):
                count -= 1
            return count
        while count < len(words) and fits(count + 1):
            count += 1
        return count

    def _longest_prefix(self, word: str, width: float, size: float, weight: str) -> int:
        lo, hi = 1, len(word) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.text_width(word[:mid], size, weight) <= width:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def ellipsize(self, text: str, width: float, size: float, weight: str = "normal") -> str:
        """Return ``text`` cut at a word (or character) so that it and "…" fit ``width``."""
        width *= WRAP_SAFETY
        if self.text_width(text, size, weight) <= width:
            return text
        words = text.split(" ")
        while len(words) > 1:
            words.pop()
            trial = " ".join(words).rstrip(" ,;·:") + ELLIPSIS
            if self.text_width(trial, size, weight) <= width:
                return trial
        word = words[0]
        while word and self.text_width(word + ELLIPSIS, size, weight) > width:
            word = word[:-1]
        return word + ELLIPSIS

    def fit(
        self,
        text: str,
        width: float,
        size: float,
        *,
        min_size: float | None = None,
        max_lines: int | None = None,
        weight: str = "normal",
    ) -> tuple[list[str], float]:
        """Return the lines of ``text`` and the size at which they fit ``max_lines`` lines.

        The size goes down by quarter points to ``min_size``; if the text still needs more
        lines, the last one ends with "…".
        """
        low = size if min_size is None else min_size
        current = size
        while True:
            lines = self.wrap(text, width, current, weight)
            if max_lines is None or len(lines) <= max_lines:
                return lines, current
            if current - 0.25 < low - 1e-9:
                break
            current -= 0.25
        kept = lines[:max_lines]
        kept[-1] = self.ellipsize(" ".join(lines[max_lines - 1 :]), width, current, weight)
        return kept, current

    # -- placing -----------------------------------------------------------------------------

    def fx(self, x: float) -> float:
        """Figure fraction of ``x`` inches from the left edge."""
        return x / self.width

    def fy(self, y: float) -> float:
        """Figure fraction of ``y`` inches from the top edge."""
        return 1.0 - y / self.height

    def panel(self, name: str, box: Box) -> Box:
        """Record ``box`` as the panel ``name`` (an invisible patch) and return it."""
        from matplotlib.patches import Rectangle

        patch = Rectangle(
            (self.fx(box.x), self.fy(box.bottom)),
            box.w / self.width,
            box.h / self.height,
            transform=self.fig.transFigure,
            fill=False,
            edgecolor="none",
            linewidth=0,
            visible=False,
            gid=PANEL_GID + name,
        )
        self.fig.add_artist(patch)
        return box

    def text(
        self,
        panel: str,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        weight: str = "normal",
        ha: str = "left",
        color: str = "black",
        **kwargs: Any,
    ) -> Text:
        """Place one line of text with its top at ``y`` inches (``x``: its ``ha`` anchor)."""
        return self.fig.text(
            self.fx(x),
            self.fy(y),
            text,
            fontsize=size,
            fontweight=weight,
            ha=ha,
            va="top",
            color=color,
            gid=panel,
            **kwargs,
        )

    def lines(
        self,
        panel: str,
        x: float,
        y: float,
        lines: Sequence[str],
        size: float,
        *,
        weight: str = "normal",
        color: str = "black",
        ha: str = "left",
    ) -> float:
        """Place ``lines`` one below the other from ``y``; return the ``y`` below the last."""
        step = self.line_height(size)
        for line in lines:
            if line:
                self.text(panel, x, y, line, size, weight=weight, color=color, ha=ha)
            y += step
        return y

    def hline(
        self, x0: float, x1: float, y: float, *, lw: float = 0.3, color: str = "#999999"
    ) -> None:
        """Draw a horizontal rule at ``y`` inches from ``x0`` to ``x1``."""
        from matplotlib.lines import Line2D

        self.fig.add_artist(
            Line2D(
                [self.fx(x0), self.fx(x1)],
                [self.fy(y), self.fy(y)],
                transform=self.fig.transFigure,
                color=color,
                linewidth=lw,
            )
        )

    def rect(
        self, box: Box, *, facecolor: str = "none", edgecolor: str = "none", lw: float = 0.5
    ) -> None:
        """Draw a rectangle (``box`` in inches)."""
        from matplotlib.patches import Rectangle

        self.fig.add_artist(
            Rectangle(
                (self.fx(box.x), self.fy(box.bottom)),
                box.w / self.width,
                box.h / self.height,
                transform=self.fig.transFigure,
                facecolor=facecolor,
                edgecolor=edgecolor,
                linewidth=lw,
            )
        )

    def axes(self, box: Box, panel: str) -> Axes:
        """Add axes filling ``box``; texts the axes draw later belong to ``panel``."""
        ax = self.fig.add_axes(
            (self.fx(box.x), self.fy(box.bottom), box.w / self.width, box.h / self.height)
        )
        ax.set_gid(panel)
        return ax


@dataclass(frozen=True)
class Column:
    """A column of a :func:`draw_table`: header, smallest width (inches), alignment."""

    header: str
    min_width: float = 0.25
    align: str = "left"
    wrap: bool = False


#: Padding inside a table cell (inches).
CELL_PAD: Final = 0.035


def _floor_width(page: Page, column: Column, cells: Sequence[object], size: float) -> float:
    """Return the width a wrapped column needs for its longest word (header included)."""
    words = [(w, "bold") for w in column.header.split()]
    words += [(w, "normal") for c in cells for w in str(c).split()]
    widest = max((page.text_width(w, size, weight) for w, weight in words), default=0.0)
    return max(column.min_width, widest / WRAP_SAFETY + 2 * CELL_PAD + 1e-6)


def table_widths(
    page: Page, columns: Sequence[Column], rows: Sequence[Sequence[str]], width: float, size: float
) -> list[float]:
    """Return column widths that fill ``width``: natural widths, wrapped columns shrunk first."""
    natural = []
    for k, col in enumerate(columns):
        widest = max(
            [page.text_width(col.header, size, "bold")]
            + [page.text_width(str(r[k]), size) for r in rows]
        )
        # the cell's text is fitted to WRAP_SAFETY of its inner width: its natural width leaves
        # that margin, so a number or a header is never shortened to "…" at its own width
        natural.append(max(col.min_width, widest / WRAP_SAFETY + 2 * CELL_PAD + 1e-6))
    total = sum(natural)
    if total <= width:
        spare = width - total
        flexible = [k for k, c in enumerate(columns) if c.wrap] or [len(columns) - 1]
        for k in flexible:
            natural[k] += spare / len(flexible)
        return natural
    wrap = [k for k, c in enumerate(columns) if c.wrap]
    fixed = sum(w for k, w in enumerate(natural) if k not in wrap)
    room = width - fixed
    # a wrapped column keeps room for its longest word, so words are not split between lines
    floor = {k: _floor_width(page, columns[k], [r[k] for r in rows], size) for k in wrap}
    if wrap and room >= sum(floor.values()):
        # the room above the floors is shared in proportion to what each column gives up
        spare = room - sum(floor.values())
        excess = {k: max(natural[k] - floor[k], 0.0) for k in wrap}
        total_excess = sum(excess.values())
        for k in wrap:
            share = excess[k] / total_excess if total_excess > 0 else 1 / len(wrap)
            natural[k] = floor[k] + spare * share
        return natural
    # even the wrapped columns at their longest word do not fit: scale every column
    for k in wrap:
        natural[k] = floor[k]
    total = sum(natural)
    return [w * width / total for w in natural]


def _cell_lines(
    page: Page, text: str, col: Column, w: float, size: float, weight: str, max_cell_lines: int
) -> list[str]:
    inner = w - 2 * CELL_PAD
    if col.wrap:
        lines, _ = page.fit(text, inner, size, max_lines=max_cell_lines, weight=weight)
        return lines
    return [page.ellipsize(text, inner, size, weight)]


#: Space above and below the text of a table row (inches).
ROW_PAD: Final = 0.02


def row_heights(
    page: Page,
    width: float,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    size: float,
    *,
    max_cell_lines: int = 2,
) -> list[float]:
    """Return the heights (inches) :func:`draw_table` gives the header and each row."""
    widths = table_widths(page, columns, rows, width, size)
    lh = page.line_height(size)
    heights = []
    for cells, weight in [([c.header for c in columns], "bold"), *((r, "normal") for r in rows)]:
        n = max(
            len(_cell_lines(page, str(c), col, w, size, weight, max_cell_lines))
            for c, col, w in zip(cells, columns, widths, strict=True)
        )
        heights.append(n * lh + 2 * ROW_PAD)
    return heights


def table_height(
    page: Page,
    width: float,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    size: float,
    *,
    max_cell_lines: int = 2,
) -> float:
    """Return the height (inches) :func:`draw_table` gives the whole table."""
    return sum(row_heights(page, width, columns, rows, size, max_cell_lines=max_cell_lines))


def draw_table(
    page: Page,
    panel: str,
    x: float,
    y: float,
    width: float,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    size: float,
    *,
    max_cell_lines: int = 2,
    bottom: float | None = None,
) -> tuple[float, int]:
    """Draw a table from ``y`` down; return the ``y`` below it and the rows drawn.

    Wrapped columns take up to ``max_cell_lines`` lines (then "…"); other cells are
    shrunk to their width. Rows that would pass ``bottom`` are left out (the caller says so).
    """
    widths = table_widths(page, columns, rows, width, size)
    lh = page.line_height(size)
    pad_y = ROW_PAD

    def cell_lines(text: str, col: Column, w: float, weight: str) -> list[str]:
        return _cell_lines(page, text, col, w, size, weight, max_cell_lines)

    def draw_row(cells: Sequence[str], top: float, weight: str, shade: bool) -> float:
        prepared = [
            cell_lines(str(c), col, w, weight)
            for c, col, w in zip(cells, columns, widths, strict=True)
        ]
        height = max(len(p) for p in prepared) * lh + 2 * pad_y
        if shade:
            page.rect(Box(x, top, width, height), facecolor="#e8e8e8")
        left = x
        for lines, col, w in zip(prepared, columns, widths, strict=True):
            if col.align == "right":
                page.lines(
                    panel, left + w - CELL_PAD, top + pad_y, lines, size, weight=weight, ha="right"
                )
            else:
                page.lines(panel, left + CELL_PAD, top + pad_y, lines, size, weight=weight)
            left += w
        page.hline(x, x + width, top + height)
        return top + height

    def row_height(cells: Sequence[str]) -> float:
        n = max(
            len(cell_lines(str(c), col, w, "normal"))
            for c, col, w in zip(cells, columns, widths, strict=True)
        )
        return n * lh + 2 * pad_y

    y = draw_row([c.header for c in columns], y, "bold", True)
    drawn = 0
    for cells in rows:
        if bottom is not None and y + row_height(cells) > bottom:
            break
        y = draw_row(cells, y, "normal", False)
        drawn += 1
    return y, drawn
