"""Names in printed documents are plain text: matplotlib's mathtext never parses data (issue 13).

A sector named ``$\\alpha_{x$`` made matplotlib parse it as a formula and crash ``patrol`` and
``run``; a well-formed ``$x^2$`` would silently print x².
"""

from __future__ import annotations

import pytest
from test_patrol_helpers import incidents, sector_layer
from test_reports_patrol import _page_texts

from parsc_geo.patrol import plan_patrols, write_patrol_outputs

pytestmark = pytest.mark.slow

BROKEN = r"$\alpha_{x$"
FORMULA = "$x^2$"


def test_patrol_sheets_print_dollar_names_literally(tmp_path):
    inc, sectors = incidents(), sector_layer()
    for frame in (inc, sectors):
        frame["comisaria"] = f"COMISARIA {BROKEN}"
        frame["sector"] = frame["sector"] + f" {FORMULA}"
        frame["subsector"] = frame["subsector"] + f" {BROKEN}"
    inc["modalidad"] = f"AGRAVADO {BROKEN}"
    plan = plan_patrols(inc, sectors, method="grid", cell_size_m=100)
    paths = write_patrol_outputs(plan, tmp_path, synthetic=True)
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    assert len(pdfs) == 1
    texts = _page_texts(pdfs[0])
    assert len(texts) == 5  # overview of each sector, cards of SECTOR 1 and SECTOR 2
    overviews = [t for t in texts if "Plan de patrullaje — SECTOR " in t]
    cards = [t for t in texts if "Puntos críticos — SECTOR " in t]
    assert (len(overviews), len(cards)) == (3, 2)
    for text in overviews:
        assert f"COMISARIA {BROKEN}" in text
        assert "Plan de patrullaje — SECTOR " in text and f" {FORMULA}" in text
        assert f"SUB SECTOR A {BROKEN}" in text
        assert f"AGRAVADO {BROKEN}" in text  # the modalidad table
    for text in cards:
        assert f"COMISARIA {BROKEN}" in text
        assert "Puntos críticos — SECTOR " in text and f" {FORMULA}" in text
        assert f"A {BROKEN}" in text  # the subsector of the first card
        assert f"AGRAVADO {BROKEN} (" in text  # the modalidades of a card


def test_priority_png_with_dollar_names(tmp_path):
    from parsc_geo.counts import counts_from_incidents
    from parsc_geo.priority import compute_priority
    from parsc_geo.priority_outputs import write_priority_map_png

    inc = incidents()
    result = compute_priority([counts_from_incidents(inc)], n_boot=0, levels=["provincia"])
    table = result.table.copy()
    table["objetivo_nombre"] = f"Objetivo {BROKEN}"
    result = result.__class__(
        **{
            **result.__dict__,
            "table": table,
            "inputs": [{"source": f"denuncias {BROKEN}.csv"}],
        }
    )
    target = str(table["objetivo"].iloc[0])
    path = write_priority_map_png(result, tmp_path / "m.png", target=target)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
