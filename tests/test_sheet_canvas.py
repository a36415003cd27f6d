"""A patrol sheet's page draws once, when saved: geopandas' idle redraw is ignored.

geopandas asks the canvas for an idle redraw after each plot; on Agg's canvas that drew the
whole page once more before it was saved. The page canvas ignores the request; what is saved
must be byte for byte what Agg's own canvas saves (the previous code path).
"""

from __future__ import annotations

import io

import geopandas as gpd
import matplotlib as mpl
from matplotlib.figure import Figure
from shapely.geometry import box

from parsc_geo.reports.pdf import RC_PARAMS
from parsc_geo.reports.sheet_layout import Page, page_canvas


def _page(canvas: str) -> tuple[Figure, list[int]]:
    """Draw a small page (a geopandas plot, texts) on a page canvas or on Agg's own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(4, 3))
    if canvas == "agg":
        FigureCanvasAgg(fig)
    page = Page(fig)
    draws: list[int] = []
    fig.canvas.mpl_connect("draw_event", lambda event: draws.append(1))
    ax = fig.add_axes((0.1, 0.1, 0.6, 0.8))
    cells = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1.5)], crs="EPSG:32717")
    cells.boundary.plot(ax=ax, color="#777777", linewidth=0.6, zorder=2)
    width = page.text_width("Puntos críticos (por riesgo)", 9.0)
    fig.text(0.72, 0.5, f"Sector 1 — {width:.3f} in", fontsize=7)
    return fig, draws


def test_the_page_canvas_ignores_idle_redraws_and_saves_the_same_bytes() -> None:
    with mpl.rc_context(RC_PARAMS):
        quiet, quiet_draws = _page("page")
        agg, agg_draws = _page("agg")
        # geopandas' plot asked for a redraw: Agg's canvas drew the page, the page canvas not
        assert agg_draws == [1]
        assert quiet_draws == []
        saved = []
        for fig in (quiet, agg):
            for fmt in ("pdf", "png"):
                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt, metadata={"CreationDate": None})
                saved.append(buffer.getvalue())
    assert saved[0] == saved[2]  # PDF
    assert saved[1] == saved[3]  # PNG
    # saving draws: once per format on each canvas
    assert len(quiet_draws) == 2


def test_page_canvas_is_an_agg_canvas_of_the_figure() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(2, 2))
    canvas = page_canvas(fig)
    assert isinstance(canvas, FigureCanvasAgg)
    assert fig.canvas is canvas
    assert type(page_canvas(Figure())) is type(canvas)  # one class, made once
