"""The privacy rule of public outputs: nobody can be located from what parsc-geo publishes.

Police complaints locate victims: a family-violence report is a home. Internal outputs (marked
"USO INTERNO") keep exact locations for police work; public ones (``parsc-geo map --public``,
``run`` with ``maps.public = true``) follow this rule, version :data:`RULE_VERSION`, in every
layer, popup, table and file, whatever method drew it:

1. **Sensitive incidents are never located.** The taxonomy decides which (never keywords in
   free text, :func:`parsc_geo.taxonomy.is_sensitive`): violence against women and members of
   the family group, feminicidio, trata de personas, every offence against sexual freedom
   (violación, tocamientos, estupro…) and against the family (alimentos, patria potestad,
   menores). Incidents whose category the taxonomy does not recognise are treated alike (they
   cannot be shown not to be sensitive), and so are incidents with no informative location
   (no coordinates, or stacked on a police station's coordinates). None of them enters a
   point, zone, density or count below the whole published area.
2. **Other locations are generalised to places standing for at least k incidents.** Each
   incident goes to the centre of its cell in a square grid of ``grid_m`` metres aligned on
   the metric CRS (UTM); a cell holding at least ``k`` incidents is a published *place*. The
   incidents of cells holding fewer are pooled in the parent cell (side doubled: 100, 200, 400,
   800, 1 600 m by default) and so on ``levels`` times; what still holds fewer than ``k`` is
   suppressed. Like the snap points of police.uk, each of which covers several addresses,
   every published place therefore stands for at least ``k`` incidents, and no published
   coordinate comes from one incident.
3. **Zones and densities are computed from the places only.** Hotspot zones and kernel
   densities of public maps use the generalised incidents (sensitive ones never shape them);
   zones holding between 1 and ``k - 1`` incidents are dropped.
4. **Small counts are suppressed**: a count between 1 and ``k - 1`` in a public table, label or
   popup is shown as "menos de k" (:func:`count_text`).
5. **No free text**: public popups show canonical categories of the taxonomy and counts only;
   no description, raw label, identifier, date or hour.
6. **Accounting**: ``privacidad.json`` beside the public outputs lists what was generalised and
   suppressed (counts per reason and per cell size, ``k``, rule version).

``k`` defaults to :data:`DEFAULT_K` (5), ``grid_m`` to
:data:`parsc_geo.settings.PUBLIC_GRID_M` (100 m) and ``levels`` to :data:`DEFAULT_LEVELS` (4);
all are configurable (``--privacy-k``, ``--grid-m``; ``maps.privacy_k`` in a run file).

References
----------
Home Office / police.uk, "About the data: location anonymisation" (snap points covering
several postal addresses). ONS Statistical Disclosure Control: cell suppression of small counts.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from . import settings
from ._errors import ConfigError
from ._text import num

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: Version of the rule, recorded in ``privacidad.json``.
RULE_VERSION: Final[str] = "1"
#: Default minimum number of incidents behind every published place and count.
DEFAULT_K: Final[int] = 5
#: Default number of times the cell side is doubled to pool cells with fewer than k incidents.
DEFAULT_LEVELS: Final[int] = 4
#: File name of the privacy report written beside public outputs.
REPORT_NAME: Final[str] = "privacidad.json"

#: Reasons why an incident is not located, in the order they are checked (key → Spanish text).
WITHHELD_REASONS: Final[dict[str, str]] = {
    "categoria_sensible": "categoría sensible (taxonomía)",
    "categoria_no_reconocida": "categoría no reconocida por la taxonomía",
    "sin_ubicacion": "sin ubicación informativa (sin coordenadas o apilado en una comisaría)",
    "suprimido_por_k": "en una celda de la mayor cuadrícula con menos de k incidentes",
}

#: Columns a generalised incident keeps (canonical categories, assignment, time for periods).
PUBLIC_COLUMNS: Final[tuple[str, ...]] = (
    "occurred_at",
    "time_known",
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "harm",
    "provincia",
    "comisaria",
    "sector",
    "subsector",
)


@dataclass(frozen=True)
class PrivacyRule:
    """Parameters of the privacy rule (see the module notes).

    Parameters
    ----------
    k
        Minimum number of incidents behind every published place and count (default 5).
    grid_m
        Side in metres of the finest grid (default :data:`parsc_geo.settings.PUBLIC_GRID_M`).
    levels
        Times the side is doubled to pool cells with fewer than ``k`` incidents (default 4:
        cells of 100, 200, 400, 800 and 1 600 m).

    Raises
    ------
    ConfigError
        When a parameter is out of range.
    """

    k: int = DEFAULT_K
    grid_m: float = settings.PUBLIC_GRID_M
    levels: int = DEFAULT_LEVELS

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 1:
            raise ConfigError(
                "k de la regla de privacidad debe ser un número entero >= 1; "
                f"se recibió {self.k!r}",
                hint=f"el valor por defecto es {DEFAULT_K}",
            )
        try:
            grid = float(self.grid_m)
        except (TypeError, ValueError):
            grid = float("nan")
        if not math.isfinite(grid) or grid <= 0:
            raise ConfigError(
                "la cuadrícula pública debe ser un número positivo de metros; "
                f"se recibió {self.grid_m!r}"
            )
        if isinstance(self.levels, bool) or not isinstance(self.levels, int | np.integer):
            raise ConfigError(f"levels debe ser un número entero; se recibió {self.levels!r}")
        if not 0 <= self.levels <= 10:
            raise ConfigError(f"levels debe estar entre 0 y 10; se recibió {self.levels!r}")
        object.__setattr__(self, "k", int(self.k))
        object.__setattr__(self, "grid_m", grid)
        object.__setattr__(self, "levels", int(self.levels))

    @classmethod
    def from_options(cls, *, k: int | None = None, grid_m: float | None = None) -> PrivacyRule:
        """Return the rule with ``k`` and ``grid_m`` where given, the defaults otherwise."""
        return cls(
            k=DEFAULT_K if k is None else k,
            grid_m=settings.PUBLIC_GRID_M if grid_m is None else grid_m,
        )

    @property
    def cell_sizes(self) -> tuple[float, ...]:
        """Cell sides in metres, finest first (``grid_m · 2**level``)."""
        return tuple(self.grid_m * 2**level for level in range(self.levels + 1))

    def describe(self) -> str:
        """Return the Spanish sentence that public maps show in their title block."""
        sizes = ", ".join(num(s) for s in self.cell_sizes)
        return (
            "Los incidentes de violencia contra la mujer e integrantes del grupo familiar, "
            "delitos sexuales, trata, delitos contra la familia y de categoría no reconocida no se "
            "ubican ni se cuentan por lugar. Los demás se agrupan en lugares generalizados (centro "
            f"de una celda de {sizes} m) que reúnen al menos {self.k} incidentes; los recuentos "
            f"menores que {self.k} no se muestran y las ventanas solo dan categoría y número, sin "
            f"texto libre (regla de privacidad v{RULE_VERSION})."
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as JSON-ready data (Spanish keys, as in ``privacidad.json``)."""
        return {
            "version": RULE_VERSION,
            "k": self.k,
            "cuadricula_m": self.grid_m,
            "niveles": self.levels,
            "celdas_m": list(self.cell_sizes),
        }


def count_text(n: int | float, k: int) -> str:
    """Return a published count: the number, or "menos de k" for 1 … k − 1.

    Examples
    --------
    >>> count_text(3, 5), count_text(0, 5), count_text(1234, 5)
    ('menos de 5', '0', '1 234')
    """
    value = int(n)
    if 0 < value < k:
        return f"menos de {k}"
    return num(value)


def withheld_reasons(incidents: gpd.GeoDataFrame) -> pd.Series:
    """Return why each incident may not be located in public outputs ("" when it may).

    Reasons, checked in order: ``categoria_sensible`` (:func:`parsc_geo.taxonomy.is_sensitive`
    without unknown categories), ``categoria_no_reconocida``
    (:func:`parsc_geo.taxonomy.is_recognised`), ``sin_ubicacion`` (missing or empty point, or
    ``at_station``).

    Returns
    -------
    pandas.Series
        Text, index-aligned with ``incidents``.
    """
    import pandas as pd
    import shapely

    from .taxonomy import is_recognised, is_sensitive

    sensitive = is_sensitive(incidents, unknown=False).to_numpy(dtype=bool)
    unknown = ~is_recognised(incidents).to_numpy(dtype=bool)
    geoms = np.asarray(incidents.geometry.values)
    no_place = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if "at_station" in incidents.columns:
        from ._text import as_bool  # boolean-like text: "false" is False

        no_place |= as_bool(incidents["at_station"])
    reason = np.full(len(incidents), "", dtype=object)
    reason[no_place] = "sin_ubicacion"
    reason[unknown] = "categoria_no_reconocida"
    reason[sensitive] = "categoria_sensible"
    return pd.Series(reason, index=incidents.index, dtype=object)


@dataclass
class PublicIncidents:
    """Incidents generalised by the privacy rule (see :func:`generalise`).

    Attributes
    ----------
    points
        One row per published incident, at the centre of its place (input CRS), with
        :data:`PUBLIC_COLUMNS` and ``place_id``, ``cell_m``.
    places
        One row per place: ``place_id``, ``cell_m``, ``n`` (incidents), geometry (input CRS).
    rule
        The rule applied.
    withheld
        Incidents not located, by reason (:data:`WITHHELD_REASONS`).
    sensitive_categories
        Sensitive incidents withheld by category label (``específico / modalidad``).
    n_input
        Incidents given.
    """

    points: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    rule: PrivacyRule
    withheld: dict[str, int]
    sensitive_categories: dict[str, int] = field(default_factory=dict)
    n_input: int = 0

    @property
    def n_withheld(self) -> int:
        """Incidents not located, every reason."""
        return int(sum(self.withheld.values()))

    def report(self) -> dict[str, Any]:
        """Return the accounting of ``privacidad.json`` (Spanish keys)."""
        return _report(
            self.rule,
            self.places,
            len(self.points),
            self.withheld,
            self.sensitive_categories,
            self.n_input,
        )


def _report(
    rule: PrivacyRule,
    places: gpd.GeoDataFrame,
    published: int,
    withheld: Mapping[str, int],
    sensitive_categories: Mapping[str, int],
    n_input: int,
) -> dict[str, Any]:
    """Return the accounting of ``privacidad.json`` (see :meth:`PublicIncidents.report`)."""
    k = rule.k
    levels = []
    for size in rule.cell_sizes:
        part = places[places["cell_m"] == size]
        levels.append({"celda_m": size, "lugares": len(part), "incidentes": int(part["n"].sum())})
    return {
        "regla": rule.to_dict(),
        "incidentes": {
            "entrada": n_input,
            "publicados_en_lugares": published,
            "no_ubicados": {key: int(withheld.get(key, 0)) for key in WITHHELD_REASONS},
            "motivos": dict(WITHHELD_REASONS),
        },
        "lugares": {
            "total": len(places),
            "minimo_incidentes_por_lugar": int(places["n"].min()) if len(places) else None,
            "por_celda": levels,
        },
        "categorias_sensibles_no_ubicadas": {
            label: count_text(n, k) for label, n in sorted(sensitive_categories.items())
        },
    }


def generalise(incidents: gpd.GeoDataFrame, rule: PrivacyRule | None = None) -> PublicIncidents:
    """Apply the privacy rule to incidents: withhold, pool into places of at least k, suppress.

    Parameters
    ----------
    incidents
        Incident table (canonical schema, any CRS).
    rule
        The rule (default :class:`PrivacyRule`).

    Returns
    -------
    PublicIncidents
        Published incidents at their place, the places and the accounting.

    Notes
    -----
    Cells are aligned on the origin of the metric CRS, so the cells of one level nest exactly in
    those of the next; the result does not depend on the order of the rows.
    """
    import geopandas as gpd
    import pandas as pd

    from .projection import metric_crs

    rule = rule or PrivacyRule()
    _check_crs(incidents)
    reasons, withheld, categories = _withheld(incidents)
    kept = incidents.loc[(reasons == "").to_numpy()]
    columns = [c for c in PUBLIC_COLUMNS if c in kept.columns]
    if not len(kept):
        points = gpd.GeoDataFrame(kept[columns].copy(), geometry=kept.geometry.values)
        points = points.set_crs(incidents.crs, allow_override=True)
        points["place_id"] = pd.Series([], dtype=int)
        points["cell_m"] = pd.Series([], dtype=float)
        return PublicIncidents(
            points, _no_places(incidents.crs), rule, withheld, categories, len(incidents)
        )
    crs = metric_crs(kept)
    metric = kept.geometry.to_crs(crs)
    x, y = metric.x.to_numpy(dtype=float), metric.y.to_numpy(dtype=float)
    place_of, centres, pending = _pool_places(
        lambda level, rows: _cells(x[rows], y[rows], rule.cell_sizes[level]), len(kept), rule
    )
    withheld["suprimido_por_k"] = len(pending)
    located = place_of >= 0
    places = _places(centres, crs, incidents.crs)
    points = located_points(kept.loc[located, columns], place_of[located], places)
    return PublicIncidents(points, places, rule, withheld, categories, len(incidents))


def _check_crs(incidents: gpd.GeoDataFrame) -> None:
    """Raise when the incidents have no CRS (their cells could not be measured)."""
    if incidents.crs is None:
        from ._errors import InputDataError

        raise InputDataError("los incidentes no tienen SRC", hint="asigne EPSG:4326")


def _withheld(incidents: gpd.GeoDataFrame) -> tuple[pd.Series, dict[str, int], dict[str, int]]:
    """Return why each incident is withheld, the counts per reason and per sensitive category.

    ``suprimido_por_k`` is 0 here (it depends on the places, :func:`_pool_places`).
    """
    import pandas as pd

    from .schema import modalidad_label

    reasons = withheld_reasons(incidents)
    withheld = {key: int((reasons == key).sum()) for key in WITHHELD_REASONS}
    sens = incidents.loc[(reasons == "categoria_sensible").to_numpy()]
    categories: dict[str, int] = {}
    if len(sens):
        labels = [
            modalidad_label(str(e), str(m)) or str(m)
            for e, m in zip(
                sens.get("delito_especifico", pd.Series("", index=sens.index)),
                sens.get("modalidad", pd.Series("", index=sens.index)),
                strict=True,
            )
        ]
        categories = {str(k): int(v) for k, v in pd.Series(labels).value_counts().items()}
    return reasons, withheld, categories


def _no_places(crs: Any) -> gpd.GeoDataFrame:
    """Return the places of incidents none of which is located (no row)."""
    import geopandas as gpd
    import pandas as pd

    return gpd.GeoDataFrame(
        {"place_id": pd.Series([], dtype=int), "cell_m": [], "n": pd.Series([], dtype=int)},
        geometry=[],
        crs=crs,
    )


def _cells(x: np.ndarray, y: np.ndarray, size: float) -> np.ndarray:
    """Return the cells (column, row) of side ``size`` holding the metric points ``x``, ``y``."""
    return np.column_stack([np.floor(x / size).astype(np.int64), np.floor(y / size)]).astype(
        np.int64
    )


def _pool_places(
    cells_of: Callable[[int, np.ndarray], np.ndarray],
    n: int,
    rule: PrivacyRule,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, list[tuple[float, float, float, int]], np.ndarray]:
    """Pool ``n`` items into places of at least ``rule.k`` incidents, finest cells first.

    ``cells_of(level, items)``: the cells of side ``rule.cell_sizes[level]`` of those items
    (rows of :func:`_cells`). ``weights``: the incidents each item stands for (None: one each; the
    items are then the incidents).

    Returns
    -------
    tuple
        Each item's place (-1: none), the places' ``(x, y, side, incidents)`` (metric centre)
        in the order of their ids, and the items left in no place.
    """
    place_of = np.full(n, -1, dtype=np.int64)
    centres: list[tuple[float, float, float, int]] = []
    pending = np.arange(n)
    for level, size in enumerate(rule.cell_sizes):
        if not len(pending):
            break
        cells = cells_of(level, pending)
        if weights is None:
            uniq, inverse, counts = np.unique(
                cells, axis=0, return_inverse=True, return_counts=True
            )
            inverse = np.asarray(inverse).ravel()
        else:
            uniq, inverse = np.unique(cells, axis=0, return_inverse=True)
            inverse = np.asarray(inverse).ravel()
            counts = np.zeros(len(uniq), dtype=np.int64)
            np.add.at(counts, inverse, weights[pending])
        big = counts >= rule.k
        ids = np.full(len(uniq), -1, dtype=np.int64)
        for u in np.flatnonzero(big):
            ids[u] = len(centres)
            centres.append(
                ((uniq[u, 0] + 0.5) * size, (uniq[u, 1] + 0.5) * size, size, int(counts[u]))
            )
        published = big[inverse]
        place_of[pending[published]] = ids[inverse[published]]
        pending = pending[~published]
    return place_of, centres, pending


def _places(
    centres: list[tuple[float, float, float, int]], metric: Any, crs: Any
) -> gpd.GeoDataFrame:
    """Return the places table of :func:`_pool_places`' centres (``metric`` CRS) in ``crs``."""
    import geopandas as gpd

    cx = np.array([c[0] for c in centres], dtype=float)
    cy = np.array([c[1] for c in centres], dtype=float)
    place_geoms = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=metric).to_crs(crs)
    return gpd.GeoDataFrame(
        {
            "place_id": np.arange(len(centres), dtype=np.int64),
            "cell_m": np.array([c[2] for c in centres], dtype=float),
            "n": np.array([c[3] for c in centres], dtype=np.int64),
        },
        geometry=place_geoms.values,
        crs=crs,
    )


def located_points(
    rows: pd.DataFrame, place_ids: np.ndarray, places: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Return located incidents as published: at the centre of their place, public columns only.

    Parameters
    ----------
    rows
        The incidents (their :data:`PUBLIC_COLUMNS` are kept, in that order).
    place_ids
        The place of each row (``place_id`` of ``places``).
    places
        Places holding those ids (``place_id`` ascending, as :func:`generalise` numbers them),
        in the incidents' CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of :attr:`PublicIncidents.points`: ``rows``' index and public columns, the
        place's point, ``place_id`` and ``cell_m``.
    """
    import geopandas as gpd

    columns = [c for c in PUBLIC_COLUMNS if c in rows.columns]
    at = np.searchsorted(places["place_id"].to_numpy(), place_ids)
    points = gpd.GeoDataFrame(
        rows[columns].copy(), geometry=places.geometry.values[at], crs=places.crs
    )
    points["place_id"] = np.asarray(place_ids, dtype=np.int64)
    points["cell_m"] = places["cell_m"].to_numpy()[at]
    return points


#: Columns that say whether an incident may be located (:func:`withheld_reasons`), besides
#: its geometry.
REASON_COLUMNS: Final[tuple[str, ...]] = (
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "label_known",
    "at_station",
)


@dataclass
class GeneralisedPartitions:
    """Incidents of partitions generalised by the privacy rule (:func:`generalise_partitions`).

    What :func:`generalise` gives of a table, without its points: the places and the accounting,
    and where each published incident is (its partition, position and place), so that a task
    can read the published incidents of some places (:meth:`located_rows`) and make their
    points (:func:`located_points`).

    Attributes
    ----------
    partitions
        The partitions.
    rule
        The rule applied.
    places
        As :attr:`PublicIncidents.places`.
    withheld, sensitive_categories, n_input
        As in :class:`PublicIncidents` (the categories' counts ordered by count, then label).
    located
        For each partition, its published incidents: positions in it (ascending), index values
        and places.
    """

    partitions: list[Any]
    rule: PrivacyRule
    places: gpd.GeoDataFrame
    withheld: dict[str, int]
    sensitive_categories: dict[str, int]
    n_input: int
    located: list[tuple[np.ndarray, np.ndarray, np.ndarray]]

    @property
    def n_published(self) -> int:
        """Incidents published at a place (``len`` of :func:`generalise`'s points)."""
        return int(sum(len(positions) for positions, _, _ in self.located))

    @property
    def n_withheld(self) -> int:
        """Incidents not located, every reason."""
        return int(sum(self.withheld.values()))

    def report(self) -> dict[str, Any]:
        """Return the accounting of ``privacidad.json`` (as :meth:`PublicIncidents.report`)."""
        return _report(
            self.rule,
            self.places,
            self.n_published,
            self.withheld,
            self.sensitive_categories,
            self.n_input,
        )

    def located_rows(
        self, chosen: np.ndarray, columns: Sequence[str] = PUBLIC_COLUMNS
    ) -> tuple[Any, np.ndarray]:
        """Return the published incidents of some places, as a task reads them, and their places.

        Parameters
        ----------
        chosen
            Boolean, one per place (row of :attr:`places`): the places wanted.
        columns
            The columns read besides the geometry.

        Returns
        -------
        tuple
            The rows (:class:`parsc_geo.partitions.Pieces`, in the table's order) and the
            place of each.
        """
        from .partitions import Pieces

        found, ids = [], []
        for partition, (positions, index, places) in zip(
            self.partitions, self.located, strict=True
        ):
            mine = chosen[places]
            found.append((partition, positions[mine], index[mine]))
            ids.append(places[mine])
        rows = Pieces.in_index_order(found, columns)
        place_ids = np.concatenate([np.zeros(0, dtype=np.int64), *(i for i in ids if len(i))])
        if rows.order is not None:
            place_ids = place_ids[rows.order]
        return rows, place_ids


def generalise_partitions(
    partitions: Sequence[Any], rule: PrivacyRule | None = None, *, pool: Any = 1
) -> GeneralisedPartitions:
    """Apply the privacy rule to the incidents of partitions, as :func:`generalise` to their table.

    Each partition is read twice by a task of ``pool`` (the columns of
    :data:`REASON_COLUMNS` and the geometry): first for the incidents withheld and the extent
    of the others (which chooses the metric CRS), then for the cells holding each incident
    that may be located, at every level. The tasks return counts, an extent and the distinct
    cells of their partition with their counts (and which is each incident's); this process
    pools the cells of all partitions into places (the table's cells, as :func:`generalise`
    finds them: the same places, numbered alike) and never holds the incidents.

    Parameters
    ----------
    partitions
        The partitions holding the incidents, every incident in one
        (:class:`parsc_geo.partitions.Partition`).
    rule
        The rule (default :class:`PrivacyRule`).
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.

    Returns
    -------
    GeneralisedPartitions
        The places, the accounting, and where each published incident is.
    """
    import pandas as pd

    from .partitions import map_partitions
    from .projection import metric_crs

    rule = rule or PrivacyRule()
    parts = list(partitions)
    first = map_partitions(_withheld_part, parts, pool=pool, columns=REASON_COLUMNS)
    withheld = {key: sum(w[key] for w, _, _, _, _ in first) for key in WITHHELD_REASONS}
    counted: dict[str, int] = {}
    for _, categories, _, _, _ in first:
        for label, n in categories.items():
            counted[label] = counted.get(label, 0) + n
    categories = dict(sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])))
    n_input = sum(n for _, _, n, _, _ in first)
    crs = first[0][3] if first else None
    corners = [c for _, _, _, _, c in first if c is not None]
    none = np.zeros(0, dtype=np.int64)
    if not corners:
        located = [(none, none, none) for _ in parts]
        return GeneralisedPartitions(
            parts, rule, _no_places(crs), withheld, categories, n_input, located
        )
    metric = metric_crs(pd.concat(corners))
    second = map_partitions(
        _cells_part, parts, pool=pool, columns=REASON_COLUMNS, args=(metric, rule)
    )
    every = np.concatenate([cells for _, _, cells, _, _ in second])
    weights = np.concatenate([counts for _, _, _, counts, _ in second])
    distinct, inverse = np.unique(every, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    totals = np.zeros(len(distinct), dtype=np.int64)
    np.add.at(totals, inverse, weights)
    place_of, centres, pending = _pool_places(
        lambda level, items: distinct[items, 2 * level : 2 * level + 2],
        len(distinct),
        rule,
        totals,
    )
    withheld["suprimido_por_k"] = int(totals[pending].sum())
    located, start = [], 0
    for positions, index, cells, _, which in second:
        mine = place_of[inverse[start : start + len(cells)]][which]
        start += len(cells)
        kept = mine >= 0
        located.append((positions[kept], index[kept], mine[kept]))
    places = _places(centres, metric, crs)
    return GeneralisedPartitions(parts, rule, places, withheld, categories, n_input, located)


def _withheld_part(
    incidents: gpd.GeoDataFrame,
) -> tuple[dict[str, int], dict[str, int], int, Any, gpd.GeoDataFrame | None]:
    """Return one partition's withheld incidents per reason and category, rows, CRS and extent.

    The extent: :func:`parsc_geo.projection.metric_corners` of the incidents that may be
    located (None when none may).
    """
    from .projection import metric_corners

    _check_crs(incidents)
    reasons, withheld, categories = _withheld(incidents)
    kept = incidents.loc[(reasons == "").to_numpy()]
    corners = metric_corners(kept) if len(kept) else None
    return withheld, categories, len(incidents), incidents.crs, corners


def _cells_part(
    incidents: gpd.GeoDataFrame, metric: Any, rule: PrivacyRule
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return where one partition's incidents that may be located are and their cells.

    ``(positions, index values, distinct cells, their incidents, each incident's cell)``:
    the cells of every level side by side (:func:`_cells` in the ``metric`` CRS), one row
    per distinct combination.
    """
    reasons = withheld_reasons(incidents)
    keep = (reasons == "").to_numpy()
    kept = incidents.loc[keep]
    xy = kept.geometry.to_crs(metric)
    x, y = xy.x.to_numpy(dtype=float), xy.y.to_numpy(dtype=float)
    every = np.column_stack([_cells(x, y, size) for size in rule.cell_sizes])
    distinct, which, counts = np.unique(every, axis=0, return_inverse=True, return_counts=True)
    return (
        np.flatnonzero(keep).astype(np.int64),
        kept.index.to_numpy(),
        distinct,
        counts.astype(np.int64),
        np.asarray(which).ravel(),
    )


def write_privacy_report(
    folder: str | os.PathLike[str],
    report: Mapping[str, Any],
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``privacidad.json`` (UTF-8, sorted keys kept in their order) into ``folder``.

    Parameters
    ----------
    folder
        Folder of the public outputs.
    report
        The accounting (e.g. :meth:`PublicIncidents.report` with what each output added).
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    from ._atomic import write_text_atomic

    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    return write_text_atomic(Path(folder) / REPORT_NAME, text, overwrite=overwrite)
