"""Hostile text in every field, in real headless Chromium: nothing executes, all shows literally.

Issue 13: names, labels, descriptions, ids and titles carrying template syntax (``{{7*7}}``,
``{% raw``, ``{#``, ``}}``), ``</script><script>alert(1)</script>``, ``"><img onerror>`` and a
``<script>`` setting ``window.parscPwned``, in internal, ``--offline`` and ``--public`` pages and
in the priority choropleth. In every page: no dialog opens, no script of the payload runs, no
JavaScript error, no ``<img src=x>`` element, and each field's text is shown literally (in the
title block, legends, layer control, labels, tooltips or popups).
"""

from __future__ import annotations

from pathlib import Path

import hostile_data as hd
import pytest
from browser_helpers import save_screenshot

from parsc_geo.maps import write_atlas

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Opens every popup and tooltip of the page (as a user's clicks and hovers would) and returns
#: the text of the page with them: title block, legends, layer control, labels, popups.
COLLECT_TEXT = """() => {
    const out = [document.title, document.body.textContent];
    const maps = [];
    for (const key of Object.keys(window)) {
        const v = window[key];
        if (v instanceof L.Map) { maps.push(v); }
    }
    for (const map of maps) {
        map.eachLayer((layer) => {
            if (layer.getPopup && layer.getPopup() && !(layer instanceof L.CircleMarker)) {
                layer.openPopup();
                const el = layer.getPopup().getElement();
                if (el) { out.push(el.textContent); }
                map.closePopup();
            }
            if (layer.getTooltip && layer.getTooltip()) {
                layer.openTooltip();
                const el = layer.getTooltip().getElement();
                if (el) { out.push(el.textContent); }
            }
        });
    }
    for (const cluster of parscGeo.incidentLayers) {
        const map = cluster._map;
        cluster.getLayers().forEach((m) => {
            cluster.fire('click', {layer: m, latlng: m.getLatLng()});
            // the newest popup (closed ones fade out of the DOM over 200 ms)
            const all = document.querySelectorAll('.leaflet-popup-content');
            if (all.length) { out.push(all[all.length - 1].textContent); }
            map.closePopup();
        });
    }
    return out.join('\\n');
}"""


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory) -> dict[str, list[Path]]:
    """Atlases built from hostile inputs, plus a priority choropleth with hostile names."""
    root = tmp_path_factory.mktemp("hostile")
    inc, sectors, hs = hd.hostile_inputs()
    common = {"hotspots": hs, "sectors": sectors, "synthetic": True, **hd.atlas_text()}
    out = {
        "interno": write_atlas(inc, output_dir=root / "interno", tiles=None, **common),
        "offline": write_atlas(inc, output_dir=root / "offline", offline=True, **common),
        "publico": write_atlas(inc, output_dir=root / "publico", public=True, tiles=None, **common),
        "publico-offline": write_atlas(
            inc, output_dir=root / "publico-offline", public=True, offline=True, **common
        ),
    }
    out["prioridad"] = [_priority_page(root / "prioridad.html")]
    return out


def _priority_page(path: Path) -> Path:
    import maps_data as md

    from parsc_geo.counts import counts_from_incidents
    from parsc_geo.priority import compute_priority
    from parsc_geo.priority_outputs import write_priority_map_html

    result = compute_priority([counts_from_incidents(md.incidents())], n_boot=0)
    table = result.table.copy()
    table["objetivo_nombre"] = hd.tagged("P01")
    result = result.__class__(
        **{**result.__dict__, "table": table, "inputs": [{"source": hd.tagged("P02")}]}
    )
    target = str(table["objetivo"].iloc[0])
    return write_priority_map_html(result, path, level="provincia", target=target)


def _check_page(run, text: str) -> None:
    page = run.page
    page.wait_for_timeout(300)
    assert run.dialogs == []
    assert run.errors == []
    assert page.evaluate("() => window.parscPwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert hd.EVALUATED not in text


@pytest.mark.parametrize("mode", ["interno", "offline", "publico", "publico-offline"])
def test_atlas_pages_run_nothing_and_show_text_literally(open_map, hostile_pages, mode):
    province, comisaria, _index = hostile_pages[mode]
    texts = []
    for path in (province, comisaria):
        run = open_map(path)
        text = run.page.evaluate(COLLECT_TEXT)
        _check_page(run, text)
        texts.append(text)
        save_screenshot(run, f"hostil-{mode}-{path.stem}")
    joined = "\n".join(texts)
    fields = hd.PUBLIC_VISIBLE if mode.startswith("publico") else hd.INTERNAL_VISIBLE
    for field in fields:
        assert hd.tagged(hd.FIELDS[field]) in joined, field
    if mode.startswith("publico"):
        for field in hd.PUBLIC_HIDDEN:
            assert f"{hd.FIELDS[field]} ZZ" not in joined, field


@pytest.mark.parametrize("mode", ["interno", "publico"])
def test_index_page_runs_nothing(open_map, hostile_pages, chromium, mode):
    page = chromium.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(hostile_pages[mode][-1].resolve().as_uri())
    page.wait_for_timeout(300)
    text = page.evaluate("() => document.body.textContent")
    assert dialogs == [] and errors == []
    assert page.evaluate("() => window.parscPwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert hd.EVALUATED not in text
    assert hd.tagged(hd.FIELDS["atlas source"]) in text
    page.close()


def test_priority_choropleth_runs_nothing(open_map, hostile_pages):
    run = open_map(hostile_pages["prioridad"][0])
    text = run.page.evaluate(COLLECT_TEXT)
    _check_page(run, text)
    assert hd.tagged("P01") in text  # fenómeno name in the title block and <title>
    assert hd.tagged("P02") in text  # source
    assert run.page.title().endswith(hd.tagged("P01"))
