"""Where and when each crime type happens in the synthetic sample.

Every crime type of the plan's table belongs to a **place family** (how points are laid out in a
district, see :mod:`parsc_geo.datasets.places`) and a **time profile** (hour-of-day curve,
day-of-week multipliers, share of records with a date but no time).

Hour curves are sums of circular Gaussian bumps over the 24 hours; the choices follow the usual
findings of Peruvian and Latin-American complaint data: street robbery peaks in the evening,
theft during shopping hours, violence in the family at night and on weekends, drunk-driving
arrests late at night from Friday to Sunday, livestock theft at night (and mostly reported
without a time, because it is found in the morning).

In 2020 the national state of emergency (D.S. N.º 044-2020-PCM, compulsory social isolation
from 16 March, extended to 30 June 2020) emptied the streets: street crime and drunk driving
fall, while "desobediencia a la autoridad" — mostly curfew breaches in 2020 — rises.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np

#: Days of the 2020 compulsory social isolation (first and last day, inclusive).
EMERGENCY_2020: Final[tuple[dt.date, dt.date]] = (dt.date(2020, 3, 16), dt.date(2020, 6, 30))


@dataclass(frozen=True)
class TimeProfile:
    """Hour and weekday profile of a crime type.

    Parameters
    ----------
    name
        Profile code.
    bumps
        (hour of the peak, width in hours, height) of each circular Gaussian bump.
    base
        Constant floor of the hour curve.
    weekday
        Multipliers Monday … Sunday.
    date_only
        Share of records with a date but no time.
    emergency_factor
        Multiplier of the daily rate during the 2020 compulsory social isolation.
    """

    name: str
    bumps: tuple[tuple[float, float, float], ...]
    base: float
    weekday: tuple[float, float, float, float, float, float, float]
    date_only: float
    emergency_factor: float

    def hour_weights(self) -> np.ndarray:
        """Return the 24 hour probabilities (sum 1)."""
        hours = np.arange(24, dtype=float) + 0.5
        w = np.full(24, self.base)
        for peak, width, height in self.bumps:
            d = np.abs(hours - peak)
            d = np.minimum(d, 24 - d)
            w += height * np.exp(-0.5 * (d / width) ** 2)
        return w / w.sum()


_FLAT = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)

PROFILES: Final[dict[str, TimeProfile]] = {
    "dia": TimeProfile(
        "dia", ((11.5, 2.0, 1.0), (18.5, 2.0, 0.9)), 0.05, (1, 1, 1, 1, 1.05, 1.15, 0.9), 0.08, 0.5
    ),
    "tarde_noche": TimeProfile(
        "tarde_noche",
        ((20.5, 2.2, 1.0), (13.0, 2.0, 0.35)),
        0.04,
        (1, 1, 1, 1.05, 1.2, 1.25, 0.9),
        0.06,
        0.45,
    ),
    "violencia_noche": TimeProfile(
        "violencia_noche",
        ((23.0, 2.5, 1.0), (16.0, 2.5, 0.3)),
        0.05,
        (0.8, 0.8, 0.8, 0.9, 1.15, 1.5, 1.4),
        0.08,
        0.7,
    ),
    "familia": TimeProfile(
        "familia",
        ((21.5, 2.5, 1.0), (8.0, 2.0, 0.3), (14.0, 2.0, 0.25)),
        0.06,
        (0.9, 0.85, 0.85, 0.9, 1.0, 1.35, 1.45),
        0.12,
        1.0,
    ),
    "sexual": TimeProfile(
        "sexual",
        ((21.0, 3.0, 1.0), (15.0, 3.0, 0.5)),
        0.1,
        (0.95, 0.9, 0.9, 0.95, 1.05, 1.2, 1.2),
        0.3,
        0.9,
    ),
    "abigeato": TimeProfile(
        "abigeato", ((2.5, 2.5, 1.0),), 0.05, (1, 1, 1, 1, 1.05, 1.1, 1.1), 0.4, 1.0
    ),
    "ebriedad": TimeProfile(
        "ebriedad",
        ((1.0, 2.5, 1.0), (20.5, 1.5, 0.3)),
        0.02,
        (0.5, 0.5, 0.6, 0.7, 1.3, 2.0, 1.6),
        0.02,
        0.3,
    ),
    "transito": TimeProfile(
        "transito",
        ((8.0, 1.5, 0.7), (18.5, 2.0, 1.0)),
        0.1,
        (1, 1, 1, 1, 1.1, 1.25, 1.2),
        0.04,
        0.5,
    ),
    "toque_queda": TimeProfile(
        "toque_queda",
        ((21.5, 1.5, 1.0), (11.0, 2.5, 0.25)),
        0.03,
        (1, 1, 1, 1, 1.05, 1.15, 1.2),
        0.03,
        4.0,
    ),
    "oficina": TimeProfile(
        "oficina", ((11.0, 3.0, 1.0),), 0.08, (1.1, 1.1, 1.1, 1.1, 1.05, 0.8, 0.6), 0.2, 0.7
    ),
}


@dataclass(frozen=True)
class TypeBehaviour:
    """Place family and time profile of one crime type."""

    family: str
    profile: str


def behaviour(delito_generico: str, delito_especifico: str, modalidad: str) -> TypeBehaviour:
    """Return the place family and time profile of a crime type.

    Place families: ``calle`` (hotspots in town centres and markets plus diffuse background),
    ``hogar`` (dispersed in residential areas of towns and villages), ``rural`` (fields away
    from towns), ``via`` (along roads), ``orden`` (public order: town centres), ``otro``.

    Examples
    --------
    >>> behaviour("CONTRA EL PATRIMONIO", "ABIGEATO", "HURTO")
    TypeBehaviour(family='rural', profile='abigeato')
    >>> behaviour("CONTRA LA SEGURIDAD PUBLICA", "PELIGRO COMUN", "TENENCIA ILEGAL DE ARMAS")
    TypeBehaviour(family='orden', profile='violencia_noche')
    >>> behaviour("X", "PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD")
    TypeBehaviour(family='via', profile='ebriedad')
    """
    esp, mod = delito_especifico, modalidad
    if esp == "ABIGEATO":
        return TypeBehaviour("rural", "abigeato")
    if mod == "CONDUCCION EN ESTADO DE EBRIEDAD":
        return TypeBehaviour("via", "ebriedad")
    if (esp, mod) in (("HOMICIDIO", "CULPOSO"), ("LESIONES", "CULPOSAS")):
        return TypeBehaviour("via", "transito")
    if mod == "VIOLENCIA FAMILIAR" or (esp == "HOMICIDIO" and mod in ("PARRICIDIO", "FEMINICIDIO")):
        return TypeBehaviour("hogar", "familia")
    if esp in ("LIBERTAD SEXUAL", "ABORTO"):
        return TypeBehaviour("hogar", "sexual")
    if esp == "ROBO" or (esp == "HURTO" and mod in ("AGRAVADO", "VEHICULOS")):
        return TypeBehaviour("calle", "tarde_noche")
    if esp in ("HURTO", "LIBERTAD PERSONAL") or (
        delito_generico == "CONTRA EL PATRIMONIO" and esp == "OTROS"
    ):
        return TypeBehaviour("calle", "dia")
    if esp in ("HOMICIDIO", "LESIONES"):
        return TypeBehaviour("calle", "violencia_noche")
    if esp == "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD" and mod == "DESOBEDIENCIA":
        return TypeBehaviour("orden", "toque_queda")
    if esp in (
        "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD",
        "PELIGRO COMUN",
        "CONTRA LA SALUD PUBLICA",
    ):
        return TypeBehaviour("orden", "violencia_noche")
    return TypeBehaviour("otro", "oficina")


def day_weights(days: list[dt.date], profile: TimeProfile) -> np.ndarray:
    """Return the relative rate of each day of the period for a time profile (sum 1)."""
    start, end = EMERGENCY_2020
    w = np.array(
        [
            profile.weekday[d.weekday()] * (profile.emergency_factor if start <= d <= end else 1.0)
            for d in days
        ],
        dtype=float,
    )
    return w / w.sum()


def sample_times(
    rng: np.random.Generator, n: int, days: list[dt.date], profile: TimeProfile
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` occurrence dates and times for one time profile.

    Returns
    -------
    tuple of numpy.ndarray
        Day index into ``days``, minute of the day (0–1439), and whether the time is known.
        Minutes are rounded as people report them: 40 % on the hour, 15 % on the half hour.
    """
    day = rng.choice(len(days), size=n, p=day_weights(days, profile))
    hour = rng.choice(24, size=n, p=profile.hour_weights())
    u = rng.random(n)
    minute = np.where(u < 0.40, 0, np.where(u < 0.55, 30, rng.integers(0, 60, size=n)))
    known = rng.random(n) >= profile.date_only
    return day, hour * 60 + minute, known


_DESCRIPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "calle": ("Vía pública, {lugar}", "Cerca al mercado, {lugar}", "En la calle, {lugar}"),
    "hogar": ("En domicilio, {lugar}", "En vivienda, {lugar}"),
    "rural": ("Ganado sustraído, {lugar}", "En chacra, {lugar}"),
    "via": ("En carretera, {lugar}", "En la vía, {lugar}"),
    "orden": ("Intervención policial, {lugar}", "Operativo, {lugar}"),
    "otro": ("Hecho denunciado, {lugar}", "Denuncia, {lugar}"),
}


def descriptions(rng: np.random.Generator, family: str, places: np.ndarray) -> list[str]:
    """Return short synthetic free-text descriptions (no names, only the populated place)."""
    templates = _DESCRIPTIONS[family]
    pick = rng.integers(0, len(templates), size=len(places))
    return [templates[k].format(lugar=str(p).title()) for k, p in zip(pick, places, strict=True)]
