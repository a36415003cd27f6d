"""How many synthetic incidents of each crime type: the plan's table, scaled to SIDPPOL.

The reference mix is the PARSC 2021 table of complaints by delito genérico / específico /
modalidad for January–October 2020 in the Cajamarca region (21,108 complaints), transcribed in
:data:`PLAN_TABLE` exactly as in the project's reference file
``delitos_mayor_incidencia_cajamarca_ene_oct_2020.csv`` (the ``OTROS`` rows close the gaps of the
printed table; see that file's README).

Other periods keep the plan's mix and scale its total by the SIDPPOL regional series
(:func:`parsc_geo.boundaries.load_sidppol_annual`): the expected total of a period is
``21,108 × S(period) / S(reference period)`` where ``S`` adds, over the months of the period,
the SIDPPOL total of the month's year divided by the number of months observed that year (years
outside the series use the nearest year). The reference period (2020-01 to 2020-10) gives a
factor of exactly 1.

Other departments
-----------------
Every department gets the plan's mix (the only breakdown by modalidad at hand) at its own
volume: Cajamarca's expected total times the department's complaints relative to Cajamarca's,
``r_D = Σ C_D / Σ C_Cajamarca`` over the complete years 2017–2019 of the complaints by
department in :data:`DEPARTMENT_COMPLAINTS_FILE` (INEI, transcribed from the plan's reference
material; 2016 is left out because Arequipa reports 1,966 complaints that year and 25,500 the
next, a gap in the series; 2020 covers half a year under lockdown). Cajamarca's ratio is exactly
1; the country's is 39.5 (1,253,894 / 31,730), so one year of the whole country at 2022's
SIDPPOL level is about 1.3 million incidents, the order of the national georeferenced layer
(≈ 1.2 million a year).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: (delito_generico, delito_especifico, modalidad, denuncias) of the plan's Jan–Oct 2020 table.
PLAN_TABLE: Final[tuple[tuple[str, str, str, int], ...]] = (
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "SIMPLE", 16),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "PARRICIDIO", 4),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "CALIFICADO", 24),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "FEMINICIDIO", 6),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "CULPOSO", 16),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "POR PAF", 30),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "TENTATIVA", 100),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "OTROS", 10),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "ABORTO", "AUTOABORTO", 18),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "ABORTO", "SIN CONSENTIMIENTO", 6),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "ABORTO", "OTROS", 12),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "LESIONES", "VIOLENCIA FAMILIAR", 3046),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "LESIONES", "LEVES", 590),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "LESIONES", "GRAVES", 190),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "LESIONES", "CULPOSAS", 206),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "LESIONES", "OTROS", 1388),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "OTROS", "OTROS", 2),
    ("CONTRA LA LIBERTAD", "LIBERTAD PERSONAL", "COACCION", 150),
    ("CONTRA LA LIBERTAD", "LIBERTAD PERSONAL", "SECUESTRO", 88),
    ("CONTRA LA LIBERTAD", "LIBERTAD PERSONAL", "TRATA DE PERSONAS", 14),
    ("CONTRA LA LIBERTAD", "LIBERTAD PERSONAL", "OTROS", 162),
    ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL", "VIOLACION MAYOR DE 14 AÑOS", 270),
    ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL", "VIOLACION MENOR DE 14 AÑOS", 204),
    ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL", "OTROS", 448),
    ("CONTRA EL PATRIMONIO", "HURTO", "SIMPLE", 2160),
    ("CONTRA EL PATRIMONIO", "HURTO", "AGRAVADO", 1106),
    ("CONTRA EL PATRIMONIO", "HURTO", "VEHICULOS", 784),
    ("CONTRA EL PATRIMONIO", "HURTO", "OTROS", 64),
    ("CONTRA EL PATRIMONIO", "ROBO", "SIMPLE", 306),
    ("CONTRA EL PATRIMONIO", "ROBO", "AGRAVADO", 446),
    ("CONTRA EL PATRIMONIO", "ROBO", "VEHICULOS", 40),
    ("CONTRA EL PATRIMONIO", "ROBO", "OTROS", 78),
    ("CONTRA EL PATRIMONIO", "ABIGEATO", "HURTO", 134),
    ("CONTRA EL PATRIMONIO", "ABIGEATO", "ROBO", 6),
    ("CONTRA EL PATRIMONIO", "ABIGEATO", "OTROS", 2),
    ("CONTRA EL PATRIMONIO", "OTROS", "OTROS", 2060),
    ("CONTRA LA SEGURIDAD PUBLICA", "PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD", 1656),
    ("CONTRA LA SEGURIDAD PUBLICA", "PELIGRO COMUN", "TENENCIA ILEGAL DE ARMAS", 124),
    ("CONTRA LA SEGURIDAD PUBLICA", "PELIGRO COMUN", "OTROS", 10),
    ("CONTRA LA SEGURIDAD PUBLICA", "CONTRA LA SALUD PUBLICA", "TRAFICO ILICITO DE DROGAS", 142),
    ("CONTRA LA SEGURIDAD PUBLICA", "OTROS", "OTROS", 230),
    (
        "COMETIDOS POR PARTICULARES",
        "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD",
        "DESOBEDIENCIA",
        4078,
    ),
    ("COMETIDOS POR PARTICULARES", "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD", "VIOLENCIA", 22),
    ("COMETIDOS POR PARTICULARES", "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD", "OTROS", 18),
    ("COMETIDOS POR PARTICULARES", "ABUSO DE AUTORIDAD", "ABUSO", 38),
    ("COMETIDOS POR PARTICULARES", "ABUSO DE AUTORIDAD", "OTROS", 8),
    ("COMETIDOS POR PARTICULARES", "OTROS", "OTROS", 32),
    ("OTROS DELITOS", "OTROS", "OTROS", 564),
)

#: Complaints by department, 2016 to June 2020 (``parsc_geo/data``; INEI, via the plan).
DEPARTMENT_COMPLAINTS_FILE: Final[str] = "denuncias_por_departamento_2016_2020.csv"
#: Columns (complete years) that give each department's volume relative to Cajamarca.
DEPARTMENT_RATIO_YEARS: Final[tuple[str, ...]] = ("2017", "2018", "2019")
#: UBIGEO of the department whose table and SIDPPOL series the generator starts from.
REFERENCE_DEPARTMENT: Final[str] = "06"

#: First month of the plan's table and its number of months.
REFERENCE_START: Final[tuple[int, int]] = (2020, 1)
REFERENCE_MONTHS: Final[int] = 10


@dataclass(frozen=True)
class Period:
    """A run of whole calendar months.

    Parameters
    ----------
    year, month
        First month.
    months
        Number of months (at least 1).
    """

    year: int
    month: int
    months: int

    def month_list(self) -> list[tuple[int, int]]:
        """Return every (year, month) of the period in order."""
        out = []
        index = self.year * 12 + self.month - 1
        for k in range(self.months):
            y, m = divmod(index + k, 12)
            out.append((y, m + 1))
        return out

    @property
    def start(self) -> str:
        """First day, ISO format."""
        return f"{self.year:04d}-{self.month:02d}-01"

    @property
    def end(self) -> str:
        """Last day, ISO format."""
        import calendar

        y, m = self.month_list()[-1]
        return f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder method).

    Every share differs from its exact quota ``total * w / sum(w)`` by less than one. Ties between
    equal remainders go to the earlier position, so the result is deterministic.

    Parameters
    ----------
    total
        Non-negative integer to split.
    weights
        Non-negative weights, not all zero.

    Returns
    -------
    numpy.ndarray
        Integer shares summing to ``total``.

    Notes
    -----
    Hamilton's method (Balinski & Young, *Fair Representation*, 1982).
    """
    w = np.asarray(weights, dtype=float)
    if total < 0 or w.ndim != 1 or (w < 0).any() or not w.sum() > 0:
        from .._errors import ConfigError

        raise ConfigError(
            f"no se puede repartir {total} entre pesos que suman {w.sum()!r}",
            hint="los pesos deben ser no negativos y no todos cero",
        )
    quota = total * w / w.sum()
    shares = np.floor(quota).astype(np.int64)
    left = int(total - shares.sum())
    if left:
        remainder = quota - shares
        order = np.lexsort((np.arange(len(w)), -remainder))
        shares[order[:left]] += 1
    return shares


def sidppol_factor(period: Period, sidppol: pd.DataFrame | None = None) -> float:
    """Return the SIDPPOL ratio of ``period`` to the plan's reference period (Jan–Oct 2020).

    Parameters
    ----------
    period
        The period to generate.
    sidppol
        SIDPPOL yearly series (default :func:`parsc_geo.boundaries.load_sidppol_annual`), with
        columns ``anio``, ``denuncias_total`` and ``meses_observados``.

    Returns
    -------
    float
        ``S(period) / S(reference)``, where ``S`` adds the monthly mean of the month's year.
    """
    if sidppol is None:
        from ..boundaries import load_sidppol_annual

        sidppol = load_sidppol_annual()
    monthly = {
        int(str(anio)): float(str(total)) / float(str(months))
        for anio, total, months in zip(
            sidppol["anio"], sidppol["denuncias_total"], sidppol["meses_observados"], strict=True
        )
    }
    years = sorted(monthly)

    def level(year: int) -> float:
        nearest = min(years, key=lambda y: (abs(y - year), y))
        return monthly[nearest]

    reference = Period(*REFERENCE_START, REFERENCE_MONTHS)
    s_ref = sum(level(y) for y, _ in reference.month_list())
    s_per = sum(level(y) for y, _ in period.month_list())
    return s_per / s_ref


def department_complaints() -> pd.DataFrame:
    """Return the complaints by department (``ubigeo_dep`` added from the department names).

    Returns
    -------
    pandas.DataFrame
        One row per department: ``departamento`` (as in the file: upper case, no accents),
        ``ubigeo_dep``, the yearly columns ``2016`` … ``2019`` and ``ene_jun_2020``.
    """
    from importlib.resources import files

    import pandas as pd

    from .._text import fold
    from ..boundaries import load_departments

    with (files("parsc_geo") / "data" / DEPARTMENT_COMPLAINTS_FILE).open("rb") as handle:
        table = pd.read_csv(handle)
    deps = load_departments()
    codes = dict(zip(deps["departamento"].map(fold), deps["ubigeo_dep"], strict=True))
    table.insert(1, "ubigeo_dep", table["departamento"].map(fold).map(codes))
    if table["ubigeo_dep"].isna().any():  # pragma: no cover - the file is fixed
        raise ValueError("department names of the complaints table do not match the layer")
    return table


def department_factors() -> dict[str, float]:
    """Return, per department code, its volume relative to Cajamarca (``r_D``, module notes).

    Examples
    --------
    >>> round(department_factors()["04"], 4)  # Arequipa: 78,995 / 31,730
    2.4896
    """
    table = department_complaints().set_index("ubigeo_dep")
    totals = table[list(DEPARTMENT_RATIO_YEARS)].sum(axis=1)
    reference = float(totals.loc[REFERENCE_DEPARTMENT])
    return {str(code): float(total) / reference for code, total in totals.items()}


def crime_counts(period: Period, scale: float = 1.0, *, factor: float = 1.0) -> pd.DataFrame:
    """Return the number of incidents to generate per crime type.

    Parameters
    ----------
    period
        Period to generate (the plan's Jan–Oct 2020 gives exactly the plan's table).
    scale
        Extra multiplier of the total (1 = the real volume).
    factor
        A department's volume relative to Cajamarca (:func:`department_factors`; 1 for
        Cajamarca).

    Returns
    -------
    pandas.DataFrame
        ``delito_generico``, ``delito_especifico``, ``modalidad``, ``denuncias_plan``, ``n``
        in the plan's row order; ``n`` sums to ``round(21108 × SIDPPOL factor × scale ×
        factor)`` and is split by :func:`apportion`.
    """
    import pandas as pd

    if not scale > 0:
        from .._errors import ConfigError

        raise ConfigError(
            f"scale debe ser positivo; se recibió {scale!r}", hint="pruebe --scale 0.1"
        )
    table = pd.DataFrame(
        PLAN_TABLE, columns=["delito_generico", "delito_especifico", "modalidad", "denuncias_plan"]
    )
    plan_total = int(table["denuncias_plan"].sum())
    multiplier = sidppol_factor(period) * scale
    if factor != 1.0:
        multiplier *= factor
    total = round(plan_total * multiplier)
    table["n"] = apportion(total, table["denuncias_plan"].to_numpy(dtype=float))
    return table
