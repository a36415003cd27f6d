"""Public maps: sensitive points left out, others on a 100 m grid, no free text, explained."""

from __future__ import annotations

import json
import re

import maps_data as md
import numpy as np
import pytest

from parsc_geo import settings
from parsc_geo._errors import ConfigError
from parsc_geo.maps import build_comisaria_map, render_map_html
from parsc_geo.maps.public import generalise_points


def test_generalise_drops_sensitive_and_snaps_to_cell_centres():
    inc = md.incidents()
    points, dropped = generalise_points(inc)
    assert dropped == md.N_SENSITIVE
    assert len(points) == md.N_INCIDENTS - md.N_SENSITIVE
    assert set(points["fenomeno"]) <= {"patrimonio_espacio_publico", "muertes_violentas", "otros"}
    utm = points.to_crs(md.UTM)
    g = settings.PUBLIC_GRID_M
    # centre of a 100 m cell: coordinate ≡ 50 (mod 100), to float precision of a round trip
    assert np.allclose(np.mod(utm.geometry.x, g), g / 2, atol=1e-3)
    assert np.allclose(np.mod(utm.geometry.y, g), g / 2, atol=1e-3)
    # each point moved at most half the cell diagonal
    orig = inc.loc[points.index].to_crs(md.UTM)
    assert (orig.distance(utm) <= g * np.sqrt(2) / 2 + 1e-3).all()
    assert "descripcion" not in points.columns and "label_raw" not in points.columns


def test_generalise_grid_argument():
    points, _ = generalise_points(md.incidents(), grid_m=250)
    utm = points.to_crs(md.UTM)
    assert np.allclose(np.mod(utm.geometry.x, 250), 125, atol=1e-3)
    with pytest.raises(ConfigError, match="positivo"):
        generalise_points(md.incidents(), grid_m=0)


@pytest.fixture(scope="module")
def public_page() -> str:
    built = build_comisaria_map(
        md.incidents(payload=True),
        md.sectors(),
        comisaria="COMISARIA CAJAMARCA I",
        public=True,
        tiles=None,
    )
    assert built.summary["suppressed"] == md.N_SENSITIVE
    return render_map_html(built.map)


def test_public_page_content(public_page):
    data = json.loads(
        re.search(r"parscGeo\.incidents\(\w+,\s*(\{.*?\}), \{\n", public_page, re.S).group(1)
    )
    assert data["public"] is True
    assert len(data["lat"]) == md.N_INCIDENTS - md.N_SENSITIVE
    assert "dates" not in data  # month and hour band only
    assert "Violencia contra las mujeres" not in " ".join(data["fenomeno_labels"])
    assert settings.INTERNAL_NOTICE not in public_page
    assert "Mapa público." in public_page and "cuadrícula de 100 m" in public_page
    assert "texto libre del denunciante" not in public_page


def test_public_subsector_counts_still_include_every_incident(public_page):
    # aggregates keep the sensitive incidents: 9 per subsector as in the internal map
    for sub in "ABCD":
        assert f'"label":"SUB SECTOR {sub}: 9"' in public_page
