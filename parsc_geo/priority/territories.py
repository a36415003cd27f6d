"""Priority territories per fenómeno: the plan's section 2.8, regenerated from data.

For each of the plan's four fenómenos (and any modalidad the analyst names) and each province or
district of the study area, :func:`compute_priority` gives the number of complaints in the
period, the rate per 100,000 inhabitants, the Empirical-Bayes smoothed rate, the share of the
regional total, the change against the previous period, a level ("ALTA PRIORIDAD",
"PRIORIDAD" or none) by a documented :class:`~parsc_geo.priority_levels.PriorityRule`, and the
stability of that level under bootstrap resampling of the complaints.

Inputs are count tables (:mod:`parsc_geo.counts`): the SIDPOL open-data CSV, any UBIGEO ×
category × count table, and incident points aggregated per district. Fenómeno membership comes
from the ingestion taxonomy, so points and SIDPOL counts agree.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .. import settings
from .._errors import ConfigError, InputDataError
from .._text import fold, num
from ..labels_es import NO_COMPLAINTS
from .levels import (
    LEVEL_ALTA,
    LEVEL_NONE,
    LEVEL_PRIORIDAD,
    PriorityRule,
    assign_levels,
    levels_many,
)
from .period import Period, resolve_periods
from .rates import RATE_PER, empirical_bayes, percent_change

if TYPE_CHECKING:
    import pandas as pd

    from ..area import StudyArea

__all__ = [
    "PriorityResult",
    "bootstrap_stability",
    "compute_priority",
    "plan_table",
    "top_districts",
]

#: Territorial levels, in the order results are listed.
TERRITORIAL_LEVELS: Final[tuple[str, ...]] = ("provincia", "distrito")
#: Fenómenos ranked by default: the plan's four (``schema.FENOMENOS`` without "otros").
DEFAULT_FENOMENOS: Final[tuple[str, ...]] = (
    "violencia_mujer",
    "muertes_violentas",
    "patrimonio_espacio_publico",
    "bandas_criminales",
)
#: Bootstrap replicates for the stability of levels.
DEFAULT_N_BOOT: Final = 200
#: Columns of :attr:`PriorityResult.table`, in order.
DETAIL_COLUMNS: Final[tuple[str, ...]] = (
    "nivel_territorial",
    "objetivo",
    "objetivo_tipo",
    "objetivo_nombre",
    "codigo",
    "departamento",
    "provincia",
    "distrito",
    "periodo",
    "n",
    "poblacion",
    "anio_poblacion",
    "tasa",
    "tasa_eb",
    "peso_eb",
    "tasa_regional",
    "participacion",
    "n_anterior",
    "variacion",
    "grupo",
    "nivel_regla",
    "nivel",
    "estabilidad",
    "motivo",
)


@dataclass
class PriorityResult:
    """Indicators and levels of every unit, per target (fenómeno or modalidad).

    Attributes
    ----------
    table
        :data:`DETAIL_COLUMNS`, one row per territorial level × target × unit, ordered by
        level (provinces first), target, then level, smoothed rate and code.
    period, previous_period
        The period analysed and its comparison period (``None`` for tables without time).
    parameters
        Every parameter, including the automatic ones.
    inputs
        One dict per input source (``source``, ``rows``, ``n``; the CLI adds ``path``, ``sha256``).
    notes
        What was left out or could not be computed, in plain words.
    synthetic
        Whether any input is synthetic (then every output shows the banner).
    place
        The study area as titles name it (``"región Cajamarca"``, ``"Perú"``; see
        :attr:`parsc_geo.area.StudyArea.place`).
    """

    table: pd.DataFrame
    period: Period | None
    previous_period: Period | None
    parameters: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    place: str = ""

    def level(self, territorial_level: str = "provincia") -> pd.DataFrame:
        """Return the rows of one territorial level (``"provincia"`` or ``"distrito"``)."""
        return self.table[self.table["nivel_territorial"] == territorial_level]

    def prioritised(self, territorial_level: str = "provincia") -> pd.DataFrame:
        """Return the units with a level, highest first within each target."""
        rows = self.level(territorial_level)
        return rows[rows["nivel"] != LEVEL_NONE]


def _targets(
    counts: pd.DataFrame, fenomenos: Sequence[str], modalidades: Sequence[str]
) -> list[tuple[str, str, str, pd.Series]]:
    """Return (id, kind, Spanish name, row mask) for every requested target."""
    from ..schema import FENOMENOS, modalidad_label

    out: list[tuple[str, str, str, pd.Series]] = []
    unknown = [f for f in fenomenos if f not in FENOMENOS]
    if unknown:
        raise ConfigError(
            f"fenómeno(s) desconocido(s): {', '.join(map(repr, unknown))}",
            hint=f"elija entre {', '.join(FENOMENOS)}",
        )
    for code in fenomenos:
        out.append((code, "fenomeno", FENOMENOS[code], counts["fenomeno"] == code))
    if modalidades:
        fields: dict[str, list[str]] = {
            "generico": [fold(v) for v in counts["delito_generico"]],
            "especifico": [fold(v) for v in counts["delito_especifico"]],
            "modalidad": [
                fold(modalidad_label(str(e), str(m)))
                for e, m in zip(counts["delito_especifico"], counts["modalidad"], strict=True)
            ],
            "categoria": [fold(v) for v in counts["categoria"]],
        }
        for name in modalidades:
            key = fold(name)
            mask = np.zeros(len(counts), dtype=bool)
            for values in fields.values():
                mask |= np.asarray(values, dtype=object) == key
            if not mask.any() and key not in _taxonomy_names():
                # absent from the data AND unknown to the taxonomy: a misspelling, not a
                # month without that crime (which is normal and gives a row of zeros)
                known = sorted({str(v) for key in ("especifico", "modalidad") for v in fields[key]})
                raise ConfigError(
                    f"la modalidad {name!r} no coincide con ninguna categoría de los conteos "
                    "ni de la taxonomía",
                    hint="use un delito específico o modalidad de la taxonomía "
                    "(parsc_geo/data/taxonomia.csv), p. ej. " + ", ".join(known[:12]),
                )
            import pandas as pd

            out.append(
                (
                    f"modalidad:{key}",
                    "modalidad",
                    name.strip().capitalize(),
                    pd.Series(mask, index=counts.index),
                )
            )
    return out


@lru_cache(maxsize=1)
def _taxonomy_names() -> frozenset[str]:
    """Return every name a modalidad target may take (folded), whether or not data have it.

    Genéricos, específicos, modalidad labels and aliases of the taxonomy, so that a crime
    absent from one month's data is still recognised as a crime.
    """
    from ..schema import modalidad_label
    from ..taxonomy import canonical_triples

    names: set[str] = set()
    for row in canonical_triples().itertuples(index=False):
        names.update(
            fold(v)
            for v in (
                row.delito_generico,
                row.delito_especifico,
                row.modalidad,
                modalidad_label(str(row.delito_especifico), str(row.modalidad)),
                *str(row.alias).split(";"),
            )
            if str(v).strip()
        )
    return frozenset(names)


def _units(level: str, year: int, area: StudyArea) -> pd.DataFrame:
    """Return the study area's units with names and population, keyed by ``codigo``."""
    from ..boundaries import load_departments, population_for_year

    pop = population_for_year(year, level, prefix=area.prefixes)
    departments = load_departments()
    dep_names = dict(
        zip(departments["ubigeo_dep"], departments["departamento"].map(fold), strict=True)
    )
    if level == "provincia":
        units = pop.rename(columns={"ubigeo_prov": "codigo"})
        units["distrito"] = ""
    else:
        units = pop.rename(columns={"ubigeo": "codigo"}).drop(columns="ubigeo_prov")
    units["departamento"] = units["codigo"].str[:2].map(dep_names).fillna("")
    codes = units["codigo"]
    # a province of a district-sized area is the part of it in the area (its population too)
    holds = codes.map(lambda c: any(p.startswith(c) for p in area.prefixes))
    units = units[area.contains_code(codes) | holds.astype(bool)]
    return units.sort_values("codigo", kind="stable").set_index("codigo")


def _prefix_text(area: StudyArea) -> str:
    """Return the area's UBIGEO prefixes as recorded (``"06"``; ``"04, 18"``)."""
    return ", ".join(area.prefixes)


def _indicators(
    current: np.ndarray, previous: np.ndarray | None, population: np.ndarray
) -> dict[str, np.ndarray]:
    eb = empirical_bayes(current, population, per=RATE_PER)
    total = current.sum()
    share = current / total * 100.0 if total > 0 else np.full(len(current), np.nan)
    out = {
        "n": current,
        "tasa": eb.raw_rate,
        "tasa_eb": eb.rate,
        "peso_eb": eb.weight,
        "tasa_regional": np.full(len(current), eb.prior_mean),
        "participacion": share,
    }
    if previous is None:
        out["n_anterior"] = np.full(len(current), np.nan)
        out["variacion"] = np.full(len(current), np.nan)
    else:
        out["n_anterior"] = previous.astype(float)
        out["variacion"] = percent_change(current, previous)
    return out


def bootstrap_stability(
    counts: np.ndarray,
    population: np.ndarray,
    levels: np.ndarray,
    rule: PriorityRule,
    *,
    n_boot: int,
    seed: int,
) -> np.ndarray:
    """Return, per unit, the share of bootstrap replicates in which it keeps its level.

    Parameters
    ----------
    counts
        Complaints per unit in the period.
    population
        Population per unit.
    levels
        The observed levels.
    rule
        The rule that produced ``levels`` (applied unchanged to every replicate).
    n_boot
        Number of replicates.
    seed
        Seed of the resampling.

    Returns
    -------
    numpy.ndarray
        Share in [0, 1]; NaN when ``n_boot`` is 0.

    Notes
    -----
    Resampling the N complaints of the period with replacement (Efron & Tibshirani 1993) makes
    each replicate's counts a multinomial draw with N trials and probabilities equal to the
    observed shares, which is how the replicates are drawn. Rates, smoothing and levels are
    recomputed on every replicate.
    """
    if n_boot <= 0:
        return np.full(len(counts), np.nan)
    total = int(counts.sum())
    if total == 0:
        return np.ones(len(counts))
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(total, counts / total, size=n_boot).astype(float)
    replicates = []
    for draw in draws:
        eb = empirical_bayes(draw, population, per=RATE_PER)
        replicates.append({"n": draw, "tasa": eb.raw_rate, "tasa_eb": eb.rate})
    # All replicates at once (levels_many clusters them together): the same levels as one
    # levels_array call per replicate, in a fraction of the time.
    same = (levels_many(replicates, rule) == np.asarray(levels, dtype=object)).sum(axis=0)
    return same.astype(float) / n_boot


def _prepare_counts(counts: pd.DataFrame, notes: list[str], area: StudyArea) -> pd.DataFrame:
    from .counts import COUNT_COLUMNS, TAXONOMY_COLUMNS, classify_counts

    missing = [c for c in COUNT_COLUMNS if c not in counts.columns and c != "source_row"]
    if missing:
        raise InputDataError(
            f"a la tabla de conteos le falta(n) la(s) columna(s) {', '.join(missing)}",
            hint="lea los archivos de conteos con parsc_geo.counts.read_counts",
        )
    if any(c not in counts.columns for c in TAXONOMY_COLUMNS) or counts["fenomeno"].isna().any():
        counts = classify_counts(counts)
    inside = area.contains_code(counts["ubigeo"])
    if (~inside).any():
        notes.append(
            f"Se dejaron fuera {num(int(counts.loc[~inside, 'n'].sum()))} denuncias de fuera del "
            f"área de estudio (UBIGEO que no empieza por {_prefix_text(area)})."
        )
    counts = counts[inside]
    unknown = counts[~counts["label_known"].astype(bool)]
    if not unknown.empty:
        labels = ", ".join(sorted(unknown["categoria"].astype(str).unique())[:8])
        notes.append(
            f"{num(int(unknown['n'].sum()))} denuncias tienen categorías que la taxonomía no "
            f"reconoce ({labels}); cuentan como «otros»."
        )
    return counts


def compute_priority(
    counts: pd.DataFrame | Iterable[pd.DataFrame],
    *,
    levels: Sequence[str] = TERRITORIAL_LEVELS,
    fenomenos: Sequence[str] | None = None,
    modalidades: Sequence[str] = (),
    period: Period | str | None = None,
    previous_period: Period | str | None = None,
    rule: PriorityRule | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int | None = None,
    synthetic: bool = False,
    study_area: Any = None,
) -> PriorityResult:
    """Rank the study area's provinces and districts per fenómeno into priority levels.

    Parameters
    ----------
    counts
        One count table or several (:func:`parsc_geo.counts.read_counts`,
        :func:`parsc_geo.counts.counts_from_incidents`); several are summed, so they must not
        describe the same complaints.
    levels
        Territorial levels: ``"provincia"`` and/or ``"distrito"``.
    fenomenos
        Fenómeno codes (``schema.FENOMENOS``); ``None`` means the plan's four.
    modalidades
        Extra targets named by delito específico or modalidad (``"homicidio"``,
        ``"robo agravado"``, ``"Extorsión"``), matched without regard to case or accents.
    period
        ``Period`` or text (``"2020-01:2020-10"``); ``None`` means the latest twelve months with
        data (the latest year for yearly tables).
    previous_period
        Comparison period; ``None`` means the same months a year earlier.
    rule
        Level rule (``None``: k-means on smoothed rate and volume, see
        :mod:`parsc_geo.priority_levels`).
    n_boot
        Bootstrap replicates for the stability of levels (0 skips it).
    seed
        Seed of the bootstrap (``None``: :data:`parsc_geo.settings.SEED`).
    synthetic
        Whether the inputs are synthetic (recorded, and shown on every output).
    study_area
        The territory whose units are ranked (anything :func:`parsc_geo.area.resolve_area`
        takes; default the Cajamarca region). Counts from elsewhere are left out, with a note.

    Returns
    -------
    PriorityResult

    Notes
    -----
    Rates are complaints in the period per 100,000 inhabitants (not annualised), with the
    INEI population of the year nearest the period's last month. Every unit of the study area is
    ranked, with 0 where it has no complaints. Smoothing is global Empirical Bayes (Marshall
    1991) across the units of the level, see :func:`parsc_geo.rates.empirical_bayes`.
    """
    import pandas as pd

    rule = rule or PriorityRule()
    seed = settings.SEED if seed is None else seed
    fenomenos = list(DEFAULT_FENOMENOS if fenomenos is None else fenomenos)
    bad_levels = [lv for lv in levels if lv not in TERRITORIAL_LEVELS]
    if bad_levels or not levels:
        raise ConfigError(
            f"levels debe estar entre {', '.join(TERRITORIAL_LEVELS)}; se recibió {list(levels)!r}"
        )
    if n_boot < 0:
        raise ConfigError(f"n_boot no debe ser negativo; se recibió {n_boot}")
    tables = [counts] if isinstance(counts, pd.DataFrame) else list(counts)
    if not tables:
        raise InputDataError(
            "no se indicaron conteos",
            hint="indique archivos COUNTS.csv o un espacio de trabajo con incidentes",
        )
    from ..area import resolve_area

    area = resolve_area(study_area, quiet=True)
    notes: list[str] = []
    prepared = [_prepare_counts(t, notes, area) for t in tables]
    inputs = [
        {
            "source": ", ".join(sorted(t["source"].astype(str).unique())) or "(vacío)",
            "rows": int(t.attrs.get("rows_read", len(t))),
            "n": int(t["n"].sum()),
        }
        for t in prepared
    ]
    data = pd.concat(prepared, ignore_index=True)
    if data.empty or data["n"].sum() == 0:
        raise InputDataError(
            "los conteos no contienen ninguna denuncia en el área de estudio "
            f"({area.describe()}: UBIGEO {_prefix_text(area)}…)",
            hint="compruebe que los archivos cubran la región y que tengan códigos UBIGEO",
        )
    cur_period, prev_period, prev_ok = resolve_periods(data, period, previous_period, notes)
    if cur_period is None:
        in_current = pd.Series(True, index=data.index)
        in_previous = pd.Series(False, index=data.index)
    else:
        assert prev_period is not None
        in_current = cur_period.mask(data["anio"], data["mes"])
        in_previous = prev_period.mask(data["anio"], data["mes"])
        year = data["anio"].astype("Float64")
        straddling = (
            data["mes"].isna()
            & ~in_current
            & (year * 12 + 11).ge(cur_period.start).fillna(False)
            & (year * 12).le(cur_period.end).fillna(False)
        )
        if straddling.any():
            notes.append(
                f"{num(int(data.loc[straddling, 'n'].sum()))} denuncias de tablas anuales no caben "
                f"enteras en el periodo {cur_period.label()} y se dejaron fuera: use un periodo "
                "de años completos."
            )
        sources_in_period = data.loc[in_current, "source"].astype(str).unique()
        if len(sources_in_period) > 1:
            notes.append(
                "Varias fuentes tienen denuncias en el periodo y se suman ("
                + ", ".join(sorted(sources_in_period))
                + "): verifique que no describan las mismas denuncias."
            )
        if not in_current.any():
            raise InputDataError(
                f"ningún conteo cae en el periodo {cur_period.iso()}",
                hint="elija un periodo dentro de los datos (vea --period)",
            )
    targets = _targets(data, fenomenos, modalidades)
    if not targets:
        raise ConfigError(
            "nada que ordenar: no se pidió ningún fenómeno ni modalidad",
            hint="deje fenomenos=None para los cuatro del plan, o indique una modalidad",
        )
    pop_year = cur_period.end_year if cur_period is not None else int(data["anio"].max())
    rows: list[pd.DataFrame] = []
    for level in levels:
        units = _units(level, pop_year, area)
        if level == "provincia":
            key = data["ubigeo"].astype(str).str[:4]
        else:
            key = data["ubigeo"].astype(str).where(data["ubigeo"].astype(str).str.len() == 6)
            province_only = key.isna() & in_current
            if province_only.any():
                notes.append(
                    f"{num(int(data.loc[province_only, 'n'].sum()))} denuncias vienen de "
                    "tablas por "
                    "provincia y no entran en el análisis por distrito."
                )
        unknown = ~key.isin(units.index) & key.notna() & in_current
        if unknown.any():
            codes = ", ".join(sorted(key[unknown].unique())[:10])
            notes.append(
                f"{num(int(data.loc[unknown, 'n'].sum()))} denuncias tienen UBIGEO sin población "
                f"INEI ({level}: {codes}) y se dejaron fuera."
            )
        population = units["poblacion"].to_numpy(dtype=float)
        for target_id, kind, name, target_mask in targets:
            cur = (
                data.loc[in_current & target_mask]
                .groupby(key[in_current & target_mask])["n"]
                .sum()
                .reindex(units.index, fill_value=0)
                .to_numpy(dtype=float)
            )
            prev = None
            if prev_ok:
                prev = (
                    data.loc[in_previous & target_mask]
                    .groupby(key[in_previous & target_mask])["n"]
                    .sum()
                    .reindex(units.index, fill_value=0)
                    .to_numpy(dtype=float)
                )
            values = _indicators(cur, prev, population)
            frame = pd.DataFrame(values, index=units.index)
            frame = frame.join(assign_levels(frame, rule))
            if cur.sum() == 0:
                # a month or a province without some crime is normal: say so, rank nothing
                frame["motivo"] = NO_COMPLAINTS
                if level == levels[0]:
                    notes.append(f"{name}: {NO_COMPLAINTS}.")
            target_seed = [seed, zlib.crc32(f"{level}|{target_id}".encode())]
            frame["estabilidad"] = bootstrap_stability(
                cur,
                population,
                frame["nivel"].to_numpy(),
                rule,
                n_boot=n_boot,
                seed=int(np.random.SeedSequence(target_seed).generate_state(1)[0]),
            )
            frame["nivel_territorial"] = level
            frame["objetivo"] = target_id
            frame["objetivo_tipo"] = kind
            frame["objetivo_nombre"] = name
            frame["periodo"] = cur_period.label() if cur_period is not None else "todo"
            for column in ("departamento", "provincia", "distrito", "poblacion", "anio_poblacion"):
                frame[column] = units[column]
            level_order = frame["nivel"].map({LEVEL_ALTA: 0, LEVEL_PRIORIDAD: 1, LEVEL_NONE: 2})
            frame = (
                frame.assign(_order=level_order)
                .rename_axis("codigo")
                .reset_index()
                .sort_values(
                    ["_order", "tasa_eb", "codigo"], ascending=[True, False, True], kind="stable"
                )
                .drop(columns="_order")
            )
            rows.append(frame[list(DETAIL_COLUMNS)])
    table = pd.concat(rows, ignore_index=True)
    table["n"] = table["n"].astype("int64")
    table["poblacion"] = table["poblacion"].astype("int64")
    table["grupo"] = table["grupo"].astype("int64")
    parameters: dict[str, Any] = {
        "levels": list(levels),
        "fenomenos": fenomenos,
        "modalidades": list(modalidades),
        "period": cur_period.iso() if cur_period is not None else None,
        "previous_period": prev_period.iso() if prev_period is not None else None,
        "previous_period_complete": prev_ok,
        "population_year_requested": pop_year,
        "rate_per": RATE_PER,
        "smoothing": "global Empirical Bayes (Marshall 1991), negative prior variance set to 0",
        "rule": rule.as_dict(),
        "rule_description": rule.describe(),
        "n_boot": n_boot,
        "bootstrap_seed": seed,
        "study_area_ubigeo_prefix": _prefix_text(area),
    }
    table.attrs["parameters"] = parameters
    return PriorityResult(
        table=table,
        period=cur_period,
        previous_period=prev_period,
        parameters=parameters,
        inputs=inputs,
        notes=notes,
        synthetic=synthetic,
        place=area.place,
    )


def top_districts(
    counts: pd.DataFrame | Iterable[pd.DataFrame],
    *,
    modalidad: str | None = None,
    fenomeno: str | None = None,
    n: int = 7,
    period: Period | str | None = None,
    by: str = "n",
    study_area: Any = None,
) -> pd.DataFrame:
    """Return the ``n`` districts with most complaints of a modalidad or fenómeno.

    The ready-made answer to activities such as the plan's A3 (monthly *patrullaje policial
    integral* in the 7 districts with most homicides on public roads):
    ``top_districts(counts, modalidad="homicidio", n=7)``.

    Parameters
    ----------
    counts
        Count table(s), as for :func:`compute_priority`.
    modalidad, fenomeno
        The target: exactly one of them.
    n
        Number of districts.
    period
        As for :func:`compute_priority` (default: latest twelve months).
    by
        ``"n"`` (complaints; ties broken by smoothed rate), ``"tasa_eb"`` or ``"tasa"``.
    study_area
        As for :func:`compute_priority`.

    Returns
    -------
    pandas.DataFrame
        ``rank`` (1 = first), ``codigo``, ``distrito``, ``provincia``, ``n``, ``poblacion``,
        ``tasa``, ``tasa_eb``, ``participacion``, ``periodo``; districts with no complaints are
        never listed, so fewer than ``n`` rows may come back.

    Notes
    -----
    The canonical incident table has no place type, so "on public roads" cannot be checked
    here: filter the incidents first if the source records it.
    """
    if (modalidad is None) == (fenomeno is None):
        raise ConfigError("indique exactamente uno de modalidad= o fenomeno=")
    if by not in ("n", "tasa_eb", "tasa"):
        raise ConfigError(f"by debe ser 'n', 'tasa_eb' o 'tasa'; se recibió {by!r}")
    if n < 1:
        raise ConfigError(f"n debe ser al menos 1; se recibió {n}")
    result = compute_priority(
        counts,
        levels=("distrito",),
        fenomenos=[fenomeno] if fenomeno is not None else [],
        modalidades=[modalidad] if modalidad is not None else [],
        period=period,
        n_boot=0,
        study_area=study_area,
    )
    table = result.table
    second = "tasa_eb" if by == "n" else "n"
    ranked = table[table["n"] > 0].sort_values(
        [by, second, "codigo"], ascending=[False, False, True], kind="stable"
    )
    out = ranked.head(n)[
        [
            "codigo",
            "distrito",
            "provincia",
            "n",
            "poblacion",
            "tasa",
            "tasa_eb",
            "participacion",
            "periodo",
        ]
    ].reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    out.attrs["parameters"] = {**result.parameters, "top_n": n, "by": by}
    out.attrs["notes"] = list(result.notes)
    return out


def plan_table(result: PriorityResult) -> pd.DataFrame:
    """Return the prioritised provinces in the plan's section 2.8 layout (long form).

    Parameters
    ----------
    result
        Output of :func:`compute_priority` with the ``"provincia"`` level.

    Returns
    -------
    pandas.DataFrame
        Columns ``FENÓMENO`` (the plan's label), ``N/O`` (``a.``, ``b.``…), ``DEPARTAMENTO``,
        ``PROVINCIA``, ``CLÚSTER`` (``ALTA PRIORIDAD`` or ``PRIORIDAD``), fenómenos in the
        plan's order, ALTA PRIORIDAD before PRIORIDAD, then by smoothed rate. Fenómenos with
        complaints but no prioritised province have no rows; a fenómeno without any complaint
        in the period has one row whose ``CLÚSTER`` says so (:data:`NO_COMPLAINTS`).
    """
    import pandas as pd

    from ..schema import FENOMENO_PLAN_LABELS

    level = result.level("provincia")
    totals = level.groupby("objetivo", sort=False)["n"].sum()
    departments = level["departamento"].dropna().astype(str).unique()
    department = departments[0] if len(departments) == 1 else ""
    prioritised = set(result.prioritised("provincia")["objetivo"])
    records = []
    for target, total in totals.items():
        part = level[(level["objetivo"] == target) & (level["nivel"] != LEVEL_NONE)]
        label = FENOMENO_PLAN_LABELS.get(
            str(target), fold(level.loc[level["objetivo"] == target, "objetivo_nombre"].iloc[0])
        )
        if total == 0:
            records.append(
                {
                    "FENÓMENO": label,
                    "N/O": "",
                    "DEPARTAMENTO": department,
                    "PROVINCIA": "",
                    "CLÚSTER": NO_COMPLAINTS,
                }
            )
            continue
        if target not in prioritised:
            continue
        for i, (_, row) in enumerate(part.iterrows()):
            records.append(
                {
                    "FENÓMENO": label,
                    "N/O": _letter(i) + ".",
                    "DEPARTAMENTO": row["departamento"],
                    "PROVINCIA": row["provincia"],
                    "CLÚSTER": row["nivel"],
                }
            )
    return pd.DataFrame(
        records, columns=["FENÓMENO", "N/O", "DEPARTAMENTO", "PROVINCIA", "CLÚSTER"]
    )


def _letter(index: int) -> str:
    """Return the letters a, b, … z, aa, ab … for 0, 1, … (the plan's N/O column)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters
