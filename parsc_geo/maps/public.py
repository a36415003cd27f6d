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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..privacy import (
    PUBLIC_COLUMNS,
    GeneralisedPartitions,
    PrivacyRule,
    PublicIncidents,
    generalise,
    generalise_partitions,
    located_points,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np

    from ..partitions import Partition, Pieces

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

    pub = generalise(incidents, rule)
    methods = hotspot_methods(hotspots)
    zones = _zones_record(methods)
    if not methods or not len(pub.points):
        return PublicData(pub, None, zones)
    if areas is None:
        from ..area import area_of

        areas = area_of(incidents).provinces()
    places = pub.points.to_crs(areas.crs)
    found = []
    for _, area in areas.iterrows():
        inside = places.within(area.geometry).to_numpy()
        if not inside.any():
            continue
        frame = gpd.GeoDataFrame([area], crs=areas.crs)
        found.append(
            (
                area["provincia"],
                *public_zones(pub.points.loc[inside], methods, pub.rule, area=frame),
            )
        )
    return PublicData(pub, _gathered_zones(found, zones), zones)


def _zones_record(methods: list[str]) -> dict[str, Any]:
    """Return the accounting of public zones before any is computed (see :class:`PublicData`)."""
    return {"metodos": methods, "calculadas": 0, "descartadas_por_k": 0, "declinadas": {}}


def _gathered_zones(
    found: Sequence[tuple[str, gpd.GeoDataFrame | None, dict[str, Any]]], zones: dict[str, Any]
) -> gpd.GeoDataFrame | None:
    """Return the public zones of every area with their ``provincia``; count them in ``zones``.

    ``found``: ``(province, zones, accounting)`` of :func:`public_zones` for each area.
    """
    import geopandas as gpd
    import pandas as pd

    frames = []
    for province, zones_found, accounting in found:
        zones["calculadas"] += accounting["calculadas"]
        zones["descartadas_por_k"] += accounting["descartadas_por_k"]
        for method, reason in accounting["declinadas"].items():
            zones["declinadas"][f"{province}: {method}"] = reason
        if zones_found is not None:
            zones_found = zones_found.copy()
            zones_found["provincia"] = province
            frames.append(zones_found)
    return (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326") if frames else None
    )


@dataclass
class PublicRows:
    """The published incidents of some places, as a task of a distributed run reads them.

    Attributes
    ----------
    rows
        Where the incidents are (read with :data:`parsc_geo.privacy.PUBLIC_COLUMNS`).
    place_ids
        The place of each.
    places
        Those places (rows of :attr:`parsc_geo.privacy.PublicIncidents.places`).
    """

    rows: Pieces
    place_ids: np.ndarray
    places: gpd.GeoDataFrame

    def __len__(self) -> int:
        return len(self.rows)

    def load(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """Return the incidents and their points (:func:`parsc_geo.privacy.located_points`)."""
        incidents = self.rows.load()
        return incidents, located_points(incidents, self.place_ids, self.places)


@dataclass
class PublicPage:
    """What a public page built by a worker needs of a distributed run's generalised incidents.

    The published incidents near the page (a superset of those it draws or uses for its
    density) and what every page shares: the rule, the accounting and the public zones.
    """

    rows: PublicRows
    rule: PrivacyRule
    withheld: dict[str, int]
    n_input: int
    hotspots: gpd.GeoDataFrame | None
    zones: dict[str, Any]
    study_area: Any = None

    def __len__(self) -> int:
        return len(self.rows)

    def load(self) -> tuple[gpd.GeoDataFrame, PublicData]:
        """Return the incidents (their public columns) and the page's :class:`PublicData`.

        The data's points are those of :attr:`rows`, the incidents' ``attrs`` name the study
        area (``study_area``, when they name none).
        """
        incidents, points = self.rows.load()
        if self.study_area is not None and "study_area" not in incidents.attrs:
            incidents.attrs["study_area"] = self.study_area
        published = PublicIncidents(
            points, self.rows.places, self.rule, dict(self.withheld), {}, self.n_input
        )
        return incidents, PublicData(published, self.hotspots, self.zones)


@dataclass
class PartitionedPublic:
    """What public maps draw of incidents held in partitions (:func:`prepare_public_partitions`).

    Attributes
    ----------
    generalised
        The generalised incidents (:class:`parsc_geo.privacy.GeneralisedPartitions`).
    hotspots, zones
        As in :class:`PublicData`.
    """

    generalised: GeneralisedPartitions
    hotspots: gpd.GeoDataFrame | None
    zones: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> PrivacyRule:
        """The privacy rule applied."""
        return self.generalised.rule

    def rows(self, chosen: np.ndarray) -> PublicRows:
        """Return the published incidents of the places ``chosen`` (boolean, one per place)."""
        rows, place_ids = self.generalised.located_rows(chosen, PUBLIC_COLUMNS)
        return PublicRows(rows, place_ids, self.generalised.places[chosen])

    def page(self, chosen: np.ndarray, study_area: Any = None) -> PublicPage:
        """Return what a page drawing the places ``chosen`` (and no other) needs."""
        gen = self.generalised
        return PublicPage(
            self.rows(chosen),
            gen.rule,
            dict(gen.withheld),
            gen.n_input,
            self.hotspots,
            self.zones,
            study_area,
        )


def prepare_public_partitions(
    partitions: Sequence[Partition],
    hotspots: gpd.GeoDataFrame | None,
    rule: PrivacyRule | None = None,
    *,
    areas: gpd.GeoDataFrame,
    pool: Any = 1,
) -> PartitionedPublic:
    """Apply the privacy rule for public maps to incidents held in partitions.

    :func:`prepare_public` of their table, without holding it: the incidents are generalised
    by tasks that read the partitions (:func:`parsc_geo.privacy.generalise_partitions`), and
    each province's zones are computed by a task that reads the published incidents of its
    places. This process holds the places, the accounting and the zones.

    Parameters
    ----------
    partitions
        The partitions holding the incidents, every incident in one.
    hotspots, rule
        As in :func:`prepare_public`.
    areas
        Areas in which zones are computed separately, with a ``provincia`` column (the
        incidents' study area's provinces, as :func:`prepare_public` takes by default).
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.

    Returns
    -------
    PartitionedPublic
        The same places, accounting and zones as :func:`prepare_public` of the table.
    """
    import geopandas as gpd

    from ..parallel import worker_pool

    generalised = generalise_partitions(partitions, rule, pool=pool)
    data = PartitionedPublic(generalised, None, _zones_record(hotspot_methods(hotspots)))
    methods = data.zones["metodos"]
    if not methods or not generalised.n_published:
        return data
    places = generalised.places.to_crs(areas.crs)
    items, provinces = [], []
    for _, area in areas.iterrows():
        inside = places.within(area.geometry).to_numpy()
        if not inside.any():
            continue
        frame = gpd.GeoDataFrame([area], crs=areas.crs)
        items.append((data.rows(inside), methods, generalised.rule, frame))
        provinces.append(area["provincia"])
    with worker_pool(pool) as running:
        results = running.map_largest_first(
            _province_zones, items, lambda item: len(item[0]), held=lambda item: len(item[0])
        )
    found = [(p, *result) for p, result in zip(provinces, results, strict=True)]
    data.hotspots = _gathered_zones(found, data.zones)
    return data


def _province_zones(
    item: tuple[PublicRows, list[str], PrivacyRule, gpd.GeoDataFrame],
) -> tuple[gpd.GeoDataFrame | None, dict[str, Any]]:
    """Return :func:`public_zones` of one area's published incidents (a worker's task)."""
    rows, methods, rule, area = item
    _, points = rows.load()
    return public_zones(points, methods, rule, area=area)
