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
from collections.abc import Mapping
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
        k = self.rule.k
        levels = []
        for size in self.rule.cell_sizes:
            part = self.places[self.places["cell_m"] == size]
            levels.append(
                {"celda_m": size, "lugares": len(part), "incidentes": int(part["n"].sum())}
            )
        return {
            "regla": self.rule.to_dict(),
            "incidentes": {
                "entrada": self.n_input,
                "publicados_en_lugares": len(self.points),
                "no_ubicados": {key: int(self.withheld.get(key, 0)) for key in WITHHELD_REASONS},
                "motivos": dict(WITHHELD_REASONS),
            },
            "lugares": {
                "total": len(self.places),
                "minimo_incidentes_por_lugar": int(self.places["n"].min())
                if len(self.places)
                else None,
                "por_celda": levels,
            },
            "categorias_sensibles_no_ubicadas": {
                label: count_text(n, k) for label, n in sorted(self.sensitive_categories.items())
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
    from .schema import modalidad_label

    rule = rule or PrivacyRule()
    if incidents.crs is None:
        from ._errors import InputDataError

        raise InputDataError("los incidentes no tienen SRC", hint="asigne EPSG:4326")
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
    kept = incidents.loc[(reasons == "").to_numpy()]
    columns = [c for c in PUBLIC_COLUMNS if c in kept.columns]
    empty_places = gpd.GeoDataFrame(
        {"place_id": pd.Series([], dtype=int), "cell_m": [], "n": pd.Series([], dtype=int)},
        geometry=[],
        crs=incidents.crs,
    )
    if not len(kept):
        points = gpd.GeoDataFrame(kept[columns].copy(), geometry=kept.geometry.values)
        points = points.set_crs(incidents.crs, allow_override=True)
        points["place_id"] = pd.Series([], dtype=int)
        points["cell_m"] = pd.Series([], dtype=float)
        return PublicIncidents(points, empty_places, rule, withheld, categories, len(incidents))
    crs = metric_crs(kept)
    metric = kept.geometry.to_crs(crs)
    x, y = metric.x.to_numpy(dtype=float), metric.y.to_numpy(dtype=float)
    place_of = np.full(len(kept), -1, dtype=np.int64)
    centres: list[tuple[float, float, float, int]] = []
    pending = np.arange(len(kept))
    for size in rule.cell_sizes:
        if not len(pending):
            break
        cells = np.column_stack(
            [np.floor(x[pending] / size).astype(np.int64), np.floor(y[pending] / size)]
        ).astype(np.int64)
        uniq, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
        inverse = np.asarray(inverse).ravel()
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
    withheld["suprimido_por_k"] = len(pending)
    located = place_of >= 0
    cx = np.array([c[0] for c in centres], dtype=float)
    cy = np.array([c[1] for c in centres], dtype=float)
    place_geoms = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=crs).to_crs(incidents.crs)
    places = gpd.GeoDataFrame(
        {
            "place_id": np.arange(len(centres), dtype=np.int64),
            "cell_m": np.array([c[2] for c in centres], dtype=float),
            "n": np.array([c[3] for c in centres], dtype=np.int64),
        },
        geometry=place_geoms.values,
        crs=incidents.crs,
    )
    chosen = place_of[located]
    points = gpd.GeoDataFrame(
        kept.loc[located, columns].copy(),
        geometry=place_geoms.values[chosen],
        crs=incidents.crs,
    )
    points["place_id"] = chosen
    points["cell_m"] = places["cell_m"].to_numpy()[chosen]
    return PublicIncidents(points, places, rule, withheld, categories, len(incidents))


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
