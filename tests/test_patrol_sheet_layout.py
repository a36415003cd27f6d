"""Every text of every patrol sheet fits its page and its panel, and no two texts overlap.

The sheets of the demo (the bundled sample's comisarías with sectors) and of constructed
sectors that push the layout (very long names, forty critical points, thirty-six subsectors,
thirty modalidades, two units; a sector with incidents but no critical point) are drawn; the
texts matplotlib actually draws are collected with their extents as the renderer measures them,
independently of the layout code, and checked:

- inside the page;
- inside their panel (the named rectangle each block of the page records);
- no two overlap (extents intersecting by more than half a pixel at 100 dpi, 0.005 in).
"""

from __future__ import annotations

from unittest import mock

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from test_patrol_helpers import _incident

from parsc_geo.patrol import ScheduleOptions, plan_patrols
from parsc_geo.reports.patrol_sheet import sheet_figures
from parsc_geo.reports.pdf import RC_PARAMS
from parsc_geo.reports.sheet_layout import ELLIPSIS, PANEL_GID, layout_rc

pytestmark = pytest.mark.slow

UTM = "EPSG:32717"
X0, Y0 = 776_000.0, 9_206_000.0
LONG_COMISARIA = (
    "COMISARÍA PNP DE FAMILIA Y PROTECCIÓN DE LA MUJER SAN JOSÉ DE LOS CHORRILLOS NORTE — "
    "SECCIÓN ESPECIAL DE PATRULLAJE INTEGRADO"
)
LONG_SECTOR = "SECTOR 12 — CENTRO HISTÓRICO, MERCADO CENTRAL Y ALREDEDORES DEL TERMINAL"
#: Thirty long modalidades (delito específico, modalidad).
MODALIDADES = [
    ("PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD O DROGADICCION CON LESIONES GRAVES"),
    ("VIOLENCIA FAMILIAR", "AGRESIONES CONTRA LAS MUJERES O INTEGRANTES DEL GRUPO FAMILIAR"),
    ("DESOBEDIENCIA", "DESOBEDIENCIA O RESISTENCIA A LA AUTORIDAD EN FLAGRANCIA"),
] + [
    (f"DELITO {k:02d}", f"MODALIDAD ESPECIAL NUMERO {k:02d} CON DESCRIPCION LARGA")
    for k in range(27)
]


def subsector_labels(n: int) -> list[str]:
    """A … Z, AA … as the plan's legend labels subsectors."""
    letters = [chr(65 + k) for k in range(26)]
    labels = letters + [f"A{c}" for c in letters]
    return [f"SUB SECTOR {labels[k]}" for k in range(n)]


def dense_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One 3 km sector in 36 subsectors; 40 clusters of 6 incidents; 30 modalidades."""
    rows, geoms = [], []
    labels = subsector_labels(36)
    for k, label in enumerate(labels):
        col, row = k % 6, k // 6
        geoms.append(
            box(X0 + col * 500, Y0 + row * 500, X0 + (col + 1) * 500, Y0 + (row + 1) * 500)
        )
        rows.append(
            {
                "comisaria": LONG_COMISARIA,
                "comisaria_id": "7777",
                "sector": LONG_SECTOR,
                "subsector": label,
            }
        )
    layer = gpd.GeoDataFrame(rows, geometry=geoms, crs=UTM)
    rng = np.random.default_rng(11)
    incidents = []
    tz = "America/Lima"
    i = 0
    for c in range(40):
        cx = X0 + 150 + (c % 8) * 300
        cy = Y0 + 150 + (c // 8) * 500
        for j in range(6 + c % 4):
            x, y = cx + rng.uniform(-10, 10), cy + rng.uniform(-10, 10)
            when = pd.Timestamp("2020-02-03 00:00", tz=tz) + pd.Timedelta(
                days=int(rng.integers(0, 90)), hours=int(rng.integers(0, 24))
            )
            esp, mod = MODALIDADES[(c + j) % len(MODALIDADES)]
            sub = labels[int((x - X0) // 500) + 6 * int((y - Y0) // 500)]
            record = _incident(i, x, y, when, True, LONG_SECTOR, sub, esp, mod, 12_345.5)
            record.update(comisaria=LONG_COMISARIA, comisaria_id="7777")
            incidents.append(record)
            i += 1
    frame = pd.DataFrame(incidents)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).dt.tz_convert(tz)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=UTM), layer


def sparse_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One sector with four scattered incidents (no critical point) and long names."""
    layer = gpd.GeoDataFrame(
        [
            {
                "comisaria": LONG_COMISARIA,
                "comisaria_id": "7778",
                "sector": LONG_SECTOR,
                "subsector": "SUB SECTOR ÚNICO DE LA ZONA RURAL ALTA",
            }
        ],
        geometry=[box(X0, Y0, X0 + 4_000, Y0 + 1_500)],
        crs=UTM,
    )
    tz = "America/Lima"
    rows = [
        _incident(
            k,
            X0 + 400 + 900 * k,
            Y0 + 300 + 250 * k,
            pd.Timestamp("2020-05-01 10:00", tz=tz) + pd.Timedelta(days=9 * k),
            k != 3,
            LONG_SECTOR,
            "SUB SECTOR ÚNICO DE LA ZONA RURAL ALTA",
            *MODALIDADES[k],
        )
        | {"comisaria": LONG_COMISARIA, "comisaria_id": "7778"}
        for k in range(4)
    ]
    frame = pd.DataFrame(rows)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).dt.tz_convert(tz)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=UTM), layer


def drawn_texts(fig):
    """Return ``(text, extent)`` of every text matplotlib draws on ``fig`` (pixels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    found = []
    original = Text.draw

    def spy(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip() and self.figure is fig:
            found.append((self, self.get_window_extent(renderer)))

    # drawn as the PDF draws them: unhinted glyphs (Agg's default hinting snaps glyphs to the
    # pixels of one resolution, which no PDF reader does)
    with mpl.rc_context({**RC_PARAMS, **layout_rc()}), mock.patch.object(Text, "draw", spy):
        canvas.draw()
    return found


def panels(fig):
    renderer = fig.canvas.get_renderer()
    return {
        str(p.get_gid())[len(PANEL_GID) :]: p.get_window_extent(renderer)
        for p in fig.findobj(lambda a: str(a.get_gid() or "").startswith(PANEL_GID))
    }


def layout_problems(fig) -> list[str]:
    """Return every text outside its page or panel, and every pair of overlapping texts."""
    tol = 0.005 * fig.dpi  # 0.005 in: half a pixel at 100 dpi
    texts = drawn_texts(fig)
    rects = panels(fig)
    page = fig.bbox
    problems = []
    for text, ext in texts:
        name = text.get_gid() or (text.axes.get_gid() if text.axes is not None else None)
        label = repr(text.get_text()[:40])
        if (
            ext.x0 < page.x0 - tol
            or ext.y0 < page.y0 - tol
            or ext.x1 > page.x1 + tol
            or ext.y1 > page.y1 + tol
        ):
            problems.append(f"{label} leaves the page")
        if name not in rects:
            problems.append(f"{label} has no panel ({name!r})")
            continue
        r = rects[name]
        if ext.x0 < r.x0 - tol or ext.y0 < r.y0 - tol or ext.x1 > r.x1 + tol or ext.y1 > r.y1 + tol:
            problems.append(f"{label} leaves its panel {name}")
    boxes = np.array([[e.x0, e.y0, e.x1, e.y1] for _, e in texts])
    for i in range(len(boxes)):
        dx = np.minimum(boxes[i, 2], boxes[i + 1 :, 2]) - np.maximum(boxes[i, 0], boxes[i + 1 :, 0])
        dy = np.minimum(boxes[i, 3], boxes[i + 1 :, 3]) - np.maximum(boxes[i, 1], boxes[i + 1 :, 1])
        for j in np.flatnonzero((dx > tol) & (dy > tol)):
            a, b = texts[i][0].get_text()[:30], texts[i + 1 + j][0].get_text()[:30]
            problems.append(f"{a!r} overlaps {b!r}")
    return problems


def cut_texts(fig) -> list[str]:
    """Return the texts shortened with "…" (the layout's last resort)."""
    return [t.get_text() for t, _ in drawn_texts(fig) if ELLIPSIS in t.get_text()]


def check_sheets(plan, *, cut_allowed: bool = True, **kwargs) -> int:
    pages = 0
    for sp, figures in sheet_figures(plan, synthetic=True, **kwargs):
        for k, fig in enumerate(figures):
            # at the measuring resolution and at the PNG's (glyph widths must scale)
            for dpi in (100, 150):
                fig.set_dpi(dpi)
                problems = layout_problems(fig)
                if not cut_allowed:
                    problems += [f"{t!r} is cut" for t in cut_texts(fig)]
                where = f"{sp.comisaria} / {sp.sector}, page {k + 1}, {dpi} dpi"
                assert not problems, f"{where}: {problems[:8]}"
            pages += 1
    return pages


def test_checker_sees_an_overlap_and_a_text_off_the_page():
    # the check itself must be able to fail
    import matplotlib.figure

    fig = matplotlib.figure.Figure(figsize=(4, 3))
    from parsc_geo.reports.sheet_layout import Box, Page

    page = Page(fig)
    page.panel("p", Box(0.1, 0.1, 2, 1))
    page.text("p", 0.2, 0.2, "una línea", 10)
    page.text("p", 0.25, 0.22, "otra línea", 10)
    page.text("p", 3.8, 0.2, "fuera de la página", 10)
    problems = layout_problems(fig)
    assert any("overlaps" in p for p in problems)
    assert any("leaves the page" in p for p in problems)
    assert any("leaves its panel" in p for p in problems)


def test_dense_sector_with_forty_points_and_long_names():
    incidents, layer = dense_case()
    plan = plan_patrols(
        incidents,
        layer,
        method="grid",
        cell_size_m=100,
        max_points=40,
        schedule=ScheduleOptions(units=2),
    )
    assert len(plan.sectors[0].points) == 40
    # one overview page and four pages of ten cards
    assert check_sheets(plan, density=True) == 5


def test_sparse_sector_without_critical_points():
    incidents, layer = sparse_case()
    plan = plan_patrols(incidents, layer, method="grid", cell_size_m=100)
    assert plan.sectors[0].points == [] and plan.sectors[0].n_incidents == 4
    assert check_sheets(plan, density=False) == 1


def test_every_sheet_of_the_demo():
    from parsc_geo.datasets import sample_paths
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.workflow import ingest

    # the demo's patrol stage: the bundled sample ingested with its sector layer, default plan
    paths = sample_paths()
    ingested = ingest([paths["incidents"]], IngestOptions(), sectors_path=paths["sectors"])
    assert ingested.sectors is not None
    plan = plan_patrols(ingested.result.accepted, ingested.sectors)
    # real names and counts fit whole: no number, header or modalidad ends in "…"
    assert check_sheets(plan, cut_allowed=False, density=True) >= len(plan.sectors)


def test_point_labels_clear_of_each_other_on_a_crowded_map():
    # forty points packed in 300 m: every number still gets its own place (or a note says so)
    incidents, layer = dense_case()
    squeeze = incidents.copy()
    squeeze["geometry"] = [
        Point(X0 + 1_000 + (x - X0) / 10, Y0 + 1_000 + (y - Y0) / 10)
        for x, y in zip(incidents.geometry.x, incidents.geometry.y, strict=True)
    ]
    squeeze["subsector"] = "SUB SECTOR O"
    plan = plan_patrols(squeeze, layer, method="grid", cell_size_m=30, max_points=40)
    check_sheets(plan, density=False)


def test_wrap_breaks_at_spaces_not_inside_grouped_numbers():
    import matplotlib.figure

    from parsc_geo.reports.sheet_layout import Page

    page = Page(matplotlib.figure.Figure(figsize=(4, 3)))
    text = "Total del sector:\u00a01\u202f469 · A:\u00a0194 · B:\u00a0683"
    # narrow enough that every breakable gap breaks
    lines = page.wrap(text, page.text_width("sector:\u00a01\u202f469", 8) * 1.05, 8)
    width = page.text_width("sector:\u00a01\u202f469", 8) * 1.05
    assert len(lines) > 2
    # the text is kept whole (same words, same no-break spaces), broken only at plain spaces
    assert " ".join(lines) == text
    for token in ("sector:\u00a01\u202f469", "A:\u00a0194", "B:\u00a0683"):
        assert sum(token in line for line in lines) == 1, token
    assert all(page.text_width(line, 8) <= width for line in lines)
