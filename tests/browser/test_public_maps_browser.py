"""Public maps in Chromium: places with categories and counts only, nothing near a planted house."""

from __future__ import annotations

import re

import maps_data as md
import pytest
from browser_helpers import save_screenshot

from parsc_geo.maps import write_atlas
from parsc_geo.privacy import generalise

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def public_pages(tmp_path_factory):
    inc = md.incidents(payload=True)
    pages = write_atlas(
        inc,
        hotspots=md.hotspots(),
        sectors=md.sectors(),
        output_dir=tmp_path_factory.mktemp("publico"),
        public=True,
        tiles=None,
        synthetic=True,
    )
    return inc, pages


def test_place_popups_hold_categories_and_counts_only(open_map, public_pages):
    inc, pages = public_pages
    pub = generalise(inc)
    run = open_map(pages[1])  # the comisaría map
    page = run.page
    # every published incident is visible, counted by weight (markers stand for several)
    assert int(
        page.locator(".leaflet-container").get_attribute("data-parsc-visible-incidents")
    ) == (len(pub.points))
    popups = page.evaluate(
        """() => {
        const cluster = parscGeo.incidentLayers[0];
        return cluster.getLayers().map((m) => cluster.parscPopup(m.parscIndex).textContent);
    }"""
    )
    assert popups
    categories = {
        "HURTO SIMPLE",
        "ROBO AGRAVADO",
        "LESIONES LEVES",
        "HOMICIDIO CALIFICADO",
        "CONDUCCION EN ESTADO DE EBRIEDAD",
    }
    total = 0
    for text in popups:
        assert "Total en este lugar" in text and "Lugar generalizado" in text
        for forbidden in ("Fecha", "Hora", "Sector", "Mes", "texto libre", "onerror", "<"):
            assert forbidden not in text
        assert any(c in text for c in categories)
        total += int(re.search(r"Total en este lugar(\d+)", text).group(1))
    assert total == len(pub.points)
    # cluster icons show incidents, not markers: their numbers add up to the published total
    # without animation: while a zoom animates, the old level's cluster icons are still in the
    # page beside the new level's (a loaded machine once counted both: 46 for 23)
    page.evaluate("() => parscGeo.incidentLayers[0]._map.setZoom(12, {animate: false})")
    page.wait_for_timeout(500)
    icons = page.locator(".marker-cluster span").all_inner_texts()
    singles = page.evaluate(
        """() => {
        const cluster = parscGeo.incidentLayers[0];
        let n = 0;
        cluster.getLayers().forEach((m) => {
            if (cluster.getVisibleParent(m) === m) { n += 1; }
        });
        return n;
    }"""
    )
    # at zoom 12 the city's places (within 1.6 km) are all in clusters
    assert singles == 0
    assert sum(int(t) for t in icons) == len(pub.points)
    assert run.errors == [] and run.dialogs == []
    save_screenshot(run, "map-publico-lugares")
