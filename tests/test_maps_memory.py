"""Building big pages lean: the same bytes as writing every value in place (issue 18).

A page of a million incidents used to hold a Python integer per incident and column, and the
page text several times over. These tests hold the lean paths to the text of the plain ones,
computed here the plain way (``json.dumps`` of lists, the template rendering the JSON in place,
the whole incident table).
"""

from __future__ import annotations

import json

import maps_data as md
import numpy as np
import pytest

from parsc_geo.maps import new_map, render_map_html
from parsc_geo.maps.atlas import _page_rows
from parsc_geo.maps.base import LargeJson, js_json, js_json_fields, stable_element_ids
from parsc_geo.maps.layers import INCIDENT_LAYER_COLUMNS, add_incidents


def test_js_json_fields_is_js_json_of_lists():
    rng = np.random.default_rng(3)
    big = rng.integers(-(10**12), 10**12, 70_000)  # more than one piece of 65,536
    fields = {
        "lat": big,
        "small": np.array([-1, 0, 7], dtype=np.int8),
        "empty": np.array([], dtype=np.int64),
        "unsigned": np.array([0, 255], dtype=np.uint8),
        "labels": ["a<b", "ñ & \u2028"],
        "n": 3,
    }
    plain = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in fields.items()}
    assert js_json_fields(fields) == js_json(plain)
    # and what js_json is: json.dumps with <, & and U+2028 escaped
    assert js_json(plain) == json.dumps(plain, ensure_ascii=False, separators=(",", ":")).replace(
        "<", "\\u003c"
    ).replace("&", "\\u0026").replace("\u2028", "\\u2028")


def test_large_json_takes_only_json_of_js_json():
    with pytest.raises(ValueError):
        LargeJson("texto")
    with pytest.raises(ValueError):
        LargeJson('{"a":"</script>"}')
    text = js_json({"a": "</script>"})
    assert str(LargeJson(text)) == text  # outside render_map_html: the text itself


def _plain_render(m) -> str:
    """The page as render_map_html wrote it before LargeJson: every value in place."""
    page = stable_element_ids(m.get_root().render())
    return page.replace("<html>", '<html lang="es">', 1)


def _incident_map(incidents):
    m = new_map(bounds=md.sectors().total_bounds, tiles=None, title="Prueba")
    add_incidents(m, incidents)
    return m


def test_page_with_large_json_is_the_page_rendered_in_place():
    incidents = md.incidents(payload=True)
    # an address that looks like a folium id: numbered with the page's ids, in their order
    incidents.loc[3, "descripcion"] = "calle_0123456789abcdef0123456789abcdef"
    lean = render_map_html(_incident_map(incidents))
    plain = _plain_render(_incident_map(incidents))
    assert lean == plain
    assert "calle_" + f"{1:032x}" not in lean  # the page's own ids come first
    assert '"calle_' in lean and "0123456789abcdef0123456789abcdef" not in lean


def test_page_rows_keep_what_the_incident_layer_reads():
    incidents = md.incidents()
    keep = np.arange(len(incidents)) % 3 != 0
    rows = _page_rows(incidents, keep)
    assert list(rows.index) == list(incidents.index[keep])
    assert set(rows.columns) == {*INCIDENT_LAYER_COLUMNS, "geometry"}
    assert rows.attrs == incidents.attrs
    # the layer drawn from the lean rows is the layer drawn from every column
    assert render_map_html(_incident_map(rows)) == render_map_html(_incident_map(incidents[keep]))


def test_density_points_of_a_page_without_incidents() -> None:
    """A page with no incident near it (a comisaría of an empty province) draws no density.

    The station mask was combined in place with the area mask, which for an empty table is a
    read-only view under pandas' copy-on-write ("output array is read-only", seen in a run
    of one million incidents in one province).
    """
    from parsc_geo.area import area_of
    from parsc_geo.datasets import sample_paths
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.maps.density_layer import density_points
    from parsc_geo.workflow import ingest

    accepted = ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted
    province = area_of(accepted).provinces().iloc[[0]]
    assert "at_station" in accepted.columns
    empty = accepted.iloc[:0]
    assert len(density_points(empty, province, "EPSG:32717", 1000.0, ("occurred_at",))) == 0
    some = density_points(accepted, province, "EPSG:32717", 1000.0, ("occurred_at",))
    # by hand: the province's incidents (within 1 km of it), less those stacked at stations
    inside = accepted.to_crs("EPSG:32717").within(
        province.to_crs("EPSG:32717").buffer(1000.0).union_all()
    )
    assert len(some) == int((inside & ~accepted["at_station"].astype(bool)).sum()) > 0
