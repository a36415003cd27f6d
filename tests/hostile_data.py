"""Hostile text for every field that reaches a map page (template, HTML and script injection).

Each field gets its own tag (``F01`` …) followed by every payload, so a test can find where a
field's text landed and check that it is shown literally: template syntax must not be evaluated
(``{{7*7}}`` stays ``{{7*7}}``, never ``49``), ``{% raw`` and ``{#`` must not abort or swallow
the page, ``</script>`` must not close a script and ``<img onerror>`` must not become an element.
"""

from __future__ import annotations

import geopandas as gpd
import maps_data as md
import pandas as pd

#: Every payload of the hostile test of issue 13, in one string.
PAYLOAD = (
    "ZZ {{7*7}} QQ · robo {% raw · a {# b · c }} d · </script><script>alert(1)</script> · "
    '"><img src=x onerror=alert(1)> · <script>window.parscPwned = 1</script>'
)
#: What template evaluation of the payload would produce.
EVALUATED = "ZZ 49 QQ"


def tagged(tag: str) -> str:
    """Return the payload behind a field tag (``F07 ZZ {{7*7}} QQ …``)."""
    return f"{tag} {PAYLOAD}"


def os_command(path: str) -> str:
    """A template payload that would create ``path`` if it were ever evaluated."""
    return "{{ cycler.__init__.__globals__.os.popen('touch " + path + "').read() }}"


#: Field → tag, for the messages of failing tests.
FIELDS = {
    "incident modalidad": "F01",
    "incident delito_especifico": "F02",
    "incident descripcion": "F03",
    "incident label_raw": "F04",
    "incident incident_id": "F05",
    "sector comisaria": "F06",
    "sector sector": "F07",
    "sector subsector": "F08",
    "sector barrio": "F09",
    "hotspot hotspot_id": "F10",
    "hotspot top_modalidades": "F11",
    "hotspot peak_hours": "F12",
    "hotspot peak_days": "F13",
    "hotspot method": "F14",
    "atlas source": "F15",
    "atlas period": "F16",
    "atlas parameter": "F17",
    "hotspot comisaria": "F18",
    "hotspot sector": "F19",
}
COMISARIA = tagged(FIELDS["sector comisaria"])

#: Fields shown on internal pages (free text included: they are for police use).
INTERNAL_VISIBLE = [
    "incident modalidad",
    "sector comisaria",
    "sector sector",
    "sector subsector",
    "sector barrio",
    "hotspot hotspot_id",
    "hotspot top_modalidades",
    "hotspot peak_hours",
    "hotspot peak_days",
    "hotspot method",
    "hotspot comisaria",
    "hotspot sector",
    "atlas source",
    "atlas period",
    "atlas parameter",
]
#: Fields of the police organisation and the title block, also on public pages.
PUBLIC_VISIBLE = [
    "sector comisaria",
    "sector sector",
    "sector subsector",
    "sector barrio",
    "atlas source",
    "atlas period",
    "atlas parameter",
]
#: Free text about incidents and hotspots: never on a public page.
PUBLIC_HIDDEN = sorted(set(FIELDS) - set(PUBLIC_VISIBLE))


def hostile_inputs(
    text: object = tagged,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Incidents, sectors and hotspots of :mod:`maps_data` with hostile text in every field.

    ``text(tag)`` gives the text of a field (default: the tagged payload).
    """
    make = text if callable(text) else (lambda tag: str(text))
    comisaria = make(FIELDS["sector comisaria"])
    inc = md.incidents()
    # a few rows of each text field, non-sensitive ones (shown on internal maps)
    inc.loc[0, "modalidad"] = make(FIELDS["incident modalidad"])
    inc.loc[1, "delito_especifico"] = make(FIELDS["incident delito_especifico"])
    inc["descripcion"] = make(FIELDS["incident descripcion"])
    inc["label_raw"] = make(FIELDS["incident label_raw"])
    inc.loc[2, "incident_id"] = make(FIELDS["incident incident_id"])
    inc["comisaria"] = comisaria
    inc.loc[3, "sector"] = make(FIELDS["sector sector"])
    inc.loc[3, "subsector"] = make(FIELDS["sector subsector"])
    sectors = md.sectors(comisaria)
    sectors.loc[0, "sector"] = make(FIELDS["sector sector"])
    sectors.loc[1, "sector"] = make(FIELDS["sector sector"])
    sectors.loc[0, "subsector"] = make(FIELDS["sector subsector"])
    sectors["barrio"] = make(FIELDS["sector barrio"])
    hs = md.hotspots()
    hs["comisaria"] = make(FIELDS["hotspot comisaria"])
    hs["sector"] = make(FIELDS["hotspot sector"])
    hs.loc[1, "hotspot_id"] = make(FIELDS["hotspot hotspot_id"])
    hs.loc[1, "top_modalidades"] = make(FIELDS["hotspot top_modalidades"])
    hs.loc[0, "peak_hours"] = make(FIELDS["hotspot peak_hours"])
    hs.loc[0, "peak_days"] = make(FIELDS["hotspot peak_days"])
    extra = hs.iloc[[0]].copy()
    extra["method"] = make(FIELDS["hotspot method"])
    extra["hotspot_id"] = "otro-0001"
    hs = gpd.GeoDataFrame(pd.concat([hs, extra], ignore_index=True), crs=hs.crs)
    return inc, sectors, hs


def atlas_text(text: object = tagged) -> dict[str, object]:
    """The free-text arguments of :func:`parsc_geo.maps.write_atlas`, hostile."""
    make = text if callable(text) else (lambda tag: str(text))
    return {
        "source": make(FIELDS["atlas source"]),
        "period": make(FIELDS["atlas period"]),
        "parameters": {"archivo": make(FIELDS["atlas parameter"])},
    }
