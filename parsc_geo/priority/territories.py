"""Priority territories per fenómeno: the plan's section 2.8, regenerated from data.

For each of the plan's four fenómenos (and any modalidad the analyst names) and each province or
district of the study area, :func:`compute_priority` gives the number of complaints in the
period, the rate per 100,000 inhabitants, the Empirical-Bayes smoothed rate, the share of the
regional total, the change against the previous period (only when every source spans it), a
level ("ALTA PRIORIDAD", "PRIORIDAD" or none) by a documented
:class:`~parsc_geo.priority.levels.PriorityRule`, the stability of that level under bootstrap
resampling of the complaints and the level a table publishes (``NIVEL INCIERTO`` when unstable,
:mod:`~parsc_geo.priority.stability`). Units no input covers in the period are listed apart,
not ranked (:mod:`~parsc_geo.priority.coverage`).

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
from ..labels_es import NO_COMPLAINTS, NO_DATA
from .coverage import covered_units
from .explain import observations
from .levels import (
    LEVEL_ALTA,
    LEVEL_NONE,
    LEVEL_PRIORIDAD,
    PriorityRule,
    assign_levels,
)
from .period import Period, resolve_periods
from .rates import RATE_PER, empirical_bayes, percent_change
from .stability import (
    DEFAULT_MIN_STABILITY,
    bootstrap_levels,
    published_levels,
    stability_percent,
)

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
    "con_datos",
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
    "nivel_alternativo",
    "estabilidad_alternativa",
    "incierto",
    "nivel_publicado",
    "motivo",
    "observacion",
)
#: Order of the levels in tables.
_LEVEL_RANK: Final[dict[str, int]] = {LEVEL_ALTA: 0, LEVEL_PRIORIDAD: 1, LEVEL_NONE: 2}


@dataclass
class PriorityResult:
    """Indicators and levels of every unit, per target (fenómeno or modalidad).

    Attributes
    ----------
    table
        :data:`DETAIL_COLUMNS`, one row per territorial level × target × unit, ordered by
        level (provinces first), target, then published level (sure before uncertain),
        smoothed rate and code; units without data in the period (``con_datos`` False) last.
        Besides the indicators: ``estabilidad`` (share of bootstrap replicates keeping the
        level), ``nivel_alternativo`` and ``estabilidad_alternativa`` (the level taken most
        often otherwise), ``incierto`` and ``nivel_publicado`` (the level, or ``NIVEL INCIERTO
        (A o B)``, or "sin datos en el periodo"), ``motivo`` (how the rule decided) and
        ``observacion`` (why the unit sits where it does, in words).
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

    @property
    def compared(self) -> bool:
        """Whether the change against the previous period was computed (every source spans it)."""
        return self.previous_period is not None and bool(
            self.parameters.get("previous_period_complete")
        )

    def level(self, territorial_level: str = "provincia") -> pd.DataFrame:
        """Return the rows of one territorial level (``"provincia"`` or ``"distrito"``)."""
        return self.table[self.table["nivel_territorial"] == territorial_level]

    def prioritised(self, territorial_level: str = "provincia") -> pd.DataFrame:
        """Return the units with a level, highest first within each target."""
        rows = self.level(territorial_level)
        return rows[rows["nivel"] != LEVEL_NONE]

    def published(self, territorial_level: str = "provincia") -> pd.DataFrame:
        """Return the units a plan table lists: with a level, or uncertain between two levels.

        An uncertain unit without level (``NIVEL INCIERTO (PRIORIDAD o SIN PRIORIDAD)``) is
        listed: the data do not rule out that it deserves priority.
        """
        rows = self.level(territorial_level)
        candidate = rows["incierto"].astype(bool) & rows["nivel_alternativo"].isin(
            [LEVEL_ALTA, LEVEL_PRIORIDAD]
        )
        return rows[(rows["nivel"] != LEVEL_NONE) | candidate]

    def without_data(self, territorial_level: str = "provincia") -> pd.DataFrame:
        """Return the units no input covers in the period (one row per unit)."""
        rows = self.level(territorial_level)
        return rows[~rows["con_datos"].astype(bool)].drop_duplicates("codigo")


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
    """Return the study area's units with names (with accents) and population, by ``codigo``."""
    from ..boundaries import population_for_year
    from .names import unit_names

    pop = population_for_year(year, level, prefix=area.prefixes)
    if level == "provincia":
        units = pop.rename(columns={"ubigeo_prov": "codigo"})
        units["distrito"] = ""
    else:
        units = pop.rename(columns={"ubigeo": "codigo"}).drop(columns="ubigeo_prov")
        names = unit_names("distrito", units["codigo"])
        units["distrito"] = units["codigo"].map(names).fillna(units["distrito"])
    codes = units["codigo"]
    provinces = unit_names("provincia", codes.str[:4])
    units["provincia"] = codes.str[:4].map(provinces).fillna(units["provincia"])
    units["departamento"] = codes.str[:2].map(unit_names("departamento", codes.str[:2]))
    units["departamento"] = units["departamento"].fillna("")
    # a province of a district-sized area is the part of it in the area (its population too)
    holds = codes.map(lambda c: any(p.startswith(c) for p in area.prefixes))
    units = units[area.contains_code(codes) | holds.astype(bool)]
    return units.sort_values("codigo", kind="stable").set_index("codigo")


@dataclass(frozen=True)
class _LevelContext:
    """What every target of one territorial level shares."""

    level: str
    units: pd.DataFrame
    covered: np.ndarray
    rule: PriorityRule
    n_boot: int
    seed: int
    min_stability: float


def _rank_target(
    context: _LevelContext, target_id: str, cur: np.ndarray, prev: np.ndarray | None
) -> pd.DataFrame:
    """Return the rows of one target: the covered units ranked, then those without data."""
    import pandas as pd

    units, inside, rule = context.units, context.covered, context.rule
    name_column = "provincia" if context.level == "provincia" else "distrito"
    population = units["poblacion"].to_numpy(dtype=float)
    parts = []
    if inside.any():
        counts = cur[inside]
        values = _indicators(counts, None if prev is None else prev[inside], population[inside])
        frame = pd.DataFrame(values, index=units.index[inside])
        frame = frame.join(assign_levels(frame, rule))
        target_seed = [context.seed, zlib.crc32(f"{context.level}|{target_id}".encode())]
        stability = bootstrap_levels(
            counts,
            population[inside],
            frame["nivel"].to_numpy(),
            rule,
            n_boot=context.n_boot,
            seed=int(np.random.SeedSequence(target_seed).generate_state(1)[0]),
        )
        frame["estabilidad"] = stability.own
        frame["nivel_alternativo"] = stability.alternative
        frame["estabilidad_alternativa"] = np.where(
            np.isfinite(stability.own), stability.alternative_share, np.nan
        )
        uncertain, text = published_levels(
            frame["nivel"].to_numpy(), stability, context.min_stability
        )
        frame["incierto"] = uncertain
        frame["nivel_publicado"] = text
        frame["con_datos"] = True
        frame[name_column] = units.loc[inside, name_column]
        if counts.sum() == 0:
            # a month or a province without some crime is normal: say so, rank nothing
            frame["motivo"] = NO_COMPLAINTS
            frame["observacion"] = ""
        else:
            frame["observacion"] = observations(
                frame, rule, name_column, min_stability=context.min_stability
            )
        own = frame["nivel"].map(_LEVEL_RANK)
        alternative = frame["nivel_alternativo"].map(_LEVEL_RANK).fillna(2)
        best = np.where(frame["incierto"], np.minimum(own, alternative), own)
        parts.append(
            frame.assign(_best=best, _unsure=frame["incierto"].astype(int), _own=own)
            .rename_axis("codigo")
            .reset_index()
            .sort_values(
                ["_best", "_unsure", "_own", "tasa_eb", "codigo"],
                ascending=[True, True, True, False, True],
                kind="stable",
            )
            .drop(columns=["_best", "_unsure", "_own"])
        )
    if (~inside).any():
        outside = pd.DataFrame(index=units.index[~inside]).rename_axis("codigo").reset_index()
        nan = np.full(len(outside), np.nan)
        outside = outside.assign(
            n=cur[~inside],
            tasa=nan,
            tasa_eb=nan,
            peso_eb=nan,
            tasa_regional=nan,
            participacion=nan,
            n_anterior=nan,
            variacion=nan,
            grupo=pd.array([pd.NA] * len(outside), dtype="Int64"),
            nivel_regla=LEVEL_NONE,
            nivel=LEVEL_NONE,
            estabilidad=nan,
            nivel_alternativo=None,
            estabilidad_alternativa=nan,
            incierto=False,
            nivel_publicado=NO_DATA,
            con_datos=False,
            motivo=NO_DATA,
            observacion="Ninguna fuente cubre esta unidad en el periodo: no se ordena.",
        )
        parts.append(outside)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    for column in ("departamento", "provincia", "distrito", "poblacion", "anio_poblacion"):
        out[column] = units[column].reindex(out["codigo"]).to_numpy()
    return out


def _note_coverage(
    notes: list[str],
    level: str,
    units: pd.DataFrame,
    covered: np.ndarray,
    tables: Sequence[pd.DataFrame],
    period: Period | None,
    year: int,
    area: StudyArea,
) -> None:
    """Say which units have no data, and which provinces the data cover only in part."""
    import pandas as pd

    name_column = "provincia" if level == "provincia" else "distrito"
    plural = "provincias" if level == "provincia" else "distritos"
    pronoun = "las" if level == "provincia" else "los"
    if (~covered).any():
        names = units.loc[~covered, name_column].astype(str).tolist()
        shown = ", ".join(names[:15]) + (f" y {len(names) - 15} más" if len(names) > 15 else "")
        notes.append(
            f"{len(names)} {plural} {NO_DATA} (ninguna fuente {pronoun} cubre): {shown}. Se "
            "listan aparte y no se ordenan."
        )
    if level != "provincia" or not covered.any():
        return
    districts = _units("distrito", year, area)
    inside = covered_units(tables, "distrito", districts.index, period)
    by_province = (
        pd.Series(inside, index=districts.index)
        .groupby(districts.index.str[:4])
        .agg(["sum", "size"])
    )
    for code in units.index[covered]:
        if code not in by_province.index:
            continue
        got, size = (int(v) for v in by_province.loc[code])
        if 0 < got < size:
            notes.append(
                f"En {units.loc[code, 'provincia']} los datos cubren {got} de sus {size} "
                "distritos: su tasa provincial usa la población de toda la provincia y puede "
                "quedar por debajo de la real."
            )


def _input_format(table: pd.DataFrame) -> str:
    """Return what kind of input a count table is: ``sidpol``, ``tabla`` or ``puntos``."""
    return {"sidpol": "sidpol", "points": "puntos"}.get(str(table.attrs.get("format")), "tabla")


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
    counts, population, levels, rule, n_boot, seed
        As for :func:`parsc_geo.priority.stability.bootstrap_levels`.

    Returns
    -------
    numpy.ndarray
        Share in [0, 1]; NaN when ``n_boot`` is 0 (the ``own`` share of
        :func:`~parsc_geo.priority.stability.bootstrap_levels`, which also gives the other
        levels a unit takes).
    """
    return bootstrap_levels(counts, population, levels, rule, n_boot=n_boot, seed=seed).own


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
    min_stability: float = DEFAULT_MIN_STABILITY,
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
    min_stability
        Least share of bootstrap replicates in which a unit keeps its level for the level to be
        published; below it the table reads ``NIVEL INCIERTO (A o B)``
        (:mod:`parsc_geo.priority.stability`).

    Returns
    -------
    PriorityResult

    Notes
    -----
    Rates are complaints in the period per 100,000 inhabitants (not annualised), with the
    INEI population of the year nearest the period's last month. Every unit of the study area
    that the inputs cover is ranked, with 0 where it has no complaints; a unit no input covers
    in the period (:mod:`parsc_geo.priority.coverage`) is listed as "sin datos en el periodo"
    and left out of the ranking, the smoothing and the bootstrap. Smoothing is global Empirical
    Bayes (Marshall 1991) across the ranked units of the level, see
    :func:`parsc_geo.rates.empirical_bayes`.
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
    if not 0.0 <= min_stability <= 1.0:
        raise ConfigError(
            f"min_stability debe estar entre 0 y 1; se recibió {min_stability!r}",
            hint="p. ej. 0.8: el nivel se publica si se conserva en el 80 % de los remuestreos",
        )
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
    for original, table in zip(tables, prepared, strict=True):
        table.attrs = dict(original.attrs)  # what each input covers travels with it
    inputs = [
        {
            "source": ", ".join(sorted(t["source"].astype(str).unique())) or "(vacío)",
            "rows": int(t.attrs.get("rows_read", len(t))),
            "n": int(t["n"].sum()),
            "format": _input_format(t),
            **({"files": list(t.attrs["source_files"])} if t.attrs.get("source_files") else {}),
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
        with_complaints = (
            data.loc[in_current].groupby(key[in_current])["n"].sum().reindex(units.index) > 0
        )
        covered = covered_units(prepared, level, units.index, cur_period)
        covered |= with_complaints.fillna(False).to_numpy(dtype=bool)
        _note_coverage(notes, level, units, covered, prepared, cur_period, pop_year, area)
        context = _LevelContext(level, units, covered, rule, n_boot, seed, min_stability)
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
            if cur[covered].sum() == 0 and covered.any() and level == levels[0]:
                notes.append(f"{name}: {NO_COMPLAINTS}.")
            frame = _rank_target(context, target_id, cur, prev)
            frame["nivel_territorial"] = level
            frame["objetivo"] = target_id
            frame["objetivo_tipo"] = kind
            frame["objetivo_nombre"] = name
            frame["periodo"] = cur_period.label() if cur_period is not None else "todo"
            rows.append(frame[list(DETAIL_COLUMNS)])
    table = pd.concat(rows, ignore_index=True)
    table["n"] = table["n"].astype("int64")
    table["poblacion"] = table["poblacion"].astype("int64")
    table["grupo"] = table["grupo"].astype("Int64")
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
        "min_stability": min_stability,
        "uncertain_rule": (
            f"estabilidad < {min_stability:g}: NIVEL INCIERTO con los dos niveles candidatos"
        ),
        "coverage_rule": "unidad sin denuncias y no cubierta por ninguna fuente en el periodo: "
        "sin datos en el periodo, no se ordena (parsc_geo.priority.coverage)",
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
    """Return the provinces to prioritise in the plan's section 2.8 layout (long form).

    Parameters
    ----------
    result
        Output of :func:`compute_priority` with the ``"provincia"`` level.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`parsc_geo.labels_es.PRIORITY_PLAN_HEADERS`: ``FENÓMENO`` (the plan's
        label), ``N/O`` (``a.``, ``b.``…), ``DEPARTAMENTO``, ``PROVINCIA`` (capitals with
        accents), ``CLÚSTER`` (the published level: ``ALTA PRIORIDAD``, ``PRIORIDAD`` or
        ``NIVEL INCIERTO (A o B)``), the complaints, crude and smoothed rates (1 decimal), the
        stability in whole percent and the observation that explains the order. Fenómenos in
        the plan's order; within each, the surest and highest levels first, then by smoothed
        rate. Fenómenos with complaints but no province to list have no rows; a fenómeno
        without any complaint in the period has one row whose ``CLÚSTER`` says so
        (:data:`NO_COMPLAINTS`); provinces no input covers come last, once, with ``CLÚSTER``
        :data:`NO_DATA`.
    """
    import pandas as pd

    from ..labels_es import PRIORITY_PLAN_FENOMENOS, PRIORITY_PLAN_HEADERS

    level = result.level("provincia")
    departments = level["departamento"].dropna().astype(str).unique()
    department = departments[0].upper() if len(departments) == 1 else ""
    listed = result.published("provincia")
    records: list[dict[str, Any]] = []
    empty = dict.fromkeys(PRIORITY_PLAN_HEADERS, "")
    for target, part in level.groupby("objetivo", sort=False):
        name = str(part["objetivo_nombre"].iloc[0])
        label = PRIORITY_PLAN_FENOMENOS.get(str(target), name.upper())
        covered = part[part["con_datos"].astype(bool)]
        if not covered.empty and covered["n"].sum() == 0:
            records.append(
                {**empty, "FENÓMENO": label, "DEPARTAMENTO": department, "CLÚSTER": NO_COMPLAINTS}
            )
            continue
        rows = listed[listed["objetivo"] == target]
        for i, (_, row) in enumerate(rows.iterrows()):
            records.append(
                {
                    "FENÓMENO": label,
                    "N/O": _letter(i) + ".",
                    "DEPARTAMENTO": str(row["departamento"]).upper(),
                    "PROVINCIA": str(row["provincia"]).upper(),
                    "CLÚSTER": row["nivel_publicado"],
                    "DENUNCIAS": int(row["n"]),
                    "TASA POR 100 000 HAB.": round(float(row["tasa"]), 1),
                    "TASA SUAVIZADA POR 100 000 HAB.": round(float(row["tasa_eb"]), 1),
                    "ESTABILIDAD (%)": _or_blank(stability_percent(float(row["estabilidad"]))),
                    "OBSERVACIÓN": row["observacion"],
                }
            )
    for unit in result.without_data("provincia").itertuples(index=False):
        records.append(
            {
                **empty,
                "FENÓMENO": "TODOS",
                "DEPARTAMENTO": str(unit.departamento).upper(),
                "PROVINCIA": str(unit.provincia).upper(),
                "CLÚSTER": NO_DATA,
                "OBSERVACIÓN": unit.observacion,
            }
        )
    return pd.DataFrame(records, columns=list(PRIORITY_PLAN_HEADERS))


def _or_blank(value: int | None) -> int | str:
    return "" if value is None else value


def _letter(index: int) -> str:
    """Return the letters a, b, … z, aa, ab … for 0, 1, … (the plan's N/O column)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters
