"""Public maps: what they may show, following the privacy rule of :mod:`parsc_geo.privacy`.

A public map must not let anyone find a victim. :func:`prepare_public` applies the rule once for
an atlas: incidents are generalised to places standing for at least ``k`` incidents (sensitive
and unrecognised categories are never located), and hotspot zones are computed again from
those places with the methods of the internal zones, dropping zones of 1 to ``k - 1``
incidents. The layers of :mod:`parsc_geo.maps.layers` then draw places (popups: category and
count), zones (popups: method, counts, categories), densities from the places, and counts
below ``k`` as "menos de k"; no free text from the input reaches a public page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..privacy import PrivacyRule, PublicIncidents, generalise

if TYPE_CHECKING:
    import geopandas as gpd

#: Hotspot methods in the order public zones are computed.
PUBLIC_METHODS: tuple[str, ...] = ("kde", "dbscan", "hdbscan", "gistar")


def generalisation_text(grid_m: float | None = None, k: int | None = None) -> str:
    """Return the Spanish sentence that a public map's title block shows."""
    return PrivacyRule.from_options(k=k, grid_m=grid_m).describe()


def generalise_points(
    incidents: gpd.GeoDataFrame, *, grid_m: float | None = None
) -> tuple[gpd.GeoDataFrame, int]:
    """Return the incidents that may be located, snapped to a grid, and the number left out.

    The snapping step of the privacy rule alone (``k = 1``, one grid): every incident that may
    be located is moved to the centre of its cell. Public maps use
    :func:`parsc_geo.privacy.generalise`, which also pools cells into places of at least ``k``.

    Raises
    ------
    ConfigError
        When ``grid_m`` is not a positive number.
    """
    base = PrivacyRule.from_options(grid_m=grid_m)
    rule = PrivacyRule(k=1, grid_m=base.grid_m, levels=0)
    pub = generalise(incidents, rule)
    return pub.points.drop(columns=["place_id", "cell_m"]), pub.n_withheld


@dataclass
class PublicData:
    """What public maps draw: generalised incidents and zones computed from them.

    Attributes
    ----------
    incidents
        The generalised incidents (:class:`parsc_geo.privacy.PublicIncidents`).
    hotspots
        Zones recomputed from the places (EPSG:4326), or None when no method was asked.
    zones
        Accounting of the zones: ``metodos``, ``calculadas``, ``descartadas_por_k`` and
        ``declinadas`` (method → reason).
    """

    incidents: PublicIncidents
    hotspots: gpd.GeoDataFrame | None
    zones: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> PrivacyRule:
        """The privacy rule applied."""
        return self.incidents.rule


def hotspot_methods(hotspots: gpd.GeoDataFrame | None) -> list[str]:
    """Return the known methods of a hotspot table, in :data:`PUBLIC_METHODS` order."""
    if hotspots is None or not len(hotspots) or "method" not in hotspots.columns:
        return []
    present = set(hotspots["method"].astype(str))
    return [m for m in PUBLIC_METHODS if m in present]


def public_zones(
    points: gpd.GeoDataFrame,
    methods: Iterable[str],
    rule: PrivacyRule,
    *,
    area: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame | None, dict[str, Any]]:
    """Compute hotspot zones from generalised incidents; drop zones of 1 to k − 1 incidents.

    Parameters
    ----------
    points
        Generalised incidents (:attr:`parsc_geo.privacy.PublicIncidents.points`).
    methods
        Hotspot methods (see :data:`parsc_geo.hotspots.METHODS`).
    rule
        The privacy rule (its ``k``).
    area
        Study area of Gi* (the province).

    Returns
    -------
    tuple
        ``(zones or None, accounting)``.
    """
    import geopandas as gpd
    import pandas as pd

    from ..hotspots import run_method

    frames = []
    accounting: dict[str, Any] = {"calculadas": 0, "descartadas_por_k": 0, "declinadas": {}}
    for method in methods:
        kwargs: dict[str, Any] = {"quiet": True}
        if method == "gistar":
            kwargs.update(area=area, output="significant")
        result = run_method(method, points, **kwargs)
        if not len(result):
            accounting["declinadas"][method] = str(
                result.attrs.get("reason_es") or result.attrs.get("reason", "sin zonas")
            )
            continue
        n = pd.to_numeric(result["n"], errors="coerce").fillna(0).to_numpy()
        small = (n > 0) & (n < rule.k)
        accounting["calculadas"] += len(result)
        accounting["descartadas_por_k"] += int(small.sum())
        kept = result.loc[~small].copy()
        if len(kept):
            frames.append(kept.to_crs("EPSG:4326"))
    if not frames:
        return None, accounting
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326"), accounting


def prepare_public(
    incidents: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame | None,
    rule: PrivacyRule | None = None,
    *,
    areas: gpd.GeoDataFrame | None = None,
) -> PublicData:
    """Apply the privacy rule for public maps: generalise incidents, recompute zones.

    Parameters
    ----------
    incidents
        Incident table (canonical schema).
    hotspots
        Internal hotspots: only their methods are used (zones are computed again from the
        generalised incidents, so that no sensitive incident shapes them).
    rule
        The privacy rule (default :class:`parsc_geo.privacy.PrivacyRule`).
    areas
        Areas in which zones are computed separately, with a ``provincia`` column (default: the
        bundled provinces holding places).

    Returns
    -------
    PublicData
    """
    import geopandas as gpd
    import pandas as pd

    pub = generalise(incidents, rule)
    methods = hotspot_methods(hotspots)
    zones: dict[str, Any] = {
        "metodos": methods,
        "calculadas": 0,
        "descartadas_por_k": 0,
        "declinadas": {},
    }
    if not methods or not len(pub.points):
        return PublicData(pub, None, zones)
    if areas is None:
        from ..area import area_of

        areas = area_of(incidents).provinces()
    places = pub.points.to_crs(areas.crs)
    frames = []
    for _, area in areas.iterrows():
        inside = places.within(area.geometry).to_numpy()
        if not inside.any():
            continue
        frame = gpd.GeoDataFrame([area], crs=areas.crs)
        found, accounting = public_zones(pub.points.loc[inside], methods, pub.rule, area=frame)
        zones["calculadas"] += accounting["calculadas"]
        zones["descartadas_por_k"] += accounting["descartadas_por_k"]
        for method, reason in accounting["declinadas"].items():
            zones["declinadas"][f"{area['provincia']}: {method}"] = reason
        if found is not None:
            found = found.copy()
            found["provincia"] = area["provincia"]
            frames.append(found)
    hotspots_public = (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326") if frames else None
    )
    return PublicData(pub, hotspots_public, zones)
