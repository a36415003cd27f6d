"""Published ranking tables: per province, comisaría and sector, and the province summary.

:func:`write_rankings` ranks hotspots with :func:`parsc_geo.ranking.rank_hotspots` and writes,
per method, one table per level and ``resumen_provincias_<method>``, which lists every province
of the study area (the 13 of Cajamarca by default) and says why a province has no hotspot — no
hotspot is invented where a method found none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, InputDataError, OutputError
from .._text import as_bool, fold
from .._validate import check_choice
from ..io.writers import write_table
from ..labels_es import RANKING_CRITERIA as CRITERIA_ES
from ..labels_es import RANKING_HEADERS as HEADERS_ES
from ..labels_es import UNASSIGNED as UNASSIGNED_ES
from ..ranking import RANK_BY, check_hotspot_table, rank_hotspots

if TYPE_CHECKING:
    import pandas as pd

    from ..area import StudyArea
    from ..partitions import Partition

#: Ranking files written by :func:`write_rankings`: level → (grouping columns, stem, title).
RANKING_FILES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "provincia": (("provincia",), "ranking_provincias", "Hotspots por provincia"),
    "comisaria": (("comisaria",), "ranking_comisarias", "Hotspots por comisaría"),
    "sector": (("comisaria", "sector"), "ranking_sectores", "Hotspots por sector de comisaría"),
}


def ranking_table(ranked: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """Return a ranked hotspot table as published: Spanish headers, no geometry.

    Parameters
    ----------
    ranked
        Output of :func:`rank_hotspots`.
    top
        Keep only the first ``top`` hotspots of each group (None keeps all).
    """
    import pandas as pd

    if "rank" not in ranked.columns:
        raise InputDataError("la tabla no tiene columna 'rank'", hint="llame antes a rank_hotspots")
    if top is not None and top < 1:
        raise ConfigError(f"top debe ser un entero positivo; se recibió {top!r}")
    levels = list(ranked.attrs.get("ranking", {}).get("within", []))
    table = pd.DataFrame(ranked.drop(columns="geometry", errors="ignore"))
    if top is not None:
        table = table[table["rank"] <= top]
    columns = [*levels, "rank"] + [
        c for c in HEADERS_ES if c in table.columns and c not in levels and c != "rank"
    ]
    table = table[columns].copy()
    for level in levels:
        table[level] = table[level].where(table[level].notna(), UNASSIGNED_ES)
    for column in ("harm", "area_km2", "density", "gi_z"):
        if column in table.columns:
            table[column] = table[column].astype(float).round(3)
    return table.rename(columns=HEADERS_ES).reset_index(drop=True)


def province_summary(
    hotspots: pd.DataFrame,
    *,
    by: str = "n",
    incidents: pd.DataFrame | None = None,
    provinces: pd.DataFrame | None = None,
    method: str | None = None,
    declined: Mapping[str, str] | None = None,
    counts: pd.DataFrame | None = None,
    area: StudyArea | None = None,
) -> pd.DataFrame:
    """Summarise one method's hotspots for every province, saying why a province has none.

    Parameters
    ----------
    hotspots
        A table from a ``hotspot_*`` function (its ``attrs`` tell whether the method declined).
    by
        Criterion that picks each province's first hotspot (see :func:`rank_hotspots`).
    incidents
        The incidents analysed (with ``provincia``), to count them per province and explain
        empty provinces; stacks at police stations (``at_station``) are left out when the
        method excluded them.
    provinces
        Table with ``ubigeo_prov`` and ``provincia``; default: the provinces of ``area``.
    method
        Method name shown in the observations (default: from the table).
    declined
        Province name → reason, for methods run province by province that declined in some
        (e.g. ``attrs["reason_es"]`` of each run). A method that declined for the whole table
        is read from ``hotspots.attrs``.
    counts
        The incidents counted per province (:func:`province_counts`, or
        :func:`province_counts_from_partitions` in a distributed run), instead of
        ``incidents``: the same summary.
    area
        The study area whose provinces are listed; default: that of the incidents
        (:func:`parsc_geo.area.area_of`), the 13 provinces of Cajamarca without incidents.

    Returns
    -------
    pandas.DataFrame
        One row per province (in UBIGEO order) with Spanish headers: ``UBIGEO``,
        ``Provincia``, ``Incidentes`` (if ``incidents`` or ``counts`` given), ``Hotspots``,
        ``Incidentes en hotspots``, ``Daño ponderado en hotspots``, ``Hotspot principal``,
        ``Observación``; plus a last row for hotspots without a province, if any.
    """
    import pandas as pd

    from ..area import area_of, default_area

    check_hotspot_table(hotspots, by, ("provincia",))
    if provinces is None:
        if area is None:
            area = area_of(incidents) if incidents is not None else default_area()
        provinces = pd.DataFrame(area.provinces().drop(columns="geometry"))
    params = hotspots.attrs.get("parameters", {})
    if method is None:
        method = params.get("method") or (str(hotspots["method"].iloc[0]) if len(hotspots) else "?")
    everywhere = hotspots.attrs.get("reason_es") or hotspots.attrs.get("reason")
    per_province = {fold(k): str(v) for k, v in (declined or {}).items()}
    minimum = params.get("min_incidents")
    ranked = rank_hotspots(hotspots, by=by, within=("provincia",)) if len(hotspots) else None
    exclude = bool(params.get("exclude_at_station", True))
    counted = incidents is not None or counts is not None
    by_name: dict[Any, int] = {}
    if incidents is not None:
        by_name = _fold_counts(_counts_by_name(incidents, exclude_at_station=exclude).items())
    elif counts is not None:
        column = "n_not_at_station" if exclude else "n"
        by_name = _fold_counts(zip(counts["provincia"], counts[column], strict=True))
    rows: list[dict[str, Any]] = []
    known = set()
    for _, prov in provinces.sort_values("ubigeo_prov", kind="stable").iterrows():
        key = fold(prov["provincia"])
        known.add(key)
        rows.append(
            _summary_row(
                ranked,
                key,
                str(prov["ubigeo_prov"]),
                str(prov["provincia"]),
                by_name.get(key, 0) if counted else None,
                method=str(method),
                declined=per_province.get(key, everywhere),
                minimum=minimum,
            )
        )
    if ranked is not None:
        keys = ranked["provincia"].map(fold)
        others = ranked[~keys.isin(known)]
        if len(others):
            rows.append(
                _summary_row(
                    others.assign(provincia=None),
                    "",
                    "",
                    UNASSIGNED_ES,
                    None,
                    method=str(method),
                    declined=None,
                    minimum=None,
                )
            )
    table = pd.DataFrame(rows)
    if not counted:
        return table.drop(columns="Incidentes")
    # whole numbers, empty for the row of hotspots without a province (not 12.0 and NaN)
    table["Incidentes"] = table["Incidentes"].astype("Int64")
    return table


def _counts_by_name(incidents: pd.DataFrame, *, exclude_at_station: bool) -> pd.Series:
    """Return the incidents per province name (``provincia`` as written), as summarised.

    Stacks at police stations (``at_station``) are left out when ``exclude_at_station``.
    """
    if "provincia" not in incidents.columns:
        raise InputDataError(
            "los incidentes no tienen columna 'provincia'",
            hint="asigne antes los incidentes a distritos (parsc_geo.assign.assign_incidents)",
        )
    used = incidents
    if exclude_at_station and "at_station" in incidents.columns:
        used = incidents[~as_bool(incidents["at_station"])]
    return used["provincia"].value_counts(sort=False)


def _fold_counts(pairs: Iterable[tuple[Any, Any]]) -> dict[str, int]:
    """Return ``(province name, count)`` pairs added up per folded name (see :func:`fold`)."""
    counts: dict[str, int] = {}
    # fold each distinct name once (not each incident's): national runs have millions
    for name, n in pairs:
        counts[fold(name)] = counts.get(fold(name), 0) + int(n)
    return counts


def province_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    """Return the incidents per province, as :func:`province_summary` counts them.

    Parameters
    ----------
    incidents
        The incidents analysed (with ``provincia``; ``at_station`` if known).

    Returns
    -------
    pandas.DataFrame
        ``provincia`` (each name as written in the incidents, once), ``n`` (its incidents)
        and ``n_not_at_station`` (those not stacked at a police station: all without
        ``at_station``), both ``int64``; incidents without a province are not counted.
    """
    import pandas as pd

    everywhere = _counts_by_name(incidents, exclude_at_station=False)
    away = _counts_by_name(incidents, exclude_at_station=True)
    table = pd.DataFrame(
        {
            "provincia": everywhere.index,
            "n": everywhere.to_numpy(dtype="int64"),
            "n_not_at_station": away.reindex(everywhere.index, fill_value=0).to_numpy(
                dtype="int64"
            ),
        }
    )
    return table


def province_counts_from_partitions(
    partitions: Sequence[Partition], *, pool: Any = 1
) -> pd.DataFrame:
    """Return :func:`province_counts` of the incidents of ``partitions``, counted by tasks.

    How a distributed run's summary counts the incidents per province without holding them
    (issue 17): each task reads the ``provincia`` and ``at_station`` of one partition
    (:func:`parsc_geo.partitions.map_partitions`) and counts them; this process adds the
    counts of each name up.

    Parameters
    ----------
    partitions
        Partitions (:func:`parsc_geo.partitions.write_partitions`) holding every incident once.
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.

    Returns
    -------
    pandas.DataFrame
        As :func:`province_counts` (names in the order first met, partition by partition):
        :func:`province_summary` and :func:`write_rankings` given it as ``counts`` write what
        they write given the incidents.
    """
    import pandas as pd

    from ..partitions import map_partitions

    parts = map_partitions(
        province_counts, partitions, pool=pool, columns=["provincia", "at_station"]
    )
    counted = [part for part in parts if len(part)]
    if not counted:
        return parts[0] if parts else province_counts(pd.DataFrame({"provincia": []}))
    return (
        pd.concat(counted, ignore_index=True)
        .groupby("provincia", sort=False)[["n", "n_not_at_station"]]
        .sum()
        .astype("int64")
        .reset_index()
    )


def _summary_row(
    ranked: pd.DataFrame | None,
    key: str,
    ubigeo: str,
    name: str,
    n_incidents: int | None,
    *,
    method: str,
    declined: str | None,
    minimum: int | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "UBIGEO": ubigeo,
        "Provincia": name,
        "Incidentes": n_incidents,
        "Hotspots": 0,
        "Incidentes en hotspots": 0,
        "Daño ponderado en hotspots": 0.0,
        "Hotspot principal": None,
    }
    n_hot = 0
    if ranked is not None:
        mine = ranked[ranked["provincia"].map(fold) == key]
        n_hot = len(mine)
        if n_hot:
            row["Hotspots"] = n_hot
            row["Incidentes en hotspots"] = int(mine["n"].sum())
            row["Daño ponderado en hotspots"] = round(float(mine["harm"].sum()), 3)
            row["Hotspot principal"] = str(mine["hotspot_id"].iloc[0])
    if n_hot:
        row["Observación"] = f"{n_hot} hotspot{'s' if n_hot != 1 else ''} ({method})"
    elif n_incidents == 0:
        row["Observación"] = "sin hotspots: no hay incidentes registrados en la provincia"
    elif declined:
        row["Observación"] = f"sin hotspots: el método {method} no se aplicó ({declined})"
    elif n_incidents is not None and minimum is not None and n_incidents < minimum:
        row["Observación"] = (
            f"sin hotspots: solo {n_incidents} incidentes (el método {method} requiere al "
            f"menos {minimum} para detectar concentraciones)"
        )
    elif n_incidents is not None:
        row["Observación"] = (
            f"sin hotspots: {n_incidents} incidentes sin concentración que cumpla el criterio "
            f"del método {method}"
        )
    else:
        row["Observación"] = f"sin hotspots: el método {method} no encontró concentraciones"
    return row


def _complete(hotspots: pd.DataFrame) -> pd.DataFrame:
    """Return ``hotspots`` with every hotspot column (an empty table may lack them)."""
    from ..schema import HOTSPOT_COLUMNS

    table = hotspots.copy()
    for column in HOTSPOT_COLUMNS:
        if column not in table.columns:
            table[column] = (
                0 if column == "n" else (0.0 if column in ("harm", "area_km2", "density") else None)
            )
    return table


def write_rankings(
    hotspots: pd.DataFrame,
    folder: str | os.PathLike[str],
    *,
    by: str = "n",
    levels: tuple[str, ...] = tuple(RANKING_FILES),
    declined: Mapping[str, Mapping[str, str]] | None = None,
    incidents: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    area: StudyArea | None = None,
    formats: tuple[str, ...] = ("csv", "xlsx"),
    top: int | None = None,
    overwrite: bool = False,
    synthetic: bool = False,
) -> tuple[pd.DataFrame, list[Path]]:
    """Rank hotspots and write the ranking tables and the province summary, per method.

    Parameters
    ----------
    hotspots
        Hotspots of one or several methods (``method`` column), e.g. concatenated runs.
    folder
        Existing output folder.
    by
        Ranking criterion (see :func:`rank_hotspots`).
    levels
        Keys of :data:`RANKING_FILES`: ``provincia``, ``comisaria`` (ranked within each
        comisaría) and ``sector`` (within each sector of each comisaría).
    declined
        Method → {province → reason} for runs that declined (shown in the summary).
    incidents
        The incidents analysed, to count them per province in the summary.
    counts
        Those counts instead of ``incidents`` (see :func:`province_summary`).
    area
        The study area whose provinces the summary lists (see :func:`province_summary`).
    formats
        ``"csv"`` and/or ``"xlsx"``.
    top
        Keep only the first ``top`` hotspots of each unit in the ranking tables.
    overwrite
        Replace existing files.
    synthetic
        Mark the tables as synthetic data (see :func:`write_table`).

    Returns
    -------
    tuple
        The whole table ranked within (method, provincia), and the list of files written:
        ``<stem>_<method>.<format>`` for each level and ``resumen_provincias_<method>.<format>``.
    """
    check_choice("by", by, RANK_BY)
    for level in levels:
        check_choice("levels", level, RANKING_FILES)
    for fmt in formats:
        check_choice("formats", fmt, ("csv", "xlsx"))
    target = Path(folder)
    table = _complete(hotspots)
    methods = sorted(
        {str(m) for m in table["method"].dropna().unique()} | set((declined or {}).keys())
    )
    if not methods and table.attrs.get("parameters", {}).get("method"):
        methods = [str(table.attrs["parameters"]["method"])]
    planned = [
        target / f"{stem}_{m}.{fmt}"
        for m in methods
        for stem in [*(RANKING_FILES[lv][1] for lv in levels), "resumen_provincias"]
        for fmt in formats
    ]
    existing = [str(p) for p in planned if p.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{len(existing)} salida(s) ya existe(n): {', '.join(existing[:5])}",
            hint="use --overwrite (overwrite=True) para reemplazarlas",
        )
    criterion = CRITERIA_ES[by]
    files: list[Path] = []
    for m in methods:
        subset = table[table["method"] == m].copy()
        subset.attrs = dict(table.attrs)
        for level in levels:
            within, stem, title = RANKING_FILES[level]
            published = ranking_table(rank_hotspots(subset, by=by, within=within), top=top)
            for fmt in formats:
                files.append(
                    write_table(
                        published,
                        target / f"{stem}_{m}.{fmt}",
                        title=f"{title} — {m} (por {criterion})",
                        overwrite=overwrite,
                        synthetic=synthetic,
                    )
                )
        summary = province_summary(
            subset,
            by=by,
            incidents=incidents,
            method=m,
            declined=(declined or {}).get(m),
            counts=counts,
            area=area,
        )
        for fmt in formats:
            files.append(
                write_table(
                    summary,
                    target / f"resumen_provincias_{m}.{fmt}",
                    title=f"Hotspots en las provincias — {m} (por {criterion})",
                    overwrite=overwrite,
                    synthetic=synthetic,
                    sheet="Resumen",
                )
            )
    ranked = rank_hotspots(table, by=by, within=("method", "provincia"))
    return ranked, files
