"""End-to-end tests of the maps in real headless Chromium (no network)."""

from __future__ import annotations

from pathlib import Path

import maps_data as md
import pytest
from browser_helpers import save_screenshot

from parsc_geo import settings
from parsc_geo.maps import write_atlas

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: A screen wide enough for the layer list to stay open (narrower ones fold it).
WIDE = (1700, 900)
PATRIMONIO = "Incidentes: Delitos patrimoniales en espacios públicos (18)"


@pytest.fixture(scope="module")
def atlas(tmp_path_factory) -> dict[str, Path]:
    """Internal, public and offline atlases with injection payloads in the data."""
    root = tmp_path_factory.mktemp("atlas")
    sectors = md.sectors()
    sectors.loc[0, "barrio"] = md.XSS_IMG
    sectors.loc[1, "barrio"] = md.XSS_SCRIPT
    common = {
        "hotspots": md.hotspots(),
        "sectors": sectors,
        "densities": {"Cajamarca": md.density(), "comisaria:COMISARIA CAJAMARCA I": md.density()},
        "synthetic": True,
    }
    inc = md.incidents(payload=True)
    internal = write_atlas(inc, output_dir=root / "interno", tiles="OpenStreetMap", **common)
    public = write_atlas(inc, output_dir=root / "publico", public=True, tiles=None, **common)
    offline = write_atlas(inc, output_dir=root / "offline", offline=True, **common)
    return {
        "provincia": internal[0],
        "comisaria": internal[1],
        "index": internal[2],
        "publico": public[1],
        "offline": offline[1],
    }


def _overlay_labels(run) -> list[str]:
    return [
        t.strip()
        for t in run.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    ]


def _visible(run) -> int:
    return int(run.page.locator(".leaflet-container").get_attribute("data-parsc-visible-incidents"))


@pytest.mark.parametrize("key", ["provincia", "comisaria", "publico", "offline"])
def test_map_loads_without_errors(open_map, atlas, key):
    run = open_map(atlas[key])
    assert run.errors == []
    assert run.dialogs == []
    labels = _overlay_labels(run)
    assert any(label.startswith("Incidentes: ") for label in labels)
    assert run.page.locator("#parsc-legends").is_visible()
    assert run.page.locator("#parsc-title").is_visible()
    assert run.page.locator("#parsc-synthetic-banner").inner_text() == settings.SYNTHETIC_BANNER
    assert run.page.locator(".leaflet-control-scale").is_visible()
    assert run.page.locator(".parsc-fullscreen").is_visible()
    if key in ("offline", "publico"):
        assert run.aborted == []  # nothing requested from the network (no base tiles)
    else:
        # only the optional base tiles were asked for, never a script or style sheet
        assert run.aborted and all(
            u.startswith("https://tile.openstreetmap.org/") for u in run.aborted
        )
    save_screenshot(run, f"map-{key}")


def test_renders_with_no_network_from_lib_folder(open_map, atlas):
    """A default page opened from disk: Leaflet from lib/, every layer drawn on a plain map."""
    import xstatic.pkg.leaflet as xl

    page_path = atlas["provincia"]
    assert (page_path.parent / "lib" / "leaflet.js").is_file()
    run = open_map(page_path)
    page = run.page
    assert page.evaluate("() => L.version") == xl.VERSION  # the packaged Leaflet, from lib/
    assert page.evaluate("() => typeof L.markerClusterGroup") == "function"
    loaded = page.evaluate(
        "() => [...document.querySelectorAll('script[src], link[rel=stylesheet]')]"
        ".map((e) => e.src || e.href)"
    )
    assert len(loaded) == 7
    assert all(u.startswith("file://") and "/lib/" in u for u in loaded)
    # boundaries and hotspots (vector paths), the density image, the incident clusters
    assert page.locator(".leaflet-overlay-pane path").count() > 0
    density = page.locator(".leaflet-image-layer")
    assert density.count() == 1
    assert density.evaluate("(img) => img.complete && img.naturalWidth > 0")
    assert page.locator(".marker-cluster, .leaflet-marker-pane .leaflet-marker-icon").count() > 0
    assert page.locator(".leaflet-tile-loaded").count() == 0  # no tiles: plain background
    assert run.errors == []
    save_screenshot(run, "map-provincia-sin-red")


def test_expected_layers_in_control(open_map, atlas):
    run = open_map(atlas["comisaria"])
    labels = _overlay_labels(run)
    assert labels == [
        "Mapa base sin conexión: capitales y centros poblados (1)",
        "Densidad de incidentes",
        "Distritos (1)",
        "Sectores (2)",
        "Subsectores con número de incidentes (4)",
        "Zonas críticas por densidad kernel (KDE) (2)",
        "Comisarías y dependencias policiales (2)",
        "Incidentes: Violencia contra las mujeres e integrantes del grupo familiar (8)",
        "Incidentes: Muertes violentas (2)",
        PATRIMONIO,
        "Incidentes: Otros delitos (8)",
    ]
    # base tiles are offered even though the network is down; vector layers still render
    assert run.page.locator(".leaflet-control-layers-base label").count() == 1
    assert run.page.locator(".leaflet-overlay-pane path").count() > 0


def test_toggle_layers_and_period_filter(open_map, atlas):
    run = open_map(atlas["comisaria"], viewport=WIDE)
    page = run.page
    assert _visible(run) == md.N_INCIDENTS
    page.locator(".leaflet-control-layers-overlays label", has_text=PATRIMONIO).locator(
        "input"
    ).click()
    page.wait_for_timeout(200)
    assert _visible(run) == md.N_INCIDENTS - 18
    labels_before = page.locator(".parsc-label").count()
    page.locator(".leaflet-control-layers-overlays label", has_text="Subsectores").locator(
        "input"
    ).click()
    page.wait_for_timeout(200)
    assert labels_before == 4 and page.locator(".parsc-label").count() == 0
    # period filter: January only (12 of 36 incidents, 6 of them patrimonio → 6 left)
    page.select_option("#parsc-period-select", "0")
    page.wait_for_timeout(200)
    jan_patrimonio = sum(
        1
        for k in range(md.N_INCIDENTS)
        if k % 3 == 0 and k < 18  # first 18 rows: patrimonio
    )
    assert _visible(run) == 12 - jan_patrimonio
    assert page.locator(".parsc-counter").inner_text().startswith(f"{12 - jan_patrimonio} de")
    assert run.errors == []


def test_injection_payloads_show_as_text(open_map, atlas):
    run = open_map(atlas["comisaria"])
    page = run.page
    texts = page.evaluate(
        """() => {
        const out = [];
        const cluster = parscGeo.incidentLayers[0];
        const map = cluster._map;
        cluster.getLayers().forEach((m) => {
            cluster.fire('click', {layer: m, latlng: m.getLatLng()});  // as a user's click
            out.push(document.querySelector('.leaflet-popup-content').textContent);
            map.closePopup();
        });
        map.eachLayer((layer) => {
            if (layer.getPopup && layer.getPopup() && !(layer instanceof L.CircleMarker)) {
                layer.openPopup();
                const el = layer.getPopup().getElement();
                if (el) { out.push(el.textContent); }
            }
        });
        return out;
    }"""
    )
    joined = "\n".join(texts)
    assert md.XSS_IMG in joined  # incident modalidad and hotspot top_modalidades, as text
    assert md.XSS_SCRIPT in joined  # incident modalidad and subsector barrio, as text
    page.wait_for_timeout(300)
    assert run.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert run.errors == []
    save_screenshot(run, "map-comisaria-popup")


def test_index_links(open_map, atlas, chromium):
    page = chromium.new_page()
    page.goto(atlas["index"].resolve().as_uri())
    links = page.locator(".lists a").evaluate_all("(els) => els.map((e) => e.getAttribute('href'))")
    assert links == ["provincia-cajamarca.html", "comisaria-comisaria-cajamarca-i.html"]
    # the overview map draws the province and the comisaría, each a link to its page
    page.wait_for_function("() => document.querySelectorAll('#parsc-overview path').length >= 2")
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "test-artifacts" / "index.png"))
    page.close()


def test_gistar_cells_start_unticked_and_toggle_on(open_map, atlas):
    run = open_map(atlas["provincia"], viewport=WIDE)
    page = run.page
    box = page.locator(".leaflet-control-layers-overlays label", has_text="Gi*").locator("input")
    assert not box.is_checked()  # ranked polygons exist: the Gi* grid starts hidden
    before = page.locator(".leaflet-overlay-pane path").count()
    box.click()
    page.wait_for_timeout(200)
    assert page.locator(".leaflet-overlay-pane path").count() == before + 6  # 6 significant
    assert run.errors == []


def test_phone_layout(open_map, atlas):
    run = open_map(atlas["comisaria"], viewport=(390, 844))
    page = run.page
    # layer list folded behind its button; legends and title folded to their headings
    assert not page.locator(".leaflet-control-layers-list").is_visible()
    assert page.locator("details.parsc-legends[open]").count() == 0
    assert page.locator("details.parsc-title-details[open]").count() == 0
    # Leaflet expands the list on hover or tap (the list then covers the button: force)
    page.locator(".leaflet-control-layers-toggle").hover(force=True)
    assert page.locator(".leaflet-control-layers-list").is_visible()
    assert run.errors == []
    save_screenshot(run, "map-comisaria-telefono")


# ------------------------------------------------------- panels at laptop size, the period filter
PANELS = (
    ".leaflet-control-container .leaflet-control, #parsc-legends, #parsc-title, "
    "#parsc-synthetic-banner"
)


def _panel_share(page) -> float:
    """Share of the map covered by the open panels (their union, counted on a 2 px grid)."""
    return page.evaluate(
        """(selector) => {
        const map = document.querySelector('.leaflet-container').getBoundingClientRect();
        const boxes = [...document.querySelectorAll(selector)]
            .filter((e) => e.offsetParent !== null)
            .map((e) => e.getBoundingClientRect());
        let covered = 0, total = 0;
        for (let y = map.top + 1; y < map.bottom; y += 2) {
            for (let x = map.left + 1; x < map.right; x += 2) {
                total += 1;
                if (boxes.some((b) => x >= b.left && x < b.right && y >= b.top && y < b.bottom)) {
                    covered += 1;
                }
            }
        }
        return covered / total;
    }""",
        PANELS,
    )


@pytest.mark.parametrize("key", ["provincia", "comisaria", "publico"])
def test_open_panels_cover_under_a_quarter_at_1366(open_map, atlas, key):
    run = open_map(atlas[key], viewport=(1366, 768))
    page = run.page
    # narrower than 1,600 px: the layer list folds behind its button
    assert not page.locator(".leaflet-control-layers-list").is_visible()
    assert page.locator("#parsc-legends[open]").count() == 1  # legends open, yet off most data
    share = _panel_share(page)
    assert 0.02 < share < 0.25, share
    assert run.errors == []


def test_layer_list_open_on_wide_screens(open_map, atlas):
    run = open_map(atlas["comisaria"], viewport=WIDE)
    assert run.page.locator(".leaflet-control-layers-list").is_visible()


def _subsector_labels(page) -> dict[str, str]:
    texts = page.locator(".parsc-label").all_inner_texts()
    return dict(t.split(": ") for t in texts if t.startswith("SUB SECTOR"))


def _incident_legend_total(page) -> int:
    counts = page.locator("#parsc-legend-incidentes .parsc-count").all_inner_texts()
    return sum(int(c.replace(",", "").replace("\u00a0", "") or 0) for c in counts)


def test_period_changes_density_and_counts(open_map, atlas):
    run = open_map(atlas["comisaria"])
    page = run.page
    image = page.locator(".leaflet-image-layer")
    whole_src = image.get_attribute("src")
    # maps_data: incident k is in subsector "ABCD"[k % 4] and month 1 + k % 3: 9 each in all,
    # 3 each in January
    assert _subsector_labels(page) == {f"SUB SECTOR {s}": "9" for s in "ABCD"}
    assert _incident_legend_total(page) == md.N_INCIDENTS
    page.select_option("#parsc-period-select", "0")
    page.wait_for_timeout(300)
    assert _subsector_labels(page) == {f"SUB SECTOR {s}": "3" for s in "ABCD"}
    assert _incident_legend_total(page) == 12
    assert image.get_attribute("src") != whole_src  # January's density image
    assert page.locator("#parsc-density-when").inner_text() == "enero 2020"
    page.select_option("#parsc-period-select", "-1")
    page.wait_for_timeout(300)
    assert image.get_attribute("src") == whole_src
    assert _subsector_labels(page) == {f"SUB SECTOR {s}": "9" for s in "ABCD"}
    assert run.errors == []


def test_badges_never_overlap_bubbles_or_each_other(open_map, atlas):
    for key in ("comisaria", "provincia"):
        run = open_map(atlas[key], viewport=(1366, 768))
        page = run.page
        page.wait_for_function(
            "() => document.querySelector('.leaflet-container')"
            ".hasAttribute('data-parsc-decluttered')"
        )
        overlaps = page.evaluate(
            """() => {
            const root = document.querySelector('.leaflet-container');
            const shown = (sel) => [...root.querySelectorAll(sel)]
                .filter((e) => e.offsetParent !== null)
                .filter((e) => !e.classList.contains('parsc-badge-hidden'))
                .map((e) => [e.textContent, e.getBoundingClientRect()]);
            const badges = shown('.parsc-rank');
            const bubbles = shown('.marker-cluster, .leaflet-marker-pane .leaflet-marker-icon');
            const hit = (a, b) => a.left < b.right && b.left < a.right
                && a.top < b.bottom && b.top < a.bottom;
            const out = [];
            badges.forEach(([t, r], i) => {
                bubbles.forEach(([u, s]) => { if (hit(r, s)) out.push(t + ' / ' + u); });
                badges.slice(i + 1).forEach(([u, s]) => {
                    if (hit(r, s)) out.push(t + ' / ' + u);
                });
            });
            const hidden = Number(root.getAttribute('data-parsc-badges-hidden'));
            return {n: badges.length, hidden: hidden, overlaps: out};
        }"""
        )
        # maps_data: two KDE zones; a badge with no free room nearby waits for a closer zoom
        assert overlaps["n"] >= 1 and overlaps["n"] + overlaps["hidden"] == 2
        assert overlaps["overlaps"] == []
        assert run.errors == []


def test_data_framed_beside_the_open_panels(open_map, atlas):
    run = open_map(atlas["comisaria"], viewport=(1366, 768))
    page = run.page
    page.wait_for_function(
        "() => document.querySelector('.leaflet-container').getAttribute('data-parsc-layout')"
        " === '1'"
    )
    # the sectors (the data's frame) in screen pixels, against the title and the legends
    hits = page.evaluate(
        """() => {
        const map = parscGeo.maps[0];
        const box = map.getContainer().getBoundingClientRect();
        const layers = [];
        map.eachLayer((l) => {
            const title = (l.feature && l.feature.properties.popup_title) || '';
            if (/^SECTOR /.test(title)) layers.push(l);
        });
        const bounds = L.featureGroup(layers).getBounds();
        const nw = map.latLngToContainerPoint(bounds.getNorthWest());
        const se = map.latLngToContainerPoint(bounds.getSouthEast());
        const data = {left: box.left + nw.x, top: box.top + nw.y, right: box.left + se.x,
                      bottom: box.top + se.y};
        const out = [];
        for (const id of ['parsc-title', 'parsc-legends']) {
            const r = document.getElementById(id).getBoundingClientRect();
            if (data.left < r.right && r.left < data.right && data.top < r.bottom
                && r.top < data.bottom) out.push(id);
        }
        return {n: layers.length, hits: out};
    }"""
    )
    assert hits["n"] == 2
    assert hits["hits"] == []
