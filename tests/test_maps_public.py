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
from parsc_geo.privacy import generalise


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
def public_built():
    return build_comisaria_map(
        md.incidents(payload=True),
        md.sectors(),
        comisaria="COMISARIA CAJAMARCA I",
        public=True,
        tiles=None,
    )


@pytest.fixture(scope="module")
def public_page(public_built) -> str:
    return render_map_html(public_built.map)


def test_public_page_content(public_built, public_page):
    # 8 sensitive incidents withheld; rows 0 and 1 carry an injection payload as modalidad, a
    # category the taxonomy does not recognise, so they are withheld too: 10 not located
    pub = generalise(md.incidents(payload=True))
    assert pub.withheld["categoria_sensible"] == md.N_SENSITIVE
    assert pub.withheld["categoria_no_reconocida"] == 2
    data = json.loads(
        re.search(r"parscGeo\.incidents\(\w+,\s*(\{.*?\}), \{\n", public_page, re.S).group(1)
    )
    assert data["public"] is True
    # one marker per place and fenómeno, weighing the incidents it stands for
    assert sum(data["w"]) == len(pub.points) == public_built.summary["drawn"]
    assert public_built.summary["suppressed"] == pub.n_withheld
    assert len(pub.points) + pub.n_withheld == md.N_INCIDENTS
    assert "dates" not in data and "h" not in data  # no dates nor hours
    assert "Violencia contra las mujeres" not in " ".join(data["fenomeno_labels"])
    # every category shown is a canonical label of the taxonomy
    assert set(data["cats"]) <= {
        "HURTO SIMPLE",
        "ROBO AGRAVADO",
        "LESIONES LEVES",
        "HOMICIDIO CALIFICADO",
        "CONDUCCION EN ESTADO DE EBRIEDAD",
    }
    assert settings.INTERNAL_NOTICE not in public_page
    assert (
        "Mapa público." in public_page
        and "celda de 100, 200, 400, 800, 1\u00a0600 m" in public_page
    )
    assert "texto libre del denunciante" not in public_page
    assert md.XSS_IMG not in public_page and "onerror" not in public_page


def test_public_subsector_counts_use_generalised_incidents_only(public_built, public_page):
    # counts by place location of the published incidents: sensitive ones never counted
    subs = public_built.summary["subsectors"]
    assert subs["n"].sum() == len(generalise(md.incidents(payload=True)).points)
    for row in subs.itertuples(index=False):
        shown = "menos de 5" if 0 < row.n < 5 else str(row.n)
        assert f'"label":"{row.subsector}: {shown}"' in public_page
